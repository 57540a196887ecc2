//! LMOWFv1, DES, DESL and the NTLMv1 family of responses (MS-NLMP 3.3.1, 6).

use des::Des;
use des::cipher::{BlockCipherEncrypt, KeyInit};
use md4::{Digest, Md4};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::chunk;
use crate::error::CryptoError;
use crate::keys::{NtHash, SessionBaseKey, key16, md5};

key16! {
    /// LMOWFv1 (MS-NLMP 3.3.1): the "LM hash", ResponseKeyLM of LMv1.
    LmHash
}

/// The DES plaintext of LMOWFv1 (MS-NLMP 3.3.1).
const LM_MAGIC: [u8; 8] = *b"KGS!@#$%";

/// DES(K, D) with a 7-byte key (MS-NLMP 6): the 56 key bits are spread over
/// 8 bytes, 7 bits each, shifted left by one (the parity bit is ignored;
/// implementations call this `str_to_key`).
pub fn des(key: &[u8; 7], data: &[u8; 8]) -> [u8; 8] {
    let [a, b, c, d, e, f, g] = *key;
    let bits = u64::from_be_bytes([a, b, c, d, e, f, g, 0]);
    let mut k8 = [0u8; 8];
    for (i, byte) in (0u32..).zip(k8.iter_mut()) {
        *byte = (((bits >> (57 - 7 * i)) & 0x7f) as u8) << 1;
    }
    let cipher = Des::new(&k8.into());
    let mut block = (*data).into();
    cipher.encrypt_block(&mut block);
    block.into()
}

/// DESL(K, D) (MS-NLMP 6): DES(K[0..6], D) ‖ DES(K[7..13], D) ‖
/// DES(K[14..15] ‖ Z(5), D).
pub fn desl(key: &[u8; 16], data: &[u8; 8]) -> [u8; 24] {
    let k1: [u8; 7] = chunk(key, 0);
    let k2: [u8; 7] = chunk(key, 7);
    let [.., a, b] = *key;
    let k3 = [a, b, 0, 0, 0, 0, 0];
    let mut out = [0u8; 24];
    for (dst, k) in out.chunks_exact_mut(8).zip([k1, k2, k3]) {
        dst.copy_from_slice(&des(&k, data));
    }
    out
}

/// LMOWFv1(Passwd) (MS-NLMP 3.3.1) of a password given as text.
///
/// `None` when it cannot be computed: a password longer than 14 characters
/// ("If the password is longer than 14 characters, the LMOWF v1 cannot be
/// computed"), or one with non-ASCII characters, whose OEM code page bytes
/// are not known here (use [`lm_hash_oem`] with the bytes in the code page).
pub fn lm_hash(password: &str) -> Option<LmHash> {
    if !password.is_ascii() {
        return None;
    }
    lm_hash_oem(password.as_bytes())
}

/// LMOWFv1 of a password already in the OEM code page: ASCII letters are
/// upper-cased here, other bytes are used as given. `None` past 14 bytes.
pub fn lm_hash_oem(oem: &[u8]) -> Option<LmHash> {
    let mut padded = Zeroizing::new([0u8; 14]);
    padded.get_mut(..oem.len())?.copy_from_slice(oem);
    padded.make_ascii_uppercase();
    let mut out = [0u8; 16];
    let (lo, hi) = out.split_at_mut(8);
    lo.copy_from_slice(&des(&chunk(padded.as_slice(), 0), &LM_MAGIC));
    hi.copy_from_slice(&des(&chunk(padded.as_slice(), 7), &LM_MAGIC));
    Some(LmHash::from_bytes(out))
}

/// LMv1 response: DESL(LMOWFv1, ServerChallenge) (MS-NLMP 3.3.1).
pub fn lmv1_response(lm_hash: &LmHash, server_challenge: &[u8; 8]) -> [u8; 24] {
    desl(lm_hash.as_bytes(), server_challenge)
}

/// NTLMv1 response: DESL(NTOWFv1, ServerChallenge) (MS-NLMP 3.3.1).
pub fn ntlmv1_response(nt_hash: &NtHash, server_challenge: &[u8; 8]) -> [u8; 24] {
    desl(nt_hash.as_bytes(), server_challenge)
}

/// SessionBaseKey of every NTLMv1 variant: MD4(NTOWFv1) (MS-NLMP 3.3.1).
pub fn ntlmv1_session_base_key(nt_hash: &NtHash) -> SessionBaseKey {
    SessionBaseKey::from_bytes(Md4::digest(nt_hash.as_bytes()).into())
}

/// The two NTLMv1 responses and the SessionBaseKey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NtlmV1Responses {
    /// LmChallengeResponse (LM_RESPONSE, MS-NLMP 2.2.2.3).
    pub lm_response: [u8; 24],
    /// NtChallengeResponse (NTLM_RESPONSE, MS-NLMP 2.2.2.6).
    pub nt_response: [u8; 24],
    /// MD4(NTOWFv1).
    pub session_base_key: SessionBaseKey,
}

/// NTLMv1 without extended session security (MS-NLMP 3.3.1).
///
/// With `lm_hash = None` the LM response is a copy of the NT response, as
/// when NoLMResponseNTLMv1 is TRUE (also the only choice when the LM hash
/// cannot be computed).
pub fn ntlmv1_responses(
    nt_hash: &NtHash,
    lm_hash: Option<&LmHash>,
    server_challenge: &[u8; 8],
) -> NtlmV1Responses {
    let nt_response = ntlmv1_response(nt_hash, server_challenge);
    NtlmV1Responses {
        lm_response: lm_hash.map_or(nt_response, |lm| lmv1_response(lm, server_challenge)),
        nt_response,
        session_base_key: ntlmv1_session_base_key(nt_hash),
    }
}

/// The 8 bytes the NTLM2 session response encrypts:
/// MD5(ServerChallenge ‖ ClientChallenge)[0..7] (MS-NLMP 3.3.1).
pub fn ntlm2_session_hash(server_challenge: &[u8; 8], client_challenge: &[u8; 8]) -> [u8; 8] {
    chunk(&md5(&[server_challenge, client_challenge]), 0)
}

/// NTLMv1 with extended session security, the "NTLM2 session response"
/// (MS-NLMP 3.3.1): NtChallengeResponse = DESL(NTOWFv1,
/// MD5(ServerChallenge ‖ ClientChallenge)[0..7]), LmChallengeResponse =
/// ClientChallenge ‖ Z(16).
pub fn ntlm2_session_responses(
    nt_hash: &NtHash,
    server_challenge: &[u8; 8],
    client_challenge: &[u8; 8],
) -> NtlmV1Responses {
    let mut lm_response = [0u8; 24];
    let (cc, _) = lm_response.split_at_mut(8);
    cc.copy_from_slice(client_challenge);
    NtlmV1Responses {
        lm_response,
        nt_response: desl(
            nt_hash.as_bytes(),
            &ntlm2_session_hash(server_challenge, client_challenge),
        ),
        session_base_key: ntlmv1_session_base_key(nt_hash),
    }
}

fn ct_check(expected: &[u8; 24], received: &[u8], field: &'static str) -> Result<(), CryptoError> {
    if received.len() != expected.len() {
        return Err(CryptoError::Length {
            field,
            expected: expected.len(),
            got: received.len(),
        });
    }
    if bool::from(expected.as_slice().ct_eq(received)) {
        Ok(())
    } else {
        Err(CryptoError::ResponseMismatch { field })
    }
}

/// Server side: checks a received NTLMv1 NtChallengeResponse in constant
/// time (MS-NLMP 3.2.5.1.2) and yields the SessionBaseKey.
pub fn verify_ntlmv1_response(
    nt_hash: &NtHash,
    server_challenge: &[u8; 8],
    nt_response: &[u8],
) -> Result<SessionBaseKey, CryptoError> {
    ct_check(
        &ntlmv1_response(nt_hash, server_challenge),
        nt_response,
        "NtChallengeResponse",
    )?;
    Ok(ntlmv1_session_base_key(nt_hash))
}

/// Server side: checks a received LMv1 LmChallengeResponse in constant time.
pub fn verify_lmv1_response(
    lm_hash: &LmHash,
    server_challenge: &[u8; 8],
    lm_response: &[u8],
) -> Result<(), CryptoError> {
    ct_check(
        &lmv1_response(lm_hash, server_challenge),
        lm_response,
        "LmChallengeResponse",
    )
}

/// Server side: checks an NTLM2 session response. The client challenge is
/// LmChallengeResponse[0..7] (MS-NLMP 3.2.5.1.2).
pub fn verify_ntlm2_session_response(
    nt_hash: &NtHash,
    server_challenge: &[u8; 8],
    lm_response: &[u8],
    nt_response: &[u8],
) -> Result<SessionBaseKey, CryptoError> {
    let client_challenge: [u8; 8] =
        lm_response
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .ok_or(CryptoError::TooShort {
                field: "LmChallengeResponse",
                min: 8,
                got: lm_response.len(),
            })?;
    let expected = ntlm2_session_responses(nt_hash, server_challenge, &client_challenge);
    ct_check(&expected.nt_response, nt_response, "NtChallengeResponse")?;
    Ok(expected.session_base_key)
}

/// KXKEY with LM_KEY (MS-NLMP 3.4.5.1): DES(LMOWF[0..6], LM[0..7]) ‖
/// DES(LMOWF[7] ‖ 0xBDBDBDBDBDBD, LM[0..7]).
pub(crate) fn lm_key_exchange_key(lm_hash: &LmHash, lm_response_head: &[u8; 8]) -> [u8; 16] {
    let k = lm_hash.as_bytes();
    let k1: [u8; 7] = chunk(k, 0);
    let [.., last] = chunk::<8>(k, 0);
    let k2 = [last, 0xbd, 0xbd, 0xbd, 0xbd, 0xbd, 0xbd];
    let mut out = [0u8; 16];
    let (lo, hi) = out.split_at_mut(8);
    lo.copy_from_slice(&des(&k1, lm_response_head));
    hi.copy_from_slice(&des(&k2, lm_response_head));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::owf::nt_hash;

    const SC: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];

    #[test]
    fn des_known_answer() {
        // MS-NLMP 4.2.2.1.1: DES(UpperCase(Passwd)[0..6], "KGS!@#$%").
        assert_eq!(hex::encode(des(b"PASSWOR", &LM_MAGIC)), "e52cac67419a9a22");
        assert_eq!(
            hex::encode(des(&[b'D', 0, 0, 0, 0, 0, 0], &LM_MAGIC)),
            "4a3b108f3fa6cb6d"
        );
    }

    #[test]
    fn lm_hash_rules() {
        let h = lm_hash("Password").unwrap();
        assert_eq!(
            hex::encode(h.as_bytes()),
            "e52cac67419a9a224a3b108f3fa6cb6d"
        );
        assert_eq!(lm_hash("PASSWORD"), Some(h));
        assert!(lm_hash("fourteen chars").is_some());
        assert!(lm_hash("fifteen chars!!").is_none());
        assert!(lm_hash("pässword").is_none());
        // The empty password: the well-known aad3b435b51404ee… value.
        assert_eq!(
            hex::encode(lm_hash("").unwrap().as_bytes()),
            "aad3b435b51404eeaad3b435b51404ee"
        );
    }

    #[test]
    fn ntlmv1_responses_without_lm_copy_nt() {
        let nt = nt_hash("Password");
        let r = ntlmv1_responses(&nt, None, &SC);
        assert_eq!(r.lm_response, r.nt_response);
        assert_eq!(
            hex::encode(r.nt_response),
            "67c43011f30298a2ad35ece64f16331c44bdbed927841f94"
        );
    }

    #[test]
    fn verification_is_exact() {
        let nt = nt_hash("Password");
        let lm = lm_hash("Password").unwrap();
        let r = ntlmv1_responses(&nt, Some(&lm), &SC);
        assert_eq!(
            verify_ntlmv1_response(&nt, &SC, &r.nt_response).unwrap(),
            r.session_base_key
        );
        verify_lmv1_response(&lm, &SC, &r.lm_response).unwrap();
        let mut bad = r.nt_response;
        bad[23] ^= 1;
        assert_eq!(
            verify_ntlmv1_response(&nt, &SC, &bad),
            Err(CryptoError::ResponseMismatch {
                field: "NtChallengeResponse"
            })
        );
        assert_eq!(
            verify_ntlmv1_response(&nt, &SC, &r.nt_response[..23]),
            Err(CryptoError::Length {
                field: "NtChallengeResponse",
                expected: 24,
                got: 23
            })
        );
        assert!(verify_lmv1_response(&lm, &SC, &r.nt_response).is_err());
    }

    #[test]
    fn ntlm2_session_verification() {
        let nt = nt_hash("Password");
        let cc = [0xaa; 8];
        let r = ntlm2_session_responses(&nt, &SC, &cc);
        verify_ntlm2_session_response(&nt, &SC, &r.lm_response, &r.nt_response).unwrap();
        let mut other_cc = r.lm_response;
        other_cc[0] ^= 0x80;
        assert!(verify_ntlm2_session_response(&nt, &SC, &other_cc, &r.nt_response).is_err());
        assert_eq!(
            verify_ntlm2_session_response(&nt, &SC, &[0; 7], &r.nt_response),
            Err(CryptoError::TooShort {
                field: "LmChallengeResponse",
                min: 8,
                got: 7
            })
        );
    }
}
