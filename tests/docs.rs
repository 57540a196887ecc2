//! The documentation pages that mirror code stay in step with it.
#![allow(clippy::panic, reason = "a missing page must fail the test")]

use std::path::Path;

fn doc(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
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
