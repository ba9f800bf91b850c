//! `postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME]` URLs.

use std::fmt;
use std::time::Duration;

/// A parsed PostgreSQL URL. Its [`fmt::Display`] is [`PgUrl::redacted`]: the password never
/// reaches a message.
#[derive(Clone, PartialEq, Eq)]
pub struct PgUrl {
    /// The scheme as written (`postgresql` or `postgres`).
    pub scheme: String,
    /// The user.
    pub user: String,
    /// The password, if given.
    pub password: Option<String>,
    /// Host name or address (without brackets for IPv6).
    pub host: String,
    /// Port (default 5432).
    pub port: u16,
    /// Database.
    pub database: String,
    /// Schema of the tables (default `public`).
    pub schema: String,
}

/// A URL that is not a PostgreSQL URL of the contract's form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad PostgreSQL URL {url}: {reason} (expected postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME])")]
pub struct UrlError {
    /// The URL as given, without its password.
    pub url: String,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgUrl({})", self.redacted())
    }
}

impl fmt::Display for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Whether `url` is meant for PostgreSQL (by its scheme).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgresql://") || url.starts_with("postgres://")
}

/// `url` with anything between the user and the `@` removed: for messages about URLs that do
/// not parse.
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let user = authority[..at].split(':').next().unwrap_or("");
            format!("{}{}@{}", &url[..scheme_end + 3], user, &rest[at + 1..])
        }
        None => url.to_string(),
    }
}

fn percent_decode(s: &str, what: &str, url: &str) -> Result<String, UrlError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                None => {
                    return Err(UrlError {
                        url: redact(url),
                        reason: format!("bad percent escape in the {what}"),
                    })
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).map_err(|_| UrlError {
        url: redact(url),
        reason: format!("the {what} is not UTF-8"),
    })
}

impl PgUrl {
    /// Parses a URL of the contract's form (`postgres://` too); user, password, database and
    /// schema may be percent-encoded.
    pub fn parse(url: &str) -> Result<PgUrl, UrlError> {
        let bad = |reason: &str| UrlError {
            url: redact(url),
            reason: reason.to_string(),
        };
        let (scheme, rest) = if let Some(r) = url.strip_prefix("postgresql://") {
            ("postgresql", r)
        } else if let Some(r) = url.strip_prefix("postgres://") {
            ("postgres", r)
        } else {
            return Err(bad("the scheme is not postgresql:// or postgres://"));
        };
        let (before_query, query) = match rest.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = before_query
            .split_once('/')
            .ok_or_else(|| bad("no /DATABASE"))?;
        let (userinfo, hostport) = authority
            .rsplit_once('@')
            .ok_or_else(|| bad("no USER@ before the host"))?;
        let (user, password) = match userinfo.split_once(':') {
            Some((u, p)) => (u, Some(percent_decode(p, "password", url)?)),
            None => (userinfo, None),
        };
        let user = percent_decode(user, "user", url)?;
        if user.is_empty() {
            return Err(bad("the user is empty"));
        }
        let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
            let (h, after) = h
                .split_once(']')
                .ok_or_else(|| bad("unclosed [ in the host"))?;
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| bad("junk after the host"))?,
                ),
            };
            (h.to_string(), port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (hostport.to_string(), None),
            }
        };
        if host.is_empty() {
            return Err(bad("the host is empty"));
        }
        let port = match port {
            None => 5432,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p > 0)
                .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?,
        };
        let database = percent_decode(path, "database", url)?;
        if database.is_empty() || database.contains('/') {
            return Err(bad("the database name is empty or has a /"));
        }
        let mut schema = "public".to_string();
        if let Some(q) = query {
            for pair in q.split('&').filter(|p| !p.is_empty()) {
                match pair.split_once('=') {
                    Some(("schema", v)) if !v.is_empty() => {
                        schema = percent_decode(v, "schema", url)?;
                    }
                    _ => {
                        return Err(bad(&format!(
                            "unknown parameter `{}` (only schema=NAME is known)",
                            pair.split('=').next().unwrap_or(pair)
                        )))
                    }
                }
            }
        }
        Ok(PgUrl {
            scheme: scheme.to_string(),
            user,
            password,
            host,
            port,
            database,
            schema,
        })
    }

    /// The URL without its password (for messages, logs and comments).
    pub fn redacted(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let mut s = format!(
            "{}://{}@{}:{}/{}",
            self.scheme, self.user, host, self.port, self.database
        );
        if self.schema != "public" {
            s.push_str("?schema=");
            s.push_str(&self.schema);
        }
        s
    }

    /// The client configuration (no TLS; a 10 s connect timeout).
    pub fn config(&self) -> postgres::Config {
        let mut c = postgres::Config::new();
        c.user(&self.user)
            .host(&self.host)
            .port(self.port)
            .dbname(&self.database)
            .application_name("sro-engine-sql")
            .connect_timeout(Duration::from_secs(10));
        if let Some(p) = &self.password {
            c.password(p);
        }
        c
    }

    /// The same server and database with another schema.
    pub fn with_schema(&self, schema: &str) -> PgUrl {
        PgUrl {
            schema: schema.to_string(),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_contract_form() {
        let u = PgUrl::parse("postgresql://alice:s%40cret@db.example:6543/ehr?schema=tpp").unwrap();
        assert_eq!(u.user, "alice");
        assert_eq!(u.password.as_deref(), Some("s@cret"));
        assert_eq!((u.host.as_str(), u.port), ("db.example", 6543));
        assert_eq!((u.database.as_str(), u.schema.as_str()), ("ehr", "tpp"));
        assert_eq!(
            u.redacted(),
            "postgresql://alice@db.example:6543/ehr?schema=tpp"
        );
        let d = PgUrl::parse("postgres://bob@[::1]/x").unwrap();
        assert_eq!(
            (d.host.as_str(), d.port, d.schema.as_str()),
            ("::1", 5432, "public")
        );
        assert_eq!(d.to_string(), "postgres://bob@[::1]:5432/x");
    }

    #[test]
    fn errors_never_show_the_password() {
        for bad in [
            "postgresql://alice:hunter2@host:99999/db",
            "postgresql://alice:hunter2@host/",
            "postgresql://alice:hunter2@host/db?sslmode=require",
            "postgresql://alice:hunter2@:5432/db",
            "postgresql://:hunter2@host/db",
        ] {
            let e = PgUrl::parse(bad).unwrap_err().to_string();
            assert!(!e.contains("hunter2"), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
        assert_eq!(redact("postgresql://a:b:c@h/d"), "postgresql://a@h/d");
    }
}
