//! Fixtures shared by this crate's unit tests and the view tests of
//! ntlm-report (feature `fixtures`, for tests only): an acceptor and clients
//! for [`crate::serve`], an audit of a capture for [`crate::audit`], and names
//! an attacker can choose for [`crate::sink`].
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test fixtures: a broken fixture must abort the test"
)]

/// Fixtures for [`crate::sink`].
pub mod sink {
    /// Names an attacker can put in an AUTHENTICATE message.
    pub const HOSTILE: &[&str] = &[
        "x\nAF TESTDOM\\administrator",
        "x\r\nforged",
        "nul\0byte",
        "\u{1b}[2J\u{1b}]0;owned\u{7}",
        "\u{9b}31m",
        "admin\u{202e}nimda",
        "zero\u{200b}width",
        "line\u{2028}sep",
        "\u{feff}bom",
    ];
}

/// Fixtures for [`crate::serve`].
pub mod serve {
    use std::net::{IpAddr, SocketAddr};
    use std::sync::Arc;

    use ntlm_gss::http;
    use ntlm_policy::MinSessionSecurity;
    use ntlm_session::{
        Client, ClientSettings, Credentials, Established, MemoryStore, ServerSettings,
    };
    use ntlm_wire::{FileTime, NegotiateFlags};
    use rand_chacha::ChaCha20Rng;

    use crate::outcome::{FailureJson, OutcomeJson};
    use crate::serve::{Acceptor, Connection, Limits, Record, Reply, Scheme};

    /// The time of the fixtures' handshakes, as a FILETIME.
    pub const NOW: FileTime = FileTime(134_117_280_000_000_000);

    /// An acceptor for `TESTDOM\\alice` (password `Passw0rd!`) enforcing
    /// NtlmMinServerSec `min`, with `what_if` masks and `limits`.
    pub fn acceptor(min: u32, what_if: &[u32], limits: Limits) -> Arc<Acceptor> {
        let mut store = MemoryStore::new();
        store.add_password("TESTDOM", "alice", "Passw0rd!");
        let mut s = ServerSettings::new(Arc::new(store));
        s.min = MinSessionSecurity::from_registry(min);
        Arc::new(Acceptor::new(
            s,
            what_if
                .iter()
                .map(|&m| MinSessionSecurity::from_registry(m))
                .collect(),
            limits,
        ))
    }

    /// A client of `TESTDOM\\alice` that signs and seals, offering 128-bit
    /// keys or not.
    pub fn client(password: &str, offer_128: bool) -> ClientSettings {
        let mut c = ClientSettings::new(Credentials::password("alice", "TESTDOM", password));
        c.config.integrity = true;
        c.config.confidentiality = true;
        if !offer_128 {
            c.config.offer.remove(NegotiateFlags::NEGOTIATE_128);
            c.config
                .offer_with_security
                .remove(NegotiateFlags::NEGOTIATE_128);
            c.min = MinSessionSecurity::from_registry(0);
        }
        c
    }

    /// The failure of a verdict that must be one.
    pub fn failure(o: &OutcomeJson) -> &FailureJson {
        match o {
            OutcomeJson::Failure(f) => f,
            OutcomeJson::Success(_) => panic!("expected a failure"),
        }
    }

    /// A socket address from text.
    pub fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// `NTLM <base64>`.
    pub fn header(msg: &[u8]) -> String {
        http::header_value(Scheme::Ntlm, msg)
    }

    /// One full handshake on `conn`; the replies and the record.
    pub fn handshake(
        conn: &mut Connection,
        c: ClientSettings,
        rng: &mut ChaCha20Rng,
        now_ms: u64,
    ) -> (Reply, Option<Record>, Option<Established>) {
        let (neg, client) = Client::start(c).unwrap();
        let (reply, record) = conn.on_request(Some(&header(&neg)), rng, NOW, 0);
        let Reply::Unauthorized {
            challenge: Some((Scheme::Ntlm, chal)),
            ..
        } = reply
        else {
            return (reply, record, None);
        };
        assert!(record.is_none());
        let (auth, established) = client.on_challenge(&chal, rng, NOW).unwrap();
        let (reply, record) = conn.on_request(Some(&header(&auth)), rng, NOW, now_ms);
        (reply, record, Some(established.0))
    }

    /// A client with its own user, password and workstation.
    pub fn named(user: &str, password: &str, workstation: &str) -> ClientSettings {
        let mut c = ClientSettings::new(Credentials::password(user, "TESTDOM", password));
        c.config.integrity = true;
        c.config.confidentiality = true;
        c.workstation = workstation.to_owned();
        c
    }

    /// An IP address from text.
    pub fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }
}

/// Fixtures for [`crate::audit`].
pub mod audit {
    use ntlm_capture::{Event, Extractor};

    use crate::audit::{Auditor, ExchangeRecord, Policy, ProblemRecord};
    use crate::profiles::Catalog;

    /// The records and problems of an audit of `capture` under `policy`.
    pub fn records(capture: &[u8], policy: Policy) -> (Vec<ExchangeRecord>, Vec<ProblemRecord>) {
        let auditor = Auditor::new(policy, &Catalog::builtin().unwrap());
        let mut xs = Vec::new();
        let mut problems = Vec::new();
        Extractor::default()
            .run(0, capture, &mut |e| match e {
                Event::Exchange(x) => xs.push(x),
                Event::Problem(p) => problems.push(ProblemRecord::new("t", &p)),
                Event::Progress { .. } => {}
            })
            .unwrap();
        let recs = xs
            .iter()
            .enumerate()
            .map(|(i, x)| auditor.judge("t", i + 1, x, &mut problems))
            .collect();
        (recs, problems)
    }
}
