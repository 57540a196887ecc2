//! VERSION (MS-NLMP 2.2.2.10).

use core::fmt;

/// The 8-byte VERSION structure (MS-NLMP 2.2.2.10). Debug information only,
/// but covered by the MIC, so every byte (reserved ones included) is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Version {
    /// ProductMajorVersion (Windows: 5, 6, 10).
    pub major: u8,
    /// ProductMinorVersion.
    pub minor: u8,
    /// ProductBuild.
    pub build: u16,
    /// Reserved, SHOULD be zero; kept as received.
    pub reserved: [u8; 3],
    /// NTLMRevisionCurrent (15 = `NTLMSSP_REVISION_W2K3`).
    pub revision: u8,
}

impl Version {
    /// Encoded size.
    pub const LEN: usize = 8;
    /// `NTLMSSP_REVISION_W2K3`.
    pub const NTLMSSP_REVISION_W2K3: u8 = 0x0f;

    /// A Version with zero reserved bytes and revision 15.
    pub const fn new(major: u8, minor: u8, build: u16) -> Self {
        Self {
            major,
            minor,
            build,
            reserved: [0; 3],
            revision: Self::NTLMSSP_REVISION_W2K3,
        }
    }

    /// Decodes the 8 bytes.
    pub const fn from_bytes(b: [u8; 8]) -> Self {
        Self {
            major: b[0],
            minor: b[1],
            build: u16::from_le_bytes([b[2], b[3]]),
            reserved: [b[4], b[5], b[6]],
            revision: b[7],
        }
    }

    /// Encodes the 8 bytes.
    pub const fn to_bytes(self) -> [u8; 8] {
        let build = self.build.to_le_bytes();
        [
            self.major,
            self.minor,
            build[0],
            build[1],
            self.reserved[0],
            self.reserved[1],
            self.reserved[2],
            self.revision,
        ]
    }

    /// True when every byte is zero (the value sent when VERSION is not negotiated).
    pub const fn is_zero(self) -> bool {
        u64::from_le_bytes(self.to_bytes()) == 0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}.{} (NTLM revision {})",
            self.major, self.minor, self.build, self.revision
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_spec_version() {
        let b = [0x06, 0x00, 0x70, 0x17, 0x00, 0x00, 0x00, 0x0f];
        let v = Version::from_bytes(b);
        assert_eq!(v, Version::new(6, 0, 6000));
        assert_eq!(v.to_bytes(), b);
        assert_eq!(v.to_string(), "6.0.6000 (NTLM revision 15)");
        assert!(Version::default().is_zero());
    }
}
