//! Watch points for blocking queries.
//!
//! A blocked reader subscribes to the narrowest point that covers its answer: one key, one
//! prefix, or a whole table. Writers mark keys dirty during `apply` and fire the matching
//! points once the command commits, so a write to `web/a` never wakes a reader of `db/`.
//! A fired point is removed; readers re-subscribe when they loop, which keeps the maps as
//! small as the set of readers currently waiting.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::Poll;
use tokio::sync::watch;

/// A subscription: resolves once the watched data may have changed. It may cover several
/// points (Consul's `WatchSet`): an answer built from a node row and that node's services
/// waits on both, and wakes when either fires.
pub struct Watch(Vec<watch::Receiver<()>>);

impl Watch {
    fn one(receiver: watch::Receiver<()>) -> Watch {
        Watch(vec![receiver])
    }

    /// A watch that fires when any of `watches` fires.
    pub fn any(watches: impl IntoIterator<Item = Watch>) -> Watch {
        Watch(watches.into_iter().flat_map(|w| w.0).collect())
    }

    /// Waits until a point fires. A dropped sender (point removed) also counts as fired. A
    /// watch over no point never fires (the reader's deadline ends the wait).
    pub async fn fired(self) {
        let mut pending: Vec<Pin<Box<dyn Future<Output = ()> + Send>>> = self
            .0
            .into_iter()
            .map(|mut rx| {
                Box::pin(async move {
                    let _ = rx.changed().await;
                }) as Pin<Box<dyn Future<Output = ()> + Send>>
            })
            .collect();
        std::future::poll_fn(|cx| {
            for future in pending.iter_mut() {
                if future.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(());
                }
            }
            Poll::Pending
        })
        .await
    }
}

#[derive(Default)]
struct Points {
    exact: HashMap<String, watch::Sender<()>>,
    prefix: HashMap<String, watch::Sender<()>>,
    /// Map size after the last sweep of abandoned points; the next sweep runs at twice it.
    swept_len: usize,
}

/// Above this many prefix points, firing looks up each prefix of the key instead of scanning.
const PREFIX_SCAN_LIMIT: usize = 32;

pub struct Watches {
    points: Mutex<Points>,
    table: watch::Sender<()>,
}

impl Default for Watches {
    fn default() -> Self {
        Watches {
            points: Mutex::new(Points::default()),
            table: watch::Sender::new(()),
        }
    }
}

fn subscribe(map: &mut HashMap<String, watch::Sender<()>>, key: &str) -> Watch {
    let sender = map
        .entry(key.to_string())
        .or_insert_with(|| watch::Sender::new(()));
    Watch::one(sender.subscribe())
}

impl Watches {
    fn lock(&self) -> std::sync::MutexGuard<'_, Points> {
        // A panic while holding this lock cannot leave the maps inconsistent (every operation
        // is a single insert/remove), so a poisoned lock is still usable.
        self.points
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn key(&self, key: &str) -> Watch {
        let mut points = self.lock();
        sweep_if_large(&mut points);
        subscribe(&mut points.exact, key)
    }

    pub fn prefix(&self, prefix: &str) -> Watch {
        let mut points = self.lock();
        sweep_if_large(&mut points);
        subscribe(&mut points.prefix, prefix)
    }

    pub fn table(&self) -> Watch {
        Watch::one(self.table.subscribe())
    }

    /// Fires every point covering one of `keys`, and the table point.
    pub fn fire<'a>(&self, keys: impl IntoIterator<Item = &'a str>) {
        let mut points = self.lock();
        for key in keys {
            if let Some(sender) = points.exact.remove(key) {
                sender.send_replace(());
            }
            fire_prefixes(&mut points.prefix, key);
        }
        drop(points);
        self.table.send_replace(());
    }

    /// Fires everything (after a snapshot restore, any answer may have changed).
    pub fn fire_all(&self) {
        {
            let mut guard = self.lock();
            let points = &mut *guard;
            for (_, sender) in points.exact.drain().chain(points.prefix.drain()) {
                sender.send_replace(());
            }
        }
        self.table.send_replace(());
    }

    /// Number of live points (for tests and metrics).
    pub fn len(&self) -> usize {
        let points = self.lock();
        points.exact.len() + points.prefix.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn fire_prefixes(prefixes: &mut HashMap<String, watch::Sender<()>>, key: &str) {
    if prefixes.is_empty() {
        return;
    }
    let matching: Vec<String> = if prefixes.len() <= PREFIX_SCAN_LIMIT {
        prefixes
            .keys()
            .filter(|p| key.starts_with(p.as_str()))
            .cloned()
            .collect()
    } else {
        key.char_indices()
            .map(|(i, _)| &key[..i])
            .chain(std::iter::once(key))
            .filter(|p| prefixes.contains_key(*p))
            .map(str::to_string)
            .collect()
    };
    for prefix in matching {
        if let Some(sender) = prefixes.remove(&prefix) {
            sender.send_replace(());
        }
    }
}

/// Drops points whose readers all gave up (timed out) without the point firing.
fn sweep_if_large(points: &mut Points) {
    let len = points.exact.len() + points.prefix.len();
    if len < 1024 || len < points.swept_len * 2 {
        return;
    }
    points.exact.retain(|_, s| s.receiver_count() > 0);
    points.prefix.retain(|_, s| s.receiver_count() > 0);
    points.swept_len = points.exact.len() + points.prefix.len();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn fires(watch: Watch) -> bool {
        tokio::time::timeout(Duration::from_millis(50), watch.fired())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn narrow_points_fire_only_for_their_keys() {
        let watches = Watches::default();
        let key = watches.key("web/a");
        let other = watches.key("db/a");
        let prefix = watches.prefix("web/");
        let other_prefix = watches.prefix("db/");
        let table = watches.table();
        watches.fire(["web/a"]);
        assert!(fires(key).await);
        assert!(fires(prefix).await);
        assert!(fires(table).await);
        assert!(!fires(other).await);
        assert!(!fires(other_prefix).await);
    }

    #[tokio::test]
    async fn any_fires_when_one_member_fires() {
        let watches = Watches::default();
        let both = Watch::any([watches.key("a"), watches.key("b")]);
        let neither = Watch::any([watches.key("c"), watches.key("d")]);
        watches.fire(["b"]);
        assert!(fires(both).await);
        assert!(!fires(neither).await);
        assert!(!fires(Watch::any([])).await, "an empty watch never fires");
    }

    #[tokio::test]
    async fn many_prefixes_use_lookup_path() {
        let watches = Watches::default();
        let kept: Vec<Watch> = (0..100)
            .map(|i| watches.prefix(&format!("p{i}/")))
            .collect();
        let hit = watches.prefix("p7/x");
        let root = watches.prefix("");
        watches.fire(["p7/xyz"]);
        assert!(fires(hit).await);
        assert!(fires(root).await);
        assert_eq!(
            watches.len(),
            99,
            "p7/ fired and was removed; other 99 remain"
        );
        drop(kept);
    }
}
