//! UTF-16 to UTF-8, streaming, for event XML saved as UTF-16 (PowerShell's
//! `Out-File` and `>` default on Windows PowerShell 5). The decoding itself
//! is `encoding_rs`'s; this is only the `Read` adapter around its streaming
//! decoder. Unpaired surrogates become U+FFFD.

use std::io::{self, Read};

use encoding_rs::{CoderResult, Decoder, UTF_16BE, UTF_16LE};

/// Reads UTF-16 from `inner` and yields UTF-8.
pub(crate) struct Utf16ToUtf8<R> {
    inner: R,
    decoder: Decoder,
    input: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    done: bool,
}

impl<R: Read> Utf16ToUtf8<R> {
    /// A byte-order mark, if any, is removed; it wins over `big_endian`.
    pub(crate) fn new(inner: R, big_endian: bool) -> Self {
        let enc = if big_endian { UTF_16BE } else { UTF_16LE };
        Self {
            inner,
            decoder: enc.new_decoder_with_bom_removal(),
            input: vec![0; 1 << 15],
            start: 0,
            end: 0,
            eof: false,
            done: false,
        }
    }
}

impl<R: Read> Read for Utf16ToUtf8<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // The decoder needs room for one whole character.
        if out.len() < 4 {
            let mut tmp = [0u8; 4];
            let n = self.read(&mut tmp)?;
            let n = n.min(out.len());
            out.copy_from_slice(tmp.get(..n).unwrap_or_default());
            return Ok(n);
        }
        loop {
            if self.done {
                return Ok(0);
            }
            if self.start == self.end && !self.eof {
                self.start = 0;
                self.end = 0;
                loop {
                    match self.inner.read(&mut self.input) {
                        Ok(0) => {
                            self.eof = true;
                            break;
                        }
                        Ok(n) => {
                            self.end = n;
                            break;
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            let src = self.input.get(self.start..self.end).unwrap_or_default();
            let (result, read, written, _) = self.decoder.decode_to_utf8(src, out, self.eof);
            self.start += read;
            if self.eof && result == CoderResult::InputEmpty && self.start == self.end {
                self.done = true;
            }
            if written > 0 {
                return Ok(written);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], big: bool) -> String {
        let mut s = String::new();
        Utf16ToUtf8::new(bytes, big).read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn decodes_both_orders_with_and_without_bom() {
        let text = "<Event>é€𝄞</Event>";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(decode(&le, false), text);
        assert_eq!(decode(&be, true), text);
        let mut bom = vec![0xff, 0xfe];
        bom.extend_from_slice(&le);
        assert_eq!(decode(&bom, false), text);
        // An odd trailing byte and a lone surrogate become U+FFFD.
        assert_eq!(decode(&[b'<', 0, b'a'], false), "<\u{fffd}");
        assert_eq!(decode(&[0x00, 0xd8, b'a', 0], false), "\u{fffd}a");
    }
}
