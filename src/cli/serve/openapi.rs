//! The OpenAPI 3.1 document at `/openapi.json`, generated from the route annotations in
//! [`super::api`] and the types below (utoipa), then completed with what only the running
//! service knows: the record schema of the rules it judges with (as JSON Schema, from
//! [`kensa::Engine::json_schema`]) and the list of error codes ([`super::api::Code::ALL`]).
//!
//! The types here describe the wire format; the answers themselves are written from the
//! library's `Verdict` and friends. `tests/serve.rs` checks real answers against this document
//! and CI runs schemathesis against the running service, so the two cannot drift apart.

#![allow(dead_code, reason = "these types describe the wire format for the OpenAPI document only")]

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// A record to judge (completed at run time: any object, or preferably a `ValidRecord`, the
/// schema of the rules the service judges with, as `GET /v1/rules` gives it).
#[derive(Serialize, ToSchema)]
pub struct Record(BTreeMap<String, Value>);

/// Several records judged in one request, each on its own.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    /// The records (`Record`), at most `--max-records` (1000 by default). Each item is judged on
    /// its own: an item that is not a JSON object gets an error object in its place in
    /// `results`, and the others are judged all the same.
    records: Vec<Value>,
}

/// A record to enroll (completed at run time: a `Record` whose id, if it has one, can be
/// stored: not blank, without spaces around it or control characters in it).
#[derive(Serialize, ToSchema)]
pub struct EnrollRecord(BTreeMap<String, Value>);

/// One record, or a batch `{"records": [...]}`.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum EvaluateBody {
    One(Record),
    Many(Batch),
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Accept,
    Review,
    Reject,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warn,
    Review,
    Reject,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Fired,
    Skipped,
    NotApplicable,
}

/// A reviewer's mark on a decision: `same_person` names the registry record (`same_as`).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum ReviewMark {
    Other(OtherMark),
    Same(SameMark),
}

/// A person not enrolled yet (`new_person`), or a record refused (`reject`).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OtherMark {
    action: OtherAction,
    /// The reviewer's note.
    #[schema(max_length = 2000)]
    note: Option<String>,
    same_as: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OtherAction {
    NewPerson,
    Reject,
}

/// The same person as the registry record `same_as`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SameMark {
    action: SameAction,
    /// The reviewer's note.
    #[schema(max_length = 2000)]
    note: Option<String>,
    /// The id of the registry record the person is (not blank).
    #[schema(pattern = r"\S")]
    same_as: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SameAction {
    SamePerson,
}

/// One problem found in a record.
#[derive(Serialize, ToSchema)]
pub struct Finding {
    /// The rule's id (`bank.holder_is_registrant`), or `schema.…`/`registry.…` for the
    /// engine's own checks.
    rule: String,
    severity: Severity,
    /// The score penalty of this finding.
    penalty: u32,
    /// The rule's message (Japanese, for the clerk), My Numbers and account numbers masked.
    message: String,
    /// The values that filled the message, by placeholder, masked as the message is: for an
    /// application that writes its own text.
    params: Option<BTreeMap<String, Value>>,
    /// Dotted paths of the fields concerned (`bank.holder_kana`), to mark them on a form.
    fields: Vec<String>,
    /// The values compared, labelled with the expression as written in the rule.
    evidence: BTreeMap<String, Value>,
    /// Ids of the registry records concerned.
    related: Vec<String>,
}

/// What one rule did (with `?explain=true`).
#[derive(Serialize, ToSchema)]
pub struct TraceEntry {
    rule: String,
    outcome: Outcome,
}

/// The judgement on one record.
#[derive(Serialize, ToSchema)]
pub struct Verdict {
    /// The record's id field, when it has one.
    id: Option<String>,
    decision: Decision,
    /// 100 minus the penalties of the findings, at least 0.
    score: u32,
    findings: Vec<Finding>,
    /// With `?explain=true`: what every rule did.
    trace: Option<Vec<TraceEntry>>,
}

/// A judged record of a batch.
#[derive(Serialize, ToSchema)]
pub struct BatchVerdict {
    #[serde(flatten)]
    verdict: Verdict,
    /// This decision's entry in the decision log.
    decision_id: String,
}

/// The judgement on one record, with the rules revision it was judged under.
#[derive(Serialize, ToSchema)]
pub struct Judged {
    #[serde(flatten)]
    verdict: Verdict,
    /// This decision's entry in the decision log.
    decision_id: String,
    /// The revision of the rules that judged it (`GET /v1/rules`).
    rules_revision: String,
}

/// An item of a batch's results: a verdict, or why that record could not be judged.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum BatchItem {
    Judged(BatchVerdict),
    Error(ErrorBody),
}

/// A batch's verdicts, in the order of its records.
#[derive(Serialize, ToSchema)]
pub struct BatchJudged {
    rules_revision: String,
    results: Vec<BatchItem>,
}

/// `/v1/evaluate`'s answer: one verdict, or a batch's.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum EvaluateAnswer {
    One(Judged),
    Many(BatchJudged),
}

/// The judgement on a record and what was done with it.
#[derive(Serialize, ToSchema)]
pub struct Enrolled {
    #[serde(flatten)]
    verdict: Verdict,
    /// The record was stored: it was accepted and its id was new.
    enrolled: bool,
    /// A record with this id (or, without an id, this content) was already stored.
    already_stored: bool,
    decision_id: String,
    rules_revision: String,
}

/// A rule that waits for fields a form has not filled yet.
#[derive(Serialize, ToSchema)]
pub struct PendingRule {
    rule: String,
    /// The fields it still needs (a group, when the whole group is absent); empty for the rules
    /// about enrolled residents, which need the whole record and are judged by `/v1/evaluate`.
    missing: Vec<String>,
}

/// A partly filled form, judged on the fields it has.
#[derive(Serialize, ToSchema)]
pub struct FieldCheck {
    #[serde(flatten)]
    verdict: Verdict,
    /// The rules not yet applicable.
    pending: Vec<PendingRule>,
    rules_revision: String,
}

/// A rule of the rule set.
#[derive(Serialize, ToSchema)]
pub struct RuleInfo {
    id: String,
    /// The rule's title, when it has one.
    title: Option<String>,
    /// What the rule does to a record when it fires.
    severity: Option<Severity>,
    /// The fields it concerns.
    fields: Vec<String>,
}

/// The rules the service judges with.
#[derive(Serialize, ToSchema)]
pub struct RulesAnswer {
    /// Changes with any edit of a rule file or table.
    rules_revision: String,
    /// Changes only when what the registry's keys depend on changes.
    key_fingerprint: String,
    rules: Vec<RuleInfo>,
    /// The record schema as JSON Schema (draft 2020-12).
    schema: BTreeMap<String, Value>,
}

#[derive(Serialize, ToSchema)]
pub struct Reloaded {
    reloaded: bool,
    /// The new revision differs from the previous one.
    changed: bool,
    previous_revision: String,
    rules_revision: String,
}

#[derive(Serialize, ToSchema)]
pub struct Status {
    /// `ok` (`/healthz`) or `ready` (`/readyz`).
    status: String,
}

/// An error answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable; one of the listed values.
    code: String,
    /// What went wrong and what to do, for a person.
    message: String,
    /// For `rules_do_not_compile`: the compiler's diagnostics.
    diagnostics: Option<String>,
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token from `kensa token NAME`; not needed when the service listens on loopback without `--tokens`."))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kensa",
        description = "検査: judges resident-registration records (accept / review / reject, with findings that explain themselves) before they are linked to the wrong person. Every answer carries the header `kensa-rules-revision`."
    ),
    paths(
        super::api::evaluate,
        super::api::enroll,
        super::api::check_fields,
        super::api::rules,
        super::api::reload,
        super::api::healthz,
        super::api::readyz,
        super::api::metrics,
        super::review::queue,
        super::review::decision,
        super::review::mark,
    ),
    components(schemas(Record, EnrollRecord, ErrorBody)),
    modifiers(&Security),
    security(("bearer" = []))
)]
struct ApiDoc;

/// The document as the service with `engine` serves it. `open` lists the routes answered
/// without a token; with `tokens` false (a loopback service without `--tokens`) none needs one.
pub fn document(engine: &kensa::Engine, tokens: bool, open: &[&str]) -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
    if let Some(root) = doc.as_object_mut().filter(|_| !tokens) {
        root.remove("security");
    }
    if tokens {
        for route in open {
            let op = doc.pointer_mut(&format!("/paths/{}/get", route.replace('/', "~1")));
            if let Some(op) = op.and_then(Value::as_object_mut) {
                op.insert(String::from("security"), Value::Array(Vec::new()));
            }
        }
    }
    if let Some(info) = doc.get_mut("info").and_then(Value::as_object_mut) {
        info.insert(String::from("version"), Value::from(env!("CARGO_PKG_VERSION")));
        info.insert(String::from("x-rules-revision"), Value::from(engine.revision()));
    }
    let schemas = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut);
    if let Some(schemas) = schemas {
        // Any object is judged (what the schema does not allow becomes findings such as
        // `schema.required`, not an error answer); `ValidRecord` is the shape that passes.
        let rules_schema = engine.json_schema();
        schemas.insert(String::from("EnrollRecord"), enroll_schema(engine, &rules_schema));
        schemas.insert(String::from("ValidRecord"), record_schema(rules_schema));
        schemas.insert(
            String::from("Record"),
            serde_json::json!({
                "description": "A record to judge: any JSON object (a batch is `{\"records\": [...]}`, so a record has no member `records`). A record in the shape of `ValidRecord`, the rules' schema, meets no `schema.*` finding; anything else is judged too, and what does not fit becomes findings (`schema.required`, `schema.type`, …).",
                "anyOf": [
                    {"$ref": "#/components/schemas/ValidRecord"},
                    {"type": "object", "not": {"required": ["records"]}}
                ]
            }),
        );
        let code = schemas.get_mut("ErrorBody").and_then(|e| e.pointer_mut("/properties/code"));
        if let Some(code) = code.and_then(Value::as_object_mut) {
            code.insert(String::from("enum"), super::api::Code::ALL.iter().map(|c| Value::from(c.as_str())).collect());
        }
    }
    doc
}

/// The rules' record schema as an OpenAPI 3.1 schema object (JSON Schema 2020-12 without the
/// document-level keywords).
fn record_schema(mut schema: Value) -> Value {
    if let Some(m) = schema.as_object_mut() {
        m.remove("$schema");
        m.remove("$id");
        // A record has no member `records`: that is a batch (`EvaluateBody` is one or the other).
        m.insert(String::from("not"), serde_json::json!({"required": ["records"]}));
    }
    schema
}

/// What `/v1/enroll` takes: a `Record` whose id can be stored (`kensa::registry::record_uid`):
/// text that is not blank, has no spaces around it and no control character in it (or a whole
/// number, when the schema's id field is `int`), or no id at all (stored under a hash).
fn enroll_schema(engine: &kensa::Engine, rules_schema: &Value) -> Value {
    let record = serde_json::json!({"$ref": "#/components/schemas/Record"});
    let Some(id) = engine.id_field() else {
        return serde_json::json!({"allOf": [record]});
    };
    let declared = rules_schema.pointer(&format!("/properties/{}", id.replace('~', "~0").replace('/', "~1"))).cloned();
    let text = declared.as_ref().and_then(|d| d.get("type")).and_then(Value::as_str) == Some("string");
    let storable = if text {
        // Not the field's `maxLength`: a longer id is judged (`schema.too_long`), not refused.
        let s = serde_json::json!({
            "type": "string",
            "pattern": "^[^\\s\\x00-\\x1f\\x7f-\\x9f](?:[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f])?$"
        });
        serde_json::json!({"anyOf": [s, {"type": "null"}]})
    } else {
        declared.unwrap_or(Value::Bool(true))
    };
    serde_json::json!({
        "description": "A record to judge and, when it is accepted, store: a `Record` whose id can be stored.",
        "allOf": [record, {"properties": {id: storable}}]
    })
}
