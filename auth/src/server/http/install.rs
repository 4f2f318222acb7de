//! `auth.install(router)`: the HTTP layer sign-in adds to an app, in one place: its routes
//! (the callback, the back-channel logout, the development provider) and the layers every
//! request goes through (the rules of `middleware.rs`, the cookies, finding the visitor).
use axum::{Extension, Router};
use tower_cookies::CookieManagerLayer;

use crate::Auth;

impl Auth {
    /// Adds the callback route and what the sign-in server functions and `use_user()` need
    /// (the cookie layer and this `Auth`) to the app's router.
    ///
    /// The layers wrap the router once, as one service in front of its routing, rather than
    /// each route (`Router::layer`): a layered route is cloned, with all its layers and its
    /// handler's state (Leptos's options), on every request, which cost a signed-out page
    /// about a tenth of its throughput.
    pub fn install(&self, router: Router) -> Router {
        let routes = self
            .dev_slot()
            .mount(router)
            .merge(crate::server::http::routes::callback_router(
                self.callback_path(),
            ))
            .merge(crate::server::acts::logout::backchannel_router(
                self.backchannel_path(),
            ));
        let layered = tower::ServiceBuilder::new()
            // Outermost, so that it sees the cookies the layer below sets.
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                crate::server::http::middleware::layer,
            ))
            .layer(CookieManagerLayer::new())
            // Inside the cookie layer: it reads cookies.
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                crate::server::http::middleware::find_visitor,
            ))
            .layer(Extension(self.clone()))
            .service(routes);
        Router::new().fallback_service(layered)
    }
}
