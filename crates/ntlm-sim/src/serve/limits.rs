//! The resource bounds of the acceptor ([`Limits`], docs/SECURITY.md), as
//! plain data decided without I/O: the table of pending handshakes, the
//! connection gate, the body budget and the failure-record limiter.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::lock;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::serve::ip;

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
}
