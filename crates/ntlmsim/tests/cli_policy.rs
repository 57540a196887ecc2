//! `ntlmsim policy explain|check|semantics` and `--semantics` per switch:
//! JSON keys, pasted input forms, certainty, and error messages.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

use std::process::Command;

use serde_json::Value;

fn ntlmsim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ntlmsim"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn json(args: &[&str]) -> (i32, Value) {
    let mut a = args.to_vec();
    a.push("--json");
    let (code, out, err) = ntlmsim(&a);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    (code, v)
}

/// Every combination of the semantics switches' values.
fn readings() -> usize {
    ntlm_policy::Semantics::SWITCHES
        .iter()
        .map(|s| s.values.len())
        .product()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

#[test]
fn explain_value_names_are_flag_names_and_tokens_have_their_own_key() {
    let (code, v) = json(&["policy", "explain", "0x20080031"]);
    assert_eq!(code, 0);
    assert_eq!(v["value"], "0x20080031");
    // The contract's "flags in JSON" rule: MS-NLMP names of every set bit.
    assert_eq!(
        strings(&v["value_names"]),
        [
            "NEGOTIATE_UNICODE",
            "NEGOTIATE_SIGN",
            "NEGOTIATE_SEAL",
            "NEGOTIATE_EXTENDED_SESSIONSECURITY",
            "NEGOTIATE_128"
        ]
    );
    assert_eq!(
        strings(&v["value_tokens"]),
        [
            "require_message_integrity",
            "require_message_confidentiality",
            "require_NTLMv2_session_security",
            "require_128bit_encryption"
        ]
    );
    assert_eq!(v["unknown_bits"], "0x00000001");
    assert_eq!(v["kind"], "min_session_security");
    assert_eq!(v["meaning"].as_array().unwrap().len(), 4);
}

#[test]
fn explain_reads_reg_query_output_with_its_key_line() {
    let paste = "\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0\r\n    \
                 NtlmMinServerSec    REG_DWORD    0x20080000\r\n";
    let (code, v) = json(&["policy", "explain", paste]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["registry_value"], "NtlmMinServerSec");
    assert_eq!(v["value"], "0x20080000");
    assert_eq!(v["line"], 3);
    assert_eq!(
        v["key"],
        "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0"
    );
    assert_eq!(v["misplaced"], false);
    assert_eq!(v["form"], "Line(RegQuery)");
}

#[test]
fn explain_lists_every_setting_of_a_reg_file() {
    let paste = "Windows Registry Editor Version 5.00\n\n\
                 [HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0]\n\
                 \"NtlmMinClientSec\"=dword:0x20080030\n\
                 \"NtlmMinServerSec\"=dword:20080000\n\
                 \"AuditBaseObjects\"=dword:00000001\n";
    let (code, v) = json(&["policy", "explain", paste]);
    assert_eq!(code, 0, "{v}");
    let docs = v.as_array().unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0]["registry_value"], "NtlmMinClientSec");
    assert_eq!(docs[0]["value"], "0x20080030");
    assert_eq!(docs[1]["registry_value"], "NtlmMinServerSec");
    assert_eq!(docs[1]["ignored_values"][0]["name"], "AuditBaseObjects");
    assert_eq!(docs[1]["ignored_values"][0]["line"], 6);
    let (_, text, _) = ntlmsim(&["policy", "explain", paste]);
    assert!(
        text.contains("line 6: AuditBaseObjects is not a setting this explains"),
        "{text}"
    );
}

#[test]
fn explain_reads_group_policy_text_with_several_options() {
    let (code, v) = json(&[
        "policy",
        "explain",
        "Network security: Minimum session security for NTLM SSP based (including secure RPC) \
         servers\tRequire NTLMv2 session security, Require 128-bit encryption",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["registry_value"], "NtlmMinServerSec");
    assert_eq!(v["value"], "0x20080000");
    assert_eq!(v["form"], "PolicyText");
}

#[test]
fn explain_reads_lm_compatibility_level_in_every_form() {
    for paste in [
        r#""LmCompatibilityLevel"=dword:00000005"#,
        "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\n    LmCompatibilityLevel    REG_DWORD    0x5",
        r"MACHINE\System\CurrentControlSet\Control\Lsa\LmCompatibilityLevel=4,5",
        "Network security: LAN Manager authentication level  Send NTLMv2 response only. Refuse LM & NTLM",
    ] {
        let (code, v) = json(&["policy", "explain", paste]);
        assert_eq!(code, 0, "{paste}: {v}");
        assert_eq!(v["kind"], "lm_compatibility_level", "{paste}");
        assert_eq!(v["registry_value"], "LmCompatibilityLevel");
        assert_eq!(v["level"], 5);
        assert_eq!(v["name"], "Send NTLMv2 response only. Refuse LM & NTLM");
        assert_eq!(
            strings(&v["server_refuses"]),
            ["LM", "NTLMv1", "NTLM2_SESSION"]
        );
        assert_eq!(v["client_sends_ntlmv2"], true);
        assert_eq!(v["misplaced"], false);
        let rules: Vec<&str> = v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["rule_id"].as_str().unwrap())
            .collect();
        assert_eq!(
            rules,
            ["neg-client-ess", "lm-refuse-lm", "lm-refuse-ntlmv1"]
        );
        assert_eq!(v["sources"][0], "MS-NLMP Appendix B <81>");
    }
    let (_, text, _) = ntlmsim(&[
        "policy",
        "explain",
        r#""LmCompatibilityLevel"=dword:00000004"#,
    ]);
    assert!(
        text.contains("value: 4 (Send NTLMv2 response only. Refuse LM)"),
        "{text}"
    );
    assert!(text.contains("as a server"), "{text}");
    assert!(text.contains("refuses LM responses"), "{text}");
}

#[test]
fn explain_warns_about_a_value_under_the_wrong_key() {
    let paste = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\n    \
                 NtlmMinClientSec    REG_DWORD    0x20000000";
    let (code, v) = json(&["policy", "explain", paste]);
    assert_eq!(code, 0);
    assert_eq!(v["misplaced"], true);
    let w = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == "misplaced-key")
        .unwrap_or_else(|| panic!("{v}"));
    assert!(w["message"].as_str().unwrap().contains("MSV1_0"), "{w}");
}

#[test]
fn explain_errors_name_the_line_and_column() {
    let paste = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0\n    \
                 NtlmMinServerSec    REG_DWORD    0x2008zz00\n";
    let (code, out, err) = ntlmsim(&["policy", "explain", paste]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.starts_with("error: line 2, column 38: "), "{err}");
    assert!(err.contains("not a hexadecimal number"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    let (code, _, err) = ntlmsim(&["policy", "explain", "Require 256-bit encryption"]);
    assert_eq!(code, 2);
    assert!(err.contains("line 1, column 1"), "{err}");
}

#[test]
fn semantics_switches_set_on_their_own_and_after_a_preset() {
    for spec in [
        "rule-128=kb239869,client-request=or-required",
        "ms-nlmp,bit56=ignore",
        "lenient,rule-128=strict",
    ] {
        let (code, v) = json(&[
            "policy",
            "check",
            "--negotiated",
            "0xe2888235",
            "--server-min",
            "0x20080000",
            "--semantics",
            spec,
        ]);
        assert_eq!(code, 0, "{spec}: {v}");
        // The spec printed reads back to the same switches.
        let printed = v["semantics_spec"].as_str().unwrap().to_owned();
        let (code, w) = json(&[
            "policy",
            "check",
            "--negotiated",
            "0xe2888235",
            "--semantics",
            &printed,
        ]);
        assert_eq!(code, 0);
        assert_eq!(w["semantics_spec"], printed.as_str(), "{spec}");
    }
    let (_, v) = json(&[
        "policy",
        "check",
        "--negotiated",
        "0xe2888235",
        "--semantics",
        "rule-128=kb239869,client-request=or-required",
    ]);
    let printed = v["semantics_spec"].as_str().unwrap();
    assert!(printed.contains("client-request=or-required"), "{printed}");
    let (_, v) = json(&[
        "policy",
        "check",
        "--negotiated",
        "0xe2888235",
        "--semantics",
        "ms-nlmp,bit56=ignore",
    ]);
    assert_eq!(v["semantics"], "custom");
    assert!(
        v["semantics_spec"]
            .as_str()
            .unwrap()
            .ends_with(",bit56=ignore"),
        "{v}"
    );
}

#[test]
fn semantics_errors_name_the_switch_and_its_values() {
    let (code, out, err) = ntlmsim(&[
        "policy",
        "check",
        "--negotiated",
        "0xe2888235",
        "--semantics",
        "rule-128=loose",
    ]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("\"loose\" is not a value of rule-128"),
        "{err}"
    );
    assert!(err.contains("accepted: strict, kb239869"), "{err}");
    let (code, _, err) = ntlmsim(&["handshake", "--semantics", "bit57=ignore"]);
    assert_eq!(code, 2);
    assert!(err.contains("\"bit57\" is not a switch"), "{err}");
    assert!(err.contains("authenticate-extra"), "{err}");
    let (_, text, _) = ntlmsim(&["policy", "semantics"]);
    for sw in [
        "rule-128",
        "server-strength",
        "client-request",
        "bit56",
        "authenticate-extra",
    ] {
        assert!(text.contains(&format!("  {sw} ")), "{sw}: {text}");
    }
    assert!(text.contains("kb239869"), "{text}");
}

#[test]
fn check_certainty_names_the_reading_a_failure_depends_on() {
    // SIGN + ESS, no SEAL, no 128: fails only under the strict 128-bit reading.
    let args = [
        "policy",
        "check",
        "--negotiated",
        "0x02888215",
        "--server-min",
        "0x20000000",
        "--semantics",
        "ms-nlmp,rule-128=strict",
    ];
    let (code, v) = json(&args);
    assert_eq!(code, 1);
    let c = &v["certainty"];
    assert_eq!(c["verdict"], "breaks");
    assert_eq!(c["holds_under_every_reading"], false);
    assert_eq!(c["readings"], readings());
    assert_eq!(c["agreeing"], readings() / 2);
    assert_eq!(strings(&c["depends_on"]), ["rule-128"]);
    assert_eq!(strings(&c["reversed_by"]), ["rule-128=kb239869"]);
    assert_eq!(strings(&c["only_under"]), ["rule-128=strict"]);
    let (_, text, _) = ntlmsim(&args);
    assert!(
        text.contains(
            "certainty:  breaks only under rule-128=strict; works under every other reading"
        ),
        "{text}"
    );
}

#[test]
fn check_certainty_of_a_failure_every_reading_shares() {
    // Neither ESS nor 56 (nor 128, which the default reading does not require
    // without SEAL): fails under every reading (no NTLMv2 known).
    let args = [
        "policy",
        "check",
        "--negotiated",
        "0x00008215",
        "--server-min",
        "0xa0080000",
    ];
    let (code, v) = json(&args);
    assert_eq!(code, 1);
    assert_eq!(v["certainty"]["holds_under_every_reading"], true);
    assert_eq!(v["certainty"]["depends_on"].as_array().unwrap().len(), 0);
    // Each missing bit with its own rule and basis.
    let per_bit: Vec<(&str, &str)> = v["outcome"]["missing_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["rule_id"].as_str().unwrap()))
        .collect();
    assert_eq!(per_bit.len(), 2, "{v}");
    assert_eq!(
        per_bit[0],
        ("NEGOTIATE_EXTENDED_SESSIONSECURITY", "min-flags-server")
    );
    assert_eq!(per_bit[1], ("NEGOTIATE_56", "min-56"));
    assert!(
        v["outcome"]["missing_rules"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["basis"].is_string() && r["rule"].is_string())
    );
    let (_, text, _) = ntlmsim(&args);
    assert!(text.contains("per missing bit:"), "{text}");
    assert!(text.contains("NEGOTIATE_56"), "{text}");
    assert!(
        text.contains("breaks under every documented reading"),
        "{text}"
    );
}

#[test]
fn handshake_reports_its_certainty_and_semantics() {
    let (code, v) = json(&[
        "handshake",
        "--client",
        "jtds-1.3",
        "--server",
        "windows-11",
        "--server-min",
        "0x20080000",
        "--seed",
        "1",
        "--time",
        "0",
    ]);
    assert_eq!(code, 1);
    assert_eq!(v["certainty"]["verdict"], "breaks");
    assert_eq!(v["certainty"]["readings"], readings());
    assert!(
        v["certainty"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("breaks ")
    );
    assert!(v["semantics"].is_string());
    // jTDS offers neither 128 nor ESS; without SEAL only ESS is missing.
    assert_eq!(v["outcome"]["missing_rules"].as_array().unwrap().len(), 1);
    // A success carries a certainty too; the old keys are all still there.
    let (code, v) = json(&["handshake", "--seed", "1", "--time", "0"]);
    assert_eq!(code, 0);
    assert_eq!(v["certainty"]["verdict"], "works");
    for key in ["client", "server", "messages", "outcome"] {
        assert!(v.get(key).is_some(), "{key}");
    }
    let (_, text, _) = ntlmsim(&["handshake", "--seed", "1", "--time", "0"]);
    assert!(text.contains("  certainty:  works "), "{text}");
}

#[test]
fn explain_restrict_ntlm_says_host_effect_events_and_rules() {
    let paste = "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0]\n\
                 \"RestrictSendingNTLMTraffic\"=dword:00000001\n\
                 \"RestrictReceivingNTLMTraffic\"=dword:00000002\n\
                 \"RestrictNTLMInDomain\"=dword:00000007\n";
    let (code, v) = json(&["policy", "explain", paste]);
    assert_eq!(code, 0);
    let docs = v.as_array().unwrap();
    assert_eq!(docs.len(), 3);
    // Audit only: would be logged, never breaks.
    assert_eq!(docs[0]["registry_value"], "RestrictSendingNTLMTraffic");
    assert_eq!(docs[0]["effect"], "logs");
    assert_eq!(docs[0]["events"][0]["id"], 8001);
    assert_eq!(docs[0]["rules"][0]["rule_id"], "restrict-outgoing-audit");
    assert_eq!(docs[1]["effect"], "breaks");
    assert_eq!(docs[1]["host"], "server");
    assert_eq!(docs[1]["option"], "Deny all accounts");
    assert_eq!(docs[1]["events"][0]["id"], 4002);
    // RestrictNTLMInDomain under MSV1_0: a DC reads it from Netlogon\Parameters.
    assert_eq!(docs[2]["misplaced"], true);
    assert_eq!(docs[2]["host"], "dc");
    assert_eq!(docs[2]["warnings"][0]["id"], "misplaced-key");
    assert!(
        docs[2]["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Netlogon\\Parameters")
    );

    let (code, out, _) = ntlmsim(&[
        "policy",
        "explain",
        "Network security: Restrict NTLM: Add server exceptions in this domain  app01, *.legacy.corp",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("value: 2 name(s): app01, *.legacy.corp, DCAllowedNTLMServers"),
        "{out}"
    );

    let (code, _, err) = ntlmsim(&[
        "policy",
        "explain",
        "Network security: Restrict NTLM: Outgoing NTLM traffic to remote servers  Deny most",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("\"Deny most\" is not an option of RestrictSendingNTLMTraffic"),
        "{err}"
    );
    assert!(err.contains("\"Audit all\" (1)"), "{err}");
}

/// Channel binding, target-name and LDAP signing settings: every pasted form
/// is explained with its setting, carriers and rules.
#[test]
fn explain_channel_binding_settings() {
    let (code, v) = json(&[
        "policy",
        "explain",
        r"MACHINE\System\CurrentControlSet\Services\NTDS\Parameters\LdapEnforceChannelBinding=4,2",
    ]);
    assert_eq!(code, 0);
    assert_eq!(v["kind"], "channel_binding");
    assert_eq!(v["setting"], "LdapEnforceChannelBinding");
    assert_eq!(v["option"], "Always");
    assert_eq!(v["carriers"][0], "ldaps");
    assert_eq!(v["rules"][0]["rule_id"], "ldap-cbt-always");
    assert_eq!(v["rules"][0]["rule"], "KB4034879");

    let (_, v) = json(&[
        "policy",
        "explain",
        "<extendedProtection tokenChecking=\"Require\" />",
    ]);
    assert_eq!(v["setting"], "extendedProtection");
    assert_eq!(v["rules"][0]["rule_id"], "epa-require");
    assert!(v.get("registry_value").is_none());

    let (_, v) = json(&[
        "policy",
        "explain",
        "Microsoft network server: Server SPN target name validation level\nRequired from client",
    ]);
    assert_eq!(v["registry_value"], 2);
    assert_eq!(v["rules"][0]["rule_id"], "smb-spn-required");

    // Several settings in one paste, one of them under the wrong key.
    let (_, v) = json(&[
        "policy",
        "explain",
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0]\n\
         \"NtlmMinServerSec\"=dword:20080000\n\
         \"LDAPServerIntegrity\"=dword:00000002\n",
    ]);
    assert_eq!(v[1]["setting"], "LDAPServerIntegrity");
    assert_eq!(v[1]["misplaced"], true);
    assert_eq!(v[1]["warnings"][0]["id"], "misplaced-key");
    assert_eq!(v[1]["rules"][0]["rule_id"], "ldap-signing-required");

    let (code, out, _) = ntlmsim(&[
        "policy",
        "explain",
        "Domain controller: LDAP server signing requirements  Require signing",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("applies over: ldap"), "{out}");
    assert!(out.contains("LDAP_STRONG_AUTH_REQUIRED"), "{out}");

    let (code, _, err) = ntlmsim(&["policy", "explain", "SmbServerNameHardeningLevel=4"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("SmbServerNameHardeningLevel 4"), "{err}");
    assert!(err.contains("line 1"), "{err}");
}
