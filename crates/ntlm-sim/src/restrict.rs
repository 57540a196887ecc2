//! Restrict NTLM settings for the simulations: read from what administrators
//! paste (any form `policy explain` reads), and the events of an exchange as
//! JSON and text.

use ntlm_policy::paste::{ExceptionList, RestrictValue, Setting};
use ntlm_policy::restrict::Restrictions;
use ntlm_session::Logged;
use serde::Serialize;

/// A pasted Restrict NTLM setting that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestrictError {
    /// NtlmMinClientSec/NtlmMinServerSec, which its own options set.
    #[error("NtlmMinClientSec/NtlmMinServerSec is set with --client-min/--server-min, not here")]
    MinSessionSecurity,
    /// LmCompatibilityLevel, which its own options set.
    #[error("LmCompatibilityLevel is set with --client-lm-level/--server-lm-level, not here")]
    LmCompatibilityLevel,
    /// A server's channel-binding or target-name setting, set with `--binding`.
    #[error(
        "{name} is a server's channel-binding or target-name setting, set with --binding, not here"
    )]
    Binding {
        /// The setting's name.
        name: &'static str,
    },
    /// A paste that could not be read.
    #[error(transparent)]
    Unreadable(#[from] ntlm_policy::ParseError),
    /// A setting of a paste that cannot be used, at its 1-based line.
    #[error("line {line}: {error}")]
    AtLine {
        /// The line of the paste.
        line: usize,
        /// What is wrong with the setting.
        error: Box<Self>,
    },
}

/// Applies one pasted setting to `r`. Settings other than Restrict NTLM,
/// Block NTLM, BlockNtlmv1SSO and their exception lists are refused, naming
/// the option that sets them.
pub fn apply(r: &mut Restrictions, setting: &Setting) -> Result<(), RestrictError> {
    match setting {
        Setting::Restrict { value, .. } => {
            match *value {
                RestrictValue::Outgoing(v) => r.outgoing = v,
                RestrictValue::Incoming(v) => r.incoming = v,
                RestrictValue::AuditIncoming(v) => r.audit_incoming = v,
                RestrictValue::Domain(v) => r.domain = v,
                RestrictValue::AuditDomain(v) => r.audit_domain = v,
                RestrictValue::Ntlmv1Sso(v) => r.ntlmv1_sso = Some(v),
                RestrictValue::SmbBlockNtlm(b) => r.smb_block_ntlm = b,
            }
            Ok(())
        }
        Setting::Exceptions { list, names, .. } => {
            let target = match list {
                ExceptionList::ClientAllowedNtlmServers => &mut r.outgoing_exceptions,
                ExceptionList::DcAllowedNtlmServers => &mut r.domain_exceptions,
                ExceptionList::SmbServerExceptions => &mut r.smb_exceptions,
            };
            target.clone_from(names);
            Ok(())
        }
        Setting::MinSessionSecurity(_) => Err(RestrictError::MinSessionSecurity),
        Setting::LmCompatibilityLevel { .. } => Err(RestrictError::LmCompatibilityLevel),
        Setting::Binding(b) => Err(RestrictError::Binding { name: b.name() }),
    }
}

/// Reads every setting of every paste into one [`Restrictions`] (later values win).
pub fn from_pastes(pastes: &[String]) -> Result<Restrictions, RestrictError> {
    let mut r = Restrictions::default();
    for p in pastes {
        let read = ntlm_policy::read_settings(p)?;
        for s in &read.settings {
            apply(&mut r, &s.setting).map_err(|e| RestrictError::AtLine {
                line: s.line,
                error: Box::new(e),
            })?;
        }
    }
    Ok(r)
}

/// Applies a restriction path to a verdict the policy engines reached
/// without it (the matrix's full and flags-only engines), in the order of
/// `ntlm_session::Pair::run_restricted`: the client's outgoing settings
/// (when `client_reads`), then the server's incoming settings and its DC's
/// (when `server_reads`), for a domain account (the matrix's user). A block
/// replaces a success or the server's own verdict on the AUTHENTICATE;
/// audit settings change nothing. Peers that do not read Windows policy
/// (`client_reads`/`server_reads` false: the non-Windows profiles) are not
/// restricted.
pub fn apply_to_verdict(
    verdict: crate::matrix::Verdict,
    path: &ntlm_session::RestrictPath,
    client_reads: bool,
    server_reads: bool,
    server_name: &str,
    server_domain_joined: bool,
) -> crate::matrix::Verdict {
    let target = path.target.as_deref().unwrap_or(server_name);
    apply_block(
        verdict,
        block(
            (&path.client, &path.server, &path.dc),
            (target, path.transport),
            (client_reads, server_reads),
            server_name,
            server_domain_joined,
        ),
    )
}

/// What Restrict NTLM blocks in an exchange, whatever the policy engines
/// decided without it: the client's outgoing NTLM, or the logon on the
/// server or its DC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Block {
    /// The client refuses to send NTLM to the server.
    Outgoing(ntlm_policy::Failure),
    /// The server or its DC refuses the logon.
    Incoming(ntlm_policy::Failure),
}

/// What the client's, the server's and the DC's settings block for a
/// domain account (see [`apply_to_verdict`]), the client naming the server
/// `target` over `transport`.
pub fn block(
    (client, server, dc): (&Restrictions, &Restrictions, &Restrictions),
    (target, transport): (&str, ntlm_policy::restrict::Transport),
    (client_reads, server_reads): (bool, bool),
    server_name: &str,
    server_domain_joined: bool,
) -> Option<Block> {
    use ntlm_policy::restrict::{Account, Verdict as V};
    if client_reads {
        if let V::Blocked(f, _) = client.client_outgoing(target, transport) {
            return Some(Block::Outgoing(f));
        }
    }
    if !server_reads {
        return None;
    }
    let account = if server_domain_joined {
        Account::Domain
    } else {
        Account::Local
    };
    if let V::Blocked(f, _) = server.server_incoming(account) {
        return Some(Block::Incoming(f));
    }
    if let V::Blocked(f, _) = dc.dc_in_domain(account, server_name, server_domain_joined) {
        return Some(Block::Incoming(f));
    }
    None
}

/// `verdict` under `block`: an outgoing block replaces it; an incoming one
/// replaces a success or the server's own verdict on the AUTHENTICATE, an
/// earlier failure stands. A verdict with a block breaks under every reading
/// of the semantics switches.
pub fn apply_block<T>(
    verdict: Result<T, ntlm_policy::Failure>,
    block: Option<Block>,
) -> Result<T, ntlm_policy::Failure> {
    use ntlm_policy::{Side, Stage};
    match (block, verdict) {
        (None, v) => v,
        (Some(Block::Outgoing(f)), _) => Err(f),
        (Some(Block::Incoming(f)), Ok(_)) => Err(f),
        (Some(Block::Incoming(f)), Err(e)) => {
            if e.side == Side::Server && e.stage == Stage::Authenticate {
                Err(f)
            } else {
                Err(e)
            }
        }
    }
}

/// One line per Restrict NTLM setting of `path` (for reports: the change, the audit policy).
pub fn describe(path: &ntlm_session::RestrictPath) -> Vec<String> {
    use ntlm_policy::restrict::{AuditIncoming, DomainScope, Incoming, Outgoing};
    let mut l = Vec::new();
    let (c, s, d) = (&path.client, &path.server, &path.dc);
    if c.outgoing != Outgoing::AllowAll {
        l.push(format!(
            "Restrict NTLM: Outgoing NTLM traffic -> {} on clients",
            c.outgoing.option_text()
        ));
    }
    if !c.outgoing_exceptions.is_empty() {
        l.push(format!(
            "remote server exceptions: {}",
            c.outgoing_exceptions.join(", ")
        ));
    }
    if c.smb_block_ntlm {
        l.push("SMB client Block NTLM on clients (SMB only; not modelled here)".to_owned());
    }
    if s.incoming != Incoming::AllowAll {
        l.push(format!(
            "Restrict NTLM: Incoming NTLM traffic -> {} on servers",
            s.incoming.option_text()
        ));
    }
    if s.audit_incoming != AuditIncoming::Disabled {
        l.push(format!(
            "Audit Incoming NTLM Traffic -> {} on servers (logs only)",
            s.audit_incoming.option_text()
        ));
    }
    if d.domain != DomainScope::Disabled {
        l.push(format!(
            "Restrict NTLM: NTLM authentication in this domain -> {} on the DC",
            d.domain.option_text()
        ));
    }
    if d.audit_domain != DomainScope::Disabled {
        l.push(format!(
            "Audit NTLM authentication in this domain -> {} on the DC (logs only)",
            d.audit_domain.audit_option_text()
        ));
    }
    if !d.domain_exceptions.is_empty() {
        l.push(format!(
            "server exceptions in this domain: {}",
            d.domain_exceptions.join(", ")
        ));
    }
    l
}

/// One event of an exchange, as JSON.
#[derive(Debug, Serialize)]
pub struct EventJson {
    /// Event ID.
    pub id: u16,
    /// The log it is written to.
    pub log: &'static str,
    /// Its title.
    pub title: &'static str,
    /// `client`, `server` or `dc`.
    pub host: &'static str,
    /// `blocked` or `logged` (audit: would be logged, nothing breaks).
    pub effect: &'static str,
    /// The rule that wrote it.
    pub rule: &'static str,
}

/// The events as JSON.
pub fn events_json(events: &[Logged]) -> Vec<EventJson> {
    events
        .iter()
        .map(|l| EventJson {
            id: l.event.id,
            log: l.event.log,
            title: l.event.title,
            host: l.event.host,
            effect: if l.blocked { "blocked" } else { "logged" },
            rule: l.rule.id,
        })
        .collect()
}

/// The events as text lines (`  event 8001 on the client (would be logged, nothing breaks): ...`).
pub fn render_events(events: &[Logged]) -> String {
    let mut s = String::new();
    for l in events {
        let effect = if l.blocked {
            "blocked"
        } else {
            "would be logged, nothing breaks"
        };
        s.push_str(&format!(
            "  event {} on the {} ({effect}): {} [{}; rule {}]\n",
            l.event.id, l.event.host, l.event.title, l.event.log, l.rule.id
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use ntlm_policy::restrict::{DomainScope, Outgoing};

    #[test]
    fn pastes_accumulate_and_foreign_settings_are_refused() {
        let r = from_pastes(&[
            "RestrictSendingNTLMTraffic    REG_DWORD    0x2".to_owned(),
            "Network security: Restrict NTLM: Add remote server exceptions for NTLM authentication  nas01".to_owned(),
            "Network security: Restrict NTLM: NTLM authentication in this domain  Deny all".to_owned(),
        ]);
        let r = r.unwrap_or_default();
        assert_eq!(r.outgoing, Outgoing::DenyAll);
        assert_eq!(r.outgoing_exceptions, ["nas01"]);
        assert_eq!(r.domain, DomainScope::All);
        let e = from_pastes(&["NtlmMinClientSec    REG_DWORD    0x20080000".to_owned()]);
        assert!(e.is_err_and(|e| e.to_string().contains("--client-min")));
    }
}
