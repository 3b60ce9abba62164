//! The settings of [`Auth`](crate::Auth), with the demo API's defaults.

use std::time::Duration;

use crate::password::Argon2Params;
use crate::store::LockoutPolicy;

/// Every setting of [`Auth`](crate::Auth). Built through
/// [`AuthBuilder`](crate::AuthBuilder); each setter there documents its
/// default.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    pub(crate) issuer: String,
    pub(crate) audience: String,
    pub(crate) leeway: Duration,
    pub(crate) access_ttl: Duration,
    pub(crate) refresh_ttl: Duration,
    pub(crate) refresh_grace: Duration,
    pub(crate) family_lifetime: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) absolute_timeout: Duration,
    pub(crate) touch_interval: Option<Duration>,
    pub(crate) lockout: LockoutPolicy,
    pub(crate) secure_cookies: bool,
    pub(crate) revocation_staleness: Duration,
    pub(crate) argon2: Argon2Params,
    pub(crate) token_cache_capacity: usize,
    pub(crate) session_cache_capacity: usize,
    pub(crate) realm: String,
}

/// The longest clock-skew leeway accepted.
pub(crate) const MAX_LEEWAY: Duration = Duration::from_secs(300);

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            issuer: "auth-demo".into(),
            audience: "auth-demo-api".into(),
            leeway: Duration::from_secs(30),
            access_ttl: Duration::from_secs(900),
            refresh_ttl: Duration::from_secs(1_209_600),
            refresh_grace: Duration::ZERO,
            family_lifetime: Duration::from_secs(90 * 24 * 3600),
            idle_timeout: Duration::from_secs(1800),
            absolute_timeout: Duration::from_secs(43_200),
            touch_interval: None,
            lockout: LockoutPolicy {
                max_failures: 5,
                lockout: Duration::from_secs(900),
            },
            secure_cookies: false,
            revocation_staleness: Duration::from_secs(1),
            argon2: Argon2Params::default(),
            token_cache_capacity: 10_000,
            session_cache_capacity: 10_000,
            realm: "auth-demo".into(),
        }
    }
}

impl AuthConfig {
    /// The session cookie's name: `__Host-session` with secure cookies,
    /// `session` without.
    pub fn cookie_name(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-session"
        } else {
            "session"
        }
    }

    /// The realm named in `WWW-Authenticate` challenges.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// Access token lifetime.
    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    /// How long a revocation must be remembered to outlive every token it
    /// denies.
    pub(crate) fn revocation_horizon(&self) -> Duration {
        self.access_ttl + self.leeway
    }

    /// Last-seen writes are skipped while the previous one is younger than
    /// this: a tenth of the idle timeout unless set lower.
    pub(crate) fn touch_interval(&self) -> Duration {
        let tenth = self.idle_timeout / 10;
        self.touch_interval.map_or(tenth, |t| t.min(tenth))
    }
}
