//! Unwrapping NTLMSSP tokens from SPNEGO (RFC 4178) and GSS-API (RFC 2743 3.1).
//!
//! `Negotiate` HTTP authentication, SMB and LDAP carry NTLM messages inside
//! SPNEGO tokens:
//!
//! - the first client token is an `InitialContextToken`, `[APPLICATION 0]`
//!   holding the SPNEGO OID `1.3.6.1.5.5.2` and a `NegTokenInit` (`[0]`)
//!   whose `mechToken` (`[2] OCTET STRING`) is the NTLM message;
//! - later tokens are a bare `NegTokenResp` (`[1]`) whose `responseToken`
//!   (`[2] OCTET STRING`) is the NTLM message.
//!
//! This is a small bounded DER walker, not a general ASN.1 decoder: it reads
//! only the structures above, at a fixed nesting depth, with every length
//! checked against the enclosing value. It never panics; errors name the
//! structure and the DER offset (from the start of the token) where it broke.

use core::fmt;

/// `1.3.6.1.5.5.2`, the SPNEGO mechanism (RFC 4178 3.1).
pub const SPNEGO_OID: &str = "1.3.6.1.5.5.2";
/// `1.3.6.1.4.1.311.2.2.10`, the NTLMSSP mechanism.
pub const NTLMSSP_OID: &str = "1.3.6.1.4.1.311.2.2.10";

/// Longest OID this walker decodes (arcs), far above any real mechanism OID.
const MAX_OID_ARCS: usize = 32;
/// Most mechanism types listed in a `NegTokenInit` that are kept.
const MAX_MECH_TYPES: usize = 32;

/// DER tags used by SPNEGO.
mod tag {
    pub(super) const OCTET_STRING: u8 = 0x04;
    pub(super) const OID: u8 = 0x06;
    pub(super) const ENUMERATED: u8 = 0x0a;
    pub(super) const SEQUENCE: u8 = 0x30;
    pub(super) const APPLICATION_0: u8 = 0x60;
    pub(super) const CONTEXT_0: u8 = 0xa0;
    pub(super) const CONTEXT_1: u8 = 0xa1;
    pub(super) const CONTEXT_2: u8 = 0xa2;
    pub(super) const CONTEXT_3: u8 = 0xa3;
    pub(super) const CONTEXT_4: u8 = 0xa4;
}

/// A SPNEGO or GSS-API token could not be walked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerError {
    /// The structure being read, e.g. `NegTokenInit.mechToken`.
    pub structure: &'static str,
    /// Offset of the offending DER element from the start of the token.
    pub offset: usize,
    /// What was wrong.
    pub reason: String,
}

impl fmt::Display for DerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SPNEGO {} at DER offset {}: {}",
            self.structure, self.offset, self.reason
        )
    }
}

impl std::error::Error for DerError {}

fn err(structure: &'static str, offset: usize, reason: impl Into<String>) -> DerError {
    DerError {
        structure,
        offset,
        reason: reason.into(),
    }
}

/// Which SPNEGO token carried the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// `NegTokenInit` (RFC 4178 4.2.1), usually inside an `InitialContextToken`.
    NegTokenInit,
    /// `NegTokenResp` (RFC 4178 4.2.2).
    NegTokenResp,
}

impl TokenKind {
    /// `NegTokenInit` or `NegTokenResp`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::NegTokenInit => "NegTokenInit",
            Self::NegTokenResp => "NegTokenResp",
        }
    }
}

/// `negState` of a `NegTokenResp` (RFC 4178 4.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NegState {
    /// 0: `accept-completed`.
    AcceptCompleted,
    /// 1: `accept-incomplete`.
    AcceptIncomplete,
    /// 2: `reject`.
    Reject,
    /// 3: `request-mic`.
    RequestMic,
    /// Any other value.
    Other(i64),
}

impl fmt::Display for NegState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AcceptCompleted => f.write_str("accept-completed"),
            Self::AcceptIncomplete => f.write_str("accept-incomplete"),
            Self::Reject => f.write_str("reject"),
            Self::RequestMic => f.write_str("request-mic"),
            Self::Other(v) => write!(f, "unknown ({v})"),
        }
    }
}

/// What the SPNEGO wrapper said, besides the NTLM message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpnegoInfo {
    /// The token type.
    pub kind: TokenKind,
    /// Whether the token sat inside a GSS-API `InitialContextToken` (`[APPLICATION 0]`).
    pub gss_framed: bool,
    /// `NegTokenInit.mechTypes` as dotted OIDs (empty for `NegTokenResp`).
    pub mech_types: Vec<String>,
    /// `NegTokenResp.negState`.
    pub neg_state: Option<NegState>,
    /// `NegTokenResp.supportedMech` as a dotted OID.
    pub supported_mech: Option<String>,
    /// Whether a `mechListMIC` is present.
    pub mech_list_mic: bool,
    /// Offset of the mechanism token (the NTLM message) within the SPNEGO token.
    pub token_offset: Option<usize>,
}

/// The result of walking a SPNEGO token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unwrapped<'a> {
    /// What the wrapper said.
    pub info: SpnegoInfo,
    /// The `mechToken` / `responseToken` bytes, when present.
    pub token: Option<&'a [u8]>,
}

/// A well-known name for a mechanism OID.
pub fn oid_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        NTLMSSP_OID => "NTLMSSP",
        SPNEGO_OID => "SPNEGO",
        "1.2.840.113554.1.2.2" => "Kerberos 5",
        "1.2.840.48018.1.2.2" => "Kerberos 5 (Microsoft)",
        "1.2.840.113554.1.2.2.3" => "Kerberos 5 user-to-user",
        "1.3.6.1.4.1.311.2.2.30" => "NEGOEX",
        _ => return None,
    })
}

/// Whether `b` starts like a SPNEGO token: `[APPLICATION 0]`, `[0]` or `[1]`.
pub fn looks_like_spnego(b: &[u8]) -> bool {
    matches!(
        b.first(),
        Some(&(tag::APPLICATION_0 | tag::CONTEXT_0 | tag::CONTEXT_1))
    )
}

/// Walks a SPNEGO token and returns the mechanism token inside.
///
/// Accepts an `InitialContextToken` (`60 …`) holding the SPNEGO OID and a
/// `NegTokenInit`, a bare `NegTokenInit` (`a0 …`) and a bare `NegTokenResp`
/// (`a1 …`). Bytes after the outer element are an error.
pub fn unwrap(der: &[u8]) -> Result<Unwrapped<'_>, DerError> {
    let mut top = Cursor::new(der, 0);
    let outer = top.tlv("token")?;
    if !top.is_empty() {
        return Err(err(
            "token",
            top.pos,
            format!(
                "{} bytes after the end of the outer element",
                top.rest.len()
            ),
        ));
    }
    match outer.tag {
        tag::APPLICATION_0 => {
            let mut c = outer.contents();
            let oid_tlv = c.expect(tag::OID, "InitialContextToken.thisMech")?;
            let oid = decode_oid(oid_tlv.value)
                .ok_or_else(|| err("InitialContextToken.thisMech", oid_tlv.at, "malformed OID"))?;
            if oid != SPNEGO_OID {
                let name = oid_name(&oid)
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default();
                return Err(err(
                    "InitialContextToken.thisMech",
                    oid_tlv.at,
                    format!("mechanism {oid}{name} is not SPNEGO ({SPNEGO_OID})"),
                ));
            }
            let inner = c.tlv("NegotiationToken")?;
            let mut out = negotiation_token(inner)?;
            out.info.gss_framed = true;
            Ok(out)
        }
        tag::CONTEXT_0 | tag::CONTEXT_1 => negotiation_token(outer),
        other => Err(err(
            "token",
            0,
            format!(
                "tag 0x{other:02x} is neither an InitialContextToken (0x60), a NegTokenInit (0xa0) nor a NegTokenResp (0xa1)"
            ),
        )),
    }
}

/// `NegotiationToken ::= CHOICE { negTokenInit [0], negTokenResp [1] }`.
fn negotiation_token(t: Tlv<'_>) -> Result<Unwrapped<'_>, DerError> {
    match t.tag {
        tag::CONTEXT_0 => neg_token_init(t),
        tag::CONTEXT_1 => neg_token_resp(t),
        other => Err(err(
            "NegotiationToken",
            t.at,
            format!("tag 0x{other:02x} is neither [0] NegTokenInit nor [1] NegTokenResp"),
        )),
    }
}

impl SpnegoInfo {
    /// A token of this kind with nothing read yet.
    const fn empty(kind: TokenKind) -> Self {
        Self {
            kind,
            gss_framed: false,
            mech_types: Vec::new(),
            neg_state: None,
            supported_mech: None,
            mech_list_mic: false,
            token_offset: None,
        }
    }
}

/// RFC 4178 4.2.1 (and MS-SPNG's NegTokenInit2, whose `[3]` is `negHints`
/// and `[4]` `mechListMIC`).
fn neg_token_init(t: Tlv<'_>) -> Result<Unwrapped<'_>, DerError> {
    let mut wrapper = t.contents();
    let seq = wrapper.expect(tag::SEQUENCE, "NegTokenInit")?;
    let mut info = SpnegoInfo::empty(TokenKind::NegTokenInit);
    let mut token = None;
    let mut c = seq.contents();
    while !c.is_empty() {
        let field = c.tlv("NegTokenInit")?;
        match field.tag {
            tag::CONTEXT_0 => {
                let mut f = field.contents();
                let list = f.expect(tag::SEQUENCE, "NegTokenInit.mechTypes")?;
                let mut l = list.contents();
                while !l.is_empty() {
                    let o = l.expect(tag::OID, "NegTokenInit.mechTypes")?;
                    let oid = decode_oid(o.value)
                        .ok_or_else(|| err("NegTokenInit.mechTypes", o.at, "malformed OID"))?;
                    if info.mech_types.len() < MAX_MECH_TYPES {
                        info.mech_types.push(oid);
                    }
                }
            }
            tag::CONTEXT_2 => {
                let mut f = field.contents();
                let os = f.expect(tag::OCTET_STRING, "NegTokenInit.mechToken")?;
                info.token_offset = Some(os.value_at);
                token = Some(os.value);
            }
            // [3] is mechListMIC in RFC 4178 but negHints (a SEQUENCE) in NegTokenInit2.
            tag::CONTEXT_3 if field.contents().peek_tag() == Some(tag::OCTET_STRING) => {
                info.mech_list_mic = true;
            }
            tag::CONTEXT_4 => info.mech_list_mic = true,
            _ => {} // reqFlags [1] and unknown fields: skipped.
        }
    }
    Ok(Unwrapped { info, token })
}

/// RFC 4178 4.2.2.
fn neg_token_resp(t: Tlv<'_>) -> Result<Unwrapped<'_>, DerError> {
    let mut wrapper = t.contents();
    let seq = wrapper.expect(tag::SEQUENCE, "NegTokenResp")?;
    let mut info = SpnegoInfo::empty(TokenKind::NegTokenResp);
    let mut token = None;
    let mut c = seq.contents();
    while !c.is_empty() {
        let field = c.tlv("NegTokenResp")?;
        let mut f = field.contents();
        match field.tag {
            tag::CONTEXT_0 => {
                let e = f.expect(tag::ENUMERATED, "NegTokenResp.negState")?;
                let v = decode_int(e.value)
                    .ok_or_else(|| err("NegTokenResp.negState", e.at, "malformed ENUMERATED"))?;
                info.neg_state = Some(match v {
                    0 => NegState::AcceptCompleted,
                    1 => NegState::AcceptIncomplete,
                    2 => NegState::Reject,
                    3 => NegState::RequestMic,
                    v => NegState::Other(v),
                });
            }
            tag::CONTEXT_1 => {
                let o = f.expect(tag::OID, "NegTokenResp.supportedMech")?;
                info.supported_mech = Some(
                    decode_oid(o.value)
                        .ok_or_else(|| err("NegTokenResp.supportedMech", o.at, "malformed OID"))?,
                );
            }
            tag::CONTEXT_2 => {
                let os = f.expect(tag::OCTET_STRING, "NegTokenResp.responseToken")?;
                info.token_offset = Some(os.value_at);
                token = Some(os.value);
            }
            tag::CONTEXT_3 => info.mech_list_mic = true,
            _ => {}
        }
    }
    Ok(Unwrapped { info, token })
}

/// One DER element.
#[derive(Debug, Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    /// Offset of the tag byte in the token.
    at: usize,
    /// Offset of the first value byte in the token.
    value_at: usize,
    value: &'a [u8],
}

impl<'a> Tlv<'a> {
    const fn contents(&self) -> Cursor<'a> {
        Cursor::new(self.value, self.value_at)
    }
}

/// A cursor over DER elements; `pos` is absolute within the token.
#[derive(Debug)]
struct Cursor<'a> {
    rest: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    const fn new(rest: &'a [u8], pos: usize) -> Self {
        Self { rest, pos }
    }

    const fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    fn take(&mut self, n: usize, structure: &'static str, at: usize) -> Result<&'a [u8], DerError> {
        let Some((head, tail)) = self.rest.split_at_checked(n) else {
            return Err(err(
                structure,
                at,
                format!(
                    "truncated: the element needs {n} more bytes, {} available",
                    self.rest.len()
                ),
            ));
        };
        self.rest = tail;
        self.pos = self.pos.saturating_add(n);
        Ok(head)
    }

    /// Reads one tag-length-value element.
    fn tlv(&mut self, structure: &'static str) -> Result<Tlv<'a>, DerError> {
        let at = self.pos;
        let Some((&tag, _)) = self.rest.split_first() else {
            return Err(err(structure, at, "truncated: expected a DER element"));
        };
        if tag & 0x1f == 0x1f {
            return Err(err(
                structure,
                at,
                "high-tag-number form is not used by SPNEGO",
            ));
        }
        self.take(1, structure, at)?;
        let Some((&first, _)) = self.rest.split_first() else {
            return Err(err(structure, at, "truncated: missing the length octet"));
        };
        self.take(1, structure, at)?;
        let len = match first {
            0x00..=0x7f => usize::from(first),
            0x80 => {
                return Err(err(
                    structure,
                    at,
                    "indefinite length is not allowed in DER",
                ));
            }
            0x81..=0x84 => {
                let n = usize::from(first & 0x7f);
                let bytes = self.take(n, structure, at)?;
                bytes
                    .iter()
                    .try_fold(0usize, |acc, &b| {
                        acc.checked_mul(256)?.checked_add(usize::from(b))
                    })
                    .ok_or_else(|| err(structure, at, "length overflows"))?
            }
            _ => {
                return Err(err(
                    structure,
                    at,
                    format!("a {}-byte length field is too long", first & 0x7f),
                ));
            }
        };
        let value_at = self.pos;
        let value = self.take(len, structure, at).map_err(|_| {
            err(
                structure,
                at,
                format!(
                    "length {len} runs past the end of the enclosing value ({} bytes left)",
                    self.rest.len()
                ),
            )
        })?;
        Ok(Tlv {
            tag,
            at,
            value_at,
            value,
        })
    }

    /// Reads an element that must carry `want`.
    fn expect(&mut self, want: u8, structure: &'static str) -> Result<Tlv<'a>, DerError> {
        let t = self.tlv(structure)?;
        if t.tag != want {
            return Err(err(
                structure,
                t.at,
                format!("expected tag 0x{want:02x}, found 0x{:02x}", t.tag),
            ));
        }
        Ok(t)
    }
}

/// Decodes an OID value to dotted form; `None` when malformed.
fn decode_oid(v: &[u8]) -> Option<String> {
    let mut arcs: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    let mut in_arc = false;
    for &b in v {
        if !in_arc && b == 0x80 {
            return None; // non-minimal encoding
        }
        acc = acc.checked_mul(128)?.checked_add(u64::from(b & 0x7f))?;
        in_arc = b & 0x80 != 0;
        if !in_arc {
            if arcs.len() >= MAX_OID_ARCS {
                return None;
            }
            arcs.push(acc);
            acc = 0;
        }
    }
    if in_arc {
        return None;
    }
    let (&first, rest) = arcs.split_first()?;
    let (a, b) = match first {
        0..=39 => (0, first),
        40..=79 => (1, first - 40),
        _ => (2, first - 80),
    };
    let mut s = format!("{a}.{b}");
    for arc in rest {
        s.push('.');
        s.push_str(&arc.to_string());
    }
    Some(s)
}

/// Decodes a small two's-complement INTEGER/ENUMERATED value.
fn decode_int(v: &[u8]) -> Option<i64> {
    if v.is_empty() || v.len() > 8 {
        return None;
    }
    let negative = v.first().is_some_and(|b| b & 0x80 != 0);
    let init: i64 = if negative { -1 } else { 0 };
    Some(v.iter().fold(init, |acc, &b| (acc << 8) | i64::from(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Minimal DER encoder for tests.
    fn der(tag: u8, value: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        let n = value.len();
        if n < 0x80 {
            v.push(n as u8);
        } else if n < 0x100 {
            v.extend_from_slice(&[0x81, n as u8]);
        } else {
            v.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
        }
        v.extend_from_slice(value);
        v
    }

    const SPNEGO_OID_DER: [u8; 6] = [0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
    const NTLM_OID_DER: [u8; 10] = [0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a];

    fn init_token(mech_token: &[u8]) -> Vec<u8> {
        let mech_types = der(0xa0, &der(0x30, &der(0x06, &NTLM_OID_DER)));
        let tok = der(0xa2, &der(0x04, mech_token));
        let seq = der(0x30, &[mech_types, tok].concat());
        let inner = der(0xa0, &seq);
        der(0x60, &[der(0x06, &SPNEGO_OID_DER), inner].concat())
    }

    #[test]
    fn decodes_oids() {
        assert_eq!(decode_oid(&SPNEGO_OID_DER).unwrap(), SPNEGO_OID);
        assert_eq!(decode_oid(&NTLM_OID_DER).unwrap(), NTLMSSP_OID);
        assert_eq!(decode_oid(&[0x2b, 0x86]), None);
        assert_eq!(decode_oid(&[]), None);
    }

    #[test]
    fn unwraps_neg_token_init() {
        let t = init_token(b"NTLMSSP\0\x01\0\0\0");
        let u = unwrap(&t).unwrap();
        assert_eq!(u.token, Some(&b"NTLMSSP\0\x01\0\0\0"[..]));
        assert_eq!(u.info.kind, TokenKind::NegTokenInit);
        assert!(u.info.gss_framed);
        assert_eq!(u.info.mech_types, [NTLMSSP_OID]);
        let off = u.info.token_offset.unwrap();
        assert_eq!(&t[off..off + 7], b"NTLMSSP");
    }

    #[test]
    fn unwraps_neg_token_resp() {
        let seq = [
            der(0xa0, &der(0x0a, &[1])),
            der(0xa1, &der(0x06, &NTLM_OID_DER)),
            der(0xa2, &der(0x04, &[0x4e; 200])),
        ]
        .concat();
        let t = der(0xa1, &der(0x30, &seq));
        let u = unwrap(&t).unwrap();
        assert_eq!(u.info.kind, TokenKind::NegTokenResp);
        assert_eq!(u.info.neg_state, Some(NegState::AcceptIncomplete));
        assert_eq!(u.info.supported_mech.as_deref(), Some(NTLMSSP_OID));
        assert_eq!(u.token.map(<[u8]>::len), Some(200));
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let t = init_token(&[0x4e; 300]);
        for n in 0..t.len() {
            let e = unwrap(&t[..n]).unwrap_err();
            assert!(e.offset <= n, "{e}");
        }
        assert!(unwrap(&t).is_ok());
    }

    #[test]
    fn rejects_indefinite_length_and_wrong_mech() {
        let e = unwrap(&[0x60, 0x80, 0x06, 0x00]).unwrap_err();
        assert_eq!(e.offset, 0);
        assert!(e.reason.contains("indefinite"));
        let krb = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
        let t = der(0x60, &[der(0x06, &krb), vec![0x01, 0x00]].concat());
        let e = unwrap(&t).unwrap_err();
        assert_eq!(e.offset, 2);
        assert!(e.to_string().contains("Kerberos 5"), "{e}");
    }

    #[test]
    fn single_byte_mutations_never_panic() {
        let t = init_token(&[0x4e; 40]);
        for i in 0..t.len() {
            for v in [0x00, 0x7f, 0x80, 0x81, 0x84, 0x85, 0xff] {
                let mut m = t.clone();
                m[i] = v;
                let _ = unwrap(&m);
            }
        }
    }

    #[test]
    fn decodes_negative_enumerated() {
        assert_eq!(decode_int(&[0xff]), Some(-1));
        assert_eq!(decode_int(&[0x01, 0x00]), Some(256));
        assert_eq!(decode_int(&[]), None);
    }
}
