//! `kensa lsp`: the real binary driven over JSON-RPC on stdin and stdout (`Content-Length`
//! framing), as an editor drives it. Every wait has a deadline, so a server that hangs fails
//! the test instead of blocking it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);

const SCHEMA: &str = "schema Person {
  id: text
  family_name: text
  birth_date: date
  bank: {
    bank_code: text
    branch_code: text
  }?
}
";

/// Three unknown names (`family_nme`, `cod`, `brith_date`), after Japanese text so that
/// columns in UTF-16 units differ from columns in bytes.
const RULES: &str = "// 氏名と口座の検査（テスト用）
let code = digits(bank.bank_code)

rule name.present \"氏を入力してください\" { require not blank(family_nme); reject }

rule bank.code \"金融機関コードは4桁\" {
  when present(bank)
  require length(cod) == 4 and is_digits(code)
  reject
}

rule birth.known {
  require present(brith_date)
  reject
}
";

/// A fresh folder, removed at the end.
struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir(case: &str) -> Dir {
    let d = std::env::temp_dir().join(format!("kensa-lsp-{}-{case}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Dir(d)
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// The LSP position (line, UTF-16 column) of the first `needle` in `text`, plus `extra` bytes.
fn pos(text: &str, needle: &str, extra: usize) -> Value {
    let at = text.find(needle).unwrap() + extra;
    let before = &text[..at];
    let line = before.matches('\n').count();
    let column = before.rsplit('\n').next().unwrap().encode_utf16().count();
    json!({ "line": line, "character": column })
}

struct Server {
    child: Child,
    stdin: ChildStdin,
    inbox: Receiver<Value>,
    next_id: i64,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kensa"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, inbox) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("a Content-Length header")];
                r.read_exact(&mut body).unwrap();
                if tx.send(serde_json::from_slice::<Value>(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        Server { child, stdin, inbox, next_id: 1 }
    }

    fn send(&mut self, msg: &Value) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Send a request and wait for its response; the result (an error fails the test).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let msg = self.wait_for(|m| m["id"] == json!(id) && m.get("method").is_none());
        assert!(msg.get("error").is_none(), "{method} failed: {msg}");
        msg["result"].clone()
    }

    /// The next message that `pred` accepts (others are dropped), within the deadline.
    fn wait_for(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.inbox.recv_timeout(left) {
                Ok(m) if pred(&m) => return m,
                Ok(_) => {}
                Err(e) => panic!("no expected message from `kensa lsp` within {WAIT:?}: {e}"),
            }
        }
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let m = self.wait_for(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri);
        m["params"]["diagnostics"].as_array().unwrap().clone()
    }

    /// `shutdown`, `exit`, and the process ends by itself with status 0.
    fn stop(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "kensa lsp exited with {status}");
                return;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("kensa lsp did not exit after `exit`");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn initialize(server: &mut Server, root: &Path) -> Value {
    server.request("initialize", json!({ "processId": null, "rootUri": uri(root), "capabilities": {} }))
}

#[test]
fn lsp_diagnostics_hover_completion_definition() {
    let d = dir("main");
    std::fs::write(d.0.join("schema.kensa"), SCHEMA).unwrap();
    std::fs::write(d.0.join("rules.kensa"), RULES).unwrap();
    let rules_uri = uri(&d.0.join("rules.kensa"));
    let mut s = Server::start();
    let init = initialize(&mut s, &d.0);
    assert_eq!(init["capabilities"]["hoverProvider"], json!(true), "{init}");
    s.notify("initialized", json!({}));

    // Open: three unknown names, with the codes, messages, help and ranges of `kensa check`.
    s.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": rules_uri, "languageId": "kensa", "version": 1, "text": RULES } }),
    );
    let diags = s.diagnostics(&rules_uri);
    assert_eq!(diags.len(), 3, "{diags:#?}");
    let first = &diags[0];
    assert_eq!(first["code"], "kensa::check::unknown_name", "{first}");
    assert!(first["message"].as_str().unwrap().contains("unknown name `family_nme`"), "{first}");
    assert!(first["message"].as_str().unwrap().contains("did you mean `family_name`?"), "{first}");
    // After `氏を入力してください`: each kana is one UTF-16 unit (51; in bytes it would be 71).
    assert_eq!(first["range"]["start"], pos(RULES, "family_nme", 0), "{first}");
    assert_eq!(first["range"]["end"], pos(RULES, "family_nme", "family_nme".len()), "{first}");
    assert_eq!(first["range"]["start"]["character"], json!(51), "{first}");

    // The quick fix for "did you mean".
    let actions = s.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": rules_uri }, "range": first["range"], "context": { "diagnostics": [] } }),
    );
    let edit = &actions[0]["edit"]["changes"][&rules_uri][0];
    assert_eq!(edit["newText"], "family_name", "{actions}");
    assert_eq!(edit["range"], first["range"], "{actions}");

    // Change: one name fixed, two diagnostics left.
    let fixed = RULES.replace("family_nme", "family_name");
    s.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": rules_uri, "version": 2 }, "contentChanges": [{ "text": fixed }] }),
    );
    let diags = s.diagnostics(&rules_uri);
    assert_eq!(diags.len(), 2, "{diags:#?}");
    // The file on disk is not changed by the editor's text.
    assert_eq!(std::fs::read_to_string(d.0.join("rules.kensa")).unwrap(), RULES);

    // Hover on a builtin: its signature and doc.
    let hover = s.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": rules_uri }, "position": pos(&fixed, "digits(", 2) }),
    );
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.contains("digits("), "{hover}");
    // Hover on a schema field: its type.
    let hover = s.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": rules_uri }, "position": pos(&fixed, "bank_code", 3) }),
    );
    assert!(hover["contents"]["value"].as_str().unwrap().contains("text"), "{hover}");

    // Hover on a `let`: its definition.
    let hover = s.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": rules_uri }, "position": pos(&fixed, "is_digits(code)", "is_digits(".len()) }),
    );
    assert!(hover["contents"]["value"].as_str().unwrap().contains("let code = digits(bank.bank_code)"), "{hover}");

    // Completion after `bank.`: the fields of the group.
    let typing = fixed.replace("when present(bank)", "when present(bank.)");
    s.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": rules_uri, "version": 3 }, "contentChanges": [{ "text": typing }] }),
    );
    let _ = s.diagnostics(&rules_uri);
    let items = s.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": rules_uri }, "position": pos(&typing, "present(bank.)", "present(bank.".len()) }),
    );
    let labels: Vec<&str> = items.as_array().unwrap().iter().map(|i| i["label"].as_str().unwrap()).collect();
    assert!(labels.contains(&"bank_code"), "{labels:?}");
    assert!(labels.contains(&"branch_code"), "{labels:?}");
    assert!(!labels.contains(&"family_name"), "{labels:?}");
    // Elsewhere: fields, bindings, builtins and keywords.
    let items = s.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": rules_uri }, "position": pos(&typing, "require length", 0) }),
    );
    let labels: Vec<&str> = items.as_array().unwrap().iter().map(|i| i["label"].as_str().unwrap()).collect();
    for want in ["family_name", "code", "digits", "require"] {
        assert!(labels.contains(&want), "{want} not in {labels:?}");
    }

    // Back to the text that parses, then go to definition of the `let` in `is_digits(code)`.
    s.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": rules_uri, "version": 4 }, "contentChanges": [{ "text": fixed }] }),
    );
    assert_eq!(s.diagnostics(&rules_uri).len(), 2);
    let def = s.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": rules_uri }, "position": pos(&fixed, "is_digits(code)", "is_digits(".len() + 1) }),
    );
    assert_eq!(def["uri"], rules_uri, "{def}");
    assert_eq!(def["range"]["start"], json!({ "line": 1, "character": 4 }), "{def}");
    assert_eq!(def["range"]["end"], json!({ "line": 1, "character": 8 }), "{def}");

    // Go to definition of a field: its declaration in the schema file.
    let def = s.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": rules_uri }, "position": pos(&fixed, "bank.bank_code", "bank.b".len()) }),
    );
    assert_eq!(def["uri"], uri(&d.0.join("schema.kensa")), "{def}");
    assert_eq!(def["range"]["start"], json!({ "line": 5, "character": 4 }), "{def}");

    // Document symbols: the binding and the three rules.
    let symbols = s.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": rules_uri } }));
    let names: Vec<&str> = symbols.as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["code", "name.present", "bank.code", "birth.known"], "{symbols}");

    // Closing the file clears its diagnostics.
    s.notify("textDocument/didClose", json!({ "textDocument": { "uri": rules_uri } }));
    assert_eq!(s.diagnostics(&rules_uri), Vec::<Value>::new());

    s.stop();
}

const CLEAN: &str = "include \"parts/schema.kensa\"\nlet x = digits(id)\nrule r { require x != \"\"; reject }\n";

#[test]
fn lsp_formats_and_follows_includes() {
    let d = dir("include");
    std::fs::write(d.0.join("main.kensa"), CLEAN).unwrap();
    std::fs::create_dir_all(d.0.join("parts")).unwrap();
    std::fs::write(d.0.join("parts/schema.kensa"), "schema S { id: text }\n").unwrap();
    let main_uri = uri(&d.0.join("main.kensa"));
    let messy = "include \"parts/schema.kensa\"\nlet   x =digits( id )\nrule r {require x != \"\" ;reject}\n";
    let mut s = Server::start();
    initialize(&mut s, &d.0);
    s.notify("initialized", json!({}));
    s.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": main_uri, "languageId": "kensa", "version": 1, "text": messy } }),
    );
    assert_eq!(s.diagnostics(&main_uri), Vec::<Value>::new());
    let def = s.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": main_uri }, "position": pos(messy, "parts/", 2) }),
    );
    assert_eq!(def["uri"], uri(&d.0.join("parts/schema.kensa")), "{def}");
    let edits = s.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": main_uri }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert_eq!(edits[0]["newText"], CLEAN, "{edits}");
    s.stop();
}

#[test]
fn lsp_in_an_overlay_knows_the_base() {
    let d = dir("overlay");
    let text = "extend builtin\n\nextend schema Resident {\n  residence_card_number: text? max(16)\n}\n\n\
                disable kana.family_is_katakan \"外国人住民のフリガナは任意\"\n\n\
                override  \"理由\" {\n  when blank(residence_card_number)\n}\n";
    let file = d.0.join("local.kensa");
    std::fs::write(&file, text).unwrap();
    let file_uri = uri(&file);
    let mut s = Server::start();
    initialize(&mut s, &d.0);
    s.notify("initialized", json!({}));
    s.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": file_uri, "languageId": "kensa", "version": 1, "text": text } }),
    );
    // The misspelt rule of the base is a warning with the nearest name (the empty override
    // name is a syntax error).
    let diags = s.diagnostics(&file_uri);
    let codes: Vec<&str> = diags.iter().map(|d| d["code"].as_str().unwrap_or("")).collect();
    assert!(codes.contains(&"kensa::syntax::unexpected"), "{diags:?}");
    // After `override `: the base's rules.
    let items = s.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": file_uri }, "position": pos(text, "override  ", "override ".len()) }),
    );
    let labels: Vec<&str> = items.as_array().unwrap().iter().map(|i| i["label"].as_str().unwrap()).collect();
    assert!(labels.contains(&"kana.given_is_katakana") && labels.contains(&"bank.holder_is_registrant"), "{labels:?}");
    assert!(!labels.contains(&"when"), "only rule names after `override`: {labels:?}");
    // In a condition: the base's fields and the overlay's own.
    let items = s.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": file_uri }, "position": pos(text, "blank(", "blank(".len()) }),
    );
    let labels: Vec<&str> = items.as_array().unwrap().iter().map(|i| i["label"].as_str().unwrap()).collect();
    assert!(labels.contains(&"residence_card_number") && labels.contains(&"family_name_kana"), "{labels:?}");

    // Name the rule: the override compiles; the misspelt disable is a warning.
    let fixed = text.replace("override  ", "override kana.given_is_katakana ");
    s.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": file_uri, "version": 2 }, "contentChanges": [{ "text": fixed }] }),
    );
    let diags = s.diagnostics(&file_uri);
    let codes: Vec<&str> = diags.iter().map(|d| d["code"].as_str().unwrap_or("")).collect();
    assert_eq!(codes, ["kensa::overlay::unknown_rule"], "{diags:?}");
    assert!(diags[0]["message"].as_str().unwrap().contains("kana.family_is_katakan"), "{diags:?}");
    s.stop();
}
