//! Channel binding, target-name validation and LDAP signing: the server
//! settings baselines set beside NtlmMinServerSec, and what each one asks of
//! an NTLM exchange over which carrier.
//!
//! | Setting | Where | Values | Rule ids |
//! |---|---|---|---|
//! | IIS Extended Protection | `applicationHost.config` `<extendedProtection tokenChecking=…>`, IIS Manager | Off (`None`), Accept (`Allow`), Required (`Require`) | `epa-allow`, `epa-require` |
//! | `LdapEnforceChannelBinding` | `HKLM\System\CurrentControlSet\Services\NTDS\Parameters`; "Domain controller: LDAP server channel binding token requirements" | 0 Never, 1 When supported, 2 Always | `ldap-cbt-when-supported`, `ldap-cbt-always` |
//! | `LDAPServerIntegrity` | same key; "Domain controller: LDAP server signing requirements" | 1 None, 2 Require signing | `ldap-signing-required` |
//! | `SmbServerNameHardeningLevel` | `HKLM\System\CurrentControlSet\Services\LanmanServer\Parameters`; "Microsoft network server: Server SPN target name validation level" | 0 Off, 1 Accept if provided by client, 2 Required from client | `smb-spn-if-provided`, `smb-spn-required` |
//!
//! Channel bindings apply only over TLS (`cbt-tls-only`): an HTTP, LDAP or
//! SMB connection without TLS has no channel to bind to. [`BindingPolicy::checks`]
//! turns the settings and a [`Carrier`] into the checks a server applies
//! ([`Checks`]); the session layer applies them to the AUTHENTICATE.

use alloc::format;
use alloc::string::String;

use ntlm_wire::NegotiateFlags;

use crate::failure::{Detail, Failure, Side, Stage};
use crate::parse::{self, strip_prefix_ci};
use crate::rules::{self, Rule};

/// What carries the NTLM messages: decides which settings apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Carrier {
    /// HTTP without TLS.
    Http,
    /// HTTP over TLS.
    Https,
    /// LDAP without TLS (SASL bind on port 389).
    Ldap,
    /// LDAP over TLS (LDAPS on 636, or StartTLS).
    Ldaps,
    /// SMB 1/2/3 session setup.
    Smb,
    /// Any other carrier (DCE/RPC, SMTP, a bare exchange): none of these settings applies.
    #[default]
    Other,
}

impl Carrier {
    /// Every carrier, for `--help` and the matrix.
    pub const ALL: [Self; 6] = [
        Self::Http,
        Self::Https,
        Self::Ldap,
        Self::Ldaps,
        Self::Smb,
        Self::Other,
    ];

    /// Lower-case name: `http`, `https`, `ldap`, `ldaps`, `smb`, `other`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
            Self::Ldap => "ldap",
            Self::Ldaps => "ldaps",
            Self::Smb => "smb",
            Self::Other => "other",
        }
    }

    /// Looks a carrier up by name, ignoring ASCII case.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Whether the carrier runs over TLS (so channel bindings exist).
    pub const fn tls(self) -> bool {
        matches!(self, Self::Https | Self::Ldaps)
    }
}

/// IIS Extended Protection (`tokenChecking`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ExtendedProtection {
    /// `None` (IIS Manager "Off"): bindings are not checked. The IIS default.
    #[default]
    Off,
    /// `Allow` (IIS Manager "Accept"): checked when the client sends them.
    Allow,
    /// `Require` (IIS Manager "Required"): the client must send matching bindings.
    Require,
}

impl ExtendedProtection {
    /// The `tokenChecking` attribute value: `None`, `Allow`, `Require`.
    pub const fn token_checking(self) -> &'static str {
        match self {
            Self::Off => "None",
            Self::Allow => "Allow",
            Self::Require => "Require",
        }
    }

    /// Reads a `tokenChecking` value or an IIS Manager option ("Off",
    /// "Accept", "Required"), ignoring case.
    pub fn parse(text: &str) -> Result<Self, String> {
        match parse::squash(text).as_str() {
            "none" | "off" | "0" => Ok(Self::Off),
            "allow" | "accept" | "1" => Ok(Self::Allow),
            "require" | "required" | "2" => Ok(Self::Require),
            _ => Err(format!(
                "{:?} is not an Extended Protection setting (None/Off, Allow/Accept, Require/Required)",
                text.trim()
            )),
        }
    }
}

/// `LdapEnforceChannelBinding` (KB4034879).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LdapChannelBinding {
    /// 0, "Never": no validation. The default.
    #[default]
    Never,
    /// 1, "When supported": clients that send bindings must send the right ones.
    WhenSupported,
    /// 2, "Always": every bind over TLS must carry matching bindings.
    Always,
}

impl LdapChannelBinding {
    /// The registry value.
    pub const fn registry_value(self) -> u32 {
        match self {
            Self::Never => 0,
            Self::WhenSupported => 1,
            Self::Always => 2,
        }
    }

    /// Reads a registry value.
    pub fn from_registry(v: u32) -> Result<Self, String> {
        match v {
            0 => Ok(Self::Never),
            1 => Ok(Self::WhenSupported),
            2 => Ok(Self::Always),
            _ => Err(format!(
                "LdapEnforceChannelBinding {v} is none of 0 (Never), 1 (When supported), 2 (Always)"
            )),
        }
    }

    /// Reads the Group Policy option text ("Never", "When supported", "Always").
    pub fn parse_option(text: &str) -> Result<Self, String> {
        match parse::squash(text).as_str() {
            "never" => Ok(Self::Never),
            "whensupported" => Ok(Self::WhenSupported),
            "always" => Ok(Self::Always),
            _ => Err(format!(
                "{:?} is not an LDAP channel binding option (Never, When supported, Always)",
                text.trim()
            )),
        }
    }

    /// The Group Policy option text.
    pub const fn option(self) -> &'static str {
        match self {
            Self::Never => "Never",
            Self::WhenSupported => "When supported",
            Self::Always => "Always",
        }
    }
}

/// `LDAPServerIntegrity` ("Domain controller: LDAP server signing requirements").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LdapSigning {
    /// 1, "None": signing is not required. The default.
    #[default]
    None,
    /// 2, "Require signing".
    Require,
}

impl LdapSigning {
    /// The registry value.
    pub const fn registry_value(self) -> u32 {
        match self {
            Self::None => 1,
            Self::Require => 2,
        }
    }

    /// Reads a registry value. 0 is read as None: only 2 is documented to
    /// require signing (inference; the documentation lists 1 and 2).
    pub fn from_registry(v: u32) -> Result<Self, String> {
        match v {
            0 | 1 => Ok(Self::None),
            2 => Ok(Self::Require),
            _ => Err(format!(
                "LDAPServerIntegrity {v} is none of 1 (None), 2 (Require signing)"
            )),
        }
    }

    /// Reads the Group Policy option text ("None", "Require signing").
    pub fn parse_option(text: &str) -> Result<Self, String> {
        match parse::squash(text).as_str() {
            "none" => Ok(Self::None),
            "requiresigning" | "require" => Ok(Self::Require),
            _ => Err(format!(
                "{:?} is not an LDAP server signing option (None, Require signing)",
                text.trim()
            )),
        }
    }

    /// The Group Policy option text.
    pub const fn option(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::Require => "Require signing",
        }
    }
}

/// `SmbServerNameHardeningLevel` ("Microsoft network server: Server SPN
/// target name validation level").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SmbNameHardening {
    /// 0, "Off": not checked. The default.
    #[default]
    Off,
    /// 1, "Accept if provided by client".
    IfProvided,
    /// 2, "Required from client".
    Required,
}

impl SmbNameHardening {
    /// The registry value.
    pub const fn registry_value(self) -> u32 {
        match self {
            Self::Off => 0,
            Self::IfProvided => 1,
            Self::Required => 2,
        }
    }

    /// Reads a registry value.
    pub fn from_registry(v: u32) -> Result<Self, String> {
        match v {
            0 => Ok(Self::Off),
            1 => Ok(Self::IfProvided),
            2 => Ok(Self::Required),
            _ => Err(format!(
                "SmbServerNameHardeningLevel {v} is none of 0 (Off), 1 (Accept if provided by \
                 client), 2 (Required from client)"
            )),
        }
    }

    /// Reads the Group Policy option text (the current and the older wording).
    pub fn parse_option(text: &str) -> Result<Self, String> {
        match parse::squash(text).as_str() {
            "off" | "novalidation" => Ok(Self::Off),
            "acceptifprovidedbyclient" | "validateifprovidedbyclient" => Ok(Self::IfProvided),
            "requiredfromclient" | "requirematchfromclient" => Ok(Self::Required),
            _ => Err(format!(
                "{:?} is not an SPN target name validation option (Off, Accept if provided by \
                 client, Required from client)",
                text.trim()
            )),
        }
    }

    /// The Group Policy option text.
    pub const fn option(self) -> &'static str {
        match self {
            Self::Off => "Off",
            Self::IfProvided => "Accept if provided by client",
            Self::Required => "Required from client",
        }
    }
}

/// One of the settings of this module, as pasted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BindingSetting {
    /// IIS Extended Protection.
    ExtendedProtection(ExtendedProtection),
    /// `LdapEnforceChannelBinding`.
    LdapChannelBinding(LdapChannelBinding),
    /// `LDAPServerIntegrity`.
    LdapSigning(LdapSigning),
    /// `SmbServerNameHardeningLevel`.
    SmbNameHardening(SmbNameHardening),
}

/// Registry key of the LDAP settings on a domain controller (KB4034879).
pub const NTDS_KEY: &str = r"HKEY_LOCAL_MACHINE\System\CurrentControlSet\Services\NTDS\Parameters";
/// Registry key of `SmbServerNameHardeningLevel`.
pub const LANMAN_SERVER_KEY: &str =
    r"HKEY_LOCAL_MACHINE\System\CurrentControlSet\Services\LanmanServer\Parameters";

/// The registry value names of this module.
pub const REGISTRY_NAMES: [&str; 3] = [
    "LdapEnforceChannelBinding",
    "LDAPServerIntegrity",
    "SmbServerNameHardeningLevel",
];

impl BindingSetting {
    /// The setting's name: the registry value, or `extendedProtection` for IIS.
    pub const fn name(self) -> &'static str {
        match self {
            Self::ExtendedProtection(_) => "extendedProtection",
            Self::LdapChannelBinding(_) => "LdapEnforceChannelBinding",
            Self::LdapSigning(_) => "LDAPServerIntegrity",
            Self::SmbNameHardening(_) => "SmbServerNameHardeningLevel",
        }
    }

    /// The Group Policy (or IIS) title.
    pub const fn title(self) -> &'static str {
        match self {
            Self::ExtendedProtection(_) => "IIS Windows Authentication: Extended Protection",
            Self::LdapChannelBinding(_) => {
                "Domain controller: LDAP server channel binding token requirements"
            }
            Self::LdapSigning(_) => "Domain controller: LDAP server signing requirements",
            Self::SmbNameHardening(_) => {
                "Microsoft network server: Server SPN target name validation level"
            }
        }
    }

    /// The value as an option text ("Always", "Require", ...).
    pub const fn option(self) -> &'static str {
        match self {
            Self::ExtendedProtection(e) => e.token_checking(),
            Self::LdapChannelBinding(l) => l.option(),
            Self::LdapSigning(l) => l.option(),
            Self::SmbNameHardening(s) => s.option(),
        }
    }

    /// The registry value, for the settings that are one.
    pub const fn registry_value(self) -> Option<u32> {
        match self {
            Self::ExtendedProtection(_) => None,
            Self::LdapChannelBinding(l) => Some(l.registry_value()),
            Self::LdapSigning(l) => Some(l.registry_value()),
            Self::SmbNameHardening(s) => Some(s.registry_value()),
        }
    }

    /// Where Windows reads the value from (None for IIS, a configuration file).
    pub const fn key(self) -> Option<&'static str> {
        match self {
            Self::ExtendedProtection(_) => None,
            Self::LdapChannelBinding(_) | Self::LdapSigning(_) => Some(NTDS_KEY),
            Self::SmbNameHardening(_) => Some(LANMAN_SERVER_KEY),
        }
    }

    /// Every key Windows reads the setting from ([`Self::key`] as a list).
    pub const fn keys(self) -> &'static [&'static str] {
        match self {
            Self::ExtendedProtection(_) => &[],
            Self::LdapChannelBinding(_) | Self::LdapSigning(_) => &[NTDS_KEY],
            Self::SmbNameHardening(_) => &[LANMAN_SERVER_KEY],
        }
    }

    /// The carriers the setting acts on.
    pub const fn carriers(self) -> &'static [Carrier] {
        match self {
            Self::ExtendedProtection(_) => &[Carrier::Https],
            Self::LdapChannelBinding(_) => &[Carrier::Ldaps],
            Self::LdapSigning(_) => &[Carrier::Ldap],
            Self::SmbNameHardening(_) => &[Carrier::Smb],
        }
    }

    /// What the value does, in one sentence.
    pub const fn meaning(self) -> &'static str {
        match self {
            Self::ExtendedProtection(ExtendedProtection::Off)
            | Self::LdapChannelBinding(LdapChannelBinding::Never) => {
                "channel bindings are not checked"
            }
            Self::ExtendedProtection(ExtendedProtection::Allow)
            | Self::LdapChannelBinding(LdapChannelBinding::WhenSupported) => {
                "over TLS, non-zero MsvAvChannelBindings must match the channel; clients that \
                 send none still log on"
            }
            Self::ExtendedProtection(ExtendedProtection::Require)
            | Self::LdapChannelBinding(LdapChannelBinding::Always) => {
                "over TLS, every client must send MsvAvChannelBindings matching the channel; \
                 clients that send none are refused"
            }
            Self::LdapSigning(LdapSigning::None) => "LDAP binds need not be signed",
            Self::LdapSigning(LdapSigning::Require) => {
                "an NTLM bind over LDAP without TLS must negotiate SIGN or SEAL"
            }
            Self::SmbNameHardening(SmbNameHardening::Off) => "MsvAvTargetName is not checked",
            Self::SmbNameHardening(SmbNameHardening::IfProvided) => {
                "a non-empty MsvAvTargetName must name this server; clients that send none \
                 still log on"
            }
            Self::SmbNameHardening(SmbNameHardening::Required) => {
                "every client must send MsvAvTargetName naming this server"
            }
        }
    }

    /// The rules the value turns on (empty when it turns nothing on).
    pub fn rules(self) -> &'static [&'static Rule] {
        match self {
            Self::ExtendedProtection(ExtendedProtection::Off)
            | Self::LdapChannelBinding(LdapChannelBinding::Never)
            | Self::LdapSigning(LdapSigning::None)
            | Self::SmbNameHardening(SmbNameHardening::Off) => &[],
            Self::ExtendedProtection(ExtendedProtection::Allow) => &EPA_ALLOW_RULES,
            Self::ExtendedProtection(ExtendedProtection::Require) => &EPA_REQUIRE_RULES,
            Self::LdapChannelBinding(LdapChannelBinding::WhenSupported) => {
                &LDAP_CBT_WHEN_SUPPORTED_RULES
            }
            Self::LdapChannelBinding(LdapChannelBinding::Always) => &LDAP_CBT_ALWAYS_RULES,
            Self::LdapSigning(LdapSigning::Require) => &LDAP_SIGNING_RULES,
            Self::SmbNameHardening(SmbNameHardening::IfProvided) => &SMB_SPN_IF_PROVIDED_RULES,
            Self::SmbNameHardening(SmbNameHardening::Required) => &SMB_SPN_REQUIRED_RULES,
        }
    }

    /// The setting with this registry value name and value, when the name is
    /// one of [`REGISTRY_NAMES`]; `None` for another name.
    pub fn from_registry(name: &str, value: u32) -> Option<Result<Self, String>> {
        let name = name.trim();
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        if is("LdapEnforceChannelBinding") {
            Some(LdapChannelBinding::from_registry(value).map(Self::LdapChannelBinding))
        } else if is("LDAPServerIntegrity") {
            Some(LdapSigning::from_registry(value).map(Self::LdapSigning))
        } else if is("SmbServerNameHardeningLevel") {
            Some(SmbNameHardening::from_registry(value).map(Self::SmbNameHardening))
        } else {
            None
        }
    }
}

static EPA_ALLOW_RULES: [&Rule; 2] = [&rules::EPA_ALLOW, &rules::CBT_TLS_ONLY];
static EPA_REQUIRE_RULES: [&Rule; 2] = [&rules::EPA_REQUIRE, &rules::CBT_TLS_ONLY];
static LDAP_CBT_WHEN_SUPPORTED_RULES: [&Rule; 2] =
    [&rules::LDAP_CBT_WHEN_SUPPORTED, &rules::CBT_TLS_ONLY];
static LDAP_CBT_ALWAYS_RULES: [&Rule; 2] = [&rules::LDAP_CBT_ALWAYS, &rules::CBT_TLS_ONLY];
static LDAP_SIGNING_RULES: [&Rule; 1] = [&rules::LDAP_SIGNING_REQUIRED];
static SMB_SPN_IF_PROVIDED_RULES: [&Rule; 1] = [&rules::SMB_SPN_IF_PROVIDED];
static SMB_SPN_REQUIRED_RULES: [&Rule; 1] = [&rules::SMB_SPN_REQUIRED];

/// Which Group Policy (or IIS) title a line names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BindingTitle {
    Epa,
    LdapCbt,
    LdapSigning,
    SmbSpn,
}

impl BindingTitle {
    /// Reads the option text after the title.
    pub(crate) fn option(self, text: &str) -> Result<BindingSetting, String> {
        match self {
            Self::Epa => ExtendedProtection::parse(text).map(BindingSetting::ExtendedProtection),
            Self::LdapCbt => {
                LdapChannelBinding::parse_option(text).map(BindingSetting::LdapChannelBinding)
            }
            Self::LdapSigning => LdapSigning::parse_option(text).map(BindingSetting::LdapSigning),
            Self::SmbSpn => {
                SmbNameHardening::parse_option(text).map(BindingSetting::SmbNameHardening)
            }
        }
    }
}

/// A Group Policy or IIS title in `lower` (the line in ASCII lower case):
/// which one, and the byte offset just after it.
pub(crate) fn title_in(lower: &str) -> Option<(BindingTitle, usize)> {
    const TITLES: [(&str, BindingTitle); 5] = [
        (
            "ldap server channel binding token requirements",
            BindingTitle::LdapCbt,
        ),
        (
            "ldap server signing requirements",
            BindingTitle::LdapSigning,
        ),
        (
            "server spn target name validation level",
            BindingTitle::SmbSpn,
        ),
        // IIS Manager: "Extended Protection: Required" (Windows Authentication, Advanced Settings).
        ("extended protection", BindingTitle::Epa),
        // appcmd: /extendedProtection.tokenChecking:Require
        ("extendedprotection.tokenchecking", BindingTitle::Epa),
    ];
    TITLES
        .iter()
        .find_map(|(t, which)| lower.find(t).map(|at| (*which, at.saturating_add(t.len()))))
}

/// An IIS `tokenChecking="Require"` attribute anywhere in `line`
/// (`applicationHost.config`, `web.config`): the setting and the 1-based
/// column of its value.
pub(crate) fn token_checking_attribute(
    line: &str,
) -> Option<(Result<BindingSetting, String>, usize)> {
    let lower = line.to_ascii_lowercase();
    let at = lower.find("tokenchecking")?;
    let after = line.get(at.saturating_add("tokenchecking".len())..)?;
    let after = after.trim_start().strip_prefix('=')?.trim_start();
    let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = after.get(1..)?;
    let value = inner.split(quote).next().unwrap_or("");
    let col = line
        .find(value)
        .filter(|_| !value.is_empty())
        .map_or(at, |c| c)
        .saturating_add(1);
    Some((
        ExtendedProtection::parse(value).map(BindingSetting::ExtendedProtection),
        col,
    ))
}

/// The per-carrier checks a server with a [`BindingPolicy`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checks {
    /// Channel-binding check, with the rule a failure names.
    pub channel_bindings: Option<(CbtCheck, &'static Rule)>,
    /// Target-name check, with the rule a failure names.
    pub target_name: Option<(TargetNameCheck, &'static Rule)>,
    /// The rule that requires SIGN or SEAL to be negotiated, when one does.
    pub require_sign_or_seal: Option<&'static Rule>,
}

/// How MsvAvChannelBindings is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CbtCheck {
    /// A non-zero value must match; absent or zero is accepted.
    WhenSupplied,
    /// A value that is present, all-zero included, must match; an absent
    /// pair is accepted ([`ZeroBindings::Refused`]).
    WhenPresent,
    /// A non-zero matching value is required.
    Required,
}

/// How MsvAvTargetName is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetNameCheck {
    /// A non-empty name must match; absent or empty is accepted.
    IfProvided,
    /// A matching name is required.
    Required,
}

/// How a server whose bindings are checked "when supported" (IIS Accept,
/// LdapEnforceChannelBinding 1) reads an all-zero MsvAvChannelBindings, the
/// value a client sends when its application supplies no bindings.
///
/// MS-NLMP 3.2.5.1.2 checks only a *non-zero* value. Three public reports
/// disagree for IIS Extended Protection Accept over HTTPS: Windows curl
/// with SSPI but without Schannel bindings (curl/curl#3280, curl/curl#12511)
/// and gss-ntlmssp without application bindings (gssapi/gss-ntlmssp#25)
/// send an all-zero pair and get 401, while curl's own NTLM code, which
/// sends no pair at all, logs on (curl/curl#3280). The same SSPI check is
/// assumed on a domain controller (inference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ZeroBindings {
    /// A present all-zero value must match like any other (so it fails
    /// over TLS); an absent pair is accepted. Default: the field reports.
    #[default]
    Refused,
    /// An all-zero value counts as no bindings and is accepted (MS-NLMP
    /// 3.2.5.1.2 as written).
    Accepted,
}

impl ZeroBindings {
    /// `refused` or `accepted`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Refused => "refused",
            Self::Accepted => "accepted",
        }
    }

    /// Looks a reading up by name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Refused, Self::Accepted]
            .into_iter()
            .find(|z| z.name().eq_ignore_ascii_case(name.trim()))
    }
}

/// The settings of this module on one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct BindingPolicy {
    /// IIS Extended Protection.
    pub extended_protection: ExtendedProtection,
    /// `LdapEnforceChannelBinding`.
    pub ldap_channel_binding: LdapChannelBinding,
    /// `LDAPServerIntegrity`.
    pub ldap_signing: LdapSigning,
    /// `SmbServerNameHardeningLevel`.
    pub smb_name_hardening: SmbNameHardening,
    /// How an all-zero MsvAvChannelBindings is read when bindings are
    /// checked "when supported" (the switch `--zero-channel-bindings`).
    pub zero_bindings: ZeroBindings,
}

impl BindingPolicy {
    /// Sets one pasted setting.
    pub fn set(&mut self, s: BindingSetting) {
        match s {
            BindingSetting::ExtendedProtection(e) => self.extended_protection = e,
            BindingSetting::LdapChannelBinding(l) => self.ldap_channel_binding = l,
            BindingSetting::LdapSigning(l) => self.ldap_signing = l,
            BindingSetting::SmbNameHardening(n) => self.smb_name_hardening = n,
        }
    }

    /// Whether no setting checks anything on any carrier.
    pub fn is_default(&self) -> bool {
        Self {
            zero_bindings: ZeroBindings::default(),
            ..*self
        } == Self::default()
    }

    /// The checks a server applies to an exchange over `carrier`.
    pub const fn checks(&self, carrier: Carrier) -> Checks {
        let when_supported = match self.zero_bindings {
            ZeroBindings::Refused => CbtCheck::WhenPresent,
            ZeroBindings::Accepted => CbtCheck::WhenSupplied,
        };
        let channel_bindings = match carrier {
            Carrier::Https => match self.extended_protection {
                ExtendedProtection::Off => None,
                ExtendedProtection::Allow => Some((when_supported, &rules::EPA_ALLOW)),
                ExtendedProtection::Require => Some((CbtCheck::Required, &rules::EPA_REQUIRE)),
            },
            Carrier::Ldaps => match self.ldap_channel_binding {
                LdapChannelBinding::Never => None,
                LdapChannelBinding::WhenSupported => {
                    Some((when_supported, &rules::LDAP_CBT_WHEN_SUPPORTED))
                }
                LdapChannelBinding::Always => Some((CbtCheck::Required, &rules::LDAP_CBT_ALWAYS)),
            },
            _ => None,
        };
        let target_name = match (carrier, self.smb_name_hardening) {
            (Carrier::Smb, SmbNameHardening::IfProvided) => {
                Some((TargetNameCheck::IfProvided, &rules::SMB_SPN_IF_PROVIDED))
            }
            (Carrier::Smb, SmbNameHardening::Required) => {
                Some((TargetNameCheck::Required, &rules::SMB_SPN_REQUIRED))
            }
            _ => None,
        };
        let require_sign_or_seal = match (carrier, self.ldap_signing) {
            (Carrier::Ldap, LdapSigning::Require) => Some(&rules::LDAP_SIGNING_REQUIRED),
            _ => None,
        };
        Checks {
            channel_bindings,
            target_name,
            require_sign_or_seal,
        }
    }

    /// The settings that differ from the defaults, as `name=option` words.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let mut push = |s: BindingSetting, default: bool| {
            if !default {
                if !out.is_empty() {
                    out.push_str(", ");
                }
                out.push_str(&format!("{}={}", s.name(), s.option()));
            }
        };
        push(
            BindingSetting::ExtendedProtection(self.extended_protection),
            self.extended_protection == ExtendedProtection::Off,
        );
        push(
            BindingSetting::LdapChannelBinding(self.ldap_channel_binding),
            self.ldap_channel_binding == LdapChannelBinding::Never,
        );
        push(
            BindingSetting::LdapSigning(self.ldap_signing),
            self.ldap_signing == LdapSigning::None,
        );
        push(
            BindingSetting::SmbNameHardening(self.smb_name_hardening),
            self.smb_name_hardening == SmbNameHardening::Off,
        );
        out
    }
}

/// What an AUTHENTICATE carried as MsvAvChannelBindings, as far as a
/// judgement without the channel can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BindingsSeen {
    /// No MsvAvChannelBindings (or no NTLMv2 response at all).
    Absent,
    /// An all-zero value: the client had no bindings.
    Zero,
    /// A non-zero value, taken to be the channel's (the client saw the channel).
    Bound,
    /// A non-zero value that is not the channel's.
    Wrong,
}

impl BindingsSeen {
    /// `absent`, `zero`, `present` or `wrong`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Absent => "absent",
            Self::Zero => "zero",
            Self::Bound => "present",
            Self::Wrong => "wrong",
        }
    }
}

/// What an AUTHENTICATE carried as MsvAvTargetName.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetNameSeen {
    /// No MsvAvTargetName (or no NTLMv2 response at all).
    Absent,
    /// An empty name.
    Empty,
    /// The server's name.
    Named,
    /// Another server's name.
    Wrong,
    /// MsvAvFlags 0x4: the client says its SPN is untrusted; not checked (MS-NLMP 3.2.5.1.2).
    Untrusted,
}

/// The failures `checks` produce for what an AUTHENTICATE carried and the
/// flags negotiated: the channel-binding or target-name failure (checked
/// before the MIC, MS-NLMP 3.2.5.1.2) and the signing failure (checked
/// once the logon verified). The session layer decides the same from the
/// bytes; the flags-only engine and `audit` decide from this.
pub fn judge(
    checks: &Checks,
    bindings: BindingsSeen,
    name: TargetNameSeen,
    flags: NegotiateFlags,
) -> (Option<Failure>, Option<Failure>) {
    let fail =
        |rule, note| Failure::new(Side::Server, Stage::Authenticate, rule, Detail::Note(note));
    let mismatch = "MsvAvChannelBindings does not match the channel";
    let bound = checks
        .channel_bindings
        .and_then(|(check, rule)| match (check, bindings) {
            (_, BindingsSeen::Wrong) | (CbtCheck::WhenPresent, BindingsSeen::Zero) => {
                Some(fail(rule, mismatch))
            }
            (CbtCheck::Required, BindingsSeen::Absent | BindingsSeen::Zero) => Some(fail(
                rule,
                "channel bindings are required but absent or zero",
            )),
            _ => None,
        });
    let named = checks
        .target_name
        .and_then(|(check, rule)| match (check, name) {
            (_, TargetNameSeen::Named | TargetNameSeen::Untrusted) => None,
            (_, TargetNameSeen::Wrong) => {
                Some(fail(rule, "MsvAvTargetName is not the expected SPN"))
            }
            (TargetNameCheck::IfProvided, _) => None,
            (TargetNameCheck::Required, TargetNameSeen::Empty) => {
                Some(fail(rule, "MsvAvTargetName is not the expected SPN"))
            }
            (TargetNameCheck::Required, TargetNameSeen::Absent) => Some(fail(
                rule,
                "MsvAvTargetName is absent but the server requires it",
            )),
        });
    let signing = checks.require_sign_or_seal.and_then(|rule| {
        (!flags.intersects(NegotiateFlags::NEGOTIATE_SIGN | NegotiateFlags::NEGOTIATE_SEAL)).then(
            || {
                fail(
                    rule,
                    "the bind negotiated neither SIGN nor SEAL and the connection has no TLS",
                )
            },
        )
    });
    (bound.or(named), signing)
}

/// Reads `name` (`extended-protection`, `ldap-channel-binding`,
/// `ldap-signing`, `smb-name-hardening`, or a registry value name) with
/// `value` (a number or an option text): what `--binding NAME=VALUE` takes.
pub fn parse_assignment(text: &str) -> Result<BindingSetting, String> {
    let Some((name, value)) = text.split_once('=') else {
        return Err(format!("{text:?} has no '=': write NAME=VALUE"));
    };
    let number = parse::number(value).ok().map(|(v, _)| v);
    let n = parse::squash(name);
    match n.as_str() {
        "extendedprotection" | "epa" | "tokenchecking" => {
            ExtendedProtection::parse(value).map(BindingSetting::ExtendedProtection)
        }
        "ldapchannelbinding" | "ldapenforcechannelbinding" => match number {
            Some(v) => LdapChannelBinding::from_registry(v),
            None => LdapChannelBinding::parse_option(value),
        }
        .map(BindingSetting::LdapChannelBinding),
        "ldapsigning" | "ldapserverintegrity" => match number {
            Some(v) => LdapSigning::from_registry(v),
            None => LdapSigning::parse_option(value),
        }
        .map(BindingSetting::LdapSigning),
        "smbnamehardening" | "smbservernamehardeninglevel" => match number {
            Some(v) => SmbNameHardening::from_registry(v),
            None => SmbNameHardening::parse_option(value),
        }
        .map(BindingSetting::SmbNameHardening),
        _ => Err(format!(
            "{:?} is not extended-protection, ldap-channel-binding, ldap-signing or \
             smb-name-hardening",
            name.trim()
        )),
    }
}

/// True when `name` starts like one of this module's registry names
/// (used to tell a pasted line apart).
pub(crate) fn is_registry_name(name: &str) -> bool {
    REGISTRY_NAMES
        .iter()
        .any(|n| strip_prefix_ci(name.trim(), n).is_some_and(str::is_empty))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_values_round_trip() {
        for v in 0..3 {
            assert_eq!(
                LdapChannelBinding::from_registry(v)
                    .unwrap()
                    .registry_value(),
                v
            );
            assert_eq!(
                SmbNameHardening::from_registry(v).unwrap().registry_value(),
                v
            );
        }
        assert_eq!(LdapSigning::from_registry(0), Ok(LdapSigning::None));
        assert_eq!(LdapSigning::from_registry(2), Ok(LdapSigning::Require));
        assert!(
            LdapSigning::from_registry(3)
                .unwrap_err()
                .contains("LDAPServerIntegrity 3")
        );
        assert!(LdapChannelBinding::from_registry(7).is_err());
        assert!(SmbNameHardening::from_registry(3).is_err());
    }

    #[test]
    fn option_texts() {
        assert_eq!(
            SmbNameHardening::parse_option("Accept if provided by client"),
            Ok(SmbNameHardening::IfProvided)
        );
        assert_eq!(
            SmbNameHardening::parse_option("Require match from client"),
            Ok(SmbNameHardening::Required)
        );
        assert_eq!(
            LdapChannelBinding::parse_option("When Supported"),
            Ok(LdapChannelBinding::WhenSupported)
        );
        assert_eq!(
            ExtendedProtection::parse("Accept"),
            Ok(ExtendedProtection::Allow)
        );
        assert_eq!(
            ExtendedProtection::parse("None"),
            Ok(ExtendedProtection::Off)
        );
        assert!(ExtendedProtection::parse("Sometimes").is_err());
    }

    #[test]
    fn checks_apply_per_carrier() {
        let p = BindingPolicy {
            extended_protection: ExtendedProtection::Require,
            ldap_channel_binding: LdapChannelBinding::WhenSupported,
            ldap_signing: LdapSigning::Require,
            smb_name_hardening: SmbNameHardening::Required,
            zero_bindings: ZeroBindings::Accepted,
        };
        let https = p.checks(Carrier::Https);
        assert_eq!(
            https.channel_bindings.map(|c| c.0),
            Some(CbtCheck::Required)
        );
        assert_eq!(https.target_name, None);
        assert_eq!(https.require_sign_or_seal, None);
        // No TLS, no channel bindings (cbt-tls-only).
        let http = p.checks(Carrier::Http);
        assert_eq!(http.channel_bindings, None);
        let ldaps = p.checks(Carrier::Ldaps);
        assert_eq!(
            ldaps.channel_bindings.map(|c| c.1.id),
            Some("ldap-cbt-when-supported")
        );
        assert_eq!(ldaps.require_sign_or_seal, None);
        let ldap = p.checks(Carrier::Ldap);
        assert_eq!(ldap.channel_bindings, None);
        assert_eq!(
            ldap.require_sign_or_seal.map(|r| r.id),
            Some("ldap-signing-required")
        );
        let smb = p.checks(Carrier::Smb);
        assert_eq!(
            smb.target_name.map(|t| t.0),
            Some(TargetNameCheck::Required)
        );
        assert_eq!(smb.channel_bindings, None);
        assert_eq!(
            BindingPolicy::default()
                .checks(Carrier::Https)
                .channel_bindings,
            None
        );
    }

    #[test]
    fn assignments() {
        assert_eq!(
            parse_assignment("ldap-channel-binding=2"),
            Ok(BindingSetting::LdapChannelBinding(
                LdapChannelBinding::Always
            ))
        );
        assert_eq!(
            parse_assignment("SmbServerNameHardeningLevel=Accept if provided by client"),
            Ok(BindingSetting::SmbNameHardening(
                SmbNameHardening::IfProvided
            ))
        );
        assert_eq!(
            parse_assignment("extended-protection=require"),
            Ok(BindingSetting::ExtendedProtection(
                ExtendedProtection::Require
            ))
        );
        assert!(
            parse_assignment("ldap-signing")
                .unwrap_err()
                .contains("no '='")
        );
        assert!(
            parse_assignment("frobnicate=1")
                .unwrap_err()
                .contains("frobnicate")
        );
    }

    #[test]
    fn judge_what_was_seen() {
        let p = BindingPolicy {
            extended_protection: ExtendedProtection::Allow,
            smb_name_hardening: SmbNameHardening::Required,
            ldap_signing: LdapSigning::Require,
            ..BindingPolicy::default()
        };
        let none = NegotiateFlags::empty();
        let https = p.checks(Carrier::Https);
        let id = |r: (Option<Failure>, Option<Failure>)| {
            (r.0.map(|f| f.rule.id), r.1.map(|f| f.rule.id))
        };
        assert_eq!(
            id(judge(
                &https,
                BindingsSeen::Absent,
                TargetNameSeen::Absent,
                none
            )),
            (None, None)
        );
        assert_eq!(
            id(judge(
                &https,
                BindingsSeen::Zero,
                TargetNameSeen::Absent,
                none
            )),
            (Some("epa-allow"), None)
        );
        assert_eq!(
            id(judge(
                &https,
                BindingsSeen::Bound,
                TargetNameSeen::Absent,
                none
            )),
            (None, None)
        );
        let smb = p.checks(Carrier::Smb);
        assert_eq!(
            id(judge(&smb, BindingsSeen::Zero, TargetNameSeen::Empty, none)),
            (Some("smb-spn-required"), None)
        );
        assert_eq!(
            id(judge(
                &smb,
                BindingsSeen::Absent,
                TargetNameSeen::Untrusted,
                none
            )),
            (None, None)
        );
        let ldap = p.checks(Carrier::Ldap);
        assert_eq!(
            id(judge(
                &ldap,
                BindingsSeen::Absent,
                TargetNameSeen::Absent,
                none
            )),
            (None, Some("ldap-signing-required"))
        );
        assert_eq!(
            id(judge(
                &ldap,
                BindingsSeen::Absent,
                TargetNameSeen::Absent,
                NegotiateFlags::NEGOTIATE_SEAL
            )),
            (None, None)
        );
    }

    #[test]
    fn token_checking_in_xml() {
        let line = r#"<extendedProtection tokenChecking="Require" flags="None" />"#;
        let (s, col) = token_checking_attribute(line).unwrap();
        assert_eq!(
            s,
            Ok(BindingSetting::ExtendedProtection(
                ExtendedProtection::Require
            ))
        );
        assert_eq!(line.get(col - 1..col + 6), Some("Require"));
        let (bad, _) =
            token_checking_attribute(r#"<extendedProtection tokenChecking="Maybe"/>"#).unwrap();
        assert!(bad.unwrap_err().contains("Maybe"));
    }

    #[test]
    fn every_value_has_a_meaning_and_rules_with_sources() {
        for s in [
            BindingSetting::ExtendedProtection(ExtendedProtection::Allow),
            BindingSetting::ExtendedProtection(ExtendedProtection::Require),
            BindingSetting::LdapChannelBinding(LdapChannelBinding::WhenSupported),
            BindingSetting::LdapChannelBinding(LdapChannelBinding::Always),
            BindingSetting::LdapSigning(LdapSigning::Require),
            BindingSetting::SmbNameHardening(SmbNameHardening::IfProvided),
            BindingSetting::SmbNameHardening(SmbNameHardening::Required),
        ] {
            assert!(!s.meaning().is_empty());
            assert!(!s.rules().is_empty(), "{s:?}");
            for r in s.rules() {
                assert!(rules::ALL.iter().any(|a| a.id == r.id), "{}", r.id);
            }
        }
        assert!(is_registry_name("ldapserverintegrity"));
        assert!(!is_registry_name("LDAPServerIntegrityX"));
    }
}
