//! The `outcome` object of `--json` output (docs/CLI.md `handshake`),
//! shared by `handshake`, `policy check` and the matrix commands, and its
//! one-paragraph human form.

use std::fmt::Write as _;

use ntlm_policy::Failure;
use ntlm_session::SessionReport;
use ntlm_wire::NegotiateFlags;
use serde::Serialize;

/// `"0x%08x"`.
pub fn hex32(v: u32) -> String {
    format!("{v:#010x}")
}

/// MS-NLMP names of the set bits, without prefix.
pub fn names(f: NegotiateFlags) -> Vec<&'static str> {
    f.names().collect()
}

/// A successful exchange.
#[derive(Debug, Clone, Serialize)]
pub struct SuccessJson {
    /// Always `"success"`.
    pub result: &'static str,
    /// The negotiated flags.
    pub negotiated_flags: String,
    /// Their names.
    pub negotiated_flags_names: Vec<&'static str>,
    /// `NTLMv2`, `NTLM2_SESSION`, ...
    pub response_kind: &'static str,
    /// 40, 56 or 128.
    pub key_strength_bits: u16,
    /// SIGN negotiated.
    pub signing: bool,
    /// SEAL negotiated.
    pub sealing: bool,
    /// A MIC was verified.
    pub mic: bool,
    /// The ExportedSessionKey, hex (absent when not known, as in `policy check`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exported_session_key: Option<String>,
    /// An anonymous session has no security whatever SIGN/SEAL say.
    pub anonymous: bool,
}

/// A failed exchange.
#[derive(Debug, Clone, Serialize)]
pub struct FailureJson {
    /// Always `"failure"`.
    pub result: &'static str,
    /// `client` or `server`.
    pub side: &'static str,
    /// The message whose receipt failed.
    pub stage: &'static str,
    /// Status name.
    pub status: &'static str,
    /// Status code, `"0x%08x"`.
    pub status_code: String,
    /// The requirement that side enforced.
    pub required: String,
    /// Its names.
    pub required_names: Vec<&'static str>,
    /// The flags evaluated.
    pub negotiated: String,
    /// Their names.
    pub negotiated_names: Vec<&'static str>,
    /// Required bits not negotiated.
    pub missing: String,
    /// Their names.
    pub missing_names: Vec<&'static str>,
    /// Flags present that the CHALLENGE did not return (AUTHENTICATE checks).
    pub unexpected: String,
    /// One line.
    pub reason: String,
    /// The rule's source, e.g. `MS-NLMP 3.1.5.1.2`.
    pub rule: String,
    /// The rule's id.
    pub rule_id: &'static str,
    /// The rule in one line.
    pub rule_statement: &'static str,
    /// How well established the rule is.
    pub basis: String,
}

/// The `outcome` object.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum OutcomeJson {
    /// Success.
    Success(SuccessJson),
    /// Failure.
    Failure(Box<FailureJson>),
}

impl OutcomeJson {
    /// From a failure.
    pub fn failure(f: &Failure) -> Self {
        Self::Failure(Box::new(FailureJson {
            result: "failure",
            side: f.side.name(),
            stage: f.stage.name(),
            status: f.status.name(),
            status_code: hex32(f.status.code()),
            required: hex32(f.required.bits()),
            required_names: names(f.required),
            negotiated: hex32(f.negotiated.bits()),
            negotiated_names: names(f.negotiated),
            missing: hex32(f.missing.bits()),
            missing_names: names(f.missing),
            unexpected: hex32(f.unexpected.bits()),
            reason: f.reason().to_string(),
            rule: f.rule.source.to_string(),
            rule_id: f.rule.id,
            rule_statement: f.rule.statement,
            basis: f.rule.basis.to_string(),
        }))
    }

    /// From a session report (and the key, when it may be shown).
    pub fn success(r: &SessionReport, exported_session_key: Option<&[u8; 16]>) -> Self {
        Self::Success(SuccessJson {
            result: "success",
            negotiated_flags: hex32(r.flags.bits()),
            negotiated_flags_names: names(r.flags),
            response_kind: r.response_kind.as_str(),
            key_strength_bits: r.key_strength_bits(),
            signing: r.signing(),
            sealing: r.sealing(),
            mic: r.mic,
            exported_session_key: exported_session_key.map(hex::encode),
            anonymous: r.anonymous(),
        })
    }

    /// Whether this is a success.
    pub const fn is_success(&self) -> bool {
        matches!(self, Self::Success(_))
    }
}

/// The human verdict: a few lines.
pub fn render_failure(f: &Failure) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "FAILURE: the {} refused on receipt of {} with {} ({:#010x})",
        f.side,
        f.stage.message(),
        f.status.name(),
        f.status.code()
    );
    let _ = writeln!(s, "  reason:     {}", f.reason());
    if !f.missing.is_empty() {
        let _ = writeln!(
            s,
            "  missing:    {:#010x} {}",
            f.missing.bits(),
            names(f.missing).join(" | ")
        );
        let _ = writeln!(s, "  required:   {:#010x}", f.required.bits());
        let _ = writeln!(s, "  negotiated: {:#010x}", f.negotiated.bits());
    }
    if !f.unexpected.is_empty() {
        let _ = writeln!(
            s,
            "  unexpected: {:#010x} {}",
            f.unexpected.bits(),
            names(f.unexpected).join(" | ")
        );
    }
    let _ = writeln!(s, "  rule:       {} ({})", f.rule.id, f.rule.statement);
    let _ = writeln!(s, "  source:     {} [{}]", f.rule.source, f.rule.basis);
    s
}

/// The human verdict of a success.
pub fn render_success(r: &SessionReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "SUCCESS: the server authenticated {} with {}",
        crate::sink::terminal(&format!("{}\\{}", r.domain, r.user)),
        r.response_kind
    );
    let _ = writeln!(
        s,
        "  negotiated: {:#010x} {}",
        r.flags.bits(),
        names(r.flags).join(" | ")
    );
    let _ = writeln!(
        s,
        "  security:   signing {}, sealing {}, {}-bit keys, MIC {}",
        yes_no(r.signing()),
        yes_no(r.sealing()),
        r.key_strength_bits(),
        if r.mic { "verified" } else { "not sent" }
    );
    if r.anonymous() {
        let _ = writeln!(
            s,
            "  warning:    anonymous session: no session security whatever SIGN/SEAL say (MS-NLMP 3.4)"
        );
    }
    s
}

const fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

#[cfg(test)]
mod tests {
    use ntlm_session::SessionReport;
    use ntlm_wire::{NegotiateFlags, ResponseKind};

    use super::*;

    /// The verdict text of `handshake`, `probe`, `attack` and `demo`: the
    /// authenticated name is escaped, so the verdict stays on its lines.
    #[test]
    fn success_escapes_the_authenticated_name() {
        for name in ntlm_testsupport::hostile_names() {
            let r = SessionReport {
                flags: NegotiateFlags::NEGOTIATE_UNICODE | NegotiateFlags::NEGOTIATE_NTLM,
                response_kind: ResponseKind::NtlmV2,
                mic: false,
                guest: false,
                user: name.clone(),
                domain: name.clone(),
                workstation: name.clone(),
            };
            let text = render_success(&r);
            assert_eq!(text.lines().count(), 3, "{text}");
            assert!(text.lines().all(crate::sink::line_safe), "{text}");
            let first = text.lines().next().unwrap_or_default();
            assert!(
                first.contains(&*crate::sink::terminal(&format!("{name}\\{name}"))),
                "{first}"
            );
        }
    }
}
