//! The public EVTX samples in `../shared/evtx` (see `SOURCES.md` there: the
//! counts below were taken with an independent reader). Skipped, with a
//! note, when that directory is absent.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use ntlm_events::{Event, Item, read};

fn dir() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/evtx");
    if d.is_dir() {
        Some(d)
    } else {
        ntlm_testsupport::skip(&format!("its checks: {} is absent", d.display()));
        None
    }
}

fn events(bytes: &[u8]) -> (Vec<Event>, Vec<String>) {
    let mut ev = Vec::new();
    let mut problems = Vec::new();
    read(bytes, &mut |i| match i {
        Item::Event(e) => ev.push(e),
        Item::Problem(p) => problems.push(p.to_string()),
        Item::Other { .. } => panic!("no filter, no Other"),
    })
    .unwrap();
    (ev, problems)
}

/// `(event id, TargetUserName, LmPackageName, KeyLength)` -> count, for the
/// NTLM logons; and the 4776 count.
type Logons = BTreeMap<(u32, String, String, String), usize>;

fn ntlm_counts(ev: &[Event]) -> (Logons, usize) {
    let mut m = BTreeMap::new();
    let mut v4776 = 0;
    for e in ev {
        match e.event_id {
            4624 | 4625 if e.field("AuthenticationPackageName") == Some("NTLM") => {
                let f = |k| e.field(k).unwrap_or("?").to_owned();
                *m.entry((
                    e.event_id,
                    f("TargetUserName"),
                    f("LmPackageName"),
                    f("KeyLength"),
                ))
                .or_insert(0) += 1;
            }
            4776 => v4776 += 1,
            _ => {}
        }
    }
    (m, v4776)
}

type Counts = &'static [((u32, &'static str, &'static str, &'static str), usize)];

/// The NTLM events of each file, as `SOURCES.md` lists them.
const EXPECTED: &[(&str, usize, Counts, usize)] = &[
    (
        "omerbenamram_Security_with_size_t.evtx",
        636,
        &[
            ((4624, "ANONYMOUS LOGON", "NTLM V1", "0"), 8),
            ((4624, "ANONYMOUS LOGON", "NTLM V1", "128"), 1),
            ((4625, "Administrator", "-", "0"), 2),
            ((4625, "Student", "-", "0"), 4),
        ],
        21,
    ),
    (
        "evtx-attack-samples_DE_RDP_Tunneling_4624.evtx",
        18,
        &[
            ((4624, "ANONYMOUS LOGON", "NTLM V1", "0"), 1),
            ((4624, "ANONYMOUS LOGON", "NTLM V1", "128"), 2),
        ],
        0,
    ),
    (
        "evtx-attack-samples_LM_ScheduledTask_ATSVC_target_host.evtx",
        34,
        &[
            ((4624, "ANONYMOUS LOGON", "NTLM V1", "128"), 1),
            ((4624, "Administrator", "NTLM V2", "128"), 3),
        ],
        4,
    ),
    (
        "evtx-attack-samples_privexchange_dirkjan.evtx",
        8,
        &[((4624, "EXCHANGE$", "NTLM V2", "0"), 1)],
        2,
    ),
];

#[test]
fn every_ntlm_event_of_the_public_samples_is_found_with_its_fields() {
    let Some(d) = dir() else { return };
    for (name, records, logons, v4776) in EXPECTED {
        let bytes = std::fs::read(d.join(name)).unwrap();
        let (ev, problems) = events(&bytes);
        assert!(problems.is_empty(), "{name}: {problems:?}");
        assert_eq!(ev.len(), *records, "{name}");
        let (got, got4776) = ntlm_counts(&ev);
        let want: BTreeMap<_, _> = logons
            .iter()
            .map(|((id, u, l, k), n)| {
                ((*id, (*u).to_owned(), (*l).to_owned(), (*k).to_owned()), *n)
            })
            .collect();
        assert_eq!(got, want, "{name}");
        assert_eq!(got4776, *v4776, "{name}");
        for e in ev
            .iter()
            .filter(|e| matches!(e.event_id, 4624 | 4625 | 4776))
        {
            assert_eq!(e.channel, "Security", "{name}");
            assert_eq!(e.provider, "Microsoft-Windows-Security-Auditing", "{name}");
            assert!(
                e.time.ends_with('Z') && e.time.len() >= 20,
                "{name}: {}",
                e.time
            );
            assert!(e.record_id.is_some() && !e.computer.is_empty(), "{name}");
        }
    }
    // The relayed machine-account logon of the privexchange sample.
    let bytes = std::fs::read(d.join("evtx-attack-samples_privexchange_dirkjan.evtx")).unwrap();
    let (ev, _) = events(&bytes);
    let relay = ev
        .iter()
        .find(|e| e.field("AuthenticationPackageName") == Some("NTLM"))
        .unwrap();
    assert_eq!(relay.record_id, Some(65969));
    assert_eq!(relay.computer, "ICORP-DC.internal.corp");
    assert_eq!(relay.field("WorkstationName"), Some("EXCHANGE"));
    assert_eq!(relay.field("IpAddress"), Some("192.168.111.87"));
    assert_eq!(relay.time, "2019-02-02T09:17:22.5630182Z");
}

/// The same records rendered by the `evtx` crate as XML (as `wevtutil qe
/// /f:xml` concatenates them), as UTF-16 XML and as JSON Lines (as
/// `evtx_dump -o jsonl` writes them) read back as the same events.
#[test]
fn evtx_xml_and_json_lines_give_the_same_events() {
    let Some(d) = dir() else { return };
    for (name, ..) in EXPECTED {
        let path = d.join(name);
        let (from_evtx, _) = events(&std::fs::read(&path).unwrap());
        let mut parser = evtx::EvtxParser::from_path(&path).unwrap();
        let mut xml = String::new();
        for r in parser.records() {
            xml.push_str(&r.unwrap().data);
            xml.push('\n');
        }
        let (from_xml, problems) = events(xml.as_bytes());
        assert!(problems.is_empty(), "{problems:?}");
        let utf16: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain(xml.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let (from_utf16, _) = events(&utf16);
        let mut parser = evtx::EvtxParser::from_path(&path)
            .unwrap()
            .with_configuration(evtx::ParserSettings::new().indent(false));
        let mut jsonl = String::new();
        for r in parser.records_json() {
            jsonl.push_str(&r.unwrap().data);
            jsonl.push('\n');
        }
        let (from_json, problems) = events(jsonl.as_bytes());
        assert!(problems.is_empty(), "{problems:?}");
        // The order of whole chunks may differ (the parser reads a wrapped
        // log oldest chunk first); compare by record ID.
        let by_id = |mut v: Vec<Event>| {
            v.sort_by_key(|e| e.record_id);
            v
        };
        let evtx = by_id(from_evtx);
        for (form, other) in [
            ("XML", from_xml),
            ("UTF-16 XML", from_utf16),
            ("JSON Lines", from_json),
        ] {
            let other = by_id(other);
            assert_eq!(evtx.len(), other.len(), "{name}: {form}");
            for (a, b) in evtx.iter().zip(&other) {
                assert_eq!(a, b, "{name}: {form}");
            }
        }
    }
}

fn problems_of(bytes: &[u8]) -> (usize, Vec<String>) {
    let (ev, p) = events(bytes);
    (ev.len(), p)
}

/// Damaged copies of a sample (made in memory): each damage is a problem
/// naming the chunk or record, and the undamaged records are still read.
#[test]
fn damaged_evtx_files_are_problems_not_panics() {
    let Some(d) = dir() else { return };
    let good = std::fs::read(d.join("omerbenamram_Security_with_size_t.evtx")).unwrap();
    let chunks = (good.len() - 4096) / 65536;
    assert!(chunks >= 2, "{chunks}");
    let (all, none) = problems_of(&good);
    assert!(none.is_empty());
    // Bad chunk magic in the first chunk: its records are lost, not the others'.
    let mut bad = good.clone();
    bad[4096..4104].copy_from_slice(b"XXXXXXXX");
    let (n, p) = problems_of(&bad);
    assert!(n > 0 && n < all, "{n}");
    assert!(
        p[0].contains("chunk 0") && p[0].contains("byte 4096"),
        "{p:?}"
    );
    // A flipped byte in the first chunk's records: CRC mismatch.
    let mut bad = good.clone();
    bad[4096 + 1000] ^= 0xff;
    let (n, p) = problems_of(&bad);
    assert!(n > 0 && n < all, "{n}");
    assert!(
        p[0].to_lowercase().contains("checksum") || p[0].contains("CRC"),
        "{p:?}"
    );
    // A zero-size record (the first record's size fields zeroed; CRC fixed up
    // so that the record reader, not the CRC, meets it).
    let mut bad = good.clone();
    let rec = 4096 + 512;
    assert_eq!(&bad[rec..rec + 4], b"\x2a\x2a\x00\x00");
    bad[rec + 4..rec + 8].copy_from_slice(&[0; 4]);
    let free = u32::from_le_bytes(bad[4096 + 48..4096 + 52].try_into().unwrap()) as usize;
    let crc = crc32(&bad[4096 + 512..4096 + free]);
    bad[4096 + 52..4096 + 56].copy_from_slice(&crc.to_le_bytes());
    let header = [&bad[4096..4096 + 120], &bad[4096 + 128..4096 + 512]].concat();
    let crc = crc32(&header);
    bad[4096 + 124..4096 + 128].copy_from_slice(&crc.to_le_bytes());
    let (n, p) = problems_of(&bad);
    assert_eq!(n, all - 1, "{p:?}");
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].contains("chunk 0") && p[0].contains("bad record") && p[0].contains("0x1200"),
        "{p:?}"
    );
    // Truncated in the middle of the second chunk.
    let (n, p) = problems_of(&good[..4096 + 65536 + 30000]);
    assert!(n > 0 && n < all);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].contains("truncated chunk") && p[0].contains("chunk 1"),
        "{p:?}"
    );
    // Truncated in the file header: an error-free empty read with a problem.
    let (n, p) = problems_of(&good[..2000]);
    assert_eq!(n, 0);
    assert!(p[0].contains("file header"), "{p:?}");
}

/// CRC-32 (IEEE), bitwise: the test's own, independent of the reader's.
fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xedb8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// Filtered reading yields the same events for the wanted IDs and only the
/// IDs of the others, in the same order.
#[test]
fn filtered_reading_keeps_the_wanted_events_whole() {
    let Some(d) = dir() else { return };
    let wanted = |id: u32| matches!(id, 4624 | 4625 | 4776);
    for (name, ..) in EXPECTED {
        let bytes = std::fs::read(d.join(name)).unwrap();
        let (all, _) = events(&bytes);
        let mut got = Vec::new();
        let stats = ntlm_events::read_filtered(
            ntlm_events::Format::Evtx,
            &[],
            &bytes[..],
            &wanted,
            &mut |i| got.push(i),
        )
        .unwrap();
        assert_eq!(stats.events as usize, all.len(), "{name}");
        assert_eq!(got.len(), all.len(), "{name}");
        for (i, e) in got.iter().zip(&all) {
            match i {
                Item::Event(x) => {
                    assert!(wanted(x.event_id));
                    assert_eq!(x, e);
                }
                Item::Other {
                    event_id,
                    record_id,
                } => {
                    assert!(!wanted(*event_id));
                    assert_eq!((*event_id, *record_id), (e.event_id, e.record_id));
                }
                Item::Problem(p) => panic!("{p}"),
            }
        }
    }
}
