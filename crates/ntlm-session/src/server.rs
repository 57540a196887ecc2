//! The server (acceptor): NEGOTIATE in, CHALLENGE out, AUTHENTICATE in
//! (MS-NLMP 3.2.5), verified in the order of MS-NLMP 3.2.5.1.2 plus the
//! checks later Windows and Samba add (duplicate AV pairs, echo, no LMv2 fallback).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use ntlm_crypto::legacy::{
    verify_lmv1_response, verify_ntlm2_session_response, verify_ntlmv1_response,
};
use ntlm_crypto::{
    ExportedSessionKey, KeyExchange, KeyExchangeKey, KxKeyInput, Role, SessionBaseKey,
    decrypt_session_key, key_exchange_applies, kxkey, server_exported_session_key, verify_mic,
    verify_ntlmv2,
};
use ntlm_policy::{
    Checks, Detail, Failure, MinSessionSecurity, Rule, Semantics, ServerConfig, Side, Stage,
    TargetNameCheck, rules, server_on_authenticate, server_on_negotiate,
};
use ntlm_wire::{
    AuthenticateMessage, AvId, AvPairs, AvValue, ChallengeMessage, Charset, FileTime, MsvAvFlags,
    NegotiateFlags as F, NegotiateMessage, NtlmV2Response, ResponseKind, Version,
};
use rand_core::{CryptoRng, RngCore};

use crate::established::{Established, SessionReport};
use crate::reflection::ReflectionCache;
use crate::transcript::Transcript;
use crate::{CredentialStore, decode_failure, text_into};

/// The names a server puts in its CHALLENGE (MS-NLMP 3.2.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerNames {
    /// NbDomainName (MsvAvNbDomainName; the TargetName when domain-joined).
    pub nb_domain: String,
    /// NbMachineName (MsvAvNbComputerName; the TargetName otherwise).
    pub nb_computer: String,
    /// DnsDomainName (MsvAvDnsDomainName), when known.
    pub dns_domain: Option<String>,
    /// DnsMachineName (MsvAvDnsComputerName), when known.
    pub dns_computer: Option<String>,
    /// DnsForestName (MsvAvDnsTreeName), when known.
    pub dns_tree: Option<String>,
}

impl Default for ServerNames {
    fn default() -> Self {
        Self {
            nb_domain: String::from("TESTDOM"),
            nb_computer: String::from("NTLMSIM"),
            dns_domain: Some(String::from("testdom.example")),
            dns_computer: Some(String::from("ntlmsim.testdom.example")),
            dns_tree: Some(String::from("testdom.example")),
        }
    }
}

/// Channel-binding (EPA) checking on the server (MS-NLMP 3.2.5.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChannelBindings {
    /// The application supplies no bindings: MsvAvChannelBindings is ignored.
    #[default]
    Ignore,
    /// ServerChannelBindingsUnhashed is set: a non-zero MsvAvChannelBindings
    /// must equal this hash; an absent or zero one is accepted ("when supported").
    Accept([u8; 16]),
    /// As `Accept`, and ApplicationRequiresCBT: the pair must be present and equal.
    Require([u8; 16]),
    /// A present MsvAvChannelBindings, all-zero included, must equal this
    /// hash; an absent pair is accepted (IIS Extended Protection Accept as
    /// observed: curl/curl#12511, gssapi/gss-ntlmssp#25).
    AcceptPresent([u8; 16]),
}

/// How a server obtains the ExportedSessionKey when KEY_EXCH is negotiated.
///
/// With SIGN or SEAL every reading agrees: the AUTHENTICATE must carry a
/// 16-byte EncryptedRandomSessionKey, which the server decrypts. With
/// KEY_EXCH alone, real peers disagree (MS-NLMP's pseudocode and pyspnego
/// use the KeyExchangeKey; Samba's and gss-ntlmssp's clients send a key and
/// Samba's server uses it), and a server that picks the wrong reading ends
/// with a key different from the client's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServerKeyExchange {
    /// Decrypt whenever KEY_EXCH is negotiated; a missing or short key is
    /// refused. Samba 4.17 (auth/ntlmssp/ntlmssp_server.c
    /// ntlmssp_server_postauth(): NT_STATUS_INVALID_PARAMETER).
    Negotiated,
    /// Decrypt only with KEY_EXCH and SIGN or SEAL; otherwise the key is the
    /// KeyExchangeKey and the field is ignored. The MS-NLMP 3.2.5.1.2
    /// pseudocode; pyspnego 0.12's acceptor.
    WithSignOrSeal,
    /// As `WithSignOrSeal` with SIGN or SEAL. With KEY_EXCH alone and a
    /// 16-byte EncryptedRandomSessionKey, both keys are candidates: when the
    /// AUTHENTICATE has a MIC (announced in MsvAvFlags or not, as Samba's
    /// client sends it), the candidate the MIC verifies under is kept;
    /// without a MIC, or when neither verifies an unannounced MIC, the
    /// decrypted key (the client evidently exchanged one). An announced MIC
    /// that verifies under neither is refused as usual. With a field of any
    /// other length (pyspnego's 1-byte placeholder, curl's empty one) the
    /// KeyExchangeKey. Inference: MS-NLMP 3.2.5.1.2 keys the MIC with the
    /// ExportedSessionKey, so only the client's key verifies it.
    #[default]
    MicDecides,
}

impl ServerKeyExchange {
    /// The name used in profiles: `negotiated`, `sign-or-seal`, `mic-decides`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Negotiated => "negotiated",
            Self::WithSignOrSeal => "sign-or-seal",
            Self::MicDecides => "mic-decides",
        }
    }

    /// The ExportedSessionKey, and the other candidate when the negotiated
    /// flags leave the choice to the MIC.
    fn keys(
        self,
        flags: F,
        kxk: &KeyExchangeKey,
        encrypted: Option<&[u8]>,
    ) -> Result<(ExportedSessionKey, Option<ExportedSessionKey>), ntlm_crypto::CryptoError> {
        let rule = match self {
            Self::Negotiated => KeyExchange::Negotiated,
            Self::WithSignOrSeal | Self::MicDecides => KeyExchange::WithSignOrSeal,
        };
        let esk = server_exported_session_key(rule, flags, kxk, encrypted)?;
        let ambiguous = self == Self::MicDecides
            && flags.contains(F::NEGOTIATE_KEY_EXCH)
            && !key_exchange_applies(flags);
        match encrypted.filter(|_| ambiguous) {
            Some(e) => match decrypt_session_key(kxk, e) {
                Ok(decrypted) => Ok((decrypted, Some(esk))),
                Err(_) => Ok((esk, None)),
            },
            None => Ok((esk, None)),
        }
    }
}

/// Everything a server is configured with.
#[derive(Clone)]
pub struct ServerSettings {
    /// Capabilities, LmCompatibilityLevel, ServerBlock.
    pub config: ServerConfig,
    /// NtlmMinServerSec.
    pub min: MinSessionSecurity,
    /// How policy rules are read where Windows behaviour is unconfirmed.
    pub semantics: Semantics,
    /// Names for the TargetName and TargetInfo.
    pub names: ServerNames,
    /// Send MsvAvTimestamp in the TargetInfo (<16>: not NT/2000/XP/2003).
    pub send_timestamp: bool,
    /// Send the DNS names in the TargetInfo (not NT 4.0).
    pub send_dns_names: bool,
    /// The Version sent when NEGOTIATE_VERSION is returned.
    pub version: Version,
    /// Accounts.
    pub store: Arc<dyn CredentialStore>,
    /// Channel-binding checks.
    pub channel_bindings: ChannelBindings,
    /// The SPN a client must name in MsvAvTargetName, when checked.
    pub expected_target_name: Option<String>,
    /// Whether an absent or empty MsvAvTargetName passes the check
    /// (`IfProvided`: SmbServerNameHardeningLevel 1) or fails it
    /// (`Required`, the default).
    pub target_name_check: TargetNameCheck,
    /// The rule a channel-binding failure names (default `auth-channel-bindings`;
    /// the setting's rule when set by [`ServerSettings::apply_binding_checks`]).
    pub channel_bindings_rule: &'static Rule,
    /// The rule a target-name failure names (default `auth-target-name`).
    pub target_name_rule: &'static Rule,
    /// A rule requiring SIGN or SEAL in the negotiated flags once the
    /// response verifies (LDAPServerIntegrity 2 over LDAP without TLS).
    pub require_sign_or_seal: Option<&'static Rule>,
    /// Maximum age of the client's NTLMv2 timestamp, in 100 ns units
    /// (MaxLifetime, <69>: only NT 4.0 to Windows 7 enforce it).
    pub max_timestamp_age: Option<u64>,
    /// Accept a valid LMv2 response when the NTLMv2 response is wrong, as the
    /// MS-NLMP 3.2.5.1.2 pseudocode does (CVE-2019-1338). Off by default.
    pub lmv2_fallback: bool,
    /// Accept anonymous (null session) logons.
    pub accept_anonymous: bool,
    /// Guest fallback (MS-NLMP 3.2.5.1.2): a logon by an unknown user is
    /// accepted as Guest, with no session security. Off by default (MS-NLMP
    /// 5.1 warns that it weakens security).
    pub accept_guest: bool,
    /// Longest NEGOTIATE or AUTHENTICATE accepted, in bytes (resource bound;
    /// real messages are well under 4 KiB). Longer ones are refused as
    /// malformed before they are parsed.
    pub max_message_len: usize,
    /// Most AV pairs accepted in an NTLMv2 response (resource bound; Windows
    /// sends about ten).
    pub max_av_pairs: usize,
    /// The host's reflection cache (KB957097), shared with its client
    /// settings: an AUTHENTICATE carrying a response this host computed as a
    /// client is refused (MS08-068). None: the host keeps no such record.
    pub reflection: Option<Arc<ReflectionCache>>,
    /// Verify a MIC only when MsvAvFlags says one is present (MS-NLMP). When
    /// false, also accept a missing MIC whatever MsvAvFlags says (the
    /// pre-CVE-2019-1040 behaviour; for attack demonstrations).
    pub enforce_mic: bool,
    /// How the ExportedSessionKey is obtained when KEY_EXCH is negotiated
    /// (default [`ServerKeyExchange::MicDecides`]).
    pub key_exchange: ServerKeyExchange,
}

impl fmt::Debug for ServerSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSettings")
            .field("config", &self.config)
            .field("min", &self.min)
            .field("semantics", &self.semantics)
            .field("names", &self.names)
            .field("send_timestamp", &self.send_timestamp)
            .field("channel_bindings", &self.channel_bindings)
            .field("expected_target_name", &self.expected_target_name)
            .field("target_name_check", &self.target_name_check)
            .field(
                "require_sign_or_seal",
                &self.require_sign_or_seal.map(|r| r.id),
            )
            .field("key_exchange", &self.key_exchange)
            .finish_non_exhaustive()
    }
}

impl ServerSettings {
    /// Default [`max_message_len`](Self::max_message_len): 64 KiB.
    pub const DEFAULT_MAX_MESSAGE_LEN: usize = 64 * 1024;
    /// Default [`max_av_pairs`](Self::max_av_pairs).
    pub const DEFAULT_MAX_AV_PAIRS: usize = 64;

    /// A current, domain-joined Windows server checking accounts in `store`.
    pub fn new(store: Arc<dyn CredentialStore>) -> Self {
        Self {
            config: ServerConfig::default(),
            min: MinSessionSecurity::from_registry(0x2000_0000),
            semantics: Semantics::default(),
            names: ServerNames::default(),
            send_timestamp: true,
            send_dns_names: true,
            version: Version::new(10, 0, 20348),
            store,
            channel_bindings: ChannelBindings::Ignore,
            expected_target_name: None,
            target_name_check: TargetNameCheck::Required,
            channel_bindings_rule: &rules::AUTH_CHANNEL_BINDINGS,
            target_name_rule: &rules::AUTH_TARGET_NAME,
            require_sign_or_seal: None,
            max_timestamp_age: None,
            lmv2_fallback: false,
            accept_anonymous: false,
            accept_guest: false,
            reflection: None,
            max_message_len: Self::DEFAULT_MAX_MESSAGE_LEN,
            max_av_pairs: Self::DEFAULT_MAX_AV_PAIRS,
            enforce_mic: true,
            key_exchange: ServerKeyExchange::MicDecides,
        }
    }

    /// Applies the checks a server's channel-binding, target-name and LDAP
    /// signing settings call for on one carrier
    /// ([`ntlm_policy::BindingPolicy::checks`]): `channel` is the MD5 of the
    /// connection's channel bindings (None: the server has no channel to
    /// bind to, so any non-zero MsvAvChannelBindings fails a check), `spn`
    /// the name MsvAvTargetName must carry. Checks the settings do not ask
    /// for are turned off.
    pub fn apply_binding_checks(&mut self, checks: &Checks, channel: Option<[u8; 16]>, spn: &str) {
        let hash = channel.unwrap_or([0; 16]);
        (self.channel_bindings, self.channel_bindings_rule) = match checks.channel_bindings {
            None => (ChannelBindings::Ignore, &rules::AUTH_CHANNEL_BINDINGS),
            Some((ntlm_policy::CbtCheck::WhenSupplied, r)) => (ChannelBindings::Accept(hash), r),
            Some((ntlm_policy::CbtCheck::WhenPresent, r)) => {
                (ChannelBindings::AcceptPresent(hash), r)
            }
            Some((ntlm_policy::CbtCheck::Required, r)) => (ChannelBindings::Require(hash), r),
        };
        match checks.target_name {
            None => {
                self.expected_target_name = None;
                self.target_name_check = TargetNameCheck::Required;
                self.target_name_rule = &rules::AUTH_TARGET_NAME;
            }
            Some((check, r)) => {
                self.expected_target_name = Some(spn.to_owned());
                self.target_name_check = check;
                self.target_name_rule = r;
            }
        }
        self.require_sign_or_seal = checks.require_sign_or_seal;
    }
}

/// Starts a server.
#[derive(Debug)]
pub struct Server;

impl Server {
    /// A server waiting for a NEGOTIATE.
    pub fn start(settings: ServerSettings) -> ServerAwaitingNegotiate {
        ServerAwaitingNegotiate { settings }
    }
}

/// A server waiting for the NEGOTIATE.
#[derive(Debug)]
pub struct ServerAwaitingNegotiate {
    settings: ServerSettings,
}

impl ServerAwaitingNegotiate {
    /// Processes the NEGOTIATE (MS-NLMP 3.2.5.1.1): ServerBlock, flag
    /// choice, NtlmMinServerSec; then builds the CHALLENGE. `now` is the
    /// FILETIME sent as MsvAvTimestamp.
    pub fn on_negotiate<R: RngCore + CryptoRng>(
        self,
        negotiate: &[u8],
        rng: &mut R,
        now: FileTime,
    ) -> Result<(Vec<u8>, ServerAwaitingAuthenticate), Failure> {
        let mut challenge = [0u8; 8];
        rng.fill_bytes(&mut challenge);
        self.on_negotiate_with(negotiate, challenge, now)
    }

    /// Like [`on_negotiate`](Self::on_negotiate) with an exact ServerChallenge.
    pub fn on_negotiate_with(
        self,
        negotiate: &[u8],
        server_challenge: [u8; 8],
        now: FileTime,
    ) -> Result<(Vec<u8>, ServerAwaitingAuthenticate), Failure> {
        let s = self.settings;
        if negotiate.len() > s.max_message_len {
            return Err(too_long(Stage::Negotiate));
        }
        let neg = NegotiateMessage::parse(negotiate)
            .map_err(|e| decode_failure(Side::Server, Stage::Negotiate, e))?;
        let flags = server_on_negotiate(neg.flags, &s.config, s.min, &s.semantics)?;
        let charset = flags.charset().unwrap_or(Charset::Unicode);
        let target_name = if s.config.domain_joined {
            &s.names.nb_domain
        } else {
            &s.names.nb_computer
        };
        let target_info = flags
            .contains(F::NEGOTIATE_TARGET_INFO)
            .then(|| server_target_info(&s, now));
        let mut target_name_bytes = Vec::with_capacity(target_name.len().saturating_mul(2));
        text_into(&mut target_name_bytes, target_name, charset);
        let msg = ChallengeMessage {
            flags,
            server_challenge,
            target_name: Some(Cow::Borrowed(&target_name_bytes)),
            reserved: Some([0; 8]),
            target_info,
            version: flags.contains(F::NEGOTIATE_VERSION).then_some(s.version),
        };
        // NEGOTIATE and CHALLENGE in one buffer, with room for a typical
        // AUTHENTICATE (which echoes the TargetInfo): the MIC input.
        let chal_len = msg.buffer_len();
        let mut transcript = Transcript::with_capacity(
            negotiate
                .len()
                .saturating_add(chal_len.saturating_mul(2))
                .saturating_add(AUTHENTICATE_ALLOWANCE),
        );
        transcript.push_negotiate(negotiate);
        msg.emit(transcript.challenge_slot(chal_len)).map_err(|_| {
            Failure::new(
                Side::Server,
                Stage::Negotiate,
                &rules::DECODE_MALFORMED,
                Detail::Note("the server could not encode its CHALLENGE"),
            )
        })?;
        let bytes = transcript.challenge().to_vec();
        Ok((
            bytes,
            ServerAwaitingAuthenticate {
                settings: s,
                challenge_flags: flags,
                server_challenge,
                target_info: msg.target_info.map(AvPairs::into_owned),
                now,
                transcript,
            },
        ))
    }
}

/// Room reserved in the transcript for an AUTHENTICATE beyond twice the
/// CHALLENGE's length (it echoes the TargetInfo and adds names, responses and
/// a few AV pairs); a longer one grows the buffer.
const AUTHENTICATE_ALLOWANCE: usize = 256;

/// TargetInfo as Windows orders it: NbDomainName, NbComputerName,
/// DnsDomainName, DnsComputerName, DnsTreeName, Timestamp, EOL
/// (MS-NLMP 3.2.5.1.1; the order seen in a Windows 2008 R2 capture).
///
/// The names are encoded straight into the list (no intermediate buffers);
/// a name too long for an AV pair (over 65535 bytes) yields the empty list,
/// as [`AvPairs::build`] would have failed.
fn server_target_info(s: &ServerSettings, now: FileTime) -> AvPairs<'static> {
    let n = &s.names;
    let dns = s.send_dns_names;
    let names = [
        (AvId::NB_DOMAIN_NAME, Some(n.nb_domain.as_str())),
        (AvId::NB_COMPUTER_NAME, Some(n.nb_computer.as_str())),
        (
            AvId::DNS_DOMAIN_NAME,
            n.dns_domain.as_deref().filter(|_| dns),
        ),
        (
            AvId::DNS_COMPUTER_NAME,
            n.dns_computer.as_deref().filter(|_| dns),
        ),
        (AvId::DNS_TREE_NAME, n.dns_tree.as_deref().filter(|_| dns)),
    ];
    // Each name: 4 header bytes and at most 2 bytes per UTF-8 byte; then
    // the timestamp pair (12) and MsvAvEOL (4).
    let size = names
        .iter()
        .map(|(_, v)| v.map_or(0, |v| v.len().saturating_mul(2).saturating_add(4)))
        .fold(16, usize::saturating_add);
    let mut list = Vec::with_capacity(size);
    for (id, v) in names {
        let Some(v) = v else { continue };
        let start = list.len();
        list.extend_from_slice(&id.0.to_le_bytes());
        list.extend_from_slice(&[0, 0]);
        ntlm_wire::text::utf16le_into(&mut list, v);
        let Ok(len) = u16::try_from(list.len().saturating_sub(start).saturating_sub(4)) else {
            return AvPairs::new(vec![0, 0, 0, 0]);
        };
        if let Some(l) = list.get_mut(start.saturating_add(2)..start.saturating_add(4)) {
            l.copy_from_slice(&len.to_le_bytes());
        }
    }
    if s.send_timestamp {
        list.extend_from_slice(&AvId::TIMESTAMP.0.to_le_bytes());
        list.extend_from_slice(&8u16.to_le_bytes());
        list.extend_from_slice(&now.to_le_bytes());
    }
    list.extend_from_slice(&[0, 0, 0, 0]);
    AvPairs::new(list)
}

/// A server that sent its CHALLENGE and waits for the AUTHENTICATE.
#[derive(Debug)]
pub struct ServerAwaitingAuthenticate {
    settings: ServerSettings,
    challenge_flags: F,
    server_challenge: [u8; 8],
    target_info: Option<AvPairs<'static>>,
    now: FileTime,
    transcript: Transcript,
}

/// A message over [`ServerSettings::max_message_len`].
fn too_long(stage: Stage) -> Failure {
    Failure::new(
        Side::Server,
        stage,
        &rules::DECODE_MALFORMED,
        Detail::Note("the message is longer than the server accepts"),
    )
}

/// A server-side failure at stage AUTHENTICATE.
fn fail(rule: &'static Rule, note: &'static str) -> Failure {
    Failure::new(Side::Server, Stage::Authenticate, rule, Detail::Note(note))
}

impl ServerAwaitingAuthenticate {
    /// The CHALLENGE flags sent.
    pub fn challenge_flags(&self) -> F {
        self.challenge_flags
    }

    /// Verifies the AUTHENTICATE (MS-NLMP 3.2.5.1.2) in this order: decode;
    /// ServerBlock, flags ⊆ CHALLENGE and NtlmMinServerSec, LmCompatibilityLevel;
    /// anonymous; NTLMv2 AV pairs (EOL, duplicates, echo of the server's
    /// pairs); the response over the bytes received (domain as given,
    /// upper-cased, empty; no LMv2 fallback); KEY_EXCH; channel bindings;
    /// target name; MIC; timestamp age; reflection (KB957097).
    pub fn on_authenticate(self, authenticate: &[u8]) -> Result<ServerEstablished, Failure> {
        let Self {
            settings: s,
            challenge_flags,
            server_challenge,
            target_info,
            now,
            mut transcript,
        } = self;
        if authenticate.len() > s.max_message_len {
            return Err(too_long(Stage::Authenticate));
        }
        let auth = AuthenticateMessage::parse(authenticate)
            .map_err(|e| decode_failure(Side::Server, Stage::Authenticate, e))?;
        let kind = auth.response_kind();
        let flags = server_on_authenticate(
            challenge_flags,
            auth.flags,
            kind,
            &s.config,
            s.min,
            &s.semantics,
        )?;
        let charset = flags.charset().unwrap_or(Charset::Unicode);
        let text = |b: &Option<Cow<'_, [u8]>>| {
            ntlm_wire::text::decode(b.as_deref().unwrap_or_default(), charset).map_err(|_| {
                fail(
                    &rules::DECODE_MALFORMED,
                    "a name is not valid text in the negotiated charset",
                )
            })
        };
        let user = text(&auth.user)?;
        let domain = text(&auth.domain)?;
        let workstation = text(&auth.workstation).unwrap_or_default();
        let lm = auth.lm_response.as_deref().unwrap_or_default();
        let nt = auth.nt_response.as_deref().unwrap_or_default();
        transcript.push_authenticate(authenticate);
        let report = |mic: bool, user: String, domain: String, workstation: String| SessionReport {
            flags,
            response_kind: kind,
            mic,
            guest: false,
            user,
            domain,
            workstation,
        };

        if kind == ResponseKind::Anonymous {
            if !s.accept_anonymous {
                return Err(fail(
                    &rules::AUTH_RESPONSE,
                    "anonymous logons are not accepted",
                ));
            }
            // No session security for the anonymous user (MS-NLMP 3.4).
            let esk = ExportedSessionKey::from_bytes([0; 16]);
            return Ok(ServerEstablished(Established::new(
                flags,
                esk,
                Role::Server,
                report(false, user, domain, workstation),
                transcript,
            )));
        }

        let v2 = match kind {
            ResponseKind::NtlmV2 => Some(
                NtlmV2Response::parse(nt)
                    .map_err(|e| decode_failure(Side::Server, Stage::Authenticate, e.at_base(0)))?,
            ),
            _ => None,
        };
        if let Some(v2) = &v2 {
            if v2.client_challenge.av_pairs.iter().count() > s.max_av_pairs {
                return Err(fail(
                    &rules::DECODE_MALFORMED,
                    "the NTLMv2 response has more AV pairs than the server accepts",
                ));
            }
            check_av_pairs(&v2.client_challenge.av_pairs, target_info.as_ref())?;
        }

        let Some(account) = s.store.lookup(&user, &domain) else {
            if s.accept_guest {
                // MS-NLMP 3.2.5.1.2: GuestSession, SessionBaseKey Z(16); no
                // session security for the Guest user (3.4).
                let mut r = report(false, user, domain, workstation);
                r.guest = true;
                return Ok(ServerEstablished(Established::new(
                    flags,
                    ExportedSessionKey::from_bytes([0; 16]),
                    Role::Server,
                    r,
                    transcript,
                )));
            }
            return Err(fail(&rules::AUTH_RESPONSE, "no such account"));
        };
        let sbk: SessionBaseKey = match kind {
            ResponseKind::NtlmV2 => {
                let m = verify_ntlmv2(&account.nt_hash, &user, &domain, &server_challenge, lm, nt)
                    .map_err(|_| {
                        fail(&rules::AUTH_RESPONSE, "the NTLMv2 response does not verify")
                    })?;
                if m.lm_only() && !s.lmv2_fallback {
                    return Err(fail(
                        &rules::AUTH_NO_LMV2_FALLBACK,
                        "only the LMv2 response verified; the NTLMv2 response is wrong",
                    ));
                }
                m.session_base_key
            }
            ResponseKind::Ntlm2Session => {
                verify_ntlm2_session_response(&account.nt_hash, &server_challenge, lm, nt).map_err(
                    |_| {
                        fail(
                            &rules::AUTH_RESPONSE,
                            "the NTLM2 session response does not verify",
                        )
                    },
                )?
            }
            ResponseKind::NtlmV1 => {
                match verify_ntlmv1_response(&account.nt_hash, &server_challenge, nt) {
                    Ok(k) => k,
                    // MS-NLMP 3.2.5.1.2: a matching LM response alone authenticates.
                    Err(_) => match &account.lm_hash {
                        Some(h) if verify_lmv1_response(h, &server_challenge, lm).is_ok() => {
                            ntlm_crypto::legacy::ntlmv1_session_base_key(&account.nt_hash)
                        }
                        _ => {
                            return Err(fail(
                                &rules::AUTH_RESPONSE,
                                "the NTLMv1 response does not verify",
                            ));
                        }
                    },
                }
            }
            ResponseKind::Lm => match &account.lm_hash {
                Some(h) if verify_lmv1_response(h, &server_challenge, lm).is_ok() => {
                    ntlm_crypto::legacy::ntlmv1_session_base_key(&account.nt_hash)
                }
                _ => {
                    return Err(fail(
                        &rules::AUTH_RESPONSE,
                        "the LM response does not verify",
                    ));
                }
            },
            ResponseKind::Anonymous | ResponseKind::Unknown => {
                return Err(fail(
                    &rules::AUTH_RESPONSE,
                    "the responses have no known shape",
                ));
            }
        };

        let kx_input = if kind == ResponseKind::NtlmV2 {
            KxKeyInput::NtlmV2
        } else {
            KxKeyInput::NtlmV1 {
                server_challenge: &server_challenge,
                lm_response: lm,
                lm_hash: account.lm_hash.as_ref(),
            }
        };
        let kxk = kxkey(flags, &sbk, kx_input).map_err(|_| {
            fail(
                &rules::AUTH_KEY_EXCH,
                "the key exchange key cannot be computed",
            )
        })?;
        let (mut esk, other_key) = s
            .key_exchange
            .keys(flags, &kxk, auth.encrypted_random_session_key.as_deref())
            .map_err(|_| {
                fail(
                    &rules::AUTH_KEY_EXCH,
                    "KEY_EXCH without a 16-byte EncryptedRandomSessionKey",
                )
            })?;

        let announced = v2.as_ref().is_some_and(|v2| {
            v2.client_challenge
                .av_pairs
                .flags_union()
                .contains(MsvAvFlags::MIC_PRESENT)
        });
        // Without an NTLMv2 response there are no AV pairs: required channel
        // bindings or a required target name are absent (MS-NLMP 3.2.5.1.2;
        // microsoft/CSS-Exchange#1187: NTLMv1 fails under Extended Protection).
        let no_pairs = AvPairs::new(Vec::new());
        let avs = v2
            .as_ref()
            .map_or(&no_pairs, |v2| &v2.client_challenge.av_pairs);
        check_channel_bindings(s.channel_bindings, s.channel_bindings_rule, avs)?;
        check_target_name(&s, avs)?;
        let mut mic_checked = false;
        match (auth.mic.is_some(), announced) {
            (true, true) => {
                esk =
                    key_under_mic(&transcript, authenticate, esk, other_key).ok_or_else(|| {
                        fail(
                            &rules::AUTH_MIC,
                            "the MIC does not match the three messages",
                        )
                    })?;
                mic_checked = true;
            }
            (false, true) if s.enforce_mic => {
                return Err(fail(
                    &rules::AUTH_MIC_PRESENT,
                    "MsvAvFlags announces a MIC but the header has no MIC field",
                ));
            }
            // An unannounced MIC (Samba's client always computes one) only
            // settles which candidate key the client used; it is not
            // required, so the report does not count it as checked.
            (true, false) if other_key.is_some() => {
                if let Some(k) = key_under_mic(&transcript, authenticate, esk.clone(), other_key) {
                    esk = k;
                }
            }
            _ => {}
        }
        if let (Some(v2), Some(max)) = (&v2, s.max_timestamp_age) {
            if now.ticks_since(v2.client_challenge.timestamp) > max {
                return Err(fail(
                    &rules::AUTH_TIMESTAMP_AGE,
                    "the NTLMv2 timestamp is too old",
                ));
            }
        }
        // KB957097: last, after the response itself has verified.
        if s.reflection
            .as_ref()
            .is_some_and(|c| c.contains(&server_challenge, nt))
        {
            return Err(fail(
                &rules::AUTH_REFLECTION,
                "the response is one this host computed as a client: its own authentication reflected back",
            ));
        }
        // LDAP signing: the directory refuses a bind whose session cannot sign.
        if let Some(rule) = s.require_sign_or_seal {
            if !flags.intersects(F::NEGOTIATE_SIGN | F::NEGOTIATE_SEAL) {
                return Err(fail(
                    rule,
                    "the bind negotiated neither SIGN nor SEAL and the connection has no TLS",
                ));
            }
        }
        Ok(ServerEstablished(Established::new(
            flags,
            esk,
            Role::Server,
            report(mic_checked, user, domain, workstation),
            transcript,
        )))
    }
}

/// The candidate key the AUTHENTICATE's MIC verifies under: `first`, else
/// `second`; None when neither does. Both MICs are computed and compared in
/// constant time before either result is looked at, so the time taken does
/// not say which key matched (the MIC itself already tells its sender).
fn key_under_mic(
    transcript: &Transcript,
    authenticate: &[u8],
    first: ExportedSessionKey,
    second: Option<ExportedSessionKey>,
) -> Option<ExportedSessionKey> {
    let verifies = |k: &ExportedSessionKey| {
        verify_mic(
            k,
            transcript.negotiate(),
            transcript.challenge(),
            authenticate,
        )
        .is_ok()
    };
    let first_ok = verifies(&first);
    let second_ok = second.as_ref().map(verifies);
    match (first_ok, second_ok) {
        (true, _) => Some(first),
        (false, Some(true)) => second,
        _ => None,
    }
}

/// NTLMv2 AV pair checks (Samba `ntlmssp_server_preauth`; CVE-2019-1166):
/// MsvAvEOL present, no duplicate ids, and every pair the server sent echoed
/// unchanged (MsvAvTimestamp included), which stops a man in the middle from
/// deleting the timestamp to suppress the MIC.
fn check_av_pairs(avs: &AvPairs<'_>, sent: Option<&AvPairs<'_>>) -> Result<(), Failure> {
    let d = avs.defects();
    if d.missing_eol || d.truncated_at.is_some() {
        return Err(fail(
            &rules::AUTH_AV_EOL,
            "the NTLMv2 AV pairs have no MsvAvEOL",
        ));
    }
    if d.duplicate_ids != 0 {
        return Err(fail(
            &rules::AUTH_AV_DUPLICATE,
            "an AvId appears twice in the NTLMv2 AV pairs",
        ));
    }
    // Clients echo the server's pairs in order, so each is looked for from
    // where the previous one was found, in one pass; a pair out of order is
    // looked up from the start. Duplicates were refused above, so the first
    // pair with an id is the only one.
    let mut rest = avs.iter();
    for p in sent.iter().flat_map(|t| t.iter()) {
        let found = match rest.by_ref().find(|q| q.id == p.id) {
            Some(q) => Some(q),
            None => {
                rest = avs.iter();
                avs.get(p.id)
            }
        };
        if found.map(|q| q.value) != Some(p.value) {
            return Err(fail(
                &rules::AUTH_AV_ECHO,
                "an AV pair the server sent is missing or changed in the NTLMv2 response",
            ));
        }
    }
    Ok(())
}

fn check_channel_bindings(
    mode: ChannelBindings,
    rule: &'static Rule,
    avs: &AvPairs<'_>,
) -> Result<(), Failure> {
    let got = avs
        .get(AvId::CHANNEL_BINDINGS)
        .and_then(|p| match p.typed() {
            Ok(AvValue::ChannelBindings(h)) => Some(h),
            _ => None,
        });
    let non_zero = got.filter(|h| *h != [0; 16]);
    let bad = |note| Err(fail(rule, note));
    match mode {
        ChannelBindings::Ignore => Ok(()),
        ChannelBindings::Accept(expected) => match non_zero {
            Some(h) if h != expected => bad("MsvAvChannelBindings does not match the channel"),
            _ => Ok(()),
        },
        ChannelBindings::AcceptPresent(expected) => match got {
            Some(h) if h != expected => bad("MsvAvChannelBindings does not match the channel"),
            _ => Ok(()),
        },
        ChannelBindings::Require(expected) => match non_zero {
            Some(h) if h == expected => Ok(()),
            Some(_) => bad("MsvAvChannelBindings does not match the channel"),
            None => bad("channel bindings are required but absent or zero"),
        },
    }
}

fn check_target_name(s: &ServerSettings, avs: &AvPairs<'_>) -> Result<(), Failure> {
    let Some(expected) = s.expected_target_name.as_deref() else {
        return Ok(());
    };
    // MS-NLMP 3.2.5.1.2: with MsvAvFlags 0x4 the client's SPN is untrusted and not checked.
    if avs.flags_union().contains(MsvAvFlags::UNTRUSTED_SPN) {
        return Ok(());
    }
    let got = avs
        .get(AvId::TARGET_NAME)
        .and_then(|p| ntlm_wire::text::decode_utf16le(p.value).ok());
    match got {
        Some(name) if name.eq_ignore_ascii_case(expected) => Ok(()),
        // SmbServerNameHardeningLevel 1: only a name the client provides is checked.
        None if s.target_name_check == TargetNameCheck::IfProvided => Ok(()),
        Some(name) if name.is_empty() && s.target_name_check == TargetNameCheck::IfProvided => {
            Ok(())
        }
        None => Err(fail(
            s.target_name_rule,
            "MsvAvTargetName is absent but the server requires it",
        )),
        Some(_) => Err(fail(
            s.target_name_rule,
            "MsvAvTargetName is not the expected SPN",
        )),
    }
}

/// A server that accepted the AUTHENTICATE.
#[derive(Debug)]
pub struct ServerEstablished(pub Established);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;

    /// The TargetInfo encoded in place is the list `AvPairs::build` makes.
    #[test]
    fn target_info_matches_the_generic_builder() {
        let mut s = ServerSettings::new(Arc::new(MemoryStore::new()));
        s.names.nb_domain = String::from("DÖMAIN");
        for (dns, ts) in [(true, true), (false, true), (true, false), (false, false)] {
            s.send_dns_names = dns;
            s.send_timestamp = ts;
            let n = &s.names;
            let text = |v: &str| ntlm_wire::text::utf16le(v);
            let mut pairs = vec![
                (AvId::NB_DOMAIN_NAME, text(&n.nb_domain)),
                (AvId::NB_COMPUTER_NAME, text(&n.nb_computer)),
            ];
            if dns {
                pairs.push((
                    AvId::DNS_DOMAIN_NAME,
                    text(n.dns_domain.as_deref().unwrap()),
                ));
                pairs.push((
                    AvId::DNS_COMPUTER_NAME,
                    text(n.dns_computer.as_deref().unwrap()),
                ));
                pairs.push((AvId::DNS_TREE_NAME, text(n.dns_tree.as_deref().unwrap())));
            }
            if ts {
                pairs.push((
                    AvId::TIMESTAMP,
                    0x0123_4567_89ab_cdefu64.to_le_bytes().to_vec(),
                ));
            }
            let want = AvPairs::build(pairs.iter().map(|(id, v)| (*id, v.as_slice()))).unwrap();
            let got = server_target_info(&s, FileTime(0x0123_4567_89ab_cdef));
            assert_eq!(got.as_bytes(), want.as_bytes(), "dns {dns}, timestamp {ts}");
            assert!(!got.defects().missing_eol);
        }
        // A name too long for an AV pair: the empty list.
        s.names.nb_computer = "x".repeat(40_000);
        assert_eq!(server_target_info(&s, FileTime(0)).as_bytes(), [0, 0, 0, 0]);
    }
}
