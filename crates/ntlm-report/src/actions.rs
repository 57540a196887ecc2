//! What to do about the connections a policy change breaks, for the HTML
//! reports (`interop --html`, `audit --html`).
//!
//! The failures are grouped by cause: which side refuses, on receipt of
//! which message, under which rule, with which bits missing. Each cause
//! lists the hosts on the refusing side and on the other side (the ones
//! that lack what is required), and the ways to remove it that follow from
//! the failure itself: the other side offers the missing bits, or the
//! refusing side's value leaves them out. That value is computed: the
//! configured value without the missing bits, which have the same positions
//! in NtlmMinClientSec/NtlmMinServerSec (KB239869: 0x10, 0x20, 0x80000,
//! 0x20000000, 0x80000000) as in the negotiate flags (MS-NLMP 2.2.2.5:
//! SIGN, SEAL, EXTENDED_SESSIONSECURITY, 128, 56). The hosts in no broken
//! connection, per side the change sets a value on, are where it can be
//! applied first; a ranking says which hosts are in the most broken
//! connections; every list is also given as plain text, one name a line,
//! to paste into a ticket, a group or an exception list.
//!
//! This module does not simulate anything. A caller that can run the
//! relaxed value on a cause's connections (`interop` can; `audit` cannot,
//! it judges captured messages) passes the result as a [`Relaxed`], and
//! the page says how many then work; otherwise the page says the value
//! removes *this* failure only and names the option to run the report
//! again with.

use std::collections::HashMap;

use ntlm_policy::{Detail, Failure, Side};
pub use ntlm_sim::relax::{Cause, Configured, Relaxed, relaxed_value};
use ntlm_wire::NegotiateFlags;

use maud::{Markup, html};
use ntlm_sim::outcome::{hex32, names};

/// Host names shown inline per list; the text box holds them all.
pub const INLINE_HOSTS: usize = 40;

/// Hosts shown in the ranking.
pub const RANKED_HOSTS: usize = 25;

/// One cause and the hosts it breaks.
#[derive(Debug, Clone)]
pub struct Group<'a> {
    /// A failure of this cause (they differ only in the flags evaluated).
    pub failure: Failure,
    /// Broken connections (pairs or exchanges) with this cause.
    pub count: usize,
    /// Hosts on the refusing side, with their count.
    pub refusing: HashMap<&'a str, usize>,
    /// Hosts on the other side, with their count.
    pub other: HashMap<&'a str, usize>,
    /// Profiles of the hosts on the other side.
    pub other_profiles: HashMap<&'a str, usize>,
    /// Users seen in these connections (`DOMAIN\user`), for captures.
    pub users: HashMap<String, usize>,
}

/// One host's share of the broken connections.
#[derive(Debug, Clone, Default)]
pub struct HostLoad<'a> {
    /// Its profile (the closest one, for captured clients).
    pub profile: &'a str,
    /// Broken connections in which it is the client.
    pub as_client: usize,
    /// Broken connections in which it is the server.
    pub as_server: usize,
}

/// The broken connections of a report, grouped for action.
#[derive(Debug, Default)]
pub struct Actions<'a> {
    groups: HashMap<Cause, Group<'a>>,
    hosts: HashMap<&'a str, HostLoad<'a>>,
    total: usize,
    clients: Vec<&'a str>,
    servers: Vec<&'a str>,
}

impl<'a> Actions<'a> {
    /// No broken connection yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one broken connection between `client` and `server` (host
    /// names or addresses) with their profiles.
    pub fn add(
        &mut self,
        client: (&'a str, &'a str),
        server: (&'a str, &'a str),
        failure: &Failure,
    ) {
        self.total += 1;
        let key = Cause::of(failure);
        let (refusing, other) = match failure.side {
            Side::Server => (server, client),
            Side::Client => (client, server),
        };
        let g = self.groups.entry(key).or_insert_with(|| Group {
            failure: *failure,
            count: 0,
            refusing: HashMap::new(),
            other: HashMap::new(),
            other_profiles: HashMap::new(),
            users: HashMap::new(),
        });
        g.count += 1;
        *g.refusing.entry(refusing.0).or_insert(0) += 1;
        *g.other.entry(other.0).or_insert(0) += 1;
        *g.other_profiles.entry(other.1).or_insert(0) += 1;
        let c = self.hosts.entry(client.0).or_default();
        c.profile = client.1;
        c.as_client += 1;
        let s = self.hosts.entry(server.0).or_default();
        s.profile = server.1;
        s.as_server += 1;
    }

    /// Records a user of a broken connection already [added](Actions::add)
    /// with `failure` (captures name the user in the AUTHENTICATE).
    pub fn add_user(&mut self, failure: &Failure, user: String) {
        if let Some(g) = self.groups.get_mut(&Cause::of(failure)) {
            *g.users.entry(user).or_insert(0) += 1;
        }
    }

    /// Every client and server of the report, broken or not, for the list
    /// of hosts where the change breaks nothing.
    pub fn set_hosts(&mut self, clients: Vec<&'a str>, servers: Vec<&'a str>) {
        self.clients = clients;
        self.servers = servers;
    }

    /// The clients (`Side::Client`) or servers of [`Actions::set_hosts`] in
    /// no broken connection in that role, sorted and without repeats.
    pub fn unbroken(&self, role: Side) -> Vec<&'a str> {
        let all = match role {
            Side::Client => &self.clients,
            Side::Server => &self.servers,
        };
        let mut v: Vec<&'a str> = all
            .iter()
            .copied()
            .filter(|h| {
                self.hosts.get(h).is_none_or(|l| match role {
                    Side::Client => l.as_client == 0,
                    Side::Server => l.as_server == 0,
                })
            })
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Broken connections added.
    pub const fn total(&self) -> usize {
        self.total
    }

    /// The causes, the most connections first (then by rule, for a stable order).
    pub fn groups(&self) -> Vec<&Group<'a>> {
        let mut g: Vec<&Group<'a>> = self.groups.values().collect();
        g.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.failure.rule.id.cmp(b.failure.rule.id))
                .then_with(|| a.failure.missing.bits().cmp(&b.failure.missing.bits()))
                .then_with(|| a.failure.side.cmp(&b.failure.side))
                .then_with(|| a.failure.stage.cmp(&b.failure.stage))
        });
        g
    }

    /// The hosts, the most broken connections first (then by name).
    pub fn ranked_hosts(&self) -> Vec<(&'a str, &HostLoad<'a>)> {
        let mut v: Vec<(&'a str, &HostLoad<'a>)> =
            self.hosts.iter().map(|(k, v)| (*k, v)).collect();
        v.sort_by(|a, b| {
            (b.1.as_client + b.1.as_server)
                .cmp(&(a.1.as_client + a.1.as_server))
                .then_with(|| a.0.cmp(b.0))
        });
        v
    }

    /// The "What to do" section: one line saying how much breaks, then one
    /// card per cause and the host ranking. `unit` names a connection
    /// (`pair`, `exchange`); `client_word`/`server_word` name the hosts of
    /// each side as the page does.
    /// `relaxed` holds the relaxed values that were simulated, if any.
    pub fn html(&self, unit: &str, configured: Configured, relaxed: &[Relaxed], h: &mut String) {
        h.push_str(&self.markup(unit, configured, relaxed).into_string());
    }

    fn markup(&self, unit: &str, configured: Configured, relaxed: &[Relaxed]) -> Markup {
        if self.total == 0 {
            return html! {
                section.card #actions {
                    h2 { "What to do" }
                    p.verdict.good {
                        "No " (unit) " breaks under this change: nothing to fix before applying it."
                    } "\n"
                }
            };
        }
        let groups = self.groups();
        let clients = self.hosts.values().filter(|l| l.as_client > 0).count();
        let servers = self.hosts.values().filter(|l| l.as_server > 0).count();
        let s = |n: usize| if n == 1 { "" } else { "s" };
        html! {
            section.card #actions {
                h2 { "What to do" }
                p.verdict.bad {
                    (self.total) " " (plural(unit, self.total)) " break"
                    (if self.total == 1 { "s" } else { "" }) " under this change, between "
                    (clients) " client" (s(clients)) " and " (servers) " server" (s(servers))
                    ", for " (groups.len()) " reason" (s(groups.len()))
                    ". Fix each reason below before applying the change, or apply it only where \
                     nothing breaks."
                }
                @for (n, g) in groups.iter().enumerate() {
                    (group_html(
                        n + 1,
                        g,
                        unit,
                        configured,
                        relaxed.iter().find(|r| r.cause == Cause::of(&g.failure)),
                    ))
                }
                @for (role, changed, setting) in [
                    (Side::Server, configured.servers_changed, "the server-side values"),
                    (Side::Client, configured.clients_changed, "the client-side values"),
                ] {
                    @let safe = self.unbroken(role);
                    @if changed && !safe.is_empty() {
                        div.safe {
                            h3 {
                                (capitalized(role.name())) "s where the change breaks nothing ("
                                (safe.len()) ")"
                            }
                            p {
                                "No " (unit) " of these " (role.name()) "s breaks under this change: "
                                (setting) " can be applied to them first. " (capitalized(role.name()))
                                "s whose profile does not read a value the change sets are not listed."
                            }
                            (name_list(&format!("{}s where nothing breaks", role.name()), &safe))
                        }
                    }
                }
                (ranking_html(&self.ranked_hosts(), unit))
            } "\n"
        }
    }
}

fn plural(unit: &str, n: usize) -> String {
    if n == 1 {
        unit.to_owned()
    } else {
        format!("{unit}s")
    }
}

/// `side` refuses; the other side's word.
const fn other_side(side: Side) -> &'static str {
    match side {
        Side::Server => "client",
        Side::Client => "server",
    }
}

const fn setting(side: Side) -> &'static str {
    match side {
        Side::Server => "NtlmMinServerSec",
        Side::Client => "NtlmMinClientSec",
    }
}

/// The ways to remove a cause, as HTML list items.
fn remedies(
    g: &Group<'_>,
    unit: &str,
    configured: Configured,
    tried: Option<&Relaxed>,
) -> Vec<Markup> {
    let f = &g.failure;
    let side = f.side.name();
    let other = other_side(f.side);
    let mut out = Vec::new();
    match f.detail {
        Detail::MinimumSecurity => {
            let missing = names(f.missing).join(" | ");
            out.push(html! {
                "Make the " (other) "s below negotiate " code { (missing) } " ("
                (hex32(f.missing.bits())) "); " code { "ntlmsim profiles NAME" }
                " shows what a profile supports, with its sources."
            });
            if f.side == Side::Server
                && f.missing
                    .contains(NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY)
                && let Some(rule) = ntlm_policy::Rule::by_id("neg-client-ess")
            {
                out.push(html! {
                    "Where such a client reads LmCompatibilityLevel (Windows), a level of 1 or \
                     higher makes it request EXTENDED_SESSIONSECURITY (level 0 does too under the \
                     default reading, " code { "level0-ess=requested" } "): rule " code { (rule.id) }
                    ", " (rule.statement) " (source: " (rule.source.to_string()) " ["
                    (rule.basis.to_string()) "])."
                });
            }
            match (relaxed_value(f, configured), &configured) {
                (Some((_, relaxed)), c) => {
                    let was = match f.side {
                        Side::Server => c.server_min,
                        Side::Client => c.client_min,
                    }
                    .unwrap_or(relaxed);
                    out.push(html! {
                        "Or, until then, set " (setting(f.side)) " on the " (side) "s below to "
                        code { (hex32(relaxed)) } " instead of " code { (hex32(was)) }
                        " (without the missing bits). "
                        @match tried.filter(|t| t.value == relaxed) {
                            Some(t) if t.works == t.checked && t.checked == g.count => {
                                b { "Simulated:" } " with that value all " (t.checked) " "
                                (plural(unit, t.checked)) " of this cause work."
                            }
                            Some(t) => {
                                b { "Simulated" } " on " (t.checked) " of the " (g.count) " "
                                (plural(unit, g.count)) ": " (t.works) " work, "
                                (t.checked - t.works) " still fail"
                                @if let Some(e) = &t.example { ", e.g. " (e) }
                                "."
                            }
                            None => {
                                "That removes this failure only: run this report again with "
                                code { "--" (side) "-min " (hex32(relaxed)) }
                                " to see whether anything else fails."
                            }
                        }
                    });
                }
                (None, _) => out.push(html! {
                    "Or leave the missing bits out of " (setting(f.side)) " on the " (side)
                    "s below."
                }),
            }
        }
        Detail::ResponseRefused { kind, level } => out.push(html! {
            "The " (other) "s below send " (kind.as_str()) " responses, which LmCompatibilityLevel "
            (level.level()) " on the " (side) " refuses: make them send a response that level \
             accepts (the rule below), or keep the " (side) "s' LmCompatibilityLevel where it was."
        }),
        Detail::ResponseUnverifiable { kind } => out.push(html! {
            "The " (side) "s below cannot verify " (kind.as_str()) " responses at all: update or \
             replace them, or have the " (other) "s send a response they can verify (KB954387's \
             workaround: a lower client LmCompatibilityLevel)."
        }),
        Detail::Blocked => out.push(html! {
            "NTLM is blocked on the " (side) "s below: add the " (other) "s to their NTLM \
             exceptions, or move these connections to Kerberos."
        }),
        _ => out.push(html! {
            "No minimum-security value decides this failure: the rule below says what the "
            (side) " requires of the " (other) "s below; change them to meet it."
        }),
    }
    out
}

fn capitalized(word: &str) -> String {
    let mut c = word.chars();
    c.next().map_or_else(String::new, |f| {
        f.to_uppercase().chain(c).collect::<String>()
    })
}

/// The first names (at most [`INLINE_HOSTS`]), comma-separated, and how
/// many more there are.
fn inline_names<'n>(names: impl ExactSizeIterator<Item = (&'n str, Option<String>)>) -> Markup {
    let more = names.len().saturating_sub(INLINE_HOSTS);
    html! {
        @for (i, (name, title)) in names.take(INLINE_HOSTS).enumerate() {
            @if i > 0 { ", " }
            @if let Some(t) = title { span title=(t) { (name) } } @else { (name) }
        }
        @if more > 0 { " " span.muted { "and " (more) " more" } }
    }
}

/// All the names in a text box, one a line.
fn names_box(title: &str, names: &[&str]) -> Markup {
    html! {
        details {
            summary { "as text, one a line" }
            textarea readonly rows=(names.len().clamp(2, 12)) aria-label=(title) {
                (names.join("\n"))
            }
        }
    }
}

/// Names inline (at most [`INLINE_HOSTS`]) and all of them in a text box,
/// one a line.
fn name_list(title: &str, names: &[&str]) -> Markup {
    html! {
        div.hosts {
            p { (inline_names(names.iter().map(|n| (*n, None)))) }
            (names_box(title, names))
        }
    }
}

fn host_list(title: &str, hosts: &HashMap<&str, usize>, unit: &str) -> Markup {
    let mut v: Vec<(&str, usize)> = hosts.iter().map(|(k, n)| (*k, *n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let mut names: Vec<&str> = v.iter().map(|(k, _)| *k).collect();
    names.sort_unstable();
    html! {
        div.hosts {
            h4 { (title) " (" (v.len()) ")" }
            p { (inline_names(v.iter().map(|(k, n)| (*k, Some(format!("{n} {}", plural(unit, *n))))))) }
            (names_box(title, &names))
        }
    }
}

fn group_html(
    n: usize,
    g: &Group<'_>,
    unit: &str,
    configured: Configured,
    tried: Option<&Relaxed>,
) -> Markup {
    let f = &g.failure;
    let what = if f.missing.is_empty() {
        f.reason().to_string()
    } else {
        format!("missing {}", names(f.missing).join(" | "))
    };
    let other = other_side(f.side);
    let mut profiles: Vec<(&str, usize)> = g.other_profiles.iter().map(|(k, n)| (*k, *n)).collect();
    profiles.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    profiles.retain(|(p, _)| !p.is_empty());
    let users: HashMap<&str, usize> = g.users.iter().map(|(k, n)| (k.as_str(), *n)).collect();
    html! {
        div.cause data-count=(g.count) data-side=(f.side.name()) data-stage=(f.stage.name())
            data-rule=(f.rule.id) data-missing=(hex32(f.missing.bits())) {
            h3 {
                (n) ". " (g.count) " " (plural(unit, g.count)) ": the " (f.side)
                " refuses on receipt of " (f.stage.message()) " \u{2014} " (what)
            }
            ul.todo { @for r in remedies(g, unit, configured, tried) { li { (r) } } }
            p.muted {
                "status " (f.status.name()) " (" (hex32(f.status.code())) ") \u{b7} rule "
                code { (f.rule.id) } ": " (f.rule.statement) " \u{b7} source: "
                (f.rule.source.to_string()) " [" (f.rule.basis.to_string()) "]"
            }
            @if !profiles.is_empty() {
                p {
                    (other) " profiles: "
                    @for (i, (p, n)) in profiles.iter().enumerate() {
                        @if i > 0 { ", " }
                        code { (p) } " (" (n) ")"
                    }
                }
            }
            div.two-lists {
                (host_list(&format!("{other}s to change"), &g.other, unit))
                (host_list(&format!("{}s that refuse", f.side), &g.refusing, unit))
                @if !g.users.is_empty() {
                    (host_list("users to inform", &users, unit))
                }
            }
        }
    }
}

fn ranking_html(hosts: &[(&str, &HostLoad<'_>)], unit: &str) -> Markup {
    html! {
        h3 { "Hosts in the most broken " (plural(unit, 2)) }
        table.kv.rank {
            tr { th { "host" } th { "profile" } th { "as client" } th { "as server" } th { "total" } }
            @for (name, l) in hosts.iter().take(RANKED_HOSTS) {
                tr {
                    td { (name) }
                    td { code { (if l.profile.is_empty() { "-" } else { l.profile }) } }
                    td { (l.as_client) }
                    td { (l.as_server) }
                    td { (l.as_client + l.as_server) }
                }
            }
        }
        @if hosts.len() > RANKED_HOSTS {
            p.muted {
                (hosts.len() - RANKED_HOSTS) " more host(s) are in fewer broken " (plural(unit, 2)) "."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ntlm_policy::Stage;

    use super::*;
    use ntlm_policy::Rule;
    use ntlm_wire::NegotiateFlags as F;

    fn min_failure(side: Side, missing: F) -> Failure {
        let rule = Rule::by_id(match side {
            Side::Server => "min-flags-server",
            Side::Client => "min-flags-client",
        })
        .unwrap();
        Failure::minimum_security(
            side,
            match side {
                Side::Server => Stage::Negotiate,
                Side::Client => Stage::Challenge,
            },
            rule,
            F::NEGOTIATE_128 | F::NEGOTIATE_EXTENDED_SESSIONSECURITY,
            F::NEGOTIATE_128,
            missing,
        )
    }

    #[test]
    fn groups_by_cause_and_names_both_sides() {
        let ess = min_failure(Side::Server, F::NEGOTIATE_EXTENDED_SESSIONSECURITY);
        let blocked = Failure::new(
            Side::Server,
            Stage::Authenticate,
            Rule::by_id("server-blocked").unwrap(),
            Detail::Blocked,
        );
        let mut a = Actions::new();
        a.add(("xp1", "windows-xp"), ("fs1", "windows-2019"), &ess);
        a.add(("xp2", "windows-xp"), ("fs1", "windows-2019"), &ess);
        a.add(("xp1", "windows-xp"), ("fs2", "windows-2019"), &ess);
        a.add(("nas", "nas-v1"), ("dc", "windows-2022"), &blocked);
        assert_eq!(a.total(), 4);
        let g = a.groups();
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].count, 3);
        assert_eq!(g[0].other.get("xp1"), Some(&2));
        assert_eq!(g[0].other.len(), 2);
        assert_eq!(g[0].refusing.len(), 2);
        assert_eq!(g[1].failure.rule.id, "server-blocked");
        let rank = a.ranked_hosts();
        assert_eq!(rank[0].0, "fs1");
        assert_eq!(rank[0].1.as_server, 2);
        assert_eq!(rank[1].0, "xp1");
        assert_eq!(rank[1].1.as_client, 2);

        let mut h = String::new();
        a.html(
            "pair",
            Configured {
                client_min: None,
                server_min: Some(0x2008_0000),
                ..Configured::default()
            },
            &[],
            &mut h,
        );
        assert!(
            h.contains(
                "4 pairs break under this change, between 3 clients and 3 servers, for 2 reasons"
            ),
            "{h}"
        );
        // The relaxed value: the configured one without the missing bit.
        assert!(h.contains("set NtlmMinServerSec on the servers below to <code>0x20000000</code> instead of <code>0x20080000</code>"), "{h}");
        assert!(h.contains("NEGOTIATE_EXTENDED_SESSIONSECURITY"));
        // The client-side setting that makes Windows clients request it, with its rule.
        assert!(h.contains("a level of 1 or higher makes it request EXTENDED_SESSIONSECURITY (level 0 does too under the default reading, <code>level0-ess=requested</code>): rule <code>neg-client-ess</code>"), "{h}");
        assert!(h.contains("NTLM is blocked on the servers below"));
        // Host lists as text, one a line, sorted.
        assert!(h.contains(">xp1\nxp2</textarea>"), "{h}");
        assert!(h.contains(">fs1\nfs2</textarea>"), "{h}");
    }

    #[test]
    fn client_side_failures_relax_the_client_value_and_nothing_breaking_says_so() {
        let f = min_failure(Side::Client, F::NEGOTIATE_128);
        let mut a = Actions::new();
        a.add(("w11", "windows-11"), ("nas", "nas-v1"), &f);
        let mut h = String::new();
        a.html(
            "exchange",
            Configured {
                client_min: Some(0x2008_0000),
                server_min: None,
                ..Configured::default()
            },
            &[],
            &mut h,
        );
        assert!(h.contains("1 exchange breaks"), "{h}");
        assert!(
            h.contains("Make the servers below negotiate <code>NEGOTIATE_128</code>"),
            "{h}"
        );
        assert!(
            h.contains("to <code>0x00080000</code> instead of <code>0x20080000</code>"),
            "{h}"
        );
        // Without a configured value that holds the bits, no value is invented.
        let mut h = String::new();
        a.html("exchange", Configured::default(), &[], &mut h);
        assert!(
            h.contains("leave the missing bits out of NtlmMinClientSec"),
            "{h}"
        );
        assert!(!h.contains("instead of"));

        let mut h = String::new();
        Actions::new().html("pair", Configured::default(), &[], &mut h);
        assert!(h.contains("No pair breaks under this change"), "{h}");
    }

    #[test]
    fn a_simulated_relaxed_value_is_reported_as_simulated() {
        let f = min_failure(Side::Server, F::NEGOTIATE_EXTENDED_SESSIONSECURITY);
        let configured = Configured {
            client_min: None,
            server_min: Some(0x2008_0000),
            ..Configured::default()
        };
        assert_eq!(
            relaxed_value(&f, configured),
            Some((Side::Server, 0x2000_0000))
        );
        let mut a = Actions::new();
        a.add(("a", "p"), ("s", "q"), &f);
        a.add(("b", "p"), ("s", "q"), &f);
        let tried = |works: usize, example: Option<&str>| Relaxed {
            cause: Cause::of(&f),
            value: 0x2000_0000,
            checked: 2,
            works,
            example: example.map(str::to_owned),
        };
        let mut h = String::new();
        a.html("pair", configured, &[tried(2, None)], &mut h);
        assert!(
            h.contains("<b>Simulated:</b> with that value all 2 pairs of this cause work."),
            "{h}"
        );
        let mut h = String::new();
        a.html(
            "pair",
            configured,
            &[tried(1, Some("b \u{2192} s: <x>"))],
            &mut h,
        );
        assert!(h.contains("<b>Simulated</b> on 2 of the 2 pairs: 1 work, 1 still fail, e.g. b \u{2192} s: &lt;x&gt;."), "{h}");
        // A simulation of another value is not reported against this one.
        let mut other = tried(2, None);
        other.value = 0x10;
        let mut h = String::new();
        a.html("pair", configured, &[other], &mut h);
        assert!(
            h.contains("run this report again with <code>--server-min 0x20000000</code>"),
            "{h}"
        );
        assert!(!h.contains("Simulated"));
    }

    #[test]
    fn hosts_in_no_broken_connection_are_listed_for_the_sides_the_change_sets() {
        let f = min_failure(Side::Server, F::NEGOTIATE_128);
        let mut a = Actions::new();
        a.add(("c1", "p"), ("s1", "q"), &f);
        a.set_hosts(vec!["c1", "c2", "c2"], vec!["s1", "s2", "s3"]);
        assert_eq!(a.unbroken(Side::Server), ["s2", "s3"]);
        assert_eq!(a.unbroken(Side::Client), ["c2"]);
        let mut h = String::new();
        let only_servers = Configured {
            server_min: Some(0x2000_0000),
            servers_changed: true,
            ..Configured::default()
        };
        a.html("pair", only_servers, &[], &mut h);
        assert!(
            h.contains("Servers where the change breaks nothing (2)"),
            "{h}"
        );
        assert!(h.contains(">s2\ns3</textarea>"), "{h}");
        // The clients' values were not changed: no list for them.
        assert!(
            !h.contains("Clients where the change breaks nothing"),
            "{h}"
        );
    }

    #[test]
    fn hostile_host_names_are_escaped_in_lists_and_text_boxes() {
        let f = min_failure(Side::Server, F::NEGOTIATE_128);
        let mut a = Actions::new();
        a.add(
            ("</textarea><script>alert(1)</script>", "<b>p</b>"),
            ("\"><img src=x>", "s"),
            &f,
        );
        let mut h = String::new();
        a.html("pair", Configured::default(), &[], &mut h);
        assert!(!h.contains("<script"), "{h}");
        assert!(!h.contains("<img"), "{h}");
        assert!(!h.contains("<b>p"), "{h}");
        assert_eq!(h.matches("</textarea>").count(), 2);
        assert!(h.contains("&lt;/textarea&gt;&lt;script&gt;"));
    }
}
