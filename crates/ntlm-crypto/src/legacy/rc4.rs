//! RC4 (MS-NLMP 6: RC4K, RC4Init, RC4).
//!
//! A small implementation rather than the `rc4` crate because session
//! security needs to *copy* a keystream state: a message that fails
//! verification must leave the receiver exactly as it was (MS-NLMP 3.4.4: the
//! sequence number is not incremented), and the `rc4` crate's state is not
//! `Clone`. The tests check it against the `rc4` crate and RFC 6229.

use core::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::CryptoError;

/// 0, 1, …, 255: the permutation the key schedule starts from.
#[allow(
    clippy::indexing_slicing,
    reason = "constant evaluation: i < 256 by the loop condition, and an \
              out-of-range index would fail the build, not panic at run time"
)]
const IDENTITY: [u8; 256] = {
    let mut s = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        s[i] = i as u8;
        i += 1;
    }
    s
};

/// An RC4 keystream state (a "handle" in MS-NLMP 3.4).
///
/// Cloning copies the position in the keystream. Zeroized on drop.
#[derive(Clone)]
pub struct Rc4 {
    s: [u8; 256],
    i: u8,
    j: u8,
}

impl Rc4 {
    /// RC4Init(Handle, Key): the key schedule. Keys are 1 to 256 bytes.
    pub fn new(key: &[u8]) -> Result<Self, CryptoError> {
        if key.is_empty() || key.len() > 256 {
            return Err(CryptoError::Length {
                field: "RC4 key",
                expected: 16,
                got: key.len(),
            });
        }
        Ok(Self::schedule(key))
    }

    /// The key schedule for keys the crate derives itself (a
    /// [`SealingKey`](crate::SealingKey) holds 1 to 16 bytes). An empty key
    /// is treated as a single zero byte (callers never pass one).
    pub(crate) fn schedule(key: &[u8]) -> Self {
        // Every NTLM RC4 key is 16 bytes, except the 8-byte weakened
        // sealing keys (MS-NLMP 3.4.5.3): those get a loop whose key index
        // is a constant mask.
        if let Ok(k) = <&[u8; 16]>::try_from(key) {
            return Self::schedule_n(k);
        }
        if let Ok(k) = <&[u8; 8]>::try_from(key) {
            return Self::schedule_n(k);
        }
        // Any other length: the key repeated to 256 bytes (RC4 cycles it).
        let mut long = [0u8; 256];
        if !key.is_empty() {
            for chunk in long.chunks_mut(key.len()) {
                if let Some(k) = key.get(..chunk.len()) {
                    chunk.copy_from_slice(k);
                }
            }
        }
        let s = Self::schedule_n(&long);
        long.as_mut_slice().zeroize();
        s
    }

    /// The key schedule for an `N`-byte key, `N` a power of two up to 256
    /// (16, 8 or a key already repeated to 256 bytes).
    #[inline]
    fn schedule_n<const N: usize>(key: &[u8; N]) -> Self {
        let mut s = IDENTITY;
        permute(&mut s, key);
        Self { s, i: 0, j: 0 }
    }

    /// A state to schedule in place (all zero: not a permutation until
    /// [`reschedule`](Self::reschedule) runs).
    pub(crate) const BLANK: Self = Self {
        s: [0; 256],
        i: 0,
        j: 0,
    };

    /// [`schedule`](Self::schedule) into this state, where it lies (a state
    /// inside a heap allocation is not copied).
    pub(crate) fn reschedule(&mut self, key: &[u8]) {
        if let Ok(k) = <&[u8; 16]>::try_from(key) {
            self.s = IDENTITY;
            permute(&mut self.s, k);
            self.i = 0;
            self.j = 0;
        } else {
            *self = Self::schedule(key);
        }
    }

    /// RC4(Handle, D): XORs the next `data.len()` keystream bytes into `data`.
    #[allow(
        clippy::indexing_slicing,
        reason = "every index is a u8 into a [u8; 256]: it cannot be out of range"
    )]
    pub fn apply_keystream(&mut self, data: &mut [u8]) {
        let (mut i, mut j) = (self.i, self.j);
        let s = &mut self.s;
        for b in data {
            i = i.wrapping_add(1);
            let si = s[usize::from(i)];
            j = j.wrapping_add(si);
            let sj = s[usize::from(j)];
            s[usize::from(i)] = sj;
            s[usize::from(j)] = si;
            *b ^= s[usize::from(si.wrapping_add(sj))];
        }
        self.i = i;
        self.j = j;
    }
}

/// The key schedule's permutation of `s`, which holds [`IDENTITY`].
#[allow(
    clippy::indexing_slicing,
    reason = "every index is < 256 into a [u8; 256] (the loop bound or a \
              u8) or masked by N - 1 into a [u8; N]: none can panic, and the \
              compiler drops the bounds checks"
)]
#[inline]
fn permute<const N: usize>(s: &mut [u8; 256], key: &[u8; N]) {
    const { assert!(N.is_power_of_two() && N <= 256) };
    let mut j = 0u8;
    for i in 0..256usize {
        let si = s[i];
        j = j.wrapping_add(si).wrapping_add(key[i & (N - 1)]);
        let jj = usize::from(j);
        s[i] = s[jj];
        s[jj] = si;
    }
}

impl Zeroize for Rc4 {
    fn zeroize(&mut self) {
        // The slice form clears the 256 bytes in bulk (one fill and a
        // compiler barrier) rather than with 256 volatile byte writes.
        self.s.as_mut_slice().zeroize();
        self.i.zeroize();
        self.j.zeroize();
    }
}

impl Drop for Rc4 {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for Rc4 {}

impl fmt::Debug for Rc4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Rc4(<redacted>)")
    }
}

/// RC4K(K, D): one-shot RC4 of `data` under `key` (MS-NLMP 6).
pub fn rc4k(key: &[u8], data: &mut [u8]) -> Result<(), CryptoError> {
    Rc4::new(key)?.apply_keystream(data);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::rc4::{KeyInit, StreamCipher};

    #[test]
    fn reschedule_in_place_equals_a_fresh_schedule() {
        for key in [&[0x3c; 16][..], &[0x5a; 8][..], &[1, 2, 3][..]] {
            let mut used = Rc4::schedule(&[9; 16]);
            used.apply_keystream(&mut [0; 5]);
            used.reschedule(key);
            let mut blank = Rc4::BLANK;
            blank.reschedule(key);
            let (mut a, mut b, mut c) = ([0u8; 32], [0u8; 32], [0u8; 32]);
            Rc4::schedule(key).apply_keystream(&mut a);
            used.apply_keystream(&mut b);
            blank.apply_keystream(&mut c);
            assert_eq!((a, a), (b, c), "{key:?}");
        }
    }

    #[test]
    fn rfc6229_key_0102030405() {
        // RFC 6229, 40-bit key 0x0102030405, keystream offsets 0 and 16.
        let mut ks = [0u8; 32];
        rc4k(&[1, 2, 3, 4, 5], &mut ks).unwrap();
        assert_eq!(
            hex::encode(ks),
            "b2396305f03dc027ccc3524a0a1118a86982944f18fc82d589c403a47a0d0919"
        );
    }

    #[test]
    fn matches_rc4_crate_across_calls() {
        for key_len in [1usize, 5, 7, 8, 16, 40, 256] {
            let key: Vec<u8> = (0..key_len).map(|i| (i * 37 + 11) as u8).collect();
            let mut ours = Rc4::new(&key).unwrap();
            let mut theirs = ::rc4::Rc4::new_from_slice(&key).unwrap();
            for chunk in [0usize, 1, 3, 16, 300] {
                let mut a: Vec<u8> = (0..chunk).map(|i| i as u8).collect();
                let mut b = a.clone();
                ours.apply_keystream(&mut a);
                theirs.apply_keystream(&mut b);
                assert_eq!(a, b, "key length {key_len}, chunk {chunk}");
            }
        }
    }

    #[test]
    fn clone_continues_from_the_same_position() {
        let mut a = Rc4::new(b"key").unwrap();
        a.apply_keystream(&mut [0u8; 10]);
        let mut b = a.clone();
        let (mut x, mut y) = ([0u8; 8], [0u8; 8]);
        a.apply_keystream(&mut x);
        b.apply_keystream(&mut y);
        assert_eq!(x, y);
    }

    #[test]
    fn rejects_empty_and_oversized_keys() {
        assert!(Rc4::new(&[]).is_err());
        assert!(Rc4::new(&[0; 257]).is_err());
        assert_eq!(format!("{:?}", Rc4::new(&[1]).unwrap()), "Rc4(<redacted>)");
    }
}
