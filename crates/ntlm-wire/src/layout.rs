//! Where each field of an NTLM message sits (MS-NLMP 2.2.1.1-2.2.1.3,
//! 2.2.2.7, 2.2.2.8), and how far a message extends.
//!
//! The offsets are from the start of the message (or, in [`ntlmv2`], of the
//! NT response). The parsers of this crate read the headers through these
//! constants; views that point at fields by offset, and code that must find
//! a message's end or flags without parsing it (a message that did not
//! parse, a signature found in a byte stream), use them as well.

use crate::MessageType;
use crate::codec::SIGNATURE as SIGNATURE_BYTES;
use crate::error::{DecodeError, DecodeErrorKind};
use crate::flags::NegotiateFlags;

/// `Signature` (`NTLMSSP\0`), all messages.
pub const SIGNATURE: usize = 0;
/// `MessageType`, all messages.
pub const MESSAGE_TYPE: usize = 8;
/// Length of the Version structure (MS-NLMP 2.2.2.10) that follows a
/// message's fixed header when present.
pub const VERSION_LEN: usize = crate::Version::LEN;

/// The fields of a security buffer (`*Fields`, MS-NLMP 2.2.1.1): offsets
/// within the 8-byte structure.
pub mod security_buffer {
    /// `Len` (u16).
    pub const LEN: usize = 0;
    /// `MaxLen` (u16).
    pub const MAX_LEN: usize = 2;
    /// `BufferOffset` (u32).
    pub const OFFSET: usize = 4;
    /// Size of the structure.
    pub const SIZE: usize = 8;
}

/// NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1).
pub mod negotiate {
    /// `NegotiateFlags`.
    pub const FLAGS: usize = 12;
    /// `DomainNameFields`.
    pub const DOMAIN_NAME: usize = 16;
    /// `WorkstationFields`.
    pub const WORKSTATION: usize = 24;
    /// `Version`, when the header has it.
    pub const VERSION: usize = 32;
    /// The fixed header without Version.
    pub const HEADER_LEN: usize = 8 /* Signature */ + 4 /* MessageType */ + 4 /* NegotiateFlags */
        + 8 /* DomainNameFields */ + 8 /* WorkstationFields */;
    /// The security buffers, by MS-NLMP name.
    pub const BUFFERS: [(&str, usize); 2] = [
        ("DomainNameFields", DOMAIN_NAME),
        ("WorkstationFields", WORKSTATION),
    ];
}

/// CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2).
pub mod challenge {
    /// `TargetNameFields`.
    pub const TARGET_NAME: usize = 12;
    /// `NegotiateFlags`.
    pub const FLAGS: usize = 20;
    /// `ServerChallenge`.
    pub const SERVER_CHALLENGE: usize = 24;
    /// `Reserved`.
    pub const RESERVED: usize = 32;
    /// `TargetInfoFields`.
    pub const TARGET_INFO: usize = 40;
    /// `Version`, when the header has it.
    pub const VERSION: usize = 48;
    /// The short header of some old servers: no Reserved, TargetInfoFields
    /// or Version.
    pub const SHORT_HEADER_LEN: usize = 8 /* Signature */ + 4 /* MessageType */
        + 8 /* TargetNameFields */ + 4 /* NegotiateFlags */ + 8 /* ServerChallenge */;
    /// The fixed header without Version.
    pub const HEADER_LEN: usize = SHORT_HEADER_LEN + 8 /* Reserved */ + 8 /* TargetInfoFields */;
    /// The security buffers, by MS-NLMP name.
    pub const BUFFERS: [(&str, usize); 2] = [
        ("TargetNameFields", TARGET_NAME),
        ("TargetInfoFields", TARGET_INFO),
    ];
}

/// AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3).
pub mod authenticate {
    /// `LmChallengeResponseFields`.
    pub const LM_CHALLENGE_RESPONSE: usize = 12;
    /// `NtChallengeResponseFields`.
    pub const NT_CHALLENGE_RESPONSE: usize = 20;
    /// `DomainNameFields`.
    pub const DOMAIN_NAME: usize = 28;
    /// `UserNameFields`.
    pub const USER_NAME: usize = 36;
    /// `WorkstationFields`.
    pub const WORKSTATION: usize = 44;
    /// `EncryptedRandomSessionKeyFields`.
    pub const ENCRYPTED_RANDOM_SESSION_KEY: usize = 52;
    /// `NegotiateFlags`.
    pub const FLAGS: usize = 60;
    /// `Version`, when the header has it.
    pub const VERSION: usize = 64;
    /// `MIC`, in an 88-byte header (Samba `NTLMSSP_MIC_OFFSET`).
    pub const MIC: usize = HEADER_LEN + super::VERSION_LEN;
    /// Size of the MIC field.
    pub const MIC_LEN: usize = 16;
    /// The fixed header without Version or MIC.
    pub const HEADER_LEN: usize = 8 /* Signature */ + 4 /* MessageType */
        + 8 /* LmChallengeResponseFields */ + 8 /* NtChallengeResponseFields */
        + 8 /* DomainNameFields */ + 8 /* UserNameFields */ + 8 /* WorkstationFields */
        + 8 /* EncryptedRandomSessionKeyFields */ + 4 /* NegotiateFlags */;
    /// The security buffers, by MS-NLMP name.
    pub const BUFFERS: [(&str, usize); 6] = [
        ("LmChallengeResponseFields", LM_CHALLENGE_RESPONSE),
        ("NtChallengeResponseFields", NT_CHALLENGE_RESPONSE),
        ("DomainNameFields", DOMAIN_NAME),
        ("UserNameFields", USER_NAME),
        ("WorkstationFields", WORKSTATION),
        (
            "EncryptedRandomSessionKeyFields",
            ENCRYPTED_RANDOM_SESSION_KEY,
        ),
    ];
}

/// NTLMv2_RESPONSE (MS-NLMP 2.2.2.8) and NTLMv2_CLIENT_CHALLENGE (2.2.2.7):
/// offsets from the start of the NT response.
pub mod ntlmv2 {
    /// `Response` (NTProofStr).
    pub const NT_PROOF_STR: usize = 0;
    /// `RespType`.
    pub const RESP_TYPE: usize = 16;
    /// `HiRespType`.
    pub const HI_RESP_TYPE: usize = 17;
    /// `Reserved1`.
    pub const RESERVED1: usize = 18;
    /// `Reserved2`.
    pub const RESERVED2: usize = 20;
    /// `TimeStamp`.
    pub const TIMESTAMP: usize = 24;
    /// `ChallengeFromClient`.
    pub const CLIENT_CHALLENGE: usize = 32;
    /// `Reserved3`.
    pub const RESERVED3: usize = 40;
    /// `AvPairs`.
    pub const AV_PAIRS: usize = 44;
}

// The offsets and the header lengths are written independently; they must agree.
const _: () = {
    assert!(negotiate::VERSION == negotiate::HEADER_LEN);
    assert!(challenge::VERSION == challenge::HEADER_LEN);
    assert!(challenge::RESERVED == challenge::SHORT_HEADER_LEN);
    assert!(authenticate::VERSION == authenticate::HEADER_LEN);
    assert!(authenticate::FLAGS + 4 == authenticate::HEADER_LEN);
    assert!(negotiate::WORKSTATION + security_buffer::SIZE == negotiate::HEADER_LEN);
    assert!(challenge::TARGET_INFO + security_buffer::SIZE == challenge::HEADER_LEN);
};

/// Offset of `NegotiateFlags` in a message of type `t`.
pub const fn flags_offset(t: MessageType) -> usize {
    match t {
        MessageType::Negotiate => negotiate::FLAGS,
        MessageType::Challenge => challenge::FLAGS,
        MessageType::Authenticate => authenticate::FLAGS,
    }
}

/// Length of the fixed header of a message of type `t`, without Version
/// (and, for AUTHENTICATE, without MIC).
pub const fn header_len(t: MessageType) -> usize {
    match t {
        MessageType::Negotiate => negotiate::HEADER_LEN,
        MessageType::Challenge => challenge::HEADER_LEN,
        MessageType::Authenticate => authenticate::HEADER_LEN,
    }
}

/// The security buffers of a message of type `t`: (MS-NLMP name, offset).
pub const fn security_buffers(t: MessageType) -> &'static [(&'static str, usize)] {
    match t {
        MessageType::Negotiate => &negotiate::BUFFERS,
        MessageType::Challenge => &challenge::BUFFERS,
        MessageType::Authenticate => &authenticate::BUFFERS,
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let end = at.checked_add(2)?;
    b.get(at..end)?.try_into().ok().map(u16::from_le_bytes)
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let end = at.checked_add(4)?;
    b.get(at..end)?.try_into().ok().map(u32::from_le_bytes)
}

/// The `NegotiateFlags` of a message of type `t`, read at their fixed
/// offset without parsing anything else (for a message that did not parse);
/// `None` when the message is too short to hold them.
pub fn raw_flags(t: MessageType, msg: &[u8]) -> Option<NegotiateFlags> {
    u32_at(msg, flags_offset(t)).map(NegotiateFlags::from_bits_retain)
}

/// How long the NTLM message at the start of `b` is: the end of its fixed
/// header (with the Version slot when `NEGOTIATE_VERSION` is set) or of the
/// furthest payload its security buffers point at, whichever is later.
///
/// For finding a message by its signature in a byte stream, where nothing
/// else says where it ends. `Ok(None)`: more bytes are needed to know.
/// `Err`: not a message: a bad signature or type, or a security buffer
/// reaching past `max_len` bytes (the error names it).
pub fn message_extent(b: &[u8], max_len: usize) -> Result<Option<usize>, DecodeError> {
    if b.len() < MESSAGE_TYPE + 4 {
        return Ok(None);
    }
    if !b.starts_with(&SIGNATURE_BYTES) {
        return Err(DecodeError::new(
            "Signature",
            SIGNATURE,
            DecodeErrorKind::BadSignature,
        ));
    }
    let t = match u32_at(b, MESSAGE_TYPE).unwrap_or_default() {
        1 => MessageType::Negotiate,
        2 => MessageType::Challenge,
        3 => MessageType::Authenticate,
        got => {
            return Err(DecodeError::new(
                "MessageType",
                MESSAGE_TYPE,
                DecodeErrorKind::WrongMessageType { expected: 0, got },
            ));
        }
    };
    let header = header_len(t);
    let Some(flags) = raw_flags(t, b).filter(|_| b.len() >= header) else {
        return Ok(None);
    };
    let mut end = if flags.contains(NegotiateFlags::NEGOTIATE_VERSION) {
        header + VERSION_LEN
    } else {
        header
    };
    for &(field, at) in security_buffers(t) {
        let (Some(len), Some(offset)) = (
            u16_at(b, at + security_buffer::LEN),
            u32_at(b, at + security_buffer::OFFSET),
        ) else {
            return Ok(None);
        };
        if len == 0 {
            continue;
        }
        let field_end = usize::try_from(offset)
            .ok()
            .and_then(|o| o.checked_add(usize::from(len)))
            .filter(|&e| e <= max_len)
            .ok_or(DecodeError::new(
                field,
                at,
                DecodeErrorKind::BufferOutOfRange {
                    buffer_offset: offset,
                    len,
                    message_len: max_len,
                },
            ))?;
        end = end.max(field_end);
    }
    Ok(Some(end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AuthenticateMessage, ChallengeMessage, NegotiateMessage, Version};
    use alloc::vec::Vec;

    fn messages() -> [Vec<u8>; 3] {
        let flags = NegotiateFlags::NEGOTIATE_UNICODE | NegotiateFlags::NEGOTIATE_VERSION;
        let v = Some(Version::new(10, 0, 19041));
        let mut n = NegotiateMessage::new(flags, v);
        n.domain = Some(b"DOM"[..].into());
        let c = ChallengeMessage {
            flags,
            server_challenge: [1; 8],
            target_name: Some(b"T\0"[..].into()),
            reserved: Some([0; 8]),
            target_info: None,
            version: v,
        };
        let a = AuthenticateMessage {
            lm_response: None,
            nt_response: None,
            domain: None,
            user: Some(b"u\0s\0e\0r\0"[..].into()),
            workstation: None,
            encrypted_random_session_key: None,
            flags,
            version: v,
            mic: Some([7; 16]),
        };
        [
            n.to_vec().unwrap(),
            c.to_vec().unwrap(),
            a.to_vec().unwrap(),
        ]
    }

    #[test]
    fn offsets_match_what_the_codec_writes() {
        let [n, c, a] = messages();
        for (m, t) in [
            (&n, MessageType::Negotiate),
            (&c, MessageType::Challenge),
            (&a, MessageType::Authenticate),
        ] {
            assert_eq!(MessageType::of(m).unwrap(), t);
            assert!(
                raw_flags(t, m)
                    .unwrap()
                    .contains(NegotiateFlags::NEGOTIATE_VERSION)
            );
        }
        assert_eq!(
            &a[authenticate::MIC..authenticate::MIC + authenticate::MIC_LEN],
            &[7; 16]
        );
        assert_eq!(crate::MIC_OFFSET, authenticate::MIC);
        assert_eq!(
            &c[challenge::SERVER_CHALLENGE..challenge::SERVER_CHALLENGE + 8],
            &[1; 8]
        );
        assert_eq!(n[negotiate::VERSION], 10);
        assert_eq!(c[challenge::VERSION], 10);
        assert_eq!(a[authenticate::VERSION], 10);
        assert_eq!(raw_flags(MessageType::Authenticate, &a[..63]), None);
    }

    #[test]
    fn extent_of_each_message() {
        for msg in messages() {
            assert_eq!(message_extent(&msg, 1 << 16).unwrap(), Some(msg.len()));
            let longer = [&msg[..], b"trailing"].concat();
            assert_eq!(message_extent(&longer, 1 << 16).unwrap(), Some(msg.len()));
            assert_eq!(message_extent(&msg[..11], 1 << 16).unwrap(), None);
            assert_eq!(message_extent(&msg[..20], 1 << 16).unwrap(), None);
        }
    }

    #[test]
    fn extent_errors_name_the_field() {
        let e = message_extent(b"NTLMSSP\0\x07\0\0\0", 100).unwrap_err();
        assert_eq!((e.field, e.offset), ("MessageType", 8));
        let e = message_extent(b"NTLMSSX\0\x01\0\0\0", 100).unwrap_err();
        assert_eq!((e.field, e.offset), ("Signature", 0));
        let [mut n, ..] = messages();
        n[20..24].copy_from_slice(&0xffff_0000u32.to_le_bytes());
        let e = message_extent(&n, 1 << 16).unwrap_err();
        assert_eq!((e.field, e.offset), ("DomainNameFields", 16));
        // The same buffer within a larger bound is fine.
        n[20..24].copy_from_slice(&0x100u32.to_le_bytes());
        assert_eq!(message_extent(&n, 1 << 16).unwrap(), Some(0x103));
        assert!(message_extent(&n, 0x102).is_err());
    }
}
