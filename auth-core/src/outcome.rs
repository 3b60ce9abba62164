//! What authentication found out about a request, and what a route
//! requires of it: one decision for every adapter.

use std::fmt;
use std::sync::Arc;

use crate::error::AuthError;
use crate::request::Identity;

/// Which credentials a route accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accept {
    /// A bearer token or a session cookie.
    Any,
    /// A bearer access token only.
    Bearer,
    /// A session cookie only.
    Session,
}

impl Accept {
    /// Whether an identity authenticated this way counts.
    pub fn admits(self, identity: &Identity) -> bool {
        match self {
            Self::Any => true,
            Self::Bearer => !identity.is_session(),
            Self::Session => identity.is_session(),
        }
    }
}

/// A type naming which credentials an extractor accepts.
pub trait Mode: Send + Sync + 'static {
    /// The credentials accepted.
    const ACCEPT: Accept;
}

/// Accepts a bearer token or a session cookie.
#[derive(Debug, Clone, Copy)]
pub struct AnyMode;

/// Accepts only a bearer access token.
#[derive(Debug, Clone, Copy)]
pub struct Bearer;

/// Accepts only a session cookie.
#[derive(Debug, Clone, Copy)]
pub struct Session;

impl Mode for AnyMode {
    const ACCEPT: Accept = Accept::Any;
}

impl Mode for Bearer {
    const ACCEPT: Accept = Accept::Bearer;
}

impl Mode for Session {
    const ACCEPT: Accept = Accept::Session;
}

/// A role a route requires, named by a type.
///
/// ```
/// use auth_core::Role;
///
/// struct Admin;
/// impl Role for Admin {
///     const NAME: &'static str = "admin";
/// }
/// ```
pub trait Role: Send + Sync + 'static {
    /// The role's name, as in the user's roles.
    const NAME: &'static str;
}

/// The answer of [`Auth::authenticate`](crate::Auth::authenticate) for one
/// request, kept by an adapter's middleware for the route to judge.
#[derive(Clone)]
pub struct Outcome(Result<Option<Identity>, Arc<AuthError>>);

impl Outcome {
    /// The identity, if the request was authenticated.
    pub fn identity(&self) -> Option<&Identity> {
        self.0.as_ref().ok().and_then(Option::as_ref)
    }

    /// The whole answer: an identity, none, or why the credentials sent
    /// were refused.
    pub fn result(&self) -> Result<Option<&Identity>, &AuthError> {
        match &self.0 {
            Ok(identity) => Ok(identity.as_ref()),
            Err(error) => Err(error),
        }
    }

    /// The answer, owned.
    pub fn into_inner(self) -> Result<Option<Identity>, Arc<AuthError>> {
        self.0
    }

    /// The identity a route requires: one authenticated in a way `accept`
    /// admits and, if `role` is given, holding it.
    ///
    /// # Errors
    ///
    /// The refusal of credentials sent; [`AuthError::MissingCredentials`]
    /// when none were sent or they are of a kind the route does not accept;
    /// [`AuthError::InsufficientScope`] when the role is missing.
    pub fn require(&self, accept: Accept, role: Option<&str>) -> Result<Identity, Arc<AuthError>> {
        let identity = match &self.0 {
            Ok(Some(identity)) if accept.admits(identity) => identity,
            Ok(_) => return Err(Arc::new(AuthError::MissingCredentials)),
            Err(error) => return Err(Arc::clone(error)),
        };
        match role {
            Some(role) if !identity.has_role(role) => {
                tracing::debug!(user = identity.username(), role, "role missing");
                Err(Arc::new(AuthError::InsufficientScope))
            }
            _ => Ok(identity.clone()),
        }
    }

    /// The identity if there is one; credentials sent and refused are still
    /// an error.
    ///
    /// # Errors
    ///
    /// The refusal of credentials sent.
    pub fn optional(&self) -> Result<Option<Identity>, Arc<AuthError>> {
        self.0.clone()
    }
}

impl From<Result<Option<Identity>, AuthError>> for Outcome {
    fn from(result: Result<Option<Identity>, AuthError>) -> Self {
        Self(result.map_err(Arc::new))
    }
}

impl fmt::Debug for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Ok(identity) => f.debug_tuple("Outcome").field(identity).finish(),
            Err(error) => f.debug_tuple("Outcome").field(&error.code()).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Via;
    use crate::secret::Handle;

    fn session(roles: &[&str]) -> Identity {
        Identity {
            username: "ann".into(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            via: Via::Session {
                handle: Handle::generate(),
                csrf: "x".into(),
            },
        }
    }

    fn code(result: Result<Identity, Arc<AuthError>>) -> &'static str {
        result.map_or_else(|e| e.code(), |_| "ok")
    }

    #[test]
    fn routes_accept_only_their_kind_of_credentials() {
        let outcome = Outcome::from(Ok(Some(session(&["user"]))));
        assert_eq!(code(outcome.require(Accept::Any, None)), "ok");
        assert_eq!(code(outcome.require(Accept::Session, None)), "ok");
        assert_eq!(
            code(outcome.require(Accept::Bearer, None)),
            "unauthenticated"
        );
        assert_eq!(code(outcome.require(Accept::Any, Some("user"))), "ok");
        assert_eq!(
            code(outcome.require(Accept::Any, Some("admin"))),
            "insufficient_scope"
        );
    }

    #[test]
    fn refused_credentials_stay_refused_and_none_is_unauthenticated() {
        let refused = Outcome::from(Err(AuthError::Csrf));
        assert_eq!(code(refused.require(Accept::Any, None)), "csrf");
        assert!(refused.optional().is_err());
        let none = Outcome::from(Ok(None));
        assert_eq!(code(none.require(Accept::Any, None)), "unauthenticated");
        assert!(matches!(none.optional(), Ok(None)));
    }
}
