//! How the tool meets a terminal: whether the human output is coloured, how
//! wide it may be, and whether progress is drawn on standard error. One
//! place decides all three, so every subcommand follows the same rules.
//!
//! Colour (`--color auto|always|never`, default `auto`):
//!
//! - `always` and `never` win over the environment: no-color.org asks that
//!   "per-instance command-line arguments should override `NO_COLOR`";
//! - under `auto`, a non-empty `NO_COLOR` turns colour off (no-color.org), a
//!   non-empty `CLICOLOR_FORCE` turns it on even into a pipe, `CLICOLOR=0`
//!   turns it off (bixense.com/clicolors; any non-empty `CLICOLOR_FORCE`
//!   counts, `0` included, as clap reads it), and otherwise colour
//!   is used only when standard output is a terminal whose `TERM` is set and
//!   not `dumb`.
//!
//! Progress is drawn only when standard error is a terminal that understands
//! ANSI line clearing (`TERM` set and not `dumb`), never into a file or a
//! pipe, and the line is cleared when the work ends or fails, so that an
//! `error: ...` that follows starts on a line of its own.
//!
//! Width: the human output keeps to 100 columns, or to a narrower terminal's
//! width when standard output is one (`terminal_size`, as clap measures it
//! for `--help`), else to `COLUMNS` when it holds a number below 100; never
//! below 40.
//!
//! The environment is read through `anstyle-query`, the crate clap itself
//! uses for these conventions, so `--help` and the tool's own output agree.

use std::ffi::OsString;
use std::io::{IsTerminal, Write as _};
use std::sync::OnceLock;

use clap::ColorChoice;

/// The environment variables that bear on colour, as read once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ColourEnv {
    /// `NO_COLOR` is set and not empty.
    pub(crate) no_color: bool,
    /// `CLICOLOR_FORCE` is set and not empty.
    pub(crate) clicolor_force: bool,
    /// `CLICOLOR`: `Some(false)` when it is `0`.
    pub(crate) clicolor: Option<bool>,
    /// `TERM` names a terminal that understands ANSI colour (not `dumb`).
    pub(crate) term_ansi: bool,
}

impl ColourEnv {
    /// This process's environment.
    fn current() -> Self {
        Self {
            no_color: anstyle_query::no_color(),
            clicolor_force: anstyle_query::clicolor_force(),
            clicolor: anstyle_query::clicolor(),
            term_ansi: anstyle_query::term_supports_ansi_color(),
        }
    }
}

/// Whether output to a stream is coloured, given the choice on the command
/// line, the environment and whether the stream is a terminal.
pub(crate) const fn colour(choice: ColorChoice, env: ColourEnv, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if env.no_color {
                false
            } else if env.clicolor_force {
                true
            } else if matches!(env.clicolor, Some(false)) {
                false
            } else {
                is_terminal && env.term_ansi
            }
        }
    }
}

/// The decisions for this run, made once in `main`.
#[derive(Debug, Clone, Copy)]
struct Decided {
    stdout_colour: bool,
    progress: bool,
    width: usize,
}

static DECIDED: OnceLock<Decided> = OnceLock::new();

/// Records the `--color` choice; called once, before any subcommand runs.
pub(crate) fn init(choice: ColorChoice) {
    let env = ColourEnv::current();
    let decided = Decided {
        stdout_colour: colour(choice, env, std::io::stdout().is_terminal()),
        progress: std::io::stderr().is_terminal() && env.term_ansi,
        width: measured_width(),
    };
    // A second call (none today) keeps the first decision.
    let _ = DECIDED.set(decided);
}

fn decided() -> Decided {
    *DECIDED.get_or_init(|| {
        let env = ColourEnv::current();
        Decided {
            stdout_colour: colour(ColorChoice::Auto, env, std::io::stdout().is_terminal()),
            progress: std::io::stderr().is_terminal() && env.term_ansi,
            width: measured_width(),
        }
    })
}

/// The widest line of human output, by design.
pub(crate) const MAX_WIDTH: usize = 100;
/// The narrowest width honoured: below it no table is readable anyway.
pub(crate) const MIN_WIDTH: usize = 40;

/// The width to keep to, given standard output's terminal width (if it is a
/// terminal of known size) and `COLUMNS`.
pub(crate) fn width_for(terminal: Option<usize>, columns: Option<&str>) -> usize {
    terminal
        .filter(|w| *w > 0)
        .or_else(|| {
            columns
                .and_then(|c| c.trim().parse::<usize>().ok())
                .filter(|w| *w > 0)
        })
        .map_or(MAX_WIDTH, |w| w.clamp(MIN_WIDTH, MAX_WIDTH))
}

fn measured_width() -> usize {
    let terminal = terminal_size::terminal_size_of(std::io::stdout())
        .map(|(terminal_size::Width(w), _)| usize::from(w));
    width_for(terminal, std::env::var("COLUMNS").ok().as_deref())
}

/// The width the human output keeps to (see the module documentation).
pub(crate) fn width() -> usize {
    decided().width
}

/// Whether the human output on standard output may carry ANSI colour.
pub(crate) fn stdout_colour() -> bool {
    decided().stdout_colour
}

/// The `--color` value on a command line, read before clap parses it so
/// that clap's own help and usage errors follow it too. The last one wins,
/// as it does for clap; nothing after `--` counts. A value clap will refuse
/// counts as `auto` here (clap then names the error).
pub(crate) fn choice_in_args(args: impl IntoIterator<Item = OsString>) -> ColorChoice {
    let mut choice = ColorChoice::Auto;
    let mut args = args.into_iter().skip(1);
    while let Some(arg) = args.next() {
        let Some(arg) = arg.to_str() else { continue };
        let value = if arg == "--" {
            break;
        } else if arg == "--color" {
            args.next()
        } else if let Some(v) = arg.strip_prefix("--color=") {
            Some(OsString::from(v))
        } else {
            continue;
        };
        choice = match value.as_ref().and_then(|v| v.to_str()) {
            Some("always") => ColorChoice::Always,
            Some("never") => ColorChoice::Never,
            _ => ColorChoice::Auto,
        };
    }
    choice
}

/// A progress line on standard error (`\r` then the text), drawn only when
/// [`init`] found a terminal there, and cleared when dropped: at the end of
/// the work or on an early return with an error.
#[derive(Debug)]
pub(crate) struct Progress {
    drawn: bool,
    enabled: bool,
}

/// Back to the start of the line and erase it (not a colour: no anstyle
/// counterpart).
const CLEAR_LINE: &str = "\r\x1b[K";

impl Progress {
    /// A progress line, shown when `wanted` (the work is long enough to
    /// deserve one) and standard error is a terminal.
    pub(crate) fn new(wanted: bool) -> Self {
        Self {
            drawn: false,
            enabled: wanted && decided().progress,
        }
    }

    /// Replaces the line with `text` (one line: control characters in it
    /// are escaped).
    pub(crate) fn show(&mut self, text: &str) {
        if !self.enabled {
            return;
        }
        let line = ntlm_report::sink::terminal(text);
        let mut e = std::io::stderr().lock();
        let _ = write!(e, "{CLEAR_LINE}{line}");
        let _ = e.flush();
        self.drawn = true;
    }

    /// Clears the line, if one was drawn.
    pub(crate) fn clear(&mut self) {
        if self.drawn {
            let mut e = std::io::stderr().lock();
            let _ = write!(e, "{CLEAR_LINE}");
            let _ = e.flush();
            self.drawn = false;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: ColourEnv = ColourEnv {
        no_color: false,
        clicolor_force: false,
        clicolor: None,
        term_ansi: true,
    };

    #[test]
    fn auto_colours_a_terminal_only() {
        assert!(colour(ColorChoice::Auto, PLAIN, true));
        assert!(!colour(ColorChoice::Auto, PLAIN, false));
        let dumb = ColourEnv {
            term_ansi: false,
            ..PLAIN
        };
        assert!(!colour(ColorChoice::Auto, dumb, true));
    }

    #[test]
    fn no_color_and_clicolor_switch_auto_off() {
        let no = ColourEnv {
            no_color: true,
            ..PLAIN
        };
        assert!(!colour(ColorChoice::Auto, no, true));
        // NO_COLOR wins over CLICOLOR_FORCE (no-color.org, clicolors).
        let both = ColourEnv {
            clicolor_force: true,
            ..no
        };
        assert!(!colour(ColorChoice::Auto, both, true));
        let zero = ColourEnv {
            clicolor: Some(false),
            ..PLAIN
        };
        assert!(!colour(ColorChoice::Auto, zero, true));
    }

    #[test]
    fn clicolor_force_colours_a_pipe() {
        let force = ColourEnv {
            clicolor_force: true,
            term_ansi: false,
            ..PLAIN
        };
        assert!(colour(ColorChoice::Auto, force, false));
    }

    #[test]
    fn the_command_line_wins_over_the_environment() {
        let no = ColourEnv {
            no_color: true,
            ..PLAIN
        };
        assert!(colour(ColorChoice::Always, no, false));
        let force = ColourEnv {
            clicolor_force: true,
            ..PLAIN
        };
        assert!(!colour(ColorChoice::Never, force, true));
    }

    #[test]
    fn width_follows_a_narrower_terminal_then_columns() {
        assert_eq!(width_for(None, None), MAX_WIDTH);
        assert_eq!(width_for(Some(80), None), 80);
        assert_eq!(width_for(Some(200), None), MAX_WIDTH);
        assert_eq!(width_for(Some(10), None), MIN_WIDTH);
        // The terminal's own size wins over COLUMNS; COLUMNS serves a pipe.
        assert_eq!(width_for(Some(90), Some("60")), 90);
        assert_eq!(width_for(None, Some("60")), 60);
        assert_eq!(width_for(Some(0), Some(" 72 ")), 72);
        assert_eq!(width_for(None, Some("wide")), MAX_WIDTH);
        assert_eq!(width_for(None, Some("0")), MAX_WIDTH);
    }

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn color_is_found_before_parsing() {
        let c = |l: &[&str]| choice_in_args(args(l));
        assert_eq!(c(&["ntlmsim", "demo"]), ColorChoice::Auto);
        assert_eq!(
            c(&["ntlmsim", "--color", "never", "demo"]),
            ColorChoice::Never
        );
        assert_eq!(
            c(&["ntlmsim", "interop", "--color=always"]),
            ColorChoice::Always
        );
        assert_eq!(
            c(&["ntlmsim", "--color=never", "interop", "--color", "always"]),
            ColorChoice::Always
        );
        assert_eq!(
            c(&["ntlmsim", "decode", "--", "--color=never"]),
            ColorChoice::Auto
        );
        assert_eq!(c(&["ntlmsim", "--color", "purple"]), ColorChoice::Auto);
        assert_eq!(c(&["ntlmsim", "--color"]), ColorChoice::Auto);
    }
}
