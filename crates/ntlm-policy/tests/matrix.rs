//! Client × server × masks matrices.

use ntlm_policy::{
    ClientConfig, LmCompatibilityLevel as L, MinSessionSecurity as Min, Outcome,
    SERVER_CAPABILITIES, Semantics, ServerConfig, Side, Stage, Status, authenticate_flags,
    challenge_flags, check_negotiated, check_negotiated_response, check_server_authenticate,
    effective_requirement, negotiate_only,
};
use ntlm_wire::{NegotiateFlags as F, ResponseKind};

fn f(bits: u32) -> F {
    F::from_bits_retain(bits)
}

/// 0x02818205 = VERSION (0x02000000) | TARGET_INFO (0x00800000) |
/// TARGET_TYPE_DOMAIN (0x00010000) | ALWAYS_SIGN (0x00008000) | NTLM (0x00000200)
/// | REQUEST_TARGET (0x00000004) | UNICODE (0x00000001).
///
/// No EXTENDED_SESSIONSECURITY, no 128, no 56, no SIGN/SEAL, no KEY_EXCH. It is
/// the Windows 2008 R2 capture's CHALLENGE 0xa2898205 with 56, 128 and ESS
/// stripped: what a downgrading man in the middle or a legacy peer leaves.
/// TARGET_INFO and TARGET_TYPE_DOMAIN mean nothing in a NEGOTIATE (MS-NLMP
/// 2.2.2.5: the target types are ignored there).
const LEGACY: u32 = 0x0281_8205;

#[test]
fn legacy_0x02818205_offer_against_a_server_requiring_0x20080000() {
    let names: Vec<_> = f(LEGACY).names().collect();
    assert_eq!(
        names,
        [
            "NEGOTIATE_UNICODE",
            "REQUEST_TARGET",
            "NEGOTIATE_NTLM",
            "NEGOTIATE_ALWAYS_SIGN",
            "TARGET_TYPE_DOMAIN",
            "NEGOTIATE_TARGET_INFO",
            "NEGOTIATE_VERSION",
        ]
    );
    let client = ClientConfig {
        flags_override: Some(f(LEGACY)),
        ..ClientConfig::default()
    };
    let server = ServerConfig::default();
    let sem = Semantics::MS_NLMP;
    let Outcome::Failure(x) = negotiate_only(&client, &server, Min::NONE, Min::BASELINE, &sem)
    else {
        panic!("the server must refuse")
    };
    assert_eq!((x.side, x.stage), (Side::Server, Stage::Negotiate));
    assert_eq!(x.status, Status::SecEUnsupportedFunction);
    assert_eq!(x.required.bits(), 0x2008_0000);
    assert_eq!(x.missing.bits(), 0x2008_0000);
    assert_eq!(
        x.missing_names().collect::<Vec<_>>(),
        ["NEGOTIATE_EXTENDED_SESSIONSECURITY", "NEGOTIATE_128"]
    );
    // The CHALLENGE it would have sent is the offer itself: nothing to add.
    assert_eq!(x.negotiated, f(LEGACY));
    assert_eq!(x.rule.id, "min-128-server");

    // Per reading: the KB239869 128-bit rule does not apply without SEAL,
    // Samba's ESS reading defers 0x80000 until it sees the NTLMv2 response,
    // and the most lenient reading combines both and lets it through.
    for (preset, missing) in [
        ("ms-nlmp", Some(0x2008_0000)),
        ("ms-nlmp-literal", Some(0x2008_0000)),
        ("kb239869", Some(0x0008_0000)),
        ("samba", Some(0x2000_0000)),
        ("os-generation", Some(0x2008_0000)),
        ("lenient", None),
    ] {
        let sem = Semantics::by_name(preset).unwrap();
        let out = negotiate_only(&client, &server, Min::NONE, Min::BASELINE, &sem);
        match missing {
            Some(bits) => {
                let x = out.failure().copied().unwrap();
                assert_eq!(
                    (x.side, x.stage),
                    (Side::Server, Stage::Negotiate),
                    "{preset}"
                );
                assert_eq!(x.missing.bits(), bits, "{preset}");
            }
            None => assert!(out.is_success(), "{preset}: {out:?}"),
        }
    }
    assert_eq!(
        Semantics::PRESETS.len(),
        6,
        "extend the table above for a new preset"
    );

    // Without any policy it succeeds, with a full-length (unweakened) key
    // because neither ESS nor LM_KEY is negotiated (MS-NLMP 3.4.5.3).
    let ok = negotiate_only(&client, &server, Min::NONE, Min::NONE, &sem);
    let n = ok.negotiated().copied().unwrap();
    assert_eq!(n.challenge, f(LEGACY));
    assert_eq!(n.response, ResponseKind::NtlmV2);
    assert_eq!(n.key_strength_bits(), 128);
    assert!(!n.signing() && !n.sealing());

    // The same flags pasted into `policy check` give the same verdict.
    let x = check_negotiated(f(LEGACY), Min::NONE, Min::BASELINE, &sem).unwrap_err();
    assert_eq!((x.side, x.stage), (Side::Server, Stage::Negotiate));
    assert_eq!(x.missing.bits(), 0x2008_0000);
}

#[test]
fn challenge_without_128_against_a_client_requiring_it() {
    // A server that does not support 128-bit (e.g. an export-restricted or
    // misconfigured peer) answers a Windows client that requires it.
    let server = ServerConfig {
        supported: SERVER_CAPABILITIES.difference(F::NEGOTIATE_128),
        ..ServerConfig::default()
    };
    let sem = Semantics::MS_NLMP;
    for client in [
        ClientConfig::default(),
        ClientConfig {
            integrity: true,
            ..ClientConfig::default()
        },
        ClientConfig {
            integrity: true,
            confidentiality: true,
            ..ClientConfig::default()
        },
    ] {
        let x = negotiate_only(&client, &server, Min::ENCRYPTION_128, Min::NONE, &sem)
            .failure()
            .copied()
            .unwrap();
        assert_eq!((x.side, x.stage), (Side::Client, Stage::Challenge));
        assert_eq!(x.status, Status::SecEUnsupportedFunction);
        assert_eq!(x.rule.id, "min-128-client");
        assert_eq!(x.missing, F::NEGOTIATE_128);
        assert!(!x.negotiated.contains(F::NEGOTIATE_128));
        assert!(
            x.negotiated.contains(F::NEGOTIATE_56),
            "56 is still granted"
        );
    }
    // A forced CHALLENGE without 128 fails the same way.
    let forced = ServerConfig {
        flags_override: Some(f(0x8289_8205)),
        ..ServerConfig::default()
    };
    let x = negotiate_only(
        &ClientConfig::default(),
        &forced,
        Min::ENCRYPTION_128,
        Min::NONE,
        &sem,
    );
    assert_eq!(x.failure().map(|x| x.rule.id), Some("min-128-client"));
}

#[test]
fn lm_compatibility_level_pairs() {
    for (sem, client_level) in ntlm_policy::Level0Ess::ALL
        .into_iter()
        .map(|level0| Semantics {
            level0_ess: level0,
            ..Semantics::default()
        })
        .flat_map(|sem| L::ALL.into_iter().map(move |l| (sem, l)))
    {
        for server_level in L::ALL {
            let client = ClientConfig {
                lm_level: client_level,
                ..ClientConfig::default()
            };
            let server = ServerConfig {
                lm_level: server_level,
                ..ServerConfig::default()
            };
            let out = negotiate_only(&client, &server, Min::NONE, Min::NONE, &sem);
            // Flags-only clients at levels 0-2 send NTLMv1 or NTLM2 session
            // responses (with an LM response at 0-1, which level 4 refuses
            // while still accepting the NT response); only level 5 refuses them.
            let refused = client_level <= L::L2 && server_level == L::L5;
            assert_eq!(
                out.is_success(),
                !refused,
                "client {client_level} -> server {server_level}: {out:?}"
            );
            if let Some(x) = out.failure() {
                assert_eq!((x.side, x.stage), (Side::Server, Stage::Authenticate));
                assert_eq!(x.status, Status::StatusLogonFailure);
                assert_eq!(x.rule.id, "lm-refuse-ntlmv1");
            } else {
                let n = out.negotiated().unwrap();
                let expected = match (client_level, sem.level0_ess) {
                    (L::L0, ntlm_policy::Level0Ess::Never) => ResponseKind::NtlmV1,
                    (L::L0 | L::L1 | L::L2, _) => ResponseKind::Ntlm2Session,
                    _ => ResponseKind::NtlmV2,
                };
                assert_eq!(n.response, expected);
            }
        }
    }
}

#[test]
fn client_level_2_to_server_level_5() {
    let client = ClientConfig {
        lm_level: L::L2,
        ..ClientConfig::default()
    };
    let server = ServerConfig {
        lm_level: L::L5,
        ..ServerConfig::default()
    };
    let x = negotiate_only(
        &client,
        &server,
        Min::BASELINE,
        Min::BASELINE,
        &Semantics::default(),
    )
    .failure()
    .copied()
    .unwrap();
    // Both masks are satisfied (ESS and 128 negotiated); the response is refused.
    assert_eq!((x.side, x.stage), (Side::Server, Stage::Authenticate));
    assert_eq!(x.status, Status::StatusLogonFailure);
    assert_eq!(x.rule.id, "lm-refuse-ntlmv1");
    assert!(
        x.negotiated
            .contains(F::NEGOTIATE_128 | F::NEGOTIATE_EXTENDED_SESSIONSECURITY)
    );
}

#[test]
fn the_two_128_bit_readings_disagree_on_a_sign_only_negotiation() {
    // The client asks for integrity only; the server does not do 128-bit.
    let client = ClientConfig {
        integrity: true,
        ..ClientConfig::default()
    };
    let server = ServerConfig {
        supported: SERVER_CAPABILITIES.difference(F::NEGOTIATE_128),
        ..ServerConfig::default()
    };
    let strict = Semantics::MS_NLMP;
    let kb = Semantics::by_name("kb239869").unwrap();

    let s = negotiate_only(&client, &server, Min::ENCRYPTION_128, Min::NONE, &strict);
    let k = negotiate_only(&client, &server, Min::ENCRYPTION_128, Min::NONE, &kb);
    let x = s.failure().copied().unwrap();
    assert_eq!(x.rule.id, "min-128-client");
    assert!(x.negotiated.contains(F::NEGOTIATE_SIGN));
    assert!(!x.negotiated.contains(F::NEGOTIATE_SEAL));
    let n = k.negotiated().copied().unwrap();
    assert!(n.signing() && !n.sealing());
    assert_eq!(n.key_strength_bits(), 56);

    // The same on the server side, and in `policy check`.
    let sign_only = f(0x8288_8215);
    assert!(check_negotiated(sign_only, Min::NONE, Min::ENCRYPTION_128, &strict).is_err());
    assert!(check_negotiated(sign_only, Min::NONE, Min::ENCRYPTION_128, &kb).is_ok());
    let sealed = sign_only | F::NEGOTIATE_SEAL;
    let x = check_negotiated(sealed, Min::NONE, Min::ENCRYPTION_128, &kb).unwrap_err();
    assert_eq!(x.rule.id, "min-128-kb239869");
}

#[test]
fn server_strength_echo_is_what_lets_default_windows_hosts_talk() {
    // Two default Windows 7+ hosts: both require 128, the application asks
    // for neither integrity nor confidentiality (plain HTTP authentication).
    let client = ClientConfig::default();
    let server = ServerConfig::default();
    let win7 = Min::ENCRYPTION_128;
    let echo = negotiate_only(&client, &server, win7, win7, &Semantics::default());
    let n = echo.negotiated().copied().unwrap();
    // The Windows 7 / 2008 R2 capture: CHALLENGE 0xa2898205, AUTHENTICATE 0xa2888205.
    assert_eq!(n.negotiate, f(0xa208_8207));
    assert_eq!(n.challenge, f(0xa289_8205));
    assert_eq!(n.authenticate, f(0xa288_8205));
    assert_eq!(n.flags, n.authenticate);

    let literal = Semantics::by_name("ms-nlmp-literal").unwrap();
    let x = negotiate_only(&client, &server, win7, win7, &literal)
        .failure()
        .copied()
        .unwrap();
    assert_eq!((x.side, x.stage), (Side::Server, Stage::Negotiate));
    assert_eq!(x.missing, F::NEGOTIATE_128);
    // With integrity requested, the literal reading returns 128 again.
    let signing = ClientConfig {
        integrity: true,
        ..client
    };
    assert!(negotiate_only(&signing, &server, win7, win7, &literal).is_success());
}

#[test]
fn samba_clients_request_what_they_require() {
    let client = ClientConfig::default();
    let server = ServerConfig::default();
    let x = negotiate_only(
        &client,
        &server,
        Min::ALL_ABOVE,
        Min::NONE,
        &Semantics::default(),
    )
    .failure()
    .copied()
    .unwrap();
    assert_eq!((x.side, x.stage), (Side::Client, Stage::Challenge));
    assert_eq!(x.missing, F::NEGOTIATE_SIGN | F::NEGOTIATE_SEAL);
    let samba = Semantics::by_name("samba").unwrap();
    let n = negotiate_only(&client, &server, Min::ALL_ABOVE, Min::NONE, &samba)
        .negotiated()
        .copied()
        .unwrap();
    assert!(n.negotiate.contains(F::NEGOTIATE_SIGN | F::NEGOTIATE_SEAL));
    assert!(n.signing() && n.sealing());
}

#[test]
fn each_side_enforces_only_its_own_mask() {
    // 128 missing: the client mask fails on the client, the server mask on the server.
    let server = ServerConfig {
        supported: SERVER_CAPABILITIES.difference(F::NEGOTIATE_128),
        ..ServerConfig::default()
    };
    let client = ClientConfig::default();
    let sem = Semantics::MS_NLMP;
    let c = negotiate_only(&client, &server, Min::ENCRYPTION_128, Min::NONE, &sem);
    let s = negotiate_only(&client, &server, Min::NONE, Min::ENCRYPTION_128, &sem);
    assert_eq!(c.failure().map(|x| x.side), Some(Side::Client));
    assert_eq!(s.failure().map(|x| x.side), Some(Side::Server));
    // Both: the server refuses first, before any CHALLENGE is sent.
    let both = negotiate_only(
        &client,
        &server,
        Min::ENCRYPTION_128,
        Min::ENCRYPTION_128,
        &sem,
    );
    assert_eq!(
        both.failure().map(|x| (x.side, x.stage)),
        Some((Side::Server, Stage::Negotiate))
    );
    assert_eq!(
        effective_requirement(Min::ENCRYPTION_128, Min::NTLMV2_SESSION_SECURITY).bits(),
        0x2008_0000
    );
}

#[test]
fn policy_check_reports_the_first_refusal_in_exchange_order() {
    let sem = Semantics::default();
    let flags = f(0xa288_8205); // ESS | 128 | 56, no SIGN/SEAL
    assert!(check_negotiated(flags, Min::BASELINE, Min::BASELINE, &sem).is_ok());
    let x = check_negotiated(flags, Min::INTEGRITY, Min::CONFIDENTIALITY, &sem).unwrap_err();
    assert_eq!((x.side, x.stage), (Side::Server, Stage::Negotiate));
    assert_eq!(x.missing, F::NEGOTIATE_SEAL);
    let x = check_negotiated(flags, Min::INTEGRITY, Min::NONE, &sem).unwrap_err();
    assert_eq!((x.side, x.stage), (Side::Client, Stage::Challenge));
    assert_eq!(x.missing, F::NEGOTIATE_SIGN);
    assert_eq!(x.rule.id, "min-flags-client");

    // Samba's reading: without ESS, NTLMv2 satisfies 0x80000; the server's
    // deferred check fires on AUTHENTICATE when the response is not NTLMv2.
    let samba = Semantics::by_name("samba").unwrap();
    let no_ess = f(0xa280_8205);
    let nt2 = Some(ResponseKind::NtlmV2);
    let v1 = Some(ResponseKind::NtlmV1);
    assert!(check_negotiated_response(no_ess, nt2, Min::NONE, Min::BASELINE, &samba).is_ok());
    let x = check_negotiated_response(no_ess, v1, Min::NONE, Min::BASELINE, &samba).unwrap_err();
    assert_eq!((x.side, x.stage), (Side::Server, Stage::Authenticate));
    assert_eq!(x.rule.id, "min-server-authenticate");
}

#[test]
fn ms_nlmp_4_2_authenticate_flags_pass_the_subset_check() {
    // MS-NLMP 4.2.2, 4.2.3 and 4.2.4: each AUTHENTICATE carries REQUEST_TARGET
    // (and 4.2.2 TARGET_INFO) that its CHALLENGE lacks; neither is a
    // session-security flag, so the exchanges are valid.
    for (challenge, authenticate) in [
        (0xe202_8233, 0xe280_8235),
        (0x820a_8233, 0x8208_8235),
        (0xe28a_8233, 0xe288_8235),
    ] {
        let eff = check_server_authenticate(
            f(challenge),
            f(authenticate),
            ResponseKind::NtlmV2,
            &ServerConfig::default(),
            Min::ENCRYPTION_56,
            &Semantics::default(),
        );
        assert_eq!(eff, Ok(f(authenticate)), "{challenge:#x}");
    }
}

#[test]
fn windows_default_matrix_over_masks() {
    // Every combination of the five documented bits on each side, default
    // Windows 7+ client (SIGN+SEAL requested) and server: the exchange
    // succeeds exactly when the union is met by the negotiated flags.
    let client = ClientConfig {
        integrity: true,
        confidentiality: true,
        ..ClientConfig::default()
    };
    let server = ServerConfig::default();
    let sem = Semantics::default();
    let bits = [0x10u32, 0x20, 0x8_0000, 0x2000_0000, 0x8000_0000];
    let mut successes = 0;
    for cm in 0u32..32 {
        for sm in 0u32..32 {
            let mask = |m: u32| {
                Min::from_registry(
                    bits.iter()
                        .enumerate()
                        .filter(|(i, _)| m & (1 << i) != 0)
                        .fold(0, |a, (_, b)| a | b),
                )
            };
            let out = negotiate_only(&client, &server, mask(cm), mask(sm), &sem);
            assert!(out.is_success(), "{cm:#x} {sm:#x}: {out:?}");
            let n = out.negotiated().unwrap();
            assert!(n.flags.contains(effective_requirement(mask(cm), mask(sm))));
            successes += 1;
        }
    }
    assert_eq!(successes, 1024);
    // The negotiated flags of that pair, and what the client sends.
    let negotiate = ntlm_policy::negotiate_flags(&client, Min::NONE, &sem);
    let challenge = challenge_flags(negotiate, &server, &sem).unwrap();
    assert_eq!(negotiate, f(0xe208_82b7));
    assert_eq!(challenge, f(0xe289_8235));
    assert_eq!(authenticate_flags(challenge), f(0xe288_8235));
}

#[test]
fn with_or_required_a_stricter_client_mask_changes_the_offer() {
    // Why the monotonicity property holds the client mask fixed under
    // client-request=or-required: the mask is part of the offer, so requiring
    // 128 on the client also *requests* it, which satisfies the server.
    let client = ClientConfig {
        offer: F::NEGOTIATE_VERSION,
        ..ClientConfig::default()
    };
    let server = ServerConfig::default();
    let samba = Semantics::by_name("samba").unwrap();
    let weak = negotiate_only(&client, &server, Min::NONE, Min::ENCRYPTION_128, &samba);
    let strict = negotiate_only(
        &client,
        &server,
        Min::ENCRYPTION_128,
        Min::ENCRYPTION_128,
        &samba,
    );
    assert_eq!(
        weak.failure().map(|x| (x.side, x.stage, x.missing)),
        Some((Side::Server, Stage::Negotiate, F::NEGOTIATE_128))
    );
    assert!(strict.is_success());
    // With an exact offer the client mask cannot change it, and monotonicity holds.
    let exact = ClientConfig {
        flags_override: Some(ntlm_policy::negotiate_flags(&client, Min::NONE, &samba)),
        ..client
    };
    assert!(
        !negotiate_only(
            &exact,
            &server,
            Min::ENCRYPTION_128,
            Min::ENCRYPTION_128,
            &samba
        )
        .is_success()
    );
}
