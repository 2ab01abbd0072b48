//! Shell code and shell words, in one place: quoting a value for each dialect awsso prints for (bash, zsh,
//! fish, PowerShell), the `export`/`unset` lines of `awsso env` and `awsso use`, quoting a word of a
//! `credential_process` command line, and splitting such a line back into words.
//!
//! POSIX splitting is the `shlex` crate's, which reads a line as `sh` and Python's `shlex.split` (what
//! botocore runs on `credential_process`) do. Every value from the server or the config that reaches a
//! shell goes through here.
/// The shells awsso prints code for (`--shell` of `env`, `use` and `shell-init`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ShellKind {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

/// The shell to print for: `$SHELL`'s name when it is one we know, else bash.
pub fn detect_shell() -> ShellKind {
    let shell = std::env::var("SHELL").unwrap_or_default();
    match shell.rsplit('/').next().unwrap_or("") {
        "zsh" => ShellKind::Zsh,
        "fish" => ShellKind::Fish,
        "pwsh" | "powershell" => ShellKind::Powershell,
        _ => ShellKind::Bash,
    }
}

/// `s` as one literal word of `shell`: nothing in it is expanded, whatever it holds.
pub fn quote(shell: ShellKind, s: &str) -> String {
    match shell {
        ShellKind::Bash | ShellKind::Zsh => format!("'{}'", s.replace('\'', r"'\''")),
        // Inside fish's single quotes only `\\` and `\'` are escapes.
        ShellKind::Fish => format!("'{}'", s.replace('\\', r"\\").replace('\'', r"\'")),
        ShellKind::Powershell => format!("'{}'", s.replace('\'', "''")),
    }
}

/// A line that sets the environment variable `name` (a constant of awsso's, never server data) to `value`.
pub fn export(shell: ShellKind, name: &str, value: &str) -> String {
    let value = quote(shell, value);
    match shell {
        ShellKind::Bash | ShellKind::Zsh => format!("export {name}={value}\n"),
        ShellKind::Fish => format!("set -gx {name} {value}\n"),
        ShellKind::Powershell => format!("$Env:{name} = {value}\n"),
    }
}

/// Lines that unset the environment variables `names`, succeeding whether or not they are set.
pub fn unset(shell: ShellKind, names: &[&str]) -> String {
    match shell {
        ShellKind::Bash | ShellKind::Zsh => names.iter().map(|n| format!("unset {n}\n")).collect(),
        // fish's `set -e` fails on a variable that is not set, and a later `set` keeps that status: the
        // `or true` keeps `… | source` (and an eval) from reporting code that worked as a failure.
        ShellKind::Fish => format!("set -e {}; or true\n", names.join(" ")),
        ShellKind::Powershell => names
            .iter()
            .map(|n| format!("Remove-Item Env:{n} -ErrorAction SilentlyContinue\n"))
            .collect(),
    }
}

/// Splits a command line as POSIX `sh` (and Python's `shlex.split`) would: quotes and backslashes, no
/// expansions. `None` for an unterminated quote or a trailing backslash.
pub fn split(line: &str) -> Option<Vec<String>> {
    shlex::split(line)
}

/// What a word typed on a command line stands for: `'my corp'` → `my corp`. A word that does not split
/// into exactly one (a quote still open while the user types) is taken as it is.
pub fn unquote_word(word: &str) -> String {
    match split(word).as_deref() {
        Some([one]) => one.clone(),
        _ => word.to_owned(),
    }
}

/// Quote one word of a `credential_process` line so that both botocore (Python `shlex.split`, POSIX
/// mode) and `sh -c` read it back as exactly `s`.
///
/// Bare when every character is in `[A-Za-z0-9_@%+=:,./-]` (and it could not be read as a shell variable
/// assignment), else single-quoted with `'` written as `'\''`. Inside quotes, a `#` or `;` right after
/// whitespace is preceded by an empty `''`: the quoting means nothing to the config readers, and the
/// SDKs' parser would take ` #` as the start of an inline comment.
pub fn quote_word(s: &str) -> String {
    let bare = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !s.is_empty() && s.chars().all(bare) && !looks_like_assignment(s) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    let mut after_space = false;
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            if (c == '#' || c == ';') && after_space {
                out.push_str("''");
            }
            out.push(c);
        }
        after_space = c.is_whitespace();
    }
    out.push('\'');
    out
}

/// `--flag VALUE` as words of a command line, in the `--flag=VALUE` form when the value starts with `-`:
/// clap (like most parsers) would read a separate `-x` as another option, and the line would fail.
pub fn flag_word(flag: &str, value: &str) -> String {
    if value.starts_with('-') {
        quote_word(&format!("{flag}={value}"))
    } else {
        format!("{flag} {}", quote_word(value))
    }
}

/// The value of `flag` among command-line `words`, in either form [`flag_word`] writes: `--flag VALUE` or
/// `--flag=VALUE`.
pub fn flag_value(words: &[String], flag: &str) -> Option<String> {
    words.iter().enumerate().find_map(|(i, w)| {
        if w == flag {
            words.get(i + 1).cloned()
        } else {
            w.strip_prefix(flag)?.strip_prefix('=').map(str::to_owned)
        }
    })
}

/// `NAME=…` as the first word of a command would set a variable in `sh` instead of running anything.
fn looks_like_assignment(s: &str) -> bool {
    match s.split_once('=') {
        Some((name, _)) => {
            name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_for_each_shell() {
        let v = "a'b $c\\";
        assert_eq!(quote(ShellKind::Bash, v), r"'a'\''b $c\'");
        assert_eq!(quote(ShellKind::Fish, v), r"'a\'b $c\\'");
        assert_eq!(quote(ShellKind::Powershell, v), "'a''b $c\\'");
        assert_eq!(export(ShellKind::Zsh, "X", "1"), "export X='1'\n");
        assert_eq!(unset(ShellKind::Fish, &["A", "B"]), "set -e A B; or true\n");
        assert_eq!(unset(ShellKind::Bash, &["A", "B"]), "unset A\nunset B\n");
    }

    #[test]
    fn split_reads_like_sh() {
        assert_eq!(
            split(r#"'/opt/my tools/awsso' creds --role-name "Admin \"x\"" a\ b"#).unwrap(),
            [
                "/opt/my tools/awsso",
                "creds",
                "--role-name",
                "Admin \"x\"",
                "a b"
            ]
        );
        assert!(split("'open").is_none());
        assert_eq!(unquote_word("'my corp'"), "my corp");
        assert_eq!(unquote_word("'open"), "'open");
    }

    #[test]
    fn words_round_trip() {
        for s in [
            "/usr/bin/awsso",
            "a b",
            "it's",
            "",
            "FOO=bar",
            "a #b ;c",
            "-x",
            "$(x)",
        ] {
            assert_eq!(split(&quote_word(s)), Some(vec![s.to_owned()]), "{s:?}");
        }
        assert_eq!(flag_word("--session", "corp"), "--session corp");
        assert_eq!(flag_word("--session", "-x"), "--session=-x");
        assert_eq!(flag_word("--session", "-a b"), "'--session=-a b'");
        let words = split("awsso creds --session=-x --account-id 1 --role-name=-R").unwrap();
        assert_eq!(flag_value(&words, "--session").as_deref(), Some("-x"));
        assert_eq!(flag_value(&words, "--account-id").as_deref(), Some("1"));
        assert_eq!(flag_value(&words, "--role-name").as_deref(), Some("-R"));
        assert_eq!(flag_value(&words, "--profile"), None);
    }
}
