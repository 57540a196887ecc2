//! The HTML report of a policy-impact matrix (`ntlmsim interop --html FILE`).
//!
//! One self-contained file: inline CSS and JavaScript, no network fetches.
//! It shows the client × server grid coloured by how each pair's outcome
//! moved ([`Change`]), details of a cell on hover (its `title`) and on
//! click or Enter (a details panel), the policy, the semantics switches and
//! the sources of every profile involved. All text is escaped; the pairs'
//! data is embedded as JSON with `<`, `>` and `&` escaped so that it cannot
//! close its `<script>` element.
//!
//! Above the grid, a "What to do" section ([`crate::actions`]) groups the
//! newly broken pairs by cause, with the hosts to change, the hosts that
//! refuse and the relaxed value simulated; the script gives each cause a
//! button that shows only its pairs in the grid.
//!
//! When its script has run, the page sets `data-failing-cells` (the number
//! of cells whose pair fails after the change) and `data-ready="1"` on
//! `<body>`, and `data-cells` (the grid cells it found) on each cause; an
//! uncaught script error sets `data-script-error`.

use std::fmt::Write as _;

use maud::{DOCTYPE, Markup, PreEscaped, html};
use ntlm_policy::Semantics;
use serde::Serialize;

use ntlm_sim::interop::HostInfo;

use crate::actions::{Actions, Configured, Relaxed};
use ntlm_sim::matrix::{Change, Options, PairRef, PairSet, Verdict, pairs_of};
use ntlm_sim::outcome::{OutcomeJson, hex32, names};
use ntlm_sim::profiles::{AssumedFacts, Profile, assumed_facts};

/// Above this many grid cells the report lists pairs instead of drawing a grid.
pub const MAX_GRID_CELLS: usize = 10_000;

/// Everything the report shows.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    /// The page title.
    pub title: String,
    /// One line saying what changed.
    pub summary: String,
    /// The pairs (a slice of [`ntlm_sim::matrix::PairResult`]s, or a compact
    /// [`ntlm_sim::matrix::Matrix`]).
    pub results: &'a dyn PairSet,
    /// Row order (clients).
    pub clients: Vec<String>,
    /// Column order (servers).
    pub servers: Vec<String>,
    /// The policy, as label/value rows.
    pub policy: Vec<(String, String)>,
    /// Semantics, application requests and engine.
    pub options: Options,
    /// The profiles involved, for their sources.
    pub profiles: Vec<&'a Profile>,
    /// Fleet hosts (empty for a catalog matrix).
    pub hosts: Vec<HostInfo>,
    /// Whether each distinct outcome's after verdict holds under every
    /// documented reading of the semantics switches (the one-line account
    /// of [`ntlm_policy::Certainty::summary`] and whether it holds), by the
    /// outcome's [`PairSet::outcome_key`]; empty when not computed.
    pub certainties: Vec<Option<(String, bool)>>,
    /// The changed NtlmMinClientSec/NtlmMinServerSec values, from which the
    /// "What to do" section computes relaxed values.
    pub configured: Configured,
    /// Relaxed values simulated on the pairs of their cause.
    pub relaxed: Vec<Relaxed>,
    /// Clients and servers the change does not reach for a value it sets on
    /// them (their profile does not read it): never listed as hosts where
    /// the change breaks nothing.
    pub not_reached: Vec<String>,
}

/// JSON made safe inside `<script>`: `<`, `>`, `&` and the JavaScript line
/// separators as `\u` escapes (still the same JSON value).
fn script_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The semantics switches: (switch, value, source of the rule it selects),
/// in [`Semantics::SWITCHES`] order.
pub fn switches(s: &Semantics) -> Vec<(&'static str, &'static str, String)> {
    Semantics::SWITCHES
        .iter()
        .zip(s.rules())
        .map(|(sw, rule)| {
            (
                sw.name,
                sw.value_in(s),
                format!("{} ({})", rule.id, rule.source),
            )
        })
        .collect()
}

/// The number of pairs that fail after the change (the failing cells).
pub fn failing_cells(results: &dyn PairSet) -> usize {
    pairs_of(results).filter(|r| r.after.is_err()).count()
}

const fn class(c: Change) -> &'static str {
    match c {
        Change::Unchanged => "ok",
        Change::Changed => "ch",
        Change::NewlyBroken => "nb",
        Change::AlreadyBroken => "ab",
        Change::Fixed => "fx",
    }
}

const fn label(c: Change) -> &'static str {
    match c {
        Change::Unchanged => "ok",
        Change::Changed => "still ok",
        Change::NewlyBroken => "newly broken",
        Change::AlreadyBroken => "already broken",
        Change::Fixed => "fixed",
    }
}

fn cell_text(r: &PairRef<'_>) -> String {
    match (r.after, r.change()) {
        (Err(f), _) => f.short('\u{b7}').to_string(),
        (Ok(_), Change::Changed) => "ok*".to_owned(),
        (Ok(_), Change::Fixed) => "fixed".to_owned(),
        (Ok(_), _) => "ok".to_owned(),
    }
}

fn verdict_lines(v: &Verdict) -> String {
    match v {
        Ok(r) => format!(
            "works: {} {}, {}-bit, signing {}, sealing {}",
            hex32(r.flags.bits()),
            r.response_kind.as_str(),
            r.key_strength_bits(),
            if r.signing() { "yes" } else { "no" },
            if r.sealing() { "yes" } else { "no" },
        ),
        Err(f) => {
            let mut s = f.refusal().to_string();
            if !f.missing.is_empty() {
                let _ = write!(
                    s,
                    "\nmissing: {} {}",
                    hex32(f.missing.bits()),
                    names(f.missing).join(" | ")
                );
            }
            let _ = write!(s, "\nrule: {} ({})", f.rule.id, f.rule.source);
            s
        }
    }
}

fn tooltip(
    r: &PairRef<'_>,
    certainty: Option<&(String, bool)>,
    assumed: &[AssumedFacts],
) -> String {
    let c = r.change();
    let mut s = format!("{} \u{2192} {}: {}", r.client, r.server, label(c));
    match c {
        Change::Unchanged | Change::AlreadyBroken => {
            let _ = write!(s, "\n{}", verdict_lines(r.after));
        }
        _ => {
            let _ = write!(
                s,
                "\nbefore: {}\nafter: {}",
                verdict_lines(r.before),
                verdict_lines(r.after)
            );
        }
    }
    if let Some((text, false)) = certainty {
        let _ = write!(s, "\ncertainty: {text}");
    }
    if !assumed.is_empty() {
        let names: Vec<String> = assumed
            .iter()
            .map(|a| format!("{} as {}", a.profile, a.role))
            .collect();
        let _ = write!(s, "\nassumed: {} (click for the facts)", names.join(", "));
    }
    s
}

#[derive(Serialize)]
struct OutcomeCellJson {
    change: &'static str,
    label: &'static str,
    before: OutcomeJson,
    after: OutcomeJson,
    /// The after verdict's certainty, when known.
    certainty: Option<String>,
    /// What is assumed of the pair's profiles in their roles.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    assumed: Vec<AssumedFacts>,
}

fn outcome(v: &Verdict) -> OutcomeJson {
    match v {
        Ok(r) => OutcomeJson::success(r, None),
        Err(f) => OutcomeJson::failure(f),
    }
}

/// Renders the report.
pub fn html(r: &Report<'_>) -> String {
    let counts = |c: Change| pairs_of(r.results).filter(|p| p.change() == c).count();
    let failing = failing_cells(r.results);

    // What to do about the pairs the change breaks.
    let mut actions = Actions::new();
    for p in pairs_of(r.results) {
        if let (Change::NewlyBroken, Err(f)) = (p.change(), p.after) {
            actions.add(
                (p.client, p.client_profile),
                (p.server, p.server_profile),
                f,
            );
        }
    }
    let reached = |h: &&String| !r.not_reached.contains(h);
    actions.set_hosts(
        r.clients
            .iter()
            .filter(reached)
            .map(String::as_str)
            .collect(),
        r.servers
            .iter()
            .filter(reached)
            .map(String::as_str)
            .collect(),
    );
    let mut what_to_do = String::new();
    actions.html("pair", r.configured, &r.relaxed, &mut what_to_do);

    let app = match (r.options.app.sign, r.options.app.seal) {
        (false, false) => "no signing or sealing requested",
        (true, false) => "signing (integrity) requested",
        (false, true) => "sealing (confidentiality) requested",
        (true, true) => "signing and sealing requested",
    };
    let or_nothing = |t: String| {
        if t.is_empty() {
            "(nothing)".to_owned()
        } else {
            t
        }
    };
    let page = html! {
        (DOCTYPE) "\n"
        html lang="en" {
            "\n"
            head {
                "\n" meta charset="utf-8"; "\n"
                meta name="viewport" content="width=device-width, initial-scale=1"; "\n"
                title { (r.title) } "\n"
                style { (PreEscaped(crate::assets::CSS)) } "\n"
                script { (PreEscaped(ERROR_HOOK)) } "\n"
            } "\n"
            body data-pairs=(r.results.pair_count()) data-expected-failing=(failing) {
                "\n"
                header { h1 { (r.title) } p { (r.summary) } } "\n"
                main {
                    "\n"
                    section.card { div.stats {
                        div.stat { b { (r.results.pair_count()) } "pairs" }
                        @for c in [
                            Change::NewlyBroken,
                            Change::AlreadyBroken,
                            Change::Fixed,
                            Change::Changed,
                            Change::Unchanged,
                        ] {
                            div class={ "stat " (class(c)) } { b { (counts(c)) } (label(c)) }
                        }
                    } } "\n"
                    (PreEscaped(what_to_do))
                    // Grid (or list) and details panel.
                    section.card {
                        h2 { "Client \u{d7} server" } "\n"
                        div.legend {
                            @for c in [
                                Change::Unchanged,
                                Change::Changed,
                                Change::NewlyBroken,
                                Change::AlreadyBroken,
                                Change::Fixed,
                            ] {
                                span { span.sw style={ "background:var(--" (class(c)) ")" } {} (label(c)) }
                            }
                            span { span.sw style="background:#e7e9ec" {} "not paired" }
                            span.muted {
                                "S/C: server/client refuses; neg/chal/auth: on receipt of \
                                 NEGOTIATE/CHALLENGE/AUTHENTICATE; hover or click a cell for details"
                            }
                        } "\n"
                        div.two {
                            div.gridwrap {
                                @if r.clients.len().saturating_mul(r.servers.len()) <= MAX_GRID_CELLS {
                                    (grid(r))
                                } @else {
                                    (list(r))
                                }
                            }
                            aside #details .details {
                                p.hint {
                                    "Click a cell to see who refuses, on receipt of which message, \
                                     with which status, the missing flags and the rule."
                                }
                            }
                        }
                    } "\n"
                    // Policy and semantics.
                    section.card {
                        h2 { "Policy" }
                        table.kv {
                            @for (k, v) in &r.policy {
                                tr { th { (k) } td { (v) } }
                            }
                            tr { th { "application" } td { (app) } }
                            tr { th { "engine" } td { (r.options.engine.name()) } }
                        } "\n"
                        h2 style="margin-top:14px" { "Semantics: " code { (r.options.semantics.name()) } }
                        table.kv {
                            tr { th { "switch" } th { "value" } th { "rule selected (source)" } }
                            @for (name, value, rule) in switches(&r.options.semantics) {
                                tr { td { code { (name) } } td { code { (value) } } td { (rule) } }
                            }
                        }
                    } "\n"
                    @if !r.hosts.is_empty() {
                        section.card {
                            h2 { "Hosts" }
                            table.kv {
                                tr { th { "host" } th { "profile" } th { "registry values" } th { "description" } }
                                @for host in &r.hosts {
                                    tr {
                                        td { (host.name) }
                                        td { code { (host.profile) } }
                                        td {
                                            (if host.settings.is_empty() { "profile defaults" } else { &host.settings })
                                        }
                                        td { (host.description.as_deref().unwrap_or("")) }
                                    }
                                }
                            }
                        } "\n"
                    }
                    // Sources.
                    section.card {
                        h2 { "Profiles and their sources" }
                        @for p in &r.profiles {
                            details.prof {
                                summary { code { (p.name) } " \u{2014} " (p.description) }
                                ul { @for s in &p.sources { li { (s) } } }
                                div { b { "observed:" } " " (or_nothing(p.observed.clone())) }
                                div { b { "assumed:" } " " (or_nothing(p.assumed_all())) }
                                div.muted {
                                    "reads: "
                                    @let n = p.honours.names();
                                    @if n.is_empty() { "no Windows registry value" } @else { (n.join(", ")) }
                                }
                            }
                        }
                    } "\n"
                } "\n"
                footer {
                    "ntlmsim " (env!("CARGO_PKG_VERSION")) " \u{b7} the simulator's verdicts follow \
                     the rules and sources shown; points marked inferred or unconfirmed are choices \
                     of the semantics above."
                } "\n"
                script #pairs type="application/json" { (PreEscaped(script_json(&pairs_json(r)))) } "\n"
                script { (PreEscaped(crate::assets::SCRIPT)) } "\n"
            } "\n"
        } "\n"
    };
    page.into_string()
}

/// Reports a script error on `<body>` (`data-script-error`), for the tests
/// that render the page.
const ERROR_HOOK: &str = "window.addEventListener('error', function (e) { document.body && \
    document.body.setAttribute('data-script-error', String(e.message || e)); });";

/// The page's data: each distinct outcome once, and per pair its names and
/// the index of its outcome, `[client, server, client_profile,
/// server_profile, outcome]`.
fn pairs_json(r: &Report<'_>) -> String {
    let mut index: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    let mut outcomes: Vec<OutcomeCellJson> = Vec::new();
    let mut pairs = String::from("[");
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned());
    for i in 0..r.results.pair_count() {
        let Some(p) = r.results.pair(i) else {
            continue;
        };
        let o = *index.entry(r.results.outcome_key(i)).or_insert_with(|| {
            let c = p.change();
            outcomes.push(OutcomeCellJson {
                change: c.name(),
                label: label(c),
                before: outcome(p.before),
                after: outcome(p.after),
                certainty: certainty(r, i).map(|(text, _)| text.clone()),
                assumed: assumed_of(r, &p),
            });
            outcomes.len() - 1
        });
        if pairs.len() > 1 {
            pairs.push(',');
        }
        let _ = write!(
            pairs,
            "[{},{},{},{},{o}]",
            quoted(p.client),
            quoted(p.server),
            quoted(p.client_profile),
            quoted(p.server_profile)
        );
    }
    pairs.push(']');
    format!(
        "{{\"outcomes\":{},\"pairs\":{pairs}}}",
        serde_json::to_string(&outcomes).unwrap_or_else(|_| "[]".to_owned())
    )
}

/// The certainty of pair `i`'s after verdict, when known.
fn certainty<'r>(r: &'r Report<'_>, i: usize) -> Option<&'r (String, bool)> {
    r.certainties
        .get(r.results.outcome_key(i))
        .and_then(Option::as_ref)
}

/// What the verdict of pair `p` rests on of its profiles
/// ([`assumed_facts`]), the profiles looked up among the report's.
fn assumed_of(r: &Report<'_>, p: &PairRef<'_>) -> Vec<AssumedFacts> {
    let find = |name: &str| r.profiles.iter().copied().find(|q| q.name == name);
    assumed_facts(find(p.client_profile), find(p.server_profile))
}

fn cell(i: usize, col: usize, p: &PairRef<'_>, r: &Report<'_>) -> Markup {
    let cls = class(p.change());
    html! {
        td class={ "cell " (cls) } data-class=(cls) data-i=(i) data-col=(col) tabindex="0"
            title=(tooltip(p, certainty(r, i), &assumed_of(r, p))) { (cell_text(p)) }
    }
}

fn grid(r: &Report<'_>) -> Markup {
    // Index the results by (client, server) once.
    let mut at: std::collections::HashMap<(&str, &str), usize> =
        std::collections::HashMap::with_capacity(r.results.pair_count());
    for (i, p) in pairs_of(r.results).enumerate() {
        at.entry((p.client, p.server)).or_insert(i);
    }
    html! {
        table.grid {
            thead { tr {
                th.corner { "client \\ server" }
                @for (col, s) in r.servers.iter().enumerate() {
                    th.sv data-col=(col) title=(s) { span { (s) } }
                }
            } }
            tbody {
                @for c in &r.clients {
                    tr {
                        th.cl { (c) }
                        @for (col, s) in r.servers.iter().enumerate() {
                            @match at
                                .get(&(c.as_str(), s.as_str()))
                                .and_then(|&i| r.results.pair(i).map(|p| (i, p)))
                            {
                                Some((i, p)) => (cell(i, col, &p, r)),
                                None => td.na title="not paired" {},
                            }
                        }
                    }
                }
            }
        }
    }
}

fn list(r: &Report<'_>) -> Markup {
    html! {
        table.grid {
            thead { tr { th.corner { "client" } th { "server" } th { "outcome" } } }
            tbody {
                @for (i, p) in pairs_of(r.results).enumerate() {
                    tr { th.cl { (p.client) } th { (p.server) } (cell(i, 0, &p, r)) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ntlm_policy::MinSessionSecurity;
    use ntlm_sim::matrix::{self, Application, Policy};
    use ntlm_sim::profiles::Catalog;

    #[test]
    fn escapes_script_data() {
        let j = script_json("{\"a\":\"</script><!--&\"}");
        assert!(!j.contains('<') && !j.contains('>') && !j.contains('&'));
        let back: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(back["a"], "</script><!--&");
    }

    #[test]
    fn hostile_names_are_escaped_everywhere() {
        let text = r#"
[[profile]]
name = "<script>alert(1)</script>"
role = "both"
description = "\"><img src=x onerror=alert(2)>"
lm_level = 3
sources = ["</script><script>alert(3)</script>"]
observed = "&lt;"
[profile.client]
[profile.server]
"#;
        let mut cat = Catalog::builtin().unwrap();
        cat.merge(Catalog::from_user_toml(text, "evil.toml").unwrap());
        let evil = cat.get("<script>alert(1)</script>").unwrap();
        // A client that never requests ESS: 0x20080000 refuses it.
        let xp = cat.get("mssql-jdbc-7.4").unwrap();
        let change = Policy {
            server_min: Some(MinSessionSecurity::from_registry(0x2008_0000)),
            ..Policy::default()
        };
        let results = matrix::run(
            &[evil, xp],
            &[evil],
            &Policy::default(),
            &change,
            Application::default(),
            Semantics::default(),
        );
        let report = Report {
            title: "t <b>".into(),
            summary: "s".into(),
            results: &results,
            clients: vec![evil.name.clone(), xp.name.clone()],
            servers: vec![evil.name.clone()],
            policy: vec![("NtlmMinServerSec".into(), "0x20080000 <x>".into())],
            options: Options::default(),
            profiles: vec![evil, xp],
            hosts: Vec::new(),
            certainties: Vec::new(),
            configured: Configured::default(),
            relaxed: Vec::new(),
            not_reached: Vec::new(),
        };
        let page = html(&report);
        assert!(!page.contains("<script>alert"), "raw script in the page");
        assert!(!page.contains("<img"), "raw img in the page");
        assert!(page.contains("<title>t &lt;b&gt;</title>"));
        assert!(page.contains("0x20080000 &lt;x&gt;"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("&amp;lt;"));
        // Exactly the two script elements of the page (JSON data and code) plus the error hook.
        assert_eq!(page.matches("<script").count(), 3);
        assert_eq!(page.matches("</script>").count(), 3);
        assert!(page.contains("data-expected-failing=\"1\""));
        assert_eq!(page.matches("class=\"cell nb\"").count(), 1);
        assert!(!page.contains("http://") && !page.contains("https://"));
    }

    #[test]
    fn quotes_in_names_stay_inside_their_attributes() {
        let text = r#"
[[profile]]
name = "q\" onmouseover=\"alert(4)\" x=\"</script><script>alert(5)</script>\u001b[2J"
role = "both"
description = "d"
lm_level = 3
[profile.client]
[profile.server]
"#;
        let mut cat = Catalog::builtin().unwrap();
        cat.merge(Catalog::from_user_toml(text, "evil.toml").unwrap());
        let evil = cat
            .profiles
            .iter()
            .find(|p| p.name.starts_with("q\""))
            .unwrap();
        let results = matrix::run(
            &[evil],
            &[evil],
            &Policy::default(),
            &Policy::default(),
            Application::default(),
            Semantics::default(),
        );
        let report = Report {
            title: "t".into(),
            summary: "s".into(),
            results: &results,
            clients: vec![evil.name.clone()],
            servers: vec![evil.name.clone()],
            policy: Vec::new(),
            options: Options::default(),
            profiles: vec![evil],
            hosts: Vec::new(),
            certainties: Vec::new(),
            configured: Configured::default(),
            relaxed: Vec::new(),
            not_reached: Vec::new(),
        };
        let page = html(&report);
        // The server name is written into title="..." attributes: its quotes
        // are entities, so no attribute or element is added.
        assert!(
            !page.contains("\" onmouseover=\""),
            "a quote closed an attribute"
        );
        assert!(
            page.contains(
                "title=\"q&quot; onmouseover=&quot;alert(4)&quot; x=&quot;&lt;/script&gt;"
            )
        );
        assert!(!page.contains("<script>alert"), "raw script in the page");
        assert_eq!(page.matches("<script").count(), 3);
        assert_eq!(page.matches("</script>").count(), 3);
        // In the JSON data, `<` is a \u escape.
        assert!(page.contains("\\u003c/script\\u003e"));
    }

    #[test]
    fn switches_name_every_value_and_rule() {
        let s = switches(&Semantics::by_name("lenient").unwrap());
        assert_eq!(s.len(), Semantics::SWITCHES.len());
        assert_eq!(s[0].0, "rule-128");
        assert_eq!(s[0].1, "kb239869");
        assert!(s[0].2.contains("KB239869"), "{:?}", s[0]);
        assert_eq!(s[5].1, "ignore");
        assert_eq!(s[8], ("level0-ess", "requested", s[8].2.clone()));
        assert!(
            s[8].2.starts_with("neg-client-ess-level0-requested ("),
            "{:?}",
            s[8]
        );
    }
}
