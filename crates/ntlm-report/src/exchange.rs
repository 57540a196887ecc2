//! The messages of a captured exchange as `decode` shows them, for
//! `decode CAPTURE` and `audit --show-messages`: each message's place in
//! the capture, then its decoded fields ([`crate::render`], [`crate::json`]).

use std::fmt::Write as _;
use std::net::SocketAddr;

use ntlm_capture::{Carrier, Exchange, NtlmMessage};
use ntlm_wire::Message;

use crate::json::{self, CaptureJson, InputJson};
use crate::{render, sink};

/// A message found in a capture, and where.
#[derive(Debug)]
pub struct CaptureRef<'a> {
    /// The capture as named on the command line.
    pub path: &'a str,
    /// 1-based exchange number in that file.
    pub exchange: usize,
    /// The client of the exchange.
    pub client: SocketAddr,
    /// The server of the exchange.
    pub server: SocketAddr,
    /// The message.
    pub message: &'a NtlmMessage,
}

impl CaptureRef<'_> {
    /// `Input: capture web.pcap, exchange 1, packet 6 at ...: HTTP (raw), server 192.0.2.80:80 to client 192.0.2.1:50001`
    pub fn line(&self) -> String {
        let m = self.message;
        let (from, to) = if m.from_client {
            (
                format!("client {}", self.client),
                format!("server {}", self.server),
            )
        } else {
            (
                format!("server {}", self.server),
                format!("client {}", self.client),
            )
        };
        format!(
            "Input: capture {}, exchange {}, packet {} at {}: {} ({}), {from} to {to}\n",
            sink::terminal(self.path),
            self.exchange,
            m.place.packet,
            m.place.time,
            m.carrier.name(),
            m.wrapping.name(),
        )
    }

    /// The `input` object of `decode --json` for this message.
    pub fn json(&self) -> InputJson {
        let m = self.message;
        InputJson {
            source: "capture",
            path: Some(self.path.to_owned()),
            encoding: if m.carrier == Carrier::Http {
                "base64"
            } else {
                "raw"
            },
            http_header: None,
            scheme: None,
            spnego: None,
            capture: Some(CaptureJson {
                exchange: self.exchange,
                packet: m.place.packet,
                time: m.place.time.rfc3339(),
                carrier: m.carrier.name(),
                wrapping: m.wrapping.name(),
                client: self.client.to_string(),
                server: self.server.to_string(),
                sender: if m.from_client { "client" } else { "server" },
            }),
        }
    }

    /// `file web.pcap, exchange 2, AUTHENTICATE at packet 9`, for errors.
    pub fn context(&self) -> String {
        format!(
            "capture {}, exchange {}, {} at packet {}",
            self.path,
            self.exchange,
            self.message.kind.name(),
            self.message.place.packet
        )
    }
}

/// Rendered text with every line's wire text made safe for a terminal.
pub fn escaped(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for line in text.lines() {
        s.push_str(&sink::terminal(line));
        s.push('\n');
    }
    s
}

/// The messages of an exchange for `audit --show-messages`, as text: each
/// message's place and its decoded fields (or why it could not be decoded).
pub fn exchange_text(path: &str, index: usize, x: &Exchange) -> String {
    let mut s = String::new();
    for m in x.messages() {
        let c = CaptureRef {
            path,
            exchange: index,
            client: x.client,
            server: x.server,
            message: m,
        };
        s.push_str(&c.line());
        match Message::parse_lenient(&m.bytes) {
            Ok(msg) => s.push_str(&escaped(&render::message(&m.bytes, &msg))),
            Err(e) => {
                let _ = writeln!(s, "{} cannot be decoded: {e}", m.kind.name());
            }
        }
        s.push('\n');
    }
    s
}

/// The messages of an exchange for `audit --show-messages --json`: each as
/// `decode --json` prints it (with `input.capture`), or `{type, length,
/// hex, error}` when it cannot be decoded.
pub fn exchange_json(path: &str, index: usize, x: &Exchange) -> Vec<serde_json::Value> {
    x.messages()
        .map(|m| {
            let c = CaptureRef {
                path,
                exchange: index,
                client: x.client,
                server: x.server,
                message: m,
            };
            match Message::parse_lenient(&m.bytes) {
                Ok(msg) => {
                    let mut j = json::message(&m.bytes, &msg);
                    j.input = Some(c.json());
                    serde_json::to_value(j).unwrap_or_else(
                        |e| serde_json::json!({ "type": m.kind.name(), "error": e.to_string() }),
                    )
                }
                Err(e) => serde_json::json!({
                    "type": m.kind.name(),
                    "length": m.bytes.len(),
                    "hex": hex::encode(&m.bytes),
                    "error": e.to_string(),
                    "input": c.json(),
                }),
            }
        })
        .collect()
}
