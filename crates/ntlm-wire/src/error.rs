//! Decode and encode errors: typed, `Copy`, allocation-free.
//!
//! Every decode error names the field (as MS-NLMP spells it), the byte offset
//! in the message where the problem starts, and what was expected there.

use core::fmt;

/// A message (or a structure inside one) could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DecodeError {
    /// The MS-NLMP name of the field being read, e.g. `NtChallengeResponseFields`.
    pub field: &'static str,
    /// Byte offset of the field within the input that was being parsed.
    pub offset: usize,
    /// What went wrong.
    pub kind: DecodeErrorKind,
}

/// What went wrong while decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended before the field did.
    Truncated {
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the input.
        available: usize,
    },
    /// The first eight bytes are not `NTLMSSP\0`.
    BadSignature,
    /// The MessageType is not the one this parser decodes.
    WrongMessageType {
        /// The type the parser was asked for (1, 2 or 3), or 0 for "any".
        expected: u32,
        /// The type found in the message.
        got: u32,
    },
    /// A security buffer points outside the message.
    BufferOutOfRange {
        /// BufferOffset as received.
        buffer_offset: u32,
        /// Len as received.
        len: u16,
        /// Length of the whole message.
        message_len: usize,
    },
    /// A security buffer points into the fixed header of the message.
    BufferOverlapsHeader {
        /// BufferOffset as received.
        buffer_offset: u32,
        /// Length of the fixed header it must not overlap.
        header_len: usize,
    },
    /// A field has a value the structure does not allow.
    InvalidValue {
        /// What the field must contain.
        expected: &'static str,
    },
}

impl DecodeError {
    pub(crate) const fn new(field: &'static str, offset: usize, kind: DecodeErrorKind) -> Self {
        Self {
            field,
            offset,
            kind,
        }
    }

    pub(crate) const fn truncated(
        field: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    ) -> Self {
        Self::new(
            field,
            offset,
            DecodeErrorKind::Truncated { needed, available },
        )
    }

    pub(crate) const fn invalid(
        field: &'static str,
        offset: usize,
        expected: &'static str,
    ) -> Self {
        Self::new(field, offset, DecodeErrorKind::InvalidValue { expected })
    }

    /// The same error with its offset moved by `base` (for structures nested in a message).
    #[must_use]
    pub const fn at_base(mut self, base: usize) -> Self {
        self.offset = self.offset.saturating_add(base);
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}: ", self.field, self.offset)?;
        match self.kind {
            DecodeErrorKind::Truncated { needed, available } => write!(
                f,
                "truncated: expected {needed} bytes, {available} available"
            ),
            DecodeErrorKind::BadSignature => f.write_str("expected the signature \"NTLMSSP\\0\""),
            DecodeErrorKind::WrongMessageType { expected: 0, got } => {
                write!(f, "expected message type 1, 2 or 3, got {got}")
            }
            DecodeErrorKind::WrongMessageType { expected, got } => {
                write!(f, "expected message type {expected}, got {got}")
            }
            DecodeErrorKind::BufferOutOfRange {
                buffer_offset,
                len,
                message_len,
            } => write!(
                f,
                "buffer of {len} bytes at offset {buffer_offset} runs past the end of the {message_len}-byte message"
            ),
            DecodeErrorKind::BufferOverlapsHeader {
                buffer_offset,
                header_len,
            } => write!(
                f,
                "buffer at offset {buffer_offset} lies inside the {header_len}-byte fixed header"
            ),
            DecodeErrorKind::InvalidValue { expected } => write!(f, "expected {expected}"),
        }
    }
}

impl core::error::Error for DecodeError {}

/// A message could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// The output buffer is shorter than [`buffer_len`](crate::NegotiateMessage::buffer_len).
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// A payload field is longer than a security buffer can describe (65535 bytes).
    FieldTooLong {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// The message model is inconsistent (e.g. a MIC without the Version slot before it).
    Inconsistent {
        /// What is inconsistent.
        reason: &'static str,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall { needed, available } => write!(
                f,
                "output buffer too small: {needed} bytes needed, {available} available"
            ),
            Self::FieldTooLong { field, len } => {
                write!(f, "{field} is {len} bytes long, more than 65535")
            }
            Self::Inconsistent { reason } => write!(f, "inconsistent message: {reason}"),
        }
    }
}

impl core::error::Error for EncodeError {}
