//! `ntlmsim handshake` (docs/CLI.md): a complete exchange in process.

use std::fmt::Write as _;
use std::sync::Arc;

use clap::Args;
use ntlm_policy::restrict::Transport;
use ntlm_policy::{Certainty, LmCompatibilityLevel, MinSessionSecurity, Semantics};
use ntlm_report::json;
use ntlm_session::{Credentials, Exchange, Fixed, MemoryStore, Pair, RestrictPath};
use ntlm_sim::outcome::{CertaintyJson, OutcomeJson};
use ntlm_sim::parse;
use ntlm_sim::profiles::{AssumedFacts, Catalog};
use ntlm_wire::{FileTime, Message, NegotiateFlags, Version};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use serde::Serialize;

use super::{CliError, Status};

/// Run a complete NTLM exchange between a simulated client and server.
#[derive(Debug, Args)]
#[command(after_help = "\
MASK forms: 0x20080000, 537395200, dword:20080000, registry/secedit lines, or names such as
  require_128bit_encryption,require_NTLMv2_session_security (see `ntlmsim policy explain`).
FLAGS forms (--client-flags/--server-flags): 0xe2888235, decimal, or names joined by | or ,.

Reproducing MS-NLMP 4.2.4.3 exactly:
  ntlmsim handshake --client ms-nlmp-4.2 --server ms-nlmp-4.2 --client-lm-level 3 \\
    --client-flags 0xe2888235 --server-flags 0xe28a8233 --server-challenge 0123456789abcdef \\
    --client-challenge aaaaaaaaaaaaaaaa --session-key 55555555555555555555555555555555 --time 0 \\
    --user User --domain Domain --password Password --workstation COMPUTER

Restrict NTLM on the path (blocked connections fail with STATUS_NTLM_BLOCKED and the event Windows
logs; audit settings only list the events that would be logged):
  ntlmsim handshake --client-restrict 'RestrictSendingNTLMTraffic REG_DWORD 0x2' \\
    --client-restrict 'ClientAllowedNTLMServers REG_MULTI_SZ nas01' --restrict-target web01
  ntlmsim handshake --dc-restrict 'Network security: Restrict NTLM: NTLM authentication in this
    domain  Deny for domain accounts'

Exit codes: 0 the exchange succeeded; 1 it failed (the verdict says who, where and why); 2 bad usage.")]
pub(crate) struct HandshakeArgs {
    /// Client profile (see `ntlmsim profiles`)
    #[arg(long, default_value = "windows-11")]
    client: String,
    /// Server profile
    #[arg(long, default_value = "windows-11")]
    server: String,
    /// NtlmMinClientSec (default: the client profile's)
    #[arg(long, value_name = "MASK")]
    client_min: Option<MinSessionSecurity>,
    /// NtlmMinServerSec (default: the server profile's)
    #[arg(long, value_name = "MASK")]
    server_min: Option<MinSessionSecurity>,
    /// The client's LmCompatibilityLevel, 0..5 (default: the profile's)
    #[arg(long, value_name = "N")]
    client_lm_level: Option<LmCompatibilityLevel>,
    /// The server's (or its DC's) LmCompatibilityLevel, 0..5
    #[arg(long, value_name = "N")]
    server_lm_level: Option<LmCompatibilityLevel>,
    /// Policy semantics where Windows behaviour is unconfirmed: a preset, SWITCH=VALUE items, or a
    /// preset then overrides, comma-separated (see `ntlmsim policy semantics`)
    #[arg(long, value_name = "SPEC", default_value = "calibrated")]
    semantics: Semantics,
    /// The application requests integrity (SIGN)
    #[arg(long)]
    sign: bool,
    /// The application requests confidentiality (SEAL)
    #[arg(long)]
    seal: bool,
    /// User name
    #[arg(long, default_value = "alice")]
    user: String,
    /// Domain name
    #[arg(long, default_value = "TESTDOM")]
    domain: String,
    /// The client's password
    #[arg(long, default_value = "Passw0rd!")]
    password: String,
    /// The password the server holds for the user (default: the same)
    #[arg(long)]
    server_password: Option<String>,
    /// Seed for the random values (server challenge, client challenge, session key)
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Exact ServerChallenge (16 hex digits)
    #[arg(long, value_name = "HEX8")]
    server_challenge: Option<String>,
    /// Exact client challenge (16 hex digits)
    #[arg(long, value_name = "HEX8")]
    client_challenge: Option<String>,
    /// Exact random session key for KEY_EXCH (32 hex digits)
    #[arg(long, value_name = "HEX16")]
    session_key: Option<String>,
    /// The time as a FILETIME (decimal or 0x hex; default: now)
    #[arg(long, value_name = "FILETIME")]
    time: Option<String>,
    /// Force the client's NEGOTIATE and AUTHENTICATE flags
    #[arg(long, value_name = "FLAGS")]
    client_flags: Option<String>,
    /// Force the server's CHALLENGE flags
    #[arg(long, value_name = "FLAGS")]
    server_flags: Option<String>,
    /// Send no Version field (clears NEGOTIATE_VERSION from what the client offers)
    #[arg(long)]
    no_version: bool,
    /// Workstation name in the AUTHENTICATE
    #[arg(long, value_name = "NAME")]
    workstation: Option<String>,
    /// The server's name, sent as CHALLENGE TargetName (NetBIOS computer name)
    #[arg(long, value_name = "NAME")]
    target_name: Option<String>,
    /// The SPN the client names in MsvAvTargetName (default: as the client profile does over
    /// --carrier)
    #[arg(long, value_name = "SPN")]
    spn: Option<String>,
    /// The client's Restrict NTLM settings, in any form `policy explain` reads (registry lines,
    /// .reg, secedit, Group Policy text): RestrictSendingNTLMTraffic, ClientAllowedNTLMServers, the
    /// SMB client's BlockNTLM and BlockNTLMServerExceptionList; repeatable
    #[arg(long, value_name = "SETTINGS")]
    client_restrict: Vec<String>,
    /// The server's Restrict NTLM settings (RestrictReceivingNTLMTraffic,
    /// AuditReceivingNTLMTraffic); repeatable
    #[arg(long, value_name = "SETTINGS")]
    server_restrict: Vec<String>,
    /// The settings of the server's DC (RestrictNTLMInDomain, AuditNTLMInDomain,
    /// DCAllowedNTLMServers); repeatable
    #[arg(long, value_name = "SETTINGS")]
    dc_restrict: Vec<String>,
    /// The server's name as the client names it, matched against the client's exception lists
    /// (default: the server's NetBIOS computer name)
    #[arg(long, value_name = "NAME")]
    restrict_target: Option<String>,
    /// The transport: smb (the SMB client's BlockNTLM applies) or other; --carrier smb implies smb
    #[arg(long, value_name = "TRANSPORT", default_value = "other")]
    transport: String,
    /// What carries the exchange: http, https, ldap, ldaps, smb or other; the --binding settings act
    /// per carrier (channel bindings only over https and ldaps)
    #[arg(long, value_name = "CARRIER", default_value = "other")]
    carrier: String,
    /// A server setting NAME=VALUE (repeatable): extended-protection=off|allow|require,
    /// ldap-channel-binding=0|1|2, ldap-signing=1|2, smb-name-hardening=0|1|2, or a registry value
    /// name (LdapEnforceChannelBinding=2)
    #[arg(long = "binding", value_name = "NAME=VALUE")]
    bindings: Vec<String>,
    /// How an all-zero MsvAvChannelBindings is read when bindings are checked "when supported":
    /// refused (curl/curl#12511, gssapi/gss-ntlmssp#25) or accepted (MS-NLMP as written)
    #[arg(long, value_name = "READING", default_value = "refused")]
    zero_channel_bindings: String,
    /// Print one JSON document
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct MessageOut {
    hex: String,
    decoded: json::MessageJson,
}

#[derive(Serialize, Default)]
struct MessagesOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    negotiate: Option<MessageOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    challenge: Option<MessageOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    authenticate: Option<MessageOut>,
}

/// The carrier and the server's channel-binding settings of an exchange.
#[derive(Serialize, Clone)]
struct BindingOut {
    carrier: &'static str,
    /// The settings that differ from the defaults (`name=option`, comma-separated).
    server_settings: String,
    /// The SPN the server expects and a client naming it sends.
    spn: String,
    /// Whether the verdict changes under the other `--zero-channel-bindings`
    /// reading (docs/POLICY.md: an unconfirmed behaviour).
    depends_on_zero_channel_bindings: bool,
}

#[derive(Serialize)]
struct HandshakeOut {
    client: String,
    server: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    binding: Option<BindingOut>,
    /// The semantics as `--semantics` reads them back.
    semantics: String,
    messages: MessagesOut,
    outcome: OutcomeJson,
    certainty: CertaintyJson,
    /// Restrict NTLM events the hosts wrote (blocked or would be logged).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    restrict_events: Vec<ntlm_sim::restrict::EventJson>,
    /// The account kind the server and its DC judged (`domain` or `local`), when restricted.
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<&'static str>,
    /// Settings a profile overrides, with the rule (`ntlmv1-removed`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
    /// The facts of the two profiles that no public source confirms, for
    /// the role each plays ([`ntlm_sim::profiles::assumed_facts`]): the
    /// verdict rests on them too.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    assumed: Vec<AssumedFacts>,
}

pub(crate) fn run(args: &HandshakeArgs, out: &mut Vec<u8>) -> Result<Status, CliError> {
    let catalog = Catalog::builtin().map_err(|e| CliError::bad("built-in profiles", e))?;
    let find = |name: &str| {
        catalog.get(name).ok_or_else(|| {
            CliError::new(format!(
                "unknown profile {name:?}; known: {}",
                catalog.names()
            ))
        })
    };
    let cp = find(&args.client)?;
    let sp = find(&args.server)?;
    let semantics = args.semantics;

    let credentials = Credentials::password(&args.user, &args.domain, &args.password);
    let mut client = cp
        .client_settings(credentials)
        .ok_or_else(|| CliError::new(format!("profile {:?} cannot be a client", cp.name)))?;
    let mut store = MemoryStore::new();
    store.add_password(
        &args.domain,
        &args.user,
        args.server_password.as_deref().unwrap_or(&args.password),
    );
    let mut server = sp
        .server_settings(Arc::new(store))
        .ok_or_else(|| CliError::new(format!("profile {:?} cannot be a server", sp.name)))?;

    client.semantics = semantics;
    server.semantics = semantics;
    client.config.integrity = args.sign;
    client.config.confidentiality = args.seal;
    if let Some(m) = args.client_min {
        client.min = m;
    }
    if let Some(m) = args.server_min {
        server.min = m;
    }
    if let Some(l) = args.client_lm_level {
        client.config.lm_level = l;
    }
    if let Some(l) = args.server_lm_level {
        server.config.lm_level = l;
    }
    if let Some(f) = &args.client_flags {
        let f = parse::flags(f).map_err(|e| CliError::bad("--client-flags", e))?;
        client.config.flags_override = Some(f);
        client.authenticate_flags = Some(f);
    }
    if let Some(f) = &args.server_flags {
        server.config.flags_override =
            Some(parse::flags(f).map_err(|e| CliError::bad("--server-flags", e))?);
    }
    if args.no_version {
        client
            .config
            .offer
            .remove(NegotiateFlags::NEGOTIATE_VERSION);
        if let Some(f) = client.config.flags_override.as_mut() {
            f.remove(NegotiateFlags::NEGOTIATE_VERSION);
        }
        if let Some(f) = client.authenticate_flags.as_mut() {
            f.remove(NegotiateFlags::NEGOTIATE_VERSION);
        }
    }
    if let Some(w) = &args.workstation {
        client.workstation.clone_from(w);
    }
    if let Some(t) = &args.target_name {
        server.names.nb_computer.clone_from(t);
        server.config.domain_joined = false;
    }
    let carrier = ntlm_sim::binding::carrier(&args.carrier).map_err(CliError::new)?;
    let policy = ntlm_sim::binding::policy(&args.bindings, &args.zero_channel_bindings)
        .map_err(CliError::new)?;
    let mut binding = (carrier != ntlm_policy::Carrier::Other || !policy.is_default()).then(|| {
        ntlm_sim::binding::apply(cp, &mut client, &mut server, &policy, carrier);
        BindingOut {
            carrier: carrier.name(),
            server_settings: policy.describe(),
            spn: ntlm_sim::binding::spn(carrier, &server.names),
            depends_on_zero_channel_bindings: false,
        }
    });
    if let Some(spn) = &args.spn {
        client.target_name = Some(spn.clone());
    }
    let restrict_path = RestrictPath {
        client: ntlm_sim::restrict::from_pastes(&args.client_restrict)
            .map_err(|e| CliError::bad("--client-restrict", e))?,
        server: ntlm_sim::restrict::from_pastes(&args.server_restrict)
            .map_err(|e| CliError::bad("--server-restrict", e))?,
        dc: ntlm_sim::restrict::from_pastes(&args.dc_restrict)
            .map_err(|e| CliError::bad("--dc-restrict", e))?,
        target: args.restrict_target.clone(),
        transport: match args.transport.to_ascii_lowercase().as_str() {
            "smb" => Transport::Smb,
            "other" if carrier == ntlm_policy::Carrier::Smb => Transport::Smb,
            "other" | "http" | "ldap" | "rpc" => Transport::Other,
            t => {
                return Err(CliError::new(format!(
                    "--transport: {t:?} is not smb or other"
                )));
            }
        },
    };

    let fixed = Fixed {
        server_challenge: args
            .server_challenge
            .as_deref()
            .map(|h| parse::hex_array(h, "--server-challenge"))
            .transpose()
            .map_err(CliError::new)?,
        client_challenge: args
            .client_challenge
            .as_deref()
            .map(|h| parse::hex_array(h, "--client-challenge"))
            .transpose()
            .map_err(CliError::new)?,
        session_key: args
            .session_key
            .as_deref()
            .map(|h| parse::hex_array(h, "--session-key"))
            .transpose()
            .map_err(CliError::new)?,
    };
    let now = match &args.time {
        Some(t) => FileTime(parse::u64_any(t).map_err(|e| CliError::bad("--time", e))?),
        None => super::system::filetime_now(),
    };
    let mut rng = match args.seed {
        Some(s) => ChaCha20Rng::seed_from_u64(s),
        None => ChaCha20Rng::from_os_rng(),
    };
    // The same exchange under every documented reading of the switches,
    // with the same fixed values and one seed, so only the semantics differ.
    let certainty_seed = args.seed.unwrap_or(0);
    let certainty = ntlm_policy::certainty(&semantics, |s| {
        let (mut c, mut v) = (client.clone(), server.clone());
        c.semantics = *s;
        v.semantics = *s;
        let mut rng = ChaCha20Rng::seed_from_u64(certainty_seed);
        Pair {
            client: c,
            server: v,
        }
        .run_restricted(&restrict_path, &mut rng, now, fixed)
        .exchange
        .outcome
        .is_ok()
    });
    let mut notes = Vec::new();
    if client.config.ntlmv1_removed && client.config.lm_level != client.config.effective_lm_level()
    {
        let r = &ntlm_policy::rules::NTLMV1_REMOVED;
        notes.push(format!(
            "the client is Windows 11 24H2 / Server 2025: LmCompatibilityLevel {} is ignored, it \
             sends NTLMv2 (rule {}, {})",
            client.config.lm_level.level(),
            r.id,
            r.source
        ));
    }
    // The other reading of an all-zero MsvAvChannelBindings, with the same
    // fixed values: does the verdict depend on it?
    let zero_alt = binding.as_ref().map(|_| {
        let alt = ntlm_policy::BindingPolicy {
            zero_bindings: match policy.zero_bindings {
                ntlm_policy::ZeroBindings::Refused => ntlm_policy::ZeroBindings::Accepted,
                ntlm_policy::ZeroBindings::Accepted => ntlm_policy::ZeroBindings::Refused,
            },
            ..policy
        };
        let (mut c, mut v) = (client.clone(), server.clone());
        ntlm_sim::binding::apply(cp, &mut c, &mut v, &alt, carrier);
        if let Some(spn) = &args.spn {
            c.target_name = Some(spn.clone());
        }
        let mut rng = ChaCha20Rng::seed_from_u64(certainty_seed);
        Pair {
            client: c,
            server: v,
        }
        .run_restricted(&restrict_path, &mut rng, now, fixed)
        .exchange
        .outcome
        .is_ok()
    });
    let restricted = Pair { client, server }.run_restricted(&restrict_path, &mut rng, now, fixed);
    let ex = &restricted.exchange;
    if let (Some(b), Some(alt)) = (binding.as_mut(), zero_alt) {
        b.depends_on_zero_channel_bindings = alt != ex.outcome.is_ok();
    }
    let ok = ex.outcome.is_ok();
    let assumed = ntlm_sim::profiles::assumed_facts(Some(cp), Some(sp));
    let verdict = Verdict {
        semantics: &semantics,
        certainty: &certainty,
        events: &restricted.events,
        notes: &notes,
        account: (!restrict_path.is_default())
            .then_some(restricted.account)
            .flatten(),
        binding: binding.as_ref(),
        assumed: &assumed,
    };
    if args.json {
        write_json(&cp.name, &sp.name, ex, &verdict, out)?;
    } else {
        out.extend_from_slice(render(&cp.name, &sp.name, ex, &verdict).as_bytes());
    }
    Ok(if ok {
        Status::Success
    } else {
        Status::Negative
    })
}

fn message_out(bytes: &[u8]) -> Option<MessageOut> {
    let m = Message::parse(bytes).ok()?;
    Some(MessageOut {
        hex: hex::encode(bytes),
        decoded: json::message(bytes, &m),
    })
}

/// The semantics a verdict was reached under, and how certain it is.
struct Verdict<'a> {
    semantics: &'a Semantics,
    certainty: &'a Certainty,
    events: &'a [ntlm_session::Logged],
    account: Option<ntlm_policy::restrict::Account>,
    notes: &'a [String],
    binding: Option<&'a BindingOut>,
    assumed: &'a [AssumedFacts],
}

fn outcome_of(ex: &Exchange, semantics: &Semantics) -> OutcomeJson {
    match &ex.outcome {
        Ok((_, s)) => OutcomeJson::success(&s.report, Some(s.exported_session_key().as_bytes())),
        Err(f) => OutcomeJson::failure_under(f, semantics),
    }
}

fn write_json(
    client: &str,
    server: &str,
    ex: &Exchange,
    verdict: &Verdict<'_>,
    out: &mut Vec<u8>,
) -> Result<(), CliError> {
    // Each message as its receiver got it (identical to what was sent: no tampering here).
    let doc = HandshakeOut {
        client: client.to_owned(),
        server: server.to_owned(),
        binding: verdict.binding.cloned(),
        semantics: verdict.semantics.spec(),
        messages: MessagesOut {
            negotiate: ex.negotiate.as_ref().and_then(|(m, _)| message_out(m)),
            challenge: ex.challenge.as_ref().and_then(|(m, _)| message_out(m)),
            authenticate: ex.authenticate.as_ref().and_then(|(m, _)| message_out(m)),
        },
        outcome: outcome_of(ex, verdict.semantics),
        certainty: CertaintyJson::new(verdict.certainty, ex.outcome.is_ok()),
        restrict_events: ntlm_sim::restrict::events_json(verdict.events),
        account: verdict.account.map(ntlm_policy::restrict::Account::name),
        notes: verdict.notes.to_vec(),
        assumed: verdict.assumed.to_vec(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(|e| CliError::bad("JSON", e))?;
    out.push(b'\n');
    Ok(())
}

/// The three messages side by side, then the verdict.
fn render(client: &str, server: &str, ex: &Exchange, verdict: &Verdict<'_>) -> String {
    let msgs: Vec<Option<Message<'_>>> = [&ex.negotiate, &ex.challenge, &ex.authenticate]
        .iter()
        .map(|m| m.as_ref().and_then(|(b, _)| Message::parse(b).ok()))
        .collect();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "client: {}    server: {}\n",
        ntlm_report::sink::terminal(client),
        ntlm_report::sink::terminal(server)
    );
    if let Some(b) = verdict.binding {
        let settings = if b.server_settings.is_empty() {
            "defaults"
        } else {
            &b.server_settings
        };
        let _ = writeln!(
            s,
            "carrier: {}    server settings: {settings}    SPN: {}",
            b.carrier,
            ntlm_report::sink::terminal(&b.spn)
        );
        if b.depends_on_zero_channel_bindings {
            let _ = writeln!(
                s,
                "note: the verdict depends on --zero-channel-bindings\n      (how an all-zero \
                 MsvAvChannelBindings is read; docs/POLICY.md)"
            );
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "{:<38} {:>12} {:>12} {:>12}",
        "", "NEGOTIATE", "CHALLENGE", "AUTHENTICATE"
    );
    let cell = |i: usize, f: &dyn Fn(&Message<'_>) -> String| -> String {
        match msgs.get(i).and_then(Option::as_ref) {
            Some(m) => f(m),
            None => "(not sent)".to_owned(),
        }
    };
    let lens = [&ex.negotiate, &ex.challenge, &ex.authenticate].map(|m| {
        m.as_ref().map_or("(not sent)".to_owned(), |(b, _)| {
            format!("{} bytes", b.len())
        })
    });
    let _ = writeln!(
        s,
        "{:<38} {:>12} {:>12} {:>12}",
        "length", lens[0], lens[1], lens[2]
    );
    let flags = |i: usize| cell(i, &|m| format!("{:#010x}", m.flags().bits()));
    let _ = writeln!(
        s,
        "{:<38} {:>12} {:>12} {:>12}",
        "flags",
        flags(0),
        flags(1),
        flags(2)
    );
    let all = msgs
        .iter()
        .flatten()
        .fold(NegotiateFlags::empty(), |a, m| a | m.flags());
    for (name, letter, bit) in ntlm_wire::FLAG_TABLE {
        if all.bits() & bit == 0 {
            continue;
        }
        let mark = |i: usize| match msgs.get(i).and_then(Option::as_ref) {
            Some(m) if m.flags().bits() & bit != 0 => "x",
            Some(_) => ".",
            None => "",
        };
        let _ = writeln!(
            s,
            "  {letter:>3} {name:<34} {:>12} {:>12} {:>12}",
            mark(0),
            mark(1),
            mark(2)
        );
    }
    let version = |i: usize| {
        cell(i, &|m| {
            let v: Option<Version> = match m {
                Message::Negotiate(n) => n.version_if_negotiated(),
                Message::Challenge(c) => c.version_if_negotiated(),
                Message::Authenticate(a) => a.version_if_negotiated(),
            };
            v.map_or("-".to_owned(), |v| {
                format!("{}.{}.{}", v.major, v.minor, v.build)
            })
        })
    };
    let _ = writeln!(
        s,
        "{:<38} {:>12} {:>12} {:>12}",
        "version",
        version(0),
        version(1),
        version(2)
    );
    if let Some(Some(Message::Authenticate(a))) = msgs.get(2) {
        let _ = writeln!(
            s,
            "{:<38} {:>12} {:>12} {:>12}",
            "response",
            "",
            "",
            a.response_kind().as_str()
        );
        let _ = writeln!(
            s,
            "{:<38} {:>12} {:>12} {:>12}",
            "MIC",
            "",
            "",
            if a.mic.is_some() { "present" } else { "none" }
        );
    }
    s.push('\n');
    match &ex.outcome {
        Ok((_, srv)) => s.push_str(&ntlm_report::outcome::render_success(&srv.report)),
        Err(f) => s.push_str(&f.details_under(verdict.semantics).to_string()),
    }
    for n in verdict.notes {
        let _ = writeln!(s, "  note:       {n}");
    }
    if !verdict.events.is_empty() {
        s.push_str("  Restrict NTLM events:\n");
        s.push_str(&ntlm_sim::restrict::render_events(verdict.events));
    }
    let _ = writeln!(s, "  semantics:  {}", verdict.semantics.spec());
    s.push_str(&ntlm_report::outcome::render_certainty(
        verdict.certainty,
        ex.outcome.is_ok(),
    ));
    s.push_str(&ntlm_report::profiles::render_assumed(
        verdict.assumed,
        "  ",
    ));
    s
}
