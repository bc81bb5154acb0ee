//! `slimify batch FILE`: slim every `SOURCE TARGET` pair of a list.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser};

use slimify::batch::{self, Batch, Entry, LineError, ListError, Shard};
use slimify::errors::PathError;
use slimify::{Settings, Ui};

use super::{ReadArgs, SelectArgs, WriteArgs};

#[derive(Args, Debug, Clone)]
pub struct BatchArgs {
    /// The list: one `SOURCE TARGET` pair per line, optionally followed by
    /// selection flags for that image alone (`--include '/data/**'`, quoted
    /// as in a shell), added to the command line's; blank lines and `#`
    /// comments are skipped. `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Images slimmed at once. Each image's work is parallel as well, so a
    /// few jobs are enough to keep the cores busy while others wait on I/O.
    #[arg(short, long, value_name = "N", default_value_t = 2)]
    pub jobs: usize,

    /// Take only the I-th of N round-robin slices of the list (1 <= I <= N),
    /// for CI matrices and Kubernetes Indexed Jobs.
    #[arg(long, value_name = "I/N", value_parser = Shard::parse)]
    pub shard: Option<Shard>,

    /// Write one JSON report per image (named by list line) and summary.json into DIR.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,

    /// Write one SBOM per image (named by list line, `0007-app_1.2.sbom.json`)
    /// into DIR, in --sbom-format's format.
    #[arg(long, value_name = "DIR")]
    pub sbom: Option<PathBuf>,

    /// Most uncompressed layer bytes kept indexed for reuse by later images
    /// of this run (their spools live in --tmp-dir); least recently used go first.
    #[arg(long, value_name = "SIZE", default_value = "8G", value_parser = slimify::parse_size)]
    pub layer_cache_size: u64,

    #[command(flatten)]
    pub read: ReadArgs,

    #[command(flatten)]
    pub write: WriteArgs,
}

/// Exit 1 when any image failed (after every one was tried).
pub fn run(args: &BatchArgs) -> Result<ExitCode, crate::Failure> {
    let (text, name) = read_list(&args.file)?;
    let settings = args.write.apply(args.read.settings(Ui::silent())?);
    let mut entries = batch::parse(&text, &name)?;
    for entry in &mut entries {
        line_selection(entry, &settings, &name)?;
    }
    if let Some(shard) = args.shard {
        entries = shard.take(entries);
    }
    let b = Batch {
        jobs: args.jobs,
        report_dir: args.report.clone(),
        sbom_dir: args.sbom.clone(),
        cache_capacity: args.layer_cache_size,
        ui: args.write.ui(false),
    };
    let finished = batch::run(&settings, &b, entries)?;
    print!("{}", batch::table(&finished));
    Ok(if finished.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The selection flags a list line may carry: the command line's.
#[derive(Parser, Debug)]
#[command(name = "a list line", no_binary_name = true, disable_help_flag = true)]
struct LineFlags {
    #[command(flatten)]
    select: SelectArgs,
}

/// Read `entry`'s flags into its own selection, checked as the command
/// line's are, so a bad flag on any line fails the run before it starts.
fn line_selection(entry: &mut Entry, settings: &Settings, list: &str) -> Result<(), ListError> {
    if entry.flags.is_empty() {
        return Ok(());
    }
    let bad = |why: String| ListError {
        name: list.to_string(),
        line: entry.line,
        why: LineError::Flags(why),
    };
    let flags = LineFlags::try_parse_from(&entry.flags).map_err(|e| {
        let text = e.render().to_string();
        let first = text.lines().next().unwrap_or_default();
        bad(first.trim_start_matches("error: ").to_string())
    })?;
    let select = settings.select.and(&flags.select.to_select());
    if let Some(flag) = select.conflict() {
        return Err(bad(format!("--keep cannot be used with {flag}")));
    }
    let checked = Settings {
        select: select.clone(),
        ..settings.clone()
    };
    checked.check().map_err(|e| bad(slimify::one_line(&e)))?;
    entry.select = Some(select);
    Ok(())
}

/// The list's text and the name to give it in errors (`-` is stdin).
fn read_list(file: &PathBuf) -> Result<(String, String), PathError> {
    if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| PathError::new("standard input", e))?;
        Ok((text, "stdin".into()))
    } else {
        let text = std::fs::read_to_string(file).map_err(|e| PathError::new(file, e))?;
        Ok((text, file.display().to_string()))
    }
}
