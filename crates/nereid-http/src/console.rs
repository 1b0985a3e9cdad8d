//! The built-in web console: `GET /`, `/console` (index.html) and `/assets/…`, served from
//! files embedded at build time (`build.rs` lists `console/dist`).
//!
//! The pages hold no data: the console reads everything through the public API with the
//! user's own credentials (signed with SigV4 in the browser under `--auth iam`). The pages
//! themselves are served without a signature, because a browser's navigation cannot carry
//! one; every request the console then makes is authenticated and authorized like any
//! client's. Vite names assets by content hash, so they are cached for a year; index.html
//! is revalidated each time so a new binary's console is picked up at once.

use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));
}

/// The embedded files, `(path, contents)`, sorted by path.
pub fn assets() -> &'static [(&'static str, &'static [u8])] {
    embedded::ASSETS
}

/// Whether `path` is one of the console's: `/`, `/console`, `/console/` or under `/assets/`.
pub fn is_console_path(path: &str) -> bool {
    matches!(path, "/" | "/console" | "/console/") || path.starts_with("/assets/")
}

/// Answers a GET or HEAD of a console path (see [`is_console_path`]); `None` otherwise, so
/// that other methods get the API's coded errors like any unknown route.
pub fn serve(method: &Method, path: &str) -> Option<Response> {
    if !is_console_path(path) || (method != Method::GET && method != Method::HEAD) {
        return None;
    }
    let file = if path.starts_with("/assets/") {
        path
    } else {
        "/index.html"
    };
    let Some(body) = lookup(file) else {
        return Some(if file == "/index.html" {
            plain(
                StatusCode::NOT_FOUND,
                "the console was not built into this binary: run `npm ci && npm run build` in console/ and rebuild",
            )
        } else {
            plain(StatusCode::NOT_FOUND, "no such console asset")
        });
    };
    let cache = if file == "/index.html" {
        "no-cache"
    } else {
        "public, max-age=31536000, immutable"
    };
    let mut response = if method == Method::HEAD {
        (StatusCode::OK, Vec::new()).into_response()
    } else {
        (StatusCode::OK, body).into_response()
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(file)),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Some(response)
}

fn lookup(path: &str) -> Option<&'static [u8]> {
    let files = assets();
    files
        .binary_search_by(|(p, _)| (*p).cmp(path))
        .ok()
        .map(|i| files[i].1)
}

/// The content type of a console file, by its extension.
pub fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map_or("", |(_, e)| e);
    match extension {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut response = (status, text).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_paths_and_content_types() {
        assert!(is_console_path("/"));
        assert!(is_console_path("/console"));
        assert!(is_console_path("/assets/index-abc.js"));
        assert!(!is_console_path("/openCypher"));
        assert!(!is_console_path("/metrics"));
        assert_eq!(
            content_type("/assets/a.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("/index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("/assets/a.css"), "text/css; charset=utf-8");
    }

    #[test]
    fn assets_are_sorted_for_lookup() {
        let files = assets();
        assert!(files.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
