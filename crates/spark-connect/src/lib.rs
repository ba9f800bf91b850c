//! A small, blocking [Spark Connect](https://spark.apache.org/docs/latest/spark-connect-overview.html)
//! client: the gRPC protocol PySpark's `remote()` sessions and Databricks Connect speak.
//!
//! - [`Client::connect`] takes `sc://HOST[:PORT][/;param=value;...]` ([`url`]).
//! - [`Client::sql`] / [`Client::sql_with`] run statements; [`Params`] bind values to `:name` or
//!   `?` markers, so data never becomes SQL text.
//! - [`Client::sql_arrow`] streams a query's result as raw Arrow IPC stream bytes, one item per
//!   batch, for the caller to decode (with polars); this crate has no Arrow dependency.
//! - [`Client::create_temp_view_from_arrow`] uploads an Arrow IPC stream as a `LocalRelation` and
//!   registers it as a temporary view.
//!
//! The gRPC messages in [`proto`] are generated from the `.proto` files of the pinned Spark
//! ([`PINNED_SPARK_VERSION`]) by `regen.sh`, so building needs no `protoc`.
//! With the `testing` feature, [`testing`] runs a private local standalone cluster for tests.

mod client;
mod error;
pub mod url;
mod value;

#[cfg(feature = "testing")]
pub mod testing;

/// Generated Spark Connect protocol messages and gRPC client (package `spark.connect`).
#[allow(clippy::all, clippy::pedantic, missing_docs, deprecated, rustdoc::all)]
pub mod proto {
    include!("proto/spark.connect.rs");
}

pub use client::{ArrowBatches, Client};
pub use error::{Error, Result};
pub use url::ConnectUrl;
pub use value::{Params, Value};

/// The Spark version this client's protocol files come from, and that
/// `scripts/spark/provision.sh` installs (as the `pyspark` package of the same version).
pub const PINNED_SPARK_VERSION: &str = "4.1.1";
