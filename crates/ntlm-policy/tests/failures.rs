//! Every failure path, asserted field by field.

use ntlm_policy::{
    AuthenticateExtra, ClientConfig, Detail, Failure, Level0Ess, LmCompatibilityLevel as L,
    MinSessionSecurity as Min, OsGeneration, Outcome, SERVER_CAPABILITIES, Semantics, ServerConfig,
    Side, Stage, Status, TargetInfoRule, check_response_accepted, check_server_authenticate,
    negotiate_only, rules, server_on_authenticate, server_on_negotiate,
};
use ntlm_wire::{NegotiateFlags as F, ResponseKind};

fn f(bits: u32) -> F {
    F::from_bits_retain(bits)
}

#[cfg(test)]
fn fail(
    client: &ClientConfig,
    server: &ServerConfig,
    cmin: Min,
    smin: Min,
    sem: &Semantics,
) -> Failure {
    match negotiate_only(client, server, cmin, smin, sem) {
        Outcome::Failure(x) => x,
        Outcome::Success(n) => panic!("expected a failure, got {n:?}"),
    }
}

fn default_sem() -> Semantics {
    Semantics::default()
}

/// The policy text's reading of LmCompatibilityLevel 0 (`level0-ess=never`).
fn level0_never() -> Semantics {
    Semantics {
        level0_ess: Level0Ess::Never,
        ..Semantics::default()
    }
}

#[test]
fn client_blocked() {
    let client = ClientConfig {
        blocked: true,
        ..ClientConfig::default()
    };
    let x = fail(
        &client,
        &ServerConfig::default(),
        Min::NONE,
        Min::NONE,
        &default_sem(),
    );
    assert_eq!(x.side, Side::Client);
    assert_eq!(x.stage, Stage::Negotiate);
    assert_eq!(x.status, Status::StatusNotSupported);
    assert_eq!(x.status.code(), 0xC000_00BB);
    assert_eq!(x.rule.id, "client-blocked");
    assert_eq!(x.rule.source.to_string(), "MS-NLMP 3.1.5.1.1");
    assert_eq!(x.detail, Detail::Blocked);
    assert!(x.required.is_empty() && x.negotiated.is_empty() && x.missing.is_empty());
    assert!(x.unexpected.is_empty());
    assert_eq!(
        x.reason().to_string(),
        "NTLM is blocked on the client (ClientBlocked)"
    );
}

#[test]
fn server_blocked_on_negotiate_and_authenticate() {
    let server = ServerConfig {
        blocked: true,
        ..ServerConfig::default()
    };
    let x = fail(
        &ClientConfig::default(),
        &server,
        Min::NONE,
        Min::NONE,
        &default_sem(),
    );
    assert_eq!((x.side, x.stage), (Side::Server, Stage::Negotiate));
    assert_eq!(x.status, Status::StatusNotSupported);
    assert_eq!(x.rule.id, "server-blocked");
    assert_eq!(x.detail, Detail::Blocked);
    assert_eq!(x.negotiated, f(0xa208_8207), "the NEGOTIATE flags received");
    assert!(x.missing.is_empty());
    assert_eq!(
        x.to_string(),
        "server failed on receipt of NEGOTIATE: STATUS_NOT_SUPPORTED (0xc00000bb): NTLM is \
         blocked on the server (ServerBlock) [MS-NLMP 3.2.5.1.1]"
    );

    let x = server_on_authenticate(
        f(0xa289_8205),
        f(0xa288_8205),
        ResponseKind::NtlmV2,
        &server,
        Min::NONE,
        &default_sem(),
    )
    .unwrap_err();
    assert_eq!((x.side, x.stage), (Side::Server, Stage::Authenticate));
    assert_eq!(x.status, Status::StatusNotSupported);
    assert_eq!(x.negotiated, f(0xa288_8205));
}

#[test]
fn server_refuses_a_negotiate_without_a_usable_charset() {
    // NTLM | REQUEST_TARGET only: neither UNICODE nor OEM (MS-NLMP 2.2.2.5 A=0, B=0).
    let client = ClientConfig {
        flags_override: Some(f(0x0000_0204)),
        ..ClientConfig::default()
    };
    let x = fail(
        &client,
        &ServerConfig::default(),
        Min::NONE,
        Min::NONE,
        &default_sem(),
    );
    assert_eq!((x.side, x.stage), (Side::Server, Stage::Negotiate));
    assert_eq!(x.status, Status::SecEInvalidToken);
    assert_eq!(x.status.code(), 0x8009_0308);
    assert_eq!(x.rule.id, "neg-server-charset");
    assert_eq!(x.rule.source.to_string(), "MS-NLMP 2.2.2.5");
    assert_eq!(x.detail, Detail::Charset);
    assert_eq!(x.negotiated, f(0x0000_0204));
    assert!(x.required.is_empty() && x.missing.is_empty());
    assert!(x.reason().to_string().contains("(0x00000204)"));

    // UNICODE offered to an OEM-only server fails the same way.
    let oem_only = ServerConfig {
        supported: SERVER_CAPABILITIES.difference(F::NEGOTIATE_UNICODE),
        ..ServerConfig::default()
    };
    let unicode_only = ClientConfig {
        flags_override: Some(f(0x0000_8205)),
        ..ClientConfig::default()
    };
    let x = fail(
        &unicode_only,
        &oem_only,
        Min::NONE,
        Min::NONE,
        &default_sem(),
    );
    assert_eq!(x.rule.id, "neg-server-charset");
}

#[test]
fn client_refuses_a_challenge_without_a_charset() {
    let server = ServerConfig {
        flags_override: Some(f(0x0082_8204)),
        ..ServerConfig::default()
    };
    let x = fail(
        &ClientConfig::default(),
        &server,
        Min::NONE,
        Min::NONE,
        &default_sem(),
    );
    assert_eq!((x.side, x.stage), (Side::Client, Stage::Challenge));
    assert_eq!(x.status, Status::SecEInvalidToken);
    assert_eq!(x.rule.id, "client-charset");
    assert_eq!(x.detail, Detail::Charset);
    assert_eq!(x.negotiated, f(0x0082_8204));
    assert_eq!(
        x.reason().to_string(),
        "the CHALLENGE flags (0x00828204) select neither UNICODE nor OEM"
    );
}

#[test]
fn server_requires_128_the_client_does_not_offer() {
    let client = ClientConfig {
        offer: F::NEGOTIATE_VERSION,
        ..ClientConfig::default()
    };
    let x = fail(
        &client,
        &ServerConfig::default(),
        Min::NONE,
        Min::ENCRYPTION_128,
        &Semantics::MS_NLMP,
    );
    assert_eq!((x.side, x.stage), (Side::Server, Stage::Negotiate));
    assert_eq!(x.status, Status::SecEUnsupportedFunction);
    assert_eq!(x.status.code(), 0x8009_0302);
    assert_eq!(x.rule.id, "min-128-server");
    assert_eq!(x.rule.source.to_string(), "MS-NLMP 3.2.5.1.1");
    assert_eq!(x.detail, Detail::MinimumSecurity);
    assert_eq!(x.required, F::NEGOTIATE_128);
    // The CHALLENGE the server would have sent: UNICODE | REQUEST_TARGET | NTLM |
    // ALWAYS_SIGN | TARGET_TYPE_DOMAIN | ESS | TARGET_INFO | VERSION.
    assert_eq!(x.negotiated, f(0x0289_8205));
    assert_eq!(x.missing, F::NEGOTIATE_128);
    assert_eq!(x.missing_names().collect::<Vec<_>>(), ["NEGOTIATE_128"]);
    assert_eq!(x.missing_hex().to_string(), "0x20000000");
    assert_eq!(
        x.policy_value(),
        Some(ntlm_policy::PolicyValue::NtlmMinServerSec)
    );
}

/// The default (calibrated) reading: without SEAL, 0x20000000 is met whether
/// or not 128 is negotiated (KB239869; curl/curl#13291,
/// microsoft/mssql-jdbc#1180); with SEAL and no 128 it fails, citing KB239869.
#[test]
fn calibrated_128_rule_needs_seal_to_fail() {
    let client = ClientConfig {
        offer: F::NEGOTIATE_VERSION,
        ..ClientConfig::default()
    };
    let sem = Semantics::default();
    let out = negotiate_only(
        &client,
        &ServerConfig::default(),
        Min::NONE,
        Min::ENCRYPTION_128,
        &sem,
    );
    assert!(out.is_success(), "{out:?}");
    let sealing = ClientConfig {
        confidentiality: true,
        ..client
    };
    let x = fail(
        &sealing,
        &ServerConfig::default(),
        Min::NONE,
        Min::ENCRYPTION_128,
        &sem,
    );
    assert_eq!((x.side, x.stage), (Side::Server, Stage::Negotiate));
    assert_eq!(x.status, Status::SecEUnsupportedFunction);
    assert_eq!(x.rule.id, "min-128-kb239869");
    assert_eq!(x.rule.source.to_string(), "KB239869");
    assert_eq!(x.missing, F::NEGOTIATE_128);
}

/// A server that cannot verify NTLMv2 (an NTLMv1-only NAS) refuses an
/// NTLMv2 client at AUTHENTICATE (KB954387), though its level allows it.
#[test]
fn ntlmv1_only_server_cannot_verify_ntlmv2() {
    let nas = ServerConfig {
        verifies: ntlm_policy::ResponseKinds::LM.union(ntlm_policy::ResponseKinds::NTLMV1),
        ..ServerConfig::default()
    };
    let x = fail(
        &ClientConfig::default(),
        &nas,
        Min::NONE,
        Min::NONE,
        &default_sem(),
    );
    assert_eq!((x.side, x.stage), (Side::Server, Stage::Authenticate));
    assert_eq!(x.status, Status::StatusLogonFailure);
    assert_eq!(x.rule.id, "auth-cannot-verify");
    assert_eq!(x.rule.source.to_string(), "KB954387");
    assert!(
        x.reason().to_string().contains("cannot verify NTLMv2"),
        "{}",
        x.reason()
    );
    let v1 = ClientConfig {
        lm_level: ntlm_policy::LmCompatibilityLevel::L0,
        ..ClientConfig::default()
    };
    // Read as the policy text says, level 0 sends LM and NTLMv1, which it verifies.
    assert!(negotiate_only(&v1, &nas, Min::NONE, Min::NONE, &level0_never()).is_success());
    // Read as the XP messages show, level 0 uses ESS where the server grants
    // it: the NTLM2 session response, which this NAS cannot verify.
    let x = fail(&v1, &nas, Min::NONE, Min::NONE, &default_sem());
    assert_eq!(x.rule.id, "auth-cannot-verify");
    let plain = ServerConfig {
        supported: nas
            .supported
            .difference(F::NEGOTIATE_EXTENDED_SESSIONSECURITY),
        ..nas
    };
    assert!(negotiate_only(&v1, &plain, Min::NONE, Min::NONE, &default_sem()).is_success());
}

#[test]
fn server_requires_ess_a_level_0_client_never_offers() {
    let client = ClientConfig {
        lm_level: L::L0,
        ..ClientConfig::default()
    };
    // Under the default reading level 0 requests ESS: no failure.
    assert!(
        negotiate_only(
            &client,
            &ServerConfig::default(),
            Min::NONE,
            Min::NTLMV2_SESSION_SECURITY,
            &default_sem(),
        )
        .is_success()
    );
    let x = fail(
        &client,
        &ServerConfig::default(),
        Min::NONE,
        Min::NTLMV2_SESSION_SECURITY,
        &level0_never(),
    );
    assert_eq!((x.side, x.stage), (Side::Server, Stage::Negotiate));
    assert_eq!(x.status, Status::SecEUnsupportedFunction);
    assert_eq!(x.rule.id, "min-flags-server");
    assert_eq!(x.rule.basis, ntlm_policy::Basis::Inferred);
    assert_eq!(x.missing, F::NEGOTIATE_EXTENDED_SESSIONSECURITY);
    assert_eq!(x.required, F::NEGOTIATE_EXTENDED_SESSIONSECURITY);
    assert!(
        x.reason().to_string().starts_with(
            "NtlmMinServerSec requires NEGOTIATE_EXTENDED_SESSIONSECURITY (0x00080000)"
        )
    );
}

#[test]
fn server_requires_56_the_client_does_not_offer() {
    let client = ClientConfig {
        offer: F::NEGOTIATE_128,
        ..ClientConfig::default()
    };
    let x = fail(
        &client,
        &ServerConfig::default(),
        Min::NONE,
        Min::ENCRYPTION_56,
        &default_sem(),
    );
    assert_eq!((x.side, x.stage), (Side::Server, Stage::Negotiate));
    assert_eq!(x.rule.id, "min-56");
    assert_eq!(x.missing, F::NEGOTIATE_56);
    // With bit56=ignore the same exchange succeeds.
    let ignore = Semantics {
        bit56: ntlm_policy::Bit56::Ignore,
        ..Semantics::default()
    };
    assert!(
        negotiate_only(
            &client,
            &ServerConfig::default(),
            Min::NONE,
            Min::ENCRYPTION_56,
            &ignore
        )
        .is_success()
    );
}

#[test]
fn client_requires_128_the_server_does_not_return() {
    let server = ServerConfig {
        supported: SERVER_CAPABILITIES.difference(F::NEGOTIATE_128),
        ..ServerConfig::default()
    };
    let x = fail(
        &ClientConfig::default(),
        &server,
        Min::ENCRYPTION_128,
        Min::NONE,
        &Semantics::MS_NLMP,
    );
    assert_eq!((x.side, x.stage), (Side::Client, Stage::Challenge));
    assert_eq!(x.status, Status::SecEUnsupportedFunction);
    assert_eq!(x.rule.id, "min-128-client");
    assert_eq!(x.rule.source.to_string(), "MS-NLMP 3.1.5.1.2");
    assert_eq!(x.required, F::NEGOTIATE_128);
    assert_eq!(x.negotiated, f(0x8289_8205));
    assert_eq!(x.missing, F::NEGOTIATE_128);
    assert_eq!(
        x.to_string(),
        "client failed on receipt of CHALLENGE: SEC_E_UNSUPPORTED_FUNCTION (0x80090302): \
         NtlmMinClientSec requires NEGOTIATE_128 (0x20000000), which the CHALLENGE flags \
         (0x82898205) do not provide [MS-NLMP 3.1.5.1.2]"
    );
}

#[test]
fn client_requires_integrity_the_application_did_not_request() {
    let x = fail(
        &ClientConfig::default(),
        &ServerConfig::default(),
        Min::INTEGRITY,
        Min::NONE,
        &default_sem(),
    );
    assert_eq!((x.side, x.stage), (Side::Client, Stage::Challenge));
    assert_eq!(x.rule.id, "min-flags-client");
    assert_eq!(x.missing, F::NEGOTIATE_SIGN);
    assert_eq!(x.required, F::NEGOTIATE_SIGN);
}

#[test]
fn kb239869_fails_only_with_seal() {
    let server = ServerConfig {
        supported: SERVER_CAPABILITIES.difference(F::NEGOTIATE_128),
        ..ServerConfig::default()
    };
    let sealing = ClientConfig {
        confidentiality: true,
        ..ClientConfig::default()
    };
    let kb = Semantics::by_name("kb239869").unwrap();
    let x = fail(&sealing, &server, Min::ENCRYPTION_128, Min::NONE, &kb);
    assert_eq!((x.side, x.stage), (Side::Client, Stage::Challenge));
    assert_eq!(x.status, Status::SecEUnsupportedFunction);
    assert_eq!(x.rule.id, "min-128-kb239869");
    assert_eq!(x.rule.source.to_string(), "KB239869");
    assert_eq!(x.missing, F::NEGOTIATE_128);
    assert!(x.negotiated.contains(F::NEGOTIATE_SEAL));
    assert!(
        x.reason()
            .to_string()
            .ends_with("while NEGOTIATE_SEAL is negotiated")
    );
}

#[test]
fn ntlmv2_client_needs_netbios_names_for_integrity() {
    let client = ClientConfig {
        integrity: true,
        ..ClientConfig::default()
    };
    let server = ServerConfig {
        target_info: TargetInfoRule::Never,
        ..ServerConfig::default()
    };
    let x = fail(&client, &server, Min::NONE, Min::NONE, &default_sem());
    assert_eq!((x.side, x.stage), (Side::Client, Stage::Challenge));
    assert_eq!(x.status, Status::StatusLogonFailure);
    assert_eq!(x.status.code(), 0xC000_006D);
    assert_eq!(x.rule.id, "client-ntlmv2-target-info");
    assert_eq!(x.detail, Detail::TargetInfoNames);
    assert!(!x.negotiated.contains(F::NEGOTIATE_TARGET_INFO));
    // An NTLMv1 client (level 2) does not need them.
    let v1 = ClientConfig {
        lm_level: L::L2,
        ..client
    };
    assert!(negotiate_only(&v1, &server, Min::NONE, Min::NONE, &default_sem()).is_success());
}

#[test]
fn authenticate_with_flags_the_challenge_did_not_return() {
    let challenge = f(0xa289_8205);
    // The client adds SEAL | KEY_EXCH after a CHALLENGE that granted neither.
    let authenticate = f(0xe288_8225);
    let x = check_server_authenticate(
        challenge,
        authenticate,
        ResponseKind::NtlmV2,
        &ServerConfig::default(),
        Min::NONE,
        &default_sem(),
    )
    .unwrap_err();
    assert_eq!((x.side, x.stage), (Side::Server, Stage::Authenticate));
    assert_eq!(x.status, Status::SecEInvalidToken);
    assert_eq!(x.rule.id, "auth-flags-subset");
    assert_eq!(x.rule.source.to_string(), "MS-NLMP 2.2.1.3");
    assert_eq!(x.detail, Detail::UnexpectedFlags);
    assert_eq!(x.required, challenge);
    assert_eq!(x.negotiated, authenticate);
    assert_eq!(x.unexpected, F::NEGOTIATE_SEAL | F::NEGOTIATE_KEY_EXCH);
    assert!(x.missing.is_empty());
    assert_eq!(
        x.unexpected_names().collect::<Vec<_>>(),
        ["NEGOTIATE_SEAL", "NEGOTIATE_KEY_EXCH"]
    );
    assert_eq!(
        x.reason().to_string(),
        "the AUTHENTICATE carries NEGOTIATE_SEAL | NEGOTIATE_KEY_EXCH (0x40000020), which the \
         CHALLENGE (0xa2898205) did not return"
    );
    // Samba drops them instead.
    let samba = Semantics {
        authenticate_extra: AuthenticateExtra::Intersect,
        ..Semantics::default()
    };
    assert_eq!(
        check_server_authenticate(
            challenge,
            authenticate,
            ResponseKind::NtlmV2,
            &ServerConfig::default(),
            Min::NONE,
            &samba
        ),
        Ok(f(0xa288_8205))
    );
}

#[test]
fn server_check_on_authenticate_catches_a_deferred_ess_requirement() {
    // Under ess=flag-or-ntlmv2 a server cannot know on NEGOTIATE whether
    // NTLMv2 will follow, so a missing ESS flag is checked on AUTHENTICATE.
    let samba = Semantics::by_name("samba").unwrap();
    let no_ess_server = ServerConfig {
        supported: SERVER_CAPABILITIES.difference(F::NEGOTIATE_EXTENDED_SESSIONSECURITY),
        ..ServerConfig::default()
    };
    let v1 = ClientConfig {
        lm_level: L::L1,
        ..ClientConfig::default()
    };
    let x = fail(
        &v1,
        &no_ess_server,
        Min::NONE,
        Min::NTLMV2_SESSION_SECURITY,
        &samba,
    );
    assert_eq!((x.side, x.stage), (Side::Server, Stage::Authenticate));
    assert_eq!(x.status, Status::SecEUnsupportedFunction);
    assert_eq!(x.rule.id, "min-server-authenticate");
    assert_eq!(x.rule.source.to_string(), "MS-NLMP 3.2.5.1.2");
    assert_eq!(x.missing, F::NEGOTIATE_EXTENDED_SESSIONSECURITY);
    assert_eq!(
        x.negotiated,
        f(0xa280_8205),
        "the AUTHENTICATE flags: the CHALLENGE (no ESS) without the target type"
    );
    // The same server accepts an NTLMv2 client under that reading.
    assert!(
        negotiate_only(
            &ClientConfig::default(),
            &no_ess_server,
            Min::NONE,
            Min::NTLMV2_SESSION_SECURITY,
            &samba
        )
        .is_success()
    );
    // And refuses it at NEGOTIATE under the default reading.
    let x = fail(
        &ClientConfig::default(),
        &no_ess_server,
        Min::NONE,
        Min::NTLMV2_SESSION_SECURITY,
        &default_sem(),
    );
    assert_eq!((x.side, x.stage), (Side::Server, Stage::Negotiate));
}

#[test]
fn lm_level_5_refuses_ntlmv1_and_ntlm2_session_responses() {
    let dc = ServerConfig {
        lm_level: L::L5,
        ..ServerConfig::default()
    };
    // Level 2 with ESS negotiated: the NTLM2 session response.
    let l2 = ClientConfig {
        lm_level: L::L2,
        ..ClientConfig::default()
    };
    let x = fail(&l2, &dc, Min::NONE, Min::NONE, &default_sem());
    assert_eq!((x.side, x.stage), (Side::Server, Stage::Authenticate));
    assert_eq!(x.status, Status::StatusLogonFailure);
    assert_eq!(x.rule.id, "lm-refuse-ntlmv1");
    assert_eq!(
        x.detail,
        Detail::ResponseRefused {
            kind: ResponseKind::Ntlm2Session,
            level: L::L5
        }
    );
    assert_eq!(x.negotiated, f(0xa288_8205));
    assert!(x.missing.is_empty() && x.required.is_empty());
    assert_eq!(
        x.reason().to_string(),
        "LmCompatibilityLevel 5 (Send NTLMv2 response only. Refuse LM & NTLM) refuses \
         NTLM2_SESSION responses"
    );
    // Level 0 under the policy text's reading never requests ESS: a plain
    // NTLMv1 response; under the default it sends the NTLM2 session response.
    let l0 = ClientConfig {
        lm_level: L::L0,
        ..ClientConfig::default()
    };
    for (sem, kind) in [
        (level0_never(), ResponseKind::NtlmV1),
        (default_sem(), ResponseKind::Ntlm2Session),
    ] {
        let x = fail(&l0, &dc, Min::NONE, Min::NONE, &sem);
        assert_eq!(x.detail, Detail::ResponseRefused { kind, level: L::L5 });
    }
}

#[test]
fn lm_level_4_refuses_lm_only_responses() {
    let dc = ServerConfig {
        lm_level: L::L4,
        ..ServerConfig::default()
    };
    let x = check_response_accepted(ResponseKind::Lm, &dc).unwrap_err();
    assert_eq!((x.side, x.stage), (Side::Server, Stage::Authenticate));
    assert_eq!(x.status, Status::StatusLogonFailure);
    assert_eq!(x.rule.id, "lm-refuse-lm");
    assert_eq!(
        x.detail,
        Detail::ResponseRefused {
            kind: ResponseKind::Lm,
            level: L::L4
        }
    );
    assert!(check_response_accepted(ResponseKind::NtlmV1, &dc).is_ok());
    assert!(check_response_accepted(ResponseKind::Unknown, &dc).is_err());
}

#[test]
fn server_on_negotiate_returns_the_challenge_on_success() {
    assert_eq!(
        server_on_negotiate(
            f(0xa208_8207),
            &ServerConfig::default(),
            Min::BASELINE,
            &default_sem()
        ),
        Ok(f(0xa289_8205))
    );
}

#[test]
fn os_generation_reading() {
    let osg = Semantics::by_name("os-generation").unwrap();
    // A Windows 7 client requiring integrity, the application not asking for it.
    let x = negotiate_only(
        &ClientConfig::default(),
        &ServerConfig::default(),
        Min::INTEGRITY,
        Min::NONE,
        &osg,
    );
    assert!(x.is_success(), "{x:?}");
    let xp = ClientConfig {
        os: OsGeneration::XpServer2003,
        ..ClientConfig::default()
    };
    let x = fail(
        &xp,
        &ServerConfig::default(),
        Min::INTEGRITY,
        Min::NONE,
        &osg,
    );
    assert_eq!(x.rule.id, "min-flags-client");
    assert_eq!(x.missing, F::NEGOTIATE_SIGN);
}

#[test]
fn status_override_for_samba_like_peers() {
    let dc = ServerConfig {
        lm_level: L::L5,
        ..ServerConfig::default()
    };
    let x = check_response_accepted(ResponseKind::NtlmV1, &dc)
        .unwrap_err()
        .with_status(Status::StatusWrongPassword);
    assert_eq!(x.status.code(), 0xC000_006A);
    assert!(
        x.rule
            .also
            .iter()
            .any(|s| s.to_string().contains("ntlm_password_check"))
    );
    assert_eq!(
        rules::LM_REFUSE_NTLMV1.status,
        Some(Status::StatusLogonFailure)
    );
}
