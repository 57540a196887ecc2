//! What administrators paste: one value, or several lines of `reg query`
//! output, a `.reg` file, a secedit export, `gpresult /z` or RSOP/secpol
//! text, read into the settings they set (`ntlmsim policy explain`).
//!
//! Lines are read one at a time, so a bounded, linear pass: a key line
//! (`HKEY_LOCAL_MACHINE\...\MSV1_0`, `[HKEY_...]`) sets the key for the
//! value lines below it; a registry line naming `NtlmMinClientSec`,
//! `NtlmMinServerSec` or `LmCompatibilityLevel` is a setting, a registry
//! line naming another value is listed as ignored; a Group Policy title
//! ("Network security: Minimum session security for NTLM SSP based
//! (including secure RPC) servers", "Network security: LAN Manager
//! authentication level") takes its option text from the rest of its line
//! or from the next line; `gpresult /z` `KeyName:` / `Value:` pairs are
//! joined. Anything else is an error naming its line and column.
//!
//! Hand-written rather than a parser crate: each form is a few fixed
//! prefixes around the number and line readers of the [`MinSessionSecurity`]
//! and [`LmCompatibilityLevel`] parsers, which this reuses.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::binding::{self, BindingSetting, BindingTitle};
use crate::lm::LmCompatibilityLevel;
use crate::mask::{InputForm, MinSessionSecurity, ParsedMask, PolicyValue};
use crate::parse::{self, LineForm, ParseError, strip_prefix_ci};
use crate::paste_restrict::{self as restrict, Known};
pub use crate::paste_restrict::{
    ExceptionList, Explanation, LANMAN_PARAMETERS_KEY, LANMAN_POLICY_KEY, NETLOGON_KEY,
    RestrictValue,
};

/// The registry key Windows reads `NtlmMinClientSec` / `NtlmMinServerSec` from (KB239869).
pub const MSV1_0_KEY: &str = r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Lsa\MSV1_0";

/// The registry key Windows reads `LmCompatibilityLevel` from (Microsoft
/// documentation: Network security: LAN Manager authentication level).
pub const LSA_KEY: &str = r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Lsa";

/// The setting a pasted value sets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Setting {
    /// `NtlmMinClientSec` / `NtlmMinServerSec`, or a mask that names neither
    /// (`value` is `None`).
    MinSessionSecurity(ParsedMask),
    /// `LmCompatibilityLevel` ("Network security: LAN Manager authentication level").
    LmCompatibilityLevel {
        /// The level.
        level: LmCompatibilityLevel,
        /// How it was written.
        form: InputForm,
    },
    /// A Restrict NTLM, SMB client Block NTLM or `BlockNtlmv1SSO` DWORD.
    Restrict {
        /// The setting and its value.
        value: RestrictValue,
        /// How it was written.
        form: InputForm,
    },
    /// A server exception list (REG_MULTI_SZ or Group Policy text).
    Exceptions {
        /// Which list.
        list: ExceptionList,
        /// The names, as written (`*` is a wildcard).
        names: Vec<String>,
        /// How it was written.
        form: InputForm,
    },
    /// Channel binding, target-name validation or LDAP signing
    /// ([`crate::binding`]): `LdapEnforceChannelBinding`,
    /// `LDAPServerIntegrity`, `SmbServerNameHardeningLevel` or IIS
    /// Extended Protection.
    Binding(BindingSetting),
}

/// One setting read from a paste.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastedSetting {
    /// The 1-based line the value is on.
    pub line: usize,
    /// That line, trimmed (for a title followed by its option on the next
    /// line: both, joined by a space).
    pub text: String,
    /// The registry key the paste put the value under, as written.
    pub key: Option<String>,
    /// The setting.
    pub setting: Setting,
    /// Set when `key` is not where Windows reads the value: Windows ignores it there.
    pub misplaced: bool,
}

/// Everything read from a paste.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pasted {
    /// The settings, in input order.
    pub settings: Vec<PastedSetting>,
    /// Registry values the paste also lists that are none of these
    /// settings: (1-based line, value name).
    pub ignored: Vec<(usize, String)>,
}

const WHAT: &str = "a policy setting";

const EXPECTED: &str = "an NtlmMinClientSec/NtlmMinServerSec mask (0x20080000, 537395200, \
    dword:20080000, option names such as \"Require 128-bit encryption\" joined by ','), an \
    LmCompatibilityLevel option text (\"Send NTLMv2 response only. Refuse LM & NTLM\"), or lines \
    of reg query output, a .reg file, a secedit/GptTmpl.inf export, gpresult /z or RSOP text \
    setting NtlmMinClientSec, NtlmMinServerSec, LmCompatibilityLevel, a Restrict NTLM value \
    (RestrictSendingNTLMTraffic, RestrictReceivingNTLMTraffic, AuditReceivingNTLMTraffic, \
    RestrictNTLMInDomain, AuditNTLMInDomain, ClientAllowedNTLMServers, DCAllowedNTLMServers), \
    BlockNtlmv1SSO, or the SMB client's BlockNTLM / BlockNTLMServerExceptionList; or the channel \
    binding and target-name settings LdapEnforceChannelBinding, LDAPServerIntegrity, \
    SmbServerNameHardeningLevel, IIS tokenChecking=\"Require\"";

const KNOWN: [&str; 13] = [
    "NtlmMinClientSec",
    "NtlmMinServerSec",
    "LmCompatibilityLevel",
    restrict::NAMES[0],
    restrict::NAMES[1],
    restrict::NAMES[2],
    restrict::NAMES[3],
    restrict::NAMES[4],
    restrict::NAMES[5],
    restrict::NAMES[6],
    restrict::NAMES[7],
    restrict::NAMES[8],
    restrict::NAMES[9],
];

/// [`KNOWN`] and the [`crate::binding`] registry names: the names a
/// PowerShell `NAME : VALUE` line is recognised by.
const KNOWN_LINES: [&str; 16] = [
    KNOWN[0],
    KNOWN[1],
    KNOWN[2],
    KNOWN[3],
    KNOWN[4],
    KNOWN[5],
    KNOWN[6],
    KNOWN[7],
    KNOWN[8],
    KNOWN[9],
    KNOWN[10],
    KNOWN[11],
    KNOWN[12],
    binding::REGISTRY_NAMES[0],
    binding::REGISTRY_NAMES[1],
    binding::REGISTRY_NAMES[2],
];

/// Which Group Policy a title line names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Title {
    Min(PolicyValue),
    Lm,
    Restrict(Known),
}

/// Reads every setting in `input` (see the module documentation).
///
/// Errors name the 1-based line and column ([`ParseError::position`]).
pub fn read_settings(input: &str) -> Result<Pasted, ParseError> {
    let mut out = Pasted::default();
    if input.trim().is_empty() {
        return Err(ParseError::new(
            WHAT,
            input,
            "the input is empty".into(),
            EXPECTED,
        ));
    }
    let lines: Vec<&str> = input.lines().collect();
    let several = lines.iter().filter(|l| !l.trim().is_empty()).count() > 1;
    let mut key: Option<String> = None;
    // A title whose option text is on a following line: (title, its line).
    let mut pending_title: Option<(Title, usize, &str)> = None;
    // A `gpresult /z` `KeyName:` waiting for its `Value:`: (path, its line).
    let mut pending_key_name: Option<(&str, usize)> = None;
    // A channel-binding policy title whose option is on a following line.
    let mut pending_binding: Option<(BindingTitle, usize, &str)> = None;
    for (i, raw) in lines.iter().enumerate() {
        let n = i.saturating_add(1);
        let err = |column: usize, problem: String| {
            ParseError::new(WHAT, input, problem, EXPECTED).at(n, column, raw)
        };
        let t = raw.trim();
        if t.is_empty() || is_header(t) {
            continue;
        }
        if let Some(inner) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            // A .reg key, or an .inf section such as [Registry Values].
            key = is_key(inner).then(|| inner.trim().to_string());
            continue;
        }
        if is_key(t) && !t.contains(char::is_whitespace) {
            key = Some(t.to_string());
            continue;
        }
        match binding_line(raw, &mut pending_binding, n) {
            BindingLine::No => {}
            BindingLine::Pending => continue,
            BindingLine::Found(line, text, s) => {
                out.settings
                    .push(found(line, text, key.as_deref(), Setting::Binding(s)));
                continue;
            }
            BindingLine::Error(column, problem) => return Err(err(column, problem)),
        }
        if let Some((title, rest, rest_col)) = title(raw) {
            if rest.is_empty() {
                pending_title = Some((title, n, t));
                continue;
            }
            pending_title = None;
            let s = titled(title, rest).map_err(|p| err(rest_col, p))?;
            out.settings
                .push(found(n, t.to_string(), key.as_deref(), s));
            continue;
        }
        if let Some((title, line, title_text)) = pending_title.take() {
            let (rest, col) = option_text(raw);
            let s = titled(title, rest).map_err(|p| err(col, p))?;
            let text = format!("{title_text} {t}");
            out.settings.push(found(line, text, key.as_deref(), s));
            continue;
        }
        if let Some(path) = label(t, "KeyName") {
            pending_key_name = Some((path, n));
            continue;
        }
        if label(t, "GPO").is_some() || label(t, "State").is_some() {
            continue;
        }
        if let Some(value) = label(t, "Value") {
            if let Some((path, _)) = pending_key_name.take() {
                let col = column_of(raw, value);
                let name = path.rsplit('\\').next().unwrap_or(path).trim();
                if binding::is_registry_name(name) {
                    let s = binding_registry(name, value).map_err(|p| err(col, p))?;
                    let text = format!("KeyName: {path}  Value: {value}");
                    out.settings.push(found(n, text, parent(path), s));
                    continue;
                }
                match known(name) {
                    Some(Title::Restrict(Known::List(list))) => {
                        let s = Setting::Exceptions {
                            list,
                            names: restrict::names_in_text(value),
                            form: InputForm::Line(LineForm::Gpresult),
                        };
                        let text = format!("KeyName: {path}  Value: {value}");
                        out.settings.push(found(n, text, parent(path), s));
                    }
                    Some(k) => {
                        let line = format!("{path}={value}");
                        let s = registry_setting(k, &line)
                            .map_err(|p| err(col, p))?
                            .with_form(LineForm::Gpresult);
                        let text = format!("KeyName: {path}  Value: {value}");
                        out.settings.push(found(n, text, parent(path), s));
                    }
                    None => out.ignored.push((n, name.to_string())),
                }
                continue;
            }
        }
        if let Some(r) = restrict::list_line(t) {
            let (list, names, form) = r.map_err(|p| err(locate(raw, &p), p))?;
            let s = Setting::Exceptions {
                list,
                names,
                form: InputForm::Line(form),
            };
            out.settings
                .push(found(n, t.to_string(), key.as_deref(), s));
            continue;
        }
        match parse::registry_line(t, &KNOWN_LINES) {
            Some(Ok(line)) => {
                let Some(name) = line.name else {
                    let s = mask_setting(t).map_err(|p| err(column_of(raw, t), p))?;
                    out.settings
                        .push(found(n, t.to_string(), key.as_deref(), s));
                    continue;
                };
                if binding::is_registry_name(name) {
                    let s = binding_registry(name, &line.value.to_string())
                        .map_err(|p| err(column_of(raw, t), p))?;
                    out.settings
                        .push(found(n, t.to_string(), key.as_deref(), s));
                    continue;
                }
                match known(name) {
                    Some(k) => {
                        let s = registry_setting(k, t).map_err(|p| err(column_of(raw, t), p))?;
                        out.settings
                            .push(found(n, t.to_string(), key.as_deref(), s));
                    }
                    None if several => out.ignored.push((n, name.to_string())),
                    None => {
                        return Err(err(
                            column_of(raw, name),
                            format!(
                                "the line sets {name:?}, not NtlmMinClientSec, NtlmMinServerSec, \
                                 LmCompatibilityLevel or a Restrict NTLM / Block NTLM value"
                            ),
                        ));
                    }
                }
            }
            Some(Err(problem)) => return Err(err(locate(raw, &problem), problem)),
            None => {
                if let Some(name) = several.then(|| field_name(t)).flatten() {
                    // Another property of PowerShell `Get-ItemProperty` output (PSPath, ...).
                    out.ignored.push((n, name.to_string()));
                    continue;
                }
                let s = bare(t).map_err(|p| err(locate(raw, &p), p))?;
                out.settings
                    .push(found(n, t.to_string(), key.as_deref(), s));
            }
        }
    }
    if let Some((_, line, text)) = pending_binding {
        return Err(ParseError::new(
            WHAT,
            input,
            "the policy title has no option text after it".into(),
            EXPECTED,
        )
        .at(line, text.chars().count().saturating_add(1), text));
    }
    if let Some((_, line, text)) = pending_title {
        return Err(ParseError::new(
            WHAT,
            input,
            "the policy title has no option text after it".into(),
            EXPECTED,
        )
        .at(line, text.chars().count().saturating_add(1), text));
    }
    if out.settings.is_empty() {
        let (line, name) = out.ignored.first().cloned().unwrap_or((1, String::new()));
        return Err(ParseError::new(
            WHAT,
            input,
            format!(
                "no line sets NtlmMinClientSec, NtlmMinServerSec, LmCompatibilityLevel or a \
                 Restrict NTLM / Block NTLM value (first value: {name:?})"
            ),
            EXPECTED,
        )
        .at(
            line,
            1,
            lines.get(line.saturating_sub(1)).copied().unwrap_or(""),
        ));
    }
    Ok(out)
}

impl Setting {
    fn with_form(self, form: LineForm) -> Self {
        match self {
            Self::MinSessionSecurity(mut p) => {
                p.form = InputForm::Line(form);
                Self::MinSessionSecurity(p)
            }
            Self::LmCompatibilityLevel { level, .. } => Self::LmCompatibilityLevel {
                level,
                form: InputForm::Line(form),
            },
            Self::Restrict { value, .. } => Self::Restrict {
                value,
                form: InputForm::Line(form),
            },
            Self::Exceptions { list, names, .. } => Self::Exceptions {
                list,
                names,
                form: InputForm::Line(form),
            },
            Self::Binding(_) => self,
        }
    }

    /// Every key Windows reads this setting from (the SMB client's `BlockNTLM`
    /// has two: its policy key and its parameters key).
    pub const fn keys(&self) -> &'static [&'static str] {
        match self {
            Self::MinSessionSecurity(p) if p.value.is_some() => &[MSV1_0_KEY],
            Self::MinSessionSecurity(_) => &[],
            Self::LmCompatibilityLevel { .. } => &[LSA_KEY],
            Self::Restrict { value, .. } => value.keys(),
            Self::Exceptions { list, .. } => list.keys(),
            Self::Binding(b) => b.keys(),
        }
    }

    /// Where Windows reads this setting from, when it names one.
    pub const fn key(&self) -> Option<&'static str> {
        match self {
            Self::MinSessionSecurity(p) if p.value.is_some() => Some(MSV1_0_KEY),
            Self::MinSessionSecurity(_) => None,
            Self::LmCompatibilityLevel { .. } => Some(LSA_KEY),
            Self::Restrict { value, .. } => match value.keys() {
                [first, ..] => Some(first),
                [] => None,
            },
            Self::Exceptions { list, .. } => match list.keys() {
                [first, ..] => Some(first),
                [] => None,
            },
            Self::Binding(b) => b.key(),
        }
    }
}

// ------------------------------------------- channel binding and target names

/// What [`binding_line`] made of a line.
enum BindingLine {
    /// Not one of the channel-binding settings: the other readers try it.
    No,
    /// A title whose option text follows on a later line.
    Pending,
    /// A setting: its line, its text, the setting.
    Found(usize, String, BindingSetting),
    /// A defect at a 1-based column.
    Error(usize, String),
}

/// Reads a line as one of the [`crate::binding`] settings: a title with its
/// option (or the option line after a title), an IIS `tokenChecking`
/// attribute, or a registry line naming one of their values.
fn binding_line<'a>(
    raw: &'a str,
    pending: &mut Option<(BindingTitle, usize, &'a str)>,
    n: usize,
) -> BindingLine {
    let t = raw.trim();
    if let Some((title, line, title_text)) = pending.take() {
        let (rest, col) = option_text(raw);
        return match title.option(rest) {
            Ok(s) => BindingLine::Found(line, format!("{title_text} {t}"), s),
            Err(p) => BindingLine::Error(col, p),
        };
    }
    if let Some((s, col)) = binding::token_checking_attribute(raw) {
        return match s {
            Ok(s) => BindingLine::Found(n, t.to_string(), s),
            Err(p) => BindingLine::Error(col, p),
        };
    }
    let lower = raw.to_ascii_lowercase();
    if let Some((title, end)) = binding::title_in(&lower) {
        let Some(after) = raw.get(end..) else {
            return BindingLine::No;
        };
        let (rest, col) = option_text(after);
        let col = col.saturating_add(raw.get(..end).map_or(0, |h| h.chars().count()));
        if rest.is_empty() {
            *pending = Some((title, n, t));
            return BindingLine::Pending;
        }
        if parse::squash(rest) == "notdefined" {
            return BindingLine::Error(
                col,
                "the policy is Not Defined: the registry value (or the default) applies".into(),
            );
        }
        return match title.option(rest) {
            Ok(s) => BindingLine::Found(n, t.to_string(), s),
            Err(p) => BindingLine::Error(col, p),
        };
    }
    BindingLine::No
}

/// A registry value named by [`binding::REGISTRY_NAMES`] with its data.
fn binding_registry(name: &str, value: &str) -> Result<Setting, String> {
    let (v, _) = parse::number(value)?;
    match BindingSetting::from_registry(name, v) {
        Some(r) => r.map(Setting::Binding),
        None => Err(format!("{name:?} is not a channel-binding setting")),
    }
}

fn found(line: usize, text: String, key: Option<&str>, setting: Setting) -> PastedSetting {
    let wants = setting.keys();
    let misplaced = match key {
        Some(k) if !wants.is_empty() => !wants.iter().any(|want| same_key(k, want)),
        _ => false,
    };
    PastedSetting {
        line,
        text,
        key: key.map(ToString::to_string),
        setting,
        misplaced,
    }
}

/// Keys compared ignoring case, `HKLM` for `HKEY_LOCAL_MACHINE`, a secedit
/// `MACHINE\` prefix and trailing backslashes.
fn same_key(a: &str, b: &str) -> bool {
    fn norm(k: &str) -> String {
        let k = k.trim().trim_end_matches('\\').to_ascii_uppercase();
        k.strip_prefix("HKEY_LOCAL_MACHINE\\")
            .or_else(|| k.strip_prefix("HKLM\\"))
            .or_else(|| k.strip_prefix("HKLM:\\"))
            .or_else(|| k.strip_prefix("MACHINE\\"))
            .unwrap_or(&k)
            .to_string()
    }
    norm(a) == norm(b)
}

fn parent(path: &str) -> Option<&str> {
    path.rsplit_once('\\').map(|(p, _)| p.trim())
}

fn is_header(t: &str) -> bool {
    t.eq_ignore_ascii_case("Windows Registry Editor Version 5.00")
        || t.eq_ignore_ascii_case("REGEDIT4")
}

fn is_key(t: &str) -> bool {
    let t = t.trim();
    ["HKEY_", "HKLM\\", "HKLM:\\"]
        .iter()
        .any(|p| strip_prefix_ci(t, p).is_some())
}

/// `LABEL: rest` (any case, any spacing), as gpresult prints its fields.
fn label<'a>(t: &'a str, name: &str) -> Option<&'a str> {
    let rest = strip_prefix_ci(t, name)?;
    rest.trim_start().strip_prefix(':').map(str::trim)
}

/// `NAME : value` with NAME one identifier, as PowerShell lists properties.
fn field_name(t: &str) -> Option<&str> {
    let (left, _) = t.split_once(':')?;
    let left = left.trim();
    let ident = !left.is_empty() && left.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    ident.then_some(left)
}

fn known(name: &str) -> Option<Title> {
    if name.trim().eq_ignore_ascii_case("LmCompatibilityLevel") {
        return Some(Title::Lm);
    }
    PolicyValue::from_name(name)
        .map(Title::Min)
        .or_else(|| restrict::known(name).map(Title::Restrict))
}

fn registry_setting(which: Title, line: &str) -> Result<Setting, String> {
    match which {
        Title::Restrict(Known::Dword(name)) => match parse::registry_line(line, &KNOWN) {
            Some(Ok(l)) => restrict::dword_value(name, l.value).map(|value| Setting::Restrict {
                value,
                form: InputForm::Line(l.form),
            }),
            Some(Err(p)) => Err(p),
            None => Err(format!("cannot read {line:?} as a registry line")),
        },
        Title::Restrict(Known::List(list)) => Err(format!(
            "{} is a REG_MULTI_SZ list, not a number",
            list.registry_name()
        )),
        Title::Min(_) => mask_setting(line),
        Title::Lm => LmCompatibilityLevel::parse_form(line)
            .map(|(level, form)| Setting::LmCompatibilityLevel { level, form })
            .map_err(|e| e.problem().to_string()),
    }
}

fn mask_setting(line: &str) -> Result<Setting, String> {
    MinSessionSecurity::parse(line)
        .map(Setting::MinSessionSecurity)
        .map_err(|e| e.problem().to_string())
}

/// A line that is no registry line: a mask, or an LmCompatibilityLevel
/// option text (`Send NTLMv2 response only. Refuse LM & NTLM`, `level 5`).
fn bare(t: &str) -> Result<Setting, String> {
    let mask_error = match MinSessionSecurity::parse(t) {
        Ok(p) => return Ok(Setting::MinSessionSecurity(p)),
        Err(e) => e,
    };
    if strip_prefix_ci(t, "send").is_some() || strip_prefix_ci(t, "level").is_some() {
        return LmCompatibilityLevel::parse_form(t)
            .map(|(level, form)| Setting::LmCompatibilityLevel { level, form })
            .map_err(|e| e.problem().to_string());
    }
    Err(mask_error.problem().to_string())
}

/// The option text of a titled policy line, read as that policy.
fn titled(title: Title, rest: &str) -> Result<Setting, String> {
    let rest = rest.trim();
    if parse::squash(rest) == "notdefined" {
        return Err(
            "the policy is Not Defined: the registry value (or the Windows default) applies"
                .to_string(),
        );
    }
    match title {
        Title::Min(v) => MinSessionSecurity::parse(rest)
            .map(|mut p| {
                p.value = Some(v);
                p.form = InputForm::PolicyText;
                Setting::MinSessionSecurity(p)
            })
            .map_err(|e| e.problem().to_string()),
        Title::Lm => LmCompatibilityLevel::parse(rest)
            .map(|level| Setting::LmCompatibilityLevel {
                level,
                form: InputForm::PolicyText,
            })
            .map_err(|e| e.problem().to_string()),
        Title::Restrict(Known::Dword(name)) => {
            restrict::option(name, rest).map(|value| Setting::Restrict {
                value,
                form: InputForm::PolicyText,
            })
        }
        Title::Restrict(Known::List(list)) => Ok(Setting::Exceptions {
            list,
            names: restrict::names_in_text(rest),
            form: InputForm::PolicyText,
        }),
    }
}

/// A Group Policy title in `line`: which policy, the text after it (option
/// text, possibly empty) and that text's 1-based column.
fn title(line: &str) -> Option<(Title, &str, usize)> {
    // ASCII lower-casing keeps byte offsets, so they index `line` too.
    let lower = line.to_ascii_lowercase();
    let (which, end) = if let Some(at) = lower.find("minimum session security for ntlm ssp") {
        let after = lower.get(at..)?;
        [
            ("clients", PolicyValue::NtlmMinClientSec),
            ("servers", PolicyValue::NtlmMinServerSec),
        ]
        .into_iter()
        .filter_map(|(w, v)| after.find(w).map(|p| (p.saturating_add(w.len()), v)))
        .min_by_key(|(p, _)| *p)
        .map(|(p, v)| (Title::Min(v), at.saturating_add(p)))?
    } else if let Some(at) = lower.find("lan manager authentication level") {
        (
            Title::Lm,
            at.saturating_add("lan manager authentication level".len()),
        )
    } else {
        let (k, end) = restrict::title(&lower)?;
        (Title::Restrict(k), end)
    };
    let (rest, col) = option_text(line.get(end..)?);
    let offset = line.get(..end).map_or(0, |h| h.chars().count());
    Some((which, rest, col.saturating_add(offset)))
}

/// The option text of a line after a title: separators (`:`, `=`, tabs,
/// spaces) and a `Computer Setting:` / `Setting:` label removed, with its
/// 1-based column within `s`.
fn option_text(s: &str) -> (&str, usize) {
    let mut rest = s.trim_start_matches(|c: char| c.is_whitespace() || c == ':' || c == '=');
    for l in ["Computer Setting", "Setting", "Value"] {
        if let Some(r) = label(rest, l) {
            rest = r;
        }
    }
    let rest = rest.trim();
    (rest, column_of(s, rest))
}

/// The 1-based character column where `part` (a subslice or substring)
/// starts in `line`; the first non-blank character when it is not found.
fn column_of(line: &str, part: &str) -> usize {
    let at = if part.is_empty() {
        None
    } else {
        line.find(part)
    };
    let at = at.unwrap_or_else(|| line.len().saturating_sub(line.trim_start().len()));
    line.get(..at)
        .map_or(0, |h| h.chars().count())
        .saturating_add(1)
}

/// The column of the first quoted token of `problem` in `line` (problems
/// quote the offending text), else of the first non-blank character.
fn locate(line: &str, problem: &str) -> usize {
    let quoted = problem
        .split_once('"')
        .and_then(|(_, r)| r.split_once('"'))
        .map(|(q, _)| q);
    column_of(line, quoted.unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(input: &str) -> PastedSetting {
        let p = read_settings(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(p.settings.len(), 1, "{p:?}");
        p.settings.into_iter().next().unwrap()
    }

    fn mask(s: &PastedSetting) -> (u32, Option<PolicyValue>, InputForm) {
        match &s.setting {
            Setting::MinSessionSecurity(p) => (p.mask.bits(), p.value, p.form),
            _ => panic!("not a mask: {s:?}"),
        }
    }

    fn level(s: &PastedSetting) -> (u8, InputForm) {
        match &s.setting {
            Setting::LmCompatibilityLevel { level, form } => (level.level(), *form),
            _ => panic!("not a level: {s:?}"),
        }
    }

    fn restrict(s: &PastedSetting) -> (RestrictValue, InputForm) {
        match &s.setting {
            Setting::Restrict { value, form } => (*value, *form),
            _ => panic!("not a Restrict NTLM value: {s:?}"),
        }
    }

    #[test]
    fn restrict_ntlm_values_in_every_form() {
        use crate::restrict::{AuditIncoming, DomainScope, Incoming, Outgoing};
        let deny = RestrictValue::Outgoing(Outgoing::DenyAll);
        for (input, form) in [
            (
                "RestrictSendingNTLMTraffic    REG_DWORD    0x2",
                LineForm::RegQuery,
            ),
            (
                "\"RestrictSendingNTLMTraffic\"=dword:00000002",
                LineForm::RegFile,
            ),
            (
                "MACHINE\\System\\CurrentControlSet\\Control\\Lsa\\MSV1_0\\RestrictSendingNTLMTraffic=4,2",
                LineForm::Secedit,
            ),
            ("RestrictSendingNTLMTraffic : 2", LineForm::PowerShell),
        ] {
            assert_eq!(
                restrict(&one(input)),
                (deny, InputForm::Line(form)),
                "{input}"
            );
        }
        let gpo = [
            (
                "Network security: Restrict NTLM: Outgoing NTLM traffic to remote servers  Audit all",
                RestrictValue::Outgoing(Outgoing::AuditAll),
            ),
            (
                "Network security: Restrict NTLM: Incoming NTLM traffic\tDeny all domain accounts",
                RestrictValue::Incoming(Incoming::DenyDomainAccounts),
            ),
            (
                "Network security: Restrict NTLM: Audit Incoming NTLM Traffic  Enable auditing for all accounts",
                RestrictValue::AuditIncoming(AuditIncoming::AllAccounts),
            ),
            (
                "Network security: Restrict NTLM: NTLM authentication in this domain  Deny for domain servers",
                RestrictValue::Domain(DomainScope::DomainServers),
            ),
            (
                "Network security: Restrict NTLM: Audit NTLM authentication in this domain  Enable all",
                RestrictValue::AuditDomain(DomainScope::All),
            ),
            (
                "Block NTLM (LM, NTLM, NTLMv2)  Enabled",
                RestrictValue::SmbBlockNtlm(true),
            ),
        ];
        for (input, want) in gpo {
            assert_eq!(
                restrict(&one(input)),
                (want, InputForm::PolicyText),
                "{input}"
            );
        }
    }

    #[test]
    fn restrict_keys_are_checked_and_lists_read() {
        let paste = "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Netlogon\\Parameters]\n\
                     \"RestrictNTLMInDomain\"=dword:00000007\n\
                     \"RestrictSendingNTLMTraffic\"=dword:00000002\n\
                     \"DCAllowedNTLMServers\"=hex(7):61,00,70,00,70,00,30,00,31,00,00,00,00,00\n";
        let p = read_settings(paste).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.settings.len(), 3);
        assert!(
            !p.settings[0].misplaced,
            "RestrictNTLMInDomain belongs under Netlogon"
        );
        assert!(
            p.settings[1].misplaced,
            "RestrictSendingNTLMTraffic belongs under MSV1_0"
        );
        assert_eq!(
            p.settings[2].setting,
            Setting::Exceptions {
                list: ExceptionList::DcAllowedNtlmServers,
                names: vec!["app01".into()],
                form: InputForm::Line(LineForm::RegFile),
            }
        );
        let gp = one(
            "Network security: Restrict NTLM: Add remote server exceptions for NTLM authentication  nas01, *.legacy.corp",
        );
        assert_eq!(
            gp.setting,
            Setting::Exceptions {
                list: ExceptionList::ClientAllowedNtlmServers,
                names: vec!["nas01".into(), "*.legacy.corp".into()],
                form: InputForm::PolicyText,
            }
        );
        // BlockNTLM is read from either SMB client key.
        let smb = one(
            "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\LanmanWorkstation\\Parameters\n    BlockNTLM    REG_DWORD    0x1",
        );
        assert!(!smb.misplaced);
    }

    #[test]
    fn restrict_errors_name_line_value_and_options() {
        let e = read_settings("HKLM\\X\nRestrictNTLMInDomain    REG_DWORD    0x2")
            .err()
            .map(|e| (e.position(), e.problem().to_string()));
        assert_eq!(
            e,
            Some((
                Some((2, 1)),
                "RestrictNTLMInDomain = 2 is not a defined value (accepted: 0, 1, 3, 5, 7)".into()
            ))
        );
        let e =
            read_settings("Network security: Restrict NTLM: Incoming NTLM traffic  Deny everyone")
                .err()
                .map(|e| e.problem().to_string())
                .unwrap_or_default();
        assert!(
            e.contains("\"Deny everyone\" is not an option")
                && e.contains("\"Deny all accounts\" (2)"),
            "{e}"
        );
    }

    #[test]
    fn reg_query_output_with_its_key_line() {
        let paste = "\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0\r\n    \
                     NtlmMinServerSec    REG_DWORD    0x20080000\r\n\r\n";
        let s = one(paste);
        assert_eq!(
            mask(&s),
            (
                0x2008_0000,
                Some(PolicyValue::NtlmMinServerSec),
                InputForm::Line(LineForm::RegQuery)
            )
        );
        assert_eq!(s.line, 3);
        assert!(!s.misplaced);
        assert_eq!(
            s.key.as_deref(),
            Some(r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Lsa\MSV1_0")
        );
    }

    #[test]
    fn a_whole_reg_query_of_the_key_keeps_the_known_values_and_lists_the_rest() {
        let paste = r"
HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Lsa\MSV1_0
    auditbaseobjects    REG_DWORD    0x0
    NtlmMinClientSec    REG_DWORD    0x20080000
    NtlmMinServerSec    REG_DWORD    0x20080030
    RestrictReceivingNTLMTraffic    REG_DWORD    0x2

HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Lsa\MSV1_0\ReturnValues
";
        let p = read_settings(paste).unwrap();
        let got: Vec<_> = p
            .settings
            .iter()
            .take(2)
            .map(|s| (s.line, mask(s).0, mask(s).1))
            .collect();
        assert_eq!(
            got,
            [
                (4, 0x2008_0000, Some(PolicyValue::NtlmMinClientSec)),
                (5, 0x2008_0030, Some(PolicyValue::NtlmMinServerSec)),
            ]
        );
        assert_eq!(
            p.settings.get(2).map(|s| (s.line, restrict(s).0)),
            Some((
                6,
                RestrictValue::Incoming(crate::restrict::Incoming::DenyAll)
            ))
        );
        assert_eq!(p.ignored, [(3, "auditbaseobjects".to_string())]);
    }

    #[test]
    fn a_value_under_the_wrong_key_is_marked() {
        let paste = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa\n    NtlmMinClientSec    REG_DWORD    0x20000000";
        assert!(one(paste).misplaced);
        let paste = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0\n    LmCompatibilityLevel    REG_DWORD    0x5";
        let s = one(paste);
        assert_eq!(level(&s).0, 5);
        assert!(s.misplaced);
        let paste = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\n    LmCompatibilityLevel    REG_DWORD    0x5";
        assert!(!one(paste).misplaced);
        let paste =
            "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0\nNtlmMinServerSec : 537395200";
        let s = one(paste);
        assert_eq!(mask(&s).0, 0x2008_0000);
        assert!(!s.misplaced);
    }

    #[test]
    fn powershell_get_item_property_output() {
        let paste = "\n\nNtlmMinClientSec : 537395200\nNtlmMinServerSec : -1610088400\n\
                     PSPath           : Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0\n\
                     PSChildName      : MSV1_0\nPSDrive          : HKLM\n";
        let p = read_settings(paste).unwrap();
        let got: Vec<_> = p.settings.iter().map(|s| mask(s).0).collect();
        assert_eq!(got, [0x2008_0000, 0xA008_0030]);
        let ignored: Vec<&str> = p.ignored.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(ignored, ["PSPath", "PSChildName", "PSDrive"]);
        // On its own, an unrelated property is still an error.
        assert!(read_settings("PSDrive          : HKLM").is_err());
    }

    #[test]
    fn a_reg_file() {
        let paste = "Windows Registry Editor Version 5.00\n\n\
                     [HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0]\n\
                     \"NtlmMinClientSec\"=dword:0x20080030\n\
                     \"NtlmMinServerSec\"=dword:20000000\n\n\
                     [HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa]\n\
                     \"LmCompatibilityLevel\"=dword:00000005\n";
        let p = read_settings(paste).unwrap();
        assert_eq!(p.settings.len(), 3);
        assert_eq!(mask(&p.settings[0]).0, 0x2008_0030);
        assert_eq!(mask(&p.settings[1]).0, 0x2000_0000);
        assert_eq!(
            level(&p.settings[2]),
            (5, InputForm::Line(LineForm::RegFile))
        );
        assert!(p.settings.iter().all(|s| !s.misplaced));
    }

    #[test]
    fn reg_file_dword_with_0x() {
        let s = one(r#""NtlmMinClientSec"=dword:0x20080030"#);
        assert_eq!(
            mask(&s),
            (
                0x2008_0030,
                Some(PolicyValue::NtlmMinClientSec),
                InputForm::Line(LineForm::RegFile)
            )
        );
    }

    #[test]
    fn gpo_text_with_several_options() {
        let s = one(
            "Network security: Minimum session security for NTLM SSP based (including secure RPC) \
             servers\tRequire NTLMv2 session security, Require 128-bit encryption",
        );
        assert_eq!(
            mask(&s),
            (
                0x2008_0000,
                Some(PolicyValue::NtlmMinServerSec),
                InputForm::PolicyText
            )
        );
        let s = one(
            "Network security: Minimum session security for NTLM SSP based (including secure RPC) \
             clients  Require 128-bit encryption",
        );
        assert_eq!(
            mask(&s),
            (
                0x2000_0000,
                Some(PolicyValue::NtlmMinClientSec),
                InputForm::PolicyText
            )
        );
    }

    #[test]
    fn rsop_title_then_setting_on_the_next_line() {
        let paste = "    Policy:  Network security: Minimum session security for NTLM SSP based \
                     (including secure RPC) servers\n    Computer Setting:  Require NTLMv2 session \
                     security,Require 128-bit encryption\n";
        let s = one(paste);
        assert_eq!(s.line, 1);
        assert_eq!(
            mask(&s),
            (
                0x2008_0000,
                Some(PolicyValue::NtlmMinServerSec),
                InputForm::PolicyText
            )
        );
    }

    #[test]
    fn gpresult_key_name_and_value() {
        let paste = "        GPO: Default Domain Policy\n\
                     \x20           KeyName:     MACHINE\\System\\CurrentControlSet\\Control\\Lsa\\MSV1_0\\NTLMMinServerSec\n\
                     \x20           Value:       537395200\n\
                     \x20           State:       Enabled\n";
        let s = one(paste);
        assert_eq!(
            mask(&s),
            (
                0x2008_0000,
                Some(PolicyValue::NtlmMinServerSec),
                InputForm::Line(LineForm::Gpresult)
            )
        );
        assert!(!s.misplaced);
        assert_eq!(s.line, 3);
        assert_eq!(
            s.text,
            r"KeyName: MACHINE\System\CurrentControlSet\Control\Lsa\MSV1_0\NTLMMinServerSec  Value: 537395200"
        );
    }

    #[test]
    fn lm_compatibility_level_in_every_form() {
        for (paste, want, form) in [
            (
                r#""LmCompatibilityLevel"=dword:00000005"#,
                5,
                InputForm::Line(LineForm::RegFile),
            ),
            (
                "    LmCompatibilityLevel    REG_DWORD    0x5",
                5,
                InputForm::Line(LineForm::RegQuery),
            ),
            (
                r"MACHINE\System\CurrentControlSet\Control\Lsa\LmCompatibilityLevel=4,5",
                5,
                InputForm::Line(LineForm::Secedit),
            ),
            (
                "Network security: LAN Manager authentication level  Send NTLMv2 response only. \
                 Refuse LM & NTLM",
                5,
                InputForm::PolicyText,
            ),
            (
                "Network security: LAN Manager authentication level\tSend NTLMv2 response \
                 only\\refuse LM",
                4,
                InputForm::PolicyText,
            ),
            ("Send NTLM response only", 2, InputForm::Name),
            ("level 3", 3, InputForm::Decimal),
        ] {
            assert_eq!(level(&one(paste)), (want, form), "{paste}");
        }
    }

    #[test]
    fn single_values_read_as_before() {
        for input in [
            "0x20080000",
            "537395200",
            "dword:20080000",
            "require_128bit_encryption,require_NTLMv2_session_security",
            r"MACHINE\System\CurrentControlSet\Control\Lsa\MSV1_0\NTLMMinClientSec=4,537395200",
        ] {
            let s = one(input);
            let want = MinSessionSecurity::parse(input).unwrap();
            assert_eq!(s.setting, Setting::MinSessionSecurity(want), "{input}");
            assert_eq!((s.line, s.text.as_str()), (1, input.trim()));
        }
    }

    #[test]
    fn errors_name_line_and_column() {
        let paste = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0\n    \
                     NtlmMinServerSec    REG_DWORD    0x2008zz00\n";
        let e = read_settings(paste).unwrap_err();
        assert_eq!(e.position(), Some((2, 38)));
        let text = e.to_string();
        assert!(
            text.starts_with("line 2, column 38: cannot read \"NtlmMinServerSec"),
            "{text}"
        );
        assert!(text.contains("not a hexadecimal number"), "{text}");

        let e = read_settings("0x20080000\nRequire 256-bit encryption").unwrap_err();
        assert_eq!(e.position(), Some((2, 1)));
        assert!(
            e.to_string().contains("neither a number nor a known name"),
            "{e}"
        );

        let e =
            read_settings("Network security: LAN Manager authentication level: Send NTLMv3 only")
                .unwrap_err();
        assert_eq!(e.position(), Some((1, 53)), "{e}");

        let e = read_settings(
            "Network security: Minimum session security for NTLM SSP based (including secure \
             RPC) servers   Not Defined",
        )
        .unwrap_err();
        assert!(e.problem().contains("Not Defined"), "{e}");

        let e = read_settings(r#""AuditBaseObjects"=dword:00000002"#).unwrap_err();
        assert_eq!(e.position(), Some((1, 2)));
        assert!(e.problem().contains("not NtlmMinClientSec"), "{e}");

        let e = read_settings("HKLM\\SYSTEM\\X\n    Other    REG_DWORD    0x1").unwrap_err();
        assert!(e.problem().contains("no line sets"), "{e}");
        assert_eq!(e.position(), Some((2, 1)));

        let e = read_settings(
            "Network security: Minimum session security for NTLM SSP based (including secure \
             RPC) clients",
        )
        .unwrap_err();
        assert!(e.problem().contains("no option text"), "{e}");
        assert!(
            read_settings("  \n ")
                .unwrap_err()
                .problem()
                .contains("empty")
        );
    }

    fn binding(s: &PastedSetting) -> BindingSetting {
        match s.setting {
            Setting::Binding(b) => b,
            _ => panic!("not a channel-binding setting: {s:?}"),
        }
    }

    #[test]
    fn channel_binding_settings_in_every_form() {
        use crate::binding::{
            ExtendedProtection, LdapChannelBinding, LdapSigning, SmbNameHardening,
        };
        let always = BindingSetting::LdapChannelBinding(LdapChannelBinding::Always);
        for input in [
            "LdapEnforceChannelBinding    REG_DWORD    0x2",
            "\"LdapEnforceChannelBinding\"=dword:00000002",
            r"MACHINE\System\CurrentControlSet\Services\NTDS\Parameters\LdapEnforceChannelBinding=4,2",
            r"reg add HKLM\System\CurrentControlSet\Services\NTDS\Parameters /v LdapEnforceChannelBinding /t REG_DWORD /d 2 /f",
            "Domain controller: LDAP server channel binding token requirements: Always",
            "Domain controller: LDAP server channel binding token requirements\n    Always",
        ] {
            assert_eq!(binding(&one(input)), always, "{input:?}");
        }
        assert_eq!(
            binding(&one(
                "Domain controller: LDAP server signing requirements\tRequire signing"
            )),
            BindingSetting::LdapSigning(LdapSigning::Require)
        );
        assert_eq!(
            binding(&one("LDAPServerIntegrity : 2")),
            BindingSetting::LdapSigning(LdapSigning::Require)
        );
        assert_eq!(
            binding(&one(
                "Microsoft network server: Server SPN target name validation level  Accept if provided by client"
            )),
            BindingSetting::SmbNameHardening(SmbNameHardening::IfProvided)
        );
        assert_eq!(
            binding(&one(
                r#"<extendedProtection tokenChecking="Require" flags="None" />"#
            )),
            BindingSetting::ExtendedProtection(ExtendedProtection::Require)
        );
        assert_eq!(
            binding(&one("Extended Protection: Accept")),
            BindingSetting::ExtendedProtection(ExtendedProtection::Allow)
        );
        // gpresult /z
        let g = read_settings(
            "KeyName: MACHINE\\System\\CurrentControlSet\\Services\\LanmanServer\\Parameters\\SmbServerNameHardeningLevel\nValue: 2",
        )
        .unwrap();
        assert_eq!(
            binding(&g.settings[0]),
            BindingSetting::SmbNameHardening(SmbNameHardening::Required)
        );
        assert!(!g.settings[0].misplaced);
    }

    #[test]
    fn channel_binding_settings_beside_the_masks_and_misplaced() {
        let p = read_settings(
            "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0]\n\
             \"NtlmMinServerSec\"=dword:20080000\n\
             \"LdapEnforceChannelBinding\"=dword:00000001\n\
             [HKEY_LOCAL_MACHINE\\System\\CurrentControlSet\\Services\\NTDS\\Parameters]\n\
             \"LDAPServerIntegrity\"=dword:00000002\n",
        )
        .unwrap();
        assert_eq!(p.settings.len(), 3);
        assert!(
            p.settings[1].misplaced,
            "LdapEnforceChannelBinding under MSV1_0"
        );
        assert!(!p.settings[2].misplaced);
    }

    #[test]
    fn channel_binding_errors_name_line_and_column() {
        let e = read_settings("x=1\nLdapEnforceChannelBinding    REG_DWORD    0x7").unwrap_err();
        assert_eq!(e.position().map(|p| p.0), Some(2));
        assert!(e.problem().contains("LdapEnforceChannelBinding 7"), "{e}");
        let e = read_settings(
            "Domain controller: LDAP server channel binding token requirements: Sometimes",
        )
        .unwrap_err();
        assert_eq!(e.position(), Some((1, 68)));
        assert!(e.problem().contains("Sometimes"), "{e}");
        let e = read_settings("Microsoft network server: Server SPN target name validation level")
            .unwrap_err();
        assert!(e.problem().contains("no option text"), "{e}");
    }
}
