//! Connections to the directory, kept for reuse: one pool bound as the service
//! account (searches), one for checking passwords (each bind changes who the
//! connection is, so those connections do nothing else).

use std::sync::{Arc, Mutex, PoisonError};

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings};
use limen_domain::StoreError;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::LdapConfig;

/// Who a pool's connections are bound as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The service account, for searches.
    Service,
    /// Whoever was last checked: connections only for password binds.
    Binds,
}

/// A bounded set of open connections of one role.
pub(crate) struct Pool {
    config: Arc<LdapConfig>,
    settings: LdapConnSettings,
    role: Role,
    idle: Mutex<Vec<Ldap>>,
    permits: Arc<Semaphore>,
}

/// A connection taken from its pool; `give_back` returns a healthy one.
pub(crate) struct Taken {
    /// The connection.
    pub(crate) ldap: Ldap,
    _permit: OwnedSemaphorePermit,
}

impl Pool {
    /// A pool of `role` over the configured URLs.
    pub(crate) fn new(config: Arc<LdapConfig>, settings: LdapConnSettings, role: Role) -> Self {
        let permits = Arc::new(Semaphore::new(config.max_connections));
        Self {
            config,
            settings,
            role,
            idle: Mutex::new(Vec::new()),
            permits,
        }
    }

    /// An open connection of this pool's role: an idle one, or a new one on
    /// the first URL that answers. Waits for a free place at most the timeout.
    pub(crate) async fn take(&self) -> Result<Taken, StoreError> {
        let permit = tokio::time::timeout(self.config.timeout, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| StoreError::Unavailable("every LDAP connection is busy".into()))?
            .map_err(|_| StoreError::Unavailable("the LDAP pool is closed".into()))?;
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let ldap = match idle {
            Some(mut ldap) => {
                if ldap.is_closed() {
                    self.open().await?
                } else {
                    ldap
                }
            }
            None => self.open().await?,
        };
        Ok(Taken {
            ldap,
            _permit: permit,
        })
    }

    /// Returns a connection that answered as expected.
    pub(crate) fn give_back(&self, taken: Taken) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(taken.ldap);
    }

    async fn open(&self) -> Result<Ldap, StoreError> {
        let mut failures = Vec::new();
        for url in &self.config.urls {
            match self.open_at(url).await {
                Ok(ldap) => return Ok(ldap),
                Err(reason) => {
                    tracing::warn!(%url, %reason, "LDAP server does not answer; trying the next");
                    failures.push(format!("{url}: {reason}"));
                }
            }
        }
        Err(StoreError::Unavailable(format!(
            "no LDAP server answers ({})",
            failures.join("; ")
        )))
    }

    async fn open_at(&self, url: &str) -> Result<Ldap, String> {
        let (connection, mut ldap) = LdapConnAsync::with_settings(self.settings.clone(), url)
            .await
            .map_err(|err| err.to_string())?;
        tokio::spawn(async move {
            if let Err(err) = connection.drive().await {
                tracing::warn!(%err, "LDAP connection ended");
            }
        });
        ldap.with_timeout(self.config.timeout);
        if self.role == Role::Service {
            ldap.simple_bind(&self.config.bind_dn, &self.config.bind_password)
                .await
                .and_then(|result| result.success())
                .map_err(|err| format!("the service account's bind failed: {err}"))?;
        }
        Ok(ldap)
    }
}
