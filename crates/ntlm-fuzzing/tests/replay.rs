//! Replays the committed fuzz corpus and every saved crash through the oracles.
//!
//! Corpus: `fuzz/corpus/<target>/`; saved crashes: `fuzz/regressions/<target>/`
//! (each file a minimised input that once broke an invariant).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

#[test]
fn replay_corpus_and_regressions() {
    let mut replayed = 0;
    for (target, oracle) in ntlm_fuzzing::ORACLES {
        for dir in ["corpus", "regressions"] {
            let d = root().join(dir).join(target);
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries {
                let path = e.unwrap().path();
                if path.is_file() {
                    let data = std::fs::read(&path).unwrap();
                    oracle(&data);
                    replayed += 1;
                }
            }
        }
    }
    // The seed corpus is committed: an empty replay means it went missing.
    assert!(replayed >= 20, "only {replayed} inputs replayed");
}
