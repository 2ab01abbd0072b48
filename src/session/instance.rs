//! Which Identity Center instance a session signs in to: the start URL as the portal sees it, and the short
//! scope that names the instance in store keys, cache entries and lock names.

/// `https://D.awsapps.com/start#/` and `https://d.awsapps.com/start/` name the same portal: scheme and host
/// lower-cased, surrounding blanks and trailing `/` and `#` trimmed.
pub fn normalize_start_url(url: &str) -> String {
    let url = url.trim().trim_end_matches(['/', '#']);
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            format!(
                "{}://{}{path}",
                scheme.to_ascii_lowercase(),
                host.to_ascii_lowercase()
            )
        }
        None => url.to_string(),
    }
}

/// The key part naming an Identity Center instance in the store and the cache: `@` and 16 hex digits of
/// SHA-256 over the normalised start URL and the region (short, free of URL characters, and never equal to
/// a session name, which cannot hold `@`: older releases keyed secrets by session name).
pub fn instance_scope(start_url: &str, region: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!(
        "{}\n{}",
        normalize_start_url(start_url),
        region.trim()
    ));
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("@{hex}")
}
