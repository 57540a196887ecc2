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
use std::fmt::Write as _;

use ntlm_policy::{Detail, Failure, Side};
pub use ntlm_sim::relax::{Cause, Configured, Relaxed, relaxed_value};
use ntlm_wire::NegotiateFlags;

use crate::report::escape;
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
        h.push_str("<section class=\"card\" id=\"actions\"><h2>What to do</h2>");
        if self.total == 0 {
            let _ = writeln!(
                h,
                "<p class=\"verdict good\">No {unit} breaks under this change: nothing to fix \
                 before applying it.</p></section>"
            );
            return;
        }
        let groups = self.groups();
        let clients = self.hosts.values().filter(|l| l.as_client > 0).count();
        let servers = self.hosts.values().filter(|l| l.as_server > 0).count();
        let _ = write!(
            h,
            "<p class=\"verdict bad\">{} {} break{} under this change, between {} client{} and {} \
             server{}, for {} reason{}. Fix each reason below before applying the change, or apply \
             it only where nothing breaks.</p>",
            self.total,
            plural(unit, self.total),
            if self.total == 1 { "s" } else { "" },
            clients,
            if clients == 1 { "" } else { "s" },
            servers,
            if servers == 1 { "" } else { "s" },
            groups.len(),
            if groups.len() == 1 { "" } else { "s" },
        );
        for (n, g) in groups.iter().enumerate() {
            let tried = relaxed.iter().find(|r| r.cause == Cause::of(&g.failure));
            group_html(n + 1, g, unit, configured, tried, h);
        }
        for (role, changed, setting) in [
            (
                Side::Server,
                configured.servers_changed,
                "the server-side values",
            ),
            (
                Side::Client,
                configured.clients_changed,
                "the client-side values",
            ),
        ] {
            let safe = self.unbroken(role);
            if !changed || safe.is_empty() {
                continue;
            }
            let _ = write!(
                h,
                "<div class=\"safe\"><h3>{}s where the change breaks nothing ({})</h3><p>No \
                 {unit} of these {}s breaks under this change: {setting} can be applied to them \
                 first. {}s whose profile does not read a value the change sets are not listed.</p>",
                capitalized(role.name()),
                safe.len(),
                role.name(),
                capitalized(role.name()),
            );
            name_list(&format!("{}s where nothing breaks", role.name()), &safe, h);
            h.push_str("</div>");
        }
        ranking_html(&self.ranked_hosts(), unit, h);
        h.push_str("</section>\n");
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
) -> Vec<String> {
    let f = &g.failure;
    let side = f.side.name();
    let other = other_side(f.side);
    let mut out = Vec::new();
    match f.detail {
        Detail::MinimumSecurity => {
            let missing = names(f.missing).join(" | ");
            out.push(format!(
                "Make the {other}s below negotiate <code>{}</code> ({}); <code>ntlmsim \
                 profiles NAME</code> shows what a profile supports, with its sources.",
                escape(&missing),
                hex32(f.missing.bits())
            ));
            if f.side == Side::Server
                && f.missing
                    .contains(NegotiateFlags::NEGOTIATE_EXTENDED_SESSIONSECURITY)
                && let Some(rule) = ntlm_policy::Rule::by_id("neg-client-ess")
            {
                out.push(format!(
                    "Where such a client reads LmCompatibilityLevel (Windows), a level of 1 or \
                     higher makes it request EXTENDED_SESSIONSECURITY (level 0 does too under the \
                     default reading, <code>level0-ess=requested</code>): rule <code>{}</code>, {} \
                     (source: {} [{}]).",
                    escape(rule.id),
                    escape(rule.statement),
                    escape(&rule.source.to_string()),
                    escape(&rule.basis.to_string())
                ));
            }
            match (relaxed_value(f, configured), &configured) {
                (Some((_, relaxed)), c) => {
                    let was = match f.side {
                        Side::Server => c.server_min,
                        Side::Client => c.client_min,
                    }
                    .unwrap_or(relaxed);
                    let mut s = format!(
                        "Or, until then, set {} on the {side}s below to <code>{}</code> instead \
                         of <code>{}</code> (without the missing bits). ",
                        setting(f.side),
                        hex32(relaxed),
                        hex32(was)
                    );
                    match tried.filter(|t| t.value == relaxed) {
                        Some(t) if t.works == t.checked && t.checked == g.count => {
                            let _ = write!(
                                s,
                                "<b>Simulated:</b> with that value all {} {} of this cause work.",
                                t.checked,
                                escape(&plural(unit, t.checked))
                            );
                        }
                        Some(t) => {
                            let _ = write!(
                                s,
                                "<b>Simulated</b> on {} of the {} {}: {} work, {} still fail",
                                t.checked,
                                g.count,
                                escape(&plural(unit, g.count)),
                                t.works,
                                t.checked - t.works
                            );
                            if let Some(e) = &t.example {
                                let _ = write!(s, ", e.g. {}", escape(e));
                            }
                            s.push('.');
                        }
                        None => {
                            let _ = write!(
                                s,
                                "That removes this failure only: run this report again with \
                                 <code>--{}-min {}</code> to see whether anything else fails.",
                                side,
                                hex32(relaxed)
                            );
                        }
                    }
                    out.push(s);
                }
                (None, _) => out.push(format!(
                    "Or leave the missing bits out of {} on the {side}s below.",
                    setting(f.side)
                )),
            }
        }
        Detail::ResponseRefused { kind, level } => out.push(format!(
            "The {other}s below send {} responses, which LmCompatibilityLevel {} on the {side} \
             refuses: make them send a response that level accepts (the rule below), or keep \
             the {side}s' LmCompatibilityLevel where it was.",
            escape(kind.as_str()),
            level.level()
        )),
        Detail::ResponseUnverifiable { kind } => out.push(format!(
            "The {side}s below cannot verify {} responses at all: update or replace them, or \
             have the {other}s send a response they can verify (KB954387's workaround: a lower \
             client LmCompatibilityLevel).",
            escape(kind.as_str())
        )),
        Detail::Blocked => out.push(format!(
            "NTLM is blocked on the {side}s below: add the {other}s to their NTLM exceptions, or \
             move these connections to Kerberos."
        )),
        _ => out.push(format!(
            "No minimum-security value decides this failure: the rule below says what the \
             {side} requires of the {other}s below; change them to meet it."
        )),
    }
    out
}

fn capitalized(word: &str) -> String {
    let mut c = word.chars();
    c.next().map_or_else(String::new, |f| {
        f.to_uppercase().chain(c).collect::<String>()
    })
}

/// Names inline (at most [`INLINE_HOSTS`]) and all of them in a text box,
/// one a line.
fn name_list(title: &str, names: &[&str], h: &mut String) {
    let _ = write!(h, "<div class=\"hosts\"><p>");
    for (i, name) in names.iter().take(INLINE_HOSTS).enumerate() {
        if i > 0 {
            h.push_str(", ");
        }
        h.push_str(&escape(name));
    }
    if names.len() > INLINE_HOSTS {
        let _ = write!(
            h,
            " <span class=\"muted\">and {} more</span>",
            names.len() - INLINE_HOSTS
        );
    }
    let _ = write!(
        h,
        "</p><details><summary>as text, one a line</summary><textarea readonly rows=\"{}\" \
         aria-label=\"{}\">{}</textarea></details></div>",
        names.len().clamp(2, 12),
        escape(title),
        escape(&names.join("\n"))
    );
}

fn host_list(title: &str, hosts: &HashMap<&str, usize>, unit: &str, h: &mut String) {
    let mut v: Vec<(&str, usize)> = hosts.iter().map(|(k, n)| (*k, *n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let _ = write!(
        h,
        "<div class=\"hosts\"><h4>{} ({})</h4><p>",
        escape(title),
        v.len()
    );
    for (i, (name, n)) in v.iter().take(INLINE_HOSTS).enumerate() {
        if i > 0 {
            h.push_str(", ");
        }
        let _ = write!(
            h,
            "<span title=\"{n} {}\">{}</span>",
            escape(&plural(unit, *n)),
            escape(name)
        );
    }
    if v.len() > INLINE_HOSTS {
        let _ = write!(
            h,
            " <span class=\"muted\">and {} more</span>",
            v.len() - INLINE_HOSTS
        );
    }
    h.push_str("</p>");
    let mut names: Vec<&str> = v.iter().map(|(k, _)| *k).collect();
    names.sort_unstable();
    let _ = write!(
        h,
        "<details><summary>as text, one a line</summary><textarea readonly rows=\"{}\" \
         aria-label=\"{}\">{}</textarea></details></div>",
        names.len().clamp(2, 12),
        escape(title),
        escape(&names.join("\n"))
    );
}

fn group_html(
    n: usize,
    g: &Group<'_>,
    unit: &str,
    configured: Configured,
    tried: Option<&Relaxed>,
    h: &mut String,
) {
    let f = &g.failure;
    let what = if f.missing.is_empty() {
        f.reason().to_string()
    } else {
        format!("missing {}", names(f.missing).join(" | "))
    };
    let _ = write!(
        h,
        "<div class=\"cause\" data-count=\"{}\" data-side=\"{}\" data-stage=\"{}\" \
         data-rule=\"{}\" data-missing=\"{}\"><h3>{n}. {} {}: the {} refuses on receipt of {} \
         \u{2014} {}</h3><ul class=\"todo\">",
        g.count,
        f.side.name(),
        f.stage.name(),
        escape(f.rule.id),
        hex32(f.missing.bits()),
        g.count,
        escape(&plural(unit, g.count)),
        f.side,
        f.stage.message(),
        escape(&what)
    );
    for r in remedies(g, unit, configured, tried) {
        let _ = write!(h, "<li>{r}</li>");
    }
    let _ = write!(
        h,
        "</ul><p class=\"muted\">status {} ({}) \u{b7} rule <code>{}</code>: {} \u{b7} source: {} \
         [{}]</p>",
        escape(f.status.name()),
        hex32(f.status.code()),
        escape(f.rule.id),
        escape(f.rule.statement),
        escape(&f.rule.source.to_string()),
        escape(&f.rule.basis.to_string())
    );
    let other = other_side(f.side);
    let mut profiles: Vec<(&str, usize)> = g.other_profiles.iter().map(|(k, n)| (*k, *n)).collect();
    profiles.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    profiles.retain(|(p, _)| !p.is_empty());
    if profiles.is_empty() {
        h.push_str("<div class=\"two-lists\">");
    } else {
        let _ = write!(h, "<p>{other} profiles: ");
    }
    for (i, (p, n)) in profiles.iter().enumerate() {
        if i > 0 {
            h.push_str(", ");
        }
        let _ = write!(h, "<code>{}</code> ({n})", escape(p));
    }
    if !profiles.is_empty() {
        h.push_str("</p><div class=\"two-lists\">");
    }
    host_list(&format!("{other}s to change"), &g.other, unit, h);
    host_list(&format!("{}s that refuse", f.side), &g.refusing, unit, h);
    if !g.users.is_empty() {
        let users: HashMap<&str, usize> = g.users.iter().map(|(k, n)| (k.as_str(), *n)).collect();
        host_list("users to inform", &users, unit, h);
    }
    h.push_str("</div></div>");
}

fn ranking_html(hosts: &[(&str, &HostLoad<'_>)], unit: &str, h: &mut String) {
    let _ = write!(
        h,
        "<h3>Hosts in the most broken {}</h3><table class=\"kv rank\"><tr><th>host</th>\
         <th>profile</th><th>as client</th><th>as server</th><th>total</th></tr>",
        escape(&plural(unit, 2))
    );
    for (name, l) in hosts.iter().take(RANKED_HOSTS) {
        let _ = write!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(name),
            escape(if l.profile.is_empty() { "-" } else { l.profile }),
            l.as_client,
            l.as_server,
            l.as_client + l.as_server
        );
    }
    h.push_str("</table>");
    if hosts.len() > RANKED_HOSTS {
        let _ = write!(
            h,
            "<p class=\"muted\">{} more host(s) are in fewer broken {}.</p>",
            hosts.len() - RANKED_HOSTS,
            escape(&plural(unit, 2))
        );
    }
}

/// CSS for the section, added to each report's style sheet.
pub const CSS: &str = r"
p.verdict{font-size:15px;font-weight:600;margin:0 0 10px;padding:8px 12px;border-radius:6px}
p.verdict.bad{background:#fdecea;color:#8a1c17;border:1px solid #f2b8b5}
p.verdict.good{background:#e3f4e8;color:#17612f;border:1px solid #b7dfc3}
div.cause{border:1px solid #d7dbe0;border-left:5px solid #d6312b;border-radius:6px;padding:8px 14px;margin:10px 0}
div.cause h3{font-size:14px;margin:2px 0 6px}
div.safe{border:1px solid #d7dbe0;border-left:5px solid #17612f;border-radius:6px;padding:8px 14px;margin:10px 0}
div.safe h3{font-size:14px;margin:2px 0 6px}div.safe p{margin:0 0 4px}
ul.todo{margin:4px 0 6px 18px;padding:0}
ul.todo li{margin:2px 0}
div.two-lists{display:flex;gap:18px;flex-wrap:wrap}
div.hosts{flex:1 1 320px;min-width:0}
div.hosts h4{margin:6px 0 2px;font-size:13px}
div.hosts p{margin:0;overflow-wrap:anywhere}
div.hosts textarea{width:100%;font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
table.rank td{font-variant-numeric:tabular-nums}
@media print{header{background:none!important;color:#000!important}header p{color:#333!important}
section.card{break-inside:auto;border:none}div.cause{break-inside:avoid}
.gridwrap{max-height:none!important;overflow:visible!important}aside.details{display:none!important}
div.hosts details{display:none}}
";

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
