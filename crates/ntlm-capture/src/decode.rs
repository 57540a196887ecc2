//! Link, IP and TCP decoding: from a captured frame to a TCP segment.
//!
//! Link types (tcpdump.org `LINKTYPE_*`): Ethernet (1) with 802.1Q, 802.1ad
//! and QinQ tags, BSD loopback/null (0, host byte order) and `LOOP` (108,
//! network byte order), Linux cooked SLL (113) and SLL2 (276), raw IP (101,
//! and the historical DLT 12 and 14), raw IPv4 (228) and IPv6 (229).
//!
//! Network layer: IPv4 (options skipped, padding after `Total Length`
//! trimmed) and IPv6 with Hop-by-Hop, Routing, Destination Options,
//! Authentication Header and atomic Fragment extension headers. Tunnels: IP
//! in IP (4, 41), GRE (RFC 2784/2890) carrying IPv4, IPv6, transparent
//! Ethernet bridging (0x6558) or ERSPAN type I/II (0x88be) and type III
//! (0x22eb), nested up to [`MAX_DEPTH`] levels.
//!
//! IP fragments (other than atomic ones) are not reassembled: they are
//! reported as unsupported.

use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::bytes::{array, be16, be32, from, u8_at};

/// Link types (tcpdump.org LINKTYPE values).
pub mod linktype {
    /// BSD loopback: 4-byte address family in the capturing host's byte order.
    pub const NULL: u32 = 0;
    /// Ethernet.
    pub const ETHERNET: u32 = 1;
    /// Raw IP (DLT 12 on most systems).
    pub const RAW_DLT12: u32 = 12;
    /// Raw IP (DLT 14 on OpenBSD).
    pub const RAW_DLT14: u32 = 14;
    /// Raw IPv4 or IPv6.
    pub const RAW: u32 = 101;
    /// OpenBSD loopback: 4-byte address family in network byte order.
    pub const LOOP: u32 = 108;
    /// Linux cooked capture v1.
    pub const LINUX_SLL: u32 = 113;
    /// Raw IPv4.
    pub const IPV4: u32 = 228;
    /// Raw IPv6.
    pub const IPV6: u32 = 229;
    /// Linux cooked capture v2.
    pub const LINUX_SLL2: u32 = 276;
}

/// Most encapsulations (VLAN tags, tunnels) followed in one frame.
pub const MAX_DEPTH: usize = 8;

const ETH_IPV4: u16 = 0x0800;
const ETH_IPV6: u16 = 0x86dd;
const ETH_VLAN: u16 = 0x8100;
const ETH_QINQ: u16 = 0x88a8;
const ETH_QINQ_OLD: u16 = 0x9100;
const ETH_TEB: u16 = 0x6558;
const ETH_ERSPAN_2: u16 = 0x88be;
const ETH_ERSPAN_3: u16 = 0x22eb;

/// TCP header flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// ACK.
    pub const ACK: u8 = 0x10;

    /// Whether all of `bits` are set.
    pub const fn has(self, bits: u8) -> bool {
        self.0 & bits == bits
    }
}

/// A TCP segment decoded from a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment<'a> {
    /// Source address and port.
    pub src: SocketAddr,
    /// Destination address and port.
    pub dst: SocketAddr,
    /// Sequence number.
    pub seq: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// The payload bytes captured.
    pub payload: &'a [u8],
    /// Payload bytes the IP header declares but the capture cut (snap
    /// length): the payload is then a prefix of the real one.
    pub missing: usize,
}

/// Why a frame could not be decoded to a TCP segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    /// `link`, `ip`, `gre` or `tcp`.
    pub layer: &'static str,
    /// Offset in the frame where the bad header starts.
    pub offset: usize,
    /// What was wrong.
    pub reason: String,
    /// True for well-formed frames this decoder does not handle (IP
    /// fragments, unknown link types): callers count them rather than
    /// reporting each one.
    pub unsupported: bool,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at frame offset {}: {}",
            self.layer, self.offset, self.reason
        )
    }
}

impl std::error::Error for FrameError {}

fn bad(layer: &'static str, offset: usize, reason: impl Into<String>) -> FrameError {
    FrameError {
        layer,
        offset,
        reason: reason.into(),
        unsupported: false,
    }
}

fn unsupported(layer: &'static str, offset: usize, reason: impl Into<String>) -> FrameError {
    FrameError {
        layer,
        offset,
        reason: reason.into(),
        unsupported: true,
    }
}

fn short(layer: &'static str, offset: usize, what: &str, need: usize, have: usize) -> FrameError {
    bad(
        layer,
        offset,
        format!("{what} needs {need} bytes, {have} captured"),
    )
}

type Decoded<'a> = Result<Option<Segment<'a>>, FrameError>;

/// Decodes a captured frame of link type `linktype` down to its TCP
/// segment. `Ok(None)` for frames that carry no TCP (ARP, UDP, ICMP...).
pub fn decode_frame(linktype: u32, frame: &[u8]) -> Decoded<'_> {
    let d = Decoder { frame };
    match linktype {
        linktype::ETHERNET => d.ethernet(0, 0),
        linktype::NULL => d.null(false),
        linktype::LOOP => d.null(true),
        linktype::LINUX_SLL => d.sll(),
        linktype::LINUX_SLL2 => d.sll2(),
        linktype::RAW | linktype::RAW_DLT12 | linktype::RAW_DLT14 => d.ip(0, 0),
        linktype::IPV4 => d.ipv4(0, 0),
        linktype::IPV6 => d.ipv6(0, 0),
        other => Err(unsupported(
            "link",
            0,
            format!("link type {other} is not supported"),
        )),
    }
}

struct Decoder<'a> {
    frame: &'a [u8],
}

impl<'a> Decoder<'a> {
    fn rest(&self, at: usize) -> &'a [u8] {
        from(self.frame, at).unwrap_or_default()
    }

    fn ethernet(&self, at: usize, depth: usize) -> Decoded<'a> {
        let Some(ethertype) = be16(self.frame, at.saturating_add(12)) else {
            return Err(short(
                "link",
                at,
                "Ethernet header",
                14,
                self.rest(at).len(),
            ));
        };
        self.ethertype(ethertype, at.saturating_add(14), depth)
    }

    /// Dispatches on an EtherType, following VLAN tags.
    fn ethertype(&self, mut ethertype: u16, mut at: usize, depth: usize) -> Decoded<'a> {
        let mut tags = 0;
        while matches!(ethertype, ETH_VLAN | ETH_QINQ | ETH_QINQ_OLD) {
            tags += 1;
            if tags > MAX_DEPTH {
                return Err(bad("link", at, "more than 8 VLAN tags"));
            }
            let Some(inner) = be16(self.frame, at.saturating_add(2)) else {
                return Err(short("link", at, "802.1Q tag", 4, self.rest(at).len()));
            };
            ethertype = inner;
            at = at.saturating_add(4);
        }
        match ethertype {
            ETH_IPV4 => self.ipv4(at, depth),
            ETH_IPV6 => self.ipv6(at, depth),
            _ => Ok(None),
        }
    }

    fn null(&self, network_order: bool) -> Decoded<'a> {
        let Some(raw) = array::<4>(self.frame, 0) else {
            return Err(short("link", 0, "loopback header", 4, self.frame.len()));
        };
        let family = if network_order {
            u32::from_be_bytes(raw)
        } else {
            // Host byte order of the capturing machine: accept either.
            let le = u32::from_le_bytes(raw);
            if le < 0x1_0000 {
                le
            } else {
                u32::from_be_bytes(raw)
            }
        };
        match family {
            2 => self.ipv4(4, 0),
            // AF_INET6 on the BSDs (24, 28, 30), Linux (10) and Solaris (26).
            10 | 24 | 26 | 28 | 30 => self.ipv6(4, 0),
            _ => Ok(None),
        }
    }

    fn sll(&self) -> Decoded<'a> {
        let Some(protocol) = be16(self.frame, 14) else {
            return Err(short("link", 0, "SLL header", 16, self.frame.len()));
        };
        self.ethertype(protocol, 16, 0)
    }

    fn sll2(&self) -> Decoded<'a> {
        if self.frame.len() < 20 {
            return Err(short("link", 0, "SLL2 header", 20, self.frame.len()));
        }
        let protocol = be16(self.frame, 0).unwrap_or_default();
        self.ethertype(protocol, 20, 0)
    }

    fn ip(&self, at: usize, depth: usize) -> Decoded<'a> {
        match u8_at(self.frame, at).map(|b| b >> 4) {
            Some(4) => self.ipv4(at, depth),
            Some(6) => self.ipv6(at, depth),
            Some(v) => Err(bad("ip", at, format!("IP version {v}"))),
            None => Err(short("ip", at, "IP header", 20, 0)),
        }
    }

    fn ipv4(&self, at: usize, depth: usize) -> Decoded<'a> {
        let hdr = self.rest(at);
        let (Some(vihl), Some(total), Some(frag), Some(proto), Some(src), Some(dst)) = (
            u8_at(hdr, 0),
            be16(hdr, 2),
            be16(hdr, 6),
            u8_at(hdr, 9),
            array::<4>(hdr, 12),
            array::<4>(hdr, 16),
        ) else {
            return Err(short("ip", at, "IPv4 header", 20, hdr.len()));
        };
        if vihl >> 4 != 4 {
            return Err(bad(
                "ip",
                at,
                format!("IPv4 header with version {}", vihl >> 4),
            ));
        }
        let ihl = usize::from(vihl & 0x0f) * 4;
        if ihl < 20 {
            return Err(bad("ip", at, format!("IPv4 header length {ihl} below 20")));
        }
        if hdr.len() < ihl {
            return Err(short("ip", at, "IPv4 header with options", ihl, hdr.len()));
        }
        let total = usize::from(total);
        if total < ihl {
            return Err(bad(
                "ip",
                at.saturating_add(2),
                format!("IPv4 Total Length {total} below the header length {ihl}"),
            ));
        }
        // Bit 13 is MF, the low 13 bits the fragment offset.
        if frag & 0x3fff != 0 {
            return Err(unsupported(
                "ip",
                at.saturating_add(6),
                "IPv4 fragment (not reassembled)",
            ));
        }
        let missing = total.saturating_sub(hdr.len());
        let end = total.min(hdr.len());
        let payload = hdr.get(ihl..end).unwrap_or_default();
        let (src, dst) = (
            IpAddr::V4(Ipv4Addr::from(src)),
            IpAddr::V4(Ipv4Addr::from(dst)),
        );
        self.transport(
            proto,
            src,
            dst,
            at.saturating_add(ihl),
            payload,
            missing,
            depth,
        )
    }

    fn ipv6(&self, at: usize, depth: usize) -> Decoded<'a> {
        let hdr = self.rest(at);
        let (Some(v), Some(plen), Some(mut next), Some(src), Some(dst)) = (
            u8_at(hdr, 0),
            be16(hdr, 4),
            u8_at(hdr, 6),
            array::<16>(hdr, 8),
            array::<16>(hdr, 24),
        ) else {
            return Err(short("ip", at, "IPv6 header", 40, hdr.len()));
        };
        if v >> 4 != 6 {
            return Err(bad(
                "ip",
                at,
                format!("IPv6 header with version {}", v >> 4),
            ));
        }
        let total = 40usize.saturating_add(usize::from(plen));
        let missing = total.saturating_sub(hdr.len());
        let body = hdr.get(40..total.min(hdr.len())).unwrap_or_default();
        let mut off = 0usize;
        // Extension headers (RFC 8200 4): each names the next; bounded count.
        for _ in 0..MAX_DEPTH {
            let ext_at = at.saturating_add(40).saturating_add(off);
            match next {
                // Hop-by-Hop, Routing, Destination Options: (len + 1) * 8 bytes.
                0 | 43 | 60 => {
                    let (Some(n), Some(l)) = (u8_at(body, off), u8_at(body, off.saturating_add(1)))
                    else {
                        return Err(short("ip", ext_at, "IPv6 extension header", 8, 0));
                    };
                    next = n;
                    off = off.saturating_add((usize::from(l) + 1) * 8);
                }
                // Authentication Header: (len + 2) * 4 bytes.
                51 => {
                    let (Some(n), Some(l)) = (u8_at(body, off), u8_at(body, off.saturating_add(1)))
                    else {
                        return Err(short("ip", ext_at, "IPv6 Authentication Header", 12, 0));
                    };
                    next = n;
                    off = off.saturating_add((usize::from(l) + 2) * 4);
                }
                // Fragment: 8 bytes; only an atomic fragment is whole.
                44 => {
                    let (Some(n), Some(fo)) = (u8_at(body, off), be16(body, off.saturating_add(2)))
                    else {
                        return Err(short("ip", ext_at, "IPv6 Fragment header", 8, 0));
                    };
                    if fo & 0xfff9 != 0 {
                        return Err(unsupported("ip", ext_at, "IPv6 fragment (not reassembled)"));
                    }
                    next = n;
                    off = off.saturating_add(8);
                }
                _ => break,
            }
            if off > body.len() {
                return Err(bad(
                    "ip",
                    ext_at,
                    "IPv6 extension header runs past the payload",
                ));
            }
        }
        let payload = from(body, off).unwrap_or_default();
        let src = IpAddr::V6(Ipv6Addr::from(src));
        let dst = IpAddr::V6(Ipv6Addr::from(dst));
        let pay_at = at.saturating_add(40).saturating_add(off);
        self.transport(next, src, dst, pay_at, payload, missing, depth)
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "the IP header fields a transport needs, passed without a struct for speed"
    )]
    fn transport(
        &self,
        proto: u8,
        src: IpAddr,
        dst: IpAddr,
        at: usize,
        payload: &'a [u8],
        missing: usize,
        depth: usize,
    ) -> Decoded<'a> {
        match proto {
            6 => tcp(src, dst, at, payload, missing),
            4 | 41 | 47 if depth >= MAX_DEPTH => Err(bad("ip", at, "more than 8 nested tunnels")),
            4 => self.ipv4(at, depth + 1),
            41 => self.ipv6(at, depth + 1),
            47 => self.gre(at, depth + 1),
            _ => Ok(None),
        }
    }

    /// GRE (RFC 2784, RFC 2890 keys and sequence numbers) and ERSPAN.
    fn gre(&self, at: usize, depth: usize) -> Decoded<'a> {
        let hdr = self.rest(at);
        let (Some(fl), Some(proto)) = (be16(hdr, 0), be16(hdr, 2)) else {
            return Err(short("gre", at, "GRE header", 4, hdr.len()));
        };
        if fl & 0x0007 != 0 {
            return Err(unsupported(
                "gre",
                at,
                format!("GRE version {} (PPTP) is not supported", fl & 7),
            ));
        }
        let mut len = 4usize;
        for bit in [0x8000u16, 0x2000, 0x1000] {
            // Checksum+Reserved1, Key, Sequence Number: 4 bytes each.
            if fl & bit != 0 {
                len += 4;
            }
        }
        if hdr.len() < len {
            return Err(short("gre", at, "GRE header with options", len, hdr.len()));
        }
        let inner = at.saturating_add(len);
        match proto {
            ETH_IPV4 => self.ipv4(inner, depth),
            ETH_IPV6 => self.ipv6(inner, depth),
            ETH_TEB => self.ethernet(inner, depth),
            // ERSPAN type II has the S bit and an 8-byte header; type I has neither.
            ETH_ERSPAN_2 if fl & 0x1000 != 0 => {
                self.erspan_version(inner, 1)?;
                self.ethernet(inner.saturating_add(8), depth)
            }
            ETH_ERSPAN_2 => self.ethernet(inner, depth),
            ETH_ERSPAN_3 => {
                self.erspan_version(inner, 2)?;
                // The O flag (last bit of the 12-byte header) announces an
                // 8-byte platform-specific subheader.
                let Some(last) = u8_at(self.frame, inner.saturating_add(11)) else {
                    return Err(short(
                        "gre",
                        inner,
                        "ERSPAN type III header",
                        12,
                        self.rest(inner).len(),
                    ));
                };
                let sub = if last & 1 != 0 { 8 } else { 0 };
                self.ethernet(inner.saturating_add(12 + sub), depth)
            }
            _ => Ok(None),
        }
    }

    fn erspan_version(&self, at: usize, want: u8) -> Result<(), FrameError> {
        match u8_at(self.frame, at).map(|b| b >> 4) {
            Some(v) if v == want => Ok(()),
            Some(v) => Err(bad(
                "gre",
                at,
                format!("ERSPAN version {v} where {want} was expected"),
            )),
            None => Err(short("gre", at, "ERSPAN header", 8, 0)),
        }
    }
}

fn tcp<'a>(src: IpAddr, dst: IpAddr, at: usize, b: &'a [u8], missing: usize) -> Decoded<'a> {
    let (Some(sport), Some(dport), Some(seq), Some(off), Some(flags)) = (
        be16(b, 0),
        be16(b, 2),
        be32(b, 4),
        u8_at(b, 12),
        u8_at(b, 13),
    ) else {
        if missing > 0 {
            return Err(unsupported("tcp", at, "TCP header cut by the snap length"));
        }
        return Err(short("tcp", at, "TCP header", 20, b.len()));
    };
    let hlen = usize::from(off >> 4) * 4;
    if hlen < 20 {
        return Err(bad(
            "tcp",
            at.saturating_add(12),
            format!("TCP data offset {hlen} below 20"),
        ));
    }
    let Some(payload) = from(b, hlen) else {
        if missing > 0 {
            return Err(unsupported("tcp", at, "TCP options cut by the snap length"));
        }
        return Err(short("tcp", at, "TCP header with options", hlen, b.len()));
    };
    Ok(Some(Segment {
        src: SocketAddr::new(src, sport),
        dst: SocketAddr::new(dst, dport),
        seq,
        flags: TcpFlags(flags),
        payload,
        missing,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{self, Frame};

    fn seg() -> Frame {
        Frame::tcp_v4(
            [10, 0, 0, 1],
            50000,
            [10, 0, 0, 2],
            80,
            1000,
            TcpFlags::ACK,
            b"hello",
        )
    }

    fn check(linktype: u32, frame: &[u8]) {
        let s = decode_frame(linktype, frame).unwrap().unwrap();
        assert_eq!(s.src.to_string(), "10.0.0.1:50000");
        assert_eq!(s.dst.to_string(), "10.0.0.2:80");
        assert_eq!(s.seq, 1000);
        assert_eq!(s.payload, b"hello");
        assert_eq!(s.missing, 0);
    }

    #[test]
    fn ethernet_vlan_and_qinq() {
        let ip = seg().ipv4();
        check(linktype::ETHERNET, &synth::ethernet(ETH_IPV4, &ip));
        let vlan = synth::ethernet(ETH_VLAN, &[&[0, 5, 8, 0][..], &ip].concat());
        check(linktype::ETHERNET, &vlan);
        let qinq = synth::ethernet(
            ETH_QINQ,
            &[&[0, 7, 0x81, 0][..], &[0, 5, 8, 0], &ip].concat(),
        );
        check(linktype::ETHERNET, &qinq);
        // Ethernet padding after the IP datagram is trimmed.
        let mut padded = synth::ethernet(ETH_IPV4, &ip);
        padded.extend_from_slice(&[0; 6]);
        check(linktype::ETHERNET, &padded);
        // ARP: no TCP.
        assert_eq!(
            decode_frame(1, &synth::ethernet(0x0806, &[0; 28])).unwrap(),
            None
        );
    }

    #[test]
    fn cooked_loopback_and_raw() {
        let ip = seg().ipv4();
        let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 8, 0];
        sll.extend_from_slice(&ip);
        check(linktype::LINUX_SLL, &sll);
        let mut sll2 = vec![8, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0];
        sll2.extend_from_slice(&ip);
        check(linktype::LINUX_SLL2, &sll2);
        check(linktype::NULL, &[&2u32.to_le_bytes()[..], &ip].concat());
        check(linktype::NULL, &[&2u32.to_be_bytes()[..], &ip].concat());
        check(linktype::LOOP, &[&2u32.to_be_bytes()[..], &ip].concat());
        for lt in [
            linktype::RAW,
            linktype::RAW_DLT12,
            linktype::RAW_DLT14,
            linktype::IPV4,
        ] {
            check(lt, &ip);
        }
    }

    #[test]
    fn ipv6_with_extension_headers() {
        let f = Frame {
            src: SocketAddr::new("fd00::1".parse().unwrap(), 50000),
            dst: SocketAddr::new("fd00::2".parse().unwrap(), 80),
            ..seg()
        };
        let tcp = f.tcp_bytes();
        // Hop-by-Hop (8 bytes) -> Destination Options (16 bytes) -> atomic Fragment -> TCP.
        let mut ext = vec![60, 0, 0, 0, 0, 0, 0, 0];
        ext.extend_from_slice(&[44, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        ext.extend_from_slice(&[6, 0, 0, 0, 0, 0, 0, 1]);
        ext.extend_from_slice(&tcp);
        let ip = synth::ipv6_packet(f.src.ip(), f.dst.ip(), 0, &ext);
        let s = decode_frame(linktype::IPV6, &ip).unwrap().unwrap();
        assert_eq!(s.src.to_string(), "[fd00::1]:50000");
        assert_eq!(s.payload, b"hello");
        check_v6_loopback(&ip);
        // A real fragment is reported as unsupported, not decoded.
        let mut frag = vec![6, 0, 0, 8, 0, 0, 0, 1];
        frag.extend_from_slice(&tcp);
        let ip = synth::ipv6_packet(f.src.ip(), f.dst.ip(), 44, &frag);
        let e = decode_frame(linktype::IPV6, &ip).unwrap_err();
        assert!(e.unsupported, "{e}");
        // An extension header that runs past the payload.
        let ip = synth::ipv6_packet(f.src.ip(), f.dst.ip(), 0, &[6, 9, 0, 0, 0, 0, 0, 0]);
        let e = decode_frame(linktype::IPV6, &ip).unwrap_err();
        assert!(!e.unsupported && e.offset == 40, "{e}");
    }

    fn check_v6_loopback(ip: &[u8]) {
        for fam in [24u32, 28, 30, 10] {
            let f = [&fam.to_le_bytes()[..], ip].concat();
            assert!(decode_frame(linktype::NULL, &f).unwrap().is_some(), "{fam}");
        }
        let e = synth::ethernet(ETH_IPV6, ip);
        assert!(decode_frame(linktype::ETHERNET, &e).unwrap().is_some());
        assert!(decode_frame(linktype::RAW, ip).unwrap().is_some());
    }

    #[test]
    fn gre_and_erspan() {
        let inner_ip = seg().ipv4();
        let inner_eth = synth::ethernet(ETH_IPV4, &inner_ip);
        let outer = |gre: Vec<u8>| {
            let o = Frame::tcp_v4([192, 168, 0, 1], 0, [192, 168, 0, 2], 0, 0, 0, b"");
            synth::ethernet(
                ETH_IPV4,
                &synth::ipv4_packet(o.src.ip(), o.dst.ip(), 47, &gre),
            )
        };
        // Plain GRE with a key, IPv4 inside.
        let gre = [&[0x20, 0, 8, 0, 0, 0, 0, 42][..], &inner_ip].concat();
        check(linktype::ETHERNET, &outer(gre));
        // Transparent Ethernet bridging.
        let gre = [&[0, 0, 0x65, 0x58][..], &inner_eth].concat();
        check(linktype::ETHERNET, &outer(gre));
        // ERSPAN type II: S bit, sequence number, 8-byte header (version 1).
        let gre = [
            &[0x10, 0, 0x88, 0xbe, 0, 0, 0, 1][..],
            &[0x10, 0x00, 0x00, 0x01, 0, 0, 0, 0],
            &inner_eth,
        ]
        .concat();
        check(linktype::ETHERNET, &outer(gre));
        // ERSPAN type I: no sequence number, Ethernet directly.
        let gre = [&[0, 0, 0x88, 0xbe][..], &inner_eth].concat();
        check(linktype::ETHERNET, &outer(gre));
        // ERSPAN type III with the platform subheader (O bit).
        let gre = [
            &[0x10, 0, 0x22, 0xeb, 0, 0, 0, 1][..],
            &[0x20, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1],
            &[0; 8],
            &inner_eth,
        ]
        .concat();
        check(linktype::ETHERNET, &outer(gre));
        // ... and without it.
        let gre = [
            &[0x10, 0, 0x22, 0xeb, 0, 0, 0, 1][..],
            &[0x20, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
            &inner_eth,
        ]
        .concat();
        check(linktype::ETHERNET, &outer(gre));
        // Wrong ERSPAN version.
        let gre = [
            &[0x10, 0, 0x22, 0xeb, 0, 0, 0, 1][..],
            &[0x10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
            &inner_eth,
        ]
        .concat();
        let e = decode_frame(linktype::ETHERNET, &outer(gre)).unwrap_err();
        assert_eq!(e.layer, "gre");
        // IP in IP.
        let o = synth::ipv4_packet(
            "192.168.0.1".parse().unwrap(),
            "192.168.0.2".parse().unwrap(),
            4,
            &inner_ip,
        );
        check(linktype::RAW, &o);
    }

    #[test]
    fn malformed_frames_name_layer_and_offset() {
        let ip = seg().ipv4();
        let e = decode_frame(linktype::ETHERNET, &[0; 10]).unwrap_err();
        assert_eq!((e.layer, e.offset), ("link", 0));
        let e = decode_frame(linktype::RAW, &ip[..12]).unwrap_err();
        assert_eq!((e.layer, e.offset), ("ip", 0));
        let mut bad_ihl = ip.clone();
        bad_ihl[0] = 0x44;
        let e = decode_frame(linktype::RAW, &bad_ihl).unwrap_err();
        assert!(e.reason.contains("header length 16"), "{e}");
        let mut bad_len = ip.clone();
        bad_len[2..4].copy_from_slice(&10u16.to_be_bytes());
        let e = decode_frame(linktype::RAW, &bad_len).unwrap_err();
        assert_eq!(e.offset, 2);
        let mut frag = ip.clone();
        frag[6] = 0x20;
        assert!(decode_frame(linktype::RAW, &frag).unwrap_err().unsupported);
        let mut bad_doff = ip.clone();
        bad_doff[20 + 12] = 0x20;
        let e = decode_frame(linktype::RAW, &bad_doff).unwrap_err();
        assert_eq!((e.layer, e.offset), ("tcp", 32));
        assert!(decode_frame(9999, &ip).unwrap_err().unsupported);
        // Cut by the snap length: the payload prefix is kept and flagged.
        let s = decode_frame(linktype::RAW, &ip[..ip.len() - 2])
            .unwrap()
            .unwrap();
        assert_eq!(s.missing, 2);
        assert_eq!(s.payload, b"hel");
        // Every prefix of a frame decodes or fails cleanly.
        let eth = synth::ethernet(ETH_IPV4, &ip);
        for n in 0..eth.len() {
            let _ = decode_frame(linktype::ETHERNET, &eth[..n]);
        }
    }
}
