//! The rule set compiled into the binary is exactly the `rules/` folder: a rule or table file
//! added there without being embedded (src/engine.rs `BUILTIN_RULES`) fails here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;

/// Every file under `dir`, keyed by its path relative to `root` with `/` separators.
fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(root, &path, out);
        } else {
            let rel = path.strip_prefix(root).unwrap();
            let name = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            out.insert(name, std::fs::read_to_string(&path).unwrap());
        }
    }
}

#[test]
fn builtin_rules_embed_every_file_under_rules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut on_disk = BTreeMap::new();
    walk(&root, &root, &mut on_disk);
    let embedded: BTreeMap<String, String> =
        kensa::internal::builtin_rules().iter().map(|(n, t)| ((*n).to_string(), (*t).to_string())).collect();
    let disk_names: Vec<&String> = on_disk.keys().collect();
    let embedded_names: Vec<&String> = embedded.keys().collect();
    assert_eq!(embedded_names, disk_names, "rules/ and the embedded rule set list different files");
    for (name, text) in &on_disk {
        assert!(embedded[name] == *text, "`{name}` differs from its embedded copy");
    }
}

#[test]
fn builtin_rules_compile_like_the_folder() {
    let folder = kensa::Engine::from_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")).unwrap();
    let builtin = kensa::Engine::builtin().unwrap();
    assert!(builtin.warnings().is_empty(), "{}", builtin.report().render());
    assert_eq!(folder.rule_ids().collect::<Vec<_>>(), builtin.rule_ids().collect::<Vec<_>>());
}
