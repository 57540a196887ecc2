//! Bounds-checked reads of integers at byte offsets.
//!
//! Every accessor returns `None` when the value does not fit in the slice,
//! so that decoders can propagate truncation with `?` and never index out
//! of bounds.

/// The byte at `at`.
#[inline]
pub fn u8_at(b: &[u8], at: usize) -> Option<u8> {
    b.get(at).copied()
}

/// `N` bytes at `at`.
#[inline]
pub fn array<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// Big-endian `u16` at `at`.
#[inline]
pub fn be16(b: &[u8], at: usize) -> Option<u16> {
    array(b, at).map(u16::from_be_bytes)
}

/// Big-endian `u32` at `at`.
#[inline]
pub fn be32(b: &[u8], at: usize) -> Option<u32> {
    array(b, at).map(u32::from_be_bytes)
}

/// Little-endian `u16` at `at`.
#[inline]
pub fn le16(b: &[u8], at: usize) -> Option<u16> {
    array(b, at).map(u16::from_le_bytes)
}

/// Little-endian `u32` at `at`.
#[inline]
pub fn le32(b: &[u8], at: usize) -> Option<u32> {
    array(b, at).map(u32::from_le_bytes)
}

/// `u16` at `at` in the given byte order.
#[inline]
pub fn u16_in(b: &[u8], at: usize, little: bool) -> Option<u16> {
    if little { le16(b, at) } else { be16(b, at) }
}

/// `u32` at `at` in the given byte order.
#[inline]
pub fn u32_in(b: &[u8], at: usize, little: bool) -> Option<u32> {
    if little { le32(b, at) } else { be32(b, at) }
}

/// `len` bytes at `at`.
#[inline]
pub fn slice(b: &[u8], at: usize, len: usize) -> Option<&[u8]> {
    b.get(at..at.checked_add(len)?)
}

/// The bytes from `at` on (empty at the end, `None` past it).
#[inline]
pub fn from(b: &[u8], at: usize) -> Option<&[u8]> {
    b.get(at..)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded() {
        let b = [1, 2, 3, 4, 5];
        assert_eq!(be16(&b, 0), Some(0x0102));
        assert_eq!(le16(&b, 3), Some(0x0504));
        assert_eq!(le16(&b, 4), None);
        assert_eq!(be32(&b, 1), Some(0x0203_0405));
        assert_eq!(be32(&b, 2), None);
        assert_eq!(u32_in(&b, usize::MAX, true), None);
        assert_eq!(slice(&b, 4, 1), Some(&[5][..]));
        assert_eq!(slice(&b, 5, 1), None);
        assert_eq!(from(&b, 5), Some(&[][..]));
        assert_eq!(from(&b, 6), None);
    }
}
