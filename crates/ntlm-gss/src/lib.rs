//! The wrappers around NTLM messages on the wire: SPNEGO and GSS-API
//! framing, and HTTP authentication headers.
//!
//! - [`spnego`]: SPNEGO `NegTokenInit`/`NegTokenResp` (RFC 4178) and the
//!   GSS-API `InitialContextToken` (RFC 2743 3.1): finding the NTLM message
//!   in a security token ([`spnego::find_ntlmssp`], [`spnego::unwrap`]) and
//!   building tokens around one ([`spnego::wrap_init`], [`spnego::wrap_resp`]).
//! - [`http`]: `Authorization`/`WWW-Authenticate` values with `NTLM` and
//!   `Negotiate` tokens (RFC 4559, RFC 7235, MS-NTHT): one rule for reading
//!   them, documented there, and building them.
//! - [`der`]: the bounded DER reading and the element builder behind them.
//!
//! # Contract
//!
//! No I/O, no clock, no randomness. Nothing panics for any input; every
//! failure names the structure and the offset where it broke.
//!
//! ```
//! use ntlm_gss::{http, spnego};
//!
//! let negotiate = b"NTLMSSP\0\x01\0\0\0\x07\x82\x08\xa2";
//! let value = http::header_value(http::Scheme::Negotiate, &spnego::wrap_init(negotiate));
//! let challenge = http::credentials(&value).ok_or("no credentials")?;
//! assert_eq!(challenge.scheme(), Some(http::Scheme::Negotiate));
//! let token = challenge.token().ok_or("no token")??;
//! let found = spnego::find_ntlmssp(&token)?.ok_or("no NTLM message")?;
//! assert_eq!(found.message, negotiate);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod der;
pub mod http;
pub mod spnego;

pub use der::DerError;
