//! The `ntlmsim` command-line tool.
fn main() {}
