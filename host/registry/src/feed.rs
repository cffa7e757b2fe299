//! The registry's change feed: which tenant changed at which revision.
//!
//! Events are an optimisation. A subscriber that fell behind (the channel
//! lagged, or it started late) catches up from its last revision with
//! `changes_since`, or reloads everything when the log no longer reaches
//! back that far.

/// Events a subscriber may fall behind by before it must catch up.
pub const FEED_CAPACITY: usize = 1024;

/// One committed write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The revision the write committed at; revisions only grow.
    pub revision: u64,
    /// The tenant whose records (tenant, functions, versions) changed.
    pub tenant: String,
}
