//! The layers of the workspace (docs/ARCHITECTURE.md), checked from the
//! manifests and the sources: the core crates and the simulator and report
//! crates do no I/O, and imports run only downward (binary → report →
//! simulator → core).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

use std::path::{Path, PathBuf};

/// The crates that must not do I/O, and the workspace crates each may use.
const LAYERS: &[(&str, &[&str])] = &[
    ("ntlm-wire", &[]),
    ("ntlm-crypto", &["ntlm-wire"]),
    ("ntlm-policy", &["ntlm-wire"]),
    ("ntlm-session", &["ntlm-wire", "ntlm-crypto", "ntlm-policy"]),
    ("ntlm-gss", &["ntlm-wire"]),
    ("ntlm-capture", &["ntlm-wire", "ntlm-gss"]),
    ("ntlm-events", &[]),
    (
        "ntlm-sim",
        &[
            "ntlm-wire",
            "ntlm-crypto",
            "ntlm-policy",
            "ntlm-session",
            "ntlm-gss",
            "ntlm-capture",
            "ntlm-events",
        ],
    ),
    (
        "ntlm-report",
        &[
            "ntlm-wire",
            "ntlm-crypto",
            "ntlm-policy",
            "ntlm-session",
            "ntlm-gss",
            "ntlm-capture",
            "ntlm-events",
            "ntlm-sim",
        ],
    ),
];

/// Dependencies that mean I/O, a runtime or a command line: only the
/// `ntlmsim` binary may have them.
const BINARY_ONLY: &[&str] = &[
    "tokio",
    "hyper",
    "hyper-util",
    "http-body-util",
    "bytes",
    "rustls",
    "tokio-rustls",
    "rcgen",
    "ring",
    "clap",
    "clap_complete",
    "clap_mangen",
    "walkdir",
    "anstyle-query",
    "terminal_size",
];

/// What a source file of those crates must not contain outside its tests:
/// files, sockets, processes, the environment, the standard streams, the
/// clock and the operating system's random numbers.
const FORBIDDEN: &[&str] = &[
    "std::fs",
    "File::open",
    "File::create",
    "TcpStream",
    "TcpListener",
    "UdpSocket",
    "std::process",
    "std::env",
    "env::var",
    "stdin()",
    "stdout()",
    "stderr()",
    "println!",
    "eprintln!",
    "print!(",
    "eprint!(",
    "SystemTime::now",
    "Instant::now",
    "OsRng",
    "os_rng",
    "from_entropy",
    "thread_rng",
    "getrandom",
];

/// Lines allowed to contain a [`FORBIDDEN`] word, as `(file, text)`: none.
const EXCEPTIONS: &[(&str, &str)] = &[];

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn manifest(name: &str) -> toml::Table {
    let path = crates_dir().join(name).join("Cargo.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    text.parse::<toml::Table>()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The names in `[dependencies]` (not dev- or build-dependencies: tests may
/// read files), each with its table or version string.
fn dependencies(m: &toml::Table) -> Vec<(String, toml::Value)> {
    m.get("dependencies")
        .and_then(toml::Value::as_table)
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

#[test]
fn imports_run_only_downward_and_no_io_crate_below_the_binary() {
    let names: Vec<&str> = LAYERS.iter().map(|(n, _)| *n).collect();
    for (name, allowed) in LAYERS {
        for (dep, spec) in dependencies(&manifest(name)) {
            let workspace_crate = dep.starts_with("ntlm") && dep != "ntlm-testsupport";
            if workspace_crate {
                assert!(
                    allowed.contains(&dep.as_str()),
                    "{name} depends on {dep}; it may use only {allowed:?}"
                );
                assert!(names.contains(&dep.as_str()), "{name} depends on {dep}");
            }
            assert_ne!(
                dep, "ntlm-testsupport",
                "{name}: test support in [dependencies]"
            );
            assert!(
                !BINARY_ONLY.contains(&dep.as_str()),
                "{name} depends on {dep}: I/O and the command line belong to the ntlmsim binary"
            );
            let features = spec
                .get("features")
                .and_then(toml::Value::as_array)
                .cloned()
                .unwrap_or_default();
            assert!(
                !features.iter().any(|f| f
                    .as_str()
                    .is_some_and(|f| f.contains("os_rng") || f == "std_rng")),
                "{name}: {dep} with the operating system's random numbers"
            );
        }
    }
}

/// `src/**/*.rs` of a crate.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_io_in_the_sources_below_the_binary() {
    let mut found = Vec::new();
    for (name, _) in LAYERS {
        let mut files = Vec::new();
        sources(&crates_dir().join(name).join("src"), &mut files);
        assert!(!files.is_empty(), "{name}: no sources");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let shown = format!("{name}/{}", file.file_name().unwrap().to_string_lossy());
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                // The unit tests come last in a file and may use files and
                // the clock.
                let next = lines.get(i + 1).copied().unwrap_or_default();
                if line.starts_with("#[cfg(test)]") && next.starts_with("mod tests") {
                    break;
                }
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                for word in FORBIDDEN {
                    let excepted = EXCEPTIONS
                        .iter()
                        .any(|(f, t)| shown.ends_with(f) && code.contains(t));
                    if code.contains(word) && !excepted {
                        found.push(format!("{shown}: {word}: {code}"));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "I/O below the binary:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_binary_is_the_only_package_with_a_command_line() {
    let m = manifest("ntlmsim");
    let deps: Vec<String> = dependencies(&m).into_iter().map(|(k, _)| k).collect();
    for needed in ["ntlm-sim", "ntlm-report", "clap", "tokio"] {
        assert!(deps.iter().any(|d| d == needed), "ntlmsim lacks {needed}");
    }
    assert!(
        !crates_dir()
            .join("ntlmsim")
            .join("src")
            .join("lib.rs")
            .exists(),
        "the ntlmsim package is a binary only"
    );
}
