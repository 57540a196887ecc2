//! Connections: from TCP segments to paired NTLM exchanges.
//!
//! A [`Tracker`] keeps one entry per TCP connection (both directions'
//! [`Stream`]s and carrier parsers), pairs the NTLMSSP messages it finds in
//! order — a NEGOTIATE starts an exchange, a CHALLENGE or AUTHENTICATE
//! that would repeat a message starts the next one — attaches the
//! carrier's result to an exchange that has its AUTHENTICATE, and reports
//! the exchanges when the connection closes (FIN both ways or RST), goes
//! idle, is evicted to bound memory, or when the capture ends.
//!
//! Eviction (when [`Config::max_connections`] are tracked and a new one
//! starts) takes the connections that matter least first: closing ones (a
//! FIN seen) and those idle past the timeout, then those with no NTLM
//! message pending, then those waiting only for the carrier's result, and
//! only then those in the middle of an exchange (a NEGOTIATE or CHALLENGE
//! seen, no AUTHENTICATE yet), each group oldest activity first. A plain
//! least-recently-used order split an exchange whenever many connections
//! started between its NEGOTIATE and its CHALLENGE; Wireshark's TCP
//! dissector keeps every conversation, so this order keeps such an
//! exchange whole as long as other connections can go. Evictions are
//! counted ([`Tracker::evicted`]) and reported as a problem at the end of
//! the file.

use std::collections::HashMap;
use std::net::SocketAddr;

use crate::carrier::{Direction, Found, Kind, Shared};
use crate::decode::{FrameError, Segment, TcpFlags};
use crate::reassembly::{Chunk, Limits, Stream};
use crate::{
    Carrier, Event, Exchange, MessageType, NtlmMessage, ObservedResult, Place, Problem, RolesBy,
    Wrapping,
};

/// Bounds and timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Connections tracked at once; beyond, an eighth of them is reported
    /// and forgotten: closing and idle ones first, those in the middle of
    /// an NTLM exchange last (see the module documentation).
    pub max_connections: usize,
    /// A connection without packets for this many seconds of capture time
    /// is reported and forgotten.
    pub idle_timeout_secs: i64,
    /// Bytes a carrier parser may buffer per direction.
    pub max_buffer: usize,
    /// Out-of-order bounds per direction.
    pub limits: Limits,
    /// Exchanges held per connection before the oldest are reported early.
    pub max_exchanges_held: usize,
    /// Problems reported per file; the rest are counted.
    pub max_problems: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_connections: 16_384,
            idle_timeout_secs: 600,
            max_buffer: 1 << 20,
            limits: Limits {
                max_pending_bytes: 256 << 10,
                max_pending_segments: 256,
                max_window: 16 << 20,
            },
            max_exchanges_held: 64,
            max_problems: 1000,
        }
    }
}

/// A message before the roles are settled: `from_a` says which side sent it.
#[derive(Debug, Clone)]
struct Seen {
    kind: MessageType,
    bytes: Vec<u8>,
    place: Place,
    carrier: Carrier,
    wrapping: Wrapping,
    from_a: bool,
}

#[derive(Debug, Clone, Default)]
struct Pending {
    negotiate: Option<Seen>,
    challenge: Option<Seen>,
    authenticate: Option<Seen>,
    result: Option<ObservedResult>,
}

impl Pending {
    const fn is_empty(&self) -> bool {
        self.negotiate.is_none() && self.challenge.is_none() && self.authenticate.is_none()
    }

    /// A NEGOTIATE or CHALLENGE seen and no AUTHENTICATE yet: forgetting
    /// the connection now would split the exchange.
    const fn mid_exchange(&self) -> bool {
        self.authenticate.is_none() && !self.is_empty()
    }
}

#[derive(Debug)]
struct Conn {
    a: SocketAddr,
    b: SocketAddr,
    /// Which side sent the SYN (true: `a`).
    syn_from_a: Option<bool>,
    /// Roles told by an NTLM message (true: `a` is the client).
    roles: Option<(bool, RolesBy)>,
    kind: Option<Kind>,
    streams: [Stream; 2],
    dirs: [Option<Direction>; 2],
    shared: Shared,
    first: Place,
    last: Place,
    fin: [bool; 2],
    current: Pending,
    held: Vec<Pending>,
    exchanges: u32,
}

impl Conn {
    fn new(a: SocketAddr, b: SocketAddr, place: Place) -> Self {
        Self {
            a,
            b,
            syn_from_a: None,
            roles: None,
            kind: None,
            streams: [Stream::new(), Stream::new()],
            dirs: [None, None],
            shared: Shared::default(),
            first: place,
            last: place,
            fin: [false; 2],
            current: Pending::default(),
            held: Vec::new(),
            exchanges: 0,
        }
    }

    /// (a is the client, how that was told).
    fn roles(&self) -> (bool, RolesBy) {
        if let Some(a) = self.syn_from_a {
            return (a, RolesBy::Syn);
        }
        if let Some(r) = self.roles {
            return r;
        }
        let kind = self.kind.unwrap_or(Kind::Scan);
        let (pa, pb) = (self.a.port(), self.b.port());
        let a_client = match (kind.is_server_port(pa), kind.is_server_port(pb)) {
            (false, true) => true,
            (true, false) => false,
            _ => pa > pb,
        };
        (a_client, RolesBy::Port)
    }

    /// Eviction order: lower goes first (see the module documentation).
    fn eviction_rank(&self, idle_before: i64) -> u8 {
        if self.fin.iter().any(|&f| f) || self.last.time.secs < idle_before {
            0
        } else if self.current.is_empty() && self.held.is_empty() {
            1
        } else if !self.current.mid_exchange() {
            2
        } else {
            3
        }
    }

    fn exchange(&mut self, p: Pending) -> Exchange {
        let (a_client, by) = self.roles();
        let (client, server) = if a_client {
            (self.a, self.b)
        } else {
            (self.b, self.a)
        };
        let msg = |s: Option<Seen>| {
            s.map(|s| NtlmMessage {
                kind: s.kind,
                bytes: s.bytes,
                place: s.place,
                carrier: s.carrier,
                wrapping: s.wrapping,
                from_client: s.from_a == a_client,
            })
        };
        self.exchanges = self.exchanges.saturating_add(1);
        Exchange {
            client,
            server,
            roles_by: by,
            connection_first: self.first,
            connection_last: self.last,
            index_on_connection: self.exchanges,
            negotiate: msg(p.negotiate),
            challenge: msg(p.challenge),
            authenticate: msg(p.authenticate),
            result: p.result,
        }
    }
}

/// Frames that were not decoded, counted per reason.
#[derive(Debug, Clone)]
struct Unsupported {
    count: u64,
    first: Place,
    layer: &'static str,
}

/// The connection table of one capture file.
#[derive(Debug)]
pub struct Tracker {
    config: Config,
    file: usize,
    conns: HashMap<(SocketAddr, SocketAddr), Conn>,
    packets_since_sweep: u32,
    report: Report,
    unsupported: Vec<(String, Unsupported)>,
    cut: Option<Unsupported>,
    found: Vec<Found>,
    evicted: Evicted,
}

/// Connections evicted from the table before they ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evicted {
    /// Connections evicted.
    pub connections: u64,
    /// Of which in the middle of an NTLM exchange (a NEGOTIATE or CHALLENGE
    /// seen, no AUTHENTICATE): their exchange is reported in parts.
    pub mid_exchange: u64,
    /// The first packet that caused an eviction.
    pub first: Option<Place>,
}

fn key(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b { (a, b) } else { (b, a) }
}

impl Tracker {
    /// A tracker for capture file number `file`.
    pub fn new(config: Config, file: usize) -> Self {
        Self {
            config,
            file,
            conns: HashMap::new(),
            packets_since_sweep: 0,
            report: Report {
                max: config.max_problems,
                reported: 0,
                suppressed: 0,
            },
            unsupported: Vec::new(),
            cut: None,
            found: Vec::new(),
            evicted: Evicted::default(),
        }
    }

    /// Connections evicted so far to keep within [`Config::max_connections`].
    pub const fn evicted(&self) -> Evicted {
        self.evicted
    }

    /// Connections tracked now.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// Reports a problem (counted past [`Config::max_problems`]).
    pub fn problem(
        &mut self,
        place: Place,
        layer: &'static str,
        message: String,
        sink: &mut dyn FnMut(Event),
    ) {
        self.report.problem(place, layer, message, sink);
    }

    /// Takes a frame that could not be decoded.
    pub fn frame_error(&mut self, place: Place, e: &FrameError, sink: &mut dyn FnMut(Event)) {
        if e.unsupported {
            if let Some((_, u)) = self.unsupported.iter_mut().find(|(r, _)| *r == e.reason) {
                u.count = u.count.saturating_add(1);
            } else if self.unsupported.len() < 64 {
                self.unsupported.push((
                    e.reason.clone(),
                    Unsupported {
                        count: 1,
                        first: place,
                        layer: e.layer,
                    },
                ));
            }
        } else {
            self.problem(place, e.layer, e.to_string(), sink);
        }
    }

    /// Takes a decoded TCP segment.
    pub fn segment(&mut self, place: Place, seg: &Segment<'_>, sink: &mut dyn FnMut(Event)) {
        if seg.missing > 0 {
            match &mut self.cut {
                Some(c) => c.count = c.count.saturating_add(1),
                None => {
                    self.cut = Some(Unsupported {
                        count: 1,
                        first: place,
                        layer: "capture",
                    });
                }
            }
        }
        let k = key(seg.src, seg.dst);
        let syn = seg.flags.has(TcpFlags::SYN);
        let fresh_syn = syn && !seg.flags.has(TcpFlags::ACK);
        if fresh_syn {
            // A new connection on a reused 4-tuple: report the old one.
            let stale = self.conns.get(&k).is_some_and(|c| {
                c.streams.iter().any(|s| s.offset() > 0) || c.fin.iter().any(|&f| f)
            });
            if stale {
                self.close(k, sink);
            }
        }
        if self.conns.len() >= self.config.max_connections && !self.conns.contains_key(&k) {
            self.evict(place, sink);
        }
        let limits = self.config.limits;
        let max_buffer = self.config.max_buffer;
        let max_held = self.config.max_exchanges_held;
        // One table lookup per segment (a second one only to close).
        let conn = self
            .conns
            .entry(k)
            .or_insert_with(|| Conn::new(seg.src, seg.dst, place));
        conn.last = place;
        let from_a = seg.src == conn.a;
        let side = usize::from(!from_a);
        if fresh_syn {
            conn.syn_from_a = Some(from_a);
        }
        let found = &mut self.found;
        found.clear();
        let mut gaps = 0u64;
        if let (Some(stream), Some(dir_slot)) =
            (conn.streams.get_mut(side), conn.dirs.get_mut(side))
        {
            let kind_slot = &mut conn.kind;
            let shared = &mut conn.shared;
            let ports = [seg.dst.port(), seg.src.port()];
            stream.push(
                seg.seq,
                syn,
                seg.payload,
                seg.missing,
                &limits,
                &mut |c| match c {
                    Chunk::Data(d) => {
                        let dir = dir_slot.get_or_insert_with(|| {
                            let kind = *kind_slot.get_or_insert_with(|| Kind::sniff(d, ports));
                            Direction::new(kind, max_buffer)
                        });
                        dir.feed(d, shared, found);
                    }
                    Chunk::Gap(n) => {
                        gaps = gaps.saturating_add(n);
                        if let Some(dir) = dir_slot.as_mut() {
                            dir.gap();
                        }
                    }
                },
            );
        }
        if gaps > 0 && seg.missing == 0 {
            let msg = format!(
                "{gaps} bytes of the stream {} -> {} were never captured; going on with the signature scan",
                seg.src, seg.dst
            );
            self.report.problem(place, "tcp", msg, sink);
        }
        if !self.found.is_empty() {
            apply(
                conn,
                &self.found,
                from_a,
                place,
                &mut self.report,
                max_held,
                sink,
            );
        }
        if seg.flags.has(TcpFlags::FIN) {
            if let Some(f) = conn.fin.get_mut(side) {
                *f = true;
            }
        }
        if seg.flags.has(TcpFlags::RST) || conn.fin == [true, true] {
            self.close(k, sink);
        }
        self.packets_since_sweep += 1;
        if self.packets_since_sweep >= 4096 {
            self.packets_since_sweep = 0;
            self.sweep(place, sink);
        }
    }

    /// Reports and forgets connection `k`.
    fn close(&mut self, k: (SocketAddr, SocketAddr), sink: &mut dyn FnMut(Event)) {
        let Some(mut conn) = self.conns.remove(&k) else {
            return;
        };
        // Deliver what waits behind holes.
        let last = conn.last;
        let mut found = std::mem::take(&mut self.found);
        for (side, from_a) in [(0, true), (1, false)] {
            found.clear();
            let Some(stream) = conn.streams.get_mut(side) else {
                continue;
            };
            if stream.pending_bytes() == 0 {
                continue;
            }
            let mut gaps = 0u64;
            if let Some(Some(dir)) = conn.dirs.get_mut(side) {
                let shared = &mut conn.shared;
                stream.finish(&mut |c| match c {
                    Chunk::Data(d) => dir.feed(d, shared, &mut found),
                    Chunk::Gap(n) => {
                        gaps = gaps.saturating_add(n);
                        dir.gap();
                    }
                });
            }
            if gaps > 0 {
                let (src, dst) = if from_a {
                    (conn.a, conn.b)
                } else {
                    (conn.b, conn.a)
                };
                self.report.problem(
                    last,
                    "tcp",
                    format!(
                        "{gaps} bytes of the stream {src} -> {dst} were never captured; \
                         going on with the signature scan"
                    ),
                    sink,
                );
            }
            apply(
                &mut conn,
                &found,
                from_a,
                last,
                &mut self.report,
                self.config.max_exchanges_held,
                sink,
            );
        }
        self.found = found;
        let mut all = std::mem::take(&mut conn.held);
        let cur = std::mem::take(&mut conn.current);
        if !cur.is_empty() {
            all.push(cur);
        }
        for p in all {
            let x = conn.exchange(p);
            sink(Event::Exchange(Box::new(x)));
        }
    }

    /// Reports connections idle for longer than the timeout.
    fn sweep(&mut self, now: Place, sink: &mut dyn FnMut(Event)) {
        let limit = now.time.secs.saturating_sub(self.config.idle_timeout_secs);
        let mut idle: Vec<_> = self
            .conns
            .iter()
            .filter(|(_, c)| c.last.time.secs < limit)
            .map(|(k, c)| (c.first, *k))
            .collect();
        idle.sort_unstable();
        for (_, k) in idle {
            self.close(k, sink);
        }
    }

    /// Reports and forgets an eighth of the connections, those that matter
    /// least first: closing or idle, then without a pending NTLM message,
    /// then waiting for a result, then mid-exchange; oldest activity first
    /// within each group.
    fn evict(&mut self, now: Place, sink: &mut dyn FnMut(Event)) {
        let idle_before = now.time.secs.saturating_sub(self.config.idle_timeout_secs);
        let mut order: Vec<_> = self
            .conns
            .iter()
            .map(|(k, c)| (c.eviction_rank(idle_before), c.last, *k))
            .collect();
        let n = (order.len() / 8).max(1);
        if n < order.len() {
            order.select_nth_unstable(n);
        }
        order.truncate(n);
        order.sort_unstable();
        self.evicted.first.get_or_insert(now);
        for (rank, _, k) in order {
            self.evicted.connections = self.evicted.connections.saturating_add(1);
            if rank == 3 {
                self.evicted.mid_exchange = self.evicted.mid_exchange.saturating_add(1);
            }
            self.close(k, sink);
        }
    }

    /// Reports every connection still open and the counted problems (at the
    /// end of the file).
    pub fn finish(&mut self, sink: &mut dyn FnMut(Event)) {
        let mut open: Vec<_> = self.conns.iter().map(|(k, c)| (c.first, *k)).collect();
        open.sort_unstable();
        for (_, k) in open {
            self.close(k, sink);
        }
        let file_place = Place {
            file: self.file,
            packet: 0,
            time: crate::Timestamp::default(),
        };
        let ev = self.evicted;
        if let Some(first) = ev.first.filter(|_| ev.connections > 0) {
            sink(Event::Problem(Problem {
                place: first,
                layer: "tcp",
                message: format!(
                    "{} connections were evicted from the connection table (at most {} at once; \
                     the first at packet {}) before they ended, {} of them in the middle of an \
                     NTLM exchange, which is reported in parts",
                    ev.connections, self.config.max_connections, first.packet, ev.mid_exchange
                ),
            }));
        }
        if let Some(c) = self.cut.take() {
            sink(Event::Problem(Problem {
                place: c.first,
                layer: c.layer,
                message: format!(
                    "{} TCP segments were cut by the capture's snap length (the first at packet {}); \
                     their streams have holes",
                    c.count, c.first.packet
                ),
            }));
        }
        for (reason, u) in std::mem::take(&mut self.unsupported) {
            sink(Event::Problem(Problem {
                place: u.first,
                layer: u.layer,
                message: format!(
                    "{} frames skipped: {reason} (the first at packet {})",
                    u.count, u.first.packet
                ),
            }));
        }
        if self.report.suppressed > 0 {
            sink(Event::Problem(Problem {
                place: file_place,
                layer: "capture",
                message: format!("{} more problems not reported", self.report.suppressed),
            }));
        }
    }
}

/// Problems reported so far, and those counted past the limit.
#[derive(Debug, Clone, Copy)]
struct Report {
    max: usize,
    reported: usize,
    suppressed: u64,
}

impl Report {
    fn problem(
        &mut self,
        place: Place,
        layer: &'static str,
        message: String,
        sink: &mut dyn FnMut(Event),
    ) {
        if self.reported >= self.max {
            self.suppressed = self.suppressed.saturating_add(1);
            return;
        }
        self.reported += 1;
        sink(Event::Problem(Problem {
            place,
            layer,
            message,
        }));
    }
}

/// Applies what the parsers found on a connection.
fn apply(
    conn: &mut Conn,
    found: &[Found],
    from_a: bool,
    place: Place,
    report: &mut Report,
    max_held: usize,
    sink: &mut dyn FnMut(Event),
) {
    for f in found {
        match f {
            Found::Token { bytes, carrier } => match ntlm_gss::spnego::find_ntlmssp(bytes) {
                Ok(Some(found)) => match MessageType::of(found.message) {
                    Ok(kind) => {
                        let seen = Seen {
                            kind,
                            bytes: found.message.to_vec(),
                            place,
                            carrier: *carrier,
                            wrapping: found.wrapping.into(),
                            from_a,
                        };
                        message(conn, seen, max_held, sink);
                    }
                    Err(e) => report.problem(
                        place,
                        "ntlmssp",
                        format!("{carrier} token: NTLMSSP {e}"),
                        sink,
                    ),
                },
                Ok(None) => {}
                Err(e) => report.problem(place, "spnego", format!("{carrier} token: {e}"), sink),
            },
            Found::Result(r) => {
                let cur = &mut conn.current;
                if cur.authenticate.is_some() && cur.result.is_none() {
                    cur.result = Some(ObservedResult { result: *r, place });
                }
            }
            Found::Problem { layer, message } => {
                report.problem(place, layer, message.clone(), sink);
            }
        }
    }
}

/// Pairs a message into the connection's current exchange (MS-NLMP 1.3.1.1 order).
fn message(conn: &mut Conn, seen: Seen, max_held: usize, sink: &mut dyn FnMut(Event)) {
    let cur = &conn.current;
    let restart = cur.result.is_some()
        || match seen.kind {
            MessageType::Negotiate => !cur.is_empty(),
            MessageType::Challenge => cur.challenge.is_some() || cur.authenticate.is_some(),
            MessageType::Authenticate => cur.authenticate.is_some(),
        };
    if restart {
        let done = std::mem::take(&mut conn.current);
        conn.held.push(done);
        if conn.held.len() > max_held {
            let oldest = conn.held.remove(0);
            let x = conn.exchange(oldest);
            sink(Event::Exchange(Box::new(x)));
        }
    }
    let weak = matches!(conn.roles, None | Some((_, RolesBy::Port)));
    if weak || seen.kind == MessageType::Challenge {
        // A CHALLENGE flows from the server (MS-NLMP 1.3.1.1): the strongest
        // message evidence.
        conn.roles = Some(match seen.kind {
            MessageType::Challenge => (!seen.from_a, RolesBy::Challenge),
            _ => (seen.from_a, RolesBy::ClientMessage),
        });
    }
    let cur = &mut conn.current;
    match seen.kind {
        MessageType::Negotiate => cur.negotiate = Some(seen),
        MessageType::Challenge => cur.challenge = Some(seen),
        MessageType::Authenticate => cur.authenticate = Some(seen),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{Conversation, Messages};

    fn run(frames: &[(Place, Vec<u8>)]) -> Vec<Event> {
        let mut t = Tracker::new(Config::default(), 0);
        let mut events = Vec::new();
        for (place, f) in frames {
            match crate::decode::decode_frame(1, f) {
                Ok(Some(seg)) => t.segment(*place, &seg, &mut |e| events.push(e)),
                Ok(None) => {}
                Err(e) => t.frame_error(*place, &e, &mut |e| events.push(e)),
            }
        }
        t.finish(&mut |e| events.push(e));
        events
    }

    fn exchanges(events: &[Event]) -> Vec<&Exchange> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Exchange(x) => Some(x.as_ref()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn keep_alive_http_carries_two_exchanges() {
        let m = Messages::sample();
        let mut c = Conversation::new("10.0.0.1:50000", "10.0.0.2:8081");
        c.handshake();
        c.http_exchange(&m, 401);
        c.http_exchange(&m, 200);
        c.close();
        let events = run(&c.frames);
        let xs = exchanges(&events);
        assert_eq!(xs.len(), 2, "{events:?}");
        for (x, status) in xs.iter().zip([401, 200]) {
            assert_eq!(x.client.to_string(), "10.0.0.1:50000");
            assert_eq!(x.server.to_string(), "10.0.0.2:8081");
            assert_eq!(x.roles_by, RolesBy::Syn);
            assert_eq!(x.carrier(), Carrier::Http);
            assert!(x.negotiate.as_ref().unwrap().from_client);
            assert!(!x.challenge.as_ref().unwrap().from_client);
            assert_eq!(x.authenticate.as_ref().unwrap().bytes, m.authenticate);
            assert_eq!(
                x.result.unwrap().result,
                crate::CarrierResult::Http { status }
            );
        }
        assert_eq!(xs[1].index_on_connection, 2);
        assert!(xs[0].first() < xs[1].first());
    }

    #[test]
    fn roles_without_a_syn_come_from_the_challenge() {
        let m = Messages::sample();
        let mut c = Conversation::new("10.0.0.1:50000", "10.0.0.2:8081");
        c.http_exchange(&m, 200);
        // Only the server's half was captured.
        let server_only: Vec<_> = c
            .frames
            .iter()
            .filter(|(_, f)| f[26..30] == [10, 0, 0, 2])
            .cloned()
            .collect();
        let events = run(&server_only);
        let xs = exchanges(&events);
        assert_eq!(xs.len(), 1);
        assert_eq!(xs[0].roles_by, RolesBy::Challenge);
        assert_eq!(xs[0].server.to_string(), "10.0.0.2:8081");
        assert!(xs[0].negotiate.is_none() && xs[0].challenge.is_some());
    }

    #[test]
    fn reordered_and_retransmitted_segments() {
        let m = Messages::sample();
        let mut c = Conversation::new("10.0.0.1:50000", "10.0.0.2:445");
        c.mss = 50;
        c.handshake();
        c.smb2_exchange(&m, 0);
        c.close();
        let mut frames = c.frames.clone();
        // Swap two data segments and retransmit one.
        frames.swap(4, 5);
        let dup = frames[6].clone();
        frames.insert(9, dup);
        let events = run(&frames);
        let xs = exchanges(&events);
        assert_eq!(xs.len(), 1, "{events:?}");
        assert_eq!(xs[0].carrier(), Carrier::Smb2);
        assert_eq!(xs[0].negotiate.as_ref().unwrap().wrapping, Wrapping::Spnego);
        assert_eq!(
            xs[0].result.unwrap().result,
            crate::CarrierResult::Smb { status: 0 }
        );
        assert!(
            !events.iter().any(|e| matches!(e, Event::Problem(_))),
            "{events:?}"
        );
    }

    #[test]
    fn lost_segments_fall_back_to_the_scan_and_are_reported() {
        let m = Messages::sample();
        let mut c = Conversation::new("10.0.0.1:50000", "10.0.0.2:445");
        c.mss = 40;
        c.handshake();
        c.smb2_exchange(&m, 0);
        c.close();
        let mut frames = c.frames.clone();
        frames.remove(3); // the first data segment of the NEGOTIATE request
        let events = run(&frames);
        assert!(events.iter().any(|e| matches!(e, Event::Problem(p) if p.layer == "tcp" && p.message.contains("never captured"))), "{events:?}");
        // The AUTHENTICATE is still found by the signature scan.
        let xs = exchanges(&events);
        assert!(xs.iter().any(|x| x.authenticate.is_some()), "{events:?}");
    }

    #[test]
    fn a_token_without_ntlmssp_is_a_problem() {
        let mut c = Conversation::new("10.0.0.1:50000", "10.0.0.2:80");
        c.handshake();
        c.client_send(b"GET / HTTP/1.1\r\nAuthorization: NTLM TlRMTVNTUAAJAAAA\r\n\r\n");
        c.close();
        let events = run(&c.frames);
        let p = events
            .iter()
            .find_map(|e| match e {
                Event::Problem(p) => Some(p),
                _ => None,
            })
            .unwrap();
        assert_eq!(p.layer, "ntlmssp");
        assert!(p.message.contains("MessageType at offset 8"), "{p}");
        assert_eq!(p.place.packet, 3);
    }

    /// Frames of flow `x` up to its NEGOTIATE, then `others` connections that
    /// start and stay open (a request without NTLM), then the rest of `x`.
    fn crowded(others: u32) -> (Vec<(Place, Vec<u8>)>, Messages) {
        let m = Messages::sample();
        let mut x = Conversation::new("10.0.0.1:50000", "10.0.0.2:80");
        x.handshake();
        x.http_negotiate(&m);
        let mut frames = x.frames.clone();
        let mut time = x.time;
        for i in 0..others {
            let client = SocketAddr::from(([10, 1, (i >> 8) as u8, i as u8], 40_000));
            let mut c = Conversation::between(client, SocketAddr::from(([10, 0, 0, 3], 80)));
            c.time = time;
            c.handshake();
            c.client_send(b"GET /other HTTP/1.1\r\nHost: s\r\n\r\n");
            frames.append(&mut c.frames);
            time = c.time;
        }
        x.frames.clear();
        x.time = time;
        x.http_finish(&m, 200);
        x.close();
        frames.append(&mut x.frames);
        for (n, (p, _)) in frames.iter_mut().enumerate() {
            p.packet = n as u64 + 1;
        }
        (frames, m)
    }

    #[test]
    fn an_exchange_stays_whole_when_many_connections_start_in_its_middle() {
        let (frames, m) = crowded(1_000);
        let mut t = Tracker::new(
            Config {
                max_connections: 64,
                ..Config::default()
            },
            0,
        );
        let mut events = Vec::new();
        for (place, f) in &frames {
            if let Ok(Some(seg)) = crate::decode::decode_frame(1, f) {
                t.segment(*place, &seg, &mut |e| events.push(e));
            }
        }
        let evicted = t.evicted();
        t.finish(&mut |e| events.push(e));
        assert!(evicted.connections >= 1_000 - 64, "{evicted:?}");
        assert_eq!(evicted.mid_exchange, 0, "{evicted:?}");
        let xs = exchanges(&events);
        assert_eq!(xs.len(), 1, "the exchange was split: {xs:?}");
        let x = xs[0];
        assert_eq!(x.client.to_string(), "10.0.0.1:50000");
        assert_eq!(x.negotiate.as_ref().unwrap().bytes, m.negotiate);
        assert_eq!(x.challenge.as_ref().unwrap().bytes, m.challenge);
        assert_eq!(x.authenticate.as_ref().unwrap().bytes, m.authenticate);
        assert_eq!(
            x.result.unwrap().result,
            crate::CarrierResult::Http { status: 200 }
        );
        let p = events
            .iter()
            .find_map(|e| match e {
                Event::Problem(p) if p.message.contains("evicted") => Some(p),
                _ => None,
            })
            .unwrap();
        assert_eq!(p.layer, "tcp");
        assert!(
            p.message
                .starts_with(&format!("{} connections were evicted", evicted.connections)),
            "{p}"
        );
        assert!(p.message.contains("0 of them in the middle"), "{p}");
    }

    #[test]
    fn eviction_takes_closing_and_idle_connections_before_quiet_ones() {
        let mut conn = Conn::new(
            "10.0.0.1:1".parse().unwrap(),
            "10.0.0.2:2".parse().unwrap(),
            Place::default(),
        );
        conn.last.time.secs = 1_000;
        assert_eq!(conn.eviction_rank(0), 1);
        assert_eq!(conn.eviction_rank(1_001), 0, "idle past the timeout");
        conn.current.negotiate = Some(Seen {
            kind: MessageType::Negotiate,
            bytes: Vec::new(),
            place: Place::default(),
            carrier: Carrier::Http,
            wrapping: Wrapping::Raw,
            from_a: true,
        });
        assert_eq!(conn.eviction_rank(0), 3, "mid-exchange");
        conn.current.authenticate = conn.current.negotiate.clone();
        assert_eq!(conn.eviction_rank(0), 2, "waiting for a result");
        conn.fin[1] = true;
        assert_eq!(conn.eviction_rank(0), 0, "closing");
    }
}
