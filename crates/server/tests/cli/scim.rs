//! SCIM 2.0 against a running `limen serve`: python-scim's compliance
//! checker (scim2-tester, from PyPI) runs every check it has, and Microsoft
//! Entra ID's provisioning requests, as its documentation shows them, are
//! replayed.

use reqwest::Method;
use serde_json::{Value, json};

use crate::admin_api::admin_token;
use crate::helpers::{Scratch, Server};
use crate::races::{self, PASSWORD, login};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn server(scratch: &Scratch) -> Server {
    let mut command = scratch.command();
    command.args(["serve", "--listen", "127.0.0.1:0"]);
    Server::start(command)
}

/// Sends a SCIM request as Entra ID does (`application/scim+json`); the
/// status, the `Content-Type` and the body.
async fn scim(
    http: &reqwest::Client,
    server: &Server,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, String, Value) {
    let mut request = http
        .request(method, format!("{}/scim/v2{path}", server.management))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request
            .header("Content-Type", "application/scim+json")
            .body(body.to_string());
    }
    let answer = request.send().await.unwrap();
    let status = answer.status().as_u16();
    let content_type = answer
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, content_type, answer.json().await.unwrap_or(Value::Null))
}

#[test]
fn scim2_tester_passes_every_check() {
    if !crate::helpers::python_has("scim2_tester, httpx2", "scim2-tester") {
        return;
    }
    let scratch = Scratch::new();
    let token = admin_token(scratch.command(), "compliance", "scim");
    let server = server(&scratch);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/scim/check.py");
    let output = crate::helpers::python()
        .arg(script)
        .arg(format!("{}/scim/v2", server.management))
        .env("SCIM_TOKEN", &token)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    println!("{report}");
    assert!(
        output.status.success(),
        "scim2-tester failed:\n{report}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.log.lock().unwrap()
    );
    // Discovery, then creation, reading, listing, filtering attributes,
    // searching, replacing, deleting and each PATCH operation of User.
    let passed = report.lines().filter(|line| line.starts_with("SUCCESS")).count();
    assert!(passed >= 40, "only {passed} checks ran:\n{report}");
    for check in [
        "object_creation",
        "object_replacement",
        "check_replace_attribute",
        "search_with_attributes",
    ] {
        assert!(
            report.contains(&format!("[User] {check}")),
            "{check} did not run:\n{report}"
        );
    }
}

#[tokio::test]
async fn entra_ids_provisioning_requests_are_answered_as_microsoft_documents() {
    let scratch = Scratch::new();
    let token = admin_token(scratch.command(), "entra", "scim");
    let server = server(&scratch);
    let http = races::http();
    let token = token.as_str();

    // Test Connection: a user nobody has.
    let (status, content_type, none) = scim(
        &http,
        &server,
        token,
        Method::GET,
        "/Users?filter=userName+eq+%22non-existent+user%22",
        None,
    )
    .await;
    assert_eq!((status, content_type.as_str()), (200, "application/scim+json"));
    assert_eq!(
        (
            none["totalResults"].as_u64(),
            none["Resources"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );
    assert_eq!(
        none["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );

    // Create user, as the tutorial's request (with its read-only meta,
    // the empty enterprise extension and roles).
    let create = json!({
        "schemas": [USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": []
    });
    let (status, _, created) = scim(&http, &server, token, Method::POST, "/Users", Some(create)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["externalId"], "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef");
    assert_eq!(
        created["userName"], "test_user_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
        "Limen's usernames are lower-case"
    );
    assert_eq!(
        created["name"],
        json!({"givenName": "givenName", "familyName": "familyName"})
    );
    assert_eq!(created["active"], true);
    assert_eq!(created["meta"]["resourceType"], "User");
    assert!(
        created["meta"]["location"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/scim/v2/Users/{id}"))
    );

    // Get user; get by query, by userName in the case Entra sent, by
    // externalId unquoted, by the work address.
    let (status, _, fetched) = scim(&http, &server, token, Method::GET, &format!("/Users/{id}"), None).await;
    assert_eq!((status, &fetched["id"]), (200, &json!(id)));
    for filter in [
        "userName eq \"Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee\"",
        "externalId eq 0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "emails[type eq \"work\"].value eq \"Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com\"",
        "userName eq \"test_user_00aa00aa-bb11-cc22-dd33-44ee44ee44ee\" and active eq true",
    ] {
        let path = format!("/Users?filter={}", urlencode(filter));
        let (status, _, found) = scim(&http, &server, token, Method::GET, &path, None).await;
        assert_eq!(
            (status, found["totalResults"].as_u64()),
            (200, Some(1)),
            "{filter}: {found}"
        );
        assert_eq!(found["Resources"][0]["id"], json!(id));
    }
    let (status, _, missing) = scim(
        &http,
        &server,
        token,
        Method::GET,
        "/Users/5171a35d82074e068ce2",
        None,
    )
    .await;
    assert_eq!((status, missing["status"].as_str()), (404, Some("404")));
    assert_eq!(
        missing["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );

    // Update user, multi-valued and single-valued properties.
    let (status, _, updated) = scim(&http, &server, token, Method::PATCH, &format!("/Users/{id}"), Some(json!({
        "schemas": [PATCH_OP],
        "Operations": [
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}
        ]
    }))).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        updated["emails"],
        json!([{"value": "updatedemail@microsoft.com"}])
    );
    assert_eq!(updated["name"]["familyName"], "updatedFamilyName");
    let (status, _, renamed) = scim(&http, &server, token, Method::PATCH, &format!("/Users/{id}"), Some(json!({
        "schemas": [PATCH_OP],
        "Operations": [{"op": "Replace", "path": "userName", "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}]
    }))).await;
    assert_eq!(
        (status, renamed["userName"].as_str()),
        (200, Some("5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com")),
        "{renamed}"
    );
    // Without the aadOptscim062020 flag Entra replaces several attributes
    // one path each, and with it sends one without a path.
    let (status, _, replaced) = scim(
        &http,
        &server,
        token,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(json!({
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "Replace", "path": "displayName", "value": "Bjfe"},
                {"op": "replace", "value": {"name.givenName": "Kkom", "name.familyName": "Unua",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq"}}
            ]
        })),
    )
    .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(
        replaced["name"],
        json!({"givenName": "Kkom", "familyName": "Unua"})
    );

    // Disable user: the old string boolean; the user's sessions end and
    // logins are refused; enabling brings them back.
    scratch.ok(
        &[
            "user",
            "passwd",
            "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );
    let name = "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com";
    assert_eq!(login(&http, &server.base, name, PASSWORD).await.0, 200);
    let (status, _, disabled) = scim(
        &http,
        &server,
        token,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(json!({
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
            "schemas": [PATCH_OP]
        })),
    )
    .await;
    assert_eq!(
        (status, disabled["active"].as_bool()),
        (200, Some(false)),
        "{disabled}"
    );
    assert_eq!(login(&http, &server.base, name, PASSWORD).await.0, 401);
    let path = format!("/Users?filter={}", urlencode("active eq false"));
    let (_, _, inactive) = scim(&http, &server, token, Method::GET, &path, None).await;
    assert_eq!(inactive["totalResults"], 1, "inactive users are still returned");
    let (status, _, enabled) = scim(
        &http,
        &server,
        token,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(json!({
            "schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": "active", "value": true}]
        })),
    )
    .await;
    assert_eq!((status, enabled["active"].as_bool()), (200, Some(true)));
    assert_eq!(login(&http, &server.base, name, PASSWORD).await.0, 200);

    // What Limen cannot do is refused in SCIM's terms.
    let (status, _, refused) = scim(
        &http,
        &server,
        token,
        Method::GET,
        &format!("/Users?filter={}", urlencode("displayName co \"B\"")),
        None,
    )
    .await;
    assert_eq!(
        (status, refused["scimType"].as_str()),
        (400, Some("invalidFilter"))
    );
    let (status, _, refused) = scim(
        &http,
        &server,
        token,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(json!({
            "schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "shoeSize", "value": 44}]
        })),
    )
    .await;
    assert_eq!((status, refused["scimType"].as_str()), (400, Some("invalidPath")));
    let (status, _, taken) = scim(
        &http,
        &server,
        token,
        Method::POST,
        "/Users",
        Some(json!({
            "schemas": [USER], "userName": name, "emails": [{"value": "other@testuser.com"}]
        })),
    )
    .await;
    assert_eq!((status, taken["scimType"].as_str()), (409, Some("uniqueness")));

    // Delete user: 204, then 404.
    let (status, _, _) = scim(
        &http,
        &server,
        token,
        Method::DELETE,
        &format!("/Users/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _, _) = scim(&http, &server, token, Method::GET, &format!("/Users/{id}"), None).await;
    assert_eq!(status, 404);

    // The trail names the token for every change.
    let trail = scratch.ok(&["audit", "--json", "--limit", "50"], "");
    assert!(trail.contains("\"actor\":\"admin:entra\""), "{trail}");
}

#[tokio::test]
async fn scim_needs_a_token_with_its_scope() {
    let scratch = Scratch::new();
    let ops = admin_token(scratch.command(), "ops", "users:read,users:write");
    let server = server(&scratch);
    let http = races::http();
    let (status, content_type, refused) = scim(&http, &server, &ops, Method::GET, "/Users", None).await;
    assert_eq!(
        (status, content_type.as_str(), refused["status"].as_str()),
        (403, "application/scim+json", Some("403"))
    );
    let anonymous = http
        .get(format!("{}/scim/v2/ServiceProviderConfig", server.management))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    assert!(anonymous.headers().get("www-authenticate").is_some());
    let public = http
        .get(format!("{}/scim/v2/Users", server.base))
        .bearer_auth(&ops)
        .send()
        .await
        .unwrap();
    assert_eq!(public.status().as_u16(), 404, "never on the public listener");
    drop(server);

    let mut command = scratch.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LIMEN_MANAGEMENT__SCIM", "false")
        .env("LIMEN_MANAGEMENT__ADMIN_API", "false");
    let switched_off = Server::start(command);
    for path in ["/scim/v2/Users", "/admin/v1/users"] {
        let answer = http
            .get(format!("{}{path}", switched_off.management))
            .bearer_auth(&ops)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 404, "{path}");
    }
    let metrics = http
        .get(format!("{}/metrics", switched_off.management))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status().as_u16(), 200);
}

/// `text` percent-encoded for a query string.
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}
