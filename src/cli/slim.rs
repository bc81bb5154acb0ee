//! `slimify SOURCE -o TARGET`: slim one image (or the images of an index).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use slimify::{ImageRef, Job};

use super::workload::{CompareArgs, WorkloadArgs};
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
    #[arg(long, help_heading = "Output")]
    pub dry_run: bool,

    /// Write a JSON report of every kept path, its size and why it was kept,
    /// and of every dropped path (docs/report.schema.json).
    #[arg(long, value_name = "FILE.json", help_heading = "Output")]
    pub report: Option<PathBuf>,

    /// Write an SBOM of the slim image: every package with a kept file
    /// (name, version, purl), the files kept from each with their sha256,
    /// and the files of no package, for the image's manifest digest. The
    /// format is --sbom-format's.
    #[arg(long, value_name = "FILE.json", help_heading = "Output")]
    pub sbom: Option<PathBuf>,

    /// `json`: print the summary as one JSON object on stdout (source,
    /// target, sizes, digests, warnings, seconds; the report's fields but
    /// the path lists) instead of the summary line on stderr.
    #[arg(long, value_enum, default_value_t = Format::Text, help_heading = "Output")]
    pub format: Format,

    /// Also run the source (an engine image) under the workload below with
    /// slimify's file-access recorder, and keep every path the run opened,
    /// executed, looked up or listed, beside what tracing keeps.
    #[arg(
        long,
        conflicts_with = "keep",
        help_heading = "Running the image (--probe, --verify, verify)"
    )]
    pub probe: bool,

    /// After writing, run the source and the slim image (both engine
    /// images) under the workload below and compare them; exit 3 when they
    /// behave differently (the slim image stays, for inspection).
    #[arg(
        long,
        conflicts_with = "dry_run",
        help_heading = "Comparing runs (--verify, verify)"
    )]
    pub verify: bool,

    /// CI gate: exit 3 (the slim image is written, for inspection) unless
    /// the slim image's file content is at least N times smaller than the
    /// source's, the ratio the summary line prints.
    #[arg(
        long,
        value_name = "N",
        help_heading = "CI gates (exit 3 when one fails)"
    )]
    pub min_ratio: Option<f64>,

    /// CI gate: exit 3 (the slim image is written) when the slim image's file
    /// content is over SIZE: `30MB`, `1.5GB` (decimal, as the summary
    /// prints), `30MiB`, or bytes.
    #[arg(long, value_name = "SIZE", value_parser = slimify::parse_human_size, help_heading = "CI gates (exit 3 when one fails)")]
    pub max_size: Option<u64>,

    #[command(flatten)]
    pub workload: WorkloadArgs,

    #[command(flatten)]
    pub compare: CompareArgs,
}

/// The gates `summary` fails, one line each.
fn failed_gates(args: &SlimArgs, summary: &slimify::Summary) -> Vec<String> {
    let (before, after) = (summary.before.content_bytes, summary.after.content_bytes);
    let mut failed = Vec::new();
    if let Some(min) = args.min_ratio {
        let ratio = if after == 0 {
            f64::INFINITY
        } else {
            before as f64 / after as f64
        };
        if ratio < min {
            failed.push(format!(
                "--min-ratio {min}: the slim image is only {ratio:.1}x smaller ({} -> {})",
                slimify::human(before),
                slimify::human(after)
            ));
        }
    }
    if let Some(max) = args.max_size.filter(|max| after > *max) {
        failed.push(format!(
            "--max-size {}: the slim image holds {} of file content",
            slimify::human(max),
            slimify::human(after)
        ));
    }
    failed
}

/// How the summary is printed.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

pub fn run(args: &SlimArgs) -> Result<ExitCode, crate::Failure> {
    // clap requires both (unless a subcommand is given).
    let (Some(source), Some(target)) = (&args.source, &args.output) else {
        unreachable!("clap requires SOURCE and -o TARGET");
    };
    let ui = args.write.ui(args.format == Format::Json);
    let settings = slimify::Settings {
        dry_run: args.dry_run,
        probe: args.probe,
        verify: args.verify.then(|| args.compare.options()),
        workload: args.workload.workload(),
        ..args.write.apply(args.read.settings(ui)?)
    };
    let job = Job {
        source: ImageRef::parse(source)?,
        target: ImageRef::parse(target)?,
        report: args.report.clone(),
        sbom: args.sbom.clone(),
    };
    let summary = slimify::slim(&settings, &job)?;
    if args.format == Format::Json {
        println!("{}", summary.json());
    } else if !ui.quiet() {
        for w in &summary.warnings {
            eprintln!("warning: {w}");
        }
        eprintln!("{}", summary.line());
    }
    // Even with --quiet: these are why the exit status is not 0.
    let gates = failed_gates(args, &summary);
    for g in &gates {
        eprintln!("error: gate failed: {g}");
    }
    match &summary.verify {
        Some(v) if !v.same => {
            eprintln!("verify: {target} does not behave like {source}:");
            for d in &v.differences {
                for (i, line) in d.lines().enumerate() {
                    eprintln!("{}{line}", if i == 0 { "  - " } else { "      " });
                }
            }
            if !v.missing.is_empty() {
                eprintln!("  the slim run's errors name what is missing:");
                for m in &v.missing {
                    eprintln!("    {m}");
                }
            }
            Ok(ExitCode::from(crate::DIFFERENT))
        }
        _ if !gates.is_empty() => Ok(ExitCode::from(crate::DIFFERENT)),
        _ => Ok(ExitCode::SUCCESS),
    }
}
