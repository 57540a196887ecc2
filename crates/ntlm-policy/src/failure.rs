//! A failed exchange, as a value.

use core::fmt;

use ntlm_wire::{NegotiateFlags, ResponseKind};

use crate::enforce::bit_rules;
use crate::lm::LmCompatibilityLevel;
use crate::mask::PolicyValue;
use crate::rules::{self, Rule};
use crate::semantics::Semantics;
use crate::status::{Hex32, Status};

/// Which peer failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// The client (initiator).
    Client,
    /// The server (acceptor).
    Server,
}

impl Side {
    /// `client` or `server`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Server => "server",
        }
    }

    /// `C` or `S`, as in the short forms of a failure.
    pub const fn letter(self) -> char {
        match self {
            Self::Client => 'C',
            Self::Server => 'S',
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The message whose *receipt* failed.
///
/// A server failing on receipt of NEGOTIATE sends no CHALLENGE; a client
/// failing on receipt of CHALLENGE sends no AUTHENTICATE. A client that
/// refuses to start (ClientBlocked) is reported as side client, stage
/// negotiate: the NEGOTIATE was never sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// NEGOTIATE_MESSAGE.
    Negotiate,
    /// CHALLENGE_MESSAGE.
    Challenge,
    /// AUTHENTICATE_MESSAGE.
    Authenticate,
}

impl Stage {
    /// `negotiate`, `challenge` or `authenticate`, as in JSON output.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Negotiate => "negotiate",
            Self::Challenge => "challenge",
            Self::Authenticate => "authenticate",
        }
    }

    /// `NEGOTIATE`, `CHALLENGE` or `AUTHENTICATE`.
    pub const fn message(self) -> &'static str {
        match self {
            Self::Negotiate => "NEGOTIATE",
            Self::Challenge => "CHALLENGE",
            Self::Authenticate => "AUTHENTICATE",
        }
    }

    /// `neg`, `chal` or `auth`, as in the short form of a failure.
    pub const fn abbreviation(self) -> &'static str {
        match self {
            Self::Negotiate => "neg",
            Self::Challenge => "chal",
            Self::Authenticate => "auth",
        }
    }

    /// `n`, `c` or `a`, as in the code of a failure.
    pub const fn letter(self) -> char {
        match self {
            Self::Negotiate => 'n',
            Self::Challenge => 'c',
            Self::Authenticate => 'a',
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What went wrong, with the data the one-line reason needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Detail {
    /// The side's minimum-security value is not met: `missing` lists the bits.
    MinimumSecurity,
    /// No usable charset (neither UNICODE nor OEM).
    Charset,
    /// The AUTHENTICATE carries flags (`unexpected`) the CHALLENGE did not return.
    UnexpectedFlags,
    /// The authenticating side's LmCompatibilityLevel refuses this response.
    ResponseRefused {
        /// The response the client sent.
        kind: ResponseKind,
        /// The refusing level.
        level: LmCompatibilityLevel,
    },
    /// The server cannot verify this kind of response at all (an NTLMv1-only device).
    ResponseUnverifiable {
        /// The response the client sent.
        kind: ResponseKind,
    },
    /// NTLM is blocked on the failing side.
    Blocked,
    /// NTLMv2 with integrity/confidentiality and no NetBIOS names in the TargetInfo.
    TargetInfoNames,
    /// Any other failure, described by a fixed text (used by the session layer).
    Note(&'static str),
    /// A message that could not be decoded: the field, offset and expectation.
    Decode(ntlm_wire::DecodeError),
}

/// A failed exchange: who failed, where, with which status, and why.
///
/// This is a plain `Copy` value: building one allocates nothing. The human
/// text ([`reason`](Self::reason), `Display`) is produced only when printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Failure {
    /// The peer that failed.
    pub side: Side,
    /// The message whose receipt failed.
    pub stage: Stage,
    /// The status it returned.
    pub status: Status,
    /// For minimum-security failures: the requirement the side enforced
    /// (its mask's known bits after the semantics switches). For unexpected
    /// AUTHENTICATE flags: the CHALLENGE flags. Otherwise empty.
    pub required: NegotiateFlags,
    /// The flags evaluated: the CHALLENGE flags for the client, the CHALLENGE
    /// the server would send on NEGOTIATE, the AUTHENTICATE flags on AUTHENTICATE.
    pub negotiated: NegotiateFlags,
    /// Required bits that were not satisfied.
    pub missing: NegotiateFlags,
    /// Bits present that should not be (unexpected AUTHENTICATE flags).
    pub unexpected: NegotiateFlags,
    /// The rule that failed, with its source.
    pub rule: &'static Rule,
    /// What went wrong, for the one-line reason.
    pub detail: Detail,
}

impl Failure {
    /// A failure of `rule` with no flag data; the status is the rule's
    /// (`STATUS_LOGON_FAILURE` for the few rules that carry none).
    pub const fn new(side: Side, stage: Stage, rule: &'static Rule, detail: Detail) -> Self {
        Self {
            side,
            stage,
            status: match rule.status {
                Some(s) => s,
                None => Status::StatusLogonFailure,
            },
            required: NegotiateFlags::empty(),
            negotiated: NegotiateFlags::empty(),
            missing: NegotiateFlags::empty(),
            unexpected: NegotiateFlags::empty(),
            rule,
            detail,
        }
    }

    /// A minimum-security failure.
    pub const fn minimum_security(
        side: Side,
        stage: Stage,
        rule: &'static Rule,
        required: NegotiateFlags,
        negotiated: NegotiateFlags,
        missing: NegotiateFlags,
    ) -> Self {
        let mut f = Self::new(side, stage, rule, Detail::MinimumSecurity);
        f.required = required;
        f.negotiated = negotiated;
        f.missing = missing;
        f
    }

    /// The same failure with another status (for peers that answer differently).
    pub const fn with_status(mut self, status: Status) -> Self {
        self.status = status;
        self
    }

    /// The same failure with the evaluated flags set.
    pub const fn with_negotiated(mut self, negotiated: NegotiateFlags) -> Self {
        self.negotiated = negotiated;
        self
    }

    /// Names of the missing bits, lowest first.
    pub fn missing_names(&self) -> impl Iterator<Item = &'static str> {
        self.missing.names()
    }

    /// The missing bits as `0x%08x`.
    pub fn missing_hex(&self) -> Hex32 {
        Hex32(self.missing.bits())
    }

    /// Names of the unexpected bits, lowest first.
    pub fn unexpected_names(&self) -> impl Iterator<Item = &'static str> {
        self.unexpected.names()
    }

    /// The registry value a minimum-security failure comes from.
    pub const fn policy_value(&self) -> Option<PolicyValue> {
        match self.detail {
            Detail::MinimumSecurity => Some(PolicyValue::of(self.side)),
            _ => None,
        }
    }

    /// The one-line reason, produced lazily.
    pub const fn reason(&self) -> Reason<'_> {
        Reason(self)
    }

    /// Who failed where in a few characters, `S/neg` (side letter,
    /// `separator`, [`Stage::abbreviation`]); see [`Short`].
    pub const fn short(&self, separator: char) -> Short {
        Short {
            side: self.side,
            stage: self.stage,
            separator: Some(separator),
        }
    }

    /// Who failed where in two letters, `Sn` ([`Side::letter`],
    /// [`Stage::letter`]); see [`Short`].
    pub const fn code(&self) -> Short {
        Short {
            side: self.side,
            stage: self.stage,
            separator: None,
        }
    }

    /// `the server refuses on receipt of NEGOTIATE with
    /// SEC_E_UNSUPPORTED_FUNCTION (0x80090302)`; see [`Refusal`].
    pub const fn refusal(&self) -> Refusal<'_> {
        Refusal {
            failure: self,
            past: false,
        }
    }

    /// `server refuses on receipt of NEGOTIATE: missing NEGOTIATE_128
    /// [min-128-server MS-NLMP 3.2.5.1.1]`: the missing bits when there are
    /// any, else the reason; see [`Summary`].
    pub const fn summary(&self) -> Summary<'_> {
        Summary(self)
    }

    /// The full form: a `FAILURE:` line, then the reason, the flags, the
    /// rule and its source, one per line; see [`Details`].
    pub const fn details(&self) -> Details<'_> {
        Details {
            failure: self,
            semantics: None,
        }
    }

    /// [`details`](Self::details), then, when several bits are missing,
    /// each bit with its own rule and basis under `semantics`.
    pub const fn details_under<'a>(&'a self, semantics: &'a Semantics) -> Details<'a> {
        Details {
            failure: self,
            semantics: Some(semantics),
        }
    }
}

/// Who failed where in a few characters ([`Failure::short`], [`Failure::code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Short {
    side: Side,
    stage: Stage,
    separator: Option<char>,
}

impl fmt::Display for Short {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.separator {
            Some(sep) => write!(
                f,
                "{}{sep}{}",
                self.side.letter(),
                self.stage.abbreviation()
            ),
            None => write!(f, "{}{}", self.side.letter(), self.stage.letter()),
        }
    }
}

/// Who refused on receipt of what, with which status ([`Failure::refusal`]).
#[derive(Debug, Clone, Copy)]
pub struct Refusal<'a> {
    failure: &'a Failure,
    past: bool,
}

impl Refusal<'_> {
    /// The same line in the past tense: `the server refused on receipt of ...`.
    pub const fn past(mut self) -> Self {
        self.past = true;
        self
    }
}

impl fmt::Display for Refusal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = self.failure;
        write!(
            f,
            "the {} {} on receipt of {} with {}",
            x.side,
            if self.past { "refused" } else { "refuses" },
            x.stage.message(),
            x.status
        )
    }
}

/// A failure in a few words, with its rule ([`Failure::summary`]).
#[derive(Debug, Clone, Copy)]
pub struct Summary<'a>(&'a Failure);

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = self.0;
        write!(f, "{} refuses on receipt of {}", x.side, x.stage.message())?;
        if x.missing.is_empty() {
            write!(f, ": {}", x.reason())?;
        } else {
            write!(f, ": missing {}", FlagNames(x.missing))?;
        }
        write!(f, " [{} {}]", x.rule.id, x.rule.source)
    }
}

/// The full form of a failure, a few lines each ending in a newline
/// ([`Failure::details`], [`Failure::details_under`]).
#[derive(Debug, Clone, Copy)]
pub struct Details<'a> {
    failure: &'a Failure,
    semantics: Option<&'a Semantics>,
}

impl fmt::Display for Details<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = self.failure;
        writeln!(f, "FAILURE: {}", x.refusal().past())?;
        writeln!(f, "  reason:     {}", x.reason())?;
        if !x.missing.is_empty() {
            writeln!(
                f,
                "  missing:    {} {}",
                Hex32(x.missing.bits()),
                FlagNames(x.missing)
            )?;
            writeln!(f, "  required:   {}", Hex32(x.required.bits()))?;
            writeln!(f, "  negotiated: {}", Hex32(x.negotiated.bits()))?;
        }
        if !x.unexpected.is_empty() {
            writeln!(
                f,
                "  unexpected: {} {}",
                Hex32(x.unexpected.bits()),
                FlagNames(x.unexpected)
            )?;
        }
        writeln!(f, "  rule:       {} ({})", x.rule.id, x.rule.statement)?;
        writeln!(f, "  source:     {} [{}]", x.rule.source, x.rule.basis)?;
        let semantics = self
            .semantics
            .filter(|semantics| bit_rules(x, semantics).nth(1).is_some());
        if let Some(semantics) = semantics {
            writeln!(f, "  per missing bit:")?;
            for (bit, r) in bit_rules(x, semantics) {
                writeln!(
                    f,
                    "    {} {:<36} {} [{}; {}]",
                    Hex32(bit.bits()),
                    bit.names().next().unwrap_or(""),
                    r.id,
                    r.source,
                    r.basis
                )?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Failure {
    /// `server failed on receipt of NEGOTIATE: SEC_E_UNSUPPORTED_FUNCTION (0x80090302): reason [source]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.side == Side::Client && self.stage == Stage::Negotiate {
            f.write_str("client refused to send NEGOTIATE")?;
        } else {
            write!(
                f,
                "{} failed on receipt of {}",
                self.side,
                self.stage.message()
            )?;
        }
        write!(
            f,
            ": {}: {} [{}]",
            self.status,
            self.reason(),
            self.rule.source
        )
    }
}

impl core::error::Error for Failure {}

/// The one-line reason of a [`Failure`].
#[derive(Debug, Clone, Copy)]
pub struct Reason<'a>(&'a Failure);

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = self.0;
        match x.detail {
            Detail::MinimumSecurity => {
                write!(
                    f,
                    "{} requires {} ({}), which {} ({}) do not provide",
                    PolicyValue::of(x.side),
                    FlagNames(x.missing),
                    Hex32(x.missing.bits()),
                    evaluated(x.side, x.stage),
                    Hex32(x.negotiated.bits())
                )?;
                if core::ptr::eq(x.rule, &rules::MIN_128_KB239869) {
                    f.write_str(" while NEGOTIATE_SEAL is negotiated")?;
                }
                Ok(())
            }
            Detail::Charset => match x.side {
                Side::Server => write!(
                    f,
                    "the NEGOTIATE flags ({}) offer no charset the server supports \
                     (neither UNICODE nor OEM)",
                    Hex32(x.negotiated.bits())
                ),
                Side::Client => write!(
                    f,
                    "the CHALLENGE flags ({}) select neither UNICODE nor OEM",
                    Hex32(x.negotiated.bits())
                ),
            },
            Detail::UnexpectedFlags => write!(
                f,
                "the AUTHENTICATE carries {} ({}), which the CHALLENGE ({}) did not return",
                FlagNames(x.unexpected),
                Hex32(x.unexpected.bits()),
                Hex32(x.required.bits())
            ),
            Detail::ResponseRefused { kind, level } => write!(
                f,
                "LmCompatibilityLevel {} ({}) refuses {} responses",
                level.level(),
                level.name(),
                kind
            ),
            Detail::ResponseUnverifiable { kind } => write!(
                f,
                "the server cannot verify {kind} responses (it implements older response kinds \
                 only), so the logon is refused"
            ),
            Detail::Blocked => match x.side {
                Side::Client => f.write_str("NTLM is blocked on the client (ClientBlocked)"),
                Side::Server => f.write_str("NTLM is blocked on the server (ServerBlock)"),
            },
            Detail::TargetInfoNames => f.write_str(
                "NTLMv2 with integrity or confidentiality needs MsvAvNbComputerName and \
                 MsvAvNbDomainName in the CHALLENGE TargetInfo",
            ),
            Detail::Note(text) => f.write_str(text),
            Detail::Decode(e) => write!(f, "{} could not be decoded: {e}", x.stage.message()),
        }
    }
}

const fn evaluated(side: Side, stage: Stage) -> &'static str {
    match (side, stage) {
        (Side::Server, Stage::Negotiate) => "the CHALLENGE flags the server would send",
        (_, Stage::Authenticate) => "the AUTHENTICATE flags",
        _ => "the CHALLENGE flags",
    }
}

/// Flag names joined with ` | `, or `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlagNames(pub NegotiateFlags);

impl fmt::Display for FlagNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        for name in self.0.names() {
            write!(f, "{sep}{name}")?;
            sep = " | ";
        }
        if sep.is_empty() {
            f.write_str("none")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_of_a_server_minimum_security_failure() {
        let f = Failure::minimum_security(
            Side::Server,
            Stage::Negotiate,
            &rules::MIN_128_SERVER,
            NegotiateFlags::from_bits_retain(0x2008_0000),
            NegotiateFlags::from_bits_retain(0x0281_8205),
            NegotiateFlags::from_bits_retain(0x2008_0000),
        );
        assert_eq!(
            f.to_string(),
            "server failed on receipt of NEGOTIATE: SEC_E_UNSUPPORTED_FUNCTION (0x80090302): \
             NtlmMinServerSec requires NEGOTIATE_EXTENDED_SESSIONSECURITY | NEGOTIATE_128 \
             (0x20080000), which the CHALLENGE flags the server would send (0x02818205) do not \
             provide [MS-NLMP 3.2.5.1.1]"
        );
        assert_eq!(f.policy_value(), Some(PolicyValue::NtlmMinServerSec));
        assert_eq!(f.missing_hex().to_string(), "0x20080000");
    }

    #[test]
    fn display_of_a_blocked_client() {
        let f = Failure::new(
            Side::Client,
            Stage::Negotiate,
            &rules::CLIENT_BLOCKED,
            Detail::Blocked,
        );
        assert_eq!(f.status, Status::StatusNotSupported);
        assert_eq!(
            f.to_string(),
            "client refused to send NEGOTIATE: STATUS_NOT_SUPPORTED (0xc00000bb): NTLM is \
             blocked on the client (ClientBlocked) [MS-NLMP 3.1.5.1.1]"
        );
        assert_eq!(f.policy_value(), None);
    }

    fn two_bits_missing() -> Failure {
        Failure::minimum_security(
            Side::Server,
            Stage::Negotiate,
            &rules::MIN_128_SERVER,
            NegotiateFlags::from_bits_retain(0x2008_0000),
            NegotiateFlags::from_bits_retain(0x0281_8205),
            NegotiateFlags::from_bits_retain(0x2008_0000),
        )
    }

    #[test]
    fn short_forms_and_refusal() {
        let f = two_bits_missing();
        assert_eq!(f.short('/').to_string(), "S/neg");
        assert_eq!(f.short('\u{b7}').to_string(), "S\u{b7}neg");
        assert_eq!(f.code().to_string(), "Sn");
        let c = Failure::new(
            Side::Client,
            Stage::Challenge,
            &rules::CLIENT_BLOCKED,
            Detail::Blocked,
        );
        assert_eq!(c.short('/').to_string(), "C/chal");
        assert_eq!(c.code().to_string(), "Cc");
        assert_eq!(
            f.refusal().to_string(),
            "the server refuses on receipt of NEGOTIATE with SEC_E_UNSUPPORTED_FUNCTION \
             (0x80090302)"
        );
        assert_eq!(
            f.refusal().past().to_string(),
            "the server refused on receipt of NEGOTIATE with SEC_E_UNSUPPORTED_FUNCTION \
             (0x80090302)"
        );
    }

    #[test]
    fn summary_names_missing_bits_or_the_reason() {
        let f = two_bits_missing();
        assert_eq!(
            f.summary().to_string(),
            format!(
                "server refuses on receipt of NEGOTIATE: missing \
                 NEGOTIATE_EXTENDED_SESSIONSECURITY | NEGOTIATE_128 [{} MS-NLMP 3.2.5.1.1]",
                rules::MIN_128_SERVER.id
            )
        );
        let b = Failure::new(
            Side::Client,
            Stage::Negotiate,
            &rules::CLIENT_BLOCKED,
            Detail::Blocked,
        );
        assert_eq!(
            b.summary().to_string(),
            format!(
                "client refuses on receipt of NEGOTIATE: NTLM is blocked on the client \
                 (ClientBlocked) [{} MS-NLMP 3.1.5.1.1]",
                rules::CLIENT_BLOCKED.id
            )
        );
    }

    #[test]
    fn details_with_and_without_bits() {
        let f = two_bits_missing();
        let d = f.details().to_string();
        let r = &rules::MIN_128_SERVER;
        assert_eq!(
            d,
            format!(
                "FAILURE: the server refused on receipt of NEGOTIATE with \
                 SEC_E_UNSUPPORTED_FUNCTION (0x80090302)\n  reason:     {}\n  missing:    \
                 0x20080000 NEGOTIATE_EXTENDED_SESSIONSECURITY | NEGOTIATE_128\n  \
                 required:   0x20080000\n  negotiated: 0x02818205\n  rule:       {} ({})\n  \
                 source:     {} [{}]\n",
                f.reason(),
                r.id,
                r.statement,
                r.source,
                r.basis
            )
        );
        // Under a semantics, each of several missing bits gets its own line.
        let sem = Semantics::default();
        let under = f.details_under(&sem).to_string();
        let extra = under.strip_prefix(d.as_str()).unwrap_or("");
        assert!(
            extra.starts_with("  per missing bit:\n    0x00080000 "),
            "{extra}"
        );
        assert_eq!(extra.lines().count(), 3, "{extra}");
        // One missing bit: nothing is added.
        let mut one = f;
        one.missing = NegotiateFlags::from_bits_retain(0x2000_0000);
        assert_eq!(
            one.details_under(&sem).to_string(),
            one.details().to_string()
        );
        let b = Failure::new(
            Side::Client,
            Stage::Negotiate,
            &rules::CLIENT_BLOCKED,
            Detail::Blocked,
        );
        assert_eq!(b.details().to_string().lines().count(), 4);
    }

    #[test]
    fn status_override_and_notes() {
        let f = Failure::new(
            Side::Server,
            Stage::Authenticate,
            &rules::AUTH_MIC,
            Detail::Note("the MIC does not match"),
        )
        .with_status(Status::SecELogonDenied);
        assert_eq!(f.status, Status::SecELogonDenied);
        assert_eq!(f.reason().to_string(), "the MIC does not match");
        // A rule without a status falls back to a logon failure.
        let g = Failure::new(
            Side::Server,
            Stage::Authenticate,
            &rules::MIN_UNION,
            Detail::Note("x"),
        );
        assert_eq!(g.status, Status::StatusLogonFailure);
    }

    #[test]
    fn flag_names_joins_or_says_none() {
        assert_eq!(FlagNames(NegotiateFlags::empty()).to_string(), "none");
        assert_eq!(
            FlagNames(NegotiateFlags::NEGOTIATE_SIGN | NegotiateFlags::NEGOTIATE_SEAL).to_string(),
            "NEGOTIATE_SIGN | NEGOTIATE_SEAL"
        );
    }
}
