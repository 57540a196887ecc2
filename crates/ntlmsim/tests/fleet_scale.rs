//! `ntlmsim interop --fleet` at scale: a 2,000-host all-to-all fleet of
//! fifty repeated kinds (3,998,000 pairs) gives the counts that evaluating
//! each kind pair once and weighting it by its number of host pairs gives.
//! Nothing here is timed.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

use std::collections::HashMap;
use std::io::BufRead as _;
use std::process::{Command, Stdio};

use ntlm_sim::fleet::{Fleet, synthetic_toml};
use ntlm_sim::matrix::{self, Change, Options, Policy};
use ntlm_sim::policy::MinSessionSecurity;
use ntlm_sim::profiles::Catalog;

const HOSTS: usize = 2_000;

/// Counts by change, computed per kind pair and weighted.
fn expected(fleet: &Fleet, catalog: &Catalog, change: &Policy) -> HashMap<Change, u64> {
    let mut kinds: Vec<(&str, Policy, u64)> = Vec::new();
    for h in &fleet.hosts {
        match kinds
            .iter_mut()
            .find(|(p, s, _)| *p == h.profile && *s == h.settings)
        {
            Some((_, _, n)) => *n += 1,
            None => kinds.push((&h.profile, h.settings, 1)),
        }
    }
    assert_eq!(kinds.len(), 50);
    let opts = Options::default();
    let mut counts = HashMap::new();
    for (i, (cp, cs, cn)) in kinds.iter().enumerate() {
        let client = catalog.get(cp).unwrap();
        let c_after = cs.overlay(&change.reaching(client));
        for (j, (sp, ss, sn)) in kinds.iter().enumerate() {
            let server = catalog.get(sp).unwrap();
            let s_after = ss.overlay(&change.reaching(server));
            let before = matrix::exchange(
                client,
                cs.client_side(client),
                server,
                ss.server_side(server),
                &opts,
            )
            .unwrap();
            let after = matrix::exchange(
                client,
                c_after.client_side(client),
                server,
                s_after.server_side(server),
                &opts,
            )
            .unwrap();
            // Every host pairs with every other host, never with itself.
            let weight = if i == j { cn * (cn - 1) } else { cn * sn };
            *counts.entry(Change::of(&before, &after)).or_insert(0) += weight;
        }
    }
    counts
}

#[test]
fn two_thousand_hosts_all_to_all_give_the_weighted_counts() {
    let catalog = Catalog::builtin().unwrap();
    let text = synthetic_toml(HOSTS);
    let fleet = Fleet::from_toml(&text, &catalog).unwrap();
    let change = Policy {
        server_min: Some(MinSessionSecurity::from_registry(0x2008_0000)),
        client_lm_level: Some(ntlm_sim::policy::LmCompatibilityLevel::L5),
        ..Policy::default()
    };
    let want = expected(&fleet, &catalog, &change);
    let n = |c: Change| want.get(&c).copied().unwrap_or(0);
    let total: u64 = want.values().sum();
    assert_eq!(total, (HOSTS * (HOSTS - 1)) as u64);
    // Every kind of outcome but "fixed" occurs, so the counts tell them apart.
    for c in [
        Change::NewlyBroken,
        Change::AlreadyBroken,
        Change::Changed,
        Change::Unchanged,
    ] {
        assert!(n(c) > 0, "{c:?}: {want:?}");
    }

    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fleet-2000.toml");
    std::fs::write(&path, &text).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ntlmsim"))
        .args(["interop", "--fleet"])
        .arg(&path)
        .args(["--server-min", "0x20080000", "--client-lm-level", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The list, streamed: one line per pair that does not work unchanged.
    let mut listed: HashMap<&'static str, u64> = HashMap::new();
    let mut in_list = false;
    let mut last = String::new();
    for line in std::io::BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.starts_with("     client") {
            in_list = true;
        } else if in_list && (line.is_empty() || line.starts_with("(and ")) {
            in_list = false;
        } else if in_list {
            let code = line.split_whitespace().next().unwrap_or("");
            let kind = match code.chars().next() {
                Some('!') => "newly-broken",
                Some('x') => "already-broken",
                Some('+') => "fixed",
                _ if code == "ok*" => "changed",
                _ => panic!("unexpected list line {line:?}"),
            };
            *listed.entry(kind).or_insert(0) += 1;
        }
        if !line.is_empty() {
            last = line;
        }
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "pairs newly break: exit 1");
    assert_eq!(
        last,
        format!(
            "summary: {total} pairs: {} newly break, {} already broken, {} fixed, {} work ({} negotiate differently)",
            n(Change::NewlyBroken),
            n(Change::AlreadyBroken),
            n(Change::Fixed),
            n(Change::Unchanged) + n(Change::Changed),
            n(Change::Changed)
        )
    );
    for c in [
        Change::NewlyBroken,
        Change::AlreadyBroken,
        Change::Fixed,
        Change::Changed,
    ] {
        assert_eq!(
            listed.get(c.name()).copied().unwrap_or(0),
            n(c),
            "{} lines",
            c.name()
        );
    }
}
