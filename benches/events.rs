//! Event-log audit throughput: the bare `evtx` parse of a log (every
//! record rendered to XML) against `ntlm-events` reading every event, and
//! reading as the audit does (only the NTLM event IDs past `System`) plus
//! judging and serializing each NTLM event (`ntlm_sim::events`), on the same
//! in-memory log.
//!
//! The log is built from the public sample `../shared/evtx/
//! omerbenamram_Security_with_size_t.evtx`: its file header, then its
//! chunks repeated until the log holds about 64 MiB (each chunk is
//! self-contained, so the copies parse as the original). Without the
//! sample the benchmark prints a note and measures nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a benchmark fixture that does not load must abort the run"
)]
use std::hint::black_box;
use std::path::Path;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ntlm_sim::audit::Policy;
use ntlm_sim::events::{EventAuditor, EventSummary};

const CHUNK: usize = 65536;

fn big_log() -> Option<(Vec<u8>, u64)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/evtx/omerbenamram_Security_with_size_t.evtx");
    let Ok(sample) = std::fs::read(&path) else {
        eprintln!("note: {} is absent; nothing measured", path.display());
        return None;
    };
    let chunks: Vec<&[u8]> = sample[4096..].chunks_exact(CHUNK).collect();
    let mut log = sample[..4096].to_vec();
    while log.len() < 64 << 20 {
        for c in &chunks {
            log.extend_from_slice(c);
        }
    }
    let mut records = 0u64;
    ntlm_events::read(&log[..], &mut |i| {
        if matches!(i, ntlm_events::Item::Event(_)) {
            records += 1;
        }
    })
    .unwrap();
    Some((log, records))
}

fn events(c: &mut Criterion) {
    let Some((log, records)) = big_log() else {
        return;
    };
    let mut g = c.benchmark_group("evtx_64MiB");
    g.sample_size(10);
    g.throughput(Throughput::Elements(records));
    // The copy the parser takes ownership of is made outside the timing.
    g.bench_function("bare_evtx_records_xml", |b| {
        b.iter_batched(
            || log.clone(),
            |buf| {
                let mut p = evtx::EvtxParser::from_buffer(buf).unwrap();
                let mut n = 0u64;
                for r in p.records() {
                    n += black_box(r.unwrap().data.len() as u64);
                }
                n
            },
            BatchSize::LargeInput,
        );
    });
    g.bench_function("ntlm_events_read", |b| {
        b.iter(|| {
            let mut n = 0u64;
            ntlm_events::read(&log[..], &mut |i| {
                if let ntlm_events::Item::Event(e) = i {
                    n += black_box(e.data.len() as u64);
                }
            })
            .unwrap();
            n
        });
    });
    let auditor = EventAuditor::new(Policy {
        server_min: ntlm_policy::MinSessionSecurity::from_registry(0x2000_0000),
        server_lm_level: ntlm_policy::LmCompatibilityLevel::from_u8(5),
        ..Policy::default()
    });
    // As `ntlmsim audit --json` does it: only the NTLM event IDs are read
    // past System, each NTLM event is judged and serialized.
    g.bench_function("ntlm_events_read_filtered_and_judge", |b| {
        b.iter(|| {
            let mut summary = EventSummary::default();
            ntlm_events::read_filtered(
                ntlm_events::Format::Evtx,
                &[],
                &log[..],
                &ntlm_sim::events::wanted,
                &mut |i| match i {
                    ntlm_events::Item::Event(e) => {
                        summary.count_read(e.event_id);
                        if let Some(r) = auditor.judge("bench", &e) {
                            summary.add(&r);
                            black_box(serde_json::to_vec(&r).unwrap());
                        }
                    }
                    ntlm_events::Item::Other { event_id, .. } => summary.count_read(event_id),
                    ntlm_events::Item::Problem(_) => {}
                },
            )
            .unwrap();
            summary.events
        });
    });
    g.finish();
}

criterion_group!(benches, events);
criterion_main!(benches);
