//! Spark Connect connection strings: `sc://HOST[:PORT][/;param=value;...]`.
//!
//! The form is Spark's own (its "client connection string" document), plus one parameter of this
//! project's data-source contract, `database`. Recognised parameters:
//!
//! | parameter | meaning |
//! |---|---|
//! | `database` | the database (schema) the session starts in; default: the server's (`default`) |
//! | `token` | sent as `Authorization: Bearer <token>`; turns TLS on unless `use_ssl=false` |
//! | `use_ssl` | `true`/`false`: TLS (HTTPS/2) to the server |
//! | `user_id` | the user id of the session (default: `$USER`) |
//! | `user_agent` | the client type reported to the server |
//! | `session_id` | a UUID to join an existing session instead of starting a new one |
//! | `result_dir`, `result_dir_on_cluster`, `parquet_rows` | options of the client's user (the Spark engine's Parquet path for large results), kept in [`ConnectUrl::options`], never sent |
//! | anything else | sent as a gRPC header, e.g. `x-databricks-cluster-id=0123-456789-abcdefgh` |
//!
//! Values are percent-decoded (`%3B` for a `;` inside a value).

use std::fmt;

use percent_encoding::percent_decode_str;

use crate::Error;

/// The port of a Spark Connect server when the URL names none.
pub const DEFAULT_PORT: u16 = 15002;

/// Parameters that configure the client's user rather than the connection: kept in
/// [`ConnectUrl::options`] and never sent to the server.
pub const CLIENT_OPTIONS: [&str; 3] = ["result_dir", "result_dir_on_cluster", "parquet_rows"];

/// A parsed `sc://` URL. Its [`Display`](fmt::Display) form hides the token, so it is the one to
/// put in messages.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectUrl {
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// TCP port (default [`DEFAULT_PORT`]).
    pub port: u16,
    /// `database`: the database to make current after connecting.
    pub database: Option<String>,
    /// `token`: bearer token for the `authorization` header.
    pub token: Option<String>,
    /// Whether to use TLS: `use_ssl` if given, otherwise true exactly when a token is given.
    pub use_ssl: bool,
    /// `user_id`.
    pub user_id: Option<String>,
    /// `user_agent`.
    pub user_agent: Option<String>,
    /// `session_id`.
    pub session_id: Option<String>,
    /// Every other parameter, in URL order: extra gRPC headers (names lower-cased).
    pub headers: Vec<(String, String)>,
    /// The [`CLIENT_OPTIONS`] parameters, in URL order.
    pub options: Vec<(String, String)>,
}

impl ConnectUrl {
    /// Parses `sc://HOST[:PORT][/;param=value;...]`.
    pub fn parse(url: &str) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidUrl {
            url: redact_raw(url),
            reason,
        };
        let rest = url
            .strip_prefix("sc://")
            .ok_or_else(|| invalid("a Spark Connect URL starts with sc://".into()))?;
        // Authority ends at the first '/' or ';'; what follows is `/;params` (or `;params`).
        let end = rest.find(['/', ';']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let params = match tail.strip_prefix('/') {
            Some(after_slash) => match after_slash.strip_prefix(';') {
                Some(params) => params,
                None if after_slash.is_empty() => "",
                None => {
                    return Err(invalid(format!(
                        "unexpected path `/{after_slash}`: parameters follow `/;` as in \
                         sc://host:15002/;database=name"
                    )))
                }
            },
            None => tail.strip_prefix(';').unwrap_or(tail),
        };
        if authority.contains('@') {
            return Err(invalid(
                "user info (user@host) is not supported: use ;user_id=... and ;token=...".into(),
            ));
        }
        let (host, port) = split_host_port(authority).map_err(invalid)?;

        let mut parsed = ConnectUrl {
            host,
            port,
            database: None,
            token: None,
            use_ssl: false,
            user_id: None,
            user_agent: None,
            session_id: None,
            headers: Vec::new(),
            options: Vec::new(),
        };
        let mut use_ssl = None;
        for pair in params.split(';').filter(|p| !p.is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| invalid(format!("parameter `{pair}` has no `=value`")))?;
            let key = decode(key).map_err(&invalid)?;
            let value = decode(value).map_err(&invalid)?;
            if key.is_empty() {
                return Err(invalid(format!("parameter `{pair}` has an empty name")));
            }
            match key.as_str() {
                "database" => parsed.database = Some(value),
                "token" => parsed.token = Some(value),
                "use_ssl" => {
                    use_ssl = Some(match value.to_ascii_lowercase().as_str() {
                        "true" => true,
                        "false" => false,
                        _ => {
                            return Err(invalid(format!(
                                "use_ssl must be true or false, not `{value}`"
                            )))
                        }
                    });
                }
                "user_id" => parsed.user_id = Some(value),
                "user_agent" => parsed.user_agent = Some(value),
                "session_id" => {
                    uuid::Uuid::parse_str(&value)
                        .map_err(|_| invalid(format!("session_id `{value}` is not a UUID")))?;
                    parsed.session_id = Some(value);
                }
                _ if CLIENT_OPTIONS.contains(&key.as_str()) => parsed.options.push((key, value)),
                _ => {
                    let name = key.to_ascii_lowercase();
                    if http::HeaderName::from_bytes(name.as_bytes()).is_err()
                        || name.starts_with("grpc-")
                    {
                        return Err(invalid(format!("`{key}` cannot be sent as a gRPC header")));
                    }
                    if http::HeaderValue::from_str(&value).is_err() {
                        return Err(invalid(format!(
                            "the value of `{key}` is not a valid header value"
                        )));
                    }
                    parsed.headers.push((name, value));
                }
            }
        }
        parsed.use_ssl = use_ssl.unwrap_or(parsed.token.is_some());
        Ok(parsed)
    }

    /// `http://host:port` or `https://host:port`: the origin gRPC requests go to.
    pub fn origin(&self) -> String {
        let scheme = if self.use_ssl { "https" } else { "http" };
        if self.host.contains(':') {
            format!("{scheme}://[{}]:{}", self.host, self.port)
        } else {
            format!("{scheme}://{}:{}", self.host, self.port)
        }
    }
}

impl std::str::FromStr for ConnectUrl {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

/// The URL with the token replaced by `***`.
impl fmt::Display for ConnectUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "sc://[{}]:{}", self.host, self.port)?;
        } else {
            write!(f, "sc://{}:{}", self.host, self.port)?;
        }
        let mut params: Vec<(&str, &str)> = Vec::new();
        if let Some(db) = &self.database {
            params.push(("database", db));
        }
        if self.token.is_some() {
            params.push(("token", "***"));
        }
        // Shown when it differs from what the token implies.
        if self.use_ssl != self.token.is_some() {
            params.push(("use_ssl", if self.use_ssl { "true" } else { "false" }));
        }
        for (key, value) in [
            ("user_id", &self.user_id),
            ("user_agent", &self.user_agent),
            ("session_id", &self.session_id),
        ] {
            if let Some(value) = value {
                params.push((key, value));
            }
        }
        for (key, value) in self.headers.iter().chain(&self.options) {
            params.push((key, value));
        }
        if !params.is_empty() {
            f.write_str("/")?;
            for (key, value) in params {
                write!(f, ";{key}={value}")?;
            }
        }
        Ok(())
    }
}

/// Debug output is the redacted form too, so a token never reaches a log by `{:?}`.
impl fmt::Debug for ConnectUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConnectUrl({self})")
    }
}

fn split_host_port(authority: &str) -> Result<(String, u16), String> {
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let close = bracketed.find(']').ok_or("unclosed `[` in an IPv6 host")?;
        let host = &bracketed[..close];
        let after = &bracketed[close + 1..];
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => return Err(format!("unexpected `{after}` after the IPv6 host")),
        };
        (host, port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("the host is missing".into());
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => match p.parse::<u16>() {
            Ok(port) if port > 0 => port,
            _ => return Err(format!("port `{p}` is not a number from 1 to 65535")),
        },
    };
    Ok((host.to_string(), port))
}

fn decode(text: &str) -> Result<String, String> {
    percent_decode_str(text)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| format!("`{text}` is not UTF-8 after percent-decoding"))
}

/// Best-effort redaction of a URL that did not parse: drops every `token=` value.
pub(crate) fn redact_raw(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(at) = rest.find("token=") {
        let value_start = at + "token=".len();
        out.push_str(&rest[..value_start]);
        out.push_str("***");
        rest = &rest[value_start..];
        rest = &rest[rest.find(';').unwrap_or(rest.len())..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> ConnectUrl {
        ConnectUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    fn error(url: &str) -> String {
        match ConnectUrl::parse(url) {
            Ok(parsed) => panic!("{url} parsed as {parsed}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn host_only_gets_the_default_port_and_no_tls() {
        let url = parse("sc://localhost");
        assert_eq!(
            (url.host.as_str(), url.port, url.use_ssl),
            ("localhost", 15002, false)
        );
        assert_eq!(url.database, None);
        assert_eq!(url.origin(), "http://localhost:15002");
        assert_eq!(url.to_string(), "sc://localhost:15002");
        assert_eq!(parse("sc://localhost/"), url);
    }

    #[test]
    fn port_and_database() {
        let url = parse("sc://127.0.0.1:4040/;database=ehr");
        assert_eq!((url.host.as_str(), url.port), ("127.0.0.1", 4040));
        assert_eq!(url.database.as_deref(), Some("ehr"));
        assert_eq!(url.to_string(), "sc://127.0.0.1:4040/;database=ehr");
        // The `/` before the parameters may be left out.
        assert_eq!(parse("sc://127.0.0.1:4040;database=ehr"), url);
    }

    #[test]
    fn databricks_form_token_implies_tls_and_is_never_shown() {
        let url = parse(
            "sc://adb-123.4.azuredatabricks.net:443/;token=dapiSECRET;x-databricks-cluster-id=0123-456789-abc;user_id=me",
        );
        assert!(url.use_ssl);
        assert_eq!(url.token.as_deref(), Some("dapiSECRET"));
        assert_eq!(url.user_id.as_deref(), Some("me"));
        assert_eq!(
            url.headers,
            vec![(
                "x-databricks-cluster-id".to_string(),
                "0123-456789-abc".to_string()
            )]
        );
        assert_eq!(url.origin(), "https://adb-123.4.azuredatabricks.net:443");
        let shown = url.to_string();
        assert!(!shown.contains("SECRET"), "{shown}");
        assert_eq!(
            shown,
            "sc://adb-123.4.azuredatabricks.net:443/;token=***;user_id=me;x-databricks-cluster-id=0123-456789-abc"
        );
        assert!(!format!("{url:?}").contains("SECRET"));
    }

    #[test]
    fn use_ssl_overrides_what_the_token_implies() {
        let url = parse("sc://h/;token=t;use_ssl=false");
        assert!(!url.use_ssl);
        assert_eq!(url.to_string(), "sc://h:15002/;token=***;use_ssl=false");
        assert!(parse("sc://h/;use_ssl=TRUE").use_ssl);
    }

    #[test]
    fn values_are_percent_decoded_and_header_names_lower_cased() {
        let url = parse("sc://h/;database=my%20db;X-Custom=a%3Bb");
        assert_eq!(url.database.as_deref(), Some("my db"));
        assert_eq!(
            url.headers,
            vec![("x-custom".to_string(), "a;b".to_string())]
        );
    }

    #[test]
    fn client_options_are_kept_apart_from_headers() {
        let url = parse("sc://h/;result_dir=/mnt/r%C3%A9sults;parquet_rows=10;x-a=1");
        assert_eq!(
            url.options,
            vec![
                ("result_dir".to_string(), "/mnt/résults".to_string()),
                ("parquet_rows".to_string(), "10".to_string())
            ]
        );
        assert_eq!(url.headers, vec![("x-a".to_string(), "1".to_string())]);
        assert_eq!(
            url.to_string(),
            "sc://h:15002/;x-a=1;result_dir=/mnt/résults;parquet_rows=10"
        );
    }

    #[test]
    fn ipv6_hosts() {
        let url = parse("sc://[::1]:15003");
        assert_eq!((url.host.as_str(), url.port), ("::1", 15003));
        assert_eq!(url.origin(), "http://[::1]:15003");
        assert_eq!(url.to_string(), "sc://[::1]:15003");
        assert_eq!(parse("sc://[::1]").port, DEFAULT_PORT);
    }

    #[test]
    fn session_id_must_be_a_uuid() {
        let id = "2b9c7d5e-1f7a-4c1b-9d55-0f2d6c8a9e11";
        assert_eq!(
            parse(&format!("sc://h/;session_id={id}"))
                .session_id
                .as_deref(),
            Some(id)
        );
        assert!(error("sc://h/;session_id=42").contains("not a UUID"));
    }

    #[test]
    fn bad_urls_get_one_line_reasons_without_the_token() {
        assert!(error("postgresql://h/db").contains("starts with sc://"));
        assert!(error("sc://").contains("host is missing"));
        assert!(error("sc://:15002").contains("host is missing"));
        assert!(error("sc://h:port").contains("port `port`"));
        assert!(error("sc://h:0").contains("port `0`"));
        assert!(error("sc://h:70000").contains("port `70000`"));
        assert!(error("sc://h/db").contains("unexpected path `/db`"));
        assert!(error("sc://h/;database").contains("no `=value`"));
        assert!(error("sc://h/;use_ssl=yes").contains("use_ssl must be true or false"));
        assert!(error("sc://user@h").contains("user info"));
        assert!(error("sc://h/;bad header=1").contains("cannot be sent as a gRPC header"));
        assert!(error("sc://[::1").contains("unclosed"));
        let message = error("sc://h:x/;token=SECRET;database=d");
        assert!(!message.contains("SECRET"), "{message}");
        assert!(message.contains("token=***;database=d"), "{message}");
        for url in [
            "sc://h:x/;token=SECRET",
            "sc://h/;use_ssl=maybe;token=SECRET",
        ] {
            let message = error(url);
            assert!(
                !message.contains("SECRET") && !message.contains('\n'),
                "{message}"
            );
        }
    }
}
