//! Sans-IO NTLM client and server (MS-NLMP 3.1, 3.2), enforcing the
//! minimum-security policy and LmCompatibilityLevel the way Windows does.
//!
//! ```text
//!   client                                             server
//!   Client::start ──────── NEGOTIATE ────────▶ ServerAwaitingNegotiate::on_negotiate
//!                                               (ServerBlock, flags, NtlmMinServerSec)
//!   ClientAwaitingChallenge ◀──── CHALLENGE ─────
//!   ::on_challenge
//!   (charset, NtlmMinClientSec, responses,
//!    keys, MIC) ─────────── AUTHENTICATE ────▶ ServerAwaitingAuthenticate::on_authenticate
//!                                               (flags, NtlmMinServerSec, LmCompatibilityLevel,
//!                                                AV pairs, response, KEY_EXCH, CBT, MIC)
//!   ClientEstablished                           ServerEstablished
//! ```
//!
//! Each state is a type that owns only what is valid at that step and is
//! consumed by the transition. A failure is an [`ntlm_policy::Failure`]
//! value: side, stage (the message whose *receipt* failed), status, missing
//! bits, and the rule with its source. Nothing here does I/O: the caller
//! moves bytes and injects the random source and the time (a FILETIME), so
//! every exchange is reproducible. [`Pair`] runs both sides in one process,
//! optionally tampering with messages in flight.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod credentials;
mod driver;
mod established;
mod pair;
mod reflection;
mod restrict;
mod server;
mod transcript;

pub use client::{Client, ClientAwaitingChallenge, ClientEstablished, ClientFixed, ClientSettings};
pub use credentials::{Account, CredentialStore, Credentials, MemoryStore, UserFileError};
pub use driver::{ClientDriver, ServerDriver, Step};
pub use established::{Established, SessionReport};
pub use pair::{Exchange, Fixed, Pair, Tamper};
pub use reflection::ReflectionCache;
pub use restrict::{Logged, RestrictPath, Restricted, account_of};
pub use server::{
    ChannelBindings, Server, ServerAwaitingAuthenticate, ServerAwaitingNegotiate,
    ServerEstablished, ServerKeyExchange, ServerNames, ServerSettings,
};
pub use transcript::Transcript;

use ntlm_policy::{Detail, Failure, Side, Stage, rules};
use ntlm_wire::{Charset, DecodeError};

/// A message that could not be decoded, as a failure of the receiving side.
pub(crate) fn decode_failure(side: Side, stage: Stage, e: DecodeError) -> Failure {
    Failure::new(side, stage, &rules::DECODE_MALFORMED, Detail::Decode(e))
}

/// Appends a name encoded in the negotiated charset.
pub(crate) fn text_into(out: &mut Vec<u8>, s: &str, charset: Charset) {
    ntlm_wire::text::encode_into(out, s, charset);
}
