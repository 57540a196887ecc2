//! `ntlmsim interop` (docs/CLI.md): which client × server pairs a policy
//! change breaks, over the built-in profiles or a fleet file.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};

use clap::Args;
use ntlm_policy::{Failure, LmCompatibilityLevel, MinSessionSecurity, Semantics};
use ntlmsim::fleet::Fleet;
use ntlmsim::matrix::{self, Application, Change, Engine, Options, PairResult, Peer, Policy};
use ntlmsim::outcome::{OutcomeJson, hex32, names};
use ntlmsim::profiles::{Catalog, Profile};
use ntlmsim::report::{self, HostInfo, Report};
use ntlmsim::sink;
use serde::Serialize;

use super::profiles::{fit, load_catalog, wrap};
use super::{CliError, Status};

/// Every client × server pair before and after a policy change.
#[derive(Debug, Args)]
#[command(after_help = "\
The change applies only on the sides given: --server-min changes servers, --client-min clients,
and each value reaches only peers that read it (Windows reads NtlmMinClientSec, NtlmMinServerSec
and LmCompatibilityLevel; Samba, curl, Linux and the other non-Windows peers read none; see
`ntlmsim profiles`). Before the change every peer runs with its profile's defaults, or with its
values from the fleet file.

MASK forms: 0x20080000, 537395200, dword:20080000, registry/secedit lines, or names such as
  require_128bit_encryption,require_NTLMv2_session_security (see `ntlmsim policy explain`).

Cells: ok works before and after; ok* works but negotiates differently; !Sn newly broken (S/C: the
server/client refuses; n/c/a: on receipt of NEGOTIATE/CHALLENGE/AUTHENTICATE); xSn already broken;
+ok fixed by the change.

Engines: full (default) runs complete handshakes through the session layer (about 9 us a pair in a
release build; results are shared between hosts with the same profile and values); flags decides
from the flags alone (ntlm_policy::negotiate_only), over a hundred times faster, with the same
verdicts on the built-in catalog.

Examples:
  ntlmsim interop --server-min 0x20080000
  ntlmsim interop --client-min 0x20080000 --server-min 0x20080000 --sign --html report.html
  ntlmsim interop --fleet fleet.toml --server-lm-level 5 --json

Exit codes: 0 nothing breaks; 1 at least one pair breaks; 2 bad usage or input (unknown profile,
bad mask, fleet file errors with line and key).")]
pub(crate) struct InteropArgs {
    /// New NtlmMinClientSec for the clients
    #[arg(long, value_name = "MASK")]
    client_min: Option<String>,
    /// New NtlmMinServerSec for the servers
    #[arg(long, value_name = "MASK")]
    server_min: Option<String>,
    /// New LmCompatibilityLevel (0..5) for the clients
    #[arg(long, value_name = "N")]
    client_lm_level: Option<String>,
    /// New LmCompatibilityLevel (0..5) for the servers (or their DCs)
    #[arg(long, value_name = "N")]
    server_lm_level: Option<String>,
    /// Only these clients (profile names; with --fleet, host or profile names)
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    clients: Vec<String>,
    /// Only these servers (profile names; with --fleet, host or profile names)
    #[arg(long, value_name = "C,D", value_delimiter = ',')]
    servers: Vec<String>,
    /// Evaluate exactly the pairs of this fleet file (see docs/FLEET.md)
    #[arg(long, value_name = "FILE")]
    fleet: Option<String>,
    /// Also load the profiles of FILE (the catalog format; see `ntlmsim profiles --help`)
    #[arg(long, value_name = "FILE")]
    catalog: Option<String>,
    /// The application requests integrity (SIGN), as SMB signing or RPC integrity
    #[arg(long)]
    sign: bool,
    /// The application requests confidentiality (SEAL), as RPC privacy
    #[arg(long)]
    seal: bool,
    /// Policy semantics where Windows behaviour is unconfirmed (see `ntlmsim policy semantics`)
    #[arg(long, value_name = "NAME", default_value = "calibrated")]
    semantics: String,
    /// How exchanges are decided: full (complete handshakes) or flags (flags only)
    #[arg(long, value_name = "ENGINE", default_value = "full")]
    engine: String,
    /// Restrict NTLM settings the change adds on every client, in any form `policy explain` reads
    /// (RestrictSendingNTLMTraffic, ClientAllowedNTLMServers matched against server names);
    /// repeatable; reaches only peers that read Windows policy
    #[arg(long, value_name = "SETTINGS")]
    client_restrict: Vec<String>,
    /// Restrict NTLM settings the change adds on every server (RestrictReceivingNTLMTraffic);
    /// repeatable
    #[arg(long, value_name = "SETTINGS")]
    server_restrict: Vec<String>,
    /// Restrict NTLM settings the change adds on the servers' DC (RestrictNTLMInDomain,
    /// DCAllowedNTLMServers); repeatable
    #[arg(long, value_name = "SETTINGS")]
    dc_restrict: Vec<String>,
    /// Also write a self-contained HTML report to FILE
    #[arg(long, value_name = "FILE")]
    html: Option<String>,
    /// List the pairs instead of drawing the grid
    #[arg(long)]
    list: bool,
    /// Print one JSON document
    #[arg(long)]
    json: bool,
}

fn bad(what: &str, e: impl std::fmt::Display) -> CliError {
    CliError::new(format!("{what}: {e}"))
}

fn mask(s: &str, what: &str) -> Result<MinSessionSecurity, CliError> {
    MinSessionSecurity::parse(s)
        .map(|p| p.mask)
        .map_err(|e| bad(what, e))
}

fn level(s: &str, what: &str) -> Result<LmCompatibilityLevel, CliError> {
    LmCompatibilityLevel::parse(s).map_err(|e| bad(what, e))
}

/// The peers and pairs to evaluate.
struct Plan<'c> {
    peers: Vec<Peer<'c>>,
    pairs: Vec<(usize, usize)>,
    clients: Vec<String>,
    servers: Vec<String>,
    hosts: Vec<HostInfo>,
    /// Each fleet host's own Restrict NTLM values, by host name.
    restrict: Vec<(String, ntlm_policy::restrict::Restrictions)>,
}

fn settings_text(p: &Policy) -> String {
    let mut parts = Vec::new();
    if let Some(m) = p.client_min {
        parts.push(format!("NtlmMinClientSec {}", hex32(m.bits())));
    }
    if let Some(m) = p.server_min {
        parts.push(format!("NtlmMinServerSec {}", hex32(m.bits())));
    }
    if let Some(l) = p.client_lm_level {
        parts.push(format!("LmCompatibilityLevel {}", l.level()));
    }
    parts.join(", ")
}

fn unique(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    names.filter(|n| seen.insert(n.clone())).collect()
}

fn catalog_plan<'c>(catalog: &'c Catalog, args: &InteropArgs) -> Result<Plan<'c>, CliError> {
    let pick = |wanted: &[String], client: bool| -> Result<Vec<&'c Profile>, CliError> {
        if wanted.is_empty() {
            return Ok(catalog
                .profiles
                .iter()
                .filter(|p| !p.synthetic)
                .filter(|p| {
                    if client {
                        p.role.client()
                    } else {
                        p.role.server()
                    }
                })
                .collect());
        }
        let mut out: Vec<&Profile> = Vec::new();
        for w in wanted {
            let p = catalog.get(w.trim()).ok_or_else(|| {
                CliError::new(format!(
                    "{}: unknown profile {w:?}; known: {}",
                    if client { "--clients" } else { "--servers" },
                    catalog.names()
                ))
            })?;
            let fits = if client {
                p.role.client()
            } else {
                p.role.server()
            };
            if !fits {
                return Err(CliError::new(format!(
                    "{}: profile {} cannot be a {}",
                    if client { "--clients" } else { "--servers" },
                    p.name,
                    if client { "client" } else { "server" }
                )));
            }
            if !out.iter().any(|q| std::ptr::eq(*q, p)) {
                out.push(p);
            }
        }
        Ok(out)
    };
    let clients = pick(&args.clients, true)?;
    let servers = pick(&args.servers, false)?;
    let mut peers: Vec<Peer<'c>> = clients.iter().map(|p| Peer::of(p)).collect();
    peers.extend(servers.iter().map(|p| Peer::of(p)));
    let n = clients.len();
    let pairs = (0..n)
        .flat_map(|c| (0..servers.len()).map(move |s| (c, n + s)))
        .collect();
    Ok(Plan {
        peers,
        pairs,
        clients: clients.iter().map(|p| p.name.clone()).collect(),
        servers: servers.iter().map(|p| p.name.clone()).collect(),
        hosts: Vec::new(),
        restrict: Vec::new(),
    })
}

fn fleet_plan<'c>(
    catalog: &'c Catalog,
    path: &str,
    args: &InteropArgs,
) -> Result<Plan<'c>, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::new(format!("cannot read fleet {path}: {e}")))?;
    let fleet = Fleet::from_toml(&text, catalog).map_err(|e| bad(path, e))?;
    let peers = fleet.peers(catalog);
    let matches = |wanted: &[String], i: usize| -> bool {
        wanted.is_empty()
            || fleet.hosts.get(i).is_some_and(|h| {
                wanted.iter().any(|w| {
                    h.name.eq_ignore_ascii_case(w.trim())
                        || h.profile.eq_ignore_ascii_case(w.trim())
                })
            })
    };
    for (wanted, flag) in [(&args.clients, "--clients"), (&args.servers, "--servers")] {
        for w in wanted {
            let known = fleet.hosts.iter().any(|h| {
                h.name.eq_ignore_ascii_case(w.trim()) || h.profile.eq_ignore_ascii_case(w.trim())
            });
            if !known {
                return Err(CliError::new(format!(
                    "{flag}: {w:?} is neither a host nor a profile of {path}"
                )));
            }
        }
    }
    let pairs: Vec<(usize, usize)> = fleet
        .pairs
        .iter()
        .copied()
        .filter(|&(c, s)| matches(&args.clients, c) && matches(&args.servers, s))
        .collect();
    let name = |i: usize| fleet.hosts.get(i).map(|h| h.name.clone());
    let clients = unique(pairs.iter().filter_map(|&(c, _)| name(c)));
    let servers = unique(pairs.iter().filter_map(|&(_, s)| name(s)));
    let hosts = fleet
        .hosts
        .iter()
        .map(|h| HostInfo {
            name: h.name.clone(),
            profile: h.profile.clone(),
            settings: settings_text(&h.settings),
            description: h.description.clone(),
        })
        .collect();
    let restrict = fleet
        .hosts
        .iter()
        .filter(|h| !h.restrict.is_default())
        .map(|h| (h.name.clone(), h.restrict.clone()))
        .collect();
    Ok(Plan {
        peers,
        pairs,
        clients,
        servers,
        hosts,
        restrict,
    })
}

// --- JSON -------------------------------------------------------------------

#[derive(Serialize)]
struct PairJson<'a> {
    client: &'a str,
    server: &'a str,
    client_profile: &'a str,
    server_profile: &'a str,
    before: OutcomeJson,
    after: OutcomeJson,
    breaks: bool,
    change: &'static str,
}

#[derive(Serialize)]
struct SummaryJson {
    pairs: usize,
    breaking: usize,
    already_broken: usize,
    fixed: usize,
    changed: usize,
    unchanged: usize,
}

#[derive(Serialize)]
struct NotReachedJson {
    peer: String,
    profile: String,
    value: &'static str,
}

#[derive(Serialize)]
struct PolicyJson {
    client_min: Option<String>,
    server_min: Option<String>,
    client_lm_level: Option<u8>,
    server_lm_level: Option<u8>,
    semantics: &'static str,
    switches: serde_json::Map<String, serde_json::Value>,
    sign: bool,
    seal: bool,
    engine: &'static str,
    not_reached: Vec<NotReachedJson>,
    /// The Restrict NTLM settings of the change, one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    restrict: Vec<String>,
}

#[derive(Serialize)]
struct InteropJson<'a> {
    policy: PolicyJson,
    pairs: Vec<PairJson<'a>>,
    summary: SummaryJson,
}

fn outcome(v: &matrix::Verdict) -> OutcomeJson {
    match v {
        Ok(r) => OutcomeJson::success(r, None),
        Err(f) => OutcomeJson::failure(f),
    }
}

fn summary(results: &[PairResult]) -> SummaryJson {
    let n = |c: Change| results.iter().filter(|r| r.change() == c).count();
    SummaryJson {
        pairs: results.len(),
        breaking: n(Change::NewlyBroken),
        already_broken: n(Change::AlreadyBroken),
        fixed: n(Change::Fixed),
        changed: n(Change::Changed),
        unchanged: n(Change::Unchanged),
    }
}

/// Peers that the change does not reach, per value set: (peer, profile, value).
fn not_reached(plan: &Plan<'_>, change: &Policy) -> Vec<NotReachedJson> {
    let mut out = Vec::new();
    let clients: HashSet<usize> = plan.pairs.iter().map(|&(c, _)| c).collect();
    let servers: HashSet<usize> = plan.pairs.iter().map(|&(_, s)| s).collect();
    for (i, peer) in plan.peers.iter().enumerate() {
        let h = peer.profile.honours;
        let mut miss = |set: bool, honoured: bool, role: bool, value: &'static str| {
            if set && !honoured && role {
                out.push(NotReachedJson {
                    peer: peer.name.clone(),
                    profile: peer.profile.name.clone(),
                    value,
                });
            }
        };
        let is_client = clients.contains(&i);
        let is_server = servers.contains(&i);
        miss(
            change.client_min.is_some(),
            h.min_client_sec,
            is_client,
            "NtlmMinClientSec",
        );
        miss(
            change.server_min.is_some(),
            h.min_server_sec,
            is_server,
            "NtlmMinServerSec",
        );
        miss(
            change.client_lm_level.is_some() || change.server_lm_level.is_some(),
            h.lm_compatibility_level,
            (change.client_lm_level.is_some() && is_client)
                || (change.server_lm_level.is_some() && is_server),
            "LmCompatibilityLevel",
        );
    }
    out
}

// --- Human output -----------------------------------------------------------

/// The screen width the human output keeps to.
const WIDTH: usize = 100;
/// Above this many pairs (or for a sparse fleet) the grid becomes a list.
const GRID_MAX_PAIRS: usize = 600;
/// The most names a human-readable list shows.
const LIST_MAX: usize = 40;
/// Above this many pairs a progress indicator is shown on a terminal.
const PROGRESS_MIN_PAIRS: usize = 2_000;

#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn paint(self, text: &str, c: Change) -> String {
        if !self.0 {
            return text.to_owned();
        }
        let code = match c {
            Change::Unchanged => "32",
            Change::Changed => "34",
            Change::NewlyBroken => "1;31",
            Change::AlreadyBroken => "33",
            Change::Fixed => "36",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    fn bold(self, text: &str) -> String {
        if self.0 {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

fn side_stage(f: &Failure) -> String {
    let side = match f.side {
        ntlm_policy::Side::Client => 'C',
        ntlm_policy::Side::Server => 'S',
    };
    let stage = match f.stage {
        ntlm_policy::Stage::Negotiate => 'n',
        ntlm_policy::Stage::Challenge => 'c',
        ntlm_policy::Stage::Authenticate => 'a',
    };
    format!("{side}{stage}")
}

fn code(r: &PairResult) -> String {
    match (r.change(), &r.after) {
        (Change::Unchanged, _) => "ok".to_owned(),
        (Change::Changed, _) => "ok*".to_owned(),
        (Change::Fixed, _) => "+ok".to_owned(),
        (Change::NewlyBroken, Err(f)) => format!("!{}", side_stage(f)),
        (Change::AlreadyBroken, Err(f)) => format!("x{}", side_stage(f)),
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

fn grid(plan: &Plan<'_>, results: &[PairResult], paint: Paint, s: &mut String) {
    const CELL: usize = 5;
    const CORNER: &str = "client \\ server";
    let cw = plan
        .clients
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(CORNER.len(), 24);
    let per_block = (WIDTH.saturating_sub(cw + 1) / CELL).max(1);
    let keys: Vec<String> = (0..plan.servers.len()).map(key).collect();
    // Server legend.
    let mut legend = String::from("servers:");
    let mut col = legend.len();
    for (k, name) in keys.iter().zip(&plan.servers) {
        let item = format!("{k} {}", sink::terminal_bounded(name, NAME_CHARS));
        let len = item.chars().count() + 2;
        if col + len > WIDTH {
            legend.push_str("\n        ");
            col = 8;
        }
        legend.push_str("  ");
        legend.push_str(&item);
        col += len;
    }
    let _ = writeln!(s, "{legend}\n");
    let at = |c: &str, srv: &str| results.iter().find(|r| r.client == c && r.server == srv);
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
                match at(c, srv) {
                    Some(r) => {
                        let text = format!("{:<CELL$}", code(r));
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

fn list(results: &[PairResult], paint: Paint, s: &mut String) {
    let shown: Vec<&PairResult> = results
        .iter()
        .filter(|r| r.change() != Change::Unchanged)
        .collect();
    if shown.is_empty() {
        let _ = writeln!(s, "every pair works before and after, unchanged\n");
        return;
    }
    let _ = writeln!(
        s,
        "{:<4} {:<28} {:<28} {:<10} after",
        "", "client", "server", "before"
    );
    for r in &shown {
        let before = match &r.before {
            Ok(_) => "ok".to_owned(),
            Err(f) => side_stage(f),
        };
        let after = match &r.after {
            Ok(_) => "ok".to_owned(),
            Err(f) => format!("{} {}", side_stage(f), f.status.name()),
        };
        let line = format!(
            "{:<4} {:<28} {:<28} {:<10} {}",
            code(r),
            fit(&r.client, 28),
            fit(&r.server, 28),
            before,
            fit(&after, 26)
        );
        let _ = writeln!(s, "{}", paint.paint(&line, r.change()));
    }
    let unchanged = results.len() - shown.len();
    if unchanged > 0 {
        let _ = writeln!(
            s,
            "(and {unchanged} pairs that work before and after, unchanged)"
        );
    }
    s.push('\n');
}

/// Newly breaking pairs grouped by identical failure.
fn breaking(results: &[PairResult], paint: Paint, s: &mut String) {
    let mut groups: Vec<(Failure, Vec<&PairResult>)> = Vec::new();
    for r in results.iter().filter(|r| r.breaks()) {
        let Err(f) = &r.after else { continue };
        let same = |g: &Failure| {
            g.side == f.side
                && g.stage == f.stage
                && g.status == f.status
                && g.missing == f.missing
                && g.rule.id == f.rule.id
        };
        match groups.iter_mut().find(|(g, _)| same(g)) {
            Some((_, v)) => v.push(r),
            None => groups.push((*f, vec![r])),
        }
    }
    let n: usize = groups.iter().map(|(_, v)| v.len()).sum();
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
    for (i, (f, pairs)) in groups.iter().enumerate() {
        let head = format!("[{}] {}", i + 1, report::failure_line(f));
        let _ = writeln!(s, "\n  {}", paint.paint(&head, Change::NewlyBroken));
        if !f.missing.is_empty() {
            let _ = writeln!(
                s,
                "      missing {} {}",
                hex32(f.missing.bits()),
                wrap(&names(f.missing).join(" | "), WIDTH, 17)
            );
        }
        let _ = writeln!(
            s,
            "      rule {}: {}",
            f.rule.id,
            wrap(
                &format!("{} [{}]", f.rule.source, f.rule.basis),
                WIDTH,
                12 + f.rule.id.len()
            )
        );
        let items = capped(
            pairs
                .iter()
                .map(|r| pair_text(&r.client, &r.server))
                .collect(),
        );
        let head = format!(
            "      {} pair{}:",
            pairs.len(),
            if pairs.len() == 1 { "" } else { "s" }
        );
        let indent = head.chars().count() + 1;
        let _ = writeln!(s, "{head} {}", wrap_items(&items, WIDTH, indent, 10));
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

/// At most [`LIST_MAX`] items, the last one saying how many more there are.
fn capped(mut items: Vec<String>) -> Vec<String> {
    if items.len() > LIST_MAX {
        let more = items.len() - (LIST_MAX - 1);
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
struct View {
    /// Pairs listed instead of a grid.
    as_list: bool,
    /// ANSI colours.
    paint: Paint,
    /// The pairs come from a fleet file.
    fleet: bool,
}

fn human(
    plan: &Plan<'_>,
    results: &[PairResult],
    change: &Policy,
    restrict: &[String],
    opts: &Options,
    reach: &[NotReachedJson],
    view: View,
) -> String {
    let View {
        as_list,
        paint,
        fleet,
    } = view;
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
            results.len(),
            if fleet { " (fleet)" } else { "" }
        ))
    );
    let _ = writeln!(
        s,
        "semantics {}, application requests {app}, engine {}",
        opts.semantics.name(),
        opts.engine
    );
    let mut lines = describe_change(change);
    lines.extend_from_slice(restrict);
    if lines.is_empty() {
        let _ = writeln!(
            s,
            "change: none given (use --client-min, --server-min, --client-lm-level, --server-lm-level)"
        );
    }
    for (i, l) in lines.iter().enumerate() {
        let _ = writeln!(
            s,
            "{}{}",
            if i == 0 { "change: " } else { "        " },
            wrap(l, WIDTH, 8)
        );
    }
    for value in [
        "NtlmMinClientSec",
        "NtlmMinServerSec",
        "LmCompatibilityLevel",
    ] {
        let peers = capped(
            reach
                .iter()
                .filter(|r| r.value == value)
                .map(|r| sink::terminal_bounded(&r.peer, NAME_CHARS).into_owned())
                .collect(),
        );
        if !peers.is_empty() {
            let head = format!("        not reaching (they do not read {value}):");
            let indent = head.chars().count() + 1;
            let _ = writeln!(s, "{head} {}", wrap_items(&peers, WIDTH, indent, 8));
        }
    }
    s.push('\n');
    if as_list {
        list(results, paint, &mut s);
    } else {
        grid(plan, results, paint, &mut s);
        let _ = writeln!(
            s,
            "ok works before and after, ok* works but negotiates differently, !Sn newly broken, xSn already\nbroken, +ok fixed; S/C: the server/client refuses, n/c/a: on receipt of NEGOTIATE/CHALLENGE/\nAUTHENTICATE.\n"
        );
    }
    breaking(results, paint, &mut s);
    let fixed: Vec<String> = results
        .iter()
        .filter(|r| r.fixed())
        .map(|r| pair_text(&r.client, &r.server))
        .collect();
    if !fixed.is_empty() {
        let _ = writeln!(
            s,
            "\n{} fixed: {}",
            paint.paint(&format!("{} pair(s)", fixed.len()), Change::Fixed),
            wrap_items(&fixed, WIDTH, 14 + fixed.len().to_string().len(), 2)
        );
    }
    let sum = summary(results);
    let _ = writeln!(
        s,
        "\nsummary: {} pairs: {} newly break, {} already broken, {} fixed, {} work ({} negotiate differently)",
        sum.pairs,
        sum.breaking,
        sum.already_broken,
        sum.fixed,
        sum.unchanged + sum.changed,
        sum.changed
    );
    s
}

/// The Restrict NTLM settings the change adds (`--client-restrict`, ...).
fn restrict_path(args: &InteropArgs) -> Result<ntlm_session::RestrictPath, CliError> {
    let read = |v: &[String], what: &str| {
        ntlmsim::restrict::from_pastes(v).map_err(|e| CliError::new(format!("{what}: {e}")))
    };
    Ok(ntlm_session::RestrictPath {
        client: read(&args.client_restrict, "--client-restrict")?,
        server: read(&args.server_restrict, "--server-restrict")?,
        dc: read(&args.dc_restrict, "--dc-restrict")?,
        target: None,
        transport: ntlm_policy::restrict::Transport::Other,
    })
}

/// Applies Restrict NTLM to each pair: a fleet host's own values before and
/// after, the change's (`--client-restrict`, ...) after, overriding the
/// host's where set; they reach only peers that read Windows policy.
fn apply_restrictions(
    results: &mut [PairResult],
    plan: &Plan<'_>,
    change: &ntlm_session::RestrictPath,
    (client_given, server_given): (bool, bool),
) {
    use ntlm_policy::restrict::Restrictions;
    let find = |name: &str| {
        plan.peers
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.profile)
    };
    let own = |name: &str| {
        plan.restrict
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, r)| r.clone())
            .unwrap_or_default()
    };
    for r in results {
        let (Some(c), Some(s)) = (find(&r.client), find(&r.server)) else {
            continue;
        };
        let reads = |p: &Profile| p.honours != ntlmsim::profiles::Honours::NONE;
        let joined = s.server_config().is_some_and(|c| c.domain_joined);
        let before = ntlm_session::RestrictPath {
            client: own(&r.client),
            server: own(&r.server),
            ..change.clone()
        };
        let after = ntlm_session::RestrictPath {
            client: if client_given {
                change.client.clone()
            } else {
                before.client.clone()
            },
            server: if server_given {
                change.server.clone()
            } else {
                before.server.clone()
            },
            ..change.clone()
        };
        let before = ntlm_session::RestrictPath {
            dc: Restrictions::default(),
            ..before
        };
        let apply = |v: &matrix::Verdict, p: &ntlm_session::RestrictPath| {
            ntlmsim::restrict::apply_to_verdict(v.clone(), p, reads(c), reads(s), &r.server, joined)
        };
        r.before = apply(&r.before, &before);
        r.after = apply(&r.after, &after);
    }
}

pub(crate) fn run(args: &InteropArgs, out: &mut Vec<u8>) -> Result<Status, CliError> {
    let (catalog, _) = load_catalog(args.catalog.as_deref())?;
    let semantics: Semantics = args.semantics.parse().map_err(|e| bad("--semantics", e))?;
    let engine: Engine = args.engine.parse().map_err(|e| bad("--engine", e))?;
    let change = Policy {
        client_min: args
            .client_min
            .as_deref()
            .map(|m| mask(m, "--client-min"))
            .transpose()?,
        server_min: args
            .server_min
            .as_deref()
            .map(|m| mask(m, "--server-min"))
            .transpose()?,
        client_lm_level: args
            .client_lm_level
            .as_deref()
            .map(|l| level(l, "--client-lm-level"))
            .transpose()?,
        server_lm_level: args
            .server_lm_level
            .as_deref()
            .map(|l| level(l, "--server-lm-level"))
            .transpose()?,
    };
    let plan = match &args.fleet {
        Some(path) => fleet_plan(&catalog, path, args)?,
        None => catalog_plan(&catalog, args)?,
    };
    let opts = Options {
        app: Application {
            sign: args.sign,
            seal: args.seal,
        },
        semantics,
        engine,
    };

    let show_progress = plan.pairs.len() >= PROGRESS_MIN_PAIRS && std::io::stderr().is_terminal();
    let mut progress = |done: usize, total: usize| {
        if show_progress {
            let mut e = std::io::stderr().lock();
            if done >= total {
                let _ = write!(e, "\r\x1b[K");
            } else {
                let _ = write!(e, "\revaluating pairs: {done}/{total}");
            }
            let _ = e.flush();
        }
    };
    let mut results = matrix::run_pairs(&plan.peers, &plan.pairs, &change, &opts, &mut progress);
    let restrict = restrict_path(args)?;
    let given = (
        !args.client_restrict.is_empty(),
        !args.server_restrict.is_empty(),
    );
    if !restrict.is_default() || !plan.restrict.is_empty() {
        apply_restrictions(&mut results, &plan, &restrict, given);
    }
    let reach = not_reached(&plan, &change);

    if let Some(path) = &args.html {
        let mut profiles: Vec<&Profile> = Vec::new();
        for p in &plan.peers {
            if !profiles.iter().any(|q| std::ptr::eq(*q, p.profile)) {
                profiles.push(p.profile);
            }
        }
        let mut policy: Vec<(String, String)> = describe_change(&change)
            .into_iter()
            .chain(ntlmsim::restrict::describe(&restrict))
            .map(|l| ("change".to_owned(), l))
            .collect();
        if policy.is_empty() {
            policy.push(("change".into(), "none".into()));
        }
        for r in &reach {
            policy.push((
                "not reached".into(),
                format!("{} ({}): does not read {}", r.peer, r.profile, r.value),
            ));
        }
        let sum = summary(&results);
        let report = Report {
            title: "NTLM policy impact".into(),
            summary: format!(
                "{} \u{2014} {} pairs, {} newly break",
                {
                    let d = describe_change(&change);
                    if d.is_empty() {
                        "no change".to_owned()
                    } else {
                        d.join("; ")
                    }
                },
                sum.pairs,
                sum.breaking
            ),
            results: &results,
            clients: plan.clients.clone(),
            servers: plan.servers.clone(),
            policy,
            options: opts,
            profiles,
            hosts: plan.hosts.clone(),
        };
        std::fs::write(path, report::html(&report))
            .map_err(|e| CliError::new(format!("cannot write {path}: {e}")))?;
    }

    let breaks = results.iter().any(PairResult::breaks);
    if args.json {
        let doc = InteropJson {
            policy: PolicyJson {
                client_min: change.client_min.map(|m| hex32(m.bits())),
                server_min: change.server_min.map(|m| hex32(m.bits())),
                client_lm_level: change.client_lm_level.map(LmCompatibilityLevel::level),
                server_lm_level: change.server_lm_level.map(LmCompatibilityLevel::level),
                semantics: semantics.name(),
                switches: report::switches(&semantics)
                    .into_iter()
                    .map(|(k, v, _)| (k.to_owned(), serde_json::Value::from(v)))
                    .collect(),
                sign: args.sign,
                seal: args.seal,
                engine: engine.name(),
                not_reached: reach,
                restrict: ntlmsim::restrict::describe(&restrict),
            },
            pairs: results
                .iter()
                .map(|r| PairJson {
                    client: &r.client,
                    server: &r.server,
                    client_profile: &r.client_profile,
                    server_profile: &r.server_profile,
                    before: outcome(&r.before),
                    after: outcome(&r.after),
                    breaks: r.breaks(),
                    change: r.change().name(),
                })
                .collect(),
            summary: summary(&results),
        };
        serde_json::to_writer_pretty(&mut *out, &doc).map_err(|e| bad("JSON", e))?;
        out.push(b'\n');
    } else {
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let dense = plan.clients.len().saturating_mul(plan.servers.len());
        let as_list = args.list
            || results.len() > GRID_MAX_PAIRS
            || (args.fleet.is_some() && results.len().saturating_mul(2) < dense);
        let mut text = human(
            &plan,
            &results,
            &change,
            &ntlmsim::restrict::describe(&restrict),
            &opts,
            &reach,
            View {
                as_list,
                paint: Paint(colour),
                fleet: args.fleet.is_some(),
            },
        );
        if let Some(path) = &args.html {
            let _ = writeln!(text, "report: {path}");
        }
        out.extend_from_slice(text.as_bytes());
    }
    Ok(if breaks {
        Status::Negative
    } else {
        Status::Success
    })
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
