//! The NTLM computations next to the primitives they are made of, measured in
//! the same run so that each composite can be stated as a multiple of its
//! primitive floor:
//!
//! - `primitive/*`: MD4 of 16 bytes (the NT hash → SessionBaseKey step),
//!   HMAC-MD5 of 100 and 300 bytes including the key schedule, the same with
//!   a pre-keyed state cloned per message, and an RC4 key schedule plus 16
//!   bytes (this crate's RC4 and the `rc4` crate's).
//! - `ntlm/*`: NTOWFv2, the NTLMv2 responses (MS-NLMP 4.2.4 inputs), the
//!   session keys (KXKEY, both signing and both sealing keys), the MIC over
//!   the 392-byte derived MIC transcript, and sign or seal of 1 KiB.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use md4::{Digest, Md4};
use md5::Md5;
use ntlm_crypto::legacy::Rc4;
use ntlm_crypto::{
    Direction, ExportedSessionKey, HmacMd5Key, KxKeyInput, Role, SessionBaseKey, SessionSecurity,
    kxkey, mic, nt_hash, ntlmv2_responses, ntowfv2, sealing_key, signing_key,
};
use ntlm_wire::NegotiateFlags as F;
use rc4::StreamCipher;

const NEGOTIATE: &[u8] = include_bytes!("../../ntlm-wire/tests/data/derived-mic-negotiate.bin");
const CHALLENGE: &[u8] = include_bytes!("../../ntlm-wire/tests/data/ms-nlmp-4.2.4.3-challenge.bin");
const AUTHENTICATE: &[u8] =
    include_bytes!("../../ntlm-wire/tests/data/derived-mic-authenticate.bin");

/// MS-NLMP 4.2.4 TargetInfo: NbDomainName "Domain", NbComputerName "Server", EOL.
const TARGET_INFO: [u8; 36] = [
    0x02, 0x00, 0x0c, 0x00, 0x44, 0x00, 0x6f, 0x00, 0x6d, 0x00, 0x61, 0x00, 0x69, 0x00, 0x6e, 0x00,
    0x01, 0x00, 0x0c, 0x00, 0x53, 0x00, 0x65, 0x00, 0x72, 0x00, 0x76, 0x00, 0x65, 0x00, 0x72, 0x00,
    0x00, 0x00, 0x00, 0x00,
];
const SERVER_CHALLENGE: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
const KEY: [u8; 16] = [0x55; 16];

fn primitives(c: &mut Criterion) {
    let mut g = c.benchmark_group("primitive");
    g.bench_function("md4_16", |b| {
        b.iter(|| Md4::digest(black_box(&KEY)));
    });
    for len in [100usize, 300] {
        let data = vec![0xa5u8; len];
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_function(format!("hmac_md5_{len}"), |b| {
            b.iter(|| {
                Hmac::<Md5>::new_from_slice(black_box(&KEY)).map(|mut h| {
                    h.update(black_box(&data));
                    h.finalize().into_bytes()
                })
            });
        });
        let keyed = HmacMd5Key::new(&KEY);
        g.bench_function(format!("hmac_md5_{len}_prekeyed"), |b| {
            b.iter(|| keyed.mac(&[black_box(&data)]));
        });
    }
    g.throughput(Throughput::Bytes(16));
    g.bench_function("rc4_schedule_16", |b| {
        b.iter(|| {
            let mut buf = [0u8; 16];
            Rc4::new(black_box(&KEY)).map(|mut r| {
                r.apply_keystream(&mut buf);
                buf
            })
        });
    });
    g.bench_function("rc4_crate_schedule_16", |b| {
        b.iter(|| {
            let mut buf = [0u8; 16];
            rc4::Rc4::new_from_slice(black_box(&KEY)).map(|mut r| {
                r.apply_keystream(&mut buf);
                buf
            })
        });
    });
    g.finish();
}

fn ntlm(c: &mut Criterion) {
    let mut g = c.benchmark_group("ntlm");
    let nt = nt_hash("Password");
    g.bench_function("nt_hash", |b| b.iter(|| nt_hash(black_box("Password"))));
    g.bench_function("ntowfv2", |b| {
        b.iter(|| ntowfv2(black_box(&nt), black_box("User"), black_box("Domain")));
    });
    let key = ntowfv2(&nt, "User", "Domain");
    g.bench_function("ntlmv2_responses", |b| {
        b.iter(|| {
            ntlmv2_responses(
                black_box(&key),
                &SERVER_CHALLENGE,
                ntlm_wire::FileTime(0),
                &[0xaa; 8],
                black_box(&TARGET_INFO),
            )
        });
    });

    let flags = F::NEGOTIATE_SIGN
        | F::NEGOTIATE_SEAL
        | F::NEGOTIATE_EXTENDED_SESSIONSECURITY
        | F::NEGOTIATE_128
        | F::NEGOTIATE_KEY_EXCH;
    let sbk = SessionBaseKey::from_bytes(KEY);
    g.bench_function("session_keys", |b| {
        b.iter(|| {
            let kxk = kxkey(flags, black_box(&sbk), KxKeyInput::NtlmV2);
            let esk = ExportedSessionKey::from_bytes(kxk.map(|k| *k.as_bytes()).unwrap_or(KEY));
            (
                signing_key(&esk, Direction::ClientToServer),
                signing_key(&esk, Direction::ServerToClient),
                sealing_key(&esk, flags, Direction::ClientToServer),
                sealing_key(&esk, flags, Direction::ServerToClient),
            )
        });
    });
    let esk = ExportedSessionKey::from_bytes(KEY);
    g.bench_function("session_security_new", |b| {
        b.iter(|| SessionSecurity::new(flags, black_box(&esk), Role::Client));
    });

    let transcript = NEGOTIATE.len() + CHALLENGE.len() + AUTHENTICATE.len();
    g.throughput(Throughput::Bytes(transcript as u64));
    g.bench_function(format!("mic_{transcript}"), |b| {
        b.iter(|| {
            mic(
                black_box(&esk),
                NEGOTIATE,
                CHALLENGE,
                black_box(AUTHENTICATE),
            )
        });
    });

    let msg = vec![0x5au8; 1024];
    g.throughput(Throughput::Bytes(1024));
    let mut session = SessionSecurity::new(flags, &esk, Role::Client);
    g.bench_function("sign_1k", |b| {
        b.iter(|| session.sign(black_box(&msg)));
    });
    let mut session = SessionSecurity::new(flags, &esk, Role::Client);
    let mut buf = msg.clone();
    g.bench_function("seal_1k", |b| {
        b.iter(|| session.seal(black_box(&mut buf)));
    });
    g.finish();
}

criterion_group!(benches, primitives, ntlm);
criterion_main!(benches);
