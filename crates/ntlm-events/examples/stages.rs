//! Times the stages of reading one EVTX file: `cargo run --release -p
//! ntlm-events --example stages -- FILE [COPIES]` (the file's chunks are
//! repeated COPIES times in memory).
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a measuring tool"
)]
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sample = std::fs::read(&args[1]).unwrap();
    let copies: usize = args.get(2).map_or(60, |c| c.parse().unwrap());
    let chunks: Vec<&[u8]> = sample[4096..].chunks_exact(65536).collect();
    let mut log = sample[..4096].to_vec();
    for _ in 0..copies {
        for c in &chunks {
            log.extend_from_slice(c);
        }
    }
    println!("{} MiB", log.len() >> 20);
    if args.get(3).is_some_and(|a| a == "setup") {
        return;
    }
    if args.get(3).is_some_and(|a| a == "bare") {
        let t = Instant::now();
        let mut p = evtx::EvtxParser::from_buffer(log).unwrap();
        let n = p.records().count();
        println!("bare: {n} {:?}", t.elapsed());
        return;
    }
    if args.get(3).is_some_and(|a| a == "unfiltered") {
        let t = Instant::now();
        let mut n = 0;
        ntlm_events::read(&log[..], &mut |_| n += 1).unwrap();
        println!("read: {n} {:?}", t.elapsed());
        return;
    }
    if args.get(3).is_some_and(|a| a == "filtered1") {
        let wanted = |id: u32| matches!(id, 4624 | 4625 | 4776);
        let t = Instant::now();
        let mut n = 0;
        ntlm_events::read_filtered(
            ntlm_events::Format::Evtx,
            &[],
            &log[..],
            &wanted,
            &mut |_| {
                n += 1;
            },
        )
        .unwrap();
        println!("read_filtered: {n} {:?}", t.elapsed());
        return;
    }
    if args.get(3).is_some_and(|a| a == "filtered") {
        let wanted = |id: u32| matches!(id, 4624 | 4625 | 4776);
        for _ in 0..5 {
            let t = Instant::now();
            let mut n = 0;
            ntlm_events::read_filtered(
                ntlm_events::Format::Evtx,
                &[],
                &log[..],
                &wanted,
                &mut |_| {
                    n += 1;
                },
            )
            .unwrap();
            println!("read_filtered: {n} {:?}", t.elapsed());
        }
        return;
    }
    let settings = Arc::new(evtx::ParserSettings::new());
    for validate in [false, true] {
        let t = Instant::now();
        let mut n = 0usize;
        let mut bytes = 0usize;
        for c in log[4096..]
            .chunks_exact(65536)
            .filter(|c| c[..8] == *b"ElfChnk\0")
        {
            let mut d = evtx::EvtxChunkData::new(c.to_vec(), validate).unwrap();
            let mut p = d.parse(Arc::clone(&settings)).unwrap();
            for r in p.iter() {
                let x = r.unwrap().into_xml_bytes().unwrap();
                bytes += x.data.len();
                n += 1;
            }
        }
        println!(
            "chunks+render (crc {validate}): {n} records, {bytes} bytes of XML, {:?}",
            t.elapsed()
        );
    }
    let t = Instant::now();
    let mut p = evtx::EvtxParser::from_buffer(log.clone()).unwrap();
    let n = p.records().count();
    println!("EvtxParser::records: {n} {:?}", t.elapsed());
    let t = Instant::now();
    let mut n = 0;
    ntlm_events::read(&log[..], &mut |_| n += 1).unwrap();
    println!("ntlm_events::read: {n} {:?}", t.elapsed());
    let t = Instant::now();
    let mut n = 0;
    let wanted = |id: u32| matches!(id, 4624 | 4625 | 4776);
    ntlm_events::read_filtered(
        ntlm_events::Format::Evtx,
        &[],
        &log[..],
        &wanted,
        &mut |_| n += 1,
    )
    .unwrap();
    println!(
        "ntlm_events::read_filtered (4624, 4625, 4776): {n} {:?}",
        t.elapsed()
    );
}
