//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Limen: a self-hosted login service speaking several existing login APIs.
#[derive(Debug, Parser)]
#[command(name = "limen", version, about, long_about = None)]
pub struct Cli {
    /// TOML configuration file (see docs/configuration.md).
    #[arg(long, global = true, env = "LIMEN_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Database URL; overrides the file and LIMEN_DATABASE_URL.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (applies pending migrations first).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage named user tokens (the `tokens` dialect's API tokens).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage the key that seals secrets at rest.
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Run a BankID Relying Party API v6 simulator over HTTPS with mutual TLS, for a
    /// Limen (or another relying party) in `bankid.mode = "test"` to use; its
    /// outcomes come from `[bankid.simulator]`. Never for production.
    BankidSimulator(SimulatorArgs),
    /// Limen as an OpenID Provider: its clients and its signing keys.
    #[command(name = "oidc-provider", subcommand)]
    OidcProvider(OidcProviderCommand),
    /// Check the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Read the audit trail, newest first: logins and failed logins,
    /// lockouts, password and second-factor changes, tokens, and the
    /// administration commands run (with the operating-system user who ran
    /// them).
    Audit(AuditArgs),
    /// Ask a running Limen whether it is ready (`GET /readyz` on the
    /// configured `listen` address): exits 0 on 200, 1 otherwise. For a
    /// container's HEALTHCHECK, with no HTTP client in the image.
    Probe(ProbeArgs),
    /// Print the OpenAPI 3.1 description of every route (as `GET /openapi.json` serves it).
    Openapi {
        /// Write it to this file instead of standard output (docs/openapi.json in the repository).
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The administration API's description instead (docs/openapi-admin.json).
        #[arg(long)]
        admin: bool,
    },
}

/// `limen token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for a user, or with --admin one for the administration
    /// API and SCIM, and print it: it is shown only this once.
    Create {
        /// The owner's username.
        #[arg(
            long,
            value_name = "USERNAME",
            required_unless_present = "admin",
            conflicts_with = "admin"
        )]
        user: Option<String>,
        /// What the token is for ("CI deploy key").
        #[arg(long, value_name = "TEXT", conflicts_with = "admin")]
        note: Option<String>,
        /// Lifetime, e.g. 90d, 12h, 1d12h (s, m, h, d, w); the default is
        /// dialects.tokens.token_ttl_secs, the limit max_token_ttl_secs. An
        /// admin token without it lives until it is revoked.
        #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse_duration)]
        expires: Option<chrono::Duration>,
        /// An admin token, for the management listener's /admin/v1 and /scim/v2.
        #[arg(long, requires_all = ["name", "scopes"])]
        admin: bool,
        /// The admin token's name: the actor in the audit trail, what `revoke --admin` takes.
        #[arg(long, value_name = "NAME", requires = "admin")]
        name: Option<String>,
        /// What the admin token may do, separated by commas: users:read,
        /// users:write, tokens:read, tokens:write, audit:read, config:read, scim.
        #[arg(long, value_name = "SCOPES", requires = "admin")]
        scopes: Option<String>,
    },
    /// List a user's tokens (id, state, created, expires, last used, note),
    /// or with --admin the admin tokens (name, state, scopes, created,
    /// expires, last used).
    List {
        /// The owner's username.
        #[arg(
            long,
            value_name = "USERNAME",
            required_unless_present = "admin",
            conflicts_with = "admin"
        )]
        user: Option<String>,
        /// The admin tokens instead.
        #[arg(long)]
        admin: bool,
        /// One JSON array of objects instead.
        #[arg(long)]
        json: bool,
    },
    /// Refuse a token until it is enabled again.
    Disable {
        /// The token's id (from `limen token list`).
        id: i64,
    },
    /// Accept a disabled token again.
    Enable {
        /// The token's id.
        id: i64,
    },
    /// End a token for good.
    Revoke {
        /// The token's id, or with --admin the admin token's name.
        #[arg(value_name = "ID|NAME")]
        target: String,
        /// Revoke the admin token named TARGET.
        #[arg(long)]
        admin: bool,
    },
}

/// `limen oidc-provider …`.
#[derive(Debug, Subcommand)]
pub enum OidcProviderCommand {
    /// List the configured clients: id, confidential or public, the
    /// algorithm of their ID tokens, redirect URIs, scopes.
    Clients {
        /// One JSON array of objects instead.
        #[arg(long)]
        json: bool,
    },
    /// Make a new signing key for every algorithm and retire the ones they
    /// replace (still published until the ID tokens they signed expire).
    /// Running nodes sign with the new keys from their next start.
    RotateKeys,
}

/// `limen config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Load and validate the configuration (`--config`, `LIMEN_*`) as `serve`
    /// would, without connecting to anything, and print what it amounts to;
    /// exits 1 with the reason when it is invalid.
    Check,
}

/// `limen secrets …`.
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Re-seal every stored TOTP secret and private key with the current
    /// `secrets_key` (run after moving the old key to `previous_secrets_keys`).
    Rotate,
}

/// Options of `bankid-simulator`.
#[derive(Debug, Args)]
pub struct SimulatorArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9443")]
    pub listen: String,
    /// Where to write the certificates made for this run: `ca.pem` (the CA to
    /// trust, `bankid.ca_file`) and `client.pem` (the relying party's
    /// certificate and key, `bankid.certificate_file`).
    #[arg(long, value_name = "DIR")]
    pub certificates_dir: PathBuf,
}

/// Options of `audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only events of this user (by username), and failed logins under this name.
    #[arg(long, value_name = "USERNAME")]
    pub user: Option<String>,
    /// Only events this recent, e.g. 1h, 7d, 1d12h (s, m, h, d, w).
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse_duration)]
    pub since: Option<chrono::Duration>,
    /// At most this many events.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub limit: u64,
    /// One JSON object per line instead of columns.
    #[arg(long)]
    pub json: bool,
}

/// Options of `probe`.
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The path asked on the configured `listen` address (`/healthz`: only
    /// whether the process answers).
    #[arg(long, value_name = "PATH", default_value = "/readyz")]
    pub path: String,
    /// A whole URL to ask instead.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Seconds to wait for the answer.
    #[arg(long, value_name = "SECONDS", default_value_t = 3)]
    pub timeout_secs: u64,
}

/// Options of `serve`.
#[derive(Debug, Default, Args)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 0.0.0.0:8080; overrides the configuration.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Address of the management listener (metrics, health), e.g.
    /// 127.0.0.1:9000; overrides `management.listen`.
    #[arg(long, value_name = "ADDR")]
    pub management_listen: Option<String>,
}

/// `limen user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Add(AddUserArgs),
    /// List users, one per line: id, username, e-mail, state.
    List {
        /// One JSON array of objects instead.
        #[arg(long)]
        json: bool,
    },
    /// Show one user: identity, Limen's state, second factor, tokens.
    Show {
        /// The user's username.
        username: String,
        /// One JSON object instead.
        #[arg(long)]
        json: bool,
    },
    /// Change a user's e-mail address, names or personal number (an empty
    /// value clears a name or the personal number); the username stays.
    Edit {
        /// The user's username.
        username: String,
        /// A new username (Limen's own table only); tokens and sessions stay.
        #[arg(long, value_name = "USERNAME")]
        rename: Option<String>,
        /// New e-mail address.
        #[arg(long)]
        email: Option<String>,
        /// New given name ("" clears it).
        #[arg(long)]
        first_name: Option<String>,
        /// New family name ("" clears it).
        #[arg(long)]
        last_name: Option<String>,
        /// New Swedish personal number ("" clears it).
        #[arg(long)]
        personal_number: Option<String>,
    },
    /// Delete a user and everything Limen keeps of them: tokens, second
    /// factor, locks, Limen's account state, and the directory's entry.
    Delete {
        /// The user's username.
        username: String,
        /// Do not ask: without it the command asks on a terminal and refuses
        /// when standard input is not one.
        #[arg(long)]
        yes: bool,
    },
    /// Set a user's password (read from standard input) and end their sessions.
    Passwd {
        /// The user's username.
        username: String,
        /// Read the password from the first line of standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Disable a user: logins are refused and their tokens stop working.
    Disable {
        /// The user's username.
        username: String,
    },
    /// Enable a disabled user.
    Enable {
        /// The user's username.
        username: String,
    },
    /// Lift a brute-force lock.
    Unlock {
        /// The user's username.
        username: String,
    },
    /// Remove the link of a user's identity at an OpenID provider (`user
    /// show` lists them): the next login through it matches by its claim
    /// again, and links anew.
    Unlink {
        /// The user's username.
        username: String,
        /// The provider's issuer, as `user show` lists it.
        issuer: String,
    },
    /// Manage a user's passkeys (`user show` lists them).
    Passkeys {
        /// What to do.
        #[command(subcommand)]
        command: PasskeysCommand,
    },
    /// Remove a user's second factor (lost phone); they log in with the password alone.
    #[command(name = "reset-2fa")]
    ResetTwoFactor {
        /// The user's username.
        username: String,
    },
    /// Set a user's role: `user`, or `support` (may manage others' second factors).
    SetRole {
        /// The user's username.
        username: String,
        /// `user` or `support`.
        role: String,
    },
    /// Load users with their existing password hashes into Limen's own table:
    /// all of them in one transaction, or none (docs/backends.md).
    Import(ImportArgs),
}

/// `limen user passkeys …`.
#[derive(Debug, Subcommand)]
pub enum PasskeysCommand {
    /// Remove a user's passkey by its name (a lost device). Removing the last
    /// one of a user without a password is refused unless forced.
    Remove {
        /// The user's username.
        username: String,
        /// The passkey's name, as `user show` lists it.
        name: String,
        /// Remove it even when it is the user's last way to log in.
        #[arg(long)]
        force: bool,
    },
}

/// Options of `user import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file: CSV, JSON Lines, a Keycloak realm export or an Authelia users file.
    pub file: PathBuf,
    /// `csv`, `jsonl`, `keycloak` or `authelia`; by default from the file's
    /// extension (.csv, .jsonl, .json, .yml/.yaml).
    #[arg(long)]
    pub format: Option<String>,
    /// Check every user and report, but import nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Options of `user add`.
#[derive(Debug, Args)]
pub struct AddUserArgs {
    /// Login name (stored lower-case).
    #[arg(long)]
    pub username: String,
    /// E-mail address (stored lower-case).
    #[arg(long)]
    pub email: String,
    /// Given name.
    #[arg(long)]
    pub first_name: Option<String>,
    /// Family name.
    #[arg(long)]
    pub last_name: Option<String>,
    /// Swedish personal number, YYYYMMDDNNNN or YYYYMMDD-NNNN.
    #[arg(long)]
    pub personal_number: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
}
