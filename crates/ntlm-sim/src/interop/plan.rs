//! The plan of an `interop` run: the peers (the catalog's profiles, or a
//! fleet's hosts), the client × server pairs, and the Restrict NTLM
//! settings of each peer before and after the change.

use serde::Serialize;

use crate::fleet::{Fleet, FleetError};
use crate::matrix::{self, Peer, Policy};
use crate::outcome::hex32;
use crate::profiles::{Catalog, Profile};
use crate::restrict::RestrictError;
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

/// Why the pairs of an `interop` run or its Restrict NTLM change could not
/// be planned; the message names the option or the fleet file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A `--clients`/`--servers` name that no profile has.
    #[error("{option}: unknown profile {name:?}; known: {known}")]
    UnknownProfile {
        /// `--clients` or `--servers`.
        option: &'static str,
        /// The name given.
        name: String,
        /// The catalog's profile names.
        known: String,
    },
    /// A profile named for a role it cannot play.
    #[error("{option}: profile {profile} cannot be a {role}")]
    WrongRole {
        /// `--clients` or `--servers`.
        option: &'static str,
        /// The profile.
        profile: String,
        /// `client` or `server`.
        role: &'static str,
    },
    /// A fleet file that could not be read.
    #[error("{path}: {error}")]
    Fleet {
        /// The fleet file.
        path: String,
        /// What is wrong in it (line and key).
        error: Box<FleetError>,
    },
    /// A `--clients`/`--servers` name that is neither a host nor a profile
    /// of the fleet.
    #[error("{option}: {name:?} is neither a host nor a profile of {path}")]
    NotInFleet {
        /// `--clients` or `--servers`.
        option: &'static str,
        /// The name given.
        name: String,
        /// The fleet file.
        path: String,
    },
    /// A `--client-restrict`, `--server-restrict` or `--dc-restrict` paste
    /// that could not be used.
    #[error("{option}: {error}")]
    Restrict {
        /// The option.
        option: &'static str,
        /// What is wrong with the paste.
        error: Box<RestrictError>,
    },
}

/// Every client profile with every server profile of `catalog` (the
/// non-synthetic ones when none are named).
pub fn catalog_plan<'c>(
    catalog: &'c Catalog,
    clients: &[String],
    servers: &[String],
) -> Result<Plan<'c>, PlanError> {
    let pick = |wanted: &[String], client: bool| -> Result<Vec<&'c Profile>, PlanError> {
        let option = if client { "--clients" } else { "--servers" };
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
            let p = catalog
                .get(w.trim())
                .ok_or_else(|| PlanError::UnknownProfile {
                    option,
                    name: w.clone(),
                    known: catalog.names(),
                })?;
            let fits = if client {
                p.role.client()
            } else {
                p.role.server()
            };
            if !fits {
                return Err(PlanError::WrongRole {
                    option,
                    profile: p.name.clone(),
                    role: if client { "client" } else { "server" },
                });
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
) -> Result<Plan<'c>, PlanError> {
    let fleet = Fleet::from_toml(text, catalog).map_err(|error| PlanError::Fleet {
        path: path.to_owned(),
        error: Box::new(error),
    })?;
    let peers = fleet.peers(catalog);
    let named = |h: &crate::fleet::Host, w: &str| {
        h.name.eq_ignore_ascii_case(w.trim()) || h.profile.eq_ignore_ascii_case(w.trim())
    };
    for (wanted, flag) in [(clients, "--clients"), (servers, "--servers")] {
        for w in wanted {
            if !fleet.hosts.iter().any(|h| named(h, w)) {
                return Err(PlanError::NotInFleet {
                    option: flag,
                    name: w.clone(),
                    path: path.to_owned(),
                });
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

/// The Restrict NTLM settings the change adds (`--client-restrict`, ...).
pub fn restrict_path(
    client: &[String],
    server: &[String],
    dc: &[String],
) -> Result<ntlm_session::RestrictPath, PlanError> {
    let read = |v: &[String], option: &'static str| {
        crate::restrict::from_pastes(v).map_err(|error| PlanError::Restrict {
            option,
            error: Box::new(error),
        })
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
