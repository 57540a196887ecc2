//! Parse and emit benchmarks for every message type.
#![allow(
    clippy::unwrap_used,
    reason = "the fixtures are published MS-NLMP vectors; a failure to parse them must abort the bench"
)]
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ntlm_wire::{AuthenticateMessage, ChallengeMessage, NegotiateMessage};
use std::hint::black_box;

const CASES: &[(&str, &[u8])] = &[
    (
        "negotiate_40",
        include_bytes!("../crates/ntlm-wire/tests/data/derived-mic-negotiate.bin"),
    ),
    (
        "challenge_4.2.2.3",
        include_bytes!("../crates/ntlm-wire/tests/data/ms-nlmp-4.2.2.3-challenge.bin"),
    ),
    (
        "challenge_4.2.4.3",
        include_bytes!("../crates/ntlm-wire/tests/data/ms-nlmp-4.2.4.3-challenge.bin"),
    ),
    (
        "authenticate_4.2.2.3",
        include_bytes!("../crates/ntlm-wire/tests/data/ms-nlmp-4.2.2.3-authenticate.bin"),
    ),
    (
        "authenticate_4.2.3.3",
        include_bytes!("../crates/ntlm-wire/tests/data/ms-nlmp-4.2.3.3-authenticate.bin"),
    ),
    (
        "authenticate_4.2.4.3",
        include_bytes!("../crates/ntlm-wire/tests/data/ms-nlmp-4.2.4.3-authenticate.bin"),
    ),
    (
        "authenticate_mic_248",
        include_bytes!("../crates/ntlm-wire/tests/data/derived-mic-authenticate.bin"),
    ),
];

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("wire_parse");
    for (name, bytes) in CASES {
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(*name, |b| {
            b.iter(|| parse_any(black_box(bytes)));
        });
    }
    g.finish();
}

/// Parses the message and, for AUTHENTICATE, its NTLMv2 response and AV
/// pairs (walking every pair), as a server must.
fn parse_any(bytes: &[u8]) -> usize {
    match bytes.get(8) {
        Some(1) => NegotiateMessage::parse(bytes).map_or(0, |m| m.flags.bits() as usize),
        Some(2) => ChallengeMessage::parse(bytes)
            .map_or(0, |m| m.target_info.map_or(0, |t| t.iter().count())),
        _ => AuthenticateMessage::parse(bytes).map_or(0, |m| match m.ntlmv2_response() {
            Some(Ok(r)) => r.client_challenge.av_pairs.iter().count(),
            _ => m.flags.bits() as usize,
        }),
    }
}

fn emit(c: &mut Criterion) {
    let mut g = c.benchmark_group("wire_emit");
    for (name, bytes) in CASES {
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        let mut out = vec![0u8; bytes.len()];
        match bytes.get(8) {
            Some(1) => {
                let m = NegotiateMessage::parse(bytes).unwrap();
                g.bench_function(*name, |b| b.iter(|| black_box(&m).emit(&mut out)));
            }
            Some(2) => {
                let m = ChallengeMessage::parse(bytes).unwrap();
                g.bench_function(*name, |b| b.iter(|| black_box(&m).emit(&mut out)));
            }
            _ => {
                let m = AuthenticateMessage::parse(bytes).unwrap();
                g.bench_function(*name, |b| b.iter(|| black_box(&m).emit(&mut out)));
            }
        }
    }
    g.finish();
}

criterion_group!(benches, parse, emit);
criterion_main!(benches);
