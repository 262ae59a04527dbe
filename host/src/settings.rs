//! Settings administrators change while Fusio runs (`/backend/config`),
//! typed so a wrong value is refused when it is saved, not when it is used.
//! The store keeps only what differs from the defaults.

use serde::{Deserialize, Serialize};

/// Every runtime setting with its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Settings {
    /// Whether developers may sign up through `/consumer/register` (the
    /// server's `--no-registration` closes it regardless).
    pub registration_open: bool,
    /// How many apps one developer may own through `/consumer/app`.
    pub consumer_max_apps: u32,
    /// The subject of the activation mail.
    pub activation_mail_subject: String,
    /// The subject of the password-reset mail.
    pub reset_mail_subject: String,
    /// How many days action log entries are kept (0: for ever); older ones
    /// are removed at start and every hour.
    pub log_retention_days: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            registration_open: true,
            consumer_max_apps: 16,
            activation_mail_subject: "Activate your account".into(),
            reset_mail_subject: "Reset your password".into(),
            log_retention_days: 30,
        }
    }
}

/// Why a change to the settings is refused; the text names the setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsChangeError {
    /// No setting has this name.
    #[error("`{0}` is not a setting")]
    Unknown(String),
    /// A value does not have its setting's type.
    #[error("a setting has the wrong type: {0}")]
    WrongType(String),
    /// A mail subject would be empty.
    #[error("a mail subject cannot be empty")]
    EmptySubject,
}

impl Settings {
    /// Applies `changes` (a partial settings object) to these settings;
    /// the error names the setting that is unknown or has the wrong type.
    pub fn with(
        &self,
        changes: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self, SettingsChangeError> {
        let mut merged = match serde_json::to_value(self).expect("settings serialize") {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("settings are an object"),
        };
        for (name, value) in changes {
            if !merged.contains_key(name) {
                return Err(SettingsChangeError::Unknown(name.clone()));
            }
            merged.insert(name.clone(), value.clone());
        }
        let settings: Settings = serde_json::from_value(serde_json::Value::Object(merged))
            .map_err(|e| SettingsChangeError::WrongType(e.to_string()))?;
        if settings.activation_mail_subject.trim().is_empty()
            || settings.reset_mail_subject.trim().is_empty()
        {
            return Err(SettingsChangeError::EmptySubject);
        }
        Ok(settings)
    }

    /// The content tag (`ETag`) of these settings.
    pub fn tag(&self) -> String {
        let bytes = serde_json::to_vec(self).expect("settings serialize");
        crate::digest::sha256_hex(&bytes)[..16].to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_typed_and_named() {
        let defaults = Settings::default();
        let change = |json: serde_json::Value| defaults.with(json.as_object().unwrap());
        let changed = change(serde_json::json!({ "consumerMaxApps": 3 })).unwrap();
        assert_eq!(changed.consumer_max_apps, 3);
        assert_ne!(changed.tag(), defaults.tag());
        assert!(
            change(serde_json::json!({ "colour": "red" }))
                .unwrap_err()
                .to_string()
                .contains("`colour`")
        );
        assert!(change(serde_json::json!({ "consumerMaxApps": "many" })).is_err());
        assert!(change(serde_json::json!({ "resetMailSubject": " " })).is_err());
    }
}
