//! Views of the peer profiles beside a verdict.

use ntlm_sim::profiles::AssumedFacts;

/// The human lines of [`ntlm_sim::profiles::assumed_facts`], names and facts escaped for a
/// terminal: `{indent}assumed:    windows-xp as client: ...`, one per
/// profile.
pub fn render_assumed(facts: &[AssumedFacts], indent: &str) -> String {
    facts
        .iter()
        .map(|a| {
            format!(
                "{indent}assumed:    {} as {}: {}\n",
                crate::sink::terminal(&a.profile),
                a.role,
                crate::sink::terminal(&a.facts)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use ntlm_sim::profiles::{Catalog, assumed_facts};

    use super::*;

    #[test]
    fn one_escaped_line_per_profile() {
        let c = Catalog::builtin().unwrap();
        let f = assumed_facts(c.get("windows-xp"), c.get("windows-11"));
        let text = render_assumed(&f, "  ");
        assert_eq!(text.lines().count(), 2);
        assert!(
            text.starts_with("  assumed:    windows-xp as client: "),
            "{text}"
        );
    }
}
