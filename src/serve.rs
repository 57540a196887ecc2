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
//! Resource bounds ([`Limits`]): at most `max_pending` connections may hold a
//! CHALLENGE waiting for its AUTHENTICATE (a NEGOTIATE beyond it gets `503`),
//! and a CHALLENGE expires after `challenge_lifetime_ms`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ntlm_policy::{
    Detail, Failure, MinSessionSecurity, Side, Stage, rules, server_on_authenticate,
};
use ntlm_session::{Established, Server, ServerAwaitingAuthenticate, ServerSettings};
use ntlm_wire::{
    AuthenticateMessage, MessageSignature, MessageType, NegotiateFlags, NegotiateMessage,
};
use rand_chacha::rand_core::{CryptoRng, RngCore};
use serde::Serialize;

use crate::outcome::{OutcomeJson, hex32, names};

/// The HTTP authentication scheme a token came with (RFC 4559 `Negotiate`
/// carrying a raw NTLMSSP token is accepted as well as `NTLM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `NTLM`.
    Ntlm,
    /// `Negotiate` with a raw NTLMSSP token.
    Negotiate,
}

impl Scheme {
    /// The scheme as written in headers.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ntlm => "NTLM",
            Self::Negotiate => "Negotiate",
        }
    }
}

/// Bounds on what one server holds for clients that have not authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections that may wait for their AUTHENTICATE at once.
    pub max_pending: usize,
    /// How long a CHALLENGE stays valid, in milliseconds.
    pub challenge_lifetime_ms: u64,
}

impl Limits {
    /// Default [`Limits::max_pending`].
    pub const DEFAULT_MAX_PENDING: usize = 1024;
    /// Default [`Limits::challenge_lifetime_ms`]: 60 s. An interactive
    /// client answers a CHALLENGE within milliseconds; a minute leaves room
    /// for a slow proxy and bounds how long a captured CHALLENGE is useful.
    pub const DEFAULT_CHALLENGE_LIFETIME_MS: u64 = 60_000;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_pending: Self::DEFAULT_MAX_PENDING,
            challenge_lifetime_ms: Self::DEFAULT_CHALLENGE_LIFETIME_MS,
        }
    }
}

/// What every connection of one server shares.
#[derive(Debug)]
pub struct Acceptor {
    settings: ServerSettings,
    what_if: Vec<MinSessionSecurity>,
    limits: Limits,
    pending: AtomicUsize,
}

impl Acceptor {
    /// An acceptor enforcing `settings`, judging every handshake also under
    /// each mask of `what_if`.
    pub fn new(settings: ServerSettings, what_if: Vec<MinSessionSecurity>, limits: Limits) -> Self {
        Self {
            settings,
            what_if,
            limits,
            pending: AtomicUsize::new(0),
        }
    }

    /// Connections holding a CHALLENGE now.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    /// The limits.
    pub const fn limits(&self) -> Limits {
        self.limits
    }

    /// Takes a pending slot, or `false` when all are taken.
    fn reserve(&self) -> bool {
        self.pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.limits.max_pending).then_some(n.saturating_add(1))
            })
            .is_ok()
    }

    fn release(&self) {
        let _ = self
            .pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `401`: `WWW-Authenticate: NTLM` (and `Negotiate`), with the CHALLENGE
    /// when there is one; `reason` is the body.
    Unauthorized {
        /// The CHALLENGE, base64, and its scheme.
        challenge: Option<(Scheme, String)>,
        /// Why, for the body.
        reason: String,
    },
    /// `200`: the connection is authenticated.
    Ok {
        /// `DOMAIN\user`.
        account: String,
    },
    /// `400`: the header could not be read; the body says why.
    BadRequest(String),
    /// `503`: too many handshakes in progress; try again.
    Busy,
    /// `200` with a binary body: the answer to a wrapped message.
    Data(Vec<u8>),
}

impl Reply {
    /// The HTTP status code.
    pub const fn status(&self) -> u16 {
        match self {
            Self::Unauthorized { .. } => 401,
            Self::Ok { .. } | Self::Data(_) => 200,
            Self::BadRequest(_) => 400,
            Self::Busy => 503,
        }
    }
}

/// How a what-if verdict was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WhatIfMethod {
    /// The client's messages replayed against the what-if server: exact.
    Replay,
    /// The what-if server's CHALLENGE differs from the one the client
    /// answered, so only the flag checks were replayed.
    Flags,
}

/// The verdict under one what-if mask.
#[derive(Debug, Clone, Serialize)]
pub struct WhatIf {
    /// The `NtlmMinServerSec` mask.
    pub server_min: String,
    /// How the verdict was reached.
    pub method: WhatIfMethod,
    /// The verdict.
    pub outcome: OutcomeJson,
}

/// One finished handshake (a log line; JSON Lines with `--json`).
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// When the CHALLENGE was sent (or the NEGOTIATE refused), RFC 3339.
    pub time: Option<String>,
    /// The client's address, `ip:port`.
    pub client: String,
    /// The HTTP scheme used.
    pub scheme: &'static str,
    /// User name from the AUTHENTICATE (empty before it).
    pub user: String,
    /// Domain name from the AUTHENTICATE.
    pub domain: String,
    /// Workstation from the AUTHENTICATE.
    pub workstation: String,
    /// The client's Version field, when it sent one.
    pub client_version: Option<String>,
    /// NEGOTIATE flags.
    pub offered_flags: String,
    /// Names of the NEGOTIATE flags.
    pub offered_flags_names: Vec<&'static str>,
    /// CHALLENGE flags (`null` when no CHALLENGE was sent).
    pub challenge_flags: Option<String>,
    /// AUTHENTICATE flags (`null` before an AUTHENTICATE).
    pub negotiated_flags: Option<String>,
    /// Names of the AUTHENTICATE flags.
    pub negotiated_flags_names: Vec<&'static str>,
    /// `LM`, `NTLMv1`, `NTLM2 session`, `NTLMv2`, `anonymous`, or `null`.
    pub response_kind: Option<&'static str>,
    /// Whether the AUTHENTICATE carried a MIC (non-zero; verified on success).
    pub mic: bool,
    /// The verdict under the enforced settings.
    pub outcome: OutcomeJson,
    /// The verdict under each what-if mask.
    pub what_if: Vec<WhatIf>,
}

impl Record {
    /// Whether the enforced verdict is a success.
    pub const fn succeeded(&self) -> bool {
        self.outcome.is_success()
    }

    /// One human line.
    pub fn line(&self) -> String {
        let who = if self.user.is_empty() {
            String::from("-")
        } else {
            format!("{}\\{}", self.domain, self.user)
        };
        let mut s = format!(
            "{} {} {} offered {}",
            self.client,
            who,
            self.response_kind.unwrap_or("-"),
            self.offered_flags
        );
        if let Some(n) = &self.negotiated_flags {
            s.push_str(&format!(" negotiated {n}"));
        }
        s.push_str(&format!(" -> {}", verdict(&self.outcome)));
        for w in &self.what_if {
            s.push_str(&format!(
                " | what-if {}: {}",
                w.server_min,
                verdict(&w.outcome)
            ));
        }
        s
    }
}

fn verdict(o: &OutcomeJson) -> String {
    match o {
        OutcomeJson::Success(_) => String::from("success"),
        OutcomeJson::Failure(f) => {
            let mut s = format!("FAIL {} at {} {}", f.side, f.stage, f.status);
            if !f.missing_names.is_empty() {
                s.push_str(&format!(" missing {}", f.missing_names.join("|")));
            }
            s.push_str(&format!(" [{}: {}]", f.rule_id, f.rule));
            s
        }
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
    filetime: u64,
    sent_ms: u64,
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
    state: State,
}

impl Drop for Connection {
    fn drop(&mut self) {
        if matches!(self.state, State::Pending(_)) {
            self.acceptor.release();
        }
    }
}

/// A token read from an `Authorization` header.
enum Token {
    Ntlm(Scheme, Vec<u8>),
    /// Some other scheme (Basic, Bearer...): answered with the NTLM offer.
    Other,
}

/// Reads `NTLM <b64>` or `Negotiate <b64>`.
fn token(header: &str) -> Result<Token, String> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let scheme = if scheme.eq_ignore_ascii_case("NTLM") {
        Scheme::Ntlm
    } else if scheme.eq_ignore_ascii_case("Negotiate") {
        Scheme::Negotiate
    } else {
        return Ok(Token::Other);
    };
    let b64 = rest.trim();
    if b64.is_empty() {
        return Err(format!(
            "Authorization: {} without a token",
            scheme.as_str()
        ));
    }
    let bytes = B64.decode(b64).map_err(|e| {
        format!(
            "Authorization: the {} token is not valid base64: {e}",
            scheme.as_str()
        )
    })?;
    if crate::spnego::looks_like_spnego(&bytes) {
        return Err(String::from(
            "Authorization: a SPNEGO-wrapped token; this server speaks raw NTLMSSP only \
             (use the NTLM scheme, or Negotiate with a raw NTLMSSP token)",
        ));
    }
    Ok(Token::Ntlm(scheme, bytes))
}

impl Connection {
    /// A new connection from `client` (`ip:port`).
    pub fn new(acceptor: Arc<Acceptor>, client: String) -> Self {
        Self {
            acceptor,
            client,
            state: State::Idle,
        }
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
        filetime: u64,
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
        if matches!(
            std::mem::replace(&mut self.state, State::Idle),
            State::Pending(_)
        ) {
            self.acceptor.release();
        }
    }

    fn negotiate<R: RngCore + CryptoRng>(
        &mut self,
        scheme: Scheme,
        negotiate: Vec<u8>,
        rng: &mut R,
        filetime: u64,
        now_ms: u64,
    ) -> (Reply, Option<Record>) {
        // A NEGOTIATE starts a new handshake on this connection, whatever came before.
        self.reset();
        if !self.acceptor.reserve() {
            return (Reply::Busy, None);
        }
        let mut server_challenge = [0u8; 8];
        rng.fill_bytes(&mut server_challenge);
        let server = Server::start(self.acceptor.settings.clone());
        match server.on_negotiate_with(&negotiate, server_challenge, filetime) {
            Ok((challenge, server)) => {
                let b64 = B64.encode(&challenge);
                self.state = State::Pending(Box::new(Pending {
                    server,
                    scheme,
                    negotiate,
                    challenge,
                    server_challenge,
                    filetime,
                    sent_ms: now_ms,
                }));
                (
                    Reply::Unauthorized {
                        challenge: Some((scheme, b64)),
                        reason: String::from("NTLM CHALLENGE sent; answer with the AUTHENTICATE"),
                    },
                    None,
                )
            }
            Err(f) => {
                self.acceptor.release();
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
        self.acceptor.release();
        let Pending {
            server,
            scheme,
            negotiate,
            challenge,
            server_challenge,
            filetime,
            sent_ms,
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
            outcome: match &outcome {
                Ok(report) => OutcomeJson::success(report, None),
                Err(f) => OutcomeJson::failure(f),
            },
        }
    }

    fn record(
        &self,
        scheme: Scheme,
        negotiate: &[u8],
        challenge_flags: Option<NegotiateFlags>,
        authenticate: Option<&[u8]>,
        outcome: &Result<ntlm_session::SessionReport, Failure>,
        filetime: u64,
    ) -> Record {
        let neg = NegotiateMessage::parse(negotiate).ok();
        let offered = neg.as_ref().map_or(NegotiateFlags::empty(), |n| n.flags);
        let auth = authenticate.and_then(|a| AuthenticateMessage::parse(a).ok());
        let (mut user, mut domain, mut workstation) = (String::new(), String::new(), String::new());
        let mut negotiated = None;
        let mut response_kind = None;
        let mut mic = false;
        let mut client_version = neg.as_ref().and_then(|n| n.version).map(|v| v.to_string());
        if let Some(a) = &auth {
            let charset = a.flags.charset().unwrap_or(ntlm_wire::Charset::Unicode);
            let text = |b: &Option<std::borrow::Cow<'_, [u8]>>| {
                ntlm_wire::text::decode(b.as_deref().unwrap_or_default(), charset)
                    .unwrap_or_default()
            };
            user = text(&a.user);
            domain = text(&a.domain);
            workstation = text(&a.workstation);
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
        Record {
            time: crate::filetime::to_rfc3339(filetime),
            client: self.client.clone(),
            scheme: scheme.as_str(),
            user,
            domain,
            workstation,
            client_version,
            offered_flags: hex32(offered.bits()),
            offered_flags_names: names(offered),
            challenge_flags: challenge_flags.map(|f| hex32(f.bits())),
            negotiated_flags: negotiated.map(|f| hex32(f.bits())),
            negotiated_flags_names: negotiated.map(names).unwrap_or_default(),
            response_kind,
            mic,
            outcome: match outcome {
                Ok(report) => OutcomeJson::success(report, None),
                Err(f) => OutcomeJson::failure(f),
            },
            what_if: Vec::new(),
        }
    }
}

/// What a what-if replay needs of the real exchange.
struct Replay<'a> {
    negotiate: &'a [u8],
    challenge: &'a [u8],
    authenticate: &'a [u8],
    server_challenge: [u8; 8],
    filetime: u64,
    challenge_flags: NegotiateFlags,
    enforced: &'a Result<ntlm_session::SessionReport, Failure>,
    expired: bool,
}

#[cfg(test)]
mod tests {
    use ntlm_policy::Status;
    use ntlm_session::{Client, ClientSettings, Credentials, MemoryStore};
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;

    const NOW: u64 = 134_117_280_000_000_000;

    fn acceptor(min: u32, what_if: &[u32], limits: Limits) -> Arc<Acceptor> {
        let mut store = MemoryStore::new();
        store.add_password("TESTDOM", "alice", "Passw0rd!");
        let mut s = ServerSettings::new(Arc::new(store));
        s.min = MinSessionSecurity::from_registry(min);
        Arc::new(Acceptor::new(
            s,
            what_if
                .iter()
                .map(|&m| MinSessionSecurity::from_registry(m))
                .collect(),
            limits,
        ))
    }

    fn client(password: &str, offer_128: bool) -> ClientSettings {
        let mut c = ClientSettings::new(Credentials::password("alice", "TESTDOM", password));
        c.config.integrity = true;
        c.config.confidentiality = true;
        if !offer_128 {
            c.config.offer.remove(NegotiateFlags::NEGOTIATE_128);
            c.config
                .offer_with_security
                .remove(NegotiateFlags::NEGOTIATE_128);
            c.min = MinSessionSecurity::from_registry(0);
        }
        c
    }

    fn header(msg: &[u8]) -> String {
        format!("NTLM {}", B64.encode(msg))
    }

    /// One full handshake on `conn`; the replies and the record.
    fn handshake(
        conn: &mut Connection,
        c: ClientSettings,
        rng: &mut ChaCha20Rng,
        now_ms: u64,
    ) -> (Reply, Option<Record>, Option<Established>) {
        let (neg, client) = Client::start(c).unwrap();
        let (reply, record) = conn.on_request(Some(&header(&neg)), rng, NOW, 0);
        let Reply::Unauthorized {
            challenge: Some((Scheme::Ntlm, chal)),
            ..
        } = reply
        else {
            return (reply, record, None);
        };
        assert!(record.is_none());
        let chal = B64.decode(chal).unwrap();
        let (auth, established) = client.on_challenge(&chal, rng, NOW).unwrap();
        let (reply, record) = conn.on_request(Some(&header(&auth)), rng, NOW, now_ms);
        (reply, record, Some(established.0))
    }

    fn failure(o: &OutcomeJson) -> &crate::outcome::FailureJson {
        match o {
            OutcomeJson::Failure(f) => f,
            OutcomeJson::Success(_) => panic!("expected a failure"),
        }
    }

    #[test]
    fn handshake_then_authenticated_connection_with_what_if() {
        let a = acceptor(0, &[0x2000_0000, 0x2008_0030], Limits::default());
        let mut conn = Connection::new(Arc::clone(&a), "127.0.0.1:5000".into());
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
        let mut conn = Connection::new(Arc::clone(&a), "c".into());
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
        assert!(
            r.line()
                .contains("what-if 0x20000000: FAIL server at negotiate")
        );
    }

    #[test]
    fn enforced_minimum_refuses_the_negotiate() {
        let a = acceptor(0x2000_0000, &[], Limits::default());
        let mut conn = Connection::new(Arc::clone(&a), "c".into());
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
        let mut conn = Connection::new(Arc::clone(&a), "c".into());
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
        };
        let a = acceptor(0, &[], limits);
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        // Expired.
        let mut conn = Connection::new(Arc::clone(&a), "c".into());
        let (reply, record, _) = handshake(&mut conn, client("Passw0rd!", true), &mut rng, 1001);
        assert_eq!(reply.status(), 401);
        let r = record.unwrap();
        assert_eq!(failure(&r.outcome).rule_id, "auth-challenge-expired");
        // One pending handshake at most.
        let (neg, _) = Client::start(client("Passw0rd!", true)).unwrap();
        let mut first = Connection::new(Arc::clone(&a), "a".into());
        let mut second = Connection::new(Arc::clone(&a), "b".into());
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
        let mut conn = Connection::new(a, "c".into());
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let mut ask = |h: &str| conn.on_request(Some(h), &mut rng, NOW, 0).0;
        assert!(matches!(ask("NTLM ***"), Reply::BadRequest(m) if m.contains("base64")));
        assert!(matches!(ask("NTLM"), Reply::BadRequest(m) if m.contains("without a token")));
        assert!(matches!(ask("NTLM AAAA"), Reply::BadRequest(m) if m.contains("Signature")));
        assert_eq!(ask("Basic YTpi").status(), 401);
        // SPNEGO NegTokenInit (application tag 0x60).
        let spnego = format!("Negotiate {}", B64.encode([0x60, 0x03, 0x06, 0x01, 0x00]));
        assert!(matches!(ask(&spnego), Reply::BadRequest(m) if m.contains("SPNEGO")));
        // An AUTHENTICATE with no CHALLENGE pending.
        let auth = format!("NTLM {}", B64.encode(b"NTLMSSP\0\x03\0\0\0"));
        assert!(
            matches!(ask(&auth), Reply::Unauthorized { challenge: None, reason } if reason.contains("without a CHALLENGE"))
        );
    }

    #[test]
    fn wrapped_messages_both_ways() {
        let a = acceptor(0, &[], Limits::default());
        let mut conn = Connection::new(a, "c".into());
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
}
