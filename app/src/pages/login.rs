use auth::{LoginButton, local_path, use_user};
use leptos::prelude::*;
use leptos_router::{components::Redirect, hooks::use_query_map};

/// Where pages that need a user send a signed-out visitor; `?next=` is where they come back to
/// (the server only honours paths on this site). Someone already signed in goes straight on.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = query
        .read_untracked()
        .get("next")
        .unwrap_or_else(|| "/".to_owned());
    if use_user().is_logged_in() {
        let path = local_path(&next).unwrap_or("/").to_owned();
        return view! { <Redirect path /> }.into_any();
    }
    view! {
        <h1>"Sign in to continue"</h1>
        <LoginButton next=next />
    }
    .into_any()
}
