//! Parsing helpers shared by [`MinSessionSecurity`](crate::MinSessionSecurity)
//! and [`LmCompatibilityLevel`](crate::LmCompatibilityLevel): numbers in every
//! radix an administrator meets, and registry lines in every export format.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// A value that could not be read.
///
/// The message quotes the input and says what was expected:
/// `cannot read "0xZZ" as NtlmMinClientSec/NtlmMinServerSec: "0xZZ" is not a hexadecimal number; expected ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    what: &'static str,
    input: String,
    problem: String,
    expected: &'static str,
    /// 1-based line and column, and the text of that line.
    position: Option<(usize, usize, String)>,
}

impl ParseError {
    pub(crate) fn new(
        what: &'static str,
        input: &str,
        problem: String,
        expected: &'static str,
    ) -> Self {
        Self {
            what,
            input: input.to_string(),
            problem,
            expected,
            position: None,
        }
    }

    /// The same error at a 1-based `line` and `column` of a multi-line
    /// input; `line_text` is that line, quoted instead of the whole input.
    pub(crate) fn at(mut self, line: usize, column: usize, line_text: &str) -> Self {
        self.position = Some((line, column, line_text.to_string()));
        self
    }

    /// The 1-based line and column of the problem, when the reader knows them.
    pub fn position(&self) -> Option<(usize, usize)> {
        self.position.as_ref().map(|(l, c, _)| (*l, *c))
    }

    /// The complete input, as given.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// What is wrong with it.
    pub fn problem(&self) -> &str {
        &self.problem
    }

    /// The forms that would have been accepted.
    pub fn expected(&self) -> &'static str {
        self.expected
    }
}

impl fmt::Display for ParseError {
    /// `cannot read "INPUT" as WHAT: PROBLEM; expected FORMS`, or with a
    /// position `line L, column C: cannot read "LINE" as WHAT: ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quoted = match &self.position {
            Some((line, column, text)) => {
                write!(f, "line {line}, column {column}: ")?;
                text.trim()
            }
            None => self.input.as_str(),
        };
        write!(
            f,
            "cannot read {:?} as {}: {}; expected {}",
            quoted, self.what, self.problem, self.expected
        )
    }
}

impl core::error::Error for ParseError {}

/// How a number was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Radix {
    Hex,
    Decimal,
    Dword,
}

/// Reads a 32-bit value: `0x…` hex, `dword:…` hex, decimal, or a negative
/// decimal in `i32` range (PowerShell prints REG_DWORDs as `Int32`).
pub(crate) fn number(t: &str) -> Result<(u32, Radix), String> {
    let t = t.trim();
    if let Some(h) = strip_prefix_ci(t, "0x") {
        return hex(t, h).map(|v| (v, Radix::Hex));
    }
    if let Some(h) = strip_prefix_ci(t, "dword:") {
        // `dword:0x20080030` as some exports and hand-written .reg files have it.
        let h = h.trim();
        let h = strip_prefix_ci(h, "0x").unwrap_or(h);
        return hex(t, h).map(|v| (v, Radix::Dword));
    }
    if let Some(d) = t.strip_prefix('-') {
        if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{t:?} is not a number"));
        }
        return match t.parse::<i32>() {
            // Two's complement: -2147483648 is 0x80000000.
            Ok(v) => Ok((u32::from_ne_bytes(v.to_ne_bytes()), Radix::Decimal)),
            Err(_) => Err(format!("{t:?} is below the 32-bit range")),
        };
    }
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return match t.parse::<u32>() {
            Ok(v) => Ok((v, Radix::Decimal)),
            Err(_) => Err(format!("{t:?} does not fit in 32 bits")),
        };
    }
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "{t:?} looks hexadecimal; write 0x{t} (digits alone are read as decimal)"
        ));
    }
    Err(format!("{t:?} is not a number"))
}

fn hex(whole: &str, digits: &str) -> Result<u32, String> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{whole:?} is not a hexadecimal number"));
    }
    u32::from_str_radix(digits, 16).map_err(|_| format!("{whole:?} does not fit in 32 bits"))
}

/// `s` without `prefix`, compared ignoring ASCII case.
pub(crate) fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

/// Lower-case ASCII alphanumerics only: `"Require 128-bit encryption"` and
/// `"require_128bit_encryption"` both become `"require128bitencryption"`.
pub(crate) fn squash(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The export format a registry line came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineForm {
    /// A `.reg` file line: `"NtlmMinClientSec"=dword:20080030`.
    RegFile,
    /// A `reg query` output line: `NtlmMinClientSec    REG_DWORD    0x20080000`.
    RegQuery,
    /// A `reg add ... /v NAME /t REG_DWORD /d VALUE` command line.
    RegAdd,
    /// A secedit / GptTmpl.inf `[Registry Values]` line: `MACHINE\...\NTLMMinClientSec=4,537395200`.
    Secedit,
    /// A `NAME=VALUE` assignment without a type.
    Assignment,
    /// PowerShell `Get-ItemProperty` output: `NtlmMinClientSec : 537395200`.
    PowerShell,
    /// `gpresult /z` output: a `KeyName: MACHINE\...\NTLMMinServerSec` line, then `Value: 537395200`.
    Gpresult,
}

impl LineForm {
    /// Short lower-case name, e.g. `reg-file`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::RegFile => "reg-file",
            Self::RegQuery => "reg-query",
            Self::RegAdd => "reg-add",
            Self::Secedit => "secedit",
            Self::Assignment => "assignment",
            Self::PowerShell => "powershell",
            Self::Gpresult => "gpresult",
        }
    }
}

/// A registry line: the value name it carries (the last path component,
/// as written) and the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RegLine<'a> {
    pub(crate) name: Option<&'a str>,
    pub(crate) value: u32,
    pub(crate) form: LineForm,
}

/// Reads `s` as a registry line if it looks like one.
///
/// `None`: not a registry line (the caller tries other forms).
/// `Some(Err(problem))`: a registry line with a defect.
/// `known_names` is used to recognise PowerShell `NAME : VALUE` lines.
pub(crate) fn registry_line<'a>(
    s: &'a str,
    known_names: &[&str],
) -> Option<Result<RegLine<'a>, String>> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('"') {
        return Some(reg_file(rest));
    }
    let mut words = s.split_whitespace();
    if words.clone().any(|w| w.eq_ignore_ascii_case("/d")) {
        return Some(reg_add(s));
    }
    if words.any(|w| w.len() > 4 && strip_prefix_ci(w, "REG_").is_some()) {
        return Some(reg_query(s));
    }
    if let Some((left, right)) = s.split_once('=') {
        return Some(assignment(left, right));
    }
    if let Some((left, right)) = s.split_once(':') {
        let left = left.trim();
        if known_names.iter().any(|n| n.eq_ignore_ascii_case(left)) {
            return Some(number(right).map(|(value, _)| RegLine {
                name: Some(left),
                value,
                form: LineForm::PowerShell,
            }));
        }
    }
    None
}

fn reg_file(rest: &str) -> Result<RegLine<'_>, String> {
    let Some((name, after)) = rest.split_once('"') else {
        return Err("the value name has no closing quote".to_string());
    };
    let Some(data) = after.trim().strip_prefix('=') else {
        return Err(format!("no '=' after \"{name}\""));
    };
    let data = data.trim();
    if strip_prefix_ci(data, "dword:").is_none() {
        return Err(format!(
            "{data:?} is not a REG_DWORD (.reg files write dword:XXXXXXXX)"
        ));
    }
    let (value, _) = number(data)?;
    Ok(RegLine {
        name: Some(name),
        value,
        form: LineForm::RegFile,
    })
}

fn reg_query(s: &str) -> Result<RegLine<'_>, String> {
    let words: Vec<&str> = s.split_whitespace().collect();
    let Some(pos) = words
        .iter()
        .position(|w| w.len() > 4 && strip_prefix_ci(w, "REG_").is_some())
    else {
        return Err("no REG_ type".to_string());
    };
    let ty = words.get(pos).copied().unwrap_or_default();
    if !ty.eq_ignore_ascii_case("REG_DWORD") {
        return Err(format!("the value has type {ty}, not REG_DWORD"));
    }
    let name = match pos {
        0 => None,
        1 => words.first().copied(),
        _ => return Err("the value name contains spaces".to_string()),
    };
    let rest = words.get(pos + 1..).unwrap_or_default();
    let [data] = rest else {
        return Err("expected exactly one value after REG_DWORD".to_string());
    };
    let (value, _) = number(data)?;
    Ok(RegLine {
        name,
        value,
        form: LineForm::RegQuery,
    })
}

fn reg_add(s: &str) -> Result<RegLine<'_>, String> {
    let words: Vec<&str> = s.split_whitespace().collect();
    let arg = |flag: &str| -> Option<&str> {
        let i = words.iter().position(|w| w.eq_ignore_ascii_case(flag))?;
        words.get(i + 1).copied()
    };
    let name = arg("/v").map(|n| n.trim_matches('"'));
    if let Some(ty) = arg("/t") {
        if !ty.eq_ignore_ascii_case("REG_DWORD") {
            return Err(format!("the value has type {ty}, not REG_DWORD"));
        }
    }
    let Some(data) = arg("/d") else {
        return Err("no data after /d".to_string());
    };
    let (value, _) = number(data.trim_matches('"'))?;
    Ok(RegLine {
        name,
        value,
        form: LineForm::RegAdd,
    })
}

fn assignment<'a>(left: &'a str, right: &str) -> Result<RegLine<'a>, String> {
    let path = left.trim();
    if path.is_empty() {
        return Err("nothing before '='".to_string());
    }
    let name = path.rsplit('\\').next().unwrap_or(path);
    let right = right.trim();
    if let Some((ty, data)) = right.split_once(',') {
        // secedit: TYPE,DATA with TYPE 4 = REG_DWORD.
        if ty.trim() != "4" {
            return Err(format!(
                "registry type {:?} is not 4 (REG_DWORD)",
                ty.trim()
            ));
        }
        let (value, _) = number(data)?;
        return Ok(RegLine {
            name: Some(name),
            value,
            form: LineForm::Secedit,
        });
    }
    let (value, _) = number(right)?;
    Ok(RegLine {
        name: Some(name),
        value,
        form: LineForm::Assignment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_every_radix() {
        assert_eq!(number("0x20080000"), Ok((0x2008_0000, Radix::Hex)));
        assert_eq!(number("0X20080000"), Ok((0x2008_0000, Radix::Hex)));
        assert_eq!(number("dword:20080030"), Ok((0x2008_0030, Radix::Dword)));
        assert_eq!(number("DWORD:0"), Ok((0, Radix::Dword)));
        assert_eq!(number("dword:0x20080030"), Ok((0x2008_0030, Radix::Dword)));
        assert!(
            number("dword:0x")
                .unwrap_err()
                .contains("not a hexadecimal")
        );
        assert_eq!(number("537395200"), Ok((0x2008_0000, Radix::Decimal)));
        assert_eq!(number("-2147483648"), Ok((0x8000_0000, Radix::Decimal)));
        assert_eq!(number("-1610088400"), Ok((0xA008_0030, Radix::Decimal)));
        assert!(number("0x1ffffffff").unwrap_err().contains("32 bits"));
        assert!(number("4294967296").unwrap_err().contains("32 bits"));
        assert!(number("-2147483649").unwrap_err().contains("below"));
        assert!(number("2008000a").unwrap_err().contains("write 0x2008000a"));
        assert!(number("0x").unwrap_err().contains("not a hexadecimal"));
        assert!(number("12ab_").unwrap_err().contains("not a number"));
        assert!(number("-").unwrap_err().contains("not a number"));
    }

    #[test]
    fn registry_lines() {
        let names = ["NtlmMinClientSec"];
        let l = registry_line(r#""NtlmMinClientSec"=dword:20080030"#, &names)
            .unwrap()
            .unwrap();
        assert_eq!(
            (l.name, l.value, l.form),
            (Some("NtlmMinClientSec"), 0x2008_0030, LineForm::RegFile)
        );
        let l = registry_line("    NtlmMinServerSec    REG_DWORD    0x20000000", &names)
            .unwrap()
            .unwrap();
        assert_eq!(
            (l.name, l.value, l.form),
            (Some("NtlmMinServerSec"), 0x2000_0000, LineForm::RegQuery)
        );
        let l = registry_line(
            r"MACHINE\System\CurrentControlSet\Control\Lsa\MSV1_0\NTLMMinClientSec=4,537395200",
            &names,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (l.name, l.value, l.form),
            (Some("NTLMMinClientSec"), 0x2008_0000, LineForm::Secedit)
        );
        let l = registry_line(
            r"reg add HKLM\SYSTEM\CurrentControlSet\Control\Lsa\MSV1_0 /v NtlmMinClientSec /t REG_DWORD /d 0x20080000 /f",
            &names,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (l.name, l.value, l.form),
            (Some("NtlmMinClientSec"), 0x2008_0000, LineForm::RegAdd)
        );
        let l = registry_line("NtlmMinClientSec : 537395200", &names)
            .unwrap()
            .unwrap();
        assert_eq!(l.form, LineForm::PowerShell);
        assert_eq!(registry_line("0x20000000", &names), None);
        assert_eq!(registry_line("dword:20000000", &names), None);
        assert!(
            registry_line("X    REG_SZ    abc", &names)
                .unwrap()
                .unwrap_err()
                .contains("REG_SZ")
        );
        assert!(
            registry_line(r"MACHINE\X\NtlmMinClientSec=1,1", &names)
                .unwrap()
                .unwrap_err()
                .contains("not 4")
        );
        assert!(
            registry_line(r#""NtlmMinClientSec=dword:1"#, &names)
                .unwrap()
                .unwrap_err()
                .contains("closing quote")
        );
        assert!(
            registry_line(r#""NtlmMinClientSec"=hex:01,00"#, &names)
                .unwrap()
                .unwrap_err()
                .contains("REG_DWORD")
        );
    }

    #[test]
    fn squash_folds_labels_and_tokens_together() {
        assert_eq!(
            squash("Require 128-bit encryption"),
            "require128bitencryption"
        );
        assert_eq!(
            squash("require_128bit_encryption"),
            "require128bitencryption"
        );
    }
}
