//! Vaccinations and SARS-CoV-2 tests.

use std::sync::Arc;

use query::model::{Aggregate, Comparison, Function, MatchKind, MatchRule, Position};
use query::{Frame, FrameRef, Series, SeriesRef, Value};
use yaml::Node;

use crate::lang::cx::{Built, Cx};
use crate::lang::model::{ColumnType, DateFormat};
use ehr::contract::names::{SGSS_COVID_ALL_TESTS, SGSS_COVID_EARLIEST_SPECIMENS, VACCINATIONS};

/// `column` equals one of `values`, ignoring ASCII case.
fn one_of(root: &FrameRef, column: &str, values: &[String]) -> SeriesRef {
    Series::function(Function::InCodelist {
        code: Series::column(root, column),
        codelist: Arc::new(query::Codelist {
            name: column.to_string(),
            codes: values.iter().map(|v| (v.clone(), None)).collect(),
        }),
        rule: MatchRule {
            kind: MatchKind::Exact,
            ascii_case_insensitive: true,
        },
    })
}

fn vaccination(
    cx: &mut Cx,
    targets: Option<Vec<String>>,
    products: Option<Vec<String>>,
) -> Option<Built> {
    let w = cx.window();
    let r = cx.choice("returning", &["binary_flag", "date"], false);
    let find = cx.find();
    let format = cx.date_format(DateFormat::Year);
    let (w, r, find, format) = (w?, r?, find?, format?);
    let v = cx.table(VACCINATIONS);
    let mut f = w.filter(&v, &v, "date");
    if let Some(t) = &targets {
        f = Frame::filter(&f, &one_of(&v, "target_disease", t));
    }
    if let Some(p) = &products {
        f = Frame::filter(&f, &one_of(&v, "product_name", p));
    }
    let date = Series::column(&v, "date");
    let agg_date = Series::aggregate(
        &f,
        if find == Position::First {
            Aggregate::Min(date)
        } else {
            Aggregate::Max(date)
        },
    );
    let mut b = match r {
        "binary_flag" => Built::new(ColumnType::Bool, Series::aggregate(&f, Aggregate::Exists)),
        _ => Built::date(Arc::clone(&agg_date), format),
    }
    .with_match_date(agg_date);
    b.format = Some(format);
    Some(b)
}

pub(super) fn with_tpp_vaccination_record(cx: &mut Cx) -> Option<Built> {
    let targets = cx.str_list("target_disease_matches");
    let products = cx.str_list("product_name_matches");
    let (targets, products) = (targets?, products?);
    vaccination(cx, targets, products)
}

pub(super) fn with_vaccination_record(cx: &mut Cx) -> Option<Built> {
    let (Some(tpp), Some(_emis)) = (cx.arg_node("tpp"), cx.arg_node("emis")) else {
        let pos = cx.func_pos;
        cx.err(
            pos,
            "both `tpp` and `emis` are required (`emis` is ignored)",
        );
        return None;
    };
    let list = |cx: &mut Cx, n: &Node, key: &str| -> Option<Option<Vec<String>>> {
        match n.get(key) {
            None => Some(None),
            Some(v) => {
                let prefix = cx.prefix.clone();
                crate::lang::codelists::scalar_list(&mut cx.shared.diags, &prefix, key, v).map(Some)
            }
        }
    };
    if let Some(entries) = tpp.as_map() {
        for (k, _) in entries {
            let key = k.scalar_text().unwrap_or("");
            if !["target_disease_matches", "product_name_matches"].contains(&key) {
                cx.err(
                    k.pos,
                    format!("argument `tpp`: unknown key `{key}` (known keys: target_disease_matches, product_name_matches)"),
                );
                return None;
            }
        }
    } else {
        cx.arg_err("tpp", "expected a mapping");
        return None;
    }
    let targets = list(cx, tpp, "target_disease_matches")?;
    let products = list(cx, tpp, "product_name_matches")?;
    vaccination(cx, targets, products)
}

const SGSS_LIMITS: &str = "Due to limitations in the SGSS data we receive";

pub(super) fn with_test_result_in_sgss(cx: &mut Cx) -> Option<Built> {
    let pathogen = cx.str("pathogen");
    let result = cx.choice("test_result", &["any", "positive", "negative"], false);
    let w = cx.window();
    let find = cx.find();
    let earliest = cx.bool("restrict_to_earliest_specimen_date", true);
    let r = cx.choice(
        "returning",
        &[
            "binary_flag",
            "date",
            "s_gene_target_failure",
            "case_category",
            "variant",
            "variant_detection_method",
            "symptomatic",
            "number_of_matches_in_period",
        ],
        false,
    );
    let format = cx.date_format(DateFormat::Year);
    let (pathogen, result, w, find, earliest, r, format) =
        (pathogen?, result?, w?, find?, earliest?, r?, format?);
    match pathogen.as_deref() {
        Some("SARS-CoV-2") => {}
        None => {
            let pos = cx.func_pos;
            cx.err(
                pos,
                "missing required argument `pathogen` (it must be SARS-CoV-2)",
            );
            return None;
        }
        Some(other) => {
            cx.arg_err(
                "pathogen",
                format!("`{other}` is not supported (only SARS-CoV-2)"),
            );
            return None;
        }
    }
    if r == "case_category" && !(earliest && result == "positive") {
        cx.arg_err(
            "returning",
            format!("{SGSS_LIMITS}, case_category is only available with restrict_to_earliest_specimen_date=True and test_result='positive'"),
        );
        return None;
    }
    if earliest
        && matches!(
            r,
            "number_of_matches_in_period" | "variant" | "variant_detection_method" | "symptomatic"
        )
    {
        cx.arg_err(
            "returning",
            format!("{SGSS_LIMITS}, {r} is only available with restrict_to_earliest_specimen_date=False"),
        );
        return None;
    }
    let t = cx.table(if earliest {
        SGSS_COVID_EARLIEST_SPECIMENS
    } else {
        SGSS_COVID_ALL_TESTS
    });
    let mut f = w.filter(&t, &t, "specimen_taken_date");
    let positive = Series::column(&t, "is_positive");
    match result {
        "positive" => f = Frame::filter(&f, &positive),
        "negative" => f = Frame::filter(&f, &Series::not(&positive)),
        _ => {}
    }
    let s = |c: &str| Series::column(&t, c);
    let lit = |v: &str| Series::value(Value::str(v));
    // The value each returning option reads from a row.
    let row_value: SeriesRef = match r {
        "s_gene_target_failure" => Series::function(Function::IntToStr(s("sgtf_status"))),
        "case_category" => s("case_category"),
        "variant" => {
            let v = s("variant");
            let is = |x: &str| Series::compare(Comparison::Eq, &v, &lit(x));
            Series::function(Function::Case {
                cases: vec![
                    (
                        Series::any_of(&[is("(blank)"), is("none"), is("N/A")]),
                        lit(""),
                    ),
                    (is("VOC-20DEC-01 detected"), lit("VOC-20DEC-01")),
                ],
                default: Some(Arc::clone(&v)),
            })
        }
        "variant_detection_method" => s("variant_detection_method"),
        "symptomatic" => {
            let v = s("was_symptomatic");
            Series::function(Function::Case {
                cases: vec![
                    (
                        Series::compare(Comparison::Eq, &v, &Series::value(Value::Bool(true))),
                        lit("Y"),
                    ),
                    (
                        Series::compare(Comparison::Eq, &v, &Series::value(Value::Bool(false))),
                        lit("N"),
                    ),
                ],
                default: Some(lit("")),
            })
        }
        _ => s("specimen_taken_date"),
    };
    let date = s("specimen_taken_date");
    let keys = vec![
        Arc::clone(&date),
        Arc::clone(&positive),
        Arc::clone(&row_value),
    ];
    // The row's value as a column of the picked row.
    let projected = Arc::new(Frame::Concat {
        columns: vec![
            ("specimen_taken_date".into(), query::Type::Date),
            ("is_positive".into(), query::Type::Bool),
            ("value".into(), row_type(r)),
        ],
        parts: vec![(
            Arc::clone(&f),
            vec![Arc::clone(&date), Arc::clone(&positive), row_value],
        )],
    });
    let pd = Series::column(&projected, "specimen_taken_date");
    let pp = Series::column(&projected, "is_positive");
    let pv = Series::column(&projected, "value");
    let picked = Frame::pick(&projected, vec![pd, pp, pv], find);
    let _ = keys;
    let pick_date = Series::column(&picked, "specimen_taken_date");
    let mut b = match r {
        "binary_flag" => Built::new(ColumnType::Bool, Series::aggregate(&f, Aggregate::Exists))
            .with_match_date(Arc::clone(&pick_date)),
        "number_of_matches_in_period" => {
            let mut b = Built::new(ColumnType::Int, Series::aggregate(&f, Aggregate::Count));
            b.no_date_of = Some("a count has no single date".into());
            b
        }
        "date" => Built::date(Arc::clone(&pick_date), format).with_match_date(pick_date),
        _ => {
            Built::new(ColumnType::Str, Series::column(&picked, "value")).with_match_date(pick_date)
        }
    };
    b.format = Some(format);
    Some(b)
}

fn row_type(r: &str) -> query::Type {
    match r {
        "binary_flag" | "number_of_matches_in_period" | "date" => query::Type::Date,
        _ => query::Type::Str,
    }
}
