//! Fuzz oracles: one function per fuzz target, each taking arbitrary bytes.
//!
//! An oracle returns normally for any input the code under test handles
//! correctly (including a clean decode error) and panics when an invariant is
//! broken. The cargo-fuzz targets under `fuzz/` are one-line calls into these
//! functions, and `tests/replay.rs` replays the committed corpus and every
//! saved crash through them in plain `cargo test`.
#![forbid(unsafe_code)]
#![allow(
    clippy::panic,
    reason = "an oracle reports a broken invariant by panicking: that is how the fuzzer sees it"
)]

use std::sync::{Arc, OnceLock};

use ntlm_session::{
    Client, ClientSettings, Credentials, MemoryStore, ReflectionCache, Server, ServerSettings,
};
use ntlm_wire::{AuthenticateMessage, AvPairs, ChallengeMessage, Message, NegotiateMessage};
use ntlmsim::helper::{ClientHelper, ServerHelper};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

/// An oracle: returns for correct behaviour, panics on a broken invariant.
pub type Oracle = fn(&[u8]);

/// All oracles by fuzz target name.
pub const ORACLES: &[(&str, Oracle)] = &[
    ("negotiate", negotiate),
    ("challenge", challenge),
    ("authenticate", authenticate),
    ("av_pairs", av_pairs),
    ("round_trip", round_trip),
    ("session_server", session_server),
    ("session_client", session_client),
    ("helper", helper),
    ("capture", capture),
    ("events", events),
];

/// 2026-01-01T00:00:00Z as a FILETIME: the fixed clock of the session oracles.
const NOW: u64 = ntlm_session::filetime_from_unix(1_767_225_600);

/// The ServerChallenge of the session oracles.
pub const SERVER_CHALLENGE: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];

/// The client of the session oracles.
pub fn client_settings() -> ClientSettings {
    let mut c = ClientSettings::new(Credentials::password("alice", "TESTDOM", "Passw0rd!"));
    c.config.integrity = true;
    c.config.confidentiality = true;
    c
}

/// The server of the session oracles: permissive, so that every check after
/// the response is reachable.
pub fn server_settings() -> &'static ServerSettings {
    static SETTINGS: OnceLock<ServerSettings> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        let mut store = MemoryStore::new();
        store.add_password("TESTDOM", "alice", "Passw0rd!");
        let mut s = ServerSettings::new(Arc::new(store));
        s.accept_anonymous = true;
        s.accept_guest = true;
        s.reflection = Some(Arc::new(ReflectionCache::default()));
        s.max_timestamp_age = Some(36 * 3600 * 10_000_000);
        s
    })
}

/// The NEGOTIATE of the session oracles' client (deterministic).
pub fn session_negotiate() -> Vec<u8> {
    match Client::start(client_settings()) {
        Ok((negotiate, _)) => negotiate,
        Err(f) => panic!("the client cannot start: {f}"),
    }
}

/// The server session fed an arbitrary AUTHENTICATE after a real NEGOTIATE
/// and CHALLENGE: it must answer with an established session or a failure.
pub fn session_server(data: &[u8]) {
    let server = Server::start(server_settings().clone());
    let (_, server) = match server.on_negotiate_with(&session_negotiate(), SERVER_CHALLENGE, NOW) {
        Ok(x) => x,
        Err(f) => panic!("the server refused the oracle's own NEGOTIATE: {f}"),
    };
    if let Ok(established) = server.on_authenticate(data) {
        let _ = established.0.report.secure();
    }
}

/// The client session fed an arbitrary CHALLENGE after its NEGOTIATE: it
/// must answer with an AUTHENTICATE or a failure; an AUTHENTICATE it emits
/// must parse.
pub fn session_client(data: &[u8]) {
    let client = match Client::start(client_settings()) {
        Ok((_, c)) => c,
        Err(f) => panic!("the client cannot start: {f}"),
    };
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    if let Ok((authenticate, _)) = client.on_challenge(data, &mut rng, NOW) {
        if let Err(e) = AuthenticateMessage::parse(&authenticate) {
            panic!("the client emitted an AUTHENTICATE that does not parse: {e}");
        }
    }
}

/// The `ntlm_auth` helper protocols fed arbitrary lines, in both roles.
pub fn helper(data: &[u8]) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut server = ServerHelper::new(server_settings().clone());
    let mut client = ClientHelper::new(client_settings());
    for line in data.split(|&b| b == b'\n').take(64) {
        let line = String::from_utf8_lossy(line);
        let a = server.handle(&line, &mut rng, NOW);
        let b = client.handle(&line, &mut rng, NOW);
        for answer in [a, b] {
            if answer.contains('\n') {
                panic!("a helper answer spans lines: {answer:?}");
            }
        }
    }
}

/// NEGOTIATE: parse, and re-parse what a successful parse emits.
pub fn negotiate(data: &[u8]) {
    if let Ok(m) = NegotiateMessage::parse(data) {
        check_round_trip(&Message::Negotiate(m));
    }
}

/// CHALLENGE: parse (walking the target info), and re-parse what a successful
/// parse emits; the lenient parse accepts a superset of the strict one.
pub fn challenge(data: &[u8]) {
    let lenient = ChallengeMessage::parse_lenient(data);
    if let Ok(m) = &lenient {
        if let Some(ti) = &m.target_info {
            walk(ti);
        }
    }
    if let Ok(m) = ChallengeMessage::parse(data) {
        if let Some(ti) = &m.target_info {
            walk(ti);
        }
        if lenient.as_ref().ok() != Some(&m) {
            panic!("lenient parse differs from a successful strict parse");
        }
        check_round_trip(&Message::Challenge(m));
    }
}

/// AUTHENTICATE: parse, classify, decode the NTLMv2 response and its AV
/// pairs, and re-parse what a successful parse emits.
pub fn authenticate(data: &[u8]) {
    if let Ok(m) = AuthenticateMessage::parse(data) {
        let _ = m.response_kind();
        if let Some(Ok(v2)) = m.ntlmv2_response() {
            walk(&v2.client_challenge.av_pairs);
            if v2.client_challenge.to_vec() != v2.blob {
                panic!("NTLMv2 blob does not re-encode to the bytes received");
            }
        }
        check_round_trip(&Message::Authenticate(m));
    }
}

/// AV pairs: scanning never fails; every pair decodes or errors cleanly; the
/// bytes are kept exactly; a list rebuilt from the pairs scans the same.
pub fn av_pairs(data: &[u8]) {
    let l = AvPairs::new(data);
    if l.as_bytes() != data {
        panic!("AvPairs did not keep the input bytes");
    }
    walk(&l);
    let pairs: Vec<_> = l.iter().map(|p| (p.id, p.value)).collect();
    if let Ok(rebuilt) = AvPairs::build(pairs.iter().copied()) {
        let again: Vec<_> = rebuilt.iter().map(|p| (p.id, p.value)).collect();
        if again != pairs {
            panic!("rebuilt AV pair list differs: {pairs:?} vs {again:?}");
        }
        let (d, r) = (l.defects(), rebuilt.defects());
        if r.duplicate_ids != d.duplicate_ids || r.missing_eol || r.truncated_at.is_some() {
            panic!("rebuilding changed the defects: {d:?} -> {r:?}");
        }
    }
}

/// Any message: parse → emit → parse must give the same model.
pub fn round_trip(data: &[u8]) {
    if let Ok(m) = Message::parse(data) {
        check_round_trip(&m);
    }
}

fn walk(l: &AvPairs<'_>) {
    let _ = l.defects();
    let _ = l.trailing();
    for p in l.iter_with_eol() {
        let _ = p.typed();
    }
    let _ = l.flags_union();
    let _ = l.timestamp();
}

fn check_round_trip(m: &Message<'_>) {
    let bytes = match m.to_vec() {
        Ok(b) => b,
        Err(e) => panic!("a parsed message failed to emit: {e}: {m:?}"),
    };
    if bytes.len() != m.buffer_len() {
        panic!(
            "emit wrote {} bytes, buffer_len says {}",
            bytes.len(),
            m.buffer_len()
        );
    }
    match Message::parse(&bytes) {
        Ok(again) if again == *m => {}
        Ok(again) => panic!("round trip changed the message:\n{m:?}\n{again:?}"),
        Err(e) => panic!("emitted bytes do not parse: {e}: {m:?}"),
    }
}

/// The auditor of the capture oracle: a strict policy, so that every
/// check runs.
fn auditor() -> &'static ntlmsim::audit::Auditor {
    static AUDITOR: OnceLock<ntlmsim::audit::Auditor> = OnceLock::new();
    AUDITOR.get_or_init(|| {
        let catalog = match ntlmsim::profiles::Catalog::builtin() {
            Ok(c) => c,
            Err(e) => panic!("the built-in catalog does not load: {e}"),
        };
        let policy = ntlmsim::audit::Policy {
            client_min: ntlm_policy::MinSessionSecurity::from_registry(0x2008_0030),
            server_min: ntlm_policy::MinSessionSecurity::from_registry(0x2008_0000),
            client_lm_level: Some(ntlm_policy::LmCompatibilityLevel::L5),
            server_lm_level: Some(ntlm_policy::LmCompatibilityLevel::L5),
            ..ntlmsim::audit::Policy::default()
        };
        ntlmsim::audit::Auditor::new(policy, &catalog)
    })
}

/// Arbitrary bytes as a pcap/pcapng stream, through the whole extraction
/// (reader, link/IP/TCP decoding, reassembly, carriers, pairing) and the
/// audit (decoding, profile matching, verdicts, every rendering).
pub fn capture(data: &[u8]) {
    use ntlm_capture::{Event, Extractor};
    use ntlmsim::audit::{ProblemRecord, Summary, csv, html, render_human};
    let auditor = auditor();
    let mut records = Vec::new();
    let mut problems = Vec::new();
    let mut last_progress = 0;
    let result = Extractor::default().run(0, data, &mut |e| match e {
        Event::Exchange(x) => {
            if x.messages().next().is_none() {
                panic!("an exchange without messages: {x:?}");
            }
            for m in x.messages() {
                match ntlm_wire::MessageType::of(&m.bytes) {
                    Ok(kind) if kind == m.kind => {}
                    other => panic!("a {:?} message whose header says {other:?}", m.kind),
                }
            }
            let n = records.len() + 1;
            records.push(auditor.judge("fuzz", n, &x, &mut problems));
        }
        Event::Problem(p) => {
            if p.message.is_empty() {
                panic!("a problem without a message: {p:?}");
            }
            problems.push(ProblemRecord::new("fuzz", &p));
        }
        Event::Progress { bytes } => {
            if bytes < last_progress {
                panic!("progress went back from {last_progress} to {bytes}");
            }
            last_progress = bytes;
        }
    });
    match result {
        Ok(s) => {
            if s.bytes > data.len() as u64 {
                panic!("consumed {} bytes of {}", s.bytes, data.len());
            }
        }
        Err(e) => {
            if !records.is_empty() {
                panic!("an error ({e}) after exchanges were reported");
            }
            return;
        }
    }
    let summary = Summary::new(auditor.policy(), Vec::new(), &records, problems.len());
    if summary.breaking > records.len() {
        panic!("more breaking exchanges than exchanges");
    }
    let _ = render_human(&summary, &records, &problems);
    let _ = csv(&records);
    let page = html(&summary, &records, &problems);
    if page.contains("<script") {
        panic!("a script element in the report");
    }
    if let Err(e) = serde_json::to_string(&records) {
        panic!("records do not serialize: {e}");
    }
}

/// Arbitrary bytes as an event log: the first byte chooses the form (EVTX,
/// UTF-8 XML, UTF-16 XML, JSON Lines, or recognised by content), the rest
/// goes through the reader (`ntlm-events`), the judging under a strict
/// policy and every rendering (`ntlmsim::events`).
pub fn events(data: &[u8]) {
    use ntlm_events::{Format, Item};
    use ntlmsim::events::{EventAuditor, EventSummary, csv, html_into, render_human};
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let format = match choice % 5 {
        0 => Some(Format::Evtx),
        1 => Some(Format::Xml),
        2 => Some(Format::XmlUtf16Le),
        3 => Some(Format::JsonLines),
        _ => None,
    };
    let auditor = EventAuditor::new(ntlmsim::audit::Policy {
        client_min: ntlm_policy::MinSessionSecurity::from_registry(0x2008_0030),
        server_min: ntlm_policy::MinSessionSecurity::from_registry(0x2008_0030),
        server_lm_level: Some(ntlm_policy::LmCompatibilityLevel::L5),
        ..ntlmsim::audit::Policy::default()
    });
    let mut summary = EventSummary::default();
    let mut records = Vec::new();
    let mut seen = 0u64;
    let mut problems = 0u64;
    let mut sink = |item: Item| match item {
        Item::Event(e) => {
            seen += 1;
            summary.count_read(e.event_id);
            if e.data.len() > ntlm_events::MAX_FIELDS
                || e.data.iter().any(|(_, v)| v.len() > ntlm_events::MAX_VALUE)
            {
                panic!("an event beyond the field bounds: {} fields", e.data.len());
            }
            if let Some(mut r) = auditor.judge("fuzz", &e) {
                r.index = summary.events + 1;
                if r.verdict == "unknown" && r.reason.is_empty() {
                    panic!("an unknown verdict without a reason: {r:?}");
                }
                if (r.verdict == "breaks") != r.breaks() {
                    panic!("verdict {} and failure {:?} disagree", r.verdict, r.failure);
                }
                summary.add(&r);
                records.push(r);
            }
        }
        Item::Other { event_id, .. } => {
            seen += 1;
            summary.count_read(event_id);
        }
        Item::Problem(p) => {
            problems += 1;
            if p.message.is_empty() {
                panic!("a problem without a message: {p:?}");
            }
        }
    };
    let result = match format {
        Some(f) if choice & 0x80 != 0 => {
            ntlm_events::read_filtered(f, &[], rest, &ntlmsim::events::wanted, &mut sink)
        }
        Some(f) => ntlm_events::read_format(f, &[], rest, &mut sink),
        None => ntlm_events::read(rest, &mut sink),
    };
    if let Ok(stats) = result {
        if stats.events != seen || stats.problems != problems {
            panic!("stats {stats:?} but {seen} events and {problems} problems seen");
        }
        if stats.bytes > rest.len() as u64 {
            panic!("read {} bytes of {}", stats.bytes, rest.len());
        }
    }
    let _ = summary.finish();
    let _ = render_human(&summary, &records);
    let _ = csv(&records);
    let page = html_into("<main></main>".to_owned(), &summary, &records);
    for r in &records {
        if serde_json::to_string(r).is_err() {
            panic!("a record that does not serialize: {r:?}");
        }
    }
    if records
        .iter()
        .any(|r| page.contains(&format!("<script>{}", r.computer)))
    {
        panic!("unescaped event text in the HTML");
    }
}
