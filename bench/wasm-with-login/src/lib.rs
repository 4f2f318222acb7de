//! The first page of examples/minimal as it was when `make bench` began to measure it: one
//! page with `provide_user()`, `use_user()` and the two buttons. `bench/wasm-sizes.sh` builds it
//! beside `bench/wasm-baseline` (the same app without sign-in): the difference is what sign-in
//! adds to an app's wasm.
use leptos::{either::Either, prelude::*};
use leptos_router::components::Router;

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

#[component]
pub fn App() -> impl IntoView {
    leptos_login::provide_user();
    view! {
        <Router>
            <Home />
        </Router>
    }
}

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

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
