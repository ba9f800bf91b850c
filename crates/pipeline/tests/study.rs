//! The study's own `project.yaml` keeps the original's actions, needs and outputs, with this
//! project's images for the plots and the report.

fn load(path: &str) -> pipeline::Project {
    let text = std::fs::read_to_string(path).unwrap();
    let v = pipeline::validate(&text);
    v.project
        .unwrap_or_else(|| panic!("{path}: {:#?}", v.diagnostics))
}

#[test]
fn root_project_matches_the_original() {
    let ours = load(concat!(env!("CARGO_MANIFEST_DIR"), "/../../project.yaml"));
    let original = load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/study/project.original.yaml"
    ));
    assert_eq!(ours.version, 3.0);
    assert_eq!(ours.population_size, Some(10000));
    assert_eq!(
        ours.action_names().collect::<Vec<_>>(),
        original.action_names().collect::<Vec<_>>()
    );
    for (a, b) in ours.actions.iter().zip(&original.actions) {
        assert_eq!(a.needs, b.needs, "{}", a.name);
        assert_eq!(a.outputs, b.outputs, "{}", a.name);
    }
    for name in ["generate_study_population", "generate_measures"] {
        assert_eq!(
            ours.action(name).unwrap().run,
            original.action(name).unwrap().run
        );
    }
    let plots = &ours.action("generate_plots").unwrap().run;
    assert_eq!((plots.image.as_str(), plots.tag.as_str()), ("plots", "v1"));
    assert_eq!(
        plots.args,
        [
            "generate_plots",
            "--measures-dir",
            "output/measures",
            "--output-dir",
            "output/figures"
        ]
    );
    let report = &ours.action("generate_notebook").unwrap().run;
    assert_eq!(
        (report.image.as_str(), report.tag.as_str()),
        ("report", "v1")
    );
    assert_eq!(
        report.option("--output"),
        Some("output/pulse_oximetry_SRO.html")
    );
    // The report takes its codelists from the study definition (`--codelist` still overrides).
    assert_eq!(report.option("--codelist"), None);
}
