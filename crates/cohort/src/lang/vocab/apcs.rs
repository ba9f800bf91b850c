//! Hospital records (SUS): admissions, A&E attendances, outpatient appointments, and
//! ethnicity recorded in any of them.

use std::sync::Arc;

use query::model::{Aggregate, Comparison, Function, MatchKind, MatchRule, Position, StrFunction};
use query::{Frame, FrameRef, Series, SeriesRef, Value};

use crate::lang::codelists::CodeSystem;
use crate::lang::cx::{Built, Cx, Window};
use crate::lang::model::{ColumnType, DateFormat};
use ehr::contract::names::{APCS, EMERGENCY_CARE_ATTENDANCES, OPA};

fn codes_match(
    root: &FrameRef,
    column: &str,
    codelist: &crate::lang::Codelist,
    kind: MatchKind,
    ci: bool,
) -> SeriesRef {
    Series::function(Function::InCodelist {
        code: Series::column(root, column),
        codelist: codelist.query(),
        rule: MatchRule {
            kind,
            ascii_case_insensitive: ci,
        },
    })
}

/// `column` equals one of `values` exactly.
fn equals_one_of(root: &FrameRef, column: &str, values: &[String]) -> SeriesRef {
    Series::function(Function::InCodelist {
        code: Series::column(root, column),
        codelist: Arc::new(query::Codelist {
            name: column.to_string(),
            codes: values.iter().map(|v| (v.clone(), None)).collect(),
        }),
        rule: MatchRule::EXACT,
    })
}

fn first_or_last(frame: &FrameRef, s: SeriesRef, find: Position) -> SeriesRef {
    Series::aggregate(
        frame,
        if find == Position::First {
            Aggregate::Min(s)
        } else {
            Aggregate::Max(s)
        },
    )
}

pub(super) fn admitted_to_hospital(cx: &mut Cx) -> Option<Built> {
    let w = cx.window();
    let r = cx.choice(
        "returning",
        &[
            "binary_flag",
            "date_admitted",
            "date_discharged",
            "number_of_matches_in_period",
            "primary_diagnosis",
            "admission_method",
            "source_of_admission",
            "discharge_destination",
            "patient_classification",
            "admission_treatment_function_code",
            "administrative_category",
            "duration_of_elective_wait",
            "days_in_critical_care",
            "total_bed_days_in_period",
            "total_critical_care_days_in_period",
        ],
        false,
    );
    let find = cx.find();
    let format = cx.date_format(DateFormat::Year);
    let diagnoses = cx.codelist("with_these_diagnoses", &[CodeSystem::Icd10]);
    let primary = cx.codelist("with_these_primary_diagnoses", &[CodeSystem::Icd10]);
    let procedures = cx.codelist("with_these_procedures", &[CodeSystem::Opcs4]);
    let critical = cx.bool("with_at_least_one_day_in_critical_care", false);
    let (w, r, find, format, diagnoses, primary, procedures, critical) = (
        w?,
        r?,
        find?,
        format?,
        diagnoses?,
        primary?,
        procedures?,
        critical?,
    );
    if r.starts_with("total_")
        && (cx.has("find_first_match_in_period") || cx.has("find_last_match_in_period"))
    {
        let pos = cx.func_pos;
        cx.err(pos, format!("`returning: {r}` cannot be combined with find_first_match_in_period / find_last_match_in_period"));
        return None;
    }
    let apcs = cx.table(APCS);
    let mut f = w.filter(&apcs, &apcs, "admission_date");
    if let Some(cl) = &diagnoses {
        f = Frame::filter(
            &f,
            &codes_match(&apcs, "all_diagnoses", cl, MatchKind::TokenPrefix, true),
        );
    }
    if let Some(cl) = &primary {
        f = Frame::filter(
            &f,
            &codes_match(&apcs, "primary_diagnosis", cl, MatchKind::Prefix, true),
        );
    }
    if let Some(cl) = &procedures {
        f = Frame::filter(
            &f,
            &codes_match(&apcs, "all_procedures", cl, MatchKind::TokenPrefix, true),
        );
    }
    for (arg, column) in [
        ("with_admission_method", "admission_method"),
        ("with_source_of_admission", "source_of_admission"),
        ("with_discharge_destination", "discharge_destination"),
        ("with_patient_classification", "patient_classification"),
        (
            "with_admission_treatment_function_code",
            "admission_treatment_function_code",
        ),
        ("with_administrative_category", "administrative_category"),
    ] {
        if let Some(values) = cx.str_list(arg)? {
            f = Frame::filter(&f, &equals_one_of(&apcs, column, &values));
        }
    }
    if critical {
        f = Frame::filter(
            &f,
            &Series::compare(
                Comparison::Gt,
                &Series::column(&apcs, "days_in_critical_care"),
                &Series::value(Value::Int(0)),
            ),
        );
    }
    let admitted = first_or_last(&f, Series::column(&apcs, "admission_date"), find);
    let keys = vec![
        Series::column(&apcs, "admission_date"),
        Series::column(&apcs, "apcs_ident"),
    ];
    let picked = Frame::pick(&f, keys, find);
    let mut b = match r {
        "binary_flag" => Built::new(ColumnType::Bool, Series::aggregate(&f, Aggregate::Exists)),
        "number_of_matches_in_period" => {
            Built::new(ColumnType::Int, Series::aggregate(&f, Aggregate::Count))
        }
        "date_admitted" => Built::date(Arc::clone(&admitted), format),
        "date_discharged" => Built::date(
            first_or_last(&f, Series::column(&apcs, "discharge_date"), find),
            format,
        ),
        "days_in_critical_care" => Built::new(
            ColumnType::Str,
            Series::function(Function::IntToStr(Series::column(
                &picked,
                "days_in_critical_care",
            ))),
        ),
        "total_bed_days_in_period" => Built::new(
            ColumnType::Int,
            Series::aggregate(
                &f,
                Aggregate::SumOfGroupMax {
                    key: Series::column(&apcs, "admission_date"),
                    value: Series::column(&apcs, "length_of_stay"),
                    add: 1,
                },
            ),
        ),
        "total_critical_care_days_in_period" => Built::new(
            ColumnType::Int,
            Series::aggregate(
                &f,
                Aggregate::SumOfGroupMax {
                    key: Series::column(&apcs, "admission_date"),
                    value: Series::column(&apcs, "days_in_critical_care"),
                    add: 0,
                },
            ),
        ),
        column => Built::new(ColumnType::Str, Series::column(&picked, column)),
    };
    b.format = Some(format);
    b.no_date_of = Some("hospital admissions are not a source of `date_of`".into());
    Some(b)
}

pub(super) fn attended_emergency_care(cx: &mut Cx) -> Option<Built> {
    let w = cx.window();
    let r = cx.choice(
        "returning",
        &[
            "binary_flag",
            "date_arrived",
            "number_of_matches_in_period",
            "discharge_destination",
        ],
        false,
    );
    let find = cx.find();
    let format = cx.date_format(DateFormat::Year);
    let diagnoses = cx.codelist("with_these_diagnoses", &[CodeSystem::Snomedct]);
    let discharged = cx.str_list("discharged_to");
    let (w, r, find, format, diagnoses, discharged) =
        (w?, r?, find?, format?, diagnoses?, discharged?);
    let ec = cx.table(EMERGENCY_CARE_ATTENDANCES);
    let mut f = w.filter(&ec, &ec, "arrival_date");
    if let Some(cl) = &diagnoses {
        let any: Vec<SeriesRef> = (1..=24)
            .map(|i| {
                codes_match(
                    &ec,
                    &format!("diagnosis_{i:02}"),
                    cl,
                    MatchKind::Exact,
                    false,
                )
            })
            .collect();
        f = Frame::filter(&f, &Series::any_of(&any));
    }
    if let Some(values) = &discharged {
        f = Frame::filter(&f, &equals_one_of(&ec, "discharge_destination", values));
    }
    let mut b = match r {
        "binary_flag" => Built::new(ColumnType::Bool, Series::aggregate(&f, Aggregate::Exists)),
        "number_of_matches_in_period" => {
            Built::new(ColumnType::Int, Series::aggregate(&f, Aggregate::Count))
        }
        "date_arrived" => Built::date(
            first_or_last(&f, Series::column(&ec, "arrival_date"), find),
            format,
        ),
        _ => {
            let picked = Frame::pick(
                &f,
                vec![
                    Series::column(&ec, "arrival_date"),
                    Series::column(&ec, "id"),
                ],
                find,
            );
            Built::new(
                ColumnType::Str,
                Series::column(&picked, "discharge_destination"),
            )
        }
    };
    b.format = Some(format);
    b.no_date_of = Some("A&E attendances are not a source of `date_of`".into());
    Some(b)
}

pub(super) fn outpatient_appointment_date(cx: &mut Cx) -> Option<Built> {
    let r = cx.choice(
        "returning",
        &[
            "binary_flag",
            "date",
            "number_of_matches_in_period",
            "consultation_medium_used",
        ],
        false,
    );
    let attended = cx.bool("attended", false);
    let first = cx.bool("is_first_attendance", false);
    let procedures = cx.codelist("with_these_procedures", &[CodeSystem::Opcs4]);
    let format = cx.date_format(DateFormat::YearMonthDay);
    let find = cx.find();
    let lo = cx.date("on_or_after");
    let between = cx.arg_node("between");
    let (r, attended, first, procedures, format, find, lo) =
        (r?, attended?, first?, procedures?, format?, find?, lo?);
    let mut w = Window { lo, hi: None };
    if let Some(n) = between {
        if w.lo.is_some() {
            cx.arg_err("between", "cannot be given together with `on_or_after`");
            return None;
        }
        match n.as_seq() {
            Some([a, b]) => {
                let a = cx.date_node("between", a);
                let b = cx.date_node("between", b);
                w = Window {
                    lo: Some(a?),
                    hi: Some(b?),
                };
            }
            _ => {
                cx.arg_err("between", "expected a list of two dates [start, end]");
                return None;
            }
        }
    }
    // Treatment function codes: a string, a list, or a codelist name.
    let functions: Option<Vec<String>> = match cx.arg_node("with_these_treatment_function_codes") {
        None => None,
        Some(n) => match n.scalar_text().and_then(|t| cx.shared.codelists.get(t)) {
            Some(cl) => Some(cl.codes.keys().cloned().collect()),
            None => cx.str_list("with_these_treatment_function_codes")?,
        },
    };
    let opa = cx.table(OPA);
    let mut f = w.filter(&opa, &opa, "appointment_date");
    if attended {
        f = Frame::filter(
            &f,
            &equals_one_of(&opa, "attendance_status", &["5".into(), "6".into()]),
        );
    }
    if first {
        f = Frame::filter(
            &f,
            &equals_one_of(&opa, "first_attendance", &["1".into(), "3".into()]),
        );
    }
    if let Some(values) = &functions {
        f = Frame::filter(&f, &equals_one_of(&opa, "treatment_function_code", values));
    }
    if let Some(cl) = &procedures {
        f = Frame::filter(
            &f,
            &codes_match(
                &opa,
                "primary_procedure_code",
                cl,
                MatchKind::Substring,
                true,
            ),
        );
    }
    let date = first_or_last(&f, Series::column(&opa, "appointment_date"), find);
    let mut b = match r {
        "binary_flag" => Built::new(ColumnType::Bool, Series::aggregate(&f, Aggregate::Exists)),
        "number_of_matches_in_period" => {
            Built::new(ColumnType::Int, Series::aggregate(&f, Aggregate::Count))
        }
        "date" => Built::date(Arc::clone(&date), format),
        _ => {
            let picked = Frame::pick(
                &f,
                vec![
                    Series::column(&opa, "appointment_date"),
                    Series::column(&opa, "opa_ident"),
                ],
                find,
            );
            Built::new(
                ColumnType::Str,
                Series::column(&picked, "consultation_medium_used"),
            )
        }
    };
    b.format = Some(format);
    b.no_date_of = Some("outpatient appointments are not a source of `date_of`".into());
    Some(b)
}

pub(super) fn with_ethnicity_from_sus(cx: &mut Cx) -> Option<Built> {
    let r = cx.choice("returning", &["code", "group_6", "group_16"], true);
    let most_frequent = cx.bool("use_most_frequent_code", false);
    let (r, most_frequent) = (r?, most_frequent?);
    if !most_frequent {
        let pos = cx
            .arg_node("use_most_frequent_code")
            .map_or(cx.func_pos, |n| n.pos);
        cx.err(pos, "use_most_frequent_code must be set to 'True'");
        return None;
    }
    // Every code recorded in the three tables, upper-cased without trailing spaces.
    let parts: Vec<(FrameRef, Vec<SeriesRef>)> = [APCS, EMERGENCY_CARE_ATTENDANCES, OPA]
        .into_iter()
        .map(|t| {
            let table = cx.table(t);
            let code = Series::function(Function::Str(
                StrFunction::Upper,
                Series::function(Function::Str(
                    StrFunction::TrimEnd,
                    Series::column(&table, "ethnic_category"),
                )),
            ));
            (table, vec![code])
        })
        .collect();
    let all = Arc::new(Frame::Concat {
        columns: vec![("code".into(), query::Type::Str)],
        parts,
    });
    let code = Series::column(&all, "code");
    let lit = |s: &str| Series::value(Value::str(s));
    let first = Series::function(Function::Str(StrFunction::Left(1), Arc::clone(&code)));
    let usable = Series::all_of(&[
        Series::not(&Series::is_null(&code)),
        Series::compare(Comparison::Ne, &code, &lit("")),
        Series::compare(Comparison::Ne, &code, &lit("99")),
        Series::compare(Comparison::Ne, &first, &lit("Z")),
    ]);
    let mode = Series::aggregate(&Frame::filter(&all, &usable), Aggregate::Mode(code));
    let value = match r {
        "code" => mode,
        _ => {
            let groups: &[(&str, &str)] = if r == "group_6" {
                &[
                    ("ABC", "1"),
                    ("DEFG", "2"),
                    ("HJKL", "3"),
                    ("MNP", "4"),
                    ("RS", "5"),
                ]
            } else {
                &[
                    ("A", "1"),
                    ("B", "2"),
                    ("C", "3"),
                    ("D", "4"),
                    ("E", "5"),
                    ("F", "6"),
                    ("G", "7"),
                    ("H", "8"),
                    ("J", "9"),
                    ("K", "10"),
                    ("L", "11"),
                    ("M", "12"),
                    ("N", "13"),
                    ("P", "14"),
                    ("R", "15"),
                    ("S", "16"),
                ]
            };
            let letter = Series::function(Function::Str(StrFunction::Left(1), mode));
            Series::function(Function::Case {
                cases: groups
                    .iter()
                    .map(|(letters, g)| {
                        let set = Arc::new(query::Codelist {
                            name: format!("ethnicity {r} {g}"),
                            codes: letters.chars().map(|c| (c.to_string(), None)).collect(),
                        });
                        (
                            Series::function(Function::InCodelist {
                                code: Arc::clone(&letter),
                                codelist: set,
                                rule: MatchRule::EXACT,
                            }),
                            lit(g),
                        )
                    })
                    .collect(),
                default: None,
            })
        }
    };
    let mut b = Built::new(ColumnType::Str, value);
    b.no_date_of = Some("ethnicity has no date".into());
    Some(b)
}

pub(super) fn admitted_to_icu(_cx: &mut Cx) -> Option<Built> {
    None
}
