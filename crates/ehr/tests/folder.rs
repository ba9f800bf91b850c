//! Loading a table folder: types, nulls, contract rules and error messages.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use ehr::TableFolder;
use polars::prelude::*;

fn needed(table: &str, cols: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let mut m = BTreeMap::new();
    m.insert(
        table.to_string(),
        cols.iter().map(std::string::ToString::to_string).collect(),
    );
    m
}

#[test]
fn csv_columns_are_typed_and_only_needed_ones_read() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("addresses.csv"),
        "patient_id,address_id,start_date,end_date,imd_rounded,has_postcode,care_home_is_potential_match,junk\n\
         1,10,2019-01-01,,3200,1,false,x\n2,11,2018-05-01,2020-01-01,,TRUE,0,y\n",
    )
    .unwrap();
    let folder = TableFolder::open(dir.path()).unwrap();
    let tables = folder
        .load(&needed(
            "addresses",
            &["start_date", "end_date", "imd_rounded", "has_postcode"],
        ))
        .unwrap();
    let df = &tables["addresses"];
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    assert_eq!(
        names,
        [
            "patient_id",
            "end_date",
            "has_postcode",
            "imd_rounded",
            "start_date"
        ]
    );
    assert_eq!(df.column("end_date").unwrap().dtype(), &DataType::Date);
    assert_eq!(df.column("end_date").unwrap().null_count(), 1);
    let pc: Vec<Option<bool>> = df
        .column("has_postcode")
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(pc, [Some(true), Some(true)]);
}

#[test]
fn contract_violations_name_table_column_row_and_value() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("addresses.csv"),
        "patient_id,address_id,start_date,imd_rounded\n1,10,2019-01-01,3250\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("medications.csv"),
        "patient_id,date,dmd_code\n1,,123\n",
    )
    .unwrap();
    let folder = TableFolder::open(dir.path()).unwrap();
    let e = folder
        .load(&needed("addresses", &["imd_rounded"]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("table `addresses`")
            && e.contains("column `imd_rounded`")
            && e.contains("row 1")
            && e.contains("3250"),
        "{e}"
    );
    let e = folder
        .load(&needed("medications", &["date"]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("column `date`") && e.contains("row 1") && e.contains("required"),
        "{e}"
    );
    let e = folder
        .load(&needed("addresses", &["msoa_code"]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("has no column `msoa_code`"), "{e}");
    let e = folder.load(&needed("apcs", &[])).unwrap_err().to_string();
    assert!(e.contains("table `apcs` is missing"), "{e}");
    let e = folder
        .load(&needed("nonsense", &[]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a table of the data-source contract"), "{e}");
}

#[test]
fn zoned_timestamps_are_taken_in_utc() {
    let dir = tempfile::tempdir().unwrap();
    // 2020-03-01T23:30:00Z and 2020-03-02T00:30:00+01:00 (= 2020-03-01T23:30Z).
    let ts = Int64Chunked::from_vec("date".into(), vec![1_583_105_400_000, 1_583_105_400_000])
        .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC));
    let mut df = DataFrame::new_infer_height(vec![
        Column::new("patient_id".into(), [1i64, 2]),
        ts.into_series().into(),
        Column::new("dmd_code".into(), ["1", "2"]),
    ])
    .unwrap();
    let f = fs::File::create(dir.path().join("medications.parquet")).unwrap();
    ParquetWriter::new(f).finish(&mut df).unwrap();
    let folder = TableFolder::open(dir.path()).unwrap();
    let tables = folder.load(&needed("medications", &["date"])).unwrap();
    let days: Vec<Option<i32>> = tables["medications"]
        .column("date")
        .unwrap()
        .date()
        .unwrap()
        .physical()
        .iter()
        .collect();
    assert_eq!(days, [Some(18322), Some(18322)]); // 2020-03-01
}

#[test]
fn an_unsorted_table_is_sorted_with_its_prefilter_and_keeps_the_cut_patients() {
    use ehr::PartitionedFolder;
    use query::check::CodePrefilter;
    let dir = tempfile::tempdir().unwrap();
    // Patients 1..=40 in reverse order; odd patients have a codelist code, every patient has
    // another code; patient 40 only the other code.
    let mut text = String::from("patient_id,date,snomedct_code\n");
    for p in (1..=40).rev() {
        if p % 2 == 1 {
            text.push_str(&format!("{p},2020-01-0{},111\n", 1 + p % 9));
        }
        text.push_str(&format!("{p},2020-02-01,999\n"));
    }
    fs::write(dir.path().join("clinical_events.csv"), text).unwrap();
    let folder = TableFolder::open(dir.path()).unwrap();
    let mut open = PartitionedFolder::open(
        &folder,
        &needed("clinical_events", &["date", "snomedct_code"]),
    )
    .unwrap();
    let mut prefilters = BTreeMap::new();
    prefilters.insert(
        "clinical_events".to_string(),
        CodePrefilter {
            column: "snomedct_code".into(),
            codes: ["111".to_string()].into_iter().collect(),
        },
    );
    // A budget of a few rows: several partitions, so the table is sorted.
    let plan = open.plan(200);
    assert!(plan.needs_sort(), "{plan:?}");
    let temp = tempfile::tempdir().unwrap();
    let mut passes = Vec::new();
    let plan = open
        .prepare(plan, &prefilters, temp.path(), &mut |p| {
            if p.finished {
                passes.push((p.pass, p.rows));
            }
        })
        .unwrap();
    // Pass 1 reads the 60 rows; pass 2 writes the 20 kept.
    assert_eq!(passes, [(1, 60), (2, 20)]);
    assert!(plan.ranges.len() > 1, "{plan:?}");
    let (mut kept, mut cut) = (Vec::new(), Vec::new());
    for range in &plan.ranges {
        let (tables, dropped) = open.load(range, &prefilters).unwrap();
        let ids = tables["clinical_events"]["patient_id"]
            .i64()
            .unwrap()
            .clone();
        let ids: Vec<i64> = ids.into_no_null_iter().collect();
        assert!(ids.iter().all(|p| range.contains(p)), "{range:?}: {ids:?}");
        kept.extend(ids);
        cut.extend(dropped);
    }
    // Each bucket keeps the file's order; the partitions are in patient order.
    kept.sort_unstable();
    assert_eq!(kept, (1..=40).filter(|p| p % 2 == 1).collect::<Vec<i64>>());
    // The patients of the rows cut stay in the universe: every patient has one (the even
    // ones have no other row).
    cut.sort_unstable();
    assert_eq!(cut, (1..=40).collect::<Vec<i64>>());
    drop(open);
    assert_eq!(
        fs::read_dir(temp.path()).unwrap().count(),
        0,
        "the sorted copy is removed"
    );
}
