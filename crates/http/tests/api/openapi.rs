//! The OpenAPI description: the checked-in copy is current, it is served, and it
//! names exactly the routes the app answers.

use std::collections::BTreeSet;
use std::path::PathBuf;

use actix_web::http::{Method, StatusCode};
use actix_web::test::{TestRequest, call_service, init_service, read_body};
use actix_web::{App, HttpRequest, HttpResponse, web};
use limen_http::{GradidoSettings, HttpSettings};
use serde_json::Value;

use crate::helpers::TestApp;

/// Every method a route could be registered for.
const METHODS: [Method; 7] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
    Method::OPTIONS,
    Method::HEAD,
];

fn checked_in_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

/// The (path, method) pairs the description has operations for.
fn described_operations() -> BTreeSet<(String, String)> {
    let description: Value = serde_json::from_str(&limen_http::openapi_json()).unwrap();
    let mut operations = BTreeSet::new();
    for (path, item) in description["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method.as_str().to_ascii_lowercase()).is_some() {
                operations.insert((path.clone(), method.to_string()));
            }
        }
    }
    operations
}

/// An app with every switch on (CORS preflights answer only with it).
async fn open_app() -> TestApp {
    TestApp::with_settings(HttpSettings {
        gradido: GradidoSettings {
            allow_password_via_json_request: true,
            allow_cors_all: true,
            group_alias: "limen".into(),
            ..GradidoSettings::default()
        },
        ..HttpSettings::default()
    })
    .await
}

/// The path patterns of every resource the app registered, read from actix's
/// resource map (its `Debug` output is the one view of the whole tree it offers).
async fn registered_patterns(app: &TestApp) -> BTreeSet<String> {
    async fn dump(req: HttpRequest) -> HttpResponse {
        HttpResponse::Ok().body(format!("{:?}", req.resource_map()))
    }
    let service = init_service(
        App::new()
            .route("/__resource_map", web::get().to(dump))
            .configure(limen_http::configure(app.state.clone())),
    )
    .await;
    let response = call_service(&service, TestRequest::get().uri("/__resource_map").to_request()).await;
    let text = String::from_utf8(read_body(response).await.to_vec()).unwrap();
    let mut patterns = leaf_patterns(&text);
    assert!(patterns.remove("/__resource_map"), "the map was not read: {text}");
    assert!(
        patterns.len() >= 10,
        "too few routes found; has actix's Debug output changed? {text}"
    );
    patterns
}

/// The full patterns of the leaves of a `Debug`-printed `ResourceMap` tree: each
/// node's own pattern is the first `patterns: Single("…")` inside it, and a
/// leaf's full pattern is its ancestors' patterns joined.
fn leaf_patterns(debug: &str) -> BTreeSet<String> {
    struct Node {
        depth: usize,
        pattern: Option<String>,
        children: usize,
    }
    const NODE: &str = "ResourceMap {";
    const PATTERN: &str = "patterns: Single(";
    let mut stack: Vec<Node> = Vec::new();
    let mut leaves = BTreeSet::new();
    let mut depth = 0usize;
    let mut rest = debug;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with(NODE) {
            if let Some(parent) = stack.last_mut() {
                parent.children += 1;
            }
            stack.push(Node {
                depth,
                pattern: None,
                children: 0,
            });
            rest = &rest[NODE.len() - 1..];
            continue;
        }
        if rest.starts_with(PATTERN) {
            let literal = &rest[PATTERN.len()..];
            let (text, len) = string_literal(literal);
            if let Some(node) = stack.last_mut().filter(|node| node.pattern.is_none()) {
                node.pattern = Some(text);
            }
            depth += 1;
            rest = &literal[len..];
            continue;
        }
        match c {
            '"' => {
                let (_, len) = string_literal(rest);
                rest = &rest[len..];
                continue;
            }
            '{' | '[' | '(' => depth += 1,
            '}' | ']' | ')' => {
                depth -= 1;
                if stack.last().is_some_and(|node| node.depth == depth) {
                    let node = stack.pop().unwrap();
                    if node.children == 0 {
                        let prefix: String = stack.iter().filter_map(|n| n.pattern.as_deref()).collect();
                        leaves.insert(prefix + node.pattern.as_deref().unwrap_or(""));
                    }
                }
            }
            _ => {}
        }
        rest = &rest[c.len_utf8()..];
    }
    leaves
}

/// The unescaped text of the Rust string literal `text` starts with, and the
/// literal's length in bytes.
fn string_literal(text: &str) -> (String, usize) {
    assert!(text.starts_with('"'), "not a string literal: {text:.40}");
    let mut out = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return (out, at + 1),
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    out.push(escaped);
                }
            }
            _ => out.push(c),
        }
    }
    panic!("unterminated string literal: {text:.40}")
}

/// The pattern with every `{parameter}` filled in.
fn concrete(pattern: &str) -> String {
    let mut out = String::new();
    let mut in_parameter = false;
    for c in pattern.chars() {
        match c {
            '{' => in_parameter = true,
            '}' => {
                in_parameter = false;
                out.push('1');
            }
            _ if !in_parameter => out.push(c),
            _ => {}
        }
    }
    out
}

/// The methods a path answers with a handler rather than a 405.
async fn routed_methods(app: &TestApp, pattern: &str) -> Vec<Method> {
    let mut routed = Vec::new();
    for method in METHODS {
        let answer = app
            .send(
                TestRequest::default()
                    .method(method.clone())
                    .uri(&concrete(pattern)),
            )
            .await;
        if answer.status != StatusCode::METHOD_NOT_ALLOWED {
            routed.push(method);
        }
    }
    routed
}

#[actix_web::test]
async fn the_checked_in_description_is_the_generated_one() {
    let generated = limen_http::openapi_json();
    let checked_in = std::fs::read_to_string(checked_in_path()).unwrap_or_default();
    assert!(
        checked_in == generated,
        "docs/openapi.json differs from what the code describes; regenerate it with\n    \
         cargo run -- openapi --output docs/openapi.json\nand review the difference"
    );
}

#[actix_web::test]
async fn the_checked_in_admin_description_is_the_generated_one() {
    let generated = limen_http::admin_openapi_json();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi-admin.json");
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "docs/openapi-admin.json differs from what the code describes; regenerate it with\n    \
         cargo run -- openapi --admin --output docs/openapi-admin.json\nand review the difference"
    );
    let description: Value = serde_json::from_str(&generated).unwrap();
    assert_eq!(description["openapi"], "3.1.0");
    for (path, item) in description["paths"].as_object().unwrap() {
        assert!(path.starts_with("/admin/v1/"), "{path}");
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            for status in ["401", "403", "default"] {
                assert!(responses.contains_key(status), "{method} {path} lacks {status}");
            }
            assert!(
                operation["security"][0]["adminToken"].is_array(),
                "{method} {path} names no scope"
            );
        }
    }
}

#[actix_web::test]
async fn the_description_is_served_and_is_openapi_3_1() {
    let app = TestApp::new().await;
    let answer = app.send(TestRequest::get().uri("/openapi.json")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.headers.get("content-type").unwrap(), "application/json");
    assert_eq!(answer.text(), limen_http::openapi_json());
    let description = answer.json();
    assert_eq!(description["openapi"], "3.1.0");
    let operation_ids: Vec<&str> = description["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|operation| operation["operationId"].as_str())
        .collect();
    let unique: BTreeSet<&str> = operation_ids.iter().copied().collect();
    assert_eq!(
        unique.len(),
        operation_ids.len(),
        "operation ids repeat: {operation_ids:?}"
    );
}

#[actix_web::test]
async fn every_route_the_app_answers_is_described() {
    let app = open_app().await;
    let described = described_operations();
    let mut missing = Vec::new();
    for pattern in registered_patterns(&app).await {
        // The OpenID Provider's endpoints are described by its own discovery
        // document (OpenID Connect Discovery 1.0) and docs/openid-provider.md,
        // as every relying party reads them, not by the dialects' description.
        if pattern.starts_with("/oidc/") && pattern != "/oidc/payload-key" {
            continue;
        }
        for method in routed_methods(&app, &pattern).await {
            if !described.contains(&(pattern.clone(), method.to_string())) {
                missing.push(format!("{method} {pattern}"));
            }
        }
    }
    assert!(missing.is_empty(), "routes without a description: {missing:?}");
}

#[actix_web::test]
async fn every_described_operation_is_routed() {
    let app = open_app().await;
    let registered = registered_patterns(&app).await;
    for (path, method) in described_operations() {
        assert!(
            registered.contains(&path),
            "{path} is described but not registered"
        );
        let routed = routed_methods(&app, &path).await;
        assert!(
            routed.iter().any(|m| m.as_str() == method),
            "{method} {path} is described but answers 405"
        );
    }
}

#[test]
fn nested_resource_maps_are_read_with_their_prefixes() {
    let debug = r#"ResourceMap { pattern: ResourceDef { id: 0, patterns: Single(""), segments: [] }, nodes: Some([
        ResourceMap { pattern: ResourceDef { patterns: Single("/auth"), segments: [Const("/auth")] }, nodes: Some([
            ResourceMap { pattern: ResourceDef { patterns: Single("/login"), x: "}{)(" }, nodes: None }]) },
        ResourceMap { pattern: ResourceDef { patterns: Single("/user/{id}/x") }, nodes: None }]) }"#;
    assert_eq!(
        leaf_patterns(debug),
        BTreeSet::from(["/auth/login".to_owned(), "/user/{id}/x".to_owned()])
    );
}

/// Every `$ref` names a schema the description holds, and every query
/// parameter is in the query: a reference to nothing or a parameter in the
/// wrong place makes clients (and schemathesis) skip what it describes.
#[test]
fn every_reference_resolves_and_parameters_are_where_the_handlers_read_them() {
    let description: Value = serde_json::from_str(&limen_http::openapi_json()).unwrap();
    let schemas = description["components"]["schemas"].as_object().unwrap();
    let mut unresolved = Vec::new();
    let mut stack = vec![&description];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref")
                    && !target
                        .strip_prefix("#/components/schemas/")
                        .is_some_and(|name| schemas.contains_key(name))
                {
                    unresolved.push(target.clone());
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    assert!(unresolved.is_empty(), "unresolved references: {unresolved:?}");
    for (path, item) in description["paths"].as_object().unwrap() {
        for operation in item.as_object().unwrap().values() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if parameter["in"] == "path" {
                    let name = parameter["name"].as_str().unwrap();
                    assert!(
                        path.contains(&format!("{{{name}}}")),
                        "{path}: {name} is not in the path"
                    );
                }
            }
        }
    }
}
