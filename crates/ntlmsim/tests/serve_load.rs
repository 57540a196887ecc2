//! `ntlmsim serve http` under hostile load, on loopback only: while an
//! honest NTLM client (ntlm-session's client over plain TCP, from
//! 127.0.0.1) keeps authenticating, other source addresses of 127.0.0.0/8
//! run the attacks of docs/SECURITY.md at small scale:
//!
//! - one address holding more pending handshakes than `--max-handshakes`
//!   and re-sending its NEGOTIATEs;
//! - connections that send part of their headers and stall, one address up
//!   to `--max-connections-per-ip` and one connection beyond it;
//! - connections that announce a 1 MB body, send most of it and stall;
//! - failing handshakes with 4,000-character user names, 15 per address;
//! - a flood of unauthenticated requests;
//! - standard output a pipe nobody reads (the whole test).
//!
//! It asserts that the honest client keeps succeeding, that the server's
//! peak resident memory stays under a bound the attacks would exceed if
//! bodies were buffered, that the bounds answer as documented (503 at the
//! per-address cap, 408 for a stalled body) and that SIGTERM ends the server
//! with its summary although its standard output is blocked. Every loop is
//! bounded in count and time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test harness: a failed expectation must abort the test"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ntlm_session::{Client, ClientSettings, Credentials};
use ntlm_testsupport::{DOMAIN, PASSWORD, USER};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

/// Read timeout of every client socket.
const IO_TIMEOUT: Duration = Duration::from_secs(20);

/// The server's peak resident set may not exceed this. The stalled-body
/// attack alone sends 100 MB, which buffered bodies would hold.
const MAX_RSS_KIB: u64 = 64 * 1024;

/// A running server, killed on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tokio runtime for one thing std cannot do: bind a client socket to a
/// chosen source address of 127.0.0.0/8 before connecting.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_io()
            .build()
            .unwrap()
    })
}

/// A blocking connection from 127.0.0.`src` to the server.
fn connect_from(src: u8, port: u16) -> std::io::Result<TcpStream> {
    let stream = runtime().block_on(async move {
        let s = tokio::net::TcpSocket::new_v4()?;
        s.bind(SocketAddr::from(([127, 0, 0, src], 0)))?;
        s.connect(SocketAddr::from(([127, 0, 0, 1], port))).await
    })?;
    let std = stream.into_std()?;
    std.set_nonblocking(false)?;
    std.set_nodelay(true)?;
    std.set_read_timeout(Some(IO_TIMEOUT))?;
    std.set_write_timeout(Some(IO_TIMEOUT))?;
    Ok(std)
}

/// One HTTP response: status, head, body.
fn read_response(stream: &mut TcpStream) -> std::io::Result<(u16, String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.push(byte[0]);
        if buf.len() > 64 * 1024 {
            return Err(std::io::ErrorKind::InvalidData.into());
        }
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let status = head
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or(std::io::ErrorKind::InvalidData)?;
    let len: usize = header(&head, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    stream.read_exact(&mut body)?;
    Ok((status, head, body))
}

/// The value of header `name` (case-insensitive) in `head`.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

fn request(stream: &mut TcpStream, authorization: Option<&str>) -> std::io::Result<(u16, String)> {
    let auth = authorization.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
    // One write: several small ones would wait on Nagle and delayed ACKs.
    stream.write_all(format!("GET / HTTP/1.1\r\nHost: load\r\n{auth}\r\n").as_bytes())?;
    let (status, head, _) = read_response(stream)?;
    Ok((status, head))
}

fn settings(user: &str, password: &str) -> ClientSettings {
    let mut c = ClientSettings::new(Credentials::password(user, DOMAIN, password));
    c.config.integrity = true;
    c.config.confidentiality = true;
    c
}

fn filetime_now() -> ntlm_wire::FileTime {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    ntlm_wire::FileTime::from_unix(secs, 0)
}

/// One NTLM handshake on a new connection from 127.0.0.`src`: the final
/// status, or the I/O error.
fn handshake(
    src: u8,
    port: u16,
    user: &str,
    password: &str,
    rng: &mut ChaCha20Rng,
) -> std::io::Result<u16> {
    authenticated(src, port, user, password, rng).map(|(status, _)| status)
}

/// [`handshake`], and the connection.
fn authenticated(
    src: u8,
    port: u16,
    user: &str,
    password: &str,
    rng: &mut ChaCha20Rng,
) -> std::io::Result<(u16, TcpStream)> {
    let mut s = connect_from(src, port)?;
    let (negotiate, client) = Client::start(settings(user, password)).unwrap();
    let (status, head) = request(&mut s, Some(&format!("NTLM {}", B64.encode(&negotiate))))?;
    let Some(challenge) = header(&head, "www-authenticate")
        .and_then(|v| v.strip_prefix("NTLM "))
        .and_then(|b| B64.decode(b).ok())
    else {
        return Ok((status, s));
    };
    let Ok((authenticate, _)) = client.on_challenge(&challenge, rng, filetime_now()) else {
        return Err(std::io::ErrorKind::InvalidData.into());
    };
    let (status, _) = request(&mut s, Some(&format!("NTLM {}", B64.encode(&authenticate))))?;
    Ok((status, s))
}

/// SIGTERM to `server`; waits (bounded) for the exit and returns the rest
/// of its standard error after asserting exit code 0 and the summary.
fn terminate(server: &mut Server, mut stderr: BufReader<std::process::ChildStderr>) -> String {
    assert!(
        Command::new("kill")
            .args(["-TERM", &server.child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "serve ignored SIGTERM");
        thread::sleep(Duration::from_millis(50));
    };
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert_eq!(status.code(), Some(0), "{rest}");
    assert!(rest.contains("handshakes:"), "{rest}");
    rest
}

/// The number before `label` in the summary.
fn counted(summary: &str, label: &str) -> u64 {
    summary
        .split(label)
        .next()
        .and_then(|before| before.rsplit(' ').nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count before {label:?}: {summary}"))
}

/// `VmHWM` (peak resident set) of `pid`, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn start_server(extra: &[&str]) -> (Server, BufReader<std::process::ChildStderr>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ntlmsim"))
        .args(["serve", "http", "--listen", "127.0.0.1:0"])
        .args(["--password", PASSWORD])
        .args(extra)
        // Standard output is a pipe no test reads.
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let port = line
        .trim()
        .strip_prefix("listening on http://127.0.0.1:")
        .and_then(|p| p.strip_suffix('/'))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line on stderr: {line:?}"));
    (Server { child, port }, stderr)
}

/// Counts of the honest client.
#[derive(Default)]
struct Honest {
    attempts: AtomicUsize,
    successes: AtomicUsize,
}

#[test]
fn honest_client_keeps_authenticating_under_attack() {
    let started = Instant::now();
    let (mut server, stderr) = start_server(&[
        "--json",
        "--max-handshakes",
        "16",
        "--max-connections",
        "400",
        "--max-connections-per-ip",
        "40",
        "--header-timeout",
        "3",
        "--body-timeout",
        "2",
        "--log-queue",
        "16",
    ]);
    let port = server.port;
    let pid = server.child.id();
    let stop = Arc::new(AtomicBool::new(false));
    let honest = Arc::new(Honest::default());
    let honest_thread = {
        let (stop, honest) = (Arc::clone(&stop), Arc::clone(&honest));
        thread::spawn(move || {
            let mut rng = ChaCha20Rng::seed_from_u64(1);
            let mut failures = Vec::new();
            for _ in 0..2000 {
                if stop.load(Ordering::Acquire) {
                    break;
                }
                honest.attempts.fetch_add(1, Ordering::Relaxed);
                match handshake(1, port, USER, PASSWORD, &mut rng) {
                    Ok(200) => {
                        honest.successes.fetch_add(1, Ordering::Relaxed);
                    }
                    other => failures.push(format!("{other:?}")),
                }
                thread::sleep(Duration::from_millis(20));
            }
            failures
        })
    };

    // 1. One address holds more pending handshakes than the server has
    //    slots, and re-sends its NEGOTIATEs.
    let negotiate = {
        let (n, _) = Client::start(settings(USER, PASSWORD)).unwrap();
        format!("NTLM {}", B64.encode(&n))
    };
    let mut greedy: Vec<TcpStream> = (0..32).map(|_| connect_from(2, port).unwrap()).collect();
    let greedy_statuses: Vec<u16> = greedy
        .iter_mut()
        .map(|s| request(s, Some(&negotiate)).unwrap().0)
        .collect();
    // 16 slots (one may be the honest client's at that moment), then 503.
    let challenged = greedy_statuses.iter().filter(|&&s| s == 401).count();
    assert!((15..=16).contains(&challenged), "{greedy_statuses:?}");
    assert!(
        greedy_statuses.iter().all(|&s| s == 401 || s == 503),
        "{greedy_statuses:?}"
    );

    // 2. Stalled headers: three addresses up to their cap, then one more.
    let mut stalled = Vec::new();
    for src in 3..=5u8 {
        for _ in 0..40 {
            let mut s = connect_from(src, port).unwrap();
            s.write_all(b"GET / HTTP/1.1\r\nHost: stalled\r\n").unwrap();
            stalled.push(s);
        }
    }
    let mut over = connect_from(3, port).unwrap();
    let (status, head, _) = read_response(&mut over).unwrap();
    assert_eq!(status, 503, "{head}");

    // 3. Stalled bodies: 100 connections announce 1,000,000 bytes, send
    //    all but 16 and stall (three addresses).
    let chunk = vec![b'x'; 64 * 1024];
    let mut bodies = Vec::new();
    for i in 0..100u8 {
        let mut s = connect_from(6 + i % 3, port).unwrap();
        s.write_all(b"POST / HTTP/1.1\r\nHost: body\r\nContent-Length: 1000000\r\n\r\n")
            .unwrap();
        let mut left = 1_000_000 - 16;
        while left > 0 {
            let n = left.min(chunk.len());
            s.write_all(&chunk[..n]).unwrap();
            left -= n;
        }
        bodies.push(s);
    }

    // 4. Failing handshakes with 4,000-character names, 15 per address
    //    from 10 addresses, and 5. unauthenticated requests.
    let long_user = "u".repeat(4_000);
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut flood_statuses = Vec::new();
    for src in 20..30u8 {
        for _ in 0..15 {
            flood_statuses.push(handshake(src, port, &long_user, "wrong", &mut rng).unwrap());
        }
    }
    assert!(
        flood_statuses.iter().all(|&s| s == 401),
        "{flood_statuses:?}"
    );
    let mut plain = connect_from(30, port).unwrap();
    for _ in 0..500 {
        assert_eq!(request(&mut plain, None).unwrap().0, 401);
    }

    // The greedy address re-sends its NEGOTIATEs while the honest client
    // keeps going; its oldest handshakes make room for the honest one.
    for s in greedy.iter_mut().take(16) {
        let _ = request(s, Some(&negotiate));
    }
    let during = honest.successes.load(Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(10);
    while honest.successes.load(Ordering::Relaxed) < during + 10 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(50));
    }

    // A stalled body is answered 408 once its time is up.
    let (status, head, _) = read_response(&mut bodies[0]).unwrap();
    assert_eq!(status, 408, "{head}");
    // A stalled head is closed once its time is up (EOF or a reset).
    let mut rest = Vec::new();
    let _ = stalled[0].read_to_end(&mut rest);

    stop.store(true, Ordering::Release);
    let failures = honest_thread.join().unwrap();
    let (attempts, successes) = (
        honest.attempts.load(Ordering::Relaxed),
        honest.successes.load(Ordering::Relaxed),
    );
    assert!(
        successes >= during + 10,
        "{successes} of {attempts}: {failures:?}"
    );
    assert!(
        successes * 10 >= attempts * 9,
        "only {successes} of {attempts} honest handshakes succeeded: {failures:?}"
    );
    let peak = peak_rss_kib(pid);
    assert!(peak < MAX_RSS_KIB, "peak RSS {peak} KiB");

    // Standard output has been blocked all along, and the attackers'
    // connections are still open: SIGTERM still ends it.
    let rest = terminate(&mut server, stderr);
    drop((greedy, stalled, bodies, plain));
    assert!(
        counted(&rest, "records dropped") > 0,
        "the blocked output dropped nothing: {rest}"
    );
    assert!(counted(&rest, "failure records suppressed") > 0, "{rest}");
    assert!(counted(&rest, "pending handshakes withdrawn") > 0, "{rest}");
    eprintln!(
        "honest: {successes}/{attempts}; peak RSS {peak} KiB; {:?} in all; {}",
        started.elapsed(),
        rest.trim()
    );
}

/// X-NTLM-Wrap bodies are the only ones held in memory, and all of them
/// together stay within --max-body-memory: a second large body in progress
/// is refused, and the budget is given back when the first one times out.
#[test]
fn wrap_bodies_share_one_memory_budget() {
    let (mut server, stderr) = start_server(&["--max-body-memory", "1", "--body-timeout", "2"]);
    let port = server.port;
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let wrap_head = |len: usize| {
        format!(
            "POST / HTTP/1.1\r\nHost: wrap\r\nX-NTLM-Wrap: seal\r\nContent-Length: {len}\r\n\r\n"
        )
    };
    let (status, mut first) = authenticated(11, port, USER, PASSWORD, &mut rng).unwrap();
    assert_eq!(status, 200);
    let (status, mut second) = authenticated(12, port, USER, PASSWORD, &mut rng).unwrap();
    assert_eq!(status, 200);
    // The first holds 700,000 bytes of a 1,000,000-byte body.
    first.write_all(wrap_head(1_000_000).as_bytes()).unwrap();
    first.write_all(&vec![0u8; 700_000]).unwrap();
    thread::sleep(Duration::from_millis(300));
    // The second cannot get 400,000 more out of 1 MiB: 503, or the
    // connection closed under its feet.
    second.write_all(wrap_head(400_000).as_bytes()).unwrap();
    let _ = second.write_all(&vec![0u8; 400_000]);
    if let Ok((status, head, _)) = read_response(&mut second) {
        assert_eq!(status, 503, "{head}");
    }
    // The first times out (408) and gives its bytes back: a small wrapped
    // message is read in full and judged (400: the signature is wrong).
    let (status, head, _) = read_response(&mut first).unwrap();
    assert_eq!(status, 408, "{head}");
    let (status, mut third) = authenticated(13, port, USER, PASSWORD, &mut rng).unwrap();
    assert_eq!(status, 200);
    third.write_all(wrap_head(20).as_bytes()).unwrap();
    third.write_all(&[0u8; 20]).unwrap();
    let (status, _, body) = read_response(&mut third).unwrap();
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("does not verify"));
    let rest = terminate(&mut server, stderr);
    assert_eq!(counted(&rest, "refused (size or memory)"), 1, "{rest}");
    assert_eq!(counted(&rest, "bodies timed out"), 1, "{rest}");
}

/// The human log: a user name that carries a line break and terminal
/// escape sequences stays inside its own line, escaped.
#[test]
fn a_forged_user_name_stays_on_one_escaped_line() {
    let (mut server, stderr) = start_server(&[]);
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let forged = "x\n10.0.0.1:4444 CORP\\administrator NTLMv2 -> success\u{1b}[2J\u{1b}]0;t\u{7}";
    assert_eq!(
        handshake(14, server.port, forged, PASSWORD, &mut rng).unwrap(),
        200
    );
    let mut stdout = server.child.stdout.take().unwrap();
    let rest = terminate(&mut server, stderr);
    let mut log = String::new();
    stdout.read_to_string(&mut log).unwrap();
    assert_eq!(log.lines().count(), 1, "{log}{rest}");
    assert!(log.starts_with("127.0.0.14:"), "{log}");
    assert!(
        log.contains("TESTDOM\\x\\n10.0.0.1:4444 CORP\\administrator NTLMv2 -> success\\u{1b}[2J"),
        "{log}"
    );
    assert!(!log.contains('\u{1b}'), "{log}");
}

/// --max-connections: a connection over the cap is answered 503 and
/// closed; once one closes, a new one is served.
#[test]
fn connections_over_the_cap_get_503() {
    let (mut server, stderr) = start_server(&["--max-connections", "3"]);
    let port = server.port;
    let mut open: Vec<TcpStream> = (15..18u8)
        .map(|src| {
            let mut s = connect_from(src, port).unwrap();
            assert_eq!(request(&mut s, None).unwrap().0, 401);
            s
        })
        .collect();
    let mut over = connect_from(18, port).unwrap();
    let (status, head, body) = read_response(&mut over).unwrap();
    assert_eq!(status, 503, "{head}");
    assert_eq!(body, b"too many connections\n");
    drop(open.pop());
    // The slot comes back when the server has seen the close.
    let mut served = None;
    for _ in 0..100 {
        let mut s = connect_from(19, port).unwrap();
        match request(&mut s, None) {
            Ok((401, _)) => {
                served = Some(s);
                break;
            }
            _ => thread::sleep(Duration::from_millis(50)),
        }
    }
    assert!(served.is_some(), "no connection served after one closed");
    let rest = terminate(&mut server, stderr);
    let over_cap: u64 = rest
        .split(" over --max-connections,")
        .next()
        .and_then(|before| before.rsplit('(').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of connections over the cap: {rest}"));
    assert!(over_cap >= 1, "{rest}");
}

/// Shutdown is bounded even with a request whose body never comes (its
/// timeout far beyond the grace period), and a second signal ends the wait.
#[test]
fn a_second_signal_stops_waiting_for_stalled_requests() {
    let (mut server, mut stderr) = start_server(&["--body-timeout", "60"]);
    let mut stalled = connect_from(20, server.port).unwrap();
    stalled
        .write_all(b"POST / HTTP/1.1\r\nHost: s\r\nContent-Length: 100\r\n\r\n0123456789")
        .unwrap();
    thread::sleep(Duration::from_millis(200));
    let pid = server.child.id().to_string();
    let term = || {
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    };
    assert!(term());
    // Past the start-up lines (what is assumed of the server's profile).
    let mut line = String::new();
    loop {
        line.clear();
        stderr.read_line(&mut line).unwrap();
        if !line.starts_with("assumed:") {
            break;
        }
    }
    assert!(line.starts_with("shutting down"), "{line}");
    // Signals until it exits (a signal sent before the second listener is
    // in place is not seen; the next one is).
    let mut exited = None;
    for _ in 0..100 {
        if let Some(status) = server.child.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        let _ = term();
        thread::sleep(Duration::from_millis(100));
    }
    let status = exited.expect("serve did not stop on a second SIGTERM");
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert_eq!(status.code(), Some(0), "{rest}");
    assert!(rest.contains("second signal: not waiting"), "{rest}");
    assert!(rest.contains("handshakes:"), "{rest}");
    drop(stalled);
}

/// --send-timeout: a client that sends requests and never reads the
/// answers does not keep its connection: once the server's writes have
/// been blocked that long, the connection is closed.
#[test]
fn a_client_that_never_reads_is_disconnected() {
    let (mut server, stderr) = start_server(&["--send-timeout", "1", "--header-timeout", "60"]);
    let mut s = connect_from(21, server.port).unwrap();
    let mut writer = s.try_clone().unwrap();
    let sent = thread::spawn(move || {
        let request = b"GET / HTTP/1.1\r\nHost: r\r\n\r\n".repeat(1000);
        let mut sent = 0usize;
        for _ in 0..400 {
            if writer.write_all(&request).is_err() {
                break;
            }
            sent += 1000;
        }
        sent
    });
    // Not reading, for longer than the send timeout.
    thread::sleep(Duration::from_secs(3));
    let mut answers = Vec::new();
    let read = s.read_to_end(&mut answers);
    // Closed by the server (EOF or reset), not still waiting for requests
    // (that would end in this socket's read timeout).
    assert!(
        !matches!(&read, Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)),
        "{read:?}"
    );
    let sent = sent.join().unwrap();
    let answered = answers.windows(12).filter(|w| w == b"HTTP/1.1 401").count();
    assert!(answered < sent, "{answered} answers to {sent} requests");
    drop(s);
    terminate(&mut server, stderr);
}
