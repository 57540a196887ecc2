//! Auditing captured NTLM exchanges against a policy (`ntlmsim audit`).
//!
//! `ntlm-capture` finds the exchanges in pcap/pcapng files; this module
//! decodes their messages with `ntlm-wire`, matches the client against the
//! profile catalog, and judges each exchange under a what-if policy with
//! the same enforcement functions the simulator uses (`ntlm-policy`):
//!
//! 1. the server's NtlmMinServerSec check on receipt of NEGOTIATE, against
//!    the CHALLENGE flags it sent (or, when no CHALLENGE was captured, the
//!    NEGOTIATE flags, which bound them) — MS-NLMP 3.2.5.1.1;
//! 2. the client's charset and NtlmMinClientSec checks on receipt of the
//!    CHALLENGE — MS-NLMP 3.1.5.1.2;
//! 3. the server's NtlmMinServerSec check on receipt of AUTHENTICATE —
//!    MS-NLMP 3.2.5.1.2;
//! 4. whether a server at the given LmCompatibilityLevel accepts the
//!    response kind observed (MS-NLMP <81>, KB239869).
//!
//! Client-side settings (`--client-min`, `--client-lm-level`) apply to the
//! clients that read them: those whose closest profile reads the registry
//! value (Windows), or whose profile is unknown. An AUTHENTICATE that
//! carries flags its CHALLENGE lacked is taken as the client sent it
//! (the `auth-flags-subset` check is not a policy change and is not run).
//!
//! Rendering: JSON Lines records ([`ExchangeRecord`], [`ProblemRecord`],
//! [`Summary`]), a human summary ([`render_human`]), CSV ([`csv`]) and a
//! self-contained HTML report ([`html`]).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};

use ntlm_capture::{Exchange, NtlmMessage, Problem};
use ntlm_policy::{
    Certainty, ClientConfig, Failure, Level0Ess, LmCompatibilityLevel, MinSessionSecurity,
    OsGeneration, Semantics, ServerConfig, check_client_challenge, check_response_accepted,
    check_server_authenticate, check_server_negotiate,
};
use ntlm_session::Credentials;
use ntlm_wire::layout;
use ntlm_wire::{
    AuthenticateMessage, ChallengeMessage, NegotiateFlags, NegotiateMessage, ResponseKind, Version,
};
use serde::Serialize;

use crate::outcome::{CertaintyJson, FailureJson, OutcomeJson, hex32, names};
use crate::profiles::{AssumedFacts, Catalog, Honours, assumed_facts};
use crate::report::escape;
use crate::sink;

/// The what-if policy an audit applies.
#[derive(Debug, Clone)]
pub struct Policy {
    /// NtlmMinClientSec.
    pub client_min: MinSessionSecurity,
    /// NtlmMinServerSec.
    pub server_min: MinSessionSecurity,
    /// The clients' LmCompatibilityLevel (`None`: as observed).
    pub client_lm_level: Option<LmCompatibilityLevel>,
    /// The servers' (or their DCs') LmCompatibilityLevel (`None`: not checked).
    pub server_lm_level: Option<LmCompatibilityLevel>,
    /// Policy semantics.
    pub semantics: Semantics,
    /// Restrict NTLM on the clients, the servers and their DC (default: none).
    pub restrict: ntlm_session::RestrictPath,
    /// The servers' channel-binding, target-name and LDAP signing settings.
    pub binding: ntlm_policy::BindingPolicy,
    /// The captured HTTP and LDAP exchanges ran inside TLS (a capture taken
    /// behind a TLS-terminating proxy, or decrypted): they are judged as
    /// HTTPS and LDAPS.
    pub tls: bool,
}

impl Policy {
    /// Whether a verdict under this policy rests on the closest client
    /// profile: it sets a client-side value (NtlmMinClientSec, the client
    /// LmCompatibilityLevel, client Restrict NTLM settings), and the profile
    /// decides whether the client reads it and what it would send.
    pub fn reads_client_profile(&self) -> bool {
        self.client_min != MinSessionSecurity::NONE
            || self.client_lm_level.is_some()
            || !self.restrict.client.is_default()
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            client_min: MinSessionSecurity::NONE,
            server_min: MinSessionSecurity::NONE,
            client_lm_level: None,
            server_lm_level: None,
            semantics: Semantics::default(),
            restrict: ntlm_session::RestrictPath::default(),
            binding: ntlm_policy::BindingPolicy::default(),
            tls: false,
        }
    }
}

/// The carrier of a captured exchange as the channel-binding settings see
/// it (`tls`: the HTTP and LDAP exchanges ran inside TLS).
pub const fn binding_carrier(c: ntlm_capture::Carrier, tls: bool) -> ntlm_policy::Carrier {
    use ntlm_capture::Carrier as C;
    use ntlm_policy::Carrier as B;
    match (c, tls) {
        (C::Http, false) => B::Http,
        (C::Http, true) => B::Https,
        (C::LdapSasl | C::LdapSicily, false) => B::Ldap,
        (C::LdapSasl | C::LdapSicily, true) => B::Ldaps,
        (C::Smb1 | C::Smb2, _) => B::Smb,
        (C::DceRpc | C::Scan, _) => B::Other,
    }
}

/// A client profile reduced to what can be compared with a capture.
#[derive(Debug, Clone)]
struct ClientShape {
    name: String,
    /// Offered flags without and with application security requests.
    offered: [NegotiateFlags; 2],
    version: Option<Version>,
    os: OsGeneration,
    lm_level: LmCompatibilityLevel,
    sends_mic: bool,
    honours: Honours,
    /// What is assumed of the profile as a client.
    assumed: Vec<AssumedFacts>,
}

impl ClientShape {
    /// Whether a client that sent Version `v` can be this profile. The
    /// Version field is what the client says it is: a profile whose own
    /// Version has another major.minor is another release (a 10.0.19041
    /// client is not `windows-xp`, 5.1). A Windows profile without one is
    /// NT 4.0 or 2000, which never send the field (MS-NLMP <24>/<6>, as the
    /// profiles cite); a non-Windows profile without one may still be the
    /// client (its Version is unrecorded).
    fn may_have_sent(&self, v: Version) -> bool {
        match self.version {
            Some(p) => (p.major, p.minor) == (v.major, v.minor),
            None => matches!(
                self.os,
                OsGeneration::NonWindows | OsGeneration::Unspecified
            ),
        }
    }
}

/// Most differing NEGOTIATE bits for a profile to count as close.
const MAX_PROFILE_BITS: u32 = 3;

/// Judges exchanges under a policy.
///
/// It keeps the certainty of each distinct case it judged (at most 4,096
/// of them).
#[derive(Debug, Clone)]
pub struct Auditor {
    policy: Policy,
    clients: Vec<ClientShape>,
    certainties: Certainties,
}

/// The certainties an [`Auditor`] has computed, by case.
#[derive(Debug, Default)]
struct Certainties(Mutex<HashMap<Case, Certainty>>);

impl Certainties {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<Case, Certainty>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Clone for Certainties {
    fn clone(&self) -> Self {
        Self(Mutex::new(self.map().clone()))
    }
}

/// An observed carrier result.
#[derive(Debug, Clone, Serialize)]
pub struct ResultJson {
    /// `HTTP`, `SMB`, `LDAP` or `DCE/RPC`.
    pub carrier: &'static str,
    /// The status or result code (HTTP status, NT status, LDAP resultCode,
    /// RPC fault status or bind_nak reason; 0 for an RPC response).
    pub code: u32,
    /// The code as text, e.g. `HTTP 401`, `STATUS_LOGON_FAILURE (0xc000006d)`.
    pub text: String,
    /// Whether the carrier says the logon succeeded.
    pub success: bool,
    /// Packet number.
    pub packet: u64,
}

/// One exchange as reported (`{"exchange": {...}}`).
#[derive(Debug, Clone, Serialize)]
pub struct ExchangeRecord {
    /// The capture file.
    pub file: String,
    /// 1-based position in the audit's output.
    pub index: usize,
    /// `HTTP`, `SMB1`, `SMB2`, `DCE/RPC`, `LDAP-SASL`, `LDAP-sicily`, `scan`.
    pub carrier: &'static str,
    /// `raw` or `spnego`.
    pub wrapping: &'static str,
    /// Client `ip:port`.
    pub client: String,
    /// Server `ip:port`.
    pub server: String,
    /// How the roles were told apart: `syn`, `challenge`, `client-message`, `port`.
    pub roles_by: &'static str,
    /// Packet number of the first message.
    pub first_packet: u64,
    /// Packet number of the last message or result.
    pub last_packet: u64,
    /// Time of the first message (RFC 3339).
    pub first_time: String,
    /// Time of the last message or result.
    pub last_time: String,
    /// The connection's first packet time.
    pub connection_first_time: String,
    /// The connection's last packet time.
    pub connection_last_time: String,
    /// 1-based position of the exchange on its connection.
    pub exchange_on_connection: u32,
    /// Messages seen, in order.
    pub messages: Vec<&'static str>,
    /// The packet that completed each message, in the same order.
    pub message_packets: Vec<u64>,
    /// All three messages were seen.
    pub complete: bool,
    /// Not every message of the exchange was captured: the verdict rests
    /// only on the messages listed in `judged_on` (the opposite of `complete`).
    pub partial: bool,
    /// The messages the capture lacks (`NEGOTIATE`, `CHALLENGE`, `AUTHENTICATE`).
    pub missing_messages: Vec<&'static str>,
    /// AUTHENTICATE UserName.
    pub user: Option<String>,
    /// AUTHENTICATE DomainName.
    pub domain: Option<String>,
    /// AUTHENTICATE Workstation (or the NEGOTIATE's).
    pub workstation: Option<String>,
    /// Undecodable name bytes, hex, by field.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub raw_names: BTreeMap<&'static str, String>,
    /// The client's Version (NEGOTIATE or AUTHENTICATE), `major.minor.build`.
    pub client_version: Option<String>,
    /// NEGOTIATE flags.
    pub offered_flags: Option<String>,
    /// Their names.
    pub offered_flags_names: FlagNames,
    /// CHALLENGE flags (the server's choice).
    pub challenge_flags: Option<String>,
    /// Their names.
    pub challenge_flags_names: FlagNames,
    /// AUTHENTICATE flags (the final flags).
    pub final_flags: Option<String>,
    /// Their names.
    pub final_flags_names: FlagNames,
    /// `ANONYMOUS`, `LM`, `NTLMv1`, `NTLM2_SESSION`, `NTLMv2`, `UNKNOWN`.
    pub response_kind: Option<&'static str>,
    /// Whether the AUTHENTICATE carries a MIC.
    pub mic: Option<bool>,
    /// MsvAvChannelBindings in the NTLMv2 response: `absent`, `zero` or
    /// `present` (`absent` for other responses); unset without an AUTHENTICATE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_bindings: Option<&'static str>,
    /// MsvAvTargetName in the NTLMv2 response (empty when absent or empty;
    /// hex when it is not UTF-16); unset without an AUTHENTICATE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,
    /// What the carrier showed after the AUTHENTICATE.
    pub observed_result: Option<ResultJson>,
    /// The closest built-in client profile, or `none`.
    pub client_profile: String,
    /// NEGOTIATE bits that differ from that profile's offer.
    pub client_profile_distance: Option<u32>,
    /// Whether the client-side policy applies (its profile reads the registry values).
    pub client_policy_applies: bool,
    /// `breaks` or `ok`.
    pub verdict: &'static str,
    /// The messages the verdict rests on.
    pub judged_on: Vec<&'static str>,
    /// The outcome under the policy (as `handshake --json`).
    pub outcome: OutcomeJson,
    /// Whether the verdict is the same under every documented reading of
    /// the semantics switches (as `handshake --json`).
    pub certainty: CertaintyJson,
    /// What is assumed of the closest client profile as a client, when the
    /// verdict rests on that profile: the policy sets NtlmMinClientSec, the
    /// client LmCompatibilityLevel or client Restrict NTLM settings, and the
    /// profile decides whether the client reads them and what it would send
    /// ([`crate::profiles::assumed_facts`]); empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub assumed: Vec<AssumedFacts>,
    /// The failure, when it breaks (not serialized: `outcome` has it).
    #[serde(skip)]
    pub failure: Option<Failure>,
    /// The response kind as a value.
    #[serde(skip)]
    pub kind: Option<ResponseKind>,
}

impl ExchangeRecord {
    /// Whether the exchange would break.
    pub const fn breaks(&self) -> bool {
        self.failure.is_some()
    }

    /// The client's IP address (without port).
    pub fn client_host(&self) -> &str {
        host(&self.client)
    }

    /// The verdict as the human report shows it: `ok` or `BREAKS: ...`,
    /// then `(partial: no AUTHENTICATE captured)` when messages are missing,
    /// then, when some documented reading of the semantics switches reaches
    /// the other verdict, its certainty: `[breaks only under
    /// rule-128=strict; works under every other reading]`.
    pub fn verdict_text(&self) -> String {
        let mut s = self.failure.as_ref().map_or_else(
            || "ok".to_owned(),
            |f| format!("BREAKS: {}", failure_text(f)),
        );
        if self.partial {
            let _ = write!(
                s,
                " (partial: no {} captured)",
                self.missing_messages.join(" or ")
            );
        }
        if !self.certainty.holds_under_every_reading {
            let _ = write!(s, " [{}]", self.certainty.summary);
        }
        s
    }
}

fn host(endpoint: &str) -> &str {
    match endpoint.rfind(':') {
        Some(i) => endpoint.get(..i).map_or(endpoint, |h| {
            h.trim_start_matches('[').trim_end_matches(']')
        }),
        None => endpoint,
    }
}

/// A problem as reported (`{"problem": {...}}`).
#[derive(Debug, Clone, Serialize)]
pub struct ProblemRecord {
    /// The capture file.
    pub file: String,
    /// Packet number (absent for the file as a whole).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packet: Option<u64>,
    /// `capture`, `link`, `ip`, `tcp`, `http`, `smb`, `dcerpc`, `ldap`, `spnego`, `ntlmssp`.
    pub layer: &'static str,
    /// What was wrong.
    pub message: String,
}

impl ProblemRecord {
    /// From a capture problem.
    pub fn new(file: &str, p: &Problem) -> Self {
        Self {
            file: file.to_owned(),
            packet: (p.place.packet > 0).then_some(p.place.packet),
            layer: p.layer,
            message: p.message.clone(),
        }
    }
}

fn text(raw: Option<&[u8]>, flags: NegotiateFlags) -> Result<Option<String>, String> {
    let Some(b) = raw.filter(|b| !b.is_empty()) else {
        return Ok(None);
    };
    let cs = flags.charset().unwrap_or(ntlm_wire::Charset::Oem);
    ntlm_wire::text::decode(b, cs)
        .map(Some)
        .map_err(|_| hex::encode(b))
}

fn version_text(v: Option<Version>) -> Option<String> {
    v.filter(|v| !v.is_zero())
        .map(|v| format!("{}.{}.{}", v.major, v.minor, v.build))
}

/// What was decoded from an exchange's messages.
#[derive(Debug, Default)]
struct Decoded {
    offered: Option<NegotiateFlags>,
    challenge: Option<NegotiateFlags>,
    final_flags: Option<NegotiateFlags>,
    neg_version: Option<Version>,
    auth_version: Option<Version>,
    /// The Version the client claims: a message's Version field when that
    /// message sets NEGOTIATE_VERSION (else the slot is not a claim).
    claimed_version: Option<Version>,
    kind: Option<ResponseKind>,
    mic: Option<bool>,
    user: Option<String>,
    domain: Option<String>,
    workstation: Option<String>,
    raw_names: BTreeMap<&'static str, String>,
    /// The CHALLENGE's MsvAvNbComputerName and whether it names a domain
    /// target (TARGET_TYPE_DOMAIN), for Restrict NTLM's account kind.
    server_computer: Option<String>,
    server_in_domain: bool,
    /// MsvAvChannelBindings of the NTLMv2 response (`Absent` without one).
    bindings: Option<ntlm_policy::BindingsSeen>,
    /// MsvAvTargetName of the NTLMv2 response, and the name.
    target_name: Option<(ntlm_policy::TargetNameSeen, String)>,
}

/// What an NTLMv2 response carries as MsvAvChannelBindings and
/// MsvAvTargetName. A non-zero hash cannot be checked against a channel
/// the capture does not show: it is taken to be the channel's. A non-empty
/// name is taken to be the server's (the client named the server it
/// connected to); both are assumptions `docs/AUDIT.md` states.
fn av_pairs_seen(
    a: &AuthenticateMessage<'_>,
) -> (
    Option<ntlm_policy::BindingsSeen>,
    Option<(ntlm_policy::TargetNameSeen, String)>,
) {
    use ntlm_policy::{BindingsSeen as B, TargetNameSeen as T};
    use ntlm_wire::{AvId, MsvAvFlags, NtlmV2Response};
    let Some(v2) = a
        .nt_response
        .as_deref()
        .filter(|_| a.response_kind() == ResponseKind::NtlmV2)
        .and_then(|nt| NtlmV2Response::parse(nt).ok())
    else {
        return (Some(B::Absent), Some((T::Absent, String::new())));
    };
    let avs = &v2.client_challenge.av_pairs;
    let bindings = match avs.get(AvId::CHANNEL_BINDINGS).map(|p| p.value) {
        None => B::Absent,
        Some(v) if v.iter().all(|b| *b == 0) => B::Zero,
        Some(_) => B::Bound,
    };
    let name = avs
        .get(AvId::TARGET_NAME)
        .map(|p| ntlm_wire::text::decode_utf16le(p.value).unwrap_or_else(|_| hex::encode(p.value)));
    let seen = match &name {
        _ if avs.flags_union().contains(MsvAvFlags::UNTRUSTED_SPN) => T::Untrusted,
        None => T::Absent,
        Some(n) if n.is_empty() => T::Empty,
        Some(_) => T::Named,
    };
    (Some(bindings), Some((seen, name.unwrap_or_default())))
}

fn decode(x: &Exchange, file: &str, problems: &mut Vec<ProblemRecord>) -> Decoded {
    let mut d = Decoded::default();
    let mut problem = |m: &NtlmMessage, what: String| {
        problems.push(ProblemRecord {
            file: file.to_owned(),
            packet: Some(m.place.packet),
            layer: "ntlmssp",
            message: what,
        });
    };
    if let Some(m) = &x.negotiate {
        match NegotiateMessage::parse(&m.bytes) {
            Ok(n) => {
                d.offered = Some(n.flags);
                d.neg_version = n.version;
                d.claimed_version = n.version_if_negotiated();
                if let Ok(Some(w)) = text(n.workstation.as_deref(), NegotiateFlags::NEGOTIATE_OEM) {
                    d.workstation = Some(w);
                }
            }
            Err(e) => {
                problem(m, format!("NEGOTIATE: {e}"));
                d.offered = layout::raw_flags(m.kind, &m.bytes);
            }
        }
    }
    if let Some(m) = &x.challenge {
        match ChallengeMessage::parse(&m.bytes) {
            Ok(c) => {
                d.challenge = Some(c.flags);
                d.server_in_domain = c.flags.contains(NegotiateFlags::TARGET_TYPE_DOMAIN);
                d.server_computer = c
                    .target_info
                    .as_ref()
                    .and_then(|t| t.get(ntlm_wire::AvId::NB_COMPUTER_NAME))
                    .and_then(|p| ntlm_wire::text::decode_utf16le(p.value).ok());
            }
            Err(e) => match ChallengeMessage::parse_lenient(&m.bytes) {
                Ok(c) => {
                    problem(m, format!("CHALLENGE decoded leniently: {e}"));
                    d.challenge = Some(c.flags);
                }
                Err(_) => {
                    problem(m, format!("CHALLENGE: {e}"));
                    d.challenge = layout::raw_flags(m.kind, &m.bytes);
                }
            },
        }
    }
    if let Some(m) = &x.authenticate {
        match AuthenticateMessage::parse(&m.bytes) {
            Ok(a) => {
                d.final_flags = Some(a.flags);
                d.auth_version = a.version;
                d.claimed_version = d.claimed_version.or(a.version_if_negotiated());
                d.kind = Some(a.response_kind());
                d.mic = Some(a.mic.is_some_and(|mic| mic != [0; 16]));
                (d.bindings, d.target_name) = av_pairs_seen(&a);
                for (field, raw, slot) in [
                    ("user", a.user.as_deref(), &mut d.user),
                    ("domain", a.domain.as_deref(), &mut d.domain),
                    ("workstation", a.workstation.as_deref(), &mut d.workstation),
                ] {
                    match text(raw, a.flags) {
                        Ok(Some(s)) => *slot = Some(s),
                        Ok(None) => {}
                        Err(h) => {
                            d.raw_names.insert(field, h);
                        }
                    }
                }
            }
            Err(e) => {
                problem(m, format!("AUTHENTICATE: {e}"));
                d.final_flags = layout::raw_flags(m.kind, &m.bytes);
            }
        }
    }
    d
}

/// What the verdict on a captured exchange reads besides the policy: the
/// captured flags and response, the LmCompatibilityLevel the policy gives
/// the client (when it reaches it), and the client-side minimum that reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Case {
    offered: Option<NegotiateFlags>,
    challenge: Option<NegotiateFlags>,
    final_flags: Option<NegotiateFlags>,
    kind: Option<ResponseKind>,
    /// The policy's client LmCompatibilityLevel, when it reaches the client.
    client_level: Option<LmCompatibilityLevel>,
    client_min: MinSessionSecurity,
    /// Restrict NTLM blocks the exchange: it breaks under every reading.
    blocked: bool,
    /// The channel bindings and target name the AUTHENTICATE carried.
    bound: Option<(ntlm_policy::BindingsSeen, ntlm_policy::TargetNameSeen)>,
    /// The carrier, as the binding settings read it.
    carrier: ntlm_policy::Carrier,
}

/// The flags and response of a [`Case`] as the client would send them
/// under the policy's LmCompatibilityLevel ([`Case::as_sent`]).
#[derive(Debug, Clone, Copy)]
struct AsSent {
    offered: Option<NegotiateFlags>,
    challenge: Option<NegotiateFlags>,
    final_flags: Option<NegotiateFlags>,
    kind: Option<ResponseKind>,
    /// The client sends NTLMv2 (observed, or under its level).
    ntlmv2: bool,
}

impl Case {
    /// The exchange as the client would conduct it at the policy's level,
    /// level 0 read as `level0` says: without ESS where that level does not
    /// request it, with the response that level gives the negotiated flags.
    fn as_sent(&self, level0: Level0Ess) -> AsSent {
        let ess = NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY;
        let no_ess = self.client_level.is_some_and(|l| !l.requests_ess(level0));
        let strip = |f: Option<NegotiateFlags>| {
            if no_ess {
                f.map(|f| f.difference(ess))
            } else {
                f
            }
        };
        let final_flags = strip(self.final_flags);
        let kind = match (self.client_level, self.kind, final_flags) {
            (Some(level), Some(k), Some(f)) if k != ResponseKind::Anonymous => {
                Some(level.client_response(f, level0))
            }
            (_, k, _) => k,
        };
        AsSent {
            offered: strip(self.offered),
            challenge: strip(self.challenge),
            final_flags,
            kind,
            ntlmv2: kind.map_or_else(
                || {
                    self.client_level
                        .is_none_or(LmCompatibilityLevel::sends_ntlmv2)
                },
                |k| k == ResponseKind::NtlmV2,
            ),
        }
    }
}

/// The verdict on `case` under `p` read with `sem`; the messages it rests on
/// are appended to `judged_on`.
fn decide(
    case: &Case,
    p: &Policy,
    sem: &Semantics,
    judged_on: &mut Vec<&'static str>,
) -> Result<(), Failure> {
    let sent = case.as_sent(sem.level0_ess);
    let client = ClientConfig {
        lm_level: if sent.ntlmv2 {
            LmCompatibilityLevel::L3
        } else {
            LmCompatibilityLevel::L1
        },
        os: OsGeneration::Unspecified,
        ..ClientConfig::default()
    };
    let server = ServerConfig {
        lm_level: p.server_lm_level.unwrap_or(LmCompatibilityLevel::L0),
        os: OsGeneration::Unspecified,
        ..ServerConfig::default()
    };
    // The CHALLENGE flags, or their bound: the NEGOTIATE's.
    let server_choice = sent.challenge.or(sent.offered);
    if let Some(f) = server_choice {
        judged_on.push(if sent.challenge.is_some() {
            "challenge"
        } else {
            "negotiate"
        });
        check_server_negotiate(f, &server, p.server_min, sem)?;
        check_client_challenge(f, &client, case.client_min, sem)?;
    }
    if let Some(a) = sent.final_flags {
        judged_on.push("authenticate");
        let k = sent.kind.unwrap_or(ResponseKind::Unknown);
        let c = server_choice.map_or(a, |c| c.union(a));
        check_server_authenticate(c, a, k, &server, p.server_min, sem)?;
        if p.server_lm_level.is_some() {
            if let Some(k) = sent.kind {
                check_response_accepted(k, &server).map_err(|f| f.with_negotiated(a))?;
            }
        }
        // Channel bindings, target name, then LDAP signing (MS-NLMP
        // 3.2.5.1.2 order; `docs/POLICY.md`).
        if let Some((b, t)) = case.bound {
            let checks = p.binding.checks(case.carrier);
            let (bound, signing) = ntlm_policy::binding::judge(&checks, b, t, a);
            if let Some(f) = bound.or(signing) {
                return Err(f.with_negotiated(a));
            }
        }
    }
    Ok(())
}

/// Most distinct cases whose certainty an [`Auditor`] keeps; beyond it each
/// further case is evaluated without being kept.
const CERTAINTY_CACHE: usize = 4096;

fn bits(f: NegotiateFlags) -> u32 {
    f.bits().count_ones()
}

impl Auditor {
    /// What the policy's Restrict NTLM settings block in this exchange
    /// (`crate::restrict::apply_to_verdict`'s order): the client's outgoing
    /// settings when it reads Windows policy (matched against the CHALLENGE's
    /// NetBIOS computer name), then, once an AUTHENTICATE was seen, the
    /// server's and its DC's, for a local account when the AUTHENTICATE's
    /// domain is the server's computer name or the server is not in a domain,
    /// else a domain account.
    fn restriction(&self, d: &Decoded, client_reads: bool) -> Option<crate::restrict::Block> {
        use ntlm_policy::restrict::{Account, Verdict as V};
        let path = &self.policy.restrict;
        if path.is_default() {
            return None;
        }
        let server = d.server_computer.as_deref().unwrap_or("");
        if client_reads {
            let target = path.target.as_deref().unwrap_or(server);
            if let V::Blocked(f, _) = path.client.client_outgoing(target, path.transport) {
                return Some(crate::restrict::Block::Outgoing(f));
            }
        }
        d.final_flags?;
        let local = !d.server_in_domain
            || d.domain
                .as_deref()
                .is_some_and(|dom| !dom.is_empty() && dom.eq_ignore_ascii_case(server));
        let account = if local {
            Account::Local
        } else {
            Account::Domain
        };
        if let V::Blocked(f, _) = path.server.server_incoming(account) {
            return Some(crate::restrict::Block::Incoming(f));
        }
        if let V::Blocked(f, _) = path.dc.dc_in_domain(account, server, d.server_in_domain) {
            return Some(crate::restrict::Block::Incoming(f));
        }
        None
    }

    /// An auditor for `policy`, matching clients against `catalog`.
    pub fn new(policy: Policy, catalog: &Catalog) -> Self {
        let clients = catalog
            .profiles
            .iter()
            .filter(|p| p.role.client())
            .filter_map(|p| {
                let plain = p.offered_flags()?;
                let settings = p.client_settings(Credentials::password("", "", ""))?;
                let mut secure = settings.config;
                secure.integrity = true;
                secure.confidentiality = true;
                let with_security =
                    ntlm_policy::negotiate_flags(&secure, p.min_client_sec, &Semantics::default());
                Some(ClientShape {
                    name: p.name.clone(),
                    offered: [plain, with_security],
                    version: (!settings.version.is_zero()).then_some(settings.version),
                    os: settings.config.os,
                    lm_level: p.client_lm_level,
                    sends_mic: p.sends_mic(),
                    honours: p.honours,
                    assumed: assumed_facts(Some(p), None),
                })
            })
            .collect();
        Self {
            policy,
            clients,
            certainties: Certainties::default(),
        }
    }

    /// Whether the verdict on `case` is the same under every documented
    /// reading of the semantics switches ([`ntlm_policy::certainty`]).
    /// Captures hold few distinct cases, so each is evaluated once.
    fn certainty(&self, case: &Case) -> Certainty {
        if let Some(c) = self.certainties.map().get(case) {
            return c.clone();
        }
        let p = &self.policy;
        let c = ntlm_policy::certainty(&p.semantics, |sem| {
            !case.blocked && decide(case, p, sem, &mut Vec::new()).is_ok()
        });
        let mut cache = self.certainties.map();
        if cache.len() < CERTAINTY_CACHE {
            cache.insert(*case, c.clone());
        }
        c
    }

    /// The policy.
    pub const fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The closest client profile: (index, differing NEGOTIATE bits).
    fn profile(&self, d: &Decoded) -> Option<(usize, u32)> {
        let offered = d.offered?;
        let version = d.claimed_version.filter(|v| !v.is_zero());
        let mut best: Option<(u32, usize, u32)> = None;
        for (i, c) in self.clients.iter().enumerate() {
            let dist = c
                .offered
                .iter()
                .map(|&o| bits(o ^ offered))
                .min()
                .unwrap_or(u32::MAX);
            if dist > MAX_PROFILE_BITS || version.is_some_and(|v| !c.may_have_sent(v)) {
                continue;
            }
            let mut score = dist.saturating_mul(4);
            match (version, c.version) {
                (Some(v), Some(p)) if v.build != p.build => score += 1,
                (Some(_), None) | (None, Some(_)) => score += 2,
                _ => {}
            }
            if let (Some(kind), Some(f)) = (d.kind, d.final_flags) {
                if kind != ResponseKind::Anonymous
                    && c.lm_level
                        .client_response(f, self.policy.semantics.level0_ess)
                        != kind
                {
                    score += 3;
                }
            }
            if d.mic == Some(true) && !c.sends_mic {
                score += 2;
            }
            if best.is_none_or(|(s, _, _)| score < s) {
                best = Some((score, i, dist));
            }
        }
        best.map(|(_, i, dist)| (i, dist))
    }

    /// Judges one exchange. Decoding problems are appended to `problems`.
    pub fn judge(
        &self,
        file: &str,
        index: usize,
        x: &Exchange,
        problems: &mut Vec<ProblemRecord>,
    ) -> ExchangeRecord {
        let d = decode(x, file, problems);
        let profile = self.profile(&d);
        let shape = profile.and_then(|(i, _)| self.clients.get(i));
        let honours = shape.map_or(Honours::ALL, |c| c.honours);
        let p = &self.policy;
        let client_min = if honours.min_client_sec {
            p.client_min
        } else {
            MinSessionSecurity::NONE
        };
        let client_level = p.client_lm_level.filter(|_| honours.lm_compatibility_level);
        let case = Case {
            offered: d.offered,
            challenge: d.challenge,
            final_flags: d.final_flags,
            kind: d.kind,
            client_level,
            client_min,
            blocked: false,
            bound: d.bindings.zip(d.target_name.as_ref().map(|(t, _)| *t)),
            carrier: binding_carrier(x.carrier(), p.tls),
        };
        let mut judged_on = Vec::new();
        let block = self.restriction(&d, shape.is_none_or(|c| c.honours != Honours::NONE));
        let case = Case {
            blocked: block.is_some(),
            ..case
        };
        let result =
            crate::restrict::apply_block(decide(&case, p, &p.semantics, &mut judged_on), block);
        let certainty = self.certainty(&case);
        let AsSent {
            offered,
            challenge,
            final_flags,
            kind,
            ..
        } = case.as_sent(p.semantics.level0_ess);
        let negotiated = final_flags
            .or(challenge)
            .or(offered)
            .unwrap_or(NegotiateFlags::empty());
        let outcome = match &result {
            Ok(()) => OutcomeJson::Success(crate::outcome::SuccessJson {
                result: "success",
                negotiated_flags: hex32(negotiated.bits()),
                negotiated_flags_names: names(negotiated),
                response_kind: kind.map_or("UNKNOWN", ResponseKind::as_str),
                key_strength_bits: ntlm_policy::key_strength_bits(negotiated),
                signing: negotiated.contains(NegotiateFlags::NEGOTIATE_SIGN),
                sealing: negotiated.contains(NegotiateFlags::NEGOTIATE_SEAL),
                mic: d.mic.unwrap_or(false),
                exported_session_key: None,
                anonymous: kind == Some(ResponseKind::Anonymous),
                weak_key_under_128: ntlm_policy::weak_key_under_128(negotiated),
            }),
            Err(f) => OutcomeJson::failure_under(f, &p.semantics),
        };
        let first = x.first();
        let last = x.last();
        let flags = |f: Option<NegotiateFlags>| {
            (
                f.map(|f| hex32(f.bits())),
                FlagNames(f.unwrap_or(NegotiateFlags::empty())),
            )
        };
        let (offered_flags, offered_flags_names) = flags(d.offered);
        let (challenge_flags, challenge_flags_names) = flags(d.challenge);
        let (final_hex, final_flags_names) = flags(d.final_flags);
        let wrapping = x.messages().next().map_or("raw", |m| m.wrapping.name());
        let missing_messages: Vec<&'static str> = [
            ("NEGOTIATE", x.negotiate.is_some()),
            ("CHALLENGE", x.challenge.is_some()),
            ("AUTHENTICATE", x.authenticate.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, seen)| (!seen).then_some(name))
        .collect();
        ExchangeRecord {
            file: file.to_owned(),
            index,
            carrier: x.carrier().name(),
            wrapping,
            client: x.client.to_string(),
            server: x.server.to_string(),
            roles_by: x.roles_by.name(),
            first_packet: first.packet,
            last_packet: last.packet,
            first_time: first.time.rfc3339(),
            last_time: last.time.rfc3339(),
            connection_first_time: x.connection_first.time.rfc3339(),
            connection_last_time: x.connection_last.time.rfc3339(),
            exchange_on_connection: x.index_on_connection,
            messages: x.messages().map(|m| m.kind.name()).collect(),
            message_packets: x.messages().map(|m| m.place.packet).collect(),
            complete: missing_messages.is_empty(),
            partial: !missing_messages.is_empty(),
            missing_messages,
            user: d.user,
            domain: d.domain,
            workstation: d.workstation,
            raw_names: d.raw_names,
            client_version: version_text(d.neg_version.or(d.auth_version)),
            offered_flags,
            offered_flags_names,
            challenge_flags,
            challenge_flags_names,
            final_flags: final_hex,
            final_flags_names,
            response_kind: d.kind.map(ResponseKind::as_str),
            mic: d.mic,
            channel_bindings: d.bindings.map(ntlm_policy::BindingsSeen::name),
            target_name: d.target_name.clone().map(|(_, n)| n),
            observed_result: x.result.map(|r| result_json(&r)),
            client_profile: shape.map_or_else(|| "none".to_owned(), |c| c.name.clone()),
            client_profile_distance: profile.map(|(_, dist)| dist),
            client_policy_applies: honours.min_client_sec,
            verdict: if result.is_ok() { "ok" } else { "breaks" },
            judged_on,
            outcome,
            certainty: CertaintyJson::new(&certainty, result.is_ok()),
            assumed: shape
                .filter(|_| p.reads_client_profile())
                .map(|c| c.assumed.clone())
                .unwrap_or_default(),
            failure: result.err(),
            kind: d.kind,
        }
    }
}

fn result_json(r: &ntlm_capture::ObservedResult) -> ResultJson {
    use ntlm_capture::CarrierResult as C;
    let (carrier, code) = match r.result {
        C::Http { status } => ("HTTP", u32::from(status)),
        C::Smb { status } => ("SMB", status),
        C::Ldap { result_code } => ("LDAP", result_code),
        C::RpcResponse => ("DCE/RPC", 0),
        C::RpcFault { status } => ("DCE/RPC", status),
        C::RpcBindNak { reason } => ("DCE/RPC", u32::from(reason)),
    };
    ResultJson {
        carrier,
        code,
        text: r.result.to_string(),
        success: r.result.success(),
        packet: r.place.packet,
    }
}

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

/// Most exchange rows in the human output (breaking ones first).
pub const HUMAN_ROWS: usize = 200;

/// Most characters of a name (user, domain, file) in one cell of the human
/// table; the rest is cut with a note of its length ([`sink::terminal_bounded`]).
pub const HUMAN_NAME_CHARS: usize = 64;

/// Most characters of a file name or problem message on one human line.
const HUMAN_TEXT_CHARS: usize = 512;

fn failure_text(f: &Failure) -> String {
    let mut s = format!("{} refuses on receipt of {}", f.side, f.stage.message());
    if !f.missing.is_empty() {
        let _ = write!(s, ": missing {}", names(f.missing).join(" | "));
    } else {
        let _ = write!(s, ": {}", f.reason());
    }
    let _ = write!(s, " [{} {}]", f.rule.id, f.rule.source);
    s
}

fn who(r: &ExchangeRecord) -> String {
    match (&r.domain, &r.user) {
        (Some(d), Some(u)) => format!("{d}\\{u}"),
        (None, Some(u)) => u.clone(),
        _ => "-".to_owned(),
    }
}

/// Each assumed fact the verdicts of `records` rest on, once, with the
/// number of those exchanges whose verdict rests on it.
fn assumed_of(records: &[ExchangeRecord]) -> Vec<(AssumedFacts, usize)> {
    let mut out: Vec<(AssumedFacts, usize)> = Vec::new();
    for a in records.iter().flat_map(|r| &r.assumed) {
        match out.iter_mut().find(|(b, _)| b == a) {
            Some((_, n)) => *n += 1,
            None => out.push((a.clone(), 1)),
        }
    }
    out
}

/// The human report. `records` may be a subset (the table shows at most
/// [`HUMAN_ROWS`], breaking ones first); the counts come from `summary`.
pub fn render_human(
    summary: &Summary,
    records: &[ExchangeRecord],
    problems: &[ProblemRecord],
) -> String {
    let mut s = String::new();
    let packets: u64 = summary.files.iter().map(|f| f.packets).sum();
    let _ = writeln!(
        s,
        "Read {} file(s), {packets} packets: {} NTLM exchange(s) ({} complete, {} partial), {} problem(s)",
        summary.files.len(),
        summary.exchanges,
        summary.complete,
        summary.partial,
        summary.problems
    );
    let p = &summary.policy;
    let _ = writeln!(
        s,
        "Policy: NtlmMinClientSec {}, NtlmMinServerSec {}, client LmCompatibilityLevel {}, server LmCompatibilityLevel {}, semantics {}",
        p.client_min,
        p.server_min,
        p.client_lm_level
            .map_or_else(|| "as observed".to_owned(), |l| l.to_string()),
        p.server_lm_level
            .map_or_else(|| "not checked".to_owned(), |l| l.to_string()),
        p.semantics
    );
    for l in &p.restrict {
        let _ = writeln!(s, "  {l}");
    }
    if let Some(b) = &p.binding {
        let _ = writeln!(
            s,
            "Server settings: {b}; HTTP and LDAP judged as {}",
            if p.tls {
                "HTTPS and LDAPS (--tls)"
            } else {
                "without TLS (channel bindings not checked)"
            }
        );
    }
    let _ = writeln!(s);
    if !records.is_empty() {
        let _ = writeln!(s, "Exchanges:");
        let _ = writeln!(
            s,
            "  {:>4} {:<11} {:<22} {:<22} {:<24} {:<13} {:<10} {:<15} {:<18} verdict",
            "#", "carrier", "client", "server", "user", "response", "offered", "profile", "result"
        );
        let mut order: Vec<&ExchangeRecord> = records.iter().collect();
        order.sort_by_key(|r| (!r.breaks(), r.index));
        for r in order.iter().take(HUMAN_ROWS) {
            let _ = writeln!(
                s,
                "  {:>4} {:<11} {:<22} {:<22} {:<24} {:<13} {:<10} {:<15} {:<18} {}",
                r.index,
                r.carrier,
                sink::terminal_bounded(&r.client, HUMAN_NAME_CHARS),
                sink::terminal_bounded(&r.server, HUMAN_NAME_CHARS),
                sink::terminal_bounded(&who(r), HUMAN_NAME_CHARS),
                r.response_kind.unwrap_or("-"),
                r.offered_flags.as_deref().unwrap_or("-"),
                sink::terminal_bounded(&r.client_profile, HUMAN_NAME_CHARS),
                sink::terminal(r.observed_result.as_ref().map_or("-", |o| o.text.as_str())),
                sink::terminal(&r.verdict_text())
            );
        }
        let shown = order.len().min(HUMAN_ROWS);
        if summary.exchanges > shown {
            let _ = writeln!(
                s,
                "  ... {} more (all of them with --json or --csv)",
                summary.exchanges - shown
            );
        }
        let _ = writeln!(s);
    }
    // An input with no exchange (event logs only) gets no empty headings.
    if summary.exchanges > 0 {
        let _ = writeln!(s, "By verdict:");
        for (v, n) in &summary.by_verdict {
            let _ = writeln!(s, "  {v:<12} {n}");
        }
        if summary.breaking > 0 {
            let _ = writeln!(
                s,
                "  of the {} breaking, {} break under every documented reading of the semantics switches",
                summary.breaking, summary.breaking_under_every_reading
            );
        }
        for (title, rows) in [
            (
                "By client profile:",
                summary
                    .by_client_profile
                    .iter()
                    .map(|(k, c)| (k.clone(), *c))
                    .collect::<Vec<_>>(),
            ),
            (
                "By response kind:",
                summary
                    .by_response_kind
                    .iter()
                    .map(|(k, c)| ((*k).to_owned(), *c))
                    .collect(),
            ),
            (
                "By carrier:",
                summary
                    .by_carrier
                    .iter()
                    .map(|(k, c)| ((*k).to_owned(), *c))
                    .collect(),
            ),
        ] {
            let _ = writeln!(s, "{title}");
            for (k, c) in rows {
                let _ = writeln!(
                    s,
                    "  {:<20} {:>6} exchange(s), {} would break",
                    sink::terminal_bounded(&k, HUMAN_NAME_CHARS),
                    c.exchanges,
                    c.breaking
                );
            }
        }
    }
    let _ = writeln!(s);
    if summary.breaking_clients.is_empty() {
        let _ = writeln!(s, "No client would break under this policy.");
    } else {
        let _ = writeln!(s, "Clients that would break:");
        for c in &summary.breaking_clients {
            let _ = writeln!(
                s,
                "  {} ({}) {}: {} exchange(s); the {} refuses on receipt of {}, missing {} [{} {}]",
                sink::terminal_bounded(&c.host, HUMAN_NAME_CHARS),
                sink::terminal_bounded(&c.profile, HUMAN_NAME_CHARS),
                if c.users.is_empty() {
                    "-".to_owned()
                } else {
                    c.users
                        .iter()
                        .map(|u| sink::terminal_bounded(u, HUMAN_NAME_CHARS))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                c.exchanges,
                c.side,
                c.stage.to_uppercase(),
                if c.missing_names.is_empty() {
                    "nothing (response kind refused)".to_owned()
                } else {
                    c.missing_names.join(" | ")
                },
                c.rule_id,
                c.rule
            );
        }
    }
    let assumed = assumed_of(records);
    if !assumed.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "Assumed profile facts the verdicts of these client profiles rest on (no public source \
             confirms them):"
        );
        for (a, n) in &assumed {
            let _ = writeln!(
                s,
                "  {} as {} ({n} exchange(s)): {}",
                sink::terminal_bounded(&a.profile, HUMAN_NAME_CHARS),
                a.role,
                sink::terminal(&a.facts)
            );
        }
    }
    if !problems.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "Problems:");
        for p in problems {
            let file = sink::terminal_bounded(&p.file, HUMAN_TEXT_CHARS);
            let message = sink::terminal_bounded(&p.message, HUMAN_TEXT_CHARS);
            let _ = match p.packet {
                Some(n) => writeln!(s, "  {file}: packet {n}: {}: {message}", p.layer),
                None => writeln!(s, "  {file}: {}: {message}", p.layer),
            };
        }
    }
    s
}

/// The CSV columns, in order.
const CSV_COLUMNS: [&str; 27] = [
    "index",
    "file",
    "carrier",
    "client",
    "server",
    "first_packet",
    "last_packet",
    "first_time",
    "messages",
    "user",
    "domain",
    "workstation",
    "client_version",
    "offered_flags",
    "challenge_flags",
    "final_flags",
    "response_kind",
    "mic",
    "observed_result",
    "client_profile",
    "verdict",
    "side",
    "stage",
    "missing_flags",
    "missing_names",
    "rule",
    "certainty",
];

/// The exchanges as CSV (RFC 4180), one row per exchange, every cell
/// through [`sink::csv_cell`]: control characters escaped (so one record is
/// one line) and formula cells (`=`, `+`, `-`, `@`) neutralised with a
/// leading `'`, per OWASP's CSV-injection guidance. Names are therefore not
/// byte-exact here; `--json` carries the exact decoded values.
pub fn csv(records: &[ExchangeRecord]) -> String {
    let mut s = sink::csv_row(CSV_COLUMNS);
    for r in records {
        let f = r.failure.as_ref();
        let row = [
            r.index.to_string(),
            r.file.clone(),
            r.carrier.to_owned(),
            r.client.clone(),
            r.server.clone(),
            r.first_packet.to_string(),
            r.last_packet.to_string(),
            r.first_time.clone(),
            r.messages.join(" "),
            r.user.clone().unwrap_or_default(),
            r.domain.clone().unwrap_or_default(),
            r.workstation.clone().unwrap_or_default(),
            r.client_version.clone().unwrap_or_default(),
            r.offered_flags.clone().unwrap_or_default(),
            r.challenge_flags.clone().unwrap_or_default(),
            r.final_flags.clone().unwrap_or_default(),
            r.response_kind.unwrap_or_default().to_owned(),
            r.mic.map(|m| m.to_string()).unwrap_or_default(),
            r.observed_result
                .as_ref()
                .map(|o| o.text.clone())
                .unwrap_or_default(),
            r.client_profile.clone(),
            r.verdict.to_owned(),
            f.map(|f| f.side.name().to_owned()).unwrap_or_default(),
            f.map(|f| f.stage.name().to_owned()).unwrap_or_default(),
            f.map(|f| hex32(f.missing.bits())).unwrap_or_default(),
            f.map(|f| names(f.missing).join("|")).unwrap_or_default(),
            f.map(|f| format!("{} ({})", f.rule.id, f.rule.source))
                .unwrap_or_default(),
            r.certainty.summary.clone(),
        ];
        s.push_str(&sink::csv_row(&row));
    }
    s
}

const HTML_CSS: &str = r"
:root{--ok:#e3f4e8;--ok-fg:#17612f;--nb:#d6312b;--nb-fg:#fff;--line:#d7dbe0;--muted:#5f6b7a;--bg:#f6f7f9}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Ubuntu,sans-serif;color:#1b2430;background:var(--bg)}
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
.stat.ok{background:var(--ok);color:var(--ok-fg)}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:500}
tr.breaks td.v{color:#fff;background:var(--nb);font-weight:600}
tr.ok td.v{color:var(--ok-fg);background:var(--ok);font-weight:600}
details.client{border:1px solid var(--line);border-radius:8px;padding:8px 12px;margin:8px 0}
details.client summary{cursor:pointer;font-weight:600}
.muted{color:var(--muted)}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
";

fn html_exchange_rows(h: &mut String, rows: &[&ExchangeRecord]) {
    h.push_str(
        "<table><thead><tr><th>#</th><th>file / packets</th><th>carrier</th><th>client</th>\
         <th>server</th><th>user</th><th>response</th><th>offered</th><th>final</th>\
         <th>result</th><th>verdict</th></tr></thead><tbody>",
    );
    for r in rows {
        let verdict = r.failure.as_ref().map_or_else(
            || "ok".to_owned(),
            |f| {
                format!(
                    "breaks: {}<br><span class=\"muted\">{}</span>",
                    escape(&failure_text(f)),
                    escape(&f.reason().to_string())
                )
            },
        );
        let mut verdict = if r.certainty.holds_under_every_reading {
            verdict
        } else {
            format!(
                "{verdict}<br><span class=\"muted\">{}</span>",
                escape(&r.certainty.summary)
            )
        };
        for a in &r.assumed {
            let _ = write!(
                verdict,
                "<br><span class=\"muted\" title=\"{}\">assumed: {} as {}</span>",
                escape(&a.facts),
                escape(&a.profile),
                a.role
            );
        }
        let _ = write!(
            h,
            "<tr class=\"{}\"><td>{}</td><td>{} <span class=\"muted\">{}-{}</span></td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code title=\"{}\">{}</code></td>\
             <td><code title=\"{}\">{}</code></td><td>{}</td><td class=\"v\">{}</td></tr>",
            if r.breaks() { "breaks" } else { "ok" },
            r.index,
            escape(&r.file),
            r.first_packet,
            r.last_packet,
            escape(r.carrier),
            escape(&r.client),
            escape(&r.server),
            escape(&who(r)),
            r.response_kind.unwrap_or("-"),
            escape(&r.offered_flags_names.names().join(" | ")),
            escape(r.offered_flags.as_deref().unwrap_or("-")),
            escape(&r.final_flags_names.names().join(" | ")),
            escape(r.final_flags.as_deref().unwrap_or("-")),
            escape(r.observed_result.as_ref().map_or("-", |o| o.text.as_str())),
            verdict
        );
    }
    h.push_str("</tbody></table>");
}

/// The self-contained HTML report: the counts, the clients that would
/// break (each with its exchanges and missing bits), then every exchange
/// and the problems. No script, no external resource; all text escaped.
pub fn html(summary: &Summary, records: &[ExchangeRecord], problems: &[ProblemRecord]) -> String {
    let mut h = String::with_capacity(16 * 1024 + records.len() * 600);
    let p = &summary.policy;
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>NTLM capture audit</title>\n<style>{HTML_CSS}{}</style></head>\n\
         <body data-exchanges=\"{}\" data-breaking=\"{}\"><header><h1>NTLM capture audit</h1>\
         <p>NtlmMinClientSec {} \u{b7} NtlmMinServerSec {} \u{b7} client LmCompatibilityLevel {} \
         \u{b7} server LmCompatibilityLevel {} \u{b7} semantics {}</p></header><main>",
        crate::actions::CSS,
        summary.exchanges,
        summary.breaking,
        escape(&p.client_min),
        escape(&p.server_min),
        p.client_lm_level
            .map_or_else(|| "as observed".to_owned(), |l| l.to_string()),
        p.server_lm_level
            .map_or_else(|| "not checked".to_owned(), |l| l.to_string()),
        escape(p.semantics)
    );
    if !p.restrict.is_empty() {
        let lines: Vec<String> = p.restrict.iter().map(|l| escape(l)).collect();
        let _ = write!(h, "<p>{}</p>", lines.join(" \u{b7} "));
    }
    if let Some(b) = &p.binding {
        let _ = write!(
            h,
            "<p class=\"binding\">Server settings: {} \u{b7} HTTP and LDAP judged {}</p>",
            escape(b),
            if p.tls { "as over TLS" } else { "without TLS" }
        );
    }
    let _ = write!(
        h,
        "<section class=\"card\"><div class=\"stats\">\
         <div class=\"stat\"><b>{}</b>exchanges</div>\
         <div class=\"stat nb\"><b>{}</b>would break</div>\
         <div class=\"stat ok\"><b>{}</b>unaffected</div>\
         <div class=\"stat\"><b>{}</b>partial</div>\
         <div class=\"stat\"><b>{}</b>problems</div></div></section>",
        summary.exchanges,
        summary.breaking,
        summary.exchanges - summary.breaking,
        summary.partial,
        summary.problems
    );
    // What to do about the exchanges that would break.
    let mut actions = crate::actions::Actions::new();
    for r in records {
        if let Some(f) = &r.failure {
            actions.add(
                (r.client_host(), r.client_profile.as_str()),
                (host(&r.server), ""),
                f,
            );
            if r.user.is_some() {
                actions.add_user(f, who(r));
            }
        }
    }
    actions.set_hosts(
        records
            .iter()
            .filter(|r| r.client_policy_applies)
            .map(ExchangeRecord::client_host)
            .collect(),
        records.iter().map(|r| host(&r.server)).collect(),
    );
    let value = |v: &str| u32::from_str_radix(v.trim_start_matches("0x"), 16).ok();
    actions.html(
        "exchange",
        crate::actions::Configured {
            client_min: value(&p.client_min),
            server_min: value(&p.server_min),
            clients_changed: value(&p.client_min).is_some_and(|v| v != 0)
                || p.client_lm_level.is_some(),
            servers_changed: value(&p.server_min).is_some_and(|v| v != 0)
                || p.server_lm_level.is_some(),
        },
        &[],
        &mut h,
    );
    h.push_str("<section class=\"card\"><h2>Clients that would break</h2>");
    if summary.breaking_clients.is_empty() {
        h.push_str("<p>No client would break under this policy.</p>");
    }
    for c in &summary.breaking_clients {
        let _ = write!(
            h,
            "<details class=\"client\" open><summary>{} <span class=\"muted\">({})</span> \u{2014} \
             {} exchange(s); the {} refuses on receipt of {}; missing <code>{}</code> {}</summary>\
             <p class=\"muted\">users: {} \u{b7} rule {} ({})</p>",
            escape(&c.host),
            escape(&c.profile),
            c.exchanges,
            c.side,
            c.stage.to_uppercase(),
            escape(&c.missing),
            escape(&c.missing_names.join(" | ")),
            escape(&c.users.join(", ")),
            escape(c.rule_id),
            escape(&c.rule)
        );
        let rows: Vec<&ExchangeRecord> = c
            .indexes
            .iter()
            .filter_map(|&i| records.iter().find(|r| r.index == i))
            .take(HUMAN_ROWS)
            .collect();
        html_exchange_rows(&mut h, &rows);
        h.push_str("</details>");
    }
    h.push_str("</section>");
    h.push_str("<section class=\"card\"><h2>By client profile</h2><table><thead><tr><th>profile</th><th>exchanges</th><th>would break</th></tr></thead><tbody>");
    for (k, c) in &summary.by_client_profile {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(k),
            c.exchanges,
            c.breaking
        );
    }
    h.push_str("</tbody></table><h2 style=\"margin-top:14px\">By response kind</h2><table><tbody>");
    for (k, c) in &summary.by_response_kind {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{} would break</td></tr>",
            escape(k),
            c.exchanges,
            c.breaking
        );
    }
    h.push_str("</tbody></table></section>");
    let assumed = assumed_of(records);
    if !assumed.is_empty() {
        h.push_str(
            "<section class=\"card\"><h2>Assumed profile facts</h2><p class=\"muted\">No public \
             source confirms these facts of the client profiles; the verdicts of the exchanges \
             counted rest on them.</p><table><thead><tr><th>profile</th><th>exchanges</th>\
             <th>assumed</th></tr></thead><tbody>",
        );
        for (a, n) in &assumed {
            let _ = write!(
                h,
                "<tr><td>{} as {}</td><td>{n}</td><td>{}</td></tr>",
                escape(&a.profile),
                a.role,
                escape(&a.facts)
            );
        }
        h.push_str("</tbody></table></section>");
    }
    h.push_str("<section class=\"card\"><h2>All exchanges</h2>");
    let mut all: Vec<&ExchangeRecord> = records.iter().collect();
    all.sort_by_key(|r| (!r.breaks(), r.index));
    html_exchange_rows(&mut h, &all);
    h.push_str("</section>");
    if !problems.is_empty() {
        h.push_str("<section class=\"card\"><h2>Problems</h2><table><thead><tr><th>file</th><th>packet</th><th>layer</th><th>what</th></tr></thead><tbody>");
        for p in problems {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&p.file),
                p.packet.map_or_else(|| "-".to_owned(), |n| n.to_string()),
                escape(p.layer),
                escape(&p.message)
            );
        }
        h.push_str("</tbody></table></section>");
    }
    h.push_str("</main></body></html>\n");
    h
}

/// The failure of a record as JSON, when it breaks (for callers that want
/// only that part).
pub fn failure_json(r: &ExchangeRecord) -> Option<FailureJson> {
    match &r.outcome {
        OutcomeJson::Failure(f) => Some((**f).clone()),
        OutcomeJson::Success(_) => None,
    }
}

/// The names of a flags value (`*_names` in JSON), serialized from a
/// per-thread cache of rendered JSON arrays: an audit writes the same few
/// flag combinations thousands of times, and escaping the names each time
/// was a fifth of the JSON output's cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlagNames(pub NegotiateFlags);

impl FlagNames {
    /// The names, as in every `*_names` array.
    pub fn names(self) -> Vec<&'static str> {
        names(self.0)
    }
}

impl Serialize for FlagNames {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use std::cell::RefCell;
        use std::collections::HashMap;

        use serde_json::value::RawValue;

        thread_local! {
            static RENDERED: RefCell<HashMap<u32, Box<RawValue>>> = RefCell::new(HashMap::new());
        }
        /// Distinct values kept; a capture rarely shows more than a few dozen.
        const MAX_CACHED: usize = 4096;
        RENDERED.with(|cache| {
            let mut cache = cache.borrow_mut();
            if let Some(raw) = cache.get(&self.0.bits()) {
                return raw.serialize(serializer);
            }
            let names = self.names();
            let raw = serde_json::to_string(&names)
                .ok()
                .and_then(|json| RawValue::from_string(json).ok());
            match raw {
                Some(raw) => {
                    let out = raw.serialize(serializer);
                    if cache.len() < MAX_CACHED {
                        cache.insert(self.0.bits(), raw);
                    }
                    out
                }
                None => names.serialize(serializer),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ntlm_capture::synth::{self, Messages, Spec};
    use ntlm_capture::{Event, Extractor};

    fn records(capture: &[u8], policy: Policy) -> (Vec<ExchangeRecord>, Vec<ProblemRecord>) {
        let auditor = Auditor::new(policy, &Catalog::builtin().unwrap());
        let mut xs = Vec::new();
        let mut problems = Vec::new();
        Extractor::default()
            .run(0, capture, &mut |e| match e {
                Event::Exchange(x) => xs.push(x),
                Event::Problem(p) => problems.push(ProblemRecord::new("t", &p)),
                Event::Progress { .. } => {}
            })
            .unwrap();
        let recs = xs
            .iter()
            .enumerate()
            .map(|(i, x)| auditor.judge("t", i + 1, x, &mut problems))
            .collect();
        (recs, problems)
    }

    /// The three messages `client` (a built-in profile) sends and receives
    /// against a Windows 11 server over `carrier`, as the session layer builds them.
    fn simulated(client: &str, carrier: ntlm_policy::Carrier) -> Messages {
        use rand_chacha::ChaCha20Rng;
        use rand_chacha::rand_core::SeedableRng;
        let catalog = Catalog::builtin().unwrap();
        let cp = catalog.get(client).unwrap();
        let mut c = cp
            .client_settings(Credentials::password("alice", "TESTDOM", "pw"))
            .unwrap();
        let mut store = ntlm_session::MemoryStore::new();
        store.add_password("TESTDOM", "alice", "pw");
        let mut s = catalog
            .get("windows-11")
            .unwrap()
            .server_settings(std::sync::Arc::new(store))
            .unwrap();
        crate::binding::apply(
            cp,
            &mut c,
            &mut s,
            &ntlm_policy::BindingPolicy::default(),
            carrier,
        );
        let ex = ntlm_session::Pair {
            client: c,
            server: s,
        }
        .run(
            &mut ChaCha20Rng::seed_from_u64(5),
            ntlm_wire::FileTime(133_000_000_000_000_000),
            ntlm_session::Fixed::default(),
        );
        Messages {
            negotiate: ex.negotiate.unwrap().0,
            challenge: ex.challenge.unwrap().0,
            authenticate: ex.authenticate.unwrap().0,
        }
    }

    /// A capture taken behind a TLS-terminating proxy, judged under
    /// Extended Protection: a client without channel bindings breaks under
    /// Required, one with an all-zero pair already under Accept, Windows
    /// never; without --tls nothing is checked.
    #[test]
    fn channel_bindings_in_captures() {
        use ntlm_policy::{BindingPolicy, Carrier, ExtendedProtection};
        let policy = |e, tls| Policy {
            binding: BindingPolicy {
                extended_protection: e,
                ..BindingPolicy::default()
            },
            tls,
            ..Policy::default()
        };
        let judge = |client: &str, p: Policy| {
            let (r, problems) = records(
                &synth::http_exchange_pcap(&simulated(client, Carrier::Https), 200),
                p,
            );
            assert!(problems.is_empty(), "{problems:?}");
            let r = r.into_iter().next().unwrap();
            (r.verdict, r.failure.map(|f| f.rule.id), r.channel_bindings)
        };
        assert_eq!(
            judge("windows-11", policy(ExtendedProtection::Require, true)),
            ("ok", None, Some("present"))
        );
        assert_eq!(
            judge("pyspnego-0.12", policy(ExtendedProtection::Require, true)),
            ("breaks", Some("epa-require"), Some("absent"))
        );
        assert_eq!(
            judge("pyspnego-0.12", policy(ExtendedProtection::Allow, true)),
            ("ok", None, Some("absent"))
        );
        assert_eq!(
            judge("gss-ntlmssp-1.2", policy(ExtendedProtection::Allow, true)),
            ("breaks", Some("epa-allow"), Some("zero"))
        );
        assert_eq!(
            judge(
                "gss-ntlmssp-1.2",
                policy(ExtendedProtection::Require, false)
            ),
            ("ok", None, Some("zero"))
        );
    }

    fn curl() -> Messages {
        Messages::new(&Spec {
            negotiate_flags: synth::CURL_FLAGS,
            challenge_flags: 0x0089_8205,
            authenticate_flags: 0x0088_8205,
            mic: false,
            ..Spec::default()
        })
    }

    #[test]
    fn flag_names_serialize_like_the_names_and_are_cached() {
        for bits in [0u32, 0xe288_8235, 0x0000_0207, 0xffff_ffff] {
            let f = FlagNames(NegotiateFlags::from_bits_retain(bits));
            let plain = serde_json::to_string(&f.names()).unwrap();
            // The first call renders, the second comes from the cache.
            assert_eq!(serde_json::to_string(&f).unwrap(), plain);
            assert_eq!(serde_json::to_string(&f).unwrap(), plain);
            let nested = serde_json::to_string(&[f, f]).unwrap();
            assert_eq!(nested, format!("[{plain},{plain}]"));
        }
    }

    #[test]
    fn curl_breaks_under_128_bit_and_windows_does_not() {
        // Under the default (calibrated) reading curl passes 0x20000000: it
        // seals nothing (KB239869; curl/curl#13291).
        let calibrated = Policy {
            server_min: MinSessionSecurity::from_registry(0x2000_0000),
            ..Policy::default()
        };
        let (r, _) = records(&synth::http_exchange_pcap(&curl(), 200), calibrated);
        assert_eq!(r[0].verdict, "ok");
        // The strict ms-nlmp reading refuses it.
        let server_min = Policy {
            server_min: MinSessionSecurity::from_registry(0x2000_0000),
            semantics: Semantics::MS_NLMP,
            ..Policy::default()
        };
        let (r, p) = records(&synth::http_exchange_pcap(&curl(), 200), server_min.clone());
        assert!(p.is_empty(), "{p:?}");
        let r = &r[0];
        assert_eq!(r.client_profile, "curl-7.88");
        assert_eq!(r.verdict, "breaks");
        let f = r.failure.unwrap();
        assert_eq!((f.side.name(), f.stage.name()), ("server", "negotiate"));
        assert_eq!(names(f.missing), vec!["NEGOTIATE_128"]);
        assert_eq!(r.user.as_deref(), Some("alice"));
        assert_eq!(r.response_kind, Some("NTLMv2"));
        assert_eq!(r.observed_result.as_ref().unwrap().code, 200);
        let (r, _) = records(
            &synth::http_exchange_pcap(&Messages::sample(), 200),
            server_min,
        );
        assert_eq!(r[0].verdict, "ok");
        assert!(
            r[0].client_profile.starts_with("windows-"),
            "{}",
            r[0].client_profile
        );
        assert_eq!(r[0].mic, Some(true));
    }

    #[test]
    fn restrict_ntlm_on_the_server_judges_the_account_kind() {
        let policy = |incoming: &str| Policy {
            restrict: ntlm_session::RestrictPath {
                server: crate::restrict::from_pastes(&[incoming.to_owned()]).unwrap_or_default(),
                ..ntlm_session::RestrictPath::default()
            },
            ..Policy::default()
        };
        let deny_all = policy("RestrictReceivingNTLMTraffic    REG_DWORD    0x2");
        assert_eq!(
            PolicyJson::new(&deny_all).restrict,
            ["Restrict NTLM: Incoming NTLM traffic -> Deny all accounts on servers"]
        );
        let deny_domain = policy("RestrictReceivingNTLMTraffic    REG_DWORD    0x1");
        // The sample server is standalone (TARGET_TYPE_SERVER): a local account.
        let standalone = synth::http_exchange_pcap(&Messages::sample(), 200);
        let (r, _) = records(&standalone, deny_all);
        assert_eq!(r[0].verdict, "breaks");
        // Restrict NTLM blocks it whatever the reading of the switches.
        assert!(r[0].certainty.holds_under_every_reading);
        assert_eq!(
            failure_json(&r[0]).map(|f| (f.status, f.rule_id)),
            Some(("STATUS_NTLM_BLOCKED", "restrict-incoming-deny"))
        );
        let (r, _) = records(&standalone, deny_domain.clone());
        assert_eq!(r[0].verdict, "ok");
        // A domain member (TARGET_TYPE_DOMAIN): a domain account, refused.
        let member = Messages::new(&Spec {
            challenge_flags: (0xe28a_8215 & !0x0002_0000) | 0x0001_0000,
            ..Spec::default()
        });
        let (r, _) = records(&synth::http_exchange_pcap(&member, 200), deny_domain);
        assert_eq!(r[0].verdict, "breaks");
    }

    #[test]
    fn lm_level_refuses_ntlmv1_and_client_min_spares_non_windows() {
        let v1 = Messages::new(&Spec {
            nt_len: 24,
            ..Spec::default()
        });
        let level5 = Policy {
            server_lm_level: Some(LmCompatibilityLevel::L5),
            ..Policy::default()
        };
        let (r, _) = records(&synth::http_exchange_pcap(&v1, 200), level5);
        assert_eq!(r[0].response_kind, Some("NTLM2_SESSION"));
        let f = r[0].failure.unwrap();
        assert_eq!((f.side.name(), f.stage.name()), ("server", "authenticate"));
        assert_eq!(f.rule.id, "lm-refuse-ntlmv1");
        // curl reads no registry value: NtlmMinClientSec does not apply to it.
        let client_min = Policy {
            client_min: MinSessionSecurity::from_registry(0x2000_0000),
            ..Policy::default()
        };
        let (r, _) = records(&synth::http_exchange_pcap(&curl(), 200), client_min);
        assert_eq!(r[0].verdict, "ok");
        assert!(!r[0].client_policy_applies);
    }

    /// One exchange per hostile name (as user, domain and workstation), all
    /// breaking under 128-bit, plus a problem from a hostile file name.
    fn hostile_records() -> (Summary, Vec<ExchangeRecord>, Vec<ProblemRecord>) {
        // The strict reading: curl's flags lack NEGOTIATE_128.
        let policy = Policy {
            server_min: MinSessionSecurity::from_registry(0x2000_0000),
            semantics: Semantics::MS_NLMP,
            ..Policy::default()
        };
        let names = ntlm_testsupport::hostile_names();
        let mut cap = synth::Conversation::new("192.0.2.7:40000", "192.0.2.80:80");
        cap.handshake();
        for name in &names {
            // A name field holds at most 64 KiB: the longest name only as
            // the user.
            let other = if name.len() > 1024 {
                "D"
            } else {
                name.as_str()
            };
            let m = Messages::new(&Spec {
                negotiate_flags: synth::CURL_FLAGS,
                challenge_flags: 0x0089_8205,
                authenticate_flags: 0x0088_8205,
                mic: false,
                user: name.clone(),
                domain: other.to_owned(),
                workstation: other.to_owned(),
                ..Spec::default()
            });
            cap.http_exchange(&m, 401);
        }
        cap.close();
        let bytes = synth::capture(synth::Format::PcapNg { big_endian: false }, &cap.frames);
        let (recs, mut problems) = records(&bytes, policy.clone());
        assert_eq!(recs.len(), names.len(), "{problems:?}");
        for (r, name) in recs.iter().zip(&names) {
            let short: String = name.chars().take(16).collect();
            assert_eq!(
                r.user.as_deref(),
                Some(name.as_str()),
                "{short:?}: {problems:?}"
            );
        }
        problems.push(ProblemRecord {
            file: "evil\n\u{1b}[2J.pcap".to_owned(),
            packet: Some(1),
            layer: "capture",
            message: "forged\nProblems:\u{202e}".to_owned(),
        });
        let summary = Summary::new(&policy, Vec::new(), &recs, problems.len());
        (summary, recs, problems)
    }

    #[test]
    fn hostile_names_stay_on_their_table_row() {
        let (summary, recs, problems) = hostile_records();
        let human = render_human(&summary, &recs, &problems);
        for line in human.lines() {
            assert!(sink::line_safe(line), "{line:?}");
            assert!(line.chars().count() < 4 * 1024, "an unbounded line");
        }
        let rows = human
            .lines()
            .filter(|l| l.trim_end().ends_with(']') && l.contains("BREAKS:"))
            .count();
        assert_eq!(rows, recs.len(), "one table row per exchange");
        assert!(human.contains("x\\nAF TESTDOM\\administrator"), "{human}");
        assert!(human.contains("admin\\u{202e}nimda"));
        assert!(human.contains("\u{2026}(+"), "the long name is cut");
        assert!(human.contains(
            "  evil\\n\\u{1b}[2J.pcap: packet 1: capture: forged\\nProblems:\\u{202e}\n"
        ));
    }

    /// The cells of one CSV line (RFC 4180, no line break inside a cell).
    fn csv_cells(line: &str) -> Vec<String> {
        let (mut cells, mut cell, mut quoted, mut chars) =
            (Vec::new(), String::new(), false, line.chars().peekable());
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                }
                ('"', _) => quoted = !quoted,
                (',', false) => cells.push(std::mem::take(&mut cell)),
                (c, _) => cell.push(c),
            }
        }
        assert!(!quoted, "unbalanced quotes: {line:?}");
        cells.push(cell);
        cells
    }

    #[test]
    fn hostile_names_in_csv_are_one_record_each_and_never_formulas() {
        let (_, recs, _) = hostile_records();
        let c = csv(&recs);
        assert!(c.ends_with("\r\n"));
        let lines: Vec<&str> = c.split_terminator("\r\n").collect();
        assert_eq!(
            lines.len(),
            recs.len() + 1,
            "a header and one record per exchange"
        );
        for line in &lines {
            assert!(sink::line_safe(line), "{line:?}");
            let cells = csv_cells(line);
            assert_eq!(cells.len(), CSV_COLUMNS.len(), "{line:?}");
            for cell in cells {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@']),
                    "formula cell {cell:?}"
                );
            }
        }
        let user = CSV_COLUMNS.iter().position(|c| *c == "user").unwrap();
        let cells: Vec<Vec<String>> = lines.iter().skip(1).map(|l| csv_cells(l)).collect();
        let users: Vec<&str> = cells.iter().map(|c| c[user].as_str()).collect();
        assert!(
            users.contains(&"'=HYPERLINK(\"http://evil.example/\",\"click\")"),
            "{users:?}"
        );
        assert!(users.contains(&"'+cmd|' /C calc'!A0"));
        assert!(users.contains(&"'@SUM(1+1)"));
        assert!(users.contains(&"'-2+3"));
        assert!(users.contains(&"x\\nAF TESTDOM\\administrator"));
    }

    #[test]
    fn hostile_names_in_html_are_escaped() {
        let (summary, recs, problems) = hostile_records();
        let page = html(&summary, &recs, &problems);
        assert!(!page.contains("<script"), "no script element");
        assert!(!page.contains("<img"));
        assert!(page.contains("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
        assert!(page.contains("&#39;single&#39; &amp; &lt;b&gt;"));
        // Every attribute value is closed where the markup closes it: no
        // quote from a name opens a new attribute.
        assert!(!page.contains("\" onerror="));
        // The users reach the What to do section's lists, escaped: no name
        // closes its text box early.
        assert!(page.contains("users to inform"));
        assert_eq!(
            page.matches("<textarea").count(),
            page.matches("</textarea>").count()
        );
    }

    #[test]
    fn the_version_field_rules_out_other_releases() {
        let auditor = Auditor::new(Policy::default(), &Catalog::builtin().unwrap());
        let xp = auditor
            .clients
            .iter()
            .find(|c| c.name == "windows-xp")
            .unwrap();
        let offered = Some(xp.offered[0]);
        let name = |d: &Decoded| {
            auditor
                .profile(d)
                .and_then(|(i, _)| auditor.clients.get(i))
                .map(|c| c.name.as_str())
        };
        // XP's own offer and Version: windows-xp.
        let d = Decoded {
            offered,
            claimed_version: xp.version,
            ..Decoded::default()
        };
        assert_eq!(name(&d), Some("windows-xp"));
        // The same offer from a client that says it is 10.0.19041: not XP, nor
        // NT/2000, which send no Version field.
        let d = Decoded {
            offered,
            claimed_version: Some(Version {
                major: 10,
                minor: 0,
                build: 19041,
                reserved: [0; 3],
                revision: 15,
            }),
            ..Decoded::default()
        };
        let got = name(&d);
        assert!(
            got.is_none_or(|n| !["windows-xp", "windows-nt4", "windows-2000"].contains(&n)),
            "{got:?}"
        );
        // A Windows 10 offer with its Version: a 10.0 profile.
        let w10 = auditor
            .clients
            .iter()
            .find(|c| c.name == "windows-10")
            .unwrap();
        let d = Decoded {
            offered: Some(w10.offered[0]),
            claimed_version: d.claimed_version,
            ..Decoded::default()
        };
        let got = name(&d).unwrap();
        assert!(got == "windows-10" || got == "windows-11", "{got}");
    }

    #[test]
    fn a_partial_exchange_says_so() {
        let m = Messages::sample();
        let mut cap = synth::Conversation::new("192.0.2.7:40000", "192.0.2.80:80");
        cap.handshake();
        {
            use base64::Engine as _;
            let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
            cap.client_send(
                format!(
                    "GET / HTTP/1.1\r\nHost: server\r\nAuthorization: NTLM {}\r\n\r\n",
                    b64(&m.negotiate)
                )
                .as_bytes(),
            );
            cap.server_send(
                format!(
                    "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM {}\r\nContent-Length: 0\r\n\r\n",
                    b64(&m.challenge)
                )
                .as_bytes(),
            );
        }
        cap.close();
        let bytes = synth::capture(synth::Format::PcapNg { big_endian: false }, &cap.frames);
        let policy = Policy::default();
        let (recs, _) = records(&bytes, policy.clone());
        assert_eq!(recs.len(), 1);
        let r = &recs[0];
        assert!(r.partial && !r.complete);
        assert_eq!(r.missing_messages, ["AUTHENTICATE"]);
        assert_eq!(r.verdict_text(), "ok (partial: no AUTHENTICATE captured)");
        let j = serde_json::to_value(r).unwrap();
        assert_eq!(j["partial"], true);
        assert_eq!(j["missing_messages"][0], "AUTHENTICATE");
        assert_eq!(j["complete"], false);
        let summary = Summary::new(&policy, Vec::new(), &recs, 0);
        let human = render_human(&summary, &recs, &[]);
        assert!(
            human.contains("(partial: no AUTHENTICATE captured)"),
            "{human}"
        );
        // A complete exchange is not partial.
        let (recs, _) = records(&synth::http_exchange_pcap(&m, 200), policy);
        assert!(!recs[0].partial && recs[0].missing_messages.is_empty());
        assert_eq!(recs[0].verdict_text(), "ok");
    }

    #[test]
    fn renderings_carry_the_verdicts() {
        let policy = Policy {
            server_min: MinSessionSecurity::from_registry(0x2000_0000),
            semantics: Semantics::MS_NLMP,
            ..Policy::default()
        };
        let mut cap = synth::Conversation::new("192.0.2.7:40000", "192.0.2.80:80");
        cap.handshake();
        cap.http_exchange(&curl(), 401);
        cap.http_exchange(&Messages::sample(), 200);
        cap.close();
        let bytes = synth::capture(synth::Format::PcapNg { big_endian: false }, &cap.frames);
        let (recs, problems) = records(&bytes, policy.clone());
        assert_eq!(recs.len(), 2);
        let summary = Summary::new(&policy, Vec::new(), &recs, problems.len());
        assert_eq!(summary.breaking, 1);
        assert_eq!(summary.breaking_clients[0].host, "192.0.2.7");
        assert_eq!(summary.breaking_clients[0].users, vec!["EXAMPLE\\alice"]);
        let human = render_human(&summary, &recs, &problems);
        assert!(human.contains("Clients that would break:"), "{human}");
        assert!(human.contains("192.0.2.7 (curl-7.88)"), "{human}");
        let c = csv(&recs);
        assert_eq!(c.lines().count(), 3);
        assert!(
            c.contains(",breaks,server,negotiate,0x20000000,NEGOTIATE_128,"),
            "{c}"
        );
        let page = html(&summary, &recs, &problems);
        assert!(page.contains("data-breaking=\"1\""));
        assert!(page.find("Clients that would break") < page.find("All exchanges"));
        let j = serde_json::to_value(&recs[0]).unwrap();
        assert_eq!(j["offered_flags"], "0x00088206");
        assert_eq!(j["outcome"]["result"], "failure");
        assert_eq!(j["outcome"]["missing_names"][0], "NEGOTIATE_128");
        assert!(failure_json(&recs[0]).is_some() && failure_json(&recs[1]).is_none());
    }
}
