//! What the user sees while actions run: a spinner per running action on a terminal, plain
//! lines otherwise, and a summary table at the end.

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{ActionOutcome, Status};

/// The live view.
pub struct View<'a> {
    out: &'a mut (dyn Write + Send),
    multi: Option<MultiProgress>,
    bars: HashMap<String, ProgressBar>,
}

impl<'a> View<'a> {
    /// A view printing to `out`, with spinners on stderr when `live`.
    pub fn new(out: &'a mut (dyn Write + Send), live: bool) -> Self {
        let multi = live.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        View {
            out,
            multi,
            bars: HashMap::new(),
        }
    }

    /// Prints one line (above the spinners).
    pub fn line(&mut self, text: &str) {
        let out = &mut self.out;
        match &self.multi {
            Some(multi) => multi.suspend(|| {
                let _ = writeln!(out, "{text}");
                let _ = out.flush();
            }),
            None => {
                let _ = writeln!(out, "{text}");
            }
        }
    }

    /// An action started.
    pub fn started(&mut self, name: &str, command: &str) {
        self.line(&format!("{name}: running `{command}`"));
        if let Some(multi) = &self.multi {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message(name.to_string());
            bar.enable_steady_tick(Duration::from_millis(120));
            self.bars.insert(name.to_string(), bar);
        }
    }

    /// The latest line an action logged, shown next to its spinner.
    pub fn progress(&mut self, name: &str, line: &str) {
        if let Some(bar) = self.bars.get(name) {
            let short: String = line.chars().take(80).collect();
            bar.set_message(format!("{name}: {short}"));
        }
    }

    /// An action finished.
    pub fn finished(&mut self, name: &str) {
        if let Some(bar) = self.bars.remove(name) {
            bar.finish_and_clear();
            if let Some(multi) = &self.multi {
                multi.remove(&bar);
            }
        }
    }

    /// Prints the summary table.
    pub fn summary(&mut self, outcomes: &[ActionOutcome]) {
        let width = outcomes
            .iter()
            .map(|o| o.name.len())
            .max()
            .unwrap_or(6)
            .max(6);
        let mut table = format!(
            "\n{:<width$}  {:<18}  {:>8}  detail\n",
            "action", "status", "time"
        );
        for o in outcomes {
            let time = o
                .duration_seconds
                .map_or_else(|| "-".into(), |d| format!("{d:.1}s"));
            let detail = match &o.status {
                Status::Succeeded => {
                    let n = o.outputs.len();
                    format!("{n} output file{}", if n == 1 { "" } else { "s" })
                }
                Status::UpToDate => "skipped: inputs and outputs unchanged".into(),
                Status::Failed(msg) => msg.lines().next().unwrap_or("").to_string(),
                Status::DependencyFailed(dep) => format!("not started: dependency {dep} failed"),
                Status::NotStarted => "not started: an earlier action failed".into(),
            };
            table.push_str(&format!(
                "{:<width$}  {:<18}  {:>8}  {detail}\n",
                o.name,
                o.status.label(),
                time
            ));
        }
        self.line(table.trim_end());
    }
}
