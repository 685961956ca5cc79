use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::lock;
use crate::api::UserId;
use crate::backend::{ContactStore, Enrollment};
use crate::error::BackendError;

/// Enrollments in a map. Clones share the same map.
#[derive(Debug, Clone, Default)]
pub struct MemoryContactStore {
    records: Arc<Mutex<HashMap<UserId, Enrollment>>>,
}

impl MemoryContactStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl ContactStore for MemoryContactStore {
    async fn get(&self, user: &UserId) -> Result<Option<Enrollment>, BackendError> {
        Ok(lock(&self.records).get(user).cloned())
    }

    async fn save(&self, user: &UserId, enrollment: &Enrollment, expected_version: u64) -> Result<bool, BackendError> {
        let mut records = lock(&self.records);
        let current = records.get(user).map_or(0, |e| e.version);
        if current != expected_version {
            return Ok(false);
        }
        let mut stored = enrollment.clone();
        stored.version = expected_version.saturating_add(1);
        records.insert(user.clone(), stored);
        Ok(true)
    }

    async fn list(&self, after: Option<&UserId>, limit: usize) -> Result<Vec<(UserId, Enrollment)>, BackendError> {
        let records = lock(&self.records);
        let mut page: Vec<(UserId, Enrollment)> = records
            .iter()
            .filter(|(id, _)| after.is_none_or(|after| id.as_str() > after.as_str()))
            .map(|(id, e)| (id.clone(), e.clone()))
            .collect();
        page.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        page.truncate(limit);
        Ok(page)
    }
}
