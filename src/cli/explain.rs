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
    /// Absolute paths inside the image (the image is read once for all).
    #[arg(value_name = "PATH", required = true, num_args = 1..)]
    pub paths: Vec<String>,
    /// Print one JSON array to stdout: for each path, whether it is kept,
    /// whether the image has it, the text, and the chain of reasons.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Also run the image (an engine image) under the workload flags with
    /// the recorder, as `slimify --probe` does.
    #[arg(long, conflicts_with = "keep")]
    pub probe: bool,
    #[command(flatten)]
    pub workload: WorkloadArgs,
}

/// Exit 0 when every path is kept, 1 when one is not, 2 when the image has
/// no such path (a question without an answer, like an unreadable image).
pub fn run(args: &ExplainArgs) -> Result<ExitCode, crate::Failure> {
    let settings = slimify::Settings {
        probe: args.probe,
        workload: args.workload.workload(),
        ..args.read.settings(Ui::silent())?
    };
    let answers = slimify::explain(&settings, &ImageRef::parse(&args.image)?, &args.paths)?;
    let missing = answers.iter().any(|a| !a.in_image && !a.kept);
    let not_kept = answers.iter().any(|a| !a.kept);
    if args.json {
        let json = serde_json::to_string_pretty(&answers).expect("explanations serialize");
        println!("{json}");
    } else {
        for a in &answers {
            if !a.in_image && !a.kept {
                eprintln!("error: {}", a.text);
            } else {
                println!("{}", a.text);
            }
        }
    }
    Ok(ExitCode::from(match (missing, not_kept) {
        (true, _) => 2,
        (false, true) => 1,
        (false, false) => 0,
    }))
}
