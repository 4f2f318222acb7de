//! The few plain HTML pages sign-in serves outside the app (error pages, the development
//! provider's sign-in page).

/// A whole page around `body` (already HTML); `title` is escaped.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title></head>\
         <body style=\"font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem\">\
         {body}</body></html>",
        escape(title)
    )
}

/// `text` made safe to put between tags or inside a quoted attribute.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// An error page: `heading`, the `message` (escaped: it may quote a provider), and a link
/// back to `back` (a same-site path). Never cached, never framed, and the page's URL (which
/// may hold a code and state) is not sent on as a `Referer`.
pub(crate) fn error_page(
    status: axum::http::StatusCode,
    heading: &str,
    message: &str,
    back: &str,
) -> axum::response::Response {
    use axum::{http::header, response::IntoResponse};
    let back_label = if back == "/" {
        "Back to the home page"
    } else {
        "Back to the page you came from"
    };
    let body = format!(
        "<h1>{}</h1><p id=\"auth-error\">{}</p><p><a href=\"{}\">{back_label}</a></p>",
        escape(heading),
        escape(message),
        escape(back),
    );
    let mut response = (status, axum::response::Html(page(heading, &body))).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, NO_STORE),
        (header::CONTENT_SECURITY_POLICY, "frame-ancestors 'none'"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        headers.insert(name, header::HeaderValue::from_static(value));
    }
    response
}

/// For answers that depend on who asks: no cache, shared or the browser's, may keep them.
pub(crate) const NO_STORE: &str = "private, no-store";

/// A browser without JavaScript asks for HTML; the server-function client asks for data.
pub(crate) fn accepts_html(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}
