//! One module per subcommand.

pub mod administer;
pub mod audit;
pub mod bankid_simulator;
pub mod config;
pub mod import;
pub mod migrate;
pub mod oidc_provider;
pub mod openapi;
pub mod probe;
pub mod secrets;
pub mod serve;
pub mod token;
pub mod user;
