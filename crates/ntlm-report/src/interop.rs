//! The views of an `interop` run (docs/CLI.md): the `--json` document,
//! streamed pair by pair, and the human grid or list with the newly
//! breaking pairs grouped by failure; [`run`] ties them to the evaluation
//! ([`ntlm_sim::interop`]) for `interop` and `demo`.

use std::io::Write as _;

use ntlm_policy::{LmCompatibilityLevel, MinSessionSecurity, Semantics};
use ntlm_sim::interop::{
    NotReachedJson, Run, SummaryJson, catalog_plan, certainties, evaluate, fleet_plan, not_reached,
    outcome, relaxed_checks, restrict_path, restricting,
};
use ntlm_sim::matrix::{Application, Engine, Options, Policy};
use ntlm_sim::outcome::{CertaintyJson, OutcomeJson, hex32, verdict_words};
use ntlm_sim::profiles::{AssumedFacts, Catalog, Profile};
use ntlm_sim::relax::Configured;
use serde::Serialize;

use crate::report::{self, Report};

mod human;

use human::{Paint, View, describe_all, human};

/// What `interop` was asked, as the command line gives it: the values are
/// read (and refused with a message naming the option) by [`run`]. The
/// defaults are the command line's.
#[derive(Debug, Clone)]
pub struct Request {
    /// `--client-min`: new NtlmMinClientSec for the clients.
    pub client_min: Option<String>,
    /// `--server-min`: new NtlmMinServerSec for the servers.
    pub server_min: Option<String>,
    /// `--client-lm-level`: new LmCompatibilityLevel for the clients.
    pub client_lm_level: Option<String>,
    /// `--server-lm-level`: new LmCompatibilityLevel for the servers.
    pub server_lm_level: Option<String>,
    /// `--clients`: only these clients.
    pub clients: Vec<String>,
    /// `--servers`: only these servers.
    pub servers: Vec<String>,
    /// `--fleet`: the pairs of this fleet file.
    pub fleet: Option<String>,
    /// `--sign`: the application requests integrity.
    pub sign: bool,
    /// `--seal`: the application requests confidentiality.
    pub seal: bool,
    /// `--semantics`.
    pub semantics: String,
    /// `--engine`.
    pub engine: String,
    /// `--client-restrict`.
    pub client_restrict: Vec<String>,
    /// `--server-restrict`.
    pub server_restrict: Vec<String>,
    /// `--dc-restrict`.
    pub dc_restrict: Vec<String>,
    /// `--html`: also write the HTML report to this file.
    pub html: Option<String>,
    /// `--list`: list the pairs instead of drawing the grid.
    pub list: bool,
    /// `--json`.
    pub json: bool,
    /// `--carrier`.
    pub carrier: String,
    /// `--binding NAME=VALUE`.
    pub bindings: Vec<String>,
    /// `--zero-channel-bindings`.
    pub zero_channel_bindings: String,
}

impl Default for Request {
    fn default() -> Self {
        Self {
            client_min: None,
            server_min: None,
            client_lm_level: None,
            server_lm_level: None,
            clients: Vec::new(),
            servers: Vec::new(),
            fleet: None,
            sign: false,
            seal: false,
            semantics: "calibrated".to_owned(),
            engine: "full".to_owned(),
            client_restrict: Vec::new(),
            server_restrict: Vec::new(),
            dc_restrict: Vec::new(),
            html: None,
            list: false,
            json: false,
            carrier: "other".to_owned(),
            bindings: Vec::new(),
            zero_channel_bindings: "refused".to_owned(),
        }
    }
}

/// What the caller of [`run`] does for it: the files, and the terminal.
pub struct Io<'a> {
    /// The screen width the human output keeps to.
    pub width: usize,
    /// Whether the human output is coloured.
    pub colour: bool,
    /// Called as pairs are evaluated (`done`, `total`; `done == total` at
    /// the end), when there are enough of them to deserve a progress line.
    pub progress: &'a mut dyn FnMut(usize, usize),
    /// Reads the fleet file at a path.
    pub read_fleet: &'a mut dyn FnMut(&str) -> Result<String, String>,
    /// Writes the HTML report to a path.
    pub write_html: &'a mut dyn FnMut(&str, &str) -> Result<(), String>,
}

impl std::fmt::Debug for Io<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Io")
            .field("width", &self.width)
            .field("colour", &self.colour)
            .finish_non_exhaustive()
    }
}

fn bad(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

fn mask(s: &str, what: &str) -> Result<MinSessionSecurity, String> {
    MinSessionSecurity::parse(s)
        .map(|p| p.mask)
        .map_err(|e| bad(what, e))
}

fn level(s: &str, what: &str) -> Result<LmCompatibilityLevel, String> {
    LmCompatibilityLevel::parse(s).map_err(|e| bad(what, e))
}

// --- JSON -------------------------------------------------------------------

#[derive(Serialize)]
struct PairJson<'a> {
    client: &'a str,
    server: &'a str,
    client_profile: &'a str,
    server_profile: &'a str,
    before: OutcomeJson,
    after: OutcomeJson,
    breaks: bool,
    change: &'static str,
    /// Whether the after verdict holds under every documented reading.
    certainty: Option<CertaintyJson>,
    /// What is assumed of the two profiles in the roles they play
    /// ([`ntlm_sim::profiles::assumed_facts`]): the verdicts rest on it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    assumed: Vec<AssumedFacts>,
}

#[derive(Serialize)]
struct PolicyJson {
    client_min: Option<String>,
    server_min: Option<String>,
    client_lm_level: Option<u8>,
    server_lm_level: Option<u8>,
    semantics: &'static str,
    switches: serde_json::Map<String, serde_json::Value>,
    sign: bool,
    seal: bool,
    engine: &'static str,
    not_reached: Vec<NotReachedJson>,
    /// The Restrict NTLM settings of the change, one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    restrict: Vec<String>,
    /// The carrier, when not `other`.
    #[serde(skip_serializing_if = "Option::is_none")]
    carrier: Option<&'static str>,
    /// The new channel-binding settings of the servers, when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    binding: Option<String>,
}

#[derive(Serialize)]
struct InteropJson<'a> {
    policy: PolicyJson,
    pairs: Vec<PairJson<'a>>,
    summary: SummaryJson,
}

/// Standard output, buffered; a closed pipe (`| head`) ends the writing
/// quietly, as the reader's choice.
struct Out<'w> {
    w: std::io::BufWriter<&'w mut dyn std::io::Write>,
    closed: bool,
}

impl<'w> Out<'w> {
    fn new(w: &'w mut dyn std::io::Write) -> Self {
        Self {
            w: std::io::BufWriter::with_capacity(1 << 16, w),
            closed: false,
        }
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), String> {
        if self.closed {
            return Ok(());
        }
        let r = self.w.write_all(bytes);
        self.check(r)
    }

    fn check(&mut self, r: std::io::Result<()>) -> Result<(), String> {
        match r {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            Err(e) => Err(bad("cannot write to standard output", e)),
        }
    }

    fn finish(mut self) -> Result<(), String> {
        if self.closed {
            return Ok(());
        }
        let r = self.w.flush();
        self.check(r)
    }
}

/// Writes the `--json` document, pairs streamed: byte for byte what
/// serializing [`InteropJson`] with every pair in it gives (a test checks
/// this), without holding the pairs. Each distinct outcome's JSON is
/// rendered once; a pair adds its four names.
fn write_json(
    head: &InteropJson<'_>,
    run: &Run<'_, '_>,
    semantics: &Semantics,
    out: &mut Out<'_>,
) -> Result<(), String> {
    let doc = serde_json::to_string_pretty(head).map_err(|e| bad("JSON", e))?;
    // `"pairs": []` cannot occur inside a JSON string (its quotes would be
    // escaped), and comes after the policy: the last one is the key.
    const EMPTY: &str = "\"pairs\": []";
    let at = doc
        .rfind(EMPTY)
        .ok_or_else(|| String::from("JSON: the pairs key is missing"))?;
    let (prefix, rest) = doc.split_at(at + EMPTY.len() - 1);
    out.put(prefix.as_bytes())?;
    // The part of each distinct outcome's pair object after the names, as
    // it sits in the document (pairs are 4 spaces deep).
    let tails = run
        .ev
        .outcomes()
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let item = PairJson {
                client: "",
                server: "",
                client_profile: "",
                server_profile: "",
                before: outcome(&o.before, semantics),
                after: outcome(&o.after, semantics),
                breaks: o.before.is_ok() && o.after.is_err(),
                change: o.change().name(),
                certainty: run
                    .certainty(i)
                    .map(|c| CertaintyJson::new(c, o.after.is_ok())),
                assumed: run.assumed(i),
            };
            let text = serde_json::to_string_pretty(&item)
                .map_err(|e| bad("JSON", e))?
                .replace('\n', "\n    ");
            text.find("\n      \"before\": ")
                .and_then(|i| text.get(i + 1..))
                .map(str::to_owned)
                .ok_or_else(|| String::from("JSON: unexpected pair layout"))
        })
        .collect::<Result<Vec<String>, String>>()?;
    let quoted = |s: &str| serde_json::to_string(s).map_err(|e| bad("JSON", e));
    let names = run
        .plan
        .peers
        .iter()
        .map(|p| Ok((quoted(&p.name)?, quoted(&p.profile.name)?)))
        .collect::<Result<Vec<(String, String)>, String>>()?;
    let mut buf = String::with_capacity(1 << 16);
    let mut first = true;
    let mut failed = None;
    run.each(&mut |c, s, o| {
        let (Some((cn, cp)), Some((sn, sp)), Some(tail)) =
            (names.get(c), names.get(s), tails.get(o))
        else {
            return true;
        };
        buf.push_str(if first { "\n    {\n" } else { ",\n    {\n" });
        first = false;
        for (key, value) in [
            ("client", cn),
            ("server", sn),
            ("client_profile", cp),
            ("server_profile", sp),
        ] {
            buf.push_str("      \"");
            buf.push_str(key);
            buf.push_str("\": ");
            buf.push_str(value);
            buf.push_str(",\n");
        }
        buf.push_str(tail);
        if buf.len() >= 1 << 16 {
            if let Err(e) = out.put(buf.as_bytes()) {
                failed = Some(e);
                return false;
            }
            buf.clear();
        }
        !out.closed
    });
    if let Some(e) = failed {
        return Err(e);
    }
    buf.push_str(if first { "]" } else { "\n  ]" });
    buf.push_str(rest.get(1..).unwrap_or_default());
    buf.push('\n');
    out.put(buf.as_bytes())
}

/// Above this many pairs (or for a sparse fleet) the grid becomes a list.
pub const GRID_MAX_PAIRS: usize = 600;
/// Above this many pairs a progress indicator is shown on a terminal.
pub const PROGRESS_MIN_PAIRS: usize = 2_000;

/// Runs `interop` as the command line asked (`args`) over `catalog`,
/// writing the `--json` document or the human view to `stdout`; `io` does
/// the rest of the I/O. Whether a pair newly breaks.
pub fn run(
    args: &Request,
    catalog: &Catalog,
    io: &mut Io<'_>,
    stdout: &mut dyn std::io::Write,
) -> Result<bool, String> {
    let semantics: Semantics = args.semantics.parse().map_err(|e| bad("--semantics", e))?;
    let engine: Engine = args.engine.parse().map_err(|e| bad("--engine", e))?;
    let change = Policy {
        client_min: args
            .client_min
            .as_deref()
            .map(|m| mask(m, "--client-min"))
            .transpose()?,
        server_min: args
            .server_min
            .as_deref()
            .map(|m| mask(m, "--server-min"))
            .transpose()?,
        client_lm_level: args
            .client_lm_level
            .as_deref()
            .map(|l| level(l, "--client-lm-level"))
            .transpose()?,
        server_lm_level: args
            .server_lm_level
            .as_deref()
            .map(|l| level(l, "--server-lm-level"))
            .transpose()?,
    };
    let plan = match &args.fleet {
        Some(path) => {
            let text = (io.read_fleet)(path)?;
            fleet_plan(catalog, path, &text, &args.clients, &args.servers)
                .map_err(|e| e.to_string())?
        }
        None => catalog_plan(catalog, &args.clients, &args.servers).map_err(|e| e.to_string())?,
    };
    let restrict = restrict_path(
        &args.client_restrict,
        &args.server_restrict,
        &args.dc_restrict,
    )
    .map_err(|e| e.to_string())?;
    let carrier = ntlm_sim::binding::carrier(&args.carrier).map_err(|e| e.to_string())?;
    let binding = ntlm_sim::binding::policy(&args.bindings, &args.zero_channel_bindings)
        .map_err(|e| e.to_string())?;
    // Before: the carrier with no channel-binding setting; after: with them.
    let before_opts = Options {
        app: Application {
            sign: args.sign,
            seal: args.seal,
        },
        semantics,
        engine,
        carrier,
        ..Options::default()
    };
    let opts = Options {
        binding,
        ..before_opts
    };

    let show_progress = plan.count >= PROGRESS_MIN_PAIRS;
    let mut progress = |done: usize, total: usize| {
        if show_progress {
            (io.progress)(done, total);
        }
    };
    // Per-pair cells are kept only for the views that need every pair at
    // once: the HTML report and the grid (a few hundred pairs at most).
    let keep_cells = args.html.is_some() || (!args.json && plan.count <= GRID_MAX_PAIRS);
    let mut run = evaluate(
        &plan,
        &change,
        &restricting(
            &plan,
            &restrict,
            !args.client_restrict.is_empty(),
            !args.server_restrict.is_empty(),
        ),
        &opts,
        before_opts.binding,
        keep_cells,
        &mut progress,
    );
    certainties(&mut run, args.json || args.html.is_some());
    let matrix = run.cells.clone().map(|cells| run.ev.matrix(cells));
    let reach = not_reached(&plan, &change);

    if let (Some(path), Some(matrix)) = (&args.html, &matrix) {
        let mut profiles: Vec<&Profile> = Vec::new();
        for p in &plan.peers {
            if !profiles.iter().any(|q| std::ptr::eq(*q, p.profile)) {
                profiles.push(p.profile);
            }
        }
        let mut policy: Vec<(String, String)> = describe_all(&change, &opts)
            .into_iter()
            .chain(ntlm_sim::restrict::describe(&restrict))
            .map(|l| ("change".to_owned(), l))
            .collect();
        if policy.is_empty() {
            policy.push(("change".into(), "none".into()));
        }
        for r in &reach {
            policy.push((
                "not reached".into(),
                format!("{} ({}): does not read {}", r.peer, r.profile, r.value),
            ));
        }
        let configured = Configured {
            client_min: change.client_min.map(|m| m.bits()),
            server_min: change.server_min.map(|m| m.bits()),
            clients_changed: change.client_min.is_some() || change.client_lm_level.is_some(),
            servers_changed: change.server_min.is_some() || change.server_lm_level.is_some(),
        };
        let report = Report {
            title: "NTLM policy impact".into(),
            summary: format!(
                "{} \u{2014} {} pairs, {} newly break",
                {
                    let d = describe_all(&change, &opts);
                    if d.is_empty() {
                        "no change".to_owned()
                    } else {
                        d.join("; ")
                    }
                },
                run.counts.pairs,
                run.counts.breaking
            ),
            results: matrix,
            clients: plan.clients.clone(),
            servers: plan.servers.clone(),
            policy,
            options: opts,
            profiles,
            hosts: plan.hosts.clone(),
            certainties: run
                .info
                .iter()
                .zip(run.ev.outcomes())
                .map(|(i, o)| {
                    let (verdict, opposite) = verdict_words(o.after.is_ok());
                    i.certainty.as_ref().map(|c| {
                        (
                            c.summary(verdict, opposite).to_string(),
                            c.holds_under_every_reading(),
                        )
                    })
                })
                .collect(),
            configured,
            relaxed: relaxed_checks(&run, &plan, &change, &opts, configured),
            not_reached: reach.iter().map(|r| r.peer.clone()).collect(),
        };
        (io.write_html)(path, &report::html(&report))?;
    }

    let breaks = run.counts.breaking > 0;
    let mut out = Out::new(stdout);
    if args.json {
        let head = InteropJson {
            policy: PolicyJson {
                client_min: change.client_min.map(|m| hex32(m.bits())),
                server_min: change.server_min.map(|m| hex32(m.bits())),
                client_lm_level: change.client_lm_level.map(LmCompatibilityLevel::level),
                server_lm_level: change.server_lm_level.map(LmCompatibilityLevel::level),
                semantics: semantics.name(),
                switches: report::switches(&semantics)
                    .into_iter()
                    .map(|(k, v, _)| (k.to_owned(), serde_json::Value::from(v)))
                    .collect(),
                sign: args.sign,
                seal: args.seal,
                engine: engine.name(),
                not_reached: reach,
                restrict: ntlm_sim::restrict::describe(&restrict),
                carrier: (carrier != ntlm_policy::Carrier::Other).then_some(carrier.name()),
                binding: (!binding.is_default()).then(|| binding.describe()),
            },
            pairs: Vec::new(),
            summary: run.counts.json(),
        };
        write_json(&head, &run, &semantics, &mut out)?;
    } else {
        let dense = plan.clients.len().saturating_mul(plan.servers.len());
        let pairs = run.counts.pairs;
        let as_list = args.list
            || pairs > GRID_MAX_PAIRS
            || (args.fleet.is_some() && pairs.saturating_mul(2) < dense);
        human(
            &run,
            matrix.as_ref(),
            (&change, &ntlm_sim::restrict::describe(&restrict)),
            &opts,
            &reach,
            View {
                as_list,
                paint: Paint {
                    colour: io.colour,
                    width: io.width,
                },
                fleet: args.fleet.is_some(),
            },
            &mut out,
        )?;
        if let Some(path) = &args.html {
            out.put(format!("report: {path}\n").as_bytes())?;
        }
    }
    out.finish()?;
    Ok(breaks)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use ntlm_policy::Certainty;
    use ntlm_sim::interop::Counts;
    use ntlm_sim::matrix;
    use ntlm_sim::profiles::assumed_facts;

    use super::*;

    /// The streamed `--json` document is byte for byte the one serializing
    /// every pair at once gives, names with quotes, backslashes and
    /// non-ASCII text included, with and without pairs.
    #[test]
    fn streamed_json_is_the_serialized_document() {
        /// The request of `interop --json ARGV`.
        fn request(argv: &[&str]) -> Request {
            let mut r = Request {
                json: true,
                ..Request::default()
            };
            let mut it = argv.iter();
            while let Some(&flag) = it.next() {
                match flag {
                    "--sign" => r.sign = true,
                    "--seal" => r.seal = true,
                    _ => {
                        let value = (*it.next().unwrap()).to_owned();
                        match flag {
                            "--server-min" => r.server_min = Some(value),
                            "--client-lm-level" => r.client_lm_level = Some(value),
                            "--fleet" => r.fleet = Some(value),
                            "--clients" => r.clients.push(value),
                            "--servers" => r.servers.push(value),
                            _ => panic!("{flag}"),
                        }
                    }
                }
            }
            r
        }
        /// `run` with the files of the test and no terminal.
        fn run_json(args: &Request, out: &mut Vec<u8>) {
            let catalog = Catalog::builtin().unwrap();
            let mut io = Io {
                width: 100,
                colour: false,
                progress: &mut |_, _| {},
                read_fleet: &mut |path| Ok(std::fs::read_to_string(path).unwrap()),
                write_html: &mut |_, _| Ok(()),
            };
            run(args, &catalog, &mut io, out).unwrap();
        }
        let dir = std::env::temp_dir().join(format!("ntlmsim-json-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fleet = dir.join("fleet.toml");
        std::fs::write(
            &fleet,
            "all_to_all = true\n\
             [[host]]\nname = \"dc \\\"01\\\" \\\\ é\"\nprofile = \"windows-11\"\nNtlmMinServerSec = 0x20000000\n\
             [[host]]\nname = \"ws</script>\"\nprofile = \"windows-xp\"\n\
             [[host]]\nname = \"nas\"\nprofile = \"ntlmv1-nas\"\ntalks_to = [\"dc \\\"01\\\" \\\\ é\"]\n\
             [[host]]\nname = \"curl\"\nprofile = \"curl-7.88\"\n",
        )
        .unwrap();
        let fleet = fleet.to_str().unwrap();
        for argv in [
            vec!["--server-min", "0x20080000"],
            vec!["--fleet", fleet, "--server-min", "0x20080000", "--sign"],
            vec![
                "--fleet",
                fleet,
                "--client-lm-level",
                "5",
                "--servers",
                "nas",
            ],
            vec![
                "--clients",
                "curl-7.88",
                "--servers",
                "windows-xp",
                "--seal",
            ],
        ] {
            let args = request(&argv);
            let mut streamed = Vec::new();
            run_json(&args, &mut streamed);

            // The document as it was built before streaming: every pair held.
            let catalog = Catalog::builtin().unwrap();
            let fleet_text = args
                .fleet
                .as_deref()
                .map(|p| std::fs::read_to_string(p).unwrap());
            let plan = match (&args.fleet, &fleet_text) {
                (Some(path), Some(text)) => {
                    fleet_plan(&catalog, path, text, &args.clients, &args.servers).unwrap()
                }
                _ => catalog_plan(&catalog, &args.clients, &args.servers).unwrap(),
            };
            let change = Policy {
                client_min: args.client_min.as_deref().map(|m| mask(m, "").unwrap()),
                server_min: args.server_min.as_deref().map(|m| mask(m, "").unwrap()),
                client_lm_level: args
                    .client_lm_level
                    .as_deref()
                    .map(|l| level(l, "").unwrap()),
                server_lm_level: None,
            };
            let opts = Options {
                app: Application {
                    sign: args.sign,
                    seal: args.seal,
                },
                ..Options::default()
            };
            let pairs: Vec<_> = plan.pairs().collect();
            let results = matrix::run_pairs(&plan.peers, &pairs, &change, &opts, &mut |_, _| {});
            let semantics = Semantics::default();
            // Each pair's after verdict under every reading, from whole runs
            // with the full engine (the run under test uses the flags engine
            // for the other readings).
            let mut by_reading: HashMap<Semantics, Vec<bool>> = HashMap::new();
            let mut after_under = |sem: &Semantics, i: usize| {
                by_reading
                    .entry(*sem)
                    .or_insert_with(|| {
                        let o = Options {
                            semantics: *sem,
                            ..opts
                        };
                        matrix::run_pairs(&plan.peers, &pairs, &change, &o, &mut |_, _| {})
                            .iter()
                            .map(|r| r.after.is_ok())
                            .collect()
                    })
                    .get(i)
                    .copied()
            };
            let certainties: Vec<Certainty> = (0..results.len())
                .map(|i| ntlm_policy::certainty(&semantics, |sem| after_under(sem, i)))
                .collect();
            let mut counts = Counts::default();
            for (r, c) in results.iter().zip(&certainties) {
                counts.add(r.change());
                if r.breaks() && c.holds_under_every_reading() {
                    counts.breaking_under_every_reading += 1;
                }
            }
            let doc = InteropJson {
                policy: PolicyJson {
                    client_min: change.client_min.map(|m| hex32(m.bits())),
                    server_min: change.server_min.map(|m| hex32(m.bits())),
                    client_lm_level: change.client_lm_level.map(LmCompatibilityLevel::level),
                    server_lm_level: None,
                    semantics: semantics.name(),
                    switches: report::switches(&semantics)
                        .into_iter()
                        .map(|(k, v, _)| (k.to_owned(), serde_json::Value::from(v)))
                        .collect(),
                    sign: args.sign,
                    seal: args.seal,
                    engine: "full",
                    not_reached: not_reached(&plan, &change),
                    restrict: Vec::new(),
                    carrier: None,
                    binding: None,
                },
                pairs: results
                    .iter()
                    .zip(&certainties)
                    .map(|(r, c)| PairJson {
                        client: &r.client,
                        server: &r.server,
                        client_profile: &r.client_profile,
                        server_profile: &r.server_profile,
                        before: outcome(&r.before, &semantics),
                        after: outcome(&r.after, &semantics),
                        breaks: r.breaks(),
                        change: r.change().name(),
                        certainty: Some(CertaintyJson::new(c, r.after.is_ok())),
                        assumed: assumed_facts(
                            catalog.get(&r.client_profile),
                            catalog.get(&r.server_profile),
                        ),
                    })
                    .collect(),
                summary: counts.json(),
            };
            let mut held = serde_json::to_vec_pretty(&doc).unwrap();
            held.push(b'\n');
            assert!(!results.is_empty());
            let differs = streamed.iter().zip(&held).position(|(a, b)| a != b);
            assert!(
                streamed == held,
                "{argv:?}: {} vs {} bytes, first difference at {differs:?}",
                streamed.len(),
                held.len()
            );
        }
        // No pair at all: `"pairs": []`.
        let mut streamed = Vec::new();
        run_json(
            &request(&["--fleet", fleet, "--clients", "curl", "--servers", "curl"]),
            &mut streamed,
        );
        let text = String::from_utf8(streamed).unwrap();
        assert!(
            text.contains("\n  \"pairs\": [],\n  \"summary\": {\n    \"pairs\": 0,"),
            "{text}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
