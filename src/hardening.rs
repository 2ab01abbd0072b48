//! Process hardening done first thing in `main`: no core dump of awsso may ever exist.
//!
//! awsso holds access tokens, refresh tokens, client secrets and role credentials in memory; a core file
//! (`ulimit -c unlimited` and a `kill -ABRT`, or a crash) would write them to disk, readable by whoever
//! reads the core, and systemd-coredump keeps cores for days. So:
//! - Linux: `prctl(PR_SET_DUMPABLE, 0)`. The kernel then writes no core whatever the limits and
//!   `core_pattern` say (unless an administrator set `fs.suid_dumpable=2`, and then only a root-owned
//!   one), and it also refuses `ptrace` attach and `/proc/PID/mem` / `/proc/PID/environ` reads to
//!   processes of the same uid that lack `CAP_SYS_PTRACE`, which is what we want for a process full of
//!   secrets. A side effect: the process's `/proc/PID/` files become owned by root, so nothing in awsso
//!   may rely on reading `/proc/self` (nothing does today; keep it so). The flag is reset by `execve`, so
//!   the command `awsso exec` runs is dumpable again as usual.
//! - Every Unix, as belt and braces (and the only means on macOS): the soft `RLIMIT_CORE` goes to 0. The
//!   hard limit is kept, so [`restore_core_limit`] can put the person's own limit back for the command
//!   `awsso exec` runs, which should not inherit awsso's choice.
#[cfg(unix)]
static ORIGINAL_CORE_LIMIT: std::sync::OnceLock<libc::rlimit> = std::sync::OnceLock::new();

/// Makes the process undumpable. Failures are ignored: there is nothing better to do than carry on, and
/// neither call can fail for an unprivileged process lowering its own limits.
pub fn forbid_core_dumps() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_DUMPABLE takes one integer argument; the extra arguments are ignored and passed as 0.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0 as libc::c_ulong, 0, 0, 0);
    }
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit read and write the one struct passed, which lives on this stack.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_CORE, &mut limit) == 0 {
                let _ = ORIGINAL_CORE_LIMIT.set(limit);
                let lowered = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: limit.rlim_max,
                };
                libc::setrlimit(libc::RLIMIT_CORE, &lowered);
            }
        }
    }
}

/// Puts back the core-size limit awsso started with, right before `execve` of a command that is not awsso
/// (its own secrets are in its environment by the person's choice; its crash reports are theirs).
pub fn restore_core_limit() {
    #[cfg(unix)]
    if let Some(limit) = ORIGINAL_CORE_LIMIT.get() {
        // SAFETY: setrlimit reads the one struct passed; async-signal-safe, so usable before execve.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, limit);
        }
    }
}
