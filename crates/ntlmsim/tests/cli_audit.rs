//! `ntlmsim audit`: exit codes, the JSON Lines records, CSV and HTML
//! files, human output, unreadable and truncated captures.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use ntlm_testsupport::synth::{self, Conversation, Format, Messages, Spec};
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

fn dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli_audit");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes `name` atomically (a temporary file renamed over it): tests run
/// in parallel and several write the same fixture while others read it.
fn write(name: &str, bytes: &[u8]) -> String {
    let p = dir().join(name);
    let thread = format!("{:?}", std::thread::current().id());
    let tmp = dir().join(format!(
        "{name}.{}.{}.tmp",
        std::process::id(),
        thread.trim_start_matches("ThreadId(").trim_end_matches(')')
    ));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, &p).unwrap();
    p.to_str().unwrap().to_owned()
}

fn curl() -> Messages {
    Messages::new(&Spec {
        negotiate_flags: synth::CURL_FLAGS,
        challenge_flags: 0x0089_8205,
        authenticate_flags: 0x0088_8205,
        user: "bob".into(),
        mic: false,
        ..Spec::default()
    })
}

/// A pcapng with a Windows exchange (200) and a curl exchange (401) on two
/// connections.
fn two_clients() -> String {
    let mut a = Conversation::new("192.0.2.1:50001", "192.0.2.80:80");
    a.handshake();
    a.http_exchange(&Messages::sample(), 200);
    a.close();
    let mut b = Conversation::new("192.0.2.2:50002", "192.0.2.80:80");
    b.packet_base = u64::try_from(a.frames.len()).unwrap();
    b.time = a.time;
    b.handshake();
    b.http_exchange(&curl(), 401);
    b.close();
    let frames = [a.frames, b.frames].concat();
    write(
        "two.pcapng",
        &synth::capture(Format::PcapNg { big_endian: false }, &frames),
    )
}

fn lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn is_flags(v: &Value) -> bool {
    let s = v.as_str().unwrap();
    s.len() == 10
        && s.starts_with("0x")
        && s[2..]
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

#[test]
fn json_lines_records_and_exit_codes() {
    let file = two_clients();
    let (code, out, err) = ntlmsim(&["audit", "--json", &file]);
    assert_eq!(code, 0, "{err}");
    let recs = lines(&out);
    assert_eq!(recs.len(), 3);
    for r in &recs {
        assert_eq!(r.as_object().unwrap().len(), 1, "{r}");
    }
    let x = &recs[0]["exchange"];
    assert_eq!(x["index"], 1);
    assert_eq!(x["client"], "192.0.2.1:50001");
    assert_eq!(x["server"], "192.0.2.80:80");
    assert_eq!(x["roles_by"], "syn");
    assert_eq!(
        x["messages"],
        serde_json::json!(["NEGOTIATE", "CHALLENGE", "AUTHENTICATE"])
    );
    for key in ["offered_flags", "challenge_flags", "final_flags"] {
        assert!(is_flags(&x[key]), "{key}: {}", x[key]);
        assert!(
            x[format!("{key}_names")]
                .as_array()
                .unwrap()
                .iter()
                .all(|n| {
                    let n = n.as_str().unwrap();
                    !n.starts_with("NTLMSSP_") && !n.is_empty()
                })
        );
    }
    assert_eq!(x["offered_flags"], "0xe2088217");
    assert_eq!(x["user"], "alice");
    assert_eq!(x["domain"], "EXAMPLE");
    assert_eq!(x["workstation"], "WS01");
    assert_eq!(x["response_kind"], "NTLMv2");
    assert_eq!(x["observed_result"]["code"], 200);
    assert_eq!(x["observed_result"]["success"], true);
    assert_eq!(x["outcome"]["result"], "success");
    assert_eq!(x["verdict"], "ok");
    let y = &recs[1]["exchange"];
    assert_eq!(y["client_profile"], "curl-7.88");
    assert_eq!(y["observed_result"]["text"], "HTTP 401");
    let s = &recs[2]["summary"];
    assert_eq!(s["exchanges"], 2);
    assert_eq!(s["breaking"], 0);
    assert_eq!(s["files"][0]["packets"], 16);
    assert_eq!(s["policy"]["server_min"], "0x00000000");

    // 128-bit required by the servers: under the default (calibrated)
    // reading curl, which seals nothing, still works (KB239869)...
    let (code, _, _) = ntlmsim(&[
        "audit",
        "--json",
        "--server-min",
        "require_128bit_encryption",
        &file,
    ]);
    assert_eq!(code, 0);
    // ... under the strict ms-nlmp reading curl breaks, exit code 1.
    let (code, out, _) = ntlmsim(&[
        "audit",
        "--json",
        "--semantics",
        "ms-nlmp",
        "--server-min",
        "require_128bit_encryption",
        &file,
    ]);
    assert_eq!(code, 1);
    let recs = lines(&out);
    let y = &recs[1]["exchange"];
    assert_eq!(y["verdict"], "breaks");
    assert_eq!(y["outcome"]["side"], "server");
    assert_eq!(y["outcome"]["stage"], "negotiate");
    assert_eq!(y["outcome"]["missing"], "0x20000000");
    assert_eq!(y["outcome"]["rule"], "MS-NLMP 3.2.5.1.1");
    let s = &recs[2]["summary"];
    assert_eq!(s["breaking"], 1);
    assert_eq!(s["by_verdict"]["breaks"], 1);
    assert_eq!(s["by_client_profile"]["curl-7.88"]["breaking"], 1);
    let c = &s["breaking_clients"][0];
    assert_eq!(c["host"], "192.0.2.2");
    assert_eq!(c["users"][0], "EXAMPLE\\bob");
    assert_eq!(c["missing_names"][0], "NEGOTIATE_128");
}

#[test]
fn each_verdict_says_whether_every_reading_agrees() {
    let file = two_clients();
    let args = ["--server-min", "require_128bit_encryption", file.as_str()];
    let (code, out, _) = ntlmsim(&[&["audit", "--json"][..], &args[..]].concat());
    assert_eq!(code, 0);
    let recs = lines(&out);
    // Windows 10 negotiates 128-bit: it works whatever the reading.
    let c = &recs[0]["exchange"]["certainty"];
    assert_eq!(c["verdict"], "works");
    assert_eq!(c["holds_under_every_reading"], true);
    assert_eq!(
        (&c["readings"], &c["agreeing"]),
        (&Value::from(512), &Value::from(512))
    );
    // curl offers no NEGOTIATE_128: it works only under the KB239869
    // reading of the 128-bit rule.
    let c = &recs[1]["exchange"]["certainty"];
    assert_eq!(c["verdict"], "works");
    assert_eq!(c["holds_under_every_reading"], false);
    assert_eq!(c["depends_on"], serde_json::json!(["rule-128"]));
    assert_eq!(c["reversed_by"], serde_json::json!(["rule-128=strict"]));
    assert_eq!(c["only_under"], serde_json::json!(["rule-128=kb239869"]));
    assert_eq!(
        c["summary"],
        "works only under rule-128=kb239869; breaks under every other reading"
    );
    assert_eq!(recs[2]["summary"]["breaking_under_every_reading"], 0);

    // Under ms-nlmp it breaks, and the human verdict says on what reading.
    let (code, out, _) = ntlmsim(&[&["audit", "--semantics", "ms-nlmp"][..], &args[..]].concat());
    assert_eq!(code, 1);
    assert!(
        out.contains(
            "[min-128-server MS-NLMP 3.2.5.1.1] [breaks only under rule-128=strict; works under every other reading]\n"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "  of the 1 breaking, 0 break under every documented reading of the semantics switches\n"
        ),
        "{out}"
    );
    // A verdict that holds under every reading carries no such note.
    assert!(
        out.lines()
            .any(|l| l.contains("windows-10") && l.ends_with(" ok")),
        "{out}"
    );
}

#[test]
fn human_csv_and_html() {
    let file = two_clients();
    let csv = dir().join("out.csv");
    let html = dir().join("out.html");
    let (code, out, err) = ntlmsim(&[
        "audit",
        "--semantics",
        "ms-nlmp",
        "--server-min",
        "0x20000000",
        "--csv",
        csv.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
        &file,
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        out.starts_with("Read 1 file(s), 16 packets: 2 NTLM exchange(s)"),
        "{out}"
    );
    assert!(out.contains("Clients that would break:\n  192.0.2.2 (curl-7.88) EXAMPLE\\bob: 1 exchange(s); the server refuses on receipt of NEGOTIATE, missing NEGOTIATE_128"), "{out}");
    // Breaking exchanges are listed first.
    let breaks = out.find("BREAKS").unwrap();
    let ok = out.find(" ok\n").unwrap();
    assert!(breaks < ok, "{out}");
    let csv = std::fs::read_to_string(csv).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 3);
    assert!(rows[0].starts_with("index,file,carrier,client,server"));
    assert!(rows[2].contains(",bob,EXAMPLE,"), "{}", rows[2]);
    assert!(
        rows[2].contains(",breaks,server,negotiate,0x20000000,NEGOTIATE_128,"),
        "{}",
        rows[2]
    );
    // The verdict's certainty over the documented readings, then the
    // assumed facts (none here: the policy is server-side only).
    assert!(rows[0].ends_with(",rule,certainty,assumed"), "{}", rows[0]);
    assert!(
        rows[2]
            .ends_with(",\"breaks only under rule-128=strict; works under every other reading\","),
        "{}",
        rows[2]
    );
    assert!(
        rows[1]
            .ends_with(",works under every documented reading (512 combinations of 9 switches),"),
        "{}",
        rows[1]
    );
    let page = std::fs::read_to_string(html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("data-exchanges=\"2\" data-breaking=\"1\""));
    assert!(
        page.contains(
            "<span class=\"muted\">breaks only under rule-128=strict; works under every other reading</span>"
        ),
        "{page}"
    );
    assert!(page.contains("192.0.2.2 <span class=\"muted\">(curl-7.88)</span>"));
    assert!(!page.contains("<script"));
    // What to do: the cause, the client to change, the relaxed value.
    assert!(page.contains(
        "1 exchange breaks under this change, between 1 client and 1 server, for 1 reason."
    ));
    assert!(page.contains("Make the clients below negotiate <code>NEGOTIATE_128</code>"));
    assert!(page.contains(
        "set NtlmMinServerSec on the servers below to <code>0x00000000</code> instead of \
         <code>0x20000000</code>"
    ));
    assert!(page.contains(">192.0.2.2</textarea>"));
    assert!(page.contains(">EXAMPLE\\bob</textarea>"), "{page}");
    assert!(page.contains("run this report again with <code>--server-min 0x00000000</code>"));
}

#[test]
fn unreadable_files_are_usage_errors_naming_the_file() {
    let missing = dir().join("missing.pcap");
    let (code, out, err) = ntlmsim(&["audit", missing.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.starts_with("error: cannot open "), "{err}");
    assert!(err.contains("missing.pcap"), "{err}");
    let text = write("notes.txt", b"GET / HTTP/1.1\r\n");
    let (code, _, err) = ntlmsim(&["audit", &text]);
    assert_eq!(code, 2);
    assert!(
        err.contains("notes.txt: not a pcap or pcapng capture (file starts with 47455420"),
        "{err}"
    );
    let empty = write("empty.pcap", b"");
    let (code, _, err) = ntlmsim(&["audit", &empty]);
    assert_eq!(code, 2);
    assert!(err.contains("empty.pcap: empty file"), "{err}");
    let (code, _, err) = ntlmsim(&["audit", "--server-min", "bogus", &text]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error: --server-min: "), "{err}");
    let (code, _, err) = ntlmsim(&["audit", "--server-lm-level", "9", &text]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = ntlmsim(&["audit"]);
    assert_eq!(code, 2);
}

fn truncated(name: &str, format: Format, messages: &Messages, cut: usize) -> String {
    let mut c = Conversation::new("198.51.100.1:40000", "198.51.100.2:445");
    c.handshake();
    c.smb2_exchange(messages, 0);
    c.close();
    let bytes = synth::capture(format, &c.frames);
    write(name, &bytes[..bytes.len() - cut])
}

#[test]
fn a_truncated_capture_is_a_problem_not_an_error() {
    for (name, format) in [
        (
            "cut.pcap",
            Format::Pcap {
                big_endian: true,
                nanos: true,
            },
        ),
        ("cut.pcapng", Format::PcapNg { big_endian: false }),
    ] {
        // Cut inside the last record (a FIN): the exchange is complete.
        let file = truncated(name, format, &Messages::sample(), 10);
        let (code, out, err) = ntlmsim(&["audit", "--json", &file]);
        assert_eq!(code, 0, "{err}");
        let recs = lines(&out);
        let problem = recs.iter().find_map(|r| r.get("problem")).unwrap();
        assert_eq!(problem["layer"], "capture");
        assert!(
            problem["message"].as_str().unwrap().contains("truncated"),
            "{problem}"
        );
        assert_eq!(problem["file"], file.as_str());
        let x = recs[0]["exchange"].clone();
        assert_eq!(x["carrier"], "SMB2");
        assert_eq!(x["wrapping"], "spnego");
        assert_eq!(x["complete"], true);
        let s = recs.last().unwrap()["summary"].clone();
        assert_eq!(s["files"][0]["truncated"], true);
        assert_eq!(s["problems"], 1);
        // The same file under a policy the client fails: exit 1 all the same.
        let (code, _, _) = ntlmsim(&[
            "audit",
            "--server-lm-level",
            "5",
            "--client-lm-level",
            "2",
            &file,
        ]);
        assert_eq!(code, 1);
    }
}

#[test]
fn malformed_ntlmssp_is_reported_with_field_and_offset() {
    let mut m = Messages::sample();
    // AUTHENTICATE NtChallengeResponseFields BufferOffset far past the end.
    m.authenticate[24..28].copy_from_slice(&0x0000_4000u32.to_le_bytes());
    let mut c = Conversation::new("198.51.100.1:40000", "198.51.100.2:80");
    c.handshake();
    c.http_exchange(&m, 401);
    c.close();
    let file = write(
        "bad_auth.pcap",
        &synth::capture(
            Format::Pcap {
                big_endian: false,
                nanos: false,
            },
            &c.frames,
        ),
    );
    let (code, out, _) = ntlmsim(&["audit", "--json", &file]);
    assert_eq!(code, 0);
    let recs = lines(&out);
    let p = recs.iter().find_map(|r| r.get("problem")).unwrap();
    assert_eq!(p["layer"], "ntlmssp");
    let msg = p["message"].as_str().unwrap();
    assert!(
        msg.starts_with("AUTHENTICATE: NtChallengeResponseFields at offset 20"),
        "{msg}"
    );
    // The flags are still read from the header.
    let x = &recs[0]["exchange"];
    assert_eq!(x["final_flags"], "0xe2888215");
    assert_eq!(x["response_kind"], Value::Null);
}

#[test]
fn several_files_are_numbered_in_order() {
    let a = two_clients();
    let b = write("one.pcap", &synth::http_exchange_pcap(&curl(), 200));
    let (code, out, _) = ntlmsim(&["audit", "--json", &a, &b]);
    assert_eq!(code, 0);
    let recs = lines(&out);
    let idx: Vec<_> = recs
        .iter()
        .filter_map(|r| r.get("exchange"))
        .map(|x| {
            (
                x["index"].as_u64().unwrap(),
                x["file"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(idx.len(), 3);
    assert_eq!(
        idx.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(Path::new(&idx[2].1).ends_with("one.pcap"));
    assert_eq!(
        recs.last().unwrap()["summary"]["files"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// The messages of `client` (a built-in profile) against a Windows 11
/// server over HTTPS, as the session layer builds them.
fn simulated_https(client: &str) -> Messages {
    use ntlm_session::{Credentials, Fixed, MemoryStore, Pair};
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;
    let catalog = ntlm_sim::profiles::Catalog::builtin().unwrap();
    let cp = catalog.get(client).unwrap();
    let mut c = cp
        .client_settings(Credentials::password("alice", "TESTDOM", "pw"))
        .unwrap();
    let mut store = MemoryStore::new();
    store.add_password("TESTDOM", "alice", "pw");
    let mut s = catalog
        .get("windows-11")
        .unwrap()
        .server_settings(std::sync::Arc::new(store))
        .unwrap();
    ntlm_sim::binding::apply(
        cp,
        &mut c,
        &mut s,
        &ntlm_policy::BindingPolicy::default(),
        ntlm_policy::Carrier::Https,
    );
    let ex = Pair {
        client: c,
        server: s,
    }
    .run(
        &mut ChaCha20Rng::seed_from_u64(9),
        ntlm_wire::FileTime(133_000_000_000_000_000),
        Fixed::default(),
    );
    Messages {
        negotiate: ex.negotiate.unwrap().0,
        challenge: ex.challenge.unwrap().0,
        authenticate: ex.authenticate.unwrap().0,
    }
}

/// `--binding extended-protection=require --tls`: a capture of pyspnego
/// without channel bindings breaks, Windows with them does not; the
/// records say what each response carried; without --tls nothing is checked.
#[test]
fn channel_binding_settings_judge_captures() {
    let file = write(
        "cbt-pyspnego.pcap",
        &synth::http_exchange_pcap(&simulated_https("pyspnego-0.12"), 200),
    );
    let windows = write(
        "cbt-windows.pcap",
        &synth::http_exchange_pcap(&simulated_https("windows-11"), 200),
    );
    let (code, out, err) = ntlmsim(&[
        "audit",
        "--binding",
        "extended-protection=require",
        "--tls",
        "--json",
        &file,
        &windows,
    ]);
    assert_eq!(code, 1, "{err}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let exchanges: Vec<&Value> = lines.iter().filter_map(|l| l.get("exchange")).collect();
    assert_eq!(exchanges.len(), 2, "{out}");
    let py = exchanges[0];
    assert_eq!(py["verdict"], "breaks", "{py}");
    assert_eq!(py["channel_bindings"], "absent");
    assert_eq!(py["outcome"]["rule_id"], "epa-require");
    let win = exchanges[1];
    assert_eq!(win["verdict"], "ok", "{win}");
    assert_eq!(win["channel_bindings"], "present");
    assert_eq!(win["target_name"], "HTTP/ntlmsim.testdom.example");
    let summary = lines.iter().find_map(|l| l.get("summary")).unwrap();
    assert_eq!(summary["policy"]["binding"], "extendedProtection=Require");
    assert_eq!(summary["policy"]["tls"], true);

    let (code, out, _) = ntlmsim(&["audit", "--binding", "extended-protection=require", &file]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("channel bindings not checked"), "{out}");
}

/// A verdict that rests on the closest client profile (the policy sets a
/// client-side value the profile decides the reach of) names what is
/// assumed of that profile as a client: in each record, once in the human
/// report and in the HTML report; one that does not, names nothing.
#[test]
fn verdicts_name_the_assumed_client_profile_facts() {
    let file = two_clients();
    let html = dir().join("assumed.html");
    let (code, out, err) = ntlmsim(&["audit", "--json", "--client-min", "0x20000000", &file]);
    assert_eq!(code, 0, "{err}");
    let recs = lines(&out);
    for r in &recs[..2] {
        let x = &r["exchange"];
        let a = &x["assumed"][0];
        assert_eq!(a["profile"], x["client_profile"], "{x}");
        assert_eq!(a["role"], "client", "{x}");
        assert!(!a["facts"].as_str().unwrap().is_empty(), "{x}");
    }
    assert_eq!(recs[1]["exchange"]["client_profile"], "curl-7.88");
    // A server-side policy alone does not rest on the client profile.
    let (_, out, _) = ntlmsim(&["audit", "--json", "--server-min", "0x20000000", &file]);
    assert!(
        lines(&out)[..2]
            .iter()
            .all(|r| r["exchange"]["assumed"].is_null())
    );

    let csv = dir().join("assumed.csv");
    let (code, out, err) = ntlmsim(&[
        "audit",
        "--client-min",
        "0x20000000",
        "--html",
        html.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
        &file,
    ]);
    assert_eq!(code, 0, "{err}");
    // The CSV's last column carries the same facts, per exchange.
    let table = std::fs::read_to_string(csv).unwrap();
    let rows: Vec<&str> = table.lines().collect();
    assert!(rows[0].ends_with(",certainty,assumed"), "{table}");
    assert!(
        rows.iter()
            .any(|r| r.contains("curl-7.88 as client: always NTLMv2 here")),
        "{table}"
    );
    assert!(
        out.contains(
            "\nAssumed profile facts the verdicts of these client profiles rest on (no public source confirms them):\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("\n  curl-7.88 as client (1 exchange(s)): always NTLMv2 here"),
        "{out}"
    );
    let page = std::fs::read_to_string(html).unwrap();
    assert!(page.contains("<h2>Assumed profile facts</h2>"), "{page}");
    assert!(
        page.contains("<td>curl-7.88 as client</td><td>1</td>"),
        "{page}"
    );
    assert!(
        page.contains(">assumed: curl-7.88 as client</span>"),
        "{page}"
    );
}
