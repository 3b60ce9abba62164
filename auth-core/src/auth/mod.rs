//! [`Auth`]: the one object an application builds and every request uses.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::clock::Clock;
use crate::config::AuthConfig;
use crate::error::{AuthError, TokenRejection};
use crate::password::{self, Hasher, Verdict};
use crate::request::{Identity, RequestInfo, SetCookie, Via, bearer_token, is_safe_method};
use crate::revocation::RevocationCache;
use crate::secret::{self, Credential, Handle, Purpose};
use crate::session_cache::SessionCache;
use crate::store::{
    LoginThrottle, Revocation, RevocationQuery, RevocationTarget, SessionKind, SessionRecord,
    SessionStore, UserRecord, UserStore,
};
use crate::token::access::Tokens;
use crate::token::keys::{KeyPair, KeyRing};

mod builder;
#[cfg(test)]
mod tests;
mod tokens;

pub use builder::{AuthBuilder, BuildError};
pub use tokens::TokenPair;

/// Authentication for one application: configuration, keys, stores and a
/// clock. Cheap to clone; clones share everything.
///
/// ```
/// # tokio_test_block_on(async {
/// use auth_core::Auth;
///
/// let auth = Auth::builder().build().unwrap();
/// auth.signup("carol", "a long enough password").await.unwrap();
/// let pair = auth.issue_tokens("carol", "a long enough password").await.unwrap();
/// let me = auth.verify_access_token(pair.access_token()).await.unwrap();
/// assert_eq!(me.username(), "carol");
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Clone)]
pub struct Auth {
    inner: Arc<Inner>,
}

struct Inner {
    config: AuthConfig,
    clock: Arc<dyn Clock>,
    sessions: Arc<dyn SessionStore>,
    throttle: Arc<dyn LoginThrottle>,
    users: Arc<dyn UserStore>,
    revocations: RevocationCache,
    tokens: Tokens,
    hasher: Hasher,
    session_cache: Option<SessionCache>,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("config", &self.inner.config)
            .field("tokens", &self.inner.tokens)
            .finish_non_exhaustive()
    }
}

/// The answer to a successful session login.
#[derive(Clone)]
pub struct SessionLogin {
    /// The username.
    pub username: String,
    /// The user's roles.
    pub roles: Vec<String>,
    /// The session's CSRF token, for the `X-CSRF-Token` header.
    pub csrf_token: String,
    /// The new session cookie.
    pub cookie: SetCookie,
}

impl fmt::Debug for SessionLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionLogin")
            .field("username", &self.username)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

/// One session as its owner sees it in a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// The session's handle.
    pub handle: Handle,
    /// Cookie session or refresh family.
    pub kind: SessionKind,
    /// When it began.
    pub created_at: SystemTime,
    /// When it was last used.
    pub last_seen_at: SystemTime,
    /// Whether it is the session making the request.
    pub current: bool,
}

impl Auth {
    /// A builder with the demo API's defaults.
    pub fn builder() -> AuthBuilder {
        AuthBuilder::new()
    }

    /// The settings.
    pub fn config(&self) -> &AuthConfig {
        &self.inner.config
    }

    /// The name of the session cookie.
    pub fn cookie_name(&self) -> &'static str {
        self.inner.config.cookie_name()
    }

    /// The current time of this instance's clock.
    pub fn now(&self) -> SystemTime {
        self.inner.clock.now()
    }

    /// The key ring.
    pub fn keys(&self) -> &KeyRing {
        self.inner.tokens.ring()
    }

    /// Answers `Ok` if the store can be reached.
    ///
    /// # Errors
    ///
    /// [`AuthError::StoreUnavailable`] otherwise.
    pub async fn health(&self) -> Result<(), AuthError> {
        Ok(self.inner.sessions.ping().await?)
    }

    /// Authenticates a request: by its bearer token if it has one (a cookie
    /// sent with it is then ignored), else by its session cookie. Answers
    /// `Ok(None)` when it carries neither, or a cookie that names no live
    /// session.
    ///
    /// # Errors
    ///
    /// - [`AuthError::InvalidToken`]: a bearer token was sent and refused.
    /// - [`AuthError::Csrf`]: a valid cookie authenticated an unsafe method
    ///   without the session's CSRF token.
    /// - [`AuthError::StoreUnavailable`]: the store could not answer.
    pub async fn authenticate(
        &self,
        request: &RequestInfo<'_>,
    ) -> Result<Option<Identity>, AuthError> {
        if let Some(token) = request.authorization.and_then(bearer_token) {
            return self.verify_access_token(token).await.map(Some);
        }
        let Some(cookie) = request.session_cookie else {
            return Ok(None);
        };
        let Some((record, credential)) = self.live_cookie_session(cookie).await? else {
            return Ok(None);
        };
        let csrf = csrf_token(&credential);
        if !is_safe_method(request.method) {
            let presented = request.csrf_token.unwrap_or("");
            if !secret::constant_time_eq(presented.as_bytes(), csrf.as_bytes()) {
                tracing::warn!(session = %record.handle, "unsafe request without a valid CSRF token");
                return Err(AuthError::Csrf);
            }
        }
        self.touch(&record).await?;
        tracing::trace!(session = %record.handle, user = %record.user, "authenticated by session");
        Ok(Some(Identity {
            username: record.user.clone(),
            roles: record.roles.clone(),
            via: Via::Session {
                handle: record.handle,
                csrf,
            },
        }))
    }

    /// Verifies a bearer access token: header, signature, claims, time and
    /// revocation.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidToken`] when refused; [`AuthError::StoreUnavailable`]
    /// when revocation cannot be checked.
    pub async fn verify_access_token(&self, token: &str) -> Result<Identity, AuthError> {
        let now = self.now();
        let claims = self
            .inner
            .tokens
            .verify(token, now, false)
            .map_err(reject_token)?;
        let query = RevocationQuery {
            jti: &claims.jti,
            session: &claims.sid,
            user: &claims.sub,
            issued_at: claims.iat,
        };
        if self.inner.revocations.is_revoked(&query, now).await? {
            return Err(reject_token(TokenRejection::Revoked));
        }
        tracing::trace!(jti = %claims.jti, user = %claims.sub, "authenticated by token");
        Ok(Identity {
            username: claims.sub.clone(),
            roles: claims.roles.clone(),
            via: Via::Token(claims),
        })
    }

    /// Registers a user with the role `user`.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidUsername`], [`AuthError::WeakPassword`],
    /// [`AuthError::UsernameTaken`], [`AuthError::StoreUnavailable`].
    pub async fn signup(&self, username: &str, password: &str) -> Result<(), AuthError> {
        password::check_username_policy(username)?;
        password::check_password_policy(password)?;
        if self.create_user(username, password, &["user"]).await? {
            tracing::info!(user = username, "account created");
            Ok(())
        } else {
            Err(AuthError::UsernameTaken)
        }
    }

    /// Creates a user unless the name exists; answers whether it did. The
    /// policies are not applied: this is for seeding, not for sign-up.
    ///
    /// # Errors
    ///
    /// [`AuthError::StoreUnavailable`].
    pub async fn create_user(
        &self,
        username: &str,
        password: &str,
        roles: &[&str],
    ) -> Result<bool, AuthError> {
        if self.inner.users.find_user(username).await?.is_some() {
            return Ok(false);
        }
        let user = UserRecord {
            username: username.to_owned(),
            password_hash: self.inner.hasher.hash(password).await?,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        };
        Ok(self.inner.users.create_user(&user).await?)
    }

    /// Logs in with a password and starts a cookie session. A live session
    /// named by `current_cookie` ends first: login never keeps an ID.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidCredentials`], [`AuthError::Locked`],
    /// [`AuthError::StoreUnavailable`].
    pub async fn login_session(
        &self,
        username: &str,
        password: &str,
        current_cookie: Option<&str>,
    ) -> Result<SessionLogin, AuthError> {
        let user = self.check_credentials(username, password).await?;
        if let Some(cookie) = current_cookie
            && let Some((old, _)) = self.live_cookie_session(cookie).await?
        {
            self.end_stored(&old.handle, self.now()).await?;
        }
        let (cookie, csrf_token) = self
            .start_cookie_session(&user.username, &user.roles)
            .await?;
        tracing::info!(user = %user.username, "session login");
        Ok(SessionLogin {
            username: user.username,
            roles: user.roles,
            csrf_token,
            cookie,
        })
    }

    /// Ends the session that authenticated `identity` and answers the
    /// cookie removal. With a token identity, ends the token's family.
    ///
    /// # Errors
    ///
    /// [`AuthError::StoreUnavailable`].
    pub async fn logout(&self, identity: &Identity) -> Result<SetCookie, AuthError> {
        let now = self.now();
        if let Some(record) = self.end_stored(identity.session_handle(), now).await? {
            self.deny_family(&record, now).await?;
        }
        tracing::info!(user = identity.username(), session = %identity.session_handle(), "logout");
        Ok(self.removal_cookie())
    }

    /// Ends every session and refresh family of the user and refuses every
    /// access token issued until now. Answers the cookie removal.
    ///
    /// # Errors
    ///
    /// [`AuthError::StoreUnavailable`].
    pub async fn logout_everywhere(&self, identity: &Identity) -> Result<SetCookie, AuthError> {
        self.end_everywhere(identity.username(), None).await?;
        tracing::info!(user = identity.username(), "logout everywhere");
        Ok(self.removal_cookie())
    }

    /// Ends every other session and refresh family of the user, and the
    /// access tokens issued from them; the one making the request lives on.
    ///
    /// # Errors
    ///
    /// [`AuthError::StoreUnavailable`].
    pub async fn end_other_sessions(&self, identity: &Identity) -> Result<(), AuthError> {
        let now = self.now();
        let keep = identity.session_handle();
        let ended = self
            .inner
            .sessions
            .end_user_sessions(identity.username(), Some(keep), now)
            .await?;
        for record in &ended {
            if let Some(cache) = &self.inner.session_cache {
                cache.forget(&record.handle);
            }
            self.deny_family(record, now).await?;
        }
        tracing::info!(
            user = identity.username(),
            ended = ended.len(),
            "other sessions ended"
        );
        Ok(())
    }

    /// The user's live sessions and refresh families, oldest first.
    ///
    /// # Errors
    ///
    /// [`AuthError::StoreUnavailable`].
    pub async fn list_sessions(&self, identity: &Identity) -> Result<Vec<SessionInfo>, AuthError> {
        let records = self
            .inner
            .sessions
            .list_sessions(identity.username(), self.now())
            .await?;
        let current = identity.session_handle();
        Ok(records
            .into_iter()
            .map(|r| SessionInfo {
                current: &r.handle == current,
                handle: r.handle,
                kind: r.kind,
                created_at: r.created_at,
                last_seen_at: r.last_seen_at,
            })
            .collect())
    }

    /// Ends one of the user's sessions by its handle. Answers the cookie
    /// removal when it was the session making the request.
    ///
    /// # Errors
    ///
    /// [`AuthError::NotFound`] when no live session of this user has the
    /// handle (another user's handle included); [`AuthError::StoreUnavailable`].
    pub async fn end_session(
        &self,
        identity: &Identity,
        handle: &str,
    ) -> Result<Option<SetCookie>, AuthError> {
        let handle = Handle::parse(handle).ok_or(AuthError::NotFound)?;
        let now = self.now();
        let record = self.inner.sessions.find_session(&handle, now).await?;
        if record.is_none_or(|r| r.user != identity.username()) {
            return Err(AuthError::NotFound);
        }
        let Some(record) = self.end_stored(&handle, now).await? else {
            return Err(AuthError::NotFound);
        };
        self.deny_family(&record, now).await?;
        tracing::info!(user = identity.username(), session = %handle, "session ended by its owner");
        let current = identity.session_handle() == &handle && identity.is_session();
        Ok(current.then(|| self.removal_cookie()))
    }

    /// Changes the password after checking the current one, then ends every
    /// other session and every token of the user. A cookie session goes on
    /// under a new ID, whose cookie is answered; a bearer token ends too.
    ///
    /// # Errors
    ///
    /// [`AuthError::WeakPassword`], [`AuthError::InvalidCredentials`] for a
    /// wrong current password, [`AuthError::Locked`],
    /// [`AuthError::StoreUnavailable`].
    pub async fn change_password(
        &self,
        identity: &Identity,
        current: &str,
        new: &str,
    ) -> Result<Option<SetCookie>, AuthError> {
        password::check_password_policy(new)?;
        let user = self.check_credentials(identity.username(), current).await?;
        let hash = self.inner.hasher.hash(new).await?;
        self.inner
            .users
            .set_password_hash(&user.username, &hash)
            .await?;
        let cookie = if identity.is_session() {
            let (cookie, _) = self
                .start_cookie_session(&user.username, &user.roles)
                .await?;
            let keep = Credential::parse(cookie_value(&cookie)).map(|c| c.handle);
            self.end_everywhere(&user.username, keep.as_ref()).await?;
            Some(cookie)
        } else {
            self.end_everywhere(&user.username, None).await?;
            None
        };
        tracing::info!(user = %user.username, "password changed");
        Ok(cookie)
    }

    /// The public keys as a JWKS document: `{"keys": [...]}`.
    pub fn jwks(&self) -> serde_json::Value {
        self.keys().jwks()
    }

    /// Signs new tokens with a newly generated key; tokens signed with the
    /// old key stay valid until they expire. Answers the new `kid`.
    ///
    /// # Limitations
    ///
    /// The new key lives in this instance only: other instances do not
    /// verify its tokens until they load it too.
    ///
    /// # Errors
    ///
    /// [`AuthError::Internal`] when key generation fails.
    pub async fn rotate_keys(&self) -> Result<String, AuthError> {
        let alg = self.keys().algorithm();
        let next = tokio::task::spawn_blocking(move || KeyPair::generate(alg))
            .await
            .map_err(|e| AuthError::Internal(Box::new(e)))?
            .map_err(|e| AuthError::Internal(Box::new(e)))?;
        let now = self.now();
        let retire_at = now + self.inner.config.revocation_horizon();
        let kid = self
            .keys()
            .rotate(next, now, retire_at)
            .map_err(|e| AuthError::Internal(Box::new(e)))?;
        tracing::info!(kid = %kid, "signing key rotated");
        Ok(kid)
    }

    /// A cookie header value that removes the session cookie.
    pub fn removal_cookie(&self) -> SetCookie {
        SetCookie(format!(
            "{}=; Max-Age=0; {}",
            self.cookie_name(),
            self.cookie_attributes()
        ))
    }

    fn session_cookie(&self, value: &str) -> SetCookie {
        SetCookie(format!(
            "{}={value}; {}",
            self.cookie_name(),
            self.cookie_attributes()
        ))
    }

    fn cookie_attributes(&self) -> &'static str {
        if self.inner.config.secure_cookies {
            "HttpOnly; SameSite=Lax; Path=/; Secure"
        } else {
            "HttpOnly; SameSite=Lax; Path=/"
        }
    }

    async fn start_cookie_session(
        &self,
        user: &str,
        roles: &[String],
    ) -> Result<(SetCookie, String), AuthError> {
        let now = self.now();
        let credential = Credential::generate(Handle::generate());
        let config = &self.inner.config;
        let record = SessionRecord {
            handle: credential.handle,
            user: user.to_owned(),
            roles: roles.to_vec(),
            kind: SessionKind::Cookie,
            version: 0,
            secret: credential.hash(Purpose::Cookie),
            previous: None,
            spent: Vec::new(),
            rotated_at: now,
            created_at: now,
            last_seen_at: now,
            idle_timeout: config.idle_timeout,
            absolute_deadline: now + config.absolute_timeout,
        };
        self.inner.sessions.create_session(&record).await?;
        Ok((
            self.session_cookie(&credential.expose()),
            csrf_token(&credential),
        ))
    }

    /// The live cookie session named by a cookie value whose secret
    /// matches; `None` for anything else.
    async fn live_cookie_session(
        &self,
        cookie: &str,
    ) -> Result<Option<(Arc<SessionRecord>, Credential)>, AuthError> {
        let Some(credential) = Credential::parse(cookie) else {
            tracing::trace!("session cookie of the wrong shape ignored");
            return Ok(None);
        };
        let now = self.now();
        let record = self.find_cookie_record(&credential.handle, now).await?;
        let Some(record) = record.filter(|r| r.kind == SessionKind::Cookie) else {
            tracing::debug!(session = %credential.handle, "session cookie names no live session");
            return Ok(None);
        };
        if !record.secret.matches(&credential.hash(Purpose::Cookie)) {
            tracing::warn!(session = %record.handle, "session cookie with a foreign secret");
            return Ok(None);
        }
        Ok(Some((record, credential)))
    }

    /// A session record from the cache while the store's signal vouches
    /// for it, else from the store (and then kept).
    async fn find_cookie_record(
        &self,
        handle: &Handle,
        now: SystemTime,
    ) -> Result<Option<Arc<SessionRecord>>, AuthError> {
        let cache = self.inner.session_cache.as_ref();
        if let Some(record) = cache.and_then(|c| c.get(handle, now)) {
            return Ok(Some(record));
        }
        // The stamp is taken before the read, so that an end announced
        // meanwhile makes the entry stale rather than wrongly fresh.
        let stamp = cache.and_then(SessionCache::stamp);
        let record = self.inner.sessions.find_session(handle, now).await?;
        if let (Some(cache), Some(stamp), Some(record)) = (cache, stamp, &record)
            && record.kind == SessionKind::Cookie
        {
            cache.insert(Arc::clone(record), stamp);
        }
        Ok(record)
    }

    /// Ends one session in the store and forgets it here, after the end
    /// too, in case a request read it back meanwhile.
    async fn end_stored(
        &self,
        handle: &Handle,
        now: SystemTime,
    ) -> Result<Option<SessionRecord>, AuthError> {
        let forget = || {
            if let Some(cache) = &self.inner.session_cache {
                cache.forget(handle);
            }
        };
        forget();
        let ended = self.inner.sessions.end_session(handle, now).await?;
        forget();
        Ok(ended)
    }

    async fn touch(&self, record: &SessionRecord) -> Result<(), AuthError> {
        let now = self.now();
        let due = now
            .duration_since(record.last_seen_at)
            .is_ok_and(|age| age >= self.inner.config.touch_interval());
        if due {
            self.inner
                .sessions
                .touch_session(&record.handle, now)
                .await?;
            if let Some(cache) = &self.inner.session_cache {
                cache.touched(&record.handle, now);
            }
        }
        Ok(())
    }

    async fn check_credentials(
        &self,
        username: &str,
        password: &str,
    ) -> Result<UserRecord, AuthError> {
        let now = self.now();
        if let Some(until) = self.inner.throttle.login_lock(username, now).await? {
            tracing::info!(user = username, "login refused: account locked");
            let retry_after = until.duration_since(now).unwrap_or(Duration::from_secs(1));
            return Err(AuthError::Locked { retry_after });
        }
        let user = self.inner.users.find_user(username).await?;
        let stored = user.as_ref().map(|u| u.password_hash.as_str());
        let verdict = self.inner.hasher.verify(password, stored).await?;
        match (user, verdict) {
            (Some(user), Verdict::Valid { rehash }) => {
                self.inner.throttle.clear_login_failures(username).await?;
                if rehash {
                    let hash = self.inner.hasher.hash(password).await?;
                    self.inner.users.set_password_hash(username, &hash).await?;
                    tracing::info!(user = username, "password rehashed with current parameters");
                }
                Ok(user)
            }
            _ => {
                let policy = self.inner.config.lockout;
                let locked = self
                    .inner
                    .throttle
                    .record_login_failure(username, &policy, now)
                    .await?;
                if locked.is_some() {
                    tracing::info!(user = username, "account locked after failed logins");
                } else {
                    tracing::info!(user = username, "login failed");
                }
                Err(AuthError::InvalidCredentials)
            }
        }
    }

    /// Refuses the access tokens issued from an ended refresh family.
    async fn deny_family(&self, record: &SessionRecord, now: SystemTime) -> Result<(), AuthError> {
        if record.kind != SessionKind::Refresh {
            return Ok(());
        }
        let entry = Revocation {
            target: RevocationTarget::Session {
                handle: record.handle,
            },
            until: now + self.inner.config.revocation_horizon(),
        };
        Ok(self.inner.revocations.revoke(entry).await?)
    }

    async fn end_everywhere(&self, user: &str, keep: Option<&Handle>) -> Result<(), AuthError> {
        let now = self.now();
        let entry = Revocation {
            target: RevocationTarget::User {
                user: user.to_owned(),
                not_before: now,
            },
            until: now + self.inner.config.revocation_horizon(),
        };
        self.inner.revocations.revoke(entry).await?;
        let ended = self
            .inner
            .sessions
            .end_user_sessions(user, keep, now)
            .await?;
        if let Some(cache) = &self.inner.session_cache {
            ended.iter().for_each(|r| cache.forget(&r.handle));
        }
        for record in &ended {
            self.deny_family(record, now).await?;
        }
        Ok(())
    }
}

fn reject_token(reason: TokenRejection) -> AuthError {
    tracing::warn!(reason = reason.as_str(), "bearer token rejected");
    AuthError::InvalidToken(reason)
}

fn csrf_token(credential: &Credential) -> String {
    secret::b64(credential.hash(Purpose::Csrf).as_bytes())
}

fn cookie_value(cookie: &SetCookie) -> &str {
    let first = cookie.as_str().split(';').next().unwrap_or("");
    first.split_once('=').map_or("", |(_, v)| v)
}
