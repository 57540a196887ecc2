//! The policy-impact matrix: client × server pairs before and after a
//! policy change.
//!
//! Two engines decide an exchange ([`Engine`]): the full one runs complete
//! in-process handshakes through `ntlm-session` (responses, keys, MIC, every
//! message built, parsed and verified); the flags-only one runs
//! [`ntlm_policy::negotiate_only`], which decides the same policy questions
//! from the flags alone. A test checks that the two agree on the whole
//! built-in catalog under several policies and semantics (see
//! [`Engine::Flags`] for the one known difference). Results are memoised per
//! distinct (profile, settings) pair ([`Evaluator`]), so a fleet of many
//! hosts of few kinds costs about as much as the catalog, and a run's
//! results can be held as compact [`Cell`]s ([`Matrix`]). The evaluator
//! is in `evaluator.rs`; a text grid of a matrix is in ntlm-report.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use ntlm_policy::{Failure, LmCompatibilityLevel, MinSessionSecurity, Outcome, Semantics};
use ntlm_session::{Credentials, Fixed, MemoryStore, Pair, SessionReport};
use ntlm_wire::{FileTime, NegotiateFlags, ResponseKind};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

use crate::profiles::Profile;

mod evaluator;

pub use evaluator::{Cell, Evaluator, Matrix, PairOutcome, Restricting, run, run_pairs};

/// The account every matrix exchange authenticates.
const USER: &str = "alice";
/// Its domain.
const DOMAIN: &str = "TESTDOM";
/// Its password (client and server agree).
const PASSWORD: &str = "Passw0rd!";
/// The workstation name a client sends.
const WORKSTATION: &str = "WORKSTATION";

/// A policy: values that override the profiles' defaults where set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Policy {
    /// NtlmMinClientSec for every client.
    pub client_min: Option<MinSessionSecurity>,
    /// NtlmMinServerSec for every server.
    pub server_min: Option<MinSessionSecurity>,
    /// LmCompatibilityLevel for every client.
    pub client_lm_level: Option<LmCompatibilityLevel>,
    /// LmCompatibilityLevel for every server (or its DC).
    pub server_lm_level: Option<LmCompatibilityLevel>,
}

impl Policy {
    /// Whether no value is set.
    pub const fn is_empty(&self) -> bool {
        self.client_min.is_none()
            && self.server_min.is_none()
            && self.client_lm_level.is_none()
            && self.server_lm_level.is_none()
    }

    /// The values that reach `profile`: those of the registry values it
    /// reads ([`Profile::honours`]). A Group Policy push changes nothing on
    /// a peer that does not read the value.
    pub const fn reaching(&self, profile: &Profile) -> Self {
        let h = profile.honours;
        Self {
            client_min: if h.min_client_sec {
                self.client_min
            } else {
                None
            },
            server_min: if h.min_server_sec {
                self.server_min
            } else {
                None
            },
            client_lm_level: if h.lm_compatibility_level {
                self.client_lm_level
            } else {
                None
            },
            server_lm_level: if h.lm_compatibility_level {
                self.server_lm_level
            } else {
                None
            },
        }
    }

    /// `self` with `later`'s values where `later` sets them.
    pub const fn overlay(&self, later: &Self) -> Self {
        Self {
            client_min: match later.client_min {
                Some(v) => Some(v),
                None => self.client_min,
            },
            server_min: match later.server_min {
                Some(v) => Some(v),
                None => self.server_min,
            },
            client_lm_level: match later.client_lm_level {
                Some(v) => Some(v),
                None => self.client_lm_level,
            },
            server_lm_level: match later.server_lm_level {
                Some(v) => Some(v),
                None => self.server_lm_level,
            },
        }
    }

    /// What `profile` runs with as a client under this policy.
    pub const fn client_side(&self, profile: &Profile) -> Effective {
        Effective {
            min: match self.client_min {
                Some(m) => m,
                None => profile.min_client_sec,
            },
            lm_level: match self.client_lm_level {
                Some(l) => l,
                None => profile.client_lm_level,
            },
        }
    }

    /// What `profile` runs with as a server under this policy.
    pub const fn server_side(&self, profile: &Profile) -> Effective {
        Effective {
            min: match self.server_min {
                Some(m) => m,
                None => profile.min_server_sec,
            },
            lm_level: match self.server_lm_level {
                Some(l) => l,
                None => profile.server_lm_level,
            },
        }
    }
}

/// One side's effective settings: its minimum (NtlmMinClientSec or
/// NtlmMinServerSec) and its LmCompatibilityLevel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Effective {
    /// The minimum session security this side enforces.
    pub min: MinSessionSecurity,
    /// Which responses it sends (client) or accepts (server).
    pub lm_level: LmCompatibilityLevel,
}

/// What the application on top of NTLM asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Application {
    /// Integrity (SIGN), as SMB signing or RPC packet integrity.
    pub sign: bool,
    /// Confidentiality (SEAL), as RPC packet privacy.
    pub seal: bool,
}

/// How an exchange is decided.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Engine {
    /// A complete in-process handshake through `ntlm-session`: every message
    /// built, parsed and verified, with a fixed seed and time.
    #[default]
    Full,
    /// The flags alone, through [`ntlm_policy::negotiate_only`]: no
    /// credentials, AV pairs or MIC are computed (the MIC flag in a success is
    /// derived from the profiles). Over a hundred times faster.
    ///
    /// It agrees with [`Full`](Self::Full) on every built-in pair under
    /// policies as they reach peers (a test checks this). It can differ for a
    /// client whose forced NEGOTIATE (`flags` in its profile) offers
    /// EXTENDED_SESSIONSECURITY while its LmCompatibilityLevel is set to 0 (a
    /// fleet override on a non-Windows peer): the session client then sends
    /// an NTLMv1 response with ESS negotiated, which the full engine's server
    /// fails to verify as an NTLM2 session response, and the flags engine
    /// accepts. Key exchange is decided from the two profiles'
    /// `key_exchange` readings.
    Flags,
}

impl Engine {
    /// `full` or `flags`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Flags => "flags",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Engine {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "full" => Ok(Self::Full),
            "flags" | "flags-only" => Ok(Self::Flags),
            other => Err(format!("{other:?} is not an engine (full, flags)")),
        }
    }
}

/// Everything that is the same for every pair of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Options {
    /// What the application asks for.
    pub app: Application,
    /// How unconfirmed policy rules are read.
    pub semantics: Semantics,
    /// How exchanges are decided.
    pub engine: Engine,
    /// The server's channel-binding, target-name and LDAP signing settings
    /// (`crate::binding`; default: none).
    pub binding: ntlm_policy::BindingPolicy,
    /// What carries the exchanges (default `other`: those settings check nothing).
    pub carrier: ntlm_policy::Carrier,
}

/// The result of one exchange: the server's report, or who refused and why.
pub type Verdict = Result<SessionReport, Failure>;

/// How a pair's outcome moved with the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    /// Worked before and after, with the same result.
    Unchanged,
    /// Worked before and after, but negotiated something else (flags or response).
    Changed,
    /// Worked before, fails after.
    NewlyBroken,
    /// Failed before and after.
    AlreadyBroken,
    /// Failed before, works after.
    Fixed,
}

impl Change {
    /// `unchanged`, `changed`, `newly-broken`, `already-broken` or `fixed`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Unchanged => "unchanged",
            Self::Changed => "changed",
            Self::NewlyBroken => "newly-broken",
            Self::AlreadyBroken => "already-broken",
            Self::Fixed => "fixed",
        }
    }

    /// Whether the pair fails after the change.
    pub const fn fails_after(self) -> bool {
        matches!(self, Self::NewlyBroken | Self::AlreadyBroken)
    }

    /// How an outcome moved from `before` to `after`: a success that
    /// negotiates other flags, another response or another MIC is
    /// [`Changed`](Self::Changed).
    pub fn of(before: &Verdict, after: &Verdict) -> Self {
        match (before, after) {
            (Ok(b), Ok(a)) => {
                if b.flags == a.flags && b.response_kind == a.response_kind && b.mic == a.mic {
                    Self::Unchanged
                } else {
                    Self::Changed
                }
            }
            (Ok(_), Err(_)) => Self::NewlyBroken,
            (Err(_), Err(_)) => Self::AlreadyBroken,
            (Err(_), Ok(_)) => Self::Fixed,
        }
    }
}

/// One pair before and after.
#[derive(Debug, Clone)]
pub struct PairResult {
    /// The client: a host name in a fleet, else the profile name.
    pub client: String,
    /// The server: a host name in a fleet, else the profile name.
    pub server: String,
    /// The client's profile name.
    pub client_profile: String,
    /// The server's profile name.
    pub server_profile: String,
    /// Under the profiles' own settings (plus `before`).
    pub before: Verdict,
    /// Under the policy change.
    pub after: Verdict,
}

impl PairResult {
    /// Worked before and fails after.
    pub const fn breaks(&self) -> bool {
        self.before.is_ok() && self.after.is_err()
    }

    /// Failed before and works after.
    pub const fn fixed(&self) -> bool {
        self.before.is_err() && self.after.is_ok()
    }

    /// How the outcome moved.
    pub fn change(&self) -> Change {
        Change::of(&self.before, &self.after)
    }

    /// This result as a [`PairRef`].
    pub fn as_ref(&self) -> PairRef<'_> {
        PairRef {
            client: &self.client,
            server: &self.server,
            client_profile: &self.client_profile,
            server_profile: &self.server_profile,
            before: &self.before,
            after: &self.after,
        }
    }
}

/// One pair's result, borrowed from where it is stored: a [`PairResult`],
/// or a [`Matrix`] cell and the distinct outcome it points to.
#[derive(Debug, Clone, Copy)]
pub struct PairRef<'a> {
    /// The client: a host name in a fleet, else the profile name.
    pub client: &'a str,
    /// The server: a host name in a fleet, else the profile name.
    pub server: &'a str,
    /// The client's profile name.
    pub client_profile: &'a str,
    /// The server's profile name.
    pub server_profile: &'a str,
    /// Under the profiles' own settings (plus `before`).
    pub before: &'a Verdict,
    /// Under the policy change.
    pub after: &'a Verdict,
}

impl PairRef<'_> {
    /// Worked before and fails after.
    pub const fn breaks(&self) -> bool {
        self.before.is_ok() && self.after.is_err()
    }

    /// Failed before and works after.
    pub const fn fixed(&self) -> bool {
        self.before.is_err() && self.after.is_ok()
    }

    /// How the outcome moved.
    pub fn change(&self) -> Change {
        Change::of(self.before, self.after)
    }
}

/// Pair results by position, however they are stored.
pub trait PairSet: fmt::Debug {
    /// How many pairs.
    fn pair_count(&self) -> usize;
    /// Pair `i` (`None` past the end).
    fn pair(&self, i: usize) -> Option<PairRef<'_>>;
    /// Which outcome pair `i` has: pairs with the same key have the same
    /// verdicts before and after, so that a renderer can write each
    /// distinct outcome once. The default is `i` (every pair its own).
    fn outcome_key(&self, i: usize) -> usize {
        i
    }
}

impl PairSet for [PairResult] {
    fn pair_count(&self) -> usize {
        self.len()
    }

    fn pair(&self, i: usize) -> Option<PairRef<'_>> {
        self.get(i).map(PairResult::as_ref)
    }
}

impl PairSet for Vec<PairResult> {
    fn pair_count(&self) -> usize {
        self.len()
    }

    fn pair(&self, i: usize) -> Option<PairRef<'_>> {
        self.get(i).map(PairResult::as_ref)
    }
}

/// Every pair of a [`PairSet`], in order.
pub fn pairs_of(set: &dyn PairSet) -> impl Iterator<Item = PairRef<'_>> {
    (0..set.pair_count()).filter_map(move |i| set.pair(i))
}

/// Runs one client profile against one server profile under a policy that
/// overrides both profiles' values where set (whether or not they read them),
/// with the full engine. `None` when a profile cannot play its role.
pub fn evaluate(
    client: &Profile,
    server: &Profile,
    policy: &Policy,
    app: Application,
    semantics: Semantics,
) -> Option<Verdict> {
    exchange(
        client,
        policy.client_side(client),
        server,
        policy.server_side(server),
        &Options {
            app,
            semantics,
            engine: Engine::Full,
            ..Options::default()
        },
    )
}

/// One exchange between `client` running with `c` and `server` running with
/// `s`. `None` when a profile cannot play its role.
pub fn exchange(
    client: &Profile,
    c: Effective,
    server: &Profile,
    s: Effective,
    opts: &Options,
) -> Option<Verdict> {
    match opts.engine {
        Engine::Full => full(client, c, server, s, opts),
        Engine::Flags => flags_only(client, c, server, s, opts),
    }
}

fn full(
    client: &Profile,
    c: Effective,
    server: &Profile,
    s: Effective,
    opts: &Options,
) -> Option<Verdict> {
    let mut cs = client.client_settings(Credentials::password(USER, DOMAIN, PASSWORD))?;
    let mut store = MemoryStore::new();
    store.add_password(DOMAIN, USER, PASSWORD);
    let mut ss = server.server_settings(Arc::new(store))?;
    cs.semantics = opts.semantics;
    ss.semantics = opts.semantics;
    cs.workstation = WORKSTATION.to_owned();
    cs.config.integrity = opts.app.sign;
    cs.config.confidentiality = opts.app.seal;
    cs.min = c.min;
    cs.config.lm_level = c.lm_level;
    ss.min = s.min;
    ss.config.lm_level = s.lm_level;
    if opts.carrier != ntlm_policy::Carrier::Other || !opts.binding.is_default() {
        crate::binding::apply(client, &mut cs, &mut ss, &opts.binding, opts.carrier);
    }
    let mut rng = ChaCha20Rng::seed_from_u64(0x6e74_6c6d);
    let ex = Pair {
        client: cs,
        server: ss,
    }
    .run(&mut rng, MATRIX_TIME, Fixed::default());
    Some(ex.outcome.map(|(_, server)| server.report))
}

fn flags_only(
    client: &Profile,
    c: Effective,
    server: &Profile,
    s: Effective,
    opts: &Options,
) -> Option<Verdict> {
    let mut cc = *client.client_config()?;
    let mut sc = *server.server_config()?;
    cc.lm_level = c.lm_level;
    cc.integrity = opts.app.sign;
    cc.confidentiality = opts.app.seal;
    sc.lm_level = s.lm_level;
    Some(
        match ntlm_policy::negotiate_only(&cc, &sc, c.min, s.min, &opts.semantics) {
            Outcome::Success(n) => {
                // MS-NLMP 3.1.5.1.2: an NTLMv2 client that sends MICs sends one
                // when the CHALLENGE's TargetInfo has MsvAvTimestamp.
                // A client like Samba's announces it only when integrity or
                // confidentiality is requested; the server checks only an
                // announced MIC.
                let mic = n.response == ResponseKind::NtlmV2
                    && client.sends_mic()
                    && (!client.announces_mic_with_security_only()
                        || opts.app.sign
                        || opts.app.seal)
                    && server.sends_timestamp()
                    && n.challenge.contains(NegotiateFlags::NEGOTIATE_TARGET_INFO);
                // The server's checks in MS-NLMP 3.2.5.1.2 order: the key
                // exchange, then channel bindings and target name, the MIC,
                // and the directory's signing requirement last.
                let kx = key_exchange_failure(client, server, n.flags, mic);
                let (bound, signing) = crate::binding::flags_only_failures(
                    client,
                    &opts.binding,
                    opts.carrier,
                    n.response,
                    n.flags,
                );
                let first = match kx {
                    Some(f) if f.rule.id == ntlm_policy::rules::AUTH_KEY_EXCH.id => Some(f),
                    kx => bound.or(kx).or(signing),
                };
                match first {
                    Some(f) => Err(f),
                    None => Ok(SessionReport {
                        flags: n.flags,
                        response_kind: n.response,
                        guest: false,
                        mic,
                        user: USER.to_owned(),
                        domain: DOMAIN.to_owned(),
                        workstation: WORKSTATION.to_owned(),
                    }),
                }
            }
            Outcome::Failure(f) => Err(f),
        },
    )
}

/// Where the two peers' key-exchange readings (`docs/POLICY.md`, "Key
/// exchange") make the full handshake fail after the flags were agreed: a
/// server that needs an EncryptedRandomSessionKey the client does not send
/// (`auth-key-exch`), or, with KEY_EXCH alone, a server that ignores the
/// key the client used, which an announced MIC exposes (`auth-mic`).
/// Without a MIC that last case succeeds with different keys on the two
/// sides, as it does between real peers.
fn key_exchange_failure(
    client: &Profile,
    server: &Profile,
    flags: NegotiateFlags,
    mic: bool,
) -> Option<Failure> {
    use ntlm_policy::{Detail, Side, Stage, rules};
    use ntlm_session::ServerKeyExchange;
    if !flags.contains(NegotiateFlags::NEGOTIATE_KEY_EXCH) {
        return None;
    }
    let sends_key = client.client_key_exchange().applies(flags);
    let with_security = ntlm_crypto::key_exchange_applies(flags);
    let server_needs_key =
        with_security || server.server_key_exchange() == ServerKeyExchange::Negotiated;
    let fail =
        |rule, note| Failure::new(Side::Server, Stage::Authenticate, rule, Detail::Note(note));
    if server_needs_key && !sends_key {
        return Some(fail(
            &rules::AUTH_KEY_EXCH,
            "KEY_EXCH without a 16-byte EncryptedRandomSessionKey",
        ));
    }
    let server_ignores_key =
        !with_security && server.server_key_exchange() == ServerKeyExchange::WithSignOrSeal;
    (sends_key && server_ignores_key && mic).then(|| {
        fail(
            &rules::AUTH_MIC,
            "the MIC does not match the three messages",
        )
    })
}

/// The fixed time of matrix exchanges (2026-01-01T00:00:00Z).
pub const MATRIX_TIME: FileTime = FileTime::from_unix(1_767_225_600, 0);

/// A participant in a run: a named host (or a profile standing for itself)
/// with its own settings.
#[derive(Debug, Clone)]
pub struct Peer<'a> {
    /// Host name (or profile name).
    pub name: String,
    /// How it behaves.
    pub profile: &'a Profile,
    /// Its own registry values where they differ from the profile's defaults.
    pub settings: Policy,
}

impl<'a> Peer<'a> {
    /// A profile standing for itself with its default settings.
    pub fn of(profile: &'a Profile) -> Self {
        Self {
            name: profile.name.clone(),
            profile,
            settings: Policy::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::profiles::Catalog;
    use ntlm_policy::restrict::Restrictions;

    fn catalog() -> Catalog {
        Catalog::builtin().unwrap()
    }

    fn mask(v: u32) -> Option<MinSessionSecurity> {
        Some(MinSessionSecurity::from_registry(v))
    }

    #[test]
    fn a_policy_reaches_only_the_values_a_profile_reads() {
        let cat = catalog();
        let (win, samba) = (cat.get("windows-11").unwrap(), cat.get("samba-4").unwrap());
        let p = Policy {
            client_min: mask(0x2008_0000),
            server_lm_level: Some(LmCompatibilityLevel::L5),
            ..Policy::default()
        };
        assert_eq!(p.reaching(win), p);
        assert!(p.reaching(samba).is_empty());
        let own = Policy {
            client_min: mask(0x10),
            server_min: mask(0x20),
            ..Policy::default()
        };
        let o = own.overlay(&p);
        assert_eq!(o.client_min, mask(0x2008_0000));
        assert_eq!(o.server_min, mask(0x20));
        assert_eq!(o.server_lm_level, Some(LmCompatibilityLevel::L5));
        assert_eq!(o.client_side(win).lm_level, win.client_lm_level);
        assert_eq!(o.server_side(win).lm_level, LmCompatibilityLevel::L5);
        assert_eq!(Policy::default().server_side(win).min, win.min_server_sec);
    }

    #[test]
    fn run_pairs_reports_changes_and_skips_impossible_pairs() {
        let cat = catalog();
        let xp = cat.get("windows-xp").unwrap();
        let curl = cat.get("curl-7.88").unwrap();
        let peers = vec![
            Peer::of(xp),
            Peer::of(curl),
            Peer {
                name: "strict-xp".into(),
                profile: xp,
                settings: Policy {
                    server_min: mask(0x2000_0000),
                    ..Policy::default()
                },
            },
        ];
        let change = Policy {
            server_min: mask(0x2008_0000),
            server_lm_level: Some(LmCompatibilityLevel::L2),
            ..Policy::default()
        };
        let mut calls = 0;
        let out = run_pairs(
            &peers,
            // curl cannot be a server; index 9 does not exist.
            &[(0, 0), (0, 1), (1, 2), (0, 9)],
            &change,
            // The strict reading: 0x20000000 refuses curl, which offers no 128;
            // level 0 read as the policy text says: XP requests no ESS.
            &Options {
                semantics: Semantics {
                    level0_ess: ntlm_policy::Level0Ess::Never,
                    ..Semantics::MS_NLMP
                },
                ..Options::default()
            },
            &mut |_, _| calls += 1,
        );
        assert!(calls >= 1);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].change(), Change::NewlyBroken);
        assert!(out[0].breaks());
        // curl offers no 128: already refused by the strict XP host.
        assert_eq!(
            (out[1].client.as_str(), out[1].server.as_str()),
            ("curl-7.88", "strict-xp")
        );
        assert_eq!(out[1].server_profile, "windows-xp");
        assert_eq!(out[1].change(), Change::AlreadyBroken);
        assert!(!out[1].breaks() && !out[1].fixed());
        assert_eq!(Change::NewlyBroken.name(), "newly-broken");
        assert!(Change::AlreadyBroken.fails_after() && !Change::Fixed.fails_after());
    }

    #[test]
    fn a_level_change_is_a_changed_success() {
        let cat = catalog();
        let xp = cat.get("windows-xp").unwrap();
        let w11 = cat.get("windows-11").unwrap();
        let out = run(
            &[xp],
            &[w11],
            &Policy::default(),
            &Policy {
                client_lm_level: Some(LmCompatibilityLevel::L3),
                ..Policy::default()
            },
            Application {
                sign: true,
                seal: false,
            },
            Semantics::default(),
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].change(), Change::Changed);
        let (Ok(b), Ok(a)) = (&out[0].before, &out[0].after) else {
            panic!("{out:?}")
        };
        // XP at level 0 uses the ESS the server grants (level0-ess=requested).
        assert_eq!(b.response_kind, ResponseKind::Ntlm2Session);
        assert_eq!(a.response_kind, ResponseKind::NtlmV2);
    }

    #[test]
    fn restrict_ntlm_is_part_of_what_pairs_share() {
        let cat = catalog();
        let w11 = cat.get("windows-11").unwrap();
        let peer = |name: &str| Peer {
            name: name.to_owned(),
            ..Peer::of(w11)
        };
        // Three hosts of one kind: the evaluator alone shares every pair.
        let peers = [peer("ws01"), peer("nas01"), peer("web01")];
        let opts = Options::default();
        let mut plain = Evaluator::new(&peers, &Policy::default(), &opts);
        assert_eq!(plain.outcome(0, 1), plain.outcome(0, 2));
        // The change denies ws01's outgoing NTLM except to nas01: the two
        // servers, the same kind with the same settings, no longer share.
        let deny = Restrictions {
            outgoing: ntlm_policy::restrict::Outgoing::DenyAll,
            outgoing_exceptions: vec!["nas01".to_owned()],
            ..Restrictions::default()
        };
        let none = Restrictions::default();
        let mut ev =
            Evaluator::new(&peers, &Policy::default(), &opts).with_restrictions(Restricting {
                peers: vec![(none.clone(), deny)],
                dc: none,
            });
        let (to_nas, to_web) = (ev.outcome(0, 1).unwrap(), ev.outcome(0, 2).unwrap());
        assert_ne!(to_nas, to_web);
        assert_eq!(ev.known(0, 2), Some(to_web));
        let outcome = |o: u32| ev.outcomes()[o as usize].clone();
        assert_eq!(outcome(to_nas).change(), Change::Unchanged);
        assert_eq!(outcome(to_web).change(), Change::NewlyBroken);
        assert_eq!(
            outcome(to_web).after.unwrap_err().rule.id,
            "restrict-outgoing-deny"
        );
        // A block breaks under every reading of the semantics switches.
        assert!(ev.certainty(to_web).unwrap().holds_under_every_reading());
        // nas01 has no settings of its own: its pairs work as before.
        let from_nas = ev.outcome(1, 2).unwrap();
        assert!(ev.outcomes()[from_nas as usize].after.is_ok());
    }

    #[test]
    fn engine_names() {
        assert_eq!("FULL".parse::<Engine>(), Ok(Engine::Full));
        assert_eq!("flags-only".parse::<Engine>(), Ok(Engine::Flags));
        assert!("fast".parse::<Engine>().is_err());
        assert_eq!(Engine::Flags.to_string(), "flags");
        assert_eq!(Engine::default(), Engine::Full);
    }

    /// The flags-only engine must reach the same verdict as complete
    /// handshakes for every built-in pair: same success flags, response and
    /// MIC, or the same side, stage, status, rule and missing bits.
    /// The certainty of an after verdict, computed with the flags-only
    /// engine, is the one the full engine gives reading by reading.
    #[test]
    fn certainty_matches_the_full_engine_under_every_reading() {
        let cat = catalog();
        let peers: Vec<Peer<'_>> = cat.profiles.iter().map(Peer::of).collect();
        let change = Policy {
            server_min: mask(0x2000_0030),
            client_min: mask(0x2008_0000),
            client_lm_level: Some(LmCompatibilityLevel::L2),
            server_lm_level: Some(LmCompatibilityLevel::L5),
        };
        let opts = Options {
            app: Application {
                sign: true,
                seal: false,
            },
            ..Options::default()
        };
        let pairs: Vec<(usize, usize)> = (0..peers.len())
            .flat_map(|c| (0..peers.len()).map(move |s| (c, s)))
            .collect();
        let mut ev = Evaluator::new(&peers, &change, &opts);
        let ids: Vec<Option<u32>> = pairs.iter().map(|&(c, s)| ev.outcome(c, s)).collect();
        // Every pair's after verdict under each reading, from whole runs
        // with the full engine.
        let mut by_reading: HashMap<Semantics, Vec<Option<bool>>> = HashMap::new();
        let (mut certain, mut uncertain) = (0, 0);
        for (k, id) in ids.iter().enumerate() {
            let Some(id) = *id else { continue };
            let got = ev.certainty(id).unwrap();
            let want = ntlm_policy::certainty(&opts.semantics, |sem| {
                by_reading
                    .entry(*sem)
                    .or_insert_with(|| {
                        let mut e = Evaluator::new(
                            &peers,
                            &change,
                            &Options {
                                semantics: *sem,
                                ..opts
                            },
                        );
                        pairs
                            .iter()
                            .map(|&(c, s)| {
                                let o = e.outcome(c, s)?;
                                e.outcomes().get(o as usize).map(|o| o.after.is_ok())
                            })
                            .collect()
                    })
                    .get(k)
                    .copied()
                    .flatten()
            });
            assert_eq!(got, want, "pair {:?}", pairs.get(k));
            if got.holds_under_every_reading() {
                certain += 1;
            } else {
                uncertain += 1;
            }
        }
        // Both kinds occur, so the comparison covers the switches.
        assert!(certain > 0 && uncertain > 0, "{certain} / {uncertain}");
        assert_eq!(ev.certainty(u32::MAX), None);
    }

    /// Channel-binding settings as the change: the before and after
    /// exchanges read the same effective settings but different binding
    /// settings, so they are decided apart, not shared.
    #[test]
    fn evaluator_keys_binding_settings_apart() {
        let cat = catalog();
        let peers: Vec<Peer<'_>> = ["curl-7.88", "windows-11"]
            .iter()
            .map(|n| Peer::of(cat.get(n).unwrap()))
            .collect();
        let binding =
            crate::binding::policy(&["extended-protection=require".to_owned()], "refused").unwrap();
        let opts = Options {
            carrier: ntlm_policy::Carrier::Https,
            binding,
            ..Options::default()
        };
        let change = Policy::default();
        let mut ev = Evaluator::new(&peers, &change, &opts)
            .binding_before(ntlm_policy::BindingPolicy::default());
        let o = ev.outcome(0, 1).unwrap();
        let outcome = ev.outcomes().get(o as usize).unwrap().clone();
        assert!(outcome.before.is_ok(), "{:?}", outcome.before);
        let f = outcome.after.unwrap_err();
        assert_eq!(f.rule.id, "epa-require");
        assert_eq!(ev.exchanges(), 2);
        // Without a binding change both sides read the same, once.
        let mut same = Evaluator::new(&peers, &change, &opts);
        let o = same.outcome(0, 1).unwrap();
        let outcome = same.outcomes().get(o as usize).unwrap();
        assert!(outcome.before.is_err() && outcome.after.is_err());
        assert_eq!(same.exchanges(), 1);
        // The certainty reads the after side's settings: a refused binding
        // fails under every reading.
        assert!(ev.certainty(0).unwrap().holds_under_every_reading());
    }

    #[test]
    fn engines_agree_on_the_builtin_catalog() {
        let cat = catalog();
        let clients: Vec<&Profile> = cat.profiles.iter().filter(|p| p.role.client()).collect();
        let servers: Vec<&Profile> = cat.profiles.iter().filter(|p| p.role.server()).collect();
        let policies = [
            Policy::default(),
            Policy {
                client_min: mask(0x2008_0000),
                server_min: mask(0x2008_0000),
                ..Policy::default()
            },
            Policy {
                server_min: mask(0x2000_0030),
                client_lm_level: Some(LmCompatibilityLevel::L2),
                server_lm_level: Some(LmCompatibilityLevel::L5),
                ..Policy::default()
            },
            Policy {
                client_min: mask(0x8000_0010),
                server_lm_level: Some(LmCompatibilityLevel::L4),
                client_lm_level: Some(LmCompatibilityLevel::L0),
                ..Policy::default()
            },
        ];
        let apps = [
            Application::default(),
            Application {
                sign: true,
                seal: false,
            },
            Application {
                sign: true,
                seal: true,
            },
        ];
        let mut compared = 0;
        let mut failures = 0;
        for name in [
            "calibrated",
            "ms-nlmp",
            "samba",
            "lenient",
            "ms-nlmp-literal",
        ] {
            let semantics = Semantics::by_name(name).unwrap();
            for app in apps {
                for policy in &policies {
                    for c in &clients {
                        for s in &servers {
                            // As a run applies a policy: only to peers that read it.
                            let ce = policy.reaching(c).client_side(c);
                            let se = policy.reaching(s).server_side(s);
                            let mut opts = Options {
                                app,
                                semantics,
                                engine: Engine::Full,
                                ..Options::default()
                            };
                            let full = exchange(c, ce, s, se, &opts).unwrap();
                            opts.engine = Engine::Flags;
                            let flags = exchange(c, ce, s, se, &opts).unwrap();
                            let what = format!(
                                "{} -> {} under {policy:?}, {app:?}, {name}",
                                c.name, s.name
                            );
                            match (&full, &flags) {
                                (Ok(a), Ok(b)) => {
                                    assert_eq!(a.flags, b.flags, "{what}");
                                    assert_eq!(a.response_kind, b.response_kind, "{what}");
                                    assert_eq!(a.mic, b.mic, "{what}");
                                }
                                (Err(a), Err(b)) => {
                                    failures += 1;
                                    assert_eq!(
                                        (a.side, a.stage, a.status, a.rule.id, a.missing),
                                        (b.side, b.stage, b.status, b.rule.id, b.missing),
                                        "{what}"
                                    );
                                }
                                _ => panic!("{what}: full {full:?} vs flags {flags:?}"),
                            }
                            compared += 1;
                        }
                    }
                }
            }
        }
        assert!(compared > 10_000, "{compared}");
        // Both outcomes occur, so the comparison covers failures too.
        assert!(
            failures > 1_000 && failures < compared,
            "{failures} of {compared}"
        );
    }
}
