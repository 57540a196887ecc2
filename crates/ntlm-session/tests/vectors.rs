//! The three MS-NLMP 4.2 exchanges reproduced end to end through the sessions:
//! the CHALLENGE and AUTHENTICATE bytes equal the published messages, both
//! sides derive the same keys, and sealing "Plaintext" gives the published data.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation must abort the test"
)]

mod common;

use common::{rng, spec_client, spec_server};
use ntlm_session::{Fixed, Pair};

const CHAL_4223: &[u8] = include_bytes!("../../ntlm-wire/tests/data/ms-nlmp-4.2.2.3-challenge.bin");
const AUTH_4223: &[u8] =
    include_bytes!("../../ntlm-wire/tests/data/ms-nlmp-4.2.2.3-authenticate.bin");
const CHAL_4233: &[u8] = include_bytes!("../../ntlm-wire/tests/data/ms-nlmp-4.2.3.3-challenge.bin");
const AUTH_4233: &[u8] =
    include_bytes!("../../ntlm-wire/tests/data/ms-nlmp-4.2.3.3-authenticate.bin");
const CHAL_4243: &[u8] = include_bytes!("../../ntlm-wire/tests/data/ms-nlmp-4.2.4.3-challenge.bin");
const AUTH_4243: &[u8] =
    include_bytes!("../../ntlm-wire/tests/data/ms-nlmp-4.2.4.3-authenticate.bin");

const FIXED: Fixed = Fixed {
    server_challenge: Some([0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]),
    client_challenge: Some([0xaa; 8]),
    session_key: Some([0x55; 16]),
};

/// UTF-16LE "Plaintext" (MS-NLMP 4.2.2.4).
const PLAINTEXT: &str = "50006c00610069006e007400650078007400";

fn run(
    challenge_flags: u32,
    auth_flags: u32,
    level: u8,
) -> (
    Vec<u8>,
    Vec<u8>,
    ntlm_session::Established,
    ntlm_session::Established,
) {
    let pair = Pair {
        client: spec_client(auth_flags, level),
        server: spec_server(challenge_flags),
    };
    let ex = pair.run(&mut rng(1), ntlm_wire::FileTime(0), FIXED);
    let (client, server) = ex.outcome.expect("the exchange succeeds");
    (
        ex.challenge.unwrap().0,
        ex.authenticate.unwrap().0,
        client,
        server,
    )
}

fn seal(e: &mut ntlm_session::Established) -> String {
    let mut data = hex::decode(PLAINTEXT).unwrap();
    e.security.seal(&mut data).unwrap();
    hex::encode(data)
}

#[test]
fn ntlmv1_4_2_2() {
    let (chal, auth, mut c, s) = run(0xe202_8233, 0xe280_8235, 1);
    assert_eq!(chal, CHAL_4223);
    assert_eq!(auth, AUTH_4223);
    assert_eq!(c.exported_session_key(), s.exported_session_key());
    assert_eq!(c.exported_session_key().as_bytes(), &[0x55; 16]);
    assert_eq!(seal(&mut c), "56fe04d861f9319af0d7238a2e3b4d457fb8");
    assert_eq!(s.report.response_kind.as_str(), "NTLMv1");
}

#[test]
fn ntlm2_session_4_2_3() {
    let (chal, auth, mut c, s) = run(0x820a_8233, 0x8208_8235, 1);
    assert_eq!(chal, CHAL_4233);
    assert_eq!(auth, AUTH_4233);
    assert_eq!(
        hex::encode(s.exported_session_key().as_bytes()),
        "eb93429a8bd952f8b89c55b87f475edc"
    );
    assert_eq!(seal(&mut c), "a02372f6530273f3aa1eb90190ce5200c99d");
    assert_eq!(s.report.response_kind.as_str(), "NTLM2_SESSION");
    assert_eq!(s.report.key_strength_bits(), 56);
}

#[test]
fn ntlmv2_4_2_4() {
    let (chal, auth, mut c, mut s) = run(0xe28a_8233, 0xe288_8235, 3);
    assert_eq!(chal, CHAL_4243);
    assert_eq!(auth, AUTH_4243);
    assert_eq!(seal(&mut c), "54e50165bf1936dc996020c1811b0f06fb5f");
    assert_eq!(s.report.response_kind.as_str(), "NTLMv2");
    assert_eq!(s.report.key_strength_bits(), 128);
    // And the server unseals what the client sealed.
    let mut data = hex::decode(PLAINTEXT).unwrap();
    let mut c2 = run(0xe28a_8233, 0xe288_8235, 3).2;
    let sig = c2.security.seal(&mut data).unwrap();
    s.security.unseal(&mut data, &sig).unwrap();
    assert_eq!(hex::encode(data), PLAINTEXT);
}
