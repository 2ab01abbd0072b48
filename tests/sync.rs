//! `awsso sync` end to end: the real binary against the simulator, on the real keyring, writing a real
//! `$AWS_CONFIG_FILE`. The block awsso owns, every byte outside it, idempotence, dry runs, both modes,
//! stale profiles and pruning, collisions, hostile account names, files awsso must refuse, file modes and
//! symlinks, the settings file and templates, and concurrent writers.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::common::*;
use awsso::awsconfig::{ConfigFile, Section, SectionKind};

const BLOCK: &str = "session d-test123";
/// The keys of every profile awsso writes in process mode, in order.
const PROCESS_KEYS: [&str; 8] = [
    "credential_process",
    "region",
    "color",
    "granted_color",
    "aws_account_id",
    "role_name",
    "awsso_account_name",
    "awsso_display_name",
];
const NATIVE_KEYS: [&str; 10] = [
    "sso_session",
    "sso_account_id",
    "sso_role_name",
    "region",
    "color",
    "granted_color",
    "aws_account_id",
    "role_name",
    "awsso_account_name",
    "awsso_display_name",
];

/// A user logged in to session `d-test123`, whose settings file asks for every hint key (`hints = full`:
/// these tests check every key; tests/generator.rs covers the default level).
fn logged_in(cfg: SimConfig) -> User {
    let user = User::new(cfg);
    let settings = user.home.path().join(".config/awsso/config");
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    std::fs::write(&settings, "[defaults]\nhints = full\n").unwrap();
    user.login().ok();
    user
}

/// `(account id, role)` for every pair the simulator serves right now.
fn served_pairs(user: &User) -> BTreeSet<(String, String)> {
    let roles = role_names(user.sim.config().roles_per_account);
    user.sim
        .accounts()
        .into_iter()
        .flat_map(|(id, _)| roles.iter().map(move |r| (id.clone(), r.clone())))
        .collect()
}

/// The absolute path of the awsso binary under test, as `credential_process` must name it.
fn exe() -> String {
    std::fs::canonicalize(bin())
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

/// The profiles of `session`'s block, in file order.
fn managed<'a>(cfg: &'a ConfigFile, session: &str) -> Vec<&'a Section> {
    let id = format!("session {session}");
    cfg.sections
        .iter()
        .filter(|s| s.managed_by.as_deref() == Some(id.as_str()))
        .inspect(|s| assert_eq!(s.kind, SectionKind::Profile, "{s:?}"))
        .collect()
}

fn names(sections: &[&Section]) -> BTreeSet<String> {
    sections.iter().map(|s| s.name.clone()).collect()
}

/// `(text before the BEGIN line, text after the END line)`: what awsso must never change.
fn outside(text: &str) -> (&str, &str) {
    let begin = text
        .find(BEGIN)
        .unwrap_or_else(|| panic!("no block:\n{text}"));
    let end = text[begin..].find(END).unwrap() + begin;
    let end_of_line = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
    (&text[..begin], &text[end_of_line..])
}

/// `ls --json` rows of `session` as `profile name → (account id, role)`.
fn ls_profiles(user: &User) -> BTreeMap<String, (String, String)> {
    let r = user.run(&["ls", "--json"]);
    r.ok();
    let rows: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    rows.iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_owned();
            (s("profile"), (s("account_id"), s("role_name")))
        })
        .collect()
}

/// Checks one process-mode profile completely: keys, values, and the command split back into words.
#[track_caller]
fn check_process_profile(s: &Section, session: &str, exe: &str) {
    assert_eq!(keys(s), PROCESS_KEYS, "{}", s.name);
    let account = s.get("aws_account_id").unwrap();
    let role = s.get("role_name").unwrap();
    let words = awsso::creds::shell_split(s.get("credential_process").unwrap())
        .unwrap_or_else(|| panic!("credential_process of {} does not split", s.name));
    assert_eq!(
        words,
        [
            exe,
            "creds",
            "--session",
            session,
            "--account-id",
            account,
            "--role-name",
            role
        ],
        "{}",
        s.name
    );
    assert!(
        s.get("awsso_display_name")
            .unwrap()
            .ends_with(&format!("({account})"))
            || s.get("awsso_display_name") == Some(account)
    );
    let color = s.get("color").unwrap();
    assert!(
        color.len() == 6 && color.bytes().all(|b| b.is_ascii_hexdigit()),
        "{color}"
    );
}

fn sync(user: &User, args: &[&str]) -> Run {
    let mut all = vec!["sync"];
    all.extend_from_slice(args);
    user.run(&all)
}

#[test]
fn sync_writes_one_profile_per_account_and_role_in_the_sessions_block() {
    let user = logged_in(sim(5, 2));
    // login created the config: a new file is private.
    let mode = std::fs::metadata(user.config_path()).unwrap().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
    let before = user.read_config();

    let r = sync(&user, &[]);
    r.ok()
        .stderr_has("Session d-test123: wrote 10 profiles")
        .stderr_has("(10 new, 0 removed)");
    assert!(r.stdout.is_empty(), "{r}");
    let text = user.read_config();
    assert!(text.starts_with(&before), "{text}");
    let cfg = parse(&text);
    assert_eq!(cfg.managed_blocks().len(), 1);
    assert_eq!(cfg.managed_blocks()[0].id, BLOCK);
    let profiles = managed(&cfg, SESSION);
    assert_eq!(profiles.len(), 10);
    // Exactly what `ls` announces, name for name, and exactly what the portal serves.
    let listed = ls_profiles(&user);
    assert_eq!(names(&profiles), listed.keys().cloned().collect());
    let pairs: BTreeSet<(String, String)> = profiles
        .iter()
        .map(|s| {
            let pair = (
                s.get("aws_account_id").unwrap().to_owned(),
                s.get("role_name").unwrap().to_owned(),
            );
            assert_eq!(listed[&s.name], pair);
            pair
        })
        .collect();
    assert_eq!(pairs, served_pairs(&user));
    let exe = exe();
    assert!(exe.starts_with('/'));
    for s in &profiles {
        check_process_profile(s, SESSION, &exe);
        assert_eq!(s.get("region"), Some(REGION));
    }
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("sso_account_id") || l.starts_with("sso_role_name")),
        "process mode writes no sso_* key in profiles:\n{text}"
    );
    let prod = cfg
        .profile("prod-payments-0001/AdministratorAccess")
        .unwrap();
    assert_eq!(prod.get("color"), Some("cc0000"), "prod is red");
    assert_eq!(prod.get("granted_color"), Some("red"));
    assert_eq!(
        prod.get("awsso_display_name"),
        Some("prod-payments-0001 (100000000001)")
    );
    let dev = cfg.profile("Dev-Sandbox-0002/ReadOnlyAccess").unwrap();
    assert_eq!(dev.get("granted_color"), Some("green"));
    assert_eq!(
        std::fs::metadata(user.config_path()).unwrap().mode() & 0o777,
        0o600
    );
}

/// A config full of the user's own comments and odd formatting, without a final newline: everything
/// outside awsso's block stays byte for byte, when the block is added and when it is rewritten between
/// the user's lines.
#[test]
fn sync_keeps_every_byte_outside_the_block() {
    let user = logged_in(sim(5, 2));
    let mine = "# My AWS config: hand written, awsso must not touch it\n\
        ;; a semicolon comment\n\
        [default]\n\
        region=eu-west-1\n\
        output   =   json   \n\
        \n\
        \x20  # an indented comment\n\
        \n\
        [sso-session   d-test123]\n\
        sso_start_url   =   https://d-test123.awsapps.com/start\n\
        sso_region=eu-west-1\n\
        sso_registration_scopes = sso:account:access\n\
        \n\n\n\
        [profile mine]   ; my own profile\n\
        # note: keep this\n\
        region = us-east-1\n\
        s3 =\n\
        \x20   max_concurrent_requests = 20\n\
        \x20   multipart_threshold = 64MB\n\
        credential_process = /usr/bin/env printf '{\"Version\": 1}'\n\
        [profile   spaced-out]\n\
        region = ap-south-1   # not a comment for botocore\n\
        \t\n\
        ;last line, no newline";
    user.write_config(mine);
    sync(&user, &[]).ok().stderr_has("wrote 10 profiles");
    let text = user.read_config();
    assert!(text.starts_with(mine), "{text}");
    let added = &text[mine.len()..];
    assert!(added.starts_with(&format!("\n\n{BEGIN} -- ")), "{added:?}");
    assert!(added.ends_with(&format!("{END}\n")), "{added:?}");
    let cfg = parse(&text);
    assert_eq!(managed(&cfg, SESSION).len(), 10);
    let own = cfg.profile("mine").unwrap();
    assert_eq!(own.managed_by, None);
    assert_eq!(own.sub_properties("s3").unwrap().len(), 2);

    // The user writes after the block; a later sync rewrites the block in the middle of their lines.
    let after =
        "\n# added after awsso's block\n[profile after]\nregion = us-west-1\n;; tail, no newline";
    user.write_config(&format!("{text}{after}"));
    let text = user.read_config();
    let (head, tail) = outside(&text);
    let (head, tail) = (head.to_owned(), tail.to_owned());
    assert_eq!(tail, after);
    user.sim.update(|c| {
        c.accounts = 6;
        c.roles_per_account = 3;
    });
    sync(&user, &["--refresh"])
        .ok()
        .stderr_has("wrote 18 profiles")
        .stderr_has("(8 new, 0 removed)");
    let text = user.read_config();
    assert_eq!(outside(&text), (head.as_str(), tail.as_str()));
    assert_eq!(managed(&parse(&text), SESSION).len(), 18);
    sync(&user, &[]).ok().stderr_has("already up to date");
    assert_eq!(user.read_config(), text);
}

#[test]
fn sync_keeps_a_crlf_config_crlf() {
    let user = logged_in(sim(3, 2));
    let mine = format!(
        "# windows-edited\r\n[default]\r\nregion = eu-west-1\r\n\r\n{}",
        SESSION_SECTION.replace('\n', "\r\n")
    );
    user.write_config(&mine);
    sync(&user, &[]).ok();
    let text = user.read_config();
    assert!(text.starts_with(&mine));
    assert_eq!(
        text.matches('\n').count(),
        text.matches("\r\n").count(),
        "every new line ends in CRLF like the file's:\n{text:?}"
    );
    assert_eq!(managed(&parse(&text), SESSION).len(), 6);
    sync(&user, &[]).ok().stderr_has("already up to date");
    assert_eq!(user.read_config(), text);
}

#[test]
fn a_second_sync_changes_nothing() {
    let user = logged_in(sim(4, 2));
    sync(&user, &[]).ok();
    let path = user.config_path();
    let text = user.read_config();
    let meta = std::fs::metadata(&path).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));

    let r = sync(&user, &[]);
    r.ok()
        .stderr_has("Session d-test123: 8 profiles, already up to date.");
    let again = std::fs::metadata(&path).unwrap();
    assert_eq!(user.read_config(), text);
    assert_eq!(
        (again.ino(), again.mtime(), again.mtime_nsec()),
        (meta.ino(), meta.mtime(), meta.mtime_nsec()),
        "the file was not even rewritten"
    );
    // A new scan that finds the same assignments changes nothing either.
    sync(&user, &["--refresh"])
        .ok()
        .stderr_has("already up to date");
    assert_eq!(std::fs::metadata(&path).unwrap().ino(), meta.ino());

    // Hand edits inside the block are overwritten, as its BEGIN line says.
    let edited = text.replacen("\nregion = eu-west-1\n", "\nregion = xx-edited-1\n", 1);
    assert_ne!(edited, text);
    user.write_config(&edited);
    sync(&user, &[]).ok().stderr_has("wrote 8 profiles");
    assert_eq!(user.read_config(), text);
}

#[test]
fn dry_run_prints_the_diff_and_writes_nothing() {
    let user = logged_in(sim(3, 2));
    let path = user.config_path();
    let before = user.read_config();
    let ino = std::fs::metadata(&path).unwrap().ino();
    let r = sync(&user, &["--dry-run"]);
    r.ok()
        .stderr_has("Dry run: session d-test123 would have 6 profiles (6 new, 0 removed)")
        .stderr_has("nothing was written");
    assert_eq!(user.read_config(), before);
    assert_eq!(std::fs::metadata(&path).unwrap().ino(), ino);
    let diff = &r.stdout;
    assert!(
        diff.starts_with(&format!(
            "--- {}\n+++ (after awsso sync)\n@@ ",
            path.display()
        )),
        "{diff}"
    );
    assert!(diff.contains(&format!("\n+{BEGIN} -- ")), "{diff}");
    assert!(
        diff.contains("\n+[profile prod-payments-0001/AdministratorAccess]\n"),
        "{diff}"
    );

    // The diff is exact: applied with patch(1) it gives what the real sync writes.
    let copy = user.home.path().join("patched");
    std::fs::write(&copy, &before).unwrap();
    let mut patch = std::process::Command::new("patch")
        .arg("--quiet")
        .arg(&copy)
        .stdin(Stdio::piped())
        .spawn()
        .expect("patch(1) runs");
    use std::io::Write;
    patch
        .stdin
        .take()
        .unwrap()
        .write_all(diff.as_bytes())
        .unwrap();
    assert!(patch.wait().unwrap().success());
    sync(&user, &[]).ok();
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), user.read_config());

    // Nothing to do: an empty diff.
    let r = sync(&user, &["--dry-run"]);
    r.ok();
    assert_eq!(r.stdout, "");

    // A removal shows as removed lines.
    user.sim.update(|c| c.accounts = 2);
    let text = user.read_config();
    let r = sync(&user, &["--dry-run", "--refresh", "--prune"]);
    r.ok()
        .stderr_has("would have 4 profiles (0 new, 2 removed)");
    assert!(
        r.stdout
            .contains("\n-[profile staging-web-0003/AdministratorAccess]\n"),
        "{r}"
    );
    assert!(!r.stdout.lines().any(|l| l.starts_with("+[")), "{r}");
    assert_eq!(user.read_config(), text);
}

#[test]
fn native_mode_writes_sso_keys_and_process_mode_none() {
    let user = logged_in(sim(3, 2));
    sync(&user, &["--mode", "native"]).ok();
    let text = user.read_config();
    let cfg = parse(&text);
    let profiles = managed(&cfg, SESSION);
    assert_eq!(profiles.len(), 6);
    for s in &profiles {
        assert_eq!(keys(s), NATIVE_KEYS, "{}", s.name);
        assert_eq!(s.get("sso_session"), Some(SESSION));
        assert_eq!(s.get("sso_account_id"), s.get("aws_account_id"));
        assert_eq!(s.get("sso_role_name"), s.get("role_name"));
    }
    assert!(!text.contains("credential_process"), "{text}");
    // The sso-session the profiles point at is there, outside the block.
    assert_eq!(cfg.sso_session(SESSION).unwrap().managed_by, None);

    // Back to process mode: the same names, no sso_* key left.
    sync(&user, &["--mode", "process"])
        .ok()
        .stderr_has("(0 new, 0 removed)");
    let text = user.read_config();
    let cfg = parse(&text);
    let again = managed(&cfg, SESSION);
    assert_eq!(names(&again), names(&profiles));
    let exe = exe();
    for s in &again {
        check_process_profile(s, SESSION, &exe);
        assert!(!keys(s).iter().any(|k| k.starts_with("sso_")), "{s:?}");
    }
}

/// Accounts and roles that disappear from the portal: kept (marked) by default, removed by --prune, and only
/// ever inside the block.
#[test]
fn stale_profiles_are_kept_and_marked_until_pruned() {
    let user = logged_in(sim(5, 2));
    let mine = format!("[default]\nregion = eu-west-1\n\n{SESSION_SECTION}");
    user.write_config(&mine);
    sync(&user, &[]).ok();
    user.write_config(&format!(
        "{}\n[profile tail]\nregion = x\n",
        user.read_config()
    ));
    let (head, tail) = {
        let t = user.read_config();
        let (h, t2) = outside(&t);
        (h.to_owned(), t2.to_owned())
    };
    let all = names(&managed(&parse(&user.read_config()), SESSION));
    assert_eq!(all.len(), 10);

    user.sim.update(|c| c.accounts = 3);
    let r = sync(&user, &["--refresh"]);
    r.ok()
        .stderr_has("wrote 6 profiles")
        .stderr_has("4 no longer assigned, kept (--prune removes them)");
    let text = user.read_config();
    assert_eq!(outside(&text), (head.as_str(), tail.as_str()));
    let cfg = parse(&text);
    assert_eq!(names(&managed(&cfg, SESSION)), all, "nothing removed");
    let marker = "# no longer assigned in the access portal; `awsso sync --prune` removes it\n";
    assert_eq!(text.matches(marker).count(), 4, "{text}");
    for gone in ["100000000004", "100000000005"] {
        for role in ["AdministratorAccess", "ReadOnlyAccess"] {
            let s = managed(&cfg, SESSION)
                .into_iter()
                .find(|s| s.get("aws_account_id") == Some(gone) && s.get("role_name") == Some(role))
                .unwrap();
            assert!(
                text.contains(&format!("{marker}[profile {}]\n", s.name)),
                "{text}"
            );
            check_process_profile(s, SESSION, &exe());
        }
    }
    // Kept stale profiles are stable too.
    sync(&user, &[])
        .ok()
        .stderr_has("6 profiles, already up to date; 4 no longer assigned");
    assert_eq!(user.read_config(), text);

    // A role taken away is stale the same way.
    user.sim.update(|c| c.roles_per_account = 1);
    sync(&user, &["--refresh"])
        .ok()
        .stderr_has("wrote 3 profiles")
        .stderr_has("7 no longer assigned, kept");
    assert_eq!(names(&managed(&parse(&user.read_config()), SESSION)), all);

    let r = sync(&user, &["--prune"]);
    r.ok()
        .stderr_has("wrote 3 profiles")
        .stderr_has("(0 new, 7 removed)");
    let text = user.read_config();
    assert_eq!(outside(&text), (head.as_str(), tail.as_str()));
    assert!(!text.contains(marker));
    let cfg = parse(&text);
    let left = managed(&cfg, SESSION);
    let pairs: BTreeSet<(String, String)> = left
        .iter()
        .map(|s| {
            (
                s.get("aws_account_id").unwrap().to_owned(),
                s.get("role_name").unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(pairs, served_pairs(&user));
    assert_eq!(pairs.len(), 3);
    sync(&user, &["--prune"])
        .ok()
        .stderr_has("already up to date");
}

#[test]
fn a_user_profile_with_awssos_name_keeps_its_section() {
    let user = logged_in(sim(3, 2));
    let mine = format!(
        "{SESSION_SECTION}\n[profile prod-payments-0001/AdministratorAccess]\n# mine, not awsso's\nregion = us-east-1\nrole_arn = arn:aws:iam::100000000001:role/Mine\nsource_profile = default\n"
    );
    user.write_config(&mine);
    sync(&user, &[]).ok().stderr_has("wrote 6 profiles");
    let text = user.read_config();
    assert!(text.starts_with(&mine));
    let cfg = parse(&text);
    let profiles = managed(&cfg, SESSION);
    let theirs = profiles
        .iter()
        .find(|s| {
            s.get("aws_account_id") == Some("100000000001")
                && s.get("role_name") == Some("AdministratorAccess")
        })
        .unwrap();
    assert_eq!(
        theirs.name,
        "prod-payments-0001/AdministratorAccess-100000000001"
    );
    let user_section = cfg
        .profile("prod-payments-0001/AdministratorAccess")
        .unwrap();
    assert_eq!(user_section.managed_by, None);
    assert_eq!(
        user_section.get("role_arn"),
        Some("arn:aws:iam::100000000001:role/Mine")
    );
    // ls agrees, and the choice is stable.
    assert!(ls_profiles(&user).contains_key("prod-payments-0001/AdministratorAccess-100000000001"));
    sync(&user, &["--refresh"])
        .ok()
        .stderr_has("already up to date");

    // A user section added later with a name awsso already wrote makes the file one no AWS tool reads
    // (a repeated section): awsso says where and touches nothing.
    let dup = format!("{text}\n[profile Dev-Sandbox-0002/ReadOnlyAccess]\nregion = us-east-2\n");
    user.write_config(&dup);
    sync(&user, &[]).fails_with(5).stderr_has("line");
    assert_eq!(user.read_config(), dup);
}

/// The simulator's injection-prone account names (newlines with a fake `[profile pwned]`, brackets, `=`,
/// `#`, `;`, quotes, `$(…)`, escapes, a 300-character name, an empty one, two identical ones).
#[test]
fn hostile_account_names_cannot_inject_anything() {
    let user = logged_in(SimConfig {
        hostile_names: true,
        ..sim(16, 2)
    });
    let served = user.sim.accounts();
    assert!(served[0].1.contains("\n[profile pwned]\n"), "{served:?}");
    sync(&user, &[]).ok().stderr_has("wrote 32 profiles");
    let text = user.read_config();
    let cfg = parse(&text);
    let profiles = managed(&cfg, SESSION);
    assert_eq!(profiles.len(), 32);
    assert_eq!(names(&profiles).len(), 32);
    // Nothing but the session and awsso's 32 profiles: no injected section anywhere.
    assert_eq!(cfg.sections.len(), 33, "{text}");
    assert!(cfg.profile("pwned").is_none() && cfg.profile("x").is_none());
    assert!(!text.contains("\n[profile pwned]"), "{text}");
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "control characters written: {text:?}"
    );
    let exe = exe();
    let mut pairs = BTreeSet::new();
    for s in &profiles {
        check_process_profile(s, SESSION, &exe);
        assert!(
            awsso::awsconfig::is_safe_section_name(&s.name),
            "{}",
            s.name
        );
        pairs.insert((
            s.get("aws_account_id").unwrap().to_owned(),
            s.get("role_name").unwrap().to_owned(),
        ));
    }
    assert_eq!(pairs, served_pairs(&user));
    // The two accounts both named "Duplicate Name" get distinct names that say which is which.
    let dup: BTreeSet<String> = profiles
        .iter()
        .filter(|s| s.name.starts_with("Duplicate-Name/AdministratorAccess"))
        .map(|s| s.name.clone())
        .collect();
    assert_eq!(
        dup,
        BTreeSet::from([
            "Duplicate-Name/AdministratorAccess-100000000011".to_owned(),
            "Duplicate-Name/AdministratorAccess-100000000012".to_owned(),
        ])
    );
    // Stable: the same names on every run.
    sync(&user, &["--refresh"])
        .ok()
        .stderr_has("already up to date");

    // ls: one line per pair even though names hold tabs and newlines; JSON keeps the names exactly.
    let r = user.run(&["ls"]);
    r.ok();
    assert_eq!(r.stdout.lines().count(), 32, "{r}");
    assert!(r.stdout.lines().all(|l| l.split('\t').count() == 5), "{r}");
    assert!(
        !r.stdout.contains('\x1b'),
        "terminal escapes passed through: {r}"
    );
    let r = user.run(&["ls", "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    let json_names: BTreeSet<&str> = rows
        .iter()
        .map(|r| r["account_name"].as_str().unwrap())
        .collect();
    let served_names: BTreeSet<&str> = served.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(json_names, served_names);
}

#[test]
fn a_config_awsso_cannot_read_is_reported_and_never_rewritten() {
    let user = logged_in(sim(3, 2));
    sync(&user, &[]).ok();
    let good = user.read_config();

    let broken = format!("# line 1\n[default]\n[profile x\nregion = eu-west-1\n{SESSION_SECTION}");
    user.write_config(&broken);
    let ino = std::fs::metadata(user.config_path()).unwrap().ino();
    let path = user.config_path().display().to_string();
    sync(&user, &["--refresh"])
        .fails_with(5)
        .stderr_has(&format!("{path}:3:"))
        .stderr_has("fix line 3");
    assert_eq!(user.read_config(), broken);
    assert_eq!(std::fs::metadata(user.config_path()).unwrap().ino(), ino);
    user.run(&["ls"])
        .fails_with(5)
        .stderr_has(&format!("{path}:3:"));

    // An END marker gone missing: awsso cannot tell what it owns, so it owns nothing.
    let unbalanced = good.replacen(&format!("{END}\n"), "", 1);
    assert_ne!(unbalanced, good);
    user.write_config(&unbalanced);
    sync(&user, &[])
        .fails_with(5)
        .stderr_has("awsso managed block `session d-test123`");
    assert_eq!(user.read_config(), unbalanced);

    // A second BEGIN for the same block.
    let twice = format!("{good}\n{BEGIN}\n{END}\n");
    user.write_config(&twice);
    sync(&user, &[]).fails_with(5).stderr_has("appears twice");
    assert_eq!(user.read_config(), twice);
}

#[test]
fn the_file_mode_and_a_symlinked_config_are_kept() {
    let user = logged_in(sim(3, 2));
    let path = user.config_path();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    sync(&user, &[]).ok();
    assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o640);

    // ~/.aws/config -> ../dotfiles/aws-config (relative): the link stays, its target is updated.
    let dotfiles = user.home.path().join("dotfiles");
    std::fs::create_dir(&dotfiles).unwrap();
    let target = dotfiles.join("aws-config");
    std::fs::rename(&path, &target).unwrap();
    std::os::unix::fs::symlink("../dotfiles/aws-config", &path).unwrap();
    sync(&user, &["--template", "{account_id}/{role_name}"])
        .ok()
        .stderr_has("(6 new, 6 removed)");
    let link = std::fs::symlink_metadata(&path).unwrap();
    assert!(link.file_type().is_symlink());
    assert_eq!(
        std::fs::read_link(&path).unwrap(),
        PathBuf::from("../dotfiles/aws-config")
    );
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(
        text.contains("[profile 100000000001/AdministratorAccess]\n"),
        "{text}"
    );
    assert_eq!(std::fs::metadata(&target).unwrap().mode() & 0o777, 0o640);
    // No temp file left behind, in either directory.
    let leftovers = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp"))
            .collect()
    };
    assert_eq!(leftovers(&dotfiles), Vec::<String>::new());
    assert_eq!(leftovers(path.parent().unwrap()), Vec::<String>::new());
}

/// `$AWSSO_CONFIG`: templates, regions and colours per session and per account.
#[test]
fn the_settings_file_shapes_names_regions_and_colours() {
    let user = logged_in(sim(4, 2));
    let settings = user.home.path().join("awsso-settings");
    std::fs::write(
        &settings,
        "# awsso settings\n\
         [defaults]\n\
         template = {account_name}.{role_name}\n\
         colors = payments=123abc, SANDBOX=#00aa00\n\
         hints = full\n\
         \n\
         [session d-test123]\n\
         template = corp-{account_name}-{role_name}\n\
         region = eu-central-1\n\
         \n\
         [account 100000000003]\n\
         name = Staging Web\n\
         region = us-west-2\n\
         color = #00ffff\n\
         \n\
         [account 100000000004]\n\
         profile = shared-{role_name}\n",
    )
    .unwrap();
    let with_settings = |args: &[&str]| {
        let mut all = vec!["sync"];
        all.extend_from_slice(args);
        Run::from(
            user.cmd(&all)
                .env("AWSSO_CONFIG", &settings)
                .output()
                .unwrap(),
        )
    };
    with_settings(&[]).ok().stderr_has("wrote 8 profiles");
    let cfg = parse(&user.read_config());
    let got: BTreeSet<String> = names(&managed(&cfg, SESSION));
    let want: BTreeSet<String> = [
        "corp-prod-payments-0001-AdministratorAccess",
        "corp-prod-payments-0001-ReadOnlyAccess",
        "corp-Dev-Sandbox-0002-AdministratorAccess",
        "corp-Dev-Sandbox-0002-ReadOnlyAccess",
        "corp-Staging-Web-AdministratorAccess",
        "corp-Staging-Web-ReadOnlyAccess",
        "shared-AdministratorAccess",
        "shared-ReadOnlyAccess",
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(got, want);
    let p = |n: &str| cfg.profile(n).unwrap();
    let pay = p("corp-prod-payments-0001-AdministratorAccess");
    assert_eq!(pay.get("color"), Some("123abc"), "the colour rule");
    assert_eq!(
        pay.get("region"),
        Some("eu-central-1"),
        "the session's region"
    );
    assert_eq!(
        p("corp-Dev-Sandbox-0002-ReadOnlyAccess").get("color"),
        Some("00aa00"),
        "rules ignore case"
    );
    let staging = p("corp-Staging-Web-AdministratorAccess");
    assert_eq!(staging.get("color"), Some("00ffff"));
    assert_eq!(staging.get("region"), Some("us-west-2"));
    assert_eq!(
        staging.get("awsso_display_name"),
        Some("Staging Web (100000000003)")
    );
    assert_eq!(
        staging.get("awsso_account_name"),
        Some("staging-web-0003"),
        "the served name is still recorded"
    );
    let shared = p("shared-ReadOnlyAccess");
    assert_eq!(shared.get("aws_account_id"), Some("100000000004"));
    // With a colour list, the built-in rules are off: no rule matches, so the colour comes from the id.
    assert_eq!(
        shared.get("color"),
        Some(awsso::profiles::hashed_color("100000000004"))
    );

    // --template beats the settings file; the account's own `profile` still wins for its account.
    with_settings(&["--template", "{account_id}-{role_name}"])
        .ok()
        .stderr_has("(6 new, 6 removed)");
    let cfg = parse(&user.read_config());
    let got = names(&managed(&cfg, SESSION));
    assert!(got.contains("100000000001-AdministratorAccess"), "{got:?}");
    assert!(got.contains("shared-ReadOnlyAccess"), "{got:?}");
    assert_eq!(got.len(), 8);
    assert!(
        !user.read_config().contains("no longer assigned"),
        "renamed profiles are replaced, not kept as stale"
    );
}

/// `AWSSO_SETTINGS` names the settings file; the old `AWSSO_CONFIG` still works, and loses when both are
/// set. Both `ls` (names) and `sync --dry-run` (the diff) follow the chosen file.
#[test]
fn awsso_settings_names_the_settings_file_and_awsso_config_is_its_old_name() {
    let user = logged_in(sim(2, 1));
    let file = |name: &str, prefix: &str| {
        let path = user.home.path().join(name);
        std::fs::write(
            &path,
            format!("[defaults]\ntemplate = {prefix}-{{account_id}}-{{role_name}}\n"),
        )
        .unwrap();
        path
    };
    let new = file("settings-new", "new");
    let old = file("settings-old", "old");
    let run = |vars: &[(&str, &Path)], args: &[&str]| {
        let mut c = user.cmd(args);
        for (k, v) in vars {
            c.env(k, v);
        }
        Run::from(c.output().unwrap())
    };
    let ls_names = |vars: &[(&str, &Path)]| -> BTreeSet<String> {
        let r = run(vars, &["ls", "--json"]);
        r.ok();
        let rows: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
        rows.iter()
            .map(|r| r["profile"].as_str().unwrap().to_owned())
            .collect()
    };
    let want = |prefix: &str| -> BTreeSet<String> {
        ["100000000001", "100000000002"]
            .map(|id| format!("{prefix}-{id}-AdministratorAccess"))
            .into()
    };
    assert_eq!(ls_names(&[("AWSSO_SETTINGS", &new)]), want("new"));
    assert_eq!(ls_names(&[("AWSSO_CONFIG", &old)]), want("old"));
    assert_eq!(
        ls_names(&[("AWSSO_CONFIG", &old), ("AWSSO_SETTINGS", &new)]),
        want("new"),
        "AWSSO_SETTINGS wins over the deprecated AWSSO_CONFIG"
    );
    // An empty AWSSO_SETTINGS counts as unset, as an empty AWSSO_CONFIG always did.
    assert_eq!(
        ls_names(&[("AWSSO_SETTINGS", Path::new("")), ("AWSSO_CONFIG", &old)]),
        want("old")
    );

    let before = user.read_config();
    let dry = |vars: &[(&str, &Path)]| {
        let r = run(vars, &["sync", "--dry-run"]);
        r.ok();
        r.stdout.clone()
    };
    let diff = dry(&[("AWSSO_CONFIG", &old), ("AWSSO_SETTINGS", &new)]);
    assert!(
        diff.contains("\n+[profile new-100000000001-AdministratorAccess]\n")
            && !diff.contains("old-"),
        "{diff}"
    );
    let diff = dry(&[("AWSSO_CONFIG", &old)]);
    assert!(
        diff.contains("\n+[profile old-100000000002-AdministratorAccess]\n"),
        "{diff}"
    );
    assert_eq!(user.read_config(), before, "a dry run writes nothing");
    // A broken file named by AWSSO_SETTINGS is reported by its path, with the variable in the hint.
    let missing_dir = user.home.path().join("no-such-dir");
    std::fs::create_dir(&missing_dir).unwrap();
    run(&[("AWSSO_SETTINGS", &missing_dir)], &["ls"])
        .fails_with(5)
        .stderr_has(&missing_dir.display().to_string())
        .stderr_has("AWSSO_SETTINGS chooses another settings file");
}

#[test]
fn bad_templates_are_refused_before_anything_is_written() {
    let user = logged_in(sim(3, 2));
    sync(&user, &[]).ok();
    let text = user.read_config();
    for (template, problem) in [
        ("{nope}/{role_name}", "unknown placeholder {nope}"),
        ("{role_name}", "needs {account_name} or {account_id}"),
        ("x y/{account_id}", "cannot appear in a profile name"),
        ("{account_id", "never closed"),
    ] {
        sync(&user, &["--template", template])
            .fails_with(5)
            .stderr_has(problem)
            .stderr_has("hint:");
        assert_eq!(user.read_config(), text, "{template}");
    }
    // In the settings file: the error names the file, the section and the key.
    let settings = user.home.path().join("awsso-settings");
    std::fs::write(&settings, "[session d-test123]\ntemplate = {account}\n").unwrap();
    let r = Run::from(
        user.cmd(&["sync", "--template", "{account_id}/{role_name}"])
            .env("AWSSO_CONFIG", &settings)
            .output()
            .unwrap(),
    );
    r.fails_with(5)
        .stderr_has(&settings.display().to_string())
        .stderr_has("[session d-test123] template");
    assert_eq!(user.read_config(), text);
}

#[test]
fn a_failed_scan_leaves_the_config_alone() {
    let user = logged_in(sim(4, 2));
    sync(&user, &[]).ok();
    let text = user.read_config();
    user.sim.update(|c| c.error_every = Some(1));
    sync(&user, &["--refresh", "--prune"])
        .fails_with(1)
        .stderr_has("nothing was saved");
    assert_eq!(user.read_config(), text);
    user.sim.update(|c| c.error_every = None);

    // A revoked token: exit 3, the config as it was.
    user.sim.revoke_all();
    sync(&user, &["--refresh", "--prune"])
        .fails_with(3)
        .stderr_has("awsso login");
    assert_eq!(user.read_config(), text);
}

/// Two sessions synced by concurrent processes: the lock serialises the edits, so both blocks land whole,
/// and names stay unique across the blocks.
#[test]
fn concurrent_syncs_of_two_sessions_both_land() {
    let user = logged_in(sim(6, 2));
    user.run(&[
        "login",
        "--start-url",
        "https://d-other456.awsapps.com/start",
        "--region",
        REGION,
        "--no-browser",
    ])
    .ok();
    // Warm both listing caches, so the race is about the file.
    user.run(&["ls"]).ok();
    let children: Vec<_> = (0..8)
        .map(|i| {
            let session = if i % 2 == 0 { SESSION } else { "d-other456" };
            user.cmd(&["sync", "--session", session])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        Run::from(c.wait_with_output().unwrap()).ok();
    }
    let text = user.read_config();
    let cfg = parse(&text);
    let a = managed(&cfg, SESSION);
    let b = managed(&cfg, "d-other456");
    assert_eq!((a.len(), b.len()), (12, 12), "{text}");
    let all: BTreeSet<String> = names(&a).union(&names(&b)).cloned().collect();
    assert_eq!(all.len(), 24, "names are unique across sessions");
    for s in &b {
        check_process_profile(s, "d-other456", &exe());
    }
    let r = sync(&user, &[]);
    r.ok();
    assert_eq!(r.stderr.matches("already up to date").count(), 2, "{r}");
    assert_eq!(user.read_config(), text);
}
