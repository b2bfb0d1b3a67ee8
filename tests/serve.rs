//! `kensa serve` as an enrollment window's application sees it: a real process on a loopback
//! port, called over HTTP. Each test starts its own server on a free port.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;
#[path = "../benches/common/gen.rs"]
#[allow(dead_code, reason = "shared with the benches")]
mod generator;
#[path = "common/people.rs"]
mod people;
#[path = "common/secrets.rs"]
mod secrets;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cli::{KENSA, ROOT, workdir};
use serde_json::{Value, json};

const TODAY: &str = "2026-11-27";

/// A running `kensa serve`; killed when dropped.
struct Server {
    child: Option<Child>,
    base: String,
    stderr: Arc<Mutex<String>>,
    agent: ureq::Agent,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        Server::start_with(args, ureq::AgentBuilder::new(), "http")
    }

    fn start_with(args: &[&str], agent: ureq::AgentBuilder, scheme: &str) -> Server {
        let mut child = Command::new(KENSA)
            .args(["serve", "--listen", "127.0.0.1:0", "--today", TODAY])
            .args(args)
            .current_dir(ROOT)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let stderr = stderr.clone();
            let pipe = child.stderr.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    if let Some(rest) = line.split("listening on ").nth(1) {
                        let _ = tx.send(rest.split_whitespace().next().unwrap_or_default().to_string());
                    }
                    let mut s = stderr.lock().unwrap();
                    s.push_str(&line);
                    s.push('\n');
                }
            });
        }
        let base = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(b) => b,
            Err(_) => {
                let _ = child.kill();
                let out = child.wait_with_output().unwrap();
                panic!("kensa serve did not start ({:?}): {}", out.status, stderr.lock().unwrap());
            }
        };
        assert!(base.starts_with(&format!("{scheme}://")), "{base}");
        let agent = agent.timeout(Duration::from_secs(60)).build();
        Server { child: Some(child), base, stderr, agent }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn addr(&self) -> String {
        self.base.split("://").nth(1).unwrap().to_string()
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    fn answer(r: Result<ureq::Response, ureq::Error>) -> Answer {
        let r = match r {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("no answer: {e}"),
        };
        let status = r.status();
        let revision = r.header("kensa-rules-revision").map(str::to_string);
        let content_type = r.header("content-type").unwrap_or_default().to_string();
        let text = r.into_string().unwrap();
        let body = if content_type.starts_with("application/json") {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        } else {
            Value::String(text.clone())
        };
        Answer { status, revision, body, text }
    }

    fn post(&self, path: &str, body: &str) -> Answer {
        self.post_as(path, body, None)
    }

    fn post_as(&self, path: &str, body: &str, token: Option<&str>) -> Answer {
        let mut req = self.agent.post(&self.url(path)).set("content-type", "application/json");
        if let Some(t) = token {
            req = req.set("authorization", &format!("Bearer {t}"));
        }
        Server::answer(req.send_string(body))
    }

    fn get(&self, path: &str) -> Answer {
        self.get_as(path, None)
    }

    fn get_as(&self, path: &str, token: Option<&str>) -> Answer {
        let mut req = self.agent.get(&self.url(path));
        if let Some(t) = token {
            req = req.set("authorization", &format!("Bearer {t}"));
        }
        Server::answer(req.call())
    }

    fn signal(&self, name: &str) {
        let ok = Command::new("kill").arg(format!("-{name}")).arg(self.pid().to_string()).status().unwrap();
        assert!(ok.success());
    }

    /// SIGTERM, then the exit code and everything the server wrote on stderr.
    fn stop(self) -> (Option<i32>, String) {
        self.signal("TERM");
        self.stop_after_signal()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[derive(Debug)]
struct Answer {
    status: u16,
    revision: Option<String>,
    body: Value,
    /// The body as sent (`body` does not keep the order of object members).
    text: String,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
}

/// The records of a JSONL file whose lines are `{"record": …}` or records.
fn records(path: &str) -> Vec<Value> {
    std::fs::read_to_string(Path::new(ROOT).join(path))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v.get("record").cloned().unwrap_or(v)
        })
        .collect()
}

fn engine() -> kensa::Engine {
    kensa::Engine::builtin().unwrap().with_today(kensa::Date::parse(TODAY).unwrap())
}

/// The verdict of an answer, without what the service adds to it.
fn verdict_part(v: &Value) -> Value {
    let mut v = v.clone();
    for k in ["decision_id", "rules_revision", "enrolled", "already_stored"] {
        v.as_object_mut().unwrap().remove(k);
    }
    v
}

#[test]
fn a_record_and_a_batch_are_judged_as_the_library_judges_them() {
    let server = Server::start(&[]);
    let engine = engine();
    let all = records("examples/enrollment-cases.jsonl");
    let revision = engine.revision();
    for record in all.iter().take(40) {
        let a = server.post("/v1/evaluate", &record.to_string());
        assert_eq!(a.status, 200, "{a:?}");
        assert_eq!(a.revision.as_deref(), Some(revision));
        assert_eq!(a.body["rules_revision"], json!(revision));
        assert!(a.body["decision_id"].as_str().is_some_and(|d| !d.is_empty()));
        let expected = engine.evaluate(record).unwrap();
        assert_eq!(verdict_part(&a.body), serde_json::to_value(&expected).unwrap());
        // A Rust caller reads the answer into the library's own type.
        let read: kensa::Verdict = serde_json::from_str(&a.text).unwrap();
        assert_eq!(read, expected);
    }

    // A batch: each record on its own, errors in their place, in order.
    let batch = json!({"records": [all[0], 42, all[1], {"id": "X", "family_name": {"deep": [1]}}]});
    let a = server.post("/v1/evaluate", &batch.to_string());
    assert_eq!(a.status, 200, "{a:?}");
    let results = a.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(verdict_part(&results[0]), serde_json::to_value(engine.evaluate(&all[0]).unwrap()).unwrap());
    assert_eq!(results[1]["code"], "unjudgeable_record");
    assert_eq!(verdict_part(&results[2]), serde_json::to_value(engine.evaluate(&all[1]).unwrap()).unwrap());
    assert_eq!(results[3]["decision"], "reject", "a value of the wrong type is a finding: {}", results[3]);
    let ids: BTreeSet<&str> = results.iter().filter_map(|r| r["decision_id"].as_str()).collect();
    assert_eq!(ids.len(), 3, "every decision has its own id");

    // With ?explain=true every rule says what it did.
    let a = server.post("/v1/evaluate?explain=true", &all[0].to_string());
    assert_eq!(a.body["trace"].as_array().unwrap().len(), engine.rule_ids().count());
}

#[test]
fn every_error_is_json_with_a_stable_code_and_no_internals() {
    let server = Server::start(&["--max-body", "2K", "--max-records", "3"]);
    let record = records("examples/enrollment-cases.jsonl")[0].clone();
    let cases: Vec<(Answer, u16, &str)> = vec![
        (server.post("/v1/evaluate", "{\"id\": "), 400, "unreadable_json"),
        (server.post("/v1/evaluate", ""), 400, "unreadable_json"),
        (server.post("/v1/evaluate", &format!("{{\"id\":\"{}\"}}", "x".repeat(3000))), 413, "body_too_large"),
        (
            server.post("/v1/evaluate", &json!({"records": [record, record, record, record]}).to_string()),
            413,
            "too_many_records",
        ),
        (server.post("/v1/evaluate", &json!({"records": "all"}).to_string()), 400, "bad_request"),
        (server.post("/v1/evaluate", &json!({"records": [], "id": "x"}).to_string()), 400, "bad_request"),
        (server.post("/v1/evaluate", "[1, 2]"), 422, "unjudgeable_record"),
        (server.post("/v1/enroll", &record.to_string()), 409, "no_registry"),
        (server.get("/v1/evaluate"), 405, "method_not_allowed"),
        (server.get("/v2/evaluate"), 404, "not_found"),
    ];
    for (a, status, code) in &cases {
        assert_eq!((a.status, a.code()), (*status, *code), "{a:?}");
        let message = a.body["message"].as_str().unwrap();
        assert!(!message.is_empty());
        for internal in ["panicked", "RUST_BACKTRACE", "src/", "thread '"] {
            assert!(!message.contains(internal), "{message}");
        }
        assert!(a.revision.is_some(), "every answer carries the rules revision");
    }
    // A body larger than the limit but sent without a length (chunked) is refused too. The
    // server answers as soon as the limit is passed and closes the connection with the rest of
    // the body unread, so writing the rest may fail (a broken pipe) and, rarely, the reset
    // takes the answer with it before it is read: a few tries, each on a connection of its own.
    let chunked = || {
        let mut s = TcpStream::connect(server.addr()).unwrap();
        let head = "POST /v1/evaluate HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
        let _ = s.write_all(head.as_bytes());
        for _ in 0..4 {
            let _ = write!(s, "400\r\n{}\r\n", " ".repeat(0x400));
        }
        let _ = write!(s, "0\r\n\r\n");
        let mut bytes = Vec::new();
        let _ = s.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let text = (0..5).map(|_| chunked()).find(|t| !t.is_empty()).unwrap_or_default();
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("\"code\":\"body_too_large\""), "{text}");

    let metrics = server.get("/metrics");
    let text = metrics.body.as_str().unwrap();
    assert!(text.contains("kensa_errors_total{code=\"unreadable_json\"} 2"), "{text}");
    // Two answered above, and the chunked one (tried again if its answer was lost: counted too).
    let refused: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("kensa_http_requests_total{route=\"/v1/evaluate\",status=\"413\"} "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!((3..=7).contains(&refused), "{text}");
}

/// Each file's records enrolled through `/v1/enroll` by a thread of its own (one window each);
/// the ids reported enrolled.
fn enroll_from_windows(server: &Server, files: Vec<Vec<Value>>) -> Vec<String> {
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .into_iter()
            .map(|records| {
                s.spawn(move || {
                    let mut enrolled = Vec::new();
                    for r in records {
                        let a = server.post("/v1/enroll", &r.to_string());
                        assert_eq!(a.status, 200, "{a:?}");
                        if a.body["enrolled"] == json!(true) {
                            enrolled.push(r["id"].as_str().unwrap().to_string());
                        }
                    }
                    enrolled
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    })
}

/// The stored records' people (normalized My Number → how many records) and uids.
fn stored(rows: impl IntoIterator<Item = (String, String)>) -> (BTreeMap<String, usize>, BTreeSet<String>) {
    let mut people: BTreeMap<String, usize> = BTreeMap::new();
    let mut uids = BTreeSet::new();
    for (uid, text) in rows {
        *people.entry(people::my_number_key(&serde_json::from_str(&text).unwrap())).or_default() += 1;
        uids.insert(uid);
    }
    (people, uids)
}

#[test]
fn two_windows_enrolling_the_same_people_store_each_person_once() {
    let dir = workdir("serve-enroll");
    let db = dir.join("registry.db");
    let server = Server::start(&["--registry", db.to_str().unwrap()]);
    wait_ready(&server);
    let (files, distinct) = people::inputs(7);
    let reported = enroll_from_windows(&server, files);
    let (code, _) = server.stop();
    assert_eq!(code, Some(0));
    let conn = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut st = conn.prepare("SELECT uid, json FROM records").unwrap();
    let rows: Vec<(String, String)> =
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    let (people, uids) = stored(rows);
    people::assert_one_per_person(&people, &uids, distinct, &reported);
}

#[test]
fn on_postgresql_too_windows_enrolling_the_same_people_store_each_person_once() {
    let base = match std::env::var("KENSA_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var_os("KENSA_REQUIRE_POSTGRES").is_some() => {
            panic!("no PostgreSQL server: set KENSA_TEST_POSTGRES")
        }
        _ => {
            eprintln!("SKIPPED: no PostgreSQL server (run `eval \"$(scripts/pg-server start)\"` first)");
            return;
        }
    };
    let schema = format!("kensa_serve_{}", std::process::id());
    let mut admin = postgres::Client::connect(&base, postgres::NoTls).unwrap();
    admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")).unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
    let server = Server::start(&["--registry", &url]);
    wait_ready(&server);
    let (files, distinct) = people::inputs(11);
    let reported = enroll_from_windows(&server, files);
    let (code, stderr) = server.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let rows: Vec<(String, String)> = admin
        .query(&format!("SELECT uid, json FROM {schema}.kensa_records"), &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).unwrap();
    let (people, uids) = stored(rows);
    people::assert_one_per_person(&people, &uids, distinct, &reported);
}

fn wait_ready(server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.get("/readyz").status != 200 {
        assert!(Instant::now() < deadline, "not ready: {}", server.stderr.lock().unwrap());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The standard rules copied to `dir/rules`, to be edited while the server runs.
fn rules_dir(dir: &Path) -> PathBuf {
    cli::rules_copy(dir, "rules", str::to_string)
}

#[test]
fn rules_reloaded_mid_traffic_fail_no_request_and_every_decision_names_its_revision() {
    let dir = workdir("serve-reload");
    let rules = rules_dir(&dir);
    let log = dir.join("decisions.jsonl");
    let db = dir.join("registry.db");
    let server = Server::start(&[
        "--rules",
        rules.to_str().unwrap(),
        "--registry",
        db.to_str().unwrap(),
        "--decision-log",
        log.to_str().unwrap(),
    ]);
    wait_ready(&server);
    let first = server.get("/v1/rules").body["rules_revision"].as_str().unwrap().to_string();
    let record = records("examples/enrollment-cases.jsonl")[0].to_string();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let served = std::sync::atomic::AtomicUsize::new(0);
    // Wait until the traffic has had 10 more answers (so that each revision is served).
    let more_traffic = || {
        let target = served.load(std::sync::atomic::Ordering::Relaxed) + 10;
        let deadline = Instant::now() + Duration::from_secs(60);
        while served.load(std::sync::atomic::Ordering::Relaxed) < target {
            assert!(Instant::now() < deadline, "no traffic");
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    let resident = rules.join("resident.kensa");
    let original = std::fs::read_to_string(&resident).unwrap();

    let (answers, revisions_seen) = std::thread::scope(|s| {
        let traffic: Vec<_> = (0..3)
            .map(|_| {
                let (server, record, stop, served) = (&server, &record, &stop, &served);
                s.spawn(move || {
                    let mut answers: Vec<(u16, String, String)> = Vec::new();
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let a = server.post("/v1/evaluate", record);
                        answers.push((
                            a.status,
                            a.body["decision_id"].as_str().unwrap_or_default().to_string(),
                            a.body["rules_revision"].as_str().unwrap_or_default().to_string(),
                        ));
                        served.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    answers
                })
            })
            .collect();
        let mut seen = vec![first.clone()];
        more_traffic();
        // 1. An edited message, by SIGHUP: a new revision.
        std::fs::write(&resident, original.replace("名が入力されていません", "名を入力してください")).unwrap();
        server.signal("HUP");
        seen.push(wait_revision(&server, &first));
        more_traffic();
        // 2. A broken rule file, by the admin endpoint: refused, the revision stays.
        std::fs::write(&resident, format!("{original}\nrule broken {{\n")).unwrap();
        let a = server.post("/v1/admin/reload", "");
        assert_eq!((a.status, a.code()), (422, "rules_do_not_compile"), "{a:?}");
        assert!(a.body["diagnostics"].as_str().unwrap().contains("resident.kensa"), "{a:?}");
        assert_eq!(server.get("/v1/rules").body["rules_revision"], json!(seen[1]));
        // 3. Rules that would block records differently: refused, the registry keys stay valid.
        let registry = rules.join("registry.kensa");
        let reg_text = std::fs::read_to_string(&registry).unwrap();
        std::fs::write(&resident, &original).unwrap();
        let blocks: Vec<&str> = reg_text.lines().filter(|l| l.trim_start().starts_with("block on")).collect();
        assert!(!blocks.is_empty());
        std::fs::write(&registry, reg_text.replacen(blocks[0], &format!("{}\n  block on birth_date", blocks[0]), 1))
            .unwrap();
        let a = server.post("/v1/admin/reload", "");
        assert_eq!((a.status, a.code()), (409, "keys_changed"), "{a:?}");
        std::fs::write(&registry, &reg_text).unwrap();
        // 4. Back to the original rules: the first revision again.
        let a = server.post("/v1/admin/reload", "");
        assert_eq!(a.status, 200, "{a:?}");
        assert_eq!(a.body["rules_revision"], json!(first));
        assert_eq!(a.body["changed"], json!(true));
        more_traffic();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let answers: Vec<_> = traffic.into_iter().flat_map(|t| t.join().unwrap()).collect();
        (answers, seen)
    });
    let failed: Vec<_> = answers.iter().filter(|a| a.0 != 200).collect();
    assert!(failed.is_empty(), "requests failed during reloads: {failed:?}");
    let revisions: BTreeSet<&str> = answers.iter().map(|a| a.2.as_str()).collect();
    assert!(revisions.contains(revisions_seen[1].as_str()), "traffic saw the reloaded rules: {revisions:?}");
    assert!(revisions.len() == 2, "two revisions served: {revisions:?}");

    let metrics = server.get("/metrics").body.as_str().unwrap().to_string();
    assert!(metrics.contains("kensa_reloads_total{result=\"ok\"} 2"), "{metrics}");
    assert!(metrics.contains("kensa_reloads_total{result=\"failed\"} 2"), "{metrics}");

    // A clean stop: every decision is in the log, under the revision its answer named.
    let (code, stderr) = server.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("kensa serve: stopped"), "{stderr}");
    let logged: BTreeMap<String, String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["decision_id"].as_str().unwrap().to_string(), v["rules_revision"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(logged.len(), answers.len(), "one log line per decision");
    for (_, id, revision) in &answers {
        assert_eq!(logged.get(id), Some(revision), "decision {id}");
    }
}

fn wait_revision(server: &Server, old: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = server.get("/v1/rules").body["rules_revision"].as_str().unwrap().to_string();
        if now != old {
            return now;
        }
        assert!(Instant::now() < deadline, "SIGHUP did not reload: {}", server.stderr.lock().unwrap());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_decision_log_never_holds_a_my_number_or_account_number_in_full() {
    let dir = workdir("serve-log");
    let log = dir.join("decisions.jsonl");
    let db = dir.join("registry.db");
    let server = Server::start(&["--registry", db.to_str().unwrap(), "--decision-log", log.to_str().unwrap()]);
    wait_ready(&server);
    let mut secrets = BTreeSet::new();
    let examples = Path::new(ROOT).join("examples/enrollment-cases.jsonl");
    secrets::secrets_of_records(&records("examples/enrollment-cases.jsonl"), &mut secrets);
    assert!(secrets.len() > 50, "the corpus has numbers to hide: {}", examples.display());
    let all = records("examples/enrollment-cases.jsonl");
    for chunk in all.chunks(50) {
        assert_eq!(server.post("/v1/evaluate", &json!({ "records": chunk }).to_string()).status, 200);
    }
    for r in all.iter().take(30) {
        assert_eq!(server.post("/v1/enroll", &r.to_string()).status, 200);
    }
    // A My Number typed into a field the schema does not know, and as a JSON number.
    let mut odd = all[0].clone();
    odd["note"] = json!("番号 4637 6044 4596");
    odd["my_number"] = json!(463_760_444_597u64);
    secrets.insert(String::from("463760444596"));
    secrets.insert(String::from("463760444597"));
    server.post("/v1/evaluate", &odd.to_string());
    let (code, _) = server.stop();
    assert_eq!(code, Some(0));
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), all.len() + 30 + 1);
    let leaked = secrets::leaked(&text, &secrets);
    assert!(leaked.is_empty(), "the decision log shows {} numbers in full", leaked.len());
    // They are there, masked: the check above could have failed.
    let first = text.lines().next().unwrap();
    let v: Value = serde_json::from_str(first).unwrap();
    let shown = v["record"]["my_number"].as_str().unwrap();
    let given = all[0]["my_number"].as_str().unwrap();
    assert_eq!(shown, format!("{}{}", "*".repeat(given.chars().count() - 4), &given[given.len() - 4..]));
    for key in ["decision_id", "time", "rules_revision", "route", "caller", "latency_ms", "record", "verdict"] {
        assert!(v.get(key).is_some(), "`{key}` in {first}");
    }
}

/// A tokens file with a window's token and an admin's; the tokens.
fn tokens_file(dir: &Path) -> (PathBuf, String, String) {
    let mut lines = String::new();
    let mut tokens = Vec::new();
    for args in [&["token", "window-7"][..], &["token", "ops", "--admin"][..]] {
        let out = Command::new(KENSA).args(args).output().unwrap();
        assert!(out.status.success());
        let stderr = String::from_utf8(out.stderr).unwrap();
        let token = stderr.lines().last().unwrap().trim().to_string();
        assert!(token.starts_with("kensa_") && !token.contains(' '), "{stderr}");
        tokens.push(token);
        lines.push_str(&String::from_utf8(out.stdout).unwrap());
    }
    for t in &tokens {
        assert!(!lines.contains(t.as_str()), "the tokens file holds only hashes");
    }
    let path = dir.join("tokens.txt");
    std::fs::write(&path, lines).unwrap();
    (path, tokens[0].clone(), tokens[1].clone())
}

#[test]
fn beyond_loopback_a_token_is_required_and_names_the_caller() {
    // Without tokens, a server reachable from other machines does not start.
    let out = Command::new(KENSA).args(["serve", "--listen", "0.0.0.0:0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--tokens FILE") && stderr.contains("kensa token"), "{stderr}");

    let dir = workdir("serve-tokens");
    let (tokens, window, admin) = tokens_file(&dir);
    let log = dir.join("decisions.jsonl");
    let server = Server::start(&[
        "--tokens",
        tokens.to_str().unwrap(),
        "--open-health",
        "--decision-log",
        log.to_str().unwrap(),
    ]);
    let record = records("examples/enrollment-cases.jsonl")[0].to_string();
    let a = server.post("/v1/evaluate", &record);
    assert_eq!((a.status, a.code()), (401, "unauthorized"));
    let a = server.post_as("/v1/evaluate", &record, Some("kensa_not_a_token_of_this_service"));
    assert_eq!((a.status, a.code()), (401, "unauthorized"));
    assert_eq!(server.post_as("/v1/evaluate", &record, Some(&window)).status, 200);
    assert_eq!(server.get("/healthz").status, 200, "--open-health");
    assert_eq!(server.get("/readyz").status, 200, "--open-health");
    assert_eq!(server.get("/metrics").status, 401, "metrics stay closed without --open-metrics");
    assert_eq!(server.get_as("/metrics", Some(&window)).status, 200);
    assert_eq!(server.get("/openapi.json").status, 401);
    let a = server.post_as("/v1/admin/reload", "", Some(&window));
    assert_eq!((a.status, a.code()), (403, "forbidden"));
    assert_eq!(server.post_as("/v1/admin/reload", "", Some(&admin)).status, 200);
    let (code, _) = server.stop();
    assert_eq!(code, Some(0));
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 1, "only the authorized request was judged");
    let v: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert!(v["caller"].as_str().unwrap().starts_with("window-7@127.0.0.1"), "{v}");
}

#[test]
fn with_a_certificate_the_service_speaks_https_only() {
    let dir = workdir("serve-tls");
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec![String::from("localhost"), String::from("127.0.0.1")]).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key_pair.serialize_pem()).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let server = Server::start_with(
        &["--tls-cert", cert_path.to_str().unwrap(), "--tls-key", key_path.to_str().unwrap()],
        ureq::AgentBuilder::new().tls_config(Arc::new(config)),
        "https",
    );
    let record = records("examples/enrollment-cases.jsonl")[0].to_string();
    let a = server.post("/v1/evaluate", &record);
    assert_eq!(a.status, 200, "{a:?}");
    // Plain HTTP to the same port gets no answer.
    let plain = ureq::AgentBuilder::new().timeout(Duration::from_secs(10)).build();
    let url = server.url("/healthz").replacen("https://", "http://", 1);
    assert!(!matches!(plain.get(&url).call(), Ok(r) if r.status() == 200));

    // A key that does not exist stops the server with a message naming it.
    let out = Command::new(KENSA)
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&cert_path)
        .arg("--tls-key")
        .arg(dir.join("missing.pem"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.pem"));
}

#[test]
fn until_the_registry_opens_the_service_is_alive_but_not_ready() {
    // A PostgreSQL server nobody listens for.
    let server = Server::start(&["--registry", "postgres://kensa@127.0.0.1:9/kensa"]);
    assert_eq!(server.get("/healthz").status, 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    let a = loop {
        let a = server.get("/readyz");
        if a.body["message"].as_str().is_some_and(|m| m.contains("not open yet")) || Instant::now() > deadline {
            break a;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!((a.status, a.code()), (503, "not_ready"), "{a:?}");
    let a = server.post("/v1/evaluate", &records("examples/enrollment-cases.jsonl")[0].to_string());
    assert_eq!((a.status, a.code()), (503, "not_ready"), "{a:?}");
    let metrics = server.get("/metrics").body.as_str().unwrap().to_string();
    assert!(metrics.contains("kensa_ready 0"), "{metrics}");
    let (code, _) = server.stop();
    assert_eq!(code, Some(0), "a server that never became ready still stops cleanly");
}

/// A request whose body is still being sent holds its turn; `write` the rest to finish it.
fn slow_request(server: &Server, body: &str) -> TcpStream {
    let mut s = TcpStream::connect(server.addr()).unwrap();
    write!(
        s,
        "POST /v1/evaluate HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
        body.len(),
        &body[..10]
    )
    .unwrap();
    s.flush().unwrap();
    s
}

fn read_all(mut s: TcpStream) -> String {
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text
}

#[test]
fn a_full_service_says_overloaded_and_a_slow_request_times_out() {
    let server = Server::start(&["--concurrency", "1", "--queue-wait", "200ms", "--timeout", "1s"]);
    let record = records("examples/enrollment-cases.jsonl")[0].to_string();
    let slow = slow_request(&server, &record);
    std::thread::sleep(Duration::from_millis(100));
    let a = server.post("/v1/evaluate", &record);
    assert_eq!((a.status, a.code()), (503, "overloaded"), "{a:?}");
    let text = read_all(slow);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("\"code\":\"timeout\""), "{text}");
    // The turn is free again.
    assert_eq!(server.post("/v1/evaluate", &record).status, 200);
}

#[test]
fn a_request_in_flight_at_shutdown_is_answered_before_the_server_stops() {
    let dir = workdir("serve-shutdown");
    let log = dir.join("decisions.jsonl");
    let server = Server::start(&["--decision-log", log.to_str().unwrap(), "--timeout", "20s"]);
    let record = records("examples/enrollment-cases.jsonl")[0].to_string();
    let mut slow = slow_request(&server, &record);
    std::thread::sleep(Duration::from_millis(200));
    server.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    // New connections are no longer taken, the one in flight is answered.
    slow.write_all(&record.as_bytes()[10..]).unwrap();
    let text = read_all(slow);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let (code, stderr) = server.stop_after_signal();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("shutting down"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 1, "the decision was logged before exit");
}

impl Server {
    /// Wait for a server that was already sent SIGTERM.
    fn stop_after_signal(mut self) -> (Option<i32>, String) {
        let mut child = self.child.take().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "the server did not stop");
            std::thread::sleep(Duration::from_millis(20));
        };
        std::thread::sleep(Duration::from_millis(100));
        (status.code(), self.stderr.lock().unwrap().clone())
    }
}

#[test]
fn the_openapi_document_describes_the_answers_the_service_gives() {
    let dir = workdir("serve-openapi");
    let db = dir.join("registry.db");
    let server = Server::start(&["--registry", db.to_str().unwrap()]);
    wait_ready(&server);
    let doc = server.get("/openapi.json").body;
    assert_eq!(doc["openapi"], "3.1.0");
    for path in ["/v1/evaluate", "/v1/enroll", "/v1/rules", "/v1/admin/reload", "/healthz", "/readyz", "/metrics"] {
        assert!(doc["paths"].get(path).is_some(), "{path} is described");
    }
    let validate = |schema: &str, instance: &Value| {
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": format!("#/components/schemas/{schema}"),
            "components": doc["components"],
        });
        let v = jsonschema::validator_for(&root).unwrap();
        let errors: Vec<String> = v.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{schema}: {errors:?}\n{instance}");
    };
    let all = records("examples/enrollment-cases.jsonl");
    for r in all.iter().take(20) {
        validate("Record", r);
        validate("ValidRecord", r);
        validate("EvaluateAnswer", &server.post("/v1/evaluate?explain=true", &r.to_string()).body);
        validate("Enrolled", &server.post("/v1/enroll", &r.to_string()).body);
    }
    validate("EvaluateAnswer", &server.post("/v1/evaluate", &json!({"records": [all[0], 1]}).to_string()).body);
    validate("ErrorBody", &server.post("/v1/evaluate", "{").body);
    validate("RulesAnswer", &server.get("/v1/rules").body);
    validate(
        "FieldCheck",
        &server.post("/v1/check-fields", &json!({"family_name": "山田", "sex": "x"}).to_string()).body,
    );
    validate("Reloaded", &server.post("/v1/admin/reload", "").body);
    validate("Status", &server.get("/readyz").body);
    // The checks can fail: a record without its required fields is not a valid one (it is
    // judged all the same), an answer missing a required member is refused.
    let root = json!({"$ref": "#/components/schemas/ValidRecord", "components": doc["components"]});
    assert!(!jsonschema::validator_for(&root).unwrap().is_valid(&json!({"family_name": "山田"})));
    let root = json!({"$ref": "#/components/schemas/Judged", "components": doc["components"]});
    assert!(!jsonschema::validator_for(&root).unwrap().is_valid(&json!({"decision": "accept"})));
}

#[test]
fn a_registry_file_of_records_is_consulted_and_read_only() {
    let server = Server::start(&["--registry", "examples/registry.jsonl"]);
    wait_ready(&server);
    let enrolled = records("examples/registry.jsonl");
    let engine = engine();
    let registry = engine.memory_registry(enrolled.clone());
    let mut flagged = 0;
    for record in records("examples/enrollment.jsonl").iter().take(60) {
        let a = server.post("/v1/evaluate", &record.to_string());
        assert_eq!(a.status, 200, "{a:?}");
        let expected = engine.evaluate_in(record, &registry).unwrap();
        flagged += usize::from(expected.findings.iter().any(|f| f.rule.starts_with("registry.")));
        assert_eq!(verdict_part(&a.body), serde_json::to_value(expected).unwrap());
    }
    assert!(flagged > 0, "some records meet the registry");
    let a = server.post("/v1/enroll", &enrolled[0].to_string());
    assert_eq!((a.status, a.code()), (403, "read_only"), "{a:?}");
}

#[test]
fn a_form_being_filled_in_gets_findings_only_for_what_it_has() {
    let server = Server::start(&[]);
    let engine = engine();
    // The clerk has typed the family name, and kanji into the kana field.
    let form = json!({"family_name": "山田", "family_name_kana": "山田"});
    let a = server.post("/v1/check-fields", &form.to_string());
    assert_eq!(a.status, 200, "{a:?}");
    let expected = serde_json::to_value(engine.check_fields(&form).unwrap()).unwrap();
    let mut body = a.body.clone();
    assert_eq!(body.as_object_mut().unwrap().remove("rules_revision"), Some(json!(engine.revision())));
    assert_eq!(body, expected);
    let rules: Vec<&str> = a.body["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["kana.family_is_katakana"], "only the kana field's problem: {}", a.body);
    assert_eq!(a.body["findings"][0]["fields"], json!(["family_name_kana"]));
    let pending = a.body["pending"].as_array().unwrap();
    assert!(
        pending.iter().any(|p| p["rule"] == "name.given_present" && p["missing"] == json!(["given_name"])),
        "{pending:?}"
    );
    // The empty form: nothing to report, every rule waits.
    let a = server.post("/v1/check-fields", "{}");
    assert_eq!(a.body["findings"], json!([]));
    assert_eq!(a.body["pending"].as_array().unwrap().len(), engine.rule_ids().count());
    let a = server.post("/v1/check-fields", "[]");
    assert_eq!((a.status, a.code()), (422, "unjudgeable_record"));
}

/// A registry database of the bundled enrolled residents, in `dir`.
fn imported_registry(dir: &Path) -> PathBuf {
    let db = dir.join("registry.db");
    let out = Command::new(KENSA)
        .args(["registry", "import", "examples/registry.jsonl", "--db", db.to_str().unwrap(), "--quiet"])
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    db
}

/// The bundled case that is a probable duplicate of the enrolled `P001398`.
fn probable_duplicate() -> Value {
    records("examples/enrollment-cases.jsonl").into_iter().find(|r| r["id"] == "E00337").unwrap()
}

/// Wait until the decision log holds a line that `pred` accepts.
fn logged(log: &Path, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(v) = text.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).find(|v| pred(v)) {
            return v;
        }
        assert!(Instant::now() < deadline, "not in the decision log:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_record_sent_to_review_is_queued_shown_beside_the_registry_record_and_marked_in_the_log() {
    let dir = workdir("serve-review");
    let db = imported_registry(&dir);
    let log = dir.join("decisions.jsonl");
    let server = Server::start(&["--registry", db.to_str().unwrap(), "--decision-log", log.to_str().unwrap()]);
    wait_ready(&server);
    let record = probable_duplicate();
    let a = server.post("/v1/enroll", &record.to_string());
    assert_eq!((a.status, a.body["decision"].as_str()), (200, Some("review")), "{}", a.text);
    let id = a.body["decision_id"].as_str().unwrap().to_string();
    logged(&log, |v| v["decision_id"] == id.as_str());

    // The queue: newest first, the rule that sent it, the registry record it relates to.
    let q = server.get("/v1/review-queue");
    assert_eq!(q.status, 200, "{}", q.text);
    assert_eq!(q.body["total"], 1, "{}", q.text);
    let item = &q.body["items"][0];
    assert_eq!((item["decision_id"].as_str(), item["id"].as_str()), (Some(id.as_str()), Some("E00337")));
    assert_eq!(item["rules"], json!(["registry.probable_duplicate"]));
    assert_eq!(item["related"], json!(["P001398"]));
    assert_eq!(item["reviewed"], Value::Null);
    assert_eq!(q.body["counts"]["registry.probable_duplicate"], 1);
    let filtered = server.get("/v1/review-queue?rule=bank.holder_is_registrant");
    assert_eq!(filtered.body["total"], 0, "{}", filtered.text);

    // The decision: the record masked, the registry record beside it, each comparison with the
    // values compared on both sides, and the same probability as the verdict's evidence.
    let d = server.get(&format!("/v1/decisions/{id}"));
    assert_eq!(d.status, 200, "{}", d.text);
    assert!(d.body["record"]["my_number"].as_str().unwrap().starts_with("********"));
    let pair = &d.body["pairs"][0];
    assert_eq!(pair["id"], "P001398");
    assert!(pair["record"]["my_number"].as_str().unwrap().starts_with("********"), "{pair}");
    // The evidence rounds (weights to 3 decimals): the pair is the same comparison, unrounded.
    let candidate = &d.body["verdict"]["findings"][0]["evidence"]["candidates"][0];
    let evidence = candidate["probability"].as_f64().unwrap();
    assert!((pair["probability"].as_f64().unwrap() - evidence).abs() < 1e-3, "{pair}");
    for c in pair["comparisons"].as_array().unwrap() {
        let shown = candidate["weights"][c["name"].as_str().unwrap()]["weight"].as_f64().unwrap();
        assert!((c["weight"].as_f64().unwrap() - shown).abs() < 1e-3, "{c} vs {candidate}");
    }
    let weights: f64 = pair["comparisons"].as_array().unwrap().iter().map(|c| c["weight"].as_f64().unwrap()).sum();
    let prior = pair["prior"].as_f64().unwrap();
    let odds = prior / (1.0 - prior) * weights.exp2();
    let end = odds / (1.0 + odds);
    assert!(
        (end - pair["probability"].as_f64().unwrap()).abs() < 1e-9,
        "the waterfall ends at the probability: {pair}"
    );
    let number = pair["comparisons"].as_array().unwrap().iter().find(|c| c["name"] == "number").unwrap();
    assert!(number["record_value"].as_str().unwrap().starts_with("********"), "{number}");
    assert!(!d.text.contains(record["my_number"].as_str().unwrap()), "a My Number in full");

    // Marks: checked, then appended to the log as lines of their own.
    let mark = |body: Value| server.post(&format!("/v1/decisions/{id}/review"), &body.to_string());
    assert_eq!(mark(json!({"action": "merge"})).code(), "bad_request");
    assert_eq!(mark(json!({"action": "same_person"})).code(), "bad_request", "same_person needs same_as");
    assert_eq!(mark(json!({"action": "reject", "note": "x".repeat(2001)})).code(), "bad_request");
    let unknown = server.post("/v1/decisions/no-such-decision/review", &json!({"action": "reject"}).to_string());
    assert_eq!((unknown.status, unknown.code()), (404, "not_found"));
    let m = mark(json!({"action": "same_person", "same_as": "P001398", "note": "運転免許証で確認"}));
    assert_eq!(m.status, 200, "{}", m.text);
    let line = logged(&log, |v| v["route"] == "review");
    assert_eq!(line["reviews"], id.as_str());
    assert_eq!((line["action"].as_str(), line["same_as"].as_str()), (Some("same_person"), Some("P001398")));
    assert_eq!(line["note"], "運転免許証で確認");
    assert_eq!(line["decision_id"], m.body["review_id"]);
    let q = server.get("/v1/review-queue");
    assert_eq!(q.body["items"][0]["reviewed"]["action"], "same_person", "{}", q.text);
    let d = server.get(&format!("/v1/decisions/{id}"));
    assert_eq!(d.body["reviews"].as_array().unwrap().len(), 1, "{}", d.text);
}

#[test]
fn the_review_queue_reads_kensa_eval_output_and_needs_a_log_or_a_file() {
    let dir = workdir("serve-review-from");
    let server = Server::start(&[]);
    let a = server.get("/v1/review-queue");
    assert_eq!((a.status, a.code()), (409, "no_decision_log"));
    drop(server);

    // `kensa eval` verdicts: each line named by its file and line.
    let out = Command::new(KENSA)
        .args(["eval", "--today", TODAY, "--registry", "examples/registry.jsonl", "examples/enrollment.jsonl"])
        .current_dir(ROOT)
        .output()
        .unwrap();
    let verdicts = dir.join("verdicts.jsonl");
    std::fs::write(&verdicts, &out.stdout).unwrap();
    let reviews =
        String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.contains("\"decision\":\"review\"")).count();
    assert!(reviews > 3, "the bundled records send some to review");
    let server = Server::start(&["--review-from", verdicts.to_str().unwrap()]);
    let q = server.get("/v1/review-queue");
    assert_eq!(q.status, 200, "{}", q.text);
    assert_eq!(q.body["total"], reviews, "{}", q.text);
    let first = q.body["items"][0]["decision_id"].as_str().unwrap().to_string();
    assert!(first.starts_with("verdicts.jsonl:"), "{first}");
    let d = server.get(&format!("/v1/decisions/{first}"));
    assert_eq!((d.status, d.body["verdict"]["decision"].as_str()), (200, Some("review")), "{}", d.text);
    // Marking needs a decision log to write to.
    let m = server.post(&format!("/v1/decisions/{first}/review"), &json!({"action": "reject"}).to_string());
    assert_eq!((m.status, m.code()), (409, "no_decision_log"));
}

#[test]
fn the_screens_are_served_without_a_token_and_load_nothing_from_elsewhere() {
    let dir = workdir("serve-screens");
    let (tokens, window, _) = tokens_file(&dir);
    let server = Server::start(&["--tokens", tokens.to_str().unwrap()]);
    let agent = ureq::AgentBuilder::new().build();
    for (path, kind) in [
        ("/", "text/html"),
        ("/review", "text/html"),
        ("/review/01a2-x", "text/html"),
        ("/assets/kensa.css", "text/css"),
        ("/assets/kensa.js", "text/javascript"),
        ("/assets/form.js", "text/javascript"),
        ("/assets/queue.js", "text/javascript"),
        ("/assets/review.js", "text/javascript"),
    ] {
        let r = agent.get(&server.url(path)).call().unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(r.content_type().starts_with(kind), "{path}: {}", r.content_type());
        let csp = r.header("content-security-policy").unwrap_or_default().to_string();
        assert!(csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"), "{path}: {csp}");
        let body = r.into_string().unwrap();
        for foreign in ["http://", "https://", "//cdn", "fonts.googleapis"] {
            // The SVG namespace is a name, not a request.
            let named = if foreign == "http://" { body.matches("http://www.w3.org/2000/svg").count() } else { 0 };
            let hits = body.matches(foreign).count() - named;
            assert_eq!(hits, 0, "{path} names `{foreign}`");
        }
        if kind == "text/html" {
            assert!(body.contains("<html lang=\"ja\">"), "{path}");
        }
    }
    // The data behind them still needs the token.
    assert_eq!(server.get("/v1/rules").status, 401);
    assert_eq!(server.get_as("/v1/rules", Some(&window)).status, 200);
    assert_eq!(server.get("/v1/review-queue").status, 401);
}
