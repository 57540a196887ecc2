//! Parse and build NTLM messages exactly as MS-NLMP 2.2 defines them.
//!
//! This crate does no I/O and no cryptography. It turns bytes into
//! [`NegotiateMessage`], [`ChallengeMessage`] and [`AuthenticateMessage`] and
//! back, along with the structures they carry: [`NegotiateFlags`],
//! [`Version`], AV pair lists ([`AvPairs`]), the LM/NTLM/NTLMv2 responses and
//! the [`MessageSignature`].
//!
//! # Contract
//!
//! - `parse` never panics, for any input, and never allocates: parsed
//!   messages borrow every payload field from the input, so the exact bytes
//!   as received (the NTLMv2 blob, the MIC position) stay available.
//! - Failures are a [`DecodeError`] naming the MS-NLMP field, its byte offset
//!   and what was expected.
//! - Unknown flag bits and unknown AV pairs are kept; nothing is normalised.
//! - `emit` never panics; it writes exactly `buffer_len()` bytes and fails
//!   with [`EncodeError`] if the output is shorter.
//! - `parse(emit(m)) == m` for every message `m` that `emit` accepts.
//!   `emit(parse(b)) == b` holds for messages laid out as Windows lays them
//!   out (payload order, no padding, `MaxLen == Len`); the MS-NLMP 4.2
//!   examples are such messages.
//!
//! ```
//! use ntlm_wire::{ChallengeMessage, NegotiateFlags};
//!
//! let bytes = [
//!     0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00, // "NTLMSSP\0"
//!     0x02, 0x00, 0x00, 0x00, // MessageType: CHALLENGE
//!     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // TargetNameFields: absent
//!     0x01, 0x02, 0x00, 0x00, // NegotiateFlags: UNICODE | NTLM
//!     0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, // ServerChallenge
//! ];
//! let msg = ChallengeMessage::parse(&bytes)?;
//! assert!(msg.flags.contains(NegotiateFlags::NEGOTIATE_NTLM));
//! assert_eq!(msg.to_vec()?, bytes);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod authenticate;
mod av_pair;
mod challenge;
mod codec;
mod error;
mod filetime;
mod flags;
pub mod layout;
mod negotiate;
mod response;
mod signature;
pub mod text;
mod version;

pub use authenticate::{AuthenticateMessage, MIC_LEN, MIC_OFFSET, with_zeroed_mic};
pub use av_pair::{
    AvDefects, AvId, AvPair, AvPairIter, AvPairs, AvValue, MsvAvFlags, SingleHostData,
};
pub use challenge::ChallengeMessage;
pub use codec::{SIGNATURE, SecurityBuffer};
pub use error::{DecodeError, DecodeErrorKind, EncodeError};
pub use filetime::{DateTime, FileTime};
pub use flags::{Charset, FLAG_TABLE, NegotiateFlags};
pub use negotiate::NegotiateMessage;
pub use response::{LmV2Response, NtlmV2ClientChallenge, NtlmV2Response, ResponseKind};
pub use signature::MessageSignature;
pub use version::Version;

use alloc::vec::Vec;

use crate::codec::Reader;

/// MessageType (MS-NLMP 2.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum MessageType {
    /// `NtLmNegotiate`.
    Negotiate = 1,
    /// `NtLmChallenge`.
    Challenge = 2,
    /// `NtLmAuthenticate`.
    Authenticate = 3,
}

impl MessageType {
    /// The upper-case name used in output: `NEGOTIATE`, `CHALLENGE`, `AUTHENTICATE`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Negotiate => "NEGOTIATE",
            Self::Challenge => "CHALLENGE",
            Self::Authenticate => "AUTHENTICATE",
        }
    }

    /// Reads the type of a message after checking its signature.
    pub fn of(msg: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(msg);
        r.signature()?;
        match r.u32("MessageType")? {
            1 => Ok(Self::Negotiate),
            2 => Ok(Self::Challenge),
            3 => Ok(Self::Authenticate),
            got => Err(DecodeError::new(
                "MessageType",
                8,
                DecodeErrorKind::WrongMessageType { expected: 0, got },
            )),
        }
    }
}

pub(crate) fn read_header(r: &mut Reader<'_>, expected: MessageType) -> Result<(), DecodeError> {
    r.signature()?;
    let pos = r.pos();
    let got = r.u32("MessageType")?;
    if got != expected as u32 {
        return Err(DecodeError::new(
            "MessageType",
            pos,
            DecodeErrorKind::WrongMessageType {
                expected: expected as u32,
                got,
            },
        ));
    }
    Ok(())
}

/// Any of the three messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message<'a> {
    /// NEGOTIATE_MESSAGE.
    Negotiate(NegotiateMessage<'a>),
    /// CHALLENGE_MESSAGE.
    Challenge(ChallengeMessage<'a>),
    /// AUTHENTICATE_MESSAGE.
    Authenticate(AuthenticateMessage<'a>),
}

impl<'a> Message<'a> {
    /// Parses a message of any type.
    pub fn parse(msg: &'a [u8]) -> Result<Self, DecodeError> {
        Ok(match MessageType::of(msg)? {
            MessageType::Negotiate => Self::Negotiate(NegotiateMessage::parse(msg)?),
            MessageType::Challenge => Self::Challenge(ChallengeMessage::parse(msg)?),
            MessageType::Authenticate => Self::Authenticate(AuthenticateMessage::parse(msg)?),
        })
    }

    /// Parses a message of any type, cutting a CHALLENGE TargetInfo that
    /// runs past the end (see [`ChallengeMessage::parse_lenient`]).
    pub fn parse_lenient(msg: &'a [u8]) -> Result<Self, DecodeError> {
        Ok(match MessageType::of(msg)? {
            MessageType::Challenge => Self::Challenge(ChallengeMessage::parse_lenient(msg)?),
            _ => Self::parse(msg)?,
        })
    }

    /// The message type.
    pub const fn message_type(&self) -> MessageType {
        match self {
            Self::Negotiate(_) => MessageType::Negotiate,
            Self::Challenge(_) => MessageType::Challenge,
            Self::Authenticate(_) => MessageType::Authenticate,
        }
    }

    /// The NegotiateFlags.
    pub const fn flags(&self) -> NegotiateFlags {
        match self {
            Self::Negotiate(m) => m.flags,
            Self::Challenge(m) => m.flags,
            Self::Authenticate(m) => m.flags,
        }
    }

    /// Encoded length.
    pub fn buffer_len(&self) -> usize {
        match self {
            Self::Negotiate(m) => m.buffer_len(),
            Self::Challenge(m) => m.buffer_len(),
            Self::Authenticate(m) => m.buffer_len(),
        }
    }

    /// Encodes into `out`.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        match self {
            Self::Negotiate(m) => m.emit(out),
            Self::Challenge(m) => m.emit(out),
            Self::Authenticate(m) => m.emit(out),
        }
    }

    /// Encodes into a new vector.
    pub fn to_vec(&self) -> Result<Vec<u8>, EncodeError> {
        match self {
            Self::Negotiate(m) => m.to_vec(),
            Self::Challenge(m) => m.to_vec(),
            Self::Authenticate(m) => m.to_vec(),
        }
    }

    /// Detaches from the input buffer.
    pub fn into_owned(self) -> Message<'static> {
        match self {
            Self::Negotiate(m) => Message::Negotiate(m.into_owned()),
            Self::Challenge(m) => Message::Challenge(m.into_owned()),
            Self::Authenticate(m) => Message::Authenticate(m.into_owned()),
        }
    }
}
