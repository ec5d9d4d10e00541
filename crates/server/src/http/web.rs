//! The team-lead dashboard's front end, served from the same process as the API: the files of
//! `ui/dist/dashboard` embedded into the binary (read from that folder in debug builds), with a
//! single-page-app fallback to `index.html` for every non-API path.
//!
//! Every page answer carries a Content-Security-Policy that allows only this origin. This
//! module must never answer an `/api` path with the page: unknown API paths stay JSON 404s.

use std::borrow::Cow;

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::error::ApiError;
use super::{overview, report, AppState};

/// The built dashboard. Missing when the UI was not built; then `/` says how to build it.
#[derive(rust_embed::Embed)]
#[folder = "../../ui/dist/dashboard"]
#[allow_missing = true]
struct Dist;

/// Scripts, styles, images, fonts, connections: this origin only; never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Files under `assets/` carry a content hash in their names, so they never change.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Everything else (index.html) is checked on every load, so a new version shows at once.
const REVALIDATE: &str = "no-cache";

const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Worktrace</title></head><body style=\"font-family:sans-serif;margin:3em\">\
<h1>Worktrace server</h1><p>dashboard not built: run make ui (it builds ui/dist/dashboard), \
then rebuild the server.</p><p>The API is available under /api; see /api/openapi.json.</p>\
</body></html>";

/// The dashboard's own read-only endpoints and the page fallback, merged into the API router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/teams/{team_id}/days/{day}", get(overview::team_day))
        .route("/api/teams/{team_id}/report.pdf", get(report::team_report))
        .route("/api/admin/memberships", get(overview::memberships))
        .route(
            "/api/people/{user_id}/days/{day}/hours",
            get(overview::person_hours),
        )
        .fallback(serve)
}

/// Which embedded file answers a request path, and whether it is a content-hashed asset.
///
/// ```text
/// /                      → index.html            (page)
/// /assets/index-3f2a.js  → assets/index-3f2a.js  (asset, if it exists)
/// /teams/4               → index.html            (page: the app routes it)
/// /assets/gone.js        → none                  (a missing asset is a 404, not the page)
/// ```
pub fn resolve(path: &str, exists: impl Fn(&str) -> bool) -> Option<(String, bool)> {
    let rel = path.trim_start_matches('/');
    if rel.is_empty() || rel == "index.html" {
        return Some(("index.html".to_owned(), false));
    }
    if exists(rel) {
        return Some((rel.to_owned(), rel.starts_with("assets/")));
    }
    // A path with a file extension asks for a file; anything else is a route of the app.
    let last = rel.rsplit('/').next().unwrap_or(rel);
    if rel.starts_with("assets/") || last.contains('.') {
        None
    } else {
        Some(("index.html".to_owned(), false))
    }
}

fn with_page_headers(mut response: Response, cache: &'static str) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// Answers every path no API route took: the dashboard's files, or `index.html` for its routes.
async fn serve(method: Method, uri: Uri) -> Response {
    answer(&method, uri.path(), |name| Dist::get(name).map(|f| f.data))
}

/// The answer for a page path, with the built files read through `file` (the embedded ones in
/// the server; a map in tests).
fn answer(
    method: &Method,
    path: &str,
    file: impl Fn(&str) -> Option<Cow<'static, [u8]>>,
) -> Response {
    if path == "/api" || path.starts_with("/api/") {
        return ApiError::not_found("there is nothing at this address; see /api/openapi.json")
            .into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "the dashboard's pages are read with GET",
        )
        .into_response();
    }
    if file("index.html").is_none() {
        // 200, not 5xx: the server works, and error answers are rewritten to JSON.
        let page = (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            NOT_BUILT,
        )
            .into_response();
        return with_page_headers(page, REVALIDATE);
    }
    let found = resolve(path, |p| file(p).is_some())
        .and_then(|(name, hashed)| file(&name).map(|data| (name, hashed, data)));
    let Some((name, hashed, data)) = found else {
        return ApiError::not_found(format!("the dashboard has no file {path}")).into_response();
    };
    let mime = mime_guess::from_path(&name).first_or_octet_stream();
    let content_type = if mime.type_() == "text" || mime.subtype() == "javascript" {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    };
    let body = match data {
        Cow::Borrowed(b) => Body::from(b),
        Cow::Owned(v) => Body::from(v),
    };
    let response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    with_page_headers(response, if hashed { IMMUTABLE } else { REVALIDATE })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_to_files_or_the_page() {
        let exists = |p: &str| p == "assets/index-3f2a.js" || p == "favicon.svg";
        assert_eq!(
            resolve("/", exists),
            Some(("index.html".into(), false)),
            "the root is the page"
        );
        assert_eq!(
            resolve("/assets/index-3f2a.js", exists),
            Some(("assets/index-3f2a.js".into(), true)),
            "hashed assets are cached for good"
        );
        assert_eq!(
            resolve("/favicon.svg", exists),
            Some(("favicon.svg".into(), false)),
            "other files are revalidated"
        );
        assert_eq!(
            resolve("/people/4/days/2025-03-03", exists),
            Some(("index.html".into(), false)),
            "app routes get the page"
        );
        assert_eq!(
            resolve("/assets/gone.js", exists),
            None,
            "a missing asset must be a 404, or the browser would run HTML as a script"
        );
        assert_eq!(
            resolve("/robots.txt", exists),
            None,
            "a missing file is a 404"
        );
    }

    fn header_of(r: &Response, name: header::HeaderName) -> String {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }

    #[test]
    fn without_a_built_ui_every_page_says_how_to_build_it() {
        let none = |_: &str| None;
        let r = answer(&Method::GET, "/teams/3", none);
        assert_eq!(r.status(), StatusCode::OK, "the server itself works");
        assert!(
            header_of(&r, header::CONTENT_TYPE).starts_with("text/html"),
            "a page people read"
        );
        assert!(
            header_of(&r, header::CONTENT_SECURITY_POLICY).contains("default-src 'self'"),
            "the same policy as the real pages"
        );
        let r = answer(&Method::GET, "/api/teams/3/nothing", none);
        assert_eq!(
            r.status(),
            StatusCode::NOT_FOUND,
            "API paths never get a page"
        );
        assert!(
            NOT_BUILT.contains("dashboard not built: run make ui"),
            "the page names the command"
        );
    }

    #[test]
    fn files_get_their_type_and_cache_rule() {
        let file = |name: &str| match name {
            "index.html" => Some(Cow::Borrowed(&b"<html></html>"[..])),
            "assets/index-3f2a.js" => Some(Cow::Borrowed(&b"export {}"[..])),
            "assets/index-3f2a.css" => Some(Cow::Borrowed(&b"body{}"[..])),
            _ => None,
        };
        let js = answer(&Method::GET, "/assets/index-3f2a.js", file);
        assert_eq!(
            header_of(&js, header::CONTENT_TYPE),
            "text/javascript; charset=utf-8",
            "module scripts must be served as JavaScript or browsers refuse them"
        );
        assert_eq!(header_of(&js, header::CACHE_CONTROL), IMMUTABLE, "hashed");
        let css = answer(&Method::HEAD, "/assets/index-3f2a.css", file);
        assert!(
            header_of(&css, header::CONTENT_TYPE).starts_with("text/css"),
            "styles as CSS"
        );
        let page = answer(&Method::GET, "/alerts", file);
        assert_eq!(
            header_of(&page, header::CACHE_CONTROL),
            REVALIDATE,
            "the page itself is revalidated"
        );
        let post = answer(&Method::POST, "/alerts", file);
        assert_eq!(
            post.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "pages are read"
        );
    }
}
