//! The blocking Spark Connect client.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use prost::Message as _;
use tonic::metadata::{MetadataKey, MetadataValue};
use tonic::{Code, Status, Streaming};

use crate::proto;
use crate::proto::spark_connect_service_client::SparkConnectServiceClient;
use crate::url::ConnectUrl;
use crate::value::Params;
use crate::{Error, Result};

type Transport =
    hyper_util::client::legacy::Client<HttpsConnector<HttpConnector>, tonic::body::Body>;
type Grpc = SparkConnectServiceClient<Transport>;

/// How long to wait for a TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the first request (the server's version) may take: it proves the server is a Spark
/// Connect server that accepts our credentials.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest response message accepted; Spark sends Arrow batches of at most
/// `spark.connect.grpc.arrow.maxBatchSize` (4 MiB by default).
const MAX_DECODING_MESSAGE_SIZE: usize = 256 * 1024 * 1024;

/// A session on a Spark Connect server.
///
/// Blocking: each call runs on the client's own single-threaded tokio runtime, so it must not be
/// called from inside another async runtime (that returns [`Error::Client`]). Dropping the client
/// releases its server-side session (and with it its temporary views).
pub struct Client {
    runtime: tokio::runtime::Runtime,
    grpc: Grpc,
    url: ConnectUrl,
    metadata: Vec<(
        MetadataKey<tonic::metadata::Ascii>,
        MetadataValue<tonic::metadata::Ascii>,
    )>,
    session_id: String,
    /// Whether this client created the session (and so releases it on drop).
    owns_session: bool,
    user_context: proto::UserContext,
    client_type: String,
    /// The server's id of the session, learned from the first response: if it changes, the
    /// server restarted and lost the session's temporary views, and requests fail instead.
    server_side_session_id: Arc<Mutex<Option<String>>>,
    spark_version: String,
}

impl Client {
    /// Connects to `sc://HOST[:PORT][/;param=value;...]` (see [`crate::url`]), checks that the
    /// server answers and accepts the credentials, and makes the URL's `database` current.
    pub fn connect(url: &str) -> Result<Client> {
        Self::connect_to(ConnectUrl::parse(url)?)
    }

    /// [`Client::connect`] for an already parsed URL.
    pub fn connect_to(url: ConnectUrl) -> Result<Client> {
        refuse_nested_runtime()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Client(format!("cannot start the client's async runtime: {e}")))?;

        let tls = rustls_config(&url)?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        http.set_nodelay(true);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http2()
            .wrap_connector(http);
        let transport = {
            // hyper-util spawns the HTTP/2 connection task, so build inside the runtime.
            let _guard = runtime.enter();
            hyper_util::client::legacy::Client::builder(TokioExecutor::new())
                .http2_only(true)
                .build(connector)
        };
        let origin: http::Uri = url.origin().parse().map_err(|e| Error::InvalidUrl {
            url: url.to_string(),
            reason: format!("not a valid host: {e}"),
        })?;
        let grpc = SparkConnectServiceClient::with_origin(transport, origin)
            .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE)
            .max_encoding_message_size(usize::MAX);

        let mut metadata = Vec::new();
        if let Some(token) = &url.token {
            let value = MetadataValue::try_from(format!("Bearer {token}"))
                .map_err(|_| invalid(&url, "the token is not a valid header value"))?;
            metadata.push((MetadataKey::from_static("authorization"), value));
        }
        for (name, value) in &url.headers {
            let key = MetadataKey::from_bytes(name.as_bytes())
                .map_err(|_| invalid(&url, &format!("`{name}` is not a valid header name")))?;
            let value = MetadataValue::try_from(value.as_str()).map_err(|_| {
                invalid(
                    &url,
                    &format!("the value of `{name}` is not a valid header value"),
                )
            })?;
            metadata.push((key, value));
        }

        let (session_id, owns_session) = match &url.session_id {
            Some(id) => (id.clone(), false),
            None => (uuid::Uuid::new_v4().to_string(), true),
        };
        let user_id = url
            .user_id
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "sro-toolkit".into());
        let client_type = url
            .user_agent
            .clone()
            .unwrap_or_else(|| format!("sro-toolkit-spark-connect/{}", env!("CARGO_PKG_VERSION")));
        let mut client = Client {
            runtime,
            grpc,
            metadata,
            session_id,
            // Set once the server has answered: nothing to release before that.
            owns_session: false,
            user_context: proto::UserContext {
                user_id: user_id.clone(),
                user_name: user_id,
                extensions: Vec::new(),
            },
            client_type,
            server_side_session_id: Arc::new(Mutex::new(None)),
            spark_version: String::new(),
            url,
        };
        client.spark_version = client.handshake()?;
        client.owns_session = owns_session;
        if let Some(database) = client.url.database.clone() {
            client.set_database(&database)?;
        }
        Ok(client)
    }

    /// The server's Spark version, e.g. `4.1.1`.
    pub fn spark_version(&self) -> &str {
        &self.spark_version
    }

    /// This client's session id (a UUID).
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// The URL connected to (its `Display` hides the token).
    pub fn url(&self) -> &ConnectUrl {
        &self.url
    }

    /// Runs a statement (DDL, `INSERT`, `SET`, ...) and waits for it to finish.
    pub fn sql(&self, statement: &str) -> Result<()> {
        self.sql_with(statement, &Params::None)
    }

    /// Runs a statement with bound parameters: `:name` markers for [`Params::Named`], `?` for
    /// [`Params::Positional`]. The values travel as typed literals, never as SQL text.
    pub fn sql_with(&self, statement: &str, params: &Params) -> Result<()> {
        let relation = sql_relation(statement, params);
        let (args, pos_args) = relation_args(params);
        // Spark 4 reads `input`; Spark 3.5 servers read `sql`/`args`/`pos_args`.
        #[allow(deprecated)]
        let command = proto::SqlCommand {
            sql: statement.to_string(),
            args,
            pos_args,
            named_arguments: HashMap::new(),
            pos_arguments: Vec::new(),
            input: Some(relation),
        };
        self.run_command(proto::command::CommandType::SqlCommand(command))
    }

    /// Runs a query and returns its result as Arrow IPC stream messages, one per batch, exactly
    /// as the server sent them: each item is a complete Arrow IPC *stream* (schema message, the
    /// batch, end-of-stream), to be decoded by the caller. An empty result still yields one
    /// batch (with the schema and no rows).
    pub fn sql_arrow(&self, query: &str) -> Result<ArrowBatches<'_>> {
        self.sql_arrow_with(query, &Params::None)
    }

    /// [`Client::sql_arrow`] with bound parameters (see [`Client::sql_with`]).
    pub fn sql_arrow_with(&self, query: &str, params: &Params) -> Result<ArrowBatches<'_>> {
        let stream = self.execute(proto::plan::OpType::Root(sql_relation(query, params)))?;
        Ok(ArrowBatches {
            client: self,
            stream: Some(stream),
        })
    }

    /// Uploads an Arrow IPC stream (a schema and its record batches) as a Spark `LocalRelation`
    /// and registers it as the session's temporary view `name`, replacing one of that name.
    ///
    /// This is how small tables (codelists, inline values) reach Spark without SQL text. The data
    /// travels in one request, so it must fit the server's `spark.connect.grpc.maxInboundMessageSize`
    /// (128 MiB by default).
    pub fn create_temp_view_from_arrow(
        &self,
        name: &str,
        arrow_ipc_stream: impl Into<Vec<u8>>,
    ) -> Result<()> {
        let input = proto::Relation {
            common: None,
            rel_type: Some(proto::relation::RelType::LocalRelation(
                proto::LocalRelation {
                    data: Some(arrow_ipc_stream.into()),
                    schema: None,
                },
            )),
        };
        self.run_command(proto::command::CommandType::CreateDataframeView(
            proto::CreateDataFrameViewCommand {
                input: Some(input),
                name: name.to_string(),
                is_global: false,
                replace: true,
            },
        ))
    }

    /// Runs a query and has the cluster write its result as files of `format` (`parquet`, …)
    /// into the new folder `path` (as the cluster names it: `file:/…`, `dbfs:/…`, `s3a://…`),
    /// one subfolder per value of the `partition_by` columns (`col=value/`), as Spark's
    /// `DataFrameWriter` does. Fails if `path` exists. The path travels as a field of the
    /// request, never as SQL text.
    pub fn save_query(
        &self,
        query: &str,
        params: &Params,
        format: &str,
        path: &str,
        partition_by: &[&str],
    ) -> Result<()> {
        self.run_command(proto::command::CommandType::WriteOperation(
            proto::WriteOperation {
                input: Some(sql_relation(query, params)),
                source: Some(format.to_string()),
                mode: proto::write_operation::SaveMode::ErrorIfExists as i32,
                sort_column_names: Vec::new(),
                partitioning_columns: partition_by.iter().map(|c| (*c).to_string()).collect(),
                bucket_by: None,
                options: HashMap::new(),
                clustering_columns: Vec::new(),
                save_type: Some(proto::write_operation::SaveType::Path(path.to_string())),
            },
        ))
    }

    /// Makes `database` the session's current database (an error names it when it is missing).
    pub fn set_database(&self, database: &str) -> Result<()> {
        let relation = proto::Relation {
            common: None,
            rel_type: Some(proto::relation::RelType::Catalog(proto::Catalog {
                cat_type: Some(proto::catalog::CatType::SetCurrentDatabase(
                    proto::SetCurrentDatabase {
                        db_name: database.to_string(),
                    },
                )),
            })),
        };
        let stream = self.execute(proto::plan::OpType::Root(relation))?;
        self.drain(stream)
    }

    fn run_command(&self, command: proto::command::CommandType) -> Result<()> {
        let plan = proto::plan::OpType::Command(proto::Command {
            command_type: Some(command),
        });
        let stream = self.execute(plan)?;
        self.drain(stream)
    }

    /// Sends an ExecutePlan request and returns its response stream.
    fn execute(&self, op: proto::plan::OpType) -> Result<Streaming<proto::ExecutePlanResponse>> {
        let request = proto::ExecutePlanRequest {
            session_id: self.session_id.clone(),
            client_observed_server_side_session_id: self.observed_server_session(),
            user_context: Some(self.user_context.clone()),
            operation_id: None,
            plan: Some(proto::Plan { op_type: Some(op) }),
            client_type: Some(self.client_type.clone()),
            request_options: Vec::new(),
            tags: Vec::new(),
        };
        let request = self.request(request);
        let mut grpc = self.grpc.clone();
        let response = self.block_on(async move { grpc.execute_plan(request).await })?;
        response
            .map(tonic::Response::into_inner)
            .map_err(|status| self.status_error(status))
    }

    /// Reads a response stream to its end, surfacing any error in it.
    fn drain(&self, mut stream: Streaming<proto::ExecutePlanResponse>) -> Result<()> {
        loop {
            match self.block_on(stream.message())? {
                Ok(Some(response)) => {
                    self.observe_server_session(&response.server_side_session_id)?;
                }
                Ok(None) => return Ok(()),
                Err(status) => return Err(self.status_error(status)),
            }
        }
    }

    /// Asks for the server's Spark version: proves the server is reachable, speaks Spark Connect
    /// and accepts the credentials.
    fn handshake(&self) -> Result<String> {
        let request = self.request(proto::AnalyzePlanRequest {
            session_id: self.session_id.clone(),
            client_observed_server_side_session_id: None,
            user_context: Some(self.user_context.clone()),
            client_type: Some(self.client_type.clone()),
            analyze: Some(proto::analyze_plan_request::Analyze::SparkVersion(
                proto::analyze_plan_request::SparkVersion {},
            )),
        });
        let mut grpc = self.grpc.clone();
        let answer = self.block_on(async move {
            tokio::time::timeout(HANDSHAKE_TIMEOUT, grpc.analyze_plan(request)).await
        })?;
        let response = match answer {
            Err(_elapsed) => {
                return Err(Error::Unreachable {
                    url: self.url.to_string(),
                    detail: format!("no answer within {} s", HANDSHAKE_TIMEOUT.as_secs()),
                })
            }
            Ok(response) => response
                .map_err(|status| self.status_error(status))?
                .into_inner(),
        };
        self.observe_server_session(&response.server_side_session_id)?;
        match response.result {
            Some(proto::analyze_plan_response::Result::SparkVersion(v)) => Ok(v.version),
            _ => Err(Error::Client(format!(
                "the server at {} did not answer the Spark version request",
                self.url
            ))),
        }
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        let metadata = request.metadata_mut();
        for (key, value) in &self.metadata {
            metadata.insert(key.clone(), value.clone());
        }
        request
    }

    fn block_on<F: std::future::Future>(&self, future: F) -> Result<F::Output> {
        refuse_nested_runtime()?;
        Ok(self.runtime.block_on(future))
    }

    fn observed_server_session(&self) -> Option<String> {
        self.server_side_session_id
            .lock()
            .ok()
            .and_then(|id| id.clone())
    }

    fn observe_server_session(&self, id: &str) -> Result<()> {
        if id.is_empty() {
            return Ok(());
        }
        let mut known = self
            .server_side_session_id
            .lock()
            .map_err(|_| Error::Client("session state poisoned by a panic".into()))?;
        match known.as_deref() {
            None => *known = Some(id.to_string()),
            Some(previous) if previous != id => {
                return Err(Error::Client(format!(
                    "the Spark Connect server at {} restarted the session (its temporary views are gone)",
                    self.url
                )))
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// Maps a gRPC status to this crate's one-line errors.
    fn status_error(&self, status: Status) -> Error {
        status_to_error(&self.url, status)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if !self.owns_session || refuse_nested_runtime().is_err() {
            return;
        }
        let request = self.request(proto::ReleaseSessionRequest {
            session_id: self.session_id.clone(),
            user_context: Some(self.user_context.clone()),
            client_type: Some(self.client_type.clone()),
            ..Default::default()
        });
        let mut grpc = self.grpc.clone();
        // Best effort: the server also expires idle sessions.
        let _ = self.runtime.block_on(async move {
            tokio::time::timeout(Duration::from_secs(5), grpc.release_session(request)).await
        });
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.url)
            .field("session_id", &self.session_id)
            .field("spark_version", &self.spark_version)
            .finish()
    }
}

/// The Arrow batches of a query result, in order; each is an Arrow IPC stream (see
/// [`Client::sql_arrow`]). Reading stops at the first error.
pub struct ArrowBatches<'c> {
    client: &'c Client,
    stream: Option<Streaming<proto::ExecutePlanResponse>>,
}

impl Iterator for ArrowBatches<'_> {
    type Item = Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        let stream = self.stream.as_mut()?;
        loop {
            let message = match self.client.block_on(stream.message()) {
                Ok(message) => message,
                Err(e) => {
                    self.stream = None;
                    return Some(Err(e));
                }
            };
            match message {
                Ok(Some(response)) => {
                    if let Err(e) = self
                        .client
                        .observe_server_session(&response.server_side_session_id)
                    {
                        self.stream = None;
                        return Some(Err(e));
                    }
                    if let Some(proto::execute_plan_response::ResponseType::ArrowBatch(batch)) =
                        response.response_type
                    {
                        return Some(Ok(batch.data));
                    }
                }
                Ok(None) => {
                    self.stream = None;
                    return None;
                }
                Err(status) => {
                    self.stream = None;
                    return Some(Err(self.client.status_error(status)));
                }
            }
        }
    }
}

fn invalid(url: &ConnectUrl, reason: &str) -> Error {
    Error::InvalidUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    }
}

fn refuse_nested_runtime() -> Result<()> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::Client(
            "the blocking Spark Connect client was called from inside an async runtime \
             (call it from a plain thread, e.g. tokio::task::spawn_blocking)"
                .into(),
        ));
    }
    Ok(())
}

fn rustls_config(url: &ConnectUrl) -> Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Client(format!("TLS set-up failed: {e}")))?;
    let mut roots = rustls::RootCertStore::empty();
    if url.use_ssl {
        let found = rustls_native_certs::load_native_certs();
        let (added, _ignored) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            return Err(Error::Unreachable {
                url: url.to_string(),
                detail:
                    "TLS is on (token or use_ssl=true) but no trusted root certificates were found \
                         on this machine (install ca-certificates)"
                        .into(),
            });
        }
    }
    // ALPN (`h2`) is set by hyper-rustls' `enable_http2`.
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

fn sql_relation(query: &str, params: &Params) -> proto::Relation {
    let (args, pos_args) = relation_args(params);
    #[allow(deprecated)] // `pos_args` is what Spark 3.5 servers read; 4.x still honours it.
    let sql = proto::Sql {
        query: query.to_string(),
        args,
        pos_args,
        named_arguments: HashMap::new(),
        pos_arguments: Vec::new(),
    };
    proto::Relation {
        common: None,
        rel_type: Some(proto::relation::RelType::Sql(sql)),
    }
}

type NamedLiterals = HashMap<String, proto::expression::Literal>;

fn relation_args(params: &Params) -> (NamedLiterals, Vec<proto::expression::Literal>) {
    match params {
        Params::None => (HashMap::new(), Vec::new()),
        Params::Named(named) => (
            named
                .iter()
                .map(|(name, value)| (name.clone(), value.to_literal()))
                .collect(),
            Vec::new(),
        ),
        Params::Positional(values) => (
            HashMap::new(),
            values.iter().map(super::value::Value::to_literal).collect(),
        ),
    }
}

/// `google.rpc.Status`, the payload of the `grpc-status-details-bin` trailer.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<prost_types::Any>,
}

/// `google.rpc.ErrorInfo`: Spark puts its error class and SQLSTATE in `metadata`.
#[derive(Clone, PartialEq, prost::Message)]
struct ErrorInfo {
    #[prost(string, tag = "1")]
    reason: String,
    #[prost(string, tag = "2")]
    domain: String,
    #[prost(map = "string, string", tag = "3")]
    metadata: HashMap<String, String>,
}

pub(crate) fn status_to_error(url: &ConnectUrl, status: Status) -> Error {
    if let Some(detail) = transport_failure(&status) {
        return Error::Unreachable {
            url: url.to_string(),
            detail,
        };
    }
    let message = first_line(status.message());
    match status.code() {
        Code::Unauthenticated | Code::PermissionDenied => Error::Rejected {
            url: url.to_string(),
            detail: if message.is_empty() {
                format!("{:?}", status.code())
            } else {
                message
            },
        },
        Code::Unavailable => Error::Unreachable {
            url: url.to_string(),
            detail: message,
        },
        _ => {
            let info = error_info(&status);
            let get = |key: &str| {
                info.as_ref()
                    .and_then(|i| i.metadata.get(key))
                    .filter(|v| !v.is_empty())
                    .cloned()
            };
            Error::Server {
                error_class: get("errorClass"),
                sql_state: get("sqlState"),
                message: if message.is_empty() {
                    format!("{:?} (no message)", status.code())
                } else {
                    message
                },
            }
        }
    }
}

/// The one-line reason when a status stands for a failed connection rather than a server answer.
fn transport_failure(status: &Status) -> Option<String> {
    let mut source = std::error::Error::source(status);
    let mut hyper_util_error = false;
    let mut deepest = None;
    while let Some(err) = source {
        if err
            .downcast_ref::<hyper_util::client::legacy::Error>()
            .is_some()
        {
            hyper_util_error = true;
        }
        if let Some(tls) = rustls_error(err) {
            return Some(format!(
                "TLS handshake failed ({tls}); if the server does not use TLS, add ;use_ssl=false"
            ));
        }
        deepest = Some(err.to_string());
        source = err.source();
    }
    hyper_util_error.then(|| first_line(&deepest.unwrap_or_else(|| status.message().to_string())))
}

/// The rustls error inside `err`: tokio-rustls and hyper-rustls wrap it in (nested) io::Errors,
/// whose `source()` skips the wrapped error, so unwrap them by hand.
fn rustls_error<'e>(err: &'e (dyn std::error::Error + 'static)) -> Option<&'e rustls::Error> {
    let mut current = err;
    loop {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        current = current.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
}

fn error_info(status: &Status) -> Option<ErrorInfo> {
    let details = RpcStatus::decode(status.details()).ok()?;
    details
        .details
        .iter()
        .find(|any| any.type_url.ends_with("google.rpc.ErrorInfo"))
        .and_then(|any| ErrorInfo::decode(any.value.as_slice()).ok())
}

fn first_line(message: &str) -> String {
    message
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .trim_end_matches(';')
        .trim()
        .to_string()
}
