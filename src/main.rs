//! The `slimify` binary: parse arguments, run the pipeline, print the result.

mod cli;

use std::process::ExitCode;

use clap::Parser;

use slimify::error::Error;
use slimify::reference::ImageRef;
use slimify::trace::TraceOptions;
use slimify::ui::Ui;
use slimify::{slim, Options};

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    if let Err(e) = slimify::interrupt::install() {
        eprintln!("error: cannot install signal handlers: {e}");
        return ExitCode::FAILURE;
    }
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Each error's Display already names its cause: one line is enough.
            if slimify::interrupt::interrupted() {
                eprintln!("error: interrupted by a signal; nothing was written");
                ExitCode::from(130)
            } else {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    }
}

fn run(cli: &cli::Cli) -> slimify::error::Result<()> {
    let ui = Ui::new(cli.quiet);
    let opts = Options {
        source: ImageRef::parse(&cli.source)?,
        target: ImageRef::parse(&cli.output)?,
        keep: cli.keep.clone(),
        trace: TraceOptions {
            entrypoint: cli
                .entrypoint
                .as_deref()
                .map(cli::split_command)
                .transpose()
                .map_err(Error::Usage)?,
            cmd: cli
                .cmd
                .as_deref()
                .map(cli::split_command)
                .transpose()
                .map_err(Error::Usage)?,
            include: cli.include.clone(),
            include_exe: cli.include_exe.clone(),
            certs: !cli.no_certs,
        },
        exclude: cli.exclude.clone(),
        dry_run: cli.dry_run,
        compression_level: cli.compression_level,
        report: cli.report.clone(),
        tmp_dir: cli.tmp_dir.clone(),
        ui,
    };
    let summary = slim(&opts)?;
    if !ui.quiet() {
        for w in &summary.warnings {
            eprintln!("warning: {w}");
        }
        eprintln!("{}", summary.line());
    }
    Ok(())
}
