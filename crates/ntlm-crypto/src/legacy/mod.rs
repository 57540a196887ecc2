//! LM, DES, NTLMv1 and RC4: the parts of NTLM kept for legacy interoperability.
//!
//! # ⚠️ Security warning
//!
//! Nothing here is secure. The LM hash is an unsalted DES construction of an
//! upper-cased password truncated to 14 characters; NTLMv1 responses are three
//! single-DES encryptions of a server-chosen challenge, which a rogue server
//! turns back into the NT hash; RC4 has known keystream biases and the
//! non-ESS session security built on it uses a CRC32 checksum. These
//! functions exist so that a simulator can reproduce what old peers do and
//! what policy should refuse (MS-NLMP 3.3.1, 3.4.4.1, 6). Do not use them to
//! protect anything.

mod rc4;
mod v1;

pub use self::rc4::{Rc4, rc4k};
pub(crate) use self::v1::lm_key_exchange_key;
pub use self::v1::{
    LmHash, NtlmV1Responses, des, desl, lm_hash, lm_hash_oem, lmv1_response, ntlm2_session_hash,
    ntlm2_session_responses, ntlmv1_response, ntlmv1_responses, ntlmv1_session_base_key,
    verify_lmv1_response, verify_ntlm2_session_response, verify_ntlmv1_response,
};
