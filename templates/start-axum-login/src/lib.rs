//! The smallest Leptos app with sign-in, leptos-login's four steps and nothing more: who is
//! here (`provide_user`, `use_user`), the buttons, a members' page behind `RequireUser` whose
//! data only members may load (`require_user`), and a login page.
use leptos::{either::Either, prelude::*};
use leptos_router::{
    StaticSegment,
    components::{A, Route, Router, Routes},
};

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

// 1. At the root of the component tree, once.
#[component]
pub fn App() -> impl IntoView {
    leptos_login::provide_user();
    view! {
        <leptos_login::ui::DevProviderBanner />
        <Router>
            <nav>
                <A href="/">"Home"</A>
                " "
                <A href="/members">"Members"</A>
            </nav>
            <main>
                <Routes fallback=|| "Not found.">
                    <Route path=StaticSegment("") view=Home />
                    <Route path=StaticSegment("login") view=leptos_login::LoginPage />
                    <Route path=StaticSegment("members") view=Members />
                </Routes>
            </main>
        </Router>
    }
}

// 2. Any component: who is here, and the buttons.
#[component]
fn Home() -> impl IntoView {
    let user = leptos_login::use_user();
    // Two branches as an `Either`: smaller in the browser than `.into_any()` on each.
    if user.is_logged_in() {
        let name = user.name().unwrap_or("there").to_owned();
        Either::Left(view! {
            <p>"Hello, " {name} "!"</p>
            <leptos_login::LogoutButton />
        })
    } else {
        Either::Right(view! { <leptos_login::LoginButton /> })
    }
}

// 3. Members only: the page, and the data it loads.
#[component]
fn Members() -> impl IntoView {
    view! {
        <leptos_login::RequireUser>
            <MembersNews />
        </leptos_login::RequireUser>
    }
}

/// Inside the guard's children, so that it loads only for members: a `Resource` made
/// outside them would ask the server for every visitor, and be refused.
#[component]
fn MembersNews() -> impl IntoView {
    let news = Resource::new(|| (), |_| members_news());
    view! {
        <Suspense fallback=|| "Loading…">
            {move || {
                news.get()
                    .map(|news| {
                        view! { <p>{news.unwrap_or_else(|error| error.to_string())}</p> }
                    })
            }}
        </Suspense>
    }
}

#[server]
pub async fn members_news() -> Result<String, leptos_login::AuthError> {
    // Read from the request's cookie, not the page's user: 401 for anyone signed out.
    let user = leptos_login::require_user().await?;
    Ok(format!(
        "Members' news for {}.",
        user.name().unwrap_or("you")
    ))
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
