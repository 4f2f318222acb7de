//! The axum binary: configuration, routes and assets, wired together.
mod assets;

use app::{App, shell};
use axum::{Router, serve::ListenerExt};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let conf = get_configuration(None)?;
    let mut leptos_options = conf.leptos_options;
    assets::hash_files(&mut leptos_options);
    let addr = leptos_options.site_addr;
    let routes = generate_route_list(App);
    // `make bench` only: the same pages without sign-in, to measure what `auth.install` costs
    // a request. Everyone is signed out then, and every sign-in server function refuses.
    let without_auth = std::env::var_os("BENCH_WITHOUT_AUTH").is_some_and(|value| value == "1");
    let auth = if without_auth {
        tracing::warn!("BENCH_WITHOUT_AUTH=1: serving the app without sign-in, for the benchmark");
        None
    } else {
        Some(leptos_login::Auth::from_env()?)
    };

    let app = Router::new()
        .leptos_routes(&leptos_options, routes, {
            let leptos_options = leptos_options.clone();
            move || shell(leptos_options.clone())
        })
        .merge(assets::router(&leptos_options))
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(leptos_options);
    let app = match auth {
        Some(auth) => auth.install(app),
        None => app,
    };

    // TCP_NODELAY: a response written in two parts (headers, then a file's body) must not
    // wait for the client's delayed ACK (some 40 ms) on a kept-alive connection.
    let listener = tokio::net::TcpListener::bind(&addr).await?.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::warn!("cannot set TCP_NODELAY: {error}");
        }
    });
    tracing::info!("listening on http://{addr}");
    axum::serve(listener, app.into_make_service())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("shut down");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM, so in-flight requests finish before exit.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for Ctrl-C: {error}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!("cannot listen for SIGTERM: {error}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
