//! The OpenAPI 3 document, generated from the route declarations: each `/api/v1` route names,
//! in its [`Io`], the parameters, request body, success status and response body, so a route
//! cannot be added without saying what it takes and answers.

use super::error::ErrorBody;
use super::route::{API_PREFIX, Route};
use crate::auth::ActorKind;
use axum::http::Method;
use chrono::NaiveDate;
use std::collections::BTreeMap;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, Parameter};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr,
    Required, ResponseBuilder, Schema,
};
use utoipa::{IntoParams, ToSchema};

/// Named schemas collected while the document is built.
pub type Defs = Vec<(String, RefOr<Schema>)>;

/// Gives the schema of a body, adding the named schemas it refers to into the definitions.
pub type SchemaFn = fn(&mut Defs) -> RefOr<Schema>;

/// Gives the path or query parameters of a route.
pub type ParamsFn = fn() -> Vec<Parameter>;

/// What a success answers.
#[derive(Clone, Copy, Debug)]
pub enum Reply {
    /// A JSON body of this schema.
    Json(SchemaFn),
    /// A CSV file.
    Csv,
    /// A stream of server-sent events, each `data:` a JSON body of this schema.
    EventStream(SchemaFn),
    /// No body (204).
    Empty,
    /// Not part of `/api/v1` (pages, health, metrics): left out of the document.
    NotApi,
}

/// A route's input and output, for the OpenAPI document.
#[derive(Clone, Copy, Debug)]
pub struct Io {
    /// Path and query parameters.
    pub params: &'static [ParamsFn],
    /// The JSON request body, if the handler reads one.
    pub request: Option<SchemaFn>,
    /// The success status the handler answers with.
    pub status: u16,
    /// The success body.
    pub reply: Reply,
}

impl Io {
    /// A route outside `/api/v1`.
    pub const NOT_API: Io = Io::with(200, Reply::NotApi);
    /// 204 without a body.
    pub const NO_CONTENT: Io = Io::with(204, Reply::Empty);
    /// 200 with a CSV file.
    pub const CSV: Io = Io::with(200, Reply::Csv);

    const fn with(status: u16, reply: Reply) -> Io {
        Io {
            params: &[],
            request: None,
            status,
            reply,
        }
    }

    /// 200 with a JSON body.
    pub const fn ok(body: SchemaFn) -> Io {
        Io::with(200, Reply::Json(body))
    }

    /// 200 with a stream of server-sent events whose data are JSON bodies.
    pub const fn events(body: SchemaFn) -> Io {
        Io::with(200, Reply::EventStream(body))
    }

    /// 201 with a JSON body.
    pub const fn created(body: SchemaFn) -> Io {
        Io::with(201, Reply::Json(body))
    }

    /// The same, reading a JSON request body.
    pub const fn body(self, request: SchemaFn) -> Io {
        Io {
            request: Some(request),
            ..self
        }
    }

    /// The same, with path or query parameters.
    pub const fn params(self, params: &'static [ParamsFn]) -> Io {
        Io { params, ..self }
    }
}

/// The schema of `T`, by reference.
pub fn one<T: ToSchema>(defs: &mut Defs) -> RefOr<Schema> {
    T::schemas(defs);
    defs.push((T::name().into_owned(), T::schema()));
    Ref::from_schema_name(T::name()).into()
}

/// A JSON array of `T`.
pub fn list<T: ToSchema>(defs: &mut Defs) -> RefOr<Schema> {
    ArrayBuilder::new().items(one::<T>(defs)).build().into()
}

/// The parameters `T` declares.
pub fn params<T: IntoParams>() -> Vec<Parameter> {
    T::into_params(|| None)
}

/// `{id}` of a renovation or worker.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RowId {
    /// The database id.
    pub id: i64,
}

/// `{id}` of a card: its number.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CardNumber {
    /// The card's number.
    #[param(format = Int64, maximum = 4_294_967_295.0)]
    pub id: u32,
}

/// `{id}` of a device.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DeviceId {
    /// The device's id (a UUID).
    pub id: String,
}

/// `{area}` of an anti-passback area.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AreaPath {
    /// The area's name: 1–64 of a-z, 0-9, '-' and '_'.
    #[param(pattern = "^[a-z0-9_-]{1,64}$")]
    pub area: String,
}

/// `{device_id}` of the gate whose door opens.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DoorDevice {
    /// The gate device's id (a UUID).
    pub device_id: String,
}

/// `{id}` of a schedule.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ScheduleNumber {
    /// 1–15.
    #[param(minimum = 1, maximum = 15)]
    pub id: u8,
}

/// `{number}` of a building.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct BuildingNumber {
    /// 0–254.
    #[param(minimum = 0, maximum = 254)]
    pub number: u8,
}

/// `{date}` of a blackout date.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct BlackoutDate {
    /// The local date, `YYYY-MM-DD`.
    pub date: NaiveDate,
}

/// The body of `PUT /api/v1/renovations/{id}/documents`: checklist items by name, received
/// (true) or missing (false); items left out stay as they are.
pub fn documents_body(defs: &mut Defs) -> RefOr<Schema> {
    use crate::domain::renovation::Document;
    let mut object = ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    for d in Document::ALL {
        if let Ok(serde_json::Value::String(name)) = serde_json::to_value(d) {
            object = object.property(name, ObjectBuilder::new().schema_type(Type::Boolean));
        }
    }
    defs.push(("DocumentChecklist".into(), object.build().into()));
    Ref::from_schema_name("DocumentChecklist").into()
}

fn http_method(m: &Method) -> Option<HttpMethod> {
    Some(match *m {
        Method::GET => HttpMethod::Get,
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::DELETE => HttpMethod::Delete,
        Method::PATCH => HttpMethod::Patch,
        _ => return None,
    })
}

fn json(schema: RefOr<Schema>) -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

/// Two different schemas under one name.
#[derive(Debug, thiserror::Error)]
#[error("two different types are both named {0} in the OpenAPI document")]
pub struct NameClash(pub String);

/// Folds collected definitions into one map; a second, different schema under a known name is
/// a clash (the first one is kept).
fn fold(defs: Defs) -> (BTreeMap<String, RefOr<Schema>>, Vec<NameClash>) {
    let mut out: BTreeMap<String, RefOr<Schema>> = BTreeMap::new();
    let mut clashes = Vec::new();
    for (name, schema) in defs {
        match out.get(&name) {
            Some(known) if *known != schema => clashes.push(NameClash(name)),
            Some(_) => {}
            None => {
                out.insert(name, schema);
            }
        }
    }
    (out, clashes)
}

/// The document, and any names two different types share (a unit test refuses them).
pub fn document_and_clashes(routes: &[Route]) -> (OpenApi, Vec<NameClash>) {
    let mut defs: Defs = Vec::new();
    let error = one::<ErrorBody>(&mut defs);
    let mut paths = Paths::new();
    for rule in routes.iter().filter(|r| r.path.starts_with(API_PREFIX)) {
        let Some(method) = http_method(&rule.method) else {
            continue;
        };
        let io = rule.io;
        let allowed: Vec<&str> = rule.allow.kinds().map(|k| k.name()).collect();
        let parameters: Vec<Parameter> = io.params.iter().flat_map(|p| p()).collect();
        let mut op = OperationBuilder::new()
            .tag(rule.tag)
            .summary(Some(rule.summary))
            .description(Some(format!("Allowed callers: {}.", allowed.join(", "))))
            .operation_id(Some(format!("{} {}", rule.method, rule.path)))
            .parameters((!parameters.is_empty()).then_some(parameters));
        if let Some(request) = io.request {
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", json(request(&mut defs)))
                    .required(Some(Required::True))
                    .build(),
            ));
        }
        let success = ResponseBuilder::new().description("Success");
        let success = match io.reply {
            Reply::Json(body) => success.content("application/json", json(body(&mut defs))),
            Reply::Csv => success.content(
                "text/csv",
                json(ObjectBuilder::new().schema_type(Type::String).into()),
            ),
            Reply::EventStream(body) => success.content("text/event-stream", json(body(&mut defs))),
            Reply::Empty | Reply::NotApi => success,
        };
        op = op.response(io.status.to_string(), success);
        // Any route may meet a bad request, a wrong credential (a password or enrolment token
        // on the open routes), an id that names nothing (in the path or the body) or a value
        // out of range; writes may also conflict with the current state.
        // Every error body is an ErrorBody: `error` (a stable code), `message` and `details`
        // (the case's values: a card, a field and its bounds, a time in RFC 3339). 414 and 431
        // are answered before routing, with the same body.
        let mut errors = vec![
            ("400", "Malformed request"),
            ("401", "No or invalid credentials"),
            ("404", "No such resource"),
            ("414", "The path and query string are too long"),
            ("422", "Well-formed but invalid values"),
            ("431", "The header fields are too large"),
        ];
        if rule.method != Method::GET {
            errors.push(("409", "Conflicts with the current state"));
        }
        if !rule.allow.admits(ActorKind::Anonymous) {
            errors.push(("403", "Caller not allowed"));
            op = op.security(SecurityRequirement::new("bearer", Vec::<String>::new()));
        }
        // Both check a password, so both are throttled; a kiosk is limited in the wrong
        // worker-card attempts and the visitor passes it may make.
        if matches!(
            rule.path,
            "/api/v1/auth/login"
                | "/api/v1/auth/password"
                | "/api/v1/kiosk/worker-cards"
                | "/api/v1/kiosk/visitors"
        ) {
            errors.push(("429", "Too many attempts or passes; see Retry-After"));
        }
        for (status, description) in errors {
            op = op.response(
                status,
                ResponseBuilder::new()
                    .description(description)
                    .content("application/json", json(error.clone())),
            );
        }
        paths.add_path_operation(rule.path, vec![method], op.build());
    }
    let mut components = ComponentsBuilder::new().security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    let (schemas, clashes) = fold(defs);
    for (name, schema) in schemas {
        components = components.schema(name, schema);
    }
    let doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Gatehouse server")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Front desk, devices and gate sync. Errors are {\"error\", \"message\"}.",
                )),
        )
        .paths(paths)
        .components(Some(components.build()))
        .build();
    (doc, clashes)
}

/// The OpenAPI 3 document of every `/api/v1` route.
pub fn document(routes: &[Route]) -> OpenApi {
    let (doc, clashes) = document_and_clashes(routes);
    for clash in clashes {
        tracing::error!(%clash, "OpenAPI schema names clash");
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn routes() -> Vec<Route> {
        crate::http::routes().unwrap()
    }

    fn doc() -> Value {
        let (doc, clashes) = document_and_clashes(&routes());
        assert!(clashes.is_empty(), "{clashes:?}");
        serde_json::to_value(doc).unwrap()
    }

    /// Every `/api/v1` operation of the document with its method and path.
    fn operations(doc: &Value) -> Vec<(String, String, Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                out.push((method.clone(), path.clone(), op.clone()));
            }
        }
        out
    }

    fn resolves(doc: &Value, v: &Value, trail: &str) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    let name = r.strip_prefix("#/components/schemas/").unwrap_or(r);
                    assert!(
                        doc["components"]["schemas"][name].is_object(),
                        "{trail}: {r} does not resolve"
                    );
                }
                for (k, x) in map {
                    resolves(doc, x, &format!("{trail}/{k}"));
                }
            }
            Value::Array(items) => items.iter().for_each(|x| resolves(doc, x, trail)),
            _ => {}
        }
    }

    #[test]
    fn every_api_row_describes_its_io_and_no_other_row_does() {
        for rule in routes() {
            let api = rule.path.starts_with(API_PREFIX);
            assert_eq!(
                !matches!(rule.io.reply, Reply::NotApi),
                api,
                "{} {}",
                rule.method,
                rule.path
            );
        }
    }

    #[test]
    fn every_operation_declares_path_parameters_bodies_and_error_schema() {
        let doc = doc();
        let ops = operations(&doc);
        assert_eq!(
            ops.len(),
            routes()
                .iter()
                .filter(|r| r.path.starts_with(API_PREFIX))
                .count()
        );
        let routes = routes();
        for (method, path, op) in &ops {
            let at = format!("{method} {path}");
            let declared: Vec<(&str, &str)> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .map(|p| (p["name"].as_str().unwrap(), p["in"].as_str().unwrap()))
                        .collect()
                })
                .unwrap_or_default();
            for name in path.split('{').skip(1).map(|s| &s[..s.find('}').unwrap()]) {
                assert!(
                    declared.contains(&(name, "path")),
                    "{at}: path parameter {name} undeclared"
                );
            }
            for (name, place) in &declared {
                if *place == "path" {
                    assert!(path.contains(&format!("{{{name}}}")), "{at}: stray {name}");
                }
            }
            let rule = routes
                .iter()
                .find(|r| r.path == path && r.method.as_str().eq_ignore_ascii_case(method))
                .unwrap();
            match rule.io.request {
                Some(_) => assert!(
                    op["requestBody"]["content"]["application/json"]["schema"].is_object(),
                    "{at}: request body without a schema"
                ),
                None => assert!(op["requestBody"].is_null(), "{at}"),
            }
            let responses = op["responses"].as_object().unwrap();
            let successes: Vec<_> = responses.keys().filter(|s| s.starts_with('2')).collect();
            assert_eq!(successes.len(), 1, "{at}: one success status");
            let status = successes[0];
            if status != "204" {
                let content = &responses[status.as_str()]["content"];
                let schema = content
                    .as_object()
                    .and_then(|c| c.values().next())
                    .map(|c| &c["schema"]);
                assert!(
                    schema.is_some_and(Value::is_object),
                    "{at}: {status} without a schema"
                );
            } else {
                assert!(responses["204"]["content"].is_null(), "{at}");
            }
            for (status, response) in responses.iter().filter(|(s, _)| !s.starts_with('2')) {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{at}: {status}"
                );
            }
        }
        resolves(&doc, &doc, "");
    }

    #[test]
    fn schemas_follow_serde_names_options_and_newtypes() {
        let doc = doc();
        let s = &doc["components"]["schemas"];
        // ErrorBody: the code, the words and the case's values, all required.
        assert_eq!(
            s["ErrorBody"]["required"],
            serde_json::json!(["error", "message", "details"])
        );
        assert_eq!(s["ErrorBody"]["properties"]["details"]["type"], "object");
        // snake_case enums as strings.
        let reasons = s["DenyReason"]["enum"].as_array().unwrap();
        assert!(
            reasons.contains(&Value::from("bad_signature")),
            "{reasons:?}"
        );
        // Newtypes are their numbers.
        assert_eq!(s["CardId"]["type"], "integer");
        assert_eq!(s["UtcMinute"]["type"], "integer");
        // A validated name says what it accepts.
        assert_eq!(s["AreaName"]["type"], "string");
        assert_eq!(s["AreaName"]["pattern"], "^[a-z0-9_-]{1,64}$");
        // Option and serde(default) fields are not required.
        let required = s["VisitorRequest"]["required"].as_array().unwrap();
        assert!(required.contains(&Value::from("name")));
        assert!(!required.contains(&Value::from("phone")));
        assert!(!required.contains(&Value::from("host_name")));
        // Internally tagged enum: every variant names its `type`.
        let variants = s["ChangeEvent"]["oneOf"].as_array().unwrap();
        assert_eq!(variants.len(), 8);
        for v in variants {
            assert!(
                v["properties"]["type"]["enum"].is_array(),
                "untagged variant {v}"
            );
        }
        // The documents checklist lists every item by its serde name.
        assert!(s["DocumentChecklist"]["properties"]["floor_plans"].is_object());
    }
}
