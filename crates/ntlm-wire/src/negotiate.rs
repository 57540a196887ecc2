//! NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1).

use alloc::borrow::Cow;
use alloc::vec::Vec;

use crate::codec::{
    PayloadPlan, Reader, SecurityBuffer, Writer, first_payload, payload_len, put_buffer,
};
use crate::error::{DecodeError, EncodeError};
use crate::flags::NegotiateFlags;
use crate::version::Version;
use crate::{MessageType, read_header};

/// Fixed part without Version: Signature, MessageType, NegotiateFlags, two security buffers.
use crate::layout::negotiate::HEADER_LEN as BASE_LEN;

/// [2.2.1.1] NEGOTIATE_MESSAGE, sent by the client to start the exchange.
///
/// Layouts accepted: the 32-byte header of NT 4.0/2000 (no Version) and the
/// 40-byte header with Version. Which one a message uses is decided from the
/// first payload offset; [`version`](Self::version) is `Some` when the header
/// has the Version slot, whatever the flags say (see
/// [`version_if_negotiated`](Self::version_if_negotiated)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiateMessage<'a> {
    /// NegotiateFlags.
    pub flags: NegotiateFlags,
    /// DomainName (OEM). `None`: absent (0, 0, 0); `Some(empty)`: placed but empty.
    /// Only meaningful with `NEGOTIATE_OEM_DOMAIN_SUPPLIED`.
    pub domain: Option<Cow<'a, [u8]>>,
    /// WorkstationName (OEM). Only meaningful with `NEGOTIATE_OEM_WORKSTATION_SUPPLIED`.
    pub workstation: Option<Cow<'a, [u8]>>,
    /// The Version slot, when the header has one.
    pub version: Option<Version>,
}

impl<'a> NegotiateMessage<'a> {
    /// A NEGOTIATE with these flags and no payload; Version slot when given.
    pub const fn new(flags: NegotiateFlags, version: Option<Version>) -> Self {
        Self {
            flags,
            domain: None,
            workstation: None,
            version,
        }
    }

    /// Parses a complete message. Bytes after the last payload are ignored.
    pub fn parse(msg: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(msg);
        read_header(&mut r, MessageType::Negotiate)?;
        let flags = NegotiateFlags::from_bits_retain(r.u32("NegotiateFlags")?);
        let domain_buf = r.security_buffer("DomainNameFields")?;
        let ws_buf = r.security_buffer("WorkstationFields")?;
        // The buffers are meaningful only with their flag (MS-NLMP 2.2.1.1):
        // an unflagged buffer is ignored unless it is placed sensibly.
        let domain_on = flags.contains(NegotiateFlags::NEGOTIATE_OEM_DOMAIN_SUPPLIED);
        let ws_on = flags.contains(NegotiateFlags::NEGOTIATE_OEM_WORKSTATION_SUPPLIED);
        let considered = [(domain_buf, domain_on), (ws_buf, ws_on)];
        let first = first_payload(
            considered
                .iter()
                .filter(|(b, on)| *on || b.resolve(msg, BASE_LEN).is_ok())
                .map(|(b, _)| b),
            msg.len(),
        );
        let version = if first >= BASE_LEN + Version::LEN && r.remaining() >= Version::LEN {
            Some(Version::from_bytes(r.array("Version")?))
        } else {
            None
        };
        let header_len = r.pos();
        let field = |b: SecurityBuffer, on: bool| -> Result<Option<Cow<'a, [u8]>>, DecodeError> {
            match b.resolve(msg, header_len) {
                Ok(v) => Ok(v.map(Cow::Borrowed)),
                Err(e) if on => Err(e),
                Err(_) => Ok(None),
            }
        };
        Ok(Self {
            flags,
            domain: field(domain_buf, domain_on)?,
            workstation: field(ws_buf, ws_on)?,
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
        if self.version.is_some() {
            BASE_LEN + Version::LEN
        } else {
            BASE_LEN
        }
    }

    /// Encoded length.
    pub fn buffer_len(&self) -> usize {
        self.header_len().saturating_add(payload_len(&[
            self.domain.as_deref(),
            self.workstation.as_deref(),
        ]))
    }

    /// Encodes into `out`, returning the number of bytes written
    /// (`buffer_len()`). Never panics; a short buffer is an error.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let needed = self.buffer_len();
        let mut plan = PayloadPlan::new(self.header_len());
        let domain = plan.place("DomainName", self.domain.as_deref())?;
        let ws = plan.place("WorkstationName", self.workstation.as_deref())?;
        let mut w = Writer::new(out, needed)?;
        w.header(MessageType::Negotiate as u32)?;
        w.u32(self.flags.bits())?;
        put_buffer(&mut w, domain)?;
        put_buffer(&mut w, ws)?;
        if let Some(v) = self.version {
            w.put(&v.to_bytes())?;
        }
        w.put(self.domain.as_deref().unwrap_or_default())?;
        w.put(self.workstation.as_deref().unwrap_or_default())?;
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
    pub fn into_owned(self) -> NegotiateMessage<'static> {
        NegotiateMessage {
            flags: self.flags,
            domain: self.domain.map(|c| Cow::Owned(c.into_owned())),
            workstation: self.workstation.map(|c| Cow::Owned(c.into_owned())),
            version: self.version,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DecodeErrorKind;

    // A Windows 7 NEGOTIATE reconstructed from a captured MIC: 40 bytes, absent fields (0,0,0).
    const WIN7: &str =
        "4e544c4d5353500001000000078208a2000000000000000000000000000000000601b01d0000000f";
    // Derived MIC vector NEGOTIATE: empty fields placed at offset 40.
    const DERIVED: &str =
        "4e544c4d5353500001000000378208e2000000002800000000000000280000000601b11d0000000f";

    #[test]
    fn test_parse_win7() {
        let b = hex::decode(WIN7).unwrap();
        let m = NegotiateMessage::parse(&b).unwrap();
        assert_eq!(m.flags.bits(), 0xa208_8207);
        assert_eq!(m.domain, None);
        assert_eq!(m.workstation, None);
        assert_eq!(m.version, Some(Version::new(6, 1, 7600)));
        assert_eq!(m.to_vec().unwrap(), b);
    }

    #[test]
    fn test_parse_placed_empty_fields() {
        let b = hex::decode(DERIVED).unwrap();
        let m = NegotiateMessage::parse(&b).unwrap();
        assert_eq!(m.domain.as_deref(), Some(&[][..]));
        assert_eq!(m.version_if_negotiated(), Some(Version::new(6, 1, 7601)));
        assert_eq!(m.to_vec().unwrap(), b);
    }

    #[test]
    fn test_emit_writes_every_byte() {
        let m = NegotiateMessage {
            flags: NegotiateFlags::NEGOTIATE_OEM_DOMAIN_SUPPLIED
                | NegotiateFlags::NEGOTIATE_OEM_WORKSTATION_SUPPLIED
                | NegotiateFlags::NEGOTIATE_OEM,
            domain: Some(Cow::Borrowed(b"DOM")),
            workstation: Some(Cow::Borrowed(b"WS")),
            version: None,
        };
        let mut out = vec![0xa5; m.buffer_len()];
        assert_eq!(m.emit(&mut out).unwrap(), 37);
        assert_eq!(&out[32..], b"DOMWS");
        assert_eq!(&out[16..24], &[3, 0, 3, 0, 32, 0, 0, 0]);
        assert_eq!(NegotiateMessage::parse(&out).unwrap(), m);
    }

    #[test]
    fn accepts_32_byte_header() {
        let mut b = hex::decode(WIN7).unwrap();
        b.truncate(32);
        let m = NegotiateMessage::parse(&b).unwrap();
        assert_eq!(m.version, None);
        assert_eq!(m.version_if_negotiated(), None);
    }

    #[test]
    fn ignores_unflagged_garbage_buffer() {
        let mut b = hex::decode(WIN7).unwrap();
        b[16..24].copy_from_slice(&[9, 0, 9, 0, 0xff, 0xff, 0, 0]);
        let m = NegotiateMessage::parse(&b).unwrap();
        assert_eq!(m.domain, None);
    }

    #[test]
    fn rejects_flagged_buffer_out_of_range() {
        let mut b = hex::decode(WIN7).unwrap();
        b[13] |= 0x10; // NEGOTIATE_OEM_DOMAIN_SUPPLIED (0x1000)
        b[16..24].copy_from_slice(&[9, 0, 9, 0, 0xff, 0xff, 0, 0]);
        let e = NegotiateMessage::parse(&b).unwrap_err();
        assert_eq!(e.field, "DomainNameFields");
        assert_eq!(e.offset, 16);
        assert!(matches!(e.kind, DecodeErrorKind::BufferOutOfRange { .. }));
    }

    #[test]
    fn rejects_wrong_type() {
        let mut b = hex::decode(WIN7).unwrap();
        b[8] = 2;
        let e = NegotiateMessage::parse(&b).unwrap_err();
        assert_eq!(
            e.kind,
            DecodeErrorKind::WrongMessageType {
                expected: 1,
                got: 2
            }
        );
        assert_eq!(
            e.to_string(),
            "MessageType at offset 8: expected message type 1, got 2"
        );
    }
}
