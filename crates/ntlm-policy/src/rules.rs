//! The catalogue of rules this crate (and the session layer) applies.
//!
//! Each [`Rule`] is a static value with a stable id, a one-line statement,
//! its primary [`Source`], further sources, the [`Status`] it produces when it
//! fails, and the [`Basis`] of the rule as applied (the weakest link: a
//! requirement stated by a KB article whose status code is inferred is
//! [`Basis::Inferred`]). [`ALL`] lists them in the order of an exchange; the
//! crate documentation renders the same table.

use alloc::string::{String, ToString};
use core::fmt::{self, Write as _};

use crate::source::{Basis, Source};
use crate::status::Status;

/// One rule of NTLM negotiation or enforcement, with its source.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Rule {
    /// Stable identifier, lower-case with dashes (e.g. `min-128-client`).
    pub id: &'static str,
    /// The rule in one line.
    pub statement: &'static str,
    /// The primary source; printed as the rule's source in reports.
    pub source: Source,
    /// Further sources that support or qualify the rule.
    pub also: &'static [Source],
    /// The status a failure of this rule produces (`None` for rules that only shape flags).
    pub status: Option<Status>,
    /// How well established the rule is as applied, status code included.
    pub basis: Basis,
}

impl Rule {
    /// Looks a rule up by id.
    pub fn by_id(id: &str) -> Option<&'static Self> {
        ALL.iter().copied().find(|r| r.id == id)
    }
}

/// The catalogue as a Markdown table (`| id | rule | source | status | basis |`),
/// one line per rule in [`ALL`] order; the crate documentation embeds it.
pub fn markdown_table() -> String {
    let mut out = String::from("| Id | Rule | Source | Status | Basis |\n|---|---|---|---|---|\n");
    for r in ALL {
        let mut sources = r.source.to_string();
        for s in r.also {
            sources.push_str("; ");
            sources.push_str(&s.to_string());
        }
        let status = r.status.map_or("none", Status::name);
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            r.id,
            r.statement.replace('|', "\\|"),
            sources.replace('|', "\\|"),
            status,
            r.basis
        );
    }
    out
}

impl fmt::Display for Rule {
    /// `id: statement [source]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} [{}]", self.id, self.statement, self.source)
    }
}

const CAPTURE: &str = "Windows 7 client / Windows Server 2008 R2 DC capture \
                       (gss-ntlmssp tests/ntlmssptest.c T_NTLMv2_CBT)";

// ---------------------------------------------------------------- negotiation

/// The client's fixed NEGOTIATE flags.
pub static NEG_CLIENT_BASE: Rule = Rule {
    id: "neg-client-base",
    statement: "the client always sets REQUEST_TARGET, NTLM, ALWAYS_SIGN and UNICODE in the NEGOTIATE",
    source: Source::MsNlmp("3.1.5.1.1"),
    also: &[],
    status: None,
    basis: Basis::Spec,
};

/// When the client requests extended session security.
pub static NEG_CLIENT_ESS: Rule = Rule {
    id: "neg-client-ess",
    statement: "the client requests EXTENDED_SESSIONSECURITY unless LM authentication is used: \
                LmCompatibilityLevel 1 to 5 always do; level 0 as the level0-ess switch reads it",
    source: Source::MsNlmp("3.1.5.1.1"),
    also: &[
        Source::MsDoc("Network security: LAN Manager authentication level"),
        Source::Inference("'if LM authentication is not being used' read with the level table"),
    ],
    status: None,
    basis: Basis::Inferred,
};

/// The MS-POP3 4.1 example: the public Windows XP exchange.
const XP_POP3: &str = "MS-POP3 4.1 example: a Windows XP client (Version 5.1.2600, default \
                       LmCompatibilityLevel 0, the level not stated) sends NEGOTIATE 0xa2088207 \
                       with ESS, a Windows Server 2003 returns ESS (0xa28a8205) and the client \
                       answers with the NTLM2 session response (LM field: client challenge and \
                       Z(16)); the logon succeeds";

/// Level 0 requests ESS (switch `level0-ess=requested`, the default).
pub static NEG_CLIENT_ESS_LEVEL0_REQUESTED: Rule = Rule {
    id: "neg-client-ess-level0-requested",
    statement: "with level0-ess=requested (default) a client at LmCompatibilityLevel 0 requests \
                EXTENDED_SESSIONSECURITY as levels 1 and 2 do and, when it is negotiated, sends \
                the NTLM2 session response instead of LM and NTLMv1",
    source: Source::Observed(XP_POP3),
    also: &[
        Source::Observed(
            "E. Glass, samba-technical, 30 July 2003 ('NTLM authentication with NTLM2 session \
             security'): with the NTLM2 key flag agreed and 'LMCompatibilityLevel is set to 0' the \
             LM field carries the client nonce and the NT response the NTLM2 session response",
        ),
        Source::MsNlmp("3.3.1"),
    ],
    status: None,
    basis: Basis::Observed,
};

/// Level 0 never uses ESS (switch `level0-ess=never`).
pub static NEG_CLIENT_ESS_LEVEL0_NEVER: Rule = Rule {
    id: "neg-client-ess-level0-never",
    statement: "with level0-ess=never a client at LmCompatibilityLevel 0 neither requests nor \
                uses EXTENDED_SESSIONSECURITY: it sends LM and NTLMv1 responses, so a server \
                requiring NTLMv2 session security (0x80000) refuses it",
    source: Source::MsDoc("Network security: LAN Manager authentication level"),
    also: &[
        Source::MsDoc("Windows 2000 registry reference: LmCompatibilityLevel (cc960646)"),
        Source::Kb(932_461),
        Source::Inference("'never use NTLMv2 session security' read as never requesting ESS"),
    ],
    status: None,
    basis: Basis::Inferred,
};

/// Flags the application's requests add to the NEGOTIATE.
pub static NEG_CLIENT_APP_FLAGS: Rule = Rule {
    id: "neg-client-app-flags",
    statement: "Integrity/Replay Detect/Sequence Detect set SIGN; Confidentiality adds SEAL, KEY_EXCH, \
                LM_KEY and EXTENDED_SESSIONSECURITY; Datagram adds DATAGRAM; Identify adds IDENTIFY",
    source: Source::MsNlmp("3.1.1.2"),
    also: &[],
    status: None,
    basis: Basis::Spec,
};

/// Whether the client ORs its required bits into the NEGOTIATE.
pub static NEG_CLIENT_OR_REQUIRED: Rule = Rule {
    id: "neg-client-or-required",
    statement: "with client-request=or-required the client adds its NtlmMinClientSec bits to the \
                NEGOTIATE, as Samba does with required_flags; Windows does not document it",
    source: Source::Samba("auth/ntlmssp/ntlmssp_client.c gensec_ntlmssp_client_start()"),
    also: &[Source::Kb(239_869)],
    status: None,
    basis: Basis::Unconfirmed,
};

/// The flags a client puts in its AUTHENTICATE.
pub static NEG_CLIENT_AUTHENTICATE_FLAGS: Rule = Rule {
    id: "neg-client-authenticate-flags",
    statement: "the AUTHENTICATE carries the CHALLENGE flags without TARGET_TYPE_DOMAIN/SERVER, and \
                UNICODE alone when both charsets were returned",
    source: Source::Observed(CAPTURE),
    also: &[Source::MsNlmp("2.2.1.3")],
    status: None,
    basis: Basis::Observed,
};

/// The charset choice (and failure) on the server.
pub static NEG_SERVER_CHARSET: Rule = Rule {
    id: "neg-server-charset",
    statement: "the server returns UNICODE if requested, else OEM; a NEGOTIATE with neither usable \
                charset is refused with SEC_E_INVALID_TOKEN",
    source: Source::MsNlmp("2.2.2.5"),
    also: &[Source::MsNlmp("3.2.5.1.1")],
    status: Some(Status::SecEInvalidToken),
    basis: Basis::Spec,
};

/// Extended session security beats LM_KEY.
pub static NEG_SERVER_ESS: Rule = Rule {
    id: "neg-server-ess-over-lm-key",
    statement: "the server returns EXTENDED_SESSIONSECURITY when requested and supported, LM_KEY \
                only otherwise, never both",
    source: Source::MsNlmp("2.2.2.5"),
    also: &[Source::MsNlmp("3.2.5.1.1")],
    status: None,
    basis: Basis::Spec,
};

/// SIGN and SEAL are echoed.
pub static NEG_SERVER_SIGN_SEAL: Rule = Rule {
    id: "neg-server-sign-seal",
    statement: "SIGN and SEAL requested in the NEGOTIATE MUST be returned in the CHALLENGE",
    source: Source::MsNlmp("2.2.2.5"),
    also: &[Source::MsNlmp("2.2.1.2")],
    status: None,
    basis: Basis::Spec,
};

/// Literal 128/56 rule.
pub static NEG_SERVER_STRENGTH_LITERAL: Rule = Rule {
    id: "neg-server-strength-literal",
    statement: "with server-strength=literal the server returns 128 and 56 only when the client \
                also requested SIGN or SEAL (128: 'otherwise it is ignored')",
    source: Source::MsNlmp("2.2.2.5"),
    also: &[Source::Inference(
        "56 treated like 128, as in the 2.2.2.5 MUST for 56",
    )],
    status: None,
    basis: Basis::Spec,
};

/// Observed 128/56 echo.
pub static NEG_SERVER_STRENGTH_ECHO: Rule = Rule {
    id: "neg-server-strength-echo",
    statement: "with server-strength=echo (default) the server returns 128 and 56 whenever \
                requested and supported, with or without SIGN/SEAL",
    source: Source::Observed(CAPTURE),
    also: &[Source::MsNlmpBehavior(23)],
    status: None,
    basis: Basis::Observed,
};

/// Optional flags: returned when requested and supported.
pub static NEG_SERVER_OPTIONAL: Rule = Rule {
    id: "neg-server-optional",
    statement: "KEY_EXCH, IDENTIFY, DATAGRAM, VERSION and REQUEST_NON_NT_SESSION_KEY are returned \
                when requested and supported; supported flags the client did not request are not",
    source: Source::MsNlmp("3.2.5.1.1"),
    also: &[
        Source::MsNlmp("2.2.1.2"),
        Source::Samba("auth/ntlmssp/ntlmssp_util.c ntlmssp_handle_neg_flags()"),
        Source::Inference(
            "'all the flags set in CfgFlg' read as the intersection, as implementations do",
        ),
    ],
    status: None,
    basis: Basis::Observed,
};

/// DATAGRAM forces KEY_EXCH.
pub static NEG_SERVER_DATAGRAM: Rule = Rule {
    id: "neg-server-datagram-key-exch",
    statement: "DATAGRAM in the CHALLENGE forces KEY_EXCH",
    source: Source::MsNlmp("2.2.2.5"),
    also: &[],
    status: None,
    basis: Basis::Spec,
};

/// The CHALLENGE's fixed flags.
pub static NEG_SERVER_MANDATORY: Rule = Rule {
    id: "neg-server-mandatory",
    statement: "the CHALLENGE always carries REQUEST_TARGET, NTLM and ALWAYS_SIGN",
    source: Source::MsNlmp("3.2.5.1.1"),
    also: &[],
    status: None,
    basis: Basis::Spec,
};

/// Connectionless NTLM by generation.
pub static NEG_SERVER_DATAGRAM_GENERATION: Rule = Rule {
    id: "neg-server-datagram-generation",
    statement: "only Windows NT through Server 2008 support connectionless (DATAGRAM) NTLM; \
                Windows 7 / 2008 R2 and later servers never return DATAGRAM",
    source: Source::MsNlmpBehavior(52),
    also: &[Source::MsNlmpBehavior(70)],
    status: None,
    basis: Basis::Documented,
};

/// TARGET_INFO in the CHALLENGE.
pub static NEG_SERVER_TARGET_INFO: Rule = Rule {
    id: "neg-server-target-info",
    statement: "the server sets TARGET_INFO (Windows NT only with ESS; Windows 2000/XP/2003 only \
                when the NEGOTIATE has ESS or REQUEST_TARGET; Samba only with REQUEST_TARGET, and \
                then also the target type)",
    source: Source::MsNlmp("3.2.5.1.1"),
    also: &[
        Source::MsNlmpBehavior(64),
        Source::Samba("libcli/auth/ntlmssp_server.c ntlmssp_target_name()"),
    ],
    status: None,
    basis: Basis::Spec,
};

/// The target type.
pub static NEG_SERVER_TARGET_TYPE: Rule = Rule {
    id: "neg-server-target-type",
    statement: "a domain-joined server sets TARGET_TYPE_DOMAIN, any other TARGET_TYPE_SERVER",
    source: Source::MsNlmp("3.2.5.1.1"),
    also: &[],
    status: None,
    basis: Basis::Spec,
};

// ----------------------------------------------------------------- blocking

/// ClientBlocked.
pub static CLIENT_BLOCKED: Rule = Rule {
    id: "client-blocked",
    statement: "a client with NTLM blocked (ClientBlocked) returns STATUS_NOT_SUPPORTED and sends \
                no NEGOTIATE",
    source: Source::MsNlmp("3.1.5.1.1"),
    also: &[Source::MsNlmpBehavior(46)],
    status: Some(Status::StatusNotSupported),
    basis: Basis::Spec,
};

/// ServerBlock.
pub static SERVER_BLOCKED: Rule = Rule {
    id: "server-blocked",
    statement: "a server with NTLM blocked (ServerBlock) returns STATUS_NOT_SUPPORTED on receipt \
                of NEGOTIATE or AUTHENTICATE",
    source: Source::MsNlmp("3.2.5.1.1"),
    also: &[Source::MsNlmp("3.2.5.1.2")],
    status: Some(Status::StatusNotSupported),
    basis: Basis::Spec,
};

/// A DC that blocks NTLM.
pub static DC_NTLM_BLOCKED: Rule = Rule {
    id: "dc-ntlm-blocked",
    statement: "when the DC returns STATUS_NTLM_BLOCKED the server returns STATUS_NOT_SUPPORTED",
    source: Source::MsNlmp("3.3.1"),
    also: &[Source::MsNlmp("3.3.2")],
    status: Some(Status::StatusNotSupported),
    basis: Basis::Spec,
};

const RESTRICT_OUTGOING_PAGE: &str =
    "Network security: Restrict NTLM: Outgoing NTLM traffic to remote servers";
const RESTRICT_INCOMING_PAGE: &str = "Network security: Restrict NTLM: Incoming NTLM traffic";
const RESTRICT_DOMAIN_PAGE: &str =
    "Network security: Restrict NTLM: NTLM authentication in this domain";
const NTLM_BLOCKED_OBSERVED: &str = "ERROR_NTLM_BLOCKED (1937, 0x791) 'Authentication failed \
     because NTLM authentication has been disabled' reported by blocked Windows 11 24H2 clients \
     (woshub.com/block-ntlm-connections-windows)";

/// Restrict NTLM: Outgoing NTLM traffic to remote servers = Deny all.
pub static RESTRICT_OUTGOING_DENY: Rule = Rule {
    id: "restrict-outgoing-deny",
    statement: "a client with RestrictSendingNTLMTraffic = 2 (Deny all) sends no NEGOTIATE to a \
                server missing from ClientAllowedNTLMServers ('*' wildcards, case ignored) and \
                fails with STATUS_NTLM_BLOCKED, logging event 4001 (MS-NLMP's abstract \
                ClientBlocked answers STATUS_NOT_SUPPORTED; the Windows status is inferred from \
                the policy page's 'NTLM blocked error' and the observed ERROR_NTLM_BLOCKED)",
    source: Source::MsDoc(RESTRICT_OUTGOING_PAGE),
    also: &[
        Source::MsDoc(
            "Network security: Restrict NTLM: Add remote server exceptions for NTLM authentication",
        ),
        Source::MsNlmp("3.1.5.1.1"),
        Source::Observed(NTLM_BLOCKED_OBSERVED),
    ],
    status: Some(Status::StatusNtlmBlocked),
    basis: Basis::Inferred,
};

/// Restrict NTLM: Outgoing NTLM traffic to remote servers = Audit all.
pub static RESTRICT_OUTGOING_AUDIT: Rule = Rule {
    id: "restrict-outgoing-audit",
    statement: "a client with RestrictSendingNTLMTraffic = 1 (Audit all) logs event 8001 for each \
                NTLM request to a remote server and proceeds: it would be logged, nothing breaks",
    source: Source::MsDoc(RESTRICT_OUTGOING_PAGE),
    also: &[],
    status: None,
    basis: Basis::Documented,
};

/// The SMB client's Block NTLM.
pub static SMB_CLIENT_BLOCK_NTLM: Rule = Rule {
    id: "smb-client-block-ntlm",
    statement: "an SMB client with Block NTLM (LM, NTLM, NTLMv2) enabled (Windows 11 24H2 / Server \
                2025 and later) does not use NTLM for an SMB connection to a server missing from \
                BlockNTLMServerExceptionList; other transports are unaffected; the status is not \
                documented (STATUS_NTLM_BLOCKED assumed)",
    source: Source::MsDoc("Block NTLM connections on SMB (Windows Server 2025, Windows 11 24H2)"),
    also: &[Source::Inference(
        "status: the other NTLM blocking settings' STATUS_NTLM_BLOCKED",
    )],
    status: Some(Status::StatusNtlmBlocked),
    basis: Basis::Inferred,
};

/// Restrict NTLM: Incoming NTLM traffic = Deny all domain accounts / Deny all accounts.
pub static RESTRICT_INCOMING_DENY: Rule = Rule {
    id: "restrict-incoming-deny",
    statement: "a server with RestrictReceivingNTLMTraffic = 1 refuses NTLM logons of domain \
                accounts (local accounts still log on), = 2 refuses every NTLM logon, returning \
                'an NTLM blocked error' (STATUS_NTLM_BLOCKED) and logging event 4002; the stage \
                (AUTHENTICATE, where the account's domain is first known) is inferred",
    source: Source::MsDoc(RESTRICT_INCOMING_PAGE),
    also: &[
        Source::MsNlmp("3.2.5.1.2"),
        Source::Inference("stage: the account is named only in the AUTHENTICATE"),
    ],
    status: Some(Status::StatusNtlmBlocked),
    basis: Basis::Inferred,
};

/// Restrict NTLM: Audit Incoming NTLM Traffic.
pub static RESTRICT_INCOMING_AUDIT: Rule = Rule {
    id: "restrict-incoming-audit",
    statement: "a server with AuditReceivingNTLMTraffic = 1 (domain accounts) or 2 (all accounts) \
                logs event 8002 for each NTLM logon the Incoming NTLM traffic policy would block, \
                and accepts it: it would be logged, nothing breaks",
    source: Source::MsDoc("Network security: Restrict NTLM: Audit Incoming NTLM Traffic"),
    also: &[],
    status: None,
    basis: Basis::Documented,
};

/// Restrict NTLM: NTLM authentication in this domain.
pub static RESTRICT_DOMAIN_DENY: Rule = Rule {
    id: "restrict-domain-deny",
    statement: "a DC with RestrictNTLMInDomain = 1 (domain accounts to domain servers), 3 (domain \
                accounts), 5 (domain servers) or 7 (all) refuses pass-through logons in that \
                scope unless the server is on DCAllowedNTLMServers, with STATUS_NTLM_BLOCKED, \
                which the server relays as STATUS_NOT_SUPPORTED (dc-ntlm-blocked); the numbers \
                are those audit tools map (the page names only the options)",
    source: Source::MsDoc(RESTRICT_DOMAIN_PAGE),
    also: &[
        Source::MsDoc("Network security: Restrict NTLM: Add server exceptions in this domain"),
        Source::MsNlmp("3.3.1"),
        Source::Inference("value numbers 0/1/3/5/7: the bit layout audit scripts read"),
    ],
    status: Some(Status::StatusNotSupported),
    basis: Basis::Inferred,
};

/// Restrict NTLM: Audit NTLM authentication in this domain.
pub static RESTRICT_DOMAIN_AUDIT: Rule = Rule {
    id: "restrict-domain-audit",
    statement: "a DC with AuditNTLMInDomain set logs event 8004 for each pass-through logon the \
                same RestrictNTLMInDomain value would deny, and lets it through: it would be \
                logged, nothing breaks",
    source: Source::MsDoc(
        "Network security: Restrict NTLM: Audit NTLM authentication in this domain",
    ),
    also: &[],
    status: None,
    basis: Basis::Documented,
};

/// Windows 11 24H2 / Server 2025: NTLMv1 removed.
pub static NTLMV1_REMOVED: Rule = Rule {
    id: "ntlmv1-removed",
    statement: "Windows 11 24H2 and Windows Server 2025 no longer send LM or NTLMv1 responses \
                whatever LmCompatibilityLevel says (the client sends NTLMv2), so a server that \
                verifies only NTLMv1 refuses the logon (auth-cannot-verify); users report \
                ERROR_NTLM_BLOCKED on the client, which check on the client produces it is unknown",
    source: Source::Kb(5_066_470),
    also: &[
        Source::MsDoc("Removed features and functionality in Windows client (NTLMv1)"),
        Source::Observed(NTLM_BLOCKED_OBSERVED),
    ],
    status: None,
    basis: Basis::Documented,
};

/// A Windows 11 24H2 / Server 2025 server refusing NTLMv1 itself (switch `ntlmv1-server`).
pub static NTLMV1_REMOVED_SERVER: Rule = Rule {
    id: "ntlmv1-removed-server",
    statement: "with ntlmv1-server=refuses a Windows 11 24H2 / Server 2025 server refuses LM, NTLMv1 \
                and NTLM2 session responses whatever its LmCompatibilityLevel; STATUS_LOGON_FAILURE \
                (status inferred, as lm-refuse-ntlmv1); KB5066470 says only that NTLMv1 is removed",
    source: Source::Kb(5_066_470),
    also: &[Source::Inference(
        "'NTLMv1 removed' read as the server side too; unconfirmed, hence a switch",
    )],
    status: Some(Status::StatusLogonFailure),
    basis: Basis::Unconfirmed,
};

/// BlockNtlmv1SSO = 0 (audit).
pub static NTLMV1_SSO_AUDIT: Rule = Rule {
    id: "ntlmv1-sso-audit",
    statement: "on Windows 11 24H2 / Server 2025 without Credential Guard, BlockNtlmv1SSO = 0 or \
                unset logs event 4024 when NTLMv1-derived credentials are used for single sign-on \
                (MS-CHAPv2 in a domain) and lets it proceed: it would be logged, nothing breaks",
    source: Source::Kb(5_066_470),
    also: &[],
    status: None,
    basis: Basis::Documented,
};

/// BlockNtlmv1SSO = 1 (enforce).
pub static NTLMV1_SSO_BLOCK: Rule = Rule {
    id: "ntlmv1-sso-block",
    statement: "on Windows 11 24H2 / Server 2025 without Credential Guard, BlockNtlmv1SSO = 1 \
                blocks NTLMv1-derived credentials for single sign-on and logs event 4025; with \
                Credential Guard running the setting has no effect; the status is not documented \
                (STATUS_NTLM_BLOCKED assumed)",
    source: Source::Kb(5_066_470),
    also: &[Source::Inference(
        "status: the other NTLM blocking settings' STATUS_NTLM_BLOCKED",
    )],
    status: Some(Status::StatusNtlmBlocked),
    basis: Basis::Inferred,
};

/// The charset check on the client.
pub static CLIENT_CHARSET: Rule = Rule {
    id: "client-charset",
    statement: "a CHALLENGE with neither UNICODE nor OEM is refused with SEC_E_INVALID_TOKEN",
    source: Source::MsNlmp("2.2.2.5"),
    also: &[],
    status: Some(Status::SecEInvalidToken),
    basis: Basis::Spec,
};

// ---------------------------------------------------------- minimum security

/// ClientRequire128bitEncryption.
pub static MIN_128_CLIENT: Rule = Rule {
    id: "min-128-client",
    statement: "NtlmMinClientSec 0x20000000 (ClientRequire128bitEncryption): a CHALLENGE without \
                NEGOTIATE_128 is refused with SEC_E_UNSUPPORTED_FUNCTION, no AUTHENTICATE is sent",
    source: Source::MsNlmp("3.1.5.1.2"),
    also: &[Source::MsNlmpBehavior(38), Source::Kb(239_869)],
    status: Some(Status::SecEUnsupportedFunction),
    basis: Basis::Spec,
};

/// ServerRequire128bitEncryption.
pub static MIN_128_SERVER: Rule = Rule {
    id: "min-128-server",
    statement: "NtlmMinServerSec 0x20000000 (ServerRequire128bitEncryption): if NEGOTIATE_128 is \
                not negotiated the server returns SEC_E_UNSUPPORTED_FUNCTION, no CHALLENGE is sent",
    source: Source::MsNlmp("3.2.5.1.1"),
    also: &[Source::MsNlmpBehavior(60), Source::Kb(239_869)],
    status: Some(Status::SecEUnsupportedFunction),
    basis: Basis::Spec,
};

/// The narrower KB239869 reading of the 128-bit rule.
pub static MIN_128_KB239869: Rule = Rule {
    id: "min-128-kb239869",
    statement: "with rule-128=kb239869, 0x20000000 fails only when SEAL is negotiated without \
                NEGOTIATE_128 ('if message confidentiality is in use')",
    source: Source::Kb(239_869),
    also: &[Source::MsNlmp("3.1.5.1.2"), Source::MsNlmp("3.2.5.1.1")],
    status: Some(Status::SecEUnsupportedFunction),
    basis: Basis::Documented,
};

/// The other minimum-security bits on the client.
pub static MIN_FLAGS_CLIENT: Rule = Rule {
    id: "min-flags-client",
    statement: "NtlmMinClientSec 0x10/0x20/0x80000/0x80000000: a CHALLENGE without SIGN/SEAL/\
                EXTENDED_SESSIONSECURITY/56 is refused; the status is SEC_E_UNSUPPORTED_FUNCTION \
                by analogy with the 128-bit rule and Samba",
    source: Source::Kb(239_869),
    also: &[
        Source::MsNlmp("3.1.5.1.2"),
        Source::Samba("auth/ntlmssp/ntlmssp_util.c ntlmssp_handle_neg_flags()"),
    ],
    status: Some(Status::SecEUnsupportedFunction),
    basis: Basis::Inferred,
};

/// The other minimum-security bits on the server, on NEGOTIATE.
pub static MIN_FLAGS_SERVER: Rule = Rule {
    id: "min-flags-server",
    statement: "NtlmMinServerSec 0x10/0x20/0x80000/0x80000000: if the CHALLENGE the server would \
                send lacks SIGN/SEAL/EXTENDED_SESSIONSECURITY/56 it returns \
                SEC_E_UNSUPPORTED_FUNCTION (status inferred) and sends no CHALLENGE",
    source: Source::Kb(239_869),
    also: &[
        Source::MsNlmp("3.2.5.1.1"),
        Source::Samba("auth/ntlmssp/ntlmssp_util.c ntlmssp_handle_neg_flags()"),
    ],
    status: Some(Status::SecEUnsupportedFunction),
    basis: Basis::Inferred,
};

/// The server's second check, on AUTHENTICATE.
pub static MIN_SERVER_AUTHENTICATE: Rule = Rule {
    id: "min-server-authenticate",
    statement: "on AUTHENTICATE the server checks NtlmMinServerSec again against the AUTHENTICATE \
                flags, anonymous clients included; SEC_E_UNSUPPORTED_FUNCTION (status inferred)",
    source: Source::MsNlmp("3.2.5.1.2"),
    also: &[Source::Samba(
        "auth/ntlmssp/ntlmssp_server.c ntlmssp_server_preauth()",
    )],
    status: Some(Status::SecEUnsupportedFunction),
    basis: Basis::Inferred,
};

/// What "NTLMv2 session security" means.
pub static MIN_ESS_NTLMV2: Rule = Rule {
    id: "min-ess-ntlmv2",
    statement: "with ess=flag-or-ntlmv2, NTLMv2 authentication satisfies 'Require NTLMv2 session \
                security' without the flag (Samba, bug 12862); a server can only apply this on \
                AUTHENTICATE",
    source: Source::Samba("auth/ntlmssp/ntlmssp_util.c ntlmssp_handle_neg_flags()"),
    also: &[Source::MsDoc(
        "Network security: Minimum session security for NTLM SSP based clients/servers",
    )],
    status: Some(Status::SecEUnsupportedFunction),
    basis: Basis::Observed,
};

/// The 56-bit bit.
pub static MIN_56: Rule = Rule {
    id: "min-56",
    statement: "with bit56=enforce (default), 0x80000000 is enforced as 'NEGOTIATE_56 must be \
                negotiated'; KB239869 lists the value without semantics",
    source: Source::Inference("the other KB239869 bits each require their flag"),
    also: &[Source::Kb(239_869)],
    status: Some(Status::SecEUnsupportedFunction),
    basis: Basis::Inferred,
};

/// OS-generation enforcement.
pub static MIN_OS_GENERATION: Rule = Rule {
    id: "min-os-generation",
    statement: "with enforce=os-generation, a peer newer than Windows XP/Server 2003 ignores 0x10 \
                and 0x20, which only the XP/2003 policy UI offers",
    source: Source::MsDoc("CCE-44861-3; Windows Server 2008 R2 policy reference (jj852240)"),
    also: &[],
    status: None,
    basis: Basis::Unconfirmed,
};

/// The union of both sides.
pub static MIN_UNION: Rule = Rule {
    id: "min-union",
    statement: "each side enforces only its own value; the effective requirement of a connection \
                is the union of NtlmMinClientSec and NtlmMinServerSec",
    source: Source::Kb(239_869),
    also: &[Source::Inference(
        "each MS-NLMP check names only its own side's policy",
    )],
    status: None,
    basis: Basis::Inferred,
};

// ------------------------------------------------------------- authenticate

/// AUTHENTICATE flags must have been negotiated.
pub static AUTH_FLAGS_SUBSET: Rule = Rule {
    id: "auth-flags-subset",
    statement: "AUTHENTICATE may not carry session-security flags the CHALLENGE did not return; \
                the server refuses it with SEC_E_INVALID_TOKEN (status inferred)",
    source: Source::MsNlmp("2.2.1.3"),
    also: &[Source::Inference(
        "MS-NLMP answers token contents that contradict the negotiation with SEC_E_INVALID_TOKEN \
         (2.2.2.5, 3.2.5.1.2); STATUS_INVALID_PARAMETER is Samba's code for malformed messages, \
         and Samba intersects instead of failing",
    )],
    status: Some(Status::SecEInvalidToken),
    basis: Basis::Inferred,
};

/// Samba's alternative: drop such flags.
pub static AUTH_FLAGS_INTERSECT: Rule = Rule {
    id: "auth-flags-intersect",
    statement: "with authenticate-extra=intersect the server ignores AUTHENTICATE flags the \
                CHALLENGE did not return",
    source: Source::Samba("auth/ntlmssp/ntlmssp_util.c ntlmssp_handle_neg_flags()"),
    also: &[],
    status: None,
    basis: Basis::Observed,
};

/// LmCompatibilityLevel 4 and 5 refuse LM.
pub static LM_REFUSE_LM: Rule = Rule {
    id: "lm-refuse-lm",
    statement: "a server or DC at LmCompatibilityLevel 4 or 5 refuses an LM-only response; \
                STATUS_LOGON_FAILURE (status inferred)",
    source: Source::MsNlmpBehavior(81),
    also: &[Source::MsDoc(
        "Network security: LAN Manager authentication level",
    )],
    status: Some(Status::StatusLogonFailure),
    basis: Basis::Inferred,
};

/// LmCompatibilityLevel 5 refuses NTLMv1.
pub static LM_REFUSE_NTLMV1: Rule = Rule {
    id: "lm-refuse-ntlmv1",
    statement: "a server or DC at LmCompatibilityLevel 5 refuses NTLMv1 and NTLM2 session \
                responses; STATUS_LOGON_FAILURE (status inferred; Samba: STATUS_WRONG_PASSWORD)",
    source: Source::MsNlmpBehavior(81),
    also: &[
        Source::MsDoc("Network security: LAN Manager authentication level"),
        Source::Samba("libcli/auth/ntlm_check.c ntlm_password_check()"),
    ],
    status: Some(Status::StatusLogonFailure),
    basis: Basis::Inferred,
};

/// A server that cannot verify the response kind.
pub static AUTH_CANNOT_VERIFY: Rule = Rule {
    id: "auth-cannot-verify",
    statement: "a server that implements only older response kinds (an NTLMv1-only NAS or \
                printer) cannot verify an NTLMv2 response and refuses the logon; \
                STATUS_LOGON_FAILURE (status inferred; KB954387: 'access is denied')",
    source: Source::Kb(954_387),
    also: &[Source::Inference(
        "KB954387 gives the symptom (access denied, cannot log on) and the workaround (a lower \
         client LmCompatibilityLevel), not the status code",
    )],
    status: Some(Status::StatusLogonFailure),
    basis: Basis::Inferred,
};

/// NTLMv2 clients need the NetBIOS names for integrity/confidentiality.
pub static CLIENT_NTLMV2_TARGET_INFO: Rule = Rule {
    id: "client-ntlmv2-target-info",
    statement: "an NTLMv2 client that wants integrity or confidentiality refuses a CHALLENGE whose \
                TargetInfo lacks MsvAvNbComputerName or MsvAvNbDomainName: STATUS_LOGON_FAILURE",
    source: Source::MsNlmp("3.1.5.1.2"),
    also: &[],
    status: Some(Status::StatusLogonFailure),
    basis: Basis::Spec,
};

/// Wrong responses.
pub static AUTH_RESPONSE: Rule = Rule {
    id: "auth-response",
    statement: "a response that matches neither the expected NT nor LM response is refused \
                ('INVALID message error'); STATUS_LOGON_FAILURE (status inferred)",
    source: Source::MsNlmp("3.2.5.1.2"),
    also: &[Source::Samba(
        "libcli/auth/ntlm_check.c ntlm_password_check()",
    )],
    status: Some(Status::StatusLogonFailure),
    basis: Basis::Inferred,
};

/// No LMv2 fallback.
pub static AUTH_NO_LMV2_FALLBACK: Rule = Rule {
    id: "auth-no-lmv2-fallback",
    statement: "when an NTLMv2 response is present only NTProofStr counts; a valid LMv2 response \
                alone does not authenticate (CVE-2019-1338)",
    source: Source::Inference(
        "the 3.2.5.1.2 pseudocode accepts a matching LM response alone; the preempt ntlm-scanner \
         CVE-2019-1338 probe shows patched servers refuse it",
    ),
    also: &[Source::MsNlmp("3.2.5.1.2")],
    status: Some(Status::StatusLogonFailure),
    basis: Basis::Inferred,
};

/// KEY_EXCH needs a valid key.
pub static AUTH_KEY_EXCH: Rule = Rule {
    id: "auth-key-exch",
    statement: "with KEY_EXCH the AUTHENTICATE must carry a valid (16-byte) \
                EncryptedRandomSessionKey, else SEC_E_INVALID_TOKEN (Samba: \
                STATUS_INVALID_PARAMETER); with KEY_EXCH alone, without SIGN or SEAL, \
                only under the server's key_exchange = negotiated reading",
    source: Source::MsNlmp("3.2.5.1.2"),
    also: &[Source::Samba(
        "auth/ntlmssp/ntlmssp_server.c ntlmssp_server_postauth()",
    )],
    status: Some(Status::SecEInvalidToken),
    basis: Basis::Spec,
};

/// MsvAvEOL present.
pub static AUTH_AV_EOL: Rule = Rule {
    id: "auth-av-eol",
    statement: "the NTLMv2 client challenge must contain MsvAvEOL; STATUS_INVALID_PARAMETER",
    source: Source::Samba("auth/ntlmssp/ntlmssp_server.c ntlmssp_server_preauth()"),
    also: &[Source::MsNlmp("2.2.2.1")],
    status: Some(Status::StatusInvalidParameter),
    basis: Basis::Observed,
};

/// No duplicate AV pairs.
pub static AUTH_AV_DUPLICATE: Rule = Rule {
    id: "auth-av-duplicate",
    statement: "the NTLMv2 AV pairs may not repeat an AvId (CVE-2019-1166 defence); \
                STATUS_INVALID_PARAMETER",
    source: Source::Inference(
        "preempt ntlm-scanner CVE-2019-1166 probe: patched servers answer STATUS_INVALID_PARAMETER",
    ),
    also: &[],
    status: Some(Status::StatusInvalidParameter),
    basis: Basis::Inferred,
};

/// The server's AV pairs are echoed.
pub static AUTH_AV_ECHO: Rule = Rule {
    id: "auth-av-echo",
    statement: "every AV pair the server sent (MsvAvTimestamp included) must appear unchanged in \
                the NTLMv2 client challenge; STATUS_INVALID_PARAMETER",
    source: Source::Samba("auth/ntlmssp/ntlmssp_server.c ntlmssp_server_preauth()"),
    also: &[],
    status: Some(Status::StatusInvalidParameter),
    basis: Basis::Observed,
};

/// A MIC announced must be present.
pub static AUTH_MIC_PRESENT: Rule = Rule {
    id: "auth-mic-present",
    statement: "when MsvAvFlags has 0x2 the AUTHENTICATE must have a MIC field (88-byte header); \
                STATUS_INVALID_PARAMETER (CVE-2019-1040)",
    source: Source::MsNlmp("3.2.5.1.2"),
    also: &[
        Source::Samba("auth/ntlmssp/ntlmssp_server.c ntlmssp_server_preauth()"),
        Source::Observed("patched Windows SMB servers answer the preempt scan.py probe so"),
    ],
    status: Some(Status::StatusInvalidParameter),
    basis: Basis::Observed,
};

/// The MIC must match.
pub static AUTH_MIC: Rule = Rule {
    id: "auth-mic",
    statement: "when MsvAvFlags has 0x2 the MIC must equal HMAC_MD5 under ExportedSessionKey of \
                the three messages; STATUS_INVALID_PARAMETER",
    source: Source::MsNlmp("3.2.5.1.2"),
    also: &[Source::Samba(
        "auth/ntlmssp/ntlmssp_server.c ntlmssp_server_postauth()",
    )],
    status: Some(Status::StatusInvalidParameter),
    basis: Basis::Observed,
};

/// Channel bindings.
pub static AUTH_CHANNEL_BINDINGS: Rule = Rule {
    id: "auth-channel-bindings",
    statement: "with channel bindings configured or required, MsvAvChannelBindings must equal \
                MD5(bindings); GSS_S_BAD_BINDINGS, reported as SEC_E_BAD_BINDINGS",
    source: Source::MsNlmp("3.2.5.1.2"),
    also: &[Source::Samba(
        "auth/ntlmssp/ntlmssp_server.c ntlmssp_server_preauth() (STATUS_BAD_BINDINGS)",
    )],
    status: Some(Status::SecEBadBindings),
    basis: Basis::Inferred,
};

/// Target name.
pub static AUTH_TARGET_NAME: Rule = Rule {
    id: "auth-target-name",
    statement: "MsvAvTargetName must equal the expected SPN unless MsvAvFlags has 0x4; \
                STATUS_LOGON_FAILURE (status inferred)",
    source: Source::MsNlmp("3.2.5.1.2"),
    also: &[],
    status: Some(Status::StatusLogonFailure),
    basis: Basis::Inferred,
};

/// Timestamp age.
pub static AUTH_TIMESTAMP_AGE: Rule = Rule {
    id: "auth-timestamp-age",
    statement: "an NTLMv2 timestamp older than MaxLifetime SHOULD fail (only NT4 to Windows \
                7/2008 R2 enforce it); STATUS_LOGON_FAILURE (status inferred)",
    source: Source::MsNlmp("3.2.5.1.2"),
    also: &[Source::MsNlmpBehavior(69), Source::MsNlmpBehavior(39)],
    status: Some(Status::StatusLogonFailure),
    basis: Basis::Inferred,
};

/// Reflection.
pub static AUTH_REFLECTION: Rule = Rule {
    id: "auth-reflection",
    statement: "an AUTHENTICATE whose response this host produced itself as a client is treated \
                as a replay and refused; STATUS_LOGON_FAILURE (status inferred)",
    source: Source::Kb(957_097),
    also: &[],
    status: Some(Status::StatusLogonFailure),
    basis: Basis::Inferred,
};

/// Challenge lifetime.
pub static AUTH_CHALLENGE_EXPIRED: Rule = Rule {
    id: "auth-challenge-expired",
    statement: "an AUTHENTICATE that arrives after the server's CHALLENGE has outlived its \
                configured lifetime is refused (a resource bound of ntlmsim's server, not a \
                documented Windows limit); STATUS_LOGON_FAILURE",
    source: Source::Inference("ntlmsim serve: a pending CHALLENGE is held for a bounded time"),
    also: &[Source::MsNlmp("3.2.5.1.2")],
    status: Some(Status::StatusLogonFailure),
    basis: Basis::Inferred,
};

/// Names a line-protocol helper cannot write.
pub static HELPER_NAME_UNWRITABLE: Rule = Rule {
    id: "helper-name-unwritable",
    statement: "a server helper (squid-2.5-ntlmssp) refuses an AUTHENTICATE whose user or domain \
                name holds a line break, control or invisible formatting character, since its \
                answer must be one line; STATUS_LOGON_FAILURE, as for any refused logon",
    source: Source::Inference(
        "the helper line protocol gives one answer line per request; a name with a line \
         break written verbatim becomes two answers and every later answer goes to the wrong \
         request",
    ),
    also: &[Source::Observed(
        "Samba ntlm_auth 4.17 --helper-protocol=squid-2.5-ntlmssp writes such a name verbatim \
         after AF, splitting its answer",
    )],
    status: Some(Status::StatusLogonFailure),
    basis: Basis::Inferred,
};

/// Malformed messages.
pub static DECODE_MALFORMED: Rule = Rule {
    id: "decode-malformed",
    statement: "a message that cannot be decoded is refused with STATUS_INVALID_PARAMETER",
    source: Source::Samba("auth/ntlmssp/ntlmssp_server.c ntlmssp_server_preauth()"),
    also: &[Source::MsNlmp("2.2.1")],
    status: Some(Status::StatusInvalidParameter),
    basis: Basis::Observed,
};

/// Signature mismatch.
pub static SIGN_ALTERED: Rule = Rule {
    id: "sign-altered",
    statement: "a message signature whose checksum does not verify: SEC_E_MESSAGE_ALTERED",
    source: Source::Inference("SSPI VerifySignature/DecryptMessage semantics"),
    also: &[Source::MsNlmp("3.4.4")],
    status: Some(Status::SecEMessageAltered),
    basis: Basis::Inferred,
};

/// Sequence mismatch.
pub static SIGN_SEQUENCE: Rule = Rule {
    id: "sign-sequence",
    statement: "a message signature with an unexpected SeqNum: SEC_E_OUT_OF_SEQUENCE",
    source: Source::Inference("SSPI VerifySignature/DecryptMessage semantics"),
    also: &[Source::MsNlmp("3.4.4")],
    status: Some(Status::SecEOutOfSequence),
    basis: Basis::Inferred,
};

// ------------------------------- channel binding and target names (baselines)
//
// The server settings of `crate::binding`: which of the MS-NLMP 3.2.5.1.2
// checks (MsvAvChannelBindings, MsvAvTargetName) a baseline turns on, and
// LDAP signing. Each rule says over which carrier it applies.

/// Channel bindings exist only over TLS.
pub static CBT_TLS_ONLY: Rule = Rule {
    id: "cbt-tls-only",
    statement: "channel bindings are checked only where there is a TLS channel to bind to \
                (HTTPS, LDAPS or StartTLS); over HTTP, LDAP without TLS and SMB the \
                Extended Protection and LdapEnforceChannelBinding settings check nothing",
    source: Source::MsDoc("Domain controller: LDAP server channel binding token requirements"),
    also: &[
        Source::Kb(4_034_879),
        Source::Inference("RFC 5929 tls-server-end-point is defined only for TLS"),
    ],
    status: None,
    basis: Basis::Inferred,
};

/// IIS Extended Protection "Accept" (tokenChecking="Allow").
pub static EPA_ALLOW: Rule = Rule {
    id: "epa-allow",
    statement: "IIS Extended Protection Accept (tokenChecking=Allow): over HTTPS a present \
                MsvAvChannelBindings, all-zero included, must match the TLS channel; an absent \
                one is accepted (with --zero-channel-bindings accepted an all-zero one is too, \
                MS-NLMP); SEC_E_BAD_BINDINGS, HTTP 401 (status inferred)",
    source: Source::MsDoc("IIS extendedProtection element, tokenChecking attribute"),
    also: &[
        Source::Observed(
            "curl/curl#3280, curl/curl#12511, gssapi/gss-ntlmssp#25: an all-zero pair gets 401 \
             under Accept; curl without SSPI, which sends no pair, logs on (curl/curl#3280)",
        ),
        Source::MsNlmp("3.2.5.1.2"),
    ],
    status: Some(Status::SecEBadBindings),
    basis: Basis::Inferred,
};

/// IIS Extended Protection "Required" (tokenChecking="Require").
pub static EPA_REQUIRE: Rule = Rule {
    id: "epa-require",
    statement: "IIS Extended Protection Required (tokenChecking=Require): over HTTPS the client \
                must send MsvAvChannelBindings matching the TLS channel; clients that send none \
                (curl without SSPI, DavMail) get HTTP 401; SEC_E_BAD_BINDINGS (status inferred)",
    source: Source::MsDoc("IIS extendedProtection element, tokenChecking attribute"),
    also: &[
        Source::MsNlmp("3.2.5.1.2"),
        Source::Observed("curl/curl#3280, mguessan/davmail#352: 401 with Extended Protection"),
        Source::MsDoc(
            "microsoft/CSS-Exchange#1187 (Exchange Extended Protection guide): NTLMv1, which \
             carries no AV pairs, is not supported with Extended Protection",
        ),
    ],
    status: Some(Status::SecEBadBindings),
    basis: Basis::Inferred,
};

/// LdapEnforceChannelBinding 1.
pub static LDAP_CBT_WHEN_SUPPORTED: Rule = Rule {
    id: "ldap-cbt-when-supported",
    statement: "LdapEnforceChannelBinding 1 (When supported): over LDAPS a client that sends \
                MsvAvChannelBindings must send the channel's (an all-zero value read as for \
                epa-allow, --zero-channel-bindings); one that sends none is accepted; \
                SEC_E_BAD_BINDINGS (bind result 49, data 80090346; status inferred)",
    source: Source::Kb(4_034_879),
    also: &[Source::MsDoc(
        "Domain controller: LDAP server channel binding token requirements",
    )],
    status: Some(Status::SecEBadBindings),
    basis: Basis::Inferred,
};

/// LdapEnforceChannelBinding 2.
pub static LDAP_CBT_ALWAYS: Rule = Rule {
    id: "ldap-cbt-always",
    statement: "LdapEnforceChannelBinding 2 (Always): over LDAPS every NTLM bind must carry \
                MsvAvChannelBindings matching the channel; SEC_E_BAD_BINDINGS (bind result 49, \
                data 80090346; status inferred)",
    source: Source::Kb(4_034_879),
    also: &[Source::MsDoc(
        "Domain controller: LDAP server channel binding token requirements",
    )],
    status: Some(Status::SecEBadBindings),
    basis: Basis::Inferred,
};

/// LDAPServerIntegrity 2.
pub static LDAP_SIGNING_REQUIRED: Rule = Rule {
    id: "ldap-signing-required",
    statement: "LDAPServerIntegrity 2 (Require signing): an NTLM SASL bind over LDAP without \
                TLS must negotiate SIGN or SEAL; otherwise the bind fails with \
                LDAP_STRONG_AUTH_REQUIRED; over LDAPS TLS satisfies the requirement",
    source: Source::MsDoc("Domain controller: LDAP server signing requirements"),
    also: &[Source::MsDoc(
        "ADV190023: Microsoft Guidance for Enabling LDAP Channel Binding and LDAP Signing",
    )],
    status: Some(Status::LdapStrongAuthRequired),
    basis: Basis::Documented,
};

/// SmbServerNameHardeningLevel 1.
pub static SMB_SPN_IF_PROVIDED: Rule = Rule {
    id: "smb-spn-if-provided",
    statement: "SmbServerNameHardeningLevel 1 (Accept if provided by client): over SMB a \
                non-empty MsvAvTargetName must name this server; an absent or empty one is \
                accepted; STATUS_ACCESS_DENIED",
    source: Source::MsDoc("Microsoft network server: Server SPN target name validation level"),
    also: &[
        Source::Observed(
            "impacket 0.13 impacket/ntlm.py: without MsvAvTargetName 'we will get access denied'",
        ),
        Source::MsNlmp("3.2.5.1.2"),
    ],
    status: Some(Status::StatusAccessDenied),
    basis: Basis::Observed,
};

/// SmbServerNameHardeningLevel 2.
pub static SMB_SPN_REQUIRED: Rule = Rule {
    id: "smb-spn-required",
    statement: "SmbServerNameHardeningLevel 2 (Required from client): over SMB the client must \
                send MsvAvTargetName naming this server (MsvAvFlags 0x4 exempts it, MS-NLMP); \
                STATUS_ACCESS_DENIED",
    source: Source::MsDoc("Microsoft network server: Server SPN target name validation level"),
    also: &[
        Source::Observed(
            "impacket 0.13 impacket/ntlm.py: without MsvAvTargetName 'we will get access denied'",
        ),
        Source::MsNlmp("3.2.5.1.2"),
    ],
    status: Some(Status::StatusAccessDenied),
    basis: Basis::Observed,
};

/// Every rule, in the order of an exchange.
pub static ALL: &[&Rule] = &[
    &NEG_CLIENT_BASE,
    &NEG_CLIENT_ESS,
    &NEG_CLIENT_ESS_LEVEL0_REQUESTED,
    &NEG_CLIENT_ESS_LEVEL0_NEVER,
    &NEG_CLIENT_APP_FLAGS,
    &NEG_CLIENT_OR_REQUIRED,
    &NEG_CLIENT_AUTHENTICATE_FLAGS,
    &NEG_SERVER_CHARSET,
    &NEG_SERVER_ESS,
    &NEG_SERVER_SIGN_SEAL,
    &NEG_SERVER_STRENGTH_LITERAL,
    &NEG_SERVER_STRENGTH_ECHO,
    &NEG_SERVER_OPTIONAL,
    &NEG_SERVER_DATAGRAM,
    &NEG_SERVER_DATAGRAM_GENERATION,
    &NEG_SERVER_MANDATORY,
    &NEG_SERVER_TARGET_INFO,
    &NEG_SERVER_TARGET_TYPE,
    &CLIENT_BLOCKED,
    &SERVER_BLOCKED,
    &DC_NTLM_BLOCKED,
    &RESTRICT_OUTGOING_DENY,
    &RESTRICT_OUTGOING_AUDIT,
    &SMB_CLIENT_BLOCK_NTLM,
    &RESTRICT_INCOMING_DENY,
    &RESTRICT_INCOMING_AUDIT,
    &RESTRICT_DOMAIN_DENY,
    &RESTRICT_DOMAIN_AUDIT,
    &NTLMV1_REMOVED,
    &NTLMV1_REMOVED_SERVER,
    &NTLMV1_SSO_AUDIT,
    &NTLMV1_SSO_BLOCK,
    &CLIENT_CHARSET,
    &MIN_128_CLIENT,
    &MIN_128_SERVER,
    &MIN_128_KB239869,
    &MIN_FLAGS_CLIENT,
    &MIN_FLAGS_SERVER,
    &MIN_SERVER_AUTHENTICATE,
    &MIN_ESS_NTLMV2,
    &MIN_56,
    &MIN_OS_GENERATION,
    &MIN_UNION,
    &AUTH_FLAGS_SUBSET,
    &AUTH_FLAGS_INTERSECT,
    &LM_REFUSE_LM,
    &LM_REFUSE_NTLMV1,
    &AUTH_CANNOT_VERIFY,
    &CLIENT_NTLMV2_TARGET_INFO,
    &AUTH_RESPONSE,
    &AUTH_NO_LMV2_FALLBACK,
    &AUTH_KEY_EXCH,
    &AUTH_AV_EOL,
    &AUTH_AV_DUPLICATE,
    &AUTH_AV_ECHO,
    &AUTH_MIC_PRESENT,
    &AUTH_MIC,
    &AUTH_CHANNEL_BINDINGS,
    &AUTH_TARGET_NAME,
    &AUTH_TIMESTAMP_AGE,
    &AUTH_REFLECTION,
    &AUTH_CHALLENGE_EXPIRED,
    &HELPER_NAME_UNWRITABLE,
    &DECODE_MALFORMED,
    &SIGN_ALTERED,
    &SIGN_SEQUENCE,
    // Channel binding and target names (baselines).
    &CBT_TLS_ONLY,
    &EPA_ALLOW,
    &EPA_REQUIRE,
    &LDAP_CBT_WHEN_SUPPORTED,
    &LDAP_CBT_ALWAYS,
    &LDAP_SIGNING_REQUIRED,
    &SMB_SPN_IF_PROVIDED,
    &SMB_SPN_REQUIRED,
];

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for r in ALL {
            assert!(seen.insert(r.id), "duplicate rule id {}", r.id);
            assert!(
                r.id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                r.id
            );
            assert_eq!(Rule::by_id(r.id).map(|x| x.id), Some(r.id));
            assert!(!r.statement.ends_with('.'), "{}", r.id);
        }
        assert_eq!(Rule::by_id("no-such-rule"), None);
    }

    #[test]
    fn every_named_static_is_listed() {
        let src = include_str!("rules.rs");
        let statics = src
            .lines()
            .filter(|l| l.starts_with("pub static ") && l.ends_with(": Rule = Rule {"))
            .count();
        assert_eq!(statics, ALL.len());
    }

    #[test]
    fn spec_rules_cite_ms_nlmp_first() {
        for r in ALL {
            if r.basis == Basis::Spec {
                assert!(matches!(r.source, Source::MsNlmp(_)), "{}", r.id);
            }
        }
    }

    #[test]
    fn inferred_statuses_say_so() {
        // Rules whose status code is not stated by their primary source must
        // not claim a stronger basis than Inferred, except those observed in
        // a real implementation.
        for r in [
            &MIN_FLAGS_CLIENT,
            &MIN_FLAGS_SERVER,
            &MIN_SERVER_AUTHENTICATE,
            &AUTH_FLAGS_SUBSET,
            &LM_REFUSE_NTLMV1,
        ] {
            assert_eq!(r.basis, Basis::Inferred, "{}", r.id);
        }
    }

    #[test]
    fn display_has_id_and_source() {
        assert_eq!(
            MIN_128_CLIENT.to_string().split(':').next(),
            Some("min-128-client")
        );
        assert!(MIN_128_CLIENT.to_string().ends_with("[MS-NLMP 3.1.5.1.2]"));
    }
}
