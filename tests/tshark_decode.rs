//! Wireshark's NTLMSSP dissector, an independent decoder, reads every
//! message ntlmsim emits the way `ntlmsim decode --json` does.
//!
//! Every client profile is run against every server profile; each NEGOTIATE,
//! CHALLENGE and AUTHENTICATE produced is carried in its own HTTP header
//! (`Authorization` / `WWW-Authenticate: NTLM`) in a pcap file written here,
//! which `tshark` dissects. The same messages go through
//! `ntlmsim decode --json`, and for each one the message type, the flags,
//! the version, the names (domain, user, workstation, target name), the
//! ServerChallenge, the LM and NT response lengths and the AV pair ids
//! (CHALLENGE TargetInfo and the NTLMv2 response's) must agree.
//!
//! Without tshark the test prints a note and passes, except under `CI=true`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test harness: a failed expectation must abort the test"
)]

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ntlm_policy::LmCompatibilityLevel;
use ntlm_session::{Credentials, Fixed, MemoryStore, Pair};
use ntlm_testsupport::{DOMAIN, PASSWORD, Scratch, USER, missing};
use ntlmsim::profiles::Catalog;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use serde_json::Value;

const NOW: ntlm_wire::FileTime = ntlm_wire::FileTime(134_117_280_000_000_000);

fn have_tshark() -> bool {
    let found = Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        missing("tshark", "tshark_decodes_every_message_like_ntlmsim");
    }
    found
}

/// Every distinct message of every client x server handshake, each client
/// at its own LmCompatibilityLevel and at every level 0-5.
fn messages() -> Vec<Vec<u8>> {
    let catalog = Catalog::builtin().unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let levels = [
        None,
        Some("0"),
        Some("1"),
        Some("2"),
        Some("3"),
        Some("4"),
        Some("5"),
    ];
    for c in &catalog.profiles {
        for s in &catalog.profiles {
            for level in levels {
                let Some(mut client) =
                    c.client_settings(Credentials::password(USER, DOMAIN, PASSWORD))
                else {
                    continue;
                };
                if let Some(l) = level {
                    client.config.lm_level = LmCompatibilityLevel::parse(l).unwrap();
                }
                let Some(server) = s.server_settings(Arc::new(MemoryStore::any_user(PASSWORD)))
                else {
                    continue;
                };
                let ex = Pair { client, server }.run(&mut rng, NOW, Fixed::default());
                for m in [ex.negotiate, ex.challenge, ex.authenticate]
                    .into_iter()
                    .flatten()
                {
                    if seen.insert(m.0.clone()) {
                        out.push(m.0);
                    }
                }
            }
        }
    }
    out
}

/// A classic pcap of one Ethernet/IPv4/TCP/HTTP frame per message.
fn pcap(messages: &[Vec<u8>]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&65_535u32.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes()); // Ethernet
    for (i, m) in messages.iter().enumerate() {
        let b64 = B64.encode(m);
        let client_port = 10_000 + u16::try_from(i % 50_000).unwrap();
        let (http, sport, dport) = if m[8] == 2 {
            (
                format!(
                    "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM {b64}\r\nContent-Length: 0\r\n\r\n"
                ),
                80,
                client_port,
            )
        } else {
            (
                format!("GET / HTTP/1.1\r\nHost: ntlmsim\r\nAuthorization: NTLM {b64}\r\n\r\n"),
                client_port,
                80,
            )
        };
        let mut tcp = Vec::new();
        tcp.extend_from_slice(&sport.to_be_bytes());
        tcp.extend_from_slice(&dport.to_be_bytes());
        tcp.extend_from_slice(&1u32.to_be_bytes());
        tcp.extend_from_slice(&1u32.to_be_bytes());
        tcp.extend_from_slice(&[0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]);
        let total = u16::try_from(20 + tcp.len() + http.len()).unwrap();
        let mut frame = vec![
            0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00,
        ];
        frame.extend_from_slice(&[0x45, 0]);
        frame.extend_from_slice(&total.to_be_bytes());
        frame.extend_from_slice(&[0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        frame.extend_from_slice(&tcp);
        frame.extend_from_slice(http.as_bytes());
        let len = u32::try_from(frame.len()).unwrap();
        f.extend_from_slice(&u32::try_from(i).unwrap().to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&len.to_le_bytes());
        f.extend_from_slice(&len.to_le_bytes());
        f.extend_from_slice(&frame);
    }
    f
}

const FIELDS: &[&str] = &[
    "frame.number",
    "ntlmssp.messagetype",
    "ntlmssp.negotiateflags",
    "ntlmssp.version.major",
    "ntlmssp.version.minor",
    "ntlmssp.version.build_number",
    "ntlmssp.auth.domain",
    "ntlmssp.auth.username",
    "ntlmssp.auth.hostname",
    "ntlmssp.ntlmserverchallenge",
    "ntlmssp.challenge.target_name",
    "ntlmssp.blob.length",
    "ntlmssp.challenge.target_info.item.type",
    "ntlmssp.ntlmv2_response.item.type",
    "ntlmssp.negotiate.domain",
    "ntlmssp.negotiate.callingworkstation",
];

/// tshark's fields per frame, by the names above.
fn tshark(path: &std::path::Path) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(path).args([
        "-o",
        "tcp.desegment_tcp_streams:FALSE",
        "-T",
        "fields",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=;",
    ]);
    for f in FIELDS {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

fn decode(messages: &[Vec<u8>]) -> Vec<Value> {
    let mut all = Vec::new();
    for chunk in messages.chunks(64) {
        let out = Command::new(env!("CARGO_BIN_EXE_ntlmsim"))
            .args(["decode", "--json"])
            .args(chunk.iter().map(hex::encode))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        match serde_json::from_slice(&out.stdout).unwrap() {
            Value::Array(v) => all.extend(v),
            one => all.push(one),
        }
    }
    all
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn hex_len(v: &Value) -> String {
    (v.as_str().unwrap_or_default().len() / 2).to_string()
}

fn ids(list: &Value) -> Vec<String> {
    let mut ids: Vec<String> = list
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| format!("0x{:04x}", p["id"].as_u64().unwrap()))
                .collect()
        })
        .unwrap_or_default();
    // tshark lists the MsvAvEOL terminator too.
    if list.is_array() {
        ids.push(String::from("0x0000"));
    }
    ids
}

#[test]
fn tshark_decodes_every_message_like_ntlmsim() {
    if !have_tshark() {
        return;
    }
    let messages = messages();
    assert!(messages.len() > 100, "only {} messages", messages.len());
    let dir = Scratch::new(env!("CARGO_TARGET_TMPDIR"), "tshark");
    let path = dir.write("messages.pcap", "");
    std::fs::write(&path, pcap(&messages)).unwrap();
    let rows = tshark(&path);
    let ours = decode(&messages);
    assert_eq!(rows.len(), messages.len());
    assert_eq!(ours.len(), messages.len());
    let mut kinds = BTreeSet::new();
    for (i, (row, d)) in rows.iter().zip(&ours).enumerate() {
        let field = |name: &str| {
            let at = FIELDS.iter().position(|f| *f == name).unwrap();
            // tshark shows an empty string as "NULL".
            let v = row.get(at).cloned().unwrap_or_default();
            if v == "NULL" { String::new() } else { v }
        };
        let ctx = format!(
            "message {i} ({}) {}",
            text(&d["type"]),
            hex::encode(&messages[i])
        );
        let ty = match text(&d["type"]).as_str() {
            "NEGOTIATE" => "0x00000001",
            "CHALLENGE" => "0x00000002",
            "AUTHENTICATE" => "0x00000003",
            other => panic!("{ctx}: type {other}"),
        };
        assert_eq!(field("ntlmssp.messagetype"), ty, "{ctx}");
        assert_eq!(field("ntlmssp.negotiateflags"), text(&d["flags"]), "{ctx}");
        if d["version"].is_object() {
            assert_eq!(
                field("ntlmssp.version.major"),
                d["version"]["major"].to_string(),
                "{ctx}"
            );
            assert_eq!(
                field("ntlmssp.version.minor"),
                d["version"]["minor"].to_string(),
                "{ctx}"
            );
            assert_eq!(
                field("ntlmssp.version.build_number"),
                d["version"]["build"].to_string(),
                "{ctx}"
            );
        }
        match ty {
            "0x00000001" => {
                assert_eq!(
                    field("ntlmssp.negotiate.domain"),
                    text(&d["domain"]),
                    "{ctx}"
                );
                assert_eq!(
                    field("ntlmssp.negotiate.callingworkstation"),
                    text(&d["workstation"]),
                    "{ctx}"
                );
            }
            "0x00000002" => {
                assert_eq!(
                    field("ntlmssp.ntlmserverchallenge"),
                    text(&d["server_challenge"]),
                    "{ctx}"
                );
                assert_eq!(
                    field("ntlmssp.challenge.target_name"),
                    text(&d["target_name"]),
                    "{ctx}"
                );
                let theirs: Vec<String> = field("ntlmssp.challenge.target_info.item.type")
                    .split(';')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                assert_eq!(theirs, ids(&d["target_info"]), "{ctx}");
            }
            _ => {
                assert_eq!(field("ntlmssp.auth.domain"), text(&d["domain"]), "{ctx}");
                assert_eq!(field("ntlmssp.auth.username"), text(&d["user"]), "{ctx}");
                assert_eq!(
                    field("ntlmssp.auth.hostname"),
                    text(&d["workstation"]),
                    "{ctx}"
                );
                let blobs: Vec<String> = field("ntlmssp.blob.length")
                    .split(';')
                    .map(str::to_owned)
                    .collect();
                assert_eq!(
                    blobs.get(..2).map(<[String]>::to_vec),
                    Some(vec![hex_len(&d["lm_response"]), hex_len(&d["nt_response"])]),
                    "{ctx}"
                );
                // Depending on the layout, tshark files the NTLMv2 response's
                // AV pairs under either name.
                let theirs: Vec<String> = [
                    field("ntlmssp.challenge.target_info.item.type"),
                    field("ntlmssp.ntlmv2_response.item.type"),
                ]
                .join(";")
                .split(';')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
                assert_eq!(theirs, ids(&d["ntlmv2"]["av_pairs"]), "{ctx}");
                kinds.insert(text(&d["response_kind"]));
            }
        }
    }
    // The catalog exercises every response kind ntlmsim emits.
    for k in ["NTLMv1", "NTLM2_SESSION", "NTLMv2"] {
        assert!(kinds.contains(k), "no {k} AUTHENTICATE among {kinds:?}");
    }
}
