//! POSIX shell-style word splitting and quoting, as Python's `shlex.split` / `shlex.join`.

use std::fmt;

/// Why a command line cannot be split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitError {
    /// A `'` or `"` is never closed.
    NoClosingQuotation,
    /// The line ends with a lone backslash.
    NoEscapedCharacter,
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SplitError::NoClosingQuotation => "No closing quotation",
            SplitError::NoEscapedCharacter => "No escaped character",
        })
    }
}

impl std::error::Error for SplitError {}

/// Splits `line` into words with POSIX rules (Python's `shlex.split(line)`).
pub fn split(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(SplitError::NoClosingQuotation),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(SplitError::NoClosingQuotation),
                        },
                        Some(c) => word.push(c),
                        None => return Err(SplitError::NoClosingQuotation),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err(SplitError::NoEscapedCharacter),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Quotes one word so that [`split`] gives it back (Python's `shlex.quote`).
pub fn quote(word: &str) -> String {
    if word.is_empty() {
        return "''".into();
    }
    let safe = word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\"'\"'"))
    }
}

/// Joins words into one command line (Python's `shlex.join`).
pub fn join<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(words: &[&str]) -> Vec<String> {
        words.iter().map(std::string::ToString::to_string).collect()
    }

    #[test]
    fn posix_rules() {
        assert_eq!(split("a  b\tc").unwrap(), s(&["a", "b", "c"]));
        assert_eq!(
            split(r#"x --range "2019-01-01 to 2021-01-01 by month""#).unwrap(),
            s(&["x", "--range", "2019-01-01 to 2021-01-01 by month"])
        );
        assert_eq!(split(r#"a"b c"d"#).unwrap(), s(&["ab cd"]));
        assert_eq!(split("''").unwrap(), s(&[""]));
        assert_eq!(split(r"a\ b").unwrap(), s(&["a b"]));
        assert_eq!(split(r#""a\"b\n""#).unwrap(), s(&[r#"a"b\n"#]));
        assert_eq!(split(r"'a\b'").unwrap(), s(&[r"a\b"]));
        assert_eq!(split("a # b").unwrap(), s(&["a", "#", "b"]));
        assert!(split("   ").unwrap().is_empty());
    }

    #[test]
    fn errors() {
        assert_eq!(split("a 'b"), Err(SplitError::NoClosingQuotation));
        assert_eq!(split("a \"b"), Err(SplitError::NoClosingQuotation));
        assert_eq!(split("a \\"), Err(SplitError::NoEscapedCharacter));
    }

    proptest! {
        #[test]
        fn join_then_split_round_trips(words in proptest::collection::vec(".*", 0..6)) {
            prop_assert_eq!(split(&join(&words)).unwrap(), words);
        }
    }
}
