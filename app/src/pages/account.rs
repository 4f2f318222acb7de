use std::time::Duration;

use leptos::prelude::*;
use leptos_login::{RequireUser, use_user};

/// How recent a sign-in this page takes: short, so that trying the reference app shows the
/// page asking again (a real app would ask for minutes, before a password change, say).
const RECENT_ENOUGH: Duration = Duration::from_secs(10);

/// Members only, and only with a recent sign-in: anyone who signed in at the provider longer
/// ago signs in there again (asked with `max_age`) and comes back here.
#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <RequireUser max_age=RECENT_ENOUGH>
            <h1>"Your account"</h1>
            <p id="account">
                "You signed in at the provider within the last "
                {RECENT_ENOUGH.as_secs()}
                " seconds, so this page lets you in, "
                {use_user().name().unwrap_or("member").to_owned()}
                "."
            </p>
            <p>
                <a href="/">"Home"</a>
            </p>
        </RequireUser>
    }
}
