//! Configuration: command-line flags, each with a `GATEHOUSE_*` environment override, over an
//! optional TOML file, over defaults. Every value is checked here and a bad one is refused with
//! a message naming it.

use clap::Parser;
use serde::Deserialize;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The command line of `gatehouse-server`.
#[derive(Debug, Clone, Default, Parser)]
#[command(
    name = "gatehouse-server",
    version,
    about = "Gatehouse server: system of record, credential signer, gate sync"
)]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, env = "GATEHOUSE_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "GATEHOUSE_LISTEN")]
    pub listen: Option<String>,
    /// Directory for the database and the signing keys [default: ./data].
    #[arg(long, env = "GATEHOUSE_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Password of the first manager account `admin`, used only when no staff account exists.
    #[arg(long, env = "GATEHOUSE_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// What to do instead of serving (the default is to serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// An operation on the data directory instead of serving.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum Command {
    /// Signing keys: list, add, activate, retire. Safe while the server runs: it picks the
    /// change up from the database and gates learn it within a second.
    #[command(subcommand)]
    Keys(crate::keys::console::KeysCommand),
    /// Copies the database with SQLite's online backup API (safe while the server runs),
    /// fsyncs it and checks it with `PRAGMA integrity_check`.
    Backup {
        /// The backup file to create, or an existing directory to create
        /// `gatehouse-<UTC time>.db` in.
        #[arg(long)]
        to: PathBuf,
    },
    /// Replaces the database with a backup, keeping the previous one as
    /// `gatehouse.db.before-restore`; refused while a server runs on the data directory.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
    },
}

/// The TOML file. Unknown keys are an error so a typo is not silently ignored.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `listen = "127.0.0.1:8080"`.
    pub listen: Option<String>,
    /// `data_dir = "/var/lib/gatehouse"`.
    pub data_dir: Option<PathBuf>,
    /// `overstay_grace_minutes = 120`: how long after a visitor pass ends it is signed out
    /// automatically.
    pub overstay_grace_minutes: Option<u32>,
}

/// A secret that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself; use only where it is needed (hashing, comparing).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The validated configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Database and signing key live here.
    pub data_dir: PathBuf,
    /// The first manager's password, if given.
    pub admin_password: Option<Secret>,
    /// How long after its end an overstaying visitor pass is signed out automatically.
    pub overstay_grace: chrono::Duration,
}

/// What is wrong with the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not valid TOML or has unknown or mistyped keys.
    #[error("config file {path} is invalid: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The TOML parser's explanation.
        message: String,
    },
    /// A value is out of range or malformed.
    #[error("{key}: {message}")]
    Invalid {
        /// The flag, env var or key at fault.
        key: &'static str,
        /// Why.
        message: String,
    },
}

impl Config {
    /// Defaults for tests: listen on 127.0.0.1 port 0, data in `data_dir`.
    pub fn for_tests(data_dir: &Path) -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.to_owned(),
            admin_password: None,
            overstay_grace: crate::domain::overstay::DEFAULT_GRACE,
        }
    }

    /// Builds the configuration from the command line (and its env overrides) and the file.
    pub fn load(cli: Cli) -> Result<Config, ConfigError> {
        let file = match &cli.config {
            Some(path) => Self::read_file(path)?,
            None => FileConfig::default(),
        };
        Self::merge(cli, file)
    }

    fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.message().to_owned(),
        })
    }

    /// Flags and env win over the file, the file over defaults.
    pub fn merge(cli: Cli, file: FileConfig) -> Result<Config, ConfigError> {
        let listen_text = cli
            .listen
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let listen = listen_text.parse().map_err(|_| ConfigError::Invalid {
            key: "listen (--listen, GATEHOUSE_LISTEN)",
            message: format!("`{listen_text}` is not an address like 127.0.0.1:8080"),
        })?;
        let data_dir = cli
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./data"));
        if data_dir.as_os_str().is_empty() {
            return Err(ConfigError::Invalid {
                key: "data_dir (--data-dir, GATEHOUSE_DATA_DIR)",
                message: "must not be empty".into(),
            });
        }
        let admin_password = cli
            .admin_password
            .filter(|p| !p.is_empty())
            .map(Secret::new);
        if let Some(p) = &admin_password {
            if p.expose().chars().count() < crate::auth::password::MIN_LEN {
                return Err(ConfigError::Invalid {
                    key: "GATEHOUSE_ADMIN_PASSWORD",
                    message: format!(
                        "must be at least {} characters long",
                        crate::auth::password::MIN_LEN
                    ),
                });
            }
        }
        let overstay_grace = match file.overstay_grace_minutes {
            None => crate::domain::overstay::DEFAULT_GRACE,
            Some(m) if (1..=7 * 24 * 60).contains(&m) => chrono::Duration::minutes(i64::from(m)),
            Some(m) => {
                return Err(ConfigError::Invalid {
                    key: "overstay_grace_minutes",
                    message: format!("{m} is not 1–10080 minutes (up to a week)"),
                });
            }
        };
        Ok(Config {
            listen,
            data_dir,
            admin_password,
            overstay_grace,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_file_and_defaults_fill_the_rest() {
        let file: FileConfig =
            toml::from_str("listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/g\"").unwrap();
        let cli = Cli {
            listen: Some("127.0.0.1:7000".into()),
            ..Cli::default()
        };
        let c = Config::merge(cli, file).unwrap();
        assert_eq!(c.listen.port(), 7000);
        assert_eq!(c.data_dir, PathBuf::from("/srv/g"));
        let d = Config::merge(Cli::default(), FileConfig::default()).unwrap();
        assert_eq!(d.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(d.data_dir, PathBuf::from("./data"));
        assert_eq!(d.overstay_grace, chrono::Duration::hours(2));
        let file: FileConfig = toml::from_str("overstay_grace_minutes = 30").unwrap();
        let c = Config::merge(Cli::default(), file).unwrap();
        assert_eq!(c.overstay_grace, chrono::Duration::minutes(30));
    }

    #[test]
    fn bad_values_are_named() {
        let cli = Cli {
            listen: Some("localhost".into()),
            ..Cli::default()
        };
        let e = Config::merge(cli, FileConfig::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("listen") && e.contains("localhost"), "{e}");
        let e = toml::from_str::<FileConfig>("lisen = \"x\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("lisen"), "{e}");
        let cli = Cli {
            admin_password: Some("short".into()),
            ..Cli::default()
        };
        let e = Config::merge(cli, FileConfig::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("GATEHOUSE_ADMIN_PASSWORD"), "{e}");
        assert!(!format!("{:?}", Secret::new("hunter2")).contains("hunter2"));
        let file: FileConfig = toml::from_str("overstay_grace_minutes = 0").unwrap();
        let e = Config::merge(Cli::default(), file).unwrap_err().to_string();
        assert!(e.contains("overstay_grace_minutes"), "{e}");
    }
}
