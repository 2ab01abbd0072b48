//! Where awsso keeps its non-secret files: the cache directory (listing cache, lock files).
//!
//! Nothing secret is ever written under these paths; secrets live in the credential store.
use std::path::PathBuf;

/// `$AWSSO_CACHE_DIR`, else the platform cache dir (`$XDG_CACHE_HOME/awsso`, `~/.cache/awsso`, …).
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("AWSSO_CACHE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    directories::BaseDirs::new()
        .map(|b| b.cache_dir().join("awsso"))
        .unwrap_or_else(|| std::env::temp_dir().join("awsso"))
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
