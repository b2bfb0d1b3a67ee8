//! Swapping a compiled rule set while records are being judged.
//!
//! Input: an [`Engine`], later a rule file or folder (or another engine). Output: the engine an
//! evaluation should use now. A [`SharedEngine`] holds the current engine behind an atomic
//! pointer (`arc-swap`): [`SharedEngine::load`] hands out an `Arc<Engine>` without taking a
//! lock, and an evaluation that holds one finishes on that rule set even when a new one is
//! swapped in meanwhile. A rule set is compiled before it replaces anything, so one that does not
//! compile never replaces a good one. It never reads files itself except through
//! [`Engine::from_path`].

use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::engine::{CompileError, Engine};

/// The current rule set of a long-running program, replaceable while evaluations run.
///
/// ```
/// use kensa::{Engine, SharedEngine};
///
/// let shared = SharedEngine::new(Engine::builtin()?);
/// let engine = shared.load(); // an evaluation keeps this one until it drops it
/// assert!(engine.rule_ids().any(|id| id == "my_number.check_digit"));
///
/// // A rule set that does not compile leaves the current one in place.
/// let bad = Engine::from_source("bad.kensa", "rule broken {");
/// assert!(shared.replace_with(bad).is_err());
/// assert!(Arc::ptr_eq(&engine, &shared.load()));
/// # use std::sync::Arc;
/// # Ok::<(), kensa::CompileError>(())
/// ```
#[derive(Debug)]
pub struct SharedEngine {
    current: ArcSwap<Engine>,
}

impl SharedEngine {
    pub fn new(engine: Engine) -> SharedEngine {
        SharedEngine { current: ArcSwap::from_pointee(engine) }
    }

    /// The current engine. Hold it for one evaluation (or one batch) and then drop it; a reload
    /// meanwhile does not affect it, and the old rule set is freed when its last holder drops it.
    pub fn load(&self) -> Arc<Engine> {
        self.current.load_full()
    }

    /// Compile the rules at `path` and, when they compile, make them the current rule set with
    /// the current engine's settings (today, strict mode, `show_pii`). On errors the current
    /// rule set stays and the error holds every diagnostic. Returns the engine that was replaced.
    pub fn reload_from_path(&self, path: impl AsRef<Path>) -> Result<Arc<Engine>, CompileError> {
        self.replace_with(Engine::from_path(path))
    }

    /// Make `compiled` the current rule set (with the current engine's settings) when it is
    /// `Ok`; leave the current one in place and hand back the error otherwise. Returns the
    /// engine that was replaced.
    pub fn replace_with(&self, compiled: Result<Engine, CompileError>) -> Result<Arc<Engine>, CompileError> {
        let fresh = compiled?;
        // `rcu` retries when another reload swapped in between, so the settings are those of
        // the engine actually replaced; cloning an engine only clones two `Arc`s.
        Ok(self.current.rcu(|old| old.settings_to(fresh.clone())))
    }

    /// Make `engine` the current one as it is (its own settings). Returns the engine replaced.
    pub fn store(&self, engine: Engine) -> Arc<Engine> {
        self.current.swap(Arc::new(engine))
    }
}

impl From<Engine> for SharedEngine {
    fn from(engine: Engine) -> SharedEngine {
        SharedEngine::new(engine)
    }
}
