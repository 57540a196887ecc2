//! Round trips (build, then read back) and never-panic properties.

use ntlm_gss::http::{self, Scheme};
use ntlm_gss::spnego::{self, NegState, NegTokenInit, NegTokenResp, TokenKind, Wrapping};
use proptest::collection::vec;
use proptest::prelude::*;

/// An NTLM message: the signature and anything after it.
fn message() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..600).prop_map(|tail| [&b"NTLMSSP\0"[..], &tail].concat())
}

fn oid() -> impl Strategy<Value = (&'static [u8], &'static str)> {
    prop_oneof![
        Just((spnego::NTLMSSP_OID_DER, spnego::NTLMSSP_OID)),
        Just((spnego::SPNEGO_OID_DER, spnego::SPNEGO_OID)),
        Just((
            &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02][..],
            "1.2.840.113554.1.2.2"
        )),
    ]
}

fn neg_state() -> impl Strategy<Value = NegState> {
    (-300i64..300).prop_map(NegState::from_value)
}

proptest! {
    #[test]
    fn neg_token_init_round_trips(
        msg in message(),
        oids in vec(oid(), 0..5),
        gss_framed in any::<bool>(),
    ) {
        let ders: Vec<&[u8]> = oids.iter().map(|(d, _)| *d).collect();
        let t = NegTokenInit { mech_types: &ders, mech_token: Some(&msg), gss_framed }.to_vec();
        let u = spnego::unwrap(&t).unwrap();
        prop_assert_eq!(u.token, Some(&msg[..]));
        prop_assert_eq!(u.info.kind, TokenKind::NegTokenInit);
        prop_assert_eq!(u.info.gss_framed, gss_framed);
        let dotted: Vec<&str> = oids.iter().map(|(_, s)| *s).collect();
        prop_assert_eq!(&u.info.mech_types, &dotted);
        let at = u.info.token_offset.unwrap();
        prop_assert_eq!(t.get(at..at + msg.len()), Some(&msg[..]));
        let found = spnego::find_ntlmssp(&t).unwrap().unwrap();
        prop_assert_eq!(found.message, &msg[..]);
        prop_assert_eq!(found.wrapping, Wrapping::Spnego { kind: TokenKind::NegTokenInit, gss_framed });
    }

    #[test]
    fn neg_token_resp_round_trips(
        state in proptest::option::of(neg_state()),
        mech in proptest::option::of(oid()),
        token in proptest::option::of(message()),
        mic in proptest::option::of(vec(any::<u8>(), 0..40)),
    ) {
        let t = NegTokenResp {
            neg_state: state,
            supported_mech: mech.map(|(d, _)| d),
            response_token: token.as_deref(),
            mech_list_mic: mic.as_deref(),
        }
        .to_vec();
        let u = spnego::unwrap(&t).unwrap();
        prop_assert_eq!(u.info.kind, TokenKind::NegTokenResp);
        prop_assert_eq!(u.info.neg_state, state);
        prop_assert_eq!(u.info.supported_mech.as_deref(), mech.map(|(_, s)| s));
        prop_assert_eq!(u.token, token.as_deref());
        prop_assert_eq!(u.info.mech_list_mic, mic.is_some());
        let found = spnego::find_ntlmssp(&t).unwrap();
        prop_assert_eq!(found.map(|f| f.message), token.as_deref());
    }

    #[test]
    fn header_values_round_trip(
        token in vec(any::<u8>(), 1..400),
        negotiate in any::<bool>(),
        case in 0u8..3,
        unpadded in any::<bool>(),
        pad in "[ \t]{0,3}",
        before in proptest::option::of("(Basic realm=\"x, y\"|Bearer|Digest a=b)"),
    ) {
        let scheme = if negotiate { Scheme::Negotiate } else { Scheme::Ntlm };
        let mut value = http::header_value(scheme, &token);
        let name = match case {
            0 => scheme.as_str().to_owned(),
            1 => scheme.as_str().to_ascii_uppercase(),
            _ => scheme.as_str().to_ascii_lowercase(),
        };
        value.replace_range(..scheme.as_str().len(), &name);
        if unpadded {
            value = value.trim_end_matches('=').to_owned();
        }
        let value = match &before {
            Some(b) => format!("{b},{pad}{value}{pad}"),
            None => format!("{pad}{value}{pad}"),
        };
        let c = http::challenges(&value).find(|c| c.scheme().is_some()).unwrap();
        prop_assert_eq!(c.scheme(), Some(scheme));
        prop_assert_eq!(c.token(), Some(Ok(token.clone())));
        prop_assert_eq!(http::challenges(&value).count(), 1 + usize::from(before.is_some()));
    }

    #[test]
    fn any_token_is_read_without_panicking(b in vec(any::<u8>(), 0..300)) {
        let _ = spnego::unwrap(&b);
        if let Ok(Some(f)) = spnego::find_ntlmssp(&b) {
            prop_assert!(f.message.starts_with(b"NTLMSSP\0"));
        }
    }

    #[test]
    fn any_header_is_read_without_panicking(s in "\\PC{0,200}") {
        for c in http::challenges(&s) {
            prop_assert!(s.get(c.offset..).is_some_and(|r| r.starts_with(c.scheme_name)));
            prop_assert!(s.get(c.data_offset..).is_some_and(|r| r.starts_with(c.data)));
            if let Some(Err(e)) = c.token() {
                prop_assert!(e.offset <= s.len());
            }
        }
    }
}
