//! `ntlmsim audit` on a capture made here: `dumpcap` on the loopback
//! interface records real peers authenticating over HTTP — curl `--ntlm`
//! against pyspnego's acceptor and against Samba's `ntlm_auth`, a wrong
//! password, and pyspnego's own client — and the audit must find exactly
//! those exchanges, with their users, flags, results and verdicts.
//!
//! Needs dumpcap (tshark's package), curl, `ntlm_auth` and the pyspnego
//! venv (`.ci/install-peers`); without them the test prints why it is
//! skipped, and fails in CI.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ntlm_testsupport::{Scratch, missing};
use serde_json::Value;

/// A child process killed (and reaped) on drop, even when the test fails.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn venv_python() -> PathBuf {
    std::env::var_os("NTLMSIM_PEERS_VENV").map_or_else(
        || root().join("target/peers-venv/bin/python"),
        |v| PathBuf::from(v).join("bin/python"),
    )
}

fn on_path(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Starts an HTTP NTLM server; returns it and its port.
fn server(args: &[&str], user_file: &Path) -> (Guard, u16) {
    let mut child = Command::new(venv_python())
        .arg(root().join("crates/ntlmsim/tests/support/ntlm_http_peer.py"))
        .arg("server")
        .args(args)
        .env("NTLM_USER_FILE", user_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .strip_prefix("PORT ")
        .unwrap_or_else(|| panic!("server said {line:?}"))
        .parse()
        .unwrap();
    (Guard(child), port)
}

fn curl(port: u16, password: &str) -> String {
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--ntlm",
            "-u",
        ])
        .arg(format!("TESTDOM\\alice:{password}"))
        .arg(format!("http://127.0.0.1:{port}/"))
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// Starts dumpcap on `lo` for these ports and waits until it captures.
fn dumpcap(file: &Path, ports: &[u16]) -> Guard {
    let filter = ports
        .iter()
        .map(|p| format!("tcp port {p}"))
        .collect::<Vec<_>>()
        .join(" or ");
    let mut child = Command::new("dumpcap")
        .args(["-i", "lo", "-f", &filter, "-w"])
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut said = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) if line.contains("Capturing on") => break,
            Ok(line) => said.push(line),
            Err(_) if Instant::now() > deadline => {
                panic!("dumpcap did not start capturing: {said:?}")
            }
            Err(_) => {}
        }
    }
    // The file header is written once capturing starts.
    while !file.metadata().is_ok_and(|m| m.len() > 0) {
        assert!(Instant::now() < deadline, "dumpcap wrote no file");
        std::thread::sleep(Duration::from_millis(50));
    }
    Guard(child)
}

/// SIGINT, then wait: dumpcap flushes and closes the file.
fn stop(mut g: Guard) {
    let pid = g.0.id().to_string();
    let ok = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -INT {pid}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while g.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "dumpcap did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn audit(file: &Path, args: &[&str]) -> (i32, Vec<Value>, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_ntlmsim"))
        .arg("audit")
        .arg("--json")
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    let mut xs = Vec::new();
    let mut summary = Value::Null;
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        if let Some(x) = v.get("exchange") {
            xs.push(x.clone());
        } else if let Some(p) = v.get("problem") {
            panic!("unexpected problem {p}");
        } else {
            summary = v["summary"].clone();
        }
    }
    (out.status.code().unwrap(), xs, summary)
}

#[test]
fn real_peers_over_loopback_are_audited() {
    let test = "real_peers_over_loopback_are_audited";
    for tool in ["dumpcap", "curl", "ntlm_auth"] {
        if !on_path(tool) {
            missing(tool, test);
            return;
        }
    }
    if !venv_python().is_file() {
        missing("the pyspnego venv (.ci/install-peers)", test);
        return;
    }
    let dir = Scratch::new(env!("CARGO_TARGET_TMPDIR"), "audit-live");
    let users = dir.write("users", "TESTDOM:alice:Passw0rd!\n");
    let conf = dir.smb_conf();
    let ntlm_auth = ntlm_testsupport::ntlm_auth(test).unwrap();
    let (_py, py_port) = server(&["pyspnego"], &users);
    let (_samba, samba_port) = server(
        &[
            "samba",
            ntlm_auth.to_str().unwrap(),
            conf.to_str().unwrap(),
            "Passw0rd!",
        ],
        &users,
    );
    let capture = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("audit-live.pcapng");
    let _ = std::fs::remove_file(&capture);
    let cap = dumpcap(&capture, &[py_port, samba_port]);
    // 1. curl -> pyspnego; 2. curl -> Samba; 3. wrong password; 4. pyspnego's client.
    assert_eq!(curl(py_port, "Passw0rd!"), "200");
    assert_eq!(curl(samba_port, "Passw0rd!"), "200");
    assert_eq!(curl(py_port, "wrong"), "401");
    let out = Command::new(venv_python())
        .arg(root().join("crates/ntlmsim/tests/support/ntlm_http_peer.py"))
        .arg("client")
        .arg(format!("http://127.0.0.1:{py_port}/"))
        .args(["TESTDOM\\alice", "Passw0rd!"])
        .output()
        .unwrap();
    let client: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(client["status"], 200, "{client}");
    // Let the last FINs reach the capture.
    std::thread::sleep(Duration::from_millis(500));
    stop(cap);

    // No policy change: four exchanges, none breaks.
    let (code, xs, summary) = audit(&capture, &[]);
    assert_eq!(code, 0, "{xs:?}");
    assert_eq!(xs.len(), 4, "{xs:#?}");
    assert_eq!(summary["complete"], 4);
    for x in &xs {
        assert_eq!(x["carrier"], "HTTP");
        assert_eq!(x["roles_by"], "syn");
        assert_eq!(x["user"], "alice");
        assert_eq!(x["domain"], "TESTDOM");
        assert_eq!(x["response_kind"], "NTLMv2");
        assert_eq!(x["verdict"], "ok");
        assert!(x["client"].as_str().unwrap().starts_with("127.0.0.1:"));
    }
    let port = |x: &Value| {
        x["server"]
            .as_str()
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap()
            .parse::<u16>()
            .unwrap()
    };
    let [a, b, c, d] = [&xs[0], &xs[1], &xs[2], &xs[3]];
    assert_eq!(
        (port(a), port(b), port(c), port(d)),
        (py_port, samba_port, py_port, py_port)
    );
    // curl: 32-byte NEGOTIATE 0x00088206, AUTHENTICATE flags copy the CHALLENGE's.
    for (x, challenge) in [(a, "0x008a8206"), (b, "0x028a8206"), (c, "0x008a8206")] {
        assert_eq!(x["offered_flags"], "0x00088206");
        assert_eq!(x["challenge_flags"], challenge);
        assert_eq!(x["final_flags"], challenge);
        assert_eq!(x["client_profile"], "curl-7.88");
        assert_eq!(x["mic"], false);
        assert_eq!(x["workstation"], "WORKSTATION");
    }
    assert_eq!(a["observed_result"]["text"], "HTTP 200");
    assert_eq!(b["observed_result"]["text"], "HTTP 200");
    assert_eq!(c["observed_result"]["text"], "HTTP 401");
    assert_eq!(c["observed_result"]["success"], false);
    // pyspnego's client offers 128-bit, sends a MIC and its own Version.
    assert_eq!(d["client_profile"], "pyspnego-0.12");
    assert_eq!(d["mic"], true);
    assert_eq!(d["client_version"], "0.12.4");
    assert!(
        d["offered_flags_names"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "NEGOTIATE_128")
    );
    assert_eq!(d["observed_result"]["text"], "HTTP 200");

    // Servers requiring 128-bit, default (calibrated) reading: curl seals
    // nothing, so nothing breaks (KB239869; curl/curl#13291).
    let (code, xs, _) = audit(&capture, &["--server-min", "0x20000000"]);
    assert_eq!(code, 0);
    assert!(xs.iter().all(|x| x["verdict"] == "ok"));
    // The strict ms-nlmp reading: curl breaks on every exchange, pyspnego does not.
    let (code, xs, summary) = audit(
        &capture,
        &["--server-min", "0x20000000", "--semantics", "ms-nlmp"],
    );
    assert_eq!(code, 1);
    let verdicts: Vec<&str> = xs.iter().map(|x| x["verdict"].as_str().unwrap()).collect();
    assert_eq!(verdicts, ["breaks", "breaks", "breaks", "ok"]);
    for x in &xs[..3] {
        assert_eq!(x["outcome"]["side"], "server");
        assert_eq!(x["outcome"]["stage"], "negotiate");
        assert_eq!(
            x["outcome"]["missing_names"],
            serde_json::json!(["NEGOTIATE_128"])
        );
    }
    assert_eq!(summary["breaking"], 3);
    assert_eq!(summary["by_client_profile"]["curl-7.88"]["breaking"], 3);
    assert_eq!(summary["breaking_clients"][0]["host"], "127.0.0.1");
    assert_eq!(summary["breaking_clients"][0]["profile"], "curl-7.88");
    assert_eq!(summary["breaking_clients"][0]["exchanges"], 3);
}
