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

/// `&`, `<`, `>`, `"` and `'` escaped, for text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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

const CSS: &str = r#"
:root{--ok:#e3f4e8;--ok-fg:#17612f;--ch:#d9ecff;--ch-fg:#154a86;--nb:#d6312b;--nb-fg:#fff;
--ab:#f6e3c5;--ab-fg:#7a4b0c;--fx:#cdeee9;--fx-fg:#0b5e54;--line:#d7dbe0;--muted:#5f6b7a;--bg:#f6f7f9}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Ubuntu,sans-serif;color:#1b2430;background:var(--bg)}
header{background:#1f2a37;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:20px;font-weight:600}
header p{margin:4px 0 0;color:#c8d1dc}
main{padding:18px 28px;display:flex;flex-direction:column;gap:18px}
section.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 18px}
h2{font-size:15px;margin:0 0 10px}
.stats{display:flex;gap:12px;flex-wrap:wrap}
.stat{border-radius:8px;padding:10px 14px;min-width:130px;border:1px solid var(--line);background:#fff}
.stat b{display:block;font-size:22px}
.stat.nb{background:var(--nb);color:var(--nb-fg);border-color:var(--nb)}
.stat.ab{background:var(--ab);color:var(--ab-fg)}
.stat.fx{background:var(--fx);color:var(--fx-fg)}
.stat.ok{background:var(--ok);color:var(--ok-fg)}
.stat.ch{background:var(--ch);color:var(--ch-fg)}
.two{display:flex;gap:18px;align-items:flex-start}
.gridwrap{overflow:auto;max-height:78vh;flex:0 1 auto}
table.grid{border-collapse:separate;border-spacing:2px}
table.grid th{font-weight:500;color:#2b3645;background:#fff}
table.grid thead th{position:sticky;top:0;z-index:2;vertical-align:bottom;padding:4px 2px}
table.grid thead th.sv span{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;display:inline-block;max-height:190px;overflow:hidden;text-overflow:ellipsis}
table.grid th.cl{position:sticky;left:0;z-index:1;text-align:right;padding:0 8px;white-space:nowrap}
table.grid th.corner{position:sticky;left:0;top:0;z-index:3;text-align:right;color:var(--muted);font-size:12px;padding:4px 8px}
td.cell{min-width:44px;height:28px;padding:0 3px;text-align:center;border-radius:5px;font-size:11.5px;white-space:nowrap;font-weight:600;cursor:pointer;outline:none;transition:transform .05s}
td.cell:hover,td.cell:focus{box-shadow:0 0 0 2px #1f2a37;transform:scale(1.06)}
td.cell.sel{box-shadow:0 0 0 3px #1f6feb}
td.ok{background:var(--ok);color:var(--ok-fg)}
td.ch{background:var(--ch);color:var(--ch-fg)}
td.nb{background:var(--nb);color:var(--nb-fg)}
td.ab{background:var(--ab);color:var(--ab-fg)}
td.fx{background:var(--fx);color:var(--fx-fg)}
td.na{background:repeating-linear-gradient(45deg,#f1f2f4,#f1f2f4 4px,#e7e9ec 4px,#e7e9ec 8px)}
th.hl{color:#1f6feb!important;font-weight:700!important}
table.grid.focus td.cell:not(.mark){opacity:.18}
div.cause button.show{margin-left:10px;font:inherit;font-size:12px;font-weight:500;padding:1px 8px;border:1px solid #8a95a3;border-radius:4px;background:#fff;cursor:pointer}
aside.details{position:sticky;top:12px;width:420px;flex:0 0 420px;background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 16px;min-height:200px}
aside.details h3{margin:0 0 4px;font-size:15px}
aside.details .tag{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;font-weight:600;margin-bottom:8px}
aside.details dl{display:grid;grid-template-columns:78px 1fr;gap:3px 10px;margin:6px 0 12px;font-size:13px}
aside.details dt{color:var(--muted)}
aside.details dd{margin:0;overflow-wrap:anywhere;white-space:pre-line}
aside.details dd.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.tag.ok{background:var(--ok);color:var(--ok-fg)}.tag.ch{background:var(--ch);color:var(--ch-fg)}.tag.nb{background:var(--nb);color:var(--nb-fg)}.tag.ab{background:var(--ab);color:var(--ab-fg)}.tag.fx{background:var(--fx);color:var(--fx-fg)}
aside.details p.assumed{margin:4px 0;font-size:13px}
aside.details h4{margin:12px 0 2px;font-size:13px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.hint{color:var(--muted)}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:13px}
.legend span.sw{display:inline-block;width:26px;height:16px;border-radius:4px;vertical-align:middle;margin-right:6px}
table.kv{border-collapse:collapse;font-size:13px}
table.kv td,table.kv th{border-bottom:1px solid var(--line);padding:4px 12px 4px 0;text-align:left;vertical-align:top}
table.kv th{color:var(--muted);font-weight:500}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
details.prof{border-bottom:1px solid var(--line);padding:6px 0}
details.prof summary{cursor:pointer}
details.prof ul{margin:6px 0 6px 18px;padding:0}
.muted{color:var(--muted)}
footer{padding:8px 28px 24px;color:var(--muted);font-size:12px}
"#;

const SCRIPT: &str = r#"
(function () {
  'use strict';
  var body = document.body;
  var doc = JSON.parse(document.getElementById('pairs').textContent);
  function pair(i) {
    var p = doc.pairs[i];
    var o = p && doc.outcomes[p[4]];
    if (!o) { return null; }
    return { client: p[0], server: p[1], client_profile: p[2], server_profile: p[3],
             change: o.change, label: o.label, before: o.before, after: o.after,
             certainty: o.certainty, assumed: o.assumed || [] };
  }
  var panel = document.getElementById('details');
  var cells = document.querySelectorAll('td.cell[data-i]');
  var selected = null;
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function row(dl, k, v, mono) {
    if (v === undefined || v === null || v === '') { return; }
    dl.appendChild(el('dt', null, k));
    dl.appendChild(el('dd', mono ? 'mono' : null, v));
  }
  function outcome(title, o, certainty) {
    var frag = document.createDocumentFragment();
    frag.appendChild(el('h4', null, title));
    var dl = el('dl');
    if (o.result === 'success') {
      row(dl, 'result', 'works');
      row(dl, 'negotiated', o.negotiated_flags + '\n' + o.negotiated_flags_names.join('\n'), true);
      row(dl, 'response', o.response_kind);
      row(dl, 'key', o.key_strength_bits + '-bit');
      row(dl, 'signing', o.signing ? 'yes' : 'no');
      row(dl, 'sealing', o.sealing ? 'yes' : 'no');
      row(dl, 'MIC', o.mic ? 'verified' : 'not checked');
    } else {
      row(dl, 'result', 'fails');
      row(dl, 'side', o.side);
      row(dl, 'message', 'on receipt of ' + o.stage.toUpperCase());
      row(dl, 'status', o.status + ' (' + o.status_code + ')', true);
      if (o.missing !== '0x00000000') {
        row(dl, 'missing', o.missing + '\n' + o.missing_names.join('\n'), true);
        row(dl, 'required', o.required, true);
        row(dl, 'evaluated', o.negotiated, true);
      }
      row(dl, 'reason', o.reason);
      row(dl, 'rule', o.rule_id + ': ' + o.rule_statement);
      row(dl, 'source', o.rule + ' [' + o.basis + ']');
    }
    row(dl, 'certainty', certainty);
    frag.appendChild(dl);
    return frag;
  }
  function show(td) {
    var p = pair(Number(td.getAttribute('data-i')));
    if (!p) { return; }
    if (selected) { selected.classList.remove('sel'); }
    selected = td;
    td.classList.add('sel');
    while (panel.firstChild) { panel.removeChild(panel.firstChild); }
    panel.appendChild(el('h3', null, p.client + ' \u2192 ' + p.server));
    if (p.client !== p.client_profile || p.server !== p.server_profile) {
      panel.appendChild(el('div', 'muted', p.client_profile + ' \u2192 ' + p.server_profile));
    }
    panel.appendChild(el('span', 'tag ' + td.getAttribute('data-class'), p.label));
    panel.appendChild(outcome('after the change', p.after, p.certainty));
    panel.appendChild(outcome('before', p.before));
    if (p.assumed.length) {
      panel.appendChild(el('h4', null, 'assumed profile facts'));
      for (var a = 0; a < p.assumed.length; a++) {
        var fact = el('p', 'assumed');
        fact.appendChild(el('b', null, p.assumed[a].profile + ' as ' + p.assumed[a].role + ': '));
        fact.appendChild(document.createTextNode(p.assumed[a].facts));
        panel.appendChild(fact);
      }
    }
  }
  function highlight(td, on) {
    var tr = td.parentNode;
    var head = tr.querySelector('th');
    if (head) { head.classList.toggle('hl', on); }
    var col = td.getAttribute('data-col');
    var th = document.querySelector('thead th[data-col="' + col + '"]');
    if (th) { th.classList.toggle('hl', on); }
  }
  var failing = 0;
  for (var i = 0; i < cells.length; i++) {
    (function (td) {
      var p = pair(Number(td.getAttribute('data-i')));
      if (p && p.after.result === 'failure') { failing++; }
      td.addEventListener('click', function () { show(td); });
      td.addEventListener('keydown', function (ev) {
        if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); show(td); }
      });
      td.addEventListener('mouseenter', function () { highlight(td, true); });
      td.addEventListener('mouseleave', function () { highlight(td, false); });
    })(cells[i]);
  }
  var first = document.querySelector('td.cell.nb') || document.querySelector('td.cell.ab');
  if (first) { show(first); }
  // "What to do": each cause finds its newly broken cells (same side,
  // message, rule and missing bits), counts them in data-cells, and gets a
  // button that shows only them in the grid.
  var grid = document.querySelector('table.grid');
  var causes = document.querySelectorAll('div.cause');
  var active = null;
  function ofCause(div, p) {
    return p && p.change === 'newly-broken' && p.after.result === 'failure' &&
      p.after.side === div.getAttribute('data-side') &&
      p.after.stage === div.getAttribute('data-stage') &&
      p.after.rule_id === div.getAttribute('data-rule') &&
      p.after.missing === div.getAttribute('data-missing');
  }
  for (var k = 0; k < causes.length; k++) {
    (function (div) {
      var mine = [];
      for (var j = 0; j < cells.length; j++) {
        if (ofCause(div, pair(Number(cells[j].getAttribute('data-i'))))) { mine.push(cells[j]); }
      }
      div.setAttribute('data-cells', String(mine.length));
      if (!grid || mine.length === 0) { return; }
      var button = el('button', 'show', 'Show only these pairs in the grid');
      button.type = 'button';
      button.addEventListener('click', function () {
        var on = active !== div;
        var old = document.querySelectorAll('td.cell.mark');
        for (var m = 0; m < old.length; m++) { old[m].classList.remove('mark'); }
        var buttons = document.querySelectorAll('div.cause button.show');
        for (var b = 0; b < buttons.length; b++) { buttons[b].textContent = 'Show only these pairs in the grid'; }
        grid.classList.toggle('focus', on);
        active = on ? div : null;
        if (on) {
          for (var n = 0; n < mine.length; n++) { mine[n].classList.add('mark'); }
          button.textContent = 'Show every pair again';
          show(mine[0]);
          grid.scrollIntoView({ block: 'nearest' });
        }
      });
      var h3 = div.querySelector('h3');
      if (h3) { h3.appendChild(button); }
    })(causes[k]);
  }
  body.setAttribute('data-failing-cells', String(failing));
  body.setAttribute('data-ready', '1');
})();
"#;

/// Renders the report.
pub fn html(r: &Report<'_>) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let counts = |c: Change| pairs_of(r.results).filter(|p| p.change() == c).count();
    let failing = failing_cells(r.results);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}{}</style>\n\
         <script>window.addEventListener('error', function (e) {{ document.body && \
         document.body.setAttribute('data-script-error', String(e.message || e)); }});</script>\n\
         </head>\n<body data-pairs=\"{}\" data-expected-failing=\"{failing}\">\n",
        escape(&r.title),
        crate::actions::CSS,
        r.results.pair_count()
    );
    let _ = write!(
        h,
        "<header><h1>{}</h1><p>{}</p></header>\n<main>\n",
        escape(&r.title),
        escape(&r.summary)
    );

    // Counts.
    h.push_str("<section class=\"card\"><div class=\"stats\">");
    let _ = write!(
        h,
        "<div class=\"stat\"><b>{}</b>pairs</div>",
        r.results.pair_count()
    );
    for c in [
        Change::NewlyBroken,
        Change::AlreadyBroken,
        Change::Fixed,
        Change::Changed,
        Change::Unchanged,
    ] {
        let _ = write!(
            h,
            "<div class=\"stat {}\"><b>{}</b>{}</div>",
            class(c),
            counts(c),
            label(c)
        );
    }
    h.push_str("</div></section>\n");

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
    actions.html("pair", r.configured, &r.relaxed, &mut h);

    // Grid (or list) and details panel.
    h.push_str("<section class=\"card\"><h2>Client \u{d7} server</h2>\n<div class=\"legend\">");
    for c in [
        Change::Unchanged,
        Change::Changed,
        Change::NewlyBroken,
        Change::AlreadyBroken,
        Change::Fixed,
    ] {
        let _ = write!(
            h,
            "<span><span class=\"sw\" style=\"background:var(--{})\"></span>{}</span>",
            class(c),
            label(c)
        );
    }
    h.push_str(
        "<span><span class=\"sw\" style=\"background:#e7e9ec\"></span>not paired</span>\
         <span class=\"muted\">S/C: server/client refuses; neg/chal/auth: on receipt of \
         NEGOTIATE/CHALLENGE/AUTHENTICATE; hover or click a cell for details</span></div>\n",
    );
    h.push_str("<div class=\"two\"><div class=\"gridwrap\">");
    if r.clients.len().saturating_mul(r.servers.len()) <= MAX_GRID_CELLS {
        grid(r, &mut h);
    } else {
        list(r, &mut h);
    }
    h.push_str(
        "</div><aside id=\"details\" class=\"details\"><p class=\"hint\">Click a cell to see \
         who refuses, on receipt of which message, with which status, the missing flags and \
         the rule.</p></aside></div></section>\n",
    );

    // Policy and semantics.
    h.push_str("<section class=\"card\"><h2>Policy</h2><table class=\"kv\">");
    for (k, v) in &r.policy {
        let _ = write!(h, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(v));
    }
    let app = match (r.options.app.sign, r.options.app.seal) {
        (false, false) => "no signing or sealing requested",
        (true, false) => "signing (integrity) requested",
        (false, true) => "sealing (confidentiality) requested",
        (true, true) => "signing and sealing requested",
    };
    let _ = writeln!(
        h,
        "<tr><th>application</th><td>{app}</td></tr><tr><th>engine</th><td>{}</td></tr></table>",
        escape(r.options.engine.name())
    );
    let _ = write!(
        h,
        "<h2 style=\"margin-top:14px\">Semantics: <code>{}</code></h2><table class=\"kv\">\
         <tr><th>switch</th><th>value</th><th>rule selected (source)</th></tr>",
        escape(r.options.semantics.name())
    );
    for (name, value, rule) in switches(&r.options.semantics) {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>",
            escape(name),
            escape(value),
            escape(&rule)
        );
    }
    h.push_str("</table></section>\n");

    if !r.hosts.is_empty() {
        h.push_str(
            "<section class=\"card\"><h2>Hosts</h2><table class=\"kv\"><tr><th>host</th>\
             <th>profile</th><th>registry values</th><th>description</th></tr>",
        );
        for host in &r.hosts {
            let _ = write!(
                h,
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                escape(&host.name),
                escape(&host.profile),
                escape(if host.settings.is_empty() {
                    "profile defaults"
                } else {
                    &host.settings
                }),
                escape(host.description.as_deref().unwrap_or(""))
            );
        }
        h.push_str("</table></section>\n");
    }

    // Sources.
    h.push_str("<section class=\"card\"><h2>Profiles and their sources</h2>");
    for p in &r.profiles {
        let _ = write!(
            h,
            "<details class=\"prof\"><summary><code>{}</code> \u{2014} {}</summary><ul>",
            escape(&p.name),
            escape(&p.description)
        );
        for s in &p.sources {
            let _ = write!(h, "<li>{}</li>", escape(s));
        }
        let or_nothing = |t: &str| {
            if t.is_empty() {
                "(nothing)".to_owned()
            } else {
                escape(t)
            }
        };
        let _ = write!(
            h,
            "</ul><div><b>observed:</b> {}</div><div><b>assumed:</b> {}</div>\
             <div class=\"muted\">reads: {}</div></details>",
            or_nothing(&p.observed),
            or_nothing(&p.assumed_all()),
            escape(&{
                let n = p.honours.names();
                if n.is_empty() {
                    "no Windows registry value".to_owned()
                } else {
                    n.join(", ")
                }
            })
        );
    }
    h.push_str("</section>\n</main>\n");
    let _ = writeln!(
        h,
        "<footer>ntlmsim {} \u{b7} the simulator's verdicts follow the rules and sources shown; \
         points marked inferred or unconfirmed are choices of the semantics above.</footer>",
        escape(env!("CARGO_PKG_VERSION"))
    );

    // Data and script: each distinct outcome once, and per pair its names
    // and the index of its outcome, `[client, server, client_profile,
    // server_profile, outcome]`.
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
    let json = format!(
        "{{\"outcomes\":{},\"pairs\":{pairs}}}",
        serde_json::to_string(&outcomes).unwrap_or_else(|_| "[]".to_owned())
    );
    let _ = write!(
        h,
        "<script id=\"pairs\" type=\"application/json\">{}</script>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        script_json(&json)
    );
    h
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

fn cell(i: usize, col: usize, p: &PairRef<'_>, r: &Report<'_>, h: &mut String) {
    let c = p.change();
    let _ = write!(
        h,
        "<td class=\"cell {cls}\" data-class=\"{cls}\" data-i=\"{i}\" data-col=\"{col}\" \
         tabindex=\"0\" title=\"{}\">{}</td>",
        escape(&tooltip(p, certainty(r, i), &assumed_of(r, p))),
        escape(&cell_text(p)),
        cls = class(c)
    );
}

fn grid(r: &Report<'_>, h: &mut String) {
    h.push_str("<table class=\"grid\"><thead><tr><th class=\"corner\">client \\ server</th>");
    for (col, s) in r.servers.iter().enumerate() {
        let _ = write!(
            h,
            "<th class=\"sv\" data-col=\"{col}\" title=\"{e}\"><span>{e}</span></th>",
            e = escape(s)
        );
    }
    h.push_str("</tr></thead><tbody>");
    // Index the results by (client, server) once.
    let mut at: std::collections::HashMap<(&str, &str), usize> =
        std::collections::HashMap::with_capacity(r.results.pair_count());
    for (i, p) in pairs_of(r.results).enumerate() {
        at.entry((p.client, p.server)).or_insert(i);
    }
    for c in &r.clients {
        let _ = write!(h, "<tr><th class=\"cl\">{}</th>", escape(c));
        for (col, s) in r.servers.iter().enumerate() {
            match at
                .get(&(c.as_str(), s.as_str()))
                .and_then(|&i| r.results.pair(i).map(|p| (i, p)))
            {
                Some((i, p)) => cell(i, col, &p, r, h),
                None => h.push_str("<td class=\"na\" title=\"not paired\"></td>"),
            }
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");
}

fn list(r: &Report<'_>, h: &mut String) {
    h.push_str(
        "<table class=\"grid\"><thead><tr><th class=\"corner\">client</th><th>server</th>\
         <th>outcome</th></tr></thead><tbody>",
    );
    for (i, p) in pairs_of(r.results).enumerate() {
        let _ = write!(
            h,
            "<tr><th class=\"cl\">{}</th><th>{}</th>",
            escape(p.client),
            escape(p.server)
        );
        cell(i, 0, &p, r, h);
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use ntlm_policy::MinSessionSecurity;
    use ntlm_sim::matrix::{self, Application, Policy};
    use ntlm_sim::profiles::Catalog;

    #[test]
    fn escapes_text_and_script_data() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
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
