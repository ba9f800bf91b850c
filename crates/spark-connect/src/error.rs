//! Errors of the client. Every message is one line and never contains a token.

/// Result of this crate's operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong talking to a Spark Connect server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The connection string does not parse.
    #[error("invalid Spark Connect URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL as given, token redacted.
        url: String,
        /// Why it does not parse.
        reason: String,
    },
    /// No connection could be made (nothing listening, DNS, TLS, connection reset...).
    #[error("cannot reach the Spark Connect server at {url}: {detail}")]
    Unreachable {
        /// The server URL, token redacted.
        url: String,
        /// The transport's reason, e.g. `connection refused`.
        detail: String,
    },
    /// The server refused the credentials (gRPC UNAUTHENTICATED or PERMISSION_DENIED).
    #[error("the Spark Connect server at {url} rejected the credentials: {detail}")]
    Rejected {
        /// The server URL, token redacted.
        url: String,
        /// The server's message.
        detail: String,
    },
    /// The server ran the request and reported an error: a SQL syntax error, a missing table...
    #[error("Spark error: {message}")]
    Server {
        /// Spark's error class, e.g. `TABLE_OR_VIEW_NOT_FOUND`, when it sent one.
        error_class: Option<String>,
        /// The SQLSTATE, e.g. `42P01`, when the server sent one.
        sql_state: Option<String>,
        /// The first line of the server's message (the rest is usually a query plan).
        message: String,
    },
    /// The server answered something this client does not understand, or the client is misused.
    #[error("Spark Connect client error: {0}")]
    Client(String),
}

impl Error {
    /// Spark's error class of a [`Error::Server`] error (`TABLE_OR_VIEW_NOT_FOUND`, ...).
    pub fn error_class(&self) -> Option<&str> {
        match self {
            Error::Server { error_class, .. } => error_class.as_deref(),
            _ => None,
        }
    }
}
