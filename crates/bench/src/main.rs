//! `limen-bench`: starts a Limen release build on fresh SQLite and PostgreSQL
//! databases and on Redis, alone and as two nodes, seeds users and tokens, drives it over loopback and reports
//! requests per second, latency percentiles and resident memory as a Markdown
//! table, JSON and a PNG chart. `just bench` runs it; docs/performance.md
//! explains the scenarios and what limits each figure.

mod argon_rate;
mod error;
mod ldap;
mod limen_process;
mod load;
mod passkeys;
mod peers;
mod profile;
mod provider;
mod redis_target;
mod report;
mod revocation;
mod scenarios;
mod seed;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;

use crate::error::BenchError;
use crate::limen_process::{LimenProcess, resident_mib};
use crate::load::{CallSource, Load, drive};
use crate::redis_target::RedisTarget;
use crate::report::{MemoryReading, Report, Row};
use crate::scenarios::{CHEAP_CONNECTIONS, LOGIN_CONNECTIONS, Plan, measure, measure_on, ratio, row};
use crate::seed::{BenchDatabase, BulkUsers, HashParams, PASSWORD, SeededUser};

/// Benchmarks a Limen build: token validation with and without the cache,
/// logins against the argon2id limit, a login storm, a million users, memory,
/// two nodes.
#[derive(Debug, Parser)]
#[command(name = "limen-bench", version)]
struct Args {
    /// The `limen` binary to measure [default: the one next to this program].
    #[arg(long)]
    limen: Option<PathBuf>,
    /// Where report.json, report.md and latency.png go.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
    /// A PostgreSQL server to create a throw-away database on; without it the
    /// PostgreSQL and scale scenarios are skipped.
    #[arg(long, env = "LIMEN_BENCH_POSTGRES_URL")]
    postgres_url: Option<String>,
    /// A Redis server for the Redis scenarios (tokens and rate limits in
    /// Redis, users in PostgreSQL); its keys live under a prefix of the run's
    /// own, removed at the end. Without it the Redis scenarios are skipped.
    #[arg(long, env = "LIMEN_BENCH_REDIS_URL")]
    redis_url: Option<String>,
    /// An environment variable for every server started, as NAME=VALUE
    /// (repeatable): an allocator's setting such as MALLOC_ARENA_MAX=2, or
    /// LD_PRELOAD of another allocator, to compare in one build.
    #[arg(long = "server-env", value_name = "NAME=VALUE", value_parser = name_and_value)]
    server_env: Vec<(String, String)>,
    /// Which stores to measure, of sqlite, postgres, redis and ldap (users in
    /// a throw-away OpenLDAP, Debian's slapd).
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres,redis,ldap")]
    stores: Vec<Store>,
    /// A run of seconds with tiny counts and cheap hashing: checks that every
    /// scenario works, measures nothing worth reading.
    #[arg(long)]
    quick: bool,
    /// Also start a reference peer on this machine (fastapi-users, from
    /// scripts/bench-peers) and drive it like Limen: the report shows
    /// Limen (SQLite) ÷ peer for validation and login. Needs the sqlite store.
    #[arg(long)]
    peers: bool,
    /// The Python that runs the peer (scripts/bench installs its packages
    /// into the tools' virtual environment).
    #[arg(long, env = "LIMEN_PYTHON", default_value = "python3")]
    python: PathBuf,
    /// Where the peers' applications are.
    #[arg(long, value_name = "DIR", default_value = "scripts/bench-peers")]
    peer_apps: PathBuf,
    /// Which scenarios to run on each store, of validation, login, storm
    /// (runs validation too: its ratio is to the quiet p99), timing,
    /// provider, passkeys, uncached, nodes and scale. The baseline always runs.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "validation,login,storm,timing,provider,passkeys,uncached,nodes,scale"
    )]
    scenarios: Vec<Scenario>,
    /// Also record CPU profiles of the server (perf, with call stacks) during
    /// validation at 16 connections without and with the login storm, written
    /// as flame graphs and folded stacks to OUT/profiles. perf's sampling
    /// costs the server a little: the figures of a profiled run are not the
    /// ones to report.
    #[arg(long)]
    profile: bool,
    /// Where the login storm's load generator runs: `apart`, on a runtime and
    /// threads of its own, or `shared`, on the runtime that also measures
    /// validation (as runs before 2026-12-07 did: validation's latency then
    /// includes the time its answers wait behind the storm's tasks in the
    /// generator).
    #[arg(long, value_enum, default_value = "apart")]
    storm_generator: StormGenerator,
    /// argon2id memory cost, KiB [default: Limen's 19456; 1024 with --quick].
    #[arg(long)]
    memory_kib: Option<u32>,
    /// argon2id passes [default: Limen's 2; 1 with --quick].
    #[arg(long)]
    iterations: Option<u32>,
}

/// A part of the run on each store (docs/performance.md numbers them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Scenario {
    /// 1: token validation.
    Validation,
    /// 3: logins against the raw argon2id rate.
    Login,
    /// 4: validation during a login storm.
    Storm,
    /// 8: refused logins side by side.
    Timing,
    /// 10: Limen as an OpenID Provider.
    Provider,
    /// 11: passkey logins.
    Passkeys,
    /// 1b: validation with the cache off.
    Uncached,
    /// 6: two nodes on one store.
    Nodes,
    /// 5: a million users (PostgreSQL).
    Scale,
}

/// Where the storm's load generator runs (`--storm-generator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum StormGenerator {
    /// A runtime and threads of its own.
    Apart,
    /// The runtime that measures validation.
    Shared,
}

/// A store the scenarios run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Store {
    /// Limen's embedded default.
    Sqlite,
    /// Users and tokens in PostgreSQL.
    Postgres,
    /// Users in PostgreSQL, tokens and rate limits in Redis.
    Redis,
    /// Users in an OpenLDAP directory, Limen's own state in SQLite.
    Ldap,
}

fn name_and_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("{text:?} is not NAME=VALUE")),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), BenchError> {
    let limen = match args.limen.clone().or_else(limen_process::sibling_binary) {
        Some(path) => path,
        None => {
            return Err(BenchError::Setup(
                "no limen binary next to limen-bench; build it (cargo build --release -p limen) or pass --limen".into(),
            ));
        }
    };
    let plan = if args.quick { Plan::quick() } else { Plan::full() };
    let params = HashParams {
        memory_kib: args.memory_kib.unwrap_or(if args.quick { 1024 } else { 19_456 }),
        iterations: args.iterations.unwrap_or(if args.quick { 1 } else { 2 }),
        parallelism: 1,
    };
    let hash = params.hash_password()?;
    progress(&format!("raw argon2id rate for {:?}", plan.argon_seconds));
    let argon_rate = argon_rate::verifications_per_sec(params, &hash, plan.argon_seconds)?;

    let mut scenarios = args.scenarios.clone();
    if scenarios.contains(&Scenario::Storm) && !scenarios.contains(&Scenario::Validation) {
        scenarios.push(Scenario::Validation);
    }
    let profiler = if args.profile {
        Some(profile::Profiler::new(&args.out)?)
    } else {
        None
    };
    let mut run = Run {
        limen,
        scenarios,
        profiler,
        storm_generator: args.storm_generator,
        // The names live as long as the run; leaking them keeps every
        // setting a `(&'static str, String)` like the built-in ones.
        server_env: args
            .server_env
            .iter()
            .map(|(name, value)| (&*Box::leak(name.clone().into_boxed_str()), value.clone()))
            .collect(),
        plan,
        params,
        hash,
        argon_rate,
        rows: Vec::new(),
        memory: Vec::new(),
        baseline: Vec::new(),
    };
    let mut skipped = Vec::new();

    let mut first = true;
    if args.stores.contains(&Store::Sqlite) {
        let sqlite = BenchDatabase::sqlite(&args.out)?;
        run.store(&sqlite, None, first).await?;
        sqlite.drop_database().await?;
        first = false;
    }
    for store in [Store::Postgres, Store::Redis] {
        if !args.stores.contains(&store) {
            continue;
        }
        let Some(postgres_url) = &args.postgres_url else {
            skipped.push(format!(
                "{store:?} scenarios: no --postgres-url (or LIMEN_BENCH_POSTGRES_URL)"
            ));
            continue;
        };
        let redis = match (store, &args.redis_url) {
            (Store::Redis, Some(url)) => Some(RedisTarget::new(url)),
            (Store::Redis, None) => {
                skipped.push("Redis scenarios: no --redis-url (or LIMEN_BENCH_REDIS_URL)".into());
                continue;
            }
            _ => None,
        };
        let postgres = BenchDatabase::postgres(postgres_url).await?;
        let outcome = run.store(&postgres, redis.as_ref(), first).await;
        postgres.drop_database().await?;
        if let Some(redis) = &redis {
            redis.clean().await?;
        }
        outcome?;
        first = false;
    }

    if args.stores.contains(&Store::Ldap) {
        if limen_ldap::testing::Slapd::installed() {
            let sqlite = BenchDatabase::sqlite(&args.out)?;
            let mut settings = run.params.settings();
            settings.extend(run.server_env.iter().cloned());
            let rows = ldap::rows(
                &run.limen,
                &sqlite.url,
                &settings,
                run.plan.users,
                &run.hash,
                run.plan.logins,
            )
            .await;
            sqlite.drop_database().await?;
            run.rows.extend(rows?);
        } else {
            skipped.push("LDAP scenario: slapd is not installed (scripts/services.sh installs it)".into());
        }
    }

    if args.peers {
        if args.stores.contains(&Store::Sqlite) {
            let rows = peers::rows(
                &args.python,
                &args.peer_apps,
                &args.out,
                params,
                run.plan.cheap,
                run.plan.logins,
                &run.rows,
            )
            .await?;
            run.rows.extend(rows);
        } else {
            skipped.push("peers: they are compared with Limen on SQLite, which --stores left out".into());
        }
    }

    let report = Report {
        started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        quick: args.quick,
        hash_params: params,
        argon2_verifications_per_sec: argon_rate,
        rows: run.rows,
        memory: run.memory,
        skipped,
        server_env: args
            .server_env
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect(),
    };
    report.write(&args.out)?;
    println!("{}", report.markdown());
    println!(
        "raw figures: {}/report.json, chart: {}/latency.png",
        args.out.display(),
        args.out.display()
    );
    Ok(())
}

/// Whose logins a timing run sends.
enum CallSourceOf {
    /// Names no one has.
    Unknown,
    /// These users'.
    Names(Arc<Vec<String>>),
}

/// The state of one benchmark run.
struct Run {
    limen: PathBuf,
    /// `--scenarios`.
    scenarios: Vec<Scenario>,
    /// `--profile`.
    profiler: Option<profile::Profiler>,
    /// `--storm-generator`.
    storm_generator: StormGenerator,
    /// `--server-env`, given to every server started.
    server_env: Vec<(&'static str, String)>,
    plan: Plan,
    params: HashParams,
    hash: String,
    argon_rate: f64,
    rows: Vec<Row>,
    memory: Vec<MemoryReading>,
    /// Baseline requests per second by connection count.
    baseline: Vec<(usize, f64)>,
}

impl Run {
    /// Every scenario on one store (Redis's tokens with `db`'s users); the
    /// first store also runs the baseline, the timing comparison and the idle
    /// memory reading, PostgreSQL the scale scenario, the server stores two nodes.
    async fn store(
        &mut self,
        db: &BenchDatabase,
        redis: Option<&RedisTarget>,
        first: bool,
    ) -> Result<(), BenchError> {
        let label = if redis.is_some() { "redis" } else { db.engine };
        progress(&format!("{label}: seeding {} users and tokens", self.plan.users));
        let users = Arc::new(db.seed(self.plan.users, &self.hash, redis).await?);
        let mut settings = self.params.settings();
        settings.push((
            "LIMEN_PASSWORD__WORKSPACE_IDLE_SECS",
            self.plan.workspace_idle.as_secs().to_string(),
        ));
        settings.extend(self.server_env.iter().cloned());
        if let Some(redis) = redis {
            settings.extend(redis.settings());
        }

        let server = LimenProcess::start(&self.limen, &db.url, &settings).await?;
        if first {
            self.memory.push(MemoryReading {
                when: format!("idle, after start-up ({label})"),
                resident_mib: server.resident_mib()?,
            });
            self.baseline_runs(&server).await?;
        }
        if self.wants(Scenario::Validation) {
            self.validation_runs(&server, label, &users).await?;
        }
        if self.wants(Scenario::Login) {
            self.login_runs(&server, label, &users).await?;
        }
        if self.wants(Scenario::Storm) {
            self.storm(&server, label, &users).await?;
        }
        if first && self.wants(Scenario::Timing) {
            self.timing(&server, db, label, &users).await?;
        }
        server.stop().await?;
        if first && self.wants(Scenario::Provider) {
            self.provider_runs(db, label, &settings, &users).await?;
        }
        if first && self.wants(Scenario::Passkeys) {
            self.passkey_runs(db, label, &settings, &users).await?;
        }

        let mut uncached = settings.clone();
        uncached.push(("LIMEN_CACHE__ENABLED", "false".into()));
        if self.wants(Scenario::Uncached) {
            let server = LimenProcess::start(&self.limen, &db.url, &uncached).await?;
            self.uncached_validation_runs(&server, label, &users).await?;
            server.stop().await?;
        }

        if label != "sqlite" && self.wants(Scenario::Nodes) {
            self.two_nodes(db, &settings, label, &users).await?;
        }
        if label == "postgres" && self.wants(Scenario::Scale) {
            let server = LimenProcess::start(&self.limen, &db.url, &settings).await?;
            let bulk = self.scale(&server, db).await?;
            server.stop().await?;
            // The same million tokens with the cache off: what a miss costs
            // without the cache's work around it.
            let server = LimenProcess::start(&self.limen, &db.url, &uncached).await?;
            self.scale_uncached(&server, bulk).await?;
            server.stop().await?;
        }
        Ok(())
    }

    /// Limen as an OpenID Provider: introspection and userinfo against the
    /// baseline, and logins through the hosted page against the raw argon2id rate.
    async fn provider_runs(
        &mut self,
        db: &BenchDatabase,
        label: &str,
        settings: &[(&'static str, String)],
        users: &Arc<Vec<SeededUser>>,
    ) -> Result<(), BenchError> {
        let config = provider::config_file(&std::env::temp_dir())?;
        let mut settings = settings.to_vec();
        settings.push(("LIMEN_CONFIG", config.display().to_string()));
        let server = LimenProcess::start(&self.limen, &db.url, &settings).await?;
        progress("provider: access tokens through the login page and the code exchange");
        let tokens = Arc::new(provider::access_tokens(&server, users, users.len().min(50)).await?);
        for connections in [16, 64] {
            let baseline = self.baseline_at(connections);
            for (scenario, request, calls) in [
                (
                    "10 provider introspection",
                    "POST /oidc/introspect",
                    provider::introspection(tokens.clone()),
                ),
                (
                    "10 provider userinfo",
                    "GET /oidc/userinfo",
                    provider::userinfo(tokens.clone()),
                ),
            ] {
                progress(&format!("provider: {request} at {connections} connections"));
                let summary = measure(&server, self.cheap(connections), calls, &[200], scenario).await?;
                let mut row = row(scenario, request, label, connections, summary);
                row.ratio = ratio(row.summary.requests_per_sec, baseline, "of baseline req/s");
                self.rows.push(row);
            }
        }
        for connections in [16, 64] {
            let baseline = self.baseline_at(connections);
            let load = Load {
                connections,
                requests: self.plan.token_requests,
                time_bound: self.plan.cheap.1,
            };
            // The run and its warm-up spend one each (see `measure_on`).
            let spent = load.requests + (load.requests / 20).clamp(connections as u64, 2_000);
            let count = usize::try_from(spent).unwrap_or(usize::MAX);
            progress(&format!(
                "provider: {count} codes and refresh tokens through single sign-on"
            ));
            let codes = Arc::new(provider::codes(&server, &users[0], count).await?);
            let for_refresh = provider::codes(&server, &users[1 % users.len()], count).await?;
            let refresh_tokens = Arc::new(provider::refresh_tokens(&server, &for_refresh).await?);
            for (scenario, request, calls) in [
                (
                    "10 provider code exchange",
                    "POST /oidc/token (code)",
                    provider::code_exchange(codes),
                ),
                (
                    "10 provider refresh",
                    "POST /oidc/token (refresh)",
                    provider::refresh(refresh_tokens),
                ),
            ] {
                progress(&format!("provider: {request} at {connections} connections"));
                let summary = measure(&server, load, calls, &[200], scenario).await?;
                let mut row = row(scenario, request, label, connections, summary);
                row.ratio = ratio(row.summary.requests_per_sec, baseline, "of baseline req/s");
                self.rows.push(row);
            }
        }
        let (fields, cookie) = provider::login_form(&server).await?;
        let fields = Arc::new(fields);
        for connections in [1, 4] {
            progress(&format!(
                "provider: logins through the page at {connections} connections"
            ));
            let load = Load {
                connections,
                requests: self.plan.logins.0,
                time_bound: self.plan.logins.1,
            };
            let calls = provider::form_login(users.clone(), fields.clone(), cookie.clone());
            let summary = measure(&server, load, calls, &[303], "login through the page").await?;
            let mut row = row(
                "10 provider login page",
                "POST /oidc/authorize",
                label,
                connections,
                summary,
            );
            row.ratio = ratio(
                row.summary.requests_per_sec,
                self.argon_rate,
                "of raw argon2id rate",
            );
            self.rows.push(row);
        }
        server.stop().await?;
        std::fs::remove_file(&config).ok();
        Ok(())
    }

    /// Passkey logins (no argon2): ceremonies started and assertions signed
    /// beforehand, each login finished once, against the baseline and the
    /// password login rate of the same connections.
    async fn passkey_runs(
        &mut self,
        db: &BenchDatabase,
        label: &str,
        settings: &[(&'static str, String)],
        users: &Arc<Vec<SeededUser>>,
    ) -> Result<(), BenchError> {
        let address = limen_process::free_port()?;
        let origin = passkeys::public_url(address.port());
        let mut settings = settings.to_vec();
        settings.push(("LIMEN_PUBLIC_URL", origin.clone()));
        settings.push(("LIMEN_PASSKEYS__ENABLED", "true".into()));
        let server = LimenProcess::start_at(&self.limen, &db.url, &settings, address).await?;
        progress("passkeys: registering a passkey for each of 20 users");
        let mut held = Vec::new();
        for user in users.iter().take(20) {
            held.push(passkeys::Passkey::register(&server, &origin, user).await?);
        }
        for connections in [4, 16] {
            let load = Load {
                connections,
                requests: self.plan.token_requests,
                time_bound: self.plan.cheap.1,
            };
            let spent = load.requests + (load.requests / 20).clamp(connections as u64, 2_000);
            let count = usize::try_from(spent).unwrap_or(usize::MAX);
            progress(&format!(
                "passkeys: {count} ceremonies started and answered beforehand"
            ));
            let bodies = Arc::new(passkeys::logins(&server, &held, count).await?);
            progress(&format!(
                "passkeys: POST /passkeys/authentication at {connections} connections"
            ));
            let summary = measure(&server, load, passkeys::login(bodies), &[200], "passkey login").await?;
            let mut row = row(
                "11 passkey login",
                "POST /passkeys/authentication",
                label,
                connections,
                summary,
            );
            row.ratio = ratio(
                row.summary.requests_per_sec,
                self.baseline_at(connections),
                "of baseline req/s",
            );
            if let Some(password) = self
                .rows
                .iter()
                .find(|r| r.scenario == "3 login" && r.store == label && r.connections == connections)
            {
                row.note = format!(
                    "{:.1} × the password login rate at {connections} connections",
                    row.summary.requests_per_sec / password.summary.requests_per_sec.max(f64::MIN_POSITIVE)
                );
            }
            self.rows.push(row);
        }
        server.stop().await?;
        Ok(())
    }

    /// Validation on a server whose cache is off: every request reads the store.
    async fn uncached_validation_runs(
        &mut self,
        server: &LimenProcess,
        label: &str,
        users: &Arc<Vec<SeededUser>>,
    ) -> Result<(), BenchError> {
        for connections in CHEAP_CONNECTIONS {
            progress(&format!(
                "{label}: validation, cache off, at {connections} connections"
            ));
            let summary = measure(
                server,
                self.cheap(connections),
                scenarios::flow_validation(users.clone()),
                &[200],
                "validation, cache off",
            )
            .await?;
            let baseline = self.baseline_at(connections);
            let mut row = row(
                "1b validation, cache off",
                "GET /authentication/user",
                label,
                connections,
                summary,
            );
            row.ratio = ratio(row.summary.requests_per_sec, baseline, "of baseline req/s");
            self.rows.push(row);
        }
        Ok(())
    }

    /// Two nodes on one store: validation dealt over both, then the delay
    /// from "log out everywhere" on one to the first refusal on the other.
    async fn two_nodes(
        &mut self,
        db: &BenchDatabase,
        settings: &[(&'static str, String)],
        label: &str,
        users: &Arc<Vec<SeededUser>>,
    ) -> Result<(), BenchError> {
        let mut settings = settings.to_vec();
        settings.push(("LIMEN_CLUSTER__NODES", "several".into()));
        if label != "redis" {
            settings.push(("LIMEN_RATE_LIMIT__BACKEND", "sql".into()));
        }
        let a = LimenProcess::start(&self.limen, &db.url, &settings).await?;
        let b = LimenProcess::start(&self.limen, &db.url, &settings).await?;
        progress(&format!(
            "{label}: validation through two nodes at 64 connections"
        ));
        let summary = measure_on(
            &[a.address, b.address],
            self.cheap(64),
            scenarios::flow_validation(users.clone()),
            &[200],
            "validation through two nodes",
        )
        .await?;
        let mut through_both = row("6 two nodes", "GET /authentication/user", label, 64, summary);
        through_both.ratio = ratio(
            through_both.summary.requests_per_sec,
            self.baseline_at(64),
            "of one node's baseline req/s",
        );
        through_both.note = "connections dealt over both nodes on one machine".into();
        self.rows.push(through_both);

        progress(&format!(
            "{label}: revocation delay between two nodes, {} rounds",
            self.plan.revocations
        ));
        let delays = revocation::delays(a.address, b.address, users, self.plan.revocations).await?;
        let mut revoked = row(
            "6 two nodes",
            "logout everywhere on B, refused on A",
            label,
            1,
            delays,
        );
        revoked.note = "latencies are delays from the logout's answer to A's first 401".into();
        self.rows.push(revoked);
        a.stop().await?;
        b.stop().await
    }

    async fn baseline_runs(&mut self, server: &LimenProcess) -> Result<(), BenchError> {
        for connections in CHEAP_CONNECTIONS {
            progress(&format!("baseline at {connections} connections"));
            let summary = measure(
                server,
                self.cheap(connections),
                scenarios::baseline(),
                &[200],
                "baseline",
            )
            .await?;
            self.baseline.push((connections, summary.requests_per_sec));
            let mut row = row("2 baseline", "GET /healthz", "-", connections, summary);
            row.charted = connections == 64;
            self.rows.push(row);
        }
        Ok(())
    }

    async fn validation_runs(
        &mut self,
        server: &LimenProcess,
        engine: &str,
        users: &Arc<Vec<SeededUser>>,
    ) -> Result<(), BenchError> {
        for (request, calls) in [
            (
                "GET /authentication/user",
                scenarios::flow_validation(users.clone()),
            ),
            ("POST /auth/bump", scenarios::tokens_bump(users.clone())),
        ] {
            for connections in CHEAP_CONNECTIONS {
                progress(&format!("{engine}: {request} at {connections} connections"));
                let sampler =
                    (connections == 64 && request.starts_with("GET")).then(|| MemorySampler::start(server));
                let recording = if connections == 16 && request.starts_with("GET") {
                    self.profile(server, &format!("quiet-validation-{engine}"))
                        .await?
                } else {
                    None
                };
                let summary =
                    measure(server, self.cheap(connections), calls.clone(), &[200], request).await?;
                if let Some(recording) = recording {
                    progress(&format!("profile: {}", recording.finish()?.display()));
                }
                if let Some(sampler) = sampler {
                    self.memory.push(MemoryReading {
                        when: format!("peak during {request} at 64 connections ({engine})"),
                        resident_mib: sampler.stop().await,
                    });
                }
                let baseline = self.baseline_at(connections);
                let mut row = row("1 validation", request, engine, connections, summary);
                row.ratio = ratio(row.summary.requests_per_sec, baseline, "of baseline req/s");
                row.charted = connections == 64 && request.starts_with("GET");
                self.rows.push(row);
            }
        }
        Ok(())
    }

    async fn login_runs(
        &mut self,
        server: &LimenProcess,
        engine: &str,
        users: &Arc<Vec<SeededUser>>,
    ) -> Result<(), BenchError> {
        for connections in LOGIN_CONNECTIONS {
            progress(&format!("{engine}: logins at {connections} connections"));
            let load = Load {
                connections,
                requests: self.plan.logins.0,
                time_bound: self.plan.logins.1,
            };
            let calls = scenarios::flow_login(users.clone(), PASSWORD);
            let summary = measure(server, load, calls, &[200], "login").await?;
            let mut row = row(
                "3 login",
                "POST /authentication/login",
                engine,
                connections,
                summary,
            );
            row.ratio = ratio(
                row.summary.requests_per_sec,
                self.argon_rate,
                "of raw argon2id rate",
            );
            row.charted = connections == 16;
            self.rows.push(row);
        }
        Ok(())
    }

    async fn storm(
        &mut self,
        server: &LimenProcess,
        engine: &str,
        users: &Arc<Vec<SeededUser>>,
    ) -> Result<(), BenchError> {
        progress(&format!(
            "{engine}: login storm of {} connections",
            self.plan.storm_connections
        ));
        let storm_load = Load {
            connections: self.plan.storm_connections,
            requests: u64::MAX,
            time_bound: self.plan.storm,
        };
        let logins = scenarios::flow_login(users.clone(), PASSWORD);
        let address = server.address;
        let storm = match self.storm_generator {
            StormGenerator::Apart => tokio::spawn(load::drive_apart(address, storm_load, logins)),
            StormGenerator::Shared => {
                tokio::spawn(async move { Ok(drive(address, storm_load, logins).await) })
            }
        };
        // Let the storm fill the hash pool and its queue before measuring.
        tokio::time::sleep(self.plan.storm / 5).await;
        let validation_load = Load {
            connections: 16,
            requests: u64::MAX,
            time_bound: self.plan.storm * 3 / 5,
        };
        let recording = self
            .profile(server, &format!("storm-validation-{engine}"))
            .await?;
        let validation = drive(
            server.address,
            validation_load,
            scenarios::flow_validation(users.clone()),
        )
        .await;
        if let Some(recording) = recording {
            progress(&format!("profile: {}", recording.finish()?.display()));
        }
        let storm = storm
            .await
            .map_err(|err| BenchError::Setup(format!("the storm's load generator failed: {err}")))??;
        if validation.unexpected(&[200]) > 0 || validation.requests == 0 {
            return Err(BenchError::Setup(format!(
                "validation during the storm: unexpected answers {:?}",
                validation.statuses
            )));
        }
        if storm.unexpected(&[200, 503]) > 0 || storm.count(200) == 0 {
            return Err(BenchError::Setup(format!(
                "logins during the storm: unexpected answers {:?}",
                storm.statuses
            )));
        }
        let quiet_p99 = self
            .rows
            .iter()
            .find(|r| {
                r.scenario == "1 validation"
                    && r.store == engine
                    && r.connections == 16
                    && r.request.starts_with("GET")
            })
            .map_or(0.0, |r| r.summary.ms(99.0));
        let mut during = row("4 storm", "GET /authentication/user", engine, 16, validation);
        during.ratio = ratio(during.summary.ms(99.0), quiet_p99, "× p99 without storm");
        during.note = match self.storm_generator {
            StormGenerator::Apart => format!("while {} connections log in", self.plan.storm_connections),
            StormGenerator::Shared => format!(
                "while {} connections log in, their generator sharing the measuring runtime",
                self.plan.storm_connections
            ),
        };
        during.charted = engine == "sqlite";
        self.rows.push(during);
        let shed = storm.count(503);
        let mut logins = row(
            "4 storm",
            "POST /authentication/login",
            engine,
            self.plan.storm_connections,
            storm,
        );
        logins.ratio = ratio(
            logins.summary.count(200) as f64 / logins.summary.seconds,
            self.argon_rate,
            "of raw argon2id rate",
        );
        logins.note = format!("{shed} shed at once with 503 + Retry-After");
        self.rows.push(logins);
        self.memory.push(MemoryReading {
            when: format!("after the login storm ({engine})"),
            resident_mib: server.resident_mib()?,
        });
        // The hashing threads give their workspaces back once quiet.
        let quiet = self.plan.workspace_idle + Duration::from_secs(2);
        tokio::time::sleep(quiet).await;
        self.memory.push(MemoryReading {
            when: format!("{} s after the login storm ({engine})", quiet.as_secs()),
            resident_mib: server.resident_mib()?,
        });
        if self.plan.settle > quiet {
            tokio::time::sleep(self.plan.settle - quiet).await;
            self.memory.push(MemoryReading {
                when: format!(
                    "{} s after the login storm ({engine})",
                    self.plan.settle.as_secs()
                ),
                resident_mib: server.resident_mib()?,
            });
        }
        Ok(())
    }

    /// A refused login must take the same time whatever was stored: an
    /// unknown name, a user with the current argon2id, one with an imported
    /// SHA-512-crypt hash (fast) and one with an imported argon2id of
    /// Authelia's parameters (slow), each `plan.timing` wrong passwords, one
    /// per user (no lock interferes); each median beside the unknown name's.
    async fn timing(
        &mut self,
        server: &LimenProcess,
        db: &BenchDatabase,
        engine: &str,
        users: &Arc<Vec<SeededUser>>,
    ) -> Result<(), BenchError> {
        let count = usize::try_from(self.plan.timing).unwrap_or(usize::MAX);
        progress(&format!("{engine}: seeding users with imported hashes"));
        // The SHA-512-crypt vector of "test", 5,000 rounds.
        let sha512 =
            "$6$test$s73HObLPm3spffEErq3RSoFse8b43m.tVitc.rEapP4nbLqdmZZabQpuXHItK6ZdlYGqOs5nbhFsWb.ZHZlYa0";
        let slow = self.plan.slow_hash.hash_password()?;
        let slow_name = format!(
            "login refused, argon2id m={} MiB t={} p={} (imported)",
            self.plan.slow_hash.memory_kib / 1024,
            self.plan.slow_hash.iterations,
            self.plan.slow_hash.parallelism
        );
        let imported_fast = Arc::new(db.add_hashed("sha", count, sha512).await?);
        let imported_slow = Arc::new(db.add_hashed("slow", count, &slow).await?);
        let current: Arc<Vec<String>> = Arc::new(users.iter().map(|user| user.username.clone()).collect());
        let load = Load {
            connections: 1,
            requests: self.plan.timing,
            time_bound: self.plan.logins.1 * 2,
        };
        // Every kind is met once first, as a deployment meets its users: the
        // floor learns the slowest hash at its first check.
        for names in [&imported_slow, &imported_fast, &current] {
            drive(
                server.address,
                Load {
                    connections: 1,
                    requests: 1,
                    time_bound: load.time_bound,
                },
                scenarios::wrong_password_of(names.clone()),
            )
            .await;
        }
        let kinds: [(&str, &str, CallSourceOf); 4] = [
            (
                "login refused, unknown user",
                "verifies the dummy hash",
                CallSourceOf::Unknown,
            ),
            (
                "login refused, argon2id (current)",
                "Limen's own parameters",
                CallSourceOf::Names(current),
            ),
            (
                "login refused, SHA-512-crypt (imported)",
                "5,000 rounds, about 2 ms",
                CallSourceOf::Names(imported_fast),
            ),
            (
                &slow_name,
                "the slowest hash in use",
                CallSourceOf::Names(imported_slow),
            ),
        ];
        let mut reference = None;
        for (request, note, calls) in kinds {
            progress(&format!("{engine}: {request}"));
            let calls = match calls {
                CallSourceOf::Unknown => scenarios::flow_login_unknown(),
                CallSourceOf::Names(names) => scenarios::wrong_password_of(names),
            };
            let summary = measure(server, load, calls, &[401], request).await?;
            let median = summary.ms(50.0);
            let mut timed = row("7 timing", request, engine, 1, summary);
            timed.note = note.into();
            match reference {
                None => reference = Some(median),
                Some(unknown) => {
                    timed.ratio = ratio(
                        median,
                        unknown,
                        "× median of the unknown user (goal: 0.85 to 1.15)",
                    );
                }
            }
            self.rows.push(timed);
        }
        Ok(())
    }

    async fn scale(&mut self, server: &LimenProcess, db: &BenchDatabase) -> Result<BulkUsers, BenchError> {
        progress(&format!("postgres: adding {} users and tokens", self.plan.bulk));
        let started = Instant::now();
        let bulk = db.add_bulk(self.plan.bulk).await?;
        let seeded_in = started.elapsed();
        let reference = |rows: &[Row], scenario: &str, connections: usize| {
            rows.iter()
                .find(|r| r.scenario == scenario && r.store == "postgres" && r.connections == connections)
                .map_or(0.0, |r| r.summary.ms(99.0))
        };
        let total = bulk.count as usize + self.plan.users;
        let at_1k = reference(&self.rows, "1 validation", 16);
        // Real traffic meets a warm cache: the mix runs once unmeasured
        // first, with other draws from the same distribution, so that the
        // row is the steady state and not the cache filling.
        let zipf = scenarios::zipf_validation(bulk);
        let other_draws: CallSource = {
            let zipf = zipf.clone();
            Arc::new(move |n| zipf(n + (1 << 40)))
        };
        progress("postgres: warming the cache with the Zipf mix");
        drive(server.address, self.cheap(16), other_draws).await;
        let mut mix = self.scale_validation(server, zipf, "5 scale, Zipf").await?;
        mix.ratio = ratio(mix.summary.ms(99.0), at_1k, "× p99 with 1,000 users");
        mix.note = format!(
            "users picked by Zipf's law (s = {}) over {total}, after an unmeasured run of the same mix",
            scenarios::ZIPF_EXPONENT
        );
        self.rows.push(mix);
        let mut validation = self
            .scale_validation(server, scenarios::bulk_validation(bulk), "5 scale")
            .await?;
        validation.ratio = ratio(validation.summary.ms(99.0), at_1k, "× p99 with 1,000 users");
        validation.note = format!(
            "{total} users and tokens (seeded in {:.0} s)",
            seeded_in.as_secs_f64()
        );
        self.rows.push(validation);
        let load = Load {
            connections: 2,
            requests: self.plan.logins.0 / 2,
            time_bound: self.plan.logins.1,
        };
        let summary = measure(
            server,
            load,
            scenarios::bulk_login(bulk),
            &[200],
            "login at scale",
        )
        .await?;
        let mut login = row("5 scale", "POST /authentication/login", "postgres", 2, summary);
        login.ratio = ratio(
            login.summary.ms(99.0),
            reference(&self.rows, "3 login", 2),
            "× p99 with 1,000 users",
        );
        login.note = format!("{total} users");
        self.rows.push(login);
        self.memory.push(MemoryReading {
            when: format!("after the scale scenario ({total} users, postgres)"),
            resident_mib: server.resident_mib()?,
        });
        Ok(bulk)
    }

    /// The row `scenario` of validations `calls` at 16 connections on PostgreSQL.
    async fn scale_validation(
        &self,
        server: &LimenProcess,
        calls: CallSource,
        scenario: &str,
    ) -> Result<Row, BenchError> {
        let summary = measure(server, self.cheap(16), calls, &[200], scenario).await?;
        Ok(row(scenario, "GET /authentication/user", "postgres", 16, summary))
    }

    /// The scale scenario's uniform validation with the cache off: the
    /// reference of what the cache's misses may cost.
    async fn scale_uncached(&mut self, server: &LimenProcess, bulk: BulkUsers) -> Result<(), BenchError> {
        progress("postgres: validation at scale, cache off");
        let mut uncached = self
            .scale_validation(server, scenarios::bulk_validation(bulk), "5 scale, cache off")
            .await?;
        let cached = self
            .rows
            .iter()
            .find(|r| r.scenario == "5 scale" && r.connections == 16)
            .map_or(0.0, |r| r.summary.ms(99.0));
        uncached.ratio = ratio(cached, uncached.summary.ms(99.0), "cache-on p99 ÷ this p99");
        uncached.note = "the same uniform picks; a ratio above 1 is what the cache's misses add".into();
        self.rows.push(uncached);
        Ok(())
    }

    fn wants(&self, scenario: Scenario) -> bool {
        self.scenarios.contains(&scenario)
    }

    /// Starts a CPU profile of `server` named `name`, when `--profile` asked for one.
    async fn profile(
        &self,
        server: &LimenProcess,
        name: &str,
    ) -> Result<Option<profile::Recording>, BenchError> {
        match (&self.profiler, server.pid()) {
            (Some(profiler), Some(pid)) => profiler.start(pid, name).await.map(Some),
            _ => Ok(None),
        }
    }

    fn cheap(&self, connections: usize) -> Load {
        Load {
            connections,
            requests: self.plan.cheap.0,
            time_bound: self.plan.cheap.1,
        }
    }

    fn baseline_at(&self, connections: usize) -> f64 {
        self.baseline
            .iter()
            .find(|(c, _)| *c == connections)
            .map_or(0.0, |(_, rps)| *rps)
    }
}

/// Samples the server's resident memory every 20 ms until stopped; answers the peak.
struct MemorySampler {
    stop: tokio::sync::oneshot::Sender<()>,
    peak: tokio::task::JoinHandle<f64>,
}

impl MemorySampler {
    fn start(server: &LimenProcess) -> Self {
        let pid = server.pid();
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let peak = tokio::spawn(async move {
            let mut peak: f64 = 0.0;
            loop {
                if let Some(mib) = pid.and_then(|pid| resident_mib(pid).ok()) {
                    peak = peak.max(mib);
                }
                tokio::select! {
                    _ = &mut stopped => return peak,
                    () = tokio::time::sleep(Duration::from_millis(20)) => {}
                }
            }
        });
        Self { stop, peak }
    }

    async fn stop(self) -> f64 {
        let _ = self.stop.send(());
        self.peak.await.unwrap_or(0.0)
    }
}

fn progress(what: &str) {
    eprintln!("bench: {what}");
}
