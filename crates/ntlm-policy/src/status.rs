//! The status codes an NTLM exchange can end with.

use core::fmt;

use crate::source::Source;

/// A status code returned by an NTLM peer, with its MS-ERREF value.
///
/// `SEC_E_*` values are SSPI HRESULTs ([MS-ERREF] 2.1.1), `STATUS_*` values are
/// NTSTATUS codes ([MS-ERREF] 2.3.1). [`Status::usage`] says where each one is
/// used and on what authority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// `SEC_E_UNSUPPORTED_FUNCTION` (0x80090302): minimum-security failures.
    SecEUnsupportedFunction,
    /// `SEC_E_INVALID_TOKEN` (0x80090308): a token that contradicts the protocol.
    SecEInvalidToken,
    /// `SEC_E_LOGON_DENIED` (0x8009030C): the SSPI result of a failed logon.
    SecELogonDenied,
    /// `SEC_E_MESSAGE_ALTERED` (0x8009030F): a signature that does not verify.
    SecEMessageAltered,
    /// `SEC_E_OUT_OF_SEQUENCE` (0x80090310): a sequence-number mismatch.
    SecEOutOfSequence,
    /// `SEC_E_BAD_BINDINGS` (0x80090346): channel bindings do not match.
    SecEBadBindings,
    /// `STATUS_LOGON_FAILURE` (0xC000006D): the logon was refused.
    StatusLogonFailure,
    /// `STATUS_WRONG_PASSWORD` (0xC000006A): Samba's status for refused or wrong responses.
    StatusWrongPassword,
    /// `STATUS_INVALID_PARAMETER` (0xC000000D): malformed message or MIC failure.
    StatusInvalidParameter,
    /// `STATUS_NOT_SUPPORTED` (0xC00000BB): NTLM is blocked on this peer.
    StatusNotSupported,
    /// `STATUS_NTLM_BLOCKED` (0xC0000418): a DC refused NTLM.
    StatusNtlmBlocked,
    /// `STATUS_BAD_BINDINGS` (0xC000035B): Samba's channel-binding failure.
    StatusBadBindings,
    /// `LDAP_STRONG_AUTH_REQUIRED` (8, RFC 4511 strongerAuthRequired): an LDAP
    /// result code, not an NTSTATUS; a domain controller that requires
    /// signing refuses a bind without it.
    LdapStrongAuthRequired,
    /// `STATUS_ACCESS_DENIED` (0xC0000022): an SMB session setup refused by
    /// SPN target name validation.
    StatusAccessDenied,
}

impl Status {
    /// Every status, in declaration order.
    pub const ALL: [Self; 14] = [
        Self::SecEUnsupportedFunction,
        Self::SecEInvalidToken,
        Self::SecELogonDenied,
        Self::SecEMessageAltered,
        Self::SecEOutOfSequence,
        Self::SecEBadBindings,
        Self::StatusLogonFailure,
        Self::StatusWrongPassword,
        Self::StatusInvalidParameter,
        Self::StatusNotSupported,
        Self::StatusNtlmBlocked,
        Self::StatusBadBindings,
        Self::LdapStrongAuthRequired,
        Self::StatusAccessDenied,
    ];

    /// The symbolic name, e.g. `SEC_E_UNSUPPORTED_FUNCTION`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::SecEUnsupportedFunction => "SEC_E_UNSUPPORTED_FUNCTION",
            Self::SecEInvalidToken => "SEC_E_INVALID_TOKEN",
            Self::SecELogonDenied => "SEC_E_LOGON_DENIED",
            Self::SecEMessageAltered => "SEC_E_MESSAGE_ALTERED",
            Self::SecEOutOfSequence => "SEC_E_OUT_OF_SEQUENCE",
            Self::SecEBadBindings => "SEC_E_BAD_BINDINGS",
            Self::StatusLogonFailure => "STATUS_LOGON_FAILURE",
            Self::StatusWrongPassword => "STATUS_WRONG_PASSWORD",
            Self::StatusInvalidParameter => "STATUS_INVALID_PARAMETER",
            Self::StatusNotSupported => "STATUS_NOT_SUPPORTED",
            Self::StatusNtlmBlocked => "STATUS_NTLM_BLOCKED",
            Self::StatusBadBindings => "STATUS_BAD_BINDINGS",
            Self::LdapStrongAuthRequired => "LDAP_STRONG_AUTH_REQUIRED",
            Self::StatusAccessDenied => "STATUS_ACCESS_DENIED",
        }
    }

    /// The numeric value from MS-ERREF.
    pub const fn code(self) -> u32 {
        match self {
            Self::SecEUnsupportedFunction => 0x8009_0302,
            Self::SecEInvalidToken => 0x8009_0308,
            Self::SecELogonDenied => 0x8009_030C,
            Self::SecEMessageAltered => 0x8009_030F,
            Self::SecEOutOfSequence => 0x8009_0310,
            Self::SecEBadBindings => 0x8009_0346,
            Self::StatusLogonFailure => 0xC000_006D,
            Self::StatusWrongPassword => 0xC000_006A,
            Self::StatusInvalidParameter => 0xC000_000D,
            Self::StatusNotSupported => 0xC000_00BB,
            Self::StatusNtlmBlocked => 0xC000_0418,
            Self::StatusBadBindings => 0xC000_035B,
            Self::LdapStrongAuthRequired => 0x0000_0008,
            Self::StatusAccessDenied => 0xC000_0022,
        }
    }

    /// Where this status is used, and on what authority.
    pub const fn usage(self) -> (&'static str, Source) {
        match self {
            Self::SecEUnsupportedFunction => (
                "ClientRequire128bitEncryption / ServerRequire128bitEncryption failures; \
                 Samba returns it for any missing required flag",
                Source::MsNlmp("3.1.5.1.2, 3.2.5.1.1, 3.2.5.2.2"),
            ),
            Self::SecEInvalidToken => (
                "neither UNICODE nor OEM; KEY_EXCH without a valid EncryptedRandomSessionKey",
                Source::MsNlmp("2.2.2.5, 3.2.5.1.2"),
            ),
            Self::SecELogonDenied => (
                "not used by MS-NLMP; the usual SSPI result for STATUS_LOGON_FAILURE",
                Source::Inference("common SSPI mapping, unconfirmed by the sources"),
            ),
            Self::SecEMessageAltered => (
                "not named by MS-NLMP; the natural SSPI code for a MAC mismatch",
                Source::Inference("SSPI VerifySignature/DecryptMessage semantics"),
            ),
            Self::SecEOutOfSequence => (
                "not named by MS-NLMP; the natural SSPI code for a SeqNum mismatch",
                Source::Inference("SSPI VerifySignature/DecryptMessage semantics"),
            ),
            Self::SecEBadBindings => (
                "SSPI counterpart of GSS_S_BAD_BINDINGS (channel bindings)",
                Source::Inference("MS-NLMP 3.2.5.1.2 names GSS_S_BAD_BINDINGS"),
            ),
            Self::StatusLogonFailure => (
                "NTLMv2 with integrity/confidentiality and no NbComputerName/NbDomainName",
                Source::MsNlmp("3.1.5.1.2"),
            ),
            Self::StatusWrongPassword => (
                "Samba ntlm_password_check(): wrong or refused (NTLMv1 not permitted) responses",
                Source::Samba("libcli/auth/ntlm_check.c ntlm_password_check()"),
            ),
            Self::StatusInvalidParameter => (
                "malformed messages, a missing or wrong MIC (Samba; patched Windows answers \
                 the CVE-2019-1040 probe with it)",
                Source::Samba("auth/ntlmssp/ntlmssp_server.c ntlmssp_server_preauth()"),
            ),
            Self::StatusNotSupported => (
                "ClientBlocked / ServerBlock; a DC that returned STATUS_NTLM_BLOCKED",
                Source::MsNlmp("3.1.5.1.1, 3.2.5.1.1, 3.3.1"),
            ),
            Self::StatusNtlmBlocked => (
                "returned by a DC to the server, which then returns STATUS_NOT_SUPPORTED",
                Source::MsNlmp("3.3.1, 3.3.2"),
            ),
            Self::StatusBadBindings => (
                "Samba's channel-binding failure",
                Source::Samba("auth/ntlmssp/ntlmssp_server.c ntlmssp_server_preauth()"),
            ),
            Self::LdapStrongAuthRequired => (
                "an LDAP bind refused by a domain controller with LDAPServerIntegrity 2: \
                 an NTLM SASL bind that negotiated neither SIGN nor SEAL on a connection \
                 without TLS",
                Source::MsDoc("Domain controller: LDAP server signing requirements"),
            ),
            Self::StatusAccessDenied => (
                "an SMB session setup refused by SmbServerNameHardeningLevel for a missing or \
                 wrong MsvAvTargetName",
                Source::Observed(
                    "impacket 0.13 impacket/ntlm.py computeResponseNTLMv2(): without \
                     MsvAvTargetName 'we will get access denied' under SPN target name validation",
                ),
            ),
        }
    }

    /// Looks a status up by its numeric value.
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Looks a status up by name, ignoring ASCII case.
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name.trim();
        Self::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }

    /// The code as `0x%08x`, e.g. `0x80090302`.
    pub const fn code_hex(self) -> Hex32 {
        Hex32(self.code())
    }
}

impl fmt::Display for Status {
    /// `NAME (0xXXXXXXXX)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:#010x})", self.name(), self.code())
    }
}

/// A `u32` printed as `0x%08x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hex32(pub u32);

impl fmt::Display for Hex32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_ms_erref() {
        let expected: [(&str, u32); 14] = [
            ("SEC_E_UNSUPPORTED_FUNCTION", 0x8009_0302),
            ("SEC_E_INVALID_TOKEN", 0x8009_0308),
            ("SEC_E_LOGON_DENIED", 0x8009_030C),
            ("SEC_E_MESSAGE_ALTERED", 0x8009_030F),
            ("SEC_E_OUT_OF_SEQUENCE", 0x8009_0310),
            ("SEC_E_BAD_BINDINGS", 0x8009_0346),
            ("STATUS_LOGON_FAILURE", 0xC000_006D),
            ("STATUS_WRONG_PASSWORD", 0xC000_006A),
            ("STATUS_INVALID_PARAMETER", 0xC000_000D),
            ("STATUS_NOT_SUPPORTED", 0xC000_00BB),
            ("STATUS_NTLM_BLOCKED", 0xC000_0418),
            ("STATUS_BAD_BINDINGS", 0xC000_035B),
            ("LDAP_STRONG_AUTH_REQUIRED", 8),
            ("STATUS_ACCESS_DENIED", 0xC000_0022),
        ];
        for (status, (name, code)) in Status::ALL.into_iter().zip(expected) {
            assert_eq!(status.name(), name);
            assert_eq!(status.code(), code);
            assert_eq!(Status::from_code(code), Some(status));
            assert_eq!(Status::from_name(&name.to_lowercase()), Some(status));
        }
        assert_eq!(Status::from_code(0), None);
        assert_eq!(Status::from_name("STATUS_SUCCESS"), None);
    }

    #[test]
    fn display_and_hex() {
        assert_eq!(
            Status::SecEUnsupportedFunction.to_string(),
            "SEC_E_UNSUPPORTED_FUNCTION (0x80090302)"
        );
        assert_eq!(
            Status::StatusInvalidParameter.code_hex().to_string(),
            "0xc000000d"
        );
    }
}
