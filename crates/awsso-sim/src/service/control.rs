//! The control surface tests and scripts drive the simulator with, through [`crate::SimHandle`] or the
//! `/_sim/*` routes: counters, revocation, client expiry, approval of user codes, what was issued, and
//! the knobs (`/_sim/config`, a partial JSON document applied atomically).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{DeviceStatus, RegisteredClient, Shared};
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

/// An instance as ListInstances serialises it (and `/_sim/config` shows it).
pub(crate) fn instance_json(i: &SimInstance) -> Value {
    let mut v = json!({
        "InstanceArn": i.instance_arn,
        "IdentityStoreId": i.identity_store_id,
        "OwnerAccountId": i.owner_account_id,
        "Status": i.status,
        "CreatedDate": i.created_date,
    });
    if let Some(name) = &i.name {
        v["Name"] = Value::String(name.clone());
    }
    v
}

fn instance_from_json(v: &Value) -> Result<SimInstance, String> {
    let field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let required = |k: &str| field(k).ok_or(format!("instances[].{k} must be a string"));
    Ok(SimInstance {
        instance_arn: required("InstanceArn")?,
        identity_store_id: required("IdentityStoreId")?,
        owner_account_id: required("OwnerAccountId")?,
        name: field("Name"),
        status: field("Status").unwrap_or_else(|| "ACTIVE".to_owned()),
        created_date: v
            .get("CreatedDate")
            .and_then(Value::as_i64)
            .unwrap_or(1_700_000_000),
    })
}

fn config_json(c: &SimConfig) -> Value {
    json!({
        "accounts": c.accounts,
        "roles_per_account": c.roles_per_account,
        "latency_ms": c.latency.as_millis() as u64,
        "rate_limit": c.rate_limit,
        "rate_limit_kind": c.rate_limit_kind.name(),
        "error_every": c.error_every,
        "token_ttl": c.token_ttl.as_secs_f64(),
        "refresh_tokens": c.refresh_tokens,
        "credentials_ttl": c.credentials_ttl.as_secs_f64(),
        "client_ttl": c.client_ttl.as_secs_f64(),
        "device_code_ttl": c.device_code_ttl.as_secs_f64(),
        "interval": c.interval,
        "approve_after_polls": c.approve_after_polls,
        "device_outcome": c.device_outcome.as_str(),
        "hostile_names": c.hostile_names,
        "page_size": c.page_size,
        "clock_offset_secs": c.clock_offset_secs,
        "instances": c.instances.iter().map(instance_json).collect::<Vec<_>>(),
        "hostile": crate::hostile::to_json(&c.hostile),
    })
}

/// Applies a partial config; unknown keys are rejected so that a typo in a test fails loudly.
fn apply_config_json(c: &mut SimConfig, patch: &Value) -> Result<(), String> {
    let obj = patch.as_object().ok_or("config must be a JSON object")?;
    for (key, v) in obj {
        let uint = || {
            v.as_u64()
                .ok_or(format!("{key} must be a non-negative integer"))
        };
        let secs = || {
            v.as_f64()
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
                .ok_or(format!("{key} must be a non-negative number of seconds"))
        };
        let boolean = || v.as_bool().ok_or(format!("{key} must be a boolean"));
        match key.as_str() {
            "accounts" => c.accounts = uint()? as usize,
            "roles_per_account" => c.roles_per_account = uint()? as usize,
            "latency_ms" => c.latency = Duration::from_millis(uint()?),
            "rate_limit" => {
                c.rate_limit = match v {
                    Value::Null => None,
                    _ => Some(
                        v.as_f64()
                            .filter(|r| *r > 0.0 && r.is_finite())
                            .ok_or("rate_limit must be a positive number or null")?,
                    ),
                }
            }
            "rate_limit_kind" => {
                c.rate_limit_kind = v
                    .as_str()
                    .and_then(RateLimitKind::parse)
                    .ok_or("rate_limit_kind must be \"token-bucket\" or \"sliding-window\"")?
            }
            "error_every" => {
                c.error_every = match v {
                    Value::Null => None,
                    _ => Some(uint()?).filter(|n| *n > 0),
                }
            }
            "token_ttl" => c.token_ttl = secs()?,
            "clock_offset_secs" => {
                c.clock_offset_secs = v.as_i64().ok_or("clock_offset_secs must be an integer")?
            }
            "refresh_tokens" => c.refresh_tokens = boolean()?,
            "credentials_ttl" => c.credentials_ttl = secs()?,
            "client_ttl" => c.client_ttl = secs()?,
            "device_code_ttl" => c.device_code_ttl = secs()?,
            "interval" => c.interval = uint()?,
            "approve_after_polls" => {
                c.approve_after_polls = u32::try_from(uint()?)
                    .map_err(|_| "approve_after_polls is too large".to_owned())?
            }
            "device_outcome" => {
                c.device_outcome = v
                    .as_str()
                    .and_then(DeviceOutcome::parse)
                    .ok_or("device_outcome must be approve, deny or expire")?
            }
            "hostile_names" => c.hostile_names = boolean()?,
            "page_size" => c.page_size = uint()? as usize,
            "instances" => {
                c.instances = v
                    .as_array()
                    .ok_or("instances must be a list")?
                    .iter()
                    .map(instance_from_json)
                    .collect::<Result<_, _>>()?
            }
            "hostile" => c.hostile = crate::hostile::from_json(v)?,
            other => return Err(format!("unknown config key {other:?}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_patch_is_validated_and_atomic() {
        let shared = Shared::new(SimConfig::default(), "http://127.0.0.1:1".into(), false);
        let err = shared
            .update_from_json(&json!({"interval": 5, "nope": 1}))
            .unwrap_err();
        assert!(err.contains("nope"));
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
    }
}
