use leptos::{either::Either, prelude::*};
use leptos_login::{AuthError, LoginButton, LogoutButton, ui::LoginParams, use_user};
use leptos_router::components::A;

/// The seed's example: signed out, a "Log in" button; signed in, a greeting and "Log out".
#[component]
pub fn HomePage() -> impl IntoView {
    let user = use_user();
    // Two branches as an `Either`: smaller in the browser than `.into_any()` on each.
    let greeting = if user.is_logged_in() {
        let name = user.name().unwrap_or("there").to_owned();
        Either::Left(view! {
            <p id="greeting">"Hello, " {name} "!"</p>
            <LogoutButton />
            <LogoutButton everywhere=true />
            <AskTheServer />
        })
    } else {
        Either::Right(view! {
            <p>"You are not signed in."</p>
            <LoginButton />
            // A login's own parameters: the provider's form comes with the account filled in.
            <LoginButton
                label="Continue as alice"
                params=LoginParams::new().login_hint("alice")
            />
        })
    };

    view! {
        <h1>"Leptos sign-in"</h1>
        {greeting}
        <nav>
            <A href="/claims">"Your claims"</A>
            " · "
            <A href="/private">"Members only"</A>
            " · "
            <A href="/tokens">"Your tokens"</A>
            " · "
            <A href="/account">"Your account"</A>
            " · "
            <A href="/sessions">"Where you're signed in"</A>
        </nav>
        <Counter />
    }
}

/// What the server thinks of this request's cookie, now (not what the page was loaded with).
#[server]
pub async fn whoami() -> Result<String, AuthError> {
    let user = leptos_login::require_user().await?;
    Ok(format!(
        "The server knows you as {}.",
        user.name().unwrap_or("someone")
    ))
}

#[component]
fn AskTheServer() -> impl IntoView {
    let ask = Action::new(|_: &()| whoami());
    view! {
        <button id="whoami" on:click=move |_| { ask.dispatch(()); }>
            "Ask the server who I am"
        </button>
        <p id="whoami-answer">
            {move || ask.value().get().map(|answer| answer.unwrap_or_else(|error| error.to_string()))}
        </p>
    }
}

/// Counts only once the page has hydrated: the end-to-end suite's sign that the WebAssembly is live.
#[component]
fn Counter() -> impl IntoView {
    let count = RwSignal::new(0);
    view! {
        <p>
            <button id="counter" on:click=move |_| *count.write() += 1>
                "Clicked " {count} " times"
            </button>
        </p>
    }
}
