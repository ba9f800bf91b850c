//! `dump-sql`: the SQL `generate_cohort` would run in a database, for review before it runs.

use std::path::Path;

use engine_sql::Dialect;

use super::{usage, vmp_pairs, CohortError, CohortOptions};
use crate::lang::{Runtime, StudyDefinition};
use crate::output::parse_index_date_range;
use ehr::DataSource;

/// The SQL of every study definition `options` selects, over its index dates, in `dialect`;
/// each study's statements are headed by a comment naming it and its index dates. With a
/// database URL in `options`, dm+d codelists are expanded through its `vmp_mapping` as a run
/// would; nothing is run.
pub fn dump_sql(
    options: &CohortOptions,
    project_dir: &Path,
    dialect: &dyn Dialect,
) -> Result<String, CohortError> {
    let definitions = files::study::select_any(
        &project_dir.join("analysis"),
        options.study_definition.as_deref(),
    )?;
    let vmp_mapping = match options
        .database_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
        .map(|u| DataSource::from_url(u, project_dir))
        .transpose()?
    {
        Some(DataSource::Folder(dir)) => ehr::TableFolder::open(&dir)?
            .load_vmp_mapping()?
            .map(|df| vmp_pairs(&df)),
        Some(DataSource::Postgres(url)) => {
            engine_sql::postgres::PostgresEngine::connect(&url)?.load_vmp_mapping()?
        }
        Some(DataSource::Spark(url)) => {
            engine_spark::SparkEngine::connect(&url)?.load_vmp_mapping()?
        }
        None => None,
    };
    let range = match options.index_date_range.as_deref().map(str::trim) {
        Some(r) if !r.is_empty() => Some(parse_index_date_range(r)?),
        _ => None,
    };
    let runtime = Runtime {
        today: chrono::Local::now().date_naive(),
        vmp_mapping,
        read_files: true,
    };
    let mut out = String::new();
    for definition in &definitions {
        let study = StudyDefinition::load_with_params(&definition.path, &options.params)?;
        let compiled = study.compile(&runtime)?;
        let dates = match &range {
            Some(dates) => dates.clone(),
            None => vec![study.index_date.ok_or_else(|| {
                usage(format!(
                    "{} has no index_date and no --index-date-range was given",
                    definition.path.display()
                ))
            })?],
        };
        for d in &dates {
            compiled.check_dates(*d).map_err(CohortError::Date)?;
        }
        let qdates: Vec<query::Date> = dates.iter().map(|d| query::Date::from_naive(*d)).collect();
        let name = definition
            .path
            .strip_prefix(project_dir)
            .unwrap_or(&definition.path)
            .display()
            .to_string();
        let (Some(first), Some(last)) = (qdates.first(), qdates.last()) else {
            continue;
        };
        out.push_str(&format!(
            "-- {name}: {} index date(s), {first} to {last}, over {}\n\n",
            qdates.len(),
            dialect.source_description()
        ));
        out.push_str(&engine_sql::dump_sql(&compiled.dataset, &qdates, dialect)?);
        out.push('\n');
    }
    Ok(out)
}
