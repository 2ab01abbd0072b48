//! Which planned profiles `awsso sync` writes: `include`/`exclude` globs from the settings file or the
//! command line, matched case-insensitively against a pair's account name, account id and role name.
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use super::naming::ProfilePlan;

/// Include and exclude globs. A pair is kept when no include pattern is set or one matches, and no
/// exclude pattern matches: exclude wins.
///
/// Each pattern is tried against the account name (as served), the account id, the role name, and
/// `NAME/ROLE` and `ID/ROLE`, so `prod-*/Admin*` keeps the admin roles of the prod accounts. `*` also
/// matches `/`.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
    patterns: (Vec<String>, Vec<String>),
}

impl PartialEq for Filter {
    fn eq(&self, other: &Self) -> bool {
        self.patterns == other.patterns
    }
}
impl Eq for Filter {}

/// A pattern that is not a glob.
#[derive(Debug, thiserror::Error)]
#[error("{pattern:?} is not a glob pattern: {problem}")]
pub struct PatternError {
    pub pattern: String,
    pub problem: String,
}

impl Filter {
    pub fn new(include: &[String], exclude: &[String]) -> Result<Filter, PatternError> {
        Ok(Filter {
            include: set_of(include)?,
            exclude: set_of(exclude)?,
            patterns: (include.to_vec(), exclude.to_vec()),
        })
    }

    /// True when some pattern is set.
    pub fn is_active(&self) -> bool {
        self.include.is_some() || self.exclude.is_some()
    }

    pub fn include_patterns(&self) -> &[String] {
        &self.patterns.0
    }

    pub fn exclude_patterns(&self) -> &[String] {
        &self.patterns.1
    }

    /// Whether `sync` writes the profile of `plan`.
    pub fn admits(&self, plan: &ProfilePlan) -> bool {
        let subjects = [
            plan.account_name.clone(),
            plan.account_id.clone(),
            plan.role_name.clone(),
            format!("{}/{}", plan.account_name, plan.role_name),
            format!("{}/{}", plan.account_id, plan.role_name),
        ];
        let hit = |set: &GlobSet| subjects.iter().any(|s| set.is_match(s));
        self.include.as_ref().is_none_or(hit) && !self.exclude.as_ref().is_some_and(hit)
    }
}

fn set_of(patterns: &[String]) -> Result<Option<GlobSet>, PatternError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut set = GlobSetBuilder::new();
    for p in patterns {
        let err = |problem: String| PatternError {
            pattern: p.clone(),
            problem,
        };
        if p.trim().is_empty() {
            return Err(err("it is empty".into()));
        }
        let glob = GlobBuilder::new(p.trim())
            .case_insensitive(true)
            .literal_separator(false)
            .backslash_escape(true)
            .build()
            .map_err(|e| err(e.kind().to_string()))?;
        set.add(glob);
    }
    set.build().map(Some).map_err(|e| PatternError {
        pattern: patterns.join(", "),
        problem: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(name: &str, id: &str, role: &str) -> ProfilePlan {
        ProfilePlan {
            name: format!("{name}/{role}"),
            account_id: id.into(),
            account_name: name.into(),
            role_name: role.into(),
            region: "us-east-1".into(),
            color: "cc0000".into(),
            display_name: format!("{name} ({id})"),
        }
    }

    fn f(include: &[&str], exclude: &[&str]) -> Filter {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Filter::new(&v(include), &v(exclude)).unwrap()
    }

    #[test]
    fn globs_over_name_id_role_case_insensitive_and_exclude_wins() {
        let prod = plan("Prod Payments", "111111111111", "AdministratorAccess");
        let prod_ro = plan("Prod Payments", "111111111111", "ReadOnlyAccess");
        let dev = plan("dev-sandbox", "222222222222", "AdministratorAccess");
        let odd = plan("a/b [x]", "333333333333", "R");

        assert!(!f(&[], &[]).is_active());
        assert!(f(&[], &[]).admits(&prod));
        assert!(f(&["prod*"], &[]).admits(&prod));
        assert!(!f(&["prod*"], &[]).admits(&dev));
        assert!(f(&["*SANDBOX"], &[]).admits(&dev));
        assert!(f(&["2222*"], &[]).admits(&dev));
        assert!(f(&["readonly*"], &[]).admits(&prod_ro));
        assert!(!f(&["readonly*"], &[]).admits(&prod));
        // Account and role together.
        assert!(f(&["prod*/admin*"], &[]).admits(&prod));
        assert!(!f(&["prod*/admin*"], &[]).admits(&prod_ro));
        assert!(!f(&["prod*/admin*"], &[]).admits(&dev));
        assert!(f(&["111111111111/ReadOnlyAccess"], &[]).admits(&prod_ro));
        // Exclude wins over include.
        assert!(!f(&["prod*"], &["*readonly*"]).admits(&prod_ro));
        assert!(f(&["prod*"], &["*readonly*"]).admits(&prod));
        assert!(!f(&[], &["dev-*"]).admits(&dev));
        // Several includes: any of them.
        assert!(f(&["prod*", "dev*"], &[]).admits(&dev));
        // Brackets and braces are glob syntax; a backslash escapes.
        assert!(f(&["a/b \\[x\\]"], &[]).admits(&odd));
        assert!(f(&["{dev,qa}-*"], &[]).admits(&dev));
        // A whole-field match, not a substring.
        assert!(!f(&["prod"], &[]).admits(&prod));
    }

    #[test]
    fn bad_patterns_are_errors() {
        for bad in ["[abc", "{a,b", "", "  "] {
            assert!(
                Filter::new(&[bad.to_string()], &[]).is_err(),
                "{bad:?} accepted"
            );
        }
    }
}
