//! Enum drivers for callers that step a side generically (a helper process,
//! an HTTP connection): bytes in, bytes out, one message at a time.

use core::mem;

use ntlm_policy::{Detail, Failure, Side, Stage, rules};
use rand_core::{CryptoRng, RngCore};

use crate::client::{Client, ClientAwaitingChallenge, ClientSettings};
use crate::established::Established;
use crate::server::{Server, ServerAwaitingAuthenticate, ServerAwaitingNegotiate, ServerSettings};
use ntlm_wire::FileTime;

/// What a step produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A message to send to the peer.
    Send(Vec<u8>),
    /// The exchange is complete on this side; nothing to send.
    Done,
}

/// A client, whichever state it is in.
#[derive(Debug, Default)]
pub enum ClientDriver {
    /// Not started: [`ClientDriver::step`] with empty input sends the NEGOTIATE.
    Start(Box<ClientSettings>),
    /// Waiting for the CHALLENGE.
    AwaitingChallenge(ClientAwaitingChallenge),
    /// Authenticated (the AUTHENTICATE was sent).
    Established(Box<Established>),
    /// Failed; every further step returns the failure.
    Failed(Failure),
    /// Moved out during a step: seeing it is a bug.
    #[default]
    Consumed,
}

/// A server, whichever state it is in.
#[derive(Debug, Default)]
pub enum ServerDriver {
    /// Waiting for the NEGOTIATE.
    AwaitingNegotiate(ServerAwaitingNegotiate),
    /// Waiting for the AUTHENTICATE.
    AwaitingAuthenticate(ServerAwaitingAuthenticate),
    /// Authenticated.
    Established(Box<Established>),
    /// Failed; every further step returns the failure.
    Failed(Failure),
    /// Moved out during a step: seeing it is a bug.
    #[default]
    Consumed,
}

fn misuse(side: Side, stage: Stage, note: &'static str) -> Failure {
    Failure::new(side, stage, &rules::DECODE_MALFORMED, Detail::Note(note))
}

impl ClientDriver {
    /// A client that has not sent anything yet.
    pub fn new(settings: ClientSettings) -> Self {
        Self::Start(Box::new(settings))
    }

    /// The state's name, for logs.
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Start(_) => "start",
            Self::AwaitingChallenge(_) => "awaiting-challenge",
            Self::Established(_) => "established",
            Self::Failed(_) => "failed",
            Self::Consumed => "consumed",
        }
    }

    /// Whether no further step can change the state.
    pub const fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Established(_) | Self::Failed(_) | Self::Consumed
        )
    }

    /// Feeds the next input (nothing to start, then the CHALLENGE).
    pub fn step<R: RngCore + CryptoRng>(
        &mut self,
        input: &[u8],
        rng: &mut R,
        now: FileTime,
    ) -> Result<Step, Failure> {
        let (next, result) = match mem::take(self) {
            Self::Start(s) => match Client::start(*s) {
                Ok((neg, c)) => (Self::AwaitingChallenge(c), Ok(Step::Send(neg))),
                Err(f) => (Self::Failed(f), Err(f)),
            },
            Self::AwaitingChallenge(c) => match c.on_challenge(input, rng, now) {
                Ok((auth, e)) => (Self::Established(Box::new(e.0)), Ok(Step::Send(auth))),
                Err(f) => (Self::Failed(f), Err(f)),
            },
            Self::Established(e) => (Self::Established(e), Ok(Step::Done)),
            Self::Failed(f) => (Self::Failed(f), Err(f)),
            Self::Consumed => {
                let f = misuse(
                    Side::Client,
                    Stage::Challenge,
                    "the client driver was consumed",
                );
                (Self::Failed(f), Err(f))
            }
        };
        *self = next;
        result
    }

    /// The established session, once there is one.
    pub fn established(&mut self) -> Option<&mut Established> {
        match self {
            Self::Established(e) => Some(e),
            _ => None,
        }
    }
}

impl ServerDriver {
    /// A server waiting for a NEGOTIATE.
    pub fn new(settings: ServerSettings) -> Self {
        Self::AwaitingNegotiate(Server::start(settings))
    }

    /// The state's name, for logs.
    pub const fn name(&self) -> &'static str {
        match self {
            Self::AwaitingNegotiate(_) => "awaiting-negotiate",
            Self::AwaitingAuthenticate(_) => "awaiting-authenticate",
            Self::Established(_) => "established",
            Self::Failed(_) => "failed",
            Self::Consumed => "consumed",
        }
    }

    /// Whether no further step can change the state.
    pub const fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Established(_) | Self::Failed(_) | Self::Consumed
        )
    }

    /// Feeds the next message (NEGOTIATE, then AUTHENTICATE).
    pub fn step<R: RngCore + CryptoRng>(
        &mut self,
        input: &[u8],
        rng: &mut R,
        now: FileTime,
    ) -> Result<Step, Failure> {
        let (next, result) = match mem::take(self) {
            Self::AwaitingNegotiate(s) => match s.on_negotiate(input, rng, now) {
                Ok((chal, s)) => (Self::AwaitingAuthenticate(s), Ok(Step::Send(chal))),
                Err(f) => (Self::Failed(f), Err(f)),
            },
            Self::AwaitingAuthenticate(s) => match s.on_authenticate(input) {
                Ok(e) => (Self::Established(Box::new(e.0)), Ok(Step::Done)),
                Err(f) => (Self::Failed(f), Err(f)),
            },
            Self::Established(e) => (Self::Established(e), Ok(Step::Done)),
            Self::Failed(f) => (Self::Failed(f), Err(f)),
            Self::Consumed => {
                let f = misuse(
                    Side::Server,
                    Stage::Authenticate,
                    "the server driver was consumed",
                );
                (Self::Failed(f), Err(f))
            }
        };
        *self = next;
        result
    }

    /// The established session, once there is one.
    pub fn established(&mut self) -> Option<&mut Established> {
        match self {
            Self::Established(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;
    use crate::{Credentials, MemoryStore};

    #[test]
    fn drivers_complete_an_exchange_and_stay_terminal() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let mut store = MemoryStore::new();
        store.add_password("D", "u", "p");
        let mut c = ClientDriver::new(ClientSettings::new(Credentials::password("u", "D", "p")));
        let mut s = ServerDriver::new(ServerSettings::new(Arc::new(store)));
        assert_eq!(c.name(), "start");
        let Step::Send(neg) = c.step(&[], &mut rng, FileTime(1)).unwrap() else {
            panic!()
        };
        let Step::Send(chal) = s.step(&neg, &mut rng, FileTime(1)).unwrap() else {
            panic!()
        };
        assert_eq!(s.name(), "awaiting-authenticate");
        let Step::Send(auth) = c.step(&chal, &mut rng, FileTime(1)).unwrap() else {
            panic!()
        };
        assert_eq!(s.step(&auth, &mut rng, FileTime(1)).unwrap(), Step::Done);
        assert!(c.is_terminal() && s.is_terminal());
        assert_eq!(
            c.established().unwrap().exported_session_key(),
            s.established().unwrap().exported_session_key()
        );
        assert_eq!(s.step(&auth, &mut rng, FileTime(1)).unwrap(), Step::Done);
    }

    #[test]
    fn a_failure_sticks() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let mut s = ServerDriver::new(ServerSettings::new(Arc::new(MemoryStore::new())));
        let f = s.step(b"garbage", &mut rng, FileTime(1)).unwrap_err();
        assert_eq!(f.rule.id, "decode-malformed");
        assert_eq!(s.step(b"anything", &mut rng, FileTime(1)).unwrap_err(), f);
        assert_eq!(s.name(), "failed");
    }
}
