//! Profile-name templates (`{account_name}/{role_name}`): the placeholders, the characters a name may
//! hold, and the parse into literal text and placeholders. A leaf: the settings types, their reader and
//! the planner all use it, and it uses none of them.

/// The profile-name template used when none is configured.
pub const DEFAULT_TEMPLATE: &str = "{account_name}/{role_name}";

/// The placeholders a template or `profile` override may use.
pub const PLACEHOLDERS: [&str; 4] = ["account_name", "account_id", "role_name", "session"];

/// The advice for any template problem.
pub(crate) const TEMPLATE_HINT: &str = "use only {account_name}, {account_id}, {role_name} and {session} between \
    braces, and ASCII letters, digits and - _ . / @ + : around them, e.g. {account_name}/{role_name}";

/// One piece of a parsed template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    Text(&'a str),
    AccountName,
    AccountId,
    RoleName,
    Session,
}

/// Splits a template into literal text and placeholders; the literal text must already be a valid part
/// of a profile name, so that what the user wrote is what they get.
pub(crate) fn parse_template(t: &str) -> Result<Vec<Piece<'_>>, String> {
    if t.is_empty() {
        return Err("it is empty".into());
    }
    if t.chars().count() > 200 {
        return Err("it is longer than 200 characters".into());
    }
    let mut pieces = Vec::new();
    let mut rest = t;
    while !rest.is_empty() {
        match rest.find(['{', '}']) {
            Some(i) if rest[i..].starts_with('}') => {
                return Err(format!(
                    "`}}` at character {} closes no placeholder",
                    t.len() - rest.len() + i + 1
                ));
            }
            Some(i) => {
                if i > 0 {
                    pieces.push(Piece::Text(&rest[..i]));
                }
                let after = &rest[i + 1..];
                let end = after.find('}').ok_or_else(|| {
                    format!(
                        "`{{` at character {} is never closed",
                        t.len() - rest.len() + i + 1
                    )
                })?;
                let name = &after[..end];
                pieces.push(match name {
                    "account_name" => Piece::AccountName,
                    "account_id" => Piece::AccountId,
                    "role_name" => Piece::RoleName,
                    "session" => Piece::Session,
                    other => {
                        return Err(format!(
                            "unknown placeholder {{{}}}; the placeholders are {}",
                            other.escape_debug(),
                            PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(" ")
                        ));
                    }
                });
                rest = &after[end + 1..];
            }
            None => {
                pieces.push(Piece::Text(rest));
                rest = "";
            }
        }
    }
    for piece in &pieces {
        if let Piece::Text(text) = piece
            && let Some(c) = text.chars().find(|c| !is_name_char(*c))
        {
            return Err(format!(
                "{:?} cannot appear in a profile name (only ASCII letters, digits and - _ . / @ + :)",
                c
            ));
        }
    }
    Ok(pieces)
}

/// The characters `awsconfig::is_safe_section_name` allows.
pub(crate) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_./@+:".contains(c)
}

/// [`parse_template`], and the template names the account: a whole-name check, for templates rather than
/// `profile` overrides.
pub(crate) fn check_template(t: &str) -> Result<(), String> {
    let pieces = parse_template(t)?;
    // Without the account in the name every account would fight over the same few names.
    if !pieces
        .iter()
        .any(|p| matches!(p, Piece::AccountName | Piece::AccountId))
    {
        return Err(
            "it needs {account_name} or {account_id}, or every account gets the same name".into(),
        );
    }
    Ok(())
}
