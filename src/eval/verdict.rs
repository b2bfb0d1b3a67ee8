//! What evaluation returns: the boundary types that leave the library (and the `jsonl` contract).

use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

use crate::syntax::ast::{Decision, Severity};

/// The judgement on one record.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The record's `id` field, when it has one.
    pub id: Option<String>,
    pub decision: Decision,
    /// 100 minus the penalties of all findings, at least 0.
    pub score: u32,
    pub findings: Vec<Finding>,
    /// With `explain`: what every rule did.
    pub trace: Option<Vec<TraceEntry>>,
}

/// One problem found in a record.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// The rule's id (`bank.holder_is_registrant`), or `schema.…` for problems found while reading.
    pub rule: String,
    pub severity: Severity,
    /// The score penalty this finding carried.
    pub penalty: u32,
    /// The rule's message with its `{…}` filled in (My Numbers masked).
    pub message: String,
    /// Dotted paths of the fields concerned, so a form can highlight them.
    pub fields: Vec<String>,
    /// The values compared, labelled with the expression as written in the rule.
    pub evidence: Vec<(String, serde_json::Value)>,
    /// Ids of related registry records.
    pub related: Vec<String>,
}

/// How a record compares with one registry record (the `match` block's verdict on the pair).
#[derive(Clone, Debug, PartialEq)]
pub struct CandidateMatch {
    /// The registry record's `id`.
    pub id: String,
    /// Match probability from the prior and the summed weights.
    pub probability: f64,
    pub comparisons: Vec<Comparison>,
}

/// One `compare` line applied to a pair.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub name: String,
    /// The level reached; `None` when a value is absent on either side (weight 0).
    pub level: Option<String>,
    /// log2(m/u) of that level.
    pub weight: f64,
}

/// What one rule did with one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEntry {
    pub rule: String,
    pub outcome: RuleOutcome,
}

/// A record that could not be evaluated at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("a record must be a JSON object, but this is {found}")]
    NotAnObject { found: &'static str },
    #[error("unknown field `{path}` (not in the schema; strict mode)")]
    UnknownField { path: String },
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    Registry(String),
    /// Judging the record took longer than `Limits::eval_time`.
    #[error("{0}")]
    TimeLimit(String),
}

impl Serialize for Verdict {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let n = if self.trace.is_some() { 5 } else { 4 };
        let mut st = s.serialize_struct("Verdict", n)?;
        st.serialize_field("id", &self.id)?;
        st.serialize_field("decision", self.decision.as_str())?;
        st.serialize_field("score", &self.score)?;
        st.serialize_field("findings", &self.findings)?;
        if let Some(t) = &self.trace {
            st.serialize_field("trace", t)?;
        }
        st.end()
    }
}

impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Finding", 7)?;
        st.serialize_field("rule", &self.rule)?;
        st.serialize_field("severity", self.severity.as_str())?;
        st.serialize_field("penalty", &self.penalty)?;
        st.serialize_field("message", &self.message)?;
        st.serialize_field("fields", &self.fields)?;
        st.serialize_field("evidence", &Ordered(&self.evidence))?;
        st.serialize_field("related", &self.related)?;
        st.end()
    }
}

impl Serialize for TraceEntry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("TraceEntry", 2)?;
        st.serialize_field("rule", &self.rule)?;
        st.serialize_field("outcome", self.outcome.as_str())?;
        st.end()
    }
}

/// Evidence as a JSON object that keeps the rule's order.
struct Ordered<'a>(&'a [(String, serde_json::Value)]);

impl Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}
