//! Output patterns: OpenSAFELY's path rules and `*` glob matching.

/// File types allowed for `moderately_sensitive` outputs (OpenSAFELY's level-4 list).
pub const LEVEL4_FILE_TYPES: &[&str] = &[
    ".csv", ".jpg", ".jpeg", ".png", ".svg", ".svgz", ".html", ".txt", ".log", ".json", ".md",
];

/// Python's `posixpath.normpath`.
pub fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let leading = path.len() - path.trim_start_matches('/').len();
    let prefix = match leading {
        0 => "",
        2 => "//",
        _ => "/",
    };
    let mut parts: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if prefix.is_empty() {
                    parts.push("..");
                }
            }
            c => parts.push(c),
        }
    }
    let joined = format!("{prefix}{}", parts.join("/"));
    if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

/// The final component of `path` as `pathlib.PurePosixPath(path).name` sees it.
pub fn file_name(path: &str) -> &str {
    path.split('/')
        .rfind(|c| !c.is_empty() && *c != ".")
        .unwrap_or("")
}

/// `pathlib.PurePosixPath(path).suffix`: from the last dot of the name, if the dot is neither
/// first nor last.
pub fn suffix(path: &str) -> &str {
    let name = file_name(path);
    match name.rfind('.') {
        Some(i) if i > 0 && i < name.len() - 1 => &name[i..],
        _ => "",
    }
}

/// The directory part of `path` (`pathlib`'s `parent`), `.` when there is none.
pub fn parent(path: &str) -> String {
    let comps: Vec<&str> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let absolute = path.starts_with('/');
    let dir = comps[..comps.len().saturating_sub(1)].join("/");
    match (absolute, dir.is_empty()) {
        (true, _) => format!("/{dir}"),
        (false, true) => ".".into(),
        (false, false) => dir,
    }
}

/// Checks one output pattern; returns OpenSAFELY's reason when it is invalid (the first rule
/// that fails, in OpenSAFELY's order).
pub fn check_output_pattern(pattern: &str, moderately_sensitive: bool) -> Option<String> {
    if pattern.contains('\\') {
        return Some("contains back slashes (use forward slashes only)".into());
    }
    for bad in ["**", "?", "["] {
        if pattern.contains(bad) {
            return Some(format!(
                "contains '{bad}' (only the * wildcard character is supported)"
            ));
        }
    }
    let ext = suffix(pattern);
    if ext.is_empty() || ext.ends_with('*') {
        return Some("output paths must have a file type extension at the end".into());
    }
    if moderately_sensitive && !LEVEL4_FILE_TYPES.contains(&ext) {
        return Some(format!(
            "{pattern} is not an allowed file type for moderately_sensitive outputs"
        ));
    }
    if normpath(pattern) != pattern {
        return Some("is not in standard form (contains double slashes or '..' elements)".into());
    }
    if pattern.split('/').next() == Some("metadata") {
        return Some("should not include the metadata directory".into());
    }
    let b = pattern.as_bytes();
    let windows_absolute =
        b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'/' | b'\\');
    if pattern.starts_with('/') || windows_absolute {
        return Some("is an absolute path".into());
    }
    None
}

/// Whether `path` (relative, `/`-separated) matches `pattern`, where `*` matches any run of
/// characters except `/` (including none, and dotfiles) and everything else is literal.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    let p = pattern.as_bytes();
    let s = path.as_bytes();
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if pi < p.len() && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if let Some((sp, ss)) = star {
            // Let the last star absorb one more character, unless that is a `/`.
            if s[ss] == b'/' {
                return false;
            }
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normpath_as_python() {
        assert_eq!(normpath("a//b.csv"), "a/b.csv");
        assert_eq!(normpath("a/../b.csv"), "b.csv");
        assert_eq!(normpath("./a.csv"), "a.csv");
        assert_eq!(normpath("output/"), "output");
        assert_eq!(normpath("../a"), "../a");
        assert_eq!(normpath("/../a"), "/a");
        assert_eq!(normpath("//a"), "//a");
        assert_eq!(normpath("///a"), "/a");
        assert_eq!(normpath(""), ".");
    }

    #[test]
    fn suffix_as_pathlib() {
        assert_eq!(suffix("output/a.csv.gz"), ".gz");
        assert_eq!(suffix("output/a"), "");
        assert_eq!(suffix("output/"), "");
        assert_eq!(suffix("output/a.*"), ".*");
        assert_eq!(suffix("output/.hidden"), "");
        assert_eq!(suffix("output/a."), "");
        assert_eq!(suffix("output/*"), "");
        assert_eq!(parent("output/a.csv"), "output");
        assert_eq!(parent("a.csv"), ".");
    }

    #[test]
    fn rules_in_order() {
        let r = |p: &str, m: bool| check_output_pattern(p, m);
        assert_eq!(r("output/a.csv", false), None);
        assert_eq!(r("output/*/a.csv", true), None);
        assert_eq!(r("project.yaml", false), None);
        assert_eq!(r("output/a.exe", false), None);
        assert_eq!(
            r("output\\a", false).unwrap(),
            "contains back slashes (use forward slashes only)"
        );
        assert_eq!(
            r("deciles_*.*", true).unwrap(),
            "output paths must have a file type extension at the end"
        );
        assert_eq!(
            r("output/A.CSV", true).unwrap(),
            "output/A.CSV is not an allowed file type for moderately_sensitive outputs"
        );
        assert_eq!(r("c:/a.csv", false).unwrap(), "is an absolute path");
        assert_eq!(
            r("metadata/a.csv", false).unwrap(),
            "should not include the metadata directory"
        );
    }

    #[test]
    fn glob() {
        assert!(glob_match(
            "output/input_*.csv",
            "output/input_2019-01-01.csv"
        ));
        assert!(!glob_match("output/*.csv", "output/sub/a.csv"));
        assert!(glob_match("output/*/a.csv", "output/x/a.csv"));
        assert!(glob_match("output/*.csv", "output/.csv"));
        assert!(!glob_match("output/*.csv", "output/a.CSV"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b", "a/b"));
        assert!(glob_match("*", ""));
    }

    /// A slow, obviously right matcher: `*` tries every split.
    fn reference(p: &[u8], s: &[u8]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((b'*', rest)) => (0..=s.len())
                .take_while(|&i| i == 0 || s[i - 1] != b'/')
                .any(|i| reference(rest, &s[i..])),
            Some((c, rest)) => s.first() == Some(c) && reference(rest, &s[1..]),
        }
    }

    proptest! {
        #[test]
        fn glob_matches_reference(p in "[ab*/]{0,8}", s in "[ab/]{0,8}") {
            prop_assert_eq!(glob_match(&p, &s), reference(p.as_bytes(), s.as_bytes()));
        }
    }
}
