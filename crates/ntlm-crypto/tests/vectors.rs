//! Every MS-NLMP 4.2 value (4.2.2 NTLMv1, 4.2.3 NTLMv1 with extended session
//! security, 4.2.4 NTLMv2), the derived server-side keys and the derived MIC
//! vector, from `tests/data/ms-nlmp-4.2-vectors.json`. Each section test ends
//! by asserting that it checked every hex value of its section, so a value
//! added to the data file cannot go untested.
//!
//! The real Windows 7 capture is third-party data and is not copied here: it
//! is read from the shared vectors file next to the workspace when present.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::PathBuf;

use md5::{Digest, Md5};
use ntlm_crypto::legacy::{
    self, LmHash, Rc4, lm_hash, ntlm2_session_hash, ntlm2_session_responses, ntlmv1_responses,
    ntlmv1_session_base_key, verify_lmv1_response, verify_ntlm2_session_response,
    verify_ntlmv1_response,
};
use ntlm_crypto::{
    Direction, ExportedSessionKey, HmacMd5Key, KeyExchange, KeyExchangeKey, KxKeyInput,
    RandomPadForm, Role, SessionBaseKey, SessionSecurity, client_exported_session_key,
    decrypt_session_key, encrypt_session_key, ess_sealing_key_input, kxkey, mic, mic_of_received,
    nt_hash, ntlmv2_blob, ntlmv2_responses, ntowfv2, sealing_key, server_exported_session_key,
    signing_key, verify_lmv2_response, verify_mic, verify_ntlmv2, verify_ntlmv2_response,
};
use ntlm_wire::{
    AuthenticateMessage, AvId, ChallengeMessage, MessageSignature, NegotiateFlags,
    NegotiateMessage, with_zeroed_mic,
};
use serde_json::Value;

const DATA: &str = include_str!("data/ms-nlmp-4.2-vectors.json");

/// The vectors, remembering which hex values a test has read.
struct Vectors {
    root: Value,
    used: RefCell<BTreeSet<String>>,
}

impl Vectors {
    fn load() -> Self {
        Self::from_value(serde_json::from_str(DATA).unwrap())
    }

    fn from_value(root: Value) -> Self {
        Self {
            root,
            used: RefCell::new(BTreeSet::new()),
        }
    }

    fn node(&self, path: &str) -> &Value {
        let mut v = &self.root;
        for seg in path.split('.') {
            v = match seg.parse::<usize>() {
                Ok(i) => &v[i],
                Err(_) => &v[seg],
            };
            assert!(!v.is_null(), "no value at {path}");
        }
        v
    }

    /// The bytes of `path.hex`, marking `path` as checked.
    fn hex(&self, path: &str) -> Vec<u8> {
        let h = self.node(path)["hex"]
            .as_str()
            .unwrap_or_else(|| panic!("{path} has no hex"));
        self.used.borrow_mut().insert(path.to_owned());
        hex::decode(h).unwrap()
    }

    fn arr<const N: usize>(&self, path: &str) -> [u8; N] {
        self.hex(path).try_into().unwrap()
    }

    fn text(&self, path: &str) -> String {
        self.node(path)["text"].as_str().unwrap().to_owned()
    }

    fn flags(&self, path: &str) -> NegotiateFlags {
        let s = self.node(path)["value"].as_str().unwrap();
        NegotiateFlags::from_bits_retain(
            u32::from_str_radix(s.trim_start_matches("0x"), 16).unwrap(),
        )
    }

    /// Marks a value that is `null` in the data (a key that does not exist).
    fn null(&self, path: &str) {
        let (parent, last) = path.rsplit_once('.').unwrap();
        assert!(self.node(parent)[last].is_null(), "{path} is not null");
    }

    /// Asserts that every hex value under `section` was checked.
    fn assert_all_checked(&self, section: &str) {
        let mut all = BTreeSet::new();
        collect_hex(&self.root[section], section, &mut all);
        let used = self.used.borrow();
        let missing: Vec<_> = all.difference(&used).collect();
        assert!(missing.is_empty(), "values not checked: {missing:?}");
        assert!(!all.is_empty());
    }
}

fn collect_hex(v: &Value, path: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if k == "hex" && child.is_string() {
                    out.insert(path.to_owned());
                } else {
                    collect_hex(child, &format!("{path}.{k}"), out);
                }
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                collect_hex(child, &format!("{path}.{i}"), out);
            }
        }
        _ => {}
    }
}

/// The 4.2.1 inputs.
struct Common {
    user: String,
    domain: String,
    password: String,
    server_challenge: [u8; 8],
    client_challenge: [u8; 8],
    random_session_key: [u8; 16],
    time: ntlm_wire::FileTime,
    plaintext: Vec<u8>,
}

fn common(v: &Vectors) -> Common {
    Common {
        user: v.text("common.user"),
        domain: v.text("common.user_dom"),
        password: v.text("common.passwd"),
        server_challenge: v.arr("common.server_challenge"),
        client_challenge: v.arr("common.client_challenge"),
        random_session_key: v.arr("common.random_session_key"),
        time: ntlm_wire::FileTime::from_le_bytes(v.arr("common.time")),
        plaintext: v.hex("common.gss_wrapex.plaintext"),
    }
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn sig_bytes(s: &MessageSignature) -> Vec<u8> {
    s.to_bytes().to_vec()
}

#[test]
fn common_inputs_4_2_1() {
    let v = Vectors::load();
    let c = common(&v);
    assert_eq!(v.hex("common.user.unicode"), utf16(&c.user));
    assert_eq!(
        v.hex("common.user.uppercase_unicode"),
        utf16(&ntlm_crypto::upper_case(&c.user))
    );
    assert_eq!(v.hex("common.user.oem"), c.user.as_bytes());
    assert_eq!(v.hex("common.user_dom.unicode"), utf16(&c.domain));
    assert_eq!(v.hex("common.passwd.unicode"), utf16(&c.password));
    let mut padded = c.password.to_ascii_uppercase().into_bytes();
    padded.resize(14, 0);
    assert_eq!(v.hex("common.passwd.uppercase_oem_padded_14"), padded);
    assert_eq!(
        v.hex("common.server_name.unicode"),
        utf16(&v.text("common.server_name"))
    );
    assert_eq!(
        v.hex("common.workstation_name.unicode"),
        utf16(&v.text("common.workstation_name"))
    );
    assert_eq!(c.plaintext, utf16("Plaintext"));
    assert_eq!(v.hex("common.gss_wrapex.seqnum"), [0; 4]);
    assert_eq!(v.hex("common.gss_wrapex.random_pad"), [0; 4]);
    assert_eq!(c.time, ntlm_wire::FileTime(0));
    v.assert_all_checked("common");
}

#[test]
fn ntlmv1_4_2_2() {
    let v = Vectors::load();
    let c = common(&v);
    let sc = c.server_challenge;
    let flags = v.flags("ntlmv1.authenticate_flags");
    assert!(!flags.contains(NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY));
    assert_eq!(v.flags("ntlmv1.challenge_flags").bits(), 0xe202_8233);

    // 4.2.2.1: LMOWFv1, NTOWFv1, SessionBaseKey.
    let padded = v.hex("common.passwd.uppercase_oem_padded_14");
    let magic = b"KGS!@#$%";
    assert_eq!(
        legacy::des(&padded[..7].try_into().unwrap(), magic).to_vec(),
        v.hex("ntlmv1.des_uppercase_passwd_0_6")
    );
    assert_eq!(
        legacy::des(&padded[7..].try_into().unwrap(), magic).to_vec(),
        v.hex("ntlmv1.des_uppercase_passwd_7_13")
    );
    let lm = lm_hash(&c.password).unwrap();
    assert_eq!(lm, LmHash::from_slice(&v.hex("ntlmv1.lmowfv1")).unwrap());
    let nt = nt_hash(&c.password);
    assert_eq!(nt.as_bytes().to_vec(), v.hex("ntlmv1.ntowfv1"));
    let sbk = ntlmv1_session_base_key(&nt);
    assert_eq!(
        sbk,
        SessionBaseKey::from_slice(&v.hex("ntlmv1.session_base_key")).unwrap()
    );

    // 4.2.2.2: responses.
    let r = ntlmv1_responses(&nt, Some(&lm), &sc);
    assert_eq!(r.nt_response.to_vec(), v.hex("ntlmv1.ntlmv1_response"));
    assert_eq!(r.lm_response.to_vec(), v.hex("ntlmv1.lmv1_response"));
    assert_eq!(r.session_base_key, sbk);

    // KXKEY in the three NTLMv1 branches, and the key exchange under each.
    let input = KxKeyInput::NtlmV1 {
        server_challenge: &sc,
        lm_response: &r.lm_response,
        lm_hash: Some(&lm),
    };
    let esk = ExportedSessionKey::from_bytes(c.random_session_key);
    for (extra, kxk_path, enc_path) in [
        (
            NegotiateFlags::empty(),
            "ntlmv1.key_exchange_key",
            "ntlmv1.encrypted_random_session_key",
        ),
        (
            NegotiateFlags::NEGOTIATE_LM_KEY,
            "ntlmv1.key_exchange_key_lm_key",
            "ntlmv1.encrypted_random_session_key_lm_key",
        ),
        (
            NegotiateFlags::REQUEST_NON_NT_SESSION_KEY,
            "ntlmv1.key_exchange_key_non_nt_session_key",
            "ntlmv1.encrypted_random_session_key_non_nt_session_key",
        ),
    ] {
        let kxk = kxkey(flags | extra, &sbk, input).unwrap();
        assert_eq!(kxk.as_bytes().to_vec(), v.hex(kxk_path), "{kxk_path}");
        let enc = v.hex(enc_path);
        assert_eq!(encrypt_session_key(&kxk, &esk).to_vec(), enc, "{enc_path}");
        assert_eq!(decrypt_session_key(&kxk, &enc).unwrap(), esk);
        let (client_esk, sent) = client_exported_session_key(
            KeyExchange::Negotiated,
            flags | extra,
            &kxk,
            c.random_session_key,
        );
        assert_eq!(client_esk, esk);
        assert_eq!(sent.map(|k| k.to_vec()), Some(enc));
    }
    assert_eq!(
        esk.as_bytes().to_vec(),
        v.hex("ntlmv1.exported_session_key")
    );

    // 4.2.2.3: the messages carry these values; the server side verifies them.
    let chal = v.hex("ntlmv1.challenge_message");
    let cm = ChallengeMessage::parse(&chal).unwrap();
    assert_eq!(cm.server_challenge, sc);
    assert_eq!(cm.flags, v.flags("ntlmv1.challenge_flags"));
    assert_eq!(
        cm.version.unwrap().to_bytes().to_vec(),
        v.hex("ntlmv1.challenge_message.layout.version")
    );
    let auth = v.hex("ntlmv1.authenticate_message");
    let am = AuthenticateMessage::parse(&auth).unwrap();
    assert_eq!(am.flags, flags);
    assert_eq!(
        am.version.unwrap().to_bytes().to_vec(),
        v.hex("ntlmv1.authenticate_message.layout.version")
    );
    let nt_resp = am.nt_response.as_deref().unwrap();
    let lm_resp = am.lm_response.as_deref().unwrap();
    assert_eq!(
        verify_ntlmv1_response(&nt, &cm.server_challenge, nt_resp).unwrap(),
        sbk
    );
    verify_lmv1_response(&lm, &cm.server_challenge, lm_resp).unwrap();
    let kxk = kxkey(
        am.flags,
        &sbk,
        KxKeyInput::NtlmV1 {
            server_challenge: &cm.server_challenge,
            lm_response: lm_resp,
            lm_hash: Some(&lm),
        },
    )
    .unwrap();
    let server_esk = server_exported_session_key(
        KeyExchange::Negotiated,
        am.flags,
        &kxk,
        am.encrypted_random_session_key.as_deref(),
    )
    .unwrap();
    assert_eq!(server_esk, esk);

    // 4.2.2.4: GSS_WrapEx without ESS: one 16-byte key in both directions.
    let client_seal = sealing_key(&esk, flags, Direction::ClientToServer);
    assert_eq!(
        client_seal.as_bytes().to_vec(),
        v.hex("ntlmv1.gss_wrapex.seal_key_client")
    );
    assert_eq!(
        sealing_key(&esk, flags, Direction::ServerToClient)
            .as_bytes()
            .to_vec(),
        v.hex("ntlmv1.gss_wrapex.seal_key_server")
    );
    // No signing key without ESS: the checksum is a CRC32.
    v.null("ntlmv1.gss_wrapex.sign_key_client");
    v.null("ntlmv1.gss_wrapex.sign_key_server");

    // The MAC step by step on one RC4 handle (MS-NLMP 3.4.4.1).
    let mut handle = Rc4::new(client_seal.as_bytes()).unwrap();
    let mut sealed = c.plaintext.clone();
    handle.apply_keystream(&mut sealed);
    assert_eq!(sealed, v.hex("ntlmv1.gss_wrapex.sealed_data"));
    let crc = crc32fast::hash(&c.plaintext).to_le_bytes();
    assert_eq!(crc.to_vec(), v.hex("ntlmv1.gss_wrapex.crc32"));
    let mut pad = [0u8; 4];
    handle.apply_keystream(&mut pad);
    assert_eq!(pad.to_vec(), v.hex("ntlmv1.gss_wrapex.rc4_random_pad"));
    let mut checksum = crc;
    handle.apply_keystream(&mut checksum);
    assert_eq!(checksum.to_vec(), v.hex("ntlmv1.gss_wrapex.rc4_checksum"));
    let mut seq = [0u8; 4];
    handle.apply_keystream(&mut seq);
    assert_eq!(seq.to_vec(), v.hex("ntlmv1.gss_wrapex.rc4_seqnum"));
    let xored: Vec<u8> = seq
        .iter()
        .zip(0u32.to_le_bytes())
        .map(|(a, b)| a ^ b)
        .collect();
    assert_eq!(xored, v.hex("ntlmv1.gss_wrapex.seqnum_xor"));

    // SessionSecurity produces both signature forms (erratum E1) and the
    // server accepts both.
    for (form, path) in [
        (
            RandomPadForm::Encrypted,
            "ntlmv1.gss_wrapex.signature_as_printed",
        ),
        (
            RandomPadForm::Zeroed,
            "ntlmv1.gss_wrapex.signature_pad_zeroed",
        ),
    ] {
        let mut client = SessionSecurity::new(flags, &esk, Role::Client).with_random_pad_form(form);
        let mut msg = c.plaintext.clone();
        let sig = client.seal(&mut msg).unwrap();
        assert_eq!(msg, sealed);
        let expected = v.hex(path);
        assert_eq!(sig_bytes(&sig), expected, "{path}");
        let mut server = SessionSecurity::new(flags, &server_esk, Role::Server);
        let received = MessageSignature::parse(&expected).unwrap();
        server.unseal(&mut msg, &received).unwrap();
        assert_eq!(msg, c.plaintext);
    }
    v.assert_all_checked("ntlmv1");
}

#[test]
fn ntlmv1_ess_4_2_3() {
    let v = Vectors::load();
    let c = common(&v);
    let sc = c.server_challenge;
    let cc = c.client_challenge;
    let flags = v.flags("ntlmv1_ess.authenticate_flags");
    assert!(flags.contains(NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY));
    assert!(!flags.contains(NegotiateFlags::NEGOTIATE_KEY_EXCH));

    let nt = nt_hash(&c.password);
    assert_eq!(nt.as_bytes().to_vec(), v.hex("ntlmv1_ess.ntowfv1"));
    let md5_full: [u8; 16] = Md5::new()
        .chain_update(sc)
        .chain_update(cc)
        .finalize()
        .into();
    assert_eq!(
        md5_full.to_vec(),
        v.hex("ntlmv1_ess.md5_server_challenge_client_challenge")
    );
    assert_eq!(ntlm2_session_hash(&sc, &cc), md5_full[..8]);

    let r = ntlm2_session_responses(&nt, &sc, &cc);
    assert_eq!(
        r.session_base_key.as_bytes().to_vec(),
        v.hex("ntlmv1_ess.session_base_key")
    );
    assert_eq!(r.lm_response.to_vec(), v.hex("ntlmv1_ess.lmv1_response"));
    assert_eq!(r.nt_response.to_vec(), v.hex("ntlmv1_ess.ntlmv1_response"));

    let kxk = kxkey(
        flags,
        &r.session_base_key,
        KxKeyInput::NtlmV1 {
            server_challenge: &sc,
            lm_response: &r.lm_response,
            lm_hash: None,
        },
    )
    .unwrap();
    assert_eq!(
        kxk.as_bytes().to_vec(),
        v.hex("ntlmv1_ess.key_exchange_key")
    );
    // No KEY_EXCH: the ExportedSessionKey is the KXKEY and nothing is sent.
    let (esk, sent) =
        client_exported_session_key(KeyExchange::Negotiated, flags, &kxk, c.random_session_key);
    assert_eq!(sent, None);
    v.null("ntlmv1_ess.encrypted_random_session_key");
    assert_eq!(
        esk.as_bytes().to_vec(),
        v.hex("ntlmv1_ess.exported_session_key")
    );

    // 4.2.3.3: messages and the server side.
    let chal = v.hex("ntlmv1_ess.challenge_message");
    let cm = ChallengeMessage::parse(&chal).unwrap();
    assert_eq!(cm.server_challenge, sc);
    assert_eq!(cm.flags, v.flags("ntlmv1_ess.challenge_flags"));
    assert_eq!(
        cm.version.unwrap().to_bytes().to_vec(),
        v.hex("ntlmv1_ess.challenge_message.layout.version")
    );
    let auth = v.hex("ntlmv1_ess.authenticate_message");
    let am = AuthenticateMessage::parse(&auth).unwrap();
    assert_eq!(am.flags, flags);
    assert_eq!(
        am.version.unwrap().to_bytes().to_vec(),
        v.hex("ntlmv1_ess.authenticate_message.layout.version")
    );
    let lm_resp = am.lm_response.as_deref().unwrap();
    let nt_resp = am.nt_response.as_deref().unwrap();
    let sbk = verify_ntlm2_session_response(&nt, &sc, lm_resp, nt_resp).unwrap();
    assert_eq!(sbk, r.session_base_key);
    let server_esk = server_exported_session_key(
        KeyExchange::Negotiated,
        am.flags,
        &kxkey(
            am.flags,
            &sbk,
            KxKeyInput::NtlmV1 {
                server_challenge: &sc,
                lm_response: lm_resp,
                lm_hash: None,
            },
        )
        .unwrap(),
        am.encrypted_random_session_key.as_deref(),
    )
    .unwrap();
    assert_eq!(server_esk, esk);

    // 4.2.3.4: keys from the KXKEY (erratum E2), 56-bit seal key.
    assert_eq!(
        ess_sealing_key_input(&esk, flags).to_vec(),
        v.hex("ntlmv1_ess.gss_wrapex.seal_key_cut_56")
    );
    let client_sign = signing_key(&esk, Direction::ClientToServer);
    assert_eq!(
        client_sign.as_bytes().to_vec(),
        v.hex("ntlmv1_ess.gss_wrapex.sign_key_client")
    );
    let literal_caption = signing_key(
        &ExportedSessionKey::from_bytes(c.random_session_key),
        Direction::ClientToServer,
    );
    assert_eq!(
        literal_caption.as_bytes().to_vec(),
        v.hex("ntlmv1_ess.gss_wrapex.sign_key_client_if_built_from_random_session_key")
    );
    assert_ne!(literal_caption, client_sign);
    for (dir, seal_path, sign_path) in [
        (
            Direction::ClientToServer,
            "ntlmv1_ess.gss_wrapex.seal_key_client",
            "ntlmv1_ess.gss_wrapex.sign_key_client",
        ),
        (
            Direction::ServerToClient,
            "ntlmv1_ess.gss_wrapex.seal_key_server",
            "ntlmv1_ess.gss_wrapex.sign_key_server",
        ),
    ] {
        assert_eq!(
            sealing_key(&esk, flags, dir).as_bytes().to_vec(),
            v.hex(seal_path)
        );
        assert_eq!(signing_key(&esk, dir).as_bytes().to_vec(), v.hex(sign_path));
    }

    // The checksum is the plain HMAC prefix (erratum E3: no KEY_EXCH, no RC4).
    let hmac = HmacMd5Key::new(client_sign.as_bytes()).mac(&[&0u32.to_le_bytes(), &c.plaintext]);
    assert_eq!(hmac[..8].to_vec(), v.hex("ntlmv1_ess.gss_wrapex.checksum"));
    let mut client = SessionSecurity::new(flags, &esk, Role::Client);
    let mut msg = c.plaintext.clone();
    let sig = client.seal(&mut msg).unwrap();
    assert_eq!(msg, v.hex("ntlmv1_ess.gss_wrapex.sealed_data"));
    assert_eq!(sig_bytes(&sig), v.hex("ntlmv1_ess.gss_wrapex.signature"));
    let mut server = SessionSecurity::new(flags, &server_esk, Role::Server);
    server.unseal(&mut msg, &sig).unwrap();
    assert_eq!(msg, c.plaintext);
    v.assert_all_checked("ntlmv1_ess");
}

#[test]
fn ntlmv2_4_2_4() {
    let v = Vectors::load();
    let c = common(&v);
    let sc = c.server_challenge;
    let flags = v.flags("ntlmv2.authenticate_flags");

    // 4.2.4.1: inputs and NTOWFv2.
    let chal = v.hex("ntlmv2.challenge_message");
    let cm = ChallengeMessage::parse(&chal).unwrap();
    assert_eq!(cm.flags, v.flags("ntlmv2.challenge_flags"));
    assert_eq!(
        cm.version.unwrap().to_bytes().to_vec(),
        v.hex("ntlmv2.challenge_message.layout.version")
    );
    let ti = cm.target_info.as_ref().unwrap();
    assert_eq!(ti.as_bytes().to_vec(), v.hex("ntlmv2.target_info"));
    assert_eq!(
        ti.get(AvId::NB_DOMAIN_NAME).unwrap().value.to_vec(),
        v.hex("ntlmv2.av_pair_nb_domain_name")
    );
    assert_eq!(
        ti.get(AvId::NB_COMPUTER_NAME).unwrap().value.to_vec(),
        v.hex("ntlmv2.av_pair_nb_computer_name")
    );
    let listed = v
        .node("ntlmv2.target_info.av_pairs")
        .as_array()
        .unwrap()
        .len();
    let pairs: Vec<_> = ti.iter_with_eol().collect();
    assert_eq!(pairs.len(), listed);
    for (i, p) in pairs.iter().enumerate() {
        let path = format!("ntlmv2.target_info.av_pairs.{i}");
        assert_eq!(u64::from(p.id.0), v.node(&path)["id"].as_u64().unwrap());
        assert_eq!(p.value.to_vec(), v.hex(&path));
    }

    let nt = nt_hash(&c.password);
    let key = ntowfv2(&nt, &c.user, &c.domain);
    assert_eq!(key.as_bytes().to_vec(), v.hex("ntlmv2.ntowfv2"));

    // 4.2.4.2: temp (erratum E4), the responses, the keys.
    let temp = ntlmv2_blob(c.time, &c.client_challenge, ti.as_bytes());
    assert_eq!(temp, v.hex("ntlmv2.temp"));
    let r = ntlmv2_responses(&key, &sc, c.time, &c.client_challenge, ti.as_bytes());
    assert_eq!(r.nt_proof_str.to_vec(), v.hex("ntlmv2.nt_proof_str"));
    assert_eq!(r.nt_response, v.hex("ntlmv2.ntlmv2_response"));
    assert_eq!(r.lm_response.to_vec(), v.hex("ntlmv2.lmv2_response"));
    assert_eq!(
        r.session_base_key.as_bytes().to_vec(),
        v.hex("ntlmv2.session_base_key")
    );
    let kxk = kxkey(flags, &r.session_base_key, KxKeyInput::NtlmV2).unwrap();
    assert_eq!(kxk.as_bytes().to_vec(), v.hex("ntlmv2.key_exchange_key"));
    let (esk, sent) =
        client_exported_session_key(KeyExchange::Negotiated, flags, &kxk, c.random_session_key);
    assert_eq!(
        sent.unwrap().to_vec(),
        v.hex("ntlmv2.encrypted_random_session_key")
    );
    assert_eq!(
        esk.as_bytes().to_vec(),
        v.hex("ntlmv2.exported_session_key")
    );

    // 4.2.4.3: the AUTHENTICATE carries them; the server verifies the
    // received bytes.
    let auth = v.hex("ntlmv2.authenticate_message");
    let am = AuthenticateMessage::parse(&auth).unwrap();
    assert_eq!(am.flags, flags);
    assert_eq!(
        am.version.unwrap().to_bytes().to_vec(),
        v.hex("ntlmv2.authenticate_message.layout.version")
    );
    let lm_resp = am.lm_response.as_deref().unwrap();
    let nt_resp = am.nt_response.as_deref().unwrap();
    assert_eq!(nt_resp, r.nt_response.as_slice());
    assert_eq!(
        verify_ntlmv2_response(&key, &sc, nt_resp).unwrap(),
        r.session_base_key
    );
    verify_lmv2_response(&key, &sc, lm_resp).unwrap();
    let m = verify_ntlmv2(&nt, &c.user, &c.domain, &sc, lm_resp, nt_resp).unwrap();
    assert!(m.nt_matched && m.lm_matched);
    assert_eq!(m.domain, c.domain);
    let server_kxk = kxkey(am.flags, &m.session_base_key, KxKeyInput::NtlmV2).unwrap();
    let server_esk = server_exported_session_key(
        KeyExchange::Negotiated,
        am.flags,
        &server_kxk,
        am.encrypted_random_session_key.as_deref(),
    )
    .unwrap();
    assert_eq!(server_esk, esk);

    // 4.2.4.4: GSS_WrapEx with ESS, 128-bit, KEY_EXCH.
    for (dir, seal_path, sign_path) in [
        (
            Direction::ClientToServer,
            "ntlmv2.gss_wrapex.seal_key_client",
            "ntlmv2.gss_wrapex.sign_key_client",
        ),
        (
            Direction::ServerToClient,
            "ntlmv2.gss_wrapex.seal_key_server",
            "ntlmv2.gss_wrapex.sign_key_server",
        ),
    ] {
        assert_eq!(
            sealing_key(&esk, flags, dir).as_bytes().to_vec(),
            v.hex(seal_path)
        );
        assert_eq!(signing_key(&esk, dir).as_bytes().to_vec(), v.hex(sign_path));
    }
    let sign = signing_key(&esk, Direction::ClientToServer);
    let hmac = HmacMd5Key::new(sign.as_bytes()).mac(&[&0u32.to_le_bytes(), &c.plaintext]);
    assert_eq!(hmac[..8].to_vec(), v.hex("ntlmv2.gss_wrapex.checksum"));
    let sealed = v.hex("ntlmv2.gss_wrapex.sealed_data");
    let mut client = SessionSecurity::new(flags, &esk, Role::Client);
    let mut msg = c.plaintext.clone();
    let sig = client.seal(&mut msg).unwrap();
    assert_eq!(msg, sealed);
    assert_eq!(
        sig.checksum.to_vec(),
        v.hex("ntlmv2.gss_wrapex.checksum_rc4")
    );
    assert_eq!(sig_bytes(&sig), v.hex("ntlmv2.gss_wrapex.signature"));
    let mut server = SessionSecurity::new(flags, &server_esk, Role::Server);
    server.unseal(&mut msg, &sig).unwrap();
    assert_eq!(msg, c.plaintext);

    // Without KEY_EXCH (same ExportedSessionKey): the sealed data is the
    // same and the checksum is the plain HMAC prefix.
    let no_kx = flags - NegotiateFlags::NEGOTIATE_KEY_EXCH;
    let mut client = SessionSecurity::new(no_kx, &esk, Role::Client);
    let mut msg = c.plaintext.clone();
    let sig = client.seal(&mut msg).unwrap();
    assert_eq!(msg, sealed);
    assert_eq!(
        sig_bytes(&sig),
        v.hex("ntlmv2.gss_wrapex.signature_if_no_key_exch")
    );
    v.assert_all_checked("ntlmv2");
}

/// The flags of each derived sealing-key case.
fn case_flags(name: &str) -> NegotiateFlags {
    let ess = NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY;
    let n128 = NegotiateFlags::NEGOTIATE_128;
    let n56 = NegotiateFlags::NEGOTIATE_56;
    let lm = NegotiateFlags::NEGOTIATE_LM_KEY;
    let dg = NegotiateFlags::NEGOTIATE_DATAGRAM;
    match name {
        "ess_128" => ess | n128,
        "ess_56" => ess | n56,
        "ess_40" => ess,
        "lm_key_56" => lm | n56,
        "lm_key_40" => lm,
        "datagram_56" => dg | n56,
        "datagram_40" => dg,
        "none" => NegotiateFlags::empty(),
        other => panic!("unknown case {other}"),
    }
}

#[test]
fn derived_sealing_keys_5_5() {
    let v = Vectors::load();
    let esk =
        ExportedSessionKey::from_slice(&v.hex("derived_seal_keys.exported_session_key")).unwrap();
    let cases = v.node("derived_seal_keys.cases").as_object().unwrap();
    assert_eq!(cases.len(), 8);
    for name in cases.keys() {
        let flags = case_flags(name);
        for (dir, side) in [
            (Direction::ClientToServer, "client"),
            (Direction::ServerToClient, "server"),
        ] {
            let path = format!("derived_seal_keys.cases.{name}.{side}");
            assert_eq!(
                sealing_key(&esk, flags, dir).as_bytes().to_vec(),
                v.hex(&path),
                "{path}"
            );
        }
        // And a session under these flags works end to end.
        let flags = flags | NegotiateFlags::NEGOTIATE_SIGN | NegotiateFlags::NEGOTIATE_SEAL;
        let mut client = SessionSecurity::new(flags, &esk, Role::Client);
        let mut server = SessionSecurity::new(flags, &esk, Role::Server);
        let mut msg = b"derived".to_vec();
        if flags.contains(NegotiateFlags::NEGOTIATE_DATAGRAM) {
            let sig = client.seal_datagram(9, &mut msg).unwrap();
            server.unseal_datagram(9, &mut msg, &sig).unwrap();
        } else {
            let sig = client.seal(&mut msg).unwrap();
            server.unseal(&mut msg, &sig).unwrap();
        }
        assert_eq!(msg, b"derived");
    }
    v.assert_all_checked("derived_seal_keys");
}

#[test]
fn derived_mic_5_5() {
    let v = Vectors::load();
    let neg = v.hex("derived_mic.negotiate_message");
    let nm = NegotiateMessage::parse(&neg).unwrap();
    assert_eq!(nm.flags, v.flags("derived_mic.negotiate_flags"));
    assert_eq!(
        nm.version.unwrap().to_bytes().to_vec(),
        v.hex("derived_mic.negotiate_message.version")
    );
    let chal = v.hex("derived_mic.challenge_message");
    assert_eq!(
        chal,
        hex::decode(v.node("ntlmv2.challenge_message")["hex"].as_str().unwrap()).unwrap()
    );
    let esk = ExportedSessionKey::from_slice(&v.hex("derived_mic.exported_session_key")).unwrap();
    let zeroed = v.hex("derived_mic.authenticate_message_zero_mic");
    let am = AuthenticateMessage::parse(&zeroed).unwrap();
    assert_eq!(am.mic, Some([0; 16]));
    assert_eq!(
        am.version.unwrap().to_bytes().to_vec(),
        v.hex("derived_mic.authenticate_message_zero_mic.layout.version")
    );
    let m = mic(&esk, &neg, &chal, &zeroed);
    assert_eq!(m.as_bytes().to_vec(), v.hex("derived_mic.mic"));

    // The server side works from the message with the MIC in place.
    let auth = v.hex("derived_mic.authenticate_message");
    assert_eq!(with_zeroed_mic(&auth).unwrap(), zeroed);
    assert_eq!(
        AuthenticateMessage::parse(&auth).unwrap().mic,
        Some(*m.as_bytes())
    );
    assert_eq!(mic_of_received(&esk, &neg, &chal, &auth).unwrap(), m);
    verify_mic(&esk, &neg, &chal, &auth).unwrap();
    // Any change to any of the three messages, or another key, fails.
    let mut bad_auth = auth.clone();
    bad_auth[60] ^= 0x01; // a flag bit
    assert!(verify_mic(&esk, &neg, &chal, &bad_auth).is_err());
    let mut bad_neg = neg.clone();
    bad_neg[12] ^= 0x01;
    assert!(verify_mic(&esk, &bad_neg, &chal, &auth).is_err());
    let mut bad_chal = chal.clone();
    bad_chal[24] ^= 0x01;
    assert!(verify_mic(&esk, &neg, &bad_chal, &auth).is_err());
    assert!(
        verify_mic(
            &ExportedSessionKey::from_bytes([0x56; 16]),
            &neg,
            &chal,
            &auth
        )
        .is_err()
    );
    v.assert_all_checked("derived_mic");
}

/// `<workspace>/../shared/vectors/ms-nlmp-4.2.json`, when present.
fn shared_vectors() -> Option<Vectors> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/ms-nlmp-4.2.json");
    match std::fs::read_to_string(&path) {
        Ok(s) => Some(Vectors::from_value(serde_json::from_str(&s).unwrap())),
        Err(_) => {
            ntlm_testsupport::skip(&format!(
                "the Windows 7 capture test: {} not found",
                path.display()
            ));
            None
        }
    }
}

/// A real Windows 7 client against a Windows Server 2008 R2 DC (NTLMv2 with
/// channel bindings, MIC, 8 bytes after MsvAvEOL): NT hash, NTProofStr,
/// SessionBaseKey and MIC verify from user, domain and password.
#[test]
fn windows7_capture() {
    let Some(v) = shared_vectors() else { return };
    let w = "windows7_2008r2_ntlmv2_cbt";
    let user = v.text(&format!("{w}.user"));
    let domain = v.text(&format!("{w}.domain"));
    let nt = nt_hash(&v.text(&format!("{w}.password")));
    assert_eq!(nt.as_bytes().to_vec(), v.hex(&format!("{w}.nt_hash")));
    assert_eq!(
        ntowfv2(&nt, &user, &domain).as_bytes().to_vec(),
        v.hex(&format!("{w}.ntowfv2"))
    );

    let neg = v.hex(&format!("{w}.reconstructed_negotiate"));
    let chal = v.hex(&format!("{w}.challenge_message"));
    let auth = v.hex(&format!("{w}.authenticate_message"));
    let cm = ChallengeMessage::parse(&chal).unwrap();
    assert_eq!(
        cm.server_challenge.to_vec(),
        v.hex(&format!("{w}.server_challenge"))
    );
    let am = AuthenticateMessage::parse(&auth).unwrap();
    let nt_resp = am.nt_response.as_deref().unwrap();
    let lm_resp = am.lm_response.as_deref().unwrap();
    assert_eq!(nt_resp[..16].to_vec(), v.hex(&format!("{w}.nt_proof_str")));

    // The user name arrives as typed; NTOWFv2 upper-cases it. The blob is
    // verified as received (it ends with 8 zero bytes, not 4).
    let m = verify_ntlmv2(&nt, &user, &domain, &cm.server_challenge, lm_resp, nt_resp).unwrap();
    assert!(m.nt_matched);
    assert!(!m.lm_matched, "the LM response is Z(24)");
    assert_eq!(m.domain, domain);
    assert_eq!(
        m.session_base_key.as_bytes().to_vec(),
        v.hex(&format!("{w}.session_base_key"))
    );

    // No KEY_EXCH: ExportedSessionKey = KeyExchangeKey = SessionBaseKey.
    let kxk = kxkey(am.flags, &m.session_base_key, KxKeyInput::NtlmV2).unwrap();
    let esk = server_exported_session_key(
        KeyExchange::Negotiated,
        am.flags,
        &kxk,
        am.encrypted_random_session_key.as_deref(),
    )
    .unwrap();
    assert_eq!(esk.as_bytes(), m.session_base_key.as_bytes());
    assert_eq!(KeyExchangeKey::from_bytes(*esk.as_bytes()), kxk);
    let captured_mic = v.hex(&format!("{w}.mic"));
    assert_eq!(am.mic.unwrap().to_vec(), captured_mic);
    assert_eq!(
        mic_of_received(&esk, &neg, &chal, &auth)
            .unwrap()
            .as_bytes()
            .to_vec(),
        captured_mic
    );
    verify_mic(&esk, &neg, &chal, &auth).unwrap();

    // Neither SIGN nor SEAL but ALWAYS_SIGN: dummy signatures.
    let mut s = SessionSecurity::new(am.flags, &esk, Role::Client);
    assert_eq!(
        s.sign(b"x").unwrap().to_bytes(),
        ntlm_crypto::DUMMY_SIGNATURE
    );
}
