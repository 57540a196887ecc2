//! Explicit switches for the points where Windows behaviour is not confirmed.

use alloc::format;
use alloc::string::String;
use core::fmt;
use core::str::FromStr;

use crate::parse::ParseError;
use crate::rules::{self, Rule};

/// What "128-bit encryption is negotiated" means for the 0x20000000 bit.
///
/// The default is the KB239869 reading because it is the one that matches
/// the field: a Windows Server 2016 SQL Server with NtlmMinServerSec
/// 0x20000000 accepted an NTLM login whose negotiated flags were 0x02818205
/// (no NEGOTIATE_128, no SIGN, no SEAL) and logged a "Minimum Server
/// Security block" only once 0x80000 was added (microsoft/mssql-jdbc#1180);
/// curl and jTDS, which never offer 128, authenticate against default
/// Windows servers (curl/curl#13291, microsoft/mssql-jdbc#1172). See
/// `data/observations.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Rule128 {
    /// NEGOTIATE_128 must be in the negotiated flags (MS-NLMP 3.1.5.1.2,
    /// 3.2.5.1.1 read literally). The `ms-nlmp` preset.
    Strict,
    /// Fails only when SEAL is negotiated and NEGOTIATE_128 is not (KB239869:
    /// "if message confidentiality is in use but 128-bit encryption is not
    /// negotiated"). Default: it reproduces every field observation.
    #[default]
    Kb239869,
}

/// When a server returns NEGOTIATE_128 / NEGOTIATE_56 in its CHALLENGE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ServerStrength {
    /// Whenever the client requested them and the server supports them. Default.
    ///
    /// Observed: a Windows Server 2008 R2 DC returned 128 | 56 to a NEGOTIATE
    /// with neither SIGN nor SEAL; MS-NLMP <23> says Windows 7 and later
    /// "always set" 128. With the literal rule, two default-configured
    /// Windows 7+ hosts (both requiring 128) could not authenticate without
    /// SIGN/SEAL, which that capture contradicts.
    #[default]
    Echo,
    /// Only if the client also requested SIGN or SEAL (MS-NLMP 2.2.2.5, read literally).
    Literal,
}

/// Which known mask bits a peer enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Enforce {
    /// Every documented bit (0x10, 0x20, 0x80000, 0x20000000, 0x80000000). Default.
    #[default]
    AllKnown,
    /// A peer newer than Windows XP / Server 2003 ignores 0x10 and 0x20, which
    /// only the XP/2003 policy UI offers. UNCONFIRMED; peers of unknown
    /// generation enforce everything.
    OsGeneration,
}

/// Whether a client adds its required bits to its NEGOTIATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ClientRequest {
    /// The NEGOTIATE carries only the base, level and application flags. Default
    /// (Windows behaviour is undocumented; KB239869 only says the client requests items).
    #[default]
    AppOnly,
    /// NtlmMinClientSec's known bits are ORed in, as Samba does with `required_flags`.
    OrRequired,
}

/// What satisfies "Require NTLMv2 session security" (0x80000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EssMeaning {
    /// The EXTENDED_SESSIONSECURITY flag must be negotiated (KB239869; the bit is the flag). Default.
    #[default]
    Flag,
    /// The flag, or NTLMv2 authentication (Samba, bug 12862). A server knows the
    /// response kind only on AUTHENTICATE, so its NEGOTIATE-time check skips 0x80000.
    FlagOrNtlmV2,
}

/// How 0x80000000 (56-bit) is enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Bit56 {
    /// NEGOTIATE_56 must be negotiated (inference from the other bits). Default.
    #[default]
    Enforce,
    /// The bit is ignored (KB239869 gives it no semantics).
    Ignore,
}

/// What a server does with AUTHENTICATE flags its CHALLENGE did not return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AuthenticateExtra {
    /// Refuse with SEC_E_INVALID_TOKEN (MS-NLMP 2.2.1.3; status inferred). Default.
    #[default]
    Reject,
    /// Drop them and continue with the intersection (Samba `ntlmssp_handle_neg_flags()`).
    Intersect,
}

/// The full set of switches. `Semantics::default()` is the `calibrated` preset.
///
/// Every field is an explicit, documented choice where the sources disagree
/// or are silent; see the crate documentation for the table of switches,
/// their defaults and sources, and [`Semantics::PRESETS`] for the named sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Semantics {
    /// The 128-bit rule.
    pub rule_128: Rule128,
    /// When a server returns 128/56.
    pub server_strength: ServerStrength,
    /// Which bits a peer enforces.
    pub enforce: Enforce,
    /// Whether a client ORs its required bits into its NEGOTIATE.
    pub client_request: ClientRequest,
    /// What satisfies 0x80000.
    pub ess: EssMeaning,
    /// How 0x80000000 is enforced.
    pub bit56: Bit56,
    /// What a server does with unexpected AUTHENTICATE flags.
    pub authenticate_extra: AuthenticateExtra,
}

/// A named set of switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// The name accepted by [`Semantics::by_name`].
    pub name: &'static str,
    /// One line for `--help`.
    pub description: &'static str,
    /// The switches.
    pub semantics: Semantics,
}

const DEFAULT: Semantics = Semantics {
    rule_128: Rule128::Kb239869,
    server_strength: ServerStrength::Echo,
    enforce: Enforce::AllKnown,
    client_request: ClientRequest::AppOnly,
    ess: EssMeaning::Flag,
    bit56: Bit56::Enforce,
    authenticate_extra: AuthenticateExtra::Reject,
};

/// The strict reading of MS-NLMP 3.1.5.1.2 / 3.2.5.1.1 (the default before
/// the calibration against field observations).
const STRICT: Semantics = Semantics {
    rule_128: Rule128::Strict,
    ..DEFAULT
};

impl Semantics {
    /// The default: KB239869's reading of the 128-bit bit (the one the field
    /// observations support), MS-NLMP wherever it speaks otherwise, the
    /// Windows capture where it contradicts a literal reading, the strict
    /// choice elsewhere.
    pub const CALIBRATED: Self = DEFAULT;

    /// The `ms-nlmp` preset: as the default, but 0x20000000 requires
    /// NEGOTIATE_128 in the negotiated flags whether or not SEAL is.
    pub const MS_NLMP: Self = STRICT;

    /// Other names accepted by [`Semantics::by_name`] for a preset.
    pub const ALIASES: [(&'static str, &'static str); 1] = [("kb239869", "calibrated")];

    /// The named presets; the first is the default.
    pub const PRESETS: [Preset; 6] = [
        Preset {
            name: "calibrated",
            description: "default: 0x20000000 fails only when SEAL is negotiated without 128 \
                          (KB239869; the reading every field observation supports, alias \
                          kb239869), servers echo 128/56 as Windows does, every other documented \
                          bit enforced",
            semantics: DEFAULT,
        },
        Preset {
            name: "ms-nlmp",
            description: "strict: 0x20000000 requires NEGOTIATE_128 in the negotiated flags \
                          with or without SEAL (MS-NLMP 3.1.5.1.2/3.2.5.1.1 read literally); \
                          otherwise as calibrated",
            semantics: STRICT,
        },
        Preset {
            name: "ms-nlmp-literal",
            description: "as ms-nlmp, but servers return 128/56 only with SIGN or SEAL \
                          (MS-NLMP 2.2.2.5 read literally)",
            semantics: Self {
                server_strength: ServerStrength::Literal,
                ..STRICT
            },
        },
        Preset {
            name: "samba",
            description: "Samba's NTLMSSP: clients OR their required flags into the NEGOTIATE, \
                          NTLMv2 implies NTLMv2 session security, servers drop unexpected \
                          AUTHENTICATE flags",
            semantics: Self {
                client_request: ClientRequest::OrRequired,
                ess: EssMeaning::FlagOrNtlmV2,
                authenticate_extra: AuthenticateExtra::Intersect,
                ..STRICT
            },
        },
        Preset {
            name: "os-generation",
            description: "as ms-nlmp, but peers newer than XP/2003 ignore 0x10 and 0x20 \
                          (UNCONFIRMED: those options exist only in the XP/2003 UI)",
            semantics: Self {
                enforce: Enforce::OsGeneration,
                ..STRICT
            },
        },
        Preset {
            name: "lenient",
            description: "the most permissive reading of every unconfirmed point (KB239869 \
                          128 rule, 56-bit ignored, NTLMv2 implies ESS, 0x10/0x20 ignored by \
                          post-2003 peers, unexpected AUTHENTICATE flags dropped)",
            semantics: Self {
                rule_128: Rule128::Kb239869,
                server_strength: ServerStrength::Echo,
                enforce: Enforce::OsGeneration,
                client_request: ClientRequest::AppOnly,
                ess: EssMeaning::FlagOrNtlmV2,
                bit56: Bit56::Ignore,
                authenticate_extra: AuthenticateExtra::Intersect,
            },
        },
    ];

    /// The preset with this name or alias (ASCII case and `_`/`-` ignored).
    pub fn by_name(name: &str) -> Option<Self> {
        let mut want = normalize(name);
        if let Some((_, target)) = Self::ALIASES.iter().find(|(a, _)| normalize(a) == want) {
            want = normalize(target);
        }
        Self::PRESETS
            .iter()
            .find(|p| normalize(p.name) == want)
            .map(|p| p.semantics)
    }

    /// The names and one-line descriptions of the presets, for `--help`.
    pub fn list() -> impl Iterator<Item = (&'static str, &'static str)> {
        Self::PRESETS.iter().map(|p| (p.name, p.description))
    }

    /// The preset name these switches equal, or `"custom"`.
    pub fn name(&self) -> &'static str {
        Self::PRESETS
            .iter()
            .find(|p| p.semantics == *self)
            .map_or("custom", |p| p.name)
    }

    /// The rules the switches select, one per switch, for reports.
    pub fn rules(&self) -> [&'static Rule; 7] {
        [
            match self.rule_128 {
                Rule128::Strict => &rules::MIN_128_CLIENT,
                Rule128::Kb239869 => &rules::MIN_128_KB239869,
            },
            match self.server_strength {
                ServerStrength::Echo => &rules::NEG_SERVER_STRENGTH_ECHO,
                ServerStrength::Literal => &rules::NEG_SERVER_STRENGTH_LITERAL,
            },
            match self.enforce {
                Enforce::AllKnown => &rules::MIN_FLAGS_CLIENT,
                Enforce::OsGeneration => &rules::MIN_OS_GENERATION,
            },
            match self.client_request {
                ClientRequest::AppOnly => &rules::NEG_CLIENT_APP_FLAGS,
                ClientRequest::OrRequired => &rules::NEG_CLIENT_OR_REQUIRED,
            },
            match self.ess {
                EssMeaning::Flag => &rules::MIN_FLAGS_CLIENT,
                EssMeaning::FlagOrNtlmV2 => &rules::MIN_ESS_NTLMV2,
            },
            &rules::MIN_56,
            match self.authenticate_extra {
                AuthenticateExtra::Reject => &rules::AUTH_FLAGS_SUBSET,
                AuthenticateExtra::Intersect => &rules::AUTH_FLAGS_INTERSECT,
            },
        ]
    }
}

fn normalize(s: &str) -> String {
    s.trim()
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

impl FromStr for Semantics {
    type Err = ParseError;

    /// A preset name; see [`Semantics::list`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::by_name(s).ok_or_else(|| {
            ParseError::new(
                "semantics",
                s,
                format!("{:?} is not a preset", s.trim()),
                "one of calibrated (alias kb239869), ms-nlmp, ms-nlmp-literal, samba, \
                 os-generation, lenient",
            )
        })
    }
}

impl fmt::Display for Semantics {
    /// The preset name, or the switches when they match no preset.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            "custom" => write!(
                f,
                "custom(rule-128={:?}, server-strength={:?}, enforce={:?}, client-request={:?}, \
                 ess={:?}, bit56={:?}, authenticate-extra={:?})",
                self.rule_128,
                self.server_strength,
                self.enforce,
                self.client_request,
                self.ess,
                self.bit56,
                self.authenticate_extra
            ),
            name => f.write_str(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_first_preset() {
        assert_eq!(Semantics::default(), Semantics::PRESETS[0].semantics);
        assert_eq!(Semantics::default().name(), "calibrated");
        assert_eq!(Semantics::CALIBRATED, Semantics::default());
        assert_eq!(Semantics::default().rule_128, Rule128::Kb239869);
        assert_eq!(Semantics::MS_NLMP.rule_128, Rule128::Strict);
        assert_eq!(Semantics::MS_NLMP.name(), "ms-nlmp");
    }

    #[test]
    fn presets_are_distinct_and_found_by_name() {
        for (i, p) in Semantics::PRESETS.iter().enumerate() {
            assert_eq!(Semantics::by_name(p.name), Some(p.semantics));
            assert_eq!(p.semantics.name(), p.name);
            assert_eq!(p.semantics.to_string(), p.name);
            assert_eq!(p.name.parse::<Semantics>(), Ok(p.semantics));
            for q in Semantics::PRESETS.iter().skip(i + 1) {
                assert_ne!(p.semantics, q.semantics, "{} == {}", p.name, q.name);
            }
        }
        assert_eq!(Semantics::by_name(" MS_NLMP "), Some(Semantics::MS_NLMP));
        assert_eq!(Semantics::by_name("KB239869"), Some(Semantics::default()));
        assert_eq!(Semantics::list().count(), Semantics::PRESETS.len());
    }

    #[test]
    fn unknown_preset_is_an_error_that_quotes_it() {
        let e = "windows-2003".parse::<Semantics>().unwrap_err();
        assert!(e.to_string().contains("\"windows-2003\""), "{e}");
        assert!(e.to_string().contains("ms-nlmp"), "{e}");
    }

    #[test]
    fn custom_display_lists_switches() {
        let s = Semantics {
            bit56: Bit56::Ignore,
            ..Semantics::default()
        };
        assert_eq!(s.name(), "custom");
        assert!(s.to_string().contains("bit56=Ignore"));
    }

    #[test]
    fn rules_follow_switches() {
        let kb = Semantics::by_name("kb239869").unwrap();
        assert_eq!(kb.rules()[0].id, "min-128-kb239869");
        assert_eq!(Semantics::MS_NLMP.rules()[0].id, "min-128-client");
        let samba = Semantics::by_name("samba").unwrap();
        assert_eq!(samba.rules()[3].id, "neg-client-or-required");
        assert_eq!(samba.rules()[6].id, "auth-flags-intersect");
    }
}
