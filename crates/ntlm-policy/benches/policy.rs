//! The flags-only negotiation + policy decision (`negotiate_only`), the hot
//! path of the policy-impact matrix. Target: under 20 ns per exchange.
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ntlm_policy::{
    ClientConfig, LmCompatibilityLevel, MinSessionSecurity, Semantics, ServerConfig,
    check_negotiated, negotiate_only,
};
use ntlm_wire::NegotiateFlags;

fn negotiate(c: &mut Criterion) {
    let mut g = c.benchmark_group("policy");
    let sem = Semantics::default();
    let client = ClientConfig {
        integrity: true,
        confidentiality: true,
        ..ClientConfig::default()
    };
    let server = ServerConfig::default();
    let baseline = MinSessionSecurity::BASELINE;

    // Windows 7+ client and server, both at the STIG baseline, SIGN+SEAL: success.
    g.bench_function("negotiate_only/success", |b| {
        b.iter(|| {
            negotiate_only(
                black_box(&client),
                black_box(&server),
                black_box(baseline),
                black_box(baseline),
                black_box(&sem),
            )
        });
    });

    // A legacy offer (no ESS, no 128) against a server requiring 0x20080000:
    // the server refuses the NEGOTIATE.
    let legacy = ClientConfig {
        flags_override: Some(NegotiateFlags::from_bits_retain(0x0281_8205)),
        ..ClientConfig::default()
    };
    g.bench_function("negotiate_only/server_refuses", |b| {
        b.iter(|| {
            negotiate_only(
                black_box(&legacy),
                black_box(&server),
                black_box(MinSessionSecurity::NONE),
                black_box(baseline),
                black_box(&sem),
            )
        });
    });

    // LmCompatibilityLevel 2 client against a level 5 server: fails last,
    // at stage authenticate, so every step runs.
    let ntlmv1 = ClientConfig {
        lm_level: LmCompatibilityLevel::L2,
        ..client
    };
    let strict_dc = ServerConfig {
        lm_level: LmCompatibilityLevel::L5,
        ..server
    };
    g.bench_function("negotiate_only/lm_refused", |b| {
        b.iter(|| {
            negotiate_only(
                black_box(&ntlmv1),
                black_box(&strict_dc),
                black_box(baseline),
                black_box(baseline),
                black_box(&sem),
            )
        });
    });

    let flags = NegotiateFlags::from_bits_retain(0xe288_8235);
    g.bench_function("check_negotiated", |b| {
        b.iter(|| {
            check_negotiated(
                black_box(flags),
                black_box(baseline),
                black_box(MinSessionSecurity::ALL_ABOVE),
                black_box(&sem),
            )
        });
    });
    g.finish();
}

criterion_group!(benches, negotiate);
criterion_main!(benches);
