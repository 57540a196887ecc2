//! Session security after a handshake: signing and sealing in both
//! directions, and what happens to a tampered or replayed message.
//!
//! Run with `cargo run --example session_security`.

use std::sync::Arc;

use ntlmsim::session::{ClientSettings, Credentials, Fixed, MemoryStore, Pair, ServerSettings};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut client = ClientSettings::new(Credentials::password("alice", "TESTDOM", "Passw0rd!"));
    client.config.integrity = true;
    client.config.confidentiality = true;
    let mut accounts = MemoryStore::new();
    accounts.add_password("TESTDOM", "alice", "Passw0rd!");
    let server = ServerSettings::new(Arc::new(accounts));
    let now = ntlmsim::wire::FileTime::from_unix(1_767_225_600, 0);
    let (mut c, mut s) = Pair { client, server }
        .run(&mut ChaCha20Rng::seed_from_u64(7), now, Fixed::default())
        .outcome?;
    println!(
        "{}-bit keys, sealing: {}",
        s.report.key_strength_bits(),
        s.report.sealing()
    );

    let mut message = b"GET /secret".to_vec();
    let signature = c.security.seal(&mut message)?;
    println!("sealed:   {:02x?}", &message);
    s.security.unseal(&mut message, &signature)?;
    println!("unsealed: {}", String::from_utf8_lossy(&message));

    let reply = b"200 OK";
    let sig = s.security.sign(reply)?;
    c.security.verify(reply, &sig)?;
    println!("server's signed reply verified");

    let sig = c.security.sign(b"transfer 10")?;
    println!(
        "altered:  {:?}",
        s.security.verify(b"transfer 99", &sig).err()
    );
    s.security.verify(b"transfer 10", &sig)?;
    println!(
        "replayed: {:?}",
        s.security.verify(b"transfer 10", &sig).err()
    );
    Ok(())
}
