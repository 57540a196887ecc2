//! `ntlmsim completions SHELL` and `ntlmsim manpage [DIR]`: shell completion
//! scripts and man pages generated from the clap definitions (clap_complete,
//! clap_mangen), so they always match the binary.

use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory, ValueEnum};
use clap_complete::Shell;

use super::{Cli, CliError, Status};

/// Print a shell completion script for ntlmsim.
#[derive(Debug, Args)]
#[command(after_help = "\
Install (the directories are the shells' usual places; any directory they search works):
  bash:        ntlmsim completions bash > ~/.local/share/bash-completion/completions/ntlmsim
  zsh:         ntlmsim completions zsh > ~/.zfunc/_ntlmsim   (with fpath+=~/.zfunc before compinit)
  fish:        ntlmsim completions fish > ~/.config/fish/completions/ntlmsim.fish
  powershell:  ntlmsim completions powershell >> $PROFILE
  elvish:      ntlmsim completions elvish >> ~/.config/elvish/rc.elv")]
pub(crate) struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_name = "SHELL")]
    shell: ShellName,
}

/// The shells clap_complete writes scripts for.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum ShellName {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
}

impl ShellName {
    const fn shell(self) -> Shell {
        match self {
            Self::Bash => Shell::Bash,
            Self::Zsh => Shell::Zsh,
            Self::Fish => Shell::Fish,
            Self::Powershell => Shell::PowerShell,
            Self::Elvish => Shell::Elvish,
        }
    }
}

/// Print the man page, or write one page per command into a directory.
#[derive(Debug, Args)]
#[command(after_help = "\
Without DIR the page of ntlmsim itself goes to standard output (`ntlmsim manpage | man -l -`).
With DIR, ntlmsim.1 and one page per subcommand (ntlmsim-audit.1, ntlmsim-policy-explain.1, ...)
are written there and their paths printed, one a line. Install for the current user:
  ntlmsim manpage ~/.local/share/man/man1")]
pub(crate) struct ManpageArgs {
    /// Directory to write the pages into (created if missing)
    #[arg(value_name = "DIR")]
    dir: Option<PathBuf>,
}

pub(crate) fn completions(args: &CompletionsArgs, out: &mut Vec<u8>) -> Result<Status, CliError> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell.shell(), &mut cmd, "ntlmsim", out);
    Ok(Status::Success)
}

pub(crate) fn manpage(args: &ManpageArgs, out: &mut Vec<u8>) -> Result<Status, CliError> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    match &args.dir {
        None => clap_mangen::Man::new(cmd)
            .render(out)
            .map_err(|e| CliError::new(format!("cannot render the man page: {e}")))?,
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| CliError::new(format!("cannot create {}: {e}", dir.display())))?;
            let mut written = Vec::new();
            write_pages(cmd, dir, &mut written)?;
            for p in written {
                out.extend_from_slice(p.display().to_string().as_bytes());
                out.push(b'\n');
            }
        }
    }
    Ok(Status::Success)
}

/// Writes the page of `cmd`, then those of its subcommands (as
/// `clap_mangen::generate_to` does), recording each path.
fn write_pages(cmd: clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> Result<(), CliError> {
    let subs: Vec<clap::Command> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    let man = clap_mangen::Man::new(cmd);
    let path = dir.join(man.get_filename());
    man.generate_to(dir)
        .map_err(|e| CliError::new(format!("cannot write {}: {e}", path.display())))?;
    written.push(path);
    for sub in subs {
        write_pages(sub, dir, written)?;
    }
    Ok(())
}
