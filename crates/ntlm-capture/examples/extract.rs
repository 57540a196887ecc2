//! Prints the NTLM exchanges and problems found in capture files, and the
//! read throughput: `cargo run --release -p ntlm-capture --example extract -- [-q] FILE...`
//! (`-q`: only the totals).
#![allow(clippy::print_stdout, reason = "an example prints its results")]

use std::fs::File;
use std::io::BufReader;
use std::time::Instant;

use ntlm_capture::{Event, Extractor};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut files: Vec<String> = std::env::args().skip(1).collect();
    let quiet = files.first().is_some_and(|a| a == "-q");
    if quiet {
        files.remove(0);
    }
    let mut exchanges = 0u64;
    let mut bytes = 0u64;
    let start = Instant::now();
    for (i, path) in files.iter().enumerate() {
        let file = File::open(path)?;
        let summary = Extractor::default().run(i, BufReader::new(file), &mut |e| match e {
            Event::Exchange(_) if quiet => exchanges += 1,
            Event::Exchange(x) => {
                exchanges += 1;
                let kinds: Vec<&str> = x.messages().map(|m| m.kind.name()).collect();
                println!(
                    "{path}: {} {} -> {} [{}] packets {}..{} result {}",
                    x.carrier(),
                    x.client,
                    x.server,
                    kinds.join(" "),
                    x.first().packet,
                    x.last().packet,
                    x.result
                        .map_or_else(|| "-".to_owned(), |r| r.result.to_string())
                );
            }
            Event::Problem(p) if !quiet => println!("{path}: problem: {p}"),
            Event::Problem(_) => {}
            Event::Progress { .. } => {}
        })?;
        bytes += summary.bytes;
    }
    let secs = start.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss, reason = "a rate")]
    let (mb, xs) = (bytes as f64 / 1e6, exchanges as f64);
    println!(
        "{exchanges} exchanges, {mb:.1} MB in {secs:.3} s: {:.0} MB/s, {:.0} exchanges/s",
        mb / secs,
        xs / secs
    );
    Ok(())
}
