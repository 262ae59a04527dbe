//! PHP Fusio's variables in fusio.yml values: `${env.NAME}` (an environment
//! variable, so secrets stay out of the file) and `${dir.src}` (the
//! directory of the project file). `$${` writes a literal `${`. Applied to
//! parsed string values, never to the YAML text, so a value can never
//! change the file's structure.

use std::path::Path;

/// Why a value's variables cannot be replaced; the message names the
/// first variable that cannot be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VariableError {
    /// `${` without its `}`.
    #[error("`{0}` has no closing `}}`")]
    Unclosed(String),
    /// `${env.NAME}` of a variable that is not set.
    #[error("the environment variable `{0}` (`${{env.{0}}}`) is not set")]
    NotSet(String),
    /// Neither `env.NAME` nor `dir.src`.
    #[error("`${{{0}}}` is not a variable; use `${{env.NAME}}` or `${{dir.src}}`")]
    Unknown(String),
}

/// Where variables come from.
pub struct Variables<'a> {
    /// The directory of the project file.
    pub src: &'a Path,
    /// Looks up an environment variable.
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

impl Variables<'_> {
    /// `text` with every variable replaced; the error names the first one
    /// that cannot be.
    pub fn apply(&self, text: &str) -> Result<String, VariableError> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find('$') {
            out.push_str(&rest[..start]);
            let after = &rest[start..];
            if let Some(literal) = after.strip_prefix("$${") {
                out.push_str("${");
                rest = literal;
                continue;
            }
            let Some(body) = after.strip_prefix("${") else {
                out.push('$');
                rest = &after[1..];
                continue;
            };
            let Some(end) = body.find('}') else {
                return Err(VariableError::Unclosed(after.to_owned()));
            };
            out.push_str(&self.lookup(&body[..end])?);
            rest = &body[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn lookup(&self, name: &str) -> Result<String, VariableError> {
        match name.split_once('.') {
            Some(("env", var)) if !var.is_empty() => {
                (self.env)(var).ok_or_else(|| VariableError::NotSet(var.to_owned()))
            }
            Some(("dir", "src")) => Ok(self.src.display().to_string()),
            _ => Err(VariableError::Unknown(name.to_owned())),
        }
    }

    /// Applies [`Self::apply`] to every string inside a JSON value.
    pub fn apply_json(
        &self,
        value: &serde_json::Value,
    ) -> Result<serde_json::Value, VariableError> {
        use serde_json::Value;
        Ok(match value {
            Value::String(s) => Value::String(self.apply(s)?),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| self.apply_json(v))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), self.apply_json(v)?)))
                    .collect::<Result<_, VariableError>>()?,
            ),
            other => other.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_env_and_dir_and_names_what_is_missing() {
        let env = |name: &str| (name == "DB_PASSWORD").then(|| "s3cret".to_owned());
        let vars = Variables {
            src: Path::new("/app"),
            env: &env,
        };
        assert_eq!(vars.apply("pw=${env.DB_PASSWORD}!").unwrap(), "pw=s3cret!");
        assert_eq!(
            vars.apply("${dir.src}/migrations").unwrap(),
            "/app/migrations"
        );
        assert_eq!(
            vars.apply("cost: $5, $${env.X}").unwrap(),
            "cost: $5, ${env.X}"
        );
        let missing = vars.apply("${env.MISSING}").unwrap_err();
        assert_eq!(missing, VariableError::NotSet("MISSING".into()));
        assert!(missing.to_string().contains("`MISSING`"), "{missing}");
        let unknown = vars.apply("${home}").unwrap_err();
        assert_eq!(unknown, VariableError::Unknown("home".into()));
        assert!(unknown.to_string().contains("not a variable"), "{unknown}");
        let unclosed = vars.apply("${env.X").unwrap_err();
        assert!(matches!(unclosed, VariableError::Unclosed(_)));
        assert!(unclosed.to_string().contains("closing"), "{unclosed}");
    }
}
