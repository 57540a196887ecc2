//! Records the git commit the binary is built from, for `ntlmsim --version`.
//!
//! `git rev-parse --short HEAD` when the source is a git checkout and git is
//! installed; `unknown` otherwise (a crates.io tarball, a machine without
//! git), so the build never depends on either. `NTLMSIM_GIT_COMMIT` set in
//! the environment wins (for packagers who build outside the checkout).
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn main() {
    println!("cargo::rerun-if-env-changed=NTLMSIM_GIT_COMMIT");
    println!("cargo::rerun-if-changed=build.rs");
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let commit = std::env::var("NTLMSIM_GIT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| {
            let commit = git(&dir, &["rev-parse", "--short", "HEAD"])?;
            // Rebuild when HEAD moves: HEAD itself, the branch it names,
            // and packed refs. Only files that exist are watched (a
            // missing one would make every build rerun this script).
            let abs = |p: String| {
                let p = PathBuf::from(p);
                if p.is_absolute() { p } else { dir.join(p) }
            };
            let mut watch = Vec::new();
            if let Some(git_dir) = git(&dir, &["rev-parse", "--git-dir"]).map(abs) {
                watch.push(git_dir.join("HEAD"));
            }
            if let Some(common) = git(&dir, &["rev-parse", "--git-common-dir"]).map(abs) {
                if let Some(branch) = git(&dir, &["symbolic-ref", "-q", "HEAD"]) {
                    watch.push(common.join(branch));
                }
                watch.push(common.join("packed-refs"));
            }
            for p in watch.iter().filter(|p| p.is_file()) {
                println!("cargo::rerun-if-changed={}", p.display());
            }
            Some(commit)
        })
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo::rustc-env=NTLMSIM_GIT_COMMIT={commit}");
}
