//! Every account and role a person can use in a session: enumeration against the portal (concurrent,
//! rate-aware, all-or-nothing) and the on-disk cache that lets completion and lookups skip the network.
use serde::{Deserialize, Serialize};

/// One account the person is assigned to, with the roles (permission sets) they can use in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// 12 digits.
    pub id: String,
    /// As the portal returns it: untrusted text (may hold newlines, brackets, quotes, escapes).
    pub name: String,
    pub email: Option<String>,
    /// Sorted, deduplicated.
    pub roles: Vec<String>,
}

/// The complete listing of one session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    pub session: String,
    pub start_url: String,
    pub region: String,
    /// Unix seconds.
    pub fetched_at: i64,
    /// Sorted by account id.
    pub accounts: Vec<Account>,
}

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::paths;
use crate::secret::Secret;
use crate::session::SessionConfig;
use crate::sso::{AccountInfo, Portal, SsoError};

mod pace;
use pace::{Memory, Pacer, paced};

/// How listings are fetched.
#[derive(Clone, Debug)]
pub struct EnumOptions {
    /// Portal calls in flight at once.
    pub concurrency: usize,
    /// Attempts per call that was answered 429 before giving up.
    pub max_throttled_attempts: u32,
    /// Attempts per call that met a 5xx or a network error.
    pub max_error_attempts: u32,
}

impl Default for EnumOptions {
    fn default() -> Self {
        EnumOptions {
            concurrency: 16,
            max_throttled_attempts: 15,
            max_error_attempts: 4,
        }
    }
}

impl EnumOptions {
    /// Defaults, with `AWSSO_CONCURRENCY` overriding the number of calls in flight.
    pub fn from_env() -> Self {
        let mut o = EnumOptions::default();
        if let Some(n) = crate::vars::env().concurrency {
            o.concurrency = n;
        }
        o
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error(
        "listing the accounts of session {session} failed at {what}; {done} of {known} accounts had been listed, \
         so nothing was saved"
    )]
    Incomplete {
        session: String,
        what: String,
        done: usize,
        known: usize,
        #[source]
        source: SsoError,
    },
    #[error(
        "ListAccounts returned the same page token twice; the listing of session {session} would never end"
    )]
    PaginationLoop { session: String },
}

impl SsoError {
    /// Worth another try after a pause: the network, or a server-side failure.
    pub fn is_transient(&self) -> bool {
        match self {
            SsoError::Network { .. } => true,
            SsoError::Service { code, .. } => matches!(
                code.as_str(),
                "InternalServerException"
                    | "InternalServerError"
                    | "InternalFailure"
                    | "ServiceUnavailableException"
                    | "ServiceUnavailable"
                    | "InvalidResponse"
            ),
            _ => false,
        }
    }
}

/// Lists every account and role of a session: ListAccounts pages, then ListAccountRoles per account, with at
/// most `opts.concurrency` calls in flight. Role listing of the first page starts while later pages are still
/// being fetched. Either every account is listed or the whole enumeration fails.
pub async fn enumerate(
    portal: Arc<Portal>,
    token: Secret<String>,
    session: &SessionConfig,
    opts: &EnumOptions,
    progress: Option<&ProgressBar>,
) -> Result<Listing, ListError> {
    let remembered = remembered_pace(session);
    let memory = remembered
        .as_ref()
        .map_or(Memory::Nothing, Remembered::memory);
    match memory {
        Memory::Limit(l) => tracing::debug!(
            "pacing from the first call at {l:.1} calls/s, the limit a recent scan learnt"
        ),
        Memory::Unthrottled(n) => tracing::debug!(
            "starting at {n:.0} calls a second, which a recent scan sent without a 429 (no ramp up to it)"
        ),
        Memory::Nothing => {}
    }
    let pacer = Arc::new(Pacer::new(Instant::now(), memory, opts.concurrency));
    let limit = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let token = Arc::new(token);
    let mut tasks: JoinSet<Result<Account, (String, SsoError)>> = JoinSet::new();
    let mut accounts: BTreeMap<String, Account> = BTreeMap::new();
    let mut known = 0usize;
    let incomplete =
        |what: String, done: usize, known: usize, source: SsoError| ListError::Incomplete {
            session: session.name.clone(),
            what,
            done,
            known,
            source,
        };
    let finish = |accounts: &mut BTreeMap<String, Account>, result: Account| {
        match accounts.get_mut(&result.id) {
            // An account listed twice (pages overlapping) keeps the union of its roles.
            Some(existing) => {
                existing.roles.extend(result.roles);
                existing.roles.sort();
                existing.roles.dedup();
            }
            None => {
                accounts.insert(result.id.clone(), result);
            }
        }
        if let Some(p) = progress {
            p.inc(1);
        }
    };

    // The next ListAccounts page is fetched while the role listings of the current one are being
    // started, so the calls in flight stay at the bound across page boundaries. A JoinSet, so that an
    // early return aborts a page still in flight.
    type Page = Result<(Vec<AccountInfo>, Option<String>), SsoError>;
    let mut pages: JoinSet<Page> = JoinSet::new();
    let fetch_page = |pages: &mut JoinSet<Page>, next_token: Option<String>| {
        let (portal, pacer, token, opts, limit) = (
            portal.clone(),
            pacer.clone(),
            token.clone(),
            opts.clone(),
            limit.clone(),
        );
        pages.spawn(async move {
            let _permit = limit.acquire_owned().await.expect("semaphore open");
            paced(&pacer, &opts, || {
                portal.list_accounts(&token, next_token.clone())
            })
            .await
        });
    };
    let mut seen_tokens = HashSet::new();
    fetch_page(&mut pages, None);
    while let Some(page) = pages.join_next().await {
        let page = page.unwrap_or_else(|join| {
            Err(SsoError::Service {
                op: "ListAccounts",
                code: "TaskFailed".into(),
                message: join.to_string(),
            })
        });
        let (page, next) = match page {
            Ok(p) => p,
            Err(e) => {
                tasks.abort_all();
                return Err(incomplete("ListAccounts".into(), accounts.len(), known, e));
            }
        };
        if let Some(t) = next.filter(|t| !t.is_empty()) {
            if !seen_tokens.insert(t.clone()) {
                tasks.abort_all();
                return Err(ListError::PaginationLoop {
                    session: session.name.clone(),
                });
            }
            fetch_page(&mut pages, Some(t));
        }
        // Counted before any role listing starts, so that a failure reports how many accounts the
        // portal had shown, not how many had been handed a connection.
        known += page.len();
        if let Some(p) = progress {
            p.inc_length(page.len() as u64);
        }
        for info in page {
            let permit = limit.clone().acquire_owned().await.expect("semaphore open");
            let (portal, pacer, token, opts) =
                (portal.clone(), pacer.clone(), token.clone(), opts.clone());
            tasks.spawn(async move {
                let _permit = permit;
                let mut roles = Vec::new();
                let mut next: Option<String> = None;
                let mut seen = HashSet::new();
                loop {
                    let (page, more) = paced(&pacer, &opts, || {
                        portal.list_account_roles(&token, &info.id, next.clone())
                    })
                    .await
                    .map_err(|e| (info.id.clone(), e))?;
                    roles.extend(page);
                    match more {
                        Some(t) if !t.is_empty() && seen.insert(t.clone()) => next = Some(t),
                        _ => break,
                    }
                }
                roles.sort();
                roles.dedup();
                Ok(Account {
                    id: info.id,
                    name: info.name,
                    email: info.email,
                    roles,
                })
            });
            // Fail fast: a dead role listing aborts everything instead of waiting for the rest.
            while let Some(done) = tasks.try_join_next() {
                match settled(done) {
                    Ok(account) => finish(&mut accounts, account),
                    Err((what, e)) => {
                        tasks.abort_all();
                        return Err(incomplete(what, accounts.len(), known, e));
                    }
                }
            }
        }
    }
    while let Some(done) = tasks.join_next().await {
        match settled(done) {
            Ok(account) => finish(&mut accounts, account),
            Err((what, e)) => {
                tasks.abort_all();
                return Err(incomplete(what, accounts.len(), known, e));
            }
        }
    }
    let report = pacer.report();
    if report.throttled > 0 {
        tracing::debug!(
            "the portal answered {} of {} calls 429 (throttled); learnt limit {:.1} calls/s",
            report.throttled,
            report.sent,
            report.measured.or(report.limit).unwrap_or_default()
        );
    }
    // What this scan measured, else (a scan paced at a remembered limit that never met a 429) the limit it
    // probed up to, so that a limit the portal raised or dropped is outgrown scan after scan, else how
    // fast it went unthrottled (so that the next scan need not ramp).
    let now = crate::sso::now();
    let learnt = match (report.measured, report.limit, &remembered) {
        (Some(limit), _, _) => Some(Remembered::limit(limit, now)),
        (None, Some(limit), Some(r)) if r.limit.is_some() => {
            Some(Remembered::limit(limit, r.learnt_at))
        }
        _ => report.unthrottled.map(|n| Remembered {
            limit: None,
            unthrottled: Some(n),
            learnt_at: now,
        }),
    };
    if let Some(r) = learnt
        && let Err(e) = remember_pace(session, &r)
    {
        tracing::debug!("could not remember the portal's pace: {e}");
    }
    Ok(Listing {
        session: session.name.clone(),
        start_url: session.start_url.clone(),
        region: session.region.clone(),
        fetched_at: crate::sso::now(),
        accounts: accounts.into_values().collect(),
    })
}

/// A finished role listing task: its account, or which call failed and why.
fn settled(
    done: Result<Result<Account, (String, SsoError)>, tokio::task::JoinError>,
) -> Result<Account, (String, SsoError)> {
    match done {
        Ok(Ok(account)) => Ok(account),
        Ok(Err((id, e))) => Err((format!("ListAccountRoles for account {id}"), e)),
        Err(join) => Err((
            "a role listing task".into(),
            SsoError::Service {
                op: "ListAccountRoles",
                code: "TaskFailed".into(),
                message: join.to_string(),
            },
        )),
    }
}

/// A progress bar on stderr while enumerating, only when stderr is a terminal.
pub fn progress_bar() -> Option<ProgressBar> {
    if !crate::output::stderr_is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} listing accounts {pos}/{len} [{elapsed}] {wide_bar}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}

/// How long a cached listing is used before a new scan: `AWSSO_LISTING_TTL` seconds, default one hour.
pub fn ttl() -> i64 {
    crate::vars::env().listing_ttl
}

/// `listings/<session>-<instance>.json`: per session name and Identity Center instance, so two configs
/// using one name for two directories never read each other's listing.
pub fn cache_path(session: &str, start_url: &str, region: &str) -> std::io::Result<PathBuf> {
    Ok(paths::cache_dir()?.join("listings").join(format!(
        "{}-{}.json",
        paths::safe_file_stem(session),
        crate::session::instance_scope(start_url, region).trim_start_matches('@')
    )))
}

/// The cached listing of `session`, whatever its age, if it belongs to this session's directory.
pub fn load_cached(session: &SessionConfig) -> Option<Listing> {
    let path = cache_path(&session.name, &session.start_url, &session.region).ok()?;
    let bytes = std::fs::read(&path).ok()?;
    match serde_json::from_slice::<Listing>(&bytes) {
        Ok(l) if l.session == session.name && session.same_instance(&l.start_url, &l.region) => {
            Some(l)
        }
        Ok(_) => None,
        Err(e) => {
            tracing::debug!(path = %path.display(), "ignoring an unreadable listing cache: {e}");
            None
        }
    }
}

/// What a scan of a portal learnt about its pace, kept for the next scans of it: the rate limit a
/// throttled scan learnt, or else how many calls a scan got admitted in one second without a 429.
#[derive(Debug, Serialize, Deserialize)]
struct Remembered {
    /// Admitted calls per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    limit: Option<f64>,
    /// Calls admitted in one window that drew no 429.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unthrottled: Option<f64>,
    /// Unix seconds of the scan (the 429) it was learnt from.
    learnt_at: i64,
}

impl Remembered {
    fn limit(limit: f64, learnt_at: i64) -> Remembered {
        Remembered {
            limit: Some(limit),
            unthrottled: None,
            learnt_at,
        }
    }

    fn memory(&self) -> Memory {
        match (self.limit, self.unthrottled) {
            (Some(l), _) if l.is_finite() && l >= 1.0 => Memory::Limit(l),
            (None, Some(n)) if n.is_finite() && n >= 1.0 => Memory::Unthrottled(n),
            _ => Memory::Nothing,
        }
    }
}

/// A day: portals' limits rarely change, and a scan probes above a remembered limit anyway. An unthrottled
/// pace is not renewed by the scans that skip the ramp on its word, so the first scan of each day ramps.
const REMEMBER_PACE_FOR: i64 = 24 * 3600;

/// `listings/<session>-<instance>.pace`, next to the listing of the same instance.
fn pace_path(session: &SessionConfig) -> std::io::Result<PathBuf> {
    Ok(cache_path(&session.name, &session.start_url, &session.region)?.with_extension("pace"))
}

fn remembered_pace(session: &SessionConfig) -> Option<Remembered> {
    let bytes = std::fs::read(pace_path(session).ok()?).ok()?;
    serde_json::from_slice::<Remembered>(&bytes)
        .ok()
        .filter(|r| r.memory() != Memory::Nothing)
        .filter(|r| (0..REMEMBER_PACE_FOR).contains(&(crate::sso::now() - r.learnt_at)))
}

fn remember_pace(session: &SessionConfig, r: &Remembered) -> std::io::Result<()> {
    use std::io::Write;
    let path = pace_path(session)?;
    let dir = path.parent().expect("cache path has a parent");
    paths::ensure_private_dir(dir)?;
    let mut tmp = tempfile::Builder::new().prefix(".pace").tempfile_in(dir)?;
    tmp.write_all(&serde_json::to_vec(r).map_err(std::io::Error::other)?)?;
    tmp.persist(&path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes the listing cache atomically (private to the user; it is not secret, but it is nobody else's).
pub fn save(listing: &Listing) -> std::io::Result<PathBuf> {
    use std::io::Write;
    let path = cache_path(&listing.session, &listing.start_url, &listing.region)?;
    let dir = path.parent().expect("cache path has a parent");
    paths::ensure_private_dir(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".listing")
        .tempfile_in(dir)?;
    tmp.write_all(&serde_json::to_vec(listing).map_err(std::io::Error::other)?)?;
    tmp.as_file().sync_all()?;
    tmp.persist(&path).map_err(|e| e.error)?;
    Ok(path)
}

impl Listing {
    pub fn is_fresh(&self, ttl: i64) -> bool {
        self.fetched_at + ttl > crate::sso::now()
    }

    /// Number of account × role pairs.
    pub fn pairs(&self) -> usize {
        self.accounts.iter().map(|a| a.roles.len()).sum()
    }
}
