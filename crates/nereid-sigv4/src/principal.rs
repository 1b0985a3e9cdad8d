//! The verified caller and authorization of its requests against its policy.

use std::net::IpAddr;
use std::time::SystemTime;

use crate::config::{IamConfig, User};
use crate::error::AuthError;
use crate::policy::action::{Action, QueryLanguage};
use crate::policy::Decision;
use crate::time::{epoch_seconds, format_iso8601};

/// Facts about a request that policy conditions can test, supplied by the server.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext {
    /// `neptune-db:QueryLanguage` — present only for the query actions
    /// ([`Action::has_query_language_key`]); `Some(OpenCypher)` for openCypher requests.
    pub query_language: Option<QueryLanguage>,
    /// `aws:SecureTransport`: whether the request came over TLS.
    pub secure_transport: bool,
    /// `aws:SourceIp`: the peer address, if known.
    pub source_ip: Option<IpAddr>,
    /// `aws:CurrentTime` / `aws:EpochTime`.
    pub now: SystemTime,
}

impl RequestContext {
    /// An openCypher request at `now`.
    pub fn opencypher(secure_transport: bool, now: SystemTime) -> RequestContext {
        RequestContext {
            query_language: Some(QueryLanguage::OpenCypher),
            secure_transport,
            source_ip: None,
            now,
        }
    }
}

/// A caller whose signature has been verified: owned and `'static`, so a middleware can put
/// it in the request's extensions and the handler can authorize once it knows the actions
/// (for a query, after parsing). Authorization looks the user up again by access key in the
/// config it is given, so a principal outliving a config reload is judged by the new policy
/// (and refused if its key was removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    access_key_id: String,
    name: String,
    region: String,
}

impl Principal {
    pub(crate) fn new(user: &User, region: String) -> Self {
        Principal {
            access_key_id: user.access_key_id().to_string(),
            name: user.name().to_string(),
            region,
        }
    }

    /// The user's name from the config.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The access key id that signed the request.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The region of the request's credential scope.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// `arn:aws:iam::<account>:user/<name>`.
    pub fn arn(&self, config: &IamConfig) -> String {
        format!("arn:aws:iam::{}:user/{}", config.account_id(), self.name)
    }

    /// The resource ARN the request acts on (see [`IamConfig::resource_arn`]).
    pub fn resource_arn(&self, config: &IamConfig) -> String {
        config.resource_arn(&self.region)
    }

    /// The policy decision for one action; an implicit deny if the key is no longer in
    /// `config`.
    pub fn decide(&self, config: &IamConfig, action: Action, ctx: &RequestContext) -> Decision {
        let Some(user) = config.user_by_access_key(&self.access_key_id) else {
            return Decision::ImplicitDeny;
        };
        let arn = self.arn(config);
        let secure = if ctx.secure_transport {
            "true"
        } else {
            "false"
        };
        let epoch = epoch_seconds(ctx.now);
        let epoch_text = epoch.to_string();
        let current_time = format_iso8601(epoch);
        let source_ip = ctx.source_ip.map(|ip| ip.to_string());
        let language = ctx
            .query_language
            .filter(|_| action.has_query_language_key())
            .map(QueryLanguage::as_str);
        let mut context: Vec<(&str, &str)> = vec![
            ("aws:SecureTransport", secure),
            ("aws:CurrentTime", &current_time),
            ("aws:EpochTime", &epoch_text),
            ("aws:RequestedRegion", &self.region),
            ("aws:PrincipalArn", &arn),
            ("aws:PrincipalAccount", config.account_id()),
            ("aws:PrincipalType", "User"),
            ("aws:username", user.name()),
        ];
        if let Some(language) = language {
            context.push(("neptune-db:QueryLanguage", language));
        }
        if let Some(ip) = &source_ip {
            context.push(("aws:SourceIp", ip));
        }
        user.policy()
            .decide(action, &self.resource_arn(config), &context)
    }

    /// Checks that the policy allows every one of `actions` (a query needs all the actions
    /// its clauses could perform). The first one not allowed is named in the error, with the
    /// reason AWS gives (explicit deny, or no allowing statement).
    pub fn authorize(
        &self,
        config: &IamConfig,
        actions: &[Action],
        ctx: &RequestContext,
    ) -> Result<(), AuthError> {
        for &action in actions {
            let reason = match self.decide(config, action, ctx) {
                Decision::Allow => continue,
                Decision::ExplicitDeny => "with an explicit deny in an identity-based policy",
                Decision::ImplicitDeny => "because no identity-based policy allows the action",
            };
            return Err(AuthError::NotAuthorized {
                principal: self.arn(config),
                action: action.to_string(),
                resource: self.resource_arn(config),
                reason,
            });
        }
        Ok(())
    }
}
