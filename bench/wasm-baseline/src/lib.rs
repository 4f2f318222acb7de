//! bench/wasm-with-login with the sign-in crate taken out: the same shell, router and page, with a
//! greeting and a plain form where the sign-in buttons were. `make bench` builds both for the
//! browser; the difference between the two modules is what sign-in adds to an app's wasm.
use leptos::prelude::*;
use leptos_router::components::Router;

/// The HTML document the server would render around the app (as wasm-with-login's).
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
    view! {
        <Router>
            <Home />
        </Router>
    }
}

#[component]
fn Home() -> impl IntoView {
    let name = String::from("there");
    view! {
        <p>"Hello, " {name} "!"</p>
        <form method="post" action="/logout">
            <button type="submit">"Log out"</button>
        </form>
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
