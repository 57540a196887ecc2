//! Application protocols that carry NTLM, parsed from a reassembled stream.
//!
//! Each parser reads one direction of a connection from a buffer and says
//! how far it got ([`Step`]): bytes consumed, and bytes to skip unseen after
//! them (an HTTP body, an SMB READ), so that bulk data is never buffered. It
//! reports security tokens, carrier results and problems as [`Found`]
//! items. A parser that meets bytes its protocol cannot explain hands the
//! direction over to the [`scan`] fallback.

use crate::{Carrier, CarrierResult};

pub mod dcerpc;
pub mod http;
pub mod ldap;
pub mod scan;
pub mod smb;

/// Something a carrier parser found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A security token (raw NTLMSSP or GSS-API/SPNEGO).
    Token {
        /// The token bytes.
        bytes: Vec<u8>,
        /// The carrier.
        carrier: Carrier,
    },
    /// What the carrier says about an authentication.
    Result(CarrierResult),
    /// A malformed carrier structure.
    Problem {
        /// `http`, `smb`, `dcerpc`, `ldap` or `ntlmssp`.
        layer: &'static str,
        /// What was wrong, with the offset in the carrier message.
        message: String,
    },
}

/// How far a parser got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Step {
    /// Bytes of the buffer consumed.
    pub consumed: usize,
    /// Bytes after those to skip as they arrive.
    pub skip: u64,
}

impl Step {
    /// Consumes `n` bytes.
    pub const fn consume(n: usize) -> Self {
        Self {
            consumed: n,
            skip: 0,
        }
    }

    /// A protocol data unit of `total` bytes starting at the buffer's
    /// start, of which `have` are buffered: consume what is there, skip the rest.
    pub fn unit(total: u64, have: usize) -> Self {
        let have64 = u64::try_from(have).unwrap_or(u64::MAX);
        if total <= have64 {
            Self::consume(usize::try_from(total).unwrap_or(have))
        } else {
            Self {
                consumed: have,
                skip: total - have64,
            }
        }
    }
}

/// The result of one parse call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parse {
    /// More bytes are needed.
    Need,
    /// Progress.
    Step(Step),
    /// This is not (or no longer) the parser's protocol: hand over to the scan.
    Fallback,
}

/// Which parser a connection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// HTTP/1.x.
    Http,
    /// SMB over NetBIOS session service / direct TCP.
    Smb,
    /// DCE/RPC connection-oriented.
    DceRpc,
    /// LDAP.
    Ldap,
    /// The `NTLMSSP\0` signature scan.
    Scan,
}

impl Kind {
    /// Guesses the carrier from the first payload of a connection, then
    /// from the server port.
    pub fn sniff(payload: &[u8], ports: [u16; 2]) -> Self {
        if http::looks_like(payload) {
            return Self::Http;
        }
        if smb::looks_like(payload) {
            return Self::Smb;
        }
        if dcerpc::looks_like(payload) {
            return Self::DceRpc;
        }
        if ldap::looks_like(payload) {
            return Self::Ldap;
        }
        if payload.len() >= 8 {
            // Enough bytes to have recognised any of the above.
            return Self::Scan;
        }
        for p in ports {
            match p {
                80 | 8080 | 8000 | 3128 | 5985 | 5357 => return Self::Http,
                139 | 445 => return Self::Smb,
                135 => return Self::DceRpc,
                389 | 3268 => return Self::Ldap,
                _ => {}
            }
        }
        Self::Scan
    }

    /// The well-known server ports of this carrier (to tell the roles apart).
    pub const fn is_server_port(self, port: u16) -> bool {
        match self {
            Self::Http => matches!(port, 80 | 8080 | 8000 | 3128 | 5985 | 5357),
            Self::Smb => matches!(port, 139 | 445),
            Self::DceRpc => port == 135,
            Self::Ldap => matches!(port, 389 | 3268),
            Self::Scan => false,
        }
    }
}

/// State shared by the two directions of a connection.
#[derive(Debug, Clone, Default)]
pub struct Shared {
    /// HTTP request methods awaiting their response.
    pub http_requests: std::collections::VecDeque<http::Method>,
}

/// One direction's parser.
#[derive(Debug, Clone)]
pub enum Parser {
    /// HTTP.
    Http(http::Http),
    /// SMB.
    Smb(smb::Smb),
    /// DCE/RPC.
    DceRpc(dcerpc::DceRpc),
    /// LDAP.
    Ldap(ldap::Ldap),
    /// Signature scan.
    Scan(scan::Scan),
}

impl Parser {
    /// A fresh parser of this kind.
    pub fn new(kind: Kind) -> Self {
        match kind {
            Kind::Http => Self::Http(http::Http::default()),
            Kind::Smb => Self::Smb(smb::Smb),
            Kind::DceRpc => Self::DceRpc(dcerpc::DceRpc),
            Kind::Ldap => Self::Ldap(ldap::Ldap),
            Kind::Scan => Self::Scan(scan::Scan),
        }
    }

    /// Parses from the start of `buf`.
    pub fn parse(&mut self, buf: &[u8], shared: &mut Shared, out: &mut Vec<Found>) -> Parse {
        match self {
            Self::Http(p) => p.parse(buf, shared, out),
            Self::Smb(p) => p.parse(buf, out),
            Self::DceRpc(p) => p.parse(buf, out),
            Self::Ldap(p) => p.parse(buf, out),
            Self::Scan(p) => p.parse(buf, out),
        }
    }

    /// Whether this is the signature scan.
    pub const fn is_scan(&self) -> bool {
        matches!(self, Self::Scan(_))
    }
}

/// Drives a [`Parser`] over one direction's in-order bytes, with bounded
/// buffering and skipping.
#[derive(Debug, Clone)]
pub struct Direction {
    /// The parser.
    pub parser: Parser,
    buf: Vec<u8>,
    skip: u64,
    max_buffer: usize,
}

impl Direction {
    /// A direction parsed by `kind`, buffering at most `max_buffer` bytes.
    pub fn new(kind: Kind, max_buffer: usize) -> Self {
        Self {
            parser: Parser::new(kind),
            buf: Vec::new(),
            skip: 0,
            max_buffer,
        }
    }

    /// Bytes buffered.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Bytes lost: the parser cannot resynchronise on a framed protocol, so
    /// the direction goes on with the signature scan.
    pub fn gap(&mut self) {
        self.buf.clear();
        self.skip = 0;
        if !self.parser.is_scan() {
            self.parser = Parser::new(Kind::Scan);
        }
    }

    /// Feeds in-order bytes.
    pub fn feed(&mut self, mut data: &[u8], shared: &mut Shared, out: &mut Vec<Found>) {
        if self.skip > 0 {
            let n = usize::try_from(self.skip)
                .unwrap_or(usize::MAX)
                .min(data.len());
            self.skip -= u64::try_from(n).unwrap_or(0);
            data = data.get(n..).unwrap_or_default();
        }
        if data.is_empty() {
            return;
        }
        if self.buf.is_empty() {
            // Parse straight from the segment; buffer only the remainder.
            let used = self.run(data, shared, out);
            if let Some(rest) = data.get(used..) {
                self.take_remainder(rest);
            }
        } else {
            self.buf.extend_from_slice(data);
            let buf = std::mem::take(&mut self.buf);
            let used = self.run(&buf, shared, out);
            if let Some(rest) = buf.get(used..) {
                self.take_remainder(rest);
            }
        }
    }

    fn take_remainder(&mut self, rest: &[u8]) {
        // `run` stops early only when the parser needs more bytes, so there
        // is nothing left to skip here.
        self.buf.extend_from_slice(rest);
    }

    /// Runs the parser over `data`; returns the bytes consumed.
    fn run(&mut self, data: &[u8], shared: &mut Shared, out: &mut Vec<Found>) -> usize {
        let mut at = 0usize;
        loop {
            if self.skip > 0 {
                let avail = data.len().saturating_sub(at);
                let n = usize::try_from(self.skip).unwrap_or(usize::MAX).min(avail);
                at += n;
                self.skip -= u64::try_from(n).unwrap_or(0);
            }
            let rest = data.get(at..).unwrap_or_default();
            if rest.is_empty() {
                return at;
            }
            match self.parser.parse(rest, shared, out) {
                Parse::Need => {
                    if rest.len() > self.max_buffer && self.parser.is_scan() {
                        // The scan keeps at most one message: drop the rest.
                        return data.len();
                    }
                    if rest.len() > self.max_buffer {
                        out.push(Found::Problem {
                            layer: "tcp",
                            message: format!(
                                "a carrier message needs more than {} bytes of buffer; \
                                 going on with the signature scan",
                                self.max_buffer
                            ),
                        });
                        self.parser = Parser::new(Kind::Scan);
                        continue;
                    }
                    return at;
                }
                Parse::Step(s) => {
                    if s.consumed == 0 && s.skip == 0 {
                        return at;
                    }
                    at = at.saturating_add(s.consumed).min(data.len());
                    self.skip = s.skip;
                }
                Parse::Fallback => {
                    if self.parser.is_scan() {
                        return at;
                    }
                    self.parser = Parser::new(Kind::Scan);
                }
            }
        }
    }
}
