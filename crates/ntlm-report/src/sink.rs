//! Writing text that came from the wire: one function per kind of sink.
//!
//! User, domain and workstation names, target names, AV pair strings, file
//! names and anything else an attacker can choose reach terminals, human
//! logs, CSV files, HTML pages and the helper line protocol. Each sink has
//! its own rule, and every place that writes such text goes through the
//! function for its sink:
//!
//! | sink | function | rule |
//! |---|---|---|
//! | terminal, human log, text table | [`terminal`], [`terminal_bounded`], [`quoted`] | control and invisible-formatting characters written as visible escapes (`\n`, `\u{1b}`, `\u{202e}`) |
//! | CSV cell | [`csv_cell`] | the terminal rule, then OWASP's CSV-injection rule (a leading `=`, `+`, `-`, `@`, tab or CR gets a `'`), then RFC 4180 quoting |
//! | helper line protocol | [`line_safe`] | text that cannot be written on one line is refused, never escaped into a different name |
//! | HTML | maud's `html!` templates | `&`, `<`, `>`, `"` as entities, by construction |
//! | JSON | `serde_json` | JSON string escaping |
//!
//! The terminal and line rules live in [`ntlm_sim::sink`], because the
//! helper protocol and the HTTP acceptor apply them; they are re-exported
//! here so that every sink has its function in one place.
//!
//! Escaped text is for people; it is not a way back to the original bytes
//! (a backslash is kept as it is, since `DOMAIN\user` is the common case).
//! The JSON output carries the exact decoded value.

use std::borrow::Cow;

pub use ntlm_sim::sink::{is_unsafe_char, line_safe, quoted, terminal, terminal_bounded};

/// One CSV cell (RFC 4180), safe to open in a spreadsheet.
///
/// Control characters are escaped as for [`terminal`], so a cell never
/// holds a raw line break. A cell that starts with `=`, `+`, `-`, `@`, tab
/// or CR (the formula triggers in OWASP's "CSV Injection" guidance) gets a
/// leading `'`, which spreadsheets show as text. A cell with `,`, `"`, `'`
/// or a leading/trailing space is quoted, with `"` doubled.
#[must_use]
pub fn csv_cell(s: &str) -> Cow<'_, str> {
    let text = terminal(s);
    let formula = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = formula
        || text.contains([',', '"', '\'', ';'])
        || text.starts_with(' ')
        || text.ends_with(' ');
    if !quote {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 4);
    out.push('"');
    if formula {
        out.push('\'');
    }
    for c in text.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    Cow::Owned(out)
}

/// A row of [`csv_cell`]s joined by commas and ended with CRLF.
#[must_use]
pub fn csv_row<I, S>(cells: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = String::new();
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&csv_cell(cell.as_ref()));
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use ntlm_sim::fixtures::sink::HOSTILE;

    use super::*;

    #[test]
    fn csv_neutralises_formulas_and_line_breaks() {
        assert_eq!(csv_cell("alice"), "alice");
        assert_eq!(
            csv_cell("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        assert_eq!(csv_cell("+cmd|' /C calc'!A0"), "\"'+cmd|' /C calc'!A0\"");
        assert_eq!(csv_cell("@SUM(1+1)"), "\"'@SUM(1+1)\"");
        assert_eq!(csv_cell("-2+3"), "\"'-2+3\"");
        // Control characters are escaped first, so a tab no longer leads.
        assert_eq!(csv_cell("\tx"), "\\tx");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("a\nb"), "a\\nb");
        for h in HOSTILE {
            assert!(!csv_cell(h).contains(['\n', '\r', '\0', '\u{1b}']), "{h:?}");
        }
    }

    #[test]
    fn csv_row_ends_with_crlf() {
        assert_eq!(csv_row(["a", "=b", "c,d"]), "a,\"'=b\",\"c,d\"\r\n");
    }

    proptest::proptest! {
        #[test]
        fn csv_cells_are_line_safe(s in "\\PC*|[\\x00-\\x1f\\u{80}-\\u{9f}\\u{2028}-\\u{202e}a-z]*") {
            let cell = csv_cell(&s);
            proptest::prop_assert!(line_safe(&cell));
            proptest::prop_assert!(!cell.starts_with(['=', '+', '-', '@']));
        }
    }
}
