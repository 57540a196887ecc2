//! The summary of an event-log audit: counts per event, the hosts with
//! their users and verdicts ([`EventSummary`]).

use std::collections::BTreeMap;

use serde::Serialize;

use super::EventRecord;
use crate::audit::BreakingClient;
use crate::outcome::{hex32, names};
/// Most distinct hosts kept per role in the summary; further ones are counted.
const MAX_HOSTS: usize = 100_000;

/// Most users listed per host.
const MAX_USERS: usize = 20;

/// What the events say about one host.
#[derive(Debug, Clone, Serialize)]
pub struct HostSummary {
    /// Workstation name or address (clients), `Computer` (servers).
    pub host: String,
    /// NTLM-relevant events.
    pub events: usize,
    /// Of which would break.
    pub breaking: usize,
    /// Of which could not be judged.
    pub unknown: usize,
    /// Accounts seen (the first 20).
    pub users: Vec<String>,
    /// `LmPackageName` values seen, with counts.
    pub lm_packages: BTreeMap<String, usize>,
    /// `KeyLength` values seen, with counts.
    pub key_lengths: BTreeMap<String, usize>,
    /// Event IDs seen, with counts.
    pub event_ids: BTreeMap<u32, usize>,
    /// Earliest event time.
    pub first_seen: Option<String>,
    /// Latest event time.
    pub last_seen: Option<String>,
    /// Why it would break (the first breaking event's reason and rule).
    pub breaks_because: Option<String>,
}

impl HostSummary {
    fn new(host: &str) -> Self {
        Self {
            host: host.to_owned(),
            events: 0,
            breaking: 0,
            unknown: 0,
            users: Vec::new(),
            lm_packages: BTreeMap::new(),
            key_lengths: BTreeMap::new(),
            event_ids: BTreeMap::new(),
            first_seen: None,
            last_seen: None,
            breaks_because: None,
        }
    }

    fn add(&mut self, r: &EventRecord) {
        self.events += 1;
        if r.breaks() {
            self.breaking += 1;
        } else if r.verdict == "unknown" {
            self.unknown += 1;
        }
        if let Some(u) = &r.user {
            let who = r
                .domain
                .as_ref()
                .map_or_else(|| u.clone(), |d| format!("{d}\\{u}"));
            if !self.users.contains(&who) && self.users.len() < MAX_USERS {
                self.users.push(who);
            }
        }
        if let Some(l) = &r.lm_package {
            *self.lm_packages.entry(l.clone()).or_insert(0) += 1;
        }
        if let Some(k) = r.key_length {
            *self.key_lengths.entry(k.to_string()).or_insert(0) += 1;
        }
        *self.event_ids.entry(r.event_id).or_insert(0) += 1;
        if let Some(t) = &r.time {
            if self.first_seen.as_ref().is_none_or(|f| t < f) {
                self.first_seen = Some(t.clone());
            }
            if self.last_seen.as_ref().is_none_or(|l| t > l) {
                self.last_seen = Some(t.clone());
            }
        }
        if self.breaks_because.is_none() {
            if let Some(f) = &r.failure {
                self.breaks_because =
                    Some(format!("{} [{} {}]", r.reason, f.rule.id, f.rule.source));
            }
        }
    }
}

/// What was read from one event log.
#[derive(Debug, Clone, Serialize)]
pub struct EventFileJson {
    /// Path as given.
    pub file: String,
    /// `evtx`, `xml`, `xml-utf16le`, `xml-utf16be`, `jsonl`.
    pub format: &'static str,
    /// Event records read.
    pub records: u64,
    /// Of which NTLM-relevant.
    pub ntlm_events: u64,
    /// Bytes read.
    pub bytes: u64,
}

/// The event part of the `{"summary": {...}}` record.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EventSummary {
    /// NTLM-relevant events listed.
    pub events: usize,
    /// Event records read, all kinds.
    pub event_records: u64,
    /// Every event ID read, NTLM-relevant or not, with counts.
    pub by_event_id: BTreeMap<u32, u64>,
    /// By verdict (`ok`, `breaks`, `unknown`).
    pub events_by_verdict: BTreeMap<&'static str, usize>,
    /// Events that would break.
    pub events_breaking: usize,
    /// The event logs read.
    pub event_files: Vec<EventFileJson>,
    /// Per client host (workstation, else address).
    pub event_clients: Vec<HostSummary>,
    /// Per server (`Computer`).
    pub event_servers: Vec<HostSummary>,
    /// Targets named by the events (outgoing-NTLM audit events), with counts.
    pub event_targets: BTreeMap<String, usize>,
    /// Hosts (and targets) beyond the kept ones.
    #[serde(skip_serializing_if = "is_zero")]
    pub event_hosts_not_listed: usize,
    #[serde(skip)]
    breaking_by_client: BTreeMap<String, BreakingClient>,
}

const fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn host_entry<'a>(
    list: &'a mut Vec<HostSummary>,
    over: &mut usize,
    host: &str,
) -> Option<&'a mut HostSummary> {
    match list.iter().position(|h| h.host == host) {
        Some(i) => list.get_mut(i),
        None if list.len() < MAX_HOSTS => {
            list.push(HostSummary::new(host));
            list.last_mut()
        }
        None => {
            *over += 1;
            None
        }
    }
}

impl EventSummary {
    /// Counts a record read (any event, relevant or not).
    pub fn count_read(&mut self, event_id: u32) {
        self.event_records += 1;
        *self.by_event_id.entry(event_id).or_insert(0) += 1;
    }

    /// Counts one NTLM-relevant record (records may be dropped after this).
    pub fn add(&mut self, r: &EventRecord) {
        self.events += 1;
        *self.events_by_verdict.entry(r.verdict).or_insert(0) += 1;
        if let Some(c) = &r.client {
            if let Some(h) =
                host_entry(&mut self.event_clients, &mut self.event_hosts_not_listed, c)
            {
                h.add(r);
            }
        }
        if let Some(t) = &r.target {
            if let Some(n) = self.event_targets.get_mut(t) {
                *n += 1;
            } else if self.event_targets.len() < MAX_HOSTS {
                self.event_targets.insert(t.clone(), 1);
            } else {
                self.event_hosts_not_listed += 1;
            }
        }
        if !r.server.is_empty() {
            if let Some(h) = host_entry(
                &mut self.event_servers,
                &mut self.event_hosts_not_listed,
                &r.server,
            ) {
                h.add(r);
            }
        }
        let Some(f) = &r.failure else {
            return;
        };
        self.events_breaking += 1;
        let host = r
            .client
            .clone()
            .unwrap_or_else(|| format!("(unnamed client of {})", r.server));
        let e = self
            .breaking_by_client
            .entry(host.clone())
            .or_insert_with(|| BreakingClient {
                host,
                profile: "event log".to_owned(),
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
        // `exchanges` counts the breaking events; `indexes` stays empty,
        // since it numbers exchange records (the events are in `event_clients`).
        e.exchanges += 1;
        if let Some(u) = &r.user {
            let who = r
                .domain
                .as_ref()
                .map_or_else(|| u.clone(), |d| format!("{d}\\{u}"));
            if !e.users.contains(&who) && e.users.len() < MAX_USERS {
                e.users.push(who);
            }
        }
    }

    /// Orders the hosts (most events first) and hands over the event-derived
    /// breaking clients, for `summary.breaking_clients`.
    pub fn finish(&mut self) -> Vec<BreakingClient> {
        for list in [&mut self.event_clients, &mut self.event_servers] {
            list.sort_by(|a, b| {
                b.breaking
                    .cmp(&a.breaking)
                    .then(b.events.cmp(&a.events))
                    .then(a.host.cmp(&b.host))
            });
        }
        std::mem::take(&mut self.breaking_by_client)
            .into_values()
            .collect()
    }
}
