//! Both sides in one process: a complete exchange, with optional tampering.

use ntlm_policy::{Failure, Stage};
use rand_core::{CryptoRng, RngCore};

use crate::client::{Client, ClientFixed, ClientSettings};
use crate::established::Established;
use crate::server::{Server, ServerSettings};
use ntlm_wire::FileTime;

/// Exact values for a reproducible exchange.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fixed {
    /// ServerChallenge.
    pub server_challenge: Option<[u8; 8]>,
    /// The client's challenge.
    pub client_challenge: Option<[u8; 8]>,
    /// The random session key (KEY_EXCH).
    pub session_key: Option<[u8; 16]>,
}

/// A man in the middle: called with each message before delivery; may
/// rewrite it in place.
pub trait Tamper {
    /// Rewrites `message` (sent by the side opposite `to`) at `stage`.
    fn tamper(&mut self, stage: Stage, message: &mut Vec<u8>);
}

impl<F: FnMut(Stage, &mut Vec<u8>)> Tamper for F {
    fn tamper(&mut self, stage: Stage, message: &mut Vec<u8>) {
        self(stage, message);
    }
}

/// What an exchange produced: the messages as each side sent them and as
/// each received them, and both established sides or the failure.
#[derive(Debug)]
pub struct Exchange {
    /// NEGOTIATE as sent, and as received (after tampering).
    pub negotiate: Option<(Vec<u8>, Vec<u8>)>,
    /// CHALLENGE as sent, and as received.
    pub challenge: Option<(Vec<u8>, Vec<u8>)>,
    /// AUTHENTICATE as sent, and as received.
    pub authenticate: Option<(Vec<u8>, Vec<u8>)>,
    /// Both sides, or the first failure.
    pub outcome: Result<(Established, Established), Failure>,
}

/// A client and a server, run against each other.
#[derive(Debug)]
pub struct Pair {
    /// The client.
    pub client: ClientSettings,
    /// The server.
    pub server: ServerSettings,
}

impl Pair {
    /// Runs the exchange with the time `now` (a FILETIME) and the given exact values.
    pub fn run<R: RngCore + CryptoRng>(self, rng: &mut R, now: FileTime, fixed: Fixed) -> Exchange {
        self.run_tampered(rng, now, fixed, &mut |_: Stage, _: &mut Vec<u8>| {})
    }

    /// Runs the exchange, passing every message through `mitm` before delivery.
    pub fn run_tampered<R: RngCore + CryptoRng>(
        self,
        rng: &mut R,
        now: FileTime,
        fixed: Fixed,
        mitm: &mut dyn Tamper,
    ) -> Exchange {
        let (mut negotiate, mut challenge, mut authenticate) = (None, None, None);
        let outcome = (|| {
            // Each message is copied once: the copy is what the peer
            // receives (after tampering), borrowed from the Exchange.
            let (neg, client) = Client::start(self.client)?;
            let mut neg_rx = neg.clone();
            mitm.tamper(Stage::Negotiate, &mut neg_rx);
            let (_, neg_rx) = negotiate.insert((neg, neg_rx));

            let server = Server::start(self.server);
            let sc = fixed.server_challenge.unwrap_or_else(|| {
                let mut c = [0u8; 8];
                rng.fill_bytes(&mut c);
                c
            });
            let (chal, server) = server.on_negotiate_with(neg_rx, sc, now)?;
            let mut chal_rx = chal.clone();
            mitm.tamper(Stage::Challenge, &mut chal_rx);
            let (_, chal_rx) = challenge.insert((chal, chal_rx));

            let cf = ClientFixed {
                client_challenge: fixed.client_challenge,
                session_key: fixed.session_key,
            };
            let (auth, client) = client.on_challenge_with(chal_rx, rng, now, cf)?;
            let mut auth_rx = auth.clone();
            mitm.tamper(Stage::Authenticate, &mut auth_rx);
            let (_, auth_rx) = authenticate.insert((auth, auth_rx));

            let server = server.on_authenticate(auth_rx)?;
            Ok((client.0, server.0))
        })();
        Exchange {
            negotiate,
            challenge,
            authenticate,
            outcome,
        }
    }
}
