//! The in-process images of this project, by name. Each library crate exposes entry points
//! that take only std types; they are registered here.

use pipeline::image::ImageRegistry;

/// Every image this project runs in-process.
pub fn registry() -> ImageRegistry {
    ImageRegistry::new()
}
