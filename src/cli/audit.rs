//! `ntlmsim audit`: the NTLM exchanges of pcap/pcapng captures under a policy.

use std::fs::File;
use std::io::{BufReader, IsTerminal, Write as _};

use clap::Args;
use ntlm_capture::{CaptureError, Event, Exchange, Extractor};
use ntlm_policy::{LmCompatibilityLevel, MinSessionSecurity, Semantics};
use ntlmsim::audit::{
    Auditor, ExchangeRecord, FileJson, HUMAN_ROWS, Policy, ProblemRecord, Summary, csv, html,
    render_human,
};
use ntlmsim::profiles::Catalog;
use serde::Serialize;

use super::{CliError, Status};

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

JSON Lines (--json): one {\"exchange\": {...}} per exchange, {\"problem\": {...}} per problem, then
one {\"summary\": {...}}. A truncated or malformed capture is reported as a problem and the audit
goes on.

Examples:
  ntlmsim audit --server-min 0x20000000 web.pcapng
  ntlmsim audit --server-lm-level 5 --json dc.pcap > audit.jsonl
  ntlmsim audit --client-min 0x20080000 --csv audit.csv --html audit.html *.pcap

Exit codes: 0 no exchange breaks; 1 at least one would break; 2 bad usage or an unreadable file.")]
pub(crate) struct AuditArgs {
    /// NtlmMinClientSec to apply to the clients (default: 0, no minimum)
    #[arg(long, value_name = "MASK")]
    client_min: Option<String>,
    /// NtlmMinServerSec to apply to the servers (default: 0, no minimum)
    #[arg(long, value_name = "MASK")]
    server_min: Option<String>,
    /// LmCompatibilityLevel (0..5) of the clients (default: as observed)
    #[arg(long, value_name = "N")]
    client_lm_level: Option<String>,
    /// LmCompatibilityLevel (0..5) of the servers or their DCs (default: not checked)
    #[arg(long, value_name = "N")]
    server_lm_level: Option<String>,
    /// Policy semantics where Windows behaviour is unconfirmed (see `ntlmsim policy semantics`)
    #[arg(long, value_name = "NAME", default_value = "calibrated")]
    semantics: String,
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
    /// Also write a self-contained HTML report to FILE
    #[arg(long, value_name = "FILE")]
    html: Option<String>,
    /// Also print each exchange's messages decoded, as `ntlmsim decode` shows them (JSON: a
    /// `decoded_messages` array in each exchange record)
    #[arg(long)]
    show_messages: bool,
    /// Capture files (pcap or pcapng)
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
        client_min: mask(args.client_min.as_deref().unwrap_or("0"), "--client-min")?,
        server_min: mask(args.server_min.as_deref().unwrap_or("0"), "--server-min")?,
        client_lm_level: level(&args.client_lm_level, "--client-lm-level")?,
        server_lm_level: level(&args.server_lm_level, "--server-lm-level")?,
        semantics,
        restrict: ntlm_session::RestrictPath {
            client: ntlmsim::restrict::from_pastes(&args.client_restrict)
                .map_err(|e| bad("--client-restrict", e))?,
            server: ntlmsim::restrict::from_pastes(&args.server_restrict)
                .map_err(|e| bad("--server-restrict", e))?,
            dc: ntlmsim::restrict::from_pastes(&args.dc_restrict)
                .map_err(|e| bad("--dc-restrict", e))?,
            target: None,
            transport: ntlm_policy::restrict::Transport::Other,
        },
    })
}

#[derive(Serialize)]
enum Line<'a> {
    #[serde(rename = "exchange")]
    Exchange(ExchangeLine<'a>),
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
            Err(e) => Err(bad("cannot write to standard output", e)),
        }
    }

    fn record(&mut self, mut r: ExchangeRecord, shown: Option<&Exchange>) -> Result<(), CliError> {
        r.index = self.summary.exchanges + 1;
        self.summary.add(&r);
        let decoded_messages = shown
            .filter(|_| self.json)
            .map(|x| super::decode::exchange_json(&r.file, r.index, x));
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
                super::decode::exchange_text(&r.file, r.index, x)
            ));
        }
        let keep = self.keep_all || in_table;
        if keep {
            self.records.push(r);
        }
        Ok(())
    }
}

/// Checks that every file can be opened and starts like a capture, so
/// that a bad file is reported before any output.
fn open_all(paths: &[String]) -> Result<Vec<File>, CliError> {
    paths
        .iter()
        .map(|path| {
            let mut f = File::open(path).map_err(|e| bad(&format!("cannot open {path}"), e))?;
            let mut magic = [0u8; 4];
            let n = std::io::Read::read(&mut f, &mut magic)
                .map_err(|e| bad(&format!("cannot read {path}"), e))?;
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
            if n < 4 || !known.contains(&magic) {
                let magic = magic.get(..n).unwrap_or_default();
                return Err(bad(
                    path,
                    CaptureError::NotACapture {
                        magic: hex::encode(magic),
                    },
                ));
            }
            std::io::Seek::rewind(&mut f).map_err(|e| bad(&format!("cannot read {path}"), e))?;
            Ok(f)
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
        messages: Vec::new(),
        shown_ok: 0,
        shown_breaking: 0,
        summary: Summary::empty(auditor.policy()),
        closed: false,
    };
    let mut problems: Vec<ProblemRecord> = Vec::new();
    let mut file_info = Vec::new();
    let tty = std::io::stderr().is_terminal();
    for (i, (path, file)) in args.captures.iter().zip(files).enumerate() {
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let show = tty && size >= PROGRESS_FROM;
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
    out.summary.finish(file_info, problems.len());
    if let Some(path) = &args.csv {
        std::fs::write(path, csv(&out.records))
            .map_err(|e| CliError::new(format!("cannot write {path}: {e}")))?;
    }
    if let Some(path) = &args.html {
        std::fs::write(path, html(&out.summary, &out.records, &problems))
            .map_err(|e| CliError::new(format!("cannot write {path}: {e}")))?;
    }
    let status = if out.summary.breaking > 0 {
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
        text.push_str(&policy_note(args));
        if args.show_messages {
            text.push_str(&messages_section(&out.messages));
        }
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
