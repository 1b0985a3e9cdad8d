//! IAM identity-policy documents: parsing (rejecting what IAM would reject, so a typo never
//! silently changes who gets in) and evaluation for one action on one resource.
//!
//! Evaluation is IAM's for a single identity policy: a statement applies when its
//! `Action`/`NotAction`, `Resource`/`NotResource` and every `Condition` match; any applying
//! `Deny` wins, otherwise any applying `Allow` allows, otherwise the request is implicitly
//! denied. Action names compare case-insensitively with wildcards; `neptune-db:connect`, the
//! pre-1.2.0.0 catch-all, matches every `neptune-db:` action.

pub mod action;
mod condition;
mod glob;
mod resource;

use serde_json::Value;

use action::{Action, SERVICE_PREFIX};
use condition::{parse_conditions, Condition};
use glob::glob_match;
pub(crate) use resource::arn_match;

/// A parsed identity policy.
#[derive(Debug, Clone)]
pub struct Policy {
    statements: Vec<Statement>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone)]
struct Statement {
    effect: Effect,
    /// The patterns of `Action`, or of `NotAction` when `not_action`.
    actions: Vec<String>,
    not_action: bool,
    resources: Vec<String>,
    not_resource: bool,
    conditions: Vec<Condition>,
}

/// The outcome of evaluating a policy for one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// No statement allowed it.
    ImplicitDeny,
    /// A `Deny` statement applied.
    ExplicitDeny,
}

fn string_list(v: &Value, element: &str) -> Result<Vec<String>, String> {
    let list = match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| format!("{element} entries must be strings"))?,
        _ => return Err(format!("{element} must be a string or a list of strings")),
    };
    if list.is_empty() {
        return Err(format!("{element} must not be empty"));
    }
    Ok(list)
}

fn one_of<'v>(
    stmt: &'v serde_json::Map<String, Value>,
    positive: &str,
    negative: &str,
) -> Result<(&'v Value, bool), String> {
    match (stmt.get(positive), stmt.get(negative)) {
        (Some(v), None) => Ok((v, false)),
        (None, Some(v)) => Ok((v, true)),
        (Some(_), Some(_)) => Err(format!(
            "a statement cannot have both {positive} and {negative}"
        )),
        (None, None) => Err(format!("a statement needs {positive} or {negative}")),
    }
}

fn parse_statement(v: &Value) -> Result<Statement, String> {
    let Value::Object(stmt) = v else {
        return Err("each Statement must be an object".into());
    };
    for key in stmt.keys() {
        match key.as_str() {
            "Sid" | "Effect" | "Action" | "NotAction" | "Resource" | "NotResource"
            | "Condition" => {}
            "Principal" | "NotPrincipal" => {
                return Err("Policy document should not specify a principal.".into())
            }
            other => return Err(format!("unknown statement element {other:?}")),
        }
    }
    let effect = match stmt.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        _ => return Err("Effect must be \"Allow\" or \"Deny\"".into()),
    };
    let (actions_v, not_action) = one_of(stmt, "Action", "NotAction")?;
    let actions = string_list(actions_v, "Action")?;
    for a in &actions {
        if a != "*" && !a.contains(':') {
            return Err(format!("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc. (found {a:?})"));
        }
    }
    let (resources_v, not_resource) = one_of(stmt, "Resource", "NotResource")?;
    let resources = string_list(resources_v, "Resource")?;
    let conditions = match stmt.get("Condition") {
        Some(c) => parse_conditions(c)?,
        None => Vec::new(),
    };
    Ok(Statement {
        effect,
        actions,
        not_action,
        resources,
        not_resource,
        conditions,
    })
}

impl Policy {
    /// Parses a policy document: an object, or a string holding one (as IAM APIs pass them).
    /// The error text is IAM's `MalformedPolicyDocument` reason where there is one.
    pub fn from_value(v: &Value) -> Result<Policy, String> {
        if let Value::String(text) = v {
            let inner: Value =
                serde_json::from_str(text).map_err(|e| format!("policy is not JSON: {e}"))?;
            if inner.is_string() {
                return Err("policy must be a JSON object".into());
            }
            return Policy::from_value(&inner);
        }
        let Value::Object(doc) = v else {
            return Err("policy must be a JSON object".into());
        };
        for key in doc.keys() {
            if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
                return Err(format!("unknown policy element {key:?}"));
            }
        }
        match doc.get("Version") {
            None => {}
            Some(Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => {}
            Some(other) => {
                return Err(format!(
                    "The policy failed legacy parsing: unsupported Version {other}"
                ))
            }
        }
        let statements = match doc.get("Statement") {
            Some(Value::Array(items)) => items
                .iter()
                .map(parse_statement)
                .collect::<Result<Vec<_>, _>>()?,
            Some(single @ Value::Object(_)) => vec![parse_statement(single)?],
            _ => return Err("Statement must be an object or a list of objects".into()),
        };
        Ok(Policy { statements })
    }

    /// The decision for `action` on `resource` given the request context as
    /// `(condition key, value)` pairs (key names compare case-insensitively; a key not listed
    /// is absent from the context).
    pub fn decide(&self, action: Action, resource: &str, context: &[(&str, &str)]) -> Decision {
        let lookup = |key: &str| {
            context
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| *v)
        };
        let mut allowed = false;
        for s in &self.statements {
            if !s.applies(action, resource, &lookup) {
                continue;
            }
            match s.effect {
                Effect::Deny => return Decision::ExplicitDeny,
                Effect::Allow => allowed = true,
            }
        }
        if allowed {
            Decision::Allow
        } else {
            Decision::ImplicitDeny
        }
    }
}

fn action_pattern_matches(pattern: &str, action: Action) -> bool {
    if pattern == "*" {
        return true;
    }
    if let Some((service, name)) = pattern.split_once(':') {
        if service.eq_ignore_ascii_case(SERVICE_PREFIX) && name.eq_ignore_ascii_case("connect") {
            return true;
        }
    }
    glob_match(pattern, &action.iam_name(), true)
}

impl Statement {
    fn applies<'a>(
        &self,
        action: Action,
        resource: &str,
        lookup: &dyn Fn(&str) -> Option<&'a str>,
    ) -> bool {
        let action_hit = self
            .actions
            .iter()
            .any(|p| action_pattern_matches(p, action));
        let resource_hit = self.resources.iter().any(|p| arn_match(p, resource));
        action_hit != self.not_action
            && resource_hit != self.not_resource
            && self.conditions.iter().all(|c| c.holds(lookup))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:neptune-db:us-east-1:123456789012:cluster-NEREID/*";

    fn decide(policy: Value, action: Action, ctx: &[(&str, &str)]) -> Decision {
        Policy::from_value(&policy)
            .unwrap()
            .decide(action, ARN, ctx)
    }

    fn allow(action: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})
    }

    #[test]
    fn action_wildcards_and_case() {
        use Action::*;
        assert_eq!(
            decide(allow(json!("neptune-db:*")), ResetDatabase, &[]),
            Decision::Allow
        );
        assert_eq!(
            decide(allow(json!("*")), ResetDatabase, &[]),
            Decision::Allow
        );
        assert_eq!(
            decide(allow(json!("neptune-db:Read*")), ReadDataViaQuery, &[]),
            Decision::Allow
        );
        assert_eq!(
            decide(allow(json!("neptune-db:Read*")), WriteDataViaQuery, &[]),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide(
                allow(json!("NEPTUNE-DB:readdataviaquery")),
                ReadDataViaQuery,
                &[]
            ),
            Decision::Allow
        );
        assert_eq!(
            decide(
                allow(json!(["neptune-db:Get*", "neptune-db:List*"])),
                GetQueryStatus,
                &[]
            ),
            Decision::Allow
        );
        assert_eq!(
            decide(
                allow(json!(["neptune-db:Get*", "neptune-db:List*"])),
                CancelQuery,
                &[]
            ),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide(allow(json!("neptune-db:connect")), DeleteDataViaQuery, &[]),
            Decision::Allow
        );
        assert_eq!(
            decide(allow(json!("rds:*")), ReadDataViaQuery, &[]),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide(
                allow(json!("neptune-db:GetQueryStatu?")),
                GetQueryStatus,
                &[]
            ),
            Decision::Allow
        );
    }

    #[test]
    fn explicit_deny_beats_allow_in_any_order() {
        for statements in [
            json!([{"Effect": "Allow", "Action": "neptune-db:*", "Resource": "*"},
                   {"Effect": "Deny", "Action": "neptune-db:DeleteDataViaQuery", "Resource": "*"}]),
            json!([{"Effect": "Deny", "Action": "neptune-db:DeleteDataViaQuery", "Resource": "*"},
                   {"Effect": "Allow", "Action": "neptune-db:*", "Resource": "*"}]),
        ] {
            let policy = json!({"Statement": statements});
            assert_eq!(
                decide(policy.clone(), Action::DeleteDataViaQuery, &[]),
                Decision::ExplicitDeny
            );
            assert_eq!(
                decide(policy, Action::ReadDataViaQuery, &[]),
                Decision::Allow
            );
        }
    }

    #[test]
    fn not_action_and_not_resource() {
        let policy = json!({"Statement": {"Effect": "Allow", "NotAction": ["neptune-db:Delete*", "neptune-db:ResetDatabase"], "Resource": "*"}});
        assert_eq!(
            decide(policy.clone(), Action::WriteDataViaQuery, &[]),
            Decision::Allow
        );
        assert_eq!(
            decide(policy.clone(), Action::DeleteDataViaQuery, &[]),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide(policy, Action::ResetDatabase, &[]),
            Decision::ImplicitDeny
        );
        let deny_elsewhere = json!({"Statement": [
            {"Effect": "Allow", "Action": "neptune-db:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "neptune-db:*", "NotResource": "arn:aws:neptune-db:us-east-1:*:*"}]});
        assert_eq!(
            decide(deny_elsewhere, Action::ReadDataViaQuery, &[]),
            Decision::Allow
        );
    }

    #[test]
    fn resource_patterns() {
        let on = |r: &str| json!({"Statement": {"Effect": "Allow", "Action": "neptune-db:*", "Resource": r}});
        assert_eq!(
            decide(
                on("arn:aws:neptune-db:us-east-1:123456789012:cluster-NEREID/*"),
                Action::ReadDataViaQuery,
                &[]
            ),
            Decision::Allow
        );
        assert_eq!(
            decide(
                on("arn:aws:neptune-db:*:*:*/*"),
                Action::ReadDataViaQuery,
                &[]
            ),
            Decision::Allow
        );
        assert_eq!(
            decide(
                on("arn:aws:neptune-db:eu-west-1:*:*"),
                Action::ReadDataViaQuery,
                &[]
            ),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn conditions_gate_statements() {
        let policy = json!({"Statement": [
            {"Effect": "Allow", "Action": "neptune-db:*", "Resource": "*",
             "Condition": {"StringEquals": {"neptune-db:QueryLanguage": "OpenCypher"}, "Bool": {"aws:SecureTransport": "true"}}}]});
        let tls_cypher = [
            ("neptune-db:QueryLanguage", "OpenCypher"),
            ("aws:SecureTransport", "true"),
        ];
        let plain_cypher = [
            ("neptune-db:QueryLanguage", "OpenCypher"),
            ("aws:SecureTransport", "false"),
        ];
        let tls_other = [("aws:SecureTransport", "true")];
        assert_eq!(
            decide(policy.clone(), Action::ReadDataViaQuery, &tls_cypher),
            Decision::Allow
        );
        assert_eq!(
            decide(policy.clone(), Action::ReadDataViaQuery, &plain_cypher),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide(policy, Action::GetEngineStatus, &tls_other),
            Decision::ImplicitDeny
        );
        let deny_plain = json!({"Statement": [
            {"Effect": "Allow", "Action": "neptune-db:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
        assert_eq!(
            decide(deny_plain.clone(), Action::GetEngineStatus, &plain_cypher),
            Decision::ExplicitDeny
        );
        assert_eq!(
            decide(deny_plain, Action::GetEngineStatus, &tls_other),
            Decision::Allow
        );
    }

    #[test]
    fn empty_policy_denies_everything() {
        assert_eq!(
            decide(json!({"Statement": []}), Action::ReadDataViaQuery, &[]),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn string_encoded_policies_are_accepted() {
        let text = json!(
            "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"neptune-db:*\",\"Resource\":\"*\"}}"
        );
        assert_eq!(decide(text, Action::ReadDataViaQuery, &[]), Decision::Allow);
    }

    #[test]
    fn malformed_policies_are_rejected() {
        for bad in [
            json!([]),
            json!({"Statement": [{"Effect": "allow", "Action": "neptune-db:*", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "neptune-db:*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "ReadDataViaQuery", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "neptune-db:*", "NotAction": "x:y", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": [], "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "neptune-db:*", "Resource": "*", "Principal": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "neptune-db:*", "Resource": "*", "Condtion": {}}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "neptune-db:*", "Resource": "*", "Condition": {"Foo": {"k": "v"}}}]}),
            json!({"Version": "2020-01-01", "Statement": []}),
            json!({"Statements": []}),
            json!("not json"),
        ] {
            assert!(Policy::from_value(&bad).is_err(), "{bad}");
        }
    }
}
