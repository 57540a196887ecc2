//! One-way functions: NTOWFv1 and NTOWFv2/LMOWFv2 (MS-NLMP 3.3.1, 3.3.2).
//! LMOWFv1 is in [`crate::legacy`].

use alloc::string::String;

use hmac::Mac;
use md4::{Digest, Md4};
use zeroize::Zeroize;

use crate::keys::{HmacMd5Key, NtHash, ResponseKey};

/// NTOWFv1(Passwd) = MD4(UNICODE(Passwd)) (MS-NLMP 3.3.1).
///
/// The password is hashed as UTF-16LE without a terminator (the "null-
/// terminated" wording of MS-NLMP 6 does not apply here; the 4.2.2.1.2 value
/// confirms it).
pub fn nt_hash(password: &str) -> NtHash {
    let mut h = Md4::new();
    utf16le_into(password.chars(), |b| h.update(b));
    NtHash::from_bytes(h.finalize().into())
}

/// NTOWFv2(Passwd, User, UserDom) = HMAC_MD5(NTOWFv1(Passwd),
/// UNICODE(Uppercase(User) ‖ UserDom)) (MS-NLMP 3.3.2), from the NT hash.
///
/// The user name is upper-cased ([`upper_case`]); the domain is used exactly
/// as given. LMOWFv2 is the same value.
pub fn ntowfv2(nt_hash: &NtHash, user: &str, domain: &str) -> ResponseKey {
    let mut h = HmacMd5Key::new(nt_hash.as_bytes()).into_state();
    if user.is_ascii() && domain.is_ascii() {
        // The usual case: each byte is one UTF-16 unit.
        ascii_utf16le_into(
            user.bytes()
                .map(|b| b.to_ascii_uppercase())
                .chain(domain.bytes()),
            |b| h.update(b),
        );
    } else {
        utf16le_into(user.chars().map(upper_char).chain(domain.chars()), |b| {
            h.update(b);
        });
    }
    ResponseKey::from_bytes(h.finalize().into_bytes().into())
}

/// NTOWFv2 from the password: [`ntowfv2`] of [`nt_hash`].
pub fn ntowfv2_password(password: &str, user: &str, domain: &str) -> ResponseKey {
    ntowfv2(&nt_hash(password), user, domain)
}

/// Upper-cases as Windows does for NTLM user and domain names: each character
/// maps to its single-character upper case, and characters whose upper case
/// is several characters (such as `ß`) stay as they are, so the UTF-16 length
/// never changes (RtlUpcaseUnicodeString; Samba `strupper_talloc`).
pub fn upper_case(s: &str) -> String {
    s.chars().map(upper_char).collect()
}

/// One character of [`upper_case`].
fn upper_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// [`utf16le_into`] for ASCII bytes: a byte and a zero per character.
fn ascii_utf16le_into(bytes: impl Iterator<Item = u8>, mut sink: impl FnMut(&[u8])) {
    let mut buf = [0u8; 64];
    let mut n = 0usize;
    for b in bytes {
        if let Some([lo, hi]) = buf.get_mut(n..n.saturating_add(2)) {
            [*lo, *hi] = [b, 0];
            n = n.saturating_add(2);
        } else {
            sink(&buf);
            [buf[0], buf[1]] = [b, 0];
            n = 2;
        }
    }
    sink(buf.get(..n).unwrap_or_default());
    buf.as_mut_slice().zeroize();
}

/// Feeds UNICODE(chars) to `sink` in pieces through a stack buffer, which is
/// zeroized afterwards: hashing a password or a name allocates nothing.
fn utf16le_into(chars: impl Iterator<Item = char>, mut sink: impl FnMut(&[u8])) {
    let mut buf = [0u8; 64];
    let mut n = 0usize;
    for c in chars {
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            if let Some([lo, hi]) = buf.get_mut(n..n.saturating_add(2)) {
                [*lo, *hi] = unit.to_le_bytes();
                n = n.saturating_add(2);
            } else {
                sink(&buf);
                [buf[0], buf[1]] = unit.to_le_bytes();
                n = 2;
            }
        }
    }
    sink(buf.get(..n).unwrap_or_default());
    buf.as_mut_slice().zeroize();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nt_hash_of_spec_password() {
        // MS-NLMP 4.2.2.1.2.
        assert_eq!(
            nt_hash("Password").as_bytes(),
            &hex_literal("a4f49c406510bdcab6824ee7c30fd852")
        );
        // MD4 of the empty string (RFC 1320).
        assert_eq!(
            nt_hash("").as_bytes(),
            &hex_literal("31d6cfe0d16ae931b73c59d7e0c089c0")
        );
    }

    #[test]
    fn ntowfv2_uppercases_user_only() {
        let nt = nt_hash("Password");
        let k = ntowfv2(&nt, "User", "Domain");
        assert_eq!(
            k.as_bytes(),
            &hex_literal("0c868a403bfd7a93a3001ef22ef02e3f")
        );
        assert_eq!(ntowfv2(&nt, "USER", "Domain"), k);
        assert_eq!(ntowfv2(&nt, "user", "Domain"), k);
        assert_ne!(ntowfv2(&nt, "User", "DOMAIN"), k);
        assert_eq!(ntowfv2_password("Password", "uSeR", "Domain"), k);
    }

    #[test]
    fn ascii_and_general_paths_agree() {
        let nt = nt_hash("Password");
        for n in [0usize, 1, 31, 32, 33, 70] {
            let user: String = "u".repeat(n);
            let domain: String = "Dom".repeat(n / 3 + 1);
            // A non-ASCII character in the domain takes the general path;
            // compare with the same name hashed from explicit UTF-16.
            let mut unicode = Vec::new();
            for c in upper_case(&user)
                .encode_utf16()
                .chain(domain.encode_utf16())
            {
                unicode.extend_from_slice(&c.to_le_bytes());
            }
            let mut h = HmacMd5Key::new(nt.as_bytes()).into_state();
            h.update(&unicode);
            let want = ResponseKey::from_bytes(h.finalize().into_bytes().into());
            assert_eq!(ntowfv2(&nt, &user, &domain), want, "{n}");
            let dom_e = format!("{domain}é");
            let mut h = HmacMd5Key::new(nt.as_bytes()).into_state();
            h.update(&unicode);
            h.update(&[0xe9, 0]);
            assert_eq!(
                ntowfv2(&nt, &user, &dom_e),
                ResponseKey::from_bytes(h.finalize().into_bytes().into())
            );
        }
    }

    #[test]
    fn upper_case_keeps_length() {
        assert_eq!(upper_case("administrator"), "ADMINISTRATOR");
        assert_eq!(upper_case("straße"), "STRAßE");
        assert_eq!(upper_case("élan"), "ÉLAN");
    }

    fn hex_literal(s: &str) -> [u8; 16] {
        hex::decode(s).unwrap().try_into().unwrap()
    }
}
