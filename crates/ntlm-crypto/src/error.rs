//! Errors of the key and response computations.

use core::fmt;

/// Why a computation or a verification failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// An input has the wrong length.
    Length {
        /// What the input is (an MS-NLMP field or key name).
        field: &'static str,
        /// The length required.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// An input is shorter than the computation needs.
    TooShort {
        /// What the input is.
        field: &'static str,
        /// The minimum length.
        min: usize,
        /// The length given.
        got: usize,
    },
    /// LM_KEY or REQUEST_NON_NT_SESSION_KEY needs the LMOWFv1, which was not
    /// supplied (or cannot exist: a password longer than 14 characters).
    LmHashRequired,
    /// A received challenge response does not match the expected one.
    ResponseMismatch {
        /// Which response: `NtChallengeResponse` or `LmChallengeResponse`.
        field: &'static str,
    },
    /// The received MIC does not match the computed one.
    MicMismatch,
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Length {
                field,
                expected,
                got,
            } => write!(f, "{field} must be {expected} bytes, got {got}"),
            Self::TooShort { field, min, got } => {
                write!(f, "{field} must be at least {min} bytes, got {got}")
            }
            Self::LmHashRequired => f.write_str("the negotiated key needs the LM hash (LMOWFv1)"),
            Self::ResponseMismatch { field } => write!(f, "{field} does not match"),
            Self::MicMismatch => f.write_str("MIC does not match"),
        }
    }
}

impl core::error::Error for CryptoError {}
