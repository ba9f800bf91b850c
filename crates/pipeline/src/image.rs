//! In-process images: the seam between the runner and the library crates.
//!
//! Library crates expose entry points that take only std types, so they do not depend on the
//! runner; the `xtask` driver registers them here under an image name.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The error an in-process image returns; its `Display` is shown to the user.
pub type ImageError = Box<dyn std::error::Error + Send + Sync>;

/// One invocation of an in-process image, as an action's `run` line describes it.
pub struct Invocation<'a> {
    /// Image name, e.g. `cohortextractor`.
    pub image: &'a str,
    /// Image tag, e.g. `latest`.
    pub tag: &'a str,
    /// Arguments after `IMAGE:TAG`, already shell-split (and with any runner additions).
    pub args: &'a [String],
    /// The project folder; relative paths in `args` are relative to it.
    pub project_dir: &'a Path,
    /// Where the image writes its log (the action's log file and live view).
    pub log: &'a mut (dyn Write + Send),
    /// Files the image read that its arguments do not name (e.g. a study definition found by
    /// name, codelists); the runner hashes them to decide later whether the action is stale.
    /// Paths may be absolute or relative to `project_dir`.
    pub reads: &'a mut Vec<PathBuf>,
}

/// Something that runs an invocation in-process.
pub trait InProcessImage: Send + Sync {
    /// Runs the invocation to completion.
    fn run(&self, invocation: Invocation<'_>) -> Result<(), ImageError>;
}

impl<F> InProcessImage for F
where
    F: Fn(Invocation<'_>) -> Result<(), ImageError> + Send + Sync,
{
    fn run(&self, invocation: Invocation<'_>) -> Result<(), ImageError> {
        self(invocation)
    }
}

/// Image names implemented in-process, looked up by the runner before falling back to a
/// local process.
#[derive(Clone, Default)]
pub struct ImageRegistry {
    images: BTreeMap<String, Arc<dyn InProcessImage>>,
}

impl ImageRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `image` (any tag) to run in-process.
    pub fn register(&mut self, image: &str, run: impl InProcessImage + 'static) {
        self.images.insert(image.to_string(), Arc::new(run));
    }

    /// The in-process implementation of `image`, if there is one.
    pub fn get(&self, image: &str) -> Option<Arc<dyn InProcessImage>> {
        self.images.get(image).cloned()
    }

    /// Registered image names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.images.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_image_runs_with_its_arguments() {
        let mut registry = ImageRegistry::new();
        registry.register("echo", |inv: Invocation<'_>| {
            writeln!(inv.log, "{}:{} {}", inv.image, inv.tag, inv.args.join(" "))?;
            Ok(())
        });
        let mut log = Vec::new();
        let mut reads = Vec::new();
        let args = vec!["a".to_string(), "b".to_string()];
        let image = registry.get("echo").expect("registered");
        image
            .run(Invocation {
                image: "echo",
                tag: "v1",
                args: &args,
                project_dir: Path::new("."),
                log: &mut log,
                reads: &mut reads,
            })
            .unwrap();
        assert_eq!(String::from_utf8(log).unwrap(), "echo:v1 a b\n");
        assert!(registry.get("other").is_none());
        assert_eq!(registry.names().collect::<Vec<_>>(), ["echo"]);
    }
}
