//! `ntlmsim audit` inputs: many files under a low descriptor limit, pipes
//! and FIFOs (read as streams, never seeked), standard input, directories.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use ntlm_testsupport::synth::{self, Conversation, Format, Messages};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ntlmsim");

fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("audit_inputs")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// One HTTP NTLM exchange from a distinct client `n` in `format`.
fn capture(n: u32, format: Format) -> Vec<u8> {
    let client = format!("10.20.{}.{}:{}", n >> 8 & 0xff, n & 0xff, 40_000 + n % 1000);
    let mut c = Conversation::new(&client, "10.30.0.1:80");
    c.handshake();
    c.http_exchange(&Messages::sample(), 200);
    c.close();
    synth::capture(format, &c.frames)
}

const PCAP: Format = Format::Pcap {
    big_endian: false,
    nanos: false,
};
const PCAPNG: Format = Format::PcapNg { big_endian: false };

fn text(o: &Output) -> (i32, String, String) {
    (
        o.status.code().unwrap(),
        String::from_utf8(o.stdout.clone()).unwrap(),
        String::from_utf8(o.stderr.clone()).unwrap(),
    )
}

fn records(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn summary(recs: &[Value]) -> &Value {
    &recs.last().unwrap()["summary"]
}

fn exchange_files(recs: &[Value]) -> Vec<String> {
    recs.iter()
        .filter_map(|r| r.get("exchange"))
        .map(|x| x["file"].as_str().unwrap().to_owned())
        .collect()
}

/// Runs `ntlmsim audit --json ARGS` with at most 32 open descriptors.
fn audit_with_few_descriptors(args: &[String]) -> (i32, String, String) {
    let o = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n 32 && exec "$0" audit --json "$@""#)
        .arg(BIN)
        .args(args)
        .output()
        .unwrap();
    text(&o)
}

#[test]
/// Ten times more files than descriptors: opening them all at once would fail
/// with EMFILE.
fn three_hundred_files_fit_in_thirty_two_descriptors() {
    let d = dir("many");
    let mut paths = Vec::new();
    for n in 0..300u32 {
        let p = d.join(format!("c{n:04}.pcap"));
        std::fs::write(&p, capture(n, if n % 2 == 0 { PCAP } else { PCAPNG })).unwrap();
        paths.push(p.to_str().unwrap().to_owned());
    }
    // Named one by one.
    let (code, out, err) = audit_with_few_descriptors(&paths);
    assert_eq!(code, 0, "{err}");
    let recs = records(&out);
    assert_eq!(exchange_files(&recs), paths);
    assert_eq!(summary(&recs)["exchanges"], 300);
    assert_eq!(summary(&recs)["files"].as_array().unwrap().len(), 300);
    assert_eq!(summary(&recs)["problems"], 0);
}

#[test]
fn standard_input_is_read_as_a_stream_in_both_formats() {
    for format in [PCAP, PCAPNG] {
        let mut child = Command::new(BIN)
            .args(["audit", "--json", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let bytes = capture(7, format);
        let mut stdin = child.stdin.take().unwrap();
        // Written in small pieces, as a pipe delivers them.
        let writer = std::thread::spawn(move || {
            for piece in bytes.chunks(100) {
                stdin.write_all(piece).unwrap();
            }
        });
        let o = child.wait_with_output().unwrap();
        writer.join().unwrap();
        let (code, out, err) = text(&o);
        assert_eq!(code, 0, "{format:?}: {err}");
        let recs = records(&out);
        assert_eq!(exchange_files(&recs), ["-"], "{format:?}");
        assert_eq!(summary(&recs)["files"][0]["file"], "-");
        assert_eq!(summary(&recs)["files"][0]["packets"], 8);
    }
    // Not a capture: the error names standard input.
    let mut child = Command::new(BIN)
        .args(["audit", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"GET / HTTP/1.1\r\n")
        .unwrap();
    let (code, out, err) = text(&child.wait_with_output().unwrap());
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.starts_with("error: standard input (-): not a pcap or pcapng capture"),
        "{err}"
    );
    // Standard input can be read once.
    let (code, _, err) = text(
        &Command::new(BIN)
            .args(["audit", "-", "-"])
            .stdin(Stdio::null())
            .output()
            .unwrap(),
    );
    assert_eq!(code, 2);
    assert!(err.contains("standard input"), "{err}");
}

fn mkfifo(path: &Path) -> bool {
    Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn a_fifo_is_read_as_a_stream_in_both_formats() {
    let d = dir("fifo");
    for (i, format) in [PCAP, PCAPNG, PCAP].into_iter().enumerate() {
        let fifo = d.join(format!("live{i}"));
        if !mkfifo(&fifo) {
            ntlm_testsupport::skip("the FIFO test: mkfifo is not available");
            return;
        }
        let child = Command::new(BIN)
            .args(["audit", "--json"])
            .arg(&fifo)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The last round writes something that is not a capture.
        let bytes = if i == 2 {
            b"not a capture at all".to_vec()
        } else {
            capture(9, format)
        };
        // Opening the FIFO for writing waits for the reader.
        let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
        for piece in bytes.chunks(64) {
            w.write_all(piece).unwrap();
        }
        drop(w);
        let (code, out, err) = text(&child.wait_with_output().unwrap());
        let name = fifo.to_str().unwrap();
        if i == 2 {
            assert_eq!(code, 2);
            assert!(
                err.starts_with(&format!("error: {name}: not a pcap or pcapng capture")),
                "{err}"
            );
            continue;
        }
        assert_eq!(code, 0, "{format:?}: {err}");
        assert!(!err.contains("Illegal seek"), "{err}");
        let recs = records(&out);
        assert_eq!(exchange_files(&recs), [name], "{format:?}");
        assert_eq!(summary(&recs)["exchanges"], 1);
    }
}

#[test]
fn a_directory_is_walked_in_name_order_and_skipped_files_are_named() {
    let d = dir("tree");
    std::fs::create_dir_all(d.join("b-sub/deeper")).unwrap();
    std::fs::write(d.join("c.pcapng"), capture(3, PCAPNG)).unwrap();
    std::fs::write(d.join("a.pcap"), capture(1, PCAP)).unwrap();
    std::fs::write(d.join("b-sub/deeper/x.cap"), capture(2, PCAP)).unwrap();
    std::fs::write(d.join("b-sub/notes.txt"), b"GET / HTTP/1.1\r\n").unwrap();
    std::fs::write(d.join("empty.pcap"), b"").unwrap();
    let fifo = d.join("z-fifo");
    let have_fifo = mkfifo(&fifo);
    let root = d.to_str().unwrap();
    let (code, out, err) = text(
        &Command::new(BIN)
            .args(["audit", "--json", root])
            .output()
            .unwrap(),
    );
    assert_eq!(code, 0, "{err}");
    let recs = records(&out);
    let at = |rel: &str| d.join(rel).to_str().unwrap().to_owned();
    assert_eq!(
        exchange_files(&recs),
        [at("a.pcap"), at("b-sub/deeper/x.cap"), at("c.pcapng")]
    );
    let problems: Vec<(String, String)> = recs
        .iter()
        .filter_map(|r| r.get("problem"))
        .map(|p| {
            (
                p["file"].as_str().unwrap().to_owned(),
                p["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(problems[0].0, at("b-sub/notes.txt"));
    assert!(
        problems[0]
            .1
            .starts_with("skipped: not a pcap or pcapng capture (file starts with 47455420"),
        "{problems:?}"
    );
    assert_eq!(problems[1].0, at("empty.pcap"));
    assert!(
        problems[1].1.starts_with("skipped: empty file"),
        "{problems:?}"
    );
    if have_fifo {
        assert_eq!(problems[2].0, at("z-fifo"));
        assert!(
            problems[2].1.starts_with("skipped: not a regular file"),
            "{problems:?}"
        );
    }
    assert_eq!(problems.len(), 2 + usize::from(have_fifo));
    assert_eq!(summary(&recs)["files"].as_array().unwrap().len(), 3);

    // The human output says which files were skipped.
    let (code, out, _) = text(&Command::new(BIN).args(["audit", root]).output().unwrap());
    assert_eq!(code, 0);
    assert!(out.contains("notes.txt"), "{out}");

    // A directory without captures is bad input naming it.
    let none = dir("none");
    std::fs::write(none.join("readme"), b"hello").unwrap();
    let (code, out, err) = text(
        &Command::new(BIN)
            .args(["audit", none.to_str().unwrap()])
            .output()
            .unwrap(),
    );
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.starts_with(&format!(
            "error: {}: no pcap or pcapng capture or event log in this directory (1 file(s) skipped; {}: \
             not a pcap or pcapng capture (file starts with 68656c6c",
            none.to_str().unwrap(),
            none.join("readme").to_str().unwrap()
        )),
        "{err}"
    );
}

/// More connections than the table holds (16,384) start between one
/// exchange's NEGOTIATE and its CHALLENGE, and stay open: the exchange is
/// still found whole, and the evictions are reported.
#[test]
fn evictions_keep_an_exchange_whole_and_are_reported() {
    let m = Messages::sample();
    let mut x = Conversation::new("10.0.0.1:50000", "10.0.0.2:80");
    x.handshake();
    x.http_negotiate(&m);
    let mut frames = std::mem::take(&mut x.frames);
    for i in 0..17_000u32 {
        let client = std::net::SocketAddr::from(([10, 1, (i >> 8) as u8, i as u8], 40_000));
        let mut c = Conversation::between(client, "10.0.0.3:80".parse().unwrap());
        c.time = x.time;
        c.handshake();
        c.client_send(b"GET /other HTTP/1.1\r\nHost: s\r\n\r\n");
        x.time = c.time;
        frames.append(&mut c.frames);
    }
    x.http_finish(&m, 200);
    x.close();
    frames.append(&mut x.frames);
    let d = dir("crowded");
    let path = d.join("crowded.pcap");
    std::fs::write(&path, synth::capture(PCAP, &frames)).unwrap();
    let (code, out, err) = text(
        &Command::new(BIN)
            .args(["audit", "--json"])
            .arg(&path)
            .output()
            .unwrap(),
    );
    assert_eq!(code, 0, "{err}");
    let recs = records(&out);
    let xs: Vec<&Value> = recs.iter().filter_map(|r| r.get("exchange")).collect();
    assert_eq!(xs.len(), 1, "the exchange was split: {xs:?}");
    assert_eq!(xs[0]["complete"], true, "{}", xs[0]);
    let s = summary(&recs);
    let evicted = s["evicted_connections"].as_u64().unwrap();
    // 17,001 connections, at most 16,384 at once.
    assert!(evicted >= 17_001 - 16_384, "{s}");
    assert_eq!(s["files"][0]["evicted_connections"], evicted);
    assert_eq!(s["files"][0]["evicted_mid_exchange"], 0);
    let problem = recs
        .iter()
        .filter_map(|r| r.get("problem"))
        .find(|p| p["message"].as_str().unwrap().contains("evicted"))
        .unwrap();
    assert_eq!(problem["layer"], "tcp");
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{evicted} connections were evicted")),
        "{problem}"
    );
}
