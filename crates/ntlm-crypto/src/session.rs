//! Session security: sign, verify, seal and unseal (MS-NLMP 3.4).
//!
//! [`SessionSecurity`] holds what MS-NLMP 3.4 calls the handles, keys and
//! sequence numbers of one side of an established session:
//!
//! - With extended session security: a signing key, a sealing key, an RC4
//!   handle and a sequence number *per direction* (MS-NLMP 3.4.4.2).
//! - Without it: one sealing key, one RC4 handle and one sequence number
//!   shared by both directions, in half-duplex mode (MS-NLMP 3.4: "only one
//!   key is used for sealing … operations are performed in a half-duplex
//!   mode"; Samba's NTLMv1 path keeps one `seal_state` and one `seq_num`).
//! - Connectionless (DATAGRAM): the caller supplies each sequence number and
//!   the RC4 handle is re-keyed for every message with
//!   MD5(SealingKey ‖ SeqNum) (MS-NLMP 3.4).
//! - Neither SIGN nor SEAL: no keys; with ALWAYS_SIGN, signatures are the
//!   dummy `01 00 00 00` followed by 12 zero bytes (the behaviour observed
//!   with SSPI, as pyspnego reproduces it).
//!
//! A message that fails verification leaves the receiver exactly as it was:
//! the expected sequence number is not incremented (MS-NLMP 3.4.4) and the
//! RC4 handle is restored, so the next genuine message still verifies; an
//! unseal that fails puts the ciphertext back.

use alloc::boxed::Box;
use core::fmt;

use ntlm_wire::{MessageSignature, NegotiateFlags};
use subtle::ConstantTimeEq;

use crate::chunk;
use crate::keys::{ExportedSessionKey, HmacMd5Key, SealingKey, md5};
use crate::kx::{Direction, sealing_key, signing_key};
use crate::legacy::Rc4;

/// The ALWAYS_SIGN signature when neither SIGN nor SEAL is negotiated.
pub const DUMMY_SIGNATURE: [u8; 16] = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

/// NTLMSSP_MESSAGE_SIGNATURE.Version (MS-NLMP 2.2.2.9).
const SIGNATURE_VERSION: u32 = 1;

/// Which side of the session this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The client: sends with the client-to-server keys.
    Client,
    /// The server: sends with the server-to-client keys.
    Server,
}

impl Role {
    /// The direction of the messages this side sends.
    pub const fn outgoing(self) -> Direction {
        match self {
            Self::Client => Direction::ClientToServer,
            Self::Server => Direction::ServerToClient,
        }
    }
}

/// What a signature without extended session security carries in its
/// RandomPad field (bytes 4..7). Erratum E1: the MAC pseudocode of MS-NLMP
/// 3.4.4.1 ends with "Set RandomPad to 0", while the 4.2.2.4 example (and
/// Samba) keep RC4(Handle, RandomPad). Verification accepts either form and
/// nothing else: any other pad counts as an altered signature (stricter than
/// Samba, whose NTLMv1 verifier ignores bytes 0..7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RandomPadForm {
    /// Zero, as the pseudocode ends (pyspnego).
    #[default]
    Zeroed,
    /// RC4(Handle, 0), as printed in MS-NLMP 4.2.2.4 (Samba).
    Encrypted,
}

/// Why signing, sealing or verification failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecurityError {
    /// Signing was asked for but neither SIGN, SEAL nor ALWAYS_SIGN was
    /// negotiated.
    IntegrityNotNegotiated,
    /// Sealing was asked for but SEAL was not negotiated.
    ConfidentialityNotNegotiated,
    /// A connection-oriented call on a DATAGRAM session: connectionless
    /// messages carry the application's sequence number.
    SequenceNumberRequired,
    /// A connectionless call on a session without DATAGRAM.
    NotConnectionless,
    /// The signature's Version is not 1.
    BadVersion {
        /// The Version received.
        got: u32,
    },
    /// The signature's sequence number is not the one expected: a replayed,
    /// reordered or dropped message.
    WrongSequenceNumber {
        /// The sequence number expected.
        expected: u32,
        /// The sequence number in the signature. Without extended session
        /// security it is encrypted on the shared RC4 stream, so for a
        /// replayed or reordered message this is what it decrypts to at the
        /// expected position, not the number its sender used.
        got: u32,
    },
    /// The checksum does not match: the message or the signature was altered.
    BadChecksum,
    /// 2^32 messages were sent or received in one direction: the 32-bit
    /// sequence number cannot go on.
    SequenceExhausted,
}

impl fmt::Display for SecurityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IntegrityNotNegotiated => f.write_str("message integrity was not negotiated"),
            Self::ConfidentialityNotNegotiated => {
                f.write_str("message confidentiality was not negotiated")
            }
            Self::SequenceNumberRequired => {
                f.write_str("connectionless session: the sequence number must be supplied")
            }
            Self::NotConnectionless => f.write_str("not a connectionless (DATAGRAM) session"),
            Self::BadVersion { got } => write!(f, "signature version {got}, expected 1"),
            Self::WrongSequenceNumber { expected, got } => {
                write!(f, "sequence number {got}, expected {expected}")
            }
            Self::BadChecksum => f.write_str("signature checksum does not match the message"),
            Self::SequenceExhausted => f.write_str("sequence numbers exhausted"),
        }
    }
}

impl core::error::Error for SecurityError {}

/// A 32-bit sequence number that refuses to wrap.
#[derive(Debug, Clone, Copy)]
struct Counter(u64);

impl Counter {
    fn current(self) -> Result<u32, SecurityError> {
        u32::try_from(self.0).map_err(|_| SecurityError::SequenceExhausted)
    }

    fn advance(&mut self) {
        self.0 = self.0.saturating_add(1);
    }
}

/// One direction with extended session security.
#[derive(Clone)]
struct EssChannel {
    signing: HmacMd5Key,
    sealing: SealingKey,
    handle: Rc4,
    seq: Counter,
}

impl EssChannel {
    /// A channel with its signing key (MS-NLMP 3.4.5.2) and no sealing key
    /// or RC4 handle yet, for [`init`](Self::init) in place.
    fn unsealed(key: &ExportedSessionKey, direction: Direction) -> Self {
        Self {
            signing: HmacMd5Key::new(signing_key(key, direction).as_bytes()),
            sealing: SealingKey::full([0; 16]),
            handle: Rc4::BLANK,
            seq: Counter(0),
        }
    }

    /// Derives the sealing key and the RC4 handle of `direction` where the
    /// channel lies (inside its `Box`: the 258-byte RC4 state is not copied).
    fn init(&mut self, key: &ExportedSessionKey, flags: NegotiateFlags, direction: Direction) {
        self.sealing = sealing_key(key, flags, direction);
        self.handle.reschedule(self.sealing.as_bytes());
    }
}

/// Both directions with extended session security, in one allocation.
#[derive(Clone)]
struct EssChannels {
    key_exch: bool,
    send: EssChannel,
    recv: EssChannel,
}

#[derive(Clone)]
enum Mode {
    /// Neither SIGN nor SEAL: no keys.
    NoKeys,
    /// Extended session security (MS-NLMP 3.4.4.2).
    Ess(Box<EssChannels>),
    /// No extended session security (MS-NLMP 3.4.4.1): half duplex.
    Legacy {
        sealing: SealingKey,
        handle: Box<Rc4>,
        seq: Counter,
    },
}

/// The message an operation works on.
enum Msg<'a> {
    /// Signed or verified only.
    Plain(&'a [u8]),
    /// Sealed or unsealed in place.
    Sealed(&'a mut [u8]),
}

impl Msg<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Self::Plain(b) => b,
            Self::Sealed(b) => b,
        }
    }

    fn apply(&mut self, handle: &mut Rc4) {
        if let Self::Sealed(b) = self {
            handle.apply_keystream(b);
        }
    }

    const fn is_sealed(&self) -> bool {
        matches!(self, Self::Sealed(_))
    }
}

/// Per-message RC4 key of connectionless mode: MD5(SealingKey ‖ SeqNum).
fn datagram_handle(key: &SealingKey, seq: u32) -> Rc4 {
    Rc4::schedule(&md5(&[key.as_bytes(), &seq.to_le_bytes()]))
}

/// Sign, verify, seal and unseal for one side of a session (MS-NLMP 3.4).
///
/// Build it from the negotiated flags (those of the AUTHENTICATE message),
/// the ExportedSessionKey and the role. Secrets are zeroized on drop.
#[derive(Clone)]
pub struct SessionSecurity {
    flags: NegotiateFlags,
    role: Role,
    pad_form: RandomPadForm,
    mode: Mode,
}

impl fmt::Debug for SessionSecurity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.mode {
            Mode::NoKeys => "no keys",
            Mode::Ess(_) => "extended session security",
            Mode::Legacy { .. } => "NTLMv1 session security",
        };
        f.debug_struct("SessionSecurity")
            .field("flags", &self.flags)
            .field("role", &self.role)
            .field("mode", &mode)
            .finish_non_exhaustive()
    }
}

impl SessionSecurity {
    /// Derives the keys and RC4 handles (MS-NLMP 3.4.5) for `role`.
    pub fn new(
        flags: NegotiateFlags,
        exported_session_key: &ExportedSessionKey,
        role: Role,
    ) -> Self {
        let mode =
            if !flags.intersects(NegotiateFlags::NEGOTIATE_SIGN | NegotiateFlags::NEGOTIATE_SEAL) {
                Mode::NoKeys
            } else if flags.contains(NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY) {
                let out = role.outgoing();
                let mut e = Box::new(EssChannels {
                    key_exch: flags.contains(NegotiateFlags::NEGOTIATE_KEY_EXCH),
                    send: EssChannel::unsealed(exported_session_key, out),
                    recv: EssChannel::unsealed(exported_session_key, out.reverse()),
                });
                e.send.init(exported_session_key, flags, out);
                e.recv.init(exported_session_key, flags, out.reverse());
                Mode::Ess(e)
            } else {
                // The same key in both directions.
                let sealing = sealing_key(exported_session_key, flags, role.outgoing());
                Mode::Legacy {
                    handle: Box::new(Rc4::schedule(sealing.as_bytes())),
                    sealing,
                    seq: Counter(0),
                }
            };
        Self {
            flags,
            role,
            pad_form: RandomPadForm::default(),
            mode,
        }
    }

    /// Chooses the RandomPad form of signatures without extended session
    /// security (erratum E1). The default is [`RandomPadForm::Zeroed`].
    #[must_use]
    pub const fn with_random_pad_form(mut self, form: RandomPadForm) -> Self {
        self.pad_form = form;
        self
    }

    /// The negotiated flags.
    pub const fn flags(&self) -> NegotiateFlags {
        self.flags
    }

    /// This side's role.
    pub const fn role(&self) -> Role {
        self.role
    }

    /// The sequence number of the next message sent (connection-oriented;
    /// without extended session security it is shared with receiving).
    /// `None` when there are no keys or the numbers are exhausted.
    pub fn next_send_seq(&self) -> Option<u32> {
        match &self.mode {
            Mode::NoKeys => None,
            Mode::Ess(e) => e.send.seq.current().ok(),
            Mode::Legacy { seq, .. } => seq.current().ok(),
        }
    }

    /// The sequence number expected on the next message received.
    pub fn next_recv_seq(&self) -> Option<u32> {
        match &self.mode {
            Mode::NoKeys => None,
            Mode::Ess(e) => e.recv.seq.current().ok(),
            Mode::Legacy { seq, .. } => seq.current().ok(),
        }
    }

    fn is_datagram(&self) -> bool {
        self.flags.contains(NegotiateFlags::NEGOTIATE_DATAGRAM)
    }

    fn check_mode(&self, seq: Option<u32>) -> Result<(), SecurityError> {
        match (self.is_datagram(), seq) {
            (true, None) => Err(SecurityError::SequenceNumberRequired),
            (false, Some(_)) => Err(SecurityError::NotConnectionless),
            _ => Ok(()),
        }
    }

    fn check_negotiated(&self, sealing: bool) -> Result<(), SecurityError> {
        if sealing && !self.flags.contains(NegotiateFlags::NEGOTIATE_SEAL) {
            return Err(SecurityError::ConfidentialityNotNegotiated);
        }
        let any = NegotiateFlags::NEGOTIATE_SIGN
            | NegotiateFlags::NEGOTIATE_SEAL
            | NegotiateFlags::NEGOTIATE_ALWAYS_SIGN;
        if !self.flags.intersects(any) {
            return Err(SecurityError::IntegrityNotNegotiated);
        }
        Ok(())
    }

    /// GSS_GetMICEx (MS-NLMP 3.4.3): the signature of `msg` with the next
    /// sequence number.
    pub fn sign(&mut self, msg: &[u8]) -> Result<MessageSignature, SecurityError> {
        self.protect(None, Msg::Plain(msg))
    }

    /// GSS_VerifyMICEx (MS-NLMP 3.4.4): checks the signature of a received
    /// message and its sequence number.
    pub fn verify(
        &mut self,
        msg: &[u8],
        signature: &MessageSignature,
    ) -> Result<(), SecurityError> {
        self.unprotect(None, Msg::Plain(msg), signature)
    }

    /// GSS_WrapEx (MS-NLMP 3.4.3): encrypts `msg` in place and returns the
    /// signature of the plaintext.
    pub fn seal(&mut self, msg: &mut [u8]) -> Result<MessageSignature, SecurityError> {
        self.protect(None, Msg::Sealed(msg))
    }

    /// GSS_UnwrapEx (MS-NLMP 3.4.4): decrypts `msg` in place and checks the
    /// signature. On failure `msg` holds the ciphertext again.
    pub fn unseal(
        &mut self,
        msg: &mut [u8],
        signature: &MessageSignature,
    ) -> Result<(), SecurityError> {
        self.unprotect(None, Msg::Sealed(msg), signature)
    }

    /// [`sign`](Self::sign) for a connectionless (DATAGRAM) session with the
    /// application's sequence number.
    pub fn sign_datagram(
        &mut self,
        seq: u32,
        msg: &[u8],
    ) -> Result<MessageSignature, SecurityError> {
        self.protect(Some(seq), Msg::Plain(msg))
    }

    /// [`verify`](Self::verify) for a connectionless session: the signature
    /// must carry `seq`.
    pub fn verify_datagram(
        &mut self,
        seq: u32,
        msg: &[u8],
        signature: &MessageSignature,
    ) -> Result<(), SecurityError> {
        self.unprotect(Some(seq), Msg::Plain(msg), signature)
    }

    /// [`seal`](Self::seal) for a connectionless session.
    pub fn seal_datagram(
        &mut self,
        seq: u32,
        msg: &mut [u8],
    ) -> Result<MessageSignature, SecurityError> {
        self.protect(Some(seq), Msg::Sealed(msg))
    }

    /// [`unseal`](Self::unseal) for a connectionless session.
    pub fn unseal_datagram(
        &mut self,
        seq: u32,
        msg: &mut [u8],
        signature: &MessageSignature,
    ) -> Result<(), SecurityError> {
        self.unprotect(Some(seq), Msg::Sealed(msg), signature)
    }

    fn protect(
        &mut self,
        app_seq: Option<u32>,
        mut msg: Msg<'_>,
    ) -> Result<MessageSignature, SecurityError> {
        self.check_negotiated(msg.is_sealed())?;
        self.check_mode(app_seq)?;
        let pad_form = self.pad_form;
        match &mut self.mode {
            Mode::NoKeys => Ok(MessageSignature {
                version: SIGNATURE_VERSION,
                checksum: [0; 8],
                seq_num: 0,
            }),
            Mode::Ess(e) => {
                let (key_exch, send) = (e.key_exch, &mut e.send);
                let seq = match app_seq {
                    Some(s) => {
                        send.handle = datagram_handle(&send.sealing, s);
                        s
                    }
                    None => send.seq.current()?,
                };
                // MS-NLMP 3.4.4.2: HMAC over the plaintext, then encrypt the
                // message, then (KEY_EXCH) the checksum, on one handle.
                let mac = send.signing.mac(&[&seq.to_le_bytes(), msg.bytes()]);
                msg.apply(&mut send.handle);
                let mut checksum: [u8; 8] = chunk(&mac, 0);
                if key_exch {
                    send.handle.apply_keystream(&mut checksum);
                }
                if app_seq.is_none() {
                    send.seq.advance();
                }
                Ok(MessageSignature {
                    version: SIGNATURE_VERSION,
                    checksum,
                    seq_num: seq,
                })
            }
            Mode::Legacy {
                sealing,
                handle,
                seq: counter,
            } => {
                let seq = match app_seq {
                    Some(s) => {
                        **handle = datagram_handle(sealing, s);
                        s
                    }
                    None => counter.current()?,
                };
                // MS-NLMP 3.4.4.1: CRC32 of the plaintext; RandomPad,
                // Checksum and SeqNum encrypted in that order after the
                // message.
                let crc = crc32fast::hash(msg.bytes()).to_le_bytes();
                msg.apply(handle);
                let [c0, c1, c2, c3] = crc;
                let mut tail = [0, 0, 0, 0, c0, c1, c2, c3, 0, 0, 0, 0];
                handle.apply_keystream(&mut tail);
                let [p0, p1, p2, p3, e0, e1, e2, e3, s0, s1, s2, s3] = tail;
                let pad = match pad_form {
                    RandomPadForm::Zeroed => [0; 4],
                    RandomPadForm::Encrypted => [p0, p1, p2, p3],
                };
                if app_seq.is_none() {
                    counter.advance();
                }
                let [a, b, c, d] = pad;
                Ok(MessageSignature {
                    version: SIGNATURE_VERSION,
                    checksum: [a, b, c, d, e0, e1, e2, e3],
                    seq_num: u32::from_le_bytes([s0, s1, s2, s3]) ^ seq,
                })
            }
        }
    }

    fn unprotect(
        &mut self,
        app_seq: Option<u32>,
        mut msg: Msg<'_>,
        sig: &MessageSignature,
    ) -> Result<(), SecurityError> {
        self.check_negotiated(msg.is_sealed())?;
        self.check_mode(app_seq)?;
        if sig.version != SIGNATURE_VERSION {
            return Err(SecurityError::BadVersion { got: sig.version });
        }
        match &mut self.mode {
            Mode::NoKeys => {
                if sig.checksum == [0; 8] && sig.seq_num == 0 {
                    Ok(())
                } else {
                    Err(SecurityError::BadChecksum)
                }
            }
            Mode::Ess(e) => {
                let (key_exch, recv) = (e.key_exch, &mut e.recv);
                let expected = match app_seq {
                    Some(s) => s,
                    None => recv.seq.current()?,
                };
                if sig.seq_num != expected {
                    return Err(SecurityError::WrongSequenceNumber {
                        expected,
                        got: sig.seq_num,
                    });
                }
                let saved = match app_seq {
                    Some(s) => datagram_handle(&recv.sealing, s),
                    None => recv.handle.clone(),
                };
                let mut handle = saved.clone();
                msg.apply(&mut handle);
                let mac = recv.signing.mac(&[&expected.to_le_bytes(), msg.bytes()]);
                let mut checksum: [u8; 8] = chunk(&mac, 0);
                if key_exch {
                    handle.apply_keystream(&mut checksum);
                }
                if bool::from(checksum.as_slice().ct_eq(sig.checksum.as_slice())) {
                    recv.handle = handle;
                    if app_seq.is_none() {
                        recv.seq.advance();
                    }
                    Ok(())
                } else {
                    // Put the ciphertext back; the handle was never replaced.
                    let mut restore = saved;
                    msg.apply(&mut restore);
                    Err(SecurityError::BadChecksum)
                }
            }
            Mode::Legacy {
                sealing,
                handle: shared,
                seq: counter,
            } => {
                let expected = match app_seq {
                    Some(s) => s,
                    None => counter.current()?,
                };
                let saved = match app_seq {
                    Some(s) => datagram_handle(sealing, s),
                    None => Rc4::clone(shared),
                };
                let mut handle = saved.clone();
                msg.apply(&mut handle);
                let mut ks = [0u8; 12];
                handle.apply_keystream(&mut ks);
                let [k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11] = ks;
                let got = sig.seq_num ^ u32::from_le_bytes([k8, k9, k10, k11]);
                let result = if got != expected {
                    Err(SecurityError::WrongSequenceNumber { expected, got })
                } else {
                    let [p0, p1, p2, p3, c0, c1, c2, c3] = sig.checksum;
                    // Erratum E1: RandomPad is either zero or RC4(Handle, 0).
                    let pad = [p0, p1, p2, p3];
                    let pad_ok = pad == [0; 4] || pad == [k0, k1, k2, k3];
                    let crc = [c0 ^ k4, c1 ^ k5, c2 ^ k6, c3 ^ k7];
                    let crc_ok: bool = crc
                        .as_slice()
                        .ct_eq(crc32fast::hash(msg.bytes()).to_le_bytes().as_slice())
                        .into();
                    if pad_ok && crc_ok {
                        Ok(())
                    } else {
                        Err(SecurityError::BadChecksum)
                    }
                };
                match result {
                    Ok(()) => {
                        **shared = handle;
                        if app_seq.is_none() {
                            counter.advance();
                        }
                    }
                    Err(_) => {
                        let mut restore = saved;
                        msg.apply(&mut restore);
                    }
                }
                result
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(extra: NegotiateFlags) -> NegotiateFlags {
        NegotiateFlags::NEGOTIATE_SIGN | NegotiateFlags::NEGOTIATE_SEAL | extra
    }

    #[test]
    fn sequence_numbers_do_not_wrap() {
        let esk = ExportedSessionKey::from_bytes([1; 16]);
        let ess = NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY;
        for f in [flags(ess), flags(NegotiateFlags::empty())] {
            let mut s = SessionSecurity::new(f, &esk, Role::Client);
            match &mut s.mode {
                Mode::Ess(e) => e.send.seq = Counter(u64::from(u32::MAX)),
                Mode::Legacy { seq, .. } => *seq = Counter(u64::from(u32::MAX)),
                Mode::NoKeys => unreachable!(),
            }
            let sig = s.sign(b"last").unwrap();
            assert_eq!(s.flags(), f);
            assert_eq!(s.role(), Role::Client);
            if f.contains(ess) {
                assert_eq!(sig.seq_num, u32::MAX);
            }
            assert_eq!(s.next_send_seq(), None);
            assert_eq!(
                s.sign(b"one too many"),
                Err(SecurityError::SequenceExhausted)
            );
        }
    }

    #[test]
    fn debug_shows_no_keys() {
        let s = SessionSecurity::new(
            flags(NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY),
            &ExportedSessionKey::from_bytes([0x42; 16]),
            Role::Server,
        );
        let d = format!("{s:?}");
        assert!(d.contains("extended session security"), "{d}");
        assert!(!d.contains("42") && !d.contains("66"), "{d}");
    }

    #[test]
    fn errors_display_lowercase_without_period() {
        for e in [
            SecurityError::IntegrityNotNegotiated,
            SecurityError::ConfidentialityNotNegotiated,
            SecurityError::SequenceNumberRequired,
            SecurityError::NotConnectionless,
            SecurityError::BadVersion { got: 2 },
            SecurityError::WrongSequenceNumber {
                expected: 1,
                got: 0,
            },
            SecurityError::BadChecksum,
            SecurityError::SequenceExhausted,
        ] {
            let s = e.to_string();
            assert!(s.chars().next().unwrap().is_lowercase(), "{s}");
            assert!(!s.ends_with('.'), "{s}");
        }
    }
}
