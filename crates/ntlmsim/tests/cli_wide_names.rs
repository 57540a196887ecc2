//! Names of wide (CJK) and combining characters in the terminal views: the
//! `interop` grid's rows and the `profiles` table align by display width,
//! not by character count.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test harness: a failed expectation must abort the test"
)]

use std::process::Command;

use ntlm_report::text::width;
use ntlm_testsupport::Scratch;

/// Ten wide characters and a hyphen: 21 columns, 11 characters.
const WIDE: &str = "東京-ファイルサーバー";
/// A combining acute accent: 11 columns, 12 characters.
const COMBINING: &str = "cafe\u{301}-client";

fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ntlmsim"))
        .args(args)
        .env_remove("COLUMNS")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The display column where the text after `name` and its padding starts.
fn cells_at(line: &str, name: &str) -> usize {
    let rest = line.strip_prefix(name).unwrap();
    width(name) + rest.len() - rest.trim_start().len()
}

#[test]
fn the_interop_grid_aligns_wide_and_combining_names() {
    let d = Scratch::new(env!("CARGO_TARGET_TMPDIR"), "wide_names");
    let fleet = d.write(
        "fleet.toml",
        &format!(
            "[[host]]\nname = \"{WIDE}\"\nprofile = \"mssql-jdbc-7.4\"\nrole = \"client\"\n\
             talks_to = [\"dc01\", \"大阪\"]\n\n\
             [[host]]\nname = \"{COMBINING}\"\nprofile = \"windows-11\"\nrole = \"client\"\n\
             talks_to = [\"dc01\", \"大阪\"]\n\n\
             [[host]]\nname = \"dc01\"\nprofile = \"windows-11\"\nrole = \"server\"\n\n\
             [[host]]\nname = \"大阪\"\nprofile = \"windows-server-2025\"\nrole = \"server\"\n"
        ),
    );
    let out = run(&[
        "interop",
        "--fleet",
        fleet.to_str().unwrap(),
        "--server-min",
        "0x20080000",
    ]);
    let line = |start: &str| {
        out.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no line {start:?}\n{out}"))
    };
    let corner = "client \\ server";
    let at = cells_at(line(corner), corner);
    assert_eq!(at, width(WIDE) + 1, "{out}");
    assert_eq!(cells_at(line(WIDE), WIDE), at, "{out}");
    assert_eq!(cells_at(line(COMBINING), COMBINING), at, "{out}");
    assert!(out.contains("B 大阪"), "{out}");
}

#[test]
fn the_profiles_table_aligns_a_wide_name() {
    let d = Scratch::new(env!("CARGO_TARGET_TMPDIR"), "wide_names");
    let catalog = d.write(
        "catalog.toml",
        "[[profile]]\nname = \"東京\"\nrole = \"client\"\ndescription = \"wide\"\n\
         os = \"non-windows\"\nlm_level = 3\n[profile.client]\n",
    );
    let out = run(&["profiles", "--catalog", catalog.to_str().unwrap()]);
    let column = |l: &str| {
        let name = l.split(' ').next().unwrap_or("");
        cells_at(l, name)
    };
    let header = out.lines().find(|l| l.starts_with("name ")).unwrap();
    let wide = out.lines().find(|l| l.starts_with("東京 ")).unwrap();
    assert_eq!(column(wide), column(header), "{out}");
}
