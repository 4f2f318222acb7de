//! The HTTP rules around everything sign-in touches, in the one layer `Auth::install` adds:
//! - a request to the sign-in server functions (`/api/auth/…`) must come from this site's own
//!   pages (against login and logout CSRF) and be a small text body; its errors leave with
//!   the status [`AuthError::status`] gives them, never a blanket 500;
//! - an answer that depends on who is signed in is never cached for someone else.
use std::sync::OnceLock;

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;
use url::{Origin, Url};

use tower_cookies::Cookies;

use crate::{
    Auth, AuthError,
    server::acts::visitor::{Personal, RequestAuth, Visitor},
    server::html,
};

/// Where the sign-in server functions are served (the `prefix` of their `#[server]`).
pub(crate) const API_PREFIX: &str = "/api/auth/";
/// No sign-in request comes near this: a provider name and a return path.
pub(crate) const MAX_BODY_BYTES: usize = 16 * 1024;
/// A server function's error answer is a short JSON text.
const MAX_ERROR_BYTES: usize = 64 * 1024;

/// The rules around `next` (the rest of the request's handling).
pub(crate) async fn guard<Fut>(
    auth: &Auth,
    request: Request,
    next: impl FnOnce(Request, Personal) -> Fut,
) -> Response
where
    Fut: Future<Output = Response>,
{
    let personal = Personal::default();
    let path = request.uri().path();
    let own_function = path.starts_with(API_PREFIX);
    let plain_form = html::accepts_html(request.headers());
    let referer = request.headers().get(header::REFERER).cloned();
    let back = || auth.return_path(None, referer.as_ref().and_then(|v| v.to_str().ok()), None);
    let mut response = if own_function {
        personal.mark();
        match admit(auth, request).await {
            Ok(request) => next(request, personal.clone()).await,
            // Refused before its body was read (or all of it): the connection goes with it.
            Err(error) => crate::server::body::closing(refusal(&error, plain_form, &back())),
        }
    } else {
        if auth.is_callback(path) {
            personal.mark();
        }
        next(request, personal.clone()).await
    };
    if response.headers().contains_key(SERVER_FN_ERROR_HEADER) {
        response = with_its_status(response, own_function, plain_form, back).await;
    }
    // Rendered for a user, or handing out a cookie: private to this browser. (`Vary: Cookie`
    // would let a shared cache keep one copy per cookie; many ignore or mishandle it, and no
    // page of a signed-in visitor is worth that risk.)
    if personal.is_marked() || response.headers().contains_key(header::SET_COOKIE) {
        response
            .headers_mut()
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static(html::NO_STORE));
    }
    response
}

/// A server function's error answer, with the status its [`AuthError`] has: server_fn
/// answers every error 500, whether sign-in's own functions or the app's, whose errors come
/// from `require_user()`, `tokens()` or `userinfo()`. The server-function client gets the
/// JSON with that status; a form posted without JavaScript gets a page of its own with a way
/// back (sign-in's own forms, sent back to their page with `?auth_error=`, excepted). An
/// app's error of another type passes as it is, as does anything too long to be an
/// `AuthError`.
async fn with_its_status(
    response: Response,
    own_function: bool,
    plain_form: bool,
    back: impl FnOnce() -> String,
) -> Response {
    let (mut parts, body) = response.into_parts();
    let fits = axum::body::HttpBody::size_hint(&body)
        .exact()
        .is_some_and(|length| length <= MAX_ERROR_BYTES as u64);
    if !fits {
        return Response::from_parts(parts, body);
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BYTES).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let error = match serde_json::from_slice::<AuthError>(&bytes) {
        Ok(error) => error,
        Err(_) if own_function => AuthError::Internal,
        Err(_) => return Response::from_parts(parts, Body::from(bytes)),
    };
    if plain_form {
        // `login` and `logout` send a form posted without JavaScript back to its page with
        // the error's code; anything else gets a page of its own rather than a bare redirect.
        let sent_back = own_function
            && parts
                .headers
                .get(header::LOCATION)
                .and_then(|location| location.to_str().ok())
                .is_some_and(|location| location.contains("auth_error="));
        if !sent_back {
            return refusal(&error, true, &back());
        }
    } else {
        parts.status = error.status();
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Finds who sent each request before the app runs (static files excepted: nothing there
/// asks), for the page render that cannot wait; first, a return from the provider's logout
/// page is answered ([`crate::server::acts::logout::returned_from_provider`]). Inside the
/// cookie manager, which `Auth::install`'s service puts between [`guard`] and this.
pub(crate) async fn find_visitor<Fut>(
    auth: &Auth,
    personal: Personal,
    mut request: Request,
    next: impl FnOnce(Request) -> Fut,
) -> Response
where
    Fut: Future<Output = Response>,
{
    let Some(cookies) = request.extensions().get::<Cookies>().cloned() else {
        return next(request).await;
    };
    if let Some(answer) =
        crate::server::acts::logout::returned_from_provider(auth, &cookies, &request)
    {
        return answer;
    }
    let visitor = Visitor::default();
    if !request.uri().path().starts_with(static_prefix()) {
        visitor.found(auth, &cookies).await;
    }
    // One extension for all of it: Leptos copies a request's extensions for every page and
    // server function, one allocation each.
    let current = RequestAuth {
        auth: auth.clone(),
        cookies,
        visitor,
        personal: Some(personal),
    };
    request.extensions_mut().insert(current.clone());
    crate::server::acts::visitor::with_current(current, next(request)).await
}

/// Where Leptos serves the app's files (`/pkg/` unless `LEPTOS_SITE_PKG_DIR` says otherwise).
fn static_prefix() -> &'static str {
    static PREFIX: OnceLock<String> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let dir = std::env::var("LEPTOS_SITE_PKG_DIR").unwrap_or_else(|_| "pkg".to_owned());
        format!("/{}/", dir.trim_matches('/'))
    })
}

/// The request again, if it may reach a sign-in server function.
async fn admit(auth: &Auth, request: Request) -> Result<Request, AuthError> {
    if !from_own_pages(request.headers(), auth.own_origins()) {
        return Err(AuthError::CrossSite);
    }
    let (parts, body) = request.into_parts();
    // Past the limit, or cut off: either way nothing to act on.
    let bytes = crate::server::body::read(&parts.headers, body, MAX_BODY_BYTES)
        .await
        .map_err(|_| AuthError::TooLarge)?;
    if std::str::from_utf8(&bytes).is_err() {
        return Err(AuthError::BadRequest(
            "The sign-in request is not text (UTF-8).".to_owned(),
        ));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Whether a request to sign in or out comes from one of `own` origins' pages. Browsers say
/// so in `Sec-Fetch-Site`; where it is missing (older browsers, some webviews), `Origin` or
/// else `Referer` must name an own origin. A request with none of them (a script, curl)
/// passes: it carries no browser's cookies unless it was given them.
fn from_own_pages(headers: &HeaderMap, own: &[Origin]) -> bool {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let is_own = |url: &str| Url::parse(url).is_ok_and(|url| own.contains(&url.origin()));
    match text("sec-fetch-site") {
        Some("same-origin" | "none") => return true,
        Some("cross-site") => return false,
        // A sibling subdomain is another site's page unless configured as trusted.
        Some("same-site") => return text("origin").is_some_and(is_own),
        _ => {}
    }
    match (text("origin"), text("referer")) {
        // `Origin: null` (sandboxed frames, privacy redirects) parses as no URL: refused.
        (Some(origin), _) => is_own(origin),
        (None, Some(referer)) => is_own(referer),
        (None, None) => true,
    }
}

/// `error` as the server-function client reads it, or as a page with a way back.
fn refusal(error: &AuthError, plain_form: bool, back: &str) -> Response {
    if plain_form {
        return html::error_page(error.status(), "Sign-in refused", &error.to_string(), back);
    }
    let body = serde_json::to_string(error).unwrap_or_default();
    let mut response = (error.status(), body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(SERVER_FN_ERROR_HEADER, HeaderValue::from_static("auth"));
    response
}

#[cfg(test)]
mod statuses;

#[cfg(test)]
mod tests {
    use super::*;

    fn own() -> Vec<Origin> {
        ["http://app.example:3000/", "https://admin.app.example/"]
            .iter()
            .map(|url| Url::parse(url).expect("url").origin())
            .collect()
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    header::HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                )
            })
            .collect()
    }

    #[test]
    fn the_browser_says_where_a_request_comes_from() {
        let own = own();
        assert!(from_own_pages(
            &headers(&[("sec-fetch-site", "same-origin")]),
            &own
        ));
        assert!(!from_own_pages(
            &headers(&[("sec-fetch-site", "cross-site")]),
            &own
        ));
        // Sec-Fetch-Site wins over an Origin header that says otherwise.
        assert!(!from_own_pages(
            &headers(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "http://app.example:3000")
            ]),
            &own
        ));
    }

    #[test]
    fn a_sibling_subdomain_is_refused_unless_trusted() {
        let own = own();
        assert!(!from_own_pages(
            &headers(&[
                ("sec-fetch-site", "same-site"),
                ("origin", "https://evil.app.example")
            ]),
            &own
        ));
        assert!(!from_own_pages(
            &headers(&[("sec-fetch-site", "same-site")]),
            &own
        ));
        assert!(from_own_pages(
            &headers(&[
                ("sec-fetch-site", "same-site"),
                ("origin", "https://admin.app.example")
            ]),
            &own
        ));
    }

    #[test]
    fn without_sec_fetch_site_the_origin_or_referer_decides() {
        let own = own();
        for (pairs, expected) in [
            (&[("origin", "http://evil.example")][..], false),
            (&[("origin", "null")][..], false),
            (&[("origin", "http://app.example:3000")][..], true),
            // Another port is another origin.
            (&[("origin", "http://app.example:3001")][..], false),
            (&[("referer", "http://evil.example/page")][..], false),
            (
                &[("referer", "http://app.example:3000/private?x=1")][..],
                true,
            ),
            // Origin, when there, is what counts.
            (
                &[
                    ("origin", "http://evil.example"),
                    ("referer", "http://app.example:3000/"),
                ][..],
                false,
            ),
            (&[][..], true),
        ] {
            assert_eq!(from_own_pages(&headers(pairs), &own), expected, "{pairs:?}");
        }
    }
}
