//! `ntlmsim handshake`: exact MS-NLMP 4.2 reproduction, verdicts and exit codes.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

use std::process::Command;

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

fn json(args: &[&str]) -> (i32, serde_json::Value) {
    let mut a = args.to_vec();
    a.push("--json");
    let (code, out, err) = ntlmsim(&a);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    (code, v)
}

fn spec(level: &str, client_flags: &str, server_flags: &str) -> serde_json::Value {
    let (code, v) = json(&[
        "handshake",
        "--client",
        "ms-nlmp-4.2",
        "--server",
        "ms-nlmp-4.2",
        "--client-lm-level",
        level,
        "--client-flags",
        client_flags,
        "--server-flags",
        server_flags,
        "--server-challenge",
        "0123456789abcdef",
        "--client-challenge",
        "aaaaaaaaaaaaaaaa",
        "--session-key",
        "55555555555555555555555555555555",
        "--time",
        "0",
        "--user",
        "User",
        "--domain",
        "Domain",
        "--password",
        "Password",
        "--workstation",
        "COMPUTER",
    ]);
    assert_eq!(code, 0, "{v}");
    v
}

fn file_hex(name: &str) -> String {
    let p = format!(
        "{}/crates/ntlm-wire/tests/data/{name}",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../..")
    );
    hex::encode(std::fs::read(p).unwrap())
}

#[test]
fn reproduces_ms_nlmp_4_2_exactly() {
    for (level, c, s, sec) in [
        ("1", "0xe2808235", "0xe2028233", "4.2.2.3"),
        ("1", "0x82088235", "0x820a8233", "4.2.3.3"),
        ("3", "0xe2888235", "0xe28a8233", "4.2.4.3"),
    ] {
        let v = spec(level, c, s);
        assert_eq!(
            v["messages"]["challenge"]["hex"],
            file_hex(&format!("ms-nlmp-{sec}-challenge.bin")),
            "{sec} CHALLENGE"
        );
        assert_eq!(
            v["messages"]["authenticate"]["hex"],
            file_hex(&format!("ms-nlmp-{sec}-authenticate.bin")),
            "{sec} AUTHENTICATE"
        );
        assert_eq!(v["outcome"]["result"], "success");
    }
    let v = spec("3", "0xe2888235", "0xe28a8233");
    let o = &v["outcome"];
    assert_eq!(o["response_kind"], "NTLMv2");
    assert_eq!(o["key_strength_bits"], 128);
    assert_eq!(
        o["exported_session_key"],
        "55555555555555555555555555555555"
    );
    assert_eq!(o["negotiated_flags"], "0xe2888235");
    assert_eq!(
        v["messages"]["authenticate"]["decoded"]["ntlmv2"]["nt_proof_str"],
        "68cd0ab851e51c96aabc927bebef6a1c"
    );
}

#[test]
fn policy_failure_is_exit_1_with_every_field() {
    let (code, v) = json(&[
        "handshake",
        "--client",
        "mssql-jdbc-7.4",
        "--server-min",
        "0x20080000",
    ]);
    assert_eq!(code, 1);
    let o = &v["outcome"];
    assert_eq!(o["result"], "failure");
    assert_eq!(o["side"], "server");
    assert_eq!(o["stage"], "negotiate");
    assert_eq!(o["status"], "SEC_E_UNSUPPORTED_FUNCTION");
    assert_eq!(o["status_code"], "0x80090302");
    assert_eq!(o["required"], "0x20080000");
    // mssql-jdbc 7.4 offers neither ESS nor 128; without SEAL only the ESS
    // bit fails (the event 4011 of microsoft/mssql-jdbc#1180).
    assert_eq!(o["missing"], "0x00080000");
    assert_eq!(
        o["missing_names"],
        serde_json::json!(["NEGOTIATE_EXTENDED_SESSIONSECURITY"])
    );
    assert_eq!(o["rule"], "KB239869");
    assert!(
        v["messages"]["challenge"].is_null(),
        "no CHALLENGE after a NEGOTIATE failure"
    );
    assert!(
        !v["messages"]["negotiate"]["hex"]
            .as_str()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn client_side_failure_and_wrong_password() {
    // A server whose CHALLENGE lacks 128 (forced flags: 0xa2898205 without 128).
    let (code, v) = json(&[
        "handshake",
        "--server-flags",
        "0x82898205",
        "--server-min",
        "none",
        "--client-min",
        "0x20000000",
        "--semantics",
        "ms-nlmp",
    ]);
    assert_eq!(code, 1);
    assert_eq!(v["outcome"]["side"], "client");
    assert_eq!(v["outcome"]["stage"], "challenge");
    assert_eq!(
        v["outcome"]["missing_names"],
        serde_json::json!(["NEGOTIATE_128"])
    );
    assert!(v["messages"]["authenticate"].is_null());

    let (code, v) = json(&["handshake", "--server-password", "other", "--seed", "3"]);
    assert_eq!(code, 1);
    assert_eq!(v["outcome"]["status"], "STATUS_LOGON_FAILURE");
    assert_eq!(v["outcome"]["status_code"], "0xc000006d");
    assert_eq!(v["outcome"]["stage"], "authenticate");
}

#[test]
fn lm_levels_that_cannot_authenticate() {
    let (code, v) = json(&[
        "handshake",
        "--client-lm-level",
        "2",
        "--server-lm-level",
        "5",
    ]);
    assert_eq!(code, 1);
    assert_eq!(v["outcome"]["rule_id"], "lm-refuse-ntlmv1");
    assert_eq!(v["outcome"]["side"], "server");
}

#[test]
fn seed_makes_it_deterministic_and_human_view_shows_the_verdict() {
    let a = ntlmsim(&[
        "handshake",
        "--seed",
        "9",
        "--time",
        "133000000000000000",
        "--json",
    ]);
    let b = ntlmsim(&[
        "handshake",
        "--seed",
        "9",
        "--time",
        "133000000000000000",
        "--json",
    ]);
    assert_eq!(a, b);
    let (code, out, _) = ntlmsim(&["handshake", "--sign", "--seal"]);
    assert_eq!(code, 0);
    assert!(out.contains("SUCCESS"));
    assert!(out.contains("NEGOTIATE_SEAL"));
    // Windows 2000 offers no 128 without signing or sealing: the strict
    // ms-nlmp reading refuses it (the default reading does not: no SEAL).
    let (code, out, _) = ntlmsim(&[
        "handshake",
        "--client",
        "windows-2000",
        "--server-min",
        "require_128bit_encryption",
        "--semantics",
        "ms-nlmp",
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("FAILURE: the server refused on receipt of NEGOTIATE"));
    assert!(out.contains("source:     MS-NLMP 3.2.5.1.1"));
}

#[test]
fn bad_usage_is_exit_2() {
    for args in [
        &["handshake", "--client", "nosuch"][..],
        &["handshake", "--client-min", "0xzz"],
        &["handshake", "--server-challenge", "0123"],
        &["handshake", "--client-flags", "NOPE"],
    ] {
        let (code, _, err) = ntlmsim(args);
        assert_eq!(code, 2, "{args:?}");
        assert!(err.starts_with("error: "), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

/// Samba's client sends an EncryptedRandomSessionKey whenever KEY_EXCH is
/// negotiated and Samba's server requires it, with or without SIGN/SEAL, as
/// the real pair does (`tests/helper_samba.rs`); a client that exchanges a
/// key only with SIGN or SEAL (pyspnego) is refused by Samba's server.
#[test]
fn samba_pair_exchanges_a_key_without_sign_or_seal() {
    let (code, v) = json(&["handshake", "--client", "samba-4", "--server", "samba-4"]);
    assert_eq!(code, 0, "{v}");
    let o = &v["outcome"];
    assert_eq!(o["result"], "success");
    assert_eq!(
        (o["signing"].clone(), o["sealing"].clone()),
        (false.into(), false.into())
    );
    let a = &v["messages"]["authenticate"]["decoded"];
    assert!(
        a["flags_names"]
            .as_array()
            .unwrap()
            .contains(&"NEGOTIATE_KEY_EXCH".into())
    );
    assert_eq!(
        a["encrypted_session_key"].as_str().unwrap().len(),
        32,
        "{a}"
    );

    let (code, v) = json(&[
        "handshake",
        "--client",
        "pyspnego-0.12",
        "--server",
        "samba-4",
    ]);
    assert_eq!(code, 1);
    assert_eq!(v["outcome"]["rule_id"], "auth-key-exch");
    assert_eq!(v["outcome"]["status"], "SEC_E_INVALID_TOKEN");
    // The default server lets the MIC decide, and pyspnego's reading wins.
    let (code, v) = json(&[
        "handshake",
        "--client",
        "pyspnego-0.12",
        "--server",
        "windows-11",
    ]);
    assert_eq!(code, 0, "{v}");
}

/// NEGOTIATE_128 with LM_KEY and no ESS gives a 56-bit key (MS-NLMP
/// 3.4.5.3): the verdict says so. A Windows client with signing offers
/// LM_KEY (0xe2088297); this server answers LM_KEY | 128 without ESS.
#[test]
fn lm_key_under_128_is_a_56_bit_key_and_the_verdict_warns() {
    let args = ["handshake", "--sign", "--server-flags", "0xa0828295"];
    let (code, out, _) = ntlmsim(&args);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(
            "warning:    NEGOTIATE_128 is negotiated, but with LM_KEY and no ESS the sealing key is \
             56 bits (MS-NLMP 3.4.5.3)"
        ),
        "{out}"
    );
    let (code, v) = json(&args);
    assert_eq!(code, 0);
    assert_eq!(v["messages"]["negotiate"]["decoded"]["flags"], "0xe2088297");
    assert_eq!(v["outcome"]["key_strength_bits"], 56);
    assert_eq!(v["outcome"]["weak_key_under_128"], true);
    // With ESS the same 128 gives a 128-bit key and no warning.
    let (_, v) = json(&["handshake", "--sign"]);
    assert_eq!(v["outcome"]["weak_key_under_128"], false);
}

#[test]
fn restrict_ntlm_blocks_with_status_and_event_and_audit_only_logs() {
    let (code, v) = json(&[
        "handshake",
        "--seed",
        "1",
        "--time",
        "0",
        "--client-restrict",
        "RestrictSendingNTLMTraffic    REG_DWORD    0x2",
        "--client-restrict",
        "ClientAllowedNTLMServers    REG_MULTI_SZ    nas01\\0*.legacy.corp",
        "--restrict-target",
        "web01",
    ]);
    assert_eq!(code, 1);
    let o = &v["outcome"];
    assert_eq!(
        (&o["side"], &o["stage"], &o["status"], &o["status_code"]),
        (
            &"client".into(),
            &"negotiate".into(),
            &"STATUS_NTLM_BLOCKED".into(),
            &"0xc0000418".into()
        )
    );
    assert_eq!(o["rule_id"], "restrict-outgoing-deny");
    assert_eq!(v["restrict_events"][0]["id"], 4001);
    assert_eq!(v["restrict_events"][0]["effect"], "blocked");
    assert!(v["messages"].get("negotiate").is_none());

    // The same client to an excepted server logs on.
    let (code, _) = json(&[
        "handshake",
        "--seed",
        "1",
        "--time",
        "0",
        "--client-restrict",
        "RestrictSendingNTLMTraffic    REG_DWORD    0x2",
        "--client-restrict",
        "ClientAllowedNTLMServers    REG_MULTI_SZ    nas01\\0*.legacy.corp",
        "--restrict-target",
        "files.LEGACY.corp",
    ]);
    assert_eq!(code, 0);

    // Audit everywhere: success, three events that would be logged.
    let (code, out, _) = ntlmsim(&[
        "handshake",
        "--seed",
        "1",
        "--time",
        "0",
        "--client-restrict",
        "Network security: Restrict NTLM: Outgoing NTLM traffic to remote servers  Audit all",
        "--server-restrict",
        "AuditReceivingNTLMTraffic : 2",
        "--dc-restrict",
        "Network security: Restrict NTLM: Audit NTLM authentication in this domain  Enable all",
    ]);
    assert_eq!(code, 0, "{out}");
    for id in ["8001", "8002", "8004"] {
        assert!(
            out.contains(&format!("event {id} on the"))
                && out.contains("would be logged, nothing breaks"),
            "{out}"
        );
    }

    // The DC: STATUS_NOT_SUPPORTED from the server, event 4004 on the DC.
    let (code, v) = json(&[
        "handshake",
        "--seed",
        "1",
        "--time",
        "0",
        "--dc-restrict",
        "RestrictNTLMInDomain    REG_DWORD    0x3",
    ]);
    assert_eq!(code, 1);
    assert_eq!(v["outcome"]["status"], "STATUS_NOT_SUPPORTED");
    assert_eq!(v["outcome"]["rule_id"], "restrict-domain-deny");
    assert_eq!(v["restrict_events"][0]["host"], "dc");
    assert_eq!(v["account"], "domain");

    // A setting of another kind is refused with the option to use.
    let (code, _, err) = ntlmsim(&[
        "handshake",
        "--server-restrict",
        "NtlmMinServerSec    REG_DWORD    0x20080000",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--server-restrict: line 1: ") && err.contains("--server-min"),
        "{err}"
    );
}

#[test]
fn windows_11_24h2_ignores_a_low_lm_level_and_says_so() {
    let args = [
        "handshake",
        "--client",
        "windows-11-24h2",
        "--server",
        "ntlmv1-nas",
        "--client-lm-level",
        "1",
        "--seed",
        "1",
        "--time",
        "0",
    ];
    let (code, v) = json(&args);
    assert_eq!(code, 1);
    assert_eq!(v["outcome"]["rule_id"], "auth-cannot-verify");
    assert!(
        v["notes"][0].as_str().unwrap().contains(
            "LmCompatibilityLevel 1 is ignored, it sends NTLMv2 (rule ntlmv1-removed, KB5066470)"
        ),
        "{v}"
    );
    let mut earlier = args;
    earlier[2] = "windows-11";
    let (code, v) = json(&earlier);
    assert_eq!(code, 0);
    assert!(v.get("notes").is_none());
}

#[test]
fn the_ntlmv1_server_switch_decides_whether_a_2025_server_refuses_ntlmv1() {
    let base = [
        "handshake",
        "--client",
        "windows-11",
        "--client-lm-level",
        "1",
        "--server",
        "windows-server-2025",
        "--seed",
        "1",
        "--time",
        "0",
    ];
    let (code, v) = json(&base);
    assert_eq!(code, 0);
    assert_eq!(v["outcome"]["response_kind"], "NTLM2_SESSION");
    let mut refusing = base.to_vec();
    refusing.extend(["--semantics", "ntlmv1-server=refuses"]);
    let (code, v) = json(&refusing);
    assert_eq!(code, 1);
    assert_eq!(v["outcome"]["rule_id"], "ntlmv1-removed-server");
    assert_eq!(v["outcome"]["basis"], "unconfirmed");
    assert_eq!(v["outcome"]["status"], "STATUS_LOGON_FAILURE");
    // A server before 24H2 is not affected by the switch.
    let mut older = refusing.clone();
    older[6] = "windows-10";
    assert_eq!(json(&older).0, 0);
}

/// Channel bindings and target names: each client profile against a server
/// with the baseline settings, per carrier; failures name the setting's rule.
#[test]
fn binding_settings_per_carrier_and_profile() {
    let run = |client: &str, carrier: &str, binding: &str| {
        json(&[
            "handshake",
            "--client",
            client,
            "--server",
            "windows-11",
            "--carrier",
            carrier,
            "--binding",
            binding,
            "--seed",
            "3",
            "--time",
            "133000000000000000",
        ])
    };
    // Extended Protection Required over HTTPS: Windows binds, curl does not.
    let (code, v) = run("windows-11", "https", "extended-protection=require");
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["binding"]["carrier"], "https");
    assert_eq!(
        v["binding"]["server_settings"],
        "extendedProtection=Require"
    );
    let (code, v) = run("curl-7.88", "https", "extended-protection=require");
    assert_eq!(code, 1);
    assert_eq!(v["outcome"]["rule_id"], "epa-require", "{v}");
    assert_eq!(v["outcome"]["status"], "SEC_E_BAD_BINDINGS");
    assert_eq!(v["outcome"]["side"], "server");
    assert_eq!(v["outcome"]["stage"], "authenticate");
    // Plain HTTP: no channel, nothing to check.
    assert_eq!(run("curl-7.88", "http", "extended-protection=require").0, 0);
    // Accept: curl sends no pair and logs on; gss-ntlmssp's all-zero pair is
    // refused by default and accepted under the MS-NLMP reading.
    assert_eq!(run("curl-7.88", "https", "extended-protection=allow").0, 0);
    let (code, v) = run("gss-ntlmssp-1.2", "https", "extended-protection=allow");
    assert_eq!(code, 1);
    assert_eq!(v["outcome"]["rule_id"], "epa-allow");
    assert_eq!(v["binding"]["depends_on_zero_channel_bindings"], true);
    let (_, v) = run("curl-7.88", "https", "extended-protection=require");
    assert_eq!(v["binding"]["depends_on_zero_channel_bindings"], false);
    let (code, _, err) = ntlmsim(&[
        "handshake",
        "--client",
        "gss-ntlmssp-1.2",
        "--carrier",
        "https",
        "--binding",
        "extended-protection=allow",
        "--zero-channel-bindings",
        "accepted",
    ]);
    assert_eq!(code, 0, "{err}");
    // SMB SPN validation required: impacket and Windows name the server, XP does not.
    assert_eq!(run("impacket-0.13", "smb", "smb-name-hardening=2").0, 0);
    assert_eq!(
        run("windows-10", "smb", "SmbServerNameHardeningLevel=2").0,
        0
    );
    let (code, v) = run("windows-xp", "smb", "smb-name-hardening=2");
    assert_eq!(code, 1);
    assert_eq!(v["outcome"]["rule_id"], "smb-spn-required");
    assert_eq!(run("windows-xp", "smb", "smb-name-hardening=1").0, 0);
    // LDAP signing over LDAP without TLS: a bind without SIGN fails, with --sign it passes.
    let (code, v) = run("windows-11", "ldap", "ldap-signing=2");
    assert_eq!(code, 1);
    assert_eq!(v["outcome"]["status"], "LDAP_STRONG_AUTH_REQUIRED");
    let (code, _, _) = ntlmsim(&[
        "handshake",
        "--carrier",
        "ldap",
        "--binding",
        "ldap-signing=2",
        "--sign",
    ]);
    assert_eq!(code, 0);
    // LDAPS, Always: impacket binds over LDAPS, pyspnego (no caller bindings) does not.
    assert_eq!(run("impacket-0.13", "ldaps", "ldap-channel-binding=2").0, 0);
    let (code, v) = run("pyspnego-0.12", "ldaps", "ldap-channel-binding=2");
    assert_eq!(code, 1);
    assert_eq!(v["outcome"]["rule_id"], "ldap-cbt-always");
    // Bad input names the option.
    let (code, _, err) = ntlmsim(&["handshake", "--carrier", "pigeon"]);
    assert_eq!(code, 2);
    assert!(err.contains("--carrier \"pigeon\""), "{err}");
    let (code, _, err) = ntlmsim(&["handshake", "--binding", "ldap-signing=5"]);
    assert_eq!(code, 2);
    assert!(err.contains("LDAPServerIntegrity 5"), "{err}");
}

/// The unconfirmed facts of both profiles, for the role each plays, come
/// with the verdict, and the verdict's certainty names the reading of
/// LmCompatibilityLevel 0 the XP client's fact rests on.
#[test]
fn the_verdict_names_the_assumed_profile_facts() {
    let args = [
        "handshake",
        "--client",
        "windows-xp",
        "--server",
        "windows-11",
        "--server-min",
        "0x20080000",
    ];
    let (code, v) = json(&args);
    // XP at level 0 requests ESS (level0-ess=requested, the default).
    assert_eq!(code, 0, "{v}");
    assert!(
        v["certainty"]["reversed_by"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("level0-ess=never")),
        "{v}"
    );
    let assumed = v["assumed"].as_array().unwrap();
    let xp = assumed
        .iter()
        .find(|a| a["profile"] == "windows-xp")
        .unwrap();
    assert_eq!(xp["role"], "client", "{xp}");
    let facts = xp["facts"].as_str().unwrap();
    assert!(facts.contains("level0-ess"), "{facts}");
    // Only what is assumed of each profile in its role: none of the XP
    // server facts, none of the Windows 11 client facts.
    assert!(!facts.contains("Server 2003"), "{facts}");
    let w11 = assumed
        .iter()
        .find(|a| a["profile"] == "windows-11")
        .unwrap();
    assert_eq!(w11["role"], "server", "{w11}");
    assert!(
        !w11["facts"]
            .as_str()
            .unwrap()
            .contains("LmCompatibilityLevel"),
        "{w11}"
    );
    let (_, text, _) = ntlmsim(&args);
    assert!(
        text.contains("  assumed:    windows-xp as client: "),
        "{text}"
    );
    assert!(
        text.contains("breaks with level0-ess=never alone"),
        "{text}"
    );
    // The policy text's reading of level 0: the same pair breaks.
    let mut never = args.to_vec();
    never.extend(["--semantics", "level0-ess=never"]);
    let (code, v) = json(&never);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["outcome"]["missing"], "0x00080000", "{v}");
    assert!(
        v["certainty"]["reversed_by"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("level0-ess=requested")),
        "{v}"
    );
}
