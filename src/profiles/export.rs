//! Configurations for the browser extensions that colour the AWS console, from the same plans (and so
//! the same colour rules) as the profiles `awsso sync` writes: *AWS Peacock Management Console* (a JSON
//! list, which its YAML loader reads) and *AWS Extend Switch Roles* (its INI format).
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::naming::ProfilePlan;
use crate::awsconfig::{ConfigError, render_section};

/// One entry of the Peacock configuration (`Config` in the extension's `src/lib/config-repository.ts`):
/// the accounts it applies to, optionally only in some regions, and the console's colours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeacockEntry {
    pub accounts: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regions: Option<Vec<String>>,
    pub style: PeacockStyle,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeacockStyle {
    /// CSS colour, `#rrggbb`.
    pub navigation_background_color: String,
    pub menu_button_background_color: String,
}

/// One entry per colour, listing every account of that colour (an account has one colour whatever its
/// role). No `regions`: the colour applies in every region.
pub fn peacock(plans: &[ProfilePlan]) -> Vec<PeacockEntry> {
    let mut by_color: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for p in plans {
        by_color
            .entry(p.color.as_str())
            .or_default()
            .insert(p.account_id.as_str());
    }
    by_color
        .into_iter()
        .map(|(color, accounts)| PeacockEntry {
            accounts: accounts.into_iter().map(str::to_owned).collect(),
            regions: None,
            style: PeacockStyle {
                navigation_background_color: format!("#{color}"),
                menu_button_background_color: format!("#{color}"),
            },
        })
        .collect()
}

/// The Peacock configuration as pretty JSON, with a final newline.
pub fn peacock_json(plans: &[ProfilePlan]) -> String {
    let mut out = serde_json::to_string_pretty(&peacock(plans)).expect("plain data serialises");
    out.push('\n');
    out
}

/// The AWS Extend Switch Roles configuration: one `[profile NAME]` per account × role, named as
/// `awsso sync` names it, with `aws_account_id`, `role_name`, `color` (hex without `#`) and `region`.
/// Every value goes through the checked INI writer, so a hostile name cannot add a line.
pub fn aesr(plans: &[ProfilePlan]) -> Result<String, ConfigError> {
    let mut out = String::new();
    for (i, p) in plans.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&render_section(
            &format!("profile {}", p.name),
            &[
                ("aws_account_id", p.account_id.as_str()),
                ("role_name", &p.role_name),
                ("color", &p.color),
                ("region", &p.region),
            ],
        )?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(name: &str, id: &str, role: &str, color: &str) -> ProfilePlan {
        ProfilePlan {
            name: name.into(),
            account_id: id.into(),
            account_name: name.into(),
            role_name: role.into(),
            region: "eu-west-1".into(),
            color: color.into(),
            display_name: format!("{name} ({id})"),
        }
    }

    #[test]
    fn peacock_groups_accounts_by_colour() {
        let plans = [
            plan("prod/Admin", "111111111111", "Admin", "cc0000"),
            plan("prod/Read", "111111111111", "Read", "cc0000"),
            plan("prod2/Admin", "333333333333", "Admin", "cc0000"),
            plan("dev/Admin", "222222222222", "Admin", "2e8b57"),
        ];
        let json: serde_json::Value = serde_json::from_str(&peacock_json(&plans)).unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                {"accounts": ["222222222222"], "style": {
                    "navigationBackgroundColor": "#2e8b57", "menuButtonBackgroundColor": "#2e8b57"}},
                {"accounts": ["111111111111", "333333333333"], "style": {
                    "navigationBackgroundColor": "#cc0000", "menuButtonBackgroundColor": "#cc0000"}},
            ])
        );
        assert_eq!(peacock_json(&[]), "[]\n");
    }

    #[test]
    fn aesr_profiles() {
        let plans = [
            plan("prod/Admin", "111111111111", "Admin", "cc0000"),
            plan("dev/Admin", "222222222222", "Admin", "2e8b57"),
        ];
        assert_eq!(
            aesr(&plans).unwrap(),
            "[profile prod/Admin]\naws_account_id = 111111111111\nrole_name = Admin\ncolor = cc0000\n\
             region = eu-west-1\n\n[profile dev/Admin]\naws_account_id = 222222222222\nrole_name = Admin\n\
             color = 2e8b57\nregion = eu-west-1\n"
        );
        let mut bad = plans[0].clone();
        bad.role_name = "R\n[profile x]".into();
        assert!(aesr(&[bad]).is_err());
    }
}
