//! Checked reading and writing of little-endian fields.
//!
//! Reading goes through nom 8's `complete` parsers, whose failures are mapped
//! to a [`DecodeError`] naming the field and its offset. Every offset and
//! length taken from the wire is checked with overflow-safe arithmetic before
//! it is used; nothing here indexes or panics.

use nom::Parser;
use nom::bytes::complete::{tag, take};
use nom::number::complete::{le_u16, le_u32, le_u64, u8 as le_u8};

use crate::error::{DecodeError, DecodeErrorKind, EncodeError};

/// `NTLMSSP\0`, the first eight bytes of every message.
pub const SIGNATURE: [u8; 8] = *b"NTLMSSP\0";

type NomError<'a> = nom::error::Error<&'a [u8]>;

/// A cursor over a complete message.
pub(crate) struct Reader<'a> {
    msg: &'a [u8],
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) const fn new(msg: &'a [u8]) -> Self {
        Self { msg, rest: msg }
    }

    /// Offset of the next unread byte.
    pub(crate) fn pos(&self) -> usize {
        self.msg.len().saturating_sub(self.rest.len())
    }

    pub(crate) fn remaining(&self) -> usize {
        self.rest.len()
    }

    fn run<O, P>(&mut self, field: &'static str, needed: usize, mut p: P) -> Result<O, DecodeError>
    where
        P: Parser<&'a [u8], Output = O, Error = NomError<'a>>,
    {
        let pos = self.pos();
        match p.parse(self.rest) {
            Ok((rest, out)) => {
                self.rest = rest;
                Ok(out)
            }
            Err(_) => Err(DecodeError::truncated(field, pos, needed, self.rest.len())),
        }
    }

    pub(crate) fn signature(&mut self) -> Result<(), DecodeError> {
        if self.rest.len() < SIGNATURE.len() {
            return Err(DecodeError::truncated(
                "Signature",
                0,
                SIGNATURE.len(),
                self.rest.len(),
            ));
        }
        self.run("Signature", SIGNATURE.len(), tag(&SIGNATURE[..]))
            .map(|_| ())
            .map_err(|e| DecodeError::new(e.field, e.offset, DecodeErrorKind::BadSignature))
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        self.run(field, 1, le_u8)
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        self.run(field, 2, le_u16)
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        self.run(field, 4, le_u32)
    }

    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        self.run(field, 8, le_u64)
    }

    pub(crate) fn bytes(&mut self, field: &'static str, n: usize) -> Result<&'a [u8], DecodeError> {
        self.run(field, n, take(n))
    }

    pub(crate) fn array<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], DecodeError> {
        let pos = self.pos();
        let s = self.bytes(field, N)?;
        <[u8; N]>::try_from(s).map_err(|_| DecodeError::truncated(field, pos, N, s.len()))
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.rest)
    }

    pub(crate) fn security_buffer(
        &mut self,
        field: &'static str,
    ) -> Result<SecurityBuffer, DecodeError> {
        let pos = self.pos();
        let (len, max_len, offset) = self.run(field, 8, (le_u16, le_u16, le_u32))?;
        Ok(SecurityBuffer {
            field,
            at: pos,
            len,
            max_len,
            offset,
        })
    }
}

/// A security buffer (`Len`, `MaxLen`, `BufferOffset`) as read from a header.
///
/// The values are untrusted until they have been checked against the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityBuffer {
    /// The MS-NLMP name of the `…Fields` structure.
    pub field: &'static str,
    /// Offset of the 8-byte structure itself in the message.
    pub at: usize,
    /// `Len`.
    pub len: u16,
    /// `MaxLen` (ignored on receipt, as MS-NLMP 2.2 requires).
    pub max_len: u16,
    /// `BufferOffset`, from the start of the message.
    pub offset: u32,
}

impl SecurityBuffer {
    /// Offset of the payload when it is non-empty.
    pub(crate) fn payload_start(&self) -> Option<usize> {
        (self.len > 0).then_some(self.offset as usize)
    }

    /// Checks the buffer against the message and returns its bytes.
    ///
    /// `None` when the field is absent (`Len` 0 and `BufferOffset` 0);
    /// `Some(&[])` when it is empty but placed. `header_len` is the fixed part a
    /// payload may not overlap.
    pub(crate) fn resolve<'a>(
        &self,
        msg: &'a [u8],
        header_len: usize,
    ) -> Result<Option<&'a [u8]>, DecodeError> {
        if self.len == 0 {
            return Ok((self.offset != 0).then_some(&[][..]));
        }
        let start = self.offset as usize;
        if start < header_len {
            return Err(DecodeError::new(
                self.field,
                self.at,
                DecodeErrorKind::BufferOverlapsHeader {
                    buffer_offset: self.offset,
                    header_len,
                },
            ));
        }
        start
            .checked_add(usize::from(self.len))
            .and_then(|end| msg.get(start..end))
            .map(Some)
            .ok_or(DecodeError::new(
                self.field,
                self.at,
                DecodeErrorKind::BufferOutOfRange {
                    buffer_offset: self.offset,
                    len: self.len,
                    message_len: msg.len(),
                },
            ))
    }
}

/// The lowest offset at which any payload begins: non-empty buffers first,
/// then placed empty ones, else the message length. Real messages omit
/// optional header fields (Version, MIC) and this is how their absence shows.
pub(crate) fn first_payload<'b, I>(buffers: I, msg_len: usize) -> usize
where
    I: Iterator<Item = &'b SecurityBuffer> + Clone,
{
    let non_empty = buffers
        .clone()
        .filter_map(SecurityBuffer::payload_start)
        .min();
    let placed_empty = buffers
        .filter(|b| b.len == 0 && b.offset != 0)
        .map(|b| b.offset as usize)
        .min();
    non_empty.or(placed_empty).unwrap_or(msg_len).min(msg_len)
}

/// A bounds-checked writer into a caller-provided buffer.
pub(crate) struct Writer<'o> {
    out: &'o mut [u8],
    pos: usize,
}

impl<'o> Writer<'o> {
    pub(crate) fn new(out: &'o mut [u8], needed: usize) -> Result<Self, EncodeError> {
        if out.len() < needed {
            return Err(EncodeError::BufferTooSmall {
                needed,
                available: out.len(),
            });
        }
        Ok(Self { out, pos: 0 })
    }

    pub(crate) const fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn put(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        let end = self
            .pos
            .checked_add(bytes.len())
            .ok_or(EncodeError::BufferTooSmall {
                needed: usize::MAX,
                available: self.out.len(),
            })?;
        let available = self.out.len();
        self.out
            .get_mut(self.pos..end)
            .ok_or(EncodeError::BufferTooSmall {
                needed: end,
                available,
            })?
            .copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    pub(crate) fn u16(&mut self, v: u16) -> Result<(), EncodeError> {
        self.put(&v.to_le_bytes())
    }

    pub(crate) fn u32(&mut self, v: u32) -> Result<(), EncodeError> {
        self.put(&v.to_le_bytes())
    }

    pub(crate) fn header(&mut self, message_type: u32) -> Result<(), EncodeError> {
        self.put(&SIGNATURE)?;
        self.u32(message_type)
    }
}

/// Plans the payload of a message: each field's security buffer in payload order.
pub(crate) struct PayloadPlan {
    cursor: usize,
}

impl PayloadPlan {
    pub(crate) const fn new(header_len: usize) -> Self {
        Self { cursor: header_len }
    }

    /// Places one field and returns its (Len, MaxLen, BufferOffset).
    ///
    /// An absent field is (0, 0, 0); an empty placed one points at the cursor.
    pub(crate) fn place(
        &mut self,
        field: &'static str,
        data: Option<&[u8]>,
    ) -> Result<(u16, u32), EncodeError> {
        let Some(data) = data else {
            return Ok((0, 0));
        };
        let len = u16::try_from(data.len()).map_err(|_| EncodeError::FieldTooLong {
            field,
            len: data.len(),
        })?;
        let offset = u32::try_from(self.cursor).map_err(|_| EncodeError::FieldTooLong {
            field,
            len: self.cursor,
        })?;
        self.cursor = self.cursor.saturating_add(data.len());
        Ok((len, offset))
    }

    pub(crate) const fn end(&self) -> usize {
        self.cursor
    }
}

/// Writes a security buffer structure.
pub(crate) fn put_buffer(w: &mut Writer<'_>, (len, offset): (u16, u32)) -> Result<(), EncodeError> {
    w.u16(len)?;
    w.u16(len)?;
    w.u32(offset)
}

/// Total length of optional payload fields, for `buffer_len`.
pub(crate) fn payload_len(fields: &[Option<&[u8]>]) -> usize {
    fields
        .iter()
        .map(|f| f.map_or(0, <[u8]>::len))
        .fold(0usize, usize::saturating_add)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_offset_past_end() {
        let msg = [0u8; 40];
        let b = SecurityBuffer {
            field: "X",
            at: 12,
            len: 8,
            max_len: 8,
            offset: 36,
        };
        let e = b.resolve(&msg, 32).unwrap_err();
        assert_eq!(e.field, "X");
        assert_eq!(e.offset, 12);
        assert!(matches!(e.kind, DecodeErrorKind::BufferOutOfRange { .. }));
    }

    #[test]
    fn rejects_offset_overflow() {
        let msg = [0u8; 40];
        let b = SecurityBuffer {
            field: "X",
            at: 12,
            len: u16::MAX,
            max_len: 0,
            offset: u32::MAX,
        };
        assert!(b.resolve(&msg, 32).is_err());
    }

    #[test]
    fn distinguishes_absent_and_empty() {
        let msg = [0u8; 40];
        let absent = SecurityBuffer {
            field: "X",
            at: 0,
            len: 0,
            max_len: 0,
            offset: 0,
        };
        assert_eq!(absent.resolve(&msg, 32).unwrap(), None);
        let empty = SecurityBuffer {
            offset: 9999,
            ..absent
        };
        assert_eq!(empty.resolve(&msg, 32).unwrap(), Some(&[][..]));
    }

    #[test]
    fn reader_reports_field_and_offset() {
        let mut r = Reader::new(b"NTLMSSP\0\x01\x00");
        r.signature().unwrap();
        let e = r.u32("MessageType").unwrap_err();
        assert_eq!(e.field, "MessageType");
        assert_eq!(e.offset, 8);
        assert_eq!(
            e.kind,
            DecodeErrorKind::Truncated {
                needed: 4,
                available: 2
            }
        );
    }

    #[test]
    fn writer_never_overruns() {
        let mut out = [0u8; 3];
        assert!(Writer::new(&mut out, 4).is_err());
        let mut w = Writer::new(&mut out, 3).unwrap();
        assert!(w.u32(1).is_err());
    }
}
