//! PHP Fusio's variables in fusio.yml values: `${env.NAME}` (an environment
//! variable, so secrets stay out of the file) and `${dir.src}` (the
//! directory of the project file). `$${` writes a literal `${`. Applied to
//! parsed string values, never to the YAML text, so a value can never
//! change the file's structure.

use std::path::Path;

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
    pub fn apply(&self, text: &str) -> Result<String, String> {
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
                return Err(format!("`{after}` has no closing `}}`"));
            };
            out.push_str(&self.lookup(&body[..end])?);
            rest = &body[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn lookup(&self, name: &str) -> Result<String, String> {
        match name.split_once('.') {
            Some(("env", var)) if !var.is_empty() => (self.env)(var).ok_or_else(|| {
                format!("the environment variable `{var}` (`${{env.{var}}}`) is not set")
            }),
            Some(("dir", "src")) => Ok(self.src.display().to_string()),
            _ => Err(format!(
                "`${{{name}}}` is not a variable; use `${{env.NAME}}` or `${{dir.src}}`"
            )),
        }
    }

    /// Applies [`Self::apply`] to every string inside a JSON value.
    pub fn apply_json(&self, value: &serde_json::Value) -> Result<serde_json::Value, String> {
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
                    .collect::<Result<_, String>>()?,
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
        assert!(
            vars.apply("${env.MISSING}")
                .unwrap_err()
                .contains("`MISSING`")
        );
        assert!(
            vars.apply("${home}")
                .unwrap_err()
                .contains("not a variable")
        );
        assert!(vars.apply("${env.X").unwrap_err().contains("closing"));
    }
}
