//! ntlm-report: the views of what ntlm-sim decides, without I/O.
//!
//! Every function here takes results and returns text, or writes to a
//! caller's `impl Write`; none opens a file, reads the clock or looks at a
//! terminal (docs/ARCHITECTURE.md):
//!
//! - [`json`]: the stable `--json` model of a message (docs/CLI.md);
//!   [`render`]: the human view of a message, in the spirit of `tshark -V`;
//!   [`exchange`]: the messages of a captured exchange, as `decode` shows them;
//! - [`outcome`]: the human verdict of one exchange;
//! - [`interop`]: the `--json` document and the human grid or list of an
//!   `interop` run (and [`interop::run`], which `interop` and `demo` share);
//!   [`matrix`]: a matrix as a text grid;
//! - [`report`]: the self-contained HTML report of a matrix, with
//!   [`actions`], what to do about it;
//! - [`audit`], [`events`]: the human, CSV and HTML views of an audit of
//!   captures and event logs;
//! - [`serve`]: the lines of the `serve` log;
//! - [`sink`]: escaping text from the wire for each place it is written;
//!   [`text`]: cutting and wrapping text to a terminal's width.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod actions;
mod assets;
pub mod audit;
pub mod events;
pub mod exchange;
pub mod interop;
pub mod json;
pub mod matrix;
pub mod outcome;
pub mod profiles;
pub mod render;
pub mod report;
pub mod serve;
pub mod sink;
pub mod text;
