//! `login(provider)` and `logout()`: Streamlit's `st.login()` and `st.logout()`.
use leptos::prelude::*;

use crate::AuthError;

/// Starts a login and returns the provider's authorization URL to send the visitor to.
/// `provider` picks an `[auth.NAME]` table (`None`: the unnamed one); `next` is the path to
/// come back to (default: the page the request came from).
///
/// A plain form post (JavaScript off) is redirected there by the server; `<LoginButton/>`
/// navigates there itself. Code calling `login` directly does the same with the returned URL
/// (`window().location().set_href(&url)`): a full navigation, since the router would treat a
/// same-origin provider (the development one) as one of the app's own pages.
///
/// Before it runs, the request must have come from one of this site's pages (see
/// `middleware`), so another site cannot start a login in the visitor's name.
#[server(prefix = "/api/auth", endpoint = "login")]
pub async fn login(provider: Option<String>, next: Option<String>) -> Result<String, AuthError> {
    let (auth, cookies) = crate::context::server::request_auth().ok_or(AuthError::NotConfigured)?;
    let return_to = auth.return_path(next.as_deref(), referer().as_deref());
    match auth
        .start_login(&cookies, provider.as_deref(), return_to.clone())
        .await
    {
        Ok(url) => {
            if is_plain_form_post() {
                leptos_axum::redirect(url.as_str());
            }
            Ok(url.into())
        }
        Err(error) => {
            // Without JavaScript nothing shows the error: back to the page, which says it.
            if is_plain_form_post() {
                let separator = if return_to.contains('?') { '&' } else { '?' };
                leptos_axum::redirect(&format!(
                    "{return_to}{separator}auth_error={}",
                    error.code()
                ));
            }
            Err(error)
        }
    }
}

/// Forgets the visitor: deletes the identity cookie. A plain form post is redirected home;
/// `<LogoutButton/>` loads the home page itself, so the new page starts signed out.
#[server(prefix = "/api/auth", endpoint = "logout")]
pub async fn logout() -> Result<(), AuthError> {
    let (auth, cookies) = crate::context::server::request_auth().ok_or(AuthError::NotConfigured)?;
    cookies.add(auth.codec().removal(&auth.codec().identity_name()));
    if is_plain_form_post() {
        leptos_axum::redirect("/");
    }
    Ok(())
}

#[cfg(feature = "ssr")]
fn referer() -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    let value = parts.headers.get(http::header::REFERER)?;
    value.to_str().ok().map(str::to_owned)
}

#[cfg(feature = "ssr")]
fn is_plain_form_post() -> bool {
    use_context::<http::request::Parts>()
        .is_some_and(|parts| crate::middleware::accepts_html(&parts.headers))
}
