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

/// The session_server seed is a valid AUTHENTICATE for the oracle's server,
/// so the fuzzer starts from an input that passes every check.
#[test]
fn session_seed_authenticates() {
    let auth = std::fs::read(root().join("corpus/session_server/valid-ntlmv2-mic")).unwrap();
    let now = ntlm_wire::FileTime::from_unix(1_767_225_600, 0);
    let server = ntlm_session::Server::start(ntlm_fuzzing::server_settings().clone());
    let (_, server) = server
        .on_negotiate_with(
            &ntlm_fuzzing::session_negotiate(),
            ntlm_fuzzing::SERVER_CHALLENGE,
            now,
        )
        .unwrap();
    let established = server.on_authenticate(&auth).unwrap();
    assert!(established.0.report.mic);
}
