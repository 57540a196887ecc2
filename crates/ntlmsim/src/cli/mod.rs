//! Command-line parsing and dispatch.
//!
//! Each subcommand is a module with an `Args` struct (clap derive) and a
//! `run` function writing to the given output. Exit codes follow
//! docs/CLI.md "Conventions": 0 success, 1 negative verdict, 2 bad usage
//! or bad input with a one-line `error: ...` on stderr.

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{ColorChoice, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

mod args;
mod attack;
mod audit;
mod decode;
mod demo;
mod handshake;
mod helper;
mod install;
mod interop;
mod policy;
mod probe;
mod profiles;
mod serve;
mod system;
mod term;

/// `0.1.0 (git 1a2b3c4)`: the package version and the commit it was built
/// from (`unknown` outside a git checkout; see build.rs).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (git ",
    env!("NTLMSIM_GIT_COMMIT"),
    ")"
);

/// `ntlmsim`: NTLM session-negotiation simulator.
#[derive(Debug, Parser)]
#[command(name = "ntlmsim", version = VERSION, about, long_about = None)]
pub(crate) struct Cli {
    /// When to colour human output (auto: on a terminal only, honouring NO_COLOR and CLICOLOR_FORCE)
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The main job: example handshakes, a policy failure explained, the hardening matrix
    Demo(demo::DemoArgs),
    /// Decode NTLM messages (base64, NTLM/Negotiate headers, SPNEGO, hex, @FILE, -)
    Decode(decode::DecodeArgs),
    /// Run a complete client/server exchange and report the verdict
    Handshake(Box<handshake::HandshakeArgs>),
    /// Explain minimum-session-security values; check negotiated flags against them
    Policy(policy::PolicyArgs),
    /// List the peer profiles (real Windows generations and third-party peers, with sources)
    Profiles(profiles::ProfilesArgs),
    /// Which client x server pairs a policy change breaks (profiles or a fleet file)
    Interop(Box<interop::InteropArgs>),
    /// Man-in-the-middle scenarios: which settings detect which attack
    Attack(Box<attack::AttackArgs>),
    /// Speak Samba ntlm_auth helper line protocols (squid-2.5-ntlmssp, ntlmssp-client-1) on stdin/stdout
    Helper(Box<helper::HelperArgs>),
    /// Serve NTLM over HTTP to real clients and log each handshake under what-if policies
    Serve(Box<serve::ServeArgs>),
    /// Probe a real HTTP server that offers NTLM: its CHALLENGE, the verdict, optionally log on
    Probe(Box<probe::ProbeArgs>),
    /// Judge the NTLM in pcap/pcapng captures and Windows event logs: which connections would break under a policy
    Audit(Box<audit::AuditArgs>),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    Completions(install::CompletionsArgs),
    /// Print the man page, or write every command's page into a directory
    Manpage(install::ManpageArgs),
}

/// How a command that ran to completion ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Exit code 0: the command did its job.
    Success,
    /// Exit code 1: the command ran and the verdict is negative.
    Negative,
}

impl Status {
    const fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Negative => 1,
        }
    }
}

/// Bad usage or bad input: exit code 2 with `error: <message>` on stderr.
#[derive(Debug)]
pub(crate) struct CliError(String);

impl CliError {
    /// The message, or a typed error's Display text.
    pub(crate) fn new(message: impl fmt::Display) -> Self {
        Self(message.to_string())
    }

    /// `WHAT: ERROR`: a value of the option (or the input) `what` that
    /// could not be read.
    pub(crate) fn bad(what: &str, e: impl fmt::Display) -> Self {
        Self(format!("{what}: {e}"))
    }

    /// A value clap refused because its type's `FromStr` did, in the form
    /// the command reports any bad value: `--option: message`. `None` for
    /// every other clap error (usage, help, version), which clap prints.
    fn from_clap(e: &clap::Error) -> Option<Self> {
        if e.kind() != ErrorKind::ValueValidation {
            return None;
        }
        let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else {
            return None;
        };
        // `--client-min <MASK>`: the option's name without its value name.
        let name = arg.split(' ').next().unwrap_or(arg);
        let source = std::error::Error::source(e)?;
        Some(Self::bad(name, source))
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the message contains: line breaks (multi-line
        // parser messages) as spaces, any other control or bidi character
        // (from a file name or a message) escaped.
        f.write_str(&ntlm_report::sink::terminal(
            &self.0.replace(['\n', '\r'], " "),
        ))
    }
}

/// Exit code for bad usage or bad input.
const EXIT_BAD_INPUT: u8 = 2;

pub(crate) fn main() -> ExitCode {
    // clap exits with code 2 on usage errors and 0 for --help/--version;
    // its help and errors follow --color too.
    let choice = term::choice_in_args(std::env::args_os());
    let matches = match Cli::command().color(choice).try_get_matches() {
        Ok(matches) => matches,
        Err(e) => match CliError::from_clap(&e) {
            Some(bad) => return fail(&bad),
            None => e.exit(),
        },
    };
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    term::init(cli.color);
    let mut out = Vec::new();
    let result = match &cli.command {
        Command::Demo(args) => demo::run(args, &mut out),
        Command::Decode(args) => decode::run(args, &mut io::stdin().lock(), &mut out),
        Command::Handshake(args) => handshake::run(args, &mut out),
        Command::Policy(args) => policy::run(args, &mut out),
        Command::Profiles(args) => profiles::run(args, &mut out),
        Command::Interop(args) => interop::run(args, &mut io::stdout().lock()),
        Command::Attack(args) => attack::run(args, &mut out),
        Command::Helper(args) => helper::run(args, &mut io::stdin().lock(), &mut io::stdout()),
        // serve writes its records from a thread of its own, which may still
        // hold standard output (blocked on a full pipe) when it returns.
        Command::Serve(args) => {
            return serve::run(args).map_or_else(|e| fail(&e), |s| ExitCode::from(s.code()));
        }
        Command::Probe(args) => probe::run(args, &mut out),
        Command::Audit(args) => audit::run(args, &mut io::stdout().lock()),
        Command::Completions(args) => install::completions(args, &mut out),
        Command::Manpage(args) => install::manpage(args, &mut out),
    };
    match result {
        Ok(status) => {
            let mut stdout = io::stdout().lock();
            match stdout.write_all(&out).and_then(|()| stdout.flush()) {
                Ok(()) => ExitCode::from(status.code()),
                // A closed pipe (`| head`) is the reader's choice, not an error.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(status.code()),
                Err(e) => fail(&CliError::new(format!(
                    "cannot write to standard output: {e}"
                ))),
            }
        }
        Err(e) => fail(&e),
    }
}

fn fail(e: &CliError) -> ExitCode {
    let _ = writeln!(io::stderr().lock(), "error: {e}");
    ExitCode::from(EXIT_BAD_INPUT)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message a command line ends with, as `main` would print it.
    fn error_of(argv: &[&str]) -> Option<String> {
        let e = Cli::command().try_get_matches_from(argv).err()?;
        CliError::from_clap(&e).map(|e| e.to_string())
    }

    #[test]
    fn typed_values_are_refused_naming_the_option() {
        for (argv, prefix) in [
            (
                &["ntlmsim", "handshake", "--client-min", "0xZZ"][..],
                "--client-min: cannot read \"0xZZ\"",
            ),
            (
                &["ntlmsim", "attack", "--server-min", "bogus"][..],
                "--server-min: cannot read \"bogus\"",
            ),
            (
                &["ntlmsim", "handshake", "--server-lm-level", "6"][..],
                "--server-lm-level: cannot read \"6\"",
            ),
            (
                &["ntlmsim", "audit", "--client-lm-level", "x", "f"][..],
                "--client-lm-level: cannot read \"x\"",
            ),
            (
                &["ntlmsim", "serve", "http", "--what-if-server-min", "x"][..],
                "--what-if-server-min: cannot read \"x\"",
            ),
            (
                &["ntlmsim", "interop", "--semantics", "nope"][..],
                "--semantics: cannot read \"nope\"",
            ),
            (
                &[
                    "ntlmsim",
                    "policy",
                    "check",
                    "--negotiated",
                    "0",
                    "--semantics",
                    "rule-128=x",
                ][..],
                "--semantics: cannot read",
            ),
        ] {
            let message = error_of(argv);
            assert!(
                message.as_deref().is_some_and(|m| m.starts_with(prefix)),
                "{argv:?}: {message:?}"
            );
        }
    }

    #[test]
    fn usage_errors_stay_with_clap() {
        assert_eq!(error_of(&["ntlmsim", "handshake", "--nope"]), None);
        assert_eq!(error_of(&["ntlmsim", "handshake", "--help"]), None);
        assert_eq!(error_of(&["ntlmsim", "handshake", "--client-min"]), None);
    }

    #[test]
    fn typed_defaults_are_read() {
        let cli = Cli::try_parse_from(["ntlmsim", "handshake"]);
        assert!(cli.is_ok(), "{cli:?}");
    }
}
