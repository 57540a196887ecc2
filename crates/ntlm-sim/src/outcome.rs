//! The `outcome` object of `--json` output (docs/CLI.md `handshake`),
//! shared by `handshake`, `policy check` and the matrix commands (the human
//! form is in ntlm-report).

use ntlm_policy::{Certainty, Failure, Semantics, bit_rules};
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
    /// NEGOTIATE_128 is negotiated but LM_KEY (or DATAGRAM) without ESS
    /// makes the sealing key 56 or 40 bits (MS-NLMP 3.4.5.3).
    pub weak_key_under_128: bool,
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
    /// Each missing bit with its own rule (absent when not computed, see
    /// [`OutcomeJson::failure_under`], or when no bit is missing).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_rules: Vec<MissingRuleJson>,
}

/// One missing minimum-security bit and the rule that requires it.
#[derive(Debug, Clone, Serialize)]
pub struct MissingRuleJson {
    /// The bit, `"0x%08x"`.
    pub bit: String,
    /// Its MS-NLMP name, e.g. `NEGOTIATE_128`.
    pub name: &'static str,
    /// The rule's id.
    pub rule_id: &'static str,
    /// The rule's source.
    pub rule: String,
    /// The rule in one line.
    pub rule_statement: &'static str,
    /// How well established the rule is.
    pub basis: String,
}

/// Whether a verdict holds under every documented reading of the semantics
/// switches (`ntlm_policy::certainty`), as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct CertaintyJson {
    /// The verdict under the chosen semantics: `"works"` or `"breaks"`
    /// (for an attack, its verdict: `"detected"`, `"not-detected"`, ...).
    pub verdict: &'static str,
    /// The same verdict under every documented reading.
    pub holds_under_every_reading: bool,
    /// Readings evaluated (every combination of switch values).
    pub readings: usize,
    /// Readings that reach the same verdict.
    pub agreeing: usize,
    /// Switches that change the verdict in some reading.
    pub depends_on: Vec<&'static str>,
    /// `SWITCH=VALUE` settings that, each changed alone, reverse the verdict.
    pub reversed_by: Vec<String>,
    /// `SWITCH=VALUE` settings under which alone the verdict holds, when they
    /// describe its readings exactly (else empty).
    pub only_under: Vec<String>,
    /// One line, as the human output shows it.
    pub summary: String,
}

impl CertaintyJson {
    /// From a certainty and whether the chosen semantics' verdict is "works".
    pub fn new(c: &Certainty, works: bool) -> Self {
        let (verdict, opposite) = verdict_words(works);
        Self::with_words(c, verdict, opposite)
    }

    /// From a certainty, the chosen semantics' verdict (`"detected"`) and
    /// the one the other readings reach (`"baseline-fails"`).
    pub fn with_words(c: &Certainty, verdict: &'static str, opposite: &'static str) -> Self {
        Self {
            verdict,
            holds_under_every_reading: c.holds_under_every_reading(),
            readings: c.readings,
            agreeing: c.agreeing,
            depends_on: c.depends_on.clone(),
            reversed_by: c.reversed_by.iter().map(ToString::to_string).collect(),
            only_under: c.only_under.iter().map(ToString::to_string).collect(),
            summary: c.summary(verdict, opposite).to_string(),
        }
    }
}

/// `("works", "breaks")` or the reverse.
pub const fn verdict_words(works: bool) -> (&'static str, &'static str) {
    if works {
        ("works", "breaks")
    } else {
        ("breaks", "works")
    }
}

/// Each missing bit of a minimum-security failure with its rule, under `semantics`.
pub fn missing_rules(f: &Failure, semantics: &Semantics) -> Vec<MissingRuleJson> {
    bit_rules(f, semantics)
        .map(|(bit, r)| MissingRuleJson {
            bit: hex32(bit.bits()),
            name: bit.names().next().unwrap_or(""),
            rule_id: r.id,
            rule: r.source.to_string(),
            rule_statement: r.statement,
            basis: r.basis.to_string(),
        })
        .collect()
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
            missing_rules: Vec::new(),
        }))
    }

    /// From a failure, with each missing bit's own rule under `semantics`
    /// (`missing_rules`).
    pub fn failure_under(f: &Failure, semantics: &Semantics) -> Self {
        let mut o = Self::failure(f);
        if let Self::Failure(j) = &mut o {
            j.missing_rules = missing_rules(f, semantics);
        }
        o
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
            weak_key_under_128: ntlm_policy::weak_key_under_128(r.flags),
        })
    }

    /// Whether this is a success.
    pub const fn is_success(&self) -> bool {
        matches!(self, Self::Success(_))
    }
}
