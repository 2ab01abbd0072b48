//! Cross-process locks (advisory file locks) so concurrent awsso processes never run two logins or two
//! refreshes of one session at once; the OS releases them when a process dies, `kill -9` included.
use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;

use crate::paths;

/// A held lock; released on drop.
#[derive(Debug)]
pub struct Lock {
    _file: File,
    pub path: PathBuf,
    /// Whether another process held it when we asked (so its work may now be reusable).
    pub waited: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot take the lock {path}: {source}")]
pub struct LockError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Takes the named lock, waiting for its holder if there is one; `on_wait` runs once before waiting.
pub async fn acquire(name: &str, on_wait: impl FnOnce()) -> Result<Lock, LockError> {
    let dir = paths::cache_dir()
        .map_err(|e| LockError {
            path: PathBuf::from("locks"),
            source: e.into(),
        })?
        .join("locks");
    let path = dir.join(format!("{}.lock", paths::safe_file_stem(name)));
    let err = |source| LockError {
        path: path.clone(),
        source,
    };
    paths::ensure_private_dir(&dir).map_err(err)?;
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(err)?;
    match file.try_lock() {
        Ok(()) => Ok(Lock {
            _file: file,
            path,
            waited: false,
        }),
        Err(TryLockError::WouldBlock) => {
            on_wait();
            let file = tokio::task::spawn_blocking(move || file.lock().map(|()| file))
                .await
                .map_err(|e| err(std::io::Error::other(e)))?
                .map_err(err)?;
            Ok(Lock {
                _file: file,
                path,
                waited: true,
            })
        }
        Err(TryLockError::Error(e)) => Err(err(e)),
    }
}
