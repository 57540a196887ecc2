//! The human verdict of one exchange: a few lines for `handshake`, `probe`,
//! `attack`, `policy` and `demo`.

use std::fmt::Write as _;

use ntlm_policy::Certainty;
use ntlm_session::SessionReport;
use ntlm_sim::outcome::{names, verdict_words};

/// The human line for a certainty: `  certainty:  breaks under every documented reading (...)`.
pub fn render_certainty(c: &Certainty, works: bool) -> String {
    let (verdict, opposite) = verdict_words(works);
    format!("  certainty:  {}\n", c.summary(verdict, opposite))
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
        if r.mic {
            "verified"
        } else {
            "not checked (none announced)"
        }
    );
    if r.anonymous() {
        let _ = writeln!(
            s,
            "  warning:    anonymous session: no session security whatever SIGN/SEAL say (MS-NLMP 3.4)"
        );
    }
    if ntlm_policy::weak_key_under_128(r.flags) {
        let _ = writeln!(
            s,
            "  warning:    NEGOTIATE_128 is negotiated, but with LM_KEY and no ESS the sealing key is {} bits (MS-NLMP 3.4.5.3)",
            r.key_strength_bits()
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
