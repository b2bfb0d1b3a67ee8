//! Where rule text comes from: a file, a directory of `.kensa` files, or the rule set compiled
//! into the binary; `include` and table files are resolved relative to the file that names them.
//!
//! Input → output: a path (or the embedded set) → a [`SourceMap`] of texts with stable
//! [`FileId`]s. This is the only place that reads rule files; later phases only see text.
//! A file is read only when it is a regular file (a named pipe would wait forever, a device
//! never end) no larger than [`MAX_RULE_FILE_BYTES`] or, for a table, [`MAX_TABLE_FILE_BYTES`],
//! and only from inside the rule folder — whether an `include`, a `file(…)` or the folder scan
//! names it.

use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::diagnostic::Diagnostic;
use crate::display::shorten;
use crate::syntax::ast::{FileId, Span};

/// The largest rule file read, in bytes (the standard rules are 12 KB).
pub const MAX_RULE_FILE_BYTES: u64 = 4 << 20;
/// The largest table file (`file(…)`) read, in bytes: room for every postal code of Japan.
pub const MAX_TABLE_FILE_BYTES: u64 = 64 << 20;

/// Diagnostic codes for loading rule files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoadCode {
    NotFound,
    Unreadable,
    Empty,
    IncludeNotFound,
    Outside,
    NotAFile,
    TooLarge,
}

impl LoadCode {
    pub const ALL: &'static [LoadCode] = &[
        LoadCode::NotFound,
        LoadCode::Unreadable,
        LoadCode::Empty,
        LoadCode::IncludeNotFound,
        LoadCode::Outside,
        LoadCode::NotAFile,
        LoadCode::TooLarge,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LoadCode::NotFound => "kensa::load::not_found",
            LoadCode::Unreadable => "kensa::load::unreadable",
            LoadCode::Empty => "kensa::load::empty",
            LoadCode::IncludeNotFound => "kensa::load::include_not_found",
            LoadCode::Outside => "kensa::load::outside_rule_folder",
            LoadCode::NotAFile => "kensa::load::not_a_file",
            LoadCode::TooLarge => "kensa::load::too_large",
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
            LoadCode::NotAFile => {
                "A rule file, an `include` or a table `file(…)` names something that is not a regular file: a named pipe (which would make kensa wait for a writer forever), a device, a socket or a folder. Rule and table files are read whole before anything is checked, so they must be files; save the text as a file in the rule folder."
            }
            LoadCode::TooLarge => {
                "A rule file is larger than 4 MiB, or a table file larger than 64 MiB. Real rule sets are a few kilobytes and the largest tables (every postal code of Japan) a few megabytes; a larger file is most likely the wrong file, and reading it whole would take many times its size in memory. Check which file the path names; split a very large table."
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
    /// The layer the file belongs to: 0 for the rule set named on the command line, then one
    /// more for each base it `extend`s. Its folder bounds the files it may name.
    layer: usize,
}

/// All texts of a rule set, addressed by [`FileId`].
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    /// Where each layer of the rule set was read from (`None` for an embedded set). Layer 0 is
    /// the rule set named on the command line; an overlay's bases (`extend`) follow.
    layers: Vec<Option<Layer>>,
    /// Texts that replace files on disk (an editor's unsaved buffers, `kensa lsp`), by
    /// lexically normalized path. Empty for every other command.
    overrides: Vec<(PathBuf, Arc<str>)>,
}

/// Where one layer of a rule set was read from.
#[derive(Clone, Debug)]
struct Layer {
    /// Its folder (as given, lexically normalized): `include` and table files must be inside
    /// the folder of the layer of the file that names them.
    folder: PathBuf,
    /// The path it was read from: the folder, or its one file.
    given: PathBuf,
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

impl LoadError {
    /// What to do about a file that is not a regular file or too large; `None` for the other
    /// codes, whose help depends on what named the file.
    pub fn help(&self) -> Option<&'static str> {
        match self.code {
            LoadCode::NotAFile => Some("name a regular file: save the text as a file in the rule folder"),
            LoadCode::TooLarge => Some(
                "check which file the path names: rule files are a few kilobytes, tables a few megabytes (split a larger one)",
            ),
            LoadCode::NotFound
            | LoadCode::Unreadable
            | LoadCode::Empty
            | LoadCode::IncludeNotFound
            | LoadCode::Outside => None,
        }
    }
}

/// What is being read: a rule file or a table file (their size limits differ).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Rules,
    Table,
}

impl FileKind {
    fn max_bytes(self) -> u64 {
        match self {
            FileKind::Rules => MAX_RULE_FILE_BYTES,
            FileKind::Table => MAX_TABLE_FILE_BYTES,
        }
    }
}

/// Read a rule or table file as UTF-8 text, after checking that it is a regular file within the
/// size limit of its kind; `Err` says why not, starting with the path in backticks. Used by
/// `kensa fmt` as well, so it reads rule files by the same rules.
pub fn read_file(path: &Path, kind: FileKind) -> Result<String, LoadError> {
    let shown = path.display().to_string();
    let fail = |code, why: String| LoadError { code, reason: format!("`{}`: {why}", shorten(&shown, 200)) };
    let io = |e: std::io::Error| {
        let code =
            if e.kind() == std::io::ErrorKind::NotFound { LoadCode::IncludeNotFound } else { LoadCode::Unreadable };
        fail(code, io_reason(&e))
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(fail(LoadCode::NotAFile, not_a_file(&meta)));
    }
    let max = kind.max_bytes();
    let too_large = |len: u64| {
        let what = if kind == FileKind::Rules { "a rule file" } else { "a table file" };
        let mib = |n: u64| n as f64 / f64::from(1u32 << 20);
        let why = format!("the file is {:.1} MiB, more than the limit of {} MiB for {what}", mib(len), mib(max));
        fail(LoadCode::TooLarge, why)
    };
    if meta.len() > max {
        return Err(too_large(meta.len()));
    }
    let file = std::fs::File::open(path).map_err(io)?;
    // The file may have grown since it was measured: never read more than the limit.
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max.saturating_add(1)).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > max {
        return Err(too_large(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes().get(..at).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count()) + 1;
        fail(LoadCode::Unreadable, format!("the file is not UTF-8 text (line {line}): save it as UTF-8"))
    })
}

/// What a path that is not a regular file is.
fn not_a_file(meta: &std::fs::Metadata) -> String {
    let t = meta.file_type();
    let what = if t.is_dir() {
        "a folder"
    } else {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if t.is_fifo() {
                "a named pipe"
            } else if t.is_char_device() || t.is_block_device() {
                "a device"
            } else if t.is_socket() {
                "a socket"
            } else {
                "not a regular file"
            }
        }
        #[cfg(not(unix))]
        {
            "not a regular file"
        }
    };
    format!("this is {what}, not a file of text, so it was not read")
}

impl SourceMap {
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// A file's name relative to the rule folder (`registry.kensa`, `tables/prefectures.csv`),
    /// whichever way the folder was given (`rules`, `../rules`, an absolute path) or embedded.
    pub fn relative_name<'a>(&self, file: &'a SourceFile) -> &'a str {
        let Some(Some(Layer { folder: root, .. })) = self.layers.get(file.layer) else {
            return file.name.strip_prefix("builtin:").unwrap_or(&file.name);
        };
        let root = root.to_string_lossy();
        let root = root.trim_end_matches('/');
        if root.is_empty() || root == "." {
            return file.name.strip_prefix("./").unwrap_or(&file.name);
        }
        file.name.strip_prefix(root).and_then(|r| r.strip_prefix('/')).unwrap_or(&file.name)
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
        if self.layers.is_empty() {
            let folder = normalize_path(Path::new(&name).parent().unwrap_or(Path::new("")));
            self.layers.push(Some(Layer { folder, given: normalize_path(Path::new(&name)) }));
        }
        self.push(SourceFile { origin: Origin::Fs(PathBuf::from(&name)), name, text: text.into(), layer: 0 })
    }

    fn push(&mut self, file: SourceFile) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(file);
        id
    }

    fn find(&self, origin: &Origin) -> Option<FileId> {
        self.files().find(|(_, f)| same_origin(&f.origin, origin)).map(|(id, _)| id)
    }

    /// Read a rule file named relative to `from` (an `include`). Returns the id of the loaded
    /// (or already loaded) file, and whether it was new.
    pub fn load_relative(&mut self, from: FileId, rel: &str) -> Result<(FileId, bool), LoadError> {
        self.load(from, rel, FileKind::Rules)
    }

    /// Read a table file named relative to `from` (`file(…)`), as [`SourceMap::load_relative`].
    pub fn load_table(&mut self, from: FileId, rel: &str) -> Result<(FileId, bool), LoadError> {
        self.load(from, rel, FileKind::Table)
    }

    fn load(&mut self, from: FileId, rel: &str, kind: FileKind) -> Result<(FileId, bool), LoadError> {
        let not_found = |reason: String| LoadError { code: LoadCode::IncludeNotFound, reason };
        let Some((base, layer)) = self.get(from).map(|f| (f.origin.clone(), f.layer)) else {
            return Err(not_found(String::from("unknown file")));
        };
        let origin = match base {
            Origin::Fs(p) => {
                let dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
                let path = normalize_path(&dir.join(rel));
                self.check_inside(layer, rel, &path)?;
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
            Origin::Fs(p) => match self.overridden(p) {
                Some(text) => (p.display().to_string(), text.to_string()),
                None => (p.display().to_string(), read_file(p, kind)?),
            },
            Origin::Embedded(set, name) => {
                let text = set
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, t)| (*t).to_string())
                    .ok_or_else(|| not_found(format!("`{name}` is not part of the built-in rule set")))?;
                (format!("builtin:{name}"), text)
            }
        };
        Ok((self.push(SourceFile { name, text: text.into(), origin, layer }), true))
    }

    /// `Err` when `path` (the lexically normalized `rel`, joined to the including file's
    /// folder) is outside the rule set's folder: absolute, climbing out with `..`, or a
    /// symbolic link that resolves elsewhere.
    fn check_inside(&self, layer: usize, rel: &str, path: &Path) -> Result<(), LoadError> {
        let Some(Some(Layer { folder: root, .. })) = self.layers.get(layer) else { return Ok(()) };
        let outside = |how: &str| LoadError {
            code: LoadCode::Outside,
            reason: format!(
                "`{}`: {how} the rule folder `{}`",
                shorten(rel, 200),
                if root.as_os_str().is_empty() { String::from(".") } else { root.display().to_string() }
            ),
        };
        if Path::new(rel).has_root() || path.is_absolute() && !root.is_absolute() {
            return Err(outside("an absolute path points outside"));
        }
        // Below the root, no `..` may remain (`rules/../x`; or `../x` when the root is `.`).
        let climbs = path
            .strip_prefix(root)
            .map_or(true, |below| below.components().next().is_some_and(|c| c == Component::ParentDir));
        if climbs {
            return Err(outside("the path climbs out of"));
        }
        if links_outside(root_dir(root), path) {
            return Err(outside("a symbolic link points outside"));
        }
        Ok(())
    }

    /// The text that replaces the file at `path` (already normalized), if any.
    fn overridden(&self, path: &Path) -> Option<Arc<str>> {
        self.overrides.iter().find(|(p, _)| p == path).map(|(_, t)| Arc::clone(t))
    }

    /// Load a rule file or every `.kensa` file of a directory (sorted by name, not recursive).
    pub fn load_path(path: &Path) -> Result<(SourceMap, Vec<FileId>), Diagnostic> {
        SourceMap::load_path_with(path, &[])
    }

    /// [`SourceMap::load_path`], with the texts of some files given (an editor's buffers): a
    /// given text replaces the file on disk, and a `.kensa` file given for the folder is read
    /// even when it is not on disk yet.
    pub fn load_path_with(
        path: &Path,
        overrides: &[(PathBuf, String)],
    ) -> Result<(SourceMap, Vec<FileId>), Diagnostic> {
        let mut map = SourceMap {
            overrides: overrides.iter().map(|(p, t)| (normalize_path(p), Arc::from(t.as_str()))).collect(),
            ..SourceMap::default()
        };
        let roots = map.add_layer_path(path)?;
        Ok((map, roots))
    }

    /// Load the root files of an embedded rule set: every entry whose name ends in `.kensa`
    /// and has no folder part.
    pub fn load_embedded(set: &'static [(&'static str, &'static str)]) -> (SourceMap, Vec<FileId>) {
        let mut map = SourceMap::default();
        let roots = map.add_layer_embedded(set);
        (map, roots)
    }

    /// The path `rel` names from the folder of `file` (an `extend "…"`), `None` for a file of
    /// the built-in set. Not bounded by the rule folder: a base is a rule set of its own.
    pub fn resolve_dir_of(&self, file: FileId, rel: &str) -> Option<PathBuf> {
        match &self.get(file)?.origin {
            Origin::Fs(p) => Some(normalize_path(&p.parent().unwrap_or(Path::new("")).join(rel))),
            Origin::Embedded(..) => None,
        }
    }

    /// The number of layers loaded: the rule set itself, and each base it extends.
    pub fn layers(&self) -> usize {
        self.layers.len()
    }

    /// The layer a file belongs to (0: the rule set named on the command line).
    pub fn layer_of(&self, file: FileId) -> usize {
        self.get(file).map_or(0, |f| f.layer)
    }

    /// The path a layer was read from (its folder, or its one file), `None` for the built-in
    /// set.
    pub fn layer_path(&self, layer: usize) -> Option<&Path> {
        self.layers.get(layer).and_then(|l| l.as_ref()).map(|l| l.given.as_path())
    }

    /// The folder of a layer, `None` for the built-in set.
    pub fn layer_folder(&self, layer: usize) -> Option<&Path> {
        self.layers.get(layer).and_then(|l| l.as_ref()).map(|l| l.folder.as_path())
    }

    /// Add a layer: the root files of a rule folder (or one file), for an `extend "…"` or the
    /// rule set named on the command line. Its `include`s and tables are bounded by its folder.
    pub fn add_layer_path(&mut self, path: &Path) -> Result<Vec<FileId>, Diagnostic> {
        let layer = self.layers.len();
        let meta = std::fs::metadata(path).map_err(|e| {
            Diagnostic::error(
                LoadCode::NotFound,
                format!("cannot open rules at `{}`: {}", path.display(), io_reason(&e)),
            )
            .help("give the folder that holds the `.kensa` files, e.g. `--rules rules/`")
        })?;
        let mut paths = Vec::new();
        let folder = if meta.is_dir() { path } else { path.parent().unwrap_or(Path::new("")) };
        self.layers.push(Some(Layer { folder: normalize_path(folder), given: normalize_path(path) }));
        if meta.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|e| {
                Diagnostic::error(
                    LoadCode::Unreadable,
                    format!("cannot read folder `{}`: {}", path.display(), io_reason(&e)),
                )
            })?;
            for entry in entries.flatten() {
                let p = entry.path();
                // Sub-folders are not read (not even one named `x.kensa`); anything else named
                // `.kensa` is, and must be a regular file inside the folder, as an `include` must.
                if p.extension().is_some_and(|e| e == "kensa") && !p.is_dir() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    self.check_inside(layer, &name, &normalize_path(&p)).map_err(|e| {
                        Diagnostic::error(e.code, format!("cannot read {e}"))
                            .help("copy the file into the rule folder (or a folder below it) instead of linking to it")
                    })?;
                    paths.push(p);
                }
            }
            let folder = normalize_path(path);
            for (p, _) in &self.overrides {
                let new = p.parent() == Some(folder.as_path())
                    && p.extension().is_some_and(|e| e == "kensa")
                    && !paths.iter().any(|q| normalize_path(q) == *p);
                if new {
                    paths.push(p.clone());
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
        let mut roots = Vec::new();
        for p in paths {
            let text = match self.overridden(&normalize_path(&p)) {
                Some(text) => text,
                None => read_file(&p, FileKind::Rules)
                    .map_err(|e| {
                        Diagnostic::error(e.code, format!("cannot read {e}"))
                            .help(e.help().unwrap_or("rule files must be UTF-8 text"))
                    })?
                    .into(),
            };
            let origin = Origin::Fs(normalize_path(&p));
            roots.push(self.push(SourceFile { name: p.display().to_string(), text, origin, layer }));
        }
        Ok(roots)
    }

    /// Add a layer: the root files of an embedded rule set (the built-in one, for `extend
    /// builtin`).
    pub fn add_layer_embedded(&mut self, set: &'static [(&'static str, &'static str)]) -> Vec<FileId> {
        let layer = self.layers.len();
        self.layers.push(None);
        let mut names: Vec<&(&str, &str)> =
            set.iter().filter(|(n, _)| n.ends_with(".kensa") && !n.contains('/')).collect();
        names.sort_by_key(|(n, _)| *n);
        let mut roots = Vec::new();
        for (name, text) in names {
            roots.push(self.push(SourceFile {
                name: format!("builtin:{name}"),
                text: Arc::from(*text),
                origin: Origin::Embedded(set, (*name).to_string()),
                layer,
            }));
        }
        roots
    }
}

/// Whether `path`, inside `folder` by name, is (or passes through) a symbolic link that resolves
/// outside it.
pub fn links_outside(folder: &Path, path: &Path) -> bool {
    matches!((std::fs::canonicalize(path), std::fs::canonicalize(folder)), (Ok(real), Ok(root)) if !real.starts_with(&root))
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

/// Lexically normalize `a/./b/../c` to `a/c` (no file-system access, so it works for embedded
/// sets). Leading `..` stay: `../rules/../../x` is `../../x`.
pub(crate) fn normalize_path(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                match out.components().next_back() {
                    Some(Component::Normal(_)) => {
                        out.pop();
                    }
                    // `/..` is `/`.
                    Some(Component::RootDir | Component::Prefix(_)) => {}
                    _ => out.push(".."),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_keeps_leading_parents() {
        let n = |p: &str| normalize_path(Path::new(p)).display().to_string();
        assert_eq!(n("a/./b/../c"), "a/c");
        assert_eq!(n("../rules/../../x"), "../../x");
        assert_eq!(n("../../x"), "../../x");
        assert_eq!(n("/../x"), "/x");
    }
}
