//! The messages of a captured exchange decoded for judging: flags, names,
//! versions and AV pairs, with a problem record for each defect.

use std::collections::BTreeMap;

use ntlm_capture::{Exchange, NtlmMessage};
use ntlm_wire::{
    AuthenticateMessage, ChallengeMessage, NegotiateFlags, NegotiateMessage, ResponseKind, Version,
    layout,
};

use super::ProblemRecord;

fn text(raw: Option<&[u8]>, flags: NegotiateFlags) -> Result<Option<String>, String> {
    let Some(b) = raw.filter(|b| !b.is_empty()) else {
        return Ok(None);
    };
    let cs = flags.charset().unwrap_or(ntlm_wire::Charset::Oem);
    ntlm_wire::text::decode(b, cs)
        .map(Some)
        .map_err(|_| hex::encode(b))
}

pub(super) fn version_text(v: Option<Version>) -> Option<String> {
    v.filter(|v| !v.is_zero())
        .map(|v| format!("{}.{}.{}", v.major, v.minor, v.build))
}

/// What was decoded from an exchange's messages.
#[derive(Debug, Default)]
pub(super) struct Decoded {
    pub(super) offered: Option<NegotiateFlags>,
    pub(super) challenge: Option<NegotiateFlags>,
    pub(super) final_flags: Option<NegotiateFlags>,
    pub(super) neg_version: Option<Version>,
    pub(super) auth_version: Option<Version>,
    /// The Version the client claims: a message's Version field when that
    /// message sets NEGOTIATE_VERSION (else the slot is not a claim).
    pub(super) claimed_version: Option<Version>,
    pub(super) kind: Option<ResponseKind>,
    pub(super) mic: Option<bool>,
    pub(super) user: Option<String>,
    pub(super) domain: Option<String>,
    pub(super) workstation: Option<String>,
    pub(super) raw_names: BTreeMap<&'static str, String>,
    /// The CHALLENGE's MsvAvNbComputerName and whether it names a domain
    /// target (TARGET_TYPE_DOMAIN), for Restrict NTLM's account kind.
    pub(super) server_computer: Option<String>,
    pub(super) server_in_domain: bool,
    /// MsvAvChannelBindings of the NTLMv2 response (`Absent` without one).
    pub(super) bindings: Option<ntlm_policy::BindingsSeen>,
    /// MsvAvTargetName of the NTLMv2 response, and the name.
    pub(super) target_name: Option<(ntlm_policy::TargetNameSeen, String)>,
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

pub(super) fn decode(x: &Exchange, file: &str, problems: &mut Vec<ProblemRecord>) -> Decoded {
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
