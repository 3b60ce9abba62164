//! Framework-agnostic authentication: sessions, tokens, credentials and
//! revocation, decided once for every web stack and every store.

pub mod clock;
pub mod error;
pub mod secret;
pub mod store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{AuthError, StoreError, TokenRejection};
pub use secret::{Handle, SecretHash};
