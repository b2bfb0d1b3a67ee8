//! My Numbers and bank account numbers never reach output in full unless `--show-pii` is given,
//! and the engine makes no network access.
//!
//! Every command that prints record data runs over the bundled example corpus
//! (`examples/*.jsonl`, the data of the README's first command) and over inputs that cannot be
//! read (broken JSON, YAML, CSV, wrong types). The actual numbers are collected from the inputs;
//! no output (stdout or stderr) may contain one, also when the output writes it with spaces,
//! hyphens or full-width digits. With `--show-pii` they must appear, so the check can fail.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/cli.rs"]
mod cli;
#[path = "common/secrets.rs"]
mod secrets;

use std::collections::BTreeSet;
use std::path::Path;

use cli::{ROOT, Run, run_in, workdir, write};
use secrets::{digit_runs, leaked, secrets_of};

const TODAY: &str = "2026-11-27";

/// Broken inputs, each with a My Number or an account number inside what cannot be read.
const BAD_JSONL: &str = concat!(
    r#"{"id": "X1", "my_number": "4637 6044 4596", "family_name": "#,
    "\n",
    r#"{"id": "X2", "my_number": 463760444597, "family_name": "柴田", "given_name": "真由美", "family_name_kana": "シバタ", "given_name_kana": "マユミ", "birth_date": "1973-09-16", "sex": "female", "postal_code": "260-0855", "address": "千葉県千葉市中央区市場町22番8号", "bank": {"bank_code": "0005", "branch_code": "123", "account_type": "ordinary", "account_number": 7654321, "holder_kana": "ｼﾊﾞﾀ ﾏﾕﾐ"}}"#,
    "\n",
    r#"{"id": "X3", "my_number": "１２３４５６７８９０１９", "family_name": "柴田", "given_name": "真由美", "family_name_kana": "シバタ", "given_name_kana": "マユミ", "birth_date": "1973-09-16", "sex": "female", "postal_code": "260-0855", "address": "千葉県千葉市中央区市場町22番8号", "bank": {"bank_code": "0005", "branch_code": "123", "account_type": "ordinary", "account_number": "76543210", "holder_kana": "ｼﾊﾞﾀ ﾏﾕﾐ"}, "note": "987654321018"}"#,
    "\n",
    r#"["621498320257"]"#,
    "\n",
    r#"{"id": "X5", "my_number": "983205673214" "family_name": "x"}"#,
    "\n",
);
const BAD_JSON: &str = r#"[{"id": "J1", "my_number": "200000000050", "bank": {"account_number": "1357913"}}, {"id": "J2", "my_number": "000000000060" ]"#;
const BAD_YAML: &str = "- id: Y1\n  my_number: \"621498320258\"\n  bank: {account_number: \"2468024\"\n- id: Y2\n";
const BAD_CSV: &str =
    "id,my_number,family_name,bank.account_number\nC1,528731694022,山田,1122334\nC2,987654321018,佐藤,5566778,extra\n";
/// Every number in the broken inputs above.
const BAD_SECRETS: &[&str] = &[
    "463760444596",
    "463760444597",
    "7654321",
    "123456789019",
    "76543210",
    "987654321018",
    "621498320257",
    "983205673214",
    "200000000050",
    "1357913",
    "000000000060",
    "621498320258",
    "2468024",
    "528731694022",
    "1122334",
    "5566778",
];

/// A suite whose cases expect the wrong decision, so `kensa test` prints what it got.
fn failing_suite(root: &str) -> String {
    let enrollment = std::fs::read_to_string(Path::new(root).join("examples/enrollment.jsonl")).unwrap();
    let mut s = format!("rules: {root}/rules\ntoday: {TODAY}\nregistry: {root}/examples/registry.jsonl\ncases:\n");
    for (i, line) in enrollment.lines().filter(|l| !l.trim().is_empty()).take(40).enumerate() {
        s.push_str(&format!(
            "  - name: case {i}\n    record: {line}\n    expect:\n      decision: accept\n      score: 100\n"
        ));
    }
    s
}

struct Corpus {
    dir: cli::Workdir,
    secrets: BTreeSet<String>,
}

fn corpus(case: &str) -> Corpus {
    let dir = workdir(&format!("privacy-{case}"));
    let mut secrets = BTreeSet::new();
    for f in ["examples/enrollment.jsonl", "examples/registry.jsonl"] {
        secrets_of(&Path::new(ROOT).join(f), &mut secrets);
    }
    secrets.extend(BAD_SECRETS.iter().map(|s| (*s).to_string()));
    // Numbers too short to be told from other data would make the check meaningless.
    assert!(secrets.iter().all(|s| s.len() >= 7), "{secrets:?}");
    assert!(secrets.len() > 2000, "the corpus has numbers to look for: {}", secrets.len());
    // The enrollment records again as one JSON array (another reader, the same numbers).
    let enrollment = std::fs::read_to_string(Path::new(ROOT).join("examples/enrollment.jsonl")).unwrap();
    let records: Vec<&str> = enrollment.lines().filter(|l| !l.trim().is_empty()).collect();
    write(&dir, "records.json", &format!("[{}]", records.join(",\n")));
    write(&dir, "bad.jsonl", BAD_JSONL);
    write(&dir, "bad.json", BAD_JSON);
    write(&dir, "bad.yaml", BAD_YAML);
    write(&dir, "bad.csv", BAD_CSV);
    write(&dir, "suite/failing.yaml", &failing_suite(ROOT));
    Corpus { dir, secrets }
}

/// Every command that prints record data, over the corpus.
fn commands(root: &str) -> Vec<Vec<String>> {
    let enrollment = format!("{root}/examples/enrollment.jsonl");
    let cases = "records.json";
    let registry = format!("{root}/examples/registry.jsonl");
    let rules = format!("{root}/rules");
    let t = ["--today", TODAY];
    let mut c: Vec<Vec<&str>> = vec![
        vec!["eval", "--registry", &registry, &enrollment],
        vec!["eval", "--registry", &registry, "--format", "table", &enrollment],
        vec!["eval", "--registry", &registry, "--format", "json", "--explain", &enrollment],
        vec!["eval", "--registry", &registry, "--format", "yaml", cases],
        vec!["eval", "--registry", &registry, "--explain", "--format", "table", cases],
        vec!["eval", cases, "bad.jsonl", "bad.json", "bad.yaml", "bad.csv"],
        vec!["eval", "--strict", "bad.jsonl"],
        vec!["registry", "import", &registry, "--db", "reg.db"],
        vec!["registry", "import", "bad.jsonl", "bad.json", "bad.yaml", "bad.csv", "--db", "reg.db"],
        vec!["registry", "stats", "--db", "reg.db"],
        vec!["registry", "stats", "--db", "reg.db", "--json"],
        vec!["eval", "--registry", "reg.db", &enrollment],
        vec!["enroll", "--db", "reg.db", &enrollment, cases],
        vec!["enroll", "--db", "reg.db", "bad.jsonl", "bad.json", "bad.yaml", "bad.csv"],
        vec!["dedup", "--clusters", &registry],
        vec!["dedup", "bad.jsonl"],
        vec!["link", "--registry", &registry, &enrollment],
        vec!["diff", "--base", &rules, "--registry", &registry, &enrollment],
        vec!["diff", "--base", &rules, "--registry", &registry, "--format", "json", cases, "bad.jsonl"],
        vec!["test", "suite/failing.yaml"],
        vec!["test", "--format", "json", "suite/failing.yaml"],
    ];
    for cmd in &mut c {
        if !matches!(cmd[0], "registry" | "test") {
            cmd.extend(t);
        }
    }
    c.into_iter().map(|v| v.into_iter().map(String::from).collect()).collect()
}

fn run_all(corpus: &Corpus, extra: &[&str], only: &[&str]) -> Vec<Run> {
    let _ = std::fs::remove_file(corpus.dir.join("reg.db"));
    commands(ROOT)
        .iter()
        .filter(|args| only.is_empty() || only.contains(&args[0].as_str()))
        .map(|args| {
            let mut a: Vec<&str> = extra.to_vec();
            a.extend(args.iter().map(String::as_str));
            let r = run_in(&corpus.dir, &a, None);
            assert!(r.code != 101 && !r.stderr.contains("panicked"), "kensa crashed: {}", r.golden());
            r
        })
        .collect()
}

#[test]
fn no_output_shows_a_my_number_or_account_number_in_full() {
    let c = corpus("masked");
    let mut problems = Vec::new();
    let mut printed = 0;
    for r in run_all(&c, &[], &[]) {
        printed += r.stdout.len() + r.stderr.len();
        for (stream, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
            let found = leaked(text, &c.secrets);
            if !found.is_empty() {
                let shown: Vec<String> = found.iter().map(|s| kensa::normalize::digits::mask(s)).collect();
                problems.push(format!("`kensa {}` {stream} shows {}", r.args.join(" "), shown.join(", ")));
            }
            // Whatever the inputs: no unmasked 12-digit run at all.
            if let Some(run) = digit_runs(text).iter().find(|r| r.len() == 12) {
                problems.push(format!(
                    "`kensa {}` {stream} has a 12-digit number {}",
                    r.args.join(" "),
                    kensa::normalize::digits::mask(run)
                ));
            }
        }
    }
    assert!(printed > 100_000, "the commands printed their results ({printed} bytes)");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn with_show_pii_the_numbers_are_shown() {
    let c = corpus("shown");
    let runs = run_all(&c, &["--show-pii"], &["eval", "enroll"]);
    let all: String = runs.iter().map(|r| format!("{}{}", r.stdout, r.stderr)).collect();
    let found: BTreeSet<String> = leaked(&all, &c.secrets).into_iter().collect();
    // Findings quote My Numbers (wrong check digit, number held by another) and account numbers
    // (account held by another); with --show-pii they are shown as written.
    assert!(found.iter().any(|s| s.len() == 12), "no My Number shown with --show-pii");
    assert!(found.iter().any(|s| s.len() == 7), "no account number shown with --show-pii");
    // The flag is global: it works after the subcommand too.
    let r = run_in(&c.dir, &["eval", "--show-pii", "--today", TODAY, "records.json"], None);
    assert!(!leaked(&r.stdout, &c.secrets).is_empty(), "{}", r.stderr);
    let r = run_in(&c.dir, &["eval", "--today", TODAY, "records.json"], None);
    assert!(leaked(&r.stdout, &c.secrets).is_empty(), "{}", r.stderr);
}

#[test]
fn the_masking_check_finds_numbers_written_with_separators() {
    let secrets: BTreeSet<String> = ["463760444596", "5892262"].iter().map(|s| (*s).to_string()).collect();
    assert_eq!(leaked("番号 4637 6044 4596 です", &secrets), ["463760444596"]);
    assert_eq!(leaked("口座 6196-550-5892262", &secrets), ["5892262"]);
    assert_eq!(leaked("４６３７６０４４４５９６", &secrets), ["463760444596"]);
    assert!(leaked("********4596 と ************2262", &secrets).is_empty());
}

/// Which crates a build of kensa links (the library and binary; not the test and benchmark
/// tools), by name.
fn linked_crates(features: &[&str]) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| String::from("cargo"));
    let out = std::process::Command::new(cargo)
        .args(["tree", "--offline", "-e", "normal,build", "--prefix", "none", "--format", "{p}"])
        .args(features)
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8(out.stdout).unwrap();
    let crates: BTreeSet<String> = tree.lines().filter_map(|l| l.split_whitespace().next()).map(String::from).collect();
    assert!(crates.contains("kensa") && crates.contains("serde_json"), "the tree was read: {crates:?}");
    crates
}

/// The lean library (no default features) and the command without `postgres` and `serve` link
/// no HTTP, socket or async-runtime crate. The
/// `postgres` feature adds the PostgreSQL client (no HTTP or TLS crate), which connects only to
/// the server named by a `postgres://` registry. The `serve` feature adds an HTTP *server*
/// (`kensa serve`), and still no HTTP client: kensa never calls out. Only `src/cli/serve/`
/// uses `std::net` (it binds the listening socket).
#[test]
fn kensa_links_no_network_code_but_the_postgres_client_and_its_own_server() {
    const NETWORK: &[&str] = &[
        "reqwest",
        "hyper",
        "ureq",
        "curl",
        "isahc",
        "attohttpc",
        "surf",
        "h2",
        "tokio",
        "async-std",
        "smol",
        "mio",
        "socket2",
        "rustls",
        "native-tls",
        "openssl",
        "tungstenite",
        "tokio-postgres",
        "axum",
    ];
    const CLIENTS: &[&str] =
        &["reqwest", "ureq", "curl", "isahc", "attohttpc", "surf", "native-tls", "openssl", "tungstenite"];
    // The lean library, and the command without `postgres` and `serve`.
    let lean = linked_crates(&["--no-default-features"]);
    let network: Vec<&&str> = NETWORK.iter().filter(|n| lean.contains(**n)).collect();
    assert!(network.is_empty(), "network crates in the lean library's dependencies: {network:?}");
    let embedded = linked_crates(&["--no-default-features", "--features", "cli"]);
    assert!(embedded.contains("rusqlite"), "the command has the embedded registry");
    let network: Vec<&&str> = NETWORK.iter().filter(|n| embedded.contains(**n)).collect();
    assert!(network.is_empty(), "network crates in the command without postgres and serve: {network:?}");

    let postgres = linked_crates(&["--no-default-features", "--features", "cli,postgres"]);
    assert!(postgres.contains("tokio-postgres"), "the postgres feature has the PostgreSQL client");
    // What the postgres feature adds is the client and what it needs, and nothing that speaks
    // HTTP or TLS.
    let added: BTreeSet<&String> = postgres.difference(&embedded).collect();
    for name in ["reqwest", "hyper", "ureq", "curl", "h2", "rustls", "native-tls", "openssl", "tungstenite", "axum"] {
        assert!(!added.iter().any(|c| c.as_str() == name), "{name} came with the postgres feature: {added:?}");
    }

    let default = linked_crates(&[]);
    assert!(default.contains("axum") && default.contains("rustls"), "the default build has the server");
    for name in CLIENTS {
        assert!(!default.contains(*name), "the default build links the HTTP client or TLS library {name}");
    }

    let mut stack = vec![Path::new(ROOT).join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("src/cli/serve") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for word in ["std::net", "TcpStream", "UdpSocket", "ToSocketAddrs"] {
                    assert!(!text.contains(word), "`{}` uses {word}", path.display());
                }
            }
        }
    }
}
