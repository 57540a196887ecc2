//! `ntlmsim audit`: the NTLM exchanges of pcap/pcapng captures under a policy.

use std::fs::File;
use std::io::{BufReader, IsTerminal, Write as _};

use clap::Args;
use ntlm_capture::{CaptureError, Event, Extractor};
use ntlm_policy::{LmCompatibilityLevel, MinSessionSecurity, Semantics};
use ntlmsim::audit::{
    Auditor, ExchangeRecord, FileJson, HUMAN_ROWS, Policy, ProblemRecord, Summary, csv, html,
    render_human,
};
use ntlmsim::events::{EventAuditor, EventRecord};
use ntlmsim::profiles::Catalog;
use serde::Serialize;

use super::{CliError, Status};

/// Read pcap/pcapng captures and Windows event logs, and say which NTLM connections would break under a policy.
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

JSON Lines (--json): one {\"exchange\": {...}} per exchange and {\"event\": {...}} per NTLM event,
{\"problem\": {...}} per problem, then one {\"summary\": {...}}. A truncated or malformed capture
or event log is reported as a problem and the audit goes on.

Examples:
  ntlmsim audit --server-min 0x20000000 web.pcapng
  ntlmsim audit --server-lm-level 5 --json dc.pcap > audit.jsonl
  ntlmsim audit --client-min 0x20080000 --csv audit.csv --html audit.html *.pcap
  ntlmsim audit --server-lm-level 5 --events-csv ntlm.csv Security.evtx dc1.xml

Exit codes: 0 nothing breaks; 1 an exchange or event shows a connection that would break;
2 bad usage or an unreadable file.")]
pub(crate) struct AuditArgs {
    /// NtlmMinClientSec to apply to the clients
    #[arg(long, value_name = "MASK", default_value = "0")]
    client_min: String,
    /// NtlmMinServerSec to apply to the servers
    #[arg(long, value_name = "MASK", default_value = "0")]
    server_min: String,
    /// LmCompatibilityLevel (0..5) of the clients (default: as observed)
    #[arg(long, value_name = "N")]
    client_lm_level: Option<String>,
    /// LmCompatibilityLevel (0..5) of the servers or their DCs (default: not checked)
    #[arg(long, value_name = "N")]
    server_lm_level: Option<String>,
    /// Policy semantics where Windows behaviour is unconfirmed (see `ntlmsim policy semantics`)
    #[arg(long, value_name = "NAME", default_value = "ms-nlmp")]
    semantics: String,
    /// Print JSON Lines: exchanges, problems, then a summary
    #[arg(long)]
    json: bool,
    /// Also write the exchanges as CSV to FILE
    #[arg(long, value_name = "FILE")]
    csv: Option<String>,
    /// Also write a self-contained HTML report to FILE
    #[arg(long, value_name = "FILE")]
    html: Option<String>,
    /// Also write the NTLM events of event logs as CSV to FILE
    #[arg(long, value_name = "FILE")]
    events_csv: Option<String>,
    /// Capture files (pcap or pcapng) and Windows event logs (EVTX, event XML, evtx_dump JSON Lines)
    #[arg(value_name = "CAPTURE", required = true)]
    captures: Vec<String>,
}

fn bad(what: &str, e: impl std::fmt::Display) -> CliError {
    CliError::new(format!("{what}: {e}"))
}

fn policy(args: &AuditArgs) -> Result<Policy, CliError> {
    let mask = |s: &str, what: &str| {
        MinSessionSecurity::parse(s)
            .map(|p| p.mask)
            .map_err(|e| bad(what, e))
    };
    let level = |s: &Option<String>, what: &str| {
        s.as_deref()
            .map(|s| LmCompatibilityLevel::parse(s).map_err(|e| bad(what, e)))
            .transpose()
    };
    let semantics: Semantics = args.semantics.parse().map_err(|e| bad("--semantics", e))?;
    Ok(Policy {
        client_min: mask(&args.client_min, "--client-min")?,
        server_min: mask(&args.server_min, "--server-min")?,
        client_lm_level: level(&args.client_lm_level, "--client-lm-level")?,
        server_lm_level: level(&args.server_lm_level, "--server-lm-level")?,
        semantics,
    })
}

#[derive(Serialize)]
enum Line<'a> {
    #[serde(rename = "exchange")]
    Exchange(&'a ExchangeRecord),
    #[serde(rename = "event")]
    Event(&'a EventRecord),
    #[serde(rename = "problem")]
    Problem(&'a ProblemRecord),
    #[serde(rename = "summary")]
    Summary(&'a Summary),
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
            Err(e) => Err(bad("cannot write to standard output", e)),
        }
    }

    fn record(&mut self, mut r: ExchangeRecord) -> Result<(), CliError> {
        r.index = self.summary.exchanges + 1;
        self.summary.add(&r);
        self.write(&Line::Exchange(&r))?;
        let keep = self.keep_all
            || (!self.json
                && if r.breaks() {
                    self.shown_breaking += 1;
                    self.shown_breaking <= HUMAN_ROWS
                } else {
                    self.shown_ok += 1;
                    self.shown_ok <= HUMAN_ROWS
                });
        if keep {
            self.records.push(r);
        }
        Ok(())
    }
}

/// Checks that every file can be opened and starts like a capture or an
/// event log (`Some(format)`), so that a bad file is reported before any
/// output.
fn open_all(paths: &[String]) -> Result<Vec<(File, Option<ntlm_events::Format>)>, CliError> {
    paths
        .iter()
        .map(|path| {
            let mut f = File::open(path).map_err(|e| bad(&format!("cannot open {path}"), e))?;
            let mut start = [0u8; ntlm_events::SNIFF_LEN];
            let mut got = 0;
            while let Some(rest) = start.get_mut(got..).filter(|r| !r.is_empty()) {
                match std::io::Read::read(&mut f, rest) {
                    Ok(0) => break,
                    Ok(k) => got += k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(bad(&format!("cannot read {path}"), e)),
                }
            }
            let mut magic = [0u8; 4];
            let n = got.min(4);
            if let (Some(m), Some(s)) = (magic.get_mut(..n), start.get(..n)) {
                m.copy_from_slice(s);
            }
            let known: [[u8; 4]; 5] = [
                [0xd4, 0xc3, 0xb2, 0xa1],
                [0xa1, 0xb2, 0xc3, 0xd4],
                [0x4d, 0x3c, 0xb2, 0xa1],
                [0xa1, 0xb2, 0x3c, 0x4d],
                [0x0a, 0x0d, 0x0d, 0x0a],
            ];
            if n == 0 {
                return Err(bad(path, CaptureError::Empty));
            }
            let events = start.get(..got).and_then(ntlm_events::sniff);
            if (n < 4 || !known.contains(&magic)) && events.is_none() {
                let magic = magic.get(..n).unwrap_or_default();
                return Err(bad(
                    path,
                    CaptureError::NotACapture {
                        magic: hex::encode(magic),
                    },
                ));
            }
            std::io::Seek::rewind(&mut f).map_err(|e| bad(&format!("cannot read {path}"), e))?;
            let is_capture = n == 4 && known.contains(&magic);
            Ok((f, if is_capture { None } else { events }))
        })
        .collect()
}

pub(crate) fn run(args: &AuditArgs, stdout: &mut dyn std::io::Write) -> Result<Status, CliError> {
    let policy = policy(args)?;
    let catalog = Catalog::builtin().map_err(|e| bad("built-in profiles", e))?;
    let files = open_all(&args.captures)?;
    let auditor = Auditor::new(policy, &catalog);
    let mut out = Output {
        w: std::io::BufWriter::with_capacity(1 << 16, stdout),
        json: args.json,
        keep_all: args.csv.is_some() || args.html.is_some(),
        records: Vec::new(),
        shown_ok: 0,
        shown_breaking: 0,
        summary: Summary::empty(auditor.policy()),
        closed: false,
    };
    let mut problems: Vec<ProblemRecord> = Vec::new();
    let mut file_info = Vec::new();
    let tty = std::io::stderr().is_terminal();
    let event_auditor = EventAuditor::new(auditor.policy().clone());
    let mut event_records: Vec<EventRecord> = Vec::new();
    // --events-csv needs every record; the HTML and human views show at
    // most HUMAN_ROWS * 5 of them (the per-host summary counts them all).
    let keep_all_events = args.events_csv.is_some();
    let keep_some_events = args.html.is_some() || !out.json;
    for (i, (path, (file, format))) in args.captures.iter().zip(files).enumerate() {
        if let Some(format) = format {
            let mut events = std::mem::take(&mut out.summary.events);
            let mut failed: Option<CliError> = None;
            ntlmsim::events::audit_file(
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
            .map_err(|e| bad(&format!("cannot read {path}"), e))?;
            out.summary.events = events;
            if let Some(e) = failed {
                return Err(e);
            }
            continue;
        }
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let show = tty && size >= PROGRESS_FROM;
        let mut failed: Option<CliError> = None;
        let mut sink = |e: Event| match e {
            // Judged at once, in the order connections end: the message
            // bytes are not kept.
            Event::Exchange(x) => {
                if failed.is_none() {
                    let r = auditor.judge(path, 0, &x, &mut problems);
                    if let Err(e) = out.record(r) {
                        failed = Some(e);
                    }
                }
            }
            Event::Problem(p) => problems.push(ProblemRecord::new(path, &p)),
            Event::Progress { bytes } => {
                if show {
                    let pct = bytes.saturating_mul(100) / size.max(1);
                    let _ = write!(
                        std::io::stderr().lock(),
                        "\r{path}: {} of {} MB ({pct}%)",
                        bytes >> 20,
                        size >> 20
                    );
                }
            }
        };
        let summary = Extractor::default()
            .run(i, BufReader::with_capacity(1 << 20, file), &mut sink)
            .map_err(|e| match e {
                CaptureError::Io(e) => bad(&format!("cannot read {path}"), e),
                other => bad(path, other),
            })?;
        if let Some(e) = failed {
            return Err(e);
        }
        if show {
            let _ = writeln!(std::io::stderr().lock());
        }
        file_info.push(FileJson {
            file: path.clone(),
            packets: summary.packets,
            bytes: summary.bytes,
            truncated: summary.truncated,
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
        let page = ntlmsim::events::html_into(page, &out.summary.events, &event_records);
        std::fs::write(path, page)
            .map_err(|e| CliError::new(format!("cannot write {path}: {e}")))?;
    }
    if let Some(path) = &args.events_csv {
        std::fs::write(path, ntlmsim::events::csv(&event_records))
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
        text.push_str(&ntlmsim::events::render_human(
            &out.summary.events,
            &event_records,
        ));
        if let Err(e) = out.w.write_all(text.as_bytes()) {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                return Err(bad("cannot write to standard output", e));
            }
            out.closed = true;
        }
    }
    if !out.closed {
        if let Err(e) = out.w.flush() {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                return Err(bad("cannot write to standard output", e));
            }
        }
    }
    Ok(status)
}
