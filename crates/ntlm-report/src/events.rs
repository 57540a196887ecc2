//! The views of an audit of Windows event logs: the human section
//! ([`render_human`]), CSV ([`csv`]) and the HTML section of the audit
//! report ([`html_into`]) of the records [`ntlm_sim::events`] judges.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ntlm_sim::events::{EventRecord, EventSummary};
use ntlm_sim::outcome::{hex32, names};

use maud::html;

use crate::sink;
use ntlm_sim::audit::HUMAN_ROWS;

/// The human section on event logs (empty when no event log was read).
/// Text from the logs goes through [`sink::terminal`].
pub fn render_human(s: &EventSummary, records: &[EventRecord]) -> String {
    let mut out = String::new();
    if s.event_files.is_empty() {
        return out;
    }
    let t = |v: &str| sink::terminal(v).into_owned();
    let _ = writeln!(
        out,
        "\nEvent logs: {} file(s), {} record(s), {} NTLM event(s): {} would break, {} ok, {} unknown",
        s.event_files.len(),
        s.event_records,
        s.events,
        s.events_breaking,
        s.events_by_verdict.get("ok").copied().unwrap_or(0),
        s.events_by_verdict.get("unknown").copied().unwrap_or(0)
    );
    for (role, list) in [("Clients", &s.event_clients), ("Servers", &s.event_servers)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{role} (from events):");
        for h in list.iter().take(HUMAN_ROWS) {
            let map = |m: &BTreeMap<String, usize>| {
                m.iter()
                    .map(|(k, n)| format!("{} x{n}", t(k)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(
                out,
                "  {}: {} event(s), {} would break, {} unknown; users {}; NTLM {}; key {}; {} .. {}",
                t(&h.host),
                h.events,
                h.breaking,
                h.unknown,
                if h.users.is_empty() {
                    "-".to_owned()
                } else {
                    h.users.iter().map(|u| t(u)).collect::<Vec<_>>().join(", ")
                },
                if h.lm_packages.is_empty() {
                    "-".to_owned()
                } else {
                    map(&h.lm_packages)
                },
                if h.key_lengths.is_empty() {
                    "-".to_owned()
                } else {
                    map(&h.key_lengths)
                },
                h.first_seen.as_deref().map_or_else(|| "-".to_owned(), t),
                h.last_seen.as_deref().map_or_else(|| "-".to_owned(), t),
            );
            if let Some(b) = &h.breaks_because {
                let _ = writeln!(out, "    breaks: {}", t(b));
            }
        }
    }
    let mut shown: Vec<&EventRecord> = records.iter().collect();
    shown.sort_by_key(|r| (!r.breaks(), r.verdict != "unknown", r.index));
    if !shown.is_empty() {
        let _ = writeln!(out, "Events:");
    }
    for r in shown.iter().take(HUMAN_ROWS) {
        let _ = writeln!(
            out,
            "  #{} {} record {} event {} on {} {}: {} {} [{}] {}: {}",
            r.index,
            t(&r.file),
            r.record_id
                .map_or_else(|| "-".to_owned(), |n| n.to_string()),
            r.event_id,
            t(&r.server),
            r.time.as_deref().map_or_else(|| "-".to_owned(), t),
            r.client.as_deref().map_or_else(|| "-".to_owned(), t),
            r.user.as_deref().map_or_else(|| "-".to_owned(), t),
            r.lm_package.as_deref().map_or_else(|| "-".to_owned(), t),
            r.verdict,
            t(&r.reason)
        );
    }
    out
}

/// The events as CSV (header and one row per record), through [`sink::csv_row`].
pub fn csv(records: &[EventRecord]) -> String {
    let mut out = sink::csv_row([
        "file",
        "record_id",
        "event_id",
        "time",
        "computer",
        "kind",
        "client",
        "workstation",
        "ip",
        "user",
        "domain",
        "target",
        "lm_package",
        "key_length",
        "negotiated_security",
        "required_security",
        "verdict",
        "side",
        "stage",
        "missing",
        "missing_names",
        "rule",
        "reason",
    ]);
    for r in records {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let f = r.failure.as_ref();
        out.push_str(&sink::csv_row([
            r.file.clone(),
            r.record_id.map(|n| n.to_string()).unwrap_or_default(),
            r.event_id.to_string(),
            opt(&r.time),
            r.computer.clone(),
            r.kind.to_owned(),
            opt(&r.client),
            opt(&r.workstation),
            opt(&r.ip),
            opt(&r.user),
            opt(&r.domain),
            opt(&r.target),
            opt(&r.lm_package),
            r.key_length.map(|n| n.to_string()).unwrap_or_default(),
            opt(&r.negotiated_security),
            opt(&r.required_security),
            r.verdict.to_owned(),
            f.map(|f| f.side.name().to_owned()).unwrap_or_default(),
            f.map(|f| f.stage.name().to_owned()).unwrap_or_default(),
            f.map(|f| hex32(f.missing.bits())).unwrap_or_default(),
            f.map(|f| names(f.missing).join(" | ")).unwrap_or_default(),
            f.map(|f| format!("{} {}", f.rule.id, f.rule.source))
                .unwrap_or_default(),
            r.reason.clone(),
        ]));
    }
    out
}

/// The HTML section on event logs, inserted before `</main>` of the audit
/// report so that the event evidence stands beside the capture evidence.
pub fn html_into(page: String, s: &EventSummary, records: &[EventRecord]) -> String {
    if s.event_files.is_empty() {
        return page;
    }
    let map = |m: &BTreeMap<String, usize>| {
        m.iter()
            .map(|(k, n)| format!("{k} \u{d7}{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut shown: Vec<&EventRecord> = records.iter().collect();
    shown.sort_by_key(|r| (!r.breaks(), r.verdict != "unknown", r.index));
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let section = html! {
        section.card #events data-events=(s.events) data-events-breaking=(s.events_breaking) {
            h2 { "Event logs" }
            div.stats {
                div.stat { b { (s.events) } "NTLM events" }
                div.stat.nb { b { (s.events_breaking) } "would break" }
                div.stat.ok { b { (s.events_by_verdict.get("ok").copied().unwrap_or(0)) } "ok" }
                div.stat { b { (s.events_by_verdict.get("unknown").copied().unwrap_or(0)) } "unknown" }
                div.stat { b { (s.event_records) } "records read" }
            }
            @for (role, list) in [("Clients", &s.event_clients), ("Servers", &s.event_servers)] {
                h3 { (role) }
                table {
                    thead { tr {
                        th { "host" } th { "events" } th { "would break" } th { "unknown" }
                        th { "users" } th { "NTLM versions" } th { "key lengths" }
                        th { "first seen" } th { "last seen" } th { "why it breaks" }
                    } }
                    tbody {
                        @for x in list.iter().take(HUMAN_ROWS) {
                            tr class=(if x.breaking > 0 { "breaks" } else { "ok" }) {
                                td { (x.host) }
                                td { (x.events) }
                                td { (x.breaking) }
                                td { (x.unknown) }
                                td { (x.users.join(", ")) }
                                td { (map(&x.lm_packages)) }
                                td { (map(&x.key_lengths)) }
                                td { (dash(&x.first_seen)) }
                                td { (dash(&x.last_seen)) }
                                td { (x.breaks_because.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
            h3 { "Events" }
            table {
                thead { tr {
                    th { "#" } th { "file / record" } th { "event" } th { "time" } th { "server" }
                    th { "client" } th { "user" } th { "NTLM" } th { "key" } th { "masks" }
                    th { "verdict" } th { "evidence" }
                } }
                tbody {
                    @for r in shown.iter().take(HUMAN_ROWS * 5) {
                        tr class=(if r.breaks() { "breaks" } else { "ok" }) {
                            td { (r.index) }
                            td {
                                (r.file) " "
                                span.muted { (r.record_id.map_or_else(|| "-".to_owned(), |n| n.to_string())) }
                            }
                            td { (r.event_id) }
                            td { (dash(&r.time)) }
                            td { (r.server) }
                            td { (dash(&r.client)) }
                            td { (dash(&r.user)) }
                            td { (dash(&r.lm_package)) }
                            td { (r.key_length.map_or_else(|| "-".to_owned(), |k| k.to_string())) }
                            td {
                                @if let (Some(n), Some(q)) = (&r.negotiated_security, &r.required_security) {
                                    code { (n) } " / " code { (q) }
                                } @else {
                                    "-"
                                }
                            }
                            td.v { (r.verdict) br; span.muted { (r.reason) } }
                            td { ul {
                                @for e in &r.evidence {
                                    li {
                                        code { (e.field) } " = " (e.value) ": " (e.meaning) " "
                                        span.muted {
                                            "(" (e.basis)
                                            @if let Some(src) = e.source { "; " (src) }
                                            ")"
                                        }
                                    }
                                }
                            } }
                        }
                    }
                }
            }
        }
    };
    let h = section.into_string();
    match page.rfind("</main>") {
        Some(i) => {
            let mut p = page;
            p.insert_str(i, &h);
            p
        }
        None => page + &h,
    }
}
