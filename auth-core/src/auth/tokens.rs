//! Token mode: issuing, refreshing and revoking access and refresh tokens.

use std::fmt;
use std::time::SystemTime;

use super::Auth;
use crate::error::AuthError;
use crate::request::Identity;
use crate::secret::{Credential, Handle, Purpose, SecretHash};
use crate::store::{Revocation, RevocationTarget, SPENT_HISTORY, SessionKind, SessionRecord};
use crate::token::access::AccessClaims;

/// An access token and the refresh token to renew it.
#[derive(Clone)]
pub struct TokenPair {
    access_token: String,
    refresh_token: String,
    expires_in: u64,
    claims: AccessClaims,
}

impl TokenPair {
    /// The signed access token.
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// The opaque refresh token.
    pub fn refresh_token(&self) -> &str {
        &self.refresh_token
    }

    /// Seconds until the access token expires.
    pub fn expires_in(&self) -> u64 {
        self.expires_in
    }

    /// The claims of the access token.
    pub fn claims(&self) -> &AccessClaims {
        &self.claims
    }
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPair")
            .field("jti", &self.claims.jti)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// Logs in with a password and starts a refresh family.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidCredentials`], [`AuthError::Locked`],
    /// [`AuthError::StoreUnavailable`].
    pub async fn issue_tokens(
        &self,
        username: &str,
        password: &str,
    ) -> Result<TokenPair, AuthError> {
        let user = self.check_credentials(username, password).await?;
        let now = self.now();
        let handle = Handle::generate();
        let credential = Credential::generate(handle);
        let record = SessionRecord {
            handle,
            user: user.username.clone(),
            roles: user.roles.clone(),
            kind: SessionKind::Refresh,
            version: 0,
            secret: credential.hash(Purpose::Refresh),
            previous: None,
            spent: Vec::new(),
            rotated_at: now,
            created_at: now,
            last_seen_at: now,
            idle_timeout: self.inner.config.refresh_ttl,
            absolute_deadline: now + self.inner.config.family_lifetime,
        };
        self.inner.sessions.create_session(&record).await?;
        tracing::info!(user = %user.username, family = %record.handle, "token login");
        self.pair(&record, &credential, now)
    }

    /// Exchanges a refresh token for a new pair; the token presented is
    /// spent. Presenting a spent token ends its whole family.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidGrant`] for an unknown, expired, spent or foreign
    /// token; [`AuthError::StoreUnavailable`].
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair, AuthError> {
        let presented = Credential::parse(refresh_token).ok_or(AuthError::InvalidGrant)?;
        let presented_hash = presented.hash(Purpose::Refresh);
        // Each pass reads, decides and swaps; a lost swap means another
        // request rotated first, and the next pass sees its result.
        for _ in 0..8 {
            let now = self.now();
            let Some(record) = self
                .inner
                .sessions
                .find_session(&presented.handle, now)
                .await?
                .filter(|r| r.kind == SessionKind::Refresh)
            else {
                return Err(AuthError::InvalidGrant);
            };
            let next = Credential::generate(record.handle);
            let next_hash = next.hash(Purpose::Refresh);
            let grace = self.inner.config.refresh_grace;
            let rotated = if record.secret.matches(&presented_hash) {
                rotate(&record, next_hash, now)
            } else if is_previous(&record, &presented_hash) && now < record.rotated_at + grace {
                replay(&record, next_hash, now)
            } else if is_previous(&record, &presented_hash)
                || record.spent.iter().any(|h| h.matches(&presented_hash))
            {
                self.end_reused_family(&record, now).await?;
                return Err(AuthError::InvalidGrant);
            } else {
                tracing::warn!(family = %record.handle, "refresh token with a foreign secret");
                return Err(AuthError::InvalidGrant);
            };
            if self
                .inner
                .sessions
                .replace_session(&rotated, record.version, now)
                .await?
            {
                tracing::debug!(family = %rotated.handle, version = rotated.version, "refresh token rotated");
                return self.pair(&rotated, &next, now);
            }
        }
        Err(AuthError::InvalidGrant)
    }

    /// Revokes a refresh token (its family ends) or an access token (it is
    /// refused until it expires), as RFC 7009 asks: anything else, or a
    /// token already dead, is ignored without error.
    ///
    /// # Errors
    ///
    /// [`AuthError::StoreUnavailable`] only.
    pub async fn revoke(&self, token: &str) -> Result<(), AuthError> {
        let now = self.now();
        if let Some(credential) = Credential::parse(token) {
            let hash = credential.hash(Purpose::Refresh);
            let record = self
                .inner
                .sessions
                .find_session(&credential.handle, now)
                .await?;
            let known = record.is_some_and(|r| {
                r.kind == SessionKind::Refresh
                    && (r.secret.matches(&hash)
                        || is_previous(&r, &hash)
                        || r.spent.iter().any(|h| h.matches(&hash)))
            });
            if known && let Some(record) = self.end_stored(&credential.handle, now).await? {
                self.deny_family(&record, now).await?;
                tracing::info!(user = %record.user, family = %record.handle, "refresh token revoked");
            }
            return Ok(());
        }
        if let Ok(claims) = self.inner.tokens.verify(token, now, true) {
            let until = secs_to_time(claims.exp) + self.inner.config.leeway;
            if now < until {
                let target = RevocationTarget::Token {
                    jti: claims.jti.clone(),
                };
                self.inner
                    .revocations
                    .revoke(Revocation { target, until })
                    .await?;
                tracing::info!(user = %claims.sub, jti = %claims.jti, "access token revoked");
            }
        }
        Ok(())
    }

    /// Ends every session and refresh family of the user, and refuses every
    /// access token issued until now.
    ///
    /// # Errors
    ///
    /// [`AuthError::StoreUnavailable`].
    pub async fn revoke_all(&self, identity: &Identity) -> Result<(), AuthError> {
        self.end_everywhere(identity.username(), None).await?;
        tracing::info!(user = identity.username(), "every token revoked");
        Ok(())
    }

    fn pair(
        &self,
        record: &SessionRecord,
        refresh: &Credential,
        now: SystemTime,
    ) -> Result<TokenPair, AuthError> {
        let (access_token, claims) =
            self.inner
                .tokens
                .issue(&record.user, &record.roles, &record.handle, now)?;
        Ok(TokenPair {
            access_token,
            refresh_token: refresh.expose(),
            expires_in: self.inner.config.access_ttl.as_secs(),
            claims,
        })
    }

    async fn end_reused_family(
        &self,
        record: &SessionRecord,
        now: SystemTime,
    ) -> Result<(), AuthError> {
        tracing::warn!(
            user = %record.user,
            family = %record.handle,
            "spent refresh token presented again; its family ends"
        );
        self.end_stored(&record.handle, now).await?;
        self.deny_family(record, now).await
    }
}

fn is_previous(record: &SessionRecord, hash: &SecretHash) -> bool {
    record.previous.is_some_and(|p| p.matches(hash))
}

/// The record after a normal rotation: the presented token becomes the
/// previous one and the previous one is spent.
fn rotate(record: &SessionRecord, next: SecretHash, now: SystemTime) -> SessionRecord {
    let mut r = record.clone();
    if let Some(previous) = r.previous.take() {
        push_spent(&mut r.spent, previous);
    }
    r.previous = Some(r.secret);
    r.secret = next;
    r.rotated_at = now;
    r.last_seen_at = now;
    r.version += 1;
    r
}

/// The record after a grace-window replay of the previous token: a fresh
/// token replaces the current one, which is spent; the window does not move.
fn replay(record: &SessionRecord, next: SecretHash, now: SystemTime) -> SessionRecord {
    let mut r = record.clone();
    push_spent(&mut r.spent, r.secret);
    r.secret = next;
    r.last_seen_at = now;
    r.version += 1;
    r
}

fn push_spent(spent: &mut Vec<SecretHash>, hash: SecretHash) {
    spent.push(hash);
    if spent.len() > SPENT_HISTORY {
        spent.remove(0);
    }
}

fn secs_to_time(secs: u64) -> SystemTime {
    crate::clock::from_unix_secs(secs)
}
