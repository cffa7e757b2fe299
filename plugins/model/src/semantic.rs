//! The semantic cache's index: per tenant and alias, the embeddings of
//! recently cached prompts and their cache keys, bounded, in process.
//!
//! A lookup scans the (small, bounded) list for the most similar prompt
//! with the same target and parameters; the answer itself stays in the
//! cache, so its TTL and byte budget still apply (an evicted answer is a
//! miss). Per node: another node builds its own index as it serves.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use warden_plugin_core::Tenant;

use crate::provider::cosine;

struct Entry {
    params: [u8; 32],
    embedding: Vec<f32>,
    key: String,
}

#[derive(Default)]
pub(crate) struct SemanticIndex {
    lists: Mutex<HashMap<(Tenant, String), VecDeque<Entry>>>,
}

impl SemanticIndex {
    /// The cache key of the most similar prompt at or above `min`.
    pub(crate) fn lookup(
        &self,
        tenant: &Tenant,
        alias: &str,
        params: &[u8; 32],
        embedding: &[f32],
        min: f32,
    ) -> Option<(String, f32)> {
        let lists = self.lists.lock().unwrap_or_else(|p| p.into_inner());
        lists
            .get(&(tenant.clone(), alias.to_string()))?
            .iter()
            .filter(|e| &e.params == params)
            .map(|e| (e, cosine(&e.embedding, embedding)))
            .filter(|(_, s)| *s >= min)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(e, s)| (e.key.clone(), s))
    }

    /// Remembers a cached prompt, dropping the oldest beyond `max`.
    pub(crate) fn insert(
        &self,
        tenant: &Tenant,
        alias: &str,
        params: [u8; 32],
        embedding: Vec<f32>,
        key: String,
        max: usize,
    ) {
        let mut lists = self.lists.lock().unwrap_or_else(|p| p.into_inner());
        let list = lists
            .entry((tenant.clone(), alias.to_string()))
            .or_default();
        if list.iter().any(|e| e.key == key) {
            return;
        }
        list.push_back(Entry {
            params,
            embedding,
            key,
        });
        while list.len() > max {
            list.pop_front();
        }
    }
}
