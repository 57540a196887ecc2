//! NTLMv2 and LMv2 responses (MS-NLMP 3.3.2), their server-side verification
//! (MS-NLMP 3.2.5.1.2) and the anonymous special case.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use ntlm_wire::{FileTime, NtlmV2Response};

use crate::error::CryptoError;
use crate::keys::{HmacMd5Key, NtHash, ResponseKey, SessionBaseKey};
use crate::owf::{ntowfv2, upper_case};
use crate::{chunk, ct_eq16};

/// Length of the fixed part of NTLMv2_CLIENT_CHALLENGE before the AV pairs
/// (MS-NLMP 2.2.2.7).
pub const BLOB_HEADER_LEN: usize = 28;

/// "temp" of MS-NLMP 3.3.2, the NTLMv2_CLIENT_CHALLENGE:
/// `0x01 ‖ 0x01 ‖ Z(6) ‖ Time ‖ ClientChallenge ‖ Z(4) ‖ ServerName ‖ Z(4)`,
/// where ServerName is the AV pair list the client sends (ending with
/// MsvAvEOL) and Time is the FILETIME `timestamp`.
pub fn ntlmv2_blob(timestamp: FileTime, client_challenge: &[u8; 8], av_pairs: &[u8]) -> Vec<u8> {
    let mut temp = Vec::with_capacity(BLOB_HEADER_LEN + av_pairs.len() + 4);
    write_blob(&mut temp, timestamp, client_challenge, av_pairs);
    temp
}

/// Appends temp (see [`ntlmv2_blob`]) to `out`.
fn write_blob(out: &mut Vec<u8>, timestamp: FileTime, client_challenge: &[u8; 8], av_pairs: &[u8]) {
    out.extend_from_slice(&[1, 1, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&timestamp.to_le_bytes());
    out.extend_from_slice(client_challenge);
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(av_pairs);
    out.extend_from_slice(&[0; 4]);
}

/// NTProofStr = HMAC_MD5(ResponseKeyNT, ServerChallenge ‖ temp), over the
/// blob bytes exactly as given (MS-NLMP 3.3.2).
pub fn nt_proof_str(key: &ResponseKey, server_challenge: &[u8; 8], blob: &[u8]) -> [u8; 16] {
    HmacMd5Key::new(key.as_bytes()).mac_last(&[server_challenge, blob])
}

/// LMv2 response = HMAC_MD5(ResponseKeyLM, ServerChallenge ‖ ClientChallenge)
/// ‖ ClientChallenge (MS-NLMP 3.3.2; erratum E5: the key is not part of the
/// hashed message).
pub fn lmv2_response(
    key: &ResponseKey,
    server_challenge: &[u8; 8],
    client_challenge: &[u8; 8],
) -> [u8; 24] {
    lmv2_with(
        &HmacMd5Key::new(key.as_bytes()),
        server_challenge,
        client_challenge,
    )
}

fn lmv2_with(key: &HmacMd5Key, server_challenge: &[u8; 8], client_challenge: &[u8; 8]) -> [u8; 24] {
    let mut out = [0u8; 24];
    let (mac, cc) = out.split_at_mut(16);
    mac.copy_from_slice(&key.mac(&[server_challenge, client_challenge]));
    cc.copy_from_slice(client_challenge);
    out
}

/// SessionBaseKey = HMAC_MD5(ResponseKeyNT, NTProofStr) (MS-NLMP 3.3.2).
pub fn ntlmv2_session_base_key(key: &ResponseKey, nt_proof_str: &[u8; 16]) -> SessionBaseKey {
    SessionBaseKey::from_bytes(HmacMd5Key::new(key.as_bytes()).mac_last(&[nt_proof_str]))
}

/// The NTLMv2 and LMv2 responses and the SessionBaseKey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NtlmV2Responses {
    /// LmChallengeResponse: the LMv2 response. A client sends Z(24) instead
    /// when the CHALLENGE carries MsvAvTimestamp (MS-NLMP 3.1.5.1.2); that
    /// choice is the caller's.
    pub lm_response: [u8; 24],
    /// NtChallengeResponse: NTProofStr ‖ temp.
    pub nt_response: Vec<u8>,
    /// NTProofStr (the first 16 bytes of `nt_response`).
    pub nt_proof_str: [u8; 16],
    /// HMAC_MD5(ResponseKeyNT, NTProofStr).
    pub session_base_key: SessionBaseKey,
}

/// ComputeResponse for NTLMv2 (MS-NLMP 3.3.2): builds temp from the
/// timestamp, client challenge and AV pair bytes ([`ntlmv2_blob`]) and keys
/// HMAC-MD5 once for the three MACs.
pub fn ntlmv2_responses(
    key: &ResponseKey,
    server_challenge: &[u8; 8],
    timestamp: FileTime,
    client_challenge: &[u8; 8],
    av_pairs: &[u8],
) -> NtlmV2Responses {
    let hmac = HmacMd5Key::new(key.as_bytes());
    let lm_response = lmv2_with(&hmac, server_challenge, client_challenge);
    nt_responses(
        hmac,
        server_challenge,
        timestamp,
        client_challenge,
        av_pairs,
        lm_response,
    )
}

/// [`ntlmv2_responses`] for a CHALLENGE that carries MsvAvTimestamp: the
/// client then sends Z(24) as LmChallengeResponse (MS-NLMP 3.1.5.1.2), so
/// the LMv2 MAC is not computed and `lm_response` is Z(24). `timestamp` is
/// the server's.
pub fn ntlmv2_responses_timestamped(
    key: &ResponseKey,
    server_challenge: &[u8; 8],
    timestamp: FileTime,
    client_challenge: &[u8; 8],
    av_pairs: &[u8],
) -> NtlmV2Responses {
    nt_responses(
        HmacMd5Key::new(key.as_bytes()),
        server_challenge,
        timestamp,
        client_challenge,
        av_pairs,
        [0; 24],
    )
}

/// NtChallengeResponse = NTProofStr ‖ temp, built in one buffer, and the
/// SessionBaseKey, with the keyed state consumed by the last MAC.
fn nt_responses(
    hmac: HmacMd5Key,
    server_challenge: &[u8; 8],
    timestamp: FileTime,
    client_challenge: &[u8; 8],
    av_pairs: &[u8],
    lm_response: [u8; 24],
) -> NtlmV2Responses {
    let mut nt_response = Vec::with_capacity(16 + BLOB_HEADER_LEN + av_pairs.len() + 4);
    nt_response.extend_from_slice(&[0; 16]);
    write_blob(&mut nt_response, timestamp, client_challenge, av_pairs);
    let blob = nt_response.get(16..).unwrap_or_default();
    let nt_proof_str = hmac.mac(&[server_challenge, blob]);
    if let Some(slot) = nt_response.get_mut(..16) {
        slot.copy_from_slice(&nt_proof_str);
    }
    NtlmV2Responses {
        lm_response,
        nt_response,
        nt_proof_str,
        session_base_key: SessionBaseKey::from_bytes(hmac.mac_last(&[&nt_proof_str])),
    }
}

/// Server side: checks a received NTLMv2 NtChallengeResponse (MS-NLMP
/// 3.2.5.1.2). The expected NTProofStr is computed over the blob bytes *as
/// received* (never a re-encoding: Windows appends bytes after MsvAvEOL) and
/// compared in constant time. Yields the SessionBaseKey.
pub fn verify_ntlmv2_response(
    key: &ResponseKey,
    server_challenge: &[u8; 8],
    nt_response: &[u8],
) -> Result<SessionBaseKey, CryptoError> {
    // One keyed state for NTProofStr and the SessionBaseKey.
    let hmac = HmacMd5Key::new(key.as_bytes());
    let (expected, received) = expected_proof(&hmac, server_challenge, nt_response)?;
    if bool::from(ct_eq16(&expected, &received)) {
        Ok(SessionBaseKey::from_bytes(hmac.mac_last(&[&expected])))
    } else {
        Err(CryptoError::ResponseMismatch {
            field: "NtChallengeResponse",
        })
    }
}

/// Server side: checks a received LMv2 response in constant time.
pub fn verify_lmv2_response(
    key: &ResponseKey,
    server_challenge: &[u8; 8],
    lm_response: &[u8],
) -> Result<(), CryptoError> {
    lmv2_matches(
        &HmacMd5Key::new(key.as_bytes()),
        server_challenge,
        lm_response,
    )
    .and_then(|ok| {
        if ok {
            Ok(())
        } else {
            Err(CryptoError::ResponseMismatch {
                field: "LmChallengeResponse",
            })
        }
    })
}

fn lmv2_matches(
    key: &HmacMd5Key,
    server_challenge: &[u8; 8],
    lm_response: &[u8],
) -> Result<bool, CryptoError> {
    if lm_response.len() != 24 {
        return Err(CryptoError::Length {
            field: "LmChallengeResponse",
            expected: 24,
            got: lm_response.len(),
        });
    }
    // The last 8 bytes are the ClientChallenge itself, taken from the
    // response: only the 16-byte MAC can differ.
    let cc: [u8; 8] = chunk(lm_response, 16);
    let received: [u8; 16] = chunk(lm_response, 0);
    Ok(ct_eq16(&key.mac(&[server_challenge, &cc]), &received).into())
}

/// The expected and the received NTProofStr of an NTLMv2 response.
fn expected_proof(
    key: &HmacMd5Key,
    server_challenge: &[u8; 8],
    nt_response: &[u8],
) -> Result<([u8; 16], [u8; 16]), CryptoError> {
    if nt_response.len() < NtlmV2Response::MIN_LEN {
        return Err(CryptoError::TooShort {
            field: "NtChallengeResponse",
            min: NtlmV2Response::MIN_LEN,
            got: nt_response.len(),
        });
    }
    let (proof, blob) = nt_response.split_at(16);
    Ok((key.mac(&[server_challenge, blob]), chunk(proof, 0)))
}

/// The domain names a server tries, in order, when computing NTOWFv2 for a
/// received response: the domain as given, then upper-cased, then empty
/// (MS-NLMP 3.2.5.1.2 "NTLM servers SHOULD support NTLM clients which
/// incorrectly use NIL for the UserDom"; Samba `ntlm_password_check()`).
/// Duplicates are dropped, so the list has one to three entries.
pub fn domain_retry_order(domain: &str) -> Vec<String> {
    let mut order: Vec<String> = Vec::with_capacity(3);
    for candidate in [String::from(domain), upper_case(domain), String::new()] {
        if !order.contains(&candidate) {
            order.push(candidate);
        }
    }
    order
}

/// Which response matched in [`verify_ntlmv2`], and under which domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NtlmV2Match<'a> {
    /// The domain candidate whose NTOWFv2 matched: the domain as received
    /// (borrowed), upper-cased, or empty.
    pub domain: Cow<'a, str>,
    /// The NTLMv2 response matched.
    pub nt_matched: bool,
    /// The LMv2 response matched.
    pub lm_matched: bool,
    /// HMAC_MD5(ResponseKeyNT, expected NTProofStr), the NTProofStr computed
    /// over the received blob.
    pub session_base_key: SessionBaseKey,
}

impl NtlmV2Match<'_> {
    /// True when only the LMv2 response matched: MS-NLMP 3.2.5.1.2 accepts
    /// this, which is what CVE-2019-1338 exploits; policy may refuse it.
    pub const fn lm_only(&self) -> bool {
        self.lm_matched && !self.nt_matched
    }
}

/// Server side, NTLMv2 (MS-NLMP 3.2.5.1.2): tries each domain of
/// [`domain_retry_order`] and returns the first under which the NTLMv2 *or*
/// the LMv2 response matches, as the specification does ("If
/// NtChallengeResponse … and LmChallengeResponse … are not equal … retry
/// with DomainName NIL"). An LM response that is not 24 bytes simply does
/// not match. Every comparison is constant-time.
pub fn verify_ntlmv2<'a>(
    nt_hash: &NtHash,
    user: &str,
    domain: &'a str,
    server_challenge: &[u8; 8],
    lm_response: &[u8],
    nt_response: &[u8],
) -> Result<NtlmV2Match<'a>, CryptoError> {
    let attempt = |candidate: Cow<'a, str>| -> Result<Option<NtlmV2Match<'a>>, CryptoError> {
        let key = ntowfv2(nt_hash, user, &candidate);
        let hmac = HmacMd5Key::new(key.as_bytes());
        let (expected, received) = expected_proof(&hmac, server_challenge, nt_response)?;
        let nt_matched: bool = ct_eq16(&expected, &received).into();
        let lm_matched = lmv2_matches(&hmac, server_challenge, lm_response).unwrap_or(false);
        Ok((nt_matched || lm_matched).then(|| NtlmV2Match {
            domain: candidate,
            nt_matched,
            lm_matched,
            session_base_key: SessionBaseKey::from_bytes(hmac.mac_last(&[&expected])),
        }))
    };
    // The domain as given almost always matches; the retry list is built only if not.
    if let Some(m) = attempt(Cow::Borrowed(domain))? {
        return Ok(m);
    }
    for candidate in domain_retry_order(domain).into_iter().skip(1) {
        if let Some(m) = attempt(Cow::Owned(candidate))? {
            return Ok(m);
        }
    }
    Err(CryptoError::ResponseMismatch {
        field: "NtChallengeResponse",
    })
}

/// The anonymous responses (MS-NLMP 3.3.1, 3.3.2: User and Passwd both
/// empty): an empty NtChallengeResponse and LmChallengeResponse = Z(1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnonymousResponses {
    /// LmChallengeResponse = Z(1).
    pub lm_response: [u8; 1],
    /// NtChallengeResponse: empty (Len, MaxLen and BufferOffset 0).
    pub nt_response: [u8; 0],
    /// Z(16): the server's SessionBaseKey for a null session
    /// (MS-NLMP 3.2.5.1.2). There is no session security for anonymous
    /// logons (MS-NLMP 3.4).
    pub session_base_key: SessionBaseKey,
}

/// The anonymous responses.
pub const fn anonymous_responses() -> AnonymousResponses {
    AnonymousResponses {
        lm_response: [0],
        nt_response: [],
        session_base_key: SessionBaseKey::zero(),
    }
}

/// Server side: the NullSession test of MS-NLMP 3.2.5.1.2: UserName empty,
/// NtChallengeResponse empty, LmChallengeResponse Z(1) or empty.
pub fn is_null_session(user: &[u8], lm_response: &[u8], nt_response: &[u8]) -> bool {
    user.is_empty() && nt_response.is_empty() && matches!(lm_response, [] | [0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::owf::nt_hash;

    const SC: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
    const AV: &str = "02000c0044006f006d00610069006e0001000c0053006500720076006500720000000000";

    fn spec() -> (NtHash, ResponseKey, NtlmV2Responses) {
        let nt = nt_hash("Password");
        let key = ntowfv2(&nt, "User", "Domain");
        let r = ntlmv2_responses(
            &key,
            &SC,
            FileTime(0),
            &[0xaa; 8],
            &hex::decode(AV).unwrap(),
        );
        (nt, key, r)
    }

    #[test]
    fn parts_agree_with_the_combined_computation() {
        let (_, key, r) = spec();
        let blob = &r.nt_response[16..];
        assert_eq!(
            blob,
            ntlmv2_blob(FileTime(0), &[0xaa; 8], &hex::decode(AV).unwrap())
        );
        assert_eq!(nt_proof_str(&key, &SC, blob), r.nt_proof_str);
        assert_eq!(lmv2_response(&key, &SC, &[0xaa; 8]), r.lm_response);
        let t = ntlmv2_responses_timestamped(
            &key,
            &SC,
            FileTime(0),
            &[0xaa; 8],
            &hex::decode(AV).unwrap(),
        );
        assert_eq!(t.lm_response, [0; 24]);
        assert_eq!(
            (t.nt_response, t.nt_proof_str, t.session_base_key),
            (
                r.nt_response.clone(),
                r.nt_proof_str,
                r.session_base_key.clone()
            )
        );
        assert_eq!(
            ntlmv2_session_base_key(&key, &r.nt_proof_str),
            r.session_base_key
        );
    }

    #[test]
    fn verification_covers_received_bytes() {
        let (_, key, r) = spec();
        assert_eq!(
            verify_ntlmv2_response(&key, &SC, &r.nt_response).unwrap(),
            r.session_base_key
        );
        verify_lmv2_response(&key, &SC, &r.lm_response).unwrap();
        // Trailing bytes change the proof: the check is over the exact bytes.
        let mut longer = r.nt_response.clone();
        longer.extend_from_slice(&[0; 4]);
        assert_eq!(
            verify_ntlmv2_response(&key, &SC, &longer),
            Err(CryptoError::ResponseMismatch {
                field: "NtChallengeResponse"
            })
        );
        assert_eq!(
            verify_ntlmv2_response(&key, &SC, &r.nt_response[..47]),
            Err(CryptoError::TooShort {
                field: "NtChallengeResponse",
                min: 48,
                got: 47
            })
        );
        let mut lm = r.lm_response;
        lm[20] ^= 1;
        assert!(verify_lmv2_response(&key, &SC, &lm).is_err());
        assert!(verify_lmv2_response(&key, &SC, &lm[..23]).is_err());
    }

    #[test]
    fn domain_retry_order_deduplicates() {
        assert_eq!(domain_retry_order("Domain"), ["Domain", "DOMAIN", ""]);
        assert_eq!(domain_retry_order("DOMAIN"), ["DOMAIN", ""]);
        assert_eq!(domain_retry_order(""), [""]);
    }

    #[test]
    fn verify_retries_upper_cased_and_empty_domains() {
        let nt = nt_hash("Password");
        for (client_domain, received_domain) in
            [("Domain", "Domain"), ("DOMAIN", "Domain"), ("", "Domain")]
        {
            let key = ntowfv2(&nt, "User", client_domain);
            let r = ntlmv2_responses(&key, &SC, FileTime(7), &[3; 8], &hex::decode(AV).unwrap());
            let m =
                verify_ntlmv2(&nt, "user", received_domain, &SC, &[0; 24], &r.nt_response).unwrap();
            assert_eq!(m.domain, client_domain);
            assert!(m.nt_matched && !m.lm_matched && !m.lm_only());
            assert_eq!(m.session_base_key, r.session_base_key);
        }
        // A wrong password fails under every candidate.
        let key = ntowfv2(&nt_hash("wrong"), "User", "Domain");
        let r = ntlmv2_responses(&key, &SC, FileTime(7), &[3; 8], &hex::decode(AV).unwrap());
        assert!(verify_ntlmv2(&nt, "User", "Domain", &SC, &r.lm_response, &r.nt_response).is_err());
    }

    #[test]
    fn lm_alone_matches_as_the_spec_allows() {
        let (nt, _, r) = spec();
        let mut nt_resp = r.nt_response.clone();
        nt_resp[0] ^= 1;
        let m = verify_ntlmv2(&nt, "User", "Domain", &SC, &r.lm_response, &nt_resp).unwrap();
        assert!(m.lm_only());
        // The SessionBaseKey comes from the NTProofStr computed over the received blob.
        assert_eq!(m.session_base_key, r.session_base_key);
    }

    #[test]
    fn anonymous() {
        let a = anonymous_responses();
        assert_eq!(a.lm_response, [0]);
        assert!(a.nt_response.is_empty());
        assert_eq!(a.session_base_key.as_bytes(), &[0; 16]);
        assert!(is_null_session(b"", &a.lm_response, &a.nt_response));
        assert!(is_null_session(b"", b"", b""));
        assert!(!is_null_session(b"u", b"", b""));
        assert!(!is_null_session(b"", &[1], b""));
        assert!(!is_null_session(b"", &[0], &[0; 24]));
    }
}
