//! `ntlmsim profiles` and `ntlmsim interop`: JSON shapes, exit codes, side
//! restriction, filters, fleet files and their errors, human output.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn ntlmsim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ntlmsim"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("COLUMNS")
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

/// A file in the test's temporary directory.
fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli_interop");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn is_hex32(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 10
            && s.starts_with("0x")
            && s[2..]
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    })
}

fn assert_bad_usage(args: &[&str], needle: &str) {
    let (code, out, err) = ntlmsim(args);
    assert_eq!(code, 2, "{args:?}: {out}{err}");
    assert!(out.is_empty(), "{args:?}: stdout {out}");
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(needle), "{args:?}: {err} lacks {needle:?}");
}

// --- profiles ----------------------------------------------------------------

#[test]
fn profiles_json_has_the_contract_keys() {
    let (code, v) = json(&["profiles"]);
    assert_eq!(code, 0);
    let list = v.as_array().unwrap();
    assert!(list.len() >= 20, "{} profiles", list.len());
    for p in list {
        for key in [
            "name",
            "role",
            "description",
            "offered_flags",
            "offered_flags_names",
            "lm_level",
            "min_client_sec",
            "min_server_sec",
            "sources",
            "observed",
            "assumed",
        ] {
            assert!(p.get(key).is_some(), "{} lacks {key}", p["name"]);
        }
        assert!(["client", "server", "both"].contains(&p["role"].as_str().unwrap()));
        assert!(is_hex32(&p["offered_flags"]), "{p}");
        assert!(is_hex32(&p["min_client_sec"]) && is_hex32(&p["min_server_sec"]));
        assert!(
            !p["sources"].as_array().unwrap().is_empty(),
            "{}",
            p["name"]
        );
        assert!(p["observed"].is_string() && p["assumed"].is_string());
        assert!(p["lm_level"].as_u64().unwrap() <= 5);
    }
    let get = |n: &str| list.iter().find(|p| p["name"] == n).unwrap().clone();
    let w11 = get("windows-11");
    assert_eq!(w11["offered_flags"], "0xa2088207");
    assert_eq!(w11["min_server_sec"], "0x20000000");
    assert!(
        w11["offered_flags_names"]
            .as_array()
            .unwrap()
            .contains(&Value::from("NEGOTIATE_EXTENDED_SESSIONSECURITY"))
    );
    assert_eq!(get("windows-xp")["lm_level"], 0);
    assert_eq!(get("curl-7.88")["offered_flags"], "0x00088206");
    assert_eq!(get("go-ntlmssp-2018")["offered_flags"], "0xa0800001");
    assert_eq!(get("jtds-1.3")["offered_flags"], "0x0000b201");
    assert_eq!(get("samba-4")["honours"], serde_json::json!([]));
    for name in [
        "windows-nt4",
        "windows-2000",
        "windows-vista",
        "windows-7",
        "windows-8",
        "windows-10",
        "ms-nlmp-4.2",
        "samba-4",
        "pyspnego-0.12",
        "impacket-0.13",
        "gss-ntlmssp-1.2",
        "linux-cifs",
        "cyrus-sasl-ntlm",
        "ntlmv1-nas",
    ] {
        get(name);
    }
}

#[test]
fn profiles_human_table_and_detail() {
    let (code, out, _) = ntlmsim(&["profiles"]);
    assert_eq!(code, 0);
    assert!(out.lines().all(|l| l.chars().count() <= 100), "{out}");
    assert!(out.contains("windows-nt4") && out.contains("ntlmv1-nas"));
    let (code, out, _) = ntlmsim(&["profiles", "go-ntlmssp-2018"]);
    assert_eq!(code, 0);
    assert!(out.contains("Azure/go-ntlmssp issue #17"), "{out}");
    assert!(out.contains("assumed:"));
    assert!(out.lines().all(|l| l.chars().count() <= 100), "{out}");
    assert_bad_usage(
        &["profiles", "windows-12"],
        "unknown profile \"windows-12\"",
    );
}

#[test]
fn a_catalog_file_adds_and_replaces_profiles() {
    let path = temp_file(
        "catalog.toml",
        r#"
[[profile]]
name = "windows-11"
role = "both"
description = "our Windows 11 image"
os = "windows7plus"
lm_level = 5
min_client_sec = 0x20080000
min_server_sec = 0x20080000
sources = ["our build documentation"]
[profile.client]
[profile.server]

[[profile]]
name = "appliance"
role = "server"
description = "a server-only appliance"
os = "non-windows"
lm_level = 3
sources = ["vendor manual"]
[profile.server]
supported = ["NEGOTIATE_UNICODE", "NEGOTIATE_EXTENDED_SESSIONSECURITY", "NEGOTIATE_128"]
"#,
    );
    let p = path.to_str().unwrap();
    let (code, v) = json(&["profiles", "--catalog", p]);
    assert_eq!(code, 0);
    let list = v.as_array().unwrap();
    let w11 = list.iter().find(|x| x["name"] == "windows-11").unwrap();
    assert_eq!(w11["min_server_sec"], "0x20080000");
    assert_eq!(w11["origin"], p);
    let app = list.iter().find(|x| x["name"] == "appliance").unwrap();
    assert!(app["offered_flags"].is_null());
    assert!(app["offered_flags_names"].is_null());
    assert_eq!(app["role"], "server");
    assert_eq!(list.iter().filter(|x| x["name"] == "windows-11").count(), 1);
    // `--file` is the same option; interop uses the catalog too.
    let (code, _) = json(&["profiles", "--file", p]);
    assert_eq!(code, 0);
    let (code, v) = json(&[
        "interop",
        "--catalog",
        p,
        "--clients",
        "windows-xp",
        "--servers",
        "appliance,windows-11",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["summary"]["pairs"], 2);

    let bad = temp_file(
        "bad-catalog.toml",
        "[[profile]]\nname = \"x\"\nrole = \"client\"\n\nbogus = 1\n",
    );
    assert_bad_usage(&["profiles", "--catalog", bad.to_str().unwrap()], "line 5");
}

// --- interop -------------------------------------------------------------------

fn check_outcome(o: &Value) {
    match o["result"].as_str().unwrap() {
        "success" => {
            assert!(o.get("exported_session_key").is_none(), "{o}");
            assert!(is_hex32(&o["negotiated_flags"]));
            assert!(o["negotiated_flags_names"].is_array());
            assert!(o["response_kind"].is_string());
            assert!(o["key_strength_bits"].is_u64());
        }
        "failure" => {
            assert!(["client", "server"].contains(&o["side"].as_str().unwrap()));
            assert!(
                ["negotiate", "challenge", "authenticate"].contains(&o["stage"].as_str().unwrap())
            );
            assert!(o["status"].is_string() && is_hex32(&o["status_code"]));
            for k in ["required", "negotiated", "missing"] {
                assert!(is_hex32(&o[k]), "{k} in {o}");
            }
            assert!(o["missing_names"].is_array() && o["reason"].is_string());
            assert!(o["rule"].is_string() && o["rule_id"].is_string());
        }
        other => panic!("result {other}"),
    }
}

/// A pair's `certainty`: the after verdict, and readings that add up.
fn check_certainty(c: &Value, after: &Value) {
    let works = after["result"] == "success";
    assert_eq!(c["verdict"], if works { "works" } else { "breaks" }, "{c}");
    let (readings, agreeing) = (
        c["readings"].as_u64().unwrap(),
        c["agreeing"].as_u64().unwrap(),
    );
    assert_eq!(readings, 512, "{c}");
    assert!(agreeing >= 1 && agreeing <= readings, "{c}");
    let every = c["holds_under_every_reading"].as_bool().unwrap();
    assert_eq!(every, agreeing == readings, "{c}");
    assert_eq!(every, c["depends_on"].as_array().unwrap().is_empty(), "{c}");
    let summary = c["summary"].as_str().unwrap();
    assert!(summary.starts_with(c["verdict"].as_str().unwrap()), "{c}");
    assert_eq!(
        every,
        summary.contains("under every documented reading"),
        "{c}"
    );
}

#[test]
fn interop_json_shape_summary_and_exit_code() {
    let (code, v) = json(&["interop", "--server-min", "0x20080000"]);
    assert_eq!(code, 1, "something breaks under the baseline");
    let pairs = v["pairs"].as_array().unwrap();
    assert!(pairs.len() >= 19 * 14, "{}", pairs.len());
    assert_eq!(v["summary"]["pairs"], pairs.len());
    let breaking = pairs.iter().filter(|p| p["breaks"] == true).count();
    assert_eq!(v["summary"]["breaking"], breaking);
    assert!(breaking > 0);
    for p in pairs {
        assert!(p["client"].is_string() && p["server"].is_string());
        check_outcome(&p["before"]);
        check_outcome(&p["after"]);
        let breaks = p["before"]["result"] == "success" && p["after"]["result"] == "failure";
        assert_eq!(p["breaks"], breaks, "{p}");
        check_certainty(&p["certainty"], &p["after"]);
        // The assumed facts of the pair's profiles, each in its role.
        for a in p["assumed"].as_array().map_or(&[][..], Vec::as_slice) {
            let role = a["role"].as_str().unwrap();
            assert_eq!(a["profile"], p[format!("{role}_profile").as_str()], "{p}");
            assert!(!a["facts"].as_str().unwrap().is_empty(), "{p}");
        }
    }
    assert!(pairs.iter().any(|p| p["assumed"].is_array()));
    let certain = pairs
        .iter()
        .filter(|p| p["breaks"] == true && p["certainty"]["holds_under_every_reading"] == true)
        .count();
    assert_eq!(v["summary"]["breaking_under_every_reading"], certain);
    assert!(certain > 0 && certain < breaking, "{certain} of {breaking}");
    // The synthetic MS-NLMP example peers are left out unless named.
    assert!(pairs.iter().all(|p| p["client"] != "ms-nlmp-4.2"));
    assert_eq!(v["policy"]["server_min"], "0x20080000");
    assert!(v["policy"]["client_min"].is_null());
    assert_eq!(v["policy"]["semantics"], "calibrated");
    assert_eq!(v["policy"]["switches"]["rule-128"], "kb239869");
}

fn pair<'a>(v: &'a Value, client: &str, server: &str) -> &'a Value {
    v["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["client"] == client && p["server"] == server)
        .unwrap_or_else(|| panic!("no pair {client} -> {server} in {v}"))
}

#[test]
fn known_breaking_pairs() {
    // An XP client at its default LmCompatibilityLevel 0 requests ESS as
    // its public NEGOTIATE does (level0-ess=requested): the baseline breaks
    // nothing, and each verdict says it rests on that reading and on XP's
    // assumed client facts.
    let args = [
        "interop",
        "--clients",
        "windows-xp",
        "--servers",
        "windows-xp,windows-11",
        "--server-min",
        "0x20080000",
    ];
    let (code, v) = json(&args);
    assert_eq!(code, 0, "{v}");
    let p = pair(&v, "windows-xp", "windows-11");
    assert_eq!(p["after"]["response_kind"], "NTLM2_SESSION");
    assert!(
        p["certainty"]["reversed_by"]
            .as_array()
            .unwrap()
            .contains(&Value::from("level0-ess=never")),
        "{p}"
    );
    let xp = &p["assumed"][0];
    assert_eq!(
        (&xp["profile"], &xp["role"]),
        (&Value::from("windows-xp"), &Value::from("client"))
    );
    assert!(xp["facts"].as_str().unwrap().contains("level0-ess"), "{xp}");
    assert_eq!(p["assumed"][1]["profile"], "windows-11");

    // Read as the policy text says (level0-ess=never), the XP client
    // requests no ESS: an XP/2003 server hardened to the baseline refuses
    // it on NEGOTIATE, missing ESS.
    let (code, v) = json(&[&args[..], &["--semantics", "level0-ess=never"]].concat());
    assert_eq!(code, 1);
    let p = pair(&v, "windows-xp", "windows-xp");
    assert_eq!(p["breaks"], true);
    assert_eq!(p["before"]["result"], "success");
    let a = &p["after"];
    assert_eq!(
        (&a["side"], &a["stage"], &a["status"], &a["missing"]),
        (
            &Value::from("server"),
            &Value::from("negotiate"),
            &Value::from("SEC_E_UNSUPPORTED_FUNCTION"),
            &Value::from("0x00080000")
        )
    );
    assert_eq!(a["status_code"], "0x80090302");
    assert_eq!(a["rule"], "KB239869");
    // Against Windows 11 (its default 0x20000000) XP worked before, as XP
    // clients did against Windows 7+ servers in the field: under this
    // reading a new break.
    let p = pair(&v, "windows-xp", "windows-11");
    assert_eq!(p["breaks"], true);
    assert_eq!(p["before"]["result"], "success");
    // The strict ms-nlmp reading of 0x20000000 would refuse a client that
    // offers no 128 before any change: Windows 2000 without signing.
    let (_, v) = json(&[
        "interop",
        "--clients",
        "windows-2000",
        "--servers",
        "windows-11",
        "--server-min",
        "0x20080000",
        "--semantics",
        "ms-nlmp",
    ]);
    let p = pair(&v, "windows-2000", "windows-11");
    assert_eq!(p["breaks"], false);
    assert_eq!(p["before"]["result"], "failure");

    // With signing XP offers 128, works before, and under the policy
    // text's reading of level 0 breaks on ESS alone.
    let (code, v) = json(&[
        "interop",
        "--clients",
        "windows-xp",
        "--servers",
        "windows-11",
        "--server-min",
        "0x20080000",
        "--sign",
        "--semantics",
        "level0-ess=never",
    ]);
    assert_eq!(code, 1);
    let p = pair(&v, "windows-xp", "windows-11");
    assert_eq!(p["breaks"], true);
    assert_eq!(p["after"]["missing"], "0x00080000");
    assert_eq!(
        p["after"]["missing_names"],
        serde_json::json!(["NEGOTIATE_EXTENDED_SESSIONSECURITY"])
    );

    // The go-ntlmssp client of Azure/go-ntlmssp issue #17.
    let (code, v) = json(&[
        "interop",
        "--clients",
        "go-ntlmssp-2018",
        "--servers",
        "windows-10",
        "--server-min",
        "0x20080000",
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        pair(&v, "go-ntlmssp-2018", "windows-10")["after"]["missing"],
        "0x00080000"
    );
}

#[test]
fn each_verdict_says_whether_every_reading_agrees() {
    let args = [
        "interop",
        "--clients",
        "jtds-1.3,mssql-jdbc-7.4",
        "--servers",
        "windows-xp,windows-nt4",
        "--server-min",
        "0x20080000",
    ];
    let (code, v) = json(&args);
    assert_eq!(code, 1);
    // jTDS offers no ESS and sends NTLMv1: refused whatever the reading.
    let c = &pair(&v, "jtds-1.3", "windows-xp")["certainty"];
    assert_eq!(c["verdict"], "breaks");
    assert_eq!(c["holds_under_every_reading"], true);
    assert_eq!(c["reversed_by"], Value::Array(Vec::new()));
    // jTDS-like JDBC offers no ESS flag but sends NTLMv2: the reading of
    // "ESS required" as "the flag or an NTLMv2 response" lets it through.
    let c = &pair(&v, "mssql-jdbc-7.4", "windows-nt4")["certainty"];
    assert_eq!(c["verdict"], "breaks");
    assert_eq!(c["holds_under_every_reading"], false);
    assert_eq!(c["agreeing"], 384);
    assert_eq!(c["depends_on"], serde_json::json!(["rule-128", "ess"]));
    assert_eq!(c["reversed_by"], serde_json::json!(["ess=flag-or-ntlmv2"]));
    assert_eq!(v["summary"]["breaking"], 4);
    assert_eq!(v["summary"]["breaking_under_every_reading"], 2);

    // The human output: each group's certainty, and the count.
    let (code, out, _) = ntlmsim(&args);
    assert_eq!(code, 1);
    assert!(
        out.contains(
            "      certainty (2 pairs): breaks under every documented reading (512 combinations of 9 switches)\n"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "      certainty (2 pairs): breaks under 384 of 512 readings; depends on rule-128, ess;"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "\ncertainty: 2 of the 4 newly breaking pairs break under every documented reading of the semantics\n           switches; the others only under some (see each group's certainty)\nsummary: 4 pairs:"
        ),
        "{out}"
    );

    // The HTML report: in each outcome's data (the details panel), and in
    // the tooltip of a cell whose verdict some reading reverses.
    let page = temp_file("certainty.html", "");
    let page = page.to_str().unwrap();
    let (code, _, err) = ntlmsim(&[&args[..], &["--html", page]].concat());
    assert_eq!(code, 1, "{err}");
    let html = std::fs::read_to_string(page).unwrap();
    assert!(
        html.contains(
            "\"certainty\":\"breaks under every documented reading (512 combinations of 9 switches)\""
        ),
        "{html}"
    );
    assert_eq!(
        html.matches("certainty: breaks under 384 of 512 readings; depends on rule-128, ess;")
            .count(),
        2,
        "{html}"
    );
    // ... and the assumed facts of the profiles in their roles: in the
    // details panel's data, and named in the tooltips.
    assert!(
        html.contains("\"assumed\":[{\"profile\":\"jtds-1.3\",\"role\":\"client\",\"facts\":\"read from the source"),
        "{html}"
    );
    assert_eq!(
        html.matches("assumed: jtds-1.3 as client, windows-xp as server (click for the facts)")
            .count(),
        1,
        "{html}"
    );
    assert!(
        html.contains("'assumed profile facts'"),
        "the script shows them"
    );
}

#[test]
fn nothing_breaking_is_exit_0() {
    let (code, v) = json(&[
        "interop",
        "--clients",
        "windows-11,linux-cifs",
        "--servers",
        "windows-11",
        "--server-min",
        "0x20080000",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["summary"]["breaking"], 0);
    assert_eq!(v["summary"]["pairs"], 2);
    // No change at all breaks nothing either.
    let (code, v) = json(&["interop"]);
    assert_eq!(code, 0);
    assert_eq!(v["summary"]["breaking"], 0);
}

#[test]
fn the_change_applies_only_on_the_sides_given() {
    let (_, v) = json(&["interop", "--server-min", "0x20080030", "--sign"]);
    let pairs = v["pairs"].as_array().unwrap();
    assert!(pairs.iter().any(|p| p["breaks"] == true));
    for p in pairs.iter().filter(|p| p["breaks"] == true) {
        assert_eq!(p["after"]["side"], "server", "{p}");
    }
    let (_, v) = json(&["interop", "--client-min", "0x20080030", "--sign"]);
    let pairs = v["pairs"].as_array().unwrap();
    assert!(pairs.iter().any(|p| p["breaks"] == true));
    for p in pairs.iter().filter(|p| p["breaks"] == true) {
        assert_eq!(p["after"]["side"], "client", "{p}");
        assert_eq!(p["after"]["stage"], "challenge", "{p}");
    }
    // A server-side LmCompatibilityLevel refuses NTLMv1 at AUTHENTICATE.
    let (code, v) = json(&[
        "interop",
        "--clients",
        "jtds-1.3",
        "--servers",
        "windows-xp",
        "--server-lm-level",
        "5",
    ]);
    assert_eq!(code, 1);
    let a = &pair(&v, "jtds-1.3", "windows-xp")["after"];
    assert_eq!(
        (&a["side"], &a["stage"]),
        (&Value::from("server"), &Value::from("authenticate"))
    );
    assert_eq!(a["rule_id"], "lm-refuse-ntlmv1");
}

#[test]
fn a_policy_does_not_reach_peers_that_do_not_read_it() {
    let (code, v) = json(&[
        "interop",
        "--clients",
        "mssql-jdbc-7.4",
        "--servers",
        "samba-4,windows-xp",
        "--server-min",
        "0x20080000",
    ]);
    assert_eq!(code, 1);
    assert_eq!(pair(&v, "mssql-jdbc-7.4", "samba-4")["breaks"], false);
    assert_eq!(pair(&v, "mssql-jdbc-7.4", "windows-xp")["breaks"], true);
    let nr = v["policy"]["not_reached"].as_array().unwrap();
    assert_eq!(nr.len(), 1, "{nr:?}");
    assert_eq!(nr[0]["peer"], "samba-4");
    assert_eq!(nr[0]["value"], "NtlmMinServerSec");
}

#[test]
fn filters_select_exactly_the_named_pairs() {
    let (_, v) = json(&[
        "interop",
        "--clients",
        "windows-xp,curl-7.88",
        "--servers",
        "windows-10",
        "--client-min",
        "0x20000000",
    ]);
    let pairs = v["pairs"].as_array().unwrap();
    let names: Vec<(String, String)> = pairs
        .iter()
        .map(|p| {
            (
                p["client"].as_str().unwrap().to_owned(),
                p["server"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            ("windows-xp".to_owned(), "windows-10".to_owned()),
            ("curl-7.88".to_owned(), "windows-10".to_owned())
        ]
    );
    // A synthetic profile is included when named.
    let (_, v) = json(&[
        "interop",
        "--clients",
        "ms-nlmp-4.2",
        "--servers",
        "ms-nlmp-4.2",
    ]);
    assert_eq!(v["summary"]["pairs"], 1);
}

#[test]
fn bad_usage_is_exit_2() {
    assert_bad_usage(
        &["interop", "--clients", "windows-12"],
        "unknown profile \"windows-12\"",
    );
    assert_bad_usage(&["interop", "--servers", "curl-7.88"], "cannot be a server");
    assert_bad_usage(&["interop", "--server-min", "0xzz"], "--server-min");
    assert_bad_usage(&["interop", "--client-lm-level", "9"], "--client-lm-level");
    assert_bad_usage(&["interop", "--semantics", "nope"], "--semantics");
    assert_bad_usage(&["interop", "--engine", "fast"], "--engine");
    assert_bad_usage(
        &["interop", "--fleet", "/nonexistent/fleet.toml"],
        "cannot read fleet",
    );
}

#[test]
fn engines_agree_on_the_catalog() {
    let run = |engine: &str| {
        let (code, mut v) = json(&[
            "interop",
            "--client-min",
            "0x20080000",
            "--server-min",
            "0x20080000",
            "--sign",
            "--engine",
            engine,
        ]);
        v["policy"]["engine"] = Value::Null;
        (code, v)
    };
    let (full_code, full) = run("full");
    let (flags_code, flags) = run("flags");
    assert_eq!(full_code, flags_code);
    assert_eq!(full, flags);
}

// --- fleets --------------------------------------------------------------------

#[test]
fn the_example_fleet_evaluates_exactly_its_pairs() {
    let (code, v) = json(&[
        "interop",
        "--fleet",
        "examples/fleet.toml",
        "--server-min",
        "0x20080000",
    ]);
    assert_eq!(code, 1);
    let pairs = v["pairs"].as_array().unwrap();
    // talks_to entries in the file: 3 + 2 + 1 + 2 + 1 + 2.
    assert_eq!(pairs.len(), 11);
    let p = pair(&v, "winrm-tool", "dc01");
    assert_eq!(p["client_profile"], "go-ntlmssp-2018");
    assert_eq!(p["breaks"], true);
    // files-linux is Samba: the Windows policy does not reach it.
    assert_eq!(pair(&v, "ws-legacy", "files-linux")["breaks"], false);
    assert!(
        v["policy"]["not_reached"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["peer"] == "files-linux")
    );
    // Filters accept host and profile names.
    let (_, v) = json(&[
        "interop",
        "--fleet",
        "examples/fleet.toml",
        "--clients",
        "ws-admin,jtds-1.3",
        "--servers",
        "fs01",
    ]);
    assert_eq!(v["summary"]["pairs"], 2);
    assert_bad_usage(
        &[
            "interop",
            "--fleet",
            "examples/fleet.toml",
            "--clients",
            "nobody",
        ],
        "neither a host nor a profile",
    );
}

#[test]
fn fleet_values_are_the_before_state() {
    let path = temp_file(
        "values.toml",
        r#"
[[host]]
name = "old-dc"
profile = "windows-xp"
role = "server"
LmCompatibilityLevel = 5

[[host]]
name = "app"
profile = "jtds-1.3"
talks_to = ["old-dc"]
"#,
    );
    // Already refused before any change: the DC refuses NTLMv1 at level 5.
    let (code, v) = json(&["interop", "--fleet", path.to_str().unwrap()]);
    assert_eq!(code, 0);
    let p = pair(&v, "app", "old-dc");
    assert_eq!(p["before"]["result"], "failure");
    assert_eq!(p["before"]["rule_id"], "lm-refuse-ntlmv1");
    // Lowering the level by policy fixes it.
    let (code, v) = json(&[
        "interop",
        "--fleet",
        path.to_str().unwrap(),
        "--server-lm-level",
        "2",
    ]);
    assert_eq!(code, 0);
    assert_eq!(pair(&v, "app", "old-dc")["change"], "fixed");
}

#[test]
fn fleet_errors_name_line_and_key() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "profile.toml",
            "[[host]]\nname = \"a\"\nprofile = \"windows-2012\"\n",
            "line 3, key profile: unknown profile \"windows-2012\"",
        ),
        (
            "mask.toml",
            "[[host]]\nname = \"a\"\nprofile = \"windows-11\"\n\nNtlmMinServerSec = \"0x2008000G\"\ntalks_to = [\"a\"]\n",
            "line 5, key NtlmMinServerSec",
        ),
        (
            "host.toml",
            "[[host]]\nname = \"a\"\nprofile = \"windows-11\"\ntalks_to = [\n  \"fs02\",\n]\n",
            "line 5, key talks_to: unknown host \"fs02\"",
        ),
        (
            "level.toml",
            "[[host]]\nname = \"a\"\nprofile = \"windows-11\"\nLmCompatibilityLevel = 6\n",
            "line 4, key LmCompatibilityLevel",
        ),
        (
            "key.toml",
            "[[host]]\nname = \"a\"\nprofile = \"windows-11\"\nNtlmMinClientSek = 1\n",
            "line 4: unknown field `NtlmMinClientSek`",
        ),
        (
            "syntax.toml",
            "all_to_all = true\n[[host]\nname = \"a\"\n",
            "line 2",
        ),
        (
            "nopairs.toml",
            "[[host]]\nname = \"a\"\nprofile = \"windows-11\"\n",
            "all_to_all",
        ),
    ];
    for (name, text, needle) in cases {
        let path = temp_file(name, text);
        assert_bad_usage(&["interop", "--fleet", path.to_str().unwrap()], needle);
    }
}

// --- human output ----------------------------------------------------------------

#[test]
fn human_output_fits_100_columns_without_colour_off_a_terminal() {
    for args in [
        &["interop", "--server-min", "0x20080000"][..],
        &[
            "interop",
            "--client-min",
            "all_above",
            "--server-min",
            "0x20080000",
            "--seal",
        ],
        &[
            "interop",
            "--fleet",
            "examples/fleet.toml",
            "--server-lm-level",
            "5",
        ],
        &["interop", "--server-min", "0x20080000", "--list"],
    ] {
        let (code, out, err) = ntlmsim(args);
        assert!(code == 0 || code == 1, "{args:?}: {err}");
        assert!(!out.contains('\x1b'), "colour codes off a terminal");
        assert!(err.is_empty(), "{err}");
        for line in out.lines() {
            assert!(
                line.chars().count() <= 100,
                "{args:?}: {} columns: {line}",
                line.len()
            );
        }
        assert!(out.contains("summary: "), "{out}");
    }
    let (_, out, _) = ntlmsim(&["interop", "--server-min", "0x20080000"]);
    assert!(out.contains("pairs newly break:"), "{out}");
    assert!(
        out.contains("rule min-flags-server: KB239869 [inferred]"),
        "{out}"
    );
    assert!(out.contains("mssql-jdbc-7.4 -> windows-xp"), "{out}");
    // Each group names the profiles whose assumed facts it rests on, and
    // the facts follow once.
    assert!(out.contains("      assumed: jtds-1.3 as client, "), "{out}");
    assert!(
        out.contains("\nassumed profile facts these verdicts rest on (no public source confirms them):\n  jtds-1.3 as client:\n    read from the source"),
        "{out}"
    );
    assert!(
        out.contains("not reaching (they do not read NtlmMinServerSec): samba-4"),
        "{out}"
    );
}

#[test]
fn html_report_is_written_and_counts_failing_cells() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli_interop");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("report.html");
    let _ = std::fs::remove_file(&path);
    let (code, v) = json(&[
        "interop",
        "--server-min",
        "0x20080000",
        "--html",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    let failing = v["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["after"]["result"] == "failure")
        .count();
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.contains(&format!("data-expected-failing=\"{failing}\"")));
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
    assert_bad_usage(
        &["interop", "--html", "/nonexistent/dir/report.html"],
        "cannot write",
    );
}

/// The report's "What to do" section: causes with the hosts on each side,
/// the relaxed value simulated on the cause's pairs, the host ranking.
#[test]
fn html_report_says_what_to_do() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli_interop");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fleet-actions.html");
    let _ = std::fs::remove_file(&path);
    let fleet = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/fleet.toml");
    let (code, v) = json(&[
        "interop",
        "--fleet",
        fleet,
        "--server-min",
        "0x20080000",
        "--html",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    let broken: Vec<&Value> = v["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["change"] == "newly-broken")
        .collect();
    assert!(!broken.is_empty());
    let html = std::fs::read_to_string(&path).unwrap();
    let n = broken.len();
    assert!(
        html.contains(&format!("{n} pairs break under this change")),
        "{html}"
    );
    // Every newly broken client is listed, one a line, in a text box.
    let mut clients: Vec<&str> = broken
        .iter()
        .filter(|p| p["after"]["side"] == "server")
        .map(|p| p["client"].as_str().unwrap())
        .collect();
    clients.sort_unstable();
    clients.dedup();
    assert!(
        html.contains(&format!(">{}</textarea>", clients.join("\n"))),
        "{clients:?}"
    );
    // The fleet breaks on ESS alone: without 0x80000 every broken pair works.
    assert!(html.contains(
        "Make the clients below negotiate <code>NEGOTIATE_EXTENDED_SESSIONSECURITY</code>"
    ));
    assert!(html.contains("set NtlmMinServerSec on the servers below to <code>0x20000000</code> instead of <code>0x20080000</code>"));
    assert!(
        html.contains(&format!(
            "<b>Simulated:</b> with that value all {n} pairs of this cause work."
        )),
        "{html}"
    );
    assert!(html.contains("Hosts in the most broken pairs"));

    // A server none of whose pairs breaks is listed as one to apply the
    // change to first; a server the change does not reach (Samba) is not.
    let fleet2 = temp_file(
        "actions-fleet.toml",
        r#"
[[host]]
name = "fs01"
profile = "windows-7-upgraded"
role = "server"
[[host]]
name = "fs02"
profile = "windows-11"
role = "server"
[[host]]
name = "files-linux"
profile = "samba-4"
role = "server"
[[host]]
name = "ws-admin"
profile = "windows-11"
role = "client"
talks_to = ["fs01", "fs02", "files-linux"]
[[host]]
name = "sql-reports"
profile = "jtds-1.3"
role = "client"
talks_to = ["fs01", "files-linux"]
"#,
    );
    let safe = dir.join("safe-actions.html");
    let (code, _) = json(&[
        "interop",
        "--fleet",
        fleet2.to_str().unwrap(),
        "--server-min",
        "0x20080000",
        "--html",
        safe.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    let html = std::fs::read_to_string(&safe).unwrap();
    assert!(
        html.contains("Servers where the change breaks nothing (1)"),
        "{html}"
    );
    assert!(html.contains(">fs02</textarea>"), "{html}");
    assert!(!html.contains(">files-linux\nfs02</textarea>"));

    // Both sides changed: relaxing the servers alone leaves the pairs whose
    // client also refuses, and the page says which.
    // (Level 0 read as the policy text says: NT 4.0, 2000 and XP clients
    // request no ESS and refuse the CHALLENGE too.)
    let both = dir.join("both-actions.html");
    let (code, _) = json(&[
        "interop",
        "--client-min",
        "0x20080000",
        "--server-min",
        "0x20080000",
        "--semantics",
        "level0-ess=never",
        "--html",
        both.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    let html = std::fs::read_to_string(&both).unwrap();
    assert!(html.contains("still fail, e.g. "), "{html}");
    assert!(html.contains("set NtlmMinClientSec on the clients below to <code>0x20000000</code>"));

    // Nothing breaks: the section says so.
    let none = dir.join("none-actions.html");
    let (code, _) = json(&["interop", "--html", none.to_str().unwrap()]);
    assert_eq!(code, 0);
    let html = std::fs::read_to_string(&none).unwrap();
    assert!(html.contains("No pair breaks under this change"));
}

/// `profiles --observations`: every field observation agrees with the
/// default semantics (exit 0); the strict reading contradicts some (exit 1).
#[test]
fn profiles_observations_list_the_field_evidence() {
    let (code, v) = json(&["profiles", "--observations"]);
    assert_eq!(code, 0, "{v}");
    let all = v.as_array().unwrap();
    assert!(all.len() >= 15, "{}", all.len());
    for o in all {
        assert_eq!(o["agrees"], true, "{o}");
        assert!(o["difference"].is_null());
        assert!(!o["sources"].as_array().unwrap().is_empty());
        assert!(o["model"]["result"].is_string(), "{o}");
    }
    let o = all
        .iter()
        .find(|o| o["id"] == "mssql-jdbc-1180-ess-required")
        .unwrap();
    assert_eq!(o["observed"], "fails");
    assert_eq!(o["observed_side"], "server");
    assert_eq!(o["model"]["missing"], "0x00080000");
    assert_eq!(o["model"]["negotiated"], "0x02818205");
    let (code, v) = json(&["profiles", "--observations", "--semantics", "ms-nlmp"]);
    assert_eq!(code, 1);
    let jtds = v
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == "jtds-sql-server-2016")
        .unwrap();
    assert_eq!(jtds["agrees"], false);
    assert_eq!(jtds["model"]["result"], "failure");
    let (code, out, _) = ntlmsim(&["profiles", "--observations"]);
    assert_eq!(code, 0);
    assert!(out.contains("observations agree with the model"), "{out}");
    let (code, _, err) = ntlmsim(&["profiles", "--observations", "--semantics", "nope"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error: --semantics"), "{err}");
}

#[test]
fn restrict_ntlm_in_the_change_breaks_windows_pairs_in_both_engines() {
    for engine in ["full", "flags"] {
        let (code, v) = json(&[
            "interop",
            "--engine",
            engine,
            "--clients",
            "windows-11,samba-4",
            "--servers",
            "windows-10,samba-4",
            "--server-restrict",
            "Network security: Restrict NTLM: Incoming NTLM traffic  Deny all domain accounts",
        ]);
        assert_eq!(code, 1, "{engine}");
        assert_eq!(
            v["policy"]["restrict"][0],
            "Restrict NTLM: Incoming NTLM traffic -> Deny all domain accounts on servers"
        );
        let pairs = v["pairs"].as_array().unwrap();
        let after = |c: &str, s: &str| {
            pairs
                .iter()
                .find(|p| p["client"] == c && p["server"] == s)
                .map(|p| p["after"].clone())
                .unwrap()
        };
        // A Windows server reads the policy: refused on the AUTHENTICATE.
        let a = after("windows-11", "windows-10");
        assert_eq!(a["status"], "STATUS_NTLM_BLOCKED", "{engine}");
        assert_eq!(a["stage"], "authenticate", "{engine}");
        assert_eq!(a["rule_id"], "restrict-incoming-deny", "{engine}");
        // Samba reads no Windows policy.
        assert_eq!(
            after("windows-11", "samba-4")["result"],
            "success",
            "{engine}"
        );
    }
    // Windows 11 24H2 no longer follows LmCompatibilityLevel 1 to an NTLMv1-only NAS.
    for engine in ["full", "flags"] {
        let (_, v) = json(&[
            "interop",
            "--engine",
            engine,
            "--clients",
            "windows-11,windows-11-24h2",
            "--servers",
            "ntlmv1-nas",
            "--client-lm-level",
            "1",
        ]);
        let pairs = v["pairs"].as_array().unwrap();
        let after = |c: &str| {
            pairs
                .iter()
                .find(|p| p["client"] == c)
                .map(|p| p["after"]["result"].clone())
                .unwrap()
        };
        assert_eq!(after("windows-11"), "success", "{engine}");
        assert_eq!(after("windows-11-24h2"), "failure", "{engine}");
    }
}

#[test]
fn fleet_hosts_carry_their_own_restrict_ntlm_values() {
    let fleet = temp_file(
        "restrict-fleet.toml",
        "[[host]]\nname = \"ws01\"\nprofile = \"windows-11\"\nrole = \"client\"\n\
         RestrictSendingNTLMTraffic = \"Deny all\"\nClientAllowedNTLMServers = [\"app*\"]\n\
         talks_to = [\"app01\", \"files01\"]\n\n\
         [[host]]\nname = \"app01\"\nprofile = \"windows-10\"\nrole = \"server\"\n\n\
         [[host]]\nname = \"files01\"\nprofile = \"windows-10\"\nrole = \"server\"\n\
         RestrictReceivingNTLMTraffic = 1\n",
    );
    let path = fleet.to_str().unwrap();
    let (_, v) = json(&["interop", "--fleet", path]);
    let pair = |v: &Value, s: &str| {
        v["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["server"] == s)
            .cloned()
            .unwrap()
    };
    // The host's own deny holds before and after; app01 is an exception.
    assert_eq!(pair(&v, "app01")["before"]["result"], "success");
    let f = pair(&v, "files01");
    assert_eq!(f["before"]["rule_id"], "restrict-outgoing-deny");
    assert_eq!(f["before"]["side"], "client");
    // Lifting the client's deny in the change: files01's own incoming deny now refuses.
    let (_, v) = json(&[
        "interop",
        "--fleet",
        path,
        "--client-restrict",
        "RestrictSendingNTLMTraffic    REG_DWORD    0x0",
    ]);
    let f = pair(&v, "files01");
    assert_eq!(f["after"]["rule_id"], "restrict-incoming-deny");
    // A bad value names its key and line.
    let bad = temp_file(
        "restrict-fleet-bad.toml",
        "[[host]]\nname = \"ws01\"\nprofile = \"windows-11\"\nRestrictSendingNTLMTraffic = 7\n",
    );
    assert_bad_usage(
        &["interop", "--fleet", bad.to_str().unwrap()],
        "RestrictSendingNTLMTraffic",
    );
}

/// A channel-binding baseline as the change: what Extended Protection
/// Required breaks over HTTPS, with both engines, and nothing over HTTP.
#[test]
fn binding_change_over_a_carrier() {
    for engine in ["full", "flags"] {
        let (code, v) = json(&[
            "interop",
            "--carrier",
            "https",
            "--binding",
            "extended-protection=require",
            "--servers",
            "windows-11",
            "--clients",
            "windows-10,curl-7.88,gss-ntlmssp-1.2",
            "--engine",
            engine,
        ]);
        assert_eq!(code, 1, "{v}");
        assert_eq!(v["policy"]["carrier"], "https");
        assert_eq!(v["policy"]["binding"], "extendedProtection=Require");
        let pairs = v["pairs"].as_array().unwrap();
        let get = |c: &str| pairs.iter().find(|p| p["client"] == c).unwrap();
        assert_eq!(get("windows-10")["change"], "unchanged", "{engine}");
        for c in ["curl-7.88", "gss-ntlmssp-1.2"] {
            let p = get(c);
            assert_eq!(p["breaks"], true, "{engine} {c}");
            assert_eq!(p["before"]["result"], "success");
            assert_eq!(p["after"]["rule_id"], "epa-require");
        }
    }
    let (code, v) = json(&[
        "interop",
        "--carrier",
        "http",
        "--binding",
        "extended-protection=require",
        "--servers",
        "windows-11",
        "--clients",
        "curl-7.88",
    ]);
    assert_eq!(code, 0, "{v}");
    let (code, _, err) = ntlmsim(&["interop", "--binding", "nonsense"]);
    assert_eq!(code, 2);
    assert!(err.contains("--binding"), "{err}");
}

/// Each missing bit of a broken pair carries its own rule and basis
/// (`missing_rules`), as in `handshake --json`.
#[test]
fn broken_pairs_name_a_rule_per_missing_bit() {
    let (code, v) = json(&[
        "interop",
        "--server-min",
        "0xa0080000",
        "--clients",
        "curl-7.88",
        "--servers",
        "windows-11",
    ]);
    assert_eq!(code, 1, "{v}");
    let after = &v["pairs"][0]["after"];
    let missing = after["missing_names"].as_array().unwrap();
    let rules = after["missing_rules"].as_array().unwrap();
    assert_eq!(rules.len(), missing.len(), "{after}");
    for (r, m) in rules.iter().zip(missing) {
        assert_eq!(&r["name"], m);
        assert!(r["rule_id"].is_string() && r["basis"].is_string(), "{r}");
    }
    assert!(
        rules.iter().any(|r| r["rule_id"] == "min-56"),
        "the 56-bit bit has its own rule: {after}"
    );
}
