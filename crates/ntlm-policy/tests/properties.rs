//! Invariants over random offers, capabilities, masks and semantics.

use ntlm_policy::{
    AuthenticateExtra, Bit56, ClientConfig, ClientRequest, Enforce, EssMeaning, Level0Ess,
    LmCompatibilityLevel, MinSessionSecurity as Min, Ntlmv1Server, OsGeneration, ResponseKinds,
    Rule128, SERVER_ALWAYS_SETS, SERVER_CAPABILITIES, Semantics, ServerConfig, ServerStrength,
    TargetInfoRule, challenge_flags, check_negotiated, effective_requirement, negotiate_only,
    negotiate_stepwise,
};
use ntlm_wire::NegotiateFlags as F;
use proptest::prelude::*;

fn semantics() -> impl Strategy<Value = Semantics> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(a, b, c, d, e, f, g, h, i)| Semantics {
            rule_128: if a {
                Rule128::Strict
            } else {
                Rule128::Kb239869
            },
            server_strength: if b {
                ServerStrength::Echo
            } else {
                ServerStrength::Literal
            },
            enforce: if c {
                Enforce::AllKnown
            } else {
                Enforce::OsGeneration
            },
            client_request: if d {
                ClientRequest::AppOnly
            } else {
                ClientRequest::OrRequired
            },
            ess: if e {
                EssMeaning::Flag
            } else {
                EssMeaning::FlagOrNtlmV2
            },
            bit56: if f { Bit56::Enforce } else { Bit56::Ignore },
            authenticate_extra: if g {
                AuthenticateExtra::Reject
            } else {
                AuthenticateExtra::Intersect
            },
            ntlmv1_server: if h {
                Ntlmv1Server::Accepts
            } else {
                Ntlmv1Server::Refuses
            },
            level0_ess: if i {
                Level0Ess::Requested
            } else {
                Level0Ess::Never
            },
        })
}

fn level() -> impl Strategy<Value = LmCompatibilityLevel> {
    proptest::sample::select(LmCompatibilityLevel::ALL.to_vec())
}

fn os() -> impl Strategy<Value = OsGeneration> {
    prop_oneof![
        Just(OsGeneration::Unspecified),
        Just(OsGeneration::Nt4),
        Just(OsGeneration::Windows2000),
        Just(OsGeneration::XpServer2003),
        Just(OsGeneration::VistaServer2008),
        Just(OsGeneration::Windows7Plus),
        Just(OsGeneration::NonWindows),
    ]
}

/// Masks biased towards the documented bits, with occasional unknown bits.
fn mask() -> impl Strategy<Value = Min> {
    (any::<u32>(), any::<u32>()).prop_map(|(known, noise)| {
        Min::from_registry((known & 0xA008_0030) | (noise & (noise >> 3) & 0x0F0F_0F0F))
    })
}

/// Offers biased towards plausible NEGOTIATE flags.
fn offer() -> impl Strategy<Value = F> {
    prop_oneof![
        any::<u32>().prop_map(F::from_bits_retain),
        any::<u32>().prop_map(|b| F::from_bits_retain(b & 0xE2CA_82B7 | 0x0000_8201)),
    ]
}

fn client(with_override: bool) -> impl Strategy<Value = ClientConfig> {
    (
        level(),
        any::<u32>(),
        any::<u32>(),
        any::<[bool; 5]>(),
        os(),
        offer(),
    )
        .prop_map(
            move |(lm, offer_bits, sec_bits, b, os, forced)| ClientConfig {
                lm_level: lm,
                offer: F::from_bits_retain(offer_bits & 0xE2CA_80B6),
                offer_with_security: F::from_bits_retain(sec_bits & 0xE000_0080),
                integrity: b[0],
                confidentiality: b[1],
                datagram: b[2],
                identify: b[3],
                blocked: b[4] && b[0] && b[1],
                ntlmv1_removed: b[2] && b[3],
                os,
                flags_override: with_override.then_some(forced),
            },
        )
}

fn server() -> impl Strategy<Value = ServerConfig> {
    (
        level(),
        any::<u32>(),
        any::<bool>(),
        (0u8..5, 0u8..16),
        any::<u8>(),
        os(),
        proptest::option::weighted(0.1, any::<u32>()),
    )
        .prop_map(
            |(lm, caps, domain, (ti, kinds), block, os, forced)| ServerConfig {
                lm_level: lm,
                supported: F::from_bits_retain(caps).intersection(SERVER_CAPABILITIES)
                    | F::NEGOTIATE_UNICODE,
                domain_joined: domain,
                target_info: match ti {
                    0 => TargetInfoRule::Always,
                    1 => TargetInfoRule::EssOrRequestTarget,
                    2 => TargetInfoRule::EssOnly,
                    3 => TargetInfoRule::RequestTarget,
                    _ => TargetInfoRule::Never,
                },
                verifies: [
                    ResponseKinds::LM,
                    ResponseKinds::NTLMV1,
                    ResponseKinds::NTLM2_SESSION,
                    ResponseKinds::NTLMV2,
                ]
                .into_iter()
                .enumerate()
                .filter(|(i, _)| kinds & (1 << i) != 0)
                .fold(ResponseKinds::NONE, |a, (_, k)| a.union(k)),
                blocked: block == 0,
                ntlmv1_removed: block == 1,
                os,
                flags_override: forced.map(F::from_bits_retain),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Stricter masks never turn a failure into success, over random offers
    /// (exact NEGOTIATE flags), configurations, masks and every semantics.
    #[test]
    fn stricter_masks_never_rescue_a_failure(
        c in client(true),
        s in server(),
        cm in mask(),
        sm in mask(),
        cx in mask(),
        sx in mask(),
        sem in semantics(),
    ) {
        let weak = negotiate_only(&c, &s, cm, sm, &sem);
        let strict = negotiate_only(&c, &s, cm | cx, sm | sx, &sem);
        if strict.is_success() {
            prop_assert!(weak.is_success(), "weak {weak:?} strict {strict:?}");
        }
    }

    /// The same with offers computed from the configuration, whenever the
    /// client's offer does not depend on its own mask (client-request = app-only);
    /// with or-required, the server mask alone.
    #[test]
    fn stricter_masks_never_rescue_a_failure_with_computed_offers(
        c in client(false),
        s in server(),
        cm in mask(),
        sm in mask(),
        cx in mask(),
        sx in mask(),
        sem in semantics(),
    ) {
        let cx = match sem.client_request {
            ClientRequest::AppOnly => cx,
            ClientRequest::OrRequired => Min::NONE,
        };
        let weak = negotiate_only(&c, &s, cm, sm, &sem);
        let strict = negotiate_only(&c, &s, cm | cx, sm | sx, &sem);
        if strict.is_success() {
            prop_assert!(weak.is_success(), "weak {weak:?} strict {strict:?}");
        }
    }

    /// The hot path's shortcuts change nothing: `negotiate_only` equals the
    /// plain composition of the per-message steps on every input.
    #[test]
    fn negotiate_only_equals_the_stepwise_composition(
        forced in any::<bool>(),
        c in client(false),
        offer in offer(),
        s in server(),
        cm in mask(),
        sm in mask(),
        sem in semantics(),
    ) {
        let c = ClientConfig { flags_override: forced.then_some(offer), ..c };
        prop_assert_eq!(
            negotiate_only(&c, &s, cm, sm, &sem),
            negotiate_stepwise(&c, &s, cm, sm, &sem)
        );
    }

    /// A server's CHALLENGE holds only flags the client offered, except those
    /// the server always sets (REQUEST_TARGET, NTLM, ALWAYS_SIGN, TARGET_INFO,
    /// a target type) and KEY_EXCH when DATAGRAM is returned; and it obeys the
    /// per-flag rules of MS-NLMP 2.2.2.5.
    #[test]
    fn challenge_flags_add_only_what_the_spec_allows(
        n in offer(),
        mut s in server(),
        sem in semantics(),
    ) {
        s.flags_override = None;
        let Ok(c) = challenge_flags(n, &s, &sem) else {
            // Refused only when no charset is usable.
            prop_assert!(!n.intersection(s.supported).intersects(F::NEGOTIATE_UNICODE | F::NEGOTIATE_OEM));
            return Ok(());
        };
        let mut allowed = n | SERVER_ALWAYS_SETS;
        if c.contains(F::NEGOTIATE_DATAGRAM) {
            allowed |= F::NEGOTIATE_KEY_EXCH;
        }
        prop_assert!(allowed.contains(c), "{n:?} -> {c:?}");
        // Exactly one charset, at most one of ESS / LM_KEY, exactly one target type.
        prop_assert!(c.contains(F::NEGOTIATE_UNICODE) != c.contains(F::NEGOTIATE_OEM));
        prop_assert!(!c.contains(F::NEGOTIATE_EXTENDED_SESSIONSECURITY | F::NEGOTIATE_LM_KEY));
        if s.target_info == TargetInfoRule::RequestTarget && !n.contains(F::REQUEST_TARGET) {
            // Samba: no REQUEST_TARGET, no target type and no TARGET_INFO.
            prop_assert!(!c.intersects(F::TARGET_TYPE_DOMAIN | F::TARGET_TYPE_SERVER | F::NEGOTIATE_TARGET_INFO));
        } else {
            prop_assert!(c.contains(F::TARGET_TYPE_DOMAIN) != c.contains(F::TARGET_TYPE_SERVER));
        }
        // SIGN and SEAL echoed exactly.
        let ss = F::NEGOTIATE_SIGN | F::NEGOTIATE_SEAL;
        prop_assert_eq!(c & ss, n & ss);
        prop_assert!(c.contains(F::REQUEST_TARGET | F::NEGOTIATE_NTLM | F::NEGOTIATE_ALWAYS_SIGN));
        // Literal strength rule: 128/56 only with SIGN or SEAL.
        if sem.server_strength == ServerStrength::Literal && !n.intersects(ss) {
            prop_assert!(!c.intersects(F::NEGOTIATE_128 | F::NEGOTIATE_56));
        }
        // Unsupported optional flags are never returned.
        let optional = SERVER_CAPABILITIES.difference(ss | F::NEGOTIATE_KEY_EXCH);
        prop_assert!(s.supported.contains(c & optional));
    }

    /// Under the strictest reading, a successful exchange meets the union of
    /// both masks (the effective requirement), and `policy check` agrees.
    #[test]
    fn success_meets_the_union_under_the_default_reading(
        c in client(false),
        s in server(),
        cm in mask(),
        sm in mask(),
    ) {
        let sem = Semantics::MS_NLMP;
        let out = negotiate_only(&c, &s, cm, sm, &sem);
        if let Some(n) = out.negotiated() {
            prop_assert!(n.flags.contains(effective_requirement(cm, sm)));
            prop_assert!(check_negotiated(n.flags, cm, sm, &sem).is_ok());
        }
    }

    /// `policy check` fails exactly when the union is not met (default reading),
    /// and blames the server whenever the server's own value is not met.
    #[test]
    fn check_negotiated_matches_the_union(flags in any::<u32>(), cm in mask(), sm in mask()) {
        let flags = F::from_bits_retain(flags);
        let sem = Semantics::MS_NLMP;
        let verdict = check_negotiated(flags, cm, sm, &sem);
        prop_assert_eq!(verdict.is_ok(), flags.contains(effective_requirement(cm, sm)));
        if let Err(x) = verdict {
            let server_met = flags.contains(sm.required_flags());
            prop_assert_eq!(x.side == ntlm_policy::Side::Server, !server_met);
            prop_assert_eq!(x.missing, x.required.difference(flags));
        }
    }

    /// Every numeric form reads back the same value; parsing never panics.
    #[test]
    fn numeric_forms_round_trip(v in any::<u32>()) {
        for text in [
            format!("{v:#x}"),
            format!("{v:#010X}"),
            v.to_string(),
            format!("dword:{v:08x}"),
            format!("\"NtlmMinClientSec\"=dword:{v:08x}"),
            format!("NtlmMinServerSec    REG_DWORD    {v:#x}"),
            format!(r"MACHINE\System\CurrentControlSet\Control\Lsa\MSV1_0\NTLMMinClientSec=4,{v}"),
            format!("NtlmMinClientSec : {}", i32::from_ne_bytes(v.to_ne_bytes())),
        ] {
            let parsed: Min = text.parse().map_err(|e| TestCaseError::fail(format!("{e}")))?;
            prop_assert_eq!(parsed.bits(), v, "{}", text);
        }
        let names: Vec<_> = Min::from_registry(v).names().collect();
        let joined = if names.is_empty() { "none".to_string() } else { names.join(" | ") };
        prop_assert_eq!(joined.parse::<Min>().map(Min::bits), Ok(v & Min::KNOWN_BITS));
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(s in "\\PC{0,40}") {
        let _ = s.parse::<Min>();
        let _ = s.parse::<LmCompatibilityLevel>();
        let _ = s.parse::<Semantics>();
        let _ = ntlm_policy::read_settings(&s);
    }

    /// Arbitrary multi-line text never panics the paste reader, and an
    /// error always carries a line and column inside the input.
    #[test]
    fn pasted_lines_never_panic(lines in prop::collection::vec("[ -~\\t]{0,60}", 0..6)) {
        let input = lines.join("\n");
        if let Err(e) = ntlm_policy::read_settings(&input) {
            if let Some((line, column)) = e.position() {
                prop_assert!(line >= 1 && line <= lines.len().max(1));
                prop_assert!(column >= 1);
            }
        }
    }

    /// The Restrict NTLM forms followed by arbitrary text never panic the
    /// paste reader, and their errors carry a position inside the input.
    #[test]
    fn restrict_forms_with_arbitrary_tails_never_panic(
        prefix in prop::sample::select(vec![
            "\"ClientAllowedNTLMServers\"=hex(7):",
            "\"DCAllowedNTLMServers\"=",
            "ClientAllowedNTLMServers    REG_MULTI_SZ    ",
            "MACHINE\\System\\CurrentControlSet\\Services\\Netlogon\\Parameters\\DCAllowedNTLMServers=",
            "BlockNTLMServerExceptionList : ",
            "reg add HKLM\\X /v ClientAllowedNTLMServers /t REG_MULTI_SZ /d ",
            "RestrictNTLMInDomain    REG_DWORD    ",
            "\"RestrictSendingNTLMTraffic\"=dword:",
            "Network security: Restrict NTLM: Incoming NTLM traffic  ",
            "Network security: Restrict NTLM: Audit NTLM authentication in this domain",
            "Block NTLM (LM, NTLM, NTLMv2)  ",
            "BlockNtlmv1SSO=",
        ]),
        tail in "[ -~\t]{0,40}",
        next in "[ -~]{0,30}",
    ) {
        let input = format!("{prefix}{tail}\n{next}");
        if let Err(e) = ntlm_policy::read_settings(&input) {
            if let Some((line, column)) = e.position() {
                prop_assert!((1..=2).contains(&line), "{input:?}: line {line}");
                prop_assert!(column >= 1);
            }
        }
    }

    /// Every pasted form of both masks and a level, in one paste, reads back.
    #[test]
    fn pasted_forms_round_trip(client in any::<u32>(), server in any::<u32>(), level in level(), crlf in any::<bool>()) {
        let pastes = [
            format!(
                "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0\n    \
                 NtlmMinClientSec    REG_DWORD    {client:#x}\n    \
                 NtlmMinServerSec    REG_DWORD    {server:#x}\n\n\
                 HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\n    \
                 LmCompatibilityLevel    REG_DWORD    {:#x}\n",
                level.level()
            ),
            format!(
                "Windows Registry Editor Version 5.00\n\n\
                 [HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0]\n\
                 \"NtlmMinClientSec\"=dword:{client:#010x}\n\"NtlmMinServerSec\"=dword:{server:08x}\n\n\
                 [HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa]\n\
                 \"LmCompatibilityLevel\"=dword:{:08x}\n",
                level.level()
            ),
            format!(
                "[Registry Values]\n\
                 MACHINE\\System\\CurrentControlSet\\Control\\Lsa\\MSV1_0\\NTLMMinClientSec=4,{client}\n\
                 MACHINE\\System\\CurrentControlSet\\Control\\Lsa\\MSV1_0\\NTLMMinServerSec=4,{server}\n\
                 MACHINE\\System\\CurrentControlSet\\Control\\Lsa\\LmCompatibilityLevel=4,{}\n",
                level.level()
            ),
        ];
        for paste in pastes {
            let paste = if crlf { paste.replace('\n', "\r\n") } else { paste };
            let got = ntlm_policy::read_settings(&paste)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{paste}")))?;
            let values: Vec<_> = got
                .settings
                .iter()
                .map(|s| match &s.setting {
                    ntlm_policy::Setting::MinSessionSecurity(p) => (p.mask.bits(), None),
                    ntlm_policy::Setting::LmCompatibilityLevel { level, .. } => (0, Some(*level)),
                    _ => (u32::MAX, None),
                })
                .collect();
            prop_assert_eq!(values, vec![(client, None), (server, None), (0, Some(level))], "{}", paste);
            prop_assert!(got.settings.iter().all(|s| !s.misplaced), "{}", paste);
        }
        // The Group Policy text of the known bits reads back as those bits.
        let labels: Vec<&str> = Min::from_registry(server).meaning().map(|b| b.label).filter(|l| l.starts_with("Require")).collect();
        if !labels.is_empty() {
            let text = format!(
                "Network security: Minimum session security for NTLM SSP based (including secure RPC) servers\t{}",
                labels.join(", ")
            );
            let got = ntlm_policy::read_settings(&text).map_err(|e| TestCaseError::fail(format!("{e}")))?;
            let bits = match got.settings.first().map(|s| &s.setting) {
                Some(ntlm_policy::Setting::MinSessionSecurity(p)) => p.mask.bits(),
                _ => u32::MAX,
            };
            prop_assert_eq!(bits, server & 0x2008_0030);
        }
        let text = format!("Network security: LAN Manager authentication level  {}", level.name());
        let got = ntlm_policy::read_settings(&text).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(
            got.settings.first().map(|s| s.setting.clone()),
            Some(ntlm_policy::Setting::LmCompatibilityLevel { level, form: ntlm_policy::InputForm::PolicyText })
        );
    }

    /// `Semantics::spec` reads back through `--semantics` for any switches.
    #[test]
    fn semantics_spec_round_trips(s in semantics()) {
        prop_assert_eq!(Semantics::parse(&s.spec()), Ok(s));
    }
}

proptest! {
    /// Every channel-binding registry value in every export form reads back
    /// as itself, or is refused with an error naming the value and its line.
    #[test]
    fn channel_binding_values_in_every_form(v in 0u32..6, which in 0usize..3, form in 0usize..4) {
        let name = ntlm_policy::binding::REGISTRY_NAMES[which];
        let line = match form {
            0 => format!("{name}    REG_DWORD    0x{v:x}"),
            1 => format!("\"{name}\"=dword:{v:08x}"),
            2 => format!("MACHINE\\System\\CurrentControlSet\\Services\\NTDS\\Parameters\\{name}=4,{v}"),
            _ => format!("{name} : {v}"),
        };
        match ntlm_policy::read_settings(&line) {
            Ok(got) => {
                let Some(ntlm_policy::Setting::Binding(b)) = got.settings.first().map(|s| s.setting.clone()) else {
                    return Err(TestCaseError::fail(format!("{line}: {got:?}")));
                };
                prop_assert_eq!(b.name(), name);
                // LDAPServerIntegrity 0 reads as 1 (None).
                let want = if name == "LDAPServerIntegrity" && v == 0 { 1 } else { v };
                prop_assert_eq!(b.registry_value(), Some(want));
            }
            Err(e) => {
                prop_assert!(v > 1, "{}: {}", line, e);
                prop_assert!(e.problem().contains(&format!("{name} {v}")), "{}", e);
                prop_assert_eq!(e.position().map(|p| p.0), Some(1));
            }
        }
    }
}
