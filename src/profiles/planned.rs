//! One session's profiles as `ls`, `sync`, `export` and `doctor` see them: the plans made from its listing
//! and settings, the names other profiles already hold, and the include/exclude filter in force.
use std::collections::BTreeSet;

use crate::awsconfig::ConfigFile;
use crate::listing::Listing;
use crate::session::SessionConfig;

use super::{Filter, PatternError, ProfilePlan, Settings, SettingsError};

/// The hint for a pattern given on the command line that is not a glob.
const PATTERN_HINT: &str = "patterns are globs (* ? [abc] {a,b}, \\ escapes), e.g. --include 'prod-*' \
                            --exclude '*/ReadOnly*'";

/// Why a session's profiles cannot be planned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// An `--include`/`--exclude` pattern (the settings file's are checked when it is read). Shown as it
    /// is, not as a source.
    #[error("{0}")]
    Pattern(PatternError),
}

impl PlanError {
    /// One line of advice for the user.
    pub fn hint(&self) -> Option<String> {
        match self {
            PlanError::Settings(e) => e.hint(),
            PlanError::Pattern(_) => Some(PATTERN_HINT.into()),
        }
    }
}

/// The id of the managed block that holds a session's profiles.
pub fn block_id(session: &str) -> String {
    format!("session {session}")
}

/// Profile names that `sync` must not take for `session`: the user's own and other sessions' profiles.
pub fn taken_names(config: &ConfigFile, session: &SessionConfig) -> BTreeSet<String> {
    let own = block_id(&session.name);
    config
        .profiles()
        .filter(|p| p.managed_by.as_deref() != Some(own.as_str()))
        .map(|p| p.name.clone())
        .collect()
}

/// One session's plans and the settings they were made with.
pub struct Planned {
    /// Every pair of the listing (names are planned for all, so a filter never renames a profile).
    pub plans: Vec<ProfilePlan>,
    pub settings: Settings,
    /// Which of `plans` sync writes: the settings file's patterns, or the command line's.
    pub filter: Filter,
}

impl Planned {
    /// `--include`/`--exclude`: each replaces the settings file's patterns of the same kind when given.
    pub fn apply_patterns(
        &mut self,
        include: &[String],
        exclude: &[String],
    ) -> Result<(), PlanError> {
        if include.is_empty() && exclude.is_empty() {
            return Ok(());
        }
        let include = if include.is_empty() {
            self.filter.include_patterns().to_vec()
        } else {
            include.to_vec()
        };
        let exclude = if exclude.is_empty() {
            self.filter.exclude_patterns().to_vec()
        } else {
            exclude.to_vec()
        };
        self.filter = Filter::new(&include, &exclude).map_err(PlanError::Pattern)?;
        Ok(())
    }

    /// The plans sync writes.
    pub fn included(&self) -> Vec<ProfilePlan> {
        self.plans
            .iter()
            .filter(|p| self.filter.admits(p))
            .cloned()
            .collect()
    }
}

/// The plans for one session, from its listing and settings (and a template given on the command line).
pub fn plans_for(
    config: &ConfigFile,
    session: &SessionConfig,
    listing: &Listing,
    template: Option<&str>,
) -> Result<Planned, PlanError> {
    let mut settings = super::load_settings(&crate::paths::settings_file(), &session.name)?;
    if let Some(t) = template {
        settings.template = t.to_string();
        super::validate_template(&settings.template)?;
    }
    let plans = super::plan(
        listing,
        &settings,
        &session.region,
        &taken_names(config, session),
    );
    // Validated when the settings file was read.
    let filter = Filter::new(&settings.include, &settings.exclude).map_err(PlanError::Pattern)?;
    Ok(Planned {
        plans,
        settings,
        filter,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{classify, message};

    #[test]
    fn a_bad_pattern_on_the_command_line_is_a_usage_error_with_the_glob_hint() {
        let mut planned = Planned {
            plans: Vec::new(),
            settings: Settings::default(),
            filter: Filter::new(&[], &[]).unwrap(),
        };
        let bad = vec!["prod-[".to_string()];
        let e = planned.apply_patterns(&bad, &[]).unwrap_err();
        let PlanError::Pattern(inner) = &e else {
            panic!("{e:?}");
        };
        let text = inner.to_string();
        let e = anyhow::Error::new(e);
        assert_eq!(message(&e), text);
        assert_eq!(classify(&e), (2, Some(PATTERN_HINT.into())));
    }

    #[test]
    fn command_line_patterns_replace_only_their_own_kind() {
        let mut planned = Planned {
            plans: Vec::new(),
            settings: Settings::default(),
            filter: Filter::new(&["a*".into()], &["b*".into()]).unwrap(),
        };
        planned.apply_patterns(&[], &["c*".into()]).unwrap();
        assert_eq!(planned.filter.include_patterns(), ["a*".to_string()]);
        assert_eq!(planned.filter.exclude_patterns(), ["c*".to_string()]);
    }
}
