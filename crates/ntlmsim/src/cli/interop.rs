//! `ntlmsim interop` (docs/CLI.md): which client × server pairs a policy
//! change breaks, over the built-in profiles or a fleet file.

use clap::Args;
use ntlm_report::interop::{Io, Request};

use super::args::SemanticsArg;
use super::system::load_catalog;
use super::{CliError, Status, term};

/// Every client × server pair before and after a policy change.
#[derive(Debug, Args)]
#[command(after_help = "\
The change applies only on the sides given: --server-min changes servers, --client-min clients,
and each value reaches only peers that read it (Windows reads NtlmMinClientSec, NtlmMinServerSec
and LmCompatibilityLevel; Samba, curl, Linux and the other non-Windows peers read none; see
`ntlmsim profiles`). Before the change every peer runs with its profile's defaults, or with its
values from the fleet file. --binding settings (Extended Protection, LDAP channel binding and
signing, SMB SPN validation) change every server, over --carrier; the clients send channel bindings
and target names as their profiles say (`ntlmsim profiles NAME`, docs/POLICY.md).

MASK forms: 0x20080000, 537395200, dword:20080000, registry/secedit lines, or names such as
  require_128bit_encryption,require_NTLMv2_session_security (see `ntlmsim policy explain`).

Cells: ok works before and after; ok* works but negotiates differently; !Sn newly broken (S/C: the
server/client refuses; n/c/a: on receipt of NEGOTIATE/CHALLENGE/AUTHENTICATE); xSn already broken;
+ok fixed by the change.

Engines: full (default) runs complete handshakes through the session layer (about 9 us a pair in a
release build; results are shared between hosts with the same profile and values); flags decides
from the flags alone (ntlm_policy::negotiate_only), over a hundred times faster, with the same
verdicts on the built-in catalog.

Examples:
  ntlmsim interop --server-min 0x20080000
  ntlmsim interop --client-min 0x20080000 --server-min 0x20080000 --sign --html report.html
  ntlmsim interop --fleet fleet.toml --server-lm-level 5 --json
  ntlmsim interop --carrier https --binding extended-protection=require

Exit codes: 0 nothing breaks; 1 at least one pair breaks; 2 bad usage or input (unknown profile,
bad mask, fleet file errors with line and key).")]
pub(crate) struct InteropArgs {
    /// New NtlmMinClientSec for the clients
    #[arg(long, value_name = "MASK")]
    client_min: Option<String>,
    /// New NtlmMinServerSec for the servers
    #[arg(long, value_name = "MASK")]
    server_min: Option<String>,
    /// New LmCompatibilityLevel (0..5) for the clients
    #[arg(long, value_name = "N")]
    client_lm_level: Option<String>,
    /// New LmCompatibilityLevel (0..5) for the servers (or their DCs)
    #[arg(long, value_name = "N")]
    server_lm_level: Option<String>,
    /// Only these clients (profile names; with --fleet, host or profile names)
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    clients: Vec<String>,
    /// Only these servers (profile names; with --fleet, host or profile names)
    #[arg(long, value_name = "C,D", value_delimiter = ',')]
    servers: Vec<String>,
    /// Evaluate exactly the pairs of this fleet file (see docs/FLEET.md)
    #[arg(long, value_name = "FILE")]
    fleet: Option<String>,
    /// Also load the profiles of FILE (the catalog format; see `ntlmsim profiles --help`)
    #[arg(long, value_name = "FILE")]
    catalog: Option<String>,
    /// The application requests integrity (SIGN), as SMB signing or RPC integrity
    #[arg(long)]
    sign: bool,
    /// The application requests confidentiality (SEAL), as RPC privacy
    #[arg(long)]
    seal: bool,
    #[command(flatten)]
    semantics: SemanticsArg,
    /// How exchanges are decided: full (complete handshakes) or flags (flags only)
    #[arg(long, value_name = "ENGINE", default_value = "full")]
    engine: String,
    /// Restrict NTLM settings the change adds on every client, in any form `policy explain` reads
    /// (RestrictSendingNTLMTraffic, ClientAllowedNTLMServers matched against server names);
    /// repeatable; reaches only peers that read Windows policy
    #[arg(long, value_name = "SETTINGS")]
    client_restrict: Vec<String>,
    /// Restrict NTLM settings the change adds on every server (RestrictReceivingNTLMTraffic);
    /// repeatable
    #[arg(long, value_name = "SETTINGS")]
    server_restrict: Vec<String>,
    /// Restrict NTLM settings the change adds on the servers' DC (RestrictNTLMInDomain,
    /// DCAllowedNTLMServers); repeatable
    #[arg(long, value_name = "SETTINGS")]
    dc_restrict: Vec<String>,
    /// Also write a self-contained HTML report to FILE: what to do (the newly broken pairs by
    /// cause, the hosts to change, a relaxed value simulated), the grid, the sources
    #[arg(long, value_name = "FILE")]
    html: Option<String>,
    /// List the pairs instead of drawing the grid
    #[arg(long)]
    list: bool,
    /// Print one JSON document
    #[arg(long)]
    json: bool,
    /// What carries every exchange: http, https, ldap, ldaps, smb or other (see `ntlmsim handshake
    /// --help`)
    #[arg(long, value_name = "CARRIER", default_value = "other")]
    carrier: String,
    /// New server setting NAME=VALUE for every server (repeatable): extended-protection=allow,
    /// ldap-channel-binding=2, ldap-signing=2, smb-name-hardening=1, ...
    #[arg(long = "binding", value_name = "NAME=VALUE")]
    bindings: Vec<String>,
    /// How an all-zero MsvAvChannelBindings is read when bindings are checked "when supported":
    /// refused or accepted
    #[arg(long, value_name = "READING", default_value = "refused")]
    zero_channel_bindings: String,
}

impl InteropArgs {
    fn request(&self) -> Request {
        Request {
            client_min: self.client_min.clone(),
            server_min: self.server_min.clone(),
            client_lm_level: self.client_lm_level.clone(),
            server_lm_level: self.server_lm_level.clone(),
            clients: self.clients.clone(),
            servers: self.servers.clone(),
            fleet: self.fleet.clone(),
            sign: self.sign,
            seal: self.seal,
            semantics: self.semantics.semantics.to_string(),
            engine: self.engine.clone(),
            client_restrict: self.client_restrict.clone(),
            server_restrict: self.server_restrict.clone(),
            dc_restrict: self.dc_restrict.clone(),
            html: self.html.clone(),
            list: self.list,
            json: self.json,
            carrier: self.carrier.clone(),
            bindings: self.bindings.clone(),
            zero_channel_bindings: self.zero_channel_bindings.clone(),
        }
    }
}

pub(crate) fn run(args: &InteropArgs, stdout: &mut dyn std::io::Write) -> Result<Status, CliError> {
    let (catalog, _) = load_catalog(args.catalog.as_deref())?;
    let breaks = run_request(&args.request(), &catalog, stdout)?;
    Ok(if breaks {
        Status::Negative
    } else {
        Status::Success
    })
}

/// [`ntlm_report::interop::run`] with this process's terminal and files.
fn run_request(
    request: &Request,
    catalog: &ntlm_sim::profiles::Catalog,
    stdout: &mut dyn std::io::Write,
) -> Result<bool, CliError> {
    let mut line = term::Progress::new(true);
    let mut io = Io {
        width: term::width(),
        colour: term::stdout_colour(),
        progress: &mut |done, total| {
            if done >= total {
                line.clear();
            } else {
                line.show(&format!("evaluating pairs: {done}/{total}"));
            }
        },
        read_fleet: &mut |path| {
            std::fs::read_to_string(path).map_err(|e| format!("cannot read fleet {path}: {e}"))
        },
        write_html: &mut |path, html| {
            std::fs::write(path, html).map_err(|e| format!("cannot write {path}: {e}"))
        },
    };
    ntlm_report::interop::run(request, catalog, &mut io, stdout).map_err(CliError::new)
}
