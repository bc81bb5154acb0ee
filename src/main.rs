//! The `slimify` binary: parse arguments, run one subcommand, print the
//! result; an error is printed with each of its causes on a line of its own
//! and a hint when one is known.

mod cli;

/// The exit status when `--verify` or `verify` found the images differ, or
/// a CI gate (`--min-ratio`, `--max-size`) failed.
pub const DIFFERENT: u8 = 3;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

/// Why a subcommand failed: a run's error, or (for `batch`) a list it cannot read.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Run(#[from] slimify::Error),
    #[error(transparent)]
    List(#[from] slimify::batch::ListError),
}

/// The errors a subcommand meets before it calls the library.
macro_rules! run_errors {
    ($($t:ty),*) => {$(
        impl From<$t> for Failure {
            fn from(e: $t) -> Self {
                Failure::Run(e.into())
            }
        }
    )*};
}
run_errors!(slimify::errors::PathError, slimify::errors::RefError);

impl Failure {
    fn hint(&self) -> Option<String> {
        match self {
            Failure::Run(e) => e.hint(),
            Failure::List(_) => None,
        }
    }

    /// The command line (or the list) asks for something impossible: exit 2, as clap does.
    fn is_usage(&self) -> bool {
        match self {
            Failure::Run(e) => e.is_usage(),
            Failure::List(_) => true,
        }
    }
}

fn main() -> ExitCode {
    if let Some(code) = suggest_subcommand() {
        return code;
    }
    let cli = cli::Cli::parse();
    if let Err(e) = slimify::interrupt::install() {
        eprintln!("error: cannot install signal handlers: {e}");
        return ExitCode::FAILURE;
    }
    let result = match &cli.command {
        Some(cli::Sub::Explain(args)) => cli::explain::run(args),
        Some(cli::Sub::Batch(args)) => cli::batch::run(args),
        Some(cli::Sub::Verify(args)) => cli::verify::run(args),
        Some(cli::Sub::Completions(args)) => cli::docs::completions(args),
        Some(cli::Sub::Man) => cli::docs::man(),
        None => cli::slim::run(&cli.slim),
    };
    match result {
        Ok(code) => code,
        Err(_) if slimify::interrupt::interrupted() => {
            eprintln!("error: interrupted by a signal; nothing was written");
            ExitCode::from(130)
        }
        Err(e) => {
            print_error(&e);
            // `explain` answers "not kept" with 1: its errors are 2.
            let explain = matches!(cli.command, Some(cli::Sub::Explain(_)));
            ExitCode::from(if e.is_usage() || explain { 2 } else { 1 })
        }
    }
}

/// `error: ...`, then `caused by: ...` for each cause, then `hint: ...`.
fn print_error(e: &Failure) {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let (red, yellow, bold, reset) = if color {
        ("\x1b[1;31m", "\x1b[1;33m", "\x1b[1m", "\x1b[0m")
    } else {
        ("", "", "", "")
    };
    let causes = slimify::causes(e);
    let mut lines = causes.iter();
    if let Some(first) = lines.next() {
        eprintln!("{red}error:{reset} {first}");
    }
    for c in lines {
        eprintln!("{bold}caused by:{reset} {c}");
    }
    if let Some(h) = e.hint() {
        eprintln!("{yellow}hint:{reset} {h}");
    }
}

/// `slimify expalin IMAGE PATH`: a first word that is no flag, no image
/// reference anyone would write and close to a subcommand's name is a typo
/// of it (clap would take it for the SOURCE image).
fn suggest_subcommand() -> Option<ExitCode> {
    let first = std::env::args().nth(1)?;
    if first.starts_with('-') || first.contains([':', '/', '.']) {
        return None;
    }
    let close = cli::SUBCOMMANDS
        .iter()
        .find(|s| **s != first && edit_distance(&first, s) <= 2)?;
    // Only when it is not also a plausible image name followed by -o.
    if std::env::args().any(|a| a == "-o" || a == "--output" || a.starts_with("--output=")) {
        return None;
    }
    eprintln!("error: unrecognized subcommand '{first}'\n\n  tip: a similar subcommand exists: '{close}'\n\nFor more information, try '--help'.");
    Some(ExitCode::from(2))
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
