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
//! Results: JSON Lines records ([`ExchangeRecord`], [`ProblemRecord`],
//! [`Summary`]); their human, CSV and HTML views are in ntlm-report.
//! Decoding the captured messages is in `decode.rs`, the records in
//! `record.rs`, the summary in `summary.rs`.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use ntlm_capture::Exchange;
use ntlm_policy::{
    Certainty, ClientConfig, Failure, Level0Ess, LmCompatibilityLevel, MinSessionSecurity,
    OsGeneration, Semantics, ServerConfig, check_client_challenge, check_response_accepted,
    check_server_authenticate, check_server_negotiate,
};
use ntlm_session::Credentials;
use ntlm_wire::{NegotiateFlags, ResponseKind, Version};

use crate::outcome::{CertaintyJson, OutcomeJson, hex32, names};
use crate::profiles::{AssumedFacts, Catalog, Honours, assumed_facts};

mod decode;
mod record;
mod summary;

use decode::{Decoded, decode, version_text};
use record::result_json;
pub use record::{
    ExchangeRecord, FlagNames, HUMAN_ROWS, ProblemRecord, ResultJson, failure_json, host,
};
pub use summary::{BreakingClient, Counts, FileJson, PolicyJson, Summary};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::audit::records;

    use ntlm_testsupport::synth::{self, Messages, Spec};

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
}
