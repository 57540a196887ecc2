//! The `--json` model of a decoded message (docs/CLI.md, `ntlmsim decode`).
//!
//! The keys listed in the contract are stable: every message has `type`,
//! `flags` (`"0x%08x"`), `flags_names`, `version` and `length`; each message
//! type adds its own fields. Bytes are lowercase hex; strings from the wire
//! are decoded per charset, and bytes that cannot be decoded are given as hex
//! under a `*_raw` key (with the reason under `*_error`). A payload field
//! that is absent or empty (`Len` 0) is `null`. More keys may be added; none
//! is ever removed.

use ntlm_wire::{
    AuthenticateMessage, AvPairs, AvValue, ChallengeMessage, Charset, Message, NegotiateMessage,
    Version,
};
use serde::Serialize;
use serde_json::Value;

use crate::input::{InputForm, Source};
use crate::inspect::{self, AvView, Defect, KindText, WireText};
use ntlm_gss::spnego::SpnegoInfo;
use ntlm_wire::layout;

/// One decoded message.
#[derive(Debug, Clone, Serialize)]
pub struct MessageJson {
    /// `NEGOTIATE`, `CHALLENGE` or `AUTHENTICATE`.
    #[serde(rename = "type")]
    pub message_type: &'static str,
    /// NegotiateFlags as `0x%08x`.
    pub flags: String,
    /// Names of the set flag bits, lowest first.
    pub flags_names: Vec<&'static str>,
    /// The Version, when the header has the slot and NEGOTIATE_VERSION is set.
    pub version: Option<VersionJson>,
    /// The Version slot's bytes whenever the header has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_slot: Option<String>,
    /// Length of the message bytes.
    pub length: usize,
    /// Length of the fixed header as laid out in this message.
    pub header_length: usize,
    /// The fields of the message type.
    #[serde(flatten)]
    pub body: BodyJson,
    /// Every defect found, nested structures included.
    pub defects: Vec<Defect>,
    /// How the message was given, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<InputJson>,
}

/// VERSION (MS-NLMP 2.2.2.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VersionJson {
    /// ProductMajorVersion.
    pub major: u8,
    /// ProductMinorVersion.
    pub minor: u8,
    /// ProductBuild.
    pub build: u16,
    /// NTLMRevisionCurrent.
    pub revision: u8,
}

impl From<Version> for VersionJson {
    fn from(v: Version) -> Self {
        Self {
            major: v.major,
            minor: v.minor,
            build: v.build,
            revision: v.revision,
        }
    }
}

/// The type-specific fields.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum BodyJson {
    /// NEGOTIATE_MESSAGE.
    Negotiate(NegotiateJson),
    /// CHALLENGE_MESSAGE.
    Challenge(ChallengeJson),
    /// AUTHENTICATE_MESSAGE.
    Authenticate(Box<AuthenticateJson>),
}

/// A string field: decoded text, or hex plus the reason.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WireString {
    /// Decoded text; `None` when absent or undecodable.
    pub text: Option<String>,
    /// Hex of undecodable bytes.
    pub raw: Option<String>,
    /// Why they could not be decoded.
    pub error: Option<String>,
}

impl WireString {
    fn new(b: Option<&[u8]>, cs: Charset) -> Self {
        let Some(b) = b.filter(|b| !b.is_empty()) else {
            return Self::default();
        };
        match inspect::wire_text(b, cs) {
            WireText { text: Some(t), .. } => Self {
                text: Some(t),
                raw: None,
                error: None,
            },
            WireText { error, .. } => Self {
                text: None,
                raw: Some(inspect::hex(b)),
                error: error.map(|e| e.to_string()),
            },
        }
    }
}

/// NEGOTIATE_MESSAGE fields (MS-NLMP 2.2.1.1); strings are OEM.
#[derive(Debug, Clone, Serialize)]
pub struct NegotiateJson {
    /// DomainName, `null` when absent.
    pub domain: Option<String>,
    /// DomainName as hex when it is not decodable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_raw: Option<String>,
    /// Why DomainName is not decodable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_error: Option<String>,
    /// WorkstationName, `null` when absent.
    pub workstation: Option<String>,
    /// WorkstationName as hex when it is not decodable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workstation_raw: Option<String>,
    /// Why WorkstationName is not decodable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workstation_error: Option<String>,
}

/// CHALLENGE_MESSAGE fields (MS-NLMP 2.2.1.2).
#[derive(Debug, Clone, Serialize)]
pub struct ChallengeJson {
    /// ServerChallenge.
    pub server_challenge: String,
    /// TargetName, `null` when absent.
    pub target_name: Option<String>,
    /// TargetName as hex when it is not decodable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_name_raw: Option<String>,
    /// Why TargetName is not decodable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_name_error: Option<String>,
    /// The AV pairs before MsvAvEOL, `null` when TargetInfo is absent.
    pub target_info: Option<Vec<AvPairJson>>,
    /// TargetInfo length in bytes, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_info_length: Option<usize>,
    /// Bytes after MsvAvEOL, when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_info_trailing: Option<String>,
    /// Defects of the TargetInfo list.
    pub target_info_defects: Vec<Defect>,
    /// Reserved (8 bytes), when the header has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved: Option<String>,
}

/// AUTHENTICATE_MESSAGE fields (MS-NLMP 2.2.1.3).
#[derive(Debug, Clone, Serialize)]
pub struct AuthenticateJson {
    /// DomainName.
    pub domain: Option<String>,
    /// DomainName as hex when it is not decodable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_raw: Option<String>,
    /// Why DomainName is not decodable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_error: Option<String>,
    /// UserName.
    pub user: Option<String>,
    /// UserName as hex when it is not decodable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_raw: Option<String>,
    /// Why UserName is not decodable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_error: Option<String>,
    /// Workstation.
    pub workstation: Option<String>,
    /// Workstation as hex when it is not decodable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workstation_raw: Option<String>,
    /// Why Workstation is not decodable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workstation_error: Option<String>,
    /// LmChallengeResponse.
    pub lm_response: Option<String>,
    /// NtChallengeResponse.
    pub nt_response: Option<String>,
    /// `ANONYMOUS`, `LM`, `NTLMv1`, `NTLM2_SESSION`, `NTLMv2` or `UNKNOWN`.
    pub response_kind: &'static str,
    /// MIC, when the header has the field.
    pub mic: Option<String>,
    /// Offset of the MIC (72), when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mic_offset: Option<usize>,
    /// EncryptedRandomSessionKey.
    pub encrypted_session_key: Option<String>,
    /// The NTLMv2 response, for `NTLMv2` responses that decode.
    pub ntlmv2: Option<NtlmV2Json>,
    /// Why an NT response longer than 24 bytes does not decode as NTLMv2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ntlmv2_error: Option<String>,
    /// The LMv2 response next to an NTLMv2 response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lmv2: Option<LmV2Json>,
    /// The client challenge of an NTLM2 session response (first 8 bytes of the LM response).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ntlm2_session_client_challenge: Option<String>,
}

/// NTLMv2_RESPONSE (MS-NLMP 2.2.2.8) and its client challenge (2.2.2.7).
#[derive(Debug, Clone, Serialize)]
pub struct NtlmV2Json {
    /// NTProofStr.
    pub nt_proof_str: String,
    /// TimeStamp (FILETIME).
    pub timestamp: u64,
    /// TimeStamp as RFC 3339, `null` past year 9999.
    pub timestamp_time: Option<String>,
    /// ChallengeFromClient.
    pub client_challenge: String,
    /// The AV pairs before MsvAvEOL.
    pub av_pairs: Vec<AvPairJson>,
    /// Bytes after MsvAvEOL (MS-NLMP 3.3.2 puts four zero bytes there).
    pub trailing: String,
    /// RespType.
    pub resp_type: u8,
    /// HiRespType.
    pub hi_resp_type: u8,
    /// The whole NTLMv2_CLIENT_CHALLENGE ("temp") as received.
    pub blob: String,
    /// Defects of the response.
    pub defects: Vec<Defect>,
}

/// LMv2_RESPONSE (MS-NLMP 2.2.2.4).
#[derive(Debug, Clone, Serialize)]
pub struct LmV2Json {
    /// Response.
    pub response: String,
    /// ChallengeFromClient.
    pub client_challenge: String,
}

/// One AV_PAIR (MS-NLMP 2.2.2.1).
#[derive(Debug, Clone, Serialize)]
pub struct AvPairJson {
    /// AvId.
    pub id: u16,
    /// MS-NLMP name (`MsvAvNbDomainName`...), `null` for undefined ids.
    pub name: Option<&'static str>,
    /// The value: text, `0x%08x` flags, FILETIME number, or hex.
    pub value: Value,
    /// Hex of a value that could not be decoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_raw: Option<String>,
    /// MsvAvTimestamp as RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_time: Option<String>,
    /// Names of the MsvAvFlags bits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_names: Option<Vec<String>>,
    /// MsvAvSingleHost decoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub single_host: Option<SingleHostJson>,
    /// Why the value is not valid for its id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Offset of the pair in the message.
    pub offset: usize,
    /// AvLen.
    pub length: usize,
}

/// Single_Host_Data (MS-NLMP 2.2.2.2).
#[derive(Debug, Clone, Serialize)]
pub struct SingleHostJson {
    /// Size.
    pub size: u32,
    /// Z4.
    pub z4: u32,
    /// CustomData.
    pub custom_data: String,
    /// MachineID.
    pub machine_id: String,
    /// Bytes after MachineID (80-byte form: Reserved).
    pub rest: String,
}

/// How a message was given.
#[derive(Debug, Clone, Serialize)]
pub struct InputJson {
    /// `argument`, `file`, `stdin` or `capture`.
    pub source: &'static str,
    /// The file name for `file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `raw`, `hex` or `base64`.
    pub encoding: &'static str,
    /// The HTTP header name before the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_header: Option<String>,
    /// The scheme before the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// The SPNEGO wrapper, when one was removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spnego: Option<SpnegoJson>,
    /// Where in a capture the message was found (source `capture`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture: Option<CaptureJson>,
}

/// Where in a pcap/pcapng capture a message was found.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureJson {
    /// 1-based exchange number, in the order `ntlmsim audit` numbers the
    /// exchanges of the file.
    pub exchange: usize,
    /// 1-based packet (frame) number, as Wireshark numbers them.
    pub packet: u64,
    /// Capture time of the packet, RFC 3339.
    pub time: String,
    /// `HTTP`, `SMB1`, `SMB2`, `DCE/RPC`, `LDAP-SASL`, `LDAP-sicily` or `scan`.
    pub carrier: &'static str,
    /// `raw` or `spnego`.
    pub wrapping: &'static str,
    /// The client endpoint, `ip:port`.
    pub client: String,
    /// The server endpoint, `ip:port`.
    pub server: String,
    /// `client` or `server`: who sent the message.
    pub sender: &'static str,
}

/// The SPNEGO wrapper of a message.
#[derive(Debug, Clone, Serialize)]
pub struct SpnegoJson {
    /// `NegTokenInit` or `NegTokenResp`.
    pub token: &'static str,
    /// Whether a GSS-API InitialContextToken framed it.
    pub gss_framed: bool,
    /// NegTokenInit mechTypes.
    pub mech_types: Vec<String>,
    /// NegTokenResp negState.
    pub neg_state: Option<String>,
    /// NegTokenResp supportedMech.
    pub supported_mech: Option<String>,
    /// Whether a mechListMIC is present.
    pub mech_list_mic: bool,
    /// Offset of the NTLM message in the SPNEGO token.
    pub token_offset: Option<usize>,
}

impl From<&SpnegoInfo> for SpnegoJson {
    fn from(s: &SpnegoInfo) -> Self {
        Self {
            token: s.kind.name(),
            gss_framed: s.gss_framed,
            mech_types: s.mech_types.clone(),
            neg_state: s.neg_state.map(|n| n.to_string()),
            supported_mech: s.supported_mech.clone(),
            mech_list_mic: s.mech_list_mic,
            token_offset: s.token_offset,
        }
    }
}

/// The `input` object for a message from `source` in `form`.
pub fn input(source: &Source, form: &InputForm) -> InputJson {
    let (source, path) = match source {
        Source::Argument => ("argument", None),
        Source::File(p) => ("file", Some(p.clone())),
        Source::Stdin => ("stdin", None),
    };
    InputJson {
        source,
        path,
        encoding: form.encoding.name(),
        http_header: form.http_header.clone(),
        scheme: form.scheme.clone(),
        spnego: form.spnego.as_ref().map(SpnegoJson::from),
        capture: None,
    }
}

/// The JSON model of a parsed message; `raw` are the bytes it was parsed from.
pub fn message(raw: &[u8], msg: &Message<'_>) -> MessageJson {
    let flags = msg.flags();
    let (version, slot, header_length, body) = match msg {
        Message::Negotiate(m) => (
            m.version_if_negotiated(),
            m.version,
            m.header_len(),
            BodyJson::Negotiate(negotiate(m)),
        ),
        Message::Challenge(m) => (
            m.version_if_negotiated(),
            m.version,
            m.header_len(),
            BodyJson::Challenge(challenge(raw, m)),
        ),
        Message::Authenticate(m) => (
            m.version_if_negotiated(),
            m.version,
            m.header_len(),
            BodyJson::Authenticate(Box::new(authenticate(raw, m))),
        ),
    };
    MessageJson {
        message_type: msg.message_type().name(),
        flags: inspect::flags_hex(flags.bits()),
        flags_names: inspect::flag_names(flags),
        version: version.map(VersionJson::from),
        version_slot: slot.map(|v| inspect::hex(&v.to_bytes())),
        length: raw.len(),
        header_length,
        body,
        defects: inspect::defects(raw, msg),
        input: None,
    }
}

fn negotiate(m: &NegotiateMessage<'_>) -> NegotiateJson {
    // MS-NLMP 2.2.1.1: DomainName and WorkstationName are OEM strings.
    let d = WireString::new(m.domain.as_deref(), Charset::Oem);
    let w = WireString::new(m.workstation.as_deref(), Charset::Oem);
    NegotiateJson {
        domain: d.text,
        domain_raw: d.raw,
        domain_error: d.error,
        workstation: w.text,
        workstation_raw: w.raw,
        workstation_error: w.error,
    }
}

fn challenge(raw: &[u8], m: &ChallengeMessage<'_>) -> ChallengeJson {
    let cs = inspect::charset(m.flags);
    let name = WireString::new(m.target_name.as_deref(), cs);
    let base =
        inspect::BufferFields::read(raw, layout::challenge::TARGET_INFO).map_or(0, |b| b.start());
    let info = m.target_info.as_ref();
    ChallengeJson {
        server_challenge: inspect::hex(&m.server_challenge),
        target_name: name.text,
        target_name_raw: name.raw,
        target_name_error: name.error,
        target_info: info.map(|l| av_pairs(l, base)),
        target_info_length: info.map(AvPairs::len),
        target_info_trailing: info
            .map(AvPairs::trailing)
            .filter(|t| !t.is_empty())
            .map(inspect::hex),
        target_info_defects: info
            .map(|l| inspect::av_defects("TargetInfo", l, base))
            .unwrap_or_default(),
        reserved: m.reserved.map(|r| inspect::hex(&r)),
    }
}

fn authenticate(raw: &[u8], m: &AuthenticateMessage<'_>) -> AuthenticateJson {
    let cs = inspect::charset(m.flags);
    let d = WireString::new(m.domain.as_deref(), cs);
    let u = WireString::new(m.user.as_deref(), cs);
    let w = WireString::new(m.workstation.as_deref(), cs);
    let v2 = inspect::ntlmv2(raw, m);
    let (ntlmv2, ntlmv2_error) = match &v2 {
        Some(view) => match &view.response {
            Ok(r) => {
                let c = &r.client_challenge;
                let base = view.av_pairs_offset();
                (
                    Some(NtlmV2Json {
                        nt_proof_str: inspect::hex(&r.nt_proof_str),
                        timestamp: c.timestamp.ticks(),
                        timestamp_time: c.timestamp.to_rfc3339(),
                        client_challenge: inspect::hex(&c.challenge_from_client),
                        av_pairs: av_pairs(&c.av_pairs, base),
                        trailing: inspect::hex(c.av_pairs.trailing()),
                        resp_type: c.resp_type,
                        hi_resp_type: c.hi_resp_type,
                        blob: inspect::hex(r.blob),
                        defects: inspect::ntlmv2_defects(view, m.mic.is_some()),
                    }),
                    None,
                )
            }
            Err(e) => (None, Some(e.to_string())),
        },
        None => (None, None),
    };
    AuthenticateJson {
        domain: d.text,
        domain_raw: d.raw,
        domain_error: d.error,
        user: u.text,
        user_raw: u.raw,
        user_error: u.error,
        workstation: w.text,
        workstation_raw: w.raw,
        workstation_error: w.error,
        lm_response: non_empty_hex(m.lm_response.as_deref()),
        nt_response: non_empty_hex(m.nt_response.as_deref()),
        response_kind: m.response_kind().as_str(),
        mic: m.mic.map(|x| inspect::hex(&x)),
        mic_offset: m.mic.map(|_| ntlm_wire::MIC_OFFSET),
        encrypted_session_key: non_empty_hex(m.encrypted_random_session_key.as_deref()),
        ntlmv2,
        ntlmv2_error,
        lmv2: inspect::lmv2(m).map(|l| LmV2Json {
            response: inspect::hex(&l.response),
            client_challenge: inspect::hex(&l.client_challenge),
        }),
        ntlm2_session_client_challenge: inspect::ntlm2_session_client_challenge(m)
            .map(|c| inspect::hex(&c)),
    }
}

/// Hex of a payload field; `null` when it is absent or empty.
fn non_empty_hex(b: Option<&[u8]>) -> Option<String> {
    b.filter(|b| !b.is_empty()).map(inspect::hex)
}

fn av_pairs(list: &AvPairs<'_>, base: usize) -> Vec<AvPairJson> {
    inspect::av_views(list, base)
        .into_iter()
        .map(av_pair)
        .collect()
}

fn av_pair(v: AvView<'_>) -> AvPairJson {
    let mut j = AvPairJson {
        id: v.pair.id.0,
        name: v.name,
        value: Value::String(inspect::hex(v.pair.value)),
        value_raw: None,
        value_time: None,
        value_names: None,
        single_host: None,
        error: None,
        offset: v.offset,
        length: v.pair.value.len(),
    };
    match v.value {
        Ok(AvValue::Text(b)) => match v.text {
            Some(WireText { text: Some(t), .. }) => j.value = Value::String(t),
            other => {
                j.value = Value::Null;
                j.value_raw = Some(inspect::hex(b));
                j.error = other.and_then(|t| t.error).map(|e| e.to_string());
            }
        },
        Ok(AvValue::Flags(f)) => {
            j.value = Value::String(inspect::flags_hex(f.bits()));
            j.value_names = Some(inspect::msv_av_flag_names(f));
        }
        Ok(AvValue::Timestamp(t)) => {
            j.value = Value::from(t.ticks());
            j.value_time = t.to_rfc3339();
        }
        Ok(AvValue::SingleHost(s)) => {
            j.single_host = Some(SingleHostJson {
                size: s.size,
                z4: s.z4,
                custom_data: inspect::hex(&s.custom_data),
                machine_id: inspect::hex(&s.machine_id),
                rest: inspect::hex(s.rest),
            });
        }
        Ok(AvValue::ChannelBindings(_) | AvValue::Unknown(_) | AvValue::Eol) => {}
        Err(e) => j.error = Some(e.kind_text()),
    }
    j
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_CHALLENGE: &[u8] =
        include_bytes!("../crates/ntlm-wire/tests/data/ms-nlmp-4.2.4.3-challenge.bin");
    const SPEC_AUTH: &[u8] =
        include_bytes!("../crates/ntlm-wire/tests/data/ms-nlmp-4.2.4.3-authenticate.bin");

    fn to_value(raw: &[u8]) -> Value {
        let m = Message::parse(raw).unwrap();
        serde_json::to_value(message(raw, &m)).unwrap()
    }

    #[test]
    fn challenge_keys() {
        let v = to_value(SPEC_CHALLENGE);
        assert_eq!(v["type"], "CHALLENGE");
        assert_eq!(v["flags"], "0xe28a8233");
        assert_eq!(v["server_challenge"], "0123456789abcdef");
        assert_eq!(v["target_name"], "Server");
        assert_eq!(
            v["version"],
            serde_json::json!({"major": 6, "minor": 0, "build": 6000, "revision": 15})
        );
        let ti = v["target_info"].as_array().unwrap();
        assert_eq!(ti[0]["name"], "MsvAvNbDomainName");
        assert_eq!(ti[0]["value"], "Domain");
        assert_eq!(ti[0]["offset"], 68);
        assert_eq!(ti[1]["name"], "MsvAvNbComputerName");
        assert_eq!(v["defects"], serde_json::json!([]));
    }

    #[test]
    fn authenticate_keys() {
        let v = to_value(SPEC_AUTH);
        assert_eq!(v["type"], "AUTHENTICATE");
        assert_eq!(v["user"], "User");
        assert_eq!(v["response_kind"], "NTLMv2");
        assert_eq!(v["mic"], Value::Null);
        let n = &v["ntlmv2"];
        assert_eq!(n["nt_proof_str"], "68cd0ab851e51c96aabc927bebef6a1c");
        assert_eq!(n["timestamp"], 0);
        assert_eq!(n["timestamp_time"], "1601-01-01T00:00:00Z");
        assert_eq!(n["client_challenge"], "aaaaaaaaaaaaaaaa");
        assert_eq!(n["trailing"], "00000000");
        assert_eq!(n["av_pairs"][0]["offset"], 132 + 44);
    }

    #[test]
    fn undecodable_strings_go_under_raw() {
        let mut m = AuthenticateMessage::parse(SPEC_AUTH).unwrap().into_owned();
        m.user = Some(vec![0x55, 0x00, 0x73].into());
        let raw = m.to_vec().unwrap();
        let v = to_value(&raw);
        assert_eq!(v["user"], Value::Null);
        assert_eq!(v["user_raw"], "550073");
        assert_eq!(v["user_error"], "odd length 3 for a UTF-16LE string");
        assert!(
            v["defects"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["field"] == "UserName")
        );
    }

    #[test]
    fn av_pair_values_by_type() {
        let list = AvPairs::build([
            (ntlm_wire::AvId::FLAGS, &2u32.to_le_bytes()[..]),
            (
                ntlm_wire::AvId::TIMESTAMP,
                &0x01ca_4862_6b3b_0d52u64.to_le_bytes()[..],
            ),
            (ntlm_wire::AvId(0x4242), &[1, 2][..]),
            (ntlm_wire::AvId::FLAGS, &[1][..]),
        ])
        .unwrap();
        let j = av_pairs(&list, 10);
        assert_eq!(j[0].value, "0x00000002");
        assert_eq!(
            j[0].value_names.as_deref(),
            Some(&["MIC_PRESENT".to_owned()][..])
        );
        assert_eq!(j[1].value, Value::from(0x01ca_4862_6b3b_0d52u64));
        assert!(j[1].value_time.as_deref().unwrap().starts_with("2009-"));
        assert_eq!(j[2].name, None);
        assert_eq!(j[2].value, "0102");
        assert_eq!(j[3].value, "01");
        assert_eq!(j[3].error.as_deref(), Some("expected a 4-byte value"));
        assert_eq!(j[3].offset, 10 + 8 + 12 + 6);
    }
}
