//! Session security (MS-NLMP 3.4): round trips in every mode, rejection of
//! altered messages and of replayed or reordered sequence numbers, and the
//! rule that a failed verification changes nothing.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

use ntlm_crypto::{
    DUMMY_SIGNATURE, ExportedSessionKey, RandomPadForm, Role, SecurityError, SessionSecurity,
};
use ntlm_wire::{MessageSignature, NegotiateFlags as F};
use proptest::prelude::*;

const ESK: ExportedSessionKey = ExportedSessionKey::from_bytes([0x55; 16]);

fn pair(flags: F, esk: &ExportedSessionKey) -> (SessionSecurity, SessionSecurity) {
    (
        SessionSecurity::new(flags, esk, Role::Client),
        SessionSecurity::new(flags, esk, Role::Server),
    )
}

fn ss() -> F {
    F::NEGOTIATE_SIGN | F::NEGOTIATE_SEAL
}

const ESS: F = F::NEGOTIATE_EXTENDED_SESSIONSECURITY;

fn flip(sig: &MessageSignature, bit: usize) -> MessageSignature {
    let mut b = sig.to_bytes();
    b[bit / 8] ^= 1 << (bit % 8);
    MessageSignature::parse(&b).unwrap()
}

#[test]
fn ess_directions_are_independent() {
    let (mut c, mut s) = pair(ss() | ESS | F::NEGOTIATE_128 | F::NEGOTIATE_KEY_EXCH, &ESK);
    let c0 = c.sign(b"c0").unwrap();
    let c1 = c.sign(b"c1").unwrap();
    let s0 = s.sign(b"s0").unwrap();
    assert_eq!((c0.seq_num, c1.seq_num, s0.seq_num), (0, 1, 0));
    // A client cannot verify its own messages: the keys differ per direction.
    assert_eq!(
        c.clone().verify(b"c0", &c0),
        Err(SecurityError::BadChecksum)
    );
    c.verify(b"s0", &s0).unwrap();
    s.verify(b"c0", &c0).unwrap();
    s.verify(b"c1", &c1).unwrap();
    assert_eq!(s.next_recv_seq(), Some(2));
    assert_eq!(s.next_send_seq(), Some(1));
}

#[test]
fn legacy_is_half_duplex_with_one_counter() {
    let (mut c, mut s) = pair(ss(), &ESK);
    let mut m = b"request".to_vec();
    let sig = c.seal(&mut m).unwrap();
    s.unseal(&mut m, &sig).unwrap();
    assert_eq!(m, b"request");
    let mut r = b"response".to_vec();
    let sig = s.seal(&mut r).unwrap();
    c.unseal(&mut r, &sig).unwrap();
    assert_eq!(r, b"response");
    for side in [&c, &s] {
        assert_eq!(side.next_send_seq(), Some(2));
        assert_eq!(side.next_recv_seq(), Some(2));
    }
}

#[test]
fn wrong_sequence_numbers_are_named_and_change_nothing() {
    for flags in [ss() | ESS | F::NEGOTIATE_KEY_EXCH, ss() | ESS, ss()] {
        let (mut c, mut s) = pair(flags, &ESK);
        let mut m0 = b"zero".to_vec();
        let mut m1 = b"one".to_vec();
        let sig0 = c.seal(&mut m0).unwrap();
        let sig1 = c.seal(&mut m1).unwrap();
        let ct1 = m1.clone();
        // Reordered: message 1 first. (Without ESS the number read is
        // decrypted at the wrong keystream position, so it is not 1.)
        let got = s.unseal(&mut m1, &sig1);
        assert!(
            matches!(got, Err(SecurityError::WrongSequenceNumber { expected: 0, got }) if got == 1 || !flags.contains(ESS)),
            "{flags:?}: {got:?}"
        );
        assert_eq!(m1, ct1, "the ciphertext is put back");
        assert_eq!(s.next_recv_seq(), Some(0));
        s.unseal(&mut m0, &sig0).unwrap();
        s.unseal(&mut m1, &sig1).unwrap();
        assert_eq!((m0.as_slice(), m1.as_slice()), (&b"zero"[..], &b"one"[..]));
        // Replayed.
        let sig2 = c.sign(b"two").unwrap();
        s.verify(b"two", &sig2).unwrap();
        let got = s.verify(b"two", &sig2);
        assert!(
            matches!(got, Err(SecurityError::WrongSequenceNumber { expected: 3, got }) if got == 2 || !flags.contains(ESS)),
            "{flags:?}: {got:?}"
        );
    }
}

#[test]
fn altered_messages_fail_and_change_nothing() {
    for flags in [ss() | ESS | F::NEGOTIATE_KEY_EXCH, ss() | ESS, ss()] {
        let (mut c, mut s) = pair(flags, &ESK);
        let mut m = b"pay 10".to_vec();
        let sig = c.seal(&mut m).unwrap();
        let ct = m.clone();
        let mut altered = ct.clone();
        altered[4] ^= 0x01;
        assert_eq!(
            s.unseal(&mut altered, &sig),
            Err(SecurityError::BadChecksum),
            "{flags:?}"
        );
        let mut orig = ct.clone();
        altered[4] ^= 0x01;
        assert_eq!(altered, orig, "the ciphertext is put back");
        s.unseal(&mut orig, &sig).unwrap();
        assert_eq!(orig, b"pay 10");
    }
}

#[test]
fn bad_version_is_reported() {
    let (mut c, mut s) = pair(ss() | ESS, &ESK);
    let mut sig = c.sign(b"m").unwrap();
    sig.version = 2;
    assert_eq!(
        s.verify(b"m", &sig),
        Err(SecurityError::BadVersion { got: 2 })
    );
    sig.version = 1;
    s.verify(b"m", &sig).unwrap();
}

#[test]
fn legacy_random_pad_forms() {
    // Erratum E1: zero or RC4(Handle, 0) are accepted, nothing else.
    for form in [RandomPadForm::Zeroed, RandomPadForm::Encrypted] {
        let mut c = SessionSecurity::new(ss(), &ESK, Role::Client).with_random_pad_form(form);
        let sig = c.sign(b"m").unwrap();
        let mut s = SessionSecurity::new(ss(), &ESK, Role::Server);
        s.clone().verify(b"m", &sig).unwrap();
        let mut other = sig;
        other.checksum[0] ^= 0x80;
        assert_eq!(s.verify(b"m", &other), Err(SecurityError::BadChecksum));
        s.verify(b"m", &sig).unwrap();
    }
}

#[test]
fn dummy_signature_without_sign_or_seal() {
    let f = F::NEGOTIATE_ALWAYS_SIGN | F::NEGOTIATE_128 | ESS;
    let (mut c, mut s) = pair(f, &ESK);
    let sig = c.sign(b"anything").unwrap();
    assert_eq!(sig.to_bytes(), DUMMY_SIGNATURE);
    assert_eq!(c.sign(b"again").unwrap().to_bytes(), DUMMY_SIGNATURE);
    s.verify(b"whatever", &sig).unwrap();
    assert_eq!(
        s.verify(b"x", &flip(&sig, 40)),
        Err(SecurityError::BadChecksum)
    );
    assert_eq!(
        s.verify(b"x", &flip(&sig, 1)),
        Err(SecurityError::BadVersion { got: 3 })
    );
    assert_eq!(
        c.seal(&mut [0u8; 4]),
        Err(SecurityError::ConfidentialityNotNegotiated)
    );
    assert_eq!(c.next_send_seq(), None);

    let (mut c, _) = pair(F::NEGOTIATE_NTLM, &ESK);
    assert_eq!(c.sign(b"m"), Err(SecurityError::IntegrityNotNegotiated));
    let (mut c, _) = pair(F::NEGOTIATE_SIGN | ESS, &ESK);
    assert_eq!(
        c.seal(&mut [0u8; 4]),
        Err(SecurityError::ConfidentialityNotNegotiated)
    );
}

#[test]
fn datagram_uses_the_callers_sequence_numbers() {
    for extra in [ESS | F::NEGOTIATE_KEY_EXCH, F::empty()] {
        let flags = ss() | F::NEGOTIATE_DATAGRAM | extra;
        let (mut c, mut s) = pair(flags, &ESK);
        assert_eq!(c.sign(b"m"), Err(SecurityError::SequenceNumberRequired));
        let mut a = b"seven".to_vec();
        let mut b = b"three".to_vec();
        let sa = c.seal_datagram(7, &mut a).unwrap();
        let sb = c.seal_datagram(3, &mut b).unwrap();
        // Out of order is fine: every message is keyed on its own number.
        s.unseal_datagram(3, &mut b, &sb).unwrap();
        // (Without ESS the number is decrypted with the key for 8, so the
        // value read is not 7.)
        assert!(matches!(
            s.clone().unseal_datagram(8, &mut a.clone(), &sa),
            Err(SecurityError::WrongSequenceNumber { expected: 8, .. })
        ));
        s.unseal_datagram(7, &mut a, &sa).unwrap();
        assert_eq!((a.as_slice(), b.as_slice()), (&b"seven"[..], &b"three"[..]));
        // And again: the same number verifies again (no replay state).
        let sig = c.sign_datagram(1, b"m").unwrap();
        s.verify_datagram(1, b"m", &sig).unwrap();
        s.verify_datagram(1, b"m", &sig).unwrap();
    }
    let (mut c, _) = pair(ss(), &ESK);
    assert_eq!(
        c.sign_datagram(0, b"m"),
        Err(SecurityError::NotConnectionless)
    );
}

/// Flags for a key strength, with or without ESS, KEY_EXCH and LM_KEY.
fn flags_for(strength: u8, ess: bool, key_exch: bool, lm_key: bool, seal: bool) -> F {
    let mut f = F::NEGOTIATE_SIGN;
    if seal {
        f |= F::NEGOTIATE_SEAL;
    }
    match strength {
        0 => {}
        1 => f |= F::NEGOTIATE_56,
        _ => f |= F::NEGOTIATE_128,
    }
    if ess {
        f |= ESS;
    }
    if key_exch {
        f |= F::NEGOTIATE_KEY_EXCH;
    }
    if lm_key {
        f |= F::NEGOTIATE_LM_KEY;
    }
    f
}

fn flags_strategy() -> impl Strategy<Value = F> {
    (
        0u8..3,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(s, e, k, l, seal)| flags_for(s, e, k, l, seal))
}

fn key_strategy() -> impl Strategy<Value = ExportedSessionKey> {
    any::<[u8; 16]>().prop_map(ExportedSessionKey::from_bytes)
}

/// Protects `msg` (sealing when negotiated), returning what goes on the wire.
fn protect(side: &mut SessionSecurity, msg: &[u8]) -> (Vec<u8>, MessageSignature) {
    let mut wire = msg.to_vec();
    let sig = if side.flags().contains(F::NEGOTIATE_SEAL) {
        side.seal(&mut wire).unwrap()
    } else {
        side.sign(&wire).unwrap()
    };
    (wire, sig)
}

fn unprotect(
    side: &mut SessionSecurity,
    wire: &[u8],
    sig: &MessageSignature,
) -> Result<Vec<u8>, SecurityError> {
    let mut buf = wire.to_vec();
    if side.flags().contains(F::NEGOTIATE_SEAL) {
        side.unseal(&mut buf, sig).map(|()| buf)
    } else {
        side.verify(&buf, sig).map(|()| buf)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn round_trips_both_ways(
        flags in flags_strategy(),
        esk in key_strategy(),
        msgs in prop::collection::vec((any::<bool>(), prop::collection::vec(any::<u8>(), 0..300)), 1..8),
    ) {
        let (mut c, mut s) = pair(flags, &esk);
        // Half duplex: each message is received before the next is sent.
        for (from_client, m) in &msgs {
            let (tx, rx) = if *from_client { (&mut c, &mut s) } else { (&mut s, &mut c) };
            let (wire, sig) = protect(tx, m);
            prop_assert_eq!(sig.version, 1);
            prop_assert_eq!(&unprotect(rx, &wire, &sig).unwrap(), m);
        }
    }

    #[test]
    fn any_flipped_bit_fails_and_changes_nothing(
        flags in flags_strategy(),
        esk in key_strategy(),
        prefix in 0usize..3,
        msg in prop::collection::vec(any::<u8>(), 0..200),
        in_signature in any::<bool>(),
        bit in any::<prop::sample::Index>(),
    ) {
        let (mut c, mut s) = pair(flags, &esk);
        for _ in 0..prefix {
            let (wire, sig) = protect(&mut c, b"earlier");
            unprotect(&mut s, &wire, &sig).unwrap();
        }
        let (wire, sig) = protect(&mut c, &msg);
        let before = (s.next_recv_seq(), s.next_send_seq());
        let result = if in_signature || msg.is_empty() {
            unprotect(&mut s, &wire, &flip(&sig, bit.index(128)))
        } else {
            let mut bad = wire.clone();
            let b = bit.index(bad.len() * 8);
            bad[b / 8] ^= 1 << (b % 8);
            unprotect(&mut s, &bad, &sig)
        };
        prop_assert!(result.is_err(), "{flags:?}");
        prop_assert_eq!((s.next_recv_seq(), s.next_send_seq()), before);
        // The genuine message still verifies afterwards.
        prop_assert_eq!(unprotect(&mut s, &wire, &sig).unwrap(), msg);
    }

    #[test]
    fn replayed_or_reordered_messages_fail(
        flags in flags_strategy(),
        esk in key_strategy(),
        n in 2usize..6,
        pick in any::<prop::sample::Index>(),
    ) {
        let (mut c, mut s) = pair(flags, &esk);
        let sent: Vec<_> = (0..n).map(|i| protect(&mut c, format!("message {i}").as_bytes())).collect();
        // Deliver one message ahead of its turn: it is refused, and the
        // expected ones still go through in order.
        let ahead = 1 + pick.index(n - 1);
        let (wire, sig) = &sent[ahead];
        let early = unprotect(&mut s, wire, sig);
        let ahead_u32 = u32::try_from(ahead).unwrap();
        // Without ESS the number is decrypted at the wrong keystream
        // position, so only the expected value is meaningful.
        let ok = matches!(
            early,
            Err(SecurityError::WrongSequenceNumber { expected: 0, got }) if got == ahead_u32 || !flags.contains(ESS)
        );
        prop_assert!(ok, "{:?}", early);
        for (wire, sig) in &sent {
            unprotect(&mut s, wire, sig).unwrap();
        }
        // Replaying any of them now fails.
        let (wire, sig) = &sent[pick.index(n)];
        let replay = unprotect(&mut s, wire, sig);
        let is_wrong_seq = matches!(replay, Err(SecurityError::WrongSequenceNumber { .. }));
        prop_assert!(is_wrong_seq, "{:?}", replay);
    }

    #[test]
    fn datagram_round_trips(
        flags in flags_strategy(),
        esk in key_strategy(),
        seqs in prop::collection::vec(any::<u32>(), 1..6),
        msg in prop::collection::vec(any::<u8>(), 0..100),
    ) {
        let flags = flags | F::NEGOTIATE_DATAGRAM;
        let (mut c, mut s) = pair(flags, &esk);
        for seq in seqs {
            let mut wire = msg.clone();
            let sig = if flags.contains(F::NEGOTIATE_SEAL) {
                c.seal_datagram(seq, &mut wire).unwrap()
            } else {
                c.sign_datagram(seq, &wire).unwrap()
            };
            let mut other = wire.clone();
            let wrong = seq.wrapping_add(1);
            if flags.contains(F::NEGOTIATE_SEAL) {
                prop_assert!(s.unseal_datagram(wrong, &mut other, &sig).is_err());
                s.unseal_datagram(seq, &mut wire, &sig).unwrap();
            } else {
                prop_assert!(s.verify_datagram(wrong, &other, &sig).is_err());
                s.verify_datagram(seq, &wire, &sig).unwrap();
            }
            prop_assert_eq!(&wire, &msg);
        }
    }
}
