//! Fill leases: the node's one single-flight mechanism. On a miss one
//! caller per node and key becomes the leader and loads the value while the
//! others wait for it. Guests use it through `cache.get-or-lease` (the host
//! keeps a request's leases in a [`HeldLeases`]); host code uses it through
//! [`crate::ReadThrough`].
//!
//! A lease is a watch channel: the leader holds the sender, waiters hold
//! receivers. When the leader sets the value, releases the lease, or its
//! request ends (the store is dropped), the sender drops and every waiter
//! wakes at once, with no lost wake-ups. A lease also expires, so a stuck
//! leader delays waiters by at most its lease.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::watch;
use tokio::time::Instant;

/// The node's outstanding leases, by (tenant, key). Share one per node.
#[derive(Debug, Default)]
pub struct LeaseTable {
    pending: Mutex<HashMap<(String, String), Pending>>,
    next_id: AtomicU64,
}

#[derive(Debug)]
struct Pending {
    id: u64,
    expires: Instant,
    done: watch::Receiver<()>,
}

/// What a caller got from [`LeaseTable::acquire`].
#[derive(Debug)]
pub enum Acquired {
    /// The caller must fill the key; keep the lease until it is set.
    Leader(Lease),
    /// Someone else is filling; wait on this until it resolves or `until`.
    Wait(watch::Receiver<()>, Instant),
}

/// A held fill lease; dropping it wakes the waiters.
#[derive(Debug)]
pub struct Lease {
    id: u64,
    _done: watch::Sender<()>,
}

impl LeaseTable {
    /// Becomes the leader for `(tenant, key)` unless a live lease exists.
    pub fn acquire(&self, tenant: &str, key: &str, lease: std::time::Duration) -> Acquired {
        let Ok(mut pending) = self.pending.lock() else {
            // A poisoned table: let everyone load rather than block.
            return Acquired::Leader(self.lease());
        };
        let now = Instant::now();
        let entry_key = (tenant.to_string(), key.to_string());
        if let Some(p) = pending.get(&entry_key)
            && p.expires > now
            && p.done.has_changed().is_ok()
        {
            return Acquired::Wait(p.done.clone(), p.expires);
        }
        let (tx, rx) = watch::channel(());
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        pending.insert(
            entry_key,
            Pending {
                id,
                expires: now + lease,
                done: rx,
            },
        );
        Acquired::Leader(Lease { id, _done: tx })
    }

    fn lease(&self) -> Lease {
        let (tx, _) = watch::channel(());
        Lease {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            _done: tx,
        }
    }

    /// Ends `lease` for `(tenant, key)`: removes it (unless a newer lease
    /// replaced it) and then wakes the waiters.
    pub fn finish(&self, tenant: &str, key: &str, lease: Lease) {
        if let Ok(mut pending) = self.pending.lock() {
            let entry_key = (tenant.to_string(), key.to_string());
            if pending.get(&entry_key).is_some_and(|p| p.id == lease.id) {
                pending.remove(&entry_key);
            }
        }
        drop(lease);
    }
}

/// The leases one request holds, released when the request's store drops.
#[derive(Debug)]
pub struct HeldLeases {
    table: Arc<LeaseTable>,
    tenant: String,
    held: HashMap<String, Lease>,
}

impl HeldLeases {
    /// No leases yet, for `tenant`.
    pub fn new(table: Arc<LeaseTable>, tenant: &str) -> Self {
        Self {
            table,
            tenant: tenant.to_string(),
            held: HashMap::new(),
        }
    }

    /// The table shared by the node.
    pub fn table(&self) -> &Arc<LeaseTable> {
        &self.table
    }

    /// Keeps a lease for `key`.
    pub fn hold(&mut self, key: &str, lease: Lease) {
        if let Some(old) = self.held.insert(key.to_string(), lease) {
            self.table.finish(&self.tenant, key, old);
        }
    }

    /// Releases the lease on `key`, if held.
    pub fn release(&mut self, key: &str) {
        if let Some(lease) = self.held.remove(key) {
            self.table.finish(&self.tenant, key, lease);
        }
    }
}

impl Drop for HeldLeases {
    fn drop(&mut self) {
        for (key, lease) in self.held.drain() {
            self.table.finish(&self.tenant, &key, lease);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_leader_and_waiters_wake_when_it_finishes() {
        let table = Arc::new(LeaseTable::default());
        let Acquired::Leader(lease) = table.acquire("t", "k", Duration::from_secs(5)) else {
            panic!("first caller leads");
        };
        let Acquired::Wait(mut rx, _) = table.acquire("t", "k", Duration::from_secs(5)) else {
            panic!("second caller waits");
        };
        assert!(matches!(
            table.acquire("other", "k", Duration::from_secs(5)),
            Acquired::Leader(_)
        ));
        table.finish("t", "k", lease);
        assert!(
            rx.changed().await.is_err(),
            "waiter wakes when the leader is done"
        );
        assert!(matches!(
            table.acquire("t", "k", Duration::from_secs(5)),
            Acquired::Leader(_)
        ));
    }

    #[tokio::test]
    async fn expired_leases_pass_to_the_next_caller() {
        let table = LeaseTable::default();
        let _stuck = table.acquire("t", "k", Duration::from_millis(1));
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert!(matches!(
            table.acquire("t", "k", Duration::from_secs(1)),
            Acquired::Leader(_)
        ));
    }
}
