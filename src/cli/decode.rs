//! `ntlmsim decode [--json] MESSAGE...` (docs/CLI.md).

use std::io::Read;

use clap::Args;
use ntlm_wire::{Message, MessageType};
use ntlmsim::input::{self, MessageInput, Source};
use ntlmsim::{json, render};

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
  -                                     standard input

Exit codes: 0 decoded; 2 bad input (one line on stderr naming the field and byte offset).")]
pub(crate) struct DecodeArgs {
    /// Print one JSON document (an object, or an array for several messages)
    #[arg(long)]
    json: bool,

    /// Messages to decode
    #[arg(value_name = "MESSAGE", required = true)]
    messages: Vec<String>,
}

/// A message ready to print.
struct Decoded {
    source: Source,
    input: MessageInput,
    message: Message<'static>,
}

pub(crate) fn run(
    args: &DecodeArgs,
    stdin: &mut dyn Read,
    out: &mut Vec<u8>,
) -> Result<Status, CliError> {
    let several = args.messages.len() > 1;
    // Decode everything first: a batch with a bad message produces no output.
    let mut decoded = Vec::with_capacity(args.messages.len());
    for (i, arg) in args.messages.iter().enumerate() {
        let position = several.then(|| format!("message {}", i + 1));
        let (source, data) = input::load(arg, stdin)
            .map_err(|e| CliError::new(context(position.clone(), None, &e)))?;
        let input = input::decode(&data)
            .map_err(|e| CliError::new(context(position.clone(), Some(&source), &e)))?;
        let message = match Message::parse_lenient(&input.bytes) {
            Ok(m) => m.into_owned(),
            Err(e) => {
                let kind = MessageType::of(&input.bytes)
                    .map(|t| format!("{} ", t.name()))
                    .unwrap_or_default();
                let detail = format!("{kind}{e} ({} input)", input.form.encoding.name());
                return Err(CliError::new(context(position, Some(&source), &detail)));
            }
        };
        decoded.push(Decoded {
            source,
            input,
            message,
        });
    }

    if args.json {
        let docs: Vec<json::MessageJson> = decoded
            .iter()
            .map(|d| {
                let mut j = json::message(&d.input.bytes, &d.message);
                j.input = Some(json::input(&d.source, &d.input.form));
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
            out.extend_from_slice(render::input(&d.source, &d.input.form).as_bytes());
            out.extend_from_slice(render::message(&d.input.bytes, &d.message).as_bytes());
        }
    }
    Ok(Status::Success)
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
