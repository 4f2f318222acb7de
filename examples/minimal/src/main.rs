//! The server: Leptos's routes and an axum handler, then `auth.install` for the callback,
//! the cookies and the checks.
#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    use axum::{Router, routing::get};
    use leptos::prelude::*;
    use leptos_axum::{LeptosRoutes, generate_route_list};
    use minimal::{App, shell};
    use tracing_subscriber::EnvFilter;

    // The crate logs what to configure and why a sign-in failed; RUST_LOG=debug for more.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let leptos_options = get_configuration(None)?.leptos_options;
    let addr = leptos_options.site_addr;
    // 4. secrets.toml or AUTH_* variables; without either, a debug build's development
    // provider.
    let auth = leptos_login::Auth::from_env()?;

    let app = Router::new()
        .leptos_routes(&leptos_options, generate_route_list(App), {
            let leptos_options = leptos_options.clone();
            move || shell(leptos_options.clone())
        })
        .route("/api/me", get(me))
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(leptos_options);
    let app = auth.install(app);

    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{addr}");
    axum::serve(listener, app.into_make_service())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

/// An axum handler for members only: 401 for anyone signed out.
#[cfg(feature = "ssr")]
async fn me(user: leptos_login::User) -> String {
    format!(
        "{} ({})",
        user.name().unwrap_or("?"),
        user.id().unwrap_or_default()
    )
}

/// The browser runs `hydrate()` from the library; this binary is only the server.
#[cfg(not(feature = "ssr"))]
fn main() {}
