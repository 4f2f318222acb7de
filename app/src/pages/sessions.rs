use leptos::{prelude::*, server_fn::ServerFn};
use leptos_login::{
    AuthError, LogoutButton, RequireUser,
    ui::{END_SESSION_FORM, EndSession, SessionInfo, sessions},
};
use leptos_router::hooks::use_query_map;

/// `/sessions`, "Where you're signed in": every browser the account is signed in on, with
/// an "End" button for each of the others (a plain form: it works without JavaScript). In
/// cookie mode there is no list to show, and the page says why.
#[component]
pub fn SessionsPage() -> impl IntoView {
    let listed = Resource::new(|| (), |_| sessions());
    view! {
        <RequireUser>
            <h1>"Where you're signed in"</h1>
            <EndSessionError />
            <Suspense fallback=|| view! { <p>"Looking…"</p> }>
                {move || {
                    listed
                        .get()
                        .map(|listed| match listed {
                            Ok(sessions) => view! { <SessionTable sessions /> }.into_any(),
                            Err(error @ AuthError::NeedsSessionStore) => {
                                view! { <p id="sessions-need-store">{error.to_string()}</p> }
                                    .into_any()
                            }
                            Err(error) => {
                                view! { <p id="sessions-error">{error.to_string()}</p> }.into_any()
                            }
                        })
                }}
            </Suspense>
            <LogoutButton everywhere=true />
            <p>
                <a href="/">"Home"</a>
            </p>
        </RequireUser>
    }
}

#[component]
fn SessionTable(sessions: Vec<SessionInfo>) -> impl IntoView {
    view! {
        <table id="sessions">
            <thead>
                <tr>
                    <th>"Browser"</th>
                    <th>"Signed in with"</th>
                    <th>"Signed in"</th>
                    <th>"Last seen"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>
                {sessions
                    .into_iter()
                    .map(|session| view! { <SessionRow session /> })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn SessionRow(session: SessionInfo) -> impl IntoView {
    let SessionInfo {
        id,
        began_at,
        last_seen_at,
        provider,
        device,
        this_browser,
    } = session;
    let class = if this_browser {
        "session this-browser"
    } else {
        "session"
    };
    // This browser's own row has no "End": "Log out" is the way out of this one.
    let action = if this_browser {
        view! { <strong>"This browser"</strong> }.into_any()
    } else {
        view! {
            <form method="post" action=EndSession::PATH class="end-session">
                <input type="hidden" name="id" value=id.clone() />
                <button type="submit">"End"</button>
            </form>
        }
        .into_any()
    };
    view! {
        <tr class=class data-session-id=id>
            <td class="session-device">{device.unwrap_or_else(|| "Unknown browser".into())}</td>
            <td class="session-provider">
                {provider.unwrap_or_else(|| "the default provider".into())}
            </td>
            <td class="session-began">{utc(began_at)}</td>
            <td class="session-seen">{utc(last_seen_at)}</td>
            <td class="session-action">{action}</td>
        </tr>
    }
}

/// Why the last "End" came back (the server sends a failed plain-form post back here with
/// `?auth_error=CODE&auth_form=end_session`): only a known code, with its fixed text.
#[component]
fn EndSessionError() -> impl IntoView {
    let query = use_query_map();
    move || {
        let query = query.read();
        let error = (query.get("auth_form").as_deref() == Some(END_SESSION_FORM))
            .then(|| query.get("auth_error"))
            .flatten()
            .and_then(|code| AuthError::from_code(&code))?;
        Some(view! {
            <p id="end-session-error" class="auth-error" role="alert">
                {error.to_string()}
            </p>
        })
    }
}

/// Unix seconds as "2026-05-04 13:05 UTC": the same text on the server and in the browser
/// (no time zone or locale to differ at hydration), without a date crate in the bundle.
fn utc(unix: i64) -> String {
    let (days, seconds) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil: eras of 400 years, years starting in March.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        seconds / 3600,
        seconds % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_read_as_utc_dates() {
        assert_eq!(super::utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(super::utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(super::utc(1_777_900_000), "2026-05-04 13:06 UTC");
        assert_eq!(super::utc(-1), "1969-12-31 23:59 UTC");
    }
}
