#![doc = include_str!("../README.md")]
//!
//! # Pipeline
//! `source` (files) → `syntax` (AST) → `overlay` (layers merged) → `check` (names, types) → `compile` (flat IR) →
//! `eval` (verdicts). `normalize` holds the Japanese text functions and depends on nothing;
//! `builtins` exposes them to rules. See `docs/ARCHITECTURE.md`.

mod builtins;
mod check;
mod compile;
mod describe;
mod diagnostic;
mod display;
mod engine;
mod eval;
mod format;
mod ide;
mod json_read;
mod json_write;
mod limits;
mod linkage;
pub mod normalize;
mod overlay;
mod par;
mod record_json;
pub mod registry;
mod reload;
mod source;
mod syntax;
mod value;

#[doc(hidden)]
pub mod internal;

pub use describe::RuleInfo;
pub use diagnostic::{Code, Diagnostic, Label, Level};
pub use engine::{
    ComparedPair, CompileError, Engine, Pair, PairRun, PairScan, PairView, Report, check_builtin, check_path,
    today_in_japan,
};
/// Many match profiles in a few shared buffers (`Engine::dedup_store`, `Engine::link_store`).
pub use eval::profile::ProfileStore;
pub use eval::{
    CandidateMatch, Comparison, FieldCheck, Finding, MIN_COUNTED, MatchProfile, PendingRule, RecordError, RuleOutcome,
    TermCounts, TraceEntry, Verdict,
};
/// Fellegi-Sunter parameter estimation (`kensa train`) and match-block parameters.
pub use limits::Limits;
pub use linkage::block::ScoredPair;
pub use linkage::em;
pub use normalize::date::Date;
pub use overlay::{Change, ChangeKind, Layering};
pub use reload::SharedEngine;
pub use syntax::ast::{Decision, Severity};
