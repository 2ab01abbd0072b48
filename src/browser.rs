//! Opening URLs in the person's browser, only where one can be: `$BROWSER` set, a desktop session, or a
//! platform that always has one. Over a plain SSH session awsso prints the URL instead. A URL that is a
//! credential never goes on the browser's command line: [`Handoff`] stands in for it. [`Launcher`] picks
//! the program: the desktop's default (or `$BROWSER`), or a named one, such as a Chromium-family browser
//! found on PATH for `awsso console --browser-profile`.
use std::ffi::OsString;
use std::path::{Path, PathBuf};

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

/// Chromium-family browsers that take `--profile-directory`, in the order they are looked for on PATH.
pub const CHROMIUM_BROWSERS: [&str; 5] = [
    "google-chrome",
    "google-chrome-stable",
    "chromium",
    "chromium-browser",
    "microsoft-edge",
];

/// The longest profile directory name accepted (Chrome's own are `Default`, `Profile 1`, …).
pub const MAX_PROFILE_DIRECTORY: usize = 100;

/// Why no browser could be chosen.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error("none of {} is on PATH", CHROMIUM_BROWSERS.join(", "))]
    NoChromium,
    #[error("{0:?} is not a browser profile directory name")]
    BadProfileDirectory(String),
}

impl BrowserError {
    pub fn hint(&self) -> String {
        match self {
            BrowserError::NoChromium => {
                "pass --browser PATH (or set AWSSO_BROWSER) to a Chrome, Chromium or Edge binary; on macOS: \
                 --browser '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome'"
                    .into()
            }
            BrowserError::BadProfileDirectory(_) => format!(
                "use the last part of \"Profile Path\" in chrome://version, e.g. Default or \"Profile 1\" \
                 (at most {MAX_PROFILE_DIRECTORY} characters, no control characters or slashes)"
            ),
        }
    }
}

/// How the browser is started for a URL.
#[derive(Debug, Clone)]
pub enum Launcher {
    /// The desktop's default browser, or `$BROWSER`.
    Default,
    /// This program, with `args` and then the URL, each one argv word: no shell ever parses them.
    Program {
        program: PathBuf,
        args: Vec<OsString>,
    },
}

impl Launcher {
    /// A Chromium-family browser opening the URL in the profile directory `name`: `program` when given,
    /// else the first of [`CHROMIUM_BROWSERS`] on PATH.
    pub fn chromium_profile(program: Option<&Path>, name: &str) -> Result<Launcher, BrowserError> {
        let name = profile_directory(name)?;
        let program = match program {
            Some(p) => p.to_path_buf(),
            None => find_on_path(&CHROMIUM_BROWSERS).ok_or(BrowserError::NoChromium)?,
        };
        Ok(Launcher::Program {
            program,
            args: vec![format!("--profile-directory={name}").into()],
        })
    }

    /// Whether a browser can plausibly be started: a named program always can be tried.
    pub fn available(&self) -> bool {
        match self {
            Launcher::Default => available(),
            Launcher::Program { .. } => true,
        }
    }

    /// Starts the browser on `url` and returns once it was started. The default launcher may block
    /// until a text browser is closed, so callers run this off the async runtime. Only http(s) URLs and
    /// the `ext+container:` links awsso builds itself are opened.
    pub fn open(&self, url: &str) -> std::io::Result<()> {
        if !(url.starts_with("https://")
            || url.starts_with("http://")
            || url.starts_with("ext+container:"))
        {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not opening a URL of this kind in the browser",
            ));
        }
        match self {
            Launcher::Default => {
                let options = webbrowser::BrowserOptions::new()
                    .with_suppress_output(true)
                    .clone();
                webbrowser::open_browser_with_options(webbrowser::Browser::Default, url, &options)
            }
            Launcher::Program { program, args } => {
                // Not waited for: a browser that was not running yet stays in the foreground.
                std::process::Command::new(program)
                    .args(args)
                    .arg(url)
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .map(drop)
            }
        }
    }
}

/// A profile directory name as one argv word: bounded, no control characters, no path separators.
fn profile_directory(name: &str) -> Result<&str, BrowserError> {
    let ok = !name.trim().is_empty()
        && name.chars().count() <= MAX_PROFILE_DIRECTORY
        && !name
            .chars()
            .any(|c| c.is_control() || c == '/' || c == '\\');
    if ok {
        Ok(name)
    } else {
        Err(BrowserError::BadProfileDirectory(crate::output::sanitize(
            name, 60,
        )))
    }
}

/// The first of `names` that is an executable file in a PATH directory.
fn find_on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .filter(|dir| dir.is_absolute())
            .map(|dir| dir.join(name))
            .find(|p| crate::paths::is_executable(p))
    })
}

/// A one-shot loopback link standing in for a secret URL (a federation sign-in URL signs in whoever opens
/// it): the browser's command line, which every user can read in `/proc/PID/cmdline`, only carries
/// `http://127.0.0.1:PORT/RANDOM`. awsso answers that path once with a redirect to the secret URL and then
/// closes the port. On Linux only a connection from awsso's own uid gets the redirect (the owner of the
/// client socket is looked up in `/proc/net/tcp`), so another user racing the browser to the link gets
/// nothing and cannot burn it either.
pub struct Handoff {
    listener: tokio::net::TcpListener,
    path: String,
    url: String,
}

/// Why the browser never got the secret URL.
#[derive(Debug, thiserror::Error)]
pub enum HandoffError {
    #[error("cannot listen on 127.0.0.1 to hand the URL to the browser: {0}")]
    Listen(#[source] std::io::Error),
    #[error("the browser did not open the sign-in link within {0} s")]
    TimedOut(u64),
}

/// How long one connection to the handoff port may take; browsers send their request at once.
const HANDOFF_CONNECTION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

impl Handoff {
    pub async fn bind() -> Result<Handoff, HandoffError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(HandoffError::Listen)?;
        let port = listener.local_addr().map_err(HandoffError::Listen)?.port();
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the OS random number generator is available");
        let path: String = std::iter::once("/".to_string())
            .chain(bytes.iter().map(|b| format!("{b:02x}")))
            .collect();
        let url = format!("http://127.0.0.1:{port}{path}");
        Ok(Handoff {
            listener,
            path,
            url,
        })
    }

    /// The link to give the browser: useless to anyone but this user, and only once.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Serves the link until one request for it was answered with the redirect to `target`, or `wait`
    /// passed. Other paths get 404, other users 403; neither uses up the link. Returning closes the port.
    pub async fn serve(
        self,
        target: &crate::secret::Secret<String>,
        wait: std::time::Duration,
    ) -> Result<(), HandoffError> {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
        let path: std::sync::Arc<str> = self.path.into();
        let target = std::sync::Arc::new(target.clone());
        let served = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut connections = tokio::task::JoinSet::new();
        let accept_loop = async {
            loop {
                tokio::select! {
                    accepted = self.listener.accept() => {
                        while connections.try_join_next().is_some() {}
                        let Ok((stream, peer)) = accepted else {
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            continue;
                        };
                        if connections.len() >= 64 {
                            continue;
                        }
                        let (tx, path, target, served) =
                            (tx.clone(), path.clone(), target.clone(), served.clone());
                        let local = self.listener.local_addr().ok();
                        connections.spawn(async move {
                            let answer = answer(stream, peer, local, &path, &target, &served);
                            if let Ok(true) =
                                tokio::time::timeout(HANDOFF_CONNECTION_TIMEOUT, answer).await
                            {
                                let _ = tx.send(()).await;
                            }
                        });
                    }
                    Some(()) = rx.recv() => return,
                }
            }
        };
        tokio::time::timeout(wait, accept_loop)
            .await
            .map_err(|_| HandoffError::TimedOut(wait.as_secs()))
    }
}

/// Answers one handoff connection; true when it got the redirect.
async fn answer(
    mut stream: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    local: Option<std::net::SocketAddr>,
    path: &str,
    target: &crate::secret::Secret<String>,
    served: &std::sync::atomic::AtomicBool,
) -> bool {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let text = String::from_utf8_lossy(&buf);
    let mut first = text.lines().next().unwrap_or("").split_whitespace();
    let wanted = matches!(
        (first.next(), first.next()),
        (Some("GET"), Some(p)) if p == path
    );
    let (status, location) = if !wanted {
        ("404 Not Found", None)
    } else if !local.is_some_and(|local| same_user(peer, local)) {
        ("403 Forbidden", None)
    } else if served.swap(true, Ordering::SeqCst) {
        ("410 Gone", None)
    } else {
        ("302 Found", Some(target.expose().as_str()))
    };
    let body = match location {
        Some(_) => "Signing you in to the AWS console…",
        None if status.starts_with("403") => "This link is for the user who ran awsso.",
        None => "This awsso link was already used or never existed.",
    };
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(location) = location {
        response.push_str(&format!("Location: {location}\r\n"));
    }
    response.push_str("\r\n");
    response.push_str(body);
    let written = stream.write_all(response.as_bytes()).await.is_ok();
    let _ = stream.shutdown().await;
    location.is_some() && written
}

/// Whether the client end of a loopback connection belongs to this process's uid. Linux: the kernel's
/// socket table names the owner of every socket; elsewhere there is no cheap equivalent and any local
/// client is let through (the link stays one-shot).
fn same_user(peer: std::net::SocketAddr, local: std::net::SocketAddr) -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: getuid cannot fail and touches no memory.
        let me = unsafe { libc::getuid() };
        match socket_owner(peer, local) {
            Some(uid) => uid == me,
            None => false,
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (peer, local);
        true
    }
}

/// The uid owning the TCP socket whose local end is `client` and remote end `server`, from
/// `/proc/net/tcp` (or `tcp6`, for a dual-stack client reaching 127.0.0.1 as `::ffff:127.0.0.1`).
#[cfg(target_os = "linux")]
fn socket_owner(client: std::net::SocketAddr, server: std::net::SocketAddr) -> Option<u32> {
    use std::net::IpAddr;

    // The kernel prints each 32-bit word of the address as the host-order reading of its bytes.
    fn hex(ip: IpAddr, port: u16, v6: bool) -> String {
        let octets: Vec<u8> = match (ip, v6) {
            (IpAddr::V4(a), false) => a.octets().to_vec(),
            (IpAddr::V4(a), true) => a.to_ipv6_mapped().octets().to_vec(),
            (IpAddr::V6(a), _) => a.octets().to_vec(),
        };
        let words: String = octets
            .chunks(4)
            .map(|w| format!("{:08X}", u32::from_ne_bytes([w[0], w[1], w[2], w[3]])))
            .collect();
        format!("{words}:{port:04X}")
    }
    for (table, v6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        let (want_local, want_remote) = (
            hex(client.ip(), client.port(), v6),
            hex(server.ip(), server.port(), v6),
        );
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() > 7
                && fields[1].eq_ignore_ascii_case(&want_local)
                && fields[2].eq_ignore_ascii_case(&want_remote)
            {
                return fields[7].parse().ok();
            }
        }
    }
    None
}
