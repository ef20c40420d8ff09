//! For tests: real directory servers of the test's own, started from
//! Debian's packages (which `scripts/services.sh` installs) in temporary
//! directories and stopped when dropped. OpenLDAP (`slapd`) on a free port;
//! a Samba Active Directory domain controller, which always listens on
//! LDAP's own ports (389, 636), so its tests run one at a time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod samba;
mod slapd;

pub use samba::*;
pub use slapd::*;

/// Whether a server the tests need is installed; without it a test is
/// skipped with a notice, except under `CI=true`, where
/// `scripts/services.sh` must have installed it.
fn available(installed: bool, what: &str) -> bool {
    if installed {
        return true;
    }
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "{what} is missing and CI=true forbids skipping (scripts/services.sh installs it)"
    );
    eprintln!("NOTICE: {what} is not installed (scripts/services.sh installs it); test skipped");
    false
}

/// A free TCP port of this machine.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Makes a throw-away CA and a server certificate for 127.0.0.1 in `dir`
/// (`ca.pem`, `server.pem`, `server.key`).
fn make_certificates(dir: &std::path::Path) {
    let made = std::process::Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/test_ca.sh"))
        .arg(dir)
        .status()
        .expect("scripts/test_ca.sh needs bash and openssl");
    assert!(made.success(), "scripts/test_ca.sh failed");
}
