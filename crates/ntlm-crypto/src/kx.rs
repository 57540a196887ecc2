//! KXKEY, key exchange, SIGNKEY and SEALKEY (MS-NLMP 3.4.5, 3.1.5.1.2,
//! 3.2.5.1.2).

use ntlm_wire::NegotiateFlags;

use crate::chunk;
use crate::error::CryptoError;
use crate::keys::{
    ExportedSessionKey, HmacMd5Key, KeyExchangeKey, SealingKey, SessionBaseKey, SigningKey, md5,
};
use crate::legacy::{LmHash, Rc4, lm_key_exchange_key};

/// The direction a key protects (MS-NLMP 3.4.5.2, 3.4.5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client to server: the "client-to-server" magic constants.
    ClientToServer,
    /// Server to client: the "server-to-client" magic constants.
    ServerToClient,
}

impl Direction {
    /// The other direction.
    pub const fn reverse(self) -> Self {
        match self {
            Self::ClientToServer => Self::ServerToClient,
            Self::ServerToClient => Self::ClientToServer,
        }
    }
}

/// The response family that authenticated, with what KXKEY needs from it
/// (MS-NLMP 3.4.5.1).
#[derive(Debug, Clone, Copy)]
pub enum KxKeyInput<'a> {
    /// NTLMv2 (and LMv2): KeyExchangeKey = SessionBaseKey.
    NtlmV2,
    /// NTLMv1, with or without extended session security.
    NtlmV1 {
        /// CHALLENGE_MESSAGE.ServerChallenge.
        server_challenge: &'a [u8; 8],
        /// LmChallengeResponse as sent: its first 8 bytes are used.
        lm_response: &'a [u8],
        /// LMOWFv1, needed only for LM_KEY and REQUEST_NON_NT_SESSION_KEY.
        lm_hash: Option<&'a LmHash>,
    },
}

/// KXKEY (MS-NLMP 3.4.5.1).
///
/// NTLMv1, in order:
/// - with EXTENDED_SESSIONSECURITY:
///   `HMAC_MD5(SessionBaseKey, ServerChallenge ‖ LmChallengeResponse[0..7])`;
/// - with LM_KEY: `DES(LMOWF[0..6], LM[0..7]) ‖ DES(LMOWF[7] ‖ 0xBDBDBDBDBDBD, LM[0..7])`;
/// - with REQUEST_NON_NT_SESSION_KEY: `LMOWF[0..7] ‖ Z(8)`;
/// - else the SessionBaseKey.
///
/// NTLMv2: the SessionBaseKey.
pub fn kxkey(
    flags: NegotiateFlags,
    session_base_key: &SessionBaseKey,
    input: KxKeyInput<'_>,
) -> Result<KeyExchangeKey, CryptoError> {
    let KxKeyInput::NtlmV1 {
        server_challenge,
        lm_response,
        lm_hash,
    } = input
    else {
        return Ok(KeyExchangeKey::from_bytes(*session_base_key.as_bytes()));
    };
    let lm_head: [u8; 8] =
        lm_response
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .ok_or(CryptoError::TooShort {
                field: "LmChallengeResponse",
                min: 8,
                got: lm_response.len(),
            })?;
    if flags.contains(NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY) {
        let k =
            HmacMd5Key::new(session_base_key.as_bytes()).mac_last(&[server_challenge, &lm_head]);
        return Ok(KeyExchangeKey::from_bytes(k));
    }
    if flags.contains(NegotiateFlags::NEGOTIATE_LM_KEY) {
        let lm = lm_hash.ok_or(CryptoError::LmHashRequired)?;
        return Ok(KeyExchangeKey::from_bytes(lm_key_exchange_key(
            lm, &lm_head,
        )));
    }
    if flags.contains(NegotiateFlags::REQUEST_NON_NT_SESSION_KEY) {
        let lm = lm_hash.ok_or(CryptoError::LmHashRequired)?;
        let mut k = [0u8; 16];
        let (head, _) = k.split_at_mut(8);
        head.copy_from_slice(&chunk::<8>(lm.as_bytes(), 0));
        return Ok(KeyExchangeKey::from_bytes(k));
    }
    Ok(KeyExchangeKey::from_bytes(*session_base_key.as_bytes()))
}

/// When a peer's ExportedSessionKey is a fresh random key sent encrypted
/// (the EncryptedRandomSessionKey). Real implementations disagree when
/// KEY_EXCH is negotiated without SIGN or SEAL, and the two sides then end
/// with different keys; see `docs/POLICY.md` ("Key exchange").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum KeyExchange {
    /// Whenever KEY_EXCH is negotiated. MS-NLMP 3.2.5.1.2 prose ("If
    /// NTLMSSP_NEGOTIATE_KEY_EXCH is set, the server MUST check if the client
    /// supplied a valid EncryptedRandomSessionKey"); Samba 4.17 both sides
    /// (auth/ntlmssp/ntlmssp_client.c ntlmssp_client_challenge(),
    /// ntlmssp_server.c ntlmssp_server_postauth()); gss-ntlmssp's client
    /// (`key_exch = (in_flags & NTLMSSP_NEGOTIATE_KEY_EXCH)`).
    #[default]
    Negotiated,
    /// Only when KEY_EXCH and SIGN or SEAL are negotiated: the MS-NLMP
    /// 3.1.5.1.2 / 3.2.5.1.2 pseudocode; pyspnego 0.12 both sides
    /// (src/spnego/_ntlm.py; its client then sends a 1-byte placeholder).
    WithSignOrSeal,
    /// Never: the ExportedSessionKey is the KeyExchangeKey and nothing is
    /// sent, whatever the flags say (curl 7.88, which copies KEY_EXCH from
    /// the CHALLENGE and sends an empty field; observed).
    Never,
}

impl KeyExchange {
    /// Whether, under this rule, the negotiated `flags` call for a key exchange.
    pub fn applies(self, flags: NegotiateFlags) -> bool {
        match self {
            Self::Negotiated => flags.contains(NegotiateFlags::NEGOTIATE_KEY_EXCH),
            Self::WithSignOrSeal => key_exchange_applies(flags),
            Self::Never => false,
        }
    }

    /// The name used in profiles and reports: `negotiated`, `sign-or-seal`, `never`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Negotiated => "negotiated",
            Self::WithSignOrSeal => "sign-or-seal",
            Self::Never => "never",
        }
    }
}

/// True when KEY_EXCH and (SIGN or SEAL) are negotiated: the condition of
/// the MS-NLMP 3.1.5.1.2 and 3.2.5.1.2 pseudocode
/// ([`KeyExchange::WithSignOrSeal`]).
pub fn key_exchange_applies(flags: NegotiateFlags) -> bool {
    flags.contains(NegotiateFlags::NEGOTIATE_KEY_EXCH)
        && flags.intersects(NegotiateFlags::NEGOTIATE_SIGN | NegotiateFlags::NEGOTIATE_SEAL)
}

/// EncryptedRandomSessionKey = RC4K(KeyExchangeKey, ExportedSessionKey).
pub fn encrypt_session_key(
    key_exchange_key: &KeyExchangeKey,
    exported_session_key: &ExportedSessionKey,
) -> [u8; 16] {
    let mut out = *exported_session_key.as_bytes();
    Rc4::schedule(key_exchange_key.as_bytes()).apply_keystream(&mut out);
    out
}

/// ExportedSessionKey = RC4K(KeyExchangeKey, EncryptedRandomSessionKey); the
/// encrypted key must be exactly 16 bytes (MS-NLMP 3.2.5.1.2; Samba returns
/// NT_STATUS_INVALID_PARAMETER for any other length).
pub fn decrypt_session_key(
    key_exchange_key: &KeyExchangeKey,
    encrypted: &[u8],
) -> Result<ExportedSessionKey, CryptoError> {
    let mut k: [u8; 16] = encrypted.try_into().map_err(|_| CryptoError::Length {
        field: "EncryptedRandomSessionKey",
        expected: 16,
        got: encrypted.len(),
    })?;
    Rc4::schedule(key_exchange_key.as_bytes()).apply_keystream(&mut k);
    Ok(ExportedSessionKey::from_bytes(k))
}

/// Client side (MS-NLMP 3.1.5.1.2): when `rule` applies to `flags`, the
/// ExportedSessionKey is the caller's 16 random bytes and the second value
/// is the EncryptedRandomSessionKey to send; otherwise the
/// ExportedSessionKey is the KeyExchangeKey and nothing is sent (`random` is
/// unused).
pub fn client_exported_session_key(
    rule: KeyExchange,
    flags: NegotiateFlags,
    key_exchange_key: &KeyExchangeKey,
    random: [u8; 16],
) -> (ExportedSessionKey, Option<[u8; 16]>) {
    if rule.applies(flags) {
        let esk = ExportedSessionKey::from_bytes(random);
        let enc = encrypt_session_key(key_exchange_key, &esk);
        (esk, Some(enc))
    } else {
        (
            ExportedSessionKey::from_bytes(*key_exchange_key.as_bytes()),
            None,
        )
    }
}

/// Server side (MS-NLMP 3.2.5.1.2): when `rule` applies to `flags`, decrypts
/// the EncryptedRandomSessionKey, which must be present and 16 bytes (else
/// the specification returns SEC_E_INVALID_TOKEN, Samba
/// NT_STATUS_INVALID_PARAMETER); otherwise the ExportedSessionKey is the
/// KeyExchangeKey and the field is ignored.
pub fn server_exported_session_key(
    rule: KeyExchange,
    flags: NegotiateFlags,
    key_exchange_key: &KeyExchangeKey,
    encrypted: Option<&[u8]>,
) -> Result<ExportedSessionKey, CryptoError> {
    if rule.applies(flags) {
        decrypt_session_key(key_exchange_key, encrypted.unwrap_or_default())
    } else {
        Ok(ExportedSessionKey::from_bytes(*key_exchange_key.as_bytes()))
    }
}

/// The SIGNKEY and SEALKEY magic constants, NUL terminator included
/// (MS-NLMP 3.4.5.2, 3.4.5.3; the 4.2.3.4 and 4.2.4.4 values need the NUL).
const CLIENT_SIGNING: &[u8] = b"session key to client-to-server signing key magic constant\0";
const SERVER_SIGNING: &[u8] = b"session key to server-to-client signing key magic constant\0";
const CLIENT_SEALING: &[u8] = b"session key to client-to-server sealing key magic constant\0";
const SERVER_SEALING: &[u8] = b"session key to server-to-client sealing key magic constant\0";

/// NTLMRevisionCurrent (MS-NLMP 2.2.2.10): NTLMSSP_REVISION_W2K3, the
/// revision this implementation speaks. SEALKEY weakens a DATAGRAM key only
/// from this revision on (MS-NLMP 3.4.5.3).
pub const NTLM_REVISION_CURRENT: u8 = 0x0f;

/// SIGNKEY (MS-NLMP 3.4.5.2): MD5(ExportedSessionKey ‖ magic constant).
///
/// Only meaningful with extended session security; without it there is no
/// signing key (the signature is a CRC32).
pub fn signing_key(exported_session_key: &ExportedSessionKey, direction: Direction) -> SigningKey {
    let magic = match direction {
        Direction::ClientToServer => CLIENT_SIGNING,
        Direction::ServerToClient => SERVER_SIGNING,
    };
    SigningKey::from_bytes(md5(&[exported_session_key.as_bytes(), magic]))
}

/// The bytes of the ExportedSessionKey that the extended-session-security
/// SEALKEY hashes (MS-NLMP 3.4.5.3): all 16 with NEGOTIATE_128, the first 7
/// with NEGOTIATE_56, else the first 5 (40 bits).
pub fn ess_sealing_key_input(
    exported_session_key: &ExportedSessionKey,
    flags: NegotiateFlags,
) -> &[u8] {
    let k = exported_session_key.as_bytes();
    let n = if flags.contains(NegotiateFlags::NEGOTIATE_128) {
        16
    } else if flags.contains(NegotiateFlags::NEGOTIATE_56) {
        7
    } else {
        5
    };
    k.get(..n).unwrap_or(k)
}

/// SEALKEY (MS-NLMP 3.4.5.3).
///
/// - Extended session security: MD5(key ‖ magic constant) of the truncated
///   key of [`ess_sealing_key_input`], per direction.
/// - Else with LM_KEY, or DATAGRAM (at [`NTLM_REVISION_CURRENT`]): the
///   weakened 8-byte key ExportedSessionKey[0..6] ‖ 0xA0 with NEGOTIATE_56,
///   else ExportedSessionKey[0..4] ‖ 0xE5 0x38 0xB0, for both directions.
/// - Else the full ExportedSessionKey for both directions (the pseudocode
///   and the 4.2.2.4 vector; the prose's "40 or 56 bits" does not apply).
pub fn sealing_key(
    exported_session_key: &ExportedSessionKey,
    flags: NegotiateFlags,
    direction: Direction,
) -> SealingKey {
    let k = exported_session_key.as_bytes();
    if flags.contains(NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY) {
        let magic = match direction {
            Direction::ClientToServer => CLIENT_SEALING,
            Direction::ServerToClient => SERVER_SEALING,
        };
        SealingKey::full(md5(&[
            ess_sealing_key_input(exported_session_key, flags),
            magic,
        ]))
    } else if flags.contains(NegotiateFlags::NEGOTIATE_LM_KEY)
        || (flags.contains(NegotiateFlags::NEGOTIATE_DATAGRAM) && NTLM_REVISION_CURRENT >= 0x0f)
    {
        let mut w: [u8; 8] = chunk(k, 0);
        if flags.contains(NegotiateFlags::NEGOTIATE_56) {
            w[7] = 0xa0;
        } else {
            w[5] = 0xe5;
            w[6] = 0x38;
            w[7] = 0xb0;
        }
        SealingKey::weakened(w)
    } else {
        SealingKey::full(*k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ESK: ExportedSessionKey = ExportedSessionKey::from_bytes([0x55; 16]);

    #[test]
    fn direction_reverses() {
        assert_eq!(
            Direction::ClientToServer.reverse(),
            Direction::ServerToClient
        );
        assert_eq!(
            Direction::ServerToClient.reverse(),
            Direction::ClientToServer
        );
    }

    #[test]
    fn key_exchange_rules() {
        let kx = NegotiateFlags::NEGOTIATE_KEY_EXCH;
        let sign = NegotiateFlags::NEGOTIATE_SIGN;
        let seal = NegotiateFlags::NEGOTIATE_SEAL;
        assert!(!key_exchange_applies(kx));
        assert!(key_exchange_applies(kx | sign));
        assert!(key_exchange_applies(kx | seal));
        assert!(!key_exchange_applies(sign));
        for (rule, alone, with_sign, without_kx) in [
            (KeyExchange::Negotiated, true, true, false),
            (KeyExchange::WithSignOrSeal, false, true, false),
            (KeyExchange::Never, false, false, false),
        ] {
            assert_eq!(rule.applies(kx), alone, "{}", rule.name());
            assert_eq!(rule.applies(kx | sign), with_sign, "{}", rule.name());
            assert_eq!(rule.applies(sign | seal), without_kx, "{}", rule.name());
        }
        assert_eq!(KeyExchange::default(), KeyExchange::Negotiated);

        let kxk = KeyExchangeKey::from_bytes([7; 16]);
        // KEY_EXCH alone: the pseudocode's rule sends nothing and ignores the field.
        let (esk, enc) =
            client_exported_session_key(KeyExchange::WithSignOrSeal, kx, &kxk, [9; 16]);
        assert_eq!(esk.as_bytes(), &[7; 16]);
        assert_eq!(enc, None);
        assert_eq!(
            server_exported_session_key(KeyExchange::WithSignOrSeal, kx, &kxk, Some(&[1; 3]))
                .unwrap(),
            esk
        );
        // Samba's rule exchanges a key with KEY_EXCH alone, and needs one.
        let (esk, enc) = client_exported_session_key(KeyExchange::Negotiated, kx, &kxk, [9; 16]);
        assert_eq!(esk.as_bytes(), &[9; 16]);
        let enc = enc.unwrap();
        assert_eq!(
            server_exported_session_key(KeyExchange::Negotiated, kx, &kxk, Some(&enc)).unwrap(),
            esk
        );
        assert!(
            server_exported_session_key(KeyExchange::Negotiated, kx, &kxk, Some(&[1; 3])).is_err()
        );
        // Never: curl's empty field, whatever the flags.
        let (esk, enc) = client_exported_session_key(KeyExchange::Never, kx | seal, &kxk, [9; 16]);
        assert_eq!((esk.as_bytes(), enc), (&[7; 16], None));

        let f = kx | sign;
        for rule in [KeyExchange::Negotiated, KeyExchange::WithSignOrSeal] {
            let (esk, enc) = client_exported_session_key(rule, f, &kxk, [9; 16]);
            assert_eq!(esk.as_bytes(), &[9; 16]);
            let enc = enc.unwrap();
            assert_eq!(
                server_exported_session_key(rule, f, &kxk, Some(&enc)).unwrap(),
                esk
            );
            assert_eq!(
                server_exported_session_key(rule, f, &kxk, None),
                Err(CryptoError::Length {
                    field: "EncryptedRandomSessionKey",
                    expected: 16,
                    got: 0
                })
            );
            assert!(server_exported_session_key(rule, f, &kxk, Some(&enc[..15])).is_err());
        }
    }

    #[test]
    fn kxkey_lm_branches_need_the_lm_hash() {
        let sbk = SessionBaseKey::from_bytes([1; 16]);
        let input = KxKeyInput::NtlmV1 {
            server_challenge: &[0; 8],
            lm_response: &[0; 24],
            lm_hash: None,
        };
        for f in [
            NegotiateFlags::NEGOTIATE_LM_KEY,
            NegotiateFlags::REQUEST_NON_NT_SESSION_KEY,
        ] {
            assert_eq!(kxkey(f, &sbk, input), Err(CryptoError::LmHashRequired));
        }
        assert_eq!(
            kxkey(NegotiateFlags::empty(), &sbk, input)
                .unwrap()
                .as_bytes(),
            &[1; 16]
        );
        let short = KxKeyInput::NtlmV1 {
            server_challenge: &[0; 8],
            lm_response: &[0; 7],
            lm_hash: None,
        };
        assert!(matches!(
            kxkey(NegotiateFlags::empty(), &sbk, short),
            Err(CryptoError::TooShort { .. })
        ));
        // ESS takes precedence over LM_KEY.
        let ess =
            NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY | NegotiateFlags::NEGOTIATE_LM_KEY;
        assert!(kxkey(ess, &sbk, input).is_ok());
        assert_eq!(
            kxkey(ess, &sbk, KxKeyInput::NtlmV2).unwrap().as_bytes(),
            &[1; 16]
        );
    }

    #[test]
    fn ess_key_input_truncation() {
        let n128 = NegotiateFlags::NEGOTIATE_128;
        let n56 = NegotiateFlags::NEGOTIATE_56;
        assert_eq!(ess_sealing_key_input(&ESK, n128 | n56).len(), 16);
        assert_eq!(ess_sealing_key_input(&ESK, n56).len(), 7);
        assert_eq!(
            ess_sealing_key_input(&ESK, NegotiateFlags::empty()).len(),
            5
        );
    }

    #[test]
    fn signing_keys_differ_by_direction() {
        assert_ne!(
            signing_key(&ESK, Direction::ClientToServer),
            signing_key(&ESK, Direction::ServerToClient)
        );
    }
}
