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

/// A caller whose signature has been verified.
#[derive(Debug, Clone)]
pub struct Principal<'c> {
    config: &'c IamConfig,
    user: &'c User,
    region: String,
}

impl<'c> Principal<'c> {
    pub(crate) fn new(config: &'c IamConfig, user: &'c User, region: String) -> Self {
        Principal {
            config,
            user,
            region,
        }
    }

    pub fn user(&self) -> &'c User {
        self.user
    }

    /// The user's name from the config.
    pub fn name(&self) -> &'c str {
        self.user.name()
    }

    /// `arn:aws:iam::<account>:user/<name>`.
    pub fn arn(&self) -> String {
        self.config.user_arn(self.user)
    }

    /// The region of the request's credential scope.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The resource ARN the request acts on (see [`IamConfig::resource_arn`]).
    pub fn resource_arn(&self) -> String {
        self.config.resource_arn(&self.region)
    }

    /// The policy decision for one action.
    pub fn decide(&self, action: Action, ctx: &RequestContext) -> Decision {
        let arn = self.arn();
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
            ("aws:PrincipalAccount", self.config.account_id()),
            ("aws:PrincipalType", "User"),
            ("aws:username", self.user.name()),
        ];
        if let Some(language) = language {
            context.push(("neptune-db:QueryLanguage", language));
        }
        if let Some(ip) = &source_ip {
            context.push(("aws:SourceIp", ip));
        }
        self.user
            .policy()
            .decide(action, &self.resource_arn(), &context)
    }

    /// Checks that the policy allows every one of `actions` (a query needs all the actions
    /// its clauses could perform). The first one not allowed is named in the error, with the
    /// reason AWS gives (explicit deny, or no allowing statement).
    pub fn authorize(&self, actions: &[Action], ctx: &RequestContext) -> Result<(), AuthError> {
        for &action in actions {
            let reason = match self.decide(action, ctx) {
                Decision::Allow => continue,
                Decision::ExplicitDeny => "with an explicit deny in an identity-based policy",
                Decision::ImplicitDeny => "because no identity-based policy allows the action",
            };
            return Err(AuthError::NotAuthorized {
                principal: self.arn(),
                action: action.to_string(),
                resource: self.resource_arn(),
                reason,
            });
        }
        Ok(())
    }
}
