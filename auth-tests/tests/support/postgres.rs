//! Debian's Postgres for one test, on a free loopback port, in a folder of its own: the
//! harness of leptos-login's own unit tests, one file for both.
#[path = "../../../auth/src/server/session/tests/postgres_server.rs"]
mod server;

use leptos_login::testing::{Secret, StoreConfig};
pub use server::PostgresServer;

impl PostgresServer {
    pub fn config(&self) -> StoreConfig {
        StoreConfig::Postgres(Secret::new(self.url("")))
    }
}
