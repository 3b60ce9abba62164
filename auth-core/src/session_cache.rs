//! Recently used cookie sessions, kept while the store says nothing ended.

use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::watch;

use crate::secret::Handle;
use crate::store::{RevocationSignal, SessionRecord};

/// A bounded map of cookie-session records, each stamped with the store's
/// `notices` when it was read. An entry counts only while the signal is
/// connected and its `notices` still equal the stamp: any session ending
/// anywhere bumps them, so the cache never answers for a session longer
/// than the signal takes to arrive. While the signal is down nothing is
/// answered from memory.
pub(crate) struct SessionCache {
    signal: watch::Receiver<RevocationSignal>,
    entries: quick_cache::sync::Cache<Handle, (Arc<SessionRecord>, u64)>,
}

impl std::fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCache")
            .field("len", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl SessionCache {
    pub(crate) fn new(signal: watch::Receiver<RevocationSignal>, capacity: usize) -> Self {
        Self {
            signal,
            entries: quick_cache::sync::Cache::new(capacity.max(1)),
        }
    }

    /// The stamp to give a record read from the store now, or `None` when
    /// the signal is down and nothing may be kept.
    pub(crate) fn stamp(&self) -> Option<u64> {
        let signal = *self.signal.borrow();
        signal.connected.then_some(signal.notices)
    }

    /// A record still vouched for by the signal and live at `now`.
    pub(crate) fn get(&self, handle: &Handle, now: SystemTime) -> Option<Arc<SessionRecord>> {
        let stamp = self.stamp()?;
        let (record, at) = self.entries.get(handle)?;
        (at == stamp && record.is_live(now)).then_some(record)
    }

    pub(crate) fn insert(&self, record: Arc<SessionRecord>, stamp: u64) {
        self.entries.insert(record.handle, (record, stamp));
    }

    pub(crate) fn forget(&self, handle: &Handle) {
        self.entries.remove(handle);
    }

    /// Records a touch made through this instance.
    pub(crate) fn touched(&self, handle: &Handle, at: SystemTime) {
        if let Some((record, stamp)) = self.entries.get(handle) {
            let mut record = SessionRecord::clone(&record);
            record.last_seen_at = record.last_seen_at.max(at);
            self.entries.insert(*handle, (Arc::new(record), stamp));
        }
    }
}
