//! Reflection protection (MS08-068, KB957097): a host remembers the
//! responses it computed as a client; its server refuses an AUTHENTICATE
//! that carries one of them, because it is the host's own authentication
//! reflected back to it.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Mutex;

/// Responses this host produced as a client, shared by its client and server
/// settings (`Arc<ReflectionCache>`). Bounded: the oldest entries go first.
pub struct ReflectionCache {
    entries: Mutex<VecDeque<([u8; 8], [u8; 16])>>,
    capacity: usize,
}

impl ReflectionCache {
    /// Entries kept by [`ReflectionCache::default`].
    pub const DEFAULT_CAPACITY: usize = 1024;

    /// A cache keeping at most `capacity` responses.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(VecDeque::with_capacity(
                capacity.min(Self::DEFAULT_CAPACITY),
            )),
            capacity,
        }
    }

    /// The key of a response: its first 16 bytes (NTProofStr for NTLMv2, the
    /// start of the DESL response for NTLMv1), or `None` when it is shorter.
    fn key(nt_response: &[u8]) -> Option<[u8; 16]> {
        nt_response.get(..16).and_then(|k| k.try_into().ok())
    }

    /// Records a response the client computed for `server_challenge`.
    pub fn remember(&self, server_challenge: &[u8; 8], nt_response: &[u8]) {
        let (Some(key), Ok(mut entries)) = (Self::key(nt_response), self.entries.lock()) else {
            return;
        };
        if self.capacity == 0 {
            return;
        }
        while entries.len() >= self.capacity {
            entries.pop_front();
        }
        entries.push_back((*server_challenge, key));
    }

    /// Whether this host computed this response for this challenge.
    pub fn contains(&self, server_challenge: &[u8; 8], nt_response: &[u8]) -> bool {
        let Some(key) = Self::key(nt_response) else {
            return false;
        };
        self.entries
            .lock()
            .is_ok_and(|e| e.iter().any(|(c, k)| c == server_challenge && *k == key))
    }

    /// Number of remembered responses.
    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for ReflectionCache {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

impl fmt::Debug for ReflectionCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReflectionCache")
            .field("entries", &self.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_per_challenge_and_forgets_the_oldest() {
        let c = ReflectionCache::new(2);
        c.remember(&[1; 8], &[7; 24]);
        assert!(c.contains(&[1; 8], &[7; 24]));
        assert!(!c.contains(&[2; 8], &[7; 24]), "another challenge");
        assert!(!c.contains(&[1; 8], &[8; 24]), "another response");
        assert!(!c.contains(&[1; 8], &[7; 8]), "too short to match");
        c.remember(&[2; 8], &[7; 24]);
        c.remember(&[3; 8], &[7; 24]);
        assert_eq!(c.len(), 2);
        assert!(!c.contains(&[1; 8], &[7; 24]), "evicted");
        c.remember(&[4; 8], &[1; 3]);
        assert_eq!(c.len(), 2, "short responses are not recorded");
    }
}
