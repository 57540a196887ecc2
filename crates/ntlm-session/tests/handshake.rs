//! Complete exchanges: success with working session security, every failure
//! path asserted field by field, policy matrices and properties.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

mod common;

use std::borrow::Cow;

use common::{NOW, alice, rng, server};
use ntlm_crypto::{
    ExportedSessionKey, KeyExchange, mic, ntlmv2_session_base_key, ntowfv2_password,
};
use ntlm_policy::{Failure, LmCompatibilityLevel, MinSessionSecurity, Side, Stage, Status};
use ntlm_session::{
    ChannelBindings, ClientSettings, Credentials, Exchange, Fixed, Pair, ServerKeyExchange,
    ServerSettings,
};
use ntlm_wire::{
    AuthenticateMessage, AvId, AvPairs, ChallengeMessage, MIC_LEN, MIC_OFFSET, NegotiateFlags as F,
};
use proptest::prelude::*;

fn run(client: ClientSettings, server: ServerSettings) -> Exchange {
    Pair { client, server }.run(&mut rng(7), NOW, Fixed::default())
}

fn run_tampered(
    client: ClientSettings,
    server: ServerSettings,
    mut mitm: impl FnMut(Stage, &mut Vec<u8>),
) -> Exchange {
    Pair { client, server }.run_tampered(&mut rng(7), NOW, Fixed::default(), &mut mitm)
}

fn failure(ex: Exchange) -> Failure {
    match ex.outcome {
        Err(f) => f,
        Ok((_, s)) => panic!("expected a failure, got {:?}", s.report),
    }
}

fn sign_seal(mut c: ClientSettings) -> ClientSettings {
    c.config.integrity = true;
    c.config.confidentiality = true;
    c
}

fn min(v: u32) -> MinSessionSecurity {
    MinSessionSecurity::from_registry(v)
}

#[test]
fn modern_handshake_with_mic_sign_and_seal() {
    let ex = run(sign_seal(alice()), server());
    let neg = ex.negotiate.as_ref().unwrap().0.clone();
    let (mut c, mut s) = ex.outcome.unwrap();
    assert_eq!(c.exported_session_key(), s.exported_session_key());
    assert_eq!(s.report.response_kind.as_str(), "NTLMv2");
    assert!(s.report.mic, "a timestamp was sent, so the MIC is verified");
    assert!(s.report.signing() && s.report.sealing());
    assert_eq!(s.report.key_strength_bits(), 128);
    assert_eq!(s.report.user, "alice");
    assert!(
        s.report
            .flags
            .contains(F::NEGOTIATE_KEY_EXCH | F::NEGOTIATE_EXTENDED_SESSIONSECURITY)
    );
    assert_eq!(s.transcript.negotiate(), neg);
    // Client → server and server → client, sealed and signed.
    for i in 0..3 {
        let mut m = format!("message {i}").into_bytes();
        let sig = c.security.seal(&mut m).unwrap();
        s.security.unseal(&mut m, &sig).unwrap();
        assert_eq!(m, format!("message {i}").into_bytes());
        let sig = s.security.sign(b"reply").unwrap();
        c.security.verify(b"reply", &sig).unwrap();
    }
    // A replayed signature fails.
    let sig = c.security.sign(b"x").unwrap();
    s.security.verify(b"x", &sig).unwrap();
    assert!(s.security.verify(b"x", &sig).is_err());
}

#[test]
fn client_128_required_but_challenge_lacks_it() {
    let mut srv = server();
    srv.config.supported.remove(F::NEGOTIATE_128);
    srv.min = min(0);
    let mut c = alice();
    c.min = min(0x2000_0000);
    // The default (calibrated) reading needs SEAL for 0x20000000 to fail
    // (KB239869): without it the exchange succeeds.
    assert!(run(c.clone(), srv.clone()).outcome.is_ok());
    // The strict ms-nlmp reading refuses it on receipt of the CHALLENGE.
    c.semantics = ntlm_policy::Semantics::MS_NLMP;
    let f = failure(run(c, srv));
    assert_eq!((f.side, f.stage), (Side::Client, Stage::Challenge));
    assert_eq!(f.status, Status::SecEUnsupportedFunction);
    assert_eq!(f.status.code(), 0x8009_0302);
    assert_eq!(f.missing, F::NEGOTIATE_128);
    assert!(!f.negotiated.contains(F::NEGOTIATE_128));
    assert_eq!(f.rule.id, "min-128-client");
}

#[test]
fn old_client_without_ess_against_hardened_server() {
    // 0x02818205: UNICODE, REQUEST_TARGET, NTLM, ALWAYS_SIGN, TARGET_TYPE_DOMAIN,
    // TARGET_INFO, VERSION; neither EXTENDED_SESSIONSECURITY nor 128.
    let mut c = alice();
    c.config.flags_override = Some(F::from_bits_retain(0x0281_8205));
    let mut srv = server();
    srv.min = min(0x2008_0000);
    let ex = run(c, srv);
    assert!(ex.challenge.is_none(), "no CHALLENGE is sent");
    let f = failure(ex);
    assert_eq!((f.side, f.stage), (Side::Server, Stage::Negotiate));
    assert_eq!(f.status, Status::SecEUnsupportedFunction);
    // Without SEAL only the missing ESS counts under the default reading, as
    // the server's event in microsoft/mssql-jdbc#1180 shows.
    assert_eq!(f.missing, F::NEGOTIATE_EXTENDED_SESSIONSECURITY);
    assert_eq!(f.required.bits(), 0x2008_0000);
}

#[test]
fn lm_level_2_client_against_level_5_server() {
    let mut c = alice();
    c.config.lm_level = LmCompatibilityLevel::L2;
    let mut srv = server();
    srv.config.lm_level = LmCompatibilityLevel::L5;
    let f = failure(run(c, srv));
    assert_eq!((f.side, f.stage), (Side::Server, Stage::Authenticate));
    assert_eq!(f.rule.id, "lm-refuse-ntlmv1");
    assert!(!f.status.name().is_empty());
}

#[test]
fn wrong_password_is_refused_whatever_the_flags() {
    for sign in [false, true] {
        let mut c = ClientSettings::new(Credentials::password("alice", "TESTDOM", "wrong"));
        c.config.integrity = sign;
        let f = failure(run(c, server()));
        assert_eq!((f.side, f.stage), (Side::Server, Stage::Authenticate));
        assert_eq!(f.status, Status::StatusLogonFailure);
        assert_eq!(f.status.code(), 0xC000_006D);
        assert_eq!(f.rule.id, "auth-response");
    }
}

#[test]
fn unknown_user_is_refused() {
    let c = ClientSettings::new(Credentials::password("mallory", "TESTDOM", "x"));
    let f = failure(run(c, server()));
    assert_eq!(f.rule.id, "auth-response");
}

#[test]
fn malformed_authenticate_is_invalid_parameter() {
    let f = failure(run_tampered(alice(), server(), |stage, m| {
        if stage == Stage::Authenticate {
            m.truncate(40);
        }
    }));
    assert_eq!((f.side, f.stage), (Side::Server, Stage::Authenticate));
    assert_eq!(f.status, Status::StatusInvalidParameter);
    assert_eq!(f.rule.id, "decode-malformed");
    assert!(f.reason().to_string().contains("offset"), "{}", f.reason());
}

#[test]
fn malformed_challenge_fails_the_client() {
    let f = failure(run_tampered(alice(), server(), |stage, m| {
        if stage == Stage::Challenge {
            m[8] = 9;
        }
    }));
    assert_eq!((f.side, f.stage), (Side::Client, Stage::Challenge));
    assert_eq!(f.rule.id, "decode-malformed");
}

#[test]
fn no_charset_is_invalid_token() {
    let mut c = alice();
    c.config.flags_override = Some(F::NEGOTIATE_NTLM | F::REQUEST_TARGET);
    let f = failure(run(c, server()));
    assert_eq!((f.side, f.stage), (Side::Server, Stage::Negotiate));
    assert_eq!(f.status, Status::SecEInvalidToken);
}

#[test]
fn blocked_server_and_client() {
    let mut srv = server();
    srv.config.blocked = true;
    let f = failure(run(alice(), srv));
    assert_eq!(
        (f.side, f.stage, f.status),
        (Side::Server, Stage::Negotiate, Status::StatusNotSupported)
    );
    let mut c = alice();
    c.config.blocked = true;
    let ex = run(c, server());
    assert!(ex.negotiate.is_none());
    let f = failure(ex);
    assert_eq!(
        (f.side, f.stage, f.status),
        (Side::Client, Stage::Negotiate, Status::StatusNotSupported)
    );
}

#[test]
fn key_exch_without_key_is_invalid_token() {
    let f = failure(run_tampered(sign_seal(alice()), server(), |stage, m| {
        if stage == Stage::Authenticate {
            let mut a = AuthenticateMessage::parse(m).unwrap().into_owned();
            a.encrypted_random_session_key = Some(Cow::Owned(vec![]));
            *m = a.to_vec().unwrap();
        }
    }));
    assert_eq!((f.side, f.stage), (Side::Server, Stage::Authenticate));
    assert_eq!(f.status, Status::SecEInvalidToken);
    assert_eq!(f.rule.id, "auth-key-exch");
}

/// A client that negotiates KEY_EXCH without SIGN or SEAL, under `rule`.
fn key_exch_only(rule: KeyExchange, send_mic: bool) -> ClientSettings {
    let mut c = alice();
    c.config.offer |= F::NEGOTIATE_KEY_EXCH;
    c.key_exchange = rule;
    c.send_mic = send_mic;
    c
}

fn server_reading(mode: ServerKeyExchange) -> ServerSettings {
    let mut s = server();
    s.key_exchange = mode;
    s
}

/// What became of an exchange: both keys equal, accepted with different
/// keys, or refused under a rule.
#[derive(Debug, PartialEq, Eq)]
enum KeyOutcome {
    Same,
    Different,
    Refused(&'static str),
}

fn key_outcome(ex: Exchange) -> KeyOutcome {
    match ex.outcome {
        Ok((c, s)) => {
            assert!(
                s.report.flags.contains(F::NEGOTIATE_KEY_EXCH)
                    && !s.report.signing()
                    && !s.report.sealing(),
                "{:#010x}",
                s.report.flags.bits()
            );
            if c.exported_session_key() == s.exported_session_key() {
                KeyOutcome::Same
            } else {
                KeyOutcome::Different
            }
        }
        Err(f) => KeyOutcome::Refused(f.rule.id),
    }
}

#[test]
fn key_exchange_without_sign_or_seal_under_each_reading() {
    use KeyOutcome::{Different, Refused, Same};
    use ServerKeyExchange as S;
    let neg = KeyExchange::Negotiated;
    let pseudo = KeyExchange::WithSignOrSeal;
    for (rule, send_mic, server, want) in [
        // Samba's client: a 16-byte key, which it uses.
        (neg, true, S::Negotiated, Same),
        (neg, false, S::Negotiated, Same),
        (neg, true, S::MicDecides, Same),
        (neg, false, S::MicDecides, Same),
        // The pseudocode's server ignores the key: the MIC exposes it, and
        // without a MIC the two sides silently disagree.
        (neg, true, S::WithSignOrSeal, Refused("auth-mic")),
        (neg, false, S::WithSignOrSeal, Different),
        // pyspnego's and curl's clients: no key, the KeyExchangeKey.
        (pseudo, true, S::Negotiated, Refused("auth-key-exch")),
        (pseudo, true, S::WithSignOrSeal, Same),
        (pseudo, true, S::MicDecides, Same),
        (pseudo, false, S::MicDecides, Same),
        (
            KeyExchange::Never,
            false,
            S::Negotiated,
            Refused("auth-key-exch"),
        ),
        (KeyExchange::Never, false, S::MicDecides, Same),
    ] {
        let got = key_outcome(run(key_exch_only(rule, send_mic), server_reading(server)));
        assert_eq!(
            got,
            want,
            "client {}, MIC {send_mic}, server {}",
            rule.name(),
            server.name()
        );
    }
}

#[test]
fn with_sign_or_seal_every_reading_needs_the_key() {
    for server in [
        ServerKeyExchange::Negotiated,
        ServerKeyExchange::WithSignOrSeal,
        ServerKeyExchange::MicDecides,
    ] {
        let mut c = sign_seal(alice());
        c.key_exchange = KeyExchange::Never;
        let f = failure(run(c, server_reading(server)));
        assert_eq!(f.rule.id, "auth-key-exch", "{}", server.name());
        let (c, s) = run(sign_seal(alice()), server_reading(server))
            .outcome
            .unwrap();
        assert_eq!(c.exported_session_key(), s.exported_session_key());
    }
}

/// A client that sends a 16-byte EncryptedRandomSessionKey but keys its MIC
/// (and its session) with the KeyExchangeKey: only the MIC tells the server
/// which candidate the client used.
#[test]
fn the_mic_decides_between_the_candidate_keys() {
    let run_with_decoy = |server: ServerKeyExchange| {
        let (mut neg, mut chal) = (Vec::new(), Vec::new());
        run_tampered(
            key_exch_only(KeyExchange::WithSignOrSeal, true),
            server_reading(server),
            |stage, m| match stage {
                Stage::Negotiate => neg.clone_from(m),
                Stage::Challenge => chal.clone_from(m),
                Stage::Authenticate => {
                    let mut a = AuthenticateMessage::parse(m).unwrap().into_owned();
                    a.encrypted_random_session_key = Some(Cow::Owned(vec![0x42; 16]));
                    a.mic = Some([0; MIC_LEN]);
                    let proof: [u8; 16] =
                        a.nt_response.as_deref().unwrap()[..16].try_into().unwrap();
                    let mut bytes = a.to_vec().unwrap();
                    // NTLMv2: the KeyExchangeKey is the SessionBaseKey.
                    let key = ntowfv2_password("Passw0rd!", "alice", "TESTDOM");
                    let kxk = ntlmv2_session_base_key(&key, &proof);
                    let esk = ExportedSessionKey::from_bytes(*kxk.as_bytes());
                    let m2 = mic(&esk, &neg, &chal, &bytes);
                    bytes[MIC_OFFSET..MIC_OFFSET + MIC_LEN].copy_from_slice(m2.as_bytes());
                    *m = bytes;
                }
            },
        )
    };
    let ex = run_with_decoy(ServerKeyExchange::MicDecides);
    let (c, s) = ex.outcome.unwrap();
    assert_eq!(c.exported_session_key(), s.exported_session_key());
    assert!(s.report.mic);
    assert_eq!(
        key_outcome(run_with_decoy(ServerKeyExchange::WithSignOrSeal)),
        KeyOutcome::Same
    );
    // Samba's reading decrypts the decoy, under which the MIC fails.
    assert_eq!(
        key_outcome(run_with_decoy(ServerKeyExchange::Negotiated)),
        KeyOutcome::Refused("auth-mic")
    );
    // A MIC that verifies under neither candidate is refused.
    let f = failure(run_tampered(
        key_exch_only(KeyExchange::Negotiated, true),
        server(),
        |stage, m| {
            if stage == Stage::Authenticate {
                m[MIC_OFFSET] ^= 1;
            }
        },
    ));
    assert_eq!(f.rule.id, "auth-mic");
}

#[test]
fn altered_negotiate_fails_the_mic() {
    // Clear SIGN from the NEGOTIATE in flight: the client's MIC covers what it sent.
    let f = failure(run_tampered(sign_seal(alice()), server(), |stage, m| {
        if stage == Stage::Negotiate {
            m[12] &= !0x10;
        }
    }));
    assert_eq!((f.side, f.stage), (Side::Server, Stage::Authenticate));
    assert_eq!(f.status, Status::StatusInvalidParameter);
    assert_eq!(f.rule.id, "auth-mic");
}

#[test]
fn dropped_mic_is_refused() {
    // CVE-2019-1040: remove the MIC (and Version), keep MsvAvFlags = 2.
    let f = failure(run_tampered(alice(), server(), |stage, m| {
        if stage == Stage::Authenticate {
            let mut a = AuthenticateMessage::parse(m).unwrap().into_owned();
            a.mic = None;
            a.version = None;
            a.flags.remove(F::NEGOTIATE_VERSION);
            *m = a.to_vec().unwrap();
        }
    }));
    assert_eq!(f.rule.id, "auth-mic-present");
    assert_eq!(f.status, Status::StatusInvalidParameter);
}

#[test]
fn removed_timestamp_is_detected_by_the_echo_check() {
    let f = failure(run_tampered(alice(), server(), |stage, m| {
        if stage == Stage::Challenge {
            let mut c = ChallengeMessage::parse(m).unwrap().into_owned();
            let ti = c.target_info.take().unwrap();
            let kept: Vec<_> = ti
                .iter()
                .filter(|p| p.id != AvId::TIMESTAMP)
                .map(|p| (p.id, p.value.to_vec()))
                .collect();
            c.target_info = Some(AvPairs::build(kept.iter().map(|(i, v)| (*i, &v[..]))).unwrap());
            *m = c.to_vec().unwrap();
        }
    }));
    assert_eq!(f.rule.id, "auth-av-echo");
    assert_eq!(f.status, Status::StatusInvalidParameter);
}

#[test]
fn duplicate_msv_av_flags_is_refused() {
    // CVE-2019-1166: a second MsvAvFlags = 0 injected into the CHALLENGE.
    let f = failure(run_tampered(alice(), server(), |stage, m| {
        if stage == Stage::Challenge {
            let mut c = ChallengeMessage::parse(m).unwrap().into_owned();
            let ti = c.target_info.take().unwrap();
            let mut pairs: Vec<_> = ti.iter().map(|p| (p.id, p.value.to_vec())).collect();
            pairs.push((AvId::FLAGS, 0u32.to_le_bytes().to_vec()));
            pairs.push((AvId::FLAGS, 0u32.to_le_bytes().to_vec()));
            c.target_info = Some(AvPairs::build(pairs.iter().map(|(i, v)| (*i, &v[..]))).unwrap());
            *m = c.to_vec().unwrap();
        }
    }));
    assert_eq!(f.rule.id, "auth-av-duplicate");
}

#[test]
fn anonymous_refused_by_default_and_accepted_when_configured() {
    let f = failure(run(ClientSettings::new(Credentials::anonymous()), server()));
    assert_eq!(f.rule.id, "auth-response");
    let mut srv = server();
    srv.accept_anonymous = true;
    srv.min = min(0);
    let mut c = ClientSettings::new(Credentials::anonymous());
    c.min = min(0);
    let (_, s) = run(c, srv).outcome.unwrap();
    assert!(s.report.anonymous());
}

#[test]
fn channel_bindings() {
    let cb = [0x65; 16];
    let mut srv = server();
    srv.channel_bindings = ChannelBindings::Require(cb);
    let f = failure(run(alice(), srv.clone()));
    assert_eq!(f.status, Status::SecEBadBindings);
    assert_eq!(f.rule.id, "auth-channel-bindings");
    let mut c = alice();
    c.channel_bindings = Some(cb);
    assert!(run(c.clone(), srv.clone()).outcome.is_ok());
    c.channel_bindings = Some([0x66; 16]);
    srv.channel_bindings = ChannelBindings::Accept(cb);
    assert_eq!(
        failure(run(c, srv.clone())).rule.id,
        "auth-channel-bindings"
    );
    assert!(
        run(alice(), srv).outcome.is_ok(),
        "Accept tolerates absent bindings"
    );
}

/// The channel-binding, target-name and LDAP signing settings, applied per
/// carrier: each failure names the setting's rule and status.
#[test]
fn binding_policy_per_carrier() {
    use ntlm_policy::{
        BindingPolicy, Carrier, ExtendedProtection, LdapChannelBinding, LdapSigning,
        SmbNameHardening, ZeroBindings,
    };
    let channel = [0x42; 16];
    let spn = "cifs/ntlmsim.testdom.example";
    let policy = BindingPolicy {
        extended_protection: ExtendedProtection::Require,
        ldap_channel_binding: LdapChannelBinding::WhenSupported,
        ldap_signing: LdapSigning::Require,
        smb_name_hardening: SmbNameHardening::IfProvided,
        zero_bindings: ZeroBindings::Accepted,
    };
    let server_on = |carrier: Carrier| {
        let mut s = server();
        s.apply_binding_checks(&policy.checks(carrier), Some(channel), spn);
        s
    };
    let with_cbt = |h: [u8; 16]| {
        let mut c = alice();
        c.channel_bindings = Some(h);
        c
    };
    // HTTPS, Extended Protection Required: no bindings, wrong bindings fail.
    let f = failure(run(alice(), server_on(Carrier::Https)));
    assert_eq!((f.side, f.stage), (Side::Server, Stage::Authenticate));
    assert_eq!(f.rule.id, "epa-require");
    assert_eq!(f.status, Status::SecEBadBindings);
    assert_eq!(
        failure(run(with_cbt([1; 16]), server_on(Carrier::Https)))
            .rule
            .id,
        "epa-require"
    );
    assert!(
        run(with_cbt(channel), server_on(Carrier::Https))
            .outcome
            .is_ok()
    );
    // Plain HTTP: there is no channel; nothing is checked.
    assert!(run(alice(), server_on(Carrier::Http)).outcome.is_ok());
    // LDAPS, When supported: absent accepted, wrong refused.
    assert!(run(alice(), server_on(Carrier::Ldaps)).outcome.is_ok());
    let f = failure(run(with_cbt([1; 16]), server_on(Carrier::Ldaps)));
    assert_eq!(f.rule.id, "ldap-cbt-when-supported");
    // LDAP without TLS, Require signing: alice requests no integrity.
    let f = failure(run(alice(), server_on(Carrier::Ldap)));
    assert_eq!(f.rule.id, "ldap-signing-required");
    assert_eq!(f.status, Status::LdapStrongAuthRequired);
    let mut signing = alice();
    signing.config.integrity = true;
    assert!(run(signing, server_on(Carrier::Ldap)).outcome.is_ok());
    // SMB, Accept if provided: absent or empty accepted, a wrong name refused.
    assert!(run(alice(), server_on(Carrier::Smb)).outcome.is_ok());
    let mut named = alice();
    named.target_name = Some("cifs/elsewhere.example".into());
    let f = failure(run(named.clone(), server_on(Carrier::Smb)));
    assert_eq!(f.rule.id, "smb-spn-if-provided");
    assert_eq!(f.status, Status::StatusAccessDenied);
    named.target_name = Some(spn.to_uppercase());
    assert!(run(named, server_on(Carrier::Smb)).outcome.is_ok());
    // Required from client: an empty name fails too.
    let required = BindingPolicy {
        smb_name_hardening: SmbNameHardening::Required,
        ..BindingPolicy::default()
    };
    let mut s = server();
    s.apply_binding_checks(&required.checks(Carrier::Smb), None, spn);
    assert_eq!(failure(run(alice(), s)).rule.id, "smb-spn-required");
    // The default reading of "when supported": a present all-zero pair must
    // match too (it fails over TLS); a client that sends no pair logs on.
    let accept = BindingPolicy {
        extended_protection: ExtendedProtection::Allow,
        ..BindingPolicy::default()
    };
    let mut s = server();
    s.apply_binding_checks(&accept.checks(Carrier::Https), Some(channel), spn);
    assert_eq!(failure(run(alice(), s.clone())).rule.id, "epa-allow");
    let mut no_pair = alice();
    no_pair.av_extensions = false;
    assert!(run(no_pair, s.clone()).outcome.is_ok());
    assert!(run(with_cbt(channel), s).outcome.is_ok());
}

#[test]
fn target_name_is_checked() {
    let mut srv = server();
    srv.expected_target_name = Some("HTTP/web.testdom.example".into());
    assert_eq!(
        failure(run(alice(), srv.clone())).rule.id,
        "auth-target-name"
    );
    let mut c = alice();
    c.target_name = Some("http/WEB.testdom.example".into());
    assert!(run(c, srv).outcome.is_ok());
}

#[test]
fn old_timestamp_is_refused_when_configured() {
    // Without MsvAvTimestamp the client stamps its blob with its own clock.
    let hour = 3600 * 10_000_000u64;
    let attempt = |client_clock: ntlm_wire::FileTime| {
        let mut srv = server();
        srv.send_timestamp = false;
        srv.max_timestamp_age = Some(hour);
        let (neg, client) = ntlm_session::Client::start(alice()).unwrap();
        let (chal, srv) = ntlm_session::Server::start(srv)
            .on_negotiate_with(&neg, [9; 8], NOW)
            .unwrap();
        let (auth, _) = client
            .on_challenge(&chal, &mut rng(3), client_clock)
            .unwrap();
        srv.on_authenticate(&auth)
    };
    assert!(attempt(ntlm_wire::FileTime(NOW.ticks() - hour / 2)).is_ok());
    let f = attempt(ntlm_wire::FileTime(NOW.ticks() - 2 * hour)).unwrap_err();
    assert_eq!((f.side, f.stage), (Side::Server, Stage::Authenticate));
    assert_eq!(f.rule.id, "auth-timestamp-age");
}

/// Requires integrity and confidentiality? The masks below against peers that
/// support everything and request sign and seal all succeed; without the
/// application asking for them, 0x10 and 0x20 fail.
#[test]
fn mask_matrix() {
    let masks = [
        0u32,
        0x10,
        0x20,
        0x8_0000,
        0x2000_0000,
        0x2008_0000,
        0x2008_0030,
    ];
    for &cm in &masks {
        for &sm in &masks {
            let mut c = sign_seal(alice());
            c.min = min(cm);
            let mut srv = server();
            srv.min = min(sm);
            assert!(run(c, srv).outcome.is_ok(), "client {cm:#x} server {sm:#x}");

            let mut c = alice();
            c.min = min(cm);
            let mut srv = server();
            srv.min = min(sm);
            let needs_app = (cm | sm) & 0x30 != 0;
            match run(c, srv).outcome {
                Ok(_) => assert!(!needs_app, "client {cm:#x} server {sm:#x}"),
                Err(f) => {
                    assert!(needs_app, "client {cm:#x} server {sm:#x}: {f}");
                    assert_eq!(f.status, Status::SecEUnsupportedFunction);
                    // The server checks first (on NEGOTIATE), then the client.
                    let side = if sm & 0x30 != 0 {
                        Side::Server
                    } else {
                        Side::Client
                    };
                    assert_eq!(f.side, side, "client {cm:#x} server {sm:#x}");
                }
            }
        }
    }
}

fn outcome(client_min: u32, server_min: u32, offer_drop: u32, level: u8) -> bool {
    let mut c = alice();
    c.min = min(client_min);
    c.config.lm_level = LmCompatibilityLevel::from_u8(level).unwrap();
    c.config.offer = F::from_bits_retain(c.config.offer.bits() & !offer_drop);
    let mut srv = server();
    srv.min = min(server_min);
    run(c, srv).outcome.is_ok()
}

const BITS: [u32; 5] = [0x10, 0x20, 0x8_0000, 0x2000_0000, 0x8000_0000];

fn mask() -> impl Strategy<Value = u32> {
    prop::sample::subsequence(BITS.to_vec(), 0..=BITS.len())
        .prop_map(|v| v.into_iter().fold(0, |a, b| a | b))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn stricter_masks_never_turn_failure_into_success(
        c in mask(), s in mask(), c2 in mask(), s2 in mask(),
        drop in prop::sample::select(vec![0u32, 0x2000_0000, 0x8000_0000, 0x0200_0000]),
        level in 0u8..=5,
    ) {
        if !outcome(c, s, drop, level) {
            prop_assert!(!outcome(c | c2, s | s2, drop, level));
        }
    }

    #[test]
    fn success_means_equal_keys_and_working_security(seal in any::<bool>(), level in 1u8..=5, seed in any::<u64>()) {
        let mut c = alice();
        c.config.integrity = true;
        c.config.confidentiality = seal;
        c.config.lm_level = LmCompatibilityLevel::from_u8(level).unwrap();
        let ex = Pair { client: c, server: server() }.run(&mut rng(seed), NOW, Fixed::default());
        let (mut c, mut s) = ex.outcome.unwrap();
        prop_assert_eq!(c.exported_session_key(), s.exported_session_key());
        let mut m = b"client to server".to_vec();
        let sig = if seal { c.security.seal(&mut m).unwrap() } else { c.security.sign(&m).unwrap() };
        if seal { s.security.unseal(&mut m, &sig).unwrap() } else { s.security.verify(&m, &sig).unwrap() }
        prop_assert_eq!(&m, b"client to server");
        let sig = s.security.sign(b"back").unwrap();
        prop_assert!(c.security.verify(b"back", &sig).is_ok());
    }

    #[test]
    fn any_byte_changed_in_transit_fails(stage in 0usize..3, pos in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let target = [Stage::Negotiate, Stage::Challenge, Stage::Authenticate][stage];
        let ex = run_tampered(sign_seal(alice()), server(), |st, m| {
            if st == target {
                let i = pos.index(m.len());
                m[i] ^= flip;
            }
        });
        prop_assert!(ex.outcome.is_err(), "changing {target:?} did not fail the exchange");
    }
}

#[test]
fn guest_fallback_only_when_enabled() {
    let stranger = || ClientSettings::new(Credentials::password("stranger", "ELSEWHERE", "x"));
    assert_eq!(failure(run(stranger(), server())).rule.id, "auth-response");
    let mut srv = server();
    srv.accept_guest = true;
    let (_, s) = run(stranger(), srv.clone()).outcome.unwrap();
    assert!(s.report.guest);
    assert!(!s.report.secure(), "Guest has no session security");
    // A known user with a wrong password is still refused: Guest is for unknown users only.
    let wrong = ClientSettings::new(Credentials::password("alice", "TESTDOM", "wrong"));
    assert_eq!(failure(run(wrong, srv)).rule.id, "auth-response");
}

#[test]
fn reflection_is_refused_by_a_host_that_remembers_its_own_responses() {
    // MS08-068 / KB957097: the client's authentication is reflected to its own host.
    let cache = std::sync::Arc::new(ntlm_session::ReflectionCache::default());
    let mut c = alice();
    c.reflection = Some(cache.clone());
    let mut srv = server();
    srv.reflection = Some(cache.clone());
    let f = failure(run(c.clone(), srv));
    assert_eq!((f.side, f.stage), (Side::Server, Stage::Authenticate));
    assert_eq!(f.rule.id, "auth-reflection");
    assert_eq!(f.status, Status::StatusLogonFailure);
    assert_eq!(cache.len(), 1);
    // Another host (its own cache) accepts the same client.
    let mut other = server();
    other.reflection = Some(std::sync::Arc::new(ntlm_session::ReflectionCache::default()));
    assert!(run(c, other).outcome.is_ok());
}

#[test]
fn resource_bounds_refuse_oversized_input() {
    // A NEGOTIATE padded past the bound.
    let mut srv = server();
    srv.max_message_len = 256;
    let f = failure(run_tampered(alice(), srv.clone(), |stage, m| {
        if stage == Stage::Negotiate {
            m.resize(257, 0);
        }
    }));
    assert_eq!(
        (f.side, f.stage, f.rule.id),
        (Side::Server, Stage::Negotiate, "decode-malformed")
    );
    // The modern AUTHENTICATE (424 bytes) is over 256 too.
    let mut srv = server();
    srv.max_message_len = 300;
    let f = failure(run(alice(), srv));
    assert_eq!(
        (f.stage, f.status),
        (Stage::Authenticate, Status::StatusInvalidParameter)
    );
    // Too many AV pairs: the client echoes the server's pairs and adds its own.
    let mut srv = server();
    srv.max_av_pairs = 4;
    let f = failure(run(alice(), srv));
    assert_eq!(
        (f.stage, f.rule.id),
        (Stage::Authenticate, "decode-malformed")
    );
    assert!(
        f.reason().to_string().contains("AV pairs"),
        "{}",
        f.reason()
    );
    // The defaults accept a modern exchange.
    assert!(run(alice(), server()).outcome.is_ok());
}

/// Samba's client fills the MIC field always but announces it (MsvAvFlags
/// 0x2) only when signing or sealing is requested.
#[test]
fn mic_announced_only_with_security() {
    for security in [false, true] {
        let mut c = alice();
        c.mic_announced_with_security_only = true;
        c.config.integrity = security;
        let ex = run(c, server());
        let auth = ex.authenticate.as_ref().unwrap().0.clone();
        let (client, s) = ex.outcome.unwrap();
        let a = AuthenticateMessage::parse(&auth).unwrap();
        assert!(a.mic.is_some_and(|m| m != [0; MIC_LEN]), "the MIC is sent");
        let nt = a.nt_response.as_deref().unwrap();
        let v2 = ntlm_wire::NtlmV2Response::parse(nt).unwrap();
        let announced = v2
            .client_challenge
            .av_pairs
            .flags_union()
            .contains(ntlm_wire::MsvAvFlags::MIC_PRESENT);
        assert_eq!(announced, security);
        assert_eq!(s.report.mic, security, "only an announced MIC is checked");
        assert!(client.report.mic);
        assert_eq!(client.exported_session_key(), s.exported_session_key());
    }
}
