//! Every real-world `project.yaml` of the corpus (`tests/data/corpus`) gets its listed verdict, and the
//! diagnostics of the invalid ones are pinned by snapshots.

use std::path::Path;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/corpus");

#[test]
fn corpus_verdicts() {
    let expected = std::fs::read_to_string(Path::new(CORPUS).join("expected.tsv")).unwrap();
    let mut checked = 0;
    for line in expected.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let mut cols = line.split('\t');
        let file = cols.next().unwrap();
        let verdict = cols.next().unwrap();
        let text =
            std::fs::read_to_string(Path::new(CORPUS).join("project_yamls").join(file)).unwrap();
        let v = pipeline::validate(&text);
        let rendered: Vec<String> = v
            .diagnostics
            .iter()
            .map(|d| d.clone().in_file(file).to_string())
            .collect();
        match verdict {
            "valid" => assert!(v.is_valid(), "{file}: {rendered:#?}"),
            "invalid" => {
                assert!(!v.is_valid(), "{file} should be invalid");
                insta::assert_snapshot!(file, rendered.join("\n"));
            }
            other => panic!("unknown verdict {other}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 13);
}

#[test]
fn every_corpus_file_parses_to_its_actions() {
    let text =
        std::fs::read_to_string(Path::new(CORPUS).join("project_yamls/post-covid-vaccinated.yaml"))
            .unwrap();
    let p = pipeline::validate(&text).project.unwrap();
    assert_eq!(p.actions.len(), 301);
    let edges: usize = p.actions.iter().map(|a| a.needs.len()).sum();
    assert!(edges > 500, "{edges}");
    let all: Vec<String> = p.action_names().map(str::to_string).collect();
    let order = pipeline::graph::plan(&p, &all).unwrap();
    assert_eq!(order.len(), 301);
}

#[test]
fn waiting_list_drops_the_commented_flag() {
    let text =
        std::fs::read_to_string(Path::new(CORPUS).join("project_yamls/waiting-list.yaml")).unwrap();
    let p = pipeline::validate(&text).project.unwrap();
    let a = p.action("generate_dataset_full").unwrap();
    assert_eq!(
        a.run.args,
        [
            "generate-dataset",
            "analysis/dataset_definition_full.py",
            "--output",
            "output/data/dataset_full.arrow"
        ]
    );
}
