//! The demo's configuration, read from the environment as demo-api.md says.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use auth_core::store::{MemoryStore, Store};
use auth_core::{Auth, AuthBuilder, Clock, JwtAlgorithm, KeyPair, KeyRing, SystemClock};

/// Bad configuration: the variable at fault and what is wrong, on one line.
/// It never echoes a key or a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable at fault.
    pub variable: &'static str,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad configuration: {}: {}", self.variable, self.reason)
    }
}

impl std::error::Error for ConfigError {}

fn bad(variable: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        reason: reason.into(),
    }
}

/// Every setting of a demo server.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// `DEMO_ADDR`.
    pub addr: SocketAddr,
    /// `STORE_URL`.
    pub store_url: String,
    /// `JWT_ALG`.
    pub algorithm: JwtAlgorithm,
    /// `JWT_ISSUER`.
    pub issuer: String,
    /// `JWT_AUDIENCE`.
    pub audience: String,
    /// `JWT_LEEWAY_SECS`.
    pub leeway: Duration,
    /// `ACCESS_TTL_SECS`.
    pub access_ttl: Duration,
    /// `REFRESH_TTL_SECS`.
    pub refresh_ttl: Duration,
    /// `REFRESH_GRACE_SECS`.
    pub refresh_grace: Duration,
    /// `SESSION_IDLE_SECS`.
    pub session_idle: Duration,
    /// `SESSION_ABSOLUTE_SECS`.
    pub session_absolute: Duration,
    /// `LOGIN_MAX_FAILURES`.
    pub login_max_failures: u32,
    /// `LOGIN_LOCKOUT_SECS`.
    pub login_lockout: Duration,
    /// `SECURE_COOKIES`.
    pub secure_cookies: bool,
    /// `CORS_ORIGINS`.
    pub cors_origins: Vec<String>,
    /// `JWT_KEY_FILE`.
    pub key_file: Option<PathBuf>,
}

impl DemoConfig {
    /// Reads the process environment.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the first bad variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads variables through `var`; unset or empty variables take their
    /// defaults.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the first bad variable.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let text = |name: &str, default: &str| get(name).unwrap_or_else(|| default.to_owned());
        let secs = |name: &'static str, default: u64| -> Result<Duration, ConfigError> {
            number(name, get(name), default).map(Duration::from_secs)
        };
        let algorithm = text("JWT_ALG", "EdDSA");
        Ok(Self {
            addr: parse("DEMO_ADDR", &text("DEMO_ADDR", "127.0.0.1:3000"))?,
            store_url: text("STORE_URL", "memory://"),
            algorithm: JwtAlgorithm::parse(&algorithm)
                .ok_or_else(|| bad("JWT_ALG", "expected HS256, RS256, ES256 or EdDSA"))?,
            issuer: text("JWT_ISSUER", "auth-demo"),
            audience: text("JWT_AUDIENCE", "auth-demo-api"),
            leeway: secs("JWT_LEEWAY_SECS", 30)?,
            access_ttl: secs("ACCESS_TTL_SECS", 900)?,
            refresh_ttl: secs("REFRESH_TTL_SECS", 1_209_600)?,
            refresh_grace: secs("REFRESH_GRACE_SECS", 0)?,
            session_idle: secs("SESSION_IDLE_SECS", 1800)?,
            session_absolute: secs("SESSION_ABSOLUTE_SECS", 43_200)?,
            login_max_failures: number("LOGIN_MAX_FAILURES", get("LOGIN_MAX_FAILURES"), 5)?
                .try_into()
                .map_err(|_| bad("LOGIN_MAX_FAILURES", "too large"))?,
            login_lockout: secs("LOGIN_LOCKOUT_SECS", 900)?,
            secure_cookies: match text("SECURE_COOKIES", "0").as_str() {
                "0" | "false" => false,
                "1" | "true" => true,
                _ => return Err(bad("SECURE_COOKIES", "expected 0 or 1")),
            },
            cors_origins: text("CORS_ORIGINS", "")
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect(),
            key_file: get("JWT_KEY_FILE").map(PathBuf::from),
        })
    }

    /// Builds the [`Auth`] these settings describe, with the system clock,
    /// and seeds the demo users.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for an unreadable key file, a key that does not fit
    /// `JWT_ALG`, an unknown or unreachable store, or a setting `Auth`
    /// refuses.
    pub async fn build_auth(&self) -> Result<Auth, ConfigError> {
        self.build_auth_with(SystemClock).await
    }

    /// As [`build_auth`](Self::build_auth), with another clock (tests move
    /// a manual one).
    ///
    /// # Errors
    ///
    /// As [`build_auth`](Self::build_auth).
    pub async fn build_auth_with(&self, clock: impl Clock) -> Result<Auth, ConfigError> {
        let builder = self.with_store(self.builder(clock)?).await?;
        finish(builder).await
    }

    /// As [`build_auth_with`](Self::build_auth_with), on `store` instead of
    /// the one `STORE_URL` names (tests give each demo its own key prefix).
    ///
    /// # Errors
    ///
    /// As [`build_auth`](Self::build_auth).
    pub async fn build_auth_on<S: Store>(
        &self,
        clock: impl Clock,
        store: S,
    ) -> Result<Auth, ConfigError> {
        finish(self.builder(clock)?.store(store)).await
    }

    fn builder(&self, clock: impl Clock) -> Result<AuthBuilder, ConfigError> {
        Ok(Auth::builder()
            .clock(clock)
            .keys(self.key_ring()?)
            .issuer(&self.issuer)
            .audience(&self.audience)
            .leeway(self.leeway)
            .access_ttl(self.access_ttl)
            .refresh_ttl(self.refresh_ttl)
            .refresh_grace(self.refresh_grace)
            .idle_timeout(self.session_idle)
            .absolute_timeout(self.session_absolute)
            .lockout(self.login_max_failures, self.login_lockout)
            .secure_cookies(self.secure_cookies))
    }

    fn key_ring(&self) -> Result<KeyRing, ConfigError> {
        let key = match &self.key_file {
            Some(path) => {
                let bytes = std::fs::read(path)
                    .map_err(|e| bad("JWT_KEY_FILE", format!("cannot be read: {e}")))?;
                KeyPair::from_pem(self.algorithm, &bytes)
                    .map_err(|e| bad("JWT_KEY_FILE", format!("does not fit JWT_ALG: {e}")))?
            }
            None => KeyPair::generate(self.algorithm)
                .map_err(|e| bad("JWT_ALG", format!("key generation failed: {e}")))?,
        };
        Ok(KeyRing::new(key))
    }

    async fn with_store(&self, builder: AuthBuilder) -> Result<AuthBuilder, ConfigError> {
        let url = self.store_url.as_str();
        let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme);
        match scheme {
            "memory" => Ok(builder.store(MemoryStore::new())),
            "redis" | "rediss" => {
                let store = auth_store_redis::RedisStore::connect(url)
                    .await
                    .map_err(|_| bad("STORE_URL", "cannot connect to Redis"))?;
                Ok(builder.store(store))
            }
            "postgres" | "postgresql" | "sqlite" => Err(bad(
                "STORE_URL",
                format!("the {scheme} store is not part of this build yet"),
            )),
            _ => Err(bad(
                "STORE_URL",
                "unknown scheme; expected memory://, redis://, postgres:// or sqlite:",
            )),
        }
    }
}

/// Builds the `Auth`, checks that its store answers and seeds the users.
async fn finish(builder: AuthBuilder) -> Result<Auth, ConfigError> {
    let auth = builder
        .build()
        .map_err(|e| bad("configuration", e.to_string()))?;
    auth.health()
        .await
        .map_err(|_| bad("STORE_URL", "the store does not answer"))?;
    seed(&auth)
        .await
        .map_err(|_| bad("STORE_URL", "seeding the demo users failed"))?;
    Ok(auth)
}

/// Creates the demo users unless they exist; an existing account is kept as
/// it is.
///
/// # Errors
///
/// The store's error.
pub async fn seed(auth: &Auth) -> Result<(), auth_core::AuthError> {
    auth.create_user("alice", "correct horse battery staple", &["admin", "user"])
        .await?;
    auth.create_user("bob", "hunter2hunter2!", &["user"])
        .await?;
    Ok(())
}

fn number(name: &'static str, value: Option<String>, default: u64) -> Result<u64, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| bad(name, "expected a whole number")),
    }
}

fn parse<T: FromStr>(name: &'static str, value: &str) -> Result<T, ConfigError> {
    value
        .parse()
        .map_err(|_| bad(name, format!("cannot parse {value:?}")))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn defaults_follow_the_demo_api() {
        let c = DemoConfig::from_vars(vars(&[])).unwrap();
        assert_eq!(c.addr, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(c.algorithm, JwtAlgorithm::EdDsa);
        assert_eq!(c.access_ttl, Duration::from_secs(900));
        assert_eq!(c.login_max_failures, 5);
        assert!(!c.secure_cookies && c.cors_origins.is_empty());
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, value) in [
            ("JWT_ALG", "none"),
            ("ACCESS_TTL_SECS", "15m"),
            ("DEMO_ADDR", "nowhere"),
            ("SECURE_COOKIES", "yes"),
        ] {
            let err = DemoConfig::from_vars(vars(&[(name, value)])).unwrap_err();
            assert_eq!(err.variable, name);
        }
    }

    #[tokio::test]
    async fn unknown_store_and_unreadable_key_are_bad_configuration() {
        let c = DemoConfig::from_vars(vars(&[("STORE_URL", "mongodb://x")])).unwrap();
        assert_eq!(c.build_auth().await.unwrap_err().variable, "STORE_URL");
        let c = DemoConfig::from_vars(vars(&[("JWT_KEY_FILE", "/nonexistent/key.pem")])).unwrap();
        assert_eq!(c.build_auth().await.unwrap_err().variable, "JWT_KEY_FILE");
    }
}
