//! Flag negotiation: what a client offers, what a server returns (MS-NLMP
//! 3.1.5.1.1, 3.2.5.1.1, 2.2.2.5) and what the client then sends back.

use ntlm_wire::{NegotiateFlags as F, ResponseKind};

use crate::failure::{Detail, Failure, Side, Stage};
use crate::lm::LmCompatibilityLevel;
use crate::mask::MinSessionSecurity;
use crate::rules;
use crate::semantics::{ClientRequest, Semantics, ServerStrength};

/// The Windows generation of a peer, where it changes behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum OsGeneration {
    /// Not known; treated as enforcing every configured bit.
    #[default]
    Unspecified,
    /// Windows NT 4.0.
    Nt4,
    /// Windows 2000.
    Windows2000,
    /// Windows XP / Server 2003: the last UI with the integrity and confidentiality options.
    XpServer2003,
    /// Windows Vista / Server 2008.
    VistaServer2008,
    /// Windows 7 / Server 2008 R2 and later.
    Windows7Plus,
    /// A non-Windows implementation (Samba, gss-ntlmssp, ...).
    NonWindows,
}

impl OsGeneration {
    /// Whether a peer of this generation is newer than XP / Server 2003, so
    /// that under `enforce = os-generation` it ignores 0x10 and 0x20
    /// (rule `min-os-generation`, UNCONFIRMED).
    pub const fn post_2003(self) -> bool {
        matches!(self, Self::VistaServer2008 | Self::Windows7Plus)
    }

    /// The documented default of NtlmMinClientSec / NtlmMinServerSec:
    /// 0x20000000 on new Windows 7 / 2008 R2+ installations, 0 before
    /// (MS-NLMP <38>/<60>, KB932461, Windows 7 "Changes in NTLM Authentication").
    pub const fn default_min_sec(self) -> MinSessionSecurity {
        match self {
            Self::Windows7Plus => MinSessionSecurity::ENCRYPTION_128,
            _ => MinSessionSecurity::NONE,
        }
    }
}

/// When a server sets NEGOTIATE_TARGET_INFO (MS-NLMP 3.2.5.1.1 and <64>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TargetInfoRule {
    /// Always (MS-NLMP 3.2.5.1.1; current Windows).
    #[default]
    Always,
    /// Only when the NEGOTIATE has ESS or REQUEST_TARGET (Windows 2000/XP/2003, <64>).
    EssOrRequestTarget,
    /// Only when ESS is negotiated (Windows NT, <64>).
    EssOnly,
    /// Never (a server without target information).
    Never,
    /// Only when the NEGOTIATE has REQUEST_TARGET, and then with the target
    /// type; without REQUEST_TARGET neither TARGET_INFO nor a target type is
    /// set (Samba `ntlmssp_target_name()` in `libcli/auth/ntlmssp_server.c`).
    RequestTarget,
}

/// The response kinds a server (or its DC) can verify at all, whatever its
/// LmCompatibilityLevel allows.
///
/// A Windows server verifies every kind; an NTLMv1-only device (an old NAS
/// or printer) cannot verify an NTLMv2 response and refuses the logon
/// (KB954387: "third-party products that cannot handle NTLMv2
/// authentication"; rule `auth-cannot-verify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResponseKinds(u8);

impl ResponseKinds {
    /// LM responses.
    pub const LM: Self = Self(1);
    /// NTLMv1 responses.
    pub const NTLMV1: Self = Self(2);
    /// NTLM2 session responses (NTLMv1 with ESS).
    pub const NTLM2_SESSION: Self = Self(4);
    /// NTLMv2 (and LMv2) responses.
    pub const NTLMV2: Self = Self(8);
    /// Every kind (Windows).
    pub const ALL: Self = Self(15);
    /// No kind.
    pub const NONE: Self = Self(0);

    /// Both sets.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether a response of this kind can be verified. Anonymous logons
    /// carry no response to verify; a response of unknown shape never can be.
    pub const fn verifies(self, kind: ResponseKind) -> bool {
        match kind {
            ResponseKind::Anonymous => true,
            ResponseKind::Lm => self.0 & Self::LM.0 != 0,
            ResponseKind::NtlmV1 => self.0 & Self::NTLMV1.0 != 0,
            ResponseKind::Ntlm2Session => self.0 & Self::NTLM2_SESSION.0 != 0,
            ResponseKind::NtlmV2 => self.0 & Self::NTLMV2.0 != 0,
            ResponseKind::Unknown => false,
        }
    }

    /// The kind by the name `ntlmsim` prints (`LM`, `NTLMv1`,
    /// `NTLM2_SESSION`, `NTLMv2`), ASCII case ignored.
    pub fn by_name(name: &str) -> Option<Self> {
        [
            ("LM", Self::LM),
            ("NTLMv1", Self::NTLMV1),
            ("NTLM2_SESSION", Self::NTLM2_SESSION),
            ("NTLMv2", Self::NTLMV2),
        ]
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
        .map(|(_, k)| k)
    }
}

impl Default for ResponseKinds {
    fn default() -> Self {
        Self::ALL
    }
}

/// A client: its LmCompatibilityLevel, what it can offer, and what the application asks for.
///
/// `Default` is a current Windows client (Windows 7 and later) with no
/// application requests: it offers OEM | VERSION | 128 | 56 besides the base
/// flags and ESS, as the reconstructed Windows 7 NEGOTIATE `0xa2088207` does
/// (MS-NLMP <23>: 128 "is always set"), and adds KEY_EXCH when integrity or
/// confidentiality is requested (MS-NLMP 3.1.1.2, 2.2.2.5 KEY_EXCH).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientConfig {
    /// Which responses it sends (and whether it requests ESS).
    pub lm_level: LmCompatibilityLevel,
    /// Optional flags it always offers (ClientConfigFlags beyond the base set).
    pub offer: F,
    /// Optional flags it adds when integrity or confidentiality is requested.
    pub offer_with_security: F,
    /// The application requests integrity (also Replay/Sequence Detect): SIGN.
    pub integrity: bool,
    /// The application requests confidentiality: SEAL | KEY_EXCH | LM_KEY | ESS.
    pub confidentiality: bool,
    /// The application requests connectionless mode: DATAGRAM.
    pub datagram: bool,
    /// The application requests an identify-level token: IDENTIFY.
    pub identify: bool,
    /// ClientBlocked (MS-NLMP 3.1.1.1): NTLM is not used at all.
    pub blocked: bool,
    /// LM and NTLMv1 removed (Windows 11 24H2 / Server 2025, KB5066470, rule
    /// `ntlmv1-removed`): the client sends NTLMv2 whatever `lm_level` says
    /// ([`ClientConfig::effective_lm_level`]).
    pub ntlmv1_removed: bool,
    /// The Windows generation (for `enforce = os-generation`).
    pub os: OsGeneration,
    /// Exact NEGOTIATE flags, overriding everything above (a forced offer).
    pub flags_override: Option<F>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            lm_level: LmCompatibilityLevel::L3,
            offer: F::NEGOTIATE_OEM
                .union(F::NEGOTIATE_VERSION)
                .union(F::NEGOTIATE_128)
                .union(F::NEGOTIATE_56),
            offer_with_security: F::NEGOTIATE_KEY_EXCH,
            integrity: false,
            confidentiality: false,
            datagram: false,
            identify: false,
            blocked: false,
            ntlmv1_removed: false,
            os: OsGeneration::Windows7Plus,
            flags_override: None,
        }
    }
}

/// A server: its capabilities (CfgFlg), domain membership and quirks.
///
/// `Default` is a current Windows server: domain-joined, every capability
/// but DATAGRAM (MS-NLMP <52>, <70>: connectionless NTLM only from NT
/// through Server 2008), TARGET_INFO always, LmCompatibilityLevel 3, every
/// response kind verifiable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServerConfig {
    /// Which responses it (or its DC) accepts.
    pub lm_level: LmCompatibilityLevel,
    /// CfgFlg: the optional flags it supports (UNICODE, OEM, ESS, LM_KEY,
    /// 128, 56, KEY_EXCH, DATAGRAM, IDENTIFY, VERSION, REQUEST_NON_NT_SESSION_KEY).
    /// SIGN and SEAL are always returned when requested (MS-NLMP 2.2.2.5 MUST).
    pub supported: F,
    /// Domain-joined: TARGET_TYPE_DOMAIN, else TARGET_TYPE_SERVER.
    pub domain_joined: bool,
    /// When TARGET_INFO is set.
    pub target_info: TargetInfoRule,
    /// The response kinds it can verify at all (rule `auth-cannot-verify`).
    pub verifies: ResponseKinds,
    /// ServerBlock (MS-NLMP 3.2.1.1): NTLM is refused.
    pub blocked: bool,
    /// Windows 11 24H2 / Server 2025 (NTLMv1 removed): under
    /// `ntlmv1-server = refuses` it refuses LM and NTLMv1 responses itself.
    pub ntlmv1_removed: bool,
    /// The Windows generation (for `enforce = os-generation`).
    pub os: OsGeneration,
    /// Exact CHALLENGE flags, overriding the computation (a forced answer).
    pub flags_override: Option<F>,
}

/// Every optional flag a server can support.
pub const SERVER_CAPABILITIES: F = F::NEGOTIATE_UNICODE
    .union(F::NEGOTIATE_OEM)
    .union(F::NEGOTIATE_SIGN)
    .union(F::NEGOTIATE_SEAL)
    .union(F::NEGOTIATE_DATAGRAM)
    .union(F::NEGOTIATE_LM_KEY)
    .union(F::NEGOTIATE_EXTENDED_SESSIONSECURITY)
    .union(F::NEGOTIATE_IDENTIFY)
    .union(F::REQUEST_NON_NT_SESSION_KEY)
    .union(F::NEGOTIATE_VERSION)
    .union(F::NEGOTIATE_128)
    .union(F::NEGOTIATE_KEY_EXCH)
    .union(F::NEGOTIATE_56);

/// Flags the server sets whatever the client asked (MS-NLMP 3.2.5.1.1):
/// REQUEST_TARGET, NTLM, ALWAYS_SIGN, TARGET_INFO and a target type; plus
/// KEY_EXCH when DATAGRAM is returned (2.2.2.5).
pub const SERVER_ALWAYS_SETS: F = F::REQUEST_TARGET
    .union(F::NEGOTIATE_NTLM)
    .union(F::NEGOTIATE_ALWAYS_SIGN)
    .union(F::NEGOTIATE_TARGET_INFO)
    .union(F::TARGET_TYPE_DOMAIN)
    .union(F::TARGET_TYPE_SERVER);

/// The session-security flags an AUTHENTICATE may not add to the CHALLENGE's
/// (rule `auth-flags-subset`). REQUEST_TARGET, TARGET_INFO, VERSION, the
/// target types and the charsets are excluded: the MS-NLMP 4.2.2.3 example
/// AUTHENTICATE itself carries REQUEST_TARGET and TARGET_INFO its CHALLENGE lacks.
pub const NEGOTIABLE: F = F::NEGOTIATE_SIGN
    .union(F::NEGOTIATE_SEAL)
    .union(F::NEGOTIATE_DATAGRAM)
    .union(F::NEGOTIATE_LM_KEY)
    .union(F::NEGOTIATE_ALWAYS_SIGN)
    .union(F::NEGOTIATE_EXTENDED_SESSIONSECURITY)
    .union(F::NEGOTIATE_IDENTIFY)
    .union(F::REQUEST_NON_NT_SESSION_KEY)
    .union(F::NEGOTIATE_128)
    .union(F::NEGOTIATE_KEY_EXCH)
    .union(F::NEGOTIATE_56);

impl ClientConfig {
    /// The LmCompatibilityLevel the client acts on: `lm_level`, raised to 3
    /// (NTLMv2 only) when LM and NTLMv1 are removed (`ntlmv1_removed`).
    pub const fn effective_lm_level(&self) -> LmCompatibilityLevel {
        if self.ntlmv1_removed && !self.lm_level.sends_ntlmv2() {
            LmCompatibilityLevel::L3
        } else {
            self.lm_level
        }
    }

    /// The default client adjusted by what the sources say about a Windows generation:
    ///
    /// - NT 4.0 and Windows 2000 do not send VERSION (MS-NLMP <24>);
    /// - NT 4.0 and Windows 2000 default to LmCompatibilityLevel 0 (cc960646;
    ///   NT 4.0 SP3, before the level existed, does not request ESS: <25>;
    ///   whether level 0 requests it is the `level0-ess` switch).
    ///
    /// Everything else, LmCompatibilityLevel included, stays at the default:
    /// the XP, 2003 and Vista level defaults are not stated by the sources.
    pub fn for_generation(os: OsGeneration) -> Self {
        let mut c = Self {
            os,
            ..Self::default()
        };
        if matches!(os, OsGeneration::Nt4 | OsGeneration::Windows2000) {
            c.offer = c.offer.difference(F::NEGOTIATE_VERSION);
            c.lm_level = LmCompatibilityLevel::L0;
        }
        c
    }
}

impl ServerConfig {
    /// The default server adjusted by what the sources say about a Windows generation:
    ///
    /// - NT 4.0 and Windows 2000 do not send VERSION (MS-NLMP <24>);
    /// - NT sets TARGET_INFO only with ESS; 2000/XP/2003 only when the
    ///   NEGOTIATE has ESS or REQUEST_TARGET (<64>);
    /// - connectionless (DATAGRAM) NTLM exists only from NT through Server
    ///   2008 (MS-NLMP <52>, <70>): Windows 7 / 2008 R2 and later never
    ///   return DATAGRAM (rule `neg-server-datagram-generation`).
    ///
    /// Everything else stays at the default.
    pub fn for_generation(os: OsGeneration) -> Self {
        let mut s = Self {
            os,
            ..Self::default()
        };
        if matches!(os, OsGeneration::Nt4 | OsGeneration::Windows2000) {
            s.supported = s.supported.difference(F::NEGOTIATE_VERSION);
        }
        if matches!(
            os,
            OsGeneration::Nt4
                | OsGeneration::Windows2000
                | OsGeneration::XpServer2003
                | OsGeneration::VistaServer2008
        ) {
            s.supported = s.supported.union(F::NEGOTIATE_DATAGRAM);
        }
        s.target_info = match os {
            OsGeneration::Nt4 => TargetInfoRule::EssOnly,
            OsGeneration::Windows2000 | OsGeneration::XpServer2003 => {
                TargetInfoRule::EssOrRequestTarget
            }
            _ => TargetInfoRule::Always,
        };
        s
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            lm_level: LmCompatibilityLevel::L3,
            supported: SERVER_CAPABILITIES.difference(F::NEGOTIATE_DATAGRAM),
            domain_joined: true,
            target_info: TargetInfoRule::Always,
            verifies: ResponseKinds::ALL,
            blocked: false,
            ntlmv1_removed: false,
            os: OsGeneration::Windows7Plus,
            flags_override: None,
        }
    }
}

/// The client's base flags (MS-NLMP 3.1.5.1.1, rule `neg-client-base`).
pub const CLIENT_BASE: F = F::REQUEST_TARGET
    .union(F::NEGOTIATE_NTLM)
    .union(F::NEGOTIATE_ALWAYS_SIGN)
    .union(F::NEGOTIATE_UNICODE);

/// The NEGOTIATE flags a client sends.
///
/// Base flags (`neg-client-base`), ESS for LmCompatibilityLevel 1 to 5
/// (`neg-client-ess`) and for level 0 under `level0-ess=requested` (the
/// default), the client's `offer`, the application's requests
/// (`neg-client-app-flags`, MS-NLMP 3.1.1.2: Integrity → SIGN;
/// Confidentiality → SEAL | KEY_EXCH | LM_KEY | ESS, ESS omitted at level 0
/// under `level0-ess=never`), `offer_with_security` when integrity or
/// confidentiality is requested, and with `client_request = or-required` the
/// known bits of `client_min` (`neg-client-or-required`). A `flags_override`
/// is returned unchanged.
pub const fn negotiate_flags(
    client: &ClientConfig,
    client_min: MinSessionSecurity,
    semantics: &Semantics,
) -> F {
    if let Some(f) = client.flags_override {
        return f;
    }
    let mut f = CLIENT_BASE.union(client.offer);
    let ess_allowed = client
        .effective_lm_level()
        .requests_ess(semantics.level0_ess);
    if ess_allowed {
        f = f.union(F::NEGOTIATE_EXTENDED_SESSIONSECURITY);
    }
    if client.integrity {
        f = f.union(F::NEGOTIATE_SIGN);
    }
    if client.confidentiality {
        f = f
            .union(F::NEGOTIATE_SEAL)
            .union(F::NEGOTIATE_KEY_EXCH)
            .union(F::NEGOTIATE_LM_KEY);
    }
    if client.integrity || client.confidentiality {
        f = f.union(client.offer_with_security);
    }
    if client.datagram {
        f = f.union(F::NEGOTIATE_DATAGRAM);
    }
    if client.identify {
        f = f.union(F::NEGOTIATE_IDENTIFY);
    }
    if let ClientRequest::OrRequired = semantics.client_request {
        f = f.union(client_min.required_flags());
    }
    if !ess_allowed {
        f = f.difference(F::NEGOTIATE_EXTENDED_SESSIONSECURITY);
    }
    f
}

/// The CHALLENGE flags a server returns for a NEGOTIATE (MS-NLMP 3.2.5.1.1, 2.2.2.5).
///
/// - charset: UNICODE if requested and supported, else OEM if requested and
///   supported, else `SEC_E_INVALID_TOKEN` (`neg-server-charset`);
/// - ESS if requested and supported, else LM_KEY likewise, never both (`neg-server-ess-over-lm-key`);
/// - SIGN and SEAL echoed (`neg-server-sign-seal`);
/// - KEY_EXCH, IDENTIFY, DATAGRAM, VERSION, REQUEST_NON_NT_SESSION_KEY if
///   requested and supported (`neg-server-optional`);
/// - 128 and 56 if requested and supported, with `server_strength = literal`
///   only when SIGN or SEAL was requested (`neg-server-strength-*`);
/// - KEY_EXCH when DATAGRAM is returned (`neg-server-datagram-key-exch`);
/// - REQUEST_TARGET | NTLM | ALWAYS_SIGN (`neg-server-mandatory`), TARGET_INFO
///   per [`TargetInfoRule`], TARGET_TYPE_DOMAIN or _SERVER (`neg-server-target-type`).
///
/// Only the flags in [`SERVER_ALWAYS_SETS`] (and KEY_EXCH with DATAGRAM) can
/// appear without the client having offered them. A `flags_override` is
/// returned unchanged. This does not apply ServerBlock or the server's mask:
/// see [`crate::server_on_negotiate`].
pub const fn challenge_flags(
    negotiate: F,
    server: &ServerConfig,
    semantics: &Semantics,
) -> Result<F, Failure> {
    if let Some(f) = server.flags_override {
        return Ok(f);
    }
    let usable = negotiate.intersection(server.supported);
    let mut c = if usable.contains(F::NEGOTIATE_UNICODE) {
        F::NEGOTIATE_UNICODE
    } else if usable.contains(F::NEGOTIATE_OEM) {
        F::NEGOTIATE_OEM
    } else {
        let f = Failure::new(
            Side::Server,
            Stage::Negotiate,
            &rules::NEG_SERVER_CHARSET,
            Detail::Charset,
        );
        return Err(f.with_negotiated(negotiate));
    };
    if usable.contains(F::NEGOTIATE_EXTENDED_SESSIONSECURITY) {
        c = c.union(F::NEGOTIATE_EXTENDED_SESSIONSECURITY);
    } else if usable.contains(F::NEGOTIATE_LM_KEY) {
        c = c.union(F::NEGOTIATE_LM_KEY);
    }
    let sign_seal = negotiate.intersection(F::NEGOTIATE_SIGN.union(F::NEGOTIATE_SEAL));
    c = c.union(sign_seal);
    c = c.union(
        usable.intersection(
            F::NEGOTIATE_KEY_EXCH
                .union(F::NEGOTIATE_IDENTIFY)
                .union(F::NEGOTIATE_DATAGRAM)
                .union(F::NEGOTIATE_VERSION)
                .union(F::REQUEST_NON_NT_SESSION_KEY),
        ),
    );
    let strength = usable.intersection(F::NEGOTIATE_128.union(F::NEGOTIATE_56));
    match semantics.server_strength {
        ServerStrength::Echo => c = c.union(strength),
        ServerStrength::Literal => {
            if !sign_seal.is_empty() {
                c = c.union(strength);
            }
        }
    }
    if c.contains(F::NEGOTIATE_DATAGRAM) {
        c = c.union(F::NEGOTIATE_KEY_EXCH);
    }
    c = c
        .union(F::REQUEST_TARGET)
        .union(F::NEGOTIATE_NTLM)
        .union(F::NEGOTIATE_ALWAYS_SIGN);
    let target_info = match server.target_info {
        TargetInfoRule::Always => true,
        TargetInfoRule::EssOrRequestTarget => {
            negotiate.intersects(F::NEGOTIATE_EXTENDED_SESSIONSECURITY.union(F::REQUEST_TARGET))
        }
        TargetInfoRule::EssOnly => c.contains(F::NEGOTIATE_EXTENDED_SESSIONSECURITY),
        TargetInfoRule::Never => false,
        TargetInfoRule::RequestTarget => negotiate.contains(F::REQUEST_TARGET),
    };
    if target_info {
        c = c.union(F::NEGOTIATE_TARGET_INFO);
    }
    let target_type = match server.target_info {
        TargetInfoRule::RequestTarget => negotiate.contains(F::REQUEST_TARGET),
        _ => true,
    };
    if target_type {
        c = c.union(if server.domain_joined {
            F::TARGET_TYPE_DOMAIN
        } else {
            F::TARGET_TYPE_SERVER
        });
    }
    Ok(c)
}

/// The AUTHENTICATE flags a client sends after a CHALLENGE (rule
/// `neg-client-authenticate-flags`): the CHALLENGE flags without the target
/// types, with UNICODE alone when both charsets were returned; a client
/// `flags_override` is the exact offer and does not change this.
pub const fn authenticate_flags(challenge: F) -> F {
    let mut a = challenge.difference(F::TARGET_TYPE_DOMAIN.union(F::TARGET_TYPE_SERVER));
    if a.contains(F::NEGOTIATE_UNICODE) {
        a = a.difference(F::NEGOTIATE_OEM);
    }
    a
}

/// Whether the flags carry NEGOTIATE_128 but give a weaker sealing key:
/// without ESS, LM_KEY (or DATAGRAM) makes the key 56 or 40 bits whatever
/// NEGOTIATE_128 says (MS-NLMP 3.4.5.3). Verdicts warn about it.
pub const fn weak_key_under_128(flags: F) -> bool {
    flags.contains(F::NEGOTIATE_128) && key_strength_bits(flags) < 128
}

/// The sealing-key strength the flags give, in bits (MS-NLMP 3.4.5.3):
/// with ESS 128, 56 or 40 by NEGOTIATE_128/56; with LM_KEY or DATAGRAM 56
/// or 40; otherwise the full 128-bit key.
pub const fn key_strength_bits(flags: F) -> u16 {
    if flags.contains(F::NEGOTIATE_EXTENDED_SESSIONSECURITY) {
        if flags.contains(F::NEGOTIATE_128) {
            128
        } else if flags.contains(F::NEGOTIATE_56) {
            56
        } else {
            40
        }
    } else if flags.intersects(F::NEGOTIATE_LM_KEY.union(F::NEGOTIATE_DATAGRAM)) {
        if flags.contains(F::NEGOTIATE_56) {
            56
        } else {
            40
        }
    } else {
        128
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(bits: u32) -> F {
        F::from_bits_retain(bits)
    }

    #[test]
    fn windows7_client_offer_matches_the_reconstructed_negotiate() {
        // The Windows 7 NEGOTIATE reconstructed from the 2008 R2 capture's MIC.
        let n = negotiate_flags(
            &ClientConfig::default(),
            MinSessionSecurity::ENCRYPTION_128,
            &Semantics::default(),
        );
        assert_eq!(n, f(0xa208_8207));
    }

    #[test]
    fn windows_2008r2_challenge_matches_the_capture() {
        let c = challenge_flags(
            f(0xa208_8207),
            &ServerConfig::default(),
            &Semantics::default(),
        )
        .unwrap();
        assert_eq!(c, f(0xa289_8205));
        assert_eq!(authenticate_flags(c), f(0xa288_8205));
    }

    #[test]
    fn literal_strength_rule_drops_128_without_sign_or_seal() {
        let lit = Semantics::by_name("ms-nlmp-literal").unwrap();
        let c = challenge_flags(f(0xa208_8207), &ServerConfig::default(), &lit).unwrap();
        assert!(!c.intersects(F::NEGOTIATE_128 | F::NEGOTIATE_56));
        let c = challenge_flags(f(0xa208_8217), &ServerConfig::default(), &lit).unwrap();
        assert!(c.contains(F::NEGOTIATE_128 | F::NEGOTIATE_56 | F::NEGOTIATE_SIGN));
    }

    #[test]
    fn confidentiality_adds_the_spec_flags_and_level0_ess_per_reading() {
        let mut c = ClientConfig {
            confidentiality: true,
            ..ClientConfig::default()
        };
        let n = negotiate_flags(&c, MinSessionSecurity::NONE, &Semantics::default());
        assert!(n.contains(
            F::NEGOTIATE_SEAL
                | F::NEGOTIATE_KEY_EXCH
                | F::NEGOTIATE_LM_KEY
                | F::NEGOTIATE_EXTENDED_SESSIONSECURITY
        ));
        c.lm_level = LmCompatibilityLevel::L0;
        let samba = Semantics::by_name("samba").unwrap();
        let n = negotiate_flags(&c, MinSessionSecurity::BASELINE, &samba);
        assert!(n.contains(F::NEGOTIATE_EXTENDED_SESSIONSECURITY));
        assert!(n.contains(F::NEGOTIATE_128));
        let never = Semantics {
            level0_ess: crate::semantics::Level0Ess::Never,
            ..samba
        };
        let n = negotiate_flags(&c, MinSessionSecurity::BASELINE, &never);
        assert!(!n.contains(F::NEGOTIATE_EXTENDED_SESSIONSECURITY));
        assert!(n.contains(F::NEGOTIATE_128));
    }

    #[test]
    fn or_required_adds_the_client_mask() {
        let c = ClientConfig {
            offer: F::empty(),
            ..ClientConfig::default()
        };
        let plain = negotiate_flags(&c, MinSessionSecurity::ALL_ABOVE, &Semantics::default());
        assert_eq!(plain, CLIENT_BASE | F::NEGOTIATE_EXTENDED_SESSIONSECURITY);
        let samba = Semantics::by_name("samba").unwrap();
        let ored = negotiate_flags(&c, MinSessionSecurity::ALL_ABOVE, &samba);
        assert_eq!(ored, plain | f(0x2008_0030));
    }

    #[test]
    fn overrides_are_returned_unchanged() {
        let c = ClientConfig {
            flags_override: Some(f(0x1)),
            ..ClientConfig::default()
        };
        assert_eq!(
            negotiate_flags(&c, MinSessionSecurity::ALL_ABOVE, &Semantics::default()),
            f(0x1)
        );
        let s = ServerConfig {
            flags_override: Some(f(0xe28a_8233)),
            ..ServerConfig::default()
        };
        assert_eq!(
            challenge_flags(f(0), &s, &Semantics::default()),
            Ok(f(0xe28a_8233))
        );
    }

    #[test]
    fn charset_choice_and_failure() {
        let sem = Semantics::default();
        let oem_only = ServerConfig {
            supported: SERVER_CAPABILITIES.difference(F::NEGOTIATE_UNICODE),
            ..ServerConfig::default()
        };
        let c = challenge_flags(f(0x3), &oem_only, &sem).unwrap();
        assert!(c.contains(F::NEGOTIATE_OEM) && !c.contains(F::NEGOTIATE_UNICODE));
        let e = challenge_flags(f(0x1), &oem_only, &sem).unwrap_err();
        assert_eq!(e.rule.id, "neg-server-charset");
        assert_eq!(e.negotiated, f(0x1));
        let e = challenge_flags(f(0x0), &ServerConfig::default(), &sem).unwrap_err();
        assert_eq!(e.status.code(), 0x8009_0308);
    }

    #[test]
    fn ess_beats_lm_key_and_datagram_forces_key_exch() {
        let sem = Semantics::default();
        let c = challenge_flags(f(0x0008_0081), &ServerConfig::default(), &sem).unwrap();
        assert!(c.contains(F::NEGOTIATE_EXTENDED_SESSIONSECURITY));
        assert!(!c.contains(F::NEGOTIATE_LM_KEY));
        let no_ess = ServerConfig {
            supported: SERVER_CAPABILITIES.difference(F::NEGOTIATE_EXTENDED_SESSIONSECURITY),
            ..ServerConfig::default()
        };
        let c = challenge_flags(f(0x0008_0081), &no_ess, &sem).unwrap();
        assert!(c.contains(F::NEGOTIATE_LM_KEY));
        let vista = ServerConfig::for_generation(OsGeneration::VistaServer2008);
        let c = challenge_flags(f(0x41), &vista, &sem).unwrap();
        assert!(c.contains(F::NEGOTIATE_DATAGRAM | F::NEGOTIATE_KEY_EXCH));
        // Windows 7 and later never return DATAGRAM (MS-NLMP <52>, <70>).
        for s in [
            ServerConfig::default(),
            ServerConfig::for_generation(OsGeneration::Windows7Plus),
        ] {
            let c = challenge_flags(f(0x41), &s, &sem).unwrap();
            assert!(!c.contains(F::NEGOTIATE_DATAGRAM));
            assert!(!c.contains(F::NEGOTIATE_KEY_EXCH));
        }
    }

    #[test]
    fn samba_sets_target_info_and_type_only_with_request_target() {
        let sem = Semantics::default();
        let samba = ServerConfig {
            target_info: TargetInfoRule::RequestTarget,
            domain_joined: false,
            ..ServerConfig::default()
        };
        let with = challenge_flags(f(0x0000_0205), &samba, &sem).unwrap();
        assert!(with.contains(F::NEGOTIATE_TARGET_INFO | F::TARGET_TYPE_SERVER));
        // jTDS's 0xb201 has no REQUEST_TARGET.
        let without = challenge_flags(f(0x0000_b201), &samba, &sem).unwrap();
        assert!(
            !without.intersects(
                F::NEGOTIATE_TARGET_INFO | F::TARGET_TYPE_SERVER | F::TARGET_TYPE_DOMAIN
            )
        );
    }

    #[test]
    fn lm_key_under_128_is_a_56_bit_key() {
        // A Windows client with signing against an NT-era server without ESS.
        let flags = f(0xe200_8295);
        assert!(flags.contains(F::NEGOTIATE_128 | F::NEGOTIATE_LM_KEY));
        assert_eq!(key_strength_bits(flags), 56);
        assert!(weak_key_under_128(flags));
        assert!(!weak_key_under_128(f(0xe208_8215)));
        assert!(!weak_key_under_128(f(0x0000_8295)));
    }

    #[test]
    fn response_kinds_verified() {
        let v1 = ResponseKinds::LM.union(ResponseKinds::NTLMV1);
        assert!(v1.verifies(ResponseKind::NtlmV1));
        assert!(v1.verifies(ResponseKind::Anonymous));
        assert!(!v1.verifies(ResponseKind::NtlmV2));
        assert!(!v1.verifies(ResponseKind::Ntlm2Session));
        assert!(!ResponseKinds::ALL.verifies(ResponseKind::Unknown));
        assert_eq!(
            ResponseKinds::by_name("ntlmv2"),
            Some(ResponseKinds::NTLMV2)
        );
        assert_eq!(ResponseKinds::by_name("NTLMv3"), None);
        assert_eq!(ResponseKinds::default(), ResponseKinds::ALL);
    }

    #[test]
    fn target_info_quirks() {
        let sem = Semantics::default();
        let mut s = ServerConfig {
            target_info: TargetInfoRule::EssOnly,
            domain_joined: false,
            ..ServerConfig::default()
        };
        let c = challenge_flags(f(0x1), &s, &sem).unwrap();
        assert!(!c.contains(F::NEGOTIATE_TARGET_INFO));
        assert!(c.contains(F::TARGET_TYPE_SERVER) && !c.contains(F::TARGET_TYPE_DOMAIN));
        let c = challenge_flags(f(0x0008_0001), &s, &sem).unwrap();
        assert!(c.contains(F::NEGOTIATE_TARGET_INFO));
        s.target_info = TargetInfoRule::EssOrRequestTarget;
        assert!(
            challenge_flags(f(0x5), &s, &sem)
                .unwrap()
                .contains(F::NEGOTIATE_TARGET_INFO)
        );
        assert!(
            !challenge_flags(f(0x1), &s, &sem)
                .unwrap()
                .contains(F::NEGOTIATE_TARGET_INFO)
        );
        s.target_info = TargetInfoRule::Never;
        assert!(
            !challenge_flags(f(0x0008_0005), &s, &sem)
                .unwrap()
                .contains(F::NEGOTIATE_TARGET_INFO)
        );
    }

    #[test]
    fn key_strength() {
        assert_eq!(key_strength_bits(f(0xa008_0000)), 128);
        assert_eq!(key_strength_bits(f(0x8008_0000)), 56);
        assert_eq!(key_strength_bits(f(0x0008_0000)), 40);
        assert_eq!(key_strength_bits(f(0x8000_0080)), 56);
        assert_eq!(key_strength_bits(f(0x0000_0040)), 40);
        assert_eq!(key_strength_bits(f(0x2000_0000)), 128);
    }

    #[test]
    fn generation_constructors() {
        let sem = Semantics::default();
        let nt4 = ClientConfig::for_generation(OsGeneration::Nt4);
        assert!(
            negotiate_flags(&nt4, MinSessionSecurity::NONE, &sem)
                .contains(F::NEGOTIATE_EXTENDED_SESSIONSECURITY)
        );
        // Under the policy text's reading level 0 requests no ESS.
        let never = Semantics {
            level0_ess: crate::semantics::Level0Ess::Never,
            ..sem
        };
        let n = negotiate_flags(&nt4, MinSessionSecurity::NONE, &never);
        assert!(!n.intersects(F::NEGOTIATE_VERSION | F::NEGOTIATE_EXTENDED_SESSIONSECURITY));
        let win7 = ClientConfig::for_generation(OsGeneration::Windows7Plus);
        assert_eq!(win7, ClientConfig::default());

        // An NT 4.0 server answers a Windows 7 client without VERSION, and
        // with TARGET_INFO because ESS is negotiated.
        let s = ServerConfig::for_generation(OsGeneration::Nt4);
        let c = challenge_flags(f(0xa208_8207), &s, &sem).unwrap();
        assert!(!c.contains(F::NEGOTIATE_VERSION));
        assert!(c.contains(F::NEGOTIATE_TARGET_INFO));
        // ... and an NT 4.0 client without TARGET_INFO.
        assert!(
            !challenge_flags(n, &s, &sem)
                .unwrap()
                .contains(F::NEGOTIATE_TARGET_INFO)
        );
        assert_eq!(
            ServerConfig::for_generation(OsGeneration::XpServer2003).target_info,
            TargetInfoRule::EssOrRequestTarget
        );
        assert_eq!(
            ServerConfig::for_generation(OsGeneration::Windows7Plus),
            ServerConfig::default()
        );
    }

    #[test]
    fn generations() {
        assert!(OsGeneration::Windows7Plus.post_2003());
        assert!(OsGeneration::VistaServer2008.post_2003());
        assert!(!OsGeneration::XpServer2003.post_2003());
        assert!(!OsGeneration::Unspecified.post_2003());
        assert_eq!(
            OsGeneration::Windows7Plus.default_min_sec(),
            MinSessionSecurity::ENCRYPTION_128
        );
        assert_eq!(
            OsGeneration::VistaServer2008.default_min_sec(),
            MinSessionSecurity::NONE
        );
    }
}
