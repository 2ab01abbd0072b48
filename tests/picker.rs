//! The profile picker in a real terminal: tmux runs bash with `eval "$(awsso shell-init bash)"`, keys are
//! typed with `send-keys`, and what the user sees (`capture-pane`) and what the shell ends up with
//! (`echo $AWS_PROFILE`) are checked. Also: Esc, no match, NO_COLOR, frecency, `eval "$(awsso env)"`, and
//! the usage error without a terminal.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;

/// A logged-in user whose config holds the profiles `awsso sync` wrote (3 accounts × 2 roles).
fn synced_user() -> User {
    let user = User::new(SimConfig {
        accounts: 3,
        roles_per_account: 2,
        ..SimConfig::default()
    });
    user.login().ok();
    user.run(&["sync"]).ok();
    user
}

/// A tmux server of its own, running one interactive bash as the user.
struct Term {
    socket: PathBuf,
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl Term {
    fn start(user: &User, extra: &[(&str, &str)]) -> Term {
        let dir = user.home.path();
        let bin_dir = std::path::Path::new(bin()).parent().unwrap();
        let mut rc = String::new();
        for (k, v) in user.cmd(&[]).get_envs() {
            if let (Some(k), Some(v)) = (k.to_str(), v.and_then(|v| v.to_str())) {
                rc.push_str(&format!("export {k}={}\n", sh_quote(v)));
            }
        }
        for (k, v) in extra {
            rc.push_str(&format!("export {k}={}\n", sh_quote(v)));
        }
        rc.push_str(&format!(
            "export PATH={}:\"$PATH\"\nexport TERM=xterm-256color\nPS1='$ '\neval \"$(awsso shell-init bash)\"\necho READY\n",
            sh_quote(bin_dir.to_str().unwrap())
        ));
        let rcfile = dir.join("bashrc");
        std::fs::write(&rcfile, rc).unwrap();
        let term = Term {
            socket: dir.join("tmux.sock"),
        };
        let ok = term
            .tmux(&["new-session", "-d", "-x", "160", "-y", "30", "-s", "t"])
            .args(["env", "-i", "bash", "--noprofile", "--rcfile"])
            .arg(&rcfile)
            .arg("-i")
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux starts");
        term.wait_for("READY");
        term
    }

    fn tmux(&self, args: &[&str]) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S")
            .arg(&self.socket)
            .args(["-f", "/dev/null"])
            .args(args);
        c
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        assert!(self.tmux(&args).status().unwrap().success());
    }

    fn type_text(&self, text: &str) {
        assert!(
            self.tmux(&["send-keys", "-t", "t", "-l", text])
                .status()
                .unwrap()
                .success()
        );
    }

    fn screen(&self, escapes: bool) -> String {
        let mut args = vec!["capture-pane", "-p", "-t", "t"];
        if escapes {
            args.push("-e");
        }
        let out = self.tmux(&args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    #[track_caller]
    fn wait_for(&self, needle: &str) -> String {
        let started = Instant::now();
        loop {
            let s = self.screen(false);
            if s.contains(needle) {
                return s;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the screen never showed {needle:?}:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the picker has left the screen (keys typed before that would go to it).
    #[track_caller]
    fn wait_closed(&self) {
        let started = Instant::now();
        while self.screen(false).contains("Esc cancel") {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the picker stays open"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types `line` (ending in a command whose output is wanted), pipes that through a marker, and returns
    /// the marked output line; the marker is spelt so that the typed line never contains it.
    #[track_caller]
    fn result(&self, line: &str) -> String {
        let results = |s: &str| -> Vec<String> {
            s.lines()
                .filter_map(|l| l.strip_prefix("RESULT="))
                .map(str::to_string)
                .collect()
        };
        let before = results(&self.screen(false)).len();
        self.type_text(&format!("{line} | sed 's/^/R''ESULT=/'"));
        self.keys(&["Enter"]);
        let started = Instant::now();
        loop {
            let s = self.screen(false);
            let now = results(&s);
            if now.len() > before {
                return now.last().unwrap().clone();
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no result for {line:?}:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]).status();
    }
}

const PICK: &str = "Dev-Sandbox-0002/ReadOnlyAccess";

#[test]
fn picker_switches_the_shell_to_the_profile_typed_for() {
    let user = synced_user();
    let term = Term::start(&user, &[]);
    term.type_text("awsso use");
    term.keys(&["Enter"]);
    let s = term.wait_for("6/6");
    assert!(s.contains("prod-payments-0001"), "{s}");
    assert!(s.contains("100000000002") && s.contains("d-test123"), "{s}");
    let coloured = term.screen(true);
    assert!(
        coloured.contains("38;2;"),
        "profile colours are drawn:\n{coloured}"
    );
    term.type_text("sandbox read");
    let s = term.wait_for("awsso use sandbox read ");
    assert!(
        !s.contains("prod-payments"),
        "the filter kept other accounts:\n{s}"
    );
    let first = s.lines().find(|l| l.starts_with("▶")).unwrap_or("");
    assert!(first.contains(PICK), "the best match is not first:\n{s}");
    term.keys(&["Enter"]);
    term.wait_closed();
    assert_eq!(term.result("echo \"$AWS_PROFILE\""), PICK);
    term.type_text("clear");
    term.keys(&["Enter"]);

    // Frecency: the pick comes first next time, before any typing.
    term.type_text("awsso use");
    term.keys(&["Enter"]);
    let s = term.wait_for("6/6");
    let first = s.lines().find(|l| l.starts_with("▶")).unwrap_or("");
    assert!(first.contains(PICK), "the last pick is not first:\n{s}");
    term.keys(&["Escape"]);
}

#[test]
fn picker_cancels_with_esc_and_shows_no_match() {
    let user = synced_user();
    let term = Term::start(&user, &[("NO_COLOR", "1"), ("AWS_PROFILE", "before")]);
    term.type_text("awsso use");
    term.keys(&["Enter"]);
    term.wait_for("6/6");
    let plain = term.screen(true);
    assert!(
        !plain.contains("38;2;"),
        "NO_COLOR still coloured:\n{plain}"
    );
    term.type_text("zzqqxx");
    term.wait_for("no match");
    term.keys(&["Enter"]); // nothing to pick: stays open
    std::thread::sleep(Duration::from_millis(200));
    assert!(term.screen(false).contains("no match"));
    term.keys(&["Escape"]);
    term.wait_closed();
    assert_eq!(term.result("echo \"$? $AWS_PROFILE\""), "130 before");

    // Ctrl-C cancels the same way, with nothing on stdout for `eval "$(awsso env)"`.
    term.type_text("out=\"$(awsso env)\"");
    term.keys(&["Enter"]);
    term.wait_for("6/6");
    term.keys(&["C-c"]);
    term.wait_closed();
    assert_eq!(
        term.result("echo \"$? ${#out} ${AWS_ACCESS_KEY_ID:-none}\""),
        "130 0 none"
    );
}

/// The picker draws on the terminal, not stdout, so `eval "$(awsso env)"` evaluates only the exports.
#[test]
fn picker_under_eval_awsso_env_exports_the_pick() {
    let user = synced_user();
    let term = Term::start(&user, &[]);
    term.type_text("eval \"$(awsso env --shell bash)\"");
    term.keys(&["Enter"]);
    term.wait_for("6/6");
    term.type_text("prod admin");
    let s = term.wait_for("awsso env prod admin ");
    let first = s.lines().find(|l| l.starts_with("▶")).unwrap_or("");
    assert!(
        first.contains("prod-payments-0001/AdministratorAccess"),
        "{s}"
    );
    term.keys(&["Enter"]);
    term.wait_closed();
    assert_eq!(
        term.result("echo \"$AWSSO_PROFILE ${AWS_ACCESS_KEY_ID:+has-key}\""),
        "prod-payments-0001/AdministratorAccess has-key"
    );
    let issued = last_issued(&user);
    assert_eq!(issued.account_id, "100000000001");
}

#[test]
fn without_a_terminal_the_commands_never_wait_and_name_profile() {
    let user = synced_user();
    for args in [
        &["use"][..],
        &["env"],
        &["exec", "--", "true"],
        &["console", "--print"],
    ] {
        let r = user.run(args);
        r.fails_with(2).stderr_has("--profile");
        assert!(r.stdout.is_empty(), "{args:?}: {r}");
    }
}
