//! TLS for `serve http --tls`: the server certificate (generated at
//! start-up with rcgen, or read from PEM files), the rustls configuration
//! (ring provider), and the channel bindings a client computes for the
//! connection: `tls-server-end-point` (RFC 5929 4.1), the hash of the
//! server certificate, which curl with SSPI, pyspnego and Windows use for
//! Extended Protection.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The server side of TLS, ready to accept connections.
pub(crate) struct Tls {
    /// The rustls configuration (HTTP/1.1 only).
    pub(crate) config: Arc<rustls::ServerConfig>,
    /// The leaf certificate, DER.
    pub(crate) certificate: Vec<u8>,
    /// The RFC 5929 `tls-server-end-point` value: the certificate's hash.
    pub(crate) end_point_hash: Vec<u8>,
    /// MsvAvChannelBindings a client on this server sends: MD5 of the
    /// `gss_channel_bindings_struct` with `tls-server-end-point:` and the hash.
    pub(crate) channel_bindings: [u8; 16],
    /// Whether the certificate was generated at start-up.
    pub(crate) generated: bool,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The configuration holds the private key: not printed.
        f.debug_struct("Tls")
            .field("end_point_hash", &hex::encode(&self.end_point_hash))
            .field("generated", &self.generated)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// A self-signed certificate generated now for `names` (DNS names or
    /// IP addresses), ECDSA P-256 with SHA-256.
    pub(crate) fn generate(names: &[String]) -> Result<Self, String> {
        let ck = rcgen::generate_simple_self_signed(names.to_vec())
            .map_err(|e| format!("cannot generate a certificate: {e}"))?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
        Self::new(vec![ck.cert.der().clone()], key, true)
    }

    /// The certificate chain (leaf first) and private key of PEM files.
    pub(crate) fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, String> {
        let chain = CertificateDer::pem_file_iter(cert)
            .map_err(|e| format!("--cert {}: {e}", cert.display()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("--cert {}: {e}", cert.display()))?;
        if chain.is_empty() {
            return Err(format!(
                "--cert {}: no CERTIFICATE block in the file",
                cert.display()
            ));
        }
        let key = PrivateKeyDer::from_pem_file(key)
            .map_err(|e| format!("--key {}: {e}", key.display()))?;
        Self::new(chain, key, false)
    }

    fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        generated: bool,
    ) -> Result<Self, String> {
        let leaf = chain
            .first()
            .map(|c| c.as_ref().to_vec())
            .ok_or("no certificate")?;
        let end_point_hash = tls_server_end_point(&leaf)?;
        let mut data = ntlm_crypto::TLS_SERVER_END_POINT.to_vec();
        data.extend_from_slice(&end_point_hash);
        let channel_bindings = ntlm_crypto::channel_bindings_md5(&data);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| format!("TLS certificate and key: {e}"))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            config: Arc::new(config),
            certificate: leaf,
            end_point_hash,
            channel_bindings,
            generated,
        })
    }

    /// The certificate as PEM.
    pub(crate) fn certificate_pem(&self) -> String {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&self.certificate);
        let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
        for line in b64.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(line));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
        out
    }
}

/// The hash algorithms RFC 5929 4.1 allows, by the certificate's
/// signatureAlgorithm: MD5 and SHA-1 signatures use SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EndPointHash {
    Sha256,
    Sha384,
    Sha512,
}

/// signatureAlgorithm OIDs (DER content bytes) and the hash each names.
/// (SHA-224 signatures are left out: ring has no SHA-224, so they are refused.)
const SIGNATURE_HASHES: [(&[u8], EndPointHash); 9] = [
    // md5WithRSAEncryption, sha1WithRSAEncryption: SHA-256 (RFC 5929 4.1).
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04],
        EndPointHash::Sha256,
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05],
        EndPointHash::Sha256,
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b],
        EndPointHash::Sha256,
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c],
        EndPointHash::Sha384,
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d],
        EndPointHash::Sha512,
    ),
    // ecdsa-with-SHA1, -SHA256, -SHA384, -SHA512.
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01],
        EndPointHash::Sha256,
    ),
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02],
        EndPointHash::Sha256,
    ),
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03],
        EndPointHash::Sha384,
    ),
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04],
        EndPointHash::Sha512,
    ),
];

/// RFC 5929 4.1 `tls-server-end-point`: the hash of the DER certificate
/// with the hash function of its signatureAlgorithm (SHA-256 for MD5 and
/// SHA-1). Signatures without a single such hash (RSASSA-PSS, Ed25519)
/// are refused with an error naming the algorithm.
pub(crate) fn tls_server_end_point(cert: &[u8]) -> Result<Vec<u8>, String> {
    let oid = signature_algorithm(cert)?;
    let hash = SIGNATURE_HASHES
        .iter()
        .find(|(o, _)| *o == oid)
        .map(|(_, h)| *h)
        .ok_or_else(|| {
            format!(
                "the certificate's signature algorithm (OID bytes {}) has no RFC 5929 \
                 tls-server-end-point hash here: use an RSA or ECDSA certificate signed with \
                 SHA-1, SHA-256, SHA-384 or SHA-512",
                hex::encode(oid)
            )
        })?;
    let alg = match hash {
        EndPointHash::Sha256 => &ring::digest::SHA256,
        EndPointHash::Sha384 => &ring::digest::SHA384,
        EndPointHash::Sha512 => &ring::digest::SHA512,
    };
    Ok(ring::digest::digest(alg, cert).as_ref().to_vec())
}

/// One DER element at the start of `b`: (tag, content, rest).
/// Hand-written: reading one OID out of a certificate does not justify an
/// ASN.1 or X.509 crate; definite lengths up to four bytes only, as DER has.
fn der<'a>(b: &'a [u8], field: &str) -> Result<(u8, &'a [u8], &'a [u8]), String> {
    let bad = |what: &str| format!("certificate {field}: {what}");
    let (&tag, rest) = b.split_first().ok_or_else(|| bad("truncated"))?;
    let (&first, rest) = rest.split_first().ok_or_else(|| bad("truncated length"))?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return Err(bad("unsupported length form"));
        }
        let bytes = rest.get(..n).ok_or_else(|| bad("truncated length"))?;
        let len = bytes
            .iter()
            .fold(0usize, |acc, &x| (acc << 8) | usize::from(x));
        (len, rest.get(n..).unwrap_or_default())
    };
    let content = rest
        .get(..len)
        .ok_or_else(|| bad("content runs past the end"))?;
    Ok((tag, content, rest.get(len..).unwrap_or_default()))
}

/// The signatureAlgorithm OID of a DER certificate (RFC 5280 4.1.1.2).
fn signature_algorithm(cert: &[u8]) -> Result<&[u8], String> {
    let (tag, body, _) = der(cert, "Certificate")?;
    if tag != 0x30 {
        return Err("certificate: not a DER SEQUENCE".into());
    }
    let (_, _, rest) = der(body, "tbsCertificate")?;
    let (tag, alg, _) = der(rest, "signatureAlgorithm")?;
    if tag != 0x30 {
        return Err("certificate signatureAlgorithm: not a SEQUENCE".into());
    }
    let (tag, oid, _) = der(alg, "signatureAlgorithm OID")?;
    if tag != 0x06 {
        return Err("certificate signatureAlgorithm: no OID".into());
    }
    Ok(oid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_certificates_hash_with_sha256() {
        let tls = Tls::generate(&["localhost".to_owned()]).unwrap();
        assert!(tls.generated);
        let want = ring::digest::digest(&ring::digest::SHA256, &tls.certificate);
        assert_eq!(tls.end_point_hash, want.as_ref());
        let mut data = b"tls-server-end-point:".to_vec();
        data.extend_from_slice(want.as_ref());
        assert_eq!(
            tls.channel_bindings,
            ntlm_crypto::channel_bindings_md5(&data)
        );
        assert!(
            tls.certificate_pem()
                .starts_with("-----BEGIN CERTIFICATE-----\n")
        );
        assert!(!format!("{tls:?}").contains("key"));
    }

    #[test]
    fn pem_files_round_trip_and_errors_name_the_file() {
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let dir = std::env::temp_dir().join(format!("ntlmsim-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (cert, key) = (dir.join("c.pem"), dir.join("k.pem"));
        std::fs::write(&cert, ck.cert.pem()).unwrap();
        std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
        let tls = Tls::from_pem_files(&cert, &key).unwrap();
        assert_eq!(tls.certificate, ck.cert.der().as_ref());
        assert!(!tls.generated);
        std::fs::write(&cert, "not a certificate\n").unwrap();
        let e = Tls::from_pem_files(&cert, &key).unwrap_err();
        assert!(e.contains("--cert") && e.contains("no CERTIFICATE"), "{e}");
        let e = Tls::from_pem_files(&dir.join("missing.pem"), &key).unwrap_err();
        assert!(e.contains("missing.pem"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn malformed_certificates_are_errors() {
        for bad in [
            &b""[..],
            &[0x30],
            &[0x30, 0x85, 0, 0, 0, 0, 0],
            &[0x30, 0x02, 0x30],
        ] {
            assert!(tls_server_end_point(bad).is_err(), "{bad:?}");
        }
        // An Ed25519 signature: no RFC 5929 hash.
        let e = tls_server_end_point(&[
            0x30, 0x09, 0x30, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70,
        ])
        .unwrap_err();
        assert!(e.contains("2b6570"), "{e}");
    }
}
