//! `ntlmsim profiles [--json] [--catalog FILE] [NAME]` (docs/CLI.md):
//! the peer catalog.

use std::fmt::Write as _;

use clap::Args;
use ntlm_policy::Semantics;
use ntlm_report::sink;
use ntlm_sim::observations::{Checked, Observation, check_all};
use ntlm_sim::outcome::{OutcomeJson, hex32, names};
use ntlm_sim::profiles::{Catalog, Profile};
use serde::Serialize;

use ntlm_report::text::{fit, pad, width, wrap};

use super::system::load_catalog;
use super::{CliError, Status};

/// List the peer profiles (built-in, plus those of a user's catalog file).
#[derive(Debug, Args)]
#[command(after_help = "\
A catalog file has the format of the built-in one (`[[profile]]` tables; see the comments at the
top of crates/ntlm-sim/data/profiles.toml in the source). Its profiles are added to the built-in
ones; one with the name of a built-in profile replaces it, so a site can adjust, say, windows-11 to
its own defaults.

--observations lists the field observations (crates/ntlm-sim/data/observations.toml in the source:
what real peers did, each with its public source) with the model's verdict beside each, from the full
handshake engine and the flags-only engine, under --semantics (default: calibrated). `cargo test`
asserts that every observation holds under the default semantics.

Exit codes: 0 listed (with --observations: every observation agrees with the model); 1 with
--observations, the model contradicts at least one observation; 2 unknown profile, unknown
semantics or unreadable/invalid catalog file (the line is named).")]
pub(crate) struct ProfilesArgs {
    /// Show this profile in full: flags, defaults, sources, what is observed and what is assumed
    #[arg(value_name = "NAME")]
    name: Option<String>,
    /// Also load the profiles of FILE (same format as the built-in catalog)
    #[arg(long = "catalog", visible_alias = "file", value_name = "FILE")]
    catalog: Option<String>,
    /// Print one JSON document (an array of profiles, or of observations)
    #[arg(long)]
    json: bool,
    /// List the field observations with the model's verdict beside each
    #[arg(long, conflicts_with = "name")]
    observations: bool,
    /// Policy semantics for --observations (see `ntlmsim policy semantics`)
    #[arg(
        long,
        value_name = "NAME",
        default_value = "calibrated",
        requires = "observations"
    )]
    semantics: Semantics,
}

#[derive(Serialize)]
struct ProfileJson<'a> {
    name: &'a str,
    role: &'static str,
    description: &'a str,
    offered_flags: Option<String>,
    offered_flags_names: Option<Vec<&'static str>>,
    /// The NEGOTIATE flags when the application asks for integrity (SIGN).
    offered_flags_signing: Option<String>,
    lm_level: u8,
    server_lm_level: u8,
    min_client_sec: String,
    min_server_sec: String,
    honours: Vec<&'static str>,
    /// `key_exchange` of the client and server halves (null for a missing half).
    client_key_exchange: Option<&'static str>,
    server_key_exchange: Option<&'static str>,
    /// Channel bindings and target name as a client (`[profile.binding]`; null for a server).
    binding: Option<BindingJson<'a>>,
    synthetic: bool,
    origin: &'a str,
    sources: &'a [String],
    observed: &'a str,
    /// Everything assumed: the facts of either role, then `as a client: ...`
    /// and `as a server: ...`.
    assumed: String,
    /// What a verdict with this profile as the client rests on (null when it
    /// cannot be a client).
    assumed_as_client: Option<String>,
    /// What a verdict with this profile as the server rests on (null when it
    /// cannot be a server).
    assumed_as_server: Option<String>,
}

/// `[profile.binding]` in `profiles --json`.
#[derive(Serialize)]
struct BindingJson<'a> {
    /// The TLS carriers over which the client sends the channel's bindings.
    channel_bindings: Vec<&'static str>,
    /// Without bindings: an all-zero MsvAvChannelBindings (true) or none.
    zero_pair: bool,
    /// `spn`, `empty` or `absent`.
    target_name: &'static str,
    sources: &'a [String],
}

fn binding_json(p: &Profile) -> Option<BindingJson<'_>> {
    p.role.client().then(|| BindingJson {
        channel_bindings: p
            .binding
            .channel_bindings_over
            .iter()
            .map(|c| c.name())
            .collect(),
        zero_pair: p.binding.zero_pair,
        target_name: p.binding.target_name.name(),
        sources: &p.binding.sources,
    })
}

fn json_of(p: &Profile) -> ProfileJson<'_> {
    let offered = p.offered_flags();
    ProfileJson {
        name: &p.name,
        role: p.role.name(),
        description: &p.description,
        offered_flags: offered.map(|f| hex32(f.bits())),
        offered_flags_names: offered.map(names),
        offered_flags_signing: p.offered_flags_signing().map(|f| hex32(f.bits())),
        lm_level: if p.role.client() {
            p.client_lm_level.level()
        } else {
            p.server_lm_level.level()
        },
        server_lm_level: p.server_lm_level.level(),
        min_client_sec: hex32(p.min_client_sec.bits()),
        min_server_sec: hex32(p.min_server_sec.bits()),
        honours: p.honours.names(),
        client_key_exchange: p.role.client().then(|| p.client_key_exchange().name()),
        server_key_exchange: p.role.server().then(|| p.server_key_exchange().name()),
        binding: binding_json(p),
        synthetic: p.synthetic,
        origin: &p.origin,
        sources: &p.sources,
        observed: &p.observed,
        assumed: p.assumed_all(),
        assumed_as_client: p
            .role
            .client()
            .then(|| p.assumed_as(ntlm_policy::Side::Client)),
        assumed_as_server: p
            .role
            .server()
            .then(|| p.assumed_as(ntlm_policy::Side::Server)),
    }
}

fn detail(p: &Profile, s: &mut String) {
    let _ = writeln!(s, "{} ({})", sink::terminal(&p.name), p.role.name());
    let _ = writeln!(s, "  {}", sink::terminal(&p.description));
    match p.offered_flags() {
        Some(f) => {
            let _ = writeln!(
                s,
                "  offers:          {} {}",
                hex32(f.bits()),
                wrap(&names(f).join(" | "), 100, 30)
            );
        }
        None => {
            let _ = writeln!(s, "  offers:          (server only)");
        }
    }
    if let Some(f) = p.offered_flags_signing() {
        let _ = writeln!(
            s,
            "  with signing:    {} {}",
            hex32(f.bits()),
            wrap(&names(f).join(" | "), 100, 30)
        );
    }
    let _ = writeln!(
        s,
        "  LmCompatibility: {} as a client, {} as a server",
        p.client_lm_level.level(),
        p.server_lm_level.level()
    );
    let _ = writeln!(
        s,
        "  minimums:        NtlmMinClientSec {}, NtlmMinServerSec {}",
        hex32(p.min_client_sec.bits()),
        hex32(p.min_server_sec.bits())
    );
    let kx: Vec<String> = [
        p.role
            .client()
            .then(|| format!("client {}", p.client_key_exchange().name())),
        p.role
            .server()
            .then(|| format!("server {}", p.server_key_exchange().name())),
    ]
    .into_iter()
    .flatten()
    .collect();
    let _ = writeln!(
        s,
        "  key exchange:    {} (docs/POLICY.md, \"Key exchange\")",
        kx.join(", ")
    );
    if let Some(b) = binding_json(p) {
        let _ = writeln!(
            s,
            "  binding:         channel bindings over {}; MsvAvTargetName {}",
            if b.channel_bindings.is_empty() {
                "no carrier".to_owned()
            } else {
                b.channel_bindings.join(", ")
            },
            b.target_name
        );
        let _ = writeln!(
            s,
            "                   without bindings: {} (docs/POLICY.md)",
            if b.zero_pair {
                "an all-zero MsvAvChannelBindings"
            } else {
                "no MsvAvChannelBindings"
            }
        );
    }
    let reads = p.honours.names();
    let _ = writeln!(
        s,
        "  reads:           {}",
        if reads.is_empty() {
            "no Windows registry value (a pushed policy does not reach it)".to_owned()
        } else {
            reads.join(", ")
        }
    );
    if p.origin != "built-in" {
        let _ = writeln!(s, "  defined in:      {}", sink::terminal(&p.origin));
    }
    let _ = writeln!(s, "  sources:");
    for src in &p.sources {
        let _ = writeln!(s, "    - {}", wrap(src, 100, 6));
    }
    let none = |t: &str| {
        if t.is_empty() {
            "(nothing)".to_owned()
        } else {
            t.to_owned()
        }
    };
    let _ = writeln!(s, "  observed: {}", wrap(&none(&p.observed), 100, 12));
    let _ = writeln!(s, "  assumed:  {}", wrap(&none(&p.assumed_all()), 100, 12));
}

fn table(catalog: &Catalog, replaced: &[String], s: &mut String) {
    let nw = catalog
        .profiles
        .iter()
        .map(|p| width(&p.name))
        .max()
        .unwrap_or(4)
        .clamp(4, 20);
    let _ = writeln!(
        s,
        "{:<nw$} {:<6} {:<10} {:<3} {:<10} {:<10} description",
        "name", "role", "offers", "lm", "min client", "min server"
    );
    // 100 columns: what is left after the fixed columns goes to the description.
    let dw = 100usize.saturating_sub(nw + 1 + 7 + 11 + 4 + 11 + 11);
    for p in &catalog.profiles {
        let offers = p
            .offered_flags()
            .map_or_else(|| "-".to_owned(), |f| hex32(f.bits()));
        let lm = match (p.role.client(), p.role.server()) {
            (true, true) if p.client_lm_level != p.server_lm_level => format!(
                "{}/{}",
                p.client_lm_level.level(),
                p.server_lm_level.level()
            ),
            (true, _) => p.client_lm_level.level().to_string(),
            _ => p.server_lm_level.level().to_string(),
        };
        let min = |on: bool, v: u32| if on { hex32(v) } else { "-".to_owned() };
        let mut desc = p.description.clone();
        if p.honours.names().is_empty() {
            desc.insert(0, '*');
        }
        let _ = writeln!(
            s,
            "{} {:<6} {:<10} {:<3} {:<10} {:<10} {}",
            pad(&fit(&p.name, nw), nw),
            p.role.name(),
            offers,
            lm,
            min(p.role.client(), p.min_client_sec.bits()),
            min(p.role.server(), p.min_server_sec.bits()),
            fit(&desc, dw)
        );
    }
    let _ = writeln!(
        s,
        "\n{} profiles. offers: NEGOTIATE flags with no signing or sealing requested; lm: LmCompatibility-\nLevel (client/server); *: reads no Windows registry value, so a pushed policy does not reach it.\n`ntlmsim profiles NAME` shows sources and what is observed or assumed; --json lists everything.",
        catalog.profiles.len()
    );
    if !replaced.is_empty() {
        let _ = writeln!(
            s,
            "Replaced by the catalog file: {}",
            sink::terminal(&replaced.join(", "))
        );
    }
}

#[derive(Serialize)]
struct ObservationJson<'a> {
    id: &'a str,
    summary: &'a str,
    sources: &'a [String],
    client: &'a str,
    server: &'a str,
    observed: &'static str,
    observed_side: Option<&'static str>,
    observed_stage: Option<&'static str>,
    observed_status: Option<&'a str>,
    event: Option<&'a str>,
    /// The full engine's outcome, as in `handshake --json`.
    model: Option<OutcomeJson>,
    agrees: bool,
    difference: Option<String>,
}

fn observation_json<'a>(c: &'a Checked<'a>) -> ObservationJson<'a> {
    let o = c.observation;
    ObservationJson {
        id: &o.id,
        summary: &o.summary,
        sources: &o.sources,
        client: &o.client,
        server: &o.server,
        observed: o.result.name(),
        observed_side: o.side.map(ntlm_policy::Side::name),
        observed_stage: o.stage.map(ntlm_policy::Stage::name),
        observed_status: o.status.as_deref(),
        event: o.event.as_deref(),
        model: c.verdict.as_ref().ok().map(|v| match v {
            Ok(r) => OutcomeJson::success(r, None),
            Err(f) => OutcomeJson::failure(f),
        }),
        agrees: c.agreement.is_ok(),
        difference: c.agreement.as_ref().err().cloned(),
    }
}

/// The model's verdict in a few words.
fn verdict_words(c: &Checked<'_>) -> String {
    match &c.verdict {
        Err(e) => format!("cannot run: {e}"),
        Ok(Ok(r)) => format!("works ({}, {})", r.response_kind, hex32(r.flags.bits())),
        Ok(Err(f)) => format!("fails: {} at {}, {}", f.side, f.stage, f.status.name()),
    }
}

fn observations(
    args: &ProfilesArgs,
    catalog: &Catalog,
    out: &mut Vec<u8>,
) -> Result<Status, CliError> {
    let semantics = args.semantics;
    let all =
        Observation::builtin().map_err(|e| CliError::new(format!("built-in observations: {e}")))?;
    let checked = check_all(&all, catalog, semantics);
    let status = if checked.iter().all(|c| c.agreement.is_ok()) {
        Status::Success
    } else {
        Status::Negative
    };
    if args.json {
        let docs: Vec<ObservationJson<'_>> = checked.iter().map(observation_json).collect();
        serde_json::to_writer_pretty(&mut *out, &docs)
            .map_err(|e| CliError::new(format!("JSON: {e}")))?;
        out.push(b'\n');
        return Ok(status);
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Field observations under semantics {}:\n",
        semantics.name()
    );
    for c in &checked {
        let o = c.observation;
        let mark = if c.agreement.is_ok() { "ok  " } else { "DIFF" };
        let _ = writeln!(s, "{mark} {}: {} -> {}", o.id, o.client, o.server);
        let _ = writeln!(s, "       {}", wrap(&o.summary, 100, 7));
        let mut observed = o.result.name().to_owned();
        for part in [
            o.side.map(|x| x.name().to_owned()),
            o.stage.map(|x| format!("at {}", x.name())),
            o.status.clone(),
        ]
        .into_iter()
        .flatten()
        {
            observed.push_str(if observed.contains(':') { ", " } else { ": " });
            observed.push_str(&part);
        }
        let _ = writeln!(s, "       observed: {observed}");
        let _ = writeln!(s, "       model:    {}", verdict_words(c));
        if let Err(e) = &c.agreement {
            let _ = writeln!(s, "       differs:  {}", wrap(e, 100, 17));
        }
        for src in &o.sources {
            let _ = writeln!(s, "       source:   {}", wrap(src, 100, 17));
        }
    }
    let agree = checked.iter().filter(|c| c.agreement.is_ok()).count();
    let _ = writeln!(
        s,
        "\n{agree} of {} observations agree with the model (full and flags-only engines).",
        checked.len()
    );
    out.extend_from_slice(s.as_bytes());
    Ok(status)
}

pub(crate) fn run(args: &ProfilesArgs, out: &mut Vec<u8>) -> Result<Status, CliError> {
    let (catalog, replaced) = load_catalog(args.catalog.as_deref())?;
    if args.observations {
        return observations(args, &catalog, out);
    }
    let selected: Vec<&Profile> = match &args.name {
        Some(n) => vec![catalog.get(n).ok_or_else(|| {
            CliError::new(format!("unknown profile {n:?}; known: {}", catalog.names()))
        })?],
        None => catalog.profiles.iter().collect(),
    };
    if args.json {
        let docs: Vec<ProfileJson<'_>> = selected.iter().map(|p| json_of(p)).collect();
        serde_json::to_writer_pretty(&mut *out, &docs)
            .map_err(|e| CliError::new(format!("JSON: {e}")))?;
        out.push(b'\n');
        return Ok(Status::Success);
    }
    let mut s = String::new();
    if args.name.is_some() {
        for p in selected {
            detail(p, &mut s);
        }
    } else {
        table(&catalog, &replaced, &mut s);
    }
    out.extend_from_slice(s.as_bytes());
    Ok(Status::Success)
}
