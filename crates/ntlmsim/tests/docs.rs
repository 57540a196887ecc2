//! The documentation pages that mirror code stay in step with it.
#![allow(clippy::panic, reason = "a missing page must fail the test")]

use std::path::Path;

fn doc(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .join("docs")
            .join(name),
    )
    .unwrap_or_else(|e| panic!("docs/{name}: {e}"))
}

#[test]
fn policy_page_lists_every_rule_and_preset() {
    let page = doc("POLICY.md");
    for line in ntlm_policy::rules::markdown_table().lines() {
        assert!(
            page.contains(line),
            "docs/POLICY.md is out of date at: {line}"
        );
    }
    for (name, _) in ntlm_policy::Semantics::list() {
        assert!(
            page.contains(&format!("| `{name}`")),
            "preset {name} missing from docs/POLICY.md"
        );
    }
}

/// Every `## ntlmsim ...` section of docs/CLI.md holds that command's current
/// `--help`, and every subcommand has a section.
#[test]
fn cli_page_is_the_binaries_help() {
    let page = doc("CLI.md");
    let run = |args: &[&str]| {
        // Help is coloured when forced, whatever the page says.
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ntlmsim"))
            .env_remove("CLICOLOR_FORCE")
            .args(args)
            .arg("--help")
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
    };
    let mut sections = 0;
    for section in page.split("\n## ").skip(1) {
        let (title, body) = section.split_once('\n').unwrap_or((section, ""));
        let Some(cmd) = title.trim().strip_prefix("ntlmsim") else {
            continue;
        };
        let args: Vec<&str> = cmd.split_whitespace().collect();
        let help = run(&args);
        assert!(
            body.contains(&format!("```text\n{help}\n```")),
            "docs/CLI.md section `{}` differs from `ntlmsim {} --help`",
            title.trim(),
            cmd.trim()
        );
        sections += 1;
    }
    let top = run(&[]);
    let commands = top
        .split("Commands:")
        .nth(1)
        .unwrap_or("")
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .take_while(|w| *w != "Options:")
        .filter(|w| *w != "help")
        .collect::<Vec<_>>();
    assert!(!commands.is_empty());
    for c in commands {
        assert!(
            page.contains(&format!("\n## ntlmsim {c}\n")),
            "docs/CLI.md has no section for `{c}`"
        );
    }
    assert!(sections > 5);
}
