//! Process-wide caches shared by the Kbuild and Kconfig readers: each file is read and
//! parsed once for all arches, each Kconfig view built once per (tree, arch).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};

/// Values computed at most once per process and key, shared between threads: concurrent
/// requests for one key wait for one computation (Kconfig views, parsed files).
pub(super) struct OnceMap<K, V> {
    slots: LazyLock<Mutex<HashMap<K, Arc<std::sync::OnceLock<V>>>>>,
}

impl<K: std::hash::Hash + Eq + Clone, V: Clone> OnceMap<K, V> {
    pub(super) const fn new() -> Self {
        OnceMap {
            slots: LazyLock::new(Default::default),
        }
    }

    pub(super) fn get(&self, key: K, init: impl FnOnce(&K) -> V) -> V {
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.clone())
            .or_default()
            .clone();
        slot.get_or_init(|| init(&key)).clone()
    }
}

/// Files read and parsed at most once per process; `None` for a file that cannot be read.
pub(super) struct FileCache<T>(OnceMap<PathBuf, Option<Arc<T>>>);

impl<T> FileCache<T> {
    pub(super) const fn new() -> Self {
        FileCache(OnceMap::new())
    }

    pub(super) fn get(&self, path: PathBuf, parse: impl FnOnce(&str) -> T) -> Option<Arc<T>> {
        self.0.get(path, |path| {
            let bytes = std::fs::read(path).ok()?;
            Some(Arc::new(parse(&String::from_utf8_lossy(&bytes))))
        })
    }
}
