//! [`AuthBuilder`]: every setting of [`Auth`], with the demo API's defaults.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::{Auth, Inner};
use crate::clock::{Clock, SystemClock};
use crate::config::{AuthConfig, MAX_LEEWAY};
use crate::password::{Argon2Params, Hasher};
use crate::revocation::RevocationCache;
use crate::session_cache::SessionCache;
use crate::store::{
    LockoutPolicy, LoginThrottle, MemoryStore, RevocationStore, SessionStore, Store, UserStore,
};
use crate::token::access::{TokenRules, Tokens};
use crate::token::keys::{JwtAlgorithm, KeyError, KeyPair, KeyRing};

/// Builds an [`Auth`]. Every setting has the default of the demo API.
#[must_use]
pub struct AuthBuilder {
    config: AuthConfig,
    clock: Arc<dyn Clock>,
    store: Option<StoreParts>,
    users: Option<Arc<dyn UserStore>>,
    keys: Option<KeyRing>,
    algorithm: JwtAlgorithm,
}

struct StoreParts {
    sessions: Arc<dyn SessionStore>,
    revocations: Arc<dyn RevocationStore>,
    throttle: Arc<dyn LoginThrottle>,
    users: Arc<dyn UserStore>,
}

impl fmt::Debug for AuthBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthBuilder")
            .field("config", &self.config)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// Why [`AuthBuilder::build`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The signing key could not be made or does not fit.
    #[error("signing key: {0}")]
    Key(#[from] KeyError),
    /// The Argon2 parameters are out of range.
    #[error("argon2 parameters: {0}")]
    Argon2(argon2::Error),
    /// A setting is out of range.
    #[error("{0}")]
    Invalid(&'static str),
}

impl AuthBuilder {
    pub(super) fn new() -> Self {
        Self {
            config: AuthConfig::default(),
            clock: Arc::new(SystemClock),
            store: None,
            users: None,
            keys: None,
            algorithm: JwtAlgorithm::EdDsa,
        }
    }

    /// Keeps all state in `store`. Defaults to a new [`MemoryStore`].
    pub fn store<S: Store>(mut self, store: S) -> Self {
        let store = Arc::new(store);
        self.store = Some(StoreParts {
            sessions: store.clone(),
            revocations: store.clone(),
            throttle: store.clone(),
            users: store,
        });
        self
    }

    /// Looks users up in `users` instead of the main store.
    pub fn user_store<U: UserStore>(mut self, users: U) -> Self {
        self.users = Some(Arc::new(users));
        self
    }

    /// Measures all time with `clock`. Defaults to [`SystemClock`].
    pub fn clock<C: Clock>(mut self, clock: C) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Signs with a key generated at build time for `algorithm`. Defaults
    /// to EdDSA. Ignored when [`keys`](Self::keys) is given.
    pub fn algorithm(mut self, algorithm: JwtAlgorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Signs and verifies with `keys`, for example loaded from a PEM file
    /// that several instances share.
    pub fn keys(mut self, keys: KeyRing) -> Self {
        self.keys = Some(keys);
        self
    }

    /// The `iss` of issued tokens, required exactly on verification.
    /// Defaults to `auth-demo`.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.config.issuer = issuer.into();
        self
    }

    /// The `aud` of issued tokens, required on verification. Defaults to
    /// `auth-demo-api`.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.config.audience = audience.into();
        self
    }

    /// Clock skew allowed on `exp` and `nbf`, at most five minutes.
    /// Defaults to 30 seconds.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.config.leeway = leeway;
        self
    }

    /// Access token lifetime. Defaults to 15 minutes.
    pub fn access_ttl(mut self, ttl: Duration) -> Self {
        self.config.access_ttl = ttl;
        self
    }

    /// Refresh token lifetime, counted from its issue. Defaults to 14 days.
    pub fn refresh_ttl(mut self, ttl: Duration) -> Self {
        self.config.refresh_ttl = ttl;
        self
    }

    /// Weakens reuse detection: within this window after a rotation, the
    /// token just replaced may be presented again for a fresh pair.
    /// Defaults to zero (no grace).
    pub fn refresh_grace(mut self, grace: Duration) -> Self {
        self.config.refresh_grace = grace;
        self
    }

    /// A refresh family ends this long after login, however often it
    /// rotates. Defaults to 90 days.
    pub fn family_lifetime(mut self, lifetime: Duration) -> Self {
        self.config.family_lifetime = lifetime;
        self
    }

    /// A session unused this long ends. Defaults to 30 minutes.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.config.idle_timeout = timeout;
        self
    }

    /// A session ends this long after login, used or not. Defaults to 12
    /// hours.
    pub fn absolute_timeout(mut self, timeout: Duration) -> Self {
        self.config.absolute_timeout = timeout;
        self
    }

    /// Writes of a session's last use are skipped while the previous one is
    /// younger than this; never more than a tenth of the idle timeout,
    /// which is the default.
    pub fn touch_interval(mut self, interval: Duration) -> Self {
        self.config.touch_interval = Some(interval);
        self
    }

    /// Failed logins of one name before it is locked, and for how long.
    /// Defaults to 5 failures and 15 minutes.
    pub fn lockout(mut self, max_failures: u32, lockout: Duration) -> Self {
        self.config.lockout = LockoutPolicy {
            max_failures,
            lockout,
        };
        self
    }

    /// Names the cookie `__Host-session` and marks it `Secure`. Defaults to
    /// off, for local development over plain HTTP; turn it on in production.
    pub fn secure_cookies(mut self, secure: bool) -> Self {
        self.config.secure_cookies = secure;
        self
    }

    /// How stale this instance's view of revocations made elsewhere may
    /// be. Defaults to 1 second; zero asks the store on every request.
    pub fn revocation_staleness(mut self, staleness: Duration) -> Self {
        self.config.revocation_staleness = staleness;
        self
    }

    /// Asks the store about revocation on every bearer request.
    pub fn strict_revocation(self) -> Self {
        self.revocation_staleness(Duration::ZERO)
    }

    /// Argon2id cost. Defaults to the OWASP minimum, 19 MiB, t=2, p=1.
    pub fn argon2(mut self, params: Argon2Params) -> Self {
        self.config.argon2 = params;
        self
    }

    /// Verified access tokens remembered, so that a repeated token costs no
    /// signature check. Defaults to 10 000.
    pub fn token_cache_capacity(mut self, capacity: usize) -> Self {
        self.config.token_cache_capacity = capacity;
        self
    }

    /// Cookie sessions kept in memory between requests, for stores that
    /// announce ended sessions (see
    /// [`SessionStore::session_signal`](crate::store::SessionStore::session_signal));
    /// zero reads the store on every request. Defaults to 10 000.
    pub fn session_cache_capacity(mut self, capacity: usize) -> Self {
        self.config.session_cache_capacity = capacity;
        self
    }

    /// The realm of `WWW-Authenticate` challenges. Defaults to `auth-demo`.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.config.realm = realm.into();
        self
    }

    /// Builds the [`Auth`].
    ///
    /// # Errors
    ///
    /// [`BuildError`] when a key cannot be generated, the Argon2 parameters
    /// are out of range, the leeway exceeds five minutes or a lifetime is
    /// zero.
    pub fn build(self) -> Result<Auth, BuildError> {
        let config = self.config;
        if config.leeway > MAX_LEEWAY {
            return Err(BuildError::Invalid("leeway is longer than five minutes"));
        }
        let lifetimes = [
            config.access_ttl,
            config.refresh_ttl,
            config.idle_timeout,
            config.absolute_timeout,
            config.lockout.lockout,
        ];
        if lifetimes.iter().any(Duration::is_zero) || config.lockout.max_failures == 0 {
            return Err(BuildError::Invalid("a lifetime or the lockout is zero"));
        }
        let hasher = Hasher::new(config.argon2).map_err(BuildError::Argon2)?;
        let ring = match self.keys {
            Some(ring) => ring,
            None => KeyRing::new(KeyPair::generate(self.algorithm)?),
        };
        tracing::debug!(kid = %ring.signing_kid(), alg = %ring.algorithm(), "signing key ready");
        let parts = self.store.unwrap_or_else(|| {
            let store = Arc::new(MemoryStore::new());
            StoreParts {
                sessions: store.clone(),
                revocations: store.clone(),
                throttle: store.clone(),
                users: store,
            }
        });
        let rules = TokenRules {
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            leeway: config.leeway,
            ttl: config.access_ttl,
        };
        let tokens = Tokens::new(Arc::new(ring), rules, config.token_cache_capacity);
        let revocations = RevocationCache::new(parts.revocations, config.revocation_staleness);
        let session_cache = parts
            .sessions
            .session_signal()
            .filter(|_| config.session_cache_capacity > 0)
            .map(|signal| SessionCache::new(signal, config.session_cache_capacity));
        Ok(Auth {
            inner: Arc::new(Inner {
                clock: self.clock,
                sessions: parts.sessions,
                throttle: parts.throttle,
                users: self.users.unwrap_or(parts.users),
                revocations,
                tokens,
                hasher,
                session_cache,
                config,
            }),
        })
    }
}
