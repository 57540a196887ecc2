//! The few DER (ITU-T X.690) pieces SPNEGO needs: reading one
//! tag-length-value element at a time, and building elements.
//!
//! This is hand-written rather than a general ASN.1 crate on purpose: SPNEGO
//! uses a handful of fixed shapes (RFC 4178 4.2, RFC 2743 3.1), so the
//! reader only has to walk those, at a fixed nesting depth, with every
//! length checked against the enclosing value and every error naming the
//! structure and the offset from the start of the token. A generic decoder
//! would bring derive macros or allocation-heavy trees for no gain here.
//!
//! Only single-byte tags (low-tag-number form) are read; SPNEGO uses no
//! other. Lengths are definite, at most four length octets.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// Tags used by SPNEGO and the carriers around it.
pub mod tag {
    /// `OCTET STRING`.
    pub const OCTET_STRING: u8 = 0x04;
    /// `OBJECT IDENTIFIER`.
    pub const OID: u8 = 0x06;
    /// `ENUMERATED`.
    pub const ENUMERATED: u8 = 0x0a;
    /// `SEQUENCE` (constructed).
    pub const SEQUENCE: u8 = 0x30;
    /// `[APPLICATION 0]` (constructed): the GSS-API `InitialContextToken`.
    pub const APPLICATION_0: u8 = 0x60;
    /// `[0]` (constructed, context-specific).
    pub const CONTEXT_0: u8 = 0xa0;
    /// `[1]` (constructed, context-specific).
    pub const CONTEXT_1: u8 = 0xa1;
    /// `[2]` (constructed, context-specific).
    pub const CONTEXT_2: u8 = 0xa2;
    /// `[3]` (constructed, context-specific).
    pub const CONTEXT_3: u8 = 0xa3;
    /// `[4]` (constructed, context-specific).
    pub const CONTEXT_4: u8 = 0xa4;
}

/// Longest OID decoded (arcs), far above any real mechanism OID.
const MAX_OID_ARCS: usize = 32;

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

impl core::error::Error for DerError {}

pub(crate) fn err(structure: &'static str, offset: usize, reason: impl Into<String>) -> DerError {
    DerError {
        structure,
        offset,
        reason: reason.into(),
    }
}

/// One DER element.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    /// Offset of the tag byte in the token.
    pub(crate) at: usize,
    /// Offset of the first value byte in the token.
    pub(crate) value_at: usize,
    pub(crate) value: &'a [u8],
}

impl<'a> Tlv<'a> {
    pub(crate) const fn contents(&self) -> Cursor<'a> {
        Cursor::new(self.value, self.value_at)
    }
}

/// A cursor over DER elements; `pos` is absolute within the token.
#[derive(Debug)]
pub(crate) struct Cursor<'a> {
    pub(crate) rest: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) const fn new(rest: &'a [u8], pos: usize) -> Self {
        Self { rest, pos }
    }

    pub(crate) const fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    fn take(&mut self, n: usize, structure: &'static str, at: usize) -> Result<&'a [u8], DerError> {
        let Some((head, tail)) = self.rest.split_at_checked(n) else {
            return Err(err(
                structure,
                at,
                alloc::format!(
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
    pub(crate) fn tlv(&mut self, structure: &'static str) -> Result<Tlv<'a>, DerError> {
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
                    alloc::format!("a {}-byte length field is too long", first & 0x7f),
                ));
            }
        };
        let value_at = self.pos;
        let value = self.take(len, structure, at).map_err(|_| {
            err(
                structure,
                at,
                alloc::format!(
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
    pub(crate) fn expect(
        &mut self,
        want: u8,
        structure: &'static str,
    ) -> Result<Tlv<'a>, DerError> {
        let t = self.tlv(structure)?;
        if t.tag != want {
            return Err(err(
                structure,
                t.at,
                alloc::format!("expected tag 0x{want:02x}, found 0x{:02x}", t.tag),
            ));
        }
        Ok(t)
    }
}

/// One DER element: `tag`, the definite length of `content` in the
/// shortest form (X.690 8.1.3), then `content`.
///
/// Used for the SPNEGO tokens of this crate and, by test fixtures, for the
/// BER/DER of the carriers around them (LDAP).
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut v = Vec::with_capacity(len.saturating_add(10));
    v.push(tag);
    match u8::try_from(len) {
        Ok(short) if short < 0x80 => v.push(short),
        _ => {
            let bytes = len.to_be_bytes();
            let skip = bytes.iter().take_while(|&&b| b == 0).count();
            let significant = bytes.get(skip..).unwrap_or_default();
            // At most size_of::<usize>() octets, so the count fits in 7 bits.
            v.push(0x80 | u8::try_from(significant.len()).unwrap_or(0x7f));
            v.extend_from_slice(significant);
        }
    }
    v.extend_from_slice(content);
    v
}

/// Decodes an OID value (the contents octets) to dotted form; `None` when
/// malformed (non-minimal arc, truncated arc, arc over 64 bits, more than
/// 32 arcs, empty).
pub fn decode_oid(v: &[u8]) -> Option<String> {
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
    let mut s = alloc::format!("{a}.{b}");
    for arc in rest {
        s.push('.');
        s.push_str(&arc.to_string());
    }
    Some(s)
}

/// Decodes a small two's-complement INTEGER/ENUMERATED value.
pub(crate) fn decode_int(v: &[u8]) -> Option<i64> {
    if v.is_empty() || v.len() > 8 {
        return None;
    }
    let negative = v.first().is_some_and(|b| b & 0x80 != 0);
    let init: i64 = if negative { -1 } else { 0 };
    Some(v.iter().fold(init, |acc, &b| (acc << 8) | i64::from(b)))
}

/// Encodes a small ENUMERATED value in the shortest two's-complement form.
pub(crate) fn encode_int(v: i64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    // Drop a leading octet while the next one carries the same sign.
    while let (Some(&b), Some(&next)) = (bytes.get(start), bytes.get(start + 1)) {
        let redundant = (b == 0x00 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    bytes.get(start..).unwrap_or_default().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_use_the_shortest_form() {
        assert_eq!(tlv(0x04, &[]), [0x04, 0x00]);
        assert_eq!(tlv(0x04, &[7; 0x7f])[..2], [0x04, 0x7f]);
        assert_eq!(tlv(0x04, &[7; 0x80])[..3], [0x04, 0x81, 0x80]);
        assert_eq!(tlv(0x04, &[7; 0x100])[..4], [0x04, 0x82, 0x01, 0x00]);
        assert_eq!(
            tlv(0x04, &[7; 0x1_0000])[..5],
            [0x04, 0x83, 0x01, 0x00, 0x00]
        );
    }

    #[test]
    fn reads_back_what_it_builds() {
        for n in [0usize, 1, 0x7f, 0x80, 0xff, 0x100, 0x1_0000] {
            let content = alloc::vec![0x4e; n];
            let b = tlv(0xa2, &content);
            let mut c = Cursor::new(&b, 0);
            let t = c.tlv("x").unwrap();
            assert_eq!((t.tag, t.at, t.value), (0xa2, 0, &content[..]));
            assert!(c.is_empty());
        }
    }

    #[test]
    fn decodes_oids() {
        assert_eq!(
            decode_oid(&[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02]).unwrap(),
            "1.3.6.1.5.5.2"
        );
        assert_eq!(decode_oid(&[0x2b, 0x86]), None);
        assert_eq!(decode_oid(&[0x80, 0x01]), None);
        assert_eq!(decode_oid(&[]), None);
        assert_eq!(decode_oid(&[0x01; 33]), None);
    }

    #[test]
    fn integers_round_trip() {
        for v in [
            0i64,
            1,
            3,
            127,
            128,
            255,
            256,
            -1,
            -128,
            -129,
            i64::MAX,
            i64::MIN,
        ] {
            assert_eq!(decode_int(&encode_int(v)), Some(v), "{v}");
        }
        assert_eq!(encode_int(1), [1]);
        assert_eq!(encode_int(128), [0, 128]);
        assert_eq!(encode_int(-1), [0xff]);
        assert_eq!(decode_int(&[]), None);
        assert_eq!(decode_int(&[0; 9]), None);
    }

    #[test]
    fn reader_errors_name_the_offset() {
        let e = Cursor::new(&[0x30, 0x80], 5)
            .tlv("NegTokenInit")
            .unwrap_err();
        assert_eq!((e.structure, e.offset), ("NegTokenInit", 5));
        assert!(e.reason.contains("indefinite"), "{e}");
        let e = Cursor::new(&[0x30, 0x85, 0, 0, 0, 0, 1], 0)
            .tlv("x")
            .unwrap_err();
        assert!(e.reason.contains("5-byte length"), "{e}");
        let e = Cursor::new(&[0x1f, 0x01, 0x00], 0).tlv("x").unwrap_err();
        assert!(e.reason.contains("high-tag"), "{e}");
        let e = Cursor::new(&[0x04, 0x03, 0x00], 0).tlv("x").unwrap_err();
        assert!(e.reason.contains("length 3 runs past"), "{e}");
        let e = Cursor::new(&[0x04], 0).tlv("x").unwrap_err();
        assert!(e.reason.contains("missing the length"), "{e}");
        let e = Cursor::new(&[0x04, 0x01, 0x00], 0)
            .expect(tag::OID, "y")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "SPNEGO y at DER offset 0: expected tag 0x06, found 0x04"
        );
    }
}
