//! TCP stream reassembly for one direction of a connection.
//!
//! Segments are delivered in sequence order: a retransmission or an
//! overlapping segment delivers only its new bytes, an out-of-order segment
//! waits (bounded by [`Limits`]) until the hole before it is filled. When
//! the waiting data exceeds the bounds, the hole is declared lost: a
//! [`Chunk::Gap`] is delivered and reassembly goes on after it, so that a
//! lossy capture never holds memory without bound.

use std::collections::BTreeMap;

/// Bounds on the data a stream holds while it waits for a hole to fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes held out of order.
    pub max_pending_bytes: usize,
    /// Segments held out of order.
    pub max_pending_segments: usize,
    /// A segment this far beyond the expected sequence number is taken as
    /// a jump (loss or a capture that started late), not held.
    pub max_window: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_pending_bytes: 1 << 20,
            max_pending_segments: 512,
            max_window: 16 << 20,
        }
    }
}

/// What a stream delivers, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// The next bytes of the stream.
    Data(&'a [u8]),
    /// This many bytes were never seen and are skipped.
    Gap(u64),
}

/// One direction of a TCP connection.
#[derive(Debug, Clone, Default)]
pub struct Stream {
    /// The next sequence number expected, once known.
    next: Option<u32>,
    /// Bytes delivered so far (the stream offset of `next`).
    offset: u64,
    /// Out-of-order segments by stream offset.
    pending: BTreeMap<u64, (Vec<u8>, u64)>,
    pending_bytes: usize,
    /// Bytes declared lost.
    pub lost: u64,
}

impl Stream {
    /// A stream whose first sequence number is not known yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes delivered so far.
    pub const fn offset(&self) -> u64 {
        self.offset
    }

    /// Bytes held out of order.
    pub const fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Takes a segment; calls `out` with each chunk that is now in order.
    ///
    /// `missing`: bytes of the segment's payload after `payload` that the
    /// capture cut (snap length); they are delivered as a gap.
    pub fn push(
        &mut self,
        seq: u32,
        syn: bool,
        payload: &[u8],
        missing: usize,
        limits: &Limits,
        out: &mut dyn FnMut(Chunk<'_>),
    ) {
        let next = match self.next {
            _ if syn => {
                // The SYN consumes one sequence number (RFC 9293 3.4).
                if self.next.is_none() || self.offset == 0 {
                    self.next = Some(seq.wrapping_add(1));
                }
                return;
            }
            Some(n) => n,
            None => {
                // The capture started mid-stream: take the first segment seen.
                self.next = Some(seq);
                seq
            }
        };
        let missing = u64::try_from(missing).unwrap_or(u64::MAX);
        if payload.is_empty() && missing == 0 {
            return;
        }
        let len = u64::try_from(payload.len())
            .unwrap_or(u64::MAX)
            .saturating_add(missing);
        #[allow(
            clippy::cast_possible_wrap,
            reason = "serial-number arithmetic (RFC 1982): the distance is signed"
        )]
        let rel = seq.wrapping_sub(next) as i32;
        if rel <= 0 {
            let seen = u64::from(rel.unsigned_abs());
            if seen < len {
                self.deliver_from(payload, missing, seen, out);
                self.drain(out);
            }
            return;
        }
        let ahead = rel.unsigned_abs();
        if ahead > limits.max_window {
            // A jump: what lies between is lost.
            self.skip(u64::from(ahead), out);
            self.deliver_from(payload, missing, 0, out);
            self.drain(out);
            return;
        }
        let at = self.offset.saturating_add(u64::from(ahead));
        let slot = self.pending.entry(at).or_default();
        if slot.0.len() < payload.len() || (slot.0.len() == payload.len() && slot.1 < missing) {
            self.pending_bytes = self
                .pending_bytes
                .saturating_sub(slot.0.len())
                .saturating_add(payload.len());
            slot.0.clear();
            slot.0.extend_from_slice(payload);
            slot.1 = missing;
        }
        while self.pending_bytes > limits.max_pending_bytes
            || self.pending.len() > limits.max_pending_segments
        {
            let Some(&first) = self.pending.keys().next() else {
                break;
            };
            self.skip(first.saturating_sub(self.offset), out);
            self.drain(out);
        }
    }

    /// Delivers what is held out of order, declaring the holes lost (at the
    /// end of the connection).
    pub fn finish(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        while let Some(&first) = self.pending.keys().next() {
            self.skip(first.saturating_sub(self.offset), out);
            self.drain(out);
        }
    }

    /// Delivers `payload` followed by `missing` lost bytes, from stream
    /// position `seen` within them.
    fn deliver_from(
        &mut self,
        payload: &[u8],
        missing: u64,
        seen: u64,
        out: &mut dyn FnMut(Chunk<'_>),
    ) {
        let plen = u64::try_from(payload.len()).unwrap_or(u64::MAX);
        if seen < plen {
            let from = usize::try_from(seen).unwrap_or(usize::MAX);
            if let Some(new) = payload.get(from..) {
                self.deliver(new, out);
            }
        }
        let lost = plen.saturating_add(missing).saturating_sub(seen.max(plen));
        self.skip(lost, out);
    }

    fn deliver(&mut self, data: &[u8], out: &mut dyn FnMut(Chunk<'_>)) {
        out(Chunk::Data(data));
        let n = u32::try_from(data.len()).unwrap_or(u32::MAX);
        self.next = self.next.map(|s| s.wrapping_add(n));
        self.offset = self.offset.saturating_add(u64::from(n));
    }

    fn skip(&mut self, n: u64, out: &mut dyn FnMut(Chunk<'_>)) {
        if n == 0 {
            return;
        }
        out(Chunk::Gap(n));
        self.lost = self.lost.saturating_add(n);
        #[allow(
            clippy::cast_possible_truncation,
            reason = "sequence numbers are modulo 2^32"
        )]
        let n32 = n as u32;
        self.next = self.next.map(|s| s.wrapping_add(n32));
        self.offset = self.offset.saturating_add(n);
    }

    /// Delivers held segments that are now in order.
    fn drain(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        while let Some(entry) = self.pending.first_entry() {
            let at = *entry.key();
            if at > self.offset {
                break;
            }
            let (data, missing) = entry.remove();
            self.pending_bytes = self.pending_bytes.saturating_sub(data.len());
            let seen = self.offset - at;
            let len = u64::try_from(data.len())
                .unwrap_or(u64::MAX)
                .saturating_add(missing);
            if seen < len {
                self.deliver_from(&data, missing, seen, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn collect(stream: &mut Stream, segs: &[(u32, &[u8])], limits: &Limits) -> (Vec<u8>, u64) {
        let mut data = Vec::new();
        let mut gaps = 0;
        let mut out = |c: Chunk<'_>| match c {
            Chunk::Data(d) => data.extend_from_slice(d),
            Chunk::Gap(n) => gaps += n,
        };
        for &(seq, p) in segs {
            stream.push(seq, false, p, 0, limits, &mut out);
        }
        stream.finish(&mut out);
        (data, gaps)
    }

    #[test]
    fn in_order_retransmitted_overlapping_and_out_of_order() {
        let l = Limits::default();
        let mut s = Stream::new();
        s.push(99, true, b"", 0, &l, &mut |_| {});
        let (d, g) = collect(
            &mut s,
            &[
                (100, b"hello"),
                (100, b"hello"),  // retransmission
                (103, b"lo wor"), // overlap
                (113, b"!"),      // out of order
                (109, b"ld, x"),  // fills the hole, overlaps the held byte
            ],
            &l,
        );
        assert_eq!((d.as_slice(), g), (&b"hello world, x"[..], 0));
    }

    #[test]
    fn sequence_numbers_wrap() {
        let l = Limits::default();
        let mut s = Stream::new();
        let (d, g) = collect(&mut s, &[(u32::MAX - 1, b"ab"), (0, b"cd"), (2, b"ef")], &l);
        assert_eq!((d.as_slice(), g), (&b"abcdef"[..], 0));
    }

    #[test]
    fn holes_are_bounded() {
        let l = Limits {
            max_pending_bytes: 8,
            max_pending_segments: 4,
            max_window: 1000,
        };
        let mut s = Stream::new();
        let (d, g) = collect(&mut s, &[(0, b"ab"), (10, b"cdefgh"), (16, b"ijk")], &l);
        assert_eq!((d.as_slice(), g), (&b"abcdefghijk"[..], 8));
        assert_eq!(s.pending_bytes(), 0);
        // A jump beyond the window is a gap at once.
        let mut s = Stream::new();
        let (d, g) = collect(&mut s, &[(0, b"ab"), (5000, b"cd")], &l);
        assert_eq!((d.as_slice(), g), (&b"abcd"[..], 4998));
    }

    #[test]
    fn bytes_cut_by_the_snap_length_are_gaps() {
        let l = Limits::default();
        let mut s = Stream::new();
        let mut got = Vec::new();
        let mut out = |c: Chunk<'_>| got.push(format!("{c:?}"));
        s.push(0, false, b"ab", 3, &l, &mut out);
        s.push(10, false, b"xy", 1, &l, &mut out); // held
        s.push(5, false, b"cd", 3, &l, &mut out); // fills the hole
        s.push(5, false, b"cd", 3, &l, &mut out); // retransmission
        assert_eq!(
            got,
            [
                "Data([97, 98])",
                "Gap(3)",
                "Data([99, 100])",
                "Gap(3)",
                "Data([120, 121])",
                "Gap(1)"
            ]
        );
        assert_eq!(s.offset(), 13);
    }

    proptest! {
        /// Any segmentation, duplication and reordering of a stream within
        /// the window yields the same bytes.
        #[test]
        fn any_segmentation_yields_the_stream(
            data in proptest::collection::vec(any::<u8>(), 1..2000),
            cuts in proptest::collection::vec(any::<u16>(), 0..40),
            dups in proptest::collection::vec(any::<u16>(), 0..10),
            seed in any::<u64>(),
            isn in any::<u32>(),
        ) {
            let mut points: Vec<usize> = cuts.iter().map(|&c| usize::from(c) % data.len()).collect();
            points.push(0);
            points.push(data.len());
            points.sort_unstable();
            points.dedup();
            let mut segs: Vec<(u32, Vec<u8>)> = points
                .windows(2)
                .map(|w| (isn.wrapping_add(u32::try_from(w[0]).unwrap()), data[w[0]..w[1]].to_vec()))
                .collect();
            let first = segs[0].clone();
            for d in dups {
                let i = usize::from(d) % segs.len();
                let s = segs[i].clone();
                segs.push(s);
            }
            // Deterministic shuffle of everything after the first segment.
            let mut x = seed | 1;
            let rest = &mut segs[1..];
            for i in (1..rest.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                rest.swap(i, usize::try_from(x % (i as u64 + 1)).unwrap());
            }
            segs[0] = first;
            let mut s = Stream::new();
            let borrowed: Vec<(u32, &[u8])> = segs.iter().map(|(q, p)| (*q, p.as_slice())).collect();
            let (out, gaps) = collect(&mut s, &borrowed, &Limits::default());
            prop_assert_eq!(gaps, 0);
            prop_assert_eq!(out, data);
        }
    }
}
