//! `slimify SOURCE -o TARGET`: slim one image (or the images of an index).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use slimify::{ImageRef, Job, Ui};

use super::{ReadArgs, WriteArgs};

#[derive(Args, Debug)]
pub struct SlimArgs {
    /// The image to read.
    #[arg(value_name = "SOURCE", required = true)]
    pub source: Option<String>,

    /// Where to write the slim image.
    #[arg(short, long, value_name = "TARGET", required = true)]
    pub output: Option<String>,

    #[command(flatten)]
    pub read: ReadArgs,

    #[command(flatten)]
    pub write: WriteArgs,

    /// Trace and report (see --report), but write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Write a JSON report of every kept path, its size and why it was kept.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,
}

pub fn run(args: &SlimArgs) -> Result<ExitCode, crate::Failure> {
    // clap requires both (unless a subcommand is given).
    let (Some(source), Some(target)) = (&args.source, &args.output) else {
        unreachable!("clap requires SOURCE and -o TARGET");
    };
    let ui = Ui::new(args.write.quiet);
    let settings = slimify::Settings {
        dry_run: args.dry_run,
        ..args.write.apply(args.read.settings(ui)?)
    };
    let job = Job {
        source: ImageRef::parse(source)?,
        target: ImageRef::parse(target)?,
        report: args.report.clone(),
    };
    let summary = slimify::slim(&settings, &job)?;
    if !ui.quiet() {
        for w in &summary.warnings {
            eprintln!("warning: {w}");
        }
        eprintln!("{}", summary.line());
    }
    Ok(ExitCode::SUCCESS)
}
