//! schemathesis (from PyPI) against a running `limen serve` with every dialect
//! switched on, driven by the description the server itself serves: no answer
//! may be a 5xx, and every answer must match its documented status, content
//! type, headers and schema.

use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::helpers::{Scratch, Server, post_json};

const PASSWORD: &str = "correct horse battery";

/// The checks that hold for Limen: every answer matches the description, and
/// every request the description calls valid is accepted (`positive_data_acceptance`;
/// the three operations of `UNSTATED_RULES` aside). Left out on purpose:
/// `negative_data_rejection`, since the dialects accept more than their schemas
/// (unknown fields, booleans spelt as strings, numbers with a zero fraction,
/// lists of `Accept` ranges, lower-case BankID separators), as the originals
/// do; and the checks that need links between operations.
const CHECKS: &str = "[checks]\nenabled = false\n\
                      not_a_server_error.enabled = true\n\
                      status_code_conformance.enabled = true\n\
                      content_type_conformance.enabled = true\n\
                      response_headers_conformance.enabled = true\n\
                      response_schema_conformance.enabled = true\n\
                      positive_data_acceptance.enabled = true\n";

/// Operations with a rule no schema can state, where a request the
/// description allows may still be refused with 400: `expirationTime` must lie
/// in the future (relative to now); a personal number must be a real date with
/// a valid check digit; an OpenID `redirect` must be one of this server's
/// configured consumer URLs; a passkey's credential must be what an
/// authenticator made for the ceremony. The description says each in prose.
const UNSTATED_RULES: &str = "[[operations]]\ninclude-name = \"POST /auth/login\"\n\
                              checks.positive_data_acceptance.enabled = false\n\
                              [[operations]]\ninclude-name = \"POST /login/\"\n\
                              checks.positive_data_acceptance.enabled = false\n\
                              [[operations]]\ninclude-name = \"GET /login/openid/\"\n\
                              checks.positive_data_acceptance.enabled = false\n\
                              [[operations]]\ninclude-name = \"POST /passkeys/registration\"\n\
                              checks.positive_data_acceptance.enabled = false\n\
                              [[operations]]\ninclude-name = \"POST /passkeys/authentication\"\n\
                              checks.positive_data_acceptance.enabled = false\n";

fn schemathesis() -> Command {
    let mut command = crate::helpers::python();
    command.args(["-m", "schemathesis.cli"]);
    command
}

/// The users of the source documents' examples, which the description carries
/// as request examples: schemathesis's first phase sends them as they are. (The
/// bimplus example's password, `test`, is below Limen's minimum length, so that
/// example is answered 401.)
const EXAMPLE_USERS: [(&str, &str, &str); 2] = [
    ("john.doe", "john@example.com", "mysecret123!"),
    ("max.musterman", "max.musterman@gmail.de", "123abcDE&"),
];

async fn flow_login(base: &str, username: &str) -> String {
    let answer = post_json(
        &format!("{base}/authentication/login"),
        &json!({"username": username, "password": PASSWORD}),
    )
    .await;
    answer["token"].as_str().unwrap().to_owned()
}

/// Credentials for every security scheme of the description, each from a user
/// of its own so that one dialect's "log out everywhere" leaves the others'
/// tokens alone, and flow's logout with a user of its own: schemathesis then
/// reaches past the 401s.
async fn credentials(scratch: &Scratch, base: &str) -> String {
    for (username, email, password) in EXAMPLE_USERS {
        scratch.add_user(username, email, password);
    }
    for user in ["flow.user", "flow.logout", "tokens.user", "bimplus.user"] {
        scratch.add_user(user, &format!("{user}@example.com"), PASSWORD);
    }
    let flow_token = flow_login(base, "flow.user").await;
    let logout_token = flow_login(base, "flow.logout").await;
    let api_token = scratch.ok(
        &[
            "token",
            "create",
            "--user",
            "tokens.user",
            "--note",
            "schemathesis",
        ],
        "",
    );
    let x_auth_token = STANDARD.encode(format!("tokens.user:{}", api_token.trim()));
    let bimplus = post_json(
        &format!("{base}/v2/authorize"),
        &json!({"user_id": "bimplus.user@example.com", "password": PASSWORD}),
    )
    .await;
    let bimplus_token = bimplus["access_token"].as_str().unwrap().to_owned();
    format!(
        "{CHECKS}[auth.openapi.flowBearer]\nbearer = \"{flow_token}\"\n\
         [auth.openapi.flowQueryToken]\napi_key = \"{flow_token}\"\n\
         [auth.openapi.flowCookie]\napi_key = \"{flow_token}\"\n\
         [auth.openapi.basic]\nusername = \"tokens.user\"\npassword = \"{PASSWORD}\"\n\
         [auth.openapi.xAuthToken]\napi_key = \"{x_auth_token}\"\n\
         [auth.openapi.bimplusToken]\napi_key = \"BimPlus {bimplus_token}\"\n\
         [auth.openapi.limeApiKey]\napi_key = \"{LIME_API_KEY}\"\n\
         [[operations]]\ninclude-path = \"/authentication/logout\"\n\
         headers = {{ Authorization = \"Bearer {logout_token}\" }}\n{UNSTATED_RULES}"
    )
}

/// The `lime` dialect's API key in this test.
const LIME_API_KEY: &str = "schemathesis-lime-key";

#[tokio::test]
async fn no_answer_is_a_server_error_or_off_its_description() {
    if !crate::helpers::python_has("schemathesis", "schemathesis") {
        return;
    }
    let scratch = Scratch::new();
    // OpenID login on, with a provider nobody answers for: every start and
    // callback ends in a redirect, to the provider or back to the consumer.
    let limen_config = scratch.dir.join("limen.toml");
    std::fs::write(
        &limen_config,
        "public_url = \"http://localhost:8080\"\n[passkeys]\nenabled = true\n[oidc]\nconsumer_urls = [\"https://portal.example/back\"]\n\
         payload_key = \"a-payload-key-of-32-bytes-or-more\"\n[[oidc.providers]]\nid = \"idp\"\n\
         issuer = \"http://127.0.0.1:9\"\nclient_id = \"limen\"\n",
    )
    .unwrap();
    let mut command = scratch.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LIMEN_CONFIG", &limen_config)
        .env("LIMEN_DIALECTS__GRADIDO__ALLOW_PASSWORD_VIA_JSON_REQUEST", "true")
        .env("LIMEN_DIALECTS__GRADIDO__ALLOW_CORS_ALL", "true")
        .env("LIMEN_DIALECTS__LIME__API_KEYS", format!("[\"{LIME_API_KEY}\"]"))
        .env("LIMEN_BANKID__MODE", "simulator");
    let server = Server::start(command);
    let config = credentials(&scratch, &server.base).await;
    run(
        &scratch,
        &server,
        &config,
        &format!("{}/openapi.json", server.base),
        "20261129",
    );
}

/// Runs schemathesis with `config` against the description at `url` of
/// `server`, and fails with its report and the server's log unless every
/// check passed. Small by default so the suite stays fast; `just e2e` raises
/// the examples and changes the seed.
fn run(scratch: &Scratch, server: &Server, config: &str, url: &str, default_seed: &str) {
    let config_file = scratch.dir.join("schemathesis.toml");
    std::fs::write(&config_file, config).unwrap();
    let examples = std::env::var("LIMEN_E2E_MAX_EXAMPLES").unwrap_or_else(|_| "20".into());
    let seed = std::env::var("LIMEN_E2E_SEED").unwrap_or_else(|_| default_seed.into());
    let output = schemathesis()
        .current_dir(&scratch.dir)
        .arg("--config-file")
        .arg(&config_file)
        .args([
            "run",
            url,
            "--max-examples",
            &examples,
            "--seed",
            &seed,
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--generation-database",
            "none",
            "--no-color",
        ])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    println!("{report}");
    assert!(
        output.status.success(),
        "schemathesis failed against {url} (seed {seed}):\n{report}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.log.lock().unwrap()
    );
    assert!(report.contains("passed"), "schemathesis ran no test:\n{report}");
}

/// The administration API's checks: every answer matches the description.
/// `positive_data_acceptance` is left out: a valid request still meets
/// state no schema states (an `If-Match` that is not the user's current
/// version is 412, an id nobody has is 404).
const ADMIN_CHECKS: &str = "[checks]\nenabled = false\n\
                            not_a_server_error.enabled = true\n\
                            status_code_conformance.enabled = true\n\
                            content_type_conformance.enabled = true\n\
                            response_headers_conformance.enabled = true\n\
                            response_schema_conformance.enabled = true\n";

#[tokio::test]
async fn no_answer_of_the_administration_api_is_a_server_error_or_off_its_description() {
    if !crate::helpers::python_has("schemathesis", "schemathesis") {
        return;
    }
    let scratch = Scratch::new();
    for (username, email, password) in EXAMPLE_USERS {
        scratch.add_user(username, email, password);
    }
    let token = crate::admin_api::admin_token(
        scratch.command(),
        "schemathesis",
        "users:read,users:write,tokens:read,tokens:write,audit:read,config:read",
    );
    let mut command = scratch.command();
    command.args(["serve", "--listen", "127.0.0.1:0"]);
    let server = Server::start(command);
    let config = format!("{ADMIN_CHECKS}[auth.openapi.adminToken]\nbearer = \"{token}\"\n");
    let url = format!("{}/admin/v1/openapi.json", server.management);
    run(&scratch, &server, &config, &url, "20261207");
}
