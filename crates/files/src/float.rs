//! Floats as Python writes them, so every output reads as cohortextractor's and pandas' did.

/// Formats `x` as Python's `repr(float)` does: the shortest digits that round-trip, always
/// with a `.` or an exponent; plain notation for exponents -4 to 15, scientific otherwise with
/// a signed exponent of at least two digits (`500.0`, `0.0001`, `1e-05`, `1.2345e-05`,
/// `1e+16`, `5e-324`); `nan`, `inf` and `-inf`.
pub fn python_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    // Rust's `{:e}` prints the shortest round-trip digits as `d[.ddd]e<exp>`.
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    if !(-4..16).contains(&exp) {
        let exp_sign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{mantissa}e{exp_sign}{:02}", exp.abs());
    }
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    // Digits before the decimal point (0 or less: the number is below 1). The exponent is in
    // -4..16 here, so the casts cannot overflow.
    let point = exp + 1;
    let body = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else {
        let point = point.unsigned_abs() as usize;
        if point >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point - digits.len()))
        } else {
            let (int, frac) = digits.split_at(point);
            format!("{int}.{frac}")
        }
    };
    format!("{sign}{body}")
}

/// A float64 cell as pandas writes it to CSV: [`python_float_repr`], NaN as an empty field.
pub fn pandas_float_cell(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        python_float_repr(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `repr(x)` as CPython prints it (see `tests/data/README.md`).
    const PYTHON: &str = include_str!("../tests/data/python_float_repr.tsv");

    #[test]
    fn matches_python_repr_on_edge_and_random_values() {
        let mut checked = 0;
        for line in PYTHON.lines().filter(|l| !l.starts_with('#')) {
            let (bits, want) = line.split_once('\t').expect("bits<TAB>repr");
            let x = f64::from_bits(u64::from_str_radix(bits, 16).expect("hex bits"));
            assert_eq!(python_float_repr(x), want, "bits {bits}");
            checked += 1;
        }
        assert_eq!(checked, 748);
    }

    #[test]
    fn nan_is_an_empty_cell() {
        assert_eq!(pandas_float_cell(f64::NAN), "");
        assert_eq!(pandas_float_cell(0.5), "0.5");
        assert_eq!(pandas_float_cell(f64::NEG_INFINITY), "-inf");
    }

    proptest::proptest! {
        #[test]
        fn round_trips(bits: u64) {
            let x = f64::from_bits(bits);
            let text = python_float_repr(x);
            if x.is_nan() {
                proptest::prop_assert_eq!(text, "nan");
            } else {
                let back: f64 = text.parse().unwrap();
                proptest::prop_assert_eq!(back.to_bits(), x.to_bits(), "{}", text);
                proptest::prop_assert!(text.contains(['.', 'e', 'n']), "{}", text);
            }
        }
    }
}
