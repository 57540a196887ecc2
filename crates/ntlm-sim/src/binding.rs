//! Channel binding and target names in a simulated exchange: the carrier,
//! the server's settings ([`ntlm_policy::BindingPolicy`]) and the client
//! profile's behaviour ([`crate::profiles::ClientBinding`]) applied to both
//! sides' settings, as `handshake`, `interop`, fleets and observations do.

use ntlm_policy::{BindingPolicy, BindingsSeen, Carrier, Failure, TargetNameSeen, ZeroBindings};
use ntlm_session::{ClientSettings, ServerNames, ServerSettings};
use ntlm_wire::{NegotiateFlags, ResponseKind};

use crate::profiles::{Profile, TargetNameSent};

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

/// A `--carrier`, `--binding` or `--zero-channel-bindings` value that
/// could not be read; the message names the option and quotes the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindingError {
    /// An unknown carrier.
    #[error("--carrier {0:?} is not one of http, https, ldap, ldaps, smb, other")]
    Carrier(String),
    /// An unknown reading of an all-zero MsvAvChannelBindings.
    #[error("--zero-channel-bindings {0:?} is not refused or accepted")]
    ZeroBindings(String),
    /// A `NAME=VALUE` item that could not be read, and why.
    #[error("--binding: {0}")]
    Setting(String),
}

/// Reads `--carrier`.
pub fn carrier(name: &str) -> Result<Carrier, BindingError> {
    Carrier::from_name(name).ok_or_else(|| BindingError::Carrier(name.to_owned()))
}

/// Reads `--binding NAME=VALUE` items and `--zero-channel-bindings` into
/// a server's settings.
pub fn policy(items: &[String], zero_bindings: &str) -> Result<BindingPolicy, BindingError> {
    let mut p = BindingPolicy {
        zero_bindings: ZeroBindings::from_name(zero_bindings)
            .ok_or_else(|| BindingError::ZeroBindings(zero_bindings.to_owned()))?,
        ..BindingPolicy::default()
    };
    for item in items {
        let s = ntlm_policy::binding::parse_assignment(item).map_err(BindingError::Setting)?;
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

/// The channel-binding and target-name failure (first) and the signing
/// failure (second) the flags-only engine predicts for `client` against a
/// server with `policy` over `carrier`, from the client profile's
/// [`ClientBinding`](crate::profiles::ClientBinding) and the negotiated
/// response and flags: the same decisions the session layer makes on the
/// AV pairs it receives.
pub fn flags_only_failures(
    client: &Profile,
    policy: &BindingPolicy,
    carrier: Carrier,
    response: ResponseKind,
    flags: NegotiateFlags,
) -> (Option<Failure>, Option<Failure>) {
    let b = &client.binding;
    // Only an NTLMv2 response carries AV pairs; a client without the AV
    // extensions sends neither MsvAvChannelBindings nor MsvAvTargetName.
    let ext = response == ResponseKind::NtlmV2 && b.target_name != TargetNameSent::Absent;
    let bindings = match (ext, b.binds_over(carrier), b.zero_pair) {
        (false, _, _) => BindingsSeen::Absent,
        (true, true, _) => BindingsSeen::Bound,
        (true, false, true) => BindingsSeen::Zero,
        (true, false, false) => BindingsSeen::Absent,
    };
    let name = match (ext, b.target_name) {
        (true, TargetNameSent::Spn) => TargetNameSeen::Named,
        (true, TargetNameSent::Empty) => TargetNameSeen::Empty,
        _ => TargetNameSeen::Absent,
    };
    ntlm_policy::binding::judge(&policy.checks(carrier), bindings, name, flags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profiles::Catalog;
    use ntlm_policy::ExtendedProtection;

    #[test]
    fn errors_name_the_option_and_value() {
        assert_eq!(
            carrier("ftp").map_err(|e| e.to_string()),
            Err("--carrier \"ftp\" is not one of http, https, ldap, ldaps, smb, other".to_owned())
        );
        assert_eq!(
            policy(&[], "maybe").map_err(|e| e.to_string()),
            Err("--zero-channel-bindings \"maybe\" is not refused or accepted".to_owned())
        );
        assert!(matches!(
            policy(&["no-equals".to_owned()], "refused"),
            Err(BindingError::Setting(m)) if m.contains("no-equals")
        ));
    }
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
            ntlm_wire::FileTime(133_000_000_000_000_000),
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

    /// The flags-only engine predicts the same channel-binding, target-name
    /// and signing verdicts as the full handshake, for every client profile,
    /// carrier and strict or lenient setting.
    #[test]
    fn engines_agree_on_binding_verdicts() {
        use crate::matrix::{Application, Effective, Engine, Options, exchange};
        use ntlm_policy::{LdapChannelBinding, LdapSigning, SmbNameHardening};
        let catalog = Catalog::builtin().unwrap();
        let server = catalog.get("windows-10").unwrap();
        let strict = BindingPolicy {
            extended_protection: ExtendedProtection::Require,
            ldap_channel_binding: LdapChannelBinding::Always,
            ldap_signing: LdapSigning::Require,
            smb_name_hardening: SmbNameHardening::Required,
            zero_bindings: ZeroBindings::Refused,
        };
        let lenient = BindingPolicy {
            extended_protection: ExtendedProtection::Allow,
            ldap_channel_binding: LdapChannelBinding::WhenSupported,
            smb_name_hardening: SmbNameHardening::IfProvided,
            ..BindingPolicy::default()
        };
        let mut compared = 0;
        for client in catalog.profiles.iter().filter(|p| p.role.client()) {
            for carrier in Carrier::ALL {
                for (policy, sign) in [(strict, false), (strict, true), (lenient, false)] {
                    let c = Effective {
                        min: client.min_client_sec,
                        lm_level: client.client_lm_level,
                    };
                    let s = Effective {
                        min: server.min_server_sec,
                        lm_level: server.server_lm_level,
                    };
                    let mut opts = Options {
                        app: Application { sign, seal: false },
                        engine: Engine::Full,
                        binding: policy,
                        carrier,
                        ..Options::default()
                    };
                    let full = exchange(client, c, server, s, &opts).unwrap();
                    opts.engine = Engine::Flags;
                    let flags = exchange(client, c, server, s, &opts).unwrap();
                    let id = |v: &crate::matrix::Verdict| v.as_ref().err().map(|f| f.rule.id);
                    assert_eq!(
                        id(&full),
                        id(&flags),
                        "{} over {} with {} (sign {sign})",
                        client.name,
                        carrier.name(),
                        policy.describe()
                    );
                    compared += 1;
                }
            }
        }
        assert!(compared > 100, "{compared}");
    }

    #[test]
    fn spn_names_the_service_and_host() {
        let n = ServerNames::default();
        assert_eq!(spn(Carrier::Smb, &n), "cifs/ntlmsim.testdom.example");
        assert_eq!(spn(Carrier::Https, &n), "HTTP/ntlmsim.testdom.example");
    }
}
