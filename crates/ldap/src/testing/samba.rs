//! A throw-away Active Directory domain controller: Debian's Samba,
//! provisioned (`samba-tool domain provision`) in a temporary directory and
//! run with only its LDAP service, LDAPS through a certificate of a
//! throw-away CA. Samba's LDAP always listens on ports 389 and 636 of the
//! loopback interface: one at a time per machine (the nextest group `samba`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use super::{free_port, make_certificates};
use crate::config::{Attributes, Flavor, LdapConfig};

/// The domain's base.
pub const AD_BASE: &str = "DC=limen,DC=test";
/// Where the tests' users are (the domain's own accounts are in `CN=Users`).
pub const AD_PEOPLE: &str = "OU=People,DC=limen,DC=test";
/// The domain's administrator, Limen's service account in the tests.
pub const AD_ADMIN: &str = "CN=Administrator,CN=Users,DC=limen,DC=test";
/// The administrator's password.
pub const AD_ADMIN_PASSWORD: &str = "Adm1n-Secret!";
/// The DNS name of the domain, the suffix of user principal names.
pub const AD_REALM: &str = "limen.test";

/// A running Samba AD domain controller of the test's own.
pub struct SambaDc {
    /// `ldaps://127.0.0.1:636`.
    pub url: String,
    /// The PEM of the CA its certificate is signed by.
    pub ca_pem: Vec<u8>,
    dir: PathBuf,
    child: Option<Child>,
}

impl SambaDc {
    /// Whether Debian's samba is installed.
    pub fn installed() -> bool {
        Path::new("/usr/sbin/samba").exists() && Path::new("/usr/bin/samba-tool").exists()
    }

    /// `installed`, for a test: a notice when it is not, and a failure under `CI=true`.
    pub fn available() -> bool {
        super::available(Self::installed(), "samba")
    }

    /// Provisions the domain `limen.test` and starts its LDAP service.
    pub async fn start() -> Self {
        assert!(
            Self::installed(),
            "samba is not installed (scripts/services.sh installs Debian's samba)"
        );
        let dir = std::env::temp_dir().join(format!("limen-samba-{}-{}", std::process::id(), free_port()));
        let tls = dir.join("tls");
        make_certificates(&tls);
        let option = |name: &str, value: &Path| format!("--option={name}={}", value.display());
        let provisioned = Command::new("samba-tool")
            .args([
                "domain",
                "provision",
                "--realm=LIMEN.TEST",
                "--domain=LIMEN",
                "--server-role=dc",
                "--dns-backend=NONE",
                "--use-rfc2307",
                &format!("--adminpass={AD_ADMIN_PASSWORD}"),
                "--option=interfaces=lo",
                "--option=bind interfaces only=yes",
                "--option=server services=ldap",
                "--option=tls enabled=yes",
            ])
            .arg(option("tls keyfile", &tls.join("server.key")))
            .arg(option("tls certfile", &tls.join("server.pem")))
            .arg(option("tls cafile", &tls.join("ca.pem")))
            .arg(option("log file", &dir.join("samba.log")))
            // Its own pid file: the machine's /run/samba is another samba's.
            .arg(option("pid directory", &dir))
            .arg(format!("--targetdir={}", dir.join("dc").display()))
            .stdout(Stdio::null())
            .output()
            .unwrap();
        assert!(
            provisioned.status.success(),
            "samba-tool domain provision: {}",
            String::from_utf8_lossy(&provisioned.stderr)
        );
        // A changed password stops working at once (AD accepts the old one
        // for an hour by default); provision does not write this option.
        let conf = dir.join("dc/etc/smb.conf");
        let text = std::fs::read_to_string(&conf).unwrap();
        let text = text.replacen("[global]\n", "[global]\n\told password allowed period = 0\n", 1);
        std::fs::write(&conf, text).unwrap();
        let ca_pem = std::fs::read(tls.join("ca.pem")).unwrap();
        let mut dc = Self {
            url: "ldaps://127.0.0.1:636".into(),
            ca_pem,
            dir,
            child: None,
        };
        dc.samba_tool(&["ou", "create", AD_PEOPLE]);
        dc.run().await;
        dc
    }

    async fn run(&mut self) {
        // The key must be private to the server's user, or Samba refuses it.
        std::fs::set_permissions(
            self.dir.join("tls/server.key"),
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        let child = Command::new("samba")
            .args(["--interactive", "--model=single", "--configfile"])
            .arg(self.dir.join("dc/etc/smb.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        for _ in 0..200 {
            if self.binds(AD_ADMIN, AD_ADMIN_PASSWORD) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "samba did not answer on {}: {}",
            self.url,
            std::fs::read_to_string(self.dir.join("samba.log")).unwrap_or_default()
        );
    }

    /// `samba-tool` on this domain's database, with `args`.
    pub fn samba_tool(&self, args: &[&str]) -> Output {
        let output = Command::new("samba-tool")
            .args(args)
            .arg(format!(
                "--configfile={}",
                self.dir.join("dc/etc/smb.conf").display()
            ))
            .arg(format!("-H{}", self.dir.join("dc/private/sam.ldb").display()))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "samba-tool {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// Adds a user; its DN.
    pub fn add_user(&self, name: &str, mail: &str, password: &str) -> String {
        self.samba_tool(&[
            "user",
            "create",
            name,
            password,
            &format!("--mail-address={mail}"),
            "--given-name=Test",
            "--surname=Person",
            "--use-username-as-cn",
            "--userou=OU=People",
        ]);
        format!("CN={name},{AD_PEOPLE}")
    }

    /// Whether `who` (a DN or a user principal name) binds with `password`,
    /// asked over LDAPS with `ldapsearch` of the root entry (Samba does not
    /// implement the Who-am-I operation `ldapwhoami` asks for).
    pub fn binds(&self, who: &str, password: &str) -> bool {
        Command::new("ldapsearch")
            .args([
                "-x", "-H", &self.url, "-D", who, "-w", password, "-b", "", "-s", "base", "1.1",
            ])
            .env("LDAPTLS_CACERT", self.dir.join("tls/ca.pem"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }

    /// Limen's configuration for this domain.
    pub fn config(&self) -> LdapConfig {
        LdapConfig {
            name: "ad".into(),
            urls: vec![self.url.clone()],
            start_tls: false,
            ca_pem: Some(self.ca_pem.clone()),
            bind_dn: AD_ADMIN.into(),
            bind_password: AD_ADMIN_PASSWORD.into(),
            base_dn: AD_PEOPLE.into(),
            user_filter: "(&(objectCategory=person)(objectClass=user))".into(),
            flavor: Flavor::ActiveDirectory,
            attributes: Attributes::of(Flavor::ActiveDirectory),
            writable: false,
            max_connections: 4,
            timeout: Duration::from_secs(5),
            cache_ttl: Duration::ZERO,
            cache_max_entries: 0,
        }
    }
}

impl Drop for SambaDc {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
        std::fs::remove_dir_all(&self.dir).ok();
    }
}
