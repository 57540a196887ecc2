//! Writing text that came from the wire to a terminal or a line protocol.
//!
//! User, domain and workstation names, target names, AV pair strings and
//! anything else an attacker can choose reach terminals, human logs and the
//! helper line protocol. This module holds the rules the simulator itself
//! applies: [`terminal`], [`terminal_bounded`] and [`quoted`] write control
//! and invisible-formatting characters as visible escapes (`\n`,
//! `\u{1b}`, `\u{202e}`); [`line_safe`] tells whether text can be written
//! on one line of a line protocol as it is (the helper refuses text that
//! cannot, never escaping it into a different name). The CSV, HTML and JSON
//! rules, and the table of every sink, are in ntlm-report's `sink` module.
//!
//! Escaped text is for people; it is not a way back to the original bytes
//! (a backslash is kept as it is, since `DOMAIN\user` is the common case).
//! The JSON output carries the exact decoded value.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a terminal or a line-oriented sink as it is:
/// C0 and C1 control characters and DEL (line ends, NUL, ESC and with it
/// every CSI/OSC sequence), the Unicode line and paragraph separators, and
/// the invisible formatting characters that reorder or hide text (bidi
/// embeddings, overrides and isolates, the zero-width characters, the BOM).
#[must_use]
pub const fn is_unsafe_char(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{61c}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
    )
}

/// `s` with every [unsafe character](is_unsafe_char) written as a visible
/// escape: `\n`, `\r`, `\t`, `\0`, otherwise `\u{…}` in lowercase hex.
/// Borrowed when nothing needed escaping.
#[must_use]
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\0' => out.push_str("\\0"),
        c if is_unsafe_char(c) => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
        c => out.push(c),
    }
}

/// `s` between double quotes for a terminal or human log: the [`terminal`]
/// rule, and `"` and `\` written as `\"` and `\\` so that the quotes
/// delimit the text. Plain text looks as Rust's `{:?}` writes it
/// (`"DOMAIN\\user"`).
#[must_use]
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => push_escaped(&mut out, c),
        }
    }
    out.push('"');
    out
}

/// [`terminal`], keeping at most `max_chars` characters of `s` and saying
/// how much was cut: `name…(+70000 bytes)`. For human logs and tables,
/// where one record must not carry a 64 KiB name.
#[must_use]
pub fn terminal_bounded(s: &str, max_chars: usize) -> Cow<'_, str> {
    let cut = s.char_indices().nth(max_chars).map(|(i, _)| i);
    match cut {
        None => terminal(s),
        Some(i) => {
            let (kept, rest) = s.split_at(i);
            let mut out = terminal(kept).into_owned();
            let _ = write!(out, "\u{2026}(+{} bytes)", rest.len());
            Cow::Owned(out)
        }
    }
}

/// Whether `s` can be written on one line of a line protocol as it is: no
/// [unsafe character](is_unsafe_char). The helper refuses names that fail
/// this rather than escaping them, because an escaped name is a different
/// name to the program that reads the line.
#[must_use]
pub fn line_safe(s: &str) -> bool {
    !s.chars().any(is_unsafe_char)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::sink::HOSTILE;

    #[test]
    fn terminal_leaves_plain_text_borrowed() {
        assert!(matches!(terminal("CORP\\alice é"), Cow::Borrowed(_)));
    }

    #[test]
    fn terminal_output_has_no_unsafe_character() {
        for h in HOSTILE {
            let t = terminal(h);
            assert!(line_safe(&t), "{h:?} -> {t:?}");
            assert!(!line_safe(h), "{h:?} should be unsafe");
        }
        assert_eq!(terminal("a\nb"), "a\\nb");
        assert_eq!(terminal("\u{1b}[2J"), "\\u{1b}[2J");
        assert_eq!(terminal("a\u{202e}b"), "a\\u{202e}b");
    }

    #[test]
    fn quoted_escapes_quotes_backslashes_and_controls() {
        assert_eq!(quoted("CORP\\alice"), format!("{:?}", "CORP\\alice"));
        assert_eq!(quoted("a\"b"), "\"a\\\"b\"");
        assert_eq!(quoted("x\nAF y"), "\"x\\nAF y\"");
        assert_eq!(quoted("a\u{202e}b"), "\"a\\u{202e}b\"");
        for h in HOSTILE {
            assert!(line_safe(&quoted(h)), "{h:?}");
        }
    }

    #[test]
    fn terminal_bounded_cuts_and_says_so() {
        let long = "a".repeat(70_000);
        let t = terminal_bounded(&long, 64);
        assert_eq!(t, format!("{}\u{2026}(+69936 bytes)", "a".repeat(64)));
        assert_eq!(terminal_bounded("short", 64), "short");
        // Cut on a character boundary.
        assert_eq!(terminal_bounded("ééé", 2), "éé\u{2026}(+2 bytes)");
        assert_eq!(terminal_bounded("a\nb", 1), "a\u{2026}(+2 bytes)");
    }

    proptest::proptest! {
        #[test]
        fn escaped_text_is_always_line_safe(s in "\\PC*|[\\x00-\\x1f\\u{80}-\\u{9f}\\u{2028}-\\u{202e}a-z]*") {
            proptest::prop_assert!(line_safe(&terminal(&s)));
            proptest::prop_assert!(line_safe(&terminal_bounded(&s, 8)));
            proptest::prop_assert!(line_safe(&quoted(&s)));
        }
    }
}
