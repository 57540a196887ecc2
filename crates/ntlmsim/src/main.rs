//! The `ntlmsim` command-line tool; see docs/CLI.md for the contract
//! (subcommands, `--json` keys, exit codes).
#![forbid(unsafe_code)]

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
