//! Every field observation in `data/observations.toml` holds under the
//! default semantics, with the full handshake engine and the flags-only one.
#![allow(clippy::panic, reason = "test failures name the observation")]

use ntlm_policy::Semantics;
use ntlm_sim::observations::{Observation, check_all};
use ntlm_sim::profiles::Catalog;

#[test]
fn every_observation_holds_under_the_default_semantics() {
    let catalog = Catalog::builtin().unwrap_or_else(|e| panic!("{e}"));
    let all = Observation::builtin().unwrap_or_else(|e| panic!("{e}"));
    let failures: Vec<String> = check_all(&all, &catalog, Semantics::default())
        .into_iter()
        .filter_map(|c| {
            c.agreement
                .err()
                .map(|e| format!("{}: {e}", c.observation.id))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "observations the model contradicts:\n{}",
        failures.join("\n")
    );
}

/// The ids of the observations `all` that the model contradicts under
/// `semantics`, sorted.
fn contradicted(all: &[Observation], semantics: Semantics) -> Vec<String> {
    let catalog = Catalog::builtin().unwrap_or_else(|e| panic!("{e}"));
    let mut ids: Vec<String> = check_all(all, &catalog, semantics)
        .into_iter()
        .filter(|c| c.agreement.is_err())
        .map(|c| c.observation.id.clone())
        .collect();
    ids.sort_unstable();
    ids
}

/// Why the default changed: the strict reading of the 128-bit bit (the
/// `ms-nlmp` preset) contradicts the field wherever a client that offers
/// neither 128 nor SEAL meets a Windows 7+ server at its default (or any
/// 0x20000000) minimum: it predicts a refusal at NEGOTIATE where the field
/// saw a logon, or a refusal for the wrong bits or at the wrong message.
#[test]
fn the_strict_128_reading_contradicts_the_field() {
    let all = Observation::builtin().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        contradicted(&all, Semantics::MS_NLMP),
        [
            "curl-12511-epa-require",
            "curl-3280-no-bindings-pair-epa-accept",
            "curl-iis-challenge",
            "freetds-221-jtds-ntlmv2",
            "jtds-sql-server-2016",
            "kb4034879-ldaps-always-old-client",
            "kb4034879-ldaps-when-supported-old-client",
            "mssql-jdbc-1180-128-only",
            "mssql-jdbc-1180-ess-required",
            "node-http-ntlm-59",
        ]
    );
}

/// The channel-binding observations pin the reading of an all-zero
/// MsvAvChannelBindings: read as MS-NLMP writes it (accepted), the model
/// contradicts gssapi/gss-ntlmssp#25 under Extended Protection Accept.
#[test]
fn accepting_zero_channel_bindings_contradicts_the_field() {
    let mut all = Observation::builtin().unwrap_or_else(|e| panic!("{e}"));
    for o in &mut all {
        o.binding.zero_bindings = ntlm_policy::ZeroBindings::Accepted;
    }
    assert_eq!(
        contradicted(&all, Semantics::default()),
        ["gss-ntlmssp-25-zero-bindings-epa-accept"]
    );
}

/// Why `level0-ess` defaults to `requested`: read as the policy text says
/// (level 0 "never use NTLMv2 session security"), the model contradicts the
/// public Windows XP exchange of MS-POP3 4.1 and E. Glass's report of
/// level-0 clients sending the NTLM2 session response, and nothing else.
#[test]
fn the_policy_texts_reading_of_level_0_contradicts_the_field() {
    let all = Observation::builtin().unwrap_or_else(|e| panic!("{e}"));
    let never = Semantics {
        level0_ess: ntlm_policy::Level0Ess::Never,
        ..Semantics::default()
    };
    assert_eq!(
        contradicted(&all, never),
        [
            "glass-2003-level0-ntlm2-session",
            "ms-pop3-xp-ntlm2-session"
        ]
    );
}
