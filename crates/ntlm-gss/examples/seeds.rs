//! Writes the seed corpus of the `gss` fuzz target: SPNEGO tokens around
//! NTLM messages and HTTP header values in the shapes clients send.
//!
//! ```text
//! cargo run -p ntlm-gss --example seeds -- fuzz/corpus/gss
//! ```

use std::path::PathBuf;

use ntlm_gss::http::{self, Scheme};
use ntlm_gss::spnego::{self, NegState, NegTokenInit, NegTokenResp};

/// A NEGOTIATE (Windows 10 flags, Version) and a minimal CHALLENGE.
const NEGOTIATE: &[u8] =
    b"NTLMSSP\0\x01\0\0\0\x97\x82\x08\xe2\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x0a\0\x61\x4a\0\0\0\x0f";
const CHALLENGE: &[u8] = b"NTLMSSP\0\x02\0\0\0\0\0\0\0\x30\0\0\0\x15\x82\x89\xe2\x01\x23\x45\x67\x89\xab\xcd\xef\0\0\0\0\0\0\0\0\0\0\0\0\x30\0\0\0";
/// `1.2.840.113554.1.2.2`, Kerberos 5.
const KRB5: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/corpus/gss".to_owned()),
    );
    std::fs::create_dir_all(&dir)?;
    let init = spnego::wrap_init(NEGOTIATE);
    let resp = spnego::wrap_resp(CHALLENGE);
    let b64 = http::encode_token(NEGOTIATE);
    let seeds: Vec<(&str, Vec<u8>)> = vec![
        ("raw-negotiate", NEGOTIATE.to_vec()),
        ("spnego-init", init.clone()),
        ("spnego-resp", resp.clone()),
        (
            "spnego-resp-full",
            NegTokenResp {
                neg_state: Some(NegState::AcceptIncomplete),
                supported_mech: Some(spnego::NTLMSSP_OID_DER),
                response_token: Some(CHALLENGE),
                mech_list_mic: Some(&[0x01; 16]),
            }
            .to_vec(),
        ),
        (
            "spnego-accept-completed",
            NegTokenResp {
                neg_state: Some(NegState::AcceptCompleted),
                ..NegTokenResp::default()
            }
            .to_vec(),
        ),
        (
            "spnego-kerberos",
            NegTokenInit {
                mech_types: &[KRB5, spnego::NTLMSSP_OID_DER],
                mech_token: Some(&[0x60, 0x03, 0x06, 0x01, 0x00]),
                gss_framed: true,
            }
            .to_vec(),
        ),
        (
            "header-ntlm",
            http::header_value(Scheme::Ntlm, NEGOTIATE).into_bytes(),
        ),
        (
            "header-negotiate-spnego",
            http::header_value(Scheme::Negotiate, &init).into_bytes(),
        ),
        (
            "header-unpadded-lowercase",
            format!("ntlm {}", b64.trim_end_matches('=')).into_bytes(),
        ),
        (
            "header-challenge-list",
            format!(
                "Basic realm=\"a, b\", Negotiate, NTLM {}",
                http::encode_token(CHALLENGE)
            )
            .into_bytes(),
        ),
        ("header-bad-base64", b"NTLM TlRM*TVNT".to_vec()),
    ];
    for (name, bytes) in seeds {
        std::fs::write(dir.join(name), bytes)?;
    }
    Ok(())
}
