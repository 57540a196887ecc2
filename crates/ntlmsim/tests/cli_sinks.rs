//! Text from the wire at every output sink of the built binary: names an
//! attacker chooses (line feed, CR, NUL, ESC/CSI/OSC sequences, C1 CSI, bidi
//! overrides, zero-width characters, spreadsheet formulas, very long names)
//! in messages, captures, catalog and fleet files and file names must never
//! reach standard output or standard error raw. Every line written is one
//! line with no control or invisible formatting character (`ntlm_report::sink`);
//! the names show escaped. The helper line protocol has its own tests
//! (`cli_helper.rs`); `audit`'s renderers also have unit tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test harness: a failed expectation must abort the test"
)]

use std::borrow::Cow;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ntlm_report::sink;
use ntlm_sim::wire::{
    AuthenticateMessage, AvId, AvPairs, ChallengeMessage, Charset, NegotiateFlags as F, text,
};
use ntlm_testsupport::synth::{self, Conversation, Format, Messages, Spec};
use ntlm_testsupport::{LONG_NAME_CHARS, hostile_names, long_name};

const BIN: &str = env!("CARGO_BIN_EXE_ntlmsim");

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cli_sinks-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Standard output and error as text; both must be clean: every line free
/// of unsafe characters (the `\n` line ends are the only line breaks).
fn clean_output(out: &Output, what: &str) -> (String, String) {
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        for line in text.split('\n') {
            assert!(
                sink::line_safe(line),
                "{what}: {name} line with an unsafe character: {:?}",
                line.chars().take(200).collect::<String>()
            );
        }
    }
    (stdout, stderr)
}

/// `name` as the terminal sink writes it, cut to `max` characters for a search.
fn shown(name: &str, max: usize) -> String {
    sink::terminal(name).chars().take(max).collect()
}

/// Hostile names that a command-line argument can carry (no NUL).
fn argument_names() -> Vec<String> {
    hostile_names()
        .into_iter()
        .filter(|n| !n.contains('\0'))
        .collect()
}

/// A CHALLENGE (MS-NLMP 4.2.4.3's, Unicode) whose TargetName and every
/// name AV pair is `name`.
fn hostile_challenge(name: &str) -> Vec<u8> {
    let spec = include_bytes!("../../ntlm-wire/tests/data/ms-nlmp-4.2.4.3-challenge.bin");
    let mut c = ChallengeMessage::parse(spec).unwrap().into_owned();
    let value = text::encode(name, Charset::Unicode);
    c.target_name = Some(Cow::Owned(value.clone()));
    let short = if value.len() > 30_000 {
        text::encode("D", Charset::Unicode)
    } else {
        value.clone()
    };
    c.target_info = Some(
        AvPairs::build([
            (AvId::NB_DOMAIN_NAME, value.as_slice()),
            (AvId::NB_COMPUTER_NAME, short.as_slice()),
            (AvId::DNS_DOMAIN_NAME, short.as_slice()),
            (AvId::DNS_COMPUTER_NAME, short.as_slice()),
        ])
        .unwrap(),
    );
    c.to_vec().unwrap()
}

/// An AUTHENTICATE whose user, domain and workstation are `name`, in the
/// Unicode or the OEM charset.
fn hostile_authenticate(name: &str, charset: Charset) -> Vec<u8> {
    let flags = match charset {
        Charset::Unicode => F::NEGOTIATE_UNICODE,
        Charset::Oem => F::NEGOTIATE_OEM,
    } | F::NEGOTIATE_NTLM
        | F::NEGOTIATE_ALWAYS_SIGN;
    let value = text::encode(name, charset);
    let other = if value.len() > 30_000 {
        text::encode("D", charset)
    } else {
        value.clone()
    };
    AuthenticateMessage {
        lm_response: Some(Cow::Owned(vec![0; 24])),
        nt_response: Some(Cow::Owned(vec![0x22; 24])),
        domain: Some(Cow::Owned(other.clone())),
        user: Some(Cow::Owned(value)),
        workstation: Some(Cow::Owned(other)),
        encrypted_random_session_key: None,
        flags,
        version: None,
        mic: None,
    }
    .to_vec()
    .unwrap()
}

#[test]
fn decode_text_escapes_names_and_file_names() {
    let d = dir("decode");
    let mut names = hostile_names();
    names.push(long_name(LONG_NAME_CHARS));
    for name in &names {
        let ascii_only = name.is_ascii();
        let mut messages = vec![
            ("CHALLENGE", hostile_challenge(name)),
            ("AUTHENTICATE", hostile_authenticate(name, Charset::Unicode)),
        ];
        if ascii_only {
            // OEM: the bytes themselves (ESC, NUL, LF) on the wire.
            messages.push(("OEM AUTHENTICATE", hostile_authenticate(name, Charset::Oem)));
        }
        for (what, bytes) in messages {
            let file = d.join("message.b64");
            std::fs::write(&file, B64.encode(&bytes)).unwrap();
            let arg = format!("@{}", file.display());
            let out = run(&["decode", &arg]);
            let context = format!("{what} {:?}", shown(name, 24));
            assert_eq!(out.status.code(), Some(0), "{context}: {out:?}");
            let (stdout, _) = clean_output(&out, &context);
            let quoted: String = sink::quoted(name).chars().take(60).collect();
            assert!(
                stdout.contains(&quoted),
                "{context}: the escaped name is shown\n{}",
                stdout.chars().take(3000).collect::<String>()
            );
        }
    }
    // A file name with a line break and an escape sequence, and its error.
    let evil = d.join("evil\n\u{1b}[2J\u{202e}.b64");
    std::fs::write(
        &evil,
        B64.encode(hostile_authenticate("u", Charset::Unicode)),
    )
    .unwrap();
    let out = run(&["decode", &format!("@{}", evil.display())]);
    assert_eq!(out.status.code(), Some(0));
    let (stdout, _) = clean_output(&out, "file name");
    assert!(
        stdout.contains("evil\\n\\u{1b}[2J\\u{202e}.b64"),
        "{stdout}"
    );
    let missing = d.join("missing\n\u{1b}]0;title\u{7}.b64");
    let out = run(&["decode", &format!("@{}", missing.display())]);
    assert_eq!(out.status.code(), Some(2));
    let (_, stderr) = clean_output(&out, "missing file");
    // Line breaks in an error message become spaces; the rest is escaped.
    assert!(
        stderr.contains("missing \\u{1b}]0;title\\u{7}.b64: "),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn handshake_text_escapes_the_authenticated_name() {
    for name in argument_names() {
        let out = run(&[
            "handshake",
            &format!("--user={name}"),
            &format!("--domain={name}"),
            &format!("--target-name={name}"),
        ]);
        let context = shown(&name, 24);
        if name.len() > 1000 {
            // Three long names make an AUTHENTICATE the server refuses as too long.
            assert_eq!(out.status.code(), Some(1), "{context}: {out:?}");
            clean_output(&out, &context);
            continue;
        }
        assert_eq!(out.status.code(), Some(0), "{context}: {out:?}");
        let (stdout, _) = clean_output(&out, &context);
        let line = stdout
            .lines()
            .find(|l| l.starts_with("SUCCESS: the server authenticated "))
            .unwrap_or_else(|| panic!("{context}: no SUCCESS line\n{stdout}"));
        assert!(line.contains(&shown(&name, 60)), "{context}: {line}");
    }
}

/// An HTTP server on loopback that answers every request on up to
/// `connections` connections with 401 and `WWW-Authenticate: NTLM <challenge>`.
fn challenge_server(
    challenge: Vec<u8>,
    connections: usize,
) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let answer = format!(
        "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM {}\r\nContent-Length: 0\r\n\r\n",
        B64.encode(challenge)
    );
    let handle = std::thread::spawn(move || {
        for _ in 0..connections {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            // Requests on the connection, at most 4, each answered with the CHALLENGE.
            for _ in 0..4 {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 1 << 20 {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                if request.is_empty() || stream.write_all(answer.as_bytes()).is_err() {
                    break;
                }
            }
        }
    });
    (url, handle)
}

#[test]
fn probe_text_escapes_the_servers_names() {
    for name in hostile_names() {
        let (url, server) = challenge_server(hostile_challenge(&name), 1);
        let out = run(&["probe", "http", &url, "--timeout", "10"]);
        let context = shown(&name, 24);
        let (stdout, stderr) = clean_output(&out, &context);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{context}: {stderr}"
        );
        assert!(
            stdout.contains(&format!(
                "TargetName: {}",
                sink::quoted(&name).chars().take(60).collect::<String>()
            )),
            "{context}\n{}",
            stdout.chars().take(3000).collect::<String>()
        );
        server.join().unwrap();
    }
}

#[test]
fn interop_and_profiles_escape_names_from_files() {
    let d = dir("files");
    for name in argument_names().into_iter().filter(|n| n.len() < 1000) {
        let toml_name = toml_string(&name);
        let fleet = d.join("fleet.toml");
        std::fs::write(
            &fleet,
            format!(
                "[[host]]\nname = {toml_name}\nprofile = \"mssql-jdbc-7.4\"\nrole = \"client\"\ntalks_to = [\"dc01\"]\n\n\
                 [[host]]\nname = \"dc01\"\nprofile = \"windows-11\"\nrole = \"server\"\n"
            ),
        )
        .unwrap();
        let context = shown(&name, 24);
        for view in [&[][..], &["--list"][..]] {
            let mut args = vec![
                "interop",
                "--fleet",
                fleet.to_str().unwrap(),
                "--server-min",
                "0x20080000",
            ];
            args.extend_from_slice(view);
            let out = run(&args);
            assert!(
                matches!(out.status.code(), Some(0 | 1)),
                "{context}: {out:?}"
            );
            let (stdout, _) = clean_output(&out, &context);
            assert!(stdout.contains(&shown(&name, 10)), "{context}\n{stdout}");
        }

        let catalog = d.join("catalog.toml");
        std::fs::write(
            &catalog,
            format!(
                "[[profile]]\nname = {toml_name}\nrole = \"client\"\ndescription = {toml_name}\nos = \"non-windows\"\nlm_level = 3\n[profile.client]\n"
            ),
        )
        .unwrap();
        let out = run(&["profiles", "--catalog", catalog.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{context}: {out:?}");
        let (stdout, _) = clean_output(&out, &context);
        assert!(stdout.contains(&shown(&name, 6)), "{context}\n{stdout}");
        let out = run(&[
            "profiles",
            "--catalog",
            catalog.to_str().unwrap(),
            "--",
            &name,
        ]);
        assert_eq!(out.status.code(), Some(0), "{context}: {out:?}");
        let (stdout, _) = clean_output(&out, &context);
        assert!(stdout.contains(&shown(&name, 60)), "{context}\n{stdout}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// `s` as a TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[test]
fn audit_text_and_csv_escape_names_and_file_names() {
    let d = dir("audit");
    let names = hostile_names();
    let mut cap = Conversation::new("192.0.2.7:40000", "192.0.2.80:80");
    cap.handshake();
    for name in &names {
        let other = if name.len() > 1024 {
            "D"
        } else {
            name.as_str()
        };
        cap.http_exchange(
            &Messages::new(&Spec {
                negotiate_flags: synth::CURL_FLAGS,
                challenge_flags: 0x0089_8205,
                authenticate_flags: 0x0088_8205,
                mic: false,
                user: name.clone(),
                domain: other.to_owned(),
                workstation: other.to_owned(),
                ..Spec::default()
            }),
            401,
        );
    }
    // Cut the capture short so that the file gets a problem line too.
    let mut bytes = synth::capture(Format::PcapNg { big_endian: false }, &cap.frames);
    bytes.truncate(bytes.len() - 10);
    let file = d.join("evil\n\u{1b}[2J\u{202e}.pcapng");
    std::fs::write(&file, &bytes).unwrap();
    let csv = d.join("out.csv");
    let out = run(&[
        "audit",
        "--server-min",
        "0x20000000",
        "--semantics",
        "ms-nlmp",
        "--csv",
        csv.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let (stdout, _) = clean_output(&out, "audit");
    let rows = stdout.lines().filter(|l| l.contains("BREAKS:")).count();
    assert_eq!(rows, names.len(), "one table row per exchange\n{stdout}");
    assert!(stdout.contains("x\\nAF TESTDOM\\administrator"), "{stdout}");
    assert!(
        stdout.contains("evil\\n\\u{1b}[2J\\u{202e}.pcapng: packet"),
        "{stdout}"
    );
    assert!(
        stdout.lines().all(|l| l.chars().count() < 2048),
        "bounded rows"
    );
    let csv = std::fs::read_to_string(&csv).unwrap();
    let records: Vec<&str> = csv.split_terminator("\r\n").collect();
    assert_eq!(records.len(), names.len() + 1, "{csv}");
    for r in &records {
        assert!(sink::line_safe(r), "{r:?}");
        let cells = csv_cells(r);
        assert_eq!(cells.len(), records[0].split(',').count(), "{r}");
        for cell in cells {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "formula cell {cell:?}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// The cells of one CSV record (RFC 4180, no line break inside a cell).
fn csv_cells(line: &str) -> Vec<String> {
    let (mut cells, mut cell, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(std::mem::take(&mut cell)),
            (c, _) => cell.push(c),
        }
    }
    assert!(!quoted, "unbalanced quotes: {line:?}");
    cells.push(cell);
    cells
}
