//! Random tables and random datasets for property tests that require an engine to agree with
//! the reference interpreter (behind the `testing` feature).
//!
//! [`random_case`] draws, from a seed, a few small tables (a one-row-per-patient `patients`
//! table, `events` and `regs` event tables), a dataset over them using every kind of node the
//! front ends build (filters with index-date windows, codelist matches under every rule, picks,
//! every aggregate, scalar functions) and a few index dates; [`same`] compares two outputs.

use std::sync::Arc;

use crate::model::{Series as Node, *};
use crate::{Batch, Date, Table, Tables, Type, Value};

/// One random case: tables, a dataset over them, and ascending index dates.
pub fn random_case(seed: u64) -> (Tables, Dataset, Vec<Date>) {
    let w = world();
    let mut rng = Rng(seed | 1);
    let t = tables(&mut rng, &w);
    let mut gen = Gen { rng, w: &w };
    let dataset = gen.dataset();
    let dates: Vec<Date> = (0..1 + gen.rng.below(4))
        .map(|i| Date(BASE - 60 + 30 * i as i32))
        .collect();
    (t, dataset, dates)
}

/// A small deterministic random source (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

/// A table schema of nullable columns (`one_row`: one row per patient).
pub fn schema(name: &str, one_row: bool, cols: &[(&str, Type)]) -> Arc<TableSchema> {
    Arc::new(TableSchema {
        name: name.into(),
        columns: cols
            .iter()
            .map(|(n, t)| ColumnSchema {
                name: (*n).into(),
                ty: *t,
                nullable: true,
            })
            .collect(),
        one_row_per_patient: one_row,
    })
}

struct World {
    patients: Arc<TableSchema>,
    events: Arc<TableSchema>,
    regs: Arc<TableSchema>,
    codelist: Arc<Codelist>,
}

const CODES: [&str; 5] = ["A1", "a1", "B22", "C", "B2"];
const BASE: i32 = 18262; // 2020-01-01

fn world() -> World {
    World {
        patients: schema(
            "patients",
            true,
            &[
                ("dob", Type::Date),
                ("sex", Type::Str),
                ("score", Type::Int),
            ],
        ),
        events: schema(
            "events",
            false,
            &[
                ("date", Type::Date),
                ("code", Type::Str),
                ("value", Type::Float),
                ("n", Type::Int),
            ],
        ),
        regs: schema(
            "regs",
            false,
            &[
                ("start", Type::Date),
                ("end", Type::Date),
                ("practice", Type::Int),
            ],
        ),
        codelist: Arc::new(Codelist {
            name: "cl".into(),
            codes: [("A1", Some("x")), ("B2", Some("y")), ("C", None)]
                .iter()
                .map(|(c, k)| (c.to_string(), k.map(str::to_string)))
                .collect(),
        }),
    }
}

fn date_value(rng: &mut Rng) -> Value {
    Value::Date(Date(BASE + rng.below(200) as i32 - 100))
}

fn nullable(v: Value, rng: &mut Rng) -> Value {
    if rng.chance(15) {
        Value::Null
    } else {
        v
    }
}

fn tables(rng: &mut Rng, w: &World) -> Tables {
    let mut t = Tables::new();
    let n_patients = 1 + rng.below(12) as i64;
    let mut patients = Table::new(Arc::clone(&w.patients));
    let mut events = Table::new(Arc::clone(&w.events));
    let mut regs = Table::new(Arc::clone(&w.regs));
    for pid in 1..=n_patients {
        if rng.chance(85) {
            let dob = Value::Date(Date(
                BASE - 365 * (rng.below(90) as i32) - rng.below(365) as i32,
            ));
            let sex = *rng.pick::<&str>(&["M", "F", "U"]);
            let sex = nullable(Value::str(sex), rng);
            let score = nullable(Value::Int(rng.below(7) as i64 - 3), rng);
            patients
                .rows
                .push((pid, vec![nullable(dob, rng), sex, score]));
        }
        for _ in 0..rng.below(6) {
            let d = nullable(date_value(rng), rng);
            let code = *rng.pick::<&str>(&CODES);
            let code = nullable(Value::str(code), rng);
            let value = nullable(Value::Float((rng.below(8) as f64) * 0.5), rng);
            let n = nullable(Value::Int(rng.below(5) as i64), rng);
            events.rows.push((pid, vec![d, code, value, n]));
        }
        for _ in 0..rng.below(3) {
            let s = date_value(rng);
            let e = if rng.chance(30) {
                Value::Null
            } else {
                Value::Date(Date(s.as_date().unwrap().0 + rng.below(150) as i32))
            };
            let practice = Value::Int(rng.below(4) as i64);
            regs.rows.push((pid, vec![s, e, practice]));
        }
    }
    t.insert(patients);
    t.insert(events);
    t.insert(regs);
    t
}

/// Random query-model nodes over the world.
struct Gen<'a> {
    rng: Rng,
    w: &'a World,
}

impl Gen<'_> {
    fn lit(&mut self, ty: Type) -> SeriesRef {
        let v = match ty {
            Type::Bool => Value::Bool(self.rng.chance(50)),
            Type::Int => Value::Int(self.rng.below(5) as i64 - 1),
            Type::Float => Value::Float(self.rng.below(6) as f64 * 0.5),
            Type::Str => {
                let code = *self.rng.pick::<&str>(&CODES);
                Value::str(code)
            }
            Type::Date => date_value(&mut self.rng),
        };
        if self.rng.chance(8) {
            Node::null(ty)
        } else {
            Node::value(v)
        }
    }

    fn events_frame(&mut self, depth: u32) -> FrameRef {
        let mut f = Frame::table(&self.w.events);
        for _ in 0..self.rng.below(3) {
            let c = self.row_bool(depth, &Frame::table(&self.w.events), &f);
            f = Frame::filter(&f, &c);
        }
        f
    }

    fn regs_frame(&mut self, depth: u32) -> FrameRef {
        let root = Frame::table(&self.w.regs);
        if self.rng.chance(50) {
            return root;
        }
        // registered on a date: start <= d AND (end IS NULL OR end > d)
        let d = self.patient(Type::Date, depth);
        let start = Node::column(&root, "start");
        let end = Node::column(&root, "end");
        let c = Node::and(
            &Node::compare(Comparison::Le, &start, &d),
            &Node::or(
                &Node::is_null(&end),
                &Node::compare(Comparison::Gt, &end, &d),
            ),
        );
        Frame::filter(&root, &c)
    }

    /// A row-level bool over the events table (`root`), within `frame`.
    fn row_bool(&mut self, depth: u32, root: &FrameRef, _frame: &FrameRef) -> SeriesRef {
        let date = Node::column(root, "date");
        match self.rng.below(8) {
            0 | 1 => {
                // a window around a date (index-based or patient-based)
                let d = self.patient(Type::Date, depth);
                let op = *self.rng.pick(&[
                    Comparison::Ge,
                    Comparison::Le,
                    Comparison::Gt,
                    Comparison::Lt,
                    Comparison::Eq,
                ]);
                if self.rng.chance(50) {
                    Node::compare(op, &date, &d)
                } else {
                    Node::compare(op, &d, &date)
                }
            }
            2 => {
                let kind = *self.rng.pick(&[
                    MatchKind::Exact,
                    MatchKind::Prefix,
                    MatchKind::Substring,
                    MatchKind::TokenPrefix,
                ]);
                Node::function(Function::InCodelist {
                    code: Node::column(root, "code"),
                    codelist: Arc::clone(&self.w.codelist),
                    rule: MatchRule {
                        kind,
                        ascii_case_insensitive: self.rng.chance(50),
                    },
                })
            }
            3 => Node::not(&Node::is_null(&Node::column(root, "value"))),
            4 => {
                let n = Node::column(root, "n");
                let p = self.patient(Type::Int, depth);
                Node::compare(Comparison::Ge, &n, &p)
            }
            5 if depth > 0 => {
                let other = self.events_frame(depth - 1);
                Node::function(Function::ExistsMatching {
                    frame: other,
                    key: Node::column(&Frame::table(&self.w.events), "date"),
                    value: date,
                })
            }
            6 => {
                let a = self.row_bool(depth.saturating_sub(1), root, _frame);
                let b = self.row_bool(depth.saturating_sub(1), root, _frame);
                if self.rng.chance(50) {
                    Node::or(&a, &b)
                } else {
                    Node::not(&Node::and(&a, &b))
                }
            }
            _ => {
                let lo = Node::function(Function::DateAdd {
                    date: Node::index_date(),
                    amount: -(self.rng.below(60) as i64),
                    unit: *self.rng.pick(&[DateUnit::Days, DateUnit::Months]),
                });
                Node::and(
                    &Node::compare(Comparison::Ge, &date, &lo),
                    &Node::or(
                        &Node::is_null(&date),
                        &Node::compare(Comparison::Le, &date, &Node::index_date()),
                    ),
                )
            }
        }
    }

    fn row_of(&mut self, ty: Type, root: &FrameRef) -> SeriesRef {
        match ty {
            Type::Date => Node::column(root, "date"),
            Type::Str => Node::column(root, "code"),
            Type::Float => Node::column(root, "value"),
            Type::Int => Node::column(root, "n"),
            Type::Bool => Node::is_null(&Node::column(root, "code")),
        }
    }

    fn patient(&mut self, ty: Type, depth: u32) -> SeriesRef {
        if depth == 0 || self.rng.chance(20) {
            return match ty {
                Type::Date if self.rng.chance(60) => Node::index_date(),
                Type::Date if self.rng.chance(50) => {
                    Node::column(&Frame::table(&self.w.patients), "dob")
                }
                Type::Str if self.rng.chance(60) => {
                    Node::column(&Frame::table(&self.w.patients), "sex")
                }
                Type::Int if self.rng.chance(50) => {
                    Node::column(&Frame::table(&self.w.patients), "score")
                }
                _ => self.lit(ty),
            };
        }
        let d = depth - 1;
        let events_root = Frame::table(&self.w.events);
        match self.rng.below(10) {
            // aggregates
            0 | 1 => {
                let f = self.events_frame(d);
                let agg = match ty {
                    Type::Bool => Aggregate::Exists,
                    Type::Int => match self.rng.below(5) {
                        0 => Aggregate::Count,
                        1 => Aggregate::CountDistinct(self.row_of(Type::Str, &events_root)),
                        2 => Aggregate::Sum(self.row_of(Type::Int, &events_root)),
                        3 => Aggregate::CountEpisodes {
                            date: self.row_of(Type::Date, &events_root),
                            max_gap_days: self.rng.below(20) as i64,
                        },
                        _ => Aggregate::SumOfGroupMax {
                            key: self.row_of(Type::Date, &events_root),
                            value: self.row_of(Type::Int, &events_root),
                            add: 1,
                        },
                    },
                    Type::Float => match self.rng.below(3) {
                        0 => Aggregate::Mean(self.row_of(Type::Float, &events_root)),
                        1 => Aggregate::Min(self.row_of(Type::Float, &events_root)),
                        _ => Aggregate::Max(self.row_of(Type::Float, &events_root)),
                    },
                    Type::Str => {
                        if self.rng.chance(50) {
                            Aggregate::Mode(self.row_of(Type::Str, &events_root))
                        } else {
                            Aggregate::Min(self.row_of(Type::Str, &events_root))
                        }
                    }
                    Type::Date => {
                        if self.rng.chance(50) {
                            Aggregate::Max(self.row_of(Type::Date, &events_root))
                        } else {
                            Aggregate::Min(self.row_of(Type::Date, &events_root))
                        }
                    }
                };
                Node::aggregate(&f, agg)
            }
            // a column of a picked row
            2 | 3 => {
                let f = self.events_frame(d);
                let keys = vec![
                    Node::column(&events_root, "date"),
                    Node::column(&events_root, "code"),
                    Node::column(&events_root, "value"),
                    Node::column(&events_root, "n"),
                ];
                let pos = if self.rng.chance(50) {
                    Position::First
                } else {
                    Position::Last
                };
                let p = Frame::pick(&f, keys, pos);
                let col = match ty {
                    Type::Date => "date",
                    Type::Str => "code",
                    Type::Float => "value",
                    Type::Int => "n",
                    Type::Bool => return Node::is_null(&Node::column(&p, "code")),
                };
                if ty == Type::Str && self.rng.chance(30) {
                    return Node::function(Function::CodelistCategory {
                        code: Node::column(&p, col),
                        codelist: Arc::clone(&self.w.codelist),
                    });
                }
                Node::column(&p, col)
            }
            4 if ty == Type::Bool => {
                let regs = self.regs_frame(d);
                if self.rng.chance(50) {
                    Node::aggregate(&regs, Aggregate::Exists)
                } else {
                    let root = Frame::table(&self.w.regs);
                    let a = self.patient(Type::Date, d);
                    let b = Node::function(Function::DateAdd {
                        date: Arc::clone(&a),
                        amount: self.rng.below(100) as i64,
                        unit: DateUnit::Days,
                    });
                    Node::aggregate(
                        &Frame::table(&self.w.regs),
                        Aggregate::SpanCovered {
                            start: Node::column(&root, "start"),
                            end: Node::column(&root, "end"),
                            from: a,
                            to: b,
                        },
                    )
                }
            }
            4 if ty == Type::Int => {
                // practice of the latest registration on a date
                let regs = self.regs_frame(d);
                let root = Frame::table(&self.w.regs);
                let far = Node::value(Value::Date(Date(99999)));
                let keys = vec![
                    Node::column(&root, "start"),
                    Node::coalesce(&Node::column(&root, "end"), &far),
                    Node::function(Function::Negate(Node::column(&root, "practice"))),
                ];
                Node::column(&Frame::pick(&regs, keys, Position::Last), "practice")
            }
            // functions
            _ => match ty {
                Type::Bool => match self.rng.below(5) {
                    0 => {
                        let a = self.patient(Type::Bool, d);
                        let b = self.patient(Type::Bool, d);
                        if self.rng.chance(50) {
                            Node::and(&a, &b)
                        } else {
                            Node::or(&a, &b)
                        }
                    }
                    1 => Node::not(&self.patient(Type::Bool, d)),
                    2 => {
                        let t = *self.rng.pick(&[Type::Int, Type::Str, Type::Date]);
                        Node::is_null(&self.patient(t, d))
                    }
                    3 => {
                        let t = *self
                            .rng
                            .pick(&[Type::Int, Type::Date, Type::Str, Type::Float]);
                        let a = self.patient(t, d);
                        let b = self.patient(t, d);
                        Node::compare(
                            *self.rng.pick(&[
                                Comparison::Eq,
                                Comparison::Ne,
                                Comparison::Lt,
                                Comparison::Ge,
                            ]),
                            &a,
                            &b,
                        )
                    }
                    _ => Node::function(Function::InCodelist {
                        code: self.patient(Type::Str, d),
                        codelist: Arc::clone(&self.w.codelist),
                        rule: MatchRule::EXACT,
                    }),
                },
                Type::Int => match self.rng.below(5) {
                    0 => {
                        let a = self.patient(Type::Int, d);
                        let b = self.patient(Type::Int, d);
                        Node::function(Function::Arithmetic(
                            *self
                                .rng
                                .pick(&[Arithmetic::Add, Arithmetic::Sub, Arithmetic::Mul]),
                            a,
                            b,
                        ))
                    }
                    1 => Node::function(Function::YearsBetween(
                        self.patient(Type::Date, d),
                        self.patient(Type::Date, d),
                    )),
                    2 => Node::function(Function::DatePart(
                        *self
                            .rng
                            .pick(&[DatePart::Year, DatePart::Month, DatePart::Day]),
                        self.patient(Type::Date, d),
                    )),
                    3 => {
                        let c = self.patient(Type::Bool, d);
                        let a = self.patient(Type::Int, d);
                        let b = self.patient(Type::Int, d);
                        Node::function(Function::Case {
                            cases: vec![(c, a)],
                            default: if self.rng.chance(50) { Some(b) } else { None },
                        })
                    }
                    _ => {
                        let a = self.patient(Type::Int, d);
                        let b = self.patient(Type::Int, d);
                        match self.rng.below(3) {
                            0 => Node::coalesce(&a, &b),
                            1 => Node::function(Function::Least(vec![a, b])),
                            _ => Node::function(Function::Greatest(vec![a, b])),
                        }
                    }
                },
                Type::Float => match self.rng.below(3) {
                    0 => {
                        let a = self.patient(Type::Float, d);
                        let b = self.patient(Type::Int, d);
                        Node::function(Function::Arithmetic(Arithmetic::Div, a, b))
                    }
                    1 => Node::function(Function::Round {
                        value: self.patient(Type::Float, d),
                        digits: 1,
                    }),
                    _ => Node::function(Function::ToFloat(self.patient(Type::Int, d))),
                },
                Type::Str => match self.rng.below(4) {
                    0 => Node::function(Function::Str(
                        *self.rng.pick(&[
                            StrFunction::Upper,
                            StrFunction::TrimEnd,
                            StrFunction::Left(1),
                        ]),
                        self.patient(Type::Str, d),
                    )),
                    1 => Node::function(Function::DateToStr(
                        self.patient(Type::Date, d),
                        *self.rng.pick(&[
                            DateFormat::Year,
                            DateFormat::YearMonth,
                            DateFormat::YearMonthDay,
                        ]),
                    )),
                    2 => Node::function(Function::IntToStr(self.patient(Type::Int, d))),
                    _ => Node::coalesce(&self.patient(Type::Str, d), &self.lit(Type::Str)),
                },
                Type::Date => match self.rng.below(3) {
                    0 => Node::function(Function::DateAdd {
                        date: self.patient(Type::Date, d),
                        amount: self.rng.below(40) as i64 - 20,
                        unit: *self
                            .rng
                            .pick(&[DateUnit::Days, DateUnit::Months, DateUnit::Years]),
                    }),
                    1 => Node::function(if self.rng.chance(50) {
                        Function::FirstOfMonth(self.patient(Type::Date, d))
                    } else {
                        Function::FirstOfYear(self.patient(Type::Date, d))
                    }),
                    _ => Node::function(Function::Greatest(vec![
                        self.patient(Type::Date, d),
                        self.patient(Type::Date, d),
                    ])),
                },
            },
        }
    }

    fn dataset(&mut self) -> Dataset {
        let population = if self.rng.chance(30) {
            Node::value(Value::Bool(true))
        } else {
            self.patient(Type::Bool, 2)
        };
        let mut columns = Vec::new();
        for i in 0..1 + self.rng.below(4) {
            let ty = *self
                .rng
                .pick(&[Type::Bool, Type::Int, Type::Float, Type::Str, Type::Date]);
            columns.push((format!("v{i}"), self.patient(ty, 3)));
        }
        Dataset {
            population,
            columns,
        }
    }
}

/// Compares two engines' outputs: the same dates, patients and values (floats within a relative
/// 1e-9, other values equal and of the same type). The error says where they first differ.
pub fn same(a: &[(Date, Batch)], b: &[(Date, Batch)]) -> Result<(), String> {
    if a.len() != b.len() {
        return Err(format!("{} dates vs {}", a.len(), b.len()));
    }
    for ((da, ba), (db, bb)) in a.iter().zip(b) {
        if da != db || ba.patient_ids != bb.patient_ids {
            return Err(format!(
                "{da}: patients {:?} vs {:?}",
                ba.patient_ids, bb.patient_ids
            ));
        }
        if ba.columns.len() != bb.columns.len() {
            return Err(format!(
                "{da}: {} columns vs {}",
                ba.columns.len(),
                bb.columns.len()
            ));
        }
        for (j, (ca, cb)) in ba.columns.iter().zip(&bb.columns).enumerate() {
            for i in 0..ca.len() {
                let (x, y) = (ca.get(i), cb.get(i));
                let close = match (&x, &y) {
                    (Value::Float(p), Value::Float(q)) => (p - q).abs() <= 1e-9 * p.abs().max(1.0),
                    _ => x == y && x.ty() == y.ty(),
                };
                if !close {
                    return Err(format!(
                        "{da}: column {j} row {i} (patient {}): {x} vs {y}",
                        ba.patient_ids[i]
                    ));
                }
            }
        }
    }
    Ok(())
}

// --- A study-shaped dataset, for golden SQL and benchmarks -------------------------------------

/// The tables of [`study_like_dataset`]: `patients` (date_of_birth, sex),
/// `practice_registrations` (start_date, end_date, practice_pseudo_id,
/// practice_nuts1_region_name) and `clinical_events` (date, snomedct_code).
pub fn study_like_schemas() -> [Arc<TableSchema>; 3] {
    [
        schema(
            "patients",
            true,
            &[("date_of_birth", Type::Date), ("sex", Type::Str)],
        ),
        schema(
            "practice_registrations",
            false,
            &[
                ("start_date", Type::Date),
                ("end_date", Type::Date),
                ("practice_pseudo_id", Type::Int),
                ("practice_nuts1_region_name", Type::Str),
            ],
        ),
        schema(
            "clinical_events",
            false,
            &[("date", Type::Date), ("snomedct_code", Type::Str)],
        ),
    ]
}

/// The pulse oximetry codes of [`study_like_dataset`].
pub const OXIMETRY_CODES: [&str; 2] = ["1325191000000108", "1325201000000105"];

/// The 25 monthly index dates of the pulse oximetry study (2019-01-01 to 2021-01-01).
pub fn study_like_dates() -> Vec<Date> {
    let first = Date::from_ymd(2019, 1, 1).unwrap_or(Date(17897));
    (0..25).map(|i| first.add_months_clamped(i)).collect()
}

/// A dataset shaped like the pulse oximetry study's: the population is registered at a practice
/// on the index date; columns: an oximetry code in the month before the index date, the region of
/// the practice of the latest registration (a pick), age on the index date, and sex (`U` when
/// missing).
pub fn study_like_dataset() -> Dataset {
    let [patients, regs, events] = study_like_schemas();
    let (p, r, e) = (
        Frame::table(&patients),
        Frame::table(&regs),
        Frame::table(&events),
    );
    let start = Node::column(&r, "start_date");
    let end = Node::column(&r, "end_date");
    let registered = Frame::filter(
        &r,
        &Node::and(
            &Node::compare(Comparison::Le, &start, &Node::index_date()),
            &Node::or(
                &Node::is_null(&end),
                &Node::compare(Comparison::Gt, &end, &Node::index_date()),
            ),
        ),
    );
    let far = Node::value(Value::Date(Date::from_ymd(9999, 12, 31).unwrap_or(Date(0))));
    let practice = Frame::pick(
        &registered,
        vec![
            Arc::clone(&start),
            Node::coalesce(&end, &far),
            Node::column(&r, "practice_pseudo_id"),
        ],
        Position::Last,
    );
    let codelist = Arc::new(Codelist {
        name: "pulse oximetry".into(),
        codes: OXIMETRY_CODES
            .iter()
            .map(|c| (c.to_string(), None))
            .collect(),
    });
    let date = Node::column(&e, "date");
    let in_month = Frame::filter(
        &e,
        &Node::all_of(&[
            Node::function(Function::InCodelist {
                code: Node::column(&e, "snomedct_code"),
                codelist,
                rule: MatchRule::EXACT,
            }),
            Node::compare(
                Comparison::Ge,
                &date,
                &Node::function(Function::DateAdd {
                    date: Node::index_date(),
                    amount: -1,
                    unit: DateUnit::Months,
                }),
            ),
            Node::compare(Comparison::Lt, &date, &Node::index_date()),
        ]),
    );
    let age = Node::function(Function::YearsBetween(
        Node::column(&p, "date_of_birth"),
        Node::index_date(),
    ));
    Dataset {
        population: Node::aggregate(&registered, Aggregate::Exists),
        columns: vec![
            (
                "had_oximetry".into(),
                Node::aggregate(&in_month, Aggregate::Exists),
            ),
            (
                "region".into(),
                Node::column(&practice, "practice_nuts1_region_name"),
            ),
            ("age".into(), age),
            (
                "sex".into(),
                Node::coalesce(&Node::column(&p, "sex"), &Node::value(Value::str("U"))),
            ),
        ],
    }
}

/// Random tables for [`study_like_dataset`]: `patients` patients, one or two registrations each
/// (some ended), about 30 clinical events each from 2018 to 2021 (a few percent oximetry codes,
/// more after mid-2020).
pub fn study_like_tables(patients: usize, seed: u64) -> Tables {
    const REGIONS: [&str; 9] = [
        "North East",
        "North West",
        "Yorkshire and the Humber",
        "East Midlands",
        "West Midlands",
        "East of England",
        "London",
        "South East",
        "South West",
    ];
    let [ps, rs, es] = study_like_schemas();
    let mut rng = Rng(seed | 1);
    let (mut p, mut r, mut e) = (Table::new(ps), Table::new(rs), Table::new(es));
    let base = Date::from_ymd(2018, 1, 1).unwrap_or(Date(17532));
    let mid_2020 = Date::from_ymd(2020, 6, 1).unwrap_or(Date(18414));
    for pid in 1..=patients as i64 {
        let dob = Date::from_ymd(1920 + rng.below(100) as i32, 1 + rng.below(12) as u32, 1)
            .unwrap_or(base);
        let sex = match rng.below(20) {
            0 => Value::Null,
            1 => Value::str("U"),
            n if n % 2 == 0 => Value::str("F"),
            _ => Value::str("M"),
        };
        p.rows.push((pid, vec![Value::Date(dob), sex]));
        let mut start = base.add_days(rng.below(900) as i64 - 300);
        for k in 0..1 + rng.below(2) {
            let last = k == 1 || rng.chance(70);
            let end = if last && rng.chance(85) {
                None
            } else {
                Some(start.add_days(30 + rng.below(700) as i64))
            };
            let practice = rng.below(200) as i64;
            r.rows.push((
                pid,
                vec![
                    Value::Date(start),
                    end.map_or(Value::Null, Value::Date),
                    Value::Int(practice),
                    Value::str(REGIONS[practice as usize % REGIONS.len()]),
                ],
            ));
            match end {
                Some(e) => start = e.add_days(rng.below(60) as i64),
                None => break,
            }
        }
        for _ in 0..rng.below(61) {
            let date = base.add_days(rng.below(1461) as i64);
            let oximetry = rng.chance(if date >= mid_2020 { 6 } else { 1 });
            let code = if oximetry {
                OXIMETRY_CODES[rng.below(2) as usize].to_string()
            } else {
                format!("{}", 100_000 + rng.below(5_000))
            };
            e.rows
                .push((pid, vec![Value::Date(date), Value::str(&code)]));
        }
    }
    let mut t = Tables::new();
    t.insert(p);
    t.insert(r);
    t.insert(e);
    t
}
