//! The project's study (`analysis/study_definition.yaml`) over a small hand-made EHR for its
//! 25 monthly index dates: both engines agree, and the result is pinned as a snapshot.

use std::path::Path;

use crate::spec_support::*;
use cohort::study::{Runtime, StudyDefinition};
use cohort::tables::EhrTables;

fn tables() -> EhrTables {
    let mut died = patient(7, "1935-06-01", "F");
    died.date_of_death = Some(ymd("2020-04-20"));
    EhrTables {
        patients: vec![
            patient(1, "1950-02-01", "F"), // turns 70 in Feb 2020: 60-69 -> 70-79
            patient(2, "2000-12-01", "M"), // turns 20 in Dec 2020: 0-19 -> 20-29
            patient(3, "1985-07-01", "I"),
            patient(4, "1899-01-01", "U"), // 120+: age band "0" (DEFAULT)
            patient(5, "2019-06-01", "F"), // born mid-study: age 0 in the 0-19 band
            patient(6, "1970-01-01", "M"), // registered only from 2020-06-15
            died,                          // registration ends at death
            patient(8, "1990-03-01", "F"), // never registered
        ],
        practice_registrations: vec![
            reg(1, "2010-01-01", None, 1, Some("London")),
            reg(2, "2005-01-01", Some("2019-09-01"), 2, Some("North East")),
            reg(2, "2019-09-01", None, 3, Some("South West")), // moves practice on the 1st
            reg(3, "2018-01-01", None, 4, None),               // practice with no region
            reg(4, "1990-01-01", None, 1, Some("London")),
            reg(5, "2019-06-01", None, 5, Some("East of England")),
            reg(6, "2020-06-15", None, 1, Some("London")),
            reg(
                7,
                "1990-01-01",
                Some("2020-04-20"),
                6,
                Some("Yorkshire and the Humber"),
            ),
            reg(9, "2015-01-01", None, 1, Some("London")), // no `patients` row
        ],
        clinical_events: vec![
            event(1, "2020-05-01", Some("Y2a48"), None, None), // on a boundary: May and April
            event(1, "2020-11-17", Some("YA796"), None, None),
            event(2, "2020-06-10", Some("y2a48"), None, None), // wrong case: not a match
            event(3, "2020-07-04", None, Some("1325191000000108"), None), // SNOMED only
            event(4, "2019-01-01", Some("Y2a47"), None, None),
            event(6, "2020-06-01", Some("Y2a49"), None, None), // before registration
            event(6, "2020-07-02", Some("Y2a49"), None, None),
            event(7, "2020-03-25", Some("Y2a48"), None, None),
            event(9, "2021-01-31", Some("Y2a48"), None, None),
        ],
    }
}

#[test]
fn the_study_over_a_hand_made_ehr() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let study = StudyDefinition::load(&root.join("analysis/study_definition.yaml"))
        .unwrap()
        .compile(&Runtime::check())
        .unwrap();
    let dates: Vec<_> = (0..25)
        .map(|m| ymd(&format!("{}-{:02}-01", 2019 + m / 12, m % 12 + 1)))
        .collect();
    let frames = both_dates(&study, &tables(), &dates);
    let header = std::iter::once("patient_id")
        .chain(study.columns.iter().map(|c| c.name.as_str()))
        .collect::<Vec<_>>()
        .join("|");
    let mut text = format!("{header}\n");
    for (date, frame) in dates.iter().zip(&frames) {
        text.push_str(&format!("{date}\n"));
        for row in rows(&study, frame) {
            text.push_str(&format!("  {row}\n"));
        }
    }
    insta::assert_snapshot!(text);
}
