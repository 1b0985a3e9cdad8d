//! End to end: a request signed by AWS's signer is verified, then authorized against the
//! signer's policy — the checks issue 6 asks of `--auth iam` (read-only policies, a
//! status-only policy, Deny over Allow, conditions on query language and TLS).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use nereid_sigv4::{
    verify, Action, AuthError, Decision, IamConfig, Principal, QueryLanguage, RequestContext,
    RequestParts,
};
use serde_json::{json, Value};

const AT: u64 = 1_795_644_626;

fn at() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(AT)
}

/// Signs `POST /opencypher` for `key` and verifies it against `config`.
fn principal(config: &IamConfig, key: &str) -> Result<Principal, AuthError> {
    let identity: Identity = Credentials::new(key, "secret", None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("neptune-db")
        .time(at())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let body = br#"{"query": "MATCH (n) RETURN n"}"#;
    let headers = [
        ("host", "127.0.0.1:8182"),
        ("content-type", "application/json"),
    ];
    let uri = "http://127.0.0.1:8182/opencypher";
    let signable =
        SignableRequest::new("POST", uri, headers.into_iter(), SignableBody::Bytes(body)).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut wire: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    wire.extend(
        instructions
            .headers()
            .map(|(n, v)| (n.to_string(), v.to_string())),
    );
    let refs: Vec<(&str, &[u8])> = wire
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .collect();
    let parts = RequestParts {
        method: "POST",
        path: "/opencypher",
        query: None,
        headers: &refs,
        body,
    };
    verify(config, &parts, at())
}

fn config(policies: &[(&str, Value)]) -> IamConfig {
    let users: Vec<Value> = policies
        .iter()
        .map(|(name, policy)| json!({"name": name, "accessKeyId": format!("AKID{name}"), "secretAccessKey": "secret", "policy": policy}))
        .collect();
    IamConfig::from_json(
        &json!({"accountId": "123456789012", "clusterResourceId": "cluster-TEST", "users": users})
            .to_string(),
    )
    .unwrap()
}

fn ctx(secure: bool) -> RequestContext {
    RequestContext::opencypher(secure, at())
}

#[test]
fn read_only_policy_reads_and_lists_but_cannot_write_or_delete() {
    let read_only = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": ["neptune-db:Read*", "neptune-db:Get*", "neptune-db:List*"], "Resource": "*"}]});
    let config = config(&[("reader", read_only)]);
    let p = principal(&config, "AKIDreader").unwrap();
    assert!(p
        .authorize(&config, Action::for_query(false, false), &ctx(false))
        .is_ok());
    assert!(p
        .authorize(&config, &[Action::GetQueryStatus], &ctx(false))
        .is_ok());
    assert!(p
        .authorize(&config, &[Action::GetEngineStatus], &ctx(false))
        .is_ok());
    let err = p
        .authorize(&config, Action::for_query(true, false), &ctx(false))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "User: arn:aws:iam::123456789012:user/reader is not authorized to perform: neptune-db:WriteDataViaQuery \
         on resource: arn:aws:neptune-db:us-east-1:123456789012:cluster-TEST/* because no identity-based policy allows the action"
    );
    let err = p
        .authorize(&config, Action::for_query(false, true), &ctx(false))
        .unwrap_err();
    assert!(
        err.to_string().contains("neptune-db:DeleteDataViaQuery"),
        "{err}"
    );
    let coded: nereid_common::Error = err.into();
    assert_eq!(coded.code.info().neptune, "AccessDeniedException");
    assert_eq!(coded.code.info().http_status, 403);
}

#[test]
fn status_only_policy_can_list_but_not_cancel() {
    let config = config(&[(
        "watcher",
        json!({"Statement": {"Effect": "Allow", "Action": "neptune-db:GetQueryStatus", "Resource": "*"}}),
    )]);
    let p = principal(&config, "AKIDwatcher").unwrap();
    assert!(p
        .authorize(&config, &[Action::GetQueryStatus], &ctx(false))
        .is_ok());
    assert!(p
        .authorize(&config, &[Action::CancelQuery], &ctx(false))
        .is_err());
    assert!(p
        .authorize(&config, Action::for_query(false, false), &ctx(false))
        .is_err());
}

#[test]
fn deny_overrides_allow_and_says_so() {
    let policy = json!({"Statement": [
        {"Effect": "Allow", "Action": "neptune-db:*", "Resource": "*"},
        {"Effect": "Deny", "Action": ["neptune-db:DeleteDataViaQuery", "neptune-db:ResetDatabase"], "Resource": "*"}]});
    let config = config(&[("almost", policy)]);
    let p = principal(&config, "AKIDalmost").unwrap();
    assert!(p
        .authorize(&config, Action::for_query(true, false), &ctx(false))
        .is_ok());
    let err = p
        .authorize(&config, Action::for_query(true, true), &ctx(false))
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("with an explicit deny in an identity-based policy"),
        "{err}"
    );
    assert_eq!(
        p.decide(&config, Action::ResetDatabase, &ctx(false)),
        Decision::ExplicitDeny
    );
}

#[test]
fn conditions_on_query_language_and_secure_transport() {
    let policy = json!({"Statement": [
        {"Effect": "Allow", "Action": "neptune-db:*Data*", "Resource": "arn:aws:neptune-db:us-east-1:123456789012:cluster-TEST/*",
         "Condition": {"StringEquals": {"neptune-db:QueryLanguage": "OpenCypher"}}},
        {"Effect": "Allow", "Action": "neptune-db:GetEngineStatus", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
    let config = config(&[("cypher", policy)]);
    let p = principal(&config, "AKIDcypher").unwrap();
    assert!(p
        .authorize(&config, Action::for_query(true, true), &ctx(true))
        .is_ok());
    assert!(p
        .authorize(&config, &[Action::GetEngineStatus], &ctx(true))
        .is_ok());
    // Plain HTTP: the Deny applies to everything.
    assert!(p
        .authorize(&config, &[Action::GetEngineStatus], &ctx(false))
        .is_err());
    // A Gremlin request would not match the query-language condition.
    let gremlin = RequestContext {
        query_language: Some(QueryLanguage::Gremlin),
        ..ctx(true)
    };
    assert!(p
        .authorize(&config, &[Action::ReadDataViaQuery], &gremlin)
        .is_err());
}

#[test]
fn resource_arn_uses_the_configured_account_and_cluster() {
    let other_cluster = json!({"Statement": {"Effect": "Allow", "Action": "neptune-db:*",
        "Resource": "arn:aws:neptune-db:us-east-1:123456789012:cluster-OTHER/*"}});
    let config = config(&[("elsewhere", other_cluster)]);
    let p = principal(&config, "AKIDelsewhere").unwrap();
    assert_eq!(
        p.resource_arn(&config),
        "arn:aws:neptune-db:us-east-1:123456789012:cluster-TEST/*"
    );
    assert!(p
        .authorize(&config, &[Action::ReadDataViaQuery], &ctx(true))
        .is_err());
}

#[test]
fn legacy_connect_allows_every_action() {
    let config = config(&[(
        "old",
        json!({"Statement": {"Effect": "Allow", "Action": "neptune-db:connect", "Resource": "*"}}),
    )]);
    let p = principal(&config, "AKIDold").unwrap();
    assert!(p.authorize(&config, Action::ALL, &ctx(false)).is_ok());
}

#[test]
fn a_principal_is_owned_and_judged_by_the_config_it_is_given() {
    fn extension_safe<T: Clone + Send + Sync + 'static>(_: &T) {}
    let allow_all =
        json!({"Statement": {"Effect": "Allow", "Action": "neptune-db:*", "Resource": "*"}});
    let before = config(&[("app", allow_all)]);
    let p = principal(&before, "AKIDapp").unwrap();
    extension_safe(&p);
    assert_eq!(
        (p.name(), p.access_key_id(), p.region()),
        ("app", "AKIDapp", "us-east-1")
    );
    assert!(p
        .authorize(&before, &[Action::ResetDatabase], &ctx(true))
        .is_ok());
    // After a reload the new policy applies, and a removed key is refused.
    let reloaded = config(&[("app", json!({"Statement": []}))]);
    assert!(p
        .authorize(&reloaded, &[Action::ResetDatabase], &ctx(true))
        .is_err());
    let removed = config(&[("other", json!({"Statement": []}))]);
    assert!(p
        .authorize(&removed, &[Action::GetEngineStatus], &ctx(true))
        .is_err());
}
