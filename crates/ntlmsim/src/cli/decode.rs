//! `ntlmsim decode [--json] [--exchange N] MESSAGE...` (docs/CLI.md).
//!
//! A MESSAGE that names a pcap/pcapng capture (`capture.pcap`,
//! `@capture.pcap`, or a capture on standard input) is read with
//! `ntlm-capture`, the extractor `audit` uses, so that `--exchange N`
//! picks the exchange `audit` numbers N in that file.

use std::fmt::Write as _;
use std::io::{BufReader, Read};
use std::net::SocketAddr;

use clap::Args;
use ntlm_capture::{CaptureError, Event, Exchange, Extractor, NtlmMessage};
use ntlm_report::exchange::{CaptureRef, escaped};
use ntlm_report::{json, render};
use ntlm_sim::input::{self, InputForm, MessageInput, Source};
use ntlm_wire::{Message, MessageType};

use super::{CliError, Status};

/// Decode NTLM messages and show every field.
#[derive(Debug, Args)]
#[command(after_help = "\
MESSAGE forms:
  TlRMTVNTUAAB...                       base64 (standard or URL-safe, padding optional)
  'NTLM TlRM...', 'Negotiate YIIB...'   after an HTTP authentication scheme
  'WWW-Authenticate: NTLM TlRM...'      a whole header line
  YIIB... / oYIB...                     SPNEGO NegTokenInit / NegTokenResp (unwrapped)
  4e544c4d... / '4e 54 4c 4d' / 4e:54   hex, with or without spaces or colons
  @FILE                                 a file holding raw bytes or any of the above
  CAPTURE / @CAPTURE                    a pcap or pcapng file: every NTLM message in it
                                        (HTTP, SMB1/2/3, DCE/RPC, LDAP, as `ntlmsim audit` finds them)
  -                                     standard input (a message, or a capture up to 4 MiB)

With a capture, --exchange N decodes only exchange N of that file, numbered as `ntlmsim audit
CAPTURE` numbers them; without it every message of every exchange is decoded (at most 5000).

Exit codes: 0 decoded; 2 bad input (one line on stderr naming the field and byte offset).")]
pub(crate) struct DecodeArgs {
    /// Print one JSON document (an object, or an array for several messages)
    #[arg(long)]
    json: bool,

    /// With a capture: decode only this exchange (1-based, as `ntlmsim audit` numbers them)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    exchange: Option<u64>,

    /// Messages to decode, or capture files
    #[arg(value_name = "MESSAGE", required = true)]
    messages: Vec<String>,
}

/// Messages taken from one capture without `--exchange`, at most.
const MAX_CAPTURE_MESSAGES: usize = 5000;

/// The pcap (either byte order, micro- or nanosecond) and pcapng magics.
const CAPTURE_MAGICS: [[u8; 4]; 5] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x0a, 0x0d, 0x0d, 0x0a],
];

fn is_capture(head: &[u8]) -> bool {
    CAPTURE_MAGICS.iter().any(|m| head.starts_with(m))
}

/// A message read out of a capture, kept with its place.
struct Captured {
    path: String,
    exchange: usize,
    client: SocketAddr,
    server: SocketAddr,
    message: NtlmMessage,
}

impl Captured {
    fn view(&self) -> CaptureRef<'_> {
        CaptureRef {
            path: &self.path,
            exchange: self.exchange,
            client: self.client,
            server: self.server,
            message: &self.message,
        }
    }
}

/// Where a decoded message came from.
enum Origin {
    /// A MESSAGE argument, file or standard input.
    Input { source: Source, form: InputForm },
    /// A capture.
    Capture(Box<Captured>),
}

/// A message ready to print.
struct Decoded {
    origin: Origin,
    bytes: Vec<u8>,
    message: Message<'static>,
}

pub(crate) fn run(
    args: &DecodeArgs,
    stdin: &mut dyn Read,
    out: &mut Vec<u8>,
) -> Result<Status, CliError> {
    let several_args = args.messages.len() > 1;
    // Decode everything first: a batch with a bad message produces no output.
    let mut decoded = Vec::with_capacity(args.messages.len());
    let mut captures = 0;
    for (i, arg) in args.messages.iter().enumerate() {
        let position = several_args.then(|| format!("message {}", i + 1));
        if let Some(path) = capture_path(arg) {
            captures += 1;
            let file = std::fs::File::open(path)
                .map_err(|e| CliError::new(format!("cannot open {path}: {e}")))?;
            from_capture(path, BufReader::new(file), args.exchange, &mut decoded)?;
            continue;
        }
        let (source, data) = super::system::load(arg, stdin)
            .map_err(|e| CliError::new(context(position.clone(), None, &e)))?;
        if source == Source::Stdin && is_capture(&data) {
            captures += 1;
            from_capture("-", data.as_slice(), args.exchange, &mut decoded)?;
            continue;
        }
        let input = input::decode(&data).map_err(|e| {
            let mut detail = context(position.clone(), Some(&source), &e);
            if source == Source::Argument && std::path::Path::new(arg).is_file() {
                let _ = write!(
                    detail,
                    " ({arg} is a file but not a pcap/pcapng capture; for a message stored in a file write @{arg})"
                );
            }
            CliError::new(detail)
        })?;
        let MessageInput { bytes, form } = input;
        let message = match Message::parse_lenient(&bytes) {
            Ok(m) => m.into_owned(),
            Err(e) => {
                let kind = MessageType::of(&bytes)
                    .map(|t| format!("{} ", t.name()))
                    .unwrap_or_default();
                let detail = format!("{kind}{e} ({} input)", form.encoding.name());
                return Err(CliError::new(context(position, Some(&source), &detail)));
            }
        };
        decoded.push(Decoded {
            origin: Origin::Input { source, form },
            bytes,
            message,
        });
    }
    if let (Some(n), 0) = (args.exchange, captures) {
        return Err(CliError::new(format!(
            "--exchange {n} picks an exchange of a capture, and no MESSAGE is a pcap/pcapng capture"
        )));
    }
    let several = decoded.len() > 1 || several_args;

    if args.json {
        let docs: Vec<json::MessageJson> = decoded
            .iter()
            .map(|d| {
                let mut j = json::message(&d.bytes, &d.message);
                j.input = Some(match &d.origin {
                    Origin::Input { source, form } => json::input(source, form),
                    Origin::Capture(c) => c.view().json(),
                });
                j
            })
            .collect();
        let text = match docs.as_slice() {
            [one] if !several => serde_json::to_string_pretty(one),
            all => serde_json::to_string_pretty(all),
        }
        .map_err(|e| CliError::new(format!("cannot encode JSON: {e}")))?;
        out.extend_from_slice(text.as_bytes());
        out.push(b'\n');
    } else {
        let total = decoded.len();
        for (i, d) in decoded.iter().enumerate() {
            if i > 0 {
                out.push(b'\n');
            }
            if several {
                out.extend_from_slice(format!("Message {} of {total}\n", i + 1).as_bytes());
            }
            match &d.origin {
                Origin::Input { source, form } => {
                    out.extend_from_slice(render::input(source, form).as_bytes());
                    out.extend_from_slice(render::message(&d.bytes, &d.message).as_bytes());
                }
                Origin::Capture(c) => {
                    out.extend_from_slice(c.view().line().as_bytes());
                    let text = escaped(&render::message(&d.bytes, &d.message));
                    out.extend_from_slice(text.as_bytes());
                }
            }
        }
    }
    Ok(Status::Success)
}

/// The path of a MESSAGE argument that names a capture file (`CAPTURE` or
/// `@CAPTURE`), recognised by its first four bytes.
fn capture_path(arg: &str) -> Option<&str> {
    if arg == "-" {
        return None;
    }
    let path = arg.strip_prefix('@').unwrap_or(arg);
    let mut file = std::fs::File::open(path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut head = [0u8; 4];
    file.read_exact(&mut head).ok()?;
    is_capture(&head).then_some(path)
}

/// Reads the NTLM messages of one capture into `decoded`: those of exchange
/// `only`, or all of them.
fn from_capture<R: Read + Send>(
    path: &str,
    reader: R,
    only: Option<u64>,
    decoded: &mut Vec<Decoded>,
) -> Result<(), CliError> {
    let mut exchanges = 0usize;
    let mut taken: Vec<(usize, Box<Exchange>)> = Vec::new();
    let mut messages = 0usize;
    let mut too_many = false;
    let mut first_problem: Option<String> = None;
    let mut sink = |e: Event| match e {
        Event::Exchange(x) => {
            exchanges += 1;
            let wanted = only.is_none_or(|n| u64::try_from(exchanges).is_ok_and(|i| i == n));
            if wanted && !too_many {
                messages += x.messages().count();
                if only.is_none() && messages > MAX_CAPTURE_MESSAGES {
                    too_many = true;
                } else {
                    taken.push((exchanges, x));
                }
            }
        }
        Event::Problem(p) => {
            first_problem.get_or_insert_with(|| p.to_string());
        }
        Event::Progress { .. } => {}
    };
    let summary = Extractor::default()
        .run(0, reader, &mut sink)
        .map_err(|e| match e {
            CaptureError::Io(e) => CliError::new(format!("cannot read {path}: {e}")),
            other => CliError::new(format!("{path}: {other}")),
        })?;
    if too_many {
        return Err(CliError::new(format!(
            "{path}: more than {MAX_CAPTURE_MESSAGES} NTLM messages in {exchanges} exchanges; \
             pick one with --exchange N (`ntlmsim audit {path}` lists them)"
        )));
    }
    if exchanges == 0 {
        let problem = first_problem
            .map(|p| format!("; first problem: {p}"))
            .unwrap_or_default();
        return Err(CliError::new(format!(
            "{path}: no NTLM message in this capture ({} packets, {} TCP segments read{problem})",
            summary.packets, summary.tcp_segments
        )));
    }
    if let Some(n) = only {
        if taken.is_empty() {
            return Err(CliError::new(format!(
                "{path}: --exchange {n}: the capture has {exchanges} NTLM exchange(s), numbered 1 to {exchanges}"
            )));
        }
    }
    for (exchange, x) in taken {
        let Exchange {
            client,
            server,
            negotiate,
            challenge,
            authenticate,
            ..
        } = *x;
        for m in [negotiate, challenge, authenticate].into_iter().flatten() {
            let c = CaptureRef {
                path,
                exchange,
                client,
                server,
                message: &m,
            };
            let message = Message::parse_lenient(&m.bytes)
                .map(Message::into_owned)
                .map_err(|e| CliError::new(format!("{}: {e}", c.context())))?;
            decoded.push(Decoded {
                bytes: m.bytes.clone(),
                origin: Origin::Capture(Box::new(Captured {
                    path: path.to_owned(),
                    exchange,
                    client,
                    server,
                    message: m,
                })),
                message,
            });
        }
    }
    Ok(())
}

/// `message 2, file x.bin: <detail>`; the parts that do not apply are left out.
fn context(
    position: Option<String>,
    source: Option<&Source>,
    detail: &dyn std::fmt::Display,
) -> String {
    let mut parts: Vec<String> = position.into_iter().collect();
    if let Some(s) = source.filter(|s| **s != Source::Argument) {
        parts.push(s.to_string());
    }
    if parts.is_empty() {
        detail.to_string()
    } else {
        format!("{}: {detail}", parts.join(", "))
    }
}
