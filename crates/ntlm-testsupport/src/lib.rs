//! Test support shared by the integration tests that drive real NTLM peers:
//! locating Samba's `ntlm_auth`, scratch directories, and [`Peer`], a child
//! process speaking a line protocol on stdin/stdout that is killed on drop
//! and whose every read has a deadline.
//!
//! A missing peer is a note outside CI and a failure under `CI=true`
//! (CI installs every peer with `.ci/install-peers`). Every skip, of a peer
//! or of an optional input such as `../shared`, goes through [`skip`]: the
//! note is visible in `cargo test`'s output, and `NTLMSIM_NO_SKIP=1` makes it
//! a failure.
#![forbid(unsafe_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test support: a broken peer or a failed expectation must abort the test"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ntlm_wire::NegotiateFlags as F;

pub mod synth;

/// How long a peer may take to answer one line.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// The test account.
pub const USER: &str = "alice";
/// Its domain.
pub const DOMAIN: &str = "TESTDOM";
/// Its password.
pub const PASSWORD: &str = "Passw0rd!";

/// The private smb.conf of the Samba helpers (no daemon, no domain).
pub const SMB_CONF: &str = "[global]
  workgroup = TESTDOM
  netbios name = SAMBAPEER
  security = user
  server role = standalone server
";

/// The CHALLENGE-only flags (MS-NLMP 2.2.2.5: they describe the CHALLENGE's
/// TargetInfo and target type). ntlmsim, like Windows, copies them into the
/// negotiated flags; Samba keeps them out of its own `GF`.
pub const CHALLENGE_ONLY: F = F::NEGOTIATE_TARGET_INFO
    .union(F::TARGET_TYPE_DOMAIN)
    .union(F::TARGET_TYPE_SERVER);

/// Whether a missing peer is a failure (CI installs every peer).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether every skip is a failure: `NTLMSIM_NO_SKIP` set to anything but
/// empty or `0`. On a machine with every peer and `../shared`, a run with
/// it proves that no test passed by skipping its work.
pub fn no_skip() -> bool {
    std::env::var_os("NTLMSIM_NO_SKIP").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Reports that the running test skipped `what` (say why in it), where
/// `cargo test` shows it: a failure under `NTLMSIM_NO_SKIP=1`, else a note
/// naming the test (libtest names each test's thread after it).
///
/// The note is written to the test binary's standard error directly, not
/// with `eprintln!`: libtest captures `print!`/`eprint!` output and shows
/// it only for a failing test, so a note written that way vanishes exactly
/// when the skipping test reports `ok`.
#[track_caller]
pub fn skip(what: &str) {
    let thread = std::thread::current();
    let test = thread.name().filter(|n| *n != "main").unwrap_or("a test");
    assert!(
        !no_skip(),
        "{test} skipped {what}, and NTLMSIM_NO_SKIP forbids skipping"
    );
    let _ = writeln!(std::io::stderr().lock(), "note: {test}: skipped {what}");
}

/// Reports a missing peer: a failure in CI (which installs every peer) or
/// under `NTLMSIM_NO_SKIP=1`, else a visible note (see [`skip`]).
#[track_caller]
pub fn missing(peer: &str, test: &str) {
    assert!(
        !in_ci(),
        "{peer} not found, and CI=true requires it for {test}: run .ci/install-peers"
    );
    skip(&format!("its run against {peer}: not found"));
}

/// `ntlm_auth` on PATH, or a note (a failure in CI) when it is missing.
pub fn ntlm_auth(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("ntlm_auth"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        missing("ntlm_auth (Samba, Debian package winbind)", test);
    }
    found
}

/// Parses a `GF` answer, `0x62088235`.
pub fn flags_hex(text: &str) -> F {
    let digits = text.trim().strip_prefix("0x").unwrap();
    assert_eq!(digits.len(), 8, "GF prints 8 hex digits: {text}");
    F::from_bits_retain(u32::from_str_radix(digits, 16).unwrap())
}

/// A Security log event 4624 (an NTLM V1 logon with a 128-bit key from
/// 192.0.2.50, record 7) as event XML: `computer` logged it, `user` (domain
/// CORP) logged on from `workstation`. The names are XML text, escaped by
/// the caller.
pub fn logon_event_xml(computer: &str, user: &str, workstation: &str) -> String {
    format!(
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>\
         <Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>4624</EventID>\
         <TimeCreated SystemTime='2025-10-01T08:00:00.0000000Z'/><EventRecordID>7</EventRecordID>\
         <Channel>Security</Channel><Computer>{computer}</Computer></System><EventData>\
         <Data Name='TargetUserSid'>S-1-5-21-1-2-3-1105</Data><Data Name='TargetUserName'>{user}</Data>\
         <Data Name='TargetDomainName'>CORP</Data><Data Name='AuthenticationPackageName'>NTLM</Data>\
         <Data Name='WorkstationName'>{workstation}</Data><Data Name='LmPackageName'>NTLM V1</Data>\
         <Data Name='KeyLength'>128</Data><Data Name='IpAddress'>192.0.2.50</Data></EventData></Event>"
    )
}

/// A scratch directory under `base`, removed on drop.
#[derive(Debug)]
pub struct Scratch(PathBuf);

impl Scratch {
    /// A new directory `<base>/<prefix>-<pid>-<n>` (pass `env!("CARGO_TARGET_TMPDIR")`).
    pub fn new(base: &str, prefix: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = Path::new(base).join(format!("{prefix}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// Writes a file in the directory.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Writes [`SMB_CONF`] and returns its path.
    pub fn smb_conf(&self) -> PathBuf {
        self.write("smb.conf", SMB_CONF)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A process speaking a line protocol on stdin/stdout. Killed on drop.
#[derive(Debug)]
pub struct Peer {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Peer {
    /// Starts `cmd` with piped stdin, stdout and stderr.
    pub fn spawn(name: &str, mut cmd: Command) -> Self {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = err.read(&mut buf) {
                if let (Ok(mut s), Some(chunk)) = (sink.lock(), buf.get(..n)) {
                    s.push_str(&String::from_utf8_lossy(chunk));
                }
            }
        });
        Self {
            name: name.to_owned(),
            child,
            stdin,
            lines,
            stderr,
        }
    }

    /// Sends one line.
    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        if let Err(e) = writeln!(stdin, "{line}").and_then(|()| stdin.flush()) {
            panic!(
                "{}: cannot write: {e}; stderr: {}",
                self.name,
                self.stderr()
            );
        }
    }

    /// The next line, within [`REPLY_TIMEOUT`].
    pub fn recv(&mut self) -> String {
        match self.lines.recv_timeout(REPLY_TIMEOUT) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => panic!(
                "{}: no answer within {REPLY_TIMEOUT:?}; stderr: {}",
                self.name,
                self.stderr()
            ),
            Err(RecvTimeoutError::Disconnected) => panic!(
                "{}: closed its output; stderr: {}",
                self.name,
                self.stderr()
            ),
        }
    }

    /// Sends a line and returns the answer.
    pub fn ask(&mut self, line: &str) -> String {
        self.send(line);
        self.recv()
    }

    /// Sends `line`; the answer must start with `prefix `: returns the rest.
    pub fn ask_expect(&mut self, line: &str, prefix: &str) -> String {
        let answer = self.ask(line);
        match answer
            .strip_prefix(prefix)
            .and_then(|a| a.strip_prefix(' '))
        {
            Some(arg) => arg.to_owned(),
            None => panic!(
                "{}: to `{}` expected `{prefix} …`, got `{answer}`; stderr: {}",
                self.name,
                line.split(' ').next().unwrap_or_default(),
                self.stderr()
            ),
        }
    }

    /// The name it was started under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `ntlm_auth --helper-protocol=ntlmssp-client-1` as [`USER`] in [`DOMAIN`],
/// with `--option` knobs.
pub fn samba_client(exe: &Path, dir: &Scratch, password: &str, options: &[&str]) -> Peer {
    let mut cmd = Command::new(exe);
    cmd.arg(format!("--configfile={}", dir.smb_conf().display()))
        .arg("--helper-protocol=ntlmssp-client-1")
        .arg(format!("--username={USER}"))
        .arg(format!("--password={password}"))
        .arg(format!("--domain={DOMAIN}"));
    for o in options {
        cmd.arg(format!("--option={o}"));
    }
    Peer::spawn("ntlm_auth ntlmssp-client-1", cmd)
}

/// `ntlm_auth --helper-protocol=squid-2.5-ntlmssp --password=Passw0rd!`.
pub fn samba_server(exe: &Path, dir: &Scratch) -> Peer {
    let mut cmd = Command::new(exe);
    cmd.arg(format!("--configfile={}", dir.smb_conf().display()))
        .arg("--helper-protocol=squid-2.5-ntlmssp")
        .arg(format!("--password={PASSWORD}"));
    Peer::spawn("ntlm_auth squid-2.5-ntlmssp", cmd)
}

/// Characters of the longest name a 64 KiB AUTHENTICATE holds: 64 000
/// bytes in UTF-16 (a name field has a 16-bit length).
pub const LONG_NAME_CHARS: usize = 32_000;

/// Characters of the long name in [`hostile_names`]: 40 000 bytes in
/// UTF-16, so that its AUTHENTICATE still fits base64 in one HTTP header of
/// at most 64 KiB (the capture reader's bound).
pub const HOSTILE_LONG_NAME_CHARS: usize = 20_000;

/// A name of `chars` characters (`long` and `x`s).
pub fn long_name(chars: usize) -> String {
    format!("long{}", "x".repeat(chars.saturating_sub(4)))
}

/// Names an attacker can put in a message, for the tests of every place
/// that writes them out: line feed (with a forged helper answer), CR, CRLF,
/// NUL, an ESC CSI sequence that clears the screen, an OSC sequence that
/// sets the window title, a C1 CSI, a bidi override, a zero-width space, a
/// line separator, spreadsheet formulas, HTML that closes a script and
/// breaks out of an attribute, and a long name
/// ([`HOSTILE_LONG_NAME_CHARS`] characters).
pub fn hostile_names() -> Vec<String> {
    let mut v: Vec<String> = [
        "x\nAF TESTDOM\\administrator",
        "x\rforged",
        "x\r\nforged",
        "nul\0byte",
        "\u{1b}[2Jcleared",
        "\u{1b}]0;title\u{7}",
        "\u{9b}31mred",
        "admin\u{202e}nimda",
        "zero\u{200b}width",
        "line\u{2028}sep",
        "=HYPERLINK(\"http://evil.example/\",\"click\")",
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1+1)",
        "</script><script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "'single' & <b>",
    ]
    .map(String::from)
    .to_vec();
    v.push(long_name(HOSTILE_LONG_NAME_CHARS));
    v
}
