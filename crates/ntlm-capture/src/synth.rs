//! Synthetic captures: NTLM messages, carrier framing, TCP conversations
//! and pcap/pcapng files, built byte by byte.
//!
//! Tests, benchmarks and fuzz seeds use these builders; they are public so
//! that the command-line tests and the fuzz corpus generator share them.
//! The NTLM messages are well-formed (MS-NLMP 2.2.1) but carry no real
//! cryptographic values.

use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};

use ntlm_gss::der::tlv as der;
use ntlm_gss::http::{Scheme, header_value};
use ntlm_gss::spnego::{wrap_init, wrap_resp};

use crate::decode::TcpFlags;
use crate::{Place, Timestamp};

/// NEGOTIATE_UNICODE | REQUEST_TARGET | NTLM | ALWAYS_SIGN | EXTENDED_SESSIONSECURITY
/// | VERSION | 128 | KEY_EXCH | 56 | OEM | SIGN: a Windows 10 client that wants signing.
pub const WINDOWS_FLAGS: u32 = 0xe208_8217;
/// curl's NEGOTIATE (never 128, 56, KEY_EXCH or VERSION).
pub const CURL_FLAGS: u32 = 0x0008_8206;

/// What the three messages of an exchange contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// NEGOTIATE flags.
    pub negotiate_flags: u32,
    /// CHALLENGE flags.
    pub challenge_flags: u32,
    /// AUTHENTICATE flags.
    pub authenticate_flags: u32,
    /// User name.
    pub user: String,
    /// Domain name.
    pub domain: String,
    /// Workstation name.
    pub workstation: String,
    /// NT response length: 24 (NTLMv1 / NTLM2 session) or more (NTLMv2).
    pub nt_len: usize,
    /// LM response length (0 or 24).
    pub lm_len: usize,
    /// Whether the AUTHENTICATE has a MIC (88-byte header).
    pub mic: bool,
}

impl Default for Spec {
    fn default() -> Self {
        Self {
            negotiate_flags: WINDOWS_FLAGS,
            challenge_flags: 0xe28a_8215,
            authenticate_flags: 0xe288_8215,
            user: "alice".to_owned(),
            domain: "EXAMPLE".to_owned(),
            workstation: "WS01".to_owned(),
            nt_len: 80,
            lm_len: 24,
            mic: true,
        }
    }
}

/// The three messages of an exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Messages {
    /// NEGOTIATE_MESSAGE.
    pub negotiate: Vec<u8>,
    /// CHALLENGE_MESSAGE.
    pub challenge: Vec<u8>,
    /// AUTHENTICATE_MESSAGE.
    pub authenticate: Vec<u8>,
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn put_buffer(h: &mut Vec<u8>, len: usize, off: usize) {
    let l = u16::try_from(len).unwrap_or(u16::MAX);
    h.extend_from_slice(&l.to_le_bytes());
    h.extend_from_slice(&l.to_le_bytes());
    h.extend_from_slice(&u32::try_from(off).unwrap_or(u32::MAX).to_le_bytes());
}

const VERSION: [u8; 8] = [10, 0, 0x61, 0x4a, 0, 0, 0, 15];

impl Messages {
    /// [`Spec::default`]'s messages.
    pub fn sample() -> Self {
        Self::new(&Spec::default())
    }

    /// Builds the three messages.
    pub fn new(spec: &Spec) -> Self {
        // NEGOTIATE (2.2.1.1): no domain or workstation.
        let mut n = b"NTLMSSP\0\x01\0\0\0".to_vec();
        n.extend_from_slice(&spec.negotiate_flags.to_le_bytes());
        put_buffer(&mut n, 0, 0);
        put_buffer(&mut n, 0, 0);
        if spec.negotiate_flags & 0x0200_0000 != 0 {
            n.extend_from_slice(&VERSION);
        }
        // CHALLENGE (2.2.1.2) with a TargetName and a TargetInfo.
        let target = utf16(&spec.domain);
        let mut info = Vec::new();
        for (id, v) in [
            (2u16, utf16(&spec.domain)),
            (1, utf16("SERVER")),
            (7, vec![0x11; 8]),
        ] {
            info.extend_from_slice(&id.to_le_bytes());
            info.extend_from_slice(&u16::try_from(v.len()).unwrap_or(0).to_le_bytes());
            info.extend_from_slice(&v);
        }
        info.extend_from_slice(&[0, 0, 0, 0]);
        let mut c = b"NTLMSSP\0\x02\0\0\0".to_vec();
        put_buffer(&mut c, target.len(), 56);
        c.extend_from_slice(&spec.challenge_flags.to_le_bytes());
        c.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        c.extend_from_slice(&[0; 8]);
        put_buffer(&mut c, info.len(), 56 + target.len());
        c.extend_from_slice(&VERSION);
        c.extend_from_slice(&target);
        c.extend_from_slice(&info);
        // AUTHENTICATE (2.2.1.3).
        let header = if spec.mic { 88 } else { 72 };
        let domain = utf16(&spec.domain);
        let user = utf16(&spec.user);
        let ws = utf16(&spec.workstation);
        let lm = vec![0u8; spec.lm_len];
        let mut nt = vec![0x22u8; spec.nt_len];
        if spec.nt_len > 24 {
            // NTLMv2_CLIENT_CHALLENGE after the 16-byte NTProofStr.
            if let Some(b) = nt.get_mut(16..20) {
                b.copy_from_slice(&[1, 1, 0, 0]);
            }
            let n = nt.len();
            if let Some(b) = nt.get_mut(n - 4..) {
                b.copy_from_slice(&[0, 0, 0, 0]);
            }
            if n >= 48 {
                if let Some(b) = nt.get_mut(44..48) {
                    b.copy_from_slice(&[0, 0, 0, 0]);
                }
            }
        }
        let key = vec![0x33u8; 16];
        let mut off = header;
        let mut a = b"NTLMSSP\0\x03\0\0\0".to_vec();
        let mut payload = Vec::new();
        let mut field = |a: &mut Vec<u8>, data: &[u8]| {
            put_buffer(a, data.len(), off);
            off += data.len();
            payload.extend_from_slice(data);
        };
        field(&mut a, &lm);
        field(&mut a, &nt);
        field(&mut a, &domain);
        field(&mut a, &user);
        field(&mut a, &ws);
        field(&mut a, &key);
        a.extend_from_slice(&spec.authenticate_flags.to_le_bytes());
        a.extend_from_slice(&VERSION);
        if spec.mic {
            a.extend_from_slice(&[0x44; 16]);
        }
        a.extend_from_slice(&payload);
        Self {
            negotiate: n,
            challenge: c,
            authenticate: a,
        }
    }
}

/// A NetBIOS session message (RFC 1002 4.3.6) around `payload`.
pub fn netbios(payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap_or(0) & 0x1_ffff;
    let mut v = vec![0];
    v.extend_from_slice(&len.to_be_bytes()[1..]);
    v.extend_from_slice(payload);
    v
}

/// An SMB1 SESSION_SETUP_ANDX request (12 words) or response (4 words)
/// with extended security, NetBIOS-framed.
pub fn smb1_session_setup(response: bool, status: u32, blob: &[u8]) -> Vec<u8> {
    let mut h = b"\xffSMB\x73".to_vec();
    h.extend_from_slice(&status.to_le_bytes());
    h.push(if response { 0x98 } else { 0x18 });
    h.extend_from_slice(&0xc807u16.to_le_bytes());
    h.extend_from_slice(&[0; 20]);
    let bl = u16::try_from(blob.len()).unwrap_or(0).to_le_bytes();
    if response {
        h.push(4);
        h.extend_from_slice(&[0xff, 0, 0, 0, 0, 0]);
        h.extend_from_slice(&bl);
    } else {
        h.push(12);
        h.extend_from_slice(&[0xff, 0, 0, 0, 0x04, 0x11, 0x32, 0, 0, 0, 0, 0, 0, 0]);
        h.extend_from_slice(&bl);
        h.extend_from_slice(&[0, 0, 0, 0, 0xd4, 0, 0, 0xa0]);
    }
    h.extend_from_slice(&u16::try_from(blob.len()).unwrap_or(0).to_le_bytes());
    h.extend_from_slice(blob);
    netbios(&h)
}

/// An SMB2 SESSION_SETUP request or response, NetBIOS-framed.
pub fn smb2_session_setup(response: bool, status: u32, blob: &[u8]) -> Vec<u8> {
    let mut h = b"\xfeSMB".to_vec();
    h.extend_from_slice(&64u16.to_le_bytes());
    h.extend_from_slice(&[1, 0]);
    h.extend_from_slice(&status.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes());
    h.extend_from_slice(&[1, 0]);
    h.extend_from_slice(&u32::from(response).to_le_bytes());
    h.extend_from_slice(&[0; 4]);
    h.extend_from_slice(&[0; 40]);
    let bl = u16::try_from(blob.len()).unwrap_or(0).to_le_bytes();
    if response {
        h.extend_from_slice(&9u16.to_le_bytes());
        h.extend_from_slice(&[0, 0]);
        h.extend_from_slice(&72u16.to_le_bytes());
        h.extend_from_slice(&bl);
    } else {
        h.extend_from_slice(&25u16.to_le_bytes());
        h.extend_from_slice(&[0, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
        h.extend_from_slice(&88u16.to_le_bytes());
        h.extend_from_slice(&bl);
        h.extend_from_slice(&[0; 8]);
    }
    h.extend_from_slice(blob);
    netbios(&h)
}

/// A connection-oriented DCE/RPC PDU with an auth verifier (C706 12.6.3,
/// 13.2.6.1), in little- or big-endian data representation.
pub fn dcerpc_pdu(ptype: u8, little: bool, auth_type: u8, auth_value: &[u8]) -> Vec<u8> {
    let body = [0u8; 12];
    let frag = 16 + body.len() + 8 + auth_value.len();
    let u16b = |v: usize| {
        let v = u16::try_from(v).unwrap_or(u16::MAX);
        if little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        }
    };
    let mut p = vec![5, 0, ptype, 3, if little { 0x10 } else { 0 }, 0, 0, 0];
    p.extend_from_slice(&u16b(frag));
    p.extend_from_slice(&u16b(auth_value.len()));
    p.extend_from_slice(&[0, 0, 0, 1]);
    p.extend_from_slice(&body);
    p.extend_from_slice(&[auth_type, 2, 0, 0, 0, 0, 0, 0]);
    p.extend_from_slice(auth_value);
    p
}

/// A DCE/RPC fault PDU (little-endian).
pub fn dcerpc_fault(status: u32) -> Vec<u8> {
    let mut p = vec![5, 0, 3, 3, 0x10, 0, 0, 0, 32, 0, 0, 0, 0, 0, 0, 1];
    p.extend_from_slice(&[0; 8]);
    p.extend_from_slice(&status.to_le_bytes());
    p.extend_from_slice(&[0; 4]);
    p
}

/// A DCE/RPC response PDU (little-endian).
pub fn dcerpc_response() -> Vec<u8> {
    let mut p = vec![5, 0, 2, 3, 0x10, 0, 0, 0, 28, 0, 0, 0, 0, 0, 0, 1];
    p.extend_from_slice(&[0; 12]);
    p
}

fn ldap_message(id: u8, op: &[u8]) -> Vec<u8> {
    der(0x30, &[&[0x02, 0x01, id][..], op].concat())
}

/// An LDAP SASL BindRequest with `mechanism` and `credentials`.
pub fn ldap_sasl_bind(id: u8, mechanism: &str, credentials: &[u8]) -> Vec<u8> {
    let sasl = der(
        0xa3,
        &[der(0x04, mechanism.as_bytes()), der(0x04, credentials)].concat(),
    );
    let req = der(
        0x60,
        &[&[0x02, 0x01, 0x03][..], &der(0x04, b""), &sasl].concat(),
    );
    ldap_message(id, &req)
}

/// An LDAP sicily BindRequest: `tag` 0x8a (sicilyNegotiate) or 0x8b (sicilyResponse).
pub fn ldap_sicily_bind(id: u8, tag: u8, token: &[u8]) -> Vec<u8> {
    let req = der(
        0x60,
        &[
            &[0x02, 0x01, 0x03][..],
            &der(0x04, b"CN=x"),
            &der(tag, token),
        ]
        .concat(),
    );
    ldap_message(id, &req)
}

/// An LDAP BindResponse with `matched_dn` and optional `serverSaslCreds`.
pub fn ldap_bind_response(id: u8, code: u8, matched_dn: &[u8], creds: Option<&[u8]>) -> Vec<u8> {
    let mut body = vec![0x0a, 0x01, code];
    body.extend_from_slice(&der(0x04, matched_dn));
    body.extend_from_slice(&der(0x04, b""));
    if let Some(c) = creds {
        body.extend_from_slice(&der(0x87, c));
    }
    ldap_message(id, &der(0x61, &body))
}

/// An Ethernet frame.
pub fn ethernet(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An IPv4 packet (header checksum computed).
pub fn ipv4_packet(src: IpAddr, dst: IpAddr, proto: u8, payload: &[u8]) -> Vec<u8> {
    let (IpAddr::V4(s), IpAddr::V4(d)) = (src, dst) else {
        return Vec::new();
    };
    let total = u16::try_from(20 + payload.len()).unwrap_or(u16::MAX);
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&[0, 1, 0x40, 0, 64, proto, 0, 0]);
    h.extend_from_slice(&s.octets());
    h.extend_from_slice(&d.octets());
    let mut sum: u32 = h
        .chunks(2)
        .map(|c| {
            u32::from(u16::from_be_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ]))
        })
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let ck = !u16::try_from(sum).unwrap_or(0);
    if let Some(b) = h.get_mut(10..12) {
        b.copy_from_slice(&ck.to_be_bytes());
    }
    h.extend_from_slice(payload);
    h
}

/// An IPv6 packet.
pub fn ipv6_packet(src: IpAddr, dst: IpAddr, next: u8, payload: &[u8]) -> Vec<u8> {
    let (IpAddr::V6(s), IpAddr::V6(d)) = (src, dst) else {
        return Vec::new();
    };
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(
        &u16::try_from(payload.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    h.extend_from_slice(&[next, 64]);
    h.extend_from_slice(&s.octets());
    h.extend_from_slice(&d.octets());
    h.extend_from_slice(payload);
    h
}

/// A TCP segment to build frames from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Source.
    pub src: SocketAddr,
    /// Destination.
    pub dst: SocketAddr,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// TCP flags.
    pub flags: u8,
    /// Payload.
    pub payload: Vec<u8>,
}

impl Frame {
    /// An IPv4 segment.
    pub fn tcp_v4(
        src: [u8; 4],
        sport: u16,
        dst: [u8; 4],
        dport: u16,
        seq: u32,
        flags: u8,
        payload: &[u8],
    ) -> Self {
        Self {
            src: SocketAddr::from((src, sport)),
            dst: SocketAddr::from((dst, dport)),
            seq,
            ack: 0,
            flags,
            payload: payload.to_vec(),
        }
    }

    /// The TCP header and payload (checksum left zero).
    pub fn tcp_bytes(&self) -> Vec<u8> {
        let mut t = Vec::with_capacity(20 + self.payload.len());
        t.extend_from_slice(&self.src.port().to_be_bytes());
        t.extend_from_slice(&self.dst.port().to_be_bytes());
        t.extend_from_slice(&self.seq.to_be_bytes());
        t.extend_from_slice(&self.ack.to_be_bytes());
        t.extend_from_slice(&[0x50, self.flags, 0xff, 0xff, 0, 0, 0, 0]);
        t.extend_from_slice(&self.payload);
        t
    }

    /// The IP packet (v4 or v6 by the addresses).
    pub fn ip(&self) -> Vec<u8> {
        match self.src.ip() {
            IpAddr::V4(_) => ipv4_packet(self.src.ip(), self.dst.ip(), 6, &self.tcp_bytes()),
            IpAddr::V6(_) => ipv6_packet(self.src.ip(), self.dst.ip(), 6, &self.tcp_bytes()),
        }
    }

    /// The IPv4 packet.
    pub fn ipv4(&self) -> Vec<u8> {
        ipv4_packet(self.src.ip(), self.dst.ip(), 6, &self.tcp_bytes())
    }

    /// The Ethernet frame.
    pub fn ethernet(&self) -> Vec<u8> {
        let et = if self.src.is_ipv4() { 0x0800 } else { 0x86dd };
        ethernet(et, &self.ip())
    }
}

/// A TCP conversation recorded as Ethernet frames with increasing times.
#[derive(Debug, Clone)]
pub struct Conversation {
    /// The client.
    pub client: SocketAddr,
    /// The server.
    pub server: SocketAddr,
    /// Client's next sequence number.
    pub client_seq: u32,
    /// Server's next sequence number.
    pub server_seq: u32,
    /// Largest payload per segment.
    pub mss: usize,
    /// The frames so far.
    pub frames: Vec<(Place, Vec<u8>)>,
    /// The next frame's time.
    pub time: Timestamp,
    /// Packet numbers start after this.
    pub packet_base: u64,
}

impl Conversation {
    /// A conversation between two `ip:port` endpoints (panics on bad text:
    /// for tests and generators).
    #[allow(
        clippy::expect_used,
        reason = "test and generator input is written by hand"
    )]
    pub fn new(client: &str, server: &str) -> Self {
        Self::between(
            client.parse().expect("client address"),
            server.parse().expect("server address"),
        )
    }

    /// A conversation between two endpoints.
    pub fn between(client: SocketAddr, server: SocketAddr) -> Self {
        Self {
            client,
            server,
            client_seq: 1000,
            server_seq: 5000,
            mss: 1460,
            frames: Vec::new(),
            time: Timestamp::new(1_700_000_000, 0),
            packet_base: 0,
        }
    }

    fn push(&mut self, from_client: bool, flags: u8, payload: &[u8]) {
        let (src, dst, seq, ack) = if from_client {
            (self.client, self.server, self.client_seq, self.server_seq)
        } else {
            (self.server, self.client, self.server_seq, self.client_seq)
        };
        let f = Frame {
            src,
            dst,
            seq,
            ack,
            flags,
            payload: payload.to_vec(),
        };
        let n = u32::try_from(payload.len()).unwrap_or(0)
            + u32::from(flags & (TcpFlags::SYN | TcpFlags::FIN) != 0);
        if from_client {
            self.client_seq = self.client_seq.wrapping_add(n);
        } else {
            self.server_seq = self.server_seq.wrapping_add(n);
        }
        let packet = self.packet_base + u64::try_from(self.frames.len()).unwrap_or(0) + 1;
        self.frames.push((
            Place {
                file: 0,
                packet,
                time: self.time,
            },
            f.ethernet(),
        ));
        self.time = Timestamp::new(self.time.secs, self.time.nanos + 1_000_000);
    }

    /// SYN, SYN/ACK (no bare ACK: the tracker needs none).
    pub fn handshake(&mut self) {
        self.push(true, TcpFlags::SYN, b"");
        self.push(false, TcpFlags::SYN | TcpFlags::ACK, b"");
    }

    /// Client data, cut at the MSS.
    pub fn client_send(&mut self, data: &[u8]) {
        for c in data.chunks(self.mss.max(1)) {
            self.push(true, TcpFlags::ACK | 0x08, c);
        }
    }

    /// Server data, cut at the MSS.
    pub fn server_send(&mut self, data: &[u8]) {
        for c in data.chunks(self.mss.max(1)) {
            self.push(false, TcpFlags::ACK | 0x08, c);
        }
    }

    /// FIN from both sides.
    pub fn close(&mut self) {
        self.push(true, TcpFlags::FIN | TcpFlags::ACK, b"");
        self.push(false, TcpFlags::FIN | TcpFlags::ACK, b"");
    }

    /// An HTTP NTLM exchange: NEGOTIATE, 401 + CHALLENGE, AUTHENTICATE,
    /// then a response with `status`.
    pub fn http_exchange(&mut self, m: &Messages, status: u16) {
        self.http_negotiate(m);
        self.http_finish(m, status);
    }

    /// The first request of [`Self::http_exchange`]: the NEGOTIATE.
    pub fn http_negotiate(&mut self, m: &Messages) {
        let value = header_value(Scheme::Ntlm, &m.negotiate);
        self.client_send(
            format!("GET / HTTP/1.1\r\nHost: server\r\nAuthorization: {value}\r\n\r\n").as_bytes(),
        );
    }

    /// The rest of [`Self::http_exchange`] after the NEGOTIATE: the 401 with
    /// the CHALLENGE, the AUTHENTICATE, and the final response with `status`.
    pub fn http_finish(&mut self, m: &Messages, status: u16) {
        self.server_send(
            format!(
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: {}\r\nContent-Length: 0\r\n\r\n",
                header_value(Scheme::Ntlm, &m.challenge)
            )
            .as_bytes(),
        );
        self.client_send(
            format!(
                "GET / HTTP/1.1\r\nHost: server\r\nAuthorization: {}\r\n\r\n",
                header_value(Scheme::Ntlm, &m.authenticate)
            )
            .as_bytes(),
        );
        self.server_send(
            format!("HTTP/1.1 {status} Status\r\nContent-Length: 4\r\n\r\nbody").as_bytes(),
        );
    }

    /// An SMB2 SESSION_SETUP exchange with SPNEGO; the final response has `status`.
    pub fn smb2_exchange(&mut self, m: &Messages, status: u32) {
        self.client_send(&smb2_session_setup(false, 0, &wrap_init(&m.negotiate)));
        self.server_send(&smb2_session_setup(
            true,
            0xc000_0016,
            &wrap_resp(&m.challenge),
        ));
        self.client_send(&smb2_session_setup(false, 0, &wrap_resp(&m.authenticate)));
        self.server_send(&smb2_session_setup(true, status, &[]));
    }
}

/// Capture file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Classic pcap.
    Pcap {
        /// Big-endian header and records.
        big_endian: bool,
        /// Nanosecond timestamps (magic a1b23c4d).
        nanos: bool,
    },
    /// pcapng with one section and one interface (microsecond resolution).
    PcapNg {
        /// Big-endian blocks.
        big_endian: bool,
    },
}

/// Writes a capture to any [`Write`].
#[derive(Debug)]
pub struct Writer<W: Write> {
    out: W,
    format: Format,
}

impl<W: Write> Writer<W> {
    /// Writes the file header (and, for pcapng, the section and interface blocks).
    pub fn new(mut out: W, format: Format, linktype: u32) -> io::Result<Self> {
        match format {
            Format::Pcap { big_endian, nanos } => {
                let magic: u32 = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
                let mut h = Vec::new();
                let w32 = |h: &mut Vec<u8>, v: u32| {
                    h.extend_from_slice(&if big_endian {
                        v.to_be_bytes()
                    } else {
                        v.to_le_bytes()
                    });
                };
                let w16 = |h: &mut Vec<u8>, v: u16| {
                    h.extend_from_slice(&if big_endian {
                        v.to_be_bytes()
                    } else {
                        v.to_le_bytes()
                    });
                };
                w32(&mut h, magic);
                w16(&mut h, 2);
                w16(&mut h, 4);
                w32(&mut h, 0);
                w32(&mut h, 0);
                w32(&mut h, 262_144);
                w32(&mut h, linktype);
                out.write_all(&h)?;
            }
            Format::PcapNg { big_endian } => {
                let w = NgWords(big_endian);
                let mut shb = Vec::new();
                w.u32(&mut shb, 0x1a2b_3c4d);
                w.u16(&mut shb, 1);
                w.u16(&mut shb, 0);
                shb.extend_from_slice(&[0xff; 8]);
                out.write_all(&w.block(0x0a0d_0d0a, &shb))?;
                let mut idb = Vec::new();
                w.u16(&mut idb, u16::try_from(linktype).unwrap_or(u16::MAX));
                w.u16(&mut idb, 0);
                w.u32(&mut idb, 262_144);
                out.write_all(&w.block(1, &idb))?;
            }
        }
        Ok(Self { out, format })
    }

    /// Writes one packet.
    pub fn packet(&mut self, time: Timestamp, data: &[u8]) -> io::Result<()> {
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let secs = u32::try_from(time.secs).unwrap_or(0);
        match self.format {
            Format::Pcap { big_endian, nanos } => {
                let frac = if nanos { time.nanos } else { time.nanos / 1000 };
                let mut h = Vec::with_capacity(16);
                for v in [secs, frac, len, len] {
                    h.extend_from_slice(&if big_endian {
                        v.to_be_bytes()
                    } else {
                        v.to_le_bytes()
                    });
                }
                self.out.write_all(&h)?;
                self.out.write_all(data)
            }
            Format::PcapNg { big_endian } => {
                let w = NgWords(big_endian);
                let us = u64::try_from(time.secs).unwrap_or(0) * 1_000_000
                    + u64::from(time.nanos / 1000);
                let mut b = Vec::with_capacity(20 + data.len() + 3);
                w.u32(&mut b, 0);
                w.u32(&mut b, u32::try_from(us >> 32).unwrap_or(0));
                w.u32(&mut b, u32::try_from(us & 0xffff_ffff).unwrap_or(0));
                w.u32(&mut b, len);
                w.u32(&mut b, len);
                b.extend_from_slice(data);
                while b.len() % 4 != 0 {
                    b.push(0);
                }
                self.out.write_all(&w.block(6, &b))
            }
        }
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[derive(Clone, Copy)]
struct NgWords(bool);

impl NgWords {
    fn u32(self, b: &mut Vec<u8>, v: u32) {
        b.extend_from_slice(&if self.0 {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }
    fn u16(self, b: &mut Vec<u8>, v: u16) {
        b.extend_from_slice(&if self.0 {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }
    fn block(self, kind: u32, body: &[u8]) -> Vec<u8> {
        let total = u32::try_from(12 + body.len()).unwrap_or(u32::MAX);
        let mut b = Vec::with_capacity(body.len() + 12);
        self.u32(&mut b, kind);
        self.u32(&mut b, total);
        b.extend_from_slice(body);
        self.u32(&mut b, total);
        b
    }
}

/// A capture of `frames` (Ethernet) in `format`.
pub fn capture(format: Format, frames: &[(Place, Vec<u8>)]) -> Vec<u8> {
    let Ok(mut w) = Writer::new(Vec::new(), format, 1) else {
        return Vec::new();
    };
    for (p, f) in frames {
        if w.packet(p.time, f).is_err() {
            break;
        }
    }
    w.into_inner()
}

/// A little-endian microsecond pcap holding one HTTP NTLM exchange
/// (8 packets: SYN, SYN/ACK, four requests and responses, two FINs).
pub fn http_exchange_pcap(m: &Messages, status: u16) -> Vec<u8> {
    let mut c = Conversation::new("192.0.2.10:49152", "192.0.2.80:80");
    c.handshake();
    c.http_exchange(m, status);
    c.close();
    capture(
        Format::Pcap {
            big_endian: false,
            nanos: false,
        },
        &c.frames,
    )
}

/// The messages of [`Spec::default`].
pub fn sample_messages() -> Messages {
    Messages::sample()
}

/// Writes a capture of `connections` HTTP connections, each carrying one
/// NTLM exchange of `messages` (10 packets per connection), to `out`.
pub fn write_exchanges<W: Write>(
    out: W,
    format: Format,
    messages: &Messages,
    connections: u32,
) -> io::Result<W> {
    let mut w = Writer::new(out, format, 1)?;
    let mut time = Timestamp::new(1_700_000_000, 0);
    for i in 0..connections {
        let client = SocketAddr::from((
            [10, 8, (i >> 8) as u8, i as u8],
            40_000 + (i % 20_000) as u16,
        ));
        let mut c = Conversation::between(client, SocketAddr::from(([10, 9, 0, 1], 80)));
        c.time = time;
        c.handshake();
        c.http_exchange(messages, 200);
        c.close();
        for (p, f) in &c.frames {
            w.packet(p.time, f)?;
        }
        time = c.time;
    }
    Ok(w.into_inner())
}

/// Writes about `total` bytes of TCP traffic without NTLM to `out`:
/// connections each moving 1 MiB from server to client in 1460-byte
/// segments, as HTTP downloads (`http`: bodies skipped by Content-Length)
/// or as an unknown protocol on port 9000 (the signature scan reads every byte).
pub fn write_bulk<W: Write>(out: W, format: Format, total: u64, http: bool) -> io::Result<W> {
    const BODY: usize = 1 << 20;
    let mut w = Writer::new(out, format, 1)?;
    let body = vec![0x5au8; BODY];
    let mut written = 0u64;
    let mut time = Timestamp::new(1_700_000_000, 0);
    let mut i = 0u32;
    while written < total {
        let client = SocketAddr::from((
            [10, 7, (i >> 8) as u8, i as u8],
            30_000 + (i % 30_000) as u16,
        ));
        let port = if http { 80 } else { 9000 };
        let mut c = Conversation::between(client, SocketAddr::from(([10, 6, 0, 1], port)));
        c.time = time;
        c.handshake();
        if http {
            c.client_send(b"GET /file HTTP/1.1\r\nHost: files\r\n\r\n");
            c.server_send(format!("HTTP/1.1 200 OK\r\nContent-Length: {BODY}\r\n\r\n").as_bytes());
        } else {
            c.client_send(b"HELLO 1\r\n");
        }
        c.server_send(&body);
        c.close();
        for (p, f) in &c.frames {
            w.packet(p.time, f)?;
            written += 16 + f.len() as u64;
        }
        time = c.time;
        i = i.wrapping_add(1);
    }
    Ok(w.into_inner())
}
