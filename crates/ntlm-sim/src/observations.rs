//! Field observations as executable evidence.
//!
//! `data/observations.toml` (embedded at build time) lists what real NTLM
//! peers did in the field, each with its public source: a client and a server
//! (profile names plus overrides) and the observed result. [`Observation::run`]
//! builds both peers and runs the model; [`Observation::check`] compares the
//! model's verdict with the observation. `cargo test` asserts every
//! observation under the default semantics with both engines, and
//! `ntlmsim profiles --observations` lists them with the model's verdict.

use std::fmt;

use ntlm_policy::{LmCompatibilityLevel, MinSessionSecurity, Semantics, Side, Stage};
use ntlm_wire::NegotiateFlags;
use serde::Deserialize;

use crate::matrix::{self, Application, Effective, Engine, Options, Verdict};
use crate::profiles::{Catalog, Profile, line_at};

/// The embedded observations.
pub const BUILTIN: &str = include_str!("../data/observations.toml");

/// What was observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed {
    /// The server accepted the logon.
    Works,
    /// One side refused.
    Fails,
    /// The server answered the NEGOTIATE with a CHALLENGE; what followed is
    /// not part of the observation.
    ChallengeSent,
    /// The client answered the CHALLENGE with an AUTHENTICATE; whether the
    /// server accepted it is not part of the observation.
    AuthenticateSent,
}

impl Observed {
    /// `works`, `fails`, `challenge-sent` or `authenticate-sent`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Works => "works",
            Self::Fails => "fails",
            Self::ChallengeSent => "challenge-sent",
            Self::AuthenticateSent => "authenticate-sent",
        }
    }

    fn parse(s: &str) -> Result<Self, String> {
        Ok(match s {
            "works" => Self::Works,
            "fails" => Self::Fails,
            "challenge-sent" => Self::ChallengeSent,
            "authenticate-sent" => Self::AuthenticateSent,
            other => {
                return Err(format!(
                    "result {other:?} is not works, fails, challenge-sent or authenticate-sent"
                ));
            }
        })
    }
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ObservationSpec {
    id: String,
    summary: String,
    sources: Vec<String>,
    client: String,
    server: String,
    #[serde(default)]
    client_flags: Option<String>,
    #[serde(default)]
    server_flags: Option<String>,
    #[serde(default)]
    client_min: Option<String>,
    #[serde(default)]
    server_min: Option<String>,
    #[serde(default)]
    client_lm_level: Option<u8>,
    #[serde(default)]
    server_lm_level: Option<u8>,
    #[serde(default)]
    sign: bool,
    #[serde(default)]
    seal: bool,
    result: String,
    #[serde(default)]
    side: Option<String>,
    #[serde(default)]
    stage: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    missing: Option<String>,
    #[serde(default)]
    negotiated: Option<String>,
    #[serde(default)]
    response_kind: Option<String>,
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    carrier: Option<String>,
    #[serde(default)]
    binding: Vec<String>,
    #[serde(default)]
    zero_channel_bindings: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    #[serde(default)]
    observation: Vec<ObservationSpec>,
}

/// One field observation, validated.
#[derive(Debug, Clone)]
pub struct Observation {
    /// Stable identifier.
    pub id: String,
    /// One line.
    pub summary: String,
    /// Public sources.
    pub sources: Vec<String>,
    /// The client's profile name.
    pub client: String,
    /// The server's profile name.
    pub server: String,
    /// An exact NEGOTIATE the client sends.
    pub client_flags: Option<NegotiateFlags>,
    /// An exact CHALLENGE the server sends.
    pub server_flags: Option<NegotiateFlags>,
    /// NtlmMinClientSec, when it differs from the profile's.
    pub client_min: Option<MinSessionSecurity>,
    /// NtlmMinServerSec, when it differs from the profile's.
    pub server_min: Option<MinSessionSecurity>,
    /// The client's LmCompatibilityLevel, when it differs from the profile's.
    pub client_lm_level: Option<LmCompatibilityLevel>,
    /// The server's LmCompatibilityLevel, when it differs from the profile's.
    pub server_lm_level: Option<LmCompatibilityLevel>,
    /// What the application asks for.
    pub app: Application,
    /// The observed result.
    pub result: Observed,
    /// The refusing side, where known.
    pub side: Option<Side>,
    /// The message whose receipt failed, where known.
    pub stage: Option<Stage>,
    /// The status name, where known.
    pub status: Option<String>,
    /// The required bits not negotiated, where known.
    pub missing: Option<NegotiateFlags>,
    /// The flags judged (failure) or the final flags (success), where known.
    pub negotiated: Option<NegotiateFlags>,
    /// The response kind of a success, where known.
    pub response_kind: Option<String>,
    /// What the source shows of the outcome (event text, HTTP status).
    pub event: Option<String>,
    /// What carried the exchange (`carrier`; default `other`).
    pub carrier: ntlm_policy::Carrier,
    /// The server's channel-binding, target-name and LDAP signing settings
    /// (`binding`, `NAME=VALUE` items as `--binding` takes them, and
    /// `zero_channel_bindings`).
    pub binding: ntlm_policy::BindingPolicy,
}

/// A problem in an observations file: the observation and field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservationError(pub String);

impl fmt::Display for ObservationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ObservationError {}

fn hex(field: &str, v: Option<&String>) -> Result<Option<NegotiateFlags>, String> {
    v.map(|t| {
        let digits = t.trim();
        let digits = digits
            .strip_prefix("0x")
            .or_else(|| digits.strip_prefix("0X"))
            .unwrap_or(digits);
        u32::from_str_radix(digits, 16)
            .map(NegotiateFlags::from_bits_retain)
            .map_err(|_| format!("{field}: {t:?} is not a hex mask"))
    })
    .transpose()
}

fn mask(field: &str, v: Option<&String>) -> Result<Option<MinSessionSecurity>, String> {
    v.map(|t| {
        t.parse::<MinSessionSecurity>()
            .map_err(|e| format!("{field}: {e}"))
    })
    .transpose()
}

fn level(field: &str, v: Option<u8>) -> Result<Option<LmCompatibilityLevel>, String> {
    v.map(|n| LmCompatibilityLevel::from_u8(n).ok_or_else(|| format!("{field}: {n} is not 0 to 5")))
        .transpose()
}

impl Observation {
    fn from_spec(o: ObservationSpec) -> Result<Self, String> {
        let result = Observed::parse(&o.result)?;
        let side = match o.side.as_deref() {
            None => None,
            Some("client") => Some(Side::Client),
            Some("server") => Some(Side::Server),
            Some(other) => return Err(format!("side: {other:?} is not client or server")),
        };
        let stage = match o.stage.as_deref() {
            None => None,
            Some("negotiate") => Some(Stage::Negotiate),
            Some("challenge") => Some(Stage::Challenge),
            Some("authenticate") => Some(Stage::Authenticate),
            Some(other) => {
                return Err(format!(
                    "stage: {other:?} is not negotiate, challenge or authenticate"
                ));
            }
        };
        if result != Observed::Fails
            && (side.is_some() || stage.is_some() || o.status.is_some() || o.missing.is_some())
        {
            return Err(
                "side, stage, status and missing describe a failure: result is not \
                        fails"
                    .into(),
            );
        }
        if o.sources.is_empty() {
            return Err("sources: an observation needs a public source".into());
        }
        let carrier = crate::binding::carrier(o.carrier.as_deref().unwrap_or("other"))
            .map_err(|e| e.to_string().replace("--carrier", "carrier:"))?;
        let binding = crate::binding::policy(
            &o.binding,
            o.zero_channel_bindings.as_deref().unwrap_or("refused"),
        )
        .map_err(|e| {
            e.to_string()
                .replace("--binding", "binding")
                .replace("--zero-channel-bindings", "zero_channel_bindings:")
        })?;
        Ok(Self {
            carrier,
            binding,
            client_flags: hex("client_flags", o.client_flags.as_ref())?,
            server_flags: hex("server_flags", o.server_flags.as_ref())?,
            client_min: mask("client_min", o.client_min.as_ref())?,
            server_min: mask("server_min", o.server_min.as_ref())?,
            client_lm_level: level("client_lm_level", o.client_lm_level)?,
            server_lm_level: level("server_lm_level", o.server_lm_level)?,
            app: Application {
                sign: o.sign,
                seal: o.seal,
            },
            result,
            side,
            stage,
            missing: hex("missing", o.missing.as_ref())?,
            negotiated: hex("negotiated", o.negotiated.as_ref())?,
            status: o.status,
            response_kind: o.response_kind,
            event: o.event,
            id: o.id,
            summary: o.summary,
            sources: o.sources,
            client: o.client,
            server: o.server,
        })
    }

    /// Parses an observations file. Errors name the line (TOML syntax and
    /// unknown keys) or the observation and field (values).
    pub fn parse_all(text: &str) -> Result<Vec<Self>, ObservationError> {
        let spec: FileSpec = toml::from_str(text).map_err(|e| {
            ObservationError(match e.span().map(|s| line_at(text, s.start)) {
                Some(l) => format!("line {l}: {}", e.message()),
                None => e.message().to_owned(),
            })
        })?;
        let mut out: Vec<Self> = Vec::with_capacity(spec.observation.len());
        for o in spec.observation {
            let id = o.id.clone();
            if out.iter().any(|x| x.id == id) {
                return Err(ObservationError(format!(
                    "observation {id:?} is defined twice"
                )));
            }
            out.push(
                Self::from_spec(o)
                    .map_err(|e| ObservationError(format!("observation {id:?}: {e}")))?,
            );
        }
        Ok(out)
    }

    /// The built-in observations.
    pub fn builtin() -> Result<Vec<Self>, ObservationError> {
        Self::parse_all(BUILTIN)
    }

    /// The two peers as the observation describes them (profile plus forced flags).
    fn peers(&self, catalog: &Catalog) -> Result<(Profile, Profile), String> {
        let find = |name: &str, role: &str| {
            catalog
                .get(name)
                .ok_or_else(|| format!("unknown {role} profile {name:?}"))
        };
        let mut client = find(&self.client, "client")?.clone();
        let mut server = find(&self.server, "server")?.clone();
        if !client.role.client() {
            return Err(format!("profile {:?} cannot be a client", client.name));
        }
        if !server.role.server() {
            return Err(format!("profile {:?} cannot be a server", server.name));
        }
        if let Some(f) = self.client_flags {
            client = client.with_client_flags(f);
        }
        if let Some(f) = self.server_flags {
            server = server.with_server_flags(f);
        }
        Ok((client, server))
    }

    /// Runs the model on this observation's peers and settings.
    pub fn run(
        &self,
        catalog: &Catalog,
        engine: Engine,
        semantics: Semantics,
    ) -> Result<Verdict, String> {
        let (client, server) = self.peers(catalog)?;
        let c = Effective {
            min: self.client_min.unwrap_or(client.min_client_sec),
            lm_level: self.client_lm_level.unwrap_or(client.client_lm_level),
        };
        let s = Effective {
            min: self.server_min.unwrap_or(server.min_server_sec),
            lm_level: self.server_lm_level.unwrap_or(server.server_lm_level),
        };
        let opts = Options {
            app: self.app,
            semantics,
            engine,
            binding: self.binding,
            carrier: self.carrier,
        };
        matrix::exchange(&client, c, &server, s, &opts)
            .ok_or_else(|| "a profile cannot play its role".to_owned())
    }

    /// Compares the model's verdict with the observation: `Ok` when they
    /// agree, else every point where they differ.
    pub fn check(&self, verdict: &Verdict) -> Result<(), String> {
        let mut diffs = Vec::new();
        match (self.result, verdict) {
            (Observed::Works, Ok(r)) => {
                if let Some(n) = self.negotiated {
                    if r.flags != n {
                        diffs.push(format!(
                            "negotiated {:#010x}, observed {:#010x}",
                            r.flags.bits(),
                            n.bits()
                        ));
                    }
                }
                if let Some(k) = &self.response_kind {
                    if !r.response_kind.as_str().eq_ignore_ascii_case(k) {
                        diffs.push(format!(
                            "response {}, observed {k}",
                            r.response_kind.as_str()
                        ));
                    }
                }
            }
            (Observed::Works, Err(f)) => diffs.push(format!("the model predicts a failure: {f}")),
            (Observed::Fails, Ok(_)) => diffs.push("the model predicts success".to_owned()),
            (Observed::Fails, Err(f)) => {
                if self.side.is_some_and(|s| s != f.side) {
                    diffs.push(format!("the model's failing side is the {}", f.side));
                }
                if self.stage.is_some_and(|s| s != f.stage) {
                    diffs.push(format!("the model fails at stage {}", f.stage));
                }
                if let Some(st) = &self.status {
                    if f.status.name() != st {
                        diffs.push(format!("the model's status is {}", f.status.name()));
                    }
                }
                if let Some(m) = self.missing {
                    if f.missing != m {
                        diffs.push(format!(
                            "the model's missing bits are {:#010x}",
                            f.missing.bits()
                        ));
                    }
                }
                if let Some(n) = self.negotiated {
                    if f.negotiated != n {
                        diffs.push(format!(
                            "the model judged {:#010x}, observed {:#010x}",
                            f.negotiated.bits(),
                            n.bits()
                        ));
                    }
                }
            }
            (Observed::ChallengeSent, Err(f)) if f.stage == Stage::Negotiate => {
                diffs.push(format!("the model sends no CHALLENGE: {f}"))
            }
            (Observed::AuthenticateSent, Err(f)) if f.stage != Stage::Authenticate => {
                diffs.push(format!("the model sends no AUTHENTICATE: {f}"))
            }
            (Observed::ChallengeSent | Observed::AuthenticateSent, _) => {}
        }
        if diffs.is_empty() {
            Ok(())
        } else {
            Err(diffs.join("; "))
        }
    }
}

/// An observation with the model's verdict beside it.
#[derive(Debug, Clone)]
pub struct Checked<'a> {
    /// The observation.
    pub observation: &'a Observation,
    /// The full engine's verdict (or why the peers could not be built).
    pub verdict: Result<Verdict, String>,
    /// `Ok` when the full and flags-only engines both agree with the
    /// observation; else where they differ.
    pub agreement: Result<(), String>,
}

/// Runs every observation under `semantics` with both engines.
pub fn check_all<'a>(
    observations: &'a [Observation],
    catalog: &Catalog,
    semantics: Semantics,
) -> Vec<Checked<'a>> {
    observations
        .iter()
        .map(|o| {
            let verdict = o.run(catalog, Engine::Full, semantics);
            let agreement = match &verdict {
                Err(e) => Err(e.clone()),
                Ok(v) => o
                    .check(v)
                    .map_err(|e| format!("full engine: {e}"))
                    .and_then(|()| match o.run(catalog, Engine::Flags, semantics) {
                        Err(e) => Err(e),
                        Ok(v) => o.check(&v).map_err(|e| format!("flags engine: {e}")),
                    }),
            };
            Checked {
                observation: o,
                verdict,
                agreement,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_observations_load_with_sources() {
        let all = Observation::builtin().unwrap();
        assert!(all.len() >= 15, "{}", all.len());
        let catalog = Catalog::builtin().unwrap();
        for o in &all {
            assert!(!o.sources.is_empty(), "{}", o.id);
            assert!(catalog.get(&o.client).is_some(), "{}: {}", o.id, o.client);
            assert!(catalog.get(&o.server).is_some(), "{}: {}", o.id, o.server);
        }
    }

    #[test]
    fn errors_name_the_observation_and_field() {
        let base = "[[observation]]\nid = \"x\"\nsummary = \"\"\nsources = [\"KB1\"]\nclient = \"curl-7.88\"\nserver = \"windows-11\"\n";
        let e = Observation::parse_all(&format!("{base}result = \"maybe\"\n")).unwrap_err();
        assert!(
            e.0.starts_with("observation \"x\": result \"maybe\""),
            "{e}"
        );
        let e = Observation::parse_all(&format!("{base}result = \"works\"\nside = \"server\"\n"))
            .unwrap_err();
        assert!(e.0.contains("result is not fails"), "{e}");
        let e = Observation::parse_all(&format!("{base}result = \"fails\"\nmissing = \"zz\"\n"))
            .unwrap_err();
        assert!(e.0.contains("missing: \"zz\""), "{e}");
        let e =
            Observation::parse_all(&format!("{base}result = \"works\"\nbogus = 1\n")).unwrap_err();
        assert!(e.0.starts_with("line "), "{e}");
        let e = Observation::parse_all(&format!(
            "{base}result = \"works\"\n{}result = \"works\"\n",
            base
        ))
        .unwrap_err();
        assert!(e.0.contains("defined twice"), "{e}");
    }

    #[test]
    fn partial_observations_accept_later_failures_only() {
        let catalog = Catalog::builtin().unwrap();
        let text = |result: &str| {
            format!(
                "[[observation]]\nid = \"x\"\nsummary = \"\"\nsources = [\"KB1\"]\nclient = \"curl-7.88\"\nserver = \"windows-11\"\nserver_lm_level = 5\nresult = \"{result}\"\n"
            )
        };
        // curl's NTLMv2 passes NEGOTIATE and CHALLENGE; level 5 accepts NTLMv2: works.
        for r in ["challenge-sent", "authenticate-sent", "works"] {
            let o = &Observation::parse_all(&text(r)).unwrap()[0];
            let v = o.run(&catalog, Engine::Full, Semantics::default()).unwrap();
            assert_eq!(o.check(&v), Ok(()), "{r}");
        }
        // A server refusal on NEGOTIATE contradicts both partial observations.
        let refused = text("challenge-sent")
            .replace("server_lm_level = 5\n", "server_min = \"0x00000010\"\n");
        let o = &Observation::parse_all(&refused).unwrap()[0];
        let v = o.run(&catalog, Engine::Full, Semantics::default()).unwrap();
        assert!(o.check(&v).unwrap_err().contains("sends no CHALLENGE"));
        let o = &Observation::parse_all(&refused.replace("challenge-sent", "authenticate-sent"))
            .unwrap()[0];
        assert!(o.check(&v).unwrap_err().contains("sends no AUTHENTICATE"));
        assert_eq!(o.result.to_string(), "authenticate-sent");
    }

    #[test]
    fn check_reports_every_difference() {
        let catalog = Catalog::builtin().unwrap();
        let text = "[[observation]]\nid = \"x\"\nsummary = \"\"\nsources = [\"KB1\"]\nclient = \"mssql-jdbc-7.4\"\nserver = \"windows-10\"\nserver_min = \"0x20080000\"\nresult = \"fails\"\nside = \"client\"\nstage = \"challenge\"\nmissing = \"0x20000000\"\n";
        let o = &Observation::parse_all(text).unwrap()[0];
        let v = o.run(&catalog, Engine::Full, Semantics::default()).unwrap();
        let e = o.check(&v).unwrap_err();
        assert!(e.contains("failing side is the server"), "{e}");
        assert!(e.contains("stage negotiate"), "{e}");
        assert!(e.contains("missing bits are 0x00080000"), "{e}");
        let unknown = o.run(
            &Catalog {
                profiles: Vec::new(),
            },
            Engine::Full,
            Semantics::default(),
        );
        assert_eq!(
            unknown.unwrap_err(),
            "unknown client profile \"mssql-jdbc-7.4\""
        );
    }
}
