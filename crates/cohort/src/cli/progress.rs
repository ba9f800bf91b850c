//! A progress bar (indicatif) drawn as plain lines into a log.

use std::io::Write;
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

/// Collects what indicatif draws as whole lines (cursor movements are dropped: a log file
/// gets one line per redraw).
#[derive(Debug, Default, Clone)]
struct Lines {
    inner: Arc<Mutex<(Vec<String>, String)>>,
}

impl Lines {
    fn take(&self) -> Vec<String> {
        let mut g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::mem::take(&mut g.0)
    }

    fn with<R>(&self, f: impl FnOnce(&mut (Vec<String>, String)) -> R) -> R {
        let mut g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut g)
    }
}

impl TermLike for Lines {
    fn width(&self) -> u16 {
        100
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.with(|(lines, pending)| {
            pending.push_str(s);
            lines.push(std::mem::take(pending));
        });
        Ok(())
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.with(|(_, pending)| pending.push_str(s));
        Ok(())
    }
    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        self.with(|(lines, pending)| {
            if pending.trim().is_empty() {
                pending.clear();
            } else {
                lines.push(std::mem::take(pending));
            }
        });
        Ok(())
    }
}

/// A progress bar over `total` steps whose redraws are written to a log as lines.
pub struct Progress {
    bar: ProgressBar,
    lines: Lines,
}

impl Progress {
    /// A progress bar over `total` steps of `what` (e.g. `files`).
    pub fn new(total: u64, what: &str) -> Progress {
        let lines = Lines::default();
        let bar = ProgressBar::with_draw_target(
            Some(total),
            ProgressDrawTarget::term_like(Box::new(lines.clone())),
        );
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "[{{elapsed_precise}}] {{bar:30}} {{pos}}/{{len}} {what} {{msg}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("#>-"),
        );
        Progress { bar, lines }
    }

    /// Advances by one step labelled `msg`, and copies the redraw into `log`.
    pub fn step(&self, msg: String, log: &mut dyn Write) -> std::io::Result<()> {
        self.bar.set_message(msg);
        self.bar.inc(1);
        self.drain(log)
    }

    /// Shows `msg` without advancing, and copies the redraw (if any) into `log`.
    pub fn message(&self, msg: String, log: &mut dyn Write) -> std::io::Result<()> {
        self.bar.set_message(msg);
        self.drain(log)
    }

    /// Advances by `n` steps without drawing to a log.
    pub fn bar_inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Copies the latest redraw into `log`.
    pub fn drain_to(&self, log: &mut dyn Write) -> std::io::Result<()> {
        self.drain(log)
    }

    /// Finishes the bar (forcing a final draw) and copies it into `log`.
    pub fn finish(&self, log: &mut dyn Write) -> std::io::Result<()> {
        self.bar.finish();
        self.drain(log)
    }

    /// Writes the latest redraw (if any) to `log`: one line per step.
    fn drain(&self, log: &mut dyn Write) -> std::io::Result<()> {
        if let Some(line) = self.lines.take().last() {
            writeln!(log, "{}", line.trim_end())?;
        }
        log.flush()
    }
}
