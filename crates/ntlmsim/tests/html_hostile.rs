//! A hostile name in each HTML report: `interop --html` (a fleet host, in
//! the grid, the cells' tooltips, the What to do section and the page's
//! JSON) and `audit --html` (an event log's user, workstation and computer,
//! in the event-log section). The name must show as text: no element, no
//! attribute of its own, the right-to-left override inside the text.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test harness: a failed expectation must abort the test"
)]

use std::process::Command;

use ntlm_testsupport::Scratch;

/// A script element, a quote opening an attribute, a right-to-left override.
const NAME: &str = "<script>alert(1)</script>\"onmouseover=alert(2) \u{202e}x";
/// [`NAME`] as HTML text.
const ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;onmouseover=alert(2) \u{202e}x";

/// The page shows [`NAME`] as text only, `at_least` times, and has exactly
/// `scripts` script elements.
fn escaped(page: &str, at_least: usize, scripts: usize) {
    assert!(!page.contains("<script>alert"), "raw script element");
    assert_eq!(page.matches("<script").count(), scripts);
    // A quote from the name stays escaped: `&quot;` in the markup, `\"` in
    // the page's JSON data.
    for (i, _) in page.match_indices("\"onmouseover=") {
        assert_eq!(
            page.get(i.saturating_sub(1)..i),
            Some("\\"),
            "a quote opens an attribute"
        );
    }
    assert!(
        page.matches(ESCAPED).count() >= at_least,
        "{} escaped name(s)",
        page.matches(ESCAPED).count()
    );
    // The override is only ever inside the escaped name (or its JSON form).
    let overrides = page.matches('\u{202e}').count();
    let json = page.matches("\\u003cscript\\u003e").count();
    assert_eq!(
        overrides,
        page.matches(ESCAPED).count() + json,
        "a stray override"
    );
}

#[test]
fn a_hostile_host_name_is_text_in_the_interop_report() {
    let d = Scratch::new(env!("CARGO_TARGET_TMPDIR"), "html_hostile");
    let quoted = toml_string(NAME);
    let fleet = d.write(
        "fleet.toml",
        &format!(
            "[[host]]\nname = {quoted}\nprofile = \"mssql-jdbc-7.4\"\nrole = \"client\"\n\
             talks_to = [\"dc01\"]\ndescription = {quoted}\n\n\
             [[host]]\nname = \"dc01\"\nprofile = \"windows-11\"\nrole = \"server\"\n"
        ),
    );
    let page = d.write("report.html", "");
    let out = Command::new(env!("CARGO_BIN_EXE_ntlmsim"))
        .args(["interop", "--fleet"])
        .arg(&fleet)
        .args(["--server-min", "0x20080000", "--html"])
        .arg(&page)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let page = std::fs::read_to_string(page).unwrap();
    // The grid's row, the hosts table (name and description), the What to
    // do section's list and text box.
    escaped(&page, 4, 3);
    assert!(page.contains("id=\"actions\""));
}

#[test]
fn hostile_event_log_names_are_text_in_the_audit_report() {
    let d = Scratch::new(env!("CARGO_TARGET_TMPDIR"), "html_hostile");
    let xml = NAME
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let log = d.write(
        "security.xml",
        &ntlm_testsupport::logon_event_xml(&xml, &xml, &xml),
    );
    let page = d.write("audit.html", "");
    let out = Command::new(env!("CARGO_BIN_EXE_ntlmsim"))
        .args(["audit", "--server-lm-level", "5", "--html"])
        .arg(&page)
        .arg(&log)
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    let page = std::fs::read_to_string(page).unwrap();
    assert!(page.contains("id=\"events\""));
    // The clients' and servers' tables and the event's row.
    escaped(&page, 4, 0);
}

/// `s` as a TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
