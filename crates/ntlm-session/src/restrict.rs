//! An exchange under the Restrict NTLM policies of its three hosts: the
//! client, the server and the server's DC ([`ntlm_policy::restrict`]).
//!
//! The checks run where Windows applies them, around the exchange
//! [`Pair::run`] performs:
//!
//! 1. the client, before it sends the NEGOTIATE: `RestrictSendingNTLMTraffic`
//!    with `ClientAllowedNTLMServers`, then the SMB client's `BlockNTLM` (a
//!    block sends nothing: side client, stage negotiate, STATUS_NTLM_BLOCKED);
//! 2. the server, on the AUTHENTICATE (where the account is first named):
//!    `RestrictReceivingNTLMTraffic` / `AuditReceivingNTLMTraffic`. A block
//!    takes precedence over any verdict the server would reach on that
//!    AUTHENTICATE, as ServerBlock does in MS-NLMP 3.2.5.1.2;
//! 3. the DC, on the pass-through logon of a domain account:
//!    `RestrictNTLMInDomain` / `AuditNTLMInDomain` with `DCAllowedNTLMServers`.
//!    A block takes precedence over the server's verdict on the AUTHENTICATE
//!    (inferred: the DC refuses before it verifies the response).
//!
//! The account is local when the AUTHENTICATE's domain is the server's
//! NetBIOS computer name or the server is not domain-joined (inference from
//! how Windows resolves the domain of a logon); otherwise it is a domain
//! account. Audit settings never change the outcome: their events are
//! listed ("would be logged").

use ntlm_policy::restrict::{Account, Event, Restrictions, Transport, Verdict};
use ntlm_policy::{Failure, Rule, Side, Stage};
use ntlm_wire::{AuthenticateMessage, FileTime, NegotiateFlags};
use rand_core::{CryptoRng, RngCore};

use crate::pair::{Exchange, Fixed, Pair};

/// The restriction settings on the path of one exchange.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestrictPath {
    /// The client's settings (outgoing, SMB client).
    pub client: Restrictions,
    /// The server's settings (incoming).
    pub server: Restrictions,
    /// The settings of the server's DC (NTLM in this domain).
    pub dc: Restrictions,
    /// The server's name as the client names it (matched against the
    /// client's exception lists); `None`: the server's NetBIOS computer name.
    pub target: Option<String>,
    /// The transport (the SMB client's `BlockNTLM` applies to SMB only).
    pub transport: Transport,
}

impl RestrictPath {
    /// True when no host restricts or audits anything.
    pub fn is_default(&self) -> bool {
        self.client.is_default() && self.server.is_default() && self.dc.is_default()
    }
}

/// An event a host wrote during the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Logged {
    /// The event.
    pub event: Event,
    /// The rule that wrote it.
    pub rule: &'static Rule,
    /// True for a block, false for an audit ("would be logged").
    pub blocked: bool,
}

/// An exchange with the restriction events of its hosts.
#[derive(Debug)]
pub struct Restricted {
    /// The exchange (its outcome includes any block).
    pub exchange: Exchange,
    /// The account kind the server and DC judged (`None`: no AUTHENTICATE reached the server).
    pub account: Option<Account>,
    /// The events written, in exchange order.
    pub events: Vec<Logged>,
}

fn push(events: &mut Vec<Logged>, v: &Verdict) {
    match v {
        Verdict::Allowed => {}
        Verdict::Logged(event, rule) => events.push(Logged {
            event: *event,
            rule,
            blocked: false,
        }),
        Verdict::Blocked(f, Some(event)) => events.push(Logged {
            event: *event,
            rule: f.rule,
            blocked: true,
        }),
        Verdict::Blocked(_, None) => {}
    }
}

/// Whether a block on the AUTHENTICATE replaces this outcome: a success, or
/// the server's own verdict on the same AUTHENTICATE.
fn overridable(outcome: &Result<(crate::Established, crate::Established), Failure>) -> bool {
    match outcome {
        Ok(_) => true,
        Err(f) => f.side == Side::Server && f.stage == Stage::Authenticate,
    }
}

/// The account kind of an AUTHENTICATE as the server sees it.
pub fn account_of(authenticate: &[u8], server_computer: &str, domain_joined: bool) -> Account {
    if !domain_joined {
        return Account::Local;
    }
    let Ok(a) = AuthenticateMessage::parse(authenticate) else {
        return Account::Domain;
    };
    let Some(raw) = a.domain.as_deref() else {
        return Account::Domain;
    };
    let domain = if a.flags.contains(NegotiateFlags::NEGOTIATE_UNICODE) {
        ntlm_wire::text::decode_utf16le(raw).unwrap_or_default()
    } else {
        raw.iter().map(|&b| char::from(b)).collect()
    };
    if !domain.is_empty() && domain.eq_ignore_ascii_case(server_computer) {
        Account::Local
    } else {
        Account::Domain
    }
}

impl Pair {
    /// Runs the exchange under the restrictions of `path` (module documentation).
    pub fn run_restricted<R: RngCore + CryptoRng>(
        self,
        path: &RestrictPath,
        rng: &mut R,
        now: FileTime,
        fixed: Fixed,
    ) -> Restricted {
        let mut events = Vec::new();
        let server_name = self.server.names.nb_computer.clone();
        let domain_joined = self.server.config.domain_joined;
        let target = path.target.as_deref().unwrap_or(&server_name);
        let out = path.client.client_outgoing(target, path.transport);
        push(&mut events, &out);
        if let Verdict::Blocked(f, _) = out {
            return Restricted {
                exchange: Exchange {
                    negotiate: None,
                    challenge: None,
                    authenticate: None,
                    outcome: Err(f),
                },
                account: None,
                events,
            };
        }
        let mut exchange = self.run(rng, now, fixed);
        let Some((_, received)) = exchange.authenticate.as_ref() else {
            return Restricted {
                exchange,
                account: None,
                events,
            };
        };
        let account = account_of(received, &server_name, domain_joined);
        let incoming = path.server.server_incoming(account);
        push(&mut events, &incoming);
        if let Verdict::Blocked(f, _) = incoming {
            if overridable(&exchange.outcome) {
                exchange.outcome = Err(f);
            }
        } else if matches!(account, Account::Domain) {
            let dc = path.dc.dc_in_domain(account, &server_name, domain_joined);
            push(&mut events, &dc);
            if let Verdict::Blocked(f, _) = dc {
                if overridable(&exchange.outcome) {
                    exchange.outcome = Err(f);
                }
            }
        }
        Restricted {
            exchange,
            account: Some(account),
            events,
        }
    }
}
