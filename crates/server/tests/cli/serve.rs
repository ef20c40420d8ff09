use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Postgres, Scratch, Server, exists};

async fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_curl_walkthrough_works_and_sigterm_exits_zero() {
    let scratch = Scratch::new();
    scratch.add_user("john.doe", "john@example.com", "mysecret123!");
    let mut command = scratch.command();
    command.args(["serve", "--listen", "127.0.0.1:0"]);
    let server = Server::start(command);
    let http = client().await;
    let login: Value = http
        .post(format!("{}/authentication/login", server.base))
        .json(&json!({"username": "john.doe", "password": "mysecret123!"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(login["needsSecondToken"], false);
    let token = login["token"].as_str().unwrap();
    let me = http
        .get(format!("{}/authentication/user", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert_eq!(me.json::<Value>().await.unwrap()["username"], "john.doe");
    let logout = http
        .post(format!("{}/authentication/logout", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 200);
    let after = http
        .get(format!("{}/authentication/user", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
    let log = server.log.clone();
    assert!(server.terminate(), "serve did not exit 0 after SIGTERM");
    let log = log.lock().unwrap().clone();
    assert!(!log.contains(token), "a token reached the log");
    assert!(log.contains("request served"), "{log}");
}

#[tokio::test]
async fn tokens_in_the_query_string_never_reach_the_log() {
    let scratch = Scratch::new();
    let mut command = scratch.command();
    command.args(["serve", "--listen", "127.0.0.1:0"]);
    let server = Server::start(command);
    let secret = "query-secret-token-value";
    let answer = client()
        .await
        .get(format!(
            "{}/authentication/user?access_token={secret}",
            server.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
    // A path that matches no route may carry a token too.
    let stray = client()
        .await
        .get(format!("{}/authentication/{secret}-in-a-path", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(stray.status(), 404);
    let log = server.log.clone();
    assert!(server.terminate());
    let log = log.lock().unwrap().clone();
    assert!(log.contains("/authentication/user"), "{log}");
    assert!(log.contains("(no route)"), "{log}");
    assert!(!log.contains(secret), "{log}");
}

#[tokio::test]
async fn request_ids_are_kept_or_made_answered_and_logged() {
    let scratch = Scratch::new();
    let mut command = scratch.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LIMEN_LOG_FORMAT", "json");
    let server = Server::start(command);
    let http = client().await;
    let kept = http
        .get(format!("{}/authentication/user", server.base))
        .header("x-request-id", "proxy-7f3c:01")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.status(), 401);
    assert_eq!(kept.headers()["x-request-id"], "proxy-7f3c:01");
    let mut made = Vec::new();
    for offered in [None, Some("two words\"{}")] {
        let mut request = http.get(format!("{}/healthz", server.base));
        if let Some(offered) = offered {
            request = request.header("x-request-id", offered);
        }
        let answer = request.send().await.unwrap();
        let id = answer.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        made.push(id);
    }
    assert_ne!(made[0], made[1]);
    let log = server.log.clone();
    assert!(server.terminate());
    let log = log.lock().unwrap().clone();
    for id in ["proxy-7f3c:01", made[0].as_str(), made[1].as_str()] {
        let line = log
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|line| line.to_string().contains(id))
            .unwrap_or_else(|| panic!("no log line with request id {id}:\n{log}"));
        assert!(line.to_string().contains("request_id"), "{line}");
    }
    assert!(!log.contains("two words"), "{log}");
}

#[tokio::test]
async fn json_logs_and_environment_overrides_take_effect() {
    let scratch = Scratch::new();
    let file = scratch.dir.join("limen.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:1\"\nlog_format = \"text\"\n").unwrap();
    let mut command = scratch.command();
    command
        .args(["--config", file.to_str().unwrap(), "serve"])
        .env("LIMEN_LISTEN", "127.0.0.1:0")
        .env("LIMEN_LOG_FORMAT", "json");
    let server = Server::start(command);
    let ready = client()
        .await
        .get(format!("{}/readyz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let log = server.log.clone();
    assert!(server.terminate());
    let log = log.lock().unwrap().clone();
    let first = log.lines().next().unwrap();
    serde_json::from_str::<Value>(first).unwrap_or_else(|err| panic!("not a JSON log line ({err}): {first}"));
}

#[tokio::test]
async fn with_no_arguments_it_serves_sqlite_in_the_working_directory_on_8080() {
    let scratch = Scratch::new();
    let mut command = scratch.command();
    command.env_remove("LIMEN_DATABASE_URL");
    let server = Server::start(command);
    assert_eq!(server.base, "http://127.0.0.1:8080");
    let health = client()
        .await
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert!(exists(&scratch.dir.join("limen.db")));
    // No secrets_key configured: one was generated beside the database, for its owner only.
    let key = scratch.dir.join("limen.db.secrets-key");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&key).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(std::fs::read_to_string(&key).unwrap().trim().len(), 44);
    assert!(server.terminate());
}

#[tokio::test]
async fn on_postgresql_it_refuses_to_serve_without_a_secrets_key_unless_told_to() {
    let Some(database) = Postgres::create().await else {
        return;
    };
    let scratch = Scratch::new();
    let mut command = scratch.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LIMEN_DATABASE_URL", &database.url);
    let output = command.output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("secrets_key is not set"), "{stderr}");
    assert!(stderr.contains("allow_unsealed_secrets"), "{stderr}");
    // Administration does not seal anything: it runs.
    scratch.ok_with(
        &[("LIMEN_DATABASE_URL", database.url.as_str())],
        &["user", "list"],
        "",
    );
    let mut command = scratch.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LIMEN_DATABASE_URL", &database.url)
        .env("LIMEN_ALLOW_UNSEALED_SECRETS", "true");
    let server = Server::start(command);
    let ready = client()
        .await
        .get(format!("{}/readyz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    assert!(server.terminate());
    database.drop_database().await;
}

#[tokio::test]
async fn the_openapi_command_prints_and_writes_what_the_server_serves() {
    let scratch = Scratch::new();
    let printed = scratch.ok(&["openapi"], "");
    let file = scratch.dir.join("openapi.json");
    scratch.ok(&["openapi", "--output", file.to_str().unwrap()], "");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), printed);
    let mut command = scratch.command();
    command.args(["serve", "--listen", "127.0.0.1:0"]);
    let server = Server::start(command);
    let served = client()
        .await
        .get(format!("{}/openapi.json", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(served, printed);
    let description: Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(description["openapi"], "3.1.0");
    let unwritable = scratch.fails(&["openapi", "--output", "/nonexistent/dir/openapi.json"], "");
    assert!(
        unwritable.contains("writing /nonexistent/dir/openapi.json"),
        "{unwritable}"
    );
}

/// Sends raw bytes to the server and returns its first line (empty if it closed).
fn raw_status_line(base: &str, request: &[u8]) -> String {
    use std::io::{BufRead, BufReader, Write};
    let address = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // The server may answer and close before reading all of a huge request.
    let _ = stream.write_all(request);
    let mut line = String::new();
    let _ = BufReader::new(stream).read_line(&mut line);
    line.trim_end().to_owned()
}

#[tokio::test]
async fn oversized_and_malformed_requests_on_the_wire_are_refused_and_serving_goes_on() {
    let scratch = Scratch::new();
    let mut command = scratch.command();
    command.args(["serve", "--listen", "127.0.0.1:0"]);
    let server = Server::start(command);
    let huge_header = format!(
        "POST /authentication/login HTTP/1.1\r\nHost: x\r\nX-Padding: {}\r\nContent-Length: 2\r\n\r\n{{}}",
        "a".repeat(100 * 1024)
    );
    let many_headers = format!(
        "GET /authentication/user HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..200).map(|i| format!("X-H{i}: v\r\n")).collect::<String>()
    );
    let cases: [(&str, Vec<u8>, &str); 4] = [
        // Past actix's 32 kB read buffer for the head: refused as malformed.
        ("a 100 kB header", huge_header.into_bytes(), "HTTP/1.1 400"),
        // More than the 96 headers actix parses.
        ("200 headers", many_headers.into_bytes(), "HTTP/1.1 431"),
        (
            "a request line that is not HTTP",
            b"\x00\xff\xfe GARBAGE\r\n\r\n".to_vec(),
            "HTTP/1.1 400",
        ),
        (
            "a NUL byte in a header value",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n".to_vec(),
            "HTTP/1.1 400",
        ),
    ];
    let answers: Vec<String> = cases
        .iter()
        .map(|(what, request, _)| format!("{what}: {}", raw_status_line(&server.base, request)))
        .collect();
    for ((what, _, expected), answer) in cases.iter().zip(&answers) {
        assert!(answer.starts_with(&format!("{what}: {expected}")), "{answers:#?}");
    }
    let health = client()
        .await
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert!(
        server.terminate(),
        "the server did not exit cleanly after bad requests"
    );
}

#[test]
fn config_check_validates_without_serving() {
    let scratch = Scratch::empty();
    let good = scratch.dir.join("good.toml");
    std::fs::write(
        &good,
        "listen = \"127.0.0.1:9\"\nlog_level = \"limen_http=debug,warn\"\n\
         database_url = \"postgres://limen:hunter2@db.invalid/limen\"\nallow_unsealed_secrets = true\n",
    )
    .unwrap();
    let mut command = scratch.command();
    command.env_remove("LIMEN_DATABASE_URL");
    let output = crate::helpers::run_with(
        command,
        &["--config", good.to_str().unwrap(), "config", "check"],
        "",
    );
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(out.starts_with("configuration is valid"), "{out}");
    assert!(
        out.contains("127.0.0.1:9") && out.contains("limen_http=debug,warn"),
        "{out}"
    );
    assert!(
        out.contains("db.invalid") && !out.contains("hunter2"),
        "the password is masked: {out}"
    );
    // Nothing was created: a check is not a start.
    assert!(
        std::fs::read_dir(&scratch.dir).unwrap().count() == 1,
        "only good.toml"
    );
    // A password as a URL's query parameter, and Redis's, are masked too.
    let mut command = scratch.command();
    command
        .env(
            "LIMEN_DATABASE_URL",
            "postgres://limen@db.invalid/limen?password=hunter3&sslmode=require",
        )
        .env("LIMEN_REDIS_URL", "redis://:hunter4@cache.invalid:6379/0")
        .env("LIMEN_TOKENS__BACKEND", "redis")
        .env("LIMEN_ALLOW_UNSEALED_SECRETS", "true");
    let output = crate::helpers::run_with(command, &["config", "check"], "");
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(out.contains("password=***&sslmode=require"), "{out}");
    assert!(out.contains("redis://:***@cache.invalid"), "{out}");
    assert!(!out.contains("hunter3") && !out.contains("hunter4"), "{out}");

    for (file, wanted) in [
        ("log_level = \"infoo\"\n", "log_level"),
        ("lisen = \"127.0.0.1:9\"\n", "lisen"),
        ("[cache]\nmax_staleness_secs = 0\n", "cache.max_staleness_secs"),
        (
            "redis_url = \"rediss://cache.invalid\"\n[tokens]\nbackend = \"redis\"\n",
            "rediss://",
        ),
    ] {
        let bad = scratch.dir.join("bad.toml");
        std::fs::write(&bad, file).unwrap();
        let err = scratch.fails(&["--config", bad.to_str().unwrap(), "config", "check"], "");
        assert!(
            err.contains("invalid configuration") && err.contains(wanted),
            "{file}: {err}"
        );
    }
}

#[tokio::test]
async fn probe_answers_whether_a_running_server_is_ready() {
    let scratch = Scratch::new();
    let port = crate::helpers::free_port();
    let listen = format!("0.0.0.0:{port}");
    let mut command = scratch.command();
    command.args(["serve"]).env("LIMEN_LISTEN", &listen);
    let server = Server::start(command);
    // The configured wildcard address is asked on loopback, as a container's HEALTHCHECK does.
    let mut probe = scratch.command();
    probe.env("LIMEN_LISTEN", &listen).arg("probe");
    let output = tokio::task::spawn_blocking(move || probe.output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("/readyz: 200"));
    assert!(server.terminate());
    let mut probe = scratch.command();
    probe
        .env("LIMEN_LISTEN", &listen)
        .args(["probe", "--timeout-secs", "2"]);
    let output = tokio::task::spawn_blocking(move || probe.output())
        .await
        .unwrap()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("/readyz") && stderr.contains("no answer"),
        "{stderr}"
    );
}

/// The value of the sample `name` (with its labels) in an exposition; 0 when absent.
/// `GET /metrics` of the server at `base`.
pub async fn scrape(base: &str) -> String {
    reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// How many calls to its backend `adapter` reported to `base`'s metrics.
pub async fn store_calls(base: &str, adapter: &str) -> f64 {
    let text = scrape(base).await;
    metric(
        &text,
        &format!("limen_store_call_duration_seconds_count{{adapter=\"{adapter}\"}}"),
    )
}

pub fn metric(exposition: &str, name: &str) -> f64 {
    exposition
        .lines()
        .find_map(|line| {
            line.strip_prefix(name)?
                .strip_prefix(' ')?
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_the_token_cache() {
    let scratch = Scratch::new();
    scratch.add_user("ann", "ann@example.com", "correct horse battery");
    let mut command = scratch.command();
    command.args(["serve", "--listen", "127.0.0.1:0"]);
    let server = Server::start(command);
    let http = client().await;
    let login = |password: &'static str| {
        http.post(format!("{}/authentication/login", server.base))
            .json(&json!({"username": "ann", "password": password}))
            .send()
    };
    assert_eq!(login("wrong").await.unwrap().status(), 401);
    let answer: Value = login("correct horse battery")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = answer["token"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        let status = http
            .get(format!("{}/authentication/user", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200);
    }
    let secret_path = format!("{}/authentication/{token}", server.base);
    assert_eq!(http.get(secret_path).send().await.unwrap().status(), 404);

    // Made-up methods, each 30 kB: one `other` series, not one per method.
    for n in 0..200 {
        let method = reqwest::Method::from_bytes(format!("{n}{}", "X".repeat(30_000)).as_bytes()).unwrap();
        let answer = http
            .request(method, format!("{}/authentication/user", server.base))
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_client_error(), "{}", answer.status());
    }
    // Off the main listener unless asked for: on the management one.
    let main = http.get(format!("{}/metrics", server.base)).send().await.unwrap();
    assert_eq!(main.status(), 404);
    for path in ["/healthz", "/readyz"] {
        for base in [&server.base, &server.management] {
            let answer = http.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(answer.status(), 200, "{base}{path}");
        }
    }
    let answer = http
        .get(format!("{}/metrics", server.management))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let content_type = answer.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = answer.text().await.unwrap();
    let requests = |route: &str, method: &str, status: u16| {
        metric(
            &text,
            &format!(
                "limen_http_requests_total{{dialect=\"flow\",route=\"{route}\",method=\"{method}\",status=\"{status}\"}}"
            ),
        )
    };
    assert_eq!(requests("/authentication/login", "POST", 401), 1.0, "{text}");
    assert_eq!(requests("/authentication/login", "POST", 200), 1.0, "{text}");
    assert_eq!(requests("/authentication/user", "GET", 200), 3.0, "{text}");
    assert_eq!(
        metric(
            &text,
            "limen_http_request_duration_seconds_count{dialect=\"flow\",route=\"/authentication/user\"}"
        ),
        203.0,
        "{text}"
    );
    // The first two validations read the store (the second is kept), the
    // third the cache.
    assert!(metric(&text, "limen_token_cache_hits_total") >= 1.0, "{text}");
    assert!(metric(&text, "limen_token_cache_misses_total") >= 2.0, "{text}");
    assert!(metric(&text, "limen_token_cache_entries") >= 1.0, "{text}");
    // Every statement on Limen's database is timed; two hashes were computed.
    assert!(
        metric(&text, "limen_store_call_duration_seconds_count{adapter=\"sql\"}") >= 3.0,
        "{text}"
    );
    assert_eq!(metric(&text, "limen_hash_jobs_total"), 2.0, "{text}");
    assert!(metric(&text, "limen_hash_run_seconds_total") > 0.0, "{text}");
    assert_eq!(metric(&text, "limen_hash_queue_depth"), 0.0, "{text}");
    assert_eq!(metric(&text, "limen_hash_running"), 0.0, "{text}");
    assert_eq!(
        metric(
            &text,
            "limen_logins_total{dialect=\"flow\",method=\"password\",outcome=\"success\"}"
        ),
        1.0,
        "{text}"
    );
    assert_eq!(requests("/authentication/user", "other", 405), 200.0, "{text}");
    assert!(text.len() < 100_000, "{} bytes of metrics", text.len());
    // Paths are recorded by pattern: the token in the stray path is not.
    assert!(!text.contains(&token), "{text}");
    assert!(text.contains("route=\"(no route)\""), "{text}");
    // Every metric the shipped Grafana dashboard queries is one Limen exposes.
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../deploy/grafana/limen-dashboard.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let panels = dashboard["panels"].as_array().unwrap();
    assert!(panels.len() >= 6);
    for expr in panels
        .iter()
        .flat_map(|panel| panel["targets"].as_array().unwrap())
    {
        let expr = expr["expr"].as_str().unwrap();
        let names = expr
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|word| word.starts_with("limen_"));
        for name in names {
            let family = ["_total", "_bucket", "_count", "_sum"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .unwrap_or(name);
            assert!(
                text.contains(&format!("# TYPE {family} ")),
                "{name} (in {expr}) is not exposed:\n{text}"
            );
        }
    }
    assert!(server.terminate());
}

/// What a client would put into a value to forge a log line of its own.
const FORGED: &str = "2026-12-07T03:00:00.000000Z  INFO limen: admin logged in";

/// Sends every dialect a value with a line break, a carriage return and a
/// terminal escape before `FORGED`, where it reads one.
async fn send_forgeries(base: &str) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let value = format!("x\n{FORGED}\r\n{FORGED}\u{1b}[2J");
    let v = value.as_str();
    let queries: [(&str, Vec<(&str, &str)>); 3] = [
        (
            "/oauth2/authorize/",
            vec![("state", "s"), ("error", v), ("error_description", v), ("iss", v)],
        ),
        ("/oauth2/authorize/", vec![("state", v), ("code", v)]),
        (
            "/login/openid/",
            vec![("state", v), ("provider", v), ("redirect", v)],
        ),
    ];
    for (path, query) in queries {
        http.get(format!("{base}{path}"))
            .query(&query)
            .send()
            .await
            .unwrap();
    }
    let bodies = [
        (
            "/authentication/login",
            json!({"username": value, "password": value}),
        ),
        (
            "/v2/authorize",
            json!({"user_id": value, "password": value, "client_id": value}),
        ),
        (
            "/login_api/unsecureLogin",
            json!({"email": value, "password": value}),
        ),
        (
            "/login/",
            json!({"type": "limecrm", "username": value, "password": value}),
        ),
        ("/login/", json!({"type": "bankid", "personal_number": value})),
        ("/reset/request/", json!({"email": value})),
        ("/bankid/collect/", json!({"transaction_id": value})),
    ];
    for (path, body) in bodies {
        http.post(format!("{base}{path}"))
            .json(&body)
            .send()
            .await
            .unwrap();
    }
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{value}:{value}"));
    http.post(format!("{base}/auth/login"))
        .header("authorization", format!("Basic {basic}"))
        .send()
        .await
        .unwrap();
    http.post(format!("{base}/auth/bump"))
        .header("x-auth-token", basic)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn values_from_clients_never_forge_a_log_line_in_either_format() {
    let scratch = Scratch::new();
    let config = scratch.dir.join("limen.toml");
    std::fs::write(
        &config,
        "public_url = \"http://127.0.0.1:1\"\n[oidc]\nconsumer_urls = [\"https://portal.example/back\"]\n\
         payload_key = \"a-shared-payload-key-of-32-bytes-or-more\"\n\
         [[oidc.providers]]\nid = \"idp\"\nissuer = \"http://127.0.0.1:1/idp\"\nclient_id = \"limen\"\n\
         client_secret = \"secret\"\n[bankid]\nmode = \"simulator\"\n",
    )
    .unwrap();
    for format in ["text", "json"] {
        let mut command = scratch.command();
        command
            .args([
                "--config",
                config.to_str().unwrap(),
                "serve",
                "--listen",
                "127.0.0.1:0",
            ])
            .env("LIMEN_LOG_FORMAT", format)
            .env("RUST_LOG", "debug");
        let server = Server::start(command);
        send_forgeries(&server.base).await;
        let log = server.log.clone();
        assert!(server.terminate());
        let log = log.lock().unwrap().clone();
        // The values reached the log (escaped), and none started a line.
        assert!(log.contains("admin logged in"), "{format}: {log}");
        for line in log.lines() {
            assert!(
                !line.starts_with("2026-12-07T03:00:00"),
                "{format}: a forged line: {line}"
            );
            assert!(!line.contains('\u{1b}'), "{format}: a raw escape: {line}");
            if format == "json" {
                assert!(
                    serde_json::from_str::<Value>(line).is_ok(),
                    "not one JSON object: {line}"
                );
            }
        }
    }
}

#[tokio::test]
async fn metrics_reach_the_main_listener_only_when_asked_and_no_management_listener_is_the_default() {
    let scratch = Scratch::new();
    let mut command = scratch.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LIMEN_MANAGEMENT__METRICS_ON_MAIN_LISTENER", "true");
    let server = Server::start(command);
    let answer = reqwest::get(format!("{}/metrics", server.base)).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert!(server.terminate());

    // Without `management.listen` there is no second listener at all.
    let mut command = scratch.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LIMEN_MANAGEMENT__LISTEN", "");
    let server = Server::start(command);
    assert!(server.management.is_empty(), "{}", server.management);
    let answer = reqwest::get(format!("{}/metrics", server.base)).await.unwrap();
    assert_eq!(answer.status(), 404);
    assert!(server.terminate());
}
