//! The summary of an audit: counts, the clients that would break, the
//! files read ([`Summary`]).

use std::collections::BTreeMap;

use ntlm_policy::LmCompatibilityLevel;
use serde::Serialize;

use crate::outcome::{hex32, names};

use super::{ExchangeRecord, HUMAN_ROWS, Policy};

/// A client that would break (`summary.breaking_clients`).
#[derive(Debug, Clone, Serialize)]
pub struct BreakingClient {
    /// Client IP address.
    pub host: String,
    /// Closest profile.
    pub profile: String,
    /// Users seen from it in breaking exchanges.
    pub users: Vec<String>,
    /// Breaking exchanges.
    pub exchanges: usize,
    /// `client` or `server`: who refuses (first breaking exchange).
    pub side: &'static str,
    /// On receipt of which message.
    pub stage: &'static str,
    /// Missing flags.
    pub missing: String,
    /// Their names.
    pub missing_names: Vec<&'static str>,
    /// The rule's id.
    pub rule_id: &'static str,
    /// The rule's source.
    pub rule: String,
    /// Record indexes of its breaking exchanges (the first 200).
    pub indexes: Vec<usize>,
}

/// The policy as reported.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyJson {
    /// NtlmMinClientSec.
    pub client_min: String,
    /// Its names.
    pub client_min_names: Vec<&'static str>,
    /// NtlmMinServerSec.
    pub server_min: String,
    /// Its names.
    pub server_min_names: Vec<&'static str>,
    /// Clients' LmCompatibilityLevel.
    pub client_lm_level: Option<u8>,
    /// Servers' LmCompatibilityLevel.
    pub server_lm_level: Option<u8>,
    /// Semantics preset name.
    pub semantics: &'static str,
    /// The Restrict NTLM settings applied, one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub restrict: Vec<String>,
    /// The servers' channel-binding settings, when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binding: Option<String>,
    /// Whether HTTP and LDAP exchanges were judged as over TLS.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tls: bool,
}

impl PolicyJson {
    /// From a policy.
    pub fn new(p: &Policy) -> Self {
        Self {
            client_min: hex32(p.client_min.bits()),
            client_min_names: p.client_min.flag_names().collect(),
            server_min: hex32(p.server_min.bits()),
            server_min_names: p.server_min.flag_names().collect(),
            client_lm_level: p.client_lm_level.map(LmCompatibilityLevel::level),
            server_lm_level: p.server_lm_level.map(LmCompatibilityLevel::level),
            semantics: p.semantics.name(),
            restrict: crate::restrict::describe(&p.restrict),
            binding: (!p.binding.is_default()).then(|| p.binding.describe()),
            tls: p.tls,
        }
    }
}

/// Counts for one group.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Counts {
    /// Exchanges.
    pub exchanges: usize,
    /// Of which would break.
    pub breaking: usize,
}

/// What was read from one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileJson {
    /// Path as given.
    pub file: String,
    /// Packets read.
    pub packets: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Whether it ended early (truncated or malformed).
    pub truncated: bool,
    /// Connections evicted from the connection table before they ended.
    pub evicted_connections: u64,
    /// Of which in the middle of an NTLM exchange (reported in parts).
    pub evicted_mid_exchange: u64,
}

/// The `{"summary": {...}}` record.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The policy.
    pub policy: PolicyJson,
    /// Files read.
    pub files: Vec<FileJson>,
    /// Exchanges found.
    pub exchanges: usize,
    /// With all three messages.
    pub complete: usize,
    /// Partial ones.
    pub partial: usize,
    /// That would break.
    pub breaking: usize,
    /// Of those, the ones that break under every documented reading of the
    /// semantics switches.
    pub breaking_under_every_reading: usize,
    /// Problems reported.
    pub problems: usize,
    /// Connections evicted from the connection tables, all files together.
    pub evicted_connections: u64,
    /// By verdict (`ok`, `breaks`).
    pub by_verdict: BTreeMap<&'static str, usize>,
    /// By closest client profile.
    pub by_client_profile: BTreeMap<String, Counts>,
    /// By response kind (`none` without AUTHENTICATE).
    pub by_response_kind: BTreeMap<&'static str, Counts>,
    /// By carrier.
    pub by_carrier: BTreeMap<&'static str, Counts>,
    /// The clients that would break, most exchanges first.
    pub breaking_clients: Vec<BreakingClient>,
    /// What the event logs read say (`events`, `by_event_id`, ...).
    #[serde(flatten)]
    pub events: crate::events::EventSummary,
}

impl Summary {
    /// No exchange yet.
    pub fn empty(policy: &Policy) -> Self {
        Self {
            policy: PolicyJson::new(policy),
            files: Vec::new(),
            exchanges: 0,
            complete: 0,
            partial: 0,
            breaking: 0,
            breaking_under_every_reading: 0,
            problems: 0,
            evicted_connections: 0,
            by_verdict: BTreeMap::new(),
            by_client_profile: BTreeMap::new(),
            by_response_kind: BTreeMap::new(),
            by_carrier: BTreeMap::new(),
            breaking_clients: Vec::new(),
            events: crate::events::EventSummary::default(),
        }
    }

    /// Counts one record (records may be dropped after this).
    pub fn add(&mut self, r: &ExchangeRecord) {
        self.exchanges += 1;
        if r.complete {
            self.complete += 1;
        } else {
            self.partial += 1;
        }
        *self.by_verdict.entry(r.verdict).or_insert(0) += 1;
        let b = usize::from(r.breaks());
        self.breaking += b;
        self.breaking_under_every_reading +=
            usize::from(r.breaks() && r.certainty.holds_under_every_reading);
        if !self.by_client_profile.contains_key(&r.client_profile) {
            self.by_client_profile
                .insert(r.client_profile.clone(), Counts::default());
        }
        for c in [
            self.by_client_profile.get_mut(&r.client_profile),
            Some(
                self.by_response_kind
                    .entry(r.response_kind.unwrap_or("none"))
                    .or_default(),
            ),
            Some(self.by_carrier.entry(r.carrier).or_default()),
        ]
        .into_iter()
        .flatten()
        {
            c.exchanges += 1;
            c.breaking += b;
        }
        let Some(f) = &r.failure else {
            return;
        };
        let host = r.client_host();
        let e = match self
            .breaking_clients
            .iter_mut()
            .position(|c| c.host == host && c.profile == r.client_profile)
        {
            Some(i) => self.breaking_clients.get_mut(i),
            None => {
                self.breaking_clients.push(BreakingClient {
                    host: host.to_owned(),
                    profile: r.client_profile.clone(),
                    users: Vec::new(),
                    exchanges: 0,
                    side: f.side.name(),
                    stage: f.stage.name(),
                    missing: hex32(f.missing.bits()),
                    missing_names: names(f.missing),
                    rule_id: f.rule.id,
                    rule: f.rule.source.to_string(),
                    indexes: Vec::new(),
                });
                self.breaking_clients.last_mut()
            }
        };
        let Some(e) = e else {
            return;
        };
        e.exchanges += 1;
        if e.indexes.len() < HUMAN_ROWS {
            e.indexes.push(r.index);
        }
        if let Some(u) = &r.user {
            let who = r
                .domain
                .as_ref()
                .map_or_else(|| u.clone(), |d| format!("{d}\\{u}"));
            if !e.users.contains(&who) && e.users.len() < 20 {
                e.users.push(who);
            }
        }
    }

    /// Sets the files and problem count and orders the breaking clients
    /// (most exchanges first).
    pub fn finish(&mut self, files: Vec<FileJson>, problems: usize) {
        self.evicted_connections = files.iter().map(|f| f.evicted_connections).sum();
        self.files = files;
        self.problems = problems;
        self.breaking_clients
            .sort_by(|a, b| b.exchanges.cmp(&a.exchanges).then(a.host.cmp(&b.host)));
    }

    /// Counts the records.
    pub fn new(
        policy: &Policy,
        files: Vec<FileJson>,
        records: &[ExchangeRecord],
        problems: usize,
    ) -> Self {
        let mut s = Self::empty(policy);
        for r in records {
            s.add(r);
        }
        s.finish(files, problems);
        s
    }
}
