//! A complete NTLMv2 exchange between a client and a server in one process,
//! message by message, using the sans-IO typestates.
//!
//! Run with `cargo run --example handshake`.

use std::sync::Arc;

use ntlmsim::session::{Client, ClientSettings, Credentials, MemoryStore, Server, ServerSettings};
use ntlmsim::wire::Message;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let now = ntlmsim::wire::FileTime::from_unix(1_767_225_600, 0);

    let mut accounts = MemoryStore::new();
    accounts.add_password("TESTDOM", "alice", "Passw0rd!");
    let server = Server::start(ServerSettings::new(Arc::new(accounts)));

    let mut client = ClientSettings::new(Credentials::password("alice", "TESTDOM", "Passw0rd!"));
    client.config.integrity = true;

    let (negotiate, client) = Client::start(client)?;
    let (challenge, server) = server.on_negotiate(&negotiate, &mut rng, now)?;
    let (authenticate, client) = client.on_challenge(&challenge, &mut rng, now)?;
    let server = server.on_authenticate(&authenticate)?;

    for (name, bytes) in [
        ("NEGOTIATE", &negotiate),
        ("CHALLENGE", &challenge),
        ("AUTHENTICATE", &authenticate),
    ] {
        let flags = Message::parse(bytes)?.flags();
        println!("{name:<12} {:>4} bytes  flags {flags}", bytes.len());
    }
    let report = &server.0.report;
    println!(
        "authenticated {}\\{} with {}, MIC verified: {}, keys equal: {}",
        report.domain,
        report.user,
        report.response_kind,
        report.mic,
        client.0.exported_session_key() == server.0.exported_session_key()
    );
    Ok(())
}
