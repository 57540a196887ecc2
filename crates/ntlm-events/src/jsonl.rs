//! JSON Lines as `evtx_dump -o jsonl` writes them: one object per line,
//! `{"Event": {"System": {...}, "EventData": {...}}}`, attributes under
//! `#attributes` and element text under `#text` where an element has both.
//! Lines are read with a length bound ([`MAX_LINE`]).

use std::io::BufRead;

use serde_json::{Map, Value};

use crate::{Error, Event, MAX_LINE, Place, Sink};

pub(crate) fn read(
    mut r: impl BufRead,
    sink: &mut Sink<'_>,
    wanted: Option<&dyn Fn(u32) -> bool>,
) -> Result<(), Error> {
    let mut line = Vec::with_capacity(4096);
    let mut number = 0u64;
    let mut events = 0u64;
    loop {
        line.clear();
        number += 1;
        let n = std::io::Read::take(&mut r, MAX_LINE as u64 + 1).read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        let place = Place {
            line: Some(number),
            ..Place::default()
        };
        if line.len() > MAX_LINE && line.last() != Some(&b'\n') {
            sink.problem(place, format!("line longer than {MAX_LINE} bytes: skipped"));
            // Skip to the end of the line.
            loop {
                let buf = r.fill_buf()?;
                if buf.is_empty() {
                    break;
                }
                match buf.iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        r.consume(i + 1);
                        break;
                    }
                    None => {
                        let len = buf.len();
                        r.consume(len);
                    }
                }
            }
            continue;
        }
        let text = line.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(&line);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Value>(text) {
            Ok(v) => match event(&v) {
                Ok(e) => {
                    events += 1;
                    if wanted.is_none_or(|w| w(e.event_id)) {
                        sink.event(e);
                    } else {
                        sink.other(e.event_id, e.record_id);
                    }
                }
                Err(m) => sink.problem(
                    Place {
                        record: record_id(&v),
                        ..place
                    },
                    m,
                ),
            },
            Err(e) => sink.problem(place, format!("not JSON (column {}): {e}", e.column())),
        }
    }
    if events == 0 {
        sink.problem(
            Place::default(),
            "no event record (`{\"Event\": ...}`) in the file",
        );
    }
    Ok(())
}

/// An element's text: a scalar, or the `#text` of an object.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        Value::Array(a) => Some(a.iter().filter_map(text).collect::<Vec<_>>().join(",")),
        Value::Object(o) => o.get("#text").map(|t| text(t).unwrap_or_default()),
    }
}

fn attribute<'a>(v: Option<&'a Value>, name: &str) -> Option<&'a str> {
    v?.get("#attributes")?.get(name)?.as_str()
}

fn record_id(v: &Value) -> Option<u64> {
    let s = v.get("Event")?.get("System")?.get("EventRecordID")?;
    text(s)?.trim().parse().ok()
}

/// The leaves of `UserData`, in order, by element name.
fn leaves(name: &str, v: &Value, e: &mut Event, depth: usize) {
    match v {
        Value::Object(o) => {
            if depth > 32 {
                return;
            }
            if o.contains_key("#text") {
                e.push(name.to_owned(), text(v).unwrap_or_default());
                return;
            }
            let mut any = false;
            for (k, c) in o {
                if k == "#attributes" {
                    continue;
                }
                any = true;
                leaves(k, c, e, depth + 1);
            }
            if !any && depth >= 1 {
                e.push(name.to_owned(), String::new());
            }
        }
        other => e.push(name.to_owned(), text(other).unwrap_or_default()),
    }
}

fn event_data(o: &Map<String, Value>, e: &mut Event) {
    for (k, v) in o {
        if k == "#attributes" {
            continue;
        }
        e.push(k.clone(), text(v).unwrap_or_default());
    }
}

fn event(v: &Value) -> Result<Event, String> {
    let ev = v
        .get("Event")
        .ok_or("not an event record: no \"Event\" key")?;
    let sys = ev
        .get("System")
        .ok_or("not an event record: no Event.System")?;
    let id = sys
        .get("EventID")
        .and_then(text)
        .ok_or("Event.System.EventID is missing")?;
    let event_id = id
        .trim()
        .parse::<u32>()
        .map_err(|_| format!("Event.System.EventID is not a number: {id:?}"))?;
    let field = |k: &str| sys.get(k).and_then(text).unwrap_or_default();
    let mut e = Event {
        record_id: record_id(v),
        event_id,
        provider: attribute(sys.get("Provider"), "Name")
            .unwrap_or_default()
            .to_owned(),
        channel: field("Channel"),
        time: attribute(sys.get("TimeCreated"), "SystemTime")
            .unwrap_or_default()
            .to_owned(),
        computer: field("Computer"),
        data: Vec::new(),
    };
    match ev.get("EventData") {
        Some(Value::Object(o)) => event_data(o, &mut e),
        Some(Value::Null) | None => {}
        Some(other) => e.push("Data".into(), text(other).unwrap_or_default()),
    }
    if let Some(u) = ev.get("UserData") {
        leaves("UserData", u, &mut e, 0);
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use crate::{Item, read};

    #[test]
    fn reads_evtx_dump_lines_and_reports_bad_ones() {
        let input = concat!(
            r##"{"Event":{"#attributes":{"xmlns":"http://schemas.microsoft.com/win/2004/08/events/event"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Security-Auditing"}},"EventID":4624,"TimeCreated":{"#attributes":{"SystemTime":"2024-05-01T10:00:00.000000Z"}},"EventRecordID":5,"Channel":"Security","Computer":"srv"},"EventData":{"KeyLength":128,"IpAddress":"-","LmPackageName":"NTLM V2","WorkstationName":null}}}"##,
            "\n\n",
            "{\"Event\": 1}\n",
            "{not json\n",
            r##"{"Event":{"System":{"EventID":{"#attributes":{"Qualifiers":0},"#text":6038},"EventRecordID":6},"UserData":{"X":{"#attributes":{"xmlns":"y"},"A":"1","B":{}}}}}"##,
        );
        let mut v = Vec::new();
        let s = read(input.as_bytes(), &mut |i| v.push(i)).unwrap();
        assert_eq!((s.events, s.problems), (2, 2));
        let Item::Event(a) = &v[0] else { panic!() };
        assert_eq!(a.field("KeyLength"), Some("128"));
        assert_eq!(a.field("WorkstationName"), Some(""));
        assert_eq!(a.time, "2024-05-01T10:00:00.000000Z");
        let Item::Problem(p) = &v[1] else { panic!() };
        assert_eq!(p.place.line, Some(3));
        let Item::Problem(p) = &v[2] else { panic!() };
        assert!(p.message.starts_with("not JSON"), "{p}");
        let Item::Event(b) = &v[3] else { panic!() };
        assert_eq!(b.event_id, 6038);
        assert_eq!(
            b.data,
            vec![("A".into(), "1".into()), ("B".into(), String::new())]
        );
    }
}
