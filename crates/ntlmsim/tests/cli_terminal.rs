//! The terminal's manners: colour only where it is wanted (`--color`,
//! `NO_COLOR`, `CLICOLOR_FORCE`, `TERM`, a terminal or not), never in JSON,
//! clap's help following the same choice; a reader that closes the pipe
//! ends a command quietly; a full disk is an `error:` with exit code 2.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: a failed expectation must abort the test"
)]

use std::path::Path;
use std::process::{Command, Stdio};

use ntlm_testsupport::synth::{self, Format, Messages};

const BIN: &str = env!("CARGO_BIN_EXE_ntlmsim");
const INTEROP: &[&str] = &["interop", "--server-min", "0x20080000"];

/// `ntlmsim ARGS` with the colour variables cleared, then `env` set:
/// (exit code, stdout, stderr).
fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(BIN);
    for var in ["NO_COLOR", "CLICOLOR_FORCE", "CLICOLOR", "COLUMNS"] {
        cmd.env_remove(var);
    }
    cmd.env("TERM", "xterm-256color");
    cmd.envs(env.iter().copied());
    let out = cmd.args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn coloured(text: &str) -> bool {
    text.contains("\x1b[")
}

#[test]
fn a_pipe_gets_no_colour_unless_asked() {
    let (code, out, err) = run(INTEROP, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(!coloured(&out), "colour into a pipe by default");
    assert!(out.contains("summary: "), "{out}");
    assert!(err.is_empty(), "{err}");

    for args in [&["--color", "always"][..], &["--color=always"][..]] {
        let all = [args, INTEROP].concat();
        let (_, out, _) = run(&all, &[]);
        assert!(coloured(&out), "{args:?}: no colour");
    }
    // The same flag after the subcommand (it is global).
    let (_, out, _) = run(&[INTEROP, &["--color", "always"]].concat(), &[]);
    assert!(coloured(&out));
}

#[test]
fn the_environment_decides_under_auto_and_the_flag_wins_over_it() {
    let force = [("CLICOLOR_FORCE", "1")];
    let (_, out, _) = run(INTEROP, &force);
    assert!(coloured(&out), "CLICOLOR_FORCE=1 into a pipe");
    let (_, out, _) = run(INTEROP, &[("CLICOLOR_FORCE", "")]);
    assert!(!coloured(&out), "an empty CLICOLOR_FORCE forces nothing");

    // NO_COLOR (non-empty) wins over CLICOLOR_FORCE; an empty one is unset
    // (no-color.org).
    let (_, out, _) = run(INTEROP, &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
    assert!(!coloured(&out), "NO_COLOR=1");
    let (_, out, _) = run(INTEROP, &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "")]);
    assert!(coloured(&out), "an empty NO_COLOR");

    // The command line wins over the environment, both ways.
    let (_, out, _) = run(
        &[&["--color", "always"], INTEROP].concat(),
        &[("NO_COLOR", "1")],
    );
    assert!(coloured(&out), "--color always under NO_COLOR");
    let (_, out, _) = run(&[&["--color", "never"], INTEROP].concat(), &force);
    assert!(!coloured(&out), "--color never under CLICOLOR_FORCE");
}

#[test]
fn json_is_never_coloured() {
    let (code, out, err) = run(
        &[&["--color", "always"], INTEROP, &["--json"]].concat(),
        &[("CLICOLOR_FORCE", "1")],
    );
    assert_eq!(code, 1, "{err}");
    assert!(!coloured(&out));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["summary"]["breaking"].as_u64().unwrap() > 0, "{v}");
}

#[test]
fn help_and_usage_errors_follow_the_same_choice() {
    let force = [("CLICOLOR_FORCE", "1")];
    let (code, out, _) = run(&["interop", "--help"], &force);
    assert_eq!(code, 0);
    assert!(coloured(&out), "clap colours forced help");
    assert!(out.contains("--color"), "{out}");
    let (code, out, _) = run(&["--color", "never", "interop", "--help"], &force);
    assert_eq!(code, 0);
    assert!(!coloured(&out), "--color never, yet coloured help");
    assert!(out.contains("--color <WHEN>"));

    let (code, _, err) = run(&["--color", "never", "interop", "--bogus"], &force);
    assert_eq!(code, 2);
    assert!(!coloured(&err), "{err}");
    assert!(err.contains("--bogus"), "{err}");

    let (code, out, err) = run(&["--color", "purple", "demo"], &[]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("purple") && err.contains("always"), "{err}");
}

/// `script` (util-linux) runs the command on a pseudo-terminal: what an
/// administrator sees typing it.
fn on_a_terminal(args: &[&str], env: &[(&str, &str)]) -> Option<String> {
    let found = Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        ntlm_testsupport::skip("running on a pseudo-terminal: script (util-linux) not found");
        return None;
    }
    // Arguments are fixed words without quotes or spaces. The terminal is
    // 72 columns wide.
    assert!(args.iter().all(|a| !a.contains([' ', '\'', '"'])));
    let line = format!("stty cols 72 rows 50; {BIN} {}", args.join(" "));
    let mut cmd = Command::new("script");
    for var in ["NO_COLOR", "CLICOLOR_FORCE", "CLICOLOR", "COLUMNS"] {
        cmd.env_remove(var);
    }
    cmd.env("TERM", "xterm-256color").envs(env.iter().copied());
    let out = cmd
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn a_terminal_gets_colour_unless_it_is_dumb_or_declined() {
    let Some(out) = on_a_terminal(INTEROP, &[]) else {
        return;
    };
    assert!(out.contains("summary: "), "{out}");
    assert!(coloured(&out), "no colour on a terminal: {out}");

    let out = on_a_terminal(INTEROP, &[("TERM", "dumb")]).unwrap();
    assert!(out.contains("summary: "), "{out}");
    assert!(!coloured(&out), "colour on TERM=dumb");
    let out = on_a_terminal(INTEROP, &[("NO_COLOR", "1")]).unwrap();
    assert!(!coloured(&out), "colour under NO_COLOR");
    let out = on_a_terminal(&[&["--color", "never"], INTEROP].concat(), &[]).unwrap();
    assert!(!coloured(&out), "colour under --color never");
}

/// Every line of `out` but the summary (kept whole: the one line a script
/// greps) within `width` columns.
fn assert_fits(out: &str, width: usize) {
    assert!(out.contains("summary: "), "{out}");
    for line in out.lines().filter(|l| !l.starts_with("summary: ")) {
        let line = line.trim_end_matches('\r');
        assert!(
            line.chars().count() <= width,
            "{} columns, more than {width}: {line}",
            line.chars().count()
        );
    }
}

#[test]
fn the_grid_keeps_to_columns_in_a_pipe() {
    for args in [
        INTEROP,
        &["interop"][..],
        &[INTEROP, &["--seal"]].concat()[..],
    ] {
        let (_, wide, _) = run(args, &[]);
        assert_fits(&wide, 100);
        let (_, narrow, _) = run(args, &[("COLUMNS", "72")]);
        assert_fits(&narrow, 72);
        // The same verdicts, laid out again: more lines, no fewer cells.
        assert!(narrow.lines().count() > wide.lines().count(), "{narrow}");
        let cells = |t: &str| t.matches("ok").count();
        assert_eq!(cells(&narrow), cells(&wide));
        // Wider than 100 or unreadable: the design width.
        for columns in ["200", "wide"] {
            let (_, out, _) = run(args, &[("COLUMNS", columns)]);
            assert_eq!(out, wide, "COLUMNS={columns}");
        }
    }
}

#[test]
fn a_narrow_terminal_gets_a_narrower_grid() {
    let Some(out) = on_a_terminal(&[&["--color", "never"], INTEROP].concat(), &[]) else {
        return;
    };
    assert_fits(&out, 72);
    let (_, wide, _) = run(INTEROP, &[]);
    assert!(out.lines().count() > wide.lines().count(), "{out}");
}

/// Runs `ntlmsim ARGS` with the read end of its standard output closed
/// before it writes: (exit code, stderr).
fn closed_pipe(args: &[&str]) -> (i32, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_closed_pipe_ends_every_printing_command_quietly() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli_terminal");
    std::fs::create_dir_all(&dir).unwrap();
    let capture = dir.join("three.pcapng");
    let bytes = synth::write_exchanges(
        Vec::new(),
        Format::PcapNg { big_endian: false },
        &Messages::sample(),
        3,
    )
    .unwrap();
    std::fs::write(&capture, bytes).unwrap();
    let capture = capture.to_str().unwrap();

    for (args, code) in [
        (&["demo"][..], 0),
        (&["profiles"][..], 0),
        (&["policy", "rules"][..], 0),
        (INTEROP, 1),
        (&[INTEROP, &["--list"]].concat()[..], 1),
        (&[INTEROP, &["--json"]].concat()[..], 1),
        (&["audit", capture][..], 0),
        (&["audit", "--json", capture][..], 0),
        (&["audit", "--show-messages", capture][..], 0),
        (&["decode", capture][..], 0),
    ] {
        let (got, err) = closed_pipe(args);
        // The verdict's exit code, not a failure: closing the pipe is
        // the reader's choice (`| head`).
        assert_eq!(got, code, "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
}

#[test]
fn a_full_disk_is_an_error_with_exit_code_2() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        ntlm_testsupport::skip("the full-disk check: /dev/full cannot be opened here");
        return;
    };
    for args in [&["profiles"][..], INTEROP, &["demo"][..]] {
        let out = Command::new(BIN)
            .args(args)
            .stdout(full.try_clone().unwrap())
            .output()
            .unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with("error: cannot write to standard output") && err.lines().count() == 1,
            "{args:?}: {err}"
        );
    }
}
