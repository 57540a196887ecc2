//! Where a rule, a status or a default comes from.

use core::fmt;

/// The origin of a rule, a default or a status code.
///
/// Every rule this crate applies carries one of these as data, so that a
/// failure can say *why* it happened and how well established that reason is.
/// MS-NLMP section and footnote numbers are those of MS-NLMP v36.0 (4/23/2024).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// Normative text of MS-NLMP, by section number (e.g. `"3.1.5.1.2"`).
    MsNlmp(&'static str),
    /// MS-NLMP Appendix B "Product Behavior" footnote `<n>` (v36 numbering).
    MsNlmpBehavior(u16),
    /// A Microsoft Knowledge Base article, by number (e.g. `239869`).
    Kb(u32),
    /// Other Microsoft documentation (policy reference pages, MS-ERREF, ...), by title.
    MsDoc(&'static str),
    /// Behaviour of Samba, by file and function.
    Samba(&'static str),
    /// Behaviour observed in a real peer's messages (a capture), by description.
    Observed(&'static str),
    /// A conclusion drawn from the other sources; the text says from which.
    Inference(&'static str),
}

impl Source {
    /// How well established a statement with this source is.
    pub const fn basis(self) -> Basis {
        match self {
            Self::MsNlmp(_) => Basis::Spec,
            Self::MsNlmpBehavior(_) | Self::Kb(_) | Self::MsDoc(_) => Basis::Documented,
            Self::Samba(_) | Self::Observed(_) => Basis::Observed,
            Self::Inference(_) => Basis::Inferred,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MsNlmp(s) => write!(f, "MS-NLMP {s}"),
            Self::MsNlmpBehavior(n) => write!(f, "MS-NLMP Appendix B <{n}>"),
            Self::Kb(n) => write!(f, "KB{n}"),
            Self::MsDoc(t) => write!(f, "Microsoft documentation: {t}"),
            Self::Samba(t) => write!(f, "Samba {t}"),
            Self::Observed(t) => write!(f, "observed: {t}"),
            Self::Inference(t) => write!(f, "inference: {t}"),
        }
    }
}

/// How well established a rule is, from normative to unconfirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Basis {
    /// Normative MS-NLMP text.
    Spec,
    /// Microsoft documentation other than the normative text (KB, policy pages, Appendix B).
    Documented,
    /// Behaviour of a real implementation (Samba code, a Windows capture).
    Observed,
    /// Concluded from the sources above; not stated by any of them.
    Inferred,
    /// Not confirmed by any public source; modelled as a switch, off by default.
    Unconfirmed,
}

impl Basis {
    /// Lower-case name: `spec`, `documented`, `observed`, `inferred`, `unconfirmed`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Spec => "spec",
            Self::Documented => "documented",
            Self::Observed => "observed",
            Self::Inferred => "inferred",
            Self::Unconfirmed => "unconfirmed",
        }
    }
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_document() {
        assert_eq!(Source::MsNlmp("3.1.5.1.2").to_string(), "MS-NLMP 3.1.5.1.2");
        assert_eq!(
            Source::MsNlmpBehavior(23).to_string(),
            "MS-NLMP Appendix B <23>"
        );
        assert_eq!(Source::Kb(239_869).to_string(), "KB239869");
        assert!(Source::Samba("x.c f()").to_string().starts_with("Samba "));
    }

    #[test]
    fn basis_orders_from_strong_to_weak() {
        assert_eq!(Source::MsNlmp("2.2.2.5").basis(), Basis::Spec);
        assert_eq!(Source::Kb(239_869).basis(), Basis::Documented);
        assert_eq!(Source::Samba("f").basis(), Basis::Observed);
        assert_eq!(Source::Inference("x").basis(), Basis::Inferred);
        assert!(Basis::Spec < Basis::Unconfirmed);
    }
}
