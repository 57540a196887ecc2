//! The input detection and both views cope with any input: no panic on
//! arbitrary text or bytes, nor on any truncation or single-byte mutation of
//! real messages that still parses.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

use ntlm_report::{json, render};
use ntlm_sim::{input, inspect};
use ntlm_wire::Message;
use proptest::prelude::*;

const MESSAGES: [&[u8]; 5] = [
    include_bytes!("../../ntlm-wire/tests/data/derived-mic-negotiate.bin"),
    include_bytes!("../../ntlm-wire/tests/data/ms-nlmp-4.2.2.3-challenge.bin"),
    include_bytes!("../../ntlm-wire/tests/data/ms-nlmp-4.2.4.3-challenge.bin"),
    include_bytes!("../../ntlm-wire/tests/data/ms-nlmp-4.2.2.3-authenticate.bin"),
    include_bytes!("../../ntlm-wire/tests/data/derived-mic-authenticate.bin"),
];

/// Runs every view over `bytes` when they parse; returns whether they did.
fn exercise(bytes: &[u8]) -> bool {
    let Ok(m) = Message::parse(bytes) else {
        return false;
    };
    let text = render::message(bytes, &m);
    assert!(text.ends_with('\n'));
    let j = serde_json::to_value(json::message(bytes, &m)).unwrap();
    assert_eq!(j["length"], bytes.len());
    let _ = inspect::defects(bytes, &m);
    true
}

#[test]
fn every_truncation_and_mutation_of_real_messages() {
    let mut parsed = 0usize;
    for msg in MESSAGES {
        for n in 0..=msg.len() {
            parsed += usize::from(exercise(&msg[..n]));
        }
        for i in 0..msg.len() {
            for v in [0x00, 0x01, 0x7f, 0x80, 0xff, msg[i] ^ 0x01] {
                let mut m = msg.to_vec();
                m[i] = v;
                parsed += usize::from(exercise(&m));
            }
        }
    }
    // Most mutations leave a parsable message: the views really ran.
    assert!(parsed > 3000, "{parsed}");
}

proptest! {
    #[test]
    fn input_detection_never_panics(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(m) = input::decode(&data) {
            exercise(&m.bytes);
        }
    }

    #[test]
    fn text_input_never_panics(s in "[ -~\\n]{0,300}") {
        let _ = input::decode(s.as_bytes());
        let _ = input::decode(format!("NTLM {s}").as_bytes());
    }

    #[test]
    fn spnego_mutations_never_panic(
        msg in 0..MESSAGES.len(),
        at in any::<prop::sample::Index>(),
        value in any::<u8>(),
    ) {
        // NegTokenResp { responseToken } around a real message, one byte changed.
        let inner = MESSAGES[msg];
        let mut token = vec![0xa2, 0x82, 0, 0, 0x04, 0x82, 0, 0];
        token[2..4].copy_from_slice(&u16::try_from(inner.len() + 4).unwrap().to_be_bytes());
        token[6..8].copy_from_slice(&u16::try_from(inner.len()).unwrap().to_be_bytes());
        token.extend_from_slice(inner);
        let mut seq = vec![0x30, 0x82, 0, 0];
        seq[2..4].copy_from_slice(&u16::try_from(token.len()).unwrap().to_be_bytes());
        seq.extend_from_slice(&token);
        let mut der = vec![0xa1, 0x82, 0, 0];
        der[2..4].copy_from_slice(&u16::try_from(seq.len()).unwrap().to_be_bytes());
        der.extend_from_slice(&seq);
        prop_assert_eq!(&input::decode(&der).unwrap().bytes[..], inner);
        let i = at.index(der.len());
        der[i] = value;
        if let Ok(m) = input::decode(&der) {
            exercise(&m.bytes);
        }
    }
}
