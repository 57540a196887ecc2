//! The pairs of an `interop` run and their evaluation: which peers (the
//! catalog's, or a fleet's hosts), which client × server pairs, and each
//! pair decided before and after a policy change, counted and grouped by
//! failure without holding a result per pair. `demo` runs the same
//! evaluation; the views of a run are in ntlm-report.

use ntlm_policy::{Certainty, Failure, MinSessionSecurity, Semantics};
use serde::Serialize;

use crate::fleet::Fleet;
use crate::matrix::{self, Cell, Change, Evaluator, Options, Peer, Policy};
use crate::outcome::{OutcomeJson, hex32};
use crate::profiles::{Catalog, Profile};
use crate::relax::{self, Cause, Configured, Relaxed};
/// A fleet host, as the report lists it.
#[derive(Debug, Clone)]
pub struct HostInfo {
    /// Host name.
    pub name: String,
    /// Profile name.
    pub profile: String,
    /// Its registry values, as text (empty: the profile's defaults).
    pub settings: String,
    /// The fleet file's description of it.
    pub description: Option<String>,
}

/// The pairs of a run, yielded one at a time.
#[derive(Debug)]
pub enum Pairs {
    /// Every client peer with every server peer (the catalog).
    Dense {
        /// The client peers.
        clients: Vec<usize>,
        /// The server peers.
        servers: Vec<usize>,
    },
    /// A fleet's pairs whose client and server pass the filters (per host).
    Fleet {
        /// The fleet.
        fleet: Box<Fleet>,
        /// Per host: whether it passes the client filter.
        client_ok: Vec<bool>,
        /// Per host: whether it passes the server filter.
        server_ok: Vec<bool>,
    },
}

/// The peers and pairs to evaluate.
#[derive(Debug)]
pub struct Plan<'c> {
    /// The peers (profiles, or fleet hosts), by index.
    pub peers: Vec<Peer<'c>>,
    /// The pairs.
    pub pairs: Pairs,
    /// Pairs yielded.
    pub count: usize,
    /// Per peer: whether it is the client (server) of at least one pair.
    pub is_client: Vec<bool>,
    /// Per peer: whether it is the server of at least one pair.
    pub is_server: Vec<bool>,
    /// The clients' names, in order.
    pub clients: Vec<String>,
    /// The servers' names, in order.
    pub servers: Vec<String>,
    /// The fleet's hosts (empty for the catalog).
    pub hosts: Vec<HostInfo>,
    /// Each peer's own Restrict NTLM values (fleet hosts), by index; empty
    /// when no peer has any.
    pub restrict: Vec<ntlm_policy::restrict::Restrictions>,
}

impl Plan<'_> {
    /// The `(client, server)` peer indices, in order.
    pub fn pairs(&self) -> Box<dyn Iterator<Item = (usize, usize)> + '_> {
        match &self.pairs {
            Pairs::Dense { clients, servers } => Box::new(
                clients
                    .iter()
                    .flat_map(move |&c| servers.iter().map(move |&s| (c, s))),
            ),
            Pairs::Fleet {
                fleet,
                client_ok,
                server_ok,
            } => Box::new(fleet.pairs().filter(move |&(c, s)| {
                client_ok.get(c).copied().unwrap_or(false)
                    && server_ok.get(s).copied().unwrap_or(false)
            })),
        }
    }
}

/// The registry values of a fleet host, as text.
pub fn settings_text(p: &Policy) -> String {
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

/// Every client profile with every server profile of `catalog` (the
/// non-synthetic ones when none are named).
pub fn catalog_plan<'c>(
    catalog: &'c Catalog,
    clients: &[String],
    servers: &[String],
) -> Result<Plan<'c>, String> {
    let pick = |wanted: &[String], client: bool| -> Result<Vec<&'c Profile>, String> {
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
                format!(
                    "{}: unknown profile {w:?}; known: {}",
                    if client { "--clients" } else { "--servers" },
                    catalog.names()
                )
            })?;
            let fits = if client {
                p.role.client()
            } else {
                p.role.server()
            };
            if !fits {
                return Err(format!(
                    "{}: profile {} cannot be a {}",
                    if client { "--clients" } else { "--servers" },
                    p.name,
                    if client { "client" } else { "server" }
                ));
            }
            if !out.iter().any(|q| std::ptr::eq(*q, p)) {
                out.push(p);
            }
        }
        Ok(out)
    };
    let clients = pick(clients, true)?;
    let servers = pick(servers, false)?;
    let mut peers: Vec<Peer<'c>> = clients.iter().map(|p| Peer::of(p)).collect();
    peers.extend(servers.iter().map(|p| Peer::of(p)));
    let n = clients.len();
    let (with_clients, with_servers) = (!servers.is_empty(), !clients.is_empty());
    Ok(Plan {
        count: n * servers.len(),
        is_client: (0..peers.len()).map(|i| i < n && with_clients).collect(),
        is_server: (0..peers.len()).map(|i| i >= n && with_servers).collect(),
        pairs: Pairs::Dense {
            clients: (0..n).collect(),
            servers: (n..peers.len()).collect(),
        },
        peers,
        clients: clients.iter().map(|p| p.name.clone()).collect(),
        servers: servers.iter().map(|p| p.name.clone()).collect(),
        hosts: Vec::new(),
        restrict: Vec::new(),
    })
}

/// The pairs of the fleet file `path` (its text), filtered by host or
/// profile names.
pub fn fleet_plan<'c>(
    catalog: &'c Catalog,
    path: &str,
    text: &str,
    clients: &[String],
    servers: &[String],
) -> Result<Plan<'c>, String> {
    let fleet = Fleet::from_toml(text, catalog).map_err(|e| format!("{path}: {e}"))?;
    let peers = fleet.peers(catalog);
    let named = |h: &crate::fleet::Host, w: &str| {
        h.name.eq_ignore_ascii_case(w.trim()) || h.profile.eq_ignore_ascii_case(w.trim())
    };
    for (wanted, flag) in [(clients, "--clients"), (servers, "--servers")] {
        for w in wanted {
            if !fleet.hosts.iter().any(|h| named(h, w)) {
                return Err(format!(
                    "{flag}: {w:?} is neither a host nor a profile of {path}"
                ));
            }
        }
    }
    // The filters, decided once per host rather than once per pair.
    let ok = |wanted: &[String]| -> Vec<bool> {
        fleet
            .hosts
            .iter()
            .map(|h| wanted.is_empty() || wanted.iter().any(|w| named(h, w)))
            .collect()
    };
    let (client_ok, server_ok) = (ok(clients), ok(servers));
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
    let restrict = if fleet.hosts.iter().all(|h| h.restrict.is_default()) {
        Vec::new()
    } else {
        fleet.hosts.iter().map(|h| h.restrict.clone()).collect()
    };
    let mut plan = Plan {
        count: 0,
        is_client: vec![false; fleet.hosts.len()],
        is_server: vec![false; fleet.hosts.len()],
        pairs: Pairs::Fleet {
            fleet: Box::new(fleet),
            client_ok,
            server_ok,
        },
        peers,
        clients: Vec::new(),
        servers: Vec::new(),
        hosts,
        restrict,
    };
    // One pass over the pairs (not stored): how many, and the clients and
    // servers in the order they first appear.
    let (mut clients, mut servers, mut count) = (Vec::new(), Vec::new(), 0usize);
    let (mut is_client, mut is_server) = (plan.is_client.clone(), plan.is_server.clone());
    for (c, s) in plan.pairs() {
        count += 1;
        if let Some(seen) = is_client.get_mut(c).filter(|seen| !**seen) {
            *seen = true;
            clients.push(c);
        }
        if let Some(seen) = is_server.get_mut(s).filter(|seen| !**seen) {
            *seen = true;
            servers.push(s);
        }
    }
    let name = |i: usize| plan.peers.get(i).map(|p| p.name.clone());
    plan.clients = clients.into_iter().filter_map(name).collect();
    plan.servers = servers.into_iter().filter_map(name).collect();
    plan.count = count;
    plan.is_client = is_client;
    plan.is_server = is_server;
    Ok(plan)
}

/// The `summary` object of `interop --json`.
#[derive(Debug, Serialize)]
pub struct SummaryJson {
    /// Pairs evaluated.
    pub pairs: usize,
    /// Pairs the change newly breaks.
    pub breaking: usize,
    /// Of the newly breaking pairs, those that break under every documented
    /// reading of the semantics switches.
    pub breaking_under_every_reading: usize,
    /// Pairs broken before the change too.
    pub already_broken: usize,
    /// Pairs the change fixes.
    pub fixed: usize,
    /// Pairs that work before and after, negotiating differently.
    pub changed: usize,
    /// Pairs the change leaves as they were.
    pub unchanged: usize,
}

/// A value of the change that a peer does not read.
#[derive(Debug, Serialize)]
pub struct NotReachedJson {
    /// The peer (profile or host name).
    pub peer: String,
    /// Its profile.
    pub profile: String,
    /// The value it does not read (`NtlmMinClientSec`, ...).
    pub value: &'static str,
}

/// A verdict as JSON; a failure lists each missing bit with its own rule
/// under `semantics` (`missing_rules`).
pub fn outcome(v: &matrix::Verdict, semantics: &Semantics) -> OutcomeJson {
    match v {
        Ok(r) => OutcomeJson::success(r, None),
        Err(f) => OutcomeJson::failure_under(f, semantics),
    }
}

/// Pairs counted by how their outcome moved.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    /// Pairs evaluated.
    pub pairs: usize,
    /// Newly broken.
    pub breaking: usize,
    /// Newly broken under every documented reading.
    pub breaking_under_every_reading: usize,
    /// Broken before and after.
    pub already_broken: usize,
    /// Fixed by the change.
    pub fixed: usize,
    /// Working, negotiating differently.
    pub changed: usize,
    /// Unchanged.
    pub unchanged: usize,
}

impl Counts {
    /// Counts one pair whose outcome moved as `c` says.
    pub fn add(&mut self, c: Change) {
        self.pairs += 1;
        match c {
            Change::NewlyBroken => self.breaking += 1,
            Change::AlreadyBroken => self.already_broken += 1,
            Change::Fixed => self.fixed += 1,
            Change::Changed => self.changed += 1,
            Change::Unchanged => self.unchanged += 1,
        }
    }

    /// The `summary` object of `interop --json`.
    pub const fn json(&self) -> SummaryJson {
        SummaryJson {
            pairs: self.pairs,
            breaking: self.breaking,
            breaking_under_every_reading: self.breaking_under_every_reading,
            already_broken: self.already_broken,
            fixed: self.fixed,
            changed: self.changed,
            unchanged: self.unchanged,
        }
    }
}

/// Peers that the change does not reach, per value set: (peer, profile, value).
pub fn not_reached(plan: &Plan<'_>, change: &Policy) -> Vec<NotReachedJson> {
    let mut out = Vec::new();
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
        let is_client = plan.is_client.get(i).copied().unwrap_or(false);
        let is_server = plan.is_server.get(i).copied().unwrap_or(false);
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

/// The most names a human-readable list shows.
pub const LIST_MAX: usize = 40;

/// What one distinct outcome is, for the counts and groups.
#[derive(Debug, Clone)]
pub struct Info {
    /// How the outcome moved.
    pub change: Change,
    /// Its group among the newly breaking (see [`breaking`]).
    pub group: Option<usize>,
    /// Pairs with this outcome.
    pub pairs: usize,
    /// Whether its after verdict holds under every documented reading
    /// (known once [`certainties`] has run).
    pub certainty: Option<Certainty>,
}

/// Newly breaking pairs with the same failure.
#[derive(Debug)]
pub struct Group {
    /// The failure.
    pub failure: Failure,
    /// Pairs in the group.
    pub count: usize,
    /// The distinct outcomes in the group.
    pub outcomes: Vec<usize>,
    /// The first [`LIST_MAX`] pairs (peer indices).
    pub sample: Vec<(usize, usize)>,
}

/// A run evaluated: the counts, the groups, and what it takes to go over the
/// pairs again (the evaluator, which now knows every outcome, and the
/// compact cells when they were kept).
#[derive(Debug)]
pub struct Run<'r, 'c> {
    /// The plan evaluated.
    pub plan: &'r Plan<'c>,
    /// The evaluator, which knows every outcome.
    pub ev: Evaluator<'r, 'c>,
    /// The compact cells, when kept.
    pub cells: Option<Vec<Cell>>,
    /// Per distinct outcome.
    pub info: Vec<Info>,
    /// The counts.
    pub counts: Counts,
    /// The newly breaking pairs by failure.
    pub groups: Vec<Group>,
    /// The first [`LIST_MAX`] fixed pairs.
    pub fixed: Vec<(usize, usize)>,
}

impl Run<'_, '_> {
    /// The certainty of outcome `o`'s after verdict, once computed.
    pub fn certainty(&self, o: usize) -> Option<&Certainty> {
        self.info.get(o).and_then(|i| i.certainty.as_ref())
    }

    /// Calls `f(client, server, outcome)` for every pair in order, until it
    /// returns false.
    pub fn each(&self, f: &mut dyn FnMut(usize, usize, usize) -> bool) {
        match &self.cells {
            Some(cells) => {
                for c in cells {
                    if !f(c.client as usize, c.server as usize, c.outcome as usize) {
                        return;
                    }
                }
            }
            None => {
                for (c, s) in self.plan.pairs() {
                    if let Some(o) = self.ev.known(c, s) {
                        if !f(c, s, o as usize) {
                            return;
                        }
                    }
                }
            }
        }
    }

    /// The name of peer `i`.
    pub fn name(&self, i: usize) -> &str {
        self.plan.peers.get(i).map_or("?", |p| p.name.as_str())
    }
}

fn same_failure(g: &Failure, f: &Failure) -> bool {
    g.side == f.side
        && g.stage == f.stage
        && g.status == f.status
        && g.missing == f.missing
        && g.rule.id == f.rule.id
}

/// Decides every pair of `plan` (each distinct pair of kinds once) and
/// counts them, holding per pair only a compact cell, and only with
/// `keep_cells`.
pub fn evaluate<'r, 'c>(
    plan: &'r Plan<'c>,
    change: &Policy,
    restricting: &matrix::Restricting,
    opts: &Options,
    before_binding: ntlm_policy::BindingPolicy,
    keep_cells: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Run<'r, 'c> {
    let mut run = Run {
        plan,
        ev: Evaluator::new(&plan.peers, change, opts)
            .with_restrictions(restricting.clone())
            .binding_before(before_binding),
        cells: keep_cells.then(Vec::new),
        info: Vec::new(),
        counts: Counts::default(),
        groups: Vec::new(),
        fixed: Vec::new(),
    };
    let total = plan.count;
    for (done, (c, s)) in plan.pairs().enumerate() {
        if done % 4096 == 0 {
            progress(done, total);
        }
        let Some(cell) = run.ev.cell(c, s) else {
            continue;
        };
        let o = cell.outcome as usize;
        while run.info.len() < run.ev.outcomes().len() {
            let Some(x) = run.ev.outcomes().get(run.info.len()) else {
                break;
            };
            let change = x.change();
            let group = match (&x.after, change) {
                (Err(f), Change::NewlyBroken) => Some(
                    match run.groups.iter().position(|g| same_failure(&g.failure, f)) {
                        Some(g) => g,
                        None => {
                            run.groups.push(Group {
                                failure: *f,
                                count: 0,
                                outcomes: Vec::new(),
                                sample: Vec::new(),
                            });
                            run.groups.len() - 1
                        }
                    },
                ),
                _ => None,
            };
            if let Some(g) = group.and_then(|g| run.groups.get_mut(g)) {
                g.outcomes.push(run.info.len());
            }
            run.info.push(Info {
                change,
                group,
                pairs: 0,
                certainty: None,
            });
        }
        let Some(info) = run.info.get_mut(o) else {
            continue;
        };
        info.pairs += 1;
        let (change, group) = (info.change, info.group);
        run.counts.add(change);
        if let Some(g) = group.and_then(|g| run.groups.get_mut(g)) {
            g.count += 1;
            if g.sample.len() < LIST_MAX {
                g.sample.push((c, s));
            }
        }
        if change == Change::Fixed && run.fixed.len() < LIST_MAX {
            run.fixed.push((c, s));
        }
        if let Some(cells) = &mut run.cells {
            cells.push(cell);
        }
    }
    progress(total, total);
    run
}

/// Computes the certainty of the after verdicts ([`Evaluator::certainty`]):
/// of every distinct outcome with `all`, else of the newly breaking ones
/// (what the human output shows). Counts the newly breaking pairs whose
/// verdict holds under every documented reading.
pub fn certainties(run: &mut Run<'_, '_>, all: bool) {
    for o in 0..run.info.len() {
        let Some(info) = run.info.get(o) else {
            continue;
        };
        if !all && info.change != Change::NewlyBroken {
            continue;
        }
        let c = u32::try_from(o).ok().and_then(|i| run.ev.certainty(i));
        if let Some(info) = run.info.get_mut(o) {
            if info.change == Change::NewlyBroken
                && c.as_ref().is_some_and(Certainty::holds_under_every_reading)
            {
                run.counts.breaking_under_every_reading += info.pairs;
            }
            info.certainty = c;
        }
    }
}

/// A cause, the side whose value is relaxed, the relaxed value and the pairs
/// to simulate it on.
type Pending = (Cause, ntlm_policy::Side, u32, Vec<(usize, usize)>);

/// Pairs simulated per relaxed value in the HTML report (the rest are counted).
const RELAX_CHECK_MAX: usize = 100_000;

/// The relaxed values of the HTML report's "What to do" section, simulated:
/// for each minimum-security cause of newly broken pairs, the changed value
/// without the missing bits ([`relax::relaxed_value`]), run on that
/// cause's pairs (at most [`RELAX_CHECK_MAX`] of them) with everything else
/// as in the change.
pub fn relaxed_checks(
    run: &Run<'_, '_>,
    plan: &Plan<'_>,
    change: &Policy,
    opts: &Options,
    configured: Configured,
) -> Vec<Relaxed> {
    let mut pending: Vec<Pending> = Vec::new();
    let outcomes = run.ev.outcomes();
    run.each(&mut |c, s, o| {
        let Some(x) = outcomes.get(o) else {
            return true;
        };
        let (Change::NewlyBroken, Err(f)) = (x.change(), &x.after) else {
            return true;
        };
        let Some((side, value)) = relax::relaxed_value(f, configured) else {
            return true;
        };
        let cause = Cause::of(f);
        let i = match pending.iter().position(|p| p.0 == cause) {
            Some(i) => i,
            None => {
                pending.push((cause, side, value, Vec::new()));
                pending.len() - 1
            }
        };
        if let Some(p) = pending.get_mut(i)
            && p.3.len() < RELAX_CHECK_MAX
        {
            p.3.push((c, s));
        }
        true
    });
    pending
        .into_iter()
        .map(|(cause, side, value, pairs)| {
            let mut relaxed = *change;
            let v = Some(MinSessionSecurity::from_registry(value));
            match side {
                ntlm_policy::Side::Server => relaxed.server_min = v,
                ntlm_policy::Side::Client => relaxed.client_min = v,
            }
            let mut ev = Evaluator::new(&plan.peers, &relaxed, opts);
            let mut out = Relaxed {
                cause,
                value,
                checked: 0,
                works: 0,
                example: None,
            };
            for (c, s) in pairs {
                let Some(o) = ev.outcome(c, s) else {
                    continue;
                };
                let Some(x) = ev.outcomes().get(o as usize) else {
                    continue;
                };
                out.checked += 1;
                match &x.after {
                    Ok(_) => out.works += 1,
                    Err(f) => {
                        if out.example.is_none() {
                            let name =
                                |i: usize| plan.peers.get(i).map_or("?", |p| p.name.as_str());
                            out.example = Some(format!(
                                "{} \u{2192} {}: {}",
                                name(c),
                                name(s),
                                relax::failure_line(f)
                            ));
                        }
                    }
                }
            }
            out
        })
        .collect()
}

/// The Restrict NTLM settings the change adds (`--client-restrict`, ...).
pub fn restrict_path(
    client: &[String],
    server: &[String],
    dc: &[String],
) -> Result<ntlm_session::RestrictPath, String> {
    let read = |v: &[String], what: &str| {
        crate::restrict::from_pastes(v).map_err(|e| format!("{what}: {e}"))
    };
    Ok(ntlm_session::RestrictPath {
        client: read(client, "--client-restrict")?,
        server: read(server, "--server-restrict")?,
        dc: read(dc, "--dc-restrict")?,
        target: None,
        transport: ntlm_policy::restrict::Transport::Other,
    })
}

/// Restrict NTLM on each peer: a fleet host's own values before and after,
/// the change's (`--client-restrict`, `--server-restrict`) after, overriding
/// the host's where given; the change's DC values after. They reach only
/// peers that read Windows policy ([`matrix::Evaluator::with_restrictions`]).
pub fn restricting(
    plan: &Plan<'_>,
    change: &ntlm_session::RestrictPath,
    client_given: bool,
    server_given: bool,
) -> matrix::Restricting {
    let none = ntlm_policy::restrict::Restrictions::default();
    let peers = (0..plan.peers.len())
        .map(|i| {
            let own = plan.restrict.get(i).unwrap_or(&none);
            // A peer is one host in both roles: the change's client values
            // are its outgoing ones, its server values its incoming ones.
            let mut after = own.clone();
            if client_given {
                after.outgoing = change.client.outgoing;
                after
                    .outgoing_exceptions
                    .clone_from(&change.client.outgoing_exceptions);
                after.smb_block_ntlm = change.client.smb_block_ntlm;
                after
                    .smb_exceptions
                    .clone_from(&change.client.smb_exceptions);
                after.ntlmv1_sso = change.client.ntlmv1_sso;
            }
            if server_given {
                after.incoming = change.server.incoming;
                after.audit_incoming = change.server.audit_incoming;
            }
            (own.clone(), after)
        })
        .collect();
    matrix::Restricting {
        peers,
        dc: change.dc.clone(),
    }
}
