//! Every NTLMSSP message in the public captures decodes.
//!
//! Scans each classic pcap file in the `shared/captures` directory next to
//! the workspace root, record by record, for raw `NTLMSSP\0` messages (SMB,
//! DCE/RPC, LDAP) and for base64 tokens after `NTLM ` / `Negotiate ` (HTTP),
//! and checks that each one parses with `ntlm_wire::Message::parse_lenient`. When
//! `tshark` is installed, the message types and flags are compared with its
//! `ntlmssp.messagetype` and `ntlmssp.negotiateflags` fields.
//!
//! The captures are not part of the repository; without them the test prints
//! a note and checks nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use ntlm_sim::inspect;
use ntlm_wire::{Message, SIGNATURE};

fn captures_dir() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("..")
        .join("shared")
        .join("captures")
}

/// The pcap files, or `None` (with a note) when the directory is absent.
fn pcaps() -> Option<Vec<PathBuf>> {
    let dir = captures_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        ntlm_testsupport::skip(&format!("the capture checks: {} is absent", dir.display()));
        return None;
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    files.sort();
    Some(files)
}

/// Records of a classic pcap file (1-based frame number, data); either byte
/// order, microsecond or nanosecond timestamps.
fn pcap_records(file: &[u8]) -> Vec<(usize, &[u8])> {
    let magic = u32::from_le_bytes(file[..4].try_into().unwrap());
    let le = match magic {
        0xa1b2_c3d4 | 0xa1b2_3c4d => true,
        0xd4c3_b2a1 | 0x4d3c_b2a1 => false,
        other => panic!("not a classic pcap file (magic {other:#010x})"),
    };
    let u32_at = |b: &[u8], at: usize| {
        let w: [u8; 4] = b[at..at + 4].try_into().unwrap();
        if le {
            u32::from_le_bytes(w)
        } else {
            u32::from_be_bytes(w)
        }
    };
    let mut out = Vec::new();
    let mut pos = 24;
    while pos + 16 <= file.len() {
        let incl = u32_at(file, pos + 8) as usize;
        let data = &file[pos + 16..(pos + 16 + incl).min(file.len())];
        out.push((out.len() + 1, data));
        pos += 16 + incl;
    }
    out
}

/// A message found in a capture.
struct Found {
    frame: usize,
    how: &'static str,
    bytes: Vec<u8>,
}

/// Raw `NTLMSSP\0` occurrences (to the end of the record) and base64 tokens
/// after `NTLM ` / `Negotiate ` (unwrapped from SPNEGO when needed).
fn find_messages(frame: usize, data: &[u8]) -> Vec<Found> {
    let mut out = Vec::new();
    for at in 0..data.len() {
        let rest = &data[at..];
        if rest.starts_with(&SIGNATURE) {
            out.push(Found {
                frame,
                how: "raw",
                bytes: rest.to_vec(),
            });
        }
        for scheme in [&b"NTLM "[..], &b"Negotiate "[..]] {
            if !rest.starts_with(scheme) {
                continue;
            }
            let token: Vec<u8> = rest[scheme.len()..]
                .iter()
                .copied()
                .take_while(|c| c.is_ascii_alphanumeric() || b"+/=".contains(c))
                .collect();
            if token.len() < 16 {
                continue; // a bare `WWW-Authenticate: NTLM` offer
            }
            let text = [scheme, &token[..]].concat();
            let input = ntlm_sim::input::decode(&text).unwrap_or_else(|e| {
                panic!(
                    "frame {frame}: {} token does not decode: {e}",
                    String::from_utf8_lossy(scheme)
                )
            });
            out.push(Found {
                frame,
                how: "base64",
                bytes: input.bytes,
            });
        }
    }
    out
}

/// `(frame, message type, flags)` per NTLMSSP message as tshark sees them.
fn tshark_messages(pcap: &Path) -> Option<Vec<(usize, u32, u32)>> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .args(["-Y", "ntlmssp", "-T", "fields", "-E", "separator=|"])
        .args(["-e", "frame.number", "-e", "ntlmssp.messagetype"])
        .args(["-e", "ntlmssp.negotiateflags"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let parse_hex = |s: &str| u32::from_str_radix(s.trim().trim_start_matches("0x"), 16).unwrap();
    let mut v = Vec::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let cols: Vec<&str> = line.split('|').collect();
        let frame: usize = cols[0].parse().unwrap();
        let types: Vec<u32> = cols[1]
            .split(',')
            .filter(|s| !s.is_empty())
            .map(parse_hex)
            .collect();
        let flags: Vec<u32> = cols[2]
            .split(',')
            .filter(|s| !s.is_empty())
            .map(parse_hex)
            .collect();
        // tshark prints no flags for a message type without them; keep pairs only.
        for (t, f) in types.into_iter().zip(flags) {
            v.push((frame, t, f));
        }
    }
    Some(v)
}

fn have_tshark() -> bool {
    Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn every_ntlmssp_message_in_the_captures_decodes() {
    let Some(files) = pcaps() else {
        return;
    };
    assert!(
        !files.is_empty(),
        "no pcap files in {}",
        captures_dir().display()
    );
    let tshark = have_tshark();
    if !tshark {
        ntlm_testsupport::missing("tshark", "the flag comparison with tshark");
    }
    let mut total = 0;
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let file = std::fs::read(path).unwrap();
        let found: Vec<Found> = pcap_records(&file)
            .into_iter()
            .flat_map(|(frame, data)| find_messages(frame, data))
            .collect();
        assert!(!found.is_empty(), "{name}: no NTLMSSP message found");
        // frame -> [(type, flags)] of the messages that decode.
        let mut ours: BTreeMap<usize, Vec<(u32, u32)>> = BTreeMap::new();
        for f in &found {
            total += 1;
            match Message::parse_lenient(&f.bytes) {
                Ok(m) => {
                    ours.entry(f.frame)
                        .or_default()
                        .push((m.message_type() as u32, m.flags().bits()));
                    // The views must cope with whatever was captured.
                    let _ = ntlm_report::render::message(&f.bytes, &m);
                    let _ = ntlm_report::json::message(&f.bytes, &m);
                    println!(
                        "{name} frame {} ({}): {} {:#010x}, {} defect(s)",
                        f.frame,
                        f.how,
                        m.message_type().name(),
                        m.flags().bits(),
                        inspect::defects(&f.bytes, &m).len()
                    );
                }
                Err(e) => failures.push(format!("{name} frame {} ({}): {e}", f.frame, f.how)),
            }
        }
        if name.contains("unterminated-av-sequence") {
            let challenge = found
                .iter()
                .find(|f| f.bytes.get(8) == Some(&2))
                .expect("the capture holds a CHALLENGE");
            // Decoded leniently, as `decode` does: the defect must be
            // reported whether or not the strict parser accepts it.
            let m = Message::parse_lenient(&challenge.bytes)
                .unwrap_or_else(|e| panic!("{name}: the CHALLENGE does not decode: {e}"));
            let d = inspect::defects(&challenge.bytes, &m);
            assert!(
                d.iter().any(|d| d.message.contains("missing MsvAvEOL")),
                "{name}: the unterminated TargetInfo must be reported: {d:?}"
            );
        }
        if tshark {
            let Some(theirs) = tshark_messages(path) else {
                failures.push(format!("{name}: tshark could not read it"));
                continue;
            };
            for (frame, t, flags) in &theirs {
                let mine = ours.get(frame).cloned().unwrap_or_default();
                if !mine.contains(&(*t, *flags)) {
                    failures.push(format!(
                        "{name} frame {frame}: tshark sees type {t} flags {flags:#010x}, ntlmsim {mine:x?}"
                    ));
                }
            }
            let seen: usize = ours.values().map(Vec::len).sum();
            if seen > theirs.len() {
                println!(
                    "note: {name}: {} message(s) not dissected by tshark",
                    seen - theirs.len()
                );
            }
        }
    }
    println!("{total} NTLMSSP messages in {} captures", files.len());
    assert!(
        failures.is_empty(),
        "messages that do not decode or differ from tshark:\n{}",
        failures.join("\n")
    );
}
