//! Reading pcap and pcapng streams with `pcap-parser`'s streaming readers.

use core::fmt;
use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use pcap_parser::traits::PcapNGPacketBlock;
use pcap_parser::{Block, PcapBlockOwned, PcapError, create_reader};

use crate::decode::decode_frame;
use crate::track::{Config, Tracker};
use crate::{Event, Place, Timestamp};

/// Initial read buffer: larger than any common snap length.
const INITIAL_BUFFER: usize = 1 << 20;
/// Largest record accepted (the buffer grows up to this).
const MAX_RECORD: usize = 64 << 20;
/// A progress event every this many bytes.
const PROGRESS_EVERY: u64 = 16 << 20;

/// The stream is not a capture, or could not be read.
#[derive(Debug)]
pub enum CaptureError {
    /// The stream is empty.
    Empty,
    /// The first bytes are neither a pcap header nor a pcapng section header.
    NotACapture {
        /// The first four bytes, hex.
        magic: String,
    },
    /// Reading failed.
    Io(io::Error),
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("empty file: not a pcap or pcapng capture"),
            Self::NotACapture { magic } => write!(
                f,
                "not a pcap or pcapng capture (file starts with {magic}; expected a pcap magic \
                 a1b2c3d4/a1b23c4d in either byte order or a pcapng section header 0a0d0d0a)"
            ),
            Self::Io(e) => write!(f, "read error: {e}"),
        }
    }
}

impl std::error::Error for CaptureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// What was read from one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileSummary {
    /// Packets (records) read.
    pub packets: u64,
    /// Bytes of the file consumed.
    pub bytes: u64,
    /// TCP segments decoded.
    pub tcp_segments: u64,
    /// Whether the file ended inside a record or was malformed past its header.
    pub truncated: bool,
    /// Connections evicted from the connection table before they ended
    /// ([`crate::track::Config::max_connections`]).
    pub evicted_connections: u64,
    /// Of which in the middle of an NTLM exchange (reported in parts).
    pub evicted_mid_exchange: u64,
}

/// Reads captures and reports their NTLM exchanges.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extractor {
    /// Bounds and timeouts.
    pub config: Config,
}

/// Keeps the first I/O error of the inner reader (pcap-parser only says "read error").
struct Tap<R> {
    inner: R,
    error: Arc<Mutex<Option<io::Error>>>,
    head: Arc<Mutex<Vec<u8>>>,
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                if let Ok(mut h) = self.head.lock() {
                    if h.len() < 4 {
                        let want = (4 - h.len()).min(n);
                        h.extend_from_slice(buf.get(..want).unwrap_or_default());
                    }
                }
                Ok(n)
            }
            Err(e) => {
                let copy = io::Error::new(e.kind(), e.to_string());
                if let Ok(mut slot) = self.error.lock() {
                    slot.get_or_insert(copy);
                }
                Err(e)
            }
        }
    }
}

/// The link type and timestamp unit of a pcapng interface.
#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: u32,
    /// Units per second.
    units: u64,
    offset: i64,
}

fn ts_from_units(ts: u64, units: u64, offset: i64) -> Timestamp {
    let units = units.max(1);
    let secs = i64::try_from(ts / units)
        .unwrap_or(i64::MAX)
        .saturating_add(offset);
    let frac = u128::from(ts % units) * 1_000_000_000 / u128::from(units);
    Timestamp::new(secs, u32::try_from(frac).unwrap_or(0))
}

impl Extractor {
    /// An extractor with these bounds.
    pub const fn new(config: Config) -> Self {
        Self { config }
    }

    /// Reads one capture (pcap or pcapng, either byte order, micro- or
    /// nanosecond timestamps) from `input` and reports its exchanges,
    /// problems and progress to `sink`. `file` is the caller's index for
    /// this file, copied into every [`Place`].
    ///
    /// Errors only when the stream is not a capture or cannot be read; a
    /// capture truncated or malformed after its header is reported as a
    /// problem and what came before it is still extracted.
    pub fn run<R: Read + Send>(
        &self,
        file: usize,
        input: R,
        sink: &mut dyn FnMut(Event),
    ) -> Result<FileSummary, CaptureError> {
        let error = Arc::new(Mutex::new(None));
        let head = Arc::new(Mutex::new(Vec::new()));
        let tap = Tap {
            inner: input,
            error: Arc::clone(&error),
            head: Arc::clone(&head),
        };
        let io_error =
            |error: &Arc<Mutex<Option<io::Error>>>| error.lock().ok().and_then(|mut e| e.take());
        let mut reader = match create_reader(INITIAL_BUFFER, tap) {
            Ok(r) => r,
            Err(e) => {
                if let Some(e) = io_error(&error) {
                    return Err(CaptureError::Io(e));
                }
                let magic = head.lock().map(|h| hex(&h)).unwrap_or_default();
                return Err(match e {
                    PcapError::Eof if magic.is_empty() => CaptureError::Empty,
                    _ => CaptureError::NotACapture { magic },
                });
            }
        };
        let mut tracker = Tracker::new(self.config, file);
        let mut summary = FileSummary::default();
        let mut capacity = INITIAL_BUFFER;
        let mut legacy: Option<(u32, u64)> = None;
        let mut interfaces: Vec<Interface> = Vec::new();
        let mut next_progress = PROGRESS_EVERY;
        let problem_place = |packet: u64| Place {
            file,
            packet,
            time: Timestamp::default(),
        };
        loop {
            match reader.next() {
                Ok((size, block)) => {
                    let is_packet = matches!(
                        &block,
                        PcapBlockOwned::Legacy(_)
                            | PcapBlockOwned::NG(Block::EnhancedPacket(_) | Block::SimplePacket(_))
                    );
                    if is_packet {
                        summary.packets += 1;
                    }
                    let mut frame: Option<(u32, Timestamp, &[u8])> = None;
                    match &block {
                        PcapBlockOwned::LegacyHeader(h) => {
                            let units = if h.is_nanosecond_precision() {
                                1_000_000_000
                            } else {
                                1_000_000
                            };
                            legacy = Some((u32::try_from(h.network.0).unwrap_or(u32::MAX), units));
                        }
                        PcapBlockOwned::Legacy(b) => {
                            let (lt, units) = legacy.unwrap_or((1, 1_000_000));
                            let nanos = u64::from(b.ts_usec) * (1_000_000_000 / units);
                            let t = Timestamp::new(
                                i64::from(b.ts_sec),
                                u32::try_from(nanos).unwrap_or(0),
                            );
                            frame = Some((lt, t, b.data));
                        }
                        PcapBlockOwned::NG(Block::SectionHeader(_)) => interfaces.clear(),
                        PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                            interfaces.push(Interface {
                                linktype: u32::try_from(idb.linktype.0).unwrap_or(u32::MAX),
                                units: idb.ts_resolution().unwrap_or(1_000_000),
                                offset: idb.ts_offset(),
                            });
                        }
                        PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                            let idx = usize::try_from(epb.if_id).unwrap_or(usize::MAX);
                            match interfaces.get(idx) {
                                Some(i) => {
                                    let ts = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                                    let t = ts_from_units(ts, i.units, i.offset);
                                    frame = Some((i.linktype, t, epb.packet_data()));
                                }
                                None => tracker.problem(
                                    problem_place(summary.packets),
                                    "capture",
                                    format!(
                                        "Enhanced Packet Block names interface {} but the section describes {}",
                                        epb.if_id,
                                        interfaces.len()
                                    ),
                                    sink,
                                ),
                            }
                        }
                        PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                            if let Some(i) = interfaces.first() {
                                frame = Some((i.linktype, Timestamp::default(), spb.packet_data()));
                            } else {
                                tracker.problem(
                                    problem_place(summary.packets),
                                    "capture",
                                    "Simple Packet Block before any Interface Description Block"
                                        .to_owned(),
                                    sink,
                                );
                            }
                        }
                        PcapBlockOwned::NG(_) => {}
                    }
                    if let Some((lt, time, data)) = frame {
                        let place = Place {
                            file,
                            packet: summary.packets,
                            time,
                        };
                        match decode_frame(lt, data) {
                            Ok(Some(seg)) => {
                                summary.tcp_segments += 1;
                                tracker.segment(place, &seg, sink);
                            }
                            Ok(None) => {}
                            Err(e) => tracker.frame_error(place, &e, sink),
                        }
                    }
                    reader.consume(size);
                    summary.bytes = u64::try_from(reader.consumed()).unwrap_or(u64::MAX);
                    if summary.bytes >= next_progress {
                        sink(Event::Progress {
                            bytes: summary.bytes,
                        });
                        next_progress = summary.bytes.saturating_add(PROGRESS_EVERY);
                    }
                }
                Err(PcapError::Eof) => break,
                Err(PcapError::Incomplete(_)) => {
                    if reader.refill().is_err() {
                        if let Some(e) = io_error(&error) {
                            return Err(CaptureError::Io(e));
                        }
                        break;
                    }
                }
                Err(PcapError::BufferTooSmall) => {
                    if capacity >= MAX_RECORD || !reader.grow(capacity * 2) {
                        summary.truncated = true;
                        let at = reader.consumed();
                        tracker.problem(
                            problem_place(summary.packets + 1),
                            "capture",
                            format!(
                                "record at file offset {at} is larger than {MAX_RECORD} bytes; the rest of the file is skipped"
                            ),
                            sink,
                        );
                        break;
                    }
                    capacity *= 2;
                    if reader.refill().is_err() {
                        if let Some(e) = io_error(&error) {
                            return Err(CaptureError::Io(e));
                        }
                        break;
                    }
                }
                Err(PcapError::UnexpectedEof) => {
                    summary.truncated = true;
                    let at = reader.consumed();
                    tracker.problem(
                        problem_place(summary.packets + 1),
                        "capture",
                        format!(
                            "the capture is truncated: it ends inside the record at file offset {at} (packet {})",
                            summary.packets + 1
                        ),
                        sink,
                    );
                    break;
                }
                Err(PcapError::ReadError) => {
                    return Err(CaptureError::Io(
                        io_error(&error).unwrap_or_else(|| io::Error::other("read error")),
                    ));
                }
                Err(e) => {
                    summary.truncated = true;
                    let what = match e {
                        PcapError::HeaderNotRecognized => "unrecognised block".to_owned(),
                        PcapError::NomError(_, k) | PcapError::OwnedNomError(_, k) => {
                            format!("malformed block ({k:?})")
                        }
                        other => format!("{other:?}"),
                    };
                    let at = reader.consumed();
                    tracker.problem(
                        problem_place(summary.packets + 1),
                        "capture",
                        format!(
                            "{what} at file offset {at} (after packet {}); the rest of the file is skipped",
                            summary.packets
                        ),
                        sink,
                    );
                    break;
                }
            }
        }
        tracker.finish(sink);
        let evicted = tracker.evicted();
        summary.evicted_connections = evicted.connections;
        summary.evicted_mid_exchange = evicted.mid_exchange;
        Ok(summary)
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
