//! `ntlmsim policy explain|check|semantics|rules` (docs/CLI.md).

use std::fmt::Write as _;

use clap::{Args, Subcommand};
use ntlm_policy::{MinSessionSecurity, Semantics, check_negotiated, mask_warnings, warnings};
use ntlm_sim::outcome::{self, CertaintyJson, OutcomeJson, hex32};
use ntlm_sim::parse;
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
    /// Explain NtlmMinClientSec/NtlmMinServerSec, LmCompatibilityLevel and Restrict NTLM values in
    /// any form an administrator has
    #[command(after_help = "\
MASK forms: 0x20080000, 537395200, dword:20080000, a .reg line (\"NtlmMinClientSec\"=dword:20080000 or
dword:0x20080000), `reg query` output (the value line, or several lines with the key line), a .reg
file, a secedit/GptTmpl.inf line
(MACHINE\\System\\CurrentControlSet\\Control\\Lsa\\MSV1_0\\NTLMMinClientSec=4,537395200), gpresult /z
KeyName:/Value: lines, Group Policy text as gpresult, RSOP or secpol show it (\"Network security:
Minimum session security for NTLM SSP based (including secure RPC) servers  Require NTLMv2 session
security, Require 128-bit encryption\"), Group Policy option names (\"Require 128-bit encryption\"),
or the tokens none, require_message_integrity, require_message_confidentiality,
require_NTLMv2_session_security, require_128bit_encryption, all_above; combine names with | , or +.
LmCompatibilityLevel: any of the registry forms above naming it, or the policy text (\"Network
security: LAN Manager authentication level  Send NTLMv2 response only. Refuse LM & NTLM\").
Restrict NTLM and its successors: RestrictSendingNTLMTraffic, RestrictReceivingNTLMTraffic,
AuditReceivingNTLMTraffic, RestrictNTLMInDomain, AuditNTLMInDomain, BlockNtlmv1SSO and the SMB
client's BlockNTLM in any registry form above, their Group Policy text (\"Network security: Restrict
NTLM: Incoming NTLM traffic  Deny all accounts\", \"Block NTLM (LM, NTLM, NTLMv2)  Enabled\"), and
the exception lists ClientAllowedNTLMServers, DCAllowedNTLMServers, BlockNTLMServerExceptionList as
reg query REG_MULTI_SZ (a\\0b), reg add, .reg hex(7):, secedit 7,a,b, PowerShell {a, b} or policy
text (a, b); each says which host applies it, whether it breaks logons or only logs, and its events.
Channel binding and target names: LdapEnforceChannelBinding (0-2), LDAPServerIntegrity (1-2) and
SmbServerNameHardeningLevel (0-2) in any of the registry forms above or as their policy text
(\"Domain controller: LDAP server channel binding token requirements  Always\"), and IIS Extended
Protection (<extendedProtection tokenChecking=\"Require\" />, \"Extended Protection: Required\").
A multi-line value explains every setting in it; errors name the line and column.")]
    Explain(ExplainArgs),
    /// Check already negotiated flags (from an event log or a capture) against minimums
    #[command(
        after_help = "Exit codes: 0 the flags satisfy both minimums; 1 they do not; 2 bad input."
    )]
    Check(CheckArgs),
    /// List the policy semantics presets and switches (--semantics NAME, SWITCH=VALUE or both)
    Semantics(ListArgs),
    /// List every rule with its source
    Rules(ListArgs),
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Print one JSON document
    #[arg(long)]
    json: bool,
}

/// `policy semantics --json`.
#[derive(Serialize)]
struct SemanticsListJson {
    presets: Vec<PresetJson>,
    switches: Vec<SwitchJson>,
}

#[derive(Serialize)]
struct PresetJson {
    name: &'static str,
    description: &'static str,
}

#[derive(Serialize)]
struct SwitchJson {
    name: &'static str,
    description: &'static str,
    values: &'static [&'static str],
    /// The value in the default semantics (`ms-nlmp`).
    default: &'static str,
}

/// One rule of `policy rules --json`.
#[derive(Serialize)]
struct RuleListJson {
    id: &'static str,
    statement: &'static str,
    source: String,
    also: Vec<String>,
    /// The status a failure of this rule produces, or null.
    status: Option<&'static str>,
    status_code: Option<String>,
    basis: String,
}

fn write_json(out: &mut Vec<u8>, doc: &impl Serialize) -> Result<Status, CliError> {
    serde_json::to_writer_pretty(&mut *out, doc)
        .map_err(|e| CliError::new(format!("cannot encode JSON: {e}")))?;
    out.push(b'\n');
    Ok(Status::Success)
}

#[derive(Debug, Args)]
struct ExplainArgs {
    /// Print one JSON document (an object, or an array for several values)
    #[arg(long)]
    json: bool,
    /// Values to explain (one argument may hold several pasted lines)
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
    client_min: MinSessionSecurity,
    /// NtlmMinServerSec
    #[arg(long, value_name = "MASK", default_value = "0")]
    server_min: MinSessionSecurity,
    /// Policy semantics: a preset, SWITCH=VALUE items, or a preset then overrides, comma-separated
    /// (see `ntlmsim policy semantics`)
    #[arg(long, value_name = "SPEC", default_value = "calibrated")]
    semantics: Semantics,
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
    /// `min_session_security` (or `lm_compatibility_level` in [`LmExplainJson`]).
    kind: &'static str,
    /// The 1-based line of the input the value is on.
    line: usize,
    form: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    registry_value: Option<&'static str>,
    /// The registry key the input put the value under.
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    /// The key is not where Windows reads the value.
    misplaced: bool,
    value: String,
    value_decimal: u32,
    /// MS-NLMP flag names of every set bit, as for every flags value.
    value_names: Vec<&'static str>,
    /// The policy tokens of the documented bits (`require_128bit_encryption`, ...).
    value_tokens: Vec<&'static str>,
    unknown_bits: String,
    meaning: Vec<MeaningJson>,
    warnings: Vec<WarningJson>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ignored_values: Vec<IgnoredJson>,
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
        PolicyCommand::Semantics(ListArgs { json: true }) => {
            let default = Semantics::default();
            let doc = SemanticsListJson {
                presets: Semantics::list()
                    .map(|(name, description)| PresetJson { name, description })
                    .collect(),
                switches: Semantics::SWITCHES
                    .iter()
                    .map(|sw| SwitchJson {
                        name: sw.name,
                        description: sw.description,
                        values: sw.values,
                        default: sw.value_in(&default),
                    })
                    .collect(),
            };
            write_json(out, &doc)
        }
        PolicyCommand::Rules(ListArgs { json: true }) => {
            let doc: Vec<RuleListJson> = ntlm_policy::rules::ALL
                .iter()
                .map(|r| RuleListJson {
                    id: r.id,
                    statement: r.statement,
                    source: r.source.to_string(),
                    also: r.also.iter().map(ToString::to_string).collect(),
                    status: r.status.map(ntlm_policy::Status::name),
                    status_code: r.status.map(|st| hex32(st.code())),
                    basis: r.basis.to_string(),
                })
                .collect();
            write_json(out, &doc)
        }
        PolicyCommand::Semantics(ListArgs { json: false }) => {
            let mut t = Text(out);
            let _ = writeln!(t, "Presets (--semantics NAME):");
            for (name, description) in Semantics::list() {
                let _ = writeln!(t, "  {name:<20} {description}");
            }
            let _ = writeln!(
                t,
                "\nSwitches (--semantics SWITCH=VALUE[,...], or NAME,SWITCH=VALUE[,...]):"
            );
            let default = Semantics::default();
            for sw in &Semantics::SWITCHES {
                let values: Vec<String> = sw
                    .values
                    .iter()
                    .map(|v| {
                        if *v == sw.value_in(&default) {
                            format!("{v} (default)")
                        } else {
                            (*v).to_owned()
                        }
                    })
                    .collect();
                let _ = writeln!(t, "  {:<20} {}", sw.name, values.join(", "));
                let _ = writeln!(t, "  {:<20} {}", "", sw.description);
            }
            Ok(Status::Success)
        }
        PolicyCommand::Rules(ListArgs { json: false }) => {
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

/// One explained setting: a mask or an LmCompatibilityLevel.
#[derive(Serialize)]
#[serde(untagged)]
enum ExplainDoc {
    Mask(Box<ExplainJson>),
    Lm(Box<LmExplainJson>),
    Binding(Box<BindingExplainJson>),
    Restrict(Box<RestrictExplainJson>),
}

/// A Restrict NTLM / Block NTLM / BlockNtlmv1SSO value or exception list.
#[derive(Serialize)]
struct RestrictExplainJson {
    input: String,
    /// `restrict_ntlm` (a DWORD) or `exception_list`.
    kind: &'static str,
    line: usize,
    form: String,
    registry_value: &'static str,
    policy: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    misplaced: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    option: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    names: Option<Vec<String>>,
    /// `client`, `server` or `dc`.
    host: &'static str,
    /// `breaks`, `logs` (audit only: would be logged) or `none`.
    effect: &'static str,
    meaning: &'static str,
    events: Vec<EventJson>,
    rules: Vec<RuleJson>,
    warnings: Vec<WarningJson>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ignored_values: Vec<IgnoredJson>,
}

#[derive(Serialize)]
struct EventJson {
    id: u16,
    log: &'static str,
    title: &'static str,
    host: &'static str,
}

#[derive(Serialize)]
struct RuleJson {
    rule_id: &'static str,
    rule: String,
    rule_statement: &'static str,
    basis: String,
}

fn rule_json(r: &ntlm_policy::Rule) -> RuleJson {
    RuleJson {
        rule_id: r.id,
        rule: r.source.to_string(),
        rule_statement: r.statement,
        basis: r.basis.to_string(),
    }
}

#[derive(Serialize)]
struct IgnoredJson {
    line: usize,
    name: String,
}

#[derive(Serialize)]
struct LmExplainJson {
    input: String,
    kind: &'static str,
    line: usize,
    form: String,
    registry_value: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    misplaced: bool,
    value: String,
    value_decimal: u32,
    level: u8,
    name: &'static str,
    client: &'static str,
    /// Under the default semantics (level 0: the `level0-ess` switch).
    client_requests_ess: bool,
    client_sends_ntlmv2: bool,
    server: &'static str,
    server_refuses: Vec<&'static str>,
    rules: Vec<RuleJson>,
    sources: Vec<String>,
    warnings: Vec<WarningJson>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ignored_values: Vec<IgnoredJson>,
}

/// `policy explain` of a channel-binding, target-name or LDAP signing setting.
#[derive(Serialize)]
struct BindingExplainJson {
    input: String,
    kind: &'static str,
    line: usize,
    setting: &'static str,
    title: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    registry_value: Option<u32>,
    option: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    misplaced: bool,
    carriers: Vec<&'static str>,
    meaning: &'static str,
    rules: Vec<RuleJson>,
    warnings: Vec<WarningJson>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ignored_values: Vec<IgnoredJson>,
}

/// The explanation of one pasted channel-binding setting.
fn binding_doc(
    ps: &ntlm_policy::PastedSetting,
    b: ntlm_policy::BindingSetting,
    input: String,
    ignored_values: Vec<IgnoredJson>,
) -> BindingExplainJson {
    let warnings = if ps.misplaced {
        misplaced_warning(&ps.setting, ps.key.as_deref(), b.name())
            .into_iter()
            .collect()
    } else {
        Vec::new()
    };
    BindingExplainJson {
        input,
        kind: "channel_binding",
        line: ps.line,
        setting: b.name(),
        title: b.title(),
        registry_value: b.registry_value(),
        option: b.option(),
        key: ps.key.clone(),
        misplaced: ps.misplaced,
        carriers: b.carriers().iter().map(|c| c.name()).collect(),
        meaning: b.meaning(),
        rules: b.rules().iter().map(|r| rule_json(r)).collect(),
        warnings,
        ignored_values,
    }
}

fn write_binding(t: &mut Text<'_>, d: &BindingExplainJson) {
    let _ = writeln!(t, "{}", ntlm_report::sink::terminal(&d.input));
    let value = d.registry_value.map_or(String::new(), |v| format!("{v} "));
    let _ = writeln!(
        t,
        "  value: {value}({}), {} (policy \"{}\")",
        d.option, d.setting, d.title
    );
    write_place(t, d.line, d.key.as_deref());
    let _ = writeln!(t, "  applies over: {}", d.carriers.join(", "));
    let _ = writeln!(t, "  {}", d.meaning);
    for r in &d.rules {
        let _ = writeln!(t, "      rule {}: {}", r.rule_id, r.rule_statement);
        let _ = writeln!(t, "      source: {} [{}]", r.rule, r.basis);
    }
    for w in &d.warnings {
        let _ = writeln!(t, "  {}: {} [{}]", w.severity, w.message, w.source);
    }
    write_ignored(t, &d.ignored_values);
}

/// The warning for a value pasted under a key Windows does not read it from.
fn misplaced_warning(
    setting: &ntlm_policy::Setting,
    key: Option<&str>,
    value: &str,
) -> Option<WarningJson> {
    let want = setting.keys().join(" or ");
    if want.is_empty() {
        return None;
    }
    let source = match setting {
        ntlm_policy::Setting::MinSessionSecurity(_) => ntlm_policy::Source::Kb(239_869),
        ntlm_policy::Setting::LmCompatibilityLevel { .. } => {
            ntlm_policy::Source::MsDoc("Network security: LAN Manager authentication level")
        }
        ntlm_policy::Setting::Restrict { value, .. } => value
            .explain()
            .rules
            .first()
            .map_or(ntlm_policy::Source::Kb(5_066_470), |r| r.source),
        ntlm_policy::Setting::Exceptions { list, .. } => list
            .explain()
            .rules
            .first()
            .map_or(ntlm_policy::Source::Kb(5_066_470), |r| r.source),
        ntlm_policy::Setting::Binding(b) => match b {
            ntlm_policy::BindingSetting::SmbNameHardening(_) => ntlm_policy::Source::MsDoc(
                "Microsoft network server: Server SPN target name validation level",
            ),
            ntlm_policy::BindingSetting::LdapSigning(_) => {
                ntlm_policy::Source::MsDoc("Domain controller: LDAP server signing requirements")
            }
            _ => ntlm_policy::Source::Kb(4_034_879),
        },
    };
    Some(WarningJson {
        id: "misplaced-key",
        severity: "risk",
        message: format!(
            "{value} is under {}, where Windows does not read it; it belongs under {want}",
            key.unwrap_or("another key")
        ),
        source: source.to_string(),
    })
}

fn explain(a: &ExplainArgs, out: &mut Vec<u8>) -> Result<Status, CliError> {
    let mut docs = Vec::with_capacity(a.masks.len());
    for m in &a.masks {
        let pasted = ntlm_policy::read_settings(m).map_err(|e| CliError::new(e.to_string()))?;
        let one_line = m.lines().filter(|l| !l.trim().is_empty()).count() == 1;
        let ignored = || -> Vec<IgnoredJson> {
            pasted
                .ignored
                .iter()
                .map(|(line, name)| IgnoredJson {
                    line: *line,
                    name: name.clone(),
                })
                .collect()
        };
        for ps in &pasted.settings {
            let input = if one_line { m.clone() } else { ps.text.clone() };
            let form = |f: &ntlm_policy::InputForm| format!("{f:?}");
            match &ps.setting {
                ntlm_policy::Setting::Restrict { value, form: f } => {
                    let x = value.explain();
                    docs.push(ExplainDoc::Restrict(Box::new(RestrictExplainJson {
                        input,
                        kind: "restrict_ntlm",
                        line: ps.line,
                        form: form(f),
                        registry_value: value.registry_name(),
                        policy: value.policy(),
                        key: ps.key.clone(),
                        misplaced: ps.misplaced,
                        value: Some(value.dword()),
                        option: Some(value.option_text()),
                        names: None,
                        host: x.host,
                        effect: x.effect,
                        meaning: x.meaning,
                        events: events_json(x.events),
                        rules: x.rules.iter().map(|r| rule_json(r)).collect(),
                        warnings: misplaced_warnings(ps, value.registry_name()),
                        ignored_values: ignored(),
                    })));
                }
                ntlm_policy::Setting::Exceptions {
                    list,
                    names,
                    form: f,
                } => {
                    let x = list.explain();
                    docs.push(ExplainDoc::Restrict(Box::new(RestrictExplainJson {
                        input,
                        kind: "exception_list",
                        line: ps.line,
                        form: form(f),
                        registry_value: list.registry_name(),
                        policy: list.policy(),
                        key: ps.key.clone(),
                        misplaced: ps.misplaced,
                        value: None,
                        option: None,
                        names: Some(names.clone()),
                        host: x.host,
                        effect: x.effect,
                        meaning: x.meaning,
                        events: Vec::new(),
                        rules: x.rules.iter().map(|r| rule_json(r)).collect(),
                        warnings: misplaced_warnings(ps, list.registry_name()),
                        ignored_values: ignored(),
                    })));
                }
                &ntlm_policy::Setting::MinSessionSecurity(p) => {
                    let side = p.value.map(|v| v.side());
                    let mask = p.mask;
                    let mut warnings: Vec<WarningJson> =
                        mask_warnings(mask, side).iter().map(warning_json).collect();
                    if ps.misplaced {
                        let name = p.value.map_or("the value", |v| v.name());
                        warnings.extend(misplaced_warning(&ps.setting, ps.key.as_deref(), name));
                    }
                    docs.push(ExplainDoc::Mask(Box::new(ExplainJson {
                        input,
                        kind: "min_session_security",
                        line: ps.line,
                        form: form(&p.form),
                        registry_value: p.value.map(|v| v.name()),
                        key: ps.key.clone(),
                        misplaced: ps.misplaced,
                        value: hex32(mask.bits()),
                        value_decimal: mask.bits(),
                        value_names: mask.flag_names().collect(),
                        value_tokens: mask.names().collect(),
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
                        warnings,
                        ignored_values: ignored(),
                    })));
                }
                &ntlm_policy::Setting::LmCompatibilityLevel { level, form: f } => {
                    let mut rules = vec![rule_json(&ntlm_policy::rules::NEG_CLIENT_ESS)];
                    if !level.requests_ess(ntlm_policy::Level0Ess::Never) {
                        // Level 0: both readings of the level0-ess switch, the default first.
                        rules.push(rule_json(
                            &ntlm_policy::rules::NEG_CLIENT_ESS_LEVEL0_REQUESTED,
                        ));
                        rules.push(rule_json(&ntlm_policy::rules::NEG_CLIENT_ESS_LEVEL0_NEVER));
                    }
                    if !level.accepts(ntlm_wire::ResponseKind::Lm) {
                        rules.push(rule_json(&ntlm_policy::rules::LM_REFUSE_LM));
                    }
                    if !level.accepts(ntlm_wire::ResponseKind::NtlmV1) {
                        rules.push(rule_json(&ntlm_policy::rules::LM_REFUSE_NTLMV1));
                    }
                    let warnings = if ps.misplaced {
                        misplaced_warning(&ps.setting, ps.key.as_deref(), "LmCompatibilityLevel")
                            .into_iter()
                            .collect()
                    } else {
                        Vec::new()
                    };
                    docs.push(ExplainDoc::Lm(Box::new(LmExplainJson {
                        input,
                        kind: "lm_compatibility_level",
                        line: ps.line,
                        form: form(&f),
                        registry_value: "LmCompatibilityLevel",
                        key: ps.key.clone(),
                        misplaced: ps.misplaced,
                        value: hex32(u32::from(level.level())),
                        value_decimal: u32::from(level.level()),
                        level: level.level(),
                        name: level.name(),
                        client: level.client_meaning(),
                        client_requests_ess: level.requests_ess(Semantics::default().level0_ess),
                        client_sends_ntlmv2: level.sends_ntlmv2(),
                        server: level.server_meaning(),
                        server_refuses: level.refuses().map(|k| k.as_str()).collect(),
                        rules,
                        sources: ntlm_policy::LmCompatibilityLevel::SOURCES
                            .iter()
                            .map(ToString::to_string)
                            .collect(),
                        warnings,
                        ignored_values: ignored(),
                    })));
                }
                ntlm_policy::Setting::Binding(b) => {
                    docs.push(ExplainDoc::Binding(Box::new(binding_doc(
                        ps,
                        *b,
                        input,
                        ignored(),
                    ))));
                }
            }
        }
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
    for doc in &docs {
        match doc {
            ExplainDoc::Mask(d) => {
                let _ = writeln!(t, "{}", ntlm_report::sink::terminal(&d.input));
                let _ = writeln!(
                    t,
                    "  value: {} ({}){}",
                    d.value,
                    d.value_decimal,
                    d.registry_value.map_or(String::new(), |v| format!(", {v}"))
                );
                write_place(&mut t, d.line, d.key.as_deref());
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
                write_ignored(&mut t, &d.ignored_values);
            }
            ExplainDoc::Restrict(d) => {
                let _ = writeln!(t, "{}", ntlm_report::sink::terminal(&d.input));
                match (d.value, d.option, &d.names) {
                    (Some(v), Some(o), _) => {
                        let _ = writeln!(
                            t,
                            "  value: {v} ({o}), {} (policy \"{}\")",
                            d.registry_value, d.policy
                        );
                    }
                    (_, _, Some(names)) => {
                        let shown: Vec<String> = names
                            .iter()
                            .map(|n| ntlm_report::sink::terminal(n).into_owned())
                            .collect();
                        let _ = writeln!(
                            t,
                            "  value: {} name(s): {}, {} (policy \"{}\")",
                            names.len(),
                            shown.join(", "),
                            d.registry_value,
                            d.policy
                        );
                    }
                    _ => {}
                }
                write_place(&mut t, d.line, d.key.as_deref());
                let effect = match d.effect {
                    "breaks" => "can break logons",
                    "logs" => "audit only: would be logged, nothing breaks",
                    _ => "restricts nothing",
                };
                let _ = writeln!(t, "  on the {} ({effect}): {}", d.host, d.meaning);
                for e in &d.events {
                    let _ = writeln!(
                        t,
                        "      event {} ({}, on the {}): {}",
                        e.id, e.log, e.host, e.title
                    );
                }
                for r in &d.rules {
                    let _ = writeln!(t, "      rule {}: {}", r.rule_id, r.rule_statement);
                    let _ = writeln!(t, "      source: {} [{}]", r.rule, r.basis);
                }
                for w in &d.warnings {
                    let _ = writeln!(t, "  {}: {} [{}]", w.severity, w.message, w.source);
                }
                write_ignored(&mut t, &d.ignored_values);
            }
            ExplainDoc::Lm(d) => {
                let _ = writeln!(t, "{}", ntlm_report::sink::terminal(&d.input));
                let _ = writeln!(
                    t,
                    "  value: {} ({}), LmCompatibilityLevel (policy \"Network security: LAN \
                     Manager authentication level\")",
                    d.level, d.name
                );
                write_place(&mut t, d.line, d.key.as_deref());
                let _ = writeln!(t, "  as a client: {}", d.client);
                let _ = writeln!(
                    t,
                    "  as a server (or the DC that checks its logons): {}",
                    d.server
                );
                for r in &d.rules {
                    let _ = writeln!(t, "      rule {}: {}", r.rule_id, r.rule_statement);
                    let _ = writeln!(t, "      source: {} [{}]", r.rule, r.basis);
                }
                let _ = writeln!(t, "  source: {}", d.sources.join("; "));
                for w in &d.warnings {
                    let _ = writeln!(t, "  {}: {} [{}]", w.severity, w.message, w.source);
                }
                write_ignored(&mut t, &d.ignored_values);
            }
            ExplainDoc::Binding(d) => write_binding(&mut t, d),
        }
    }
    Ok(Status::Success)
}

fn events_json(events: &[ntlm_policy::restrict::Event]) -> Vec<EventJson> {
    events
        .iter()
        .map(|e| EventJson {
            id: e.id,
            log: e.log,
            title: e.title,
            host: e.host,
        })
        .collect()
}

fn misplaced_warnings(ps: &ntlm_policy::PastedSetting, name: &str) -> Vec<WarningJson> {
    if ps.misplaced {
        misplaced_warning(&ps.setting, ps.key.as_deref(), name)
            .into_iter()
            .collect()
    } else {
        Vec::new()
    }
}

/// `  line 3, under HKEY_...` for values read from several lines.
fn write_place(t: &mut Text<'_>, line: usize, key: Option<&str>) {
    match (line, key) {
        (1, None) => {}
        (n, None) => {
            let _ = writeln!(t, "  line {n} of the input");
        }
        (n, Some(k)) => {
            let _ = writeln!(t, "  line {n} of the input, under {k}");
        }
    }
}

fn write_ignored(t: &mut Text<'_>, ignored: &[IgnoredJson]) {
    for i in ignored {
        let _ = writeln!(
            t,
            "  (line {}: {} is not a setting this explains; ignored)",
            i.line, i.name
        );
    }
}

#[derive(Serialize)]
struct CheckJson {
    negotiated: String,
    negotiated_names: Vec<&'static str>,
    client_min: String,
    server_min: String,
    semantics: &'static str,
    /// The semantics as `--semantics` reads them back.
    semantics_spec: String,
    outcome: OutcomeJson,
    certainty: CertaintyJson,
    warnings: Vec<WarningJson>,
}

fn check(a: &CheckArgs, out: &mut Vec<u8>) -> Result<Status, CliError> {
    let negotiated =
        parse::flags(&a.negotiated).map_err(|e| CliError::new(format!("--negotiated: {e}")))?;
    let (client_min, server_min, semantics) = (a.client_min, a.server_min, a.semantics);
    let result = check_negotiated(negotiated, client_min, server_min, &semantics);
    let certainty =
        ntlm_policy::certainty_of_check(negotiated, None, client_min, server_min, &semantics);
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
            weak_key_under_128: ntlm_policy::weak_key_under_128(negotiated),
        }),
        Err(f) => OutcomeJson::failure_under(f, &semantics),
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
            semantics_spec: semantics.spec(),
            outcome,
            certainty: CertaintyJson::new(&certainty, result.is_ok()),
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
            semantics.spec()
        );
        match &result {
            Ok(()) => {
                let _ = writeln!(t, "OK: both minimums are satisfied");
            }
            Err(f) => {
                let _ = write!(t, "{}", f.details_under(&semantics));
            }
        }
        let _ = write!(
            t,
            "{}",
            ntlm_report::outcome::render_certainty(&certainty, result.is_ok())
        );
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
