//! Samba `ntlm_auth` helper line protocols (`ntlmsim helper`, docs/CLI.md).
//!
//! One request per line, one answer per line. The server role speaks
//! `--helper-protocol=squid-2.5-ntlmssp`, the client role
//! `--helper-protocol=ntlmssp-client-1`:
//!
//! ```text
//! server role                              client role
//! YR <b64 NEGOTIATE>    -> TT <b64 CHALLENGE>   SF <features>       -> OK
//!                       or NA <STATUS>          YR                  -> YR <b64 NEGOTIATE> or NA <STATUS>
//! KK <b64 AUTHENTICATE> -> AF DOMAIN\user       TT <b64 CHALLENGE>  -> AF <b64 AUTHENTICATE>
//!                       or NA <STATUS>                              or NA <STATUS>
//! GK                    -> GK <b64 ExportedSessionKey>   (both roles, once authenticated)
//! GF                    -> GF 0x<negotiated flags, 8 hex digits>   (both roles)
//! anything else         -> BH <reason>
//! ```
//!
//! Differences from Samba, on purpose:
//!
//! - `NA` carries the status name of the [`ntlm_policy::Status`] the failing
//!   side returned (`NA SEC_E_UNSUPPORTED_FUNCTION`, `NA STATUS_LOGON_FAILURE`),
//!   where Samba prints its NT_STATUS names (`NA NT_STATUS_LOGON_FAILURE`).
//! - A NEGOTIATE the server refuses (MS-NLMP 3.2.5.1.1: a minimum-security
//!   requirement the client does not offer) is answered `NA <STATUS>` to the
//!   `YR`, as Samba answers any failed step of its GENSEC exchange with `NA`.
//!   A client that refuses to send a NEGOTIATE (NTLM blocked) likewise
//!   answers the client role's `YR` with `NA`; a CHALLENGE that fails the
//!   client's NtlmMinClientSec (MS-NLMP 3.1.5.1.2) answers its `TT`.
//! - `GK` and `GF` answer `BH` until an exchange has succeeded.
//!
//! Names that cannot be written on one line (rule
//! `helper-name-unwritable`): the server role's `AF` carries the client's
//! domain and user name as the AUTHENTICATE gave them, so a name with a line
//! break, another control character (ESC, NUL, CR) or an invisible
//! formatting character (bidi overrides, zero-width characters; the set is
//! [`sink::is_unsafe_char`]) is refused with `NA STATUS_LOGON_FAILURE` and
//! the exchange fails, whatever the password. Escaping instead would hand
//! squid a different user name, and writing it verbatim splits the answer:
//! Samba `ntlm_auth` 4.17 (`--helper-protocol=squid-2.5-ntlmssp
//! --password=...`) answers an AUTHENTICATE from user
//! `x<LF>AF TESTDOM\administrator` with the two lines `AF TESTDOM\x` and
//! `AF TESTDOM\administrator`, so the next client's `YR` is answered
//! `AF TESTDOM\administrator`; it writes CR, ESC sequences, C1 controls and
//! bidi overrides raw too, and refuses only a NUL (`NA
//! NT_STATUS_LOGON_FAILURE`) (observed; `tests/helper_samba.rs` replays it
//! when `ntlm_auth` is installed). `NA`, not `BH`: the request was well
//! formed and the helper is healthy; `NA` tells squid this logon failed,
//! where `BH` reports a broken helper. `STATUS_LOGON_FAILURE` is the status
//! of any refused logon and says nothing about why, as for a wrong password,
//! and the status Samba gives the one such name it refuses. Writers put
//! every answer through [`one_line`] as a last guard.
//!
//! A `YR` always starts a new exchange, whatever state the previous one is
//! in (squid reuses a helper for many clients). Malformed lines answer `BH`
//! and leave the state as it was. The state machines are pure: the caller
//! reads lines (see [`read_line`], bounded by [`MAX_LINE`]) and injects the
//! random source and the time.

use std::io::{self, BufRead};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ntlm_policy::restrict::{Restrictions, Transport, Verdict};
use ntlm_policy::{Detail, Failure, Side, Stage, rules};
use ntlm_session::{ClientDriver, ClientSettings, Established, ServerDriver, ServerSettings, Step};
use ntlm_wire::FileTime;
use rand_chacha::rand_core::{CryptoRng, RngCore};

use crate::sink;

/// The longest request line accepted, in bytes without the line end. Longer
/// lines answer `BH` and are skipped without being held in memory. NTLM
/// messages are a few hundred bytes; Samba's helpers accept lines of up to
/// 64 KiB too (`INITIAL_BUFFER_SIZE` growing to `MAX_BUFFER_SIZE`).
pub const MAX_LINE: usize = 64 * 1024;

/// One line read by [`read_line`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A line, without its `\n` or `\r\n`.
    Text(String),
    /// A line longer than the limit; its bytes were discarded.
    TooLong,
    /// A line that is not UTF-8.
    NotUtf8,
}

/// Reads one line of at most `max` bytes (without the line end) from
/// `input`, holding at most `max + 1` bytes of it in memory. `Ok(None)` at
/// end of input. A last line without `\n` is returned as a line.
///
/// # Errors
///
/// The reader's errors.
pub fn read_line<R: BufRead + ?Sized>(input: &mut R, max: usize) -> io::Result<Option<Line>> {
    let mut buf = Vec::new();
    let mut too_long = false;
    let mut any = false;
    loop {
        let chunk = match input.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            if !any {
                return Ok(None);
            }
            break;
        }
        any = true;
        let (part, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (chunk.get(..i).unwrap_or_default(), Some(i + 1)),
            None => (chunk, None),
        };
        if !too_long {
            if buf.len().saturating_add(part.len()) > max.saturating_add(1) {
                // Keeping `max + 1` bytes is enough to tell a `\r\n` line end.
                too_long = true;
                buf = Vec::new();
            } else {
                buf.extend_from_slice(part);
            }
        }
        let used = done.unwrap_or(chunk.len());
        input.consume(used);
        if done.is_some() {
            break;
        }
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    if too_long || buf.len() > max {
        return Ok(Some(Line::TooLong));
    }
    Ok(Some(
        String::from_utf8(buf).map_or(Line::NotUtf8, Line::Text),
    ))
}

/// The last guard before an answer is written: every answer is exactly one
/// line with no [unsafe character](sink::is_unsafe_char). An answer that
/// would break this (no answer built here should) is replaced by a `BH`, so
/// that no change to the protocol code can split one answer into two and
/// shift every later answer onto the wrong request.
pub fn one_line(answer: String) -> String {
    if sink::line_safe(&answer) {
        answer
    } else {
        String::from("BH answer withheld: it would not fit on one line")
    }
}

/// The answer to a line that could not be read as text.
pub fn answer_unreadable(line: &Line) -> Option<String> {
    match line {
        Line::Text(_) => None,
        Line::TooLong => Some(format!("BH line longer than {MAX_LINE} bytes")),
        Line::NotUtf8 => Some(String::from("BH line is not UTF-8")),
    }
}

/// Splits `XX` or `XX argument` into the two-letter command and the argument.
fn split(line: &str) -> Result<(&str, Option<&str>), String> {
    let line = line.trim_end_matches(['\r', '\n']);
    let (cmd, arg) = match line.split_once(' ') {
        Some((c, a)) => (c, Some(a.trim()).filter(|a| !a.is_empty())),
        None => (line, None),
    };
    if cmd.len() != 2 || !cmd.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(String::from(
            "BH expected a two-letter request such as YR, KK, TT, GK, GF",
        ));
    }
    Ok((cmd, arg))
}

fn blob(arg: Option<&str>, what: &str) -> Result<Vec<u8>, String> {
    let Some(arg) = arg else {
        return Err(format!("BH {what} needs a base64 message"));
    };
    match B64.decode(arg) {
        Ok(b) if !b.is_empty() => Ok(b),
        Ok(_) => Err(format!("BH {what} needs a base64 message")),
        Err(e) => Err(format!("BH {what}: invalid base64: {e}")),
    }
}

fn na(f: &Failure) -> String {
    format!("NA {}", f.status.name())
}

/// `AF DOMAIN\\user` for an authenticated name, or the failure of rule
/// `helper-name-unwritable` when the name cannot be written on one line
/// ([`sink::line_safe`]): an escaped name would be a different name to the
/// program reading the answer, and a raw line break would split it into two
/// answers (see the module documentation).
fn authenticated_as(domain: &str, user: &str) -> Result<String, Failure> {
    if sink::line_safe(domain) && sink::line_safe(user) {
        Ok(format!("AF {domain}\\{user}"))
    } else {
        Err(Failure::new(
            Side::Server,
            Stage::Authenticate,
            &rules::HELPER_NAME_UNWRITABLE,
            Detail::Note("the user or domain name cannot be written on one helper line"),
        ))
    }
}

/// `GK` and `GF` over an established session, `BH` without one.
fn session_query(cmd: &str, e: Option<&mut Established>) -> String {
    let Some(e) = e else {
        return String::from("BH not authenticated: no session key or negotiated flags yet");
    };
    if cmd == "GK" {
        format!("GK {}", B64.encode(e.exported_session_key().as_bytes()))
    } else {
        // Samba prints "GF 0x%08x".
        format!("GF 0x{:08x}", e.report.flags.bits())
    }
}

/// The server role (`squid-2.5-ntlmssp`).
#[derive(Debug)]
pub struct ServerHelper {
    settings: ServerSettings,
    driver: Option<ServerDriver>,
    /// The server's and its DC's Restrict NTLM settings, when set.
    restrict: Option<Box<(Restrictions, Restrictions)>>,
}

impl ServerHelper {
    /// A server helper; every exchange starts from these settings.
    pub const fn new(settings: ServerSettings) -> Self {
        Self {
            settings,
            driver: None,
            restrict: None,
        }
    }

    /// The same helper with the server's and its DC's Restrict NTLM
    /// settings: an AUTHENTICATE they block is answered `NA` with the
    /// block's status (STATUS_NTLM_BLOCKED from the server,
    /// STATUS_NOT_SUPPORTED when its DC blocks), before it is verified, as
    /// [`ntlm_session::Pair::run_restricted`] orders the checks.
    #[must_use]
    pub fn with_restrictions(mut self, server: Restrictions, dc: Restrictions) -> Self {
        self.restrict = Some(Box::new((server, dc)));
        self
    }

    /// The block the server's or its DC's Restrict NTLM settings put on this AUTHENTICATE.
    fn blocked(&self, authenticate: &[u8]) -> Option<Failure> {
        let (server, dc) = self.restrict.as_deref()?;
        let name = &self.settings.names.nb_computer;
        let joined = self.settings.config.domain_joined;
        let account = ntlm_session::account_of(authenticate, name, joined);
        if let Verdict::Blocked(f, _) = server.server_incoming(account) {
            return Some(f);
        }
        match dc.dc_in_domain(account, name, joined) {
            Verdict::Blocked(f, _) => Some(f),
            _ => None,
        }
    }

    /// The state of the current exchange (`idle` before the first `YR`).
    pub const fn state(&self) -> &'static str {
        match &self.driver {
            Some(d) => d.name(),
            None => "idle",
        }
    }

    /// Answers one request line.
    pub fn handle<R: RngCore + CryptoRng>(
        &mut self,
        line: &str,
        rng: &mut R,
        now: FileTime,
    ) -> String {
        let (cmd, arg) = match split(line) {
            Ok(x) => x,
            Err(bh) => return bh,
        };
        match cmd {
            "YR" => {
                let negotiate = match blob(arg, "YR") {
                    Ok(b) => b,
                    Err(bh) => return bh,
                };
                // A new exchange, whatever happened before (squid reuses helpers).
                let mut d = ServerDriver::new(self.settings.clone());
                let answer = match d.step(&negotiate, rng, now) {
                    Ok(Step::Send(challenge)) => format!("TT {}", B64.encode(challenge)),
                    Ok(Step::Done) => String::from("BH the server completed without a CHALLENGE"),
                    // MS-NLMP 3.2.5.1.1: a refused NEGOTIATE ends the exchange.
                    Err(f) => na(&f),
                };
                self.driver = Some(d);
                answer
            }
            "KK" => {
                let authenticate = match blob(arg, "KK") {
                    Ok(b) => b,
                    Err(bh) => return bh,
                };
                if !matches!(self.driver, Some(ServerDriver::AwaitingAuthenticate(_))) {
                    return String::from("BH KK without a CHALLENGE pending: send YR first");
                }
                if let Some(f) = self.blocked(&authenticate) {
                    if let Some(d) = self.driver.as_mut() {
                        *d = ServerDriver::Failed(f);
                    }
                    return na(&f);
                }
                let Some(d) = self.driver.as_mut() else {
                    return String::from("BH KK without a CHALLENGE pending: send YR first");
                };
                match d.step(&authenticate, rng, now) {
                    Ok(_) => match d.established() {
                        Some(e) => match authenticated_as(&e.report.domain, &e.report.user) {
                            Ok(answer) => answer,
                            Err(f) => {
                                // No session for a name that cannot be reported:
                                // GK and GF answer BH, as after any NA.
                                *d = ServerDriver::Failed(f);
                                na(&f)
                            }
                        },
                        None => String::from("BH the server did not establish a session"),
                    },
                    Err(f) => na(&f),
                }
            }
            "GK" | "GF" => session_query(
                cmd,
                self.driver.as_mut().and_then(ServerDriver::established),
            ),
            other => format!("BH unknown request {other} for the server role"),
        }
    }
}

/// The client role (`ntlmssp-client-1`).
#[derive(Debug)]
pub struct ClientHelper {
    settings: ClientSettings,
    driver: Option<ClientDriver>,
    /// The client's Restrict NTLM settings and the server name it targets, when set.
    restrict: Option<Box<(Restrictions, String)>>,
}

/// `SF` feature names (Samba's `NTLMSSP_FEATURE_*`).
const FEATURE_SESSION_KEY: &str = "NTLMSSP_FEATURE_SESSION_KEY";
const FEATURE_SIGN: &str = "NTLMSSP_FEATURE_SIGN";
const FEATURE_SEAL: &str = "NTLMSSP_FEATURE_SEAL";

impl ClientHelper {
    /// A client helper; every exchange starts from these settings (as
    /// changed by `SF`).
    pub const fn new(settings: ClientSettings) -> Self {
        Self {
            settings,
            driver: None,
            restrict: None,
        }
    }

    /// The same helper with the client's Restrict NTLM settings and the name
    /// of the server it talks to (matched against its exception lists): a
    /// blocked `YR` is answered `NA STATUS_NTLM_BLOCKED` and nothing is sent.
    #[must_use]
    pub fn with_restrictions(mut self, client: Restrictions, target: String) -> Self {
        self.restrict = Some(Box::new((client, target)));
        self
    }

    /// The state of the current exchange (`idle` before the first `YR`).
    pub const fn state(&self) -> &'static str {
        match &self.driver {
            Some(d) => d.name(),
            None => "idle",
        }
    }

    /// The settings the next exchange starts from.
    pub const fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    /// Answers one request line.
    pub fn handle<R: RngCore + CryptoRng>(
        &mut self,
        line: &str,
        rng: &mut R,
        now: FileTime,
    ) -> String {
        let (cmd, arg) = match split(line) {
            Ok(x) => x,
            Err(bh) => return bh,
        };
        match cmd {
            "SF" => self.features(arg),
            "YR" => {
                if arg.is_some() {
                    return String::from("BH the client role's YR takes no argument");
                }
                if let Some((r, target)) = self.restrict.as_deref() {
                    if let Verdict::Blocked(f, _) = r.client_outgoing(target, Transport::Other) {
                        self.driver = Some(ClientDriver::Failed(f));
                        return na(&f);
                    }
                }
                let mut d = ClientDriver::new(self.settings.clone());
                let answer = match d.step(&[], rng, now) {
                    Ok(Step::Send(negotiate)) => format!("YR {}", B64.encode(negotiate)),
                    Ok(Step::Done) => String::from("BH the client completed without a NEGOTIATE"),
                    // Outgoing NTLM blocked: nothing to send.
                    Err(f) => na(&f),
                };
                self.driver = Some(d);
                answer
            }
            "TT" => {
                let challenge = match blob(arg, "TT") {
                    Ok(b) => b,
                    Err(bh) => return bh,
                };
                let Some(d) = self
                    .driver
                    .as_mut()
                    .filter(|d| matches!(d, ClientDriver::AwaitingChallenge(_)))
                else {
                    return String::from("BH TT without a NEGOTIATE sent: send YR first");
                };
                match d.step(&challenge, rng, now) {
                    // Samba 4.17 answers a CHALLENGE with AF and the AUTHENTICATE.
                    Ok(Step::Send(authenticate)) => format!("AF {}", B64.encode(authenticate)),
                    Ok(Step::Done) => {
                        String::from("BH the client completed without an AUTHENTICATE")
                    }
                    Err(f) => na(&f),
                }
            }
            "GK" | "GF" => session_query(
                cmd,
                self.driver.as_mut().and_then(ClientDriver::established),
            ),
            other => format!("BH unknown request {other} for the client role"),
        }
    }

    /// `SF <features>`: the application's requests for the next exchange
    /// (MS-NLMP 3.1.5.1.1: integrity sets SIGN, confidentiality SEAL).
    fn features(&mut self, arg: Option<&str>) -> String {
        if matches!(self.driver, Some(ClientDriver::AwaitingChallenge(_))) {
            return String::from("BH SF during an exchange: send it before YR");
        }
        let (mut sign, mut seal) = (false, false);
        for f in arg.unwrap_or_default().split_whitespace() {
            match f {
                FEATURE_SIGN => sign = true,
                FEATURE_SEAL => seal = true,
                // The session key is always exported (GK).
                FEATURE_SESSION_KEY => {}
                other => return format!("BH unknown feature {}", sink::terminal(other)),
            }
        }
        self.settings.config.integrity = sign;
        self.settings.config.confidentiality = seal;
        String::from("OK")
    }
}

/// Either role.
#[derive(Debug)]
pub enum Helper {
    /// `squid-2.5-ntlmssp`.
    Server(Box<ServerHelper>),
    /// `ntlmssp-client-1`.
    Client(Box<ClientHelper>),
}

impl Helper {
    /// Answers one request line.
    pub fn handle<R: RngCore + CryptoRng>(
        &mut self,
        line: &str,
        rng: &mut R,
        now: FileTime,
    ) -> String {
        match self {
            Self::Server(s) => s.handle(line, rng, now),
            Self::Client(c) => c.handle(line, rng, now),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;
    use std::sync::Arc;

    use ntlm_policy::{LmCompatibilityLevel, MinSessionSecurity};
    use ntlm_session::{Credentials, MemoryStore};
    use ntlm_wire::NegotiateFlags as F;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;

    const NOW: FileTime = FileTime(133_000_000_000_000_000);

    /// A server helper; the 128-bit tests use the strict `ms-nlmp` reading,
    /// under which 0x20000000 refuses a NEGOTIATE without 128.
    fn server(min: u32) -> ServerHelper {
        let mut s = ServerSettings::new(Arc::new(MemoryStore::any_user("Passw0rd!")));
        s.min = MinSessionSecurity::from_registry(min);
        s.semantics = ntlm_policy::Semantics::MS_NLMP;
        ServerHelper::new(s)
    }

    fn client(password: &str) -> ClientHelper {
        let mut c = ClientSettings::new(Credentials::password("alice", "TESTDOM", password));
        c.semantics = ntlm_policy::Semantics::MS_NLMP;
        ClientHelper::new(c)
    }

    fn arg<'a>(answer: &'a str, prefix: &str) -> &'a str {
        answer
            .strip_prefix(prefix)
            .and_then(|a| a.strip_prefix(' '))
            .unwrap_or_else(|| panic!("expected {prefix}, got {answer}"))
    }

    /// Runs one exchange; returns the server's answer to KK.
    fn exchange(c: &mut ClientHelper, s: &mut ServerHelper, rng: &mut ChaCha20Rng) -> String {
        let neg = c.handle("YR", rng, NOW);
        let chal = s.handle(&format!("YR {}", arg(&neg, "YR")), rng, NOW);
        let auth = c.handle(&format!("TT {}", arg(&chal, "TT")), rng, NOW);
        s.handle(&format!("KK {}", arg(&auth, "AF")), rng, NOW)
    }

    #[test]
    fn full_exchange_with_sign_and_seal() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let (mut c, mut s) = (client("Passw0rd!"), server(0x2000_0000));
        assert_eq!(
            c.handle(
                "SF NTLMSSP_FEATURE_SIGN NTLMSSP_FEATURE_SEAL NTLMSSP_FEATURE_SESSION_KEY",
                &mut rng,
                NOW
            ),
            "OK"
        );
        assert_eq!(exchange(&mut c, &mut s, &mut rng), "AF TESTDOM\\alice");
        assert_eq!((c.state(), s.state()), ("established", "established"));
        let gk = c.handle("GK", &mut rng, NOW);
        assert_eq!(gk, s.handle("GK", &mut rng, NOW));
        assert_eq!(B64.decode(arg(&gk, "GK")).unwrap().len(), 16);
        let gf = c.handle("GF", &mut rng, NOW);
        assert_eq!(gf, s.handle("GF", &mut rng, NOW));
        let digits = arg(&gf, "GF").strip_prefix("0x").unwrap();
        assert_eq!(digits.len(), 8);
        let flags = F::from_bits_retain(u32::from_str_radix(digits, 16).unwrap());
        assert!(flags.contains(F::NEGOTIATE_SIGN | F::NEGOTIATE_SEAL | F::NEGOTIATE_128));
    }

    #[test]
    fn without_features_no_sign_or_seal() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let (mut c, mut s) = (client("Passw0rd!"), server(0x2000_0000));
        assert_eq!(exchange(&mut c, &mut s, &mut rng), "AF TESTDOM\\alice");
        let gf = s.handle("GF", &mut rng, NOW);
        let bits = u32::from_str_radix(arg(&gf, "GF").trim_start_matches("0x"), 16).unwrap();
        assert!(!F::from_bits_retain(bits).intersects(F::NEGOTIATE_SIGN | F::NEGOTIATE_SEAL));
    }

    #[test]
    fn wrong_password_gets_na_and_a_new_yr_restarts() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let mut s = server(0x2000_0000);
        let mut bad = client("wrong");
        assert_eq!(
            exchange(&mut bad, &mut s, &mut rng),
            "NA STATUS_LOGON_FAILURE"
        );
        assert_eq!(s.state(), "failed");
        assert!(s.handle("GK", &mut rng, NOW).starts_with("BH "));
        // KK after the failure: no exchange pending.
        assert!(
            s.handle("KK TlRMTVNTUAADAAAA", &mut rng, NOW)
                .starts_with("BH ")
        );
        // The same helper serves the next client.
        let mut good = client("Passw0rd!");
        assert_eq!(exchange(&mut good, &mut s, &mut rng), "AF TESTDOM\\alice");
        // And one more after a success.
        assert_eq!(exchange(&mut good, &mut s, &mut rng), "AF TESTDOM\\alice");
    }

    #[test]
    fn refused_negotiate_is_na_to_yr() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let mut s = server(0x2000_0000);
        let mut c = client("Passw0rd!");
        // A client offering neither 128-bit nor 56-bit.
        c.settings.config.flags_override = Some(F::NEGOTIATE_UNICODE | F::NEGOTIATE_NTLM);
        let neg = c.handle("YR", &mut rng, NOW);
        assert_eq!(
            s.handle(&format!("YR {}", arg(&neg, "YR")), &mut rng, NOW),
            "NA SEC_E_UNSUPPORTED_FUNCTION"
        );
        assert!(
            s.handle("KK TlRMTVNTUAADAAAA", &mut rng, NOW)
                .starts_with("BH ")
        );
        // Without the requirement the same NEGOTIATE is answered.
        let mut open = server(0);
        assert!(
            open.handle(&format!("YR {}", arg(&neg, "YR")), &mut rng, NOW)
                .starts_with("TT ")
        );
    }

    #[test]
    fn blocked_client_is_na_to_yr() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let mut c = client("Passw0rd!");
        c.settings.config.blocked = true;
        assert!(c.handle("YR", &mut rng, NOW).starts_with("NA "));
        assert_eq!(c.state(), "failed");
    }

    #[test]
    fn client_minimum_refuses_a_challenge_without_128_bit() {
        let mut rng = ChaCha20Rng::seed_from_u64(10);
        let mut c = client("Passw0rd!");
        let mut s = server(0);
        s.settings.config.flags_override =
            Some(F::NEGOTIATE_UNICODE | F::NEGOTIATE_NTLM | F::NEGOTIATE_EXTENDED_SESSIONSECURITY);
        let neg = c.handle("YR", &mut rng, NOW);
        let chal = s.handle(&format!("YR {}", arg(&neg, "YR")), &mut rng, NOW);
        // MS-NLMP 3.1.5.1.2: NtlmMinClientSec 0x20000000 needs NEGOTIATE_128.
        assert_eq!(
            c.handle(&format!("TT {}", arg(&chal, "TT")), &mut rng, NOW),
            "NA SEC_E_UNSUPPORTED_FUNCTION"
        );
        assert!(c.handle("GK", &mut rng, NOW).starts_with("BH "));
    }

    #[test]
    fn client_lm_level_0_exchange() {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let mut c = client("Passw0rd!");
        c.settings.config.lm_level = LmCompatibilityLevel::L0;
        let mut s = server(0);
        assert_eq!(exchange(&mut c, &mut s, &mut rng), "AF TESTDOM\\alice");
        assert_eq!(c.handle("GK", &mut rng, NOW), s.handle("GK", &mut rng, NOW));
    }

    #[test]
    fn malformed_lines_get_bh_and_keep_state() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let mut s = server(0x2000_0000);
        let mut c = client("Passw0rd!");
        for line in [
            "", "Y", "yr abc", "XX", "YRX", "YR", "YR !!!", "YR ====", "KK", "KK TlRM",
        ] {
            let a = s.handle(line, &mut rng, NOW);
            assert!(a.starts_with("BH "), "server: {line:?} -> {a}");
        }
        // A well-formed YR whose payload is not a NEGOTIATE fails the exchange.
        assert_eq!(
            s.handle("YR aGVsbG8=", &mut rng, NOW),
            "NA STATUS_INVALID_PARAMETER"
        );
        for line in [
            "",
            "TT",
            "TT !!",
            "YR abc",
            "SF NTLMSSP_FEATURE_NOPE",
            "KK abc",
            "GK",
            "GF",
        ] {
            let a = c.handle(line, &mut rng, NOW);
            assert!(a.starts_with("BH "), "client: {line:?} -> {a}");
        }
        assert_eq!(c.state(), "idle");
        // After the garbage, a normal exchange works; BH mid-exchange keeps it.
        let neg = c.handle("YR", &mut rng, NOW);
        let chal = s.handle(&format!("YR {}", arg(&neg, "YR")), &mut rng, NOW);
        assert!(s.handle("KK %%%", &mut rng, NOW).starts_with("BH "));
        assert!(c.handle("TT %%%", &mut rng, NOW).starts_with("BH "));
        assert!(
            c.handle("SF NTLMSSP_FEATURE_SIGN", &mut rng, NOW)
                .starts_with("BH ")
        );
        assert_eq!(s.state(), "awaiting-authenticate");
        let auth = c.handle(&format!("TT {}", arg(&chal, "TT")), &mut rng, NOW);
        assert_eq!(
            s.handle(&format!("KK {}", arg(&auth, "AF")), &mut rng, NOW),
            "AF TESTDOM\\alice"
        );
        // TT after the AUTHENTICATE was sent: nothing pending.
        assert!(
            c.handle(&format!("TT {}", arg(&chal, "TT")), &mut rng, NOW)
                .starts_with("BH ")
        );
    }

    #[test]
    fn malformed_challenge_is_na() {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let mut c = client("Passw0rd!");
        assert!(c.handle("YR", &mut rng, NOW).starts_with("YR "));
        assert!(c.handle("TT aGVsbG8=", &mut rng, NOW).starts_with("NA "));
        assert_eq!(c.state(), "failed");
    }

    #[test]
    fn helper_enum_dispatches() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let mut h = Helper::Client(Box::new(client("x")));
        assert!(h.handle("YR", &mut rng, NOW).starts_with("YR "));
        let mut h = Helper::Server(Box::new(server(0)));
        assert!(
            h.handle("SF NTLMSSP_FEATURE_SIGN", &mut rng, NOW)
                .starts_with("BH ")
        );
    }

    /// Names an attacker can put in an AUTHENTICATE (the 64 KiB one is
    /// too long for a UTF-16 name field and fails on the client side).
    fn hostile_names() -> Vec<String> {
        let mut v: Vec<String> = [
            "x\nAF TESTDOM\\administrator",
            "x\rAF TESTDOM\\administrator",
            "x\r\nAF TESTDOM\\administrator",
            "nul\0byte",
            "\u{1b}[2J",
            "\u{1b}]0;title\u{7}",
            "\u{9b}31m",
            "admin\u{202e}nimda",
            "zero\u{200b}width",
            "line\u{2028}sep",
        ]
        .map(String::from)
        .to_vec();
        v.push("a".repeat(64 * 1024));
        v
    }

    fn hostile_client(user: &str, domain: &str) -> ClientHelper {
        ClientHelper::new(ClientSettings::new(Credentials::password(
            user,
            domain,
            "Passw0rd!",
        )))
    }

    #[test]
    fn the_reported_attack_gets_one_answer_per_request() {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let mut s = server(0);
        let mut evil = hostile_client("x\nAF TESTDOM\\administrator", "TESTDOM");
        // The password is right: only the name is refused.
        assert_eq!(
            exchange(&mut evil, &mut s, &mut rng),
            "NA STATUS_LOGON_FAILURE"
        );
        assert_eq!(s.state(), "failed");
        assert!(s.handle("GK", &mut rng, NOW).starts_with("BH "));
        assert!(s.handle("GF", &mut rng, NOW).starts_with("BH "));
        // The next client's YR is answered with its own CHALLENGE, and its
        // KK with its own name.
        let mut good = client("Passw0rd!");
        let neg = good.handle("YR", &mut rng, NOW);
        let chal = s.handle(&format!("YR {}", arg(&neg, "YR")), &mut rng, NOW);
        assert!(chal.starts_with("TT "), "{chal}");
        let auth = good.handle(&format!("TT {}", arg(&chal, "TT")), &mut rng, NOW);
        assert_eq!(
            s.handle(&format!("KK {}", arg(&auth, "AF")), &mut rng, NOW),
            "AF TESTDOM\\alice"
        );
    }

    #[test]
    fn hostile_user_and_domain_names_are_refused_on_one_line() {
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        let mut s = server(0);
        for name in hostile_names() {
            for (user, domain) in [(name.as_str(), "TESTDOM"), ("alice", name.as_str())] {
                let mut c = hostile_client(user, domain);
                let neg = c.handle("YR", &mut rng, NOW);
                let chal = s.handle(&format!("YR {}", arg(&neg, "YR")), &mut rng, NOW);
                let auth = c.handle(&format!("TT {}", arg(&chal, "TT")), &mut rng, NOW);
                let short: String = name.chars().take(12).collect();
                let answer = match auth.strip_prefix("AF ") {
                    Some(a) => s.handle(&format!("KK {a}"), &mut rng, NOW),
                    None => {
                        // Only the 64 KiB name: no UTF-16 name field holds it.
                        assert!(name.len() > 32 * 1024, "{short:?}: {auth}");
                        auth
                    }
                };
                if name.len() > 32 * 1024 {
                    assert!(answer.starts_with("NA "), "{short:?}: {answer}");
                } else {
                    assert_eq!(answer, "NA STATUS_LOGON_FAILURE", "{short:?}");
                }
                assert!(sink::line_safe(&answer), "{short:?}: {answer:?}");
            }
        }
        // Plain non-ASCII names are not refused.
        let mut c = hostile_client("j\u{f6}rg", "D\u{c9}V");
        assert_eq!(exchange(&mut c, &mut s, &mut rng), "AF D\u{c9}V\\j\u{f6}rg");
    }

    #[test]
    fn answers_echo_no_unsafe_character() {
        let mut rng = ChaCha20Rng::seed_from_u64(13);
        let mut c = client("x");
        let a = c.handle("SF NTLMSSP_FEATURE_\u{1b}[2J\u{202e}", &mut rng, NOW);
        assert!(a.starts_with("BH unknown feature "), "{a}");
        assert!(sink::line_safe(&a), "{a:?}");
        assert_eq!(one_line(String::from("AF D\\u")), "AF D\\u");
        for bad in [
            "AF D\\x\nAF D\\admin",
            "AF \r",
            "AF \u{1b}[2J",
            "AF a\u{2028}b",
        ] {
            assert!(one_line(bad.to_owned()).starts_with("BH "), "{bad:?}");
        }
    }

    #[test]
    fn read_line_bounds_and_line_ends() {
        let mut r = Cursor::new(b"YR\r\nGK\n\xff\xfe\nlast".to_vec());
        assert_eq!(
            read_line(&mut r, 10).unwrap(),
            Some(Line::Text("YR".into()))
        );
        assert_eq!(
            read_line(&mut r, 10).unwrap(),
            Some(Line::Text("GK".into()))
        );
        assert_eq!(read_line(&mut r, 10).unwrap(), Some(Line::NotUtf8));
        assert_eq!(
            read_line(&mut r, 10).unwrap(),
            Some(Line::Text("last".into()))
        );
        assert_eq!(read_line(&mut r, 10).unwrap(), None);

        // Exactly at the limit, with and without \r; one over; far over.
        let mut text = Vec::new();
        text.extend_from_slice(&[b'a'; 10]);
        text.extend_from_slice(b"\n");
        text.extend_from_slice(&[b'b'; 10]);
        text.extend_from_slice(b"\r\n");
        text.extend_from_slice(&[b'c'; 11]);
        text.extend_from_slice(b"\n");
        text.extend_from_slice(&[b'd'; 100_000]);
        text.extend_from_slice(b"\nGF\n");
        // A tiny buffer forces the line to arrive in many chunks.
        let mut r = io::BufReader::with_capacity(7, Cursor::new(text));
        assert_eq!(
            read_line(&mut r, 10).unwrap(),
            Some(Line::Text("a".repeat(10)))
        );
        assert_eq!(
            read_line(&mut r, 10).unwrap(),
            Some(Line::Text("b".repeat(10)))
        );
        assert_eq!(read_line(&mut r, 10).unwrap(), Some(Line::TooLong));
        assert_eq!(read_line(&mut r, 10).unwrap(), Some(Line::TooLong));
        assert_eq!(
            read_line(&mut r, 10).unwrap(),
            Some(Line::Text("GF".into()))
        );
        assert_eq!(read_line(&mut r, 10).unwrap(), None);
        assert!(
            answer_unreadable(&Line::TooLong)
                .unwrap()
                .starts_with("BH ")
        );
        assert!(
            answer_unreadable(&Line::NotUtf8)
                .unwrap()
                .starts_with("BH ")
        );
        assert_eq!(answer_unreadable(&Line::Text(String::new())), None);
    }

    #[test]
    fn empty_line_at_eof_is_a_line() {
        let mut r = Cursor::new(b"\n".to_vec());
        assert_eq!(
            read_line(&mut r, 10).unwrap(),
            Some(Line::Text(String::new()))
        );
        assert_eq!(read_line(&mut r, 10).unwrap(), None);
    }
}
