//! `ntlmsim serve http` (docs/CLI.md): an HTTP server that authenticates
//! clients with NTLM and logs one record per handshake.
//!
//! HTTP is hyper's (HTTP/1.1, keep-alive); NTLM state lives in one
//! [`ntlm_sim::serve::Connection`] per TCP connection, because NTLM over HTTP
//! authenticates the connection. Records go to standard output (JSON Lines
//! with `--json`); the listening address and the shutdown summary go to
//! standard error.
//!
//! Hostile clients (docs/SECURITY.md): every bound is decided by the sans-IO
//! types of [`ntlm_sim::serve`]; this adapter applies them. Records are
//! written by a thread of their own through a bounded queue, so a slow or
//! blocked standard output never stops serving nor shutdown: when the queue
//! is full a record is dropped and counted, and shutdown waits for the
//! writer a bounded time.

use std::convert::Infallible;
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Args, Subcommand};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use ntlm_policy::{LmCompatibilityLevel, MinSessionSecurity};
use ntlm_session::MemoryStore;
use ntlm_sim::profiles::Catalog;
use ntlm_sim::serve::{
    Acceptor, BodyReservation, Connection, FailureLimiter, GateRefusal, Limits, LogEntry, Record,
    Reply, Verdict, WrapMode, client_key,
};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

use super::args::SemanticsArg;
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
--max-handshakes connections already wait for their AUTHENTICATE and this client address holds
at least as many of them as any other (otherwise the oldest pending handshake of the address
holding the most is withdrawn to make room). An unknown account and a wrong password get the same
401 (STATUS_LOGON_FAILURE); the record keeps the difference. The Authorization header is read
as every ntlmsim command reads one: `NTLM` or `Negotiate` in any case, then the raw NTLMSSP
message in base64 (standard or URL-safe alphabet, padding optional); a SPNEGO token gets 400.
Session security check: on an authenticated connection, a request with `X-NTLM-Wrap: seal` (or
`sign`) whose body is a 16-byte signature followed by the sealed (or clear) data is unsealed (or
verified) with the server's keys and answered 200 with `ntlmsim: ` + the data, sealed (or signed)
the same way; 400 when it does not verify.
Bounds: a connection beyond --max-connections (or --max-connections-per-ip from one address; IPv6
counted per /64) gets 503 and is closed; headers (and the next request on an idle connection) must
arrive within --header-timeout, a body within --body-timeout (else 408, connection closed), and an
answer must not wait longer than --send-timeout for the client to read (else closed); a
request head over 128 KiB gets 431, a body over 1 MiB 413; X-NTLM-Wrap bodies held in memory by all connections together are bounded by
--max-body-memory (503 beyond); other bodies are read and discarded.
One record per handshake on standard output (JSON Lines with --json): client address, user,
domain, workstation, client version, offered/challenge/negotiated flags, response kind, MIC,
the outcome under the enforced policy and under each --what-if-server-min mask (a failure lists
each missing bit with its own rule), and what is assumed of the --server profile as a server
(`assumed`: the human line names the profile, the facts go to standard error at start-up). Control and
invisible formatting characters in names from the wire are escaped (`\\n`, `\\u{1b}`; `\\u001b` in
JSON), so one record is always one line; names are cut to 256 characters
(`truncated` lists the cut fields with their length in bytes); an undecodable name is given as
hex (`user_raw`, `domain_raw`, `workstation_raw`). Failure records are limited to 10
per client address, then one per second; a `warning` line counts those suppressed (before the
next failure record of that address, every 10 s, and at shutdown). Records are
written by their own thread through a queue (--log-queue): when standard output does not keep up,
records are dropped and a `warning` line counts them. In JSON, such lines have a `warning` key
(`suppressed` or `dropped`), `count`, `message` and, for `suppressed`, `client`.
TLS: --tls serves HTTPS with a certificate generated at start-up (self-signed, ECDSA P-256, for
localhost, 127.0.0.1, ::1 and the listen address; --cert-out writes it as PEM), or with
--cert/--key (PEM files). The TLS handshake must finish within --header-timeout. Extended
Protection (--extended-protection allow|require) checks MsvAvChannelBindings against the
connection's tls-server-end-point bindings (RFC 5929: the hash of the server certificate; printed
to standard error); without TLS there is nothing to bind to and it checks nothing.
The listening address goes to standard error (`listening on http://ADDR/` or `https://`; port 0
picks a free port). Ctrl-C or SIGTERM stops accepting, lets open requests finish (5 s at most; a second signal
stops waiting), waits 2 s at most for the log to be written, prints a summary to standard error
(handshakes, then what each bound refused, suppressed or dropped) and exits 0. Exit code 2 for bad options or an address in use.")]
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
    server_min: Option<MinSessionSecurity>,
    /// Also judge every handshake under this NtlmMinServerSec (repeatable)
    #[arg(long, value_name = "MASK")]
    what_if_server_min: Vec<MinSessionSecurity>,
    /// LmCompatibilityLevel, 0..5 (default: the profile's)
    #[arg(long, value_name = "N")]
    server_lm_level: Option<LmCompatibilityLevel>,
    /// Server profile (see `ntlmsim profiles`)
    #[arg(long, value_name = "PROFILE", default_value = "windows-11")]
    server: String,
    #[command(flatten)]
    semantics: SemanticsArg,
    /// Connections that may wait for their AUTHENTICATE at once (shared fairly between addresses)
    #[arg(long, value_name = "N", default_value_t = Limits::DEFAULT_MAX_PENDING)]
    max_handshakes: usize,
    /// Seconds a CHALLENGE stays valid
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::DEFAULT_CHALLENGE_LIFETIME_MS / 1000)]
    challenge_lifetime: u64,
    /// Open connections at once
    #[arg(long, value_name = "N", default_value_t = Limits::DEFAULT_MAX_CONNECTIONS)]
    max_connections: usize,
    /// Open connections from one client address at once
    #[arg(long, value_name = "N", default_value_t = Limits::DEFAULT_MAX_CONNECTIONS_PER_IP)]
    max_connections_per_ip: usize,
    /// Seconds for a request's headers to arrive (also the idle keep-alive timeout)
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::DEFAULT_HEADER_TIMEOUT_MS / 1000)]
    header_timeout: u64,
    /// Seconds for a request's body to arrive after its headers
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::DEFAULT_BODY_TIMEOUT_MS / 1000)]
    body_timeout: u64,
    /// Seconds a write to a client may stay blocked (a client that does not read its answers)
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::DEFAULT_SEND_TIMEOUT_MS / 1000)]
    send_timeout: u64,
    /// MiB of X-NTLM-Wrap request bodies held in memory by all connections together
    #[arg(long, value_name = "MIB", default_value_t = Limits::DEFAULT_MAX_BODY_MEMORY >> 20)]
    max_body_memory: usize,
    /// Records waiting to be written; beyond it they are dropped and counted
    #[arg(long, value_name = "N", default_value_t = Limits::DEFAULT_LOG_QUEUE)]
    log_queue: usize,
    /// Records as JSON Lines
    #[arg(long)]
    json: bool,
    /// Serve HTTPS, with a certificate generated at start-up unless --cert/--key are given
    #[arg(long)]
    tls: bool,
    /// TLS certificate chain, PEM (leaf first); implies --tls
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// TLS private key, PEM (PKCS#8, PKCS#1 or SEC1)
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// Write the generated certificate (PEM) to FILE, for clients that verify it
    #[arg(long, value_name = "FILE", conflicts_with = "cert")]
    cert_out: Option<PathBuf>,
    /// IIS Extended Protection: off, allow (IIS "Accept") or require (IIS "Required")
    #[arg(long, value_name = "SETTING", default_value = "off")]
    extended_protection: String,
    /// How an all-zero MsvAvChannelBindings is read under --extended-protection allow: refused
    /// (curl/curl#12511, gssapi/gss-ntlmssp#25) or accepted (MS-NLMP as written)
    #[arg(long, value_name = "READING", default_value = "refused")]
    zero_channel_bindings: String,
}

/// The largest request head hyper buffers (hyper's `max_buf_size`): room
/// for an `Authorization` header carrying a 64 KiB message in base64
/// (87,384 bytes) and the usual headers.
const MAX_HEAD: usize = 128 << 10;

/// How long shutdown lets open requests finish.
const GRACE: Duration = Duration::from_secs(5);

/// How often suppressed-failure counts are written.
const SUMMARY_EVERY: Duration = Duration::from_secs(10);

/// A client socket whose writes may stay blocked for `limit` at most: a
/// client that sends requests and never reads the answers would otherwise
/// hold its connection (and its slot under the caps) for ever, since
/// hyper's header timeout does not run while an answer is being written.
/// Hand-written because neither hyper nor tokio offers a write timeout on
/// a stream; it only wraps `poll_write`/`poll_flush` with one timer.
struct SendDeadline<T> {
    inner: T,
    limit: Duration,
    /// Running while a write is blocked.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<T> SendDeadline<T> {
    const fn new(inner: T, limit: Duration) -> Self {
        Self {
            inner,
            limit,
            stalled: None,
        }
    }

    /// `Pending` from the inner stream: start or check the timer.
    fn blocked<R>(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<R>> {
        let limit = self.limit;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the client did not read its answers",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for SendDeadline<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for SendDeadline<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Pending => self.blocked(cx),
            done => {
                self.stalled = None;
                done
            }
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Pending => self.blocked(cx),
            done => {
                self.stalled = None;
                done
            }
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The answer to a connection beyond the caps, written without waiting
/// (`try_write`) before the socket is closed.
const BUSY_CONNECTION: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\n\
content-type: text/plain; charset=utf-8\r\ncontent-length: 21\r\nconnection: close\r\n\r\n\
too many connections\n";

fn at_least_one(n: u64, what: &str) -> Result<u64, CliError> {
    if n == 0 {
        return Err(CliError::new(format!("{what} must be at least 1")));
    }
    Ok(n)
}

fn limits(a: &HttpArgs) -> Result<Limits, CliError> {
    let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
    at_least_one(n(a.max_handshakes), "--max-handshakes")?;
    at_least_one(n(a.max_connections), "--max-connections")?;
    at_least_one(n(a.max_connections_per_ip), "--max-connections-per-ip")?;
    at_least_one(n(a.max_body_memory), "--max-body-memory")?;
    at_least_one(n(a.log_queue), "--log-queue")?;
    let secs = |v: u64, what: &str| at_least_one(v, what).map(|v| v.saturating_mul(1000));
    Ok(Limits {
        max_pending: a.max_handshakes,
        challenge_lifetime_ms: a.challenge_lifetime.saturating_mul(1000),
        max_connections: a.max_connections,
        max_connections_per_ip: a.max_connections_per_ip,
        header_timeout_ms: secs(a.header_timeout, "--header-timeout")?,
        body_timeout_ms: secs(a.body_timeout, "--body-timeout")?,
        send_timeout_ms: secs(a.send_timeout, "--send-timeout")?,
        max_body_memory: a.max_body_memory.saturating_mul(1 << 20),
        log_queue: a.log_queue,
        ..Limits::default()
    })
}

/// The TLS setup `--tls`, `--cert` and `--key` ask for.
fn tls(a: &HttpArgs) -> Result<Option<crate::tls::Tls>, CliError> {
    let tls = match (&a.cert, &a.key) {
        (Some(c), Some(k)) => crate::tls::Tls::from_pem_files(c, k).map_err(CliError::new)?,
        _ if a.tls => {
            let mut names = vec![
                "localhost".to_owned(),
                "127.0.0.1".to_owned(),
                "::1".to_owned(),
            ];
            let ip = a.listen.ip();
            if !ip.is_unspecified() && !names.contains(&ip.to_string()) {
                names.push(ip.to_string());
            }
            crate::tls::Tls::generate(&names).map_err(CliError::new)?
        }
        _ => return Ok(None),
    };
    if let Some(path) = &a.cert_out {
        std::fs::write(path, tls.certificate_pem())
            .map_err(|e| CliError::bad(&format!("--cert-out {}", path.display()), e))?;
    }
    Ok(Some(tls))
}

fn acceptor(a: &HttpArgs, tls: Option<&crate::tls::Tls>) -> Result<Acceptor, CliError> {
    let catalog = Catalog::builtin().map_err(|e| CliError::bad("built-in profiles", e))?;
    let store = match (&a.password, &a.user_file) {
        (Some(p), None) => MemoryStore::any_user(p),
        (None, Some(path)) => {
            let what = format!("--user-file {}", path.display());
            let text = std::fs::read_to_string(path).map_err(|e| CliError::bad(&what, e))?;
            MemoryStore::parse_user_file(&text).map_err(|e| CliError::bad(&what, e))?
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
    s.semantics = a.semantics.semantics;
    // CLI convention: no --server-min means no minimum, whatever the profile's default.
    s.min = a.server_min.unwrap_or(MinSessionSecurity::from_registry(0));
    if let Some(l) = a.server_lm_level {
        s.config.lm_level = l;
    }
    // Extended Protection over this server's carrier: channel bindings only with TLS.
    let policy = ntlm_sim::binding::policy(
        &[format!("extended-protection={}", a.extended_protection)],
        &a.zero_channel_bindings,
    )
    .map_err(|e| {
        CliError::new(
            e.to_string()
                .replace("--binding: ", "--extended-protection: "),
        )
    })?;
    let carrier = if tls.is_some() {
        ntlm_policy::Carrier::Https
    } else {
        ntlm_policy::Carrier::Http
    };
    s.apply_binding_checks(&policy.checks(carrier), tls.map(|t| t.channel_bindings), "");
    let what_if = a.what_if_server_min.clone();
    Ok(Acceptor::new(s, what_if, limits(a)?)
        .with_assumed(ntlm_sim::profiles::assumed_facts(None, Some(profile))))
}

/// Runs `serve ...`. Records go to standard output from a thread of their
/// own (see the module documentation), so no writer is passed in.
pub(crate) fn run(args: &ServeArgs) -> Result<Status, CliError> {
    match &args.what {
        ServeWhat::Http(a) => http(a),
    }
}

fn http(a: &HttpArgs) -> Result<Status, CliError> {
    let tls = tls(a)?;
    let acceptor = Arc::new(acceptor(a, tls.as_ref())?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::bad("cannot start the runtime", e))?;
    let status = rt.block_on(serve(a, acceptor, tls));
    // Tasks still running (connections past the grace period) are dropped.
    rt.shutdown_timeout(Duration::from_secs(1));
    status
}

/// Counters for the shutdown summary.
#[derive(Debug, Default)]
struct Totals {
    handshakes: AtomicU64,
    failed: AtomicU64,
    what_if_failed: AtomicU64,
    suppressed: AtomicU64,
    refused_total: AtomicU64,
    refused_per_address: AtomicU64,
    body_timeouts: AtomicU64,
    body_refused: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

fn get(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

/// The producing side of the log: rate limit, bounded queue, counters.
#[derive(Debug)]
struct Log {
    queue: std_mpsc::SyncSender<LogEntry>,
    limiter: Mutex<FailureLimiter>,
    /// Dropped since the writer last reported it.
    dropped: Arc<AtomicU64>,
    dropped_total: AtomicU64,
    /// Entries queued.
    queued: AtomicU64,
    /// Entries the writer wrote.
    written: Arc<AtomicU64>,
    totals: Totals,
    started: Instant,
}

impl Log {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Queues `entry` without waiting; a full queue drops it (counted).
    fn push(&self, entry: LogEntry) {
        if self.queue.try_send(entry).is_err() {
            bump(&self.dropped);
            bump(&self.dropped_total);
        } else {
            bump(&self.queued);
        }
    }

    fn record(&self, record: Record, address: std::net::IpAddr) {
        let t = &self.totals;
        bump(&t.handshakes);
        if record.what_if.iter().any(|w| !w.outcome.is_success()) {
            bump(&t.what_if_failed);
        }
        if !record.succeeded() {
            bump(&t.failed);
            let verdict = self
                .limiter
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .admit(address, self.now_ms());
            match verdict {
                Verdict::Suppress => {
                    bump(&t.suppressed);
                    return;
                }
                Verdict::Write { suppressed } if suppressed > 0 => {
                    self.push(LogEntry::Suppressed {
                        client: address,
                        count: suppressed,
                    })
                }
                Verdict::Write { .. } => {}
            }
        }
        self.push(LogEntry::Handshake(Box::new(record)));
    }

    /// Writes the suppressed-failure counts gathered so far.
    fn summaries(&self) {
        let counts = self
            .limiter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(self.now_ms());
        for (client, count) in counts {
            self.push(LogEntry::Suppressed { client, count });
        }
    }
}

/// The log writer: a thread of its own, so that a blocked standard output
/// blocks nothing else. It reports drops once the queue has room again.
/// Returns a receiver that gets a message when everything was written.
fn start_writer(
    json: bool,
    queue: std_mpsc::Receiver<LogEntry>,
    dropped: Arc<AtomicU64>,
    written: Arc<AtomicU64>,
    closing: Arc<AtomicBool>,
) -> Result<std_mpsc::Receiver<()>, CliError> {
    let (done_tx, done_rx) = std_mpsc::channel();
    std::thread::Builder::new()
        .name(String::from("serve-log"))
        .spawn(move || {
            let mut out = std::io::stdout().lock();
            let mut write = |entry: &LogEntry| {
                writeln!(out, "{}", ntlm_report::serve::entry_line(entry, json))
                    .and_then(|()| out.flush())
            };
            loop {
                let entry = match queue.recv_timeout(Duration::from_millis(100)) {
                    Ok(e) => Some(e),
                    Err(std_mpsc::RecvTimeoutError::Timeout) => None,
                    Err(std_mpsc::RecvTimeoutError::Disconnected) => break,
                };
                if let Some(e) = &entry {
                    if write(e).is_err() {
                        // Standard output is gone (closed pipe): nothing more can be
                        // written; the summary counts what was not.
                        break;
                    }
                    bump(&written);
                }
                let lost = dropped.swap(0, Ordering::Relaxed);
                if lost > 0 && write(&LogEntry::Dropped { count: lost }).is_err() {
                    break;
                }
                if entry.is_none() && closing.load(Ordering::Acquire) {
                    break;
                }
            }
            let _ = done_tx.send(());
        })
        .map_err(|e| CliError::bad("cannot start the log writer", e))?;
    Ok(done_rx)
}

async fn serve(
    a: &HttpArgs,
    acceptor: Arc<Acceptor>,
    tls: Option<crate::tls::Tls>,
) -> Result<Status, CliError> {
    let listener = TcpListener::bind(a.listen)
        .await
        .map_err(|e| CliError::bad(&format!("cannot listen on {}", a.listen), e))?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::bad("cannot read the listening address", e))?;
    let limits = acceptor.limits();
    let (queue, rx) = std_mpsc::sync_channel(limits.log_queue);
    let dropped = Arc::new(AtomicU64::new(0));
    let closing = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let finished = start_writer(
        a.json,
        rx,
        Arc::clone(&dropped),
        Arc::clone(&written),
        Arc::clone(&closing),
    )?;
    let started = Instant::now();
    let log = Arc::new(Log {
        queue,
        limiter: Mutex::new(FailureLimiter::new(
            limits.failure_burst,
            limits.failure_interval_ms,
        )),
        dropped,
        dropped_total: AtomicU64::new(0),
        queued: AtomicU64::new(0),
        written,
        totals: Totals::default(),
        started,
    });
    // Polled once before the address is announced, so that the signal
    // handlers are installed before a client (or a test) can signal.
    let mut shutdown = std::pin::pin!(shutdown_signal());
    let signalled_early = tokio::select! {
        biased;
        () = &mut shutdown => true,
        () = std::future::ready(()) => false,
    };
    let tls_acceptor = match &tls {
        Some(t) => {
            eprintln!("listening on https://{local}/");
            eprintln!(
                "TLS: {} certificate, tls-server-end-point {} (MsvAvChannelBindings {}); \
                 Extended Protection {}",
                if t.generated { "generated" } else { "given" },
                hex::encode(&t.end_point_hash),
                hex::encode(t.channel_bindings),
                a.extended_protection
            );
            Some(tokio_rustls::TlsAcceptor::from(Arc::clone(&t.config)))
        }
        None => {
            eprintln!("listening on http://{local}/");
            if !a.extended_protection.eq_ignore_ascii_case("off") {
                eprintln!(
                    "warning: --extended-protection {} checks nothing without --tls: there is no \
                     channel to bind to (rule cbt-tls-only)",
                    a.extended_protection
                );
            }
            None
        }
    };
    // Every verdict rests on what is assumed of the server's profile; the
    // records name it, the facts are said once here.
    eprint!(
        "{}",
        ntlm_report::profiles::render_assumed(acceptor.assumed(), "")
    );
    let graceful = GracefulShutdown::new();
    let mut summaries = tokio::time::interval(SUMMARY_EVERY);
    loop {
        if signalled_early {
            break;
        }
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
                let slot = match acceptor.gate().open(client_key(peer.ip())) {
                    Ok(slot) => slot,
                    Err(refusal) => {
                        bump(match refusal {
                            GateRefusal::Total => &log.totals.refused_total,
                            GateRefusal::PerAddress => &log.totals.refused_per_address,
                        });
                        // Best effort, never waiting: the socket closes right after.
                        let _ = stream.try_write(BUSY_CONNECTION);
                        continue;
                    }
                };
                let conn = Arc::new(Mutex::new((
                    Connection::new(Arc::clone(&acceptor), peer),
                    ChaCha20Rng::from_os_rng(),
                )));
                let log = Arc::clone(&log);
                let acceptor = Arc::clone(&acceptor);
                let service = service_fn(move |req| {
                    handle(req, Arc::clone(&conn), Arc::clone(&acceptor), Arc::clone(&log))
                });
                let builder = {
                    let mut b = http1::Builder::new();
                    b.timer(TokioTimer::new())
                        .header_read_timeout(Duration::from_millis(limits.header_timeout_ms))
                        .max_buf_size(MAX_HEAD)
                        .keep_alive(true);
                    b
                };
                let send_timeout = Duration::from_millis(limits.send_timeout_ms);
                match &tls_acceptor {
                    None => {
                        let connection = builder.serve_connection(
                            TokioIo::new(SendDeadline::new(stream, send_timeout)),
                            service,
                        );
                        let watched = graceful.watch(connection);
                        tokio::spawn(async move {
                            // A client that goes away mid-request is its own business.
                            let _ = watched.await;
                            drop(slot);
                        });
                    }
                    Some(tls_acceptor) => {
                        // The TLS handshake runs in the connection's task, bounded
                        // by the header timeout, under the connection's slot.
                        let tls_acceptor = tls_acceptor.clone();
                        let watcher = graceful.watcher();
                        let handshake_limit = Duration::from_millis(limits.header_timeout_ms);
                        tokio::spawn(async move {
                            let accepted = tokio::time::timeout(
                                handshake_limit,
                                tls_acceptor.accept(SendDeadline::new(stream, send_timeout)),
                            )
                            .await;
                            if let Ok(Ok(tls_stream)) = accepted {
                                let connection =
                                    builder.serve_connection(TokioIo::new(tls_stream), service);
                                let _ = watcher.watch(connection).await;
                            }
                            drop(slot);
                        });
                    }
                }
            }
            _ = summaries.tick() => log.summaries(),
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    eprintln!(
        "shutting down: waiting for open connections ({} s at most)",
        GRACE.as_secs()
    );
    tokio::select! {
        _ = tokio::time::timeout(GRACE, graceful.shutdown()) => {}
        () = shutdown_signal() => eprintln!("second signal: not waiting for open connections"),
    }
    log.summaries();
    closing.store(true, Ordering::Release);
    let drained = tokio::task::spawn_blocking(move || {
        finished
            .recv_timeout(Duration::from_millis(limits.log_drain_ms))
            .is_ok()
    });
    let drained = tokio::time::timeout(
        Duration::from_millis(limits.log_drain_ms.saturating_add(500)),
        drained,
    )
    .await
    .is_ok_and(|r| r.unwrap_or(false));
    let t = &log.totals;
    let handshakes = get(&t.handshakes);
    eprintln!(
        "{} handshakes: {} succeeded, {} failed; {} would fail under a what-if policy",
        handshakes,
        handshakes.saturating_sub(get(&t.failed)),
        get(&t.failed),
        get(&t.what_if_failed)
    );
    eprintln!(
        "bounds: {} connections refused ({} over --max-connections, {} over \
         --max-connections-per-ip); {} pending handshakes withdrawn for other clients; \
         {} bodies timed out, {} refused (size or memory); {} failure records suppressed; \
         {} records dropped (log queue full, or the output closed){}",
        get(&t.refused_total).saturating_add(get(&t.refused_per_address)),
        get(&t.refused_total),
        get(&t.refused_per_address),
        acceptor.evicted(),
        get(&t.body_timeouts),
        get(&t.body_refused),
        get(&t.suppressed),
        get(&log.dropped_total),
        match get(&log.queued).saturating_sub(get(&log.written)) {
            0 => String::new(),
            n if drained =>
                format!("; {n} queued records were not written (the log output is closed)"),
            n => format!("; {n} queued records were not written (the log output is blocked)"),
        }
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

type Shared = Arc<Mutex<(Connection, ChaCha20Rng)>>;

/// Why a request body was not read.
enum BodyError {
    /// Over [`Limits::max_body`]: 413.
    TooLarge,
    /// [`Limits::max_body_memory`] exhausted: 503.
    NoMemory,
    /// The client broke off or sent a malformed body: 400.
    Broken,
}

/// Reads the body; keeps it (within the memory budget) when `keep`, else
/// discards each frame as it arrives.
async fn read_body(
    mut body: Incoming,
    keep: bool,
    acceptor: &Acceptor,
) -> Result<(Vec<u8>, Option<BodyReservation>), BodyError> {
    let max = acceptor.limits().max_body;
    let budget = acceptor.bodies();
    let mut reservation = keep.then(|| budget.reservation());
    let mut kept = Vec::new();
    let mut seen: usize = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Broken)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen > max {
            return Err(BodyError::TooLarge);
        }
        if let Some(r) = &mut reservation {
            if !budget.grow(r, data.len()) {
                return Err(BodyError::NoMemory);
            }
            kept.extend_from_slice(&data);
        }
    }
    Ok((kept, reservation))
}

async fn handle(
    req: Request<Incoming>,
    conn: Shared,
    acceptor: Arc<Acceptor>,
    log: Arc<Log>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let authorization = match req
        .headers()
        .get(header::AUTHORIZATION)
        .map(HeaderValue::to_str)
    {
        None => None,
        Some(Ok(v)) => Some(v.to_owned()),
        Some(Err(_)) => {
            return Ok(closing(text(
                StatusCode::BAD_REQUEST,
                "Authorization: the header is not ASCII\n",
            )));
        }
    };
    let wrap = match req.headers().get("x-ntlm-wrap").map(HeaderValue::to_str) {
        None => None,
        Some(v) => match v.ok().and_then(WrapMode::parse) {
            Some(m) => Some(m),
            None => {
                return Ok(closing(text(
                    StatusCode::BAD_REQUEST,
                    "X-NTLM-Wrap: expected `seal` or `sign`\n",
                )));
            }
        },
    };
    // Only an X-NTLM-Wrap body on an authenticated connection is kept;
    // any other is read and discarded, so the connection stays usable.
    let keep = wrap.is_some()
        && conn
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            .authenticated()
            .is_some();
    let limits = acceptor.limits();
    let read = tokio::time::timeout(
        Duration::from_millis(limits.body_timeout_ms),
        read_body(req.into_body(), keep, &acceptor),
    )
    .await;
    let body = match read {
        Ok(Ok((body, reservation))) => (body, reservation),
        Err(_) => {
            bump(&log.totals.body_timeouts);
            return Ok(closing(text(
                StatusCode::REQUEST_TIMEOUT,
                "the request body did not arrive in time\n",
            )));
        }
        Ok(Err(e)) => {
            if !matches!(e, BodyError::Broken) {
                bump(&log.totals.body_refused);
            }
            let (status, why) = match e {
                BodyError::TooLarge => (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "the request body is too large\n",
                ),
                BodyError::NoMemory => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too many request bodies in progress; try again\n",
                ),
                BodyError::Broken => (
                    StatusCode::BAD_REQUEST,
                    "the request body was cut short or malformed\n",
                ),
            };
            let mut r = closing(text(status, why));
            if status == StatusCode::SERVICE_UNAVAILABLE {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            return Ok(r);
        }
    };
    if let Some(mode) = wrap {
        let reply = {
            let mut guard = conn.lock().unwrap_or_else(PoisonError::into_inner);
            guard.0.on_wrap(mode, &body.0)
        };
        drop(body);
        return Ok(response(&reply));
    }
    drop(body);
    let now_ms = log.now_ms();
    let (reply, record, address) = {
        let mut guard = conn.lock().unwrap_or_else(PoisonError::into_inner);
        let (c, rng) = &mut *guard;
        let (reply, record) = c.on_request(
            authorization.as_deref(),
            rng,
            super::system::filetime_now(),
            now_ms,
        );
        (reply, record, c.address())
    };
    if let Some(r) = record {
        log.record(r, address);
    }
    Ok(response(&reply))
}

/// `r` with `Connection: close`: after an error in the middle of a request
/// the connection is not reused.
fn closing(mut r: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
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
        Reply::Unauthorized { reason, .. } => {
            let mut r = text(StatusCode::UNAUTHORIZED, &format!("{reason}\n"));
            if let Some(Ok(v)) = reply.www_authenticate().map(|v| HeaderValue::from_str(&v)) {
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
