//! SPNEGO (RFC 4178) and the GSS-API initial context token framing
//! (RFC 2743 3.1) around NTLM messages.
//!
//! `Negotiate` HTTP authentication, SMB, DCE/RPC and LDAP carry NTLM
//! messages inside SPNEGO tokens:
//!
//! - the first client token is an `InitialContextToken`, `[APPLICATION 0]`
//!   holding the SPNEGO OID `1.3.6.1.5.5.2` and a `NegTokenInit` (`[0]`)
//!   whose `mechToken` (`[2] OCTET STRING`) is the NTLM message;
//! - later tokens are a bare `NegTokenResp` (`[1]`) whose `responseToken`
//!   (`[2] OCTET STRING`) is the NTLM message.
//!
//! [`unwrap`] reads those shapes (and a bare `NegTokenInit`), [`find_ntlmssp`]
//! tells whether a carrier's security token holds an NTLM message and how
//! it was wrapped, and [`NegTokenInit`] / [`NegTokenResp`] build tokens.
//! Reading is bounded: a fixed nesting depth, every length checked against
//! the enclosing value, at most [`MAX_MECH_TYPES`] mechanisms kept; nothing
//! panics, and errors name the structure and the DER offset.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use ntlm_wire::SIGNATURE;

use crate::der::{self, Cursor, DerError, Tlv, decode_int, decode_oid, err, tag};

/// `1.3.6.1.5.5.2`, the SPNEGO mechanism (RFC 4178 3.1).
pub const SPNEGO_OID: &str = "1.3.6.1.5.5.2";
/// `1.3.6.1.4.1.311.2.2.10`, the NTLMSSP mechanism.
pub const NTLMSSP_OID: &str = "1.3.6.1.4.1.311.2.2.10";
/// [`SPNEGO_OID`] as DER contents octets.
pub const SPNEGO_OID_DER: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
/// [`NTLMSSP_OID`] as DER contents octets.
pub const NTLMSSP_OID_DER: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a];

/// Most mechanism types listed in a `NegTokenInit` that are kept.
pub const MAX_MECH_TYPES: usize = 32;

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

/// Which SPNEGO token carried the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

impl NegState {
    /// From the ENUMERATED value.
    pub const fn from_value(v: i64) -> Self {
        match v {
            0 => Self::AcceptCompleted,
            1 => Self::AcceptIncomplete,
            2 => Self::Reject,
            3 => Self::RequestMic,
            v => Self::Other(v),
        }
    }

    /// The ENUMERATED value.
    pub const fn value(self) -> i64 {
        match self {
            Self::AcceptCompleted => 0,
            Self::AcceptIncomplete => 1,
            Self::Reject => 2,
            Self::RequestMic => 3,
            Self::Other(v) => v,
        }
    }
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

/// What the SPNEGO wrapper said, besides the mechanism token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpnegoInfo {
    /// The token type.
    pub kind: TokenKind,
    /// Whether the token sat inside a GSS-API `InitialContextToken` (`[APPLICATION 0]`).
    pub gss_framed: bool,
    /// `NegTokenInit.mechTypes` as dotted OIDs (empty for `NegTokenResp`;
    /// at most [`MAX_MECH_TYPES`]).
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

/// The result of walking a SPNEGO token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unwrapped<'a> {
    /// What the wrapper said.
    pub info: SpnegoInfo,
    /// The `mechToken` / `responseToken` bytes, when present.
    pub token: Option<&'a [u8]>,
}

/// Whether `b` starts like a SPNEGO token: `[APPLICATION 0]`, `[0]` or `[1]`.
pub fn looks_like_spnego(b: &[u8]) -> bool {
    matches!(
        b.first(),
        Some(&(tag::APPLICATION_0 | tag::CONTEXT_0 | tag::CONTEXT_1))
    )
}

/// A token walked as far as its mechanism.
enum Walked<'a> {
    Spnego(Unwrapped<'a>),
    /// An `InitialContextToken` of another mechanism (Kerberos, NEGOEX...):
    /// its dotted OID and the offset of the OID element.
    OtherMechanism(String, usize),
}

/// Walks a SPNEGO token and returns the mechanism token inside.
///
/// Accepts an `InitialContextToken` (`60 …`) holding the SPNEGO OID and a
/// `NegTokenInit` (or, leniently, a `NegTokenResp`), a bare `NegTokenInit`
/// (`a0 …`) and a bare `NegTokenResp` (`a1 …`). Bytes after the outer
/// element are an error, and so is an `InitialContextToken` of another
/// mechanism (the error names it, e.g. Kerberos 5).
pub fn unwrap(der: &[u8]) -> Result<Unwrapped<'_>, DerError> {
    match walk(der)? {
        Walked::Spnego(u) => Ok(u),
        Walked::OtherMechanism(oid, at) => {
            let name = oid_name(&oid)
                .map(|n| alloc::format!(" ({n})"))
                .unwrap_or_default();
            Err(err(
                "InitialContextToken.thisMech",
                at,
                alloc::format!("mechanism {oid}{name} is not SPNEGO ({SPNEGO_OID})"),
            ))
        }
    }
}

fn walk(der: &[u8]) -> Result<Walked<'_>, DerError> {
    let mut top = Cursor::new(der, 0);
    let outer = top.tlv("token")?;
    if !top.is_empty() {
        return Err(err(
            "token",
            top.pos,
            alloc::format!(
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
                return Ok(Walked::OtherMechanism(oid, oid_tlv.at));
            }
            let inner = c.tlv("NegotiationToken")?;
            let mut out = negotiation_token(inner)?;
            out.info.gss_framed = true;
            Ok(Walked::Spnego(out))
        }
        tag::CONTEXT_0 | tag::CONTEXT_1 => negotiation_token(outer).map(Walked::Spnego),
        other => Err(err(
            "token",
            0,
            alloc::format!(
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
            alloc::format!("tag 0x{other:02x} is neither [0] NegTokenInit nor [1] NegTokenResp"),
        )),
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
                info.neg_state = Some(NegState::from_value(v));
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

/// How a carrier's security token held its NTLM message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Wrapping {
    /// The token is the NTLM message itself (`NTLMSSP\0...`).
    Raw,
    /// The message was the `mechToken`/`responseToken` of a SPNEGO token.
    Spnego {
        /// `NegTokenInit` or `NegTokenResp`.
        kind: TokenKind,
        /// Whether the SPNEGO token sat in a GSS-API `InitialContextToken`.
        gss_framed: bool,
    },
}

/// An NTLM message found in a security token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found<'a> {
    /// The NTLM message (starts with `NTLMSSP\0`).
    pub message: &'a [u8],
    /// How it was wrapped.
    pub wrapping: Wrapping,
}

/// The NTLM message inside a carrier's security token, and how it was wrapped.
///
/// A token starting with `NTLMSSP\0` is the message itself. A token
/// starting like SPNEGO is walked with [`unwrap`]. `Ok(None)`: a
/// well-formed token that holds no NTLM message (an empty token, a Kerberos
/// or NEGOEX `InitialContextToken`, a SPNEGO token without a mechanism
/// token or whose mechanism token is not NTLMSSP, such as Kerberos inside
/// `NegTokenInit`). `Err`: anything else, with the offset that broke.
pub fn find_ntlmssp(token: &[u8]) -> Result<Option<Found<'_>>, DerError> {
    if token.starts_with(&SIGNATURE) {
        return Ok(Some(Found {
            message: token,
            wrapping: Wrapping::Raw,
        }));
    }
    let Some(&first) = token.first() else {
        return Ok(None);
    };
    if !looks_like_spnego(token) {
        return Err(err(
            "token",
            0,
            alloc::format!(
                "token starts with {first:#04x}: neither NTLMSSP nor a GSS-API/SPNEGO token"
            ),
        ));
    }
    Ok(match walk(token)? {
        Walked::OtherMechanism(..) => None,
        Walked::Spnego(u) => u
            .token
            .filter(|t| t.starts_with(&SIGNATURE))
            .map(|message| Found {
                message,
                wrapping: Wrapping::Spnego {
                    kind: u.info.kind,
                    gss_framed: u.info.gss_framed,
                },
            }),
    })
}

/// A `NegTokenInit` to build (RFC 4178 4.2.1).
///
/// Fields left `None` or empty are omitted; `reqFlags` and `mechListMIC`
/// are never written (an NTLM initiator sends neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegTokenInit<'a> {
    /// `mechTypes`, each as DER contents octets (e.g. [`NTLMSSP_OID_DER`]).
    pub mech_types: &'a [&'a [u8]],
    /// `mechToken`: the initiator's first NTLM message.
    pub mech_token: Option<&'a [u8]>,
    /// Frame it as a GSS-API `InitialContextToken` with the SPNEGO OID, as
    /// the first token of a context is (RFC 2743 3.1, RFC 4178 4.2).
    pub gss_framed: bool,
}

impl NegTokenInit<'_> {
    /// The DER encoding.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut fields = Vec::new();
        let oids: Vec<u8> = self
            .mech_types
            .iter()
            .flat_map(|o| der::tlv(tag::OID, o))
            .collect();
        fields.extend(der::tlv(tag::CONTEXT_0, &der::tlv(tag::SEQUENCE, &oids)));
        if let Some(t) = self.mech_token {
            fields.extend(der::tlv(tag::CONTEXT_2, &der::tlv(tag::OCTET_STRING, t)));
        }
        let init = der::tlv(tag::CONTEXT_0, &der::tlv(tag::SEQUENCE, &fields));
        if self.gss_framed {
            let mut framed = der::tlv(tag::OID, SPNEGO_OID_DER);
            framed.extend(init);
            der::tlv(tag::APPLICATION_0, &framed)
        } else {
            init
        }
    }
}

/// A `NegTokenResp` to build (RFC 4178 4.2.2). Fields left `None` are omitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NegTokenResp<'a> {
    /// `negState`.
    pub neg_state: Option<NegState>,
    /// `supportedMech` as DER contents octets (e.g. [`NTLMSSP_OID_DER`]).
    pub supported_mech: Option<&'a [u8]>,
    /// `responseToken`: the NTLM message.
    pub response_token: Option<&'a [u8]>,
    /// `mechListMIC`.
    pub mech_list_mic: Option<&'a [u8]>,
}

impl NegTokenResp<'_> {
    /// The DER encoding.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut fields = Vec::new();
        if let Some(s) = self.neg_state {
            let e = der::tlv(tag::ENUMERATED, &der::encode_int(s.value()));
            fields.extend(der::tlv(tag::CONTEXT_0, &e));
        }
        if let Some(m) = self.supported_mech {
            fields.extend(der::tlv(tag::CONTEXT_1, &der::tlv(tag::OID, m)));
        }
        if let Some(t) = self.response_token {
            fields.extend(der::tlv(tag::CONTEXT_2, &der::tlv(tag::OCTET_STRING, t)));
        }
        if let Some(m) = self.mech_list_mic {
            fields.extend(der::tlv(tag::CONTEXT_3, &der::tlv(tag::OCTET_STRING, m)));
        }
        der::tlv(tag::CONTEXT_1, &der::tlv(tag::SEQUENCE, &fields))
    }
}

/// The first token of an NTLM initiator under SPNEGO: an
/// `InitialContextToken` whose `NegTokenInit` lists NTLMSSP and carries
/// `message` as its `mechToken`.
pub fn wrap_init(message: &[u8]) -> Vec<u8> {
    NegTokenInit {
        mech_types: &[NTLMSSP_OID_DER],
        mech_token: Some(message),
        gss_framed: true,
    }
    .to_vec()
}

/// A later token: a `NegTokenResp` (`accept-incomplete`) whose
/// `responseToken` is `message`.
pub fn wrap_resp(message: &[u8]) -> Vec<u8> {
    NegTokenResp {
        neg_state: Some(NegState::AcceptIncomplete),
        response_token: Some(message),
        ..NegTokenResp::default()
    }
    .to_vec()
}

/// `1.2.3 (Name)` for known OIDs, the dotted form otherwise.
pub fn describe_oid(oid: &str) -> String {
    match oid_name(oid) {
        Some(n) => alloc::format!("{oid} ({n})"),
        None => oid.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::der::tlv;

    const KRB5_OID_DER: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
    const NEG: &[u8] = b"NTLMSSP\0\x01\0\0\0";

    #[test]
    fn unwraps_neg_token_init() {
        let t = wrap_init(NEG);
        let u = unwrap(&t).unwrap();
        assert_eq!(u.token, Some(NEG));
        assert_eq!(u.info.kind, TokenKind::NegTokenInit);
        assert!(u.info.gss_framed);
        assert_eq!(u.info.mech_types, [NTLMSSP_OID]);
        let off = u.info.token_offset.unwrap();
        assert_eq!(&t[off..off + 7], b"NTLMSSP");
    }

    #[test]
    fn unwraps_neg_token_resp() {
        let t = NegTokenResp {
            neg_state: Some(NegState::AcceptIncomplete),
            supported_mech: Some(NTLMSSP_OID_DER),
            response_token: Some(&[0x4e; 200]),
            mech_list_mic: None,
        }
        .to_vec();
        let u = unwrap(&t).unwrap();
        assert_eq!(u.info.kind, TokenKind::NegTokenResp);
        assert_eq!(u.info.neg_state, Some(NegState::AcceptIncomplete));
        assert_eq!(u.info.supported_mech.as_deref(), Some(NTLMSSP_OID));
        assert_eq!(u.token.map(<[u8]>::len), Some(200));
    }

    /// The bytes the capture fixtures and their committed pcaps were built with.
    #[test]
    fn builders_are_byte_exact() {
        let expected = [
            &[0x60, 0x2c, 0x06, 0x06][..],
            SPNEGO_OID_DER,
            &[0xa0, 0x22, 0x30, 0x20, 0xa0, 0x0e, 0x30, 0x0c, 0x06, 0x0a],
            NTLMSSP_OID_DER,
            &[0xa2, 0x0e, 0x04, 0x0c],
            NEG,
        ]
        .concat();
        assert_eq!(wrap_init(NEG), expected);
        let expected = [
            &[
                0xa1, 0x17, 0x30, 0x15, 0xa0, 0x03, 0x0a, 0x01, 0x01, 0xa2, 0x0e, 0x04, 0x0c,
            ][..],
            NEG,
        ]
        .concat();
        assert_eq!(wrap_resp(NEG), expected);
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let t = wrap_init(&[0x4e; 300]);
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
        let t = tlv(0x60, &[tlv(0x06, &KRB5_OID_DER), vec![0x01, 0x00]].concat());
        let e = unwrap(&t).unwrap_err();
        assert_eq!(e.offset, 2);
        assert!(e.to_string().contains("Kerberos 5"), "{e}");
        // The same token holds no NTLM message: not an error for a carrier.
        assert_eq!(find_ntlmssp(&t).unwrap(), None);
    }

    #[test]
    fn single_byte_mutations_never_panic() {
        let t = wrap_init(&[0x4e; 40]);
        for i in 0..t.len() {
            for v in [0x00, 0x7f, 0x80, 0x81, 0x84, 0x85, 0xff] {
                let mut m = t.clone();
                m[i] = v;
                let _ = unwrap(&m);
                let _ = find_ntlmssp(&m);
            }
        }
    }

    #[test]
    fn raw_and_spnego_tokens() {
        let raw = find_ntlmssp(NEG).unwrap().unwrap();
        assert_eq!((raw.message, raw.wrapping), (NEG, Wrapping::Raw));
        let init = wrap_init(NEG);
        let f = find_ntlmssp(&init).unwrap().unwrap();
        assert_eq!(f.message, NEG);
        assert_eq!(
            f.wrapping,
            Wrapping::Spnego {
                kind: TokenKind::NegTokenInit,
                gss_framed: true
            }
        );
        // A big message needs a long-form length.
        let big = [NEG, &[0u8; 300][..]].concat();
        let resp = wrap_resp(&big);
        let f = find_ntlmssp(&resp).unwrap().unwrap();
        assert_eq!(f.message, &big[..]);
        // accept-completed without a token.
        assert_eq!(
            find_ntlmssp(&[0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x00]).unwrap(),
            None
        );
        assert_eq!(find_ntlmssp(&[]).unwrap(), None);
        // Kerberos inside NegTokenInit.
        let krb = NegTokenInit {
            mech_types: &[&KRB5_OID_DER],
            mech_token: Some(&[0x6e, 0x00]),
            gss_framed: true,
        }
        .to_vec();
        assert_eq!(find_ntlmssp(&krb).unwrap(), None);
    }

    #[test]
    fn bad_tokens_name_the_offset() {
        let e = find_ntlmssp(b"\x6e\x82\x01").unwrap_err();
        assert_eq!(e.offset, 0);
        assert!(e.reason.contains("neither NTLMSSP"), "{e}");
        let e = find_ntlmssp(&[0xa1, 0x05, 0x30, 0x09, 0, 0, 0]).unwrap_err();
        assert_eq!((e.structure, e.offset), ("NegTokenResp", 2), "{e}");
        let e = find_ntlmssp(&[0xa1, 0x80]).unwrap_err();
        assert!(e.reason.contains("indefinite"), "{e}");
        let e = find_ntlmssp(&[0xa1, 0x00, 0x00]).unwrap_err();
        assert_eq!(e.offset, 2);
        assert!(
            e.reason.contains("after the end of the outer element"),
            "{e}"
        );
        let e = unwrap(&[0xa2, 0x00]).unwrap_err();
        assert_eq!((e.structure, e.offset), ("token", 0));
    }

    #[test]
    fn neg_state_values() {
        for v in [0, 1, 2, 3, 4, -1] {
            assert_eq!(NegState::from_value(v).value(), v);
        }
        assert_eq!(NegState::Other(7).to_string(), "unknown (7)");
        assert_eq!(
            describe_oid(NTLMSSP_OID),
            "1.3.6.1.4.1.311.2.2.10 (NTLMSSP)"
        );
        assert_eq!(describe_oid("1.2.3"), "1.2.3");
    }
}
