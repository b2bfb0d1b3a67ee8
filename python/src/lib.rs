//! `kensa._kensa`: the native half of the Python package `kensa` (PyO3, abi3).
//!
//! The Python modules (`python/kensa/`) are the API; this module holds what must be fast or
//! must be the engine itself. Every call that judges, scores or reads more than one record
//! releases the GIL while Rust works, and batch calls take and give whole columns (JSON lines
//! in, lists out), so no Python code runs per record in the hot path.
//!
//! Errors are raised as the exceptions of `kensa.errors` (created here by name), carrying the
//! diagnostic text and, for rules, the diagnostics as dicts.

use std::path::PathBuf;

use kensa::registry::{Enroll, MemoryRegistry, PgOptions, PostgresRegistry, Registry, SqliteRegistry};
use kensa::{Engine, MatchProfile, Verdict};
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use rayon::prelude::*;
use serde_json::Value;

/// Raise `kensa.errors.<name>(message)` (or `(message, extra)`).
fn raise(py: Python<'_>, name: &str, message: String, extra: Option<PyObject>) -> PyErr {
    let made = py.import("kensa.errors").and_then(|m| m.getattr(name)).and_then(|class| match extra {
        None => class.call1((message,)),
        Some(x) => class.call1((message, x)),
    });
    match made {
        Ok(e) => PyErr::from_value(e),
        Err(e) => e,
    }
}

fn record_error(py: Python<'_>, message: String) -> PyErr {
    raise(py, "RecordError", message, None)
}

fn registry_error(py: Python<'_>, message: String) -> PyErr {
    raise(py, "RegistryError", message, None)
}

/// A JSON value as a Python object (dicts keep the JSON's key order).
fn to_py(py: Python<'_>, v: &Value) -> PyResult<PyObject> {
    Ok(match v {
        Value::Null => py.None(),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any().unbind(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any().unbind()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any().unbind()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any().unbind()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any().unbind(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any().unbind()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, item) in map {
                dict.set_item(k, to_py(py, item)?)?;
            }
            dict.into_any().unbind()
        }
    })
}

fn pairs_to_dict(py: Python<'_>, pairs: &[(String, Value)]) -> PyResult<PyObject> {
    let dict = PyDict::new(py);
    for (k, v) in pairs {
        dict.set_item(k, to_py(py, v)?)?;
    }
    Ok(dict.into_any().unbind())
}

static DATE_TYPES: GILOnceCell<(PyObject, PyObject)> = GILOnceCell::new();

/// Records nest a few groups; anything deeper is refused, as the JSON reader refuses it.
const MAX_DEPTH: usize = 128;

/// A Python value as JSON: dicts with text keys, lists and tuples, text, whole numbers, finite
/// floats (NaN, pandas' "missing", is `null`), booleans, `None`, dates (`YYYY-MM-DD`; a
/// datetime gives its date) and numpy scalars. Anything else is an error naming the field.
fn to_json(obj: &Bound<'_, PyAny>, path: &str, depth: usize) -> Result<Value, String> {
    let py = obj.py();
    let at = || if path.is_empty() { String::from("the record") } else { format!("field `{path}`") };
    if depth > MAX_DEPTH {
        return Err(format!("{} is nested more than {MAX_DEPTH} levels deep", at()));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.downcast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(format!("{}: the number is too large for JSON; give it as text", at()));
    }
    if let Ok(f) = obj.downcast::<PyFloat>() {
        let x = f.value();
        if x.is_nan() {
            return Ok(Value::Null);
        }
        return serde_json::Number::from_f64(x)
            .map(Value::Number)
            .ok_or_else(|| format!("{}: an infinite number is not JSON", at()));
    }
    if let Ok(s) = obj.downcast::<PyString>() {
        return s.to_cow().map(|s| Value::String(s.into_owned())).map_err(|_| {
            format!("{}: the text is not valid Unicode (a lone surrogate); check how it was decoded", at())
        });
    }
    if let Ok(d) = obj.downcast::<PyDict>() {
        let mut map = serde_json::Map::new();
        for (k, v) in d.iter() {
            let Some(key) = k.downcast::<PyString>().ok().and_then(|k| k.to_cow().ok()).map(|k| k.into_owned()) else {
                return Err(format!("{}: every key must be text", at()));
            };
            let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
            map.insert(key, to_json(&v, &child, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if let Ok(list) = obj.downcast::<PyList>() {
        return list
            .iter()
            .enumerate()
            .map(|(i, v)| to_json(&v, &format!("{path}[{i}]"), depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    if let Ok(t) = obj.downcast::<PyTuple>() {
        return t
            .iter()
            .enumerate()
            .map(|(i, v)| to_json(&v, &format!("{path}[{i}]"), depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    let (date, datetime) = DATE_TYPES
        .get_or_try_init(py, || -> PyResult<_> {
            let m = py.import("datetime")?;
            Ok((m.getattr("date")?.unbind(), m.getattr("datetime")?.unbind()))
        })
        .map_err(|e| e.to_string())?;
    if obj.is_instance(datetime.bind(py)).unwrap_or(false) {
        let day = obj.call_method0("date").and_then(|d| d.call_method0("isoformat")).map_err(|e| e.to_string())?;
        return to_json(&day, path, depth + 1);
    }
    if obj.is_instance(date.bind(py)).unwrap_or(false) {
        let day = obj.call_method0("isoformat").map_err(|e| e.to_string())?;
        return to_json(&day, path, depth + 1);
    }
    // numpy scalars and arrays (np.int64, np.bool_, ndarray): their Python value.
    for method in ["item", "tolist"] {
        if obj.hasattr(method).unwrap_or(false)
            && let Ok(plain) = obj.call_method0(method)
            && !plain.is(obj)
            && !plain.get_type().is(obj.get_type())
        {
            return to_json(&plain, path, depth + 1);
        }
    }
    let kind = obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| String::from("?"));
    Err(format!("{}: a value of type `{kind}` is not JSON; give text, a number, a bool, a list or a dict", at()))
}

fn today(py: Python<'_>, today: Option<&str>) -> PyResult<kensa::Date> {
    match today {
        None => Ok(kensa::today_in_japan()),
        Some(t) => kensa::Date::parse(t).map_err(|e| {
            raise(py, "KensaError", format!("today `{t}` is not a date ({e}); write it as 2026-11-27"), None)
        }),
    }
}

fn compile_error(py: Python<'_>, e: &kensa::CompileError) -> PyErr {
    match diagnostics(py, e.report()) {
        Ok(d) => raise(py, "CompileError", e.render(), Some(d)),
        Err(err) => err,
    }
}

fn diagnostics(py: Python<'_>, report: &kensa::Report) -> PyResult<PyObject> {
    let list = PyList::empty(py);
    for d in report.diagnostics_json() {
        list.append(to_py(py, &d)?)?;
    }
    Ok(list.into_any().unbind())
}

/// A compiled rule set.
#[pyclass(module = "kensa._kensa", name = "Engine", frozen)]
struct PyEngine {
    engine: Engine,
}

/// Where enrolled records are: in memory (read from a file), a SQLite file, a PostgreSQL server.
enum Store {
    Memory(MemoryRegistry),
    Sqlite(SqliteRegistry),
    Postgres(PostgresRegistry),
}

impl Store {
    fn registry(&self) -> &dyn Registry {
        match self {
            Store::Memory(r) => r,
            Store::Sqlite(r) => r,
            Store::Postgres(r) => r,
        }
    }
    fn enroll(&self) -> Option<&dyn Enroll> {
        match self {
            Store::Memory(_) => None,
            Store::Sqlite(r) => Some(r),
            Store::Postgres(r) => Some(r),
        }
    }
}

/// An opened registry, keyed by the rules of the engine that opened it.
#[pyclass(module = "kensa._kensa", name = "Registry", frozen)]
struct PyRegistry {
    store: Store,
    location: String,
    fingerprint: String,
}

impl PyRegistry {
    /// The store, when `engine` computes the same keys as the engine that opened it.
    fn for_engine(&self, py: Python<'_>, engine: &Engine) -> PyResult<&dyn Registry> {
        if engine.fingerprint() != self.fingerprint {
            return Err(registry_error(
                py,
                format!(
                    "registry `{}` was opened for other rules; open it with this engine: Registry.open(location, engine=engine)",
                    self.location
                ),
            ));
        }
        Ok(self.store.registry())
    }
}

/// Read records from a JSONL (or JSON array) file into memory, as `kensa eval --registry` does.
fn read_records_file(path: &std::path::Path) -> Result<Vec<Value>, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read registry `{shown}`: {e}"))?;
    let is_array = path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_array {
        let v = kensa::internal::parse_record(&text).map_err(|e| format!("registry `{shown}`: {e}"))?;
        return match v {
            Value::Array(items) => Ok(items),
            other => Ok(vec![other]),
        };
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        out.push(kensa::internal::parse_record(line).map_err(|e| format!("registry `{shown}` line {}: {e}", i + 1))?);
    }
    Ok(out)
}

#[pymethods]
impl PyRegistry {
    /// Open a registry for `engine`'s rules. See `kensa.Registry.open`.
    #[staticmethod]
    #[pyo3(signature = (location, engine, read_only = false))]
    fn open(py: Python<'_>, location: &str, engine: &PyEngine, read_only: bool) -> PyResult<PyRegistry> {
        let engine = &engine.engine;
        let version = engine.key_version();
        let keys = |r: &Value| engine.blocking_keys(r);
        let lower = location.to_ascii_lowercase();
        let store = py
            .allow_threads(|| -> Result<Store, String> {
                if kensa::registry::is_server_url(location) {
                    let options = PgOptions::default();
                    let reg = if read_only {
                        PostgresRegistry::open_read(location, &options, &version)
                    } else {
                        PostgresRegistry::open_write(location, &options, &version, &keys)
                    };
                    return reg.map(Store::Postgres).map_err(|e| e.to_string());
                }
                let path = std::path::Path::new(location);
                if [".jsonl", ".ndjson", ".json"].iter().any(|e| lower.ends_with(e)) {
                    let records = read_records_file(path)?;
                    return Ok(Store::Memory(engine.memory_registry(records)));
                }
                let reg = if read_only {
                    SqliteRegistry::open_read(path, &version)
                } else {
                    SqliteRegistry::open_write(path, &version, &keys)
                };
                reg.map(Store::Sqlite).map_err(|e| e.to_string())
            })
            .map_err(|msg| registry_error(py, msg))?;
        Ok(PyRegistry { store, location: kensa::registry::redact(location), fingerprint: engine.fingerprint() })
    }

    /// Where the registry is (a URL without its password).
    #[getter]
    fn location(&self) -> &str {
        &self.location
    }

    /// Whether records can be enrolled into it (a database, not a file read into memory).
    #[getter]
    fn writable(&self) -> bool {
        self.store.enroll().is_some()
    }

    fn __len__(&self) -> usize {
        self.store.registry().len()
    }

    fn __repr__(&self) -> String {
        format!("Registry({:?}, records={})", self.location, self.store.registry().len())
    }
}

/// One problem found in a record.
#[pyclass(module = "kensa._kensa", name = "Finding", frozen)]
struct PyFinding {
    finding: kensa::Finding,
}

#[pymethods]
impl PyFinding {
    #[getter]
    fn rule(&self) -> &str {
        &self.finding.rule
    }
    #[getter]
    fn severity(&self) -> String {
        self.finding.severity.to_string()
    }
    #[getter]
    fn penalty(&self) -> u32 {
        self.finding.penalty
    }
    #[getter]
    fn message(&self) -> &str {
        &self.finding.message
    }
    #[getter]
    fn params(&self, py: Python<'_>) -> PyResult<PyObject> {
        pairs_to_dict(py, &self.finding.params)
    }
    #[getter]
    fn fields(&self) -> Vec<String> {
        self.finding.fields.clone()
    }
    #[getter]
    fn evidence(&self, py: Python<'_>) -> PyResult<PyObject> {
        pairs_to_dict(py, &self.finding.evidence)
    }
    #[getter]
    fn related(&self) -> Vec<String> {
        self.finding.related.clone()
    }
    fn __repr__(&self) -> String {
        format!("Finding({} {}: {})", self.finding.severity, self.finding.rule, self.finding.message)
    }
}

/// The judgement on one record.
#[pyclass(module = "kensa._kensa", name = "Verdict", frozen)]
struct PyVerdict {
    verdict: Verdict,
}

#[pymethods]
impl PyVerdict {
    #[getter]
    fn id(&self) -> Option<&str> {
        self.verdict.id.as_deref()
    }
    #[getter]
    fn decision(&self) -> String {
        self.verdict.decision.to_string()
    }
    #[getter]
    fn score(&self) -> u32 {
        self.verdict.score
    }
    #[getter]
    fn findings(&self) -> Vec<PyFinding> {
        self.verdict.findings.iter().map(|f| PyFinding { finding: f.clone() }).collect()
    }
    #[getter]
    fn trace(&self, py: Python<'_>) -> PyResult<Option<PyObject>> {
        match &self.verdict.trace {
            None => Ok(None),
            Some(t) => {
                let v = serde_json::to_value(t).map_err(|e| record_error(py, e.to_string()))?;
                Ok(Some(to_py(py, &v)?))
            }
        }
    }
    /// The verdict as `kensa eval` writes it: one JSON line, byte for byte.
    fn to_json(&self) -> String {
        self.verdict.to_json()
    }
    fn __repr__(&self) -> String {
        let rules: Vec<&str> = self.verdict.findings.iter().map(|f| f.rule.as_str()).collect();
        format!(
            "Verdict(id={:?}, decision={:?}, score={}, findings={:?})",
            self.verdict.id.as_deref().unwrap_or(""),
            self.verdict.decision.to_string(),
            self.verdict.score,
            rules
        )
    }
}

/// What enrolling one record did.
#[pyclass(module = "kensa._kensa", name = "Enrollment", frozen)]
struct PyEnrollment {
    #[pyo3(get)]
    verdict: Py<PyVerdict>,
    /// Whether the record was stored (only an `accept` is).
    #[pyo3(get)]
    enrolled: bool,
    /// Whether a record with the same id was stored already.
    #[pyo3(get)]
    already_stored: bool,
}

#[pymethods]
impl PyEnrollment {
    fn __repr__(&self) -> String {
        let v = self.verdict.get();
        format!(
            "Enrollment(decision={:?}, enrolled={}, already_stored={}, id={:?})",
            v.verdict.decision.to_string(),
            self.enrolled,
            self.already_stored,
            v.verdict.id.as_deref().unwrap_or("")
        )
    }
}

/// Judge one record, against `registry` when there is one.
fn judge(engine: &Engine, registry: Option<&dyn Registry>, record: &Value, explain: bool) -> Result<Verdict, String> {
    engine.judge(record, registry, explain).map_err(|e| e.to_string())
}

/// Read one JSONL line as `kensa eval` does and judge it.
fn judge_line(engine: &Engine, registry: Option<&dyn Registry>, line: &str, explain: bool) -> Result<Verdict, String> {
    // Borrowing the line's text, as `kensa eval` reads it (the same checks and messages).
    engine.judge_json(line, registry, explain).map_err(|e| e.to_string())
}

/// The non-empty lines of a JSONL buffer with their 1-based line numbers.
fn jsonl_lines(data: &[u8]) -> Result<Vec<(usize, &str)>, String> {
    let text = std::str::from_utf8(data).map_err(|e| format!("the records are not UTF-8 ({e})"))?;
    Ok(text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).map(|(i, l)| (i + 1, l)).collect())
}

/// Columns of judged records.
type Judged = (Vec<String>, Vec<Option<u32>>, Vec<String>, Vec<Option<String>>, Vec<Option<String>>);
/// Pairs as columns: left ids, right ids, probabilities, weights JSON.
type PairColumns = (Vec<String>, Vec<String>, Vec<f64>, Vec<String>);
/// One judged record: decision, score, findings JSON, error, id.
type JudgedRow = (String, Option<u32>, String, Option<String>, Option<String>);

/// Profiles of JSONL records and, for each line, why it was left out.
fn profiles_of(engine: &Engine, lines: &[(usize, &str)]) -> Vec<Result<MatchProfile, String>> {
    lines
        .par_iter()
        .map(|(_, l)| {
            let v = kensa::internal::parse_record(l)?;
            let p = engine.match_profile(&v).map_err(|e| e.to_string())?;
            if p.id().is_some_and(|id| !id.is_empty()) {
                Ok(p)
            } else {
                Err(String::from("no id (the schema field marked `id`)"))
            }
        })
        .collect()
}

fn pair_columns(pairs: &[kensa::Pair]) -> PairColumns {
    (
        pairs.iter().map(|p| p.left.clone()).collect(),
        pairs.iter().map(|p| p.right.clone()).collect(),
        pairs.iter().map(|p| p.probability).collect(),
        pairs.iter().map(kensa::Pair::weights_json).collect(),
    )
}

#[pymethods]
impl PyEngine {
    #[staticmethod]
    #[pyo3(signature = (*, today = None, strict = false))]
    fn builtin(py: Python<'_>, today: Option<&str>, strict: bool) -> PyResult<PyEngine> {
        let day = self::today(py, today)?;
        let engine = py.allow_threads(Engine::builtin).map_err(|e| compile_error(py, &e))?;
        Ok(PyEngine { engine: engine.with_today(day).with_strict(strict) })
    }

    #[staticmethod]
    #[pyo3(signature = (path, *, today = None, strict = false))]
    fn from_path(py: Python<'_>, path: PathBuf, today: Option<&str>, strict: bool) -> PyResult<PyEngine> {
        let day = self::today(py, today)?;
        let engine = py.allow_threads(|| Engine::from_path(&path)).map_err(|e| compile_error(py, &e))?;
        Ok(PyEngine { engine: engine.with_today(day).with_strict(strict) })
    }

    #[staticmethod]
    #[pyo3(signature = (text, *, name = "rules.kensa", today = None, strict = false))]
    fn from_source(py: Python<'_>, text: &str, name: &str, today: Option<&str>, strict: bool) -> PyResult<PyEngine> {
        let day = self::today(py, today)?;
        let engine = py.allow_threads(|| Engine::from_source(name, text)).map_err(|e| compile_error(py, &e))?;
        Ok(PyEngine { engine: engine.with_today(day).with_strict(strict) })
    }

    /// The warnings of the compiled rule set, as dicts (`kensa check --format json`).
    fn check(&self, py: Python<'_>) -> PyResult<PyObject> {
        diagnostics(py, self.engine.report())
    }

    /// The warnings rendered as text.
    fn render_warnings(&self) -> String {
        self.engine.report().render()
    }

    #[pyo3(signature = (record, registry = None, explain = false))]
    fn evaluate(
        &self,
        py: Python<'_>,
        record: &Bound<'_, PyAny>,
        registry: Option<&PyRegistry>,
        explain: bool,
    ) -> PyResult<PyVerdict> {
        let value = to_json(record, "", 0).map_err(|m| record_error(py, m))?;
        let registry = registry.map(|r| r.for_engine(py, &self.engine)).transpose()?;
        let engine = &self.engine;
        let verdict = py.allow_threads(|| judge(engine, registry, &value, explain)).map_err(|m| record_error(py, m))?;
        Ok(PyVerdict { verdict })
    }

    /// Judge a sequence of records (dicts); a record that cannot be read gives its message in
    /// place of a verdict.
    #[pyo3(signature = (records, registry = None, explain = false))]
    fn evaluate_records(
        &self,
        py: Python<'_>,
        records: &Bound<'_, PyAny>,
        registry: Option<&PyRegistry>,
        explain: bool,
    ) -> PyResult<Vec<PyObject>> {
        let mut values: Vec<Result<Value, String>> = Vec::new();
        for (i, r) in records.try_iter()?.enumerate() {
            values.push(to_json(&r?, "", 0).map_err(|m| format!("record {}: {m}", i + 1)));
        }
        let registry = registry.map(|r| r.for_engine(py, &self.engine)).transpose()?;
        let engine = &self.engine;
        let judged: Vec<Result<Verdict, String>> = py.allow_threads(|| {
            values
                .par_iter()
                .map(|v| v.as_ref().map_err(Clone::clone).and_then(|v| judge(engine, registry, v, explain)))
                .collect()
        });
        judged
            .into_iter()
            .map(|r| match r {
                Ok(verdict) => Ok(Py::new(py, PyVerdict { verdict })?.into_any()),
                Err(m) => Ok(PyString::new(py, &m).into_any().unbind()),
            })
            .collect()
    }

    /// Judge JSONL records: columns `(decision, score, findings JSON, error, id)`, one entry per
    /// non-empty line; a line that cannot be judged has decision `error` and its message.
    #[pyo3(signature = (data, registry = None, explain = false))]
    fn evaluate_jsonl(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyBytes>,
        registry: Option<&PyRegistry>,
        explain: bool,
    ) -> PyResult<Judged> {
        let registry = registry.map(|r| r.for_engine(py, &self.engine)).transpose()?;
        let engine = &self.engine;
        let bytes = data.as_bytes();
        py.allow_threads(|| -> Result<Judged, String> {
            let lines = jsonl_lines(bytes)?;
            let judged: Vec<JudgedRow> = lines
                .par_iter()
                .map(|(n, l)| match judge_line(engine, registry, l, explain) {
                    Ok(v) => {
                        let findings = serde_json::to_string(&v.findings).unwrap_or_default();
                        let findings = kensa::internal::json_safe(&findings).into_owned();
                        (v.decision.to_string(), Some(v.score), findings, None, v.id)
                    }
                    Err(m) => (String::from("error"), None, String::from("[]"), Some(format!("line {n}: {m}")), None),
                })
                .collect();
            let mut out: Judged = Default::default();
            for (d, s, f, e, id) in judged {
                out.0.push(d);
                out.1.push(s);
                out.2.push(f);
                out.3.push(e);
                out.4.push(id);
            }
            Ok(out)
        })
        .map_err(|m| record_error(py, m))
    }

    /// The verdicts of JSONL records as `kensa eval` writes them, one line each.
    #[pyo3(signature = (data, registry = None, explain = false))]
    fn evaluate_jsonl_lines(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyBytes>,
        registry: Option<&PyRegistry>,
        explain: bool,
    ) -> PyResult<Vec<String>> {
        let registry = registry.map(|r| r.for_engine(py, &self.engine)).transpose()?;
        let engine = &self.engine;
        let bytes = data.as_bytes();
        py.allow_threads(|| -> Result<Vec<String>, String> {
            let lines = jsonl_lines(bytes)?;
            Ok(lines
                .par_iter()
                .map(|(_, l)| match judge_line(engine, registry, l, explain) {
                    Ok(v) => v.to_json(),
                    Err(m) => serde_json::json!({ "error": m }).to_string(),
                })
                .collect())
        })
        .map_err(|m| record_error(py, m))
    }

    /// Check a record against a database registry and store it when it is accepted, atomically.
    fn enroll(&self, py: Python<'_>, record: &Bound<'_, PyAny>, registry: &PyRegistry) -> PyResult<PyEnrollment> {
        let value = to_json(record, "", 0).map_err(|m| record_error(py, m))?;
        registry.for_engine(py, &self.engine)?;
        let Some(store) = registry.store.enroll() else {
            return Err(registry_error(
                py,
                format!(
                    "registry `{}` is a file read into memory; enroll into a database (a SQLite file or postgres://…)",
                    registry.location
                ),
            ));
        };
        let engine = &self.engine;
        let done = py.allow_threads(|| engine.enroll(value, store)).map_err(|e| record_error(py, e.to_string()))?;
        Ok(PyEnrollment {
            verdict: Py::new(py, PyVerdict { verdict: done.verdict })?,
            enrolled: done.enrolled,
            already_stored: done.already_stored,
        })
    }

    /// `kensa dedup` over JSONL records: `(left, right, probability, weights JSON)` columns and
    /// the lines left out with why.
    fn dedup_jsonl(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyBytes>,
        threshold: f64,
    ) -> PyResult<(PairColumns, Vec<String>)> {
        self.need_match(py)?;
        let engine = &self.engine;
        let bytes = data.as_bytes();
        py.allow_threads(|| -> Result<_, String> {
            let lines = jsonl_lines(bytes)?;
            let (mut profiles, left_out) = split_profiles(&lines, profiles_of(engine, &lines));
            let run = engine.dedup(&mut profiles, threshold);
            Ok((pair_columns(&run.pairs), left_out))
        })
        .map_err(|m| record_error(py, m))
    }

    /// `kensa link` of JSONL `records` to JSONL `registry` records.
    fn link_jsonl(
        &self,
        py: Python<'_>,
        records: &Bound<'_, PyBytes>,
        registry: &Bound<'_, PyBytes>,
        threshold: f64,
        best: bool,
    ) -> PyResult<(PairColumns, Vec<String>)> {
        self.need_match(py)?;
        let engine = &self.engine;
        let (a, b) = (records.as_bytes(), registry.as_bytes());
        py.allow_threads(|| -> Result<_, String> {
            let (rl, gl) = (jsonl_lines(a)?, jsonl_lines(b)?);
            let (mut recs, mut left_out) = split_profiles(&rl, profiles_of(engine, &rl));
            let (reg, reg_out) = split_profiles(&gl, profiles_of(engine, &gl));
            left_out.extend(reg_out.into_iter().map(|m| format!("registry {m}")));
            let run = engine.link(&reg, &mut recs, threshold, best);
            Ok((pair_columns(&run.pairs), left_out))
        })
        .map_err(|m| record_error(py, m))
    }

    /// For a distributed dedup: per JSONL line, its id (or `None`, left out, with the reason),
    /// its blocking keys as hashes `(line index, key hash)` and its counted values
    /// `(line index, compare line, value)`.
    #[allow(clippy::type_complexity)]
    fn profile_jsonl(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyBytes>,
    ) -> PyResult<(Vec<Option<String>>, Vec<Option<String>>, Vec<(usize, i64)>, Vec<(usize, usize, String)>)> {
        self.need_match(py)?;
        let engine = &self.engine;
        let bytes = data.as_bytes();
        py.allow_threads(|| -> Result<_, String> {
            let lines = jsonl_lines(bytes)?;
            let profiles = profiles_of(engine, &lines);
            let (mut ids, mut errors, mut keys, mut terms) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for (i, p) in profiles.iter().enumerate() {
                match p {
                    Ok(p) => {
                        ids.push(p.id().map(str::to_string));
                        errors.push(None);
                        let mut hashes: Vec<i64> = p.key_hashes().iter().map(|h| h.cast_signed()).collect();
                        hashes.sort_unstable();
                        hashes.dedup();
                        keys.extend(hashes.into_iter().map(|h| (i, h)));
                        terms.extend(engine.counted_terms(p).into_iter().map(|(c, v)| (i, c, v)));
                    }
                    Err(m) => {
                        ids.push(None);
                        let n = lines.get(i).map_or(0, |(n, _)| *n);
                        errors.push(Some(format!("line {n}: {m}")));
                    }
                }
            }
            Ok((ids, errors, keys, terms))
        })
        .map_err(|m| record_error(py, m))
    }

    /// For a distributed dedup or link: score aligned pairs of JSONL records (`left[i]` with
    /// `right[i]`), weighed by `counts` (`(compare line, value, records)` over the population);
    /// keep those at or above `threshold`. `dedup`: ids ordered `left < right`.
    #[pyo3(signature = (left, right, counts, threshold, dedup = true))]
    fn score_pairs_jsonl(
        &self,
        py: Python<'_>,
        left: &Bound<'_, PyBytes>,
        right: &Bound<'_, PyBytes>,
        counts: Vec<(usize, String, u64)>,
        threshold: f64,
        dedup: bool,
    ) -> PyResult<PairColumns> {
        self.need_match(py)?;
        let engine = &self.engine;
        let (a, b) = (left.as_bytes(), right.as_bytes());
        py.allow_threads(|| -> Result<_, String> {
            let (al, bl) = (jsonl_lines(a)?, jsonl_lines(b)?);
            if al.len() != bl.len() {
                return Err(format!("{} left records but {} right records; give them in pairs", al.len(), bl.len()));
            }
            let counts = kensa::TermCounts::from_counts(counts);
            let weighed = |lines: &[(usize, &str)]| -> Result<Vec<MatchProfile>, String> {
                let mut ps = profiles_of(engine, lines).into_iter().collect::<Result<Vec<_>, _>>()?;
                engine.weigh_by_frequency(&mut ps, &counts);
                Ok(ps)
            };
            let (pa, pb) = (weighed(&al)?, weighed(&bl)?);
            let pairs: Vec<kensa::Pair> = pa
                .par_iter()
                .zip(pb.par_iter())
                .filter_map(|(x, y)| if dedup { engine.dedup_pair(x, y) } else { engine.link_pair(x, y) })
                .filter(|p| p.probability >= threshold)
                .collect();
            Ok(pair_columns(&pairs))
        })
        .map_err(|m| record_error(py, m))
    }

    /// Whether the rules have a `match` block (and so consult a registry).
    #[getter]
    fn uses_registry(&self) -> bool {
        self.engine.uses_registry()
    }

    /// A fingerprint of the rules and normalization data (what a registry's keys were built by).
    #[getter]
    fn fingerprint(&self) -> String {
        self.engine.fingerprint()
    }

    /// The ids of the rules in effect.
    fn rule_ids(&self) -> Vec<String> {
        self.engine.rule_ids().map(str::to_string).collect()
    }

    /// The JSON Schema of a record, as text.
    fn json_schema(&self) -> String {
        self.engine.json_schema().to_string()
    }

    /// Most records a key contributes to a batch comparison (`kensa dedup`'s cap).
    #[staticmethod]
    fn max_per_key() -> usize {
        kensa::registry::MAX_PER_KEY
    }
}

impl PyEngine {
    fn need_match(&self, py: Python<'_>) -> PyResult<()> {
        if self.engine.uses_registry() {
            return Ok(());
        }
        Err(raise(
            py,
            "KensaError",
            String::from("the rules have no `match` block, so there is nothing to compare records with"),
            None,
        ))
    }
}

/// The profiles that can be compared, and a message for each line left out.
fn split_profiles(
    lines: &[(usize, &str)],
    profiles: Vec<Result<MatchProfile, String>>,
) -> (Vec<MatchProfile>, Vec<String>) {
    let mut kept = Vec::with_capacity(profiles.len());
    let mut left_out = Vec::new();
    for ((n, _), p) in lines.iter().zip(profiles) {
        match p {
            Ok(p) => kept.push(p),
            Err(m) => left_out.push(format!("line {n}: {m}")),
        }
    }
    (kept, left_out)
}

/// Normalize `text` as `kensa normalize KIND` does.
#[pyfunction]
fn normalize(py: Python<'_>, kind: &str, text: &str) -> PyResult<String> {
    kensa::internal::normalize(kind, text).map_err(|m| raise(py, "NormalizeError", m, None))
}

/// Normalize many texts (one result per text, `None` where a text has no normalized form).
#[pyfunction]
fn normalize_many(py: Python<'_>, kind: &str, texts: Vec<String>) -> PyResult<Vec<Option<String>>> {
    if kensa::internal::normalize(kind, "").is_err_and(|m| m.starts_with("unknown kind")) {
        return Err(raise(py, "NormalizeError", format!("unknown kind `{kind}`"), None));
    }
    Ok(py.allow_threads(|| texts.par_iter().map(|t| kensa::internal::normalize(kind, t).ok()).collect()))
}

/// The version of the engine.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _kensa(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyEngine>()?;
    m.add_class::<PyRegistry>()?;
    m.add_class::<PyVerdict>()?;
    m.add_class::<PyFinding>()?;
    m.add_class::<PyEnrollment>()?;
    m.add_function(wrap_pyfunction!(normalize, m)?)?;
    m.add_function(wrap_pyfunction!(normalize_many, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    Ok(())
}
