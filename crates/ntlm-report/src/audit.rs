//! The views of an audit of captures (`ntlmsim audit`): a human summary
//! ([`render_human`]), CSV ([`csv`]) and a self-contained HTML report
//! ([`html()`]) of the records [`ntlm_sim::audit`] judges.

use std::fmt::Write as _;

use ntlm_sim::audit::{ExchangeRecord, HUMAN_ROWS, ProblemRecord, Summary, host};
use ntlm_sim::outcome::{hex32, names};
use ntlm_sim::profiles::AssumedFacts;

use crate::sink;
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// Most characters of a name (user, domain, file) in one cell of the human
/// table; the rest is cut with a note of its length ([`sink::terminal_bounded`]).
pub const HUMAN_NAME_CHARS: usize = 64;

/// Most characters of a file name or problem message on one human line.
const HUMAN_TEXT_CHARS: usize = 512;

fn who(r: &ExchangeRecord) -> String {
    match (&r.domain, &r.user) {
        (Some(d), Some(u)) => format!("{d}\\{u}"),
        (None, Some(u)) => u.clone(),
        _ => "-".to_owned(),
    }
}

/// Each assumed fact the verdicts of `records` rest on, once, with the
/// number of those exchanges whose verdict rests on it.
fn assumed_of(records: &[ExchangeRecord]) -> Vec<(AssumedFacts, usize)> {
    let mut out: Vec<(AssumedFacts, usize)> = Vec::new();
    for a in records.iter().flat_map(|r| &r.assumed) {
        match out.iter_mut().find(|(b, _)| b == a) {
            Some((_, n)) => *n += 1,
            None => out.push((a.clone(), 1)),
        }
    }
    out
}

/// The human report. `records` may be a subset (the table shows at most
/// [`HUMAN_ROWS`], breaking ones first); the counts come from `summary`.
pub fn render_human(
    summary: &Summary,
    records: &[ExchangeRecord],
    problems: &[ProblemRecord],
) -> String {
    let mut s = String::new();
    let packets: u64 = summary.files.iter().map(|f| f.packets).sum();
    let _ = writeln!(
        s,
        "Read {} file(s), {packets} packets: {} NTLM exchange(s) ({} complete, {} partial), {} problem(s)",
        summary.files.len(),
        summary.exchanges,
        summary.complete,
        summary.partial,
        summary.problems
    );
    let p = &summary.policy;
    let _ = writeln!(
        s,
        "Policy: NtlmMinClientSec {}, NtlmMinServerSec {}, client LmCompatibilityLevel {}, server LmCompatibilityLevel {}, semantics {}",
        p.client_min,
        p.server_min,
        p.client_lm_level
            .map_or_else(|| "as observed".to_owned(), |l| l.to_string()),
        p.server_lm_level
            .map_or_else(|| "not checked".to_owned(), |l| l.to_string()),
        p.semantics
    );
    for l in &p.restrict {
        let _ = writeln!(s, "  {l}");
    }
    if let Some(b) = &p.binding {
        let _ = writeln!(
            s,
            "Server settings: {b}; HTTP and LDAP judged as {}",
            if p.tls {
                "HTTPS and LDAPS (--tls)"
            } else {
                "without TLS (channel bindings not checked)"
            }
        );
    }
    let _ = writeln!(s);
    if !records.is_empty() {
        let _ = writeln!(s, "Exchanges:");
        let _ = writeln!(
            s,
            "  {:>4} {:<11} {:<22} {:<22} {:<24} {:<13} {:<10} {:<15} {:<18} verdict",
            "#", "carrier", "client", "server", "user", "response", "offered", "profile", "result"
        );
        let mut order: Vec<&ExchangeRecord> = records.iter().collect();
        order.sort_by_key(|r| (!r.breaks(), r.index));
        for r in order.iter().take(HUMAN_ROWS) {
            let _ = writeln!(
                s,
                "  {:>4} {:<11} {:<22} {:<22} {:<24} {:<13} {:<10} {:<15} {:<18} {}",
                r.index,
                r.carrier,
                sink::terminal_bounded(&r.client, HUMAN_NAME_CHARS),
                sink::terminal_bounded(&r.server, HUMAN_NAME_CHARS),
                sink::terminal_bounded(&who(r), HUMAN_NAME_CHARS),
                r.response_kind.unwrap_or("-"),
                r.offered_flags.as_deref().unwrap_or("-"),
                sink::terminal_bounded(&r.client_profile, HUMAN_NAME_CHARS),
                sink::terminal(r.observed_result.as_ref().map_or("-", |o| o.text.as_str())),
                sink::terminal(&r.verdict_text())
            );
        }
        let shown = order.len().min(HUMAN_ROWS);
        if summary.exchanges > shown {
            let _ = writeln!(
                s,
                "  ... {} more (all of them with --json or --csv)",
                summary.exchanges - shown
            );
        }
        let _ = writeln!(s);
    }
    // An input with no exchange (event logs only) gets no empty headings.
    if summary.exchanges > 0 {
        let _ = writeln!(s, "By verdict:");
        for (v, n) in &summary.by_verdict {
            let _ = writeln!(s, "  {v:<12} {n}");
        }
        if summary.breaking > 0 {
            let _ = writeln!(
                s,
                "  of the {} breaking, {} break under every documented reading of the semantics switches",
                summary.breaking, summary.breaking_under_every_reading
            );
        }
        for (title, rows) in [
            (
                "By client profile:",
                summary
                    .by_client_profile
                    .iter()
                    .map(|(k, c)| (k.clone(), *c))
                    .collect::<Vec<_>>(),
            ),
            (
                "By response kind:",
                summary
                    .by_response_kind
                    .iter()
                    .map(|(k, c)| ((*k).to_owned(), *c))
                    .collect(),
            ),
            (
                "By carrier:",
                summary
                    .by_carrier
                    .iter()
                    .map(|(k, c)| ((*k).to_owned(), *c))
                    .collect(),
            ),
        ] {
            let _ = writeln!(s, "{title}");
            for (k, c) in rows {
                let _ = writeln!(
                    s,
                    "  {:<20} {:>6} exchange(s), {} would break",
                    sink::terminal_bounded(&k, HUMAN_NAME_CHARS),
                    c.exchanges,
                    c.breaking
                );
            }
        }
    }
    let _ = writeln!(s);
    if summary.breaking_clients.is_empty() {
        let _ = writeln!(s, "No client would break under this policy.");
    } else {
        let _ = writeln!(s, "Clients that would break:");
        for c in &summary.breaking_clients {
            let _ = writeln!(
                s,
                "  {} ({}) {}: {} exchange(s); the {} refuses on receipt of {}, missing {} [{} {}]",
                sink::terminal_bounded(&c.host, HUMAN_NAME_CHARS),
                sink::terminal_bounded(&c.profile, HUMAN_NAME_CHARS),
                if c.users.is_empty() {
                    "-".to_owned()
                } else {
                    c.users
                        .iter()
                        .map(|u| sink::terminal_bounded(u, HUMAN_NAME_CHARS))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                c.exchanges,
                c.side,
                c.stage.to_uppercase(),
                if c.missing_names.is_empty() {
                    "nothing (response kind refused)".to_owned()
                } else {
                    c.missing_names.join(" | ")
                },
                c.rule_id,
                c.rule
            );
        }
    }
    let assumed = assumed_of(records);
    if !assumed.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "Assumed profile facts the verdicts of these client profiles rest on (no public source \
             confirms them):"
        );
        for (a, n) in &assumed {
            let _ = writeln!(
                s,
                "  {} as {} ({n} exchange(s)): {}",
                sink::terminal_bounded(&a.profile, HUMAN_NAME_CHARS),
                a.role,
                sink::terminal(&a.facts)
            );
        }
    }
    if !problems.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "Problems:");
        for p in problems {
            let file = sink::terminal_bounded(&p.file, HUMAN_TEXT_CHARS);
            let message = sink::terminal_bounded(&p.message, HUMAN_TEXT_CHARS);
            let _ = match p.packet {
                Some(n) => writeln!(s, "  {file}: packet {n}: {}: {message}", p.layer),
                None => writeln!(s, "  {file}: {}: {message}", p.layer),
            };
        }
    }
    s
}

/// The CSV columns, in order.
const CSV_COLUMNS: [&str; 28] = [
    "index",
    "file",
    "carrier",
    "client",
    "server",
    "first_packet",
    "last_packet",
    "first_time",
    "messages",
    "user",
    "domain",
    "workstation",
    "client_version",
    "offered_flags",
    "challenge_flags",
    "final_flags",
    "response_kind",
    "mic",
    "observed_result",
    "client_profile",
    "verdict",
    "side",
    "stage",
    "missing_flags",
    "missing_names",
    "rule",
    "certainty",
    "assumed",
];

/// The exchanges as CSV (RFC 4180), one row per exchange, every cell
/// through [`sink::csv_cell`]: control characters escaped (so one record is
/// one line) and formula cells (`=`, `+`, `-`, `@`) neutralised with a
/// leading `'`, per OWASP's CSV-injection guidance. Names are therefore not
/// byte-exact here; `--json` carries the exact decoded values.
pub fn csv(records: &[ExchangeRecord]) -> String {
    let mut s = sink::csv_row(CSV_COLUMNS);
    for r in records {
        let f = r.failure.as_ref();
        let row = [
            r.index.to_string(),
            r.file.clone(),
            r.carrier.to_owned(),
            r.client.clone(),
            r.server.clone(),
            r.first_packet.to_string(),
            r.last_packet.to_string(),
            r.first_time.clone(),
            r.messages.join(" "),
            r.user.clone().unwrap_or_default(),
            r.domain.clone().unwrap_or_default(),
            r.workstation.clone().unwrap_or_default(),
            r.client_version.clone().unwrap_or_default(),
            r.offered_flags.clone().unwrap_or_default(),
            r.challenge_flags.clone().unwrap_or_default(),
            r.final_flags.clone().unwrap_or_default(),
            r.response_kind.unwrap_or_default().to_owned(),
            r.mic.map(|m| m.to_string()).unwrap_or_default(),
            r.observed_result
                .as_ref()
                .map(|o| o.text.clone())
                .unwrap_or_default(),
            r.client_profile.clone(),
            r.verdict.to_owned(),
            f.map(|f| f.side.name().to_owned()).unwrap_or_default(),
            f.map(|f| f.stage.name().to_owned()).unwrap_or_default(),
            f.map(|f| hex32(f.missing.bits())).unwrap_or_default(),
            f.map(|f| names(f.missing).join("|")).unwrap_or_default(),
            f.map(|f| format!("{} ({})", f.rule.id, f.rule.source))
                .unwrap_or_default(),
            r.certainty.summary.clone(),
            r.assumed
                .iter()
                .map(|a| format!("{} as {}: {}", a.profile, a.role, a.facts))
                .collect::<Vec<_>>()
                .join("; "),
        ];
        s.push_str(&sink::csv_row(&row));
    }
    s
}

fn html_exchange_rows(rows: &[&ExchangeRecord]) -> Markup {
    html! {
        table {
            thead { tr {
                th { "#" } th { "file / packets" } th { "carrier" } th { "client" }
                th { "server" } th { "user" } th { "response" } th { "offered" } th { "final" }
                th { "result" } th { "verdict" }
            } }
            tbody {
                @for r in rows {
                    tr class=(if r.breaks() { "breaks" } else { "ok" }) {
                        td { (r.index) }
                        td { (r.file) " " span.muted { (r.first_packet) "-" (r.last_packet) } }
                        td { (r.carrier) }
                        td { (r.client) }
                        td { (r.server) }
                        td { (who(r)) }
                        td { (r.response_kind.unwrap_or("-")) }
                        td { code title=(r.offered_flags_names.names().join(" | ")) {
                            (r.offered_flags.as_deref().unwrap_or("-"))
                        } }
                        td { code title=(r.final_flags_names.names().join(" | ")) {
                            (r.final_flags.as_deref().unwrap_or("-"))
                        } }
                        td { (r.observed_result.as_ref().map_or("-", |o| o.text.as_str())) }
                        td.v {
                            @if let Some(f) = &r.failure {
                                "breaks: " (f.summary().to_string()) br;
                                span.muted { (f.reason().to_string()) }
                            } @else {
                                "ok"
                            }
                            @if !r.certainty.holds_under_every_reading {
                                br; span.muted { (r.certainty.summary) }
                            }
                            @for a in &r.assumed {
                                br; span.muted title=(a.facts) {
                                    "assumed: " (a.profile) " as " (a.role)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The self-contained HTML report: the counts, the clients that would
/// break (each with its exchanges and missing bits), then every exchange
/// and the problems. No script, no external resource; all text escaped.
pub fn html(summary: &Summary, records: &[ExchangeRecord], problems: &[ProblemRecord]) -> String {
    let p = &summary.policy;
    // What to do about the exchanges that would break.
    let mut actions = crate::actions::Actions::new();
    for r in records {
        if let Some(f) = &r.failure {
            actions.add(
                (r.client_host(), r.client_profile.as_str()),
                (host(&r.server), ""),
                f,
            );
            if r.user.is_some() {
                actions.add_user(f, who(r));
            }
        }
    }
    actions.set_hosts(
        records
            .iter()
            .filter(|r| r.client_policy_applies)
            .map(ExchangeRecord::client_host)
            .collect(),
        records.iter().map(|r| host(&r.server)).collect(),
    );
    let value = |v: &str| u32::from_str_radix(v.trim_start_matches("0x"), 16).ok();
    let mut what_to_do = String::new();
    actions.html(
        "exchange",
        crate::actions::Configured {
            client_min: value(&p.client_min),
            server_min: value(&p.server_min),
            clients_changed: value(&p.client_min).is_some_and(|v| v != 0)
                || p.client_lm_level.is_some(),
            servers_changed: value(&p.server_min).is_some_and(|v| v != 0)
                || p.server_lm_level.is_some(),
        },
        &[],
        &mut what_to_do,
    );
    let assumed = assumed_of(records);
    let mut all: Vec<&ExchangeRecord> = records.iter().collect();
    all.sort_by_key(|r| (!r.breaks(), r.index));
    let page = html! {
        (DOCTYPE) "\n"
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "NTLM capture audit" } "\n"
                style { (PreEscaped(crate::assets::CSS)) }
            } "\n"
            body data-exchanges=(summary.exchanges) data-breaking=(summary.breaking) {
                header {
                    h1 { "NTLM capture audit" }
                    p {
                        "NtlmMinClientSec " (p.client_min)
                        " \u{b7} NtlmMinServerSec " (p.server_min)
                        " \u{b7} client LmCompatibilityLevel "
                        (p.client_lm_level.map_or_else(|| "as observed".to_owned(), |l| l.to_string()))
                        " \u{b7} server LmCompatibilityLevel "
                        (p.server_lm_level.map_or_else(|| "not checked".to_owned(), |l| l.to_string()))
                        " \u{b7} semantics " (p.semantics)
                    }
                }
                main {
                    @if !p.restrict.is_empty() {
                        p { (p.restrict.join(" \u{b7} ")) }
                    }
                    @if let Some(b) = &p.binding {
                        p.binding {
                            "Server settings: " (b) " \u{b7} HTTP and LDAP judged "
                            (if p.tls { "as over TLS" } else { "without TLS" })
                        }
                    }
                    section.card { div.stats {
                        div.stat { b { (summary.exchanges) } "exchanges" }
                        div.stat.nb { b { (summary.breaking) } "would break" }
                        div.stat.ok { b { (summary.exchanges - summary.breaking) } "unaffected" }
                        div.stat { b { (summary.partial) } "partial" }
                        div.stat { b { (summary.problems) } "problems" }
                    } }
                    (PreEscaped(what_to_do))
                    section.card {
                        h2 { "Clients that would break" }
                        @if summary.breaking_clients.is_empty() {
                            p { "No client would break under this policy." }
                        }
                        @for c in &summary.breaking_clients {
                            details.client open {
                                summary {
                                    (c.host) " " span.muted { "(" (c.profile) ")" }
                                    " \u{2014} " (c.exchanges) " exchange(s); the " (c.side)
                                    " refuses on receipt of " (c.stage.to_uppercase())
                                    "; missing " code { (c.missing) } " " (c.missing_names.join(" | "))
                                }
                                p.muted {
                                    "users: " (c.users.join(", ")) " \u{b7} rule " (c.rule_id)
                                    " (" (c.rule) ")"
                                }
                                (html_exchange_rows(&c
                                    .indexes
                                    .iter()
                                    .filter_map(|&i| records.iter().find(|r| r.index == i))
                                    .take(HUMAN_ROWS)
                                    .collect::<Vec<_>>()))
                            }
                        }
                    }
                    section.card {
                        h2 { "By client profile" }
                        table {
                            thead { tr { th { "profile" } th { "exchanges" } th { "would break" } } }
                            tbody {
                                @for (k, c) in &summary.by_client_profile {
                                    tr { td { (k) } td { (c.exchanges) } td { (c.breaking) } }
                                }
                            }
                        }
                        h2 style="margin-top:14px" { "By response kind" }
                        table { tbody {
                            @for (k, c) in &summary.by_response_kind {
                                tr { td { (k) } td { (c.exchanges) } td { (c.breaking) " would break" } }
                            }
                        } }
                    }
                    @if !assumed.is_empty() {
                        section.card {
                            h2 { "Assumed profile facts" }
                            p.muted {
                                "No public source confirms these facts of the client profiles; \
                                 the verdicts of the exchanges counted rest on them."
                            }
                            table {
                                thead { tr { th { "profile" } th { "exchanges" } th { "assumed" } } }
                                tbody {
                                    @for (a, n) in &assumed {
                                        tr { td { (a.profile) " as " (a.role) } td { (n) } td { (a.facts) } }
                                    }
                                }
                            }
                        }
                    }
                    section.card {
                        h2 { "All exchanges" }
                        (html_exchange_rows(&all))
                    }
                    @if !problems.is_empty() {
                        section.card {
                            h2 { "Problems" }
                            table {
                                thead { tr { th { "file" } th { "packet" } th { "layer" } th { "what" } } }
                                tbody {
                                    @for p in problems {
                                        tr {
                                            td { (p.file) }
                                            td { (p.packet.map_or_else(|| "-".to_owned(), |n| n.to_string())) }
                                            td { (p.layer) }
                                            td { (p.message) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        } "\n"
    };
    page.into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    use ntlm_policy::{MinSessionSecurity, Semantics};
    use ntlm_sim::audit::{Policy, failure_json};
    use ntlm_sim::fixtures::audit::records;

    use ntlm_testsupport::synth::{self, Messages, Spec};

    fn curl() -> Messages {
        Messages::new(&Spec {
            negotiate_flags: synth::CURL_FLAGS,
            challenge_flags: 0x0089_8205,
            authenticate_flags: 0x0088_8205,
            mic: false,
            ..Spec::default()
        })
    }

    /// One exchange per hostile name (as user, domain and workstation), all
    /// breaking under 128-bit, plus a problem from a hostile file name.
    fn hostile_records() -> (Summary, Vec<ExchangeRecord>, Vec<ProblemRecord>) {
        // The strict reading: curl's flags lack NEGOTIATE_128.
        let policy = Policy {
            server_min: MinSessionSecurity::from_registry(0x2000_0000),
            semantics: Semantics::MS_NLMP,
            ..Policy::default()
        };
        let names = ntlm_testsupport::hostile_names();
        let mut cap = synth::Conversation::new("192.0.2.7:40000", "192.0.2.80:80");
        cap.handshake();
        for name in &names {
            // A name field holds at most 64 KiB: the longest name only as
            // the user.
            let other = if name.len() > 1024 {
                "D"
            } else {
                name.as_str()
            };
            let m = Messages::new(&Spec {
                negotiate_flags: synth::CURL_FLAGS,
                challenge_flags: 0x0089_8205,
                authenticate_flags: 0x0088_8205,
                mic: false,
                user: name.clone(),
                domain: other.to_owned(),
                workstation: other.to_owned(),
                ..Spec::default()
            });
            cap.http_exchange(&m, 401);
        }
        cap.close();
        let bytes = synth::capture(synth::Format::PcapNg { big_endian: false }, &cap.frames);
        let (recs, mut problems) = records(&bytes, policy.clone());
        assert_eq!(recs.len(), names.len(), "{problems:?}");
        for (r, name) in recs.iter().zip(&names) {
            let short: String = name.chars().take(16).collect();
            assert_eq!(
                r.user.as_deref(),
                Some(name.as_str()),
                "{short:?}: {problems:?}"
            );
        }
        problems.push(ProblemRecord {
            file: "evil\n\u{1b}[2J.pcap".to_owned(),
            packet: Some(1),
            layer: "capture",
            message: "forged\nProblems:\u{202e}".to_owned(),
        });
        let summary = Summary::new(&policy, Vec::new(), &recs, problems.len());
        (summary, recs, problems)
    }

    #[test]
    fn hostile_names_stay_on_their_table_row() {
        let (summary, recs, problems) = hostile_records();
        let human = render_human(&summary, &recs, &problems);
        for line in human.lines() {
            assert!(sink::line_safe(line), "{line:?}");
            assert!(line.chars().count() < 4 * 1024, "an unbounded line");
        }
        let rows = human
            .lines()
            .filter(|l| l.trim_end().ends_with(']') && l.contains("BREAKS:"))
            .count();
        assert_eq!(rows, recs.len(), "one table row per exchange");
        assert!(human.contains("x\\nAF TESTDOM\\administrator"), "{human}");
        assert!(human.contains("admin\\u{202e}nimda"));
        assert!(human.contains("\u{2026}(+"), "the long name is cut");
        assert!(human.contains(
            "  evil\\n\\u{1b}[2J.pcap: packet 1: capture: forged\\nProblems:\\u{202e}\n"
        ));
    }

    /// The cells of one CSV line (RFC 4180, no line break inside a cell).
    fn csv_cells(line: &str) -> Vec<String> {
        let (mut cells, mut cell, mut quoted, mut chars) =
            (Vec::new(), String::new(), false, line.chars().peekable());
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                }
                ('"', _) => quoted = !quoted,
                (',', false) => cells.push(std::mem::take(&mut cell)),
                (c, _) => cell.push(c),
            }
        }
        assert!(!quoted, "unbalanced quotes: {line:?}");
        cells.push(cell);
        cells
    }

    #[test]
    fn hostile_names_in_csv_are_one_record_each_and_never_formulas() {
        let (_, recs, _) = hostile_records();
        let c = csv(&recs);
        assert!(c.ends_with("\r\n"));
        let lines: Vec<&str> = c.split_terminator("\r\n").collect();
        assert_eq!(
            lines.len(),
            recs.len() + 1,
            "a header and one record per exchange"
        );
        for line in &lines {
            assert!(sink::line_safe(line), "{line:?}");
            let cells = csv_cells(line);
            assert_eq!(cells.len(), CSV_COLUMNS.len(), "{line:?}");
            for cell in cells {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@']),
                    "formula cell {cell:?}"
                );
            }
        }
        let user = CSV_COLUMNS.iter().position(|c| *c == "user").unwrap();
        let cells: Vec<Vec<String>> = lines.iter().skip(1).map(|l| csv_cells(l)).collect();
        let users: Vec<&str> = cells.iter().map(|c| c[user].as_str()).collect();
        assert!(
            users.contains(&"'=HYPERLINK(\"http://evil.example/\",\"click\")"),
            "{users:?}"
        );
        assert!(users.contains(&"'+cmd|' /C calc'!A0"));
        assert!(users.contains(&"'@SUM(1+1)"));
        assert!(users.contains(&"'-2+3"));
        assert!(users.contains(&"x\\nAF TESTDOM\\administrator"));
    }

    #[test]
    fn hostile_names_in_html_are_escaped() {
        let (summary, recs, problems) = hostile_records();
        let page = html(&summary, &recs, &problems);
        assert!(!page.contains("<script"), "no script element");
        assert!(!page.contains("<img"));
        assert!(page.contains("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
        assert!(page.contains("'single' &amp; &lt;b&gt;"));
        // Every attribute value is closed where the markup closes it: no
        // quote from a name opens a new attribute.
        assert!(!page.contains("\" onerror="));
        // The users reach the What to do section's lists, escaped: no name
        // closes its text box early.
        assert!(page.contains("users to inform"));
        assert_eq!(
            page.matches("<textarea").count(),
            page.matches("</textarea>").count()
        );
    }

    #[test]
    fn a_partial_exchange_says_so() {
        let m = Messages::sample();
        let mut cap = synth::Conversation::new("192.0.2.7:40000", "192.0.2.80:80");
        cap.handshake();
        {
            use base64::Engine as _;
            let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
            cap.client_send(
                format!(
                    "GET / HTTP/1.1\r\nHost: server\r\nAuthorization: NTLM {}\r\n\r\n",
                    b64(&m.negotiate)
                )
                .as_bytes(),
            );
            cap.server_send(
                format!(
                    "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM {}\r\nContent-Length: 0\r\n\r\n",
                    b64(&m.challenge)
                )
                .as_bytes(),
            );
        }
        cap.close();
        let bytes = synth::capture(synth::Format::PcapNg { big_endian: false }, &cap.frames);
        let policy = Policy::default();
        let (recs, _) = records(&bytes, policy.clone());
        assert_eq!(recs.len(), 1);
        let r = &recs[0];
        assert!(r.partial && !r.complete);
        assert_eq!(r.missing_messages, ["AUTHENTICATE"]);
        assert_eq!(r.verdict_text(), "ok (partial: no AUTHENTICATE captured)");
        let j = serde_json::to_value(r).unwrap();
        assert_eq!(j["partial"], true);
        assert_eq!(j["missing_messages"][0], "AUTHENTICATE");
        assert_eq!(j["complete"], false);
        let summary = Summary::new(&policy, Vec::new(), &recs, 0);
        let human = render_human(&summary, &recs, &[]);
        assert!(
            human.contains("(partial: no AUTHENTICATE captured)"),
            "{human}"
        );
        // A complete exchange is not partial.
        let (recs, _) = records(&synth::http_exchange_pcap(&m, 200), policy);
        assert!(!recs[0].partial && recs[0].missing_messages.is_empty());
        assert_eq!(recs[0].verdict_text(), "ok");
    }

    #[test]
    fn renderings_carry_the_verdicts() {
        let policy = Policy {
            server_min: MinSessionSecurity::from_registry(0x2000_0000),
            semantics: Semantics::MS_NLMP,
            ..Policy::default()
        };
        let mut cap = synth::Conversation::new("192.0.2.7:40000", "192.0.2.80:80");
        cap.handshake();
        cap.http_exchange(&curl(), 401);
        cap.http_exchange(&Messages::sample(), 200);
        cap.close();
        let bytes = synth::capture(synth::Format::PcapNg { big_endian: false }, &cap.frames);
        let (recs, problems) = records(&bytes, policy.clone());
        assert_eq!(recs.len(), 2);
        let summary = Summary::new(&policy, Vec::new(), &recs, problems.len());
        assert_eq!(summary.breaking, 1);
        assert_eq!(summary.breaking_clients[0].host, "192.0.2.7");
        assert_eq!(summary.breaking_clients[0].users, vec!["EXAMPLE\\alice"]);
        let human = render_human(&summary, &recs, &problems);
        assert!(human.contains("Clients that would break:"), "{human}");
        assert!(human.contains("192.0.2.7 (curl-7.88)"), "{human}");
        let c = csv(&recs);
        assert_eq!(c.lines().count(), 3);
        assert!(
            c.contains(",breaks,server,negotiate,0x20000000,NEGOTIATE_128,"),
            "{c}"
        );
        let page = html(&summary, &recs, &problems);
        assert!(page.contains("data-breaking=\"1\""));
        assert!(page.find("Clients that would break") < page.find("All exchanges"));
        let j = serde_json::to_value(&recs[0]).unwrap();
        assert_eq!(j["offered_flags"], "0x00088206");
        assert_eq!(j["outcome"]["result"], "failure");
        assert_eq!(j["outcome"]["missing_names"][0], "NEGOTIATE_128");
        assert!(failure_json(&recs[0]).is_some() && failure_json(&recs[1]).is_none());
    }
}
