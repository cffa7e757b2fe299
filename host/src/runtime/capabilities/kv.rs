//! `warden:platform/kv` on the [`warden_plugin_kv::KvStore`] backend.

use crate::runtime::bindings::kv::{Error, Host, Page};
use crate::runtime::state::RequestState;
use warden_plugin_kv::{CasOutcome, Cursor, KvError};

fn to_wit(e: KvError) -> Error {
    match e {
        KvError::Key(e) => Error::InvalidKey(e.to_string()),
        KvError::ValueTooLarge { max, .. } => Error::ValueTooLarge(max as u64),
        KvError::NotAnInteger => Error::NotAnInteger,
        KvError::Overflow => Error::Overflow,
        KvError::InvalidCursor => Error::InvalidCursor("malformed cursor".into()),
        KvError::Unavailable(reason) => Error::Unavailable(reason),
        KvError::Backend(e) => Error::Internal(e.to_string()),
    }
}

impl Host for RequestState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        let caps = self.caps.clone();
        Ok(caps.kv.get(&self.tenant, &key).await.map_err(to_wit))
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), Error>> {
        let caps = self.caps.clone();
        Ok(caps.kv.set(&self.tenant, &key, value).await.map_err(to_wit))
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<Result<bool, Error>> {
        let caps = self.caps.clone();
        Ok(caps.kv.delete(&self.tenant, &key).await.map_err(to_wit))
    }

    async fn list(
        &mut self,
        prefix: String,
        cursor: Option<String>,
        limit: u32,
    ) -> wasmtime::Result<Result<Page, Error>> {
        let cursor = match cursor.as_deref().map(str::parse::<Cursor>) {
            Some(Ok(c)) => Some(c),
            Some(Err(_)) => return Ok(Err(Error::InvalidCursor("malformed cursor".into()))),
            None => None,
        };
        let caps = self.caps.clone();
        Ok(caps
            .kv
            .list(&self.tenant, &prefix, cursor.as_ref(), limit)
            .await
            .map(|page| Page {
                keys: page.keys,
                cursor: page.next.map(|c| c.to_string()),
            })
            .map_err(to_wit))
    }

    async fn compare_and_swap(
        &mut self,
        key: String,
        expected: Option<Vec<u8>>,
        new: Vec<u8>,
    ) -> wasmtime::Result<Result<bool, Error>> {
        let caps = self.caps.clone();
        Ok(caps
            .kv
            .compare_and_swap(&self.tenant, &key, expected.as_deref(), new)
            .await
            .map(|outcome| matches!(outcome, CasOutcome::Swapped))
            .map_err(to_wit))
    }

    async fn increment(&mut self, key: String, delta: i64) -> wasmtime::Result<Result<i64, Error>> {
        let caps = self.caps.clone();
        Ok(caps
            .kv
            .increment(&self.tenant, &key, delta)
            .await
            .map_err(to_wit))
    }
}
