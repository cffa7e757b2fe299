//! Flag definitions held in memory, seeded from the host config.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use warden_plugin_core::{Tenant, check_key};

use crate::{FlagDefinition, FlagError, FlagStore};

type Flags = HashMap<(Tenant, String), Arc<FlagDefinition>>;

/// The embedded backend: a map per node. Reads take a read lock only;
/// writes (config reload, admin `put`) are rare.
#[derive(Default)]
pub struct MemoryFlags {
    flags: RwLock<Flags>,
}

impl MemoryFlags {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding `flags`, each validated first; every invalid flag
    /// is reported in one error.
    pub fn with_flags(
        flags: impl IntoIterator<Item = (Tenant, String, FlagDefinition)>,
    ) -> Result<Self, FlagError> {
        let mut map = Flags::new();
        let mut problems = Vec::new();
        for (tenant, name, definition) in flags {
            let checked = check_key(&name)
                .map_err(FlagError::from)
                .and_then(|()| definition.validate());
            match checked {
                Ok(()) => {
                    map.insert((tenant, name), Arc::new(definition));
                }
                Err(error) => problems.push(format!("{tenant}/{name}: {error}")),
            }
        }
        if !problems.is_empty() {
            return Err(FlagError::InvalidDefinition(problems.join("; ")));
        }
        Ok(Self {
            flags: RwLock::new(map),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, Flags> {
        // No user code runs under the lock; poisoning carries no meaning.
        self.flags
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Flags> {
        self.flags
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl FlagStore for MemoryFlags {
    async fn definition(
        &self,
        tenant: &Tenant,
        flag: &str,
    ) -> Result<Option<FlagDefinition>, FlagError> {
        check_key(flag)?;
        let key = (tenant.clone(), flag.to_owned());
        Ok(self
            .read()
            .get(&key)
            .map(|definition| (**definition).clone()))
    }

    async fn put(
        &self,
        tenant: &Tenant,
        flag: &str,
        definition: FlagDefinition,
    ) -> Result<(), FlagError> {
        check_key(flag)?;
        definition.validate()?;
        self.write()
            .insert((tenant.clone(), flag.to_owned()), Arc::new(definition));
        Ok(())
    }

    async fn remove(&self, tenant: &Tenant, flag: &str) -> Result<bool, FlagError> {
        check_key(flag)?;
        Ok(self
            .write()
            .remove(&(tenant.clone(), flag.to_owned()))
            .is_some())
    }
}
