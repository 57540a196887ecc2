//! The policy-impact matrix: the whole built-in catalog (every client
//! profile × every server profile) under one policy, the hardening baseline
//! NtlmMinClientSec = NtlmMinServerSec = 0x20080000, with each engine; and
//! the `interop` path (before and after, memoised) with each engine; and
//! `interop --fleet` at scale: synthetic all-to-all fleets of 400 and 2,000
//! hosts of fifty repeated kinds, every pair decided (each distinct pair
//! of kinds once) and counted, as `interop` does before writing.
#![allow(
    clippy::expect_used,
    reason = "the built-in catalog is compiled in; a failure to load it must abort the bench"
)]
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ntlm_policy::{MinSessionSecurity, Outcome, Semantics, negotiate_only};
use ntlm_sim::fleet::{Fleet, synthetic_toml};
use ntlm_sim::matrix::{self, Engine, Evaluator, Options, Peer, Policy};
use ntlm_sim::profiles::{Catalog, Profile};
use std::hint::black_box;

fn baseline() -> Policy {
    let m = Some(MinSessionSecurity::from_registry(0x2008_0000));
    Policy {
        client_min: m,
        server_min: m,
        ..Policy::default()
    }
}

fn bench(c: &mut Criterion) {
    let catalog = Catalog::builtin().expect("built-in catalog");
    let clients: Vec<&Profile> = catalog
        .profiles
        .iter()
        .filter(|p| p.role.client())
        .collect();
    let servers: Vec<&Profile> = catalog
        .profiles
        .iter()
        .filter(|p| p.role.server())
        .collect();
    let pairs = (clients.len() * servers.len()) as u64;
    let policy = baseline();
    let sides: Vec<_> = clients
        .iter()
        .flat_map(|cp| {
            servers.iter().map(|sp| {
                let ce = policy.reaching(cp).client_side(cp);
                let se = policy.reaching(sp).server_side(sp);
                (*cp, ce, *sp, se)
            })
        })
        .collect();

    let mut g = c.benchmark_group("catalog_x_catalog_one_policy");
    g.throughput(Throughput::Elements(pairs));
    for engine in [Engine::Flags, Engine::Full] {
        let opts = Options {
            engine,
            ..Options::default()
        };
        g.bench_function(engine.name(), |b| {
            b.iter(|| {
                let mut failures = 0usize;
                for (cp, ce, sp, se) in &sides {
                    if let Some(Err(_)) = matrix::exchange(cp, *ce, sp, *se, black_box(&opts)) {
                        failures += 1;
                    }
                }
                failures
            });
        });
    }
    // The policy engine alone, without building reports: the floor.
    let configs: Vec<_> = sides
        .iter()
        .filter_map(|(cp, ce, sp, se)| {
            let mut cc = *cp.client_config()?;
            let mut sc = *sp.server_config()?;
            cc.lm_level = ce.lm_level;
            sc.lm_level = se.lm_level;
            Some((cc, sc, ce.min, se.min))
        })
        .collect();
    g.bench_function("negotiate_only", |b| {
        let semantics = Semantics::default();
        b.iter(|| {
            configs
                .iter()
                .filter(|(cc, sc, cm, sm)| {
                    matches!(
                        negotiate_only(cc, sc, *cm, *sm, black_box(&semantics)),
                        Outcome::Failure(_)
                    )
                })
                .count()
        });
    });
    g.finish();

    // What `ntlmsim interop` runs: before and after, memoised.
    let mut peers: Vec<Peer<'_>> = clients.iter().map(|p| Peer::of(p)).collect();
    peers.extend(servers.iter().map(|p| Peer::of(p)));
    let n = clients.len();
    let pairs_idx: Vec<(usize, usize)> = (0..n)
        .flat_map(|ci| (0..servers.len()).map(move |si| (ci, n + si)))
        .collect();
    let mut g = c.benchmark_group("interop_before_after");
    g.throughput(Throughput::Elements(pairs));
    for engine in [Engine::Flags, Engine::Full] {
        let opts = Options {
            engine,
            ..Options::default()
        };
        g.bench_function(engine.name(), |b| {
            b.iter(|| {
                matrix::run_pairs(
                    &peers,
                    &pairs_idx,
                    &policy,
                    black_box(&opts),
                    &mut |_, _| {},
                )
                .len()
            });
        });
    }
    g.finish();

    // `interop --fleet` on a synthetic all-to-all fleet: pairs yielded one
    // at a time, decided through the evaluator's cache, counted by change.
    let mut g = c.benchmark_group("fleet_all_to_all");
    g.sample_size(10);
    for hosts in [400usize, 2_000] {
        let fleet = Fleet::from_toml(&synthetic_toml(hosts), &catalog).expect("synthetic fleet");
        let peers = fleet.peers(&catalog);
        g.throughput(Throughput::Elements(fleet.pair_count() as u64));
        g.bench_function(format!("{hosts}_hosts"), |b| {
            b.iter(|| {
                let mut ev = Evaluator::new(&peers, &policy, black_box(&Options::default()));
                let mut counts = [0usize; 5];
                for (ci, si) in fleet.pairs() {
                    if let Some(o) = ev.outcome(ci, si) {
                        let change = ev.outcomes().get(o as usize).map(|x| x.change());
                        let slot = match change {
                            Some(matrix::Change::NewlyBroken) => 0,
                            Some(matrix::Change::AlreadyBroken) => 1,
                            Some(matrix::Change::Fixed) => 2,
                            Some(matrix::Change::Changed) => 3,
                            _ => 4,
                        };
                        if let Some(n) = counts.get_mut(slot) {
                            *n += 1;
                        }
                    }
                }
                counts
            });
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
