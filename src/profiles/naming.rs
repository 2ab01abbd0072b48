//! Planning: which profile each account × role gets — its name (template, sanitising, collisions), its
//! region and colour, and the display texts — from a listing whose names are untrusted server text.
use std::collections::{BTreeMap, BTreeSet};

use super::color::color_for;
use super::settings::Settings;
use super::template::{DEFAULT_TEMPLATE, Piece, is_name_char, parse_template};
use crate::listing::{Account, Listing};

/// Longest profile name the template produces (a collision suffix may add up to ~20 more).
pub const MAX_NAME: usize = 100;
/// Longest piece of a profile name taken from the account name.
const MAX_ACCOUNT_PART: usize = 64;
/// Longest account name kept in `awsso_account_name`, and in the display name before the id.
pub const MAX_VALUE_NAME: usize = 100;

/// One profile to write.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProfilePlan {
    /// A safe section name and shell word (see [`crate::awsconfig::is_safe_section_name`]).
    pub name: String,
    pub account_id: String,
    /// As served, untrusted.
    pub account_name: String,
    pub role_name: String,
    pub region: String,
    /// 6 lowercase hex digits.
    pub color: String,
    /// `{name} ({id})`, safe as a config value, with the user's name override applied.
    pub display_name: String,
}

/// 12 ASCII digits, as every AWS account id is ([`crate::ids::AccountId`]'s rule).
pub fn is_valid_account_id(id: &str) -> bool {
    id.parse::<crate::ids::AccountId>().is_ok()
}

/// A role (permission-set) name as AWS allows them ([`crate::ids::RoleName`]'s rule): the same check as
/// the SSO client applies to ListAccountRoles and completion applies to its candidates.
pub fn is_valid_role_name(role: &str) -> bool {
    role.parse::<crate::ids::RoleName>().is_ok()
}

/// Plans every account × role of `listing` (sorted by profile name). `taken` = profile names the user
/// defined outside awsso's block for this session (and those in other sessions' blocks): never produce
/// one of those, nor `default`.
///
/// Accounts whose id is not 12 digits and roles that are not permission-set names are skipped with a
/// warning: they cannot be real, and writing them would need escaping no AWS tool undoes.
pub fn plan(
    listing: &Listing,
    settings: &Settings,
    sso_region: &str,
    taken: &BTreeSet<String>,
) -> Vec<ProfilePlan> {
    // The settings were validated when loaded; a bad template here (a caller that skipped
    // `validate_template`) falls back to the default rather than producing nothing.
    let template = parse_template(&settings.template)
        .unwrap_or_else(|_| parse_template(DEFAULT_TEMPLATE).expect("default template parses"));

    // One entry per (account id, role), whatever the order or duplication of the input; of two
    // listings of one account id, the one whose name sorts first wins.
    let mut accounts: Vec<&Account> = listing.accounts.iter().collect();
    accounts.sort_by(|a, b| (&a.id, &a.name).cmp(&(&b.id, &b.name)));
    let mut pairs: BTreeMap<(&str, &str), &Account> = BTreeMap::new();
    let mut roles_per_account: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for account in accounts {
        if !is_valid_account_id(&account.id) {
            tracing::warn!(account_id = %account.id.escape_debug(), "skipping an account whose id is not 12 digits");
            continue;
        }
        for role in &account.roles {
            if !is_valid_role_name(role) {
                tracing::warn!(account_id = %account.id, role = %role.escape_debug(), "skipping a role with an impossible name");
                continue;
            }
            pairs.entry((&account.id, role)).or_insert(account);
            roles_per_account
                .entry(&account.id)
                .or_default()
                .insert(role);
        }
    }

    let mut drafts: Vec<(String, ProfilePlan)> = Vec::with_capacity(pairs.len());
    for ((id, role), account) in pairs {
        let over = settings.accounts.get(id);
        let name = over
            .and_then(|o| o.name.as_deref())
            .unwrap_or(&account.name);
        let vars = Vars {
            account_name: name,
            account_id: id,
            role_name: role,
            session: &listing.session,
        };
        let base = match over.and_then(|o| o.profile_name.as_deref()) {
            Some(custom) => match parse_template(custom) {
                Ok(mut pieces) => {
                    let several = roles_per_account.get(id).is_some_and(|r| r.len() > 1);
                    if several && !pieces.contains(&Piece::RoleName) {
                        // One name for several roles would only be told apart by collision suffixes.
                        pieces.extend([Piece::Text("/"), Piece::RoleName]);
                    }
                    expand(&pieces, &vars)
                }
                Err(_) => expand(&template, &vars),
            },
            None => expand(&template, &vars),
        };
        let color = match over.and_then(|o| o.color.clone()) {
            Some(c) => c,
            None => color_for(name, id, &settings.color_rules),
        };
        let region = over
            .and_then(|o| o.region.clone())
            .or_else(|| settings.region.clone())
            .unwrap_or_else(|| sso_region.to_owned());
        drafts.push((
            base,
            ProfilePlan {
                name: String::new(),
                account_id: id.to_owned(),
                account_name: account.name.clone(),
                role_name: role.to_owned(),
                region,
                color,
                display_name: display_name(name, id),
            },
        ));
    }

    let mut plans = disambiguate(drafts, taken);
    plans.sort_by(|a, b| a.name.cmp(&b.name));
    plans
}

/// Gives every draft its final name: the base when it is unique and free; else `base-<account id>`,
/// then `-2`, `-3`… — decided in (name, account id, role) order, so the input order never matters.
fn disambiguate(drafts: Vec<(String, ProfilePlan)>, taken: &BTreeSet<String>) -> Vec<ProfilePlan> {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for (base, _) in &drafts {
        *count.entry(base.as_str()).or_default() += 1;
    }
    let mut used: BTreeSet<String> = taken.clone();
    // `[profile default]` would silently replace the user's `[default]`.
    used.insert("default".to_owned());
    let unique: Vec<bool> = drafts
        .iter()
        .map(|(base, _)| count[base.as_str()] == 1 && !used.contains(base))
        .collect();
    for ((base, _), free) in drafts.iter().zip(&unique) {
        if *free {
            used.insert(base.clone());
        }
    }
    let mut done = Vec::with_capacity(drafts.len());
    let mut clashing = Vec::new();
    for ((base, mut plan), free) in drafts.into_iter().zip(unique) {
        if free {
            plan.name = base;
            done.push(plan);
        } else {
            clashing.push((format!("{base}-{}", plan.account_id), plan));
        }
    }
    clashing.sort_by(|(a, pa), (b, pb)| {
        (a, &pa.account_id, &pa.role_name).cmp(&(b, &pb.account_id, &pb.role_name))
    });
    for (second, mut plan) in clashing {
        let mut name = second.clone();
        let mut n = 2;
        while used.contains(&name) {
            name = format!("{second}-{n}");
            n += 1;
        }
        used.insert(name.clone());
        plan.name = name;
        done.push(plan);
    }
    done
}

struct Vars<'a> {
    account_name: &'a str,
    account_id: &'a str,
    role_name: &'a str,
    session: &'a str,
}

/// The template filled in and sanitised into a profile name. Placeholder values are sanitised on their
/// own first, with `/` replaced, so that only the template puts `/` into a name.
fn expand(pieces: &[Piece<'_>], v: &Vars<'_>) -> String {
    let mut raw = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(t) => raw.push_str(t),
            Piece::AccountName => {
                // Capped on its own so that a very long account name cannot push the role out.
                let part = tidy(
                    &name_chars(v.account_name)
                        .chars()
                        .take(MAX_ACCOUNT_PART)
                        .collect::<String>(),
                );
                // A name with nothing usable in it (e.g. "" or "日本") is the account id.
                raw.push_str(if part.is_empty() { v.account_id } else { &part });
            }
            Piece::AccountId => raw.push_str(&name_chars(v.account_id)),
            Piece::RoleName => raw.push_str(&name_chars(v.role_name)),
            Piece::Session => raw.push_str(&name_chars(v.session)),
        }
    }
    let name = finish_name(&raw);
    if name.is_empty() {
        v.account_id.to_owned()
    } else {
        name
    }
}

/// Maps text into profile-name characters: Latin-1 letters lose their accents (Ü → U), anything else
/// outside `A-Z a-z 0-9 - _ . @ + :` (including `/`) becomes `-`.
pub(crate) fn name_chars(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_name_char(c) && c != '/' {
            out.push(c);
        } else if let Some(folded) = fold_latin1(c) {
            out.push_str(folded);
        } else {
            out.push('-');
        }
    }
    out
}

/// Collapses runs of `-`, trims each `/`-separated segment of `-` and `.`, drops empty segments and
/// caps the length at [`MAX_NAME`].
pub(crate) fn finish_name(raw: &str) -> String {
    let joined = raw
        .split('/')
        .map(tidy)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("/");
    if joined.len() <= MAX_NAME {
        return joined;
    }
    // ASCII only by now, so any byte index is a char boundary.
    finish_name(&joined[..MAX_NAME])
}

fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '-' && out.ends_with('-') {
            continue;
        }
        out.push(c);
    }
    out.trim_matches(['-', '.']).to_owned()
}

fn fold_latin1(c: char) -> Option<&'static str> {
    Some(match c {
        'À'..='Å' => "A",
        'Æ' => "AE",
        'Ç' => "C",
        'È'..='Ë' => "E",
        'Ì'..='Ï' => "I",
        'Ð' => "D",
        'Ñ' => "N",
        'Ò'..='Ö' | 'Ø' => "O",
        'Ù'..='Ü' => "U",
        'Ý' => "Y",
        'Þ' => "TH",
        'ß' => "ss",
        'à'..='å' => "a",
        'æ' => "ae",
        'ç' => "c",
        'è'..='ë' => "e",
        'ì'..='ï' => "i",
        'ð' => "d",
        'ñ' => "n",
        'ò'..='ö' | 'ø' => "o",
        'ù'..='ü' => "u",
        'ý' | 'ÿ' => "y",
        'þ' => "th",
        _ => return None,
    })
}

/// Untrusted text made safe as a config value ([`crate::awsconfig::is_safe_value`]) and for the block
/// body: control, invisible-formatting and line-separator characters, `#` and `;` become spaces,
/// whitespace collapses, and awsso's marker phrase is broken up. At most `max` characters.
pub(crate) fn value_text(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max * 4));
    let mut pending_space = false;
    let mut count = 0;
    for c in s.chars() {
        let blank = c.is_whitespace()
            || c.is_control()
            || crate::text::is_invisible(c)
            || c == '#'
            || c == ';';
        if blank {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            if count + 1 >= max {
                break;
            }
            out.push(' ');
            count += 1;
            pending_space = false;
        }
        if count >= max {
            break;
        }
        out.push(c);
        count += 1;
    }
    // The block writer refuses any line holding this phrase (it would look like a marker line).
    out.replace("awsso managed block", "awsso-managed-block")
}

/// `{name} ({id})`, or the id alone when nothing of the name survives.
pub(crate) fn display_name(name: &str, id: &str) -> String {
    let name = value_text(name, MAX_VALUE_NAME);
    if name.is_empty() {
        id.to_owned()
    } else {
        format!("{name} ({id})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profiles::{AccountOverride, ColorRule, color};

    pub(crate) fn account(id: &str, name: &str, roles: &[&str]) -> Account {
        Account {
            id: id.into(),
            name: name.into(),
            email: None,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        }
    }

    pub(crate) fn listing(accounts: Vec<Account>) -> Listing {
        Listing {
            session: "corp".into(),
            start_url: "https://d-1.awsapps.com/start".into(),
            region: "us-east-1".into(),
            fetched_at: 0,
            accounts,
        }
    }

    fn names(plans: &[ProfilePlan]) -> Vec<&str> {
        plans.iter().map(|p| p.name.as_str()).collect()
    }

    #[test]
    fn default_template_keeps_case_and_sanitises() {
        let l = listing(vec![
            account(
                "111111111111",
                "Prod-Payments",
                &["AdministratorAccess", "ReadOnlyAccess"],
            ),
            account("222222222222", "Dev Sandbox 0002", &["PowerUserAccess"]),
            account("333333333333", "Ünïcødé 日本 🚀", &["Billing"]),
            account("444444444444", "", &["Billing"]),
            account("555555555555", "日本", &["Billing"]),
            account("666666666666", "../../etc/passwd \\ C:\\Windows", &["R"]),
            account("777777777777", "a/b", &["R"]),
        ]);
        let plans = plan(&l, &Settings::default(), "eu-west-1", &BTreeSet::new());
        assert_eq!(
            names(&plans),
            vec![
                "444444444444/Billing",
                "555555555555/Billing",
                "Dev-Sandbox-0002/PowerUserAccess",
                "Prod-Payments/AdministratorAccess",
                "Prod-Payments/ReadOnlyAccess",
                "Unicode/Billing",
                "a-b/R",
                "etc-passwd-C:-Windows/R",
            ]
        );
        for p in &plans {
            assert!(
                crate::awsconfig::is_safe_section_name(&p.name),
                "{}",
                p.name
            );
            assert_eq!(p.region, "eu-west-1");
        }
        let unicode = plans
            .iter()
            .find(|p| p.account_id == "333333333333")
            .unwrap();
        assert_eq!(unicode.display_name, "Ünïcødé 日本 🚀 (333333333333)");
        assert_eq!(unicode.account_name, "Ünïcødé 日本 🚀");
        let empty = plans
            .iter()
            .find(|p| p.account_id == "444444444444")
            .unwrap();
        assert_eq!(empty.display_name, "444444444444");
    }

    #[test]
    fn templates_expand_every_placeholder() {
        let l = listing(vec![account("111111111111", "Payments Prod", &["Admin"])]);
        let s = Settings {
            template: "{session}:{account_id}@{account_name}+{role_name}".into(),
            ..Settings::default()
        };
        let plans = plan(&l, &s, "us-east-1", &BTreeSet::new());
        assert_eq!(names(&plans), vec!["corp:111111111111@Payments-Prod+Admin"]);
        let s = Settings {
            template: "x--{account_name}--/-{role_name}.".into(),
            ..Settings::default()
        };
        let plans = plan(&l, &s, "us-east-1", &BTreeSet::new());
        assert_eq!(names(&plans), vec!["x-Payments-Prod/Admin"]);
    }

    #[test]
    fn long_names_are_capped() {
        let long = "long-name-".repeat(30);
        let l = listing(vec![account(
            "111111111111",
            &long,
            &["AdministratorAccess"],
        )]);
        let plans = plan(&l, &Settings::default(), "us-east-1", &BTreeSet::new());
        let p = &plans[0];
        assert!(p.name.len() <= MAX_NAME, "{}", p.name);
        assert!(p.name.starts_with("long-name-long"));
        assert!(p.name.ends_with("-long/AdministratorAccess"), "{}", p.name);
        assert!(p.display_name.chars().count() <= 120);
        assert!(p.display_name.ends_with(" (111111111111)"));
    }

    #[test]
    fn overrides_apply() {
        let l = listing(vec![
            account("111111111111", "acct-a", &["Admin", "ReadOnly"]),
            account("222222222222", "acct-b", &["Admin", "ReadOnly"]),
            account("333333333333", "acct-c", &["Admin"]),
            account("444444444444", "prod-d", &["Admin"]),
        ]);
        let mut s = Settings {
            region: Some("eu-central-1".into()),
            ..Settings::default()
        };
        s.accounts.insert(
            "111111111111".into(),
            AccountOverride {
                name: Some("Payments Prod".into()),
                region: Some("us-west-2".into()),
                color: Some("00ffff".into()),
                profile_name: None,
            },
        );
        s.accounts.insert(
            "222222222222".into(),
            AccountOverride {
                profile_name: Some("pay".into()),
                ..Default::default()
            },
        );
        s.accounts.insert(
            "333333333333".into(),
            AccountOverride {
                profile_name: Some("c-{role_name}-{session}".into()),
                ..Default::default()
            },
        );
        let plans = plan(&l, &s, "us-east-1", &BTreeSet::new());
        assert_eq!(
            names(&plans),
            vec![
                "Payments-Prod/Admin",
                "Payments-Prod/ReadOnly",
                "c-Admin-corp",
                "pay/Admin",
                "pay/ReadOnly",
                "prod-d/Admin",
            ]
        );
        let a = &plans[0];
        assert_eq!(
            (a.region.as_str(), a.color.as_str()),
            ("us-west-2", "00ffff")
        );
        assert_eq!(a.display_name, "Payments Prod (111111111111)");
        assert_eq!(a.account_name, "acct-a");
        let d = plans
            .iter()
            .find(|p| p.account_id == "444444444444")
            .unwrap();
        assert_eq!(
            (d.region.as_str(), d.color.as_str()),
            ("eu-central-1", color::RED)
        );

        // A single-role account keeps a profile override as written.
        let mut s = Settings::default();
        s.accounts.insert(
            "444444444444".into(),
            AccountOverride {
                profile_name: Some("payments".into()),
                ..Default::default()
            },
        );
        let plans = plan(&l, &s, "us-east-1", &BTreeSet::new());
        assert!(names(&plans).contains(&"payments"));
    }

    #[test]
    fn colours_follow_rules() {
        let l = listing(vec![
            account("111111111111", "prod-web", &["R"]),
            account("222222222222", "preprod-web", &["R"]),
            account("333333333333", "Shared", &["R"]),
        ]);
        let plans = plan(&l, &Settings::default(), "us-east-1", &BTreeSet::new());
        let c = |id: &str| {
            plans
                .iter()
                .find(|p| p.account_id == id)
                .unwrap()
                .color
                .clone()
        };
        assert_eq!(c("111111111111"), color::RED);
        assert_eq!(c("222222222222"), color::ORANGE);
        assert_eq!(c("333333333333"), color::hashed_color("333333333333"));
        let s = Settings {
            color_rules: vec![ColorRule {
                pattern: "SHARED".into(),
                color: "abcdef".into(),
            }],
            ..Settings::default()
        };
        let plans = plan(&l, &s, "us-east-1", &BTreeSet::new());
        let c = |id: &str| {
            plans
                .iter()
                .find(|p| p.account_id == id)
                .unwrap()
                .color
                .clone()
        };
        assert_eq!(c("333333333333"), "abcdef");
        assert_eq!(c("111111111111"), color::hashed_color("111111111111"));
    }

    #[test]
    fn duplicate_names_get_the_account_id() {
        let l = listing(vec![
            account("222222222222", "Duplicate Name", &["Admin"]),
            account("111111111111", "Duplicate Name", &["Admin", "Other"]),
            account("333333333333", "Unique", &["Admin"]),
        ]);
        let plans = plan(&l, &Settings::default(), "us-east-1", &BTreeSet::new());
        assert_eq!(
            names(&plans),
            vec![
                "Duplicate-Name/Admin-111111111111",
                "Duplicate-Name/Admin-222222222222",
                "Duplicate-Name/Other",
                "Unique/Admin",
            ]
        );
    }

    #[test]
    fn taken_names_and_default_are_avoided() {
        let l = listing(vec![
            account("111111111111", "Mine", &["Admin"]),
            account("222222222222", "default", &["x"]),
        ]);
        let s = Settings {
            template: "{account_name}".into(),
            ..Settings::default()
        };
        let taken: BTreeSet<String> = ["Mine".to_owned(), "Mine-111111111111".to_owned()].into();
        let plans = plan(&l, &s, "us-east-1", &taken);
        assert_eq!(
            names(&plans),
            vec!["Mine-111111111111-2", "default-222222222222"]
        );
    }

    #[test]
    fn second_round_collisions_count_up_in_account_order() {
        // A template without the role: both roles of an account share `name-<id>`.
        let l = listing(vec![
            account("111111111111", "x", &["B", "A"]),
            account("222222222222", "x-111111111111", &["C"]),
        ]);
        let s = Settings {
            template: "{account_name}".into(),
            ..Settings::default()
        };
        let plans = plan(&l, &s, "us-east-1", &BTreeSet::new());
        let got: Vec<(&str, &str)> = plans
            .iter()
            .map(|p| (p.name.as_str(), p.role_name.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("x-111111111111", "C"),
                ("x-111111111111-2", "A"),
                ("x-111111111111-3", "B"),
            ]
        );
    }

    #[test]
    fn result_does_not_depend_on_input_order() {
        let mut accounts = vec![
            account("111111111111", "Same", &["Admin", "ReadOnly"]),
            account("222222222222", "Same", &["Admin"]),
            account("333333333333", "same", &["Admin"]),
            account("444444444444", "Same/Admin", &["x"]),
            account("555555555555", "", &["Admin"]),
            account("666666666666", "Same", &["Admin"]),
        ];
        let taken: BTreeSet<String> = ["Same/Admin-222222222222".to_owned()].into();
        let s = Settings::default();
        let expected = plan(&listing(accounts.clone()), &s, "us-east-1", &taken);
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..50 {
            // Fisher-Yates with xorshift: shuffles without a dependency.
            for i in (1..accounts.len()).rev() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                accounts.swap(i, (seed % (i as u64 + 1)) as usize);
            }
            for a in &mut accounts {
                a.roles.reverse();
            }
            assert_eq!(
                plan(&listing(accounts.clone()), &s, "us-east-1", &taken),
                expected
            );
        }
        let all: BTreeSet<&str> = expected.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(all.len(), expected.len(), "names are unique");
        assert!(all.is_disjoint(&taken.iter().map(String::as_str).collect()));
        assert!(
            all.contains("same/Admin"),
            "case is kept, so `same` differs from `Same`"
        );
    }

    #[test]
    fn impossible_ids_and_roles_are_skipped() {
        let l = listing(vec![
            account("12345", "short", &["Admin"]),
            account("11111111111\n", "nl", &["Admin"]),
            account(
                "111111111111",
                "ok",
                &["Admin", "Bad\nRole", "", "Sp ace", "Fine_Role+=,.@-1"],
            ),
        ]);
        let plans = plan(&l, &Settings::default(), "us-east-1", &BTreeSet::new());
        assert_eq!(names(&plans), vec!["ok/Admin", "ok/Fine_Role+-.@-1"]);
        assert_eq!(plans[1].role_name, "Fine_Role+=,.@-1");
    }

    #[test]
    fn value_text_is_safe() {
        for (input, expected) in [
            (
                "evil\n[profile pwned]\ncredential_process = /bin/sh -c id",
                "evil [profile pwned] credential_process = /bin/sh -c id",
            ),
            ("# comment", "comment"),
            ("; semi", "semi"),
            ("a#b;c", "a b c"),
            ("\t\x1b[31mred\x1b[0m bell\x07", "[31mred [0m bell"),
            ("  lots   of\u{2028}space  ", "lots of space"),
            ("rtl\u{202e}txt\u{200b}", "rtl txt"),
            (
                "x # END awsso managed block session corp",
                "x END awsso-managed-block session corp",
            ),
            ("", ""),
        ] {
            let got = value_text(input, 100);
            assert_eq!(got, expected, "{input:?}");
            assert!(crate::awsconfig::is_safe_value(&got));
        }
        assert_eq!(value_text(&"ab ".repeat(100), 10), "ab ab ab a");
        assert_eq!(value_text(&"é".repeat(300), 100).chars().count(), 100);
    }

    /// A config value hides nothing a terminal line would show as `?`: one set, `text::is_invisible`.
    #[test]
    fn value_text_blanks_what_the_terminal_marks() {
        for c in ('\0'..=char::MAX).filter(|c| crate::text::is_invisible(*c) || c.is_control()) {
            assert_eq!(
                value_text(&format!("a{c}b"), 10),
                "a b",
                "U+{:04X}",
                c as u32
            );
        }
    }
}
