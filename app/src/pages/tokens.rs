use leptos::prelude::*;
use leptos_login::{AuthError, RequireUser};
use serde::{Deserialize, Serialize};

/// What server code can do with the user's tokens, shown without showing any token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenReport {
    /// Seconds until the access token expires (after any refresh), if the provider said.
    pub expires_in: Option<u64>,
    pub scopes: Vec<String>,
    /// Who the provider's userinfo endpoint says the user is, asked now with the token.
    pub provider_says: String,
}

/// The session's tokens as server code sees them: refreshed first when about to expire.
#[server]
pub async fn token_status() -> Result<TokenReport, AuthError> {
    let tokens = leptos_login::tokens().await?;
    let expires_in = tokens.expires_at().map(|at| {
        at.duration_since(std::time::SystemTime::now())
            .map_or(0, |left| left.as_secs())
    });
    let claims = leptos_login::userinfo().await?;
    let text = |name: &str| claims.get(name).and_then(|value| value.as_str());
    let provider_says = text("name")
        .or_else(|| text("email"))
        .or_else(|| text("sub"))
        .unwrap_or("someone")
        .to_owned();
    Ok(TokenReport {
        expires_in,
        scopes: tokens.scopes().to_vec(),
        provider_says,
    })
}

/// `/tokens`: the access token's expiry and a userinfo call made with it on the server.
#[component]
pub fn TokensPage() -> impl IntoView {
    let status = Resource::new(|| (), |_| token_status());
    view! {
        <RequireUser>
            <h1>"Your tokens"</h1>
            <p>"They stay on the server; this page shows only what server code did with them."</p>
            <Suspense fallback=|| view! { <p>"Asking the provider…"</p> }>
                {move || {
                    status
                        .get()
                        .map(|status| match status {
                            Ok(status) => {
                                let expiry = status
                                    .expires_in
                                    .map_or("at a time the provider did not say".to_owned(), |s| {
                                        format!("in {s} s")
                                    });
                                view! {
                                    <p id="token-expiry">"The access token expires " {expiry} "."</p>
                                    <p id="token-scopes">"Scopes: " {status.scopes.join(" ")}</p>
                                    <p id="userinfo">
                                        "The provider's userinfo, asked with it just now: "
                                        {status.provider_says}
                                    </p>
                                }
                                    .into_any()
                            }
                            Err(error) => {
                                view! { <p id="token-error">{error.to_string()}</p> }.into_any()
                            }
                        })
                }}
            </Suspense>
            <p>
                <a href="/">"Home"</a>
            </p>
        </RequireUser>
    }
}
