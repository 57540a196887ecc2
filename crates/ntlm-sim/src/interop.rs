//! The pairs of an `interop` run and their evaluation: which peers (the
//! catalog's, or a fleet's hosts), which client × server pairs, and each
//! pair decided before and after a policy change, counted and grouped by
//! failure without holding a result per pair. `demo` runs the same
//! evaluation; the views of a run are in ntlm-report. The peers and pairs
//! of a run are planned in `plan.rs`.

use ntlm_policy::{Certainty, Failure, MinSessionSecurity, Semantics};
use serde::Serialize;

use crate::matrix::{self, Cell, Change, Evaluator, Options, Policy};
use crate::outcome::OutcomeJson;
use crate::profiles::{AssumedFacts, assumed_facts};
use crate::relax::{self, Cause, Configured, Relaxed};

mod plan;

pub use plan::{
    HostInfo, NotReachedJson, Pairs, Plan, catalog_plan, fleet_plan, not_reached, restrict_path,
    restricting, settings_text,
};

/// The `summary` object of `interop --json`.
#[derive(Debug, Serialize)]
pub struct SummaryJson {
    /// Pairs evaluated.
    pub pairs: usize,
    /// Pairs the change newly breaks.
    pub breaking: usize,
    /// Of the newly breaking pairs, those that break under every documented
    /// reading of the semantics switches.
    pub breaking_under_every_reading: usize,
    /// Pairs broken before the change too.
    pub already_broken: usize,
    /// Pairs the change fixes.
    pub fixed: usize,
    /// Pairs that work before and after, negotiating differently.
    pub changed: usize,
    /// Pairs the change leaves as they were.
    pub unchanged: usize,
}

/// A verdict as JSON; a failure lists each missing bit with its own rule
/// under `semantics` (`missing_rules`).
pub fn outcome(v: &matrix::Verdict, semantics: &Semantics) -> OutcomeJson {
    match v {
        Ok(r) => OutcomeJson::success(r, None),
        Err(f) => OutcomeJson::failure_under(f, semantics),
    }
}

/// Pairs counted by how their outcome moved.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    /// Pairs evaluated.
    pub pairs: usize,
    /// Newly broken.
    pub breaking: usize,
    /// Newly broken under every documented reading.
    pub breaking_under_every_reading: usize,
    /// Broken before and after.
    pub already_broken: usize,
    /// Fixed by the change.
    pub fixed: usize,
    /// Working, negotiating differently.
    pub changed: usize,
    /// Unchanged.
    pub unchanged: usize,
}

impl Counts {
    /// Counts one pair whose outcome moved as `c` says.
    pub fn add(&mut self, c: Change) {
        self.pairs += 1;
        match c {
            Change::NewlyBroken => self.breaking += 1,
            Change::AlreadyBroken => self.already_broken += 1,
            Change::Fixed => self.fixed += 1,
            Change::Changed => self.changed += 1,
            Change::Unchanged => self.unchanged += 1,
        }
    }

    /// The `summary` object of `interop --json`.
    pub const fn json(&self) -> SummaryJson {
        SummaryJson {
            pairs: self.pairs,
            breaking: self.breaking,
            breaking_under_every_reading: self.breaking_under_every_reading,
            already_broken: self.already_broken,
            fixed: self.fixed,
            changed: self.changed,
            unchanged: self.unchanged,
        }
    }
}

/// The most names a human-readable list shows.
pub const LIST_MAX: usize = 40;

/// What one distinct outcome is, for the counts and groups.
#[derive(Debug, Clone)]
pub struct Info {
    /// How the outcome moved.
    pub change: Change,
    /// Its group among the newly breaking ([`Run::groups`]).
    pub group: Option<usize>,
    /// Pairs with this outcome.
    pub pairs: usize,
    /// Whether its after verdict holds under every documented reading
    /// (known once [`certainties`] has run).
    pub certainty: Option<Certainty>,
}

/// Newly breaking pairs with the same failure.
#[derive(Debug)]
pub struct Group {
    /// The failure.
    pub failure: Failure,
    /// Pairs in the group.
    pub count: usize,
    /// The distinct outcomes in the group.
    pub outcomes: Vec<usize>,
    /// The first [`LIST_MAX`] pairs (peer indices).
    pub sample: Vec<(usize, usize)>,
}

/// A run evaluated: the counts, the groups, and what it takes to go over the
/// pairs again (the evaluator, which now knows every outcome, and the
/// compact cells when they were kept).
#[derive(Debug)]
pub struct Run<'r, 'c> {
    /// The plan evaluated.
    pub plan: &'r Plan<'c>,
    /// The evaluator, which knows every outcome.
    pub ev: Evaluator<'r, 'c>,
    /// The compact cells, when kept.
    pub cells: Option<Vec<Cell>>,
    /// Per distinct outcome.
    pub info: Vec<Info>,
    /// The counts.
    pub counts: Counts,
    /// The newly breaking pairs by failure.
    pub groups: Vec<Group>,
    /// The first [`LIST_MAX`] fixed pairs.
    pub fixed: Vec<(usize, usize)>,
}

impl Run<'_, '_> {
    /// The certainty of outcome `o`'s after verdict, once computed.
    pub fn certainty(&self, o: usize) -> Option<&Certainty> {
        self.info.get(o).and_then(|i| i.certainty.as_ref())
    }

    /// What is assumed of the profiles of outcome `o` in their roles.
    pub fn assumed(&self, o: usize) -> Vec<AssumedFacts> {
        u32::try_from(o)
            .ok()
            .and_then(|i| self.ev.profiles_of(i))
            .map(|(c, s)| assumed_facts(Some(c), Some(s)))
            .unwrap_or_default()
    }

    /// Calls `f(client, server, outcome)` for every pair in order, until it
    /// returns false.
    pub fn each(&self, f: &mut dyn FnMut(usize, usize, usize) -> bool) {
        match &self.cells {
            Some(cells) => {
                for c in cells {
                    if !f(c.client as usize, c.server as usize, c.outcome as usize) {
                        return;
                    }
                }
            }
            None => {
                for (c, s) in self.plan.pairs() {
                    if let Some(o) = self.ev.known(c, s) {
                        if !f(c, s, o as usize) {
                            return;
                        }
                    }
                }
            }
        }
    }

    /// The name of peer `i`.
    pub fn name(&self, i: usize) -> &str {
        self.plan.peers.get(i).map_or("?", |p| p.name.as_str())
    }
}

fn same_failure(g: &Failure, f: &Failure) -> bool {
    g.side == f.side
        && g.stage == f.stage
        && g.status == f.status
        && g.missing == f.missing
        && g.rule.id == f.rule.id
}

/// Decides every pair of `plan` (each distinct pair of kinds once) and
/// counts them, holding per pair only a compact cell, and only with
/// `keep_cells`.
pub fn evaluate<'r, 'c>(
    plan: &'r Plan<'c>,
    change: &Policy,
    restricting: &matrix::Restricting,
    opts: &Options,
    before_binding: ntlm_policy::BindingPolicy,
    keep_cells: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Run<'r, 'c> {
    let mut run = Run {
        plan,
        ev: Evaluator::new(&plan.peers, change, opts)
            .with_restrictions(restricting.clone())
            .binding_before(before_binding),
        cells: keep_cells.then(Vec::new),
        info: Vec::new(),
        counts: Counts::default(),
        groups: Vec::new(),
        fixed: Vec::new(),
    };
    let total = plan.count;
    for (done, (c, s)) in plan.pairs().enumerate() {
        if done % 4096 == 0 {
            progress(done, total);
        }
        let Some(cell) = run.ev.cell(c, s) else {
            continue;
        };
        let o = cell.outcome as usize;
        while run.info.len() < run.ev.outcomes().len() {
            let Some(x) = run.ev.outcomes().get(run.info.len()) else {
                break;
            };
            let change = x.change();
            let group = match (&x.after, change) {
                (Err(f), Change::NewlyBroken) => Some(
                    match run.groups.iter().position(|g| same_failure(&g.failure, f)) {
                        Some(g) => g,
                        None => {
                            run.groups.push(Group {
                                failure: *f,
                                count: 0,
                                outcomes: Vec::new(),
                                sample: Vec::new(),
                            });
                            run.groups.len() - 1
                        }
                    },
                ),
                _ => None,
            };
            if let Some(g) = group.and_then(|g| run.groups.get_mut(g)) {
                g.outcomes.push(run.info.len());
            }
            run.info.push(Info {
                change,
                group,
                pairs: 0,
                certainty: None,
            });
        }
        let Some(info) = run.info.get_mut(o) else {
            continue;
        };
        info.pairs += 1;
        let (change, group) = (info.change, info.group);
        run.counts.add(change);
        if let Some(g) = group.and_then(|g| run.groups.get_mut(g)) {
            g.count += 1;
            if g.sample.len() < LIST_MAX {
                g.sample.push((c, s));
            }
        }
        if change == Change::Fixed && run.fixed.len() < LIST_MAX {
            run.fixed.push((c, s));
        }
        if let Some(cells) = &mut run.cells {
            cells.push(cell);
        }
    }
    progress(total, total);
    run
}

/// Computes the certainty of the after verdicts ([`Evaluator::certainty`]):
/// of every distinct outcome with `all`, else of the newly breaking ones
/// (what the human output shows). Counts the newly breaking pairs whose
/// verdict holds under every documented reading.
pub fn certainties(run: &mut Run<'_, '_>, all: bool) {
    for o in 0..run.info.len() {
        let Some(info) = run.info.get(o) else {
            continue;
        };
        if !all && info.change != Change::NewlyBroken {
            continue;
        }
        let c = u32::try_from(o).ok().and_then(|i| run.ev.certainty(i));
        if let Some(info) = run.info.get_mut(o) {
            if info.change == Change::NewlyBroken
                && c.as_ref().is_some_and(Certainty::holds_under_every_reading)
            {
                run.counts.breaking_under_every_reading += info.pairs;
            }
            info.certainty = c;
        }
    }
}

/// A cause, the side whose value is relaxed, the relaxed value and the pairs
/// to simulate it on.
type Pending = (Cause, ntlm_policy::Side, u32, Vec<(usize, usize)>);

/// Pairs simulated per relaxed value in the HTML report (the rest are counted).
const RELAX_CHECK_MAX: usize = 100_000;

/// The relaxed values of the HTML report's "What to do" section, simulated:
/// for each minimum-security cause of newly broken pairs, the changed value
/// without the missing bits ([`relax::relaxed_value`]), run on that
/// cause's pairs (at most 100,000 of them) with everything else
/// as in the change.
pub fn relaxed_checks(
    run: &Run<'_, '_>,
    plan: &Plan<'_>,
    change: &Policy,
    opts: &Options,
    configured: Configured,
) -> Vec<Relaxed> {
    let mut pending: Vec<Pending> = Vec::new();
    let outcomes = run.ev.outcomes();
    run.each(&mut |c, s, o| {
        let Some(x) = outcomes.get(o) else {
            return true;
        };
        let (Change::NewlyBroken, Err(f)) = (x.change(), &x.after) else {
            return true;
        };
        let Some((side, value)) = relax::relaxed_value(f, configured) else {
            return true;
        };
        let cause = Cause::of(f);
        let i = match pending.iter().position(|p| p.0 == cause) {
            Some(i) => i,
            None => {
                pending.push((cause, side, value, Vec::new()));
                pending.len() - 1
            }
        };
        if let Some(p) = pending.get_mut(i)
            && p.3.len() < RELAX_CHECK_MAX
        {
            p.3.push((c, s));
        }
        true
    });
    pending
        .into_iter()
        .map(|(cause, side, value, pairs)| {
            let mut relaxed = *change;
            let v = Some(MinSessionSecurity::from_registry(value));
            match side {
                ntlm_policy::Side::Server => relaxed.server_min = v,
                ntlm_policy::Side::Client => relaxed.client_min = v,
            }
            let mut ev = Evaluator::new(&plan.peers, &relaxed, opts);
            let mut out = Relaxed {
                cause,
                value,
                checked: 0,
                works: 0,
                example: None,
            };
            for (c, s) in pairs {
                let Some(o) = ev.outcome(c, s) else {
                    continue;
                };
                let Some(x) = ev.outcomes().get(o as usize) else {
                    continue;
                };
                out.checked += 1;
                match &x.after {
                    Ok(_) => out.works += 1,
                    Err(f) => {
                        if out.example.is_none() {
                            let name =
                                |i: usize| plan.peers.get(i).map_or("?", |p| p.name.as_str());
                            out.example =
                                Some(format!("{} \u{2192} {}: {}", name(c), name(s), f.refusal()));
                        }
                    }
                }
            }
            out
        })
        .collect()
}
