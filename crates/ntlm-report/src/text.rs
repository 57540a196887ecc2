//! Laying out text for a terminal of a given width: cells cut to fit, words
//! wrapped, every piece escaped for the terminal first. Widths are display
//! columns ([`width`]): a wide (CJK) character takes two, a combining mark
//! none.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::sink;

/// The columns `text` takes on a terminal (Unicode East Asian Width: wide
/// characters two, combining and zero-width characters none).
pub fn width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// `text` followed by spaces up to `columns` display columns (unchanged
/// when it is already as wide): `format!("{:<n$}")` counts characters.
pub fn pad(text: &str, columns: usize) -> String {
    let mut s = text.to_owned();
    s.push_str(&" ".repeat(columns.saturating_sub(width(text))));
    s
}

/// `text` cut to `width` display columns, with `~` marking a cut (a wide
/// character that would straddle the cut goes, with the combining marks
/// after it). Control and bidi characters (a name from a catalog or fleet
/// file) are escaped first ([`sink::terminal`]), so a cell is one line.
pub fn fit(text: &str, width: usize) -> String {
    let text = sink::terminal(text);
    if self::width(&text) <= width {
        return text.into_owned();
    }
    let room = width.saturating_sub(1);
    let mut s = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > room {
            break;
        }
        used += w;
        s.push(c);
    }
    s.push('~');
    s
}

/// `text` wrapped at `width` display columns; every line, the first included, is
/// taken to start at column `indent` (the caller prints the first line's
/// prefix). Words are written through [`sink::terminal`].
pub fn wrap(text: &str, width: usize, indent: usize) -> String {
    let mut out = String::new();
    let mut col = indent;
    for (i, word) in text.split_whitespace().enumerate() {
        let word = sink::terminal(word);
        let len = self::width(&word);
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

    #[test]
    fn wide_and_combining_characters_by_display_width() {
        // Wide CJK characters take two columns each.
        assert_eq!(width("東京サーバー"), 12);
        assert_eq!(fit("東京サーバー", 7), "東京サ~");
        assert_eq!(fit("東京サーバー", 8), "東京サ~");
        assert_eq!(fit("東京サーバー", 12), "東京サーバー");
        // Combining marks take none: "e\u{301}" is one column.
        let combining = "cafe\u{301}-se\u{301}rveur";
        assert_eq!(width(combining), 12);
        assert_eq!(fit(combining, 12), combining);
        assert_eq!(fit(combining, 5), "cafe\u{301}~");
        assert_eq!(pad("東京", 6), "東京  ");
        assert_eq!(width(&pad("e\u{301}", 3)), 3);
        for line in wrap(&"東京サーバー cafe\u{301} ".repeat(20), 30, 4).lines() {
            assert!(width(line) <= 30, "{line}");
        }
        let w = wrap("東京 大阪 名古屋", 12, 2);
        assert_eq!(w, "東京 大阪\n  名古屋");
    }
}
