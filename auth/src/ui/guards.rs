//! Pages for signed-in visitors only: `<RequireUser>` (sends anyone else to log in and back),
//! `<ShowWhenLoggedIn>` (shows them something else), and [`is_logged_in`] with
//! [`login_path`] for `leptos_router`'s `ProtectedRoute`. All read [`use_user()`], so the
//! server's render and the browser's agree without a request.
use leptos::{children::ViewFn, either::Either, prelude::*};
use leptos_router::{components::Redirect, hooks::use_location};

use crate::return_to::local_path;
use crate::{LoginButton, use_user};

/// Where [`login_path`] and `<RequireUser>` send a signed-out visitor, unless told otherwise;
/// mount [`LoginPage`] there (or a page of the app's own).
pub const LOGIN_PATH: &str = "/login";

/// Renders its children for a signed-in visitor; anyone else is sent to `login_path` and
/// brought back to this page after signing in.
///
/// Data only members may load is made inside the children (a component of their own is the
/// plain way): a `Resource` made in the page around the guard runs for every visitor, signed
/// in or not (the guard only hides what it loaded), while the children are made for members
/// only. This holds
/// for every guard here and for `ProtectedRoute`'s view. The guard is for the page; the server
/// function that loads the data still asks `require_user()` itself.
///
/// ```
/// use leptos::prelude::*;
///
/// #[component]
/// fn MembersPage() -> impl IntoView {
///     view! {
///         <leptos_login::RequireUser>
///             <p>"Welcome, " {leptos_login::use_user().name().unwrap_or("member").to_owned()}</p>
///             <News />
///         </leptos_login::RequireUser>
///     }
/// }
///
/// #[component]
/// fn News() -> impl IntoView {
///     // Made here, inside the guard, it loads for members only (in an app: a server function).
///     let news = Resource::new(|| (), |_| async { "Members' news".to_owned() });
///     view! { <Suspense>{move || news.get()}</Suspense> }
/// }
/// ```
#[component]
pub fn RequireUser(
    /// The sign-in page to send a signed-out visitor to, with `?next=` this page.
    #[prop(into, default = LOGIN_PATH.into())]
    login_path: String,
    children: ChildrenFn,
) -> impl IntoView {
    if use_user().is_logged_in() {
        Either::Left(children())
    } else {
        let path = login_path_from(&login_path);
        Either::Right(view! { <Redirect path /> })
    }
}

/// Renders its children for a signed-in visitor, and `fallback` (nothing by default) for
/// anyone else. Members' data is loaded inside the children, as for [`RequireUser`].
#[component]
pub fn ShowWhenLoggedIn(
    /// What a signed-out visitor sees instead.
    #[prop(optional, into)]
    fallback: ViewFn,
    children: ChildrenFn,
) -> impl IntoView {
    if use_user().is_logged_in() {
        children().into_any()
    } else {
        fallback.run()
    }
}

/// `ProtectedRoute`'s condition: whether someone is signed in (never "still loading": the
/// user arrives with the page).
///
/// ```
/// use leptos::prelude::*;
/// use leptos_router::{
///     components::{ProtectedRoute, Router, Routes},
///     path,
/// };
///
/// #[component]
/// fn Settings() -> impl IntoView {
///     "settings"
/// }
///
/// #[component]
/// fn App() -> impl IntoView {
///     leptos_login::provide_user();
///     view! {
///         <Router>
///             <Routes fallback=|| "Not found.">
///                 <ProtectedRoute
///                     path=path!("/settings")
///                     view=Settings
///                     condition=leptos_login::ui::is_logged_in
///                     redirect_path=leptos_login::ui::login_path
///                 />
///             </Routes>
///         </Router>
///     }
/// }
/// ```
pub fn is_logged_in() -> Option<bool> {
    Some(use_user().is_logged_in())
}

/// [`LOGIN_PATH`] with `?next=` the page being shown, for `ProtectedRoute`'s redirect.
pub fn login_path() -> String {
    login_path_from(LOGIN_PATH)
}

fn login_path_from(login_path: &str) -> String {
    let location = use_location();
    let here = format!(
        "{}{}",
        location.pathname.get_untracked(),
        location.search.get_untracked()
    );
    format!("{login_path}?next={}", encode_query_value(&here))
}

/// A sign-in page: "Sign in to continue" and a login button that comes back to `?next=`.
/// Someone already signed in goes straight to `next` (home when it is not a path here).
/// Mount it with `<Route path=StaticSegment("login") view=leptos_login::LoginPage/>`; an app with
/// several providers writes its own, with a `<LoginButton provider="…"/>` each.
#[component]
pub fn LoginPage() -> impl IntoView {
    let next = leptos_router::hooks::use_query_map()
        .read_untracked()
        .get("next")
        .unwrap_or_else(|| "/".to_owned());
    if use_user().is_logged_in() {
        let path = local_path(&next).unwrap_or("/").to_owned();
        return Either::Left(view! { <Redirect path /> });
    }
    Either::Right(view! {
        <h1>"Sign in to continue"</h1>
        <LoginButton next />
    })
}

/// `text` as one query value: everything but unreserved characters and `/` percent-encoded.
fn encode_query_value(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::User;

    fn alice() -> User {
        let serde_json::Value::Object(claims) = serde_json::json!({"sub": "a", "name": "Alice"})
        else {
            unreachable!()
        };
        User::signed_in(claims, None)
    }

    /// Renders `view` on the server for a page whose visitor is `user`.
    #[cfg(feature = "ssr")]
    fn render_for<V: IntoView + 'static>(user: User, view: impl FnOnce() -> V) -> String {
        Owner::new().with(|| {
            provide_context(user);
            view().to_html()
        })
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn show_when_signed_in_shows_members_their_part_and_others_the_fallback() {
        let page = || {
            view! {
                <ShowWhenLoggedIn fallback=|| view! { <p>"Please sign in"</p> }>
                    <p>"Members' news"</p>
                </ShowWhenLoggedIn>
            }
        };
        let member = render_for(alice(), page);
        assert!(member.contains("Members' news"), "{member}");
        assert!(!member.contains("Please sign in"), "{member}");
        let visitor = render_for(User::default(), page);
        assert!(visitor.contains("Please sign in"), "{visitor}");
        assert!(!visitor.contains("Members' news"), "{visitor}");
    }

    #[test]
    fn the_route_condition_follows_the_page_user() {
        let owner = Owner::new();
        owner.with(|| {
            provide_context(alice());
            assert_eq!(is_logged_in(), Some(true));
        });
        Owner::new().with(|| {
            provide_context(User::default());
            assert_eq!(is_logged_in(), Some(false));
        });
    }

    #[test]
    fn the_return_path_is_one_query_value() {
        assert_eq!(encode_query_value("/private"), "/private");
        assert_eq!(
            encode_query_value("/a?b=1&c=d e#f"),
            "/a%3Fb%3D1%26c%3Dd%20e%23f"
        );
        assert_eq!(encode_query_value("/é"), "/%C3%A9");
    }
}
