//! `ntlmsim demo`: the main job in one command.

use std::fmt::Write as _;
use std::sync::Arc;

use clap::Args;
use ntlm_policy::MinSessionSecurity;
use ntlm_report::interop::{Io, Request};
use ntlm_report::profiles::render_assumed;
use ntlm_session::{Credentials, Fixed, MemoryStore, Pair};
use ntlm_sim::matrix::{self, Application};
use ntlm_sim::observations::{Observation, check_all};
use ntlm_sim::profiles::{AssumedFacts, Catalog, Profile, assumed_facts};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

use ntlm_sim::outcome::{CertaintyJson, OutcomeJson, hex32};
use serde::Serialize;

use super::{CliError, Status, term};

/// The demo matrix: common clients old and new, against Windows and Samba servers.
const DEMO_CLIENTS: &str = "windows-11,windows-7-upgraded,windows-xp,samba-4,curl-7.88,jtds-1.3,go-ntlmssp-2018,linux-cifs";
const DEMO_SERVERS: &str = "windows-11,windows-7-upgraded,windows-2000,samba-4";

/// The 2026 hardening scene: clients old and new, including Windows 11 24H2
/// (NTLMv1 removed) and an NTLMv1-only device, against Windows servers.
const BASELINE_CLIENTS: &str = "windows-11,windows-11-24h2,windows-7-upgraded,samba-4,ntlmv1-nas";
const BASELINE_SERVERS: &str = "windows-server-2025,windows-10,samba-4";

/// The 2026 baseline as `interop` options: LmCompatibilityLevel 5 on both
/// sides (STIG, CIS), Restrict NTLM audited on clients and servers, and the
/// DC denying NTLM for domain accounts to domain servers with one exception
/// (Microsoft's NTLM deprecation guidance: audit, then restrict with
/// exceptions).
const BASELINE: [&str; 12] = [
    "--client-lm-level",
    "5",
    "--server-lm-level",
    "5",
    "--client-restrict",
    "Network security: Restrict NTLM: Outgoing NTLM traffic to remote servers  Audit all",
    "--server-restrict",
    "Network security: Restrict NTLM: Audit Incoming NTLM Traffic  Enable auditing for all accounts",
    "--dc-restrict",
    "Network security: Restrict NTLM: NTLM authentication in this domain  Deny for domain accounts to domain servers",
    "--dc-restrict",
    "Network security: Restrict NTLM: Add server exceptions in this domain  windows-10",
];

/// The `interop` request for `clients` × `servers` with the `options`
/// (`--flag value` pairs as [`BASELINE`] writes them, or `--sign`).
fn request(
    clients: &str,
    servers: &str,
    options: &[&str],
    json: bool,
) -> Result<Request, CliError> {
    let list = |s: &str| s.split(',').map(str::to_owned).collect();
    let mut r = Request {
        clients: list(clients),
        servers: list(servers),
        json,
        ..Request::default()
    };
    let mut it = options.iter();
    while let Some(&flag) = it.next() {
        if flag == "--sign" {
            r.sign = true;
            continue;
        }
        let value = it
            .next()
            .map(|v| (*v).to_owned())
            .ok_or_else(|| CliError::new(format!("demo: {flag} without a value")))?;
        match flag {
            "--client-min" => r.client_min = Some(value),
            "--server-min" => r.server_min = Some(value),
            "--client-lm-level" => r.client_lm_level = Some(value),
            "--server-lm-level" => r.server_lm_level = Some(value),
            "--client-restrict" => r.client_restrict.push(value),
            "--server-restrict" => r.server_restrict.push(value),
            "--dc-restrict" => r.dc_restrict.push(value),
            _ => return Err(CliError::new(format!("demo: unexpected option {flag}"))),
        }
    }
    Ok(r)
}

/// The output of `interop` for `request`, as the command line writes it
/// (the demo's runs read no file and are too short for a progress line).
fn interop(request: &Request, catalog: &Catalog) -> Result<Vec<u8>, CliError> {
    let mut out = Vec::new();
    let mut io = Io {
        width: term::width(),
        colour: term::stdout_colour(),
        progress: &mut |_, _| {},
        read_fleet: &mut |path| Err(format!("demo: no fleet file ({path})")),
        write_html: &mut |path, _| Err(format!("demo: no HTML report ({path})")),
    };
    ntlm_report::interop::run(request, catalog, &mut io, &mut out).map_err(CliError::new)?;
    Ok(out)
}

/// A tour: example handshakes, a policy failure explained, the policy-impact
/// matrix of the common hardening baseline, and a 2026 baseline with Restrict
/// NTLM and Windows 11 24H2 / Server 2025.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Print one JSON document: {handshakes: [...], matrix: {...}, baseline_2026: {...}, next: [...]}
    #[arg(long)]
    json: bool,
}

/// The commands the demo points to next.
const NEXT: [&str; 7] = [
    "ntlmsim interop --server-min 0x20080000",
    "ntlmsim profiles",
    "ntlmsim handshake --help",
    "ntlmsim policy explain 0x20080030",
    "ntlmsim policy check --negotiated 0xe2888235 --server-min 0x20080000",
    "ntlmsim decode <message>",
    "ntlmsim audit <capture.pcap>",
];

/// `demo --json`.
#[derive(Serialize)]
struct DemoJson {
    handshakes: Vec<HandshakeJson>,
    matrix: MatrixJson,
    /// The 2026 hardening baseline scene.
    baseline_2026: BaselineJson,
    next: [&'static str; 7],
}

/// The 2026 hardening baseline and its matrix.
#[derive(Serialize)]
struct BaselineJson {
    /// The `interop` options of the baseline.
    options: Vec<&'static str>,
    clients: Vec<&'static str>,
    servers: Vec<&'static str>,
    /// The `interop --json` document for these arguments.
    interop: serde_json::Value,
}

/// One example handshake.
#[derive(Serialize)]
struct HandshakeJson {
    title: &'static str,
    client: String,
    server: String,
    sign: bool,
    seal: bool,
    /// The server's NtlmMinServerSec when the demo sets it, else its profile's.
    server_min: String,
    /// The messages sent, in order: `{type, length, hex}`.
    messages: Vec<MessageJson>,
    /// As `handshake --json` reports it (no session key).
    outcome: OutcomeJson,
    /// Whether the verdict holds under every documented reading of the
    /// semantics switches, as `handshake --json` reports it.
    certainty: CertaintyJson,
    /// What is assumed of the two profiles in their roles, as `handshake
    /// --json` reports it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    assumed: Vec<AssumedFacts>,
}

#[derive(Serialize)]
struct MessageJson {
    #[serde(rename = "type")]
    kind: &'static str,
    length: usize,
    hex: String,
}

/// The policy-impact matrix and how it was asked for.
#[derive(Serialize)]
struct MatrixJson {
    client_min: &'static str,
    server_min: &'static str,
    sign: bool,
    clients: Vec<&'static str>,
    servers: Vec<&'static str>,
    /// The `interop --json` document for these arguments.
    interop: serde_json::Value,
}

fn handshake(
    title: &'static str,
    client: &Profile,
    server: &Profile,
    app: Application,
    server_min: Option<u32>,
    out: &mut String,
) -> Result<HandshakeJson, CliError> {
    let creds = Credentials::password("alice", "TESTDOM", "Passw0rd!");
    let mut c = client
        .client_settings(creds)
        .ok_or_else(|| CliError::new(format!("{} is not a client profile", client.name)))?;
    c.config.integrity = app.sign;
    c.config.confidentiality = app.seal;
    let mut store = MemoryStore::new();
    store.add_password("TESTDOM", "alice", "Passw0rd!");
    let mut s = server
        .server_settings(Arc::new(store))
        .ok_or_else(|| CliError::new(format!("{} is not a server profile", server.name)))?;
    if let Some(m) = server_min {
        s.min = MinSessionSecurity::from_registry(m);
    }
    let min = hex32(s.min.bits());
    // The same handshake under every documented reading of the switches.
    let certainty = ntlm_policy::certainty(&s.semantics, |sem| {
        let (mut c, mut s) = (c.clone(), s.clone());
        c.semantics = *sem;
        s.semantics = *sem;
        Pair {
            client: c,
            server: s,
        }
        .run(
            &mut ChaCha20Rng::seed_from_u64(1),
            matrix::MATRIX_TIME,
            Fixed::default(),
        )
        .outcome
        .is_ok()
    });
    let ex = Pair {
        client: c,
        server: s,
    }
    .run(
        &mut ChaCha20Rng::seed_from_u64(1),
        matrix::MATRIX_TIME,
        Fixed::default(),
    );
    let works = ex.outcome.is_ok();
    let _ = writeln!(out, "{title}");
    let lens: Vec<String> = [&ex.negotiate, &ex.challenge, &ex.authenticate]
        .iter()
        .zip(["NEGOTIATE", "CHALLENGE", "AUTHENTICATE"])
        .map(|(m, n)| match m {
            Some((b, _)) => format!("{n} {} bytes", b.len()),
            None => format!("no {n}"),
        })
        .collect();
    let _ = writeln!(out, "  messages: {}", lens.join(", "));
    let text = match &ex.outcome {
        Ok((_, srv)) => ntlm_report::outcome::render_success(&srv.report),
        Err(f) => f.details().to_string(),
    };
    for line in text.lines() {
        let _ = writeln!(out, "  {line}");
    }
    out.push_str(&ntlm_report::outcome::render_certainty(&certainty, works));
    let assumed = assumed_facts(Some(client), Some(server));
    out.push_str(&render_assumed(&assumed, "  "));
    out.push('\n');
    let messages = [&ex.negotiate, &ex.challenge, &ex.authenticate]
        .iter()
        .zip(["NEGOTIATE", "CHALLENGE", "AUTHENTICATE"])
        .filter_map(|(m, kind)| {
            m.as_ref().map(|(b, _)| MessageJson {
                kind,
                length: b.len(),
                hex: hex::encode(b),
            })
        })
        .collect();
    Ok(HandshakeJson {
        title,
        client: client.name.clone(),
        server: server.name.clone(),
        sign: app.sign,
        seal: app.seal,
        server_min: min,
        messages,
        outcome: match &ex.outcome {
            Ok((_, srv)) => OutcomeJson::success(&srv.report, None),
            Err(f) => OutcomeJson::failure_under(f, &ntlm_policy::Semantics::default()),
        },
        certainty: CertaintyJson::new(&certainty, works),
        assumed,
    })
}

pub(crate) fn run(args: &DemoArgs, out: &mut Vec<u8>) -> Result<Status, CliError> {
    let catalog =
        Catalog::builtin().map_err(|e| CliError::new(format!("built-in profiles: {e}")))?;
    let get = |n: &str| {
        catalog
            .get(n)
            .ok_or_else(|| CliError::new(format!("built-in profile {n} is missing")))
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "ntlmsim demo: NTLM session negotiation and the minimum-security policies\n"
    );
    let h1 = handshake(
        "1. A modern handshake: Windows 11 client and server, the application asks for signing and sealing",
        get("windows-11")?,
        get("windows-11")?,
        Application {
            sign: true,
            seal: true,
        },
        None,
        &mut s,
    )?;
    let h2 = handshake(
        "2. A legacy handshake: a Windows XP client (LmCompatibilityLevel 0; it requests ESS, as its public messages show) signing against a Windows 11 server",
        get("windows-xp")?,
        get("windows-11")?,
        Application {
            sign: true,
            seal: false,
        },
        None,
        &mut s,
    )?;
    let h3 = handshake(
        "3. A policy failure explained: mssql-jdbc 7.4 (no ESS, as in microsoft/mssql-jdbc#1180) against a Windows 11 server hardened to NtlmMinServerSec 0x20080000",
        get("mssql-jdbc-7.4")?,
        get("windows-11")?,
        Application::default(),
        Some(0x2008_0000),
        &mut s,
    )?;

    let _ = writeln!(
        s,
        "4. The hardening baseline NtlmMinClientSec = NtlmMinServerSec = 0x20080000 (require NTLMv2 session\n   security and 128-bit encryption), the application signing (as SMB or RPC), over a selection of\n   the built-in profiles (`ntlmsim interop` runs any selection, or your own hosts with --fleet):\n"
    );
    let matrix_request = request(
        DEMO_CLIENTS,
        DEMO_SERVERS,
        &[
            "--client-min",
            "0x20080000",
            "--server-min",
            "0x20080000",
            "--sign",
        ],
        args.json,
    )?;
    let matrix = interop(&matrix_request, &catalog)?;
    let baseline = request(BASELINE_CLIENTS, BASELINE_SERVERS, &BASELINE, args.json)?;
    let baseline_out = interop(&baseline, &catalog)?;
    if args.json {
        let doc = DemoJson {
            handshakes: vec![h1, h2, h3],
            matrix: MatrixJson {
                client_min: "0x20080000",
                server_min: "0x20080000",
                sign: true,
                clients: DEMO_CLIENTS.split(',').collect(),
                servers: DEMO_SERVERS.split(',').collect(),
                interop: serde_json::from_slice(&matrix)
                    .map_err(|e| CliError::new(format!("demo matrix JSON: {e}")))?,
            },
            baseline_2026: BaselineJson {
                options: BASELINE.to_vec(),
                clients: BASELINE_CLIENTS.split(',').collect(),
                servers: BASELINE_SERVERS.split(',').collect(),
                interop: serde_json::from_slice(&baseline_out)
                    .map_err(|e| CliError::new(format!("demo baseline JSON: {e}")))?,
            },
            next: NEXT,
        };
        serde_json::to_writer_pretty(&mut *out, &doc)
            .map_err(|e| CliError::new(format!("cannot encode JSON: {e}")))?;
        out.push(b'\n');
        return Ok(Status::Success);
    }
    for line in String::from_utf8_lossy(&matrix).lines() {
        let _ = writeln!(s, "   {line}");
    }
    let _ = writeln!(
        s,
        "\n5. A 2026 hardening baseline: LmCompatibilityLevel 5 on both sides, Restrict NTLM audited on\n   clients and servers (events 8001/8002: would be logged, nothing breaks), the DC denying NTLM for\n   domain accounts to domain servers except windows-10 (4004), and Windows 11 24H2 / Server 2025,\n   which no longer send NTLMv1 whatever the level says:\n"
    );
    for line in String::from_utf8_lossy(&baseline_out).lines() {
        let _ = writeln!(s, "   {line}");
    }
    let observations =
        Observation::builtin().map_err(|e| CliError::new(format!("built-in observations: {e}")))?;
    let checked = check_all(&observations, &catalog, ntlm_policy::Semantics::default());
    let strict = check_all(&observations, &catalog, ntlm_policy::Semantics::MS_NLMP);
    let never = check_all(
        &observations,
        &catalog,
        ntlm_policy::Semantics {
            level0_ess: ntlm_policy::Level0Ess::Never,
            ..ntlm_policy::Semantics::default()
        },
    );
    let agree = |c: &[ntlm_sim::observations::Checked<'_>]| {
        c.iter().filter(|x| x.agreement.is_ok()).count()
    };
    let _ = writeln!(
        s,
        "\n6. Calibrated against the field: {} of {} public observations (issues, KB articles, captures)\n   agree with the default semantics; the strict MS-NLMP reading of \"128-bit negotiated\" (--semantics\n   ms-nlmp) contradicts {} of them, such as jTDS and curl logging on to default Windows servers, and\n   the policy text's \"level 0 never uses NTLMv2 session security\" (--semantics level0-ess=never)\n   contradicts {}, the public Windows XP exchanges. `ntlmsim profiles --observations` lists each\n   with its source and the model's verdict.",
        agree(&checked),
        checked.len(),
        strict.len() - agree(&strict),
        never.len() - agree(&never)
    );
    let _ = writeln!(
        s,
        "\nNext: `ntlmsim interop --server-min 0x20080000` (every built-in pair, or --fleet FILE, --html FILE),\n`ntlmsim profiles`, `ntlmsim handshake --help`, `ntlmsim policy explain 0x20080030`,\n`ntlmsim policy check --negotiated 0xe2888235 --server-min 0x20080000`, `ntlmsim decode <message>`,\n`ntlmsim audit <capture.pcap>`."
    );
    out.extend_from_slice(s.as_bytes());
    Ok(Status::Success)
}
