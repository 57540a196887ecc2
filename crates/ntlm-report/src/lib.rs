//! ntlm-report: the views of what ntlm-sim decides, without I/O.
//!
//! Every function here takes results and returns text, or writes to a
//! caller's `impl Write`; none opens a file, reads the clock or looks at a
//! terminal (docs/ARCHITECTURE.md):
//!
//! - [`json`]: the stable `--json` model of a message (docs/CLI.md);
//! - [`render`]: the human view of a message, in the spirit of `tshark -V`;
//! - [`report`]: the self-contained HTML report of a matrix, with
//!   [`actions`], what to do about it;
//! - [`sink`]: escaping text from the wire for each place it is written.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod actions;
pub mod audit;
pub mod events;
pub mod exchange;
pub mod interop;
pub mod json;
pub mod matrix;
pub mod outcome;
pub mod render;
pub mod report;
pub mod serve;
pub mod sink;
pub mod text;
