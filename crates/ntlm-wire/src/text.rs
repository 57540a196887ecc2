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
    utf16le_into(&mut v, s);
    v
}

/// Appends the UTF-16LE encoding of `s` to `out` (see [`utf16le`]).
pub fn utf16le_into(out: &mut Vec<u8>, s: &str) {
    if s.is_ascii() {
        // Every byte is one UTF-16 unit with a zero high byte.
        let start = out.len();
        out.resize(start.saturating_add(s.len().saturating_mul(2)), 0);
        if let Some(dst) = out.get_mut(start..) {
            ascii_to_utf16le(s.as_bytes(), dst);
        }
        return;
    }
    for unit in s.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
}

/// Widens ASCII `src` into the UTF-16LE `dst` (twice as long, zeroed):
/// four characters at a time, each byte spread into the low half of a unit.
fn ascii_to_utf16le(src: &[u8], dst: &mut [u8]) {
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(4);
    for (o, i) in (&mut d).zip(&mut s) {
        if let Ok(i) = <[u8; 4]>::try_from(i) {
            let x = u64::from(u32::from_le_bytes(i));
            let wide = (x & 0xff)
                | ((x & 0xff00) << 8)
                | ((x & 0xff_0000) << 16)
                | ((x & 0xff00_0000) << 24);
            o.copy_from_slice(&wide.to_le_bytes());
        }
    }
    for (unit, &b) in d.into_remainder().chunks_exact_mut(2).zip(s.remainder()) {
        if let [lo, _] = unit {
            *lo = b;
        }
    }
}

/// Encodes a string for the given charset: UTF-16LE, or its bytes for OEM.
pub fn encode(s: &str, charset: Charset) -> Vec<u8> {
    match charset {
        Charset::Unicode => utf16le(s),
        Charset::Oem => s.as_bytes().to_vec(),
    }
}

/// Appends the encoding of `s` for the given charset to `out` (see [`encode`]).
pub fn encode_into(out: &mut Vec<u8>, s: &str, charset: Charset) {
    match charset {
        Charset::Unicode => utf16le_into(out, s),
        Charset::Oem => out.extend_from_slice(s.as_bytes()),
    }
}

/// Decodes UTF-16LE.
pub fn decode_utf16le(b: &[u8]) -> Result<String, TextError> {
    if b.len() % 2 != 0 {
        return Err(TextError::OddLength(b.len()));
    }
    if b.chunks_exact(2)
        .all(|c| matches!(*c, [lo, 0] if lo.is_ascii()))
    {
        // ASCII: one byte per unit, no surrogates to pair.
        let mut ascii = Vec::with_capacity(b.len() / 2);
        ascii.extend(b.chunks_exact(2).map(|c| c.first().copied().unwrap_or(0)));
        return String::from_utf8(ascii).map_err(|_| TextError::BadUtf16(0));
    }
    let mut out = String::with_capacity(b.len() / 2);
    let units = b.chunks_exact(2).map(|c| match *c {
        [lo, hi] => u16::from_le_bytes([lo, hi]),
        _ => 0,
    });
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
    fn ascii_fast_paths_agree_with_the_general_encoding() {
        let lengths: Vec<String> = (0..20u8)
            .map(|n| (b'a'..b'a' + n).map(char::from).collect())
            .collect();
        for text in ["", "User", "WORKSTATION", "Dömain😀", "a\u{7f}b"]
            .into_iter()
            .chain(lengths.iter().map(String::as_str))
        {
            let general: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
            assert_eq!(utf16le(text), general, "{text}");
            let mut appended = b"xy".to_vec();
            utf16le_into(&mut appended, text);
            assert_eq!(appended[2..], general[..], "{text}");
            assert_eq!(decode_utf16le(&general).unwrap(), text);
        }
        let mut oem = b"x".to_vec();
        encode_into(&mut oem, "User", Charset::Oem);
        assert_eq!(oem, b"xUser");
        let mut uni = Vec::new();
        encode_into(&mut uni, "Us", Charset::Unicode);
        assert_eq!(uni, encode("Us", Charset::Unicode));
        // A NUL-high unit above 0x7f is not ASCII: it takes the general path.
        assert_eq!(decode_utf16le(&[0xe9, 0]).unwrap(), "é");
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
