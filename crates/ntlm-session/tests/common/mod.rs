//! Shared settings for the session tests.
#![allow(dead_code, reason = "each test binary uses a different subset")]
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a bad fixture must abort the test"
)]

use std::sync::Arc;

use ntlm_policy::{LmCompatibilityLevel, MinSessionSecurity};
use ntlm_session::{ClientSettings, Credentials, MemoryStore, ServerNames, ServerSettings};
use ntlm_wire::{NegotiateFlags, Version};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

pub(crate) fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

pub(crate) fn store() -> Arc<MemoryStore> {
    let mut s = MemoryStore::new();
    s.add_password("Domain", "User", "Password");
    s.add_password("TESTDOM", "alice", "Passw0rd!");
    Arc::new(s)
}

/// The MS-NLMP 4.2 client: an XP-era client (Version 5.1.2600) with exact flags.
pub(crate) fn spec_client(auth_flags: u32, level: u8) -> ClientSettings {
    let mut c = ClientSettings::new(Credentials::password("User", "Domain", "Password"));
    c.workstation = "COMPUTER".into();
    c.version = Version::new(5, 1, 2600);
    c.av_extensions = false;
    c.min = MinSessionSecurity::from_registry(0);
    c.config.lm_level = LmCompatibilityLevel::from_u8(level).unwrap();
    c.config.flags_override = Some(NegotiateFlags::from_bits_retain(auth_flags));
    c.authenticate_flags = Some(NegotiateFlags::from_bits_retain(auth_flags));
    c
}

/// The MS-NLMP 4.2 server: "Server" in "Domain", not joined, no DNS names,
/// no timestamp, Version 6.0.6000, exact CHALLENGE flags.
pub(crate) fn spec_server(challenge_flags: u32) -> ServerSettings {
    let mut s = ServerSettings::new(store());
    s.min = MinSessionSecurity::from_registry(0);
    s.config.domain_joined = false;
    s.config.flags_override = Some(NegotiateFlags::from_bits_retain(challenge_flags));
    s.names = ServerNames {
        nb_domain: "Domain".into(),
        nb_computer: "Server".into(),
        dns_domain: None,
        dns_computer: None,
        dns_tree: None,
    };
    s.send_timestamp = false;
    s.send_dns_names = false;
    s.version = Version::new(6, 0, 6000);
    s
}

pub(crate) fn alice() -> ClientSettings {
    ClientSettings::new(Credentials::password("alice", "TESTDOM", "Passw0rd!"))
}

pub(crate) fn server() -> ServerSettings {
    ServerSettings::new(store())
}

/// 2026-01-01T00:00:00Z as a FILETIME.
pub(crate) const NOW: ntlm_wire::FileTime = ntlm_wire::FileTime::from_unix(1_767_225_600, 0);
