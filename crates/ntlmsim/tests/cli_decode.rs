//! `ntlmsim decode`, driven through the built binary (docs/CLI.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ntlmsim");

const CHALLENGE_4_2_2_3: &[u8] =
    include_bytes!("../../ntlm-wire/tests/data/ms-nlmp-4.2.2.3-challenge.bin");
const AUTHENTICATE_4_2_2_3: &[u8] =
    include_bytes!("../../ntlm-wire/tests/data/ms-nlmp-4.2.2.3-authenticate.bin");
const CHALLENGE_4_2_3_3: &[u8] =
    include_bytes!("../../ntlm-wire/tests/data/ms-nlmp-4.2.3.3-challenge.bin");
const AUTHENTICATE_4_2_3_3: &[u8] =
    include_bytes!("../../ntlm-wire/tests/data/ms-nlmp-4.2.3.3-authenticate.bin");
const CHALLENGE_4_2_4_3: &[u8] =
    include_bytes!("../../ntlm-wire/tests/data/ms-nlmp-4.2.4.3-challenge.bin");
const AUTHENTICATE_4_2_4_3: &[u8] =
    include_bytes!("../../ntlm-wire/tests/data/ms-nlmp-4.2.4.3-authenticate.bin");
const NEGOTIATE_DERIVED: &[u8] =
    include_bytes!("../../ntlm-wire/tests/data/derived-mic-negotiate.bin");
const AUTHENTICATE_DERIVED_MIC: &[u8] =
    include_bytes!("../../ntlm-wire/tests/data/derived-mic-authenticate.bin");

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// Runs `decode --json`, checks success and returns the one JSON document.
fn json_of(output: Output) -> Value {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    assert!(stderr.is_empty(), "stderr: {stderr}");
    // Exactly one document on stdout.
    serde_json::from_slice(&output.stdout).unwrap()
}

fn decode_json(arg: &str) -> Value {
    json_of(run(&["decode", "--json", arg]))
}

/// Runs `decode`, expects exit code 2 and returns the single stderr line.
fn decode_error(args: &[&str]) -> String {
    let output = run(args);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr.trim_end().to_owned()
}

fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cli-decode-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}

/// A definite-length DER element (short and long forms).
fn der(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = value.len();
    if n < 0x80 {
        v.push(n as u8);
    } else if n < 0x100 {
        v.extend_from_slice(&[0x81, n as u8]);
    } else {
        v.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    }
    v.extend_from_slice(value);
    v
}

const SPNEGO_OID: [u8; 6] = [0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
const NTLMSSP_OID: [u8; 10] = [0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a];
const KRB5_OID: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];

/// GSS-API InitialContextToken { SPNEGO, NegTokenInit { mechTypes, mechToken } }.
fn neg_token_init(mech: &[u8], token: &[u8]) -> Vec<u8> {
    let mech_types = der(0xa0, &der(0x30, &der(0x06, mech)));
    let mech_token = der(0xa2, &der(0x04, token));
    let init = der(0xa0, &der(0x30, &[mech_types, mech_token].concat()));
    der(0x60, &[der(0x06, &SPNEGO_OID), init].concat())
}

/// NegTokenResp { negState accept-incomplete, supportedMech NTLMSSP, responseToken }.
fn neg_token_resp(token: Option<&[u8]>, neg_state: u8) -> Vec<u8> {
    let mut fields = [
        der(0xa0, &der(0x0a, &[neg_state])),
        der(0xa1, &der(0x06, &NTLMSSP_OID)),
    ]
    .concat();
    if let Some(t) = token {
        fields.extend(der(0xa2, &der(0x04, t)));
    }
    der(0xa1, &der(0x30, &fields))
}

fn spaced_hex(b: &[u8], sep: &str) -> String {
    b.iter()
        .map(|x| format!("{x:02X}"))
        .collect::<Vec<_>>()
        .join(sep)
}

// ---------------------------------------------------------------- input forms

#[test]
fn accepts_every_input_form() {
    let msg = CHALLENGE_4_2_4_3;
    let b64 = STANDARD.encode(msg);
    let hex = hex::encode(msg);
    let cases: Vec<(String, &str)> = vec![
        (b64.clone(), "base64"),
        (format!("NTLM {b64}"), "base64"),
        (format!("Negotiate {b64}"), "base64"),
        (format!("WWW-Authenticate: NTLM {b64}"), "base64"),
        (URL_SAFE_NO_PAD.encode(msg), "base64"),
        (hex.clone(), "hex"),
        (spaced_hex(msg, " "), "hex"),
        (spaced_hex(msg, ":"), "hex"),
    ];
    for (arg, encoding) in cases {
        let v = decode_json(&arg);
        assert_eq!(v["type"], "CHALLENGE", "{arg}");
        assert_eq!(v["server_challenge"], "0123456789abcdef", "{arg}");
        assert_eq!(v["input"]["encoding"], encoding, "{arg}");
        assert_eq!(v["input"]["source"], "argument");
    }
    let v = decode_json(&format!("Authorization: NTLM {b64}"));
    assert_eq!(v["input"]["http_header"], "Authorization");
    assert_eq!(v["input"]["scheme"], "NTLM");
}

#[test]
fn accepts_files_raw_and_text() {
    let raw = temp_file("raw.bin", AUTHENTICATE_4_2_4_3);
    let text = temp_file(
        "b64.txt",
        format!("NTLM {}\n", STANDARD.encode(AUTHENTICATE_4_2_4_3)).as_bytes(),
    );
    let hex_lines = temp_file(
        "hex.txt",
        hex::encode(AUTHENTICATE_4_2_4_3)
            .as_bytes()
            .chunks(60)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
            .as_bytes(),
    );
    for (path, encoding) in [(&raw, "raw"), (&text, "base64"), (&hex_lines, "hex")] {
        let arg = format!("@{}", path.display());
        let v = decode_json(&arg);
        assert_eq!(v["type"], "AUTHENTICATE");
        assert_eq!(v["user"], "User");
        assert_eq!(v["input"]["source"], "file");
        assert_eq!(v["input"]["path"], path.display().to_string());
        assert_eq!(v["input"]["encoding"], encoding);
    }
}

#[test]
fn accepts_stdin() {
    let v = json_of(run_stdin(&["decode", "--json", "-"], NEGOTIATE_DERIVED));
    assert_eq!(v["type"], "NEGOTIATE");
    assert_eq!(v["input"]["source"], "stdin");
    assert_eq!(v["input"]["encoding"], "raw");
    let b64 = format!("{}\n", STANDARD.encode(NEGOTIATE_DERIVED));
    let v = json_of(run_stdin(&["decode", "--json", "-"], b64.as_bytes()));
    assert_eq!(v["flags"], "0xe2088237");
    assert_eq!(v["input"]["encoding"], "base64");
}

#[test]
fn human_output_names_the_input_form() {
    let out = run(&[
        "decode",
        &format!("NTLM {}", STANDARD.encode(CHALLENGE_4_2_4_3)),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(
        s.starts_with("Input: argument, base64, after the NTLM scheme\n"),
        "{s}"
    );
    let out = run(&["decode", &hex::encode(CHALLENGE_4_2_4_3)]);
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.starts_with("Input: argument, hex\n"), "{s}");
}

#[test]
fn several_messages_make_an_array() {
    let v = json_of(run(&[
        "decode",
        "--json",
        &hex::encode(NEGOTIATE_DERIVED),
        &STANDARD.encode(CHALLENGE_4_2_4_3),
        &STANDARD.encode(AUTHENTICATE_4_2_4_3),
    ]));
    let types: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["NEGOTIATE", "CHALLENGE", "AUTHENTICATE"]);
    // One message: an object, not an array.
    assert!(decode_json(&hex::encode(NEGOTIATE_DERIVED)).is_object());

    let out = run(&[
        "decode",
        &hex::encode(NEGOTIATE_DERIVED),
        &hex::encode(CHALLENGE_4_2_4_3),
    ]);
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(
        s.contains("Message 1 of 2\n") && s.contains("Message 2 of 2\n"),
        "{s}"
    );
}

// ----------------------------------------------------- MS-NLMP 4.2 messages

#[test]
fn spec_4_2_2_ntlmv1_messages() {
    let c = decode_json(&hex::encode(CHALLENGE_4_2_2_3));
    assert_eq!(c["type"], "CHALLENGE");
    assert_eq!(c["flags"], "0xe2028233");
    assert_eq!(c["server_challenge"], "0123456789abcdef");
    assert_eq!(c["target_name"], "Server");
    assert_eq!(c["target_info"], Value::Null);
    assert_eq!(
        c["version"],
        serde_json::json!({"major": 6, "minor": 0, "build": 6000, "revision": 15})
    );
    assert_eq!(c["length"], CHALLENGE_4_2_2_3.len());

    let a = decode_json(&hex::encode(AUTHENTICATE_4_2_2_3));
    assert_eq!(a["type"], "AUTHENTICATE");
    assert_eq!(a["flags"], "0xe2808235");
    assert_eq!(a["domain"], "Domain");
    assert_eq!(a["user"], "User");
    assert_eq!(a["workstation"], "COMPUTER");
    assert_eq!(
        a["lm_response"],
        "98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13"
    );
    assert_eq!(
        a["nt_response"],
        "67c43011f30298a2ad35ece64f16331c44bdbed927841f94"
    );
    assert_eq!(a["response_kind"], "NTLMv1");
    assert_eq!(
        a["encrypted_session_key"],
        "518822b1b3f350c8958682ecbb3e3cb7"
    );
    assert_eq!(a["mic"], Value::Null);
    assert_eq!(a["ntlmv2"], Value::Null);
    assert_eq!(
        a["version"],
        serde_json::json!({"major": 5, "minor": 1, "build": 2600, "revision": 15})
    );
}

#[test]
fn spec_4_2_3_ntlm2_session_messages() {
    let c = decode_json(&hex::encode(CHALLENGE_4_2_3_3));
    assert_eq!(c["flags"], "0x820a8233");
    assert_eq!(c["server_challenge"], "0123456789abcdef");
    assert!(
        c["flags_names"]
            .as_array()
            .unwrap()
            .contains(&Value::from("NEGOTIATE_EXTENDED_SESSIONSECURITY"))
    );

    let a = decode_json(&hex::encode(AUTHENTICATE_4_2_3_3));
    assert_eq!(a["flags"], "0x82088235");
    assert_eq!(a["response_kind"], "NTLM2_SESSION");
    assert_eq!(
        a["lm_response"],
        "aaaaaaaaaaaaaaaa00000000000000000000000000000000"
    );
    assert_eq!(
        a["nt_response"],
        "7537f803ae367128ca458204bde7caf81e97ed2683267232"
    );
    assert_eq!(a["ntlm2_session_client_challenge"], "aaaaaaaaaaaaaaaa");
    // No KEY_EXCH: the key field is empty.
    assert_eq!(a["encrypted_session_key"], Value::Null);
    assert_eq!(a["user"], "User");
}

#[test]
fn spec_4_2_4_ntlmv2_messages() {
    let c = decode_json(&STANDARD.encode(CHALLENGE_4_2_4_3));
    assert_eq!(c["flags"], "0xe28a8233");
    assert_eq!(c["target_name"], "Server");
    let ti = c["target_info"].as_array().unwrap();
    assert_eq!(ti.len(), 2);
    assert_eq!(ti[0]["id"], 2);
    assert_eq!(ti[0]["name"], "MsvAvNbDomainName");
    assert_eq!(ti[0]["value"], "Domain");
    assert_eq!(ti[1]["id"], 1);
    assert_eq!(ti[1]["name"], "MsvAvNbComputerName");
    assert_eq!(ti[1]["value"], "Server");
    assert_eq!(c["defects"], serde_json::json!([]));

    let a = decode_json(&STANDARD.encode(AUTHENTICATE_4_2_4_3));
    assert_eq!(a["flags"], "0xe2888235");
    assert_eq!(a["response_kind"], "NTLMv2");
    assert_eq!(
        a["lm_response"],
        "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa"
    );
    assert_eq!(
        a["encrypted_session_key"],
        "c5dad2544fc9799094ce1ce90bc9d03e"
    );
    let v2 = &a["ntlmv2"];
    assert_eq!(v2["nt_proof_str"], "68cd0ab851e51c96aabc927bebef6a1c");
    assert_eq!(v2["client_challenge"], "aaaaaaaaaaaaaaaa");
    assert_eq!(v2["timestamp"], 0);
    assert_eq!(v2["timestamp_time"], "1601-01-01T00:00:00Z");
    assert_eq!(v2["trailing"], "00000000");
    let pairs = v2["av_pairs"].as_array().unwrap();
    assert_eq!(pairs[0]["name"], "MsvAvNbDomainName");
    assert_eq!(pairs[1]["value"], "Server");
    assert_eq!(a["lmv2"]["client_challenge"], "aaaaaaaaaaaaaaaa");
}

#[test]
fn derived_mic_authenticate_has_the_88_byte_header() {
    let a = decode_json(&hex::encode(AUTHENTICATE_DERIVED_MIC));
    assert_eq!(a["header_length"], 88);
    assert_eq!(a["mic"], "0bbfca3189026898b4b309b381d368d4");
    assert_eq!(a["mic_offset"], 72);
    let n = decode_json(&hex::encode(NEGOTIATE_DERIVED));
    assert_eq!(
        n["version"],
        serde_json::json!({"major": 6, "minor": 1, "build": 7601, "revision": 15})
    );
    // Placed but empty fields: no text.
    assert_eq!(n["domain"], Value::Null);
    assert_eq!(n["workstation"], Value::Null);
}

// ------------------------------------------------------------- JSON details

#[test]
fn json_flags_are_lowercase_8_digit_hex_with_names() {
    // NEGOTIATE with UNICODE | r1 and a Version slot whose flag is not set.
    let mut neg = NEGOTIATE_DERIVED.to_vec();
    neg[12..16].copy_from_slice(&0x1000_0001u32.to_le_bytes());
    let v = decode_json(&hex::encode(&neg));
    assert_eq!(v["flags"], "0x10000001");
    assert_eq!(
        v["flags_names"],
        serde_json::json!(["NEGOTIATE_UNICODE", "R1"])
    );
    assert_eq!(v["version"], Value::Null, "NEGOTIATE_VERSION is not set");
    assert_eq!(v["version_slot"], "0601b11d0000000f");
    assert!(
        v["defects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["field"] == "NegotiateFlags" && d["offset"] == 12)
    );

    neg[12..16].copy_from_slice(&0u32.to_le_bytes());
    assert_eq!(decode_json(&hex::encode(&neg))["flags"], "0x00000000");

    for msg in [
        CHALLENGE_4_2_2_3,
        AUTHENTICATE_4_2_3_3,
        AUTHENTICATE_DERIVED_MIC,
    ] {
        let f = decode_json(&hex::encode(msg))["flags"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(f.len(), 10, "{f}");
        assert!(f.starts_with("0x"), "{f}");
        assert!(
            f[2..]
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
            "{f}"
        );
    }
}

#[test]
fn json_reports_av_defects() {
    // TargetInfo without MsvAvEOL and with a duplicate pair.
    let mut c = CHALLENGE_4_2_4_3.to_vec();
    let dom = &c[68..84].to_vec();
    c.truncate(100); // drop MsvAvEOL
    c.extend_from_slice(dom); // second MsvAvNbDomainName
    c[40] = 48;
    c[42] = 48;
    let v = decode_json(&hex::encode(&c));
    let defects: Vec<String> = v["target_info_defects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        defects.iter().any(|d| d.contains("missing MsvAvEOL")),
        "{defects:?}"
    );
    assert!(
        defects
            .iter()
            .any(|d| d.contains("duplicate MsvAvNbDomainName")),
        "{defects:?}"
    );
    assert_eq!(v["target_info"].as_array().unwrap().len(), 3);

    let human = String::from_utf8(run(&["decode", &hex::encode(&c)]).stdout).unwrap();
    assert!(human.contains("[!] missing MsvAvEOL"), "{human}");
    assert!(human.contains("[!] duplicate"), "{human}");
}

// ------------------------------------------------------------------ SPNEGO

#[test]
fn unwraps_spnego_neg_token_init() {
    let token = neg_token_init(&NTLMSSP_OID, NEGOTIATE_DERIVED);
    let v = decode_json(&format!("Negotiate {}", STANDARD.encode(&token)));
    assert_eq!(v["type"], "NEGOTIATE");
    assert_eq!(v["flags"], "0xe2088237");
    let sp = &v["input"]["spnego"];
    assert_eq!(sp["token"], "NegTokenInit");
    assert_eq!(sp["gss_framed"], true);
    assert_eq!(
        sp["mech_types"],
        serde_json::json!(["1.3.6.1.4.1.311.2.2.10"])
    );
    let off = sp["token_offset"].as_u64().unwrap() as usize;
    assert_eq!(&token[off..off + 8], b"NTLMSSP\0");

    // The same token as raw bytes in a file.
    let path = temp_file("init.der", &token);
    let v = decode_json(&format!("@{}", path.display()));
    assert_eq!(v["input"]["encoding"], "raw");
    assert_eq!(v["input"]["spnego"]["token"], "NegTokenInit");
}

#[test]
fn unwraps_spnego_neg_token_resp() {
    let token = neg_token_resp(Some(CHALLENGE_4_2_4_3), 1);
    let v = decode_json(&format!(
        "WWW-Authenticate: Negotiate {}",
        STANDARD.encode(&token)
    ));
    assert_eq!(v["type"], "CHALLENGE");
    assert_eq!(v["target_name"], "Server");
    let sp = &v["input"]["spnego"];
    assert_eq!(sp["token"], "NegTokenResp");
    assert_eq!(sp["neg_state"], "accept-incomplete");
    assert_eq!(sp["supported_mech"], "1.3.6.1.4.1.311.2.2.10");

    let out = run(&["decode", &hex::encode(&token)]);
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.contains("SPNEGO NegTokenResp"), "{s}");
    assert!(
        s.contains("supportedMech 1.3.6.1.4.1.311.2.2.10 (NTLMSSP)"),
        "{s}"
    );
}

#[test]
fn truncated_spnego_names_the_der_offset() {
    let token = neg_token_resp(Some(AUTHENTICATE_4_2_4_3), 1);
    for cut in [token.len() - 1, token.len() - 100, 10, 3] {
        let e = decode_error(&["decode", &STANDARD.encode(&token[..cut])]);
        assert!(e.contains("SPNEGO") && e.contains("at DER offset"), "{e}");
    }
    // The outer length runs past the end: reported at offset 0.
    let e = decode_error(&["decode", &STANDARD.encode(&token[..token.len() - 1])]);
    assert!(e.contains("at DER offset 0"), "{e}");
}

#[test]
fn spnego_without_ntlm_is_an_error() {
    let final_resp = neg_token_resp(None, 0);
    let e = decode_error(&[
        "decode",
        &format!("Negotiate {}", STANDARD.encode(&final_resp)),
    ]);
    assert!(
        e.contains("no responseToken") && e.contains("accept-completed"),
        "{e}"
    );

    let krb = neg_token_init(&KRB5_OID, &[0x6e, 0x82, 0x01, 0x00, 0x30]);
    let e = decode_error(&["decode", &STANDARD.encode(&krb)]);
    assert!(e.contains("NegTokenInit.mechToken at DER offset"), "{e}");
    assert!(e.contains("Kerberos 5"), "{e}");
}

// -------------------------------------------------------------- bad input

#[test]
fn malformed_messages_exit_2_naming_field_and_offset() {
    let truncated = &AUTHENTICATE_4_2_4_3[..150];
    let e = decode_error(&["decode", &hex::encode(truncated)]);
    assert_eq!(
        e,
        "error: AUTHENTICATE NtChallengeResponseFields at offset 20: buffer of 84 bytes at offset 132 runs past the end of the 150-byte message (hex input)"
    );

    let mut bad_sig = CHALLENGE_4_2_4_3.to_vec();
    bad_sig[0] = b'X';
    let e = decode_error(&["decode", &STANDARD.encode(&bad_sig)]);
    assert!(e.contains("Signature at offset 0"), "{e}");

    let mut bad_type = CHALLENGE_4_2_4_3.to_vec();
    bad_type[8] = 4;
    let e = decode_error(&["decode", "--json", &hex::encode(&bad_type)]);
    assert!(
        e.contains("MessageType at offset 8") && e.contains("got 4"),
        "{e}"
    );

    let e = decode_error(&["decode", &hex::encode(&CHALLENGE_4_2_4_3[..16])]);
    assert!(
        e.contains("CHALLENGE TargetNameFields at offset 12: truncated"),
        "{e}"
    );
}

#[test]
fn bad_encodings_exit_2() {
    let e = decode_error(&["decode", "4e544c4"]);
    assert!(e.contains("odd number of digits (7)"), "{e}");
    let e = decode_error(&["decode", "NTLM TlRMTVNT*UAAB"]);
    assert!(
        e.contains("invalid character '*' at character offset 13"),
        "{e}"
    );
    let e = decode_error(&["decode", "WWW-Authenticate: NTLM"]);
    assert!(e.contains("no token after the NTLM scheme"), "{e}");
    let e = decode_error(&["decode", "@/nonexistent/ntlmsim-test-input"]);
    assert!(
        e.contains("cannot read file /nonexistent/ntlmsim-test-input"),
        "{e}"
    );
    let binary = temp_file("junk.bin", &[0x00, 0x01, 0xfe, 0xff]);
    let e = decode_error(&["decode", &format!("@{}", binary.display())]);
    assert!(e.contains("binary input at byte offset 0"), "{e}");
}

#[test]
fn one_bad_message_in_a_batch_fails_the_batch() {
    let good = hex::encode(CHALLENGE_4_2_4_3);
    let bad = hex::encode(&AUTHENTICATE_4_2_4_3[..100]);
    let e = decode_error(&["decode", "--json", &good, &bad]);
    assert!(e.starts_with("error: message 2: AUTHENTICATE"), "{e}");
}

#[test]
fn usage_errors_exit_2() {
    let out = run(&["decode"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let out = run(&["no-such-subcommand"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["decode", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8(out.stdout).unwrap().contains("@FILE"));
}

// ----------------------------------------------------------- human view

#[test]
fn human_view_shows_fields_flags_and_blob() {
    let out = run(&["decode", &hex::encode(AUTHENTICATE_DERIVED_MIC)]);
    assert_eq!(out.status.code(), Some(0));
    let s = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3): 248 bytes, 88-byte header",
        "    20     8  NtChallengeResponseFields: Len 84, MaxLen 84, BufferOffset 148",
        "    60     4  NegotiateFlags: 0xe2888235",
        "  V  0x40000000  NEGOTIATE_KEY_EXCH",
        "  P  0x00080000  NEGOTIATE_EXTENDED_SESSIONSECURITY",
        "    72    16  MIC: 0bbfca3189026898b4b309b381d368d4",
        "  UserName: \"User\"",
        "NTProofStr: 68cd0ab851e51c96aabc927bebef6a1c",
        "TimeStamp: 1601-01-01T00:00:00Z",
        "MsvAvNbDomainName (2): \"Domain\"",
        "Response kind: NTLMv2",
        "Defects: none",
    ] {
        assert!(s.contains(needle), "missing {needle:?} in\n{s}");
    }
    // Flags that are not set are not listed.
    assert!(!s.contains("NEGOTIATE_OEM_DOMAIN_SUPPLIED"), "{s}");
}
