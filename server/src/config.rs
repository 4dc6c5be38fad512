//! Configuration: command-line flags, each with a `GATEHOUSE_*` environment override, over an
//! optional TOML file, over defaults. Every value is checked here and a bad one is refused with
//! a message naming it.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The flags of `gatehouse-server` that configure it (each with a `GATEHOUSE_*` override);
/// the command line around them is [`crate::cli::Cli`].
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Flags {
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
    /// `trusted_proxies = ["127.0.0.1"]`: reverse proxies whose client address header is
    /// believed.
    pub trusted_proxies: Option<Vec<String>>,
    /// `client_address_header = "X-Forwarded-For"`: where those proxies put the client's
    /// address (the last entry of a list is used: the one the proxy itself added).
    pub client_address_header: Option<String>,
    /// `max_connections = 4096`: most client connections open at once (never more than the
    /// process's file limit allows).
    pub max_connections: Option<usize>,
    /// `header_read_timeout_secs = 10`: a connection that sends no complete request head for
    /// this long (also while idle between requests) is closed.
    pub header_read_timeout_secs: Option<u64>,
}

/// How the server learns a client's address: the TCP peer, or, when the peer is a trusted
/// reverse proxy, the address that proxy puts in a header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientAddress {
    /// Proxies whose header is believed; empty: the header is never read.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The header (lowercase), set exactly when `trusted_proxies` is not empty.
    pub header: Option<axum::http::HeaderName>,
}

impl ClientAddress {
    fn from_file(file: &FileConfig) -> Result<ClientAddress, ConfigError> {
        let proxies = file.trusted_proxies.clone().unwrap_or_default();
        let trusted_proxies = proxies
            .iter()
            .map(|p| {
                p.parse().map_err(|_| ConfigError::Invalid {
                    key: "trusted_proxies",
                    message: format!("`{p}` is not an IP address"),
                })
            })
            .collect::<Result<Vec<std::net::IpAddr>, _>>()?;
        let header = file
            .client_address_header
            .as_deref()
            .map(|h| {
                axum::http::HeaderName::try_from(h).map_err(|_| ConfigError::Invalid {
                    key: "client_address_header",
                    message: format!("`{h}` is not a header name"),
                })
            })
            .transpose()?;
        if header.is_some() == trusted_proxies.is_empty() {
            return Err(ConfigError::Invalid {
                key: "client_address_header",
                message: "set both client_address_header and trusted_proxies, or neither".into(),
            });
        }
        Ok(ClientAddress {
            trusted_proxies,
            header,
        })
    }

    /// The client's address: the header's (last) entry when `peer` is a trusted proxy and
    /// the entry is an address, else `peer` itself.
    pub fn of(&self, peer: std::net::IpAddr, headers: &axum::http::HeaderMap) -> std::net::IpAddr {
        let Some(header) = &self.header else {
            return peer;
        };
        if !self.trusted_proxies.contains(&peer) {
            return peer;
        }
        headers
            .get_all(header)
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(peer)
    }
}

pub use gatehouse_shell::secret::Secret;

/// The validated configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Database and signing key live here.
    pub data_dir: PathBuf,
    /// The first manager's password, if given.
    pub admin_password: Option<Secret>,
    /// Where a client's address comes from (login throttling keys on it).
    pub client_address: ClientAddress,
    /// Bounds on client connections.
    pub limits: crate::connections::ConnectionLimits,
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
            client_address: ClientAddress::default(),
            limits: crate::connections::ConnectionLimits::default(),
            overstay_grace: crate::domain::overstay::DEFAULT_GRACE,
        }
    }

    /// Builds the configuration from the flags (and their env overrides) and the file.
    pub fn load(cli: Flags) -> Result<Config, ConfigError> {
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
    pub fn merge(cli: Flags, file: FileConfig) -> Result<Config, ConfigError> {
        let client_address = ClientAddress::from_file(&file)?;
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
            crate::auth::password::check(p.expose()).map_err(|e| ConfigError::Invalid {
                key: "GATEHOUSE_ADMIN_PASSWORD",
                message: e.to_string(),
            })?;
        }
        let defaults = crate::connections::ConnectionLimits::default();
        let max_connections = file.max_connections.unwrap_or(defaults.max_connections);
        if max_connections == 0 {
            return Err(ConfigError::Invalid {
                key: "max_connections",
                message: "must be at least 1".into(),
            });
        }
        let header_read_timeout = match file.header_read_timeout_secs {
            Some(0) => {
                return Err(ConfigError::Invalid {
                    key: "header_read_timeout_secs",
                    message: "must be at least 1".into(),
                });
            }
            Some(secs) => std::time::Duration::from_secs(secs),
            None => defaults.header_read_timeout,
        };
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
            client_address,
            limits: crate::connections::ConnectionLimits {
                max_connections,
                header_read_timeout,
            },
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
        let cli = Flags {
            listen: Some("127.0.0.1:7000".into()),
            ..Flags::default()
        };
        let c = Config::merge(cli, file).unwrap();
        assert_eq!(c.listen.port(), 7000);
        assert_eq!(c.data_dir, PathBuf::from("/srv/g"));
        let d = Config::merge(Flags::default(), FileConfig::default()).unwrap();
        assert_eq!(d.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(d.data_dir, PathBuf::from("./data"));
        assert_eq!(d.overstay_grace, chrono::Duration::hours(2));
        let file: FileConfig = toml::from_str("overstay_grace_minutes = 30").unwrap();
        let c = Config::merge(Flags::default(), file).unwrap();
        assert_eq!(c.overstay_grace, chrono::Duration::minutes(30));
    }

    #[test]
    fn bad_values_are_named() {
        let cli = Flags {
            listen: Some("localhost".into()),
            ..Flags::default()
        };
        let e = Config::merge(cli, FileConfig::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("listen") && e.contains("localhost"), "{e}");
        let e = toml::from_str::<FileConfig>("lisen = \"x\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("lisen"), "{e}");
        let cli = Flags {
            admin_password: Some("short".into()),
            ..Flags::default()
        };
        let e = Config::merge(cli, FileConfig::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("GATEHOUSE_ADMIN_PASSWORD"), "{e}");
        assert!(!format!("{:?}", Secret::new("hunter2")).contains("hunter2"));
        let cli = Flags {
            admin_password: Some("password123".into()),
            ..Flags::default()
        };
        assert!(Config::merge(cli, FileConfig::default()).is_err());
        let file: FileConfig = toml::from_str("overstay_grace_minutes = 0").unwrap();
        let e = Config::merge(Flags::default(), file)
            .unwrap_err()
            .to_string();
        assert!(e.contains("overstay_grace_minutes"), "{e}");
    }

    #[test]
    fn client_address_header_is_believed_only_from_a_trusted_proxy() {
        let file: FileConfig = toml::from_str(
            "trusted_proxies = [\"10.0.0.1\"]\nclient_address_header = \"X-Forwarded-For\"",
        )
        .unwrap();
        let c = Config::merge(Flags::default(), file)
            .unwrap()
            .client_address;
        let mut h = axum::http::HeaderMap::new();
        h.insert("x-forwarded-for", "1.2.3.4, 203.0.113.9".parse().unwrap());
        let proxy: std::net::IpAddr = "10.0.0.1".parse().unwrap();
        let other: std::net::IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(c.of(proxy, &h).to_string(), "203.0.113.9");
        assert_eq!(c.of(other, &h), other);
        assert_eq!(ClientAddress::default().of(proxy, &h), proxy);
        let half: FileConfig = toml::from_str("client_address_header = \"X-Real-IP\"").unwrap();
        assert!(Config::merge(Flags::default(), half).is_err());
    }
}
