//! Cross-checks against real, independently written NTLM peers: Samba's
//! `ntlm_auth` (client and server helpers), pyspnego's pure-Python NTLM
//! (initiator and acceptor) and impacket's message builder.
//!
//! Each test drives the peer as a child process over stdin/stdout (no
//! network) and ntlmsim through its session API, then compares what both
//! sides say about the session: the ExportedSessionKey (Samba `GK`,
//! pyspnego `session_key`, impacket's exportedSessionKey), the negotiated
//! flags (Samba `GF`, pyspnego's context attributes), and messages signed
//! and sealed by one side that must verify and unseal on the other
//! (MS-NLMP 3.4).
//!
//! Peers are found as follows: `ntlm_auth` on `PATH` (Debian package
//! `winbind`); a Python venv with pyspnego and impacket at
//! `$NTLMSIM_PEERS_VENV`, by default `target/peers-venv` in the workspace
//! (`.ci/install-peers` installs both). A test whose peer is missing prints
//! a note and passes, except under `CI=true`, where it fails. Every child is
//! killed when its guard drops and every read has a deadline, so a hung peer
//! cannot hang the test run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test harness: a failed expectation or a broken peer must abort the test"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ntlm_crypto::KeyExchange;
use ntlm_policy::{
    Failure, Level0Ess, LmCompatibilityLevel, MinSessionSecurity, Side, Stage, Status,
};
use ntlm_session::{
    ClientEstablished, ClientSettings, Credentials, Established, MemoryStore, Server,
    ServerEstablished, ServerKeyExchange, ServerSettings,
};
use ntlm_testsupport::{
    CHALLENGE_ONLY, DOMAIN, PASSWORD, Peer, Scratch, USER, missing, ntlm_auth, samba_client,
    samba_server,
};
use ntlm_wire::{
    AuthenticateMessage, MessageSignature, NegotiateFlags as F, NtlmV2Response, ResponseKind,
};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

// ---------------------------------------------------------------------------
// Locating peers, skipping, child processes
// ---------------------------------------------------------------------------

/// NTLMv1 SessionBaseKey of `Passw0rd!`: MD4(NTOWFv1), MS-NLMP 3.3.1.
const NTLMV1_SESSION_BASE_KEY: &str = "e6249fafe3e2b7872a55267ed43ff7b1";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The venv's Python interpreter, when the venv exists.
fn venv_python(test: &str) -> Option<PathBuf> {
    let venv = std::env::var_os("NTLMSIM_PEERS_VENV")
        .map_or_else(|| workspace_root().join("target/peers-venv"), PathBuf::from);
    let python = venv.join("bin/python");
    if python.is_file() {
        Some(python)
    } else {
        missing(
            &format!(
                "Python venv with pyspnego and impacket ({})",
                venv.display()
            ),
            test,
        );
        None
    }
}

fn driver(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(name)
}

// ---------------------------------------------------------------------------
// ntlmsim side and comparisons
// ---------------------------------------------------------------------------

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn now() -> ntlm_wire::FileTime {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    ntlm_wire::FileTime::from_unix(secs, 0)
}

fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    B64.decode(text.trim())
        .unwrap_or_else(|e| panic!("not base64 ({e}): {text}"))
}

fn unhex(text: &str) -> Vec<u8> {
    hex::decode(text.trim()).unwrap_or_else(|e| panic!("not hex ({e}): {text}"))
}

/// Parses `0x62088235`.
fn flags_hex(text: &str) -> F {
    let digits = text.trim().trim_start_matches("0x");
    F::from_bits_retain(u32::from_str_radix(digits, 16).unwrap())
}

fn server_settings() -> ServerSettings {
    let mut store = MemoryStore::new();
    store.add_password(DOMAIN, USER, PASSWORD);
    ServerSettings::new(Arc::new(store))
}

fn client_settings(password: &str, level: u8) -> ClientSettings {
    let mut c = ClientSettings::new(Credentials::password(USER, DOMAIN, password));
    c.config.integrity = true;
    c.config.confidentiality = true;
    c.config.lm_level = LmCompatibilityLevel::from_u8(level).unwrap();
    c
}

/// `c` with LmCompatibilityLevel 0 read as the policy text says
/// (`level0-ess=never`): LM and NTLMv1, no ESS. The default reading
/// (`requested`, the public XP messages) uses ESS at level 0 as at level 1.
fn policy_text_level0(mut c: ClientSettings) -> ClientSettings {
    c.semantics.level0_ess = Level0Ess::Never;
    c
}

/// Asserts that ntlmsim and the peer negotiated the same flags; with
/// `challenge_only_may_differ`, [`CHALLENGE_ONLY`] bits are not compared.
fn assert_flags(context: &str, ours: F, peer: &str, theirs: F, challenge_only_may_differ: bool) {
    eprintln!(
        "{context}: negotiated flags ntlmsim {:#010x}, {peer} {:#010x}",
        ours.bits(),
        theirs.bits()
    );
    let ignore = if challenge_only_may_differ {
        CHALLENGE_ONLY
    } else {
        F::empty()
    };
    assert_eq!(
        ours.difference(ignore),
        theirs.difference(ignore),
        "{context}: negotiated flags: ntlmsim {:#010x}, {peer} {:#010x}",
        ours.bits(),
        theirs.bits()
    );
}

fn key_hex(e: &Established) -> String {
    hex::encode(e.exported_session_key().as_bytes())
}

fn expect_failure<T: std::fmt::Debug>(r: Result<T, Failure>) -> Failure {
    match r {
        Err(f) => f,
        Ok(v) => panic!("expected ntlmsim to refuse, it accepted: {v:?}"),
    }
}

/// Messages sealed (and signed) by one side are unsealed (and verified) by
/// the other, in both directions, through a pyspnego context. The NTLM wrap
/// token is signature(16) ‖ sealed data (pyspnego `NTLMProxy.wrap`).
fn check_session_security(ours: &mut Established, py: &mut Peer) {
    for i in 0..3 {
        // pyspnego → ntlmsim, sealed.
        let plain = format!("from pyspnego, message {i}").into_bytes();
        let token = unhex(&py.ask_expect(&format!("WRAP {}", hex::encode(&plain)), "DATA"));
        let (sig, sealed) = token.split_at(MessageSignature::LEN);
        assert_ne!(sealed, plain.as_slice(), "pyspnego sealed nothing");
        let sig = MessageSignature::parse(sig).unwrap();
        let mut data = sealed.to_vec();
        ours.security
            .unseal(&mut data, &sig)
            .unwrap_or_else(|e| panic!("ntlmsim cannot unseal pyspnego's message {i}: {e}"));
        assert_eq!(data, plain);

        // ntlmsim → pyspnego, sealed.
        let plain = format!("from ntlmsim, message {i}").into_bytes();
        let mut data = plain.clone();
        let sig = ours.security.seal(&mut data).unwrap();
        let mut token = sig.to_bytes().to_vec();
        token.extend_from_slice(&data);
        let opened = py.ask_expect(&format!("UNWRAP {}", hex::encode(&token)), "DATA");
        assert_eq!(
            unhex(&opened),
            plain,
            "pyspnego unsealed ntlmsim's message {i}"
        );

        // Signatures only, both directions.
        let msg = format!("signed {i}").into_bytes();
        let sig = unhex(&py.ask_expect(&format!("SIGN {}", hex::encode(&msg)), "DATA"));
        ours.security
            .verify(&msg, &MessageSignature::parse(&sig).unwrap())
            .unwrap_or_else(|e| panic!("ntlmsim rejects pyspnego's signature {i}: {e}"));
        let sig = ours.security.sign(&msg).unwrap();
        let answer = py.ask(&format!(
            "VERIFY {} {}",
            hex::encode(&msg),
            hex::encode(sig.to_bytes())
        ));
        assert_eq!(answer, "OK", "pyspnego rejects ntlmsim's signature {i}");
    }
    // A modified sealed message is refused on either side (last: a refused
    // message has consumed its sequence number and keystream).
    let mut data = b"modified".to_vec();
    let sig = ours.security.seal(&mut data).unwrap();
    data[0] ^= 1;
    let mut token = sig.to_bytes().to_vec();
    token.extend_from_slice(&data);
    let answer = py.ask(&format!("UNWRAP {}", hex::encode(&token)));
    assert!(
        answer.starts_with("ERR BadMICError"),
        "pyspnego must refuse a modified sealed message, got `{answer}`"
    );
    let token = unhex(&py.ask_expect("WRAP 00112233", "DATA"));
    let (sig, sealed) = token.split_at(MessageSignature::LEN);
    let mut data = sealed.to_vec();
    data[0] ^= 1;
    assert!(
        ours.security
            .unseal(&mut data, &MessageSignature::parse(sig).unwrap())
            .is_err(),
        "a modified sealed message must not unseal"
    );
}

// ---------------------------------------------------------------------------
// Samba ntlm_auth
// ---------------------------------------------------------------------------

/// Runs a Samba client (sign, seal and session key requested) against an
/// ntlmsim server. Returns ntlmsim's result and, when ntlmsim accepted,
/// Samba's `GK` and `GF`.
fn samba_client_to_ntlmsim(
    exe: &Path,
    password: &str,
    options: &[&str],
    server: ServerSettings,
) -> (Result<ServerEstablished, Failure>, Option<(String, F)>) {
    let dir = Scratch::new(env!("CARGO_TARGET_TMPDIR"), "peers");
    let mut samba = samba_client(exe, &dir, password, options);
    assert_eq!(
        samba.ask("SF NTLMSSP_FEATURE_SIGN NTLMSSP_FEATURE_SEAL NTLMSSP_FEATURE_SESSION_KEY"),
        "OK"
    );
    let negotiate = unb64(&samba.ask_expect("YR", "YR"));
    let (challenge, server) =
        match Server::start(server).on_negotiate(&negotiate, &mut rng(1), now()) {
            Ok(x) => x,
            Err(f) => return (Err(f), None),
        };
    // Samba 4.17 answers a CHALLENGE with AF (not KK) and the AUTHENTICATE.
    let authenticate = unb64(&samba.ask_expect(&format!("TT {}", b64(&challenge)), "AF"));
    let result = server.on_authenticate(&authenticate);
    if result.is_err() {
        return (result, None);
    }
    let gk = hex::encode(unb64(&samba.ask_expect("GK", "GK")));
    let gf = flags_hex(&samba.ask_expect("GF", "GF"));
    (result, Some((gk, gf)))
}

/// Asserts an accepted Samba client: equal keys and flags, the response kind.
fn assert_samba_client_accepted(
    exe: &Path,
    options: &[&str],
    server: ServerSettings,
    kind: ResponseKind,
) -> ServerEstablished {
    let (result, samba) = samba_client_to_ntlmsim(exe, PASSWORD, options, server);
    let ours = result.unwrap_or_else(|f| panic!("ntlmsim refused Samba's client: {f}"));
    let (gk, gf) = samba.unwrap();
    let r = &ours.0.report;
    assert_eq!(r.response_kind, kind, "response kind");
    assert_eq!((r.user.as_str(), r.domain.as_str()), (USER, DOMAIN));
    assert_eq!(key_hex(&ours.0), gk, "ExportedSessionKey vs Samba GK");
    assert_flags(
        &format!("Samba client {options:?}"),
        r.flags,
        "Samba GF",
        gf,
        false,
    );
    assert!(r.signing() && r.sealing(), "SIGN and SEAL were requested");
    ours
}

#[test]
fn samba_client_ntlmv2_to_ntlmsim_server() {
    let Some(exe) = ntlm_auth("samba_client_ntlmv2_to_ntlmsim_server") else {
        return;
    };
    let ours = assert_samba_client_accepted(&exe, &[], server_settings(), ResponseKind::NtlmV2);
    assert!(
        ours.0.report.mic,
        "Samba sends a MIC, which ntlmsim verified"
    );
    assert!(
        ours.0
            .report
            .flags
            .contains(F::NEGOTIATE_KEY_EXCH | F::NEGOTIATE_128)
    );
    // Samba's NTLMv2 blob ends at MsvAvEOL, without the Z(4) of MS-NLMP
    // 3.1.5.1.2: ntlmsim verified the NTProofStr over the bytes received.
    let auth = AuthenticateMessage::parse(ours.0.transcript.authenticate()).unwrap();
    let v2 = NtlmV2Response::parse(auth.nt_response.as_deref().unwrap()).unwrap();
    assert!(v2.client_challenge.av_pairs.trailing().is_empty());
}

#[test]
fn samba_client_ntlm2_session_response_to_ntlmsim_server() {
    let Some(exe) = ntlm_auth("samba_client_ntlm2_session_response_to_ntlmsim_server") else {
        return;
    };
    assert_samba_client_accepted(
        &exe,
        &["client ntlmv2 auth=no"],
        server_settings(),
        ResponseKind::Ntlm2Session,
    );
}

#[test]
fn samba_client_ntlmv1_to_ntlmsim_server() {
    let Some(exe) = ntlm_auth("samba_client_ntlmv1_to_ntlmsim_server") else {
        return;
    };
    let options = ["client ntlmv2 auth=no", "ntlmssp_client:ntlm2=no"];
    let ours =
        assert_samba_client_accepted(&exe, &options, server_settings(), ResponseKind::NtlmV1);
    assert!(
        !ours
            .0
            .report
            .flags
            .contains(F::NEGOTIATE_EXTENDED_SESSIONSECURITY)
    );
    // A server requiring NTLMv2 session security (0x80000) refuses the
    // NEGOTIATE of a client that does not offer ESS (MS-NLMP 3.2.5.1.1).
    let mut server = server_settings();
    server.min = MinSessionSecurity::from_registry(0x0008_0000);
    let (result, _) = samba_client_to_ntlmsim(&exe, PASSWORD, &options, server);
    let f = expect_failure(result);
    assert_eq!(
        (f.side, f.stage, f.status),
        (
            Side::Server,
            Stage::Negotiate,
            Status::SecEUnsupportedFunction
        ),
        "{f}"
    );
    assert_eq!(f.missing, F::NEGOTIATE_EXTENDED_SESSIONSECURITY, "{f}");
}

#[test]
fn samba_client_40_bit_to_ntlmsim_server() {
    let Some(exe) = ntlm_auth("samba_client_40_bit_to_ntlmsim_server") else {
        return;
    };
    for (what, options) in [
        ("NTLMv2", &["ntlmssp_client:128bit=no"][..]),
        (
            "NTLM2 session response",
            &["ntlmssp_client:128bit=no", "client ntlmv2 auth=no"][..],
        ),
    ] {
        // The default NtlmMinServerSec (0x20000000, 128-bit) refuses the
        // NEGOTIATE: MS-NLMP 3.2.5.1.1, SEC_E_UNSUPPORTED_FUNCTION.
        let (result, samba) = samba_client_to_ntlmsim(&exe, PASSWORD, options, server_settings());
        let f = expect_failure(result);
        assert!(samba.is_none());
        assert_eq!(
            (f.side, f.stage, f.status),
            (
                Side::Server,
                Stage::Negotiate,
                Status::SecEUnsupportedFunction
            ),
            "{what}: {f}"
        );
        assert!(f.missing.contains(F::NEGOTIATE_128), "{what}: {f}");

        // With no minimum: 40-bit keys, equal on both sides.
        let mut server = server_settings();
        server.min = MinSessionSecurity::from_registry(0);
        let kind = if what == "NTLMv2" {
            ResponseKind::NtlmV2
        } else {
            ResponseKind::Ntlm2Session
        };
        let ours = assert_samba_client_accepted(&exe, options, server, kind);
        assert_eq!(ours.0.report.key_strength_bits(), 40, "{what}");
    }
}

#[test]
fn samba_client_wrong_password_refused_by_ntlmsim_server() {
    let Some(exe) = ntlm_auth("samba_client_wrong_password_refused_by_ntlmsim_server") else {
        return;
    };
    for options in [
        &[][..],
        &["client ntlmv2 auth=no"][..],
        &["client ntlmv2 auth=no", "ntlmssp_client:ntlm2=no"][..],
    ] {
        let (result, _) = samba_client_to_ntlmsim(&exe, "wrong", options, server_settings());
        let f = expect_failure(result);
        assert_eq!(
            (f.side, f.stage, f.status),
            (
                Side::Server,
                Stage::Authenticate,
                Status::StatusLogonFailure
            ),
            "{options:?}: {f}"
        );
    }
}

/// Runs an ntlmsim client against the Samba server helper. Returns Samba's
/// answer to the AUTHENTICATE and ntlmsim's established client.
fn ntlmsim_client_to_samba(
    exe: &Path,
    client: ClientSettings,
) -> (String, ClientEstablished, Peer, Scratch) {
    let dir = Scratch::new(env!("CARGO_TARGET_TMPDIR"), "peers");
    let mut samba = samba_server(exe, &dir);
    let (negotiate, client) = ntlm_session::Client::start(client).unwrap();
    let challenge = unb64(&samba.ask_expect(&format!("YR {}", b64(&negotiate)), "TT"));
    let (authenticate, client) = client
        .on_challenge(&challenge, &mut rng(2), now())
        .unwrap_or_else(|f| panic!("ntlmsim's client refused Samba's CHALLENGE: {f}"));
    let answer = samba.ask(&format!("KK {}", b64(&authenticate)));
    (answer, client, samba, dir)
}

fn assert_samba_server_accepts(exe: &Path, settings: ClientSettings, kind: ResponseKind) {
    let level = settings.config.lm_level.level();
    let (answer, client, mut samba, _dir) = ntlmsim_client_to_samba(exe, settings);
    assert_eq!(
        answer,
        format!("AF {DOMAIN}\\{USER}"),
        "Samba refused ntlmsim's client at level {level}; stderr: {}",
        samba.stderr()
    );
    let r = &client.0.report;
    assert_eq!(r.response_kind, kind, "level {level}");
    let gk = hex::encode(unb64(&samba.ask_expect("GK", "GK")));
    let gf = flags_hex(&samba.ask_expect("GF", "GF"));
    assert_eq!(
        key_hex(&client.0),
        gk,
        "level {level}: ExportedSessionKey vs Samba GK"
    );
    // ntlmsim's client copies the CHALLENGE flags, TARGET_INFO included, into
    // its AUTHENTICATE as Windows does (the MS-NLMP 4.2.2.3 AUTHENTICATE carries
    // 0x00800000);
    // Samba's acceptor adds TARGET_INFO only to the CHALLENGE it sends and
    // does not count it as negotiated (GF).
    assert_flags(
        &format!("ntlmsim client level {level}"),
        r.flags,
        "Samba GF",
        gf,
        true,
    );
    assert!(r.signing() && r.sealing());
}

#[test]
fn ntlmsim_client_ntlmv2_to_samba_server() {
    let Some(exe) = ntlm_auth("ntlmsim_client_ntlmv2_to_samba_server") else {
        return;
    };
    assert_samba_server_accepts(&exe, client_settings(PASSWORD, 3), ResponseKind::NtlmV2);
}

#[test]
fn ntlmsim_client_ntlmv1_levels_to_samba_server() {
    let Some(exe) = ntlm_auth("ntlmsim_client_ntlmv1_levels_to_samba_server") else {
        return;
    };
    // Level 1 asks for ESS, which Samba grants: the NTLM2 session response.
    assert_samba_server_accepts(
        &exe,
        client_settings(PASSWORD, 1),
        ResponseKind::Ntlm2Session,
    );
    // Level 0 as the XP messages show (the default reading): the same.
    assert_samba_server_accepts(
        &exe,
        client_settings(PASSWORD, 0),
        ResponseKind::Ntlm2Session,
    );
    // Level 0 as the policy text says: no ESS, NTLMv1 with the LM response.
    assert_samba_server_accepts(
        &exe,
        policy_text_level0(client_settings(PASSWORD, 0)),
        ResponseKind::NtlmV1,
    );
}

#[test]
fn ntlmsim_client_wrong_password_refused_by_samba_server() {
    let Some(exe) = ntlm_auth("ntlmsim_client_wrong_password_refused_by_samba_server") else {
        return;
    };
    for level in [3, 1, 0] {
        let (answer, ..) = ntlmsim_client_to_samba(&exe, client_settings("wrong", level));
        assert_eq!(
            answer, "NA NT_STATUS_LOGON_FAILURE",
            "level {level}: Samba must refuse a wrong password"
        );
    }
}

/// The key-exchange matrix of the ntlmsim client against Samba's server
/// (`tests/helper_samba.rs` has the Samba client's side and tables both):
///
/// | security | key strength offered | level (response) | Samba | ntlmsim's `samba-4` server reading |
/// |---|---|---|---|---|
/// | none, integrity, integrity + confidentiality | 128, 56, 40 (neither; NTLMv1 without ESS or LM_KEY seals with the whole key) | 3 (NTLMv2), 1 (NTLM2 session), 0 (NTLMv1; level 0 read as `level0-ess=never`) | `AF`, same `GK` | accepts, same key |
/// | none | 128 | 3, 1, 0 with the `sign-or-seal` rule (no key sent) | `NA NT_STATUS_INVALID_PARAMETER` | refuses: `auth-key-exch` |
/// | integrity + confidentiality | 128 | 3, 1, 0 with the `never` rule | `NA NT_STATUS_INVALID_PARAMETER` | refuses: `auth-key-exch` |
///
/// Every client here offers KEY_EXCH, and Samba's server returns it.
#[test]
fn ntlmsim_client_key_exchange_matrix_to_samba_server() {
    let Some(exe) = ntlm_auth("ntlmsim_client_key_exchange_matrix_to_samba_server") else {
        return;
    };
    let client =
        |rule: KeyExchange, level: u8, integrity: bool, confidentiality: bool, strength: F| {
            let mut c = ClientSettings::new(Credentials::password(USER, DOMAIN, PASSWORD));
            c.min = MinSessionSecurity::from_registry(0);
            c.config.lm_level = LmCompatibilityLevel::from_u8(level).unwrap();
            c.config.offer = F::NEGOTIATE_KEY_EXCH | F::NEGOTIATE_VERSION | strength;
            c.config.integrity = integrity;
            c.config.confidentiality = confidentiality;
            c.key_exchange = rule;
            // Level 0 as the policy text reads it: the NTLMv1 path.
            policy_text_level0(c)
        };
    // ntlmsim's reading of Samba's server, at level 2 as ntlm_auth
    // --password accepts NTLMv1.
    let model = || {
        let mut s = server_settings();
        s.min = MinSessionSecurity::from_registry(0);
        s.config.lm_level = LmCompatibilityLevel::L2;
        s.key_exchange = ServerKeyExchange::Negotiated;
        s
    };
    let kinds = [
        (3, ResponseKind::NtlmV2),
        (1, ResponseKind::Ntlm2Session),
        (0, ResponseKind::NtlmV1),
    ];
    let mut cases = 0;
    for (security, integrity, confidentiality) in [
        ("no SIGN or SEAL", false, false),
        ("integrity", true, false),
        ("integrity and confidentiality", true, true),
    ] {
        for (bits, strength) in [
            (128, F::NEGOTIATE_128),
            (56, F::NEGOTIATE_56),
            (40, F::empty()),
        ] {
            for (level, kind) in kinds {
                let what = format!("level {level}, {bits}-bit, {security}");
                let settings = client(
                    KeyExchange::Negotiated,
                    level,
                    integrity,
                    confidentiality,
                    strength,
                );
                let (answer, established, mut samba, _dir) =
                    ntlmsim_client_to_samba(&exe, settings.clone());
                assert_eq!(
                    answer,
                    format!("AF {DOMAIN}\\{USER}"),
                    "{what}; Samba stderr: {}",
                    samba.stderr()
                );
                let r = &established.0.report;
                assert_eq!(r.response_kind, kind, "{what}");
                assert_eq!(
                    r.flags & (F::NEGOTIATE_128 | F::NEGOTIATE_56),
                    strength,
                    "{what}"
                );
                // The sealing key has the offered strength with ESS; NTLMv1
                // without ESS or LM_KEY seals with the whole key (MS-NLMP 3.4.5.3).
                if kind != ResponseKind::NtlmV1 {
                    assert_eq!(r.key_strength_bits(), bits, "{what}");
                }
                assert_eq!(
                    (r.signing(), r.sealing()),
                    (integrity, confidentiality),
                    "{what}"
                );
                assert!(r.flags.contains(F::NEGOTIATE_KEY_EXCH), "{what}");
                let gk = hex::encode(unb64(&samba.ask_expect("GK", "GK")));
                assert_eq!(
                    key_hex(&established.0),
                    gk,
                    "{what}: ExportedSessionKey vs Samba GK"
                );
                let gf = flags_hex(&samba.ask_expect("GF", "GF"));
                assert_flags(&what, r.flags, "Samba GF", gf, true);
                // ntlmsim's model of Samba's server agrees.
                let ex = ntlm_session::Pair {
                    client: settings,
                    server: model(),
                }
                .run(&mut rng(9), now(), ntlm_session::Fixed::default());
                let (c, s) = ex
                    .outcome
                    .unwrap_or_else(|f| panic!("{what}: ntlmsim's samba-4 reading refused: {f}"));
                assert_eq!(c.exported_session_key(), s.exported_session_key(), "{what}");
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 27);

    // A client that sends no key where Samba wants one: Samba and ntlmsim's
    // reading of it refuse alike.
    for (rule, integrity, confidentiality) in [
        (KeyExchange::WithSignOrSeal, false, false),
        (KeyExchange::Never, true, true),
    ] {
        for (level, _) in kinds {
            let what = format!("level {level}, client rule {}", rule.name());
            let settings = client(rule, level, integrity, confidentiality, F::NEGOTIATE_128);
            let (answer, ..) = ntlmsim_client_to_samba(&exe, settings.clone());
            assert_eq!(answer, "NA NT_STATUS_INVALID_PARAMETER", "{what}");
            let ex = ntlm_session::Pair {
                client: settings,
                server: model(),
            }
            .run(&mut rng(9), now(), ntlm_session::Fixed::default());
            let f = expect_failure(ex.outcome);
            assert_eq!(
                (f.side, f.stage, f.rule.id),
                (Side::Server, Stage::Authenticate, "auth-key-exch"),
                "{what}: {f}"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// pyspnego
// ---------------------------------------------------------------------------

/// A pyspnego context (`client` or `server`) at LM_COMPAT_LEVEL `level`.
fn pyspnego(python: &Path, dir: &Scratch, role: &str, level: u8, password: &str) -> Peer {
    let users = dir.write("ntlm_users", &format!("{DOMAIN}:{USER}:{PASSWORD}\n"));
    let mut cmd = Command::new(python);
    cmd.arg(driver("pyspnego_peer.py"))
        .arg(role)
        .env("NTLM_USER_FILE", users)
        .env("LM_COMPAT_LEVEL", level.to_string());
    if role == "client" {
        cmd.arg(format!("{DOMAIN}\\{USER}")).arg(password);
    }
    let mut peer = Peer::spawn(&format!("pyspnego {role}"), cmd);
    let ready = peer.recv();
    assert_eq!(
        ready,
        "READY",
        "pyspnego did not start; stderr: {}",
        peer.stderr()
    );
    peer
}

/// A pyspnego initiator at `level` against an ntlmsim server.
fn pyspnego_client_to_ntlmsim(test: &str, level: u8, server: ServerSettings) {
    let Some(python) = venv_python(test) else {
        return;
    };
    let dir = Scratch::new(env!("CARGO_TARGET_TMPDIR"), "peers");
    let mut py = pyspnego(&python, &dir, "client", level, PASSWORD);
    let negotiate = unb64(&py.ask_expect("STEP -", "TOK"));
    let (challenge, server) = Server::start(server)
        .on_negotiate(&negotiate, &mut rng(3), now())
        .unwrap_or_else(|f| panic!("level {level}: ntlmsim refused pyspnego's NEGOTIATE: {f}"));
    let authenticate = unb64(&py.ask_expect(&format!("STEP {}", b64(&challenge)), "TOK"));
    assert_eq!(py.ask("COMPLETE"), "COMPLETE 1");
    let mut ours = server
        .on_authenticate(&authenticate)
        .unwrap_or_else(|f| panic!("level {level}: ntlmsim refused pyspnego's AUTHENTICATE: {f}"));
    let r = &ours.0.report;
    let kind = match level {
        0 => ResponseKind::NtlmV1,
        1 | 2 => ResponseKind::Ntlm2Session,
        _ => ResponseKind::NtlmV2,
    };
    assert_eq!(r.response_kind, kind, "level {level}");
    assert_eq!(
        r.mic,
        level >= 3,
        "level {level}: pyspnego sends a MIC with NTLMv2"
    );
    assert_eq!(
        key_hex(&ours.0),
        py.ask_expect("KEY", "KEY"),
        "level {level}: session keys"
    );
    let py_flags = flags_hex(&py.ask_expect("FLAGS", "FLAGS"));
    assert_flags(
        &format!("pyspnego client level {level}"),
        r.flags,
        "pyspnego",
        py_flags,
        false,
    );
    check_session_security(&mut ours.0, &mut py);
}

#[test]
fn pyspnego_client_level_0_to_ntlmsim_server() {
    pyspnego_client_to_ntlmsim(
        "pyspnego_client_level_0_to_ntlmsim_server",
        0,
        server_settings(),
    );
}

#[test]
fn pyspnego_client_level_1_to_ntlmsim_server() {
    pyspnego_client_to_ntlmsim(
        "pyspnego_client_level_1_to_ntlmsim_server",
        1,
        server_settings(),
    );
}

#[test]
fn pyspnego_client_level_2_to_ntlmsim_server() {
    pyspnego_client_to_ntlmsim(
        "pyspnego_client_level_2_to_ntlmsim_server",
        2,
        server_settings(),
    );
}

#[test]
fn pyspnego_client_level_3_to_ntlmsim_server() {
    pyspnego_client_to_ntlmsim(
        "pyspnego_client_level_3_to_ntlmsim_server",
        3,
        server_settings(),
    );
}

#[test]
fn pyspnego_client_levels_4_and_5_to_ntlmsim_server_at_level_5() {
    for level in [4, 5] {
        let mut server = server_settings();
        server.config.lm_level = LmCompatibilityLevel::L5;
        pyspnego_client_to_ntlmsim(
            "pyspnego_client_levels_4_and_5_to_ntlmsim_server_at_level_5",
            level,
            server,
        );
    }
}

#[test]
fn pyspnego_client_ntlm2_session_refused_by_ntlmsim_server_at_level_5() {
    let Some(python) =
        venv_python("pyspnego_client_ntlm2_session_refused_by_ntlmsim_server_at_level_5")
    else {
        return;
    };
    let dir = Scratch::new(env!("CARGO_TARGET_TMPDIR"), "peers");
    let mut py = pyspnego(&python, &dir, "client", 2, PASSWORD);
    let mut server = server_settings();
    server.config.lm_level = LmCompatibilityLevel::L5;
    let negotiate = unb64(&py.ask_expect("STEP -", "TOK"));
    let (challenge, server) = Server::start(server)
        .on_negotiate(&negotiate, &mut rng(4), now())
        .unwrap();
    let authenticate = unb64(&py.ask_expect(&format!("STEP {}", b64(&challenge)), "TOK"));
    let f = expect_failure(server.on_authenticate(&authenticate));
    assert_eq!(
        (f.side, f.stage),
        (Side::Server, Stage::Authenticate),
        "{f}"
    );
    assert_eq!(f.rule.id, "lm-refuse-ntlmv1", "{f}");
}

/// An ntlmsim client at `level` against a pyspnego acceptor at level 3.
fn ntlmsim_client_to_pyspnego(test: &str, settings: ClientSettings, kind: ResponseKind) {
    let Some(python) = venv_python(test) else {
        return;
    };
    let level = settings.config.lm_level.level();
    let dir = Scratch::new(env!("CARGO_TARGET_TMPDIR"), "peers");
    let mut py = pyspnego(&python, &dir, "server", 3, PASSWORD);
    let (negotiate, client) = ntlm_session::Client::start(settings).unwrap();
    let challenge = unb64(&py.ask_expect(&format!("STEP {}", b64(&negotiate)), "TOK"));
    let (authenticate, mut client) = client
        .on_challenge(&challenge, &mut rng(5), now())
        .unwrap_or_else(|f| panic!("level {level}: ntlmsim refused pyspnego's CHALLENGE: {f}"));
    assert_eq!(
        py.ask(&format!("STEP {}", b64(&authenticate))),
        "NONE",
        "level {level}: pyspnego refused ntlmsim's AUTHENTICATE"
    );
    assert_eq!(py.ask("COMPLETE"), "COMPLETE 1");
    assert_eq!(
        py.ask_expect("PRINCIPAL", "PRINCIPAL"),
        format!("{DOMAIN}\\{USER}")
    );
    let r = &client.0.report;
    assert_eq!(r.response_kind, kind, "level {level}");
    assert_eq!(
        key_hex(&client.0),
        py.ask_expect("KEY", "KEY"),
        "level {level}: session keys"
    );
    let py_flags = flags_hex(&py.ask_expect("FLAGS", "FLAGS"));
    assert_flags(
        &format!("ntlmsim client level {level}"),
        r.flags,
        "pyspnego",
        py_flags,
        false,
    );
    check_session_security(&mut client.0, &mut py);
}

#[test]
fn ntlmsim_client_ntlmv2_to_pyspnego_server() {
    ntlmsim_client_to_pyspnego(
        "ntlmsim_client_ntlmv2_to_pyspnego_server",
        client_settings(PASSWORD, 3),
        ResponseKind::NtlmV2,
    );
}

#[test]
fn ntlmsim_client_ntlm2_session_to_pyspnego_server() {
    ntlmsim_client_to_pyspnego(
        "ntlmsim_client_ntlm2_session_to_pyspnego_server",
        client_settings(PASSWORD, 1),
        ResponseKind::Ntlm2Session,
    );
    // Level 0 as the XP messages show (the default reading): the same.
    ntlmsim_client_to_pyspnego(
        "ntlmsim_client_ntlm2_session_to_pyspnego_server",
        client_settings(PASSWORD, 0),
        ResponseKind::Ntlm2Session,
    );
}

#[test]
fn ntlmsim_client_ntlmv1_to_pyspnego_server() {
    ntlmsim_client_to_pyspnego(
        "ntlmsim_client_ntlmv1_to_pyspnego_server",
        policy_text_level0(client_settings(PASSWORD, 0)),
        ResponseKind::NtlmV1,
    );
}

#[test]
fn ntlmsim_client_wrong_password_refused_by_pyspnego_server() {
    let Some(python) = venv_python("ntlmsim_client_wrong_password_refused_by_pyspnego_server")
    else {
        return;
    };
    for level in [3, 1, 0] {
        let dir = Scratch::new(env!("CARGO_TARGET_TMPDIR"), "peers");
        let mut py = pyspnego(&python, &dir, "server", 3, PASSWORD);
        let (negotiate, client) =
            ntlm_session::Client::start(client_settings("wrong", level)).unwrap();
        let challenge = unb64(&py.ask_expect(&format!("STEP {}", b64(&negotiate)), "TOK"));
        let (authenticate, _) = client.on_challenge(&challenge, &mut rng(6), now()).unwrap();
        let answer = py.ask(&format!("STEP {}", b64(&authenticate)));
        assert!(
            answer.starts_with("ERR InvalidTokenError")
                && answer.ends_with("Invalid NTLM response from initiator"),
            "level {level}: pyspnego must refuse a wrong password, got `{answer}`"
        );
        assert_eq!(py.ask("COMPLETE"), "COMPLETE 0");
    }
}

// ---------------------------------------------------------------------------
// impacket
// ---------------------------------------------------------------------------

fn impacket(python: &Path) -> Peer {
    let mut cmd = Command::new(python);
    cmd.arg(driver("impacket_peer.py"));
    let mut peer = Peer::spawn("impacket", cmd);
    let ready = peer.recv();
    assert_eq!(
        ready,
        "READY",
        "impacket did not start; stderr: {}",
        peer.stderr()
    );
    peer
}

/// impacket's NEGOTIATE (`v1`/`v2`, signing, optional exact flags) and its
/// AUTHENTICATE built against ntlmsim's CHALLENGE. Returns ntlmsim's
/// result, the AUTHENTICATE and impacket's exportedSessionKey.
fn impacket_to_ntlmsim(
    py: &mut Peer,
    negotiate_args: &str,
    version: &str,
    password: &str,
) -> (Result<ServerEstablished, Failure>, Vec<u8>, String) {
    let negotiate = unb64(&py.ask_expect(&format!("NEGOTIATE {negotiate_args}"), "NEGOTIATE"));
    let (challenge, server) = Server::start(server_settings())
        .on_negotiate(&negotiate, &mut rng(8), now())
        .unwrap_or_else(|f| panic!("ntlmsim refused impacket's NEGOTIATE ({negotiate_args}): {f}"));
    let answer = py.ask_expect(
        &format!(
            "AUTHENTICATE {version} {} {USER} {password} {DOMAIN}",
            b64(&challenge)
        ),
        "AUTHENTICATE",
    );
    let (auth, key) = answer.split_once(' ').unwrap();
    let authenticate = unb64(auth);
    (
        server.on_authenticate(&authenticate),
        authenticate,
        key.to_owned(),
    )
}

#[test]
fn impacket_ntlmv2_without_trailing_z4_accepted() {
    let Some(python) = venv_python("impacket_ntlmv2_without_trailing_z4_accepted") else {
        return;
    };
    let mut py = impacket(&python);
    for negotiate_args in ["v2 NOSIGN", "v2 SIGN"] {
        let (result, authenticate, key) =
            impacket_to_ntlmsim(&mut py, negotiate_args, "v2", PASSWORD);
        // impacket's NTLMv2 blob ends at MsvAvEOL: no trailing Z(4)
        // (MS-NLMP 3.1.5.1.2 ends the blob with Z(4)). The NTProofStr covers
        // the bytes sent, so it must verify as received (MS-NLMP 3.3.2).
        let auth = AuthenticateMessage::parse(&authenticate).unwrap();
        let nt = auth.nt_response.as_deref().unwrap();
        let v2 = NtlmV2Response::parse(nt).unwrap();
        assert!(
            v2.client_challenge.av_pairs.trailing().is_empty(),
            "{negotiate_args}: impacket 0.13 sends no Z(4) after MsvAvEOL"
        );
        let ours = result.unwrap_or_else(|f| panic!("{negotiate_args}: ntlmsim refused: {f}"));
        let r = &ours.0.report;
        assert_eq!(r.response_kind, ResponseKind::NtlmV2);
        assert!(!r.mic, "impacket computes no MIC");
        assert_eq!(
            key_hex(&ours.0),
            key,
            "{negotiate_args}: exported session keys"
        );
        assert_eq!(
            r.flags.contains(F::NEGOTIATE_KEY_EXCH | F::NEGOTIATE_SEAL),
            negotiate_args.ends_with(" SIGN")
        );
    }
}

#[test]
fn impacket_ntlmv1_and_ntlm2_session_accepted() {
    let Some(python) = venv_python("impacket_ntlmv1_and_ntlm2_session_accepted") else {
        return;
    };
    let mut py = impacket(&python);
    for (negotiate_args, kind) in [
        // ESS in the NEGOTIATE (0xa0080205): the NTLM2 session response.
        ("v1 NOSIGN", ResponseKind::Ntlm2Session),
        ("v1 SIGN", ResponseKind::Ntlm2Session),
        // No ESS, KEY_EXCH with SIGN and SEAL.
        ("v1 NOSIGN e0008235", ResponseKind::NtlmV1),
        // No ESS, no KEY_EXCH: the key is the SessionBaseKey itself.
        ("v1 NOSIGN a0000205", ResponseKind::NtlmV1),
    ] {
        let (result, _, key) = impacket_to_ntlmsim(&mut py, negotiate_args, "v1", PASSWORD);
        let ours = result.unwrap_or_else(|f| panic!("{negotiate_args}: ntlmsim refused: {f}"));
        assert_eq!(ours.0.report.response_kind, kind, "{negotiate_args}");
        assert_eq!(
            key_hex(&ours.0),
            key,
            "{negotiate_args}: exported session keys"
        );
        if negotiate_args.ends_with("a0000205") {
            // KXKEY without ESS, LM_KEY or NON_NT_SESSION_KEY is the
            // SessionBaseKey MD4(NTOWFv1) (MS-NLMP 3.4.5.1).
            assert_eq!(key, NTLMV1_SESSION_BASE_KEY);
        }
    }
}

#[test]
fn impacket_wrong_password_refused() {
    let Some(python) = venv_python("impacket_wrong_password_refused") else {
        return;
    };
    let mut py = impacket(&python);
    for (negotiate_args, version) in [
        ("v2 NOSIGN", "v2"),
        ("v1 NOSIGN", "v1"),
        ("v1 NOSIGN a0000205", "v1"),
    ] {
        let (result, ..) = impacket_to_ntlmsim(&mut py, negotiate_args, version, "wrong");
        let f = expect_failure(result);
        assert_eq!(
            (f.side, f.stage, f.status),
            (
                Side::Server,
                Stage::Authenticate,
                Status::StatusLogonFailure
            ),
            "{negotiate_args}: {f}"
        );
    }
}
