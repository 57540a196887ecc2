//! MsvAvChannelBindings: the MD5 of a `gss_channel_bindings_struct`
//! (MS-NLMP 3.1.5.1.2, RFC 2744 3.11).

use md5::{Digest, Md5};

/// The RFC 5929 prefix of TLS server end-point bindings.
pub const TLS_SERVER_END_POINT: &[u8] = b"tls-server-end-point:";

/// MsvAvChannelBindings for `application_data` (for TLS,
/// [`TLS_SERVER_END_POINT`] followed by the certificate hash): MD5 of a
/// `gss_channel_bindings_struct` with no initiator or acceptor address, as
/// SSPI and GSSAPI clients hash it: initiator_addrtype, initiator_address
/// length, acceptor_addrtype, acceptor_address length (each a 32-bit
/// little-endian zero), then the application data's length (32-bit
/// little-endian) and the data.
pub fn channel_bindings_md5(application_data: &[u8]) -> [u8; 16] {
    let len = u32::try_from(application_data.len()).unwrap_or(u32::MAX);
    let mut h = Md5::new();
    h.update([0u8; 16]);
    h.update(len.to_le_bytes());
    h.update(application_data);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The struct layout, against an MD5 of the bytes written out by hand.
    #[test]
    fn hashes_the_struct_with_empty_addresses() {
        let data = b"tls-server-end-point:\x01\x02";
        let mut flat = vec![0u8; 16];
        flat.extend_from_slice(&23u32.to_le_bytes());
        flat.extend_from_slice(data);
        let want: [u8; 16] = Md5::digest(&flat).into();
        assert_eq!(channel_bindings_md5(data), want);
        assert_ne!(channel_bindings_md5(b""), [0; 16]);
    }
}
