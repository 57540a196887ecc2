//! Interpretation of parsed messages, shared by the JSON and human views:
//! where each header field sits, strings decoded per charset, AV pairs with
//! typed values, and the defects worth flagging.
//!
//! Nothing here fails: the message has already been parsed by `ntlm-wire`,
//! and whatever cannot be interpreted further becomes a [`Defect`].

use std::fmt;

use ntlm_wire::layout;
use ntlm_wire::text::{self, TextError};
use ntlm_wire::{
    AuthenticateMessage, AvId, AvPair, AvPairs, AvValue, ChallengeMessage, Charset, DecodeError,
    FLAG_TABLE, LmV2Response, MIC_LEN, MIC_OFFSET, Message, MsvAvFlags, NegotiateFlags,
    NegotiateMessage, NtlmV2Response, ResponseKind, Version,
};
use serde::Serialize;

/// Lowercase hex.
pub fn hex(b: &[u8]) -> String {
    hex::encode(b)
}

/// `0x%08x`.
pub fn flags_hex(bits: u32) -> String {
    format!("0x{bits:08x}")
}

/// The names of the set NegotiateFlags bits, lowest first (no `NTLMSSP_` prefix, `R1`..`R10`).
pub fn flag_names(flags: NegotiateFlags) -> Vec<&'static str> {
    flags.names().collect()
}

/// The set bits as `(name, letter, value)`, highest bit first (the order of
/// the MS-NLMP 2.2.2.5 diagram and of `tshark -V`).
pub fn set_flags(flags: NegotiateFlags) -> impl Iterator<Item = (&'static str, &'static str, u32)> {
    FLAG_TABLE
        .iter()
        .rev()
        .filter(move |(_, _, v)| flags.bits() & v != 0)
        .copied()
}

/// Names of the set `MsvAvFlags` bits; bits MS-NLMP does not define as `0x%08x`.
pub fn msv_av_flag_names(f: MsvAvFlags) -> Vec<String> {
    let mut names: Vec<String> = f.iter_names().map(|(n, _)| n.to_owned()).collect();
    let unknown = f.bits() & !MsvAvFlags::all().bits();
    for bit in 0..32 {
        if unknown & (1u32 << bit) != 0 {
            names.push(flags_hex(1u32 << bit));
        }
    }
    names
}

/// A finding that does not stop decoding but deserves attention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Defect {
    /// The field concerned, as MS-NLMP names it.
    pub field: &'static str,
    /// Byte offset of the field within the message, when known.
    pub offset: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl Defect {
    fn new(field: &'static str, offset: Option<usize>, message: impl Into<String>) -> Self {
        Self {
            field,
            offset,
            message: message.into(),
        }
    }
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(o) => write!(f, "{} at offset {}: {}", self.field, o, self.message),
            None => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

/// A string field decoded per charset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireText {
    /// The decoded text, `None` when the bytes cannot be decoded.
    pub text: Option<String>,
    /// Why decoding failed.
    pub error: Option<TextError>,
    /// A best-effort rendering for people (replacement characters for bad bytes).
    pub lossy: String,
}

/// Decodes a string field (MS-NLMP 2.2: UTF-16LE with UNICODE, OEM otherwise).
pub fn wire_text(b: &[u8], charset: Charset) -> WireText {
    match text::decode(b, charset) {
        Ok(t) => WireText {
            lossy: t.clone(),
            text: Some(t),
            error: None,
        },
        Err(e) => {
            let lossy = match charset {
                Charset::Unicode => {
                    let units = b.chunks(2).map(|c| match *c {
                        [lo, hi] => u16::from_le_bytes([lo, hi]),
                        _ => 0xfffd,
                    });
                    char::decode_utf16(units)
                        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                        .collect()
                }
                Charset::Oem => String::from_utf8_lossy(b).into_owned(),
            };
            WireText {
                text: None,
                error: Some(e),
                lossy,
            }
        }
    }
}

/// The charset strings of a CHALLENGE or AUTHENTICATE are read in: Unicode
/// when NEGOTIATE_UNICODE is set, else OEM (MS-NLMP 2.2.2.5 flags A and B).
pub fn charset(flags: NegotiateFlags) -> Charset {
    flags.charset().unwrap_or(Charset::Oem)
}

/// A security buffer (`Len`, `MaxLen`, `BufferOffset`) read from the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferFields {
    /// Offset of the 8-byte structure in the message.
    pub at: usize,
    /// `Len`.
    pub len: u16,
    /// `MaxLen`.
    pub max_len: u16,
    /// `BufferOffset`.
    pub offset: u32,
}

impl BufferFields {
    /// Reads the structure at `at`; `None` when the message is too short.
    pub fn read(msg: &[u8], at: usize) -> Option<Self> {
        let b: [u8; 8] = msg.get(at..at.checked_add(8)?)?.try_into().ok()?;
        let [l0, l1, m0, m1, o0, o1, o2, o3] = b;
        Some(Self {
            at,
            len: u16::from_le_bytes([l0, l1]),
            max_len: u16::from_le_bytes([m0, m1]),
            offset: u32::from_le_bytes([o0, o1, o2, o3]),
        })
    }

    /// `BufferOffset` as an index.
    pub fn start(&self) -> usize {
        usize::try_from(self.offset).unwrap_or(usize::MAX)
    }
}

/// One AV pair with its position in the message and its decoded value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvView<'a> {
    /// The pair.
    pub pair: AvPair<'a>,
    /// Offset of the pair's AvId within the message.
    pub offset: usize,
    /// The MS-NLMP name of the id, `None` for ids it does not define.
    pub name: Option<&'static str>,
    /// The typed value, or why it could not be typed.
    pub value: Result<AvValue<'a>, DecodeError>,
    /// Decoded text for the string-valued ids.
    pub text: Option<WireText>,
    /// True for the second and later pairs with the same id.
    pub duplicate: bool,
}

/// The pairs of a list (before `MsvAvEOL`), `base` being the list's offset in the message.
pub fn av_views<'a>(list: &'a AvPairs<'_>, base: usize) -> Vec<AvView<'a>> {
    let mut seen: Vec<u16> = Vec::new();
    list.iter()
        .map(|pair| {
            let duplicate = seen.contains(&pair.id.0);
            if !duplicate {
                seen.push(pair.id.0);
            }
            let value = pair.typed();
            let text = match value {
                Ok(AvValue::Text(b)) => Some(wire_text(b, Charset::Unicode)),
                _ => None,
            };
            AvView {
                offset: base.saturating_add(pair.offset),
                name: pair.id.name(),
                pair,
                value,
                text,
                duplicate,
            }
        })
        .collect()
}

/// Where `MsvAvEOL` sits in a list (offset within the list), if anywhere.
pub fn eol_offset(list: &AvPairs<'_>) -> Option<usize> {
    list.iter_with_eol()
        .find(|p| p.id == AvId::EOL)
        .map(|p| p.offset)
}

/// Structural and value defects of an AV pair list (MS-NLMP 2.2.2.1).
pub fn av_defects(field: &'static str, list: &AvPairs<'_>, base: usize) -> Vec<Defect> {
    let d = list.defects();
    let mut out = Vec::new();
    if let Some(at) = d.truncated_at {
        out.push(Defect::new(
            field,
            Some(base.saturating_add(at)),
            format!(
                "AV pair at list offset {at} runs past the end of the {}-byte list",
                list.len()
            ),
        ));
    }
    if d.missing_eol {
        out.push(Defect::new(
            field,
            Some(base),
            "missing MsvAvEOL: the list is not terminated",
        ));
    }
    if d.eol_with_value {
        out.push(Defect::new(
            field,
            eol_offset(list).map(|o| base.saturating_add(o)),
            "MsvAvEOL has a non-zero AvLen",
        ));
    }
    for id in d.duplicates() {
        let name = id
            .name()
            .map_or_else(|| format!("AvId 0x{:04x}", id.0), str::to_owned);
        out.push(Defect::new(
            field,
            Some(base),
            format!("duplicate {name} pairs"),
        ));
    }
    for v in av_views(list, base) {
        let name = v.name.unwrap_or("AvPair");
        match (&v.value, &v.text) {
            (Err(e), _) => out.push(Defect::new(
                field,
                Some(v.offset),
                format!("{name}: {}", e.kind_text()),
            )),
            (_, Some(WireText { error: Some(e), .. })) => {
                out.push(Defect::new(field, Some(v.offset), format!("{name}: {e}")));
            }
            _ => {}
        }
    }
    out
}

/// Short text for a decode error's kind (the field and offset are given separately).
pub trait KindText {
    /// What went wrong, without field and offset.
    fn kind_text(&self) -> String;
}

impl KindText for DecodeError {
    fn kind_text(&self) -> String {
        let full = self.to_string();
        let prefix = format!("{} at offset {}: ", self.field, self.offset);
        full.strip_prefix(&prefix)
            .map_or(full.clone(), str::to_owned)
    }
}

/// The NTLMv2 response of an AUTHENTICATE with its position in the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NtlmV2View<'a> {
    /// Offset of the NT response in the message.
    pub nt_offset: usize,
    /// The parsed response, or the error with its offset in the message.
    pub response: Result<NtlmV2Response<'a>, DecodeError>,
}

impl NtlmV2View<'_> {
    /// Offset of the AV pair list in the message.
    pub const fn av_pairs_offset(&self) -> usize {
        self.nt_offset.saturating_add(layout::ntlmv2::AV_PAIRS)
    }
}

/// The NTLMv2 response, when the NT response is longer than 24 bytes.
pub fn ntlmv2<'a>(raw: &[u8], m: &'a AuthenticateMessage<'_>) -> Option<NtlmV2View<'a>> {
    let nt_offset = BufferFields::read(raw, layout::authenticate::NT_CHALLENGE_RESPONSE)
        .map_or(0, |b| b.start());
    m.ntlmv2_response().map(|r| NtlmV2View {
        nt_offset,
        response: r.map_err(|e| e.at_base(nt_offset)),
    })
}

/// Defects of the NTLMv2 response (MS-NLMP 2.2.2.7, 3.3.2).
pub fn ntlmv2_defects(v: &NtlmV2View<'_>, has_mic: bool) -> Vec<Defect> {
    let mut out = Vec::new();
    let at = |rel: usize| Some(v.nt_offset.saturating_add(rel));
    let r = match &v.response {
        Ok(r) => r,
        Err(e) => {
            out.push(Defect::new(e.field, Some(e.offset), e.kind_text()));
            return out;
        }
    };
    let c = &r.client_challenge;
    use layout::ntlmv2 as o;
    if c.resp_type != 1 {
        out.push(Defect::new(
            "NTLMv2_CLIENT_CHALLENGE.RespType",
            at(o::RESP_TYPE),
            format!("is {} (must be 1)", c.resp_type),
        ));
    }
    if c.hi_resp_type != 1 {
        out.push(Defect::new(
            "NTLMv2_CLIENT_CHALLENGE.HiRespType",
            at(o::HI_RESP_TYPE),
            format!("is {} (must be 1)", c.hi_resp_type),
        ));
    }
    for (field, rel, value) in [
        (
            "NTLMv2_CLIENT_CHALLENGE.Reserved1",
            o::RESERVED1,
            u32::from(c.reserved1),
        ),
        (
            "NTLMv2_CLIENT_CHALLENGE.Reserved2",
            o::RESERVED2,
            c.reserved2,
        ),
        (
            "NTLMv2_CLIENT_CHALLENGE.Reserved3",
            o::RESERVED3,
            c.reserved3,
        ),
    ] {
        if value != 0 {
            out.push(Defect::new(
                field,
                at(rel),
                format!("is 0x{value:x} (must be zero)"),
            ));
        }
    }
    let pairs = &c.av_pairs;
    out.extend(av_defects(
        "NTLMv2_CLIENT_CHALLENGE.AvPairs",
        pairs,
        v.av_pairs_offset(),
    ));
    if pairs.flags_union().contains(MsvAvFlags::MIC_PRESENT) && !has_mic {
        out.push(Defect::new(
            "MsvAvFlags",
            Some(v.av_pairs_offset()),
            "MIC_PRESENT is set but the header has no MIC field (MS-NLMP 3.1.5.1.2)",
        ));
    }
    out
}

/// The LMv2 response, when an NTLMv2 AUTHENTICATE carries a 24-byte LM response.
pub fn lmv2(m: &AuthenticateMessage<'_>) -> Option<LmV2Response> {
    if m.response_kind() != ResponseKind::NtlmV2 {
        return None;
    }
    LmV2Response::parse(m.lm_response.as_deref()?).ok()
}

/// The client challenge of an NTLM2 session response: the first 8 bytes of
/// the LM response (MS-NLMP 3.3.1, ESS).
pub fn ntlm2_session_client_challenge(m: &AuthenticateMessage<'_>) -> Option<[u8; 8]> {
    if m.response_kind() != ResponseKind::Ntlm2Session {
        return None;
    }
    m.lm_response.as_deref()?.get(..8)?.try_into().ok()
}

fn version_defects(
    out: &mut Vec<Defect>,
    flags: NegotiateFlags,
    version: Option<Version>,
    at: usize,
) {
    let negotiated = flags.contains(NegotiateFlags::NEGOTIATE_VERSION);
    match version {
        None if negotiated => out.push(Defect::new(
            "Version",
            Some(at),
            "NEGOTIATE_VERSION is set but the header has no Version slot (the payload starts earlier)",
        )),
        Some(v) if !negotiated && !v.is_zero() => out.push(Defect::new(
            "Version",
            Some(at),
            "a non-zero Version is present but NEGOTIATE_VERSION is not set (MS-NLMP 2.2.2.10: ignore it)",
        )),
        _ => {}
    }
}

fn flag_defects(out: &mut Vec<Defect>, flags: NegotiateFlags, at: usize) {
    let reserved = flags & NegotiateFlags::RESERVED;
    if !reserved.is_empty() {
        let names: Vec<&str> = reserved.names().collect();
        out.push(Defect::new(
            "NegotiateFlags",
            Some(at),
            format!(
                "reserved bits set: {} (MS-NLMP 2.2.2.5: must be zero)",
                names.join(", ")
            ),
        ));
    }
}

fn text_defect(
    out: &mut Vec<Defect>,
    field: &'static str,
    b: Option<&[u8]>,
    cs: Charset,
    at: Option<usize>,
) {
    if let Some(e) = b.and_then(|b| wire_text(b, cs).error) {
        out.push(Defect::new(field, at, e.to_string()));
    }
}

/// Checks that each payload field holds as many bytes as its `Len` says (a
/// field cut short by the end of the message is decoded as far as it goes)
/// and reports bytes after the header and the last payload field.
fn layout_defects(
    out: &mut Vec<Defect>,
    raw: &[u8],
    header_len: usize,
    fields: &[(&'static str, usize, Option<&[u8]>)],
) {
    let mut end = header_len;
    for &(name, at, value) in fields {
        let (Some(b), Some(v)) = (BufferFields::read(raw, at), value) else {
            continue;
        };
        if !v.is_empty() {
            end = end.max(b.start().saturating_add(v.len()));
        }
        if usize::from(b.len) != v.len() {
            out.push(Defect::new(
                name,
                Some(at),
                format!(
                    "Len is {} but only {} bytes are present (the message is {} bytes)",
                    b.len,
                    v.len(),
                    raw.len()
                ),
            ));
        }
    }
    if raw.len() > end {
        out.push(Defect::new(
            "Payload",
            Some(end),
            format!(
                "{} bytes after the last field (ignored)",
                raw.len().saturating_sub(end)
            ),
        ));
    }
}

fn payload_at(raw: &[u8], header_at: usize) -> Option<usize> {
    BufferFields::read(raw, header_at).map(|b| b.start())
}

fn charset_defect(out: &mut Vec<Defect>, flags: NegotiateFlags, at: usize) {
    if flags.charset().is_none() {
        out.push(Defect::new(
            "NegotiateFlags",
            Some(at),
            "neither NEGOTIATE_UNICODE nor NEGOTIATE_OEM is set (MS-NLMP 2.2.2.5); strings read as OEM",
        ));
    }
}

/// Every defect of a message, nested structures included.
pub fn defects(raw: &[u8], msg: &Message<'_>) -> Vec<Defect> {
    match msg {
        Message::Negotiate(m) => negotiate_defects(raw, m),
        Message::Challenge(m) => challenge_defects(raw, m),
        Message::Authenticate(m) => authenticate_defects(raw, m),
    }
}

fn negotiate_defects(raw: &[u8], m: &NegotiateMessage<'_>) -> Vec<Defect> {
    let mut out = Vec::new();
    layout_defects(
        &mut out,
        raw,
        m.header_len(),
        &[
            (
                "DomainNameFields",
                layout::negotiate::DOMAIN_NAME,
                m.domain.as_deref(),
            ),
            (
                "WorkstationFields",
                layout::negotiate::WORKSTATION,
                m.workstation.as_deref(),
            ),
        ],
    );
    flag_defects(&mut out, m.flags, layout::negotiate::FLAGS);
    version_defects(&mut out, m.flags, m.version, layout::negotiate::VERSION);
    for (field, flag, value, at) in [
        (
            "DomainName",
            NegotiateFlags::NEGOTIATE_OEM_DOMAIN_SUPPLIED,
            m.domain.as_deref(),
            layout::negotiate::DOMAIN_NAME,
        ),
        (
            "WorkstationName",
            NegotiateFlags::NEGOTIATE_OEM_WORKSTATION_SUPPLIED,
            m.workstation.as_deref(),
            layout::negotiate::WORKSTATION,
        ),
    ] {
        text_defect(&mut out, field, value, Charset::Oem, payload_at(raw, at));
        if value.is_some_and(|v| !v.is_empty()) && !m.flags.contains(flag) {
            out.push(Defect::new(
                field,
                Some(at),
                format!(
                    "present but {} is not set (MS-NLMP 2.2.1.1: ignore it)",
                    flag.names().next().unwrap_or("its flag")
                ),
            ));
        }
    }
    out
}

fn challenge_defects(raw: &[u8], m: &ChallengeMessage<'_>) -> Vec<Defect> {
    let mut out = Vec::new();
    layout_defects(
        &mut out,
        raw,
        m.header_len(),
        &[
            (
                "TargetNameFields",
                layout::challenge::TARGET_NAME,
                m.target_name.as_deref(),
            ),
            (
                "TargetInfoFields",
                layout::challenge::TARGET_INFO,
                m.target_info.as_ref().map(AvPairs::as_bytes),
            ),
        ],
    );
    charset_defect(&mut out, m.flags, layout::challenge::FLAGS);
    flag_defects(&mut out, m.flags, layout::challenge::FLAGS);
    version_defects(&mut out, m.flags, m.version, layout::challenge::VERSION);
    if m.reserved.is_some_and(|r| r != [0; 8]) {
        out.push(Defect::new(
            "Reserved",
            Some(layout::challenge::RESERVED),
            "is not zero (MS-NLMP 2.2.1.2: must be zero, ignored)",
        ));
    }
    text_defect(
        &mut out,
        "TargetName",
        m.target_name.as_deref(),
        charset(m.flags),
        payload_at(raw, layout::challenge::TARGET_NAME),
    );
    let info_flag = m.flags.contains(NegotiateFlags::NEGOTIATE_TARGET_INFO);
    match &m.target_info {
        Some(list) => {
            let base = payload_at(raw, layout::challenge::TARGET_INFO).unwrap_or_default();
            if !info_flag && !list.is_empty() {
                out.push(Defect::new(
                    "TargetInfo",
                    Some(base),
                    "present but NEGOTIATE_TARGET_INFO is not set",
                ));
            }
            out.extend(av_defects("TargetInfo", list, base));
        }
        None if info_flag => out.push(Defect::new(
            "TargetInfoFields",
            Some(layout::challenge::TARGET_INFO),
            "NEGOTIATE_TARGET_INFO is set but there is no TargetInfo",
        )),
        None => {}
    }
    out
}

fn authenticate_defects(raw: &[u8], m: &AuthenticateMessage<'_>) -> Vec<Defect> {
    let mut out = Vec::new();
    let cs = charset(m.flags);
    layout_defects(
        &mut out,
        raw,
        m.header_len(),
        &[
            (
                "LmChallengeResponseFields",
                layout::authenticate::LM_CHALLENGE_RESPONSE,
                m.lm_response.as_deref(),
            ),
            (
                "NtChallengeResponseFields",
                layout::authenticate::NT_CHALLENGE_RESPONSE,
                m.nt_response.as_deref(),
            ),
            (
                "DomainNameFields",
                layout::authenticate::DOMAIN_NAME,
                m.domain.as_deref(),
            ),
            (
                "UserNameFields",
                layout::authenticate::USER_NAME,
                m.user.as_deref(),
            ),
            (
                "WorkstationFields",
                layout::authenticate::WORKSTATION,
                m.workstation.as_deref(),
            ),
            (
                "EncryptedRandomSessionKeyFields",
                layout::authenticate::ENCRYPTED_RANDOM_SESSION_KEY,
                m.encrypted_random_session_key.as_deref(),
            ),
        ],
    );
    charset_defect(&mut out, m.flags, layout::authenticate::FLAGS);
    flag_defects(&mut out, m.flags, layout::authenticate::FLAGS);
    version_defects(&mut out, m.flags, m.version, layout::authenticate::VERSION);
    for (field, value, at) in [
        (
            "DomainName",
            m.domain.as_deref(),
            layout::authenticate::DOMAIN_NAME,
        ),
        (
            "UserName",
            m.user.as_deref(),
            layout::authenticate::USER_NAME,
        ),
        (
            "Workstation",
            m.workstation.as_deref(),
            layout::authenticate::WORKSTATION,
        ),
    ] {
        text_defect(&mut out, field, value, cs, payload_at(raw, at));
    }
    let kind = m.response_kind();
    if kind == ResponseKind::Unknown {
        out.push(Defect::new(
            "NtChallengeResponseFields",
            Some(layout::authenticate::NT_CHALLENGE_RESPONSE),
            format!(
                "response lengths (LM {}, NT {}) match no NTLM variant",
                m.lm_response.as_deref().map_or(0, <[u8]>::len),
                m.nt_response.as_deref().map_or(0, <[u8]>::len)
            ),
        ));
    }
    if let Some(v) = ntlmv2(raw, m) {
        out.extend(ntlmv2_defects(&v, m.mic.is_some()));
    }
    if m.mic == Some([0; MIC_LEN]) {
        out.push(Defect::new(
            "MIC",
            Some(MIC_OFFSET),
            "the MIC field is all zero (no MIC computed)",
        ));
    }
    let key_len = m
        .encrypted_random_session_key
        .as_deref()
        .map_or(0, <[u8]>::len);
    if m.flags.contains(NegotiateFlags::NEGOTIATE_KEY_EXCH)
        && kind != ResponseKind::Anonymous
        && key_len != 16
    {
        out.push(Defect::new(
            "EncryptedRandomSessionKeyFields",
            Some(layout::authenticate::ENCRYPTED_RANDOM_SESSION_KEY),
            format!("NEGOTIATE_KEY_EXCH is set but the key is {key_len} bytes, not 16"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_order_is_high_bit_first() {
        let f = NegotiateFlags::from_bits_retain(0x8000_0001);
        let v: Vec<_> = set_flags(f).map(|(n, l, _)| (n, l)).collect();
        assert_eq!(v, [("NEGOTIATE_56", "W"), ("NEGOTIATE_UNICODE", "A")]);
    }

    #[test]
    fn msv_av_flags_keep_unknown_bits() {
        let f = MsvAvFlags::from_bits_retain(0x0000_0012);
        assert_eq!(msv_av_flag_names(f), ["MIC_PRESENT", "0x00000010"]);
    }

    #[test]
    fn odd_unicode_is_reported_with_lossy_text() {
        let t = wire_text(&[0x41, 0x00, 0x42], Charset::Unicode);
        assert_eq!(t.text, None);
        assert_eq!(t.error, Some(TextError::OddLength(3)));
        assert_eq!(t.lossy, "A\u{fffd}");
    }

    #[test]
    fn av_defects_report_missing_eol_and_duplicates() {
        let dom = text::utf16le("D");
        let mut b = AvPairs::build([
            (AvId::NB_DOMAIN_NAME, &dom[..]),
            (AvId::NB_DOMAIN_NAME, &dom[..]),
        ])
        .unwrap()
        .as_bytes()
        .to_vec();
        b.truncate(b.len() - 4);
        let list = AvPairs::new(b);
        let d = av_defects("TargetInfo", &list, 100);
        let text: Vec<String> = d.iter().map(ToString::to_string).collect();
        assert!(
            text.iter().any(|t| t.contains("missing MsvAvEOL")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.contains("duplicate MsvAvNbDomainName")),
            "{text:?}"
        );
        let views = av_views(&list, 100);
        assert_eq!(views.len(), 2);
        assert_eq!(views[1].offset, 106);
        assert!(views[1].duplicate);
    }

    #[test]
    fn reports_a_payload_shorter_than_its_len() {
        // A CHALLENGE whose TargetInfo lost its last 4 bytes (MsvAvEOL), as in
        // captures of truncated tokens: decoded from a copy whose Len was
        // clamped, checked against the original header.
        let full = include_bytes!("../crates/ntlm-wire/tests/data/ms-nlmp-4.2.4.3-challenge.bin");
        let original = &full[..full.len() - 4];
        let mut clamped = original.to_vec();
        clamped[40] = 32;
        clamped[42] = 32;
        let m = Message::parse(&clamped).unwrap();
        let d = defects(original, &m);
        let text: Vec<String> = d.iter().map(ToString::to_string).collect();
        assert!(
            text.contains(&"TargetInfoFields at offset 40: Len is 36 but only 32 bytes are present (the message is 100 bytes)".to_owned()),
            "{text:?}"
        );
        assert!(
            text.iter().any(|t| t.contains("missing MsvAvEOL")),
            "{text:?}"
        );
        assert!(
            defects(&clamped, &m)
                .iter()
                .all(|d| d.field != "TargetInfoFields")
        );
        // The same clamp on the whole message leaves MsvAvEOL as trailing bytes.
        let mut whole = full.to_vec();
        whole[40] = 32;
        whole[42] = 32;
        let m = Message::parse(&whole).unwrap();
        let trailing = "Payload at offset 100: 4 bytes after the last field (ignored)";
        assert!(
            defects(&whole, &m)
                .iter()
                .any(|d| d.to_string() == trailing)
        );
    }

    #[test]
    fn buffer_fields_read_checks_bounds() {
        let b = [1, 0, 2, 0, 3, 0, 0, 0];
        assert_eq!(
            BufferFields::read(&b, 0),
            Some(BufferFields {
                at: 0,
                len: 1,
                max_len: 2,
                offset: 3
            })
        );
        assert_eq!(BufferFields::read(&b, 1), None);
        assert_eq!(BufferFields::read(&b, usize::MAX), None);
    }
}
