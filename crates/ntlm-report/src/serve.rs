//! The lines of the `serve` log: one per handshake record or note, human
//! or JSON, each safe for a terminal (no line break, control or invisible
//! formatting character).

use std::fmt::Write as _;

use ntlm_sim::outcome::{CertaintyJson, OutcomeJson};
use ntlm_sim::serve::{LogEntry, Record};
use serde::Serialize;

use crate::sink;

/// A note line in `--json` output: `{"warning": KIND, "count": N,
/// "client": ADDR (suppressed only), "message": TEXT}`. Handshake records
/// never have a `warning` key.
#[derive(Serialize)]
struct Note<'a> {
    warning: &'static str,
    count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    client: Option<String>,
    message: &'a str,
}

/// `value` as one JSON line safe for a terminal: serde_json escapes only
/// C0 controls, quotes and backslashes (RFC 8259 7), so every other
/// [unsafe character](sink::is_unsafe_char) (C1 controls such as U+009B
/// CSI, DEL, bidi overrides, U+2028) is written as a `\uXXXX` escape too.
/// The decoded value is unchanged; all such characters are in the Basic
/// Multilingual Plane, so one escape each.
fn json_line<T: Serialize>(value: &T) -> Result<String, serde_json::Error> {
    let raw = serde_json::to_string(value)?;
    if !raw.chars().any(sink::is_unsafe_char) {
        return Ok(raw);
    }
    let mut out = String::with_capacity(raw.len() + 16);
    for c in raw.chars() {
        if sink::is_unsafe_char(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// The entry as one line, without the line end: the human line, or one
/// JSON object with `json`. Neither contains a line break, another
/// control character or an invisible formatting character
/// ([`sink::line_safe`]).
pub fn entry_line(entry: &LogEntry, json: bool) -> String {
    let (warning, count, client, message) = match entry {
        LogEntry::Handshake(r) => {
            return if json {
                json_line(r).unwrap_or_else(|e| {
                    format!(
                        "{{\"warning\":\"unencodable\",\"message\":\"{}\"}}",
                        sink::terminal(&e.to_string()).replace('"', "'")
                    )
                })
            } else {
                record_line(r)
            };
        }
        LogEntry::Suppressed { client, count } => (
            "suppressed",
            *count,
            Some(client.to_string()),
            format!("{count} similar failures from {client} suppressed (rate limit per address)"),
        ),
        LogEntry::Dropped { count } => (
            "dropped",
            *count,
            None,
            format!("{count} records dropped: the log output did not keep up"),
        ),
    };
    if json {
        let note = Note {
            warning,
            count,
            client,
            message: &message,
        };
        json_line(&note)
            .unwrap_or_else(|_| format!("{{\"warning\":\"{warning}\",\"count\":{count}}}"))
    } else {
        format!("warning: {message}")
    }
}

/// ` [breaks only under rule-128=strict; works under every other reading]`
/// after a verdict that some documented reading reverses.
fn uncertain(s: &mut String, c: Option<&CertaintyJson>) {
    if let Some(c) = c.filter(|c| !c.holds_under_every_reading) {
        let _ = write!(s, " [{}]", c.summary);
    }
}

fn verdict(o: &OutcomeJson) -> String {
    match o {
        OutcomeJson::Success(_) => String::from("success"),
        OutcomeJson::Failure(f) => {
            let mut s = format!("FAIL {} at {} {}", f.side, f.stage, f.status);
            if !f.missing_names.is_empty() {
                let _ = write!(s, " missing {}", f.missing_names.join("|"));
            }
            let _ = write!(s, " [{}: {}]", f.rule_id, f.rule);
            s
        }
    }
}

/// `value` of `field` for a terminal: escaped ([`sink::terminal`]),
/// with `…(+N bytes)` when the record holds it cut.
fn human(r: &Record, field: &str, value: &str) -> String {
    let mut s = sink::terminal(value).into_owned();
    if let Some(t) = r.truncated.iter().find(|t| t.field == field) {
        let _ = write!(
            s,
            "\u{2026}(+{} bytes)",
            t.bytes.saturating_sub(value.len())
        );
    }
    s
}

/// A name for the human line: escaped, or its hex when undecodable.
fn name(
    r: &Record,
    field: &'static str,
    raw_field: &'static str,
    value: &str,
    raw: Option<&String>,
) -> String {
    match raw {
        Some(hex) => format!("<undecodable {}>", human(r, raw_field, hex)),
        None => human(r, field, value),
    }
}

/// The human line of a handshake record: every string from the wire
/// escaped, so a record is always exactly one line.
pub fn record_line(r: &Record) -> String {
    let who = if r.user.is_empty() && r.user_raw.is_none() {
        String::from("-")
    } else {
        format!(
            "{}\\{}",
            name(r, "domain", "domain_raw", &r.domain, r.domain_raw.as_ref()),
            name(r, "user", "user_raw", &r.user, r.user_raw.as_ref())
        )
    };
    let mut s = format!(
        "{} {} {} offered {}",
        sink::terminal(&r.client),
        who,
        r.response_kind.unwrap_or("-"),
        r.offered_flags
    );
    if let Some(n) = &r.negotiated_flags {
        let _ = write!(s, " negotiated {n}");
    }
    let _ = write!(s, " -> {}", verdict(&r.outcome));
    uncertain(&mut s, r.certainty.as_ref());
    for w in &r.what_if {
        let _ = write!(s, " | what-if {}: {}", w.server_min, verdict(&w.outcome));
        uncertain(&mut s, w.certainty.as_ref());
    }
    if !r.assumed.is_empty() {
        let names: Vec<String> = r
            .assumed
            .iter()
            .map(|a| format!("{} as {}", sink::terminal(&a.profile), a.role))
            .collect();
        let _ = write!(s, " [assumed: {}]", names.join(", "));
    }
    s
}

#[cfg(test)]
mod tests {

    use std::sync::Arc;

    use ntlm_policy::{MinSessionSecurity, Semantics};
    use ntlm_session::{Client, MemoryStore};
    use ntlm_sim::serve::{Acceptor, Connection, Limits, Reply, Truncated};
    use ntlm_wire::AuthenticateMessage;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use ntlm_sim::fixtures::serve::{
        NOW, acceptor, addr, client, failure, handshake, header, ip, named,
    };

    use super::*;

    #[test]
    fn hostile_names_stay_on_one_line_and_long_ones_are_cut() {
        let limits = Limits {
            max_field_chars: 100,
            ..Limits::default()
        };
        let a = acceptor(0, &[], limits);
        let mut rng = ChaCha20Rng::seed_from_u64(10);
        let forged = "x\n10.0.0.1:4444 CORP\\administrator NTLMv2 -> success\u{1b}[2J\u{1b}]0;t\u{7}\u{9b}1m\u{202e}";
        let user = format!("{forged}{}", "W".repeat(1000));
        let kept: String = user.chars().take(100).collect();
        let mut conn = Connection::new(Arc::clone(&a), addr("10.0.0.5:1"));
        let (_, record, _) = handshake(&mut conn, named(&user, "x", "WS"), &mut rng, 1);
        let r = record.unwrap();
        assert_eq!(r.user, kept);
        assert_eq!(
            r.truncated,
            [Truncated {
                field: "user",
                bytes: user.len()
            }]
        );
        let line = entry_line(&LogEntry::Handshake(Box::new(r.clone())), false);
        assert!(sink::line_safe(&line), "{line:?}");
        assert!(line.contains("x\\n10.0.0.1:4444"), "{line}");
        assert!(line.contains("\\u{1b}[2J"), "{line}");
        let cut = format!("\u{2026}(+{} bytes)", user.len() - kept.len());
        assert!(line.contains(&cut), "{line}");
        let json = entry_line(&LogEntry::Handshake(Box::new(r)), true);
        // serde_json leaves C1 controls and U+202E as they are: escaped here.
        assert!(sink::line_safe(&json), "{json:?}");
        assert!(json.contains("\\u009b1m\\u202e"), "{json}");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["user"], kept.as_str());
        assert_eq!(v["truncated"][0]["field"], "user");
        assert_eq!(v["truncated"][0]["bytes"], user.len());
    }

    #[test]
    fn undecodable_names_are_logged_as_hex() {
        let a = acceptor(0, &[], Limits::default());
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let mut conn = Connection::new(Arc::clone(&a), addr("10.0.0.7:1"));
        let (neg, c) = Client::start(client("Passw0rd!", true)).unwrap();
        let (reply, _) = conn.on_request(Some(&header(&neg)), &mut rng, NOW, 0);
        let Reply::Unauthorized {
            challenge: Some((_, chal)),
            ..
        } = reply
        else {
            panic!("no CHALLENGE")
        };
        let (auth, _) = c.on_challenge(&chal, &mut rng, NOW).unwrap();
        let mut m = AuthenticateMessage::parse(&auth).unwrap();
        // An odd number of bytes is no UTF-16LE.
        m.user = Some(b"A\0B".as_slice().into());
        let (_, record) = conn.on_request(Some(&header(&m.to_vec().unwrap())), &mut rng, NOW, 1);
        let r = record.unwrap();
        assert_eq!(
            (r.user.as_str(), r.user_raw.as_deref()),
            ("", Some("410042"))
        );
        assert_eq!(
            (r.domain.as_str(), r.domain_raw.as_deref()),
            ("TESTDOM", None)
        );
        assert!(
            record_line(&r).contains("TESTDOM\\<undecodable 410042>"),
            "{}",
            record_line(&r)
        );
        let v: serde_json::Value =
            serde_json::from_str(&entry_line(&LogEntry::Handshake(Box::new(r)), true)).unwrap();
        assert_eq!(v["user_raw"], "410042");
        assert!(v.get("domain_raw").is_none());
    }

    #[test]
    fn notes_are_single_lines_with_a_warning_key() {
        let s = LogEntry::Suppressed {
            client: ip("10.0.0.6"),
            count: 7,
        };
        assert_eq!(
            entry_line(&s, false),
            "warning: 7 similar failures from 10.0.0.6 suppressed (rate limit per address)"
        );
        let v: serde_json::Value = serde_json::from_str(&entry_line(&s, true)).unwrap();
        assert_eq!(
            (
                v["warning"].as_str(),
                v["count"].as_u64(),
                v["client"].as_str()
            ),
            (Some("suppressed"), Some(7), Some("10.0.0.6"))
        );
        let v: serde_json::Value =
            serde_json::from_str(&entry_line(&LogEntry::Dropped { count: 3 }, true)).unwrap();
        assert_eq!(
            (v["warning"].as_str(), v["count"].as_u64()),
            (Some("dropped"), Some(3))
        );
        assert!(v.get("client").is_none());
    }

    #[test]
    fn what_if_failures_and_uncertain_verdicts_are_on_the_line() {
        let a = acceptor(0, &[0x2000_0000], Limits::default());
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let mut conn = Connection::new(Arc::clone(&a), addr("10.0.0.3:1000"));
        let (_, record, _) = handshake(&mut conn, client("Passw0rd!", false), &mut rng, 1);
        let r = record.unwrap();
        assert!(
            record_line(&r).contains("what-if 0x20000000: FAIL server at negotiate"),
            "{}",
            record_line(&r)
        );
        // The human line notes only the verdict that a reading reverses.
        let mut plain = client("Passw0rd!", false);
        plain.config.integrity = false;
        plain.config.confidentiality = false;
        let mut conn = Connection::new(Arc::clone(&a), addr("10.0.0.4:1000"));
        let (_, record, _) = handshake(&mut conn, plain, &mut rng, 1);
        let r = record.unwrap();
        assert!(
            record_line(&r).ends_with(
                "-> success | what-if 0x20000000: success \
                 [works only under rule-128=kb239869; breaks under every other reading]"
            ),
            "{}",
            record_line(&r)
        );
    }

    /// Records carry what is assumed of the server's profile as a server,
    /// named on the human line, and each missing bit's own rule.
    #[test]
    fn records_carry_the_assumed_facts_and_a_rule_per_missing_bit() {
        let catalog = ntlm_sim::profiles::Catalog::builtin().unwrap();
        let xp = catalog.get("windows-xp").unwrap();
        let mut store = MemoryStore::new();
        store.add_password("TESTDOM", "alice", "Passw0rd!");
        let mut s = xp.server_settings(Arc::new(store)).unwrap();
        s.min = MinSessionSecurity::from_registry(0);
        // The strict reading: 0x20000000 requires 128 without SEAL too.
        s.semantics = Semantics::MS_NLMP;
        let a = Arc::new(
            Acceptor::new(
                s,
                vec![MinSessionSecurity::from_registry(0x2000_0010)],
                Limits::default(),
            )
            .with_assumed(ntlm_sim::profiles::assumed_facts(None, Some(xp))),
        );
        assert_eq!(a.assumed().len(), 1);
        let mut conn = Connection::new(Arc::clone(&a), addr("10.0.0.9:1000"));
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let mut plain = client("Passw0rd!", false);
        plain.config.integrity = false;
        plain.config.confidentiality = false;
        let (_, record, _) = handshake(&mut conn, plain, &mut rng, 1);
        let r = record.unwrap();
        assert!(r.succeeded());
        assert_eq!(r.assumed, a.assumed());
        assert_eq!(
            (r.assumed[0].profile.as_str(), r.assumed[0].role),
            ("windows-xp", "server")
        );
        assert!(
            record_line(&r).ends_with(" [assumed: windows-xp as server]"),
            "{}",
            record_line(&r)
        );
        let json: serde_json::Value = serde_json::from_str(&json_line(&r).unwrap()).unwrap();
        assert_eq!(json["assumed"][0]["role"], "server");
        // The what-if: 128 and SIGN missing, each with its own rule.
        let f = failure(&r.what_if[0].outcome);
        let rules: Vec<(&str, &str)> = f
            .missing_rules
            .iter()
            .map(|m| (m.bit.as_str(), m.rule_id))
            .collect();
        assert_eq!(
            rules,
            [
                ("0x00000010", "min-flags-server"),
                ("0x20000000", "min-128-server")
            ]
        );
    }
}
