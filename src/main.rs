//! The `slimify` binary: parse arguments, run the pipeline, print the result.

mod cli;

use std::process::ExitCode;

use clap::Parser;

use slimify::error::Error;
use slimify::reference::ImageRef;
use slimify::ui::Ui;
use slimify::{slim, Options};

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    if let Err(e) = slimify::interrupt::install() {
        eprintln!("error: cannot install signal handlers: {e}");
        return ExitCode::FAILURE;
    }
    match run(&cli) {
        Ok(code) => code,
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

fn run(cli: &cli::Cli) -> slimify::error::Result<ExitCode> {
    if let Some(cli::Sub::Explain {
        image,
        path,
        select,
        limits,
        registry,
        tmp_dir,
    }) = &cli.command
    {
        let select = select.to_select().map_err(Error::Usage)?;
        let (kept, text) = slimify::explain(
            &ImageRef::parse(image)?,
            &select,
            &limits.to_limits(),
            &registry.to_settings()?,
            tmp_dir.as_ref(),
            path,
        )?;
        println!("{text}");
        return Ok(if kept {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let ui = Ui::new(cli.quiet);
    let required = |v: &Option<String>| {
        v.clone()
            .ok_or_else(|| Error::Usage("SOURCE and -o TARGET are required".into()))
    };
    let opts = Options {
        source: ImageRef::parse(&required(&cli.source)?)?,
        target: ImageRef::parse(&required(&cli.output)?)?,
        select: cli.select.to_select().map_err(Error::Usage)?,
        dry_run: cli.dry_run,
        compression_level: cli.compression_level,
        report: cli.report.clone(),
        tmp_dir: cli.tmp_dir.clone(),
        limits: cli.limits.to_limits(),
        registry: cli.registry.to_settings()?,
        ui,
    };
    let summary = slim(&opts)?;
    if !ui.quiet() {
        for w in &summary.warnings {
            eprintln!("warning: {w}");
        }
        eprintln!("{}", summary.line());
    }
    Ok(ExitCode::SUCCESS)
}
