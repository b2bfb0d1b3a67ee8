//! `kensa test --registry-store`: a suite's enrolled records in a temporary registry database
//! (a SQLite file, or a schema on a PostgreSQL server) instead of memory.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use kensa::registry::{Registry, SqliteRegistry};

/// A temporary registry database, removed when dropped.
pub enum Temporary {
    File(PathBuf),
    #[cfg(feature = "postgres")]
    Schema {
        url: String,
        name: String,
    },
}

impl Drop for Temporary {
    fn drop(&mut self) {
        match self {
            Temporary::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.as_os_str().to_owned();
                    p.push(suffix);
                    let _ = std::fs::remove_file(PathBuf::from(p));
                }
            }
            #[cfg(feature = "postgres")]
            Temporary::Schema { url, name } => {
                let options = kensa::registry::PgOptions::default();
                if let Err(e) = kensa::registry::PostgresRegistry::drop_schema(url, &options, name) {
                    say!("warning: {e}; drop it by hand (`DROP SCHEMA {name} CASCADE`)");
                }
            }
        }
    }
}

/// A name no other suite of this run, and no other run, uses.
fn unique_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("kensa_suite_{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Import `records` into a new temporary store of `kind` (`sqlite` or a `postgres://` URL).
pub fn load(
    kind: &str,
    engine: &kensa::Engine,
    records: Vec<serde_json::Value>,
) -> Result<(Box<dyn Registry>, Temporary), String> {
    let entries: Vec<kensa::registry::Entry> = records
        .into_iter()
        .enumerate()
        .map(|(i, r)| engine.registry_entry(r).map_err(|e| format!("enrolled record {}: {e}", i + 1)))
        .collect::<Result<_, _>>()?;
    let keys = |v: &serde_json::Value| engine.blocking_keys(v);
    let version = engine.key_version();
    if kind == "sqlite" {
        let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
        let temporary = Temporary::File(path.clone());
        let reg = SqliteRegistry::open_write(&path, &version, &keys).map_err(|e| e.0)?;
        reg.insert_batch(&entries).map_err(|e| e.0)?;
        return Ok((Box::new(reg), temporary));
    }
    if kensa::registry::is_server_url(kind) {
        #[cfg(feature = "postgres")]
        {
            let name = unique_name();
            let options = kensa::registry::PgOptions { schema: Some(name.clone()), ..Default::default() };
            let reg = match kensa::registry::PostgresRegistry::open_write(kind, &options, &version, &keys) {
                Ok(r) => r,
                Err(e) => {
                    // The schema may have been created before the failure.
                    let _ = kensa::registry::PostgresRegistry::drop_schema(kind, &options, &name);
                    return Err(e.0);
                }
            };
            let temporary = Temporary::Schema { url: kind.to_string(), name };
            kensa::registry::Store::insert_batch(&reg, &entries).map_err(|e| e.0)?;
            return Ok((Box::new(reg), temporary));
        }
        #[cfg(not(feature = "postgres"))]
        return Err(super::super::registry::no_server_support());
    }
    Err(format!(
        "unknown registry store `{}`: use `sqlite` or a PostgreSQL URL (`postgres://…`)",
        kensa::registry::redact(kind)
    ))
}
