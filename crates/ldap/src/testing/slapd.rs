//! A throw-away OpenLDAP server (Debian's `slapd`) with its configuration
//! and database in a temporary directory, on a free port of this machine.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ldap3::{LdapConnAsync, Mod};

use super::{free_port, make_certificates};
use crate::config::{Attributes, Flavor, LdapConfig};

/// The base of the test directory.
pub const BASE: &str = "dc=example,dc=org";
/// Where its people are.
pub const PEOPLE: &str = "ou=people,dc=example,dc=org";
/// The administrator, who may write anything.
pub const ADMIN: &str = "cn=admin,dc=example,dc=org";
/// The administrator's password.
pub const ADMIN_PASSWORD: &str = "admin-secret";
/// Limen's service account, which may read.
pub const SERVICE: &str = "cn=limen,dc=example,dc=org";
/// Its password.
pub const SERVICE_PASSWORD: &str = "limen-secret";
/// The password policy of every entry (ppolicy): the last three passwords
/// may not be used again; no lockout.
pub const DEFAULT_POLICY: &str = "cn=default,ou=policies,dc=example,dc=org";
/// A policy that locks an entry after three failed binds, for five minutes.
pub const LOCKOUT_POLICY: &str = "cn=lockout,ou=policies,dc=example,dc=org";

/// A running slapd of the test's own.
pub struct Slapd {
    /// `ldap://127.0.0.1:<port>`.
    pub url: String,
    /// `ldaps://127.0.0.1:<port>`, when started with TLS.
    pub ldaps_url: Option<String>,
    /// The PEM of the throw-away CA its certificate is signed by, when started with TLS.
    pub ca_pem: Option<Vec<u8>>,
    dir: PathBuf,
    child: Option<Child>,
}

/// A person to put into the directory.
pub struct Entry<'a> {
    /// `uid`, also the entry's RDN.
    pub uid: &'a str,
    /// `mail`.
    pub mail: &'a str,
    /// `employeeNumber`.
    pub employee_number: Option<&'a str>,
    /// `userPassword`, as given (slapd hashes nothing itself).
    pub password: &'a str,
}

impl Slapd {
    /// Whether Debian's slapd is installed.
    pub fn installed() -> bool {
        std::path::Path::new("/usr/sbin/slapd").exists()
    }

    /// `installed`, for a test: a notice when it is not, and a failure under `CI=true`.
    pub fn available() -> bool {
        super::available(Self::installed(), "slapd")
    }

    /// Starts slapd with a fresh database holding the base, `ou=people`, the
    /// service account and the administrator.
    pub async fn start() -> Self {
        Self::start_with(false).await
    }

    /// `start`, with a certificate from a throw-away CA (`scripts/test_ca.sh`)
    /// for LDAPS on a second port and StartTLS on the first.
    pub async fn start_with_tls() -> Self {
        Self::start_with(true).await
    }

    async fn start_with(tls: bool) -> Self {
        assert!(
            Self::installed(),
            "slapd is not installed (scripts/services.sh installs Debian's slapd and ldap-utils)"
        );
        let dir = std::env::temp_dir().join(format!("limen-slapd-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(dir.join("db")).unwrap();
        let config = format!(
            "include /etc/ldap/schema/core.schema\n\
             include /etc/ldap/schema/cosine.schema\n\
             include /etc/ldap/schema/nis.schema\n\
             include /etc/ldap/schema/inetorgperson.schema\n\
             modulepath /usr/lib/ldap\n\
             moduleload back_mdb\n\
             moduleload ppolicy\n\
             moduleload argon2\n\
             pidfile {dir}/slapd.pid\n\
             database mdb\n\
             maxsize 10485760\n\
             suffix \"{BASE}\"\n\
             rootdn \"{ADMIN}\"\n\
             rootpw {ADMIN_PASSWORD}\n\
             directory {dir}/db\n\
             index uid,mail,employeeNumber eq\n\
             overlay ppolicy\n\
             ppolicy_default \"{DEFAULT_POLICY}\"\n\
             ppolicy_use_lockout\n\
             access to attrs=userPassword by self write by dn.exact=\"{SERVICE}\" write by anonymous auth by * none\n\
             access to * by dn.exact=\"{SERVICE}\" read by self read by * none\n",
            dir = dir.display()
        );
        let (ldaps_url, ca_pem, config) = if tls {
            let certificates = dir.join("tls");
            make_certificates(&certificates);
            // Global directives come before the first database.
            let tls = format!(
                "TLSCACertificateFile {c}/ca.pem\nTLSCertificateFile {c}/server.pem\nTLSCertificateKeyFile {c}/server.key\n",
                c = certificates.display()
            );
            let config = config.replacen("pidfile", &format!("{tls}pidfile"), 1);
            let ca = std::fs::read(certificates.join("ca.pem")).unwrap();
            (
                Some(format!("ldaps://127.0.0.1:{}", free_port())),
                Some(ca),
                config,
            )
        } else {
            (None, None, config)
        };
        std::fs::write(dir.join("slapd.conf"), config).unwrap();
        let port = free_port();
        let url = format!("ldap://127.0.0.1:{port}");
        let mut slapd = Self {
            url,
            ldaps_url,
            ca_pem,
            dir,
            child: None,
        };
        slapd.run().await;
        slapd
            .add(
                BASE,
                &[
                    ("objectClass", &["dcObject", "organization"]),
                    ("o", &["Example"]),
                    ("dc", &["example"]),
                ],
            )
            .await;
        slapd
            .add(
                PEOPLE,
                &[("objectClass", &["organizationalUnit"]), ("ou", &["people"])],
            )
            .await;
        slapd
            .add(
                SERVICE,
                &[
                    ("objectClass", &["organizationalRole", "simpleSecurityObject"]),
                    ("cn", &["limen"]),
                    ("userPassword", &[SERVICE_PASSWORD]),
                ],
            )
            .await;
        slapd
            .add(
                "ou=policies,dc=example,dc=org",
                &[("objectClass", &["organizationalUnit"]), ("ou", &["policies"])],
            )
            .await;
        // OpenLDAP 2.5 locks at pwdMaxFailure even with pwdLockout FALSE:
        // the default policy sets no limit at all.
        let default: &[(&str, &[&str])] = &[
            ("objectClass", &["device", "pwdPolicy"]),
            ("cn", &["default"]),
            ("pwdAttribute", &["userPassword"]),
            ("pwdInHistory", &["3"]),
        ];
        slapd.add(DEFAULT_POLICY, default).await;
        let lockout: &[(&str, &[&str])] = &[
            ("objectClass", &["device", "pwdPolicy"]),
            ("cn", &["lockout"]),
            ("pwdAttribute", &["userPassword"]),
            ("pwdInHistory", &["3"]),
            ("pwdLockout", &["TRUE"]),
            ("pwdMaxFailure", &["3"]),
            ("pwdLockoutDuration", &["300"]),
        ];
        slapd.add(LOCKOUT_POLICY, lockout).await;
        slapd
    }

    /// Starts the server process on this server's port and waits for it.
    async fn run(&mut self) {
        let child = Command::new("/usr/sbin/slapd")
            .arg("-f")
            .arg(self.dir.join("slapd.conf"))
            .arg("-h")
            .arg(self.listeners())
            .args(["-d", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        self.wait_until_up().await;
    }

    /// The URLs slapd listens on, as its `-h` takes them.
    fn listeners(&self) -> String {
        let mut listeners = format!("{}/", self.url);
        if let Some(ldaps) = &self.ldaps_url {
            listeners.push_str(&format!(" {ldaps}/"));
        }
        listeners
    }

    /// Starts the server again after `stop`, with the same database and port.
    pub async fn restart(&mut self) {
        self.run().await;
    }

    /// The whole database as LDIF (`slapcat`), for proving nothing changed.
    pub fn dump(&self) -> String {
        let output = Command::new("/usr/sbin/slapcat")
            .arg("-f")
            .arg(self.dir.join("slapd.conf"))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "slapcat: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Whether `dn` binds with `password`, asked with `ldapwhoami` (ldap-utils).
    pub fn binds(&self, dn: &str, password: &str) -> bool {
        let output = Command::new("ldapwhoami")
            .args(["-x", "-H", &self.url, "-D", dn, "-w", password])
            .output()
            .expect("ldapwhoami (Debian's ldap-utils, which scripts/services.sh installs)");
        output.status.success()
    }

    /// Puts `dn` under the policy that locks after three failed binds.
    pub async fn lock_out_after_failures(&self, dn: &str) {
        self.replace(dn, "pwdPolicySubentry", LOCKOUT_POLICY).await;
    }

    async fn wait_until_up(&self) {
        for _ in 0..100 {
            if LdapConnAsync::new(&self.url).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("slapd did not start on {}", self.url);
    }

    /// Adds `dn` with `attributes`, as the administrator.
    pub async fn add(&self, dn: &str, attributes: &[(&str, &[&str])]) {
        let (connection, mut ldap) = LdapConnAsync::new(&self.url).await.unwrap();
        tokio::spawn(connection.drive());
        ldap.simple_bind(ADMIN, ADMIN_PASSWORD)
            .await
            .unwrap()
            .success()
            .unwrap();
        let attributes: Vec<(&str, HashSet<&str>)> = attributes
            .iter()
            .map(|(name, values)| (*name, values.iter().copied().collect()))
            .collect();
        ldap.add(dn, attributes)
            .await
            .unwrap()
            .success()
            .unwrap_or_else(|err| panic!("adding {dn}: {err}"));
        ldap.unbind().await.ok();
    }

    /// Adds a person below `ou=people`; the entry's DN.
    pub async fn add_person(&self, person: &Entry<'_>) -> String {
        let dn = format!("uid={},{PEOPLE}", ldap3::dn_escape(person.uid));
        let mut attributes: Vec<(&str, &[&str])> = vec![
            ("objectClass", &["inetOrgPerson"]),
            ("cn", std::slice::from_ref(&person.uid)),
            ("sn", &["Person"]),
            ("givenName", &["Test"]),
            ("uid", std::slice::from_ref(&person.uid)),
            ("mail", std::slice::from_ref(&person.mail)),
            ("userPassword", std::slice::from_ref(&person.password)),
        ];
        if let Some(number) = &person.employee_number {
            attributes.push(("employeeNumber", std::slice::from_ref(number)));
        }
        self.add(&dn, &attributes).await;
        dn
    }

    /// Replaces an attribute of `dn`, as the administrator.
    pub async fn replace(&self, dn: &str, attribute: &str, value: &str) {
        let (connection, mut ldap) = LdapConnAsync::new(&self.url).await.unwrap();
        tokio::spawn(connection.drive());
        ldap.simple_bind(ADMIN, ADMIN_PASSWORD)
            .await
            .unwrap()
            .success()
            .unwrap();
        ldap.modify(dn, vec![Mod::Replace(attribute, HashSet::from([value]))])
            .await
            .unwrap()
            .success()
            .unwrap();
        ldap.unbind().await.ok();
    }

    /// Limen's configuration for this server.
    pub fn config(&self) -> LdapConfig {
        LdapConfig {
            name: "ldap".into(),
            urls: vec![self.url.clone()],
            start_tls: false,
            ca_pem: None,
            bind_dn: SERVICE.into(),
            bind_password: SERVICE_PASSWORD.into(),
            base_dn: PEOPLE.into(),
            user_filter: "(objectClass=inetOrgPerson)".into(),
            flavor: Flavor::OpenLdap,
            attributes: Attributes {
                personal_number: Some("employeeNumber".into()),
                ..Attributes::of(Flavor::OpenLdap)
            },
            writable: false,
            max_connections: 4,
            timeout: Duration::from_secs(5),
            cache_ttl: Duration::ZERO,
            cache_max_entries: 0,
        }
    }

    /// Stops the server (the database stays until drop).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
        std::fs::remove_dir_all(&self.dir).ok();
    }
}
