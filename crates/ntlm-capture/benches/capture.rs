//! Capture reading throughput: bytes per second on traffic without NTLM
//! (HTTP downloads skipped by length; an unknown protocol read by the
//! signature scan) and NTLM exchanges per second extracted.
//!
//! `cargo bench -p ntlm-capture --bench capture`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark aborts on a broken fixture"
)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ntlm_capture::{Event, Extractor};
use ntlm_testsupport::synth::{self, Format, Messages};

const PCAP: Format = Format::Pcap {
    big_endian: false,
    nanos: false,
};

fn count(capture: &[u8]) -> u64 {
    let mut n = 0u64;
    Extractor::default()
        .run(0, capture, &mut |e| {
            if let Event::Exchange(_) = e {
                n += 1;
            }
        })
        .unwrap();
    n
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("capture");
    g.sample_size(10);
    for (name, http) in [("bulk_http", true), ("bulk_scan", false)] {
        let cap = synth::write_bulk(Vec::new(), PCAP, 256 << 20, http).unwrap();
        assert_eq!(count(&cap), 0);
        g.throughput(Throughput::Bytes(cap.len() as u64));
        g.bench_function(name, |b| b.iter(|| count(&cap)));
    }
    let n = 20_000;
    let cap = synth::write_exchanges(Vec::new(), PCAP, &Messages::sample(), n).unwrap();
    assert_eq!(count(&cap), u64::from(n));
    g.throughput(Throughput::Elements(u64::from(n)));
    g.bench_function("ntlm_exchanges", |b| b.iter(|| count(&cap)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
