//! Message input: turning what a user pastes into the bytes of one NTLM message.
//!
//! Accepted forms (docs/CLI.md, "message input"):
//!
//! - raw bytes starting with `NTLMSSP\0`, or a raw DER SPNEGO token;
//! - hex, with or without spaces, colons or a leading `0x` (used only when
//!   every remaining character is a hex digit);
//! - base64, optionally after `NTLM ` / `Negotiate ` and a header name such
//!   as `Authorization:` or `WWW-Authenticate:`, read by the one rule of
//!   [`ntlm_gss::http`] (standard or URL-safe alphabet, padding optional,
//!   whitespace ignored, scheme case-insensitive);
//! - any of the encoded forms holding a SPNEGO token, which is unwrapped
//!   (see [`ntlm_gss::spnego`]).
//!
//! [`load`] resolves an argument (`@FILE`, `-` for standard input, or the
//! text itself) and [`decode`] detects the form. Neither panics; every
//! failure is an [`InputError`] naming the position that broke.

use std::fmt;
use std::io::Read;

use ntlm_gss::DerError;
use ntlm_gss::http::{self, Scheme};
use ntlm_gss::spnego::{self, SpnegoInfo, describe_oid};
use ntlm_wire::SIGNATURE;

/// Largest input read from a file or standard input. An NTLM message is at
/// most a few hundred kilobytes even base64-encoded (six 64 KiB payloads).
pub const MAX_INPUT_LEN: usize = 4 << 20;

/// How the message bytes were encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Raw bytes.
    Raw,
    /// Hexadecimal text.
    Hex,
    /// Base64 text.
    Base64,
}

impl Encoding {
    /// `raw`, `hex` or `base64`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Raw => "raw",
            Self::Hex => "hex",
            Self::Base64 => "base64",
        }
    }
}

/// Where an argument's bytes came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The command-line argument itself.
    Argument,
    /// `@FILE`: the named file.
    File(String),
    /// `-`: standard input.
    Stdin,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Argument => f.write_str("argument"),
            Self::File(p) => write!(f, "file {p}"),
            Self::Stdin => f.write_str("standard input"),
        }
    }
}

/// The form an input was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputForm {
    /// Text encoding of the bytes.
    pub encoding: Encoding,
    /// The HTTP header name the token followed (`Authorization`, `WWW-Authenticate`...).
    pub http_header: Option<String>,
    /// The authentication scheme before the token, as written (`NTLM`, `Negotiate`).
    pub scheme: Option<String>,
    /// The SPNEGO wrapper that was removed, if any.
    pub spnego: Option<SpnegoInfo>,
}

impl fmt::Display for InputForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.encoding.name())?;
        if let Some(h) = &self.http_header {
            write!(f, ", from an HTTP {h} header")?;
        }
        if let Some(s) = &self.scheme {
            write!(f, ", after the {s} scheme")?;
        }
        if let Some(sp) = &self.spnego {
            write!(f, ", SPNEGO {}", sp.kind.name())?;
            if sp.gss_framed {
                f.write_str(" in a GSS-API InitialContextToken")?;
            }
            if let Some(at) = sp.token_offset {
                write!(f, " (NTLM token at DER offset {at})")?;
            }
        }
        Ok(())
    }
}

/// One message's bytes and the form they came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageInput {
    /// The NTLM message bytes.
    pub bytes: Vec<u8>,
    /// How they were found.
    pub form: InputForm,
}

/// An input could not be turned into message bytes.
#[derive(Debug)]
#[non_exhaustive]
pub enum InputError {
    /// Nothing but whitespace.
    Empty,
    /// A scheme (`NTLM`, `Negotiate`) with no token after it.
    EmptyToken {
        /// The scheme as written.
        scheme: String,
    },
    /// An HTTP authentication scheme other than NTLM or Negotiate (`Basic
    /// realm=x`, `Bearer ...`): there is no NTLM message to decode.
    OtherScheme {
        /// The header name the scheme followed, if any.
        header: Option<String>,
        /// The scheme as written.
        scheme: String,
    },
    /// Hex text with an odd number of digits.
    OddHex {
        /// Number of hex digits.
        digits: usize,
    },
    /// Text that is neither hex nor valid base64.
    Base64 {
        /// Character offset within the input text.
        offset: usize,
        /// What was wrong there.
        detail: String,
    },
    /// Binary data that is neither an NTLM message nor a SPNEGO token.
    Binary {
        /// The first byte.
        first: u8,
    },
    /// A SPNEGO token that could not be walked.
    Spnego(DerError),
    /// A SPNEGO token without a mechanism token.
    SpnegoWithoutToken {
        /// What the wrapper said.
        info: Box<SpnegoInfo>,
    },
    /// A SPNEGO mechanism token that is not an NTLM message.
    NotNtlmInSpnego {
        /// What the wrapper said.
        info: Box<SpnegoInfo>,
        /// The first bytes of the token, for the message.
        head: Vec<u8>,
    },
    /// The input is larger than [`MAX_INPUT_LEN`].
    TooLarge {
        /// What was being read.
        source: Source,
    },
    /// A file or standard input could not be read.
    Read {
        /// What was being read.
        source: Source,
        /// The I/O error.
        error: std::io::Error,
    },
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("empty input: expected an NTLM message"),
            Self::EmptyToken { scheme } => write!(f, "no token after the {scheme} scheme"),
            Self::OtherScheme { header, scheme } => {
                match header {
                    Some(h) => write!(f, "the {h} header uses the {scheme} scheme")?,
                    None => write!(
                        f,
                        "the input starts with the {scheme} authentication scheme"
                    )?,
                }
                f.write_str(
                    ", not NTLM or Negotiate: it holds no NTLM message \
                     (an NTLM header reads `WWW-Authenticate: NTLM TlRMTVNTUAAC...`)",
                )
            }
            Self::OddHex { digits } => {
                write!(f, "hex input has an odd number of digits ({digits})")
            }
            Self::Base64 { offset, detail } => {
                write!(
                    f,
                    "input is neither hex nor base64: {detail} at character offset {offset}"
                )
            }
            Self::Binary { first } => write!(
                f,
                "binary input at byte offset 0 is neither an NTLM message (\"NTLMSSP\\0\") nor a SPNEGO token (first byte 0x{first:02x})"
            ),
            Self::Spnego(e) => write!(f, "{e}"),
            Self::SpnegoWithoutToken { info } => {
                write!(f, "SPNEGO {} carries no NTLM token", info.kind.name())?;
                match info.kind {
                    spnego::TokenKind::NegTokenInit => f.write_str(" (no mechToken)")?,
                    spnego::TokenKind::NegTokenResp => f.write_str(" (no responseToken)")?,
                }
                if let Some(s) = info.neg_state {
                    write!(f, ", negState {s}")?;
                }
                Ok(())
            }
            Self::NotNtlmInSpnego { info, head } => {
                let field = match info.kind {
                    spnego::TokenKind::NegTokenInit => "NegTokenInit.mechToken",
                    spnego::TokenKind::NegTokenResp => "NegTokenResp.responseToken",
                };
                write!(
                    f,
                    "SPNEGO {field} at DER offset {} is not an NTLM message (starts with {})",
                    info.token_offset.unwrap_or_default(),
                    hex::encode(head)
                )?;
                let mechs: Vec<String> = info
                    .supported_mech
                    .iter()
                    .chain(info.mech_types.iter())
                    .map(|o| describe_oid(o))
                    .collect();
                if !mechs.is_empty() {
                    write!(f, "; mechanisms: {}", mechs.join(", "))?;
                }
                Ok(())
            }
            Self::TooLarge { source } => {
                write!(f, "{source} is larger than {MAX_INPUT_LEN} bytes")
            }
            Self::Read { source, error } => write!(f, "cannot read {source}: {error}"),
        }
    }
}

impl std::error::Error for InputError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Spnego(e) => Some(e),
            Self::Read { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Resolves a MESSAGE argument: `@FILE` reads the file, `-` reads `stdin`,
/// anything else is the text itself.
pub fn load(arg: &str, stdin: &mut dyn Read) -> Result<(Source, Vec<u8>), InputError> {
    if arg == "-" {
        let data = read_limited(stdin, &Source::Stdin)?;
        return Ok((Source::Stdin, data));
    }
    if let Some(path) = arg.strip_prefix('@') {
        let source = Source::File(path.to_owned());
        let mut file = std::fs::File::open(path).map_err(|error| InputError::Read {
            source: source.clone(),
            error,
        })?;
        let data = read_limited(&mut file, &source)?;
        return Ok((source, data));
    }
    Ok((Source::Argument, arg.as_bytes().to_vec()))
}

fn read_limited(r: &mut dyn Read, source: &Source) -> Result<Vec<u8>, InputError> {
    let mut data = Vec::new();
    let limit = u64::try_from(MAX_INPUT_LEN)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    r.take(limit)
        .read_to_end(&mut data)
        .map_err(|error| InputError::Read {
            source: source.clone(),
            error,
        })?;
    if data.len() > MAX_INPUT_LEN {
        return Err(InputError::TooLarge {
            source: source.clone(),
        });
    }
    Ok(data)
}

/// Detects the form of `data` and returns the NTLM message bytes.
///
/// Bytes that start with `NTLMSSP\0` are taken as they are. Other binary
/// data must be a SPNEGO token. Text is stripped of an HTTP header name and
/// an `NTLM`/`Negotiate` scheme, then decoded as hex when it consists only
/// of hex digits (spaces, colons and a `0x` prefix allowed) and as base64
/// otherwise; a SPNEGO token found inside is unwrapped. Bytes that are not
/// an NTLM message after all that are returned anyway, for the message
/// parser to report what is wrong with them.
pub fn decode(data: &[u8]) -> Result<MessageInput, InputError> {
    if data.starts_with(&SIGNATURE) {
        return Ok(MessageInput {
            bytes: data.to_vec(),
            form: form(Encoding::Raw),
        });
    }
    // A UTF-8 byte order mark (from a text editor) is not part of the text.
    let text_bytes = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let text = match std::str::from_utf8(text_bytes) {
        Ok(t)
            if t.chars()
                .all(|c| c.is_ascii_graphic() || c.is_ascii_whitespace()) =>
        {
            t
        }
        _ => {
            // Binary: only a raw SPNEGO token is left.
            let first = data.first().copied().unwrap_or_default();
            if !spnego::looks_like_spnego(data) {
                return Err(InputError::Binary { first });
            }
            return unwrap_spnego(data, form(Encoding::Raw));
        }
    };
    // `rest` stays a suffix of `text`, so error offsets can be given
    // against the text as written; trailing whitespace is skipped later.
    let mut rest = text.trim_start();
    if rest.trim_end().is_empty() {
        return Err(InputError::Empty);
    }
    let mut f = form(Encoding::Base64);
    if let Some((name, after)) = rest.split_once(':') {
        if is_header_name(name) {
            f.http_header = Some(name.to_owned());
            rest = after.trim_start();
        }
    }
    let (first_word, after) = rest
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((rest, ""));
    if Scheme::from_name(first_word).is_some() {
        f.scheme = Some(first_word.to_owned());
        rest = after.trim_start();
        if rest.trim_end().is_empty() {
            return Err(InputError::EmptyToken {
                scheme: first_word.to_owned(),
            });
        }
    } else if is_other_scheme(first_word)
        || (f.http_header.is_some()
            && !after.trim().is_empty()
            && hex_digits(rest).is_none()
            && is_scheme_word(first_word))
    {
        // `Basic realm=x`, `Bearer eyJ...`, or any `Header: Scheme params`:
        // a base64 error at the first `=` would hide the real problem.
        return Err(InputError::OtherScheme {
            header: f.http_header,
            scheme: first_word.to_owned(),
        });
    }
    let bytes = match hex_digits(rest) {
        Some(digits) => {
            f.encoding = Encoding::Hex;
            decode_hex(&digits)?
        }
        None => decode_base64(rest, text.len().saturating_sub(rest.len()))?,
    };
    if !bytes.starts_with(&SIGNATURE) && spnego::looks_like_spnego(&bytes) {
        return unwrap_spnego(&bytes, f);
    }
    Ok(MessageInput { bytes, form: f })
}

const fn form(encoding: Encoding) -> InputForm {
    InputForm {
        encoding,
        http_header: None,
        scheme: None,
        spnego: None,
    }
}

fn unwrap_spnego(der: &[u8], mut f: InputForm) -> Result<MessageInput, InputError> {
    let u = spnego::unwrap(der).map_err(InputError::Spnego)?;
    let Some(token) = u.token else {
        return Err(InputError::SpnegoWithoutToken {
            info: Box::new(u.info),
        });
    };
    if !token.starts_with(&SIGNATURE) {
        return Err(InputError::NotNtlmInSpnego {
            head: token.get(..8).unwrap_or(token).to_vec(),
            info: Box::new(u.info),
        });
    }
    f.spnego = Some(u.info);
    Ok(MessageInput {
        bytes: token.to_vec(),
        form: f,
    })
}

/// The schemes of the IANA HTTP Authentication Scheme Registry (RFC 9110
/// section 16.4) other than Negotiate, plus `Kerberos` (an IIS provider
/// name seen in `WWW-Authenticate`): none of them carries an NTLM message.
const OTHER_SCHEMES: [&str; 14] = [
    "Basic",
    "Bearer",
    "Concealed",
    "Digest",
    "DPoP",
    "GNAP",
    "HOBA",
    "Mutual",
    "OAuth",
    "PrivateToken",
    "SCRAM-SHA-1",
    "SCRAM-SHA-256",
    "vapid",
    "Kerberos",
];

fn is_other_scheme(word: &str) -> bool {
    OTHER_SCHEMES.iter().any(|s| word.eq_ignore_ascii_case(s))
}

/// A word that can be an auth-scheme (RFC 9110 section 11.1: a token;
/// letters, digits and `-` are what schemes use), and not base64 that
/// happens to be followed by more text: a scheme is short.
fn is_scheme_word(word: &str) -> bool {
    (1..=32).contains(&word.len())
        && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && word.chars().any(|c| c.is_ascii_alphabetic())
}

/// A header name: letters, digits and `-`, with at least one character that
/// is not a hex digit (so `4e:54:...` stays hex).
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && name.chars().any(|c| !c.is_ascii_hexdigit())
}

/// The hex digits of `s` when it is hex: only hex digits, whitespace and
/// colons, optionally after `0x`.
fn hex_digits(s: &str) -> Option<String> {
    let body = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    let digits: String = body
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && *c != ':')
        .collect();
    (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_hexdigit())).then_some(digits)
}

fn decode_hex(digits: &str) -> Result<Vec<u8>, InputError> {
    if digits.len() % 2 != 0 {
        return Err(InputError::OddHex {
            digits: digits.len(),
        });
    }
    hex::decode(digits).map_err(|e| InputError::Base64 {
        offset: 0,
        detail: e.to_string(),
    })
}

/// Decodes base64 `text`, which starts at character `base` of the input,
/// by the rule of [`ntlm_gss::http::decode_token`].
fn decode_base64(text: &str, base: usize) -> Result<Vec<u8>, InputError> {
    http::decode_token(text).map_err(|e| InputError::Base64 {
        offset: base.saturating_add(e.offset),
        detail: e.kind.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEG_HEX: &str =
        "4e544c4d5353500001000000078208a2000000000000000000000000000000000601b01d0000000f";

    fn neg() -> Vec<u8> {
        hex::decode(NEG_HEX).unwrap()
    }

    #[test]
    fn raw_bytes() {
        let m = decode(&neg()).unwrap();
        assert_eq!(m.bytes, neg());
        assert_eq!(m.form.encoding, Encoding::Raw);
    }

    #[test]
    fn hex_forms() {
        let spaced: Vec<String> = neg().iter().map(|b| format!("{b:02X}")).collect();
        for text in [
            NEG_HEX.to_owned(),
            spaced.join(" "),
            spaced.join(":"),
            format!("0x{NEG_HEX}\n"),
        ] {
            let m = decode(text.as_bytes()).unwrap();
            assert_eq!(m.bytes, neg(), "{text}");
            assert_eq!(m.form.encoding, Encoding::Hex);
        }
        assert!(matches!(
            decode(&NEG_HEX.as_bytes()[1..]),
            Err(InputError::OddHex { digits: 79 })
        ));
    }

    #[test]
    fn base64_forms() {
        let b64 = http::encode_token(&neg());
        let cases = [
            (b64.clone(), None, None),
            (format!("NTLM {b64}"), None, Some("NTLM")),
            (format!("  negotiate   {b64}\r\n"), None, Some("negotiate")),
            (
                format!("Authorization: NTLM {b64}"),
                Some("Authorization"),
                Some("NTLM"),
            ),
            (b64.trim_end_matches('=').to_owned(), None, None),
        ];
        for (text, header, scheme) in cases {
            let m = decode(text.as_bytes()).unwrap();
            assert_eq!(m.bytes, neg(), "{text}");
            assert_eq!(m.form.encoding, Encoding::Base64);
            assert_eq!(m.form.http_header.as_deref(), header);
            assert_eq!(m.form.scheme.as_deref(), scheme);
        }
    }

    #[test]
    fn base64_errors_name_the_offset() {
        // Offsets count from the start of the text as given.
        let e = decode(b"NTLM TlRMTV*TUAAB").unwrap_err();
        match e {
            InputError::Base64 { offset, .. } => assert_eq!(offset, 11),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            decode(b"WWW-Authenticate: NTLM"),
            Err(InputError::EmptyToken { .. })
        ));
        assert!(matches!(decode(b"  \n"), Err(InputError::Empty)));
    }

    #[test]
    fn binary_that_is_not_ntlm() {
        assert!(matches!(
            decode(&[0x00, 0xff, 0x10]),
            Err(InputError::Binary { first: 0 })
        ));
    }

    #[test]
    fn header_name_needs_a_non_hex_character() {
        assert!(is_header_name("WWW-Authenticate"));
        assert!(!is_header_name("4e"));
        assert!(!is_header_name("ab"));
        assert!(!is_header_name("a b"));
    }

    #[test]
    fn loads_files_and_stdin() {
        let mut stdin: &[u8] = b"from stdin";
        let (src, data) = load("-", &mut stdin).unwrap();
        assert_eq!(src, Source::Stdin);
        assert_eq!(data, b"from stdin");
        let (src, data) = load("abc", &mut stdin).unwrap();
        assert_eq!((src, data), (Source::Argument, b"abc".to_vec()));
        let e = load("@/nonexistent/ntlmsim-input", &mut stdin).unwrap_err();
        assert!(
            e.to_string().starts_with("cannot read file /nonexistent"),
            "{e}"
        );
    }
}
