//! `login(provider)` and `logout()`: Streamlit's `st.login()` and `st.logout()`.
use leptos::prelude::*;

use crate::{AuthError, session_info::SessionInfo, ui::LoginParams};

/// The `auth_form` a sign-out post that failed comes back with (a login's has none), for the
/// button that sent it to show.
pub(crate) const LOGOUT_FORM: &str = "logout";
pub(crate) const LOGOUT_EVERYWHERE_FORM: &str = "logout_everywhere";
/// The `auth_form` a failed [`end_session`] post comes back with.
pub const END_SESSION_FORM: &str = "end_session";

/// Starts a login and returns the provider's authorization URL to send the visitor to.
/// `provider` picks an `[auth.NAME]` table (`None`: the unnamed one); `next` is the path to
/// come back to (default: the page the request came from); `params` asks this login for more
/// (`prompt`, `login_hint`, …: [`LoginParams`]), within what the provider's `login_params`
/// allows: anything else is refused with [`AuthError::BadRequest`] (400), naming it.
///
/// A plain form post (what `<LoginButton/>` sends) is redirected there by the server, and
/// one that fails back to its page with `?auth_error=CODE`; code does it all in one call
/// with [`go_to_login`].
///
/// Before it runs, the request must have come from one of this site's pages (see
/// `middleware`), so another site cannot start a login in the visitor's name.
#[server(prefix = "/api/auth", endpoint = "login")]
pub async fn login(
    /// The `[auth.NAME]` provider; `None` for the unnamed one.
    provider: Option<String>,
    /// The path to come back to; the page the request came from when `None`.
    next: Option<String>,
    /// What this login asks of the provider beyond the configuration.
    params: Option<LoginParams>,
) -> Result<String, AuthError> {
    let crate::server::acts::visitor::RequestAuth { auth, cookies, .. } =
        crate::server::acts::visitor::request_auth().ok_or(AuthError::NotConfigured)?;
    let began_at =
        with_context::<http::request::Parts, _>(crate::server::acts::login::began_at).flatten();
    let params = params.unwrap_or_default();
    let return_to = without_returned_error(&auth.return_path(
        next.as_deref(),
        referer().as_deref(),
        began_at.as_ref(),
    ));
    match auth
        .start_login(
            &cookies,
            provider.as_deref(),
            &params,
            return_to.clone(),
            began_at.as_ref(),
        )
        .await
    {
        Ok(url) => {
            if is_plain_form_post() {
                leptos_axum::redirect(url.as_str());
            }
            Ok(url.into())
        }
        // A malformed login (a parameter refused) is the page's or a forger's doing: the
        // middleware answers it with a 400 page naming it, not a silent way back.
        Err(error) => {
            if is_plain_form_post() && !matches!(error, AuthError::BadRequest(_)) {
                // A name a visitor made up may need escaping: then the plain button says it.
                let form =
                    crate::login_params::login_form(provider.as_deref(), &params).filter(|form| {
                        form.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
                    });
                leptos_axum::redirect(&back_with_error(&return_to, &error, form.as_deref()));
            }
            Err(error)
        }
    }
}

/// Starts a login from code and takes the browser to the provider, e.g. from a click handler:
/// `spawn_local(async { let _ = leptos_login::ui::go_to_login(None, Some("/reports".into())).await; })`.
/// Arguments as [`login`]'s. Inside a server function it redirects the response instead.
pub async fn go_to_login(provider: Option<String>, next: Option<String>) -> Result<(), AuthError> {
    go_to(&login(provider, next, None).await?)
}

/// [`go_to_login`] with [`LoginParams`] for this login, e.g.
/// `go_to_login_with(None, None, LoginParams::new().prompt("select_account"))`.
pub async fn go_to_login_with(
    provider: Option<String>,
    next: Option<String>,
    params: LoginParams,
) -> Result<(), AuthError> {
    go_to(&login(provider, next, Some(params)).await?)
}

/// A full page load of `url`: the router would take a same-origin provider (the development
/// one) for one of the app's own pages.
fn go_to(url: &str) -> Result<(), AuthError> {
    #[cfg(feature = "ssr")]
    leptos_axum::redirect(url);
    #[cfg(not(feature = "ssr"))]
    window().location().set_href(url).map_err(|_| {
        AuthError::Request("The browser did not leave for the sign-in page.".into())
    })?;
    Ok(())
}

/// Forgets the visitor: deletes the identity cookie and, with a session store, ends the
/// session on the server, so a copy of the cookie signs nobody in either; revokes the refresh
/// token at the provider when there is one. Returns where the browser goes next: home, or
/// with `logout_at_provider` the provider's logout page. A plain form post (what
/// `<LogoutButton/>` sends) is redirected there, so the next page load starts signed out, and
/// one that fails back to its page with `?auth_error=CODE&auth_form=logout`.
#[server(prefix = "/api/auth", endpoint = "logout")]
pub async fn logout() -> Result<String, AuthError> {
    sign_out(false).await
}

/// Ends every session of the signed-in account, in every browser and on every server (it
/// needs a session store: in cookie mode it answers [`AuthError::NeedsSessionStore`] and
/// changes nothing). Otherwise as [`logout`].
#[server(prefix = "/api/auth", endpoint = "logout_everywhere")]
pub async fn logout_everywhere() -> Result<String, AuthError> {
    sign_out(true).await
}

/// "Where you're signed in": the sessions of the signed-in account, in every browser, this
/// browser's first and then the most recently seen, each with when it began and was last
/// seen, its provider, a coarse name of its browser and a handle for [`end_session`] (see
/// [`SessionInfo`]). It needs a session store: in cookie mode it answers
/// [`AuthError::NeedsSessionStore`]; signed out, [`AuthError::NotLoggedIn`].
#[server(prefix = "/api/auth", endpoint = "sessions")]
pub async fn sessions() -> Result<Vec<SessionInfo>, AuthError> {
    let request = crate::server::acts::visitor::request_auth().ok_or(AuthError::NotConfigured)?;
    let found = request.found().await;
    request.auth.list_sessions(&found).await
}

/// Signs out the browser whose session `id` ([`SessionInfo::id`], from [`sessions`]) names:
/// its next request finds itself signed out, and the session's refresh token is revoked at the
/// provider. Only a session of the signed-in account: any other `id` (another account's, made
/// up, ended already) is [`AuthError::NoSuchSession`], the same for each. This browser's own
/// `id` signs this browser out, as [`logout`]. Needs a session store, as [`sessions`].
///
/// Returns where the browser goes next: back to the page the request came from (home after
/// ending its own session, as [`logout`]). A plain form post with a field `id` (a page
/// without JavaScript) is redirected there, and one that fails back to its page with
/// `?auth_error=CODE&auth_form=end_session`.
#[server(prefix = "/api/auth", endpoint = "end_session")]
pub async fn end_session(
    /// The session's [`SessionInfo::id`].
    id: String,
) -> Result<String, AuthError> {
    let request = crate::server::acts::visitor::request_auth().ok_or(AuthError::NotConfigured)?;
    let found = request.found().await;
    let back = request.auth.return_path(None, referer().as_deref(), None);
    let back = without_returned_error(&back);
    let result = request
        .auth
        .end_session(&request.cookies, &found, &id, back.clone())
        .await;
    // The middleware gives an error its status (404 for NoSuchSession, not server_fn's 500).
    if is_plain_form_post() {
        match &result {
            Ok(next) => leptos_axum::redirect(next),
            Err(error) => {
                leptos_axum::redirect(&back_with_error(&back, error, Some(END_SESSION_FORM)));
            }
        }
    }
    result
}

#[cfg(feature = "ssr")]
async fn sign_out(everywhere: bool) -> Result<String, AuthError> {
    let request = crate::server::acts::visitor::request_auth().ok_or(AuthError::NotConfigured)?;
    let found = request.found().await;
    let result = request
        .auth
        .log_out(&request.cookies, &found, everywhere)
        .await;
    if is_plain_form_post() {
        match &result {
            Ok(next) => leptos_axum::redirect(next),
            Err(error) => {
                let form = if everywhere {
                    LOGOUT_EVERYWHERE_FORM
                } else {
                    LOGOUT_FORM
                };
                let back = request.auth.return_path(None, referer().as_deref(), None);
                leptos_axum::redirect(&back_with_error(&back, error, Some(form)));
            }
        }
    }
    result
}

/// `path` with the error's code for the button whose form failed (`form`: its name; `None`
/// for the plain login button) to show: the buttons post plain forms, so the page they came from
/// is where the visitor reads what went wrong. A previous failure's parameters are replaced.
#[cfg(feature = "ssr")]
fn back_with_error(path: &str, error: &AuthError, form: Option<&str>) -> String {
    let mut pairs = vec![format!("auth_error={}", error.code())];
    if let Some(form) = form {
        pairs.push(format!("auth_form={form}"));
    }
    with_query(path, pairs)
}

/// `path` without a failed post's `auth_error` and `auth_form`: a sign-in that succeeds from
/// a page that showed an error comes back to the page without it.
#[cfg(feature = "ssr")]
fn without_returned_error(path: &str) -> String {
    with_query(path, Vec::new())
}

/// `path` with its query's `auth_error` and `auth_form` replaced by `added`.
#[cfg(feature = "ssr")]
fn with_query(path: &str, added: Vec<String>) -> String {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let pairs: Vec<String> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(name, _)| name);
            name != "auth_error" && name != "auth_form"
        })
        .map(str::to_owned)
        .chain(added)
        .collect();
    if pairs.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", pairs.join("&"))
    }
}

#[cfg(feature = "ssr")]
fn referer() -> Option<String> {
    with_context::<http::request::Parts, _>(|parts| {
        let value = parts.headers.get(http::header::REFERER)?;
        value.to_str().ok().map(str::to_owned)
    })
    .flatten()
}

#[cfg(feature = "ssr")]
fn is_plain_form_post() -> bool {
    with_context::<http::request::Parts, _>(|parts| {
        crate::server::html::accepts_html(&parts.headers)
    })
    .unwrap_or(false)
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn a_failed_post_goes_back_with_its_error_once() {
        let error = AuthError::StoreUnavailable;
        assert_eq!(
            back_with_error("/", &error, Some("logout")),
            "/?auth_error=store_unavailable&auth_form=logout"
        );
        // The page's own query stays; an earlier failure's parameters do not pile up.
        assert_eq!(
            back_with_error(
                "/reports?year=2026&auth_error=internal&auth_form=logout",
                &AuthError::NeedsSessionStore,
                Some("logout_everywhere")
            ),
            "/reports?year=2026&auth_error=needs_session_store&auth_form=logout_everywhere"
        );
        assert_eq!(
            back_with_error("/a?auth_form=logout", &AuthError::CrossSite, None),
            "/a?auth_error=cross_site"
        );
    }

    #[test]
    fn a_sign_in_from_a_page_that_showed_an_error_returns_without_it() {
        assert_eq!(
            without_returned_error("/?auth_error=provider"),
            "/",
            "nothing else in the query"
        );
        assert_eq!(
            without_returned_error("/reports?auth_error=internal&year=2026&auth_form=logout"),
            "/reports?year=2026"
        );
        assert_eq!(without_returned_error("/claims?x=1"), "/claims?x=1");
    }
}
