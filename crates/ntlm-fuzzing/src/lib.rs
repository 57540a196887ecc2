//! Fuzz oracles: one function per fuzz target, each taking arbitrary bytes.
//!
//! An oracle returns normally for any input the code under test handles
//! correctly (including a clean decode error) and panics when an invariant is
//! broken. The cargo-fuzz targets under `fuzz/` are one-line calls into these
//! functions, and `tests/replay.rs` replays the committed corpus and every
//! saved crash through them in plain `cargo test`.
#![forbid(unsafe_code)]
#![allow(
    clippy::panic,
    reason = "an oracle reports a broken invariant by panicking: that is how the fuzzer sees it"
)]

use ntlm_wire::{AuthenticateMessage, AvPairs, ChallengeMessage, Message, NegotiateMessage};

/// An oracle: returns for correct behaviour, panics on a broken invariant.
pub type Oracle = fn(&[u8]);

/// All oracles by fuzz target name.
pub const ORACLES: &[(&str, Oracle)] = &[
    ("negotiate", negotiate),
    ("challenge", challenge),
    ("authenticate", authenticate),
    ("av_pairs", av_pairs),
    ("round_trip", round_trip),
];

/// NEGOTIATE: parse, and re-parse what a successful parse emits.
pub fn negotiate(data: &[u8]) {
    if let Ok(m) = NegotiateMessage::parse(data) {
        check_round_trip(&Message::Negotiate(m));
    }
}

/// CHALLENGE: parse (walking the target info), and re-parse what a successful
/// parse emits; the lenient parse accepts a superset of the strict one.
pub fn challenge(data: &[u8]) {
    let lenient = ChallengeMessage::parse_lenient(data);
    if let Ok(m) = &lenient {
        if let Some(ti) = &m.target_info {
            walk(ti);
        }
    }
    if let Ok(m) = ChallengeMessage::parse(data) {
        if let Some(ti) = &m.target_info {
            walk(ti);
        }
        if lenient.as_ref().ok() != Some(&m) {
            panic!("lenient parse differs from a successful strict parse");
        }
        check_round_trip(&Message::Challenge(m));
    }
}

/// AUTHENTICATE: parse, classify, decode the NTLMv2 response and its AV
/// pairs, and re-parse what a successful parse emits.
pub fn authenticate(data: &[u8]) {
    if let Ok(m) = AuthenticateMessage::parse(data) {
        let _ = m.response_kind();
        if let Some(Ok(v2)) = m.ntlmv2_response() {
            walk(&v2.client_challenge.av_pairs);
            if v2.client_challenge.to_vec() != v2.blob {
                panic!("NTLMv2 blob does not re-encode to the bytes received");
            }
        }
        check_round_trip(&Message::Authenticate(m));
    }
}

/// AV pairs: scanning never fails; every pair decodes or errors cleanly; the
/// bytes are kept exactly; a list rebuilt from the pairs scans the same.
pub fn av_pairs(data: &[u8]) {
    let l = AvPairs::new(data);
    if l.as_bytes() != data {
        panic!("AvPairs did not keep the input bytes");
    }
    walk(&l);
    let pairs: Vec<_> = l.iter().map(|p| (p.id, p.value)).collect();
    if let Ok(rebuilt) = AvPairs::build(pairs.iter().copied()) {
        let again: Vec<_> = rebuilt.iter().map(|p| (p.id, p.value)).collect();
        if again != pairs {
            panic!("rebuilt AV pair list differs: {pairs:?} vs {again:?}");
        }
        let (d, r) = (l.defects(), rebuilt.defects());
        if r.duplicate_ids != d.duplicate_ids || r.missing_eol || r.truncated_at.is_some() {
            panic!("rebuilding changed the defects: {d:?} -> {r:?}");
        }
    }
}

/// Any message: parse → emit → parse must give the same model.
pub fn round_trip(data: &[u8]) {
    if let Ok(m) = Message::parse(data) {
        check_round_trip(&m);
    }
}

fn walk(l: &AvPairs<'_>) {
    let _ = l.defects();
    let _ = l.trailing();
    for p in l.iter_with_eol() {
        let _ = p.typed();
    }
    let _ = l.flags_union();
    let _ = l.timestamp();
}

fn check_round_trip(m: &Message<'_>) {
    let bytes = match m.to_vec() {
        Ok(b) => b,
        Err(e) => panic!("a parsed message failed to emit: {e}: {m:?}"),
    };
    if bytes.len() != m.buffer_len() {
        panic!(
            "emit wrote {} bytes, buffer_len says {}",
            bytes.len(),
            m.buffer_len()
        );
    }
    match Message::parse(&bytes) {
        Ok(again) if again == *m => {}
        Ok(again) => panic!("round trip changed the message:\n{m:?}\n{again:?}"),
        Err(e) => panic!("emitted bytes do not parse: {e}: {m:?}"),
    }
}
