//! What a reviewer needs to decide a record sent to review: the record and each registry record
//! it was compared with, side by side, with the value each `compare` line compared on both
//! sides, its level and weight, from the prior to the final probability.

use serde::{Deserialize, Serialize};

use super::{Engine, today_in_japan};
use crate::eval::{self, Candidate, RecordError};
use crate::normalize::digits::{DigitRuns, mask_digit_runs};
use crate::record_json::Json;
use crate::registry::Registry;

/// A record and one registry record, compared as the `match` block compares them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairView {
    /// The registry record's id.
    pub id: String,
    /// The registry record, masked as a decision log masks records.
    pub record: serde_json::Value,
    /// The prior match probability of the `match` block: where the weights start.
    pub prior: f64,
    /// The match probability after every weight.
    pub probability: f64,
    pub comparisons: Vec<ComparedPair>,
}

/// One `compare` line applied to the pair.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComparedPair {
    pub name: String,
    /// The value compared on the record's side (normalized as the rules compute it; long digit
    /// runs masked), `None` when absent.
    pub record_value: Option<String>,
    /// The value compared on the registry record's side.
    pub candidate_value: Option<String>,
    /// The level reached; `None` when a value is absent on either side (weight 0).
    pub level: Option<String>,
    /// log2(m/u) of the level, with the term-frequency adjustment.
    pub weight: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_adjustment: Option<f64>,
}

/// A compared value as shown to a reviewer: a number of more than 6 digits (a My Number, an
/// account number) masked to its last four, as findings mask them.
fn shown(value: Option<String>) -> Option<String> {
    value.map(|v| mask_digit_runs(&v, DigitRuns::longer_than(6)).into_owned())
}

impl Engine {
    /// The registry records `record` is compared with whose ids are in `ids` (all of them when
    /// `ids` is empty), each side by side with the record: what a review screen shows for a
    /// record a rule about candidates sent to review. Empty when the rules have no `match`
    /// block. The weights are those the verdict's evidence reports.
    pub fn review_pairs(
        &self,
        record: &serde_json::Value,
        registry: &dyn Registry,
        ids: &[String],
    ) -> Result<Vec<PairView>, RecordError> {
        let Some(m) = &self.program.matching else { return Ok(Vec::new()) };
        let today = self.today.unwrap_or_else(today_in_japan);
        let doc = Json::from_value(record);
        self.limits.check_json(&doc)?;
        let chosen = self.find_candidates(&doc, registry, today, true)?;
        let wanted: Vec<&serde_json::Value> = chosen
            .records
            .iter()
            .map(|f| &*f.record)
            .filter(|r| ids.is_empty() || self.record_id(r).is_some_and(|id| ids.contains(&id)))
            .collect();
        let candidates: Vec<Candidate<'_>> = wanted.iter().map(|r| Candidate::new(r)).collect();
        let matches = eval::compare_candidates(&self.program, &doc, today, &candidates, &chosen.terms)?;
        let mine = eval::profile::profile(&self.program, &doc, today)?.compared_texts();
        let mut out = Vec::with_capacity(matches.len());
        for (other, cm) in wanted.iter().zip(matches) {
            let theirs = eval::profile::profile(&self.program, &Json::from_value(other), today)?.compared_texts();
            let comparisons = cm
                .comparisons
                .into_iter()
                .enumerate()
                .map(|(i, c)| ComparedPair {
                    name: c.name,
                    record_value: shown(mine.get(i).cloned().flatten()),
                    candidate_value: shown(theirs.get(i).cloned().flatten()),
                    level: c.level,
                    weight: c.weight,
                    frequency_adjustment: c.frequency_adjustment,
                })
                .collect();
            out.push(PairView {
                id: cm.id,
                record: self.masked_record(other),
                prior: m.prior,
                probability: cm.probability,
                comparisons,
            });
        }
        Ok(out)
    }
}
