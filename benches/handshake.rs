//! A full NTLMv2 handshake (NEGOTIATE → CHALLENGE → AUTHENTICATE with MIC,
//! KEY_EXCH, SIGN and SEAL, then server verification and key derivation,
//! both sides in one process) against its crypto floor: the same
//! primitives on the same input sizes, called directly, in the same run.
//!
//! With `NTLMSIM_COUNT="<handshake|floor> <n>"` in the environment the binary
//! runs `n` handshakes (or `n` floors) in `measured` and exits, for an
//! instruction count under `valgrind --tool=callgrind` (see
//! `.ci/callgrind-handshake`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "bench fixtures are known-good; a failure must abort the bench"
)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, criterion_group};
use hmac::{Hmac, KeyInit, Mac};
use md4::{Digest, Md4};
use md5::Md5;
use ntlmsim::policy::{ClientConfig, MinSessionSecurity, Semantics, ServerConfig, negotiate_only};
use ntlmsim::session::{ClientSettings, Credentials, Fixed, MemoryStore, Pair, ServerSettings};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use rc4::{Rc4, StreamCipher};

const NOW: ntlm_wire::FileTime = ntlm_wire::FileTime(134_117_280_000_000_000);

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

/// One RC4 key schedule and `data.len()` bytes of keystream. The floor
/// uses the faster of the two implementations at hand: this crate's (whose
/// schedule is cheaper than the `rc4` crate's, see `rc4_schedules`).
fn rc4(key: &[u8; 16], data: &mut [u8]) {
    ntlmsim::crypto::legacy::Rc4::new(key)
        .unwrap()
        .apply_keystream(data);
}

/// The primitives a handshake cannot avoid, keyed once per distinct key.
///
/// Per side: NTOWFv2 (one keyed HMAC), NTProofStr and the SessionBaseKey
/// under one keyed ResponseKey, RC4K of the 16-byte session key (the client
/// encrypts it, the server decrypts it), the MIC over the three messages,
/// SIGNKEY and SEALKEY in both directions (four MD5s of 16 + 59 bytes), the
/// two sealing RC4 key schedules and the two signing keys keyed into HMAC.
/// The client also computes NTOWFv1 (MD4 of the password); the server has
/// the NT hash stored. The server also computes the LMv2 MAC (MS-NLMP
/// 3.2.5.1.2 checks the NTLMv2 *or* the LMv2 response, and the result
/// reports both); the client does not, because with MsvAvTimestamp in the
/// CHALLENGE it sends Z(24) as LmChallengeResponse (MS-NLMP 3.1.5.1.2).
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
        let lmv2 = if side == 1 {
            let mut m = rk.clone();
            m.update(&sc);
            m.update(&[0xaa; 8]);
            let p: [u8; 16] = m.finalize().into_bytes().into();
            p
        } else {
            proof
        };
        rk.update(&proof);
        let sbk: [u8; 16] = rk.finalize().into_bytes().into();
        // Key exchange: RC4K(KXKEY, 16 bytes).
        let mut esk = lmv2;
        rc4(&sbk, &mut esk);
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
            rc4(k, &mut x);
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

/// Six RC4 key schedules of 16-byte keys (as many as one handshake runs)
/// with this crate's RC4 (`ours`) or the `rc4` crate.
fn rc4_schedules(ours: bool, key: &[u8; 16]) -> u8 {
    let mut acc = 0u8;
    for i in 0..6u8 {
        let mut k = *key;
        k[0] ^= i;
        let mut x = [0u8; 1];
        if ours {
            rc4(&k, &mut x);
        } else {
            Rc4::new_from_slice(&k).unwrap().apply_keystream(&mut x);
        }
        acc ^= x[0];
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
    g.bench_function("rc4_6_schedules_ntlm_crypto", |b| {
        b.iter(|| rc4_schedules(true, black_box(&[0x3c; 16])));
    });
    g.bench_function("rc4_6_schedules_rc4_crate", |b| {
        b.iter(|| rc4_schedules(false, black_box(&[0x3c; 16])));
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

/// Runs `pairs.len()` handshakes: the function callgrind counts.
#[inline(never)]
fn measured_handshakes(
    pairs: Vec<(ClientSettings, ServerSettings)>,
    rng: &mut ChaCha20Rng,
) -> usize {
    let mut ok = 0;
    for (client, server) in pairs {
        let ex = Pair { client, server }.run(rng, NOW, Fixed::default());
        ok += usize::from(black_box(ex.outcome.is_ok()));
    }
    ok
}

/// Runs the crypto floor `n` times: the function callgrind counts.
#[inline(never)]
fn measured_floors(n: usize, s: &Sizes, blob: &[u8], transcript: &[u8]) -> u8 {
    let mut acc = 0u8;
    for _ in 0..n {
        acc ^= crypto_floor(black_box(s), black_box(blob), black_box(transcript))[0];
    }
    acc
}

/// Runs `n` times six RC4 key schedules: the function callgrind counts.
#[inline(never)]
fn measured_rc4(n: usize, ours: bool) -> u8 {
    let mut acc = 0u8;
    for _ in 0..n {
        acc ^= rc4_schedules(ours, black_box(&[0x3c; 16]));
    }
    acc
}

/// `NTLMSIM_COUNT="handshake 11"`: runs 11 handshakes (setup outside
/// `measured_*`) and exits.
fn count_mode(spec: &str) {
    let mut it = spec.split_whitespace();
    let what = it.next().unwrap_or("handshake");
    let n: usize = it.next().and_then(|n| n.parse().ok()).unwrap_or(1);
    match what {
        "handshake" => {
            let (client, server) = settings();
            let pairs = vec![(client, server); n];
            let mut rng = ChaCha20Rng::seed_from_u64(2);
            let ok = measured_handshakes(pairs, &mut rng);
            assert_eq!(ok, n, "every handshake succeeds");
        }
        "floor" => {
            let s = sizes();
            let (blob, transcript) = (vec![0x5au8; s.blob], vec![0xa5u8; s.transcript]);
            black_box(measured_floors(n, &s, &blob, &transcript));
        }
        "rc4-ours" | "rc4-crate" => {
            black_box(measured_rc4(n, what == "rc4-ours"));
        }
        other => panic!(
            "NTLMSIM_COUNT: unknown kind {other:?} (handshake, floor, rc4-ours or rc4-crate)"
        ),
    }
}

criterion_group!(benches, bench);

fn main() {
    if let Ok(spec) = std::env::var("NTLMSIM_COUNT") {
        count_mode(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
