//! What the tool takes from the operating system on behalf of every
//! command: the clock, and the files named on the command line (messages,
//! catalogs).
//! The simulator and its views never do either (docs/ARCHITECTURE.md).

use std::io::Read;

use ntlm_sim::input::{InputError, Source, read_limited};
use ntlm_sim::profiles::Catalog;

use super::CliError;

/// The wall clock as a FILETIME: the one place the program reads the time
/// of day; the simulator takes it as an argument.
pub(crate) fn filetime_now() -> ntlm_wire::FileTime {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    ntlm_wire::FileTime::from_unix(since.as_secs(), since.subsec_nanos())
}

/// Resolves a MESSAGE argument: `@FILE` reads the file, `-` reads `stdin`,
/// anything else is the text itself.
pub(crate) fn load(arg: &str, stdin: &mut dyn Read) -> Result<(Source, Vec<u8>), InputError> {
    if arg == "-" {
        let data = read_limited(stdin, &Source::Stdin)?;
        return Ok((Source::Stdin, data));
    }
    if let Some(path) = arg.strip_prefix('@') {
        let source = Source::File(path.to_owned());
        let mut file = std::fs::File::open(path).map_err(|error| InputError::Read {
            source: source.clone(),
            error,
        })?;
        let data = read_limited(&mut file, &source)?;
        return Ok((source, data));
    }
    Ok((Source::Argument, arg.as_bytes().to_vec()))
}

/// The built-in catalog, plus `file`'s profiles when given (replacing
/// built-in ones of the same name). Returns the catalog and the names replaced.
pub(crate) fn load_catalog(file: Option<&str>) -> Result<(Catalog, Vec<String>), CliError> {
    let mut catalog =
        Catalog::builtin().map_err(|e| CliError::new(format!("built-in profiles: {e}")))?;
    let Some(path) = file else {
        return Ok((catalog, Vec::new()));
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::new(format!("cannot read catalog {path}: {e}")))?;
    let user = Catalog::from_user_toml(&text, path)
        .map_err(|e| CliError::new(format!("catalog {path}: {e}")))?;
    let replaced = catalog.merge(user);
    Ok((catalog, replaced))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_files_and_stdin() {
        let mut stdin: &[u8] = b"from stdin";
        let (src, data) = load("-", &mut stdin).unwrap();
        assert_eq!(src, Source::Stdin);
        assert_eq!(data, b"from stdin");
        let (src, data) = load("abc", &mut stdin).unwrap();
        assert_eq!((src, data), (Source::Argument, b"abc".to_vec()));
        let e = load("@/nonexistent/ntlmsim-input", &mut stdin).unwrap_err();
        assert!(
            e.to_string().starts_with("cannot read file /nonexistent"),
            "{e}"
        );
    }
}
