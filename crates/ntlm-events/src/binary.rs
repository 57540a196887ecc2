//! EVTX through the `evtx` crate, one chunk at a time.
//!
//! An EVTX file is a 4 KiB file header followed by 64 KiB chunks, each
//! self-contained (its own string and template tables, its own CRC32s).
//! `evtx::EvtxParser` wants `Read + Seek` to find the oldest chunk; reading
//! chunks in file order with `EvtxChunkData` needs only `Read`, so
//! standard input and files of any size stream with one chunk in memory.
//! Each record is rendered to XML by `evtx` and read by [`crate::xml`], so
//! EVTX and exported XML give the same [`crate::Event`]s.

use std::io::Read;
use std::sync::Arc;

use evtx::{EvtxChunkData, EvtxFileHeader, ParserSettings};

use crate::{Error, Place, Sink, read_full, xml};

const FILE_HEADER: usize = 4096;
const CHUNK: usize = 65536;
/// Record errors reported per chunk before the rest of it is skipped.
const MAX_RECORD_ERRORS: usize = 64;

pub(crate) fn read(
    r: &mut impl Read,
    sink: &mut Sink<'_>,
    wanted: Option<&dyn Fn(u32) -> bool>,
) -> Result<(), Error> {
    let mut header = vec![0u8; FILE_HEADER];
    let n = read_full(r, &mut header)?;
    if n < 128 {
        return Err(Error::BadHeader(format!(
            "truncated: {n} of {FILE_HEADER} bytes"
        )));
    }
    let h = EvtxFileHeader::from_bytes(&header).map_err(|e| Error::BadHeader(e.to_string()))?;
    if n < FILE_HEADER {
        sink.problem(
            Place {
                offset: Some(n as u64),
                ..Place::default()
            },
            format!("truncated in the file header ({n} of {FILE_HEADER} bytes): no chunk"),
        );
        return Ok(());
    }
    if !h.validate_checksum() {
        sink.problem(
            Place {
                offset: Some(124),
                ..Place::default()
            },
            "file header CRC32 mismatch (the chunks are read anyway: they carry their own)",
        );
    }
    let settings = Arc::new(ParserSettings::new().validate_checksums(true));
    let mut data = vec![0u8; CHUNK];
    let mut number: u64 = 0;
    loop {
        data.resize(CHUNK, 0);
        let offset = FILE_HEADER as u64 + number * CHUNK as u64;
        let place = Place {
            chunk: Some(number),
            offset: Some(offset),
            ..Place::default()
        };
        let got = read_full(r, &mut data)?;
        if got == 0 {
            return Ok(());
        }
        // Unused (pre-allocated) chunks are all zeros; a chunk starting with
        // its magic is not.
        let blank =
            !data.starts_with(b"ElfChnk\0") && all_zero(data.get(..got).unwrap_or_default());
        if got < CHUNK {
            if !blank {
                sink.problem(
                    place,
                    format!("truncated chunk: {got} of {CHUNK} bytes; its records are not read"),
                );
            }
            return Ok(());
        }
        number += 1;
        if blank {
            continue;
        }
        if let Some(magic) = data.get(..8).filter(|m| *m != b"ElfChnk\0") {
            let shown: String = magic.iter().map(|b| format!("{b:02x}")).collect();
            sink.problem(
                place,
                format!(
                    "bad chunk magic 0x{shown} (expected \"ElfChnk\\0\"); its records are not read"
                ),
            );
            continue;
        }
        let mut chunk = match EvtxChunkData::new(std::mem::take(&mut data), true) {
            Ok(c) => c,
            Err(e) => {
                sink.problem(place, format!("{e}; its records are not read"));
                data = vec![0u8; CHUNK];
                continue;
            }
        };
        chunk.number = Some(number - 1);
        read_chunk(&mut chunk, &settings, &place, sink, wanted);
        data = std::mem::take(&mut chunk.data);
    }
}

/// Whether every byte is zero (OR-folded in blocks, which vectorises).
fn all_zero(b: &[u8]) -> bool {
    b.chunks(256)
        .all(|c| c.iter().fold(0u8, |acc, &x| acc | x) == 0)
}

fn read_chunk(
    chunk: &mut EvtxChunkData,
    settings: &Arc<ParserSettings>,
    place: &Place,
    sink: &mut Sink<'_>,
    wanted: Option<&dyn Fn(u32) -> bool>,
) {
    let mut parsed = match chunk.parse(Arc::clone(settings)) {
        Ok(p) => p,
        Err(e) => {
            sink.problem(place.clone(), format!("{e}; its records are not read"));
            return;
        }
    };
    let mut errors = 0;
    for rec in parsed.iter() {
        let rec = match rec {
            Ok(rec) => rec,
            Err(e) => {
                errors += 1;
                if errors > MAX_RECORD_ERRORS {
                    sink.problem(
                        place.clone(),
                        format!("more than {MAX_RECORD_ERRORS} bad records: the rest of the chunk is skipped"),
                    );
                    return;
                }
                sink.problem(place.clone(), format!("bad record: {e}"));
                continue;
            }
        };
        let id = rec.event_record_id;
        match rec.into_xml_bytes() {
            Ok(x) => xml::read_record(&x.data, id, sink, wanted),
            Err(e) => sink.problem(
                Place {
                    record: Some(id),
                    ..place.clone()
                },
                format!("record does not render: {e}"),
            ),
        }
    }
}
