//! Who runs an administration command, and what they ran, for the audit trail.

use std::os::unix::fs::MetadataExt;

/// The operating-system user running this process: the name `/etc/passwd`
/// gives the real user id (`uid:N` when it names none), and the user `sudo`
/// was run by, when root runs it through `sudo`.
pub fn name() -> String {
    let uid = std::fs::metadata("/proc/self").map(|meta| meta.uid()).ok();
    let name = uid.map_or_else(
        || "unknown".to_owned(),
        |uid| user_name(uid).unwrap_or_else(|| format!("uid:{uid}")),
    );
    match (uid, std::env::var("SUDO_USER")) {
        (Some(0), Ok(by)) if !by.is_empty() => format!("{name} (sudo by {by})"),
        _ => name,
    }
}

/// The name `/etc/passwd` gives `uid`.
fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id: u32 = fields.nth(1)?.parse().ok()?;
        (id == uid).then(|| name.to_owned())
    })
}

/// The command as typed, without the global options that may carry secrets
/// or paths (`--config`, `--database-url`).
pub fn command_line() -> String {
    without_global_options(std::env::args().skip(1)).join(" ")
}

fn without_global_options(args: impl Iterator<Item = String>) -> Vec<String> {
    let mut kept = Vec::new();
    let mut skip_value = false;
    for arg in args {
        if skip_value {
            skip_value = false;
            continue;
        }
        match arg.as_str() {
            "--config" | "--database-url" => skip_value = true,
            other if other.starts_with("--config=") || other.starts_with("--database-url=") => {}
            _ => kept.push(arg),
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_url_and_config_never_reach_the_trail() {
        let args = [
            "--database-url",
            "postgres://limen:secret@db/limen",
            "user",
            "--config=/etc/limen.toml",
            "unlock",
            "ann",
        ]
        .map(str::to_owned);
        assert_eq!(
            without_global_options(args.into_iter()),
            ["user", "unlock", "ann"]
        );
    }

    #[test]
    fn root_has_a_name() {
        assert_eq!(user_name(0).as_deref(), Some("root"));
    }
}
