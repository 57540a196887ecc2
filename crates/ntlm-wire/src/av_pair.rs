//! AV_PAIR lists (MS-NLMP 2.2.2.1) and Single_Host_Data (2.2.2.2).
//!
//! An [`AvPairs`] value *is* the bytes of the list as received (including any
//! bytes after `MsvAvEOL`), so it re-emits exactly and the NTLMv2 proof can be
//! checked over it. Parsing never fails: defects (a missing `MsvAvEOL`, a pair
//! running past the end, duplicate ids, an EOL with a non-zero length) are
//! recorded in [`AvDefects`] for the policy layer to judge.

use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::fmt;

use crate::error::DecodeError;
use crate::filetime::FileTime;

/// An AvId (MS-NLMP 2.2.2.1). Unknown ids are kept as they are.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AvId(pub u16);

impl AvId {
    /// `MsvAvEOL`: end of the list.
    pub const EOL: Self = Self(0);
    /// `MsvAvNbComputerName`.
    pub const NB_COMPUTER_NAME: Self = Self(1);
    /// `MsvAvNbDomainName`.
    pub const NB_DOMAIN_NAME: Self = Self(2);
    /// `MsvAvDnsComputerName`.
    pub const DNS_COMPUTER_NAME: Self = Self(3);
    /// `MsvAvDnsDomainName`.
    pub const DNS_DOMAIN_NAME: Self = Self(4);
    /// `MsvAvDnsTreeName`.
    pub const DNS_TREE_NAME: Self = Self(5);
    /// `MsvAvFlags`.
    pub const FLAGS: Self = Self(6);
    /// `MsvAvTimestamp`.
    pub const TIMESTAMP: Self = Self(7);
    /// `MsvAvSingleHost`.
    pub const SINGLE_HOST: Self = Self(8);
    /// `MsvAvTargetName`.
    pub const TARGET_NAME: Self = Self(9);
    /// `MsvAvChannelBindings`.
    pub const CHANNEL_BINDINGS: Self = Self(10);

    /// The MS-NLMP name, or `None` for an id the specification does not define.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "MsvAvEOL",
            1 => "MsvAvNbComputerName",
            2 => "MsvAvNbDomainName",
            3 => "MsvAvDnsComputerName",
            4 => "MsvAvDnsDomainName",
            5 => "MsvAvDnsTreeName",
            6 => "MsvAvFlags",
            7 => "MsvAvTimestamp",
            8 => "MsvAvSingleHost",
            9 => "MsvAvTargetName",
            10 => "MsvAvChannelBindings",
            _ => return None,
        })
    }

    /// Whether the value is a UTF-16LE string.
    pub const fn is_text(self) -> bool {
        matches!(self.0, 1..=5 | 9)
    }
}

impl fmt::Debug for AvId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "AvId({:#06x})", self.0),
        }
    }
}

bitflags::bitflags! {
    /// The value of `MsvAvFlags` (MS-NLMP 2.2.2.1). Unknown bits are kept.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct MsvAvFlags: u32 {
        /// 0x1: the server's account authentication is constrained.
        const CONSTRAINED = 0x0000_0001;
        /// 0x2: the client provides a MIC in the AUTHENTICATE message.
        const MIC_PRESENT = 0x0000_0002;
        /// 0x4: the target SPN came from an untrusted source.
        const UNTRUSTED_SPN = 0x0000_0004;
    }
}

/// One AV pair, borrowed from an [`AvPairs`] list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvPair<'a> {
    /// The AvId.
    pub id: AvId,
    /// The value bytes (`AvLen` of them).
    pub value: &'a [u8],
    /// Offset of the pair (its AvId) within the list.
    pub offset: usize,
}

/// The typed value of an AV pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AvValue<'a> {
    /// `MsvAvEOL`.
    Eol,
    /// A UTF-16LE string (the names, `MsvAvTargetName`), raw bytes.
    Text(&'a [u8]),
    /// `MsvAvFlags`.
    Flags(MsvAvFlags),
    /// `MsvAvTimestamp`.
    Timestamp(FileTime),
    /// `MsvAvSingleHost`.
    SingleHost(SingleHostData<'a>),
    /// `MsvAvChannelBindings`: MD5 of the channel bindings (all zero = none).
    ChannelBindings([u8; 16]),
    /// An id MS-NLMP does not define.
    Unknown(&'a [u8]),
}

impl<'a> AvPair<'a> {
    /// Decodes the value according to the id.
    ///
    /// Errors name the pair and its offset within the list.
    pub fn typed(&self) -> Result<AvValue<'a>, DecodeError> {
        let field = self.id.name().unwrap_or("AvPair");
        let at = self.offset.saturating_add(4);
        match self.id {
            AvId::EOL if self.value.is_empty() => Ok(AvValue::Eol),
            AvId::EOL => Err(DecodeError::invalid(field, at, "an AvLen of 0")),
            id if id.is_text() => Ok(AvValue::Text(self.value)),
            AvId::FLAGS => <[u8; 4]>::try_from(self.value)
                .map(|b| AvValue::Flags(MsvAvFlags::from_bits_retain(u32::from_le_bytes(b))))
                .map_err(|_| DecodeError::invalid(field, at, "a 4-byte value")),
            AvId::TIMESTAMP => <[u8; 8]>::try_from(self.value)
                .map(|b| AvValue::Timestamp(FileTime::from_le_bytes(b)))
                .map_err(|_| DecodeError::invalid(field, at, "an 8-byte FILETIME")),
            AvId::SINGLE_HOST => SingleHostData::parse(self.value)
                .map(AvValue::SingleHost)
                .map_err(|e| e.at_base(at)),
            AvId::CHANNEL_BINDINGS => <[u8; 16]>::try_from(self.value)
                .map(AvValue::ChannelBindings)
                .map_err(|_| DecodeError::invalid(field, at, "a 16-byte MD5 hash")),
            _ => Ok(AvValue::Unknown(self.value)),
        }
    }
}

/// Single_Host_Data (MS-NLMP 2.2.2.2): 48 bytes in MS-NLMP v36, 80 in v37
/// (a 32-byte Reserved field after MachineID). Anything after MachineID is
/// kept in `rest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SingleHostData<'a> {
    /// `Size`: the length of the whole structure.
    pub size: u32,
    /// `Z4`: MUST be zero.
    pub z4: u32,
    /// `CustomData` (Samba: Flags and TokenIL).
    pub custom_data: [u8; 8],
    /// `MachineID`: a random 256-bit value per machine boot.
    pub machine_id: [u8; 32],
    /// Bytes after MachineID (v37: Reserved), to be ignored on receipt.
    pub rest: &'a [u8],
}

impl<'a> SingleHostData<'a> {
    /// Length of the fixed part.
    pub const FIXED_LEN: usize = 48;

    /// Parses the value of an `MsvAvSingleHost` pair.
    pub fn parse(b: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = crate::codec::Reader::new(b);
        Ok(Self {
            size: r.u32("Single_Host_Data.Size")?,
            z4: r.u32("Single_Host_Data.Z4")?,
            custom_data: r.array("Single_Host_Data.CustomData")?,
            machine_id: r.array("Single_Host_Data.MachineID")?,
            rest: r.rest(),
        })
    }

    /// Encodes the structure.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(Self::FIXED_LEN.saturating_add(self.rest.len()));
        v.extend_from_slice(&self.size.to_le_bytes());
        v.extend_from_slice(&self.z4.to_le_bytes());
        v.extend_from_slice(&self.custom_data);
        v.extend_from_slice(&self.machine_id);
        v.extend_from_slice(self.rest);
        v
    }
}

/// Structural defects found in an AV pair list. None of them stops parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AvDefects {
    /// No `MsvAvEOL` was found (Samba: `NT_STATUS_INVALID_PARAMETER`).
    pub missing_eol: bool,
    /// A pair's header or value runs past the end; the offset of that pair.
    pub truncated_at: Option<usize>,
    /// `MsvAvEOL` carried a non-zero AvLen (the spec requires 0).
    pub eol_with_value: bool,
    /// Bit `n` set: AvId `n` (0..=63) appears more than once before EOL.
    pub duplicate_ids: u64,
    /// The security buffer that carried the list declared this many bytes
    /// more than the message holds (only from a lenient parse).
    pub declared_past_end: Option<usize>,
}

impl AvDefects {
    /// True when the list is well formed.
    pub const fn is_clean(&self) -> bool {
        !self.missing_eol
            && self.truncated_at.is_none()
            && !self.eol_with_value
            && self.duplicate_ids == 0
            && self.declared_past_end.is_none()
    }

    /// The duplicated ids.
    pub fn duplicates(&self) -> impl Iterator<Item = AvId> + '_ {
        (0u16..64)
            .filter(|i| self.duplicate_ids & (1u64 << i) != 0)
            .map(AvId)
    }
}

/// An AV pair list exactly as received (MS-NLMP 2.2.2.1).
#[derive(Clone, PartialEq, Eq)]
pub struct AvPairs<'a> {
    bytes: Cow<'a, [u8]>,
    /// Offsets of MsvAvEOL and just past it, when there is one.
    eol: Option<(usize, usize)>,
    defects: AvDefects,
}

impl<'a> AvPairs<'a> {
    /// Wraps and scans a list. Never fails; see [`AvPairs::defects`].
    pub fn new(bytes: impl Into<Cow<'a, [u8]>>) -> Self {
        let bytes = bytes.into();
        let (eol, defects) = scan(&bytes);
        Self {
            bytes,
            eol,
            defects,
        }
    }

    /// Wraps a list whose security buffer declared `missing` bytes more
    /// than the message holds (see `ChallengeMessage::parse_lenient`).
    pub fn new_truncated(bytes: impl Into<Cow<'a, [u8]>>, missing: usize) -> Self {
        let mut l = Self::new(bytes);
        l.defects.declared_past_end = Some(missing);
        l
    }

    /// Builds a well-formed list from pairs, appending `MsvAvEOL`.
    ///
    /// Pairs whose id is [`AvId::EOL`] are skipped; values longer than 65535
    /// bytes are an error.
    pub fn build<'p, I>(pairs: I) -> Result<AvPairs<'static>, crate::EncodeError>
    where
        I: IntoIterator<Item = (AvId, &'p [u8])>,
        I::IntoIter: Clone,
    {
        let pairs = pairs.into_iter();
        let size = pairs
            .clone()
            .map(|(_, v)| v.len().saturating_add(4))
            .fold(4usize, usize::saturating_add);
        let mut v = Vec::with_capacity(size);
        for (id, value) in pairs {
            if id == AvId::EOL {
                continue;
            }
            let len = u16::try_from(value.len()).map_err(|_| crate::EncodeError::FieldTooLong {
                field: "AvPair.Value",
                len: value.len(),
            })?;
            v.extend_from_slice(&id.0.to_le_bytes());
            v.extend_from_slice(&len.to_le_bytes());
            v.extend_from_slice(value);
        }
        v.extend_from_slice(&[0, 0, 0, 0]);
        Ok(AvPairs::new(v))
    }

    /// The bytes as received (or built), EOL and trailing bytes included.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True when there are no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Structural defects.
    pub const fn defects(&self) -> AvDefects {
        self.defects
    }

    /// The pairs before `MsvAvEOL` (or before a truncated pair).
    pub fn iter(&self) -> AvPairIter<'_> {
        AvPairIter {
            bytes: &self.bytes,
            pos: 0,
            done: false,
        }
    }

    /// The pairs *and* the terminating `MsvAvEOL`, if any.
    pub fn iter_with_eol(&self) -> impl Iterator<Item = AvPair<'_>> {
        let eol = self
            .eol
            .and_then(|(at, _)| read_pair(&self.bytes, at))
            .map(|(pair, _)| pair);
        self.iter().chain(eol)
    }

    /// Bytes after `MsvAvEOL` (MS-NLMP <30>: Windows may add some; the NTLMv2
    /// temp has four zero bytes there).
    pub fn trailing(&self) -> &[u8] {
        self.eol
            .and_then(|(_, end)| self.bytes.get(end..))
            .unwrap_or_default()
    }

    /// The bytes from the first pair up to and including `MsvAvEOL`.
    pub fn through_eol(&self) -> &[u8] {
        self.bytes
            .get(..self.eol.map_or(self.bytes.len(), |(_, end)| end))
            .unwrap_or_default()
    }

    /// The first pair with this id.
    pub fn get(&self, id: AvId) -> Option<AvPair<'_>> {
        self.iter().find(|p| p.id == id)
    }

    /// `MsvAvFlags` of the first such pair, when it has a 4-byte value.
    pub fn flags(&self) -> Option<MsvAvFlags> {
        match self.get(AvId::FLAGS)?.typed() {
            Ok(AvValue::Flags(f)) => Some(f),
            _ => None,
        }
    }

    /// All `MsvAvFlags` values ORed together (the defence against CVE-2019-1166).
    pub fn flags_union(&self) -> MsvAvFlags {
        self.iter()
            .filter(|p| p.id == AvId::FLAGS)
            .filter_map(|p| match p.typed() {
                Ok(AvValue::Flags(f)) => Some(f),
                _ => None,
            })
            .fold(MsvAvFlags::empty(), |a, b| a | b)
    }

    /// `MsvAvTimestamp`, when present with an 8-byte value.
    pub fn timestamp(&self) -> Option<FileTime> {
        match self.get(AvId::TIMESTAMP)?.typed() {
            Ok(AvValue::Timestamp(t)) => Some(t),
            _ => None,
        }
    }

    /// Converts borrowed bytes into owned ones.
    pub fn into_owned(self) -> AvPairs<'static> {
        AvPairs {
            bytes: Cow::Owned(self.bytes.into_owned()),
            eol: self.eol,
            defects: self.defects,
        }
    }
}

impl fmt::Debug for AvPairs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut l = f.debug_list();
        for p in self.iter_with_eol() {
            l.entry(&(p.id, p.value));
        }
        if !self.trailing().is_empty() {
            l.entry(&("trailing", self.trailing()));
        }
        l.finish()?;
        if !self.defects.is_clean() {
            write!(f, " {:?}", self.defects)?;
        }
        Ok(())
    }
}

/// Iterator over the pairs before `MsvAvEOL`.
#[derive(Debug, Clone)]
pub struct AvPairIter<'a> {
    bytes: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Iterator for AvPairIter<'a> {
    type Item = AvPair<'a>;

    fn next(&mut self) -> Option<AvPair<'a>> {
        if self.done {
            return None;
        }
        match read_pair(self.bytes, self.pos) {
            Some((pair, next)) if pair.id != AvId::EOL => {
                self.pos = next;
                Some(pair)
            }
            _ => {
                self.done = true;
                None
            }
        }
    }
}

/// Reads the pair at `pos`: `Some((pair, next_pos))`, or `None` if truncated.
fn read_pair(bytes: &[u8], pos: usize) -> Option<(AvPair<'_>, usize)> {
    let hdr_end = pos.checked_add(4)?;
    let hdr = bytes.get(pos..hdr_end)?;
    let (id, len) = match *hdr {
        [a, b, c, d] => (u16::from_le_bytes([a, b]), u16::from_le_bytes([c, d])),
        _ => return None,
    };
    let end = hdr_end.checked_add(usize::from(len))?;
    let value = bytes.get(hdr_end..end)?;
    Some((
        AvPair {
            id: AvId(id),
            value,
            offset: pos,
        },
        end,
    ))
}

fn scan(bytes: &[u8]) -> (Option<(usize, usize)>, AvDefects) {
    let mut d = AvDefects::default();
    let mut seen = 0u64;
    let mut pos = 0usize;
    loop {
        if pos >= bytes.len() {
            d.missing_eol = true;
            return (None, d);
        }
        let Some((pair, next)) = read_pair(bytes, pos) else {
            d.truncated_at = Some(pos);
            d.missing_eol = true;
            return (None, d);
        };
        if pair.id == AvId::EOL {
            d.eol_with_value = !pair.value.is_empty();
            return (Some((pos, next)), d);
        }
        if pair.id.0 < 64 {
            let bit = 1u64 << pair.id.0;
            if seen & bit != 0 {
                d.duplicate_ids |= bit;
            }
            seen |= bit;
        }
        pos = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // MS-NLMP 4.2.4: NbDomainName "Domain", NbComputerName "Server", EOL.
    const SPEC_TARGET_INFO: &str =
        "02000c0044006f006d00610069006e0001000c0053006500720076006500720000000000";

    #[test]
    fn parses_spec_target_info() {
        let b = hex::decode(SPEC_TARGET_INFO).unwrap();
        let l = AvPairs::new(&b[..]);
        assert!(l.defects().is_clean());
        let ids: Vec<_> = l.iter().map(|p| p.id).collect();
        assert_eq!(ids, [AvId::NB_DOMAIN_NAME, AvId::NB_COMPUTER_NAME]);
        assert_eq!(l.trailing(), b"");
        assert_eq!(l.through_eol(), &b[..]);
        assert_eq!(l.iter_with_eol().count(), 3);
    }

    #[test]
    fn build_matches_spec_bytes() {
        let dom = crate::text::utf16le("Domain");
        let srv = crate::text::utf16le("Server");
        let l = AvPairs::build([
            (AvId::NB_DOMAIN_NAME, &dom[..]),
            (AvId::NB_COMPUTER_NAME, &srv[..]),
        ])
        .unwrap();
        assert_eq!(hex::encode(l.as_bytes()), SPEC_TARGET_INFO);
    }

    #[test]
    fn keeps_trailing_bytes_after_eol() {
        let mut b = hex::decode(SPEC_TARGET_INFO).unwrap();
        b.extend_from_slice(&[0; 8]);
        let l = AvPairs::new(b.clone());
        assert_eq!(l.trailing(), &[0; 8]);
        assert_eq!(l.as_bytes(), &b[..]);
        assert!(l.defects().is_clean());
    }

    #[test]
    fn reports_missing_eol() {
        let b = hex::decode("02000c0044006f006d00610069006e00").unwrap();
        let l = AvPairs::new(b);
        assert!(l.defects().missing_eol);
        assert_eq!(l.defects().truncated_at, None);
        assert_eq!(l.iter().count(), 1);
    }

    #[test]
    fn reports_pair_running_past_end() {
        // NbDomainName claims 0x40 bytes, only 4 follow.
        let b = hex::decode("0200400044006f00").unwrap();
        let l = AvPairs::new(b);
        assert_eq!(l.defects().truncated_at, Some(0));
        assert!(l.defects().missing_eol);
        assert_eq!(l.iter().count(), 0);
    }

    #[test]
    fn reports_duplicate_flags() {
        let l = AvPairs::build([
            (AvId::FLAGS, &2u32.to_le_bytes()[..]),
            (AvId::FLAGS, &0u32.to_le_bytes()[..]),
        ])
        .unwrap();
        assert_eq!(l.defects().duplicates().collect::<Vec<_>>(), [AvId::FLAGS]);
        assert_eq!(l.flags(), Some(MsvAvFlags::MIC_PRESENT));
        assert_eq!(l.flags_union(), MsvAvFlags::MIC_PRESENT);
    }

    #[test]
    fn keeps_unknown_ids() {
        let l = AvPairs::build([(AvId(0x7777), &b"xyz"[..])]).unwrap();
        let p = l.iter().next().unwrap();
        assert_eq!(p.id, AvId(0x7777));
        assert_eq!(p.typed().unwrap(), AvValue::Unknown(b"xyz"));
        assert_eq!(format!("{:?}", p.id), "AvId(0x7777)");
    }

    #[test]
    fn typed_values_check_lengths() {
        let l = AvPairs::build([(AvId::TIMESTAMP, &[1u8, 2, 3][..])]).unwrap();
        let e = l.iter().next().unwrap().typed().unwrap_err();
        assert_eq!(e.field, "MsvAvTimestamp");
        assert_eq!(e.offset, 4);
    }

    #[test]
    fn single_host_both_forms() {
        // Real Windows 7 value (gss-ntlmssp tests/ntlmssptest.c), 48 bytes.
        let v48 = hex::decode("300000000000000001000000002000004d6b0d27541022f5ffa673da2bfcfdf1942f257be11a49c954197aca8aaf2eaf").unwrap();
        let s = SingleHostData::parse(&v48).unwrap();
        assert_eq!(s.size, 48);
        assert!(s.rest.is_empty());
        assert_eq!(s.to_vec(), v48);
        let mut v80 = v48.clone();
        v80[0] = 80;
        v80.extend_from_slice(&[0; 32]);
        let s = SingleHostData::parse(&v80).unwrap();
        assert_eq!(s.rest.len(), 32);
        assert_eq!(s.to_vec(), v80);
        assert!(SingleHostData::parse(&v48[..40]).is_err());
    }
}
