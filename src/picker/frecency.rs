//! Which profiles were picked, how often and how recently: `frecency.json` in the cache dir (not secret:
//! profile names and times). A lost or corrupt file only loses the ordering, so errors are ignored.
use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Profiles kept; the least useful are dropped beyond this.
const KEEP: usize = 500;

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Use {
    pub count: u32,
    /// Unix seconds of the last pick.
    pub last: i64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Frecency {
    pub uses: BTreeMap<String, Use>,
}

/// `None` without a home directory: the ordering is then not kept (awsso writes nothing to a shared place).
fn path() -> Option<PathBuf> {
    crate::paths::cache_dir()
        .ok()
        .map(|d| d.join("frecency.json"))
}

/// Firefox-style: the count weighted by how recent the last use was.
pub fn score(u: &Use, now: i64) -> f64 {
    let age = (now - u.last).max(0);
    let weight = match age {
        a if a < 4 * 3600 => 100.0,
        a if a < 86_400 => 70.0,
        a if a < 7 * 86_400 => 50.0,
        a if a < 30 * 86_400 => 30.0,
        _ => 10.0,
    };
    f64::from(u.count.min(1000)) * weight
}

impl Frecency {
    pub fn load() -> Frecency {
        path()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    pub fn scores<'a>(&self, profiles: impl Iterator<Item = &'a str>, now: i64) -> Vec<f64> {
        profiles
            .map(|p| self.uses.get(p).map(|u| score(u, now)).unwrap_or(0.0))
            .collect()
    }

    pub fn record(&mut self, profile: &str, now: i64) {
        let u = self.uses.entry(profile.to_string()).or_default();
        u.count = u.count.saturating_add(1);
        u.last = now;
        if self.uses.len() > KEEP {
            let mut ranked: Vec<(String, f64)> = self
                .uses
                .iter()
                .map(|(k, u)| (k.clone(), score(u, now)))
                .collect();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
            for (k, _) in ranked.into_iter().skip(KEEP) {
                self.uses.remove(&k);
            }
        }
    }

    /// Writes atomically (temp file + rename) so a concurrent reader never sees half a file.
    pub fn save(&self) {
        let Some(p) = path() else { return };
        let Some(dir) = p.parent() else { return };
        if crate::paths::ensure_private_dir(dir).is_err() {
            return;
        }
        let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) else {
            return;
        };
        if serde_json::to_writer(&mut tmp, self).is_ok() {
            let _ = tmp.persist(&p);
        }
    }
}

/// Records a pick made by name (`awsso use P`, `--profile P`) too, so that the picker learns from both.
pub fn remember(profile: &str) {
    let mut f = Frecency::load();
    f.record(profile, crate::sso::now());
    f.save();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_and_frequent_rank_first() {
        let now = 1_000_000_000;
        let mut f = Frecency::default();
        f.record("old", now - 40 * 86_400);
        f.record("old", now - 40 * 86_400);
        f.record("old", now - 40 * 86_400);
        f.record("new", now);
        let s = f.scores(["old", "new", "never"].into_iter(), now);
        assert!(s[1] > s[0] && s[0] > s[2], "{s:?}");
    }
}
