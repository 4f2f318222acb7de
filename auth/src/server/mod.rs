// The server side (feature `ssr`), one layer a folder, each using only those below it:
// `http/` (install, the callback route, the rules every request meets) → `acts/` (login,
// logout, tokens, and the request's visitor they act for) → `auth/` (`Auth`: what one
// process knows) → `session/` (sessions, and their stores in `store/`) → `dev_idp/` →
// `sealing/` (the sealed cookies) → `protocol/` (OpenID Connect) → `config/` → what all of
// them share (`body.rs`, `html.rs`, `log.rs`).
pub(crate) mod acts;
pub(crate) mod auth;
pub(crate) mod body;
#[allow(missing_docs)]
pub(crate) mod config;
#[cfg(feature = "dev-idp")]
pub(crate) mod dev_idp;
pub(crate) mod html;
pub(crate) mod http;
pub(crate) mod log;
#[allow(missing_docs)]
pub(crate) mod protocol;
pub(crate) mod sealing;
pub(crate) mod session;
#[cfg(test)]
pub(crate) mod test_support;

pub use acts::step_up::StepUp;
pub use acts::tokens::{Tokens, tokens, userinfo};
pub use acts::visitor::{NotLoggedIn, require_user};
pub use auth::hooks::AuthEvent;
pub use auth::{Auth, SetupError};
pub use config::ConfigError;
