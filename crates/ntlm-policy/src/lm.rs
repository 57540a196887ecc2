//! `LmCompatibilityLevel`: which responses a client sends and a server accepts.

use alloc::format;
use alloc::string::String;
use core::fmt;
use core::str::FromStr;

use ntlm_wire::{NegotiateFlags, ResponseKind};

use crate::mask::InputForm;
use crate::parse::{self, ParseError, Radix, squash};
use crate::semantics::Level0Ess;
use crate::source::Source;

/// `HKLM\SYSTEM\CurrentControlSet\Control\Lsa\LmCompatibilityLevel`
/// (policy "Network security: LAN Manager authentication level").
///
/// Sources: MS-NLMP Appendix B <81>, the LAN Manager authentication level
/// policy page and KB239869. The LM/NTLM version is not negotiated by the
/// protocol (MS-NLMP 3.3.1): each side applies its own level.
///
/// | Level | Client sends | Requests ESS | Server / DC accepts |
/// |---|---|---|---|
/// | 0 | LM + NTLMv1 (NTLM2 session response when ESS is negotiated, `level0-ess=requested`) | per [`Level0Ess`]: yes by default, never under `level0-ess=never` | LM, NTLMv1, NTLM2 session, NTLMv2 |
/// | 1 | LM + NTLMv1 (NTLM2 session response when ESS is negotiated) | yes | all |
/// | 2 | NTLMv1 only (NTLM2 session response when ESS is negotiated) | yes | all |
/// | 3 | NTLMv2 + LMv2 | yes | all |
/// | 4 | NTLMv2 + LMv2 | yes | refuses LM |
/// | 5 | NTLMv2 + LMv2 | yes | refuses LM, NTLMv1 and NTLM2 session |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum LmCompatibilityLevel {
    /// 0: Send LM & NTLM responses (Windows 2000 registry default).
    L0,
    /// 1: Send LM & NTLM - use NTLMv2 session security if negotiated.
    L1,
    /// 2: Send NTLM response only.
    L2,
    /// 3: Send NTLMv2 response only (Windows Server 2008 R2 and later default).
    #[default]
    L3,
    /// 4: Send NTLMv2 response only. Refuse LM.
    L4,
    /// 5: Send NTLMv2 response only. Refuse LM & NTLM.
    L5,
}

/// What a client puts in the LmChallengeResponse field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LmField {
    /// An LM response (levels 0 and 1 without ESS).
    Lm,
    /// A copy of the NTLMv1 response (level 2: NoLMResponseNTLMv1, MS-NLMP 3.3.1).
    NtCopy,
    /// ClientChallenge followed by Z(16) (NTLM2 session response, MS-NLMP 3.3.1).
    ClientChallenge,
    /// An LMv2 response, or Z(24) when the CHALLENGE has MsvAvTimestamp (MS-NLMP 3.1.5.1.2).
    LmV2,
}

const WHAT: &str = "LmCompatibilityLevel";
const EXPECTED: &str = "0 to 5, a registry line naming LmCompatibilityLevel, or a policy option \
    such as \"Send NTLMv2 response only. Refuse LM & NTLM\"";

impl LmCompatibilityLevel {
    /// Every level, 0 to 5.
    pub const ALL: [Self; 6] = [Self::L0, Self::L1, Self::L2, Self::L3, Self::L4, Self::L5];

    /// The level for a registry value (0 to 5).
    pub const fn from_u8(level: u8) -> Option<Self> {
        match level {
            0 => Some(Self::L0),
            1 => Some(Self::L1),
            2 => Some(Self::L2),
            3 => Some(Self::L3),
            4 => Some(Self::L4),
            5 => Some(Self::L5),
            _ => None,
        }
    }

    /// The registry value.
    pub const fn level(self) -> u8 {
        match self {
            Self::L0 => 0,
            Self::L1 => 1,
            Self::L2 => 2,
            Self::L3 => 3,
            Self::L4 => 4,
            Self::L5 => 5,
        }
    }

    /// The Group Policy option text.
    pub const fn name(self) -> &'static str {
        match self {
            Self::L0 => "Send LM & NTLM responses",
            Self::L1 => "Send LM & NTLM - use NTLMv2 session security if negotiated",
            Self::L2 => "Send NTLM response only",
            Self::L3 => "Send NTLMv2 response only",
            Self::L4 => "Send NTLMv2 response only. Refuse LM",
            Self::L5 => "Send NTLMv2 response only. Refuse LM & NTLM",
        }
    }

    /// Where the level table comes from: MS-NLMP Appendix B <81>, then the
    /// LAN Manager authentication level policy page.
    pub const SOURCES: [Source; 2] = [
        Source::MsNlmpBehavior(81),
        Source::MsDoc("Network security: LAN Manager authentication level"),
    ];

    /// What a client at this level sends, in one line.
    pub const fn client_meaning(self) -> &'static str {
        match self {
            Self::L0 => {
                "sends LM and NTLMv1 responses; the policy text says it never uses NTLMv2 session \
                 security, yet public Windows XP messages show it requesting \
                 EXTENDED_SESSIONSECURITY and sending the NTLM2 session response when it is \
                 negotiated (semantics switch level0-ess: requested by default, or never)"
            }
            Self::L1 => {
                "sends LM and NTLMv1 responses, or the NTLM2 session response when NTLMv2 \
                 session security is negotiated"
            }
            Self::L2 => {
                "sends the NTLMv1 response only (also in the LM field), or the NTLM2 session \
                 response when NTLMv2 session security is negotiated"
            }
            Self::L3 | Self::L4 | Self::L5 => {
                "sends NTLMv2 and LMv2 responses only; requests NTLMv2 session security"
            }
        }
    }

    /// What a server, or the DC that checks its responses, accepts at this level.
    pub const fn server_meaning(self) -> &'static str {
        match self {
            Self::L0 | Self::L1 | Self::L2 | Self::L3 => {
                "accepts LM, NTLMv1, NTLM2 session and NTLMv2 responses"
            }
            Self::L4 => "refuses LM responses; accepts NTLMv1, NTLM2 session and NTLMv2",
            Self::L5 => "refuses LM, NTLMv1 and NTLM2 session responses; accepts NTLMv2 only",
        }
    }

    /// The responses a server at this level refuses (`LM`, `NTLMv1`, `NTLM2_SESSION`).
    pub fn refuses(self) -> impl Iterator<Item = ResponseKind> {
        [
            ResponseKind::Lm,
            ResponseKind::NtlmV1,
            ResponseKind::Ntlm2Session,
        ]
        .into_iter()
        .filter(move |k| !self.accepts(*k))
    }

    /// Whether a client at this level requests EXTENDED_SESSIONSECURITY,
    /// with level 0 read as `level0` says.
    ///
    /// MS-NLMP 3.1.5.1.1 sets it "if LM authentication is not being used";
    /// levels 1 and above use it if the server supports it (rule
    /// `neg-client-ess`). For level 0 the policy text ("never use NTLMv2
    /// session security") and the public Windows XP messages disagree: see
    /// [`Level0Ess`].
    pub const fn requests_ess(self, level0: Level0Ess) -> bool {
        match self {
            Self::L0 => matches!(level0, Level0Ess::Requested),
            _ => true,
        }
    }

    /// Whether a client at this level sends NTLMv2.
    pub const fn sends_ntlmv2(self) -> bool {
        matches!(self, Self::L3 | Self::L4 | Self::L5)
    }

    /// The response a client at this level sends, given the negotiated flags
    /// and the reading of level 0.
    ///
    /// Levels 3 to 5 send NTLMv2. A level that uses ESS
    /// ([`requests_ess`](Self::requests_ess)) sends the NTLM2 session
    /// response when EXTENDED_SESSIONSECURITY was negotiated, NTLMv1
    /// otherwise; level 0 under `level0-ess=never` always sends NTLMv1 (with LM).
    pub const fn client_response(
        self,
        negotiated: NegotiateFlags,
        level0: Level0Ess,
    ) -> ResponseKind {
        if self.sends_ntlmv2() {
            ResponseKind::NtlmV2
        } else if self.requests_ess(level0)
            && negotiated.contains(NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY)
        {
            ResponseKind::Ntlm2Session
        } else {
            ResponseKind::NtlmV1
        }
    }

    /// What a client at this level puts in the LmChallengeResponse field.
    pub const fn lm_field(self, negotiated: NegotiateFlags, level0: Level0Ess) -> LmField {
        match self.client_response(negotiated, level0) {
            ResponseKind::NtlmV2 => LmField::LmV2,
            ResponseKind::Ntlm2Session => LmField::ClientChallenge,
            _ if matches!(self, Self::L2) => LmField::NtCopy,
            _ => LmField::Lm,
        }
    }

    /// Whether a server or DC at this level accepts a response of this kind.
    ///
    /// Level 4 refuses LM; level 5 refuses LM, NTLMv1 and the NTLM2 session
    /// response (MS-NLMP <81>). Anonymous logons are not an LM/NTLM response
    /// and are accepted here; a response of unknown shape never is.
    pub const fn accepts(self, kind: ResponseKind) -> bool {
        match kind {
            ResponseKind::NtlmV2 | ResponseKind::Anonymous => true,
            ResponseKind::NtlmV1 | ResponseKind::Ntlm2Session => !matches!(self, Self::L5),
            ResponseKind::Lm => !matches!(self, Self::L4 | Self::L5),
            ResponseKind::Unknown => false,
        }
    }

    /// Reads a level: `0`..`5`, `level 3`, a registry line naming
    /// `LmCompatibilityLevel` (`.reg`, `reg query`, secedit, `reg add`,
    /// PowerShell), or the policy option text (case, punctuation and
    /// `&`/`and` are ignored).
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        Self::parse_form(input).map(|(level, _)| level)
    }

    /// [`LmCompatibilityLevel::parse`], also saying how the level was written
    /// ([`InputForm::Name`] for an option text).
    pub fn parse_form(input: &str) -> Result<(Self, InputForm), ParseError> {
        let err = |problem: String| ParseError::new(WHAT, input, problem, EXPECTED);
        let s = input.trim();
        if s.is_empty() {
            return Err(err("the input is empty".into()));
        }
        let (value, form) = if let Some(line) = parse::registry_line(s, &["LmCompatibilityLevel"]) {
            let line = line.map_err(err)?;
            if let Some(n) = line.name {
                if !n.eq_ignore_ascii_case("LmCompatibilityLevel") {
                    return Err(err(format!(
                        "the line sets {n:?}, not LmCompatibilityLevel"
                    )));
                }
            }
            (line.value, InputForm::Line(line.form))
        } else {
            let key = squash(&s.replace('&', " and ")).replace("and", "");
            if let Some(l) = Self::ALL
                .into_iter()
                .find(|l| squash(&l.name().replace('&', " and ")).replace("and", "") == key)
            {
                return Ok((l, InputForm::Name));
            }
            let digits = parse::strip_prefix_ci(s, "level").unwrap_or(s).trim();
            let (value, radix) = parse::number(digits).map_err(err)?;
            let form = match radix {
                Radix::Hex => InputForm::Hex,
                Radix::Decimal => InputForm::Decimal,
                Radix::Dword => InputForm::Dword,
            };
            (value, form)
        };
        u8::try_from(value)
            .ok()
            .and_then(Self::from_u8)
            .map(|l| (l, form))
            .ok_or_else(|| err(format!("{value} is not a level from 0 to 5")))
    }
}

impl FromStr for LmCompatibilityLevel {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for LmCompatibilityLevel {
    /// `3 (Send NTLMv2 response only)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.level(), self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ESS: NegotiateFlags = NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY;

    #[test]
    fn client_responses_per_level() {
        use LmCompatibilityLevel::*;
        let none = NegotiateFlags::empty();
        for r in Level0Ess::ALL {
            assert_eq!(L1.client_response(ESS, r), ResponseKind::Ntlm2Session);
            assert_eq!(L1.client_response(none, r), ResponseKind::NtlmV1);
            assert_eq!(L2.client_response(ESS, r), ResponseKind::Ntlm2Session);
            assert_eq!(L2.client_response(none, r), ResponseKind::NtlmV1);
            for l in [L3, L4, L5] {
                assert_eq!(l.client_response(none, r), ResponseKind::NtlmV2);
                assert_eq!(l.lm_field(none, r), LmField::LmV2);
            }
            assert_eq!(L0.client_response(none, r), ResponseKind::NtlmV1);
            assert_eq!(L0.lm_field(none, r), LmField::Lm);
            assert_eq!(L1.lm_field(ESS, r), LmField::ClientChallenge);
            assert_eq!(L2.lm_field(none, r), LmField::NtCopy);
            assert!(L1.requests_ess(r) && L5.requests_ess(r));
        }
        // Level 0: the public XP messages (default) against the policy text.
        assert!(L0.requests_ess(Level0Ess::Requested));
        assert_eq!(
            L0.client_response(ESS, Level0Ess::Requested),
            ResponseKind::Ntlm2Session
        );
        assert_eq!(
            L0.lm_field(ESS, Level0Ess::Requested),
            LmField::ClientChallenge
        );
        assert!(!L0.requests_ess(Level0Ess::Never));
        assert_eq!(
            L0.client_response(ESS, Level0Ess::Never),
            ResponseKind::NtlmV1
        );
        assert_eq!(Level0Ess::default(), Level0Ess::Requested);
    }

    #[test]
    fn server_acceptance_per_level() {
        use LmCompatibilityLevel::*;
        use ResponseKind::*;
        for l in [L0, L1, L2, L3] {
            for k in [Lm, NtlmV1, Ntlm2Session, NtlmV2, Anonymous] {
                assert!(l.accepts(k), "{l:?} {k:?}");
            }
        }
        assert!(!L4.accepts(Lm));
        assert!(L4.accepts(NtlmV1) && L4.accepts(Ntlm2Session) && L4.accepts(NtlmV2));
        assert!(!L5.accepts(Lm) && !L5.accepts(NtlmV1) && !L5.accepts(Ntlm2Session));
        assert!(L5.accepts(NtlmV2));
        assert!(
            LmCompatibilityLevel::ALL
                .iter()
                .all(|l| !l.accepts(Unknown))
        );
    }

    #[test]
    fn meanings_per_side() {
        use LmCompatibilityLevel::*;
        assert_eq!(L3.refuses().count(), 0);
        assert_eq!(L4.refuses().collect::<Vec<_>>(), [ResponseKind::Lm]);
        assert_eq!(L5.refuses().count(), 3);
        assert!(L5.server_meaning().starts_with("refuses LM, NTLMv1"));
        assert!(L0.client_meaning().contains("level0-ess"));
        assert_eq!(
            LmCompatibilityLevel::SOURCES[0].to_string(),
            "MS-NLMP Appendix B <81>"
        );
    }

    #[test]
    fn display() {
        assert_eq!(
            LmCompatibilityLevel::L5.to_string(),
            "5 (Send NTLMv2 response only. Refuse LM & NTLM)"
        );
    }
}
