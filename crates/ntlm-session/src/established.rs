//! An established session: keys, session security and a report.

use core::fmt;

use ntlm_crypto::{ExportedSessionKey, Role, SessionSecurity};
use ntlm_wire::{NegotiateFlags, ResponseKind};

use crate::transcript::Transcript;

/// What was negotiated, for reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionReport {
    /// The negotiated flags (NegFlg): the AUTHENTICATE flags the server accepted.
    pub flags: NegotiateFlags,
    /// The response the client sent.
    pub response_kind: ResponseKind,
    /// Whether a MIC was sent (client) or verified (server).
    pub mic: bool,
    /// The server logged the client on as Guest (unknown user, guest fallback).
    pub guest: bool,
    /// UserName.
    pub user: String,
    /// DomainName.
    pub domain: String,
    /// Workstation.
    pub workstation: String,
}

impl SessionReport {
    /// The sealing-key strength in bits: 40, 56 or 128 (MS-NLMP 3.4.5.3).
    pub const fn key_strength_bits(&self) -> u16 {
        ntlm_policy::key_strength_bits(self.flags)
    }

    /// Whether messages are signed.
    pub const fn signing(&self) -> bool {
        self.flags.contains(NegotiateFlags::NEGOTIATE_SIGN)
    }

    /// Whether messages are sealed.
    pub const fn sealing(&self) -> bool {
        self.flags.contains(NegotiateFlags::NEGOTIATE_SEAL)
    }

    /// Whether this is an anonymous (null) session, which has no session
    /// security whatever SIGN and SEAL say (MS-NLMP 3.4).
    pub const fn anonymous(&self) -> bool {
        matches!(self.response_kind, ResponseKind::Anonymous)
    }

    /// Whether the session has real session security: not anonymous, not Guest
    /// (MS-NLMP 3.4: "no session security" for either).
    pub const fn secure(&self) -> bool {
        !self.anonymous() && !self.guest
    }
}

/// One side of an established NTLM session.
pub struct Established {
    /// Sign, verify, seal and unseal (MS-NLMP 3.4).
    pub security: SessionSecurity,
    /// What was negotiated.
    pub report: SessionReport,
    /// The messages exchanged.
    pub transcript: Transcript,
    exported_session_key: ExportedSessionKey,
}

impl Established {
    pub(crate) fn new(
        flags: NegotiateFlags,
        exported_session_key: ExportedSessionKey,
        role: Role,
        report: SessionReport,
        transcript: Transcript,
    ) -> Self {
        Self {
            security: SessionSecurity::new(flags, &exported_session_key, role),
            report,
            transcript,
            exported_session_key,
        }
    }

    /// The ExportedSessionKey (a secret: for GK-style key comparison with peers).
    pub fn exported_session_key(&self) -> &ExportedSessionKey {
        &self.exported_session_key
    }
}

impl fmt::Debug for Established {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Established")
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
}
