//! A program's TOML config file, read into its typed form with an error that names the file and
//! the line.

use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why a config file gave no value.
#[derive(Debug, Error)]
pub enum FileError {
    /// The file could not be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The text is not TOML of the expected shape (unknown or mistyped keys included).
    #[error("config file {} is not valid: {message}", path.display())]
    Parse {
        /// The file (`<text>` for text given directly).
        path: PathBuf,
        /// The parser's explanation, with line and column.
        message: String,
    },
}

/// Reads `path` as a `T`.
pub fn read_toml<T: DeserializeOwned>(path: &Path) -> Result<T, FileError> {
    let text = std::fs::read_to_string(path).map_err(|source| FileError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, path)
}

/// Parses TOML text given directly (tests, an example file).
pub fn parse_toml<T: DeserializeOwned>(text: &str) -> Result<T, FileError> {
    parse(text, Path::new("<text>"))
}

fn parse<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T, FileError> {
    toml::from_str(text).map_err(|e| FileError::Parse {
        path: path.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        listen: String,
        #[serde(default)]
        retries: u8,
    }

    #[test]
    fn a_bad_file_is_explained_with_its_path_line_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sample.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:1\"\nretires = 3\n").unwrap();
        let e = read_toml::<Sample>(&path).unwrap_err().to_string();
        assert!(e.contains("sample.toml"), "{e}");
        assert!(e.contains("line 2"), "{e}");
        assert!(e.contains("retires"), "{e}");

        let e = parse_toml::<Sample>("listen = \"x\"\nretries = 300\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("<text>") && e.contains("line 2"), "{e}");

        let e = read_toml::<Sample>(&dir.path().join("missing.toml")).unwrap_err();
        assert!(matches!(e, FileError::Read { .. }), "{e}");
        assert!(e.to_string().contains("missing.toml"), "{e}");
    }

    #[test]
    fn a_good_file_gives_the_typed_value() {
        let s: Sample = parse_toml("listen = \"127.0.0.1:8080\"").unwrap();
        assert_eq!(s.listen, "127.0.0.1:8080");
        assert_eq!(s.retries, 0);
    }
}
