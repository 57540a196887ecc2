//! `ntlmsim helper` against Samba's `ntlm_auth`, line by line: Samba's
//! client helper (`--helper-protocol=ntlmssp-client-1`) against
//! `ntlmsim helper --role server`, and `ntlmsim helper --role client`
//! against Samba's server helper (`--helper-protocol=squid-2.5-ntlmssp`).
//! Both sides' session keys (`GK`) and negotiated flags (`GF`) must agree.
//!
//! `ntlm_auth` is looked up on `PATH` (Debian package `winbind`). When it is
//! missing the tests print a note and pass, except under `CI=true`, where
//! they fail. Every child is killed when its guard drops and every read has
//! a deadline.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test harness: a failed expectation or a broken peer must abort the test"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ntlmsim::wire::NegotiateFlags as F;

/// How long a process may take to answer one line.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

const USER: &str = "alice";
const DOMAIN: &str = "TESTDOM";
const PASSWORD: &str = "Passw0rd!";
const ALL_FEATURES: &str =
    "SF NTLMSSP_FEATURE_SIGN NTLMSSP_FEATURE_SEAL NTLMSSP_FEATURE_SESSION_KEY";

/// The private smb.conf of the Samba helpers (no daemon, no domain).
const SMB_CONF: &str = "[global]
  workgroup = TESTDOM
  netbios name = SAMBAPEER
  security = user
  server role = standalone server
";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// `ntlm_auth` on PATH; a note (or, in CI, a failure) when it is missing.
fn ntlm_auth(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("ntlm_auth"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            !in_ci(),
            "ntlm_auth (Samba, Debian package winbind) not found, and CI=true requires it for {test}"
        );
        eprintln!("note: ntlm_auth (Samba, Debian package winbind) not found; skipping {test}");
    }
    found
}

/// A scratch directory under Cargo's per-test temporary directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("helper-samba-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn smb_conf(&self) -> PathBuf {
        let p = self.0.join("smb.conf");
        std::fs::write(&p, SMB_CONF).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A process speaking a line protocol on stdin/stdout. Killed on drop.
struct Peer {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Peer {
    fn spawn(name: &str, mut cmd: Command) -> Self {
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
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
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

    fn ask(&mut self, line: &str) -> String {
        let stdin = self.stdin.as_mut().unwrap();
        if let Err(e) = writeln!(stdin, "{line}").and_then(|()| stdin.flush()) {
            panic!(
                "{}: cannot write: {e}; stderr: {}",
                self.name,
                self.stderr()
            );
        }
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

    /// Sends `line`; the answer must start with `prefix `: returns the rest.
    fn ask_expect(&mut self, line: &str, prefix: &str) -> String {
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

    fn stderr(&self) -> String {
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

fn ntlmsim(role: &str, args: &[&str]) -> Peer {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ntlmsim"));
    cmd.args(["helper", "--role", role]).args(args);
    Peer::spawn(&format!("ntlmsim helper --role {role}"), cmd)
}

/// `ntlm_auth --helper-protocol=ntlmssp-client-1` as alice.
fn samba_client(exe: &Path, dir: &Scratch, password: &str, options: &[&str]) -> Peer {
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
fn samba_server(exe: &Path, dir: &Scratch) -> Peer {
    let mut cmd = Command::new(exe);
    cmd.arg(format!("--configfile={}", dir.smb_conf().display()))
        .arg("--helper-protocol=squid-2.5-ntlmssp")
        .arg(format!("--password={PASSWORD}"));
    Peer::spawn("ntlm_auth squid-2.5-ntlmssp", cmd)
}

/// Parses `0x62088235`.
fn flags_hex(text: &str) -> F {
    let digits = text.trim().strip_prefix("0x").unwrap();
    assert_eq!(digits.len(), 8, "GF prints 8 hex digits: {text}");
    F::from_bits_retain(u32::from_str_radix(digits, 16).unwrap())
}

/// The CHALLENGE-only flags (MS-NLMP 2.2.2.5: they describe the CHALLENGE's
/// TargetInfo and target type). ntlmsim, like Windows, copies them into the
/// negotiated flags; Samba keeps them out of its own.
const CHALLENGE_ONLY: F = F::NEGOTIATE_TARGET_INFO
    .union(F::TARGET_TYPE_DOMAIN)
    .union(F::TARGET_TYPE_SERVER);

/// Both sides' `GK` are equal and their `GF` differ at most in [`CHALLENGE_ONLY`] bits.
fn assert_same_session(context: &str, a: &mut Peer, b: &mut Peer) -> F {
    let (ka, kb) = (a.ask_expect("GK", "GK"), b.ask_expect("GK", "GK"));
    assert_eq!(B64.decode(&ka).unwrap().len(), 16, "{context}: GK {ka}");
    assert_eq!(ka, kb, "{context}: GK of {} and {}", a.name, b.name);
    let fa = flags_hex(&a.ask_expect("GF", "GF"));
    let fb = flags_hex(&b.ask_expect("GF", "GF"));
    eprintln!(
        "{context}: GF {} {:#010x}, {} {:#010x}",
        a.name,
        fa.bits(),
        b.name,
        fb.bits()
    );
    let diff = fa.symmetric_difference(fb);
    assert!(
        CHALLENGE_ONLY.contains(diff),
        "{context}: GF differ in {:#010x}, beyond TARGET_INFO and the target type",
        diff.bits()
    );
    fa
}

/// Relays a Samba client (sign, seal and session key requested) to an
/// ntlmsim server helper. Returns ntlmsim's answer to the YR when it is not
/// `TT`, else its answer to the KK.
fn samba_client_to_ntlmsim(samba: &mut Peer, sim: &mut Peer) -> String {
    assert_eq!(samba.ask(ALL_FEATURES), "OK");
    let negotiate = samba.ask_expect("YR", "YR");
    let answer = sim.ask(&format!("YR {negotiate}"));
    let Some(challenge) = answer.strip_prefix("TT ") else {
        return answer;
    };
    // Samba 4.17 answers a CHALLENGE with AF (not KK) and the AUTHENTICATE.
    let authenticate = samba.ask_expect(&format!("TT {challenge}"), "AF");
    sim.ask(&format!("KK {authenticate}"))
}

/// The Samba client variants: NTLMv2, NTLM2 session response, NTLMv1.
const VARIANTS: [(&str, &[&str]); 3] = [
    ("NTLMv2", &[]),
    ("NTLM2 session response", &["client ntlmv2 auth=no"]),
    (
        "NTLMv1",
        &["client ntlmv2 auth=no", "ntlmssp_client:ntlm2=no"],
    ),
];

#[test]
fn samba_client_to_ntlmsim_server_helper() {
    let Some(exe) = ntlm_auth("samba_client_to_ntlmsim_server_helper") else {
        return;
    };
    // One ntlmsim helper for every exchange, as squid reuses its helpers.
    let mut sim = ntlmsim("server", &["--password", PASSWORD]);
    for (what, options) in VARIANTS {
        let dir = Scratch::new();
        let mut samba = samba_client(&exe, &dir, PASSWORD, options);
        assert_eq!(
            samba_client_to_ntlmsim(&mut samba, &mut sim),
            format!("AF {DOMAIN}\\{USER}"),
            "{what}; Samba stderr: {}",
            samba.stderr()
        );
        let flags = assert_same_session(what, &mut sim, &mut samba);
        assert!(
            flags.contains(F::NEGOTIATE_SIGN | F::NEGOTIATE_SEAL | F::NEGOTIATE_128),
            "{what}: SIGN, SEAL and 128-bit: {:#010x}",
            flags.bits()
        );
        assert_eq!(
            flags.contains(F::NEGOTIATE_EXTENDED_SESSIONSECURITY),
            what != "NTLMv1",
            "{what}: ESS {:#010x}",
            flags.bits()
        );
    }
}

#[test]
fn samba_client_wrong_password_gets_na() {
    let Some(exe) = ntlm_auth("samba_client_wrong_password_gets_na") else {
        return;
    };
    let mut sim = ntlmsim("server", &["--password", PASSWORD]);
    for (what, options) in VARIANTS {
        let dir = Scratch::new();
        let mut samba = samba_client(&exe, &dir, "wrong", options);
        assert_eq!(
            samba_client_to_ntlmsim(&mut samba, &mut sim),
            "NA STATUS_LOGON_FAILURE",
            "{what}"
        );
        assert!(sim.ask("GK").starts_with("BH "), "{what}: no session key");
    }
    // The helper still serves a good client afterwards.
    let dir = Scratch::new();
    let mut samba = samba_client(&exe, &dir, PASSWORD, &[]);
    assert_eq!(
        samba_client_to_ntlmsim(&mut samba, &mut sim),
        format!("AF {DOMAIN}\\{USER}")
    );
}

/// A Samba client with `options` against an ntlmsim server with `server_min`:
/// ntlmsim's answer to the YR (or to the KK when the NEGOTIATE passes).
fn policy_case(exe: &Path, options: &[&str], server_min: &str) -> String {
    let dir = Scratch::new();
    let mut samba = samba_client(exe, &dir, PASSWORD, options);
    let mut sim = ntlmsim(
        "server",
        &["--password", PASSWORD, "--server-min", server_min],
    );
    samba_client_to_ntlmsim(&mut samba, &mut sim)
}

#[test]
fn samba_client_without_128_bit_refused_on_negotiate() {
    let Some(exe) = ntlm_auth("samba_client_without_128_bit_refused_on_negotiate") else {
        return;
    };
    let options = ["ntlmssp_client:128bit=no"];
    // MS-NLMP 3.2.5.1.1: NtlmMinServerSec 0x20000000 and no NEGOTIATE_128
    // in the NEGOTIATE: the server refuses it, answering the YR with NA.
    assert_eq!(
        policy_case(&exe, &options, "0x20000000"),
        "NA SEC_E_UNSUPPORTED_FUNCTION"
    );
    assert_eq!(
        policy_case(&exe, &options, "0"),
        format!("AF {DOMAIN}\\{USER}")
    );
}

#[test]
fn samba_client_without_ess_refused_on_negotiate() {
    let Some(exe) = ntlm_auth("samba_client_without_ess_refused_on_negotiate") else {
        return;
    };
    let options = ["ntlmssp_client:ntlm2=no", "client ntlmv2 auth=no"];
    // MS-NLMP 3.2.5.1.1: NtlmMinServerSec 0x80000 (NTLMv2 session
    // security) and no NEGOTIATE_EXTENDED_SESSIONSECURITY in the NEGOTIATE.
    assert_eq!(
        policy_case(&exe, &options, "0x80000"),
        "NA SEC_E_UNSUPPORTED_FUNCTION"
    );
    assert_eq!(
        policy_case(&exe, &options, "0"),
        format!("AF {DOMAIN}\\{USER}")
    );
}

/// Relays an ntlmsim client helper (sign and seal requested) to Samba's
/// server helper; returns Samba's answer to the KK.
fn ntlmsim_client_to_samba(sim: &mut Peer, samba: &mut Peer) -> String {
    assert_eq!(sim.ask(ALL_FEATURES), "OK");
    let negotiate = sim.ask_expect("YR", "YR");
    let challenge = samba.ask_expect(&format!("YR {negotiate}"), "TT");
    let authenticate = sim.ask_expect(&format!("TT {challenge}"), "AF");
    samba.ask(&format!("KK {authenticate}"))
}

fn ntlmsim_client(password: &str, level: &str) -> Peer {
    ntlmsim(
        "client",
        &[
            "--user",
            USER,
            "--domain",
            DOMAIN,
            "--password",
            password,
            "--client-lm-level",
            level,
        ],
    )
}

#[test]
fn ntlmsim_client_helper_to_samba_server() {
    let Some(exe) = ntlm_auth("ntlmsim_client_helper_to_samba_server") else {
        return;
    };
    // Level 3: NTLMv2; 1: NTLM2 session response; 0: NTLMv1.
    for level in ["3", "1", "0"] {
        let dir = Scratch::new();
        let mut samba = samba_server(&exe, &dir);
        let mut sim = ntlmsim_client(PASSWORD, level);
        assert_eq!(
            ntlmsim_client_to_samba(&mut sim, &mut samba),
            format!("AF {DOMAIN}\\{USER}"),
            "level {level}; Samba stderr: {}",
            samba.stderr()
        );
        let flags = assert_same_session(&format!("level {level}"), &mut sim, &mut samba);
        assert!(
            flags.contains(F::NEGOTIATE_SIGN | F::NEGOTIATE_SEAL),
            "level {level}: {:#010x}",
            flags.bits()
        );
    }
}

#[test]
fn ntlmsim_client_helper_wrong_password_refused_by_samba() {
    let Some(exe) = ntlm_auth("ntlmsim_client_helper_wrong_password_refused_by_samba") else {
        return;
    };
    for level in ["3", "1", "0"] {
        let dir = Scratch::new();
        let mut samba = samba_server(&exe, &dir);
        let mut sim = ntlmsim_client("wrong", level);
        assert_eq!(
            ntlmsim_client_to_samba(&mut sim, &mut samba),
            "NA NT_STATUS_LOGON_FAILURE",
            "level {level}"
        );
    }
}
