//! `slimify explain IMAGE PATH`: why a path is kept, or why not.

use std::process::ExitCode;

use clap::Args;

use slimify::{ImageRef, Ui};

use super::ReadArgs;

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The image to read (any source transport).
    pub image: String,
    /// An absolute path inside the image.
    pub path: String,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// Exit 0 when the path is kept, 1 when it is not.
pub fn run(args: &ExplainArgs) -> Result<ExitCode, crate::Failure> {
    let settings = args.read.settings(Ui::silent())?;
    let answer = slimify::explain(&settings, &ImageRef::parse(&args.image)?, &args.path)?;
    println!("{}", answer.text);
    Ok(if answer.kept {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
