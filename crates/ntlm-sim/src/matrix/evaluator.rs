//! The evaluator of a run: each distinct pair of kinds (profile and
//! settings) decided once before and after the change, the outcomes
//! memoised, and a run's results held as compact [`Cell`]s.

use std::collections::HashMap;

use ntlm_policy::restrict::{Restrictions, Transport};
use ntlm_policy::{Certainty, Semantics};

use super::{
    Application, Change, Effective, Engine, Options, PairRef, PairResult, PairSet, Peer, Policy,
    Verdict, exchange,
};
use crate::profiles::Profile;
use crate::restrict::Block;
/// One distinct outcome of a run: a pair's verdicts before and after.
#[derive(Debug, Clone)]
pub struct PairOutcome {
    /// Under the peers' own settings.
    pub before: Verdict,
    /// Under the change.
    pub after: Verdict,
}

impl PairOutcome {
    /// How the outcome moved.
    pub fn change(&self) -> Change {
        Change::of(&self.before, &self.after)
    }
}

/// One side of a pair as the engine sees it: the profile (by its index
/// among the run's distinct profiles) and its effective settings before and
/// after the change.
type Side = (usize, Effective, Effective);

/// Restrict NTLM on the peers of a run ([`Evaluator::with_restrictions`]).
#[derive(Debug, Clone, Default)]
pub struct Restricting {
    /// Per peer (by index): its Restrict NTLM values before and after the
    /// change; a peer beyond the list has none.
    pub peers: Vec<(Restrictions, Restrictions)>,
    /// The values of the servers' DC after the change (none before).
    pub dc: Restrictions,
}

/// What Restrict NTLM blocks in a pair, before and after the change.
type Blocks = (Option<Block>, Option<Block>);

/// Decides pairs of a run, each distinct pair of sides once.
///
/// Two hosts are the same kind of client (or server) when they have the same
/// profile and the same effective settings before and after the change
/// (minimum and LmCompatibilityLevel); the run's [`Options`] (semantics,
/// application requests, engine, carrier) are the same for every pair, and
/// the servers' channel-binding settings are the same for every pair before
/// the change and for every pair after it ([`Evaluator::binding_before`]). That is
/// everything an exchange reads ([`exchange`]), so a pair of kinds has one
/// outcome, computed the first time it is asked for and then shared (with
/// Restrict NTLM, [`Evaluator::with_restrictions`], per pair of kinds and
/// what the pair's settings block, which may name the server): a
/// fleet of thousands of hosts of a few dozen kinds costs a few thousand
/// exchanges. Outcomes are numbered in the order they were first needed.
#[derive(Debug)]
pub struct Evaluator<'p, 'a> {
    peers: &'p [Peer<'a>],
    opts: Options,
    /// The server's channel-binding settings before the change (after it:
    /// `opts.binding`).
    before_binding: ntlm_policy::BindingPolicy,
    kinds: Vec<&'a Profile>,
    /// Per peer: its client kind and server kind (indices into `sides`).
    peer_sides: Vec<(u32, u32)>,
    sides: Vec<Side>,
    /// (client kind, server kind, what Restrict NTLM blocks) -> outcome
    /// index; `None`: a profile cannot play its role.
    pairs: HashMap<(u32, u32, Blocks), Option<u32>>,
    /// Restrict NTLM on the peers, when any peer or the change sets it.
    restricting: Option<Restricting>,
    /// Verdicts by what the engine reads, shared between before and after.
    verdicts: HashMap<Exchange, Option<Verdict>>,
    outcomes: Vec<PairOutcome>,
    /// Per outcome: what its after verdict's engine read, and whether
    /// Restrict NTLM blocks it.
    after_exchanges: Vec<(Exchange, bool)>,
    /// The certainty of each after verdict asked for, by what it read.
    certainties: HashMap<Exchange, Option<Certainty>>,
}

/// What an exchange reads besides the run's [`Options`]: the client kind and
/// its effective settings, the server kind and its, and the server's
/// channel-binding settings (which a change may set: see
/// [`Evaluator::binding_before`]).
type Exchange = (
    usize,
    Effective,
    usize,
    Effective,
    ntlm_policy::BindingPolicy,
);

impl<'p, 'a> Evaluator<'p, 'a> {
    /// An evaluator for pairs of `peers`, before (each peer's own settings)
    /// and after `change`, which reaches a peer only for the values its
    /// profile reads ([`Policy::reaching`]).
    pub fn new(peers: &'p [Peer<'a>], change: &Policy, opts: &Options) -> Self {
        let mut kinds: Vec<&'a Profile> = Vec::new();
        let mut side_index: HashMap<Side, u32> = HashMap::new();
        let mut sides: Vec<Side> = Vec::new();
        let mut side = |s: Side, sides: &mut Vec<Side>| -> u32 {
            *side_index.entry(s).or_insert_with(|| {
                sides.push(s);
                u32::try_from(sides.len() - 1).unwrap_or(u32::MAX)
            })
        };
        let mut peer_sides = Vec::with_capacity(peers.len());
        for peer in peers {
            // Distinct profiles by identity, so that keys stay small.
            let kind = match kinds.iter().position(|q| std::ptr::eq(*q, peer.profile)) {
                Some(k) => k,
                None => {
                    kinds.push(peer.profile);
                    kinds.len() - 1
                }
            };
            let before = peer.settings;
            let after = before.overlay(&change.reaching(peer.profile));
            let c = side(
                (
                    kind,
                    before.client_side(peer.profile),
                    after.client_side(peer.profile),
                ),
                &mut sides,
            );
            let s = side(
                (
                    kind,
                    before.server_side(peer.profile),
                    after.server_side(peer.profile),
                ),
                &mut sides,
            );
            peer_sides.push((c, s));
        }
        Self {
            peers,
            opts: *opts,
            before_binding: opts.binding,
            kinds,
            peer_sides,
            sides,
            pairs: HashMap::new(),
            restricting: None,
            verdicts: HashMap::new(),
            outcomes: Vec::new(),
            after_exchanges: Vec::new(),
            certainties: HashMap::new(),
        }
    }

    /// The same evaluator with the server's channel-binding settings before
    /// the change set to `binding` (by default they are the run's
    /// [`Options::binding`], which then stand for the after side only).
    #[must_use]
    pub fn binding_before(mut self, binding: ntlm_policy::BindingPolicy) -> Self {
        self.before_binding = binding;
        self
    }

    /// The outcome of `client` (a peer index) against `server`, as an index
    /// into [`Evaluator::outcomes`]; `None` when an index is out of range
    /// or a profile cannot play its role.
    pub fn outcome(&mut self, client: usize, server: usize) -> Option<u32> {
        let (c, _) = *self.peer_sides.get(client)?;
        let (_, s) = *self.peer_sides.get(server)?;
        let blocks = self.blocks(client, server);
        if let Some(&known) = self.pairs.get(&(c, s, blocks)) {
            return known;
        }
        let computed = self.compute(c, s, blocks);
        self.pairs.insert((c, s, blocks), computed);
        computed
    }

    /// Applies Restrict NTLM to the pairs: each peer's values before and
    /// after the change, and the DC's after it. Settings reach only peers
    /// whose profile reads Windows policy; the server's name is matched
    /// against the exception lists, and the account is a domain account on
    /// a domain-joined server ([`crate::restrict::apply_to_verdict`]).
    /// Pairs whose settings block differently are not shared.
    #[must_use]
    pub fn with_restrictions(mut self, r: Restricting) -> Self {
        let none = Restrictions::default();
        let any = r.dc != none || r.peers.iter().any(|(b, a)| *b != none || *a != none);
        self.restricting = any.then_some(r);
        self.pairs.clear();
        self
    }

    /// What Restrict NTLM blocks between peers `client` and `server`,
    /// before and after the change.
    fn blocks(&self, client: usize, server: usize) -> Blocks {
        let Some(r) = &self.restricting else {
            return (None, None);
        };
        let (Some(cp), Some(sp)) = (self.peers.get(client), self.peers.get(server)) else {
            return (None, None);
        };
        let none = Restrictions::default();
        let own = |i: usize| r.peers.get(i).map_or((&none, &none), |(b, a)| (b, a));
        let ((cb, ca), (sb, sa)) = (own(client), own(server));
        let reads = |p: &Profile| p.honours != crate::profiles::Honours::NONE;
        let reading = (reads(cp.profile), reads(sp.profile));
        let joined = sp.profile.server_config().is_some_and(|c| c.domain_joined);
        let transport = if self.opts.carrier == ntlm_policy::Carrier::Smb {
            Transport::Smb
        } else {
            Transport::Other
        };
        let target = (sp.name.as_str(), transport);
        (
            crate::restrict::block((cb, sb, &none), target, reading, &sp.name, joined),
            crate::restrict::block((ca, sa, &r.dc), target, reading, &sp.name, joined),
        )
    }

    fn compute(&mut self, c: u32, s: u32, (bb, ba): Blocks) -> Option<u32> {
        let (ck, cbefore, cafter) = *self.sides.get(usize::try_from(c).ok()?)?;
        let (sk, sbefore, safter) = *self.sides.get(usize::try_from(s).ok()?)?;
        let (bind_before, bind_after) = (self.before_binding, self.opts.binding);
        let before = crate::restrict::apply_block(
            self.verdict((ck, cbefore, sk, sbefore, bind_before))?,
            bb,
        );
        let after =
            crate::restrict::apply_block(self.verdict((ck, cafter, sk, safter, bind_after))?, ba);
        self.outcomes.push(PairOutcome { before, after });
        self.after_exchanges
            .push(((ck, cafter, sk, safter, bind_after), ba.is_some()));
        u32::try_from(self.outcomes.len() - 1).ok()
    }

    /// Whether the after verdict of outcome `outcome` (an index into
    /// [`Evaluator::outcomes`]) works or breaks under every documented
    /// reading of the semantics switches ([`ntlm_policy::certainty()`]): the
    /// same exchange, with the run's application requests, under each
    /// reading. `None` when the index is out of range.
    ///
    /// The readings are decided by the flags-only engine ([`Engine::Flags`],
    /// about 140 exchanges, each far cheaper than a full one): the switches
    /// only change policy decisions, which both engines take through the
    /// same `ntlm-policy` functions (a test checks that both engines give the
    /// same certainty on the built-in catalog). When the flags-only engine
    /// does not reach the run's verdict under the chosen semantics (the one
    /// known difference, see [`Engine::Flags`]), the run's own engine
    /// decides every reading instead. Computed the first time it is asked
    /// for and shared by every outcome whose after exchange reads the same.
    pub fn certainty(&mut self, outcome: u32) -> Option<Certainty> {
        let (key, blocked) = *self.after_exchanges.get(usize::try_from(outcome).ok()?)?;
        if blocked {
            // Restrict NTLM blocks it whatever the policy engines decide.
            return Some(ntlm_policy::certainty(&self.opts.semantics, |_| false));
        }
        if let Some(known) = self.certainties.get(&key) {
            return known.clone();
        }
        let works = self
            .outcomes
            .get(usize::try_from(outcome).ok()?)
            .map(|o| o.after.is_ok());
        let (c, ce, s, se, binding) = key;
        let computed = match (self.kinds.get(c).copied(), self.kinds.get(s).copied()) {
            (Some(cp), Some(sp)) => {
                let opts = self.opts;
                // `None` (a profile cannot play its role) is the same under
                // every reading: it is not a verdict.
                let decide = |engine: Engine, sem: &Semantics| {
                    let o = Options {
                        semantics: *sem,
                        engine,
                        binding,
                        ..opts
                    };
                    exchange(cp, ce, sp, se, &o).map(|v| v.is_ok())
                };
                let engine = if decide(Engine::Flags, &opts.semantics) == works {
                    Engine::Flags
                } else {
                    opts.engine
                };
                Some(ntlm_policy::certainty(&opts.semantics, |sem| {
                    decide(engine, sem)
                }))
            }
            _ => None,
        };
        self.certainties.insert(key, computed.clone());
        computed
    }

    fn verdict(&mut self, key: Exchange) -> Option<Verdict> {
        let (c, ce, s, se, binding) = key;
        let (cp, sp) = (self.kinds.get(c).copied()?, self.kinds.get(s).copied()?);
        let opts = Options {
            binding,
            ..self.opts
        };
        self.verdicts
            .entry(key)
            .or_insert_with(|| exchange(cp, ce, sp, se, &opts))
            .clone()
    }

    /// The client and server profiles of outcome `outcome` (an index into
    /// [`Evaluator::outcomes`]): every pair with that outcome has them.
    pub fn profiles_of(&self, outcome: u32) -> Option<(&'a Profile, &'a Profile)> {
        let ((c, _, s, _, _), _) = self.after_exchanges.get(usize::try_from(outcome).ok()?)?;
        Some((*self.kinds.get(*c)?, *self.kinds.get(*s)?))
    }

    /// The outcome of `client` against `server` if it was already decided
    /// ([`Evaluator::outcome`]), without deciding it.
    pub fn known(&self, client: usize, server: usize) -> Option<u32> {
        let (c, _) = *self.peer_sides.get(client)?;
        let (_, s) = *self.peer_sides.get(server)?;
        let blocks = self.blocks(client, server);
        self.pairs.get(&(c, s, blocks)).copied().flatten()
    }

    /// The distinct outcomes so far, by index.
    pub fn outcomes(&self) -> &[PairOutcome] {
        &self.outcomes
    }

    /// The peers.
    pub const fn peers(&self) -> &'p [Peer<'a>] {
        self.peers
    }

    /// Exchanges run so far (each distinct side pair, before and after, once).
    pub fn exchanges(&self) -> usize {
        self.verdicts.len()
    }

    /// The results of `cells` (from [`Evaluator::cell`]) over this run's
    /// distinct outcomes (copied: there are few).
    pub fn matrix(&self, cells: Vec<Cell>) -> Matrix<'p, 'a> {
        Matrix {
            peers: self.peers,
            outcomes: self.outcomes.clone(),
            cells,
        }
    }

    /// The compact cell of `client` against `server` (see [`Matrix`]).
    pub fn cell(&mut self, client: usize, server: usize) -> Option<Cell> {
        let outcome = self.outcome(client, server)?;
        Some(Cell {
            client: u32::try_from(client).ok()?,
            server: u32::try_from(server).ok()?,
            outcome,
        })
    }
}

/// A pair as indices: the client and server peers and the distinct outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    /// The client's index among the peers.
    pub client: u32,
    /// The server's index among the peers.
    pub server: u32,
    /// The outcome's index among the run's distinct outcomes.
    pub outcome: u32,
}

/// A run's results held compactly: twelve bytes a pair, the names and
/// verdicts stored once (peers, distinct outcomes).
#[derive(Debug)]
pub struct Matrix<'p, 'a> {
    peers: &'p [Peer<'a>],
    outcomes: Vec<PairOutcome>,
    cells: Vec<Cell>,
}

impl Matrix<'_, '_> {
    /// The cells, in run order.
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// The distinct outcomes.
    pub fn outcomes(&self) -> &[PairOutcome] {
        &self.outcomes
    }
}

impl PairSet for Matrix<'_, '_> {
    fn pair_count(&self) -> usize {
        self.cells.len()
    }

    fn outcome_key(&self, i: usize) -> usize {
        self.cells.get(i).map_or(usize::MAX, |c| c.outcome as usize)
    }

    fn pair(&self, i: usize) -> Option<PairRef<'_>> {
        let cell = self.cells.get(i)?;
        let c = self.peers.get(usize::try_from(cell.client).ok()?)?;
        let s = self.peers.get(usize::try_from(cell.server).ok()?)?;
        let o = self.outcomes.get(usize::try_from(cell.outcome).ok()?)?;
        Some(PairRef {
            client: &c.name,
            server: &s.name,
            client_profile: &c.profile.name,
            server_profile: &s.profile.name,
            before: &o.before,
            after: &o.after,
        })
    }
}

/// Runs the given `(client, server)` pairs of `peers` before (each peer's own
/// settings) and after `change`, which reaches a peer only for the values
/// its profile reads ([`Policy::reaching`]). Pairs whose profiles cannot
/// play the roles, or whose indices are out of range, are skipped.
/// `progress(done, total)` is called as pairs complete. Each distinct pair
/// is decided once ([`Evaluator`]); for many pairs, an [`Evaluator`] with
/// [`Matrix`] cells holds the same results in far less memory.
pub fn run_pairs(
    peers: &[Peer<'_>],
    pairs: &[(usize, usize)],
    change: &Policy,
    opts: &Options,
    progress: &mut dyn FnMut(usize, usize),
) -> Vec<PairResult> {
    let mut ev = Evaluator::new(peers, change, opts);
    let total = pairs.len();
    let mut out = Vec::with_capacity(total);
    for (done, &(ci, si)) in pairs.iter().enumerate() {
        if done % 256 == 0 {
            progress(done, total);
        }
        let Some(id) = ev.outcome(ci, si) else {
            continue;
        };
        let (Some(cpeer), Some(speer), Some(o)) = (
            peers.get(ci),
            peers.get(si),
            usize::try_from(id).ok().and_then(|i| ev.outcomes().get(i)),
        ) else {
            continue;
        };
        out.push(PairResult {
            client: cpeer.name.clone(),
            server: speer.name.clone(),
            client_profile: cpeer.profile.name.clone(),
            server_profile: speer.profile.name.clone(),
            before: o.before.clone(),
            after: o.after.clone(),
        });
    }
    progress(total, total);
    out
}

/// Every pair of `clients` × `servers` (profiles that cannot play the role
/// are skipped), with the full engine: before under `before`, after under
/// `before` overlaid with `after`. Each value reaches only the profiles that
/// read it ([`Policy::reaching`]): Windows peers read all three registry
/// values, the non-Windows ones none.
pub fn run(
    clients: &[&Profile],
    servers: &[&Profile],
    before: &Policy,
    after: &Policy,
    app: Application,
    semantics: Semantics,
) -> Vec<PairResult> {
    let mut peers: Vec<Peer<'_>> = Vec::with_capacity(clients.len() + servers.len());
    for p in clients.iter().chain(servers) {
        let mut peer = Peer::of(p);
        peer.settings = before.reaching(p);
        peers.push(peer);
    }
    let pairs: Vec<(usize, usize)> = (0..clients.len())
        .flat_map(|c| (0..servers.len()).map(move |s| (c, clients.len() + s)))
        .collect();
    run_pairs(
        &peers,
        &pairs,
        after,
        &Options {
            app,
            semantics,
            engine: Engine::Full,
            ..Options::default()
        },
        &mut |_, _| {},
    )
}
