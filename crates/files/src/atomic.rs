//! Atomic writes: a file is written under a temporary name in its own folder (so the rename
//! cannot cross file systems), flushed to disk, and renamed to its final name only when
//! complete. Readers see the old file or the new one, never half of one.
//!
//! Flushing each file on its own costs a disk round trip per file (a few milliseconds on a
//! busy disk; a study writes over a hundred small files). A caller that flushes the files
//! itself afterwards, all together ([`sync_files`]), holds a [`DeferSync`] while they are
//! written: the pipeline runner does, for each action's outputs.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// How many [`DeferSync`] guards are alive: while any is, commits do not flush.
static DEFERRED: AtomicUsize = AtomicUsize::new(0);

/// While alive, [`PendingFile::commit`] (and so [`write_atomic`]) renames without flushing the
/// file to disk first: whoever holds it promises to make the files durable with
/// [`sync_files`]. Process-wide; guards nest.
#[derive(Debug)]
#[must_use = "the deferral ends when the guard is dropped"]
pub struct DeferSync(());

impl DeferSync {
    /// Starts deferring.
    pub fn start() -> DeferSync {
        DEFERRED.fetch_add(1, Ordering::SeqCst);
        DeferSync(())
    }
}

impl Drop for DeferSync {
    fn drop(&mut self) {
        DEFERRED.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Flushes `paths` (files) and their folders to disk, many at once: concurrent flushes share
/// the file system's journal commits, where one after another each waits for its own. Every
/// path is tried; the first error (naming its path) is returned.
pub fn sync_files(paths: &[PathBuf]) -> io::Result<()> {
    let mut all: Vec<PathBuf> = paths.to_vec();
    let mut dirs: Vec<PathBuf> = paths
        .iter()
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs.dedup();
    all.extend(dirs);
    /// Flushes at once, at most.
    const AT_ONCE: usize = 16;
    let next = AtomicUsize::new(0);
    let first_error: std::sync::Mutex<Option<io::Error>> = std::sync::Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..AT_ONCE.min(all.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = all.get(i) else { break };
                if let Err(e) = File::open(path).and_then(|f| f.sync_all()) {
                    let mut slot = first_error
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    slot.get_or_insert_with(|| {
                        io::Error::new(e.kind(), format!("cannot flush {}: {e}", path.display()))
                    });
                }
            });
        }
    });
    match first_error
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Writes `contents` to `path` atomically. The folder must exist.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    let (pending, mut file) = PendingFile::create(path)?;
    file.write_all(contents)?;
    drop(file);
    pending.commit()
}

/// A file being written under a temporary name beside its final path.
///
/// [`PendingFile::create`] hands out the open temporary file; write to it, close it, then
/// [`PendingFile::commit`] renames it into place. Dropped uncommitted (an error on the way),
/// the temporary file is removed and the final path is left untouched.
#[derive(Debug)]
pub struct PendingFile {
    tmp: PathBuf,
    path: PathBuf,
    committed: bool,
}

impl PendingFile {
    /// Creates the temporary file for `path`: `DIR/.NAME.PID-N.tmp`, hidden, unique within
    /// the process, and matching no output pattern such as `input_*.csv`.
    pub fn create(path: &Path) -> io::Result<(PendingFile, File)> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = path.file_name().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a file path", path.display()),
            )
        })?;
        let tmp = path.with_file_name(format!(
            ".{}.{}-{}.tmp",
            name.to_string_lossy(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let file = File::create(&tmp)?;
        Ok((
            PendingFile {
                tmp,
                path: path.to_path_buf(),
                committed: false,
            },
            file,
        ))
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes the (complete, closed) temporary file to disk (unless a [`DeferSync`] is alive)
    /// and renames it to the final path.
    pub fn commit(mut self) -> io::Result<()> {
        if DEFERRED.load(Ordering::SeqCst) == 0 {
            File::open(&self.tmp)?.sync_all()?;
        }
        std::fs::rename(&self.tmp, &self.path)?;
        self.committed = true;
        Ok(())
    }
}

/// The final path of a [`PendingFile`]'s temporary file (`DIR/.NAME.PID-N.tmp` gives
/// `DIR/NAME`), or `None` when `path` is not named like one. `/`-separated relative paths, as
/// the pipeline runner lists a project's files.
pub fn pending_target(path: &str) -> Option<String> {
    let (dir, name) = path.rsplit_once('/').map_or(("", path), |(d, n)| (d, n));
    let stem = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (target, unique) = stem.rsplit_once('.')?;
    let (pid, n) = unique.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if target.is_empty() || !digits(pid) || !digits(n) {
        return None;
    }
    Some(if dir.is_empty() {
        target.to_string()
    } else {
        format!("{dir}/{target}")
    })
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let names: std::collections::BTreeSet<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.into_iter().collect()
    }

    #[test]
    fn writes_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(names(dir.path()), ["a.csv"]);
    }

    #[test]
    fn the_final_name_appears_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("input_2020-01-01.csv");
        let (pending, mut file) = PendingFile::create(&path).unwrap();
        file.write_all(b"x").unwrap();
        drop(file);
        assert!(!path.exists());
        let tmp = names(dir.path());
        assert_eq!(tmp.len(), 1);
        assert!(
            tmp[0].starts_with(".input_2020-01-01.csv.")
                && Path::new(&tmp[0]).extension() == Some("tmp".as_ref()),
            "{tmp:?}"
        );
        assert_eq!(pending.path(), path);
        pending.commit().unwrap();
        assert_eq!(names(dir.path()), ["input_2020-01-01.csv"]);
    }

    #[test]
    fn a_temporary_name_gives_its_final_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("figures").join("sex_rates.jpeg");
        std::fs::create_dir(path.parent().unwrap()).unwrap();
        let (_pending, _file) = PendingFile::create(&path).unwrap();
        let tmp = names(path.parent().unwrap()).remove(0);
        assert_eq!(
            pending_target(&format!("output/figures/{tmp}")).as_deref(),
            Some("output/figures/sex_rates.jpeg")
        );
        assert_eq!(pending_target(&tmp).as_deref(), Some("sex_rates.jpeg"));
        for not_pending in [
            "output/a.csv",
            "output/.a.csv",
            "output/.a.csv.tmp",
            "output/.a.csv.12-x.tmp",
            "output/..12-3.tmp",
            "output/a.csv.12-3.tmp",
        ] {
            assert_eq!(pending_target(not_pending), None, "{not_pending}");
        }
    }

    #[test]
    fn deferred_commits_still_rename_and_sync_files_flushes_them() {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> = (0..40)
            .map(|i| dir.path().join(format!("f{i}.csv")))
            .collect();
        {
            let _outer = DeferSync::start();
            let _inner = DeferSync::start();
            for p in &paths {
                write_atomic(p, b"x").unwrap();
            }
        }
        assert_eq!(names(dir.path()).len(), 40);
        sync_files(&paths).unwrap();
        sync_files(&[]).unwrap();
        let missing = dir.path().join("missing.csv");
        let e = sync_files(&[paths[0].clone(), missing.clone()]).unwrap_err();
        assert!(
            e.to_string().contains(&missing.display().to_string()),
            "{e}"
        );
    }

    #[test]
    fn an_abandoned_write_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        std::fs::write(&path, "old").unwrap();
        let (pending, mut file) = PendingFile::create(&path).unwrap();
        file.write_all(b"half").unwrap();
        drop((pending, file));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(names(dir.path()), ["a.csv"]);
    }

    #[test]
    fn errors_for_a_missing_folder_or_no_file_name() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write_atomic(&dir.path().join("missing/a.csv"), b"x").is_err());
        let e = write_atomic(Path::new("/"), b"x").unwrap_err();
        assert!(e.to_string().contains("is not a file path"), "{e}");
    }
}
