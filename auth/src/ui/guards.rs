//! Pages for signed-in visitors only: `<RequireUser>` (sends anyone else to log in and back),
//! `<ShowWhenLoggedIn>` (shows them something else), and [`is_logged_in`] with
//! [`login_path`] for `leptos_router`'s `ProtectedRoute`. All read [`use_user()`], so the
//! server's render and the browser's agree without a request.
use std::time::Duration;

use leptos::{children::ViewFn, either::Either, prelude::*};
use leptos_router::{components::Redirect, hooks::use_location};

use crate::return_to::local_path;
use crate::{LoginButton, User, ui::LoginParams, use_user};

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
    /// How recent the sign-in must be: a visitor who signed in at their provider longer ago
    /// (the ID token's `auth_time`) signs in again, asked with `max_age`, and comes back. For
    /// pages where a stolen session would do harm: a password, a payout address.
    #[prop(optional)]
    max_age: Option<Duration>,
    /// The classes of sign-in (`acr`) that will do, space-separated: a visitor signed in
    /// otherwise signs in again asking for them (`acr_values`, which the provider's
    /// `login_params` must list), and the ID token they come back with must name one.
    #[prop(optional, into)]
    acr_values: Option<String>,
    children: ChildrenFn,
) -> impl IntoView {
    let asked = Asked {
        max_age: max_age.map(|max_age| max_age.as_secs()),
        acr_values,
    };
    if asked.met_by(&use_user()) {
        Either::Left(children())
    } else {
        let path = login_path_from(&login_path, &asked);
        Either::Right(view! { <Redirect path /> })
    }
}

/// What a page asks of the visitor's sign-in (`<RequireUser>`'s props, and the sign-in page's
/// query when it sends someone on).
#[derive(Default)]
struct Asked {
    max_age: Option<u64>,
    acr_values: Option<String>,
}

impl Asked {
    fn from_query(query: &leptos_router::params::ParamsMap) -> Self {
        Asked {
            max_age: query
                .get("max_age")
                .and_then(|max_age| max_age.parse().ok()),
            acr_values: query
                .get("acr_values")
                .filter(|values| !values.trim().is_empty()),
        }
    }

    /// Whether `user` is signed in, as recently and as strongly as asked.
    fn met_by(&self, user: &User) -> bool {
        user.is_logged_in()
            && self
                .max_age
                .is_none_or(|max_age| user.signed_in_at_most_ago(max_age, page_now()))
            && self
                .acr_values
                .as_deref()
                .is_none_or(|accepted| user.acr_among(accepted.split_ascii_whitespace()))
    }

    /// What the login asks the provider for, so the sign-in comes back as asked.
    fn login_params(&self) -> LoginParams {
        let mut params = LoginParams::new();
        if let Some(max_age) = self.max_age {
            params = params.max_age(Duration::from_secs(max_age));
        }
        if let Some(acr_values) = &self.acr_values {
            params = params.acr_values(acr_values.clone());
        }
        params
    }

    fn query(&self) -> String {
        let mut query = String::new();
        if let Some(max_age) = self.max_age {
            query.push_str(&format!("&max_age={max_age}"));
        }
        if let Some(acr_values) = &self.acr_values {
            query.push_str(&format!("&acr_values={}", encode_query_value(acr_values)));
        }
        query
    }
}

/// Unix seconds, the same in the server's render and in the browser's hydration of it (the
/// server's, carried in the page), so both decide a `max_age` alike; the browser's own clock
/// after that, for client-side navigation.
fn page_now() -> i64 {
    leptos::prelude::SharedValue::new_str(now).into_inner()
}

#[cfg(feature = "hydrate")]
fn now() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

#[cfg(not(feature = "hydrate"))]
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64)
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
    login_path_from(LOGIN_PATH, &Asked::default())
}

fn login_path_from(login_path: &str, asked: &Asked) -> String {
    let location = use_location();
    let here = format!(
        "{}{}",
        location.pathname.get_untracked(),
        location.search.get_untracked()
    );
    format!(
        "{login_path}?next={}{}",
        encode_query_value(&here),
        asked.query()
    )
}

/// A sign-in page: "Sign in to continue" and a login button that comes back to `?next=`.
/// Someone already signed in goes straight to `next` (home when it is not a path here), unless
/// the page that sent them asks for a more recent or stronger sign-in (`?max_age=`,
/// `?acr_values=`, from [`RequireUser`]): then "Sign in again to continue", and the login asks
/// the provider for it.
/// Mount it with `<Route path=StaticSegment("login") view=leptos_login::LoginPage/>`; an app with
/// several providers writes its own, with a `<LoginButton provider="…"/>` each.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map().read_untracked();
    let next = query.get("next").unwrap_or_else(|| "/".to_owned());
    let asked = Asked::from_query(&query);
    let user = use_user();
    if asked.met_by(&user) {
        let path = local_path(&next).unwrap_or("/").to_owned();
        return Either::Left(view! { <Redirect path /> });
    }
    let params = asked.login_params();
    let heading = if user.is_logged_in() {
        "Sign in again to continue"
    } else {
        "Sign in to continue"
    };
    Either::Right(view! {
        <h1>{heading}</h1>
        <LoginButton next params />
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

    fn signed_in_with(claims: serde_json::Value) -> User {
        let serde_json::Value::Object(claims) = claims else {
            unreachable!()
        };
        User::signed_in(claims, None)
    }

    #[test]
    fn a_page_asking_a_recent_or_stronger_sign_in_lets_only_such_a_sign_in_through() {
        Owner::new().with(|| {
            let now = now();
            let recent = Asked {
                max_age: Some(300),
                acr_values: None,
            };
            assert!(recent.met_by(&signed_in_with(
                serde_json::json!({"sub": "a", "auth_time": now - 10})
            )));
            for user in [
                signed_in_with(serde_json::json!({"sub": "a", "auth_time": now - 3600})),
                signed_in_with(serde_json::json!({"sub": "a"})),
                User::default(),
            ] {
                assert!(!recent.met_by(&user), "{user:?}");
            }
            assert_eq!(recent.query(), "&max_age=300");
            assert_eq!(recent.login_params().get("max_age"), Some("300"));

            let strong = Asked {
                max_age: None,
                acr_values: Some("urn:mfa urn:phrh".to_owned()),
            };
            assert!(strong.met_by(&signed_in_with(
                serde_json::json!({"sub": "a", "acr": "urn:phrh"})
            )));
            assert!(!strong.met_by(&signed_in_with(
                serde_json::json!({"sub": "a", "acr": "urn:pwd"})
            )));
            assert!(!strong.met_by(&alice()));
            assert_eq!(strong.query(), "&acr_values=urn%3Amfa%20urn%3Aphrh");
            assert_eq!(
                strong.login_params().get("acr_values"),
                Some("urn:mfa urn:phrh")
            );

            // Asking nothing: any member, as before.
            assert!(Asked::default().met_by(&alice()));
            assert!(!Asked::default().met_by(&User::default()));
            assert_eq!(Asked::default().query(), "");
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
