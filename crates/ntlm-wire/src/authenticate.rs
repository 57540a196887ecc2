//! AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3).

use alloc::borrow::Cow;
use alloc::vec::Vec;

use crate::codec::{PayloadPlan, Reader, Writer, first_payload, payload_len, put_buffer};
use crate::error::{DecodeError, EncodeError};
use crate::flags::NegotiateFlags;
use crate::response::{NtlmV2Response, ResponseKind};
use crate::version::Version;
use crate::{MessageType, read_header};

/// Fixed part without Version or MIC.
use crate::layout::authenticate::HEADER_LEN as BASE_LEN;

/// Offset of the MIC field in an 88-byte header (MS-NLMP 2.2.1.3; Samba
/// `NTLMSSP_MIC_OFFSET`): [`layout::authenticate::MIC`](crate::layout::authenticate::MIC).
pub const MIC_OFFSET: usize = crate::layout::authenticate::MIC;
/// Size of the MIC field.
pub const MIC_LEN: usize = crate::layout::authenticate::MIC_LEN;

/// [2.2.1.3] AUTHENTICATE_MESSAGE, the client's final message.
///
/// Layouts accepted: 64-byte header (no Version, no MIC: NT/2000, or a
/// "drop the MIC" rewrite), 72 bytes (Version, no MIC: XP/2003 and the
/// MS-NLMP 4.2 examples) and 88 bytes (Version and MIC at offset 72). The
/// layout is derived from the lowest payload offset. Payloads may come in any
/// order, overlap and be padded; a parsed message borrows every field exactly
/// as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticateMessage<'a> {
    /// LmChallengeResponse. `None`: absent (0, 0, 0).
    pub lm_response: Option<Cow<'a, [u8]>>,
    /// NtChallengeResponse.
    pub nt_response: Option<Cow<'a, [u8]>>,
    /// DomainName, in the negotiated charset.
    pub domain: Option<Cow<'a, [u8]>>,
    /// UserName, in the negotiated charset.
    pub user: Option<Cow<'a, [u8]>>,
    /// Workstation, in the negotiated charset.
    pub workstation: Option<Cow<'a, [u8]>>,
    /// EncryptedRandomSessionKey.
    pub encrypted_random_session_key: Option<Cow<'a, [u8]>>,
    /// NegotiateFlags.
    pub flags: NegotiateFlags,
    /// The Version slot, when the header has one.
    pub version: Option<Version>,
    /// The MIC field (offset 72), when the header is 88 bytes or longer.
    pub mic: Option<[u8; MIC_LEN]>,
}

impl<'a> AuthenticateMessage<'a> {
    /// Parses a complete message. Bytes after the last payload are ignored.
    pub fn parse(msg: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(msg);
        read_header(&mut r, MessageType::Authenticate)?;
        let bufs = [
            r.security_buffer("LmChallengeResponseFields")?,
            r.security_buffer("NtChallengeResponseFields")?,
            r.security_buffer("DomainNameFields")?,
            r.security_buffer("UserNameFields")?,
            r.security_buffer("WorkstationFields")?,
            r.security_buffer("EncryptedRandomSessionKeyFields")?,
        ];
        let flags = NegotiateFlags::from_bits_retain(r.u32("NegotiateFlags")?);
        let first = first_payload(bufs.iter(), msg.len());
        let version = if first >= MIC_OFFSET && r.remaining() >= Version::LEN {
            Some(Version::from_bytes(r.array("Version")?))
        } else {
            None
        };
        let mic = if version.is_some() && first >= MIC_OFFSET + MIC_LEN && r.remaining() >= MIC_LEN
        {
            Some(r.array("MIC")?)
        } else {
            None
        };
        let header_len = r.pos();
        let [lm, nt, domain, user, ws, key] = bufs;
        let get = |b: crate::codec::SecurityBuffer| {
            b.resolve(msg, header_len).map(|o| o.map(Cow::Borrowed))
        };
        Ok(Self {
            lm_response: get(lm)?,
            nt_response: get(nt)?,
            domain: get(domain)?,
            user: get(user)?,
            workstation: get(ws)?,
            encrypted_random_session_key: get(key)?,
            flags,
            version,
            mic,
        })
    }

    /// The Version, when the header has the slot *and* `NEGOTIATE_VERSION` is set.
    pub fn version_if_negotiated(&self) -> Option<Version> {
        self.version
            .filter(|_| self.flags.contains(NegotiateFlags::NEGOTIATE_VERSION))
    }

    /// Length of the fixed header this message is emitted with (64, 72 or 88).
    pub const fn header_len(&self) -> usize {
        match (self.version.is_some(), self.mic.is_some()) {
            (false, _) => BASE_LEN,
            (true, false) => MIC_OFFSET,
            (true, true) => MIC_OFFSET + MIC_LEN,
        }
    }

    /// The fields in payload order, as emitted.
    fn payload(&self) -> [(&'static str, Option<&[u8]>); 6] {
        [
            ("DomainName", self.domain.as_deref()),
            ("UserName", self.user.as_deref()),
            ("Workstation", self.workstation.as_deref()),
            ("LmChallengeResponse", self.lm_response.as_deref()),
            ("NtChallengeResponse", self.nt_response.as_deref()),
            (
                "EncryptedRandomSessionKey",
                self.encrypted_random_session_key.as_deref(),
            ),
        ]
    }

    /// Encoded length.
    pub fn buffer_len(&self) -> usize {
        self.header_len()
            .saturating_add(payload_len(&self.payload().map(|(_, d)| d)))
    }

    /// Encodes into `out`, returning the number of bytes written. Payloads go
    /// in the order Windows uses (domain, user, workstation, LM, NT, key).
    pub fn emit(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        if self.mic.is_some() && self.version.is_none() {
            return Err(EncodeError::Inconsistent {
                reason: "the MIC at offset 72 needs the Version slot before it",
            });
        }
        let needed = self.buffer_len();
        let payload = self.payload();
        let mut plan = PayloadPlan::new(self.header_len());
        let mut placed = [(0u16, 0u32); 6];
        for (slot, (field, data)) in placed.iter_mut().zip(payload) {
            *slot = plan.place(field, data)?;
        }
        let [domain, user, ws, lm, nt, key] = placed;
        let mut w = Writer::new(out, needed)?;
        w.header(MessageType::Authenticate as u32)?;
        for sb in [lm, nt, domain, user, ws, key] {
            put_buffer(&mut w, sb)?;
        }
        w.u32(self.flags.bits())?;
        if let Some(v) = self.version {
            w.put(&v.to_bytes())?;
        }
        if let Some(mic) = self.mic {
            w.put(&mic)?;
        }
        for (_, data) in payload {
            w.put(data.unwrap_or_default())?;
        }
        debug_assert_eq!(w.pos(), plan.end());
        Ok(w.pos())
    }

    /// Encodes into a new vector.
    pub fn to_vec(&self) -> Result<Vec<u8>, EncodeError> {
        let mut v = alloc::vec![0; self.buffer_len()];
        self.emit(&mut v)?;
        Ok(v)
    }

    /// Classifies the responses (MS-NLMP 3.2.5.1.2, 3.3).
    pub fn response_kind(&self) -> ResponseKind {
        ResponseKind::classify(
            self.flags,
            self.lm_response.as_deref().unwrap_or_default(),
            self.nt_response.as_deref().unwrap_or_default(),
            self.user.as_deref().unwrap_or_default(),
        )
    }

    /// The NT response decoded as an NTLMv2_RESPONSE, when it is longer than 24 bytes.
    ///
    /// `None` for shorter responses; errors name the field and its offset
    /// within the NT response.
    pub fn ntlmv2_response(&self) -> Option<Result<NtlmV2Response<'_>, DecodeError>> {
        let nt = self.nt_response.as_deref()?;
        (nt.len() > 24).then(|| NtlmV2Response::parse(nt))
    }

    /// Detaches from the input buffer.
    pub fn into_owned(self) -> AuthenticateMessage<'static> {
        let own = |c: Option<Cow<'a, [u8]>>| c.map(|c| Cow::Owned(c.into_owned()));
        AuthenticateMessage {
            lm_response: own(self.lm_response),
            nt_response: own(self.nt_response),
            domain: own(self.domain),
            user: own(self.user),
            workstation: own(self.workstation),
            encrypted_random_session_key: own(self.encrypted_random_session_key),
            flags: self.flags,
            version: self.version,
            mic: self.mic,
        }
    }
}

/// Copies `msg` with the MIC field (bytes 72..88) zeroed: the AUTHENTICATE
/// input to the MIC computation (MS-NLMP 3.1.5.1.2). `None` when the message
/// is too short to hold a MIC.
pub fn with_zeroed_mic(msg: &[u8]) -> Option<Vec<u8>> {
    let mut v = msg.to_vec();
    v.get_mut(MIC_OFFSET..MIC_OFFSET + MIC_LEN)?.fill(0);
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DecodeErrorKind;
    use crate::text::utf16le;

    fn spec_ntlmv2() -> Vec<u8> {
        include_bytes!("../tests/data/ms-nlmp-4.2.4.3-authenticate.bin").to_vec()
    }

    #[test]
    fn test_parse_spec_ntlmv2() {
        let b = spec_ntlmv2();
        assert_eq!(b.len(), 232);
        let m = AuthenticateMessage::parse(&b).unwrap();
        assert_eq!(m.flags.bits(), 0xe288_8235);
        assert_eq!(m.domain.as_deref(), Some(&utf16le("Domain")[..]));
        assert_eq!(m.user.as_deref(), Some(&utf16le("User")[..]));
        assert_eq!(m.workstation.as_deref(), Some(&utf16le("COMPUTER")[..]));
        assert_eq!(m.nt_response.as_deref().map(<[u8]>::len), Some(84));
        assert_eq!(m.version, Some(Version::new(5, 1, 2600)));
        assert_eq!(m.mic, None);
        assert_eq!(m.header_len(), 72);
        assert_eq!(m.response_kind(), ResponseKind::NtlmV2);
        let v2 = m.ntlmv2_response().unwrap().unwrap();
        assert_eq!(
            hex::encode(v2.nt_proof_str),
            "68cd0ab851e51c96aabc927bebef6a1c"
        );
        assert_eq!(v2.blob.len(), 68);
        assert_eq!(m.to_vec().unwrap(), b);
    }

    #[test]
    fn exposes_exact_bytes() {
        let b = spec_ntlmv2();
        let m = AuthenticateMessage::parse(&b).unwrap();
        let nt = m.nt_response.as_deref().unwrap();
        assert_eq!(nt.as_ptr(), b[0x84..].as_ptr());
        assert!(matches!(m.nt_response, Some(Cow::Borrowed(_))));
    }

    #[test]
    fn mic_layout_round_trips() {
        let b = spec_ntlmv2();
        let mut m = AuthenticateMessage::parse(&b).unwrap().into_owned();
        m.mic = Some([0x11; 16]);
        let with_mic = m.to_vec().unwrap();
        assert_eq!(with_mic.len(), 248);
        assert_eq!(&with_mic[72..88], &[0x11; 16]);
        let back = AuthenticateMessage::parse(&with_mic).unwrap();
        assert_eq!(back.header_len(), 88);
        assert_eq!(back, m);
        let zeroed = with_zeroed_mic(&with_mic).unwrap();
        assert_eq!(&zeroed[72..88], &[0; 16]);
        assert_eq!(&zeroed[..72], &with_mic[..72]);
    }

    #[test]
    fn accepts_64_byte_header() {
        let b = spec_ntlmv2();
        let mut m = AuthenticateMessage::parse(&b).unwrap().into_owned();
        m.version = None;
        let short = m.to_vec().unwrap();
        assert_eq!(short.len(), 224);
        let back = AuthenticateMessage::parse(&short).unwrap();
        assert_eq!(back.header_len(), 64);
        assert_eq!(back, m);
    }

    #[test]
    fn accepts_payload_in_any_order_and_overlapping() {
        let b = spec_ntlmv2();
        let mut v = b.clone();
        // Point WorkstationFields at the user name (overlap) and move it around.
        v[44..52].copy_from_slice(&[8, 0, 8, 0, 0x54, 0, 0, 0]);
        let m = AuthenticateMessage::parse(&v).unwrap();
        assert_eq!(m.workstation, m.user);
    }

    #[test]
    fn rejects_buffer_in_header() {
        let mut b = spec_ntlmv2();
        b[16] = 0x10; // LmChallengeResponse at offset 16
        let e = AuthenticateMessage::parse(&b).unwrap_err();
        assert_eq!(e.field, "LmChallengeResponseFields");
        assert!(matches!(
            e.kind,
            DecodeErrorKind::BufferOverlapsHeader { .. }
        ));
    }

    #[test]
    fn every_prefix_fails_cleanly() {
        let b = spec_ntlmv2();
        for n in 0..b.len() {
            let _ = AuthenticateMessage::parse(&b[..n]);
        }
        assert!(AuthenticateMessage::parse(&b[..0xd8]).is_err());
    }
}
