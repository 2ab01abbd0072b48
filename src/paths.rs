//! Where awsso keeps its non-secret files: the cache directory (listing cache, lock files) and awsso's own
//! settings file (not the AWS config file, which `awsconfig::config_path` finds).
//!
//! Nothing secret is ever written under these paths; secrets live in the credential store.
use std::path::PathBuf;

/// No home directory: awsso has nowhere private to put its files, and refuses rather than fall back to
/// the working directory or a shared `/tmp/awsso` (where another user could plant locks or read caches).
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "there is no home directory (HOME is unset or not an absolute path, and the user has no passwd entry), \
     so awsso has nowhere private for {what}; set HOME (or AWSSO_CACHE_DIR for caches and locks)"
)]
pub struct NoHome {
    pub what: &'static str,
}

impl From<NoHome> for std::io::Error {
    fn from(e: NoHome) -> Self {
        std::io::Error::new(std::io::ErrorKind::NotFound, e)
    }
}

/// The user's home: `$HOME` when it is an absolute path, else the passwd entry's.
pub fn home_dir(what: &'static str) -> Result<PathBuf, NoHome> {
    let from_env = std::env::var_os("HOME").filter(|h| !h.is_empty());
    let home = match from_env {
        Some(h) => Some(PathBuf::from(h)),
        None => directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf()),
    };
    home.filter(|h| h.is_absolute()).ok_or(NoHome { what })
}

/// `$AWSSO_CACHE_DIR`, else the platform cache dir (`$XDG_CACHE_HOME/awsso`, `~/.cache/awsso`, …); an
/// error without either (see [`NoHome`]).
pub fn cache_dir() -> Result<PathBuf, NoHome> {
    if let Some(dir) = &crate::vars::env().cache_dir {
        return Ok(dir.clone());
    }
    let what = "its caches and locks";
    home_dir(what)?;
    directories::BaseDirs::new()
        .map(|b| b.cache_dir().join("awsso"))
        .filter(|d| d.is_absolute())
        .ok_or(NoHome { what })
}

/// awsso's settings file: `$AWSSO_SETTINGS`, else the deprecated `$AWSSO_CONFIG`, else
/// `<config dir>/awsso/config` (`~/.config/awsso/config` on Linux). The file may not exist (the defaults).
pub fn settings_file() -> PathBuf {
    settings_file_from(
        crate::vars::env().settings.clone(),
        directories::BaseDirs::new().map(|b| b.config_dir().to_path_buf()),
    )
}

fn settings_file_from(from_env: Option<PathBuf>, config_dir: Option<PathBuf>) -> PathBuf {
    if let Some(p) = from_env.filter(|p| !p.as_os_str().is_empty()) {
        return p;
    }
    // Without a config dir, a relative path that almost surely does not exist means "defaults".
    config_dir.unwrap_or_default().join("awsso").join("config")
}

/// Whether `p` is a file its owner or others may run (on Unix: any execute bit).
pub fn is_executable(p: &std::path::Path) -> bool {
    let Ok(meta) = std::fs::metadata(p) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// Creates `dir` (and parents) private to the user.
pub fn ensure_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// A file name that is safe whatever `name` holds (session names come from the user's config).
pub fn safe_file_stem(name: &str) -> String {
    use sha2::Digest;
    let readable: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(40)
        .collect();
    let digest = sha2::Sha256::digest(name.as_bytes());
    let short: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("{readable}-{short}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_file_is_the_variable_else_under_the_config_dir() {
        let dir = || Some(PathBuf::from("/home/u/.config"));
        assert_eq!(
            settings_file_from(Some("/x/s".into()), dir()),
            PathBuf::from("/x/s")
        );
        assert_eq!(
            settings_file_from(Some("".into()), dir()),
            PathBuf::from("/home/u/.config/awsso/config")
        );
        assert_eq!(
            settings_file_from(None, dir()),
            PathBuf::from("/home/u/.config/awsso/config")
        );
    }
}
