//! `kensa serve`: the decision service that enrollment windows call while the clerk types.
//!
//! Pipeline: options → [`Config`] (checked before anything starts) → rules compiled (a rule set
//! that does not compile stops here) → the port bound and announced → the registry opened in
//! the background (`/readyz` says 503 until it is) → requests, each through authentication
//! ([`auth`]), a concurrency permit, the body limit and the per-request timeout ([`api`]) →
//! decisions appended to the decision log ([`decision_log`]) and counted ([`metrics`]).
//! `SIGHUP` or `POST /v1/admin/reload` compiles the rules again and swaps them only when they
//! compile ([`kensa::SharedEngine`]); `SIGTERM`/Ctrl-C stops taking connections, lets the
//! requests in flight finish, and flushes the decision log.
//!
//! axum on tokio because it is the mainstream Rust HTTP stack (hyper underneath, as in most
//! Rust services): HTTP/1.1 keep-alive, graceful shutdown and TLS through rustls (axum-server)
//! come with it, and the handlers stay plain async functions. The engine itself is synchronous:
//! a record without a registry is judged on the request's own task (microseconds, bounded by
//! the evaluation budget and `--timeout`); registry lookups and enrollments, which wait on a
//! database, run on tokio's blocking pool.

mod api;
mod auth;
mod decision_log;
mod metrics;
mod openapi;
mod review;
mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::args::{EvalLimits, count_in, parse_bytes, parse_duration, parse_today};
use super::exit;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The address and port to listen on. A non-loopback address (e.g. 0.0.0.0:8080) needs
    /// `--tokens`; port 0 picks a free port (the address is printed on standard error).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    listen: SocketAddr,
    /// Rule file or folder (default: the standard rule set compiled into kensa). Reloaded on
    /// SIGHUP and `POST /v1/admin/reload`.
    #[arg(long)]
    rules: Option<PathBuf>,
    /// The registry of enrolled residents: a database file (created when missing), a
    /// PostgreSQL server (`postgres://user@host/database`), or a JSONL, JSON, YAML or CSV file
    /// of records held in memory (lookups only). Without it, rules about enrolled residents are
    /// not applicable and `/v1/enroll` answers 409 `no_registry`.
    #[arg(long, value_name = "DB")]
    registry: Option<String>,
    /// Open the registry for lookups only: `/v1/enroll` answers 403 `read_only`.
    #[arg(long, requires = "registry")]
    read_only: bool,
    /// Bearer tokens (one `NAME sha256:HEX [admin]` line each; `kensa token NAME` makes one).
    /// Required unless the server listens on loopback only. Re-read on reload.
    #[arg(long, value_name = "FILE")]
    tokens: Option<PathBuf>,
    /// Answer `/healthz` and `/readyz` without a token (for a load balancer's probes).
    #[arg(long)]
    open_health: bool,
    /// Answer `/metrics` without a token (for a Prometheus scraper on a trusted network).
    #[arg(long)]
    open_metrics: bool,
    /// TLS certificate chain (PEM); with `--tls-key`, the server speaks HTTPS only.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM, PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Append every decision as one JSON line to FILE (`-`: standard output). Records are
    /// masked as in findings; the file is rotated by size.
    #[arg(long, value_name = "FILE")]
    decision_log: Option<PathBuf>,
    /// Rotate the decision log when it would grow past this size (`K`, `M`, `G` suffixes).
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes, default_value = "64M")]
    decision_log_size: usize,
    /// Rotated decision logs kept (`FILE.1` newest … `FILE.N` oldest); older ones are deleted.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = count_in(1..=1000))]
    decision_log_keep: usize,
    /// The largest request body accepted (`K`, `M` suffixes); a larger one is 413 `body_too_large`.
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes, default_value = "1M")]
    max_body: usize,
    /// The most records one `/v1/evaluate` request may carry; more is 413 `too_many_records`.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = count_in(1..=1_000_000))]
    max_records: usize,
    /// Requests judged at the same time (default: 4 per core); the others wait for a turn (up
    /// to `--queue-wait`). More does not judge faster: with a registry, every request judged at
    /// once holds a database connection and its cache (measured in docs/PERFORMANCE.md, W7).
    #[arg(long, value_name = "N", value_parser = count_in(1..=100_000))]
    concurrency: Option<usize>,
    /// How long a request waits for a turn when `--concurrency` requests are being judged; then
    /// it gets 503 `overloaded` (at most `--timeout`).
    #[arg(long, value_name = "TIME", value_parser = parse_duration, default_value = "1s")]
    queue_wait: Duration,
    /// The longest a request may take, waiting for its turn included (`500ms`, `2s`); then it
    /// gets 503 `timeout`. Also the time limit of judging each record.
    #[arg(long, value_name = "TIME", value_parser = parse_duration, default_value = "5s")]
    timeout: Duration,
    /// Threads answering requests (default: all cores).
    #[arg(long, value_name = "N", value_parser = count_in(1..=1024))]
    workers: Option<usize>,
    /// The date to use as today, e.g. 2026-11-27 (default: today in Japan, at each request).
    #[arg(long, value_parser = parse_today)]
    today: Option<kensa::Date>,
    /// Record fields that the schema does not know make the record an error (422).
    #[arg(long)]
    strict: bool,
    /// More decisions for the review queue (`/review`): a decision log of another server, or
    /// the JSONL output of `kensa eval`/`kensa enroll` (repeatable). Read on each request.
    #[arg(long, value_name = "FILE")]
    review_from: Vec<PathBuf>,
    #[command(flatten)]
    limits: EvalLimits,
}

/// What the server was told, checked.
pub struct Config {
    pub rules: Option<PathBuf>,
    pub registry: Option<String>,
    pub read_only: bool,
    pub tokens: Option<PathBuf>,
    pub open_health: bool,
    pub open_metrics: bool,
    pub max_body: usize,
    pub max_records: usize,
    pub concurrency: usize,
    pub queue_wait: Duration,
    pub timeout: Duration,
    pub today: Option<kensa::Date>,
    pub strict: bool,
    pub limits: kensa::Limits,
    /// The decision log (not `-`) and how many rotated files it keeps: the review queue's
    /// source, with `review_from`.
    pub decision_log: Option<(PathBuf, usize)>,
    pub review_from: Vec<PathBuf>,
}

pub fn run(args: Args) -> u8 {
    if super::show_pii() {
        return super::fail(
            "`kensa serve` always masks My Numbers and account numbers (in answers and in the decision log); run it without --show-pii",
        );
    }
    let loopback = args.listen.ip().is_loopback();
    if !loopback && args.tokens.is_none() {
        return super::fail(&format!(
            "`--listen {}` accepts connections from other machines, so callers must present a token: give `--tokens FILE` (make a token with `kensa token NAME >> FILE`), or listen on 127.0.0.1 behind a reverse proxy",
            args.listen
        ));
    }
    let mut limits = args.limits.limits();
    // A record is never judged for longer than a request may take.
    limits.eval_time = Some(limits.eval_time.map_or(args.timeout, |t| t.min(args.timeout)));
    let config = Config {
        rules: args.rules,
        registry: args.registry,
        read_only: args.read_only,
        tokens: args.tokens,
        open_health: args.open_health,
        open_metrics: args.open_metrics,
        max_body: args.max_body,
        max_records: args.max_records,
        concurrency: args
            .concurrency
            .unwrap_or_else(|| 4 * std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)),
        queue_wait: args.queue_wait.min(args.timeout),
        timeout: args.timeout,
        today: args.today,
        strict: args.strict,
        limits,
        decision_log: args.decision_log.clone().filter(|p| p.as_os_str() != "-").map(|p| (p, args.decision_log_keep)),
        review_from: args.review_from.clone(),
    };

    let engine = match compile(&config) {
        Ok(e) => e,
        Err(e) => {
            super::print_report(e.report());
            say!("error: the rules do not compile; fix the errors above (`kensa check` lists them)");
            return exit::UNUSABLE;
        }
    };
    engine.warm_up();
    let tokens = match &config.tokens {
        None => None,
        Some(path) => match auth::Tokens::read(path) {
            Ok(t) => Some(t),
            Err(msg) => return super::fail(&msg),
        },
    };
    let log = match &args.decision_log {
        None => None,
        Some(path) => {
            match decision_log::DecisionLog::open(path, args.decision_log_size as u64, args.decision_log_keep) {
                Ok(l) => Some(l),
                Err(msg) => return super::fail(&msg),
            }
        }
    };
    let listener = match std::net::TcpListener::bind(args.listen) {
        Ok(l) => l,
        Err(e) => return super::fail(&format!("cannot listen on {}: {e}", args.listen)),
    };
    if let Err(e) = listener.set_nonblocking(true) {
        return super::fail(&format!("cannot listen on {}: {e}", args.listen));
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(c), Some(k)) => Some((c.clone(), k.clone())),
        _ => None,
    };

    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all().thread_name("kensa-serve");
    if let Some(n) = args.workers {
        runtime.worker_threads(n);
    }
    let runtime = match runtime.build() {
        Ok(r) => r,
        Err(e) => return super::fail(&format!("cannot start the server's threads: {e}")),
    };
    let state = Arc::new(api::State::new(config, engine, tokens, log));
    let code = runtime.block_on(api::serve(state.clone(), listener, tls));
    // Every request has finished: write out what the decision log still holds.
    if let Some(Err(e)) = state.log.as_ref().map(decision_log::DecisionLog::close) {
        say!("error: the decision log could not be written completely: {e}");
        return exit::UNUSABLE;
    }
    code
}

/// The rule set as `config` asks for it: compiled, with the server's settings.
pub fn compile(config: &Config) -> Result<kensa::Engine, kensa::CompileError> {
    let engine = super::load_engine(&config.rules)?;
    let engine = engine.with_strict(config.strict).with_limits(config.limits).with_show_pii(false);
    Ok(match config.today {
        Some(t) => engine.with_today(t),
        None => engine,
    })
}

/// `kensa token NAME`: a new random bearer token for `--tokens`.
#[derive(clap::Args, Debug)]
pub struct TokenArgs {
    /// Who will use the token (a window, an application); shown as the caller in the decision log.
    name: String,
    /// The token may also reload the rules (`POST /v1/admin/reload`).
    #[arg(long)]
    admin: bool,
}

/// Print the token (once, on standard error) and the line for the tokens file (standard output,
/// so that `kensa token NAME >> tokens.txt` keeps only its hash).
pub fn token(args: TokenArgs) -> u8 {
    match auth::new_token(&args.name, args.admin) {
        Ok((token, line)) => {
            say!(
                "the token for `{}` (give it to the caller; it is shown only now, and the tokens file keeps only its hash):",
                args.name
            );
            say!("{token}");
            println!("{line}");
            exit::OK
        }
        Err(msg) => super::fail(&msg),
    }
}
