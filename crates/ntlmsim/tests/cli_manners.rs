//! The command line's manners: `--json` everywhere a result is printed,
//! `decode` of captures and `audit --show-messages`, errors that name the
//! real problem, completions, man pages and `--version`.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ntlm_testsupport::synth::{self, Format, Messages};
use serde_json::Value;

fn ntlmsim(args: &[&str]) -> (i32, String, String) {
    ntlmsim_in(args, None)
}

fn ntlmsim_in(args: &[&str], stdin: Option<&[u8]>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ntlmsim"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.unwrap_or_default()).unwrap();
    drop(pipe);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli_manners");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(name: &str, bytes: &[u8]) -> String {
    let p = dir().join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_owned()
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// Three HTTP connections, one NTLM exchange each (clients 10.8.0.0,
/// 10.8.0.1, 10.8.0.2).
fn three_exchanges(name: &str) -> String {
    let bytes = synth::write_exchanges(
        Vec::new(),
        Format::PcapNg { big_endian: false },
        &Messages::sample(),
        3,
    )
    .unwrap();
    write(name, &bytes)
}

fn shared_capture(name: &str) -> Option<PathBuf> {
    let p = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("../shared/captures")
        .join(name);
    if p.is_file() {
        Some(p)
    } else {
        ntlm_testsupport::skip(&format!(
            "the part that needs ../shared/captures/{name} (not present)"
        ));
        None
    }
}

#[test]
fn version_names_the_package_version_and_a_commit() {
    let (code, out, _) = ntlmsim(&["--version"]);
    assert_eq!(code, 0);
    let rest = out
        .trim()
        .strip_prefix(&format!("ntlmsim {} (git ", env!("CARGO_PKG_VERSION")))
        .unwrap_or_else(|| panic!("{out}"));
    let commit = rest.strip_suffix(')').unwrap_or_else(|| panic!("{out}"));
    assert!(
        commit == "unknown" || (commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{out}"
    );
}

#[test]
fn completions_for_every_shell_name_the_subcommands() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef ntlmsim"),
        ("fish", "complete -c ntlmsim"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer"),
    ] {
        let (code, out, err) = ntlmsim(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(out.contains(marker), "{shell}: no {marker:?}");
        for sub in ["audit", "decode", "manpage", "completions"] {
            assert!(out.contains(sub), "{shell}: {sub} missing");
        }
        // Options of nested subcommands are completed too.
        assert!(out.contains("show-messages"), "{shell}");
    }
    let (code, _, err) = ntlmsim(&["completions", "tcsh"]);
    assert_eq!(code, 2);
    assert!(err.contains("bash"), "{err}");
}

#[test]
fn manpage_to_stdout_and_one_page_per_command_in_a_directory() {
    let (code, out, _) = ntlmsim(&["manpage"]);
    assert_eq!(code, 0);
    assert!(
        out.contains(".TH ntlmsim 1"),
        "{}",
        &out[..200.min(out.len())]
    );
    assert!(out.contains("decode"));

    let d = dir().join("man1");
    let _ = std::fs::remove_dir_all(&d);
    let (code, out, err) = ntlmsim(&["manpage", d.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let listed: Vec<&str> = out.lines().collect();
    for page in [
        "ntlmsim.1",
        "ntlmsim-decode.1",
        "ntlmsim-audit.1",
        "ntlmsim-policy-explain.1",
        "ntlmsim-serve-http.1",
    ] {
        let p = d.join(page);
        assert!(listed.contains(&p.to_str().unwrap()), "{page} not listed");
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.starts_with(".ie"), "{page}");
    }
    let audit = std::fs::read_to_string(d.join("ntlmsim-audit.1")).unwrap();
    assert!(
        audit.contains("show\\-messages"),
        "audit page lacks its options"
    );
    assert_eq!(
        listed.len(),
        std::fs::read_dir(&d).unwrap().count(),
        "every page written is listed"
    );
}

#[test]
fn decode_says_a_header_of_another_scheme_is_not_ntlm() {
    for (input, header, scheme) in [
        (
            "WWW-Authenticate: Basic realm=x",
            Some("WWW-Authenticate"),
            "Basic",
        ),
        (
            "Authorization: Bearer eyJhbGciOi.e30.x",
            Some("Authorization"),
            "Bearer",
        ),
        (
            "WWW-Authenticate: Digest realm=\"a\", nonce=\"b\"",
            Some("WWW-Authenticate"),
            "Digest",
        ),
        (
            "Proxy-Authenticate: Foo bar=1",
            Some("Proxy-Authenticate"),
            "Foo",
        ),
        ("Basic realm=x", None, "Basic"),
    ] {
        let (code, out, err) = ntlmsim(&["decode", input]);
        assert_eq!(code, 2, "{input}");
        assert!(out.is_empty());
        assert!(err.contains("not NTLM or Negotiate"), "{input}: {err}");
        assert!(err.contains(&format!("the {scheme} ")), "{input}: {err}");
        if let Some(h) = header {
            assert!(err.contains(&format!("the {h} header")), "{input}: {err}");
        }
        assert!(!err.contains("invalid character"), "{input}: {err}");
        assert_eq!(err.lines().count(), 1);
    }
    // NTLM inputs that look alike still decode.
    let m = Messages::sample();
    let b64 = base64_encode(&m.negotiate);
    for ok in [
        format!("WWW-Authenticate: NTLM {b64}"),
        format!("Authorization: {b64}"),
        format!("WWW-Authenticate: {}", hex_spaced(&m.negotiate)),
    ] {
        let (code, _, err) = ntlmsim(&["decode", &ok]);
        assert_eq!(code, 0, "{ok}: {err}");
    }
}

fn base64_encode(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in b.chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &x)| n | u32::from(x) << (16 - 8 * i));
        for i in 0..=c.len() {
            s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    while s.len() % 4 != 0 {
        s.push('=');
    }
    s
}

fn hex_spaced(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn decode_reads_the_messages_of_a_capture() {
    let cap = three_exchanges("three.pcapng");
    let m = Messages::sample();

    // Every message of every exchange, in exchange order.
    let (code, out, err) = ntlmsim(&["decode", "--json", &cap]);
    assert_eq!(code, 0, "{err}");
    let all = json(&out);
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 9);
    for (i, d) in all.iter().enumerate() {
        let c = &d["input"]["capture"];
        assert_eq!(d["input"]["source"], "capture");
        assert_eq!(d["input"]["path"], cap.as_str());
        assert_eq!(c["exchange"], i / 3 + 1);
        assert_eq!(c["carrier"], "HTTP");
        assert_eq!(c["server"], "10.9.0.1:80");
        assert_eq!(c["client"], format!("10.8.0.{}:{}", i / 3, 40_000 + i / 3));
        let (kind, sender, bytes) = match i % 3 {
            0 => ("NEGOTIATE", "client", &m.negotiate),
            1 => ("CHALLENGE", "server", &m.challenge),
            _ => ("AUTHENTICATE", "client", &m.authenticate),
        };
        assert_eq!(d["type"], kind);
        assert_eq!(c["sender"], sender);
        assert_eq!(d["length"], bytes.len());
    }
    // Packet numbers grow with the capture.
    let packets: Vec<u64> = all
        .iter()
        .map(|d| d["input"]["capture"]["packet"].as_u64().unwrap())
        .collect();
    assert!(packets.windows(2).all(|w| w[0] < w[1]), "{packets:?}");

    // --exchange picks one, as audit numbers them; @CAPTURE works too.
    let (code, out, err) = ntlmsim(&["decode", "--json", "--exchange", "2", &format!("@{cap}")]);
    assert_eq!(code, 0, "{err}");
    let two = json(&out);
    let two = two.as_array().unwrap();
    assert_eq!(two.len(), 3);
    assert!(
        two.iter()
            .all(|d| d["input"]["capture"]["client"] == "10.8.0.1:40001")
    );
    let (_, audit, _) = ntlmsim(&["audit", "--json", &cap]);
    let second = audit
        .lines()
        .map(json)
        .find(|l| l["exchange"]["index"] == 2)
        .unwrap();
    assert_eq!(second["exchange"]["client"], "10.8.0.1:40001");

    // Human output: where each message was found, then its fields.
    let (code, out, _) = ntlmsim(&["decode", "--exchange", "3", &cap]);
    assert_eq!(code, 0);
    assert!(out.starts_with("Message 1 of 3\nInput: capture "), "{out}");
    assert!(out.contains("exchange 3, packet "), "{out}");
    assert!(out.contains("HTTP (raw), client 10.8.0.2:40002 to server 10.9.0.1:80"));
    assert!(out.contains("server 10.9.0.1:80 to client 10.8.0.2:40002"));
    assert!(out.contains("AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3)"));

    // A capture on standard input.
    let bytes = std::fs::read(&cap).unwrap();
    let (code, out, err) = ntlmsim_in(&["decode", "--json", "--exchange", "1", "-"], Some(&bytes));
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out).as_array().unwrap().len(), 3);

    // A capture mixed with a message argument.
    let (code, out, _) = ntlmsim(&[
        "decode",
        "--json",
        "--exchange",
        "1",
        &base64_encode(&m.negotiate),
        &cap,
    ]);
    assert_eq!(code, 0);
    let mixed = json(&out);
    assert_eq!(mixed[0]["input"]["source"], "argument");
    assert_eq!(mixed[3]["input"]["source"], "capture");
}

#[test]
fn decode_capture_errors_name_the_problem() {
    let cap = three_exchanges("three-errors.pcapng");
    let (code, out, err) = ntlmsim(&["decode", "--exchange", "4", &cap]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(
        err.contains("--exchange 4: the capture has 3 NTLM exchange(s)"),
        "{err}"
    );

    let m = Messages::sample();
    let (code, _, err) = ntlmsim(&["decode", "--exchange", "1", &base64_encode(&m.negotiate)]);
    assert_eq!(code, 2);
    assert!(err.contains("no MESSAGE is a pcap/pcapng capture"), "{err}");

    let (code, _, err) = ntlmsim(&["decode", "--exchange", "0", &cap]);
    assert_eq!(code, 2, "{err}");

    // A capture without NTLM.
    let quiet = synth::write_bulk(
        Vec::new(),
        Format::Pcap {
            big_endian: false,
            nanos: false,
        },
        4 << 20,
        true,
    )
    .unwrap();
    let quiet = write("quiet.pcap", &quiet);
    let (code, _, err) = ntlmsim(&["decode", &quiet]);
    assert_eq!(code, 2);
    assert!(err.contains("no NTLM message in this capture"), "{err}");

    // A file that is not a capture, given without @.
    let text = write("note.txt", b"not a message\n");
    let (code, _, err) = ntlmsim(&["decode", &text]);
    assert_eq!(code, 2);
    assert!(err.contains(&format!("write @{text}")), "{err}");
}

#[test]
fn decode_of_shared_captures_agrees_with_tshark_frame_numbers() {
    // Frame numbers of the NTLMSSP messages as Wireshark numbers them:
    // `tshark -Y ntlmssp` lists 15 17 18 and 19 20 22; for LDAP it lists 4
    // and 8, and shows the CHALLENGE as frame 6's bindResponse
    // serverSaslCreds (4e544c4d53535000 02000000...) without dissecting it.
    for (name, frames) in [
        ("arkime_http-ntlm-auth.pcap", [15, 17, 18]),
        ("zeek_ldap_sasl-ntlm.pcap", [4, 6, 8]),
        ("zeek_smb_raw_ntlm_in_smb.pcap", [19, 20, 22]),
    ] {
        let Some(p) = shared_capture(name) else {
            continue;
        };
        let (code, out, err) =
            ntlmsim(&["decode", "--json", "--exchange", "1", p.to_str().unwrap()]);
        assert_eq!(code, 0, "{name}: {err}");
        let got: Vec<u64> = json(&out)
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["input"]["capture"]["packet"].as_u64().unwrap())
            .collect();
        assert_eq!(got, frames, "{name}");
    }
}

#[test]
fn audit_show_messages_and_the_policy_note() {
    let cap = three_exchanges("three-audit.pcapng");
    let (code, out, _) = ntlmsim(&["audit", &cap]);
    assert_eq!(code, 0);
    assert!(out.contains("No policy option was given"), "{out}");
    assert!(out.contains("NtlmMinServerSec 0"), "{out}");
    assert!(!out.contains("Messages (--show-messages)"));
    let (_, out, _) = ntlmsim(&["audit", "--server-min", "0", &cap]);
    assert!(!out.contains("No policy option was given"), "{out}");

    let (code, out, _) = ntlmsim(&["audit", "--show-messages", "--server-lm-level", "5", &cap]);
    assert_eq!(code, 0);
    let section = out.split("Messages (--show-messages):").nth(1).unwrap();
    for n in 1..=3 {
        assert!(section.contains(&format!("\nExchange {n}:\n")), "{section}");
    }
    assert_eq!(section.matches("NEGOTIATE_MESSAGE (MS-NLMP").count(), 3);
    assert_eq!(section.matches("AUTHENTICATE_MESSAGE (MS-NLMP").count(), 3);

    let (code, out, _) = ntlmsim(&["audit", "--json", "--show-messages", &cap]);
    assert_eq!(code, 0);
    let lines: Vec<Value> = out.lines().map(json).collect();
    let exchanges: Vec<&Value> = lines.iter().filter_map(|l| l.get("exchange")).collect();
    assert_eq!(exchanges.len(), 3);
    for x in &exchanges {
        let msgs = x["decoded_messages"].as_array().unwrap();
        let kinds: Vec<&str> = msgs.iter().map(|m| m["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["NEGOTIATE", "CHALLENGE", "AUTHENTICATE"]);
        assert_eq!(msgs[2]["input"]["capture"]["client"], x["client"]);
        // The record keeps its own keys, `messages` (the types) included.
        assert!(x.get("verdict").is_some() && x.get("file").is_some(), "{x}");
        assert_eq!(x["messages"], serde_json::json!(kinds));
    }
    // Without the flag the records carry no messages.
    let (_, out, _) = ntlmsim(&["audit", "--json", &cap]);
    assert!(
        out.lines()
            .map(json)
            .all(|l| l["exchange"].get("decoded_messages").is_none())
    );
}

#[test]
fn fleet_validation_errors_name_the_line() {
    let empty = write("empty-fleet.toml", b"# hosts to come\nall_to_all = true\n");
    let (code, _, err) = ntlmsim(&["interop", "--fleet", &empty]);
    assert_eq!(code, 2);
    assert!(err.contains("the fleet file has no hosts"), "{err}");

    let selfish = write(
        "self-fleet.toml",
        b"[[host]]\nname = \"ws01\"\nprofile = \"windows-11\"\ntalks_to = [\"fs01\", \"WS01\"]\n[[host]]\nname = \"fs01\"\nprofile = \"windows-11\"\n",
    );
    let (code, _, err) = ntlmsim(&["interop", "--fleet", &selfish]);
    assert_eq!(code, 2);
    assert!(
        err.contains("line 4, key talks_to: host \"ws01\" names itself"),
        "{err}"
    );
}

#[test]
fn every_result_command_speaks_json() {
    let (code, out, _) = ntlmsim(&["demo", "--json"]);
    assert_eq!(code, 0);
    let d = json(&out);
    let hs = d["handshakes"].as_array().unwrap();
    assert_eq!(hs.len(), 3);
    assert_eq!(hs[0]["outcome"]["result"], "success");
    assert_eq!(hs[2]["outcome"]["result"], "failure");
    assert_eq!(hs[2]["server_min"], "0x20080000");
    assert_eq!(hs[2]["outcome"]["stage"], "negotiate");
    // The server refused the NEGOTIATE: no CHALLENGE was sent.
    assert_eq!(hs[2]["messages"].as_array().unwrap().len(), 1);
    assert_eq!(hs[0]["messages"][2]["type"], "AUTHENTICATE");
    // Each verdict says whether every documented reading agrees.
    assert_eq!(hs[0]["certainty"]["verdict"], "works");
    assert_eq!(hs[2]["certainty"]["verdict"], "breaks");
    assert!(hs.iter().all(|h| h["certainty"]["readings"] == 512));
    let pairs = &d["matrix"]["interop"]["summary"]["pairs"];
    assert_eq!(pairs, 32);
    // The 2026 baseline: the DC's Restrict NTLM breaks the pairs to the
    // server that is not on its exception list.
    let b = &d["baseline_2026"]["interop"];
    assert_eq!(b["summary"]["pairs"], 15);
    let to_2025 = b["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["client"] == "windows-11" && p["server"] == "windows-server-2025")
        .unwrap();
    assert_eq!(to_2025["after"]["rule_id"], "restrict-domain-deny");
    assert!(
        d["matrix"]["interop"]["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["certainty"]["readings"] == 512)
    );
    assert!(
        d["next"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "ntlmsim profiles")
    );

    let (code, out, _) = ntlmsim(&["policy", "rules", "--json"]);
    assert_eq!(code, 0);
    let rules = json(&out);
    let rules = rules.as_array().unwrap();
    assert_eq!(rules.len(), ntlm_policy::rules::ALL.len());
    assert!(
        rules
            .iter()
            .all(|r| r["source"].as_str().is_some_and(|s| !s.is_empty()))
    );
    assert!(
        rules.iter().any(
            |r| r["status"] == "SEC_E_UNSUPPORTED_FUNCTION" && r["status_code"] == "0x80090302"
        )
    );

    let (code, out, _) = ntlmsim(&["policy", "semantics", "--json"]);
    assert_eq!(code, 0);
    let s = json(&out);
    assert_eq!(s["presets"][0]["name"], "calibrated");
    let switches = s["switches"].as_array().unwrap();
    assert_eq!(switches.len(), ntlm_policy::Semantics::SWITCHES.len());
    for sw in switches {
        let values = sw["values"].as_array().unwrap();
        assert!(values.contains(&sw["default"]), "{sw}");
    }

    let (code, out, _) = ntlmsim(&["profiles", "windows-xp", "--json"]);
    assert_eq!(code, 0);
    let p = json(&out);
    assert_eq!(p[0]["name"], "windows-xp");
    assert_eq!(p.as_array().unwrap().len(), 1);
}

#[test]
fn wire_text_from_a_capture_cannot_drive_the_terminal() {
    let hostile = Messages::new(&synth::Spec {
        user: "eve\u{1b}]0;owned\u{7}\u{1b}[2J".into(),
        workstation: "WS\u{202e}10".into(),
        ..synth::Spec::default()
    });
    let bytes = synth::write_exchanges(
        Vec::new(),
        Format::PcapNg { big_endian: false },
        &hostile,
        1,
    )
    .unwrap();
    let cap = write("hostile.pcapng", &bytes);
    for args in [
        vec!["decode", cap.as_str()],
        vec!["audit", "--show-messages", cap.as_str()],
    ] {
        let (code, out, err) = ntlmsim(&args);
        assert_eq!(code, 0, "{args:?}: {err}");
        // The messages (audit's own table is escaped by the report, not here).
        let out = out
            .split("Messages (--show-messages):")
            .last()
            .unwrap_or_default();
        assert!(out.contains("NEGOTIATE_MESSAGE"), "{args:?}");
        assert!(
            !out.contains('\u{1b}') && !out.contains('\u{7}'),
            "{args:?}"
        );
        assert!(!out.contains('\u{202e}'), "{args:?}");
        assert!(
            out.contains("\\u{1b}"),
            "{args:?}: the escape is shown, not sent"
        );
    }
    // JSON keeps the decoded text as it is (serde escapes it).
    let (_, out, _) = ntlmsim(&["decode", "--json", "--exchange", "1", &cap]);
    assert_eq!(json(&out)[2]["user"], "eve\u{1b}]0;owned\u{7}\u{1b}[2J");
}
