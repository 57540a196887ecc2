//! `NtlmMinClientSec` / `NtlmMinServerSec`: the minimum-session-security mask.

use alloc::format;
use alloc::string::String;
use core::fmt;
use core::ops::{BitOr, BitOrAssign};
use core::str::FromStr;

use ntlm_wire::NegotiateFlags;

use crate::failure::Side;
use crate::parse::{self, LineForm, ParseError, Radix, squash};
use crate::source::Source;

/// The value of `HKLM\SYSTEM\CurrentControlSet\Control\Lsa\MSV1_0\NtlmMinClientSec`
/// or `NtlmMinServerSec` (policy "Network security: Minimum session security
/// for NTLM SSP based (including secure RPC) clients/servers").
///
/// The registry bits are NegotiateFlags bits (KB239869):
///
/// | Bit | Token | Group Policy option | Flag |
/// |---|---|---|---|
/// | `0x00000010` | `require_message_integrity` | Require message integrity (XP/2003 UI only) | `NEGOTIATE_SIGN` |
/// | `0x00000020` | `require_message_confidentiality` | Require message confidentiality (XP/2003 UI only) | `NEGOTIATE_SEAL` |
/// | `0x00080000` | `require_NTLMv2_session_security` | Require NTLMv2 session security | `NEGOTIATE_EXTENDED_SESSIONSECURITY` |
/// | `0x20000000` | `require_128bit_encryption` | Require 128-bit encryption | `NEGOTIATE_128` |
/// | `0x80000000` | `require_56bit_encryption` | (none; KB239869 lists it without semantics) | `NEGOTIATE_56` |
///
/// Any other bit is kept, reported by [`unknown_bits`](Self::unknown_bits) and
/// as a warning, and never enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MinSessionSecurity(u32);

/// One known bit of the mask: its names and meaning, with the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BitInfo {
    /// The registry bit.
    pub bit: u32,
    /// The NegotiateFlags bit it requires (the same value).
    pub flag: NegotiateFlags,
    /// The command-line token, e.g. `require_128bit_encryption`.
    pub token: &'static str,
    /// The Group Policy option text, or a description where no option exists.
    pub label: &'static str,
    /// Which policy UIs offer it.
    pub offered_by: &'static str,
    /// What it requires, in one line.
    pub meaning: &'static str,
    /// Where the meaning comes from.
    pub source: Source,
}

impl fmt::Display for BitInfo {
    /// `0x20000000 require_128bit_encryption: ... [KB239869]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:#010x} {}: {} [{}]",
            self.bit, self.token, self.meaning, self.source
        )
    }
}

/// The five bits KB239869 lists, lowest first.
pub static BITS: [BitInfo; 5] = [
    BitInfo {
        bit: 0x0000_0010,
        flag: NegotiateFlags::NEGOTIATE_SIGN,
        token: "require_message_integrity",
        label: "Require message integrity",
        offered_by: "Windows XP / Server 2003 policy UI only",
        meaning: "the connection fails unless message integrity (NEGOTIATE_SIGN) is negotiated",
        source: Source::Kb(239_869),
    },
    BitInfo {
        bit: 0x0000_0020,
        flag: NegotiateFlags::NEGOTIATE_SEAL,
        token: "require_message_confidentiality",
        label: "Require message confidentiality",
        offered_by: "Windows XP / Server 2003 policy UI only",
        meaning: "the connection fails unless message confidentiality (NEGOTIATE_SEAL) is negotiated",
        source: Source::Kb(239_869),
    },
    BitInfo {
        bit: 0x0008_0000,
        flag: NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY,
        token: "require_NTLMv2_session_security",
        label: "Require NTLMv2 session security",
        offered_by: "every Windows policy UI",
        meaning: "the connection fails unless NTLM 2 session security \
                  (NEGOTIATE_EXTENDED_SESSIONSECURITY) is negotiated",
        source: Source::Kb(239_869),
    },
    BitInfo {
        bit: 0x2000_0000,
        flag: NegotiateFlags::NEGOTIATE_128,
        token: "require_128bit_encryption",
        label: "Require 128-bit encryption",
        offered_by: "every Windows policy UI; the Windows 7 / Server 2008 R2 and later default",
        meaning: "the connection fails unless NEGOTIATE_128 is negotiated \
                  (KB239869: only if message confidentiality is in use)",
        source: Source::MsNlmp("3.1.5.1.2, 3.2.5.1.1"),
    },
    BitInfo {
        bit: 0x8000_0000,
        flag: NegotiateFlags::NEGOTIATE_56,
        token: "require_56bit_encryption",
        label: "56-bit encryption (no policy option)",
        offered_by: "no policy UI; registry only",
        meaning: "listed without semantics; the simulator requires NEGOTIATE_56 unless the \
                  semantics say bit56=ignore",
        source: Source::Kb(239_869),
    },
];

/// Which registry value a line named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyValue {
    /// `NtlmMinClientSec`: enforced by the client.
    NtlmMinClientSec,
    /// `NtlmMinServerSec`: enforced by the server.
    NtlmMinServerSec,
}

impl PolicyValue {
    /// The registry value name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::NtlmMinClientSec => "NtlmMinClientSec",
            Self::NtlmMinServerSec => "NtlmMinServerSec",
        }
    }

    /// The side that enforces it.
    pub const fn side(self) -> Side {
        match self {
            Self::NtlmMinClientSec => Side::Client,
            Self::NtlmMinServerSec => Side::Server,
        }
    }

    /// The value a side enforces.
    pub const fn of(side: Side) -> Self {
        match side {
            Side::Client => Self::NtlmMinClientSec,
            Side::Server => Self::NtlmMinServerSec,
        }
    }

    /// Looks a value name up, ignoring ASCII case (`NTLMMinClientSec` as in GptTmpl.inf).
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name.trim();
        [Self::NtlmMinClientSec, Self::NtlmMinServerSec]
            .into_iter()
            .find(|v| v.name().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for PolicyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The form a mask was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputForm {
    /// `0x20080000`.
    Hex,
    /// `537395200` (or a negative `Int32` as PowerShell prints it).
    Decimal,
    /// `dword:20080000`.
    Dword,
    /// A token or Group Policy option name (`require_128bit_encryption`,
    /// `Require 128-bit encryption`, `all_above`, `none`, a flag name).
    Name,
    /// Several terms joined by `|`, `+` or `,`.
    Combination,
    /// A registry line; the [`LineForm`] says which export format.
    Line(LineForm),
    /// Group Policy text as gpresult, RSOP or secpol show it: the policy
    /// title followed by its option text ("Require 128-bit encryption").
    PolicyText,
}

/// The result of [`MinSessionSecurity::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParsedMask {
    /// The mask.
    pub mask: MinSessionSecurity,
    /// The registry value the line named, when the form carries a name.
    pub value: Option<PolicyValue>,
    /// How it was written.
    pub form: InputForm,
}

const WHAT: &str = "NtlmMinClientSec/NtlmMinServerSec";

const EXPECTED: &str = "a number (0x20080000, 537395200, dword:20080000), a registry line \
    (\"NtlmMinClientSec\"=dword:20080000; reg query output; \
    MACHINE\\...\\MSV1_0\\NTLMMinClientSec=4,537395200), or names joined by '|', '+' or ',' \
    (none, require_message_integrity, require_message_confidentiality, \
    require_NTLMv2_session_security, require_128bit_encryption, require_56bit_encryption, \
    all_above, the Group Policy option texts such as \"Require 128-bit encryption\", or the \
    flag names NEGOTIATE_SIGN, NEGOTIATE_SEAL, NEGOTIATE_EXTENDED_SESSIONSECURITY, \
    NEGOTIATE_128, NEGOTIATE_56)";

impl MinSessionSecurity {
    /// No requirement (0): the Windows XP through Server 2008 default.
    pub const NONE: Self = Self(0);
    /// `0x10`: require message integrity.
    pub const INTEGRITY: Self = Self(0x0000_0010);
    /// `0x20`: require message confidentiality.
    pub const CONFIDENTIALITY: Self = Self(0x0000_0020);
    /// `0x80000`: require NTLMv2 session security.
    pub const NTLMV2_SESSION_SECURITY: Self = Self(0x0008_0000);
    /// `0x20000000`: require 128-bit encryption (Windows 7 / 2008 R2 and later default).
    pub const ENCRYPTION_128: Self = Self(0x2000_0000);
    /// `0x80000000`: 56-bit encryption (KB239869; no UI).
    pub const ENCRYPTION_56: Self = Self(0x8000_0000);
    /// `0x20080030`: every option of the XP/2003 UI (`all_above`).
    pub const ALL_ABOVE: Self = Self(0x2008_0030);
    /// `0x20080000`: NTLMv2 session security + 128-bit, the STIG/CIS baseline.
    pub const BASELINE: Self = Self(0x2008_0000);
    /// Every bit with a documented meaning.
    pub const KNOWN_BITS: u32 = 0xA008_0030;

    /// The mask for a registry value; every bit is kept.
    pub const fn from_registry(value: u32) -> Self {
        Self(value)
    }

    /// The registry value.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// The NegotiateFlags the known bits require.
    pub const fn required_flags(self) -> NegotiateFlags {
        NegotiateFlags::from_bits_retain(self.0 & Self::KNOWN_BITS)
    }

    /// Bits outside the five documented ones (0 if none).
    pub const fn unknown_bits(self) -> u32 {
        self.0 & !Self::KNOWN_BITS
    }

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no bit is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Both masks' bits.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// The documented bits that are set, lowest first.
    pub fn meaning(self) -> impl Iterator<Item = &'static BitInfo> {
        BITS.iter().filter(move |b| self.0 & b.bit != 0)
    }

    /// The tokens of the documented bits that are set (`require_128bit_encryption`, ...).
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        self.meaning().map(|b| b.token)
    }

    /// The MS-NLMP flag names of every set bit, unknown bits included
    /// (`NEGOTIATE_128`, `R1`, ...), as the JSON `value_names` lists them.
    pub fn flag_names(self) -> impl Iterator<Item = &'static str> {
        NegotiateFlags::from_bits_retain(self.0).names()
    }

    /// Reads a mask in any form an administrator has (see [`InputForm`]).
    ///
    /// Digits alone are decimal (as `reg add /d` and secedit write them);
    /// hexadecimal needs `0x` or `dword:`. Registry lines must name
    /// `NtlmMinClientSec` or `NtlmMinServerSec` (any case) when they name a
    /// value, and must be REG_DWORD.
    pub fn parse(input: &str) -> Result<ParsedMask, ParseError> {
        let err = |problem: String| ParseError::new(WHAT, input, problem, EXPECTED);
        let s = input.trim();
        if s.is_empty() {
            return Err(err("the input is empty".into()));
        }
        let names = ["NtlmMinClientSec", "NtlmMinServerSec"];
        if let Some(line) = parse::registry_line(s, &names) {
            let line = line.map_err(err)?;
            let value = match line.name {
                None => None,
                Some(n) => Some(PolicyValue::from_name(n).ok_or_else(|| {
                    err(format!(
                        "the line sets {n:?}, not NtlmMinClientSec or NtlmMinServerSec"
                    ))
                })?),
            };
            return Ok(ParsedMask {
                mask: Self(line.value),
                value,
                form: InputForm::Line(line.form),
            });
        }
        let mut mask = 0u32;
        let mut form = None;
        for term in s.split(['|', '+', ',']) {
            let term = term.trim();
            if term.is_empty() {
                return Err(err("an empty term between separators".into()));
            }
            let (bits, f) = Self::term(term).map_err(err)?;
            mask |= bits;
            form = Some(match form {
                None => f,
                Some(_) => InputForm::Combination,
            });
        }
        Ok(ParsedMask {
            mask: Self(mask),
            value: None,
            form: form.unwrap_or(InputForm::Combination),
        })
    }

    fn term(t: &str) -> Result<(u32, InputForm), String> {
        let starts_numeric = t.starts_with(|c: char| c.is_ascii_digit() || c == '-')
            || parse::strip_prefix_ci(t, "dword:").is_some();
        if starts_numeric {
            return parse::number(t).map(|(v, radix)| {
                let form = match radix {
                    Radix::Hex => InputForm::Hex,
                    Radix::Decimal => InputForm::Decimal,
                    Radix::Dword => InputForm::Dword,
                };
                (v, form)
            });
        }
        let key = squash(t);
        match key.as_str() {
            "none" => return Ok((0, InputForm::Name)),
            "allabove" => return Ok((Self::ALL_ABOVE.0, InputForm::Name)),
            _ => {}
        }
        if let Some(b) = BITS.iter().find(|b| squash(b.token) == key) {
            return Ok((b.bit, InputForm::Name));
        }
        if let Some(b) = BITS.iter().find(|b| squash(b.label) == key) {
            return Ok((b.bit, InputForm::Name));
        }
        if let Some(flag) = NegotiateFlags::from_any_name(t) {
            return if flag.bits() & Self::KNOWN_BITS != 0 {
                Ok((flag.bits(), InputForm::Name))
            } else {
                Err(format!(
                    "{t:?} is a NegotiateFlags bit ({:#010x}) but not a minimum-security bit",
                    flag.bits()
                ))
            };
        }
        Err(format!("{t:?} is neither a number nor a known name"))
    }
}

impl FromStr for MinSessionSecurity {
    type Err = ParseError;

    /// [`MinSessionSecurity::parse`], keeping only the mask.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).map(|p| p.mask)
    }
}

impl fmt::Display for MinSessionSecurity {
    /// `0x%08x`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x}", self.0)
    }
}

impl BitOr for MinSessionSecurity {
    type Output = Self;

    fn bitor(self, rhs: Self) -> Self {
        self.union(rhs)
    }
}

impl BitOrAssign for MinSessionSecurity {
    fn bitor_assign(&mut self, rhs: Self) {
        *self = self.union(rhs);
    }
}

impl From<MinSessionSecurity> for u32 {
    fn from(m: MinSessionSecurity) -> Self {
        m.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_table_matches_flags_and_constants() {
        let mut all = 0;
        for b in &BITS {
            assert_eq!(b.flag.bits(), b.bit);
            all |= b.bit;
        }
        assert_eq!(all, MinSessionSecurity::KNOWN_BITS);
        assert_eq!(
            MinSessionSecurity::INTEGRITY
                | MinSessionSecurity::CONFIDENTIALITY
                | MinSessionSecurity::NTLMV2_SESSION_SECURITY
                | MinSessionSecurity::ENCRYPTION_128,
            MinSessionSecurity::ALL_ABOVE
        );
    }

    #[test]
    fn unknown_bits_are_kept_but_not_required() {
        let m = MinSessionSecurity::from_registry(0x2008_0001);
        assert_eq!(m.bits(), 0x2008_0001);
        assert_eq!(m.unknown_bits(), 1);
        assert_eq!(m.required_flags().bits(), 0x2008_0000);
        assert_eq!(
            m.flag_names().collect::<Vec<_>>(),
            [
                "NEGOTIATE_UNICODE",
                "NEGOTIATE_EXTENDED_SESSIONSECURITY",
                "NEGOTIATE_128"
            ]
        );
        assert_eq!(
            m.names().collect::<Vec<_>>(),
            [
                "require_NTLMv2_session_security",
                "require_128bit_encryption"
            ]
        );
    }

    #[test]
    fn meaning_cites_sources() {
        let lines: Vec<String> = MinSessionSecurity::BASELINE
            .meaning()
            .map(ToString::to_string)
            .collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("0x00080000 require_NTLMv2_session_security"));
        assert!(lines[0].ends_with("[KB239869]"));
        assert!(lines[1].ends_with("[MS-NLMP 3.1.5.1.2, 3.2.5.1.1]"));
    }

    #[test]
    fn policy_value_names() {
        assert_eq!(
            PolicyValue::from_name("NTLMMinServerSec"),
            Some(PolicyValue::NtlmMinServerSec)
        );
        assert_eq!(PolicyValue::from_name("LmCompatibilityLevel"), None);
        assert_eq!(PolicyValue::of(Side::Client).side(), Side::Client);
    }
}
