//! Opening URLs in the person's browser, only where one can be: `$BROWSER` set, a desktop session, or a
//! platform that always has one. Over a plain SSH session awsso prints the URL instead.

/// Whether a browser can plausibly be opened from here.
pub fn available() -> bool {
    if std::env::var_os("BROWSER").is_some_and(|b| !b.is_empty()) {
        return true;
    }
    if cfg!(any(target_os = "macos", target_os = "windows")) {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()))
}

/// Opens `url` in the background (some browsers block until closed); failures are only logged, since the
/// URL is always printed too. Only http(s) URLs are opened: they come from the server.
pub fn open(url: &str) {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        tracing::warn!("not opening a non-http URL in the browser");
        return;
    }
    let url = url.to_string();
    std::thread::spawn(move || {
        let options = webbrowser::BrowserOptions::new()
            .with_suppress_output(true)
            .clone();
        if let Err(e) =
            webbrowser::open_browser_with_options(webbrowser::Browser::Default, &url, &options)
        {
            tracing::debug!("could not open a browser: {e}");
        }
    });
}
