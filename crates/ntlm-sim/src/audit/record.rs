//! The records an audit writes: one per exchange ([`ExchangeRecord`]) and
//! one per problem ([`ProblemRecord`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ntlm_capture::Problem;
use ntlm_policy::Failure;
use ntlm_wire::{NegotiateFlags, ResponseKind};
use serde::Serialize;

use crate::outcome::{CertaintyJson, FailureJson, OutcomeJson, names};
use crate::profiles::AssumedFacts;

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
        let mut s = self
            .failure
            .as_ref()
            .map_or_else(|| "ok".to_owned(), |f| format!("BREAKS: {}", f.summary()));
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

/// The host part of an `address:port` endpoint (IPv6 brackets removed).
pub fn host(endpoint: &str) -> &str {
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

pub(super) fn result_json(r: &ntlm_capture::ObservedResult) -> ResultJson {
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

/// Most exchange rows in the human output (breaking ones first).
pub const HUMAN_ROWS: usize = 200;
