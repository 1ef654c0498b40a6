//! The in-memory store, for unit tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

use weft_protocol::{BundleId, ContentHash};

use super::*;

/// In-memory store for unit tests.
#[derive(Default)]
pub struct MemStore {
    inner: Mutex<MemInner>,
}

#[derive(Default)]
struct MemInner {
    blobs: BTreeMap<ContentHash, Vec<u8>>,
    manifests: BTreeMap<BundleId, Vec<u8>>,
    catalog: BTreeMap<BundleId, Vec<u8>>,
    pins: BTreeMap<BundleId, Pin>,
    kv: BTreeMap<String, BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl MemStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, MemInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Store for MemStore {
    fn get_blob(&self, hash: &ContentHash) -> Result<Option<Vec<u8>>, StoreError> {
        // Checked like the disk store's reads: bytes that do not match
        // their hash read as absent.
        Ok(self
            .lock()
            .blobs
            .get(hash)
            .filter(|b| ContentHash::of(b) == *hash)
            .cloned())
    }
    fn has_blob(&self, hash: &ContentHash) -> Result<bool, StoreError> {
        Ok(self.lock().blobs.contains_key(hash))
    }
    fn reopen_bundle(&self, id: &BundleId, record: &[u8]) -> Result<(), StoreError> {
        let mut g = self.lock();
        g.manifests.remove(id);
        g.kv.entry(CF_FETCHES.to_string())
            .or_default()
            .insert(id.as_bytes().to_vec(), record.to_vec());
        Ok(())
    }
    fn put_blobs(&self, blobs: &[(ContentHash, Vec<u8>)]) -> Result<(), StoreError> {
        let mut g = self.lock();
        for (h, b) in blobs {
            g.blobs.insert(*h, b.clone());
        }
        Ok(())
    }
    fn get_manifest(&self, id: &BundleId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().manifests.get(id).cloned())
    }
    fn has_manifest(&self, id: &BundleId) -> Result<bool, StoreError> {
        Ok(self.lock().manifests.contains_key(id))
    }
    fn bundle_ids(&self) -> Result<Vec<BundleId>, StoreError> {
        Ok(self.lock().manifests.keys().copied().collect())
    }
    fn commit_bundle(&self, c: BundleCommit) -> Result<(), StoreError> {
        let mut g = self.lock();
        for (h, b) in c.blobs {
            g.blobs.insert(h, b);
        }
        g.manifests.insert(c.id, c.manifest);
        if let Some(f) = g.kv.get_mut(CF_FETCHES) {
            f.remove(c.id.as_bytes().as_slice());
        }
        if let Some((key, a)) = c.announcement {
            g.catalog.insert(key, a);
        }
        if let Some(t) = c.pin {
            g.pins.insert(c.id, t);
        }
        Ok(())
    }
    fn get_announcement(&self, id: &BundleId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().catalog.get(id).cloned())
    }
    fn put_announcement(&self, id: &BundleId, bytes: &[u8]) -> Result<bool, StoreError> {
        let mut g = self.lock();
        if g.catalog.contains_key(id) {
            return Ok(false);
        }
        g.catalog.insert(*id, bytes.to_vec());
        Ok(true)
    }
    fn delete_announcement(&self, id: &BundleId) -> Result<(), StoreError> {
        self.lock().catalog.remove(id);
        Ok(())
    }
    fn for_each_announcement(&self, f: &mut dyn FnMut(BundleId, &[u8])) -> Result<(), StoreError> {
        let entries: Vec<(BundleId, Vec<u8>)> = self
            .lock()
            .catalog
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        for (k, v) in entries {
            f(k, &v);
        }
        Ok(())
    }
    fn set_pin(&self, id: &BundleId, pin: Option<Pin>) -> Result<(), StoreError> {
        let mut g = self.lock();
        match pin {
            Some(p) => g.pins.insert(*id, p),
            None => g.pins.remove(id),
        };
        Ok(())
    }
    fn pins(&self) -> Result<Vec<(BundleId, Pin)>, StoreError> {
        Ok(self.lock().pins.iter().map(|(k, v)| (*k, *v)).collect())
    }
    fn get_pin(&self, id: &BundleId) -> Result<Option<Pin>, StoreError> {
        Ok(self.lock().pins.get(id).copied())
    }
    fn counts(&self) -> Result<StoreCounts, StoreError> {
        let g = self.lock();
        Ok(StoreCounts {
            bundles: g.manifests.len() as u64,
            pins: g.pins.len() as u64,
            catalog_estimate: g.catalog.len() as u64,
        })
    }

    fn put_kv(&self, cf: &str, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.lock()
            .kv
            .entry(cf.to_string())
            .or_default()
            .insert(key.to_vec(), value.to_vec());
        Ok(())
    }

    fn delete_kv(&self, cf: &str, key: &[u8]) -> Result<(), StoreError> {
        if let Some(m) = self.lock().kv.get_mut(cf) {
            m.remove(key);
        }
        Ok(())
    }

    fn get_kv(&self, cf: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().kv.get(cf).and_then(|m| m.get(key).cloned()))
    }

    fn list_kv(&self, cf: &str) -> Result<Vec<KeyValue>, StoreError> {
        Ok(self
            .lock()
            .kv
            .get(cf)
            .map(|m| m.clone().into_iter().collect())
            .unwrap_or_default())
    }

    fn delete_bundle(&self, id: &BundleId) -> Result<(), StoreError> {
        let mut g = self.lock();
        g.manifests.remove(id);
        g.pins.remove(id);
        for cf in [CF_ACCESS, CF_FETCHES] {
            if let Some(m) = g.kv.get_mut(cf) {
                m.remove(id.as_bytes().as_slice());
            }
        }
        Ok(())
    }

    fn for_each_blob_key(&self, f: &mut dyn FnMut(ContentHash)) -> Result<(), StoreError> {
        let keys: Vec<ContentHash> = self.lock().blobs.keys().copied().collect();
        keys.into_iter().for_each(f);
        Ok(())
    }

    fn delete_blobs(&self, hashes: &[ContentHash]) -> Result<u64, StoreError> {
        let mut g = self.lock();
        Ok(hashes
            .iter()
            .filter_map(|h| g.blobs.remove(h))
            .map(|v| v.len() as u64)
            .sum())
    }

    fn compact_blobs(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn disk_usage(&self) -> Result<u64, StoreError> {
        Ok(self.lock().blobs.values().map(|v| v.len() as u64).sum())
    }
}
