//! `ntlmsim interop` (docs/CLI.md): which client × server pairs a policy
//! change breaks, over the built-in profiles or a fleet file.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;

use clap::Args;
use ntlm_policy::{Certainty, Failure, LmCompatibilityLevel, MinSessionSecurity, Semantics};
use ntlmsim::actions;
use ntlmsim::fleet::Fleet;
use ntlmsim::matrix::{
    self, Application, Cell, Change, Engine, Evaluator, Matrix, Options, PairRef, PairSet, Peer,
    Policy,
};
use ntlmsim::outcome::{CertaintyJson, OutcomeJson, hex32, names, verdict_words};
use ntlmsim::profiles::{AssumedFacts, Catalog, Profile, assumed_facts};
use ntlmsim::report::{self, HostInfo, Report};
use ntlmsim::sink;
use serde::Serialize;

use super::profiles::{fit, load_catalog, wrap};
use super::{CliError, Status, term};

/// Every client × server pair before and after a policy change.
#[derive(Debug, Args)]
#[command(after_help = "\
The change applies only on the sides given: --server-min changes servers, --client-min clients,
and each value reaches only peers that read it (Windows reads NtlmMinClientSec, NtlmMinServerSec
and LmCompatibilityLevel; Samba, curl, Linux and the other non-Windows peers read none; see
`ntlmsim profiles`). Before the change every peer runs with its profile's defaults, or with its
values from the fleet file. --binding settings (Extended Protection, LDAP channel binding and
signing, SMB SPN validation) change every server, over --carrier; the clients send channel bindings
and target names as their profiles say (`ntlmsim profiles NAME`, docs/POLICY.md).

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
  ntlmsim interop --carrier https --binding extended-protection=require

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
    /// Also write a self-contained HTML report to FILE: what to do (the newly broken pairs by
    /// cause, the hosts to change, a relaxed value simulated), the grid, the sources
    #[arg(long, value_name = "FILE")]
    html: Option<String>,
    /// List the pairs instead of drawing the grid
    #[arg(long)]
    list: bool,
    /// Print one JSON document
    #[arg(long)]
    json: bool,
    /// What carries every exchange: http, https, ldap, ldaps, smb or other (see `ntlmsim handshake
    /// --help`)
    #[arg(long, value_name = "CARRIER", default_value = "other")]
    carrier: String,
    /// New server setting NAME=VALUE for every server (repeatable): extended-protection=allow,
    /// ldap-channel-binding=2, ldap-signing=2, smb-name-hardening=1, ...
    #[arg(long = "binding", value_name = "NAME=VALUE")]
    bindings: Vec<String>,
    /// How an all-zero MsvAvChannelBindings is read when bindings are checked "when supported":
    /// refused or accepted
    #[arg(long, value_name = "READING", default_value = "refused")]
    zero_channel_bindings: String,
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

/// The pairs of a run, yielded one at a time.
enum Pairs {
    /// Every client peer with every server peer (the catalog).
    Dense {
        clients: Vec<usize>,
        servers: Vec<usize>,
    },
    /// A fleet's pairs whose client and server pass the filters (per host).
    Fleet {
        fleet: Box<Fleet>,
        client_ok: Vec<bool>,
        server_ok: Vec<bool>,
    },
}

/// The peers and pairs to evaluate.
struct Plan<'c> {
    peers: Vec<Peer<'c>>,
    pairs: Pairs,
    /// Pairs yielded.
    count: usize,
    /// Per peer: whether it is the client (server) of at least one pair.
    is_client: Vec<bool>,
    is_server: Vec<bool>,
    clients: Vec<String>,
    servers: Vec<String>,
    hosts: Vec<HostInfo>,
    /// Each peer's own Restrict NTLM values (fleet hosts), by index; empty
    /// when no peer has any.
    restrict: Vec<ntlm_policy::restrict::Restrictions>,
}

impl Plan<'_> {
    /// The `(client, server)` peer indices, in order.
    fn pairs(&self) -> Box<dyn Iterator<Item = (usize, usize)> + '_> {
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

fn fleet_plan<'c>(
    catalog: &'c Catalog,
    path: &str,
    args: &InteropArgs,
) -> Result<Plan<'c>, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::new(format!("cannot read fleet {path}: {e}")))?;
    let fleet = Fleet::from_toml(&text, catalog).map_err(|e| bad(path, e))?;
    let peers = fleet.peers(catalog);
    let named = |h: &ntlmsim::fleet::Host, w: &str| {
        h.name.eq_ignore_ascii_case(w.trim()) || h.profile.eq_ignore_ascii_case(w.trim())
    };
    for (wanted, flag) in [(&args.clients, "--clients"), (&args.servers, "--servers")] {
        for w in wanted {
            if !fleet.hosts.iter().any(|h| named(h, w)) {
                return Err(CliError::new(format!(
                    "{flag}: {w:?} is neither a host nor a profile of {path}"
                )));
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
    let (client_ok, server_ok) = (ok(&args.clients), ok(&args.servers));
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
    /// Whether the after verdict holds under every documented reading.
    certainty: Option<CertaintyJson>,
    /// What is assumed of the two profiles in the roles they play
    /// ([`ntlmsim::profiles::assumed_facts`]): the verdicts rest on it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    assumed: Vec<AssumedFacts>,
}

#[derive(Serialize)]
struct SummaryJson {
    pairs: usize,
    breaking: usize,
    /// Of the newly breaking pairs, those that break under every documented
    /// reading of the semantics switches.
    breaking_under_every_reading: usize,
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
    /// The carrier, when not `other`.
    #[serde(skip_serializing_if = "Option::is_none")]
    carrier: Option<&'static str>,
    /// The new channel-binding settings of the servers, when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    binding: Option<String>,
}

#[derive(Serialize)]
struct InteropJson<'a> {
    policy: PolicyJson,
    pairs: Vec<PairJson<'a>>,
    summary: SummaryJson,
}

/// A verdict as JSON; a failure lists each missing bit with its own rule
/// under `semantics` (`missing_rules`).
fn outcome(v: &matrix::Verdict, semantics: &Semantics) -> OutcomeJson {
    match v {
        Ok(r) => OutcomeJson::success(r, None),
        Err(f) => OutcomeJson::failure_under(f, semantics),
    }
}

/// Pairs counted by how their outcome moved.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    pairs: usize,
    breaking: usize,
    breaking_under_every_reading: usize,
    already_broken: usize,
    fixed: usize,
    changed: usize,
    unchanged: usize,
}

impl Counts {
    fn add(&mut self, c: Change) {
        self.pairs += 1;
        match c {
            Change::NewlyBroken => self.breaking += 1,
            Change::AlreadyBroken => self.already_broken += 1,
            Change::Fixed => self.fixed += 1,
            Change::Changed => self.changed += 1,
            Change::Unchanged => self.unchanged += 1,
        }
    }

    const fn json(&self) -> SummaryJson {
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
fn not_reached(plan: &Plan<'_>, change: &Policy) -> Vec<NotReachedJson> {
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

/// Standard output, buffered; a closed pipe (`| head`) ends the writing
/// quietly, as the reader's choice.
struct Out<'w> {
    w: std::io::BufWriter<&'w mut dyn std::io::Write>,
    closed: bool,
}

impl<'w> Out<'w> {
    fn new(w: &'w mut dyn std::io::Write) -> Self {
        Self {
            w: std::io::BufWriter::with_capacity(1 << 16, w),
            closed: false,
        }
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), CliError> {
        if self.closed {
            return Ok(());
        }
        let r = self.w.write_all(bytes);
        self.check(r)
    }

    fn check(&mut self, r: std::io::Result<()>) -> Result<(), CliError> {
        match r {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            Err(e) => Err(bad("cannot write to standard output", e)),
        }
    }

    fn finish(mut self) -> Result<(), CliError> {
        if self.closed {
            return Ok(());
        }
        let r = self.w.flush();
        self.check(r)
    }
}

/// Writes the `--json` document, pairs streamed: byte for byte what
/// serializing [`InteropJson`] with every pair in it gives (a test checks
/// this), without holding the pairs. Each distinct outcome's JSON is
/// rendered once; a pair adds its four names.
fn write_json(
    head: &InteropJson<'_>,
    run: &Run<'_, '_>,
    semantics: &Semantics,
    out: &mut Out<'_>,
) -> Result<(), CliError> {
    let doc = serde_json::to_string_pretty(head).map_err(|e| bad("JSON", e))?;
    // `"pairs": []` cannot occur inside a JSON string (its quotes would be
    // escaped), and comes after the policy: the last one is the key.
    const EMPTY: &str = "\"pairs\": []";
    let at = doc
        .rfind(EMPTY)
        .ok_or_else(|| CliError::new("JSON: the pairs key is missing"))?;
    let (prefix, rest) = doc.split_at(at + EMPTY.len() - 1);
    out.put(prefix.as_bytes())?;
    // The part of each distinct outcome's pair object after the names, as
    // it sits in the document (pairs are 4 spaces deep).
    let tails = run
        .ev
        .outcomes()
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let item = PairJson {
                client: "",
                server: "",
                client_profile: "",
                server_profile: "",
                before: outcome(&o.before, semantics),
                after: outcome(&o.after, semantics),
                breaks: o.before.is_ok() && o.after.is_err(),
                change: o.change().name(),
                certainty: run
                    .certainty(i)
                    .map(|c| CertaintyJson::new(c, o.after.is_ok())),
                assumed: run.assumed(i),
            };
            let text = serde_json::to_string_pretty(&item)
                .map_err(|e| bad("JSON", e))?
                .replace('\n', "\n    ");
            text.find("\n      \"before\": ")
                .and_then(|i| text.get(i + 1..))
                .map(str::to_owned)
                .ok_or_else(|| CliError::new("JSON: unexpected pair layout"))
        })
        .collect::<Result<Vec<String>, CliError>>()?;
    let quoted = |s: &str| serde_json::to_string(s).map_err(|e| bad("JSON", e));
    let names = run
        .plan
        .peers
        .iter()
        .map(|p| Ok((quoted(&p.name)?, quoted(&p.profile.name)?)))
        .collect::<Result<Vec<(String, String)>, CliError>>()?;
    let mut buf = String::with_capacity(1 << 16);
    let mut first = true;
    let mut failed = None;
    run.each(&mut |c, s, o| {
        let (Some((cn, cp)), Some((sn, sp)), Some(tail)) =
            (names.get(c), names.get(s), tails.get(o))
        else {
            return true;
        };
        buf.push_str(if first { "\n    {\n" } else { ",\n    {\n" });
        first = false;
        for (key, value) in [
            ("client", cn),
            ("server", sn),
            ("client_profile", cp),
            ("server_profile", sp),
        ] {
            buf.push_str("      \"");
            buf.push_str(key);
            buf.push_str("\": ");
            buf.push_str(value);
            buf.push_str(",\n");
        }
        buf.push_str(tail);
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
    buf.push_str(if first { "]" } else { "\n  ]" });
    buf.push_str(rest.get(1..).unwrap_or_default());
    buf.push('\n');
    out.put(buf.as_bytes())
}

/// What one distinct outcome is, for the counts and groups.
#[derive(Debug, Clone)]
struct Info {
    change: Change,
    /// Its group among the newly breaking (see [`breaking`]).
    group: Option<usize>,
    /// Pairs with this outcome.
    pairs: usize,
    /// Whether its after verdict holds under every documented reading
    /// (known once [`certainties`] has run).
    certainty: Option<Certainty>,
}

/// Newly breaking pairs with the same failure.
struct Group {
    failure: Failure,
    count: usize,
    /// The distinct outcomes in the group.
    outcomes: Vec<usize>,
    /// The first [`LIST_MAX`] pairs (peer indices).
    sample: Vec<(usize, usize)>,
}

/// A run evaluated: the counts, the groups, and what it takes to go over the
/// pairs again (the evaluator, which now knows every outcome, and the
/// compact cells when they were kept).
struct Run<'r, 'c> {
    plan: &'r Plan<'c>,
    ev: Evaluator<'r, 'c>,
    cells: Option<Vec<Cell>>,
    info: Vec<Info>,
    counts: Counts,
    groups: Vec<Group>,
    /// The first [`LIST_MAX`] fixed pairs.
    fixed: Vec<(usize, usize)>,
}

impl Run<'_, '_> {
    /// The certainty of outcome `o`'s after verdict, once computed.
    fn certainty(&self, o: usize) -> Option<&Certainty> {
        self.info.get(o).and_then(|i| i.certainty.as_ref())
    }

    /// What is assumed of the profiles of outcome `o` in their roles.
    fn assumed(&self, o: usize) -> Vec<AssumedFacts> {
        u32::try_from(o)
            .ok()
            .and_then(|i| self.ev.profiles_of(i))
            .map(|(c, s)| assumed_facts(Some(c), Some(s)))
            .unwrap_or_default()
    }

    /// Calls `f(client, server, outcome)` for every pair in order, until it
    /// returns false.
    fn each(&self, f: &mut dyn FnMut(usize, usize, usize) -> bool) {
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

    fn name(&self, i: usize) -> &str {
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
fn evaluate<'r, 'c>(
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
fn certainties(run: &mut Run<'_, '_>, all: bool) {
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
type Pending = (actions::Cause, ntlm_policy::Side, u32, Vec<(usize, usize)>);

/// Pairs simulated per relaxed value in the HTML report (the rest are counted).
const RELAX_CHECK_MAX: usize = 100_000;

/// The relaxed values of the HTML report's "What to do" section, simulated:
/// for each minimum-security cause of newly broken pairs, the changed value
/// without the missing bits ([`actions::relaxed_value`]), run on that
/// cause's pairs (at most [`RELAX_CHECK_MAX`] of them) with everything else
/// as in the change.
fn relaxed_checks(
    run: &Run<'_, '_>,
    plan: &Plan<'_>,
    change: &Policy,
    opts: &Options,
    configured: actions::Configured,
) -> Vec<actions::Relaxed> {
    let mut pending: Vec<Pending> = Vec::new();
    let outcomes = run.ev.outcomes();
    run.each(&mut |c, s, o| {
        let Some(x) = outcomes.get(o) else {
            return true;
        };
        let (Change::NewlyBroken, Err(f)) = (x.change(), &x.after) else {
            return true;
        };
        let Some((side, value)) = actions::relaxed_value(f, configured) else {
            return true;
        };
        let cause = actions::Cause::of(f);
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
            let mut out = actions::Relaxed {
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
                                report::failure_line(f)
                            ));
                        }
                    }
                }
            }
            out
        })
        .collect()
}

// --- Human output -----------------------------------------------------------

/// The screen width the human output keeps to: 100 columns, fewer on a
/// narrower terminal (see `term`).
fn width() -> usize {
    term::width()
}
/// Above this many pairs (or for a sparse fleet) the grid becomes a list.
const GRID_MAX_PAIRS: usize = 600;
/// The most names a human-readable list shows.
const LIST_MAX: usize = 40;
/// Above this many pairs a progress indicator is shown on a terminal.
const PROGRESS_MIN_PAIRS: usize = 2_000;

#[derive(Clone, Copy)]
struct Paint(bool);

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
        if !self.0 {
            return text.to_owned();
        }
        format!("\x1b[{}m{text}\x1b[0m", Self::code(c))
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

fn code(change: Change, after: &matrix::Verdict) -> String {
    match (change, after) {
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
    let per_block = (width().saturating_sub(cw + 1) / CELL).max(1);
    let keys: Vec<String> = (0..plan.servers.len()).map(key).collect();
    // Server legend.
    let mut legend = String::from("servers:");
    let mut col = legend.len();
    for (k, name) in keys.iter().zip(&plan.servers) {
        let item = format!("{k} {}", sink::terminal_bounded(name, NAME_CHARS));
        let len = item.chars().count() + 2;
        if col + len > width() {
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
fn list(run: &Run<'_, '_>, paint: Paint, out: &mut Out<'_>) -> Result<(), CliError> {
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
                Err(f) => side_stage(f),
            };
            let after = match &o.after {
                Ok(_) => "ok".to_owned(),
                Err(f) => format!("{} {}", side_stage(f), f.status.name()),
            };
            let (open, close) = if paint.0 {
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
        let head = wrap(
            &format!("[{}] {}", i + 1, report::failure_line(f)),
            width(),
            6,
        );
        let _ = writeln!(s, "\n  {}", paint.paint(&head, Change::NewlyBroken));
        if !f.missing.is_empty() {
            let _ = writeln!(
                s,
                "      missing {} {}",
                hex32(f.missing.bits()),
                // After `      missing 0x12345678 `.
                wrap(&names(f.missing).join(" | "), width(), 25)
            );
        }
        let _ = writeln!(
            s,
            "      rule {}: {}",
            f.rule.id,
            wrap(
                &format!("{} [{}]", f.rule.source, f.rule.basis),
                width(),
                // After `      rule ID: `.
                13 + f.rule.id.len()
            )
        );
        group_certainty(run, g, s);
        group_assumed(run, g, s);
        let items = capped(pair_names(run, &g.sample), g.count);
        let head = format!(
            "      {} pair{}:",
            g.count,
            if g.count == 1 { "" } else { "s" }
        );
        let indent = head.chars().count() + 1;
        let _ = writeln!(s, "{head} {}", wrap_items(&items, width(), indent, 10));
    }
}

/// The profiles whose assumed facts a group of newly breaking pairs rests
/// on, by name and role (the facts follow the groups, [`assumed_section`]).
fn group_assumed(run: &Run<'_, '_>, g: &Group, s: &mut String) {
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
        wrap_items(&items, width(), head.len() + 1, head.len() + 1)
    );
}

/// Once, after the groups: each assumed fact the newly breaking verdicts
/// rest on, with its profile and role.
fn assumed_section(run: &Run<'_, '_>, s: &mut String) {
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
            width(),
            0
        )
    );
    for a in &seen {
        let _ = writeln!(
            s,
            "  {} as {}:\n    {}",
            sink::terminal_bounded(&a.profile, NAME_CHARS),
            a.role,
            wrap(&a.facts, width(), 4)
        );
    }
}

/// The certainty line(s) of a group of newly breaking pairs: one when every
/// outcome in it is as certain, else one per distinct account with its
/// pair count.
fn group_certainty(run: &Run<'_, '_>, g: &Group, s: &mut String) {
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
        let _ = writeln!(s, "{head} {}", wrap(text, width(), indent));
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
fn describe_all(change: &Policy, opts: &Options) -> Vec<String> {
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
struct View {
    /// Pairs listed instead of a grid.
    as_list: bool,
    /// ANSI colours.
    paint: Paint,
    /// The pairs come from a fleet file.
    fleet: bool,
}

fn human(
    run: &Run<'_, '_>,
    matrix: Option<&Matrix<'_, '_>>,
    (change, restrict): (&Policy, &[String]),
    opts: &Options,
    reach: &[NotReachedJson],
    view: View,
    out: &mut Out<'_>,
) -> Result<(), CliError> {
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
            width(),
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
                width(),
                8
            )
        );
    }
    for (i, l) in lines.iter().enumerate() {
        let _ = writeln!(
            s,
            "{}{}",
            if i == 0 { "change: " } else { "        " },
            wrap(l, width(), 8)
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
            let _ = writeln!(s, "{head} {}", wrap_items(&peers, width(), indent, 8));
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
                    width(),
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
    assumed_section(run, &mut s);
    let nfixed = run.counts.fixed;
    if nfixed > 0 {
        let fixed = capped(pair_names(run, &run.fixed), nfixed);
        let _ = writeln!(
            s,
            "\n{} fixed: {}",
            paint.paint(&format!("{nfixed} pair(s)"), Change::Fixed),
            wrap_items(&fixed, width(), 14 + nfixed.to_string().len(), 2)
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
        let _ = writeln!(s, "\ncertainty: {}", wrap(&line, width(), 11));
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

/// Restrict NTLM on each peer: a fleet host's own values before and after,
/// the change's (`--client-restrict`, `--server-restrict`) after, overriding
/// the host's where given; the change's DC values after. They reach only
/// peers that read Windows policy ([`matrix::Evaluator::with_restrictions`]).
fn restricting(
    plan: &Plan<'_>,
    change: &ntlm_session::RestrictPath,
    args: &InteropArgs,
) -> matrix::Restricting {
    let (client_given, server_given) = (
        !args.client_restrict.is_empty(),
        !args.server_restrict.is_empty(),
    );
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

pub(crate) fn run(args: &InteropArgs, stdout: &mut dyn std::io::Write) -> Result<Status, CliError> {
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
    let restrict = restrict_path(args)?;
    let carrier = ntlmsim::binding::carrier(&args.carrier).map_err(CliError::new)?;
    let binding = ntlmsim::binding::policy(&args.bindings, &args.zero_channel_bindings)
        .map_err(CliError::new)?;
    // Before: the carrier with no channel-binding setting; after: with them.
    let before_opts = Options {
        app: Application {
            sign: args.sign,
            seal: args.seal,
        },
        semantics,
        engine,
        carrier,
        ..Options::default()
    };
    let opts = Options {
        binding,
        ..before_opts
    };

    let mut line = term::Progress::new(plan.count >= PROGRESS_MIN_PAIRS);
    let mut progress = |done: usize, total: usize| {
        if done >= total {
            line.clear();
        } else {
            line.show(&format!("evaluating pairs: {done}/{total}"));
        }
    };
    // Per-pair cells are kept only for the views that need every pair at
    // once: the HTML report and the grid (a few hundred pairs at most).
    let keep_cells = args.html.is_some() || (!args.json && plan.count <= GRID_MAX_PAIRS);
    let mut run = evaluate(
        &plan,
        &change,
        &restricting(&plan, &restrict, args),
        &opts,
        before_opts.binding,
        keep_cells,
        &mut progress,
    );
    certainties(&mut run, args.json || args.html.is_some());
    let matrix = run.cells.clone().map(|cells| run.ev.matrix(cells));
    let reach = not_reached(&plan, &change);

    if let (Some(path), Some(matrix)) = (&args.html, &matrix) {
        let mut profiles: Vec<&Profile> = Vec::new();
        for p in &plan.peers {
            if !profiles.iter().any(|q| std::ptr::eq(*q, p.profile)) {
                profiles.push(p.profile);
            }
        }
        let mut policy: Vec<(String, String)> = describe_all(&change, &opts)
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
        let configured = actions::Configured {
            client_min: change.client_min.map(|m| m.bits()),
            server_min: change.server_min.map(|m| m.bits()),
            clients_changed: change.client_min.is_some() || change.client_lm_level.is_some(),
            servers_changed: change.server_min.is_some() || change.server_lm_level.is_some(),
        };
        let report = Report {
            title: "NTLM policy impact".into(),
            summary: format!(
                "{} \u{2014} {} pairs, {} newly break",
                {
                    let d = describe_all(&change, &opts);
                    if d.is_empty() {
                        "no change".to_owned()
                    } else {
                        d.join("; ")
                    }
                },
                run.counts.pairs,
                run.counts.breaking
            ),
            results: matrix,
            clients: plan.clients.clone(),
            servers: plan.servers.clone(),
            policy,
            options: opts,
            profiles,
            hosts: plan.hosts.clone(),
            certainties: run
                .info
                .iter()
                .zip(run.ev.outcomes())
                .map(|(i, o)| {
                    let (verdict, opposite) = verdict_words(o.after.is_ok());
                    i.certainty.as_ref().map(|c| {
                        (
                            c.summary(verdict, opposite).to_string(),
                            c.holds_under_every_reading(),
                        )
                    })
                })
                .collect(),
            configured,
            relaxed: relaxed_checks(&run, &plan, &change, &opts, configured),
            not_reached: reach.iter().map(|r| r.peer.clone()).collect(),
        };
        std::fs::write(path, report::html(&report))
            .map_err(|e| CliError::new(format!("cannot write {path}: {e}")))?;
    }

    let breaks = run.counts.breaking > 0;
    let mut out = Out::new(stdout);
    if args.json {
        let head = InteropJson {
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
                carrier: (carrier != ntlm_policy::Carrier::Other).then_some(carrier.name()),
                binding: (!binding.is_default()).then(|| binding.describe()),
            },
            pairs: Vec::new(),
            summary: run.counts.json(),
        };
        write_json(&head, &run, &semantics, &mut out)?;
    } else {
        let colour = term::stdout_colour();
        let dense = plan.clients.len().saturating_mul(plan.servers.len());
        let pairs = run.counts.pairs;
        let as_list = args.list
            || pairs > GRID_MAX_PAIRS
            || (args.fleet.is_some() && pairs.saturating_mul(2) < dense);
        human(
            &run,
            matrix.as_ref(),
            (&change, &ntlmsim::restrict::describe(&restrict)),
            &opts,
            &reach,
            View {
                as_list,
                paint: Paint(colour),
                fleet: args.fleet.is_some(),
            },
            &mut out,
        )?;
        if let Some(path) = &args.html {
            out.put(format!("report: {path}\n").as_bytes())?;
        }
    }
    out.finish()?;
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

    /// The streamed `--json` document is byte for byte the one serializing
    /// every pair at once gives, names with quotes, backslashes and
    /// non-ASCII text included, with and without pairs.
    #[test]
    fn streamed_json_is_the_serialized_document() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: InteropArgs,
        }
        let dir = std::env::temp_dir().join(format!("ntlmsim-json-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fleet = dir.join("fleet.toml");
        std::fs::write(
            &fleet,
            "all_to_all = true\n\
             [[host]]\nname = \"dc \\\"01\\\" \\\\ é\"\nprofile = \"windows-11\"\nNtlmMinServerSec = 0x20000000\n\
             [[host]]\nname = \"ws</script>\"\nprofile = \"windows-xp\"\n\
             [[host]]\nname = \"nas\"\nprofile = \"ntlmv1-nas\"\ntalks_to = [\"dc \\\"01\\\" \\\\ é\"]\n\
             [[host]]\nname = \"curl\"\nprofile = \"curl-7.88\"\n",
        )
        .unwrap();
        let fleet = fleet.to_str().unwrap();
        for argv in [
            vec!["--server-min", "0x20080000"],
            vec!["--fleet", fleet, "--server-min", "0x20080000", "--sign"],
            vec![
                "--fleet",
                fleet,
                "--client-lm-level",
                "5",
                "--servers",
                "nas",
            ],
            vec![
                "--clients",
                "curl-7.88",
                "--servers",
                "windows-xp",
                "--seal",
            ],
        ] {
            let cli = <Cli as clap::Parser>::parse_from(
                ["interop", "--json"]
                    .into_iter()
                    .chain(argv.iter().copied()),
            );
            let args = cli.args;
            let mut streamed = Vec::new();
            run(&args, &mut streamed).unwrap();

            // The document as it was built before streaming: every pair held.
            let (catalog, _) = load_catalog(None).unwrap();
            let plan = match &args.fleet {
                Some(path) => fleet_plan(&catalog, path, &args).unwrap(),
                None => catalog_plan(&catalog, &args).unwrap(),
            };
            let change = Policy {
                client_min: args.client_min.as_deref().map(|m| mask(m, "").unwrap()),
                server_min: args.server_min.as_deref().map(|m| mask(m, "").unwrap()),
                client_lm_level: args
                    .client_lm_level
                    .as_deref()
                    .map(|l| level(l, "").unwrap()),
                server_lm_level: None,
            };
            let opts = Options {
                app: Application {
                    sign: args.sign,
                    seal: args.seal,
                },
                ..Options::default()
            };
            let pairs: Vec<_> = plan.pairs().collect();
            let results = matrix::run_pairs(&plan.peers, &pairs, &change, &opts, &mut |_, _| {});
            let semantics = Semantics::default();
            // Each pair's after verdict under every reading, from whole runs
            // with the full engine (the run under test uses the flags engine
            // for the other readings).
            let mut by_reading: HashMap<Semantics, Vec<bool>> = HashMap::new();
            let mut after_under = |sem: &Semantics, i: usize| {
                by_reading
                    .entry(*sem)
                    .or_insert_with(|| {
                        let o = Options {
                            semantics: *sem,
                            ..opts
                        };
                        matrix::run_pairs(&plan.peers, &pairs, &change, &o, &mut |_, _| {})
                            .iter()
                            .map(|r| r.after.is_ok())
                            .collect()
                    })
                    .get(i)
                    .copied()
            };
            let certainties: Vec<Certainty> = (0..results.len())
                .map(|i| ntlm_policy::certainty(&semantics, |sem| after_under(sem, i)))
                .collect();
            let mut counts = Counts::default();
            for (r, c) in results.iter().zip(&certainties) {
                counts.add(r.change());
                if r.breaks() && c.holds_under_every_reading() {
                    counts.breaking_under_every_reading += 1;
                }
            }
            let doc = InteropJson {
                policy: PolicyJson {
                    client_min: change.client_min.map(|m| hex32(m.bits())),
                    server_min: change.server_min.map(|m| hex32(m.bits())),
                    client_lm_level: change.client_lm_level.map(LmCompatibilityLevel::level),
                    server_lm_level: None,
                    semantics: semantics.name(),
                    switches: report::switches(&semantics)
                        .into_iter()
                        .map(|(k, v, _)| (k.to_owned(), serde_json::Value::from(v)))
                        .collect(),
                    sign: args.sign,
                    seal: args.seal,
                    engine: "full",
                    not_reached: not_reached(&plan, &change),
                    restrict: Vec::new(),
                    carrier: None,
                    binding: None,
                },
                pairs: results
                    .iter()
                    .zip(&certainties)
                    .map(|(r, c)| PairJson {
                        client: &r.client,
                        server: &r.server,
                        client_profile: &r.client_profile,
                        server_profile: &r.server_profile,
                        before: outcome(&r.before, &semantics),
                        after: outcome(&r.after, &semantics),
                        breaks: r.breaks(),
                        change: r.change().name(),
                        certainty: Some(CertaintyJson::new(c, r.after.is_ok())),
                        assumed: assumed_facts(
                            catalog.get(&r.client_profile),
                            catalog.get(&r.server_profile),
                        ),
                    })
                    .collect(),
                summary: counts.json(),
            };
            let mut held = serde_json::to_vec_pretty(&doc).unwrap();
            held.push(b'\n');
            assert!(!results.is_empty());
            let differs = streamed.iter().zip(&held).position(|(a, b)| a != b);
            assert!(
                streamed == held,
                "{argv:?}: {} vs {} bytes, first difference at {differs:?}",
                streamed.len(),
                held.len()
            );
        }
        // No pair at all: `"pairs": []`.
        let cli = <Cli as clap::Parser>::parse_from([
            "interop",
            "--json",
            "--fleet",
            fleet,
            "--clients",
            "curl",
            "--servers",
            "curl",
        ]);
        let mut streamed = Vec::new();
        run(&cli.args, &mut streamed).unwrap();
        let text = String::from_utf8(streamed).unwrap();
        assert!(
            text.contains("\n  \"pairs\": [],\n  \"summary\": {\n    \"pairs\": 0,"),
            "{text}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
