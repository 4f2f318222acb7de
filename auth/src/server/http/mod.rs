//! The HTTP layer: `auth.install(router)` (`install.rs`), the callback and logout routes
//! (`routes.rs`), and the rules every request meets on its way to the app (`middleware.rs`).
pub(crate) mod install;
pub(crate) mod middleware;
pub(crate) mod routes;
