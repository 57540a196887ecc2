//! Locating the NTLMSSP message in a carrier's security token.
//!
//! A token is either the NTLMSSP message itself or a GSS-API/SPNEGO token
//! (RFC 2743 3.1 `InitialContextToken`, RFC 4178 `NegTokenInit`/
//! `NegTokenResp`) whose `mechToken`/`responseToken` OCTET STRING holds it.
//! [`find_ntlmssp`] walks the DER tree (bounded depth and element count,
//! every length checked against its parent) and returns the first OCTET
//! STRING that starts with `NTLMSSP\0`. A Kerberos or NEGOEX token holds
//! none and yields `Ok(None)`.
//!
//! [`message_extent`] tells how long an NTLMSSP message found by signature
//! in a byte stream is, from its header's security buffers (MS-NLMP 2.2.1).

use core::fmt;

use crate::Wrapping;
use crate::bytes::{le16, le32, u8_at};

/// `NTLMSSP\0` (MS-NLMP 2.2.1).
pub const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

/// Deepest DER nesting walked (an SPNEGO token needs 5).
const MAX_DEPTH: usize = 10;
/// Most DER elements visited in one token.
const MAX_ELEMENTS: usize = 256;
/// Longest NTLMSSP message accepted by the signature scan: the security
/// buffers' offsets and lengths are 32 and 16 bits, but no real message
/// comes near this.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// A token that is neither NTLMSSP nor well-formed DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError {
    /// Offset in the token of the element that broke.
    pub offset: usize,
    /// What was wrong.
    pub reason: String,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DER at token offset {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for TokenError {}

/// The NTLMSSP message inside `token`, and how it was wrapped.
///
/// `Ok(None)`: a well-formed token without NTLMSSP (Kerberos, a final
/// `NegTokenResp` without `responseToken`, an empty token).
pub fn find_ntlmssp(token: &[u8]) -> Result<Option<(&[u8], Wrapping)>, TokenError> {
    if token.starts_with(SIGNATURE) {
        return Ok(Some((token, Wrapping::Raw)));
    }
    match token.first() {
        None => Ok(None),
        // [APPLICATION 0], NegTokenInit [0], NegTokenResp [1].
        Some(0x60 | 0xa0 | 0xa1) => {
            let mut walk = Walk { visited: 0 };
            let (tag, start, end) = walk.tlv(token, 0)?;
            if end != token.len() {
                return Err(TokenError {
                    offset: end,
                    reason: format!(
                        "{} bytes after the outer element",
                        token.len().saturating_sub(end)
                    ),
                });
            }
            Ok(walk
                .search(token, tag, start, end, 0)?
                .map(|m| (m, Wrapping::Spnego)))
        }
        Some(b) => Err(TokenError {
            offset: 0,
            reason: format!(
                "token starts with {b:#04x}: neither NTLMSSP nor a GSS-API/SPNEGO token"
            ),
        }),
    }
}

struct Walk {
    visited: usize,
}

impl Walk {
    /// One TLV at `at`: (tag, content start, content end).
    fn tlv(&mut self, b: &[u8], at: usize) -> Result<(u8, usize, usize), TokenError> {
        self.visited += 1;
        if self.visited > MAX_ELEMENTS {
            return Err(TokenError {
                offset: at,
                reason: format!("more than {MAX_ELEMENTS} DER elements"),
            });
        }
        let err = |offset: usize, reason: &str| TokenError {
            offset,
            reason: reason.to_owned(),
        };
        let tag = u8_at(b, at).ok_or_else(|| err(at, "missing tag"))?;
        if tag & 0x1f == 0x1f {
            return Err(err(at, "multi-byte tags are not used by SPNEGO"));
        }
        let l0 = u8_at(b, at + 1).ok_or_else(|| err(at + 1, "missing length"))?;
        let (len, hdr) = if l0 < 0x80 {
            (usize::from(l0), 2usize)
        } else {
            let n = usize::from(l0 & 0x7f);
            if n == 0 {
                return Err(err(at + 1, "indefinite length is not DER"));
            }
            if n > 4 {
                return Err(err(at + 1, "length of more than 4 bytes"));
            }
            let mut len = 0usize;
            for i in 0..n {
                let byte = u8_at(b, at + 2 + i).ok_or_else(|| err(at + 1, "length cut short"))?;
                len = (len << 8) | usize::from(byte);
            }
            (len, 2 + n)
        };
        let start = at.saturating_add(hdr);
        let end = start
            .checked_add(len)
            .filter(|&e| e <= b.len())
            .ok_or_else(|| TokenError {
                offset: at,
                reason: format!(
                    "element of {len} bytes runs past the end ({} left)",
                    b.len().saturating_sub(start)
                ),
            })?;
        Ok((tag, start, end))
    }

    fn search<'a>(
        &mut self,
        b: &'a [u8],
        tag: u8,
        start: usize,
        end: usize,
        depth: usize,
    ) -> Result<Option<&'a [u8]>, TokenError> {
        let content = b.get(start..end).unwrap_or_default();
        if tag == 0x04 {
            return Ok(content.starts_with(SIGNATURE).then_some(content));
        }
        // Only constructed elements have children.
        if tag & 0x20 == 0 {
            return Ok(None);
        }
        if depth >= MAX_DEPTH {
            return Err(TokenError {
                offset: start,
                reason: format!("DER nested deeper than {MAX_DEPTH}"),
            });
        }
        let mut at = start;
        while at < end {
            let (t, s, e) = self.tlv(b, at)?;
            if e > end {
                return Err(TokenError {
                    offset: at,
                    reason: "element runs past its parent".to_owned(),
                });
            }
            if let Some(m) = self.search(b, t, s, e, depth + 1)? {
                return Ok(Some(m));
            }
            at = e;
        }
        Ok(None)
    }
}

/// The length of the NTLMSSP message at the start of `b`, from the extent
/// of its header and payload fields (MS-NLMP 2.2.1.1-2.2.1.3).
///
/// `Ok(None)`: more bytes are needed to know. `Err`: not a message (bad
/// signature or type, or a field past [`MAX_MESSAGE`]).
pub fn message_extent(b: &[u8]) -> Result<Option<usize>, TokenError> {
    if b.len() < 12 {
        return Ok(None);
    }
    if !b.starts_with(SIGNATURE) {
        return Err(TokenError {
            offset: 0,
            reason: "no NTLMSSP signature".to_owned(),
        });
    }
    let kind = le32(b, 8).unwrap_or_default();
    // (fixed header without Version, offset of NegotiateFlags, offsets of
    // its security buffers)
    let (header, flags_at, buffers): (usize, usize, &[usize]) = match kind {
        1 => (32, 12, &[16, 24]),
        2 => (48, 20, &[12, 40]),
        3 => (64, 60, &[12, 20, 28, 36, 44, 52]),
        other => {
            return Err(TokenError {
                offset: 8,
                reason: format!("MessageType {other} is not 1, 2 or 3"),
            });
        }
    };
    let Some(flags) = le32(b, flags_at).filter(|_| b.len() >= header) else {
        return Ok(None);
    };
    // NEGOTIATE_VERSION: the 8-byte Version follows the fixed header.
    let mut end = if flags & 0x0200_0000 != 0 {
        header + 8
    } else {
        header
    };
    for &at in buffers {
        let (Some(len), Some(off)) = (le16(b, at), le32(b, at + 4)) else {
            return Ok(None);
        };
        if len == 0 {
            continue;
        }
        let field_end = usize::try_from(off)
            .ok()
            .and_then(|o| o.checked_add(usize::from(len)))
            .filter(|&e| e <= MAX_MESSAGE)
            .ok_or_else(|| TokenError {
                offset: at,
                reason: format!(
                    "security buffer at offset {at} points past {MAX_MESSAGE} bytes (offset {off}, length {len})"
                ),
            })?;
        end = end.max(field_end);
    }
    Ok(Some(end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth;

    #[test]
    fn raw_and_spnego_tokens() {
        let m = synth::Messages::sample();
        assert_eq!(
            find_ntlmssp(&m.negotiate).unwrap(),
            Some((&m.negotiate[..], Wrapping::Raw))
        );
        let init = synth::spnego_init(&m.negotiate);
        assert_eq!(
            find_ntlmssp(&init).unwrap(),
            Some((&m.negotiate[..], Wrapping::Spnego))
        );
        let resp = synth::spnego_resp(&m.challenge);
        assert_eq!(find_ntlmssp(&resp).unwrap().unwrap().0, &m.challenge[..]);
        // A big message needs a long-form length.
        let big = [&m.authenticate[..], &[0u8; 300]].concat();
        let resp = synth::spnego_resp(&big);
        assert_eq!(find_ntlmssp(&resp).unwrap().unwrap().0, &big[..]);
        // accept-completed without a token.
        assert_eq!(
            find_ntlmssp(&[0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x00]).unwrap(),
            None
        );
        assert_eq!(find_ntlmssp(&[]).unwrap(), None);
    }

    #[test]
    fn bad_tokens_name_the_offset() {
        let e = find_ntlmssp(b"\x6e\x82\x01").unwrap_err();
        assert_eq!(e.offset, 0);
        let e = find_ntlmssp(&[0xa1, 0x05, 0x30, 0x09, 0, 0, 0]).unwrap_err();
        assert_eq!(e.offset, 2, "{e}");
        let e = find_ntlmssp(&[0xa1, 0x80]).unwrap_err();
        assert!(e.reason.contains("indefinite"), "{e}");
        let e = find_ntlmssp(&[0xa1, 0x00, 0x00]).unwrap_err();
        assert!(e.reason.contains("after the outer"), "{e}");
        // Deep nesting is bounded.
        let mut deep = vec![0x04, 0x00];
        for _ in 0..20 {
            let l = u8::try_from(deep.len()).unwrap();
            deep = [&[0xa0, l][..], &deep].concat();
        }
        assert!(find_ntlmssp(&deep).unwrap_err().reason.contains("deeper"));
    }

    #[test]
    fn extent_of_each_message() {
        let m = synth::Messages::sample();
        for msg in [&m.negotiate, &m.challenge, &m.authenticate] {
            assert_eq!(message_extent(msg).unwrap(), Some(msg.len()));
            let longer = [&msg[..], b"trailing"].concat();
            assert_eq!(message_extent(&longer).unwrap(), Some(msg.len()));
            assert_eq!(message_extent(&msg[..11]).unwrap(), None);
        }
        assert!(message_extent(b"NTLMSSP\0\x07\0\0\0").is_err());
        let mut far = m.negotiate.clone();
        far[20..24].copy_from_slice(&0xffff_0000u32.to_le_bytes());
        far[16..18].copy_from_slice(&4u16.to_le_bytes());
        assert!(message_extent(&far).is_err());
    }

    proptest::proptest! {
        #[test]
        fn find_never_panics(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = find_ntlmssp(&b);
            let _ = message_extent(&b);
        }
    }
}
