//! Peer profiles: how real NTLM clients and servers behave, as data.
//!
//! The built-in catalog is `data/profiles.toml`, embedded at build time; a
//! user's own file in the same format can be loaded with
//! [`Catalog::from_toml`]. Each profile carries its sources and says what
//! was observed and what is assumed.

use std::fmt;
use std::sync::Arc;

use ntlm_crypto::KeyExchange;
use ntlm_policy::{
    Carrier, ClientConfig, LmCompatibilityLevel, MinSessionSecurity, OsGeneration, ResponseKinds,
    SERVER_CAPABILITIES, ServerConfig, Side, TargetInfoRule,
};
use ntlm_session::{
    ClientSettings, CredentialStore, Credentials, ServerKeyExchange, ServerSettings,
};
use ntlm_wire::{NegotiateFlags, Version};
use serde::{Deserialize, Serialize};

/// The embedded catalog.
pub const BUILTIN: &str = include_str!("../data/profiles.toml");

/// Which side a profile can play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Client only.
    Client,
    /// Server only.
    Server,
    /// Either.
    Both,
}

impl Role {
    /// `client`, `server` or `both`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Server => "server",
            Self::Both => "both",
        }
    }

    /// Whether the profile can be a client.
    pub const fn client(self) -> bool {
        matches!(self, Self::Client | Self::Both)
    }

    /// Whether the profile can be a server.
    pub const fn server(self) -> bool {
        matches!(self, Self::Server | Self::Both)
    }
}

/// The Windows registry values a peer reads.
///
/// A policy pushed to a fleet (Group Policy, `ntlmsim interop --server-min`)
/// reaches only the peers that read the value: Windows from NT 4.0 SP4 on
/// reads all three (KB239869); Samba, curl, the Linux kernel and the other
/// non-Windows peers read none of them and have their own settings, which a
/// fleet file can still describe with the same keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Honours {
    /// `HKLM\SYSTEM\CurrentControlSet\Control\Lsa\MSV1_0\NtlmMinClientSec`.
    pub min_client_sec: bool,
    /// `HKLM\SYSTEM\CurrentControlSet\Control\Lsa\MSV1_0\NtlmMinServerSec`.
    pub min_server_sec: bool,
    /// `HKLM\SYSTEM\CurrentControlSet\Control\Lsa\LmCompatibilityLevel`.
    pub lm_compatibility_level: bool,
}

impl Honours {
    /// All three values (Windows).
    pub const ALL: Self = Self {
        min_client_sec: true,
        min_server_sec: true,
        lm_compatibility_level: true,
    };

    /// None of them (non-Windows peers).
    pub const NONE: Self = Self {
        min_client_sec: false,
        min_server_sec: false,
        lm_compatibility_level: false,
    };

    /// The registry value names, in this order.
    pub const NAMES: [&'static str; 3] = [
        "NtlmMinClientSec",
        "NtlmMinServerSec",
        "LmCompatibilityLevel",
    ];

    /// The names of the values read.
    pub fn names(self) -> Vec<&'static str> {
        let [c, s, l] = Self::NAMES;
        [
            (self.min_client_sec, c),
            (self.min_server_sec, s),
            (self.lm_compatibility_level, l),
        ]
        .into_iter()
        .filter_map(|(on, n)| on.then_some(n))
        .collect()
    }

    fn from_names(names: &[String]) -> Result<Self, String> {
        let mut h = Self::NONE;
        for n in names {
            let [c, s, l] = Self::NAMES;
            match n.as_str() {
                x if x.eq_ignore_ascii_case(c) => h.min_client_sec = true,
                x if x.eq_ignore_ascii_case(s) => h.min_server_sec = true,
                x if x.eq_ignore_ascii_case(l) => h.lm_compatibility_level = true,
                other => {
                    return Err(format!(
                        "honours: {other:?} is not NtlmMinClientSec, NtlmMinServerSec or LmCompatibilityLevel"
                    ));
                }
            }
        }
        Ok(h)
    }
}

/// Flags in a profile: `"all"`, a hex mask or a list of names.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum FlagSpec {
    Text(String),
    Names(Vec<String>),
}

impl FlagSpec {
    fn resolve(&self, all: NegotiateFlags) -> Result<NegotiateFlags, String> {
        match self {
            Self::Text(t) if t == "all" => Ok(all),
            Self::Text(t) => {
                parse_hex(t).ok_or_else(|| format!("{t:?} is not a hex mask or \"all\""))
            }
            Self::Names(names) => names.iter().try_fold(NegotiateFlags::empty(), |acc, n| {
                NegotiateFlags::from_any_name(n)
                    .map(|f| acc | f)
                    .ok_or_else(|| format!("unknown flag name {n:?}"))
            }),
        }
    }
}

fn parse_hex(t: &str) -> Option<NegotiateFlags> {
    let t = t.trim();
    let digits = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    u32::from_str_radix(digits, 16)
        .ok()
        .map(NegotiateFlags::from_bits_retain)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientSpec {
    #[serde(default)]
    offer: Option<FlagSpec>,
    #[serde(default)]
    offer_with_security: Option<FlagSpec>,
    #[serde(default)]
    flags: Option<FlagSpec>,
    #[serde(default = "yes")]
    send_mic: bool,
    #[serde(default = "yes")]
    av_extensions: bool,
    #[serde(default)]
    key_exchange: Option<String>,
    #[serde(default)]
    mic_announced: Option<String>,
    /// LM and NTLMv1 removed (Windows 11 24H2 / Server 2025): NTLMv2 whatever LmCompatibilityLevel says.
    #[serde(default)]
    ntlmv1_removed: bool,
    /// What is assumed of the profile as a client.
    #[serde(default)]
    assumed: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerSpec {
    #[serde(default)]
    supported: Option<FlagSpec>,
    #[serde(default = "yes")]
    domain_joined: bool,
    #[serde(default)]
    target_info: Option<String>,
    #[serde(default)]
    verifies: Option<Vec<String>>,
    #[serde(default = "yes")]
    send_timestamp: bool,
    #[serde(default = "yes")]
    send_dns_names: bool,
    #[serde(default)]
    flags: Option<FlagSpec>,
    #[serde(default)]
    nb_domain: Option<String>,
    #[serde(default)]
    nb_computer: Option<String>,
    #[serde(default)]
    key_exchange: Option<String>,
    /// Windows 11 24H2 / Server 2025: refuses NTLMv1 under `ntlmv1-server = refuses`.
    #[serde(default)]
    ntlmv1_removed: bool,
    /// What is assumed of the profile as a server.
    #[serde(default)]
    assumed: String,
}

const fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileSpec {
    name: String,
    role: Role,
    description: String,
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    server_version: Option<String>,
    lm_level: u8,
    #[serde(default)]
    server_lm_level: Option<u8>,
    #[serde(default)]
    min_client_sec: u32,
    #[serde(default)]
    min_server_sec: u32,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    observed: String,
    #[serde(default)]
    assumed: String,
    #[serde(default)]
    honours: Option<Vec<String>>,
    #[serde(default)]
    synthetic: bool,
    #[serde(default)]
    client: Option<ClientSpec>,
    #[serde(default)]
    server: Option<ServerSpec>,
    #[serde(default)]
    binding: Option<BindingSpec>,
}

/// `[profile.binding]`: what a client puts in MsvAvChannelBindings and
/// MsvAvTargetName.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct BindingSpec {
    #[serde(default)]
    channel_bindings: Vec<String>,
    #[serde(default)]
    zero_pair: Option<bool>,
    #[serde(default)]
    target_name: Option<String>,
    #[serde(default)]
    sources: Vec<String>,
}

/// What a client sends as MsvAvTargetName.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetNameSent {
    /// The service's SPN (`cifs/host`, `HTTP/host`, ...).
    Spn,
    /// An empty MsvAvTargetName.
    Empty,
    /// No MsvAvTargetName (no NTLMv2 AV extensions at all).
    Absent,
}

impl TargetNameSent {
    /// `spn`, `empty` or `absent`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Spn => "spn",
            Self::Empty => "empty",
            Self::Absent => "absent",
        }
    }
}

/// A client profile's channel-binding and target-name behaviour
/// (`[profile.binding]`; defaults from `av_extensions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientBinding {
    /// The carriers over which the client sends the channel's bindings
    /// (only TLS carriers have any).
    pub channel_bindings_over: Vec<Carrier>,
    /// Without bindings, whether it sends an all-zero MsvAvChannelBindings
    /// (true) or none (false).
    pub zero_pair: bool,
    /// What it sends as MsvAvTargetName.
    pub target_name: TargetNameSent,
    /// Sources for this behaviour.
    pub sources: Vec<String>,
}

impl ClientBinding {
    fn from_spec(spec: Option<&BindingSpec>, av_extensions: bool) -> Result<Self, String> {
        let Some(b) = spec else {
            return Ok(Self {
                channel_bindings_over: Vec::new(),
                zero_pair: av_extensions,
                target_name: if av_extensions {
                    TargetNameSent::Empty
                } else {
                    TargetNameSent::Absent
                },
                sources: Vec::new(),
            });
        };
        let channel_bindings_over = b
            .channel_bindings
            .iter()
            .map(|c| match Carrier::from_name(c) {
                Some(c) if c.tls() => Ok(c),
                Some(_) => Err(format!(
                    "binding.channel_bindings: {c:?} has no TLS channel to bind to (https, ldaps)"
                )),
                None => Err(format!(
                    "binding.channel_bindings: {c:?} is not a carrier (https, ldaps)"
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let target_name = match b.target_name.as_deref() {
            None if av_extensions => TargetNameSent::Empty,
            None => TargetNameSent::Absent,
            Some("spn") => TargetNameSent::Spn,
            Some("empty") => TargetNameSent::Empty,
            Some("absent") => TargetNameSent::Absent,
            Some(other) => {
                return Err(format!(
                    "binding.target_name {other:?} is not spn, empty or absent"
                ));
            }
        };
        let zero_pair = b.zero_pair.unwrap_or(av_extensions);
        if !av_extensions
            && (!channel_bindings_over.is_empty()
                || zero_pair
                || target_name != TargetNameSent::Absent)
        {
            return Err("[profile.binding] sends AV pairs but av_extensions is false".into());
        }
        if av_extensions && target_name == TargetNameSent::Absent {
            return Err(
                "binding.target_name absent needs av_extensions = false (the AV extensions \
                 always carry MsvAvTargetName)"
                    .into(),
            );
        }
        Ok(Self {
            channel_bindings_over,
            zero_pair,
            target_name,
            sources: b.sources.clone(),
        })
    }

    /// Whether the client sends the channel's bindings over `carrier`.
    pub fn binds_over(&self, carrier: Carrier) -> bool {
        carrier.tls() && self.channel_bindings_over.contains(&carrier)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogSpec {
    #[serde(default)]
    profile: Vec<ProfileSpec>,
}

/// A peer profile, validated.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Name used on the command line.
    pub name: String,
    /// Which side it can play.
    pub role: Role,
    /// One line.
    pub description: String,
    /// Sources.
    pub sources: Vec<String>,
    /// What was observed on the wire.
    pub observed: String,
    /// What is assumed of it in either role (`assumed`).
    pub assumed: String,
    /// What is assumed of it as a client only (`[profile.client] assumed`).
    pub assumed_as_client: String,
    /// What is assumed of it as a server only (`[profile.server] assumed`).
    pub assumed_as_server: String,
    /// NtlmMinClientSec default.
    pub min_client_sec: MinSessionSecurity,
    /// NtlmMinServerSec default.
    pub min_server_sec: MinSessionSecurity,
    /// LmCompatibilityLevel as a client.
    pub client_lm_level: LmCompatibilityLevel,
    /// LmCompatibilityLevel as a server (or of its DC).
    pub server_lm_level: LmCompatibilityLevel,
    /// The registry values it reads (a pushed policy reaches it only for these).
    pub honours: Honours,
    /// A synthetic peer (such as the MS-NLMP 4.2 example peers): left out of
    /// matrices unless named explicitly.
    pub synthetic: bool,
    /// Where the profile was defined: `built-in` or a file name.
    pub origin: String,
    client: Option<(ClientConfig, ClientSpec, Version)>,
    server: Option<(ServerConfig, ServerSpec, Version)>,
    /// When the client sends an EncryptedRandomSessionKey (`key_exchange`).
    client_key_exchange: KeyExchange,
    /// How the server obtains the ExportedSessionKey with KEY_EXCH (`key_exchange`).
    server_key_exchange: ServerKeyExchange,
    /// Channel bindings and target name as a client (`[profile.binding]`).
    pub binding: ClientBinding,
}

/// `parts` without the empty ones, joined with `; `.
fn join_facts<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    parts
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// One profile's facts that no public source confirms (its `assumed` text
/// for the role it plays), which a verdict rests on: `{profile, role,
/// facts}` in `--json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssumedFacts {
    /// The profile's name.
    pub profile: String,
    /// The role it plays in the verdict: `client` or `server`.
    pub role: &'static str,
    /// What is assumed of it in that role ([`Profile::assumed_as`]).
    pub facts: String,
}

/// The assumed facts a verdict between `client` and `server` rests on:
/// each profile that took part, with what is assumed of it in the role it
/// played ([`Profile::assumed_as`]); a profile with nothing assumed in that
/// role is left out. `handshake`, `interop`, `audit` and `serve http` all
/// report these beside their verdicts.
pub fn assumed_facts(client: Option<&Profile>, server: Option<&Profile>) -> Vec<AssumedFacts> {
    [(client, Side::Client), (server, Side::Server)]
        .into_iter()
        .filter_map(|(p, side)| {
            let p = p?;
            let facts = p.assumed_as(side);
            (!facts.is_empty()).then(|| AssumedFacts {
                profile: p.name.clone(),
                role: side.name(),
                facts,
            })
        })
        .collect()
}

/// A problem in a profile file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileError(pub String);

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProfileError {}

fn os(name: Option<&str>) -> Result<OsGeneration, String> {
    Ok(match name.unwrap_or("") {
        "" => OsGeneration::Unspecified,
        "nt4" => OsGeneration::Nt4,
        "windows2000" => OsGeneration::Windows2000,
        "xp-2003" => OsGeneration::XpServer2003,
        "vista-2008" => OsGeneration::VistaServer2008,
        "windows7plus" => OsGeneration::Windows7Plus,
        "non-windows" => OsGeneration::NonWindows,
        other => {
            return Err(format!(
                "unknown os {other:?} (nt4, windows2000, xp-2003, vista-2008, windows7plus, non-windows)"
            ));
        }
    })
}

fn version(v: Option<&str>) -> Result<Version, String> {
    let Some(v) = v else {
        return Ok(Version::new(0, 0, 0));
    };
    let parts: Vec<&str> = v.split('.').collect();
    match parts.as_slice() {
        [a, b, c] => match (a.parse(), b.parse(), c.parse()) {
            (Ok(a), Ok(b), Ok(c)) => Ok(Version::new(a, b, c)),
            _ => Err(format!("version {v:?} is not MAJOR.MINOR.BUILD")),
        },
        _ => Err(format!("version {v:?} is not MAJOR.MINOR.BUILD")),
    }
}

/// A client's `key_exchange`: `negotiated` (default), `sign-or-seal`, `never`.
fn client_key_exchange(name: Option<&str>) -> Result<KeyExchange, String> {
    [
        KeyExchange::Negotiated,
        KeyExchange::WithSignOrSeal,
        KeyExchange::Never,
    ]
    .into_iter()
    .find(|k| k.name() == name.unwrap_or("negotiated"))
    .ok_or_else(|| {
        format!(
            "client key_exchange {:?} is not negotiated, sign-or-seal or never",
            name.unwrap_or_default()
        )
    })
}

/// A server's `key_exchange`: `mic-decides` (default), `negotiated`, `sign-or-seal`.
fn server_key_exchange(name: Option<&str>) -> Result<ServerKeyExchange, String> {
    [
        ServerKeyExchange::MicDecides,
        ServerKeyExchange::Negotiated,
        ServerKeyExchange::WithSignOrSeal,
    ]
    .into_iter()
    .find(|k| k.name() == name.unwrap_or("mic-decides"))
    .ok_or_else(|| {
        format!(
            "server key_exchange {:?} is not mic-decides, negotiated or sign-or-seal",
            name.unwrap_or_default()
        )
    })
}

fn level(n: u8) -> Result<LmCompatibilityLevel, String> {
    LmCompatibilityLevel::from_u8(n).ok_or_else(|| format!("lm_level {n} is not 0 to 5"))
}

impl Profile {
    fn from_spec(p: ProfileSpec) -> Result<Self, String> {
        let osg = os(p.os.as_deref())?;
        let client_version = version(p.version.as_deref())?;
        let server_version = match &p.server_version {
            Some(v) => version(Some(v))?,
            None => client_version,
        };
        let client_lm_level = level(p.lm_level)?;
        let server_lm_level = level(p.server_lm_level.unwrap_or(p.lm_level))?;
        let client = match (&p.client, p.role.client()) {
            (Some(c), true) => {
                let defaults = ClientConfig::default();
                let config = ClientConfig {
                    lm_level: client_lm_level,
                    offer: c
                        .offer
                        .as_ref()
                        .map_or(Ok(defaults.offer), |f| f.resolve(NegotiateFlags::all()))?,
                    offer_with_security: c
                        .offer_with_security
                        .as_ref()
                        .map_or(Ok(NegotiateFlags::empty()), |f| {
                            f.resolve(NegotiateFlags::all())
                        })?,
                    os: osg,
                    ntlmv1_removed: c.ntlmv1_removed,
                    flags_override: c
                        .flags
                        .as_ref()
                        .map(|f| f.resolve(NegotiateFlags::all()))
                        .transpose()?,
                    ..defaults
                };
                Some((config, c.clone(), client_version))
            }
            (None, true) => {
                return Err("role includes client but there is no [profile.client] table".into());
            }
            (Some(_), false) => {
                return Err("a [profile.client] table on a server-only profile".into());
            }
            (None, false) => None,
        };
        let server = match (&p.server, p.role.server()) {
            (Some(s), true) => {
                let target_info = match s.target_info.as_deref().unwrap_or("always") {
                    "always" => TargetInfoRule::Always,
                    "ess-or-request-target" => TargetInfoRule::EssOrRequestTarget,
                    "ess-only" => TargetInfoRule::EssOnly,
                    "never" => TargetInfoRule::Never,
                    "request-target" => TargetInfoRule::RequestTarget,
                    other => return Err(format!("unknown target_info {other:?}")),
                };
                let verifies = match &s.verifies {
                    None => ResponseKinds::ALL,
                    Some(list) => list.iter().try_fold(ResponseKinds::NONE, |acc, n| {
                        ResponseKinds::by_name(n)
                            .map(|k| acc.union(k))
                            .ok_or_else(|| {
                                format!(
                                    "verifies: {n:?} is not a response kind (LM, NTLMv1, \
                                 NTLM2_SESSION, NTLMv2)"
                                )
                            })
                    })?,
                };
                // "all" for Windows 7 and later: every capability but DATAGRAM,
                // which only NT through Server 2008 support (MS-NLMP <52>, <70>).
                let all = if osg == OsGeneration::Windows7Plus {
                    SERVER_CAPABILITIES.difference(NegotiateFlags::NEGOTIATE_DATAGRAM)
                } else {
                    SERVER_CAPABILITIES
                };
                let config = ServerConfig {
                    lm_level: server_lm_level,
                    supported: s.supported.as_ref().map_or(Ok(all), |f| f.resolve(all))?,
                    domain_joined: s.domain_joined,
                    target_info,
                    verifies,
                    blocked: false,
                    ntlmv1_removed: s.ntlmv1_removed,
                    os: osg,
                    flags_override: s
                        .flags
                        .as_ref()
                        .map(|f| f.resolve(NegotiateFlags::all()))
                        .transpose()?,
                };
                Some((config, s.clone(), server_version))
            }
            (None, true) => {
                return Err("role includes server but there is no [profile.server] table".into());
            }
            (Some(_), false) => {
                return Err("a [profile.server] table on a client-only profile".into());
            }
            (None, false) => None,
        };
        let client_key_exchange =
            client_key_exchange(p.client.as_ref().and_then(|c| c.key_exchange.as_deref()))?;
        match p.client.as_ref().and_then(|c| c.mic_announced.as_deref()) {
            None | Some("always" | "with-security") => {}
            Some(other) => {
                return Err(format!(
                    "mic_announced {other:?} is not always or with-security"
                ));
            }
        }
        let server_key_exchange =
            server_key_exchange(p.server.as_ref().and_then(|c| c.key_exchange.as_deref()))?;
        let av_extensions = p.client.as_ref().is_some_and(|c| c.av_extensions);
        if p.binding.is_some() && p.client.is_none() {
            return Err("a [profile.binding] table on a profile without [profile.client]".into());
        }
        let binding = ClientBinding::from_spec(p.binding.as_ref(), av_extensions)?;
        let honours = match &p.honours {
            Some(list) => Honours::from_names(list)?,
            None if osg == OsGeneration::NonWindows => Honours::NONE,
            None => Honours::ALL,
        };
        Ok(Self {
            name: p.name,
            role: p.role,
            description: p.description,
            sources: p.sources,
            observed: p.observed,
            assumed: p.assumed,
            assumed_as_client: p
                .client
                .as_ref()
                .map(|c| c.assumed.clone())
                .unwrap_or_default(),
            assumed_as_server: p
                .server
                .as_ref()
                .map(|c| c.assumed.clone())
                .unwrap_or_default(),
            min_client_sec: MinSessionSecurity::from_registry(p.min_client_sec),
            min_server_sec: MinSessionSecurity::from_registry(p.min_server_sec),
            client_lm_level,
            server_lm_level,
            honours,
            synthetic: p.synthetic,
            origin: String::from("built-in"),
            client,
            server,
            client_key_exchange,
            server_key_exchange,
            binding,
        })
    }

    /// The client half as the policy engine sees it (no application
    /// requests), when the profile can be a client.
    pub fn client_config(&self) -> Option<&ClientConfig> {
        self.client.as_ref().map(|(c, _, _)| c)
    }

    /// The server half as the policy engine sees it, when the profile can be a server.
    pub fn server_config(&self) -> Option<&ServerConfig> {
        self.server.as_ref().map(|(s, _, _)| s)
    }

    /// What is assumed of this profile in `side`'s role: the facts of
    /// either role, then those of that role, joined with `; ` (empty when
    /// nothing is).
    pub fn assumed_as(&self, side: Side) -> String {
        let own = match side {
            Side::Client => &self.assumed_as_client,
            Side::Server => &self.assumed_as_server,
        };
        join_facts([self.assumed.trim(), own.trim()])
    }

    /// Everything assumed of this profile: the facts of either role, then
    /// `as a client: ...` and `as a server: ...` (for `ntlmsim profiles` and
    /// the HTML reports' profile lists).
    pub fn assumed_all(&self) -> String {
        let role = |label: &str, t: &str| {
            let t = t.trim();
            if t.is_empty() {
                String::new()
            } else {
                format!("{label}: {t}")
            }
        };
        join_facts([
            self.assumed.trim(),
            &role("as a client", &self.assumed_as_client),
            &role("as a server", &self.assumed_as_server),
        ])
    }

    /// Whether the client sends a MIC when the CHALLENGE carries MsvAvTimestamp
    /// (MS-NLMP 3.1.5.1.2; <49>: not NT/2000/XP/2003).
    pub fn sends_mic(&self) -> bool {
        self.client.as_ref().is_some_and(|(_, c, _)| c.send_mic)
    }

    /// When the client sends an EncryptedRandomSessionKey (profile key
    /// `key_exchange` of `[profile.client]`; default `negotiated`).
    pub fn client_key_exchange(&self) -> KeyExchange {
        self.client_key_exchange
    }

    /// How the server obtains the ExportedSessionKey when KEY_EXCH is
    /// negotiated (profile key `key_exchange` of `[profile.server]`; default
    /// `mic-decides`).
    pub fn server_key_exchange(&self) -> ServerKeyExchange {
        self.server_key_exchange
    }

    /// Whether the client announces its MIC in MsvAvFlags only when
    /// integrity or confidentiality is requested (profile key `mic_announced
    /// = "with-security"`, Samba); otherwise whenever it sends one.
    pub fn announces_mic_with_security_only(&self) -> bool {
        self.client
            .as_ref()
            .is_some_and(|(_, c, _)| c.mic_announced.as_deref() == Some("with-security"))
    }

    /// Whether the server sends MsvAvTimestamp in its TargetInfo (<16>).
    pub fn sends_timestamp(&self) -> bool {
        self.server
            .as_ref()
            .is_some_and(|(_, s, _)| s.send_timestamp)
    }

    /// The NEGOTIATE flags this profile offers with no application request.
    pub fn offered_flags(&self) -> Option<NegotiateFlags> {
        self.client.as_ref().map(|(c, _, _)| {
            ntlm_policy::negotiate_flags(c, self.min_client_sec, &ntlm_policy::Semantics::default())
        })
    }

    /// The NEGOTIATE flags this profile offers when the application asks for
    /// integrity (SIGN), as SMB signing does.
    pub fn offered_flags_signing(&self) -> Option<NegotiateFlags> {
        self.client.as_ref().map(|(c, _, _)| {
            let c = ClientConfig {
                integrity: true,
                ..*c
            };
            ntlm_policy::negotiate_flags(
                &c,
                self.min_client_sec,
                &ntlm_policy::Semantics::default(),
            )
        })
    }

    /// This profile with its NEGOTIATE forced to `flags` (as `--client-flags`);
    /// unchanged when it cannot be a client.
    #[must_use]
    pub fn with_client_flags(&self, flags: NegotiateFlags) -> Self {
        let mut p = self.clone();
        if let Some((c, _, _)) = p.client.as_mut() {
            c.flags_override = Some(flags);
        }
        p
    }

    /// This profile with its CHALLENGE forced to `flags` (as `--server-flags`);
    /// unchanged when it cannot be a server.
    #[must_use]
    pub fn with_server_flags(&self, flags: NegotiateFlags) -> Self {
        let mut p = self.clone();
        if let Some((s, _, _)) = p.server.as_mut() {
            s.flags_override = Some(flags);
        }
        p
    }

    /// Client settings for these credentials, when the profile can be a client.
    pub fn client_settings(&self, credentials: Credentials) -> Option<ClientSettings> {
        let (config, spec, v) = self.client.as_ref()?;
        let mut s = ClientSettings::new(credentials);
        s.config = *config;
        s.min = self.min_client_sec;
        s.version = *v;
        s.send_mic = spec.send_mic;
        s.av_extensions = spec.av_extensions;
        s.key_exchange = self.client_key_exchange;
        s.mic_announced_with_security_only = self.announces_mic_with_security_only();
        s.omit_absent_channel_bindings = !self.binding.zero_pair;
        Some(s)
    }

    /// Sets what the client sends as MsvAvChannelBindings and
    /// MsvAvTargetName over `carrier` ([`ClientBinding`]): `channel` is the
    /// MD5 of the connection's channel bindings, `spn` the service's name.
    pub fn apply_client_binding(
        &self,
        s: &mut ClientSettings,
        carrier: Carrier,
        channel: [u8; 16],
        spn: &str,
    ) {
        s.channel_bindings = self.binding.binds_over(carrier).then_some(channel);
        s.omit_absent_channel_bindings = !self.binding.zero_pair;
        s.target_name = match self.binding.target_name {
            TargetNameSent::Spn => Some(spn.to_owned()),
            TargetNameSent::Empty | TargetNameSent::Absent => None,
        };
    }

    /// Server settings checking accounts in `store`, when the profile can be a server.
    pub fn server_settings(&self, store: Arc<dyn CredentialStore>) -> Option<ServerSettings> {
        let (config, spec, v) = self.server.as_ref()?;
        let mut s = ServerSettings::new(store);
        s.config = *config;
        s.min = self.min_server_sec;
        s.version = *v;
        s.send_timestamp = spec.send_timestamp;
        s.send_dns_names = spec.send_dns_names;
        s.key_exchange = self.server_key_exchange;
        if let Some(d) = &spec.nb_domain {
            s.names.nb_domain.clone_from(d);
        }
        if let Some(c) = &spec.nb_computer {
            s.names.nb_computer.clone_from(c);
        }
        Some(s)
    }
}

/// The 1-based line of byte `offset` in `text`.
pub(crate) fn line_at(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or_else(|| text.matches('\n').count(), |t| t.matches('\n').count())
        + 1
}

/// A set of profiles.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// In file order.
    pub profiles: Vec<Profile>,
}

impl Catalog {
    /// The built-in catalog.
    pub fn builtin() -> Result<Self, ProfileError> {
        Self::from_toml(BUILTIN)
    }

    /// Parses a catalog in the built-in format. Errors name the line (TOML
    /// syntax and unknown keys) or the profile and field (values).
    pub fn from_toml(text: &str) -> Result<Self, ProfileError> {
        let spec: CatalogSpec = toml::from_str(text).map_err(|e| {
            ProfileError(match e.span().map(|s| line_at(text, s.start)) {
                Some(l) => format!("line {l}: {}", e.message()),
                None => e.message().to_owned(),
            })
        })?;
        let mut profiles: Vec<Profile> = Vec::with_capacity(spec.profile.len());
        for p in spec.profile {
            let name = p.name.clone();
            if profiles.iter().any(|q| q.name.eq_ignore_ascii_case(&name)) {
                return Err(ProfileError(format!("profile {name:?} is defined twice")));
            }
            profiles.push(
                Profile::from_spec(p)
                    .map_err(|e| ProfileError(format!("profile {name:?}: {e}")))?,
            );
        }
        Ok(Self { profiles })
    }

    /// [`from_toml`](Self::from_toml) for a user's file: each profile's
    /// [`origin`](Profile::origin) is `origin` (the file name).
    pub fn from_user_toml(text: &str, origin: &str) -> Result<Self, ProfileError> {
        let mut c = Self::from_toml(text)?;
        for p in &mut c.profiles {
            p.origin = origin.to_owned();
        }
        Ok(c)
    }

    /// Adds `other`'s profiles: one with the name of a profile already here
    /// replaces it in place, the others are appended. Returns the replaced names.
    pub fn merge(&mut self, other: Self) -> Vec<String> {
        let mut replaced = Vec::new();
        for p in other.profiles {
            match self
                .profiles
                .iter_mut()
                .find(|q| q.name.eq_ignore_ascii_case(&p.name))
            {
                Some(slot) => {
                    replaced.push(slot.name.clone());
                    *slot = p;
                }
                None => self.profiles.push(p),
            }
        }
        replaced
    }

    /// A profile by name (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.profiles
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// The names, for error messages.
    pub fn names(&self) -> String {
        self.profiles
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_loads() {
        let c = Catalog::builtin().unwrap();
        assert!(c.profiles.len() >= 20);
        for p in &c.profiles {
            assert!(!p.sources.is_empty(), "{} has no source", p.name);
            assert!(
                !(p.observed.is_empty() && p.assumed_all().is_empty()),
                "{} says neither what is observed nor what is assumed",
                p.name
            );
            assert_eq!(p.role.client(), p.offered_flags().is_some(), "{}", p.name);
            assert_eq!(p.role.client(), p.client_config().is_some(), "{}", p.name);
            assert_eq!(p.role.server(), p.server_config().is_some(), "{}", p.name);
            assert_eq!(p.origin, "built-in");
        }
        let w = c.get("Windows-11").unwrap();
        assert_eq!(w.offered_flags().unwrap().bits(), 0xa208_8207);
        assert_eq!(
            c.get("curl-7.88").unwrap().offered_flags().unwrap().bits(),
            0x0008_8206
        );
    }

    #[test]
    fn assumed_facts_follow_the_roles_played() {
        let c = Catalog::builtin().unwrap();
        let (xp, w11, imp) = (
            c.get("windows-xp").unwrap(),
            c.get("windows-11").unwrap(),
            c.get("impacket-0.13").unwrap(),
        );
        let f = assumed_facts(Some(xp), Some(w11));
        assert_eq!(f.len(), 2);
        assert_eq!((f[0].profile.as_str(), f[0].role), ("windows-xp", "client"));
        assert_eq!(f[0].facts, xp.assumed_as(Side::Client));
        assert_eq!((f[1].profile.as_str(), f[1].role), ("windows-11", "server"));
        // Windows 11's client facts are not what a server verdict rests on.
        assert!(
            !f[1].facts.contains("LmCompatibilityLevel"),
            "{}",
            f[1].facts
        );
        // Nothing assumed (impacket), or no profile: nothing listed.
        assert!(assumed_facts(Some(imp), None).is_empty());
        assert_eq!(assumed_facts(None, Some(w11)), f[1..]);
    }

    #[test]
    fn windows_reads_the_registry_and_the_others_do_not() {
        let c = Catalog::builtin().unwrap();
        for p in &c.profiles {
            let windows = p.name.starts_with("windows-") || p.name == "ms-nlmp-4.2";
            let want = if windows { Honours::ALL } else { Honours::NONE };
            assert_eq!(p.honours, want, "{}", p.name);
        }
        assert_eq!(
            Honours::ALL.names(),
            vec![
                "NtlmMinClientSec",
                "NtlmMinServerSec",
                "LmCompatibilityLevel"
            ]
        );
        assert!(c.get("ms-nlmp-4.2").unwrap().synthetic);
        assert!(!c.get("windows-11").unwrap().synthetic);
        // Windows 7 and later require 128-bit by default, older generations nothing.
        for (name, min) in [
            ("windows-nt4", 0),
            ("windows-xp", 0),
            ("windows-vista", 0),
            ("windows-7-upgraded", 0),
            ("windows-7", 0x2000_0000),
            ("windows-10", 0x2000_0000),
        ] {
            let p = c.get(name).unwrap();
            assert_eq!(p.min_server_sec.bits(), min, "{name}");
            assert_eq!(p.min_client_sec.bits(), min, "{name}");
        }
    }

    #[test]
    fn calibrated_profile_facts() {
        let c = Catalog::builtin().unwrap();
        // Windows 10 with signing: 0xe2088297, as the public build-17763 NEGOTIATE.
        let w10 = c.get("windows-10").unwrap();
        assert_eq!(w10.offered_flags_signing().unwrap().bits(), 0xe208_8297);
        // XP offers its public NEGOTIATE, 0xa2088207: 128 and 56 without
        // signing, and ESS at its default level 0 (level0-ess=requested).
        let xp = c.get("windows-xp").unwrap();
        assert_eq!(xp.offered_flags().unwrap().bits(), 0xa208_8207);
        // What is assumed of it depends on its role.
        let as_client = xp.assumed_as(Side::Client);
        assert!(as_client.contains("level0-ess"), "{as_client}");
        assert!(!xp.assumed_as(Side::Server).contains("level0-ess"));
        assert!(xp.assumed_all().contains("as a server: "));
        // Server 2003 is its own profile, LmCompatibilityLevel 2.
        let w2003 = c.get("windows-2003").unwrap();
        assert_eq!(w2003.client_lm_level, LmCompatibilityLevel::L2);
        assert_eq!(xp.client_lm_level, LmCompatibilityLevel::L0);
        // DATAGRAM: NT through 2008 only.
        for p in &c.profiles {
            let Some(s) = p.server_config() else { continue };
            let dgram = s.supported.contains(NegotiateFlags::NEGOTIATE_DATAGRAM);
            if s.os == OsGeneration::Windows7Plus {
                assert!(!dgram, "{}", p.name);
            }
        }
        assert!(
            c.get("windows-vista")
                .unwrap()
                .server_config()
                .unwrap()
                .supported
                .contains(NegotiateFlags::NEGOTIATE_DATAGRAM)
        );
        // Samba: TargetInfo only with REQUEST_TARGET; the NAS cannot verify NTLMv2.
        let samba = c.get("samba-4").unwrap().server_config().unwrap();
        assert_eq!(samba.target_info, TargetInfoRule::RequestTarget);
        let nas = c.get("ntlmv1-nas").unwrap().server_config().unwrap();
        assert!(!nas.verifies.verifies(ntlm_wire::ResponseKind::NtlmV2));
        assert!(nas.verifies.verifies(ntlm_wire::ResponseKind::NtlmV1));
        // No profile cites a notes file the repository does not ship.
        for p in &c.profiles {
            for src in &p.sources {
                assert!(!src.contains("REAL-PEERS"), "{}: {src}", p.name);
            }
        }
        let e = Catalog::from_toml(
            "[[profile]]\nname = \"x\"\nrole = \"server\"\ndescription = \"\"\nlm_level = 3\n[profile.server]\nverifies = [\"NTLMv3\"]\n",
        )
        .unwrap_err();
        assert!(e.0.contains("verifies: \"NTLMv3\""), "{e}");
    }

    #[test]
    fn user_catalogs_merge_by_name() {
        let mut c = Catalog::builtin().unwrap();
        let n = c.profiles.len();
        let user = Catalog::from_user_toml(
            "[[profile]]\nname = \"WINDOWS-11\"\nrole = \"server\"\ndescription = \"x\"\nlm_level = 5\nhonours = [\"ntlmminserversec\"]\n[profile.server]\n\n[[profile]]\nname = \"new\"\nrole = \"client\"\ndescription = \"y\"\nos = \"non-windows\"\nlm_level = 3\n[profile.client]\n",
            "site.toml",
        )
        .unwrap();
        assert_eq!(c.merge(user), vec!["windows-11".to_owned()]);
        assert_eq!(c.profiles.len(), n + 1);
        let w = c.get("windows-11").unwrap();
        assert_eq!((w.role, w.origin.as_str()), (Role::Server, "site.toml"));
        assert_eq!(
            w.honours,
            Honours {
                min_server_sec: true,
                ..Honours::NONE
            }
        );
        assert_eq!(c.get("new").unwrap().honours, Honours::NONE);
        let e = Catalog::from_toml(
            "[[profile]]\nname = \"x\"\nrole = \"client\"\ndescription = \"\"\nlm_level = 3\nhonours = [\"Kerberos\"]\n[profile.client]\n",
        )
        .unwrap_err();
        assert!(e.0.contains("honours: \"Kerberos\""), "{e}");
        let e = Catalog::from_toml(
            "[[profile]]\nname = \"x\"\nrole = \"client\"\ndescription = \"\"\nlm_level = 3\n[profile.client]\n[[profile]]\nname = \"X\"\nrole = \"client\"\ndescription = \"\"\nlm_level = 3\n[profile.client]\n",
        )
        .unwrap_err();
        assert!(e.0.contains("defined twice"), "{e}");
    }

    #[test]
    fn key_exchange_readings_per_profile() {
        let c = Catalog::builtin().unwrap();
        for (name, client, server) in [
            (
                "samba-4",
                Some(KeyExchange::Negotiated),
                Some(ServerKeyExchange::Negotiated),
            ),
            (
                "pyspnego-0.12",
                Some(KeyExchange::WithSignOrSeal),
                Some(ServerKeyExchange::WithSignOrSeal),
            ),
            ("curl-7.88", Some(KeyExchange::Never), None),
            (
                "windows-11",
                Some(KeyExchange::Negotiated),
                Some(ServerKeyExchange::MicDecides),
            ),
        ] {
            let p = c.get(name).unwrap();
            let store: Arc<dyn CredentialStore> = Arc::new(ntlm_session::MemoryStore::new());
            assert_eq!(
                p.client_settings(Credentials::anonymous())
                    .map(|s| s.key_exchange),
                client,
                "{name}"
            );
            assert_eq!(
                p.server_settings(store).map(|s| s.key_exchange),
                server,
                "{name}"
            );
        }
        let e = Catalog::from_toml(
            "[[profile]]\nname = \"x\"\nrole = \"client\"\ndescription = \"\"\nlm_level = 3\n[profile.client]\nkey_exchange = \"mic-decides\"\n",
        )
        .unwrap_err();
        assert_eq!(
            e.0,
            "profile \"x\": client key_exchange \"mic-decides\" is not negotiated, sign-or-seal or never"
        );
        let e = Catalog::from_toml(
            "[[profile]]\nname = \"x\"\nrole = \"server\"\ndescription = \"\"\nlm_level = 3\n[profile.server]\nkey_exchange = \"never\"\n",
        )
        .unwrap_err();
        assert!(e.0.contains("server key_exchange \"never\""), "{e}");
        assert!(c.get("samba-4").unwrap().announces_mic_with_security_only());
        assert!(
            !c.get("windows-11")
                .unwrap()
                .announces_mic_with_security_only()
        );
        let e = Catalog::from_toml(
            "[[profile]]\nname = \"x\"\nrole = \"client\"\ndescription = \"\"\nlm_level = 3\n[profile.client]\nmic_announced = \"sometimes\"\n",
        )
        .unwrap_err();
        assert_eq!(
            e.0,
            "profile \"x\": mic_announced \"sometimes\" is not always or with-security"
        );
    }

    #[test]
    fn errors_name_line_and_profile() {
        let e = Catalog::from_toml("[[profile]]\nname = \"x\"\nrole = \"client\"\nbogus = 1\n")
            .unwrap_err();
        assert!(e.0.starts_with("line "), "{e}");
        let e = Catalog::from_toml(
            "[[profile]]\nname = \"x\"\nrole = \"client\"\ndescription = \"\"\nlm_level = 9\n[profile.client]\n",
        )
        .unwrap_err();
        assert_eq!(e.0, "profile \"x\": lm_level 9 is not 0 to 5");
        let e = Catalog::from_toml(
            "[[profile]]\nname = \"x\"\nrole = \"client\"\ndescription = \"\"\nlm_level = 3\n[profile.client]\noffer = [\"NOPE\"]\n",
        )
        .unwrap_err();
        assert!(e.0.contains("unknown flag name \"NOPE\""), "{e}");
    }
}
