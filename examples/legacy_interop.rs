//! Legacy clients against a hardened server: which combinations still
//! authenticate, and why the others fail.
//!
//! Run with `cargo run --example legacy_interop`.

use std::sync::Arc;

use ntlmsim::policy::{LmCompatibilityLevel, MinSessionSecurity};
use ntlmsim::session::{ClientSettings, Credentials, Fixed, MemoryStore, Pair, ServerSettings};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

fn main() {
    let now = ntlmsim::wire::FileTime::from_unix(1_767_225_600, 0);
    for client_level in 0..=5 {
        for server_min in [0u32, 0x2000_0000, 0x2008_0000] {
            let mut client =
                ClientSettings::new(Credentials::password("alice", "TESTDOM", "Passw0rd!"));
            client.config.lm_level =
                LmCompatibilityLevel::from_u8(client_level).unwrap_or_default();
            // A legacy client: no 128-bit unless it signs, no minimum of its own.
            client.config.offer = ntlmsim::wire::NegotiateFlags::NEGOTIATE_OEM;
            client.min = MinSessionSecurity::NONE;
            let mut accounts = MemoryStore::new();
            accounts.add_password("TESTDOM", "alice", "Passw0rd!");
            let mut server = ServerSettings::new(Arc::new(accounts));
            server.min = MinSessionSecurity::from_registry(server_min);
            server.config.lm_level = LmCompatibilityLevel::L5;
            let ex = Pair { client, server }.run(
                &mut ChaCha20Rng::seed_from_u64(1),
                now,
                Fixed::default(),
            );
            let verdict = match &ex.outcome {
                Ok((_, s)) => format!("ok ({})", s.report.response_kind),
                Err(f) => format!("{} refuses on {}: {}", f.side, f.stage, f.status.name()),
            };
            println!(
                "client LmCompatibilityLevel {client_level}, NtlmMinServerSec {server_min:#010x}: {verdict}"
            );
        }
    }
}
