//! `<LoginButton/>` and `<LogoutButton/>`: forms that post the server functions, so they work
//! before hydration and with JavaScript off; once hydrated they post without a page load.
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};

use crate::{AuthError, Login, Logout, LogoutEverywhere, context::DevProvider};

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

/// A form that posts `$action` (a sign-out server function) and then loads the page it names:
/// home, or the provider's logout page.
macro_rules! sign_out_form {
    ($action:expr, $label:expr, $class:literal) => {{
        let action = $action;
        // A client-side navigation would keep this page's user in memory; a real load starts
        // a new, signed-out session, as Streamlit's logout does.
        Effect::new(move || {
            if let Some(Ok(next)) = action.value().get() {
                let _ = window().location().assign(&next);
            }
        });
        view! {
            <ActionForm action=action attr:class=$class>
                <button type="submit" disabled=move || action.pending().get()>
                    {$label}
                </button>
            </ActionForm>
            {action_error(move || action.value().get().map(|result| result.map(drop)))}
        }
    }};
}

/// "Log out": deletes the identity cookie (and with a session store ends the session on the
/// server), then loads the home page afresh. `everywhere` ends every session of the account,
/// in every browser ([`crate::logout_everywhere`]; needs a session store).
#[component]
pub fn LogoutButton(
    /// The button's text; "Log out" (or "Log out everywhere") when absent.
    #[prop(optional, into)]
    label: Option<String>,
    /// Sign out every browser of this account, not only this one.
    #[prop(optional)]
    everywhere: bool,
) -> impl IntoView {
    if everywhere {
        let label = label.unwrap_or_else(|| "Log out everywhere".into());
        sign_out_form!(
            ServerAction::<LogoutEverywhere>::new(),
            label,
            "auth-logout-everywhere"
        )
        .into_any()
    } else {
        let label = label.unwrap_or_else(|| "Log out".into());
        sign_out_form!(ServerAction::<Logout>::new(), label, "auth-logout").into_any()
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
