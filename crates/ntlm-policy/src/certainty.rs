//! How certain a verdict is: does it hold under every documented reading?
//!
//! Where Windows behaviour is not confirmed, [`Semantics`] makes the choice
//! an explicit switch. A verdict reached under one set of switches may hold
//! under all of them ("breaks under every reading") or only under some
//! ("breaks only under rule-128=strict"). [`certainty`] evaluates a case
//! under every combination of every documented value of every switch
//! ([`Semantics::SWITCHES`]: 2^9 = 512 readings today) and reports which
//! switches change the verdict. It is generic over the evaluation, so the
//! flags-only model ([`certainty_of_exchange`], [`certainty_of_check`]), a
//! full session run or an audit of a captured exchange can all use it.

use alloc::vec::Vec;
use core::fmt;

use ntlm_wire::{NegotiateFlags as F, ResponseKind};

use crate::enforce::{check_negotiated_response, negotiate_only};
use crate::mask::MinSessionSecurity;
use crate::negotiate::{ClientConfig, ServerConfig};
use crate::semantics::Semantics;

/// Most readings [`certainty`] evaluates; with more switch values than this
/// the product is not enumerated and every switch is varied alone instead.
pub const MAX_READINGS: usize = 4096;

/// One switch set to one value, e.g. `rule-128=kb239869`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Reading {
    /// The switch name.
    pub switch: &'static str,
    /// The value name.
    pub value: &'static str,
}

impl fmt::Display for Reading {
    /// `rule-128=kb239869`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.switch, self.value)
    }
}

/// The result of [`certainty`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certainty {
    /// The readings evaluated (every combination of switch values).
    pub readings: usize,
    /// How many of them reach the same verdict as the chosen semantics.
    pub agreeing: usize,
    /// The switches that change the verdict in at least one combination,
    /// in [`Semantics::SWITCHES`] order.
    pub depends_on: Vec<&'static str>,
    /// The switch values that, each changed alone from the chosen
    /// semantics, reverse the verdict.
    pub reversed_by: Vec<Reading>,
    /// When the verdict holds in exactly the readings where these switches
    /// have these values (and in no other), those values; empty otherwise
    /// (the verdict holds everywhere, or its readings are no simple conjunction).
    pub only_under: Vec<Reading>,
}

impl Certainty {
    /// Whether the verdict is the same under every documented reading.
    pub const fn holds_under_every_reading(&self) -> bool {
        self.agreeing == self.readings
    }

    /// A one-line account, with `verdict` the chosen semantics' verdict
    /// (`"fails"`) and `opposite` the other one (`"works"`):
    ///
    /// - `fails under every documented reading (512 combinations of 9 switches)`;
    /// - `fails only under rule-128=strict; works under every other reading`;
    /// - `fails under 384 of 512 readings; depends on rule-128, bit56; works with rule-128=kb239869 alone`.
    pub const fn summary<'a>(&'a self, verdict: &'a str, opposite: &'a str) -> Summary<'a> {
        Summary {
            certainty: self,
            verdict,
            opposite,
        }
    }
}

/// The text of [`Certainty::summary`].
#[derive(Debug, Clone, Copy)]
pub struct Summary<'a> {
    certainty: &'a Certainty,
    verdict: &'a str,
    opposite: &'a str,
}

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.certainty;
        if c.holds_under_every_reading() {
            return write!(
                f,
                "{} under every documented reading ({} combinations of {} switches)",
                self.verdict,
                c.readings,
                Semantics::SWITCHES.len()
            );
        }
        if !c.only_under.is_empty() {
            write!(f, "{} only under ", self.verdict)?;
            list(f, &c.only_under, " with ")?;
            return write!(f, "; {} under every other reading", self.opposite);
        }
        write!(
            f,
            "{} under {} of {} readings; depends on ",
            self.verdict, c.agreeing, c.readings
        )?;
        for (i, s) in c.depends_on.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(s)?;
        }
        if !c.reversed_by.is_empty() {
            write!(f, "; {} with ", self.opposite)?;
            list(f, &c.reversed_by, " or ")?;
            f.write_str(" alone")?;
        }
        Ok(())
    }
}

fn list(f: &mut fmt::Formatter<'_>, readings: &[Reading], sep: &str) -> fmt::Result {
    for (i, r) in readings.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{r}")?;
    }
    Ok(())
}

/// Every combination of switch values, as value indexes per switch.
fn combinations() -> Vec<[usize; Semantics::SWITCHES.len()]> {
    let mut all = Vec::from([[0; Semantics::SWITCHES.len()]]);
    for (k, sw) in Semantics::SWITCHES.iter().enumerate() {
        let mut next = Vec::with_capacity(all.len().saturating_mul(sw.values.len()));
        for c in &all {
            for i in 0..sw.values.len() {
                let mut d = *c;
                if let Some(slot) = d.get_mut(k) {
                    *slot = i;
                }
                next.push(d);
            }
        }
        all = next;
        if all.len() > MAX_READINGS {
            return Vec::new();
        }
    }
    all
}

/// The position of `combo` in [`combinations`]: the switches are its
/// digits, the first the most significant, each in the base of its number
/// of values (the order `combinations` builds them in).
fn combination_index(combo: &[usize]) -> usize {
    Semantics::SWITCHES
        .iter()
        .zip(combo)
        .fold(0, |at, (sw, &i)| at * sw.values.len() + i)
}

fn semantics_of(base: &Semantics, combo: &[usize]) -> Semantics {
    Semantics::SWITCHES
        .iter()
        .zip(combo)
        .fold(*base, |s, (sw, &i)| sw.with(&s, i))
}

/// Evaluates `verdict` under `chosen` and under every combination of every
/// documented value of every switch, and reports which readings change it.
///
/// `verdict` is called once per reading (128 times today) plus once per
/// switch value for [`Certainty::reversed_by`]; it must be deterministic.
/// Two verdicts are the same when they compare equal: pass a `bool`
/// (works / fails) to ask only whether the connection breaks.
pub fn certainty<V: PartialEq>(
    chosen: &Semantics,
    mut verdict: impl FnMut(&Semantics) -> V,
) -> Certainty {
    let base = verdict(chosen);
    let mut reversed_by = Vec::new();
    for sw in &Semantics::SWITCHES {
        let current = sw.index_in(chosen);
        for (i, value) in sw.values.iter().enumerate() {
            if i != current && verdict(&sw.with(chosen, i)) != base {
                reversed_by.push(Reading {
                    switch: sw.name,
                    value,
                });
            }
        }
    }
    let combos = combinations();
    if combos.is_empty() {
        // Too many readings to enumerate: each switch varied alone.
        let readings = 1 + Semantics::SWITCHES
            .iter()
            .map(|s| s.values.len().saturating_sub(1))
            .sum::<usize>();
        let mut depends_on: Vec<&'static str> = reversed_by.iter().map(|r| r.switch).collect();
        depends_on.dedup();
        return Certainty {
            readings,
            agreeing: readings.saturating_sub(reversed_by.len()),
            depends_on,
            reversed_by,
            only_under: Vec::new(),
        };
    }
    let agrees: Vec<bool> = combos
        .iter()
        .map(|c| verdict(&semantics_of(chosen, c)) == base)
        .collect();
    let agreeing = agrees.iter().filter(|a| **a).count();
    // A switch matters when changing it alone flips agreement somewhere.
    let mut depends_on = Vec::new();
    for (k, sw) in Semantics::SWITCHES.iter().enumerate() {
        let matters = combos.iter().zip(&agrees).any(|(c, a)| {
            (0..sw.values.len()).any(|i| {
                let mut d = *c;
                if let Some(slot) = d.get_mut(k) {
                    *slot = i;
                }
                agrees.get(combination_index(&d)).is_some_and(|b| b != a)
            })
        });
        if matters {
            depends_on.push(sw.name);
        }
    }
    // The values every agreeing reading shares, if they describe it exactly.
    let mut only_under = Vec::new();
    if agreeing < combos.len() {
        for (k, sw) in Semantics::SWITCHES.iter().enumerate() {
            let mut shared = None;
            let mut same = true;
            for (c, _) in combos.iter().zip(&agrees).filter(|(_, a)| **a) {
                let v = c.get(k).copied();
                match shared {
                    None => shared = Some(v),
                    Some(s) if s != v => same = false,
                    Some(_) => {}
                }
            }
            if let (true, Some(Some(i))) = (same, shared) {
                if let Some(value) = sw.values.get(i) {
                    let r = Reading {
                        switch: sw.name,
                        value,
                    };
                    only_under.push((k, i, r));
                }
            }
        }
        let exact = !only_under.is_empty()
            && combos.iter().zip(&agrees).all(|(c, a)| {
                let matches = only_under.iter().all(|(k, i, _)| c.get(*k) == Some(i));
                matches == *a
            });
        if !exact {
            only_under.clear();
        }
    }
    Certainty {
        readings: combos.len(),
        agreeing,
        depends_on,
        reversed_by,
        only_under: only_under.into_iter().map(|(_, _, r)| r).collect(),
    }
}

/// [`certainty`] of whether a flags-only exchange ([`negotiate_only`]) succeeds.
pub fn certainty_of_exchange(
    client: &ClientConfig,
    server: &ServerConfig,
    client_min: MinSessionSecurity,
    server_min: MinSessionSecurity,
    chosen: &Semantics,
) -> Certainty {
    certainty(chosen, |s| {
        negotiate_only(client, server, client_min, server_min, s).is_success()
    })
}

/// [`certainty`] of whether negotiated flags satisfy both minimums
/// ([`check_negotiated_response`], as `ntlmsim policy check`).
pub fn certainty_of_check(
    negotiated: F,
    response: Option<ResponseKind>,
    client_min: MinSessionSecurity,
    server_min: MinSessionSecurity,
    chosen: &Semantics,
) -> Certainty {
    certainty(chosen, |s| {
        check_negotiated_response(negotiated, response, client_min, server_min, s).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::semantics::{Bit56, Rule128};
    use alloc::string::ToString;

    const NO_SEAL: F = F::from_bits_retain(0x0288_8215); // SIGN, ESS, no 128, no SEAL

    /// Every combination of switch values (512 with nine two-valued switches).
    fn readings() -> usize {
        Semantics::SWITCHES.iter().map(|s| s.values.len()).product()
    }

    #[test]
    fn a_failure_every_reading_agrees_on() {
        // ESS missing: no switch makes ESS appear without NTLMv2 (unknown response).
        let c = certainty_of_check(
            F::from_bits_retain(0x2000_0215),
            Some(ResponseKind::NtlmV1),
            MinSessionSecurity::NONE,
            MinSessionSecurity::NTLMV2_SESSION_SECURITY,
            &Semantics::default(),
        );
        assert!(c.holds_under_every_reading(), "{c:?}");
        assert_eq!(c.readings, readings());
        assert!(c.depends_on.is_empty() && c.reversed_by.is_empty() && c.only_under.is_empty());
        assert_eq!(
            c.summary("fails", "works").to_string(),
            format!(
                "fails under every documented reading ({} combinations of {} switches)",
                readings(),
                Semantics::SWITCHES.len()
            )
        );
    }

    #[test]
    fn a_failure_only_one_reading_of_the_128_bit_rule_gives() {
        let strict = Semantics {
            rule_128: Rule128::Strict,
            ..Semantics::default()
        };
        let c = certainty_of_check(
            NO_SEAL,
            None,
            MinSessionSecurity::NONE,
            MinSessionSecurity::ENCRYPTION_128,
            &strict,
        );
        assert!(!c.holds_under_every_reading());
        assert_eq!(c.agreeing * 2, c.readings);
        assert_eq!(c.depends_on, ["rule-128"]);
        let kb = Reading {
            switch: "rule-128",
            value: "kb239869",
        };
        assert_eq!(c.reversed_by, [kb]);
        assert_eq!(c.only_under.len(), 1);
        assert_eq!(c.only_under[0].to_string(), "rule-128=strict");
        assert_eq!(
            c.summary("fails", "works").to_string(),
            "fails only under rule-128=strict; works under every other reading"
        );
        // The same case seen from the other reading: it works only there.
        let kb_sem = Semantics {
            rule_128: Rule128::Kb239869,
            ..strict
        };
        let d = certainty_of_check(
            NO_SEAL,
            None,
            MinSessionSecurity::NONE,
            MinSessionSecurity::ENCRYPTION_128,
            &kb_sem,
        );
        assert_eq!(d.only_under, [kb]);
    }

    #[test]
    fn two_switches_that_each_matter() {
        // 128 and 56 both missing, no SEAL: works only with kb239869 and bit56=ignore.
        let sem = Semantics {
            rule_128: Rule128::Strict,
            bit56: Bit56::Enforce,
            ..Semantics::default()
        };
        let c = certainty_of_check(
            NO_SEAL,
            None,
            MinSessionSecurity::NONE,
            MinSessionSecurity::from_registry(0xA000_0000),
            &sem,
        );
        assert_eq!(c.depends_on, ["rule-128", "bit56"]);
        assert_eq!(c.agreeing, readings() * 3 / 4);
        // Neither changed alone reverses it, and "fails" is no conjunction.
        assert!(c.reversed_by.is_empty());
        assert!(c.only_under.is_empty());
        assert_eq!(
            c.summary("fails", "works").to_string(),
            format!(
                "fails under {} of {} readings; depends on rule-128, bit56",
                readings() * 3 / 4,
                readings()
            )
        );
        // From the lenient side: works only under both values together.
        let lenient = Semantics {
            rule_128: Rule128::Kb239869,
            bit56: Bit56::Ignore,
            ..sem
        };
        let d = certainty_of_check(
            NO_SEAL,
            None,
            MinSessionSecurity::NONE,
            MinSessionSecurity::from_registry(0xA000_0000),
            &lenient,
        );
        assert_eq!(
            d.summary("works", "fails").to_string(),
            "works only under rule-128=kb239869 with bit56=ignore; fails under every other reading"
        );
        assert_eq!(d.reversed_by.len(), 2);
    }

    #[test]
    fn exchange_certainty_uses_the_flags_only_model() {
        let c = certainty_of_exchange(
            &ClientConfig::default(),
            &ServerConfig::default(),
            MinSessionSecurity::NONE,
            MinSessionSecurity::NONE,
            &Semantics::default(),
        );
        assert!(c.holds_under_every_reading());
    }

    #[test]
    fn combination_indexes_are_positions() {
        for (i, c) in combinations().iter().enumerate() {
            assert_eq!(combination_index(c), i);
        }
    }

    #[test]
    fn the_verdict_function_is_called_a_bounded_number_of_times() {
        let mut calls = 0;
        let _ = certainty(&Semantics::default(), |_| {
            calls += 1;
            true
        });
        let alone: usize = Semantics::SWITCHES.iter().map(|s| s.values.len() - 1).sum();
        assert_eq!(calls, 1 + alone + readings());
    }
}
