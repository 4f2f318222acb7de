//! The files cargo-leptos writes under `site-pkg-dir` (`/pkg`: the wasm, its JavaScript, the
//! stylesheet), served with what browsers and caches need to fetch them once:
//!
//! - **Precompressed.** A build made with `cargo leptos build --release --precompress` (`make
//!   release`) has a `.br` and a `.gz` next to each file; the one the browser accepts is sent
//!   with its `Content-Encoding` (brotli first), with no compression work per request. Without
//!   them (debug builds) the plain file is sent.
//! - **Cached.** Files whose names carry cargo-leptos's content hash (`LEPTOS_HASH_FILES=true`
//!   at build time, as `make release` does) never change under that name:
//!   `Cache-Control: public, max-age=31536000, immutable`, so a repeat visit asks for none of
//!   them. Every other file is `no-cache`: the browser revalidates it (a 304 when unchanged),
//!   so `cargo leptos watch` rebuilds are picked up at once.
use std::{collections::HashSet, path::PathBuf, sync::Arc};

use axum::{
    Router,
    body::Body,
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use leptos::prelude::LeptosOptions;
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// For a file whose name changes whenever its content does.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For every other file: keep it, but ask before using it again.
pub const REVALIDATE: &str = "no-cache";

/// Whether this binary's site has hashed file names. cargo-leptos builds the server with
/// `LEPTOS_HASH_FILES` set as for the site it writes next to it, so the binary knows without
/// the variable at run time; set at run time, the variable wins.
pub fn hash_files(options: &mut LeptosOptions) {
    if std::env::var_os("LEPTOS_HASH_FILES").is_none() {
        options.hash_files = option_env!("LEPTOS_HASH_FILES") == Some("true");
    }
}

/// The routes serving `/{site_pkg_dir}/…` from the site root.
pub fn router<S: Clone + Send + Sync + 'static>(options: &LeptosOptions) -> Router<S> {
    let pkg = format!("/{}", options.site_pkg_dir.trim_matches('/'));
    let assets = Arc::new(Assets {
        dir: ServeDir::new(&*options.site_root)
            .precompressed_br()
            .precompressed_gzip(),
        immutable: hashed_paths(options, &pkg),
    });
    Router::new().route(
        &format!("{pkg}/{{*path}}"),
        get(move |request: Request| serve(assets.clone(), request)),
    )
}

struct Assets {
    dir: ServeDir,
    /// Request paths of the files whose names carry their content hash.
    immutable: HashSet<String>,
}

async fn serve(assets: Arc<Assets>, request: Request<Body>) -> Response {
    let immutable = assets.immutable.contains(request.uri().path());
    let mut response = match assets.dir.clone().oneshot(request).await {
        Ok(response) => response.into_response(),
        Err(infallible) => match infallible {},
    };
    // A 304 refreshes the cached headers too, so it keeps the hashed file's.
    let status = response.status();
    let cache = if immutable && (status.is_success() || status == StatusCode::NOT_MODIFIED) {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    // The same URL answers with brotli, gzip or plain bytes depending on this request header.
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// `/pkg/NAME.HASH.EXT` for the js, wasm and css named in cargo-leptos's hash file (next to
/// the binary, where leptos's `HydrationScripts` reads it too); empty without hashing.
fn hashed_paths(options: &LeptosOptions, pkg: &str) -> HashSet<String> {
    if !options.hash_files {
        return HashSet::new();
    }
    let file = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&*options.hash_file)))
        .unwrap_or_else(|| PathBuf::from(&*options.hash_file));
    match std::fs::read_to_string(&file) {
        Ok(text) => parse_hash_file(&text, &options.output_name, pkg),
        Err(error) => {
            tracing::warn!(
                "hashed file names are on but {} does not read ({error}): no file is served as immutable",
                file.display()
            );
            HashSet::new()
        }
    }
}

/// Lines `EXT: HASH` (cargo-leptos also writes `manifest:` and `split:` lines for wasm
/// splitting, which this app does not use).
fn parse_hash_file(text: &str, output_name: &str, pkg: &str) -> HashSet<String> {
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(ext, hash)| (ext.trim(), hash.trim()))
        .filter(|(ext, hash)| matches!(*ext, "js" | "wasm" | "css") && !hash.is_empty())
        .map(|(ext, hash)| format!("{pkg}/{output_name}.{hash}.{ext}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cargo_leptos_hash_file() {
        let text = "js: AbC-1_x\nwasm: Wz9\ncss: Cs5\nsplit: ignored\n";
        let paths = parse_hash_file(text, "leptos-auth", "/pkg");
        let expected: HashSet<String> = [
            "/pkg/leptos-auth.AbC-1_x.js",
            "/pkg/leptos-auth.Wz9.wasm",
            "/pkg/leptos-auth.Cs5.css",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(paths, expected);
    }

    #[test]
    fn an_empty_hash_file_marks_nothing_immutable() {
        assert!(parse_hash_file("", "leptos-auth", "/pkg").is_empty());
        assert!(parse_hash_file("js:\n", "leptos-auth", "/pkg").is_empty());
    }
}
