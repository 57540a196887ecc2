//! ntlmsim: an NTLM session-negotiation simulator.
//!
//! This package hosts the `ntlmsim` command-line tool and the pieces of it
//! that examples, tests and later subcommands reuse:
//!
//! - [`input`]: turning pasted or stored messages (base64, `NTLM `/`Negotiate `
//!   headers, SPNEGO tokens, hex, files, standard input) into message bytes;
//! - [`inspect`]: offsets, decoded strings, AV pairs and defects of a parsed message;
//! - [`json`]: the stable `--json` model of a message (docs/CLI.md);
//! - [`render`]: the human view, in the spirit of `tshark -V`;
//! - [`sink`]: escaping text from the wire for each place it is written;
//! - [`events`]: judging Windows event-log records in `audit`;
//! - [`profiles`]: the peer catalog; [`matrix`]: client × server pairs before
//!   and after a policy change; [`fleet`]: a user's hosts; [`report`]: the
//!   self-contained HTML report of a matrix.
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

pub mod actions;
pub mod attack;
pub mod audit;
pub mod binding;
pub mod events;
pub mod fleet;
pub mod helper;
pub mod input;
pub mod inspect;
pub mod json;
pub mod matrix;
pub mod observations;
pub mod outcome;
pub mod parse;
pub mod profiles;
pub mod render;
pub mod report;
pub mod restrict;
pub mod serve;
pub mod sink;
pub mod tls;
