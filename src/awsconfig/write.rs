//! Writing the config: the cross-process lock, read-modify-write ([`update`]) and atomic replacement
//! ([`write_atomic`]).
//!
//! A symlinked config is followed (the final target is replaced, the link stays). The lock file is
//! `.<file name>.awsso.lock` in the target's directory; it is left in place after use, because
//! deleting a lock file lets a third process lock a fresh inode while a second still waits on the
//! old one. The OS drops the lock (flock/LockFileEx via fs4) when its holder exits, even on a crash.
//!
//! Editors and shells never take that lock, so it only orders awsso's own writers; against the
//! others, [`update`] re-checks the file right before its rename and redoes the edit when it
//! changed (see [`replace`] for the window that remains). Temp files are
//! `.<file name>.awsso-<pid>-<random>.tmp`; a writer killed before its rename leaves one, which the
//! next write removes under the lock.
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fs4::fs_std::FileExt;

use super::error::ConfigError;
use super::parse::ConfigFile;

/// How long a writer waits for another awsso process to finish its edit before giving up.
const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// How many times [`update`] redoes its edit on a file someone else changed meanwhile before it gives
/// up; each retry means another writer (an editor, a shell) wrote during our few milliseconds.
pub const MAX_ATTEMPTS: usize = 10;

/// Temp files of awsso's own naming pattern older than this are leftovers of a killed writer, even when
/// their writer's pid is alive again (pids are reused).
const STALE_TEMP_AGE: Duration = Duration::from_secs(60);

/// Test-only fault injection: in debug builds, `AWSSO_TEST_WRITE_DELAY_MS=N` makes every config write
/// sleep N ms after the temp file is complete and before the check-and-rename, so tests can edit the
/// file (or kill awsso) inside that window deterministically. Release builds ignore it.
pub const TEST_WRITE_DELAY_ENV: &str = crate::vars::TEST_WRITE_DELAY_MS;

/// Read-modify-write under the lock, safe against writers that do not take the lock.
///
/// Takes the lock, removes stale temp files of earlier killed writers, reads the file, hands it to
/// `edit`, which returns the new text (None, or the unchanged text, means nothing to do: nothing is
/// written), checks the new text still parses, and replaces the file atomically, but only if it still
/// holds what was read. Editors and shells don't take awsso's lock, so when the file changed meanwhile
/// the edit is redone on the new content (hence `FnMut`), up to [`MAX_ATTEMPTS`] times, after which
/// [`ConfigError::ConcurrentEdit`] is returned and the file is left as the other writer left it.
/// A file that does not parse is never passed to `edit`; neither it nor one starting with a UTF-8 BOM
/// ([`ConfigError::Bom`]) is ever rewritten.
/// Returns whether the file changed. Creates the config's directory (0700) if missing.
pub fn update<E: From<ConfigError>>(
    path: &Path,
    edit: impl FnMut(&ConfigFile) -> Result<Option<String>, E>,
) -> Result<bool, E> {
    let delay = test_delay(TEST_WRITE_DELAY_ENV);
    update_with(path, edit, &mut |_| {
        if let Some(d) = delay {
            std::thread::sleep(d);
        }
        Ok(())
    })
}

/// A test hook's delay (debug builds): the milliseconds in the variable `var`.
#[cfg(debug_assertions)]
fn test_delay(var: &str) -> Option<Duration> {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
}

#[cfg(not(debug_assertions))]
fn test_delay(_var: &str) -> Option<Duration> {
    None
}

fn update_with<E: From<ConfigError>>(
    path: &Path,
    mut edit: impl FnMut(&ConfigFile) -> Result<Option<String>, E>,
    before_rename: &mut dyn FnMut(&Path) -> io::Result<()>,
) -> Result<bool, E> {
    let target = resolve_symlinks(path)?;
    ensure_dir(parent(&target))?;
    let _lock = lock_beside(&target)?;
    remove_stale_temps(&target);
    for attempt in 1..=MAX_ATTEMPTS {
        let read = read_if_exists(&target)?;
        let current = ConfigFile::from_bytes(path, read.clone().unwrap_or_default())?;
        let Some(new_text) = edit(&current)? else {
            return Ok(false);
        };
        if new_text == current.text {
            return Ok(false);
        }
        // botocore and the Rust SDK cannot read such a file: writing to it would only hide that.
        if current.text.starts_with('\u{feff}') {
            return Err(ConfigError::Bom {
                path: path.to_path_buf(),
            }
            .into());
        }
        // The edit's output, not the user's file, is at fault here: say so rather than blame a line
        // that only exists in memory.
        let checked = ConfigFile::parse(path, new_text).map_err(|e| match e {
            ConfigError::Parse { line, message, .. } => ConfigError::InvalidBody { line, message },
            other => other,
        })?;
        match replace(
            &target,
            &checked.text,
            Expect::from_read(&read),
            before_rename,
        )? {
            Outcome::Replaced => {
                tracing::debug!(path = %path.display(), attempt, "updated the AWS config file");
                return Ok(true);
            }
            Outcome::ChangedMeanwhile => {
                tracing::debug!(path = %path.display(), attempt, "the config changed under the edit; redoing it");
            }
        }
    }
    Err(ConfigError::ConcurrentEdit {
        path: path.to_path_buf(),
        attempts: MAX_ATTEMPTS,
    }
    .into())
}

/// Replaces the file at `path` (following symlinks) with `contents`, atomically.
///
/// A temp file in the target's directory is written and fsynced, takes the old file's permissions
/// (0600 for a new file), is renamed over the target, then the directory is fsynced. On any
/// failure the old file is left as it was. Does not lock nor check for concurrent edits: use
/// [`update`] for read-modify-write.
pub fn write_atomic(path: &Path, contents: &str) -> Result<(), ConfigError> {
    write_atomic_with(path, contents, &mut |_| Ok(()))
}

fn write_atomic_with(
    path: &Path,
    contents: &str,
    before_rename: &mut dyn FnMut(&Path) -> io::Result<()>,
) -> Result<(), ConfigError> {
    let target = resolve_symlinks(path)?;
    ensure_dir(parent(&target))?;
    replace(&target, contents, Expect::Anything, before_rename).map(|_| ())
}

/// What [`replace`] did.
enum Outcome {
    Replaced,
    /// The file no longer held what the caller read; nothing was written.
    ChangedMeanwhile,
}

fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>, ConfigError> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ConfigError::io(path, e)),
    }
}

/// The prefix of awsso's temp files beside `target`; the pid lets a later writer tell a dead
/// writer's leftover from a live one's file.
fn temp_prefix(target: &Path) -> String {
    format!(".{}.awsso-", file_name(target))
}

/// What the file must still hold for [`replace`] to move the new one over it.
#[derive(Clone, Copy)]
enum Expect<'a> {
    /// Plain [`write_atomic`]: whatever is there is replaced.
    Anything,
    /// The caller found no file; someone creating one meanwhile wins.
    Absent,
    /// The caller read these bytes.
    Bytes(&'a [u8]),
}

impl Expect<'_> {
    fn from_read(read: &Option<Vec<u8>>) -> Expect<'_> {
        match read {
            Some(b) => Expect::Bytes(b),
            None => Expect::Absent,
        }
    }

    fn holds(self, now: &Option<Vec<u8>>) -> bool {
        match (self, now) {
            (Expect::Anything, _) | (Expect::Absent, None) => true,
            (Expect::Bytes(want), Some(got)) => want == got.as_slice(),
            _ => false,
        }
    }
}

/// Writes `contents` to a temp file beside `target` (already symlink-free, its directory exists) and
/// moves it over `target`, unless `target` no longer holds what `expected` says.
///
/// Why the check sits after the temp file is complete: editors and shells don't take awsso's lock, so
/// the only protection against overwriting their edit is to look again as late as possible. The
/// check-then-rename pair is not atomic; on Linux the rename is a `RENAME_EXCHANGE`, which hands back
/// the exact file it displaced: if that is not what the check saw (an edit landed between the two), it
/// is swapped back and the caller redoes its edit. A writer that opened the old file before the swap
/// but writes only after it is caught by the lease [`Held`] keeps (Linux). What remains unprotected:
/// without a lease (see [`Held`]), a writer that opened the file before the swap and writes after the
/// displaced file was read back; with one, an `open` racing the last lease check by nanoseconds, and
/// two writers at once, one breaking the lease of the old file while the other appends to the new one,
/// which the swap back then deletes; on other systems, or file systems without `RENAME_EXCHANGE`, the
/// time between the check and a plain rename.
fn replace(
    target: &Path,
    contents: &str,
    expected: Expect<'_>,
    before_rename: &mut dyn FnMut(&Path) -> io::Result<()>,
) -> Result<Outcome, ConfigError> {
    let dir = parent(target);
    let old = match fs::metadata(target) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(ConfigError::io(target, e)),
    };
    // tempfile creates it 0600 with O_EXCL under a random name; dropped (deleted) on any error.
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{}{}-", temp_prefix(target), std::process::id()))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| ConfigError::io(dir, e))?;
    let tmp_err = |e: io::Error| ConfigError::io(target, e);
    if let Some(old) = &old {
        keep_owner(tmp.as_file(), old);
        tmp.as_file()
            .set_permissions(old.permissions())
            .map_err(tmp_err)?;
    }
    tmp.write_all(contents.as_bytes()).map_err(tmp_err)?;
    tmp.as_file().sync_all().map_err(tmp_err)?;
    before_rename(tmp.path()).map_err(tmp_err)?;

    if let Expect::Bytes(want) = expected {
        // Held open (and leased, on Linux) from before the check until after the rename.
        let held = match Held::open(target) {
            Ok(h) => h,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Outcome::ChangedMeanwhile),
            Err(e) => return Err(tmp_err(e)),
        };
        if !held.is_at(target, want).map_err(tmp_err)? {
            return Ok(Outcome::ChangedMeanwhile);
        }
        match exchange(tmp.path(), target) {
            Ok(()) => {
                if let Some(d) = test_delay(crate::vars::TEST_SWAP_DELAY_MS) {
                    std::thread::sleep(d);
                }
                // `tmp`'s path now names the displaced file, which dropping `tmp` deletes.
                if held.is_at(tmp.path(), want).map_err(tmp_err)? && !held.opened_by_others() {
                    // Unlinked before the lease goes, so no later open can reach the old file.
                    let _ = fs::remove_file(tmp.path());
                    drop(held);
                    sync_dir(dir);
                    return Ok(Outcome::Replaced);
                }
                exchange(tmp.path(), target).map_err(tmp_err)?;
                return Ok(Outcome::ChangedMeanwhile);
            }
            Err(e) if exchange_unsupported(&e) => {}
            Err(e) => return Err(tmp_err(e)),
        }
    } else if !expected.holds(&read_if_exists(target)?) {
        return Ok(Outcome::ChangedMeanwhile);
    }
    if let Expect::Absent = expected {
        // Fails if someone created the file since the check.
        return match tmp.persist_noclobber(target) {
            Ok(_) => {
                sync_dir(dir);
                Ok(Outcome::Replaced)
            }
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => {
                Ok(Outcome::ChangedMeanwhile)
            }
            Err(e) => Err(tmp_err(e.error)),
        };
    }
    tmp.persist(target).map_err(|e| tmp_err(e.error))?;
    sync_dir(dir);
    Ok(Outcome::Replaced)
}

/// Atomically swaps the files at `a` and `b` (`renameat2(RENAME_EXCHANGE)`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))
    };
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both are valid NUL-terminated paths; renameat2 only reads them.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// The kernel or file system has no `RENAME_EXCHANGE`: fall back to check-then-rename.
fn exchange_unsupported(e: &io::Error) -> bool {
    #[cfg(target_os = "linux")]
    if matches!(
        e.raw_os_error(),
        Some(libc::EINVAL | libc::ENOSYS | libc::ENOTSUP)
    ) {
        return true;
    }
    e.kind() == io::ErrorKind::Unsupported
}

/// The file the check looked at, held open from before the check until after the rename.
///
/// Why: a writer that opened the file before the rename but writes only after it would write into the
/// displaced file, which awsso deletes. On Linux the holder takes a read lease (`F_SETLEASE`,
/// `F_RDLCK`), which the kernel grants only while no process has the file open for writing and breaks
/// when one opens it for writing; a broken lease after the rename means such a writer may exist, so the
/// rename is undone and the edit redone. A read lease, not a write lease: any open breaks a write
/// lease, so a mere reader of the old file (another awsso planning its sync, `tail -f`) made awsso
/// undo the swap, and the swap back deleted the new file with whatever had been appended to it since
/// (`a_reader_of_the_displaced_file_does_not_undo_the_swap`); and a reader holding the file open kept
/// a write lease from being granted at all. Without a lease (another process keeps the file open for
/// writing; a file owned by another user; a file system without leases) only the content and identity
/// checks remain.
struct Held {
    file: File,
    leased: bool,
}

impl Held {
    fn open(target: &Path) -> io::Result<Held> {
        let file = File::open(target)?;
        let leased = take_lease(&file);
        Ok(Held { file, leased })
    }

    /// Whether `path` is still this file (same inode) and holds exactly `want`. Reads through the
    /// held descriptor, which does not break the lease.
    fn is_at(&self, path: &Path, want: &[u8]) -> io::Result<bool> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let (here, there) = match (self.file.metadata(), fs::symlink_metadata(path)) {
                (Ok(a), Ok(b)) => (a, b),
                (_, Err(e)) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
                (Err(e), _) | (_, Err(e)) => return Err(e),
            };
            if (here.dev(), here.ino()) != (there.dev(), there.ino()) {
                return Ok(false);
            }
        }
        #[cfg(not(unix))]
        let _ = path;
        let mut now = Vec::with_capacity(want.len());
        let mut f = &self.file;
        io::Seek::seek(&mut f, io::SeekFrom::Start(0))?;
        io::Read::read_to_end(&mut f, &mut now)?;
        Ok(now == want)
    }

    /// Whether another process opened the file since the lease was taken.
    fn opened_by_others(&self) -> bool {
        #[cfg(target_os = "linux")]
        if self.leased {
            use std::os::fd::AsRawFd;
            // SAFETY: F_GETLEASE only reads the lease state of our own descriptor.
            let state = unsafe { libc::fcntl(self.file.as_raw_fd(), libc::F_GETLEASE) };
            return state != libc::F_RDLCK;
        }
        false
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if self.leased {
            use std::os::fd::AsRawFd;
            // SAFETY: releasing our own lease; closing the descriptor would release it too.
            unsafe { libc::fcntl(self.file.as_raw_fd(), libc::F_SETLEASE, libc::F_UNLCK) };
        }
    }
}

/// Takes a read lease on `file` (opened read-only), waiting up to ~20 ms for other processes that have it
/// open for writing for a moment (a shell's `>>` between its open and its write); false when none can be
/// had.
#[cfg(target_os = "linux")]
fn take_lease(file: &File) -> bool {
    use std::os::fd::AsRawFd;
    static IGNORE_SIGIO: std::sync::Once = std::sync::Once::new();
    // A lease break is signalled with SIGIO, whose default action ends the process; awsso polls the
    // lease state instead (F_GETLEASE) and uses SIGIO for nothing else.
    // SAFETY: installing SIG_IGN for a signal awsso does not otherwise use.
    IGNORE_SIGIO.call_once(|| unsafe {
        libc::signal(libc::SIGIO, libc::SIG_IGN);
    });
    for _ in 0..20 {
        // SAFETY: F_SETLEASE on our own descriptor.
        let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLEASE, libc::F_RDLCK) };
        if rc == 0 {
            return true;
        }
        if io::Error::last_os_error().raw_os_error() != Some(libc::EAGAIN) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

#[cfg(not(target_os = "linux"))]
fn take_lease(_file: &File) -> bool {
    false
}

/// Deletes temp files of awsso's naming pattern beside `target` that a killed writer left behind:
/// those whose writer pid is gone, or older than [`STALE_TEMP_AGE`]. Called under the lock, so no
/// locked writer of this file is running; best effort, as a leftover is harmless clutter.
fn remove_stale_temps(target: &Path) {
    let prefix = temp_prefix(target);
    let Ok(entries) = fs::read_dir(parent(target)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|r| r.strip_suffix(".tmp"))
        else {
            continue;
        };
        // `<pid>-<random>` (or just `<random>`, as written before the pid was added).
        let pid = rest
            .split_once('-')
            .and_then(|(p, _)| p.parse::<u32>().ok());
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let old = meta
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age > STALE_TEMP_AGE);
        if old || pid.is_some_and(|p| !process_alive(p)) {
            match fs::remove_file(entry.path()) {
                Ok(()) => tracing::debug!(file = ?name, "removed a stale temp file"),
                Err(e) => tracing::debug!(file = ?name, "cannot remove a stale temp file: {e}"),
            }
        }
    }
}

#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    // Unknown: leave it to the age rule.
    true
}

/// Keeps a file edited through `sudo` owned by its user; best effort, as only root may chown.
#[cfg(unix)]
fn keep_owner(tmp: &File, old: &fs::Metadata) {
    use std::os::unix::fs::MetadataExt;
    let Ok(new) = tmp.metadata() else { return };
    if (new.uid(), new.gid()) != (old.uid(), old.gid())
        && let Err(e) = std::os::unix::fs::fchown(tmp, Some(old.uid()), Some(old.gid()))
    {
        tracing::debug!("cannot keep the config's owner/group: {e}");
    }
}

#[cfg(not(unix))]
fn keep_owner(_tmp: &File, _old: &fs::Metadata) {}

/// Makes the rename durable. Some file systems refuse to fsync a directory; the rename has
/// happened either way, so that is not an error.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
        tracing::debug!("cannot fsync {}: {e}", dir.display());
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Follows `path` through any chain of symlinks to the file that should be replaced (which may not
/// exist yet, e.g. a dangling link to a file to be created).
fn resolve_symlinks(path: &Path) -> Result<PathBuf, ConfigError> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let next = fs::read_link(&current).map_err(|e| ConfigError::io(&current, e))?;
                current = parent(&current).join(next);
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(ConfigError::io(&current, e)),
        }
    }
    Err(ConfigError::io(
        path,
        io::Error::other("too many levels of symbolic links"),
    ))
}

/// Holds the exclusive lock until dropped.
struct ConfigLock {
    _file: File,
}

fn lock_beside(target: &Path) -> Result<ConfigLock, ConfigError> {
    let path = parent(target).join(format!(".{}.awsso.lock", file_name(target)));
    let err = |source| ConfigError::Lock {
        path: path.clone(),
        source,
    };
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).read(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&path).map_err(err)?;
    // Polling instead of a blocking lock, so a wedged process yields an error, not a hang.
    let started = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        match FileExt::try_lock_exclusive(&file) {
            Ok(true) => return Ok(ConfigLock { _file: file }),
            Ok(false) if started.elapsed() < LOCK_TIMEOUT => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            Ok(false) => {
                return Err(err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "still held by another process after {}s",
                        LOCK_TIMEOUT.as_secs()
                    ),
                )));
            }
            Err(e) => return Err(err(e)),
        }
    }
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config".to_owned())
}

/// Creates `dir` private (0700) if missing; an existing directory is left as it is.
fn ensure_dir(dir: &Path) -> Result<(), ConfigError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| ConfigError::io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::awsconfig::splice_block;
    #[cfg(unix)]
    use std::os::unix::fs::PermissionsExt;

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[test]
    #[cfg(unix)]
    fn new_file_is_0600_in_a_new_0700_dir() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("aws").join("config");
        write_atomic(&p, "[default]\n").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "[default]\n");
        assert_eq!(mode(&p), 0o600);
        assert_eq!(mode(p.parent().unwrap()), 0o700);
    }

    #[test]
    #[cfg(unix)]
    fn existing_mode_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        fs::write(&p, "old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&p, "new").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(mode(&p), 0o640);
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    #[cfg(unix)]
    fn symlink_is_followed_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let real_dir = dir.path().join("dotfiles");
        fs::create_dir(&real_dir).unwrap();
        let real = real_dir.join("aws-config");
        fs::write(&real, "[default]\n").unwrap();
        let link_dir = dir.path().join("home/.aws");
        fs::create_dir_all(&link_dir).unwrap();
        let link = link_dir.join("config");
        std::os::unix::fs::symlink("../../dotfiles/aws-config", &link).unwrap();
        let changed = update(&link, |cfg| {
            splice_block(&cfg.text, "session corp", Some("[sso-session corp]\n")).map(Some)
        })
        .unwrap();
        assert!(changed);
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let text = fs::read_to_string(&real).unwrap();
        assert!(text.starts_with("[default]\n\n# BEGIN awsso managed block session corp"));
        // The lock and temp files live beside the target, not the link.
        assert!(real_dir.join(".aws-config.awsso.lock").exists());
        assert_eq!(fs::read_dir(&link_dir).unwrap().count(), 1);
    }

    #[test]
    #[cfg(unix)]
    fn dangling_symlink_creates_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("config");
        std::os::unix::fs::symlink("real/config", &link).unwrap();
        write_atomic(&link, "[default]\n").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("real/config")).unwrap(),
            "[default]\n"
        );
    }

    #[test]
    fn failure_before_rename_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        fs::write(&p, "[default]\nregion = x\n").unwrap();
        let mut saw_temp = false;
        let err = write_atomic_with(&p, "[default]\nregion = y\n", &mut |tmp| {
            assert_eq!(fs::read_to_string(tmp).unwrap(), "[default]\nregion = y\n");
            saw_temp = true;
            Err(io::Error::other("simulated crash"))
        })
        .unwrap_err();
        assert!(saw_temp);
        assert!(matches!(err, ConfigError::Io { .. }));
        assert_eq!(fs::read_to_string(&p).unwrap(), "[default]\nregion = x\n");
        assert!(leftovers(dir.path()).is_empty());

        let err = update_with(
            &p,
            |cfg| Ok::<_, ConfigError>(Some(format!("{}# more\n", cfg.text))),
            &mut |_| Err(io::Error::other("simulated crash")),
        )
        .unwrap_err();
        assert!(err.to_string().contains("simulated crash"));
        assert_eq!(fs::read_to_string(&p).unwrap(), "[default]\nregion = x\n");
    }

    #[test]
    fn update_refuses_a_malformed_config() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        let original = b"[default]\r\nregion = x\r\n\r\n[profile broken\r\nk = v";
        fs::write(&p, original).unwrap();
        let err = update(&p, |_| -> Result<_, ConfigError> {
            panic!("edit must not run on an unparsable config")
        })
        .unwrap_err();
        match &err {
            ConfigError::Parse { line, path, .. } => {
                assert_eq!(*line, 4);
                assert_eq!(path, &p);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(fs::read(&p).unwrap(), original);
    }

    #[test]
    fn update_refuses_to_write_unparsable_output() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        fs::write(&p, "[default]\n").unwrap();
        let err = update(&p, |cfg| {
            Ok::<_, ConfigError>(Some(format!("{}[oops\n", cfg.text)))
        })
        .unwrap_err();
        assert!(
            matches!(err, ConfigError::InvalidBody { line: 2, .. }),
            "{err:?}"
        );
        assert_eq!(fs::read_to_string(&p).unwrap(), "[default]\n");
    }

    #[test]
    fn update_without_change_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        assert!(!update(&p, |_| Ok::<_, ConfigError>(None)).unwrap());
        assert!(!p.exists());
        fs::write(&p, "[default]\n").unwrap();
        let before = fs::metadata(&p).unwrap().modified().unwrap();
        assert!(!update(&p, |cfg| Ok::<_, ConfigError>(Some(cfg.text.clone()))).unwrap());
        assert_eq!(fs::metadata(&p).unwrap().modified().unwrap(), before);
    }

    #[test]
    fn update_passes_edit_errors_through() {
        #[derive(Debug)]
        enum MyError {
            Config,
            Mine,
        }
        impl From<ConfigError> for MyError {
            fn from(_: ConfigError) -> Self {
                MyError::Config
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        fs::write(&p, "[default]\n").unwrap();
        assert!(matches!(
            update(&p, |_| Err(MyError::Mine)),
            Err(MyError::Mine)
        ));
        assert!(matches!(
            update(&p, |_| Ok(Some("junk\n".to_owned()))),
            Err(MyError::Config)
        ));
    }

    /// An edit (by a program that does not take the lock) landing while the temp file is complete is
    /// kept: the splice is redone on the new content.
    #[test]
    fn an_edit_before_the_rename_is_kept_and_the_splice_redone() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        fs::write(&p, "[default]\n").unwrap();
        let mut edits = 0;
        let mut hooks = 0;
        let changed = update_with(
            &p,
            |cfg| {
                edits += 1;
                cfg.splice_block("session s", Some("[sso-session s]\n"))
                    .map(Some)
            },
            &mut |_| {
                hooks += 1;
                if hooks == 1 {
                    fs::OpenOptions::new()
                        .append(true)
                        .open(&p)?
                        .write_all(b"# mine\n")?;
                }
                Ok(())
            },
        )
        .unwrap();
        assert!(changed);
        assert_eq!(edits, 2);
        let text = fs::read_to_string(&p).unwrap();
        assert!(
            text.starts_with("[default]\n# mine\n\n# BEGIN awsso"),
            "{text}"
        );
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn a_file_changing_on_every_attempt_is_left_alone_with_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        fs::write(&p, "[default]\n").unwrap();
        let mut n = 0;
        let err = update_with(
            &p,
            |cfg| {
                cfg.splice_block("session s", Some("[sso-session s]\n"))
                    .map(Some)
            },
            &mut |_| {
                n += 1;
                fs::OpenOptions::new()
                    .append(true)
                    .open(&p)?
                    .write_all(format!("# edit {n}\n").as_bytes())
            },
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::ConcurrentEdit {
                    attempts: MAX_ATTEMPTS,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            crate::error::Diagnose::exit_kind(&err),
            crate::error::ExitKind::Failure
        );
        assert!(err.hint().is_some());
        let text = fs::read_to_string(&p).unwrap();
        assert!(!text.contains("BEGIN awsso"));
        assert_eq!(text.matches("# edit ").count(), MAX_ATTEMPTS);
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn a_file_created_meanwhile_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        let mut first = true;
        update_with(
            &p,
            |cfg| {
                cfg.splice_block("session s", Some("[sso-session s]\n"))
                    .map(Some)
            },
            &mut |_| {
                if std::mem::take(&mut first) {
                    fs::write(&p, "[profile mine]\n")?;
                }
                Ok(())
            },
        )
        .unwrap();
        let text = fs::read_to_string(&p).unwrap();
        assert!(
            text.starts_with("[profile mine]\n\n# BEGIN awsso"),
            "{text}"
        );
    }

    #[test]
    fn a_bom_file_is_never_written() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        fs::write(&p, "\u{feff}[default]\n").unwrap();
        assert!(!update(&p, |_| Ok::<_, ConfigError>(None)).unwrap());
        let err = update(&p, |cfg| {
            cfg.splice_block("session s", Some("[sso-session s]\n"))
                .map(Some)
        })
        .unwrap_err();
        assert!(matches!(err, ConfigError::Bom { .. }), "{err:?}");
        assert!(
            err.hint().unwrap().contains(r"sed -i '1s/^\xEF\xBB\xBF//'"),
            "{:?}",
            err.hint()
        );
        assert_eq!(fs::read_to_string(&p).unwrap(), "\u{feff}[default]\n");
    }

    #[test]
    fn stale_temp_files_of_awssos_pattern_only_are_removed() {
        use std::time::SystemTime;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        fs::write(&p, "[default]\n").unwrap();
        // A pid that cannot be alive (above any pid_max).
        let dead = dir.path().join(".config.awsso-99999999-abc.tmp");
        let live = dir
            .path()
            .join(format!(".config.awsso-{}-abc.tmp", std::process::id()));
        let old = dir.path().join(".config.awsso-xyz.tmp");
        let fresh_unknown = dir.path().join(".config.awsso-xyz2.tmp");
        let other = dir.path().join(".credentials.awsso-99999999-abc.tmp");
        for f in [&dead, &live, &old, &fresh_unknown, &other] {
            fs::write(f, "x").unwrap();
        }
        File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_secs(600))
            .unwrap();
        update(&p, |_| Ok::<_, ConfigError>(None)).unwrap();
        assert!(!dead.exists() && !old.exists());
        assert!(live.exists() && fresh_unknown.exists() && other.exists());
    }

    /// The check-and-rename relies on `RENAME_EXCHANGE` handing back the displaced file; where the file
    /// system has it (ext4, tmpfs, btrfs, xfs), that path must be the one taken.
    #[test]
    #[cfg(target_os = "linux")]
    fn exchange_swaps_two_files() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        fs::write(&a, "a").unwrap();
        fs::write(&b, "b").unwrap();
        match exchange(&a, &b) {
            Ok(()) => {
                assert_eq!(fs::read_to_string(&a).unwrap(), "b");
                assert_eq!(fs::read_to_string(&b).unwrap(), "a");
            }
            Err(e) if exchange_unsupported(&e) => eprintln!("no RENAME_EXCHANGE here: {e}"),
            Err(e) => panic!("{e}"),
        }
        let missing = dir.path().join("missing");
        assert!(exchange(&a, &missing).is_err());
        assert_eq!(fs::read_to_string(&a).unwrap(), "b");
    }

    /// The lease sees another process open the file for writing (that open waits until the lease is
    /// released), and not one that opens it to read (which neither waits nor breaks it).
    #[test]
    #[cfg(target_os = "linux")]
    fn the_lease_sees_another_process_open_the_file_for_writing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        fs::write(&p, "[default]\n").unwrap();
        let held = Held::open(&p).unwrap();
        if !held.leased {
            eprintln!("no file leases here (fs.leases-enable = 0?)");
            return;
        }
        assert!(!held.opened_by_others());
        assert!(
            held.is_at(&p, b"[default]\n").unwrap(),
            "reading does not break it"
        );
        let cat = std::process::Command::new("cat").arg(&p).output().unwrap();
        assert!(cat.status.success());
        assert_eq!(cat.stdout, b"[default]\n");
        assert!(!held.opened_by_others(), "a reader broke the lease");
        let mut append = std::process::Command::new("sh")
            .arg("-c")
            .arg("echo '# appended' >>\"$0\"")
            .arg(&p)
            .spawn()
            .unwrap();
        let started = Instant::now();
        while !held.opened_by_others() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no lease break seen"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            fs::read_to_string(&p).unwrap(),
            "[default]\n",
            "the writer waited"
        );
        drop(held);
        assert!(append.wait().unwrap().success());
        assert_eq!(fs::read_to_string(&p).unwrap(), "[default]\n# appended\n");
    }

    #[test]
    fn concurrent_updates_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        fs::write(&p, "# mine\n[default]\nregion = x").unwrap();
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let p = p.clone();
                std::thread::spawn(move || {
                    update(&p, |cfg| {
                        let id = format!("session s{i}");
                        let body = format!("[sso-session s{i}]\nsso_region = us-east-1\n");
                        let new = cfg.splice_block(&id, Some(&body))?;
                        // Widen the read-modify-write window so an unlocked race would lose blocks.
                        std::thread::sleep(Duration::from_millis(20));
                        Ok::<_, ConfigError>(Some(new))
                    })
                    .unwrap()
                })
            })
            .collect();
        for t in threads {
            assert!(t.join().unwrap());
        }
        let cfg = ConfigFile::load(&p).unwrap();
        let mut ids: Vec<_> = cfg.managed_blocks().into_iter().map(|b| b.id).collect();
        ids.sort();
        assert_eq!(
            ids,
            (0..8).map(|i| format!("session s{i}")).collect::<Vec<_>>()
        );
        assert!(cfg.text.starts_with("# mine\n[default]\nregion = x\n\n"));
        assert_eq!(cfg.sso_sessions().count(), 8);
        assert!(leftovers(dir.path()).is_empty());
    }

    /// Runs as a writer only when re-executed by `concurrent_processes_all_land`.
    #[test]
    fn child_writer() {
        let (Some(path), Some(n)) = (
            std::env::var_os(crate::vars::TEST_CHILD_CONFIG),
            std::env::var(crate::vars::TEST_CHILD_N).ok(),
        ) else {
            return;
        };
        update(Path::new(&path), |cfg| {
            let new = cfg.splice_block(
                &format!("session p{n}"),
                Some(&format!("[sso-session p{n}]\n")),
            )?;
            std::thread::sleep(Duration::from_millis(20));
            Ok::<_, ConfigError>(Some(new))
        })
        .unwrap();
    }

    #[test]
    fn concurrent_processes_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        fs::write(&p, "[default]\n").unwrap();
        let exe = std::env::current_exe().unwrap();
        let children: Vec<_> = (0..4)
            .map(|n| {
                std::process::Command::new(&exe)
                    .args([
                        "--exact",
                        "awsconfig::write::tests::child_writer",
                        "--test-threads=1",
                    ])
                    .env(crate::vars::TEST_CHILD_CONFIG, &p)
                    .env(crate::vars::TEST_CHILD_N, n.to_string())
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut c in children {
            assert!(c.wait().unwrap().success());
        }
        let cfg = ConfigFile::load(&p).unwrap();
        assert_eq!(cfg.managed_blocks().len(), 4, "{}", cfg.text);
    }
}
