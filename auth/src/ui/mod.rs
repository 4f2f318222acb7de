//! The Leptos side, in the browser and on the server: the page's user, the buttons, the
//! guards, and the `#[server]` functions they post to.
mod components;
mod context;
mod guards;
mod server_fns;

pub use crate::login_params::{DEFAULT_LOGIN_PARAMS, LoginParams};
pub use crate::return_to::local_path;
pub use crate::session_info::SessionInfo;
pub use components::{DevProviderBanner, LoginButton, LogoutButton};
pub use context::{provide_user, use_user};
pub use guards::{LOGIN_PATH, LoginPage, RequireUser, ShowWhenLoggedIn, is_logged_in, login_path};
pub use server_fns::{
    END_SESSION_FORM, EndSession, Login, Logout, LogoutEverywhere, Sessions, end_session,
    go_to_login, go_to_login_with, login, logout, logout_everywhere, sessions,
};
