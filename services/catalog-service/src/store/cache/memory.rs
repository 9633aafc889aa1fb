//! The in-process cache: a bounded map with per-entry expiry.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Values expire `ttl` after they were written; at most `max_entries` are kept.
///
/// No spans: a lookup is a hash-map read under a mutex, well under a microsecond, while a span
/// costs several microseconds to build and export. Whether a request was served from the cache
/// is the server span's `webstore.cache.result` attribute, recorded by the caller for either
/// cache.
///
/// A `std::sync::Mutex` rather than an async one: every critical section is a hash-map operation,
/// never held across an `.await`, so a blocking lock is both correct and cheaper.
#[derive(Debug)]
pub struct MemoryCache {
    entries: Mutex<HashMap<String, Entry>>,
    ttl: Duration,
    max_entries: usize,
}

#[derive(Debug)]
struct Entry {
    value: String,
    expires_at: Instant,
}

impl MemoryCache {
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            ttl,
            max_entries: max_entries.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // A panic under the lock leaves at worst a stale entry; keep serving.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn get(&self, key: &str) -> Option<String> {
        let now = Instant::now();
        let mut entries = self.lock();
        let value = match entries.get(key) {
            Some(e) if e.expires_at > now => Some(e.value.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        };
        value
    }

    pub fn set(&self, key: &str, value: &str) {
        let now = Instant::now();
        let mut entries = self.lock();
        if entries.len() >= self.max_entries && !entries.contains_key(key) {
            entries.retain(|_, e| e.expires_at > now);
            // Still full of live entries: drop the one closest to expiry. O(n), but only when
            // the cache is full, and n is bounded.
            if entries.len() >= self.max_entries {
                let oldest = entries
                    .iter()
                    .min_by_key(|(_, e)| e.expires_at)
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    entries.remove(&k);
                }
            }
        }
        entries.insert(
            key.to_owned(),
            Entry {
                value: value.to_owned(),
                expires_at: now + self.ttl,
            },
        );
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_come_back_until_they_expire() {
        let cache = MemoryCache::new(Duration::from_millis(50), 10);
        assert_eq!(cache.get("k"), None);
        cache.set("k", "v");
        assert_eq!(cache.get("k").as_deref(), Some("v"));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get("k"), None);
        assert_eq!(cache.len(), 0, "expired entries are removed when seen");
    }

    #[test]
    fn size_is_bounded() {
        let cache = MemoryCache::new(Duration::from_secs(60), 3);
        for i in 0..10 {
            cache.set(&format!("k{i}"), "v");
        }
        assert_eq!(cache.len(), 3);
        assert_eq!(
            cache.get("k9").as_deref(),
            Some("v"),
            "the newest entry is kept"
        );
        cache.set("k9", "w");
        assert_eq!(cache.len(), 3, "overwriting does not evict");
    }
}
