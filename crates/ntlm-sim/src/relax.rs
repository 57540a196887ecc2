//! Relaxed values: what removes a minimum-security failure. The refusing
//! side's configured value without the missing bits, which have the same
//! positions in NtlmMinClientSec/NtlmMinServerSec (KB239869: 0x10, 0x20,
//! 0x80000, 0x20000000, 0x80000000) as in the negotiate flags (MS-NLMP
//! 2.2.2.5: SIGN, SEAL, EXTENDED_SESSIONSECURITY, 128, 56). `interop`
//! simulates them ([`crate::interop::relaxed_checks`]); the HTML reports
//! say what to do with them.

use ntlm_policy::{Detail, Failure, Side, Stage};

/// What the two sides were asked for, to compute relaxed values.
#[derive(Debug, Clone, Copy, Default)]
pub struct Configured {
    /// NtlmMinClientSec as changed (`None`: not changed).
    pub client_min: Option<u32>,
    /// NtlmMinServerSec as changed (`None`: not changed).
    pub server_min: Option<u32>,
    /// Whether the change sets a value on the clients (NtlmMinClientSec or
    /// their LmCompatibilityLevel).
    pub clients_changed: bool,
    /// Whether the change sets a value on the servers.
    pub servers_changed: bool,
}

/// A cause of failure: refusing side, stage, rule, missing bits and the
/// kind of detail. Failures with the same cause have the same remedies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cause {
    side: Side,
    stage: Stage,
    rule: &'static str,
    missing: u32,
    detail: Detail,
}

impl Cause {
    /// The cause of `f`.
    pub const fn of(f: &Failure) -> Self {
        Self {
            side: f.side,
            stage: f.stage,
            rule: f.rule.id,
            missing: f.missing.bits(),
            detail: f.detail,
        }
    }
}

/// The value that removes a minimum-security failure: the refusing side's
/// configured value without the missing bits. `None` for other failures,
/// or when the side's value was not changed or lacks those bits.
pub fn relaxed_value(f: &Failure, configured: Configured) -> Option<(Side, u32)> {
    if f.detail != Detail::MinimumSecurity {
        return None;
    }
    let value = match f.side {
        Side::Server => configured.server_min,
        Side::Client => configured.client_min,
    }?;
    (value & f.missing.bits() != 0).then_some((f.side, value & !f.missing.bits()))
}

/// A relaxed value ([`relaxed_value`]) simulated on the connections of one
/// cause.
#[derive(Debug, Clone)]
pub struct Relaxed {
    /// The cause.
    pub cause: Cause,
    /// The relaxed value.
    pub value: u32,
    /// Connections simulated with it.
    pub checked: usize,
    /// Of those, the ones that work.
    pub works: usize,
    /// One that still fails, and how (`client → server: failure`).
    pub example: Option<String>,
}
