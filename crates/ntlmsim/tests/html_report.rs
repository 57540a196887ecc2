//! The `interop --html` report rendered in headless Chromium: the page loads,
//! its script runs without errors and counts the expected failing cells, and
//! a screenshot is taken.
//!
//! Needs the Debian package `chromium` (`/usr/bin/chromium`, or the path in
//! `CHROMIUM`). Without it the test prints a note and passes, unless the
//! environment variable `CI` is `true`, where a missing browser is a failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if path.exists() {
        return Some(path);
    }
    ntlm_testsupport::missing(
        &format!("{} (the Debian package chromium)", path.display()),
        "the headless-browser check",
    );
    None
}

/// Runs the browser with the flags that keep it off the network, killing it
/// after a minute.
fn run_browser(browser: &Path, profile: &Path, extra: &[&str], page: &Path) -> Output {
    let url = format!("file://{}", page.display());
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1400,1000",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(&url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    // Read both pipes while waiting: a full pipe would stall the browser.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut b);
        b
    });
    let err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut b);
        b
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("chromium did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

fn attr(dom: &str, name: &str) -> Option<String> {
    let start = dom.find(&format!("{name}=\""))? + name.len() + 2;
    let rest = dom.get(start..)?;
    Some(rest.get(..rest.find('"')?)?.to_owned())
}

#[test]
fn report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        return;
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html_report");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("report.html");
    let out = Command::new(env!("CARGO_BIN_EXE_ntlmsim"))
        .args([
            "interop",
            "--client-min",
            "0x20080000",
            "--server-min",
            "0x20080000",
            "--sign",
            "--json",
            "--html",
        ])
        .arg(&page)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected = v["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["after"]["result"] == "failure")
        .count();
    assert!(expected > 0);

    // The DOM after the script ran.
    let dump = run_browser(&browser, &dir.join("profile-dom"), &["--dump-dom"], &page);
    let dom = String::from_utf8_lossy(&dump.stdout);
    let log = String::from_utf8_lossy(&dump.stderr);
    assert!(
        dom.contains("<body"),
        "no DOM from chromium (status {:?}): {log}",
        dump.status
    );
    assert_eq!(
        attr(&dom, "data-script-error"),
        None,
        "the page reported a script error"
    );
    assert!(
        !log.contains("Uncaught"),
        "script error in the console: {log}"
    );
    assert_eq!(
        attr(&dom, "data-ready").as_deref(),
        Some("1"),
        "the script did not finish: {log}"
    );
    assert_eq!(
        attr(&dom, "data-failing-cells"),
        Some(expected.to_string()),
        "failing cells counted by the page"
    );
    // Each cause of the "What to do" section found its cells in the grid
    // (data-cells, set by the script) and the page counted the same number
    // of pairs for it (data-count, written by the report).
    let causes: Vec<&str> = dom
        .match_indices("<div class=\"cause\"")
        .map(|(i, _)| {
            let tag = &dom[i..];
            &tag[..tag.find('>').unwrap()]
        })
        .collect();
    assert!(!causes.is_empty(), "no cause in the What to do section");
    let mut total = 0;
    for tag in &causes {
        let count = attr(tag, "data-count").unwrap();
        assert_eq!(attr(tag, "data-cells"), Some(count.clone()), "{tag}");
        total += count.parse::<usize>().unwrap();
    }
    let newly = v["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["change"] == "newly-broken")
        .count();
    assert_eq!(total, newly, "the causes cover every newly broken pair");
    assert!(dom.contains("Show only these pairs in the grid"));
    // The details panel was filled in for the first newly broken cell.
    assert!(dom.contains("after the change"), "details panel empty");
    // With the after verdict's certainty over the documented readings.
    assert!(
        dom.contains("<dt>certainty</dt><dd>breaks "),
        "no certainty in the details panel"
    );

    // A screenshot, kept next to the report for a human to look at.
    let shot = dir.join("report.png");
    let arg = format!("--screenshot={}", shot.display());
    let run = run_browser(&browser, &dir.join("profile-shot"), &[&arg], &page);
    let png = std::fs::read(&shot).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}); chromium said: {}",
            String::from_utf8_lossy(&run.stderr)
        )
    });
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(
        png.len() > 20_000,
        "a suspiciously small screenshot: {} bytes",
        png.len()
    );
    println!("screenshot: {}", shot.display());
}

/// The `audit --html` report with event-log evidence beside the capture
/// evidence: a hand-written NTLM V1 logon (the 4624 fields of Microsoft
/// Learn's "4624(S): An account was successfully logged on") that breaks
/// under LmCompatibilityLevel 5 renders, with its event section, counts and
/// evidence, and a screenshot is taken.
#[test]
fn audit_report_with_events_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        return;
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html_report_events");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("security.xml");
    std::fs::write(
        &log,
        ntlm_testsupport::logon_event_xml("srv1.corp.example", "svc&lt;scan&gt;", "SCANNER01"),
    )
    .unwrap();
    let page = dir.join("audit.html");
    let out = Command::new(env!("CARGO_BIN_EXE_ntlmsim"))
        .args(["audit", "--server-lm-level", "5", "--html"])
        .arg(&page)
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let dump = run_browser(&browser, &dir.join("profile-dom"), &["--dump-dom"], &page);
    let dom = String::from_utf8_lossy(&dump.stdout);
    assert!(
        dom.contains("<body"),
        "no DOM from chromium: {}",
        String::from_utf8_lossy(&dump.stderr)
    );
    assert_eq!(attr(&dom, "data-events").as_deref(), Some("1"));
    assert_eq!(attr(&dom, "data-events-breaking").as_deref(), Some("1"));
    assert!(dom.contains("Event logs"));
    assert!(dom.contains("SCANNER01"));
    // Text from the log is escaped, not markup.
    assert!(dom.contains("svc&lt;scan&gt;"), "{dom}");
    assert!(dom.contains("lm-refuse-ntlmv1"));
    let shot = dir.join("audit.png");
    let arg = format!("--screenshot={}", shot.display());
    let _ = run_browser(&browser, &dir.join("profile-shot"), &[&arg], &page);
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    println!("screenshot: {}", shot.display());
}
