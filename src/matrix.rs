//! The policy-impact matrix: every client × server pair, before and after a
//! policy change, run as complete in-process exchanges.

use std::sync::Arc;

use ntlm_policy::{Failure, LmCompatibilityLevel, MinSessionSecurity, Semantics};
use ntlm_session::{Credentials, Fixed, MemoryStore, Pair, SessionReport};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

use crate::profiles::Profile;

/// A policy: values that override the profiles' defaults where set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
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

/// What the application on top of NTLM asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Application {
    /// Integrity (SIGN), as SMB signing or RPC packet integrity.
    pub sign: bool,
    /// Confidentiality (SEAL), as RPC packet privacy.
    pub seal: bool,
}

/// The result of one exchange: the server's report, or who refused and why.
pub type Verdict = Result<SessionReport, Failure>;

/// One pair before and after.
#[derive(Debug, Clone)]
pub struct PairResult {
    /// Client profile name.
    pub client: String,
    /// Server profile name.
    pub server: String,
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
}

/// Runs one client profile against one server profile under a policy.
///
/// The exchange is a real one (responses, keys, MIC) with a fixed seed and
/// time, so the matrix is reproducible.
pub fn evaluate(
    client: &Profile,
    server: &Profile,
    policy: &Policy,
    app: Application,
    semantics: Semantics,
) -> Option<Verdict> {
    let mut c = client.client_settings(Credentials::password("alice", "TESTDOM", "Passw0rd!"))?;
    let mut store = MemoryStore::new();
    store.add_password("TESTDOM", "alice", "Passw0rd!");
    let mut s = server.server_settings(Arc::new(store))?;
    c.semantics = semantics;
    s.semantics = semantics;
    c.config.integrity = app.sign;
    c.config.confidentiality = app.seal;
    if let Some(m) = policy.client_min {
        c.min = m;
    }
    if let Some(m) = policy.server_min {
        s.min = m;
    }
    if let Some(l) = policy.client_lm_level {
        c.config.lm_level = l;
    }
    if let Some(l) = policy.server_lm_level {
        s.config.lm_level = l;
    }
    let mut rng = ChaCha20Rng::seed_from_u64(0x6e74_6c6d);
    let ex = Pair {
        client: c,
        server: s,
    }
    .run(&mut rng, MATRIX_TIME, Fixed::default());
    Some(ex.outcome.map(|(_, server)| server.report))
}

/// The fixed time of matrix exchanges (2026-01-01T00:00:00Z).
pub const MATRIX_TIME: u64 = ntlm_session::filetime_from_unix(1_767_225_600);

/// Every pair of `clients` × `servers` (profiles that cannot play the role
/// are skipped), before (`before` over the profiles' defaults) and after.
pub fn run(
    clients: &[&Profile],
    servers: &[&Profile],
    before: &Policy,
    after: &Policy,
    app: Application,
    semantics: Semantics,
) -> Vec<PairResult> {
    let mut out = Vec::with_capacity(clients.len().saturating_mul(servers.len()));
    for c in clients {
        for s in servers {
            let (Some(b), Some(a)) = (
                evaluate(c, s, before, app, semantics),
                evaluate(c, s, after, app, semantics),
            ) else {
                continue;
            };
            out.push(PairResult {
                client: c.name.clone(),
                server: s.name.clone(),
                before: b,
                after: a,
            });
        }
    }
    out
}

/// A short cell for a grid: `ok`, or who failed where (`S/neg`, `C/chal`, `S/auth`).
pub fn cell(v: &Verdict) -> String {
    match v {
        Ok(_) => "ok".to_owned(),
        Err(f) => format!(
            "{}/{}",
            match f.side {
                ntlm_policy::Side::Client => "C",
                ntlm_policy::Side::Server => "S",
            },
            match f.stage {
                ntlm_policy::Stage::Negotiate => "neg",
                ntlm_policy::Stage::Challenge => "chal",
                ntlm_policy::Stage::Authenticate => "auth",
            }
        ),
    }
}

/// A text grid (clients down, servers across) of `before → after` cells.
pub fn grid(results: &[PairResult]) -> String {
    use std::fmt::Write as _;
    let mut clients: Vec<&str> = Vec::new();
    let mut servers: Vec<&str> = Vec::new();
    for r in results {
        if !clients.contains(&r.client.as_str()) {
            clients.push(&r.client);
        }
        if !servers.contains(&r.server.as_str()) {
            servers.push(&r.server);
        }
    }
    const CORNER: &str = "client \\ server";
    let cw = clients
        .iter()
        .map(|c| c.len())
        .max()
        .unwrap_or(0)
        .max(CORNER.len());
    let sw = servers.iter().map(|s| s.len()).max().unwrap_or(0).max(14);
    let mut s = String::new();
    let _ = write!(s, "{CORNER:<cw$}");
    for srv in &servers {
        let _ = write!(s, "  {srv:<sw$}");
    }
    s.push('\n');
    for c in &clients {
        let _ = write!(s, "{c:<cw$}");
        for srv in &servers {
            let text = results
                .iter()
                .find(|r| r.client == *c && r.server == *srv)
                .map_or_else(
                    || "-".to_owned(),
                    |r| {
                        let (b, a) = (cell(&r.before), cell(&r.after));
                        let mark = if r.breaks() { " !" } else { "" };
                        if b == a {
                            format!("{a}{mark}")
                        } else {
                            format!("{b} -> {a}{mark}")
                        }
                    },
                );
            let _ = write!(s, "  {text:<sw$}");
        }
        s.push('\n');
    }
    s
}
