//! ntlm-sim: the NTLM session-negotiation simulator, without I/O.
//!
//! Everything the `ntlmsim` tool decides is decided here, from bytes and
//! values the caller hands in: this crate opens no file or socket, reads no
//! clock, environment or operating-system randomness, and never touches
//! standard input or output (docs/ARCHITECTURE.md). Its views (text, CSV,
//! HTML, `--json` documents) are in ntlm-report.
//!
//! - [`profiles`]: the peer catalog; [`observations`]: what real peers were
//!   seen to do; [`matrix`]: client × server pairs before and after a policy
//!   change, and [`interop`], the pairs of a run (catalog or [`fleet`]);
//! - [`binding`], [`restrict`]: channel bindings and Restrict NTLM settings;
//!   [`relax`]: the value that removes a minimum-security failure;
//! - [`attack`]: man-in-the-middle scenarios;
//! - [`audit`]: judging the NTLM exchanges of captures; [`events`]: judging
//!   Windows event-log records;
//! - [`serve`]: the HTTP acceptor's state machine and its bounds;
//!   [`helper`]: the Samba `ntlm_auth` line protocols;
//! - [`input`]: turning pasted or stored messages (base64, `NTLM `/`Negotiate `
//!   headers, SPNEGO tokens, hex) into message bytes; [`inspect`]: offsets,
//!   decoded strings, AV pairs and defects of a parsed message;
//! - [`outcome`]: the verdict of one exchange as `--json` reports it;
//!   [`parse`]: command-line values;
//!   [`sink`]: escaping text from the wire for terminals and line protocols.
//!
//! The workspace crates are re-exported ([`wire`], [`gss`] for SPNEGO and
//! HTTP auth headers).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use ntlm_crypto as crypto;
pub use ntlm_gss as gss;
pub use ntlm_policy as policy;
pub use ntlm_session as session;
pub use ntlm_wire as wire;

pub mod attack;
pub mod audit;
pub mod binding;
pub mod events;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod fleet;
pub mod helper;
pub mod input;
pub mod inspect;
pub mod interop;
pub mod matrix;
pub mod observations;
pub mod outcome;
pub mod parse;
pub mod profiles;
pub mod relax;
pub mod restrict;
pub mod serve;
pub mod sink;
