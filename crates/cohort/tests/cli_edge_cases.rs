//! The study's `generate_cohort` over a hand-made table folder (`tests/data/edge_cases`):
//! both engines give exactly the rows worked out by hand in `expected/`.

use std::fs;
use std::path::{Path, PathBuf};

use cohort::output::{write_batch, OutputFormat};
use cohort::study::StudyDefinition;

const DATES: [&str; 3] = ["2020-01-01", "2020-02-01", "2020-03-01"];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn edge_cases() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/edge_cases")
}

fn expected(date: &str) -> String {
    fs::read_to_string(edge_cases().join(format!("expected/input_{date}.csv"))).unwrap()
}

#[test]
fn generate_cohort_over_the_folder_gives_the_hand_worked_rows() {
    let out = tempfile::tempdir().unwrap();
    let options = cohort::cli::CohortOptions {
        study_definition: Some("study_definition".into()),
        index_date_range: Some("2020-01-01 to 2020-03-01 by month".into()),
        output_dir: Some(out.path().to_path_buf()),
        database_url: Some(format!("file://{}", edge_cases().display())),
        ..Default::default()
    };
    let mut log = Vec::new();
    cohort::cli::generate_cohort(&options, &repo_root(), &mut log).unwrap();
    for date in DATES {
        let got = fs::read_to_string(out.path().join(format!("input_{date}.csv"))).unwrap();
        assert_eq!(got, expected(date), "{date}");
    }
    let mut written: Vec<_> = fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    written.sort();
    assert_eq!(
        written,
        DATES.map(|d| format!("input_{d}.csv")),
        "only the three files, no temporary leftovers"
    );
}

#[test]
fn the_reference_interpreter_gives_the_same_hand_worked_rows() {
    use query::Engine;
    let study = StudyDefinition::load(&repo_root().join("analysis/study_definition.yaml"))
        .unwrap()
        .compile(&cohort::study::Runtime::check())
        .unwrap();
    let folder = ehr::TableFolder::open(&edge_cases()).unwrap();
    let frames = folder.load(&study.tables()).unwrap();
    let interpreter = query::Interpreter::new(ehr::rows::to_tables(&frames).unwrap());
    let out = tempfile::tempdir().unwrap();
    for date in DATES {
        let index_date = query::Date::parse_iso(date).unwrap();
        let batches = interpreter.run_all(&study.dataset, &[index_date]).unwrap();
        let path = out.path().join(format!("{date}.csv"));
        write_batch(&batches[0].1, &study.columns, &path, OutputFormat::Csv).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), expected(date), "{date}");
    }
}
