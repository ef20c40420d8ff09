//! The running configuration as the administration API shows it. Secrets
//! are never serialised (`skip_serializing`); each one that is set appears
//! as `"********"` under its key, and URLs that may carry a password
//! appear with it masked, so that an operator sees what is configured
//! without seeing it.

use serde_json::{Value, json};

use super::{Config, ExposeSecret, SecretString};

/// What stands for a secret that is set.
const MASK: &str = "********";

/// `config` as JSON with every secret masked.
pub fn masked(config: &Config) -> Value {
    let mut value = serde_json::to_value(config).unwrap_or_else(|_| json!({}));
    let set = |secret: &Option<SecretString>| secret.as_ref().map(|_| json!(MASK));
    let url = |secret: &Option<SecretString>| {
        secret
            .as_ref()
            .map(|url| json!(limen_domain::redact_url(url.expose_secret())))
    };
    let masks = [
        (
            "",
            "database_url",
            Some(json!(limen_domain::redact_url(
                config.database_url.expose_secret()
            ))),
        ),
        ("", "secrets_key", set(&config.secrets_key)),
        (
            "",
            "previous_secrets_keys",
            Some(json!(vec![MASK; config.previous_secrets_keys.len()])),
        ),
        ("", "redis_url", url(&config.redis_url)),
        (
            "/bankid",
            "certificate_password",
            set(&config.bankid.certificate_password),
        ),
        (
            "/dialects/lime",
            "api_keys",
            Some(json!(vec![MASK; config.dialects.lime.api_keys.len()])),
        ),
        ("/mail/smtp", "password", set(&config.mail.smtp.password)),
        ("/oidc", "payload_key", set(&config.oidc.payload_key)),
        ("/users/mapped_sql", "url", url(&config.users.mapped_sql.url)),
        ("/users/limecrm", "api_key", set(&config.users.limecrm.api_key)),
        (
            "/users/ldap",
            "bind_password",
            set(&config.users.ldap.bind_password),
        ),
    ];
    for (pointer, key, mask) in masks {
        insert(&mut value, pointer, key, mask);
    }
    for (index, consumer) in config.oidc.consumers.iter().enumerate() {
        insert(
            &mut value,
            &format!("/oidc/consumers/{index}"),
            "payload_key",
            set(&consumer.payload_key),
        );
    }
    for (index, provider) in config.oidc.providers.iter().enumerate() {
        insert(
            &mut value,
            &format!("/oidc/providers/{index}"),
            "client_secret",
            set(&provider.client_secret),
        );
    }
    for (index, client) in config.oidc_provider.clients.iter().enumerate() {
        insert(
            &mut value,
            &format!("/oidc_provider/clients/{index}"),
            "client_secret",
            set(&client.client_secret),
        );
    }
    value
}

/// Puts `mask` at `key` of the object at `pointer`, when there is a mask.
fn insert(value: &mut Value, pointer: &str, key: &str, mask: Option<Value>) {
    if let Some(mask) = mask
        && let Some(object) = value.pointer_mut(pointer).and_then(Value::as_object_mut)
    {
        object.insert(key.to_owned(), mask);
    }
}

#[cfg(test)]
mod tests {
    use figment::Figment;
    use figment::providers::{Format, Serialized, Toml};

    use super::*;

    #[test]
    fn no_secret_is_shown_and_each_set_one_is_marked() {
        let secret = "s3cret-SENTINEL";
        let toml = format!(
            r#"
            database_url = "postgres://limen:{secret}@db.example.com/limen"
            secrets_key = "{secret}"
            previous_secrets_keys = ["{secret}"]
            redis_url = "redis://:{secret}@redis.example.com"
            [dialects.lime]
            api_keys = ["{secret}"]
            [mail.smtp]
            password = "{secret}"
            [users.ldap]
            bind_password = "{secret}"
            [users.limecrm]
            api_key = "{secret}"
            [users.mapped_sql]
            url = "mysql://crm:{secret}@crm.example.com/crm"
            [bankid]
            certificate_password = "{secret}"
            [oidc]
            payload_key = "{secret}"
            [[oidc.providers]]
            id = "corp"
            issuer = "https://idp.example.com"
            client_id = "limen"
            client_secret = "{secret}"
            [[oidc_provider.clients]]
            client_id = "app"
            client_secret = "{secret}"
            redirect_uris = ["https://app.example.com/cb"]
            "#
        );
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(&toml))
            .extract()
            .unwrap();
        let shown = masked(&config);
        let text = shown.to_string();
        assert!(!text.contains("SENTINEL"), "{text}");
        assert_eq!(shown["secrets_key"], MASK);
        assert_eq!(shown["mail"]["smtp"]["password"], MASK);
        assert_eq!(shown["users"]["ldap"]["bind_password"], MASK);
        assert_eq!(shown["oidc"]["providers"][0]["client_secret"], MASK);
        assert_eq!(shown["oidc_provider"]["clients"][0]["client_secret"], MASK);
        assert_eq!(shown["dialects"]["lime"]["api_keys"], json!([MASK]));
        assert!(shown["database_url"].as_str().unwrap().contains("db.example.com"));
    }
}
