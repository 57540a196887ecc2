//! The policy-impact matrix: the whole built-in catalog (every client
//! profile × every server profile) under one policy, the hardening baseline
//! NtlmMinClientSec = NtlmMinServerSec = 0x20080000, with each engine; and
//! the `interop` path (before and after, memoised) with each engine.
#![allow(
    clippy::expect_used,
    reason = "the built-in catalog is compiled in; a failure to load it must abort the bench"
)]
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ntlmsim::matrix::{self, Engine, Options, Peer, Policy};
use ntlmsim::policy::{MinSessionSecurity, Outcome, Semantics, negotiate_only};
use ntlmsim::profiles::{Catalog, Profile};
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
}

criterion_group!(benches, bench);
criterion_main!(benches);
