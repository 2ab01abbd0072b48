//! The simulated organisation: deterministic account ids, names, e-mails and role names,
//! including the "hostile" names that probe awsso's config-file and terminal escaping.

/// One account as ListAccounts serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Account {
    pub id: String,
    pub name: String,
    pub email: String,
}

/// Name stems cycled over the organisation. They mix case, separators and environment words
/// so that name-based rules ("prod" → red, "sandbox" → green, ...) have something to match.
const STEMS: &[(&str, char)] = &[
    ("prod-payments", '-'),
    ("Dev Sandbox", ' '),
    ("staging-web", '-'),
    ("Shared Services", ' '),
    ("security-audit", '-'),
    ("data-lake-prod", '-'),
    ("Log Archive", ' '),
    ("qa-integration", '-'),
    ("ML Research Dev", ' '),
    ("Production Core", ' '),
];

/// Names that break naive INI writers, shell quoting, terminals and column layouts.
/// Order matters: a small `accounts` gets the most dangerous ones first.
pub(crate) fn hostile_names() -> Vec<String> {
    vec![
        "evil\n[profile pwned]\ncredential_process = /bin/sh -c id".to_owned(),
        "[x]".to_owned(),
        "a = b".to_owned(),
        "# comment".to_owned(),
        "; semi".to_owned(),
        "O'Brien's \"quoted\" account".to_owned(),
        "`id` $(id) ${HOME}".to_owned(),
        "Ünïcødé 日本 🚀".to_owned(),
        "long-name-".repeat(30),
        "tab\there \x1b[31mred\x1b[0m bell\x07".to_owned(),
        "Duplicate Name".to_owned(),
        "Duplicate Name".to_owned(),
        String::new(),
        "../../etc/passwd \\ C:\\Windows".to_owned(),
    ]
}

pub(crate) fn normal_name(index: usize) -> String {
    let (stem, sep) = STEMS[index % STEMS.len()];
    format!("{stem}{sep}{:04}", index + 1)
}

pub(crate) fn account_id(index: usize) -> String {
    // 12 digits as long as there are fewer than 900 billion accounts.
    format!("{:012}", 100_000_000_000u64 + index as u64 + 1)
}

pub(crate) fn generate(count: usize, hostile: bool) -> Vec<Account> {
    let hostile_list = if hostile { hostile_names() } else { Vec::new() };
    (0..count)
        .map(|i| {
            let id = account_id(i);
            let name = hostile_list
                .get(i)
                .cloned()
                .unwrap_or_else(|| normal_name(i));
            Account {
                email: format!("aws+{id}@example.com"),
                id,
                name,
            }
        })
        .collect()
}

pub(crate) fn role_names(count: usize) -> Vec<String> {
    const WELL_KNOWN: [&str; 4] = [
        "AdministratorAccess",
        "ReadOnlyAccess",
        "PowerUserAccess",
        "Billing",
    ];
    (0..count)
        .map(|i| {
            WELL_KNOWN
                .get(i)
                .map(|s| (*s).to_owned())
                .unwrap_or_else(|| format!("Role{}", i + 1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_deterministic_and_well_formed() {
        let a = generate(25, false);
        assert_eq!(a, generate(25, false));
        assert_eq!(a[0].id, "100000000001");
        assert_eq!(a[0].name, "prod-payments-0001");
        assert_eq!(a[1].name, "Dev Sandbox 0002");
        assert_eq!(a[0].email, "aws+100000000001@example.com");
        for acct in &a {
            assert_eq!(acct.id.len(), 12);
            assert!(acct.id.bytes().all(|b| b.is_ascii_digit()));
        }
        let mut ids: Vec<_> = a.iter().map(|x| &x.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), 25);
    }

    #[test]
    fn hostile_names_come_first_and_count_is_kept() {
        let h = generate(3, true);
        assert_eq!(h.len(), 3);
        assert!(h[0].name.contains("\n[profile pwned]\n"));
        let all = generate(40, true);
        assert_eq!(all.len(), 40);
        let names: Vec<_> = all.iter().map(|a| a.name.as_str()).collect();
        assert!(names.contains(&""));
        assert_eq!(names.iter().filter(|n| **n == "Duplicate Name").count(), 2);
        assert!(names.iter().any(|n| n.chars().count() == 300));
        assert_eq!(all[39].name, normal_name(39));
    }

    #[test]
    fn role_names_follow_the_documented_order() {
        assert_eq!(
            role_names(6),
            [
                "AdministratorAccess",
                "ReadOnlyAccess",
                "PowerUserAccess",
                "Billing",
                "Role5",
                "Role6"
            ]
        );
    }
}
