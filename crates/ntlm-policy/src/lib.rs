//! NTLM negotiation and minimum-session-security policy as pure functions.
//!
//! This crate decides, from flags and settings alone, what an NTLM client
//! offers, what a server returns, and whether either side refuses the result
//! under the Windows settings
//!
//! - `NtlmMinClientSec` / `NtlmMinServerSec` ([`MinSessionSecurity`]; policy
//!   "Network security: Minimum session security for NTLM SSP based
//!   (including secure RPC) clients/servers"), and
//! - `LmCompatibilityLevel` ([`LmCompatibilityLevel`]; policy "Network
//!   security: LAN Manager authentication level").
//!
//! A refusal is a [`Failure`] value: side, stage (the message whose *receipt*
//! failed), [`Status`] name and code, required/negotiated/missing flags, a
//! one-line reason and the [`Rule`] with its [`Source`]. Every rule carries its
//! source as data; where Windows behaviour is not confirmed, the choice is an
//! explicit switch of [`Semantics`] with a documented default.
//!
//! # Contract
//!
//! - No I/O, no clock, no randomness, no panics.
//! - [`negotiate_only`] and every check allocate nothing: failures are `Copy`
//!   values and their text ([`Failure::reason`], `Display`) is produced only
//!   when printed. Parsing and [`warnings`] allocate.
//! - Each side enforces only its own value; the effective requirement of a
//!   connection is the union of both ([`effective_requirement`]).
//!
//! ```
//! use ntlm_policy::{
//!     negotiate_only, ClientConfig, MinSessionSecurity, Outcome, Semantics, ServerConfig,
//!     Side, Stage, Status,
//! };
//! use ntlm_wire::NegotiateFlags;
//!
//! // A client that offers neither ESS nor 128-bit, against a server that
//! // requires both (the STIG baseline 0x20080000).
//! let client = ClientConfig {
//!     flags_override: Some(NegotiateFlags::from_bits_retain(0x0281_8205)),
//!     ..ClientConfig::default()
//! };
//! let server_min: MinSessionSecurity = "0x20080000".parse()?;
//! let outcome = negotiate_only(
//!     &client,
//!     &ServerConfig::default(),
//!     MinSessionSecurity::NONE,
//!     server_min,
//!     &Semantics::default(),
//! );
//! let Outcome::Failure(f) = outcome else { panic!("expected a failure") };
//! assert_eq!((f.side, f.stage), (Side::Server, Stage::Negotiate));
//! assert_eq!(f.status, Status::SecEUnsupportedFunction);
//! // Under the default (calibrated) reading only the missing ESS fails it,
//! // as the server's event log in microsoft/mssql-jdbc#1180 shows; the
//! // strict `ms-nlmp` reading also reports the missing 128.
//! assert_eq!(f.missing.bits(), 0x0008_0000);
//! assert_eq!(f.rule.source.to_string(), "KB239869");
//! let strict = negotiate_only(
//!     &client,
//!     &ServerConfig::default(),
//!     MinSessionSecurity::NONE,
//!     server_min,
//!     &Semantics::MS_NLMP,
//! );
//! assert_eq!(strict.failure().map(|f| f.missing.bits()), Some(0x2008_0000));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Minimum-security bits
//!
//! | Bit | Token | Group Policy option | Requires | Source |
//! |---|---|---|---|---|
//! | `0x00000010` | `require_message_integrity` | Require message integrity (XP/2003 UI only) | `NEGOTIATE_SIGN` | KB239869 |
//! | `0x00000020` | `require_message_confidentiality` | Require message confidentiality (XP/2003 UI only) | `NEGOTIATE_SEAL` | KB239869 |
//! | `0x00080000` | `require_NTLMv2_session_security` | Require NTLMv2 session security | `NEGOTIATE_EXTENDED_SESSIONSECURITY` (see `ess`) | KB239869 |
//! | `0x20000000` | `require_128bit_encryption` | Require 128-bit encryption | `NEGOTIATE_128` when SEAL is negotiated (default; see `rule-128`) | KB239869; MS-NLMP 3.1.5.1.2, 3.2.5.1.1 |
//! | `0x80000000` | `require_56bit_encryption` | none (registry only) | `NEGOTIATE_56` (see `bit56`) | KB239869 lists it without semantics |
//!
//! `all_above` is `0x20080030`; `none` is 0. Other bits are kept, reported as
//! warnings, and never enforced. Defaults: 0 through Windows Server 2008,
//! `0x20000000` on new Windows 7 / 2008 R2+ installations (MS-NLMP <38>/<60>,
//! KB932461, "Changes in NTLM Authentication"); the STIG/CIS baseline is
//! `0x20080000`.
//!
//! # Semantics switches
//!
//! | Switch | Values (default first) | What it decides | Sources |
//! |---|---|---|---|
//! | `rule-128` ([`Rule128`]) | **`kb239869`**, `strict` | kb239869: 0x20000000 fails only when SEAL is negotiated without 128; strict: it fails unless `NEGOTIATE_128` is in the negotiated flags | KB239869 "if message confidentiality is in use" and the field observations (kb239869); MS-NLMP 3.1.5.1.2, 3.2.5.1.1 (strict). kb239869 is the default because the strict reading contradicts the field: a Windows Server 2016 SQL Server at 0x20000000 accepts negotiated flags 0x02818205 (no 128, no SIGN/SEAL) and refuses them only once 0x80000 is added (microsoft/mssql-jdbc#1180); curl and jTDS, which never offer 128, log on to default Windows 7+ servers (curl/curl#13291, microsoft/mssql-jdbc#1172); see `data/observations.toml` |
//! | `server-strength` ([`ServerStrength`]) | **`echo`**, `literal` | echo: a server returns 128/56 whenever requested and supported; literal: only when the client also requested SIGN or SEAL | observed Windows 7 / 2008 R2 capture (echo) and MS-NLMP <23>; MS-NLMP 2.2.2.5 (literal). Echo is the default because with the literal rule two default-configured Windows 7+ hosts (both requiring 128) could not authenticate without SIGN/SEAL, which the capture contradicts |
//! | `enforce` ([`Enforce`]) | **`all-known`**, `os-generation` | os-generation: a peer newer than XP/2003 ignores 0x10/0x20 (UNCONFIRMED) | CCE-44861-3 and the 2008 R2 policy page: the options exist only in the XP/2003 UI |
//! | `client-request` ([`ClientRequest`]) | **`app-only`**, `or-required` | or-required: the client ORs its known NtlmMinClientSec bits into its NEGOTIATE | Samba `gensec_ntlmssp_client_start()` (`required_flags`); undocumented for Windows, KB239869 only says the client "requests" items |
//! | `ess` ([`EssMeaning`]) | **`flag`**, `flag-or-ntlmv2` | flag-or-ntlmv2: NTLMv2 authentication satisfies 0x80000 without the flag; a server can only apply it on AUTHENTICATE | KB239869 / the bit is the flag (flag); Samba `ntlmssp_handle_neg_flags()`, bug 12862 |
//! | `bit56` ([`Bit56`]) | **`enforce`**, `ignore` | enforce: 0x80000000 requires `NEGOTIATE_56` | inference from the other KB239869 bits; KB239869 gives it no semantics |
//! | `authenticate-extra` ([`AuthenticateExtra`]) | **`reject`**, `intersect` | reject: AUTHENTICATE session-security flags absent from the CHALLENGE are refused with SEC_E_INVALID_TOKEN; intersect: they are dropped | MS-NLMP 2.2.1.3 ("the set of bit flags negotiated in the previous messages"), status inferred from MS-NLMP's use of SEC_E_INVALID_TOKEN for tokens that contradict the negotiation; Samba intersects |
//! | `ntlmv1-server` ([`Ntlmv1Server`]) | **`accepts`**, `refuses` | refuses: a Windows 11 24H2 / Server 2025 server (profile key `ntlmv1_removed`) refuses LM, NTLMv1 and NTLM2 session responses whatever its LmCompatibilityLevel | KB5066470 ('NTLMv1 removed', said of the protocol without saying what such a server answers); accepts is the default because no source shows a 24H2 / 2025 server refusing NTLMv1 below level 5 (UNCONFIRMED) |
//! | `level0-ess` ([`Level0Ess`]) | **`requested`**, `never` | requested: a client at LmCompatibilityLevel 0 requests EXTENDED_SESSIONSECURITY as levels 1 and 2 do and sends the NTLM2 session response when it is negotiated; never: level 0 neither requests nor uses it | the MS-POP3 4.1 example (a Windows XP client, whose default is level 0, requests ESS and answers a Server 2003 with the NTLM2 session response) and E. Glass's report of level-0 clients sending the NTLM2 session response (samba-technical, 30 July 2003) (requested); the LAN Manager authentication level page ("never use NTLMv2 session security") and KB932461 (never). requested is the default because it is what the public messages show; under never a Windows XP / 2000 / NT 4.0 client at its default level fails against any server requiring NTLMv2 session security (0x20080000) |
//!
//! # Why the default reading of 0x20000000 is KB239869's
//!
//! Until the calibration the default read "128-bit negotiated" strictly
//! (MS-NLMP 3.1.5.1.2, 3.2.5.1.1: NEGOTIATE_128 in the negotiated flags, with
//! or without SEAL). That reading predicts that every client offering neither
//! 128 nor SEAL already fails against every Windows 7+ server at its default
//! `0x20000000`. The field says otherwise (`data/observations.toml`, checked by
//! `cargo test`, listed by `ntlmsim profiles --observations`):
//!
//! - microsoft/mssql-jdbc#1180: a Windows Server 2016 host at `0x20080000`
//!   logs event 4011 for the negotiated flags `0x02818205` (no 128, no SIGN or
//!   SEAL); with "Require NTLMv2 session security" turned off (`0x20000000`
//!   left) the same client logs on.
//! - microsoft/mssql-jdbc#1172: jTDS (no 128, no ESS) logs on to SQL Server 2016.
//! - curl/curl#13291: IIS on current Windows answers curl's NEGOTIATE (no 128,
//!   no SIGN/SEAL) with a CHALLENGE.
//!
//! KB239869 ("if message confidentiality is in use but 128-bit encryption is
//! not negotiated") reproduces all of them, so it is the default (`calibrated`);
//! the strict reading stays available as `ms-nlmp`.
//!
//! # Why LmCompatibilityLevel 0 requests ESS by default
//!
//! Microsoft's policy text says that clients at LmCompatibilityLevel 0 (the
//! default of Windows NT 4.0, 2000 and XP) "never use NTLMv2 session security"
//! (the LAN Manager authentication level page; the Windows 2000 registry
//! reference), and KB932461 warns that "Require NTLMv2 session security" and
//! level 0 "may conflict". Read literally, every XP client at its default
//! would fail against any server requiring NTLMv2 session security
//! (`0x20080000`, the STIG/CIS baseline). The public messages say otherwise
//! (`data/observations.toml`):
//!
//! - MS-POP3 4.1: a Windows XP client (Version 5.1.2600; its level is not
//!   stated, XP's default is 0) sends NEGOTIATE `0xa2088207` with ESS, a
//!   Windows Server 2003 returns ESS (`0xa28a8205`), and the client answers
//!   with AUTHENTICATE `0xa2888205` carrying the NTLM2 session response (LM
//!   field: the client challenge and 16 zero bytes); the logon succeeds.
//! - E. Glass, samba-technical, 30 July 2003 ("NTLM authentication with NTLM2
//!   session security"): once client and server "have agreed upon the
//!   'Negotiate NTLM2 Key' NTLMSSP flag", with "LMCompatibilityLevel ... set
//!   to 0" the client sends the NTLM2 session response.
//!
//! No public field report of XP clients refused by a `0x20080000` server was
//! found either way. The sources disagree, so the choice is the switch
//! `level0-ess`: `requested` (default) follows the messages, `never` the policy
//! text. A verdict that depends on it says so (`depends_on`, `reversed_by`),
//! and the profiles of Windows NT 4.0, 2000 and XP state the reading their
//! client facts rest on.
//!
//! # Presets
//!
//! | Name | Switches | Use |
//! |---|---|---|
//! | `calibrated` (default; alias `kb239869`) | all defaults | KB239869's reading of the 128-bit bit, which every field observation in `data/observations.toml` supports; MS-NLMP wherever it speaks otherwise, the Windows capture where a literal reading contradicts it |
//! | `ms-nlmp` | `rule-128=strict` | the strict reading of MS-NLMP 3.1.5.1.2 / 3.2.5.1.1 (the default before the calibration): what a literal reading of the specification predicts |
//! | `ms-nlmp-literal` | `rule-128=strict`, `server-strength=literal` | MS-NLMP 2.2.2.5 read literally as well |
//! | `samba` | `rule-128=strict`, `client-request=or-required`, `ess=flag-or-ntlmv2`, `authenticate-extra=intersect` | Samba's NTLMSSP |
//! | `os-generation` | `rule-128=strict`, `enforce=os-generation` | the unconfirmed "post-2003 Windows ignores 0x10/0x20" hypothesis |
//! | `lenient` | `rule-128=kb239869`, `enforce=os-generation`, `ess=flag-or-ntlmv2`, `bit56=ignore`, `authenticate-extra=intersect` | the most permissive reading of every unconfirmed point: what breaks even then breaks for sure |
//!
//! # Choosing switches one by one
//!
//! `--semantics` also takes single switches, `SWITCH=VALUE` items separated by commas
//! (`--semantics rule-128=kb239869,client-request=or-required`), or a preset followed by overrides
//! (`--semantics ms-nlmp,bit56=ignore`). Switches not named keep the preset's value (the default
//! preset's when none is named). Names and values ignore ASCII case and `-`/`_`; an unknown switch or
//! value is an error that names it and lists the accepted ones. `Semantics::spec` prints any set of
//! switches in this form (the closest preset, then the switches that differ from it), and
//! `Semantics::parse` reads it back.
//!
//! # Certainty of a verdict
//!
//! A verdict reached under one reading may hold under every documented reading or only under some.
//! `ntlm_policy::certainty` evaluates a case under every combination of every value of every switch
//! (`Semantics::SWITCHES`: 2^9 = 512 readings) and reports how many readings agree, the switches the
//! verdict depends on (`depends_on`), the switch values that reverse it when changed alone
//! (`reversed_by`), and, when the agreeing readings are exactly those with some switch values, those
//! values (`only_under`). It is generic over the evaluation (`certainty_of_exchange` for the
//! flags-only model, `certainty_of_check` for negotiated flags, or any closure). Every verdict ntlmsim
//! gives carries it ("breaks under every documented reading", "breaks only under rule-128=strict;
//! works under every other reading"), as `certainty` in `--json`:
//!
//! - `handshake`, `demo` and `policy check`: the exchange (or the flags) under each reading.
//! - `interop`: each pair's after verdict, the same exchange with the run's application requests
//!   under each reading, decided by the flags-only engine (both engines take the policy decisions
//!   the switches change through the same functions; a test checks that the certainty is the one the
//!   full engine gives) unless that engine does not reach the run's verdict, then by the run's
//!   engine; once per distinct exchange. The human output gives each group of newly breaking pairs
//!   its certainty and counts the newly breaking pairs that break under every reading
//!   (`summary.breaking_under_every_reading`); `--html` shows it in each pair's details.
//! - `audit`: each captured exchange's verdict, its checks repeated under each reading over the
//!   captured flags; the human verdict, the HTML report and the CSV `certainty` column add it when a
//!   reading reverses the verdict; `summary.breaking_under_every_reading` counts the certain breaks.
//! - `serve http`: the enforced verdict and each what-if verdict, the server's two policy decisions
//!   (on NEGOTIATE and on AUTHENTICATE) repeated under each reading over the observed flags (a
//!   reading whose CHALLENGE differs gets the answer the client would give it); a failure those
//!   decisions do not explain (wrong password, expired CHALLENGE, bad MIC) fails under every reading.
//! - `attack`: whether the attack is detected, with the verdicts the other readings reach
//!   (`other_verdicts`, e.g. `baseline-fails`).
//!
//! When several bits are missing, each has its own rule and basis (`ntlm_policy::bit_rules`;
//! `missing_rules` in the JSON outcome).
//!
//! # Pasted settings
//!
//! `ntlm_policy::read_settings` (behind `ntlmsim policy explain`) reads what administrators paste:
//! `reg query` output with its key line (`HKEY_LOCAL_MACHINE\...\MSV1_0`, then
//! `    NtlmMinServerSec    REG_DWORD    0x20080000`), whole `.reg` files (`dword:0x20080030` accepted),
//! secedit/GptTmpl.inf lines, `gpresult /z` `KeyName:`/`Value:` pairs, Group Policy text as gpresult,
//! RSOP or secpol show it ("Network security: Minimum session security for NTLM SSP based (including
//! secure RPC) servers  Require NTLMv2 session security, Require 128-bit encryption"), and
//! `LmCompatibilityLevel` in each of these forms (including "Network security: LAN Manager
//! authentication level  Send NTLMv2 response only. Refuse LM & NTLM"). Other registry values in a
//! paste are listed as ignored; a value under a key Windows does not read it from (`NtlmMinClientSec`
//! outside `...\Lsa\MSV1_0`, `LmCompatibilityLevel` outside `...\Lsa`) is flagged. Errors name the
//! line and column.
//!
//! The same reader takes the Restrict NTLM values (`RestrictSendingNTLMTraffic`,
//! `RestrictReceivingNTLMTraffic`, `AuditReceivingNTLMTraffic` under `MSV1_0`; `RestrictNTLMInDomain`,
//! `AuditNTLMInDomain` under `Services\Netlogon\Parameters`), `BlockNtlmv1SSO` (KB5066470), the SMB
//! client's `BlockNTLM`, their Group Policy text ("Network security: Restrict NTLM: Incoming NTLM
//! traffic  Deny all accounts", "Block NTLM (LM, NTLM, NTLMv2)  Enabled") and the REG_MULTI_SZ
//! exception lists (`ClientAllowedNTLMServers`, `DCAllowedNTLMServers`, `BlockNTLMServerExceptionList`)
//! as `reg query`, `reg add`, `.reg` `hex(7):`, secedit `7,a,b`, PowerShell `{a, b}` or policy text.
//! What each one decides, and the events it writes, is in `ntlm_policy::restrict`.
//!
//! # LmCompatibilityLevel
//!
//! | Level | Client sends | Requests ESS | Server / DC accepts | Sources |
//! |---|---|---|---|---|
//! | 0 | LM + NTLMv1, NTLM2 session response if ESS is negotiated (`level0-ess=requested`) | yes by default; never under `level0-ess=never` | everything | MS-NLMP <81>, LAN Manager authentication level page (never); MS-POP3 4.1, samba-technical 2003 (requested) |
//! | 1 | LM + NTLMv1, NTLM2 session response if ESS is negotiated | yes | everything | same |
//! | 2 | NTLMv1 (LM field = NT response), NTLM2 session response if ESS is negotiated | yes | everything | same; MS-NLMP 3.3.1 NoLMResponseNTLMv1 |
//! | 3 | NTLMv2 + LMv2 | yes | everything | same |
//! | 4 | NTLMv2 + LMv2 | yes | refuses LM | same |
//! | 5 | NTLMv2 + LMv2 | yes | refuses LM, NTLMv1 and NTLM2 session | same |
//!
//! A refused response fails on the server at stage authenticate with
//! STATUS_LOGON_FAILURE (rules `lm-refuse-lm`, `lm-refuse-ntlmv1`; status
//! inferred, Samba answers STATUS_WRONG_PASSWORD).
//!
//! # Rules
//!
//! Every [`Rule`] in [`rules::ALL`], in exchange order. Basis: how well
//! established the rule is as applied, status code included.
//!
//! | Id | Rule | Source | Status | Basis |
//! |---|---|---|---|---|
//! | `neg-client-base` | the client always sets REQUEST_TARGET, NTLM, ALWAYS_SIGN and UNICODE in the NEGOTIATE | MS-NLMP 3.1.5.1.1 | none | spec |
//! | `neg-client-ess` | the client requests EXTENDED_SESSIONSECURITY unless LM authentication is used: LmCompatibilityLevel 1 to 5 always do; level 0 as the level0-ess switch reads it | MS-NLMP 3.1.5.1.1; Microsoft documentation: Network security: LAN Manager authentication level; inference: 'if LM authentication is not being used' read with the level table | none | inferred |
//! | `neg-client-ess-level0-requested` | with level0-ess=requested (default) a client at LmCompatibilityLevel 0 requests EXTENDED_SESSIONSECURITY as levels 1 and 2 do and, when it is negotiated, sends the NTLM2 session response instead of LM and NTLMv1 | observed: MS-POP3 4.1 example: a Windows XP client (Version 5.1.2600, default LmCompatibilityLevel 0, the level not stated) sends NEGOTIATE 0xa2088207 with ESS, a Windows Server 2003 returns ESS (0xa28a8205) and the client answers with the NTLM2 session response (LM field: client challenge and Z(16)); the logon succeeds; observed: E. Glass, samba-technical, 30 July 2003 ('NTLM authentication with NTLM2 session security'): with the NTLM2 key flag agreed and 'LMCompatibilityLevel is set to 0' the LM field carries the client nonce and the NT response the NTLM2 session response; MS-NLMP 3.3.1 | none | observed |
//! | `neg-client-ess-level0-never` | with level0-ess=never a client at LmCompatibilityLevel 0 neither requests nor uses EXTENDED_SESSIONSECURITY: it sends LM and NTLMv1 responses, so a server requiring NTLMv2 session security (0x80000) refuses it | Microsoft documentation: Network security: LAN Manager authentication level; Microsoft documentation: Windows 2000 registry reference: LmCompatibilityLevel (cc960646); KB932461; inference: 'never use NTLMv2 session security' read as never requesting ESS | none | inferred |
//! | `neg-client-app-flags` | Integrity/Replay Detect/Sequence Detect set SIGN; Confidentiality adds SEAL, KEY_EXCH, LM_KEY and EXTENDED_SESSIONSECURITY; Datagram adds DATAGRAM; Identify adds IDENTIFY | MS-NLMP 3.1.1.2 | none | spec |
//! | `neg-client-or-required` | with client-request=or-required the client adds its NtlmMinClientSec bits to the NEGOTIATE, as Samba does with required_flags; Windows does not document it | Samba auth/ntlmssp/ntlmssp_client.c gensec_ntlmssp_client_start(); KB239869 | none | unconfirmed |
//! | `neg-client-authenticate-flags` | the AUTHENTICATE carries the CHALLENGE flags without TARGET_TYPE_DOMAIN/SERVER, and UNICODE alone when both charsets were returned | observed: Windows 7 client / Windows Server 2008 R2 DC capture (gss-ntlmssp tests/ntlmssptest.c T_NTLMv2_CBT); MS-NLMP 2.2.1.3 | none | observed |
//! | `neg-server-charset` | the server returns UNICODE if requested, else OEM; a NEGOTIATE with neither usable charset is refused with SEC_E_INVALID_TOKEN | MS-NLMP 2.2.2.5; MS-NLMP 3.2.5.1.1 | SEC_E_INVALID_TOKEN | spec |
//! | `neg-server-ess-over-lm-key` | the server returns EXTENDED_SESSIONSECURITY when requested and supported, LM_KEY only otherwise, never both | MS-NLMP 2.2.2.5; MS-NLMP 3.2.5.1.1 | none | spec |
//! | `neg-server-sign-seal` | SIGN and SEAL requested in the NEGOTIATE MUST be returned in the CHALLENGE | MS-NLMP 2.2.2.5; MS-NLMP 2.2.1.2 | none | spec |
//! | `neg-server-strength-literal` | with server-strength=literal the server returns 128 and 56 only when the client also requested SIGN or SEAL (128: 'otherwise it is ignored') | MS-NLMP 2.2.2.5; inference: 56 treated like 128, as in the 2.2.2.5 MUST for 56 | none | spec |
//! | `neg-server-strength-echo` | with server-strength=echo (default) the server returns 128 and 56 whenever requested and supported, with or without SIGN/SEAL | observed: Windows 7 client / Windows Server 2008 R2 DC capture (gss-ntlmssp tests/ntlmssptest.c T_NTLMv2_CBT); MS-NLMP Appendix B <23> | none | observed |
//! | `neg-server-optional` | KEY_EXCH, IDENTIFY, DATAGRAM, VERSION and REQUEST_NON_NT_SESSION_KEY are returned when requested and supported; supported flags the client did not request are not | MS-NLMP 3.2.5.1.1; MS-NLMP 2.2.1.2; Samba auth/ntlmssp/ntlmssp_util.c ntlmssp_handle_neg_flags(); inference: 'all the flags set in CfgFlg' read as the intersection, as implementations do | none | observed |
//! | `neg-server-datagram-key-exch` | DATAGRAM in the CHALLENGE forces KEY_EXCH | MS-NLMP 2.2.2.5 | none | spec |
//! | `neg-server-datagram-generation` | only Windows NT through Server 2008 support connectionless (DATAGRAM) NTLM; Windows 7 / 2008 R2 and later servers never return DATAGRAM | MS-NLMP Appendix B <52>; MS-NLMP Appendix B <70> | none | documented |
//! | `neg-server-mandatory` | the CHALLENGE always carries REQUEST_TARGET, NTLM and ALWAYS_SIGN | MS-NLMP 3.2.5.1.1 | none | spec |
//! | `neg-server-target-info` | the server sets TARGET_INFO (Windows NT only with ESS; Windows 2000/XP/2003 only when the NEGOTIATE has ESS or REQUEST_TARGET; Samba only with REQUEST_TARGET, and then also the target type) | MS-NLMP 3.2.5.1.1; MS-NLMP Appendix B <64>; Samba libcli/auth/ntlmssp_server.c ntlmssp_target_name() | none | spec |
//! | `neg-server-target-type` | a domain-joined server sets TARGET_TYPE_DOMAIN, any other TARGET_TYPE_SERVER | MS-NLMP 3.2.5.1.1 | none | spec |
//! | `client-blocked` | a client with NTLM blocked (ClientBlocked) returns STATUS_NOT_SUPPORTED and sends no NEGOTIATE | MS-NLMP 3.1.5.1.1; MS-NLMP Appendix B <46> | STATUS_NOT_SUPPORTED | spec |
//! | `server-blocked` | a server with NTLM blocked (ServerBlock) returns STATUS_NOT_SUPPORTED on receipt of NEGOTIATE or AUTHENTICATE | MS-NLMP 3.2.5.1.1; MS-NLMP 3.2.5.1.2 | STATUS_NOT_SUPPORTED | spec |
//! | `dc-ntlm-blocked` | when the DC returns STATUS_NTLM_BLOCKED the server returns STATUS_NOT_SUPPORTED | MS-NLMP 3.3.1; MS-NLMP 3.3.2 | STATUS_NOT_SUPPORTED | spec |
//! | `restrict-outgoing-deny` | a client with RestrictSendingNTLMTraffic = 2 (Deny all) sends no NEGOTIATE to a server missing from ClientAllowedNTLMServers ('*' wildcards, case ignored) and fails with STATUS_NTLM_BLOCKED, logging event 4001 (MS-NLMP's abstract ClientBlocked answers STATUS_NOT_SUPPORTED; the Windows status is inferred from the policy page's 'NTLM blocked error' and the observed ERROR_NTLM_BLOCKED) | Microsoft documentation: Network security: Restrict NTLM: Outgoing NTLM traffic to remote servers; Microsoft documentation: Network security: Restrict NTLM: Add remote server exceptions for NTLM authentication; MS-NLMP 3.1.5.1.1; observed: ERROR_NTLM_BLOCKED (1937, 0x791) 'Authentication failed because NTLM authentication has been disabled' reported by blocked Windows 11 24H2 clients (woshub.com/block-ntlm-connections-windows) | STATUS_NTLM_BLOCKED | inferred |
//! | `restrict-outgoing-audit` | a client with RestrictSendingNTLMTraffic = 1 (Audit all) logs event 8001 for each NTLM request to a remote server and proceeds: it would be logged, nothing breaks | Microsoft documentation: Network security: Restrict NTLM: Outgoing NTLM traffic to remote servers | none | documented |
//! | `smb-client-block-ntlm` | an SMB client with Block NTLM (LM, NTLM, NTLMv2) enabled (Windows 11 24H2 / Server 2025 and later) does not use NTLM for an SMB connection to a server missing from BlockNTLMServerExceptionList; other transports are unaffected; the status is not documented (STATUS_NTLM_BLOCKED assumed) | Microsoft documentation: Block NTLM connections on SMB (Windows Server 2025, Windows 11 24H2); inference: status: the other NTLM blocking settings' STATUS_NTLM_BLOCKED | STATUS_NTLM_BLOCKED | inferred |
//! | `restrict-incoming-deny` | a server with RestrictReceivingNTLMTraffic = 1 refuses NTLM logons of domain accounts (local accounts still log on), = 2 refuses every NTLM logon, returning 'an NTLM blocked error' (STATUS_NTLM_BLOCKED) and logging event 4002; the stage (AUTHENTICATE, where the account's domain is first known) is inferred | Microsoft documentation: Network security: Restrict NTLM: Incoming NTLM traffic; MS-NLMP 3.2.5.1.2; inference: stage: the account is named only in the AUTHENTICATE | STATUS_NTLM_BLOCKED | inferred |
//! | `restrict-incoming-audit` | a server with AuditReceivingNTLMTraffic = 1 (domain accounts) or 2 (all accounts) logs event 8002 for each NTLM logon the Incoming NTLM traffic policy would block, and accepts it: it would be logged, nothing breaks | Microsoft documentation: Network security: Restrict NTLM: Audit Incoming NTLM Traffic | none | documented |
//! | `restrict-domain-deny` | a DC with RestrictNTLMInDomain = 1 (domain accounts to domain servers), 3 (domain accounts), 5 (domain servers) or 7 (all) refuses pass-through logons in that scope unless the server is on DCAllowedNTLMServers, with STATUS_NTLM_BLOCKED, which the server relays as STATUS_NOT_SUPPORTED (dc-ntlm-blocked); the numbers are those audit tools map (the page names only the options) | Microsoft documentation: Network security: Restrict NTLM: NTLM authentication in this domain; Microsoft documentation: Network security: Restrict NTLM: Add server exceptions in this domain; MS-NLMP 3.3.1; inference: value numbers 0/1/3/5/7: the bit layout audit scripts read | STATUS_NOT_SUPPORTED | inferred |
//! | `restrict-domain-audit` | a DC with AuditNTLMInDomain set logs event 8004 for each pass-through logon the same RestrictNTLMInDomain value would deny, and lets it through: it would be logged, nothing breaks | Microsoft documentation: Network security: Restrict NTLM: Audit NTLM authentication in this domain | none | documented |
//! | `ntlmv1-removed` | Windows 11 24H2 and Windows Server 2025 no longer send LM or NTLMv1 responses whatever LmCompatibilityLevel says (the client sends NTLMv2), so a server that verifies only NTLMv1 refuses the logon (auth-cannot-verify); users report ERROR_NTLM_BLOCKED on the client, which check on the client produces it is unknown | KB5066470; Microsoft documentation: Removed features and functionality in Windows client (NTLMv1); observed: ERROR_NTLM_BLOCKED (1937, 0x791) 'Authentication failed because NTLM authentication has been disabled' reported by blocked Windows 11 24H2 clients (woshub.com/block-ntlm-connections-windows) | none | documented |
//! | `ntlmv1-removed-server` | with ntlmv1-server=refuses a Windows 11 24H2 / Server 2025 server refuses LM, NTLMv1 and NTLM2 session responses whatever its LmCompatibilityLevel; STATUS_LOGON_FAILURE (status inferred, as lm-refuse-ntlmv1); KB5066470 says only that NTLMv1 is removed | KB5066470; inference: 'NTLMv1 removed' read as the server side too; unconfirmed, hence a switch | STATUS_LOGON_FAILURE | unconfirmed |
//! | `ntlmv1-sso-audit` | on Windows 11 24H2 / Server 2025 without Credential Guard, BlockNtlmv1SSO = 0 or unset logs event 4024 when NTLMv1-derived credentials are used for single sign-on (MS-CHAPv2 in a domain) and lets it proceed: it would be logged, nothing breaks | KB5066470 | none | documented |
//! | `ntlmv1-sso-block` | on Windows 11 24H2 / Server 2025 without Credential Guard, BlockNtlmv1SSO = 1 blocks NTLMv1-derived credentials for single sign-on and logs event 4025; with Credential Guard running the setting has no effect; the status is not documented (STATUS_NTLM_BLOCKED assumed) | KB5066470; inference: status: the other NTLM blocking settings' STATUS_NTLM_BLOCKED | STATUS_NTLM_BLOCKED | inferred |
//! | `client-charset` | a CHALLENGE with neither UNICODE nor OEM is refused with SEC_E_INVALID_TOKEN | MS-NLMP 2.2.2.5 | SEC_E_INVALID_TOKEN | spec |
//! | `min-128-client` | NtlmMinClientSec 0x20000000 (ClientRequire128bitEncryption): a CHALLENGE without NEGOTIATE_128 is refused with SEC_E_UNSUPPORTED_FUNCTION, no AUTHENTICATE is sent | MS-NLMP 3.1.5.1.2; MS-NLMP Appendix B <38>; KB239869 | SEC_E_UNSUPPORTED_FUNCTION | spec |
//! | `min-128-server` | NtlmMinServerSec 0x20000000 (ServerRequire128bitEncryption): if NEGOTIATE_128 is not negotiated the server returns SEC_E_UNSUPPORTED_FUNCTION, no CHALLENGE is sent | MS-NLMP 3.2.5.1.1; MS-NLMP Appendix B <60>; KB239869 | SEC_E_UNSUPPORTED_FUNCTION | spec |
//! | `min-128-kb239869` | with rule-128=kb239869, 0x20000000 fails only when SEAL is negotiated without NEGOTIATE_128 ('if message confidentiality is in use') | KB239869; MS-NLMP 3.1.5.1.2; MS-NLMP 3.2.5.1.1 | SEC_E_UNSUPPORTED_FUNCTION | documented |
//! | `min-flags-client` | NtlmMinClientSec 0x10/0x20/0x80000/0x80000000: a CHALLENGE without SIGN/SEAL/EXTENDED_SESSIONSECURITY/56 is refused; the status is SEC_E_UNSUPPORTED_FUNCTION by analogy with the 128-bit rule and Samba | KB239869; MS-NLMP 3.1.5.1.2; Samba auth/ntlmssp/ntlmssp_util.c ntlmssp_handle_neg_flags() | SEC_E_UNSUPPORTED_FUNCTION | inferred |
//! | `min-flags-server` | NtlmMinServerSec 0x10/0x20/0x80000/0x80000000: if the CHALLENGE the server would send lacks SIGN/SEAL/EXTENDED_SESSIONSECURITY/56 it returns SEC_E_UNSUPPORTED_FUNCTION (status inferred) and sends no CHALLENGE | KB239869; MS-NLMP 3.2.5.1.1; Samba auth/ntlmssp/ntlmssp_util.c ntlmssp_handle_neg_flags() | SEC_E_UNSUPPORTED_FUNCTION | inferred |
//! | `min-server-authenticate` | on AUTHENTICATE the server checks NtlmMinServerSec again against the AUTHENTICATE flags, anonymous clients included; SEC_E_UNSUPPORTED_FUNCTION (status inferred) | MS-NLMP 3.2.5.1.2; Samba auth/ntlmssp/ntlmssp_server.c ntlmssp_server_preauth() | SEC_E_UNSUPPORTED_FUNCTION | inferred |
//! | `min-ess-ntlmv2` | with ess=flag-or-ntlmv2, NTLMv2 authentication satisfies 'Require NTLMv2 session security' without the flag (Samba, bug 12862); a server can only apply this on AUTHENTICATE | Samba auth/ntlmssp/ntlmssp_util.c ntlmssp_handle_neg_flags(); Microsoft documentation: Network security: Minimum session security for NTLM SSP based clients/servers | SEC_E_UNSUPPORTED_FUNCTION | observed |
//! | `min-56` | with bit56=enforce (default), 0x80000000 is enforced as 'NEGOTIATE_56 must be negotiated'; KB239869 lists the value without semantics | inference: the other KB239869 bits each require their flag; KB239869 | SEC_E_UNSUPPORTED_FUNCTION | inferred |
//! | `min-os-generation` | with enforce=os-generation, a peer newer than Windows XP/Server 2003 ignores 0x10 and 0x20, which only the XP/2003 policy UI offers | Microsoft documentation: CCE-44861-3; Windows Server 2008 R2 policy reference (jj852240) | none | unconfirmed |
//! | `min-union` | each side enforces only its own value; the effective requirement of a connection is the union of NtlmMinClientSec and NtlmMinServerSec | KB239869; inference: each MS-NLMP check names only its own side's policy | none | inferred |
//! | `auth-flags-subset` | AUTHENTICATE may not carry session-security flags the CHALLENGE did not return; the server refuses it with SEC_E_INVALID_TOKEN (status inferred) | MS-NLMP 2.2.1.3; inference: MS-NLMP answers token contents that contradict the negotiation with SEC_E_INVALID_TOKEN (2.2.2.5, 3.2.5.1.2); STATUS_INVALID_PARAMETER is Samba's code for malformed messages, and Samba intersects instead of failing | SEC_E_INVALID_TOKEN | inferred |
//! | `auth-flags-intersect` | with authenticate-extra=intersect the server ignores AUTHENTICATE flags the CHALLENGE did not return | Samba auth/ntlmssp/ntlmssp_util.c ntlmssp_handle_neg_flags() | none | observed |
//! | `lm-refuse-lm` | a server or DC at LmCompatibilityLevel 4 or 5 refuses an LM-only response; STATUS_LOGON_FAILURE (status inferred) | MS-NLMP Appendix B <81>; Microsoft documentation: Network security: LAN Manager authentication level | STATUS_LOGON_FAILURE | inferred |
//! | `lm-refuse-ntlmv1` | a server or DC at LmCompatibilityLevel 5 refuses NTLMv1 and NTLM2 session responses; STATUS_LOGON_FAILURE (status inferred; Samba: STATUS_WRONG_PASSWORD) | MS-NLMP Appendix B <81>; Microsoft documentation: Network security: LAN Manager authentication level; Samba libcli/auth/ntlm_check.c ntlm_password_check() | STATUS_LOGON_FAILURE | inferred |
//! | `auth-cannot-verify` | a server that implements only older response kinds (an NTLMv1-only NAS or printer) cannot verify an NTLMv2 response and refuses the logon; STATUS_LOGON_FAILURE (status inferred; KB954387: 'access is denied') | KB954387; inference: KB954387 gives the symptom (access denied, cannot log on) and the workaround (a lower client LmCompatibilityLevel), not the status code | STATUS_LOGON_FAILURE | inferred |
//! | `client-ntlmv2-target-info` | an NTLMv2 client that wants integrity or confidentiality refuses a CHALLENGE whose TargetInfo lacks MsvAvNbComputerName or MsvAvNbDomainName: STATUS_LOGON_FAILURE | MS-NLMP 3.1.5.1.2 | STATUS_LOGON_FAILURE | spec |
//! | `auth-response` | a response that matches neither the expected NT nor LM response is refused ('INVALID message error'); STATUS_LOGON_FAILURE (status inferred) | MS-NLMP 3.2.5.1.2; Samba libcli/auth/ntlm_check.c ntlm_password_check() | STATUS_LOGON_FAILURE | inferred |
//! | `auth-no-lmv2-fallback` | when an NTLMv2 response is present only NTProofStr counts; a valid LMv2 response alone does not authenticate (CVE-2019-1338) | inference: the 3.2.5.1.2 pseudocode accepts a matching LM response alone; the preempt ntlm-scanner CVE-2019-1338 probe shows patched servers refuse it; MS-NLMP 3.2.5.1.2 | STATUS_LOGON_FAILURE | inferred |
//! | `auth-key-exch` | with KEY_EXCH the AUTHENTICATE must carry a valid (16-byte) EncryptedRandomSessionKey, else SEC_E_INVALID_TOKEN (Samba: STATUS_INVALID_PARAMETER); with KEY_EXCH alone, without SIGN or SEAL, only under the server's key_exchange = negotiated reading | MS-NLMP 3.2.5.1.2; Samba auth/ntlmssp/ntlmssp_server.c ntlmssp_server_postauth() | SEC_E_INVALID_TOKEN | spec |
//! | `auth-av-eol` | the NTLMv2 client challenge must contain MsvAvEOL; STATUS_INVALID_PARAMETER | Samba auth/ntlmssp/ntlmssp_server.c ntlmssp_server_preauth(); MS-NLMP 2.2.2.1 | STATUS_INVALID_PARAMETER | observed |
//! | `auth-av-duplicate` | the NTLMv2 AV pairs may not repeat an AvId (CVE-2019-1166 defence); STATUS_INVALID_PARAMETER | inference: preempt ntlm-scanner CVE-2019-1166 probe: patched servers answer STATUS_INVALID_PARAMETER | STATUS_INVALID_PARAMETER | inferred |
//! | `auth-av-echo` | every AV pair the server sent (MsvAvTimestamp included) must appear unchanged in the NTLMv2 client challenge; STATUS_INVALID_PARAMETER | Samba auth/ntlmssp/ntlmssp_server.c ntlmssp_server_preauth() | STATUS_INVALID_PARAMETER | observed |
//! | `auth-mic-present` | when MsvAvFlags has 0x2 the AUTHENTICATE must have a MIC field (88-byte header); STATUS_INVALID_PARAMETER (CVE-2019-1040) | MS-NLMP 3.2.5.1.2; Samba auth/ntlmssp/ntlmssp_server.c ntlmssp_server_preauth(); observed: patched Windows SMB servers answer the preempt scan.py probe so | STATUS_INVALID_PARAMETER | observed |
//! | `auth-mic` | when MsvAvFlags has 0x2 the MIC must equal HMAC_MD5 under ExportedSessionKey of the three messages; STATUS_INVALID_PARAMETER | MS-NLMP 3.2.5.1.2; Samba auth/ntlmssp/ntlmssp_server.c ntlmssp_server_postauth() | STATUS_INVALID_PARAMETER | observed |
//! | `auth-channel-bindings` | with channel bindings configured or required, MsvAvChannelBindings must equal MD5(bindings); GSS_S_BAD_BINDINGS, reported as SEC_E_BAD_BINDINGS | MS-NLMP 3.2.5.1.2; Samba auth/ntlmssp/ntlmssp_server.c ntlmssp_server_preauth() (STATUS_BAD_BINDINGS) | SEC_E_BAD_BINDINGS | inferred |
//! | `auth-target-name` | MsvAvTargetName must equal the expected SPN unless MsvAvFlags has 0x4; STATUS_LOGON_FAILURE (status inferred) | MS-NLMP 3.2.5.1.2 | STATUS_LOGON_FAILURE | inferred |
//! | `auth-timestamp-age` | an NTLMv2 timestamp older than MaxLifetime SHOULD fail (only NT4 to Windows 7/2008 R2 enforce it); STATUS_LOGON_FAILURE (status inferred) | MS-NLMP 3.2.5.1.2; MS-NLMP Appendix B <69>; MS-NLMP Appendix B <39> | STATUS_LOGON_FAILURE | inferred |
//! | `auth-reflection` | an AUTHENTICATE whose response this host produced itself as a client is treated as a replay and refused; STATUS_LOGON_FAILURE (status inferred) | KB957097 | STATUS_LOGON_FAILURE | inferred |
//! | `auth-challenge-expired` | an AUTHENTICATE that arrives after the server's CHALLENGE has outlived its configured lifetime is refused (a resource bound of ntlmsim's server, not a documented Windows limit); STATUS_LOGON_FAILURE | inference: ntlmsim serve: a pending CHALLENGE is held for a bounded time; MS-NLMP 3.2.5.1.2 | STATUS_LOGON_FAILURE | inferred |
//! | `helper-name-unwritable` | a server helper (squid-2.5-ntlmssp) refuses an AUTHENTICATE whose user or domain name holds a line break, control or invisible formatting character, since its answer must be one line; STATUS_LOGON_FAILURE, as for any refused logon | inference: the helper line protocol gives one answer line per request; a name with a line break written verbatim becomes two answers and every later answer goes to the wrong request; observed: Samba ntlm_auth 4.17 --helper-protocol=squid-2.5-ntlmssp writes such a name verbatim after AF, splitting its answer | STATUS_LOGON_FAILURE | inferred |
//! | `decode-malformed` | a message that cannot be decoded is refused with STATUS_INVALID_PARAMETER | Samba auth/ntlmssp/ntlmssp_server.c ntlmssp_server_preauth(); MS-NLMP 2.2.1 | STATUS_INVALID_PARAMETER | observed |
//! | `sign-altered` | a message signature whose checksum does not verify: SEC_E_MESSAGE_ALTERED | inference: SSPI VerifySignature/DecryptMessage semantics; MS-NLMP 3.4.4 | SEC_E_MESSAGE_ALTERED | inferred |
//! | `sign-sequence` | a message signature with an unexpected SeqNum: SEC_E_OUT_OF_SEQUENCE | inference: SSPI VerifySignature/DecryptMessage semantics; MS-NLMP 3.4.4 | SEC_E_OUT_OF_SEQUENCE | inferred |
//! | `cbt-tls-only` | channel bindings are checked only where there is a TLS channel to bind to (HTTPS, LDAPS or StartTLS); over HTTP, LDAP without TLS and SMB the Extended Protection and LdapEnforceChannelBinding settings check nothing | Microsoft documentation: Domain controller: LDAP server channel binding token requirements; KB4034879; inference: RFC 5929 tls-server-end-point is defined only for TLS | none | inferred |
//! | `epa-allow` | IIS Extended Protection Accept (tokenChecking=Allow): over HTTPS a present MsvAvChannelBindings, all-zero included, must match the TLS channel; an absent one is accepted (with --zero-channel-bindings accepted an all-zero one is too, MS-NLMP); SEC_E_BAD_BINDINGS, HTTP 401 (status inferred) | Microsoft documentation: IIS extendedProtection element, tokenChecking attribute; observed: curl/curl#3280, curl/curl#12511, gssapi/gss-ntlmssp#25: an all-zero pair gets 401 under Accept; curl without SSPI, which sends no pair, logs on (curl/curl#3280); MS-NLMP 3.2.5.1.2 | SEC_E_BAD_BINDINGS | inferred |
//! | `epa-require` | IIS Extended Protection Required (tokenChecking=Require): over HTTPS the client must send MsvAvChannelBindings matching the TLS channel; clients that send none (curl without SSPI, DavMail) get HTTP 401; SEC_E_BAD_BINDINGS (status inferred) | Microsoft documentation: IIS extendedProtection element, tokenChecking attribute; MS-NLMP 3.2.5.1.2; observed: curl/curl#3280, mguessan/davmail#352: 401 with Extended Protection; Microsoft documentation: microsoft/CSS-Exchange#1187 (Exchange Extended Protection guide): NTLMv1, which carries no AV pairs, is not supported with Extended Protection | SEC_E_BAD_BINDINGS | inferred |
//! | `ldap-cbt-when-supported` | LdapEnforceChannelBinding 1 (When supported): over LDAPS a client that sends MsvAvChannelBindings must send the channel's (an all-zero value read as for epa-allow, --zero-channel-bindings); one that sends none is accepted; SEC_E_BAD_BINDINGS (bind result 49, data 80090346; status inferred) | KB4034879; Microsoft documentation: Domain controller: LDAP server channel binding token requirements | SEC_E_BAD_BINDINGS | inferred |
//! | `ldap-cbt-always` | LdapEnforceChannelBinding 2 (Always): over LDAPS every NTLM bind must carry MsvAvChannelBindings matching the channel; SEC_E_BAD_BINDINGS (bind result 49, data 80090346; status inferred) | KB4034879; Microsoft documentation: Domain controller: LDAP server channel binding token requirements | SEC_E_BAD_BINDINGS | inferred |
//! | `ldap-signing-required` | LDAPServerIntegrity 2 (Require signing): an NTLM SASL bind over LDAP without TLS must negotiate SIGN or SEAL; otherwise the bind fails with LDAP_STRONG_AUTH_REQUIRED; over LDAPS TLS satisfies the requirement | Microsoft documentation: Domain controller: LDAP server signing requirements; Microsoft documentation: ADV190023: Microsoft Guidance for Enabling LDAP Channel Binding and LDAP Signing | LDAP_STRONG_AUTH_REQUIRED | documented |
//! | `smb-spn-if-provided` | SmbServerNameHardeningLevel 1 (Accept if provided by client): over SMB a non-empty MsvAvTargetName must name this server; an absent or empty one is accepted; STATUS_ACCESS_DENIED | Microsoft documentation: Microsoft network server: Server SPN target name validation level; observed: impacket 0.13 impacket/ntlm.py: without MsvAvTargetName 'we will get access denied'; MS-NLMP 3.2.5.1.2 | STATUS_ACCESS_DENIED | observed |
//! | `smb-spn-required` | SmbServerNameHardeningLevel 2 (Required from client): over SMB the client must send MsvAvTargetName naming this server (MsvAvFlags 0x4 exempts it, MS-NLMP); STATUS_ACCESS_DENIED | Microsoft documentation: Microsoft network server: Server SPN target name validation level; observed: impacket 0.13 impacket/ntlm.py: without MsvAvTargetName 'we will get access denied'; MS-NLMP 3.2.5.1.2 | STATUS_ACCESS_DENIED | observed |
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod binding;
pub mod certainty;
mod enforce;
mod failure;
mod lm;
mod mask;
mod negotiate;
mod parse;
pub mod paste;
mod paste_restrict;
pub mod restrict;
pub mod rules;
mod semantics;
mod source;
mod status;
mod warnings;

pub use binding::{
    BindingPolicy, BindingSetting, BindingsSeen, Carrier, CbtCheck, Checks, ExtendedProtection,
    LdapChannelBinding, LdapSigning, SmbNameHardening, TargetNameCheck, TargetNameSeen,
    ZeroBindings,
};
pub use certainty::{Certainty, Reading, certainty, certainty_of_check, certainty_of_exchange};
pub use enforce::{
    Negotiated, Outcome, bit_rule, bit_rules, check_client_challenge, check_client_target_info,
    check_negotiated, check_negotiated_response, check_ntlmv1_removed_server,
    check_response_accepted, check_server_authenticate, check_server_negotiate,
    client_on_challenge, effective_requirement, enforced_requirement, negotiate_only,
    negotiate_stepwise, server_on_authenticate, server_on_negotiate, unsatisfied,
};
pub use failure::{
    Detail, Details, Failure, FlagNames, Reason, Refusal, Short, Side, Stage, Summary,
};
pub use lm::{LmCompatibilityLevel, LmField};
pub use mask::{BITS, BitInfo, InputForm, MinSessionSecurity, ParsedMask, PolicyValue};
pub use negotiate::{
    CLIENT_BASE, ClientConfig, NEGOTIABLE, OsGeneration, ResponseKinds, SERVER_ALWAYS_SETS,
    SERVER_CAPABILITIES, ServerConfig, TargetInfoRule, authenticate_flags, challenge_flags,
    key_strength_bits, negotiate_flags, weak_key_under_128,
};
pub use parse::{LineForm, ParseError};
pub use paste::{Pasted, PastedSetting, Setting, read_settings};
pub use rules::Rule;
pub use semantics::{
    AuthenticateExtra, Bit56, ClientRequest, Enforce, EssMeaning, Level0Ess, Ntlmv1Server, Preset,
    Rule128, Semantics, ServerStrength, Switch,
};
pub use source::{Basis, Source};
pub use status::{Hex32, Status};
pub use warnings::{Message, Severity, Warning, WarningKind, mask_warnings, warnings};

#[cfg(test)]
mod tests {
    #[test]
    fn crate_docs_list_every_rule_and_preset() {
        let doc = include_str!("lib.rs");
        for line in crate::rules::markdown_table().lines() {
            assert!(
                doc.contains(&format!("//! {line}\n")),
                "the crate documentation's rule table is out of date at: {line}"
            );
        }
        for r in crate::rules::ALL {
            assert!(
                doc.contains(&format!("//! | `{}` |", r.id)),
                "rule {} missing from the crate documentation",
                r.id
            );
        }
        for p in crate::Semantics::PRESETS {
            assert!(
                doc.contains(&format!("//! | `{}`", p.name)),
                "preset {} missing from the crate documentation",
                p.name
            );
        }
    }
}
