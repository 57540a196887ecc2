//! `ntlmsim helper`: the built binary on piped standard input, no peers
//! needed. Two helper processes (client and server roles) are wired
//! together line by line; malformed and oversized lines answer `BH`
//! without ending the process; end of input exits 0; bad options exit 2.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test harness: a failed expectation must abort the test"
)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

const TIMEOUT: Duration = Duration::from_secs(30);

/// A running `ntlmsim helper`, killed on drop.
struct Helper {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl Helper {
    fn spawn(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ntlmsim"))
            .arg("helper")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            stdin,
            lines,
        }
    }

    fn ask(&mut self, line: &str) -> String {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        self.lines
            .recv_timeout(TIMEOUT)
            .unwrap_or_else(|e| panic!("no answer to {line:?}: {e}"))
    }

    fn ask_expect(&mut self, line: &str, prefix: &str) -> String {
        let answer = self.ask(line);
        answer
            .strip_prefix(prefix)
            .and_then(|a| a.strip_prefix(' '))
            .unwrap_or_else(|| panic!("to {line:?} expected {prefix} …, got {answer:?}"))
            .to_owned()
    }

    /// Closes standard input and returns the exit code.
    fn finish(mut self) -> i32 {
        drop(self.stdin.take());
        let deadline = std::time::Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the helper did not exit at end of input"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client(password: &str, extra: &[&str]) -> Helper {
    let mut args = vec![
        "--role",
        "client",
        "--user",
        "alice",
        "--domain",
        "TESTDOM",
        "--password",
        password,
    ];
    args.extend_from_slice(extra);
    Helper::spawn(&args)
}

/// One exchange between the two processes; returns the server's answer to KK.
fn exchange(c: &mut Helper, s: &mut Helper) -> String {
    let negotiate = c.ask_expect("YR", "YR");
    let challenge = s.ask_expect(&format!("YR {negotiate}"), "TT");
    let authenticate = c.ask_expect(&format!("TT {challenge}"), "AF");
    s.ask(&format!("KK {authenticate}"))
}

fn flags(gf: &str) -> u32 {
    let digits = gf.strip_prefix("0x").unwrap();
    assert_eq!(digits.len(), 8, "GF prints 8 hex digits: {gf}");
    u32::from_str_radix(digits, 16).unwrap()
}

#[test]
fn two_helpers_complete_an_exchange() {
    let mut s = Helper::spawn(&["--role", "server", "--password", "Passw0rd!"]);
    let mut c = client("Passw0rd!", &[]);
    assert_eq!(
        c.ask("SF NTLMSSP_FEATURE_SIGN NTLMSSP_FEATURE_SEAL NTLMSSP_FEATURE_SESSION_KEY"),
        "OK"
    );
    assert_eq!(exchange(&mut c, &mut s), "AF TESTDOM\\alice");
    let gk = c.ask_expect("GK", "GK");
    assert_eq!(B64.decode(&gk).unwrap().len(), 16);
    assert_eq!(gk, s.ask_expect("GK", "GK"));
    let gf = c.ask_expect("GF", "GF");
    assert_eq!(gf, s.ask_expect("GF", "GF"));
    // SIGN (0x10), SEAL (0x20), 128 (0x20000000), ESS (0x80000), KEY_EXCH (0x40000000).
    assert_eq!(flags(&gf) & 0x6008_0030, 0x6008_0030, "GF {gf}");

    // A wrong password on a reused server helper, then a good one again.
    let mut bad = client("wrong", &[]);
    assert_eq!(exchange(&mut bad, &mut s), "NA STATUS_LOGON_FAILURE");
    assert!(s.ask("GK").starts_with("BH "));
    assert_eq!(exchange(&mut c, &mut s), "AF TESTDOM\\alice");
    assert_eq!(c.ask("GK"), s.ask("GK"));
    assert_eq!(s.finish(), 0);
    assert_eq!(c.finish(), 0);
}

/// Whether `answer` is one clean line: no control or invisible formatting
/// character (the line reader already split on `\n`).
fn clean(answer: &str) -> bool {
    !answer.chars().any(ntlm_report::sink::is_unsafe_char)
}

#[test]
fn a_user_name_with_a_line_break_gets_one_answer() {
    // The reported attack: the right password with the user name
    // `x<LF>AF TESTDOM\administrator`. Answered verbatim, the second line
    // would be read as the answer to the next client's request.
    let mut s = Helper::spawn(&["--role", "server", "--password", "Passw0rd!"]);
    for user in [
        "x\nAF TESTDOM\\administrator",
        "x\rAF TESTDOM\\administrator",
        "\u{1b}[2J\u{1b}]0;title\u{7}",
        "\u{9b}31m",
        "admin\u{202e}nimda",
    ] {
        let mut evil = Helper::spawn(&[
            "--role",
            "client",
            "--user",
            user,
            "--domain",
            "TESTDOM",
            "--password",
            "Passw0rd!",
        ]);
        assert_eq!(
            exchange(&mut evil, &mut s),
            "NA STATUS_LOGON_FAILURE",
            "{user:?}"
        );
        // The next request, from another client, gets its own answer.
        let mut good = client("Passw0rd!", &[]);
        let negotiate = good.ask_expect("YR", "YR");
        let answer = s.ask(&format!("YR {negotiate}"));
        assert!(
            answer.starts_with("TT "),
            "{user:?}: YR answered {answer:?}"
        );
        let authenticate = good.ask_expect(&format!("TT {}", &answer[3..]), "AF");
        assert_eq!(s.ask(&format!("KK {authenticate}")), "AF TESTDOM\\alice");
        assert!(s.ask("GK").starts_with("GK "));
    }
    // A hostile domain name likewise.
    let mut evil = Helper::spawn(&[
        "--role",
        "client",
        "--user",
        "alice",
        "--domain",
        "D\nAF X",
        "--password",
        "Passw0rd!",
    ]);
    assert_eq!(exchange(&mut evil, &mut s), "NA STATUS_LOGON_FAILURE");
    assert!(s.ask("GF").starts_with("BH "));
    // Echoed request text is escaped, never written raw.
    let mut c = client("Passw0rd!", &[]);
    let answer = c.ask("SF NTLMSSP_FEATURE_\u{1b}[2J\u{202e}\u{0}x");
    assert!(answer.starts_with("BH unknown feature"), "{answer:?}");
    assert!(clean(&answer), "{answer:?}");
    assert_eq!(s.finish(), 0);
}

#[test]
fn levels_and_minimums_on_the_command_line() {
    // Level 0 read as the policy text says (level0-ess=never) sends NTLMv1
    // without ESS; the server's default (windows-11 profile) minimum
    // 0x20000000 is met, 0x80000 (ESS) is not.
    let mut s = Helper::spawn(&["--role", "server", "--password", "Passw0rd!"]);
    let mut c = client(
        "Passw0rd!",
        &["--client-lm-level", "0", "--semantics", "level0-ess=never"],
    );
    assert_eq!(exchange(&mut c, &mut s), "AF TESTDOM\\alice");
    assert_eq!(flags(&s.ask_expect("GF", "GF")) & 0x0008_0000, 0);
    // Under the default reading level 0 requests ESS, as XP does.
    let mut s0 = Helper::spawn(&["--role", "server", "--password", "Passw0rd!"]);
    let mut d = client("Passw0rd!", &["--client-lm-level", "0"]);
    assert_eq!(exchange(&mut d, &mut s0), "AF TESTDOM\\alice");
    assert_ne!(flags(&s0.ask_expect("GF", "GF")) & 0x0008_0000, 0);
    assert_eq!(s0.finish(), 0);

    let mut ess = Helper::spawn(&[
        "--role",
        "server",
        "--password",
        "Passw0rd!",
        "--server-min",
        "0x80000",
    ]);
    let negotiate = c.ask_expect("YR", "YR");
    assert_eq!(
        ess.ask(&format!("YR {negotiate}")),
        "NA SEC_E_UNSUPPORTED_FUNCTION"
    );
    // Server at level 5 refuses NTLMv1 on AUTHENTICATE.
    let mut l5 = Helper::spawn(&[
        "--role",
        "server",
        "--password",
        "Passw0rd!",
        "--server-lm-level",
        "5",
    ]);
    let answer = exchange(&mut c, &mut l5);
    assert!(answer.starts_with("NA "), "{answer}");
}

#[test]
fn user_file_with_both_formats() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cli-helper-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("users");
    let bob_hash = hex::encode(ntlm_sim::crypto::nt_hash("S3cret!").as_bytes()).to_uppercase();
    std::fs::write(
        &file,
        format!(
            "# accounts\nTESTDOM:alice:Passw0rd!\nbob:1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:{bob_hash}:[U          ]:LCT-00000000:\n"
        ),
    )
    .unwrap();
    let mut s = Helper::spawn(&["--role", "server", "--user-file", file.to_str().unwrap()]);
    let mut alice = client("Passw0rd!", &[]);
    assert_eq!(exchange(&mut alice, &mut s), "AF TESTDOM\\alice");
    let mut bob = Helper::spawn(&[
        "--role",
        "client",
        "--user",
        "bob",
        "--domain",
        "OTHER",
        "--password",
        "S3cret!",
    ]);
    assert_eq!(exchange(&mut bob, &mut s), "AF OTHER\\bob");
    // A user who is not in the file.
    let mut carol = Helper::spawn(&[
        "--role",
        "client",
        "--user",
        "carol",
        "--domain",
        "TESTDOM",
        "--password",
        "Passw0rd!",
    ]);
    assert!(exchange(&mut carol, &mut s).starts_with("NA "));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn malformed_and_oversized_lines_get_bh_and_eof_exits_0() {
    let mut s = Helper::spawn(&["--role", "server", "--password", "Passw0rd!"]);
    for line in [
        "",
        "hello",
        "XX",
        "YR",
        "YR not*base64",
        "KK",
        "GK",
        "GF",
        "SF x",
    ] {
        let answer = s.ask(line);
        assert!(answer.starts_with("BH "), "{line:?} -> {answer:?}");
    }
    // 200 KiB in one line: BH, and the helper keeps serving.
    let long = format!("YR {}", "A".repeat(200 * 1024));
    let answer = s.ask(&long);
    assert!(answer.starts_with("BH line longer than"), "{answer}");
    // Not UTF-8.
    {
        let stdin = s.stdin.as_mut().unwrap();
        stdin.write_all(b"YR \xff\xfe\n").unwrap();
        stdin.flush().unwrap();
    }
    let answer = s.lines.recv_timeout(TIMEOUT).unwrap();
    assert!(answer.starts_with("BH "), "{answer}");
    // Still serving: a real exchange.
    let mut c = client("Passw0rd!", &[]);
    assert_eq!(exchange(&mut c, &mut s), "AF TESTDOM\\alice");
    assert_eq!(s.finish(), 0);

    let mut c = client("Passw0rd!", &[]);
    for line in [
        "TT",
        "TT AAAA",
        "KK AAAA",
        "YR extra",
        "SF NTLMSSP_FEATURE_NOPE",
    ] {
        let answer = c.ask(line);
        assert!(answer.starts_with("BH "), "{line:?} -> {answer:?}");
    }
    assert_eq!(c.finish(), 0);
}

#[test]
fn eof_without_input_exits_0() {
    let out = Command::new(env!("CARGO_BIN_EXE_ntlmsim"))
        .args(["helper", "--role", "server", "--password", "x"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_options_exit_2() {
    for args in [
        &["helper", "--role", "server"][..],
        &["helper", "--role", "client", "--password", "x"][..],
        &[
            "helper",
            "--role",
            "client",
            "--user",
            "u",
            "--password",
            "x",
            "--server-min",
            "0",
        ][..],
        &[
            "helper",
            "--role",
            "server",
            "--password",
            "x",
            "--user",
            "u",
        ][..],
        &[
            "helper",
            "--role",
            "server",
            "--password",
            "x",
            "--server-min",
            "bogus",
        ][..],
        &[
            "helper",
            "--role",
            "server",
            "--password",
            "x",
            "--server",
            "nope",
        ][..],
        &[
            "helper",
            "--role",
            "server",
            "--user-file",
            "/nonexistent/users",
        ][..],
        &["helper", "--role", "both"][..],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_ntlmsim"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("error"),
            "{args:?}"
        );
    }
}
