//! The "Network security: Restrict NTLM: ..." policies, the SMB client's NTLM
//! blocking and the NTLMv1 single-sign-on block, as settings and decisions.
//!
//! MS-NLMP models these as abstract variables (ClientBlocked and
//! ClientBlockExceptions, 3.1.1.1; ServerBlock, 3.2.1.1); Windows sets them
//! from registry values:
//!
//! | Value | Key | Values | Policy |
//! |---|---|---|---|
//! | `RestrictSendingNTLMTraffic` | `...\Lsa\MSV1_0` | 0 allow all, 1 audit all, 2 deny all | Outgoing NTLM traffic to remote servers |
//! | `ClientAllowedNTLMServers` | `...\Lsa\MSV1_0` | REG_MULTI_SZ | Add remote server exceptions for NTLM authentication |
//! | `RestrictReceivingNTLMTraffic` | `...\Lsa\MSV1_0` | 0 allow all, 1 deny all domain accounts, 2 deny all accounts | Incoming NTLM traffic |
//! | `AuditReceivingNTLMTraffic` | `...\Lsa\MSV1_0` | 0 disable, 1 domain accounts, 2 all accounts | Audit Incoming NTLM Traffic |
//! | `RestrictNTLMInDomain` | `...\Services\Netlogon\Parameters` | 0, 1, 3, 5, 7 ([`DomainScope`]) | NTLM authentication in this domain (DC) |
//! | `AuditNTLMInDomain` | `...\Services\Netlogon\Parameters` | 0, 1, 3, 5, 7 ([`DomainScope`]) | Audit NTLM authentication in this domain (DC) |
//! | `DCAllowedNTLMServers` | `...\Services\Netlogon\Parameters` | REG_MULTI_SZ | Add server exceptions in this domain (DC) |
//! | `BlockNtlmv1SSO` | `...\Lsa\MSV1_0` | 0 audit (default), 1 enforce | KB5066470 |
//! | `BlockNTLM` | `...\Services\LanmanWorkstation\Parameters` or `SOFTWARE\Policies\Microsoft\Windows\LanmanWorkstation` | 0, 1 | Lanman Workstation: Block NTLM (LM, NTLM, NTLMv2) |
//! | `BlockNTLMServerExceptionList` | `SOFTWARE\Policies\Microsoft\Windows\LanmanWorkstation` | REG_MULTI_SZ | Lanman Workstation: Block NTLM Server Exception List |
//!
//! Each check returns a [`Verdict`]: allowed, allowed and logged (an audit
//! setting: "would be logged", never "breaks"), or blocked with a [`Failure`]
//! and the event Windows writes. The exception lists match names ignoring
//! ASCII case, with `*` matching any run of characters anywhere in the entry
//! (policy page: "A single asterisk (*) can be used anywhere in the string as
//! a wildcard character"; the case rule is inferred from NetBIOS and DNS names
//! being case-insensitive).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::failure::{Detail, Failure, Side, Stage};
use crate::rules::{self, Rule};
use crate::status::Status;

/// The event log the Restrict NTLM and NTLMv1 events are written to.
pub const NTLM_OPERATIONAL: &str = "Microsoft-Windows-NTLM/Operational";

/// An event Windows writes for an NTLM restriction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Event {
    /// Event ID.
    pub id: u16,
    /// The log (channel) it is written to.
    pub log: &'static str,
    /// Its title as Windows shows it.
    pub title: &'static str,
    /// The host that logs it: `client`, `server` or `dc`.
    pub host: &'static str,
}

impl fmt::Display for Event {
    /// `event 4001 (Microsoft-Windows-NTLM/Operational, on the client): TITLE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "event {} ({}, on the {}): {}",
            self.id, self.log, self.host, self.title
        )
    }
}

const fn ev(id: u16, host: &'static str, title: &'static str) -> Event {
    Event {
        id,
        log: NTLM_OPERATIONAL,
        title,
        host,
    }
}

/// 4001: outgoing NTLM blocked.
pub const EVENT_4001: Event = ev(
    4001,
    "client",
    "NTLM client blocked: Outgoing NTLM authentication traffic to remote servers that is blocked.",
);
/// 8001: outgoing NTLM that would be blocked (audit).
pub const EVENT_8001: Event = ev(
    8001,
    "client",
    "NTLM client blocked audit: Audit outgoing NTLM authentication traffic that would be blocked.",
);
/// 4002: incoming NTLM blocked.
pub const EVENT_4002: Event = ev(
    4002,
    "server",
    "NTLM server blocked: Incoming NTLM traffic to servers that is blocked.",
);
/// 8002: incoming NTLM that would be blocked (audit).
pub const EVENT_8002: Event = ev(
    8002,
    "server",
    "NTLM server blocked audit: Audit Incoming NTLM Traffic that would be blocked.",
);
/// 8004: NTLM to this DC that would be blocked (audit).
pub const EVENT_8004: Event = ev(
    8004,
    "dc",
    "Domain Controller Blocked Audit: Audit NTLM authentication to this domain controller.",
);
/// 4004: NTLM blocked by the DC (the block counterpart of 8004; number inferred
/// from the 4001/8001, 4002/8002, 4003/8003 pairs).
pub const EVENT_4004: Event = ev(
    4004,
    "dc",
    "Domain Controller Blocked: NTLM authentication to this domain controller that is blocked.",
);
/// 4024: NTLMv1-derived credentials for single sign-on (audit, KB5066470).
pub const EVENT_4024: Event = ev(
    4024,
    "client",
    "Auditing an attempt to use NTLMv1-derived credentials for Single Sign-On.",
);
/// 4025: NTLMv1-derived credentials for single sign-on blocked (KB5066470).
pub const EVENT_4025: Event = ev(
    4025,
    "client",
    "An attempt to use NTLMv1-derived credentials for Single Sign-On was blocked.",
);

/// Every event this module can report, by ID.
pub const EVENTS: [Event; 8] = [
    EVENT_4001, EVENT_8001, EVENT_4002, EVENT_8002, EVENT_4004, EVENT_8004, EVENT_4024, EVENT_4025,
];

/// Why a value could not be read as a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadValue {
    /// The registry value name.
    pub name: &'static str,
    /// The value read.
    pub value: u32,
    /// The values accepted, as text.
    pub accepted: &'static str,
}

impl fmt::Display for BadValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} = {} is not a defined value (accepted: {})",
            self.name, self.value, self.accepted
        )
    }
}

/// `RestrictSendingNTLMTraffic`: Network security: Restrict NTLM: Outgoing NTLM traffic to remote servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Outgoing {
    /// 0, "Allow all" (also Not defined).
    #[default]
    AllowAll,
    /// 1, "Audit all": event 8001 for each NTLM request to a remote server.
    AuditAll,
    /// 2, "Deny all": NTLM to remote servers fails unless the server is an exception.
    DenyAll,
}

/// `RestrictReceivingNTLMTraffic`: Network security: Restrict NTLM: Incoming NTLM traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Incoming {
    /// 0, "Allow all".
    #[default]
    AllowAll,
    /// 1, "Deny all domain accounts": local accounts still log on.
    DenyDomainAccounts,
    /// 2, "Deny all accounts".
    DenyAll,
}

/// `AuditReceivingNTLMTraffic`: Network security: Restrict NTLM: Audit Incoming NTLM Traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AuditIncoming {
    /// 0, "Disable".
    #[default]
    Disabled,
    /// 1, "Enable auditing for domain accounts".
    DomainAccounts,
    /// 2, "Enable auditing for all accounts".
    AllAccounts,
}

/// `RestrictNTLMInDomain` / `AuditNTLMInDomain`: which pass-through logons a DC
/// denies (or audits). The values are bit sets: 1 enables, 2 widens to domain
/// accounts to any server, 4 widens to any account to domain servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DomainScope {
    /// 0, "Disable".
    #[default]
    Disabled,
    /// 1, "Deny (Enable) for domain accounts to domain servers".
    DomainAccountsToDomainServers,
    /// 3, "Deny (Enable) for domain accounts".
    DomainAccounts,
    /// 5, "Deny (Enable) for domain servers".
    DomainServers,
    /// 7, "Deny all" / "Enable all".
    All,
}

/// `BlockNtlmv1SSO` (KB5066470): NTLMv1-derived credentials for single sign-on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Ntlmv1Sso {
    /// 0 (the default until the enforcement phase): event 4024, the request proceeds.
    #[default]
    Audit,
    /// 1: event 4025, the request is blocked.
    Enforce,
}

macro_rules! dword_enum {
    ($t:ty, $name:literal, $accepted:literal, { $($n:literal => $v:expr, $token:literal, $text:literal;)* }) => {
        impl $t {
            /// Every value with its registry number, token and Group Policy option text.
            pub const ALL: &'static [(u32, Self, &'static str, &'static str)] = &[$(($n, $v, $token, $text)),*];

            /// The registry value name.
            pub const REGISTRY_NAME: &'static str = $name;

            /// From the registry DWORD.
            pub fn from_dword(value: u32) -> Result<Self, BadValue> {
                Self::ALL
                    .iter()
                    .find(|(n, ..)| *n == value)
                    .map(|(_, v, ..)| *v)
                    .ok_or(BadValue { name: $name, value, accepted: $accepted })
            }

            /// The registry DWORD.
            pub fn dword(self) -> u32 {
                Self::ALL.iter().find(|(_, v, ..)| *v == self).map_or(0, |(n, ..)| *n)
            }

            /// The short token (`deny-all`), as `--help` and JSON use it.
            pub fn token(self) -> &'static str {
                Self::ALL.iter().find(|(_, v, ..)| *v == self).map_or("", |(_, _, t, _)| t)
            }

            /// The Group Policy option text.
            pub fn option_text(self) -> &'static str {
                Self::ALL.iter().find(|(_, v, ..)| *v == self).map_or("", |(.., t)| t)
            }

            /// From a token, the option text or the number, ignoring case, spaces and punctuation.
            pub fn parse(s: &str) -> Option<Self> {
                let want = crate::parse::squash(s);
                if let Ok((n, _)) = crate::parse::number(s.trim()) {
                    return Self::from_dword(n).ok();
                }
                Self::ALL
                    .iter()
                    .find(|(_, _, token, text)| {
                        crate::parse::squash(token) == want || crate::parse::squash(text) == want
                    })
                    .map(|(_, v, ..)| *v)
            }
        }
    };
}

dword_enum!(Outgoing, "RestrictSendingNTLMTraffic", "0, 1, 2", {
    0 => Outgoing::AllowAll, "allow-all", "Allow all";
    1 => Outgoing::AuditAll, "audit-all", "Audit all";
    2 => Outgoing::DenyAll, "deny-all", "Deny all";
});

dword_enum!(Incoming, "RestrictReceivingNTLMTraffic", "0, 1, 2", {
    0 => Incoming::AllowAll, "allow-all", "Allow all";
    1 => Incoming::DenyDomainAccounts, "deny-domain-accounts", "Deny all domain accounts";
    2 => Incoming::DenyAll, "deny-all", "Deny all accounts";
});

dword_enum!(AuditIncoming, "AuditReceivingNTLMTraffic", "0, 1, 2", {
    0 => AuditIncoming::Disabled, "disable", "Disable";
    1 => AuditIncoming::DomainAccounts, "domain-accounts", "Enable auditing for domain accounts";
    2 => AuditIncoming::AllAccounts, "all-accounts", "Enable auditing for all accounts";
});

dword_enum!(DomainScope, "RestrictNTLMInDomain", "0, 1, 3, 5, 7", {
    0 => DomainScope::Disabled, "disable", "Disable";
    1 => DomainScope::DomainAccountsToDomainServers, "domain-accounts-to-domain-servers", "Deny for domain accounts to domain servers";
    3 => DomainScope::DomainAccounts, "domain-accounts", "Deny for domain accounts";
    5 => DomainScope::DomainServers, "domain-servers", "Deny for domain servers";
    7 => DomainScope::All, "all", "Deny all";
});

dword_enum!(Ntlmv1Sso, "BlockNtlmv1SSO", "0, 1", {
    0 => Ntlmv1Sso::Audit, "audit", "Audit";
    1 => Ntlmv1Sso::Enforce, "enforce", "Enforce";
});

impl DomainScope {
    /// The Group Policy option text of the audit policy ("Enable for domain
    /// accounts to domain servers", ...), which uses the same numbers.
    pub const fn audit_option_text(self) -> &'static str {
        match self {
            Self::Disabled => "Disable",
            Self::DomainAccountsToDomainServers => "Enable for domain accounts to domain servers",
            Self::DomainAccounts => "Enable for domain accounts",
            Self::DomainServers => "Enable for domain servers",
            Self::All => "Enable all",
        }
    }

    /// Reads the audit policy's option text (or a token or number).
    pub fn parse_audit(s: &str) -> Option<Self> {
        let want = crate::parse::squash(s);
        [
            Self::Disabled,
            Self::DomainAccountsToDomainServers,
            Self::DomainAccounts,
            Self::DomainServers,
            Self::All,
        ]
        .into_iter()
        .find(|v| crate::parse::squash(v.audit_option_text()) == want)
        .or_else(|| Self::parse(s))
    }

    /// Whether a pass-through logon of this account to this server is in scope.
    pub const fn covers(self, account: Account, server_in_domain: bool) -> bool {
        let domain_account = matches!(account, Account::Domain);
        match self {
            Self::Disabled => false,
            Self::DomainAccountsToDomainServers => domain_account && server_in_domain,
            Self::DomainAccounts => domain_account,
            Self::DomainServers => server_in_domain,
            Self::All => domain_account || server_in_domain,
        }
    }
}

/// Whose account logs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Account {
    /// A domain account (verified by a DC).
    #[default]
    Domain,
    /// An account local to the server.
    Local,
}

impl Account {
    /// `domain` or `local`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Domain => "domain",
            Self::Local => "local",
        }
    }
}

/// The transport carrying NTLM, for the SMB client's own blocking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Transport {
    /// SMB (the SMB client's `BlockNTLM` applies).
    Smb,
    /// Anything else (HTTP, LDAP, RPC, ...).
    #[default]
    Other,
}

/// The restriction settings of one host (each check reads its own role's values).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Restrictions {
    /// `RestrictSendingNTLMTraffic` (client).
    pub outgoing: Outgoing,
    /// `ClientAllowedNTLMServers` (client): servers exempt from `outgoing = deny-all`.
    pub outgoing_exceptions: Vec<String>,
    /// `RestrictReceivingNTLMTraffic` (server).
    pub incoming: Incoming,
    /// `AuditReceivingNTLMTraffic` (server).
    pub audit_incoming: AuditIncoming,
    /// `RestrictNTLMInDomain` (DC).
    pub domain: DomainScope,
    /// `AuditNTLMInDomain` (DC).
    pub audit_domain: DomainScope,
    /// `DCAllowedNTLMServers` (DC): servers exempt from `domain`.
    pub domain_exceptions: Vec<String>,
    /// `BlockNTLM` of the SMB client (Windows 11 24H2 / Server 2025 and later).
    pub smb_block_ntlm: bool,
    /// `BlockNTLMServerExceptionList` of the SMB client.
    pub smb_exceptions: Vec<String>,
    /// `BlockNtlmv1SSO` (KB5066470); `None`: not set (audit).
    pub ntlmv1_sso: Option<Ntlmv1Sso>,
    /// Credential Guard is running: KB5066470's changes do not take effect.
    pub credential_guard: bool,
}

/// The outcome of one restriction check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No restriction applies.
    Allowed,
    /// Allowed, and an audit event is written: this "would be logged", it does not break.
    Logged(Event, &'static Rule),
    /// Refused: the failure, and the event Windows writes (when one is documented).
    Blocked(Failure, Option<Event>),
}

impl Verdict {
    /// The failure, when blocked.
    pub const fn failure(&self) -> Option<&Failure> {
        match self {
            Self::Blocked(f, _) => Some(f),
            _ => None,
        }
    }

    /// The event written, if any.
    pub const fn event(&self) -> Option<Event> {
        match self {
            Self::Allowed => None,
            Self::Logged(e, _) => Some(*e),
            Self::Blocked(_, e) => *e,
        }
    }

    /// `allowed`, `logged` or `blocked`.
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Logged(..) => "logged",
            Self::Blocked(..) => "blocked",
        }
    }
}

/// Whether `name` is on an exception list: ASCII case ignored, `*` matches any run.
pub fn on_exception_list(list: &[String], name: &str) -> bool {
    let name = name.trim();
    !name.is_empty()
        && list
            .iter()
            .any(|entry| wildcard_match(entry.trim().as_bytes(), name.as_bytes()))
}

/// `*` matches any run of bytes, ASCII case ignored. Iterative with one
/// backtrack point: linear in practice, at worst O(pattern × name).
fn wildcard_match(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match (pattern.get(p), name.get(n)) {
            (Some(b'*'), _) => {
                star = Some((p, n));
                p = p.saturating_add(1);
            }
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => {
                p = p.saturating_add(1);
                n = n.saturating_add(1);
            }
            _ => match star {
                Some((sp, sn)) => {
                    p = sp.saturating_add(1);
                    n = sn.saturating_add(1);
                    star = Some((sp, n));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
}

impl Restrictions {
    /// True when every value is at its default (nothing restricted or audited).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The client, before it sends a NEGOTIATE to `target` over `transport`:
    /// `RestrictSendingNTLMTraffic` with `ClientAllowedNTLMServers` (rules
    /// `restrict-outgoing-deny`, `restrict-outgoing-audit`), then the SMB
    /// client's `BlockNTLM` with its exception list (`smb-client-block-ntlm`).
    pub fn client_outgoing(&self, target: &str, transport: Transport) -> Verdict {
        if matches!(self.outgoing, Outgoing::DenyAll)
            && !on_exception_list(&self.outgoing_exceptions, target)
        {
            return Verdict::Blocked(
                Failure::new(
                    Side::Client,
                    Stage::Negotiate,
                    &rules::RESTRICT_OUTGOING_DENY,
                    Detail::Note(
                        "outgoing NTLM is denied (Restrict NTLM: Outgoing NTLM traffic to remote \
                         servers = Deny all) and the server is not on the exception list",
                    ),
                ),
                Some(EVENT_4001),
            );
        }
        if self.smb_block_ntlm
            && matches!(transport, Transport::Smb)
            && !on_exception_list(&self.smb_exceptions, target)
        {
            return Verdict::Blocked(
                Failure::new(
                    Side::Client,
                    Stage::Negotiate,
                    &rules::SMB_CLIENT_BLOCK_NTLM,
                    Detail::Note(
                        "the SMB client blocks NTLM (Block NTLM) and the server is not on its \
                         exception list",
                    ),
                ),
                None,
            );
        }
        if matches!(self.outgoing, Outgoing::AuditAll) {
            return Verdict::Logged(EVENT_8001, &rules::RESTRICT_OUTGOING_AUDIT);
        }
        Verdict::Allowed
    }

    /// The server, on an AUTHENTICATE for `account` (the account's domain is
    /// known only from the AUTHENTICATE): `RestrictReceivingNTLMTraffic`
    /// (`restrict-incoming-deny`) and `AuditReceivingNTLMTraffic`
    /// (`restrict-incoming-audit`).
    pub fn server_incoming(&self, account: Account) -> Verdict {
        let denied = match self.incoming {
            Incoming::AllowAll => false,
            Incoming::DenyDomainAccounts => matches!(account, Account::Domain),
            Incoming::DenyAll => true,
        };
        if denied {
            return Verdict::Blocked(
                Failure::new(
                    Side::Server,
                    Stage::Authenticate,
                    &rules::RESTRICT_INCOMING_DENY,
                    Detail::Note(match account {
                        Account::Domain => {
                            "incoming NTLM is denied for this domain account (Restrict NTLM: \
                             Incoming NTLM traffic)"
                        }
                        Account::Local => {
                            "incoming NTLM is denied for every account (Restrict NTLM: \
                             Incoming NTLM traffic = Deny all accounts)"
                        }
                    }),
                ),
                Some(EVENT_4002),
            );
        }
        let audited = match self.audit_incoming {
            AuditIncoming::Disabled => false,
            AuditIncoming::DomainAccounts => matches!(account, Account::Domain),
            AuditIncoming::AllAccounts => true,
        };
        if audited {
            return Verdict::Logged(EVENT_8002, &rules::RESTRICT_INCOMING_AUDIT);
        }
        Verdict::Allowed
    }

    /// The DC, on a pass-through logon of `account` from `server` (in the
    /// domain or not): `RestrictNTLMInDomain` with `DCAllowedNTLMServers`
    /// (`restrict-domain-deny`; the DC answers STATUS_NTLM_BLOCKED and the
    /// server relays STATUS_NOT_SUPPORTED, `dc-ntlm-blocked`) and
    /// `AuditNTLMInDomain` (`restrict-domain-audit`). Local accounts never
    /// reach the DC.
    pub fn dc_in_domain(&self, account: Account, server: &str, server_in_domain: bool) -> Verdict {
        if matches!(account, Account::Local) {
            return Verdict::Allowed;
        }
        let exempt = on_exception_list(&self.domain_exceptions, server);
        if self.domain.covers(account, server_in_domain) && !exempt {
            return Verdict::Blocked(
                Failure::new(
                    Side::Server,
                    Stage::Authenticate,
                    &rules::RESTRICT_DOMAIN_DENY,
                    Detail::Note(
                        "the DC denies this pass-through logon (Restrict NTLM: NTLM \
                         authentication in this domain) and the server is not on its exception \
                         list; the DC returns STATUS_NTLM_BLOCKED, the server STATUS_NOT_SUPPORTED",
                    ),
                ),
                Some(EVENT_4004),
            );
        }
        if self.audit_domain.covers(account, server_in_domain) && !exempt {
            return Verdict::Logged(EVENT_8004, &rules::RESTRICT_DOMAIN_AUDIT);
        }
        Verdict::Allowed
    }

    /// A client about to use NTLMv1-derived credentials for single sign-on
    /// (KB5066470; Windows 11 24H2 / Server 2025 only, callers check the
    /// generation): with Credential Guard running nothing changes; otherwise
    /// `BlockNtlmv1SSO` = 1 blocks (event 4025) and 0 or unset audits (4024).
    pub fn ntlmv1_sso(&self) -> Verdict {
        if self.credential_guard {
            return Verdict::Allowed;
        }
        match self.ntlmv1_sso.unwrap_or_default() {
            Ntlmv1Sso::Audit => Verdict::Logged(EVENT_4024, &rules::NTLMV1_SSO_AUDIT),
            Ntlmv1Sso::Enforce => Verdict::Blocked(
                Failure::new(
                    Side::Client,
                    Stage::Challenge,
                    &rules::NTLMV1_SSO_BLOCK,
                    Detail::Note(
                        "NTLMv1-derived credentials for single sign-on are blocked \
                         (BlockNtlmv1SSO = 1, Credential Guard not running)",
                    ),
                ),
                Some(EVENT_4025),
            ),
        }
    }
}

/// The NTLM package of a logon as event 4624 names it ("Package Name (NTLM
/// only)": `NTLM V1`, `NTLM V2`, `LM`), read into a response kind.
/// NTLM V1 covers NTLMv1 and the NTLM2 session response (both are refused
/// together by LmCompatibilityLevel 5). `None`: not one of them (`-` for
/// Kerberos logons).
pub fn package_kind(package: &str) -> Option<ntlm_wire::ResponseKind> {
    match crate::parse::squash(package).as_str() {
        "ntlmv1" | "ntlm" => Some(ntlm_wire::ResponseKind::NtlmV1),
        "ntlmv2" => Some(ntlm_wire::ResponseKind::NtlmV2),
        "lm" => Some(ntlm_wire::ResponseKind::Lm),
        _ => None,
    }
}

/// A host that accepts NTLM logons, and its DC, as a logon judge sees them.
#[derive(Debug, Clone, Copy)]
pub struct Acceptor<'a> {
    /// The server's (or its DC's) LmCompatibilityLevel.
    pub lm_level: crate::LmCompatibilityLevel,
    /// The server's Restrict NTLM settings.
    pub server: &'a Restrictions,
    /// Its DC's Restrict NTLM settings.
    pub dc: &'a Restrictions,
    /// The server's name (matched against DCAllowedNTLMServers).
    pub name: &'a str,
    /// Whether the server is domain-joined.
    pub domain_joined: bool,
    /// Whether the server is Windows 11 24H2 / Server 2025 (NTLMv1 removed).
    pub ntlmv1_removed: bool,
    /// The readings of unconfirmed behaviour (`ntlmv1-server` decides
    /// whether such a server refuses NTLMv1 itself).
    pub semantics: crate::Semantics,
}

/// Would a logon already seen (an event 4624 with its package and account)
/// be refused under these settings? The server's Restrict NTLM settings
/// first, then its DC's, then a Windows 11 24H2 / Server 2025 server's own
/// NTLMv1 refusal under `ntlmv1-server = refuses` (`ntlmv1-removed-server`),
/// then the LmCompatibilityLevel that verifies the response (`lm-refuse-lm`,
/// `lm-refuse-ntlmv1`). Audit settings give
/// [`Verdict::Logged`]. For the event-log audit: `package` is the 4624
/// "Package Name (NTLM only)" text ([`package_kind`]); an unknown package is
/// [`Verdict::Allowed`] (not an NTLM logon).
pub fn judge_logon(package: &str, account: Account, at: &Acceptor<'_>) -> Verdict {
    let Some(kind) = package_kind(package) else {
        return Verdict::Allowed;
    };
    let incoming = at.server.server_incoming(account);
    if matches!(incoming, Verdict::Blocked(..)) {
        return incoming;
    }
    let account = if at.domain_joined {
        account
    } else {
        Account::Local
    };
    let dc = at.dc.dc_in_domain(account, at.name, at.domain_joined);
    if matches!(dc, Verdict::Blocked(..)) {
        return dc;
    }
    let server = crate::ServerConfig {
        lm_level: at.lm_level,
        ntlmv1_removed: at.ntlmv1_removed,
        ..crate::ServerConfig::default()
    };
    if let Err(f) = crate::check_ntlmv1_removed_server(kind, &server, &at.semantics) {
        return Verdict::Blocked(f, None);
    }
    if !at.lm_level.accepts(kind) {
        let rule = if matches!(kind, ntlm_wire::ResponseKind::Lm) {
            &rules::LM_REFUSE_LM
        } else {
            &rules::LM_REFUSE_NTLMV1
        };
        return Verdict::Blocked(
            Failure::new(
                Side::Server,
                Stage::Authenticate,
                rule,
                Detail::ResponseRefused {
                    kind,
                    level: at.lm_level,
                },
            ),
            None,
        );
    }
    match (incoming, dc) {
        (v @ Verdict::Logged(..), _) | (_, v @ Verdict::Logged(..)) => v,
        _ => Verdict::Allowed,
    }
}

/// The status Windows reports for a blocked NTLM connection (STATUS_NTLM_BLOCKED),
/// with the Win32 error an application shows (ERROR_NTLM_BLOCKED, 1937).
pub const BLOCKED_STATUS: Status = Status::StatusNtlmBlocked;

/// The Win32 error code of STATUS_NTLM_BLOCKED: ERROR_NTLM_BLOCKED (1937, 0x791).
pub const ERROR_NTLM_BLOCKED: u32 = 1937;

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_dword_reads_back() {
        for (n, v, token, text) in Outgoing::ALL {
            assert_eq!(Outgoing::from_dword(*n), Ok(*v));
            assert_eq!(Outgoing::parse(token), Some(*v));
            assert_eq!(Outgoing::parse(text), Some(*v));
            assert_eq!(v.dword(), *n);
        }
        for (n, v, ..) in DomainScope::ALL {
            assert_eq!(DomainScope::from_dword(*n), Ok(*v));
            assert_eq!(DomainScope::parse_audit(v.audit_option_text()), Some(*v));
        }
        assert!(DomainScope::from_dword(2).is_err());
        assert!(Incoming::from_dword(3).is_err());
        assert_eq!(
            Incoming::parse("Deny all domain accounts"),
            Some(Incoming::DenyDomainAccounts)
        );
        assert_eq!(
            Incoming::parse("Deny all accounts"),
            Some(Incoming::DenyAll)
        );
        assert_eq!(
            Outgoing::from_dword(9).map_err(|e| e.to_string()),
            Err("RestrictSendingNTLMTraffic = 9 is not a defined value (accepted: 0, 1, 2)".into())
        );
    }

    #[test]
    fn exception_lists_match_wildcards_and_ignore_case() {
        let l = list(&["nas01", "*.legacy.corp", "print*srv"]);
        assert!(on_exception_list(&l, "NAS01"));
        assert!(on_exception_list(&l, "files.LEGACY.corp"));
        assert!(on_exception_list(&l, "print-east-srv"));
        assert!(!on_exception_list(&l, "nas02"));
        assert!(!on_exception_list(&l, "legacy.corp.evil"));
        assert!(!on_exception_list(&l, ""));
        assert!(on_exception_list(&list(&["*"]), "anything"));
    }

    #[test]
    fn outgoing_deny_blocks_unless_excepted_and_audit_only_logs() {
        let mut r = Restrictions {
            outgoing: Outgoing::DenyAll,
            outgoing_exceptions: list(&["nas01"]),
            ..Restrictions::default()
        };
        let v = r.client_outgoing("web01", Transport::Other);
        let f = v.failure().copied();
        assert_eq!(
            f.map(|f| (f.side, f.stage, f.status)),
            Some((Side::Client, Stage::Negotiate, Status::StatusNtlmBlocked))
        );
        assert_eq!(v.event().map(|e| e.id), Some(4001));
        assert_eq!(
            r.client_outgoing("NAS01", Transport::Other),
            Verdict::Allowed
        );
        r.outgoing = Outgoing::AuditAll;
        let v = r.client_outgoing("web01", Transport::Other);
        assert!(v.failure().is_none());
        assert_eq!(v.event().map(|e| e.id), Some(8001));
        assert_eq!(v.name(), "logged");
    }

    #[test]
    fn smb_block_applies_to_smb_only() {
        let r = Restrictions {
            smb_block_ntlm: true,
            smb_exceptions: vec!["10.0.0.5".into()],
            ..Restrictions::default()
        };
        assert_eq!(
            r.client_outgoing("files", Transport::Other),
            Verdict::Allowed
        );
        let v = r.client_outgoing("files", Transport::Smb);
        assert_eq!(
            v.failure().map(|f| f.rule.id),
            Some("smb-client-block-ntlm")
        );
        assert_eq!(
            r.client_outgoing("10.0.0.5", Transport::Smb),
            Verdict::Allowed
        );
    }

    #[test]
    fn incoming_deny_domain_accounts_lets_local_accounts_in() {
        let r = Restrictions {
            incoming: Incoming::DenyDomainAccounts,
            audit_incoming: AuditIncoming::AllAccounts,
            ..Restrictions::default()
        };
        assert_eq!(
            r.server_incoming(Account::Domain).event().map(|e| e.id),
            Some(4002)
        );
        let v = r.server_incoming(Account::Local);
        assert!(v.failure().is_none());
        assert_eq!(v.event().map(|e| e.id), Some(8002));
    }

    #[test]
    fn domain_scopes_cover_what_the_policy_page_says() {
        use Account::{Domain, Local};
        let cases = [
            (
                DomainScope::DomainAccountsToDomainServers,
                Domain,
                true,
                true,
            ),
            (
                DomainScope::DomainAccountsToDomainServers,
                Domain,
                false,
                false,
            ),
            (DomainScope::DomainAccounts, Domain, false, true),
            (DomainScope::DomainServers, Domain, true, true),
            (DomainScope::DomainServers, Domain, false, false),
            (DomainScope::All, Domain, false, true),
            (DomainScope::All, Local, false, false),
        ];
        for (scope, account, in_domain, blocked) in cases {
            let r = Restrictions {
                domain: scope,
                ..Restrictions::default()
            };
            let v = r.dc_in_domain(account, "app01", in_domain);
            assert_eq!(
                v.failure().is_some(),
                blocked,
                "{scope:?} {account:?} {in_domain}"
            );
        }
        let r = Restrictions {
            domain: DomainScope::All,
            domain_exceptions: list(&["app01"]),
            audit_domain: DomainScope::All,
            ..Restrictions::default()
        };
        assert_eq!(r.dc_in_domain(Domain, "app01", true), Verdict::Allowed);
        assert_eq!(
            r.dc_in_domain(Domain, "app02", true).event().map(|e| e.id),
            Some(4004)
        );
    }

    #[test]
    fn logons_seen_in_4624_are_judged_in_windows_order() {
        use crate::LmCompatibilityLevel as L;
        let none = Restrictions::default();
        let at = |lm_level, server, dc| Acceptor {
            lm_level,
            server,
            dc,
            name: "app01",
            domain_joined: true,
            ntlmv1_removed: false,
            semantics: crate::Semantics::default(),
        };
        assert_eq!(
            judge_logon("NTLM V1", Account::Domain, &at(L::L3, &none, &none)),
            Verdict::Allowed
        );
        let v = judge_logon("NTLM V1", Account::Domain, &at(L::L5, &none, &none));
        assert_eq!(v.failure().map(|f| f.rule.id), Some("lm-refuse-ntlmv1"));
        assert_eq!(
            judge_logon("NTLM V2", Account::Domain, &at(L::L5, &none, &none)),
            Verdict::Allowed
        );
        assert_eq!(
            judge_logon("-", Account::Domain, &at(L::L5, &none, &none)),
            Verdict::Allowed
        );
        let deny = Restrictions {
            incoming: Incoming::DenyDomainAccounts,
            ..Restrictions::default()
        };
        let v = judge_logon("NTLM V2", Account::Domain, &at(L::L3, &deny, &none));
        assert_eq!(v.event().map(|e| e.id), Some(4002));
        assert_eq!(
            judge_logon("NTLM V2", Account::Local, &at(L::L3, &deny, &none)),
            Verdict::Allowed
        );
        let audit_dc = Restrictions {
            audit_domain: DomainScope::DomainAccounts,
            ..Restrictions::default()
        };
        let v = judge_logon("NTLM V2", Account::Domain, &at(L::L3, &none, &audit_dc));
        assert_eq!((v.name(), v.event().map(|e| e.id)), ("logged", Some(8004)));
        // A 24H2 / 2025 server: NTLM V1 at level 3 passes by default and is
        // refused under ntlmv1-server=refuses.
        let mut s2025 = at(L::L3, &none, &none);
        s2025.ntlmv1_removed = true;
        assert_eq!(
            judge_logon("NTLM V1", Account::Domain, &s2025),
            Verdict::Allowed
        );
        s2025.semantics.ntlmv1_server = crate::Ntlmv1Server::Refuses;
        let v = judge_logon("NTLM V1", Account::Domain, &s2025);
        assert_eq!(
            v.failure().map(|f| f.rule.id),
            Some("ntlmv1-removed-server")
        );
        assert_eq!(
            judge_logon("NTLM V2", Account::Domain, &s2025),
            Verdict::Allowed
        );
    }

    #[test]
    fn ntlmv1_sso_is_gated_on_credential_guard() {
        let mut r = Restrictions::default();
        assert_eq!(r.ntlmv1_sso().event().map(|e| e.id), Some(4024));
        r.ntlmv1_sso = Some(Ntlmv1Sso::Enforce);
        assert_eq!(r.ntlmv1_sso().event().map(|e| e.id), Some(4025));
        assert!(r.ntlmv1_sso().failure().is_some());
        r.credential_guard = true;
        assert_eq!(r.ntlmv1_sso(), Verdict::Allowed);
    }
}
