//! `make bench`'s sessions: begins COUNT sessions of distinct users in STORE, sealed with
//! SECRET as a server configured with that `cookie_secret` seals them, and prints the
//! `Cookie` header of each, one a line, for wrk to spread its requests over (what a server's
//! memory does with the number of sessions, in each mode).
//!
//! `mint_sessions STORE SECRET ISSUER COUNT`, STORE being `cookie`, `sqlite:PATH`, a
//! `redis://` or a `postgres://` URL, as `session_store` takes them.
use std::{io::Write, path::PathBuf};

use leptos_login::{
    User,
    testing::{Account, CookieCodec, Secret, SessionConfig, Sessions, StoreConfig},
};
use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let [store, secret, issuer, count] = std::env::args()
        .skip(1)
        .collect::<Vec<_>>()
        .try_into()
        .map_err(|_| "usage: mint_sessions STORE SECRET ISSUER COUNT")?;
    let store = match store.strip_prefix("sqlite:") {
        Some(path) => StoreConfig::Sqlite(PathBuf::from(path)),
        None if store == "cookie" => StoreConfig::Cookie,
        None if store.starts_with("postgres") => StoreConfig::Postgres(Secret::new(store)),
        None => StoreConfig::Redis(Secret::new(store)),
    };
    let count: usize = count.parse()?;
    let sessions = Sessions::new(&SessionConfig {
        store,
        ..Default::default()
    })?;
    let codec = CookieCodec::new(&Secret::new(secret), false);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for n in 0..count {
        let Value::Object(claims) = json!({
            "sub": format!("bench-user-{n}"),
            "iss": issuer,
            "name": format!("Bench User {n}"),
            "email": format!("bench-user-{n}@example.com"),
            "email_verified": true,
            "sid": format!("bench-session-{n}"),
        }) else {
            unreachable!("an object")
        };
        let user = User::signed_in(claims, None);
        let cookies = tower_cookies::Cookies::default();
        sessions
            .begin(
                &codec,
                &cookies,
                &user,
                &Account::of(&issuer, user.claims()).ok_or("no subject")?,
                None,
            )
            .await
            .map_err(|error| format!("session {n}: {error:?}"))?;
        let cookie = cookies
            .get(&codec.identity_name())
            .ok_or("no identity cookie")?;
        writeln!(out, "{}={}", cookie.name(), cookie.value())?;
    }
    Ok(())
}
