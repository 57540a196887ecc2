//! SMB over the NetBIOS session service (port 139, RFC 1002 4.3) and
//! direct TCP (port 445, MS-SMB2 2.1): the security blob of SMB1
//! `SESSION_SETUP_ANDX` with extended security (MS-SMB 2.2.4.6) and of SMB2/3
//! `SESSION_SETUP` (MS-SMB2 2.2.5, 2.2.6), and the NT status of each
//! SESSION_SETUP response. Other commands are skipped unbuffered;
//! encrypted (`0xFD 'SMB'`) and compressed (`0xFC 'SMB'`) messages too.

use super::{Found, Parse, Step};
use crate::bytes::{le16, le32, slice, u8_at};
use crate::{Carrier, CarrierResult};

/// Largest SESSION_SETUP message buffered.
const MAX_SETUP: usize = 1 << 20;
/// STATUS_PENDING: an interim SMB2 response (MS-SMB2 3.3.4.2).
const STATUS_PENDING: u32 = 0x0000_0103;

/// One direction of an SMB connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Smb;

/// Whether `b` starts like a NetBIOS session message holding SMB.
pub fn looks_like(b: &[u8]) -> bool {
    let magic = slice(b, 4, 4);
    u8_at(b, 0) == Some(0)
        && matches!(
            magic,
            Some(b"\xffSMB" | b"\xfeSMB" | b"\xfdSMB" | b"\xfcSMB")
        )
}

fn problem(message: String) -> Found {
    Found::Problem {
        layer: "smb",
        message,
    }
}

impl Smb {
    /// Parses one NetBIOS session message from the start of `buf`.
    pub fn parse(&mut self, buf: &[u8], out: &mut Vec<Found>) -> Parse {
        let (Some(kind), Some(b1), Some(b2), Some(b3)) =
            (u8_at(buf, 0), u8_at(buf, 1), u8_at(buf, 2), u8_at(buf, 3))
        else {
            return Parse::Need;
        };
        // RFC 1002 4.3.1: type, 7 reserved bits and a 17-bit length.
        if !matches!(kind, 0x00 | 0x81..=0x85) || b1 & 0xfe != 0 {
            return Parse::Fallback;
        }
        let len = (usize::from(b1 & 1) << 16) | (usize::from(b2) << 8) | usize::from(b3);
        let total = u64::try_from(len).unwrap_or(u64::MAX).saturating_add(4);
        if kind != 0 || len < 4 {
            return Parse::Step(Step::unit(total, buf.len()));
        }
        let Some(magic) = slice(buf, 4, 4) else {
            return Parse::Need;
        };
        let setup = match magic {
            b"\xffSMB" => match u8_at(buf, 8) {
                None => return Parse::Need,
                Some(c) => c == 0x73,
            },
            b"\xfeSMB" => match le16(buf, 16) {
                None if buf.len() < 4 + len => return Parse::Need,
                None => false,
                Some(c) => c == 0x0001,
            },
            b"\xfdSMB" | b"\xfcSMB" => false,
            _ => return Parse::Fallback,
        };
        if !setup || len > MAX_SETUP {
            return Parse::Step(Step::unit(total, buf.len()));
        }
        let Some(pdu) = slice(buf, 4, len) else {
            return Parse::Need;
        };
        if magic == b"\xffSMB" {
            smb1(pdu, out);
        } else {
            smb2(pdu, out);
        }
        Parse::Step(Step::consume(4 + len))
    }
}

/// SMB1 SESSION_SETUP_ANDX (MS-SMB 2.2.4.6.1 request, 2.2.4.6.2 response).
fn smb1(pdu: &[u8], out: &mut Vec<Found>) {
    let (Some(status), Some(flags), Some(wc)) = (le32(pdu, 5), u8_at(pdu, 9), u8_at(pdu, 32))
    else {
        out.push(problem(format!(
            "SMB1 SESSION_SETUP_ANDX of {} bytes is shorter than its 33-byte header",
            pdu.len()
        )));
        return;
    };
    let response = flags & 0x80 != 0;
    let words = 33usize;
    let bytes_at = words + usize::from(wc) * 2 + 2;
    // SecurityBlobLength: word 7 of the 12-word request, word 3 of the 4-word response.
    let blob_len_at = match (response, wc) {
        (false, 12) => Some(words + 14),
        (true, 4) => Some(words + 6),
        // Error responses (wc 0), and the pre-NTLMSSP request form (wc 13).
        _ => None,
    };
    if let Some(at) = blob_len_at {
        match le16(pdu, at) {
            Some(n) => match slice(pdu, bytes_at, usize::from(n)) {
                Some([]) => {}
                Some(blob) => out.push(Found::Token {
                    bytes: blob.to_vec(),
                    carrier: Carrier::Smb1,
                }),
                None => out.push(problem(format!(
                    "SMB1 SESSION_SETUP_ANDX SecurityBlobLength {n} (at message offset {at}) runs past the {}-byte message",
                    pdu.len()
                ))),
            },
            None => out.push(problem(format!(
                "SMB1 SESSION_SETUP_ANDX is cut before SecurityBlobLength at message offset {at}"
            ))),
        }
    }
    if response {
        out.push(Found::Result(CarrierResult::Smb { status }));
    }
}

/// SMB2 SESSION_SETUP (MS-SMB2 2.2.5 request, 2.2.6 response), following
/// compounded messages (NextCommand).
fn smb2(pdu: &[u8], out: &mut Vec<Found>) {
    let mut at = 0usize;
    for _ in 0..16 {
        let Some(h) = pdu.get(at..) else {
            return;
        };
        let (Some(b"\xfeSMB"), Some(status), Some(cmd), Some(flags), Some(next)) = (
            slice(h, 0, 4),
            le32(h, 8),
            le16(h, 12),
            le32(h, 16),
            le32(h, 20),
        ) else {
            out.push(problem(format!(
                "SMB2 header at message offset {at} is cut or lacks its 0xFE 'SMB' ProtocolId"
            )));
            return;
        };
        if cmd == 0x0001 {
            let response = flags & 1 != 0;
            let (off_at, len_at) = if response { (68, 70) } else { (76, 78) };
            if !(response && status == STATUS_PENDING) {
                match (le16(h, off_at), le16(h, len_at)) {
                    (Some(_), Some(0)) => {}
                    (Some(off), Some(len)) => {
                        match slice(h, usize::from(off), usize::from(len)) {
                            Some(blob) => out.push(Found::Token {
                                bytes: blob.to_vec(),
                                carrier: Carrier::Smb2,
                            }),
                            None => out.push(problem(format!(
                                "SMB2 SESSION_SETUP SecurityBufferOffset {off} + SecurityBufferLength {len} (at message offset {}) run past the {}-byte message",
                                at + off_at,
                                h.len()
                            ))),
                        }
                    }
                    _ => out.push(problem(format!(
                        "SMB2 SESSION_SETUP at message offset {at} is cut before its security buffer fields"
                    ))),
                }
                if response {
                    out.push(Found::Result(CarrierResult::Smb { status }));
                }
            }
        }
        if next == 0 {
            return;
        }
        at = match usize::try_from(next).ok().and_then(|n| at.checked_add(n)) {
            Some(a) => a,
            None => return,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Direction, Kind, Shared};
    use super::*;
    use crate::synth;

    fn feed(data: &[u8]) -> Vec<Found> {
        let mut d = Direction::new(Kind::Smb, 1 << 20);
        let mut out = Vec::new();
        d.feed(data, &mut Shared::default(), &mut out);
        out
    }

    #[test]
    fn smb1_request_and_response() {
        let m = synth::Messages::sample();
        let req = synth::smb1_session_setup(false, 0, &m.negotiate);
        let resp = synth::smb1_session_setup(
            true,
            0xc000_0016,
            &ntlm_gss::spnego::wrap_resp(&m.challenge),
        );
        let out = feed(&[req, resp].concat());
        assert_eq!(
            out,
            vec![
                Found::Token {
                    bytes: m.negotiate.clone(),
                    carrier: Carrier::Smb1
                },
                Found::Token {
                    bytes: ntlm_gss::spnego::wrap_resp(&m.challenge),
                    carrier: Carrier::Smb1
                },
                Found::Result(CarrierResult::Smb {
                    status: 0xc000_0016
                }),
            ]
        );
    }

    #[test]
    fn smb2_request_response_and_skipped_commands() {
        let m = synth::Messages::sample();
        let read =
            synth::netbios(&[&b"\xfeSMB"[..], &[0; 8], &[8, 0], &[0; 50], &[7; 3000]].concat());
        let req = synth::smb2_session_setup(false, 0, &ntlm_gss::spnego::wrap_init(&m.negotiate));
        let resp = synth::smb2_session_setup(true, 0xc000_006d, &[]);
        let all = [read, req, resp].concat();
        let want = vec![
            Found::Token {
                bytes: ntlm_gss::spnego::wrap_init(&m.negotiate),
                carrier: Carrier::Smb2,
            },
            Found::Result(CarrierResult::Smb {
                status: 0xc000_006d,
            }),
        ];
        assert_eq!(feed(&all), want);
        // Split anywhere: the same.
        for cut in [1, 3, 4, 70, 3000, 3100, all.len() - 1] {
            let mut d = Direction::new(Kind::Smb, 1 << 20);
            let mut out = Vec::new();
            let mut sh = Shared::default();
            d.feed(&all[..cut], &mut sh, &mut out);
            d.feed(&all[cut..], &mut sh, &mut out);
            assert_eq!(out, want, "cut at {cut}");
        }
    }

    #[test]
    fn bad_blob_lengths_are_problems() {
        let m = synth::Messages::sample();
        let mut req = synth::smb2_session_setup(false, 0, &m.negotiate);
        // SecurityBufferLength (NetBIOS 4 + header 64 + 14).
        req[4 + 64 + 14] = 0xff;
        let out = feed(&req);
        let Found::Problem { layer, message } = &out[0] else {
            panic!("{out:?}")
        };
        assert_eq!(*layer, "smb");
        assert!(message.contains("message offset 76"), "{message}");
        let mut req = synth::smb1_session_setup(false, 0, &m.negotiate);
        req[4 + 33 + 14] = 0xff;
        let out = feed(&req);
        assert!(
            matches!(&out[0], Found::Problem { message, .. } if message.contains("SecurityBlobLength"))
        );
    }
}
