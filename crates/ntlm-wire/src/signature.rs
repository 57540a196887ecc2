//! NTLMSSP_MESSAGE_SIGNATURE (MS-NLMP 2.2.2.9).

use crate::codec::Reader;
use crate::error::DecodeError;

/// [2.2.2.9] NTLMSSP_MESSAGE_SIGNATURE, 16 bytes in both forms:
///
/// - without extended session security (2.2.2.9.1): Version ‖ RandomPad(4) ‖
///   Checksum(4) (CRC32) ‖ SeqNum, the last three RC4-encrypted;
/// - with extended session security (2.2.2.9.2): Version ‖ Checksum(8)
///   (HMAC-MD5 prefix) ‖ SeqNum.
///
/// Bytes 4..12 are one 8-byte span in both; the views below split it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageSignature {
    /// Version: MUST be 1.
    pub version: u32,
    /// Bytes 4..12: RandomPad ‖ Checksum (no ESS) or Checksum (ESS).
    pub checksum: [u8; 8],
    /// SeqNum.
    pub seq_num: u32,
}

impl MessageSignature {
    /// Encoded size.
    pub const LEN: usize = 16;

    /// Parses 16 bytes.
    pub fn parse(b: &[u8]) -> Result<Self, DecodeError> {
        if b.len() != Self::LEN {
            return Err(DecodeError::invalid(
                "NTLMSSP_MESSAGE_SIGNATURE",
                0,
                "exactly 16 bytes",
            ));
        }
        let mut r = Reader::new(b);
        Ok(Self {
            version: r.u32("NTLMSSP_MESSAGE_SIGNATURE.Version")?,
            checksum: r.array("NTLMSSP_MESSAGE_SIGNATURE.Checksum")?,
            seq_num: r.u32("NTLMSSP_MESSAGE_SIGNATURE.SeqNum")?,
        })
    }

    /// Encodes the 16 bytes.
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        let (v, rest) = out.split_at_mut(4);
        let (c, s) = rest.split_at_mut(8);
        v.copy_from_slice(&self.version.to_le_bytes());
        c.copy_from_slice(&self.checksum);
        s.copy_from_slice(&self.seq_num.to_le_bytes());
        out
    }

    /// Without ESS: the RandomPad (bytes 4..8).
    pub fn random_pad(&self) -> [u8; 4] {
        let [a, b, c, d, ..] = self.checksum;
        [a, b, c, d]
    }

    /// Without ESS: the (encrypted) CRC32 checksum (bytes 8..12).
    pub fn crc_checksum(&self) -> [u8; 4] {
        let [.., a, b, c, d] = self.checksum;
        [a, b, c, d]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_signatures_round_trip() {
        // MS-NLMP 4.2.2.4 (as printed) and 4.2.4.4.
        for h in [
            "0100000045c844e509dcd1df2e459d36",
            "010000007fb38ec5c55d497600000000",
        ] {
            let b = hex::decode(h).unwrap();
            let s = MessageSignature::parse(&b).unwrap();
            assert_eq!(s.version, 1);
            assert_eq!(s.to_bytes().to_vec(), b);
        }
        let s = MessageSignature::parse(&hex::decode("0100000045c844e509dcd1df2e459d36").unwrap())
            .unwrap();
        assert_eq!(s.random_pad(), [0x45, 0xc8, 0x44, 0xe5]);
        assert_eq!(s.crc_checksum(), [0x09, 0xdc, 0xd1, 0xdf]);
        assert_eq!(s.seq_num, 0x369d_452e);
        assert!(MessageSignature::parse(&[1; 15]).is_err());
    }
}
