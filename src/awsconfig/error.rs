//! The one error type of the `awsconfig` module, with a `hint()` the CLI prints under the message.
use std::io;
use std::path::{Path, PathBuf};

/// Everything that can go wrong reading or writing the shared config file.
///
/// Errors from the pure text functions ([`super::splice_block`] …) carry an empty path, since they
/// never saw one; [`ConfigError::at_path`] fills it in (the `ConfigFile` methods and
/// [`super::update`] do so themselves).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Reading, writing or replacing the file (or its directory) failed.
    #[error("{}: {source}", show(path))]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The file is not something awsso (or botocore, or the SDKs) can read; it is never rewritten.
    #[error("{}:{line}: {message}", show(path))]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// awsso's BEGIN/END marker lines don't pair up, so awsso cannot tell what it owns.
    #[error("{}:{line}: awsso managed block `{id}` {problem}", show(path))]
    UnbalancedBlock {
        path: PathBuf,
        line: usize,
        id: String,
        problem: String,
    },
    /// A section name or block id awsso was about to write could break out of its line or header.
    #[error(
        "refusing to write {what} {value:?}: only ASCII letters, digits and - _ . / @ + : are allowed"
    )]
    UnsafeName { what: &'static str, value: String },
    /// A value awsso was about to write has line breaks, control characters, surrounding
    /// whitespace or an inline-comment lookalike.
    #[error("refusing to write `{key} = {value:?}`: the value would not read back unchanged")]
    UnsafeValue { key: String, value: String },
    /// Text awsso generated (a block body, or the whole file after an edit) does not parse: a bug,
    /// caught before anything is written. `line` counts within the block body, or the new file.
    #[error("awsso generated invalid config text (line {line}): {message}")]
    InvalidBody { line: usize, message: String },
    /// The file kept changing under awsso's edit (another program writing it, which does not take
    /// awsso's lock); awsso gave up rather than overwrite that program's edit.
    #[error(
        "{} kept changing while awsso was editing it ({attempts} attempts); nothing was written",
        show(path)
    )]
    ConcurrentEdit { path: PathBuf, attempts: usize },
    /// The file starts with a UTF-8 byte order mark, which botocore and the Rust SDK cannot read.
    #[error(
        "{} starts with a UTF-8 byte order mark (BOM), which the AWS SDKs cannot read",
        show(path)
    )]
    Bom { path: PathBuf },
    /// Settings follow awsso's END marker before any header of the user's: in INI they belong to the
    /// block's last section, so rewriting the block would move or duplicate them.
    #[error(
        "{}:{line}: `{setting}` follows awsso's managed block `{id}` (ends on line {end_line}), so it belongs to the block's last section",
        show(path)
    )]
    AfterBlock {
        path: PathBuf,
        line: usize,
        end_line: usize,
        id: String,
        setting: String,
    },
    /// The lock file beside the config could not be taken.
    #[error("cannot lock {}: {source}", show(path))]
    Lock {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn show(path: &Path) -> String {
    if path.as_os_str().is_empty() {
        "config".to_owned()
    } else {
        path.display().to_string()
    }
}

impl ConfigError {
    /// One line of advice for the user, if there is any better than the message itself.
    pub fn hint(&self) -> Option<String> {
        match self {
            ConfigError::Io { path, source } => match source.kind() {
                io::ErrorKind::PermissionDenied => Some(format!(
                    "check the ownership and permissions of {} and of its directory",
                    show(path)
                )),
                io::ErrorKind::IsADirectory => {
                    Some("AWS_CONFIG_FILE must name a file, not a directory".to_owned())
                }
                io::ErrorKind::ReadOnlyFilesystem | io::ErrorKind::StorageFull => Some(format!(
                    "free up or remount the file system holding {}; the old file was left untouched",
                    show(path)
                )),
                _ => None,
            },
            ConfigError::Parse { path, line, .. } => Some(format!(
                "fix line {line} of {} by hand (the AWS CLI cannot read it either); \
                 awsso never rewrites a config file it cannot parse",
                show(path)
            )),
            ConfigError::UnbalancedBlock { id, .. } => Some(format!(
                "restore the missing `{}{id}` / `{}{id}` line, or delete the whole block with its \
                 markers, then run awsso again to regenerate it",
                super::BEGIN_MARKER,
                super::END_MARKER
            )),
            ConfigError::UnsafeName { .. } => Some(
                "the name came from outside awsso (e.g. an account name); choose a name yourself \
                 that uses only the allowed characters"
                    .to_owned(),
            ),
            ConfigError::UnsafeValue { .. } => None,
            ConfigError::InvalidBody { .. } => {
                Some("this is a bug in awsso; nothing was written, please report it".to_owned())
            }
            ConfigError::ConcurrentEdit { .. } => Some(
                "close the editor or stop the program writing the config, then run awsso again"
                    .to_owned(),
            ),
            ConfigError::Bom { path } => Some(format!(
                "remove the BOM, e.g. `sed -i '1s/^\\xEF\\xBB\\xBF//' {}`, or save the file as UTF-8 \
                 without BOM",
                show(path)
            )),
            ConfigError::AfterBlock { line, setting, .. } => Some(format!(
                "move `{setting}` (line {line}) into a section of yours, above awsso's block or under a \
                 [profile …] header of its own; awsso never rewrites lines it does not own"
            )),
            ConfigError::Lock { path, source } => match source.kind() {
                io::ErrorKind::TimedOut => Some(format!(
                    "another awsso process is still editing the config; if none is running, \
                     something else holds {}",
                    show(path)
                )),
                _ => Some(format!(
                    "check that the directory holding {} is writable",
                    show(path)
                )),
            },
        }
    }

    /// Fills in the file path on errors produced by the path-less text functions.
    pub fn at_path(mut self, file: &Path) -> Self {
        if let ConfigError::Parse { path, .. }
        | ConfigError::UnbalancedBlock { path, .. }
        | ConfigError::AfterBlock { path, .. } = &mut self
            && path.as_os_str().is_empty()
        {
            *path = file.to_path_buf();
        }
        self
    }

    pub(crate) fn io(path: &Path, source: io::Error) -> Self {
        ConfigError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
