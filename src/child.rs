//! Running a command as awsso's child when awsso cannot replace itself with it (`exec --server` must keep
//! serving): signals sent to awsso reach the child, and awsso's exit status is the child's.
//!
//! A signal the terminal raises (Ctrl-C, Ctrl-\) goes to the whole foreground process group, the child
//! included, so forwarding it too would deliver it twice (Terraform treats a second interrupt as "stop
//! now"). Only signals a process sent to awsso itself (`kill PID`: si_code ≤ 0) are forwarded.
use std::process::{ExitStatus, Stdio};

/// The signals passed on to the child.
#[cfg(unix)]
pub const FORWARDED: [i32; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

#[cfg(unix)]
static CHILD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// Signals sent to awsso while no child pid was stored, one bit per [`FORWARDED`] index. `spawn`
/// returns only after the child runs, and it may already have made itself known (written its pid,
/// printed) and been signalled through awsso before awsso stores its pid: such a signal is kept here
/// and delivered right after, instead of being swallowed (seen under load as a lost `kill -HUP`).
#[cfg(unix)]
static PENDING: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

#[cfg(unix)]
use std::sync::atomic::Ordering::SeqCst;

#[cfg(unix)]
fn bit(sig: i32) -> u32 {
    FORWARDED
        .iter()
        .position(|&s| s == sig)
        .map_or(0, |i| 1 << i)
}

/// Sends the pending signals to the child, if one is stored. Async-signal-safe: atomics and kill(2).
#[cfg(unix)]
fn deliver_pending() {
    let pid = CHILD.load(SeqCst);
    if pid <= 0 {
        return;
    }
    let pending = PENDING.swap(0, SeqCst);
    for (i, sig) in FORWARDED.iter().enumerate() {
        if pending & (1 << i) != 0 {
            // SAFETY: kill(2) on the child's pid; async-signal-safe.
            unsafe { libc::kill(pid, *sig) };
        }
    }
}

/// Installs the forwarding handlers (once per process); until a child is running they only keep awsso
/// alive, so a signal in between is not lost to awsso's default action.
#[cfg(unix)]
fn install_forwarding() -> std::io::Result<()> {
    use std::sync::Once;
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        for sig in FORWARDED {
            // SAFETY: the action only uses atomics and calls kill(2), both async-signal-safe; it
            // allocates nothing and takes no lock.
            let r = unsafe {
                signal_hook_registry::register_sigaction(sig, move |info: &libc::siginfo_t| {
                    if info.si_code > 0 {
                        return;
                    }
                    // Marked, then delivered if a child pid is stored. Without one yet, the mark
                    // waits for `run`, which delivers it right after storing the pid; whichever of the
                    // two swaps the mark out sends it, so the signal reaches the child once.
                    PENDING.fetch_or(bit(sig), SeqCst);
                    deliver_pending();
                })
            };
            if let Err(e) = r {
                result = Err(e);
                return;
            }
        }
    });
    result
}

/// Spawns `cmd` (stdio inherited) and waits for it, forwarding signals; returns its status.
pub async fn run(mut cmd: tokio::process::Command) -> std::io::Result<ExitStatus> {
    #[cfg(unix)]
    install_forwarding()?;
    cmd.stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let mut child = cmd.spawn()?;
    #[cfg(all(unix, debug_assertions))]
    if let Some(ms) = std::env::var(crate::vars::TEST_SPAWN_DELAY_MS)
        .ok()
        .and_then(|v| v.parse().ok())
    {
        // Test hook: widen the window between the child's start and the store of its pid.
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    #[cfg(unix)]
    if let Some(pid) = child.id() {
        CHILD.store(pid as i32, SeqCst);
        deliver_pending();
    }
    let status = child.wait().await;
    #[cfg(unix)]
    CHILD.store(0, SeqCst);
    status
}

/// The exit code that reports `status` the way a shell does: the child's code, or 128 + the signal that
/// killed it.
pub fn exit_code(status: ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return (code & 0xff) as u8;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return (128 + sig).clamp(0, 255) as u8;
        }
    }
    1
}
