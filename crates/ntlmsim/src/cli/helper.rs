//! `ntlmsim helper --role server|client` (docs/CLI.md): Samba
//! `ntlm_auth` helper line protocols on standard input and output.
//!
//! The protocol logic is [`ntlm_sim::helper`]; this module builds the
//! settings from the options and runs the read-answer-flush loop.

use std::io::{self, BufRead, Write};
use std::sync::Arc;

use clap::{Args, ValueEnum};
use ntlm_policy::{LmCompatibilityLevel, MinSessionSecurity};
use ntlm_session::{Credentials, MemoryStore};
use ntlm_sim::helper::{self, ClientHelper, Helper, Line, MAX_LINE, ServerHelper};
use ntlm_sim::profiles::{Catalog, Profile};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

use super::args::SemanticsArg;
use super::{CliError, Status};

/// Which side of NTLM the helper plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Role {
    /// The acceptor, as `ntlm_auth --helper-protocol=squid-2.5-ntlmssp`
    Server,
    /// The initiator, as `ntlm_auth --helper-protocol=ntlmssp-client-1`
    Client,
}

/// Speak Samba `ntlm_auth` helper line protocols on standard input and output.
#[derive(Debug, Args)]
#[command(after_help = "\
Server role (squid-2.5-ntlmssp):
  YR <b64 NEGOTIATE>     -> TT <b64 CHALLENGE>  or  NA <STATUS> (NEGOTIATE refused by policy)
  KK <b64 AUTHENTICATE>  -> AF DOMAIN\\user       or  NA <STATUS>
                            (a name with a line break or another control or bidi
                            character: NA STATUS_LOGON_FAILURE, never split)
Client role (ntlmssp-client-1):
  SF <features>          -> OK   (NTLMSSP_FEATURE_SIGN, _SEAL, _SESSION_KEY; before YR)
  YR                     -> YR <b64 NEGOTIATE>  or  NA <STATUS>
  TT <b64 CHALLENGE>     -> AF <b64 AUTHENTICATE> or NA <STATUS>
Both roles, after success:
  GK -> GK <b64 session key>      GF -> GF 0x<negotiated flags, 8 hex digits>
Anything else, and lines over 65536 bytes, get BH <reason>; the helper keeps serving.
A YR always starts a new exchange. STATUS is ntlmsim's name (STATUS_LOGON_FAILURE,
SEC_E_UNSUPPORTED_FUNCTION, ...), where Samba prints NT_STATUS_* names.
Exit code 0 at end of input; 2 for bad options.")]
pub(crate) struct HelperArgs {
    /// The protocol to speak
    #[arg(long, value_enum)]
    role: Role,
    /// Server: the password of any user (like Samba's --password); client: the user's password
    #[arg(long)]
    password: Option<String>,
    /// Server: accounts (DOMAIN:USER:PASSWORD lines or smbpasswd lines)
    #[arg(long, value_name = "FILE", conflicts_with = "password")]
    user_file: Option<std::path::PathBuf>,
    /// Server: NtlmMinServerSec (default: none, 0)
    #[arg(long, value_name = "MASK")]
    server_min: Option<MinSessionSecurity>,
    /// Server: LmCompatibilityLevel, 0..5 (default: the profile's)
    #[arg(long, value_name = "N")]
    server_lm_level: Option<LmCompatibilityLevel>,
    /// Server profile (see `ntlmsim profiles`)
    #[arg(long, value_name = "PROFILE", default_value = "windows-11")]
    server: String,
    /// Client: user name
    #[arg(long)]
    user: Option<String>,
    /// Client: domain name
    #[arg(long, default_value = "")]
    domain: String,
    /// Client: NtlmMinClientSec (default: none, 0)
    #[arg(long, value_name = "MASK")]
    client_min: Option<MinSessionSecurity>,
    /// Client: LmCompatibilityLevel, 0..5 (default: the profile's)
    #[arg(long, value_name = "N")]
    client_lm_level: Option<LmCompatibilityLevel>,
    /// Client profile
    #[arg(long, value_name = "PROFILE", default_value = "windows-11")]
    client: String,
    #[command(flatten)]
    semantics: SemanticsArg,
    /// Server: its Restrict NTLM settings in any form `policy explain` reads
    /// (RestrictReceivingNTLMTraffic); a blocked KK is answered NA STATUS_NTLM_BLOCKED; repeatable
    #[arg(long, value_name = "SETTINGS")]
    server_restrict: Vec<String>,
    /// Server: its DC's Restrict NTLM settings (RestrictNTLMInDomain, DCAllowedNTLMServers); a
    /// blocked KK is answered NA STATUS_NOT_SUPPORTED; repeatable
    #[arg(long, value_name = "SETTINGS")]
    dc_restrict: Vec<String>,
    /// Client: its Restrict NTLM settings (RestrictSendingNTLMTraffic, ClientAllowedNTLMServers); a
    /// blocked YR is answered NA STATUS_NTLM_BLOCKED; repeatable
    #[arg(long, value_name = "SETTINGS")]
    client_restrict: Vec<String>,
    /// Client: the server name matched against its exception lists
    #[arg(long, value_name = "NAME", default_value = "server")]
    restrict_target: String,
}

fn profile<'a>(catalog: &'a Catalog, name: &str) -> Result<&'a Profile, CliError> {
    catalog.get(name).ok_or_else(|| {
        CliError::new(format!(
            "unknown profile {name:?}; known: {}",
            catalog.names()
        ))
    })
}

/// Options that belong to the other role are a usage error, not silently ignored.
fn reject(role: &str, options: &[(&str, bool)]) -> Result<(), CliError> {
    match options.iter().find(|(_, given)| *given) {
        Some((name, _)) => Err(CliError::new(format!(
            "{name} does not apply to --role {role}"
        ))),
        None => Ok(()),
    }
}

fn build(args: &HelperArgs) -> Result<Helper, CliError> {
    let catalog = Catalog::builtin().map_err(|e| CliError::bad("built-in profiles", e))?;
    let semantics = args.semantics.semantics;
    match args.role {
        Role::Server => {
            reject(
                "server",
                &[
                    ("--user", args.user.is_some()),
                    ("--domain", !args.domain.is_empty()),
                    ("--client-min", args.client_min.is_some()),
                    ("--client-lm-level", args.client_lm_level.is_some()),
                    ("--client-restrict", !args.client_restrict.is_empty()),
                ],
            )?;
            let store = match (&args.password, &args.user_file) {
                (Some(p), None) => MemoryStore::any_user(p),
                (None, Some(path)) => {
                    let text = std::fs::read_to_string(path).map_err(|e| {
                        CliError::bad(&format!("--user-file {}", path.display()), e)
                    })?;
                    MemoryStore::parse_user_file(&text)
                        .map_err(|e| CliError::bad(&format!("--user-file {}", path.display()), e))?
                }
                _ => {
                    return Err(CliError::new(
                        "--role server needs --password or --user-file",
                    ));
                }
            };
            let sp = profile(&catalog, &args.server)?;
            let mut s = sp.server_settings(Arc::new(store)).ok_or_else(|| {
                CliError::new(format!("profile {:?} cannot be a server", sp.name))
            })?;
            s.semantics = semantics;
            // CLI convention: no --server-min means no minimum.
            s.min = args
                .server_min
                .unwrap_or(MinSessionSecurity::from_registry(0));
            if let Some(l) = args.server_lm_level {
                s.config.lm_level = l;
            }
            let mut h = ServerHelper::new(s);
            if !args.server_restrict.is_empty() || !args.dc_restrict.is_empty() {
                h = h.with_restrictions(
                    ntlm_sim::restrict::from_pastes(&args.server_restrict)
                        .map_err(|e| CliError::bad("--server-restrict", e))?,
                    ntlm_sim::restrict::from_pastes(&args.dc_restrict)
                        .map_err(|e| CliError::bad("--dc-restrict", e))?,
                );
            }
            Ok(Helper::Server(Box::new(h)))
        }
        Role::Client => {
            reject(
                "client",
                &[
                    ("--user-file", args.user_file.is_some()),
                    ("--server-min", args.server_min.is_some()),
                    ("--server-lm-level", args.server_lm_level.is_some()),
                    ("--server-restrict", !args.server_restrict.is_empty()),
                    ("--dc-restrict", !args.dc_restrict.is_empty()),
                ],
            )?;
            let (Some(user), Some(password)) = (&args.user, &args.password) else {
                return Err(CliError::new("--role client needs --user and --password"));
            };
            let cp = profile(&catalog, &args.client)?;
            let credentials = Credentials::password(user, &args.domain, password);
            let mut c = cp.client_settings(credentials).ok_or_else(|| {
                CliError::new(format!("profile {:?} cannot be a client", cp.name))
            })?;
            c.semantics = semantics;
            // CLI convention: no --client-min means no minimum.
            c.min = args
                .client_min
                .unwrap_or(MinSessionSecurity::from_registry(0));
            if let Some(l) = args.client_lm_level {
                c.config.lm_level = l;
            }
            let mut h = ClientHelper::new(c);
            if !args.client_restrict.is_empty() {
                h = h.with_restrictions(
                    ntlm_sim::restrict::from_pastes(&args.client_restrict)
                        .map_err(|e| CliError::bad("--client-restrict", e))?,
                    args.restrict_target.clone(),
                );
            }
            Ok(Helper::Client(Box::new(h)))
        }
    }
}

/// Serves lines from `input` until end of input, answering each on `output`
/// and flushing after every answer.
pub(crate) fn run(
    args: &HelperArgs,
    input: &mut dyn BufRead,
    output: &mut dyn Write,
) -> Result<Status, CliError> {
    let mut helper = build(args)?;
    let mut rng = ChaCha20Rng::from_os_rng();
    loop {
        let line = helper::read_line(input, MAX_LINE)
            .map_err(|e| CliError::bad("cannot read standard input", e))?;
        let Some(line) = line else {
            return Ok(Status::Success);
        };
        let answer = match line {
            Line::Text(text) => helper.handle(&text, &mut rng, super::system::filetime_now()),
            unreadable => helper::answer_unreadable(&unreadable).unwrap_or_default(),
        };
        // One request, one line: the last guard before the answer leaves.
        let answer = helper::one_line(answer);
        match writeln!(output, "{answer}").and_then(|()| output.flush()) {
            Ok(()) => {}
            // The peer went away: nobody is left to serve.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(Status::Success),
            Err(e) => return Err(CliError::bad("cannot write to standard output", e)),
        }
    }
}
