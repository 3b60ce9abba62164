use auth_core::Auth;
use tower_layer::Layer;

use super::{AuthContext, AuthService, ErrorBodyFn};

/// Applies [`AuthService`] to a service. See the [module docs](super).
#[derive(Clone, Debug)]
pub struct AuthLayer {
    context: AuthContext,
}

impl AuthLayer {
    /// Authenticates every request with `auth`.
    pub fn new(auth: Auth) -> Self {
        Self {
            context: AuthContext {
                auth,
                error_body: None,
            },
        }
    }

    /// Shapes the JSON body of every auth error response with `render`.
    /// Defaults to `{"error": CODE, "error_description": TEXT}`.
    pub fn error_body(mut self, render: ErrorBodyFn) -> Self {
        self.context.error_body = Some(render);
        self
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService::new(inner, self.context.clone())
    }
}
