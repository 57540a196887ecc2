//! The Restrict NTLM, SMB client Block NTLM and BlockNtlmv1SSO values in a
//! paste (used by [`crate::paste::read_settings`]): their registry names,
//! keys and Group Policy titles, and the REG_MULTI_SZ exception lists in
//! each export format (`reg query`, `reg add`, `.reg` `hex(7):`, secedit
//! `7,a,b`, PowerShell `{a, b}`, Group Policy text `a, b`).
//!
//! Hand-written like the rest of the paste reader: a few fixed prefixes per
//! form; `hex(7):` is UTF-16LE bytes, decoded with `char::decode_utf16`.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::parse::{self, LineForm, strip_prefix_ci};
use crate::restrict::{
    AuditIncoming, DomainScope, EVENT_4001, EVENT_4002, EVENT_4004, EVENT_4024, EVENT_4025,
    EVENT_8001, EVENT_8002, EVENT_8004, Event, Incoming, Ntlmv1Sso, Outgoing,
};
use crate::rules::{self, Rule};

use crate::paste::MSV1_0_KEY;

/// The key a DC reads `RestrictNTLMInDomain`, `AuditNTLMInDomain` and
/// `DCAllowedNTLMServers` from.
pub const NETLOGON_KEY: &str =
    r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\Netlogon\Parameters";

/// The Group Policy key of the SMB client's Block NTLM settings (the SMB
/// NTLM blocking page writes `BlockNTLMServerExceptionList` there).
pub const LANMAN_POLICY_KEY: &str =
    r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Windows\LanmanWorkstation";

/// The key `Set-SmbClientConfiguration -BlockNTLM` writes (inferred: the
/// SMB client's other settings live there).
pub const LANMAN_PARAMETERS_KEY: &str =
    r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\LanmanWorkstation\Parameters";

/// One Restrict NTLM / NTLMv1 DWORD setting read from a paste.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RestrictValue {
    /// `RestrictSendingNTLMTraffic`.
    Outgoing(Outgoing),
    /// `RestrictReceivingNTLMTraffic`.
    Incoming(Incoming),
    /// `AuditReceivingNTLMTraffic`.
    AuditIncoming(AuditIncoming),
    /// `RestrictNTLMInDomain`.
    Domain(DomainScope),
    /// `AuditNTLMInDomain`.
    AuditDomain(DomainScope),
    /// `BlockNtlmv1SSO`.
    Ntlmv1Sso(Ntlmv1Sso),
    /// The SMB client's `BlockNTLM`.
    SmbBlockNtlm(bool),
}

impl RestrictValue {
    /// The registry value name.
    pub const fn registry_name(self) -> &'static str {
        match self {
            Self::Outgoing(_) => "RestrictSendingNTLMTraffic",
            Self::Incoming(_) => "RestrictReceivingNTLMTraffic",
            Self::AuditIncoming(_) => "AuditReceivingNTLMTraffic",
            Self::Domain(_) => "RestrictNTLMInDomain",
            Self::AuditDomain(_) => "AuditNTLMInDomain",
            Self::Ntlmv1Sso(_) => "BlockNtlmv1SSO",
            Self::SmbBlockNtlm(_) => "BlockNTLM",
        }
    }

    /// The Group Policy (or KB) name.
    pub const fn policy(self) -> &'static str {
        match self {
            Self::Outgoing(_) => {
                "Network security: Restrict NTLM: Outgoing NTLM traffic to remote servers"
            }
            Self::Incoming(_) => "Network security: Restrict NTLM: Incoming NTLM traffic",
            Self::AuditIncoming(_) => {
                "Network security: Restrict NTLM: Audit Incoming NTLM Traffic"
            }
            Self::Domain(_) => {
                "Network security: Restrict NTLM: NTLM authentication in this domain"
            }
            Self::AuditDomain(_) => {
                "Network security: Restrict NTLM: Audit NTLM authentication in this domain"
            }
            Self::Ntlmv1Sso(_) => "BlockNtlmv1SSO (KB5066470, registry only)",
            Self::SmbBlockNtlm(_) => "Lanman Workstation: Block NTLM (LM, NTLM, NTLMv2)",
        }
    }

    /// The registry number.
    pub fn dword(self) -> u32 {
        match self {
            Self::Outgoing(v) => v.dword(),
            Self::Incoming(v) => v.dword(),
            Self::AuditIncoming(v) => v.dword(),
            Self::Domain(v) | Self::AuditDomain(v) => v.dword(),
            Self::Ntlmv1Sso(v) => v.dword(),
            Self::SmbBlockNtlm(b) => u32::from(b),
        }
    }

    /// The option as the Group Policy editor names it.
    pub fn option_text(self) -> &'static str {
        match self {
            Self::Outgoing(v) => v.option_text(),
            Self::Incoming(v) => v.option_text(),
            Self::AuditIncoming(v) => v.option_text(),
            Self::Domain(v) => v.option_text(),
            Self::AuditDomain(v) => v.audit_option_text(),
            Self::Ntlmv1Sso(v) => v.option_text(),
            Self::SmbBlockNtlm(true) => "Enabled",
            Self::SmbBlockNtlm(false) => "Disabled",
        }
    }

    /// The keys Windows reads it from.
    pub const fn keys(self) -> &'static [&'static str] {
        match self {
            Self::Outgoing(_) | Self::Incoming(_) | Self::AuditIncoming(_) | Self::Ntlmv1Sso(_) => {
                &[MSV1_0_KEY]
            }
            Self::Domain(_) | Self::AuditDomain(_) => &[NETLOGON_KEY],
            Self::SmbBlockNtlm(_) => &[LANMAN_POLICY_KEY, LANMAN_PARAMETERS_KEY],
        }
    }
}

static R_RESTRICT_OUTGOING_AUDIT: [&Rule; 1] = [&rules::RESTRICT_OUTGOING_AUDIT];
static R_RESTRICT_OUTGOING_DENY: [&Rule; 1] = [&rules::RESTRICT_OUTGOING_DENY];
static R_RESTRICT_INCOMING_DENY: [&Rule; 1] = [&rules::RESTRICT_INCOMING_DENY];
static R_RESTRICT_INCOMING_AUDIT: [&Rule; 1] = [&rules::RESTRICT_INCOMING_AUDIT];
static R_RESTRICT_DOMAIN_DENY_DC_NTLM_BLOCKED: [&Rule; 2] =
    [&rules::RESTRICT_DOMAIN_DENY, &rules::DC_NTLM_BLOCKED];
static R_RESTRICT_DOMAIN_AUDIT: [&Rule; 1] = [&rules::RESTRICT_DOMAIN_AUDIT];
static R_NTLMV1_SSO_AUDIT: [&Rule; 1] = [&rules::NTLMV1_SSO_AUDIT];
static R_NTLMV1_SSO_BLOCK: [&Rule; 1] = [&rules::NTLMV1_SSO_BLOCK];
static R_SMB_CLIENT_BLOCK_NTLM: [&Rule; 1] = [&rules::SMB_CLIENT_BLOCK_NTLM];
static R_RESTRICT_DOMAIN_DENY: [&Rule; 1] = [&rules::RESTRICT_DOMAIN_DENY];

/// What a setting does: which host applies it, whether it can break a
/// logon or only logs, in one sentence, with its events and rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Explanation {
    /// `client`, `server` or `dc`.
    pub host: &'static str,
    /// `breaks` (it refuses logons in its scope), `logs` (audit only: "would
    /// be logged") or `none` (allows everything).
    pub effect: &'static str,
    /// The meaning in one sentence.
    pub meaning: &'static str,
    /// The events it writes.
    pub events: &'static [Event],
    /// The rules it applies.
    pub rules: &'static [&'static Rule],
}

impl RestrictValue {
    /// What this value does ([`Explanation`]).
    pub fn explain(self) -> Explanation {
        fn x(
            host: &'static str,
            effect: &'static str,
            meaning: &'static str,
            events: &'static [Event],
            rules: &'static [&'static Rule],
        ) -> Explanation {
            Explanation {
                host,
                effect,
                meaning,
                events,
                rules,
            }
        }
        match self {
            Self::Outgoing(Outgoing::AllowAll) => x(
                "client",
                "none",
                "this client uses NTLM with any remote server",
                &[],
                &[],
            ),
            Self::Outgoing(Outgoing::AuditAll) => x(
                "client",
                "logs",
                "this client logs event 8001 for every NTLM request to a remote server and \
                 proceeds: the requests Deny all would block are logged, nothing breaks",
                &[EVENT_8001],
                &R_RESTRICT_OUTGOING_AUDIT,
            ),
            Self::Outgoing(Outgoing::DenyAll) => x(
                "client",
                "breaks",
                "this client sends no NTLM to a remote server missing from \
                 ClientAllowedNTLMServers: the logon fails with STATUS_NTLM_BLOCKED \
                 (ERROR_NTLM_BLOCKED 1937) and event 4001 is logged",
                &[EVENT_4001],
                &R_RESTRICT_OUTGOING_DENY,
            ),
            Self::Incoming(Incoming::AllowAll) => x(
                "server",
                "none",
                "this server accepts NTLM logons of every account",
                &[],
                &[],
            ),
            Self::Incoming(Incoming::DenyDomainAccounts) => x(
                "server",
                "breaks",
                "this server refuses NTLM logons of domain accounts (local accounts still log \
                 on) with STATUS_NTLM_BLOCKED and logs event 4002",
                &[EVENT_4002],
                &R_RESTRICT_INCOMING_DENY,
            ),
            Self::Incoming(Incoming::DenyAll) => x(
                "server",
                "breaks",
                "this server refuses every NTLM logon with STATUS_NTLM_BLOCKED and logs event 4002",
                &[EVENT_4002],
                &R_RESTRICT_INCOMING_DENY,
            ),
            Self::AuditIncoming(AuditIncoming::Disabled) => {
                x("server", "none", "no audit of incoming NTLM", &[], &[])
            }
            Self::AuditIncoming(AuditIncoming::DomainAccounts) => x(
                "server",
                "logs",
                "this server logs event 8002 for each NTLM logon of a domain account that Deny \
                 all domain accounts would refuse, and accepts it: it would be logged, nothing \
                 breaks",
                &[EVENT_8002],
                &R_RESTRICT_INCOMING_AUDIT,
            ),
            Self::AuditIncoming(AuditIncoming::AllAccounts) => x(
                "server",
                "logs",
                "this server logs event 8002 for each NTLM logon that Deny all accounts would \
                 refuse, and accepts it: it would be logged, nothing breaks",
                &[EVENT_8002],
                &R_RESTRICT_INCOMING_AUDIT,
            ),
            Self::Domain(DomainScope::Disabled) => x(
                "dc",
                "none",
                "this DC passes every NTLM pass-through logon",
                &[],
                &[],
            ),
            Self::Domain(_) => x(
                "dc",
                "breaks",
                "this DC refuses NTLM pass-through logons in the option's scope unless the \
                 server is on DCAllowedNTLMServers: it returns STATUS_NTLM_BLOCKED, the server \
                 answers the client STATUS_NOT_SUPPORTED, and event 4004 is logged on the DC",
                &[EVENT_4004],
                &R_RESTRICT_DOMAIN_DENY_DC_NTLM_BLOCKED,
            ),
            Self::AuditDomain(DomainScope::Disabled) => {
                x("dc", "none", "no audit of NTLM in this domain", &[], &[])
            }
            Self::AuditDomain(_) => x(
                "dc",
                "logs",
                "this DC logs event 8004 for each pass-through logon the same option of NTLM \
                 authentication in this domain would refuse, and passes it: it would be logged, \
                 nothing breaks",
                &[EVENT_8004],
                &R_RESTRICT_DOMAIN_AUDIT,
            ),
            Self::Ntlmv1Sso(Ntlmv1Sso::Audit) => x(
                "client",
                "logs",
                "on Windows 11 24H2 / Server 2025 without Credential Guard, single sign-on with \
                 NTLMv1-derived credentials (MS-CHAPv2 in a domain) logs event 4024 and proceeds: \
                 it would be logged, nothing breaks",
                &[EVENT_4024],
                &R_NTLMV1_SSO_AUDIT,
            ),
            Self::Ntlmv1Sso(Ntlmv1Sso::Enforce) => x(
                "client",
                "breaks",
                "on Windows 11 24H2 / Server 2025 without Credential Guard, single sign-on with \
                 NTLMv1-derived credentials is blocked (event 4025); with Credential Guard \
                 running nothing changes",
                &[EVENT_4025],
                &R_NTLMV1_SSO_BLOCK,
            ),
            Self::SmbBlockNtlm(false) => x(
                "client",
                "none",
                "the SMB client uses NTLM when Kerberos is not available",
                &[],
                &[],
            ),
            Self::SmbBlockNtlm(true) => x(
                "client",
                "breaks",
                "the SMB client (Windows 11 24H2 / Server 2025 and later) does not use NTLM for \
                 SMB connections to servers missing from BlockNTLMServerExceptionList; other \
                 protocols are unaffected",
                &[],
                &R_SMB_CLIENT_BLOCK_NTLM,
            ),
        }
    }
}

impl ExceptionList {
    /// What this list does.
    pub fn explain(self) -> Explanation {
        match self {
            Self::ClientAllowedNtlmServers => Explanation {
                host: "client",
                effect: "none",
                meaning: "remote servers this client may still use NTLM with when Outgoing NTLM \
                          traffic to remote servers is Deny all ('*' is a wildcard)",
                events: &[],
                rules: &R_RESTRICT_OUTGOING_DENY,
            },
            Self::DcAllowedNtlmServers => Explanation {
                host: "dc",
                effect: "none",
                meaning: "servers whose NTLM pass-through logons this DC still passes when NTLM \
                          authentication in this domain denies them ('*' is a wildcard)",
                events: &[],
                rules: &R_RESTRICT_DOMAIN_DENY,
            },
            Self::SmbServerExceptions => Explanation {
                host: "client",
                effect: "none",
                meaning: "SMB servers (IP addresses, NetBIOS names, FQDNs) the SMB client may \
                          still use NTLM with when Block NTLM is enabled",
                events: &[],
                rules: &R_SMB_CLIENT_BLOCK_NTLM,
            },
        }
    }
}

/// Which exception list a REG_MULTI_SZ value sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExceptionList {
    /// `ClientAllowedNTLMServers`: Add remote server exceptions for NTLM authentication.
    ClientAllowedNtlmServers,
    /// `DCAllowedNTLMServers`: Add server exceptions in this domain.
    DcAllowedNtlmServers,
    /// `BlockNTLMServerExceptionList`: the SMB client's Block NTLM Server Exception List.
    SmbServerExceptions,
}

impl ExceptionList {
    /// The registry value name.
    pub const fn registry_name(self) -> &'static str {
        match self {
            Self::ClientAllowedNtlmServers => "ClientAllowedNTLMServers",
            Self::DcAllowedNtlmServers => "DCAllowedNTLMServers",
            Self::SmbServerExceptions => "BlockNTLMServerExceptionList",
        }
    }

    /// The Group Policy name.
    pub const fn policy(self) -> &'static str {
        match self {
            Self::ClientAllowedNtlmServers => {
                "Network security: Restrict NTLM: Add remote server exceptions for NTLM authentication"
            }
            Self::DcAllowedNtlmServers => {
                "Network security: Restrict NTLM: Add server exceptions in this domain"
            }
            Self::SmbServerExceptions => "Lanman Workstation: Block NTLM Server Exception List",
        }
    }

    /// The keys Windows reads it from.
    pub const fn keys(self) -> &'static [&'static str] {
        match self {
            Self::ClientAllowedNtlmServers => &[MSV1_0_KEY],
            Self::DcAllowedNtlmServers => &[NETLOGON_KEY],
            Self::SmbServerExceptions => &[LANMAN_POLICY_KEY],
        }
    }
}

/// A list line read: which list, the names and the form.
pub(crate) type ListLine = (ExceptionList, Vec<String>, LineForm);

/// A name this reader knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Known {
    Dword(&'static str),
    List(ExceptionList),
}

/// DWORD names, in the order [`dword_value`] reads them.
const DWORDS: [&str; 7] = [
    "RestrictSendingNTLMTraffic",
    "RestrictReceivingNTLMTraffic",
    "AuditReceivingNTLMTraffic",
    "RestrictNTLMInDomain",
    "AuditNTLMInDomain",
    "BlockNtlmv1SSO",
    "BlockNTLM",
];

const LISTS: [ExceptionList; 3] = [
    ExceptionList::ClientAllowedNtlmServers,
    ExceptionList::DcAllowedNtlmServers,
    ExceptionList::SmbServerExceptions,
];

/// Every registry value name this module reads (for PowerShell `NAME : VALUE` lines).
pub(crate) const NAMES: [&str; 10] = [
    "RestrictSendingNTLMTraffic",
    "RestrictReceivingNTLMTraffic",
    "AuditReceivingNTLMTraffic",
    "RestrictNTLMInDomain",
    "AuditNTLMInDomain",
    "BlockNtlmv1SSO",
    "BlockNTLM",
    "ClientAllowedNTLMServers",
    "DCAllowedNTLMServers",
    "BlockNTLMServerExceptionList",
];

pub(crate) fn known(name: &str) -> Option<Known> {
    let name = name.trim();
    if let Some(d) = DWORDS.iter().find(|d| d.eq_ignore_ascii_case(name)) {
        return Some(Known::Dword(d));
    }
    LISTS
        .into_iter()
        .find(|l| l.registry_name().eq_ignore_ascii_case(name))
        .map(Known::List)
}

/// A DWORD registry value read as its setting.
pub(crate) fn dword_value(name: &str, value: u32) -> Result<RestrictValue, String> {
    let r = match name {
        "RestrictSendingNTLMTraffic" => Outgoing::from_dword(value).map(RestrictValue::Outgoing),
        "RestrictReceivingNTLMTraffic" => Incoming::from_dword(value).map(RestrictValue::Incoming),
        "AuditReceivingNTLMTraffic" => {
            AuditIncoming::from_dword(value).map(RestrictValue::AuditIncoming)
        }
        "RestrictNTLMInDomain" => DomainScope::from_dword(value).map(RestrictValue::Domain),
        "AuditNTLMInDomain" => DomainScope::from_dword(value)
            .map(RestrictValue::AuditDomain)
            .map_err(|mut e| {
                e.name = "AuditNTLMInDomain";
                e
            }),
        "BlockNtlmv1SSO" => Ntlmv1Sso::from_dword(value).map(RestrictValue::Ntlmv1Sso),
        _ => match value {
            0 | 1 => Ok(RestrictValue::SmbBlockNtlm(value == 1)),
            _ => {
                return Err(format!(
                    "BlockNTLM = {value} is not a defined value (accepted: 0, 1)"
                ));
            }
        },
    };
    r.map_err(|e| e.to_string())
}

/// A Group Policy title of these settings in `lower` (the line, ASCII
/// lower-cased): what it sets and the byte offset where the title ends.
pub(crate) fn title(lower: &str) -> Option<(Known, usize)> {
    // Longer titles first: "audit incoming ntlm traffic" contains "incoming ntlm traffic".
    const TITLES: [(&str, Known); 9] = [
        (
            "restrict ntlm: add remote server exceptions for ntlm authentication",
            Known::List(ExceptionList::ClientAllowedNtlmServers),
        ),
        (
            "restrict ntlm: add server exceptions in this domain",
            Known::List(ExceptionList::DcAllowedNtlmServers),
        ),
        (
            "restrict ntlm: audit incoming ntlm traffic",
            Known::Dword("AuditReceivingNTLMTraffic"),
        ),
        (
            "restrict ntlm: audit ntlm authentication in this domain",
            Known::Dword("AuditNTLMInDomain"),
        ),
        (
            "restrict ntlm: outgoing ntlm traffic to remote servers",
            Known::Dword("RestrictSendingNTLMTraffic"),
        ),
        (
            "restrict ntlm: incoming ntlm traffic",
            Known::Dword("RestrictReceivingNTLMTraffic"),
        ),
        (
            "restrict ntlm: ntlm authentication in this domain",
            Known::Dword("RestrictNTLMInDomain"),
        ),
        (
            "block ntlm server exception list",
            Known::List(ExceptionList::SmbServerExceptions),
        ),
        ("block ntlm (lm, ntlm, ntlmv2)", Known::Dword("BlockNTLM")),
    ];
    TITLES
        .iter()
        .find_map(|(t, k)| lower.find(t).map(|at| (*k, at.saturating_add(t.len()))))
}

/// The option text after a DWORD title, read as that setting.
pub(crate) fn option(name: &'static str, text: &str) -> Result<RestrictValue, String> {
    let parsed = match name {
        "RestrictSendingNTLMTraffic" => Outgoing::parse(text).map(RestrictValue::Outgoing),
        "RestrictReceivingNTLMTraffic" => Incoming::parse(text).map(RestrictValue::Incoming),
        "AuditReceivingNTLMTraffic" => AuditIncoming::parse(text).map(RestrictValue::AuditIncoming),
        "RestrictNTLMInDomain" => DomainScope::parse(text).map(RestrictValue::Domain),
        "AuditNTLMInDomain" => DomainScope::parse_audit(text).map(RestrictValue::AuditDomain),
        "BlockNtlmv1SSO" => Ntlmv1Sso::parse(text).map(RestrictValue::Ntlmv1Sso),
        _ => match parse::squash(text).as_str() {
            "enabled" | "1" => Some(RestrictValue::SmbBlockNtlm(true)),
            "disabled" | "0" => Some(RestrictValue::SmbBlockNtlm(false)),
            _ => None,
        },
    };
    parsed.ok_or_else(|| {
        format!(
            "{:?} is not an option of {name}{}",
            text.trim(),
            options(name)
        )
    })
}

fn options(name: &str) -> String {
    fn texts<T>(all: &[(u32, T, &str, &str)]) -> String {
        let v: Vec<String> = all
            .iter()
            .map(|(n, _, _, t)| format!("\"{t}\" ({n})"))
            .collect();
        format!(" (accepted: {})", v.join(", "))
    }
    match name {
        "RestrictSendingNTLMTraffic" => texts(Outgoing::ALL),
        "RestrictReceivingNTLMTraffic" => texts(Incoming::ALL),
        "AuditReceivingNTLMTraffic" => texts(AuditIncoming::ALL),
        "RestrictNTLMInDomain" => texts(DomainScope::ALL),
        "AuditNTLMInDomain" => " (accepted: \"Disable\" (0), \"Enable for domain accounts to \
            domain servers\" (1), \"Enable for domain accounts\" (3), \"Enable for domain \
            servers\" (5), \"Enable all\" (7))"
            .to_string(),
        "BlockNtlmv1SSO" => texts(Ntlmv1Sso::ALL),
        _ => " (accepted: Enabled, Disabled)".to_string(),
    }
}

/// Names in Group Policy text or a gpresult `Value:`: separated by `,`, `;` or blanks.
pub(crate) fn names_in_text(text: &str) -> Vec<String> {
    text.split([',', ';'])
        .flat_map(str::split_whitespace)
        .map(ToString::to_string)
        .collect()
}

/// A REG_MULTI_SZ line naming one of the lists: `None` when the line is not
/// one; else the list, the names and the form.
pub(crate) fn list_line(t: &str) -> Option<Result<ListLine, String>> {
    let t = t.trim();
    // .reg: "ClientAllowedNTLMServers"=hex(7):6e,00,...
    if let Some(rest) = t.strip_prefix('"') {
        let (name, after) = rest.split_once('"')?;
        let Some(Known::List(l)) = known(name) else {
            return None;
        };
        let data = after.trim().strip_prefix('=').map(str::trim).unwrap_or("");
        let Some(hex) = strip_prefix_ci(data, "hex(7):") else {
            return Some(Err(format!(
                "{name} is a REG_MULTI_SZ: a .reg file writes it as hex(7):..., not {data:?}"
            )));
        };
        if hex.trim_end().ends_with('\\') {
            return Some(Err(format!(
                "{name}: the hex(7) data continues on the next line (ending in '\\'); join its \
                 lines into one"
            )));
        }
        return Some(hex7(hex).map(|names| (l, names, LineForm::RegFile)));
    }
    let words: Vec<&str> = t.split_whitespace().collect();
    // reg add ... /v NAME /t REG_MULTI_SZ /d "a\0b"
    if words.iter().any(|w| w.eq_ignore_ascii_case("/d")) {
        let arg = |flag: &str| -> Option<&str> {
            let i = words.iter().position(|w| w.eq_ignore_ascii_case(flag))?;
            words.get(i.saturating_add(1)).copied()
        };
        let Some(Known::List(l)) = arg("/v").map(|n| n.trim_matches('"')).and_then(known) else {
            return None;
        };
        let data = arg("/d").unwrap_or("").trim_matches('"');
        return Some(Ok((l, split_nul(data), LineForm::RegAdd)));
    }
    // reg query: NAME    REG_MULTI_SZ    a\0b
    if let [name, ty, rest @ ..] = words.as_slice() {
        if ty.eq_ignore_ascii_case("REG_MULTI_SZ") {
            let Some(Known::List(l)) = known(name) else {
                return None;
            };
            return Some(Ok((l, split_nul(&rest.join(" ")), LineForm::RegQuery)));
        }
    }
    // secedit: MACHINE\...\ClientAllowedNTLMServers=7,a,b ; PowerShell: NAME : {a, b}
    let (left, right, form) = if let Some((l, r)) = t.split_once('=') {
        (l, r, LineForm::Secedit)
    } else {
        let (l, r) = t.split_once(':')?;
        (l, r, LineForm::PowerShell)
    };
    let name = left.trim().rsplit('\\').next().unwrap_or(left).trim();
    let Some(Known::List(l)) = known(name) else {
        return None;
    };
    let right = right.trim();
    let names = match form {
        LineForm::Secedit => {
            let Some(data) = right
                .strip_prefix("7,")
                .or_else(|| (right == "7").then_some(""))
            else {
                return Some(Err(format!(
                    "{name} is a REG_MULTI_SZ: a secedit line writes it as 7,name1,name2, not \
                     {right:?}"
                )));
            };
            data.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(ToString::to_string)
                .collect()
        }
        _ => names_in_text(right.trim_start_matches('{').trim_end_matches('}')),
    };
    Some(Ok((l, names, form)))
}

/// `a\0b\0c` as `reg query` prints a REG_MULTI_SZ.
fn split_nul(s: &str) -> Vec<String> {
    s.split("\\0")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(ToString::to_string)
        .collect()
}

/// `hex(7):` data: comma-separated bytes of UTF-16LE strings, each NUL-terminated.
fn hex7(data: &str) -> Result<Vec<String>, String> {
    let mut bytes = Vec::new();
    for (i, b) in data
        .split(',')
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .enumerate()
    {
        let v = u8::from_str_radix(b, 16).map_err(|_| {
            format!(
                "hex(7) byte {} ({b:?}) is not two hexadecimal digits",
                i.saturating_add(1)
            )
        })?;
        bytes.push(v);
    }
    if bytes.len() % 2 != 0 {
        return Err(format!(
            "hex(7) data has {} bytes, not a whole number of UTF-16 units",
            bytes.len()
        ));
    }
    let units = bytes.chunks_exact(2).map(|c| match c {
        [lo, hi] => u16::from_le_bytes([*lo, *hi]),
        _ => 0,
    });
    let text: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    Ok(text
        .split('\0')
        .filter(|s| !s.is_empty())
        .map(ToString::to_string)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex7_decodes_utf16_strings() {
        // "ab", "c" as regedit exports them.
        let names = hex7("61,00,62,00,00,00,63,00,00,00,00,00").unwrap_or_default();
        assert_eq!(names, ["ab", "c"]);
        assert!(hex7("61,00,6").is_err());
        assert!(hex7("zz,00").is_err());
    }

    #[test]
    fn every_list_form() {
        let cases = [
            r"ClientAllowedNTLMServers    REG_MULTI_SZ    nas01\0*.legacy.corp",
            r#"reg add HKLM\SYSTEM\CurrentControlSet\Control\Lsa\MSV1_0 /v ClientAllowedNTLMServers /t REG_MULTI_SZ /d "nas01\0*.legacy.corp" /f"#,
            r"MACHINE\System\CurrentControlSet\Control\Lsa\MSV1_0\ClientAllowedNTLMServers=7,nas01,*.legacy.corp",
            "ClientAllowedNTLMServers : {nas01, *.legacy.corp}",
            r#""ClientAllowedNTLMServers"=hex(7):6e,00,61,00,73,00,30,00,31,00,00,00,2a,00,2e,00,6c,00,65,00,67,00,61,00,63,00,79,00,2e,00,63,00,6f,00,72,00,70,00,00,00,00,00"#,
        ];
        for c in cases {
            let got = list_line(c).and_then(Result::ok).map(|(l, n, _)| (l, n));
            assert_eq!(
                got,
                Some((
                    ExceptionList::ClientAllowedNtlmServers,
                    vec!["nas01".to_string(), "*.legacy.corp".to_string()]
                )),
                "{c}"
            );
        }
        assert!(list_line("NtlmMinClientSec    REG_DWORD    0x20080000").is_none());
        assert!(list_line(r"MACHINE\X\DCAllowedNTLMServers=4,1").is_some_and(|r| r.is_err()));
    }

    #[test]
    fn titles_pick_the_longest_match() {
        let l = "network security: restrict ntlm: audit incoming ntlm traffic  enable auditing for all accounts";
        assert_eq!(
            title(l).map(|(k, _)| k),
            Some(Known::Dword("AuditReceivingNTLMTraffic"))
        );
        let l = "network security: restrict ntlm: ntlm authentication in this domain  deny all";
        assert_eq!(
            title(l).map(|(k, _)| k),
            Some(Known::Dword("RestrictNTLMInDomain"))
        );
        assert_eq!(
            option("AuditNTLMInDomain", "Enable for domain accounts"),
            Ok(RestrictValue::AuditDomain(DomainScope::DomainAccounts))
        );
        assert!(
            option("RestrictSendingNTLMTraffic", "Deny some")
                .is_err_and(|e| e.contains("\"Deny all\" (2)"))
        );
    }
}
