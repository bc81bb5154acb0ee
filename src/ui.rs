//! What the user sees while slimify works, phase by phase (opening the
//! source, reading its layers, tracing, writing the layer, storing the
//! image): bars on a terminal, one `progress:` line per finished phase in a
//! CI log, nothing with `--quiet`.
//!
//! Sizes use the summary's decimal units (MB, not MiB), so the numbers a
//! bar shows and the numbers the summary prints can be compared.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use std::fmt::Write;

use indicatif::{ProgressBar, ProgressState, ProgressStyle};

use crate::units::human;

/// `--progress`: how phases are shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Progress {
    /// Bars when stderr is a terminal, else plain lines.
    #[default]
    Auto,
    /// Bars and spinners, redrawn in place (a terminal).
    Tty,
    /// One line per finished phase, with its sizes and seconds (CI logs).
    Plain,
    /// Nothing but the summary.
    None,
}

/// How phases are shown, once `Auto` is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Bars,
    Plain,
    Off,
}

#[derive(Clone, Copy, Debug)]
pub struct Ui {
    mode: Mode,
    quiet: bool,
}

impl Ui {
    /// The default: bars on a terminal, plain lines elsewhere.
    pub fn new(quiet: bool) -> Self {
        Ui::with_progress(quiet, Progress::Auto)
    }

    /// `--quiet` wins over any `--progress`: it prints nothing but errors.
    pub fn with_progress(quiet: bool, progress: Progress) -> Self {
        let mode = match progress {
            _ if quiet => Mode::Off,
            Progress::None => Mode::Off,
            Progress::Plain => Mode::Plain,
            Progress::Tty => Mode::Bars,
            Progress::Auto if std::io::stderr().is_terminal() => Mode::Bars,
            Progress::Auto => Mode::Plain,
        };
        Ui { mode, quiet }
    }

    pub fn silent() -> Self {
        Ui {
            mode: Mode::Off,
            quiet: true,
        }
    }

    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// A phase whose size cannot be known (opening, tracing, `docker load`):
    /// a spinner with the seconds so far.
    pub fn phase(&self, name: impl Into<String>) -> Phase {
        let name = name.into();
        let bar = if self.mode == Mode::Bars {
            let bar = ProgressBar::new_spinner().with_message(name.clone());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        } else {
            ProgressBar::hidden()
        };
        Phase::new(name, bar, self.mode)
    }

    /// A phase that moves `total` bytes: a bar with the rate and the
    /// time left for all of it.
    pub fn phase_bytes(&self, name: impl Into<String>, total: u64) -> Phase {
        let name = name.into();
        let bar = if self.mode == Mode::Bars {
            let bar = ProgressBar::new(total).with_message(name.clone());
            bar.set_style(
                ProgressStyle::with_template("{msg} [{bar:30}] {done}/{total} {rate}, {eta} left")
                    .expect("valid template")
                    .with_key("done", |s: &ProgressState, w: &mut dyn Write| {
                        let _ = w.write_str(&human(s.pos()));
                    })
                    .with_key("total", |s: &ProgressState, w: &mut dyn Write| {
                        let _ = w.write_str(&human(s.len().unwrap_or(0)));
                    })
                    .with_key("rate", |s: &ProgressState, w: &mut dyn Write| {
                        let _ = write!(w, "{}/s", human(s.per_sec() as u64));
                    })
                    .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        } else {
            ProgressBar::hidden()
        };
        Phase::new(name, bar, self.mode)
    }

    /// A bar counting things (images of a batch), hidden unless bars are on.
    pub fn count(&self, message: &'static str, total: u64) -> ProgressBar {
        if self.mode != Mode::Bars {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(total).with_message(message);
        bar.set_style(
            ProgressStyle::with_template("{msg:>16} [{bar:30}] {pos}/{len} {elapsed}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(250));
        bar
    }
}

/// One phase of a run, shown while it lasts. It derefs to its bar, which
/// the readers and writers advance.
pub struct Phase {
    name: String,
    bar: ProgressBar,
    mode: Mode,
    started: Instant,
}

impl Phase {
    fn new(name: String, bar: ProgressBar, mode: Mode) -> Self {
        Phase {
            name,
            bar,
            mode,
            started: Instant::now(),
        }
    }

    /// The phase is over: its bar goes; in plain mode one line says what it
    /// did (`detail`) and in how long.
    pub fn finish(self, detail: &str) {
        self.bar.finish_and_clear();
        if self.mode == Mode::Plain {
            eprintln!("{}", self.plain_line(detail));
        }
    }

    /// `progress: reading 3 layers: 57.8 MB in 1,234 paths, 1.21 s`.
    fn plain_line(&self, detail: &str) -> String {
        let secs = self.started.elapsed().as_secs_f64();
        if detail.is_empty() {
            format!("progress: {}, {secs:.2} s", self.name)
        } else {
            format!("progress: {}: {detail}, {secs:.2} s", self.name)
        }
    }

    /// Print `line` to stderr without tearing the bar.
    pub fn note(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }
}

impl std::ops::Deref for Phase {
    type Target = ProgressBar;
    fn deref(&self) -> &ProgressBar {
        &self.bar
    }
}

impl Drop for Phase {
    /// A phase cut short by an error leaves no half-drawn bar behind.
    fn drop(&mut self) {
        if !self.bar.is_finished() {
            self.bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_wins_and_plain_lines_read_well() {
        let ui = Ui::with_progress(true, Progress::Plain);
        assert_eq!(ui.mode, Mode::Off);
        let ui = Ui::with_progress(false, Progress::Plain);
        assert_eq!(ui.mode, Mode::Plain);
        let phase = ui.phase_bytes("reading 3 layers", 10);
        assert!(phase.is_hidden());
        let line = phase.plain_line("57.8 MB in 1,234 paths");
        assert!(
            line.starts_with("progress: reading 3 layers: 57.8 MB in 1,234 paths, 0.0"),
            "{line}"
        );
        assert!(line.ends_with(" s"), "{line}");
        assert_eq!(
            ui.phase("tracing").plain_line("").split(',').next(),
            Some("progress: tracing")
        );
    }
}
