//! The exact bytes of the three messages, as sent and received.

/// The messages of one exchange exactly as they crossed the wire: the MIC
/// covers these bytes (MS-NLMP 3.1.5.1.2), never a re-encoding.
///
/// The three messages are kept back to back in one buffer, in the order the
/// MIC hashes them: NEGOTIATE ‖ CHALLENGE ‖ AUTHENTICATE.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    bytes: Vec<u8>,
    negotiate_len: usize,
    challenge_len: usize,
}

impl Transcript {
    /// A transcript of the three messages (copied into one buffer).
    pub fn new(negotiate: &[u8], challenge: &[u8], authenticate: &[u8]) -> Self {
        let mut t = Self::with_capacity(negotiate.len() + challenge.len() + authenticate.len());
        t.push_negotiate(negotiate);
        t.push_challenge(challenge);
        t.push_authenticate(authenticate);
        t
    }

    /// An empty transcript with room for `capacity` bytes of messages.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(capacity),
            negotiate_len: 0,
            challenge_len: 0,
        }
    }

    /// Appends the NEGOTIATE (the transcript must be empty).
    pub(crate) fn push_negotiate(&mut self, negotiate: &[u8]) {
        self.bytes.extend_from_slice(negotiate);
        self.negotiate_len = negotiate.len();
    }

    /// Appends the CHALLENGE (after the NEGOTIATE).
    pub(crate) fn push_challenge(&mut self, challenge: &[u8]) {
        self.bytes.extend_from_slice(challenge);
        self.challenge_len = challenge.len();
    }

    /// Appends `len` zero bytes for the CHALLENGE (after the NEGOTIATE), to
    /// be encoded in place; returns them.
    pub(crate) fn challenge_slot(&mut self, len: usize) -> &mut [u8] {
        self.challenge_len = len;
        self.slot(len)
    }

    /// Appends `len` zero bytes and returns them.
    fn slot(&mut self, len: usize) -> &mut [u8] {
        let start = self.bytes.len();
        self.bytes.resize(start.saturating_add(len), 0);
        self.bytes.get_mut(start..).unwrap_or_default()
    }

    /// Appends the AUTHENTICATE (after the CHALLENGE).
    pub(crate) fn push_authenticate(&mut self, authenticate: &[u8]) {
        self.bytes.extend_from_slice(authenticate);
    }

    /// Appends `len` zero bytes for the AUTHENTICATE, to be encoded in place;
    /// returns them.
    pub(crate) fn authenticate_slot(&mut self, len: usize) -> &mut [u8] {
        self.slot(len)
    }

    /// Reserves room for `additional` more bytes.
    pub(crate) fn reserve_exact(&mut self, additional: usize) {
        self.bytes.reserve_exact(additional);
    }

    /// Where the AUTHENTICATE starts.
    fn authenticate_start(&self) -> usize {
        self.negotiate_len.saturating_add(self.challenge_len)
    }

    /// NEGOTIATE_MESSAGE.
    pub fn negotiate(&self) -> &[u8] {
        self.bytes.get(..self.negotiate_len).unwrap_or_default()
    }

    /// CHALLENGE_MESSAGE.
    pub fn challenge(&self) -> &[u8] {
        self.bytes
            .get(self.negotiate_len..self.authenticate_start())
            .unwrap_or_default()
    }

    /// AUTHENTICATE_MESSAGE (with its MIC, as sent).
    pub fn authenticate(&self) -> &[u8] {
        self.bytes
            .get(self.authenticate_start()..)
            .unwrap_or_default()
    }

    /// The AUTHENTICATE_MESSAGE, writable (to set the MIC in place).
    pub(crate) fn authenticate_mut(&mut self) -> &mut [u8] {
        let start = self.authenticate_start();
        self.bytes.get_mut(start..).unwrap_or_default()
    }

    /// NEGOTIATE_MESSAGE ‖ CHALLENGE_MESSAGE ‖ AUTHENTICATE_MESSAGE, the
    /// bytes the MIC covers (MS-NLMP 3.1.5.1.2; the MIC field itself counts
    /// as Z(16)).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_messages_come_back_apart() {
        let t = Transcript::new(b"neg", b"chal", b"auth!");
        assert_eq!(t.negotiate(), b"neg");
        assert_eq!(t.challenge(), b"chal");
        assert_eq!(t.authenticate(), b"auth!");
        assert_eq!(t.as_bytes(), b"negchalauth!");
        let e = Transcript::default();
        assert!(e.negotiate().is_empty() && e.challenge().is_empty());
        assert!(e.authenticate().is_empty());
        // Built in steps, with the AUTHENTICATE encoded in place.
        let mut s = Transcript::with_capacity(4);
        s.push_negotiate(b"neg");
        s.push_challenge(b"chal");
        s.authenticate_slot(5).copy_from_slice(b"auth?");
        s.authenticate_mut()[4] = b'!';
        assert_eq!(s, t);
    }
}
