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
        read,
        tmp_dir,
    }) = &cli.command
    {
        let select = read.select.to_select().map_err(Error::Usage)?;
        let (kept, text) = slimify::explain(
            &ImageRef::parse(image)?,
            &select,
            &read.limits.to_limits(),
            &read.registry.to_settings()?,
            &read.platform,
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
    if let Some(cli::Sub::Batch { batch, read }) = &cli.command {
        return run_batch(batch, read);
    }
    let ui = Ui::new(cli.quiet);
    let required = |v: &Option<String>| {
        v.clone()
            .ok_or_else(|| Error::Usage("SOURCE and -o TARGET are required".into()))
    };
    let opts = Options {
        source: ImageRef::parse(&required(&cli.source)?)?,
        target: ImageRef::parse(&required(&cli.output)?)?,
        select: cli.read.select.to_select().map_err(Error::Usage)?,
        dry_run: cli.dry_run,
        compression_level: cli.compression_level,
        report: cli.report.clone(),
        tmp_dir: cli.tmp_dir.clone(),
        limits: cli.read.limits.to_limits(),
        registry: cli.read.registry.to_settings()?,
        cache_dir: cli.cache_dir.clone(),
        platforms: cli.read.platform.clone(),
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

fn run_batch(args: &cli::BatchArgs, read: &cli::ReadArgs) -> slimify::error::Result<ExitCode> {
    use slimify::batch;
    let (text, name) = if args.file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| Error::Usage(format!("reading the list from stdin: {e}")))?;
        (text, "stdin".to_string())
    } else {
        let text = std::fs::read_to_string(&args.file).map_err(|e| Error::Io {
            path: args.file.clone(),
            source: e,
        })?;
        (text, args.file.display().to_string())
    };
    let mut jobs = batch::list::parse(&text, &name)?;
    if let Some(shard) = args.shard {
        jobs = shard.take(jobs);
    }
    if args.jobs == 0 {
        return Err(Error::Usage("--jobs must be at least 1".into()));
    }
    slimify::check_compression_level(args.compression_level)?;
    let ui = Ui::new(args.quiet);
    let placeholder = ImageRef::parse("oci:/nonexistent")?;
    let b = batch::Batch {
        template: Options {
            source: placeholder.clone(),
            target: placeholder,
            select: read.select.to_select().map_err(Error::Usage)?,
            dry_run: false,
            compression_level: args.compression_level,
            report: None,
            tmp_dir: args.tmp_dir.clone(),
            limits: read.limits.to_limits(),
            registry: read.registry.to_settings()?,
            cache_dir: args.cache_dir.clone(),
            platforms: read.platform.clone(),
            ui: Ui::silent(),
        },
        jobs: args.jobs,
        report_dir: args.report.clone(),
        cache_capacity: args.layer_cache_size,
        ui,
    };
    let finished = batch::run(&b, jobs)?;
    print!("{}", batch::table(&finished));
    Ok(if finished.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
