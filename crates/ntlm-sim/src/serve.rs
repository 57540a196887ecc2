//! NTLM over HTTP, acceptor side (`ntlmsim serve http`, docs/CLI.md).
//!
//! NTLM over HTTP authenticates the TCP connection, not the request
//! (MS-NTHT 2.1): the client sends `Authorization: NTLM <NEGOTIATE>`, the
//! server answers `401` with `WWW-Authenticate: NTLM <CHALLENGE>`, and the
//! client sends `Authorization: NTLM <AUTHENTICATE>` **on the same
//! connection**. This module is the per-connection state machine, free of
//! I/O: the HTTP server (hyper, in the command) keeps one [`Connection`] per
//! TCP connection, passes it each request's `Authorization` header, and
//! writes the [`Reply`] and the [`Record`] of each finished handshake.
//!
//! Each handshake is judged twice: under the enforced server settings (the
//! HTTP answer) and under every *what-if* `NtlmMinServerSec` mask, so an
//! administrator can point real clients at the probe before a policy change
//! and see who would break. A what-if verdict replays the client's own
//! NEGOTIATE and AUTHENTICATE against a server with the what-if mask, with
//! the same ServerChallenge and timestamp: when that server's CHALLENGE is
//! byte-for-byte the one the client answered (the mask does not change it
//! under the usual semantics), the replay is exact, MIC included
//! ([`WhatIfMethod::Replay`]). Otherwise only the flag checks are replayed
//! over the observed flags ([`WhatIfMethod::Flags`]).
//!
//! Resource bounds ([`Limits`], docs/SECURITY.md), all decided here without
//! I/O so that they are unit-tested:
//!
//! - [`PendingTable`]: at most `max_pending` connections hold a CHALLENGE
//!   waiting for its AUTHENTICATE, shared fairly between client addresses:
//!   when the table is full, an expired CHALLENGE is withdrawn first, then
//!   the oldest pending handshake of the address holding the most, if it
//!   holds more than the newcomer's address; otherwise the NEGOTIATE gets
//!   `503`.
//! - [`ConnectionGate`]: open connections, in total and per address.
//! - [`BodyBudget`]: request body bytes held in memory at once, in total.
//! - [`FailureLimiter`]: failure records per address (a token bucket), with
//!   a count of those suppressed.
//! - [`Record`]: names from the wire are cut to `max_field_chars` characters
//!   and the record says so ([`Record::truncated`]); ntlm-report writes
//!   one line per [`LogEntry`], escaped for terminals.
//!
//! The bounds are in `limits.rs`, the records in `record.rs`; both are
//! re-exported here.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use ntlm_gss::{http, spnego};
use ntlm_policy::{
    Detail, Failure, MinSessionSecurity, Semantics, Side, Stage, rules, server_on_authenticate,
    server_on_negotiate,
};
use ntlm_session::{Established, Server, ServerAwaitingAuthenticate, ServerSettings};
use ntlm_wire::{
    AuthenticateMessage, FileTime, MessageSignature, MessageType, NegotiateFlags, NegotiateMessage,
    ResponseKind,
};
use rand_chacha::rand_core::{CryptoRng, RngCore};

use crate::outcome::{CertaintyJson, OutcomeJson, hex32, names};
use crate::profiles::AssumedFacts;

mod limits;
mod record;

pub use limits::{
    Admission, BodyBudget, BodyReservation, ConnectionGate, ConnectionSlot, Evicted,
    FailureLimiter, GateRefusal, Limits, PendingTable, Verdict, client_key,
};
use record::bounded;
pub use record::{LogEntry, Record, Reply, Truncated, WhatIf, WhatIfMethod};

/// The HTTP authentication scheme a token came with (RFC 4559 `Negotiate`
/// carrying a raw NTLMSSP token is accepted as well as `NTLM`).
pub use ntlm_gss::http::Scheme;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What every connection of one server shares.
#[derive(Debug)]
pub struct Acceptor {
    settings: ServerSettings,
    what_if: Vec<MinSessionSecurity>,
    limits: Limits,
    pending: Mutex<PendingTable>,
    evicted: AtomicU64,
    gate: ConnectionGate,
    bodies: BodyBudget,
    certainties: Mutex<HashMap<CertaintyCase, CertaintyJson>>,
    /// What is assumed of the server's profile as a server
    /// ([`Acceptor::with_assumed`]).
    assumed: Vec<AssumedFacts>,
}

/// What the certainty of a verdict reads: the NEGOTIATE flags, the
/// CHALLENGE flags the client answered with its AUTHENTICATE flags and
/// response (when it answered), the mask, and whether the verdict is a
/// success.
type CertaintyCase = (NegotiateFlags, Option<Answer>, MinSessionSecurity, bool);

/// A client's answer: the CHALLENGE flags it received, the AUTHENTICATE
/// flags it sent and its response.
pub type Answer = (NegotiateFlags, NegotiateFlags, ResponseKind);

/// Most distinct cases whose certainty an [`Acceptor`] keeps; beyond it each
/// further one is evaluated without being kept.
pub const CERTAINTY_CACHE: usize = 4096;

impl Acceptor {
    /// An acceptor enforcing `settings`, judging every handshake also under
    /// each mask of `what_if`.
    pub fn new(settings: ServerSettings, what_if: Vec<MinSessionSecurity>, limits: Limits) -> Self {
        Self {
            settings,
            what_if,
            limits,
            pending: Mutex::new(PendingTable::new(
                limits.max_pending,
                limits.challenge_lifetime_ms,
            )),
            evicted: AtomicU64::new(0),
            gate: ConnectionGate::new(limits.max_connections, limits.max_connections_per_ip),
            bodies: BodyBudget::new(limits.max_body_memory),
            certainties: Mutex::new(HashMap::new()),
            assumed: Vec::new(),
        }
    }

    /// The same acceptor, its verdicts resting on `assumed`: what is
    /// assumed of the profile its settings come from, as a server
    /// ([`crate::profiles::assumed_facts`]). Every record carries it.
    #[must_use]
    pub fn with_assumed(mut self, assumed: Vec<AssumedFacts>) -> Self {
        self.assumed = assumed;
        self
    }

    /// What the verdicts rest on of the server's profile ([`Acceptor::with_assumed`]).
    pub fn assumed(&self) -> &[AssumedFacts] {
        &self.assumed
    }

    /// Whether a verdict (`works` or not) on a client that offered
    /// `offered` and, when it answered, gave `answer`, under `mask`, is the
    /// same under every documented reading of the semantics switches
    /// ([`ntlm_policy::certainty()`]).
    ///
    /// The switches only change the server's two policy decisions
    /// (`ntlm_policy::server_on_negotiate` and `server_on_authenticate`), so
    /// each reading repeats those over the observed flags. A reading whose
    /// CHALLENGE carries other flags than the one the client answered gets
    /// the answer the client would give it: the AUTHENTICATE flags less
    /// those that CHALLENGE drops, plus those it adds that the client
    /// offered; flags the client sent beyond its CHALLENGE stay. A verdict
    /// the two decisions do not explain (the policy passes under the
    /// enforced semantics, yet the handshake failed: a wrong password, an
    /// expired CHALLENGE, a bad MIC) fails under every reading. Each
    /// distinct case is evaluated once (at most [`CERTAINTY_CACHE`] are
    /// kept).
    pub fn certainty(
        &self,
        offered: NegotiateFlags,
        answer: Option<Answer>,
        mask: MinSessionSecurity,
        works: bool,
    ) -> CertaintyJson {
        let key = (offered, answer, mask, works);
        if let Some(c) = lock(&self.certainties).get(&key) {
            return c.clone();
        }
        let config = &self.settings.config;
        let policy = |sem: &Semantics| {
            server_on_negotiate(offered, config, mask, sem).is_ok_and(|challenge| {
                answer.is_none_or(|(answered, flags, kind)| {
                    let own = flags.difference(answered);
                    let flags = flags
                        .intersection(challenge)
                        .union(challenge.intersection(offered).difference(answered))
                        .union(own);
                    server_on_authenticate(challenge, flags, kind, config, mask, sem).is_ok()
                })
            })
        };
        let chosen = self.settings.semantics;
        let c = if policy(&chosen) == works {
            ntlm_policy::certainty(&chosen, policy)
        } else {
            // Not a policy failure: it fails whatever the reading.
            ntlm_policy::certainty(&chosen, |_| false)
        };
        let json = CertaintyJson::new(&c, works);
        let mut cache = lock(&self.certainties);
        if cache.len() < CERTAINTY_CACHE {
            cache.insert(key, json.clone());
        }
        json
    }

    /// Connections holding a CHALLENGE now.
    pub fn pending(&self) -> usize {
        lock(&self.pending).len()
    }

    /// Pending handshakes withdrawn so far to admit others.
    pub fn evicted(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }

    /// The limits.
    pub const fn limits(&self) -> Limits {
        self.limits
    }

    /// The open-connection counter.
    pub const fn gate(&self) -> &ConnectionGate {
        &self.gate
    }

    /// The budget for request bodies held in memory.
    pub const fn bodies(&self) -> &BodyBudget {
        &self.bodies
    }

    /// A pending ticket for `address`, or `None` (`503`).
    fn reserve(&self, address: IpAddr, now_ms: u64) -> Option<u64> {
        match lock(&self.pending).admit(address, now_ms) {
            Admission::Admitted { id, evicted } => {
                if evicted.is_some() {
                    self.evicted.fetch_add(1, Ordering::Relaxed);
                }
                Some(id)
            }
            Admission::Refused => None,
        }
    }

    /// Ends a ticket; whether it was still pending.
    fn release(&self, id: u64) -> bool {
        lock(&self.pending).release(id)
    }
}

/// A CHALLENGE sent, waiting for its AUTHENTICATE.
#[derive(Debug)]
struct Pending {
    server: ServerAwaitingAuthenticate,
    scheme: Scheme,
    negotiate: Vec<u8>,
    challenge: Vec<u8>,
    server_challenge: [u8; 8],
    filetime: FileTime,
    sent_ms: u64,
    /// The [`PendingTable`] ticket.
    ticket: u64,
}

#[derive(Debug)]
enum State {
    Idle,
    Pending(Box<Pending>),
    Authenticated {
        account: String,
        session: Box<Established>,
    },
}

/// What a wrapped request carries (`X-NTLM-Wrap` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrapMode {
    /// `seal`: a 16-byte signature, then the sealed data (EncryptMessage,
    /// pyspnego `wrap(encrypt=True)`).
    Seal,
    /// `sign`: a 16-byte signature, then the data in clear (MakeSignature).
    Sign,
}

impl WrapMode {
    /// Reads the header value (`seal` or `sign`, any case).
    pub fn parse(s: &str) -> Option<Self> {
        if s.trim().eq_ignore_ascii_case("seal") {
            Some(Self::Seal)
        } else if s.trim().eq_ignore_ascii_case("sign") {
            Some(Self::Sign)
        } else {
            None
        }
    }
}

/// The prefix of the answer to a wrapped message.
pub const ECHO_PREFIX: &[u8] = b"ntlmsim: ";

/// The NTLM state of one TCP connection.
#[derive(Debug)]
pub struct Connection {
    acceptor: Arc<Acceptor>,
    client: String,
    address: IpAddr,
    state: State,
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let State::Pending(p) = &self.state {
            self.acceptor.release(p.ticket);
        }
    }
}

/// The body of a `401` for any failure to verify the response, whether the
/// account is unknown or the password wrong: one answer on the wire, so a
/// client cannot learn which accounts exist (the record keeps the real
/// reason). The status is the one ntlm-session gives both cases (rule
/// `auth-response`, STATUS_LOGON_FAILURE, as Samba's `ntlm_auth` answers a
/// wrong password: `NA NT_STATUS_LOGON_FAILURE`, observed peer); hiding
/// which of the two failed is OWASP's Authentication Cheat Sheet advice
/// ("Authentication and Error Messages"). Inference for Windows: SSPI
/// reports both as one logon failure (SEC_E_LOGON_DENIED), not confirmed
/// against a Windows peer here.
pub const LOGON_FAILURE: &str =
    "AUTHENTICATE refused: STATUS_LOGON_FAILURE: the user name or password is incorrect";

/// A token read from an `Authorization` header.
enum Token {
    Ntlm(Scheme, Vec<u8>),
    /// Some other scheme (Basic, Bearer...): answered with the NTLM offer.
    Other,
}

/// Reads `NTLM <b64>` or `Negotiate <b64>` by the rule of [`ntlm_gss::http`]
/// (scheme case-insensitive, padding optional).
fn token(header: &str) -> Result<Token, String> {
    let Some(credentials) = http::credentials(header) else {
        return Ok(Token::Other);
    };
    let Some(scheme) = credentials.scheme() else {
        return Ok(Token::Other);
    };
    let bytes = match credentials.token() {
        None => {
            return Err(format!(
                "Authorization: {} without a token",
                scheme.as_str()
            ));
        }
        Some(Err(e)) => {
            return Err(format!(
                "Authorization: the {} token is not valid base64: {e}",
                scheme.as_str()
            ));
        }
        Some(Ok(bytes)) => bytes,
    };
    if spnego::looks_like_spnego(&bytes) {
        return Err(String::from(
            "Authorization: a SPNEGO-wrapped token; this server speaks raw NTLMSSP only \
             (use the NTLM scheme, or Negotiate with a raw NTLMSSP token)",
        ));
    }
    Ok(Token::Ntlm(scheme, bytes))
}

impl Connection {
    /// A new connection from `client`.
    pub fn new(acceptor: Arc<Acceptor>, client: SocketAddr) -> Self {
        Self {
            acceptor,
            client: client.to_string(),
            address: client_key(client.ip()),
            state: State::Idle,
        }
    }

    /// The client address this connection is counted under ([`client_key`]).
    pub const fn address(&self) -> IpAddr {
        self.address
    }

    /// Whether the connection has authenticated.
    pub const fn authenticated(&self) -> Option<&String> {
        match &self.state {
            State::Authenticated { account, .. } => Some(account),
            _ => None,
        }
    }

    /// Answers one request with this `Authorization` header. `filetime` is
    /// the wall clock (MsvAvTimestamp), `now_ms` a monotonic clock in
    /// milliseconds (challenge lifetime). Returns the reply and, when a
    /// handshake ended, its record.
    pub fn on_request<R: RngCore + CryptoRng>(
        &mut self,
        authorization: Option<&str>,
        rng: &mut R,
        filetime: FileTime,
        now_ms: u64,
    ) -> (Reply, Option<Record>) {
        let Some(header) = authorization else {
            if let State::Authenticated { account, .. } = &self.state {
                return (
                    Reply::Ok {
                        account: account.clone(),
                    },
                    None,
                );
            }
            return (
                Reply::Unauthorized {
                    challenge: None,
                    reason: String::from("NTLM authentication required"),
                },
                None,
            );
        };
        let (scheme, bytes) = match token(header) {
            Ok(Token::Ntlm(s, b)) => (s, b),
            Ok(Token::Other) => {
                return (
                    Reply::Unauthorized {
                        challenge: None,
                        reason: String::from(
                            "this server accepts only NTLM (or Negotiate with raw NTLMSSP)",
                        ),
                    },
                    None,
                );
            }
            Err(e) => return (Reply::BadRequest(e), None),
        };
        match MessageType::of(&bytes) {
            Ok(MessageType::Negotiate) => self.negotiate(scheme, bytes, rng, filetime, now_ms),
            Ok(MessageType::Authenticate) => self.authenticate(&bytes, now_ms),
            Ok(MessageType::Challenge) => (
                Reply::BadRequest(String::from(
                    "Authorization: a CHALLENGE message; a client sends NEGOTIATE or AUTHENTICATE",
                )),
                None,
            ),
            Err(e) => (Reply::BadRequest(format!("Authorization: {e}")), None),
        }
    }

    /// Leaves the current state, releasing a pending slot.
    fn reset(&mut self) {
        if let State::Pending(p) = std::mem::replace(&mut self.state, State::Idle) {
            self.acceptor.release(p.ticket);
        }
    }

    fn negotiate<R: RngCore + CryptoRng>(
        &mut self,
        scheme: Scheme,
        negotiate: Vec<u8>,
        rng: &mut R,
        filetime: FileTime,
        now_ms: u64,
    ) -> (Reply, Option<Record>) {
        // A NEGOTIATE starts a new handshake on this connection, whatever came before.
        self.reset();
        let Some(ticket) = self.acceptor.reserve(self.address, now_ms) else {
            return (Reply::Busy, None);
        };
        let mut server_challenge = [0u8; 8];
        rng.fill_bytes(&mut server_challenge);
        let server = Server::start(self.acceptor.settings.clone());
        match server.on_negotiate_with(&negotiate, server_challenge, filetime) {
            Ok((challenge, server)) => {
                let sent = challenge.clone();
                self.state = State::Pending(Box::new(Pending {
                    server,
                    scheme,
                    negotiate,
                    challenge,
                    server_challenge,
                    filetime,
                    sent_ms: now_ms,
                    ticket,
                }));
                (
                    Reply::Unauthorized {
                        challenge: Some((scheme, sent)),
                        reason: String::from("NTLM CHALLENGE sent; answer with the AUTHENTICATE"),
                    },
                    None,
                )
            }
            Err(f) => {
                self.acceptor.release(ticket);
                let record = self.record(scheme, &negotiate, None, None, &Err(f), filetime);
                (
                    Reply::Unauthorized {
                        challenge: None,
                        reason: format!("NEGOTIATE refused: {}", f.reason()),
                    },
                    Some(record),
                )
            }
        }
    }

    fn authenticate(&mut self, authenticate: &[u8], now_ms: u64) -> (Reply, Option<Record>) {
        let p = match std::mem::replace(&mut self.state, State::Idle) {
            State::Pending(p) => p,
            other => {
                self.state = other;
                return (
                    Reply::Unauthorized {
                        challenge: None,
                        reason: String::from(
                            "an AUTHENTICATE without a CHALLENGE on this connection: \
                             send the NEGOTIATE first",
                        ),
                    },
                    None,
                );
            }
        };
        if !self.acceptor.release(p.ticket) {
            // Withdrawn to admit another client's handshake (fair share).
            return (
                Reply::Unauthorized {
                    challenge: None,
                    reason: String::from(
                        "the CHALLENGE was withdrawn: too many NTLM handshakes were pending; \
                         start again with the NEGOTIATE",
                    ),
                },
                None,
            );
        }
        let Pending {
            server,
            scheme,
            negotiate,
            challenge,
            server_challenge,
            filetime,
            sent_ms,
            ticket: _,
        } = *p;
        let challenge_flags = server.challenge_flags();
        let age = now_ms.saturating_sub(sent_ms);
        let result = if age > self.acceptor.limits.challenge_lifetime_ms {
            Err(Failure::new(
                Side::Server,
                Stage::Authenticate,
                &rules::AUTH_CHALLENGE_EXPIRED,
                Detail::Note("the AUTHENTICATE came after the CHALLENGE expired"),
            ))
        } else {
            server.on_authenticate(authenticate).map(|e| e.0)
        };
        let outcome = result.as_ref().map(|e| e.report.clone()).map_err(|f| *f);
        let mut record = self.record(
            scheme,
            &negotiate,
            Some(challenge_flags),
            Some(authenticate),
            &outcome,
            filetime,
        );
        record.what_if = self
            .acceptor
            .what_if
            .iter()
            .map(|&mask| {
                self.what_if(
                    mask,
                    &Replay {
                        negotiate: &negotiate,
                        challenge: &challenge,
                        authenticate,
                        server_challenge,
                        filetime,
                        challenge_flags,
                        enforced: &outcome,
                        expired: age > self.acceptor.limits.challenge_lifetime_ms,
                    },
                )
            })
            .collect();
        let reply = match result {
            Ok(e) => {
                let account = format!("{}\\{}", e.report.domain, e.report.user);
                self.state = State::Authenticated {
                    account: account.clone(),
                    session: Box::new(e),
                };
                Reply::Ok { account }
            }
            // Unknown account or wrong password: the same answer.
            Err(f) if f.rule.id == rules::AUTH_RESPONSE.id => Reply::Unauthorized {
                challenge: None,
                reason: String::from(LOGON_FAILURE),
            },
            Err(f) => Reply::Unauthorized {
                challenge: None,
                reason: format!("AUTHENTICATE refused: {}", f.reason()),
            },
        };
        (reply, Some(record))
    }

    /// Answers a wrapped message on an authenticated connection (MS-NLMP
    /// 3.4): unseals or verifies `body` (a 16-byte signature, then the
    /// data) and answers with `ntlmsim: ` and the data, sealed or signed
    /// the same way with the server's keys.
    pub fn on_wrap(&mut self, mode: WrapMode, body: &[u8]) -> Reply {
        let State::Authenticated { session, .. } = &mut self.state else {
            return Reply::Unauthorized {
                challenge: None,
                reason: String::from("X-NTLM-Wrap needs an authenticated connection"),
            };
        };
        let Some((sig, data)) = body.split_at_checked(MessageSignature::LEN) else {
            return Reply::BadRequest(format!(
                "X-NTLM-Wrap: the body has {} bytes; it starts with a {}-byte signature",
                body.len(),
                MessageSignature::LEN
            ));
        };
        let sig = match MessageSignature::parse(sig) {
            Ok(s) => s,
            Err(e) => return Reply::BadRequest(format!("X-NTLM-Wrap: {e}")),
        };
        let sec = &mut session.security;
        let mut data = data.to_vec();
        let opened = match mode {
            WrapMode::Seal => sec.unseal(&mut data, &sig),
            WrapMode::Sign => sec.verify(&data, &sig),
        };
        if let Err(e) = opened {
            return Reply::BadRequest(format!("X-NTLM-Wrap: the message does not verify: {e}"));
        }
        let mut answer = ECHO_PREFIX.to_vec();
        answer.extend_from_slice(&data);
        let sig = match mode {
            WrapMode::Seal => sec.seal(&mut answer),
            WrapMode::Sign => sec.sign(&answer),
        };
        match sig {
            Ok(sig) => {
                let mut out = sig.to_bytes().to_vec();
                out.extend_from_slice(&answer);
                Reply::Data(out)
            }
            Err(e) => Reply::BadRequest(format!("X-NTLM-Wrap: cannot answer: {e}")),
        }
    }

    /// The verdict of the same exchange under another `NtlmMinServerSec`.
    fn what_if(&self, mask: MinSessionSecurity, r: &Replay<'_>) -> WhatIf {
        let mut settings = self.acceptor.settings.clone();
        settings.min = mask;
        // The enforced run already consulted the reflection cache.
        settings.reflection = None;
        let server_min = hex32(mask.bits());
        let config = settings.config;
        let semantics = settings.semantics;
        let replayed =
            Server::start(settings).on_negotiate_with(r.negotiate, r.server_challenge, r.filetime);
        let (method, outcome) = match replayed {
            // An expired CHALLENGE fails whatever the mask.
            _ if r.expired => (WhatIfMethod::Replay, r.enforced.clone()),
            Err(f) => (WhatIfMethod::Replay, Err(f)),
            Ok((challenge, server)) if challenge == r.challenge => (
                WhatIfMethod::Replay,
                server.on_authenticate(r.authenticate).map(|e| e.0.report),
            ),
            Ok(_) => {
                // Only the flag checks can be replayed; the rest of the
                // verdict is the enforced one.
                let flags = AuthenticateMessage::parse(r.authenticate).map(|a| {
                    server_on_authenticate(
                        r.challenge_flags,
                        a.flags,
                        a.response_kind(),
                        &config,
                        mask,
                        &semantics,
                    )
                });
                let outcome = match flags {
                    Ok(Err(f)) => Err(f),
                    _ => r.enforced.clone(),
                };
                (WhatIfMethod::Flags, outcome)
            }
        };
        WhatIf {
            server_min,
            method,
            certainty: self.certainty(
                r.negotiate,
                Some((r.challenge_flags, r.authenticate)),
                mask,
                outcome.is_ok(),
            ),
            outcome: outcome_json(&outcome, &semantics),
        }
    }

    /// [`Acceptor::certainty`] from the messages as received; `None` when
    /// the NEGOTIATE does not decode. An AUTHENTICATE that does not decode
    /// counts as none.
    fn certainty(
        &self,
        negotiate: &[u8],
        answer: Option<(NegotiateFlags, &[u8])>,
        mask: MinSessionSecurity,
        works: bool,
    ) -> Option<CertaintyJson> {
        let offered = NegotiateMessage::parse(negotiate).ok()?.flags;
        let answer = answer.and_then(|(challenge, a)| {
            AuthenticateMessage::parse(a)
                .ok()
                .map(|a| (challenge, a.flags, a.response_kind()))
        });
        Some(self.acceptor.certainty(offered, answer, mask, works))
    }

    fn record(
        &self,
        scheme: Scheme,
        negotiate: &[u8],
        challenge_flags: Option<NegotiateFlags>,
        authenticate: Option<&[u8]>,
        outcome: &Result<ntlm_session::SessionReport, Failure>,
        filetime: FileTime,
    ) -> Record {
        let neg = NegotiateMessage::parse(negotiate).ok();
        let offered = neg.as_ref().map_or(NegotiateFlags::empty(), |n| n.flags);
        let auth = authenticate.and_then(|a| AuthenticateMessage::parse(a).ok());
        let (mut user, mut domain, mut workstation) = (String::new(), String::new(), String::new());
        let (mut user_raw, mut domain_raw, mut workstation_raw) = (None, None, None);
        let mut negotiated = None;
        let mut response_kind = None;
        let mut mic = false;
        let mut client_version = neg.as_ref().and_then(|n| n.version).map(|v| v.to_string());
        if let Some(a) = &auth {
            let charset = a.flags.charset().unwrap_or(ntlm_wire::Charset::Unicode);
            // Undecodable names as hex under `*_raw` (the CLI contract).
            let text = |b: &Option<std::borrow::Cow<'_, [u8]>>| {
                let bytes = b.as_deref().unwrap_or_default();
                match ntlm_wire::text::decode(bytes, charset) {
                    Ok(s) => (s, None),
                    Err(_) => (String::new(), Some(hex::encode(bytes))),
                }
            };
            (user, user_raw) = text(&a.user);
            (domain, domain_raw) = text(&a.domain);
            (workstation, workstation_raw) = text(&a.workstation);
            negotiated = Some(a.flags);
            response_kind = Some(a.response_kind().as_str());
            // A zero-filled MIC slot is no MIC (pyspnego always leaves the slot).
            mic = a.mic.is_some_and(|m| m != [0; 16]);
            if let Some(v) = a.version {
                client_version = Some(v.to_string());
            }
        }
        if let Ok(report) = outcome {
            negotiated = Some(report.flags);
            mic = report.mic;
        }
        let max = self.acceptor.limits.max_field_chars;
        let mut truncated = Vec::new();
        let user = bounded(user, "user", max, &mut truncated);
        let domain = bounded(domain, "domain", max, &mut truncated);
        let workstation = bounded(workstation, "workstation", max, &mut truncated);
        let hex_max = max.saturating_mul(2);
        let mut raw =
            |r: Option<String>, field| r.map(|r| bounded(r, field, hex_max, &mut truncated));
        let user_raw = raw(user_raw, "user_raw");
        let domain_raw = raw(domain_raw, "domain_raw");
        let workstation_raw = raw(workstation_raw, "workstation_raw");
        Record {
            time: filetime.to_rfc3339(),
            client: self.client.clone(),
            scheme: scheme.as_str(),
            user,
            domain,
            workstation,
            user_raw,
            domain_raw,
            workstation_raw,
            truncated,
            client_version,
            offered_flags: hex32(offered.bits()),
            offered_flags_names: names(offered),
            challenge_flags: challenge_flags.map(|f| hex32(f.bits())),
            negotiated_flags: negotiated.map(|f| hex32(f.bits())),
            negotiated_flags_names: negotiated.map(names).unwrap_or_default(),
            response_kind,
            mic,
            outcome: outcome_json(outcome, &self.acceptor.settings.semantics),
            what_if: Vec::new(),
            assumed: self.acceptor.assumed.clone(),
            certainty: self.certainty(
                negotiate,
                challenge_flags.zip(authenticate),
                self.acceptor.settings.min,
                outcome.is_ok(),
            ),
        }
    }
}

/// A verdict as the log records it: a failure with each missing bit's own
/// rule under `semantics` (`missing_rules`, as `handshake --json`).
fn outcome_json(
    outcome: &Result<ntlm_session::SessionReport, Failure>,
    semantics: &Semantics,
) -> OutcomeJson {
    match outcome {
        Ok(report) => OutcomeJson::success(report, None),
        Err(f) => OutcomeJson::failure_under(f, semantics),
    }
}

/// What a what-if replay needs of the real exchange.
struct Replay<'a> {
    negotiate: &'a [u8],
    challenge: &'a [u8],
    authenticate: &'a [u8],
    server_challenge: [u8; 8],
    filetime: FileTime,
    challenge_flags: NegotiateFlags,
    enforced: &'a Result<ntlm_session::SessionReport, Failure>,
    expired: bool,
}

#[cfg(test)]
mod tests {
    use ntlm_policy::Status;
    use ntlm_session::Client;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;
    use crate::fixtures::serve::{NOW, acceptor, addr, client, failure, handshake, header, named};

    #[test]
    fn handshake_then_authenticated_connection_with_what_if() {
        let a = acceptor(0, &[0x2000_0000, 0x2008_0030], Limits::default());
        let mut conn = Connection::new(Arc::clone(&a), addr("127.0.0.1:5000"));
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        // No header: the offer.
        let (reply, record) = conn.on_request(None, &mut rng, NOW, 0);
        assert_eq!(reply.status(), 401);
        assert!(record.is_none());
        let (reply, record, _) = handshake(&mut conn, client("Passw0rd!", true), &mut rng, 10);
        assert_eq!(
            reply,
            Reply::Ok {
                account: "TESTDOM\\alice".into()
            }
        );
        assert_eq!(a.pending(), 0);
        let r = record.unwrap();
        assert!(r.succeeded());
        assert_eq!((r.user.as_str(), r.domain.as_str()), ("alice", "TESTDOM"));
        assert_eq!(r.response_kind, Some("NTLMv2"));
        assert!(r.mic);
        assert_eq!(r.what_if.len(), 2);
        for w in &r.what_if {
            assert_eq!(w.method, WhatIfMethod::Replay);
            assert!(w.outcome.is_success(), "{}", w.server_min);
        }
        // Later requests on the connection need no header.
        let (reply, record) = conn.on_request(None, &mut rng, NOW, 20);
        assert_eq!(reply.status(), 200);
        assert!(record.is_none());
    }

    #[test]
    fn what_if_128_fails_a_client_without_128_bit() {
        let a = acceptor(0, &[0x2000_0000], Limits::default());
        let mut conn = Connection::new(Arc::clone(&a), addr("10.0.0.3:1000"));
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let (reply, record, _) = handshake(&mut conn, client("Passw0rd!", false), &mut rng, 1);
        assert_eq!(reply.status(), 200);
        let r = record.unwrap();
        assert!(r.succeeded());
        let w = &r.what_if[0];
        assert_eq!(w.server_min, "0x20000000");
        assert_eq!(w.method, WhatIfMethod::Replay);
        let f = failure(&w.outcome);
        assert_eq!((f.side, f.stage), ("server", "negotiate"));
        assert_eq!(f.missing_names, ["NEGOTIATE_128"]);
        assert_eq!(f.status, Status::SecEUnsupportedFunction.name());
    }

    #[test]
    fn each_verdict_says_whether_every_reading_agrees() {
        let a = acceptor(0, &[0x2000_0000], Limits::default());
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        // A client that seals without 128-bit keys: refused under a 128-bit
        // what-if whatever the reading; a client that does not seal only
        // under the strict reading of the 128-bit rule.
        let mut conn = Connection::new(Arc::clone(&a), addr("10.0.0.3:1000"));
        let (_, record, _) = handshake(&mut conn, client("Passw0rd!", false), &mut rng, 1);
        let r = record.unwrap();
        let c = r.certainty.as_ref().unwrap();
        assert_eq!(c.verdict, "works");
        assert!(c.holds_under_every_reading, "{c:?}");
        let c = r.what_if[0].certainty.as_ref().unwrap();
        assert_eq!(c.verdict, "breaks");
        assert!(c.holds_under_every_reading, "{c:?}");
        let mut plain = client("Passw0rd!", false);
        plain.config.integrity = false;
        plain.config.confidentiality = false;
        let mut conn = Connection::new(Arc::clone(&a), addr("10.0.0.4:1000"));
        let (_, record, _) = handshake(&mut conn, plain, &mut rng, 1);
        let r = record.unwrap();
        assert!(r.certainty.as_ref().unwrap().holds_under_every_reading);
        let c = r.what_if[0].certainty.as_ref().unwrap();
        assert_eq!(c.verdict, "works");
        assert!(!c.holds_under_every_reading, "{c:?}");
        assert_eq!(c.reversed_by, ["rule-128=strict"]);
        assert_eq!(c.only_under, ["rule-128=kb239869"]);
        // A wrong password fails under every reading, enforced or what-if.
        let mut conn = Connection::new(Arc::clone(&a), addr("10.0.0.5:1000"));
        let (_, record, _) = handshake(&mut conn, client("wrong", false), &mut rng, 1);
        let r = record.unwrap();
        assert_eq!(failure(&r.outcome).status, "STATUS_LOGON_FAILURE");
        for c in [&r.certainty, &r.what_if[0].certainty] {
            let c = c.as_ref().unwrap();
            assert_eq!(c.verdict, "breaks");
            assert!(c.holds_under_every_reading, "{c:?}");
        }
        // Each distinct case is evaluated once.
        assert_eq!(lock(&a.certainties).len(), 5);
    }

    #[test]
    fn enforced_minimum_refuses_the_negotiate() {
        let a = acceptor(0x2000_0000, &[], Limits::default());
        let mut conn = Connection::new(Arc::clone(&a), addr("10.0.0.3:1000"));
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let (reply, record, _) = handshake(&mut conn, client("Passw0rd!", false), &mut rng, 1);
        assert!(matches!(
            reply,
            Reply::Unauthorized {
                challenge: None,
                ..
            }
        ));
        let r = record.unwrap();
        let f = failure(&r.outcome);
        assert_eq!((f.side, f.stage), ("server", "negotiate"));
        assert_eq!(f.missing_names, ["NEGOTIATE_128"]);
        assert_eq!(r.negotiated_flags, None);
        assert_eq!(a.pending(), 0);
    }

    #[test]
    fn wrong_password_is_refused_and_logged() {
        let a = acceptor(0, &[0x2000_0000], Limits::default());
        let mut conn = Connection::new(Arc::clone(&a), addr("10.0.0.3:1000"));
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let (reply, record, _) = handshake(&mut conn, client("wrong", true), &mut rng, 1);
        assert_eq!(reply.status(), 401);
        let r = record.unwrap();
        assert_eq!(failure(&r.outcome).status, "STATUS_LOGON_FAILURE");
        assert_eq!(r.user, "alice");
        // The what-if server refuses too, by replay.
        assert_eq!(
            failure(&r.what_if[0].outcome).status,
            "STATUS_LOGON_FAILURE"
        );
        assert!(conn.authenticated().is_none());
    }

    #[test]
    fn challenge_lifetime_and_pending_bound() {
        let limits = Limits {
            max_pending: 1,
            challenge_lifetime_ms: 1000,
            ..Limits::default()
        };
        let a = acceptor(0, &[], limits);
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        // Expired.
        let mut conn = Connection::new(Arc::clone(&a), addr("10.0.0.3:1000"));
        let (reply, record, _) = handshake(&mut conn, client("Passw0rd!", true), &mut rng, 1001);
        assert_eq!(reply.status(), 401);
        let r = record.unwrap();
        assert_eq!(failure(&r.outcome).rule_id, "auth-challenge-expired");
        // One pending handshake at most: a second connection from the same
        // address waits its turn.
        let (neg, _) = Client::start(client("Passw0rd!", true)).unwrap();
        let mut first = Connection::new(Arc::clone(&a), addr("10.0.0.1:1"));
        let mut second = Connection::new(Arc::clone(&a), addr("10.0.0.1:2"));
        assert_eq!(
            first
                .on_request(Some(&header(&neg)), &mut rng, NOW, 0)
                .0
                .status(),
            401
        );
        assert_eq!(a.pending(), 1);
        assert_eq!(
            second.on_request(Some(&header(&neg)), &mut rng, NOW, 0).0,
            Reply::Busy
        );
        // A second NEGOTIATE on the same connection replaces its own.
        assert_eq!(
            first
                .on_request(Some(&header(&neg)), &mut rng, NOW, 0)
                .0
                .status(),
            401
        );
        drop(first);
        assert_eq!(a.pending(), 0);
        assert_eq!(
            second
                .on_request(Some(&header(&neg)), &mut rng, NOW, 0)
                .0
                .status(),
            401
        );
    }

    #[test]
    fn bad_headers() {
        let a = acceptor(0, &[], Limits::default());
        let mut conn = Connection::new(a, addr("10.0.0.3:1000"));
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let mut ask = |h: &str| conn.on_request(Some(h), &mut rng, NOW, 0).0;
        assert!(matches!(ask("NTLM ***"), Reply::BadRequest(m) if m.contains("base64")));
        assert!(matches!(ask("NTLM"), Reply::BadRequest(m) if m.contains("without a token")));
        assert!(matches!(ask("NTLM AAAA"), Reply::BadRequest(m) if m.contains("Signature")));
        assert_eq!(ask("Basic YTpi").status(), 401);
        // SPNEGO NegTokenInit (application tag 0x60).
        let spnego = http::header_value(Scheme::Negotiate, &[0x60, 0x03, 0x06, 0x01, 0x00]);
        assert!(matches!(ask(&spnego), Reply::BadRequest(m) if m.contains("SPNEGO")));
        // An AUTHENTICATE with no CHALLENGE pending.
        let auth = header(b"NTLMSSP\0\x03\0\0\0");
        assert!(
            matches!(ask(&auth), Reply::Unauthorized { challenge: None, reason } if reason.contains("without a CHALLENGE"))
        );
    }

    /// Real clients send the scheme in any case and base64 with or without
    /// padding; the server reads them all (as decode and audit do).
    #[test]
    fn unpadded_base64_and_any_scheme_case_are_answered() {
        let a = acceptor(0, &[], Limits::default());
        for (i, (scheme, pad)) in [("ntlm", false), ("NEGOTIATE", false), ("Ntlm", true)]
            .into_iter()
            .enumerate()
        {
            let mut conn = Connection::new(Arc::clone(&a), addr(&format!("10.0.1.{i}:1")));
            let mut rng = ChaCha20Rng::seed_from_u64(12);
            let (neg, c) = Client::start(client("Passw0rd!", true)).unwrap();
            let b64 = http::encode_token(&neg);
            let b64 = if pad {
                &b64[..]
            } else {
                b64.trim_end_matches('=')
            };
            assert!(pad || !b64.ends_with('='));
            let (reply, _) = conn.on_request(Some(&format!(" {scheme}  {b64} ")), &mut rng, NOW, 0);
            let Reply::Unauthorized {
                challenge: Some((answered, chal)),
                ..
            } = reply
            else {
                panic!("{scheme}: {reply:?}")
            };
            assert_eq!(Some(answered), Scheme::from_name(scheme));
            let (auth, _) = c.on_challenge(&chal, &mut rng, NOW).unwrap();
            let b64 = http::encode_token(&auth);
            let header = format!("{scheme} {}", b64.trim_end_matches('='));
            let (reply, record) = conn.on_request(Some(&header), &mut rng, NOW, 1);
            assert_eq!(reply.status(), 200, "{scheme}: {reply:?}");
            assert!(record.unwrap().succeeded());
        }
    }

    #[test]
    fn wrapped_messages_both_ways() {
        let a = acceptor(0, &[], Limits::default());
        let mut conn = Connection::new(a, addr("10.0.0.3:1000"));
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        assert_eq!(conn.on_wrap(WrapMode::Seal, &[0; 20]).status(), 401);
        let (_, _, client) = handshake(&mut conn, client("Passw0rd!", true), &mut rng, 1);
        let mut client = client.unwrap();
        for mode in [WrapMode::Seal, WrapMode::Sign, WrapMode::Seal] {
            let mut data = b"hello".to_vec();
            let sig = match mode {
                WrapMode::Seal => client.security.seal(&mut data).unwrap(),
                WrapMode::Sign => client.security.sign(&data).unwrap(),
            };
            let mut body = sig.to_bytes().to_vec();
            body.extend_from_slice(&data);
            let Reply::Data(answer) = conn.on_wrap(mode, &body) else {
                panic!("no data");
            };
            let (sig, data) = answer.split_at(MessageSignature::LEN);
            let sig = MessageSignature::parse(sig).unwrap();
            let mut data = data.to_vec();
            match mode {
                WrapMode::Seal => client.security.unseal(&mut data, &sig).unwrap(),
                WrapMode::Sign => client.security.verify(&data, &sig).unwrap(),
            }
            assert_eq!(data, b"ntlmsim: hello");
        }
        // Tampered: refused.
        let mut data = b"x".to_vec();
        let sig = client.security.seal(&mut data).unwrap();
        let mut body = sig.to_bytes().to_vec();
        body.extend_from_slice(&data);
        body[16] ^= 1;
        assert!(
            matches!(conn.on_wrap(WrapMode::Seal, &body), Reply::BadRequest(m) if m.contains("does not verify"))
        );
        assert!(
            matches!(conn.on_wrap(WrapMode::Sign, &[1, 2]), Reply::BadRequest(m) if m.contains("16-byte"))
        );
    }

    #[test]
    fn a_greedy_address_cannot_keep_an_honest_client_out() {
        let limits = Limits {
            max_pending: 4,
            ..Limits::default()
        };
        let a = acceptor(0, &[], limits);
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let (neg, _) = Client::start(client("Passw0rd!", true)).unwrap();
        let mut greedy: Vec<Connection> = (0..6)
            .map(|i| Connection::new(Arc::clone(&a), addr(&format!("192.0.2.9:{}", 1000 + i))))
            .collect();
        let statuses: Vec<u16> = greedy
            .iter_mut()
            .map(|c| {
                c.on_request(Some(&header(&neg)), &mut rng, NOW, 0)
                    .0
                    .status()
            })
            .collect();
        assert_eq!(statuses, [401, 401, 401, 401, 503, 503]);
        let mut honest = Connection::new(Arc::clone(&a), addr("192.0.2.1:5000"));
        let (reply, record, _) = handshake(&mut honest, client("Passw0rd!", true), &mut rng, 1);
        assert_eq!(reply.status(), 200);
        assert!(record.unwrap().succeeded());
        assert_eq!(a.evicted(), 1);
        // The greedy connection whose CHALLENGE was withdrawn is told so.
        let auth = header(b"NTLMSSP\0\x03\0\0\0");
        let (reply, record) = greedy[0].on_request(Some(&auth), &mut rng, NOW, 3);
        assert!(record.is_none());
        assert!(
            matches!(&reply, Reply::Unauthorized { reason, .. } if reason.contains("withdrawn")),
            "{reply:?}"
        );
        assert_eq!(a.pending(), 3);
        drop(greedy);
        assert_eq!(a.pending(), 0);
    }

    #[test]
    fn unknown_account_and_wrong_password_look_the_same_on_the_wire() {
        let a = acceptor(0, &[], Limits::default());
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let mut run = |c| {
            let mut conn = Connection::new(Arc::clone(&a), addr("10.0.0.4:1"));
            let (reply, record, _) = handshake(&mut conn, c, &mut rng, 1);
            (reply, record.unwrap())
        };
        let (unknown, unknown_record) = run(named("mallory", "Passw0rd!", "WS"));
        let (wrong, wrong_record) = run(named("alice", "wrong", "WS"));
        assert_eq!(unknown, wrong);
        assert_eq!(
            unknown,
            Reply::Unauthorized {
                challenge: None,
                reason: LOGON_FAILURE.into()
            }
        );
        // The log keeps the difference.
        let (u, w) = (
            failure(&unknown_record.outcome),
            failure(&wrong_record.outcome),
        );
        assert_eq!(
            (u.status, w.status),
            ("STATUS_LOGON_FAILURE", "STATUS_LOGON_FAILURE")
        );
        assert!(u.reason.contains("no such account"), "{}", u.reason);
        assert!(w.reason.contains("does not verify"), "{}", w.reason);
    }
}
