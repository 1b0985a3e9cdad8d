//! Routing: method + path → handler, for every route of SPEC 2 and 4 that this server serves.
//!
//! | path (openCypher family case-insensitive) | methods | what | IAM action (`--auth iam`) |
//! |---|---|---|---|
//! | `/opencypher` | GET, POST | run a query (JSON, form, query string, `application/opencypher`) | `ReadDataViaQuery` (+ `Write…`/`Delete…` by clause) |
//! | `/opencypher/status` | GET, POST, DELETE | list, or status/cancel with `queryId`/`cancelQuery`/`silent`/`includeWaiting` | `GetQueryStatus`; `CancelQuery` |
//! | `/opencypher/status/{queryId}` | GET, DELETE | status; cancel with `?silent=` | `GetQueryStatus`; `CancelQuery` |
//! | `/opencypher/explain` (and `explain=` on `/opencypher`) | GET, POST | Neptune's explain table (text, or HTML when `Accept` prefers it) | `ReadDataViaQuery` |
//! | `/status` | GET | engine status | `GetEngineStatus` |
//! | `/propertygraph/statistics/summary`, `/pg/statistics/summary` | GET | graph summary, `mode=basic\|detailed` | `GetGraphSummary` |
//! | `/propertygraph/statistics`, `/pg/statistics` | GET, POST, DELETE | statistics status, manage (`mode`), delete | `GetStatisticsStatus`; `ManageStatistics`; `DeleteStatistics` |
//! | `/system` | POST | fast reset (`action`, `token`) | `ResetDatabase` |
//! | `/loader` | POST, GET, DELETE | start a load; status with `loadId`, else list; cancel with `loadId` | `StartLoaderJob`; `GetLoaderJobStatus` / `ListLoaderJobs`; `CancelLoaderJob` |
//! | `/loader/{loadId}` | GET, DELETE | load status (`details`, `errors`, `page`, `errorsPerPage`); cancel | `GetLoaderJobStatus`; `CancelLoaderJob` |
//! | `/sparql` | GET, POST | the answer of an empty RDF graph (tools probe it; see [`crate::sparql`]) | `ReadDataViaQuery` |
//! | `/propertygraph/stream`, `/pg/stream` (and the deprecated `/gremlin/stream`) | GET | change-stream records (`limit`, `iteratorType`, `commitNum`, `opNum`; see [`crate::streams`]) | `GetStreamRecords` |
//! | `/metrics` | GET | Prometheus text format ([`crate::metrics`]) | `GetEngineStatus` |
//! | `/`, `/console`, `/assets/…` | GET | the web console's static files ([`crate::console`]) | none: no data, and a browser cannot sign a navigation |
//!
//! Order of checks: body size, signature (so nothing about routes leaks to unsigned callers),
//! route and method, decoding, the operation's actions, then the operation.
//!
//! Anything else is `BadRequestException` (unknown route) and a known route with another
//! method is `MethodNotAllowedException` (405). Every answer carries `x-amzn-RequestId`; for
//! a query the request id is also its `queryId`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use nereid_common::{Error, ErrorCode};
use nereid_engine::admin::Admin;
use nereid_engine::manager::{Completion, Protocol, QueryRunner, QueryStatus};
use nereid_engine::{ExplainMode, QueryResult};
use nereid_sigv4::Action;
use tokio::sync::oneshot;

use crate::auth::{self, Caller, Peer};
use crate::request::{self, BodyKind, Fields, StatusRequest};
use crate::response::{error_response, json_response, json_value_response, results_json};
use crate::sparql;
use crate::system::SystemAction;
use crate::{admin, console, engine_status, explain, system, App};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Query,
    Explain,
    StatusList,
    StatusOne(String),
    EngineStatus,
    Summary,
    Statistics,
    System,
    Loader,
    LoaderOne(String),
    Sparql,
    Metrics,
    /// The change stream; `true` for the deprecated `/gremlin/stream` (format
    /// `GREMLIN_JSON`, same records).
    Stream(bool),
}

/// The single axum handler: routes, runs, and turns every error into the coded envelope.
pub async fn dispatch<R: QueryRunner>(State(app): State<Arc<App<R>>>, req: Request) -> Response {
    if let Some(page) = console::serve(req.method(), req.uri().path()) {
        return page;
    }
    let request_id = crate::ids::random_id();
    match handle(&app, req, &request_id).await {
        Ok(response) => response,
        Err(error) => error_response(&error, &request_id),
    }
}

async fn handle<R: QueryRunner>(
    app: &App<R>,
    req: Request,
    request_id: &str,
) -> Result<Response, Error> {
    let (parts, body) = req.into_parts();
    // The body is read once: SigV4 hashes these exact bytes and the decoders parse them.
    let body = read_body(&parts, body, app.config.body_limit).await?;
    let caller = match &app.config.iam {
        None => None,
        Some(iam) => {
            let peer = parts
                .extensions
                .get::<ConnectInfo<Peer>>()
                .map(|info| info.0);
            Some(auth::authenticate(
                iam,
                &parts,
                &body,
                app.config.secure_transport,
                peer,
            )?)
        }
    };
    let caller = caller.as_ref();
    let method = parts.method.clone();
    let path = parts.uri.path().to_owned();
    let route = route(&path)?.ok_or_else(|| {
        Error::new(
            ErrorCode::UnknownRoute,
            format!("Unknown route: {method} {path}"),
        )
    })?;
    let allowed: &[Method] = match route {
        Route::Query | Route::Explain => &[Method::GET, Method::POST],
        Route::StatusList => &[Method::GET, Method::POST, Method::DELETE],
        Route::StatusOne(_) => &[Method::GET, Method::DELETE],
        Route::EngineStatus | Route::Summary | Route::Metrics => &[Method::GET],
        Route::Statistics => &[Method::GET, Method::POST, Method::DELETE],
        Route::System => &[Method::POST],
        Route::Loader => &[Method::GET, Method::POST, Method::DELETE],
        Route::LoaderOne(_) => &[Method::GET, Method::DELETE],
        Route::Sparql => &[Method::GET, Method::POST],
        Route::Stream(_) => &[Method::GET],
    };
    if !allowed.contains(&method) {
        return Err(Error::new(
            ErrorCode::MethodNotAllowed,
            format!("Method {method} is not allowed on {path}"),
        ));
    }
    // A SPARQL body may be `application/sparql-query`, which no other route takes.
    let fields = match route {
        Route::Sparql => Fields::default(),
        _ => decode_fields(&parts, &body)?,
    };
    match route {
        Route::Query | Route::Explain => {
            if route == Route::Explain || fields.contains("explain") {
                auth::require(caller, &[Action::ReadDataViaQuery])?;
                let accept = parts
                    .headers
                    .get(header::ACCEPT)
                    .and_then(|v| v.to_str().ok());
                let html = explain::prefers_html(accept);
                return run_explain(app, &fields, html, request_id).await;
            }
            let query = request::query_request(&fields)?;
            check_query_size(app, &query)?;
            run_query(app, query, caller.cloned(), request_id).await
        }
        Route::Summary => {
            auth::require(caller, &[Action::GetGraphSummary])?;
            let detailed = admin::summary_mode(&fields)?;
            let report = admin_of(app)?.summary()?;
            Ok(json_value_response(
                &admin::summary_json(&report, detailed),
                request_id,
            ))
        }
        Route::Statistics => answer_statistics(app, &method, &fields, caller, request_id),
        Route::System => {
            auth::require(caller, &[Action::ResetDatabase])?;
            answer_system(app, &fields, request_id).await
        }
        Route::Sparql => {
            auth::require(caller, &[Action::ReadDataViaQuery])?;
            let content_type = parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok());
            let query = sparql::query_text(parts.uri.query(), content_type, &body)?;
            Ok(json_value_response(
                &sparql::empty_answer(&query)?,
                request_id,
            ))
        }
        Route::Loader | Route::LoaderOne(_) => {
            answer_loader(app, &method, route, &fields, caller, request_id).await
        }
        Route::Stream(gremlin) => {
            auth::require(caller, &[Action::GetStreamRecords])?;
            let format = if gremlin { "GREMLIN_JSON" } else { "PG_JSON" };
            crate::streams::answer(
                app.config.streams.as_ref(),
                &parts.headers,
                &fields,
                format,
                request_id,
            )
            .await
        }
        Route::StatusList => {
            let status = request::status_request(&fields, method == Method::DELETE)?;
            auth::require(caller, status_action(&status))?;
            answer_status(app, status, request_id)
        }
        Route::StatusOne(query_id) => {
            let status = if method == Method::DELETE {
                StatusRequest::Cancel {
                    query_id,
                    silent: fields.boolean("silent")?.unwrap_or(false),
                }
            } else {
                StatusRequest::Status { query_id }
            };
            auth::require(caller, status_action(&status))?;
            answer_status(app, status, request_id)
        }
        Route::Metrics => {
            auth::require(caller, &[Action::GetEngineStatus])?;
            let text = app
                .metrics
                .render(app.manager.load(), app.manager.runner().admin());
            let mut response = (StatusCode::OK, text).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
            );
            Ok(response)
        }
        Route::EngineStatus => {
            auth::require(caller, &[Action::GetEngineStatus])?;
            Ok(json_value_response(
                &engine_status::engine_status(
                    app.started,
                    app.manager.config().query_timeout_ms,
                    app.manager.runner().admin().map(|a| a.dialect().as_str()),
                ),
                request_id,
            ))
        }
    }
}

fn check_query_size<R: QueryRunner>(
    app: &App<R>,
    query: &request::QueryRequest,
) -> Result<(), Error> {
    if query.query.len() > app.config.max_query_bytes {
        return Err(Error::new(
            ErrorCode::QueryTooLarge,
            format!(
                "Query text of {} bytes exceeds the limit of {} bytes",
                query.query.len(),
                app.config.max_query_bytes
            ),
        ));
    }
    Ok(())
}

fn admin_of<R: QueryRunner>(app: &App<R>) -> Result<&dyn Admin, Error> {
    app.manager.runner().admin().ok_or_else(|| {
        Error::new(
            ErrorCode::UnsupportedOperation,
            "this server does not offer statistics, the summary or fast reset",
        )
    })
}

/// GET (status), POST (manage) and DELETE on `/propertygraph/statistics`.
fn answer_statistics<R: QueryRunner>(
    app: &App<R>,
    method: &Method,
    fields: &Fields,
    caller: Option<&Caller>,
    request_id: &str,
) -> Result<Response, Error> {
    if *method == Method::GET {
        auth::require(caller, &[Action::GetStatisticsStatus])?;
        let status = admin_of(app)?.statistics_status();
        return Ok(json_value_response(
            &admin::statistics_json(&status),
            request_id,
        ));
    }
    if *method == Method::POST {
        auth::require(caller, &[Action::ManageStatistics])?;
        let mode = admin::manage_mode(fields)?;
        let id = admin_of(app)?.manage_statistics(mode)?;
        return Ok(json_value_response(&admin::manage_json(id), request_id));
    }
    auth::require(caller, &[Action::DeleteStatistics])?;
    if admin_of(app)?.delete_statistics()? {
        Ok(json_value_response(&admin::deleted_json(), request_id))
    } else {
        // Neptune: nothing to delete is 204 with an empty body.
        let mut response = StatusCode::NO_CONTENT.into_response();
        if let Ok(id) = HeaderValue::from_str(request_id) {
            response.headers_mut().insert("x-amzn-RequestId", id);
        }
        Ok(response)
    }
}

/// `POST /system`: fast reset's two steps.
async fn answer_system<R: QueryRunner>(
    app: &App<R>,
    fields: &Fields,
    request_id: &str,
) -> Result<Response, Error> {
    admin_of(app)?;
    match system::system_action(fields)? {
        SystemAction::Initiate => {
            let token = app.reset_tokens.issue();
            Ok(json_value_response(
                &serde_json::json!({"status": "200 OK", "payload": {"token": token}}),
                request_id,
            ))
        }
        SystemAction::Perform { token } => {
            app.reset_tokens
                .redeem(&token, app.config.reset_token_ttl)?;
            let manager = app.manager.clone();
            // Stopping queries, the logged reset and its checkpoints block: not on the reactor.
            tokio::task::spawn_blocking(move || manager.fast_reset())
                .await
                .map_err(|e| Error::internal(format!("the reset failed: {e}")))??;
            Ok(json_value_response(
                &serde_json::json!({"status": "200 OK"}),
                request_id,
            ))
        }
    }
}

/// `/loader` and `/loader/{loadId}`: start (POST), status or list (GET), cancel (DELETE).
async fn answer_loader<R: QueryRunner>(
    app: &App<R>,
    method: &Method,
    route: Route,
    fields: &Fields,
    caller: Option<&Caller>,
    request_id: &str,
) -> Result<Response, Error> {
    let loader = app.config.loader.clone();
    let loader = || {
        loader
            .clone()
            .ok_or_else(|| Error::new(ErrorCode::BadRequest, "this server has no bulk loader"))
    };
    let load_id = match route {
        Route::LoaderOne(id) => Some(id),
        _ => fields.text("loadId")?,
    };
    let body = if *method == Method::POST {
        auth::require(caller, &[Action::StartLoaderJob])?;
        let start = crate::loader::start_request(fields)?;
        let l = loader()?;
        // Validation touches the file system (canonicalize): off the reactor.
        let id = tokio::task::spawn_blocking(move || l.start(start))
            .await
            .map_err(|e| Error::internal(format!("the load request failed: {e}")))??;
        serde_json::json!({"status": "200 OK", "payload": {"loadId": id}})
    } else if *method == Method::DELETE {
        auth::require(caller, &[Action::CancelLoaderJob])?;
        let id = load_id.ok_or_else(|| {
            Error::new(
                ErrorCode::MissingParameter,
                "Missing required parameters: [loadId]",
            )
        })?;
        loader()?.cancel(&id)?;
        serde_json::json!({"status": "200 OK"})
    } else if let Some(id) = load_id {
        auth::require(caller, &[Action::GetLoaderJobStatus])?;
        crate::loader::status(&*loader()?, &id, fields)?
    } else {
        auth::require(caller, &[Action::ListLoaderJobs])?;
        crate::loader::list(&*loader()?, fields)?
    };
    Ok(json_value_response(&body, request_id))
}

/// The IAM action a status request needs (SPEC 6.1).
fn status_action(status: &StatusRequest) -> &'static [Action] {
    match status {
        StatusRequest::List { .. } | StatusRequest::Status { .. } => &[Action::GetQueryStatus],
        StatusRequest::Cancel { .. } => &[Action::CancelQuery],
    }
}

/// Matches a path. The openCypher family and `/status` match in any letter case; the query id
/// segment keeps its case and is percent-decoded. One trailing slash is ignored.
fn route(path: &str) -> Result<Option<Route>, Error> {
    let trimmed = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    let segments: Vec<&str> = trimmed.trim_start_matches('/').split('/').collect();
    let is = |i: usize, name: &str| {
        segments
            .get(i)
            .is_some_and(|s| s.eq_ignore_ascii_case(name))
    };
    let graph = |i: usize| is(i, "propertygraph") || is(i, "pg");
    let route = match segments.len() {
        1 if is(0, "opencypher") => Some(Route::Query),
        1 if is(0, "status") => Some(Route::EngineStatus),
        1 if is(0, "system") => Some(Route::System),
        1 if is(0, "loader") => Some(Route::Loader),
        1 if is(0, "sparql") => Some(Route::Sparql),
        2 if is(0, "loader") && !segments[1].is_empty() => {
            Some(Route::LoaderOne(request::percent_decode(segments[1])?))
        }
        1 if segments[0] == "metrics" => Some(Route::Metrics),
        2 if graph(0) && is(1, "statistics") => Some(Route::Statistics),
        2 if graph(0) && is(1, "stream") => Some(Route::Stream(false)),
        2 if is(0, "gremlin") && is(1, "stream") => Some(Route::Stream(true)),
        3 if graph(0) && is(1, "statistics") && is(2, "summary") => Some(Route::Summary),
        2 if is(0, "opencypher") && is(1, "status") => Some(Route::StatusList),
        2 if is(0, "opencypher") && is(1, "explain") => Some(Route::Explain),
        3 if is(0, "opencypher") && is(1, "status") && !segments[2].is_empty() => {
            Some(Route::StatusOne(request::percent_decode(segments[2])?))
        }
        _ => None,
    };
    Ok(route)
}

/// Reads the whole body within `limit` (a declared `Content-Length` over the limit is refused
/// before reading anything).
async fn read_body(parts: &Parts, body: Body, limit: usize) -> Result<Vec<u8>, Error> {
    let too_large = || {
        Error::new(
            ErrorCode::BadRequest,
            format!("Request size exceeds max allowed value of {limit} bytes."),
        )
    };
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes().to_vec()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(e) => Err(Error::new(
            ErrorCode::BadRequest,
            format!("Cannot read the request body: {e}"),
        )),
    }
}

/// The fields of the query string and, for POST and DELETE, of the body.
fn decode_fields(parts: &Parts, body: &[u8]) -> Result<Fields, Error> {
    let query_string = parts.uri.query();
    if parts.method == Method::GET {
        return request::fields(query_string, None, b"");
    }
    let content_type = match parts.headers.get(header::CONTENT_TYPE) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| Error::new(ErrorCode::BadRequest, "Invalid Content-Type header"))?,
        ),
    };
    let kind = if body.is_empty() && content_type.is_none() {
        None
    } else {
        Some(request::body_kind(content_type, body)?)
    };
    // An empty form or JSON body adds nothing (DELETE sends `Content-Length: 0`).
    let kind = kind.filter(|k| *k == BodyKind::RawQuery || !body.is_empty());
    request::fields(query_string, kind, body)
}

/// Query texts up to this size are prepared on the reactor thread; longer ones on the
/// blocking pool.
const INLINE_PREPARE_BYTES: usize = 2048;

/// Submits the query (from a blocking thread: preparing parses it) and waits for the worker
/// to hand back the serialised result.
/// With `--auth iam`, the query's actions (SPEC 6.3) are authorized from its parse before it
/// is submitted, so a denied write is never queued.
async fn run_query<R: QueryRunner>(
    app: &App<R>,
    query: request::QueryRequest,
    caller: Option<Caller>,
    query_id: &str,
) -> Result<Response, Error> {
    let manager = app.manager.clone();
    let id = query_id.to_owned();
    let inline = query.query.len() <= INLINE_PREPARE_BYTES;
    let memory_limit = app.config.query_memory_limit;
    let body = submit_and_wait(
        inline,
        |result| results_json(&result),
        move |done, run_here| {
            if let Some(caller) = caller {
                // The text is parsed here and again by the manager's prepare: the runner
                // is generic, so the access comes from the text. Parsing is cheap next to
                // planning, and this one is paid only with `--auth iam`.
                let access = nereid_engine::query_access(&query.query, memory_limit)?;
                caller.require(Action::for_query(access.write, access.delete))?;
            }
            if run_here {
                manager.run_or_submit(Protocol::Http, id, &query.query, query.parameters, done)
            } else {
                manager.submit(Protocol::Http, id, &query.query, query.parameters, done)
            }
        },
    )
    .await?;
    Ok(json_response(body, query_id))
}

/// Neptune's explain: the query goes through the manager like any other (queued, timed,
/// cancellable, listed in the status API) and its plan report comes back as the table.
async fn run_explain<R: QueryRunner>(
    app: &App<R>,
    fields: &Fields,
    html: bool,
    query_id: &str,
) -> Result<Response, Error> {
    let mode = fields.text("explain")?.ok_or_else(|| {
        Error::new(
            ErrorCode::MissingParameter,
            "Missing required parameters: [explain]",
        )
    })?;
    let mode = ExplainMode::parse(&mode)?;
    let query = request::query_request(fields)?;
    check_query_size(app, &query)?;
    let manager = app.manager.clone();
    let id = query_id.to_owned();
    let inline = query.query.len() <= INLINE_PREPARE_BYTES;
    let text = query.query.clone();
    let body = submit_and_wait(
        inline,
        move |result: QueryResult| {
            let report = result
                .plan
                .ok_or_else(|| Error::internal("the explained query returned no plan"))?;
            Ok(explain::render(&report, &text, mode, html).into_bytes())
        },
        // Explain is for people reading plans: always queued, never run on this thread.
        move |done, _| {
            manager.submit_explain(
                Protocol::Http,
                id,
                &query.query,
                mode,
                query.parameters,
                done,
            )
        },
    )
    .await?;
    let content_type = if html {
        "text/html; charset=UTF-8"
    } else {
        "text/plain; charset=UTF-8"
    };
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(id) = HeaderValue::from_str(query_id) {
        headers.insert("x-amzn-RequestId", id);
    }
    Ok(response)
}

/// Runs `submit` (inline for short texts, else on the blocking pool) with a completion that
/// turns the outcome into a body with `render` on the worker, and waits for that body.
/// `submit`'s flag says whether it may start the query on this thread (short texts; see
/// `QueryManager::run_or_submit`).
async fn submit_and_wait(
    inline: bool,
    render: impl FnOnce(QueryResult) -> Result<Vec<u8>, Error> + Send + 'static,
    submit: impl FnOnce(Completion, bool) -> Result<(), Error> + Send + 'static,
) -> Result<Vec<u8>, Error> {
    let (tx, rx) = oneshot::channel::<Result<Vec<u8>, Error>>();
    // Serialising on the worker keeps large results off the reactor too.
    let done: Completion = Box::new(move |outcome| {
        let body = outcome.and_then(render);
        // The caller may have gone away; the query has finished either way.
        let _ = tx.send(body);
    });
    if inline {
        // A short text parses and plans in microseconds, and the query may then start on
        // this thread, for a short time slice at most (see `QueryManager::run_or_submit`):
        // a hand-over to another thread and back would cost more than a point lookup.
        submit(done, true)?;
    } else {
        tokio::task::spawn_blocking(move || submit(done, false))
            .await
            .map_err(|e| Error::internal(format!("the query submission failed: {e}")))??;
    }
    rx.await
        .map_err(|_| Error::internal("the query finished without an answer"))?
}

fn answer_status<R: QueryRunner>(
    app: &App<R>,
    status: StatusRequest,
    request_id: &str,
) -> Result<Response, Error> {
    let body = match status {
        StatusRequest::List { include_waiting } => {
            let list = app.manager.list(include_waiting);
            serde_json::json!({
                "acceptedQueryCount": list.accepted,
                "runningQueryCount": list.running,
                "queries": list.queries.iter().map(status_json).collect::<Vec<_>>(),
            })
        }
        StatusRequest::Status { query_id } => status_json(&app.manager.status(&query_id)?),
        StatusRequest::Cancel { query_id, silent } => {
            app.manager.cancel(&query_id, silent)?;
            serde_json::json!({"status": "200 OK"})
        }
    };
    Ok(json_value_response(&body, request_id))
}

fn status_json(status: &QueryStatus) -> serde_json::Value {
    serde_json::json!({
        "queryId": status.query_id,
        "queryString": status.query_string,
        "queryEvalStats": {
            "waited": status.waited_ms,
            "elapsed": status.elapsed_ms,
            "cancelled": status.cancelled,
            "subqueries": status.subqueries,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_case_insensitively_but_ids_keep_their_case() {
        assert_eq!(route("/openCypher").unwrap(), Some(Route::Query));
        assert_eq!(route("/OPENCYPHER/").unwrap(), Some(Route::Query));
        assert_eq!(
            route("/opencypher/Status").unwrap(),
            Some(Route::StatusList)
        );
        assert_eq!(
            route("/openCypher/status/AbC%2Fd").unwrap(),
            Some(Route::StatusOne("AbC/d".into()))
        );
        assert_eq!(route("/status").unwrap(), Some(Route::EngineStatus));
        assert_eq!(route("/sparql").unwrap(), Some(Route::Sparql));
        assert_eq!(route("/opencypher/explain").unwrap(), Some(Route::Explain));
        for p in [
            "/propertygraph/statistics/summary",
            "/pg/statistics/summary/",
        ] {
            assert_eq!(route(p).unwrap(), Some(Route::Summary));
        }
        for p in ["/propertygraph/statistics", "/PG/statistics"] {
            assert_eq!(route(p).unwrap(), Some(Route::Statistics));
        }
        assert_eq!(route("/system").unwrap(), Some(Route::System));
        assert_eq!(route("/loader").unwrap(), Some(Route::Loader));
        assert_eq!(
            route("/loader/ab-C").unwrap(),
            Some(Route::LoaderOne("ab-C".into()))
        );
        assert_eq!(route("/loader/a/b").unwrap(), None);
        for p in ["/propertygraph/stream", "/pg/stream", "/PG/Stream/"] {
            assert_eq!(route(p).unwrap(), Some(Route::Stream(false)));
        }
        assert_eq!(
            route("/gremlin/stream/").unwrap(),
            Some(Route::Stream(true))
        );
        assert_eq!(route("/opencypher/stream").unwrap(), None);
        assert_eq!(route("/pg/stream/x").unwrap(), None);
        assert_eq!(route("/pg/summary").unwrap(), None);
        assert_eq!(route("/pg/statistics/summary/x").unwrap(), None);
        assert_eq!(route("/").unwrap(), None);
        assert_eq!(route("/gremlin").unwrap(), None);
        assert_eq!(route("/opencypher/status/a/b").unwrap(), None);
    }
}
