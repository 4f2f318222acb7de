use auth::use_user;
use leptos::prelude::*;
use leptos_router::components::Redirect;

/// Only for signed-in visitors; anyone else is sent to sign in and brought back here.
#[component]
pub fn PrivatePage() -> impl IntoView {
    let user = use_user();
    if !user.is_logged_in() {
        return view! { <Redirect path="/login?next=/private" /> }.into_any();
    }
    view! {
        <h1>"Members only"</h1>
        <p id="private">"Welcome to the members' page, " {user.name().unwrap_or("member").to_owned()} "."</p>
        <p>
            <a href="/">"Home"</a>
        </p>
    }
    .into_any()
}
