//! The `neptune-db:` data-plane actions (SPEC 6.1) and which of them a request needs. The
//! HTTP layer picks the action of each operation; a query needs the union of the actions its
//! clauses could perform (SPEC 6.3), decided before it runs.

use std::fmt;

/// The IAM service prefix of every data-plane action.
pub const SERVICE_PREFIX: &str = "neptune-db";

macro_rules! actions {
    ($($(#[$doc:meta])* $variant:ident),* $(,)?) => {
        /// One `neptune-db:` action. [`Action::name`] is the exact IAM spelling.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $($(#[$doc])* $variant,)*
        }

        impl Action {
            /// Every action, in declaration order.
            pub const ALL: &'static [Action] = &[$(Action::$variant),*];

            /// The action name without the service prefix, e.g. `ReadDataViaQuery`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => stringify!($variant),)*
                }
            }

            /// The action from its name (no prefix), compared case-insensitively as IAM does.
            pub fn from_name(name: &str) -> Option<Action> {
                Self::ALL.iter().copied().find(|a| a.name().eq_ignore_ascii_case(name))
            }
        }
    };
}

actions! {
    /// Any query step that reads (every openCypher query).
    ReadDataViaQuery,
    /// A query step that creates or updates (CREATE, MERGE, SET).
    WriteDataViaQuery,
    /// A query step that removes (DELETE, DETACH DELETE, REMOVE).
    DeleteDataViaQuery,
    /// GetOpenCypherQueryStatus, ListOpenCypherQueries (and the Gremlin equivalents).
    GetQueryStatus,
    /// CancelOpenCypherQuery, CancelGremlinQuery.
    CancelQuery,
    /// GetEngineStatus.
    GetEngineStatus,
    /// GetPropertygraphSummary, GetRDFGraphSummary.
    GetGraphSummary,
    /// GetPropertygraphStatistics.
    GetStatisticsStatus,
    /// ManagePropertygraphStatistics, ManageSparqlStatistics.
    ManageStatistics,
    /// DeletePropertygraphStatistics, DeleteSparqlStatistics.
    DeleteStatistics,
    /// ExecuteFastReset.
    ResetDatabase,
    /// StartLoaderJob.
    StartLoaderJob,
    /// GetLoaderJobStatus.
    GetLoaderJobStatus,
    /// ListLoaderJobs.
    ListLoaderJobs,
    /// CancelLoaderJob.
    CancelLoaderJob,
    /// GetPropertygraphStream, GetSparqlStream.
    GetStreamRecords,
    /// StartIndexRebuild.
    StartIndexRebuild,
    /// CancelIndexRebuild.
    CancelIndexRebuild,
    /// GetIndexRebuildStatus.
    GetIndexRebuildStatus,
    /// ListIndexRebuilds.
    ListIndexRebuilds,
    /// GetStorageInfo.
    GetStorageInfo,
    /// StartMLModelDataProcessingJob (spelled as AWS spells it).
    StartMLModelDataProcessingJob,
    /// StartMLModelTrainingJob.
    StartMLModelTrainingJob,
    /// StartMLModelTransformJob.
    StartMLModelTransformJob,
    /// CreateMLEndpoint.
    CreateMLEndpoint,
    /// DeleteMLEndpoint.
    DeleteMLEndpoint,
    /// GetMLDataProcessingJobStatus.
    GetMLDataProcessingJobStatus,
    /// GetMLModelTrainingJobStatus.
    GetMLModelTrainingJobStatus,
    /// GetMLModelTransformJobStatus.
    GetMLModelTransformJobStatus,
    /// GetMLEndpointStatus.
    GetMLEndpointStatus,
    /// ListMLDataProcessingJobs.
    ListMLDataProcessingJobs,
    /// ListMLModelTrainingJobs.
    ListMLModelTrainingJobs,
    /// ListMLModelTransformJobs.
    ListMLModelTransformJobs,
    /// ListMLEndpoints.
    ListMLEndpoints,
    /// CancelMLDataProcessingJob.
    CancelMLDataProcessingJob,
    /// CancelMLModelTrainingJob.
    CancelMLModelTrainingJob,
    /// CancelMLModelTransformJob.
    CancelMLModelTransformJob,
}

impl Action {
    /// The full IAM action string, e.g. `neptune-db:ReadDataViaQuery`.
    pub fn iam_name(self) -> String {
        format!("{SERVICE_PREFIX}:{}", self.name())
    }

    /// Whether the `neptune-db:QueryLanguage` condition key is part of this action's request
    /// context (SPEC 6.2). For other actions the key is absent, so a policy that conditions
    /// on it does not match them — as on Neptune.
    pub fn has_query_language_key(self) -> bool {
        matches!(
            self,
            Action::ReadDataViaQuery
                | Action::WriteDataViaQuery
                | Action::DeleteDataViaQuery
                | Action::GetQueryStatus
                | Action::GetStreamRecords
        )
    }

    /// The actions a query needs (SPEC 6.3): reading always; writing when it has CREATE,
    /// MERGE or SET; deleting when it has DELETE, DETACH DELETE or REMOVE.
    pub fn for_query(writes: bool, deletes: bool) -> &'static [Action] {
        match (writes, deletes) {
            (false, false) => &[Action::ReadDataViaQuery],
            (true, false) => &[Action::ReadDataViaQuery, Action::WriteDataViaQuery],
            (false, true) => &[Action::ReadDataViaQuery, Action::DeleteDataViaQuery],
            (true, true) => &[
                Action::ReadDataViaQuery,
                Action::WriteDataViaQuery,
                Action::DeleteDataViaQuery,
            ],
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SERVICE_PREFIX}:{}", self.name())
    }
}

/// The value of the `neptune-db:QueryLanguage` condition key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryLanguage {
    OpenCypher,
    Gremlin,
    Sparql,
}

impl QueryLanguage {
    /// The key's value as IAM sees it (`OpenCypher`, `Gremlin`, `Sparql`).
    pub fn as_str(self) -> &'static str {
        match self {
            QueryLanguage::OpenCypher => "OpenCypher",
            QueryLanguage::Gremlin => "Gremlin",
            QueryLanguage::Sparql => "Sparql",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_are_the_iam_spelling() {
        assert_eq!(
            Action::ReadDataViaQuery.to_string(),
            "neptune-db:ReadDataViaQuery"
        );
        assert_eq!(
            Action::from_name("getquerystatus"),
            Some(Action::GetQueryStatus)
        );
        assert_eq!(Action::from_name("connect"), None);
        assert!(Action::ALL.len() > 30);
    }

    #[test]
    fn queries_need_the_union_of_their_clause_actions() {
        assert_eq!(Action::for_query(false, false), &[Action::ReadDataViaQuery]);
        assert!(Action::for_query(true, true).contains(&Action::DeleteDataViaQuery));
        assert!(Action::for_query(true, false).contains(&Action::ReadDataViaQuery));
    }
}
