//! Challenge responses (MS-NLMP 2.2.2.3, 2.2.2.4, 2.2.2.6, 2.2.2.7, 2.2.2.8).

use alloc::vec::Vec;
use core::fmt;

use crate::av_pair::AvPairs;
use crate::codec::Reader;
use crate::error::DecodeError;
use crate::filetime::FileTime;
use crate::flags::NegotiateFlags;

/// Which NTLM variant an AUTHENTICATE message uses, inferred from the
/// response lengths as a server does (MS-NLMP 3.2.5.1.2, 3.3): the variant
/// is not negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseKind {
    /// Empty user name and NT response, LM response empty or `Z(1)`.
    Anonymous,
    /// Only a 24-byte LM response.
    Lm,
    /// A 24-byte NT response without extended session security.
    NtlmV1,
    /// A 24-byte NT response with extended session security ("NTLM2 session response").
    Ntlm2Session,
    /// An NT response longer than 24 bytes.
    NtlmV2,
    /// Lengths that match no variant.
    Unknown,
}

impl ResponseKind {
    /// Classifies the responses of an AUTHENTICATE message.
    pub fn classify(flags: NegotiateFlags, lm: &[u8], nt: &[u8], user: &[u8]) -> Self {
        match nt.len() {
            0 if user.is_empty() && (lm.is_empty() || lm == [0]) => Self::Anonymous,
            0 if lm.len() == 24 => Self::Lm,
            24 if flags.contains(NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY) => {
                Self::Ntlm2Session
            }
            24 => Self::NtlmV1,
            n if n > 24 => Self::NtlmV2,
            _ => Self::Unknown,
        }
    }

    /// The name used in JSON output: `ANONYMOUS`, `LM`, `NTLMv1`, `NTLM2_SESSION`, `NTLMv2`, `UNKNOWN`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Anonymous => "ANONYMOUS",
            Self::Lm => "LM",
            Self::NtlmV1 => "NTLMv1",
            Self::Ntlm2Session => "NTLM2_SESSION",
            Self::NtlmV2 => "NTLMv2",
            Self::Unknown => "UNKNOWN",
        }
    }
}

impl fmt::Display for ResponseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// [2.2.2.4] LMv2_RESPONSE: HMAC-MD5 proof and the client challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LmV2Response {
    /// Response: HMAC_MD5(ResponseKeyLM, ServerChallenge ‖ ClientChallenge).
    pub response: [u8; 16],
    /// ChallengeFromClient.
    pub client_challenge: [u8; 8],
}

impl LmV2Response {
    /// Parses a 24-byte LM response field as LMv2.
    pub fn parse(b: &[u8]) -> Result<Self, DecodeError> {
        if b.len() != 24 {
            return Err(DecodeError::invalid("LMv2_RESPONSE", 0, "24 bytes"));
        }
        let mut r = Reader::new(b);
        Ok(Self {
            response: r.array("LMv2_RESPONSE.Response")?,
            client_challenge: r.array("LMv2_RESPONSE.ChallengeFromClient")?,
        })
    }

    /// Encodes the 24 bytes.
    pub fn to_bytes(&self) -> [u8; 24] {
        let mut out = [0u8; 24];
        let (a, b) = out.split_at_mut(16);
        a.copy_from_slice(&self.response);
        b.copy_from_slice(&self.client_challenge);
        out
    }
}

/// [2.2.2.8] NTLMv2_RESPONSE, borrowed from an AUTHENTICATE message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NtlmV2Response<'a> {
    /// NTProofStr: HMAC_MD5(ResponseKeyNT, ServerChallenge ‖ blob).
    pub nt_proof_str: [u8; 16],
    /// The NTLMv2_CLIENT_CHALLENGE exactly as received: the bytes the
    /// NTProofStr covers ("temp" in MS-NLMP 3.3.2).
    pub blob: &'a [u8],
    /// The decoded client challenge.
    pub client_challenge: NtlmV2ClientChallenge<'a>,
}

impl<'a> NtlmV2Response<'a> {
    /// Minimum length: NTProofStr, the 28-byte fixed blob and MsvAvEOL.
    pub const MIN_LEN: usize = 16 + NtlmV2ClientChallenge::FIXED_LEN + 4;

    /// Parses an NT response longer than 24 bytes. Errors name the field
    /// and its offset within the response.
    pub fn parse(nt: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(nt);
        let nt_proof_str = r.array("NTLMv2_RESPONSE.Response")?;
        let blob = r.rest();
        let client_challenge = NtlmV2ClientChallenge::parse(blob).map_err(|e| e.at_base(16))?;
        Ok(Self {
            nt_proof_str,
            blob,
            client_challenge,
        })
    }
}

/// [2.2.2.7] NTLMv2_CLIENT_CHALLENGE.
///
/// `av_pairs` holds everything after the fixed 28 bytes exactly as received:
/// the pairs, `MsvAvEOL` and any trailing bytes (MS-NLMP 3.3.2 puts four zero
/// bytes there; Windows sometimes more; impacket none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NtlmV2ClientChallenge<'a> {
    /// RespType: MUST be 1.
    pub resp_type: u8,
    /// HiRespType: MUST be 1.
    pub hi_resp_type: u8,
    /// Reserved1 (MUST be zero), kept.
    pub reserved1: u16,
    /// Reserved2 (MUST be zero), kept.
    pub reserved2: u32,
    /// TimeStamp.
    pub timestamp: FileTime,
    /// ChallengeFromClient.
    pub challenge_from_client: [u8; 8],
    /// Reserved3 (MUST be zero), kept.
    pub reserved3: u32,
    /// AvPairs and the bytes after them.
    pub av_pairs: AvPairs<'a>,
}

impl<'a> NtlmV2ClientChallenge<'a> {
    /// Length of the fixed part before AvPairs.
    pub const FIXED_LEN: usize = 1 + 1 + 2 + 4 + 8 + 8 + 4;

    /// Parses the blob. The AV pairs never fail to parse (see [`AvPairs`]).
    pub fn parse(b: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(b);
        let resp_type = r.u8("NTLMv2_CLIENT_CHALLENGE.RespType")?;
        let hi_resp_type = r.u8("NTLMv2_CLIENT_CHALLENGE.HiRespType")?;
        let reserved1 = r.u16("NTLMv2_CLIENT_CHALLENGE.Reserved1")?;
        let reserved2 = r.u32("NTLMv2_CLIENT_CHALLENGE.Reserved2")?;
        let timestamp = FileTime(r.u64("NTLMv2_CLIENT_CHALLENGE.TimeStamp")?);
        let challenge_from_client = r.array("NTLMv2_CLIENT_CHALLENGE.ChallengeFromClient")?;
        let reserved3 = r.u32("NTLMv2_CLIENT_CHALLENGE.Reserved3")?;
        Ok(Self {
            resp_type,
            hi_resp_type,
            reserved1,
            reserved2,
            timestamp,
            challenge_from_client,
            reserved3,
            av_pairs: AvPairs::new(r.rest()),
        })
    }

    /// A blob as MS-NLMP 3.3.2 builds it: types 1/1, zero reserved fields,
    /// and `av_pairs` (which should end with `MsvAvEOL` and `Z(4)`).
    pub const fn new(
        timestamp: FileTime,
        challenge_from_client: [u8; 8],
        av_pairs: AvPairs<'a>,
    ) -> Self {
        Self {
            resp_type: 1,
            hi_resp_type: 1,
            reserved1: 0,
            reserved2: 0,
            timestamp,
            challenge_from_client,
            reserved3: 0,
            av_pairs,
        }
    }

    /// Encoded length.
    pub fn buffer_len(&self) -> usize {
        Self::FIXED_LEN.saturating_add(self.av_pairs.len())
    }

    /// Encodes the blob ("temp").
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.buffer_len());
        v.push(self.resp_type);
        v.push(self.hi_resp_type);
        v.extend_from_slice(&self.reserved1.to_le_bytes());
        v.extend_from_slice(&self.reserved2.to_le_bytes());
        v.extend_from_slice(&self.timestamp.to_le_bytes());
        v.extend_from_slice(&self.challenge_from_client);
        v.extend_from_slice(&self.reserved3.to_le_bytes());
        v.extend_from_slice(self.av_pairs.as_bytes());
        v
    }

    /// True when RespType and HiRespType are 1 and the reserved fields zero.
    pub const fn is_canonical(&self) -> bool {
        self.resp_type == 1
            && self.hi_resp_type == 1
            && self.reserved1 == 0
            && self.reserved2 == 0
            && self.reserved3 == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_responses() {
        let ess = NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY;
        let none = NegotiateFlags::empty();
        assert_eq!(
            ResponseKind::classify(none, &[0], &[], &[]),
            ResponseKind::Anonymous
        );
        assert_eq!(
            ResponseKind::classify(none, &[], &[], &[]),
            ResponseKind::Anonymous
        );
        assert_eq!(
            ResponseKind::classify(none, &[1; 24], &[], b"u"),
            ResponseKind::Lm
        );
        assert_eq!(
            ResponseKind::classify(none, &[1; 24], &[1; 24], b"u"),
            ResponseKind::NtlmV1
        );
        assert_eq!(
            ResponseKind::classify(ess, &[1; 24], &[1; 24], b"u"),
            ResponseKind::Ntlm2Session
        );
        assert_eq!(
            ResponseKind::classify(ess, &[0; 24], &[1; 48], b"u"),
            ResponseKind::NtlmV2
        );
        assert_eq!(
            ResponseKind::classify(ess, &[], &[1; 7], b"u"),
            ResponseKind::Unknown
        );
    }

    #[test]
    fn lmv2_round_trip() {
        let b = hex::decode("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa").unwrap();
        let r = LmV2Response::parse(&b).unwrap();
        assert_eq!(r.client_challenge, [0xaa; 8]);
        assert_eq!(r.to_bytes().to_vec(), b);
        assert!(LmV2Response::parse(&b[..23]).is_err());
    }

    #[test]
    fn blob_keeps_trailing_bytes_and_round_trips() {
        // MS-NLMP 4.2.4 temp.
        let temp = hex::decode("01010000000000000000000000000000aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e0001000c005300650072007600650072000000000000000000").unwrap();
        let c = NtlmV2ClientChallenge::parse(&temp).unwrap();
        assert!(c.is_canonical());
        assert_eq!(c.challenge_from_client, [0xaa; 8]);
        assert_eq!(c.av_pairs.trailing(), &[0, 0, 0, 0]);
        assert_eq!(c.to_vec(), temp);
    }

    #[test]
    fn short_blob_names_field_and_offset() {
        let mut nt = vec![0u8; 16];
        nt.extend_from_slice(&[1, 1, 0, 0, 0, 0, 0, 0, 1, 2, 3]);
        let e = NtlmV2Response::parse(&nt).unwrap_err();
        assert_eq!(e.field, "NTLMv2_CLIENT_CHALLENGE.TimeStamp");
        assert_eq!(e.offset, 24);
    }
}
