//! Exchanges under the Restrict NTLM policies of the client, the server and
//! its DC: who fails, where, with which status and event; audit settings log
//! and never change the outcome.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

mod common;

use std::sync::Arc;

use common::{NOW, alice, rng, server};
use ntlm_policy::restrict::{
    Account, AuditIncoming, DomainScope, Incoming, Outgoing, Restrictions, Transport,
};
use ntlm_policy::{Side, Stage, Status};
use ntlm_session::{
    ClientSettings, Credentials, Fixed, MemoryStore, Pair, RestrictPath, Restricted, ServerSettings,
};

fn run(client: ClientSettings, server: ServerSettings, path: &RestrictPath) -> Restricted {
    Pair { client, server }.run_restricted(path, &mut rng(7), NOW, Fixed::default())
}

fn verdict(r: &Restricted) -> Option<(Side, Stage, Status, &'static str)> {
    r.exchange
        .outcome
        .as_ref()
        .err()
        .map(|f| (f.side, f.stage, f.status, f.rule.id))
}

fn events(r: &Restricted) -> Vec<(u16, bool)> {
    r.events.iter().map(|e| (e.event.id, e.blocked)).collect()
}

#[test]
fn no_restriction_changes_nothing() {
    let r = run(alice(), server(), &RestrictPath::default());
    assert!(r.exchange.outcome.is_ok());
    assert!(r.events.is_empty());
    assert_eq!(r.account, Some(Account::Domain));
}

#[test]
fn outgoing_deny_all_sends_nothing_unless_the_server_is_an_exception() {
    let mut path = RestrictPath {
        client: Restrictions {
            outgoing: Outgoing::DenyAll,
            outgoing_exceptions: vec!["fileserver".into()],
            ..Restrictions::default()
        },
        ..RestrictPath::default()
    };
    let r = run(alice(), server(), &path);
    assert_eq!(
        verdict(&r),
        Some((
            Side::Client,
            Stage::Negotiate,
            Status::StatusNtlmBlocked,
            "restrict-outgoing-deny"
        ))
    );
    assert!(
        r.exchange.negotiate.is_none(),
        "a blocked client sends nothing"
    );
    assert_eq!(events(&r), [(4001, true)]);

    // The default server is NTLMSIM; name it as an exception with a wildcard.
    path.client.outgoing_exceptions = vec!["ntlm*".into()];
    let r = run(alice(), server(), &path);
    assert!(r.exchange.outcome.is_ok());
    assert!(r.events.is_empty());

    // The client names the server by another name: that name is matched.
    path.target = Some("web01.corp.example".into());
    assert!(run(alice(), server(), &path).exchange.outcome.is_err());
}

#[test]
fn audit_settings_log_and_never_break() {
    let path = RestrictPath {
        client: Restrictions {
            outgoing: Outgoing::AuditAll,
            ..Restrictions::default()
        },
        server: Restrictions {
            audit_incoming: AuditIncoming::AllAccounts,
            ..Restrictions::default()
        },
        dc: Restrictions {
            audit_domain: DomainScope::All,
            ..Restrictions::default()
        },
        ..RestrictPath::default()
    };
    let r = run(alice(), server(), &path);
    assert!(r.exchange.outcome.is_ok());
    assert_eq!(events(&r), [(8001, false), (8002, false), (8004, false)]);
}

#[test]
fn incoming_deny_refuses_domain_accounts_but_not_local_ones() {
    let path = RestrictPath {
        server: Restrictions {
            incoming: Incoming::DenyDomainAccounts,
            ..Restrictions::default()
        },
        ..RestrictPath::default()
    };
    let r = run(alice(), server(), &path);
    assert_eq!(
        verdict(&r),
        Some((
            Side::Server,
            Stage::Authenticate,
            Status::StatusNtlmBlocked,
            "restrict-incoming-deny"
        ))
    );
    assert_eq!(events(&r), [(4002, true)]);

    // A local account: its domain is the server's computer name.
    let mut store = MemoryStore::new();
    store.add_password("NTLMSIM", "bob", "Local1!");
    let local_server = ServerSettings::new(Arc::new(store));
    let bob = ClientSettings::new(Credentials::password("bob", "NTLMSIM", "Local1!"));
    let r = run(bob, local_server, &path);
    assert_eq!(r.account, Some(Account::Local));
    assert!(r.exchange.outcome.is_ok(), "{:?}", verdict(&r));
}

#[test]
fn incoming_deny_takes_precedence_over_a_wrong_password() {
    let path = RestrictPath {
        server: Restrictions {
            incoming: Incoming::DenyAll,
            ..Restrictions::default()
        },
        ..RestrictPath::default()
    };
    let wrong = ClientSettings::new(Credentials::password("alice", "TESTDOM", "wrong"));
    let r = run(wrong, server(), &path);
    assert_eq!(verdict(&r).map(|v| v.3), Some("restrict-incoming-deny"));
}

#[test]
fn the_dc_blocks_in_scope_and_the_server_relays_not_supported() {
    let mut path = RestrictPath {
        dc: Restrictions {
            domain: DomainScope::DomainAccountsToDomainServers,
            ..Restrictions::default()
        },
        ..RestrictPath::default()
    };
    let r = run(alice(), server(), &path);
    assert_eq!(
        verdict(&r),
        Some((
            Side::Server,
            Stage::Authenticate,
            Status::StatusNotSupported,
            "restrict-domain-deny"
        ))
    );
    assert_eq!(events(&r), [(4004, true)]);

    path.dc.domain_exceptions = vec!["NTLMSIM".into()];
    assert!(run(alice(), server(), &path).exchange.outcome.is_ok());

    // A server outside the domain is out of scope of "domain servers".
    path.dc.domain_exceptions.clear();
    let mut standalone = server();
    standalone.config.domain_joined = false;
    let r = run(alice(), standalone, &path);
    assert!(r.exchange.outcome.is_ok());
    assert_eq!(r.account, Some(Account::Local));
}

#[test]
fn smb_block_applies_to_smb_only() {
    let mut path = RestrictPath {
        client: Restrictions {
            smb_block_ntlm: true,
            ..Restrictions::default()
        },
        ..RestrictPath::default()
    };
    assert!(run(alice(), server(), &path).exchange.outcome.is_ok());
    path.transport = Transport::Smb;
    let r = run(alice(), server(), &path);
    assert_eq!(
        verdict(&r),
        Some((
            Side::Client,
            Stage::Negotiate,
            Status::StatusNtlmBlocked,
            "smb-client-block-ntlm"
        ))
    );
}

#[test]
fn a_client_with_ntlmv1_removed_sends_ntlmv2_at_any_level() {
    for level in [0u8, 1, 2] {
        let mut c = alice();
        c.config.lm_level = ntlm_policy::LmCompatibilityLevel::from_u8(level).unwrap();
        c.config.ntlmv1_removed = true;
        let r = run(c, server(), &RestrictPath::default());
        let (auth, _) = r.exchange.authenticate.as_ref().unwrap();
        let a = ntlm_wire::AuthenticateMessage::parse(auth).unwrap();
        assert_eq!(
            a.response_kind(),
            ntlm_wire::ResponseKind::NtlmV2,
            "level {level}"
        );
        assert!(r.exchange.outcome.is_ok());
    }
    let mut c = alice();
    c.config.lm_level = ntlm_policy::LmCompatibilityLevel::L1;
    let r = run(c, server(), &RestrictPath::default());
    let (auth, _) = r.exchange.authenticate.as_ref().unwrap();
    let a = ntlm_wire::AuthenticateMessage::parse(auth).unwrap();
    assert_ne!(a.response_kind(), ntlm_wire::ResponseKind::NtlmV2);
}
