//! The development provider as the `Auth` service sees it: a running provider in builds with
//! the `dev-idp` feature, an empty slot otherwise. The feature gates live here, so that the
//! service is not threaded with them.
use std::net::SocketAddr;
#[cfg(feature = "dev-idp")]
use std::sync::Arc;

use axum::Router;

use crate::server::config::AuthConfig;

/// The development provider this server runs, if any.
#[derive(Clone, Default)]
pub(crate) struct DevSlot(#[cfg(feature = "dev-idp")] Option<Arc<crate::server::dev_idp::DevIdp>>);

impl DevSlot {
    /// Starts the provider for an app served on `site_addr`, with the configuration that
    /// points the app at it; `None` when this build has no development provider. The error
    /// says why it could not start.
    #[cfg(feature = "dev-idp")]
    pub(crate) fn start(site_addr: SocketAddr) -> Result<Option<(Self, AuthConfig)>, String> {
        let (idp, config) =
            crate::server::dev_idp::DevIdp::start(site_addr).map_err(|error| error.to_string())?;
        crate::server::log::tell_developer!(
            warn,
            "sign-in uses the development provider at {}: anyone can sign in as anyone. \
             To use a real provider, write an [auth] table (redirect_uri, cookie_secret, \
             client_id, client_secret, server_metadata_url) in {} (see the README)",
            idp.issuer(),
            crate::server::config::DEFAULT_SECRETS_FILE
        );
        Ok(Some((Self(Some(idp)), config)))
    }

    #[cfg(not(feature = "dev-idp"))]
    pub(crate) fn start(_site_addr: SocketAddr) -> Result<Option<(Self, AuthConfig)>, String> {
        Ok(None)
    }

    /// Whether sign-in goes through the development provider (pages show a banner).
    pub(crate) fn active(&self) -> bool {
        #[cfg(feature = "dev-idp")]
        return self.0.is_some();
        #[cfg(not(feature = "dev-idp"))]
        false
    }

    /// The app's callback on the loopback host a login began at, when the development
    /// provider runs and that host is another name of this server.
    pub(crate) fn callback_at(&self, began_at: &url::Url) -> Option<url::Url> {
        #[cfg(feature = "dev-idp")]
        return self.0.as_ref()?.callback_at(began_at).cloned();
        #[cfg(not(feature = "dev-idp"))]
        {
            let _ = began_at;
            None
        }
    }

    /// `router` with the provider's own routes, if it runs.
    pub(crate) fn mount(&self, router: Router) -> Router {
        #[cfg(feature = "dev-idp")]
        if let Some(idp) = &self.0 {
            return router.merge(idp.router());
        }
        router
    }

    #[cfg(all(test, feature = "dev-idp"))]
    pub(crate) fn idp(&self) -> Option<&Arc<crate::server::dev_idp::DevIdp>> {
        self.0.as_ref()
    }
}
