//! Property test: on random tables and random query-model datasets (`query::testing`), the
//! polars engine gives exactly the rows of the reference interpreter, in one run and in patient
//! partitions.

use std::collections::HashMap;

use engine_polars::{PartitionedEngine, PolarsEngine};
use polars::prelude::*;
use proptest::prelude::*;
use query::testing::{random_case, same};
use query::{Engine, Interpreter, Table, Type, Value};

fn to_frame(table: &Table) -> DataFrame {
    let mut cols = vec![Column::new(
        "patient_id".into(),
        table.rows.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
    )];
    for (i, c) in table.schema.columns.iter().enumerate() {
        let vals: Vec<&Value> = table.rows.iter().map(|(_, r)| &r[i]).collect();
        let name: PlSmallStr = c.name.as_str().into();
        cols.push(match c.ty {
            Type::Int => Column::new(name, vals.iter().map(|v| v.as_int()).collect::<Vec<_>>()),
            Type::Float => Column::new(name, vals.iter().map(|v| v.as_f64()).collect::<Vec<_>>()),
            Type::Str => Column::new(name, vals.iter().map(|v| v.as_str()).collect::<Vec<_>>()),
            Type::Bool => Column::new(name, vals.iter().map(|v| v.as_bool()).collect::<Vec<_>>()),
            Type::Date => Column::new(
                name,
                vals.iter()
                    .map(|v| v.as_date().map(|d| d.0))
                    .collect::<Vec<_>>(),
            )
            .cast(&DataType::Date)
            .unwrap(),
        });
    }
    DataFrame::new_infer_height(cols).unwrap()
}

fn check_seed(seed: u64) -> Result<(), String> {
    let (t, dataset, dates) = random_case(seed);
    let frames: HashMap<String, DataFrame> = t
        .tables
        .iter()
        .map(|(k, v)| (k.clone(), to_frame(v)))
        .collect();
    let expected = Interpreter::new(t.clone())
        .run_all(&dataset, &dates)
        .map_err(|e| format!("interpreter: {e}"))?;
    // Small passes, so that passes and shared values are exercised too.
    let rows = 1 + (seed >> 7) as usize % 40;
    // One to three passes at once, so that passes on several threads share values too.
    let workers = 1 + (seed >> 17) as usize % 3;
    let got = PolarsEngine::new(frames.clone(), "memory")
        .with_rows_per_pass(rows)
        .with_workers(workers)
        .run_all(&dataset, &dates)
        .map_err(|e| format!("polars ({workers} workers): {e}"))?;
    same(&expected, &got).map_err(|e| format!("{e}\n{dataset:#?}"))?;
    // Partitions of 1 to 4 patients, so that every boundary case (a patient only in an inline
    // table, rows cut by a codelist prefilter) meets a partition edge.
    let per_partition = 1 + (seed >> 13) as usize % 4;
    let got = PartitionedEngine::new(frames, "memory", per_partition)
        .with_rows_per_pass(rows)
        .with_workers(workers)
        .run_all(&dataset, &dates)
        .map_err(|e| format!("polars, partitions of {per_partition}: {e}"))?;
    same(&expected, &got).map_err(|e| format!("partitions of {per_partition}: {e}\n{dataset:#?}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn polars_agrees_with_the_interpreter(seed in any::<u64>()) {
        if let Err(e) = check_seed(seed) {
            prop_assert!(false, "seed {seed}: {e}");
        }
    }
}
