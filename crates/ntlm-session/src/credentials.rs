//! Credentials: what a client authenticates with and what a server checks against.

use core::fmt;
use std::sync::Arc;

use ntlm_crypto::legacy::{LmHash, lm_hash};
use ntlm_crypto::{NtHash, nt_hash};
use zeroize::Zeroizing;

/// A client's credentials: user, domain and a password or its NT hash.
///
/// `Debug` never prints the secret.
#[derive(Clone)]
pub struct Credentials {
    /// UserName (as typed; NTOWFv2 upper-cases it).
    pub user: String,
    /// UserDom (not upper-cased by NTOWFv2).
    pub domain: String,
    secret: Secret,
}

#[derive(Clone)]
enum Secret {
    Password(Zeroizing<String>),
    Hash(NtHash),
}

impl Credentials {
    /// Credentials from a password.
    pub fn password(
        user: impl Into<String>,
        domain: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self {
            user: user.into(),
            domain: domain.into(),
            secret: Secret::Password(Zeroizing::new(password.into())),
        }
    }

    /// Credentials from an NT hash (pass-the-hash; no LM response possible).
    pub fn nt_hash(user: impl Into<String>, domain: impl Into<String>, hash: NtHash) -> Self {
        Self {
            user: user.into(),
            domain: domain.into(),
            secret: Secret::Hash(hash),
        }
    }

    /// The anonymous user: empty user name and password (MS-NLMP 3.3.1).
    pub fn anonymous() -> Self {
        Self::password("", "", "")
    }

    /// Whether these are the anonymous credentials.
    pub fn is_anonymous(&self) -> bool {
        self.user.is_empty() && matches!(&self.secret, Secret::Password(p) if p.is_empty())
    }

    /// NTOWFv1 of the password (or the stored hash).
    pub fn nt_hash_value(&self) -> NtHash {
        match &self.secret {
            Secret::Password(p) => nt_hash(p),
            Secret::Hash(h) => h.clone(),
        }
    }

    /// LMOWFv1, when a password of at most 14 characters is known.
    pub fn lm_hash_value(&self) -> Option<LmHash> {
        match &self.secret {
            Secret::Password(p) => lm_hash(p),
            Secret::Hash(_) => None,
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("domain", &self.domain)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// What a server knows about an account: its hashes.
#[derive(Clone)]
pub struct Account {
    /// NTOWFv1 of the password.
    pub nt_hash: NtHash,
    /// LMOWFv1, when the password allows it (at most 14 characters).
    pub lm_hash: Option<LmHash>,
}

impl Account {
    /// An account from a password.
    pub fn from_password(password: &str) -> Self {
        Self {
            nt_hash: nt_hash(password),
            lm_hash: lm_hash(password),
        }
    }
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Account(<redacted>)")
    }
}

/// Where a server looks accounts up (user and domain as received).
pub trait CredentialStore: Send + Sync {
    /// The account for this user in this domain, if any.
    fn lookup(&self, user: &str, domain: &str) -> Option<Account>;
}

impl<T: CredentialStore + ?Sized> CredentialStore for Arc<T> {
    fn lookup(&self, user: &str, domain: &str) -> Option<Account> {
        (**self).lookup(user, domain)
    }
}

/// An in-memory account list. User names match case-insensitively; an
/// account with an empty domain matches any domain; `any_user` answers for
/// every user (like Samba `ntlm_auth --password`).
#[derive(Default, Clone)]
pub struct MemoryStore {
    accounts: Vec<(String, String, Account)>,
    any_user: Option<Account>,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("accounts", &self.accounts.len())
            .field("any_user", &self.any_user.is_some())
            .finish()
    }
}

/// A line of a user file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFileError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: &'static str,
}

impl fmt::Display for UserFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for UserFileError {}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store that accepts any user name with this password.
    pub fn any_user(password: &str) -> Self {
        Self {
            accounts: Vec::new(),
            any_user: Some(Account::from_password(password)),
        }
    }

    /// Adds an account (empty domain = any domain).
    pub fn add(&mut self, domain: &str, user: &str, account: Account) -> &mut Self {
        self.accounts
            .push((domain.to_owned(), user.to_owned(), account));
        self
    }

    /// Adds an account from a password.
    pub fn add_password(&mut self, domain: &str, user: &str, password: &str) -> &mut Self {
        self.add(domain, user, Account::from_password(password))
    }

    /// Number of accounts (not counting `any_user`).
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// Whether the store has no account and no `any_user` password.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.any_user.is_none()
    }

    /// Parses a user file: `DOMAIN:USER:PASSWORD` lines (Heimdal/pyspnego
    /// style; an empty DOMAIN matches any domain) or smbpasswd lines
    /// `USER:UID:LMHASH:NTHASH:FLAGS:LCT` (hashes in hex, `X…` or `NO PASSWORD…`
    /// for none). Blank lines and `#` comments are skipped.
    pub fn parse_user_file(text: &str) -> Result<Self, UserFileError> {
        let mut store = Self::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_end_matches('\r');
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let err = |reason| UserFileError {
                line: i + 1,
                reason,
            };
            let fields: Vec<&str> = line.split(':').collect();
            match fields.as_slice() {
                [user, _uid, lm, nt, _flags, _lct, ..] if fields.len() >= 6 && is_hex32(nt) => {
                    let nt = parse_hash(nt).ok_or(err("the NT hash is not 32 hex digits"))?;
                    let account = Account {
                        nt_hash: NtHash::from_bytes(nt),
                        lm_hash: parse_hash(lm).map(LmHash::from_bytes),
                    };
                    store.add("", user, account);
                }
                [domain, user, password @ ..] if !password.is_empty() => {
                    if user.is_empty() {
                        return Err(err("the user name is empty"));
                    }
                    store.add_password(domain, user, &password.join(":"));
                }
                _ => {
                    return Err(err(
                        "expected DOMAIN:USER:PASSWORD or USER:UID:LMHASH:NTHASH:FLAGS:LCT",
                    ));
                }
            }
        }
        Ok(store)
    }
}

fn is_hex32(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn parse_hash(s: &str) -> Option<[u8; 16]> {
    if !is_hex32(s) {
        return None;
    }
    let mut out = [0u8; 16];
    for (o, pair) in out.iter_mut().zip(s.as_bytes().chunks_exact(2)) {
        let hi = char::from(*pair.first()?).to_digit(16)?;
        let lo = char::from(*pair.get(1)?).to_digit(16)?;
        *o = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

impl CredentialStore for MemoryStore {
    fn lookup(&self, user: &str, domain: &str) -> Option<Account> {
        self.accounts
            .iter()
            .find(|(d, u, _)| {
                u.eq_ignore_ascii_case(user) && (d.is_empty() || d.eq_ignore_ascii_case(domain))
            })
            .map(|(_, _, a)| a.clone())
            .or_else(|| self.any_user.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_file_both_formats() {
        let s = MemoryStore::parse_user_file(
            "# comment\nTESTDOM:alice:Passw0rd!\n\nbob:1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:fc525c9683e8fe067095ba2ddc971889:[U          ]:LCT-00000000\n:carol:pa:ss\n",
        )
        .unwrap();
        assert_eq!(s.len(), 3);
        let alice = s.lookup("ALICE", "testdom").unwrap();
        assert_eq!(alice.nt_hash, nt_hash("Passw0rd!"));
        assert!(s.lookup("alice", "OTHER").is_none());
        let bob = s.lookup("bob", "ANY").unwrap();
        assert_eq!(bob.nt_hash, nt_hash("Passw0rd!"));
        assert!(bob.lm_hash.is_none());
        assert_eq!(s.lookup("carol", "X").unwrap().nt_hash, nt_hash("pa:ss"));
    }

    #[test]
    fn user_file_errors_name_the_line() {
        let e = MemoryStore::parse_user_file("A:b:c\nnonsense\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().starts_with("line 2: expected"));
        let e = MemoryStore::parse_user_file("DOM::pw").unwrap_err();
        assert_eq!(e.reason, "the user name is empty");
    }

    #[test]
    fn debug_redacts_secrets() {
        let c = Credentials::password("u", "d", "hunter2");
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(Credentials::anonymous().is_anonymous());
        assert!(!c.is_anonymous());
    }
}
