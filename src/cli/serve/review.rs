//! The review routes: the queue of records sent to review, one decision with everything the
//! reviewer compares, and the reviewer's mark, appended to the decision log.
//!
//! The queue is read from the decision log (the current file and its rotated ones) and from the
//! files given with `--review-from` (another server's decision log, or the JSONL verdicts of
//! `kensa eval`), on each request: the log is the single record of what was decided and what a
//! reviewer made of it. A mark is a decision-log line of its own (`"route": "review"`) naming
//! the decision it reviews, never an edit of an earlier line.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{Path as UrlPath, Request, State as Shared};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use super::api::{ApiError, Code, State, json_response, read_json, rfc3339};
use super::openapi::{ErrorBody, ReviewMark};

/// The most decisions the queue lists (newest first); the counts cover every one read.
const QUEUE_MAX: usize = 500;

/// The files the review queue reads, oldest first: each decision log's rotated files
/// (`FILE.N` … `FILE.1`) and itself, then the `--review-from` files.
fn sources(state: &State) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some((path, keep)) = &state.config.decision_log {
        for n in (1..=*keep).rev() {
            let mut rotated = path.clone().into_os_string();
            rotated.push(format!(".{n}"));
            out.push(PathBuf::from(rotated));
        }
        out.push(path.clone());
    }
    out.extend(state.config.review_from.iter().cloned());
    out
}

/// Every entry of the sources, oldest first. A line that is not a JSON object is skipped; a
/// verdict line of `kensa eval` (no `decision_id`) is named by its file and line.
fn entries(paths: &[PathBuf]) -> Vec<Value> {
    let mut out = Vec::new();
    for path in paths {
        let Ok(file) = std::fs::File::open(path) else { continue };
        for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
            let Ok(line) = line else { break };
            let Ok(Value::Object(mut m)) = serde_json::from_str::<Value>(&line) else { continue };
            if !m.contains_key("decision_id") {
                if !m.contains_key("decision") {
                    continue;
                }
                // A verdict as `kensa eval` writes it.
                let verdict = Value::Object(std::mem::take(&mut m));
                m.insert(String::from("decision_id"), Value::from(format!("{}:{}", name_of(path), n + 1)));
                m.insert(String::from("route"), Value::from("eval"));
                m.insert(String::from("verdict"), verdict);
            }
            out.push(Value::Object(m));
        }
    }
    out
}

/// The member at a JSON pointer (`/verdict/findings`), `null` when there is none.
fn at<'v>(v: &'v Value, pointer: &str) -> &'v Value {
    v.pointer(pointer).unwrap_or(&Value::Null)
}

fn name_of(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Every entry of the decision log and the `--review-from` files, read on the blocking pool;
/// `no_decision_log` when the service has neither.
async fn read_log(state: &State) -> Result<Vec<Value>, ApiError> {
    let paths = sources(state);
    if paths.is_empty() {
        return Err(no_log());
    }
    tokio::task::spawn_blocking(move || entries(&paths)).await.map_err(|_| ApiError::internal())
}

/// The rules of a decision's findings that sent it to review.
fn review_rules(entry: &Value) -> Vec<String> {
    let findings = at(entry, "/verdict/findings").as_array().map(Vec::as_slice).unwrap_or_default();
    let mut rules: Vec<String> = findings
        .iter()
        .filter(|f| at(f, "/severity") == "review")
        .filter_map(|f| at(f, "/rule").as_str().map(str::to_string))
        .collect();
    rules.dedup();
    rules
}

/// The decisions sent to review, newest first (at most 500), each with the rules that sent it
/// and the reviewer's mark if it has one; the count of decisions per rule. Read from the
/// decision log and the `--review-from` files.
#[utoipa::path(
    get,
    path = "/v1/review-queue",
    params(("rule" = Option<String>, Query, description = "Only the decisions a finding of this rule sent to review.")),
    responses(
        (status = 200, description = "`{\"total\", \"items\": [{\"decision_id\", \"time\", \"id\", \"score\", \"rules\", \"related\", \"reviewed\"}], \"counts\": {rule: n}}`", body = Object),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 409, description = "`no_decision_log`", body = ErrorBody),
    )
)]
pub async fn queue(Shared(state): Shared<Arc<State>>, req: Request) -> Result<Response, ApiError> {
    let rule = query_value(&req, "rule");
    let all = read_log(&state).await?;
    let mut marks: BTreeMap<String, Value> = BTreeMap::new();
    for e in all.iter().filter(|e| at(e, "/route") == "review") {
        if let Some(of) = at(e, "/reviews").as_str() {
            marks.insert(of.to_string(), e.clone());
        }
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut items = Vec::new();
    let mut total = 0;
    for e in all.iter().rev().filter(|e| at(e, "/verdict/decision") == "review") {
        let rules = review_rules(e);
        for r in &rules {
            *counts.entry(r.clone()).or_default() += 1;
        }
        if rule.as_ref().is_some_and(|want| !rules.contains(want)) {
            continue;
        }
        total += 1;
        if items.len() < QUEUE_MAX {
            let id = at(e, "/decision_id").as_str().unwrap_or("");
            let mark = marks.get(id);
            items.push(serde_json::json!({
                "decision_id": id,
                "time": at(e, "/time"),
                "route": at(e, "/route"),
                "id": at(e, "/verdict/id"),
                "score": at(e, "/verdict/score"),
                "rules": rules,
                "related": at(e, "/verdict/findings").as_array().map(|fs| {
                    fs.iter().flat_map(|f| at(f, "/related").as_array().cloned().unwrap_or_default()).collect::<Vec<_>>()
                }),
                "reviewed": mark.map(|m| serde_json::json!({"action": at(m, "/action"), "time": at(m, "/time"), "caller": at(m, "/caller")})),
            }));
        }
    }
    let body = serde_json::json!({ "total": total, "items": items, "counts": counts });
    Ok(json_response(StatusCode::OK, body.to_string()))
}

/// One decision as logged (the masked record, the verdict, and for a record sent to review
/// the registry records it was compared with, side by side: `pairs`) and the reviewers' marks
/// on it (`reviews`).
#[utoipa::path(
    get,
    path = "/v1/decisions/{id}",
    params(("id" = String, Path, description = "The `decision_id` of an answer or of the decision log.")),
    responses(
        (status = 200, description = "The decision-log entry, with `reviews`", body = Object),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such decision in the log", body = ErrorBody),
        (status = 409, description = "`no_decision_log`", body = ErrorBody),
    )
)]
pub async fn decision(Shared(state): Shared<Arc<State>>, UrlPath(id): UrlPath<String>) -> Result<Response, ApiError> {
    let all = read_log(&state).await?;
    let Some(entry) = all.iter().rev().find(|e| at(e, "/decision_id") == id.as_str() && at(e, "/route") != "review")
    else {
        return Err(unknown_decision(&id));
    };
    let marks: Vec<&Value> =
        all.iter().filter(|e| at(e, "/route") == "review" && at(e, "/reviews") == id.as_str()).collect();
    let mut body = entry.clone();
    if let Value::Object(m) = &mut body {
        m.insert(String::from("reviews"), Value::from(marks.into_iter().cloned().collect::<Vec<_>>()));
    }
    Ok(json_response(StatusCode::OK, body.to_string()))
}

/// What a reviewer decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Action {
    /// A person not yet enrolled: accept the record as new.
    NewPerson,
    /// The same person as a registry record (`same_as`).
    SamePerson,
    /// Refuse the record.
    Reject,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::NewPerson => "new_person",
            Action::SamePerson => "same_person",
            Action::Reject => "reject",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Mark {
    action: Action,
    note: Option<String>,
    same_as: Option<String>,
}

/// The longest reviewer's note kept, in characters.
const NOTE_MAX: usize = 2000;

/// A reviewer's mark on a decision: `{"action": "new_person"|"same_person"|"reject", "note":
/// "…", "same_as": "P001398"}` (`same_as` for `same_person`), appended to the decision log as a
/// line of its own (`"route": "review"`, `"reviews": ID`).
#[utoipa::path(
    post,
    path = "/v1/decisions/{id}/review",
    params(("id" = String, Path, description = "The `decision_id` reviewed.")),
    request_body(content = ReviewMark, content_type = "application/json"),
    responses(
        (status = 200, description = "`{\"review_id\", \"reviews\", \"action\"}`", body = Object),
        (status = 400, description = "`unreadable_json`, `bad_request`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such decision in the log", body = ErrorBody),
        (status = 409, description = "`no_decision_log`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    )
)]
pub async fn mark(
    Shared(state): Shared<Arc<State>>,
    UrlPath(id): UrlPath<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let caller = super::api::caller_of(&req);
    let body = read_json(&state, req).await?;
    let mark: Mark = serde_json::from_value(body).map_err(|e| {
        ApiError::new(
            Code::BadRequest,
            format!("a review is {{\"action\": \"new_person\"|\"same_person\"|\"reject\", \"note\": \"…\", \"same_as\": \"ID\"}}: {e}"),
        )
    })?;
    let note = mark.note.unwrap_or_default();
    if note.chars().count() > NOTE_MAX {
        return Err(ApiError::new(Code::BadRequest, format!("the note is longer than {NOTE_MAX} characters")));
    }
    if mark.action == Action::SamePerson && mark.same_as.as_deref().is_none_or(|s| s.trim().is_empty()) {
        return Err(ApiError::new(Code::BadRequest, "`same_person` needs `same_as`: the id of the registry record"));
    }
    let Some(log) = &state.log else { return Err(no_log()) };
    let known =
        read_log(&state).await?.iter().any(|e| at(e, "/decision_id") == id.as_str() && at(e, "/route") != "review");
    if !known {
        return Err(unknown_decision(&id));
    }
    let review_id = state.next_decision_id();
    let entry = serde_json::json!({
        "decision_id": review_id,
        "time": rfc3339(SystemTime::now()),
        "rules_revision": state.engine.load().revision(),
        "route": "review",
        "caller": caller,
        "reviews": id,
        "action": mark.action.as_str(),
        "same_as": mark.same_as,
        "note": note,
    });
    log.append(entry.to_string());
    let body = serde_json::json!({ "review_id": review_id, "reviews": id, "action": mark.action.as_str() });
    Ok(json_response(StatusCode::OK, body.to_string()))
}

/// The value of `name` in the query string, percent-decoded (`+` is a space).
fn query_value(req: &Request, name: &str) -> Option<String> {
    let query = req.uri().query()?;
    let raw = query.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == name)?.1;
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |at: usize| bytes.get(at).and_then(|c| (*c as char).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned()).filter(|s| !s.is_empty())
}

fn no_log() -> ApiError {
    ApiError::new(
        Code::NoDecisionLog,
        "this service keeps no decision log to review from: start it with `--decision-log FILE` (or `--review-from FILE`)",
    )
}

fn unknown_decision(id: &str) -> ApiError {
    let shown: String = id.chars().take(80).collect();
    ApiError::new(Code::NotFound, format!("no decision `{shown}` in the decision log"))
}
