//! `slimify explain IMAGE PATH`: why a path is kept, or why not.

use std::process::ExitCode;

use clap::Args;

use slimify::{ImageRef, Ui};

use super::workload::WorkloadArgs;
use super::ReadArgs;

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The image to read (any source transport).
    pub image: String,
    /// An absolute path inside the image.
    pub path: String,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Also run the image (an engine image) under the workload flags with
    /// the recorder, as `slimify --probe` does.
    #[arg(long, conflicts_with = "keep")]
    pub probe: bool,
    #[command(flatten)]
    pub workload: WorkloadArgs,
}

/// Exit 0 when the path is kept, 1 when it is not, 2 when the image has
/// no such path (a question that has no answer, like an unreadable image).
pub fn run(args: &ExplainArgs) -> Result<ExitCode, crate::Failure> {
    let settings = slimify::Settings {
        probe: args.probe,
        workload: args.workload.workload(),
        ..args.read.settings(Ui::silent())?
    };
    let answer = slimify::explain(&settings, &ImageRef::parse(&args.image)?, &args.path)?;
    if !answer.in_image && !answer.kept {
        eprintln!("error: {}", answer.text);
        return Ok(ExitCode::from(2));
    }
    println!("{}", answer.text);
    Ok(if answer.kept {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
