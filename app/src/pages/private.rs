use leptos::prelude::*;
use leptos_login::{RequireUser, use_user};

/// Only for signed-in visitors; anyone else is sent to sign in and brought back here.
#[component]
pub fn PrivatePage() -> impl IntoView {
    view! {
        <RequireUser>
            <h1>"Members only"</h1>
            <p id="private">
                "Welcome to the members' page, "
                {use_user().name().unwrap_or("member").to_owned()}
                "."
            </p>
            <p>
                <a href="/">"Home"</a>
            </p>
        </RequireUser>
    }
}
