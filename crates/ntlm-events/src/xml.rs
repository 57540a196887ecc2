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
}

/// Reads every `<Event>` element of `r`. Returns an error only for I/O;
/// malformed XML ends the file with a problem naming the byte offset.
pub(crate) fn read_stream<R: BufRead>(r: R, sink: &mut Sink<'_>) -> Result<(), Error> {
    let problems = sink.problems;
    let events = read_events(r, sink, None)?;
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
pub(crate) fn read_record(xml: &[u8], record: u64, sink: &mut Sink<'_>) -> Result<(), Error> {
    let n = read_events(xml, sink, Some(record))?;
    if n == 0 {
        sink.problem(
            Place {
                record: Some(record),
                ..Place::default()
            },
            "the record rendered no <Event> element",
        );
    }
    Ok(())
}

fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b':') {
        Some(i) => name.get(i + 1..).unwrap_or_default(),
        None => name,
    }
}

fn attr(e: &BytesStart<'_>, want: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| local(a.key.as_ref()) == want)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
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

#[allow(clippy::too_many_lines)]
fn read_events<R: BufRead>(r: R, sink: &mut Sink<'_>, record: Option<u64>) -> Result<u64, Error> {
    let mut reader = Reader::from_reader(r);
    let mut buf = Vec::with_capacity(4096);
    // Local names of the open elements inside the current event, outermost first.
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut depth = 0usize;
    let mut cur: Option<Building> = None;
    let mut target = Target::None;
    let mut text = String::new();
    let mut count = 0u64;
    loop {
        let ev = match reader.read_event_into(&mut buf) {
            Ok(ev) => ev,
            Err(quick_xml::Error::Io(e)) => {
                return Err(Error::Io(std::io::Error::new(e.kind(), e.to_string())));
            }
            Err(e) => {
                let at = reader.error_position();
                let within = cur
                    .as_ref()
                    .and_then(|b| b.record_id.as_deref())
                    .and_then(|r| r.trim().parse().ok())
                    .or(record);
                sink.problem(
                    Place {
                        record: within,
                        offset: record.is_none().then_some(at),
                        ..Place::default()
                    },
                    format!("malformed XML: {e}; the rest of the input is not read"),
                );
                return Ok(count);
            }
        };
        match ev {
            X::Start(ref e) | X::Empty(ref e) => {
                let empty = matches!(ev, X::Empty(_));
                let name = local(e.name().as_ref()).to_vec();
                match cur.as_mut() {
                    None => {
                        if name == b"Event" {
                            let b = Building {
                                depth,
                                ..Building::default()
                            };
                            if empty {
                                sink.problem(
                                    Place {
                                        record,
                                        offset: record.is_none().then(|| reader.buffer_position()),
                                        ..Place::default()
                                    },
                                    "empty <Event/> element",
                                );
                            } else {
                                cur = Some(b);
                                path.clear();
                            }
                        }
                    }
                    Some(b) => {
                        // A new element: a UserData element that had text
                        // waiting is not a leaf.
                        if matches!(target, Target::UserLeaf(_)) {
                            target = Target::None;
                        }
                        text.clear();
                        let parent = path.last().map(Vec::as_slice);
                        let top = path.first().map(Vec::as_slice);
                        match (top, parent, name.as_slice()) {
                            (Some(b"System"), Some(b"System"), b"Provider") => {
                                b.event.provider = attr(e, b"Name").unwrap_or_default();
                            }
                            (Some(b"System"), Some(b"System"), b"TimeCreated") => {
                                b.event.time = attr(e, b"SystemTime").unwrap_or_default();
                            }
                            (Some(b"System"), Some(b"System"), b"EventID") => {
                                target = Target::EventId;
                            }
                            (Some(b"System"), Some(b"System"), b"EventRecordID") => {
                                target = Target::RecordId;
                            }
                            (Some(b"System"), Some(b"System"), b"Channel") => {
                                target = Target::Channel;
                            }
                            (Some(b"System"), Some(b"System"), b"Computer") => {
                                target = Target::Computer;
                            }
                            (Some(b"EventData"), Some(b"EventData"), b"Data") => {
                                let n = attr(e, b"Name").unwrap_or_else(|| "Data".into());
                                target = Target::Data(n);
                            }
                            (Some(b"UserData"), Some(_), _) => {
                                target =
                                    Target::UserLeaf(String::from_utf8_lossy(&name).into_owned());
                            }
                            _ => target = Target::None,
                        }
                        if empty {
                            finish_target(b, &mut target, &mut text);
                        } else if path.len() < 64 {
                            path.push(name);
                        } else {
                            path.push(Vec::new());
                        }
                    }
                }
                if !empty {
                    depth += 1;
                }
            }
            X::End(_) => {
                depth = depth.saturating_sub(1);
                if let Some(b) = cur.as_mut() {
                    if depth == b.depth {
                        target = Target::None;
                        text.clear();
                        if let Some(b) = cur.take() {
                            count += 1;
                            emit(b, record, sink);
                        }
                    } else {
                        finish_target(b, &mut target, &mut text);
                        path.pop();
                    }
                }
            }
            X::Text(t) => {
                // Text is kept as logged, white space included.
                if target != Target::None {
                    match t.decode() {
                        Ok(s) => push_text(&mut text, &s),
                        Err(_) => push_text(&mut text, &String::from_utf8_lossy(&t)),
                    }
                }
            }
            X::CData(t) => {
                if target != Target::None {
                    push_text(&mut text, &String::from_utf8_lossy(&t));
                }
            }
            X::GeneralRef(r) => {
                if target != Target::None {
                    let name = String::from_utf8_lossy(&r);
                    push_text(&mut text, &resolve_ref(&name));
                }
            }
            X::Eof => {
                if let Some(b) = cur {
                    sink.problem(
                        Place {
                            record: b.record_id.and_then(|r| r.trim().parse().ok()).or(record),
                            offset: record.is_none().then(|| reader.buffer_position()),
                            ..Place::default()
                        },
                        "truncated: the input ends inside an <Event> element",
                    );
                }
                return Ok(count);
            }
            X::Decl(_) | X::PI(_) | X::DocType(_) | X::Comment(_) => {}
        }
        buf.clear();
    }
}

/// Stores the collected text where it belongs.
fn finish_target(b: &mut Building, target: &mut Target, text: &mut String) {
    let t = std::mem::take(text);
    match std::mem::replace(target, Target::None) {
        Target::None => {}
        Target::EventId => b.event_id = Some(t),
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
            sink.event(e);
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
