//! The human view of an `interop` run: the grid (or the list) of pairs,
//! the newly breaking pairs grouped by failure, the fixed ones, and what
//! the change does not reach.

use std::collections::HashMap;
use std::fmt::Write as _;

use ntlm_policy::MinSessionSecurity;
use ntlm_sim::interop::{Group, LIST_MAX, NotReachedJson, Plan, Run};
use ntlm_sim::matrix::{self, Change, Matrix, Options, PairRef, PairSet, Policy};
use ntlm_sim::outcome::{hex32, names, verdict_words};
use ntlm_sim::profiles::AssumedFacts;

use super::Out;
use crate::sink;
use crate::text::{fit, wrap};
/// ANSI colours (or none), and the screen width the human output keeps to.
#[derive(Clone, Copy)]
pub(super) struct Paint {
    pub(super) colour: bool,
    pub(super) width: usize,
}

impl Paint {
    const fn code(c: Change) -> &'static str {
        match c {
            Change::Unchanged => "32",
            Change::Changed => "34",
            Change::NewlyBroken => "1;31",
            Change::AlreadyBroken => "33",
            Change::Fixed => "36",
        }
    }

    fn paint(self, text: &str, c: Change) -> String {
        if !self.colour {
            return text.to_owned();
        }
        format!("\x1b[{}m{text}\x1b[0m", Self::code(c))
    }

    fn bold(self, text: &str) -> String {
        if self.colour {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

fn code(change: Change, after: &matrix::Verdict) -> String {
    match (change, after) {
        (Change::Unchanged, _) => "ok".to_owned(),
        (Change::Changed, _) => "ok*".to_owned(),
        (Change::Fixed, _) => "+ok".to_owned(),
        (Change::NewlyBroken, Err(f)) => format!("!{}", f.code()),
        (Change::AlreadyBroken, Err(f)) => format!("x{}", f.code()),
        (_, _) => "?".to_owned(),
    }
}

/// Column keys: A..Z, then AA, AB, ...
fn key(i: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let letter = |n: usize| char::from(letters.get(n % 26).copied().unwrap_or(b'?'));
    if i < 26 {
        letter(i).to_string()
    } else {
        format!("{}{}", letter(i / 26 - 1), letter(i % 26))
    }
}

fn grid(plan: &Plan<'_>, results: &dyn PairSet, paint: Paint, s: &mut String) {
    const CELL: usize = 5;
    const CORNER: &str = "client \\ server";
    let cw = plan
        .clients
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(CORNER.len(), 24);
    let per_block = (paint.width.saturating_sub(cw + 1) / CELL).max(1);
    let keys: Vec<String> = (0..plan.servers.len()).map(key).collect();
    // Server legend.
    let mut legend = String::from("servers:");
    let mut col = legend.len();
    for (k, name) in keys.iter().zip(&plan.servers) {
        let item = format!("{k} {}", sink::terminal_bounded(name, NAME_CHARS));
        let len = item.chars().count() + 2;
        if col + len > paint.width {
            legend.push_str("\n        ");
            col = 8;
        }
        legend.push_str("  ");
        legend.push_str(&item);
        col += len;
    }
    let _ = writeln!(s, "{legend}\n");
    let mut at: HashMap<(&str, &str), PairRef<'_>> = HashMap::new();
    for r in matrix::pairs_of(results) {
        at.entry((r.client, r.server)).or_insert(r);
    }
    for (b, block) in plan.servers.chunks(per_block).enumerate() {
        let first = b * per_block;
        let _ = write!(s, "{CORNER:<cw$} ");
        for i in 0..block.len() {
            let k = keys.get(first + i).map_or("?", String::as_str);
            let _ = write!(s, "{k:<CELL$}");
        }
        while s.ends_with(' ') {
            s.pop();
        }
        s.push('\n');
        for c in &plan.clients {
            let _ = write!(s, "{:<cw$} ", fit(c, cw));
            for srv in block {
                match at.get(&(c.as_str(), srv.as_str())) {
                    Some(r) => {
                        let text = format!("{:<CELL$}", code(r.change(), r.after));
                        s.push_str(&paint.paint(&text, r.change()));
                    }
                    None => {
                        let _ = write!(s, "{:<CELL$}", "-");
                    }
                }
            }
            // No trailing blanks.
            while s.ends_with(' ') {
                s.pop();
            }
            s.push('\n');
        }
        s.push('\n');
    }
}

/// The pairs that do not work unchanged, one line each, streamed: each
/// distinct outcome's part of the line and each peer's column are
/// formatted once.
fn list(run: &Run<'_, '_>, paint: Paint, out: &mut Out<'_>) -> Result<(), String> {
    if run.counts.pairs == run.counts.unchanged {
        return out.put(b"every pair works before and after, unchanged\n\n");
    }
    let mut buf = format!(
        "{:<4} {:<28} {:<28} {:<10} after\n",
        "", "client", "server", "before"
    );
    // (start of line, end of line) per outcome; None: not listed.
    let parts: Vec<Option<(String, String)>> = run
        .ev
        .outcomes()
        .iter()
        .map(|o| {
            let change = o.change();
            if change == Change::Unchanged {
                return None;
            }
            let before = match &o.before {
                Ok(_) => "ok".to_owned(),
                Err(f) => f.code().to_string(),
            };
            let after = match &o.after {
                Ok(_) => "ok".to_owned(),
                Err(f) => format!("{} {}", f.code(), f.status.name()),
            };
            let (open, close) = if paint.colour {
                (format!("\x1b[{}m", Paint::code(change)), "\x1b[0m")
            } else {
                (String::new(), "")
            };
            Some((
                format!("{open}{:<4} ", code(change, &o.after)),
                format!(" {before:<10} {}{close}\n", fit(&after, 26)),
            ))
        })
        .collect();
    let columns: Vec<String> = run
        .plan
        .peers
        .iter()
        .map(|p| format!("{:<28}", fit(&p.name, 28)))
        .collect();
    let mut failed = None;
    run.each(&mut |c, s, o| {
        let (Some(Some((start, end))), Some(cn), Some(sn)) =
            (parts.get(o), columns.get(c), columns.get(s))
        else {
            return true;
        };
        buf.push_str(start);
        buf.push_str(cn);
        buf.push(' ');
        buf.push_str(sn);
        buf.push_str(end);
        if buf.len() >= 1 << 16 {
            if let Err(e) = out.put(buf.as_bytes()) {
                failed = Some(e);
                return false;
            }
            buf.clear();
        }
        !out.closed
    });
    if let Some(e) = failed {
        return Err(e);
    }
    if run.counts.unchanged > 0 {
        let _ = writeln!(
            buf,
            "(and {} pairs that work before and after, unchanged)",
            run.counts.unchanged
        );
    }
    buf.push('\n');
    out.put(buf.as_bytes())
}

/// Newly breaking pairs grouped by identical failure.
fn breaking(run: &Run<'_, '_>, paint: Paint, s: &mut String) {
    let n = run.counts.breaking;
    if n == 0 {
        let _ = writeln!(
            s,
            "{}",
            paint.paint("No pair newly breaks.", Change::Unchanged)
        );
        return;
    }
    let _ = writeln!(
        s,
        "{}",
        paint.bold(&format!(
            "{n} pair{} newly break{}:",
            if n == 1 { "" } else { "s" },
            if n == 1 { "s" } else { "" }
        ))
    );
    for (i, g) in run.groups.iter().enumerate() {
        let f = &g.failure;
        // Printed from column 2; continued under the text after `[n] `.
        let head = wrap(&format!("[{}] {}", i + 1, f.refusal()), paint.width, 6);
        let _ = writeln!(s, "\n  {}", paint.paint(&head, Change::NewlyBroken));
        if !f.missing.is_empty() {
            let _ = writeln!(
                s,
                "      missing {} {}",
                hex32(f.missing.bits()),
                // After `      missing 0x12345678 `.
                wrap(&names(f.missing).join(" | "), paint.width, 25)
            );
        }
        let _ = writeln!(
            s,
            "      rule {}: {}",
            f.rule.id,
            wrap(
                &format!("{} [{}]", f.rule.source, f.rule.basis),
                paint.width,
                // After `      rule ID: `.
                13 + f.rule.id.len()
            )
        );
        group_certainty(run, g, paint.width, s);
        group_assumed(run, g, paint.width, s);
        let items = capped(pair_names(run, &g.sample), g.count);
        let head = format!(
            "      {} pair{}:",
            g.count,
            if g.count == 1 { "" } else { "s" }
        );
        let indent = head.chars().count() + 1;
        let _ = writeln!(s, "{head} {}", wrap_items(&items, paint.width, indent, 10));
    }
}

/// The profiles whose assumed facts a group of newly breaking pairs rests
/// on, by name and role (the facts follow the groups, [`assumed_section`]).
fn group_assumed(run: &Run<'_, '_>, g: &Group, width: usize, s: &mut String) {
    let mut names: Vec<String> = Vec::new();
    for &o in &g.outcomes {
        for a in run.assumed(o) {
            let name = format!(
                "{} as {}",
                sink::terminal_bounded(&a.profile, NAME_CHARS),
                a.role
            );
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    if names.is_empty() {
        return;
    }
    let total = names.len();
    let mut items = capped(names, total);
    if let Some(last) = items.last_mut() {
        last.push_str(" (facts below)");
    }
    let head = "      assumed:";
    let _ = writeln!(
        s,
        "{head} {}",
        wrap_items(&items, width, head.len() + 1, head.len() + 1)
    );
}

/// Once, after the groups: each assumed fact the newly breaking verdicts
/// rest on, with its profile and role.
fn assumed_section(run: &Run<'_, '_>, width: usize, s: &mut String) {
    let mut seen: Vec<AssumedFacts> = Vec::new();
    for g in &run.groups {
        for &o in &g.outcomes {
            for a in run.assumed(o) {
                if !seen.contains(&a) {
                    seen.push(a);
                }
            }
        }
    }
    if seen.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\n{}",
        wrap(
            "assumed profile facts these verdicts rest on (no public source confirms them):",
            width,
            0
        )
    );
    for a in &seen {
        let _ = writeln!(
            s,
            "  {} as {}:\n    {}",
            sink::terminal_bounded(&a.profile, NAME_CHARS),
            a.role,
            wrap(&a.facts, width, 4)
        );
    }
}

/// The certainty line(s) of a group of newly breaking pairs: one when every
/// outcome in it is as certain, else one per distinct account with its
/// pair count.
fn group_certainty(run: &Run<'_, '_>, g: &Group, width: usize, s: &mut String) {
    let (verdict, opposite) = verdict_words(false);
    let mut lines: Vec<(String, usize)> = Vec::new();
    for &o in &g.outcomes {
        let (Some(c), Some(info)) = (run.certainty(o), run.info.get(o)) else {
            continue;
        };
        let text = c.summary(verdict, opposite).to_string();
        match lines.iter_mut().find(|(t, _)| *t == text) {
            Some((_, n)) => *n += info.pairs,
            None => lines.push((text, info.pairs)),
        }
    }
    // The most certain first: under every reading, then by pairs.
    lines.sort_by_key(|(t, n)| (!t.contains("every documented"), usize::MAX - n));
    for (text, n) in &lines {
        let head = if lines.len() == 1 {
            "      certainty:".to_owned()
        } else {
            format!(
                "      certainty ({n} pair{}):",
                if *n == 1 { "" } else { "s" }
            )
        };
        let indent = head.chars().count() + 1;
        let _ = writeln!(s, "{head} {}", wrap(text, width, indent));
    }
}

/// Most characters of a host or profile name in a list or legend.
const NAME_CHARS: usize = 64;

/// `client -> server`, each name through [`sink::terminal_bounded`].
fn pair_text(client: &str, server: &str) -> String {
    format!(
        "{} -> {}",
        sink::terminal_bounded(client, NAME_CHARS),
        sink::terminal_bounded(server, NAME_CHARS)
    )
}

fn pair_names(run: &Run<'_, '_>, pairs: &[(usize, usize)]) -> Vec<String> {
    pairs
        .iter()
        .map(|&(c, s)| pair_text(run.name(c), run.name(s)))
        .collect()
}

/// At most [`LIST_MAX`] of `total` items (`items` holds the first ones),
/// the last one saying how many more there are.
fn capped(mut items: Vec<String>, total: usize) -> Vec<String> {
    if total > LIST_MAX {
        let more = total - (LIST_MAX - 1);
        items.truncate(LIST_MAX - 1);
        items.push(format!("and {more} more (--json lists all)"));
    }
    items
}

/// `items` joined by ", ", wrapped at `width` between items; the first line
/// starts at column `first`, the others at `indent`.
fn wrap_items(items: &[String], width: usize, first: usize, indent: usize) -> String {
    let mut out = String::new();
    let mut col = first;
    let last = items.len().saturating_sub(1);
    for (i, item) in items.iter().enumerate() {
        let piece = if i == last {
            item.clone()
        } else {
            format!("{item},")
        };
        let len = piece.chars().count();
        if i > 0 && col + 1 + len > width {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            col = indent;
        } else if i > 0 {
            out.push(' ');
            col += 1;
        }
        out.push_str(&piece);
        col += len;
    }
    out
}

/// The change, with the servers' new channel-binding settings of `opts`.
pub(super) fn describe_all(change: &Policy, opts: &Options) -> Vec<String> {
    let mut lines = describe_change(change);
    if !opts.binding.is_default() {
        lines.push(format!(
            "{} on servers, over {}",
            opts.binding.describe(),
            opts.carrier.name()
        ));
    }
    lines
}

fn describe_change(change: &Policy) -> Vec<String> {
    let mut lines = Vec::new();
    let m = |v: MinSessionSecurity| {
        let n: Vec<&str> = v.names().collect();
        if n.is_empty() {
            hex32(v.bits())
        } else {
            format!("{} ({})", hex32(v.bits()), n.join(" | "))
        }
    };
    if let Some(v) = change.client_min {
        lines.push(format!("NtlmMinClientSec -> {} on clients", m(v)));
    }
    if let Some(v) = change.server_min {
        lines.push(format!("NtlmMinServerSec -> {} on servers", m(v)));
    }
    if let Some(l) = change.client_lm_level {
        lines.push(format!("LmCompatibilityLevel -> {} on clients", l.level()));
    }
    if let Some(l) = change.server_lm_level {
        lines.push(format!("LmCompatibilityLevel -> {} on servers", l.level()));
    }
    lines
}

/// How the human output is laid out.
#[derive(Clone, Copy)]
pub(super) struct View {
    /// Pairs listed instead of a grid.
    pub(super) as_list: bool,
    /// ANSI colours.
    pub(super) paint: Paint,
    /// The pairs come from a fleet file.
    pub(super) fleet: bool,
}

pub(super) fn human(
    run: &Run<'_, '_>,
    matrix: Option<&Matrix<'_, '_>>,
    (change, restrict): (&Policy, &[String]),
    opts: &Options,
    reach: &[NotReachedJson],
    view: View,
    out: &mut Out<'_>,
) -> Result<(), String> {
    let View {
        as_list,
        paint,
        fleet,
    } = view;
    let plan = run.plan;
    let mut s = String::new();
    let app = match (opts.app.sign, opts.app.seal) {
        (false, false) => "no signing or sealing",
        (true, false) => "signing",
        (false, true) => "sealing",
        (true, true) => "signing and sealing",
    };
    let _ = writeln!(
        s,
        "{}",
        paint.bold(&format!(
            "ntlmsim interop: {} clients x {} servers, {} pairs{}",
            plan.clients.len(),
            plan.servers.len(),
            run.counts.pairs,
            if fleet { " (fleet)" } else { "" }
        ))
    );
    let _ = writeln!(
        s,
        "{}",
        wrap(
            &format!(
                "semantics {}, application requests {app}, engine {}",
                opts.semantics.name(),
                opts.engine
            ),
            paint.width,
            0
        )
    );
    let mut lines = describe_all(change, opts);
    lines.extend_from_slice(restrict);
    if lines.is_empty() {
        let _ = writeln!(
            s,
            "change: {}",
            wrap(
                "none given (use --client-min, --server-min, --client-lm-level, --server-lm-level, \
                 --binding)",
                paint.width,
                8
            )
        );
    }
    for (i, l) in lines.iter().enumerate() {
        let _ = writeln!(
            s,
            "{}{}",
            if i == 0 { "change: " } else { "        " },
            wrap(l, paint.width, 8)
        );
    }
    for value in [
        "NtlmMinClientSec",
        "NtlmMinServerSec",
        "LmCompatibilityLevel",
    ] {
        let peers: Vec<String> = reach
            .iter()
            .filter(|r| r.value == value)
            .map(|r| sink::terminal_bounded(&r.peer, NAME_CHARS).into_owned())
            .collect();
        let total = peers.len();
        let peers = capped(peers, total);
        if !peers.is_empty() {
            let head = format!("        not reaching (they do not read {value}):");
            let indent = head.chars().count() + 1;
            let _ = writeln!(s, "{head} {}", wrap_items(&peers, paint.width, indent, 8));
        }
    }
    s.push('\n');
    match matrix {
        Some(m) if !as_list => {
            grid(plan, m, paint, &mut s);
            let _ = writeln!(
                s,
                "{}\n",
                wrap(
                    "ok works before and after, ok* works but negotiates differently, !Sn newly broken, \
                     xSn already broken, +ok fixed; S/C: the server/client refuses, n/c/a: on receipt of \
                     NEGOTIATE/CHALLENGE/AUTHENTICATE.",
                    paint.width,
                    0
                )
            );
        }
        _ => {
            out.put(s.as_bytes())?;
            s.clear();
            list(run, paint, out)?;
        }
    }
    breaking(run, paint, &mut s);
    assumed_section(run, paint.width, &mut s);
    let nfixed = run.counts.fixed;
    if nfixed > 0 {
        let fixed = capped(pair_names(run, &run.fixed), nfixed);
        let _ = writeln!(
            s,
            "\n{} fixed: {}",
            paint.paint(&format!("{nfixed} pair(s)"), Change::Fixed),
            wrap_items(&fixed, paint.width, 14 + nfixed.to_string().len(), 2)
        );
    }
    let sum = run.counts;
    // Before the summary, which stays the last line.
    if sum.breaking > 0 {
        let line = format!(
            "{} of the {} newly breaking pairs break under every documented reading of the semantics switches{}",
            sum.breaking_under_every_reading,
            sum.breaking,
            if sum.breaking_under_every_reading < sum.breaking {
                "; the others only under some (see each group's certainty)"
            } else {
                ""
            }
        );
        let _ = writeln!(s, "\ncertainty: {}", wrap(&line, paint.width, 11));
    }
    let _ = writeln!(
        s,
        "{}summary: {} pairs: {} newly break, {} already broken, {} fixed, {} work ({} negotiate differently)",
        if sum.breaking > 0 { "" } else { "\n" },
        sum.pairs,
        sum.breaking,
        sum.already_broken,
        sum.fixed,
        sum.unchanged + sum.changed,
        sum.changed
    );
    out.put(s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_keys() {
        assert_eq!(key(0), "A");
        assert_eq!(key(25), "Z");
        assert_eq!(key(26), "AA");
        assert_eq!(key(27), "AB");
        assert_eq!(key(52), "BA");
    }

    #[test]
    fn items_wrap_between_items() {
        let items: Vec<String> = (0..30)
            .map(|i| format!("client-{i} -> server-{i}"))
            .collect();
        let text = format!("head: {}", wrap_items(&items, 60, 6, 4));
        for line in text.lines() {
            assert!(line.chars().count() <= 60, "{line}");
            assert!(!line.trim_start().starts_with("->"), "{line}");
        }
        assert_eq!(text.matches("->").count(), 30);
        assert!(text.ends_with("client-29 -> server-29"));
    }
}
