//! DCE/RPC connection-oriented PDUs (C706 12.6, MS-RPCE 2.2.2): the auth
//! verifier of `bind`, `bind_ack`, `alter_context`, `alter_context_resp`
//! and `rpc_auth_3` with `auth_type` 10 (NTLMSSP, `RPC_C_AUTHN_WINNT`) or
//! 9 (SPNEGO, `RPC_C_AUTHN_GSS_NEGOTIATE`), and the server's answer after
//! the handshake: a `response`, a `fault` or a `bind_nak`.

use super::{Found, Parse, Step};
use crate::bytes::{slice, u8_at, u16_in, u32_in};
use crate::{Carrier, CarrierResult};

const RESPONSE: u8 = 2;
const FAULT: u8 = 3;
const BIND: u8 = 11;
const BIND_ACK: u8 = 12;
const BIND_NAK: u8 = 13;
const ALTER_CONTEXT: u8 = 14;
const ALTER_CONTEXT_RESP: u8 = 15;
const AUTH3: u8 = 16;

/// One direction of a DCE/RPC connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct DceRpc;

/// Whether `b` starts like a connection-oriented DCE/RPC PDU.
pub fn looks_like(b: &[u8]) -> bool {
    matches!(
        (u8_at(b, 0), u8_at(b, 1), u8_at(b, 2), u8_at(b, 4)),
        (Some(5), Some(0 | 1), Some(0..=20), Some(0x00 | 0x10))
    )
}

impl DceRpc {
    /// Parses one PDU from the start of `buf`.
    pub fn parse(&mut self, buf: &[u8], out: &mut Vec<Found>) -> Parse {
        if buf.len() < 16 {
            return Parse::Need;
        }
        if !looks_like(buf) {
            return Parse::Fallback;
        }
        let ptype = u8_at(buf, 2).unwrap_or_default();
        // packed_drep[0] bit 4: little-endian integers.
        let little = u8_at(buf, 4).unwrap_or_default() & 0x10 != 0;
        let frag_len = usize::from(u16_in(buf, 8, little).unwrap_or_default());
        let auth_len = usize::from(u16_in(buf, 10, little).unwrap_or_default());
        if frag_len < 16 {
            return Parse::Fallback;
        }
        let total = u64::try_from(frag_len).unwrap_or(u64::MAX);
        match ptype {
            RESPONSE => {
                out.push(Found::Result(CarrierResult::RpcResponse));
                Parse::Step(Step::unit(total, buf.len()))
            }
            FAULT => {
                let Some(status) = u32_in(buf, 24, little) else {
                    return if frag_len >= 28 {
                        Parse::Need
                    } else {
                        Parse::Step(Step::unit(total, buf.len()))
                    };
                };
                out.push(Found::Result(CarrierResult::RpcFault { status }));
                Parse::Step(Step::unit(total, buf.len()))
            }
            BIND_NAK => {
                let Some(reason) = u16_in(buf, 16, little) else {
                    return if frag_len >= 18 {
                        Parse::Need
                    } else {
                        Parse::Step(Step::unit(total, buf.len()))
                    };
                };
                out.push(Found::Result(CarrierResult::RpcBindNak { reason }));
                Parse::Step(Step::unit(total, buf.len()))
            }
            BIND | BIND_ACK | ALTER_CONTEXT | ALTER_CONTEXT_RESP | AUTH3 if auth_len > 0 => {
                let Some(pdu) = slice(buf, 0, frag_len) else {
                    return Parse::Need;
                };
                verifier(pdu, auth_len, out);
                Parse::Step(Step::consume(frag_len))
            }
            _ => Parse::Step(Step::unit(total, buf.len())),
        }
    }
}

/// The sec_trailer and auth_value at the end of the PDU (C706 13.2.6.1).
fn verifier(pdu: &[u8], auth_len: usize, out: &mut Vec<Found>) {
    let Some(trailer) = pdu
        .len()
        .checked_sub(auth_len)
        .and_then(|n| n.checked_sub(8))
    else {
        out.push(Found::Problem {
            layer: "dcerpc",
            message: format!(
                "auth_length {auth_len} (at PDU offset 10) does not fit in the {}-byte PDU",
                pdu.len()
            ),
        });
        return;
    };
    let auth_type = u8_at(pdu, trailer).unwrap_or_default();
    if !matches!(auth_type, 9 | 10) {
        return;
    }
    if let Some(value) = slice(pdu, trailer + 8, auth_len) {
        out.push(Found::Token {
            bytes: value.to_vec(),
            carrier: Carrier::DceRpc,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Direction, Kind, Shared};
    use super::*;
    use crate::synth;

    fn feed(data: &[u8]) -> (Vec<Found>, bool) {
        let mut d = Direction::new(Kind::DceRpc, 1 << 20);
        let mut out = Vec::new();
        d.feed(data, &mut Shared::default(), &mut out);
        (out, d.parser.is_scan())
    }

    #[test]
    fn verifiers_and_results() {
        let m = synth::Messages::sample();
        let bind = synth::dcerpc_pdu(BIND, true, 10, &m.negotiate);
        let ack = synth::dcerpc_pdu(BIND_ACK, false, 10, &m.challenge);
        let auth3 = synth::dcerpc_pdu(
            AUTH3,
            true,
            9,
            &ntlm_gss::spnego::wrap_resp(&m.authenticate),
        );
        let krb = synth::dcerpc_pdu(BIND, true, 16, b"kerberos");
        let fault = synth::dcerpc_fault(5);
        let (out, scan) = feed(&[bind, ack, auth3, krb, fault].concat());
        assert!(!scan);
        assert_eq!(
            out,
            vec![
                Found::Token {
                    bytes: m.negotiate.clone(),
                    carrier: Carrier::DceRpc
                },
                Found::Token {
                    bytes: m.challenge.clone(),
                    carrier: Carrier::DceRpc
                },
                Found::Token {
                    bytes: ntlm_gss::spnego::wrap_resp(&m.authenticate),
                    carrier: Carrier::DceRpc
                },
                Found::Result(CarrierResult::RpcFault { status: 5 }),
            ]
        );
    }

    #[test]
    fn bad_auth_length_is_a_problem() {
        let m = synth::Messages::sample();
        let mut bind = synth::dcerpc_pdu(BIND, true, 10, &m.negotiate);
        bind[10] = 0xff;
        bind[11] = 0x0f;
        let (out, _) = feed(&bind);
        assert!(
            matches!(&out[0], Found::Problem { layer: "dcerpc", message } if message.contains("auth_length 4095")),
            "{out:?}"
        );
        let (_, scan) = feed(b"\x05\x00\x0b\x03\x10\x00\x00\x00\x04\x00\x00\x00\x01\x00\x00\x00");
        assert!(scan, "a frag_length below 16 is not DCE/RPC");
    }
}
