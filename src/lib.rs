//! ntlmsim: an NTLM session-negotiation simulator.
//!
//! This package hosts the `ntlmsim` command-line tool and re-exports the
//! workspace crates for the examples and benches.
#![forbid(unsafe_code)]

pub use ntlm_wire as wire;
