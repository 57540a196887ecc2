//! `ntlmsim audit` on Windows event logs: the public EVTX samples in
//! `../shared/evtx` under three policies, the same events as EVTX, XML and
//! JSON Lines, hand-written event XML for the events without public
//! samples (each test names the document its fields come from), damaged
//! and foreign inputs mixed with good ones.
//!
//! Without the shared samples the tests that need them print a note and
//! check nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

use std::collections::BTreeMap;
use std::path::PathBuf;
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

fn tmp() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("audit_events");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(name: &str, bytes: &[u8]) -> String {
    let p = tmp().join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_owned()
}

fn samples() -> Option<PathBuf> {
    let d = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("../shared/evtx");
    if d.is_dir() {
        Some(d)
    } else {
        ntlm_testsupport::skip(&format!("its checks: {} is absent", d.display()));
        None
    }
}

fn sample_paths(d: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "evtx"))
        .map(|p| p.to_str().unwrap().to_owned())
        .collect();
    v.sort();
    assert_eq!(v.len(), 4, "{v:?}");
    v
}

/// `audit --json`: the event records, problems and the summary.
fn audit(args: &[&str]) -> (i32, Vec<Value>, Vec<Value>, Value) {
    let mut all = vec!["audit", "--json"];
    all.extend_from_slice(args);
    let (code, out, err) = ntlmsim(&all);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    let mut events = Vec::new();
    let mut problems = Vec::new();
    let mut summary = Value::Null;
    for line in out.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        if let Some(e) = v.get("event") {
            events.push(e.clone());
        } else if let Some(p) = v.get("problem") {
            problems.push(p.clone());
        } else if let Some(s) = v.get("summary") {
            summary = s.clone();
        }
    }
    (code, events, problems, summary)
}

fn verdicts(events: &[Value]) -> BTreeMap<(u64, String), usize> {
    let mut m = BTreeMap::new();
    for e in events {
        *m.entry((
            e["event_id"].as_u64().unwrap(),
            e["verdict"].as_str().unwrap().to_owned(),
        ))
        .or_insert(0) += 1;
    }
    m
}

fn expect(pairs: &[(u64, &str, usize)]) -> BTreeMap<(u64, String), usize> {
    pairs
        .iter()
        .map(|(id, v, n)| ((*id, (*v).to_owned()), *n))
        .collect()
}

/// Every NTLM 4624/4625/4776 of the samples (SOURCES.md: 17 NTLM 4624, 6
/// NTLM 4625, 27 4776) is listed with its fields, under no policy, a
/// server LmCompatibilityLevel of 5 and NtlmMinServerSec 0x20000000.
#[test]
fn public_samples_under_three_policies() {
    let Some(d) = samples() else { return };
    let files = sample_paths(&d);
    let files: Vec<&str> = files.iter().map(String::as_str).collect();

    let (code, events, problems, summary) = audit(&files);
    assert_eq!(code, 0);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(events.len(), 50);
    assert_eq!(summary["events"], 50);
    assert_eq!(summary["event_records"], 636 + 18 + 34 + 8);
    assert_eq!(summary["by_event_id"]["4776"], 27);
    // No requirement: every versioned logon is ok; 4625 without a version
    // and 4776 are unknown.
    assert_eq!(
        verdicts(&events),
        expect(&[
            (4624, "ok", 17),
            (4625, "unknown", 6),
            (4776, "unknown", 27)
        ])
    );
    for e in &events {
        for key in [
            "file",
            "record_id",
            "event_id",
            "provider",
            "channel",
            "time",
            "computer",
            "user",
            "domain",
            "workstation",
            "ip",
            "lm_package",
            "key_length",
            "negotiated_security",
            "negotiated_security_names",
            "required_security",
            "required_security_names",
            "verdict",
            "outcome",
        ] {
            assert!(e.get(key).is_some(), "{key} missing in {e}");
        }
        if e["verdict"] == "unknown" {
            assert!(e["outcome"].is_null());
            assert!(!e["reason"].as_str().unwrap().is_empty());
        }
    }
    // The relayed machine-account logon: NTLM V2, no session key.
    let relay = events
        .iter()
        .find(|e| e["record_id"] == 65969)
        .expect("privexchange 4624");
    assert_eq!(relay["lm_package"], "NTLM V2");
    assert_eq!(relay["key_length"], 0);
    assert_eq!(relay["workstation"], "EXCHANGE");
    assert_eq!(relay["ip"], "192.168.111.87");
    assert_eq!(relay["computer"], "ICORP-DC.internal.corp");
    assert_eq!(relay["time"], "2019-02-02T09:17:22.5630182Z");

    // Level 5: the NTLM V1 logons of the samples are all anonymous, which
    // LmCompatibilityLevel does not refuse: nothing breaks.
    let (code, events, _, _) = audit(&[&["--server-lm-level", "5"], &files[..]].concat());
    assert_eq!(code, 0);
    assert_eq!(
        verdicts(&events),
        expect(&[
            (4624, "ok", 17),
            (4625, "unknown", 6),
            (4776, "unknown", 27)
        ])
    );
    let anon: Vec<&Value> = events
        .iter()
        .filter(|e| e["lm_package"] == "NTLM V1")
        .collect();
    assert_eq!(anon.len(), 13);
    for e in anon {
        assert_eq!(e["user"], "ANONYMOUS LOGON");
        assert_eq!(e["response_kind"], "ANONYMOUS");
        assert!(
            e["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["field"] == "TargetUserSid" && x["basis"] == "inferred"),
            "{e}"
        );
    }

    // 128-bit required, read strictly (NEGOTIATE_128 whatever SEAL is):
    // KeyLength 128 settles it (7 logons); KeyLength 0 (10 logons) does
    // not, and is never called ok.
    let strict = ["--server-min", "0x20000000", "--semantics", "ms-nlmp"];
    let (code, events, _, _) = audit(&[&strict[..], &files[..]].concat());
    assert_eq!(code, 0);
    assert_eq!(
        verdicts(&events),
        expect(&[
            (4624, "ok", 7),
            (4624, "unknown", 10),
            (4625, "unknown", 6),
            (4776, "unknown", 27)
        ])
    );
    for e in events.iter().filter(|e| e["event_id"] == 4624) {
        let ok = e["verdict"] == "ok";
        assert_eq!(ok, e["key_length"] == 128, "{e}");
        if !ok {
            assert!(
                e["reason"].as_str().unwrap().contains("NEGOTIATE_128"),
                "{e}"
            );
        }
    }
    // The default reading (KB239869: 0x20000000 applies only with SEAL):
    // KeyLength 128 meets it, and a logon without a session key cannot
    // have sealed, so all 17 are ok.
    let (code, events, _, _) = audit(&[&["--server-min", "0x20000000"], &files[..]].concat());
    assert_eq!(code, 0);
    assert_eq!(
        verdicts(&events),
        expect(&[
            (4624, "ok", 17),
            (4625, "unknown", 6),
            (4776, "unknown", 27)
        ])
    );
}

/// The same records through EVTX, XML (as `wevtutil qe /f:xml` writes
/// them, here rendered by the `evtx` crate), UTF-16 XML and JSON Lines
/// (as `evtx_dump -o jsonl` writes them) give the same event records.
#[test]
fn evtx_xml_and_json_lines_give_the_same_records() {
    let Some(d) = samples() else { return };
    for (i, path) in sample_paths(&d).iter().enumerate() {
        let mut xml = String::new();
        for r in evtx::EvtxParser::from_path(path).unwrap().records() {
            xml.push_str(&r.unwrap().data);
            xml.push_str("\r\n");
        }
        let mut jsonl = String::new();
        let mut p = evtx::EvtxParser::from_path(path)
            .unwrap()
            .with_configuration(evtx::ParserSettings::new().indent(false));
        for r in p.records_json() {
            jsonl.push_str(&r.unwrap().data);
            jsonl.push('\n');
        }
        let utf16: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain(xml.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let forms = [
            path.clone(),
            write(&format!("same{i}.xml"), xml.as_bytes()),
            write(&format!("same{i}-utf16.xml"), &utf16),
            write(&format!("same{i}.jsonl"), jsonl.as_bytes()),
        ];
        let mut first: Option<Vec<Value>> = None;
        for f in &forms {
            let (_, mut events, problems, _) = audit(&["--server-min", "0x20000000", f]);
            assert!(problems.is_empty(), "{f}: {problems:?}");
            for e in &mut events {
                e["file"] = Value::Null;
            }
            events.sort_by_key(|e| e["record_id"].as_u64());
            match &first {
                None => first = Some(events),
                Some(want) => assert_eq!(&events, want, "{f}"),
            }
        }
    }
}

const EVENT_NS: &str = "http://schemas.microsoft.com/win/2004/08/events/event";

fn event_xml(provider: &str, channel: &str, id: u32, record: u64, data: &[(&str, &str)]) -> String {
    let mut x = format!(
        "<Event xmlns='{EVENT_NS}'><System><Provider Name='{provider}'/><EventID>{id}</EventID>\
         <TimeCreated SystemTime='2025-10-01T08:00:{:02}.0000000Z'/><EventRecordID>{record}</EventRecordID>\
         <Channel>{channel}</Channel><Computer>srv1.corp.example</Computer></System><EventData>",
        record % 60
    );
    for (k, v) in data {
        x.push_str(&format!("<Data Name='{k}'>{v}</Data>"));
    }
    x.push_str("</EventData></Event>");
    x
}

const SEC: &str = "Microsoft-Windows-Security-Auditing";
const NTLM: &str = "Microsoft-Windows-NTLM";
const NTLM_OP: &str = "Microsoft-Windows-NTLM/Operational";

/// A non-anonymous NTLM V1 logon, with the 4624 fields of "4624(S): An
/// account was successfully logged on" (Microsoft Learn): it breaks under
/// LmCompatibilityLevel 5, the client is named in `breaking_clients`, and
/// the exit code is 1.
#[test]
fn ntlmv1_logon_breaks_at_level_5() {
    let xml = event_xml(
        SEC,
        "Security",
        4624,
        7,
        &[
            ("SubjectUserSid", "S-1-0-0"),
            ("TargetUserSid", "S-1-5-21-1-2-3-1105"),
            ("TargetUserName", "svc-scan"),
            ("TargetDomainName", "CORP"),
            ("LogonType", "3"),
            ("LogonProcessName", "NtLmSsp "),
            ("AuthenticationPackageName", "NTLM"),
            ("WorkstationName", "SCANNER01"),
            ("LmPackageName", "NTLM V1"),
            ("KeyLength", "128"),
            ("IpAddress", "192.0.2.50"),
            ("IpPort", "49321"),
        ],
    );
    let f = write("v1.xml", xml.as_bytes());
    let (code, events, _, summary) = audit(&["--server-lm-level", "5", &f]);
    assert_eq!(code, 1);
    let e = &events[0];
    assert_eq!(e["verdict"], "breaks");
    assert_eq!(e["outcome"]["rule_id"], "lm-refuse-ntlmv1");
    assert_eq!(e["outcome"]["side"], "server");
    assert_eq!(e["client"], "SCANNER01");
    assert!(
        e["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["meaning"].as_str().unwrap().contains("validating DC"))
    );
    let b = &summary["breaking_clients"][0];
    assert_eq!(b["host"], "SCANNER01");
    assert_eq!(b["users"][0], "CORP\\svc-scan");
    assert_eq!(summary["event_clients"][0]["host"], "SCANNER01");
    assert_eq!(summary["event_servers"][0]["host"], "srv1.corp.example");
    assert_eq!(summary["events_breaking"], 1);
    // The human report and CSV say the same.
    let csv = tmp().join("v1.csv");
    let (code, out, _) = ntlmsim(&[
        "audit",
        "--server-lm-level",
        "5",
        "--events-csv",
        csv.to_str().unwrap(),
        &f,
    ]);
    assert_eq!(code, 1);
    assert!(
        out.contains("SCANNER01: 1 event(s), 1 would break"),
        "{out}"
    );
    let csv = std::fs::read_to_string(csv).unwrap();
    assert_eq!(csv.lines().count(), 2);
    assert!(csv.contains(",breaks,server,authenticate,"), "{csv}");
}

/// 4010 and 4011 of the Microsoft-Windows-NTLM provider: the message
/// (rendered in microsoft/mssql-jdbc#1180) gives the order calling process
/// PID, process name, negotiated security flags, minimum security flags;
/// the Data names CallerPID, ProcessName, NegotiatedSecurity and
/// RequiredSecurity are those OSSEM's event-4010.md / event-4011.md use (the
/// reader also falls back on the third and fourth Data by position). One
/// wevtutil-style file, UTF-16 as PowerShell writes it; the 4011 values are
/// those of microsoft/mssql-jdbc#1180.
#[test]
fn minimum_security_block_events() {
    let xml = [
        event_xml(
            NTLM,
            NTLM_OP,
            4011,
            1,
            &[
                ("CallerPID", "3360"),
                (
                    "ProcessName",
                    "C:\\Program Files\\Microsoft SQL Server\\MSSQL\\Binn\\sqlservr.exe",
                ),
                ("NegotiatedSecurity", "0x2818205"),
                ("RequiredSecurity", "0x20080000"),
            ],
        ),
        event_xml(
            NTLM,
            NTLM_OP,
            4010,
            2,
            &[
                ("CallerPID", "912"),
                ("ProcessName", "C:\\Windows\\System32\\svchost.exe"),
                ("NegotiatedSecurity", "0xe2888235"),
                ("RequiredSecurity", "0x20080030"),
            ],
        ),
    ]
    .concat();
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(xml.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let f = write("block.xml", &utf16);
    let (code, events, _, _) = audit(&[&f]);
    assert_eq!(code, 0, "no what-if minimum");
    let server = &events[0];
    assert_eq!(server["negotiated_security"], "0x02818205");
    assert_eq!(server["required_security"], "0x20080000");
    assert_eq!(server["logged_outcome"]["result"], "failure");
    assert_eq!(
        server["logged_outcome"]["missing_names"],
        // The default reading: without SEAL, 0x20000000 asks nothing more;
        // ESS alone is what this server missed (both readings agree it fails).
        serde_json::json!(["NEGOTIATE_EXTENDED_SESSIONSECURITY"])
    );
    // Each missing bit with its own rule, as in handshake --json.
    assert_eq!(
        server["logged_outcome"]["missing_rules"][0]["rule_id"],
        "min-flags-server"
    );
    assert_eq!(server["verdict"], "ok");
    // The bits are explained one by one, as logged.
    let ev = server["evidence"].as_array().unwrap();
    assert!(ev.iter().any(|x| x["field"] == "NegotiatedSecurity"
        && x["meaning"].as_str().unwrap().contains("NEGOTIATE_UNICODE")));
    // 0xe2888235 meets 0x20080030 as logged: the block was not about the masks.
    let client = &events[1];
    assert_eq!(client["logged_outcome"]["result"], "success");
    // Under NtlmMinServerSec 0x20000000 read strictly the 4011 breaks (128
    // missing); the 4010 is a client-side event and NtlmMinServerSec does
    // not touch it. Under the default reading it does not break: no SEAL,
    // as the mssql-jdbc#1180 server accepted at 0x20000000.
    let (code, events, _, _) = audit(&["--server-min", "0x20000000", &f]);
    assert_eq!(code, 0);
    assert_eq!(events[0]["verdict"], "ok");
    let (code, events, _, _) = audit(&["--server-min", "0x20000000", "--semantics", "ms-nlmp", &f]);
    assert_eq!(code, 1);
    assert_eq!(events[0]["verdict"], "breaks");
    assert_eq!(
        events[0]["outcome"]["missing_names"],
        serde_json::json!(["NEGOTIATE_128"])
    );
    assert_eq!(
        events[0]["outcome"]["missing_rules"][0]["rule_id"],
        "min-128-server"
    );
    assert_eq!(events[1]["verdict"], "ok");
}

/// Restrict-NTLM audit events with the fields the Microsoft-Windows-NTLM
/// manifest lists (8002: CallerPID, ProcessName, ClientLUID,
/// ClientUserName, ClientDomainName, MechanismOID; 8003: UserName,
/// DomainName, Workstation, CallerPID, ProcessName, LogonType, InProc,
/// MechanismOID; 8001 with the fields of its blocking twin 4001:
/// TargetName, UserName, DomainName, CallerPID, ProcessName, ...). 8004
/// (the DC's audit) is written with the order its message documents
/// (secure channel name, user, domain, workstation, secure channel type);
/// the Data names used here are this test's own. All are NTLM use without a
/// verdict.
#[test]
fn restrict_ntlm_audit_events_are_counted_not_judged() {
    let xml = [
        event_xml(
            NTLM,
            NTLM_OP,
            8001,
            1,
            &[
                ("TargetName", "HTTP/intranet.corp.example"),
                ("UserName", "alice"),
                ("DomainName", "CORP"),
                ("CallerPID", "4242"),
                ("ProcessName", "C:\\Program Files\\App\\app.exe"),
            ],
        ),
        event_xml(
            NTLM,
            NTLM_OP,
            8002,
            2,
            &[
                ("CallerPID", "720"),
                ("ProcessName", "C:\\Windows\\System32\\lsass.exe"),
                ("ClientLUID", "0x3e4"),
                ("ClientUserName", "PC7$"),
                ("ClientDomainName", "CORP"),
                ("MechanismOID", "(NULL)"),
            ],
        ),
        event_xml(
            NTLM,
            NTLM_OP,
            8003,
            3,
            &[
                ("UserName", "bob"),
                ("DomainName", "CORP"),
                ("Workstation", "PC9"),
                ("CallerPID", "764"),
                ("ProcessName", "C:\\Windows\\System32\\lsass.exe"),
                ("LogonType", "3"),
                ("InProc", "true"),
                ("MechanismOID", "(NULL)"),
            ],
        ),
        event_xml(
            NTLM,
            NTLM_OP,
            8004,
            4,
            &[
                ("SChannelName", "PC9"),
                ("UserName", "bob"),
                ("DomainName", "CORP"),
                ("WorkstationName", "PC9"),
                ("SChannelType", "2"),
            ],
        ),
    ]
    .concat();
    let f = write("restrict.xml", xml.as_bytes());
    let (code, events, problems, summary) =
        audit(&["--server-min", "0x20080000", "--server-lm-level", "5", &f]);
    assert_eq!(code, 0);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(events.len(), 4);
    for e in &events {
        assert_eq!(e["verdict"], "unknown", "{e}");
        assert_eq!(e["kind"], "ntlm-audit");
        assert!(
            e["reason"]
                .as_str()
                .unwrap()
                .contains("not the NTLM version")
        );
    }
    assert_eq!(events[0]["target"], "HTTP/intranet.corp.example");
    assert_eq!(summary["event_targets"]["HTTP/intranet.corp.example"], 1);
    assert_eq!(events[0]["user"], "alice");
    assert_eq!(events[1]["user"], "PC7$");
    assert_eq!(events[2]["workstation"], "PC9");
    assert_eq!(events[3]["workstation"], "PC9");
    let clients = summary["event_clients"].as_array().unwrap();
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0]["host"], "PC9");
    assert_eq!(clients[0]["users"], serde_json::json!(["CORP\\bob"]));
}

/// The Windows 11 24H2 / Server 2025 events (KB5064479: 4020-4023 in
/// NTLM/Operational, "This machine attempted to authenticate to a remote
/// resource via NTLM", "A remote client is using NTLM to authenticate to
/// this workstation"; KB5066470: 4024 audit and 4025 block of
/// NTLMv1-derived credentials for single sign-on). The KBs document the
/// events, not their Data names, so these fixtures carry the System part
/// only: each is counted as NTLM use with its reason.
#[test]
fn windows_24h2_ntlm_events() {
    let xml: String = [4020u32, 4021, 4022, 4023, 4024, 4025, 4030]
        .iter()
        .enumerate()
        .map(|(i, id)| event_xml(NTLM, NTLM_OP, *id, i as u64 + 1, &[]))
        .collect();
    let f = write("24h2.xml", xml.as_bytes());
    let (code, events, _, summary) = audit(&["--server-lm-level", "5", &f]);
    assert_eq!(code, 0);
    assert_eq!(events.len(), 7);
    for e in &events {
        assert_eq!(e["verdict"], "unknown", "{e}");
    }
    let sso: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "ntlmv1-derived-sso")
        .collect();
    assert_eq!(sso.len(), 2);
    assert!(
        sso[0]["reason"]
            .as_str()
            .unwrap()
            .contains("BlockNtlmv1SSO")
    );
    assert_eq!(summary["by_event_id"]["4025"], 1);
    // With an NTLM version field the same events are judged (the field
    // name here is an assumption, and the record says it is inferred).
    let judged = event_xml(
        NTLM,
        NTLM_OP,
        4022,
        9,
        &[("NtlmVersion", "NTLM V1"), ("ClientIP", "192.0.2.9")],
    );
    let f = write("24h2-v1.xml", judged.as_bytes());
    let (code, events, _, _) = audit(&["--server-lm-level", "5", &f]);
    assert_eq!(code, 1);
    assert_eq!(events[0]["verdict"], "breaks");
    assert_eq!(events[0]["ip"], "192.0.2.9");
    assert!(
        events[0]["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["field"] == "NtlmVersion" && x["basis"] == "inferred")
    );
}

/// LsaSrv 6038 as its manifest defines it (Data_0 and Binary, System log):
/// NTLM in use on the server, counted.
#[test]
fn lsasrv_6038_6039() {
    let xml = [
        event_xml(
            "LsaSrv",
            "System",
            6038,
            1,
            &[("Data_0", ""), ("Binary", "")],
        ),
        event_xml("LsaSrv", "System", 6039, 2, &[]),
    ]
    .concat();
    let f = write("lsasrv.xml", xml.as_bytes());
    let (code, events, _, summary) = audit(&[&f]);
    assert_eq!(code, 0);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["verdict"], "unknown");
    assert_eq!(summary["event_servers"][0]["events"], 2);
}

/// Damaged and foreign inputs next to good ones: each is a problem naming
/// the file and the place, the good inputs are still judged, nothing
/// panics; an empty file is an error.
#[test]
fn bad_inputs_are_problems_and_the_rest_is_judged() {
    let good = write(
        "good.xml",
        event_xml(
            SEC,
            "Security",
            4776,
            1,
            &[
                ("TargetUserName", "carol"),
                ("Workstation", "PC1"),
                ("Status", "0x0"),
            ],
        )
        .as_bytes(),
    );
    let malformed = write(
        "malformed.xml",
        b"<Event><System><EventID>4624</EventID></Sys></Event>",
    );
    let unrelated = write(
        "unrelated.xml",
        event_xml(
            "Service Control Manager",
            "System",
            7036,
            1,
            &[("param1", "x")],
        )
        .as_bytes(),
    );
    let mut evtx = vec![0u8; 4096 + 65536];
    evtx[..8].copy_from_slice(b"ElfFile\0");
    evtx[4096..4104].copy_from_slice(b"NotChunk");
    let corrupt = write("corrupt.evtx", &evtx);
    let truncated = write("truncated.evtx", &evtx[..3000]);
    let jsonl = write(
        "bad.jsonl",
        b"{\"Event\":{\"System\":{\"EventID\":4776}}}\n{oops\n",
    );
    let (code, events, problems, summary) =
        audit(&[&good, &malformed, &unrelated, &corrupt, &truncated, &jsonl]);
    assert_eq!(code, 0);
    assert_eq!(events.len(), 2, "the good XML and the good JSON line");
    let by_file = |f: &str| -> Vec<String> {
        problems
            .iter()
            .filter(|p| p["file"] == f)
            .map(|p| p["message"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(by_file(&malformed).len(), 1, "{problems:?}");
    assert!(
        by_file(&malformed)[0].contains("malformed XML"),
        "{problems:?}"
    );
    assert!(
        by_file(&unrelated)[0].contains("none of its 1 event"),
        "{problems:?}"
    );
    assert!(
        by_file(&corrupt)
            .iter()
            .any(|m| m.contains("chunk 0") && m.contains("bad chunk magic")),
        "{problems:?}"
    );
    assert!(
        by_file(&truncated)[0].contains("file header"),
        "{problems:?}"
    );
    assert!(by_file(&jsonl)[0].contains("line 2"), "{problems:?}");
    assert_eq!(summary["event_files"].as_array().unwrap().len(), 6);

    let empty = write("empty.xml", b"");
    let (code, _, err) = ntlmsim(&["audit", &good, &empty]);
    assert_eq!(code, 2);
    assert!(err.contains("empty.xml") && err.contains("empty"), "{err}");
}

/// Captures and event logs in one run: both kinds of record, one summary.
#[test]
fn captures_and_event_logs_mix() {
    let Some(d) = samples() else { return };
    let capture =
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("../shared/captures");
    let Some(pcap) = std::fs::read_dir(&capture).ok().and_then(|r| {
        r.filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
    }) else {
        ntlm_testsupport::skip(&format!("its checks: no capture in {}", capture.display()));
        return;
    };
    let evtx = d.join("evtx-attack-samples_privexchange_dirkjan.evtx");
    let html = tmp().join("mixed.html");
    let (_, out, _) = ntlmsim(&[
        "audit",
        "--json",
        "--html",
        html.to_str().unwrap(),
        pcap.to_str().unwrap(),
        evtx.to_str().unwrap(),
    ]);
    let kinds: Vec<&str> = out
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            if v.get("event").is_some() {
                "event"
            } else if v.get("exchange").is_some() {
                "exchange"
            } else if v.get("summary").is_some() {
                "summary"
            } else {
                "problem"
            }
        })
        .collect();
    assert!(kinds.contains(&"event"));
    assert_eq!(kinds.last(), Some(&"summary"));
    let page = std::fs::read_to_string(html).unwrap();
    assert!(page.contains("id=\"events\""));
    assert!(page.find("All exchanges") < page.find("Event logs"));
}

/// An event log on standard input (`-`) is recognised by content as a file
/// is, and a report of event logs alone has no empty capture headings.
#[test]
fn an_event_log_on_standard_input() {
    let Some(d) = samples() else { return };
    let path = d.join("evtx-attack-samples_privexchange_dirkjan.evtx");
    let bytes = std::fs::read(&path).unwrap();
    let run = |json: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ntlmsim"));
        cmd.args(["audit", "--server-lm-level", "5"]);
        if json {
            cmd.arg("--json");
        }
        let mut child = cmd
            .arg("-")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), &bytes).unwrap();
        let out = child.wait_with_output().unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    let (code, out) = run(true);
    assert_eq!(code, Some(0), "{out}");
    let from_stdin: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter_map(|v| v.get("event").cloned())
        .collect();
    let (_, from_file, _, _) = audit(&["--server-lm-level", "5", path.to_str().unwrap()]);
    assert_eq!(from_stdin.len(), from_file.len());
    assert!(!from_stdin.is_empty());
    for (a, b) in from_stdin.iter().zip(&from_file) {
        assert_eq!(a["event_id"], b["event_id"]);
        assert_eq!(a["verdict"], b["verdict"]);
        assert_eq!(a["record_id"], b["record_id"]);
    }
    let (_, text) = run(false);
    assert!(text.contains("Event logs: 1 file(s)"), "{text}");
    assert!(!text.contains("By verdict:"), "{text}");
}
