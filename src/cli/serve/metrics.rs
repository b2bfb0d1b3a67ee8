//! Counters for `GET /metrics`, in the Prometheus text format (version 0.0.4).
//!
//! Everything is a relaxed atomic in a fixed table (routes and codes are known in advance), so
//! counting costs a few uncontended additions per request and no lock.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The routes counted separately; anything else is `other`.
pub const ROUTES: [&str; 10] = [
    "/v1/evaluate",
    "/v1/enroll",
    "/v1/check-fields",
    "/v1/rules",
    "/v1/admin/reload",
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "other",
];

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 14] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

/// Status classes counted per route.
const STATUSES: [u16; 11] = [200, 400, 401, 403, 404, 405, 409, 413, 422, 500, 503];

#[derive(Default)]
struct Route {
    /// By index in [`STATUSES`]; the last slot counts any other status.
    statuses: [AtomicU64; STATUSES.len() + 1],
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    /// Total latency in microseconds.
    sum_us: AtomicU64,
}

#[derive(Default)]
pub struct Metrics {
    routes: [Route; ROUTES.len()],
    decisions: [AtomicU64; 3],
    record_errors: AtomicU64,
    enrolled: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    /// By error code (see `api::Code`), in the order of `api::Code::ALL`.
    errors: [AtomicU64; super::api::Code::ALL.len()],
    in_flight: AtomicU64,
}

impl Metrics {
    pub fn route_index(path: &str) -> usize {
        ROUTES.iter().position(|r| *r == path).unwrap_or(ROUTES.len() - 1)
    }

    pub fn request(&self, route: usize, status: u16, seconds: f64) {
        let Some(r) = self.routes.get(route) else { return };
        let slot = STATUSES.iter().position(|s| *s == status).unwrap_or(STATUSES.len());
        if let Some(c) = r.statuses.get(slot) {
            c.fetch_add(1, Relaxed);
        }
        r.count.fetch_add(1, Relaxed);
        r.sum_us.fetch_add((seconds * 1e6) as u64, Relaxed);
        if let Some(b) = BUCKETS.iter().position(|b| seconds <= *b).and_then(|i| r.buckets.get(i)) {
            b.fetch_add(1, Relaxed);
        }
    }

    pub fn decision(&self, d: kensa::Decision) {
        let i = match d {
            kensa::Decision::Accept => 0,
            kensa::Decision::Review => 1,
            kensa::Decision::Reject => 2,
        };
        if let Some(c) = self.decisions.get(i) {
            c.fetch_add(1, Relaxed);
        }
    }

    pub fn record_error(&self) {
        self.record_errors.fetch_add(1, Relaxed);
    }

    pub fn enrolled(&self) {
        self.enrolled.fetch_add(1, Relaxed);
    }

    pub fn reload(&self, ok: bool) {
        if ok { &self.reloads_ok } else { &self.reloads_failed }.fetch_add(1, Relaxed);
    }

    pub fn error(&self, code: super::api::Code) {
        if let Some(c) = super::api::Code::ALL.iter().position(|c| *c == code).and_then(|i| self.errors.get(i)) {
            c.fetch_add(1, Relaxed);
        }
    }

    pub fn enter(&self) {
        self.in_flight.fetch_add(1, Relaxed);
    }

    pub fn leave(&self) {
        self.in_flight.fetch_sub(1, Relaxed);
    }

    /// The Prometheus text exposition of everything counted, with the current rules revision.
    pub fn render(&self, revision: &str, ready: bool) -> String {
        let mut out = String::with_capacity(8192);
        let w = &mut out;
        help(w, "kensa_http_requests_total", "counter", "HTTP requests answered, by route and status.");
        for (route, r) in ROUTES.iter().zip(&self.routes) {
            for (i, c) in r.statuses.iter().enumerate() {
                let n = c.load(Relaxed);
                if n == 0 {
                    continue;
                }
                let status = STATUSES.get(i).map_or_else(|| String::from("other"), u16::to_string);
                let _ = writeln!(w, "kensa_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}");
            }
        }
        help(w, "kensa_http_request_duration_seconds", "histogram", "Time from a request's arrival to its answer.");
        for (route, r) in ROUTES.iter().zip(&self.routes) {
            let count = r.count.load(Relaxed);
            if count == 0 {
                continue;
            }
            let mut cumulative = 0;
            for (le, b) in BUCKETS.iter().zip(&r.buckets) {
                cumulative += b.load(Relaxed);
                let _ = writeln!(
                    w,
                    "kensa_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(w, "kensa_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}");
            let sum = r.sum_us.load(Relaxed) as f64 / 1e6;
            let _ = writeln!(w, "kensa_http_request_duration_seconds_sum{{route=\"{route}\"}} {sum}");
            let _ = writeln!(w, "kensa_http_request_duration_seconds_count{{route=\"{route}\"}} {count}");
        }
        help(w, "kensa_decisions_total", "counter", "Records judged, by decision.");
        for (name, c) in ["accept", "review", "reject"].iter().zip(&self.decisions) {
            let _ = writeln!(w, "kensa_decisions_total{{decision=\"{name}\"}} {}", c.load(Relaxed));
        }
        help(
            w,
            "kensa_record_errors_total",
            "counter",
            "Records that could not be judged (422 or an error item in a batch).",
        );
        let _ = writeln!(w, "kensa_record_errors_total {}", self.record_errors.load(Relaxed));
        help(w, "kensa_enrolled_total", "counter", "Records stored in the registry by /v1/enroll.");
        let _ = writeln!(w, "kensa_enrolled_total {}", self.enrolled.load(Relaxed));
        help(w, "kensa_reloads_total", "counter", "Rule reloads (SIGHUP or /v1/admin/reload), by result.");
        let _ = writeln!(w, "kensa_reloads_total{{result=\"ok\"}} {}", self.reloads_ok.load(Relaxed));
        let _ = writeln!(w, "kensa_reloads_total{{result=\"failed\"}} {}", self.reloads_failed.load(Relaxed));
        help(w, "kensa_errors_total", "counter", "Error answers, by their `code`.");
        for (code, c) in super::api::Code::ALL.iter().zip(&self.errors) {
            let _ = writeln!(w, "kensa_errors_total{{code=\"{}\"}} {}", code.as_str(), c.load(Relaxed));
        }
        help(w, "kensa_requests_in_flight", "gauge", "Requests being answered now.");
        let _ = writeln!(w, "kensa_requests_in_flight {}", self.in_flight.load(Relaxed));
        help(
            w,
            "kensa_ready",
            "gauge",
            "1 when the service answers /v1 requests (rules and registry open, not shutting down).",
        );
        let _ = writeln!(w, "kensa_ready {}", u8::from(ready));
        help(w, "kensa_rules_info", "gauge", "The rules revision decisions are judged under now.");
        let _ = writeln!(w, "kensa_rules_info{{revision=\"{revision}\"}} 1");
        out
    }
}

fn help(w: &mut String, name: &str, kind: &str, text: &str) {
    let _ = writeln!(w, "# HELP {name} {text}\n# TYPE {name} {kind}");
}
