//! `ntlmsim probe http URL` (docs/CLI.md): asks a real HTTP server for its
//! NTLM CHALLENGE, judges it under the client policy, and with credentials
//! completes the authentication on the same connection.
//!
//! HTTP is hyper's client over one TCP connection: NTLM over HTTP
//! authenticates the connection, so the NEGOTIATE and the AUTHENTICATE must
//! travel on the same one (MS-NTHT 2.1).

use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use clap::{Args, Subcommand};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::header::{self, HeaderValue};
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use ntlm_gss::http::{self, Scheme};
use ntlm_policy::{LmCompatibilityLevel, MinSessionSecurity};
use ntlm_report::json::{self, MessageJson};
use ntlm_report::outcome::render_success;
use ntlm_report::{render, sink};
use ntlm_session::{ClientDriver, Credentials, Step};
use ntlm_sim::outcome::OutcomeJson;
use ntlm_sim::profiles::Catalog;
use ntlm_wire::Message;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use serde::Serialize;
use tokio::net::TcpStream;

use super::args::SemanticsArg;
use super::{CliError, Status};

/// Probe servers that offer NTLM (`http`).
#[derive(Debug, Args)]
pub(crate) struct ProbeArgs {
    #[command(subcommand)]
    what: ProbeWhat,
}

#[derive(Debug, Subcommand)]
enum ProbeWhat {
    /// Probe an HTTP server that offers NTLM
    Http(Box<HttpArgs>),
}

/// Probe an HTTP server that offers NTLM.
#[derive(Debug, Args)]
#[command(after_help = "\
Sends `Authorization: NTLM <NEGOTIATE>` and decodes the CHALLENGE of the 401 answer (flags, target
info, version), then judges it as the client profile would under --client-min. With --user and
--password it sends the AUTHENTICATE on the same connection and reports the server's answer.
Only http:// URLs (NTLM over TLS would need channel bindings this probe does not compute).
Exit code 0: the CHALLENGE is acceptable (and, with credentials, the server answered 2xx);
1: the client policy refuses the CHALLENGE, the server refused the NEGOTIATE or the
AUTHENTICATE, or it dropped the connection between them; 2: bad options, connection errors, or a
server that does not offer NTLM.")]
pub(crate) struct HttpArgs {
    /// The URL to probe (http://HOST[:PORT]/PATH)
    url: String,
    /// User name (with --password: complete the authentication)
    #[arg(long, requires = "password")]
    user: Option<String>,
    /// Domain name
    #[arg(long, default_value = "")]
    domain: String,
    /// Password
    #[arg(long, requires = "user")]
    password: Option<String>,
    /// NtlmMinClientSec (default: none, 0)
    #[arg(long, value_name = "MASK")]
    client_min: Option<MinSessionSecurity>,
    /// LmCompatibilityLevel, 0..5 (default: the profile's)
    #[arg(long, value_name = "N")]
    client_lm_level: Option<LmCompatibilityLevel>,
    /// Client profile (see `ntlmsim profiles`)
    #[arg(long, value_name = "PROFILE", default_value = "windows-11")]
    client: String,
    #[command(flatten)]
    semantics: SemanticsArg,
    /// Seconds to wait for the connection and for each answer
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    timeout: u64,
    /// One JSON document
    #[arg(long)]
    json: bool,
}

/// The probe's findings (`--json`).
#[derive(Debug, Serialize)]
struct ProbeJson {
    url: String,
    server: String,
    /// HTTP status of the answer to the NEGOTIATE.
    negotiate_status: u16,
    /// The CHALLENGE, decoded (`null` when the server sent none).
    challenge: Option<MessageJson>,
    /// The client's verdict on the CHALLENGE (`null` without a CHALLENGE).
    client_outcome: Option<OutcomeJson>,
    /// The AUTHENTICATE leg (`null` without credentials or after a refusal).
    authentication: Option<AuthJson>,
    /// One-line summary.
    result: String,
}

#[derive(Debug, Serialize)]
struct AuthJson {
    http_status: u16,
    accepted: bool,
}

/// Runs `probe ...`.
pub(crate) fn run(args: &ProbeArgs, out: &mut dyn Write) -> Result<Status, CliError> {
    match &args.what {
        ProbeWhat::Http(a) => http(a, out),
    }
}

/// The parts of an `http://` URL the probe needs.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    host: String,
    port: u16,
    path: String,
    authority: String,
}

fn target(url: &str) -> Result<Target, CliError> {
    let uri: Uri = url
        .parse()
        .map_err(|e| CliError::bad(&format!("URL {url:?}"), e))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some(other) => {
            return Err(CliError::new(format!(
                "URL {url:?}: scheme {other:?} is not supported; probe an http:// endpoint"
            )));
        }
        None => {
            return Err(CliError::new(format!(
                "URL {url:?}: needs a scheme, e.g. http://host:8080/"
            )));
        }
    }
    let Some(authority) = uri.authority() else {
        return Err(CliError::new(format!("URL {url:?}: needs a host")));
    };
    Ok(Target {
        host: authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port: authority.port_u16().unwrap_or(80),
        path: uri
            .path_and_query()
            .map_or_else(|| String::from("/"), |p| p.as_str().to_owned()),
        authority: authority.as_str().to_owned(),
    })
}

/// What a `WWW-Authenticate` answer offers.
#[derive(Debug, PartialEq, Eq)]
enum Offer {
    /// `NTLM <token>` or `Negotiate <token>`: the scheme and the token.
    Token(Scheme, Vec<u8>),
    /// `NTLM` or `Negotiate` without a token.
    Bare,
    /// Neither scheme.
    None,
}

/// Finds the NTLM token among `WWW-Authenticate` values, each a list of
/// challenges read by the rule of [`ntlm_gss::http`].
fn offer<'a>(values: impl Iterator<Item = &'a str>) -> Result<Offer, CliError> {
    let mut found = Offer::None;
    for challenge in values.flat_map(http::challenges) {
        let Some(scheme) = challenge.scheme() else {
            continue;
        };
        match challenge.token() {
            None => {
                if found == Offer::None {
                    found = Offer::Bare;
                }
            }
            Some(Ok(bytes)) => return Ok(Offer::Token(scheme, bytes)),
            Some(Err(e)) => {
                return Err(CliError::bad(
                    &format!("WWW-Authenticate: the {scheme} token is not valid base64"),
                    e,
                ));
            }
        }
    }
    Ok(found)
}

fn http(a: &HttpArgs, out: &mut dyn Write) -> Result<Status, CliError> {
    let t = target(&a.url)?;
    let catalog = Catalog::builtin().map_err(|e| CliError::bad("built-in profiles", e))?;
    let profile = catalog.get(&a.client).ok_or_else(|| {
        CliError::new(format!(
            "unknown profile {:?}; known: {}",
            a.client,
            catalog.names()
        ))
    })?;
    // Without credentials the AUTHENTICATE is built (so every client check
    // runs) but never sent.
    let credentials = match (&a.user, &a.password) {
        (Some(u), Some(p)) => Credentials::password(u, &a.domain, p),
        _ => Credentials::password("probe", &a.domain, ""),
    };
    let mut settings = profile
        .client_settings(credentials)
        .ok_or_else(|| CliError::new(format!("profile {:?} cannot be a client", a.client)))?;
    settings.semantics = a.semantics.semantics;
    // CLI convention: no --client-min means no minimum, whatever the profile's default.
    settings.min = a.client_min.unwrap_or(MinSessionSecurity::from_registry(0));
    if let Some(l) = a.client_lm_level {
        settings.config.lm_level = l;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::bad("cannot start the runtime", e))?;
    let report = rt.block_on(probe(a, &t, ClientDriver::new(settings)))?;
    let status = if report.ok {
        Status::Success
    } else {
        Status::Negative
    };
    if a.json {
        let s = serde_json::to_string_pretty(&report.json).map_err(|e| CliError::bad("JSON", e))?;
        writeln!(out, "{s}").map_err(|e| CliError::bad("output", e))?;
    } else {
        out.write_all(report.human.as_bytes())
            .map_err(|e| CliError::bad("output", e))?;
    }
    Ok(status)
}

struct Report {
    ok: bool,
    json: ProbeJson,
    human: String,
}

/// One HTTP exchange on the connection: the status and the NTLM offer.
async fn send(
    sender: &mut hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    t: &Target,
    authorization: &str,
    wait: Duration,
) -> Result<(StatusCode, Offer), String> {
    let req = Request::get(t.path.as_str())
        .header(header::HOST, t.authority.as_str())
        .header(header::AUTHORIZATION, authorization)
        .header(
            header::USER_AGENT,
            concat!("ntlmsim/", env!("CARGO_PKG_VERSION")),
        )
        .body(Empty::<Bytes>::new())
        .map_err(|e| format!("cannot build the request: {e}"))?;
    let resp = tokio::time::timeout(wait, sender.send_request(req))
        .await
        .map_err(|_| String::from("no answer in time"))?
        .map_err(|e| format!("the request failed: {e}"))?;
    let status = resp.status();
    let values: Vec<String> = resp
        .headers()
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v: &HeaderValue| v.to_str().ok().map(str::to_owned))
        .collect();
    // Read the body so the connection can carry the next request.
    let _ = tokio::time::timeout(wait, Limited::new(resp.into_body(), 1 << 20).collect()).await;
    let offer = offer(values.iter().map(String::as_str)).map_err(|e| e.to_string())?;
    Ok((status, offer))
}

async fn probe(a: &HttpArgs, t: &Target, mut client: ClientDriver) -> Result<Report, CliError> {
    let wait = Duration::from_secs(a.timeout.max(1));
    let addr = format!("{}:{}", t.host, t.port);
    let stream = tokio::time::timeout(wait, TcpStream::connect((t.host.as_str(), t.port)))
        .await
        .map_err(|_| CliError::new(format!("cannot connect to {addr}: timed out")))?
        .map_err(|e| CliError::bad(&format!("cannot connect to {addr}"), e))?;
    let server = stream.peer_addr().map_or(addr, |p| p.to_string());
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| CliError::bad(&format!("HTTP with {server}"), e))?;
    let driver = tokio::spawn(connection);

    let mut rng = ChaCha20Rng::from_os_rng();
    let now = super::system::filetime_now();
    let negotiate = match client.step(&[], &mut rng, now) {
        Ok(Step::Send(n)) => n,
        Ok(Step::Done) => return Err(CliError::new("the client produced no NEGOTIATE")),
        Err(f) => {
            return Err(CliError::new(format!(
                "the client refuses to start: {}",
                f.reason()
            )));
        }
    };
    let (status, offer) = send(
        &mut sender,
        t,
        &http::header_value(Scheme::Ntlm, &negotiate),
        wait,
    )
    .await
    .map_err(|e| CliError::new(format!("{server}: {e}")))?;
    let mut human = format!(
        "server {} ({})\n",
        sink::terminal(&server),
        sink::terminal(&a.url)
    );
    let mut json = ProbeJson {
        url: a.url.clone(),
        server: server.clone(),
        negotiate_status: status.as_u16(),
        challenge: None,
        client_outcome: None,
        authentication: None,
        result: String::new(),
    };
    let challenge = match offer {
        Offer::Token(_, c) => c,
        Offer::Bare => {
            json.result = format!(
                "the server refused the NEGOTIATE: HTTP {} offering NTLM again without a CHALLENGE",
                status.as_u16()
            );
            human.push_str(&format!("{}\n", sink::terminal(&json.result)));
            driver.abort();
            return Ok(Report {
                ok: false,
                json,
                human,
            });
        }
        Offer::None => {
            driver.abort();
            return Err(CliError::new(format!(
                "{server}: HTTP {} without an NTLM or Negotiate challenge; the server does not offer NTLM here",
                status.as_u16()
            )));
        }
    };
    let msg = Message::parse_lenient(&challenge)
        .map_err(|e| CliError::bad(&format!("{server}: the CHALLENGE"), e))?;
    if !matches!(msg, Message::Challenge(_)) {
        return Err(CliError::new(format!(
            "{server}: WWW-Authenticate carries a NEGOTIATE or AUTHENTICATE, not a CHALLENGE"
        )));
    }
    json.challenge = Some(json::message(&challenge, &msg));
    human.push_str(&render::message(&challenge, &msg));
    let authenticate = match client.step(&challenge, &mut rng, now) {
        Ok(Step::Send(auth)) => auth,
        Ok(Step::Done) => return Err(CliError::new("the client produced no AUTHENTICATE")),
        Err(f) => {
            json.client_outcome = Some(OutcomeJson::failure(&f));
            json.result = format!("the client refuses the CHALLENGE: {}", f.reason());
            human.push_str(&f.details().to_string());
            driver.abort();
            return Ok(Report {
                ok: false,
                json,
                human,
            });
        }
    };
    if let Some(e) = client.established() {
        json.client_outcome = Some(OutcomeJson::success(&e.report, None));
        human.push_str("client verdict on the CHALLENGE: acceptable\n");
        human.push_str(
            &render_success(&e.report)
                .replace(
                    "SUCCESS: the server authenticated",
                    "the client would authenticate",
                )
                .replace("MIC verified", "MIC sent")
                .replace("MIC not checked (none announced)", "MIC not sent"),
        );
    }
    if a.user.is_none() {
        json.result = String::from(
            "the CHALLENGE is acceptable to the client; no credentials, so no AUTHENTICATE sent",
        );
        human.push_str(&format!("{}\n", sink::terminal(&json.result)));
        driver.abort();
        return Ok(Report {
            ok: true,
            json,
            human,
        });
    }
    let answer = send(
        &mut sender,
        t,
        &http::header_value(Scheme::Ntlm, &authenticate),
        wait,
    )
    .await;
    driver.abort();
    let (ok, result) = match answer {
        Ok((status, _)) => {
            let accepted = status.is_success();
            json.authentication = Some(AuthJson {
                http_status: status.as_u16(),
                accepted,
            });
            let r = if accepted {
                format!(
                    "authenticated: the server answered the AUTHENTICATE with HTTP {}",
                    status.as_u16()
                )
            } else {
                format!(
                    "the server refused the AUTHENTICATE: HTTP {}",
                    status.as_u16()
                )
            };
            (accepted, r)
        }
        Err(e) => (
            false,
            format!("the AUTHENTICATE could not be sent on the same connection: {e}"),
        ),
    };
    json.result = result;
    human.push_str(&format!("{}\n", sink::terminal(&json.result)));
    Ok(Report { ok, json, human })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = target("http://127.0.0.1:8080/a?b=c").unwrap();
        assert_eq!(
            t,
            Target {
                host: "127.0.0.1".into(),
                port: 8080,
                path: "/a?b=c".into(),
                authority: "127.0.0.1:8080".into()
            }
        );
        let t = target("http://[::1]/").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 80));
        assert!(
            target("https://x/")
                .unwrap_err()
                .to_string()
                .contains("https")
        );
        assert!(target("x:8080").is_err());
        assert!(target("not a url").is_err());
    }

    #[test]
    fn offers() {
        let tok = http::encode_token(b"NTLMSSP\0");
        let v = format!("Basic realm=\"x\", NTLM {tok}");
        assert_eq!(
            offer([v.as_str()].into_iter()).unwrap(),
            Offer::Token(Scheme::Ntlm, b"NTLMSSP\0".to_vec())
        );
        // Unpadded, lowercase scheme, in a second header value.
        let unpadded = format!("ntlm {}", tok.trim_end_matches('='));
        assert_eq!(
            offer(["Basic", unpadded.as_str()].into_iter()).unwrap(),
            Offer::Token(Scheme::Ntlm, b"NTLMSSP\0".to_vec())
        );
        assert_eq!(
            offer(["Negotiate", "NTLM"].into_iter()).unwrap(),
            Offer::Bare
        );
        assert_eq!(
            offer(["Basic realm=\"x\""].into_iter()).unwrap(),
            Offer::None
        );
        let e = offer(["NTLM ***"].into_iter()).unwrap_err().to_string();
        assert!(e.contains("base64"), "{e}");
    }
}
