//! Whole captures through [`Extractor::run`]: every file format and byte
//! order, link types other than Ethernet, truncated and malformed files,
//! and invariants over arbitrary input and segmentation.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

use ntlm_capture::decode::linktype;
use ntlm_capture::{CaptureError, Carrier, Event, Exchange, Extractor, FileSummary, Problem};
use ntlm_testsupport::synth::{self, Conversation, Format, Messages, Writer};
use proptest::prelude::*;

fn run(
    bytes: &[u8],
) -> (
    Result<FileSummary, CaptureError>,
    Vec<Exchange>,
    Vec<Problem>,
) {
    let mut xs = Vec::new();
    let mut ps = Vec::new();
    let r = Extractor::default().run(7, bytes, &mut |e| match e {
        Event::Exchange(x) => xs.push(*x),
        Event::Problem(p) => ps.push(p),
        Event::Progress { .. } => {}
    });
    (r, xs, ps)
}

fn conversation() -> Conversation {
    let mut c = Conversation::new("10.1.1.1:51000", "10.1.1.2:80");
    c.handshake();
    c.http_exchange(&Messages::sample(), 200);
    c.close();
    c
}

const FORMATS: [Format; 6] = [
    Format::Pcap {
        big_endian: false,
        nanos: false,
    },
    Format::Pcap {
        big_endian: true,
        nanos: false,
    },
    Format::Pcap {
        big_endian: false,
        nanos: true,
    },
    Format::Pcap {
        big_endian: true,
        nanos: true,
    },
    Format::PcapNg { big_endian: false },
    Format::PcapNg { big_endian: true },
];

#[test]
fn every_format_and_byte_order() {
    let mut c = conversation();
    // A sub-microsecond part shows which formats keep nanoseconds.
    c.frames[0].0.time.nanos = 123_456_789;
    for format in FORMATS {
        let (r, xs, ps) = run(&synth::capture(format, &c.frames));
        let s = r.unwrap();
        assert_eq!(s.packets, 8, "{format:?}");
        assert_eq!(s.tcp_segments, 8);
        assert!(!s.truncated);
        assert!(ps.is_empty(), "{format:?}: {ps:?}");
        assert_eq!(xs.len(), 1, "{format:?}");
        let x = &xs[0];
        assert_eq!(x.connection_first.file, 7);
        assert_eq!(x.connection_first.time.secs, 1_700_000_000);
        let nanos = x.connection_first.time.nanos;
        match format {
            Format::Pcap { nanos: true, .. } => assert_eq!(nanos, 123_456_789),
            _ => assert_eq!(nanos, 123_456_000, "{format:?}"),
        }
        assert_eq!(x.negotiate.as_ref().unwrap().place.packet, 3);
        assert_eq!(x.result.unwrap().place.packet, 6);
    }
}

/// Rewrites Ethernet frames for another link type.
fn relink(frames: &[(ntlm_capture::Place, Vec<u8>)], lt: u32) -> Vec<u8> {
    let mut w = Writer::new(Vec::new(), Format::PcapNg { big_endian: false }, lt).unwrap();
    for (p, f) in frames {
        let ip = &f[14..];
        let data = match lt {
            linktype::LINUX_SLL => {
                [&[0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 8, 0][..], ip].concat()
            }
            linktype::LINUX_SLL2 => [
                &[8, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0][..],
                ip,
            ]
            .concat(),
            linktype::NULL => [&2u32.to_le_bytes()[..], ip].concat(),
            linktype::LOOP => [&2u32.to_be_bytes()[..], ip].concat(),
            _ => ip.to_vec(),
        };
        w.packet(p.time, &data).unwrap();
    }
    w.into_inner()
}

#[test]
fn link_types_in_files() {
    let c = conversation();
    for lt in [
        linktype::LINUX_SLL,
        linktype::LINUX_SLL2,
        linktype::NULL,
        linktype::LOOP,
        linktype::RAW,
        linktype::RAW_DLT12,
        linktype::RAW_DLT14,
        linktype::IPV4,
    ] {
        let (r, xs, ps) = run(&relink(&c.frames, lt));
        r.unwrap();
        assert!(ps.is_empty(), "{lt}: {ps:?}");
        assert_eq!(xs.len(), 1, "link type {lt}");
        assert!(xs[0].authenticate.is_some());
    }
    // An unknown link type is counted once, not reported per packet.
    let (r, xs, ps) = run(&relink(&c.frames, 147));
    r.unwrap();
    assert!(xs.is_empty());
    assert_eq!(ps.len(), 1, "{ps:?}");
    assert!(
        ps[0].message.starts_with("8 frames skipped: link type 147"),
        "{}",
        ps[0]
    );
}

#[test]
fn ipv6_conversation() {
    let mut c = Conversation::new("[2001:db8::1]:51000", "[2001:db8::2]:445");
    c.handshake();
    c.smb2_exchange(&Messages::sample(), 0xc000_006d);
    c.close();
    let (r, xs, _) = run(&synth::capture(FORMATS[0], &c.frames));
    r.unwrap();
    assert_eq!(xs.len(), 1);
    assert_eq!(xs[0].client.to_string(), "[2001:db8::1]:51000");
    assert_eq!(xs[0].carrier(), Carrier::Smb2);
    assert!(!xs[0].result.unwrap().result.success());
}

#[test]
fn truncated_and_malformed_files() {
    let c = conversation();
    for format in FORMATS {
        let full = synth::capture(format, &c.frames);
        // Cut points (every one in the headers, then a sample): never an
        // error past the file header, never a panic.
        for cut in (0..full.len()).filter(|c| *c < 160 || c % 11 == 0) {
            let (r, _, ps) = run(&full[..cut]);
            match r {
                Ok(s) => {
                    if s.truncated {
                        assert!(
                            ps.iter().any(|p| p.layer == "capture"),
                            "{format:?} cut {cut}"
                        );
                    }
                }
                Err(CaptureError::Empty | CaptureError::NotACapture { .. }) => {
                    assert!(cut < 48, "{format:?}: cut {cut} rejected the whole file");
                }
                Err(e) => panic!("{e}"),
            }
        }
        // Cut inside the last record: the exchange is still found.
        let (r, xs, ps) = run(&full[..full.len() - 3]);
        assert!(r.unwrap().truncated);
        assert_eq!(xs.len(), 1);
        assert!(ps[0].message.contains("truncated"), "{}", ps[0]);
    }
    let e = run(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0")
        .0
        .unwrap_err();
    assert!(e.to_string().contains("7f454c46"), "{e}");
    assert!(matches!(run(b"").0, Err(CaptureError::Empty)));
    // A pcapng block with a bad length after good ones.
    let mut ng = synth::capture(FORMATS[4], &c.frames);
    ng.extend_from_slice(&[6, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0]);
    let (r, xs, ps) = run(&ng);
    assert!(r.unwrap().truncated);
    assert_eq!(xs.len(), 1);
    assert_eq!(ps.len(), 1, "{ps:?}");
}

#[test]
fn a_snap_length_cut_is_counted_once() {
    let c = conversation();
    let mut w = Writer::new(Vec::new(), FORMATS[0], 1).unwrap();
    for (p, f) in &c.frames {
        w.packet(p.time, &f[..f.len().min(96)]).unwrap();
    }
    let (r, _, ps) = run(&w.into_inner());
    r.unwrap();
    let cut: Vec<_> = ps
        .iter()
        .filter(|p| p.message.contains("snap length"))
        .collect();
    assert_eq!(cut.len(), 1, "{ps:?}");
    assert!(cut[0].message.starts_with("4 TCP segments"), "{}", cut[0]);
}

#[test]
fn idle_connections_are_reported_early_and_memory_is_bounded() {
    let mut frames = Vec::new();
    let mut time = ntlm_capture::Timestamp::new(1_700_000_000, 0);
    for i in 0..40u16 {
        let mut c = Conversation::new(
            &format!("10.2.0.{}:{}", i % 200 + 1, 40000 + i),
            "10.2.1.1:80",
        );
        c.time = time;
        c.packet_base = u64::try_from(frames.len()).unwrap();
        c.handshake();
        c.http_exchange(&Messages::sample(), 200);
        // No FIN: the connections stay open.
        time = ntlm_capture::Timestamp::new(c.time.secs + 100, 0);
        frames.extend(c.frames);
    }
    let bytes = synth::capture(FORMATS[0], &frames);
    let mut x = Extractor::default();
    x.config.max_connections = 8;
    let mut seen = Vec::new();
    x.run(0, bytes.as_slice(), &mut |e| {
        if let Event::Exchange(x) = e {
            seen.push(x.first().packet);
        }
    })
    .unwrap();
    // Every connection is reported once, the idle ones before the end.
    assert_eq!(seen.len(), 40);
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 40);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Arbitrary bytes after a valid header: no panic, no error.
    #[test]
    fn arbitrary_records_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..600), ng in any::<bool>()) {
        let format = if ng { FORMATS[4] } else { FORMATS[0] };
        let mut bytes = synth::capture(format, &[]);
        bytes.extend_from_slice(&tail);
        let (r, _, _) = run(&bytes);
        prop_assert!(r.is_ok());
    }

    /// Arbitrary frame contents in valid records: no panic.
    #[test]
    fn arbitrary_frames_never_panic(frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 0..20)) {
        let mut w = Writer::new(Vec::new(), FORMATS[0], 1).unwrap();
        for f in &frames {
            w.packet(ntlm_capture::Timestamp::default(), f).unwrap();
        }
        let (r, _, _) = run(&w.into_inner());
        prop_assert!(r.is_ok());
    }

    /// Any segmentation of the same conversation yields the same messages.
    #[test]
    fn any_mss_yields_the_same_exchange(mss in 1usize..1500, smb in any::<bool>()) {
        let m = Messages::sample();
        let mut c = Conversation::new("10.3.0.1:50000", if smb { "10.3.0.2:445" } else { "10.3.0.2:80" });
        c.mss = mss;
        c.handshake();
        if smb { c.smb2_exchange(&m, 0) } else { c.http_exchange(&m, 200) }
        c.close();
        let (r, xs, ps) = run(&synth::capture(FORMATS[0], &c.frames));
        prop_assert!(r.is_ok());
        prop_assert!(ps.is_empty());
        prop_assert_eq!(xs.len(), 1);
        let x = &xs[0];
        prop_assert_eq!(&x.negotiate.as_ref().unwrap().bytes, &m.negotiate);
        prop_assert_eq!(&x.challenge.as_ref().unwrap().bytes, &m.challenge);
        prop_assert_eq!(&x.authenticate.as_ref().unwrap().bytes, &m.authenticate);
        prop_assert!(x.result.unwrap().result.success());
    }
}
