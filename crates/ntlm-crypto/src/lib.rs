//! Every NTLM computation (MS-NLMP 3.3, 3.4, 6), checked against the
//! MS-NLMP 4.2 test vectors.
//!
//! This crate does no I/O and reads no clock or random source: the 16-byte
//! random session key, the client challenge and the timestamp are
//! parameters.
//!
//! | MS-NLMP | What | Here |
//! |---|---|---|
//! | 3.3.1 | NTOWFv1 | [`nt_hash`] |
//! | 3.3.1 | LMOWFv1, LMv1, NTLMv1, NTLM2 session response | [`legacy`] |
//! | 3.3.2 | NTOWFv2 = LMOWFv2 | [`ntowfv2`] |
//! | 3.3.2 | NTLMv2 and LMv2 responses | [`ntlmv2_responses`], [`ntlmv2_blob`] |
//! | 3.2.5.1.2 | server-side checks, domain retry order | [`verify_ntlmv2`], [`verify_ntlmv2_response`], [`domain_retry_order`] |
//! | 3.4.5.1 | KXKEY | [`kxkey`] |
//! | 3.1.5.1.2, 3.2.5.1.2 | key exchange | [`client_exported_session_key`], [`server_exported_session_key`] |
//! | 3.4.5.2, 3.4.5.3 | SIGNKEY, SEALKEY | [`signing_key`], [`sealing_key`] |
//! | 3.1.5.1.2 | MIC | [`mic`], [`verify_mic`] |
//! | 3.4.2–3.4.4 | sign, verify, seal, unseal | [`SessionSecurity`] |
//!
//! # Secrets
//!
//! Keys are newtypes ([`NtHash`], [`ResponseKey`], [`SessionBaseKey`],
//! [`KeyExchangeKey`], [`ExportedSessionKey`], [`SigningKey`],
//! [`SealingKey`], [`legacy::LmHash`]): zeroized on drop, compared only in
//! constant time, redacted by `Debug`. Received responses, MICs and
//! signatures are compared in constant time.
//!
//! ```
//! use ntlm_crypto::{nt_hash, ntowfv2, ntlmv2_responses, verify_ntlmv2_response};
//!
//! let key = ntowfv2(&nt_hash("Password"), "User", "Domain");
//! let server_challenge = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
//! let av_pairs = [2, 0, 2, 0, b'D', 0, 0, 0, 0, 0]; // NbDomainName "D", EOL
//! let time = ntlm_wire::FileTime(0);
//! let r = ntlmv2_responses(&key, &server_challenge, time, &[0xaa; 8], &av_pairs);
//! let sbk = verify_ntlmv2_response(&key, &server_challenge, &r.nt_response)?;
//! assert_eq!(sbk, r.session_base_key);
//! # Ok::<(), ntlm_crypto::CryptoError>(())
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod bindings;
mod error;
mod keys;
mod kx;
pub mod legacy;
mod mic;
mod ntlmv2;
mod owf;
mod session;

pub use bindings::{TLS_SERVER_END_POINT, channel_bindings_md5};
pub use error::CryptoError;
pub use keys::{
    ExportedSessionKey, HmacMd5Key, KeyExchangeKey, NtHash, ResponseKey, SealingKey,
    SessionBaseKey, SigningKey,
};
pub use kx::{
    Direction, KeyExchange, KxKeyInput, NTLM_REVISION_CURRENT, client_exported_session_key,
    decrypt_session_key, encrypt_session_key, ess_sealing_key_input, key_exchange_applies, kxkey,
    sealing_key, server_exported_session_key, signing_key,
};
pub use mic::{Mic, mic, mic_of_received, verify_mic};
pub use ntlmv2::{
    AnonymousResponses, BLOB_HEADER_LEN, NtlmV2Match, NtlmV2Responses, anonymous_responses,
    domain_retry_order, is_null_session, lmv2_response, nt_proof_str, ntlmv2_blob,
    ntlmv2_responses, ntlmv2_responses_timestamped, ntlmv2_session_base_key, verify_lmv2_response,
    verify_ntlmv2, verify_ntlmv2_response,
};
pub use owf::{nt_hash, ntowfv2, ntowfv2_password, upper_case};
pub use session::{DUMMY_SIGNATURE, RandomPadForm, Role, SecurityError, SessionSecurity};

/// `N` bytes of `b` from `start`, zero-padded where `b` ends first. Used on
/// fixed-size inputs whose bounds are known at the call site.
pub(crate) fn chunk<const N: usize>(b: &[u8], start: usize) -> [u8; N] {
    let mut out = [0u8; N];
    let src = b.get(start..).unwrap_or_default();
    let n = src.len().min(N);
    if let (Some(dst), Some(src)) = (out.get_mut(..n), src.get(..n)) {
        dst.copy_from_slice(src);
    }
    out
}

/// Constant-time equality of two 16-byte values: the XOR of their two
/// 128-bit words, compared with zero once ([`subtle`]), instead of a
/// comparison per byte.
pub(crate) fn ct_eq16(a: &[u8; 16], b: &[u8; 16]) -> subtle::Choice {
    subtle::ConstantTimeEq::ct_eq(&(u128::from_ne_bytes(*a) ^ u128::from_ne_bytes(*b)), &0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ct_eq16_compares_every_bit() {
        let a = [0x5a; 16];
        assert!(bool::from(super::ct_eq16(&a, &a)));
        for i in 0..128 {
            let mut b = a;
            b[i / 8] ^= 1 << (i % 8);
            assert!(!bool::from(super::ct_eq16(&a, &b)), "bit {i}");
        }
    }

    #[test]
    fn chunk_zero_pads() {
        let b = [1u8, 2, 3];
        assert_eq!(super::chunk::<2>(&b, 1), [2, 3]);
        assert_eq!(super::chunk::<4>(&b, 1), [2, 3, 0, 0]);
        assert_eq!(super::chunk::<2>(&b, 5), [0, 0]);
    }
}
