//! The deployment files in `deploy/`, checked by the linters an operator's CI
//! would run (no container engine or cluster runs here): hadolint for the
//! Dockerfile, yamllint for every YAML file, kubernetes-validate for the
//! manifests against the Kubernetes API's schemas, `systemd-analyze verify`
//! for the unit. `scripts/services.sh` installs the first three into
//! target/tools and names it in `LIMEN_DEPLOY_TOOLS`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

/// The linters' directory; `None`, with a notice, without one (never under `CI=true`).
fn tools() -> Option<PathBuf> {
    match std::env::var_os("LIMEN_DEPLOY_TOOLS") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "LIMEN_DEPLOY_TOOLS is required when CI=true (scripts/services.sh sets it)"
            );
            eprintln!("notice: LIMEN_DEPLOY_TOOLS is not set; the deployment files are not linted");
            None
        }
    }
}

/// Runs `command` and fails the test with its output unless it exits 0.
fn passes(mut command: Command, what: &str) -> String {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("{what}: cannot run: {err}"));
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{what} failed:\n{printed}");
    printed
}

fn yaml_files() -> Vec<PathBuf> {
    let mut files = vec![deploy_dir().join("compose.yaml")];
    let mut manifests: Vec<PathBuf> = std::fs::read_dir(deploy_dir().join("kubernetes"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    manifests.sort();
    files.extend(manifests);
    files
}

#[test]
fn the_dockerfile_passes_hadolint() {
    let Some(tools) = tools() else { return };
    let mut command = Command::new(tools.join("hadolint"));
    command
        .args(["--failure-threshold", "info", "--no-color"])
        .arg(deploy_dir().join("Dockerfile"));
    passes(command, "hadolint deploy/Dockerfile");
}

#[test]
fn every_yaml_file_passes_yamllint_strictly() {
    let Some(tools) = tools() else { return };
    let mut command = Command::new(tools.join("yamllint"));
    command
        .args([
            "--strict",
            "--config-data",
            "{extends: default, rules: {line-length: {max: 120}, document-start: disable}}",
        ])
        .args(yaml_files());
    passes(command, "yamllint deploy/");
}

#[test]
fn the_kubernetes_manifests_match_the_api_schemas() {
    let Some(tools) = tools() else { return };
    let manifests: Vec<PathBuf> = yaml_files().into_iter().skip(1).collect();
    assert!(manifests.len() >= 6, "{manifests:?}");
    let mut command = Command::new(tools.join("kubernetes-validate"));
    // --strict refuses fields the schemas do not know (a misspelt probe).
    command
        .args(["--strict", "--kubernetes-version", "1.31.0"])
        .args(&manifests);
    let printed = passes(command, "kubernetes-validate deploy/kubernetes");
    for kind in [
        "Deployment",
        "Service",
        "ConfigMap",
        "Secret",
        "PodDisruptionBudget",
        "Job",
    ] {
        let found = manifests.iter().any(|path| {
            std::fs::read_to_string(path)
                .unwrap()
                .contains(&format!("kind: {kind}\n"))
        });
        assert!(
            found,
            "no {kind} among the manifests; kubernetes-validate said:\n{printed}"
        );
    }
}

#[test]
fn the_systemd_unit_verifies() {
    if Command::new("systemd-analyze").arg("--version").output().is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "systemd-analyze is required when CI=true (scripts/services.sh installs it)"
        );
        eprintln!("notice: systemd-analyze is missing; the unit is not verified");
        return;
    }
    // verify wants the binary the unit starts: point it at the one just built.
    let dir = std::env::temp_dir().join(format!("limen-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let unit = std::fs::read_to_string(deploy_dir().join("limen.service"))
        .unwrap()
        .replace("/usr/local/bin/limen", env!("CARGO_BIN_EXE_limen"));
    let path = dir.join("limen.service");
    std::fs::write(&path, unit).unwrap();
    let mut command = Command::new("systemd-analyze");
    command.args(["verify", "--man=no"]).arg(&path);
    let printed = passes(command, "systemd-analyze verify deploy/limen.service");
    assert!(
        !printed.contains("limen.service:"),
        "systemd-analyze found something to say about the unit:\n{printed}"
    );
    let mut command = Command::new("systemd-analyze");
    command
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(&path);
    let printed = passes(command, "systemd-analyze security");
    eprintln!("{}", printed.lines().last().unwrap_or_default());
    std::fs::remove_dir_all(&dir).ok();
}
