//! Judging Windows event-log records under a what-if policy (`ntlmsim
//! audit` on EVTX, event XML and JSON Lines).
//!
//! `ntlm-events` reads the logs into [`Event`]s; this module keeps the
//! NTLM-relevant ones, turns what each logs into the questions the policy
//! engine (`ntlm-policy`) asks, and says which answer the event supports:
//!
//! - 4624/4625 (Security, "Logon"/"Logon failure"): the response kind from
//!   `LmPackageName`, the 128-bit question from `KeyLength`, the client
//!   from `WorkstationName`/`IpAddress`, the server from `Computer`. The
//!   flags themselves are not logged: a requirement the logged fields
//!   cannot settle (signing, sealing, extended session security, 128-bit
//!   when `KeyLength` is 0) makes the verdict `unknown`, never `ok`.
//! - 4010/4011 (NTLM/Operational, "NTLM Minimum Client/Server Security
//!   Block"): the negotiated flags and the requirement exactly as logged,
//!   judged as they were and under the what-if policy.
//! - 4776, 8001–8006, 4020–4023, 4030–4033, 6038/6039: NTLM use, counted
//!   per workstation, user and target; `unknown`, with the reason, unless
//!   the event carries an NTLM version.
//! - 4024/4025: NTLMv1-derived credentials used (or blocked) for single
//!   sign-on (KB5066470); `unknown`: that block is `BlockNtlmv1SSO`, not a
//!   setting this tool simulates.
//!
//! Every statement a record makes carries its basis: `logged` (the field
//! says so), `documented` (a cited document says what the field means) or
//! `inferred` (this tool's reading, with the field it came from).

use std::fmt::Write as _;

use ntlm_events::Event;
use ntlm_policy::{
    ClientConfig, Failure, LmCompatibilityLevel, MinSessionSecurity, OsGeneration, ServerConfig,
    check_client_challenge, check_response_accepted, check_server_authenticate,
};
use ntlm_wire::{NegotiateFlags as F, ResponseKind};
use serde::Serialize;

use crate::audit::{Policy, ProblemRecord};
use crate::outcome::{OutcomeJson, SuccessJson, hex32, names};

mod summary;

pub use summary::{EventFileJson, EventSummary, HostSummary};

/// One statement a record rests on.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    /// The event field (or `EventID`).
    pub field: &'static str,
    /// Its value as logged.
    pub value: String,
    /// What it tells.
    pub meaning: String,
    /// `logged`, `documented` or `inferred`.
    pub basis: &'static str,
    /// The document, when the basis is `documented`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<&'static str>,
}

/// One NTLM-relevant event as reported (`{"event": {...}}`).
#[derive(Debug, Clone, Serialize)]
pub struct EventRecord {
    /// The log file.
    pub file: String,
    /// 1-based position among the event records of this audit.
    pub index: usize,
    /// `EventRecordID`.
    pub record_id: Option<u64>,
    /// `EventID`.
    pub event_id: u32,
    /// Provider name.
    pub provider: String,
    /// Channel.
    pub channel: String,
    /// `TimeCreated/@SystemTime` (RFC 3339), as logged.
    pub time: Option<String>,
    /// `Computer`: the host that logged the event.
    pub computer: String,
    /// What the event is: `logon`, `logon-failure`, `credential-validation`,
    /// `min-security-block`, `ntlm-audit`, `ntlmv1-derived-sso`, `ntlm-in-use`.
    pub kind: &'static str,
    /// The account.
    pub user: Option<String>,
    /// Its domain.
    pub domain: Option<String>,
    /// The client's workstation name, as logged.
    pub workstation: Option<String>,
    /// The client's address, as logged.
    pub ip: Option<String>,
    /// The target (outgoing audit events).
    pub target: Option<String>,
    /// The client as summarised: the workstation, else the address.
    pub client: Option<String>,
    /// The server as summarised: `Computer`.
    pub server: String,
    /// `LmPackageName` as logged (`NTLM V1`, `NTLM V2`, `LM`, `-`).
    pub lm_package: Option<String>,
    /// `KeyLength` (128, 56, 0), when logged.
    pub key_length: Option<u32>,
    /// The response kind the verdict assumes (`ANONYMOUS`, `LM`, `NTLMv1`, `NTLMv2`).
    pub response_kind: Option<&'static str>,
    /// `Status` (4625, 4776), as logged.
    pub status: Option<String>,
    /// `NegotiatedSecurity` (4010/4011), `"0x%08x"`.
    pub negotiated_security: Option<String>,
    /// Its flag names.
    pub negotiated_security_names: Option<Vec<&'static str>>,
    /// `RequiredSecurity` (4010/4011), `"0x%08x"`.
    pub required_security: Option<String>,
    /// Its flag names.
    pub required_security_names: Option<Vec<&'static str>>,
    /// `breaks`, `ok` or `unknown`.
    pub verdict: &'static str,
    /// Why the verdict is what it is (always set for `unknown`).
    pub reason: String,
    /// The outcome under the what-if policy, when a verdict was reached.
    pub outcome: Option<OutcomeJson>,
    /// 4010/4011: the outcome under the requirement the event logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logged_outcome: Option<OutcomeJson>,
    /// The statements the record rests on.
    pub evidence: Vec<Evidence>,
    /// The failure, when it breaks (not serialized: `outcome` has it).
    #[serde(skip)]
    pub failure: Option<Failure>,
}

impl EventRecord {
    /// Whether the event shows a connection that would break.
    pub const fn breaks(&self) -> bool {
        self.failure.is_some()
    }
}

/// The source of the 4624/4625 field meanings.
const SRC_4624: &str =
    "Microsoft Learn, 4624(S): An account was successfully logged on (LmPackageName, KeyLength)";
const SRC_4776: &str = "Microsoft Learn, 4776(S, F): The computer attempted to validate the credentials for an account";
const SRC_V1: &str =
    "KB2701704: 4624 shows NTLM V1 for NTLMv2 logons validated by a Windows Server 2003 DC";
const SRC_BLOCK: &str = "Microsoft-Windows-NTLM 4010/4011 (NTLM Minimum Client/Server Security Block); microsoft/mssql-jdbc#1180";
const SRC_RESTRICT: &str =
    "Microsoft-Windows-NTLM manifest, events 8001-8006 (Network security: Restrict NTLM audit)";
const SRC_24H2: &str = "KB5064479 (NTLM auditing enhancements, Windows 11 24H2 / Server 2025)";
const SRC_SSO: &str = "KB5066470 (NTLMv1-derived credentials for single sign-on, BlockNtlmv1SSO)";
const SRC_LSASRV: &str = "LsaSrv 6038/6039 (System log): NTLM in use on this server, once per boot";
const SRC_DC_LEVEL: &str =
    "MS-NLMP 3.2.5.1.2 (the DC validates the response for domain accounts); KB239869";

/// A value that says something (`-`, `(NULL)` and empty mean nothing).
fn present(v: Option<&str>) -> Option<String> {
    let v = v?.trim();
    (!v.is_empty() && v != "-" && !v.eq_ignore_ascii_case("(null)")).then(|| v.to_owned())
}

/// The first of `names` that is present.
fn first_of(e: &Event, names: &[&'static str]) -> Option<(&'static str, String)> {
    names
        .iter()
        .find_map(|&n| present(e.field(n)).map(|v| (n, v)))
}

/// A hex or decimal number as logged (`0x2818205`, `537395200`).
fn number(v: &str) -> Option<u32> {
    let v = v.trim();
    match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => v.parse().ok(),
    }
}

/// The event IDs whose data the judging may use (see `family`); the
/// others are only counted.
pub const fn wanted(event_id: u32) -> bool {
    matches!(
        event_id,
        4624 | 4625 | 4776 | 4010 | 4011 | 4020..=4025 | 4030..=4033 | 8001..=8006 | 6038 | 6039
    )
}

/// The response kind an `LmPackageName`-like value names.
fn kind_of_package(v: &str) -> Option<ResponseKind> {
    let v = v.trim().to_ascii_uppercase().replace(['-', '_'], " ");
    match v.as_str() {
        "NTLM V2" | "NTLMV2" => Some(ResponseKind::NtlmV2),
        "NTLM V1" | "NTLMV1" => Some(ResponseKind::NtlmV1),
        "LM" => Some(ResponseKind::Lm),
        _ => None,
    }
}

/// What a family of events is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Logon { failed: bool },
    Validation,
    Block { server: bool },
    Restrict,
    Audit24h2,
    Sso,
    LsaSrv,
}

fn family(e: &Event) -> Option<Family> {
    let ntlm_provider = e.provider.eq_ignore_ascii_case("Microsoft-Windows-NTLM")
        || e.channel
            .eq_ignore_ascii_case("Microsoft-Windows-NTLM/Operational");
    match e.event_id {
        4624 | 4625 => {
            let package = e.field("AuthenticationPackageName").unwrap_or_default();
            let lm = e.field("LmPackageName").unwrap_or_default();
            (package.trim().eq_ignore_ascii_case("NTLM") || kind_of_package(lm).is_some())
                .then_some(Family::Logon {
                    failed: e.event_id == 4625,
                })
        }
        4776 => Some(Family::Validation),
        4010 | 4011 if ntlm_provider || e.field("NegotiatedSecurity").is_some() => {
            Some(Family::Block {
                server: e.event_id == 4011,
            })
        }
        8001..=8006 if ntlm_provider => Some(Family::Restrict),
        4020..=4023 | 4030..=4033 if ntlm_provider => Some(Family::Audit24h2),
        4024 | 4025 if ntlm_provider => Some(Family::Sso),
        6038 | 6039 if e.provider.eq_ignore_ascii_case("LsaSrv") => Some(Family::LsaSrv),
        _ => None,
    }
}

/// The policy question for one logon, as far as the logged fields settle it.
enum Judgement {
    Breaks(Failure),
    Ok(F),
    Unknown(String),
}

/// Judges events under a policy.
#[derive(Debug, Clone)]
pub struct EventAuditor {
    policy: Policy,
}

impl EventAuditor {
    /// An auditor for `policy` (the same as the capture audit's).
    pub const fn new(policy: Policy) -> Self {
        Self { policy }
    }

    /// Whether any requirement is set at all.
    fn any_policy(&self) -> bool {
        let p = &self.policy;
        !p.client_min.is_empty()
            || !p.server_min.is_empty()
            || p.server_lm_level.is_some()
            || p.client_lm_level.is_some()
    }

    /// The record for an NTLM-relevant event; `None` for the others (they
    /// are counted, not listed).
    pub fn judge(&self, file: &str, e: &Event) -> Option<EventRecord> {
        let fam = family(e)?;
        let mut r = EventRecord {
            file: file.to_owned(),
            index: 0,
            record_id: e.record_id,
            event_id: e.event_id,
            provider: e.provider.clone(),
            channel: e.channel.clone(),
            time: (!e.time.is_empty()).then(|| e.time.clone()),
            computer: e.computer.clone(),
            kind: "ntlm-in-use",
            user: None,
            domain: None,
            workstation: None,
            ip: None,
            target: None,
            client: None,
            server: e.computer.clone(),
            lm_package: None,
            key_length: None,
            response_kind: None,
            status: None,
            negotiated_security: None,
            negotiated_security_names: None,
            required_security: None,
            required_security_names: None,
            verdict: "unknown",
            reason: String::new(),
            outcome: None,
            logged_outcome: None,
            evidence: Vec::new(),
            failure: None,
        };
        match fam {
            Family::Logon { failed } => self.logon(e, failed, &mut r),
            Family::Validation => validation(e, &mut r),
            Family::Block { server } => self.block(e, server, &mut r),
            Family::Restrict | Family::Audit24h2 => self.usage(e, fam, &mut r),
            Family::Sso => sso(e, &mut r),
            Family::LsaSrv => {
                r.kind = "ntlm-in-use";
                r.reason = "6038/6039 say that NTLM is in use on this server (once per boot) and name no client, version or key: counted, not judged".to_owned();
                r.evidence.push(Evidence {
                    field: "EventID",
                    value: e.event_id.to_string(),
                    meaning: "NTLM authentication is in use on this server".to_owned(),
                    basis: "documented",
                    source: Some(SRC_LSASRV),
                });
            }
        }
        r.client = r.workstation.clone().or_else(|| r.ip.clone());
        Some(r)
    }

    /// Who and from where, for the logon events.
    fn identity(e: &Event, r: &mut EventRecord) {
        r.user = present(e.field("TargetUserName"));
        r.domain = present(e.field("TargetDomainName"));
        r.workstation = present(e.field("WorkstationName"));
        r.ip = present(e.field("IpAddress"));
        for (field, v) in [("WorkstationName", &r.workstation), ("IpAddress", &r.ip)] {
            if let Some(v) = v {
                r.evidence.push(Evidence {
                    field,
                    value: v.clone(),
                    meaning: "the client".to_owned(),
                    basis: "logged",
                    source: None,
                });
            }
        }
    }

    fn logon(&self, e: &Event, failed: bool, r: &mut EventRecord) {
        r.kind = if failed { "logon-failure" } else { "logon" };
        Self::identity(e, r);
        r.status = present(e.field("Status"));
        let lm = e.field("LmPackageName").map(str::trim).map(str::to_owned);
        let key = e.field("KeyLength").and_then(number);
        r.lm_package = lm.clone();
        r.key_length = key;
        let anonymous = e.field("TargetUserSid").map(str::trim) == Some("S-1-5-7")
            || r.user.as_deref() == Some("ANONYMOUS LOGON");
        let mut kind = lm.as_deref().and_then(kind_of_package);
        if let Some(l) = &lm {
            let meaning = match kind {
                Some(ResponseKind::NtlmV2) => "an NTLMv2 response".to_owned(),
                Some(ResponseKind::NtlmV1) => format!(
                    "an NTLMv1 or NTLM2 session response (Windows logs both as NTLM V1); {SRC_V1}"
                ),
                Some(_) => "an LM response".to_owned(),
                None => "no NTLM version logged".to_owned(),
            };
            r.evidence.push(Evidence {
                field: "LmPackageName",
                value: l.clone(),
                meaning,
                basis: "documented",
                source: Some(SRC_4624),
            });
        }
        if anonymous && kind.is_some() {
            kind = Some(ResponseKind::Anonymous);
            r.evidence.push(Evidence {
                field: "TargetUserSid",
                value: e.field("TargetUserSid").unwrap_or("ANONYMOUS LOGON").trim().to_owned(),
                meaning: "an anonymous logon (S-1-5-7): no LM or NT response, whatever LmPackageName says".to_owned(),
                basis: "inferred",
                source: None,
            });
        }
        r.response_kind = kind.map(ResponseKind::as_str);
        // The flags the logged key length settles.
        let (known, unknown) = match key {
            Some(128) => (F::NEGOTIATE_128, F::empty()),
            Some(56) => (F::NEGOTIATE_56, F::empty()),
            _ => (F::empty(), F::NEGOTIATE_128.union(F::NEGOTIATE_56)),
        };
        if let Some(k) = key {
            let meaning = match k {
                128 => "a 128-bit session key: NEGOTIATE_128 was negotiated".to_owned(),
                56 => "a 56-bit session key: NEGOTIATE_56 without NEGOTIATE_128".to_owned(),
                0 => "no session key (anonymous logons, and logons whose key the server never held, such as relayed ones): whether NEGOTIATE_128 was negotiated is not logged".to_owned(),
                other => format!("{other}-bit session key (an unexpected length)"),
            };
            r.evidence.push(Evidence {
                field: "KeyLength",
                value: k.to_string(),
                meaning,
                basis: "inferred",
                source: None,
            });
        }
        if self.policy.server_lm_level.is_some() {
            r.evidence.push(Evidence {
                field: "TargetDomainName",
                value: r.domain.clone().unwrap_or_else(|| "-".to_owned()),
                meaning: "for a domain account the LmCompatibilityLevel that counts is the validating DC's, not this server's; for a local account it is this server's".to_owned(),
                basis: "documented",
                source: Some(SRC_DC_LEVEL),
            });
        }
        let Some(kind) = kind else {
            r.reason = format!(
                "the event logs no NTLM version (LmPackageName {}): the response kind is unknown",
                lm.as_deref().unwrap_or("absent")
            );
            return;
        };
        // No session key, no sealing: SEAL can only have been negotiated
        // when the logon has a key (or does not log its length).
        let j = self.judge_flags(known, unknown, kind, key != Some(0));
        self.set(r, j, kind);
        if failed && r.verdict != "breaks" {
            let _ = write!(
                r.reason,
                "; the logon itself failed (Status {})",
                r.status.as_deref().unwrap_or("-")
            );
        }
    }

    /// Runs the policy engine on the flags the event settles. A failure
    /// whose missing bits the event cannot settle is `Unknown`.
    ///
    /// `seal_possible`: whether SEAL may have been negotiated (no logon
    /// event logs it). Under a reading where a requirement applies only with
    /// SEAL (the KB239869 reading of 0x20000000), a failure that only a
    /// sealed session would meet is `Unknown` too.
    fn judge_flags(
        &self,
        known: F,
        unknown: F,
        kind: ResponseKind,
        seal_possible: bool,
    ) -> Judgement {
        let p = &self.policy;
        let sem = &p.semantics;
        // A charset is always negotiated; the rest is what was logged.
        let flags = known.union(F::NEGOTIATE_UNICODE).union(F::NEGOTIATE_NTLM);
        // Bits no logon event logs.
        let unlogged = unknown
            .union(F::NEGOTIATE_SIGN)
            .union(F::NEGOTIATE_SEAL)
            .union(F::NEGOTIATE_EXTENDED_SESSIONSECURITY);
        let server = ServerConfig {
            lm_level: p.server_lm_level.unwrap_or(LmCompatibilityLevel::L0),
            os: OsGeneration::Unspecified,
            ..ServerConfig::default()
        };
        let client = ClientConfig {
            lm_level: if kind == ResponseKind::NtlmV2 {
                LmCompatibilityLevel::L3
            } else {
                LmCompatibilityLevel::L1
            },
            os: OsGeneration::Unspecified,
            ..ClientConfig::default()
        };
        let mut undecided: Option<F> = None;
        let mut consider = |res: Result<(), Failure>| -> Option<Failure> {
            match res {
                Ok(()) => None,
                Err(f) if f.missing.intersects(unlogged) => {
                    let m = undecided.get_or_insert(F::empty());
                    *m = m.union(f.missing.intersection(unlogged));
                    None
                }
                Err(f) => Some(f),
            }
        };
        let server_flags =
            check_server_authenticate(flags, flags, kind, &server, p.server_min, sem).map(|_| ());
        if let Some(f) = consider(server_flags) {
            return Judgement::Breaks(f);
        }
        if let Some(f) = consider(check_client_challenge(flags, &client, p.client_min, sem)) {
            return Judgement::Breaks(f);
        }
        let mut with_seal: Option<F> = None;
        if seal_possible {
            let sealed = flags.union(F::NEGOTIATE_SEAL);
            let results = [
                check_server_authenticate(sealed, sealed, kind, &server, p.server_min, sem)
                    .map(|_| ()),
                check_client_challenge(sealed, &client, p.client_min, sem),
            ];
            for f in results.into_iter().filter_map(Result::err) {
                let m = with_seal.get_or_insert(F::empty());
                *m = m.union(f.missing.difference(F::NEGOTIATE_SEAL));
            }
        }
        // The response check is settled by the logged version, whatever the flags.
        if p.server_lm_level.is_some() {
            if let Err(f) = check_response_accepted(kind, &server) {
                return Judgement::Breaks(f.with_negotiated(flags));
            }
        }
        if let Some(bits) = with_seal.filter(|b| !b.is_empty()) {
            return Judgement::Unknown(format!(
                "if SEAL was negotiated the policy also requires {} (semantics {}), and the event \
                 does not log whether SEAL was negotiated",
                names(bits).join(" | "),
                sem.name()
            ));
        }
        match undecided {
            Some(bits) => Judgement::Unknown(format!(
                "the policy requires {} and the event does not log whether {} negotiated",
                names(bits).join(" | "),
                if bits.bits().count_ones() > 1 {
                    "they were"
                } else {
                    "it was"
                }
            )),
            None => Judgement::Ok(flags),
        }
    }

    fn set(&self, r: &mut EventRecord, j: Judgement, kind: ResponseKind) {
        match j {
            Judgement::Breaks(f) => {
                r.verdict = "breaks";
                r.reason = format!(
                    "{} refuses on receipt of {}: {}",
                    f.side,
                    f.stage.message(),
                    f.reason()
                );
                r.outcome = Some(OutcomeJson::failure_under(&f, &self.policy.semantics));
                r.failure = Some(f);
            }
            Judgement::Ok(flags) => {
                r.verdict = "ok";
                r.reason = if self.any_policy() {
                    "every requirement of the policy is met by what the event logs".to_owned()
                } else {
                    "no requirement set: nothing changes".to_owned()
                };
                r.outcome = Some(success(flags, kind));
            }
            Judgement::Unknown(why) => {
                r.verdict = "unknown";
                r.reason = why;
            }
        }
    }

    fn block(&self, e: &Event, server: bool, r: &mut EventRecord) {
        r.kind = "min-security-block";
        // Data names as OSSEM's event-4010.md/event-4011.md use them; the
        // positional fallbacks follow the message order seen in
        // microsoft/mssql-jdbc#1180 (PID, process name, negotiated flags,
        // minimum flags).
        let field = |names: &[&'static str], pos: usize| {
            first_of(e, names).or_else(|| {
                e.data
                    .get(pos)
                    .and_then(|(k, v)| present(Some(v)).map(|v| (leak_name(k), v)))
            })
        };
        let neg = field(&["NegotiatedSecurity", "NegotiatedFlags"], 2);
        let req = field(&["RequiredSecurity", "MinimumSecurity", "RequiredFlags"], 3);
        if let Some((_, p)) = first_of(e, &["ProcessName", "CallerProcessName"]) {
            r.evidence.push(Evidence {
                field: "ProcessName",
                value: p,
                meaning: "the calling process".to_owned(),
                basis: "logged",
                source: None,
            });
        }
        let side = if server { "server" } else { "client" };
        let value = |x: &Option<(&'static str, String)>| x.as_ref().and_then(|(_, v)| number(v));
        let (Some(n), Some(q)) = (value(&neg), value(&req)) else {
            r.reason =
                "the event does not carry NegotiatedSecurity and RequiredSecurity as numbers"
                    .to_owned();
            return;
        };
        let nf = F::from_bits_retain(n);
        let qf = F::from_bits_retain(q);
        r.negotiated_security = Some(hex32(n));
        r.negotiated_security_names = Some(names(nf));
        r.required_security = Some(hex32(q));
        r.required_security_names = Some(names(qf));
        for ((f, v), what) in [
            (
                neg.unwrap_or(("NegotiatedSecurity", String::new())),
                "the flags negotiated",
            ),
            (
                req.unwrap_or(("RequiredSecurity", String::new())),
                "the minimum in force",
            ),
        ] {
            let bits = number(&v).unwrap_or(0);
            let list = names(F::from_bits_retain(bits));
            r.evidence.push(Evidence {
                field: f,
                value: v,
                meaning: format!(
                    "{what} on the {side}: {}",
                    if list.is_empty() {
                        "no bit".to_owned()
                    } else {
                        list.join(" | ")
                    }
                ),
                basis: "documented",
                source: Some(SRC_BLOCK),
            });
        }
        let missing = qf.difference(nf);
        r.evidence.push(Evidence {
            field: "RequiredSecurity",
            value: hex32(missing.bits()),
            meaning: format!(
                "required and not negotiated: {}",
                if missing.is_empty() {
                    "nothing (the block came from a rule the masks alone do not show)".to_owned()
                } else {
                    names(missing).join(" | ")
                }
            ),
            basis: "inferred",
            source: None,
        });
        let p = &self.policy;
        let sem = &p.semantics;
        let check = |client_min: MinSessionSecurity, server_min: MinSessionSecurity| {
            ntlm_policy::check_negotiated(nf, client_min, server_min, sem)
        };
        let logged = MinSessionSecurity::from_registry(q);
        let none = MinSessionSecurity::NONE;
        let as_logged = if server {
            check(none, logged)
        } else {
            check(logged, none)
        };
        r.logged_outcome = Some(match &as_logged {
            Ok(()) => success(nf, ResponseKind::Unknown),
            Err(f) => OutcomeJson::failure_under(f, sem),
        });
        let what_if = if server {
            check(none, p.server_min)
        } else {
            check(p.client_min, none)
        };
        match what_if {
            Ok(()) => {
                r.verdict = "ok";
                r.reason = format!(
                    "blocked by the {side}'s minimum {} when logged; the negotiated flags meet the what-if Ntlm{}Sec {}",
                    hex32(q),
                    if server { "MinServer" } else { "MinClient" },
                    hex32(if server {
                        p.server_min.bits()
                    } else {
                        p.client_min.bits()
                    })
                );
                r.outcome = Some(success(nf, ResponseKind::Unknown));
            }
            Err(f) => {
                r.verdict = "breaks";
                r.reason = format!(
                    "{} refuses: missing {}",
                    f.side,
                    names(f.missing).join(" | ")
                );
                r.outcome = Some(OutcomeJson::failure_under(&f, sem));
                r.failure = Some(f);
            }
        }
    }

    /// Restrict-NTLM audit (8001–8006) and the 24H2 audit events (4020–4023,
    /// 4030–4033): NTLM use; judged only if an NTLM version is carried.
    fn usage(&self, e: &Event, fam: Family, r: &mut EventRecord) {
        r.kind = "ntlm-audit";
        r.user = first_of(
            e,
            &[
                "UserName",
                "ClientUserName",
                "TargetUserName",
                "AccountName",
            ],
        )
        .map(|(_, v)| v);
        r.domain =
            first_of(e, &["DomainName", "ClientDomainName", "TargetDomainName"]).map(|(_, v)| v);
        r.workstation = first_of(
            e,
            &[
                "Workstation",
                "WorkstationName",
                "ClientWorkstationName",
                "ClientMachineName",
            ],
        )
        .map(|(_, v)| v);
        r.ip = first_of(
            e,
            &["ClientIP", "ClientIpAddress", "IpAddress", "ClientAddress"],
        )
        .map(|(_, v)| v);
        r.target = first_of(e, &["TargetName", "ServerName", "TargetServerName"]).map(|(_, v)| v);
        let source = if fam == Family::Restrict {
            SRC_RESTRICT
        } else {
            SRC_24H2
        };
        r.evidence.push(Evidence {
            field: "EventID",
            value: e.event_id.to_string(),
            meaning: match e.event_id {
                8001 => "outgoing NTLM from this host (Restrict NTLM audit)",
                8002 => "incoming NTLM to this server (Restrict NTLM audit)",
                8003 | 8004 => {
                    "NTLM authentication in the domain seen by this DC (Restrict NTLM audit)"
                }
                4020 | 4021 => "this host authenticated to a remote resource with NTLM",
                4022 | 4023 => "a remote client authenticated to this host with NTLM",
                _ => "NTLM in use",
            }
            .to_owned(),
            basis: "documented",
            source: Some(source),
        });
        let version = first_of(
            e,
            &[
                "NtlmVersion",
                "NTLMVersion",
                "LmPackageName",
                "NtlmProtocolVersion",
                "PackageVersion",
            ],
        );
        match version
            .as_ref()
            .and_then(|(f, v)| kind_of_package(v).map(|k| (*f, v, k)))
        {
            Some((field, v, kind)) => {
                r.lm_package = Some(v.clone());
                r.response_kind = Some(kind.as_str());
                r.evidence.push(Evidence {
                    field,
                    value: v.clone(),
                    meaning: format!("the NTLM version: {}", kind.as_str()),
                    basis: "inferred",
                    source: None,
                });
                let both = F::NEGOTIATE_128.union(F::NEGOTIATE_56);
                let j = self.judge_flags(F::empty(), both, kind, true);
                self.set(r, j, kind);
            }
            None => {
                r.reason = "the event records NTLM use but not the NTLM version, key length or flags a verdict needs: pair it with 4624 on the server or 4776 on the DC".to_owned();
            }
        }
    }
}

/// The name of a positional field (`Data`, `Data_1`, ...): a short fixed
/// label, since evidence names are static.
fn leak_name(k: &str) -> &'static str {
    if k.starts_with("Data") {
        "Data"
    } else {
        "field"
    }
}

fn validation(e: &Event, r: &mut EventRecord) {
    r.kind = "credential-validation";
    r.user = present(e.field("TargetUserName"));
    r.workstation = present(e.field("Workstation"));
    r.status = present(e.field("Status"));
    r.evidence.push(Evidence {
        field: "EventID",
        value: "4776".to_owned(),
        meaning: "this host (a DC, or the server itself for local accounts) validated NTLM credentials for this account from this workstation".to_owned(),
        basis: "documented",
        source: Some(SRC_4776),
    });
    if let Some(s) = &r.status {
        r.evidence.push(Evidence {
            field: "Status",
            value: s.clone(),
            meaning: if number(s) == Some(0) {
                "validated".to_owned()
            } else {
                "validation failed".to_owned()
            },
            basis: "logged",
            source: None,
        });
    }
    r.reason = "4776 logs no NTLM version, key length or flags: counted as NTLM use; the 4624 on the target server carries the version".to_owned();
}

fn sso(e: &Event, r: &mut EventRecord) {
    r.kind = "ntlmv1-derived-sso";
    r.user = first_of(e, &["UserName", "AccountName", "TargetUserName"]).map(|(_, v)| v);
    r.domain = first_of(e, &["DomainName", "TargetDomainName"]).map(|(_, v)| v);
    r.target = first_of(e, &["TargetName", "ServerName"]).map(|(_, v)| v);
    r.response_kind = Some(ResponseKind::NtlmV1.as_str());
    r.evidence.push(Evidence {
        field: "EventID",
        value: e.event_id.to_string(),
        meaning: if e.event_id == 4024 {
            "NTLMv1-derived credentials used for single sign-on (audit mode)".to_owned()
        } else {
            "NTLMv1-derived credentials for single sign-on blocked (enforce mode)".to_owned()
        },
        basis: "documented",
        source: Some(SRC_SSO),
    });
    r.reason = "governed by BlockNtlmv1SSO (KB5066470), not by the minimum-security masks or LmCompatibilityLevel this audit applies".to_owned();
}

fn success(flags: F, kind: ResponseKind) -> OutcomeJson {
    OutcomeJson::Success(SuccessJson {
        result: "success",
        negotiated_flags: hex32(flags.bits()),
        negotiated_flags_names: names(flags),
        response_kind: kind.as_str(),
        key_strength_bits: ntlm_policy::key_strength_bits(flags),
        signing: flags.contains(F::NEGOTIATE_SIGN),
        sealing: flags.contains(F::NEGOTIATE_SEAL),
        mic: false,
        exported_session_key: None,
        anonymous: kind == ResponseKind::Anonymous,
        weak_key_under_128: ntlm_policy::weak_key_under_128(flags),
    })
}

/// Reads one event log, judges its NTLM-relevant events and counts all of
/// them in `summary`. Each record goes to `record` as soon as it is judged
/// (numbered after the ones before), each problem to `problem`; memory
/// does not grow with the file. A file whose header is unusable, or that
/// has no NTLM-relevant event, is a problem, not an error; only an I/O
/// error ends the audit.
pub fn audit_file(
    path: &str,
    format: ntlm_events::Format,
    file: impl std::io::Read,
    auditor: &EventAuditor,
    summary: &mut EventSummary,
    record: &mut dyn FnMut(EventRecord),
    problem: &mut dyn FnMut(ProblemRecord),
) -> Result<(), std::io::Error> {
    let layer = format.name();
    let mut ntlm = 0u64;
    let res = ntlm_events::read_filtered(format, &[], file, &wanted, &mut |item| match item {
        ntlm_events::Item::Other { event_id, .. } => summary.count_read(event_id),
        ntlm_events::Item::Event(e) => {
            summary.count_read(e.event_id);
            if let Some(mut r) = auditor.judge(path, &e) {
                ntlm += 1;
                r.index = summary.events + 1;
                summary.add(&r);
                record(r);
            }
        }
        ntlm_events::Item::Problem(p) => problem(ProblemRecord {
            file: path.to_owned(),
            packet: None,
            layer,
            message: p.to_string(),
        }),
    });
    let stats = match res {
        Ok(s) => s,
        Err(ntlm_events::Error::Io(e)) => return Err(e),
        Err(e) => {
            problem(ProblemRecord {
                file: path.to_owned(),
                packet: None,
                layer,
                message: e.to_string(),
            });
            ntlm_events::Stats {
                format,
                events: 0,
                problems: 1,
                bytes: 0,
            }
        }
    };
    if stats.events > 0 && ntlm == 0 {
        problem(ProblemRecord {
            file: path.to_owned(),
            packet: None,
            layer,
            message: format!(
                "none of its {} event(s) is about NTLM (4624/4625 with NTLM, 4776, 4010/4011, 4020-4033, 8001-8006, 6038/6039): nothing to judge",
                stats.events
            ),
        });
    }
    summary.event_files.push(EventFileJson {
        file: path.to_owned(),
        format: format.name(),
        records: stats.events,
        ntlm_events: ntlm,
        bytes: stats.bytes,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ntlm_events::{Item, read};

    fn event(id: u32, provider: &str, data: &[(&str, &str)]) -> Event {
        Event {
            record_id: Some(1),
            event_id: id,
            provider: provider.to_owned(),
            channel: String::new(),
            time: "2024-05-01T10:00:00Z".to_owned(),
            computer: "srv.example.com".to_owned(),
            data: data
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    fn policy(server_min: u32, level: Option<u8>) -> EventAuditor {
        EventAuditor::new(Policy {
            server_min: MinSessionSecurity::from_registry(server_min),
            server_lm_level: level.and_then(LmCompatibilityLevel::from_u8),
            ..Policy::default()
        })
    }

    const SEC: &str = "Microsoft-Windows-Security-Auditing";

    fn logon(lm: &str, key: &str, user: &str) -> Event {
        event(
            4624,
            SEC,
            &[
                ("TargetUserSid", "S-1-5-21-1-2-3-1001"),
                ("TargetUserName", user),
                ("TargetDomainName", "CORP"),
                ("AuthenticationPackageName", "NTLM"),
                ("WorkstationName", "PC1"),
                ("LmPackageName", lm),
                ("KeyLength", key),
                ("IpAddress", "192.0.2.7"),
            ],
        )
    }

    #[test]
    fn ntlmv1_breaks_at_level_5_and_names_the_dc_level() {
        let r = policy(0, Some(5))
            .judge("f", &logon("NTLM V1", "128", "alice"))
            .unwrap();
        assert_eq!(r.verdict, "breaks");
        assert_eq!(r.failure.unwrap().rule.id, "lm-refuse-ntlmv1");
        assert_eq!(r.client.as_deref(), Some("PC1"));
        assert!(
            r.evidence
                .iter()
                .any(|e| e.meaning.contains("validating DC"))
        );
        let r = policy(0, Some(5))
            .judge("f", &logon("NTLM V2", "128", "alice"))
            .unwrap();
        assert_eq!(r.verdict, "ok");
    }

    #[test]
    fn key_length_settles_the_128_bit_question_and_zero_does_not() {
        // The strict reading: 0x20000000 requires NEGOTIATE_128 whatever SEAL is.
        let p = EventAuditor::new(Policy {
            server_min: MinSessionSecurity::from_registry(0x2000_0000),
            semantics: ntlm_policy::Semantics::MS_NLMP,
            ..Policy::default()
        });
        assert_eq!(
            p.judge("f", &logon("NTLM V2", "128", "a")).unwrap().verdict,
            "ok"
        );
        let r = p.judge("f", &logon("NTLM V2", "56", "a")).unwrap();
        assert_eq!(r.verdict, "breaks");
        assert_eq!(names(r.failure.unwrap().missing), vec!["NEGOTIATE_128"]);
        let r = p.judge("f", &logon("NTLM V2", "0", "a")).unwrap();
        assert_eq!(r.verdict, "unknown");
        assert!(r.reason.contains("NEGOTIATE_128"), "{}", r.reason);
        assert!(
            r.evidence
                .iter()
                .any(|e| e.field == "KeyLength" && e.meaning.contains("no session key"))
        );
        // The default reading: 0x20000000 applies only with SEAL, which no
        // logon event logs; a logon without a session key cannot seal.
        let p = policy(0x2000_0000, None);
        assert_eq!(
            p.judge("f", &logon("NTLM V2", "128", "a")).unwrap().verdict,
            "ok"
        );
        let r = p.judge("f", &logon("NTLM V2", "56", "a")).unwrap();
        assert_eq!(r.verdict, "unknown");
        assert!(r.reason.contains("if SEAL was negotiated"), "{}", r.reason);
        assert!(r.reason.contains("NEGOTIATE_128"), "{}", r.reason);
        assert_eq!(
            p.judge("f", &logon("NTLM V2", "0", "a")).unwrap().verdict,
            "ok"
        );
        // Signing is never logged: a requirement for it is unknown.
        let r = policy(0x10, None)
            .judge("f", &logon("NTLM V2", "128", "a"))
            .unwrap();
        assert_eq!(r.verdict, "unknown");
    }

    #[test]
    fn anonymous_and_unversioned_logons() {
        let mut e = logon("NTLM V1", "0", "ANONYMOUS LOGON");
        e.data[0].1 = "S-1-5-7".to_owned();
        let r = policy(0, Some(5)).judge("f", &e).unwrap();
        assert_eq!(r.response_kind, Some("ANONYMOUS"));
        assert_eq!(r.verdict, "ok");
        let r = policy(0, Some(5))
            .judge("f", &logon("-", "0", "bob"))
            .unwrap();
        assert_eq!(r.verdict, "unknown");
        assert!(r.reason.contains("no NTLM version"));
        // Kerberos logons are not listed.
        let mut k = logon("-", "0", "bob");
        k.data[3].1 = "Kerberos".to_owned();
        assert!(policy(0, None).judge("f", &k).is_none());
    }

    /// 4011 with the Data names OSSEM's event-4011.md uses (CallerPID,
    /// ProcessName, NegotiatedSecurity, RequiredSecurity) in the order of
    /// the message rendered in microsoft/mssql-jdbc#1180, with its values.
    #[test]
    fn min_server_security_block_from_mssql_jdbc_1180() {
        let xml = r#"<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-NTLM" Guid="{AC43300D-5FCC-4800-8E99-1BD3F85F0320}"/><EventID>4011</EventID><TimeCreated SystemTime="2019-11-08T10:00:00.0000000Z"/><EventRecordID>42</EventRecordID><Channel>Microsoft-Windows-NTLM/Operational</Channel><Computer>sql.example.com</Computer></System><EventData><Data Name="CallerPID">3360</Data><Data Name="ProcessName">C:\Program Files\Microsoft SQL Server\bin\sqlservr.exe</Data><Data Name="NegotiatedSecurity">0x2818205</Data><Data Name="RequiredSecurity">0x20080000</Data></EventData></Event>"#;
        let mut ev = Vec::new();
        read(xml.as_bytes(), &mut |i| {
            if let Item::Event(e) = i {
                ev.push(e);
            }
        })
        .unwrap();
        let r = policy(0, None).judge("f", &ev[0]).unwrap();
        assert_eq!(r.negotiated_security.as_deref(), Some("0x02818205"));
        assert_eq!(r.required_security.as_deref(), Some("0x20080000"));
        assert_eq!(r.verdict, "ok", "no what-if minimum");
        let logged = serde_json::to_value(&r.logged_outcome).unwrap();
        assert_eq!(logged["result"], "failure");
        assert_eq!(logged["side"], "server");
        let missing: Vec<&str> = logged["missing_names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        // Under the default reading 0x20000000 asks nothing without SEAL:
        // ESS is what this server missed.
        assert_eq!(missing, ["NEGOTIATE_EXTENDED_SESSIONSECURITY"]);
        // What-if 0x20000000: the field result (accepted) under the default
        // reading; a break for want of 128 under the strict one.
        let r = policy(0x2000_0000, None).judge("f", &ev[0]).unwrap();
        assert_eq!(r.verdict, "ok");
        let strict = EventAuditor::new(Policy {
            server_min: MinSessionSecurity::from_registry(0x2000_0000),
            semantics: ntlm_policy::Semantics::MS_NLMP,
            ..Policy::default()
        });
        let r = strict.judge("f", &ev[0]).unwrap();
        assert_eq!(r.verdict, "breaks");
        assert_eq!(names(r.failure.unwrap().missing), vec!["NEGOTIATE_128"]);
    }
}
