//! The fallback: NTLMSSP messages found by their `NTLMSSP\0` signature in a
//! stream of any other protocol (raw NTLMSSP in a proprietary framing, a
//! carrier this crate does not parse, or a stream whose start was lost).
//! The message length comes from its security buffers
//! ([`ntlm_wire::layout::message_extent`]).

use memchr::memmem;
use ntlm_wire::SIGNATURE;
use ntlm_wire::layout::message_extent;

use super::{Found, Parse, Step};
use crate::Carrier;

/// Longest NTLMSSP message accepted by the signature scan: the security
/// buffers' offsets and lengths are 32 and 16 bits, but no real message
/// comes near this.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// One direction scanned for signatures.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scan;

impl Scan {
    /// Scans `buf`; consumes everything except a possible partial signature
    /// or message at the end.
    pub fn parse(&mut self, buf: &[u8], out: &mut Vec<Found>) -> Parse {
        let Some(at) = memmem::find(buf, &SIGNATURE) else {
            // Keep what could be the start of a signature.
            let keep = (1..SIGNATURE.len())
                .rev()
                .find(|&k| {
                    buf.len() >= k
                        && SIGNATURE.starts_with(buf.get(buf.len() - k..).unwrap_or_default())
                })
                .unwrap_or(0);
            let consumed = buf.len() - keep;
            return if consumed == 0 {
                Parse::Need
            } else {
                Parse::Step(Step::consume(consumed))
            };
        };
        if at > 0 {
            return Parse::Step(Step::consume(at));
        }
        match message_extent(buf, MAX_MESSAGE) {
            Ok(None) => Parse::Need,
            Ok(Some(n)) => match buf.get(..n) {
                Some(msg) => {
                    out.push(Found::Token {
                        bytes: msg.to_vec(),
                        carrier: Carrier::Scan,
                    });
                    Parse::Step(Step::consume(n))
                }
                None => Parse::Need,
            },
            Err(e) => {
                out.push(Found::Problem {
                    layer: "ntlmssp",
                    message: format!("signature found but no message: {e}"),
                });
                Parse::Step(Step::consume(SIGNATURE.len()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Direction, Kind, Shared};
    use super::*;
    use crate::synth;

    #[test]
    fn finds_messages_across_any_split() {
        let m = synth::Messages::sample();
        let stream = [
            &b"junk before"[..],
            &m.negotiate,
            b"\x00\x01between",
            &m.authenticate,
            b"NTLMSSP\0\x09\0\0\0 bad type",
            b"tail NTLMS",
        ]
        .concat();
        for step in [1usize, 2, 7, 13, stream.len()] {
            let mut d = Direction::new(Kind::Scan, 1 << 20);
            let mut out = Vec::new();
            let mut sh = Shared::default();
            for c in stream.chunks(step) {
                d.feed(c, &mut sh, &mut out);
            }
            let toks: Vec<_> = out
                .iter()
                .filter_map(|f| match f {
                    Found::Token { bytes, .. } => Some(bytes.clone()),
                    _ => None,
                })
                .collect();
            assert_eq!(
                toks,
                vec![m.negotiate.clone(), m.authenticate.clone()],
                "step {step}"
            );
            assert!(out.iter().any(|f| matches!(f, Found::Problem { layer: "ntlmssp", message } if message.contains("MessageType at offset 8: expected message type 1, 2 or 3, got 9"))));
            assert!(d.buffered() <= 8, "step {step}: {}", d.buffered());
        }
    }
}
