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

/// Installs the forwarding handlers (once per process); until a child is running they only keep awsso
/// alive, so a signal in between is not lost to awsso's default action.
#[cfg(unix)]
fn install_forwarding() -> std::io::Result<()> {
    use std::sync::Once;
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        for sig in FORWARDED {
            // SAFETY: the action only loads an atomic and calls kill(2), both async-signal-safe; it
            // allocates nothing and takes no lock.
            let r = unsafe {
                signal_hook_registry::register_sigaction(sig, move |info: &libc::siginfo_t| {
                    let pid = CHILD.load(std::sync::atomic::Ordering::SeqCst);
                    if pid > 0 && info.si_code <= 0 {
                        libc::kill(pid, sig);
                    }
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
    #[cfg(unix)]
    if let Some(pid) = child.id() {
        CHILD.store(pid as i32, std::sync::atomic::Ordering::SeqCst);
    }
    let status = child.wait().await;
    #[cfg(unix)]
    CHILD.store(0, std::sync::atomic::Ordering::SeqCst);
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
