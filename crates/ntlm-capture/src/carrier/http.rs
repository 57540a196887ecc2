//! HTTP/1.x: NTLM and Negotiate tokens in `Authorization`,
//! `Proxy-Authorization`, `WWW-Authenticate` and `Proxy-Authenticate`
//! (RFC 4559, MS-NTHT 2.2), and the status of each response.
//!
//! Message bodies are skipped by `Content-Length` or chunked framing
//! (RFC 9112 6), never buffered. A response without a length runs to the
//! end of the connection; `CONNECT` and `101 Switching Protocols` turn the
//! connection into a tunnel, handed over to the signature scan.

use memchr::memmem;
use ntlm_gss::http;

use super::{Found, Parse, Shared, Step};
use crate::{Carrier, CarrierResult};

/// Longest header section read.
const MAX_HEADER: usize = 64 * 1024;
/// Requests remembered while their responses are awaited.
const MAX_PENDING_REQUESTS: usize = 256;

/// The kind of request method, as far as response framing cares (RFC 9112 6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `HEAD`: the response has no body.
    Head,
    /// `CONNECT`: a 2xx response starts a tunnel.
    Connect,
    /// Any other.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Start,
    ChunkSize,
    Trailers,
    Tunnel,
}

/// One direction of an HTTP connection.
#[derive(Debug, Clone, Default)]
pub struct Http {
    state: State,
}

/// Whether `b` starts like an HTTP request or response.
pub fn looks_like(b: &[u8]) -> bool {
    if b.starts_with(b"HTTP/1.") {
        return true;
    }
    const METHODS: [&[u8]; 9] = [
        b"GET ",
        b"POST ",
        b"PUT ",
        b"HEAD ",
        b"OPTIONS ",
        b"DELETE ",
        b"PATCH ",
        b"CONNECT ",
        b"PROPFIND ",
    ];
    METHODS.iter().any(|m| b.starts_with(m))
}

impl Http {
    /// Parses from the start of `buf`.
    pub fn parse(&mut self, buf: &[u8], shared: &mut Shared, out: &mut Vec<Found>) -> Parse {
        match self.state {
            State::Tunnel => Parse::Fallback,
            State::ChunkSize => self.chunk_size(buf),
            State::Trailers => self.trailers(buf),
            State::Start => self.message(buf, shared, out),
        }
    }

    fn chunk_size(&mut self, buf: &[u8]) -> Parse {
        let Some(eol) = memchr::memchr(b'\n', buf) else {
            return if buf.len() > 1024 {
                Parse::Fallback
            } else {
                Parse::Need
            };
        };
        let line = buf.get(..eol).unwrap_or_default();
        let digits: Vec<u8> = line
            .iter()
            .copied()
            .take_while(u8::is_ascii_hexdigit)
            .collect();
        let Some(size) = std::str::from_utf8(&digits)
            .ok()
            .and_then(|d| u64::from_str_radix(d, 16).ok())
        else {
            return Parse::Fallback;
        };
        if size == 0 {
            self.state = State::Trailers;
            return Parse::Step(Step::consume(eol + 1));
        }
        // The chunk data and its CRLF.
        Parse::Step(Step {
            consumed: eol + 1,
            skip: size.saturating_add(2),
        })
    }

    fn trailers(&mut self, buf: &[u8]) -> Parse {
        let Some(eol) = memchr::memchr(b'\n', buf) else {
            return Parse::Need;
        };
        if buf.get(..eol).is_some_and(|l| l.is_empty() || l == b"\r") {
            self.state = State::Start;
        }
        Parse::Step(Step::consume(eol + 1))
    }

    fn message(&mut self, buf: &[u8], shared: &mut Shared, out: &mut Vec<Found>) -> Parse {
        // Empty lines between messages (RFC 9112 2.2).
        let lead = buf
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        if lead > 0 {
            return Parse::Step(Step::consume(lead));
        }
        let Some(end) = memmem::find(buf, b"\r\n\r\n")
            .map(|p| p + 4)
            .or_else(|| memmem::find(buf, b"\n\n").map(|p| p + 2))
        else {
            if buf.len() > MAX_HEADER || (buf.len() >= 8 && !looks_like(buf)) {
                return Parse::Fallback;
            }
            return Parse::Need;
        };
        let head = buf.get(..end).unwrap_or_default();
        if !looks_like(head) {
            return Parse::Fallback;
        }
        let mut lines = head.split(|&b| b == b'\n');
        let start_raw = lines.next().unwrap_or_default();
        let start = start_raw.strip_suffix(b"\r").unwrap_or(start_raw);
        let status = parse_status(start);
        let method = if start.starts_with(b"HEAD ") {
            Method::Head
        } else if start.starts_with(b"CONNECT ") {
            Method::Connect
        } else {
            Method::Other
        };
        let mut length: Option<u64> = None;
        let mut chunked = false;
        let mut offset = start_raw.len().saturating_add(1);
        for raw in lines {
            let line_at = offset;
            offset = offset.saturating_add(raw.len()).saturating_add(1);
            let line = raw.strip_suffix(b"\r").unwrap_or(raw);
            let Some(colon) = memchr::memchr(b':', line) else {
                continue;
            };
            let (name, value) = line.split_at(colon);
            let value = trim(value.get(1..).unwrap_or_default());
            if name.eq_ignore_ascii_case(b"content-length") {
                length = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                chunked = value
                    .split(|&b| b == b',')
                    .any(|t| trim(t).eq_ignore_ascii_case(b"chunked"));
            } else if [
                &b"authorization"[..],
                b"proxy-authorization",
                b"www-authenticate",
                b"proxy-authenticate",
            ]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
            {
                auth_header(name, value, line_at, out);
            }
        }
        let consumed = end;
        match status {
            None => {
                if shared.http_requests.len() >= MAX_PENDING_REQUESTS {
                    shared.http_requests.pop_front();
                }
                shared.http_requests.push_back(method);
                let body = if chunked {
                    None
                } else {
                    Some(length.unwrap_or(0))
                };
                self.body(consumed, body)
            }
            Some(code) => {
                out.push(Found::Result(CarrierResult::Http { status: code }));
                if (100..200).contains(&code) && code != 101 {
                    // Interim: the final response follows.
                    return Parse::Step(Step::consume(consumed));
                }
                let req = shared.http_requests.pop_front().unwrap_or(Method::Other);
                if code == 101 || (req == Method::Connect && (200..300).contains(&code)) {
                    self.state = State::Tunnel;
                    return Parse::Step(Step::consume(consumed));
                }
                if req == Method::Head || code == 204 || code == 304 {
                    return Parse::Step(Step::consume(consumed));
                }
                match (chunked, length) {
                    (true, _) => self.body(consumed, None),
                    (false, Some(n)) => self.body(consumed, Some(n)),
                    // Delimited by the end of the connection.
                    (false, None) => {
                        self.state = State::Tunnel;
                        Parse::Step(Step::consume(consumed))
                    }
                }
            }
        }
    }

    /// After a header section of `consumed` bytes: a body of `length` bytes, or chunked.
    fn body(&mut self, consumed: usize, length: Option<u64>) -> Parse {
        match length {
            None => {
                self.state = State::ChunkSize;
                Parse::Step(Step::consume(consumed))
            }
            Some(n) => Parse::Step(Step { consumed, skip: n }),
        }
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |p| p + 1);
    b.get(start..end).unwrap_or_default()
}

/// `HTTP/1.1 401 Unauthorized` -> 401.
fn parse_status(line: &[u8]) -> Option<u16> {
    let rest = line.strip_prefix(b"HTTP/")?;
    let sp = memchr::memchr(b' ', rest)?;
    let code = rest.get(sp + 1..sp + 4)?;
    std::str::from_utf8(code).ok()?.parse().ok()
}

/// The `NTLM <base64>` / `Negotiate <base64>` challenges or credentials in
/// one header value (a comma-separated list in `WWW-Authenticate`), read by
/// the rule of [`ntlm_gss::http`]. Bytes that are not UTF-8 cannot be
/// base64 and make the token fail to decode.
fn auth_header(name: &[u8], value: &[u8], line_at: usize, out: &mut Vec<Found>) {
    let value = String::from_utf8_lossy(value);
    for challenge in http::challenges(&value) {
        match challenge.token() {
            None => {}
            Some(Ok(bytes)) => out.push(Found::Token {
                bytes,
                carrier: Carrier::Http,
            }),
            Some(Err(e)) => out.push(Found::Problem {
                layer: "http",
                message: format!(
                    "{} header at offset {line_at} of the header section: {} token is not base64 ({e})",
                    String::from_utf8_lossy(name),
                    challenge.scheme_name
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth;

    fn run(dir: &[&[u8]]) -> (Vec<Found>, Http) {
        let mut p = Http::default();
        let mut shared = Shared::default();
        let mut d = super::super::Direction::new(super::super::Kind::Http, 1 << 20);
        let mut out = Vec::new();
        for chunk in dir {
            d.feed(chunk, &mut shared, &mut out);
        }
        if let super::super::Parser::Http(h) = &d.parser {
            p = h.clone();
        }
        (out, p)
    }

    fn tokens(found: &[Found]) -> Vec<Vec<u8>> {
        found
            .iter()
            .filter_map(|f| match f {
                Found::Token { bytes, .. } => Some(bytes.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn each_header_carries_tokens() {
        let m = synth::Messages::sample();
        let b64 = http::encode_token;
        for header in ["Authorization", "Proxy-Authorization", "authorization"] {
            let req = format!(
                "GET / HTTP/1.1\r\nHost: x\r\n{header}: NTLM {}\r\n\r\n",
                b64(&m.negotiate)
            );
            let (found, _) = run(&[req.as_bytes()]);
            assert_eq!(tokens(&found), vec![m.negotiate.clone()], "{header}");
        }
        for header in ["WWW-Authenticate", "Proxy-Authenticate"] {
            let resp = format!(
                "HTTP/1.1 407 Auth\r\n{header}: Negotiate {}\r\n{header}: NTLM\r\nContent-Length: 5\r\n\r\nhello",
                b64(&ntlm_gss::spnego::wrap_resp(&m.challenge))
            );
            let (found, _) = run(&[resp.as_bytes()]);
            assert_eq!(
                tokens(&found),
                vec![ntlm_gss::spnego::wrap_resp(&m.challenge)]
            );
            assert!(found.contains(&Found::Result(CarrierResult::Http { status: 407 })));
        }
        // A list of challenges in one header, unpadded base64.
        let t = b64(&m.challenge);
        let resp = format!(
            "HTTP/1.1 401 x\r\nWWW-Authenticate: Basic realm=\"r\", NTLM {}\r\nContent-Length: 0\r\n\r\n",
            t.trim_end_matches('=')
        );
        let (found, _) = run(&[resp.as_bytes()]);
        assert_eq!(tokens(&found), vec![m.challenge.clone()]);
    }

    #[test]
    fn bodies_are_skipped_by_length_and_chunks() {
        let m = synth::Messages::sample();
        let b64 = http::encode_token(&m.authenticate);
        let stream = format!(
            "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nNTLM \r\n10;ext=1\r\nAuthorization: N\r\n0\r\nX-T: 1\r\n\r\n\
             POST /b HTTP/1.1\r\nContent-Length: 30\r\n\r\nAuthorization: NTLM TlRMTVNT\r\n\
             GET /c HTTP/1.1\r\nAuthorization: NTLM {b64}\r\n\r\n"
        );
        // Fed whole and byte by byte: the same single token.
        let (found, _) = run(&[stream.as_bytes()]);
        assert_eq!(tokens(&found), vec![m.authenticate.clone()]);
        let bytes: Vec<&[u8]> = stream.as_bytes().chunks(1).collect();
        let (found, _) = run(&bytes);
        assert_eq!(tokens(&found), vec![m.authenticate.clone()]);
    }

    #[test]
    fn head_interim_and_tunnels() {
        let mut shared = Shared::default();
        let mut req = super::super::Direction::new(super::super::Kind::Http, 1 << 20);
        let mut resp = super::super::Direction::new(super::super::Kind::Http, 1 << 20);
        let mut out = Vec::new();
        req.feed(
            b"HEAD / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n",
            &mut shared,
            &mut out,
        );
        resp.feed(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nHTTP/1.1 204 No\r\n\r\n",
            &mut shared,
            &mut out,
        );
        let statuses: Vec<_> = out
            .iter()
            .filter_map(|f| match f {
                Found::Result(CarrierResult::Http { status }) => Some(*status),
                _ => None,
            })
            .collect();
        assert_eq!(statuses, vec![100, 200, 204]);
        req.feed(b"CONNECT h:443 HTTP/1.1\r\n\r\n", &mut shared, &mut out);
        resp.feed(
            b"HTTP/1.1 200 OK\r\n\r\n\x16\x03\x01",
            &mut shared,
            &mut out,
        );
        assert!(resp.parser.is_scan());
    }

    #[test]
    fn bad_base64_is_a_problem_naming_the_offset() {
        let (found, _) = run(&[b"GET / HTTP/1.1\r\nAuthorization: NTLM TlRM*TVNT\r\n\r\n"]);
        let Found::Problem { layer, message } = &found[0] else {
            panic!("{found:?}");
        };
        assert_eq!(*layer, "http");
        assert!(message.contains("offset 16"), "{message}");
        assert!(
            message.contains("(invalid character '*' at offset 9)"),
            "{message}"
        );
    }

    #[test]
    fn not_http_falls_back_to_the_scan() {
        let (_, _) = run(&[b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"]);
        let mut d = super::super::Direction::new(super::super::Kind::Http, 1 << 20);
        d.feed(
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
            &mut Shared::default(),
            &mut Vec::new(),
        );
        assert!(d.parser.is_scan());
    }
}
