//! `limen`: the server and its administration commands.

mod cli;
mod commands;
mod config;
mod duration;
mod error;
mod import;
mod keyfile;
mod logging;
mod operator;
mod output;
mod purges;
mod tls;
mod wiring;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, ConfigCommand, ServeArgs};
use crate::config::Config;
use crate::error::CliError;
use crate::output::say_err;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = Config::load(cli.config.as_deref(), cli.database_url.as_deref())
        .map_err(CliError::from)
        .and_then(|config| {
            let serving = matches!(cli.command, None | Some(Command::Serve(_)));
            logging::init(&config, serving);
            actix_web::rt::System::new().block_on(run(cli.command, config))
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            say_err!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Option<Command>, config: Config) -> Result<(), CliError> {
    match command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => commands::serve::run(config, args).await,
        Command::Migrate => commands::migrate::run(&config).await,
        Command::User(command) => commands::user::run(&config, command).await,
        Command::Token(command) => commands::token::run(&config, command).await,
        Command::Secrets(command) => commands::secrets::run(&config, command).await,
        Command::OidcProvider(command) => commands::oidc_provider::run(&config, command).await,
        Command::BankidSimulator(args) => commands::bankid_simulator::run(&config, args).await,
        Command::Config(ConfigCommand::Check) => commands::config::check(&config),
        Command::Audit(args) => commands::audit::run(&config, args).await,
        Command::Probe(args) => commands::probe::run(&config, args).await,
        Command::Openapi { output, admin } => commands::openapi::run(output.as_deref(), admin),
    }
}
