//! `slimify completions SHELL` and `slimify man`: the command line described
//! for shells and for man(1), generated from the same clap definition that
//! parses it, so they cannot drift from `--help`.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::Cli;

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    #[arg(value_name = "SHELL")]
    pub shell: Shell,
}

pub fn completions(args: &CompletionsArgs) -> Result<ExitCode, crate::Failure> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "slimify", &mut script);
    Ok(print(&script))
}

pub fn man() -> Result<ExitCode, crate::Failure> {
    let mut page = Vec::new();
    match clap_mangen::Man::new(Cli::command()).render(&mut page) {
        Ok(()) => Ok(print(&page)),
        Err(e) => {
            eprintln!("error: cannot render the man page: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Write `text` to stdout; a closed pipe (`| head`) is no error.
fn print(text: &[u8]) -> ExitCode {
    match std::io::stdout().write_all(text) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: cannot write to stdout: {e}");
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
    }
}
