//! The `ntlmsim` command-line tool; see docs/CLI.md for the contract
//! (subcommands, `--json` keys, exit codes).
#![forbid(unsafe_code)]

mod cli;
mod tls;

fn main() -> std::process::ExitCode {
    cli::main()
}
