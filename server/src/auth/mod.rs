//! Who is calling: staff (by session token or cookie), devices (by API key) or nobody, and
//! which kinds of caller a route admits ([`Allow`], declared with each route in `http`).

pub mod password;
pub mod session;
pub mod throttle;

use serde::{Deserialize, Serialize};
use std::fmt;

/// A staff member's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Front-desk staff.
    Desk,
    /// A manager: everything desk staff can do, plus estate, devices, staff, unlock, lockdown.
    Manager,
    /// A guard (保安): goods-release permits at the gate, nothing else.
    Guard,
}

impl Role {
    /// The name stored in the database and sent in JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Desk => "desk",
            Role::Manager => "manager",
            Role::Guard => "guard",
        }
    }

    /// Parses a stored or submitted role name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "desk" => Some(Role::Desk),
            "manager" => Some(Role::Manager),
            "guard" => Some(Role::Guard),
            _ => None,
        }
    }
}

/// A logged-in staff member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Staff {
    /// Database id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
}

/// An enrolled device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// The device id (a UUID string).
    pub id: String,
    /// Its name, as the manager gave it.
    pub name: String,
}

/// The caller of a request, as the authorization layer resolved it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// No or unknown credentials.
    Anonymous,
    /// A lobby kiosk.
    Kiosk(Device),
    /// A gate controller.
    Gate(Device),
    /// Front-desk staff.
    Desk(Staff),
    /// A manager.
    Manager(Staff),
    /// A guard.
    Guard(Staff),
    /// The server itself, for what no request asked: the first start, the daily retention job.
    /// Never the caller of a request.
    System(&'static str),
}

impl Actor {
    /// Which kind of caller this is, for a route's [`Allow`].
    pub fn kind(&self) -> ActorKind {
        match self {
            // The server's own jobs never pass the access layer; they get no caller's rights.
            Actor::Anonymous | Actor::System(_) => ActorKind::Anonymous,
            Actor::Kiosk(_) => ActorKind::Kiosk,
            Actor::Gate(_) => ActorKind::Gate,
            Actor::Desk(_) => ActorKind::Desk,
            Actor::Manager(_) => ActorKind::Manager,
            Actor::Guard(_) => ActorKind::Guard,
        }
    }

    /// The staff member, if the caller is one.
    pub fn staff(&self) -> Option<&Staff> {
        match self {
            Actor::Desk(s) | Actor::Manager(s) | Actor::Guard(s) => Some(s),
            _ => None,
        }
    }

    /// The device, if the caller is one.
    pub fn device(&self) -> Option<&Device> {
        match self {
            Actor::Kiosk(d) | Actor::Gate(d) => Some(d),
            _ => None,
        }
    }

    /// How the audit log names this caller, e.g. `manager:admin` or `gate:<device id>`.
    pub fn audit_name(&self) -> String {
        match self {
            Actor::Anonymous => "anonymous".to_owned(),
            Actor::System(job) => format!("system:{job}"),
            Actor::Kiosk(d) => format!("kiosk:{}", d.id),
            Actor::Gate(d) => format!("gate:{}", d.id),
            Actor::Desk(s) => format!("desk:{}", s.username),
            Actor::Manager(s) => format!("manager:{}", s.username),
            Actor::Guard(s) => format!("guard:{}", s.username),
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.audit_name())
    }
}

/// A kind of caller, as a route's access rule names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ActorKind {
    /// No credentials.
    Anonymous,
    /// A kiosk device.
    Kiosk,
    /// A gate device.
    Gate,
    /// Desk staff.
    Desk,
    /// A manager.
    Manager,
    /// A guard.
    Guard,
}

impl ActorKind {
    /// Every column, in order.
    pub const ALL: [ActorKind; 6] = [
        ActorKind::Anonymous,
        ActorKind::Kiosk,
        ActorKind::Gate,
        ActorKind::Desk,
        ActorKind::Manager,
        ActorKind::Guard,
    ];

    const fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// A lowercase name for messages and the OpenAPI description.
    pub const fn name(self) -> &'static str {
        match self {
            ActorKind::Anonymous => "anonymous",
            ActorKind::Kiosk => "kiosk",
            ActorKind::Gate => "gate",
            ActorKind::Desk => "desk",
            ActorKind::Manager => "manager",
            ActorKind::Guard => "guard",
        }
    }
}

/// The set of caller kinds a route admits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allow(u8);

impl Allow {
    /// Anybody, including callers with no credentials.
    pub const ANYONE: Allow = Allow(0b111111);
    /// Kiosk devices.
    pub const KIOSK: Allow = Allow(ActorKind::Kiosk.bit());
    /// Gate devices.
    pub const GATE: Allow = Allow(ActorKind::Gate.bit());
    /// Desk staff and managers.
    pub const STAFF: Allow = Allow(ActorKind::Desk.bit() | ActorKind::Manager.bit());
    /// Managers only.
    pub const MANAGER: Allow = Allow(ActorKind::Manager.bit());
    /// Guards.
    pub const GUARD: Allow = Allow(ActorKind::Guard.bit());
    /// Every logged-in staff member, guards included.
    pub const ANY_STAFF: Allow = Allow::STAFF.or(Allow::GUARD);

    /// The union of two sets.
    pub const fn or(self, other: Allow) -> Allow {
        Allow(self.0 | other.0)
    }

    /// Whether `kind` is admitted.
    pub const fn admits(self, kind: ActorKind) -> bool {
        self.0 & kind.bit() != 0
    }

    /// The admitted kinds, in order.
    pub fn kinds(self) -> impl Iterator<Item = ActorKind> {
        ActorKind::ALL.into_iter().filter(move |k| self.admits(*k))
    }
}

/// Makes a random secret (session token, API key, enrolment token): 32 bytes as hex.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    hex::encode(bytes)
}

/// The stored form of a high-entropy secret: SHA-256 as hex. (Passwords use argon2 instead.)
pub fn secret_hash(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}
