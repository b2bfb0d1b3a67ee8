//! The routes of `kensa serve`, the state they share, and the middleware every request passes.
//!
//! Every answer is JSON (but `/metrics`, which is Prometheus text) and carries the header
//! `kensa-rules-revision`. Every error is `{"code": …, "message": …}` with a stable `code`
//! ([`Code`]); nothing of a panic or an internal error reaches the caller beyond `internal`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State as Shared};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use kensa::registry::{Registry, Store};
use kensa::{Engine, RecordError, SharedEngine, Verdict};
use serde_json::Value;

use super::super::output::json_with;
use super::Config;
use super::auth::{Caller, Tokens};
use super::decision_log::DecisionLog;
use super::metrics::Metrics;
use super::openapi::{
    EnrollRecord, Enrolled, ErrorBody, EvaluateAnswer, EvaluateBody, FieldCheck, Reloaded, RulesAnswer, Status,
};

/// The stable error codes of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    UnreadableJson,
    BadRequest,
    Unauthorized,
    Forbidden,
    ReadOnly,
    NotFound,
    MethodNotAllowed,
    NoRegistry,
    KeysChanged,
    BodyTooLarge,
    TooManyRecords,
    UnjudgeableRecord,
    RulesDoNotCompile,
    TokensUnreadable,
    Internal,
    NotReady,
    Overloaded,
    Timeout,
    RegistryUnavailable,
    NoDecisionLog,
}

impl Code {
    pub const ALL: [Code; 20] = [
        Code::UnreadableJson,
        Code::BadRequest,
        Code::Unauthorized,
        Code::Forbidden,
        Code::ReadOnly,
        Code::NotFound,
        Code::MethodNotAllowed,
        Code::NoRegistry,
        Code::KeysChanged,
        Code::BodyTooLarge,
        Code::TooManyRecords,
        Code::UnjudgeableRecord,
        Code::RulesDoNotCompile,
        Code::TokensUnreadable,
        Code::Internal,
        Code::NotReady,
        Code::Overloaded,
        Code::Timeout,
        Code::RegistryUnavailable,
        Code::NoDecisionLog,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::UnreadableJson => "unreadable_json",
            Code::BadRequest => "bad_request",
            Code::Unauthorized => "unauthorized",
            Code::Forbidden => "forbidden",
            Code::ReadOnly => "read_only",
            Code::NotFound => "not_found",
            Code::MethodNotAllowed => "method_not_allowed",
            Code::NoRegistry => "no_registry",
            Code::KeysChanged => "keys_changed",
            Code::BodyTooLarge => "body_too_large",
            Code::TooManyRecords => "too_many_records",
            Code::UnjudgeableRecord => "unjudgeable_record",
            Code::RulesDoNotCompile => "rules_do_not_compile",
            Code::TokensUnreadable => "tokens_unreadable",
            Code::Internal => "internal",
            Code::NotReady => "not_ready",
            Code::Overloaded => "overloaded",
            Code::Timeout => "timeout",
            Code::RegistryUnavailable => "registry_unavailable",
            Code::NoDecisionLog => "no_decision_log",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Code::UnreadableJson | Code::BadRequest => StatusCode::BAD_REQUEST,
            Code::Unauthorized => StatusCode::UNAUTHORIZED,
            Code::Forbidden | Code::ReadOnly => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::NoRegistry | Code::KeysChanged | Code::NoDecisionLog => StatusCode::CONFLICT,
            Code::BodyTooLarge | Code::TooManyRecords => StatusCode::PAYLOAD_TOO_LARGE,
            Code::UnjudgeableRecord | Code::RulesDoNotCompile | Code::TokensUnreadable => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Code::NotReady | Code::Overloaded | Code::Timeout | Code::RegistryUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }
}

/// An error answer: `{"code": …, "message": …}` and, for rules that do not compile, their
/// diagnostics.
#[derive(Debug)]
pub struct ApiError {
    code: Code,
    message: String,
    diagnostics: Option<String>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into(), diagnostics: None }
    }

    /// A failure inside kensa: the caller learns no more than that (the panic hook has written
    /// the masked report to the server's stderr).
    pub fn internal() -> ApiError {
        ApiError::new(Code::Internal, "kensa failed on this request; it has been reported in the server's log")
    }

    fn body(&self) -> Value {
        let mut m = serde_json::Map::new();
        m.insert(String::from("code"), Value::from(self.code.as_str()));
        m.insert(String::from("message"), Value::from(self.message.as_str()));
        if let Some(d) = &self.diagnostics {
            m.insert(String::from("diagnostics"), Value::from(d.as_str()));
        }
        Value::Object(m)
    }
}

impl From<RecordError> for ApiError {
    fn from(e: RecordError) -> ApiError {
        let code = match e {
            RecordError::Registry(_) => Code::RegistryUnavailable,
            RecordError::TimeLimit(_) => Code::Timeout,
            _ => Code::UnjudgeableRecord,
        };
        ApiError::new(code, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = json_response(self.code.status(), self.body().to_string());
        r.extensions_mut().insert(self.code);
        if self.code == Code::Unauthorized {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"kensa\""));
        }
        if self.code.status() == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        r
    }
}

pub(super) fn json_response(status: StatusCode, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// The registry as the server opened it.
pub enum Reg {
    /// Lookups and enrollments.
    Write(Box<dyn Store>),
    /// Lookups only (`--read-only`).
    Read(Box<dyn Registry>),
}

impl Reg {
    fn lookup(&self) -> &dyn Registry {
        match self {
            Reg::Write(s) => s.as_ref(),
            Reg::Read(r) => r.as_ref(),
        }
    }
}

/// What every request shares.
pub struct State {
    pub config: Config,
    pub engine: SharedEngine,
    /// Set once the registry is open (`--registry`); until then `/readyz` is 503.
    registry: OnceLock<Reg>,
    /// Why the registry is not open yet.
    registry_problem: RwLock<Option<String>>,
    tokens: RwLock<Option<Arc<Tokens>>>,
    pub log: Option<DecisionLog>,
    pub metrics: Metrics,
    permits: tokio::sync::Semaphore,
    draining: AtomicBool,
    /// Decision ids: this process's random part and a counter.
    id_prefix: String,
    next_id: AtomicU64,
}

impl State {
    pub fn new(config: Config, engine: Engine, tokens: Option<Tokens>, log: Option<DecisionLog>) -> State {
        let mut random = [0u8; 4];
        let _ = getrandom::fill(&mut random);
        State {
            permits: tokio::sync::Semaphore::new(config.concurrency),
            config,
            engine: SharedEngine::new(engine),
            registry: OnceLock::new(),
            registry_problem: RwLock::new(None),
            tokens: RwLock::new(tokens.map(Arc::new)),
            log,
            metrics: Metrics::default(),
            draining: AtomicBool::new(false),
            id_prefix: random.iter().map(|b| format!("{b:02x}")).collect(),
            next_id: AtomicU64::new(1),
        }
    }

    /// Rules compiled, the registry (if any) open, not shutting down.
    pub fn ready(&self) -> Result<(), String> {
        if self.draining.load(Ordering::Relaxed) {
            return Err(String::from("the service is shutting down"));
        }
        if self.config.registry.is_some() && self.registry.get().is_none() {
            let why = self.registry_problem.read().ok().and_then(|p| p.clone());
            return Err(match why {
                Some(w) => format!("the registry is not open yet: {w}"),
                None => String::from("the registry is being opened"),
            });
        }
        Ok(())
    }

    /// [`State::ready`] as the error answer of a `/v1` route.
    fn require_ready(&self) -> Result<(), ApiError> {
        self.ready().map_err(|m| ApiError::new(Code::NotReady, m))
    }

    fn tokens(&self) -> Option<Arc<Tokens>> {
        self.tokens.read().ok().and_then(|t| t.clone())
    }

    /// A new decision id (a reviewer's mark is logged under one too).
    pub(super) fn next_decision_id(&self) -> String {
        self.decision_id()
    }

    fn decision_id(&self) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        format!("{ms:012x}-{}-{n:08x}", self.id_prefix)
    }

    /// Compile the rules again and make them current when they compile and build the registry's
    /// keys as the current ones do; re-read the tokens file. Returns (previous, new) revision.
    pub fn reload(&self) -> Result<(String, String), ApiError> {
        let result = self.reload_inner();
        self.metrics.reload(result.is_ok());
        result
    }

    fn reload_inner(&self) -> Result<(String, String), ApiError> {
        let current = self.engine.load();
        let fresh = super::compile(&self.config).map_err(|e| ApiError {
            code: Code::RulesDoNotCompile,
            message: format!(
                "the rules do not compile ({} errors); the service keeps judging with revision {}",
                e.report().errors(),
                current.revision()
            ),
            diagnostics: Some(e.render()),
        })?;
        if self.config.registry.is_some() && fresh.key_version() != current.key_version() {
            return Err(ApiError::new(
                Code::KeysChanged,
                format!(
                    "the new rules build the registry's keys differently (a `block on` line, the schema or a table it uses changed), so they cannot judge against this registry; the service keeps revision {}. Stop the service, run `kensa registry rebuild` with the new rules, and start it again",
                    current.revision()
                ),
            ));
        }
        let tokens = match &self.config.tokens {
            Some(path) => Some(Tokens::read(path).map_err(|m| {
                ApiError::new(
                    Code::TokensUnreadable,
                    format!("{m}; the service keeps its rules (revision {}) and tokens", current.revision()),
                )
            })?),
            None => None,
        };
        let previous = current.revision().to_string();
        // The settings (strict, limits, today) come from the configuration, not the old engine.
        self.engine.store(fresh);
        if let (Some(t), Ok(mut slot)) = (tokens, self.tokens.write()) {
            *slot = Some(Arc::new(t));
        }
        Ok((previous, self.engine.load().revision().to_string()))
    }
}

/// Open the registry (retrying every few seconds while it cannot be opened); `/readyz` is 503
/// meanwhile.
fn open_registry(state: &State) {
    let Some(db) = &state.config.registry else { return };
    let mut announced = false;
    loop {
        let engine = state.engine.load();
        let path = std::path::Path::new(db);
        let opened = if !super::super::eval::is_database(path) {
            // A file of records (JSONL, JSON, YAML, CSV), held in memory: lookups only.
            super::super::eval::load_registry(&engine, path).map(Reg::Read)
        } else if state.config.read_only {
            super::super::eval::open_database_read(&engine, path).map(Reg::Read)
        } else {
            super::super::registry::open_write(&engine, db, None).map(Reg::Write)
        };
        match opened {
            Ok(r) => {
                let _ = state.registry.set(r);
                if let Ok(mut p) = state.registry_problem.write() {
                    *p = None;
                }
                say!("kensa serve: registry {} open; ready", kensa::registry::redact(db));
                return;
            }
            Err(msg) => {
                if !announced {
                    say!(
                        "error: cannot open the registry: {msg}; trying again every 5 s (/readyz answers 503 meanwhile)"
                    );
                    announced = true;
                }
                if let Ok(mut p) = state.registry_problem.write() {
                    *p = Some(msg);
                }
            }
        }
        if state.draining.load(Ordering::Relaxed) {
            return;
        }
        std::thread::sleep(Duration::from_secs(5));
    }
}

/// Serve until SIGTERM or Ctrl-C; the exit code.
pub async fn serve(
    state: Arc<State>,
    listener: std::net::TcpListener,
    tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
) -> u8 {
    use super::super::exit;
    let addr = listener.local_addr().ok();
    let handle = axum_server::Handle::new();
    let app = router(state.clone());
    {
        let state = state.clone();
        tokio::task::spawn_blocking(move || open_registry(&state));
    }
    tokio::spawn(signals(state.clone(), handle.clone()));
    let scheme = if tls.is_some() { "https" } else { "http" };
    let served = match tls {
        Some((cert, key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let config = match axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key).await {
                Ok(c) => c,
                Err(e) => {
                    say!("error: cannot use the TLS certificate `{}` and key `{}`: {e}", cert.display(), key.display());
                    return exit::UNUSABLE;
                }
            };
            announce(&state, scheme, addr);
            axum_server::from_tcp_rustls(listener, config)
                .handle(handle)
                .serve(app.into_make_service_with_connect_info::<SocketAddr>())
                .await
        }
        None => {
            announce(&state, scheme, addr);
            axum_server::from_tcp(listener)
                .handle(handle)
                .serve(app.into_make_service_with_connect_info::<SocketAddr>())
                .await
        }
    };
    match served {
        Ok(()) => {
            say!("kensa serve: stopped");
            exit::OK
        }
        Err(e) => {
            say!("error: the server stopped: {e}");
            exit::UNUSABLE
        }
    }
}

fn announce(state: &State, scheme: &str, addr: Option<SocketAddr>) {
    let addr = addr.map_or_else(|| String::from("?"), |a| a.to_string());
    say!(
        "kensa serve: listening on {scheme}://{addr} (rules revision {}; API description at /openapi.json)",
        state.engine.load().revision()
    );
}

/// SIGHUP reloads; SIGTERM and Ctrl-C stop taking connections, finish the requests in flight
/// (for at most the request timeout and a second), and end [`serve`].
async fn signals(state: Arc<State>, handle: axum_server::Handle) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut hup), Ok(mut term)) = (signal(SignalKind::hangup()), signal(SignalKind::terminate())) else {
        say!("error: cannot listen for signals: SIGHUP will not reload the rules");
        return;
    };
    loop {
        tokio::select! {
            _ = hup.recv() => {
                let state = state.clone();
                let result = tokio::task::spawn_blocking(move || state.reload()).await;
                match result {
                    Ok(Ok((old, new))) if old == new => say!("kensa serve: SIGHUP: rules reloaded; revision {new} (unchanged)"),
                    Ok(Ok((old, new))) => say!("kensa serve: SIGHUP: rules reloaded; revision {old} → {new}"),
                    Ok(Err(e)) => say!("error: SIGHUP: {}{}", e.message, e.diagnostics.map(|d| format!("\n{d}")).unwrap_or_default()),
                    Err(_) => say!("error: SIGHUP: the reload stopped unexpectedly"),
                }
            }
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    state.draining.store(true, Ordering::Relaxed);
    say!("kensa serve: shutting down: finishing the requests in flight");
    handle.graceful_shutdown(Some(state.config.timeout + Duration::from_secs(1)));
}

fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/v1/evaluate", post(evaluate))
        .route("/v1/enroll", post(enroll))
        .route("/v1/check-fields", post(check_fields))
        .route("/v1/rules", get(rules))
        .route("/v1/admin/reload", post(reload))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/v1/review-queue", get(super::review::queue))
        .route("/v1/decisions/{id}", get(super::review::decision))
        .route("/v1/decisions/{id}/review", post(super::review::mark))
        .merge(super::web::pages())
        .fallback(|| async { ApiError::new(Code::NotFound, "no such endpoint; /openapi.json lists them") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(Code::MethodNotAllowed, "this endpoint does not take this method; /openapi.json lists them")
        })
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| ApiError::internal().into_response()))
        .with_state(state)
}

/// Routes a token is not needed for, by flag.
fn open_route(state: &State, path: &str) -> bool {
    match path {
        "/healthz" | "/readyz" => state.config.open_health,
        "/metrics" => state.config.open_metrics,
        // The pages and their script hold no data: they call the API, with the clerk's token.
        p => super::web::is_page(p),
    }
}

/// Every request: authentication, a turn among `--concurrency`, the request timeout, the
/// revision header, and the metrics.
async fn guard(Shared(state): Shared<Arc<State>>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = Metrics::route_index(req.uri().path());
    let judged = req.uri().path().starts_with("/v1/");
    state.metrics.enter();
    let mut response = match authenticate(&state, &req) {
        Err(e) => e.into_response(),
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            let deadline = tokio::time::Instant::from_std(started) + state.config.timeout;
            let permit = if judged {
                match tokio::time::timeout(state.config.queue_wait, state.permits.acquire()).await {
                    Ok(Ok(p)) => Some(p),
                    _ => None,
                }
            } else {
                None
            };
            if judged && permit.is_none() {
                ApiError::new(
                    Code::Overloaded,
                    format!("{} requests are being judged; try again shortly", state.config.concurrency),
                )
                .into_response()
            } else {
                let answer = tokio::time::timeout_at(deadline, next.run(req)).await;
                drop(permit);
                answer.unwrap_or_else(|_| {
                    ApiError::new(
                        Code::Timeout,
                        format!(
                            "the request took longer than {} ms; an enrollment may still complete: ask again before enrolling the record anew",
                            state.config.timeout.as_millis()
                        ),
                    )
                    .into_response()
                })
            }
        }
    };
    if let Ok(v) = HeaderValue::from_str(state.engine.load().revision()) {
        response.headers_mut().insert("kensa-rules-revision", v);
    }
    if let Some(code) = response.extensions().get::<Code>() {
        state.metrics.error(*code);
    }
    state.metrics.request(route, response.status().as_u16(), started.elapsed().as_secs_f64());
    state.metrics.leave();
    response
}

fn authenticate(state: &State, req: &Request) -> Result<Caller, ApiError> {
    let path = req.uri().path();
    let Some(tokens) = state.tokens() else {
        // Loopback only (checked at start): whoever can connect is on this machine.
        return Ok(Caller { name: String::from("local"), admin: true });
    };
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    match presented.and_then(|t| tokens.caller(t)) {
        Some(c) => Ok(c.clone()),
        None if open_route(state, path) => Ok(Caller { name: String::from("anonymous"), admin: false }),
        None if presented.is_none() => {
            Err(ApiError::new(Code::Unauthorized, "this service needs a token: send `Authorization: Bearer TOKEN`"))
        }
        None => Err(ApiError::new(Code::Unauthorized, "the token is not known to this service")),
    }
}

/// The body as JSON, within `--max-body`. The content type is not checked (`curl -d` sends
/// form data's): the body must be JSON, whatever it is labelled.
pub(super) async fn read_json(state: &State, req: Request) -> Result<Value, ApiError> {
    let limit = state.config.max_body;
    let too_large = || {
        ApiError::new(
            Code::BodyTooLarge,
            format!("the body is larger than {limit} bytes (`--max-body`); send fewer records per request"),
        )
    };
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }
    let bytes = match Limited::new(req.into_body(), limit).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => return Err(too_large()),
        Err(e) => return Err(ApiError::new(Code::BadRequest, format!("the body could not be read: {e}"))),
    };
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::new(Code::UnreadableJson, format!("the body is not JSON: {e}")))
}

/// A yes/no query parameter: absent is no; `true`, `1`, `yes` (or the name alone) yes;
/// `false`, `0`, `no` no; anything else is an error naming it.
fn query_flag(req: &Request, name: &str) -> Result<bool, ApiError> {
    let mut value = false;
    for kv in req.uri().query().unwrap_or("").split('&').filter(|kv| !kv.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, "true"));
        if k != name {
            continue;
        }
        value = match v {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => {
                return Err(ApiError::new(
                    Code::BadRequest,
                    format!("`{name}` is `true` or `false`, not `{}`", v.chars().take(40).collect::<String>()),
                ));
            }
        };
    }
    Ok(value)
}

pub(super) fn caller_of(req: &Request) -> String {
    let name = req.extensions().get::<Caller>().map_or("local", |c| c.name.as_str());
    match req.extensions().get::<ConnectInfo<SocketAddr>>() {
        Some(ConnectInfo(peer)) => format!("{name}@{}", peer.ip()),
        None => name.to_string(),
    }
}

/// One entry of the decision log.
struct Logged<'a> {
    id: &'a str,
    route: &'a str,
    caller: &'a str,
    revision: &'a str,
    record: &'a Value,
    outcome: Result<&'a Verdict, &'a ApiError>,
    latency: Duration,
    enrolled: Option<bool>,
}

/// Count a decision (or a record that could not be judged) and append it to the decision log.
fn record_decision(state: &State, engine: &Engine, e: Logged<'_>) {
    match e.outcome {
        Ok(v) => state.metrics.decision(v.decision),
        Err(_) => state.metrics.record_error(),
    }
    if e.enrolled == Some(true) {
        state.metrics.enrolled();
    }
    let Some(log) = &state.log else { return };
    let mut m = serde_json::Map::new();
    m.insert(String::from("decision_id"), Value::from(e.id));
    m.insert(String::from("time"), Value::from(rfc3339(SystemTime::now())));
    m.insert(String::from("rules_revision"), Value::from(e.revision));
    m.insert(String::from("route"), Value::from(e.route));
    m.insert(String::from("caller"), Value::from(e.caller));
    m.insert(String::from("latency_ms"), Value::from((e.latency.as_secs_f64() * 1e3 * 1e3).round() / 1e3));
    m.insert(String::from("record"), engine.masked_record(e.record));
    match e.outcome {
        Ok(v) => {
            m.insert(String::from("verdict"), serde_json::to_value(v).unwrap_or(Value::Null));
            // A record sent to review beside registry records: what the reviewer will compare,
            // as the engine saw it now (`/review/{decision_id}`).
            if let Some(pairs) = review_pairs(state, engine, e.record, v) {
                m.insert(String::from("pairs"), pairs);
            }
        }
        Err(err) => {
            m.insert(String::from("error"), err.body());
        }
    }
    if let Some(enrolled) = e.enrolled {
        m.insert(String::from("enrolled"), Value::from(enrolled));
    }
    log.append(Value::Object(m).to_string());
}

/// The registry records a review verdict relates the record to, side by side with it; `None`
/// when the verdict is not `review` or names no registry record.
fn review_pairs(state: &State, engine: &Engine, record: &Value, v: &Verdict) -> Option<Value> {
    if v.decision != kensa::Decision::Review {
        return None;
    }
    let mut ids: Vec<String> = v.findings.iter().flat_map(|f| f.related.iter().cloned()).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return None;
    }
    let registry = state.registry.get().map(Reg::lookup)?;
    let pairs = engine.review_pairs(record, registry, &ids).ok()?;
    serde_json::to_value(pairs).ok()
}

/// `2026-12-02T06:29:51.123Z`.
pub(super) fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let date = kensa::Date::from_days(i32::try_from(secs / 86_400).unwrap_or(i32::MAX));
    let rem = secs % 86_400;
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        date.year(),
        date.month(),
        date.day(),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Judge `records` (all of one request) and log each decision; with a registry, on the
/// blocking pool.
async fn judge_all(
    state: &Arc<State>,
    records: Vec<Value>,
    explain: bool,
    caller: String,
) -> Result<(Vec<(Value, Result<(Verdict, String), ApiError>)>, String), ApiError> {
    let engine = state.engine.load();
    let work = {
        let state = state.clone();
        move || {
            let revision = engine.revision().to_string();
            let registry = state.registry.get().map(Reg::lookup);
            let mut out = Vec::with_capacity(records.len());
            for record in records {
                let started = Instant::now();
                let outcome = super::super::eval::judge(&engine, registry, &record, explain).map_err(ApiError::from);
                let id = state.decision_id();
                record_decision(
                    &state,
                    &engine,
                    Logged {
                        id: &id,
                        route: "evaluate",
                        caller: &caller,
                        revision: &revision,
                        record: &record,
                        outcome: outcome.as_ref(),
                        latency: started.elapsed(),
                        enrolled: None,
                    },
                );
                out.push((record, outcome.map(|v| (v, id))));
            }
            (out, revision)
        }
    };
    if state.registry.get().is_some() {
        tokio::task::spawn_blocking(work).await.map_err(|_| ApiError::internal())
    } else {
        Ok(work())
    }
}

/// Judge one record, or a batch `{"records": [...]}` (each record on its own; a record that
/// cannot be judged is an error item in its place). With `--registry`, the rules about enrolled
/// residents compare it with the registry. Every decision is appended to the decision log.
#[utoipa::path(
    post,
    path = "/v1/evaluate",
    request_body(content = EvaluateBody, content_type = "application/json"),
    params(("explain" = Option<bool>, Query, description = "Add what every rule did (`trace`).")),
    responses(
        (status = 200, description = "The verdict (or the batch's verdicts)", body = EvaluateAnswer),
        (status = 400, description = "`unreadable_json`, `bad_request`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 413, description = "`body_too_large`, `too_many_records`", body = ErrorBody),
        (status = 422, description = "`unjudgeable_record`: not an object, a value too large, an unknown field with `--strict`", body = ErrorBody),
        (status = 503, description = "`not_ready`, `overloaded`, `timeout`, `registry_unavailable`", body = ErrorBody),
    )
)]
pub async fn evaluate(Shared(state): Shared<Arc<State>>, req: Request) -> Result<Response, ApiError> {
    state.require_ready()?;
    let explain = query_flag(&req, "explain")?;
    let caller = caller_of(&req);
    let body = read_json(&state, req).await?;
    let (records, batch) = match body {
        Value::Object(mut m) if m.contains_key("records") => {
            if m.len() != 1 {
                return Err(ApiError::new(
                    Code::BadRequest,
                    "a batch is `{\"records\": [...]}` with nothing else beside `records`",
                ));
            }
            match m.remove("records") {
                Some(Value::Array(list)) => (list, true),
                _ => return Err(ApiError::new(Code::BadRequest, "`records` must be a list of records")),
            }
        }
        other => (vec![other], false),
    };
    if records.len() > state.config.max_records {
        return Err(ApiError::new(
            Code::TooManyRecords,
            format!("{} records in one request; at most {} (`--max-records`)", records.len(), state.config.max_records),
        ));
    }
    let (judged, revision) = judge_all(&state, records, explain, caller).await?;
    if !batch {
        let Some((_, outcome)) = judged.into_iter().next() else {
            return Err(ApiError::new(Code::Internal, "no record was judged"));
        };
        let (verdict, id) = outcome?;
        let body = json_with(&verdict, &[("decision_id", Value::from(id)), ("rules_revision", Value::from(revision))]);
        return Ok(json_response(StatusCode::OK, body));
    }
    let mut body = String::with_capacity(256 * judged.len() + 64);
    body.push_str("{\"rules_revision\":");
    body.push_str(&Value::from(revision).to_string());
    body.push_str(",\"results\":[");
    for (i, (_, outcome)) in judged.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        match outcome {
            Ok((v, id)) => body.push_str(&json_with(v, &[("decision_id", Value::from(id.as_str()))])),
            Err(e) => body.push_str(&e.body().to_string()),
        }
    }
    body.push_str("]}");
    Ok(json_response(StatusCode::OK, body))
}

/// Judge one record against the registry and store it when it is accepted, in one
/// transaction: two windows enrolling the same person at once store one record.
#[utoipa::path(
    post,
    path = "/v1/enroll",
    request_body(content = EnrollRecord, content_type = "application/json"),
    responses(
        (status = 200, description = "The verdict and whether the record was stored", body = Enrolled),
        (status = 400, description = "`unreadable_json`, `bad_request`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`read_only`", body = ErrorBody),
        (status = 409, description = "`no_registry`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`unjudgeable_record`", body = ErrorBody),
        (status = 503, description = "`not_ready`, `overloaded`, `timeout`, `registry_unavailable`", body = ErrorBody),
    )
)]
pub async fn enroll(Shared(state): Shared<Arc<State>>, req: Request) -> Result<Response, ApiError> {
    state.require_ready()?;
    let caller = caller_of(&req);
    if state.config.registry.is_none() {
        return Err(ApiError::new(
            Code::NoRegistry,
            "this service has no registry to enroll into; start it with `--registry DB`",
        ));
    }
    if matches!(state.registry.get(), Some(Reg::Read(_))) {
        return Err(ApiError::new(
            Code::ReadOnly,
            "this service opened its registry for lookups only (`--read-only`, or a file of records rather than a database)",
        ));
    }
    let record = read_json(&state, req).await?;
    if record.get("records").is_some() {
        return Err(ApiError::new(
            Code::BadRequest,
            "`/v1/enroll` takes one record at a time (one transaction each), and a record has no member `records`",
        ));
    }
    let engine = state.engine.load();
    let st = state.clone();
    let done = tokio::task::spawn_blocking(move || {
        let Some(Reg::Write(store)) = st.registry.get() else {
            return Err(ApiError::new(Code::NotReady, "the registry is not open"));
        };
        let started = Instant::now();
        let revision = engine.revision().to_string();
        let id = st.decision_id();
        let outcome = engine.enroll(record.clone(), store.as_ref()).map_err(ApiError::from);
        record_decision(
            &st,
            &engine,
            Logged {
                id: &id,
                route: "enroll",
                caller: &caller,
                revision: &revision,
                record: &record,
                outcome: outcome.as_ref().map(|e| &e.verdict),
                latency: started.elapsed(),
                enrolled: outcome.as_ref().ok().map(|e| e.enrolled),
            },
        );
        outcome.map(|e| (e, id, revision))
    })
    .await
    .map_err(|_| ApiError::internal())?;
    let (e, id, revision) = done?;
    let body = json_with(
        &e.verdict,
        &[
            ("enrolled", Value::from(e.enrolled)),
            ("already_stored", Value::from(e.already_stored)),
            ("decision_id", Value::from(id)),
            ("rules_revision", Value::from(revision)),
        ],
    );
    Ok(json_response(StatusCode::OK, body))
}

/// A form being filled in: judge the fields it has so far. Rules whose fields are all present
/// run; a rule that needs a field not filled yet is listed under `pending`, not reported.
/// Nothing is logged (the decision is the final `/v1/evaluate` or `/v1/enroll`).
#[utoipa::path(
    post,
    path = "/v1/check-fields",
    request_body(content = Object, content_type = "application/json", description = "The fields filled so far (any subset of a record)"),
    responses(
        (status = 200, description = "The findings on the fields filled, and the rules still waiting", body = FieldCheck),
        (status = 400, description = "`unreadable_json`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`unjudgeable_record`", body = ErrorBody),
        (status = 503, description = "`not_ready`, `overloaded`, `timeout`", body = ErrorBody),
    )
)]
pub async fn check_fields(Shared(state): Shared<Arc<State>>, req: Request) -> Result<Response, ApiError> {
    state.require_ready()?;
    let record = read_json(&state, req).await?;
    let engine = state.engine.load();
    let checked = engine.check_fields(&record)?;
    Ok(json_response(StatusCode::OK, json_with(&checked, &[("rules_revision", Value::from(engine.revision()))])))
}

/// The rules the service judges with: ids, titles, severities, the record schema as JSON
/// Schema, and the revision.
#[utoipa::path(
    get,
    path = "/v1/rules",
    responses(
        (status = 200, description = "The rule set", body = RulesAnswer),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
    )
)]
pub async fn rules(Shared(state): Shared<Arc<State>>) -> Response {
    let engine = state.engine.load();
    let body = serde_json::json!({
        "rules_revision": engine.revision(),
        "key_fingerprint": engine.fingerprint(),
        "rules": engine.rules_info(),
        "schema": engine.json_schema(),
    });
    json_response(StatusCode::OK, body.to_string())
}

/// Compile the rules again and judge with them from now on, when they compile (and build the
/// registry's keys as before); the tokens file is read again too. Needs an `admin` token.
#[utoipa::path(
    post,
    path = "/v1/admin/reload",
    responses(
        (status = 200, description = "The rules in use now", body = Reloaded),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the token has no `admin` permission", body = ErrorBody),
        (status = 409, description = "`keys_changed`: the registry would need rebuilding", body = ErrorBody),
        (status = 422, description = "`rules_do_not_compile`, `tokens_unreadable`: the previous rules and tokens stay", body = ErrorBody),
    )
)]
pub async fn reload(Shared(state): Shared<Arc<State>>, req: Request) -> Result<Response, ApiError> {
    if !req.extensions().get::<Caller>().is_some_and(|c| c.admin) {
        return Err(ApiError::new(
            Code::Forbidden,
            "reloading the rules needs a token with the `admin` permission (`kensa token NAME --admin`)",
        ));
    }
    let st = state.clone();
    let (previous, current) = tokio::task::spawn_blocking(move || st.reload())
        .await
        .map_err(|_| ApiError::new(Code::Internal, "the reload stopped unexpectedly"))??;
    say!("kensa serve: /v1/admin/reload: rules reloaded; revision {previous} → {current}");
    let body = serde_json::json!({
        "reloaded": true,
        "changed": previous != current,
        "previous_revision": previous,
        "rules_revision": current,
    });
    Ok(json_response(StatusCode::OK, body.to_string()))
}

/// The process is up.
#[utoipa::path(
    get,
    path = "/healthz",
    responses(
        (status = 200, description = "Up", body = Status),
        (status = 401, description = "`unauthorized` (with `--tokens`, unless `--open-health`)", body = ErrorBody),
    )
)]
pub async fn healthz() -> Response {
    json_response(StatusCode::OK, String::from("{\"status\":\"ok\"}"))
}

/// The service answers `/v1` requests: its registry is open and it is not shutting down.
#[utoipa::path(
    get,
    path = "/readyz",
    responses(
        (status = 200, description = "Ready", body = Status),
        (status = 401, description = "`unauthorized` (with `--tokens`, unless `--open-health`)", body = ErrorBody),
        (status = 503, description = "`not_ready`, with the reason", body = ErrorBody),
    )
)]
pub async fn readyz(Shared(state): Shared<Arc<State>>) -> Response {
    match state.ready() {
        Ok(()) => json_response(StatusCode::OK, String::from("{\"status\":\"ready\"}")),
        Err(m) => ApiError::new(Code::NotReady, m).into_response(),
    }
}

/// Counters in the Prometheus text format: requests by route and status, latency histograms,
/// decisions by outcome, reloads, errors by code.
#[utoipa::path(
    get,
    path = "/metrics",
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain"),
        (status = 401, description = "`unauthorized` (with `--tokens`, unless `--open-metrics`)", body = ErrorBody),
    )
)]
pub async fn metrics(Shared(state): Shared<Arc<State>>) -> Response {
    let text = state.metrics.render(state.engine.load().revision(), state.ready().is_ok());
    let mut r = Response::new(Body::from(text));
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    r
}

async fn openapi(Shared(state): Shared<Arc<State>>) -> Response {
    let open: Vec<&str> = ["/healthz", "/readyz", "/metrics"].into_iter().filter(|r| open_route(&state, r)).collect();
    let doc = super::openapi::document(&state.engine.load(), state.tokens().is_some(), &open);
    json_response(StatusCode::OK, doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_rfc3339_with_milliseconds() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_796_192_991_123);
        assert_eq!(rfc3339(t), "2026-12-02T06:29:51.123Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn every_code_has_a_distinct_name_and_an_error_status() {
        let mut names: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Code::ALL.len());
        assert!(Code::ALL.iter().all(|c| c.status().is_client_error() || c.status().is_server_error()));
    }
}
