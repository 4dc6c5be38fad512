//! A route's one declaration: method, path, handler, who may call it, and how the OpenAPI
//! document describes it. The router, the access layer and the OpenAPI document are all built
//! from these declarations, and `docs/ROUTES.md` is generated from them.

use super::openapi::{Io, Reply};
use crate::auth::{ActorKind, Allow};
use crate::state::AppState;
use axum::http::Method;
use axum::routing::MethodRouter;

/// A handler at a method and path, with its access rule and documentation.
///
/// ```text
/// Endpoint::new(Method::GET, "/api/v1/alarms", get(list))
///     .allow(Allow::STAFF)
///     .doc("alarms", "Open alarms")
///     .io(Io::ok(list::<Alarm>))
/// ```
pub struct Endpoint {
    /// HTTP method.
    pub method: Method,
    /// Route path, e.g. `/api/v1/devices/{id}`.
    pub path: &'static str,
    /// The handler (built with `axum::routing::get(...)` etc.).
    pub handler: MethodRouter<AppState>,
    allow: Option<Allow>,
    doc: Option<(&'static str, &'static str)>,
    io: Option<Io>,
}

impl Endpoint {
    /// A handler for `method` at `path`; declare its access with [`Endpoint::allow`] and its
    /// documentation with [`Endpoint::doc`] (and [`Endpoint::io`] under `/api/v1`).
    pub fn new(method: Method, path: &'static str, handler: MethodRouter<AppState>) -> Self {
        Endpoint {
            method,
            path,
            handler,
            allow: None,
            doc: None,
            io: None,
        }
    }

    /// Who may call it.
    pub fn allow(self, allow: Allow) -> Self {
        Endpoint {
            allow: Some(allow),
            ..self
        }
    }

    /// Its OpenAPI tag and one-line summary.
    pub fn doc(self, tag: &'static str, summary: &'static str) -> Self {
        Endpoint {
            doc: Some((tag, summary)),
            ..self
        }
    }

    /// What it takes and answers (routes under `/api/v1` only).
    pub fn io(self, io: Io) -> Self {
        Endpoint {
            io: Some(io),
            ..self
        }
    }

    /// The declaration without the handler, checked to be complete.
    pub fn route(&self) -> Result<Route, RouteError> {
        let at = || (self.method.clone(), self.path);
        let allow = self.allow.ok_or_else(|| RouteError::NoAccessRule(at()))?;
        let (tag, summary) = self
            .doc
            .filter(|(tag, summary)| !tag.is_empty() && !summary.is_empty())
            .ok_or_else(|| RouteError::NoSummary(at()))?;
        let io = match (self.path.starts_with(API_PREFIX), self.io) {
            (true, Some(io)) if !matches!(io.reply, Reply::NotApi) => io,
            (true, _) => return Err(RouteError::NoIo(at())),
            (false, None) => Io::NOT_API,
            (false, Some(_)) => return Err(RouteError::IoOutsideApi(at())),
        };
        if !self.path.starts_with('/') {
            return Err(RouteError::BadPath(at()));
        }
        Ok(Route {
            method: self.method.clone(),
            path: self.path,
            allow,
            tag,
            summary,
            io,
        })
    }
}

/// The routes the OpenAPI document describes start with this.
pub const API_PREFIX: &str = "/api/v1/";

/// What a route is, without its handler.
#[derive(Clone, Debug)]
pub struct Route {
    /// HTTP method.
    pub method: Method,
    /// The route as axum writes it, e.g. `/api/v1/devices/{id}`.
    pub path: &'static str,
    /// Who may call it.
    pub allow: Allow,
    /// OpenAPI tag.
    pub tag: &'static str,
    /// One line for the OpenAPI document and the route table.
    pub summary: &'static str,
    /// Parameters, request and response bodies, for the OpenAPI document.
    pub io: Io,
}

/// A route declared incompletely or twice (a programming error: startup fails).
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// No `.allow(...)`.
    #[error("route {} {} does not say who may call it (.allow)", .0.0, .0.1)]
    NoAccessRule((Method, &'static str)),
    /// No `.doc(tag, summary)`, or an empty one.
    #[error("route {} {} has no tag and summary (.doc)", .0.0, .0.1)]
    NoSummary((Method, &'static str)),
    /// An `/api/v1` route without `.io(...)`.
    #[error("API route {} {} does not say what it takes and answers (.io)", .0.0, .0.1)]
    NoIo((Method, &'static str)),
    /// `.io(...)` on a page or an operations route, which the OpenAPI document leaves out.
    #[error("route {} {} is outside /api/v1 but declares .io", .0.0, .0.1)]
    IoOutsideApi((Method, &'static str)),
    /// A path that does not start with `/`.
    #[error("route {} {} does not start with /", .0.0, .0.1)]
    BadPath((Method, &'static str)),
    /// Two declarations of one method and path.
    #[error("route {} {} is declared twice", .0.0, .0.1)]
    Duplicate((Method, &'static str)),
}

/// Checks every declaration and that no method and path is declared twice.
pub fn routes_of(endpoints: &[Endpoint]) -> Result<Vec<Route>, RouteError> {
    let mut routes: Vec<Route> = Vec::with_capacity(endpoints.len());
    for endpoint in endpoints {
        let route = endpoint.route()?;
        if routes
            .iter()
            .any(|r| r.method == route.method && r.path == route.path)
        {
            return Err(RouteError::Duplicate((route.method, route.path)));
        }
        routes.push(route);
    }
    Ok(routes)
}

/// How the route table names a set of callers: `anyone`, or the kinds joined by `, `.
pub fn callers(allow: Allow) -> String {
    if allow == Allow::ANYONE {
        return "anyone".to_owned();
    }
    allow
        .kinds()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads a set of callers as [`callers`] writes it.
pub fn parse_callers(text: &str) -> Option<Vec<ActorKind>> {
    if text.trim() == "anyone" {
        return Some(ActorKind::ALL.to_vec());
    }
    text.split(',')
        .map(|name| ActorKind::ALL.into_iter().find(|k| k.name() == name.trim()))
        .collect()
}

/// The header of `docs/ROUTES.md`, before the table.
const TABLE_HEAD: &str = "\
# Routes: who may call what

Every route of the server, the callers it admits and what it does. Generated from the route
declarations in `src/http/*.rs` (`Endpoint::new(...).allow(...).doc(...)`); a test fails when
this file is stale, and `UPDATE_ROUTES=1 cargo test -p gatehouse-server --test it routes_table`
rewrites it. The authorization test calls every route below as every kind of caller and
expects exactly the callers listed here to get past the access layer.

Callers: `anonymous` (no credentials), `kiosk` and `gate` (a device's API key), `desk`,
`manager` and `guard` (a staff session; a guard works goods-release permits only). A page refused to an anonymous caller redirects to `/login`.

| Method | Path | Who may call | What it does |
|---|---|---|---|
";

/// The route table as checked in at `docs/ROUTES.md`: sorted by path, then method.
pub fn table(routes: &[Route]) -> String {
    let mut sorted: Vec<&Route> = routes.iter().collect();
    sorted.sort_by(|a, b| (a.path, a.method.as_str()).cmp(&(b.path, b.method.as_str())));
    let mut out = TABLE_HEAD.to_owned();
    for r in sorted {
        out.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            r.method,
            r.path,
            callers(r.allow),
            r.summary.replace('|', "\\|")
        ));
    }
    out
}

/// One row of the checked-in table, read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableRow {
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// The route, e.g. `/api/v1/devices/{id}`.
    pub path: String,
    /// The callers it admits.
    pub callers: Vec<ActorKind>,
}

/// Reads the rows of a table written by [`table`]; `None` names the first line it cannot read.
pub fn parse_table(text: &str) -> Result<Vec<TableRow>, String> {
    let mut rows = Vec::new();
    for line in text
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Method"))
    {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        let [method, path, who, ..] = cells[..] else {
            return Err(line.to_owned());
        };
        let callers = parse_callers(who).ok_or_else(|| line.to_owned())?;
        rows.push(TableRow {
            method: method.to_owned(),
            path: path.trim_matches('`').to_owned(),
            callers,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;

    async fn nothing() {}

    fn endpoint(path: &'static str) -> Endpoint {
        Endpoint::new(Method::GET, path, get(nothing))
    }

    #[test]
    fn an_incomplete_or_repeated_declaration_is_refused() {
        let api = "/api/v1/things";
        let cases = [
            (
                endpoint(api).doc("t", "s").io(Io::NO_CONTENT),
                "NoAccessRule",
            ),
            (
                endpoint(api).allow(Allow::STAFF).io(Io::NO_CONTENT),
                "NoSummary",
            ),
            (endpoint(api).allow(Allow::STAFF).doc("t", ""), "NoSummary"),
            (endpoint(api).allow(Allow::STAFF).doc("t", "s"), "NoIo"),
            (
                endpoint("/page")
                    .allow(Allow::STAFF)
                    .doc("t", "s")
                    .io(Io::NO_CONTENT),
                "IoOutsideApi",
            ),
        ];
        for (e, expected) in cases {
            let err = e.route().unwrap_err();
            assert!(format!("{err:?}").starts_with(expected), "{err:?}");
        }
        let twice = [
            endpoint("/page").allow(Allow::STAFF).doc("t", "s"),
            endpoint("/page").allow(Allow::MANAGER).doc("t", "s"),
        ];
        assert!(matches!(routes_of(&twice), Err(RouteError::Duplicate(_))));
    }

    #[test]
    fn the_table_reads_back_as_written() {
        let e = [
            endpoint("/b")
                .allow(Allow::STAFF.or(Allow::KIOSK))
                .doc("t", "B | b"),
            endpoint("/a").allow(Allow::ANYONE).doc("t", "A"),
        ];
        let text = table(&routes_of(&e).unwrap());
        assert!(
            text.contains(
                "| GET | `/a` | anyone | A |\n| GET | `/b` | kiosk, desk, manager | B \\| b |\n"
            ),
            "{text}"
        );
        let rows = parse_table(&text).unwrap();
        assert_eq!(rows[0].callers, ActorKind::ALL.to_vec());
        assert_eq!(
            rows[1].callers,
            vec![ActorKind::Kiosk, ActorKind::Desk, ActorKind::Manager]
        );
        assert_eq!(rows[1].path, "/b");
    }
}
