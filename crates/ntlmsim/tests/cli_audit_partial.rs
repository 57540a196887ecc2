//! `ntlmsim audit` on partial exchanges: the record says it is partial and
//! which messages the capture lacks, in JSON and in the human report.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

use std::path::PathBuf;
use std::process::Command;

use base64::Engine as _;
use ntlm_testsupport::synth::{self, Conversation, Format, Messages};
use serde_json::Value;

fn ntlmsim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ntlmsim"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn write(name: &str, bytes: &[u8]) -> String {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli_audit_partial");
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_owned()
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn request(token: &[u8]) -> Vec<u8> {
    format!(
        "GET / HTTP/1.1\r\nHost: server\r\nAuthorization: NTLM {}\r\n\r\n",
        b64(token)
    )
    .into_bytes()
}

/// One connection with NEGOTIATE and CHALLENGE only, one with AUTHENTICATE only.
fn partial_capture() -> String {
    let m = Messages::sample();
    let mut a = Conversation::new("192.0.2.1:50001", "192.0.2.80:80");
    a.handshake();
    a.client_send(&request(&m.negotiate));
    a.server_send(
        format!(
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM {}\r\nContent-Length: 0\r\n\r\n",
            b64(&m.challenge)
        )
        .as_bytes(),
    );
    a.close();
    let mut b = Conversation::new("192.0.2.2:50002", "192.0.2.80:80");
    b.packet_base = u64::try_from(a.frames.len()).unwrap();
    b.time = a.time;
    b.handshake();
    b.client_send(&request(&m.authenticate));
    b.server_send(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    b.close();
    let frames = [a.frames, b.frames].concat();
    write(
        "partial.pcapng",
        &synth::capture(Format::PcapNg { big_endian: false }, &frames),
    )
}

#[test]
fn partial_exchanges_say_what_is_missing() {
    let file = partial_capture();
    let (code, out, err) = ntlmsim(&["audit", "--json", &file]);
    assert_eq!(code, 0, "{err}");
    let records: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let exchanges: Vec<&Value> = records.iter().filter_map(|r| r.get("exchange")).collect();
    assert_eq!(exchanges.len(), 2, "{out}");
    let by_client = |host: &str| {
        *exchanges
            .iter()
            .find(|x| x["client"].as_str().unwrap().starts_with(host))
            .unwrap_or_else(|| panic!("{host}: {out}"))
    };
    let a = by_client("192.0.2.1");
    assert_eq!(a["partial"], true);
    assert_eq!(a["complete"], false);
    assert_eq!(a["missing_messages"], serde_json::json!(["AUTHENTICATE"]));
    let b = by_client("192.0.2.2");
    assert_eq!(b["partial"], true);
    assert_eq!(
        b["missing_messages"],
        serde_json::json!(["NEGOTIATE", "CHALLENGE"])
    );
    // The keys a complete record has are all still there.
    for key in ["verdict", "judged_on", "outcome", "client_profile"] {
        assert!(a.get(key).is_some(), "{key}");
    }
    let (_, text, _) = ntlmsim(&["audit", &file]);
    assert!(
        text.contains("(partial: no AUTHENTICATE captured)"),
        "{text}"
    );
    assert!(
        text.contains("(partial: no NEGOTIATE or CHALLENGE captured)"),
        "{text}"
    );
}
