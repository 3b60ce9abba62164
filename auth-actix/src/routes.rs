//! Ready-made routes of the demo API, in groups to mount under any prefix.
//!
//! Each group is a `fn(&mut ServiceConfig)` for [`App::configure`] or
//! [`Scope::configure`]; all of them need [`AuthMiddleware`] around them.
//!
//! ```
//! use actix_web::{App, web};
//! use auth_actix::{AuthMiddleware, Role, routes};
//! use auth_core::Auth;
//!
//! struct Admin;
//!
//! impl Role for Admin {
//!     const NAME: &'static str = "admin";
//! }
//!
//! let auth = Auth::builder().build().unwrap();
//! let app = App::new()
//!     .service(
//!         web::scope("/auth")
//!             .configure(routes::session_routes)
//!             .configure(routes::token_routes)
//!             .configure(routes::password_route)
//!             .configure(routes::key_rotation_route::<Admin>),
//!     )
//!     .configure(routes::jwks_route)
//!     .wrap(AuthMiddleware::new(auth));
//! ```
//!
//! [`App::configure`]: actix_web::App::configure
//! [`Scope::configure`]: actix_web::Scope::configure
//! [`AuthMiddleware`]: crate::AuthMiddleware

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};

use auth_core::SetCookie;
use auth_core::api::{
    Credentials, CsrfResponse, KidResponse, LoginResponse, MeResponse, PasswordChange,
    RefreshRequest, RevokeRequest, SessionEntry, TokenResponse,
};

use crate::error::ApiError;
use auth_core::{Bearer, Role, Session};

use crate::extract::{Authenticated, Json, RequireRole};
use crate::middleware::{AuthContext, session_cookie};

/// Cookie sessions:
///
/// | route | answer |
/// | --- | --- |
/// | `POST /session/login` `{username, password}` | 200 `{username, roles, csrf_token}` and the cookie; ends the session the request carried |
/// | `GET /session/me` | 200 `{username, roles}` |
/// | `GET /session/csrf` | 200 `{csrf_token}` |
/// | `GET /session/list` | 200 `[{id, created_at, last_seen_at, current}]` |
/// | `DELETE /session/list/{id}` | 204; 404 `not_found` for another user's or an unknown handle |
/// | `POST /session/logout` | 204, the cookie cleared |
/// | `POST /session/logout-all` | 204, every session and token of the user ended, the cookie cleared |
///
/// All but login need a session cookie (401 otherwise), and their unsafe
/// methods its CSRF token in `X-CSRF-Token` (403 `csrf` otherwise).
/// Successful answers with a body carry `Cache-Control: no-store` and
/// `Pragma: no-cache`.
pub fn session_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/session/login").route(web::post().to(login)))
        .service(web::resource("/session/me").route(web::get().to(me)))
        .service(web::resource("/session/csrf").route(web::get().to(csrf)))
        .service(web::resource("/session/list").route(web::get().to(list)))
        .service(web::resource("/session/list/{id}").route(web::delete().to(end_one)))
        .service(web::resource("/session/logout").route(web::post().to(logout)))
        .service(web::resource("/session/logout-all").route(web::post().to(logout_all)));
}

/// Bearer tokens:
///
/// | route | answer |
/// | --- | --- |
/// | `POST /token` `{username, password}` | 200 `{access_token, token_type, expires_in, refresh_token}` |
/// | `POST /token/refresh` `{refresh_token}` | 200 a new pair; the token presented is spent |
/// | `POST /token/revoke` `{token}` | 200 `{}` for any token (RFC 7009) |
/// | `POST /token/revoke-all` | 204; needs a bearer token |
///
/// Answers with a body carry `Cache-Control: no-store` and
/// `Pragma: no-cache`.
pub fn token_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/token").route(web::post().to(issue)))
        .service(web::resource("/token/refresh").route(web::post().to(refresh)))
        .service(web::resource("/token/revoke").route(web::post().to(revoke)))
        .service(web::resource("/token/revoke-all").route(web::post().to(revoke_all)));
}

/// `POST /password` `{current_password, new_password}`: 204, and every
/// other session and every token of the user ends. Needs a session cookie
/// with its CSRF token, or a bearer token; the credentials are checked
/// before the body is read. Through a session, the session goes on under a
/// new ID, whose cookie is set.
pub fn password_route(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/password").route(web::post().to(change_password)));
}

/// `GET /.well-known/jwks.json`: the public keys, `{"keys": [...]}`.
pub fn jwks_route(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/.well-known/jwks.json").route(web::get().to(jwks)));
}

/// `POST /admin/rotate-keys`: 200 `{kid}`; new tokens are signed with a new
/// key. Needs a bearer token with role `R`.
pub fn key_rotation_route<R: Role + 'static>(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/rotate-keys").route(web::post().to(rotate_keys::<R>)));
}

async fn login(
    context: AuthContext,
    req: HttpRequest,
    Json(credentials): Json<Credentials>,
) -> Answer {
    let current = session_cookie(req.headers(), context.auth.cookie_name());
    let login = context
        .auth
        .login_session(&credentials.username, &credentials.password, current)
        .await
        .map_err(|e| context.error(e))?;

    let mut response = no_store(HttpResponse::Ok());
    set_cookie(&mut response, &login.cookie);
    Ok(response.json(LoginResponse::from(&login)))
}

async fn me(user: Authenticated<Session>) -> HttpResponse {
    no_store(HttpResponse::Ok()).json(MeResponse {
        username: user.username().to_owned(),
        roles: user.roles().to_vec(),
    })
}

async fn csrf(user: Authenticated<Session>) -> HttpResponse {
    let csrf_token = user.csrf_token().unwrap_or_default().to_owned();
    no_store(HttpResponse::Ok()).json(CsrfResponse { csrf_token })
}

async fn list(context: AuthContext, user: Authenticated<Session>) -> Answer {
    let sessions = context
        .auth
        .list_sessions(&user)
        .await
        .map_err(|e| context.error(e))?;
    let entries: Vec<SessionEntry> = sessions.iter().map(SessionEntry::from).collect();
    Ok(no_store(HttpResponse::Ok()).json(entries))
}

async fn end_one(context: AuthContext, user: Authenticated<Session>, req: HttpRequest) -> Answer {
    let id = req.match_info().get("id").unwrap_or_default();
    let removal = context
        .auth
        .end_session(&user, id)
        .await
        .map_err(|e| context.error(e))?;
    Ok(no_content(removal.as_ref()))
}

async fn logout(context: AuthContext, user: Authenticated<Session>) -> Answer {
    let removal = context
        .auth
        .logout(&user)
        .await
        .map_err(|e| context.error(e))?;
    Ok(no_content(Some(&removal)))
}

async fn logout_all(context: AuthContext, user: Authenticated<Session>) -> Answer {
    let removal = context
        .auth
        .logout_everywhere(&user)
        .await
        .map_err(|e| context.error(e))?;
    Ok(no_content(Some(&removal)))
}

async fn issue(context: AuthContext, Json(credentials): Json<Credentials>) -> Answer {
    let pair = context
        .auth
        .issue_tokens(&credentials.username, &credentials.password)
        .await
        .map_err(|e| context.error(e))?;
    Ok(no_store(HttpResponse::Ok()).json(TokenResponse::from(&pair)))
}

async fn refresh(context: AuthContext, Json(body): Json<RefreshRequest>) -> Answer {
    let pair = context
        .auth
        .refresh(&body.refresh_token)
        .await
        .map_err(|e| context.error(e))?;
    Ok(no_store(HttpResponse::Ok()).json(TokenResponse::from(&pair)))
}

async fn revoke(context: AuthContext, Json(body): Json<RevokeRequest>) -> Answer {
    context
        .auth
        .revoke(&body.token)
        .await
        .map_err(|e| context.error(e))?;
    Ok(no_store(HttpResponse::Ok()).json(serde_json::json!({})))
}

async fn revoke_all(context: AuthContext, user: Authenticated<Bearer>) -> Answer {
    context
        .auth
        .revoke_all(&user)
        .await
        .map_err(|e| context.error(e))?;
    Ok(no_content(None))
}

// Extractors run in the order of the arguments and the first refusal
// answers: the identity is checked before the body is read.
async fn change_password(
    context: AuthContext,
    user: Authenticated,
    Json(change): Json<PasswordChange>,
) -> Answer {
    let cookie = context
        .auth
        .change_password(&user, &change.current_password, &change.new_password)
        .await
        .map_err(|e| context.error(e))?;
    Ok(no_content(cookie.as_ref()))
}

async fn jwks(context: AuthContext) -> HttpResponse {
    HttpResponse::Ok().json(context.auth.jwks())
}

async fn rotate_keys<R: Role>(context: AuthContext, _: RequireRole<R, Bearer>) -> Answer {
    let kid = context
        .auth
        .rotate_keys()
        .await
        .map_err(|e| context.error(e))?;
    Ok(HttpResponse::Ok().json(KidResponse { kid }))
}

type Answer = Result<HttpResponse, ApiError>;

/// Neither browsers nor proxies may keep the answer.
fn no_store(mut response: HttpResponseBuilder) -> HttpResponseBuilder {
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    response.insert_header((header::PRAGMA, "no-cache"));
    response
}

fn no_content(cookie: Option<&SetCookie>) -> HttpResponse {
    let mut response = HttpResponse::NoContent();
    if let Some(cookie) = cookie {
        set_cookie(&mut response, cookie);
    }
    response.finish()
}

fn set_cookie(response: &mut HttpResponseBuilder, cookie: &SetCookie) {
    response.append_header((header::SET_COOKIE, cookie.as_str()));
}
