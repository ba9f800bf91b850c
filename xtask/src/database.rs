//! `cargo xtask dump-sql` and `cargo xtask load-ehr`: the commands for running a study in a
//! database.

use std::path::PathBuf;
use std::process::ExitCode;

use ehr::DataSource;

use crate::images::{generate_cohort, options};

/// The SQL dialects `dump-sql` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SqlDialect {
    /// PostgreSQL.
    Postgres,
    /// Spark SQL.
    Spark,
}

/// Arguments of `dump-sql`.
#[derive(Debug, clap::Args)]
pub struct DumpSqlArgs {
    /// The SQL dialect.
    #[arg(long, value_enum, default_value_t = SqlDialect::Postgres)]
    pub dialect: SqlDialect,
    /// The project folder (holding analysis/).
    #[arg(long, default_value = ".")]
    pub project_dir: PathBuf,
    /// generate_cohort's flags (--study-definition, --index-date-range, --database-url, …),
    /// read as generate_cohort reads them.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "GENERATE_COHORT_FLAGS"
    )]
    pub cohort: Vec<String>,
}

/// Runs `dump-sql`: the SQL on stdout, errors on stderr.
pub fn dump_sql(args: DumpSqlArgs) -> ExitCode {
    let DumpSqlArgs {
        dialect,
        project_dir,
        cohort,
    } = args;
    let mut stderr = std::io::stderr();
    let mut options = match options::<generate_cohort::Args>(&cohort, &mut stderr) {
        Ok(Some(o)) => o,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    options.database_url = DataSource::url_from_flag_or_env(options.database_url.as_deref());
    // The schema of a PostgreSQL URL, else `public`.
    let schema = options
        .database_url
        .as_deref()
        .filter(|u| engine_sql::postgres::is_postgres_url(u))
        .and_then(|u| engine_sql::postgres::PgUrl::parse(u).ok())
        .map_or_else(|| "public".to_string(), |u| u.schema);
    // The database of a Spark Connect URL, else the current one.
    let database = options
        .database_url
        .as_deref()
        .filter(|u| u.starts_with("sc://"))
        .and_then(|u| spark_connect::ConnectUrl::parse(u).ok())
        .and_then(|u| u.database);
    let dialect: Box<dyn engine_sql::Dialect> = match dialect {
        SqlDialect::Postgres => Box::new(engine_sql::Postgres::new(schema)),
        SqlDialect::Spark => Box::new(engine_sql::SparkSql::new(database)),
    };
    match cohort::cli::dump_sql(&options, &project_dir, dialect.as_ref()) {
        Ok(sql) => {
            print!("{sql}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Arguments of `load-ehr`.
#[derive(Debug, clap::Args)]
pub struct LoadEhrArgs {
    /// The folder of table files (as generate-ehr writes them).
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
    /// postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME] or
    /// sc://HOST[:PORT][/;database=NAME;token=…] (default: DATABASE_URL).
    #[arg(long, value_name = "URL")]
    pub to: Option<String>,
}

/// Runs `load-ehr`.
pub fn load_ehr(args: &LoadEhrArgs) -> ExitCode {
    let Some(to) = DataSource::url_from_flag_or_env(args.to.as_deref()) else {
        eprintln!("error: load-ehr: give --to postgresql://… (or set DATABASE_URL)");
        return ExitCode::FAILURE;
    };
    if !engine_sql::postgres::is_postgres_url(&to) && !to.starts_with("sc://") {
        eprintln!(
            "error: load-ehr: --to must be a postgresql:// or sc:// URL, not {}",
            engine_sql::postgres::redact(&to)
        );
        return ExitCode::FAILURE;
    }
    match cohort::load_ehr::load_ehr(&args.from, &to, &mut std::io::stderr()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
