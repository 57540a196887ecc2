//! Records the git commit the binary is built from, for `ntlmsim --version`.
//!
//! `git rev-parse --short HEAD` when the package directory is
//! `crates/ntlmsim` of a git checkout of the workspace and git is installed; else the commit `cargo package`
//! recorded in `.cargo_vcs_info.json` (a crates.io tarball); else
//! `unknown`, so the build never depends on git or a checkout.
//! `NTLMSIM_GIT_COMMIT` set in the environment wins (for packagers).
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
        .or_else(|| from_checkout(&dir))
        .or_else(|| from_vcs_info(&dir))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo::rustc-env=NTLMSIM_GIT_COMMIT={commit}");
}

/// The path of this package in a checkout of the workspace.
const PACKAGE_IN_CHECKOUT: &str = "crates/ntlmsim";

/// The short commit of the checkout whose `crates/ntlmsim` is `dir`; not
/// that of a repository `dir` merely sits inside (an unpacked tarball under
/// a home directory kept in git must not claim the home's commit).
fn from_checkout(dir: &Path) -> Option<String> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    let same = match (
        Path::new(&top).join(PACKAGE_IN_CHECKOUT).canonicalize(),
        dir.canonicalize(),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same {
        return None;
    }
    let commit = git(dir, &["rev-parse", "--short", "HEAD"])?;
    // Rebuild when HEAD moves: HEAD itself, the branch it names, and packed
    // refs. Only files that exist are watched (a missing one would make
    // every build rerun this script).
    let abs = |p: String| {
        let p = PathBuf::from(p);
        if p.is_absolute() { p } else { dir.join(p) }
    };
    let mut watch = Vec::new();
    if let Some(git_dir) = git(dir, &["rev-parse", "--git-dir"]).map(abs) {
        watch.push(git_dir.join("HEAD"));
    }
    if let Some(common) = git(dir, &["rev-parse", "--git-common-dir"]).map(abs) {
        if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
            watch.push(common.join(branch));
        }
        watch.push(common.join("packed-refs"));
    }
    for p in watch.iter().filter(|p| p.is_file()) {
        println!("cargo::rerun-if-changed={}", p.display());
    }
    Some(commit)
}

/// `git.sha1` of the `.cargo_vcs_info.json` that `cargo package` writes,
/// shortened to 7 digits as `git rev-parse --short` does by default.
fn from_vcs_info(dir: &Path) -> Option<String> {
    let path = dir.join(".cargo_vcs_info.json");
    if !path.is_file() {
        return None;
    }
    println!("cargo::rerun-if-changed={}", path.display());
    let text = std::fs::read_to_string(path).ok()?;
    // {"git": {"sha1": "<40 hex>"}, ...}: the one `"sha1"` key; a JSON
    // parser would be a build dependency for one string.
    let after = text.split_once("\"sha1\"")?.1;
    let value = after.split_once('"')?.1;
    let sha: String = value.chars().take_while(char::is_ascii_hexdigit).collect();
    (sha.len() >= 7).then(|| sha.chars().take(7).collect())
}
