//! Warnings for settings that contradict each other or rest on unconfirmed behaviour.

use alloc::vec::Vec;
use core::fmt;

use crate::failure::Side;
use crate::lm::LmCompatibilityLevel;
use crate::mask::{MinSessionSecurity, PolicyValue};
use crate::source::Source;
use crate::status::Hex32;

/// How serious a warning is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Behaviour that rests on undocumented or unconfirmed points.
    Note,
    /// A setting that weakens security or is probably a mistake.
    Risk,
    /// Settings that make authentication fail.
    Conflict,
}

impl Severity {
    /// `note`, `risk` or `conflict`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Note => "note",
            Self::Risk => "risk",
            Self::Conflict => "conflict",
        }
    }
}

/// What a warning is about, with its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WarningKind {
    /// Bits outside the five documented ones.
    UnknownBits {
        /// The unknown bits.
        bits: u32,
    },
    /// 0x80000000 is set; KB239869 gives it no semantics.
    Bit56WithoutSemantics,
    /// 0x10 / 0x20 are set; only the XP/2003 UI offers them.
    Xp2003OnlyBits {
        /// The bits among 0x10 and 0x20 that are set.
        bits: u32,
    },
    /// 0x10 / 0x20 are met only if the application asks for integrity/confidentiality.
    SignSealNeedApplication {
        /// The bits among 0x10 and 0x20 that are set.
        bits: u32,
    },
    /// 0x80000 with LmCompatibilityLevel 0 (KB932461).
    EssWithLevel0,
    /// The client's responses are refused by the server's level.
    ResponsesRefused {
        /// The client's level.
        client: LmCompatibilityLevel,
        /// The server's level.
        server: LmCompatibilityLevel,
    },
    /// The client's LM response is refused, its NTLM response still accepted.
    LmResponseIgnored {
        /// The client's level.
        client: LmCompatibilityLevel,
        /// The server's level.
        server: LmCompatibilityLevel,
    },
    /// The client sends LM or NTLMv1 responses.
    WeakResponses {
        /// The client's level.
        level: LmCompatibilityLevel,
    },
}

/// One warning, with the side it concerns and its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Warning {
    /// The side whose setting is concerned (`None`: the mask alone, side unknown).
    pub side: Option<Side>,
    /// How serious it is.
    pub severity: Severity,
    /// What it is about.
    pub kind: WarningKind,
}

impl Warning {
    /// A stable identifier, e.g. `ess-with-level-0`.
    pub const fn id(&self) -> &'static str {
        match self.kind {
            WarningKind::UnknownBits { .. } => "unknown-bits",
            WarningKind::Bit56WithoutSemantics => "bit56-without-semantics",
            WarningKind::Xp2003OnlyBits { .. } => "xp2003-only-bits",
            WarningKind::SignSealNeedApplication { .. } => "sign-seal-need-application",
            WarningKind::EssWithLevel0 => "ess-with-level-0",
            WarningKind::ResponsesRefused { .. } => "responses-refused",
            WarningKind::LmResponseIgnored { .. } => "lm-response-ignored",
            WarningKind::WeakResponses { .. } => "weak-responses",
        }
    }

    /// Where the warning comes from.
    pub const fn source(&self) -> Source {
        match self.kind {
            WarningKind::UnknownBits { .. } | WarningKind::Bit56WithoutSemantics => {
                Source::Kb(239_869)
            }
            WarningKind::Xp2003OnlyBits { .. } => {
                Source::MsDoc("CCE-44861-3; Windows Server 2008 R2 policy reference (jj852240)")
            }
            WarningKind::SignSealNeedApplication { .. } => Source::MsNlmp("2.2.2.5"),
            WarningKind::EssWithLevel0 => Source::Kb(932_461),
            WarningKind::ResponsesRefused { .. } | WarningKind::LmResponseIgnored { .. } => {
                Source::MsNlmpBehavior(81)
            }
            WarningKind::WeakResponses { .. } => {
                Source::MsDoc("Network security: LAN Manager authentication level")
            }
        }
    }

    /// The message, produced lazily.
    pub const fn message(&self) -> Message<'_> {
        Message(self)
    }
}

impl fmt::Display for Warning {
    /// `severity: side: message [source]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.severity.name())?;
        if let Some(side) = self.side {
            write!(f, "{side}: ")?;
        }
        write!(f, "{} [{}]", self.message(), self.source())
    }
}

/// The text of a [`Warning`].
#[derive(Debug, Clone, Copy)]
pub struct Message<'a>(&'a Warning);

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self
            .0
            .side
            .map_or("the value", |s| PolicyValue::of(s).name());
        match self.0.kind {
            WarningKind::UnknownBits { bits } => write!(
                f,
                "{value} has bits {} outside the documented 0x10, 0x20, 0x80000, 0x20000000 and \
                 0x80000000; they are kept but never enforced",
                Hex32(bits)
            ),
            WarningKind::Bit56WithoutSemantics => write!(
                f,
                "{value} sets 0x80000000 (56-bit), which KB239869 lists without semantics; it is \
                 enforced as 'NEGOTIATE_56 must be negotiated' unless the semantics say \
                 bit56=ignore"
            ),
            WarningKind::Xp2003OnlyBits { bits } => write!(
                f,
                "{value} sets {} (message integrity/confidentiality), options only the Windows \
                 XP/Server 2003 UI offers; whether later Windows enforces them is unconfirmed",
                Hex32(bits)
            ),
            WarningKind::SignSealNeedApplication { bits } => write!(
                f,
                "{value} sets {}: a server returns SIGN/SEAL only when the client requested \
                 them, so this is met only when the application asks for \
                 integrity/confidentiality (or the client ORs its required bits in)",
                Hex32(bits)
            ),
            WarningKind::EssWithLevel0 => write!(
                f,
                "{value} requires NTLMv2 session security (0x80000) with LmCompatibilityLevel 0: \
                 KB932461 says the two settings conflict, and the policy text says level 0 \
                 never uses NTLMv2 session security (public XP messages show level 0 requesting \
                 it; semantics switch level0-ess)"
            ),
            WarningKind::ResponsesRefused { client, server } => write!(
                f,
                "a client at LmCompatibilityLevel {} sends NTLMv1 or NTLM2 session responses, \
                 which a server at level {} refuses: authentication fails",
                client.level(),
                server.level()
            ),
            WarningKind::LmResponseIgnored { client, server } => write!(
                f,
                "a client at LmCompatibilityLevel {} also sends an LM response, which a server at \
                 level {} refuses; the NTLMv1 response is still accepted",
                client.level(),
                server.level()
            ),
            WarningKind::WeakResponses { level } => write!(
                f,
                "LmCompatibilityLevel {} sends {} responses, which can be downgraded or cracked; \
                 level 3 or higher sends NTLMv2 only",
                level.level(),
                if level.level() < 2 {
                    "LM and NTLMv1"
                } else {
                    "NTLMv1"
                }
            ),
        }
    }
}

/// Warnings about one mask on its own; `side` names whose value it is, if known.
pub fn mask_warnings(mask: MinSessionSecurity, side: Option<Side>) -> Vec<Warning> {
    let mut out = Vec::new();
    let mut push = |severity, kind| {
        out.push(Warning {
            side,
            severity,
            kind,
        });
    };
    if mask.unknown_bits() != 0 {
        push(
            Severity::Risk,
            WarningKind::UnknownBits {
                bits: mask.unknown_bits(),
            },
        );
    }
    if mask.contains(MinSessionSecurity::ENCRYPTION_56) {
        push(Severity::Note, WarningKind::Bit56WithoutSemantics);
    }
    let sign_seal = mask.bits() & 0x30;
    if sign_seal != 0 {
        push(
            Severity::Note,
            WarningKind::Xp2003OnlyBits { bits: sign_seal },
        );
        push(
            Severity::Note,
            WarningKind::SignSealNeedApplication { bits: sign_seal },
        );
    }
    out
}

/// Warnings for a pair of settings: each mask's own warnings, then the
/// contradictions between masks and LmCompatibilityLevels (`None`: level unknown).
pub fn warnings(
    client_min: MinSessionSecurity,
    server_min: MinSessionSecurity,
    client_lm: Option<LmCompatibilityLevel>,
    server_lm: Option<LmCompatibilityLevel>,
) -> Vec<Warning> {
    let mut out = mask_warnings(client_min, Some(Side::Client));
    out.extend(mask_warnings(server_min, Some(Side::Server)));
    let ess = MinSessionSecurity::NTLMV2_SESSION_SECURITY;
    for (side, min, lm) in [
        (Side::Client, client_min, client_lm),
        (Side::Server, server_min, server_lm),
    ] {
        if min.contains(ess) && lm == Some(LmCompatibilityLevel::L0) {
            out.push(Warning {
                side: Some(side),
                severity: Severity::Conflict,
                kind: WarningKind::EssWithLevel0,
            });
        }
    }
    if let Some(client) = client_lm {
        if !client.sends_ntlmv2() {
            out.push(Warning {
                side: Some(Side::Client),
                severity: Severity::Risk,
                kind: WarningKind::WeakResponses { level: client },
            });
        }
        if let Some(server) = server_lm {
            if server == LmCompatibilityLevel::L5 && !client.sends_ntlmv2() {
                out.push(Warning {
                    side: Some(Side::Server),
                    severity: Severity::Conflict,
                    kind: WarningKind::ResponsesRefused { client, server },
                });
            } else if server == LmCompatibilityLevel::L4 && client <= LmCompatibilityLevel::L1 {
                out.push(Warning {
                    side: Some(Side::Server),
                    severity: Severity::Note,
                    kind: WarningKind::LmResponseIgnored { client, server },
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(w: &[Warning]) -> Vec<&'static str> {
        w.iter().map(Warning::id).collect()
    }

    #[test]
    fn baseline_has_no_warnings() {
        assert!(
            warnings(
                MinSessionSecurity::BASELINE,
                MinSessionSecurity::BASELINE,
                Some(LmCompatibilityLevel::L5),
                Some(LmCompatibilityLevel::L5)
            )
            .is_empty()
        );
    }

    #[test]
    fn ess_with_level_0_is_a_conflict_citing_kb932461() {
        let w = warnings(
            MinSessionSecurity::BASELINE,
            MinSessionSecurity::NONE,
            Some(LmCompatibilityLevel::L0),
            None,
        );
        assert_eq!(ids(&w), ["ess-with-level-0", "weak-responses"]);
        assert_eq!(w[0].severity, Severity::Conflict);
        assert_eq!(w[0].side, Some(Side::Client));
        let text = w[0].to_string();
        assert!(
            text.starts_with("conflict: client: NtlmMinClientSec requires"),
            "{text}"
        );
        assert!(text.ends_with("[KB932461]"), "{text}");
    }

    #[test]
    fn mask_bits_warnings() {
        let w = mask_warnings(MinSessionSecurity::from_registry(0xA008_0031), None);
        assert_eq!(
            ids(&w),
            [
                "unknown-bits",
                "bit56-without-semantics",
                "xp2003-only-bits",
                "sign-seal-need-application"
            ]
        );
        assert!(w[0].to_string().contains("0x00000001"));
        assert!(w[0].to_string().contains("the value has bits"));
        assert!(w[2].to_string().contains("0x00000030"));
    }

    #[test]
    fn lm_level_pairs() {
        let w = warnings(
            MinSessionSecurity::NONE,
            MinSessionSecurity::NONE,
            Some(LmCompatibilityLevel::L2),
            Some(LmCompatibilityLevel::L5),
        );
        assert_eq!(ids(&w), ["weak-responses", "responses-refused"]);
        assert_eq!(w[1].severity, Severity::Conflict);
        assert!(w[1].to_string().contains("LmCompatibilityLevel 2"));
        assert!(w[1].to_string().contains("server at level 5"));
        let w = warnings(
            MinSessionSecurity::NONE,
            MinSessionSecurity::NONE,
            Some(LmCompatibilityLevel::L1),
            Some(LmCompatibilityLevel::L4),
        );
        assert_eq!(ids(&w), ["weak-responses", "lm-response-ignored"]);
        let w = warnings(
            MinSessionSecurity::NONE,
            MinSessionSecurity::NONE,
            Some(LmCompatibilityLevel::L3),
            Some(LmCompatibilityLevel::L5),
        );
        assert!(w.is_empty());
    }
}
