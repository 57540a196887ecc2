//! The style sheet and script of the HTML reports, kept as asset files and
//! inlined into each report (the reports fetch nothing).

/// The style sheet of the interop report and the capture audit.
pub(crate) const CSS: &str = include_str!("../assets/report.css");

/// The interop report's script: reads the pairs' JSON and fills the details
/// panel.
pub(crate) const SCRIPT: &str = include_str!("../assets/report.js");
