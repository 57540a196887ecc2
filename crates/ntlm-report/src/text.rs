//! Laying out text for a terminal of a given width: cells cut to fit, words
//! wrapped, every piece escaped for the terminal first.

use crate::sink;

/// `text` cut to `width` characters, with `~` marking a cut. Control and
/// bidi characters (a name from a catalog or fleet file) are escaped first
/// ([`sink::terminal`]), so a cell is one line.
pub fn fit(text: &str, width: usize) -> String {
    let text = sink::terminal(text);
    if text.chars().count() <= width {
        return text.into_owned();
    }
    let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
    s.push('~');
    s
}

/// `text` wrapped at `width` columns; every line, the first included, is
/// taken to start at column `indent` (the caller prints the first line's
/// prefix). Words are written through [`sink::terminal`].
pub fn wrap(text: &str, width: usize, indent: usize) -> String {
    let mut out = String::new();
    let mut col = indent;
    for (i, word) in text.split_whitespace().enumerate() {
        let word = sink::terminal(word);
        let len = word.chars().count();
        if i > 0 && col + 1 + len > width {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            col = indent;
        } else if i > 0 {
            out.push(' ');
            col += 1;
        }
        out.push_str(&word);
        col += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_and_wrap() {
        assert_eq!(fit("abcdef", 4), "abc~");
        assert_eq!(fit("abc", 4), "abc");
        let w = wrap("aaa bbb ccc ddd", 9, 2);
        assert_eq!(w, "aaa bbb\n  ccc ddd");
        for line in wrap(&"word ".repeat(60), 40, 4).lines() {
            assert!(line.len() <= 40, "{line}");
        }
    }
}
