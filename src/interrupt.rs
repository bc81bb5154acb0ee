//! Ctrl-C and SIGTERM end a run cleanly instead of killing it mid-write.
//!
//! The first signal sets a flag that the long loops (layer reading, layer
//! writing) check; they return an error, the stack unwinds, and every
//! temporary file and directory is removed by its guard, so no partial target
//! or spool is left behind. A second signal exits at once.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::sync::OnceLock;

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// Install the handlers (once, from `main`).
pub fn install() -> io::Result<()> {
    let flag = FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Order matters: the shutdown check runs before the flag is set, so
        // only a signal arriving while the flag is already set exits at once.
        signal_hook::flag::register_conditional_shutdown(sig, 130, flag.clone())?;
        signal_hook::flag::register(sig, flag.clone())?;
    }
    Ok(())
}

/// An error once a signal has arrived.
pub fn check() -> io::Result<()> {
    match FLAG.get() {
        Some(f) if f.load(Ordering::Relaxed) => Err(io::Error::new(
            io::ErrorKind::Interrupted,
            "interrupted by a signal",
        )),
        _ => Ok(()),
    }
}

/// Whether the run was interrupted (for the exit status).
pub fn interrupted() -> bool {
    FLAG.get().is_some_and(|f| f.load(Ordering::Relaxed))
}
