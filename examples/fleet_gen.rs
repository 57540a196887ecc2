//! Writes a synthetic all-to-all fleet file of N hosts (default 400) to
//! standard output, for measuring `ntlmsim interop --fleet` at scale:
//!
//! ```sh
//! cargo run --release --example fleet_gen -- 2000 > fleet-2000.toml
//! ntlmsim interop --fleet fleet-2000.toml --server-min 0x20080000 > /dev/null
//! ```
//!
//! Ten profiles in turn, five registry settings per round of ten: at most
//! fifty distinct kinds of host (see `ntlm_sim::fleet::synthetic_toml`).
#![forbid(unsafe_code)]

use std::io::Write as _;

fn main() -> std::process::ExitCode {
    let hosts = match std::env::args().nth(1).map(|a| a.parse::<usize>()) {
        None => 400,
        Some(Ok(n)) if n >= 2 => n,
        Some(_) => {
            eprintln!("usage: fleet_gen [HOSTS]   (a number of hosts, at least 2)");
            return std::process::ExitCode::from(2);
        }
    };
    let text = ntlm_sim::fleet::synthetic_toml(hosts);
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
