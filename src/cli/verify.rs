//! `slimify verify FAT SLIM`: run both engine images under one workload and
//! say whether they behave the same (exit 0) or not (exit 3, with a diff).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::workload::{CompareArgs, WorkloadArgs};
use super::{split_command, CommandLine};

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The image to compare against (an engine image: NAME[:TAG]).
    #[arg(value_name = "FAT")]
    pub fat: String,

    /// The image that must behave like it.
    #[arg(value_name = "SLIM")]
    pub slim: String,

    /// Run both with this entrypoint (blank-split or a JSON array), as
    /// `docker run --entrypoint` does (the Cmd is dropped unless --cmd is given).
    #[arg(long, value_name = "CMD", value_parser = split_command)]
    pub entrypoint: Option<CommandLine>,

    /// Run both with these arguments (blank-split or a JSON array).
    #[arg(long, value_name = "ARGS", value_parser = split_command)]
    pub cmd: Option<CommandLine>,

    #[command(flatten)]
    pub workload: WorkloadArgs,

    #[command(flatten)]
    pub compare: CompareArgs,

    /// Directory for the recorder's temporary copy.
    #[arg(long, value_name = "DIR", env = "SLIMIFY_TMPDIR")]
    pub tmp_dir: Option<PathBuf>,
}

pub fn run(args: &VerifyArgs) -> Result<ExitCode, crate::Failure> {
    let fat = engine_name(&args.fat)?;
    let slim = engine_name(&args.slim)?;
    slimify::check_engine().map_err(|source| slimify::Error::NoEngine {
        flag: "verify",
        source,
    })?;
    let verdict = slimify::verify(
        &fat,
        &slim,
        args.entrypoint.as_ref().map(|c| c.0.as_slice()),
        args.cmd.as_ref().map(|c| c.0.as_slice()),
        &args.workload.workload(),
        &args.compare.options(),
        args.tmp_dir.as_deref(),
    )
    .map_err(slimify::Error::from)?;
    if verdict.same() {
        println!("{}", verdict.text());
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{}", verdict.text());
        Ok(ExitCode::from(crate::DIFFERENT))
    }
}

/// `NAME[:TAG]` or `docker-daemon:NAME[:TAG]`: the engine's name.
fn engine_name(s: &str) -> Result<String, crate::Failure> {
    match slimify::ImageRef::parse(s)? {
        slimify::ImageRef::Daemon { name } => Ok(name),
        other => Err(slimify::Error::NeedsEngine {
            flag: "verify",
            image: other,
        }
        .into()),
    }
}
