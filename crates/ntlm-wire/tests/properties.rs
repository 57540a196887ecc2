//! Property tests: round trips over arbitrary messages, `buffer_len`
//! agreement, and no panic on any prefix or single-byte mutation.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

use std::borrow::Cow;

use ntlm_wire::{
    AuthenticateMessage, AvId, AvPairs, ChallengeMessage, Message, NegotiateFlags,
    NegotiateMessage, NtlmV2ClientChallenge, NtlmV2Response, Version,
};
use proptest::prelude::*;

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=max)
}

fn opt_bytes(max: usize) -> impl Strategy<Value = Option<Cow<'static, [u8]>>> {
    prop::option::of(bytes(max).prop_map(Cow::Owned))
}

fn flags() -> impl Strategy<Value = NegotiateFlags> {
    any::<u32>().prop_map(NegotiateFlags::from_bits_retain)
}

fn version() -> impl Strategy<Value = Version> {
    any::<[u8; 8]>().prop_map(Version::from_bytes)
}

fn av_id() -> impl Strategy<Value = AvId> {
    prop_oneof![
        4 => (1u16..=10).prop_map(AvId),
        1 => any::<u16>().prop_map(AvId),
    ]
}

/// Well-formed lists (with unknown ids and trailing bytes) or arbitrary bytes.
fn av_pairs() -> impl Strategy<Value = AvPairs<'static>> {
    prop_oneof![
        4 => (prop::collection::vec((av_id(), bytes(24)), 0..8), bytes(8)).prop_map(|(pairs, tail)| {
            let l = AvPairs::build(pairs.iter().map(|(i, v)| (*i, &v[..]))).unwrap();
            let mut b = l.as_bytes().to_vec();
            b.extend(tail);
            AvPairs::new(b)
        }),
        1 => bytes(64).prop_map(AvPairs::new),
    ]
}

fn negotiate() -> impl Strategy<Value = NegotiateMessage<'static>> {
    (
        flags(),
        opt_bytes(32),
        opt_bytes(32),
        prop::option::of(version()),
    )
        .prop_map(|(flags, domain, workstation, version)| NegotiateMessage {
            flags,
            domain,
            workstation,
            version,
        })
}

fn challenge() -> impl Strategy<Value = ChallengeMessage<'static>> {
    (
        flags(),
        any::<[u8; 8]>(),
        opt_bytes(40),
        prop::option::of(any::<[u8; 8]>()),
        prop::option::of(av_pairs()),
        prop::option::of(version()),
    )
        .prop_map(
            |(flags, server_challenge, target_name, reserved, target_info, version)| {
                // The 32-byte header has neither TargetInfoFields nor Version.
                let long = reserved.is_some();
                ChallengeMessage {
                    flags,
                    server_challenge,
                    target_name,
                    reserved,
                    target_info: target_info.filter(|_| long),
                    version: version.filter(|_| long),
                }
            },
        )
}

fn ntlmv2_nt_response() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<[u8; 16]>(),
        any::<u64>(),
        any::<[u8; 8]>(),
        av_pairs(),
    )
        .prop_map(|(proof, ts, cc, av)| {
            let mut v = proof.to_vec();
            v.extend(NtlmV2ClientChallenge::new(ntlm_wire::FileTime(ts), cc, av).to_vec());
            v
        })
}

fn authenticate() -> impl Strategy<Value = AuthenticateMessage<'static>> {
    (
        (
            opt_bytes(24),
            prop_oneof![
                opt_bytes(24),
                ntlmv2_nt_response().prop_map(|v| Some(Cow::Owned(v)))
            ],
        ),
        (opt_bytes(20), opt_bytes(20), opt_bytes(20), opt_bytes(16)),
        flags(),
        prop::option::of(version()),
        prop::option::of(any::<[u8; 16]>()),
    )
        .prop_map(|((lm, nt), (domain, user, ws, key), flags, version, mic)| {
            AuthenticateMessage {
                lm_response: lm,
                nt_response: nt,
                domain,
                user,
                workstation: ws,
                encrypted_random_session_key: key,
                flags,
                version,
                // The MIC at 72 needs the Version slot before it.
                mic: mic.filter(|_| version.is_some()),
            }
        })
}

fn message() -> impl Strategy<Value = Message<'static>> {
    prop_oneof![
        negotiate().prop_map(Message::Negotiate),
        challenge().prop_map(Message::Challenge),
        authenticate().prop_map(Message::Authenticate),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_emit_round_trip(m in message()) {
        let bytes = m.to_vec().unwrap();
        prop_assert_eq!(bytes.len(), m.buffer_len());
        let back = Message::parse(&bytes).unwrap();
        prop_assert_eq!(back, m);
    }

    #[test]
    fn emit_writes_exactly_buffer_len(m in message(), slack in 0usize..8) {
        let mut out = vec![0xa5u8; m.buffer_len() + slack];
        let n = m.emit(&mut out).unwrap();
        prop_assert_eq!(n, m.buffer_len());
        prop_assert!(out[n..].iter().all(|&b| b == 0xa5));
        if m.buffer_len() > 0 {
            let mut short = vec![0u8; m.buffer_len() - 1];
            prop_assert!(m.emit(&mut short).is_err());
        }
    }

    #[test]
    fn flags_retain_every_bit(x in any::<u32>()) {
        prop_assert_eq!(NegotiateFlags::from_bits_retain(x).bits(), x);
    }

    #[test]
    fn prefixes_and_mutations_never_panic(m in message(), pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let bytes = m.to_vec().unwrap();
        for n in 0..bytes.len() {
            exercise(&bytes[..n]);
        }
        let mut mutated = bytes.clone();
        let i = pos.index(mutated.len());
        mutated[i] = byte;
        exercise(&mutated);
    }

    #[test]
    fn arbitrary_bytes_never_panic(mut b in bytes(300), kind in 1u8..=3) {
        if b.len() >= 12 {
            b[..8].copy_from_slice(b"NTLMSSP\0");
            b[8..12].copy_from_slice(&u32::from(kind).to_le_bytes());
        }
        exercise(&b);
    }
}

/// Parses as everything; a successful parse must re-emit and re-parse equal.
fn exercise(b: &[u8]) {
    let _ = NegotiateMessage::parse(b);
    let _ = ChallengeMessage::parse(b);
    let _ = NtlmV2Response::parse(b);
    let l = AvPairs::new(b);
    for p in l.iter_with_eol() {
        let _ = p.typed();
    }
    if let Ok(a) = AuthenticateMessage::parse(b) {
        let _ = a.response_kind();
        if let Some(Ok(r)) = a.ntlmv2_response() {
            assert_eq!(r.client_challenge.to_vec(), r.blob);
        }
    }
    if let Ok(m) = Message::parse(b) {
        let again = m.to_vec().unwrap();
        assert_eq!(Message::parse(&again).unwrap(), m);
    }
}
