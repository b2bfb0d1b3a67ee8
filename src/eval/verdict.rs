//! What evaluation returns: the boundary types that leave the library (and the `jsonl` contract).

use serde::{Deserialize, Serialize};

use crate::syntax::ast::{Decision, Severity};

/// The judgement on one record.
///
/// Serialized as `{"id", "decision", "score", "findings", "trace"?}` (the `jsonl` contract;
/// `trace` only with `explain`), and read back from the same JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The record's `id` field, when it has one.
    pub id: Option<String>,
    pub decision: Decision,
    /// 100 minus the penalties of all findings, at least 0.
    pub score: u32,
    pub findings: Vec<Finding>,
    /// With `explain`: what every rule did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Vec<TraceEntry>>,
}

impl Verdict {
    /// The verdict as one line of `kensa eval`'s `jsonl` output (without the newline): what
    /// JSON leaves raw (C1 controls, bidi overrides) escaped, so every reader sees the same text.
    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(256);
        self.write_json(&mut out);
        String::from_utf8(out).unwrap_or_else(|_| crate::display::json_text(self))
    }

    /// [`Verdict::to_json`] appended to `out`: the same text, written directly (no serializer,
    /// strings scanned a word at a time), as `kensa eval` writes every verdict.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        use crate::json_write as w;
        let start = out.len();
        out.push(b'{');
        w::key(out, "id", true);
        match &self.id {
            Some(id) => w::string(out, id),
            None => out.extend_from_slice(b"null"),
        }
        w::key(out, "decision", false);
        w::string(out, self.decision.as_str());
        w::key(out, "score", false);
        w::uint(out, u64::from(self.score));
        w::key(out, "findings", false);
        w::list(out, &self.findings, |out, f| f.write_json(out));
        if let Some(trace) = &self.trace {
            w::key(out, "trace", false);
            w::list(out, trace, |out, t| {
                out.push(b'{');
                w::key(out, "rule", true);
                w::string(out, &t.rule);
                w::key(out, "outcome", false);
                w::string(out, t.outcome.as_str());
                out.push(b'}');
            });
        }
        out.push(b'}');
        // The rare verdict with a character JSON leaves raw (DEL, C1, a bidi control) is
        // written again, escaping it as `json_text` does.
        if w::may_be_unsafe(out.get(start..).unwrap_or_default()) {
            out.truncate(start);
            crate::display::json_bytes_escaping(self, out);
        }
    }
}

impl Finding {
    fn write_json(&self, out: &mut Vec<u8>) {
        use crate::json_write as w;
        out.push(b'{');
        w::key(out, "rule", true);
        w::string(out, &self.rule);
        w::key(out, "severity", false);
        w::string(out, self.severity.as_str());
        w::key(out, "penalty", false);
        w::uint(out, u64::from(self.penalty));
        w::key(out, "message", false);
        w::string(out, &self.message);
        w::key(out, "params", false);
        w::object(out, self.params.iter().map(|(k, v)| (k.as_str(), v)));
        w::key(out, "fields", false);
        w::strings(out, &self.fields);
        w::key(out, "evidence", false);
        w::object(out, self.evidence.iter().map(|(k, v)| (k.as_str(), v)));
        w::key(out, "related", false);
        w::strings(out, &self.related);
        out.push(b'}');
    }
}

/// One problem found in a record.
///
/// Serialized as `{"rule", "severity", "penalty", "message", "params", "fields", "evidence",
/// "related"}`; `params` and `evidence` are JSON objects whose keys keep their order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule's id (`bank.holder_is_registrant`), or `schema.…` for problems found while reading.
    pub rule: String,
    pub severity: Severity,
    /// The score penalty this finding carried.
    pub penalty: u32,
    /// The rule's message with its `{…}` filled in (My Numbers masked).
    pub message: String,
    /// The values that filled the message's `{…}`, keyed by the placeholder's text as written
    /// (`age(birth_date)`), masked exactly as the message masks them; for the engine's own
    /// findings (`schema.*`, `registry.*`) their details (`field`, `max`, …). With them an
    /// application can write its own text. Computed only when a rule fires.
    #[serde(default, with = "ordered")]
    pub params: Vec<(String, serde_json::Value)>,
    /// Dotted paths of the fields concerned, so a form can highlight them.
    pub fields: Vec<String>,
    /// The values compared, labelled with the expression as written in the rule.
    #[serde(with = "ordered")]
    pub evidence: Vec<(String, serde_json::Value)>,
    /// Ids of related registry records.
    pub related: Vec<String>,
}

/// How a record compares with one registry record (the `match` block's verdict on the pair).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CandidateMatch {
    /// The registry record's `id`.
    pub id: String,
    /// Match probability from the prior and the summed weights.
    pub probability: f64,
    pub comparisons: Vec<Comparison>,
}

/// One `compare` line applied to a pair.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub name: String,
    /// The level reached; `None` when a value is absent on either side (weight 0).
    pub level: Option<String>,
    /// log2(m/u) of that level, with the term-frequency adjustment.
    pub weight: f64,
    /// The term-frequency adjustment included in `weight` (a `frequency` comparison whose
    /// counted value agrees): negative for a common value, positive for a rare one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_adjustment: Option<f64>,
}

/// What one rule did with one record (in JSON: `"passed"`, `"fired"`, `"skipped"`,
/// `"not_applicable"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleOutcome {
    /// The requirement held.
    Passed,
    /// The requirement failed: there is a finding.
    Fired,
    /// The `when` guard was false.
    Skipped,
    /// A value the rule needs is absent.
    NotApplicable,
}

impl RuleOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleOutcome::Passed => "passed",
            RuleOutcome::Fired => "fired",
            RuleOutcome::Skipped => "skipped",
            RuleOutcome::NotApplicable => "not_applicable",
        }
    }
}

/// One line of an explanation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceEntry {
    pub rule: String,
    pub outcome: RuleOutcome,
}

/// A record that could not be evaluated at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("a record must be a JSON object, but this is {found}")]
    NotAnObject { found: &'static str },
    /// A record field the schema does not know, with the schema field of the closest name.
    #[error("unknown field `{path}` (not in the schema; strict mode){}", did_you_mean(suggestion.as_deref()))]
    UnknownField { path: String, suggestion: Option<String> },
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    Registry(String),
    /// Judging the record took longer than `Limits::eval_time`.
    #[error("{0}")]
    TimeLimit(String),
}

/// `; did you mean `x`?` after an unknown field, when a schema field has a close name.
fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map(|s| format!("; did you mean `{s}`?")).unwrap_or_default()
}

/// The judgement on the fields a form has filled so far (`Engine::check_fields`): the verdict
/// of the rules that could run, and the rules still waiting for fields.
///
/// Serialized as the verdict's JSON object with one more key, `"pending"`:
/// `[{"rule": "…", "missing": ["field.path", …]}]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldCheck {
    #[serde(flatten)]
    pub verdict: Verdict,
    pub pending: Vec<PendingRule>,
}

/// A rule not yet judged because the form has not filled fields it reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRule {
    pub rule: String,
    /// Dotted paths of the fields it reads that are not filled (a group missing as a whole is
    /// named, not its fields). Empty for a rule that waits for the registry, which is consulted
    /// only on a whole record.
    pub missing: Vec<String>,
}

/// `Vec<(String, Value)>` as a JSON object that keeps its order, both ways.
mod ordered {
    use serde::de::{MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserializer, Serializer};

    type Pairs = Vec<(String, serde_json::Value)>;

    pub fn serialize<S: Serializer>(pairs: &Pairs, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(pairs.len()))?;
        for (k, v) in pairs {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Pairs, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = Pairs;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    out.push(entry);
                }
                Ok(out)
            }
        }
        d.deserialize_map(InOrder)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn finding(message: &str, evidence: serde_json::Value) -> Finding {
        Finding {
            rule: String::from("bank.holder_is_registrant"),
            severity: Severity::Review,
            penalty: 50,
            message: message.to_string(),
            params: vec![(String::from("bank.holder_kana"), serde_json::json!("ｻﾜﾀﾞ ｸﾐｺ"))],
            fields: vec![String::from("bank.holder_kana"), String::from("\"quoted\\path\"")],
            evidence: vec![(String::from("candidates"), evidence), (String::from("n"), serde_json::json!(0.123))],
            related: vec![String::from("R-1"), String::from("R\t2")],
        }
    }

    /// `write_json` (what `kensa eval` writes) is the text serde_json and `json_safe` make, with
    /// and without the characters that send it down the slow path.
    #[test]
    fn written_json_is_the_serialized_json() {
        let evidence = serde_json::json!([{"id": "R-1", "probability": 0.98, "weights": {"b": {"level": "same", "weight": 7.5}, "a": null}}]);
        let verdicts = [
            Verdict { id: None, decision: Decision::Accept, score: 100, findings: Vec::new(), trace: None },
            Verdict {
                id: Some(String::from("E-1")),
                decision: Decision::Review,
                score: 50,
                findings: vec![finding("口座名義「ｻﾜﾀﾞ ｸﾐｺ」が一致しません\n改行", evidence.clone())],
                trace: Some(vec![
                    TraceEntry { rule: String::from("a"), outcome: RuleOutcome::Fired },
                    TraceEntry { rule: String::from("b"), outcome: RuleOutcome::NotApplicable },
                ]),
            },
            Verdict {
                id: Some(String::from("E\u{202e}2\u{7f}")),
                decision: Decision::Reject,
                score: 0,
                findings: vec![finding("C1 \u{85} and LS \u{2028}", evidence), finding("", serde_json::Value::Null)],
                trace: Some(Vec::new()),
            },
        ];
        for v in &verdicts {
            let mut out = b"prefix".to_vec();
            v.write_json(&mut out);
            assert_eq!(String::from_utf8(out).unwrap(), format!("prefix{}", crate::display::json_text(v)));
            assert_eq!(v.to_json(), crate::display::json_text(v));
        }
    }
}
