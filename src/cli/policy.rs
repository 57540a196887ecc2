//! `ntlmsim policy explain|check|semantics|rules` (docs/CLI.md).

use std::fmt::Write as _;

use clap::{Args, Subcommand};
use ntlm_policy::{MinSessionSecurity, Semantics, check_negotiated, mask_warnings, warnings};
use ntlmsim::outcome::{self, OutcomeJson, hex32};
use ntlmsim::parse;
use serde::Serialize;

use super::{CliError, Status};

/// Explain minimum-session-security values and check negotiated flags against them.
#[derive(Debug, Args)]
pub(crate) struct PolicyArgs {
    #[command(subcommand)]
    command: PolicyCommand,
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Explain NtlmMinClientSec/NtlmMinServerSec values in any form an administrator has
    #[command(after_help = "\
MASK forms: 0x20080000, 537395200, dword:20080000, a .reg line (\"NtlmMinClientSec\"=dword:20080000),
a `reg query` output line, a secedit/GptTmpl.inf line
(MACHINE\\System\\CurrentControlSet\\Control\\Lsa\\MSV1_0\\NTLMMinClientSec=4,537395200),
Group Policy option names (\"Require 128-bit encryption\"), or the tokens none,
require_message_integrity, require_message_confidentiality, require_NTLMv2_session_security,
require_128bit_encryption, all_above; combine names with | , or +.")]
    Explain(ExplainArgs),
    /// Check already negotiated flags (from an event log or a capture) against minimums
    #[command(
        after_help = "Exit codes: 0 the flags satisfy both minimums; 1 they do not; 2 bad input."
    )]
    Check(CheckArgs),
    /// List the policy semantics presets (--semantics NAME)
    Semantics,
    /// List every rule with its source
    Rules,
}

#[derive(Debug, Args)]
struct ExplainArgs {
    /// Print one JSON document (an object, or an array for several values)
    #[arg(long)]
    json: bool,
    /// Values to explain
    #[arg(value_name = "MASK", required = true)]
    masks: Vec<String>,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// The negotiated flags (hex, decimal or flag names)
    #[arg(long, value_name = "FLAGS")]
    negotiated: String,
    /// NtlmMinClientSec
    #[arg(long, value_name = "MASK", default_value = "0")]
    client_min: String,
    /// NtlmMinServerSec
    #[arg(long, value_name = "MASK", default_value = "0")]
    server_min: String,
    /// Policy semantics (see `ntlmsim policy semantics`)
    #[arg(long, value_name = "NAME", default_value = "ms-nlmp")]
    semantics: String,
    /// Print one JSON document
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct MeaningJson {
    bit: String,
    flag: &'static str,
    token: &'static str,
    label: &'static str,
    offered_by: &'static str,
    meaning: &'static str,
    source: String,
}

#[derive(Serialize)]
struct WarningJson {
    id: &'static str,
    severity: &'static str,
    message: String,
    source: String,
}

#[derive(Serialize)]
struct ExplainJson {
    input: String,
    form: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    registry_value: Option<&'static str>,
    value: String,
    value_decimal: u32,
    value_names: Vec<&'static str>,
    unknown_bits: String,
    meaning: Vec<MeaningJson>,
    warnings: Vec<WarningJson>,
}

fn warning_json(w: &ntlm_policy::Warning) -> WarningJson {
    WarningJson {
        id: w.id(),
        severity: w.severity.name(),
        message: w.message().to_string(),
        source: w.source().to_string(),
    }
}

pub(crate) fn run(args: &PolicyArgs, out: &mut Vec<u8>) -> Result<Status, CliError> {
    match &args.command {
        PolicyCommand::Explain(a) => explain(a, out),
        PolicyCommand::Check(a) => check(a, out),
        PolicyCommand::Semantics => {
            for (name, description) in Semantics::list() {
                let _ = writeln!(Text(out), "{name:<20} {description}");
            }
            Ok(Status::Success)
        }
        PolicyCommand::Rules => {
            for r in ntlm_policy::rules::ALL {
                let status = r.status.map_or("-", ntlm_policy::Status::name);
                let _ = writeln!(
                    Text(out),
                    "{:<28} {:<28} {} [{}]\n{:<28} {}",
                    r.id,
                    status,
                    r.source,
                    r.basis,
                    "",
                    r.statement
                );
            }
            Ok(Status::Success)
        }
    }
}

/// `write!` into the output buffer.
struct Text<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Text<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

fn explain(a: &ExplainArgs, out: &mut Vec<u8>) -> Result<Status, CliError> {
    let mut docs = Vec::with_capacity(a.masks.len());
    for m in &a.masks {
        let p = MinSessionSecurity::parse(m).map_err(|e| CliError::new(e.to_string()))?;
        let side = p.value.map(|v| v.side());
        let mask = p.mask;
        docs.push(ExplainJson {
            input: m.clone(),
            form: format!("{:?}", p.form),
            registry_value: p.value.map(|v| v.name()),
            value: hex32(mask.bits()),
            value_decimal: mask.bits(),
            value_names: mask.names().collect(),
            unknown_bits: hex32(mask.unknown_bits()),
            meaning: mask
                .meaning()
                .map(|b| MeaningJson {
                    bit: hex32(b.bit),
                    flag: b.flag.names().next().unwrap_or(""),
                    token: b.token,
                    label: b.label,
                    offered_by: b.offered_by,
                    meaning: b.meaning,
                    source: b.source.to_string(),
                })
                .collect(),
            warnings: mask_warnings(mask, side).iter().map(warning_json).collect(),
        });
    }
    if a.json {
        let r = if let [one] = docs.as_slice() {
            serde_json::to_writer_pretty(&mut *out, one)
        } else {
            serde_json::to_writer_pretty(&mut *out, &docs)
        };
        r.map_err(|e| CliError::new(format!("JSON: {e}")))?;
        out.push(b'\n');
        return Ok(Status::Success);
    }
    let mut t = Text(out);
    for d in &docs {
        let _ = writeln!(t, "{}", ntlmsim::sink::terminal(&d.input));
        let _ = writeln!(
            t,
            "  value: {} ({}){}",
            d.value,
            d.value_decimal,
            d.registry_value.map_or(String::new(), |v| format!(", {v}"))
        );
        if d.meaning.is_empty() {
            let _ = writeln!(t, "  no requirement: any negotiated flags are accepted");
        }
        for m in &d.meaning {
            let _ = writeln!(t, "  {} {} ({}; {})", m.bit, m.label, m.token, m.offered_by);
            let _ = writeln!(t, "      {}", m.meaning);
            let _ = writeln!(t, "      source: {}", m.source);
        }
        for w in &d.warnings {
            let _ = writeln!(t, "  {}: {} [{}]", w.severity, w.message, w.source);
        }
    }
    Ok(Status::Success)
}

#[derive(Serialize)]
struct CheckJson {
    negotiated: String,
    negotiated_names: Vec<&'static str>,
    client_min: String,
    server_min: String,
    semantics: &'static str,
    outcome: OutcomeJson,
    warnings: Vec<WarningJson>,
}

fn check(a: &CheckArgs, out: &mut Vec<u8>) -> Result<Status, CliError> {
    let negotiated =
        parse::flags(&a.negotiated).map_err(|e| CliError::new(format!("--negotiated: {e}")))?;
    let mask = |s: &str, what: &str| {
        MinSessionSecurity::parse(s)
            .map(|p| p.mask)
            .map_err(|e| CliError::new(format!("{what}: {e}")))
    };
    let client_min = mask(&a.client_min, "--client-min")?;
    let server_min = mask(&a.server_min, "--server-min")?;
    let semantics: Semantics = a
        .semantics
        .parse()
        .map_err(|e| CliError::new(format!("--semantics: {e}")))?;
    let result = check_negotiated(negotiated, client_min, server_min, &semantics);
    let outcome = match &result {
        Ok(()) => OutcomeJson::Success(outcome::SuccessJson {
            result: "success",
            negotiated_flags: hex32(negotiated.bits()),
            negotiated_flags_names: outcome::names(negotiated),
            response_kind: "UNKNOWN",
            key_strength_bits: ntlm_policy::key_strength_bits(negotiated),
            signing: negotiated.contains(ntlm_wire::NegotiateFlags::NEGOTIATE_SIGN),
            sealing: negotiated.contains(ntlm_wire::NegotiateFlags::NEGOTIATE_SEAL),
            mic: false,
            exported_session_key: None,
            anonymous: false,
        }),
        Err(f) => OutcomeJson::failure(f),
    };
    let ws: Vec<WarningJson> = warnings(client_min, server_min, None, None)
        .iter()
        .map(warning_json)
        .collect();
    if a.json {
        let doc = CheckJson {
            negotiated: hex32(negotiated.bits()),
            negotiated_names: outcome::names(negotiated),
            client_min: hex32(client_min.bits()),
            server_min: hex32(server_min.bits()),
            semantics: semantics.name(),
            outcome,
            warnings: ws,
        };
        serde_json::to_writer_pretty(&mut *out, &doc)
            .map_err(|e| CliError::new(format!("JSON: {e}")))?;
        out.push(b'\n');
    } else {
        let mut t = Text(out);
        let _ = writeln!(
            t,
            "negotiated {} against NtlmMinClientSec {} and NtlmMinServerSec {} (semantics {})",
            hex32(negotiated.bits()),
            hex32(client_min.bits()),
            hex32(server_min.bits()),
            semantics.name()
        );
        match &result {
            Ok(()) => {
                let _ = writeln!(t, "OK: both minimums are satisfied");
            }
            Err(f) => {
                let _ = write!(t, "{}", outcome::render_failure(f));
            }
        }
        for w in &ws {
            let _ = writeln!(t, "  {}: {} [{}]", w.severity, w.message, w.source);
        }
    }
    Ok(if result.is_ok() {
        Status::Success
    } else {
        Status::Negative
    })
}
