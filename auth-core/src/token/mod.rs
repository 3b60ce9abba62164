//! JWT access tokens: keys, claims, verification.

pub mod access;
pub mod keys;
