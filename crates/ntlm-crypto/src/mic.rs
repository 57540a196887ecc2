//! The AUTHENTICATE_MESSAGE MIC (MS-NLMP 3.1.5.1.2, 3.2.5.1.2).

use core::fmt;

use ntlm_wire::{MIC_LEN, MIC_OFFSET};
use subtle::{Choice, ConstantTimeEq};

use crate::error::CryptoError;
use crate::keys::{ExportedSessionKey, HmacMd5Key};

/// A MIC value. It travels in clear in the AUTHENTICATE message, so `Debug`
/// shows it; equality is constant-time.
#[derive(Clone, Copy)]
pub struct Mic([u8; 16]);

impl Mic {
    /// Wraps 16 bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The 16 bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl ConstantTimeEq for Mic {
    fn ct_eq(&self, other: &Self) -> Choice {
        crate::ct_eq16(&self.0, &other.0)
    }
}

impl PartialEq for Mic {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Mic {}

impl fmt::Debug for Mic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Mic(")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE_MESSAGE ‖ CHALLENGE_MESSAGE ‖
/// AUTHENTICATE_MESSAGE), the last with its MIC field already zeroed
/// (MS-NLMP 3.1.5.1.2). All three are the exact bytes sent, Version fields
/// included.
pub fn mic(
    exported_session_key: &ExportedSessionKey,
    negotiate: &[u8],
    challenge: &[u8],
    authenticate_zeroed_mic: &[u8],
) -> Mic {
    Mic(HmacMd5Key::new(exported_session_key.as_bytes()).mac_last(&[
        negotiate,
        challenge,
        authenticate_zeroed_mic,
    ]))
}

/// A received AUTHENTICATE message split around its MIC field.
struct MicParts<'a> {
    head: &'a [u8],
    field: [u8; MIC_LEN],
    tail: &'a [u8],
}

/// Splits a received AUTHENTICATE message around its MIC field (bytes 72..87).
fn split_mic(authenticate: &[u8]) -> Result<MicParts<'_>, CryptoError> {
    let too_short = CryptoError::TooShort {
        field: "AUTHENTICATE_MESSAGE",
        min: MIC_OFFSET + MIC_LEN,
        got: authenticate.len(),
    };
    let (head, rest) = authenticate.split_at_checked(MIC_OFFSET).ok_or(too_short)?;
    let (field, tail) = rest.split_at_checked(MIC_LEN).ok_or(too_short)?;
    let field = field.try_into().map_err(|_| too_short)?;
    Ok(MicParts { head, field, tail })
}

/// The MIC of a *received* AUTHENTICATE message: computed as if its MIC field
/// (bytes 72..87) were Z(16), without copying the message.
pub fn mic_of_received(
    exported_session_key: &ExportedSessionKey,
    negotiate: &[u8],
    challenge: &[u8],
    authenticate: &[u8],
) -> Result<Mic, CryptoError> {
    let MicParts { head, tail, .. } = split_mic(authenticate)?;
    Ok(Mic(HmacMd5Key::new(exported_session_key.as_bytes())
        .mac_last(&[
            negotiate,
            challenge,
            head,
            &[0; MIC_LEN],
            tail,
        ])))
}

/// Server side (MS-NLMP 3.2.5.1.2): computes the MIC of the received
/// AUTHENTICATE message with its MIC field zeroed and compares it in constant
/// time with the MIC field.
pub fn verify_mic(
    exported_session_key: &ExportedSessionKey,
    negotiate: &[u8],
    challenge: &[u8],
    authenticate: &[u8],
) -> Result<(), CryptoError> {
    let received = split_mic(authenticate)?.field;
    let expected = mic_of_received(exported_session_key, negotiate, challenge, authenticate)?;
    if bool::from(expected.ct_eq(&Mic(received))) {
        Ok(())
    } else {
        Err(CryptoError::MicMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_and_zeroed_forms_agree() {
        let esk = ExportedSessionKey::from_bytes([3; 16]);
        let mut auth: Vec<u8> = (0..120u8).collect();
        let zeroed = ntlm_wire::with_zeroed_mic(&auth).unwrap();
        let m = mic(&esk, b"neg", b"chal", &zeroed);
        assert_eq!(mic_of_received(&esk, b"neg", b"chal", &auth).unwrap(), m);
        assert_eq!(
            verify_mic(&esk, b"neg", b"chal", &auth),
            Err(CryptoError::MicMismatch)
        );
        auth[MIC_OFFSET..MIC_OFFSET + MIC_LEN].copy_from_slice(m.as_bytes());
        verify_mic(&esk, b"neg", b"chal", &auth).unwrap();
        assert_eq!(
            verify_mic(&esk, b"neg", b"chal", &auth[..87]),
            Err(CryptoError::TooShort {
                field: "AUTHENTICATE_MESSAGE",
                min: 88,
                got: 87
            })
        );
        assert_eq!(
            format!("{:?}", Mic::from_bytes([0xab; 16])),
            format!("Mic({})", "ab".repeat(16))
        );
    }
}
