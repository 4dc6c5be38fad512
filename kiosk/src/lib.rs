//! The Gatehouse lobby kiosk: a local web UI that issues visitor passes and worker cards
//! through the server, shows their QR code and prints them on an ESC/POS thermal printer.

pub mod config;
pub mod desk_alarm;
pub mod flows;
pub mod muster;
pub mod permit;
pub mod printer;
pub mod scanner;
pub mod server;
pub mod web;

use config::KioskConfig;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use thiserror::Error;

/// Why the kiosk could not start.
#[derive(Debug, Error)]
pub enum StartError {
    /// The device credential could not be loaded or obtained.
    #[error(transparent)]
    DeviceKey(#[from] server::DeviceKeyError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The logo file could not be read.
    #[error("cannot read logo {path}: {source}")]
    Logo {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// A kiosk bound to its address, ready to serve.
pub struct Application {
    listener: tokio::net::TcpListener,
    router: axum::Router,
}

impl Application {
    /// Loads the device key (enrolling if needed), opens the printer and binds the listener.
    pub async fn build(config: KioskConfig) -> Result<Self, StartError> {
        let port = printer::port::open(&config.printer.backend);
        Self::build_with_port(config, port).await
    }

    /// [`Application::build`] with a printer link made elsewhere (tests drive an emulated
    /// printer on a socket); the configuration's backend is not opened.
    pub async fn build_with_port(
        config: KioskConfig,
        port: Box<dyn printer::port::PrinterPort>,
    ) -> Result<Self, StartError> {
        let server = server::ServerClient::connect(
            config.server_url.clone(),
            &config.device.credential_path,
            config.device.enrolment_token.as_deref(),
            config.server_timeout,
        )
        .await?;
        let logo = match &config.estate.logo_path {
            Some(path) => {
                let bytes = std::fs::read(path).map_err(|source| StartError::Logo {
                    path: path.display().to_string(),
                    source,
                })?;
                let kind = if path.extension().is_some_and(|e| e == "svg") {
                    "image/svg+xml"
                } else {
                    "image/png"
                };
                Some((kind, Arc::new(bytes)))
            }
            None => None,
        };
        let (scans, _) = tokio::sync::broadcast::channel(16);
        if let Some(scanner) = config.scanner.clone() {
            scanner::spawn(scanner, scans.downgrade());
        }
        let state = web::KioskState {
            server,
            printer: printer::Printer::new(
                port,
                config.printer.status_query,
                config.printer.settings,
            )
            .with_raster_font(raster_font()),
            estate_name: config.estate.name.clone(),
            time_zone: config.estate.time_zone,
            idle_timeout: config.idle_timeout,
            languages: config.languages.clone(),
            logo,
            scans,
            prints: Arc::default(),
            printer_alarm: Arc::new(Mutex::new(None)),
            desk_alarms: desk_alarm::DeskAlarms::default(),
            muster: Arc::default(),
            muster_config: config.muster.clone(),
        };
        web::api::spawn_paper_watch(state.clone());
        web::api::spawn_muster_watch(state.clone());
        web::api::spawn_staff_cards(state.clone());
        permit::spawn_permit_jobs(state.clone());
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.listen,
                source,
            })?;
        Ok(Application {
            listener,
            router: web::router(state),
        })
    }

    /// The address actually bound (port 0 becomes a real port).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound TCP listener has a local address")
    }

    /// Serves until `shutdown` completes.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// The system CJK font for lines the printer's font cannot print, or `None` with a warning.
fn raster_font() -> Option<printer::glyphs::RasterFont> {
    let font = printer::glyphs::RasterFont::system();
    if font.is_none() {
        tracing::warn!(
            "no CJK font found (install fonts-noto-cjk): characters outside GBK are sent as GB18030 text"
        );
    }
    font
}
