//! The project tree: content hashes, snapshots of what is there, output patterns, and run
//! records written atomically.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

/// Writes a run record (a log, the manifest) atomically, creating its folder first.
pub fn write_record(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    files::write_atomic(path, contents)
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// Hex SHA-256 and size of the file at `path`.
pub fn sha256_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((hex(&hasher.finalize()), size))
}

/// [`sha256_file`] of each of `paths`, in order, on up to `available_parallelism` threads
/// (an action's outputs or inputs are often dozens of files, hashed between two actions).
pub fn sha256_files(paths: &[PathBuf]) -> Vec<std::io::Result<(String, u64)>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(paths.len());
    if threads <= 1 {
        return paths.iter().map(|p| sha256_file(p)).collect();
    }
    let chunk = paths.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = paths
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || part.iter().map(|p| sha256_file(p)).collect::<Vec<_>>())
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| match w.join() {
                Ok(done) => done,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// Folders of the project that never hold action inputs or outputs.
const SKIPPED_DIRS: [&str; 3] = [".git", "metadata", "target"];

/// What a file looked like at one moment: modification time and size.
pub type Stamp = (Option<SystemTime>, u64);

/// Every file under `root` (relative `/`-separated path → stamp), skipping `.git`,
/// `metadata` and `target`.
pub fn snapshot(root: &Path) -> BTreeMap<String, Stamp> {
    let mut out = BTreeMap::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel_path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                if rel.is_empty() && SKIPPED_DIRS.contains(&name.as_str()) {
                    continue;
                }
                stack.push((entry.path(), rel_path));
            } else if meta.is_file() {
                out.insert(rel_path, (meta.modified().ok(), meta.len()));
            }
        }
    }
    out
}

/// Files under `root` matching `pattern` (`*` within one path component), sorted.
pub fn expand(root: &Path, pattern: &str) -> Vec<String> {
    let comps: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    let mut found = Vec::new();
    expand_into(root, "", &comps, &mut found);
    found.sort();
    found
}

fn expand_into(dir: &Path, rel: &str, comps: &[&str], found: &mut Vec<String>) {
    let Some((first, rest)) = comps.split_first() else {
        return;
    };
    let join = |name: &str| {
        if rel.is_empty() {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        }
    };
    if !first.contains('*') {
        let path = dir.join(first);
        if rest.is_empty() {
            if path.is_file() {
                found.push(join(first));
            }
        } else if path.is_dir() {
            expand_into(&path, &join(first), rest, found);
        }
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !crate::paths::glob_match(first, &name) {
            continue;
        }
        let path = entry.path();
        if rest.is_empty() {
            if path.is_file() {
                found.push(join(&name));
            }
        } else if path.is_dir() {
            expand_into(&path, &join(&name), rest, found);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_write_and_hash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/a.txt");
        write_record(&path, b"abc").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"abc");
        let (sha, size) = sha256_file(&path).unwrap();
        assert_eq!(size, 3);
        assert_eq!(
            sha,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(sha, sha256_hex(b"abc"));
        // No temporary file is left behind.
        assert_eq!(
            std::fs::read_dir(dir.path().join("sub")).unwrap().count(),
            1
        );
    }

    #[test]
    fn many_files_hash_in_order_with_their_errors_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> = (0..9)
            .map(|i| {
                let p = dir.path().join(format!("f{i}"));
                if i != 4 {
                    std::fs::write(&p, "x".repeat(i)).unwrap();
                }
                p
            })
            .collect();
        let hashed = sha256_files(&paths);
        assert_eq!(hashed.len(), 9);
        for (i, h) in hashed.iter().enumerate() {
            match h {
                Ok((sha, size)) => {
                    assert_eq!(*size, i as u64);
                    assert_eq!(*sha, sha256_hex("x".repeat(i).as_bytes()));
                }
                Err(_) => assert_eq!(i, 4, "only the missing file fails"),
            }
        }
        assert!(hashed[4].is_err());
        assert!(sha256_files(&[]).is_empty());
    }

    #[test]
    fn expand_and_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "output/a_1.csv",
            "output/a_2.csv",
            "output/sub/a_3.csv",
            "metadata/x.log",
            "b.txt",
        ] {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, f).unwrap();
        }
        assert_eq!(
            expand(dir.path(), "output/a_*.csv"),
            ["output/a_1.csv", "output/a_2.csv"]
        );
        assert_eq!(
            expand(dir.path(), "output/*/a_*.csv"),
            ["output/sub/a_3.csv"]
        );
        assert_eq!(expand(dir.path(), "b.txt"), ["b.txt"]);
        assert!(expand(dir.path(), "output/none.csv").is_empty());
        let snap = snapshot(dir.path());
        assert_eq!(
            snap.keys().collect::<Vec<_>>(),
            [
                "b.txt",
                "output/a_1.csv",
                "output/a_2.csv",
                "output/sub/a_3.csv"
            ]
        );
    }
}
