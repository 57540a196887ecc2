//! What the acceptor answers ([`Reply`]) and what it records of each
//! finished handshake ([`Record`], [`LogEntry`]).

use std::net::IpAddr;

use ntlm_gss::http;
use serde::Serialize;

use super::Scheme;
#[cfg(doc)]
use super::{Acceptor, FailureLimiter, Limits, client_key};
use crate::outcome::{CertaintyJson, OutcomeJson};
use crate::profiles::AssumedFacts;
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
pub(super) fn bounded(
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
