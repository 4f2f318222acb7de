//! The Leptos side, in the browser and on the server: the page's user, the buttons, the
//! guards, and the `#[server]` functions they post to.
mod components;
mod context;
mod guards;
mod server_fns;

pub use components::{DevProviderBanner, LoginButton, LogoutButton};
pub use context::{provide_user, use_user};
pub use guards::{LOGIN_PATH, LoginPage, RequireUser, ShowWhenSignedIn, is_signed_in, login_path};
pub use server_fns::{Login, Logout, LogoutEverywhere, login, logout, logout_everywhere, sign_in};
