//! The readers never panic, whatever the input (property tests), and
//! always end with events, problems or an error.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

use ntlm_events::{Format, Item, read, read_format};
use proptest::prelude::*;

const EVENT: &str = r#"<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Security-Auditing"/><EventID>4624</EventID><TimeCreated SystemTime="2024-05-01T10:00:00Z"/><EventRecordID>9</EventRecordID><Channel>Security</Channel><Computer>srv</Computer></System><EventData><Data Name="LmPackageName">NTLM V1</Data><Data Name="KeyLength">0</Data></EventData></Event>"#;
const LINE: &str = r##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"x"}},"EventID":4624,"EventRecordID":9},"EventData":{"LmPackageName":"NTLM V1","KeyLength":0}}}"##;

fn run(format: Format, bytes: &[u8]) -> usize {
    let mut n = 0;
    let _ = read_format(format, &[], bytes, &mut |_: Item| n += 1);
    let _ = read(bytes, &mut |_: Item| n += 1);
    n
}

/// `base` with bytes replaced, inserted and cut at the given places.
fn mutate(base: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut v = base.to_vec();
    for &(at, kind, byte) in edits {
        let at = at % (v.len() + 1);
        match kind % 3 {
            0 => {
                if let Some(b) = v.get_mut(at) {
                    *b = byte;
                }
            }
            1 => v.insert(at, byte),
            _ => v.truncate(at.max(1)),
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn xml_reader_never_panics(edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..8)) {
        let doc = format!("<Events>{EVENT}{EVENT}</Events>");
        let v = mutate(doc.as_bytes(), &edits);
        run(Format::Xml, &v);
        let utf16: Vec<u8> = String::from_utf8_lossy(&v).encode_utf16().flat_map(u16::to_le_bytes).collect();
        run(Format::XmlUtf16Le, &utf16);
        run(Format::XmlUtf16Be, &v);
    }

    #[test]
    fn json_reader_never_panics(edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..8)) {
        let doc = format!("{LINE}\n{LINE}\n");
        run(Format::JsonLines, &mutate(doc.as_bytes(), &edits));
    }

    #[test]
    fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for f in [Format::Evtx, Format::Xml, Format::XmlUtf16Le, Format::JsonLines] {
            run(f, &bytes);
        }
    }
}

#[test]
fn the_unmutated_inputs_read() {
    assert_eq!(run(Format::Xml, EVENT.as_bytes()), 2);
    assert_eq!(run(Format::JsonLines, LINE.as_bytes()), 2);
}
