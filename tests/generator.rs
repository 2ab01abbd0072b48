//! The profile generator's choices end to end (issue 11): hint levels, filters and exports, with the real
//! binary against the simulator, on the real keyring, writing a real `$AWS_CONFIG_FILE`.

use std::path::PathBuf;

use crate::common::*;
use awsso::awsconfig::{ConfigFile, Section};

/// A logged-in user whose config holds the user's own text around where awsso's block will go.
fn user_with(cfg: SimConfig) -> User {
    let user = User::new(cfg);
    user.write_config(&format!(
        "# my config\n[default]\nregion = us-east-1\n\n{SESSION_SECTION}\n[profile mine]\nregion = eu-north-1\n"
    ));
    user.login().ok();
    user
}

fn settings_path(user: &User) -> PathBuf {
    user.home.path().join(".config/awsso/config")
}

fn write_settings(user: &User, text: &str) {
    let path = settings_path(user);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn managed(cfg: &ConfigFile) -> Vec<&Section> {
    cfg.sections
        .iter()
        .filter(|s| s.managed_by.as_deref() == Some("session d-test123"))
        .collect()
}

/// `(text before the BEGIN line, text after the END line)`.
fn outside(text: &str) -> (String, String) {
    let begin = text
        .find(BEGIN)
        .unwrap_or_else(|| panic!("no block:\n{text}"));
    let end = text[begin..].find(END).unwrap() + begin;
    let end_of_line = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
    (text[..begin].to_owned(), text[end_of_line..].to_owned())
}

/// The default block carries one hint key; `hints` in the settings file switches the level, and a change
/// of level rewrites the block's keys and nothing else; an unchanged level is a no-op.
#[test]
fn hint_levels_rewrite_only_the_block() {
    let user = user_with(sim(3, 2));
    user.run(&["sync"]).ok().stderr_has("wrote 6 profiles");
    let first = user.read_config();
    let cfg = parse(&first);
    let profiles = managed(&cfg);
    assert_eq!(profiles.len(), 6);
    for s in &profiles {
        assert_eq!(
            keys(s),
            ["credential_process", "region", "granted_color"],
            "{}",
            s.name
        );
    }
    user.run(&["sync"]).ok().stderr_has("already up to date");
    assert_eq!(user.read_config(), first);

    let levels: [(&str, &[&str]); 3] = [
        (
            "full",
            &[
                "credential_process",
                "region",
                "color",
                "granted_color",
                "aws_account_id",
                "role_name",
                "awsso_account_name",
                "awsso_display_name",
            ],
        ),
        ("none", &["credential_process", "region"]),
        (
            "minimal",
            &["credential_process", "region", "granted_color"],
        ),
    ];
    let mut before = first.clone();
    for (level, want) in levels {
        write_settings(&user, &format!("[session d-test123]\nhints = {level}\n"));
        user.run(&["sync"])
            .ok()
            .stderr_has("wrote 6 profiles")
            .stderr_has("(0 new, 0 removed)");
        let text = user.read_config();
        assert_ne!(text, before, "{level}");
        assert_eq!(
            outside(&text),
            outside(&first),
            "{level}: text outside the block"
        );
        let cfg = parse(&text);
        let now = managed(&cfg);
        assert_eq!(now.len(), 6);
        for (s, old) in now.iter().zip(&profiles) {
            assert_eq!(s.name, old.name);
            assert_eq!(keys(s), want, "{level} {}", s.name);
            assert_eq!(s.get("credential_process"), old.get("credential_process"));
            assert_eq!(s.get("region"), old.get("region"));
        }
        user.run(&["sync"]).ok().stderr_has("already up to date");
        assert_eq!(user.read_config(), text);
        before = text;
    }
    assert_eq!(before, first, "back at the default level, the same bytes");

    // Without the hint keys, a renamed profile is still recognised by its credential_process line:
    // replaced, not kept as a stale one.
    user.run(&["sync", "--template", "{account_id}-{role_name}"])
        .ok()
        .stderr_has("(6 new, 6 removed)");
    let cfg_text = user.read_config();
    assert!(!cfg_text.contains("no longer assigned"), "{cfg_text}");
    assert_eq!(managed(&parse(&cfg_text)).len(), 6);
}

fn ls_rows(user: &User, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["ls", "--json"];
    all.extend_from_slice(args);
    let r = user.run(&all);
    r.ok();
    serde_json::from_str(&r.stdout).unwrap()
}

/// Include/exclude globs from the settings file (defaults and session) and the command line: only the
/// matching pairs are written, exclude wins, `--dry-run` shows it, profiles a filter drops go like
/// vanished ones (kept and marked until `--prune`), and `ls` lists every pair with a mark.
#[test]
fn filters_choose_the_profiles_sync_writes() {
    // Accounts: prod-payments-0001, Dev Sandbox 0002, staging-web-0003, Shared Services 0004,
    // security-audit-0005, data-lake-prod-0006; roles AdministratorAccess and ReadOnlyAccess.
    let user = user_with(sim(6, 2));
    write_settings(
        &user,
        "[defaults]\ninclude = *PROD*, {staging,qa}-*/Admin*\n[session d-test123]\nexclude = */readonly*\n",
    );
    let before = user.read_config();
    let r = user.run(&["sync", "--dry-run"]);
    r.ok().stderr_has(
        "would have 3 profiles (3 new, 0 removed); 9 left out by include/exclude patterns",
    );
    assert_eq!(user.read_config(), before, "a dry run writes nothing");
    assert!(
        r.stdout
            .contains("+[profile prod-payments-0001/AdministratorAccess]"),
        "{r}"
    );
    assert!(!r.stdout.contains("ReadOnlyAccess]"), "{r}");

    user.run(&["sync"])
        .ok()
        .stderr_has("wrote 3 profiles")
        .stderr_has("9 left out by include/exclude patterns");
    let text = user.read_config();
    let cfg = parse(&text);
    let names: Vec<&str> = managed(&cfg).iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "data-lake-prod-0006/AdministratorAccess",
            "prod-payments-0001/AdministratorAccess",
            "staging-web-0003/AdministratorAccess",
        ]
    );
    user.run(&["sync"]).ok().stderr_has("already up to date");
    let first = text;

    // ls lists every pair, marking what the filters leave out; the names are those sync gives.
    let rows = ls_rows(&user, &[]);
    assert_eq!(rows.len(), 12);
    let kept: Vec<&str> = rows
        .iter()
        .filter(|r| r["filtered"] == false)
        .map(|r| r["profile"].as_str().unwrap())
        .collect();
    assert_eq!(kept, names);
    let r = user.run(&["ls"]);
    r.ok();
    for line in r.stdout.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let written = names.contains(&fields[0]);
        assert_eq!(fields.len(), if written { 5 } else { 6 }, "{line}");
        if !written {
            assert_eq!(fields[5], "filtered");
        }
    }

    // Flags replace the settings' patterns; globs are case-insensitive and also match account ids.
    let flags = [
        "--include",
        "dev*",
        "--include",
        "100000000004",
        "--exclude",
        "*/ADMIN*",
    ];
    let rows = ls_rows(&user, &flags);
    let kept: Vec<&str> = rows
        .iter()
        .filter(|r| r["filtered"] == false)
        .map(|r| r["profile"].as_str().unwrap())
        .collect();
    assert_eq!(
        kept,
        [
            "Dev-Sandbox-0002/ReadOnlyAccess",
            "Shared-Services-0004/ReadOnlyAccess"
        ]
    );
    let mut args = vec!["sync"];
    args.extend(flags);
    user.run(&args)
        .ok()
        .stderr_has("wrote 2 profiles")
        .stderr_has("(2 new, 0 removed)")
        .stderr_has("3 filtered out, kept (--prune removes them)");
    let text = user.read_config();
    let cfg = parse(&text);
    assert_eq!(managed(&cfg).len(), 5);
    assert_eq!(
        text.matches("# left out by an include/exclude pattern; `awsso sync --prune` removes it")
            .count(),
        3,
        "{text}"
    );
    assert_eq!(outside(&text), outside(&first));
    args.push("--prune");
    user.run(&args).ok().stderr_has("(0 new, 3 removed)");
    let cfg_text = user.read_config();
    let names: Vec<String> = managed(&parse(&cfg_text))
        .iter()
        .map(|s| s.name.clone())
        .collect();
    assert_eq!(names, kept);

    // A bad pattern: a usage error on the command line, a settings error in the file; nothing written.
    let now = user.read_config();
    user.run(&["sync", "--include", "[abc"])
        .fails_with(2)
        .stderr_has("error: \"[abc\" is not a glob pattern")
        .stderr_has("hint: ");
    write_settings(&user, "[defaults]\nexclude = {a,b\n");
    user.run(&["sync"])
        .fails_with(5)
        .stderr_has("[defaults] exclude: \"{a,b\" is not a glob pattern");
    assert_eq!(user.read_config(), now);
}

/// `awsso export peacock` and `awsso export aesr` colour every account as its profiles are coloured: one
/// rule set (the settings file's colour rules and account overrides) drives the profiles and both exports.
#[test]
fn exported_colours_equal_the_profiles_colours() {
    let user = user_with(sim(12, 2));
    write_settings(
        &user,
        "[defaults]\nhints = full\ncolors = payments=123abc, sandbox=#00AA00\n\
         [account 100000000004]\ncolor = 00ffff\n",
    );
    user.run(&["sync"]).ok().stderr_has("wrote 24 profiles");
    let cfg = parse(&user.read_config());
    let profiles = managed(&cfg);
    assert_eq!(profiles.len(), 24);
    let color_of = |id: &str| -> String {
        let colors: std::collections::BTreeSet<&str> = profiles
            .iter()
            .filter(|s| s.get("aws_account_id") == Some(id))
            .map(|s| s.get("color").unwrap())
            .collect();
        assert_eq!(colors.len(), 1, "{id}: {colors:?}");
        colors.into_iter().next().unwrap().to_owned()
    };

    // Peacock: every account once, in the entry of its profiles' colour.
    let r = user.run(&["export", "peacock"]);
    r.ok();
    let entries: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    let mut seen = std::collections::BTreeMap::new();
    for e in &entries {
        let style = &e["style"];
        let nav = style["navigationBackgroundColor"].as_str().unwrap();
        assert_eq!(style["menuButtonBackgroundColor"].as_str(), Some(nav));
        assert!(e.get("regions").is_none());
        for id in e["accounts"].as_array().unwrap() {
            let id = id.as_str().unwrap();
            assert!(
                seen.insert(id.to_owned(), nav.to_owned()).is_none(),
                "{id} twice"
            );
        }
    }
    assert_eq!(seen.len(), 12);
    for (id, nav) in &seen {
        assert_eq!(nav, &format!("#{}", color_of(id)), "{id}");
    }
    assert_eq!(seen["100000000004"], "#00ffff");
    assert_eq!(
        seen["100000000001"], "#123abc",
        "prod-payments-0001 matches `payments`"
    );
    assert_eq!(
        seen["100000000002"], "#00aa00",
        "Dev Sandbox 0002 matches `sandbox`"
    );

    // AESR: the same profiles, names, accounts, roles, regions and colours.
    let out = user.home.path().join("aesr.ini");
    user.run(&["export", "aesr", "-o", out.to_str().unwrap()])
        .ok()
        .stderr_has("for 24 profiles");
    let aesr = parse(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(aesr.sections.len(), 24);
    for (a, p) in aesr.sections.iter().zip(&profiles) {
        assert_eq!(a.name, p.name);
        assert_eq!(keys(a), ["aws_account_id", "role_name", "color", "region"]);
        for k in ["aws_account_id", "role_name", "color", "region"] {
            assert_eq!(a.get(k), p.get(k), "{} {k}", a.name);
        }
    }

    // The filters apply to the exports as to sync.
    let r = user.run(&["export", "peacock", "--include", "*sandbox*"]);
    r.ok();
    let entries: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(entries.len(), 1);
    let ids: Vec<&str> = entries[0]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["100000000002", "100000000012"],
        "the two Dev Sandbox accounts"
    );
}
