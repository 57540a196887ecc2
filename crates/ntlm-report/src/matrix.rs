//! A matrix as text: clients down, servers across, each cell `before ->
//! after` in a few characters. Names (profile or fleet host names) are
//! escaped for the terminal and columns aligned by display width.

use ntlm_sim::matrix::{PairResult, Verdict};

use crate::sink;
use crate::text::{pad, width};

/// A short cell for a grid: `ok`, or who failed where (`S/neg`, `C/chal`, `S/auth`).
pub fn cell(v: &Verdict) -> String {
    match v {
        Ok(_) => "ok".to_owned(),
        Err(f) => f.short('/').to_string(),
    }
}

/// A text grid (clients down, servers across) of `before → after` cells.
pub fn grid(results: &[PairResult]) -> String {
    use std::fmt::Write as _;
    let mut clients: Vec<&str> = Vec::new();
    let mut servers: Vec<&str> = Vec::new();
    for r in results {
        if !clients.contains(&r.client.as_str()) {
            clients.push(&r.client);
        }
        if !servers.contains(&r.server.as_str()) {
            servers.push(&r.server);
        }
    }
    const CORNER: &str = "client \\ server";
    let shown = |name: &str| sink::terminal(name).into_owned();
    let cw = clients
        .iter()
        .map(|c| width(&shown(c)))
        .max()
        .unwrap_or(0)
        .max(CORNER.len());
    let sw = servers
        .iter()
        .map(|s| width(&shown(s)))
        .max()
        .unwrap_or(0)
        .max(14);
    let mut s = String::new();
    s.push_str(&pad(CORNER, cw));
    for srv in &servers {
        let _ = write!(s, "  {}", pad(&shown(srv), sw));
    }
    s.push('\n');
    for c in &clients {
        s.push_str(&pad(&shown(c), cw));
        for srv in &servers {
            let text = results
                .iter()
                .find(|r| r.client == *c && r.server == *srv)
                .map_or_else(
                    || "-".to_owned(),
                    |r| {
                        let (b, a) = (cell(&r.before), cell(&r.after));
                        let mark = if r.breaks() { " !" } else { "" };
                        if b == a {
                            format!("{a}{mark}")
                        } else {
                            format!("{b} -> {a}{mark}")
                        }
                    },
                );
            let _ = write!(s, "  {}", pad(&text, sw));
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use ntlm_policy::Semantics;
    use ntlm_sim::matrix::{self, Application, Policy};
    use ntlm_sim::profiles::Catalog;

    use super::*;

    /// Hostile and wide names are escaped and aligned: every line of the
    /// grid is one terminal line, and the columns line up by display width.
    #[test]
    fn names_are_escaped_and_aligned_by_display_width() {
        let catalog = Catalog::builtin().unwrap();
        let clients: Vec<_> = catalog
            .profiles
            .iter()
            .filter(|p| p.role.client())
            .collect();
        let servers: Vec<_> = catalog
            .profiles
            .iter()
            .filter(|p| p.role.server())
            .collect();
        let mut results = matrix::run(
            &clients[..2],
            &servers[..1],
            &Policy::default(),
            &Policy::default(),
            Application::default(),
            Semantics::default(),
        );
        results.truncate(2);
        results[0].client = "\u{1b}[31m客户端\u{202e}".to_owned();
        results[1].client = "e\u{301}".to_owned();
        let text = grid(&results);
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{202e}'),
            "{text}"
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        let widths: Vec<usize> = lines.iter().map(|l| width(l.trim_end())).collect();
        // The second column starts at the same display column on every row.
        let second_column = |l: &str| {
            let l = l.trim_end();
            width(&l[..l.rfind("  ").unwrap()])
        };
        assert_eq!(second_column(lines[1]), second_column(lines[2]), "{text}");
        assert_eq!(second_column(lines[0]), second_column(lines[1]), "{text}");
        assert!(widths.iter().all(|w| *w > 0));
    }
}
