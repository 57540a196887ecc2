//! The client (initiator): NEGOTIATE out, CHALLENGE in, AUTHENTICATE out
//! (MS-NLMP 3.1.5).

use std::borrow::Cow;
use std::sync::Arc;

use ntlm_crypto::legacy::{ntlm2_session_responses, ntlmv1_responses};
use ntlm_crypto::{
    ExportedSessionKey, KeyExchange, KxKeyInput, Role, SessionBaseKey, client_exported_session_key,
    kxkey, mic, ntlmv2_responses, ntlmv2_responses_timestamped, ntowfv2,
};
use ntlm_policy::{
    ClientConfig, Detail, Failure, LmField, MinSessionSecurity, Semantics, Side, Stage,
    check_client_challenge, check_client_target_info, negotiate_flags, rules,
};
use ntlm_wire::{
    AuthenticateMessage, AvId, AvPairs, ChallengeMessage, FileTime, MIC_LEN, MIC_OFFSET,
    MsvAvFlags, NegotiateFlags as F, NegotiateMessage, ResponseKind, Version,
};
use rand_core::{CryptoRng, RngCore};

use crate::established::{Established, SessionReport};
use crate::reflection::ReflectionCache;
use crate::transcript::Transcript;
use crate::{Credentials, decode_failure, text_into};

/// How a client builds its AUTHENTICATE message beyond what the flags say.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Capabilities, LmCompatibilityLevel and application requests.
    pub config: ClientConfig,
    /// NtlmMinClientSec.
    pub min: MinSessionSecurity,
    /// How policy rules are read where Windows behaviour is unconfirmed.
    pub semantics: Semantics,
    /// Who authenticates.
    pub credentials: Credentials,
    /// Workstation name sent in AUTHENTICATE.
    pub workstation: String,
    /// The Version sent when NEGOTIATE_VERSION is set.
    pub version: Version,
    /// Send a MIC (and set MsvAvFlags 0x2) when the CHALLENGE has
    /// MsvAvTimestamp (MS-NLMP 3.1.5.1.2; <49>: not NT/2000/XP/2003).
    pub send_mic: bool,
    /// Announce the MIC in MsvAvFlags only when integrity or confidentiality
    /// is requested; the MIC field is filled either way. Samba 4.17
    /// (auth/ntlmssp/ntlmssp_client.c ntlmssp_client_challenge(): MsvAvFlags
    /// 0x2 only when signing, sealing or the session key is wanted, "We
    /// always include the MIC"). False: announced whenever sent (MS-NLMP).
    pub mic_announced_with_security_only: bool,
    /// Add MsvAvChannelBindings and MsvAvTargetName to the NTLMv2 AV pairs
    /// (MS-NLMP 3.1.5.1.2; <19>/<18>: Windows 7 / 2008 R2 and later).
    pub av_extensions: bool,
    /// MD5 of the channel bindings (None: Z(16), "no bindings").
    pub channel_bindings: Option<[u8; 16]>,
    /// Without channel bindings, leave MsvAvChannelBindings out instead of
    /// sending Z(16) (pyspnego 0.12 `spnego/_ntlm.py`: "only add the
    /// bindings if they have been specified by the caller"; impacket 0.13).
    /// False (Windows, gss-ntlmssp): Z(16), as MS-NLMP 3.1.5.1.2 describes.
    pub omit_absent_channel_bindings: bool,
    /// The SPN sent as MsvAvTargetName (empty when None).
    pub target_name: Option<String>,
    /// Exact AUTHENTICATE flags, overriding the ones derived from the
    /// CHALLENGE (to reproduce a recorded exchange).
    pub authenticate_flags: Option<F>,
    /// The host's reflection cache (KB957097): every response computed is
    /// remembered there, for the host's server to refuse if it comes back.
    pub reflection: Option<Arc<ReflectionCache>>,
    /// When the client sends an EncryptedRandomSessionKey. Default
    /// [`KeyExchange::Negotiated`]: whenever KEY_EXCH is negotiated, as
    /// Samba and gss-ntlmssp do and as Samba's server requires
    /// (MS-NLMP 3.2.5.1.2).
    pub key_exchange: KeyExchange,
}

impl ClientSettings {
    /// A current Windows client with these credentials and defaults elsewhere.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            config: ClientConfig::default(),
            min: MinSessionSecurity::from_registry(0x2000_0000),
            semantics: Semantics::default(),
            credentials,
            workstation: String::from("WORKSTATION"),
            version: Version::new(10, 0, 20348),
            send_mic: true,
            mic_announced_with_security_only: false,
            av_extensions: true,
            channel_bindings: None,
            omit_absent_channel_bindings: false,
            target_name: None,
            authenticate_flags: None,
            reflection: None,
            key_exchange: KeyExchange::Negotiated,
        }
    }
}

/// Injected randomness for the client: a cryptographic RNG, or exact values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientFixed {
    /// The client challenge (NTLMv2 / NTLM2 session / LMv2).
    pub client_challenge: Option<[u8; 8]>,
    /// The random session key used with KEY_EXCH.
    pub session_key: Option<[u8; 16]>,
}

/// Starts a client: builds the NEGOTIATE message.
#[derive(Debug)]
pub struct Client;

impl Client {
    /// Builds the NEGOTIATE (MS-NLMP 3.1.5.1.1). Fails only when NTLM is
    /// blocked on the client (ClientBlocked: STATUS_NOT_SUPPORTED).
    pub fn start(settings: ClientSettings) -> Result<(Vec<u8>, ClientAwaitingChallenge), Failure> {
        if settings.config.blocked {
            return Err(Failure::new(
                Side::Client,
                Stage::Negotiate,
                &rules::CLIENT_BLOCKED,
                Detail::Blocked,
            ));
        }
        let flags = negotiate_flags(&settings.config, settings.min, &settings.semantics);
        // MS-NLMP 3.1.5.1.1: with VERSION the domain and workstation are empty.
        let msg = NegotiateMessage::new(
            flags,
            flags
                .contains(F::NEGOTIATE_VERSION)
                .then_some(settings.version),
        );
        let bytes = msg.to_vec().map_err(|_| encode_failure(Stage::Negotiate))?;
        let mut transcript = Transcript::with_capacity(bytes.len());
        transcript.push_negotiate(&bytes);
        Ok((
            bytes,
            ClientAwaitingChallenge {
                settings,
                transcript,
            },
        ))
    }
}

/// A client that sent NEGOTIATE and waits for the CHALLENGE.
#[derive(Debug)]
pub struct ClientAwaitingChallenge {
    settings: ClientSettings,
    transcript: Transcript,
}

/// The responses a client computed, and the keys behind them.
struct Responses {
    kind: ResponseKind,
    lm: Option<Cow<'static, [u8]>>,
    nt: Option<Vec<u8>>,
    session_base_key: SessionBaseKey,
    /// LmChallengeResponse[0..7], used by KXKEY for NTLMv1.
    kx_lm: [u8; 8],
    mic: bool,
}

impl ClientAwaitingChallenge {
    /// The NEGOTIATE bytes sent.
    pub fn negotiate(&self) -> &[u8] {
        self.transcript.negotiate()
    }

    /// Processes the CHALLENGE (MS-NLMP 3.1.5.1.2): decodes it, applies
    /// NtlmMinClientSec, computes the response, keys and MIC, and builds the
    /// AUTHENTICATE. `now` is the current FILETIME, used when the CHALLENGE
    /// carries no MsvAvTimestamp.
    pub fn on_challenge<R: RngCore + CryptoRng>(
        self,
        challenge: &[u8],
        rng: &mut R,
        now: FileTime,
    ) -> Result<(Vec<u8>, ClientEstablished), Failure> {
        self.on_challenge_with(challenge, rng, now, ClientFixed::default())
    }

    /// Like [`on_challenge`](Self::on_challenge) with exact values for the
    /// client challenge and session key where given (deterministic tests,
    /// reproducing MS-NLMP 4.2).
    pub fn on_challenge_with<R: RngCore + CryptoRng>(
        self,
        challenge: &[u8],
        rng: &mut R,
        now: FileTime,
        fixed: ClientFixed,
    ) -> Result<(Vec<u8>, ClientEstablished), Failure> {
        let Self {
            settings: s,
            mut transcript,
        } = self;
        let ch = ChallengeMessage::parse(challenge)
            .map_err(|e| decode_failure(Side::Client, Stage::Challenge, e))?;
        check_client_challenge(ch.flags, &s.config, s.min, &s.semantics)?;
        let names = ch.target_info.as_ref().is_some_and(|t| {
            t.get(AvId::NB_COMPUTER_NAME).is_some() && t.get(AvId::NB_DOMAIN_NAME).is_some()
        });
        check_client_target_info(&s.config, names).map_err(|f| f.with_negotiated(ch.flags))?;
        let flags = s
            .authenticate_flags
            .unwrap_or_else(|| ntlm_policy::authenticate_flags(ch.flags));

        let client_challenge = fixed.client_challenge.unwrap_or_else(|| {
            let mut c = [0u8; 8];
            rng.fill_bytes(&mut c);
            c
        });
        let r = responses(&s, &ch, flags, client_challenge, now)?;
        if let (Some(cache), Some(nt)) = (&s.reflection, &r.nt) {
            cache.remember(&ch.server_challenge, nt);
        }

        // The LM hash (two DES operations) matters only to NTLMv1's KXKEY.
        let lm_hash = match r.kind {
            ResponseKind::NtlmV2 | ResponseKind::Anonymous => None,
            _ => s.credentials.lm_hash_value(),
        };
        let kx_input = if r.kind == ResponseKind::NtlmV2 {
            KxKeyInput::NtlmV2
        } else {
            KxKeyInput::NtlmV1 {
                server_challenge: &ch.server_challenge,
                lm_response: &r.kx_lm,
                lm_hash: lm_hash.as_ref(),
            }
        };
        let kxk = kxkey(flags, &r.session_base_key, kx_input)
            .map_err(|_| encode_failure(Stage::Challenge))?;
        let random = fixed.session_key.unwrap_or_else(|| {
            let mut k = [0u8; 16];
            rng.fill_bytes(&mut k);
            k
        });
        let (exported, encrypted) = if r.kind == ResponseKind::Anonymous {
            (ExportedSessionKey::from_bytes([0; 16]), None)
        } else {
            client_exported_session_key(s.key_exchange, flags, &kxk, random)
        };

        let charset = flags.charset().unwrap_or(ntlm_wire::Charset::Unicode);
        // The three names encoded into one buffer, each field borrowing its part.
        let mut names = Vec::with_capacity(
            2 * (s.credentials.domain.len() + s.credentials.user.len() + s.workstation.len()),
        );
        let mut ends = [0usize; 3];
        for (end, t) in
            ends.iter_mut()
                .zip([&s.credentials.domain, &s.credentials.user, &s.workstation])
        {
            text_into(&mut names, t, charset);
            *end = names.len();
        }
        let [d_end, u_end, w_end] = ends;
        let part = |a: usize, b: usize| Some(Cow::Borrowed(names.get(a..b).unwrap_or_default()));
        let encrypted_key = encrypted.unwrap_or_default();
        let encrypted_key: &[u8] = if encrypted.is_some() {
            &encrypted_key
        } else {
            &[]
        };
        let mut auth = AuthenticateMessage {
            lm_response: r.lm,
            nt_response: r.nt.map(Cow::Owned),
            domain: part(0, d_end),
            user: part(d_end, u_end),
            workstation: part(u_end, w_end),
            encrypted_random_session_key: Some(Cow::Borrowed(encrypted_key)),
            flags,
            version: flags.contains(F::NEGOTIATE_VERSION).then_some(s.version),
            mic: None,
        };
        if r.mic {
            auth.version = Some(auth.version.unwrap_or_default());
            auth.mic = Some([0; MIC_LEN]);
        }
        // The AUTHENTICATE is encoded in place after the NEGOTIATE and the
        // CHALLENGE: the MIC covers the transcript as it stands.
        let auth_len = auth.buffer_len();
        transcript.reserve_exact(challenge.len().saturating_add(auth_len));
        transcript.push_challenge(challenge);
        auth.emit(transcript.authenticate_slot(auth_len))
            .map_err(|_| encode_failure(Stage::Challenge))?;
        drop(auth);
        if r.mic {
            let m = mic(
                &exported,
                transcript.negotiate(),
                transcript.challenge(),
                transcript.authenticate(),
            );
            if let Some(slot) = transcript
                .authenticate_mut()
                .get_mut(MIC_OFFSET..MIC_OFFSET + MIC_LEN)
            {
                slot.copy_from_slice(m.as_bytes());
            }
        }
        let bytes = transcript.authenticate().to_vec();
        let report = SessionReport {
            flags,
            response_kind: r.kind,
            mic: r.mic,
            guest: false,
            user: s.credentials.user,
            domain: s.credentials.domain,
            workstation: s.workstation,
        };
        Ok((
            bytes,
            ClientEstablished(Established::new(
                flags,
                exported,
                Role::Client,
                report,
                transcript,
            )),
        ))
    }
}

/// Computes the responses the client's LmCompatibilityLevel calls for.
fn responses(
    s: &ClientSettings,
    ch: &ChallengeMessage<'_>,
    flags: F,
    client_challenge: [u8; 8],
    now: FileTime,
) -> Result<Responses, Failure> {
    if s.credentials.is_anonymous() {
        // MS-NLMP 3.3.1/3.3.2: empty NT response, LM = Z(1), SessionBaseKey Z(16).
        return Ok(Responses {
            kind: ResponseKind::Anonymous,
            lm: Some(Cow::Borrowed(&[0])),
            nt: None,
            session_base_key: SessionBaseKey::from_bytes([0; 16]),
            kx_lm: [0; 8],
            mic: false,
        });
    }
    let nt_hash = s.credentials.nt_hash_value();
    let sc = &ch.server_challenge;
    let level = s.config.effective_lm_level();
    let kind = level.client_response(flags, s.semantics.level0_ess);
    match kind {
        ResponseKind::NtlmV2 => {
            let key = ntowfv2(&nt_hash, &s.credentials.user, &s.credentials.domain);
            let target_info = ch.target_info.as_ref();
            let server_time = target_info.and_then(AvPairs::timestamp);
            let mic = s.send_mic && server_time.is_some();
            let announced = mic
                && (!s.mic_announced_with_security_only
                    || s.config.integrity
                    || s.config.confidentiality);
            let av = client_av_pairs(s, target_info, announced);
            // MS-NLMP 3.1.5.1.2: with MsvAvTimestamp the LM response is Z(24)
            // (and the LMv2 MAC is not computed).
            let r = match server_time {
                Some(t) => {
                    ntlmv2_responses_timestamped(&key, sc, t, &client_challenge, av.as_bytes())
                }
                None => ntlmv2_responses(&key, sc, now, &client_challenge, av.as_bytes()),
            };
            let lm: Cow<'static, [u8]> = if server_time.is_some() {
                Cow::Borrowed(&[0; 24])
            } else {
                Cow::Owned(r.lm_response.to_vec())
            };
            Ok(Responses {
                kind,
                kx_lm: head8(&lm),
                lm: Some(lm),
                nt: Some(r.nt_response),
                session_base_key: r.session_base_key,
                mic,
            })
        }
        ResponseKind::Ntlm2Session => {
            let r = ntlm2_session_responses(&nt_hash, sc, &client_challenge);
            Ok(Responses {
                kind,
                lm: Some(Cow::Owned(r.lm_response.to_vec())),
                nt: Some(r.nt_response.to_vec()),
                kx_lm: head8(&r.lm_response),
                session_base_key: r.session_base_key,
                mic: false,
            })
        }
        _ => {
            let lm_hash = match level.lm_field(flags, s.semantics.level0_ess) {
                LmField::Lm => s.credentials.lm_hash_value(),
                _ => None,
            };
            let r = ntlmv1_responses(&nt_hash, lm_hash.as_ref(), sc);
            Ok(Responses {
                kind: ResponseKind::NtlmV1,
                lm: Some(Cow::Owned(r.lm_response.to_vec())),
                nt: Some(r.nt_response.to_vec()),
                kx_lm: head8(&r.lm_response),
                session_base_key: r.session_base_key,
                mic: false,
            })
        }
    }
}

/// The first 8 bytes of an LM response (KXKEY reads no more).
fn head8(lm: &[u8]) -> [u8; 8] {
    let mut out = [0u8; 8];
    if let Some(h) = lm.get(..8) {
        out.copy_from_slice(h);
    }
    out
}

/// The AV pairs of the client's NTLMv2 blob (MS-NLMP 3.1.5.1.2): the
/// CHALLENGE's pairs in order, MsvAvFlags with 0x2 when a MIC is announced, and
/// (Windows 7+) MsvAvChannelBindings and MsvAvTargetName; then MsvAvEOL.
/// A server-supplied MsvAvFlags never lowers the client's own bits.
fn client_av_pairs(
    s: &ClientSettings,
    target_info: Option<&AvPairs<'_>>,
    mic: bool,
) -> AvPairs<'static> {
    // Values borrow from the CHALLENGE where they can: one allocation in all.
    let server_flags = target_info.map_or(MsvAvFlags::empty(), AvPairs::flags_union);
    let mine = if mic {
        MsvAvFlags::MIC_PRESENT
    } else {
        MsvAvFlags::empty()
    };
    let flags_value = (server_flags | mine).bits().to_le_bytes();
    let cbt = s.channel_bindings.unwrap_or([0; 16]);
    let spn = ntlm_wire::text::utf16le(s.target_name.as_deref().unwrap_or(""));
    let ext = s.av_extensions;
    let flags_seen = target_info.is_some_and(|t| t.iter().any(|p| p.id == AvId::FLAGS));
    let from_server = target_info
        .into_iter()
        .flat_map(AvPairs::iter)
        .filter_map(|p| match p.id {
            AvId::FLAGS => Some((AvId::FLAGS, flags_value.as_slice())),
            // The client supplies these itself.
            AvId::CHANNEL_BINDINGS | AvId::TARGET_NAME if ext => None,
            _ => Some((p.id, p.value)),
        });
    let pairs = from_server
        .chain((mic && !flags_seen).then_some((AvId::FLAGS, flags_value.as_slice())))
        .chain(
            (ext && (s.channel_bindings.is_some() || !s.omit_absent_channel_bindings))
                .then_some((AvId::CHANNEL_BINDINGS, cbt.as_slice())),
        )
        .chain(ext.then_some((AvId::TARGET_NAME, spn.as_slice())));
    AvPairs::build(pairs).unwrap_or_else(|_| AvPairs::new(vec![0, 0, 0, 0]))
}

fn encode_failure(stage: Stage) -> Failure {
    Failure::new(
        Side::Client,
        stage,
        &rules::DECODE_MALFORMED,
        Detail::Note(
            "the client could not encode its message (a field is longer than 65535 bytes)",
        ),
    )
}

/// A client that sent AUTHENTICATE: it holds the session keys.
#[derive(Debug)]
pub struct ClientEstablished(pub Established);
