//! Side-by-side timing of one NTLMv2 handshake in three implementations:
//! ntlmsim (this workspace), the `sspi` crate and pyspnego.
//!
//! The operation timed is the same everywhere: client and server in one
//! process, NEGOTIATE → CHALLENGE → AUTHENTICATE with NTLMv2, a MIC,
//! KEY_EXCH, SIGN and SEAL; the server verifies; then the client seals a
//! 32-byte message that the server unseals, and the server seals one that
//! the client unseals (so both sides hold their signing and sealing keys).
//!
//! ```text
//! cargo run --release -- sspi      [--rounds R] [--batch B]
//! cargo run --release -- pyspnego  [--rounds R] [--batch B] [--python PATH]
//! cargo run --release -- count <ntlmsim|sspi> N
//! ```
//!
//! `sspi` alternates batches of B handshakes of each implementation for R
//! rounds and prints the median time per handshake of each and the ratio.
//! `pyspnego` runs `pyspnego_handshake.py` R times (B handshakes each,
//! printing its median) alternating with batches of ntlmsim handshakes.
//! `count` runs N handshakes of one implementation inside `measured`, for
//! `valgrind --tool=callgrind --toggle-collect='*measured*'`.

use std::hint::black_box;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use ntlm_session::{ClientSettings, Credentials, Fixed, MemoryStore, Pair, ServerSettings};
use ntlm_wire::MessageSignature;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

const USER: &str = "alice";
const DOMAIN: &str = "TESTDOM";
const PASSWORD: &str = "Passw0rd!";
/// 2026-11-23 as a FILETIME.
const NOW: ntlm_wire::FileTime = ntlm_wire::FileTime(134_084_736_000_000_000);
const MESSAGE: &[u8; 32] = b"one message each way, 32 bytes..";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map_or("sspi", String::as_str);
    let opt = |name: &str, default: usize| -> usize {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let rounds = opt("--rounds", 30);
    let batch = opt("--batch", 200);
    match mode {
        "sspi" => compare_sspi(rounds, batch),
        "pyspnego" => {
            let python = args
                .iter()
                .position(|a| a == "--python")
                .and_then(|i| args.get(i + 1))
                .cloned()
                .unwrap_or_else(|| String::from("python3"));
            compare_pyspnego(&python, rounds.min(10), batch);
        }
        "count" => {
            let which = args.get(1).map_or("ntlmsim", String::as_str);
            let n = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(1);
            black_box(measured(which, n));
        }
        other => {
            eprintln!("unknown mode {other:?}: use sspi, pyspnego or count");
            std::process::exit(2);
        }
    }
}

// ---------------------------------------------------------------- ntlmsim

struct NtlmsimSetup {
    client: ClientSettings,
    server: ServerSettings,
    rng: ChaCha20Rng,
}

impl NtlmsimSetup {
    fn new() -> Self {
        let mut client = ClientSettings::new(Credentials::password(USER, DOMAIN, PASSWORD));
        client.config.integrity = true;
        client.config.confidentiality = true;
        let mut store = MemoryStore::new();
        store.add_password(DOMAIN, USER, PASSWORD);
        Self {
            client,
            server: ServerSettings::new(Arc::new(store)),
            rng: ChaCha20Rng::seed_from_u64(7),
        }
    }

    /// One handshake and one sealed message each way.
    fn run(&mut self) {
        let ex = Pair {
            client: self.client.clone(),
            server: self.server.clone(),
        }
        .run(&mut self.rng, NOW, Fixed::default());
        let (mut c, mut s) = ex.outcome.expect("the ntlmsim handshake succeeds");
        assert!(
            c.report
                .flags
                .contains(ntlm_wire::NegotiateFlags::NEGOTIATE_KEY_EXCH)
        );
        assert!(s.report.mic, "the server verified a MIC");
        seal_roundtrip(&mut c.security, &mut s.security);
        seal_roundtrip(&mut s.security, &mut c.security);
    }
}

fn seal_roundtrip(from: &mut ntlm_crypto::SessionSecurity, to: &mut ntlm_crypto::SessionSecurity) {
    let mut msg = *MESSAGE;
    let sig: MessageSignature = from.seal(&mut msg).expect("seal");
    to.unseal(&mut msg, &sig).expect("unseal");
    assert_eq!(&msg, MESSAGE);
}

// ------------------------------------------------------------------- sspi

mod sspi_side {
    use sspi::{
        AuthIdentity, AuthIdentityBuffers, BufferType, ClientRequestFlags, CredentialUse,
        DataRepresentation, EncryptionFlags, Ntlm, SecurityBuffer, SecurityBufferRef,
        SecurityStatus, ServerRequestFlags, Sspi, SspiImpl, Username,
    };

    use super::{DOMAIN, MESSAGE, PASSWORD, USER};

    pub(super) struct SspiSetup {
        identity: AuthIdentity,
    }

    fn flags() -> ClientRequestFlags {
        // INTEGRITY and CONFIDENTIALITY: SIGN and SEAL; sspi always asks for
        // KEY_EXCH and sends a MIC with NTLMv2.
        ClientRequestFlags::MUTUAL_AUTH
            | ClientRequestFlags::USE_SESSION_KEY
            | ClientRequestFlags::INTEGRITY
            | ClientRequestFlags::CONFIDENTIALITY
    }

    impl SspiSetup {
        pub(super) fn new() -> Self {
            Self {
                identity: AuthIdentity {
                    username: Username::new(USER, Some(DOMAIN)).expect("user name"),
                    password: String::from(PASSWORD).into(),
                },
            }
        }

        fn handle(&self, ntlm: &mut Ntlm, usage: CredentialUse) -> Option<AuthIdentityBuffers> {
            ntlm.acquire_credentials_handle()
                .with_credential_use(usage)
                .with_auth_data(&self.identity)
                .execute(ntlm)
                .expect("acquire_credentials_handle")
                .credentials_handle
        }

        /// One handshake and one sealed message each way.
        pub(super) fn run(&self) {
            let mut client = Ntlm::new();
            let mut server = Ntlm::new();
            let mut client_cred = self.handle(&mut client, CredentialUse::Outbound);
            let mut server_cred = self.handle(&mut server, CredentialUse::Inbound);

            let mut to_server = [SecurityBuffer::new(Vec::new(), BufferType::Token)];
            let mut to_client = [SecurityBuffer::new(Vec::new(), BufferType::Token)];
            let mut steps = 0;
            loop {
                steps += 1;
                assert!(steps <= 3, "the sspi handshake takes three messages");
                to_server[0].buffer.clear();
                let mut b = client
                    .initialize_security_context()
                    .with_credentials_handle(&mut client_cred)
                    .with_context_requirements(flags())
                    .with_target_data_representation(DataRepresentation::Native)
                    .with_input(&mut to_client)
                    .with_output(&mut to_server);
                let status = client
                    .initialize_security_context_impl(&mut b)
                    .expect("initialize_security_context")
                    .resolve_to_result()
                    .expect("initialize_security_context")
                    .status;
                if matches!(
                    status,
                    SecurityStatus::CompleteAndContinue | SecurityStatus::CompleteNeeded
                ) {
                    client
                        .complete_auth_token(&mut to_server)
                        .expect("client complete");
                }

                to_client[0].buffer.clear();
                let b = server
                    .accept_security_context()
                    .with_credentials_handle(&mut server_cred)
                    .with_context_requirements(ServerRequestFlags::empty())
                    .with_target_data_representation(DataRepresentation::Native)
                    .with_input(&mut to_server)
                    .with_output(&mut to_client);
                let status = server
                    .accept_security_context_impl(b)
                    .expect("accept_security_context")
                    .resolve_to_result()
                    .expect("accept_security_context")
                    .status;
                match status {
                    SecurityStatus::ContinueNeeded => {}
                    SecurityStatus::CompleteNeeded | SecurityStatus::CompleteAndContinue => {
                        // Verifies the AUTHENTICATE (via the MIC) and derives the keys.
                        let s = server
                            .complete_auth_token(&mut [])
                            .expect("server complete");
                        assert_eq!(s, SecurityStatus::Ok);
                        break;
                    }
                    SecurityStatus::Ok => break,
                    other => panic!("unexpected sspi status {other:?}"),
                }
            }
            seal_roundtrip(&mut client, &mut server);
            seal_roundtrip(&mut server, &mut client);
        }
    }

    fn seal_roundtrip(from: &mut Ntlm, to: &mut Ntlm) {
        let mut token = [0u8; 16];
        let mut data = *MESSAGE;
        let mut bufs = [
            SecurityBufferRef::token_buf(&mut token),
            SecurityBufferRef::data_buf(&mut data),
        ];
        from.encrypt_message(EncryptionFlags::empty(), &mut bufs)
            .expect("encrypt_message");
        to.decrypt_message(&mut bufs).expect("decrypt_message");
        assert_eq!(bufs[1].data(), MESSAGE);
    }
}

// ------------------------------------------------------------------ timing

/// `n` handshakes of one implementation, setup outside: what callgrind counts.
#[inline(never)]
fn measured(which: &str, n: usize) -> usize {
    match which {
        "sspi" => {
            let theirs = sspi_side::SspiSetup::new();
            measured_sspi(&theirs, n)
        }
        _ => {
            let mut ours = NtlmsimSetup::new();
            measured_ntlmsim(&mut ours, n)
        }
    }
}

#[inline(never)]
fn measured_ntlmsim(s: &mut NtlmsimSetup, n: usize) -> usize {
    for _ in 0..n {
        s.run();
    }
    n
}

#[inline(never)]
fn measured_sspi(s: &sspi_side::SspiSetup, n: usize) -> usize {
    for _ in 0..n {
        black_box(s).run();
    }
    n
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Microseconds per call of `f`, over `n` calls.
fn time_batch(n: usize, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed().as_secs_f64() * 1e6 / n as f64
}

fn compare_sspi(rounds: usize, batch: usize) {
    let mut ours = NtlmsimSetup::new();
    let theirs = sspi_side::SspiSetup::new();
    // Warm-up (and a check that both work).
    time_batch(batch, || ours.run());
    time_batch(batch, || black_box(&theirs).run());
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        a.push(time_batch(batch, || ours.run()));
        b.push(time_batch(batch, || black_box(&theirs).run()));
    }
    let (ma, mb) = (median(&mut a), median(&mut b));
    println!("handshake + one sealed message each way, {rounds} alternating rounds of {batch}");
    println!("ntlmsim: median {ma:.2} µs");
    println!("sspi {}: median {mb:.2} µs", sspi_version());
    println!("sspi / ntlmsim: {:.2}x", mb / ma);
}

fn sspi_version() -> &'static str {
    "0.23.1"
}

fn compare_pyspnego(python: &str, rounds: usize, batch: usize) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/pyspnego_handshake.py");
    let mut ours = NtlmsimSetup::new();
    time_batch(batch, || ours.run());
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let out = Command::new(python)
            .arg(script)
            .arg(batch.to_string())
            .output()
            .expect("run the pyspnego script");
        assert!(
            out.status.success(),
            "pyspnego script failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let us: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("median_us "))
            .and_then(|v| v.trim().parse().ok())
            .expect("the script prints median_us");
        b.push(us);
        // ntlmsim in between, as many handshakes as pyspnego ran.
        let mut per = Vec::new();
        for _ in 0..batch {
            per.push(time_batch(1, || ours.run()));
        }
        a.push(median(&mut per));
    }
    let (ma, mb) = (median(&mut a), median(&mut b));
    println!("handshake + one sealed message each way, {rounds} alternating rounds of {batch}");
    println!("ntlmsim: median {ma:.2} µs");
    println!("pyspnego: median {mb:.2} µs");
    println!("pyspnego / ntlmsim: {:.1}x", mb / ma);
}
