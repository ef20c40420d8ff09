//! The user directory `[users] backend` names.

use std::sync::Arc;

use limen_domain::ports::UserDirectory;
use limen_http::Metrics;
use limen_limecrm::LimeCrmDirectory;
use limen_mapped_sql::MappedDirectory;
use limen_store_sql::Database;

use crate::config::{Config, UsersBackend};
use crate::error::CliError;

/// The configured directory; a mapped table is checked against its database
/// (a wrong table, column or type stops the start), and each lookup no index
/// serves is logged.
pub async fn directory(
    config: &Config,
    database: &Database,
    metrics: &Arc<Metrics>,
) -> Result<Arc<dyn UserDirectory>, CliError> {
    match config.users.backend {
        UsersBackend::Limen => Ok(Arc::new(database.directory())),
        UsersBackend::MappedSql => {
            let mut mapped = MappedDirectory::connect(config.users.mapped_config())
                .await
                .map_err(|err| CliError::Usage(err.to_string()))?;
            mapped.observe(metrics.store_observer("mapped-sql"));
            for warning in mapped.index_warnings() {
                tracing::warn!(table = %config.users.mapped_sql.table, "users.mapped_sql: {warning}");
            }
            tracing::info!(
                table = %config.users.mapped_sql.table,
                writable = config.users.mapped_sql.writable,
                "users come from the customer's table"
            );
            Ok(Arc::new(mapped))
        }
        UsersBackend::Limecrm => {
            let mut crm = LimeCrmDirectory::new(config.users.lime_config())
                .map_err(|reason| CliError::Usage(format!("users.limecrm: {reason}")))?;
            crm.observe(metrics.store_observer("limecrm"));
            // Reported, not fatal: the CRM may come back; /readyz tells until it does.
            if let Err(err) = crm.ping().await {
                tracing::error!(error = %err, "Lime CRM does not answer as it should");
            }
            tracing::info!(url = %config.users.limecrm.url, limetype = %config.users.limecrm.limetype, "users come from Lime CRM");
            Ok(Arc::new(crm))
        }
        UsersBackend::Ldap => {
            let settings = config
                .users
                .ldap
                .adapter_config()
                .map_err(|err| CliError::Usage(err.to_string()))?;
            let urls = settings.urls.join(", ");
            let ldap = limen_ldap::LdapDirectory::new(settings)
                .map_err(|reason| CliError::Usage(format!("users.ldap: {reason}")))?;
            // Reported, not fatal: the directory may come back; /readyz tells until it does.
            if let Err(err) = ldap.ping().await {
                tracing::error!(error = %err, "the LDAP directory does not answer as it should");
            }
            tracing::info!(%urls, base_dn = %config.users.ldap.base_dn, writable = config.users.ldap.writable, "users come from LDAP");
            Ok(Arc::new(ldap))
        }
    }
}
