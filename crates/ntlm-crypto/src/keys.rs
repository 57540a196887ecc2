//! Secret key newtypes and the keyed HMAC-MD5 state.
//!
//! Every key is zeroized on drop, compared only in constant time
//! ([`subtle::ConstantTimeEq`]; `PartialEq` delegates to it) and prints as
//! `Name(<redacted>)` under `Debug`.

use core::fmt;

use hmac::{Hmac, KeyInit, Mac};
use md5::Md5;
use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::CryptoError;

/// Declares a 16-byte secret key newtype.
macro_rules! key16 {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name([u8; 16]);

        impl ::zeroize::Zeroize for $name {
            fn zeroize(&mut self) {
                // The slice form clears in bulk behind a compiler barrier.
                ::zeroize::Zeroize::zeroize(self.0.as_mut_slice());
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                ::zeroize::Zeroize::zeroize(self);
            }
        }

        impl ::zeroize::ZeroizeOnDrop for $name {}

        impl $name {
            /// Length in bytes.
            pub const LEN: usize = 16;

            /// Wraps 16 key bytes.
            pub const fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(bytes)
            }

            /// Copies a 16-byte slice; any other length is an error.
            pub fn from_slice(bytes: &[u8]) -> Result<Self, $crate::CryptoError> {
                match <[u8; 16]>::try_from(bytes) {
                    Ok(b) => Ok(Self(b)),
                    Err(_) => Err($crate::CryptoError::Length {
                        field: stringify!($name),
                        expected: 16,
                        got: bytes.len(),
                    }),
                }
            }

            /// The key bytes. Handle with care: this is secret material.
            pub const fn as_bytes(&self) -> &[u8; 16] {
                &self.0
            }
        }

        impl ::subtle::ConstantTimeEq for $name {
            fn ct_eq(&self, other: &Self) -> ::subtle::Choice {
                ::subtle::ConstantTimeEq::ct_eq(self.0.as_slice(), other.0.as_slice())
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                ::subtle::ConstantTimeEq::ct_eq(self, other).into()
            }
        }

        impl Eq for $name {}

        impl ::core::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

pub(crate) use key16;

key16! {
    /// NTOWFv1 (MS-NLMP 3.3.1): MD4(UNICODE(Passwd)), the "NT hash". It is
    /// ResponseKeyNT for NTLMv1 and the HMAC key of NTOWFv2.
    NtHash
}

key16! {
    /// NTOWFv2 = LMOWFv2 (MS-NLMP 3.3.2): ResponseKeyNT and ResponseKeyLM of
    /// NTLMv2 and LMv2.
    ResponseKey
}

key16! {
    /// SessionBaseKey (MS-NLMP 3.3.1, 3.3.2): the key the responses yield.
    SessionBaseKey
}

key16! {
    /// KeyExchangeKey (MS-NLMP 3.4.5.1), the output of KXKEY.
    KeyExchangeKey
}

key16! {
    /// ExportedSessionKey (MS-NLMP 3.1.5.1.2, 3.2.5.1.2): the random session
    /// key under key exchange, else the KeyExchangeKey. It keys the MIC and
    /// every signing and sealing key.
    ExportedSessionKey
}

key16! {
    /// A signing key (MS-NLMP 3.4.5.2, SIGNKEY): exists only with extended
    /// session security.
    SigningKey
}

impl SessionBaseKey {
    /// Z(16): the key of an anonymous or guest logon (MS-NLMP 3.2.5.1.2).
    pub const fn zero() -> Self {
        Self([0; 16])
    }
}

/// A sealing key (MS-NLMP 3.4.5.3, SEALKEY): 16 bytes (an MD5 output with
/// extended session security, or the full ExportedSessionKey without it), or
/// 8 bytes (the LM_KEY/DATAGRAM weakened key).
#[derive(Clone)]
pub struct SealingKey {
    bytes: [u8; 16],
    len: u8,
}

impl Zeroize for SealingKey {
    fn zeroize(&mut self) {
        self.bytes.as_mut_slice().zeroize();
        self.len.zeroize();
    }
}

impl Drop for SealingKey {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for SealingKey {}

impl SealingKey {
    /// Wraps key bytes: 1 to 16 of them (RC4 needs at least one).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let mut out = [0u8; 16];
        match (out.get_mut(..bytes.len()), u8::try_from(bytes.len())) {
            (Some(dst), Ok(len)) if len > 0 => {
                dst.copy_from_slice(bytes);
                Ok(Self { bytes: out, len })
            }
            _ => Err(CryptoError::Length {
                field: "SealingKey",
                expected: 16,
                got: bytes.len(),
            }),
        }
    }

    pub(crate) const fn full(bytes: [u8; 16]) -> Self {
        Self { bytes, len: 16 }
    }

    pub(crate) fn weakened(bytes: [u8; 8]) -> Self {
        let mut out = [0u8; 16];
        let (head, _) = out.split_at_mut(8);
        head.copy_from_slice(&bytes);
        Self { bytes: out, len: 8 }
    }

    /// The key bytes (8 or 16 of them). Secret material.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes
            .get(..usize::from(self.len))
            .unwrap_or(&self.bytes)
    }
}

impl ConstantTimeEq for SealingKey {
    fn ct_eq(&self, other: &Self) -> Choice {
        // Lengths are public (they follow from the negotiated flags).
        self.as_bytes().ct_eq(other.as_bytes())
    }
}

impl PartialEq for SealingKey {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for SealingKey {}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealingKey({} bytes, <redacted>)", self.len)
    }
}

/// HMAC-MD5 keyed once: the inner and outer pads are hashed at construction
/// and the state is cloned for every message, so a key that hashes many
/// inputs (a signing key, a ResponseKey) pays for the key schedule once.
///
/// Zeroized on drop (the keyed state is equivalent to the key).
#[derive(Clone)]
pub struct HmacMd5Key {
    state: Hmac<Md5>,
}

impl HmacMd5Key {
    /// Keys HMAC-MD5 with a 16-byte key (every NTLM HMAC key is 16 bytes).
    pub fn new(key: &[u8; 16]) -> Self {
        // RFC 2104: a key shorter than the 64-byte block is zero-padded, so
        // keying with the padded block is the same HMAC.
        let mut block = [0u8; 64];
        let (head, _) = block.split_at_mut(16);
        head.copy_from_slice(key);
        let state = Hmac::<Md5>::new(&block.into());
        block.as_mut_slice().zeroize();
        Self { state }
    }

    /// HMAC_MD5(key, `parts[0] ‖ parts[1] ‖ …`).
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; 16] {
        self.clone().mac_last(parts)
    }

    /// [`mac`](Self::mac) for the last use of the key: the keyed state is
    /// consumed instead of copied.
    pub fn mac_last(self, parts: &[&[u8]]) -> [u8; 16] {
        let mut h = self.state;
        for p in parts {
            h.update(p);
        }
        h.finalize().into_bytes().into()
    }

    /// The keyed state, to hash a message that is produced piece by piece.
    pub(crate) fn into_state(self) -> Hmac<Md5> {
        self.state
    }
}

// The parts of the keyed HMAC state (two MD5 cores and a block buffer)
// zeroize themselves on drop with the `zeroize` features of `hmac` and
// `md-5`; this fails to compile if those features are turned off.
const _: fn() = || {
    fn zeroized_on_drop<T: ZeroizeOnDrop>() {}
    zeroized_on_drop::<md5::block_api::Md5Core>();
    zeroized_on_drop::<hmac::digest::block_api::Buffer<hmac::block_api::HmacCore<Md5>>>();
};

impl ZeroizeOnDrop for HmacMd5Key {}

impl fmt::Debug for HmacMd5Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HmacMd5Key(<redacted>)")
    }
}

/// MD5 of a concatenation.
pub(crate) fn md5(parts: &[&[u8]]) -> [u8; 16] {
    use md5::Digest;
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let k = NtHash::from_bytes([0xab; 16]);
        assert_eq!(format!("{k:?}"), "NtHash(<redacted>)");
        let s = SealingKey::from_slice(&[0xab; 8]).unwrap();
        assert_eq!(format!("{s:?}"), "SealingKey(8 bytes, <redacted>)");
        assert_eq!(
            format!("{:?}", HmacMd5Key::new(&[0xab; 16])),
            "HmacMd5Key(<redacted>)"
        );
    }

    #[test]
    fn equality_is_by_value() {
        let a = SessionBaseKey::from_bytes([1; 16]);
        assert_eq!(a, SessionBaseKey::from_bytes([1; 16]));
        assert_ne!(a, SessionBaseKey::from_bytes([2; 16]));
        let s8 = SealingKey::from_slice(&[1; 8]).unwrap();
        let s16 = SealingKey::from_slice(&[1; 16]).unwrap();
        assert_ne!(s8, s16);
        assert_eq!(s8.as_bytes(), &[1; 8]);
    }

    #[test]
    fn from_slice_checks_length() {
        assert_eq!(
            KeyExchangeKey::from_slice(&[0; 15]),
            Err(CryptoError::Length {
                field: "KeyExchangeKey",
                expected: 16,
                got: 15
            })
        );
        assert!(SealingKey::from_slice(&[]).is_err());
        assert!(SealingKey::from_slice(&[0; 17]).is_err());
    }

    #[test]
    fn hmac_md5_matches_rfc2202() {
        // RFC 2202 test case 1 (its key is 16 bytes).
        let key = [0x0b; 16];
        let out = HmacMd5Key::new(&key).mac(&[b"Hi ", b"There"]);
        assert_eq!(hex::encode(out), "9294727a3638bb1c13f48ef8158bfc9d");
        // The keyed state is reusable.
        let k = HmacMd5Key::new(&key);
        assert_eq!(k.mac(&[b"Hi There"]), out);
        assert_eq!(k.mac(&[b"Hi There"]), out);
    }

    #[test]
    fn md5_matches_rfc1321() {
        assert_eq!(
            hex::encode(md5(&[b"ab", b"c"])),
            "900150983cd24fb0d6963f7d28e17f72"
        );
    }
}
