//! `auth.install(router)`: the HTTP layer sign-in adds to an app, in one place: its routes
//! (the callback, the back-channel logout, the development provider) and the one service
//! every request goes through (the rules of `middleware.rs`, the cookies, finding the
//! visitor).
use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use axum::{Router, extract::Request, response::Response};
use tower::{Service, ServiceExt};
use tower_cookies::CookieManager;

use crate::{Auth, server::http::middleware};

impl Auth {
    /// Adds the callback route and what the sign-in server functions and `use_user()` need
    /// (the cookies, this `Auth`, who sent the request) to the app's router.
    pub fn install(&self, router: Router) -> Router {
        let routes = self
            .dev_slot()
            .mount(router)
            .merge(crate::server::http::routes::callback_router(self))
            .merge(crate::server::acts::logout::backchannel_router(self));
        Router::new().fallback_service(Installed {
            auth: self.clone(),
            routes,
        })
    }
}

/// The app's routes behind sign-in's rules, as one service in front of their routing: a
/// stack of layers (`from_fn` for the rules and for finding the visitor, the cookie manager,
/// an `Extension`) boxed and cloned its parts on every request, and a layered route
/// (`Router::layer`) cloned Leptos's options with them, which cost a signed-out page a
/// tenth of its throughput. Here a request costs one boxed future.
#[derive(Clone)]
struct Installed {
    auth: Auth,
    routes: Router,
}

impl Service<Request> for Installed {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // A `Router` is always ready; each call readies its own clone.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let Installed { auth, routes } = self.clone();
        Box::pin(async move {
            let answer = middleware::guard(&auth, request, |request, personal| {
                // The cookies are read, and their changes written back, inside the rules,
                // which see the cookies set; the visitor is found from them.
                let auth = &auth;
                let visiting = tower::service_fn(move |request| {
                    let routes = routes.clone();
                    let personal = personal.clone();
                    async move {
                        Ok::<_, Infallible>(
                            middleware::find_visitor(
                                auth,
                                personal,
                                request,
                                |request| async move {
                                    match routes.oneshot(request).await {
                                        Ok(response) => response,
                                        Err(never) => match never {},
                                    }
                                },
                            )
                            .await,
                        )
                    }
                });
                async move {
                    match CookieManager::new(visiting).oneshot(request).await {
                        Ok(response) => response,
                        Err(never) => match never {},
                    }
                }
            })
            .await;
            Ok(answer)
        })
    }
}
