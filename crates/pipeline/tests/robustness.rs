//! No input makes validation or planning panic: random YAML-ish token soup, and every prefix
//! of the real corpus files.

use proptest::prelude::*;

const TOKENS: &[&str] = &[
    "version: ",
    "actions:",
    "expectations:",
    "population_size: ",
    "\n",
    "\r\n",
    "  ",
    "    ",
    "- ",
    "a:",
    "b:",
    "run: ",
    "python:v2 ",
    "cohortextractor:latest generate_cohort ",
    "ehrql:v1 generate-dataset --output ",
    "'",
    "\"",
    "[",
    "]",
    "{",
    "}",
    ", ",
    "needs: ",
    "outputs:",
    "highly_sensitive:",
    "moderately_sensitive:",
    "t: ",
    "\t",
    "# c",
    "&x ",
    "*x",
    "!!str ",
    "? ",
    "---\n",
    "...\n",
    "0",
    "5",
    "3.5",
    "1e9",
    "output/a.csv",
    "output/*.csv",
    "a\\b",
    "~",
    "null",
    "true",
    ">\n",
    "|\n",
    ":",
    "é",
    "\u{0}",
    "config: ",
    "run_all:",
];

fn check_no_panic(text: &str) {
    let v = pipeline::validate(text);
    if let Some(project) = &v.project {
        let names: Vec<String> = project.action_names().map(str::to_string).collect();
        if !names.is_empty() {
            let order = pipeline::graph::plan(project, &names).unwrap();
            assert_eq!(order.len(), names.len());
        }
        assert!(v.errors().next().is_none());
    } else {
        assert!(
            v.errors().next().is_some(),
            "invalid without an error: {text:?}"
        );
    }
    for d in &v.diagnostics {
        assert!(d.pos.line >= 1 && d.pos.col >= 1);
        let _ = d.to_string();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn token_soup(tokens in proptest::collection::vec(proptest::sample::select(TOKENS), 0..60)) {
        check_no_panic(&tokens.concat());
    }

    #[test]
    fn arbitrary_text(text in "\\PC{0,200}") {
        check_no_panic(&text);
    }
}

#[test]
fn every_prefix_of_corpus_files() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/corpus/project_yamls"
    );
    for file in [
        "demo_repo.yaml",
        "carehomes-research.yaml",
        "waiting-list.yaml",
    ] {
        let text = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
        let mut cut = 0;
        while cut < text.len() {
            if text.is_char_boundary(cut) {
                check_no_panic(&text[..cut]);
            }
            cut += 37;
        }
    }
}
