//! `ntlmsim attack` (docs/CLI.md): man-in-the-middle scenarios between a
//! simulated client and server, and which settings detect them.

use std::fmt::Write as _;

use clap::Args;
use ntlm_policy::{LmCompatibilityLevel, MinSessionSecurity, Semantics};
use ntlm_sim::attack::{
    self, AttackResult, COLUMN_LEGEND, Cbt, Outcome, Scenario, Settings, matrix_columns,
};
use ntlm_sim::outcome::{CertaintyJson, OutcomeJson};
use ntlm_sim::profiles::Catalog;
use serde::Serialize;

use super::{CliError, Status};

/// Run a man-in-the-middle scenario and report whether it is detected.
#[derive(Debug, Args)]
#[command(after_help = "\
The attacker sits between a simulated client and server (profiles as in `ntlmsim handshake`)
and rewrites messages in flight. The same configuration is first run without the attacker
(the baseline). Scenarios: `ntlmsim attack --list`.

MASK forms: 0x20080000, 537395200, dword:20080000, or names (see `ntlmsim policy explain`).
CBT modes: ignore, accept, require (default: require for the channel-binding scenarios,
ignore otherwise).

Exit codes: 0 the tampering is detected (for --matrix: in every combination); 1 it is not
(or the untampered exchange already fails); 2 bad usage.")]
pub(crate) struct AttackArgs {
    /// Scenario name (see --list)
    #[arg(required_unless_present_any = ["list", "matrix"])]
    scenario: Option<String>,
    /// List the scenarios with their references
    #[arg(long, conflicts_with = "matrix")]
    list: bool,
    /// Run every scenario (or the one named) against a set of settings
    #[arg(long)]
    matrix: bool,
    /// Client profile (see `ntlmsim profiles`)
    #[arg(long, default_value = "windows-11")]
    client: String,
    /// Server profile
    #[arg(long, default_value = "windows-11")]
    server: String,
    /// NtlmMinClientSec (default: the client profile's)
    #[arg(long, value_name = "MASK")]
    client_min: Option<MinSessionSecurity>,
    /// NtlmMinServerSec (default: the server profile's)
    #[arg(long, value_name = "MASK")]
    server_min: Option<MinSessionSecurity>,
    /// The client's LmCompatibilityLevel, 0..5 (default: the profile's)
    #[arg(long, value_name = "N")]
    client_lm_level: Option<LmCompatibilityLevel>,
    /// The server's LmCompatibilityLevel, 0..5 (default: the profile's)
    #[arg(long, value_name = "N")]
    server_lm_level: Option<LmCompatibilityLevel>,
    /// The application requests integrity (SIGN)
    #[arg(long)]
    sign: bool,
    /// The application requests confidentiality (SEAL)
    #[arg(long)]
    seal: bool,
    /// Policy semantics (see `ntlmsim policy semantics`)
    #[arg(long, value_name = "NAME", default_value = "calibrated")]
    semantics: Semantics,
    /// The server's channel-binding mode: ignore, accept or require
    #[arg(long, value_name = "MODE")]
    cbt: Option<String>,
    /// Seed for the random values
    #[arg(long, value_name = "N", default_value_t = 1)]
    seed: u64,
    /// Print one JSON document
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: &AttackArgs, out: &mut Vec<u8>) -> Result<Status, CliError> {
    if args.list {
        list(args.json, out)?;
        return Ok(Status::Success);
    }
    let scenario = args
        .scenario
        .as_deref()
        .map(|name| {
            Scenario::from_name(name).ok_or_else(|| {
                let known: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
                CliError::new(format!(
                    "unknown scenario {name:?}; known: {}",
                    known.join(", ")
                ))
            })
        })
        .transpose()?;
    let settings = settings(args)?;
    let catalog = Catalog::builtin().map_err(|e| CliError::bad("built-in profiles", e))?;
    let now = super::system::filetime_now();
    let run = |s: Scenario, st: &Settings| {
        attack::run(s, st, &catalog, args.seed, now).map_err(|e| CliError::new(e.to_string()))
    };
    if args.matrix {
        let scenarios = scenario.map_or_else(|| Scenario::ALL.to_vec(), |s| vec![s]);
        let columns = matrix_columns(&settings);
        let mut rows = Vec::new();
        for s in scenarios {
            let cells = columns
                .iter()
                .map(|c| run(s, &c.settings))
                .collect::<Result<Vec<_>, _>>()?;
            rows.push((s, cells));
        }
        let all_safe = rows
            .iter()
            .all(|(_, c)| c.iter().all(AttackResult::detected));
        if args.json {
            matrix_json(&columns, &rows, out)?;
        } else {
            out.extend_from_slice(render_matrix(&settings, &columns, &rows).as_bytes());
        }
        return Ok(if all_safe {
            Status::Success
        } else {
            Status::Negative
        });
    }
    let Some(scenario) = scenario else {
        return Err(CliError::new("name a scenario, or use --list or --matrix"));
    };
    let result = run(scenario, &settings)?;
    // Whether the verdict is the same under every documented reading of
    // the switches, and which other verdicts the others reach.
    let verdict = result.verdict();
    let mut others: Vec<&'static str> = Vec::new();
    let certainty = ntlm_policy::certainty(&settings.semantics, |sem| {
        let mut st = settings.clone();
        st.semantics = *sem;
        let v = run(scenario, &st).ok().map(|r| r.verdict());
        if let Some(v) = v.filter(|v| *v != verdict && !others.contains(v)) {
            others.push(v);
        }
        v
    });
    let opposite = match others.as_slice() {
        [one] => *one,
        _ => "another verdict",
    };
    let certainty = CertaintyJson::with_words(&certainty, verdict, opposite);
    // Which of the matrix configurations detect it.
    let mut detected_under = Vec::new();
    for c in matrix_columns(&settings) {
        if run(scenario, &c.settings)?.detected() {
            detected_under.push(c.name);
        }
    }
    if args.json {
        let mut doc = result_json(&settings, &result, detected_under);
        doc.certainty = Some(certainty);
        doc.other_verdicts = Some(others);
        serde_json::to_writer_pretty(&mut *out, &doc).map_err(|e| CliError::bad("JSON", e))?;
        out.push(b'\n');
    } else {
        let mut text = render(&settings, &result, &detected_under);
        let _ = write!(text, "certainty: {}", certainty.summary);
        if !others.is_empty() {
            let _ = write!(text, " (other readings: {})", others.join(", "));
        }
        text.push('\n');
        out.extend_from_slice(text.as_bytes());
    }
    Ok(if result.detected() {
        Status::Success
    } else {
        Status::Negative
    })
}

fn settings(args: &AttackArgs) -> Result<Settings, CliError> {
    let semantics = args.semantics;
    let cbt = args
        .cbt
        .as_deref()
        .map(|c| {
            Cbt::from_name(c).ok_or_else(|| {
                CliError::new(format!(
                    "--cbt: unknown mode {c:?} (ignore, accept, require)"
                ))
            })
        })
        .transpose()?;
    Ok(Settings {
        client: args.client.clone(),
        server: args.server.clone(),
        client_min: args.client_min,
        server_min: args.server_min,
        client_lm_level: args.client_lm_level,
        server_lm_level: args.server_lm_level,
        sign: args.sign,
        seal: args.seal,
        semantics,
        cbt,
    })
}

#[derive(Serialize)]
struct ScenarioJson {
    name: &'static str,
    reference: &'static str,
    description: &'static str,
    defences: &'static str,
}

fn list(json: bool, out: &mut Vec<u8>) -> Result<(), CliError> {
    if json {
        let doc: Vec<ScenarioJson> = Scenario::ALL
            .iter()
            .map(|s| ScenarioJson {
                name: s.name(),
                reference: s.reference(),
                description: s.description(),
                defences: s.defences(),
            })
            .collect();
        serde_json::to_writer_pretty(&mut *out, &doc).map_err(|e| CliError::bad("JSON", e))?;
        out.push(b'\n');
        return Ok(());
    }
    let mut s = String::new();
    for sc in Scenario::ALL {
        let _ = writeln!(s, "{:<24} {}", sc.name(), sc.description());
        let _ = writeln!(s, "{:<24} reference: {}", "", sc.reference());
    }
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn outcome_json(o: &Outcome) -> OutcomeJson {
    match o {
        Outcome::Established { report, .. } => OutcomeJson::success(report, None),
        Outcome::Refused(f) => OutcomeJson::failure(f),
    }
}

#[derive(Serialize)]
struct ResultJson {
    scenario: &'static str,
    reference: &'static str,
    description: &'static str,
    client: String,
    server: String,
    cbt: &'static str,
    tampered: Vec<&'static str>,
    detected: bool,
    verdict: &'static str,
    /// `client` or `server`, when detected.
    detected_by: Option<&'static str>,
    /// The failing check's rule id, when detected.
    check: Option<&'static str>,
    baseline: OutcomeJson,
    outcome: OutcomeJson,
    /// Both sides derived the same session key (when established).
    #[serde(skip_serializing_if = "Option::is_none")]
    keys_match: Option<bool>,
    downgrade: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limitation: Option<&'static str>,
    defences: &'static str,
    detected_under: Vec<&'static str>,
    /// Whether `verdict` is the same under every documented reading of the
    /// semantics switches (`certainty.verdict` is `verdict`; the summary
    /// names the verdict the other readings reach).
    #[serde(skip_serializing_if = "Option::is_none")]
    certainty: Option<CertaintyJson>,
    /// The verdicts the readings that disagree reach.
    #[serde(skip_serializing_if = "Option::is_none")]
    other_verdicts: Option<Vec<&'static str>>,
}

fn result_json(st: &Settings, r: &AttackResult, detected_under: Vec<&'static str>) -> ResultJson {
    let d = r.detection();
    ResultJson {
        scenario: r.scenario.name(),
        reference: r.scenario.reference(),
        description: r.scenario.description(),
        client: st.client.clone(),
        server: if r.scenario == Scenario::Reflection {
            st.client.clone()
        } else {
            st.server.clone()
        },
        cbt: r.cbt.name(),
        tampered: r.tampered.iter().map(|s| s.name()).collect(),
        detected: r.detected(),
        verdict: r.verdict(),
        detected_by: d.map(|f| f.side.name()),
        check: d.map(|f| f.rule.id),
        baseline: outcome_json(&r.baseline),
        outcome: outcome_json(&r.outcome),
        keys_match: match &r.outcome {
            Outcome::Established { keys_match, .. } => Some(*keys_match),
            Outcome::Refused(_) => None,
        },
        downgrade: r.downgrade(),
        limitation: r.limitation,
        defences: r.scenario.defences(),
        detected_under,
        certainty: None,
        other_verdicts: None,
    }
}

fn render(st: &Settings, r: &AttackResult, detected_under: &[&str]) -> String {
    let sc = r.scenario;
    let mut s = String::new();
    let server = if sc == Scenario::Reflection {
        &st.client
    } else {
        &st.server
    };
    let _ = writeln!(s, "scenario:  {} ({})", sc.name(), sc.reference());
    let _ = writeln!(
        s,
        "peers:     client {}, server {}, channel bindings {}",
        st.client,
        server,
        r.cbt.name()
    );
    let _ = writeln!(s, "attack:    {}", sc.description());
    let changed: Vec<&str> = r.tampered.iter().map(|t| t.name()).collect();
    let _ = writeln!(
        s,
        "changed:   {}\n",
        if changed.is_empty() {
            String::from(if sc == Scenario::Reflection {
                "no bytes (the attack is in the routing)"
            } else {
                "no bytes (nothing in the messages for this attack to change)"
            })
        } else {
            changed.join(", ")
        }
    );
    match (&r.baseline, &r.outcome) {
        (Outcome::Refused(f), _) => {
            let _ = writeln!(
                s,
                "VERDICT: the untampered exchange already fails ({} at {}, {}): no session to attack",
                f.side,
                f.stage.name(),
                f.rule.id
            );
        }
        (_, Outcome::Refused(f)) => {
            let _ = writeln!(
                s,
                "VERDICT: DETECTED by the {} on receipt of {}: check {}, {}",
                f.side,
                f.stage.message(),
                f.rule.id,
                f.status.name()
            );
            s.push_str(&f.details().to_string());
        }
        (_, Outcome::Established { report, .. }) => {
            if r.verdict() == "nothing-to-tamper" {
                let _ = writeln!(
                    s,
                    "VERDICT: NOT DETECTED: the messages held nothing this attack changes; \
                     the session is established as without the attacker"
                );
            } else {
                let _ = writeln!(s, "VERDICT: NOT DETECTED: the session was established");
            }
            if let Some(l) = r.limitation {
                let _ = writeln!(s, "  {l}");
            }
            for d in r.downgrade() {
                let _ = writeln!(s, "  downgrade:  {d}");
            }
            s.push_str(&ntlm_report::outcome::render_success(report));
        }
    }
    let _ = writeln!(s, "\ndefences:  {}", sc.defences());
    let _ = writeln!(
        s,
        "detected under: {}",
        if detected_under.is_empty() {
            String::from("none of the matrix configurations (see --matrix)")
        } else {
            detected_under.join(", ")
        }
    );
    s
}

#[derive(Serialize)]
struct ColumnJson {
    name: &'static str,
    description: &'static str,
}

#[derive(Serialize)]
struct CellJson {
    column: &'static str,
    detected: bool,
    verdict: &'static str,
    detected_by: Option<&'static str>,
    check: Option<&'static str>,
    tampered: Vec<&'static str>,
    outcome: OutcomeJson,
}

#[derive(Serialize)]
struct RowJson {
    scenario: &'static str,
    reference: &'static str,
    cells: Vec<CellJson>,
}

#[derive(Serialize)]
struct SummaryJson {
    cells: usize,
    detected: usize,
}

#[derive(Serialize)]
struct MatrixJson {
    columns: Vec<ColumnJson>,
    rows: Vec<RowJson>,
    summary: SummaryJson,
}

type Rows = [(Scenario, Vec<AttackResult>)];

fn matrix_json(columns: &[attack::Column], rows: &Rows, out: &mut Vec<u8>) -> Result<(), CliError> {
    let legend = |name: &str| {
        COLUMN_LEGEND
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, d)| *d)
    };
    let doc = MatrixJson {
        columns: columns
            .iter()
            .map(|c| ColumnJson {
                name: c.name,
                description: legend(c.name),
            })
            .collect(),
        rows: rows
            .iter()
            .map(|(s, cells)| RowJson {
                scenario: s.name(),
                reference: s.reference(),
                cells: columns
                    .iter()
                    .zip(cells)
                    .map(|(c, r)| CellJson {
                        column: c.name,
                        detected: r.detected(),
                        verdict: r.verdict(),
                        detected_by: r.detection().map(|f| f.side.name()),
                        check: r.detection().map(|f| f.rule.id),
                        tampered: r.tampered.iter().map(|t| t.name()).collect(),
                        outcome: outcome_json(&r.outcome),
                    })
                    .collect(),
            })
            .collect(),
        summary: SummaryJson {
            cells: rows.iter().map(|(_, c)| c.len()).sum(),
            detected: rows
                .iter()
                .map(|(_, c)| c.iter().filter(|r| r.detected()).count())
                .sum(),
        },
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(|e| CliError::bad("JSON", e))?;
    out.push(b'\n');
    Ok(())
}

fn render_matrix(st: &Settings, columns: &[attack::Column], rows: &Rows) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "client {}, server {}: safe = the tampering is detected\n",
        st.client, st.server
    );
    let _ = write!(s, "{:<24}", "scenario");
    for c in columns {
        let _ = write!(s, " {:>11}", c.name);
    }
    s.push('\n');
    for (sc, cells) in rows {
        let _ = write!(s, "{:<24}", sc.name());
        for r in cells {
            let cell = match r.verdict() {
                "detected" => "safe",
                "not-detected" => "UNSAFE",
                "nothing-to-tamper" => "n/a",
                _ => "no-baseline",
            };
            let _ = write!(s, " {cell:>11}");
        }
        s.push('\n');
    }
    let _ = writeln!(s, "\nchecks that fired (side: rule id):");
    for (sc, cells) in rows {
        let mut seen: Vec<String> = Vec::new();
        for r in cells {
            if let Some(f) = r.detection() {
                let k = format!("{}: {}", f.side, f.rule.id);
                if !seen.contains(&k) {
                    seen.push(k);
                }
            }
        }
        let note = if seen.is_empty() {
            cells
                .iter()
                .find_map(|r| r.limitation)
                .map_or_else(|| String::from("none"), String::from)
        } else {
            seen.join("; ")
        };
        let _ = writeln!(s, "  {:<22} {note}", sc.name());
    }
    let _ = writeln!(s, "\ncolumns:");
    for (name, d) in COLUMN_LEGEND {
        let _ = writeln!(s, "  {name:<11} {d}");
    }
    let _ = writeln!(
        s,
        "UNSAFE: the session was established despite the tampering; n/a: the messages \
         held nothing to tamper with (not detected, but no weaker than without the attacker); \
         no-baseline: the configuration fails even without an attacker."
    );
    s
}
