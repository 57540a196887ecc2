//! Read Windows event logs into typed [`Event`] records.
//!
//! Three forms are read, recognised by content ([`sniff`]):
//!
//! - EVTX files (the binary format of `.evtx` logs), through the `evtx`
//!   crate, one 64 KiB chunk at a time: only a [`Read`] is needed (standard
//!   input works) and memory stays bounded whatever the file size. Chunks are
//!   read in file order; a log that has wrapped around therefore yields its
//!   newest chunks first (each record keeps its own time and record ID).
//! - Event XML as `wevtutil qe LOG /f:xml` (or `/f:RenderedXml`) and
//!   PowerShell `Get-WinEvent ... | ForEach-Object { $_.ToXml() }` write it:
//!   one or many `<Event>` elements, with or without an enclosing element,
//!   UTF-8 or UTF-16 (with or without a byte-order mark), through the
//!   `quick-xml` parser.
//! - JSON Lines as `evtx_dump -o jsonl` writes them: one `{"Event": {...}}`
//!   object per line.
//!
//! Everything that goes wrong inside a file after it was recognised (a
//! chunk with a bad magic or CRC, a record that does not decode, malformed
//! XML, a line that is not an event) is reported as a [`Problem`] item and
//! reading goes on where it can; only a stream that is not an event log at
//! all, an empty one, or an I/O error ends it with an [`Error`].
//!
//! The crate opens no file and reads no clock: the caller supplies the
//! [`Read`] and receives the items through a callback.
//!
//! ```
//! use ntlm_events::{Item, read};
//!
//! let xml = br#"<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">
//!   <System><Provider Name="Microsoft-Windows-Security-Auditing"/><EventID>4776</EventID>
//!   <TimeCreated SystemTime="2024-05-01T10:00:00.000Z"/><EventRecordID>7</EventRecordID>
//!   <Channel>Security</Channel><Computer>dc1.example.com</Computer></System>
//!   <EventData><Data Name="TargetUserName">alice</Data><Data Name="Workstation">PC1</Data></EventData>
//! </Event>"#;
//! let mut events = Vec::new();
//! read(&xml[..], &mut |item| {
//!     if let Item::Event(e) = item {
//!         events.push(e);
//!     }
//! })
//! .unwrap();
//! assert_eq!(events[0].event_id, 4776);
//! assert_eq!(events[0].field("Workstation"), Some("PC1"));
//! ```

#![forbid(unsafe_code)]

mod binary;
mod jsonl;
mod utf16;
mod xml;

use std::fmt;
use std::io::{self, Read};

/// Most data fields kept per event (the NTLM events carry about 30).
pub const MAX_FIELDS: usize = 256;
/// Longest field value kept, in bytes; longer values are cut at a
/// character boundary.
pub const MAX_VALUE: usize = 16 * 1024;
/// Longest JSON line read; a longer line is skipped as a problem.
pub const MAX_LINE: usize = 4 << 20;

/// One event record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    /// `System/EventRecordID` (for EVTX also the record header's ID).
    pub record_id: Option<u64>,
    /// `System/EventID`.
    pub event_id: u32,
    /// `System/Provider/@Name`.
    pub provider: String,
    /// `System/Channel`.
    pub channel: String,
    /// `System/TimeCreated/@SystemTime`, as logged (RFC 3339, UTC).
    pub time: String,
    /// `System/Computer`: the host that logged the event.
    pub computer: String,
    /// The event's data: `EventData/Data` elements by their `Name`
    /// attribute (unnamed ones as `Data`), and the leaf elements of
    /// `UserData` by their element name, in document order. Values are
    /// as logged (not trimmed), except that control characters XML 1.0
    /// cannot carry become `_`, as `evtx`'s XML rendering writes them. A name seen again gets `_1`, `_2`, ...
    /// appended, as `evtx_dump`'s JSON names them, so that every form
    /// yields the same fields.
    pub data: Vec<(String, String)>,
}

impl Event {
    /// The first data field called `name` (exact, as in the schema).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.data
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Adds a field, within [`MAX_FIELDS`] and [`MAX_VALUE`].
    fn push(&mut self, name: String, mut value: String) {
        if self.data.len() >= MAX_FIELDS {
            return;
        }
        let bad = |c: char| c.is_ascii_control() && !matches!(c, '\t' | '\r' | '\n');
        if value.contains(bad) {
            value = value.replace(bad, "_");
        }
        if value.len() > MAX_VALUE {
            let mut cut = MAX_VALUE;
            while !value.is_char_boundary(cut) {
                cut -= 1;
            }
            value.truncate(cut);
        }
        let name = if self.data.iter().any(|(k, _)| *k == name) {
            (1..)
                .map(|i| format!("{name}_{i}"))
                .find(|n| !self.data.iter().any(|(k, _)| k == n))
                .unwrap_or(name)
        } else {
            name
        };
        self.data.push((name, value));
    }
}

/// The forms this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A binary EVTX file.
    Evtx,
    /// Event XML in UTF-8.
    Xml,
    /// Event XML in UTF-16, little-endian.
    XmlUtf16Le,
    /// Event XML in UTF-16, big-endian.
    XmlUtf16Be,
    /// JSON Lines as `evtx_dump -o jsonl` writes them.
    JsonLines,
}

impl Format {
    /// A short name: `evtx`, `xml`, `xml-utf16le`, `xml-utf16be`, `jsonl`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Evtx => "evtx",
            Self::Xml => "xml",
            Self::XmlUtf16Le => "xml-utf16le",
            Self::XmlUtf16Be => "xml-utf16be",
            Self::JsonLines => "jsonl",
        }
    }
}

/// How many leading bytes [`sniff`] wants to see (fewer are fine at the
/// end of a file).
pub const SNIFF_LEN: usize = 64;

/// Recognises an event log by its first bytes: the EVTX magic
/// `ElfFile\0`; a UTF-16 byte-order mark or `<` as UTF-16; or, after an
/// optional UTF-8 byte-order mark and white space, `<` (XML) or `{` (JSON
/// Lines). `None` for anything else.
pub fn sniff(prefix: &[u8]) -> Option<Format> {
    if prefix.starts_with(b"ElfFile\0") {
        return Some(Format::Evtx);
    }
    if prefix.starts_with(&[0xff, 0xfe]) || prefix.starts_with(b"<\0") {
        return Some(Format::XmlUtf16Le);
    }
    if prefix.starts_with(&[0xfe, 0xff]) || prefix.starts_with(b"\0<") {
        return Some(Format::XmlUtf16Be);
    }
    let rest = prefix.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(prefix);
    match rest.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'<') => Some(Format::Xml),
        Some(b'{') => Some(Format::JsonLines),
        _ => None,
    }
}

/// Where in a file a problem was found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Place {
    /// The event record ID, when known.
    pub record: Option<u64>,
    /// The EVTX chunk number (0-based).
    pub chunk: Option<u64>,
    /// The byte offset in the file (for EVTX, of the chunk; for XML, of
    /// the error).
    pub offset: Option<u64>,
    /// The line (1-based; JSON Lines).
    pub line: Option<u64>,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(r) = self.record {
            parts.push(format!("record {r}"));
        }
        if let Some(c) = self.chunk {
            parts.push(format!("chunk {c}"));
        }
        if let Some(o) = self.offset {
            parts.push(format!("byte {o}"));
        }
        if let Some(l) = self.line {
            parts.push(format!("line {l}"));
        }
        if parts.is_empty() {
            f.write_str("file")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// Something wrong inside a file that was otherwise read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where.
    pub place: Place,
    /// What.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

/// What reading yields, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// An event record.
    Event(Event),
    /// An event record the caller's filter did not want ([`read_filtered`]):
    /// only its IDs were read.
    Other {
        /// `System/EventID`.
        event_id: u32,
        /// `System/EventRecordID`.
        record_id: Option<u64>,
    },
    /// A problem; reading went on.
    Problem(Problem),
}

/// What was read from one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// The form recognised.
    pub format: Format,
    /// Event records yielded ([`Item::Event`] and [`Item::Other`]).
    pub events: u64,
    /// Problems yielded.
    pub problems: u64,
    /// Bytes read.
    pub bytes: u64,
}

/// Why a stream could not be read at all.
#[derive(Debug)]
pub enum Error {
    /// Reading failed.
    Io(io::Error),
    /// The stream is empty.
    Empty,
    /// The stream is not an event log; `start` is its first bytes, hex.
    NotEvents {
        /// The first bytes (at most 8), hex.
        start: String,
    },
    /// The EVTX file header is unusable.
    BadHeader(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "read error: {e}"),
            Self::Empty => f.write_str("empty file"),
            Self::NotEvents { start } => write!(
                f,
                "not an event log (EVTX, event XML or JSON Lines): starts with 0x{start}"
            ),
            Self::BadHeader(m) => write!(f, "EVTX file header (byte 0): {m}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// Counts the bytes read through it.
#[derive(Debug)]
pub(crate) struct Counting<R> {
    inner: R,
    pub(crate) bytes: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

/// The sink the readers report to, counting what passes.
pub(crate) struct Sink<'a> {
    f: &'a mut dyn FnMut(Item),
    pub(crate) events: u64,
    pub(crate) problems: u64,
}

impl Sink<'_> {
    pub(crate) fn event(&mut self, e: Event) {
        self.events += 1;
        (self.f)(Item::Event(e));
    }

    pub(crate) fn other(&mut self, event_id: u32, record_id: Option<u64>) {
        self.events += 1;
        (self.f)(Item::Other {
            event_id,
            record_id,
        });
    }

    pub(crate) fn problem(&mut self, place: Place, message: impl Into<String>) {
        self.problems += 1;
        (self.f)(Item::Problem(Problem {
            place,
            message: message.into(),
        }));
    }
}

/// Reads up to `buf.len()` bytes, stopping early only at the end of the stream.
pub(crate) fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while let Some(rest) = buf.get_mut(n..) {
        if rest.is_empty() {
            break;
        }
        match r.read(rest) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Recognises the stream's form ([`sniff`]) and reads it, calling `sink`
/// for every event and problem in file order.
pub fn read<R: Read>(r: R, sink: &mut dyn FnMut(Item)) -> Result<Stats, Error> {
    let mut r = Counting { inner: r, bytes: 0 };
    let mut prefix = [0u8; SNIFF_LEN];
    let n = read_full(&mut r, &mut prefix)?;
    let prefix = prefix.get(..n).unwrap_or_default();
    if n == 0 {
        return Err(Error::Empty);
    }
    let format = sniff(prefix).ok_or_else(|| Error::NotEvents {
        start: prefix.iter().take(8).map(|b| format!("{b:02x}")).collect(),
    })?;
    read_as(format, prefix, r, None, sink)
}

/// Reads a stream whose form is known; `prefix` is what was already read
/// from it (may be empty).
pub fn read_format<R: Read>(
    format: Format,
    prefix: &[u8],
    r: R,
    sink: &mut dyn FnMut(Item),
) -> Result<Stats, Error> {
    read_as(
        format,
        prefix,
        Counting {
            inner: r,
            bytes: prefix.len() as u64,
        },
        None,
        sink,
    )
}

/// [`read_format`] for a caller that needs the data of some events only:
/// an event whose `EventID` `wanted` rejects is yielded as [`Item::Other`]
/// and its data is neither kept nor, for EVTX records, read past its
/// `EventRecordID`. Auditing a large Security log this way skips most of it.
pub fn read_filtered<R: Read>(
    format: Format,
    prefix: &[u8],
    r: R,
    wanted: &dyn Fn(u32) -> bool,
    sink: &mut dyn FnMut(Item),
) -> Result<Stats, Error> {
    read_as(
        format,
        prefix,
        Counting {
            inner: r,
            bytes: prefix.len() as u64,
        },
        Some(wanted),
        sink,
    )
}

fn read_as<R: Read>(
    format: Format,
    prefix: &[u8],
    r: Counting<R>,
    wanted: Option<&dyn Fn(u32) -> bool>,
    sink: &mut dyn FnMut(Item),
) -> Result<Stats, Error> {
    let mut s = Sink {
        f: sink,
        events: 0,
        problems: 0,
    };
    let mut input = Counting {
        inner: prefix.chain(r),
        bytes: 0,
    };
    match format {
        Format::Evtx => binary::read(&mut input, &mut s, wanted)?,
        Format::Xml => xml::read_stream(
            io::BufReader::with_capacity(1 << 16, &mut input),
            &mut s,
            wanted,
        )?,
        Format::XmlUtf16Le | Format::XmlUtf16Be => {
            let big = format == Format::XmlUtf16Be;
            let decoded = utf16::Utf16ToUtf8::new(&mut input, big);
            xml::read_stream(
                io::BufReader::with_capacity(1 << 16, decoded),
                &mut s,
                wanted,
            )?;
        }
        Format::JsonLines => {
            jsonl::read(
                io::BufReader::with_capacity(1 << 16, &mut input),
                &mut s,
                wanted,
            )?;
        }
    }
    Ok(Stats {
        format,
        events: s.events,
        problems: s.problems,
        bytes: input.bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_each_form() {
        assert_eq!(sniff(b"ElfFile\0\0\0"), Some(Format::Evtx));
        assert_eq!(sniff(b"\xef\xbb\xbf  <Event"), Some(Format::Xml));
        assert_eq!(sniff(b"\r\n<?xml"), Some(Format::Xml));
        assert_eq!(sniff(b"\xff\xfe<\0"), Some(Format::XmlUtf16Le));
        assert_eq!(sniff(b"<\0E\0"), Some(Format::XmlUtf16Le));
        assert_eq!(sniff(b"\xfe\xff\0<"), Some(Format::XmlUtf16Be));
        assert_eq!(sniff(b"{\"Event\""), Some(Format::JsonLines));
        assert_eq!(sniff(b"\xd4\xc3\xb2\xa1"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn empty_and_foreign_streams_are_errors() {
        let mut sink = |_: Item| {};
        assert!(matches!(read(&b""[..], &mut sink), Err(Error::Empty)));
        let e = read(&b"\x0a\x0d\x0d\x0apcapng"[..], &mut sink).unwrap_err();
        assert_eq!(
            e.to_string(),
            "not an event log (EVTX, event XML or JSON Lines): starts with 0x0a0d0d0a7063617"
                .to_owned()
                + "0"
        );
    }

    #[test]
    fn values_and_fields_are_bounded() {
        let mut e = Event::default();
        e.push("a".into(), "é".repeat(MAX_VALUE));
        assert!(e.data[0].1.len() <= MAX_VALUE);
        for i in 0..MAX_FIELDS + 10 {
            e.push(format!("f{i}"), String::new());
        }
        assert_eq!(e.data.len(), MAX_FIELDS);
    }
}
