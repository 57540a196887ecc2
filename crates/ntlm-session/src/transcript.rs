//! The exact bytes of the three messages, as sent and received.

/// The messages of one exchange exactly as they crossed the wire: the MIC
/// covers these bytes (MS-NLMP 3.1.5.1.2), never a re-encoding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    /// NEGOTIATE_MESSAGE.
    pub negotiate: Vec<u8>,
    /// CHALLENGE_MESSAGE.
    pub challenge: Vec<u8>,
    /// AUTHENTICATE_MESSAGE (with its MIC, as sent).
    pub authenticate: Vec<u8>,
}
