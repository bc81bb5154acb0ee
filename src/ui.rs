//! What the user sees while slimify works: progress bars on a terminal,
//! nothing when output is redirected or with `--quiet`.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

#[derive(Clone, Copy)]
pub struct Ui {
    progress: bool,
    quiet: bool,
}

impl Ui {
    /// Progress only when both stdout and stderr are terminals: a CI log or a
    /// pipe gets the one-line summary and nothing else.
    pub fn new(quiet: bool) -> Self {
        Ui {
            progress: !quiet && std::io::stdout().is_terminal() && std::io::stderr().is_terminal(),
            quiet,
        }
    }

    pub fn silent() -> Self {
        Ui {
            progress: false,
            quiet: true,
        }
    }

    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// A spinner for a step whose size we cannot know (`docker save`, `docker load`).
    pub fn spinner(&self, message: String) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new_spinner().with_message(message);
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    }

    /// A bar counting things (images of a batch), hidden unless progress is on.
    pub fn count(&self, message: &'static str, total: u64) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(total).with_message(message);
        bar.set_style(
            ProgressStyle::with_template("{msg:>16} [{bar:30}] {pos}/{len} {elapsed}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(250));
        bar
    }

    /// A byte-counting bar, hidden unless progress is on.
    pub fn bytes(&self, message: &'static str, total: u64) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(total).with_message(message);
        bar.set_style(
            ProgressStyle::with_template(
                "{msg:>16} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar
    }
}
