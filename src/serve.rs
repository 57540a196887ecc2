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
//!   and the record says so ([`Record::truncated`]); [`LogEntry::line`]
//!   writes one line per record, escaped for terminals ([`crate::sink`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
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
use serde::Serialize;

use crate::outcome::{CertaintyJson, OutcomeJson, hex32, names};
use crate::profiles::AssumedFacts;
use crate::sink;

/// The HTTP authentication scheme a token came with (RFC 4559 `Negotiate`
/// carrying a raw NTLMSSP token is accepted as well as `NTLM`).
pub use ntlm_gss::http::Scheme;

/// Bounds on what one server holds for its clients, authenticated or not.
/// Every field is listed in docs/SECURITY.md with what happens at the bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections that may wait for their AUTHENTICATE at once, shared
    /// fairly between client addresses ([`PendingTable`]).
    pub max_pending: usize,
    /// How long a CHALLENGE stays valid, in milliseconds.
    pub challenge_lifetime_ms: u64,
    /// Open connections at once; a connection beyond it is answered `503`
    /// and closed.
    pub max_connections: usize,
    /// Open connections from one client address at once (IPv6: one /64).
    pub max_connections_per_ip: usize,
    /// Time for a request's headers to arrive, and for the next request on
    /// an idle keep-alive connection, in milliseconds.
    pub header_timeout_ms: u64,
    /// Time for a request's body to arrive once its headers have, in
    /// milliseconds.
    pub body_timeout_ms: u64,
    /// Time a write to a client may stay blocked (a client that sends
    /// requests but never reads the answers), in milliseconds; then the
    /// connection is closed.
    pub send_timeout_ms: u64,
    /// The longest request body, in bytes (`413` beyond).
    pub max_body: usize,
    /// Request body bytes held in memory at once by all connections
    /// ([`BodyBudget`]; `503` when exhausted). Bodies that are not needed
    /// are read and discarded, never held.
    pub max_body_memory: usize,
    /// Characters kept of each name from the wire (user, domain,
    /// workstation) in a record.
    pub max_field_chars: usize,
    /// Failure records one address may write in a burst ([`FailureLimiter`]).
    pub failure_burst: u32,
    /// After the burst, one more failure record per this many milliseconds
    /// per address.
    pub failure_interval_ms: u64,
    /// Records waiting for the log writer; beyond it records are dropped
    /// and counted.
    pub log_queue: usize,
    /// How long shutdown waits for the log writer to drain, in milliseconds.
    pub log_drain_ms: u64,
}

impl Limits {
    /// Default [`Limits::max_pending`].
    pub const DEFAULT_MAX_PENDING: usize = 1024;
    /// Default [`Limits::challenge_lifetime_ms`]: 60 s. An interactive
    /// client answers a CHALLENGE within milliseconds; a minute leaves room
    /// for a slow proxy and bounds how long a captured CHALLENGE is useful.
    pub const DEFAULT_CHALLENGE_LIFETIME_MS: u64 = 60_000;
    /// Default [`Limits::max_connections`]: 512, half of the common
    /// 1,024-descriptor soft limit, so the listener, the log and a busy
    /// moment's closing sockets still have descriptors.
    pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
    /// Default [`Limits::max_connections_per_ip`]: 64. Browsers open six
    /// connections per host (the HTML Living Standard leaves it to them;
    /// Chromium and Firefox use six), so 64 leaves room for a small NAT.
    pub const DEFAULT_MAX_CONNECTIONS_PER_IP: usize = 64;
    /// Default [`Limits::header_timeout_ms`]: 10 s.
    pub const DEFAULT_HEADER_TIMEOUT_MS: u64 = 10_000;
    /// Default [`Limits::body_timeout_ms`]: 10 s.
    pub const DEFAULT_BODY_TIMEOUT_MS: u64 = 10_000;
    /// Default [`Limits::send_timeout_ms`]: 10 s.
    pub const DEFAULT_SEND_TIMEOUT_MS: u64 = 10_000;
    /// Default [`Limits::max_body`]: 1 MiB.
    pub const DEFAULT_MAX_BODY: usize = 1 << 20;
    /// Default [`Limits::max_body_memory`]: 32 MiB, 32 bodies of the
    /// largest size.
    pub const DEFAULT_MAX_BODY_MEMORY: usize = 32 << 20;
    /// Default [`Limits::max_field_chars`]: 256 (Windows user names have at
    /// most 20 characters, NetBIOS names 15, DNS names 255).
    pub const DEFAULT_MAX_FIELD_CHARS: usize = 256;
    /// Default [`Limits::failure_burst`].
    pub const DEFAULT_FAILURE_BURST: u32 = 10;
    /// Default [`Limits::failure_interval_ms`].
    pub const DEFAULT_FAILURE_INTERVAL_MS: u64 = 1_000;
    /// Default [`Limits::log_queue`].
    pub const DEFAULT_LOG_QUEUE: usize = 1024;
    /// Default [`Limits::log_drain_ms`].
    pub const DEFAULT_LOG_DRAIN_MS: u64 = 2_000;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_pending: Self::DEFAULT_MAX_PENDING,
            challenge_lifetime_ms: Self::DEFAULT_CHALLENGE_LIFETIME_MS,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            max_connections_per_ip: Self::DEFAULT_MAX_CONNECTIONS_PER_IP,
            header_timeout_ms: Self::DEFAULT_HEADER_TIMEOUT_MS,
            body_timeout_ms: Self::DEFAULT_BODY_TIMEOUT_MS,
            send_timeout_ms: Self::DEFAULT_SEND_TIMEOUT_MS,
            max_body: Self::DEFAULT_MAX_BODY,
            max_body_memory: Self::DEFAULT_MAX_BODY_MEMORY,
            max_field_chars: Self::DEFAULT_MAX_FIELD_CHARS,
            failure_burst: Self::DEFAULT_FAILURE_BURST,
            failure_interval_ms: Self::DEFAULT_FAILURE_INTERVAL_MS,
            log_queue: Self::DEFAULT_LOG_QUEUE,
            log_drain_ms: Self::DEFAULT_LOG_DRAIN_MS,
        }
    }
}

/// The address a client is counted under: an IPv4 address (or an
/// IPv4-mapped IPv6 one) as it is, an IPv6 address by its /64 prefix,
/// since one IPv6 host is routinely given a whole /64 (RFC 6177) and could
/// otherwise take a fresh share per address.
#[must_use]
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !u128::from(u64::MAX);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A pending handshake withdrawn to admit another ([`PendingTable::admit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evicted {
    /// Its ticket.
    pub id: u64,
    /// Its client address ([`client_key`]).
    pub address: IpAddr,
    /// Whether its CHALLENGE had expired (else it was the oldest of the
    /// heaviest holder).
    pub expired: bool,
}

/// The answer of [`PendingTable::admit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Admitted with this ticket, possibly by withdrawing another.
    Admitted {
        /// The ticket, for [`PendingTable::release`].
        id: u64,
        /// The handshake withdrawn to make room, if any.
        evicted: Option<Evicted>,
    },
    /// The table is full and the address already holds at least as many
    /// pending handshakes as any other: `503`.
    Refused,
}

/// The pending handshakes of one server, by client address.
///
/// Fair share: while the table has room, anyone is admitted. When it is
/// full, a newcomer from address A is admitted by withdrawing, in order,
/// (1) the oldest handshake whose CHALLENGE has expired, else (2) the oldest
/// handshake of the address H holding the most (ties: the one whose oldest
/// handshake is oldest), provided H holds more than A. Otherwise A is
/// refused. So the total never exceeds the capacity, an address is refused
/// only while it holds at least as many as every other address (its fair
/// share `capacity / addresses` or more), and one client re-sending
/// NEGOTIATEs cannot keep others out: each newcomer takes a slot from it.
#[derive(Debug)]
pub struct PendingTable {
    capacity: usize,
    lifetime_ms: u64,
    next_id: u64,
    /// Ticket -> (address, time admitted), in admission order.
    by_id: BTreeMap<u64, (IpAddr, u64)>,
    by_address: HashMap<IpAddr, BTreeSet<u64>>,
}

impl PendingTable {
    /// An empty table for `capacity` handshakes whose CHALLENGE lives
    /// `lifetime_ms`.
    #[must_use]
    pub fn new(capacity: usize, lifetime_ms: u64) -> Self {
        Self {
            capacity,
            lifetime_ms,
            next_id: 0,
            by_id: BTreeMap::new(),
            by_address: HashMap::new(),
        }
    }

    /// Pending handshakes now.
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no handshake is pending.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Pending handshakes of `address` ([`client_key`]).
    #[must_use]
    pub fn count(&self, address: IpAddr) -> usize {
        self.by_address.get(&address).map_or(0, BTreeSet::len)
    }

    /// Whether ticket `id` is still pending (not released nor withdrawn).
    #[must_use]
    pub fn holds(&self, id: u64) -> bool {
        self.by_id.contains_key(&id)
    }

    /// Admits a handshake from `address` at `now_ms`, withdrawing another
    /// when the table is full and the fair-share rule allows it.
    pub fn admit(&mut self, address: IpAddr, now_ms: u64) -> Admission {
        if self.capacity == 0 {
            return Admission::Refused;
        }
        let mut evicted = None;
        if self.by_id.len() >= self.capacity {
            evicted = self.victim(address, now_ms);
            match evicted {
                Some(e) => {
                    self.release(e.id);
                }
                None => return Admission::Refused,
            }
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.by_id.insert(id, (address, now_ms));
        self.by_address.entry(address).or_default().insert(id);
        Admission::Admitted { id, evicted }
    }

    fn victim(&self, address: IpAddr, now_ms: u64) -> Option<Evicted> {
        if let Some((&id, &(owner, sent))) = self.by_id.first_key_value() {
            if now_ms.saturating_sub(sent) > self.lifetime_ms {
                return Some(Evicted {
                    id,
                    address: owner,
                    expired: true,
                });
            }
        }
        let mine = self.count(address);
        // The heaviest holder; among equals, the one with the oldest ticket.
        let (heaviest, oldest) = self
            .by_address
            .iter()
            .filter_map(|(a, ids)| ids.first().map(|&first| (*a, ids.len(), first)))
            .max_by(|x, y| x.1.cmp(&y.1).then(y.2.cmp(&x.2)))
            .map(|(a, n, first)| ((a, n), first))?;
        (heaviest.1 > mine).then_some(Evicted {
            id: oldest,
            address: heaviest.0,
            expired: false,
        })
    }

    /// Ends ticket `id` (AUTHENTICATE received, new NEGOTIATE, connection
    /// closed). Returns whether it was still pending.
    pub fn release(&mut self, id: u64) -> bool {
        let Some((address, _)) = self.by_id.remove(&id) else {
            return false;
        };
        if let Some(ids) = self.by_address.get_mut(&address) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_address.remove(&address);
            }
        }
        true
    }
}

/// Why [`ConnectionGate::open`] refused a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateRefusal {
    /// `max_connections` are open.
    Total,
    /// `max_connections_per_ip` are open from this address.
    PerAddress,
}

#[derive(Debug, Default)]
struct GateState {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// Counts open connections, in total and per client address.
#[derive(Debug)]
pub struct ConnectionGate {
    max: usize,
    per_address: usize,
    state: Arc<Mutex<GateState>>,
}

/// One open connection, counted until dropped.
#[derive(Debug)]
pub struct ConnectionSlot {
    address: IpAddr,
    state: Arc<Mutex<GateState>>,
}

impl ConnectionGate {
    /// A gate for `max` connections, `per_address` from one address.
    #[must_use]
    pub fn new(max: usize, per_address: usize) -> Self {
        Self {
            max,
            per_address,
            state: Arc::default(),
        }
    }

    /// Counts a new connection from `address` ([`client_key`]), or says
    /// which bound refuses it.
    pub fn open(&self, address: IpAddr) -> Result<ConnectionSlot, GateRefusal> {
        let mut s = lock(&self.state);
        if s.total >= self.max {
            return Err(GateRefusal::Total);
        }
        let mine = s.by_address.entry(address).or_insert(0);
        if *mine >= self.per_address {
            if *mine == 0 {
                s.by_address.remove(&address);
            }
            return Err(GateRefusal::PerAddress);
        }
        *mine = mine.saturating_add(1);
        s.total = s.total.saturating_add(1);
        Ok(ConnectionSlot {
            address,
            state: Arc::clone(&self.state),
        })
    }

    /// Open connections now.
    #[must_use]
    pub fn open_now(&self) -> usize {
        lock(&self.state).total
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut s = lock(&self.state);
        s.total = s.total.saturating_sub(1);
        if let Some(n) = s.by_address.get_mut(&self.address) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                s.by_address.remove(&self.address);
            }
        }
    }
}

/// Request body bytes held in memory by all connections at once.
#[derive(Debug, Clone)]
pub struct BodyBudget {
    max: usize,
    used: Arc<AtomicUsize>,
}

/// Bytes taken from a [`BodyBudget`], given back when dropped.
#[derive(Debug)]
pub struct BodyReservation {
    held: usize,
    used: Arc<AtomicUsize>,
}

impl BodyBudget {
    /// A budget of `max` bytes.
    #[must_use]
    pub fn new(max: usize) -> Self {
        Self {
            max,
            used: Arc::default(),
        }
    }

    /// An empty reservation, to [`grow`](BodyBudget::grow).
    #[must_use]
    pub fn reservation(&self) -> BodyReservation {
        BodyReservation {
            held: 0,
            used: Arc::clone(&self.used),
        }
    }

    /// Bytes held now.
    #[must_use]
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    /// Takes `n` more bytes for `r`, or returns `false` (and takes nothing)
    /// when the budget cannot cover them.
    pub fn grow(&self, r: &mut BodyReservation, n: usize) -> bool {
        let max = self.max;
        let took = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                u.checked_add(n).filter(|&t| t <= max)
            })
            .is_ok();
        if took {
            r.held = r.held.saturating_add(n);
        }
        took
    }
}

impl BodyReservation {
    /// Bytes held by this reservation.
    #[must_use]
    pub const fn held(&self) -> usize {
        self.held
    }
}

impl Drop for BodyReservation {
    fn drop(&mut self) {
        let held = self.held;
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                Some(u.saturating_sub(held))
            });
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: u32,
    refilled_ms: u64,
    suppressed: u64,
}

/// The answer of [`FailureLimiter::admit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Write the record; `suppressed` records of this address were
    /// suppressed before it (write a summary first when non-zero).
    Write {
        /// Failure records suppressed since the last one written.
        suppressed: u64,
    },
    /// Suppress the record (counted).
    Suppress,
}

/// Rate limit of failure records per client address: a token bucket of
/// `burst` records refilled with one every `interval_ms`. Suppressed
/// records are counted and reported as one summary per address.
///
/// At most `max_addresses` addresses are tracked; when more fail at once,
/// records of untracked addresses are written (the log queue still bounds
/// them).
#[derive(Debug)]
pub struct FailureLimiter {
    burst: u32,
    interval_ms: u64,
    max_addresses: usize,
    buckets: HashMap<IpAddr, Bucket>,
}

impl FailureLimiter {
    /// Addresses tracked at most.
    pub const MAX_ADDRESSES: usize = 4096;

    /// A limiter of `burst` records, then one per `interval_ms`, per address.
    #[must_use]
    pub fn new(burst: u32, interval_ms: u64) -> Self {
        Self {
            burst,
            interval_ms: interval_ms.max(1),
            max_addresses: Self::MAX_ADDRESSES,
            buckets: HashMap::new(),
        }
    }

    fn refill(b: &mut Bucket, burst: u32, interval_ms: u64, now_ms: u64) {
        let elapsed = now_ms.saturating_sub(b.refilled_ms);
        let add = elapsed / interval_ms;
        if add > 0 {
            let tokens = u64::from(b.tokens)
                .saturating_add(add)
                .min(u64::from(burst));
            b.tokens = u32::try_from(tokens).unwrap_or(burst);
            b.refilled_ms = b
                .refilled_ms
                .saturating_add(add.saturating_mul(interval_ms));
        }
    }

    /// Whether a failure record of `address` at `now_ms` is written.
    pub fn admit(&mut self, address: IpAddr, now_ms: u64) -> Verdict {
        let (burst, interval) = (self.burst, self.interval_ms);
        if !self.buckets.contains_key(&address) && self.buckets.len() >= self.max_addresses {
            self.forget_idle(now_ms);
            if self.buckets.len() >= self.max_addresses {
                return Verdict::Write { suppressed: 0 };
            }
        }
        let b = self.buckets.entry(address).or_insert(Bucket {
            tokens: burst,
            refilled_ms: now_ms,
            suppressed: 0,
        });
        Self::refill(b, burst, interval, now_ms);
        if b.tokens == 0 {
            b.suppressed = b.suppressed.saturating_add(1);
            return Verdict::Suppress;
        }
        b.tokens = b.tokens.saturating_sub(1);
        Verdict::Write {
            suppressed: std::mem::take(&mut b.suppressed),
        }
    }

    /// Takes the suppressed counts of every address (for a periodic or final
    /// summary) and forgets the addresses whose bucket is full again.
    pub fn drain(&mut self, now_ms: u64) -> Vec<(IpAddr, u64)> {
        let mut out: Vec<(IpAddr, u64)> = self
            .buckets
            .iter_mut()
            .filter(|(_, b)| b.suppressed > 0)
            .map(|(a, b)| (*a, std::mem::take(&mut b.suppressed)))
            .collect();
        out.sort();
        self.forget_idle(now_ms);
        out
    }

    fn forget_idle(&mut self, now_ms: u64) {
        let (burst, interval) = (self.burst, self.interval_ms);
        self.buckets.retain(|_, b| {
            Self::refill(b, burst, interval, now_ms);
            b.tokens < burst || b.suppressed > 0
        });
    }

    /// Addresses tracked now.
    #[must_use]
    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }
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

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `401`: `WWW-Authenticate: NTLM` (and `Negotiate`), with the CHALLENGE
    /// when there is one ([`Reply::www_authenticate`]); `reason` is the body.
    Unauthorized {
        /// The CHALLENGE message and the scheme it is sent under.
        challenge: Option<(Scheme, Vec<u8>)>,
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
    /// The `WWW-Authenticate` value of a `401`: the scheme and the
    /// CHALLENGE in base64, or a bare `NTLM` before the handshake.
    pub fn www_authenticate(&self) -> Option<String> {
        match self {
            Self::Unauthorized {
                challenge: Some((scheme, message)),
                ..
            } => Some(http::header_value(*scheme, message)),
            Self::Unauthorized {
                challenge: None, ..
            } => Some(http::header_value(Scheme::Ntlm, &[])),
            _ => None,
        }
    }

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
    /// Whether the verdict is the same under every documented reading of
    /// the semantics switches ([`Acceptor::certainty`]); `null` when the
    /// NEGOTIATE could not be decoded.
    pub certainty: Option<CertaintyJson>,
}

/// A name from the wire cut to [`Limits::max_field_chars`] in a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Truncated {
    /// The record field: `user`, `domain`, `workstation`, or one of them
    /// with `_raw`.
    pub field: &'static str,
    /// Its length before the cut, in bytes of UTF-8.
    pub bytes: usize,
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
    /// The user name as hex when it cannot be decoded (`user` is then
    /// empty), cut to [`Limits::max_field_chars`] bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_raw: Option<String>,
    /// The domain name as hex when it cannot be decoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_raw: Option<String>,
    /// The workstation as hex when it cannot be decoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workstation_raw: Option<String>,
    /// The names above that were cut to [`Limits::max_field_chars`]
    /// characters (empty when none was).
    pub truncated: Vec<Truncated>,
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
    /// Whether the enforced verdict is the same under every documented
    /// reading of the semantics switches ([`Acceptor::certainty`]); `null`
    /// when the NEGOTIATE could not be decoded.
    pub certainty: Option<CertaintyJson>,
    /// What is assumed of the server's profile as a server: the enforced
    /// and what-if verdicts rest on it ([`Acceptor::with_assumed`]; absent
    /// when nothing is).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub assumed: Vec<AssumedFacts>,
}

/// `s` cut to `max_chars` characters; the cut is noted in `truncated`.
fn bounded(
    s: String,
    field: &'static str,
    max_chars: usize,
    truncated: &mut Vec<Truncated>,
) -> String {
    match s.char_indices().nth(max_chars) {
        None => s,
        Some((at, _)) => {
            truncated.push(Truncated {
                field,
                bytes: s.len(),
            });
            s.get(..at).unwrap_or_default().to_owned()
        }
    }
}

impl Record {
    /// Whether the enforced verdict is a success.
    pub const fn succeeded(&self) -> bool {
        self.outcome.is_success()
    }

    /// `value` of `field` for a terminal: escaped ([`sink::terminal`]),
    /// with `…(+N bytes)` when the record holds it cut.
    fn human(&self, field: &str, value: &str) -> String {
        let mut s = sink::terminal(value).into_owned();
        if let Some(t) = self.truncated.iter().find(|t| t.field == field) {
            let _ = write!(
                s,
                "\u{2026}(+{} bytes)",
                t.bytes.saturating_sub(value.len())
            );
        }
        s
    }

    /// A name for the human line: escaped, or its hex when undecodable.
    fn name(
        &self,
        field: &'static str,
        raw_field: &'static str,
        value: &str,
        raw: Option<&String>,
    ) -> String {
        match raw {
            Some(hex) => format!("<undecodable {}>", self.human(raw_field, hex)),
            None => self.human(field, value),
        }
    }

    /// One human line: every string from the wire escaped, so a record is
    /// always exactly one line.
    pub fn line(&self) -> String {
        let who = if self.user.is_empty() && self.user_raw.is_none() {
            String::from("-")
        } else {
            format!(
                "{}\\{}",
                self.name(
                    "domain",
                    "domain_raw",
                    &self.domain,
                    self.domain_raw.as_ref()
                ),
                self.name("user", "user_raw", &self.user, self.user_raw.as_ref())
            )
        };
        let mut s = format!(
            "{} {} {} offered {}",
            sink::terminal(&self.client),
            who,
            self.response_kind.unwrap_or("-"),
            self.offered_flags
        );
        if let Some(n) = &self.negotiated_flags {
            let _ = write!(s, " negotiated {n}");
        }
        let _ = write!(s, " -> {}", verdict(&self.outcome));
        uncertain(&mut s, self.certainty.as_ref());
        for w in &self.what_if {
            let _ = write!(s, " | what-if {}: {}", w.server_min, verdict(&w.outcome));
            uncertain(&mut s, w.certainty.as_ref());
        }
        if !self.assumed.is_empty() {
            let names: Vec<String> = self
                .assumed
                .iter()
                .map(|a| format!("{} as {}", sink::terminal(&a.profile), a.role))
                .collect();
            let _ = write!(s, " [assumed: {}]", names.join(", "));
        }
        s
    }
}

/// One line of the log: a handshake, or a note about the log itself.
#[derive(Debug, Clone)]
pub enum LogEntry {
    /// A finished handshake.
    Handshake(Box<Record>),
    /// `count` failure records of `client` were suppressed by the rate
    /// limit ([`FailureLimiter`]).
    Suppressed {
        /// The client address ([`client_key`]).
        client: IpAddr,
        /// Records suppressed.
        count: u64,
    },
    /// `count` records were dropped because the log writer could not keep
    /// up (the output is slow or blocked).
    Dropped {
        /// Records dropped.
        count: u64,
    },
}

/// A note line in `--json` output: `{"warning": KIND, "count": N,
/// "client": ADDR (suppressed only), "message": TEXT}`. Handshake records
/// never have a `warning` key.
#[derive(Serialize)]
struct Note<'a> {
    warning: &'static str,
    count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    client: Option<String>,
    message: &'a str,
}

/// `value` as one JSON line safe for a terminal: serde_json escapes only
/// C0 controls, quotes and backslashes (RFC 8259 7), so every other
/// [unsafe character](sink::is_unsafe_char) (C1 controls such as U+009B
/// CSI, DEL, bidi overrides, U+2028) is written as a `\uXXXX` escape too.
/// The decoded value is unchanged; all such characters are in the Basic
/// Multilingual Plane, so one escape each.
fn json_line<T: Serialize>(value: &T) -> Result<String, serde_json::Error> {
    let raw = serde_json::to_string(value)?;
    if !raw.chars().any(sink::is_unsafe_char) {
        return Ok(raw);
    }
    let mut out = String::with_capacity(raw.len() + 16);
    for c in raw.chars() {
        if sink::is_unsafe_char(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

impl LogEntry {
    /// The entry as one line, without the line end: the human line, or one
    /// JSON object with `json`. Neither contains a line break, another
    /// control character or an invisible formatting character
    /// ([`sink::line_safe`]).
    pub fn line(&self, json: bool) -> String {
        let (warning, count, client, message) = match self {
            Self::Handshake(r) => {
                return if json {
                    json_line(r).unwrap_or_else(|e| {
                        format!(
                            "{{\"warning\":\"unencodable\",\"message\":\"{}\"}}",
                            sink::terminal(&e.to_string()).replace('"', "'")
                        )
                    })
                } else {
                    r.line()
                };
            }
            Self::Suppressed { client, count } => (
                "suppressed",
                *count,
                Some(client.to_string()),
                format!(
                    "{count} similar failures from {client} suppressed (rate limit per address)"
                ),
            ),
            Self::Dropped { count } => (
                "dropped",
                *count,
                None,
                format!("{count} records dropped: the log output did not keep up"),
            ),
        };
        if json {
            let note = Note {
                warning,
                count,
                client,
                message: &message,
            };
            json_line(&note)
                .unwrap_or_else(|_| format!("{{\"warning\":\"{warning}\",\"count\":{count}}}"))
        } else {
            format!("warning: {message}")
        }
    }
}

/// ` [breaks only under rule-128=strict; works under every other reading]`
/// after a verdict that some documented reading reverses.
fn uncertain(s: &mut String, c: Option<&CertaintyJson>) {
    if let Some(c) = c.filter(|c| !c.holds_under_every_reading) {
        let _ = write!(s, " [{}]", c.summary);
    }
}

fn verdict(o: &OutcomeJson) -> String {
    match o {
        OutcomeJson::Success(_) => String::from("success"),
        OutcomeJson::Failure(f) => {
            let mut s = format!("FAIL {} at {} {}", f.side, f.stage, f.status);
            if !f.missing_names.is_empty() {
                let _ = write!(s, " missing {}", f.missing_names.join("|"));
            }
            let _ = write!(s, " [{}: {}]", f.rule_id, f.rule);
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
    use ntlm_session::{Client, ClientSettings, Credentials, MemoryStore};
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;

    const NOW: FileTime = FileTime(134_117_280_000_000_000);

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

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn header(msg: &[u8]) -> String {
        http::header_value(Scheme::Ntlm, msg)
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

    /// Records carry what is assumed of the server's profile as a server,
    /// named on the human line, and each missing bit's own rule.
    #[test]
    fn records_carry_the_assumed_facts_and_a_rule_per_missing_bit() {
        let catalog = crate::profiles::Catalog::builtin().unwrap();
        let xp = catalog.get("windows-xp").unwrap();
        let mut store = MemoryStore::new();
        store.add_password("TESTDOM", "alice", "Passw0rd!");
        let mut s = xp.server_settings(Arc::new(store)).unwrap();
        s.min = MinSessionSecurity::from_registry(0);
        // The strict reading: 0x20000000 requires 128 without SEAL too.
        s.semantics = Semantics::MS_NLMP;
        let a = Arc::new(
            Acceptor::new(
                s,
                vec![MinSessionSecurity::from_registry(0x2000_0010)],
                Limits::default(),
            )
            .with_assumed(crate::profiles::assumed_facts(None, Some(xp))),
        );
        assert_eq!(a.assumed().len(), 1);
        let mut conn = Connection::new(Arc::clone(&a), addr("10.0.0.9:1000"));
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let mut plain = client("Passw0rd!", false);
        plain.config.integrity = false;
        plain.config.confidentiality = false;
        let (_, record, _) = handshake(&mut conn, plain, &mut rng, 1);
        let r = record.unwrap();
        assert!(r.succeeded());
        assert_eq!(r.assumed, a.assumed());
        assert_eq!(
            (r.assumed[0].profile.as_str(), r.assumed[0].role),
            ("windows-xp", "server")
        );
        assert!(
            r.line().ends_with(" [assumed: windows-xp as server]"),
            "{}",
            r.line()
        );
        let json: serde_json::Value = serde_json::from_str(&json_line(&r).unwrap()).unwrap();
        assert_eq!(json["assumed"][0]["role"], "server");
        // The what-if: 128 and SIGN missing, each with its own rule.
        let f = failure(&r.what_if[0].outcome);
        let rules: Vec<(&str, &str)> = f
            .missing_rules
            .iter()
            .map(|m| (m.bit.as_str(), m.rule_id))
            .collect();
        assert_eq!(
            rules,
            [
                ("0x00000010", "min-flags-server"),
                ("0x20000000", "min-128-server")
            ]
        );
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
        assert!(
            r.line()
                .contains("what-if 0x20000000: FAIL server at negotiate")
        );
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
        // The human line notes only the verdict that a reading reverses.
        assert!(
            r.line().ends_with(
                "-> success | what-if 0x20000000: success \
                 [works only under rule-128=kb239869; breaks under every other reading]"
            ),
            "{}",
            r.line()
        );
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

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn pending_table_fair_share_evicts_the_heaviest_holders_oldest() {
        let (a, b, c) = (ip("10.0.0.1"), ip("10.0.0.2"), ip("10.0.0.3"));
        let mut t = PendingTable::new(4, 60_000);
        for i in 0..4 {
            assert_eq!(
                t.admit(a, 0),
                Admission::Admitted {
                    id: i,
                    evicted: None
                }
            );
        }
        // Full: the same address waits.
        assert_eq!(t.admit(a, 1), Admission::Refused);
        // Another address takes a's oldest, twice.
        let Admission::Admitted { id: b1, evicted } = t.admit(b, 2) else {
            panic!("b refused")
        };
        assert_eq!(
            evicted,
            Some(Evicted {
                id: 0,
                address: a,
                expired: false
            })
        );
        assert!(!t.holds(0));
        assert!(matches!(
            t.admit(b, 3),
            Admission::Admitted {
                evicted: Some(Evicted { id: 1, .. }),
                ..
            }
        ));
        // Two each: neither takes from the other.
        assert_eq!((t.count(a), t.count(b)), (2, 2));
        assert_eq!(t.admit(b, 4), Admission::Refused);
        assert_eq!(t.admit(a, 4), Admission::Refused);
        // A third address takes from the holder whose oldest is oldest: a.
        assert!(matches!(
            t.admit(c, 5),
            Admission::Admitted {
                evicted: Some(Evicted { id: 2, address, .. }),
                ..
            } if address == a
        ));
        assert_eq!(t.len(), 4);
        // Release frees a slot once.
        assert!(t.release(b1));
        assert!(!t.release(b1));
        assert_eq!(t.len(), 3);
        assert!(matches!(
            t.admit(b, 6),
            Admission::Admitted { evicted: None, .. }
        ));
    }

    #[test]
    fn pending_table_withdraws_an_expired_challenge_first() {
        let (a, c) = (ip("10.0.0.1"), ip("10.0.0.3"));
        let mut t = PendingTable::new(2, 1000);
        assert!(matches!(t.admit(a, 0), Admission::Admitted { .. }));
        assert!(matches!(t.admit(c, 500), Admission::Admitted { .. }));
        // Equal shares: c waits, until a's CHALLENGE expires.
        assert_eq!(t.admit(c, 900), Admission::Refused);
        assert_eq!(
            t.admit(c, 1001),
            Admission::Admitted {
                id: 2,
                evicted: Some(Evicted {
                    id: 0,
                    address: a,
                    expired: true
                })
            }
        );
        assert_eq!(PendingTable::new(0, 1).admit(a, 0), Admission::Refused);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Admit(u8, u16),
        Release(usize),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            3 => (0u8..5, 0u16..400).prop_map(|(a, dt)| Op::Admit(a, dt)),
            1 => any::<usize>().prop_map(Op::Release),
        ]
    }

    proptest::proptest! {
        /// The total never exceeds the capacity; an address is refused only
        /// when the table is full and no other address holds more than it
        /// (so no address is above its share while it waits); an eviction
        /// takes an expired CHALLENGE or the oldest handshake of an address
        /// holding more than the newcomer.
        #[test]
        fn pending_table_invariants(cap in 0usize..9, ops in proptest::collection::vec(op(), 0..200)) {
            use proptest::{prop_assert, prop_assert_eq};
            let lifetime = 1000;
            let mut t = PendingTable::new(cap, lifetime);
            let mut held: Vec<(u64, IpAddr, u64)> = Vec::new();
            let mut now = 0u64;
            for o in ops {
                match o {
                    Op::Admit(a, dt) => {
                        now += u64::from(dt);
                        let addr = IpAddr::from([10, 0, 0, a]);
                        let before: HashMap<IpAddr, usize> =
                            held.iter().fold(HashMap::new(), |mut m, h| { *m.entry(h.1).or_default() += 1; m });
                        let mine = before.get(&addr).copied().unwrap_or(0);
                        match t.admit(addr, now) {
                            Admission::Refused => {
                                prop_assert!(held.len() >= cap);
                                if cap > 0 {
                                    prop_assert!(before.values().all(|&n| n <= mine));
                                    prop_assert!(held.iter().all(|h| now - h.2 <= lifetime));
                                }
                            }
                            Admission::Admitted { id, evicted } => {
                                match evicted {
                                    None => prop_assert!(held.len() < cap),
                                    Some(e) => {
                                        prop_assert!(held.len() >= cap);
                                        let pos = held.iter().position(|h| h.0 == e.id).unwrap();
                                        let gone = held.remove(pos);
                                        prop_assert_eq!(gone.1, e.address);
                                        if e.expired {
                                            prop_assert!(now - gone.2 > lifetime);
                                        } else {
                                            let theirs = before.get(&e.address).copied().unwrap_or(0);
                                            prop_assert!(theirs > mine);
                                            prop_assert!(before.values().all(|&n| n <= theirs));
                                            // Their oldest.
                                            prop_assert!(held.iter().filter(|h| h.1 == e.address).all(|h| h.0 > e.id));
                                        }
                                    }
                                }
                                held.push((id, addr, now));
                            }
                        }
                    }
                    Op::Release(i) => {
                        if !held.is_empty() {
                            let h = held.remove(i % held.len());
                            prop_assert!(t.release(h.0));
                        }
                    }
                }
                prop_assert!(t.len() <= cap);
                prop_assert_eq!(t.len(), held.len());
                for h in &held {
                    prop_assert!(t.holds(h.0));
                }
            }
        }
    }

    proptest::proptest! {
        /// Whatever the table holds, addresses that keep asking (in turns)
        /// end up holding as much as the heaviest holder, give or take one
        /// (with no other holder: at least `capacity / askers` each), so
        /// one holder cannot keep the others out.
        #[test]
        fn pending_table_converges_to_fair_shares(
            cap in 1usize..17,
            n in 1u8..6,
            fill in proptest::collection::vec(0u8..6, 0..17),
        ) {
            let mut t = PendingTable::new(cap, u64::MAX);
            let filled = !fill.is_empty();
            for a in fill {
                let _ = t.admit(IpAddr::from([10, 0, 0, a]), 0);
            }
            let askers: Vec<IpAddr> = (0..n).map(|a| IpAddr::from([10, 0, 1, a])).collect();
            for _ in 0..(3 * cap + 3) {
                for &a in &askers {
                    let _ = t.admit(a, 0);
                }
            }
            let heaviest = t.by_address.values().map(BTreeSet::len).max().unwrap_or(0);
            let counts: Vec<usize> = askers.iter().map(|&a| t.count(a)).collect();
            // Every asker holds as much as the heaviest holder, give or take one.
            proptest::prop_assert!(counts.iter().all(|&c| c + 1 >= heaviest), "{counts:?}");
            if !filled {
                proptest::prop_assert!(counts.iter().all(|&c| c >= cap / usize::from(n)), "{counts:?}");
            }
            proptest::prop_assert_eq!(t.len(), cap);
        }
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

    fn named(user: &str, password: &str, workstation: &str) -> ClientSettings {
        let mut c = ClientSettings::new(Credentials::password(user, "TESTDOM", password));
        c.config.integrity = true;
        c.config.confidentiality = true;
        c.workstation = workstation.to_owned();
        c
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

    #[test]
    fn hostile_names_stay_on_one_line_and_long_ones_are_cut() {
        let limits = Limits {
            max_field_chars: 100,
            ..Limits::default()
        };
        let a = acceptor(0, &[], limits);
        let mut rng = ChaCha20Rng::seed_from_u64(10);
        let forged = "x\n10.0.0.1:4444 CORP\\administrator NTLMv2 -> success\u{1b}[2J\u{1b}]0;t\u{7}\u{9b}1m\u{202e}";
        let user = format!("{forged}{}", "W".repeat(1000));
        let kept: String = user.chars().take(100).collect();
        let mut conn = Connection::new(Arc::clone(&a), addr("10.0.0.5:1"));
        let (_, record, _) = handshake(&mut conn, named(&user, "x", "WS"), &mut rng, 1);
        let r = record.unwrap();
        assert_eq!(r.user, kept);
        assert_eq!(
            r.truncated,
            [Truncated {
                field: "user",
                bytes: user.len()
            }]
        );
        let line = LogEntry::Handshake(Box::new(r.clone())).line(false);
        assert!(sink::line_safe(&line), "{line:?}");
        assert!(line.contains("x\\n10.0.0.1:4444"), "{line}");
        assert!(line.contains("\\u{1b}[2J"), "{line}");
        let cut = format!("\u{2026}(+{} bytes)", user.len() - kept.len());
        assert!(line.contains(&cut), "{line}");
        let json = LogEntry::Handshake(Box::new(r)).line(true);
        // serde_json leaves C1 controls and U+202E as they are: escaped here.
        assert!(sink::line_safe(&json), "{json:?}");
        assert!(json.contains("\\u009b1m\\u202e"), "{json}");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["user"], kept.as_str());
        assert_eq!(v["truncated"][0]["field"], "user");
        assert_eq!(v["truncated"][0]["bytes"], user.len());
    }

    #[test]
    fn undecodable_names_are_logged_as_hex() {
        let a = acceptor(0, &[], Limits::default());
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let mut conn = Connection::new(Arc::clone(&a), addr("10.0.0.7:1"));
        let (neg, c) = Client::start(client("Passw0rd!", true)).unwrap();
        let (reply, _) = conn.on_request(Some(&header(&neg)), &mut rng, NOW, 0);
        let Reply::Unauthorized {
            challenge: Some((_, chal)),
            ..
        } = reply
        else {
            panic!("no CHALLENGE")
        };
        let (auth, _) = c.on_challenge(&chal, &mut rng, NOW).unwrap();
        let mut m = AuthenticateMessage::parse(&auth).unwrap();
        // An odd number of bytes is no UTF-16LE.
        m.user = Some(b"A\0B".as_slice().into());
        let (_, record) = conn.on_request(Some(&header(&m.to_vec().unwrap())), &mut rng, NOW, 1);
        let r = record.unwrap();
        assert_eq!(
            (r.user.as_str(), r.user_raw.as_deref()),
            ("", Some("410042"))
        );
        assert_eq!(
            (r.domain.as_str(), r.domain_raw.as_deref()),
            ("TESTDOM", None)
        );
        assert!(
            r.line().contains("TESTDOM\\<undecodable 410042>"),
            "{}",
            r.line()
        );
        let v: serde_json::Value =
            serde_json::from_str(&LogEntry::Handshake(Box::new(r)).line(true)).unwrap();
        assert_eq!(v["user_raw"], "410042");
        assert!(v.get("domain_raw").is_none());
    }

    #[test]
    fn notes_are_single_lines_with_a_warning_key() {
        let s = LogEntry::Suppressed {
            client: ip("10.0.0.6"),
            count: 7,
        };
        assert_eq!(
            s.line(false),
            "warning: 7 similar failures from 10.0.0.6 suppressed (rate limit per address)"
        );
        let v: serde_json::Value = serde_json::from_str(&s.line(true)).unwrap();
        assert_eq!(
            (
                v["warning"].as_str(),
                v["count"].as_u64(),
                v["client"].as_str()
            ),
            (Some("suppressed"), Some(7), Some("10.0.0.6"))
        );
        let v: serde_json::Value =
            serde_json::from_str(&LogEntry::Dropped { count: 3 }.line(true)).unwrap();
        assert_eq!(
            (v["warning"].as_str(), v["count"].as_u64()),
            (Some("dropped"), Some(3))
        );
        assert!(v.get("client").is_none());
    }

    #[test]
    fn connection_gate_counts_in_total_and_per_address() {
        let g = ConnectionGate::new(3, 2);
        let (a, b) = (ip("10.0.0.1"), ip("10.0.0.2"));
        let a1 = g.open(a).unwrap();
        let _a2 = g.open(a).unwrap();
        assert_eq!(g.open(a).unwrap_err(), GateRefusal::PerAddress);
        let b1 = g.open(b).unwrap();
        assert_eq!(g.open(b).unwrap_err(), GateRefusal::Total);
        assert_eq!(g.open_now(), 3);
        drop(a1);
        assert_eq!(g.open_now(), 2);
        let _a3 = g.open(a).unwrap();
        drop(b1);
        let _b2 = g.open(b).unwrap();
        assert_eq!(g.open_now(), 3);
    }

    #[test]
    fn body_budget_is_shared_and_given_back() {
        let budget = BodyBudget::new(100);
        let mut r1 = budget.reservation();
        let mut r2 = budget.reservation();
        assert!(budget.grow(&mut r1, 60));
        assert!(!budget.grow(&mut r2, 50));
        assert!(budget.grow(&mut r2, 40));
        assert!(!budget.grow(&mut r2, 1));
        assert_eq!((budget.used(), r1.held(), r2.held()), (100, 60, 40));
        drop(r1);
        assert_eq!(budget.used(), 40);
        assert!(budget.grow(&mut r2, usize::MAX).eq(&false));
        drop(r2);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn failure_limiter_bursts_then_counts_what_it_suppresses() {
        let mut l = FailureLimiter::new(3, 1000);
        let (a, b) = (ip("10.0.0.1"), ip("10.0.0.2"));
        for _ in 0..3 {
            assert_eq!(l.admit(a, 0), Verdict::Write { suppressed: 0 });
        }
        assert_eq!(l.admit(a, 10), Verdict::Suppress);
        assert_eq!(l.admit(a, 999), Verdict::Suppress);
        // Another address has its own bucket.
        assert_eq!(l.admit(b, 999), Verdict::Write { suppressed: 0 });
        // One token a second; the next record carries the count.
        assert_eq!(l.admit(a, 1000), Verdict::Write { suppressed: 2 });
        assert_eq!(l.admit(a, 1001), Verdict::Suppress);
        assert_eq!(l.drain(1500), [(a, 1)]);
        assert_eq!(l.drain(1500), []);
        // Full buckets are forgotten.
        assert_eq!(l.tracked(), 2);
        l.drain(10_000);
        assert_eq!(l.tracked(), 0);
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        assert_eq!(
            client_key(ip("2001:db8:1:2:aaaa::1")),
            client_key(ip("2001:db8:1:2:bbbb::2"))
        );
        assert_ne!(
            client_key(ip("2001:db8:1:2::1")),
            client_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(client_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(client_key(ip("192.0.2.7")), ip("192.0.2.7"));
    }
}
