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
