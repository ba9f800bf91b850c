//! Floats as Python writes them, so every output reads as cohortextractor's and pandas' did.

/// Formats `x` as Python's `repr(float)` does: the shortest digits that round-trip, always
/// with a `.` or an exponent; plain notation for exponents -4 to 15, scientific otherwise with
/// a signed exponent of at least two digits (`500.0`, `0.0001`, `1e-05`, `1.2345e-05`,
/// `1e+16`, `5e-324`); `nan`, `inf` and `-inf`.
pub fn python_float_repr(x: f64) -> String {
    let mut out = Vec::with_capacity(24);
    push_python_float_repr(&mut out, x);
    // Only ASCII digits, signs, `.`, `e`, `nan` and `inf` are written.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends [`python_float_repr`]`(x)` to `out` without allocating (the CSV writers' hot path).
pub fn push_python_float_repr(out: &mut Vec<u8>, x: f64) {
    if x.is_nan() {
        out.extend_from_slice(b"nan");
        return;
    }
    if x.is_infinite() {
        out.extend_from_slice(if x > 0.0 { b"inf" } else { b"-inf" });
        return;
    }
    // Rust's `{:e}` prints the shortest round-trip digits as `[-]d[.ddd]e<exp>`; it is at most
    // 1 + 17 digits + `.` + `e-324`, well within the buffer.
    let mut sci = StackBuf::default();
    let _ = std::io::Write::write_fmt(&mut sci, format_args!("{x:e}"));
    let sci = sci.as_bytes();
    let e = sci.iter().rposition(|&b| b == b'e').unwrap_or(sci.len());
    let (mantissa, exp_text) = (&sci[..e], sci.get(e + 1..).unwrap_or(&[]));
    let exp = parse_exp(exp_text);
    let mantissa = match mantissa.split_first() {
        Some((b'-', rest)) => {
            out.push(b'-');
            rest
        }
        _ => mantissa,
    };
    if !(-4..16).contains(&exp) {
        out.extend_from_slice(mantissa);
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let a = exp.unsigned_abs();
        if a >= 100 {
            out.push(b'0' + (a / 100) as u8);
        }
        out.push(b'0' + (a / 10 % 10) as u8);
        out.push(b'0' + (a % 10) as u8);
        return;
    }
    // The digits without the point: the first, then those after `.` if any.
    let (first, rest) = mantissa.split_at(mantissa.len().min(1));
    let rest = rest.strip_prefix(b".").unwrap_or(rest);
    let n_digits = first.len() + rest.len();
    let digit = |i: usize| if i == 0 { first[0] } else { rest[i - 1] };
    // Digits before the decimal point (0 or less: the number is below 1). The exponent is in
    // -4..16 here.
    let point = exp + 1;
    if point <= 0 {
        out.extend_from_slice(b"0.");
        for _ in 0..point.unsigned_abs() {
            out.push(b'0');
        }
        out.extend_from_slice(first);
        out.extend_from_slice(rest);
    } else {
        let point = point.unsigned_abs() as usize;
        if point >= n_digits {
            out.extend_from_slice(first);
            out.extend_from_slice(rest);
            for _ in n_digits..point {
                out.push(b'0');
            }
            out.extend_from_slice(b".0");
        } else {
            for i in 0..point {
                out.push(digit(i));
            }
            out.push(b'.');
            for i in point..n_digits {
                out.push(digit(i));
            }
        }
    }
}

/// The exponent of `{:e}` output (`-5`, `16`).
fn parse_exp(text: &[u8]) -> i32 {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let value = digits
        .iter()
        .fold(0i32, |acc, &d| acc * 10 + i32::from(d.wrapping_sub(b'0')));
    if negative {
        -value
    } else {
        value
    }
}

/// A fixed buffer for one `{:e}` rendering (longer output is cut, which cannot happen for
/// an `f64`).
struct StackBuf {
    bytes: [u8; 40],
    len: usize,
}

impl Default for StackBuf {
    fn default() -> Self {
        StackBuf {
            bytes: [0; 40],
            len: 0,
        }
    }
}

impl StackBuf {
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl std::io::Write for StackBuf {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let n = data.len().min(self.bytes.len() - self.len);
        self.bytes[self.len..self.len + n].copy_from_slice(&data[..n]);
        self.len += n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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

    /// The previous, allocating formulation: the byte writer must agree with it everywhere.
    fn reference_repr(x: f64) -> String {
        if x.is_nan() {
            return "nan".to_string();
        }
        if x.is_infinite() {
            return if x > 0.0 { "inf" } else { "-inf" }.to_string();
        }
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

    #[test]
    fn pushing_appends_to_what_is_there() {
        let mut buf = b"x,".to_vec();
        push_python_float_repr(&mut buf, -1.5e-7);
        push_python_float_repr(&mut buf, 5e-324);
        push_python_float_repr(&mut buf, 1.7976931348623157e308);
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "x,-1.5e-075e-3241.7976931348623157e+308"
        );
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_the_allocating_formulation(bits: u64) {
            let x = f64::from_bits(bits);
            proptest::prop_assert_eq!(python_float_repr(x), reference_repr(x));
        }

        #[test]
        fn agrees_on_small_decimals(n in -10_000_000i64..10_000_000, scale in 0u32..20) {
            let x = n as f64 / 10f64.powi(scale as i32);
            proptest::prop_assert_eq!(python_float_repr(x), reference_repr(x));
        }

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
