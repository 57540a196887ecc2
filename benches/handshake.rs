//! A full NTLMv2 handshake (NEGOTIATE → CHALLENGE → AUTHENTICATE with MIC,
//! KEY_EXCH, SIGN and SEAL, then server verification and key derivation,
//! both sides in one process) against its crypto floor: the same
//! primitives on the same input sizes, called directly, in the same run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "bench fixtures are known-good; a failure must abort the bench"
)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use md4::{Digest, Md4};
use md5::Md5;
use ntlmsim::policy::{ClientConfig, MinSessionSecurity, Semantics, ServerConfig, negotiate_only};
use ntlmsim::session::{ClientSettings, Credentials, Fixed, MemoryStore, Pair, ServerSettings};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use rc4::{Rc4, StreamCipher};

const NOW: u64 = 134_117_280_000_000_000;

fn settings() -> (ClientSettings, ServerSettings) {
    let mut c = ClientSettings::new(Credentials::password("alice", "TESTDOM", "Passw0rd!"));
    c.config.integrity = true;
    c.config.confidentiality = true;
    let mut store = MemoryStore::new();
    store.add_password("TESTDOM", "alice", "Passw0rd!");
    (c, ServerSettings::new(Arc::new(store)))
}

/// Sizes of one exchange, taken from a real run so the floor hashes as much.
struct Sizes {
    blob: usize,
    transcript: usize,
}

fn sizes() -> Sizes {
    let (c, s) = settings();
    let ex = Pair {
        client: c,
        server: s,
    }
    .run(&mut ChaCha20Rng::seed_from_u64(1), NOW, Fixed::default());
    let (neg, chal, auth) = (
        ex.negotiate.unwrap().0,
        ex.challenge.unwrap().0,
        ex.authenticate.unwrap().0,
    );
    let a = ntlmsim::wire::AuthenticateMessage::parse(&auth).unwrap();
    let blob = a.ntlmv2_response().unwrap().unwrap().blob.len();
    assert!(ex.outcome.is_ok());
    Sizes {
        blob,
        transcript: neg.len() + chal.len() + auth.len(),
    }
}

type HmacMd5 = Hmac<Md5>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    let mut m = <HmacMd5 as KeyInit>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// The primitives a handshake cannot avoid, keyed once per distinct key.
fn crypto_floor(s: &Sizes, blob: &[u8], transcript: &[u8]) -> [u8; 16] {
    let sc = [7u8; 8];
    let user_dom = [0x41u8; 24];
    let mut acc = [0u8; 16];
    // Two sides: the client derives everything; the server re-derives from the stored NT hash.
    for side in 0..2 {
        let nt = if side == 0 {
            let d: [u8; 16] = Md4::digest([0x50u8; 18]).into(); // NTOWFv1 (client only)
            d
        } else {
            acc
        };
        let key = hmac(&nt, &[&user_dom]); // NTOWFv2
        let mut rk = <HmacMd5 as KeyInit>::new_from_slice(&key).unwrap();
        let proof = {
            let mut m = rk.clone();
            m.update(&sc);
            m.update(blob.get(..s.blob).unwrap_or(blob));
            let p: [u8; 16] = m.finalize().into_bytes().into();
            p
        };
        let lmv2 = {
            let mut m = rk.clone();
            m.update(&sc);
            m.update(&[0xaa; 8]);
            let p: [u8; 16] = m.finalize().into_bytes().into();
            p
        };
        rk.update(&proof);
        let sbk: [u8; 16] = rk.finalize().into_bytes().into();
        // Key exchange: RC4K(KXKEY, 16 bytes).
        let mut esk = lmv2;
        Rc4::new_from_slice(&sbk).unwrap().apply_keystream(&mut esk);
        // MIC over the three messages.
        let mic = hmac(
            &esk,
            &[transcript.get(..s.transcript).unwrap_or(transcript)],
        );
        // SIGNKEY and SEALKEY in both directions, and two RC4 handles.
        let mut keys = [[0u8; 16]; 4];
        for (i, k) in keys.iter_mut().enumerate() {
            let mut h = Md5::new();
            h.update(esk);
            h.update([i as u8; 59]);
            *k = h.finalize().into();
        }
        // The sealing handles (RC4 key schedules) and the signing keys keyed
        // into HMAC once, as a session ready to sign and seal holds them.
        for k in &keys[2..] {
            let mut x = [0u8; 1];
            Rc4::new_from_slice(k).unwrap().apply_keystream(&mut x);
            acc[0] ^= x[0];
        }
        for k in &keys[..2] {
            black_box(<HmacMd5 as KeyInit>::new_from_slice(k).unwrap());
        }
        for (a, b) in acc.iter_mut().zip(mic) {
            *a ^= b;
        }
    }
    acc
}

fn bench(c: &mut Criterion) {
    let s = sizes();
    let blob = vec![0x5au8; s.blob];
    let transcript = vec![0xa5u8; s.transcript];
    let mut g = c.benchmark_group("handshake");
    g.bench_function("ntlmv2_mic_keyexch_sign_seal", |b| {
        let (client, server) = settings();
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        b.iter_batched(
            || (client.clone(), server.clone()),
            |(client, server)| {
                let ex = Pair { client, server }.run(&mut rng, NOW, Fixed::default());
                black_box(ex.outcome.is_ok())
            },
            BatchSize::SmallInput,
        );
    });
    g.bench_function("crypto_floor", |b| {
        b.iter(|| crypto_floor(black_box(&s), black_box(&blob), black_box(&transcript)));
    });
    g.finish();

    let mut g = c.benchmark_group("policy");
    let (client, server) = (ClientConfig::default(), ServerConfig::default());
    let (cmin, smin) = (
        MinSessionSecurity::from_registry(0x2008_0000),
        MinSessionSecurity::from_registry(0x2008_0000),
    );
    let sem = Semantics::default();
    g.bench_function("flags_only_negotiation_and_decision", |b| {
        b.iter(|| negotiate_only(black_box(&client), black_box(&server), cmin, smin, &sem));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
