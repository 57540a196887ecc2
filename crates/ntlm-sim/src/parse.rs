//! Small command-line value parsers shared by the subcommands.

use ntlm_wire::NegotiateFlags;

/// A command-line value that could not be read; the message quotes it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    /// A number of flags above 32 bits.
    #[error("{value:?} does not fit in 32 bits")]
    TooWide {
        /// The value, trimmed.
        value: String,
    },
    /// A flag name that no NegotiateFlags bit has.
    #[error(
        "{name:?} is not a flag name; expected a hex mask or names such as NEGOTIATE_SIGN|NEGOTIATE_128"
    )]
    UnknownFlag {
        /// The name, trimmed.
        name: String,
    },
    /// Neither decimal nor `0x` hex.
    #[error("{value:?} is not a decimal or 0x-hex number")]
    NotANumber {
        /// The value, trimmed.
        value: String,
    },
    /// Not hex digits.
    #[error("{what}: {value:?} is not hex: {source}")]
    NotHex {
        /// The option or field read.
        what: String,
        /// The value as given.
        value: String,
        /// What the hex decoder found.
        source: hex::FromHexError,
    },
    /// Hex of the wrong length.
    #[error("{what}: expected {expected} hex digits, got {got}")]
    HexLength {
        /// The option or field read.
        what: String,
        /// The number of hex digits expected.
        expected: usize,
        /// The number given (spaces and colons removed).
        got: usize,
    },
}

/// NegotiateFlags from `0xe2888235`, decimal, or names joined by `|` or `,`
/// (MS-NLMP names with or without the `NTLMSSP_` prefix, or spec letters).
pub fn flags(s: &str) -> Result<NegotiateFlags, ValueError> {
    let t = s.trim();
    if let Ok(v) = u64_any(t) {
        return u32::try_from(v)
            .map(NegotiateFlags::from_bits_retain)
            .map_err(|_| ValueError::TooWide {
                value: t.to_owned(),
            });
    }
    t.split(['|', ',', '+'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .try_fold(NegotiateFlags::empty(), |acc, n| {
            NegotiateFlags::from_any_name(n)
                .map(|f| acc | f)
                .ok_or_else(|| ValueError::UnknownFlag { name: n.to_owned() })
        })
}

/// A number in decimal or `0x` hex.
pub fn u64_any(s: &str) -> Result<u64, ValueError> {
    let t = s.trim();
    let r = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => t.parse(),
    };
    r.map_err(|_| ValueError::NotANumber {
        value: t.to_owned(),
    })
}

/// Exactly `N` bytes of hex (spaces and colons allowed).
pub fn hex_array<const N: usize>(s: &str, what: &str) -> Result<[u8; N], ValueError> {
    let clean: String = s.chars().filter(|c| !matches!(c, ' ' | ':')).collect();
    let bytes = hex::decode(&clean).map_err(|source| ValueError::NotHex {
        what: what.to_owned(),
        value: s.to_owned(),
        source,
    })?;
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| ValueError::HexLength {
        what: what.to_owned(),
        expected: N * 2,
        got: clean.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_forms() {
        assert_eq!(flags("0xe2888235").unwrap().bits(), 0xe288_8235);
        assert_eq!(flags("16").unwrap(), NegotiateFlags::NEGOTIATE_SIGN);
        assert_eq!(
            flags("NTLMSSP_NEGOTIATE_SIGN | seal").unwrap(),
            NegotiateFlags::NEGOTIATE_SIGN | NegotiateFlags::NEGOTIATE_SEAL
        );
        assert!(
            flags("bogus")
                .unwrap_err()
                .to_string()
                .contains("\"bogus\"")
        );
        assert!(flags("0x1ffffffff").is_err());
    }

    #[test]
    fn hex_arrays() {
        assert_eq!(hex_array::<2>("01:23", "x").unwrap(), [1, 0x23]);
        assert!(
            hex_array::<2>("0123ab", "--x")
                .unwrap_err()
                .to_string()
                .starts_with("--x: expected 4")
        );
    }

    #[test]
    fn errors_say_what_was_wrong() {
        assert_eq!(
            flags("0x1ffffffff"),
            Err(ValueError::TooWide {
                value: "0x1ffffffff".to_owned()
            })
        );
        assert_eq!(
            flags("SIGN|bogus"),
            Err(ValueError::UnknownFlag {
                name: "bogus".to_owned()
            })
        );
        assert_eq!(
            u64_any(" 12x ").map_err(|e| e.to_string()),
            Err("\"12x\" is not a decimal or 0x-hex number".to_owned())
        );
        assert!(matches!(
            hex_array::<2>("zz", "--x"),
            Err(ValueError::NotHex { ref what, .. }) if what == "--x"
        ));
        assert_eq!(
            hex_array::<2>("01", "--x"),
            Err(ValueError::HexLength {
                what: "--x".to_owned(),
                expected: 4,
                got: 2
            })
        );
    }
}
