//! Enforcement at the three points MS-NLMP names, and the flags-only exchange.
//!
//! ```text
//! client                                   server
//!   ClientBlocked? -> STATUS_NOT_SUPPORTED
//!   NEGOTIATE  ------------------------->  ServerBlock? charset? NtlmMinServerSec vs
//!                                          the CHALLENGE it would send (3.2.5.1.1)
//!   charset? NtlmMinClientSec vs  <------  CHALLENGE
//!   the CHALLENGE flags (3.1.5.1.2)
//!   AUTHENTICATE ----------------------->  flags beyond the CHALLENGE? NtlmMinServerSec
//!                                          vs the AUTHENTICATE flags (3.2.5.1.2);
//!                                          LmCompatibilityLevel accepts the response?
//! ```
//!
//! Each side enforces only its own value (rule `min-union`).

use ntlm_wire::{NegotiateFlags as F, ResponseKind};

use crate::failure::{Detail, Failure, Side, Stage};
use crate::mask::MinSessionSecurity;
use crate::negotiate::{
    self, ClientConfig, NEGOTIABLE, OsGeneration, ServerConfig, authenticate_flags,
    challenge_flags, negotiate_flags,
};
use crate::rules::{self, Rule};
use crate::semantics::{AuthenticateExtra, Bit56, Enforce, EssMeaning, Rule128, Semantics};

/// The flags a side's mask requires, after the semantics switches:
/// `enforce = os-generation` drops 0x10/0x20 for post-2003 peers,
/// `bit56 = ignore` drops 0x80000000. Unknown bits are never required.
pub const fn enforced_requirement(
    min: MinSessionSecurity,
    os: OsGeneration,
    semantics: &Semantics,
) -> F {
    let mut r = min.required_flags();
    if let Enforce::OsGeneration = semantics.enforce {
        if os.post_2003() {
            r = r.difference(F::NEGOTIATE_SIGN.union(F::NEGOTIATE_SEAL));
        }
    }
    if let Bit56::Ignore = semantics.bit56 {
        r = r.difference(F::NEGOTIATE_56);
    }
    r
}

/// The effective requirement of a connection: the union of both sides'
/// known bits (rule `min-union`). Each side still enforces only its own.
pub const fn effective_requirement(
    client_min: MinSessionSecurity,
    server_min: MinSessionSecurity,
) -> F {
    client_min.union(server_min).required_flags()
}

/// The required bits `flags` leave unsatisfied.
///
/// `ntlmv2`: whether NTLMv2 authentication is used; `None` when the checking
/// side cannot know yet (a server on NEGOTIATE), in which case
/// `ess = flag-or-ntlmv2` defers the 0x80000 check to AUTHENTICATE.
pub const fn unsatisfied(required: F, flags: F, ntlmv2: Option<bool>, semantics: &Semantics) -> F {
    let assume_ess =
        matches!(semantics.ess, EssMeaning::FlagOrNtlmV2) && !matches!(ntlmv2, Some(false));
    let kb128 = matches!(semantics.rule_128, Rule128::Kb239869);
    required.difference(granted(flags, assume_ess, kb128))
}

/// The flags that count as negotiated for a mask: `flags`, plus ESS when it
/// is assumed (`ess = flag-or-ntlmv2` with NTLMv2, or not yet known), plus
/// 128 under the KB239869 reading when SEAL is not negotiated.
const fn granted(flags: F, assume_ess: bool, kb128: bool) -> F {
    let mut have = flags;
    if assume_ess {
        have = have.union(F::NEGOTIATE_EXTENDED_SESSIONSECURITY);
    }
    if kb128 && !flags.contains(F::NEGOTIATE_SEAL) {
        have = have.union(F::NEGOTIATE_128);
    }
    have
}

/// The rule a minimum-security failure cites.
const fn min_rule(side: Side, stage: Stage, missing: F, semantics: &Semantics) -> &'static Rule {
    if missing.contains(F::NEGOTIATE_128) {
        if let Rule128::Kb239869 = semantics.rule_128 {
            return &rules::MIN_128_KB239869;
        }
    }
    match (side, stage) {
        (Side::Server, Stage::Authenticate) => &rules::MIN_SERVER_AUTHENTICATE,
        _ if missing.contains(F::NEGOTIATE_128) => match side {
            Side::Client => &rules::MIN_128_CLIENT,
            Side::Server => &rules::MIN_128_SERVER,
        },
        _ if missing.bits() == F::NEGOTIATE_56.bits() => &rules::MIN_56,
        _ if missing.bits() == F::NEGOTIATE_EXTENDED_SESSIONSECURITY.bits()
            && matches!(semantics.ess, EssMeaning::FlagOrNtlmV2) =>
        {
            &rules::MIN_ESS_NTLMV2
        }
        (Side::Client, _) => &rules::MIN_FLAGS_CLIENT,
        (Side::Server, _) => &rules::MIN_FLAGS_SERVER,
    }
}

/// The rule behind one missing minimum-security bit, as `side` enforces it
/// under `semantics`: `min-128-client`/`min-128-server` (or
/// `min-128-kb239869`), `min-56`, `min-ess-ntlmv2` for 0x80000 under
/// `ess = flag-or-ntlmv2`, `min-flags-client`/`min-flags-server` otherwise.
pub const fn bit_rule(side: Side, bit: F, semantics: &Semantics) -> &'static Rule {
    if bit.contains(F::NEGOTIATE_128) {
        return match (semantics.rule_128, side) {
            (Rule128::Kb239869, _) => &rules::MIN_128_KB239869,
            (Rule128::Strict, Side::Client) => &rules::MIN_128_CLIENT,
            (Rule128::Strict, Side::Server) => &rules::MIN_128_SERVER,
        };
    }
    if bit.contains(F::NEGOTIATE_56) {
        return &rules::MIN_56;
    }
    if bit.contains(F::NEGOTIATE_EXTENDED_SESSIONSECURITY)
        && matches!(semantics.ess, EssMeaning::FlagOrNtlmV2)
    {
        return &rules::MIN_ESS_NTLMV2;
    }
    match side {
        Side::Client => &rules::MIN_FLAGS_CLIENT,
        Side::Server => &rules::MIN_FLAGS_SERVER,
    }
}

/// Each missing bit of a minimum-security failure with its own rule
/// ([`bit_rule`]), lowest bit first; empty for other failures.
pub fn bit_rules(
    failure: &Failure,
    semantics: &Semantics,
) -> impl Iterator<Item = (F, &'static Rule)> {
    let side = failure.side;
    let sem = *semantics;
    let missing = match failure.detail {
        Detail::MinimumSecurity => failure.missing,
        _ => F::empty(),
    };
    (0..32u32)
        .map(|i| F::from_bits_retain(1u32 << i))
        .filter(move |b| missing.contains(*b))
        .map(move |b| (b, bit_rule(side, b, &sem)))
}

const fn min_failure(
    side: Side,
    stage: Stage,
    required: F,
    flags: F,
    missing: F,
    semantics: &Semantics,
) -> Failure {
    Failure::minimum_security(
        side,
        stage,
        min_rule(side, stage, missing, semantics),
        required,
        flags,
        missing,
    )
}

const fn check_min(
    side: Side,
    stage: Stage,
    min: MinSessionSecurity,
    os: OsGeneration,
    flags: F,
    ntlmv2: Option<bool>,
    semantics: &Semantics,
) -> Result<(), Failure> {
    let required = enforced_requirement(min, os, semantics);
    let missing = unsatisfied(required, flags, ntlmv2, semantics);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(min_failure(
            side, stage, required, flags, missing, semantics,
        ))
    }
}

/// The client's checks on receipt of a CHALLENGE (MS-NLMP 3.1.5.1.2), flags only:
/// a charset must be selected (`client-charset`), then NtlmMinClientSec must be
/// met by the CHALLENGE flags (`min-128-client`, `min-flags-client`, ...).
pub const fn check_client_challenge(
    challenge: F,
    client: &ClientConfig,
    client_min: MinSessionSecurity,
    semantics: &Semantics,
) -> Result<(), Failure> {
    if !challenge.intersects(F::NEGOTIATE_UNICODE.union(F::NEGOTIATE_OEM)) {
        let f = Failure::new(
            Side::Client,
            Stage::Challenge,
            &rules::CLIENT_CHARSET,
            Detail::Charset,
        );
        return Err(f.with_negotiated(challenge));
    }
    check_min(
        Side::Client,
        Stage::Challenge,
        client_min,
        client.os,
        challenge,
        Some(client.effective_lm_level().sends_ntlmv2()),
        semantics,
    )
}

/// The client's TargetInfo check (MS-NLMP 3.1.5.1.2, `client-ntlmv2-target-info`):
/// an NTLMv2 client that wants integrity or confidentiality needs
/// MsvAvNbComputerName and MsvAvNbDomainName in the CHALLENGE TargetInfo.
pub const fn check_client_target_info(
    client: &ClientConfig,
    has_netbios_names: bool,
) -> Result<(), Failure> {
    if client.effective_lm_level().sends_ntlmv2()
        && (client.integrity || client.confidentiality)
        && !has_netbios_names
    {
        Err(Failure::new(
            Side::Client,
            Stage::Challenge,
            &rules::CLIENT_NTLMV2_TARGET_INFO,
            Detail::TargetInfoNames,
        ))
    } else {
        Ok(())
    }
}

/// Everything a client decides from the CHALLENGE flags: [`check_client_challenge`],
/// then [`check_client_target_info`] assuming a server that sets TARGET_INFO
/// sends its NetBIOS names (MS-NLMP 3.2.5.1.1). Returns the AUTHENTICATE flags.
pub const fn client_on_challenge(
    challenge: F,
    client: &ClientConfig,
    client_min: MinSessionSecurity,
    semantics: &Semantics,
) -> Result<F, Failure> {
    if let Err(f) = check_client_challenge(challenge, client, client_min, semantics) {
        return Err(f);
    }
    if let Err(f) = check_client_target_info(client, challenge.contains(F::NEGOTIATE_TARGET_INFO)) {
        return Err(f.with_negotiated(challenge));
    }
    Ok(authenticate_flags(challenge))
}

/// The server's minimum-security check on receipt of NEGOTIATE (MS-NLMP
/// 3.2.5.1.1): NtlmMinServerSec against the CHALLENGE flags it would send.
/// Under `ess = flag-or-ntlmv2` the 0x80000 check waits for AUTHENTICATE.
pub const fn check_server_negotiate(
    challenge: F,
    server: &ServerConfig,
    server_min: MinSessionSecurity,
    semantics: &Semantics,
) -> Result<(), Failure> {
    check_min(
        Side::Server,
        Stage::Negotiate,
        server_min,
        server.os,
        challenge,
        None,
        semantics,
    )
}

/// ServerBlock (MS-NLMP 3.2.1.1): the server refuses NTLM at this stage.
const fn server_blocked(stage: Stage, flags: F) -> Failure {
    Failure::new(Side::Server, stage, &rules::SERVER_BLOCKED, Detail::Blocked)
        .with_negotiated(flags)
}

/// Everything a server decides on receipt of NEGOTIATE, in the order of
/// MS-NLMP 3.2.5.1.1: ServerBlock (`server-blocked`), the CHALLENGE flags
/// ([`challenge_flags`], charset included), then [`check_server_negotiate`].
/// Returns the CHALLENGE flags to send.
pub const fn server_on_negotiate(
    negotiate: F,
    server: &ServerConfig,
    server_min: MinSessionSecurity,
    semantics: &Semantics,
) -> Result<F, Failure> {
    if server.blocked {
        return Err(server_blocked(Stage::Negotiate, negotiate));
    }
    let challenge = match challenge_flags(negotiate, server, semantics) {
        Ok(c) => c,
        Err(f) => return Err(f),
    };
    match check_server_negotiate(challenge, server, server_min, semantics) {
        Ok(()) => Ok(challenge),
        Err(f) => Err(f),
    }
}

/// The server's flag checks on receipt of AUTHENTICATE (MS-NLMP 3.2.5.1.2):
/// session-security flags the CHALLENGE did not return are refused with
/// SEC_E_INVALID_TOKEN (`auth-flags-subset`) or dropped
/// (`authenticate-extra = intersect`), then NtlmMinServerSec is checked again
/// against the AUTHENTICATE flags (`min-server-authenticate`). Returns the
/// effective negotiated flags.
pub const fn check_server_authenticate(
    challenge: F,
    authenticate: F,
    response: ResponseKind,
    server: &ServerConfig,
    server_min: MinSessionSecurity,
    semantics: &Semantics,
) -> Result<F, Failure> {
    let extra = authenticate.difference(challenge).intersection(NEGOTIABLE);
    let effective = if extra.is_empty() {
        authenticate
    } else {
        match semantics.authenticate_extra {
            AuthenticateExtra::Reject => {
                let mut f = Failure::new(
                    Side::Server,
                    Stage::Authenticate,
                    &rules::AUTH_FLAGS_SUBSET,
                    Detail::UnexpectedFlags,
                );
                f.required = challenge;
                f.negotiated = authenticate;
                f.unexpected = extra;
                return Err(f);
            }
            AuthenticateExtra::Intersect => authenticate.difference(extra),
        }
    };
    let ntlmv2 = matches!(response, ResponseKind::NtlmV2);
    match check_min(
        Side::Server,
        Stage::Authenticate,
        server_min,
        server.os,
        effective,
        Some(ntlmv2),
        semantics,
    ) {
        Ok(()) => Ok(effective),
        Err(f) => Err(f),
    }
}

/// Whether the server's LmCompatibilityLevel accepts the response
/// (`lm-refuse-lm` at 4 and 5, `lm-refuse-ntlmv1` at 5; checked
/// after the flag checks, before the response is verified), and whether the
/// server can verify that kind of response at all (`auth-cannot-verify`).
pub const fn check_response_accepted(
    response: ResponseKind,
    server: &ServerConfig,
) -> Result<(), Failure> {
    let level = server.lm_level;
    if level.accepts(response) {
        if server.verifies.verifies(response) {
            return Ok(());
        }
        return Err(Failure::new(
            Side::Server,
            Stage::Authenticate,
            &rules::AUTH_CANNOT_VERIFY,
            Detail::ResponseUnverifiable { kind: response },
        ));
    }
    let rule = match response {
        ResponseKind::Lm => &rules::LM_REFUSE_LM,
        _ => &rules::LM_REFUSE_NTLMV1,
    };
    Err(Failure::new(
        Side::Server,
        Stage::Authenticate,
        rule,
        Detail::ResponseRefused {
            kind: response,
            level,
        },
    ))
}

/// Everything a server decides from the AUTHENTICATE flags and response kind:
/// ServerBlock, [`check_server_authenticate`], [`check_response_accepted`].
/// Returns the effective negotiated flags.
pub const fn server_on_authenticate(
    challenge: F,
    authenticate: F,
    response: ResponseKind,
    server: &ServerConfig,
    server_min: MinSessionSecurity,
    semantics: &Semantics,
) -> Result<F, Failure> {
    if server.blocked {
        return Err(server_blocked(Stage::Authenticate, authenticate));
    }
    let effective = match check_server_authenticate(
        challenge,
        authenticate,
        response,
        server,
        server_min,
        semantics,
    ) {
        Ok(e) => e,
        Err(f) => return Err(f),
    };
    match check_response_accepted(response, server) {
        Ok(()) => {}
        Err(f) => return Err(f.with_negotiated(effective)),
    }
    match check_ntlmv1_removed_server(response, server, semantics) {
        Ok(()) => Ok(effective),
        Err(f) => Err(f.with_negotiated(effective)),
    }
}

/// A Windows 11 24H2 / Server 2025 server (`ntlmv1_removed`) under
/// `ntlmv1-server = refuses` refuses LM, NTLMv1 and NTLM2 session responses
/// (rule `ntlmv1-removed-server`, UNCONFIRMED).
pub const fn check_ntlmv1_removed_server(
    response: ResponseKind,
    server: &ServerConfig,
    semantics: &Semantics,
) -> Result<(), Failure> {
    let refuses = server.ntlmv1_removed
        && matches!(
            semantics.ntlmv1_server,
            crate::semantics::Ntlmv1Server::Refuses
        );
    if refuses
        && matches!(
            response,
            ResponseKind::Lm | ResponseKind::NtlmV1 | ResponseKind::Ntlm2Session
        )
    {
        Err(Failure::new(
            Side::Server,
            Stage::Authenticate,
            &rules::NTLMV1_REMOVED_SERVER,
            Detail::Note(
                "the server is Windows 11 24H2 / Server 2025 and refuses LM and NTLMv1 responses \
                 (ntlmv1-server=refuses)",
            ),
        ))
    } else {
        Ok(())
    }
}

/// The flags of a successful flags-only exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Negotiated {
    /// The NEGOTIATE flags the client sent.
    pub negotiate: F,
    /// The CHALLENGE flags the server sent.
    pub challenge: F,
    /// The AUTHENTICATE flags the client sent.
    pub authenticate: F,
    /// The final negotiated flags (NegFlg) the server accepted.
    pub flags: F,
    /// The response the client sent.
    pub response: ResponseKind,
}

impl Negotiated {
    /// The sealing-key strength, 40, 56 or 128 (MS-NLMP 3.4.5.3).
    pub const fn key_strength_bits(&self) -> u16 {
        negotiate::key_strength_bits(self.flags)
    }

    /// Whether messages are signed (SIGN negotiated).
    pub const fn signing(&self) -> bool {
        self.flags.contains(F::NEGOTIATE_SIGN)
    }

    /// Whether messages are sealed (SEAL negotiated).
    pub const fn sealing(&self) -> bool {
        self.flags.contains(F::NEGOTIATE_SEAL)
    }
}

/// The result of a flags-only exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Both sides accepted.
    Success(Negotiated),
    /// One side refused.
    Failure(Failure),
}

impl Outcome {
    /// Whether the exchange succeeded.
    pub const fn is_success(&self) -> bool {
        matches!(self, Self::Success(_))
    }

    /// The failure, if any.
    pub const fn failure(&self) -> Option<&Failure> {
        match self {
            Self::Failure(f) => Some(f),
            Self::Success(_) => None,
        }
    }

    /// The negotiated flags, if the exchange succeeded.
    pub const fn negotiated(&self) -> Option<&Negotiated> {
        match self {
            Self::Success(n) => Some(n),
            Self::Failure(_) => None,
        }
    }

    /// As a `Result`.
    pub const fn into_result(self) -> Result<Negotiated, Failure> {
        match self {
            Self::Success(n) => Ok(n),
            Self::Failure(f) => Err(f),
        }
    }
}

/// A whole exchange decided from flags alone: the policy-impact matrix's hot path.
///
/// ClientBlocked, the client's NEGOTIATE ([`negotiate_flags`]), the server on
/// NEGOTIATE ([`server_on_negotiate`]), the client on CHALLENGE
/// ([`client_on_challenge`]), the AUTHENTICATE flags and the response the
/// client's LmCompatibilityLevel sends, the server on AUTHENTICATE
/// ([`server_on_authenticate`]). Credentials, AV pairs and the MIC are not
/// modelled: the client is assumed to know the password and to build a
/// well-formed AUTHENTICATE. No allocation on any path.
pub const fn negotiate_only(
    client: &ClientConfig,
    server: &ServerConfig,
    client_min: MinSessionSecurity,
    server_min: MinSessionSecurity,
    semantics: &Semantics,
) -> Outcome {
    if client.blocked {
        return Outcome::Failure(Failure::new(
            Side::Client,
            Stage::Negotiate,
            &rules::CLIENT_BLOCKED,
            Detail::Blocked,
        ));
    }
    // The steps of `negotiate_stepwise`, with the semantics read once and
    // without the steps that cannot fail here: `authenticate_flags` never
    // adds a flag to the CHALLENGE's, and the minimum-security bits (SIGN,
    // SEAL, ESS, 128, 56) are the same in both, so the server's second mask
    // check can only differ when `ess = flag-or-ntlmv2` deferred 0x80000.
    // A property test checks both functions agree on every input.
    let ess_deferred = matches!(semantics.ess, EssMeaning::FlagOrNtlmV2);
    let kb128 = matches!(semantics.rule_128, Rule128::Kb239869);
    let server_required = enforced_requirement(server_min, server.os, semantics);

    let negotiate = negotiate_flags(client, client_min, semantics);
    if server.blocked {
        return Outcome::Failure(server_blocked(Stage::Negotiate, negotiate));
    }
    let challenge = match challenge_flags(negotiate, server, semantics) {
        Ok(c) => c,
        Err(f) => return Outcome::Failure(f),
    };
    let missing = server_required.difference(granted(challenge, ess_deferred, kb128));
    if !missing.is_empty() {
        return Outcome::Failure(min_failure(
            Side::Server,
            Stage::Negotiate,
            server_required,
            challenge,
            missing,
            semantics,
        ));
    }

    if !challenge.intersects(F::NEGOTIATE_UNICODE.union(F::NEGOTIATE_OEM)) {
        let f = Failure::new(
            Side::Client,
            Stage::Challenge,
            &rules::CLIENT_CHARSET,
            Detail::Charset,
        );
        return Outcome::Failure(f.with_negotiated(challenge));
    }
    let client_required = enforced_requirement(client_min, client.os, semantics);
    let ntlmv2 = client.effective_lm_level().sends_ntlmv2();
    let missing = client_required.difference(granted(challenge, ess_deferred && ntlmv2, kb128));
    if !missing.is_empty() {
        return Outcome::Failure(min_failure(
            Side::Client,
            Stage::Challenge,
            client_required,
            challenge,
            missing,
            semantics,
        ));
    }
    if let Err(f) = check_client_target_info(client, challenge.contains(F::NEGOTIATE_TARGET_INFO)) {
        return Outcome::Failure(f.with_negotiated(challenge));
    }

    let authenticate = authenticate_flags(challenge);
    let response = client
        .effective_lm_level()
        .client_response(authenticate, semantics.level0_ess);
    if ess_deferred && !ntlmv2 {
        let missing = server_required.difference(granted(authenticate, false, kb128));
        if !missing.is_empty() {
            return Outcome::Failure(min_failure(
                Side::Server,
                Stage::Authenticate,
                server_required,
                authenticate,
                missing,
                semantics,
            ));
        }
    }
    if let Err(f) = check_response_accepted(response, server) {
        return Outcome::Failure(f.with_negotiated(authenticate));
    }
    match check_ntlmv1_removed_server(response, server, semantics) {
        Ok(()) => Outcome::Success(Negotiated {
            negotiate,
            challenge,
            authenticate,
            flags: authenticate,
            response,
        }),
        Err(f) => Outcome::Failure(f.with_negotiated(authenticate)),
    }
}

/// [`negotiate_only`] written as the plain composition of the per-message
/// steps, without its shortcuts. Slower; the two agree on every input
/// (checked by a property test), which is what justifies the shortcuts.
pub const fn negotiate_stepwise(
    client: &ClientConfig,
    server: &ServerConfig,
    client_min: MinSessionSecurity,
    server_min: MinSessionSecurity,
    semantics: &Semantics,
) -> Outcome {
    if client.blocked {
        return Outcome::Failure(Failure::new(
            Side::Client,
            Stage::Negotiate,
            &rules::CLIENT_BLOCKED,
            Detail::Blocked,
        ));
    }
    let negotiate = negotiate_flags(client, client_min, semantics);
    let challenge = match server_on_negotiate(negotiate, server, server_min, semantics) {
        Ok(c) => c,
        Err(f) => return Outcome::Failure(f),
    };
    let authenticate = match client_on_challenge(challenge, client, client_min, semantics) {
        Ok(a) => a,
        Err(f) => return Outcome::Failure(f),
    };
    let response = client
        .effective_lm_level()
        .client_response(authenticate, semantics.level0_ess);
    match server_on_authenticate(
        challenge,
        authenticate,
        response,
        server,
        server_min,
        semantics,
    ) {
        Ok(flags) => Outcome::Success(Negotiated {
            negotiate,
            challenge,
            authenticate,
            flags,
            response,
        }),
        Err(f) => Outcome::Failure(f),
    }
}

/// Checks flags pasted from an event log or a capture against both minimums
/// (`ntlmsim policy check`), minimum security only.
///
/// The flags are taken as both the CHALLENGE and the AUTHENTICATE flags, and
/// the checks run in exchange order, so the first failure is reported as it
/// would happen: the server's check on NEGOTIATE (side server, stage
/// negotiate), then the client's on CHALLENGE (side client, stage challenge),
/// then the server's on AUTHENTICATE (only reachable when
/// `ess = flag-or-ntlmv2` deferred the 0x80000 check). The peers' generation
/// is unknown, so `enforce = os-generation` removes nothing; without a
/// response kind, NTLMv2 is not assumed.
pub const fn check_negotiated(
    negotiated: F,
    client_min: MinSessionSecurity,
    server_min: MinSessionSecurity,
    semantics: &Semantics,
) -> Result<(), Failure> {
    check_negotiated_response(negotiated, None, client_min, server_min, semantics)
}

/// [`check_negotiated`] when the response kind is known too (it matters for
/// `ess = flag-or-ntlmv2`).
pub const fn check_negotiated_response(
    negotiated: F,
    response: Option<ResponseKind>,
    client_min: MinSessionSecurity,
    server_min: MinSessionSecurity,
    semantics: &Semantics,
) -> Result<(), Failure> {
    let os = OsGeneration::Unspecified;
    let ntlmv2 = matches!(response, Some(ResponseKind::NtlmV2));
    if let Err(f) = check_min(
        Side::Server,
        Stage::Negotiate,
        server_min,
        os,
        negotiated,
        None,
        semantics,
    ) {
        return Err(f);
    }
    if let Err(f) = check_min(
        Side::Client,
        Stage::Challenge,
        client_min,
        os,
        negotiated,
        Some(ntlmv2),
        semantics,
    ) {
        return Err(f);
    }
    check_min(
        Side::Server,
        Stage::Authenticate,
        server_min,
        os,
        negotiated,
        Some(ntlmv2),
        semantics,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsatisfied_follows_the_switches() {
        let sem = Semantics::MS_NLMP;
        let kb = Semantics::by_name("kb239869").unwrap();
        let samba = Semantics::by_name("samba").unwrap();
        let req = F::NEGOTIATE_128 | F::NEGOTIATE_EXTENDED_SESSIONSECURITY;
        let sign_only = F::NEGOTIATE_SIGN;
        assert_eq!(unsatisfied(req, sign_only, Some(false), &sem), req);
        assert_eq!(
            unsatisfied(req, sign_only, Some(false), &kb),
            F::NEGOTIATE_EXTENDED_SESSIONSECURITY
        );
        assert_eq!(
            unsatisfied(req, sign_only | F::NEGOTIATE_SEAL, Some(false), &kb),
            req
        );
        assert_eq!(
            unsatisfied(req, sign_only, Some(true), &samba),
            F::NEGOTIATE_128
        );
        assert_eq!(unsatisfied(req, sign_only, None, &samba), F::NEGOTIATE_128);
        assert_eq!(unsatisfied(req, sign_only, Some(false), &samba), req);
    }

    #[test]
    fn each_missing_bit_has_its_own_rule() {
        let f = check_negotiated(
            F::from_bits_retain(0x0000_8215),
            MinSessionSecurity::NONE,
            MinSessionSecurity::from_registry(0xA008_0020),
            &Semantics::MS_NLMP,
        )
        .unwrap_err();
        let sem = Semantics {
            rule_128: Rule128::Strict,
            ess: EssMeaning::Flag,
            bit56: Bit56::Enforce,
            ..Semantics::MS_NLMP
        };
        let ids: Vec<(u32, &str)> = bit_rules(&f, &sem).map(|(b, r)| (b.bits(), r.id)).collect();
        assert_eq!(
            ids,
            [
                (0x20, "min-flags-server"),
                (0x0008_0000, "min-flags-server"),
                (0x2000_0000, "min-128-server"),
                (0x8000_0000, "min-56"),
            ]
        );
        let samba = Semantics::by_name("lenient").unwrap();
        assert_eq!(
            bit_rule(Side::Client, F::NEGOTIATE_EXTENDED_SESSIONSECURITY, &samba).id,
            "min-ess-ntlmv2"
        );
        assert_eq!(
            bit_rule(Side::Client, F::NEGOTIATE_128, &samba).id,
            "min-128-kb239869"
        );
        let charset = Failure::new(
            Side::Client,
            Stage::Challenge,
            &rules::CLIENT_CHARSET,
            Detail::Charset,
        );
        assert_eq!(bit_rules(&charset, &sem).count(), 0);
    }

    #[test]
    fn enforced_requirement_follows_the_switches() {
        let m = MinSessionSecurity::from_registry(0xA008_0031);
        let sem = Semantics::default();
        assert_eq!(
            enforced_requirement(m, OsGeneration::Windows7Plus, &sem).bits(),
            0xA008_0030
        );
        let osg = Semantics::by_name("os-generation").unwrap();
        assert_eq!(
            enforced_requirement(m, OsGeneration::Windows7Plus, &osg).bits(),
            0xA008_0000
        );
        assert_eq!(
            enforced_requirement(m, OsGeneration::XpServer2003, &osg).bits(),
            0xA008_0030
        );
        let lenient = Semantics::by_name("lenient").unwrap();
        assert_eq!(
            enforced_requirement(m, OsGeneration::Windows7Plus, &lenient).bits(),
            0x2008_0000
        );
        assert_eq!(
            effective_requirement(
                MinSessionSecurity::ENCRYPTION_128,
                MinSessionSecurity::from_registry(0x0008_0001)
            )
            .bits(),
            0x2008_0000
        );
    }
}
