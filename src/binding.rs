//! Channel binding and target names in a simulated exchange: the carrier,
//! the server's settings ([`ntlm_policy::BindingPolicy`]) and the client
//! profile's behaviour ([`crate::profiles::ClientBinding`]) applied to both
//! sides' settings, as `handshake`, `interop`, fleets and observations do.

use ntlm_policy::{BindingPolicy, Carrier, ZeroBindings};
use ntlm_session::{ClientSettings, ServerNames, ServerSettings};

use crate::profiles::Profile;

/// The MD5 of the simulated TLS channel's bindings, which a binding client
/// and the server both compute. Any value would do: both sides of a
/// simulated exchange see the same channel (no man in the middle).
pub const SIMULATED_CHANNEL: [u8; 16] = *b"ntlmsim-channel!";

/// The SPN a client names for the server over `carrier`: `HTTP/`, `ldap/`,
/// `cifs/` or `host/` and the server's DNS computer name (its NetBIOS name
/// when it has none).
pub fn spn(carrier: Carrier, names: &ServerNames) -> String {
    let service = match carrier {
        Carrier::Http | Carrier::Https => "HTTP",
        Carrier::Ldap | Carrier::Ldaps => "ldap",
        Carrier::Smb => "cifs",
        Carrier::Other => "host",
    };
    let host = names.dns_computer.as_deref().unwrap_or(&names.nb_computer);
    format!("{service}/{host}")
}

/// Reads `--carrier`.
pub fn carrier(name: &str) -> Result<Carrier, String> {
    Carrier::from_name(name).ok_or_else(|| {
        format!("--carrier {name:?} is not one of http, https, ldap, ldaps, smb, other")
    })
}

/// Reads `--binding NAME=VALUE` items and `--zero-channel-bindings` into
/// a server's settings.
pub fn policy(items: &[String], zero_bindings: &str) -> Result<BindingPolicy, String> {
    let mut p = BindingPolicy {
        zero_bindings: ZeroBindings::from_name(zero_bindings).ok_or_else(|| {
            format!("--zero-channel-bindings {zero_bindings:?} is not refused or accepted")
        })?,
        ..BindingPolicy::default()
    };
    for item in items {
        let s =
            ntlm_policy::binding::parse_assignment(item).map_err(|e| format!("--binding: {e}"))?;
        p.set(s);
    }
    Ok(p)
}

/// Applies the carrier, the server's settings and the client profile's
/// behaviour: the server checks what `policy` asks over `carrier` for the
/// simulated channel and its own SPN; the client binds and names the
/// server as its profile says.
pub fn apply(
    client_profile: &Profile,
    client: &mut ClientSettings,
    server: &mut ServerSettings,
    policy: &BindingPolicy,
    carrier: Carrier,
) {
    let name = spn(carrier, &server.names);
    let channel = carrier.tls().then_some(SIMULATED_CHANNEL);
    server.apply_binding_checks(&policy.checks(carrier), channel, &name);
    client_profile.apply_client_binding(client, carrier, SIMULATED_CHANNEL, &name);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profiles::Catalog;
    use ntlm_policy::ExtendedProtection;
    use ntlm_session::{Credentials, MemoryStore, Pair};
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;
    use std::sync::Arc;

    fn run(client: &str, policy: &BindingPolicy, carrier: Carrier) -> Result<(), &'static str> {
        let catalog = Catalog::builtin().unwrap();
        let cp = catalog.get(client).unwrap();
        let sp = catalog.get("windows-11").unwrap();
        let mut store = MemoryStore::new();
        store.add_password("TESTDOM", "alice", "pw");
        let mut c = cp
            .client_settings(Credentials::password("alice", "TESTDOM", "pw"))
            .unwrap();
        let mut s = sp.server_settings(Arc::new(store)).unwrap();
        apply(cp, &mut c, &mut s, policy, carrier);
        let ex = Pair {
            client: c,
            server: s,
        }
        .run(
            &mut ChaCha20Rng::seed_from_u64(1),
            133_000_000_000_000_000,
            ntlm_session::Fixed::default(),
        );
        ex.outcome.map(|_| ()).map_err(|f| f.rule.id)
    }

    #[test]
    fn extended_protection_required_over_https() {
        let policy = BindingPolicy {
            extended_protection: ExtendedProtection::Require,
            ..BindingPolicy::default()
        };
        assert_eq!(run("windows-11", &policy, Carrier::Https), Ok(()));
        assert_eq!(
            run("curl-7.88", &policy, Carrier::Https),
            Err("epa-require")
        );
        assert_eq!(
            run("gss-ntlmssp-1.2", &policy, Carrier::Https),
            Err("epa-require")
        );
        // Plain HTTP: nothing to bind to, nothing checked.
        assert_eq!(run("curl-7.88", &policy, Carrier::Http), Ok(()));
    }

    #[test]
    fn spn_names_the_service_and_host() {
        let n = ServerNames::default();
        assert_eq!(spn(Carrier::Smb, &n), "cifs/ntlmsim.testdom.example");
        assert_eq!(spn(Carrier::Https, &n), "HTTP/ntlmsim.testdom.example");
    }
}
