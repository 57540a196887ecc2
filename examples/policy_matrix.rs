//! The policy-impact matrix: which built-in client/server pairs break when
//! both minimums are raised to the 0x20080000 hardening baseline.
//!
//! Run with `cargo run --example policy_matrix`.

use ntlm_policy::{MinSessionSecurity, Semantics};
use ntlm_sim::matrix::{self, Application, Policy};
use ntlm_sim::profiles::Catalog;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let catalog = Catalog::builtin()?;
    let clients: Vec<_> = catalog
        .profiles
        .iter()
        .filter(|p| p.role.client())
        .collect();
    let servers: Vec<_> = catalog
        .profiles
        .iter()
        .filter(|p| p.role.server())
        .collect();
    let baseline = MinSessionSecurity::from_registry(0x2008_0000);
    let after = Policy {
        client_min: Some(baseline),
        server_min: Some(baseline),
        ..Policy::default()
    };
    let app = Application {
        sign: true,
        seal: false,
    };
    let results = matrix::run(
        &clients,
        &servers,
        &Policy::default(),
        &after,
        app,
        Semantics::default(),
    );
    print!("{}", ntlm_report::matrix::grid(&results));
    for r in results.iter().filter(|r| r.breaks()) {
        if let Err(f) = &r.after {
            println!("{} -> {}: {f}", r.client, r.server);
        }
    }
    Ok(())
}
