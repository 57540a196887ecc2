//! Fleet files: a user's own hosts, what each one is, its registry values
//! and whom it talks to (`ntlmsim interop --fleet FILE`; format in
//! `docs/FLEET.md`).
//!
//! ```toml
//! all_to_all = false
//!
//! [[host]]
//! name = "dc01"
//! profile = "windows-11"
//! role = "server"
//! NtlmMinServerSec = "0x20080000"
//! LmCompatibilityLevel = 5
//!
//! [[host]]
//! name = "scanner"
//! profile = "ntlmv1-nas"
//! role = "client"
//! talks_to = ["dc01"]
//! ```
//!
//! Every error names the line and the key it is about.

use std::collections::{HashMap, HashSet};
use std::fmt;

use ntlm_policy::{LmCompatibilityLevel, MinSessionSecurity, PolicyValue};
use serde::Deserialize;
use toml::Spanned;

use crate::matrix::{Peer, Policy};
use crate::profiles::{Catalog, Role, line_at};

/// A validated fleet: hosts and the (client, server) pairs that talk.
///
/// The pairs are not stored: `all_to_all` over 2,000 hosts makes four
/// million of them, which [`Fleet::pairs`] yields one at a time.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// In file order.
    pub hosts: Vec<Host>,
    /// The `talks_to` pairs: `(client, server)` indices into `hosts`, in
    /// file order, without repeats.
    pub talks_to: Vec<(usize, usize)>,
    /// Whether every client talks to every other server (`all_to_all`).
    pub all_to_all: bool,
    /// `talks_to` as a set, to leave them out of the all-to-all pairs.
    talks_set: HashSet<(usize, usize)>,
}

/// One host of a fleet.
#[derive(Debug, Clone)]
pub struct Host {
    /// Its name (unique in the file, compared without ASCII case).
    pub name: String,
    /// The catalog profile it behaves as (the catalog's spelling).
    pub profile: String,
    /// Which sides it plays (the profile's, or narrower by `role`).
    pub role: Role,
    /// Its registry values where set (NtlmMinClientSec, NtlmMinServerSec,
    /// LmCompatibilityLevel for both sides).
    pub settings: Policy,
    /// What the file says about it (`description`).
    pub description: Option<String>,
    /// The line of its `name` key.
    pub line: usize,
    /// Its Restrict NTLM values (`RestrictSendingNTLMTraffic`,
    /// `ClientAllowedNTLMServers`, `RestrictReceivingNTLMTraffic`,
    /// `AuditReceivingNTLMTraffic`); defaults where not set.
    pub restrict: ntlm_policy::restrict::Restrictions,
}

/// A problem in a fleet file: where (line and key) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetError {
    /// 1-based line, when the problem has a place.
    pub line: Option<usize>,
    /// The key concerned, when there is one.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FleetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, &self.key) {
            (Some(l), Some(k)) => write!(f, "line {l}, key {k}: {}", self.message),
            (Some(l), None) => write!(f, "line {l}: {}", self.message),
            (None, Some(k)) => write!(f, "key {k}: {}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for FleetError {}

/// A registry value as written: a TOML integer, or a string in any form
/// [`MinSessionSecurity::parse`] / [`LmCompatibilityLevel::parse`] accept.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum RegValue {
    Int(i64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FleetSpec {
    #[serde(default)]
    all_to_all: bool,
    #[serde(default)]
    host: Vec<HostSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostSpec {
    name: Spanned<String>,
    profile: Spanned<String>,
    #[serde(default)]
    role: Option<Spanned<String>>,
    #[serde(default, rename = "NtlmMinClientSec", alias = "NTLMMinClientSec")]
    min_client_sec: Option<Spanned<RegValue>>,
    #[serde(default, rename = "NtlmMinServerSec", alias = "NTLMMinServerSec")]
    min_server_sec: Option<Spanned<RegValue>>,
    #[serde(
        default,
        rename = "LmCompatibilityLevel",
        alias = "LMCompatibilityLevel"
    )]
    lm_level: Option<Spanned<RegValue>>,
    #[serde(default)]
    talks_to: Vec<Spanned<String>>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, rename = "RestrictSendingNTLMTraffic")]
    restrict_sending: Option<Spanned<RegValue>>,
    #[serde(default, rename = "ClientAllowedNTLMServers")]
    client_allowed: Option<Vec<String>>,
    #[serde(default, rename = "RestrictReceivingNTLMTraffic")]
    restrict_receiving: Option<Spanned<RegValue>>,
    #[serde(default, rename = "AuditReceivingNTLMTraffic")]
    audit_receiving: Option<Spanned<RegValue>>,
}

/// A Restrict NTLM DWORD: its number or its Group Policy option text, read
/// by `read` (an enum's `parse`), with the value's name in errors.
fn restrict_value<T>(
    ctx: &Ctx<'_>,
    v: &Spanned<RegValue>,
    key: &str,
    read: fn(&str) -> Option<T>,
    accepted: &str,
) -> Result<T, FleetError> {
    let text = match v.get_ref() {
        RegValue::Int(n) => n.to_string(),
        RegValue::Text(t) => t.clone(),
    };
    read(&text).ok_or_else(|| {
        ctx.err(
            v.span(),
            key,
            format!("{text:?} is not a value of {key} (accepted: {accepted})"),
        )
    })
}

struct Ctx<'t> {
    text: &'t str,
}

impl Ctx<'_> {
    fn err(&self, span: std::ops::Range<usize>, key: &str, message: String) -> FleetError {
        FleetError {
            line: Some(line_at(self.text, span.start)),
            key: Some(key.to_owned()),
            message,
        }
    }
}

fn mask(
    ctx: &Ctx<'_>,
    v: &Spanned<RegValue>,
    key: &str,
    value: PolicyValue,
) -> Result<MinSessionSecurity, FleetError> {
    match v.get_ref() {
        RegValue::Int(n) => u32::try_from(*n)
            .map(MinSessionSecurity::from_registry)
            .map_err(|_| {
                ctx.err(
                    v.span(),
                    key,
                    format!("{n} is not a REG_DWORD (0 to 4294967295)"),
                )
            }),
        RegValue::Text(t) => {
            let parsed =
                MinSessionSecurity::parse(t).map_err(|e| ctx.err(v.span(), key, e.to_string()))?;
            match parsed.value {
                Some(named) if named != value => Err(ctx.err(
                    v.span(),
                    key,
                    format!("the value {t:?} names {named}, not {value}"),
                )),
                _ => Ok(parsed.mask),
            }
        }
    }
}

fn level(
    ctx: &Ctx<'_>,
    v: &Spanned<RegValue>,
    key: &str,
) -> Result<LmCompatibilityLevel, FleetError> {
    match v.get_ref() {
        RegValue::Int(n) => u8::try_from(*n)
            .ok()
            .and_then(LmCompatibilityLevel::from_u8)
            .ok_or_else(|| ctx.err(v.span(), key, format!("{n} is not a level from 0 to 5"))),
        RegValue::Text(t) => {
            LmCompatibilityLevel::parse(t).map_err(|e| ctx.err(v.span(), key, e.to_string()))
        }
    }
}

fn role(
    ctx: &Ctx<'_>,
    v: &Spanned<String>,
    profile: Role,
    profile_name: &str,
) -> Result<Role, FleetError> {
    let want = match v.get_ref().trim().to_ascii_lowercase().as_str() {
        "client" => Role::Client,
        "server" => Role::Server,
        "both" => Role::Both,
        other => {
            return Err(ctx.err(
                v.span(),
                "role",
                format!("{other:?} is not client, server or both"),
            ));
        }
    };
    let fits = (!want.client() || profile.client()) && (!want.server() || profile.server());
    if fits {
        Ok(want)
    } else {
        Err(ctx.err(
            v.span(),
            "role",
            format!(
                "profile {profile_name} can only be a {}, not {}",
                profile.name(),
                want.name()
            ),
        ))
    }
}

impl Fleet {
    /// Parses and validates a fleet file against `catalog`.
    ///
    /// Pairs: every `talks_to` entry (the host as client, the named host as
    /// server), and with `all_to_all = true` every host that can be a client
    /// with every other host that can be a server. A fleet with no pair is
    /// an error.
    pub fn from_toml(text: &str, catalog: &Catalog) -> Result<Self, FleetError> {
        let ctx = Ctx { text };
        let spec: FleetSpec = toml::from_str(text).map_err(|e| FleetError {
            line: e.span().map(|s| line_at(text, s.start)),
            key: None,
            message: e.message().trim_end().to_owned(),
        })?;
        if spec.host.is_empty() {
            return Err(FleetError {
                line: None,
                key: None,
                message: "the fleet file has no hosts: describe each as a [[host]] table with \
                          name and profile (docs/FLEET.md)"
                    .into(),
            });
        }
        let mut hosts: Vec<Host> = Vec::with_capacity(spec.host.len());
        // Host index by ASCII-lowercased name.
        let mut by_name: HashMap<String, usize> = HashMap::with_capacity(spec.host.len());
        for h in &spec.host {
            let name = h.name.get_ref().trim();
            if name.is_empty() {
                return Err(ctx.err(h.name.span(), "name", "a host needs a name".into()));
            }
            if let Some(first) = by_name
                .get(&name.to_ascii_lowercase())
                .and_then(|&i| hosts.get(i))
            {
                return Err(ctx.err(
                    h.name.span(),
                    "name",
                    format!("host {name:?} is already defined on line {}", first.line),
                ));
            }
            by_name.insert(name.to_ascii_lowercase(), hosts.len());
            let profile = catalog.get(h.profile.get_ref().trim()).ok_or_else(|| {
                ctx.err(
                    h.profile.span(),
                    "profile",
                    format!(
                        "unknown profile {:?}; known: {}",
                        h.profile.get_ref(),
                        catalog.names()
                    ),
                )
            })?;
            let role = match &h.role {
                Some(r) => role(&ctx, r, profile.role, &profile.name)?,
                None => profile.role,
            };
            let mut settings = Policy::default();
            if let Some(v) = &h.min_client_sec {
                settings.client_min = Some(mask(
                    &ctx,
                    v,
                    "NtlmMinClientSec",
                    PolicyValue::NtlmMinClientSec,
                )?);
            }
            if let Some(v) = &h.min_server_sec {
                settings.server_min = Some(mask(
                    &ctx,
                    v,
                    "NtlmMinServerSec",
                    PolicyValue::NtlmMinServerSec,
                )?);
            }
            if let Some(v) = &h.lm_level {
                let l = level(&ctx, v, "LmCompatibilityLevel")?;
                settings.client_lm_level = Some(l);
                settings.server_lm_level = Some(l);
            }
            let mut restrict = ntlm_policy::restrict::Restrictions::default();
            if let Some(v) = &h.restrict_sending {
                restrict.outgoing = restrict_value(
                    &ctx,
                    v,
                    "RestrictSendingNTLMTraffic",
                    ntlm_policy::restrict::Outgoing::parse,
                    "0 allow all, 1 audit all, 2 deny all",
                )?;
            }
            if let Some(names) = &h.client_allowed {
                restrict.outgoing_exceptions.clone_from(names);
            }
            if let Some(v) = &h.restrict_receiving {
                restrict.incoming = restrict_value(
                    &ctx,
                    v,
                    "RestrictReceivingNTLMTraffic",
                    ntlm_policy::restrict::Incoming::parse,
                    "0 allow all, 1 deny all domain accounts, 2 deny all accounts",
                )?;
            }
            if let Some(v) = &h.audit_receiving {
                restrict.audit_incoming = restrict_value(
                    &ctx,
                    v,
                    "AuditReceivingNTLMTraffic",
                    ntlm_policy::restrict::AuditIncoming::parse,
                    "0 disable, 1 domain accounts, 2 all accounts",
                )?;
            }
            hosts.push(Host {
                name: name.to_owned(),
                profile: profile.name.clone(),
                role,
                settings,
                description: h.description.clone(),
                line: line_at(text, h.name.span().start),
                restrict,
            });
        }
        let find = |n: &str| by_name.get(&n.trim().to_ascii_lowercase()).copied();
        let mut talks_to: Vec<(usize, usize)> = Vec::new();
        let mut talks_set: HashSet<(usize, usize)> = HashSet::new();
        for (ci, h) in spec.host.iter().enumerate() {
            let Some(client) = hosts.get(ci) else {
                continue;
            };
            for t in &h.talks_to {
                if !client.role.client() {
                    return Err(ctx.err(
                        t.span(),
                        "talks_to",
                        format!(
                            "host {:?} is not a client (role {})",
                            client.name,
                            client.role.name()
                        ),
                    ));
                }
                let si = find(t.get_ref()).ok_or_else(|| {
                    ctx.err(
                        t.span(),
                        "talks_to",
                        format!("unknown host {:?}", t.get_ref()),
                    )
                })?;
                if si == ci {
                    return Err(ctx.err(
                        t.span(),
                        "talks_to",
                        format!(
                            "host {:?} names itself: talks_to lists the servers it \
                             authenticates to, a pair needs two hosts",
                            client.name
                        ),
                    ));
                }
                let server = hosts.get(si).ok_or_else(|| {
                    ctx.err(
                        t.span(),
                        "talks_to",
                        format!("unknown host {:?}", t.get_ref()),
                    )
                })?;
                if !server.role.server() {
                    return Err(ctx.err(
                        t.span(),
                        "talks_to",
                        format!(
                            "host {:?} is not a server (role {})",
                            server.name,
                            server.role.name()
                        ),
                    ));
                }
                if talks_set.insert((ci, si)) {
                    talks_to.push((ci, si));
                }
            }
        }
        let fleet = Self {
            hosts,
            talks_to,
            all_to_all: spec.all_to_all,
            talks_set,
        };
        if fleet.pairs().next().is_none() {
            return Err(FleetError {
                line: None,
                key: Some("talks_to".into()),
                message:
                    "no host talks to another: give hosts talks_to = [...] or set all_to_all = true"
                        .into(),
            });
        }
        Ok(fleet)
    }

    /// The `(client, server)` pairs, as indices into `hosts`, without
    /// repeats: the `talks_to` pairs in file order, then with `all_to_all`
    /// every host that can be a client with every other host that can be a
    /// server, clients in file order, servers in file order for each.
    pub fn pairs(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let n = if self.all_to_all { self.hosts.len() } else { 0 };
        let everyone = (0..n)
            .filter(|&ci| self.hosts.get(ci).is_some_and(|h| h.role.client()))
            .flat_map(move |ci| {
                (0..n)
                    .filter(move |&si| {
                        si != ci && self.hosts.get(si).is_some_and(|h| h.role.server())
                    })
                    .map(move |si| (ci, si))
            })
            .filter(|p| !self.talks_set.contains(p));
        self.talks_to.iter().copied().chain(everyone)
    }

    /// How many pairs [`Fleet::pairs`] yields (counted without storing them).
    pub fn pair_count(&self) -> usize {
        if !self.all_to_all {
            return self.talks_to.len();
        }
        let clients = self.hosts.iter().filter(|h| h.role.client()).count();
        let servers = self.hosts.iter().filter(|h| h.role.server()).count();
        let both = self
            .hosts
            .iter()
            .filter(|h| h.role.client() && h.role.server())
            .count();
        let everyone = clients * servers - both;
        let extra = self.talks_to.iter().filter(|&&(c, s)| c == s).count();
        everyone + extra
    }

    /// The hosts as matrix peers (profiles looked up in `catalog`, which
    /// must be the catalog the fleet was validated against).
    pub fn peers<'c>(&self, catalog: &'c Catalog) -> Vec<Peer<'c>> {
        self.hosts
            .iter()
            .filter_map(|h| {
                catalog.get(&h.profile).map(|p| Peer {
                    name: h.name.clone(),
                    profile: p,
                    settings: h.settings,
                })
            })
            .collect()
    }
}

/// A synthetic all-to-all fleet of `hosts` hosts for benchmarks and scale
/// tests (`cargo run --example fleet_gen -- 2000 > fleet.toml`): ten
/// profiles that are both clients and servers in turn (2,000 hosts make
/// 2,000 × 1,999 = 3,998,000 pairs), and
/// for each round of ten one of five registry settings (none; a client
/// minimum of 0x20080000; a server minimum of 0x20000000;
/// LmCompatibilityLevel 5; LmCompatibilityLevel 1), so that the fleet has
/// at most fifty distinct kinds of host however many hosts it has, as real
/// fleets repeat a few builds and baselines.
pub fn synthetic_toml(hosts: usize) -> String {
    use std::fmt::Write as _;
    const PROFILES: [&str; 10] = [
        "windows-11",
        "windows-10",
        "windows-8",
        "windows-7",
        "windows-7-upgraded",
        "windows-xp",
        "samba-4",
        "pyspnego-0.12",
        "gss-ntlmssp-1.2",
        "ntlmv1-nas",
    ];
    const SETTINGS: [&str; 5] = [
        "",
        "NtlmMinClientSec = \"0x20080000\"\n",
        "NtlmMinServerSec = \"0x20000000\"\n",
        "LmCompatibilityLevel = 5\n",
        "LmCompatibilityLevel = 1\n",
    ];
    let mut s = String::with_capacity(hosts * 80 + 32);
    s.push_str("all_to_all = true\n");
    for i in 0..hosts {
        let profile = PROFILES
            .get(i % PROFILES.len())
            .copied()
            .unwrap_or("windows-11");
        let settings = SETTINGS
            .get(i / PROFILES.len() % SETTINGS.len())
            .copied()
            .unwrap_or("");
        let _ = write!(
            s,
            "\n[[host]]\nname = \"host{i:05}\"\nprofile = \"{profile}\"\n{settings}"
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat() -> Catalog {
        Catalog::builtin().unwrap()
    }

    const GOOD: &str = r#"
[[host]]
name = "dc01"
profile = "windows-11"
role = "server"
NtlmMinServerSec = "0x20080000"
LmCompatibilityLevel = 5

[[host]]
name = "ws01"
profile = "windows-xp"
NtlmMinClientSec = 537395200
talks_to = ["dc01", "FS01"]

[[host]]
name = "fs01"
profile = "samba-4"
role = "server"
"#;

    #[test]
    fn parses_hosts_values_and_pairs() {
        let f = Fleet::from_toml(GOOD, &cat()).unwrap();
        assert_eq!(f.hosts.len(), 3);
        let dc = &f.hosts[0];
        assert_eq!(dc.role, Role::Server);
        assert_eq!(dc.line, 3);
        assert_eq!(dc.settings.server_min.unwrap().bits(), 0x2008_0000);
        assert_eq!(dc.settings.server_lm_level, Some(LmCompatibilityLevel::L5));
        assert_eq!(dc.settings.client_lm_level, Some(LmCompatibilityLevel::L5));
        assert_eq!(f.hosts[1].settings.client_min.unwrap().bits(), 0x2008_0000);
        assert_eq!(f.hosts[1].role, Role::Both);
        assert_eq!(f.pairs().collect::<Vec<_>>(), vec![(1, 0), (1, 2)]);
        assert_eq!(f.pair_count(), 2);
        assert_eq!(f.peers(&cat()).len(), 3);
    }

    #[test]
    fn all_to_all_pairs_every_client_with_every_other_server() {
        let text = "all_to_all = true\n[[host]]\nname = \"a\"\nprofile = \"windows-11\"\n[[host]]\nname = \"b\"\nprofile = \"curl-7.88\"\n[[host]]\nname = \"c\"\nprofile = \"samba-4\"\nrole = \"server\"\n";
        let f = Fleet::from_toml(text, &cat()).unwrap();
        // a (both) -> c; b (client) -> a, c; no self pair, c is no client.
        assert_eq!(f.pairs().collect::<Vec<_>>(), vec![(0, 2), (1, 0), (1, 2)]);
        assert_eq!(f.pair_count(), 3);
    }

    #[test]
    fn registry_forms() {
        let text = "[[host]]\nname = \"a\"\nprofile = \"windows-11\"\nNtlmMinClientSec = \"require_128bit_encryption | require_NTLMv2_session_security\"\nLmCompatibilityLevel = \"Send NTLMv2 response only. Refuse LM & NTLM\"\ntalks_to = [\"a2\"]\n[[host]]\nname = \"a2\"\nprofile = \"windows-11\"\nNTLMMinServerSec = \"dword:20000030\"\n";
        let f = Fleet::from_toml(text, &cat()).unwrap();
        assert_eq!(f.hosts[0].settings.client_min.unwrap().bits(), 0x2008_0000);
        assert_eq!(
            f.hosts[0].settings.client_lm_level,
            Some(LmCompatibilityLevel::L5)
        );
        assert_eq!(f.hosts[1].settings.server_min.unwrap().bits(), 0x2000_0030);
    }

    fn error(text: &str) -> FleetError {
        Fleet::from_toml(text, &cat()).unwrap_err()
    }

    #[test]
    fn errors_name_line_and_key() {
        let e = error("[[host]]\nname = \"a\"\nprofile = \"windoze\"\n");
        assert_eq!((e.line, e.key.as_deref()), (Some(3), Some("profile")));
        assert!(e.message.contains("unknown profile \"windoze\""), "{e}");

        let e = error(
            "[[host]]\nname = \"a\"\nprofile = \"windows-11\"\nNtlmMinServerSec = \"0xZZ\"\n",
        );
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(4), Some("NtlmMinServerSec"))
        );

        let e = error("[[host]]\nname = \"a\"\nprofile = \"windows-11\"\nNtlmMinServerSec = -1\n");
        assert_eq!(e.line, Some(4));
        assert!(e.message.contains("REG_DWORD"), "{e}");

        let e = error(
            "[[host]]\nname = \"a\"\nprofile = \"windows-11\"\nNtlmMinServerSec = \"NtlmMinClientSec=dword:20000000\"\n",
        );
        assert!(e.message.contains("names NtlmMinClientSec"), "{e}");

        let e =
            error("[[host]]\nname = \"a\"\nprofile = \"windows-11\"\n\nLmCompatibilityLevel = 7\n");
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(5), Some("LmCompatibilityLevel"))
        );

        let e = error(
            "[[host]]\nname = \"a\"\nprofile = \"windows-11\"\ntalks_to = [\n  \"b\",\n  \"nobody\",\n]\n[[host]]\nname = \"b\"\nprofile = \"samba-4\"\n",
        );
        assert_eq!((e.line, e.key.as_deref()), (Some(6), Some("talks_to")));
        assert!(e.message.contains("unknown host \"nobody\""), "{e}");

        let e = error("[[host]]\nname = \"a\"\nprofile = \"curl-7.88\"\nrole = \"server\"\n");
        assert_eq!((e.line, e.key.as_deref()), (Some(4), Some("role")));
        assert!(e.message.contains("can only be a client"), "{e}");

        let e = error(
            "[[host]]\nname = \"a\"\nprofile = \"windows-11\"\ntalks_to = [\"c\"]\n[[host]]\nname = \"c\"\nprofile = \"curl-7.88\"\n",
        );
        assert!(e.message.contains("is not a server"), "{e}");

        let e = error(
            "[[host]]\nname = \"a\"\nprofile = \"windows-11\"\n[[host]]\nname = \"A\"\nprofile = \"windows-11\"\n",
        );
        assert_eq!((e.line, e.key.as_deref()), (Some(5), Some("name")));
        assert!(e.message.contains("already defined on line 2"), "{e}");

        let e = error("[[host]]\nname = \"a\"\nprofile = \"windows-11\"\n");
        assert!(e.message.contains("all_to_all"), "{e}");
        assert_eq!(e.line, None);

        for empty in ["", "# no hosts yet\n", "all_to_all = true\n"] {
            let e = error(empty);
            assert!(e.message.contains("no hosts"), "{empty:?}: {e}");
            assert_eq!(e.line, None);
        }

        let e = error(
            "[[host]]\nname = \"a\"\nprofile = \"windows-11\"\ntalks_to = [\"b\",\n  \"A\"]\n[[host]]\nname = \"b\"\nprofile = \"windows-11\"\n",
        );
        assert_eq!((e.line, e.key.as_deref()), (Some(5), Some("talks_to")));
        assert!(e.message.contains("host \"a\" names itself"), "{e}");
    }

    #[test]
    fn toml_errors_keep_their_line() {
        let e = error("[[host]]\nname = \"a\"\nprofile = \"windows-11\"\nNtlmMinClientSek = 1\n");
        assert_eq!(e.line, Some(4));
        assert!(e.message.contains("NtlmMinClientSek"), "{e}");
        let e = error("[[host]]\nname = \"a\"\n\nprofile = = 1\n");
        assert_eq!(e.line, Some(4));
        let e = error("[[host]]\nname = \"a\"\n");
        assert!(e.message.contains("profile"), "{e}");
        assert!(e.to_string().starts_with("line "), "{e}");
    }

    #[test]
    fn pairs_join_talks_to_and_all_to_all_without_repeats() {
        let text = "all_to_all = true\n[[host]]\nname = \"a\"\nprofile = \"windows-11\"\ntalks_to = [\"c\", \"c\"]\n[[host]]\nname = \"b\"\nprofile = \"curl-7.88\"\n[[host]]\nname = \"c\"\nprofile = \"samba-4\"\n";
        let f = Fleet::from_toml(text, &cat()).unwrap();
        // talks_to first (its repeat dropped), then the rest of all-to-all.
        let pairs: Vec<_> = f.pairs().collect();
        assert_eq!(pairs, vec![(0, 2), (1, 0), (1, 2), (2, 0)]);
        assert_eq!(f.pair_count(), pairs.len());
    }

    #[test]
    fn a_synthetic_fleet_of_two_thousand_hosts_repeats_fifty_kinds() {
        let catalog = cat();
        let f = Fleet::from_toml(&synthetic_toml(2_000), &catalog).unwrap();
        assert_eq!(f.hosts.len(), 2_000);
        assert_eq!(f.pair_count(), 2_000 * 1_999);
        assert_eq!(f.pairs().count(), 2_000 * 1_999);
        let kinds: HashSet<(&str, Policy)> = f
            .hosts
            .iter()
            .map(|h| (h.profile.as_str(), h.settings))
            .collect();
        assert_eq!(kinds.len(), 50);
    }
}
