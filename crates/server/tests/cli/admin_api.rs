//! The administration API against a running `limen serve`, as a script of
//! an operator would use it: admin tokens made with the CLI, every endpoint,
//! every scope refusal, versions (`ETag`/`If-Match`), the audit rows, a
//! read-only backend, and 20 parallel updates of one user on PostgreSQL.

use futures_util::future::join_all;
use limen_mapped_sql::testing::{Customer, CustomerDb};
use reqwest::Method;
use reqwest::header::{ETAG, IF_MATCH, LOCATION, WWW_AUTHENTICATE};
use serde_json::{Value, json};

use crate::helpers::{Postgres, Scratch, Server};
use crate::races::{self, PASSWORD, login};

/// Every scope but `scim`.
const OPERATOR_SCOPES: &str = "users:read,users:write,tokens:read,tokens:write,audit:read,config:read";

/// An answer: status, `ETag`, body.
pub struct Answer {
    pub status: u16,
    pub etag: Option<String>,
    pub location: Option<String>,
    pub challenge: Option<String>,
    pub body: Value,
}

/// Sends `method path` to the management listener with `token` (if any),
/// `if_match` (if any) and a JSON `body` (if any).
pub async fn call(
    http: &reqwest::Client,
    server: &Server,
    token: Option<&str>,
    method: Method,
    path: &str,
    if_match: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let mut request = http.request(method, format!("{}{path}", server.management));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(tag) = if_match {
        request = request.header(IF_MATCH, tag);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let answer = request.send().await.unwrap();
    let header = |name| {
        answer
            .headers()
            .get(name)
            .and_then(|value: &reqwest::header::HeaderValue| value.to_str().ok())
            .map(str::to_owned)
    };
    let (etag, location, challenge) = (header(ETAG), header(LOCATION), header(WWW_AUTHENTICATE));
    let status = answer.status().as_u16();
    let body = answer.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        etag,
        location,
        challenge,
        body,
    }
}

/// `limen token create --admin` named `name` with `scopes`; the token.
pub fn admin_token(command: std::process::Command, name: &str, scopes: &str) -> String {
    let output = crate::helpers::run_with(
        command,
        &["token", "create", "--admin", "--name", name, "--scopes", scopes],
        "",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// The id of the user named `name`, through the API.
async fn id_of(http: &reqwest::Client, server: &Server, token: &str, name: &str) -> i64 {
    let found = call(
        http,
        server,
        Some(token),
        Method::GET,
        &format!("/admin/v1/users?q={name}"),
        None,
        None,
    )
    .await;
    found.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|user| user["username"] == name)
        .unwrap_or_else(|| panic!("no {name} in {}", found.body))["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn operators_manage_users_tokens_and_the_trail_within_their_scopes() {
    let scratch = Scratch::new();
    for name in ["ann", "bob", "cecilia"] {
        scratch.add_user(name, &format!("{name}@example.com"), PASSWORD);
    }
    let ops_token = admin_token(scratch.command(), "ops", OPERATOR_SCOPES);
    let reader = admin_token(scratch.command(), "reader", "users:read");
    let secret_marker = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
    let mut command = scratch.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LIMEN_SECRETS_KEY", secret_marker);
    let server = Server::start(command);
    let http = races::http();
    let ops = Some(ops_token.as_str());

    // Not on the public listener; not without a live token with the scope.
    let public = http
        .get(format!("{}/admin/v1/users", server.base))
        .bearer_auth(ops_token.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(public.status().as_u16(), 404);
    let anonymous = call(&http, &server, None, Method::GET, "/admin/v1/users", None, None).await;
    assert_eq!(
        (anonymous.status, anonymous.body["code"].as_str()),
        (401, Some("unauthorized"))
    );
    assert!(
        anonymous
            .challenge
            .unwrap()
            .starts_with("Bearer realm=\"limen-admin\"")
    );
    let forged = call(
        &http,
        &server,
        Some("not-a-token"),
        Method::GET,
        "/admin/v1/users",
        None,
        None,
    )
    .await;
    assert_eq!(forged.status, 401);
    let ann = id_of(&http, &server, &reader, "ann").await;
    let write_as_reader = call(
        &http,
        &server,
        Some(&reader),
        Method::POST,
        &format!("/admin/v1/users/{ann}/disable"),
        None,
        None,
    )
    .await;
    assert_eq!(
        (write_as_reader.status, write_as_reader.body["code"].as_str()),
        (403, Some("insufficient_scope"))
    );
    assert!(
        write_as_reader
            .challenge
            .unwrap()
            .contains("scope=\"users:write\"")
    );
    for path in [
        "/admin/v1/audit",
        "/admin/v1/config",
        "/admin/v1/readiness",
        &format!("/admin/v1/users/{ann}/tokens"),
    ] {
        assert_eq!(
            call(&http, &server, Some(&reader), Method::GET, path, None, None)
                .await
                .status,
            403,
            "{path}"
        );
    }

    // Listing: pages with a cursor, and filters.
    let first = call(
        &http,
        &server,
        ops,
        Method::GET,
        "/admin/v1/users?limit=2",
        None,
        None,
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let names = |page: &Value| {
        page["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|user| user["username"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&first.body), ["ann", "bob"]);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = call(
        &http,
        &server,
        ops,
        Method::GET,
        &format!("/admin/v1/users?limit=2&cursor={cursor}"),
        None,
        None,
    )
    .await;
    assert_eq!(
        (names(&second.body), &second.body["next_cursor"]),
        (vec!["cecilia".to_owned()], &Value::Null)
    );
    let bad = call(
        &http,
        &server,
        ops,
        Method::GET,
        "/admin/v1/users?limit=0",
        None,
        None,
    )
    .await;
    assert_eq!(
        (bad.status, bad.body["code"].as_str()),
        (400, Some("invalid_request"))
    );

    // Create: 201 with its address and version; a taken name is a conflict.
    let created = call(
        &http,
        &server,
        ops,
        Method::POST,
        "/admin/v1/users",
        None,
        Some(json!({
            "username": "Dan", "email": "dan@example.com", "first_name": "Dan", "password": PASSWORD
        })),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let dan = created.body["id"].as_i64().unwrap();
    assert_eq!(
        created.location.as_deref(),
        Some(format!("/admin/v1/users/{dan}").as_str())
    );
    assert_eq!(created.etag.as_deref(), created.body["etag"].as_str());
    assert_eq!(login(&http, &server.base, "dan", PASSWORD).await.0, 200);
    let taken = call(
        &http,
        &server,
        ops,
        Method::POST,
        "/admin/v1/users",
        None,
        Some(json!({"username": "dan", "email": "d2@example.com"})),
    )
    .await;
    assert_eq!(taken.status, 409);

    // Changes need the version read: 428 without, 412 when stale.
    let shown = call(
        &http,
        &server,
        ops,
        Method::GET,
        &format!("/admin/v1/users/{ann}"),
        None,
        None,
    )
    .await;
    let version = shown.etag.unwrap();
    let patch = json!({"last_name": "Lind", "role": "support"});
    let unconditional = call(
        &http,
        &server,
        ops,
        Method::PATCH,
        &format!("/admin/v1/users/{ann}"),
        None,
        Some(patch.clone()),
    )
    .await;
    assert_eq!(
        (unconditional.status, unconditional.body["code"].as_str()),
        (428, Some("precondition_required"))
    );
    let changed = call(
        &http,
        &server,
        ops,
        Method::PATCH,
        &format!("/admin/v1/users/{ann}"),
        Some(&version),
        Some(patch.clone()),
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(
        (changed.body["last_name"].as_str(), changed.body["role"].as_str()),
        (Some("Lind"), Some("support"))
    );
    assert_ne!(changed.etag.as_deref(), Some(version.as_str()));
    let stale = call(
        &http,
        &server,
        ops,
        Method::PATCH,
        &format!("/admin/v1/users/{ann}"),
        Some(&version),
        Some(json!({"first_name": null})),
    )
    .await;
    assert_eq!(
        (stale.status, stale.body["code"].as_str()),
        (412, Some("stale_version"))
    );
    let unknown_field = call(
        &http,
        &server,
        ops,
        Method::PATCH,
        &format!("/admin/v1/users/{ann}"),
        Some("*"),
        Some(json!({"password": "x"})),
    )
    .await;
    assert_eq!(unknown_field.status, 400);
    let missing = call(
        &http,
        &server,
        ops,
        Method::GET,
        "/admin/v1/users/999999",
        None,
        None,
    )
    .await;
    assert_eq!(
        (missing.status, missing.body["code"].as_str()),
        (404, Some("not_found"))
    );

    // Sessions: listed, ended everywhere; disabling ends them too.
    let (status, session) = login(&http, &server.base, "bob", PASSWORD).await;
    assert_eq!(status, 200);
    let bob = id_of(&http, &server, ops_token.as_str(), "bob").await;
    let sessions = call(
        &http,
        &server,
        ops,
        Method::GET,
        &format!("/admin/v1/users/{bob}/sessions"),
        None,
        None,
    )
    .await;
    assert_eq!(
        sessions.body["tokens"].as_array().unwrap().len(),
        1,
        "{}",
        sessions.body
    );
    let ended = call(
        &http,
        &server,
        ops,
        Method::DELETE,
        &format!("/admin/v1/users/{bob}/sessions"),
        None,
        None,
    )
    .await;
    assert_eq!((ended.status, ended.body["revoked"].as_u64()), (200, Some(1)));
    let refused = http
        .get(format!("{}/authentication/user", server.base))
        .bearer_auth(session["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    let disabled = call(
        &http,
        &server,
        ops,
        Method::POST,
        &format!("/admin/v1/users/{bob}/disable"),
        None,
        None,
    )
    .await;
    assert_eq!(
        (disabled.status, disabled.body["enabled"].as_bool()),
        (200, Some(false))
    );
    assert_eq!(login(&http, &server.base, "bob", PASSWORD).await.0, 401);
    let filtered = call(
        &http,
        &server,
        ops,
        Method::GET,
        "/admin/v1/users?disabled=true",
        None,
        None,
    )
    .await;
    assert_eq!(names(&filtered.body), ["bob"]);
    call(
        &http,
        &server,
        ops,
        Method::POST,
        &format!("/admin/v1/users/{bob}/enable"),
        None,
        None,
    )
    .await;
    assert_eq!(login(&http, &server.base, "bob", PASSWORD).await.0, 200);

    // A lock from failed logins, listed and lifted.
    for _ in 0..5 {
        login(&http, &server.base, "cecilia", "wrong password").await;
    }
    let locked = call(
        &http,
        &server,
        ops,
        Method::GET,
        "/admin/v1/users?locked=true",
        None,
        None,
    )
    .await;
    assert_eq!(names(&locked.body), ["cecilia"]);
    let cecilia = locked.body["users"][0]["id"].as_i64().unwrap();
    let unlocked = call(
        &http,
        &server,
        ops,
        Method::POST,
        &format!("/admin/v1/users/{cecilia}/unlock"),
        None,
        None,
    )
    .await;
    assert_eq!(
        (unlocked.status, &unlocked.body["locked_until"]),
        (200, &Value::Null)
    );
    assert_eq!(login(&http, &server.base, "cecilia", PASSWORD).await.0, 200);
    let reset = call(
        &http,
        &server,
        ops,
        Method::POST,
        &format!("/admin/v1/users/{cecilia}/reset-second-factor"),
        None,
        None,
    )
    .await;
    assert_eq!(
        (reset.status, reset.body["second_factor"].as_bool()),
        (200, Some(false))
    );
    let nonsense = call(
        &http,
        &server,
        ops,
        Method::POST,
        &format!("/admin/v1/users/{cecilia}/promote"),
        None,
        None,
    )
    .await;
    assert_eq!(nonsense.status, 404);

    // API tokens of the tokens dialect: made, shown, used, revoked.
    let made = call(
        &http,
        &server,
        ops,
        Method::POST,
        &format!("/admin/v1/users/{bob}/api-tokens"),
        None,
        Some(json!({"note": "deploy"})),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let secret = made.body["token"].as_str().unwrap();
    let token_id = made.body["id"].as_i64().unwrap();
    let bump = |token: &str| {
        let request = http.post(format!("{}/auth/bump", server.base)).header(
            "X-Auth-Token",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("bob:{token}")),
        );
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(bump(secret).await, 200);
    let shown = call(
        &http,
        &server,
        ops,
        Method::GET,
        &format!("/admin/v1/tokens/{token_id}"),
        None,
        None,
    )
    .await;
    assert_eq!(
        (shown.body["state"].as_str(), shown.body["note"].as_str()),
        (Some("active"), Some("deploy"))
    );
    assert_eq!(
        call(
            &http,
            &server,
            ops,
            Method::DELETE,
            &format!("/admin/v1/tokens/{token_id}"),
            None,
            None
        )
        .await
        .status,
        204
    );
    let listed = call(
        &http,
        &server,
        ops,
        Method::GET,
        &format!("/admin/v1/users/{bob}/tokens"),
        None,
        None,
    )
    .await;
    let states: Vec<_> = listed.body["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|token| {
            (
                token["id"].as_i64().unwrap(),
                token["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(states.contains(&(token_id, "revoked".to_owned())), "{states:?}");
    assert_eq!(bump(secret).await, 401);

    // The trail: every change by the token's name, by user and kind, in pages.
    let trail = call(
        &http,
        &server,
        ops,
        Method::GET,
        &format!("/admin/v1/audit?user={ann}&kind=admin.request"),
        None,
        None,
    )
    .await;
    assert_eq!(trail.status, 200, "{}", trail.body);
    // Refused attempts are part of the trail too, the newest first.
    let events = trail.body["events"].as_array().unwrap();
    let details: Vec<_> = events
        .iter()
        .map(|event| event["detail"].as_str().unwrap())
        .collect();
    assert_eq!(
        details,
        ["400", "412", "200", "428"].map(|status| format!("PATCH /admin/v1/users/{{id}} {status}")),
        "{}",
        trail.body
    );
    assert!(
        events
            .iter()
            .all(|event| event["actor"] == "admin:ops" && event["dialect"] == "admin")
    );
    let disables = call(
        &http,
        &server,
        ops,
        Method::GET,
        "/admin/v1/audit?kind=account.disabled",
        None,
        None,
    )
    .await;
    assert_eq!(disables.body["events"][0]["actor"], "admin:ops");
    let page = call(
        &http,
        &server,
        ops,
        Method::GET,
        "/admin/v1/audit?limit=2",
        None,
        None,
    )
    .await;
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let older = call(
        &http,
        &server,
        ops,
        Method::GET,
        &format!("/admin/v1/audit?limit=2&cursor={cursor}"),
        None,
        None,
    )
    .await;
    assert!(older.body["events"][0]["id"].as_i64() < page.body["events"][1]["id"].as_i64());

    // The configuration shows what is set, never a secret; readiness by backend.
    let config = call(&http, &server, ops, Method::GET, "/admin/v1/config", None, None).await;
    assert_eq!(config.body["secrets_key"], "********");
    assert!(!config.body.to_string().contains(secret_marker));
    let ready = call(
        &http,
        &server,
        ops,
        Method::GET,
        "/admin/v1/readiness",
        None,
        None,
    )
    .await;
    assert_eq!(
        (ready.status, ready.body["status"].as_str()),
        (200, Some("ready"))
    );
    let backends: Vec<_> = ready.body["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|dependency| dependency["name"].as_str().unwrap())
        .collect();
    assert_eq!(backends, ["database", "directory"]);

    // Delete against the version read.
    let dan_now = call(
        &http,
        &server,
        ops,
        Method::GET,
        &format!("/admin/v1/users/{dan}"),
        None,
        None,
    )
    .await;
    assert_eq!(
        call(
            &http,
            &server,
            ops,
            Method::DELETE,
            &format!("/admin/v1/users/{dan}"),
            None,
            None
        )
        .await
        .status,
        428
    );
    assert_eq!(
        call(
            &http,
            &server,
            ops,
            Method::DELETE,
            &format!("/admin/v1/users/{dan}"),
            dan_now.etag.as_deref(),
            None
        )
        .await
        .status,
        204
    );
    assert_eq!(
        call(
            &http,
            &server,
            ops,
            Method::GET,
            &format!("/admin/v1/users/{dan}"),
            None,
            None
        )
        .await
        .status,
        404
    );

    // The description is served without a token; a revoked token is refused.
    let description = http
        .get(format!("{}/admin/v1/openapi.json", server.management))
        .send()
        .await
        .unwrap();
    assert_eq!(description.status().as_u16(), 200);
    let listed = scratch.ok(&["token", "list", "--admin"], "");
    assert!(listed.contains("ops\tactive\tusers:read,users:write"), "{listed}");
    scratch.ok(&["token", "revoke", "--admin", "reader"], "");
    assert_eq!(
        call(
            &http,
            &server,
            Some(&reader),
            Method::GET,
            "/admin/v1/users",
            None,
            None
        )
        .await
        .status,
        401
    );
}

#[tokio::test]
async fn a_read_only_backend_keeps_its_entries_and_limen_changes_its_own_state() {
    let db = CustomerDb::sqlite().await;
    for (login_name, mail) in [("Ann", "ann@example.com"), ("Bob", "bob@example.com")] {
        db.insert(&Customer {
            login: login_name,
            mail,
            ssn: None,
            hash: None,
            active: true,
        })
        .await;
    }
    let before = db.snapshot().await;
    let scratch = Scratch::new();
    let config = scratch.dir.join("limen.toml");
    std::fs::write(
        &config,
        format!(
            "[users]\nbackend = \"mapped-sql\"\n[users.mapped_sql]\nurl = \"{}\"\ntable = \"customers\"\n\
             [users.mapped_sql.columns]\nid = \"customer_id\"\nusername = \"login\"\nemail = \"mail\"\n\
             password_hash = \"pw_hash\"\nenabled = \"active\"\n",
            db.url
        ),
    )
    .unwrap();
    let mut command = scratch.command();
    command.env("LIMEN_CONFIG", &config);
    let ops_token = admin_token(command, "ops", &format!("{OPERATOR_SCOPES},scim"));
    let mut command = scratch.command();
    command
        .env("LIMEN_CONFIG", &config)
        .args(["serve", "--listen", "127.0.0.1:0"]);
    let server = Server::start(command);
    let http = races::http();
    let ops = Some(ops_token.as_str());
    let ann = id_of(&http, &server, ops_token.as_str(), "ann").await;
    let path = format!("/admin/v1/users/{ann}");
    let shown = call(&http, &server, ops, Method::GET, &path, None, None).await;

    for (method, url, body) in [
        (
            Method::POST,
            "/admin/v1/users".to_owned(),
            Some(json!({"username": "cy", "email": "cy@example.com"})),
        ),
        (
            Method::PATCH,
            path.clone(),
            Some(json!({"email": "ann.new@example.com"})),
        ),
        (Method::DELETE, path.clone(), None),
    ] {
        let refused = call(
            &http,
            &server,
            ops,
            method.clone(),
            &url,
            shown.etag.as_deref(),
            body,
        )
        .await;
        assert_eq!(
            (refused.status, refused.body["code"].as_str()),
            (409, Some("read_only_directory")),
            "{method} {url}"
        );
    }
    let own_state = call(
        &http,
        &server,
        ops,
        Method::PATCH,
        &path,
        shown.etag.as_deref(),
        Some(json!({"enabled": false, "role": "support"})),
    )
    .await;
    assert_eq!(own_state.status, 200, "{}", own_state.body);
    assert_eq!(
        (
            own_state.body["enabled"].as_bool(),
            own_state.body["disabled_in_limen"].as_bool()
        ),
        (Some(false), Some(true))
    );

    // SCIM on the same backend: Limen's state changes, the entry does not.
    let scim = |method: Method, path: String, body: Option<Value>| {
        let request = http
            .request(method, format!("{}/scim/v2{path}", server.management))
            .bearer_auth(ops_token.as_str());
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        async move {
            let answer = request.send().await.unwrap();
            (
                answer.status().as_u16(),
                answer.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let found = scim(
        Method::GET,
        "/Users?filter=userName%20eq%20%22bob%22".into(),
        None,
    )
    .await;
    assert_eq!(found.1["totalResults"], 1, "{}", found.1);
    let bob = found.1["Resources"][0]["id"].as_str().unwrap().to_owned();
    let patch = |operations: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations});
    let deactivated = scim(
        Method::PATCH,
        format!("/Users/{bob}"),
        Some(patch(json!([
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Add", "path": "externalId", "value": "entra-bob"}
        ]))),
    )
    .await;
    assert_eq!(
        (deactivated.0, deactivated.1["active"].as_bool()),
        (200, Some(false)),
        "{}",
        deactivated.1
    );
    assert_eq!(deactivated.1["externalId"], "entra-bob");
    let renamed = scim(
        Method::PATCH,
        format!("/Users/{bob}"),
        Some(patch(
            json!([{"op": "replace", "path": "name.givenName", "value": "Robert"}]),
        )),
    )
    .await;
    assert_eq!(renamed.0, 409, "{}", renamed.1);
    let created = scim(Method::POST, "/Users".into(), Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "cy", "emails": [{"value": "cy@example.com"}]}))).await;
    assert_eq!(created.0, 409);
    assert_eq!(db.snapshot().await, before, "the customer's table is untouched");
}

#[tokio::test]
async fn of_twenty_parallel_updates_against_one_version_exactly_one_wins_on_postgres() {
    let Some(database) = Postgres::create().await else {
        return;
    };
    let scratch = Scratch::new();
    let mut command = scratch.command();
    command.env("LIMEN_DATABASE_URL", &database.url);
    crate::helpers::run_with(command, &["migrate"], "");
    races::add_user_with(&scratch, &database, "ann", &[]);
    let mut command = scratch.command();
    command.env("LIMEN_DATABASE_URL", &database.url);
    let ops = admin_token(command, "ops", OPERATOR_SCOPES);
    let server = races::server_on(&scratch, &database, &[]);
    let http = races::http();
    let ann = id_of(&http, &server, &ops, "ann").await;
    let path = format!("/admin/v1/users/{ann}");
    let shown = call(&http, &server, Some(&ops), Method::GET, &path, None, None).await;
    let tag = shown.etag.unwrap();
    let updates = (0..20).map(|n| {
        let (http, server, ops, path, tag) = (&http, &server, &ops, &path, &tag);
        async move {
            let body = json!({"first_name": format!("Ann {n}"), "enabled": n % 2 == 0});
            call(
                http,
                server,
                Some(ops),
                Method::PATCH,
                path,
                Some(tag),
                Some(body),
            )
            .await
        }
    });
    let answers = join_all(updates).await;
    let winners: Vec<&Answer> = answers.iter().filter(|answer| answer.status == 200).collect();
    let stale = answers.iter().filter(|answer| answer.status == 412).count();
    assert_eq!(
        (winners.len(), stale),
        (1, 19),
        "{:?}",
        answers.iter().map(|answer| answer.status).collect::<Vec<_>>()
    );
    let now = call(&http, &server, Some(&ops), Method::GET, &path, None, None).await;
    assert_eq!(
        now.body["first_name"], winners[0].body["first_name"],
        "the winner's change, whole"
    );
    assert_eq!(now.body["enabled"], winners[0].body["enabled"]);
    assert_eq!(now.etag, winners[0].etag);
    drop(server);
    database.drop_database().await;
}

#[tokio::test]
async fn every_call_needs_the_scope_its_description_names_and_no_other_will_do() {
    let scratch = Scratch::new();
    scratch.add_user("ann", "ann@example.com", PASSWORD);
    let scopes = [
        "users:read",
        "users:write",
        "tokens:read",
        "tokens:write",
        "audit:read",
        "config:read",
        "scim",
    ];
    let tokens: Vec<(&str, String)> = scopes
        .iter()
        .map(|scope| {
            (
                *scope,
                admin_token(scratch.command(), &scope.replace(':', "-"), scope),
            )
        })
        .collect();
    let mut command = scratch.command();
    command.args(["serve", "--listen", "127.0.0.1:0"]);
    let server = Server::start(command);
    let http = races::http();
    let description: Value = http
        .get(format!("{}/admin/v1/openapi.json", server.management))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut checked = 0;
    for (path, item) in description["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let needed = operation["security"][0]["adminToken"][0].as_str().unwrap();
            let concrete = path.replace("{id}", "1").replace("{action}", "unlock");
            let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
            for (scope, token) in &tokens {
                let answer = call(
                    &http,
                    &server,
                    Some(token),
                    method.clone(),
                    &concrete,
                    Some("*"),
                    Some(json!({})),
                )
                .await;
                if *scope == needed {
                    assert!(
                        ![401, 403].contains(&answer.status),
                        "{method} {path} refused its own scope {scope}: {}",
                        answer.body
                    );
                } else {
                    assert_eq!(answer.status, 403, "{method} {path} let {scope} in");
                    assert_eq!(answer.body["code"], "insufficient_scope");
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 15, "every operation of the description");
}
