//! Pushed authorization requests (RFC 9126): a login's authorization parameters go to the
//! provider's `pushed_authorization_request_endpoint` server to server, with the client
//! authentication of the token requests (RFC 9126 §2), and the browser carries only
//! `client_id` and the `request_uri` the provider answered. The parameters never pass through
//! the browser, where they could be read or changed, and the provider authenticates the client
//! before any visitor arrives.
//!
//! openidconnect 4 has no PAR: it still builds the authorization request (PKCE, `state`,
//! `nonce`, scopes, `client_kwargs`, a login's own parameters), and this module sends that
//! request's parameters instead of the browser.
use http::StatusCode;
use openidconnect::reqwest;
use serde::Deserialize;
use url::Url;

use super::{MoreMetadata, OidcError, client_auth::ClientAuthentication, describe_error};
use crate::server::{config::ProviderConfig, log::outside_field};

/// A PAR answer larger than this is refused unread: a `request_uri` and its lifetime, or an
/// error, fit in far less, and a hostile provider must not make the server buffer megabytes.
pub const MAX_PAR_ANSWER_BYTES: usize = 64 * 1024;
/// A `request_uri` longer than this is refused: the browser carries it in a URL, and
/// providers' are well under 200 characters (`urn:ietf:params:oauth:request_uri:` and an id).
pub const MAX_REQUEST_URI_BYTES: usize = 1024;
/// At most this many characters of a provider's refusal (`error: error_description`) are
/// shown to the visitor; the log keeps a little more (`outside_field`).
pub const MAX_SHOWN_REFUSAL_CHARS: usize = 200;

/// Where this provider's logins are pushed: `None` when they are not (no `use_par`, and
/// discovery does not require it). `Err` when they must be but discovery names no usable
/// endpoint: then no login can start, rather than one falling back to sending every
/// parameter through the browser, which the configuration or the provider ruled out.
pub(super) fn endpoint(
    config: &ProviderConfig,
    more: &MoreMetadata,
) -> Result<Option<Url>, OidcError> {
    let required = more.require_pushed_authorization_requests == Some(true);
    if !config.use_par && !required {
        return Ok(None);
    }
    let why = if config.use_par {
        "use_par is set"
    } else {
        "the provider requires pushed authorization requests \
         (require_pushed_authorization_requests)"
    };
    let refuse = |reason: String| OidcError::BadDiscovery {
        url: config.server_metadata_url.to_string(),
        reason,
    };
    let Some(text) = &more.pushed_authorization_request_endpoint else {
        return Err(refuse(format!(
            "{why}, but the discovery document has no pushed_authorization_request_endpoint"
        )));
    };
    let url = Url::parse(text).map_err(|error| {
        refuse(format!(
            "its pushed_authorization_request_endpoint {} is not a URL: {error}",
            outside_field(text)
        ))
    })?;
    // The client's credentials go there: never in clear text to another machine.
    if !crate::server::config::is_https_or_loopback(&url) {
        return Err(refuse(format!(
            "its pushed_authorization_request_endpoint {} is not an https URL",
            outside_field(text)
        )));
    }
    Ok(Some(url))
}

/// Where a pushed login sends the browser: `authorization_endpoint` (with any query of its
/// own) with only `client_id` and `request_uri` (RFC 9126 §4).
fn browser_url(authorization_endpoint: &Url, client_id: &str, request_uri: &str) -> Url {
    let mut url = authorization_endpoint.clone();
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("request_uri", request_uri);
    url
}

/// The authorization request's own parameters from `authorization_url`, which openidconnect
/// built by appending them to `authorization_endpoint`'s query: the endpoint's own pairs
/// (Azure B2C's `?p=policy`, say) are skipped, as they stay on the URL the browser gets.
fn pushed_params(authorization_endpoint: &Url, authorization_url: &Url) -> Vec<(String, String)> {
    let own = authorization_endpoint.query_pairs().count();
    authorization_url
        .query_pairs()
        .skip(own)
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

/// The provider's answer to a push (RFC 9126 §2.2).
#[derive(Deserialize)]
struct Pushed {
    request_uri: String,
    expires_in: u64,
}

/// A refusal (RFC 9126 §2.3, RFC 6749 §5.2).
#[derive(Deserialize)]
struct Refusal {
    error: String,
    error_description: Option<String>,
}

/// Pushes the parameters of `authorization_url` to `endpoint`, authenticated as
/// `authentication` says, and returns the URL to send the browser to.
pub(super) async fn push(
    http: &reqwest::Client,
    endpoint: &Url,
    authentication: &ClientAuthentication<'_>,
    config: &ProviderConfig,
    authorization_endpoint: &Url,
    authorization_url: &Url,
) -> Result<Url, OidcError> {
    let at = endpoint.to_string();
    let failed = |reason: String| OidcError::PushFailed {
        url: at.clone(),
        reason,
    };
    let mut form = pushed_params(authorization_endpoint, authorization_url);
    // The credentials as at the token endpoint; `client_id` once, for every method (RFC 9126
    // §2.1's example sends it beside HTTP Basic too).
    form.retain(|(name, _)| name != "client_id");
    let request = authentication.by_hand(
        http.post(endpoint.clone())
            .header(http::header::ACCEPT, "application/json"),
        &mut form,
    )?;
    if !form.iter().any(|(name, _)| name == "client_id") {
        form.push(("client_id".to_owned(), config.client_id.clone()));
    }
    let mut response =
        request
            .form(&form)
            .send()
            .await
            .map_err(|error| OidcError::PushUnreachable {
                url: at.clone(),
                reason: describe_error(&error),
            })?;
    let status = response.status();
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_PAR_ANSWER_BYTES {
                    return Err(failed(format!(
                        "the answer ({status}) is larger than {MAX_PAR_ANSWER_BYTES} bytes"
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(error) => {
                return Err(OidcError::PushUnreachable {
                    url: at.clone(),
                    reason: describe_error(&error),
                });
            }
        }
    }
    if status != StatusCode::CREATED {
        return Err(refusal(config, authentication, &at, status, &body));
    }
    let pushed: Pushed = serde_json::from_slice(&body).map_err(|error| {
        failed(format!(
            "the answer is not {{\"request_uri\": string, \"expires_in\": seconds}}: {}",
            // Cut: serde's message may quote a value of the answer.
            outside_field(&error.to_string())
        ))
    })?;
    let request_uri = pushed.request_uri;
    // The value itself is never logged: it may be long, and it is a login's key at the
    // provider until it expires.
    let unfit = if request_uri.is_empty() {
        Some("is empty".to_owned())
    } else if request_uri.len() > MAX_REQUEST_URI_BYTES {
        Some(format!(
            "is {} bytes, more than {MAX_REQUEST_URI_BYTES}",
            request_uri.len()
        ))
    } else if request_uri
        .chars()
        .any(|c| c.is_control() || c.is_whitespace())
    {
        Some("holds spaces or control characters".to_owned())
    } else {
        None
    };
    if let Some(why) = unfit {
        return Err(failed(format!("the request_uri it answered {why}")));
    }
    if pushed.expires_in == 0 {
        return Err(failed(
            "the request_uri it answered expires at once (expires_in 0)".to_owned(),
        ));
    }
    tracing::debug!(
        provider = %config.label(),
        "pushed the authorization request to {at} (good for {} s)",
        pushed.expires_in
    );
    Ok(browser_url(
        authorization_endpoint,
        &config.client_id,
        &request_uri,
    ))
}

/// What a push answered with another status than 201 means: a refusal the visitor is shown,
/// the app's credentials refused (`invalid_client`, named as at the token endpoint), or an
/// answer that says nothing (a gateway's error page).
fn refusal(
    config: &ProviderConfig,
    authentication: &ClientAuthentication<'_>,
    at: &str,
    status: StatusCode,
    body: &[u8],
) -> OidcError {
    match serde_json::from_slice::<Refusal>(body) {
        Ok(refusal) if refusal.error == "invalid_client" => OidcError::ClientAuthentication {
            provider: config.label(),
            method: Some(authentication.method()),
            reason: format!(
                "the provider refused it at the pushed authorization request endpoint {at} \
                 ({status}): invalid_client{}",
                refusal
                    .error_description
                    .as_deref()
                    .map(|description| format!(": {}", outside_field(description)))
                    .unwrap_or_default()
            ),
        },
        Ok(refusal) if !refusal.error.is_empty() => OidcError::PushRefused {
            url: at.to_owned(),
            status,
            error: refusal.error,
            description: refusal.error_description,
        },
        _ if status.is_success() => OidcError::PushFailed {
            url: at.to_owned(),
            reason: format!("the provider answered {status}, not 201 Created"),
        },
        _ => OidcError::PushFailed {
            url: at.to_owned(),
            reason: format!("the provider answered {status} without an OAuth error"),
        },
    }
}

/// What the visitor is shown of a refusal: the provider's `error` and `error_description` on
/// one line, cut to [`MAX_SHOWN_REFUSAL_CHARS`].
pub(super) fn shown_refusal(error: &str, description: Option<&str>) -> String {
    let said = match description {
        Some(description) if !description.trim().is_empty() => format!("{error}: {description}"),
        _ => error.to_owned(),
    };
    let said = crate::server::log::one_line(&said);
    match crate::server::log::clip(&said, MAX_SHOWN_REFUSAL_CHARS) {
        Some(start) => format!("{start}…"),
        None => said,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoints_own_query_stays_on_the_browsers_url_and_out_of_the_push() {
        let endpoint = Url::parse("https://idp.example/authorize?p=b2c_1_signin").expect("a URL");
        let built = Url::parse(
            "https://idp.example/authorize?p=b2c_1_signin&response_type=code&client_id=app&state=s",
        )
        .expect("a URL");
        assert_eq!(
            pushed_params(&endpoint, &built),
            [
                ("response_type".to_owned(), "code".to_owned()),
                ("client_id".to_owned(), "app".to_owned()),
                ("state".to_owned(), "s".to_owned()),
            ]
        );
        assert_eq!(
            browser_url(&endpoint, "app", "urn:ietf:params:oauth:request_uri:x").as_str(),
            "https://idp.example/authorize?p=b2c_1_signin&client_id=app&\
             request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Ax"
        );
    }

    #[test]
    fn a_refusal_is_shown_on_one_line_and_cut() {
        assert_eq!(
            shown_refusal("invalid_request", Some("bad\nscope")),
            "invalid_request: bad\\nscope"
        );
        assert_eq!(
            shown_refusal("invalid_request", Some(" ")),
            "invalid_request"
        );
        let long = shown_refusal("invalid_request", Some(&"x".repeat(5000)));
        assert_eq!(long.chars().count(), MAX_SHOWN_REFUSAL_CHARS + 1);
        assert!(long.ends_with('…'), "{long}");
    }
}
