//! The environment of `awsso env` in formats that are not shell code: a dotenv file as `docker run
//! --env-file` reads it (`NAME=value`, the value taken literally, no quoting), and a JSON object for tools.
//! Also the [`MARKER`] that labels every environment awsso makes (`env`, `exec`), which `doctor` reads.
use std::collections::BTreeMap;

/// Set by awsso in the environments it makes: which profile is in use (and a guard against nesting).
pub const MARKER: &str = crate::vars::PROFILE;

#[derive(Debug, thiserror::Error)]
pub enum EnvFileError {
    #[error("{name} holds a line break, which a dotenv file cannot carry")]
    LineBreak { name: String },
}

/// `NAME=value` lines. docker takes everything after `=` literally, so values are not quoted; a value
/// with a line break cannot be written and is refused rather than split.
pub fn dotenv(vars: &[(&str, String)]) -> Result<String, EnvFileError> {
    let mut out = String::new();
    for (name, value) in vars {
        if value.contains(['\n', '\r']) {
            return Err(EnvFileError::LineBreak {
                name: (*name).to_string(),
            });
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
        out.push('\n');
    }
    Ok(out)
}

/// One JSON object, names to values, with a trailing newline.
pub fn json(vars: &[(&str, String)]) -> String {
    let map: BTreeMap<&str, &str> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut s = serde_json::to_string_pretty(&map).expect("a string map serialises");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_writes_values_literally_and_refuses_line_breaks() {
        let vars = vec![("A", "x'y $z=\"w\"".to_string())];
        assert_eq!(dotenv(&vars).unwrap(), "A=x'y $z=\"w\"\n");
        let bad = vec![("B", "one\ntwo".to_string())];
        assert!(dotenv(&bad).is_err());
    }

    #[test]
    fn json_is_an_object_of_strings() {
        let v: serde_json::Value =
            serde_json::from_str(&json(&[("A", "1".to_string()), ("B", "\"".to_string())]))
                .unwrap();
        assert_eq!(v, serde_json::json!({"A": "1", "B": "\""}));
    }
}
