//! The study's charts as JPEG files.
