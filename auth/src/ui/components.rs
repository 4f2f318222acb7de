//! `<LoginButton/>` and `<LogoutButton/>`: plain forms that post the sign-in server functions.
//! The server answers each post with a redirect (to the provider, or to the next page), so
//! the buttons work the same before hydration, after it and with JavaScript off, and the
//! browser bundle carries no server-function client, form encoding or JSON parser for them.
//! A post that fails comes back to its page with `?auth_error=CODE` (and `&auth_form=NAME`
//! for the sign-out forms), which the button that sent it shows.
use leptos::{prelude::*, server_fn::ServerFn};

use crate::{
    AuthError,
    ui::LoginParams,
    ui::context::DevProvider,
    ui::server_fns::{LOGOUT_EVERYWHERE_FORM, LOGOUT_FORM, Login, Logout, LogoutEverywhere},
};

/// "Log in": sends the visitor to their provider and back to this page.
#[component]
pub fn LoginButton(
    /// The `[auth.NAME]` provider; the unnamed one when absent.
    #[prop(optional, into)]
    provider: Option<String>,
    /// The button's text.
    #[prop(into, default = "Log in".into())]
    label: String,
    /// Where to come back to; the page the button is on when absent (the server reads it
    /// from the post's `Referer`, which is right after client-side navigation too).
    #[prop(optional, into)]
    next: Option<String>,
    /// What this login asks of the provider (`prompt`, `login_hint`, …), within what its
    /// `login_params` allows.
    #[prop(optional)]
    params: LoginParams,
) -> impl IntoView {
    let form = crate::login_params::login_form(provider.as_deref(), &params);
    // One field, encoded as a query: no list of fields in the browser bundle.
    let params = params.encoded().to_owned();
    view! {
        <form method="post" action=Login::PATH class="auth-login">
            // Empty means the unnamed provider and this page: the server reads both that way.
            <input type="hidden" name="provider" value=provider.unwrap_or_default() />
            <input type="hidden" name="next" value=next.unwrap_or_default() />
            <input type="hidden" name="params" value=params />
            <button type="submit">{label}</button>
        </form>
        {returned_error(form.as_deref())}
    }
}

/// "Log out": deletes the identity cookie (and with a session store ends the session on the
/// server); the server then sends the browser to the home page, a fresh, signed-out page load
/// as after Streamlit's logout (or with `logout_at_provider` to the provider's logout page).
/// `everywhere` ends every session of the account, in every browser
/// ([`crate::logout_everywhere`]; needs a session store).
#[component]
pub fn LogoutButton(
    /// The button's text; "Log out" (or "Log out everywhere") when absent.
    #[prop(optional, into)]
    label: Option<String>,
    /// Sign out every browser of this account, not only this one.
    #[prop(optional)]
    everywhere: bool,
) -> impl IntoView {
    let (path, form, class, default_label) = if everywhere {
        (
            LogoutEverywhere::PATH,
            LOGOUT_EVERYWHERE_FORM,
            "auth-logout-everywhere",
            "Log out everywhere",
        )
    } else {
        (Logout::PATH, LOGOUT_FORM, "auth-logout", "Log out")
    };
    let label = label.unwrap_or_else(|| default_label.into());
    view! {
        <form method="post" action=path class=class>
            <button type="submit">{label}</button>
        </form>
        {returned_error(Some(form))}
    }
}

/// The refusal this button's form came back with, if any, where the visitor can read it.
/// Only known codes are shown, each with its fixed text, so a link cannot put words here.
/// Read once: only a page load brings one.
fn returned_error(form: Option<&str>) -> Option<impl IntoView + use<>> {
    let query = this_page_query()?;
    let (mut code, mut sent_by) = (None, None);
    for pair in query.trim_start_matches('?').split('&') {
        match pair.split_once('=') {
            Some(("auth_error", value)) => code = Some(value),
            Some(("auth_form", value)) => sent_by = Some(value),
            _ => {}
        }
    }
    if sent_by != form {
        return None;
    }
    let error = AuthError::from_code(code?)?;
    Some(view! {
        <p class="auth-error" role="alert">
            {error.to_string()}
        </p>
    })
}

/// The query of the page being rendered (without leptos_router, so the buttons work in apps
/// without one).
fn this_page_query() -> Option<String> {
    #[cfg(feature = "ssr")]
    let query =
        with_context::<http::request::Parts, _>(|parts| parts.uri.query().map(str::to_owned))
            .flatten();
    #[cfg(not(feature = "ssr"))]
    let query = window().location().search().ok();
    query
}

/// A warning across the page while sign-in goes through the development provider, where
/// anyone can sign in as anyone. Renders nothing otherwise; put it in the app's root.
///
/// It brings its own look as a style attribute, so that it reads as a banner in an app with no
/// stylesheet; `class` replaces that look with the app's own (the attribute would outrank any
/// class rule).
#[component]
pub fn DevProviderBanner(
    /// A class of the app's own to style the banner with, in place of its own look.
    #[prop(optional, into)]
    class: Option<String>,
) -> impl IntoView {
    let DevProvider(active) = use_context::<DevProvider>().unwrap_or_default();
    active.then(|| {
        let style = class.is_none().then_some(
            "margin:0 0 1rem;padding:.5rem 1rem;color:#1f2328;background:#fff8c5;\
             border:1px solid #d4a72c;border-radius:.4rem",
        );
        let class = match class {
            Some(own) => format!("auth-dev-banner {own}"),
            None => "auth-dev-banner".to_owned(),
        };
        view! {
            <p id="dev-provider-banner" class=class style=style role="status">
                "Development sign-in: anyone can sign in as anyone. "
                "Configure a real provider in secrets.toml before you deploy."
            </p>
        }
    })
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    fn banner(class: Option<&str>) -> String {
        Owner::new().with(|| {
            provide_context(DevProvider(true));
            match class {
                Some(class) => view! { <DevProviderBanner class /> }.to_html(),
                None => view! { <DevProviderBanner /> }.to_html(),
            }
        })
    }

    #[test]
    fn the_banner_looks_like_one_without_css_and_gives_way_to_a_class() {
        let own_look = banner(None);
        assert!(
            own_look.contains(r#"class="auth-dev-banner""#),
            "{own_look}"
        );
        assert!(own_look.contains("background:#fff8c5"), "{own_look}");
        let apps_look = banner(Some("warning"));
        assert!(
            apps_look.contains(r#"class="auth-dev-banner warning""#),
            "{apps_look}"
        );
        assert!(!apps_look.contains("style="), "{apps_look}");
    }

    #[test]
    fn a_login_buttons_params_are_hidden_fields_of_its_form() {
        let params = LoginParams::new()
            .login_hint("ada@example.com")
            .prompt("select_account");
        let form = Owner::new().with(|| view! { <LoginButton params /> }.to_html());
        assert!(
            form.contains(
                r#"name="params" value="login_hint=ada%40example.com&amp;prompt=select_account""#
            ),
            "{form}"
        );
        let plain = Owner::new().with(|| view! { <LoginButton /> }.to_html());
        assert!(plain.contains(r#"name="params" value="""#), "{plain}");
    }

    #[test]
    fn only_the_login_button_whose_login_failed_says_why() {
        let page = |query: &str| {
            let (parts, ()) = http::Request::get(format!("/?{query}"))
                .body(())
                .expect("a request")
                .into_parts();
            Owner::new().with(|| {
                provide_context(parts);
                let hinted = LoginParams::new().login_hint("alice");
                view! {
                    <LoginButton />
                    <LoginButton provider="google" />
                    <LoginButton params=hinted />
                }
                .to_html()
            })
        };
        let alerts = |html: &str| html.matches("role=\"alert\"").count();
        assert_eq!(alerts(&page("auth_error=unknown_provider")), 1);
        for form in ["login.google", "login..login_hint"] {
            let html = page(&format!("auth_error=unknown_provider&auth_form={form}"));
            assert_eq!(alerts(&html), 1, "{form}: {html}");
        }
        assert_eq!(
            alerts(&page("auth_error=unknown_provider&auth_form=logout")),
            0
        );
    }

    #[test]
    fn the_banner_is_absent_without_the_development_provider() {
        let page = Owner::new().with(|| view! { <DevProviderBanner /> }.to_html());
        assert!(!page.contains("dev-provider-banner"), "{page}");
    }
}
