use auth::LoginButton;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Where pages that need a user send a signed-out visitor; `?next=` is where they come back to
/// (the server only honours paths on this site).
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = query
        .read_untracked()
        .get("next")
        .unwrap_or_else(|| "/".to_owned());
    view! {
        <h1>"Sign in to continue"</h1>
        <LoginButton next=next />
    }
}
