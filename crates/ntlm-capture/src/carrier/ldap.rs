//! LDAP (RFC 4511): NTLM in bind requests and responses.
//!
//! - SASL binds (`authentication` `[3]`, RFC 4511 4.2): the `credentials`
//!   of the request and the `serverSaslCreds` `[7]` of the response hold a
//!   raw NTLMSSP message (mechanism `NTLM`) or a SPNEGO token (`GSS-SPNEGO`).
//! - "Sicily" binds (MS-ADTS 5.1.1.1.3): `sicilyNegotiate` `[10]` and
//!   `sicilyResponse` `[11]` hold NEGOTIATE and AUTHENTICATE; the server's
//!   CHALLENGE comes back in the bindResponse `matchedDN`.
//!
//! Every bindResponse's `resultCode` is reported. After a bind that
//! negotiated a security layer, messages are SASL-wrapped (a 4-byte length,
//! RFC 4422 3.7); they are skipped by that length.

use super::{Found, Parse, Step};
use crate::bytes::{be32, u8_at};
use crate::{Carrier, CarrierResult};
use ntlm_wire::SIGNATURE;

/// Largest LDAP message buffered.
const MAX_MESSAGE: usize = 1 << 20;

/// One direction of an LDAP connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ldap;

/// Whether `b` starts like an LDAPMessage (`SEQUENCE { INTEGER ...`).
pub fn looks_like(b: &[u8]) -> bool {
    let Some((0x30, start, _)) = tlv_header(b, 0) else {
        return false;
    };
    u8_at(b, start) == Some(0x02)
}

/// A BER header at `at`: (tag, content start, content length). `None` when
/// cut short or not definite-length.
fn tlv_header(b: &[u8], at: usize) -> Option<(u8, usize, usize)> {
    let tag = u8_at(b, at)?;
    let l0 = u8_at(b, at.checked_add(1)?)?;
    if l0 < 0x80 {
        return Some((tag, at + 2, usize::from(l0)));
    }
    let n = usize::from(l0 & 0x7f);
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for i in 0..n {
        len = (len << 8) | usize::from(u8_at(b, at + 2 + i)?);
    }
    Some((tag, at + 2 + n, len))
}

/// The elements of a constructed value, as (tag, content).
fn children(b: &[u8]) -> Vec<(u8, &[u8])> {
    let mut v = Vec::new();
    let mut at = 0;
    while at < b.len() && v.len() < 16 {
        let Some((tag, start, len)) = tlv_header(b, at) else {
            break;
        };
        let Some(content) = start.checked_add(len).and_then(|e| b.get(start..e)) else {
            break;
        };
        v.push((tag, content));
        at = start + len;
    }
    v
}

impl Ldap {
    /// Parses one LDAPMessage (or SASL-wrapped buffer) from the start of `buf`.
    pub fn parse(&mut self, buf: &[u8], out: &mut Vec<Found>) -> Parse {
        let Some(first) = u8_at(buf, 0) else {
            return Parse::Need;
        };
        if first != 0x30 {
            // A SASL-wrapped buffer: 4-byte big-endian length.
            let Some(len) = be32(buf, 0) else {
                return Parse::Need;
            };
            if len > 16 << 20 {
                return Parse::Fallback;
            }
            return Parse::Step(Step::unit(u64::from(len) + 4, buf.len()));
        }
        let Some((_, start, len)) = tlv_header(buf, 0) else {
            return if buf.len() < 6 {
                Parse::Need
            } else {
                Parse::Fallback
            };
        };
        let total = start.saturating_add(len);
        if total > MAX_MESSAGE {
            return Parse::Step(Step::unit(
                u64::try_from(total).unwrap_or(u64::MAX),
                buf.len(),
            ));
        }
        let Some(msg) = buf.get(start..total) else {
            return Parse::Need;
        };
        let parts = children(msg);
        match parts.as_slice() {
            [(0x02, _), (0x60, req), ..] => bind_request(req, out),
            [(0x02, _), (0x61, resp), ..] => bind_response(resp, out),
            [(0x02, _), ..] => {}
            _ => {
                out.push(Found::Problem {
                    layer: "ldap",
                    message: "LDAPMessage without a messageID INTEGER at offset 2".to_owned(),
                });
            }
        }
        Parse::Step(Step::consume(total))
    }
}

fn token(bytes: &[u8], carrier: Carrier, out: &mut Vec<Found>) {
    if !bytes.is_empty() {
        out.push(Found::Token {
            bytes: bytes.to_vec(),
            carrier,
        });
    }
}

/// BindRequest ::= [APPLICATION 0] SEQUENCE { version, name, authentication }.
fn bind_request(req: &[u8], out: &mut Vec<Found>) {
    let parts = children(req);
    let Some(&(tag, auth)) = parts.get(2) else {
        return;
    };
    match tag {
        // sasl [3] SaslCredentials ::= SEQUENCE { mechanism, credentials OPTIONAL }
        0xa3 => {
            if let Some(&(0x04, creds)) = children(auth).get(1) {
                token(creds, Carrier::LdapSasl, out);
            }
        }
        // sicilyNegotiate [10], sicilyResponse [11]
        0x8a | 0x8b => token(auth, Carrier::LdapSicily, out),
        _ => {}
    }
}

/// BindResponse ::= [APPLICATION 1] SEQUENCE { resultCode, matchedDN,
/// diagnosticMessage, referral [3] OPTIONAL, serverSaslCreds [7] OPTIONAL }.
fn bind_response(resp: &[u8], out: &mut Vec<Found>) {
    let parts = children(resp);
    let Some(&(0x0a, code)) = parts.first() else {
        out.push(Found::Problem {
            layer: "ldap",
            message: "bindResponse without a resultCode ENUMERATED".to_owned(),
        });
        return;
    };
    if let Some(&(0x04, dn)) = parts.get(1) {
        if dn.starts_with(&SIGNATURE) {
            token(dn, Carrier::LdapSicily, out);
        }
    }
    if let Some(&(_, creds)) = parts.iter().find(|(t, _)| *t == 0x87) {
        token(creds, Carrier::LdapSasl, out);
    }
    let result_code = code
        .iter()
        .take(4)
        .fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
    out.push(Found::Result(CarrierResult::Ldap { result_code }));
}

#[cfg(test)]
mod tests {
    use super::super::{Direction, Kind, Shared};
    use super::*;
    use crate::synth;

    fn feed(data: &[u8]) -> Vec<Found> {
        let mut d = Direction::new(Kind::Ldap, 1 << 20);
        let mut out = Vec::new();
        d.feed(data, &mut Shared::default(), &mut out);
        out
    }

    #[test]
    fn sasl_bind() {
        let m = synth::Messages::sample();
        let req =
            synth::ldap_sasl_bind(1, "GSS-SPNEGO", &ntlm_gss::spnego::wrap_init(&m.negotiate));
        let resp =
            synth::ldap_bind_response(1, 14, b"", Some(&ntlm_gss::spnego::wrap_resp(&m.challenge)));
        let done = synth::ldap_bind_response(2, 49, b"", None);
        let out = feed(&[req, resp, done].concat());
        assert_eq!(
            out,
            vec![
                Found::Token {
                    bytes: ntlm_gss::spnego::wrap_init(&m.negotiate),
                    carrier: Carrier::LdapSasl
                },
                Found::Token {
                    bytes: ntlm_gss::spnego::wrap_resp(&m.challenge),
                    carrier: Carrier::LdapSasl
                },
                Found::Result(CarrierResult::Ldap { result_code: 14 }),
                Found::Result(CarrierResult::Ldap { result_code: 49 }),
            ]
        );
    }

    #[test]
    fn sicily_bind_and_wrapped_buffers() {
        let m = synth::Messages::sample();
        let req = synth::ldap_sicily_bind(3, 0x8a, &m.negotiate);
        let resp = synth::ldap_bind_response(3, 0, &m.challenge, None);
        let auth = synth::ldap_sicily_bind(4, 0x8b, &m.authenticate);
        let wrapped = [&[0, 0, 0, 5][..], b"\x01\x02\x03\x04\x05"].concat();
        let out = feed(&[req, resp, auth, wrapped].concat());
        assert_eq!(
            out,
            vec![
                Found::Token {
                    bytes: m.negotiate.clone(),
                    carrier: Carrier::LdapSicily
                },
                Found::Token {
                    bytes: m.challenge.clone(),
                    carrier: Carrier::LdapSicily
                },
                Found::Result(CarrierResult::Ldap { result_code: 0 }),
                Found::Token {
                    bytes: m.authenticate.clone(),
                    carrier: Carrier::LdapSicily
                },
            ]
        );
    }
}
