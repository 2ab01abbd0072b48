//! The control surface tests and scripts drive the simulator with, through [`crate::SimHandle`] or the
//! `/_sim/*` routes: counters, revocation, client expiry, approval of user codes, what was issued, and
//! the knobs (`/_sim/config`, a partial JSON document applied atomically).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::json::{InstanceJson, from_value};
use super::{DeviceStatus, RegisteredClient, Shared};
use crate::hostile::{Hostile, HostileJson};
use crate::{DeviceOutcome, IssuedCredentials, RateLimitKind, SimConfig, SimInstance};

impl Shared {
    pub(crate) fn count(&self, op: &str) -> u64 {
        self.lock().counts.get(op).copied().unwrap_or(0)
    }

    pub(crate) fn counts(&self) -> BTreeMap<String, u64> {
        self.lock()
            .counts
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect()
    }

    pub(crate) fn reset_counts(&self) {
        self.lock().counts.clear();
    }

    pub(crate) fn revoke_all(&self) {
        let mut st = self.lock();
        // Session ids start at 1 and `next_session` is the last one handed out.
        st.min_live_session = st.next_session + 1;
    }

    pub(crate) fn expire_clients(&self) {
        for c in self.lock().clients.values_mut() {
            c.info.expired = true;
        }
    }

    pub(crate) fn config(&self) -> SimConfig {
        self.lock().config.clone()
    }

    pub(crate) fn update(&self, f: impl FnOnce(&mut SimConfig)) {
        let mut st = self.lock();
        let mut next = st.config.clone();
        f(&mut next);
        st.set_config(next);
    }

    /// Applies a partial JSON config (the `/_sim/config` format) atomically.
    pub(crate) fn update_from_json(&self, patch: &Value) -> Result<Value, String> {
        let mut st = self.lock();
        let mut next = st.config.clone();
        apply_config_json(&mut next, patch)?;
        st.set_config(next);
        Ok(config_json(&st.config))
    }

    pub(crate) fn config_json(&self) -> Value {
        config_json(&self.lock().config)
    }

    pub(crate) fn issued_credentials(&self) -> Vec<IssuedCredentials> {
        self.lock().issued.clone()
    }

    pub(crate) fn issued_secrets(&self) -> Vec<String> {
        let st = self.lock();
        let mut out: Vec<String> = st.access_tokens.keys().cloned().collect();
        out.extend(st.refresh_tokens.keys().cloned());
        out.extend(st.clients.values().map(|c| c.secret.clone()));
        out.extend(st.device_codes.keys().cloned());
        for c in &st.issued {
            out.push(c.secret_access_key.clone());
            out.push(c.session_token.clone());
        }
        out.extend(st.signin_tokens.iter().map(|t| t.signin_token.clone()));
        out
    }

    pub(crate) fn clients(&self) -> Vec<RegisteredClient> {
        let st = self.lock();
        let now = Instant::now();
        st.client_order
            .iter()
            .filter_map(|id| st.clients.get(id))
            .map(|c| RegisteredClient {
                expired: c.is_expired(now),
                ..c.info.clone()
            })
            .collect()
    }

    pub(crate) fn accounts(&self) -> Vec<(String, String)> {
        self.lock()
            .accounts
            .iter()
            .map(|a| (a.id.clone(), a.name.clone()))
            .collect()
    }

    /// Resolves a pending device code as the verification page would; `None` if unknown.
    pub(crate) fn approve_user_code(&self, user_code: &str) -> Option<DeviceStatus> {
        let mut st = self.lock();
        let outcome = st.config.device_outcome;
        let key = user_code.trim().to_ascii_uppercase();
        let device_code = st.user_codes.get(&key)?.clone();
        let dc = st.device_codes.get_mut(&device_code)?;
        let now = Instant::now();
        if dc.effective_status(now) == DeviceStatus::Pending {
            dc.resolve(outcome);
        }
        Some(dc.effective_status(now))
    }
}

/// `GET /_sim/config`: every knob, under the names `POST /_sim/config` takes.
#[derive(Serialize)]
struct ConfigView {
    accounts: usize,
    roles_per_account: usize,
    latency_ms: u64,
    rate_limit: Option<f64>,
    rate_limit_kind: &'static str,
    error_every: Option<u64>,
    token_ttl: f64,
    refresh_tokens: bool,
    credentials_ttl: f64,
    client_ttl: f64,
    device_code_ttl: f64,
    interval: u64,
    approve_after_polls: u32,
    device_outcome: &'static str,
    hostile_names: bool,
    page_size: usize,
    clock_offset_secs: i64,
    instances: Vec<InstanceJson>,
    hostile: HostileJson,
}

fn config_json(c: &SimConfig) -> Value {
    let view = ConfigView {
        accounts: c.accounts,
        roles_per_account: c.roles_per_account,
        latency_ms: c.latency.as_millis() as u64,
        rate_limit: c.rate_limit,
        rate_limit_kind: c.rate_limit_kind.name(),
        error_every: c.error_every,
        token_ttl: c.token_ttl.as_secs_f64(),
        refresh_tokens: c.refresh_tokens,
        credentials_ttl: c.credentials_ttl.as_secs_f64(),
        client_ttl: c.client_ttl.as_secs_f64(),
        device_code_ttl: c.device_code_ttl.as_secs_f64(),
        interval: c.interval,
        approve_after_polls: c.approve_after_polls,
        device_outcome: c.device_outcome.as_str(),
        hostile_names: c.hostile_names,
        page_size: c.page_size,
        clock_offset_secs: c.clock_offset_secs,
        instances: c.instances.iter().map(InstanceJson::from).collect(),
        hostile: HostileJson::from(&c.hostile),
    };
    // Plain structs with string keys: serialising them cannot fail.
    serde_json::to_value(view).unwrap_or_default()
}

/// `POST /_sim/config`: the knobs to change, each absent (unchanged) or set; unknown keys are
/// refused so that a typo in a test fails loudly. `null` is a value only where it means "off".
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigPatch {
    #[serde(default, deserialize_with = "present")]
    accounts: Option<usize>,
    #[serde(default, deserialize_with = "present")]
    roles_per_account: Option<usize>,
    #[serde(default, deserialize_with = "present")]
    latency_ms: Option<u64>,
    #[serde(default, deserialize_with = "present")]
    rate_limit: Option<Option<f64>>,
    #[serde(default, deserialize_with = "present")]
    rate_limit_kind: Option<String>,
    #[serde(default, deserialize_with = "present")]
    error_every: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    token_ttl: Option<f64>,
    #[serde(default, deserialize_with = "present")]
    refresh_tokens: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    credentials_ttl: Option<f64>,
    #[serde(default, deserialize_with = "present")]
    client_ttl: Option<f64>,
    #[serde(default, deserialize_with = "present")]
    device_code_ttl: Option<f64>,
    #[serde(default, deserialize_with = "present")]
    interval: Option<u64>,
    #[serde(default, deserialize_with = "present")]
    approve_after_polls: Option<u64>,
    #[serde(default, deserialize_with = "present")]
    device_outcome: Option<String>,
    #[serde(default, deserialize_with = "present")]
    hostile_names: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    page_size: Option<usize>,
    #[serde(default, deserialize_with = "present")]
    clock_offset_secs: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    instances: Option<Vec<InstanceJson>>,
    #[serde(default, deserialize_with = "present")]
    hostile: Option<HostileJson>,
}

/// A key that is there: its value must be a `T` (so `null` only where `T` is an `Option`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

fn secs(key: &str, s: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| format!("{key} must be a non-negative number of seconds"))
}

/// Applies a partial config to `c`; on error `c` may be half-changed (callers apply it to a copy).
fn apply_config_json(c: &mut SimConfig, patch: &Value) -> Result<(), String> {
    if !patch.is_object() {
        return Err("config must be a JSON object".to_owned());
    }
    let p: ConfigPatch = from_value(patch)?;
    if let Some(n) = p.accounts {
        c.accounts = n;
    }
    if let Some(n) = p.roles_per_account {
        c.roles_per_account = n;
    }
    if let Some(ms) = p.latency_ms {
        c.latency = Duration::from_millis(ms);
    }
    if let Some(rate) = p.rate_limit {
        c.rate_limit = match rate {
            None => None,
            Some(r) if r > 0.0 && r.is_finite() => Some(r),
            Some(_) => return Err("rate_limit must be a positive number or null".to_owned()),
        };
    }
    if let Some(kind) = p.rate_limit_kind {
        c.rate_limit_kind = RateLimitKind::parse(&kind)
            .ok_or("rate_limit_kind must be \"token-bucket\" or \"sliding-window\"")?;
    }
    if let Some(n) = p.error_every {
        c.error_every = n.filter(|n| *n > 0);
    }
    if let Some(s) = p.token_ttl {
        c.token_ttl = secs("token_ttl", s)?;
    }
    if let Some(b) = p.refresh_tokens {
        c.refresh_tokens = b;
    }
    if let Some(s) = p.credentials_ttl {
        c.credentials_ttl = secs("credentials_ttl", s)?;
    }
    if let Some(s) = p.client_ttl {
        c.client_ttl = secs("client_ttl", s)?;
    }
    if let Some(s) = p.device_code_ttl {
        c.device_code_ttl = secs("device_code_ttl", s)?;
    }
    if let Some(n) = p.interval {
        c.interval = n;
    }
    if let Some(n) = p.approve_after_polls {
        c.approve_after_polls =
            u32::try_from(n).map_err(|_| "approve_after_polls is too large".to_owned())?;
    }
    if let Some(o) = p.device_outcome {
        c.device_outcome =
            DeviceOutcome::parse(&o).ok_or("device_outcome must be approve, deny or expire")?;
    }
    if let Some(b) = p.hostile_names {
        c.hostile_names = b;
    }
    if let Some(n) = p.page_size {
        c.page_size = n;
    }
    if let Some(s) = p.clock_offset_secs {
        c.clock_offset_secs = s;
    }
    if let Some(list) = p.instances {
        c.instances = list.into_iter().map(SimInstance::from).collect();
    }
    if let Some(h) = p.hostile {
        c.hostile = Hostile::try_from(h)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn config_patch_is_validated_and_atomic() {
        let shared = Shared::new(SimConfig::default(), "http://127.0.0.1:1".into(), false);
        let err = shared
            .update_from_json(&json!({"interval": 5, "nope": 1}))
            .unwrap_err();
        assert!(err.contains("nope"));
        let err = shared
            .update_from_json(&json!({"interval": "x"}))
            .unwrap_err();
        assert!(err.starts_with("interval: invalid type"), "{err}");
        let err = shared
            .update_from_json(&json!({"hostile": {"answers": {"X": {"huge": "big"}}}}))
            .unwrap_err();
        assert!(err.starts_with("hostile.answers.X"), "{err}");
        assert!(shared.update_from_json(&json!({"accounts": null})).is_err());
        assert!(shared.update_from_json(&json!({"rate_limit": 0})).is_err());
        assert_eq!(
            shared.config().interval,
            1,
            "a rejected patch applies nothing"
        );
        shared
            .update_from_json(&json!({"interval": 0, "latency_ms": 50, "rate_limit": 2.5,
                "error_every": 3, "token_ttl": 1.5, "device_outcome": "deny"}))
            .unwrap();
        let c = shared.config();
        assert_eq!(c.interval, 0);
        assert_eq!(c.latency, Duration::from_millis(50));
        assert_eq!(c.rate_limit, Some(2.5));
        assert_eq!(c.error_every, Some(3));
        assert_eq!(c.token_ttl, Duration::from_millis(1500));
        assert_eq!(c.device_outcome, DeviceOutcome::Deny);
        shared
            .update_from_json(&json!({"rate_limit": null, "error_every": null}))
            .unwrap();
        assert_eq!(
            (shared.config().rate_limit, shared.config().error_every),
            (None, None)
        );
    }
}
