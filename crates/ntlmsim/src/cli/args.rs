//! Argument groups that several subcommands share (`#[command(flatten)]`),
//! with their values read by the domain types' `FromStr` through clap's
//! `value_parser`: a bad value is refused before the command runs, as
//! `error: --option: message` with exit code 2 (see `CliError::from_clap`).

use clap::Args;
use ntlm_policy::Semantics;

/// `--semantics NAME`, as audit, interop, helper, probe and serve take it.
#[derive(Debug, Clone, Args)]
pub(crate) struct SemanticsArg {
    /// Policy semantics where Windows behaviour is unconfirmed (see `ntlmsim policy semantics`)
    #[arg(long, value_name = "NAME", default_value = "calibrated")]
    pub(crate) semantics: Semantics,
}
