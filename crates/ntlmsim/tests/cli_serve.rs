//! `ntlmsim serve http` and `ntlmsim probe http` against real HTTP NTLM
//! peers on 127.0.0.1: curl `--ntlm`, pyspnego's initiator at
//! LmCompatibilityLevel 0-5 (with sealed and signed messages both ways),
//! pyspnego's acceptor behind Python's `http.server`, and ntlmsim against
//! itself. Every server listens on port 0 (a free port) and is stopped with
//! SIGINT, which also checks the clean shutdown; children are killed when
//! their guard drops.
//!
//! A test whose peer is missing prints a note and passes, except under
//! `CI=true`, where it fails (`.ci/install-peers` installs the peers).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test harness: a failed expectation or a broken peer must abort the test"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ntlm_testsupport::{DOMAIN, PASSWORD, Scratch, USER, missing};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(30);

fn ntlmsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ntlmsim"))
}

fn workspace_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// curl on PATH, or a note (a failure in CI).
fn curl(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("curl"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        missing("curl", test);
    }
    found
}

/// The peers venv's python (pyspnego), or a note (a failure in CI).
fn python(test: &str) -> Option<PathBuf> {
    let venv = std::env::var_os("NTLMSIM_PEERS_VENV")
        .map_or_else(|| workspace_root().join("target/peers-venv"), PathBuf::from);
    let python = venv.join("bin/python");
    if python.is_file() {
        Some(python)
    } else {
        missing(&format!("pyspnego venv ({})", venv.display()), test);
        None
    }
}

fn script() -> PathBuf {
    workspace_root().join("crates/ntlmsim/tests/support/ntlm_http_peer.py")
}

/// A running child, killed on drop.
struct Running {
    child: Child,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `ntlmsim serve http`.
struct Serve {
    running: Running,
    url: String,
    stderr: BufReader<std::process::ChildStderr>,
}

impl Serve {
    fn start(args: &[&str]) -> Self {
        let mut child = ntlmsim()
            .args(["serve", "http", "--listen", "127.0.0.1:0", "--json"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line on stderr: {line:?}"))
            .to_owned();
        Self {
            running: Running { child },
            url,
            stderr,
        }
    }

    fn port(&self) -> u16 {
        self.url
            .trim_end_matches('/')
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// SIGINT, then the records and the rest of stderr; asserts exit 0.
    fn stop(mut self) -> (Vec<Value>, String) {
        let pid = self.running.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-INT", &pid])
                .status()
                .unwrap()
                .success()
        );
        let mut stdout = String::new();
        self.running
            .child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        let mut rest = String::new();
        self.stderr.read_to_string(&mut rest).unwrap();
        let deadline = Instant::now() + TIMEOUT;
        let status = loop {
            if let Some(s) = self.running.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "serve did not stop on SIGINT");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(0), "serve exit status; stderr: {rest}");
        assert!(rest.contains("handshakes:"), "no summary: {rest}");
        let records = stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        (records, rest)
    }
}

fn run_curl(curl: &Path, url: &str, user: &str) -> (String, String) {
    let out = Command::new(curl)
        .args([
            "-s",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
            "--max-time",
            "20",
            "--ntlm",
        ])
        .args(["-u", user, url])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.to_owned(), body.to_owned())
}

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut v = v;
    for p in path {
        v = &v[*p];
    }
    v.as_str()
        .unwrap_or_else(|| panic!("{path:?} is not a string in {v}"))
}

fn names(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect()
}

#[test]
fn curl_authenticates_and_a_128_bit_what_if_breaks_it() {
    let test = "curl_authenticates_and_a_128_bit_what_if_breaks_it";
    let Some(curl) = curl(test) else { return };
    // The strict ms-nlmp reading, under which 0x20000000 refuses a client
    // that offers no 128 (the default reading refuses it only with SEAL).
    let serve = Serve::start(&[
        "--password",
        PASSWORD,
        "--semantics",
        "ms-nlmp",
        "--what-if-server-min",
        "0x20000000",
        "--what-if-server-min",
        "0x80000",
        "--what-if-server-min",
        "0x20000010",
    ]);
    let (code, body) = run_curl(&curl, &serve.url, &format!("{DOMAIN}\\{USER}:{PASSWORD}"));
    assert_eq!(code, "200", "{body}");
    assert!(body.contains("TESTDOM\\alice"), "{body}");
    let (records, summary) = serve.stop();
    assert_eq!(records.len(), 1, "{records:?}");
    let r = &records[0];
    assert_eq!(s(r, &["user"]), USER);
    assert_eq!(s(r, &["domain"]), DOMAIN);
    assert_eq!(s(r, &["workstation"]), "WORKSTATION");
    assert_eq!(s(r, &["response_kind"]), "NTLMv2");
    assert_eq!(s(r, &["outcome", "result"]), "success");
    assert!(r["client"].as_str().unwrap().starts_with("127.0.0.1:"));
    // curl 7.88 offers neither 128-bit nor a Version.
    assert!(!names(&r["offered_flags_names"]).contains(&"NEGOTIATE_128"));
    assert_eq!(r["mic"], false);
    let w = &r["what_if"];
    let w128 = &w[0];
    assert_eq!(s(w128, &["server_min"]), "0x20000000");
    assert_eq!(s(w128, &["method"]), "replay");
    assert_eq!(s(w128, &["outcome", "result"]), "failure");
    assert_eq!(s(w128, &["outcome", "side"]), "server");
    assert_eq!(s(w128, &["outcome", "stage"]), "negotiate");
    assert_eq!(names(&w128["outcome"]["missing_names"]), ["NEGOTIATE_128"]);
    // curl offers ESS: a 0x80000 minimum is satisfied.
    assert_eq!(s(&w[1], &["outcome", "result"]), "success");
    // Each verdict says whether every documented reading agrees: the
    // 128-bit what-if refuses curl, which seals nothing, only under the
    // strict reading of the 128-bit rule.
    assert_eq!(r["certainty"]["holds_under_every_reading"], true);
    assert_eq!(s(&r["certainty"], &["verdict"]), "works");
    assert_eq!(s(&w128["certainty"], &["verdict"]), "breaks");
    assert_eq!(w128["certainty"]["holds_under_every_reading"], false);
    assert_eq!(
        names(&w128["certainty"]["reversed_by"]),
        ["rule-128=kb239869"]
    );
    assert_eq!(w[1]["certainty"]["holds_under_every_reading"], true);
    // Two bits missing (curl offers neither 128 nor SIGN): each with its own
    // rule and basis, as in handshake --json.
    let rules = w[2]["outcome"]["missing_rules"].as_array().unwrap();
    let per_bit: Vec<(&str, &str)> = rules
        .iter()
        .map(|m| (m["bit"].as_str().unwrap(), m["rule_id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        per_bit,
        [
            ("0x00000010", "min-flags-server"),
            ("0x20000000", "min-128-server")
        ],
        "{rules:?}"
    );
    assert!(
        rules
            .iter()
            .all(|m| m["basis"].is_string() && m["rule"].is_string())
    );
    // The verdicts rest on what is assumed of the server's profile
    // (windows-11 by default) as a server; the facts are said at start-up.
    assert_eq!(r["assumed"][0]["profile"], "windows-11");
    assert_eq!(r["assumed"][0]["role"], "server");
    assert!(
        summary.contains("assumed:    windows-11 as server: Version 10.0.22631"),
        "{summary}"
    );
    assert!(
        summary.contains("1 handshakes: 1 succeeded, 0 failed; 1 would fail"),
        "{summary}"
    );
}

#[test]
fn curl_fails_against_a_server_requiring_128_bit() {
    let test = "curl_fails_against_a_server_requiring_128_bit";
    let Some(curl) = curl(test) else { return };
    // The strict ms-nlmp reading (see above).
    let serve = Serve::start(&[
        "--password",
        PASSWORD,
        "--semantics",
        "ms-nlmp",
        "--server-min",
        "0x20000000",
    ]);
    let (code, body) = run_curl(&curl, &serve.url, &format!("{DOMAIN}\\{USER}:{PASSWORD}"));
    assert_eq!(code, "401", "{body}");
    let (records, _) = serve.stop();
    assert!(!records.is_empty());
    for r in &records {
        let o = &r["outcome"];
        assert_eq!(s(o, &["result"]), "failure");
        assert_eq!(s(o, &["side"]), "server");
        assert_eq!(s(o, &["stage"]), "negotiate");
        assert_eq!(s(o, &["status"]), "SEC_E_UNSUPPORTED_FUNCTION");
        assert_eq!(s(o, &["missing"]), "0x20000000");
        assert_eq!(names(&o["missing_names"]), ["NEGOTIATE_128"]);
        assert_eq!(s(o, &["rule"]), "MS-NLMP 3.2.5.1.1");
        assert_eq!(o["missing_rules"][0]["rule_id"], o["rule_id"], "{o}");
        assert_eq!(s(&o["missing_rules"][0], &["bit"]), "0x20000000");
        assert!(r["challenge_flags"].is_null());
    }
}

#[test]
fn curl_wrong_password_and_a_user_file() {
    let test = "curl_wrong_password_and_a_user_file";
    let Some(curl) = curl(test) else { return };
    let dir = Scratch::new(env!("CARGO_TARGET_TMPDIR"), "serve");
    // One account in each format: DOMAIN:USER:PASSWORD, and smbpasswd with
    // the NT hash of "Passw0rd!" for bob (no domain: any domain matches).
    let users = dir.write(
        "users",
        &format!(
            "{DOMAIN}:{USER}:{PASSWORD}\n\
             bob:1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:{}:[U          ]:LCT-00000000:\n",
            "fc525c9683e8fe067095ba2ddc971889"
        ),
    );
    let serve = Serve::start(&["--user-file", users.to_str().unwrap()]);
    let (code, _) = run_curl(&curl, &serve.url, &format!("{DOMAIN}\\{USER}:{PASSWORD}"));
    assert_eq!(code, "200");
    let (code, _) = run_curl(&curl, &serve.url, &format!("OTHER\\bob:{PASSWORD}"));
    assert_eq!(code, "200");
    let (code, wrong_password) = run_curl(&curl, &serve.url, &format!("{DOMAIN}\\{USER}:wrong"));
    assert_eq!(code, "401");
    let (code, unknown_account) =
        run_curl(&curl, &serve.url, &format!("{DOMAIN}\\mallory:{PASSWORD}"));
    assert_eq!(code, "401");
    // The same answer on the wire, so accounts cannot be probed; the
    // records keep the difference.
    assert_eq!(wrong_password, unknown_account);
    assert!(
        wrong_password.contains("STATUS_LOGON_FAILURE"),
        "{wrong_password}"
    );
    let (records, _) = serve.stop();
    let results: Vec<(&str, &str)> = records
        .iter()
        .map(|r| (s(r, &["user"]), s(r, &["outcome", "result"])))
        .collect();
    assert_eq!(
        results,
        [
            ("alice", "success"),
            ("bob", "success"),
            ("alice", "failure"),
            ("mallory", "failure")
        ]
    );
    assert_eq!(
        s(&records[2], &["outcome", "status"]),
        "STATUS_LOGON_FAILURE"
    );
    assert_eq!(s(&records[2], &["outcome", "stage"]), "authenticate");
    assert!(s(&records[2], &["outcome", "reason"]).contains("does not verify"));
    assert!(s(&records[3], &["outcome", "reason"]).contains("no such account"));
}

#[test]
fn pyspnego_levels_0_to_5_with_sealed_and_signed_messages() {
    let test = "pyspnego_levels_0_to_5_with_sealed_and_signed_messages";
    let Some(python) = python(test) else { return };
    let serve = Serve::start(&["--password", PASSWORD, "--what-if-server-min", "0x20080000"]);
    let mut kinds = Vec::new();
    for level in 0..=5u8 {
        let out = Command::new(&python)
            .arg(script())
            .args([
                "client",
                &serve.url,
                &format!("{DOMAIN}\\{USER}"),
                PASSWORD,
                "--wrap",
            ])
            .env("LM_COMPAT_LEVEL", level.to_string())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let v: Value = serde_json::from_str(text.trim()).unwrap_or_else(|e| {
            panic!(
                "level {level}: {e}: {text}; stderr {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        assert_eq!(v["status"], 200, "level {level}: {v}");
        assert_eq!(
            s(&v, &["seal_reply"]),
            "ntlmsim: from pyspnego over http, seal",
            "level {level}"
        );
        assert_eq!(
            s(&v, &["sign_reply"]),
            "ntlmsim: from pyspnego over http, sign",
            "level {level}"
        );
        kinds.push((level, v));
    }
    let (records, _) = serve.stop();
    assert_eq!(records.len(), 6);
    let expected = [
        "NTLMv1",
        "NTLM2_SESSION",
        "NTLM2_SESSION",
        "NTLMv2",
        "NTLMv2",
        "NTLMv2",
    ];
    for ((level, py), (r, kind)) in kinds.iter().zip(records.iter().zip(expected)) {
        assert_eq!(s(r, &["response_kind"]), kind, "level {level}");
        assert_eq!(r["mic"], *level >= 3, "level {level}");
        assert_eq!(s(r, &["outcome", "result"]), "success", "level {level}");
        // Both sides agree on the negotiated flags.
        assert_eq!(
            s(r, &["negotiated_flags"]),
            s(py, &["flags"]),
            "level {level}"
        );
        // 0x20080000: NTLMv1 without ESS fails it, the others pass.
        let w = s(&r["what_if"][0], &["outcome", "result"]);
        assert_eq!(
            w == "success",
            *level > 0,
            "level {level}: {}",
            r["what_if"]
        );
    }
}

/// `--max-handshakes 1`: a second connection's NEGOTIATE waits its turn (503).
#[test]
fn pending_handshakes_are_bounded() {
    let serve = Serve::start(&["--password", PASSWORD, "--max-handshakes", "1"]);
    let negotiate = {
        let out = ntlmsim().args(["handshake", "--json"]).output().unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        hex::decode(s(&v, &["messages", "negotiate", "hex"])).unwrap()
    };
    let request = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: NTLM {}\r\n\r\n",
        B64.encode(&negotiate)
    );
    let ask = |stream: &mut TcpStream| {
        stream.write_all(request.as_bytes()).unwrap();
        let mut buf = [0u8; 4096];
        let n = stream.read(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let mut first = TcpStream::connect(("127.0.0.1", serve.port())).unwrap();
    first.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut second = TcpStream::connect(("127.0.0.1", serve.port())).unwrap();
    second.set_read_timeout(Some(TIMEOUT)).unwrap();
    let a = ask(&mut first);
    assert!(a.starts_with("HTTP/1.1 401"), "{a}");
    assert!(a.contains("www-authenticate: NTLM TlRMTVNTUA"), "{a}");
    let b = ask(&mut second);
    assert!(b.starts_with("HTTP/1.1 503"), "{b}");
    assert!(b.contains("retry-after: 1"), "{b}");
    // Closing the first connection frees its slot.
    drop(first);
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let mut third = TcpStream::connect(("127.0.0.1", serve.port())).unwrap();
        third.set_read_timeout(Some(TIMEOUT)).unwrap();
        if ask(&mut third).starts_with("HTTP/1.1 401") {
            break;
        }
        assert!(Instant::now() < deadline, "the slot was never freed");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(second);
    let (records, _) = serve.stop();
    assert!(records.is_empty(), "no handshake finished: {records:?}");
}

/// Unpadded base64 after a lower-case scheme, as some clients send it: a
/// CHALLENGE, not 400 (the one header rule of decode, audit, probe and serve).
#[test]
fn serve_reads_unpadded_base64_and_any_scheme_case() {
    let serve = Serve::start(&["--password", PASSWORD]);
    let out = ntlmsim().args(["handshake", "--json"]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let negotiate = hex::decode(s(&v, &["messages", "negotiate", "hex"])).unwrap();
    let token = B64.encode(&negotiate);
    assert!(
        token.ends_with('='),
        "the test needs a padded token: {token}"
    );
    let request = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: ntlm {}\r\n\r\n",
        token.trim_end_matches('=')
    );
    let mut stream = TcpStream::connect(("127.0.0.1", serve.port())).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(
        answer.contains("www-authenticate: NTLM TlRMTVNTUAAC"),
        "{answer}"
    );
    drop(stream);
    let _ = serve.stop();
}

fn probe(args: &[&str]) -> Output {
    ntlmsim()
        .args(["probe", "http"])
        .args(args)
        .output()
        .unwrap()
}

/// `probe http URL` as the test user with `password`.
fn probe_as(url: &str, password: &str) -> Output {
    probe(&[
        url,
        "--user",
        USER,
        "--domain",
        DOMAIN,
        "--password",
        password,
    ])
}

/// `probe http URL` with the test credentials: exit 0 and HTTP 200 expected.
fn login(url: &str) -> Value {
    let out = probe(&[
        url,
        "--user",
        USER,
        "--domain",
        DOMAIN,
        "--password",
        PASSWORD,
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["authentication"]["http_status"], 200);
    v
}

#[test]
fn probe_against_ntlmsim_serve() {
    let serve = Serve::start(&["--password", PASSWORD, "--server", "windows-xp"]);
    let url = serve.url.clone();
    // No credentials: the CHALLENGE and the client's verdict only.
    let out = probe(&[&url, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["negotiate_status"], 401);
    assert_eq!(s(&v, &["challenge", "type"]), "CHALLENGE");
    assert!(v["authentication"].is_null());
    // With credentials, on one connection.
    login(&url);
    let out = probe_as(&url, "nope");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("refused the AUTHENTICATE: HTTP 401"));
    let (records, _) = serve.stop();
    // The credential-less probe never sent an AUTHENTICATE: no record.
    assert_eq!(records.len(), 2, "{records:?}");
}

#[test]
fn probe_client_policy_and_errors() {
    // A server that refuses the NEGOTIATE answers 401 without a CHALLENGE.
    let serve = Serve::start(&["--password", PASSWORD, "--server-min", "0x20080030"]);
    let out = probe(&[&serve.url, "--client", "curl-7.88"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("refused the NEGOTIATE"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    drop(serve.stop());
    // Not HTTP, nobody listening, not NTLM.
    let out = probe(&["https://127.0.0.1:1/"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: URL"));
    let out = probe(&["http://127.0.0.1:1/", "--timeout", "2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot connect to 127.0.0.1:1"));
}

/// Starts `tests/support/ntlm_http_peer.py server ...`; returns its guard and URL.
fn python_server(mut cmd: Command) -> (Running, String) {
    // The guard exists before the first read, so a failed start cannot leak the child.
    let mut running = Running {
        child: cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    };
    let mut line = String::new();
    BufReader::new(running.child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .strip_prefix("PORT ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_owned();
    (running, format!("http://127.0.0.1:{port}/"))
}

#[test]
fn probe_against_a_pyspnego_acceptor() {
    let test = "probe_against_a_pyspnego_acceptor";
    let Some(python) = python(test) else { return };
    let dir = Scratch::new(env!("CARGO_TARGET_TMPDIR"), "probe");
    let users = dir.write("users", &format!("{DOMAIN}:{USER}:{PASSWORD}\n"));
    let mut cmd = Command::new(python);
    cmd.arg(script())
        .args(["server", "pyspnego"])
        .env("NTLM_USER_FILE", users);
    let (_guard, url) = python_server(cmd);
    let v = login(&url);
    // pyspnego's CHALLENGE: TargetInfo and 128-bit; its Version is pyspnego's own.
    let flags = names(&v["challenge"]["flags_names"]);
    assert!(
        flags.contains(&"NEGOTIATE_TARGET_INFO") && flags.contains(&"NEGOTIATE_128"),
        "{flags:?}"
    );
    assert_eq!(s(&v, &["client_outcome", "response_kind"]), "NTLMv2");
    let out = probe_as(&url, "wrong");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn probe_against_a_samba_backed_server() {
    let test = "probe_against_a_samba_backed_server";
    let (Some(python), Some(exe)) = (python(test), ntlm_testsupport::ntlm_auth(test)) else {
        return;
    };
    let dir = Scratch::new(env!("CARGO_TARGET_TMPDIR"), "probe-samba");
    let conf = dir.smb_conf();
    let mut cmd = Command::new(python);
    cmd.arg(script())
        .args(["server", "samba"])
        .arg(&exe)
        .arg(&conf)
        .arg(PASSWORD);
    let (_guard, url) = python_server(cmd);
    let v = login(&url);
    // Samba always sends a Version and its TargetInfo.
    assert!(v["challenge"]["version"].is_object(), "{v}");
    assert!(v["challenge"]["target_info"].is_array(), "{v}");
    let out = probe_as(&url, "wrong");
    assert_eq!(out.status.code(), Some(1));
}

/// pyspnego over TLS, with and without the connection's channel bindings.
fn pyspnego_tls(python: &Path, url: &str, cbt: bool) -> Value {
    let mut cmd = Command::new(python);
    cmd.arg(script())
        .args(["client", url, &format!("{DOMAIN}\\{USER}"), PASSWORD]);
    if cbt {
        cmd.arg("--cbt");
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "{e}: {text}; stderr {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// curl --ntlm over TLS without verifying the generated certificate.
fn curl_tls(curl: &Path, url: &str) -> String {
    let out = Command::new(curl)
        .args(["-sk", "-o", "/dev/null", "-w", "%{http_code}"])
        .args(["--max-time", "20", "--ntlm", "-u"])
        .arg(format!("{DOMAIN}\\{USER}:{PASSWORD}"))
        .arg(url)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `serve http --tls` with Extended Protection: pyspnego given the
/// connection's tls-server-end-point bindings logs on (and computes the same
/// certificate hash as the server); pyspnego without them and curl (which
/// sends no MsvAvChannelBindings) get 401 under require, and log on under
/// allow (no pair at all: accepted).
#[test]
fn extended_protection_over_tls_with_curl_and_pyspnego() {
    let test = "extended_protection_over_tls_with_curl_and_pyspnego";
    let (Some(python), Some(curl)) = (python(test), curl(test)) else {
        return;
    };
    let serve = Serve::start(&[
        "--password",
        PASSWORD,
        "--tls",
        "--extended-protection",
        "require",
    ]);
    assert!(serve.url.starts_with("https://"), "{}", serve.url);
    let bound = pyspnego_tls(&python, &serve.url, true);
    assert_eq!(bound["status"], 200, "{bound}");
    let unbound = pyspnego_tls(&python, &serve.url, false);
    assert_eq!(unbound["status"], 401, "{unbound}");
    assert_eq!(curl_tls(&curl, &serve.url), "401");
    let (records, stderr) = serve.stop();
    let hash = s(&bound, &["tls_server_end_point"]);
    assert!(
        stderr.contains(&format!("tls-server-end-point {hash} ")),
        "pyspnego's certificate hash {hash} is not the server's: {stderr}"
    );
    assert_eq!(records.len(), 3);
    assert_eq!(s(&records[0], &["outcome", "result"]), "success");
    for r in &records[1..] {
        assert_eq!(s(r, &["outcome", "rule_id"]), "epa-require", "{r}");
        assert_eq!(s(r, &["outcome", "status"]), "SEC_E_BAD_BINDINGS");
        assert_eq!(s(r, &["outcome", "stage"]), "authenticate");
    }

    let serve = Serve::start(&[
        "--password",
        PASSWORD,
        "--tls",
        "--extended-protection",
        "allow",
    ]);
    assert_eq!(pyspnego_tls(&python, &serve.url, true)["status"], 200);
    assert_eq!(pyspnego_tls(&python, &serve.url, false)["status"], 200);
    assert_eq!(curl_tls(&curl, &serve.url), "200");
    let (records, _) = serve.stop();
    assert_eq!(records.len(), 3);
    assert!(
        records
            .iter()
            .all(|r| s(r, &["outcome", "result"]) == "success")
    );
}

/// --cert/--key serve a given certificate; --extended-protection without
/// TLS warns that it checks nothing; bad files are named.
#[test]
fn tls_certificate_files_and_errors() {
    let dir = std::env::temp_dir().join(format!("ntlmsim-serve-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert = dir.join("cert.pem");
    let serve = Serve::start(&[
        "--password",
        PASSWORD,
        "--tls",
        "--cert-out",
        cert.to_str().unwrap(),
    ]);
    let (_, stderr) = serve.stop();
    assert!(stderr.contains("generated certificate"), "{stderr}");
    let pem = std::fs::read_to_string(&cert).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");

    let serve = Serve::start(&["--password", PASSWORD, "--extended-protection", "require"]);
    let (_, stderr) = serve.stop();
    assert!(stderr.contains("checks nothing without --tls"), "{stderr}");

    let out = ntlmsim()
        .args([
            "serve",
            "http",
            "--listen",
            "127.0.0.1:0",
            "--password",
            PASSWORD,
        ])
        .args(["--cert", cert.to_str().unwrap(), "--key"])
        .arg(dir.join("missing-key.pem"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--key") && err.contains("missing-key.pem"),
        "{err}"
    );
    let out = ntlmsim()
        .args([
            "serve",
            "http",
            "--listen",
            "127.0.0.1:0",
            "--password",
            PASSWORD,
        ])
        .args(["--tls", "--extended-protection", "sometimes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--extended-protection"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
