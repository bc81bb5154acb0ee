//! The flags that say how an image is run (`--probe`, `--verify`, `verify`)
//! and how two runs are compared.

use std::time::Duration;

use clap::{Args, ValueEnum};

use slimify::{Network, VerifyOptions, Workload};

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Running the image (--probe, --verify, verify)")]
pub struct WorkloadArgs {
    /// Run the image as a server and send it `GET PATH` once it answers
    /// (repeatable, in order). A server is also any image that exposes one
    /// port: it is sent `GET /` when no --http-get or --exec is given.
    #[arg(long, value_name = "PATH")]
    pub http_get: Vec<String>,

    /// The port the server listens on (default: the one the image exposes).
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,

    /// Run CMD inside the running container (repeatable, in order; words
    /// split as a POSIX shell splits them, no shell needed in the image).
    #[arg(long, visible_alias = "probe-exec", value_name = "CMD", value_parser = split_words)]
    pub exec: Vec<ExecLine>,

    /// Seconds a command may run, and a server may take to answer, before it is stopped.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,

    /// Seconds a server keeps running after the last request before it is stopped.
    #[arg(long, value_name = "SECONDS", default_value_t = 1.0)]
    pub settle: f64,

    /// The container's network: `none` (requests are sent from inside the
    /// container) or `host` (for apps that need services on this machine).
    #[arg(long, value_enum, default_value_t = NetworkArg::None)]
    pub network: NetworkArg,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum NetworkArg {
    None,
    Host,
}

/// One `--exec` command line.
#[derive(Clone, Debug)]
pub struct ExecLine(Vec<String>);

fn split_words(s: &str) -> Result<ExecLine, String> {
    let words = shell_words::split(s).map_err(|e| format!("{s:?}: {e}"))?;
    if words.is_empty() {
        return Err("an empty command".into());
    }
    Ok(ExecLine(words))
}

impl WorkloadArgs {
    pub fn workload(&self) -> Workload {
        Workload {
            http_get: self.http_get.clone(),
            port: self.port,
            exec: self.exec.iter().map(|e| e.0.clone()).collect(),
            timeout: Duration::from_secs(self.timeout.max(1)),
            settle: Duration::from_secs_f64(self.settle.clamp(0.0, 3600.0)),
            network: match self.network {
                NetworkArg::None => Network::None,
                NetworkArg::Host => Network::Host,
            },
        }
    }
}

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Comparing runs (--verify, verify)")]
pub struct CompareArgs {
    /// Blank what matches REGEX in every output before comparing (repeatable).
    /// Times, dates, durations and the runs' PIDs are blanked already.
    #[arg(long, value_name = "REGEX")]
    pub ignore: Vec<String>,

    /// Compare outputs byte for byte: blank no times, durations or PIDs.
    #[arg(long)]
    pub exact: bool,
}

impl CompareArgs {
    pub fn options(&self) -> VerifyOptions {
        VerifyOptions {
            ignore: self.ignore.clone(),
            exact: self.exact,
        }
    }
}
