//! Event XML (the `http://schemas.microsoft.com/win/2004/08/events/event`
//! schema) through `quick-xml`, streaming: an `<Event>` element is
//! recognised at any depth, so a bare sequence of events (`wevtutil qe`),
//! one event (`ToXml()`) and events under an enclosing element
//! (`wevtutil qe /e:Events`) all read. Namespaces are matched by local
//! name. Memory: one event's fields plus quick-xml's buffer for one token.

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event as X};

use crate::{Error, Event, MAX_VALUE, Place, Sink};

/// What the text being collected belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    None,
    EventId,
    RecordId,
    Channel,
    Computer,
    /// `EventData/Data` with this name.
    Data(String),
    /// A `UserData` element with this name (kept if it turns out a leaf).
    UserLeaf(String),
}

/// The state of one `<Event>` being read.
#[derive(Debug, Default)]
struct Building {
    event: Event,
    event_id: Option<String>,
    record_id: Option<String>,
    /// Depth of the `<Event>` element.
    depth: usize,
    /// The caller does not want this event's data.
    skip: bool,
}

/// Reads every `<Event>` element of `r`. Returns an error only for I/O;
/// malformed XML ends the file with a problem naming the byte offset.
pub(crate) fn read_stream<R: BufRead>(
    r: R,
    sink: &mut Sink<'_>,
    wanted: Option<&dyn Fn(u32) -> bool>,
) -> Result<(), Error> {
    let problems = sink.problems;
    let events = read_events(r, sink, wanted)?;
    if events == 0 && sink.problems == problems {
        sink.problem(
            Place::default(),
            "no <Event> element (is this an event log export?)",
        );
    }
    Ok(())
}

/// Reads one record's XML as rendered by the EVTX reader; the record ID of
/// its header stands in when the XML lacks one.
pub(crate) fn read_record(
    xml: &[u8],
    record: u64,
    sink: &mut Sink<'_>,
    wanted: Option<&dyn Fn(u32) -> bool>,
) {
    let problems = sink.problems;
    let n = read_slice(xml, sink, record, wanted);
    if n == 0 && sink.problems == problems {
        sink.problem(
            Place {
                record: Some(record),
                ..Place::default()
            },
            "the record rendered no <Event> element",
        );
    }
}

fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b':') {
        Some(i) => name.get(i + 1..).unwrap_or_default(),
        None => name,
    }
}

fn attr(e: &BytesStart<'_>, want: &[u8]) -> Option<String> {
    let a = e
        .attributes()
        .with_checks(false)
        .flatten()
        .find(|a| local(a.key.as_ref()) == want)?;
    // Most values need no normalisation: no reference, no white space to fold.
    let raw = a.value.as_ref();
    if !raw
        .iter()
        .any(|&b| matches!(b, b'&' | b'\t' | b'\r' | b'\n'))
    {
        return std::str::from_utf8(raw).ok().map(str::to_owned);
    }
    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
        .ok()
        .map(|v| v.into_owned())
}

fn push_text(buf: &mut String, s: &str) {
    if buf.len() + s.len() <= MAX_VALUE {
        buf.push_str(s);
    } else {
        for c in s.chars() {
            if buf.len() + c.len_utf8() > MAX_VALUE {
                break;
            }
            buf.push(c);
        }
    }
}

/// Resolves `&name;` / `&#n;` (the XML predefined entities and character
/// references; others are kept as written).
fn resolve_ref(name: &str) -> String {
    match name {
        "lt" => "<".into(),
        "gt" => ">".into(),
        "amp" => "&".into(),
        "apos" => "'".into(),
        "quot" => "\"".into(),
        _ => {
            let code = name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| name.strip_prefix('#').map(str::parse::<u32>));
            match code.and_then(Result::ok).and_then(char::from_u32) {
                Some(c) => c.to_string(),
                None => format!("&{name};"),
            }
        }
    }
}

/// Which section of an event an element is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    System,
    EventData,
    UserData,
    Other,
}

/// The event state machine, fed by either driver below.
struct Machine<'f> {
    /// Sections of the open elements inside the current event (at most 64 kept).
    path: Vec<Tag>,
    /// Open elements beyond the kept path.
    deeper: usize,
    depth: usize,
    cur: Option<Building>,
    target: Target,
    text: String,
    count: u64,
    record: Option<u64>,
    wanted: Option<&'f dyn Fn(u32) -> bool>,
}

/// What the machine wants the driver to do next.
enum Step {
    Go,
    /// The single record of an EVTX rendering is done: stop reading it.
    Stop,
}

impl Machine<'_> {
    fn start(&mut self, e: &BytesStart<'_>, empty: bool, at: u64, sink: &mut Sink<'_>) {
        let name = e.local_name();
        let name = name.as_ref();
        let Some(b) = self.cur.as_mut() else {
            if name == b"Event" {
                if empty {
                    sink.problem(
                        Place {
                            record: self.record,
                            offset: self.record.is_none().then_some(at),
                            ..Place::default()
                        },
                        "empty <Event/> element",
                    );
                } else {
                    self.cur = Some(Building {
                        depth: self.depth,
                        ..Building::default()
                    });
                    self.path.clear();
                    self.deeper = 0;
                }
            }
            if !empty {
                self.depth += 1;
            }
            return;
        };
        // A new element: a UserData element that had text waiting is not a leaf.
        if matches!(self.target, Target::UserLeaf(_)) {
            self.target = Target::None;
        }
        self.text.clear();
        let top = self.path.first().copied();
        let parent_is_top = self.path.len() == 1 && self.deeper == 0;
        let tag = match (top, name) {
            (None, b"System") => Tag::System,
            (None, b"EventData") => Tag::EventData,
            (None, b"UserData") => Tag::UserData,
            (Some(t), _) => t,
            (None, _) => Tag::Other,
        };
        self.target = match (top, parent_is_top) {
            (Some(Tag::System), true) => match name {
                b"Provider" => {
                    b.event.provider = attr(e, b"Name").unwrap_or_default();
                    Target::None
                }
                b"TimeCreated" => {
                    b.event.time = attr(e, b"SystemTime").unwrap_or_default();
                    Target::None
                }
                b"EventID" => Target::EventId,
                b"EventRecordID" => Target::RecordId,
                b"Channel" => Target::Channel,
                b"Computer" => Target::Computer,
                _ => Target::None,
            },
            (Some(Tag::EventData), true) if name == b"Data" && !b.skip => {
                Target::Data(attr(e, b"Name").unwrap_or_else(|| "Data".into()))
            }
            (Some(Tag::UserData), _) if !b.skip => {
                Target::UserLeaf(String::from_utf8_lossy(name).into_owned())
            }
            _ => Target::None,
        };
        if empty {
            finish_target(b, &mut self.target, &mut self.text, self.wanted);
        } else {
            if self.path.len() < 64 {
                self.path.push(tag);
            } else {
                self.deeper += 1;
            }
            self.depth += 1;
        }
    }

    fn end(&mut self, sink: &mut Sink<'_>) -> Step {
        self.depth = self.depth.saturating_sub(1);
        let Some(b) = self.cur.as_mut() else {
            return Step::Go;
        };
        if self.depth == b.depth {
            self.target = Target::None;
            self.text.clear();
            if let Some(b) = self.cur.take() {
                self.count += 1;
                emit(b, self.record, sink);
            }
            return Step::Go;
        }
        finish_target(b, &mut self.target, &mut self.text, self.wanted);
        let left_system = self.path.len() == 1 && self.path.first() == Some(&Tag::System);
        if self.deeper > 0 {
            self.deeper -= 1;
        } else {
            self.path.pop();
        }
        // A record the caller does not want: once its EventRecordID (or,
        // without one, System) is read, the rest of a single rendered
        // record need not be.
        if (left_system || b.record_id.is_some()) && b.skip && self.record.is_some() {
            if let Some(b) = self.cur.take() {
                self.count += 1;
                emit(b, self.record, sink);
            }
            return Step::Stop;
        }
        Step::Go
    }

    fn text(&mut self, s: &str) {
        if self.target != Target::None {
            push_text(&mut self.text, s);
        }
    }

    fn reference(&mut self, name: &[u8]) {
        if self.target != Target::None {
            let name = String::from_utf8_lossy(name);
            push_text(&mut self.text, &resolve_ref(&name));
        }
    }

    fn malformed(&mut self, e: &quick_xml::Error, at: u64, sink: &mut Sink<'_>) {
        let within = self
            .cur
            .as_ref()
            .and_then(|b| b.record_id.as_deref())
            .and_then(|r| r.trim().parse().ok())
            .or(self.record);
        sink.problem(
            Place {
                record: within,
                offset: self.record.is_none().then_some(at),
                ..Place::default()
            },
            format!("malformed XML: {e}; the rest of the input is not read"),
        );
    }

    fn eof(&mut self, at: u64, sink: &mut Sink<'_>) {
        if let Some(b) = self.cur.take() {
            sink.problem(
                Place {
                    record: b
                        .record_id
                        .and_then(|r| r.trim().parse().ok())
                        .or(self.record),
                    offset: self.record.is_none().then_some(at),
                    ..Place::default()
                },
                "truncated: the input ends inside an <Event> element",
            );
        }
    }
}

fn machine(record: Option<u64>, wanted: Option<&dyn Fn(u32) -> bool>) -> Machine<'_> {
    Machine {
        path: Vec::with_capacity(8),
        deeper: 0,
        depth: 0,
        cur: None,
        target: Target::None,
        text: String::new(),
        count: 0,
        record,
        wanted,
    }
}

fn io_error(e: &std::io::Error) -> Error {
    Error::Io(std::io::Error::new(e.kind(), e.to_string()))
}

/// The streaming driver: any `BufRead`, one token buffered at a time.
fn read_events<R: BufRead>(
    r: R,
    sink: &mut Sink<'_>,
    wanted: Option<&dyn Fn(u32) -> bool>,
) -> Result<u64, Error> {
    let mut reader = Reader::from_reader(r);
    let mut buf = Vec::with_capacity(4096);
    let mut m = machine(None, wanted);
    loop {
        let ev = match reader.read_event_into(&mut buf) {
            Ok(ev) => ev,
            Err(quick_xml::Error::Io(e)) => return Err(io_error(&e)),
            Err(e) => {
                m.malformed(&e, reader.error_position(), sink);
                return Ok(m.count);
            }
        };
        match ev {
            X::Start(ref e) => m.start(e, false, reader.buffer_position(), sink),
            X::Empty(ref e) => m.start(e, true, reader.buffer_position(), sink),
            X::End(_) => {
                let _ = m.end(sink);
            }
            X::Text(t) => match t.decode() {
                Ok(s) => m.text(&s),
                Err(_) => m.text(&String::from_utf8_lossy(&t)),
            },
            X::CData(t) => m.text(&String::from_utf8_lossy(&t)),
            X::GeneralRef(r) => m.reference(&r),
            X::Eof => {
                m.eof(reader.buffer_position(), sink);
                return Ok(m.count);
            }
            X::Decl(_) | X::PI(_) | X::DocType(_) | X::Comment(_) => {}
        }
        buf.clear();
    }
}

/// The in-memory driver for one rendered record: borrows from the bytes,
/// copies nothing, and stops after System when the caller does not want
/// the event.
fn read_slice(
    xml: &[u8],
    sink: &mut Sink<'_>,
    record: u64,
    wanted: Option<&dyn Fn(u32) -> bool>,
) -> u64 {
    let mut reader = Reader::from_reader(xml);
    let mut m = machine(Some(record), wanted);
    loop {
        let ev = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) => {
                m.malformed(&e, reader.error_position(), sink);
                return m.count;
            }
        };
        let step = match ev {
            X::Start(ref e) => {
                m.start(e, false, 0, sink);
                Step::Go
            }
            X::Empty(ref e) => {
                m.start(e, true, 0, sink);
                Step::Go
            }
            X::End(_) => m.end(sink),
            X::Text(t) => {
                match t.decode() {
                    Ok(s) => m.text(&s),
                    Err(_) => m.text(&String::from_utf8_lossy(&t)),
                }
                Step::Go
            }
            X::CData(t) => {
                m.text(&String::from_utf8_lossy(&t));
                Step::Go
            }
            X::GeneralRef(r) => {
                m.reference(&r);
                Step::Go
            }
            X::Eof => {
                m.eof(0, sink);
                return m.count;
            }
            X::Decl(_) | X::PI(_) | X::DocType(_) | X::Comment(_) => Step::Go,
        };
        if matches!(step, Step::Stop) {
            return m.count;
        }
    }
}

/// Stores the collected text where it belongs; an EventID the caller does
/// not want marks the event to be skipped.
fn finish_target(
    b: &mut Building,
    target: &mut Target,
    text: &mut String,
    wanted: Option<&dyn Fn(u32) -> bool>,
) {
    let t = std::mem::take(text);
    match std::mem::replace(target, Target::None) {
        Target::None => {}
        Target::EventId => {
            if let (Some(w), Ok(id)) = (wanted, t.trim().parse::<u32>()) {
                b.skip = !w(id);
            }
            b.event_id = Some(t);
        }
        Target::RecordId => b.record_id = Some(t),
        Target::Channel => b.event.channel = t,
        Target::Computer => b.event.computer = t,
        Target::Data(n) | Target::UserLeaf(n) => b.event.push(n, t),
    }
}

fn emit(b: Building, record: Option<u64>, sink: &mut Sink<'_>) {
    let mut e = b.event;
    let logged_record = b.record_id.as_deref().and_then(|r| r.trim().parse().ok());
    e.record_id = logged_record.or(record);
    match b.event_id.as_deref().map(|s| s.trim().parse::<u32>()) {
        Some(Ok(id)) => {
            e.event_id = id;
            if b.skip {
                sink.other(id, e.record_id);
            } else {
                sink.event(e);
            }
        }
        other => sink.problem(
            Place {
                record: e.record_id,
                ..Place::default()
            },
            match other {
                Some(_) => format!(
                    "System/EventID is not a number: {:?}",
                    b.event_id.unwrap_or_default()
                ),
                None => "System/EventID is missing".to_owned(),
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use crate::{Item, read};

    fn items(xml: &str) -> Vec<Item> {
        let mut v = Vec::new();
        read(xml.as_bytes(), &mut |i| v.push(i)).unwrap();
        v
    }

    const TWO: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Events>
<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Security-Auditing' Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/><EventID>4624</EventID><TimeCreated SystemTime='2024-05-01T10:00:00.1234567Z'/><EventRecordID>11</EventRecordID><Channel>Security</Channel><Computer>srv.example.com</Computer></System><EventData><Data Name='TargetUserName'>a&amp;b &#x41;</Data><Data Name='IpAddress'/><Data Name='KeyLength'>128</Data></EventData></Event>
<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='LsaSrv'/><EventID Qualifiers='0'>6038</EventID><EventRecordID>12</EventRecordID><Channel>System</Channel><Computer>dc</Computer></System><UserData><Info xmlns='x'><Name>v</Name><Nested><Leaf>1</Leaf></Nested></Info></UserData><RenderingInfo Culture='en-US'><Message>m</Message></RenderingInfo></Event>
</Events>"#;

    #[test]
    fn reads_events_at_any_depth_with_data_and_user_data() {
        let v = items(TWO);
        assert_eq!(v.len(), 2, "{v:?}");
        let Item::Event(a) = &v[0] else { panic!() };
        assert_eq!(a.event_id, 4624);
        assert_eq!(a.record_id, Some(11));
        assert_eq!(a.provider, "Microsoft-Windows-Security-Auditing");
        assert_eq!(a.time, "2024-05-01T10:00:00.1234567Z");
        assert_eq!(a.computer, "srv.example.com");
        assert_eq!(a.field("TargetUserName"), Some("a&b A"));
        assert_eq!(a.field("IpAddress"), Some(""));
        assert_eq!(a.field("KeyLength"), Some("128"));
        let Item::Event(b) = &v[1] else { panic!() };
        assert_eq!(b.event_id, 6038);
        assert_eq!(
            b.data,
            vec![("Name".into(), "v".into()), ("Leaf".into(), "1".into())]
        );
    }

    #[test]
    fn malformed_and_truncated_xml_are_problems_after_the_good_events() {
        let cut = &TWO[..TWO.find("<Channel>System").unwrap()];
        let v = items(cut);
        assert!(matches!(v[0], Item::Event(_)));
        let Item::Problem(p) = &v[1] else { panic!() };
        assert!(p.message.contains("truncated"), "{p}");
        let bad = TWO.replace(
            "</Computer></System><UserData>",
            "</Computr></System><UserData>",
        );
        let v = items(&bad);
        let Item::Problem(p) = &v[1] else { panic!() };
        assert!(p.message.starts_with("malformed XML"), "{p}");
        assert_eq!(p.place.record, Some(12));
        assert!(p.place.offset.is_some());
    }

    #[test]
    fn xml_without_events_is_a_problem() {
        let v = items("<root><a>1</a></root>");
        let Item::Problem(p) = &v[0] else { panic!() };
        assert!(p.message.contains("no <Event>"));
        let v = items("<Event><System><EventID>x</EventID></System></Event>");
        let Item::Problem(p) = &v[0] else { panic!() };
        assert!(p.message.contains("not a number"), "{p}");
    }

    #[test]
    fn utf16_files_read() {
        let le: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain(TWO.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let mut v = Vec::new();
        let s = read(&le[..], &mut |i| v.push(i)).unwrap();
        assert_eq!(s.events, 2);
        assert_eq!(v, items(TWO));
    }
}
