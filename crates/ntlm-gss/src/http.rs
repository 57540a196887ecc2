//! HTTP `Authorization`, `Proxy-Authorization`, `WWW-Authenticate` and
//! `Proxy-Authenticate` values carrying NTLM (MS-NTHT 2.2) and `Negotiate`
//! (RFC 4559 4) tokens: reading them into (scheme, token bytes) and
//! building them.
//!
//! # What is accepted, and why
//!
//! One rule serves every reader (the message decoder, the capture audit, the
//! HTTP server and the HTTP probe), so that a value one of them accepts is
//! accepted by all:
//!
//! - **A list of challenges.** A value is a comma-separated list (RFC 7235
//!   4.1: `WWW-Authenticate = 1#challenge`), so `Basic realm="a, b", NTLM
//!   TlRM...` yields two challenges. Commas inside quoted strings do not
//!   split; empty list elements are skipped (RFC 7230 7); `name=value`
//!   elements are the auth-params of the challenge before them and are
//!   skipped. An `Authorization` value is a list of one (RFC 7235 4.2).
//! - **The scheme is case-insensitive** (RFC 7235 2.1): `NTLM`, `ntlm`,
//!   `Negotiate` and `NEGOTIATE` are all recognised. Other schemes are
//!   returned with their name, for the caller to report.
//! - **Surrounding whitespace** around the value, the scheme and the token
//!   is ignored (RFC 7230 3.2.3 `OWS`, and `1*SP` between scheme and token
//!   in RFC 7235 2.1); so is whitespace inside the token, which a token
//!   pasted from a log or wrapped by a base64 tool contains.
//! - **Base64 with or without padding.** RFC 4559 4 and MS-NTHT 2.2.2 say
//!   base64 (RFC 4648 4); RFC 7235's `token68` allows zero or more trailing
//!   `=`, and RFC 4648 3.2 lets a protocol drop the padding, which some
//!   clients and proxies do. Both forms decode to the same bytes.
//! - **Either base64 alphabet.** `token68` admits `-` and `_`, the URL-safe
//!   alphabet (RFC 4648 5); a token containing either is decoded with it.
//!   Mixing `+`/`/` with `-`/`_` is an error.
//! - Non-zero trailing bits, a length no base64 can have and misplaced
//!   padding are errors ([`TokenError`]) that name the character offset.
//!
//! Built values ([`header_value`]) always use the standard alphabet with
//! padding, the form every client and server reads.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// The two schemes that carry NTLM messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `NTLM` (MS-NTHT): the token is the NTLM message.
    Ntlm,
    /// `Negotiate` (RFC 4559): the token is a SPNEGO token or, from many
    /// clients and servers, the raw NTLM message.
    Negotiate,
}

impl Scheme {
    /// The scheme named `name`, compared case-insensitively (RFC 7235 2.1).
    pub fn from_name(name: &str) -> Option<Self> {
        if name.eq_ignore_ascii_case("NTLM") {
            Some(Self::Ntlm)
        } else if name.eq_ignore_ascii_case("Negotiate") {
            Some(Self::Negotiate)
        } else {
            None
        }
    }

    /// The scheme as written in headers: `NTLM` or `Negotiate`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ntlm => "NTLM",
            Self::Negotiate => "Negotiate",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is wrong with a token's base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenErrorKind {
    /// A character outside the alphabet in use.
    InvalidCharacter(char),
    /// The last symbol has non-zero trailing bits.
    InvalidLastSymbol,
    /// A number of symbols no base64 encoding has (one more than a multiple of four).
    InvalidLength(usize),
    /// Padding where it cannot be.
    InvalidPadding,
}

impl fmt::Display for TokenErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidCharacter(c) => write!(f, "invalid character {c:?}"),
            Self::InvalidLastSymbol => {
                f.write_str("invalid last base64 symbol (non-zero trailing bits)")
            }
            Self::InvalidLength(n) => write!(f, "invalid base64 length ({n} symbols)"),
            Self::InvalidPadding => f.write_str("invalid base64 padding"),
        }
    }
}

/// A token that is not base64 under the rule of this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenError {
    /// Byte offset of the offending character: from the start of the text
    /// given to [`decode_token`], or of the header value for
    /// [`Challenge::token`].
    pub offset: usize,
    /// What was wrong.
    pub kind: TokenErrorKind,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.kind, self.offset)
    }
}

impl core::error::Error for TokenError {}

/// The decoding engines of the rule: padding optional, one per alphabet.
/// Built once at compile time, not per token.
const PADDING_OPTIONAL: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD_ANY_PADDING: GeneralPurpose =
    GeneralPurpose::new(&base64::alphabet::STANDARD, PADDING_OPTIONAL);
const URL_SAFE_ANY_PADDING: GeneralPurpose =
    GeneralPurpose::new(&base64::alphabet::URL_SAFE, PADDING_OPTIONAL);

/// Decodes a token under the rule of this module (see the module
/// documentation): standard or URL-safe alphabet, padding optional, ASCII
/// whitespace anywhere ignored. Empty text decodes to no bytes.
pub fn decode_token(text: &str) -> Result<Vec<u8>, TokenError> {
    // Tokens from real clients carry no whitespace: decode them in place,
    // and only copy the text when there is whitespace to drop. Audits
    // decode every header of a capture, so this path is hot.
    let (mut spaced, mut url_safe) = (false, false);
    for b in text.bytes() {
        spaced |= b.is_ascii_whitespace();
        url_safe |= b == b'-' || b == b'_';
    }
    let compact: alloc::borrow::Cow<'_, str> = if spaced {
        alloc::borrow::Cow::Owned(text.chars().filter(|c| !c.is_ascii_whitespace()).collect())
    } else {
        alloc::borrow::Cow::Borrowed(text)
    };
    let engine = if url_safe {
        &URL_SAFE_ANY_PADDING
    } else {
        &STANDARD_ANY_PADDING
    };
    // Byte offset in `text` of the `i`th non-whitespace character, to
    // report errors against the text as given (computed on error only).
    let at = |i: usize| {
        text.char_indices()
            .filter(|(_, c)| !c.is_ascii_whitespace())
            .nth(i)
            .map_or(text.len(), |(o, _)| o)
    };
    engine.decode(compact.as_bytes()).map_err(|e| match e {
        base64::DecodeError::InvalidByte(i, _) => TokenError {
            offset: at(i),
            kind: TokenErrorKind::InvalidCharacter(
                compact
                    .get(i..)
                    .and_then(|s| s.chars().next())
                    .unwrap_or(char::REPLACEMENT_CHARACTER),
            ),
        },
        base64::DecodeError::InvalidLastSymbol(i, _) => TokenError {
            offset: at(i),
            kind: TokenErrorKind::InvalidLastSymbol,
        },
        base64::DecodeError::InvalidLength(n) => TokenError {
            offset: at(n.saturating_sub(1)),
            kind: TokenErrorKind::InvalidLength(n),
        },
        base64::DecodeError::InvalidPadding => TokenError {
            offset: at(compact.len().saturating_sub(1)),
            kind: TokenErrorKind::InvalidPadding,
        },
    })
}

/// `bytes` in standard base64 with padding.
pub fn encode_token(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// A header value carrying `token` under `scheme`: `NTLM TlRMTVNTUAAB...`.
pub fn header_value(scheme: Scheme, token: &[u8]) -> String {
    let mut v = String::from(scheme.as_str());
    if !token.is_empty() {
        v.push(' ');
        v.push_str(&encode_token(token));
    }
    v
}

/// One challenge (or the credentials) in a header value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Challenge<'a> {
    /// The scheme as written.
    pub scheme_name: &'a str,
    /// Byte offset of the scheme in the value.
    pub offset: usize,
    /// What follows the scheme, without surrounding whitespace: the token
    /// (NTLM, Negotiate) or the auth-params of another scheme up to the
    /// next comma; empty when the scheme stands alone.
    pub data: &'a str,
    /// Byte offset of `data` in the value.
    pub data_offset: usize,
}

impl Challenge<'_> {
    /// `NTLM` or `Negotiate`; `None` for any other scheme.
    pub fn scheme(&self) -> Option<Scheme> {
        Scheme::from_name(self.scheme_name)
    }

    /// The token's bytes, for NTLM and Negotiate with a token; `None` for
    /// other schemes and for a scheme without a token. Error offsets count
    /// from the start of the header value.
    pub fn token(&self) -> Option<Result<Vec<u8>, TokenError>> {
        self.scheme()?;
        if self.data.is_empty() {
            return None;
        }
        Some(decode_token(self.data).map_err(|e| TokenError {
            offset: e.offset.saturating_add(self.data_offset),
            kind: e.kind,
        }))
    }
}

/// The challenges of a `WWW-Authenticate`/`Proxy-Authenticate` value, or
/// the credentials of an `Authorization`/`Proxy-Authorization` value (a
/// list of one), in order. See the module documentation for the rule.
pub fn challenges(value: &str) -> Challenges<'_> {
    Challenges { value, pos: 0 }
}

/// The credentials of an `Authorization`/`Proxy-Authorization` value: its
/// first challenge-shaped element; `None` for an empty value.
pub fn credentials(value: &str) -> Option<Challenge<'_>> {
    challenges(value).next()
}

/// Iterator over the challenges of a header value; see [`challenges`].
#[derive(Debug, Clone)]
pub struct Challenges<'a> {
    value: &'a str,
    pos: usize,
}

impl<'a> Iterator for Challenges<'a> {
    type Item = Challenge<'a>;

    fn next(&mut self) -> Option<Challenge<'a>> {
        loop {
            let rest = self.value.get(self.pos..)?;
            if rest.is_empty() {
                return None;
            }
            let end = element_end(rest);
            let start = self.pos;
            let element = rest.get(..end).unwrap_or_default();
            // Past the element and its comma.
            self.pos = start
                .saturating_add(end)
                .saturating_add(1)
                .min(self.value.len());
            if end == rest.len() {
                self.pos = self.value.len();
            }
            if let Some(c) = challenge(element, start) {
                return Some(c);
            }
        }
    }
}

/// Length of the list element at the start of `s`: up to the first comma
/// outside a quoted string (RFC 7230 3.2.6, with `\` quoting one character).
fn element_end(s: &str) -> usize {
    // Bytes, not chars: `"`, `\` and `,` are ASCII and never part of a
    // multi-byte UTF-8 sequence, and tokens are long enough for the
    // difference to show in audits of large captures.
    let mut quoted = false;
    let mut escaped = false;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if escaped {
            escaped = false;
        } else if quoted && b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            quoted = !quoted;
        } else if b == b',' && !quoted {
            return i;
        }
    }
    s.len()
}

/// The challenge in one list element at `base` of the value; `None` for an
/// empty element or an auth-param of the challenge before.
fn challenge(element: &str, base: usize) -> Option<Challenge<'_>> {
    let lead = element.len().saturating_sub(element.trim_start().len());
    let body = element.trim();
    if body.is_empty() {
        return None;
    }
    let (scheme, after) = body
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((body, ""));
    let data = after.trim_start();
    if scheme.contains('=') || data.starts_with('=') || scheme.starts_with('"') {
        return None; // `name=value`: an auth-param, not a challenge.
    }
    let data_start = body.len().saturating_sub(data.len());
    Some(Challenge {
        scheme_name: scheme,
        offset: base.saturating_add(lead),
        data,
        data_offset: base.saturating_add(lead).saturating_add(data_start),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const NEG: &[u8] = b"NTLMSSP\0\x01\0\0\0\x07\x82\x08\xa2";

    #[test]
    fn schemes_are_case_insensitive() {
        for (name, want) in [
            ("NTLM", Some(Scheme::Ntlm)),
            ("ntlm", Some(Scheme::Ntlm)),
            ("NEGOTIATE", Some(Scheme::Negotiate)),
            ("negotiate", Some(Scheme::Negotiate)),
            ("Basic", None),
            ("NTLMx", None),
        ] {
            assert_eq!(Scheme::from_name(name), want, "{name}");
        }
    }

    #[test]
    fn padded_unpadded_urlsafe_and_wrapped_tokens_decode_alike() {
        let b64 = encode_token(NEG);
        assert!(b64.ends_with('='));
        let url = b64.replace('+', "-").replace('/', "_");
        for text in [
            b64.clone(),
            b64.trim_end_matches('=').to_owned(),
            format!("  {b64}\r\n"),
            format!("{}\n{}", &b64[..8], &b64[8..]),
            url,
        ] {
            assert_eq!(decode_token(&text).unwrap(), NEG, "{text:?}");
        }
        assert_eq!(decode_token("").unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn base64_errors_name_the_offset() {
        let e = decode_token("TlRMTV*TUAAB").unwrap_err();
        assert_eq!(
            e,
            TokenError {
                offset: 6,
                kind: TokenErrorKind::InvalidCharacter('*')
            }
        );
        assert_eq!(e.to_string(), "invalid character '*' at offset 6");
        // Offsets count whitespace as written.
        let e = decode_token(" Tl RM*").unwrap_err();
        assert_eq!(e.offset, 6);
        let e = decode_token("TlRMT").unwrap_err();
        assert_eq!(e.kind, TokenErrorKind::InvalidLength(5));
        let e = decode_token("TlQ=x").unwrap_err();
        assert_eq!(e.kind, TokenErrorKind::InvalidCharacter('='));
        assert_eq!(e.offset, 3);
        let e = decode_token("TlR=").unwrap_err();
        assert_eq!(e.kind, TokenErrorKind::InvalidLastSymbol);
        // Mixed alphabets.
        let e = decode_token("ab+_").unwrap_err();
        assert_eq!(e.kind, TokenErrorKind::InvalidCharacter('+'));
        assert_eq!(e.offset, 2);
    }

    #[test]
    fn several_challenges_in_one_value() {
        let v = format!(
            "Basic realm=\"a, b\", charset = \"UTF-8\",, Negotiate, ntlm {}, Bearer",
            encode_token(NEG)
        );
        let all: Vec<Challenge<'_>> = challenges(&v).collect();
        let names: Vec<&str> = all.iter().map(|c| c.scheme_name).collect();
        assert_eq!(names, ["Basic", "Negotiate", "ntlm", "Bearer"]);
        assert_eq!(all[0].data, "realm=\"a, b\"");
        assert_eq!(all[0].scheme(), None);
        assert_eq!(all[0].token(), None);
        assert_eq!(all[1].scheme(), Some(Scheme::Negotiate));
        assert_eq!(all[1].token(), None);
        assert_eq!(all[2].scheme(), Some(Scheme::Ntlm));
        assert_eq!(all[2].token(), Some(Ok(NEG.to_vec())));
        assert_eq!(&v[all[2].offset..all[2].offset + 4], "ntlm");
        assert_eq!(&v[all[2].data_offset..all[2].data_offset + 4], "TlRM");
    }

    #[test]
    fn token_errors_count_from_the_start_of_the_value() {
        let e = credentials("  NTLM   TlRM*")
            .unwrap()
            .token()
            .unwrap()
            .unwrap_err();
        assert_eq!(e.offset, 13);
        let e = credentials("Negotiate ***")
            .unwrap()
            .token()
            .unwrap()
            .unwrap_err();
        assert_eq!(e.to_string(), "invalid character '*' at offset 10");
    }

    #[test]
    fn credentials_and_bare_schemes() {
        assert_eq!(credentials(""), None);
        assert_eq!(credentials("  ,  "), None);
        let c = credentials("\tNegotiate\t").unwrap();
        assert_eq!(
            (c.scheme(), c.data, c.token()),
            (Some(Scheme::Negotiate), "", None)
        );
        let c = credentials("Digest username=\"a\", realm=\"b\"").unwrap();
        assert_eq!(c.scheme_name, "Digest");
        assert_eq!(challenges("Digest username=\"a\", realm=\"b\"").count(), 1);
        // A quoted string with an escaped quote and a comma.
        assert_eq!(challenges(r#"Basic realm="x\", y", NTLM"#).count(), 2);
    }

    #[test]
    fn header_values() {
        let v = header_value(Scheme::Negotiate, NEG);
        assert_eq!(v, format!("Negotiate {}", encode_token(NEG)));
        assert_eq!(credentials(&v).unwrap().token(), Some(Ok(NEG.to_vec())));
        assert_eq!(header_value(Scheme::Ntlm, &[]), "NTLM");
        assert_eq!(vec![Scheme::Ntlm.to_string()], ["NTLM"]);
    }
}
