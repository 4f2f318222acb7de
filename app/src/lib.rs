//! The reference app: what an app built on `auth` looks like.
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode, StaticSegment,
    components::{Route, Router, Routes},
};

use pages::{AccountPage, ClaimsPage, HomePage, PrivatePage, SessionsPage, TokensPage};

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                // No icon: browsers would otherwise ask for /favicon.ico on every new visit.
                <link rel="icon" href="data:," />
                // Both follow cargo-leptos's hashed file names in release builds (`make release`).
                <HashedStylesheet options=options.clone() id="leptos" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    leptos_login::provide_user();

    view! {
        <Title text="Leptos sign-in" />
        <leptos_login::ui::DevProviderBanner />
        <Router>
            <main>
                <Routes fallback=|| "Page not found.".into_view()>
                    <Route path=StaticSegment("") view=HomePage />
                    <Route path=StaticSegment("account") view=AccountPage />
                    <Route path=StaticSegment("claims") view=ClaimsPage />
                    <Route path=StaticSegment("login") view=leptos_login::LoginPage />
                    <Route path=StaticSegment("private") view=PrivatePage />
                    // Rendered whole once its list is read: its "End" forms work without
                    // JavaScript, which streamed Suspense content would need to show.
                    <Route path=StaticSegment("sessions") view=SessionsPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("tokens") view=TokensPage />
                </Routes>
            </main>
        </Router>
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
    // A mark that the page is interactive now, for end-to-end tests and curious developers.
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-hydrated", "");
    }
}
