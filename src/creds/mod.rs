//! Role credentials for `credential_process`, `exec` and `env`: the kernel-keyring cache in front of the
//! primary store, single-flight fetching with GetRoleCredentials, and the index that lets logout find them.
//!
//! Cache entries are served until [`REFRESH_MARGIN`] before they expire. botocore calls the process again
//! when less than 15 minutes remain, so serving credentials inside that window would make every SDK call
//! spawn awsso again.
//!
//! Submodules: `resolve` (which role a command means: its arguments, a profile, or the picker), `serve`
//! (credentials as every command hands them out, with `--auto-login` and the endpoint's fetcher), `env`
//! (the environment variables of `env` and `exec`).
use serde_json::json;

pub mod env;
pub mod resolve;
pub mod serve;

pub use crate::credcache::{REFRESH_MARGIN, usable};
pub use resolve::{TargetError, explicit_target, pick_profile, resolve_or_pick, resolve_target};
pub use serve::{ServeError, credentials_for, fetcher};

use crate::credcache::{self, Tagged};
use crate::lock;
use crate::output::rfc3339;
use crate::session::{self, SessionConfig, SessionError, TokenError, TokenRecord};
use crate::sso::{self, Portal, RoleCredentials, SsoError};
use crate::store::{Key, Store, StoreError};

/// Which role credentials: a session, an account, a role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub session: String,
    pub account_id: String,
    pub role_name: String,
}

impl Target {
    /// The primary-store key of these credentials in the instance `scope`.
    pub fn key<'a>(&'a self, scope: &'a str) -> Key<'a> {
        Key::creds(scope, &self.account_id, &self.role_name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredsError {
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lock(#[from] lock::LockError),
    #[error(
        "Identity Center rejected the token of session {session} (revoked, or signed out elsewhere); it was removed"
    )]
    Revoked { session: String },
    #[error("{}", expired_message(*expiration, *skew))]
    ExpiredByLocalClock {
        expiration: i64,
        /// Seconds the local clock is ahead of the server's (negative: behind), when the `Date` header said.
        skew: Option<i64>,
    },
    #[error("{source}")]
    Fetch {
        account: String,
        role: String,
        #[source]
        source: SsoError,
    },
}

fn expired_message(expiration: i64, skew: Option<i64>) -> String {
    let at = rfc3339(expiration);
    match skew {
        Some(s) => format!(
            "the local clock is {} {} Identity Center's: the credentials it just issued (valid until {at}) \
             are already expired by this clock",
            crate::output::format_duration(s.abs()),
            if s > 0 { "ahead of" } else { "behind" }
        ),
        None => format!(
            "Identity Center issued credentials that are already expired by the local clock ({at})"
        ),
    }
}

impl CredsError {
    pub fn hint(&self) -> Option<String> {
        match self {
            CredsError::ExpiredByLocalClock { .. } => Some(
                "sync the system clock (`sudo timedatectl set-ntp true`, or `sudo chronyc makestep`), then try again"
                    .into(),
            ),
            CredsError::Revoked { session } => Some(format!("run `awsso login --session {session}`")),
            CredsError::Fetch {
                source: SsoError::Service { code, .. },
                ..
            } if code == "ResourceNotFoundException" || code == "ForbiddenException" => Some(
                "check the account id and role name with `awsso ls --refresh`; the assignment may have been removed"
                    .into(),
            ),
            CredsError::Fetch { source, .. } => source.hint(),
            CredsError::Store(e) => e.hint(),
            CredsError::Token(TokenError::Session(e)) => e.hint(),
            CredsError::Token(TokenError::Store(e)) => e.hint(),
            CredsError::Token(TokenError::Sso(e)) => e.hint(),
            _ => None,
        }
    }

    /// Whether a new login is what would fix it.
    pub fn needs_login(&self) -> bool {
        matches!(
            self,
            CredsError::Revoked { .. }
                | CredsError::Token(TokenError::Session(SessionError::LoginRequired { .. }))
        )
    }
}

/// Usable credentials for `target`: from the primary store when the current login fetched them, else
/// fetched once for all concurrent callers (the first to take the per-role lock fetches; the others find its
/// result in the store). Credentials are never handed out when the local clock says they have expired.
pub async fn get(
    store: &Store,
    cache: Option<&Store>,
    session: &SessionConfig,
    target: &Target,
) -> Result<RoleCredentials, CredsError> {
    let scope = session.scope();
    let key = target.key(&scope);
    let login_required = |reason: &str| {
        CredsError::Token(TokenError::Session(SessionError::LoginRequired {
            session: session.name.clone(),
            reason: reason.into(),
        }))
    };
    let from_cache = || {
        cache.and_then(|c| credcache::warm_scoped(c, &scope, &target.account_id, &target.role_name))
    };
    if let Some(c) = from_cache() {
        return Ok(c);
    }
    let Some(token) = session::load_token(store, session)? else {
        return Err(login_required("no token in the credential store"));
    };
    if let Some(c) = stored(store, &key, &token.login_id)? {
        let token = keep_export_fresh(store, session, token).await;
        fill_cache(cache, &scope, &token, target, &c);
        return Ok(c);
    }
    let _lock = lock::acquire(&key.to_string(), || {}).await?;
    // Whoever held the lock fetched for this login: the kernel cache (no D-Bus) or the store has it.
    if let Some(c) = from_cache() {
        return Ok(c);
    }
    if let Some(c) = stored(store, &key, &token.login_id)? {
        fill_cache(cache, &scope, &token, target, &c);
        return Ok(c);
    }
    let token = session::ensure_token(store, session, 60).await?;
    let portal = Portal::new(&session.region, &session.endpoints());
    let creds = match portal
        .get_role_credentials(&token.access_token, &target.account_id, &target.role_name)
        .await
    {
        Ok(c) => c,
        Err(SsoError::Unauthorized) => {
            session::evict_token(store, session)?;
            credcache::invalidate(&scope, &[]);
            return Err(CredsError::Revoked {
                session: session.name.clone(),
            });
        }
        Err(source) => {
            return Err(CredsError::Fetch {
                account: target.account_id.clone(),
                role: target.role_name.clone(),
                source,
            });
        }
    };
    check_clock(&creds, portal.server_time())?;
    let tagged = Tagged {
        login: token.login_id.clone(),
        creds,
    };
    store.set_json_until(&key, &tagged, tagged.creds.expiration)?;
    let creds = tagged.creds;
    fill_cache(cache, &scope, &token, target, &creds);
    remember(store, &scope, target).await?;
    Ok(creds)
}

/// The primary store's credentials under `key`, when the login `login_id` fetched them and they are usable.
fn stored(
    store: &Store,
    key: &Key<'_>,
    login_id: &str,
) -> Result<Option<RoleCredentials>, StoreError> {
    let entry = match store.get_json::<Tagged>(key) {
        Ok(e) => e,
        // An entry of an older awsso (untagged) is as good as none: it is fetched again.
        Err(StoreError::Corrupt { .. }) => None,
        Err(e) => return Err(e),
    };
    Ok(entry
        .filter(|e| e.login == login_id && usable(&e.creds))
        .map(|e| e.creds))
}

/// An exported token close to the SDKs' windows is refreshed (and so re-exported) even when the credentials
/// themselves come from the store: the SDKs reading the exported copy cannot refresh it.
async fn keep_export_fresh(
    store: &Store,
    session: &SessionConfig,
    token: TokenRecord,
) -> TokenRecord {
    if !token.export_cli_cache || token.valid_for(session::EXPORT_WINDOW) || !token.refreshable() {
        return token;
    }
    match session::ensure_token(store, session, 0).await {
        Ok(fresh) => fresh,
        Err(e) => {
            tracing::warn!("could not refresh the exported token: {e}");
            token
        }
    }
}

/// Refuses credentials that the local clock says are expired (or about to be), naming the clock skew
/// the server's `Date` header shows, when it shows one.
fn check_clock(creds: &RoleCredentials, server_time: Option<i64>) -> Result<(), CredsError> {
    let now = sso::now();
    let skew = server_time.map(|server| now - server);
    if creds.expiration > now + MIN_VALIDITY {
        if let Some(skew) = skew.filter(|s| s.abs() > SKEW_WARN) {
            eprintln!(
                "warning: the local clock is {} {} Identity Center's; credentials may be refreshed too early or too late \
                 (sync the clock: `sudo timedatectl set-ntp true` or `sudo chronyc makestep`)",
                crate::output::format_duration(skew.abs()),
                if skew > 0 { "ahead of" } else { "behind" }
            );
        }
        return Ok(());
    }
    Err(CredsError::ExpiredByLocalClock {
        expiration: creds.expiration,
        skew: skew.filter(|s| s.abs() > 60),
    })
}

/// The least validity left that credentials may be handed out with.
pub const MIN_VALIDITY: i64 = 60;
/// A clock further off than this from the server's is reported.
const SKEW_WARN: i64 = 5 * 60;

fn fill_cache(
    cache: Option<&Store>,
    scope: &str,
    token: &TokenRecord,
    target: &Target,
    creds: &RoleCredentials,
) {
    if let Some(cache) = cache {
        credcache::fill(
            cache,
            scope,
            token,
            &target.account_id,
            &target.role_name,
            creds,
        );
    }
}

fn index_key(scope: &str) -> Key<'_> {
    Key::creds_index(scope)
}

/// Records that credentials of `target` are stored, so that logout can delete them (keyrings cannot be
/// searched uniformly).
async fn remember(store: &Store, scope: &str, target: &Target) -> Result<(), CredsError> {
    let entry = format!("{}:{}", target.account_id, target.role_name);
    let key = index_key(scope);
    let _lock = lock::acquire(&key.to_string(), || {}).await?;
    let mut index: Vec<String> = store.get_json(&key)?.unwrap_or_default();
    if !index.contains(&entry) {
        index.push(entry);
        store.set_json(&key, &index)?;
    }
    Ok(())
}

/// Deletes every cached role credential of an instance, from the store and from the kernel keyring
/// (opened whatever `AWSSO_NO_KEYUTILS_CACHE` says), and forgets the instance's login marker there.
pub fn forget_instance(store: &Store, scope: &str) -> Result<usize, StoreError> {
    let key = index_key(scope);
    let index: Vec<String> = store.get_json(&key)?.unwrap_or_default();
    let mut pairs = Vec::new();
    for entry in &index {
        let Some((account_id, role_name)) = entry.split_once(':') else {
            continue;
        };
        store.delete(&Key::creds(scope, account_id, role_name))?;
        pairs.push((account_id.to_string(), role_name.to_string()));
    }
    credcache::invalidate(scope, &pairs);
    store.delete(&key)?;
    Ok(index.len())
}

/// Deletes what an older awsso kept under the session name alone (credentials and their index, in the
/// store and the kernel keyring, and the client registrations), so a logout leaves nothing behind.
pub fn forget_legacy_keys(store: &Store, session: &str) -> Result<(), StoreError> {
    let key = Key::creds_index(session);
    let index: Vec<String> = store.get_json(&key).ok().flatten().unwrap_or_default();
    let kernel = credcache::open_for_invalidation();
    for entry in &index {
        // Entries are `<account>:<role>`; one that is not names no key an older awsso wrote.
        let Some((account_id, role_name)) = entry.split_once(':') else {
            continue;
        };
        let old = Key::creds(session, account_id, role_name);
        store.delete(&old)?;
        if let Some(k) = &kernel {
            let _ = k.delete(&old);
        }
    }
    store.delete(&key)?;
    store.delete(&Key::token(session))?;
    for flow in ["device", "pkce"] {
        store.delete(&Key::client(session, flow))?;
    }
    Ok(())
}

/// The credential_process JSON (Version 1) — the only thing `awsso creds` ever prints. `AccountId` is
/// what botocore's ProcessProvider and the JS SDK's fromProcess take the account id from (before the
/// profile's `aws_account_id`, which the default block therefore need not carry).
pub fn process_json(c: &RoleCredentials, account_id: &str) -> String {
    json!({
        "Version": 1,
        "AccessKeyId": c.access_key_id,
        "SecretAccessKey": c.secret_access_key.expose(),
        "SessionToken": c.session_token.expose(),
        "Expiration": rfc3339(c.expiration),
        "AccountId": account_id,
    })
    .to_string()
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{path} has no profile {name}")]
    Missing { path: String, name: String },
    #[error(
        "profile {name} in {path} (line {line}) is neither an SSO profile nor an awsso profile"
    )]
    NotSso {
        path: String,
        name: String,
        line: usize,
    },
    #[error(
        "legacy SSO profile {name} in {path} (line {line}) lacks sso_region, sso_account_id or sso_role_name, \
         or its portal's name is taken by an [sso-session] of another directory"
    )]
    Legacy {
        path: String,
        name: String,
        line: usize,
    },
}

impl ProfileError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            ProfileError::Missing { .. } => {
                "`awsso ls` shows the profiles awsso knows; `awsso sync` writes them".into()
            }
            ProfileError::NotSso { .. } => {
                "use a profile written by `awsso sync`, or pass --session, --account-id and --role-name".into()
            }
            ProfileError::Legacy { .. } => {
                "complete the profile, or move its sso_start_url/sso_region into an [sso-session] and point the \
                 profile at it with sso_session (`awsso doctor` shows how)"
                    .into()
            }
        })
    }
}

/// The target and region of a profile: native SSO keys, or an awsso `credential_process` line.
pub fn target_of_profile(
    config: &crate::awsconfig::ConfigFile,
    name: &str,
) -> Result<(Target, Option<String>), ProfileError> {
    let path = config.path.display().to_string();
    let section = config.profile(name).ok_or_else(|| ProfileError::Missing {
        path: path.clone(),
        name: name.into(),
    })?;
    let region = section.get("region").map(|r| r.trim().to_string());
    if let (Some(s), Some(a), Some(r)) = (
        section.get("sso_session"),
        section.get("sso_account_id"),
        section.get("sso_role_name"),
    ) {
        let target = Target {
            session: s.trim().into(),
            account_id: a.trim().into(),
            role_name: r.trim().into(),
        };
        return Ok((target, region));
    }
    if crate::session::is_legacy_profile(section) {
        // The implicit session of its instance; it resolves back by name (see `session::resolve`).
        let legacy = match crate::session::of_legacy_profile(config, name) {
            Some(Ok(s)) => s,
            _ => {
                return Err(ProfileError::Legacy {
                    path,
                    name: name.into(),
                    line: section.header_line,
                });
            }
        };
        let clash = config.sso_session(&legacy.name).is_some_and(|s| {
            crate::session::SessionConfig::from_section(&path, s).map_or(true, |s| {
                !s.same_instance(&legacy.start_url, &legacy.region)
            })
        });
        return match (section.get("sso_account_id"), section.get("sso_role_name")) {
            (Some(a), Some(r)) if !clash => Ok((
                Target {
                    session: legacy.name,
                    account_id: a.trim().into(),
                    role_name: r.trim().into(),
                },
                region,
            )),
            _ => Err(ProfileError::Legacy {
                path,
                name: name.into(),
                line: section.header_line,
            }),
        };
    }
    let not_sso = || ProfileError::NotSso {
        path: path.clone(),
        name: name.into(),
        line: section.header_line,
    };
    let words = section
        .get("credential_process")
        .and_then(shell_split)
        .ok_or_else(not_sso)?;
    let creds_at = words
        .iter()
        .position(|w| w == "creds")
        .ok_or_else(not_sso)?;
    // `--flag VALUE`, or `--flag=VALUE` (how values starting with `-` are written).
    let flag = |f: &str| crate::shell::flag_value(&words[creds_at..], f);
    match (flag("--session"), flag("--account-id"), flag("--role-name")) {
        (Some(session), Some(account_id), Some(role_name)) => Ok((
            Target {
                session,
                account_id,
                role_name,
            },
            region,
        )),
        _ => Err(not_sso()),
    }
}

/// Splits a command line as POSIX `sh` (and Python's `shlex.split`) would: quotes and backslashes, no
/// expansions. `None` for an unterminated quote.
pub fn shell_split(s: &str) -> Option<Vec<String>> {
    crate::shell::split(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_posix_sh() {
        assert_eq!(
            shell_split(r#"'/opt/my tools/awsso' creds --role-name "Admin \"x\"" a\ b"#).unwrap(),
            vec![
                "/opt/my tools/awsso",
                "creds",
                "--role-name",
                "Admin \"x\"",
                "a b"
            ]
        );
        assert_eq!(shell_split("  a   b ").unwrap(), vec!["a", "b"]);
        assert_eq!(shell_split("''").unwrap(), vec![""]);
        assert!(shell_split("'open").is_none());
    }

    #[test]
    fn profiles_resolve_to_targets() {
        let text = "[profile native]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Admin\nregion = eu-west-1\n\n\
                    [profile proc]\ncredential_process = '/x y/awsso' creds --session corp --account-id 222222222222 --role-name ReadOnly\n\n\
                    [profile legacy]\nsso_start_url = https://x.awsapps.com/start\n\n\
                    [profile team-dev]\nsso_start_url = https://d-abc.awsapps.com/start#/\nsso_region = eu-west-1\n\
                    sso_account_id = 333333333333\nsso_role_name = Admin\n\n[profile plain]\nregion = us-east-1\n";
        let config =
            crate::awsconfig::ConfigFile::parse(std::path::Path::new("/c"), text.into()).unwrap();
        let (t, region) = target_of_profile(&config, "native").unwrap();
        assert_eq!(
            (
                t.session.as_str(),
                t.account_id.as_str(),
                t.role_name.as_str()
            ),
            ("corp", "111111111111", "Admin")
        );
        assert_eq!(region.as_deref(), Some("eu-west-1"));
        let (t, _) = target_of_profile(&config, "proc").unwrap();
        assert_eq!(
            (t.account_id.as_str(), t.role_name.as_str()),
            ("222222222222", "ReadOnly")
        );
        assert!(matches!(
            target_of_profile(&config, "legacy"),
            Err(ProfileError::Legacy { .. })
        ));
        let (t, _) = target_of_profile(&config, "team-dev").unwrap();
        assert_eq!(
            (t.session.as_str(), t.account_id.as_str()),
            ("d-abc", "333333333333")
        );
        let s = crate::session::resolve(&config, Some("d-abc")).unwrap();
        assert_eq!(s.start_url, "https://d-abc.awsapps.com/start");
        assert_eq!(s.cli_cache_key(), "https://d-abc.awsapps.com/start#/");
        assert!(matches!(
            target_of_profile(&config, "plain"),
            Err(ProfileError::NotSso { .. })
        ));
        assert!(matches!(
            target_of_profile(&config, "nope"),
            Err(ProfileError::Missing { .. })
        ));
    }
}
