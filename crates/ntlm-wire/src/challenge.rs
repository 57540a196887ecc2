//! CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2).

use alloc::borrow::Cow;
use alloc::vec::Vec;

use crate::av_pair::AvPairs;
use crate::codec::{
    PayloadPlan, Reader, SecurityBuffer, Writer, first_payload, payload_len, put_buffer,
};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::flags::NegotiateFlags;
use crate::version::Version;
use crate::{MessageType, read_header};

/// Short header (Signature, MessageType, TargetNameFields, NegotiateFlags,
/// ServerChallenge), and the header with Reserved and TargetInfoFields.
use crate::layout::challenge::{HEADER_LEN as BASE_LEN, SHORT_HEADER_LEN as SHORT_LEN};

/// [2.2.1.2] CHALLENGE_MESSAGE, the server's answer to a NEGOTIATE.
///
/// Layouts accepted: 32 bytes (no Reserved, TargetInfoFields or Version: some
/// old servers, Samba bug 10016), 48 bytes (NT/2000: no Version) and 56 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeMessage<'a> {
    /// NegotiateFlags: the server's choices.
    pub flags: NegotiateFlags,
    /// ServerChallenge.
    pub server_challenge: [u8; 8],
    /// TargetName in the negotiated charset, raw. `None`: absent (0, 0, 0).
    pub target_name: Option<Cow<'a, [u8]>>,
    /// Reserved (MUST be zero, ignored), kept as received. `None` marks the
    /// 32-byte short header, which has neither Reserved nor TargetInfoFields.
    pub reserved: Option<[u8; 8]>,
    /// TargetInfo (AV pairs), exactly as received. `None`: absent (0, 0, 0).
    pub target_info: Option<AvPairs<'a>>,
    /// The Version slot, when the header has one.
    pub version: Option<Version>,
}

impl<'a> ChallengeMessage<'a> {
    /// Parses a complete message. Bytes after the last payload are ignored.
    pub fn parse(msg: &'a [u8]) -> Result<Self, DecodeError> {
        Self::parse_with(msg, false)
    }

    /// Like [`parse`](Self::parse), but a TargetInfo buffer that runs past
    /// the end of the message is cut to the bytes present, with
    /// [`AvDefects::declared_past_end`](crate::AvDefects) recording the
    /// shortfall, instead of failing. TargetInfo carries its own terminator,
    /// so the pairs present can still be read. For decoders and audits of
    /// captured traffic; a peer should use the strict parse.
    pub fn parse_lenient(msg: &'a [u8]) -> Result<Self, DecodeError> {
        Self::parse_with(msg, true)
    }

    fn parse_with(msg: &'a [u8], lenient: bool) -> Result<Self, DecodeError> {
        let mut r = Reader::new(msg);
        read_header(&mut r, MessageType::Challenge)?;
        let name_buf = r.security_buffer("TargetNameFields")?;
        let flags = NegotiateFlags::from_bits_retain(r.u32("NegotiateFlags")?);
        let server_challenge = r.array("ServerChallenge")?;

        let name_on = flags.contains(NegotiateFlags::REQUEST_TARGET) || name_buf.len > 0;
        let name_first = name_buf
            .payload_start()
            .filter(|_| name_on)
            .unwrap_or(usize::MAX);
        let long = r.remaining() >= BASE_LEN - SHORT_LEN && name_first >= BASE_LEN;
        let (reserved, info_buf) = if long {
            (
                Some(r.array("Reserved")?),
                Some(r.security_buffer("TargetInfoFields")?),
            )
        } else {
            (None, None)
        };
        let info_on = flags.contains(NegotiateFlags::NEGOTIATE_TARGET_INFO);
        let considered = [Some((name_buf, name_on)), info_buf.map(|b| (b, info_on))];
        let first = first_payload(
            considered
                .iter()
                .flatten()
                .filter(|(b, on)| *on || b.resolve(msg, BASE_LEN).is_ok())
                .map(|(b, _)| b),
            msg.len(),
        );
        let version = if long && first >= BASE_LEN + Version::LEN && r.remaining() >= Version::LEN {
            Some(Version::from_bytes(r.array("Version")?))
        } else {
            None
        };
        let header_len = r.pos();
        let resolve = |b: SecurityBuffer, on: bool| match b.resolve(msg, header_len) {
            Ok(v) => Ok(v),
            Err(e) if on => Err(e),
            Err(_) => Ok(None),
        };
        let target_name = resolve(name_buf, name_on)?.map(Cow::Borrowed);
        let target_info = match info_buf {
            Some(b) => match resolve(b, info_on) {
                Ok(v) => v.map(AvPairs::new),
                Err(e) => match (lenient, e.kind, msg.get(b.offset as usize..)) {
                    (true, DecodeErrorKind::BufferOutOfRange { .. }, Some(present)) => {
                        Some(AvPairs::new_truncated(
                            present,
                            usize::from(b.len).saturating_sub(present.len()),
                        ))
                    }
                    _ => return Err(e),
                },
            },
            None => None,
        };
        Ok(Self {
            flags,
            server_challenge,
            target_name,
            reserved,
            target_info,
            version,
        })
    }

    /// The Version, when the header has the slot *and* `NEGOTIATE_VERSION` is set.
    pub fn version_if_negotiated(&self) -> Option<Version> {
        self.version
            .filter(|_| self.flags.contains(NegotiateFlags::NEGOTIATE_VERSION))
    }

    /// Length of the fixed header this message is emitted with.
    pub const fn header_len(&self) -> usize {
        match (self.reserved.is_some(), self.version.is_some()) {
            (false, _) => SHORT_LEN,
            (true, false) => BASE_LEN,
            (true, true) => BASE_LEN + Version::LEN,
        }
    }

    /// Encoded length.
    pub fn buffer_len(&self) -> usize {
        self.header_len().saturating_add(payload_len(&[
            self.target_name.as_deref(),
            self.target_info.as_ref().map(AvPairs::as_bytes),
        ]))
    }

    /// Encodes into `out`, returning the number of bytes written.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        if self.reserved.is_none() && (self.target_info.is_some() || self.version.is_some()) {
            return Err(EncodeError::Inconsistent {
                reason: "the 32-byte CHALLENGE header has no TargetInfo or Version",
            });
        }
        let needed = self.buffer_len();
        let info = self.target_info.as_ref().map(AvPairs::as_bytes);
        let mut plan = PayloadPlan::new(self.header_len());
        let name_sb = plan.place("TargetName", self.target_name.as_deref())?;
        let info_sb = plan.place("TargetInfo", info)?;
        let mut w = Writer::new(out, needed)?;
        w.header(MessageType::Challenge as u32)?;
        put_buffer(&mut w, name_sb)?;
        w.u32(self.flags.bits())?;
        w.put(&self.server_challenge)?;
        if let Some(reserved) = self.reserved {
            w.put(&reserved)?;
            put_buffer(&mut w, info_sb)?;
        }
        if let Some(v) = self.version {
            w.put(&v.to_bytes())?;
        }
        w.put(self.target_name.as_deref().unwrap_or_default())?;
        w.put(info.unwrap_or_default())?;
        debug_assert_eq!(w.pos(), plan.end());
        Ok(w.pos())
    }

    /// Encodes into a new vector.
    pub fn to_vec(&self) -> Result<Vec<u8>, EncodeError> {
        let mut v = alloc::vec![0; self.buffer_len()];
        self.emit(&mut v)?;
        Ok(v)
    }

    /// Detaches from the input buffer.
    pub fn into_owned(self) -> ChallengeMessage<'static> {
        ChallengeMessage {
            flags: self.flags,
            server_challenge: self.server_challenge,
            target_name: self.target_name.map(|c| Cow::Owned(c.into_owned())),
            reserved: self.reserved,
            target_info: self.target_info.map(AvPairs::into_owned),
            version: self.version,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::av_pair::AvId;

    const SPEC_4_2_4_3: &str = "4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef00000000000000002400240044000000060070170000000f53006500720076006500720002000c0044006f006d00610069006e0001000c0053006500720076006500720000000000";

    #[test]
    fn test_parse_spec_ntlmv2() {
        let b = hex::decode(SPEC_4_2_4_3).unwrap();
        let m = ChallengeMessage::parse(&b).unwrap();
        assert_eq!(m.flags.bits(), 0xe28a_8233);
        assert_eq!(
            m.server_challenge,
            [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]
        );
        assert_eq!(
            m.target_name.as_deref(),
            Some(&crate::text::utf16le("Server")[..])
        );
        let ti = m.target_info.as_ref().unwrap();
        assert_eq!(ti.iter().count(), 2);
        assert_eq!(
            ti.get(AvId::NB_DOMAIN_NAME).unwrap().value,
            &crate::text::utf16le("Domain")[..]
        );
        assert_eq!(m.version, Some(Version::new(6, 0, 6000)));
        assert_eq!(m.header_len(), 56);
        assert_eq!(m.to_vec().unwrap(), b);
    }

    #[test]
    fn test_emit_into_a5_buffer() {
        let b = hex::decode(SPEC_4_2_4_3).unwrap();
        let m = ChallengeMessage::parse(&b).unwrap();
        let mut out = vec![0xa5; m.buffer_len()];
        m.emit(&mut out).unwrap();
        assert_eq!(out, b);
    }

    #[test]
    fn accepts_48_byte_header() {
        // Remove the Version slot and shift the payload offsets down by 8.
        let b = hex::decode(SPEC_4_2_4_3).unwrap();
        let mut m = ChallengeMessage::parse(&b).unwrap().into_owned();
        m.version = None;
        let short = m.to_vec().unwrap();
        assert_eq!(short.len(), b.len() - 8);
        assert_eq!(&short[16..20], &48u32.to_le_bytes());
        assert_eq!(ChallengeMessage::parse(&short).unwrap(), m);
    }

    #[test]
    fn accepts_32_byte_header() {
        let mut b = hex::decode(SPEC_4_2_4_3).unwrap();
        b.truncate(32);
        b[12..20].copy_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
        b[22] = 0; // clear TARGET_INFO
        let m = ChallengeMessage::parse(&b).unwrap();
        assert_eq!(m.reserved, None);
        assert_eq!(m.target_info, None);
        assert_eq!(m.header_len(), 32);
        assert_eq!(m.to_vec().unwrap(), b);
    }

    #[test]
    fn short_header_with_target_name_at_32() {
        let name = crate::text::utf16le("SRV");
        let m = ChallengeMessage {
            flags: NegotiateFlags::NEGOTIATE_UNICODE | NegotiateFlags::REQUEST_TARGET,
            server_challenge: [7; 8],
            target_name: Some(Cow::Owned(name)),
            reserved: None,
            target_info: None,
            version: None,
        };
        let b = m.to_vec().unwrap();
        assert_eq!(b.len(), 38);
        assert_eq!(ChallengeMessage::parse(&b).unwrap(), m);
    }

    #[test]
    fn rejects_target_info_past_end() {
        let mut b = hex::decode(SPEC_4_2_4_3).unwrap();
        b[40] = 0x80; // TargetInfoLen 0x80
        let e = ChallengeMessage::parse(&b).unwrap_err();
        assert_eq!(e.field, "TargetInfoFields");
        assert_eq!(e.offset, 40);
        assert!(matches!(
            e.kind,
            DecodeErrorKind::BufferOutOfRange { len: 0x80, .. }
        ));
    }

    #[test]
    fn lenient_parse_cuts_target_info_at_the_end() {
        let mut b = hex::decode(SPEC_4_2_4_3).unwrap();
        b.truncate(b.len() - 4); // drop MsvAvEOL: TargetInfoLen now runs 4 bytes past the end
        assert!(ChallengeMessage::parse(&b).is_err());
        let m = ChallengeMessage::parse_lenient(&b).unwrap();
        let ti = m.target_info.unwrap();
        assert_eq!(ti.iter().count(), 2);
        assert!(ti.defects().missing_eol);
        assert_eq!(ti.defects().declared_past_end, Some(4));
        assert!(!ti.defects().is_clean());
        // Other buffers stay strict.
        b[16] = 0xff;
        assert!(ChallengeMessage::parse_lenient(&b).is_err());
    }

    #[test]
    fn inconsistent_model_is_an_error() {
        let m = ChallengeMessage {
            flags: NegotiateFlags::empty(),
            server_challenge: [0; 8],
            target_name: None,
            reserved: None,
            target_info: None,
            version: Some(Version::default()),
        };
        assert!(matches!(m.to_vec(), Err(EncodeError::Inconsistent { .. })));
    }
}
