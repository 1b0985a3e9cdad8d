//! The IAM configuration file (`--iam-config FILE`), in the format issue 6 fixes and other
//! tools write:
//!
//! ```json
//! {"region": "us-east-1",
//!  "users": [{"name": "app", "accessKeyId": "AKIA…", "secretAccessKey": "…",
//!             "sessionToken": null, "policy": {"Version": "2012-10-17", "Statement": […]}}]}
//! ```
//!
//! `region` is optional (absent or `null`: any region in the credential scope is accepted).
//! Two optional nereid extensions name the resource that policies see:
//! `accountId` (default [`DEFAULT_ACCOUNT_ID`]) and `clusterResourceId` (default
//! [`DEFAULT_CLUSTER_RESOURCE_ID`]). Unknown members are rejected, with the name, because a
//! misspelt member would otherwise be silently ignored.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::ConfigError;
use crate::policy::Policy;

/// The account id in ARNs when the config names none (LocalStack's convention).
pub const DEFAULT_ACCOUNT_ID: &str = "000000000000";
/// The cluster resource id in the resource ARN when the config names none.
pub const DEFAULT_CLUSTER_RESOURCE_ID: &str = "cluster-NEREID";

/// One IAM principal: its key pair, optional session token and identity policy.
#[derive(Clone)]
pub struct User {
    name: String,
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    policy: Policy,
}

impl User {
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }
    pub(crate) fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }
    pub(crate) fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }
    pub fn policy(&self) -> &Policy {
        &self.policy
    }
}

impl fmt::Debug for User {
    // Secrets never reach logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// A loaded IAM configuration: the users, indexed by access key id.
#[derive(Debug, Clone)]
pub struct IamConfig {
    region: Option<String>,
    account_id: String,
    cluster_resource_id: String,
    users: Vec<User>,
    by_key: HashMap<String, usize>,
}

fn invalid(msg: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(msg.into())
}

fn check_members(
    obj: &Map<String, Value>,
    allowed: &[&str],
    what: &str,
) -> Result<(), ConfigError> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(invalid(format!(
            "unknown member {k:?} in {what} (expected one of {})",
            allowed.join(", ")
        ))),
        None => Ok(()),
    }
}

fn optional_string(
    obj: &Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<Option<String>, ConfigError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!(
            "{what}: {key} must be a non-empty string or null"
        ))),
    }
}

fn required_string(obj: &Map<String, Value>, key: &str, what: &str) -> Result<String, ConfigError> {
    optional_string(obj, key, what)?.ok_or_else(|| invalid(format!("{what}: {key} is required")))
}

impl IamConfig {
    /// Parses the configuration text.
    pub fn from_json(text: &str) -> Result<IamConfig, ConfigError> {
        let doc: Value = serde_json::from_str(text)?;
        let Value::Object(top) = &doc else {
            return Err(invalid("the top level must be an object"));
        };
        check_members(
            top,
            &["region", "users", "accountId", "clusterResourceId"],
            "the top level",
        )?;
        let region = optional_string(top, "region", "top level")?;
        let account_id = optional_string(top, "accountId", "top level")?
            .unwrap_or_else(|| DEFAULT_ACCOUNT_ID.into());
        let cluster_resource_id = optional_string(top, "clusterResourceId", "top level")?
            .unwrap_or_else(|| DEFAULT_CLUSTER_RESOURCE_ID.into());
        let Some(Value::Array(entries)) = top.get("users") else {
            return Err(invalid("users must be a list"));
        };
        let mut users = Vec::with_capacity(entries.len());
        let mut by_key = HashMap::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let Value::Object(u) = entry else {
                return Err(invalid(format!("users[{i}] must be an object")));
            };
            let what = format!("users[{i}]");
            check_members(
                u,
                &[
                    "name",
                    "accessKeyId",
                    "secretAccessKey",
                    "sessionToken",
                    "policy",
                ],
                &what,
            )?;
            let name = required_string(u, "name", &what)?;
            let access_key_id = required_string(u, "accessKeyId", &what)?;
            if access_key_id.contains('/') || access_key_id.chars().any(char::is_whitespace) {
                return Err(invalid(format!(
                    "{what}: accessKeyId must not contain '/' or whitespace"
                )));
            }
            let secret_access_key = required_string(u, "secretAccessKey", &what)?;
            let session_token = optional_string(u, "sessionToken", &what)?;
            let policy = match u.get("policy") {
                Some(p) => Policy::from_value(p).map_err(|message| ConfigError::Policy {
                    user: name.clone(),
                    message,
                })?,
                None => return Err(invalid(format!("{what}: policy is required"))),
            };
            if by_key.insert(access_key_id.clone(), users.len()).is_some() {
                return Err(invalid(format!(
                    "{what}: accessKeyId {access_key_id:?} is used twice"
                )));
            }
            users.push(User {
                name,
                access_key_id,
                secret_access_key,
                session_token,
                policy,
            });
        }
        Ok(IamConfig {
            region,
            account_id,
            cluster_resource_id,
            users,
            by_key,
        })
    }

    /// Reads and parses the configuration file.
    pub fn load(path: impl AsRef<Path>) -> Result<IamConfig, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        })?;
        IamConfig::from_json(&text)
    }

    /// The only region accepted in credential scopes, if the config names one.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    pub fn cluster_resource_id(&self) -> &str {
        &self.cluster_resource_id
    }

    /// Overrides the account id (e.g. from a command-line flag).
    pub fn set_account_id(&mut self, account_id: impl Into<String>) {
        self.account_id = account_id.into();
    }

    /// Overrides the cluster resource id (e.g. from a command-line flag).
    pub fn set_cluster_resource_id(&mut self, id: impl Into<String>) {
        self.cluster_resource_id = id.into();
    }

    pub fn users(&self) -> &[User] {
        &self.users
    }

    /// The user owning `access_key_id`.
    pub fn user_by_access_key(&self, access_key_id: &str) -> Option<&User> {
        self.by_key
            .get(access_key_id)
            .and_then(|&i| self.users.get(i))
    }

    /// The resource every data-plane request acts on, as policies see it:
    /// `arn:aws:neptune-db:<region>:<account>:<cluster-resource-id>/*` (SPEC 6).
    pub fn resource_arn(&self, region: &str) -> String {
        format!(
            "arn:aws:neptune-db:{region}:{}:{}/*",
            self.account_id, self.cluster_resource_id
        )
    }

    /// A user's ARN, `arn:aws:iam::<account>:user/<name>`, as AWS names it in denials.
    pub fn user_arn(&self, user: &User) -> String {
        format!("arn:aws:iam::{}:user/{}", self.account_id, user.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{"region": "us-east-1", "users": [
        {"name": "app", "accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "s3cr3t", "sessionToken": null,
         "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "neptune-db:*", "Resource": "*"}]}},
        {"name": "temp", "accessKeyId": "ASIAEXAMPLE", "secretAccessKey": "x", "sessionToken": "tok",
         "policy": {"Statement": []}}]}"#;

    #[test]
    fn the_issue_format_loads() {
        let c = IamConfig::from_json(EXAMPLE).unwrap();
        assert_eq!(c.region(), Some("us-east-1"));
        assert_eq!(c.users().len(), 2);
        let temp = c.user_by_access_key("ASIAEXAMPLE").unwrap();
        assert_eq!(temp.name(), "temp");
        assert_eq!(temp.session_token(), Some("tok"));
        assert!(c.user_by_access_key("AKIDOTHER").is_none());
        assert_eq!(
            c.resource_arn("us-east-1"),
            "arn:aws:neptune-db:us-east-1:000000000000:cluster-NEREID/*"
        );
        assert_eq!(c.user_arn(temp), "arn:aws:iam::000000000000:user/temp");
    }

    #[test]
    fn the_shipped_example_loads() {
        let text = include_str!("../iam-config.example.json");
        let c = IamConfig::from_json(text).unwrap();
        assert_eq!(c.users().len(), 2);
    }

    #[test]
    fn region_is_optional_and_extensions_apply() {
        let c = IamConfig::from_json(
            r#"{"accountId": "123456789012", "clusterResourceId": "cluster-ABC", "users": []}"#,
        )
        .unwrap();
        assert_eq!(c.region(), None);
        assert_eq!(
            c.resource_arn("eu-west-2"),
            "arn:aws:neptune-db:eu-west-2:123456789012:cluster-ABC/*"
        );
        assert_eq!(
            IamConfig::from_json(r#"{"region": null, "users": []}"#)
                .unwrap()
                .region(),
            None
        );
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let c = IamConfig::from_json(EXAMPLE).unwrap();
        let text = format!("{c:?}");
        assert!(
            !text.contains("s3cr3t") && !text.contains("\"tok\""),
            "{text}"
        );
    }

    #[test]
    fn bad_configs_name_the_problem() {
        let cases = [
            ("[]", "top level"),
            (r#"{"users": {}}"#, "users must be a list"),
            (r#"{"regoin": "x", "users": []}"#, "regoin"),
            (
                r#"{"users": [{"name": "a", "accessKeyId": "K", "secretAccessKey": "s"}]}"#,
                "policy is required",
            ),
            (
                r#"{"users": [{"name": "a", "accessKeyId": "K", "policy": {"Statement": []}}]}"#,
                "secretAccessKey",
            ),
            (
                r#"{"users": [{"name": "a", "accessKeyId": "K/1", "secretAccessKey": "s", "policy": {"Statement": []}}]}"#,
                "'/'",
            ),
            (
                r#"{"users": [{"name": "a", "accessKeyId": "K", "secretAccessKey": "s", "sesionToken": "t", "policy": {"Statement": []}}]}"#,
                "sesionToken",
            ),
            (
                r#"{"users": [{"name": "a", "accessKeyId": "K", "secretAccessKey": "s", "policy": {"Statement": []}},
                           {"name": "b", "accessKeyId": "K", "secretAccessKey": "t", "policy": {"Statement": []}}]}"#,
                "used twice",
            ),
            (
                r#"{"users": [{"name": "a", "accessKeyId": "K", "secretAccessKey": "s", "policy": {"Statement": [{"Effect": "Allow"}]}}]}"#,
                "user \"a\"",
            ),
            ("{", "JSON"),
        ];
        for (text, needle) in cases {
            let err = IamConfig::from_json(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text} -> {err}");
        }
    }
}
