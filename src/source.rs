//! Where rule text comes from: a file, a directory of `.kensa` files, or the rule set compiled
//! into the binary; `include` and table files are resolved relative to the file that names them.
//!
//! Input → output: a path (or the embedded set) → a [`SourceMap`] of texts with stable
//! [`FileId`]s. This is the only place that reads rule files; later phases only see text.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::diagnostic::Diagnostic;
use crate::syntax::ast::{FileId, Span};

/// Diagnostic codes for loading rule files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoadCode {
    NotFound,
    Unreadable,
    Empty,
    IncludeNotFound,
    Outside,
}

impl LoadCode {
    pub const ALL: &'static [LoadCode] =
        &[LoadCode::NotFound, LoadCode::Unreadable, LoadCode::Empty, LoadCode::IncludeNotFound, LoadCode::Outside];

    pub fn as_str(self) -> &'static str {
        match self {
            LoadCode::NotFound => "kensa::load::not_found",
            LoadCode::Unreadable => "kensa::load::unreadable",
            LoadCode::Empty => "kensa::load::empty",
            LoadCode::IncludeNotFound => "kensa::load::include_not_found",
            LoadCode::Outside => "kensa::load::outside_rule_folder",
        }
    }
    pub fn explanation(self) -> &'static str {
        match self {
            LoadCode::NotFound => {
                "The rule path given on the command line does not exist. Check the spelling of the path, or run the command from the folder that holds the rules."
            }
            LoadCode::Unreadable => {
                "A rule or table file exists but could not be read (permissions, or it is not UTF-8 text). Save the file as UTF-8."
            }
            LoadCode::Empty => "The folder holds no `.kensa` files. Rule files must end in `.kensa`.",
            LoadCode::IncludeNotFound => {
                "An `include \"…\"` names a file that does not exist. The path is relative to the file that contains the `include`. Each file is read once, so files may include each other."
            }
            LoadCode::Outside => {
                "An `include` or a table `file(…)` names a file outside the folder of the rule set: an absolute path, a path that climbs out with `..`, or a symbolic link that points elsewhere. A rule set reads only its own folder and the folders below it, so that rule text cannot make kensa read other files (`include \"../../etc/passwd\"`). Copy the file into the rule folder and name it relative to the rule file."
            }
        }
    }
}

/// Where a file's text came from.
#[derive(Clone, Debug)]
enum Origin {
    Fs(PathBuf),
    Embedded(&'static [(&'static str, &'static str)], String),
}

/// One source text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The name shown in diagnostics (a path as the user wrote it, or `builtin:name`).
    pub name: String,
    pub text: Arc<str>,
    origin: Origin,
}

/// All texts of a rule set, addressed by [`FileId`].
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    /// The folder of the rule set (as given, lexically normalized): `include` and table files
    /// must be inside it.
    root: Option<PathBuf>,
}

/// Why a file named by `include` or `file(…)` was not loaded.
#[derive(Clone, Debug)]
pub struct LoadError {
    pub code: LoadCode,
    /// What went wrong, starting with the path in backticks.
    pub reason: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl SourceMap {
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(u32::try_from(i).unwrap_or(u32::MAX)), f))
    }

    /// The text a span covers.
    pub fn slice(&self, span: Span) -> &str {
        self.get(span.file).and_then(|f| f.text.get(span.start as usize..span.end as usize)).unwrap_or("")
    }

    /// Add an in-memory text (used by tests and the library's `from_source`).
    pub fn add_text(&mut self, name: impl Into<String>, text: impl Into<Arc<str>>) -> FileId {
        let name = name.into();
        if self.root.is_none() {
            self.root = Some(normalize_path(Path::new(&name).parent().unwrap_or(Path::new(""))));
        }
        self.push(SourceFile { origin: Origin::Fs(PathBuf::from(&name)), name, text: text.into() })
    }

    fn push(&mut self, file: SourceFile) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(file);
        id
    }

    fn find(&self, origin: &Origin) -> Option<FileId> {
        self.files().find(|(_, f)| same_origin(&f.origin, origin)).map(|(id, _)| id)
    }

    /// Read a file named relative to `from` (an `include` or a table file). Returns the id of the
    /// loaded (or already loaded) file, and whether it was new.
    pub fn load_relative(&mut self, from: FileId, rel: &str) -> Result<(FileId, bool), LoadError> {
        let not_found = |reason: String| LoadError { code: LoadCode::IncludeNotFound, reason };
        let Some(base) = self.get(from).map(|f| f.origin.clone()) else {
            return Err(not_found(String::from("unknown file")));
        };
        let origin = match base {
            Origin::Fs(p) => {
                let dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
                let path = normalize_path(&dir.join(rel));
                self.check_inside(rel, &path)?;
                Origin::Fs(path)
            }
            Origin::Embedded(set, name) => {
                let dir = Path::new(&name).parent().map(Path::to_path_buf).unwrap_or_default();
                Origin::Embedded(set, normalize_path(&dir.join(rel)).to_string_lossy().replace('\\', "/"))
            }
        };
        if let Some(id) = self.find(&origin) {
            return Ok((id, false));
        }
        let (name, text) = match &origin {
            Origin::Fs(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| not_found(format!("`{}`: {}", p.display(), io_reason(&e))))?;
                (p.display().to_string(), text)
            }
            Origin::Embedded(set, name) => {
                let text = set
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, t)| (*t).to_string())
                    .ok_or_else(|| not_found(format!("`{name}` is not part of the built-in rule set")))?;
                (format!("builtin:{name}"), text)
            }
        };
        Ok((self.push(SourceFile { name, text: text.into(), origin }), true))
    }

    /// `Err` when `path` (the lexically normalized `rel`, joined to the including file's
    /// folder) is outside the rule set's folder: absolute, climbing out with `..`, or a
    /// symbolic link that resolves elsewhere.
    fn check_inside(&self, rel: &str, path: &Path) -> Result<(), LoadError> {
        let Some(root) = &self.root else { return Ok(()) };
        let outside = |how: &str| LoadError {
            code: LoadCode::Outside,
            reason: format!(
                "`{rel}`: {how} the rule folder `{}`",
                if root.as_os_str().is_empty() { String::from(".") } else { root.display().to_string() }
            ),
        };
        let climbs = path.components().next().is_some_and(|c| c == Component::ParentDir);
        if Path::new(rel).has_root() || path.is_absolute() && !root.is_absolute() {
            return Err(outside("an absolute path points outside"));
        }
        if climbs || !path.starts_with(root) {
            return Err(outside("the path climbs out of"));
        }
        // A symbolic link inside the folder may still point outside it.
        if let (Ok(real), Ok(real_root)) = (std::fs::canonicalize(path), std::fs::canonicalize(root_dir(root)))
            && !real.starts_with(&real_root)
        {
            return Err(outside("a symbolic link points outside"));
        }
        Ok(())
    }

    /// Load a rule file or every `.kensa` file of a directory (sorted by name, not recursive).
    pub fn load_path(path: &Path) -> Result<(SourceMap, Vec<FileId>), Diagnostic> {
        let mut map = SourceMap::default();
        let mut roots = Vec::new();
        let meta = std::fs::metadata(path).map_err(|e| {
            Diagnostic::error(
                LoadCode::NotFound,
                format!("cannot open rules at `{}`: {}", path.display(), io_reason(&e)),
            )
            .help("give the folder that holds the `.kensa` files, e.g. `--rules rules/`")
        })?;
        let mut paths = Vec::new();
        let folder = if meta.is_dir() { path } else { path.parent().unwrap_or(Path::new("")) };
        map.root = Some(normalize_path(folder));
        if meta.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|e| {
                Diagnostic::error(
                    LoadCode::Unreadable,
                    format!("cannot read folder `{}`: {}", path.display(), io_reason(&e)),
                )
            })?;
            for entry in entries.flatten() {
                let p = entry.path();
                if p.extension().is_some_and(|e| e == "kensa") && p.is_file() {
                    paths.push(p);
                }
            }
            paths.sort();
            if paths.is_empty() {
                return Err(Diagnostic::error(LoadCode::Empty, format!("no `.kensa` files in `{}`", path.display()))
                    .help("rule files must have names ending in `.kensa`"));
            }
        } else {
            paths.push(path.to_path_buf());
        }
        for p in paths {
            let text = std::fs::read_to_string(&p).map_err(|e| {
                Diagnostic::error(LoadCode::Unreadable, format!("cannot read `{}`: {}", p.display(), io_reason(&e)))
                    .help("rule files must be UTF-8 text")
            })?;
            let origin = Origin::Fs(normalize_path(&p));
            roots.push(map.push(SourceFile { name: p.display().to_string(), text: text.into(), origin }));
        }
        Ok((map, roots))
    }

    /// Load the root files of an embedded rule set: every entry whose name ends in `.kensa`
    /// and has no folder part.
    pub fn load_embedded(set: &'static [(&'static str, &'static str)]) -> (SourceMap, Vec<FileId>) {
        let mut map = SourceMap::default();
        let mut roots = Vec::new();
        let mut names: Vec<&(&str, &str)> =
            set.iter().filter(|(n, _)| n.ends_with(".kensa") && !n.contains('/')).collect();
        names.sort_by_key(|(n, _)| *n);
        for (name, text) in names {
            roots.push(map.push(SourceFile {
                name: format!("builtin:{name}"),
                text: Arc::from(*text),
                origin: Origin::Embedded(set, (*name).to_string()),
            }));
        }
        (map, roots)
    }
}

/// The folder to resolve: `.` for the empty (current) folder.
fn root_dir(root: &Path) -> &Path {
    if root.as_os_str().is_empty() { Path::new(".") } else { root }
}

fn same_origin(a: &Origin, b: &Origin) -> bool {
    match (a, b) {
        (Origin::Fs(x), Origin::Fs(y)) => x == y,
        (Origin::Embedded(_, x), Origin::Embedded(_, y)) => x == y,
        _ => false,
    }
}

/// Lexically normalize `a/./b/../c` to `a/c` (no file-system access, so it works for embedded sets).
fn normalize_path(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => String::from("no such file or folder"),
        std::io::ErrorKind::PermissionDenied => String::from("permission denied"),
        std::io::ErrorKind::InvalidData => String::from("the file is not UTF-8 text"),
        _ => e.to_string(),
    }
}
