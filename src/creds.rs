//! Role credentials for `credential_process`, `exec` and `env`: the kernel-keyring cache in front of the
//! primary store, single-flight fetching with GetRoleCredentials, and the index that lets logout find them.
//!
//! Cache entries are served until [`REFRESH_MARGIN`] before they expire. botocore calls the process again
//! when less than 15 minutes remain, so serving credentials inside that window would make every SDK call
//! spawn awsso again.
use serde_json::json;

use crate::lock;
use crate::output::rfc3339;
use crate::session::{self, SessionConfig, SessionError, TokenError};
use crate::sso::{self, Portal, RoleCredentials, SsoError};
use crate::store::{Store, StoreError};

/// Credentials with less than this left are fetched again.
pub const REFRESH_MARGIN: i64 = 15 * 60 + 60;

/// Which role credentials: a session, an account, a role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub session: String,
    pub account_id: String,
    pub role_name: String,
}

impl Target {
    pub fn key(&self) -> String {
        format!(
            "creds:{}:{}:{}",
            self.session, self.account_id, self.role_name
        )
    }
}

pub fn usable(c: &RoleCredentials) -> bool {
    c.expiration > sso::now() + REFRESH_MARGIN
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
    #[error("{source}")]
    Fetch {
        account: String,
        role: String,
        #[source]
        source: SsoError,
    },
}

impl CredsError {
    pub fn hint(&self) -> Option<String> {
        match self {
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

/// The warm path: the kernel-keyring cache only, with no D-Bus and no config file.
pub fn cached(cache: Option<&Store>, target: &Target) -> Option<RoleCredentials> {
    let c: RoleCredentials = cache?.get_json(&target.key()).ok().flatten()?;
    usable(&c).then_some(c)
}

/// Usable credentials for `target`: from the primary store, else fetched once for all concurrent callers
/// (the first to take the per-role lock fetches; the others find its result in the store).
pub async fn get(
    store: &Store,
    cache: Option<&Store>,
    session: &SessionConfig,
    target: &Target,
) -> Result<RoleCredentials, CredsError> {
    let key = target.key();
    if let Some(c) = store.get_json::<RoleCredentials>(&key)?.filter(usable) {
        fill_cache(cache, &key, &c);
        return Ok(c);
    }
    let _lock = lock::acquire(&key, || {}).await?;
    if let Some(c) = store.get_json::<RoleCredentials>(&key)?.filter(usable) {
        fill_cache(cache, &key, &c);
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
    store.set_json_until(&key, &creds, creds.expiration)?;
    fill_cache(cache, &key, &creds);
    remember(store, target).await?;
    Ok(creds)
}

fn fill_cache(cache: Option<&Store>, key: &str, creds: &RoleCredentials) {
    if let Some(cache) = cache
        && let Err(e) = cache.set_json_until(key, creds, creds.expiration)
    {
        tracing::debug!("could not fill the kernel keyring cache: {e}");
    }
}

fn index_key(session: &str) -> String {
    format!("creds-index:{session}")
}

/// Records that credentials of `target` are stored, so that logout can delete them (keyrings cannot be
/// searched uniformly).
async fn remember(store: &Store, target: &Target) -> Result<(), CredsError> {
    let entry = format!("{}:{}", target.account_id, target.role_name);
    let key = index_key(&target.session);
    let _lock = lock::acquire(&key, || {}).await?;
    let mut index: Vec<String> = store.get_json(&key)?.unwrap_or_default();
    if !index.contains(&entry) {
        index.push(entry);
        store.set_json(&key, &index)?;
    }
    Ok(())
}

/// Deletes every cached role credential of a session, from the store and the kernel-keyring cache.
pub fn forget_session(
    store: &Store,
    cache: Option<&Store>,
    session: &str,
) -> Result<usize, StoreError> {
    let key = index_key(session);
    let index: Vec<String> = store.get_json(&key)?.unwrap_or_default();
    for entry in &index {
        let Some((account_id, role_name)) = entry.split_once(':') else {
            continue;
        };
        let target = Target {
            session: session.into(),
            account_id: account_id.into(),
            role_name: role_name.into(),
        };
        store.delete(&target.key())?;
        if let Some(cache) = cache {
            let _ = cache.delete(&target.key());
        }
    }
    store.delete(&key)?;
    Ok(index.len())
}

/// The credential_process JSON (Version 1) — the only thing `awsso creds` ever prints.
pub fn process_json(c: &RoleCredentials) -> String {
    json!({
        "Version": 1,
        "AccessKeyId": c.access_key_id,
        "SecretAccessKey": c.secret_access_key.expose(),
        "SessionToken": c.session_token.expose(),
        "Expiration": rfc3339(c.expiration),
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
        "profile {name} in {path} (line {line}) uses the legacy sso_start_url form without an sso-session"
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
                "move its sso_start_url/sso_region into an [sso-session] and point the profile at it with sso_session".into()
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
    if section.get("sso_start_url").is_some() {
        return Err(ProfileError::Legacy {
            path,
            name: name.into(),
            line: section.header_line,
        });
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
                    [profile legacy]\nsso_start_url = https://x.awsapps.com/start\n\n[profile plain]\nregion = us-east-1\n";
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
