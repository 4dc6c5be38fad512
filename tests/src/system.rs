//! The whole system for a story: a server on a fixed free port (so gates find it again after a
//! restart), the example estate, enrolled gates on harness ptys, and an enrolled kiosk.

use crate::estate::Estate;
use crate::gate::{self, GateSetup, ScannerSource};
use crate::kiosk::{self, KioskFiles};
use crate::process::Running;
use crate::scanner::ScannerPty;
use crate::server::{self, ADMIN_PASSWORD, Api};
use crate::{HarnessError, Result};
use gatehouse_credential::Zone;
use gatehouse_credential::api::device::DeviceKind;
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

/// A free loopback port, released for the program to bind.
pub fn free_port() -> Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(HarnessError::io("finding a free port"))
}

/// One enrolled gate and the pty its scanner is on.
#[derive(Debug)]
pub struct StoryGate {
    /// How it is set up.
    pub setup: GateSetup,
    /// The process.
    pub process: Running,
    /// Where the harness "scans".
    pub scanner: ScannerPty,
}

impl StoryGate {
    /// Its status URL.
    pub fn url(&self) -> &str {
        self.process.url()
    }

    /// Somebody walks through its door: the simulated door contact opens and closes (the gate
    /// answers each once it has seen it).
    pub fn walk_through(&self) -> Result<()> {
        let url = format!("{}/sim/door", self.url());
        for open in [true, false] {
            crate::server::expect_ok(
                "POST /sim/door",
                crate::server::http_client()
                    .post(&url)
                    .json(&serde_json::json!({ "open": open })),
            )?;
        }
        Ok(())
    }

    /// Scans `text` and returns the gate's decision on it.
    pub fn scan(&mut self, text: &str) -> Result<gate::Decision> {
        let before = gate::last_decision(self.process.url())?;
        self.scanner.scan(text)?;
        gate::next_decision(self.process.url(), before.as_ref(), Duration::from_secs(5))
    }
}

/// Everything a story drives.
#[derive(Debug)]
pub struct System {
    /// Holds every program's data; removed at the end unless `GATEHOUSE_E2E_KEEP` is set.
    pub dir: tempfile::TempDir,
    /// The server's listen address, kept across restarts.
    pub server_listen: String,
    /// The server process, `None` while it is stopped.
    pub server: Option<Running>,
    /// The manager's API client.
    pub api: Api,
    /// The estate.
    pub estate: Estate,
    /// The gates, in the order of the zones asked for.
    pub gates: Vec<StoryGate>,
    /// The kiosk.
    pub kiosk: Option<Running>,
    /// The kiosk's files.
    pub kiosk_files: KioskFiles,
}

impl System {
    /// Starts the server alone, on a fresh data dir and a fixed free port.
    pub fn start_server() -> Result<(tempfile::TempDir, String, Running)> {
        let dir = tempfile::Builder::new()
            .prefix("gatehouse-e2e-")
            .tempdir()
            .map_err(HarnessError::io("creating a temporary dir"))?;
        let listen = format!("127.0.0.1:{}", free_port()?);
        let server_dir = dir.path().join("server");
        std::fs::create_dir_all(&server_dir)
            .map_err(HarnessError::io("creating the server dir"))?;
        let server = Running::start(server::launch(&server_dir, &listen, ADMIN_PASSWORD))?;
        Ok((dir, listen, server))
    }

    /// The whole system on a new server: the estate, one gate per zone in `gate_zones`, and a
    /// kiosk when asked.
    pub fn launch(gate_zones: &[Zone], with_kiosk: bool) -> Result<System> {
        let (dir, listen, server) = System::start_server()?;
        System::start(dir, listen, server, gate_zones, with_kiosk)
    }

    /// The whole system around a server already started: the estate, one gate per zone in
    /// `gate_zones`, and a kiosk when asked.
    pub fn start(
        dir: tempfile::TempDir,
        server_listen: String,
        server: Running,
        gate_zones: &[Zone],
        with_kiosk: bool,
    ) -> Result<System> {
        let api = Api::admin(server.url())?;
        let estate = Estate::example();
        api.create_estate(&estate)?;
        let kiosk_files = KioskFiles::new(&dir.path().join("kiosk"));
        let kiosk = if with_kiosk {
            let device = api.create_device(DeviceKind::Kiosk, "lobby kiosk", None)?;
            Some(Running::start(kiosk::launch(
                &kiosk_files,
                server.url(),
                "127.0.0.1:0",
                Some(&device.enrolment_token),
            )?)?)
        } else {
            None
        };
        let mut system = System {
            dir,
            server_listen,
            server: Some(server),
            api,
            estate,
            gates: Vec::new(),
            kiosk,
            kiosk_files,
        };
        for zone in gate_zones {
            system.add_gate(zone, "")?;
        }
        system.wait_gates_synced()?;
        Ok(system)
    }

    /// Enrols and starts one more gate guarding `zone`, with more `[door]` lines in
    /// `door_extra` (e.g. `goods_check = true`); returns its index. Does not wait for its sync.
    pub fn add_gate(&mut self, zone: &Zone, door_extra: &str) -> Result<usize> {
        let i = self.gates.len();
        let name = self
            .estate
            .door(zone)
            .map(|d| d.name.to_owned())
            .unwrap_or_else(|| format!("gate {i}"));
        let device = self
            .api
            .create_device(DeviceKind::Gate, &name, Some(zone))?;
        let scanner = ScannerPty::open()?;
        let mut setup = GateSetup::new(
            &self.dir.path().join(format!("gate-{i}")),
            zone.clone(),
            ScannerSource::Port(scanner.slave_path().to_path_buf()),
        );
        setup.server = Some(self.api.base().to_owned());
        setup.enrolment_token = Some(device.enrolment_token);
        setup.door_extra = door_extra.to_owned();
        let process = Running::start(gate::launch(&setup, "127.0.0.1:0")?)?;
        self.gates.push(StoryGate {
            setup,
            process,
            scanner,
        });
        Ok(i)
    }

    /// Restarts gate `index` on its data (it is enrolled already) with its wall clock shifted
    /// by `clock_offset_secs`. Online, it syncs with the server again (and is waited for);
    /// offline, it decides on the keys, calendar and revocations it last synced, so a shifted
    /// clock is not contradicted by the server's time.
    pub fn restart_gate(
        &mut self,
        index: usize,
        clock_offset_secs: Option<i64>,
        online: bool,
    ) -> Result<()> {
        let mut g = self.gates.remove(index);
        g.process.terminate(Duration::from_secs(10))?;
        g.setup.clock_offset_secs = clock_offset_secs;
        g.setup.server = online.then(|| self.api.base().to_owned());
        if g.setup.is_enrolled() {
            g.setup.enrolment_token = None;
        }
        let process = Running::start(gate::launch(&g.setup, "127.0.0.1:0")?)?;
        self.gates.insert(
            index,
            StoryGate {
                setup: g.setup,
                process,
                scanner: g.scanner,
            },
        );
        if online {
            self.wait_gate_synced(index)?;
        }
        Ok(())
    }

    /// Waits until every gate has reached the server at least once.
    pub fn wait_gates_synced(&self) -> Result<()> {
        (0..self.gates.len()).try_for_each(|i| self.wait_gate_synced(i))
    }

    /// Waits until gate `index` has reached the server at least once.
    pub fn wait_gate_synced(&self, index: usize) -> Result<()> {
        let url = self.gates[index].url();
        crate::wait_for(
            "the gate to sync with the server",
            Duration::from_secs(30),
            || {
                let s = gate::GateStatus::fetch(url).ok()?;
                (s.server_reachable() == Some(true) && s.device_id().is_some()).then_some(())
            },
        )
    }

    /// The kiosk's base URL.
    pub fn kiosk_url(&self) -> Result<&str> {
        self.kiosk
            .as_ref()
            .map(Running::url)
            .ok_or_else(|| HarnessError::Http {
                call: "kiosk".into(),
                message: "this system has no kiosk".into(),
            })
    }

    /// Stops the server (SIGKILL when `hard`, else SIGTERM).
    pub fn stop_server(&mut self, hard: bool) -> Result<()> {
        if let Some(server) = self.server.take() {
            if hard {
                server.kill9()?;
            } else {
                server.terminate(Duration::from_secs(10))?;
            }
        }
        Ok(())
    }

    /// Starts the server again on the same address and data.
    pub fn restart_server(&mut self) -> Result<()> {
        let server_dir = self.dir.path().join("server");
        let server = Running::start(server::launch(
            &server_dir,
            &self.server_listen,
            ADMIN_PASSWORD,
        ))?;
        self.api = Api::admin(server.url())?;
        self.server = Some(server);
        Ok(())
    }

    /// Where the data is.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

impl Drop for System {
    fn drop(&mut self) {
        if std::env::var_os("GATEHOUSE_E2E_KEEP").is_some() {
            let path = self.dir.path().to_path_buf();
            eprintln!("keeping {}", path.display());
            // Replace the dir with a fresh one so the TempDir drop leaves the data in place.
            if let Ok(spare) = tempfile::tempdir() {
                let kept = std::mem::replace(&mut self.dir, spare);
                let _ = kept.keep();
            }
        }
    }
}
