//! Password hashing with Argon2id, and the username and password policies.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::AuthError;

/// Argon2id cost parameters.
///
/// The defaults are the OWASP minimum for Argon2id: 19 MiB of memory,
/// two passes, one lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB. Defaults to 19456.
    pub memory_kib: u32,
    /// Passes over memory. Defaults to 2.
    pub iterations: u32,
    /// Lanes. Defaults to 1.
    pub parallelism: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Shortest password accepted, in Unicode code points.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted, in Unicode code points. Longer ones are
/// refused, never truncated.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Checks a new password against the policy: 12 to 1024 code points of any
/// Unicode.
///
/// # Errors
///
/// [`AuthError::WeakPassword`] outside those bounds.
pub fn check_password_policy(password: &str) -> Result<(), AuthError> {
    let chars = password.chars().count();
    if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        Ok(())
    } else {
        Err(AuthError::WeakPassword)
    }
}

/// Checks a new username: 3 to 64 characters of `a-z 0-9 _ . -`. Nothing is
/// case-folded.
///
/// # Errors
///
/// [`AuthError::InvalidUsername`] otherwise.
pub fn check_username_policy(username: &str) -> Result<(), AuthError> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c);
    if (3..=64).contains(&username.len()) && username.chars().all(allowed) {
        Ok(())
    } else {
        Err(AuthError::InvalidUsername)
    }
}

/// What checking a password found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The password matches; `rehash` when the stored hash is weaker than
    /// the configured parameters.
    Valid { rehash: bool },
    /// No user, or the password does not match.
    Invalid,
}

/// Hashes and verifies passwords on the blocking thread pool, so that a
/// 20 ms hash never stalls the async executor.
#[derive(Clone)]
pub(crate) struct Hasher {
    params: Argon2Params,
    dummy: Arc<OnceLock<String>>,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("params", &self.params)
            .finish()
    }
}

impl Hasher {
    pub(crate) fn new(params: Argon2Params) -> Result<Self, argon2::Error> {
        argon2(params)?;
        Ok(Self {
            params,
            dummy: Arc::new(OnceLock::new()),
        })
    }

    /// A PHC string of the Argon2id hash of `password`.
    pub(crate) async fn hash(&self, password: &str) -> Result<String, AuthError> {
        let params = self.params;
        let password = password.to_owned();
        blocking(move || hash_now(params, &password)).await
    }

    /// Verifies `password` against `stored`. With no stored hash (unknown
    /// user) it verifies against a dummy hash of the same cost, so that the
    /// answer and its time do not tell whether the user exists.
    pub(crate) async fn verify(
        &self,
        password: &str,
        stored: Option<&str>,
    ) -> Result<Verdict, AuthError> {
        let params = self.params;
        let password = password.to_owned();
        let stored = stored.map(str::to_owned);
        let dummy = Arc::clone(&self.dummy);
        blocking(move || {
            let Some(stored) = stored else {
                let dummy = match dummy.get() {
                    Some(hash) => hash.clone(),
                    None => {
                        let secret = crate::secret::b64(&crate::secret::random::<24>());
                        let hash = hash_now(params, &secret)?;
                        dummy.get_or_init(|| hash).clone()
                    }
                };
                let _ = verify_now(&dummy, &password, params);
                return Ok(Verdict::Invalid);
            };
            Ok(verify_now(&stored, &password, params))
        })
        .await
    }
}

fn argon2(params: Argon2Params) -> Result<Argon2<'static>, argon2::Error> {
    let params = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        None,
    )?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_now(params: Argon2Params, password: &str) -> Result<String, AuthError> {
    let salt = SaltString::encode_b64(&crate::secret::random::<16>())
        .map_err(|e| AuthError::Internal(e.to_string().into()))?;
    argon2(params)
        .and_then(|a| {
            a.hash_password(password.as_bytes(), &salt)
                .map_err(|_| argon2::Error::OutputTooShort)
        })
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Internal(Box::new(e)))
}

fn verify_now(stored: &str, password: &str, params: Argon2Params) -> Verdict {
    let Ok(parsed) = PasswordHash::new(stored) else {
        tracing::error!("a stored password hash cannot be parsed");
        return Verdict::Invalid;
    };
    // The cost of the stored hash, not the configured one, decides the work.
    let matches = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    if !matches {
        return Verdict::Invalid;
    }
    Verdict::Valid {
        rehash: is_weaker(&parsed, params),
    }
}

fn is_weaker(parsed: &PasswordHash<'_>, wanted: Argon2Params) -> bool {
    if parsed.algorithm.as_str() != "argon2id" {
        return true;
    }
    let Ok(have) = Params::try_from(parsed) else {
        return true;
    };
    have.m_cost() < wanted.memory_kib
        || have.t_cost() < wanted.iterations
        || have.p_cost() < wanted.parallelism
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AuthError> + Send + 'static,
) -> Result<T, AuthError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AuthError::Internal(Box::new(e)))?
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: Argon2Params = Argon2Params {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };

    #[tokio::test]
    async fn hash_verifies_and_wrong_password_does_not() {
        let h = Hasher::new(CHEAP).unwrap();
        let stored = h.hash("correct horse battery staple").await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        let ok = h
            .verify("correct horse battery staple", Some(&stored))
            .await;
        assert_eq!(ok.unwrap(), Verdict::Valid { rehash: false });
        let bad = h.verify("correct horse battery stapl", Some(&stored)).await;
        assert_eq!(bad.unwrap(), Verdict::Invalid);
    }

    #[tokio::test]
    async fn unknown_user_is_invalid_after_a_real_verification() {
        let h = Hasher::new(CHEAP).unwrap();
        assert_eq!(
            h.verify("anything at all", None).await.unwrap(),
            Verdict::Invalid
        );
        assert!(
            h.dummy.get().is_some(),
            "a dummy hash was computed and checked"
        );
    }

    #[tokio::test]
    async fn raised_parameters_ask_for_a_rehash() {
        let weak = Hasher::new(CHEAP).unwrap();
        let stored = weak.hash("a long enough password").await.unwrap();
        let strong = Hasher::new(Argon2Params {
            memory_kib: 2048,
            ..CHEAP
        })
        .unwrap();
        let verdict = strong.verify("a long enough password", Some(&stored)).await;
        assert_eq!(verdict.unwrap(), Verdict::Valid { rehash: true });
    }

    #[tokio::test]
    async fn a_corrupt_stored_hash_is_invalid_not_a_panic() {
        let h = Hasher::new(CHEAP).unwrap();
        let verdict = h
            .verify("whatever password", Some("$argon2id$garbage"))
            .await;
        assert_eq!(verdict.unwrap(), Verdict::Invalid);
    }

    #[test]
    fn password_policy_counts_code_points() {
        assert!(check_password_policy(&"é".repeat(12)).is_ok());
        assert!(check_password_policy(&"é".repeat(11)).is_err());
        assert!(check_password_policy(&"x".repeat(1024)).is_ok());
        assert!(check_password_policy(&"x".repeat(1025)).is_err());
    }

    #[test]
    fn username_policy() {
        for ok in ["bob", "a.b-c_9", &"x".repeat(64)] {
            assert!(check_username_policy(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "Bob", "bob!", "bób", &"x".repeat(65), ""] {
            assert!(check_username_policy(bad).is_err(), "{bad}");
        }
    }
}
