//! `ntlmsim serve http` (docs/CLI.md): an HTTP server that authenticates
//! clients with NTLM and logs one record per handshake.
//!
//! HTTP is hyper's (HTTP/1.1, keep-alive); NTLM state lives in one
//! [`ntlmsim::serve::Connection`] per TCP connection, because NTLM over HTTP
//! authenticates the connection. Records go to standard output (JSON Lines
//! with `--json`); the listening address and the shutdown summary go to
//! standard error.

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Args, Subcommand};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use ntlm_policy::{LmCompatibilityLevel, MinSessionSecurity, Semantics};
use ntlm_session::MemoryStore;
use ntlmsim::parse;
use ntlmsim::profiles::Catalog;
use ntlmsim::serve::{Acceptor, Connection, Limits, Record, Reply, WrapMode};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::{CliError, Status};

/// Serve NTLM-authenticated protocols (`http`).
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(subcommand)]
    what: ServeWhat,
}

#[derive(Debug, Subcommand)]
enum ServeWhat {
    /// An HTTP server that authenticates clients with NTLM and logs every handshake
    Http(Box<HttpArgs>),
}

/// An HTTP server that authenticates clients with NTLM.
#[derive(Debug, Args)]
#[command(after_help = "\
Each TCP connection authenticates once (NEGOTIATE -> 401 with the CHALLENGE -> AUTHENTICATE),
then every request on it gets 200. Answers: 401 with `WWW-Authenticate: NTLM` (and the CHALLENGE),
200 once authenticated, 400 for an unreadable Authorization header, 503 (Retry-After: 1) when
--max-handshakes connections already wait for their AUTHENTICATE.
Session security check: on an authenticated connection, a request with `X-NTLM-Wrap: seal` (or
`sign`) whose body is a 16-byte signature followed by the sealed (or clear) data is unsealed (or
verified) with the server's keys and answered 200 with `ntlmsim: ` + the data, sealed (or signed)
the same way; 400 when it does not verify.
One record per handshake on standard output (JSON Lines with --json): client address, user,
domain, workstation, client version, offered/challenge/negotiated flags, response kind, MIC,
the outcome under the enforced policy and under each --what-if-server-min mask.
The listening address goes to standard error (`listening on http://ADDR/`; port 0 picks a free
port). Ctrl-C or SIGTERM stops accepting, lets open requests finish (5 s at most), prints a
summary to standard error and exits 0. Exit code 2 for bad options or an address in use.")]
pub(crate) struct HttpArgs {
    /// Address to listen on, ADDR:PORT (e.g. 127.0.0.1:8080, [::1]:0)
    #[arg(long, value_name = "ADDR:PORT")]
    listen: SocketAddr,
    /// The password of any user
    #[arg(long, conflicts_with = "user_file")]
    password: Option<String>,
    /// Accounts: DOMAIN:USER:PASSWORD lines, or smbpasswd lines with NT hashes
    #[arg(long, value_name = "FILE")]
    user_file: Option<PathBuf>,
    /// NtlmMinServerSec to enforce (default: none, 0)
    #[arg(long, value_name = "MASK")]
    server_min: Option<String>,
    /// Also judge every handshake under this NtlmMinServerSec (repeatable)
    #[arg(long, value_name = "MASK")]
    what_if_server_min: Vec<String>,
    /// LmCompatibilityLevel, 0..5 (default: the profile's)
    #[arg(long, value_name = "N")]
    server_lm_level: Option<String>,
    /// Server profile (see `ntlmsim profiles`)
    #[arg(long, value_name = "PROFILE", default_value = "windows-11")]
    server: String,
    /// Policy semantics where Windows behaviour is unconfirmed (see `ntlmsim policy semantics`)
    #[arg(long, value_name = "NAME", default_value = "calibrated")]
    semantics: String,
    /// Connections that may wait for their AUTHENTICATE at once
    #[arg(long, value_name = "N", default_value_t = Limits::DEFAULT_MAX_PENDING)]
    max_handshakes: usize,
    /// Seconds a CHALLENGE stays valid
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::DEFAULT_CHALLENGE_LIFETIME_MS / 1000)]
    challenge_lifetime: u64,
    /// Records as JSON Lines
    #[arg(long)]
    json: bool,
}

/// The longest request body read (and discarded), so keep-alive survives a POST.
const MAX_BODY: usize = 1 << 20;

fn bad(what: &str, e: impl std::fmt::Display) -> CliError {
    CliError::new(format!("{what}: {e}"))
}

fn acceptor(a: &HttpArgs) -> Result<Acceptor, CliError> {
    let catalog = Catalog::builtin().map_err(|e| bad("built-in profiles", e))?;
    let store = match (&a.password, &a.user_file) {
        (Some(p), None) => MemoryStore::any_user(p),
        (None, Some(path)) => {
            let what = format!("--user-file {}", path.display());
            let text = std::fs::read_to_string(path).map_err(|e| bad(&what, e))?;
            MemoryStore::parse_user_file(&text).map_err(|e| bad(&what, e))?
        }
        _ => return Err(CliError::new("serve http needs --password or --user-file")),
    };
    let profile = catalog.get(&a.server).ok_or_else(|| {
        CliError::new(format!(
            "unknown profile {:?}; known: {}",
            a.server,
            catalog.names()
        ))
    })?;
    let mut s = profile
        .server_settings(Arc::new(store))
        .ok_or_else(|| CliError::new(format!("profile {:?} cannot be a server", a.server)))?;
    s.semantics = a
        .semantics
        .parse::<Semantics>()
        .map_err(|e| bad("--semantics", e))?;
    // CLI convention: no --server-min means no minimum, whatever the profile's default.
    s.min = match &a.server_min {
        Some(m) => mask(m, "--server-min")?,
        None => MinSessionSecurity::from_registry(0),
    };
    if let Some(l) = &a.server_lm_level {
        s.config.lm_level =
            LmCompatibilityLevel::parse(l).map_err(|e| bad("--server-lm-level", e))?;
    }
    let what_if = a
        .what_if_server_min
        .iter()
        .map(|m| mask(m, "--what-if-server-min"))
        .collect::<Result<Vec<_>, _>>()?;
    if a.max_handshakes == 0 {
        return Err(CliError::new("--max-handshakes must be at least 1"));
    }
    let limits = Limits {
        max_pending: a.max_handshakes,
        challenge_lifetime_ms: a.challenge_lifetime.saturating_mul(1000),
    };
    Ok(Acceptor::new(s, what_if, limits))
}

fn mask(s: &str, what: &str) -> Result<MinSessionSecurity, CliError> {
    MinSessionSecurity::parse(s)
        .map(|p| p.mask)
        .map_err(|e| bad(what, e))
}

/// Runs `serve ...`.
pub(crate) fn run(args: &ServeArgs, out: &mut dyn Write) -> Result<Status, CliError> {
    match &args.what {
        ServeWhat::Http(a) => http(a, out),
    }
}

fn http(a: &HttpArgs, out: &mut dyn Write) -> Result<Status, CliError> {
    let acceptor = Arc::new(acceptor(a)?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| bad("cannot start the runtime", e))?;
    rt.block_on(serve(a, acceptor, out))
}

/// Totals for the shutdown summary.
#[derive(Debug, Default)]
struct Totals {
    handshakes: u64,
    failed: u64,
    what_if_failed: u64,
}

async fn serve(
    a: &HttpArgs,
    acceptor: Arc<Acceptor>,
    out: &mut dyn Write,
) -> Result<Status, CliError> {
    let listener = TcpListener::bind(a.listen)
        .await
        .map_err(|e| bad(&format!("cannot listen on {}", a.listen), e))?;
    let local = listener
        .local_addr()
        .map_err(|e| bad("cannot read the listening address", e))?;
    eprintln!("listening on http://{local}/");
    let (tx, mut rx) = mpsc::unbounded_channel::<Record>();
    let graceful = GracefulShutdown::new();
    let started = Instant::now();
    let mut totals = Totals::default();
    let mut shutdown = std::pin::pin!(shutdown_signal());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        // Out of descriptors and the like: keep serving.
                        eprintln!("warning: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let conn = Arc::new(Mutex::new((
                    Connection::new(Arc::clone(&acceptor), peer.to_string()),
                    ChaCha20Rng::from_os_rng(),
                )));
                let tx = tx.clone();
                let service = service_fn(move |req| {
                    handle(req, Arc::clone(&conn), tx.clone(), started)
                });
                let connection = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(30))
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service);
                let watched = graceful.watch(connection);
                tokio::spawn(async move {
                    // A client that goes away mid-request is its own business.
                    let _ = watched.await;
                });
            }
            Some(record) = rx.recv() => write_record(&record, a.json, out, &mut totals)?,
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    eprintln!("shutting down: waiting for open connections (5 s at most)");
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
    drop(tx);
    while let Ok(record) = rx.try_recv() {
        write_record(&record, a.json, out, &mut totals)?;
    }
    eprintln!(
        "{} handshakes: {} succeeded, {} failed; {} would fail under a what-if policy",
        totals.handshakes,
        totals.handshakes.saturating_sub(totals.failed),
        totals.failed,
        totals.what_if_failed
    );
    Ok(Status::Success)
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn write_record(
    record: &Record,
    json: bool,
    out: &mut dyn Write,
    totals: &mut Totals,
) -> Result<(), CliError> {
    totals.handshakes = totals.handshakes.saturating_add(1);
    if !record.succeeded() {
        totals.failed = totals.failed.saturating_add(1);
    }
    if record.what_if.iter().any(|w| !w.outcome.is_success()) {
        totals.what_if_failed = totals.what_if_failed.saturating_add(1);
    }
    let line = if json {
        serde_json::to_string(record).map_err(|e| bad("cannot encode a record", e))?
    } else {
        record.line()
    };
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| bad("cannot write the log", e))
}

type Shared = Arc<Mutex<(Connection, ChaCha20Rng)>>;

async fn handle(
    req: Request<Incoming>,
    conn: Shared,
    log: mpsc::UnboundedSender<Record>,
    started: Instant,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let authorization = match req
        .headers()
        .get(header::AUTHORIZATION)
        .map(HeaderValue::to_str)
    {
        None => None,
        Some(Ok(v)) => Some(v.to_owned()),
        Some(Err(_)) => {
            return Ok(text(
                StatusCode::BAD_REQUEST,
                "Authorization: the header is not ASCII\n",
            ));
        }
    };
    let wrap = match req.headers().get("x-ntlm-wrap").map(HeaderValue::to_str) {
        None => None,
        Some(v) => match v.ok().and_then(WrapMode::parse) {
            Some(m) => Some(m),
            None => {
                return Ok(text(
                    StatusCode::BAD_REQUEST,
                    "X-NTLM-Wrap: expected `seal` or `sign`\n",
                ));
            }
        },
    };
    // Read the body (so the connection stays usable, and for X-NTLM-Wrap).
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(text(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large or was cut short\n",
            ));
        }
    };
    if let Some(mode) = wrap {
        let reply = {
            let mut guard = conn.lock().unwrap_or_else(PoisonError::into_inner);
            guard.0.on_wrap(mode, &body)
        };
        return Ok(response(&reply));
    }
    let now_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let (reply, record) = {
        let mut guard = conn.lock().unwrap_or_else(PoisonError::into_inner);
        let (c, rng) = &mut *guard;
        c.on_request(authorization.as_deref(), rng, parse::filetime_now(), now_ms)
    };
    if let Some(r) = record {
        let _ = log.send(r);
    }
    Ok(response(&reply))
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_owned())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn response(reply: &Reply) -> Response<Full<Bytes>> {
    match reply {
        Reply::Unauthorized { challenge, reason } => {
            let mut r = text(StatusCode::UNAUTHORIZED, &format!("{reason}\n"));
            let value = match challenge {
                Some((scheme, b64)) => HeaderValue::from_str(&format!("{} {b64}", scheme.as_str())),
                None => Ok(HeaderValue::from_static("NTLM")),
            };
            if let Ok(v) = value {
                r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
            r
        }
        Reply::Ok { account } => text(
            StatusCode::OK,
            &format!("authenticated as {account}: this connection is authenticated with NTLM\n"),
        ),
        Reply::BadRequest(why) => text(StatusCode::BAD_REQUEST, &format!("{why}\n")),
        Reply::Data(data) => {
            let mut r = Response::new(Full::new(Bytes::from(data.clone())));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            r
        }
        Reply::Busy => {
            let mut r = text(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many NTLM handshakes in progress; try again\n",
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            r
        }
    }
}
