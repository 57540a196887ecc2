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
use ntlm_wire::{
    AuthenticateMessage, AvPairs, ChallengeMessage, FileTime, Message, NegotiateMessage,
};
use ntlmsim::helper::{ClientHelper, ServerHelper};
use ntlmsim::serve::{Acceptor, Connection, Limits, LogEntry, Record, Reply};
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
    ("helper_names", helper_names),
    ("audit_sinks", audit_sinks),
    ("serve_log", serve_log),
    ("events", events),
    ("gss", gss),
];

/// 2026-01-01T00:00:00Z as a FILETIME: the fixed clock of the session oracles.
const NOW: FileTime = FileTime::from_unix(1_767_225_600, 0);

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
            if !ntlmsim::sink::line_safe(&answer) {
                panic!("a helper answer is not one clean line: {answer:?}");
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

/// Splits fuzz input into `n` names at `0xff` bytes (never part of UTF-8),
/// each decoded leniently and cut to `max` bytes on a character boundary.
fn names(data: &[u8], n: usize, max: usize) -> Vec<String> {
    let mut parts: Vec<String> = data
        .split(|&b| b == 0xff)
        .take(n)
        .map(|p| {
            let s = String::from_utf8_lossy(p);
            let mut end = s.len().min(max);
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s.get(..end).unwrap_or_default().to_owned()
        })
        .collect();
    parts.resize(n, String::new());
    parts
}

/// Every answer a helper writes is one line with no unsafe character.
fn one_clean_line(what: &str, answer: &str) {
    if !ntlmsim::sink::line_safe(answer) {
        panic!("{what}: the answer is not one clean line: {answer:?}");
    }
    if ntlmsim::helper::one_line(answer.to_owned()) != answer {
        panic!("{what}: the last guard would rewrite {answer:?}");
    }
}

/// Arbitrary user, domain and workstation names (split at `0xff`) through a
/// real client-to-server helper exchange, then a second client on the same
/// server helper: every answer is one clean line; a name that cannot be
/// written on one line is refused with `NA STATUS_LOGON_FAILURE`, never
/// written; the next client gets its own answers.
pub fn helper_names(data: &[u8]) {
    use ntlm_session::Credentials;
    use ntlmsim::helper::{ClientHelper, ServerHelper};

    let Ok([user, domain, workstation]) = <[String; 3]>::try_from(names(data, 3, 2048)) else {
        panic!("names() returns three names");
    };
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let mut server = ServerHelper::new(ServerSettings::new(Arc::new(MemoryStore::any_user(
        "Passw0rd!",
    ))));
    let mut settings = ClientSettings::new(Credentials::password(
        user.as_str(),
        domain.as_str(),
        "Passw0rd!",
    ));
    settings.workstation = workstation;
    let mut client = ClientHelper::new(settings);
    let arg = |answer: &str, prefix: &str| -> Option<String> {
        answer
            .strip_prefix(prefix)
            .and_then(|a| a.strip_prefix(' '))
            .map(str::to_owned)
    };
    let negotiate = client.handle("YR", &mut rng, NOW);
    one_clean_line("client YR", &negotiate);
    let Some(negotiate) = arg(&negotiate, "YR") else {
        panic!("the client sent no NEGOTIATE: {negotiate:?}");
    };
    let challenge = server.handle(&format!("YR {negotiate}"), &mut rng, NOW);
    one_clean_line("server YR", &challenge);
    let Some(challenge) = arg(&challenge, "TT") else {
        panic!("the server sent no CHALLENGE: {challenge:?}");
    };
    let authenticate = client.handle(&format!("TT {challenge}"), &mut rng, NOW);
    one_clean_line("client TT", &authenticate);
    if let Some(authenticate) = arg(&authenticate, "AF") {
        let answer = server.handle(&format!("KK {authenticate}"), &mut rng, NOW);
        one_clean_line("server KK", &answer);
        let writable = ntlmsim::sink::line_safe(&user) && ntlmsim::sink::line_safe(&domain);
        if !writable && answer != "NA STATUS_LOGON_FAILURE" {
            panic!("an unwritable name was answered {answer:?}");
        }
        if !answer.starts_with("AF ") && !answer.starts_with("NA ") {
            panic!("KK answered {answer:?}");
        }
        for query in ["GK", "GF"] {
            one_clean_line(query, &server.handle(query, &mut rng, NOW));
            one_clean_line(query, &client.handle(query, &mut rng, NOW));
        }
    } else if !authenticate.starts_with("NA ") {
        panic!("TT answered {authenticate:?}");
    }
    // The next client on the same server helper gets its own answers.
    let mut good = ClientHelper::new(client_settings());
    let negotiate = good.handle("YR", &mut rng, NOW);
    let challenge = server.handle(
        &format!("YR {}", arg(&negotiate, "YR").unwrap_or_default()),
        &mut rng,
        NOW,
    );
    let Some(challenge) = arg(&challenge, "TT") else {
        panic!("the next client's YR was answered {challenge:?}");
    };
    let authenticate = good.handle(&format!("TT {challenge}"), &mut rng, NOW);
    let answer = server.handle(
        &format!("KK {}", arg(&authenticate, "AF").unwrap_or_default()),
        &mut rng,
        NOW,
    );
    if answer != "AF TESTDOM\\alice" {
        panic!("the next client's KK was answered {answer:?}");
    }
}

/// The cells of one CSV record (RFC 4180; a record never spans lines here).
fn csv_cells(record: &str) -> Vec<String> {
    let (mut cells, mut cell, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = record.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(std::mem::take(&mut cell)),
            (c, _) => cell.push(c),
        }
    }
    if quoted {
        panic!("a CSV record with unbalanced quotes: {record:?}");
    }
    cells.push(cell);
    cells
}

/// Arbitrary user, domain, workstation and file names (split at `0xff`)
/// in a synthetic capture of two exchanges that break under the oracle's
/// policy, through the audit renderers: every line of the human report is
/// clean, the table has one row per exchange, the CSV has one record per
/// exchange with every cell present and none a formula, and the HTML page
/// has no script element.
pub fn audit_sinks(data: &[u8]) {
    use ntlm_capture::synth::{self, Conversation, Format, Messages, Spec};
    use ntlm_capture::{Event, Extractor};
    use ntlmsim::audit::{ProblemRecord, Summary, csv, html, render_human};

    let Ok([user, domain, workstation, file]) = <[String; 4]>::try_from(names(data, 4, 1024))
    else {
        panic!("names() returns four names");
    };
    let m = Messages::new(&Spec {
        negotiate_flags: synth::CURL_FLAGS,
        challenge_flags: 0x0089_8205,
        authenticate_flags: 0x0088_8205,
        mic: false,
        user,
        domain,
        workstation,
        ..Spec::default()
    });
    let mut cap = Conversation::new("192.0.2.7:40000", "192.0.2.80:80");
    cap.handshake();
    cap.http_exchange(&m, 401);
    cap.http_exchange(&m, 401);
    cap.close();
    let bytes = synth::capture(Format::PcapNg { big_endian: false }, &cap.frames);
    let auditor = auditor();
    let mut records = Vec::new();
    let mut problems = Vec::new();
    let result = Extractor::default().run(0, bytes.as_slice(), &mut |e| match e {
        Event::Exchange(x) => {
            let n = records.len() + 1;
            records.push(auditor.judge(&file, n, &x, &mut problems));
        }
        Event::Problem(p) => problems.push(ProblemRecord::new(&file, &p)),
        Event::Progress { .. } => {}
    });
    if let Err(e) = result {
        panic!("a synthetic capture does not read: {e}");
    }
    problems.push(ProblemRecord {
        file: file.clone(),
        packet: Some(1),
        layer: "capture",
        message: file.clone(),
    });
    let summary = Summary::new(auditor.policy(), Vec::new(), &records, problems.len());

    let human = render_human(&summary, &records, &problems);
    for line in human.lines() {
        if !ntlmsim::sink::line_safe(line) {
            panic!("a report line with an unsafe character: {line:?}");
        }
    }
    // The table: the rows between the header after "Exchanges:" and the
    // next empty line, one per exchange.
    let rows = human
        .lines()
        .skip_while(|l| *l != "Exchanges:")
        .skip(2)
        .take_while(|l| !l.is_empty())
        .count();
    if rows != records.len() {
        panic!(
            "{rows} table rows for {} exchanges:\n{human}",
            records.len()
        );
    }
    let problem_lines = human
        .lines()
        .skip_while(|l| *l != "Problems:")
        .skip(1)
        .count();
    if problem_lines != problems.len() {
        panic!(
            "{problem_lines} problem lines for {} problems",
            problems.len()
        );
    }

    let table = csv(&records);
    if !table.ends_with("\r\n") {
        panic!("the CSV does not end with CRLF");
    }
    let lines: Vec<&str> = table.split_terminator("\r\n").collect();
    if lines.len() != records.len() + 1 {
        panic!(
            "{} CSV records for {} exchanges",
            lines.len() - 1,
            records.len()
        );
    }
    let columns = lines.first().map_or(0, |h| csv_cells(h).len());
    for line in &lines {
        if !ntlmsim::sink::line_safe(line) {
            panic!("a CSV record with an unsafe character: {line:?}");
        }
        let cells = csv_cells(line);
        if cells.len() != columns {
            panic!("{} cells, the header has {columns}: {line:?}", cells.len());
        }
        if let Some(c) = cells.iter().find(|c| c.starts_with(['=', '+', '-', '@'])) {
            panic!("a formula cell {c:?}");
        }
    }

    let page = html(&summary, &records, &problems);
    if page.contains("<script") {
        panic!("a script element in the report");
    }
}

/// Characters kept of each name in the `serve_log` oracle's records: small,
/// so that the cut is reached often.
const SERVE_FIELD_CHARS: usize = 16;

/// The `serve_log` oracle's acceptor and the AUTHENTICATE it edits.
fn serve_fixture() -> &'static (Arc<Acceptor>, Vec<u8>) {
    static FIXTURE: OnceLock<(Arc<Acceptor>, Vec<u8>)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let limits = Limits {
            max_field_chars: SERVE_FIELD_CHARS,
            ..Limits::default()
        };
        let acceptor = Arc::new(Acceptor::new(server_settings().clone(), Vec::new(), limits));
        let server = Server::start(server_settings().clone());
        let Ok((challenge, _)) =
            server.on_negotiate_with(&session_negotiate(), SERVER_CHALLENGE, NOW)
        else {
            panic!("the server refused the oracle's own NEGOTIATE");
        };
        let Ok((_, client)) = Client::start(client_settings()) else {
            panic!("the client cannot start");
        };
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let Ok((authenticate, _)) = client.on_challenge(&challenge, &mut rng, NOW) else {
            panic!("the client refused the server's CHALLENGE");
        };
        (acceptor, authenticate)
    })
}

/// Checks one log line of `record`; `human` for the terminal form.
fn check_serve_line(record: &Record, line: &str, human: bool) {
    if line.contains(['\n', '\r']) || line.chars().any(char::is_control) {
        panic!("a serve log line holds a control character: {line:?}");
    }
    if !ntlmsim::sink::line_safe(line) {
        panic!("a serve log line holds an unsafe character: {line:?}");
    }
    // Three names of at most SERVE_FIELD_CHARS characters, each escaped to
    // at most 10 bytes per character, and a fixed rest.
    let bound = 3 * SERVE_FIELD_CHARS * 10 + 4096;
    if line.len() > bound {
        panic!("a serve log line of {} bytes (bound {bound})", line.len());
    }
    if !human {
        let v: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => panic!("a JSON serve log line does not parse: {e}: {line}"),
        };
        if v.get("user").and_then(serde_json::Value::as_str) != Some(record.user.as_str()) {
            panic!("the JSON user differs from the record's: {line}");
        }
    }
}

/// `ntlmsim serve http`'s log fed an AUTHENTICATE whose user, domain and
/// workstation are arbitrary bytes (input: a charset byte, two 16-bit
/// lengths, then the three names): every record is one line without
/// control characters, in both forms, within a bounded size; names are cut
/// to the limit and the cut is listed.
pub fn serve_log(data: &[u8]) {
    let (acceptor, template) = serve_fixture();
    let Some((&[charset, u0, u1, d0, d1], rest)) = data.split_first_chunk::<5>() else {
        return;
    };
    let (user, rest) = rest.split_at(usize::from(u16::from_le_bytes([u0, u1])).min(rest.len()));
    let (domain, workstation) =
        rest.split_at(usize::from(u16::from_le_bytes([d0, d1])).min(rest.len()));
    let Ok(mut auth) = AuthenticateMessage::parse(template) else {
        panic!("the template AUTHENTICATE does not parse");
    };
    if charset & 1 == 1 {
        auth.flags
            .remove(ntlm_wire::NegotiateFlags::NEGOTIATE_UNICODE);
        auth.flags.insert(ntlm_wire::NegotiateFlags::NEGOTIATE_OEM);
    }
    auth.user = Some(user.into());
    auth.domain = Some(domain.into());
    auth.workstation = Some(workstation.into());
    let Ok(authenticate) = auth.to_vec() else {
        return;
    };
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let mut conn = Connection::new(Arc::clone(acceptor), ([192, 0, 2, 1], 4444).into());
    let header = |m: &[u8]| ntlm_gss::http::header_value(ntlm_gss::http::Scheme::Ntlm, m);
    let (reply, _) = conn.on_request(Some(&header(&session_negotiate())), &mut rng, NOW, 0);
    if !matches!(
        reply,
        Reply::Unauthorized {
            challenge: Some(_),
            ..
        }
    ) {
        panic!("no CHALLENGE for the oracle's own NEGOTIATE: {reply:?}");
    }
    let (_, record) = conn.on_request(Some(&header(&authenticate)), &mut rng, NOW, 1);
    let Some(record) = record else {
        panic!("an AUTHENTICATE after a CHALLENGE gave no record");
    };
    for (field, value) in [
        ("user", &record.user),
        ("domain", &record.domain),
        ("workstation", &record.workstation),
    ] {
        let cut = record.truncated.iter().find(|t| t.field == field);
        let chars = value.chars().count();
        if chars > SERVE_FIELD_CHARS || (cut.is_some() && chars != SERVE_FIELD_CHARS) {
            panic!("{field} has {chars} characters; cut: {cut:?}");
        }
        if cut.is_some_and(|t| t.bytes <= value.len()) {
            panic!("{field} listed as cut but not shorter: {cut:?}");
        }
    }
    for (field, value, raw) in [
        ("user_raw", &record.user, &record.user_raw),
        ("domain_raw", &record.domain, &record.domain_raw),
        (
            "workstation_raw",
            &record.workstation,
            &record.workstation_raw,
        ),
    ] {
        let Some(raw) = raw else { continue };
        if !value.is_empty()
            || raw.len() > 2 * SERVE_FIELD_CHARS
            || !raw.bytes().all(|b| b.is_ascii_hexdigit())
        {
            panic!("{field}: {raw:?} beside {value:?}");
        }
    }
    let entry = LogEntry::Handshake(Box::new(record.clone()));
    check_serve_line(&record, &entry.line(false), true);
    check_serve_line(&record, &entry.line(true), false);
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

/// SPNEGO/GSS-API tokens and HTTP auth-header values (`ntlm-gss`): the input
/// read as a security token and as a header value must not panic; a token
/// found lies where the walker says; decoded header tokens and the input
/// itself survive building then reading back.
pub fn gss(data: &[u8]) {
    use ntlm_gss::http;
    use ntlm_gss::spnego::{self, NegState, NegTokenInit, NegTokenResp};

    match spnego::find_ntlmssp(data) {
        Ok(Some(found)) if !found.message.starts_with(b"NTLMSSP\0") => {
            panic!("find_ntlmssp returned a message without the signature")
        }
        Err(e) if e.offset > data.len() => panic!("error offset past the input: {e}"),
        _ => {}
    }
    if let Ok(u) = spnego::unwrap(data) {
        if let (Some(token), Some(at)) = (u.token, u.info.token_offset) {
            if data.get(at..at.saturating_add(token.len())) != Some(token) {
                panic!("token_offset {at} does not point at the token");
            }
        }
    }

    let text = String::from_utf8_lossy(data);
    for c in http::challenges(&text).take(64) {
        if !text
            .get(c.offset..)
            .is_some_and(|r| r.starts_with(c.scheme_name))
            || !text
                .get(c.data_offset..)
                .is_some_and(|r| r.starts_with(c.data))
        {
            panic!("challenge offsets do not point at its parts: {c:?}");
        }
        match (c.scheme(), c.token()) {
            (Some(scheme), Some(Ok(bytes))) if !bytes.is_empty() => {
                let value = http::header_value(scheme, &bytes);
                let back = http::credentials(&value).and_then(|b| b.token());
                if back != Some(Ok(bytes)) {
                    panic!("header value {value:?} does not read back");
                }
            }
            (_, Some(Err(e))) if e.offset > text.len() => {
                panic!("base64 error offset past the value: {e}")
            }
            _ => {}
        }
    }

    let init = NegTokenInit {
        mech_types: &[spnego::NTLMSSP_OID_DER],
        mech_token: Some(data),
        gss_framed: true,
    }
    .to_vec();
    let resp = NegTokenResp {
        neg_state: Some(NegState::AcceptIncomplete),
        supported_mech: Some(spnego::NTLMSSP_OID_DER),
        response_token: Some(data),
        mech_list_mic: None,
    }
    .to_vec();
    for token in [init, resp] {
        match spnego::unwrap(&token) {
            Ok(u) if u.token == Some(data) => {}
            other => panic!("a built token does not read back: {other:?}"),
        }
    }
}
