//! A matrix as text: clients down, servers across, each cell `before ->
//! after` in a few characters.

use ntlm_sim::matrix::{PairResult, Verdict};

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
    let cw = clients
        .iter()
        .map(|c| c.len())
        .max()
        .unwrap_or(0)
        .max(CORNER.len());
    let sw = servers.iter().map(|s| s.len()).max().unwrap_or(0).max(14);
    let mut s = String::new();
    let _ = write!(s, "{CORNER:<cw$}");
    for srv in &servers {
        let _ = write!(s, "  {srv:<sw$}");
    }
    s.push('\n');
    for c in &clients {
        let _ = write!(s, "{c:<cw$}");
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
            let _ = write!(s, "  {text:<sw$}");
        }
        s.push('\n');
    }
    s
}
