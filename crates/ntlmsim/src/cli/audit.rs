//! `ntlmsim audit`: the NTLM exchanges of pcap/pcapng captures, and the NTLM events of Windows
//! event logs, under a policy.

use std::fs::File;
use std::io::{BufReader, Read, Write as _};
use std::path::{Path, PathBuf};

use clap::Args;
use ntlm_capture::{CaptureError, Event, Exchange, Extractor};
use ntlm_policy::{LmCompatibilityLevel, MinSessionSecurity};
use ntlm_report::audit::{csv, html, render_human};
use ntlm_sim::audit::{
    Auditor, ExchangeRecord, FileJson, HUMAN_ROWS, Policy, ProblemRecord, Summary,
};
use ntlm_sim::events::{EventAuditor, EventRecord};
use ntlm_sim::profiles::Catalog;
use serde::Serialize;

use super::args::SemanticsArg;
use super::{CliError, Status, term};

/// Read pcap/pcapng captures, find every NTLM exchange and say which would break under a policy.
#[derive(Debug, Args)]
#[command(after_help = "\
Reads pcap and pcapng files (Ethernet, VLAN, Linux cooked SLL/SLL2, loopback, raw IP, GRE and
ERSPAN tunnels; IPv4 and IPv6), reassembles TCP and finds NTLM in HTTP (NTLM/Negotiate headers),
SMB1/SMB2 SESSION_SETUP, DCE/RPC auth verifiers, LDAP SASL and sicily binds, and by the NTLMSSP
signature in any other TCP stream. Each exchange is judged under the given policy as the
simulator would: the server's NtlmMinServerSec on NEGOTIATE and AUTHENTICATE, the client's
NtlmMinClientSec on CHALLENGE, and whether the server's LmCompatibilityLevel accepts the observed
response. Client-side settings apply to clients whose closest profile reads them (Windows).

Windows event logs are recognised by content, in any mix with captures: EVTX files, event XML
(wevtutil qe /f:xml or /f:RenderedXml, Get-WinEvent ToXml(); UTF-8 or UTF-16) and JSON Lines as
evtx_dump -o jsonl writes them. Security 4624/4625 are judged on LmPackageName (the response kind)
and KeyLength (the 128-bit question; 0 means no session key and settles nothing); 4010/4011 on
the negotiated and required masks they log; 4776, 8001-8006, 4020-4033 and LsaSrv 6038/6039 are
counted as NTLM use and judged only where they carry what a verdict needs. A requirement the event
cannot settle gives the verdict unknown, never ok. See docs/EVENTS.md.

Inputs are read one at a time, each to its end, as a stream (never seeked): a pipe or FIFO works
as well as a file (tcpdump -w - | ntlmsim audit -). A directory is walked recursively in name
order; files in it that are neither captures nor event logs are skipped, each with a problem
record saying why.

JSON Lines (--json): one {\"exchange\": {...}} per exchange and {\"event\": {...}} per NTLM event,
{\"problem\": {...}} per problem, then one {\"summary\": {...}}. A truncated or malformed capture
or event log is reported as a problem and the audit goes on.

Examples:
  ntlmsim audit --server-min 0x20000000 web.pcapng
  ntlmsim audit --server-lm-level 5 --json dc.pcap > audit.jsonl
  ntlmsim audit --client-min 0x20080000 --csv audit.csv --html audit.html *.pcap
  tcpdump -i eth0 -w - 'port 445 or port 80' | ntlmsim audit --server-min 0x20080000 -
  ntlmsim audit --json captures/
  ntlmsim audit --server-lm-level 5 --events-csv ntlm.csv Security.evtx dc1.xml

Exit codes: 0 nothing breaks; 1 an exchange or event shows a connection that would break;
2 bad usage or an unreadable file.")]
pub(crate) struct AuditArgs {
    /// NtlmMinClientSec to apply to the clients (default: 0, no minimum)
    #[arg(long, value_name = "MASK")]
    client_min: Option<MinSessionSecurity>,
    /// NtlmMinServerSec to apply to the servers (default: 0, no minimum)
    #[arg(long, value_name = "MASK")]
    server_min: Option<MinSessionSecurity>,
    /// LmCompatibilityLevel (0..5) of the clients (default: as observed)
    #[arg(long, value_name = "N")]
    client_lm_level: Option<LmCompatibilityLevel>,
    /// LmCompatibilityLevel (0..5) of the servers or their DCs (default: not checked)
    #[arg(long, value_name = "N")]
    server_lm_level: Option<LmCompatibilityLevel>,
    #[command(flatten)]
    semantics: SemanticsArg,
    /// Restrict NTLM on the clients, in any form `policy explain` reads (RestrictSendingNTLMTraffic,
    /// ClientAllowedNTLMServers matched against the CHALLENGE's computer name); repeatable
    #[arg(long, value_name = "SETTINGS")]
    client_restrict: Vec<String>,
    /// Restrict NTLM on the servers (RestrictReceivingNTLMTraffic); repeatable
    #[arg(long, value_name = "SETTINGS")]
    server_restrict: Vec<String>,
    /// Restrict NTLM on the servers' DC (RestrictNTLMInDomain, DCAllowedNTLMServers); repeatable
    #[arg(long, value_name = "SETTINGS")]
    dc_restrict: Vec<String>,
    /// Print JSON Lines: exchanges, problems, then a summary
    #[arg(long)]
    json: bool,
    /// Also write the exchanges as CSV to FILE
    #[arg(long, value_name = "FILE")]
    csv: Option<String>,
    /// Also write a self-contained HTML report to FILE: what to do (the breaking exchanges by
    /// cause, the hosts to change), the clients, every exchange
    #[arg(long, value_name = "FILE")]
    html: Option<String>,
    /// Also print each exchange's messages decoded, as `ntlmsim decode` shows them (JSON: a
    /// `decoded_messages` array in each exchange record)
    #[arg(long)]
    show_messages: bool,
    /// A server setting NAME=VALUE to judge against (repeatable): extended-protection=require,
    /// ldap-channel-binding=2, ldap-signing=2, smb-name-hardening=2, ... (see `ntlmsim handshake
    /// --help`)
    #[arg(long = "binding", value_name = "NAME=VALUE")]
    bindings: Vec<String>,
    /// How an all-zero MsvAvChannelBindings is read when bindings are checked "when supported":
    /// refused or accepted
    #[arg(long, value_name = "READING", default_value = "refused")]
    zero_channel_bindings: String,
    /// The captured HTTP and LDAP exchanges ran inside TLS (captured behind a TLS-terminating proxy,
    /// or decrypted): judge them as HTTPS and LDAPS, where channel bindings apply
    #[arg(long)]
    tls: bool,
    /// Also write the NTLM events of event logs as CSV to FILE
    #[arg(long, value_name = "FILE")]
    events_csv: Option<String>,
    /// Capture files (pcap or pcapng) and Windows event logs (EVTX, event XML, evtx_dump JSON
    /// Lines), FIFOs, directories (read recursively), or - for standard input
    #[arg(value_name = "CAPTURE", required = true)]
    captures: Vec<String>,
}

fn policy(args: &AuditArgs) -> Result<Policy, CliError> {
    let semantics = args.semantics.semantics;
    Ok(Policy {
        client_min: args.client_min.unwrap_or_default(),
        server_min: args.server_min.unwrap_or_default(),
        client_lm_level: args.client_lm_level,
        server_lm_level: args.server_lm_level,
        semantics,
        restrict: ntlm_session::RestrictPath {
            client: ntlm_sim::restrict::from_pastes(&args.client_restrict)
                .map_err(|e| CliError::bad("--client-restrict", e))?,
            server: ntlm_sim::restrict::from_pastes(&args.server_restrict)
                .map_err(|e| CliError::bad("--server-restrict", e))?,
            dc: ntlm_sim::restrict::from_pastes(&args.dc_restrict)
                .map_err(|e| CliError::bad("--dc-restrict", e))?,
            target: None,
            transport: ntlm_policy::restrict::Transport::Other,
        },
        binding: ntlm_sim::binding::policy(&args.bindings, &args.zero_channel_bindings)
            .map_err(CliError::new)?,
        tls: args.tls,
    })
}

#[derive(Serialize)]
enum Line<'a> {
    #[serde(rename = "exchange")]
    Exchange(ExchangeLine<'a>),
    #[serde(rename = "event")]
    Event(&'a EventRecord),
    #[serde(rename = "problem")]
    Problem(&'a ProblemRecord),
    #[serde(rename = "summary")]
    Summary(&'a Summary),
}

/// An exchange record, with its decoded messages under `--show-messages`.
#[derive(Serialize)]
struct ExchangeLine<'a> {
    #[serde(flatten)]
    record: &'a ExchangeRecord,
    #[serde(skip_serializing_if = "Option::is_none")]
    decoded_messages: Option<Vec<serde_json::Value>>,
}

/// Files larger than this show progress on a terminal.
const PROGRESS_FROM: u64 = 64 << 20;

/// Where records go: JSON lines are written as exchanges are judged, so
/// that memory does not grow with the capture; records are kept only for
/// the views that need them.
struct Output<'a> {
    w: std::io::BufWriter<&'a mut dyn std::io::Write>,
    json: bool,
    keep_all: bool,
    records: Vec<ExchangeRecord>,
    /// `--show-messages`: the decoded messages of the exchanges the human
    /// table lists.
    messages: Vec<String>,
    shown_ok: usize,
    shown_breaking: usize,
    summary: Summary,
    closed: bool,
}

impl Output<'_> {
    fn write(&mut self, l: &Line<'_>) -> Result<(), CliError> {
        if !self.json || self.closed {
            return Ok(());
        }
        let w = &mut self.w;
        let r = serde_json::to_writer(&mut *w, l)
            .map_err(std::io::Error::from)
            .and_then(|()| w.write_all(b"\n"));
        match r {
            Ok(()) => Ok(()),
            // A closed pipe (`| head`) is the reader's choice.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            Err(e) => Err(CliError::bad("cannot write to standard output", e)),
        }
    }

    fn record(&mut self, mut r: ExchangeRecord, shown: Option<&Exchange>) -> Result<(), CliError> {
        r.index = self.summary.exchanges + 1;
        self.summary.add(&r);
        let decoded_messages = shown
            .filter(|_| self.json)
            .map(|x| ntlm_report::exchange::exchange_json(&r.file, r.index, x));
        self.write(&Line::Exchange(ExchangeLine {
            record: &r,
            decoded_messages,
        }))?;
        let in_table = !self.json
            && if r.breaks() {
                self.shown_breaking += 1;
                self.shown_breaking <= HUMAN_ROWS
            } else {
                self.shown_ok += 1;
                self.shown_ok <= HUMAN_ROWS
            };
        if let (true, Some(x)) = (in_table, shown) {
            self.messages.push(format!(
                "Exchange {}:\n{}",
                r.index,
                ntlm_report::exchange::exchange_text(&r.file, r.index, x)
            ));
        }
        let keep = self.keep_all || in_table;
        if keep {
            self.records.push(r);
        }
        Ok(())
    }
}

/// The first four bytes of a pcap (either byte order, micro- or
/// nanoseconds) or a pcapng section header.
const MAGICS: [[u8; 4]; 5] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x0a, 0x0d, 0x0d, 0x0a],
];

/// What an input holds, recognised by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A pcap or pcapng capture.
    Capture,
    /// A Windows event log in this form.
    Events(ntlm_events::Format),
}

/// Recognises the first bytes of an input (at most
/// [`ntlm_events::SNIFF_LEN`]): a capture by its magic, else an event log by
/// content.
fn kind(start: &[u8]) -> Result<Kind, CaptureError> {
    let n = start.len().min(4);
    let magic = start.get(..n).unwrap_or_default();
    if n == 4 && MAGICS.iter().any(|m| m.as_slice() == magic) {
        return Ok(Kind::Capture);
    }
    if let Some(format) = ntlm_events::sniff(start) {
        return Ok(Kind::Events(format));
    }
    Err(if n == 0 {
        CaptureError::Empty
    } else {
        CaptureError::NotACapture {
            magic: hex::encode(magic),
        }
    })
}

/// Reads up to [`ntlm_events::SNIFF_LEN`] bytes from the start of `r`.
fn read_start(r: &mut dyn Read) -> Result<Vec<u8>, std::io::Error> {
    let mut start = vec![0u8; ntlm_events::SNIFF_LEN];
    let mut n = 0;
    while let Some(rest) = start.get_mut(n..).filter(|r| !r.is_empty()) {
        match r.read(rest) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    start.truncate(n);
    Ok(start)
}

/// One input to read, in order.
#[derive(Debug)]
enum Source {
    /// Standard input (`-`).
    Stdin,
    /// A regular file, checked to start like a capture or an event log.
    File(PathBuf, Kind),
    /// A FIFO, character device or other file that can only be read once,
    /// from the start (never checked in advance, never seeked).
    Stream(PathBuf),
}

impl Source {
    /// The name records carry: the path as given or found, `-` for stdin.
    fn label(&self) -> String {
        match self {
            Self::Stdin => "-".to_owned(),
            Self::File(p, _) | Self::Stream(p) => p.display().to_string(),
        }
    }
}

/// What a regular file holds: `Ok(Err(why))` when it is neither a
/// capture nor an event log, `Err` when it cannot be read. The file is
/// closed on return.
fn check_magic(path: &Path) -> Result<Result<Kind, CaptureError>, std::io::Error> {
    let mut f = File::open(path)?;
    Ok(kind(&read_start(&mut f)?))
}

/// The inputs named on the command line, in order: `-` is standard input,
/// a directory is walked (sorted by name, recursively; files that are not
/// captures are skipped and noted in `skipped`). Regular files named
/// directly are checked to start like a capture, one at a time, so that a
/// bad one is reported before any output; nothing stays open.
fn sources(args: &[String], skipped: &mut Vec<ProblemRecord>) -> Result<Vec<Source>, CliError> {
    let mut out = Vec::new();
    let mut stdin = false;
    for arg in args {
        if arg == "-" {
            if stdin {
                return Err(CliError::new(
                    "- (standard input) can be read only once; give it once",
                ));
            }
            stdin = true;
            out.push(Source::Stdin);
            continue;
        }
        let path = PathBuf::from(arg);
        let meta = std::fs::metadata(&path)
            .map_err(|e| CliError::bad(&format!("cannot open {arg}"), e))?;
        if meta.is_dir() {
            let before = out.len();
            walk(&path, &mut out, skipped)?;
            if out.len() == before {
                let mine: Vec<&ProblemRecord> = skipped
                    .iter()
                    .filter(|p| p.file.starts_with(arg.as_str()))
                    .collect();
                return Err(CliError::new(format!(
                    "{arg}: no pcap or pcapng capture or event log in this directory{}",
                    match mine.first() {
                        None => String::new(),
                        Some(p) => format!(
                            " ({} file(s) skipped; {}: {})",
                            mine.len(),
                            p.file,
                            p.message.trim_start_matches("skipped: ")
                        ),
                    }
                )));
            }
        } else if meta.is_file() {
            match check_magic(&path) {
                Ok(Ok(k)) => out.push(Source::File(path, k)),
                Ok(Err(e)) => return Err(CliError::bad(arg, e)),
                Err(e) => return Err(CliError::bad(&format!("cannot read {arg}"), e)),
            }
        } else {
            out.push(Source::Stream(path));
        }
    }
    Ok(out)
}

/// A directory's capture files, sorted by name at every level (walkdir,
/// following symbolic links, with loop detection); the rest noted as skipped.
fn walk(
    root: &Path,
    out: &mut Vec<Source>,
    skipped: &mut Vec<ProblemRecord>,
) -> Result<(), CliError> {
    let mut skip = |file: String, message: String| {
        skipped.push(ProblemRecord {
            file,
            packet: None,
            layer: "capture",
            message,
        });
    };
    for entry in walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let file = e
                    .path()
                    .map_or_else(|| root.display().to_string(), |p| p.display().to_string());
                skip(file, format!("skipped: {e}"));
                continue;
            }
        };
        let ft = entry.file_type();
        if ft.is_dir() {
            continue;
        }
        let path = entry.into_path();
        let label = path.display().to_string();
        if !ft.is_file() {
            skip(
                label,
                "skipped: not a regular file (name a FIFO or device on the command line to read it)"
                    .to_owned(),
            );
            continue;
        }
        match check_magic(&path) {
            Ok(Ok(k)) => out.push(Source::File(path, k)),
            Ok(Err(e)) => skip(label, format!("skipped: {e}")),
            Err(e) => skip(label, format!("skipped: cannot read: {e}")),
        }
    }
    Ok(())
}

/// Opens one source for reading: what it holds, a reader from its first
/// byte, and its size when known (for progress). A stream's first bytes are
/// read to recognise it and given back in front of the rest.
fn open(source: &Source) -> Result<(Kind, Box<dyn Read + Send>, u64), CliError> {
    let (mut r, size): (Box<dyn Read + Send>, u64) = match source {
        Source::Stdin => (Box::new(std::io::stdin()), 0),
        Source::File(p, _) | Source::Stream(p) => {
            let f = File::open(p)
                .map_err(|e| CliError::bad(&format!("cannot open {}", p.display()), e))?;
            let size = match source {
                Source::File(..) => f.metadata().map(|m| m.len()).unwrap_or(0),
                _ => 0,
            };
            (Box::new(f), size)
        }
    };
    if let Source::File(_, k) = source {
        return Ok((*k, r, size));
    }
    let name = match source {
        Source::Stdin => "standard input (-)".to_owned(),
        _ => source.label(),
    };
    let start = read_start(&mut r).map_err(|e| CliError::bad(&format!("cannot read {name}"), e))?;
    let k = kind(&start).map_err(|e| CliError::bad(&name, e))?;
    Ok((k, Box::new(std::io::Cursor::new(start).chain(r)), size))
}

pub(crate) fn run(args: &AuditArgs, stdout: &mut dyn std::io::Write) -> Result<Status, CliError> {
    let policy = policy(args)?;
    let catalog = Catalog::builtin().map_err(|e| CliError::bad("built-in profiles", e))?;
    let mut problems: Vec<ProblemRecord> = Vec::new();
    let inputs = sources(&args.captures, &mut problems)?;
    let auditor = Auditor::new(policy, &catalog);
    let mut out = Output {
        w: std::io::BufWriter::with_capacity(1 << 16, stdout),
        json: args.json,
        keep_all: args.csv.is_some() || args.html.is_some(),
        records: Vec::new(),
        messages: Vec::new(),
        shown_ok: 0,
        shown_breaking: 0,
        summary: Summary::empty(auditor.policy()),
        closed: false,
    };
    let mut file_info = Vec::new();
    let event_auditor = EventAuditor::new(auditor.policy().clone());
    let mut event_records: Vec<EventRecord> = Vec::new();
    // --events-csv needs every record; the HTML and human views show at
    // most HUMAN_ROWS * 5 of them (the per-host summary counts them all).
    let keep_all_events = args.events_csv.is_some();
    let keep_some_events = args.html.is_some() || !out.json;
    // One input at a time: each is read to its end and closed before the
    // next is opened, so any number of files fits in the descriptor limit.
    for (i, source) in inputs.iter().enumerate() {
        let path = &source.label();
        let (kind, file, size) = open(source)?;
        if let Kind::Events(format) = kind {
            let mut events = std::mem::take(&mut out.summary.events);
            let mut failed: Option<CliError> = None;
            ntlm_sim::events::audit_file(
                path,
                format,
                BufReader::with_capacity(1 << 20, file),
                &event_auditor,
                &mut events,
                &mut |r| {
                    if failed.is_none() {
                        if let Err(e) = out.write(&Line::Event(&r)) {
                            failed = Some(e);
                        }
                    }
                    if keep_all_events || (keep_some_events && event_records.len() < HUMAN_ROWS * 5)
                    {
                        event_records.push(r);
                    }
                },
                &mut |p| problems.push(p),
            )
            .map_err(|e| CliError::bad(&format!("cannot read {path}"), e))?;
            out.summary.events = events;
            if let Some(e) = failed {
                return Err(e);
            }
            continue;
        }
        let mut line = term::Progress::new(size >= PROGRESS_FROM);
        let mut failed: Option<CliError> = None;
        let mut sink = |e: Event| match e {
            // Judged at once, in the order connections end: the message
            // bytes are not kept.
            Event::Exchange(x) => {
                if failed.is_none() {
                    let r = auditor.judge(path, 0, &x, &mut problems);
                    let shown = args.show_messages.then_some(&*x);
                    if let Err(e) = out.record(r, shown) {
                        failed = Some(e);
                    }
                }
            }
            Event::Problem(p) => problems.push(ProblemRecord::new(path, &p)),
            Event::Progress { bytes } => {
                let pct = bytes.saturating_mul(100) / size.max(1);
                line.show(&format!(
                    "{path}: {} of {} MB ({pct}%)",
                    bytes >> 20,
                    size >> 20
                ));
            }
        };
        let summary = Extractor::default()
            .run(i, BufReader::with_capacity(1 << 20, file), &mut sink)
            .map_err(|e| {
                let name = match source {
                    Source::Stdin => "standard input (-)",
                    _ => path.as_str(),
                };
                match e {
                    CaptureError::Io(e) => CliError::bad(&format!("cannot read {name}"), e),
                    other => CliError::bad(name, other),
                }
            })?;
        if let Some(e) = failed {
            return Err(e);
        }
        drop(line);
        file_info.push(FileJson {
            file: path.clone(),
            packets: summary.packets,
            bytes: summary.bytes,
            truncated: summary.truncated,
            evicted_connections: summary.evicted_connections,
            evicted_mid_exchange: summary.evicted_mid_exchange,
        });
    }
    let event_breaking = out.summary.events.finish();
    out.summary.breaking_clients.extend(event_breaking);
    out.summary.finish(file_info, problems.len());
    if let Some(path) = &args.csv {
        std::fs::write(path, csv(&out.records))
            .map_err(|e| CliError::new(format!("cannot write {path}: {e}")))?;
    }
    if let Some(path) = &args.html {
        let page = html(&out.summary, &out.records, &problems);
        let page = ntlm_report::events::html_into(page, &out.summary.events, &event_records);
        std::fs::write(path, page)
            .map_err(|e| CliError::new(format!("cannot write {path}: {e}")))?;
    }
    if let Some(path) = &args.events_csv {
        std::fs::write(path, ntlm_report::events::csv(&event_records))
            .map_err(|e| CliError::new(format!("cannot write {path}: {e}")))?;
    }
    let status = if out.summary.breaking > 0 || out.summary.events.events_breaking > 0 {
        Status::Negative
    } else {
        Status::Success
    };
    if out.json {
        for p in &problems {
            out.write(&Line::Problem(p))?;
        }
        let summary = std::mem::replace(&mut out.summary, Summary::empty(&Policy::default()));
        out.write(&Line::Summary(&summary))?;
    } else {
        let mut text = render_human(&out.summary, &out.records, &problems);
        text.push_str(&ntlm_report::events::render_human(
            &out.summary.events,
            &event_records,
        ));
        text.push_str(&policy_note(args));
        if args.show_messages {
            text.push_str(&messages_section(&out.messages));
        }
        if let Err(e) = out.w.write_all(text.as_bytes()) {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                return Err(CliError::bad("cannot write to standard output", e));
            }
            out.closed = true;
        }
    }
    if !out.closed {
        if let Err(e) = out.w.flush() {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                return Err(CliError::bad("cannot write to standard output", e));
            }
        }
    }
    Ok(status)
}

/// Under the human report when no policy option was given: the report
/// judged against no minimum, which only catches what the capture itself
/// shows failing; say so and how to ask the real question.
fn policy_note(args: &AuditArgs) -> String {
    if args.client_min.is_some()
        || args.server_min.is_some()
        || args.client_lm_level.is_some()
        || args.server_lm_level.is_some()
    {
        return String::new();
    }
    "\nNo policy option was given, so the exchanges were judged against no minimum: \
     NtlmMinClientSec 0, NtlmMinServerSec 0, LmCompatibilityLevel as observed on the clients and \
     not checked on the servers.\nTo see what a hardening would break, give it, e.g. \
     --server-min 0x20080000 --client-min 0x20080000 (NTLMv2 session security and 128-bit \
     encryption) or --server-lm-level 5.\n"
        .to_owned()
}

/// `--show-messages` in the human report: the decoded messages of the
/// exchanges the table lists.
fn messages_section(messages: &[String]) -> String {
    let mut s = String::from("\nMessages (--show-messages):\n\n");
    if messages.is_empty() {
        s.push_str("(no exchange listed)\n");
    }
    for m in messages {
        s.push_str(m);
    }
    s
}
