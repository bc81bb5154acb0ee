//! `verify`: run the fat and the slim image under the same workload and say
//! whether they behave the same: exit status, stdout and stderr, each HTTP
//! response, each `--exec` command, the healthcheck. When they differ, the
//! missing paths the slim run's errors name, each with the `--include` that
//! would keep it.
//!
//! Output is compared after [`normalize`] blanks what differs between any
//! two runs of one image (times, durations, the run's PIDs; `--ignore`
//! patterns too), so that a difference is one the slimming made.

mod compare;
mod missing;
mod normalize;

pub use missing::Missing;
pub use normalize::Normalizer;

use std::time::Instant;

use crate::probe::{self, Mode, Observed, ProbeError, RunSpec, Workload};

/// How outputs are compared.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// `--ignore REGEX`: parts of any output that may differ.
    pub ignore: Vec<String>,
    /// `--exact`: compare outputs byte for byte (no time or PID blanking).
    pub exact: bool,
}

impl VerifyOptions {
    /// The `--ignore` patterns compile.
    pub fn check(&self) -> Result<(), VerifyError> {
        Normalizer::new(self).map(drop)
    }
}

/// Why the images could not be compared.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("cannot run {image}")]
    Run {
        image: String,
        #[source]
        source: ProbeError,
    },
    #[error("the source image {image} never answered on port {port} within {seconds} s, so there is nothing to compare the slim image with")]
    NeverReady {
        image: String,
        port: u16,
        seconds: u64,
    },
    #[error("--ignore {pattern:?} is not a regular expression")]
    BadIgnore {
        pattern: String,
        #[source]
        source: regex::Error,
    },
}

impl VerifyError {
    pub fn hint(&self) -> Option<String> {
        match self {
            VerifyError::Run { source, .. } => source.hint(),
            VerifyError::NeverReady { .. } => Some(
                "give a longer --timeout, the --port it listens on, or a path that answers with --http-get"
                    .into(),
            ),
            VerifyError::BadIgnore { .. } => None,
        }
    }
}

/// Whether the two runs behaved the same, and how they did not.
#[derive(Clone, Debug, Default)]
pub struct Verdict {
    pub fat: String,
    pub slim: String,
    /// One entry per difference, with a short diff where output differs.
    pub differences: Vec<String>,
    /// What the slim run's errors say is missing (empty when they agree).
    pub missing: Vec<Missing>,
    /// Both runs, side by side.
    pub seconds: f64,
}

impl Verdict {
    pub fn same(&self) -> bool {
        self.differences.is_empty()
    }

    /// The verdict for a terminal: one line when they agree, else the
    /// differences and the missing paths with their `--include`.
    pub fn text(&self) -> String {
        if self.same() {
            return format!(
                "verify: {} behaves like {} ({:.1} s)",
                self.slim, self.fat, self.seconds
            );
        }
        let mut out = format!("verify: {} does not behave like {}:\n", self.slim, self.fat);
        for d in &self.differences {
            for (i, line) in d.lines().enumerate() {
                out += if i == 0 { "  - " } else { "      " };
                out += line;
                out.push('\n');
            }
        }
        if !self.missing.is_empty() {
            out += "  the slim run's errors name what is missing:\n";
            for m in &self.missing {
                out += &format!("    {m}\n");
            }
        }
        out.trim_end().to_string()
    }
}

/// Run `fat` and `slim` (engine images) under `workload` and compare them.
pub fn verify(
    fat: &str,
    slim: &str,
    entrypoint: Option<&[String]>,
    cmd: Option<&[String]>,
    workload: &Workload,
    options: &VerifyOptions,
    tmp_dir: Option<&std::path::Path>,
) -> Result<Verdict, VerifyError> {
    let normalizer = Normalizer::new(options)?;
    let started = Instant::now();
    let spec = |image: &str| {
        RunSpec::inspect(image, entrypoint, cmd).map_err(|source| VerifyError::Run {
            image: image.to_string(),
            source,
        })
    };
    let (fat_spec, slim_spec) = (spec(fat)?, spec(slim)?);
    let run = |s: &RunSpec| {
        probe::run(s, workload, Mode::Plain, tmp_dir, None).map_err(|source| VerifyError::Run {
            image: s.image.clone(),
            source,
        })
    };
    // Without a shared network the two runs cannot meet: run them side by side.
    let (a, b): (Result<Observed, _>, Result<Observed, _>) =
        if workload.network == probe::Network::None {
            std::thread::scope(|scope| {
                let slim_run = scope.spawn(|| run(&slim_spec));
                let fat_run = run(&fat_spec);
                (
                    fat_run,
                    slim_run.join().expect("the slim run does not panic"),
                )
            })
        } else {
            (run(&fat_spec), run(&slim_spec))
        };
    let (a, b) = (a?, b?);
    if a.never_answered() {
        return Err(VerifyError::NeverReady {
            image: fat.to_string(),
            port: a.port.unwrap_or_default(),
            seconds: workload.timeout.as_secs(),
        });
    }
    let differences = compare::differences(&a, &b, &normalizer);
    let missing = if differences.is_empty() {
        Vec::new()
    } else {
        missing::named(&a, &b)
    };
    Ok(Verdict {
        fat: fat.to_string(),
        slim: slim.to_string(),
        differences,
        missing,
        seconds: started.elapsed().as_secs_f64(),
    })
}
