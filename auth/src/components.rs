//! `<LoginButton/>` and `<LogoutButton/>`: forms that post the server functions, so they work
//! before hydration and with JavaScript off; once hydrated they post without a page load.
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};

use crate::{AuthError, Login, Logout, context::DevProvider};

/// "Log in": sends the visitor to their provider and back to this page.
#[component]
pub fn LoginButton(
    /// The `[auth.NAME]` provider; the unnamed one when absent.
    #[prop(optional, into)]
    provider: Option<String>,
    /// The button's text.
    #[prop(into, default = "Log in".into())]
    label: String,
    /// Where to come back to; the current page when absent.
    #[prop(optional, into)]
    next: Option<String>,
) -> impl IntoView {
    let login = ServerAction::<Login>::new();
    Effect::new(move || {
        if let Some(Ok(url)) = login.value().get() {
            let _ = crate::server_fns::go_to(&url);
        }
    });
    let location = use_location();
    // A login posted without JavaScript that failed comes back with `?auth_error=CODE`.
    let query = use_query_map();
    let redirected_error = move || {
        query
            .read()
            .get("auth_error")
            .and_then(|code| AuthError::from_code(&code))
    };
    let next = move || {
        next.clone().unwrap_or_else(|| {
            let search = location.search.get();
            let search = search.trim_start_matches('?');
            if search.is_empty() {
                location.pathname.get()
            } else {
                format!("{}?{search}", location.pathname.get())
            }
        })
    };
    view! {
        <ActionForm action=login attr:class="auth-login">
            {provider.map(|provider| view! { <input type="hidden" name="provider" value=provider /> })}
            <input type="hidden" name="next" value=next />
            <button type="submit" disabled=move || login.pending().get()>
                {label}
            </button>
        </ActionForm>
        {action_error(move || {
            login.value().get().map(|result| result.map(drop)).or_else(|| redirected_error().map(Err))
        })}
    }
}

/// "Log out": deletes the identity cookie and loads the home page afresh.
#[component]
pub fn LogoutButton(
    /// The button's text.
    #[prop(into, default = "Log out".into())]
    label: String,
) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    // A client-side navigation would keep this page's user in memory; a real load starts a
    // new, signed-out session, as Streamlit's logout does.
    Effect::new(move || {
        if matches!(logout.value().get(), Some(Ok(()))) {
            let _ = window().location().assign("/");
        }
    });
    view! {
        <ActionForm action=logout attr:class="auth-logout">
            <button type="submit" disabled=move || logout.pending().get()>
                {label}
            </button>
        </ActionForm>
        {action_error(move || logout.value().get())}
    }
}

/// The server function's refusal, if any, where the visitor can read it.
fn action_error(
    result: impl Fn() -> Option<Result<(), AuthError>> + Send + Sync + 'static,
) -> impl IntoView {
    move || {
        result().and_then(Result::err).map(|error| {
            view! {
                <p class="auth-error" role="alert">
                    {error.to_string()}
                </p>
            }
        })
    }
}

/// A warning across the page while sign-in goes through the development provider, where
/// anyone can sign in as anyone. Renders nothing otherwise; put it in the app's root.
#[component]
pub fn DevProviderBanner() -> impl IntoView {
    let DevProvider(active) = use_context::<DevProvider>().unwrap_or_default();
    active.then(|| {
        view! {
            <p id="dev-provider-banner" class="auth-dev-banner" role="status">
                "Development sign-in: anyone can sign in as anyone. "
                "Configure a real provider in secrets.toml before you deploy."
            </p>
        }
    })
}
