//! Small command-line value parsers shared by the subcommands.

use ntlm_wire::NegotiateFlags;

/// NegotiateFlags from `0xe2888235`, decimal, or names joined by `|` or `,`
/// (MS-NLMP names with or without the `NTLMSSP_` prefix, or spec letters).
pub fn flags(s: &str) -> Result<NegotiateFlags, String> {
    let t = s.trim();
    if let Ok(v) = u64_any(t) {
        return u32::try_from(v)
            .map(NegotiateFlags::from_bits_retain)
            .map_err(|_| format!("{t:?} does not fit in 32 bits"));
    }
    t.split(['|', ',', '+'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .try_fold(NegotiateFlags::empty(), |acc, n| {
            NegotiateFlags::from_any_name(n)
                .map(|f| acc | f)
                .ok_or_else(|| format!("{n:?} is not a flag name; expected a hex mask or names such as NEGOTIATE_SIGN|NEGOTIATE_128"))
        })
}

/// A number in decimal or `0x` hex.
pub fn u64_any(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let r = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => t.parse(),
    };
    r.map_err(|_| format!("{t:?} is not a decimal or 0x-hex number"))
}

/// Exactly `N` bytes of hex (spaces and colons allowed).
pub fn hex_array<const N: usize>(s: &str, what: &str) -> Result<[u8; N], String> {
    let clean: String = s.chars().filter(|c| !matches!(c, ' ' | ':')).collect();
    let bytes = hex::decode(&clean).map_err(|e| format!("{what}: {s:?} is not hex: {e}"))?;
    <[u8; N]>::try_from(bytes.as_slice())
        .map_err(|_| format!("{what}: expected {} hex digits, got {}", N * 2, clean.len()))
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
        assert!(flags("bogus").unwrap_err().contains("\"bogus\""));
        assert!(flags("0x1ffffffff").is_err());
    }

    #[test]
    fn hex_arrays() {
        assert_eq!(hex_array::<2>("01:23", "x").unwrap(), [1, 0x23]);
        assert!(
            hex_array::<2>("0123ab", "--x")
                .unwrap_err()
                .starts_with("--x: expected 4")
        );
    }
}
