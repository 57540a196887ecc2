//! Find NTLM exchanges in packet captures.
//!
//! This crate reads pcap and pcapng captures from any [`std::io::Read`]
//! (streaming: memory stays bounded whatever the file size), decodes the
//! link, IP and TCP layers ([`decode`]), reassembles each TCP connection
//! ([`reassembly`]), extracts NTLMSSP messages from the application protocols
//! that carry them ([`carrier`]: HTTP, SMB1, SMB2/3, DCE/RPC, LDAP, and a
//! `NTLMSSP\0` signature scan for anything else) and pairs NEGOTIATE,
//! CHALLENGE and AUTHENTICATE per connection into [`Exchange`]s
//! ([`track`]), with the result the carrier shows (HTTP status, SMB NT
//! status, LDAP resultCode, DCE/RPC fault).
//!
//! It does not judge the messages: an exchange holds the exact message
//! bytes, and the caller decodes them with `ntlm-wire` and applies its policy.
//! It opens no file and reads no clock.
//!
//! Everything that goes wrong in a capture after its header (a truncated
//! record, a malformed frame, an undecodable token) is reported as a
//! [`Problem`] event and the extraction continues; only a stream that is not
//! a capture at all, or an I/O error, ends it with a [`CaptureError`].
//!
//! ```
//! use ntlm_capture::{Event, Extractor, synth};
//!
//! // A capture with one HTTP NTLM exchange, built in memory.
//! let capture = synth::http_exchange_pcap(&synth::sample_messages(), 200);
//! let mut exchanges = Vec::new();
//! let summary = Extractor::default()
//!     .run(0, capture.as_slice(), &mut |e| {
//!         if let Event::Exchange(x) = e {
//!             exchanges.push(x);
//!         }
//!     })?;
//! assert_eq!(summary.packets, 8);
//! assert_eq!(exchanges.len(), 1);
//! assert!(exchanges[0].authenticate.is_some());
//! # Ok::<(), ntlm_capture::CaptureError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use core::fmt;
use std::net::SocketAddr;

pub use ntlm_wire::MessageType;

pub mod bytes;
pub mod carrier;
pub mod decode;
mod read;
pub mod reassembly;
pub mod synth;
pub mod track;

pub use read::{CaptureError, Extractor, FileSummary};
pub use track::{Config, Tracker};

/// A capture timestamp: seconds and nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    pub secs: i64,
    /// Nanoseconds, `0..1_000_000_000`.
    pub nanos: u32,
}

impl Timestamp {
    /// From seconds and nanoseconds (nanoseconds above a second are carried).
    pub const fn new(secs: i64, nanos: u32) -> Self {
        let carry = (nanos / 1_000_000_000) as i64;
        Self {
            secs: secs.saturating_add(carry),
            nanos: nanos % 1_000_000_000,
        }
    }

    /// Seconds as a float, for durations and ordering in reports.
    #[allow(
        clippy::cast_precision_loss,
        reason = "a report needs microsecond precision at most"
    )]
    pub fn as_f64(self) -> f64 {
        self.secs as f64 + f64::from(self.nanos) / 1e9
    }

    /// RFC 3339 in UTC with microseconds, e.g. `2024-05-01T12:00:00.000001Z`
    /// (calendar from [`ntlm_wire::DateTime`]).
    pub fn rfc3339(self) -> String {
        match ntlm_wire::DateTime::from_unix(self.secs, self.nanos) {
            Some(d) => format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
                d.year,
                d.month,
                d.day,
                d.hour,
                d.minute,
                d.second,
                d.micros()
            ),
            // Only near i64::MAX seconds, which no capture holds.
            None => format!(
                "{}.{:09} s after 1970-01-01T00:00:00Z",
                self.secs, self.nanos
            ),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

/// The application protocol that carried an NTLM message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Carrier {
    /// HTTP `Authorization`/`WWW-Authenticate`/`Proxy-*` headers (RFC 4559, MS-NTHT).
    Http,
    /// SMB1 `SESSION_SETUP_ANDX` with extended security (MS-SMB 2.2.4.6).
    Smb1,
    /// SMB2/3 `SESSION_SETUP` (MS-SMB2 2.2.5, 2.2.6).
    Smb2,
    /// A DCE/RPC connection-oriented auth verifier (C706 13.2.6, MS-RPCE 2.2.2.11).
    DceRpc,
    /// An LDAP SASL bind (`GSS-SPNEGO`, `NTLM`, ...; RFC 4511 4.2).
    LdapSasl,
    /// An LDAP "sicily" NTLM bind (MS-ADTS 5.1.1.1.3).
    LdapSicily,
    /// Found by the `NTLMSSP\0` signature in a TCP stream of another protocol.
    Scan,
}

impl Carrier {
    /// Short name: `HTTP`, `SMB1`, `SMB2`, `DCE/RPC`, `LDAP-SASL`, `LDAP-sicily`, `scan`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Http => "HTTP",
            Self::Smb1 => "SMB1",
            Self::Smb2 => "SMB2",
            Self::DceRpc => "DCE/RPC",
            Self::LdapSasl => "LDAP-SASL",
            Self::LdapSicily => "LDAP-sicily",
            Self::Scan => "scan",
        }
    }
}

impl fmt::Display for Carrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How the NTLM message sat in its carrier's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Wrapping {
    /// The token is the NTLMSSP message itself.
    Raw,
    /// The message sat inside a GSS-API/SPNEGO token (RFC 4178).
    Spnego,
}

impl From<ntlm_gss::spnego::Wrapping> for Wrapping {
    fn from(w: ntlm_gss::spnego::Wrapping) -> Self {
        match w {
            ntlm_gss::spnego::Wrapping::Raw => Self::Raw,
            ntlm_gss::spnego::Wrapping::Spnego { .. } => Self::Spnego,
        }
    }
}

impl Wrapping {
    /// `raw` or `spnego`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Raw => "raw",
            Self::Spnego => "spnego",
        }
    }
}

/// Where a record was seen: the capture file (by the caller's index) and
/// the 1-based packet number, as Wireshark numbers frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Place {
    /// The file index passed to [`Extractor::run`].
    pub file: usize,
    /// 1-based packet number in that file.
    pub packet: u64,
    /// The packet's capture time.
    pub time: Timestamp,
}

/// An NTLMSSP message as found on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NtlmMessage {
    /// NEGOTIATE, CHALLENGE or AUTHENTICATE (from the message header).
    pub kind: MessageType,
    /// The exact message bytes (from the `NTLMSSP\0` signature on).
    pub bytes: Vec<u8>,
    /// The packet that completed it.
    pub place: Place,
    /// The carrier.
    pub carrier: Carrier,
    /// Raw or inside SPNEGO.
    pub wrapping: Wrapping,
    /// Whether it flowed from the client to the server.
    pub from_client: bool,
}

/// The outcome a carrier shows after an AUTHENTICATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CarrierResult {
    /// The HTTP status code of the response to the request carrying AUTHENTICATE.
    Http {
        /// e.g. 200 or 401.
        status: u16,
    },
    /// The NT status of the SMB SESSION_SETUP response (MS-ERREF 2.3).
    Smb {
        /// e.g. 0 (`STATUS_SUCCESS`) or `0xc000006d` (`STATUS_LOGON_FAILURE`).
        status: u32,
    },
    /// The LDAP bindResponse resultCode (RFC 4511 4.1.9).
    Ldap {
        /// e.g. 0 (`success`) or 49 (`invalidCredentials`).
        result_code: u32,
    },
    /// The server answered the first DCE/RPC request after the AUTHENTICATE.
    RpcResponse,
    /// A DCE/RPC fault PDU (C706 12.6.4.7).
    RpcFault {
        /// The fault status, e.g. 5 (`nca_s_fault_access_denied`).
        status: u32,
    },
    /// A DCE/RPC bind_nak (C706 12.6.4.4).
    RpcBindNak {
        /// The reject reason.
        reason: u16,
    },
}

impl CarrierResult {
    /// Whether the carrier says the authentication succeeded.
    pub const fn success(self) -> bool {
        match self {
            Self::Http { status } => status >= 200 && status < 400,
            Self::Smb { status } => status == 0,
            Self::Ldap { result_code } => result_code == 0,
            Self::RpcResponse => true,
            Self::RpcFault { .. } | Self::RpcBindNak { .. } => false,
        }
    }
}

impl fmt::Display for CarrierResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Http { status } => write!(f, "HTTP {status}"),
            Self::Smb { status } => write!(f, "{} ({status:#010x})", nt_status_name(status)),
            Self::Ldap { result_code } => {
                write!(f, "LDAP {} ({result_code})", ldap_result_name(result_code))
            }
            Self::RpcResponse => f.write_str("RPC response"),
            Self::RpcFault { status } => write!(f, "RPC fault {status:#010x}"),
            Self::RpcBindNak { reason } => write!(f, "RPC bind_nak reason {reason}"),
        }
    }
}

/// The name of an NT status an SMB SESSION_SETUP commonly ends with (MS-ERREF 2.3.1).
pub const fn nt_status_name(status: u32) -> &'static str {
    match status {
        0 => "STATUS_SUCCESS",
        0xc000_0016 => "STATUS_MORE_PROCESSING_REQUIRED",
        0xc000_006d => "STATUS_LOGON_FAILURE",
        0xc000_006e => "STATUS_ACCOUNT_RESTRICTION",
        0xc000_0022 => "STATUS_ACCESS_DENIED",
        0xc000_0064 => "STATUS_NO_SUCH_USER",
        0xc000_006a => "STATUS_WRONG_PASSWORD",
        0xc000_0071 => "STATUS_PASSWORD_EXPIRED",
        0xc000_0072 => "STATUS_ACCOUNT_DISABLED",
        0xc000_00bb => "STATUS_NOT_SUPPORTED",
        0xc000_0234 => "STATUS_ACCOUNT_LOCKED_OUT",
        0xc000_015b => "STATUS_LOGON_TYPE_NOT_GRANTED",
        0xc000_0199 => "STATUS_NOLOGON_WORKSTATION_TRUST_ACCOUNT",
        0xc000_0413 => "STATUS_AUTHENTICATION_FIREWALL_FAILED",
        0xc000_0418 => "STATUS_NTLM_BLOCKED",
        _ => "NT status",
    }
}

/// The name of an LDAP resultCode (RFC 4511 4.1.9).
pub const fn ldap_result_name(code: u32) -> &'static str {
    match code {
        0 => "success",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        14 => "saslBindInProgress",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        53 => "unwillingToPerform",
        _ => "resultCode",
    }
}

/// The observed result and where it was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObservedResult {
    /// What the carrier said.
    pub result: CarrierResult,
    /// The packet that said it.
    pub place: Place,
}

/// One NTLM exchange on one connection: up to three messages, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The client endpoint.
    pub client: SocketAddr,
    /// The server endpoint.
    pub server: SocketAddr,
    /// How the roles were told apart.
    pub roles_by: RolesBy,
    /// The connection's first packet seen.
    pub connection_first: Place,
    /// The connection's last packet seen.
    pub connection_last: Place,
    /// 1-based position of this exchange on its connection.
    pub index_on_connection: u32,
    /// The NEGOTIATE_MESSAGE, when seen.
    pub negotiate: Option<NtlmMessage>,
    /// The CHALLENGE_MESSAGE, when seen.
    pub challenge: Option<NtlmMessage>,
    /// The AUTHENTICATE_MESSAGE, when seen.
    pub authenticate: Option<NtlmMessage>,
    /// The carrier's verdict after the AUTHENTICATE, when shown.
    pub result: Option<ObservedResult>,
}

impl Exchange {
    /// The messages present, in exchange order.
    pub fn messages(&self) -> impl Iterator<Item = &NtlmMessage> {
        [&self.negotiate, &self.challenge, &self.authenticate]
            .into_iter()
            .flatten()
    }

    /// The carrier of the first message.
    pub fn carrier(&self) -> Carrier {
        self.messages().next().map_or(Carrier::Scan, |m| m.carrier)
    }

    /// Where the first message was seen.
    pub fn first(&self) -> Place {
        self.messages()
            .next()
            .map_or(self.connection_first, |m| m.place)
    }

    /// Where the last message (or the result) was seen.
    pub fn last(&self) -> Place {
        let m = self
            .messages()
            .last()
            .map_or(self.connection_last, |m| m.place);
        self.result.map_or(m, |r| r.place.max(m))
    }
}

/// How the client and server of a connection were told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RolesBy {
    /// The side that sent the TCP SYN is the client.
    Syn,
    /// The side that sent the CHALLENGE is the server (MS-NLMP 1.3.1.1).
    Challenge,
    /// The side that sent NEGOTIATE or AUTHENTICATE is the client.
    ClientMessage,
    /// The well-known port of the carrier (or the lower port) is the server's.
    Port,
}

impl RolesBy {
    /// `syn`, `challenge`, `client-message` or `port`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Syn => "syn",
            Self::Challenge => "challenge",
            Self::ClientMessage => "client-message",
            Self::Port => "port",
        }
    }
}

/// Something wrong in a capture that did not stop the extraction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: the file, and the packet when the problem belongs to one
    /// (packet 0 for the file as a whole).
    pub place: Place,
    /// The layer that found it: `capture`, `link`, `ip`, `tcp`, `http`,
    /// `smb`, `dcerpc`, `ldap`, `spnego`, `ntlmssp`.
    pub layer: &'static str,
    /// What was wrong, naming the field and offset where there is one.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.place.packet == 0 {
            write!(f, "{}: {}", self.layer, self.message)
        } else {
            write!(
                f,
                "packet {}: {}: {}",
                self.place.packet, self.layer, self.message
            )
        }
    }
}

/// What the extraction reports, in capture order (an exchange is reported
/// when its connection ends, goes idle, or the file ends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An exchange, complete or partial.
    Exchange(Box<Exchange>),
    /// A problem that did not stop the extraction.
    Problem(Problem),
    /// Bytes of the file consumed so far (about every 16 MiB).
    Progress {
        /// Bytes consumed.
        bytes: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_render_with_microseconds() {
        let t = Timestamp::new(1_714_564_800, 1_999);
        assert_eq!(t.rfc3339(), "2024-05-01T12:00:00.000001Z");
        assert_eq!(
            Timestamp::new(0, 0).to_string(),
            "1970-01-01T00:00:00.000000Z"
        );
        assert_eq!(
            Timestamp::new(-1, 500_000_000).rfc3339(),
            "1969-12-31T23:59:59.500000Z"
        );
        assert_eq!(
            Timestamp::new(i64::MAX, 0).rfc3339(),
            "292277026596-12-04T15:30:07.000000Z"
        );
    }
}
