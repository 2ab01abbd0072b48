//! Issue 11's default block end to end, with the real binary against the simulator on the real keyring:
//! the name hint is the comment line above each profile's header (in place of the blank separator),
//! cleaned of whatever the server sent, shown by completion as the profile's description, stable across
//! syncs, and left out of the other hint levels.
use std::collections::BTreeMap;
use std::path::Path;

use crate::common::*;
use awsso::awsconfig::ConfigFile;

const BLOCK: &str = "session d-test123";

fn user(accounts: usize, hostile_names: bool) -> User {
    let user = User::new(SimConfig {
        accounts,
        roles_per_account: 2,
        hostile_names,
        ..quick()
    });
    user.write_config("# mine\n[profile mine]\nregion = eu-north-1\n");
    user.login().ok();
    user
}

/// `{profile: (account id, account name, role)}` from `awsso ls --json`.
fn listed(user: &User) -> BTreeMap<String, (String, String, String)> {
    let r = user.run(&["ls", "--json"]);
    r.ok();
    let rows: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    let s = |v: &serde_json::Value| v.as_str().unwrap().to_owned();
    rows.iter()
        .map(|r| {
            (
                s(&r["profile"]),
                (
                    s(&r["account_id"]),
                    s(&r["account_name"]),
                    s(&r["role_name"]),
                ),
            )
        })
        .collect()
}

/// `{profile: comment above its header}` for the profiles of awsso's block.
fn comments(text: &str) -> BTreeMap<String, Option<String>> {
    let cfg = ConfigFile::parse(Path::new("config"), text.to_owned()).unwrap();
    cfg.sections
        .iter()
        .filter(|s| s.managed_by.as_deref() == Some(BLOCK))
        .map(|s| (s.name.clone(), s.comment.clone()))
        .collect()
}

/// The fish completion candidates of `awsso creds --profile ''`: `{value: description}`.
fn completed_profiles(user: &User) -> BTreeMap<String, String> {
    let out = user
        .cmd(&["--", "awsso", "creds", "--profile", ""])
        .env("AWSSO_COMPLETE", "fish")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (v, help) = l.split_once('\t').unwrap_or((l, ""));
            (v.to_owned(), help.to_owned())
        })
        .collect()
}

#[test]
fn the_default_block_names_each_profile_in_the_comment_above_it() {
    let user = user(3, false);
    user.run(&["sync"]).ok().stderr_has("wrote 6 profiles");
    let text = user.read_config();
    let begin = text.find("# BEGIN awsso managed block").unwrap();
    let end = text.find("# END awsso managed block").unwrap();
    assert!(
        !text[begin..end].contains("\n\n"),
        "no blank line in the block:\n{text}"
    );
    let listed = listed(&user);
    let found = comments(&text);
    assert_eq!(found.len(), 6);
    let completed = completed_profiles(&user);
    for (profile, comment) in &found {
        let (id, name, role) = &listed[profile];
        let want = format!("{name} ({id}) {role}");
        assert_eq!(comment.as_deref(), Some(want.as_str()), "{profile}");
        assert_eq!(completed[profile], want, "completion help of {profile}");
    }
    assert_eq!(
        completed["mine"], "eu-north-1",
        "a user's comment is not a name hint"
    );

    // Unchanged listing: a no-op, byte for byte.
    user.run(&["sync"]).ok().stderr_has("already up to date");
    assert_eq!(user.read_config(), text);

    // The other levels write no name comment (the keys carry the names at `full`).
    for level in ["full", "none"] {
        let settings = user.home.path().join(".config/awsso/config");
        std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
        std::fs::write(&settings, format!("[defaults]\nhints = {level}\n")).unwrap();
        user.run(&["sync"]).ok().stderr_has("wrote 6 profiles");
        let other = user.read_config();
        assert!(
            comments(&other).values().all(Option::is_none),
            "{level}:\n{other}"
        );
        std::fs::remove_file(&settings).unwrap();
    }
    user.run(&["sync"]).ok().stderr_has("wrote 6 profiles");
    assert_eq!(
        user.read_config(),
        text,
        "back at the default, the same bytes"
    );
}

/// The simulator's hostile account names (line breaks with a fake `[profile pwned]`, `#`, `;`, escapes,
/// bidi controls, the marker phrase) reach the comment line only as one line of plain text.
#[test]
fn hostile_names_stay_on_their_comment_line() {
    let user = user(16, true);
    user.run(&["sync"]).ok();
    let text = user.read_config();
    let cfg = ConfigFile::parse(Path::new("config"), text.clone()).unwrap();
    assert_eq!(cfg.managed_blocks().len(), 1, "{text}");
    let listed = listed(&user);
    let profiles: Vec<_> = cfg.profiles().map(|s| s.name.as_str()).collect();
    assert_eq!(profiles.len(), listed.len() + 1, "{profiles:?}");
    assert!(!profiles.contains(&"pwned"), "{profiles:?}");
    for (profile, comment) in comments(&text) {
        let comment = comment.unwrap_or_else(|| panic!("{profile} has no name comment"));
        let (id, _, role) = &listed[&profile];
        // `Name (id) Role`, or `id Role` when nothing of the name survives the cleaning.
        assert!(
            comment.ends_with(&format!("({id}) {role}")) || comment == format!("{id} {role}"),
            "{profile}: {comment}"
        );
        assert!(
            !comment.contains(['#', ';', '\n', '\r', '\u{1b}', '\u{202e}', '\u{2028}'])
                && !comment.contains("awsso managed block"),
            "{profile}: {comment:?}"
        );
    }
    user.run(&["sync"]).ok().stderr_has("already up to date");
    assert_eq!(user.read_config(), text);
}
