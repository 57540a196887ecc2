//! Explicit switches for the points where Windows behaviour is not confirmed.

use alloc::format;
use alloc::string::String;
use core::fmt;
use core::str::FromStr;

use crate::parse::ParseError;
use crate::rules::{self, Rule};

/// What "128-bit encryption is negotiated" means for the 0x20000000 bit.
///
/// The default is the KB239869 reading because it is the one that matches
/// the field: a Windows Server 2016 SQL Server with NtlmMinServerSec
/// 0x20000000 accepted an NTLM login whose negotiated flags were 0x02818205
/// (no NEGOTIATE_128, no SIGN, no SEAL) and logged a "Minimum Server
/// Security block" only once 0x80000 was added (microsoft/mssql-jdbc#1180);
/// curl and jTDS, which never offer 128, authenticate against default
/// Windows servers (curl/curl#13291, microsoft/mssql-jdbc#1172). See
/// `data/observations.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Rule128 {
    /// NEGOTIATE_128 must be in the negotiated flags (MS-NLMP 3.1.5.1.2,
    /// 3.2.5.1.1 read literally). The `ms-nlmp` preset.
    Strict,
    /// Fails only when SEAL is negotiated and NEGOTIATE_128 is not (KB239869:
    /// "if message confidentiality is in use but 128-bit encryption is not
    /// negotiated"). Default: it reproduces every field observation.
    #[default]
    Kb239869,
}

/// When a server returns NEGOTIATE_128 / NEGOTIATE_56 in its CHALLENGE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ServerStrength {
    /// Whenever the client requested them and the server supports them. Default.
    ///
    /// Observed: a Windows Server 2008 R2 DC returned 128 | 56 to a NEGOTIATE
    /// with neither SIGN nor SEAL; MS-NLMP <23> says Windows 7 and later
    /// "always set" 128. With the literal rule, two default-configured
    /// Windows 7+ hosts (both requiring 128) could not authenticate without
    /// SIGN/SEAL, which that capture contradicts.
    #[default]
    Echo,
    /// Only if the client also requested SIGN or SEAL (MS-NLMP 2.2.2.5, read literally).
    Literal,
}

/// Which known mask bits a peer enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Enforce {
    /// Every documented bit (0x10, 0x20, 0x80000, 0x20000000, 0x80000000). Default.
    #[default]
    AllKnown,
    /// A peer newer than Windows XP / Server 2003 ignores 0x10 and 0x20, which
    /// only the XP/2003 policy UI offers. UNCONFIRMED; peers of unknown
    /// generation enforce everything.
    OsGeneration,
}

/// Whether a client adds its required bits to its NEGOTIATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ClientRequest {
    /// The NEGOTIATE carries only the base, level and application flags. Default
    /// (Windows behaviour is undocumented; KB239869 only says the client requests items).
    #[default]
    AppOnly,
    /// NtlmMinClientSec's known bits are ORed in, as Samba does with `required_flags`.
    OrRequired,
}

/// What satisfies "Require NTLMv2 session security" (0x80000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EssMeaning {
    /// The EXTENDED_SESSIONSECURITY flag must be negotiated (KB239869; the bit is the flag). Default.
    #[default]
    Flag,
    /// The flag, or NTLMv2 authentication (Samba, bug 12862). A server knows the
    /// response kind only on AUTHENTICATE, so its NEGOTIATE-time check skips 0x80000.
    FlagOrNtlmV2,
}

/// How 0x80000000 (56-bit) is enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Bit56 {
    /// NEGOTIATE_56 must be negotiated (inference from the other bits). Default.
    #[default]
    Enforce,
    /// The bit is ignored (KB239869 gives it no semantics).
    Ignore,
}

/// What a server does with AUTHENTICATE flags its CHALLENGE did not return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AuthenticateExtra {
    /// Refuse with SEC_E_INVALID_TOKEN (MS-NLMP 2.2.1.3; status inferred). Default.
    #[default]
    Reject,
    /// Drop them and continue with the intersection (Samba `ntlmssp_handle_neg_flags()`).
    Intersect,
}

/// Whether a Windows 11 24H2 / Server 2025 server (or DC) refuses LM and
/// NTLMv1 responses itself, below LmCompatibilityLevel 5. UNCONFIRMED:
/// KB5066470 says NTLMv1 is removed, not what such a server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Ntlmv1Server {
    /// It verifies them as earlier Windows does (its LmCompatibilityLevel decides). Default.
    #[default]
    Accepts,
    /// It refuses them (rule `ntlmv1-removed-server`).
    Refuses,
}

impl Ntlmv1Server {
    /// Every value of the switch.
    pub const ALL: [Self; 2] = [Self::Accepts, Self::Refuses];

    /// The value names, in [`ALL`](Self::ALL) order.
    pub const NAMES: [&'static str; 2] = ["accepts", "refuses"];

    /// The value's name on the command line (`--semantics SWITCH=VALUE`).
    pub const fn value_name(self) -> &'static str {
        match self {
            Self::Accepts => "accepts",
            Self::Refuses => "refuses",
        }
    }
}

/// Whether a client at LmCompatibilityLevel 0 requests NTLMv2 session
/// security (EXTENDED_SESSIONSECURITY) and uses it when the server grants it.
///
/// The sources disagree. Microsoft's policy text says level 0 clients
/// "never use NTLMv2 session security" (the LAN Manager authentication level
/// page; the Windows 2000 registry reference), and KB932461 warns that
/// "Require NTLMv2 session security" conflicts with level 0. The public
/// messages say otherwise: the Windows XP client (5.1.2600, whose default is
/// level 0) of the MS-POP3 4.1 example requests ESS (0xa2088207), a Server
/// 2003 grants it and the client answers with the NTLM2 session response;
/// Eric Glass reported that once "the client and server have agreed upon the
/// 'Negotiate NTLM2 Key' NTLMSSP flag" with "LMCompatibilityLevel ... set to
/// 0" the responses are the NTLM2 session response (samba-technical, 30 July
/// 2003). The default follows the messages; `never` is the policy text's
/// reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Level0Ess {
    /// Level 0 requests ESS as levels 1 and 2 do, and sends the NTLM2
    /// session response when it is negotiated (the public XP messages). Default.
    #[default]
    Requested,
    /// Level 0 neither requests nor uses ESS (the policy text, rule
    /// `neg-client-ess-level0-never`).
    Never,
}

impl Level0Ess {
    /// Every value of the switch.
    pub const ALL: [Self; 2] = [Self::Requested, Self::Never];

    /// The value names, in [`ALL`](Self::ALL) order.
    pub const NAMES: [&'static str; 2] = ["requested", "never"];

    /// The value's name on the command line (`--semantics SWITCH=VALUE`).
    pub const fn value_name(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Never => "never",
        }
    }
}

impl Rule128 {
    /// Every value of the switch.
    pub const ALL: [Self; 2] = [Self::Strict, Self::Kb239869];

    /// The value names, in [`ALL`](Self::ALL) order.
    pub const NAMES: [&'static str; 2] = ["strict", "kb239869"];

    /// The value's name on the command line (`--semantics SWITCH=VALUE`).
    pub const fn value_name(self) -> &'static str {
        match self {
            Self::Strict => "strict",
            Self::Kb239869 => "kb239869",
        }
    }
}

impl ServerStrength {
    /// Every value of the switch.
    pub const ALL: [Self; 2] = [Self::Echo, Self::Literal];

    /// The value names, in [`ALL`](Self::ALL) order.
    pub const NAMES: [&'static str; 2] = ["echo", "literal"];

    /// The value's name on the command line (`--semantics SWITCH=VALUE`).
    pub const fn value_name(self) -> &'static str {
        match self {
            Self::Echo => "echo",
            Self::Literal => "literal",
        }
    }
}

impl Enforce {
    /// Every value of the switch.
    pub const ALL: [Self; 2] = [Self::AllKnown, Self::OsGeneration];

    /// The value names, in [`ALL`](Self::ALL) order.
    pub const NAMES: [&'static str; 2] = ["all-known", "os-generation"];

    /// The value's name on the command line (`--semantics SWITCH=VALUE`).
    pub const fn value_name(self) -> &'static str {
        match self {
            Self::AllKnown => "all-known",
            Self::OsGeneration => "os-generation",
        }
    }
}

impl ClientRequest {
    /// Every value of the switch.
    pub const ALL: [Self; 2] = [Self::AppOnly, Self::OrRequired];

    /// The value names, in [`ALL`](Self::ALL) order.
    pub const NAMES: [&'static str; 2] = ["app-only", "or-required"];

    /// The value's name on the command line (`--semantics SWITCH=VALUE`).
    pub const fn value_name(self) -> &'static str {
        match self {
            Self::AppOnly => "app-only",
            Self::OrRequired => "or-required",
        }
    }
}

impl EssMeaning {
    /// Every value of the switch.
    pub const ALL: [Self; 2] = [Self::Flag, Self::FlagOrNtlmV2];

    /// The value names, in [`ALL`](Self::ALL) order.
    pub const NAMES: [&'static str; 2] = ["flag", "flag-or-ntlmv2"];

    /// The value's name on the command line (`--semantics SWITCH=VALUE`).
    pub const fn value_name(self) -> &'static str {
        match self {
            Self::Flag => "flag",
            Self::FlagOrNtlmV2 => "flag-or-ntlmv2",
        }
    }
}

impl Bit56 {
    /// Every value of the switch.
    pub const ALL: [Self; 2] = [Self::Enforce, Self::Ignore];

    /// The value names, in [`ALL`](Self::ALL) order.
    pub const NAMES: [&'static str; 2] = ["enforce", "ignore"];

    /// The value's name on the command line (`--semantics SWITCH=VALUE`).
    pub const fn value_name(self) -> &'static str {
        match self {
            Self::Enforce => "enforce",
            Self::Ignore => "ignore",
        }
    }
}

impl AuthenticateExtra {
    /// Every value of the switch.
    pub const ALL: [Self; 2] = [Self::Reject, Self::Intersect];

    /// The value names, in [`ALL`](Self::ALL) order.
    pub const NAMES: [&'static str; 2] = ["reject", "intersect"];

    /// The value's name on the command line (`--semantics SWITCH=VALUE`).
    pub const fn value_name(self) -> &'static str {
        match self {
            Self::Reject => "reject",
            Self::Intersect => "intersect",
        }
    }
}

/// The full set of switches. `Semantics::default()` is the `calibrated` preset.
///
/// Every field is an explicit, documented choice where the sources disagree
/// or are silent; see the crate documentation for the table of switches,
/// their defaults and sources, and [`Semantics::PRESETS`] for the named sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Semantics {
    /// The 128-bit rule.
    pub rule_128: Rule128,
    /// When a server returns 128/56.
    pub server_strength: ServerStrength,
    /// Which bits a peer enforces.
    pub enforce: Enforce,
    /// Whether a client ORs its required bits into its NEGOTIATE.
    pub client_request: ClientRequest,
    /// What satisfies 0x80000.
    pub ess: EssMeaning,
    /// How 0x80000000 is enforced.
    pub bit56: Bit56,
    /// What a server does with unexpected AUTHENTICATE flags.
    pub authenticate_extra: AuthenticateExtra,
    /// Whether a Windows 11 24H2 / Server 2025 server refuses NTLMv1 itself.
    pub ntlmv1_server: Ntlmv1Server,
    /// Whether a client at LmCompatibilityLevel 0 requests and uses ESS.
    pub level0_ess: Level0Ess,
}

/// A named set of switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// The name accepted by [`Semantics::by_name`].
    pub name: &'static str,
    /// One line for `--help`.
    pub description: &'static str,
    /// The switches.
    pub semantics: Semantics,
}

const DEFAULT: Semantics = Semantics {
    rule_128: Rule128::Kb239869,
    server_strength: ServerStrength::Echo,
    enforce: Enforce::AllKnown,
    client_request: ClientRequest::AppOnly,
    ess: EssMeaning::Flag,
    bit56: Bit56::Enforce,
    authenticate_extra: AuthenticateExtra::Reject,
    ntlmv1_server: Ntlmv1Server::Accepts,
    level0_ess: Level0Ess::Requested,
};

/// The strict reading of MS-NLMP 3.1.5.1.2 / 3.2.5.1.1 (the default before
/// the calibration against field observations).
const STRICT: Semantics = Semantics {
    rule_128: Rule128::Strict,
    ..DEFAULT
};

impl Semantics {
    /// The default: KB239869's reading of the 128-bit bit (the one the field
    /// observations support), MS-NLMP wherever it speaks otherwise, the
    /// Windows capture where it contradicts a literal reading, the strict
    /// choice elsewhere.
    pub const CALIBRATED: Self = DEFAULT;

    /// The `ms-nlmp` preset: as the default, but 0x20000000 requires
    /// NEGOTIATE_128 in the negotiated flags whether or not SEAL is.
    pub const MS_NLMP: Self = STRICT;

    /// Other names accepted by [`Semantics::by_name`] for a preset.
    pub const ALIASES: [(&'static str, &'static str); 1] = [("kb239869", "calibrated")];

    /// The named presets; the first is the default.
    pub const PRESETS: [Preset; 6] = [
        Preset {
            name: "calibrated",
            description: "default: 0x20000000 fails only when SEAL is negotiated without 128 \
                          (KB239869; the reading every field observation supports, alias \
                          kb239869), servers echo 128/56 as Windows does, every other documented \
                          bit enforced",
            semantics: DEFAULT,
        },
        Preset {
            name: "ms-nlmp",
            description: "strict: 0x20000000 requires NEGOTIATE_128 in the negotiated flags \
                          with or without SEAL (MS-NLMP 3.1.5.1.2/3.2.5.1.1 read literally); \
                          otherwise as calibrated",
            semantics: STRICT,
        },
        Preset {
            name: "ms-nlmp-literal",
            description: "as ms-nlmp, but servers return 128/56 only with SIGN or SEAL \
                          (MS-NLMP 2.2.2.5 read literally)",
            semantics: Self {
                server_strength: ServerStrength::Literal,
                ..STRICT
            },
        },
        Preset {
            name: "samba",
            description: "Samba's NTLMSSP: clients OR their required flags into the NEGOTIATE, \
                          NTLMv2 implies NTLMv2 session security, servers drop unexpected \
                          AUTHENTICATE flags",
            semantics: Self {
                client_request: ClientRequest::OrRequired,
                ess: EssMeaning::FlagOrNtlmV2,
                authenticate_extra: AuthenticateExtra::Intersect,
                ..STRICT
            },
        },
        Preset {
            name: "os-generation",
            description: "as ms-nlmp, but peers newer than XP/2003 ignore 0x10 and 0x20 \
                          (UNCONFIRMED: those options exist only in the XP/2003 UI)",
            semantics: Self {
                enforce: Enforce::OsGeneration,
                ..STRICT
            },
        },
        Preset {
            name: "lenient",
            description: "the most permissive reading of every unconfirmed point (KB239869 \
                          128 rule, 56-bit ignored, NTLMv2 implies ESS, 0x10/0x20 ignored by \
                          post-2003 peers, unexpected AUTHENTICATE flags dropped, NTLMv1 \
                          accepted by 24H2 / 2025 servers, ESS requested at \
                          LmCompatibilityLevel 0)",
            semantics: Self {
                rule_128: Rule128::Kb239869,
                server_strength: ServerStrength::Echo,
                enforce: Enforce::OsGeneration,
                client_request: ClientRequest::AppOnly,
                ess: EssMeaning::FlagOrNtlmV2,
                bit56: Bit56::Ignore,
                authenticate_extra: AuthenticateExtra::Intersect,
                ntlmv1_server: Ntlmv1Server::Accepts,
                level0_ess: Level0Ess::Requested,
            },
        },
    ];

    /// The preset with this name or alias (ASCII case and `_`/`-` ignored).
    pub fn by_name(name: &str) -> Option<Self> {
        let mut want = normalize(name);
        if let Some((_, target)) = Self::ALIASES.iter().find(|(a, _)| normalize(a) == want) {
            want = normalize(target);
        }
        Self::PRESETS
            .iter()
            .find(|p| normalize(p.name) == want)
            .map(|p| p.semantics)
    }

    /// The names and one-line descriptions of the presets, for `--help`.
    pub fn list() -> impl Iterator<Item = (&'static str, &'static str)> {
        Self::PRESETS.iter().map(|p| (p.name, p.description))
    }

    /// The preset name these switches equal, or `"custom"`.
    pub fn name(&self) -> &'static str {
        Self::PRESETS
            .iter()
            .find(|p| p.semantics == *self)
            .map_or("custom", |p| p.name)
    }

    /// The rules the switches select, one per switch, for reports.
    pub fn rules(&self) -> [&'static Rule; 9] {
        [
            match self.rule_128 {
                Rule128::Strict => &rules::MIN_128_CLIENT,
                Rule128::Kb239869 => &rules::MIN_128_KB239869,
            },
            match self.server_strength {
                ServerStrength::Echo => &rules::NEG_SERVER_STRENGTH_ECHO,
                ServerStrength::Literal => &rules::NEG_SERVER_STRENGTH_LITERAL,
            },
            match self.enforce {
                Enforce::AllKnown => &rules::MIN_FLAGS_CLIENT,
                Enforce::OsGeneration => &rules::MIN_OS_GENERATION,
            },
            match self.client_request {
                ClientRequest::AppOnly => &rules::NEG_CLIENT_APP_FLAGS,
                ClientRequest::OrRequired => &rules::NEG_CLIENT_OR_REQUIRED,
            },
            match self.ess {
                EssMeaning::Flag => &rules::MIN_FLAGS_CLIENT,
                EssMeaning::FlagOrNtlmV2 => &rules::MIN_ESS_NTLMV2,
            },
            &rules::MIN_56,
            match self.authenticate_extra {
                AuthenticateExtra::Reject => &rules::AUTH_FLAGS_SUBSET,
                AuthenticateExtra::Intersect => &rules::AUTH_FLAGS_INTERSECT,
            },
            match self.ntlmv1_server {
                Ntlmv1Server::Accepts => &rules::NTLMV1_REMOVED,
                Ntlmv1Server::Refuses => &rules::NTLMV1_REMOVED_SERVER,
            },
            match self.level0_ess {
                Level0Ess::Requested => &rules::NEG_CLIENT_ESS_LEVEL0_REQUESTED,
                Level0Ess::Never => &rules::NEG_CLIENT_ESS_LEVEL0_NEVER,
            },
        ]
    }
}

fn normalize(s: &str) -> String {
    s.trim()
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// One semantics switch: its command-line name, its values and where it
/// lives in [`Semantics`]. [`Semantics::SWITCHES`] lists them all; the
/// per-switch syntax (`--semantics rule-128=kb239869`) and the certainty
/// of a verdict ([`crate::certainty()`]) are built over this table, so they
/// follow whatever values and defaults the switches have.
#[derive(Debug, Clone, Copy)]
pub struct Switch {
    /// The switch name, e.g. `rule-128`.
    pub name: &'static str,
    /// What it decides, in one line.
    pub description: &'static str,
    /// The names of its values, in [`Rule128::ALL`] (etc.) order.
    pub values: &'static [&'static str],
    get: fn(&Semantics) -> usize,
    set: fn(&mut Semantics, usize),
}

impl Switch {
    /// The index in [`values`](Self::values) of this switch's value in `s`.
    pub fn index_in(&self, s: &Semantics) -> usize {
        (self.get)(s)
    }

    /// The name of this switch's value in `s`.
    pub fn value_in(&self, s: &Semantics) -> &'static str {
        self.values.get(self.index_in(s)).copied().unwrap_or("")
    }

    /// `s` with this switch set to the value at `index` (unchanged when out of range).
    pub fn with(&self, s: &Semantics, index: usize) -> Semantics {
        let mut out = *s;
        (self.set)(&mut out, index);
        out
    }

    /// The index of the value named `value` (ASCII case and `_`/`-` ignored).
    pub fn find(&self, value: &str) -> Option<usize> {
        let want = normalize(value);
        self.values.iter().position(|v| normalize(v) == want)
    }
}

/// The index of `name` in `names`; `usize::MAX` (no value) when a variant
/// is missing from its `NAMES`, which the tests catch.
fn index_of(names: &[&str], name: &str) -> usize {
    names.iter().position(|n| *n == name).unwrap_or(usize::MAX)
}

macro_rules! switch {
    ($name:literal, $field:ident, $ty:ident, $description:literal) => {
        Switch {
            name: $name,
            description: $description,
            values: &$ty::NAMES,
            get: |s| index_of(&$ty::NAMES, s.$field.value_name()),
            set: |s, i| {
                if let Some(v) = $ty::ALL.get(i) {
                    s.$field = *v;
                }
            },
        }
    };
}

impl Semantics {
    /// Every switch, in the order of the crate documentation's table.
    pub const SWITCHES: [Switch; 9] = [
        switch!(
            "rule-128",
            rule_128,
            Rule128,
            "what 0x20000000 requires: NEGOTIATE_128 negotiated (strict), or only when SEAL is (kb239869)"
        ),
        switch!(
            "server-strength",
            server_strength,
            ServerStrength,
            "when a server returns 128/56: whenever requested (echo), or only with SIGN or SEAL (literal)"
        ),
        switch!(
            "enforce",
            enforce,
            Enforce,
            "which bits a peer enforces: all documented ones, or 0x10/0x20 only on XP/2003 (os-generation)"
        ),
        switch!(
            "client-request",
            client_request,
            ClientRequest,
            "whether a client ORs its NtlmMinClientSec bits into its NEGOTIATE (or-required)"
        ),
        switch!(
            "ess",
            ess,
            EssMeaning,
            "what satisfies 0x80000: the flag, or the flag or NTLMv2 authentication"
        ),
        switch!(
            "bit56",
            bit56,
            Bit56,
            "whether 0x80000000 requires NEGOTIATE_56 (enforce) or is ignored"
        ),
        switch!(
            "authenticate-extra",
            authenticate_extra,
            AuthenticateExtra,
            "AUTHENTICATE flags the CHALLENGE did not return: refused (reject) or dropped (intersect)"
        ),
        switch!(
            "ntlmv1-server",
            ntlmv1_server,
            Ntlmv1Server,
            "whether a Windows 11 24H2 / Server 2025 server refuses LM and NTLMv1 responses itself (refuses) or its LmCompatibilityLevel decides (accepts)"
        ),
        switch!(
            "level0-ess",
            level0_ess,
            Level0Ess,
            "whether a client at LmCompatibilityLevel 0 requests NTLMv2 session security and uses it when granted (requested, as public XP messages show) or never does (never, the policy text)"
        ),
    ];

    /// The switch with this name (ASCII case and `_`/`-` ignored).
    pub fn switch(name: &str) -> Option<&'static Switch> {
        let want = normalize(name);
        Self::SWITCHES.iter().find(|s| normalize(s.name) == want)
    }

    /// Reads `--semantics`: a preset name, `SWITCH=VALUE` items, or a preset
    /// followed by overrides, separated by commas (`ms-nlmp,bit56=ignore`,
    /// `rule-128=kb239869,client-request=or-required`). Switches not named
    /// keep the preset's value (the default preset's when none is named).
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let err = |problem: String| ParseError::new("semantics", input, problem, EXPECTED);
        if input.trim().is_empty() {
            return Err(err("the input is empty".into()));
        }
        let mut out = Self::default();
        let mut seen = [false; Self::SWITCHES.len()];
        for (i, item) in input.split(',').enumerate() {
            let item = item.trim();
            if item.is_empty() {
                return Err(err("an empty item between commas".into()));
            }
            let Some((name, value)) = item.split_once('=') else {
                if i > 0 {
                    return Err(err(format!(
                        "{item:?} is not SWITCH=VALUE (a preset name may only come first)"
                    )));
                }
                out = Self::by_name(item).ok_or_else(|| {
                    err(format!(
                        "{item:?} is neither a preset nor SWITCH=VALUE; presets: {}; switches: {}",
                        join(Self::PRESETS.iter().map(|p| p.name)),
                        join(Self::SWITCHES.iter().map(|s| s.name))
                    ))
                })?;
                continue;
            };
            let (name, value) = (name.trim(), value.trim());
            let Some(k) = Self::SWITCHES
                .iter()
                .position(|s| normalize(s.name) == normalize(name))
            else {
                return Err(err(format!(
                    "{name:?} is not a switch; switches: {}",
                    join(Self::SWITCHES.iter().map(|s| s.name))
                )));
            };
            let Some(sw) = Self::SWITCHES.get(k) else {
                continue;
            };
            let Some(index) = sw.find(value) else {
                return Err(err(format!(
                    "{value:?} is not a value of {}; accepted: {}",
                    sw.name,
                    join(sw.values.iter().copied())
                )));
            };
            if let Some(flag) = seen.get_mut(k) {
                if *flag {
                    return Err(err(format!("{} is set twice", sw.name)));
                }
                *flag = true;
            }
            out = sw.with(&out, index);
        }
        Ok(out)
    }

    /// The switches as `--semantics` accepts them: the preset they equal,
    /// or the closest preset (fewest differing switches, the first on a tie)
    /// followed by the switches that differ from it, e.g. `ms-nlmp,bit56=ignore`.
    /// [`Semantics::parse`] reads it back to the same value.
    pub fn spec(&self) -> String {
        let differing = |p: &Preset| {
            Self::SWITCHES
                .iter()
                .filter(|s| s.index_in(self) != s.index_in(&p.semantics))
                .count()
        };
        let Some(base) = Self::PRESETS.iter().min_by_key(|p| differing(p)) else {
            return String::new();
        };
        let mut out = String::from(base.name);
        for s in &Self::SWITCHES {
            if s.index_in(self) != s.index_in(&base.semantics) {
                out.push(',');
                out.push_str(s.name);
                out.push('=');
                out.push_str(s.value_in(self));
            }
        }
        out
    }
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for (i, s) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(s);
    }
    out
}

const EXPECTED: &str = "a preset (calibrated, alias kb239869; ms-nlmp, ms-nlmp-literal, samba, os-generation, \
    lenient), SWITCH=VALUE items, or a preset followed by SWITCH=VALUE items, separated by \
    commas (see `ntlmsim policy semantics`)";

impl FromStr for Semantics {
    type Err = ParseError;

    /// [`Semantics::parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Semantics {
    /// The preset name, or [`Semantics::spec`] when they match no preset.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_first_preset() {
        assert_eq!(Semantics::default(), Semantics::PRESETS[0].semantics);
        assert_eq!(Semantics::default().name(), "calibrated");
        assert_eq!(Semantics::CALIBRATED, Semantics::default());
        assert_eq!(Semantics::default().rule_128, Rule128::Kb239869);
        assert_eq!(Semantics::MS_NLMP.rule_128, Rule128::Strict);
        assert_eq!(Semantics::MS_NLMP.name(), "ms-nlmp");
    }

    #[test]
    fn presets_are_distinct_and_found_by_name() {
        for (i, p) in Semantics::PRESETS.iter().enumerate() {
            assert_eq!(Semantics::by_name(p.name), Some(p.semantics));
            assert_eq!(p.semantics.name(), p.name);
            assert_eq!(p.semantics.to_string(), p.name);
            assert_eq!(p.name.parse::<Semantics>(), Ok(p.semantics));
            for q in Semantics::PRESETS.iter().skip(i + 1) {
                assert_ne!(p.semantics, q.semantics, "{} == {}", p.name, q.name);
            }
        }
        assert_eq!(Semantics::by_name(" MS_NLMP "), Some(Semantics::MS_NLMP));
        assert_eq!(Semantics::by_name("KB239869"), Some(Semantics::default()));
        assert_eq!(Semantics::list().count(), Semantics::PRESETS.len());
    }

    #[test]
    fn unknown_preset_is_an_error_that_quotes_it() {
        let e = "windows-2003".parse::<Semantics>().unwrap_err();
        assert!(e.to_string().contains("\"windows-2003\""), "{e}");
        assert!(e.to_string().contains("ms-nlmp"), "{e}");
    }

    #[test]
    fn custom_display_is_the_closest_preset_and_overrides() {
        let s = Semantics {
            bit56: Bit56::Ignore,
            ..Semantics::default()
        };
        assert_eq!(s.name(), "custom");
        assert_eq!(
            s.to_string(),
            format!("{},bit56=ignore", Semantics::PRESETS[0].name)
        );
        let t = Semantics {
            client_request: ClientRequest::AppOnly,
            ..Semantics::by_name("samba").unwrap()
        };
        assert_eq!(t.spec(), "samba,client-request=app-only");
    }

    #[test]
    fn each_switch_can_be_set_on_its_own() {
        let s: Semantics = "rule-128=kb239869,client-request=or-required"
            .parse()
            .unwrap();
        assert_eq!(s.rule_128, Rule128::Kb239869);
        assert_eq!(s.client_request, ClientRequest::OrRequired);
        let rest = Semantics {
            rule_128: Semantics::default().rule_128,
            client_request: Semantics::default().client_request,
            ..s
        };
        assert_eq!(rest, Semantics::default());
        let s: Semantics = " MS_NLMP , Bit56 = IGNORE ".parse().unwrap();
        assert_eq!(
            s,
            Semantics {
                bit56: Bit56::Ignore,
                ..Semantics::MS_NLMP
            }
        );
        let s: Semantics = "lenient,rule-128=strict".parse().unwrap();
        assert_eq!(s.rule_128, Rule128::Strict);
        assert_eq!(s.bit56, Bit56::Ignore);
    }

    #[test]
    fn switch_errors_name_the_switch_and_its_values() {
        let e = "rule-128=loose"
            .parse::<Semantics>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"loose\" is not a value of rule-128"), "{e}");
        assert!(e.contains("accepted: strict, kb239869"), "{e}");
        let e = "bit-57=ignore"
            .parse::<Semantics>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"bit-57\" is not a switch"), "{e}");
        assert!(e.contains("authenticate-extra"), "{e}");
        let e = "bit56=ignore,samba"
            .parse::<Semantics>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("may only come first"), "{e}");
        let e = "bit56=ignore,bit56=enforce"
            .parse::<Semantics>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("bit56 is set twice"), "{e}");
        assert!("ms-nlmp,".parse::<Semantics>().is_err());
        assert!("".parse::<Semantics>().is_err());
    }

    #[test]
    fn names_follow_values() {
        macro_rules! check {
            ($ty:ident) => {
                assert_eq!($ty::ALL.len(), $ty::NAMES.len());
                for (v, n) in $ty::ALL.iter().zip($ty::NAMES) {
                    assert_eq!(v.value_name(), n);
                }
            };
        }
        check!(Rule128);
        check!(ServerStrength);
        check!(Enforce);
        check!(ClientRequest);
        check!(EssMeaning);
        check!(Bit56);
        check!(AuthenticateExtra);
        check!(Ntlmv1Server);
        check!(Level0Ess);
    }

    #[test]
    fn every_preset_value_is_in_its_switch_table() {
        for p in &Semantics::PRESETS {
            for sw in &Semantics::SWITCHES {
                assert!(
                    !sw.value_in(&p.semantics).is_empty(),
                    "{} {}",
                    p.name,
                    sw.name
                );
            }
        }
    }

    #[test]
    fn spec_reads_back_for_every_combination() {
        let mut all = vec![Semantics::default()];
        for sw in &Semantics::SWITCHES {
            all = all
                .iter()
                .flat_map(|s| (0..sw.values.len()).map(move |i| sw.with(s, i)))
                .collect();
        }
        let product: usize = Semantics::SWITCHES.iter().map(|s| s.values.len()).product();
        assert_eq!(all.len(), product);
        for s in all {
            assert_eq!(Semantics::parse(&s.spec()), Ok(s), "{}", s.spec());
            assert_eq!(s.to_string(), s.spec());
        }
    }

    #[test]
    fn switch_table_covers_every_value() {
        let mut names = Vec::new();
        for sw in &Semantics::SWITCHES {
            assert!(sw.values.len() >= 2, "{}", sw.name);
            assert_eq!(Semantics::switch(sw.name).map(|s| s.name), Some(sw.name));
            for (i, v) in sw.values.iter().enumerate() {
                let s = sw.with(&Semantics::default(), i);
                assert_eq!(sw.index_in(&s), i);
                assert_eq!(sw.value_in(&s), *v);
                assert_eq!(sw.find(v), Some(i));
                assert_eq!(format!("{}={v}", sw.name).parse::<Semantics>(), Ok(s));
            }
            names.push(sw.name);
        }
        let doc = include_str!("lib.rs");
        for sw in &Semantics::SWITCHES {
            assert!(
                doc.contains(&format!("//! | `{}` (", sw.name)),
                "{}",
                sw.name
            );
        }
    }

    #[test]
    fn rules_follow_switches() {
        let kb = Semantics::by_name("kb239869").unwrap();
        assert_eq!(kb.rules()[0].id, "min-128-kb239869");
        assert_eq!(Semantics::MS_NLMP.rules()[0].id, "min-128-client");
        let samba = Semantics::by_name("samba").unwrap();
        assert_eq!(samba.rules()[3].id, "neg-client-or-required");
        assert_eq!(samba.rules()[6].id, "auth-flags-intersect");
    }
}
