//! Strings on the wire: UTF-16LE (Unicode) or OEM bytes (MS-NLMP 2.2, 2.2.2.5).
//!
//! Fields are kept as raw bytes; these helpers decode them for display and
//! encode them for building messages. Undecodable input is reported, never
//! replaced silently.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::flags::Charset;

/// Why bytes could not be decoded as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    /// A Unicode string with an odd number of bytes (MS-NLMP requires even).
    OddLength(usize),
    /// A UTF-16 unpaired surrogate at this byte offset.
    BadUtf16(usize),
    /// An OEM byte outside ASCII at this offset (the OEM code page is not on the wire).
    NonAscii(usize),
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OddLength(n) => write!(f, "odd length {n} for a UTF-16LE string"),
            Self::BadUtf16(at) => write!(f, "unpaired UTF-16 surrogate at byte {at}"),
            Self::NonAscii(at) => write!(f, "non-ASCII OEM byte at {at}"),
        }
    }
}

impl core::error::Error for TextError {}

/// Encodes a string as UTF-16LE without BOM or terminator.
pub fn utf16le(s: &str) -> Vec<u8> {
    // One allocation: a UTF-16 string has at most as many units as UTF-8 bytes.
    let mut v = Vec::with_capacity(s.len().saturating_mul(2));
    for unit in s.encode_utf16() {
        v.extend_from_slice(&unit.to_le_bytes());
    }
    v
}

/// Encodes a string for the given charset: UTF-16LE, or its bytes for OEM.
pub fn encode(s: &str, charset: Charset) -> Vec<u8> {
    match charset {
        Charset::Unicode => utf16le(s),
        Charset::Oem => s.as_bytes().to_vec(),
    }
}

/// Decodes UTF-16LE.
pub fn decode_utf16le(b: &[u8]) -> Result<String, TextError> {
    if b.len() % 2 != 0 {
        return Err(TextError::OddLength(b.len()));
    }
    let units = b.chunks_exact(2).map(|c| match *c {
        [lo, hi] => u16::from_le_bytes([lo, hi]),
        _ => 0,
    });
    let mut out = String::with_capacity(b.len() / 2);
    for (i, ch) in char::decode_utf16(units).enumerate() {
        match ch {
            Ok(c) => out.push(c),
            Err(_) => return Err(TextError::BadUtf16(i.saturating_mul(2))),
        }
    }
    Ok(out)
}

/// Decodes OEM bytes. Only ASCII is decoded: the code page is not on the wire.
pub fn decode_oem(b: &[u8]) -> Result<String, TextError> {
    match b.iter().position(|c| !c.is_ascii()) {
        Some(at) => Err(TextError::NonAscii(at)),
        None => Ok(b.iter().map(|&c| char::from(c)).collect()),
    }
}

/// Decodes per charset.
pub fn decode(b: &[u8], charset: Charset) -> Result<String, TextError> {
    match charset {
        Charset::Unicode => decode_utf16le(b),
        Charset::Oem => decode_oem(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_unicode() {
        let b = utf16le("Dömain😀");
        assert_eq!(decode_utf16le(&b).unwrap(), "Dömain😀");
    }

    #[test]
    fn reports_odd_and_bad_utf16() {
        assert_eq!(decode_utf16le(&[0x41]), Err(TextError::OddLength(1)));
        assert_eq!(
            decode_utf16le(&[0x41, 0, 0x00, 0xd8]),
            Err(TextError::BadUtf16(2))
        );
    }

    #[test]
    fn oem_is_ascii_only() {
        assert_eq!(decode_oem(b"User").unwrap(), "User");
        assert_eq!(decode_oem(&[0x41, 0x99]), Err(TextError::NonAscii(1)));
    }
}
