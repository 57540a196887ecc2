//! `NegotiateFlags`: MS-NLMP 2.2.2.5 NEGOTIATE.
//!
//! The 32-bit field is little-endian on the wire. The specification draws it
//! MSB first (W = bit 31 … A = bit 0); each constant below names its letter.
//! Reserved bits (`r1`…`r10`) are named too, so that a message carrying them
//! can be displayed, and [`NegotiateFlags::from_bits_retain`] keeps every bit:
//! the flags are covered by the MIC and must never be altered by a parser.

use core::fmt;

bitflags::bitflags! {
    /// The NTLM NegotiateFlags field (MS-NLMP 2.2.2.5).
    ///
    /// Construct from wire values with [`NegotiateFlags::from_bits_retain`]; never
    /// with `from_bits_truncate`, which would drop bits the MIC covers.
    #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct NegotiateFlags: u32 {
        /// A: `NTLMSSP_NEGOTIATE_UNICODE`, Unicode (UTF-16LE) strings.
        const NEGOTIATE_UNICODE = 0x0000_0001;
        /// B: `NTLM_NEGOTIATE_OEM`, OEM code-page strings.
        const NEGOTIATE_OEM = 0x0000_0002;
        /// C: `NTLMSSP_REQUEST_TARGET`, the CHALLENGE TargetName must be supplied.
        const REQUEST_TARGET = 0x0000_0004;
        /// r10: reserved, MUST be zero.
        const R10 = 0x0000_0008;
        /// D: `NTLMSSP_NEGOTIATE_SIGN`, message integrity.
        const NEGOTIATE_SIGN = 0x0000_0010;
        /// E: `NTLMSSP_NEGOTIATE_SEAL`, message confidentiality.
        const NEGOTIATE_SEAL = 0x0000_0020;
        /// F: `NTLMSSP_NEGOTIATE_DATAGRAM`, connectionless authentication.
        const NEGOTIATE_DATAGRAM = 0x0000_0040;
        /// G: `NTLMSSP_NEGOTIATE_LM_KEY`, LAN Manager session key computation.
        const NEGOTIATE_LM_KEY = 0x0000_0080;
        /// r9: reserved, MUST be zero (Samba: `NTLMSSP_NEGOTIATE_NETWARE`).
        const R9 = 0x0000_0100;
        /// H: `NTLMSSP_NEGOTIATE_NTLM`, NTLM v1 session security.
        const NEGOTIATE_NTLM = 0x0000_0200;
        /// r8: reserved, SHOULD be zero (Samba: `NTLMSSP_NEGOTIATE_NT_ONLY`).
        const R8 = 0x0000_0400;
        /// J: anonymous connection (no MS-NLMP name; Samba: `NTLMSSP_ANONYMOUS`).
        const NEGOTIATE_ANONYMOUS = 0x0000_0800;
        /// K: `NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED`, NEGOTIATE carries DomainName.
        const NEGOTIATE_OEM_DOMAIN_SUPPLIED = 0x0000_1000;
        /// L: `NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED`, NEGOTIATE carries WorkstationName.
        const NEGOTIATE_OEM_WORKSTATION_SUPPLIED = 0x0000_2000;
        /// r7: reserved (Samba: `NTLMSSP_NEGOTIATE_THIS_IS_LOCAL_CALL`).
        const R7 = 0x0000_4000;
        /// M: `NTLMSSP_NEGOTIATE_ALWAYS_SIGN`, a session key always exists.
        const NEGOTIATE_ALWAYS_SIGN = 0x0000_8000;
        /// N: `NTLMSSP_TARGET_TYPE_DOMAIN`, TargetName is a domain name.
        const TARGET_TYPE_DOMAIN = 0x0001_0000;
        /// O: `NTLMSSP_TARGET_TYPE_SERVER`, TargetName is a server name.
        const TARGET_TYPE_SERVER = 0x0002_0000;
        /// r6: reserved, MUST be zero (Samba: `NTLMSSP_TARGET_TYPE_SHARE`).
        const R6 = 0x0004_0000;
        /// P: `NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY` ("NTLM2"/"NTLMv2 session security").
        const NEGOTIATE_EXTENDED_SESSIONSECURITY = 0x0008_0000;
        /// Q: `NTLMSSP_NEGOTIATE_IDENTIFY`, identify-level token.
        const NEGOTIATE_IDENTIFY = 0x0010_0000;
        /// r5: reserved, MUST be zero.
        const R5 = 0x0020_0000;
        /// R: `NTLMSSP_REQUEST_NON_NT_SESSION_KEY`, use the LMOWF for the session key.
        const REQUEST_NON_NT_SESSION_KEY = 0x0040_0000;
        /// S: `NTLMSSP_NEGOTIATE_TARGET_INFO`, the CHALLENGE TargetInfo is populated.
        const NEGOTIATE_TARGET_INFO = 0x0080_0000;
        /// r4: reserved, MUST be zero.
        const R4 = 0x0100_0000;
        /// T: `NTLMSSP_NEGOTIATE_VERSION`, the Version field is populated.
        const NEGOTIATE_VERSION = 0x0200_0000;
        /// r3: reserved, MUST be zero.
        const R3 = 0x0400_0000;
        /// r2: reserved, MUST be zero.
        const R2 = 0x0800_0000;
        /// r1: reserved, MUST be zero.
        const R1 = 0x1000_0000;
        /// U: `NTLMSSP_NEGOTIATE_128`, 128-bit session key.
        const NEGOTIATE_128 = 0x2000_0000;
        /// V: `NTLMSSP_NEGOTIATE_KEY_EXCH`, explicit key exchange.
        const NEGOTIATE_KEY_EXCH = 0x4000_0000;
        /// W: `NTLMSSP_NEGOTIATE_56`, 56-bit session key.
        const NEGOTIATE_56 = 0x8000_0000;
    }
}

/// Name, spec letter and value of every bit, lowest bit first.
///
/// Names are the MS-NLMP names without the `NTLMSSP_`/`NTLM_` prefix; reserved
/// bits are `R1`…`R10` as in the specification's diagram.
pub const FLAG_TABLE: [(&str, &str, u32); 32] = [
    ("NEGOTIATE_UNICODE", "A", 0x0000_0001),
    ("NEGOTIATE_OEM", "B", 0x0000_0002),
    ("REQUEST_TARGET", "C", 0x0000_0004),
    ("R10", "r10", 0x0000_0008),
    ("NEGOTIATE_SIGN", "D", 0x0000_0010),
    ("NEGOTIATE_SEAL", "E", 0x0000_0020),
    ("NEGOTIATE_DATAGRAM", "F", 0x0000_0040),
    ("NEGOTIATE_LM_KEY", "G", 0x0000_0080),
    ("R9", "r9", 0x0000_0100),
    ("NEGOTIATE_NTLM", "H", 0x0000_0200),
    ("R8", "r8", 0x0000_0400),
    ("NEGOTIATE_ANONYMOUS", "J", 0x0000_0800),
    ("NEGOTIATE_OEM_DOMAIN_SUPPLIED", "K", 0x0000_1000),
    ("NEGOTIATE_OEM_WORKSTATION_SUPPLIED", "L", 0x0000_2000),
    ("R7", "r7", 0x0000_4000),
    ("NEGOTIATE_ALWAYS_SIGN", "M", 0x0000_8000),
    ("TARGET_TYPE_DOMAIN", "N", 0x0001_0000),
    ("TARGET_TYPE_SERVER", "O", 0x0002_0000),
    ("R6", "r6", 0x0004_0000),
    ("NEGOTIATE_EXTENDED_SESSIONSECURITY", "P", 0x0008_0000),
    ("NEGOTIATE_IDENTIFY", "Q", 0x0010_0000),
    ("R5", "r5", 0x0020_0000),
    ("REQUEST_NON_NT_SESSION_KEY", "R", 0x0040_0000),
    ("NEGOTIATE_TARGET_INFO", "S", 0x0080_0000),
    ("R4", "r4", 0x0100_0000),
    ("NEGOTIATE_VERSION", "T", 0x0200_0000),
    ("R3", "r3", 0x0400_0000),
    ("R2", "r2", 0x0800_0000),
    ("R1", "r1", 0x1000_0000),
    ("NEGOTIATE_128", "U", 0x2000_0000),
    ("NEGOTIATE_KEY_EXCH", "V", 0x4000_0000),
    ("NEGOTIATE_56", "W", 0x8000_0000),
];

impl NegotiateFlags {
    /// Every reserved bit (`r1`…`r10`).
    pub const RESERVED: Self = Self::from_bits_retain(
        Self::R1.bits()
            | Self::R2.bits()
            | Self::R3.bits()
            | Self::R4.bits()
            | Self::R5.bits()
            | Self::R6.bits()
            | Self::R7.bits()
            | Self::R8.bits()
            | Self::R9.bits()
            | Self::R10.bits(),
    );

    /// The names of the set bits, lowest bit first (see [`FLAG_TABLE`]).
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        FLAG_TABLE
            .iter()
            .filter(move |(_, _, v)| self.bits() & v != 0)
            .map(|(n, _, _)| *n)
    }

    /// Looks a flag up by name: with or without the `NTLMSSP_`/`NTLM_`
    /// prefix, any case, or by its MS-NLMP letter (`A`…`W`, `r1`…`r10`).
    pub fn from_any_name(name: &str) -> Option<Self> {
        let upper = name.trim().to_ascii_uppercase();
        let bare = upper
            .strip_prefix("NTLMSSP_")
            .or_else(|| upper.strip_prefix("NTLM_"))
            .unwrap_or(&upper);
        FLAG_TABLE
            .iter()
            .find(|(n, letter, _)| {
                *n == bare
                    || n.strip_prefix("NEGOTIATE_") == Some(bare)
                    || (name.trim().len() <= 3 && *letter == name.trim())
            })
            .map(|(_, _, v)| Self::from_bits_retain(*v))
    }

    /// The character set these flags select (MS-NLMP 2.2.2.5, flags A and B).
    ///
    /// `None` when neither UNICODE nor OEM is set, which the specification
    /// answers with `SEC_E_INVALID_TOKEN`.
    pub fn charset(self) -> Option<Charset> {
        if self.contains(Self::NEGOTIATE_UNICODE) {
            Some(Charset::Unicode)
        } else if self.contains(Self::NEGOTIATE_OEM) {
            Some(Charset::Oem)
        } else {
            None
        }
    }
}

impl fmt::Debug for NegotiateFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NegotiateFlags({:#010x}", self.bits())?;
        let mut sep = ": ";
        for name in self.names() {
            write!(f, "{sep}{name}")?;
            sep = " | ";
        }
        f.write_str(")")
    }
}

impl fmt::Display for NegotiateFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x}", self.bits())
    }
}

/// How the strings of a CHALLENGE or AUTHENTICATE message are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Charset {
    /// UTF-16LE, no BOM, no terminator.
    Unicode,
    /// The OEM code page (not carried on the wire; treated as bytes).
    Oem,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_covers_every_bit_once() {
        let mut all = 0u32;
        for (i, (_, _, v)) in FLAG_TABLE.iter().enumerate() {
            assert_eq!(*v, 1u32 << i);
            all |= v;
        }
        assert_eq!(all, u32::MAX);
        assert_eq!(NegotiateFlags::all().bits(), u32::MAX);
    }

    #[test]
    fn table_matches_constants() {
        // The bitflags constant names are the table names.
        let mut n = 0;
        for (name, value) in NegotiateFlags::all().iter_names() {
            let entry = FLAG_TABLE
                .iter()
                .find(|(_, _, v)| *v == value.bits())
                .unwrap();
            assert_eq!(entry.0, name);
            assert_eq!(NegotiateFlags::from_any_name(name), Some(value));
            n += 1;
        }
        assert_eq!(n, 32);
    }

    #[test]
    fn retains_unknown_flag_bits() {
        let f = NegotiateFlags::from_bits_retain(0xffff_ffff);
        assert_eq!(f.bits(), 0xffff_ffff);
        assert_eq!(f.names().count(), 32);
    }

    #[test]
    fn names_of_spec_challenge_flags() {
        // MS-NLMP 4.2.4: 0xe28a8233
        let f = NegotiateFlags::from_bits_retain(0xe28a_8233);
        let names: Vec<_> = f.names().collect();
        assert_eq!(
            names,
            [
                "NEGOTIATE_UNICODE",
                "NEGOTIATE_OEM",
                "NEGOTIATE_SIGN",
                "NEGOTIATE_SEAL",
                "NEGOTIATE_NTLM",
                "NEGOTIATE_ALWAYS_SIGN",
                "TARGET_TYPE_SERVER",
                "NEGOTIATE_EXTENDED_SESSIONSECURITY",
                "NEGOTIATE_TARGET_INFO",
                "NEGOTIATE_VERSION",
                "NEGOTIATE_128",
                "NEGOTIATE_KEY_EXCH",
                "NEGOTIATE_56",
            ]
        );
    }

    #[test]
    fn from_name_accepts_prefixes_and_letters() {
        assert_eq!(
            NegotiateFlags::from_any_name("NTLMSSP_NEGOTIATE_128"),
            Some(NegotiateFlags::NEGOTIATE_128)
        );
        assert_eq!(
            NegotiateFlags::from_any_name("ntlm_negotiate_oem"),
            Some(NegotiateFlags::NEGOTIATE_OEM)
        );
        assert_eq!(
            NegotiateFlags::from_any_name("seal"),
            Some(NegotiateFlags::NEGOTIATE_SEAL)
        );
        assert_eq!(
            NegotiateFlags::from_any_name("P"),
            Some(NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY)
        );
        assert_eq!(
            NegotiateFlags::from_any_name("r7"),
            Some(NegotiateFlags::R7)
        );
        assert_eq!(NegotiateFlags::from_any_name("bogus"), None);
    }

    #[test]
    fn debug_lists_names() {
        let f = NegotiateFlags::NEGOTIATE_SIGN | NegotiateFlags::R1;
        assert_eq!(
            format!("{f:?}"),
            "NegotiateFlags(0x10000010: NEGOTIATE_SIGN | R1)"
        );
    }
}
