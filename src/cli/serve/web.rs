//! The clerk's screens, embedded in the binary: the enrollment form at `/` (checked as the clerk
//! types, through `/v1/check-fields`), the review queue at `/review` and the review screen at
//! `/review/{decision_id}` (a record beside the registry records it was compared with, and the
//! waterfall of match weights). Static pages and scripts only: they hold no data and call the
//! API like any other client (with the clerk's token, when the service needs one), so they are
//! served without a token. Every page forbids loading anything from another host
//! (`Content-Security-Policy`): no CDN, no web font, no analytics.

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::api::State;

const FORM: &str = include_str!("web/form.html");
const QUEUE: &str = include_str!("web/queue.html");
const REVIEW: &str = include_str!("web/review.html");
const CSS: &str = include_str!("web/kensa.css");
const COMMON_JS: &str = include_str!("web/kensa.js");
const FORM_JS: &str = include_str!("web/form.js");
const QUEUE_JS: &str = include_str!("web/queue.js");
const REVIEW_JS: &str = include_str!("web/review.js");

/// Nothing but this server: scripts, styles and requests.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; \
                   base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Whether `path` is a page or an asset of the screens (served without a token).
pub fn is_page(path: &str) -> bool {
    path == "/" || path == "/review" || path.starts_with("/review/") || path.starts_with("/assets/")
}

/// The routes of the screens.
pub fn pages() -> Router<Arc<State>> {
    Router::new()
        .route("/", get(|| async { page(FORM) }))
        .route("/review", get(|| async { page(QUEUE) }))
        .route("/review/{id}", get(|| async { page(REVIEW) }))
        .route("/assets/kensa.css", get(|| async { asset(CSS, "text/css; charset=utf-8") }))
        .route("/assets/kensa.js", get(|| async { script(COMMON_JS) }))
        .route("/assets/form.js", get(|| async { script(FORM_JS) }))
        .route("/assets/queue.js", get(|| async { script(QUEUE_JS) }))
        .route("/assets/review.js", get(|| async { script(REVIEW_JS) }))
}

fn page(html: &'static str) -> Response {
    asset(html, "text/html; charset=utf-8")
}

fn script(js: &'static str) -> Response {
    asset(js, "text/javascript; charset=utf-8")
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    r
}
