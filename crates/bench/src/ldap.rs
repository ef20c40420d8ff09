//! The LDAP scenario: a throw-away OpenLDAP on this machine, users whose
//! passwords it checks, and logins through Limen (`users.backend = "ldap"`)
//! next to the simple binds the same directory answers on its own: how much
//! of the directory's bind rate a login keeps, and what it adds to the time.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ldap3::LdapConnAsync;
use limen_ldap::testing::{Entry, PEOPLE, SERVICE, SERVICE_PASSWORD, Slapd};

use crate::error::BenchError;
use crate::limen_process::LimenProcess;
use crate::load::Load;
use crate::report::Row;
use crate::scenarios::{self, measure, ratio, row};
use crate::seed::{PASSWORD, SeededUser};
use crate::stats::Summary;

/// Connection counts of the LDAP rows.
const CONNECTIONS: [usize; 2] = [1, 4];

/// A directory of `users` people, each with `PASSWORD` stored as `hash` (an
/// argon2id hash, which slapd's argon2 module verifies): a bind then costs
/// what a hash check costs Limen, as in a directory that stores good hashes.
pub async fn directory(users: usize, hash: &str) -> Result<(Slapd, Vec<String>), BenchError> {
    if !Slapd::installed() {
        return Err(BenchError::Setup(
            "slapd is not installed (scripts/services.sh installs Debian's slapd)".into(),
        ));
    }
    let slapd = Slapd::start().await;
    let mut dns = Vec::with_capacity(users);
    for n in 0..users {
        let uid = format!("bench{n:05}");
        let dn = slapd
            .add_person(&Entry {
                uid: &uid,
                mail: &format!("{uid}@example.org"),
                employee_number: None,
                password: &format!("{{ARGON2}}{hash}"),
            })
            .await;
        dns.push(dn);
    }
    Ok((slapd, dns))
}

/// Simple binds as the people of `dns`, `connections` at a time, for `seconds`.
async fn raw_binds(
    url: &str,
    dns: Arc<Vec<String>>,
    connections: usize,
    seconds: Duration,
) -> Result<Summary, BenchError> {
    let started = Instant::now();
    let deadline = started + seconds;
    let mut workers = Vec::new();
    for worker in 0..connections {
        let (url, dns) = (url.to_owned(), dns.clone());
        workers.push(tokio::spawn(async move {
            let (connection, mut ldap) = LdapConnAsync::new(&url).await.map_err(|err| err.to_string())?;
            tokio::spawn(connection.drive());
            let mut latencies = Vec::new();
            let mut n = worker;
            while Instant::now() < deadline {
                let sent = Instant::now();
                let bound = ldap
                    .simple_bind(&dns[n % dns.len()], PASSWORD)
                    .await
                    .map_err(|err| err.to_string())?;
                if bound.rc != 0 {
                    return Err(format!("a bind was refused: {bound}"));
                }
                latencies.push(sent.elapsed());
                n += connections;
            }
            Ok::<_, String>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for worker in workers {
        let done = worker
            .await
            .map_err(|err| BenchError::Setup(format!("a bind worker failed: {err}")))?;
        latencies.extend(done.map_err(|err| BenchError::Setup(format!("raw binds: {err}")))?);
    }
    let binds = latencies.len() as u64;
    Ok(Summary::new(
        latencies,
        BTreeMap::from([(0, binds)]),
        0,
        started.elapsed(),
    ))
}

/// The rows: raw binds, then logins through Limen on SQLite with the same
/// directory, at each of `CONNECTIONS`.
pub async fn rows(
    limen: &Path,
    database_url: &str,
    settings: &[(&'static str, String)],
    users: usize,
    hash: &str,
    logins: (u64, Duration),
) -> Result<Vec<Row>, BenchError> {
    let (slapd, dns) = directory(users, hash).await?;
    let dns = Arc::new(dns);
    let mut settings = settings.to_vec();
    settings.extend([
        ("LIMEN_USERS__BACKEND", "ldap".to_owned()),
        ("LIMEN_USERS__LDAP__URL", slapd.url.clone()),
        ("LIMEN_USERS__LDAP__BIND_DN", SERVICE.to_owned()),
        ("LIMEN_USERS__LDAP__BIND_PASSWORD", SERVICE_PASSWORD.to_owned()),
        ("LIMEN_USERS__LDAP__BASE_DN", PEOPLE.to_owned()),
    ]);
    let server = LimenProcess::start(limen, database_url, &settings).await?;
    let people: Arc<Vec<SeededUser>> = Arc::new(
        (0..users)
            .map(|n| SeededUser {
                username: format!("bench{n:05}"),
                token: String::new(),
            })
            .collect(),
    );
    let mut rows = Vec::new();
    for connections in CONNECTIONS {
        crate::progress(&format!("ldap: raw binds at {connections} connections"));
        let binds = raw_binds(&slapd.url, dns.clone(), connections, logins.1 / 2).await?;
        crate::progress(&format!("ldap: logins at {connections} connections"));
        let load = Load {
            connections,
            requests: logins.0,
            time_bound: logins.1 / 2,
        };
        let summary = measure(
            &server,
            load,
            scenarios::flow_login(people.clone(), PASSWORD),
            &[200],
            "LDAP login",
        )
        .await?;
        let mut bind_row = row(
            "9 LDAP bind, alone",
            "simple bind (ldap3)",
            "ldap",
            connections,
            binds.clone(),
        );
        bind_row.note = "the directory's own rate: the reference of the login row below".into();
        let mut login_row = row(
            "9 LDAP login",
            "POST /authentication/login",
            "ldap",
            connections,
            summary,
        );
        login_row.ratio = ratio(
            login_row.summary.requests_per_sec,
            binds.requests_per_sec,
            "of raw bind rate",
        );
        login_row.note = format!(
            "p99 {:.2} ms against a bind's {:.2} ms (+{:.2} ms)",
            login_row.summary.ms(99.0),
            binds.ms(99.0),
            login_row.summary.ms(99.0) - binds.ms(99.0)
        );
        rows.push(bind_row);
        rows.push(login_row);
    }
    server.stop().await?;
    Ok(rows)
}
