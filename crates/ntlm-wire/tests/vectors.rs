//! The MS-NLMP 4.2 messages decode to the published field values and
//! re-emit byte for byte; the real Windows 7 capture (read from the shared
//! vectors file when present) decodes with its 88-byte header and MIC.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

use ntlm_wire::text::{decode_utf16le, utf16le};
use ntlm_wire::{
    AuthenticateMessage, AvId, AvValue, ChallengeMessage, Message, MsvAvFlags, NegotiateMessage,
    ResponseKind, Version,
};

const CHAL_4223: &[u8] = include_bytes!("data/ms-nlmp-4.2.2.3-challenge.bin");
const AUTH_4223: &[u8] = include_bytes!("data/ms-nlmp-4.2.2.3-authenticate.bin");
const CHAL_4233: &[u8] = include_bytes!("data/ms-nlmp-4.2.3.3-challenge.bin");
const AUTH_4233: &[u8] = include_bytes!("data/ms-nlmp-4.2.3.3-authenticate.bin");
const CHAL_4243: &[u8] = include_bytes!("data/ms-nlmp-4.2.4.3-challenge.bin");
const AUTH_4243: &[u8] = include_bytes!("data/ms-nlmp-4.2.4.3-authenticate.bin");
const NEG_MIC: &[u8] = include_bytes!("data/derived-mic-negotiate.bin");
const AUTH_MIC: &[u8] = include_bytes!("data/derived-mic-authenticate.bin");

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn check_common_auth(m: &AuthenticateMessage<'_>) {
    assert_eq!(m.domain.as_deref(), Some(&utf16le("Domain")[..]));
    assert_eq!(m.user.as_deref(), Some(&utf16le("User")[..]));
    assert_eq!(m.workstation.as_deref(), Some(&utf16le("COMPUTER")[..]));
    assert_eq!(m.version, Some(Version::new(5, 1, 2600)));
    assert_eq!(m.mic, None);
    assert_eq!(m.header_len(), 72);
}

#[test]
fn challenges_4_2_2_3_and_4_2_3_3() {
    for (bytes, flags) in [(CHAL_4223, 0xe202_8233u32), (CHAL_4233, 0x820a_8233)] {
        let m = ChallengeMessage::parse(bytes).unwrap();
        assert_eq!(m.flags.bits(), flags);
        assert_eq!(m.server_challenge.to_vec(), h("0123456789abcdef"));
        assert_eq!(m.target_name.as_deref(), Some(&utf16le("Server")[..]));
        // Erratum E6: TargetInfoFields (0, 0, 0): absent.
        assert_eq!(m.target_info, None);
        assert_eq!(m.version, Some(Version::new(6, 0, 6000)));
        assert_eq!(m.to_vec().unwrap(), bytes);
    }
}

#[test]
fn challenge_4_2_4_3() {
    let m = ChallengeMessage::parse(CHAL_4243).unwrap();
    assert_eq!(m.flags.bits(), 0xe28a_8233);
    let ti = m.target_info.as_ref().unwrap();
    assert_eq!(
        ti.as_bytes(),
        &h("02000c0044006f006d00610069006e0001000c0053006500720076006500720000000000")[..]
    );
    assert_eq!(ti.timestamp(), None);
    assert_eq!(m.to_vec().unwrap(), CHAL_4243);
}

#[test]
fn authenticate_4_2_2_3_ntlmv1() {
    let m = AuthenticateMessage::parse(AUTH_4223).unwrap();
    check_common_auth(&m);
    assert_eq!(m.flags.bits(), 0xe280_8235);
    assert_eq!(
        m.lm_response.as_deref(),
        Some(&h("98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13")[..])
    );
    assert_eq!(
        m.nt_response.as_deref(),
        Some(&h("67c43011f30298a2ad35ece64f16331c44bdbed927841f94")[..])
    );
    assert_eq!(
        m.encrypted_random_session_key.as_deref(),
        Some(&h("518822b1b3f350c8958682ecbb3e3cb7")[..])
    );
    assert_eq!(m.response_kind(), ResponseKind::NtlmV1);
    assert!(m.ntlmv2_response().is_none());
    assert_eq!(m.to_vec().unwrap(), AUTH_4223);
}

#[test]
fn authenticate_4_2_3_3_ntlm2_session() {
    let m = AuthenticateMessage::parse(AUTH_4233).unwrap();
    check_common_auth(&m);
    assert_eq!(m.flags.bits(), 0x8208_8235);
    assert_eq!(
        m.lm_response.as_deref(),
        Some(&h("aaaaaaaaaaaaaaaa00000000000000000000000000000000")[..])
    );
    assert_eq!(
        m.nt_response.as_deref(),
        Some(&h("7537f803ae367128ca458204bde7caf81e97ed2683267232")[..])
    );
    // Empty but placed at the end of the payload (0x9c).
    assert_eq!(m.encrypted_random_session_key.as_deref(), Some(&[][..]));
    assert_eq!(m.response_kind(), ResponseKind::Ntlm2Session);
    assert_eq!(m.to_vec().unwrap(), AUTH_4233);
}

#[test]
fn authenticate_4_2_4_3_ntlmv2() {
    let m = AuthenticateMessage::parse(AUTH_4243).unwrap();
    check_common_auth(&m);
    assert_eq!(m.flags.bits(), 0xe288_8235);
    assert_eq!(
        m.lm_response.as_deref(),
        Some(&h("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")[..])
    );
    let v2 = m.ntlmv2_response().unwrap().unwrap();
    assert_eq!(
        v2.nt_proof_str.to_vec(),
        h("68cd0ab851e51c96aabc927bebef6a1c")
    );
    assert_eq!(v2.blob, &AUTH_4243[0x94..0xd8]);
    let cc = &v2.client_challenge;
    assert!(cc.is_canonical());
    assert_eq!(cc.timestamp, ntlm_wire::FileTime(0));
    assert_eq!(cc.challenge_from_client, [0xaa; 8]);
    assert_eq!(cc.av_pairs.trailing(), &[0, 0, 0, 0]);
    assert_eq!(
        m.encrypted_random_session_key.as_deref(),
        Some(&h("c5dad2544fc9799094ce1ce90bc9d03e")[..])
    );
    assert_eq!(m.to_vec().unwrap(), AUTH_4243);
}

#[test]
fn derived_mic_messages() {
    let n = NegotiateMessage::parse(NEG_MIC).unwrap();
    assert_eq!(n.flags.bits(), 0xe208_8237);
    assert_eq!(n.to_vec().unwrap(), NEG_MIC);
    let a = AuthenticateMessage::parse(AUTH_MIC).unwrap();
    assert_eq!(a.header_len(), 88);
    assert_eq!(
        a.mic,
        Some(h("0bbfca3189026898b4b309b381d368d4").try_into().unwrap())
    );
    assert_eq!(a.to_vec().unwrap(), AUTH_MIC);
    // Same content as 4.2.4.3, with the MIC slot.
    let b = AuthenticateMessage::parse(AUTH_4243).unwrap();
    assert_eq!(a.nt_response, b.nt_response);
    assert_eq!(a.lm_response, b.lm_response);
}

fn shared_vectors() -> Option<serde_json::Value> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/ms-nlmp-4.2.json");
    match std::fs::read(&p) {
        Ok(b) => Some(serde_json::from_slice(&b).unwrap()),
        Err(_) => {
            ntlm_testsupport::skip(&format!(
                "the Windows 7 capture test: {} not found",
                p.display()
            ));
            None
        }
    }
}

#[test]
fn windows7_capture_with_mic_and_cbt() {
    let Some(v) = shared_vectors() else { return };
    let w = &v["windows7_2008r2_ntlmv2_cbt"];
    let hx = |k: &str| h(w[k]["hex"].as_str().unwrap());
    let chal = hx("challenge_message");
    let c = ChallengeMessage::parse(&chal).unwrap();
    assert_eq!(c.flags.bits(), 0xa289_8205);
    assert_eq!(c.server_challenge.to_vec(), hx("server_challenge"));
    assert_eq!(c.to_vec().unwrap(), chal);

    let auth = hx("authenticate_message");
    let a = AuthenticateMessage::parse(&auth).unwrap();
    assert_eq!(a.flags.bits(), 0xa288_8205);
    assert_eq!(a.header_len(), 88);
    assert_eq!(a.mic.unwrap().to_vec(), hx("mic"));
    assert_eq!(
        decode_utf16le(a.user.as_deref().unwrap()).unwrap(),
        "Administrator"
    );
    assert_eq!(
        decode_utf16le(a.domain.as_deref().unwrap()).unwrap(),
        "WS2008R2"
    );
    assert_eq!(a.response_kind(), ResponseKind::NtlmV2);
    let v2 = a.ntlmv2_response().unwrap().unwrap();
    assert_eq!(v2.nt_proof_str.to_vec(), hx("nt_proof_str"));
    let avs = &v2.client_challenge.av_pairs;
    assert!(avs.defects().is_clean());
    assert_eq!(avs.trailing(), &[0; 8]);
    assert_eq!(avs.flags(), Some(MsvAvFlags::MIC_PRESENT));
    let ids: Vec<u16> = avs.iter().map(|p| p.id.0).collect();
    assert_eq!(ids, [2, 1, 4, 3, 5, 7, 6, 8, 10, 9]);
    match avs.get(AvId::CHANNEL_BINDINGS).unwrap().typed().unwrap() {
        AvValue::ChannelBindings(cb) => assert_eq!(cb.to_vec(), hx("channel_bindings_hash")),
        other => panic!("{other:?}"),
    }
    match avs.get(AvId::SINGLE_HOST).unwrap().typed().unwrap() {
        AvValue::SingleHost(s) => assert_eq!(s.size, 48),
        other => panic!("{other:?}"),
    }
    assert_eq!(a.to_vec().unwrap(), auth);

    let neg = hx("reconstructed_negotiate");
    assert!(matches!(
        Message::parse(&neg).unwrap(),
        Message::Negotiate(_)
    ));
}
