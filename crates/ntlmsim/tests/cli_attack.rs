//! `ntlmsim attack`: every scenario, the checks that stop them, list, matrix,
//! JSON shape and exit codes.
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
    let mut a = vec!["attack"];
    a.extend_from_slice(args);
    a.push("--json");
    let (code, out, err) = ntlmsim(&a);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    (code, v)
}

fn scenarios() -> Vec<String> {
    let (code, v) = json(&["--list"]);
    assert_eq!(code, 0);
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

/// windows-11 on both sides with SIGN and SEAL requested: the check that
/// stops each scenario (side server, stage authenticate unless noted).
const MODERN: [(&str, &str, &str, &str); 11] = [
    // The client's MIC covers the NEGOTIATE as sent.
    (
        "strip-sign-seal",
        "auth-mic",
        "authenticate",
        "STATUS_INVALID_PARAMETER",
    ),
    (
        "strip-ess",
        "auth-mic",
        "authenticate",
        "STATUS_INVALID_PARAMETER",
    ),
    // NtlmMinServerSec 0x20000000: no CHALLENGE is sent.
    (
        "strip-128-56",
        "min-128-kb239869",
        "negotiate",
        "SEC_E_UNSUPPORTED_FUNCTION",
    ),
    (
        "inject-lm-key",
        "auth-mic",
        "authenticate",
        "STATUS_INVALID_PARAMETER",
    ),
    (
        "remove-timestamp",
        "auth-av-echo",
        "authenticate",
        "STATUS_INVALID_PARAMETER",
    ),
    (
        "drop-mic",
        "auth-mic-present",
        "authenticate",
        "STATUS_INVALID_PARAMETER",
    ),
    (
        "duplicate-av-flags",
        "auth-av-duplicate",
        "authenticate",
        "STATUS_INVALID_PARAMETER",
    ),
    (
        "lmv2-fallback",
        "auth-no-lmv2-fallback",
        "authenticate",
        "STATUS_LOGON_FAILURE",
    ),
    // NTProofStr covers the blob, so the response check fires before the CBT check.
    (
        "strip-channel-bindings",
        "auth-response",
        "authenticate",
        "STATUS_LOGON_FAILURE",
    ),
    (
        "zero-channel-bindings",
        "auth-response",
        "authenticate",
        "STATUS_LOGON_FAILURE",
    ),
    (
        "relay-wrong-password",
        "auth-response",
        "authenticate",
        "STATUS_LOGON_FAILURE",
    ),
];

#[test]
fn modern_configuration_detects_every_designed_scenario() {
    let all = scenarios();
    assert_eq!(all.len(), MODERN.len() + 1, "{all:?}");
    for (name, rule, stage, status) in MODERN {
        assert!(all.iter().any(|s| s == name), "{name} not listed");
        let (code, v) = json(&[name, "--sign", "--seal"]);
        assert_eq!(code, 0, "{name}: {v}");
        assert_eq!(v["detected"], true, "{name}");
        assert_eq!(v["verdict"], "detected");
        assert_eq!(v["detected_by"], "server", "{name}");
        assert_eq!(v["check"], rule, "{name}");
        assert_eq!(v["outcome"]["result"], "failure");
        assert_eq!(v["outcome"]["rule_id"], rule);
        assert_eq!(v["outcome"]["stage"], stage, "{name}");
        assert_eq!(v["outcome"]["status"], status, "{name}");
        assert_eq!(v["baseline"]["result"], "success", "{name}");
        assert!(!v["tampered"].as_array().unwrap().is_empty(), "{name}");
    }
}

#[test]
fn reflection_is_refused_by_the_hosts_reflection_cache() {
    let (code, v) = json(&["reflection", "--sign", "--seal"]);
    assert_eq!(code, 0);
    assert_eq!(v["detected"], true);
    assert_eq!(v["tampered"], serde_json::json!([]));
    assert_eq!(v["outcome"]["result"], "failure");
    assert_eq!(v["outcome"]["rule_id"], "auth-reflection");
    assert_eq!(v["outcome"]["side"], "server");
    assert_eq!(v["baseline"]["result"], "success");
    // The reflected-to host is the client's own.
    let (_, v) = json(&[
        "reflection",
        "--client",
        "windows-10",
        "--server",
        "samba-4",
    ]);
    assert_eq!(v["server"], "windows-10");
}

#[test]
fn every_scenario_runs_against_weak_and_strong_peers() {
    for name in scenarios() {
        for peers in [
            ["--client", "windows-xp", "--server", "windows-xp"],
            ["--client", "windows-7", "--server", "samba-4"],
            ["--client", "windows-11", "--server", "windows-2000"],
        ] {
            let mut args = vec![name.as_str()];
            args.extend_from_slice(&peers);
            let (code, v) = json(&args);
            assert!(code == 0 || code == 1, "{name} {peers:?}");
            assert_eq!(code == 0, v["detected"] == true);
            assert!(v["outcome"]["result"].is_string());
        }
    }
}

#[test]
fn flag_stripping_without_a_mic_is_not_detected_and_reports_the_downgrade() {
    // windows-xp sends no MsvAvTimestamp, so no MIC protects the NEGOTIATE.
    let (code, v) = json(&[
        "strip-sign-seal",
        "--client",
        "windows-xp",
        "--server",
        "windows-xp",
        "--client-min",
        "0",
        "--server-min",
        "0",
        "--sign",
        "--seal",
    ]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["verdict"], "not-detected");
    // No reading of the switches saves it.
    assert_eq!(v["certainty"]["verdict"], "not-detected");
    assert_eq!(v["certainty"]["holds_under_every_reading"], true);
    assert_eq!(v["other_verdicts"], serde_json::json!([]));
    assert_eq!(v["outcome"]["signing"], false);
    assert_eq!(v["outcome"]["sealing"], false);
    assert_eq!(v["baseline"]["sealing"], true);
    let d = v["downgrade"][0].as_str().unwrap();
    assert!(d.contains("NEGOTIATE_SEAL"), "{d}");
    // A minimum mask that demands sealing would refuse the result.
    let (code, v) = json(&[
        "strip-sign-seal",
        "--client",
        "windows-xp",
        "--server",
        "windows-xp",
        "--client-min",
        "0x20",
        "--server-min",
        "0",
        "--sign",
        "--seal",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["detected_by"], "client");
    assert_eq!(v["outcome"]["stage"], "challenge");
}

#[test]
fn each_verdict_says_whether_every_reading_agrees() {
    // Under the defaults (Windows 11 peers, 0x20080000 on both sides) the
    // strict readings of the 128-bit rule and of the server's key strength
    // together make the untampered exchange fail: no session to attack.
    let (code, v) = json(&["drop-mic"]);
    assert_eq!(code, 0);
    let c = &v["certainty"];
    assert_eq!(c["verdict"], "detected");
    assert_eq!(c["holds_under_every_reading"], false);
    // Eight two-valued switches; ntlmv1-server does not move this verdict.
    assert_eq!(
        (&c["readings"], &c["agreeing"]),
        (&Value::from(512), &Value::from(384))
    );
    assert_eq!(
        c["depends_on"],
        serde_json::json!(["rule-128", "server-strength"])
    );
    assert_eq!(v["other_verdicts"], serde_json::json!(["baseline-fails"]));
    let (code, out, _) = ntlmsim(&["attack", "drop-mic"]);
    assert_eq!(code, 0);
    assert!(
        out.contains(
            "\ncertainty: detected under 384 of 512 readings; depends on rule-128, server-strength (other readings: baseline-fails)\n"
        ),
        "{out}"
    );
    let (code, out, _) = ntlmsim(&["attack", "reflection", "--sign", "--seal"]);
    assert_eq!(code, 0);
    assert!(
        out.contains(
            "\ncertainty: detected under every documented reading (512 combinations of 9 switches)\n"
        ),
        "{out}"
    );
}

#[test]
fn nothing_to_tamper_is_not_counted_as_detected() {
    // Without an application request windows-11 offers no SIGN/SEAL/KEY_EXCH.
    let (code, v) = json(&["strip-sign-seal"]);
    assert_eq!(code, 1);
    assert_eq!(v["verdict"], "nothing-to-tamper");
    assert_eq!(v["tampered"], serde_json::json!([]));
}

#[test]
fn channel_bindings_scenarios_default_to_a_server_requiring_cbt() {
    let (_, v) = json(&["zero-channel-bindings"]);
    assert_eq!(v["cbt"], "require");
    let (_, v) = json(&["zero-channel-bindings", "--cbt", "accept"]);
    assert_eq!(v["cbt"], "accept");
    let (_, v) = json(&["drop-mic"]);
    assert_eq!(v["cbt"], "ignore");
}

#[test]
fn json_shape() {
    let (_, v) = json(&["drop-mic"]);
    for key in [
        "scenario",
        "reference",
        "description",
        "client",
        "server",
        "cbt",
        "tampered",
        "detected",
        "verdict",
        "detected_by",
        "check",
        "baseline",
        "outcome",
        "downgrade",
        "defences",
        "detected_under",
        "certainty",
        "other_verdicts",
    ] {
        assert!(v.get(key).is_some(), "missing {key}: {v}");
    }
    assert_eq!(v["scenario"], "drop-mic");
    assert!(v["reference"].as_str().unwrap().contains("CVE-2019-1040"));
    assert_eq!(v["tampered"], serde_json::json!(["authenticate"]));
    assert!(
        v["detected_under"]
            .as_array()
            .unwrap()
            .contains(&Value::from("given"))
    );
    let (_, list) = json(&["--list"]);
    for s in list.as_array().unwrap() {
        for key in ["name", "reference", "description", "defences"] {
            assert!(!s[key].as_str().unwrap().is_empty());
        }
    }
}

#[test]
fn list_names_every_scenario_with_its_reference() {
    let (code, out, _) = ntlmsim(&["attack", "--list"]);
    assert_eq!(code, 0);
    for r in [
        "CVE-2016-2110",
        "CVE-2019-1040",
        "CVE-2019-1166",
        "CVE-2019-1338",
        "MS08-068",
        "EPA/CBT",
    ] {
        assert!(out.contains(r), "{r} missing");
    }
    for name in scenarios() {
        assert!(out.contains(&name));
    }
}

#[test]
fn matrix_table_and_json() {
    let (code, out, _) = ntlmsim(&["attack", "--matrix"]);
    // Without signing or sealing there is nothing for strip-sign-seal to strip
    // (n/a), so not every cell is safe.
    assert_eq!(code, 1);
    assert!(out.contains("sign+seal") && out.contains("both-min") && out.contains("cbt"));
    let row = out
        .lines()
        .find(|l| l.starts_with("drop-mic "))
        .unwrap()
        .to_owned();
    assert!(row.split_whitespace().skip(1).all(|c| c == "safe"), "{row}");
    let row = out.lines().find(|l| l.starts_with("reflection ")).unwrap();
    assert!(row.split_whitespace().skip(1).all(|c| c == "safe"), "{row}");
    let row = out
        .lines()
        .find(|l| l.starts_with("strip-sign-seal "))
        .unwrap();
    assert!(row.contains("n/a"), "{row}");

    let (code, v) = json(&["--matrix"]);
    assert_eq!(code, 1);
    let cols = v["columns"].as_array().unwrap().len();
    assert_eq!(cols, 7);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), scenarios().len());
    assert_eq!(
        v["summary"]["cells"].as_u64().unwrap(),
        u64::try_from(rows.len() * cols).unwrap()
    );
    let lmv2 = rows
        .iter()
        .find(|r| r["scenario"] == "lmv2-fallback")
        .unwrap();
    assert!(
        lmv2["cells"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["check"] == "auth-no-lmv2-fallback")
    );

    // One scenario: exit 0 when every combination detects it.
    let (code, v) = json(&["--matrix", "drop-mic"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["rows"].as_array().unwrap().len(), 1);
}

#[test]
fn human_output_names_the_change_the_verdict_and_the_defence() {
    let (code, out, _) = ntlmsim(&["attack", "remove-timestamp"]);
    assert_eq!(code, 0);
    assert!(out.contains("changed:   challenge"), "{out}");
    assert!(out.contains("DETECTED by the server"), "{out}");
    assert!(out.contains("auth-av-echo"));
    assert!(out.contains("defences:"));
    let (code, out, _) = ntlmsim(&["attack", "reflection"]);
    assert_eq!(code, 0);
    assert!(out.contains("DETECTED by the server"), "{out}");
    assert!(out.contains("auth-reflection"), "{out}");
}

#[test]
fn bad_usage_exits_2() {
    for args in [
        &["attack"][..],
        &["attack", "no-such-attack"],
        &["attack", "drop-mic", "--client", "no-such-profile"],
        &["attack", "drop-mic", "--client-min", "bogus"],
        &["attack", "drop-mic", "--client-lm-level", "9"],
        &["attack", "drop-mic", "--cbt", "sometimes"],
        &["attack", "drop-mic", "--semantics", "nope"],
        &["attack", "--list", "--matrix"],
    ] {
        let (code, out, err) = ntlmsim(args);
        assert_eq!(code, 2, "{args:?}: {out} {err}");
        assert!(err.starts_with("error"), "{args:?}: {err}");
    }
}
