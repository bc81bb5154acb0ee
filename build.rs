//! Stamps `--version` with the commit it was built from ([`version_line`]),
//! and builds the file-access recorder (`recorder/`, the helper `--probe` runs as
//! a probed container's entrypoint) as a static binary and hands its path to
//! the library, which embeds it: the recorder is bind-mounted into images
//! that may hold no libc at all (`FROM scratch`), and a user who installs
//! slimify gets one file.
//!
//! A nested `cargo build` of its own target directory, with `+crt-static`
//! (glibc's static libs, from libc6-dev). If that build fails, slimify is
//! still built, without the recorder: `--probe` and `verify` then say why.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    version_line();
    println!("cargo:rerun-if-changed=recorder/src");
    println!("cargo:rerun-if-changed=recorder/Cargo.toml");
    println!("cargo:rerun-if-changed=build.rs");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = out.join("recorder-target");
    let mut build = Command::new(cargo);
    build
        .args([
            "build",
            "--release",
            "--quiet",
            "--manifest-path",
            "recorder/Cargo.toml",
        ])
        .args(["--target", &target])
        // Small: it is copied into every probed container.
        .args([
            "--config",
            "profile.release.debug=0",
            "--config",
            "profile.release.strip=true",
        ])
        .arg("--target-dir")
        .arg(&target_dir)
        // The outer build's flags (a fuzzer's sanitizers, a coverage run's
        // instrumentation) are not the recorder's: it runs inside containers.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        // Under `cargo clippy` the recorder would be linted (with the outer
        // run's -D warnings) instead of simply built.
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CLIPPY_ARGS")
        .env("RUSTFLAGS", "-C target-feature=+crt-static");
    let binary = target_dir
        .join(&target)
        .join("release")
        .join("slimify-recorder");
    let built = match build.status() {
        Ok(s) if s.success() && binary.is_file() => Ok(binary),
        Ok(s) => Err(format!("`cargo build` of recorder/ failed ({s})")),
        Err(e) => Err(format!("cannot run cargo for recorder/: {e}")),
    };
    match built {
        Ok(path) => {
            println!("cargo:rustc-env=SLIMIFY_RECORDER={}", path.display());
            println!("cargo:rustc-cfg=slimify_recorder");
        }
        Err(why) => {
            println!("cargo:warning=slimify is built without its recorder: {why}");
            println!("cargo:rustc-env=SLIMIFY_RECORDER_MISSING={why}");
        }
    }
    println!("cargo:rustc-check-cfg=cfg(slimify_recorder)");
}

/// `0.1.0 (abc1234 2026-12-01)`: what `--version` prints, with the commit and
/// its date when built from a git checkout (`cargo install --path .`), the
/// bare version otherwise (a source tarball).
fn version_line() {
    let version = env::var("CARGO_PKG_VERSION").expect("cargo sets CARGO_PKG_VERSION");
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let commit = git(&["rev-parse", "--short=7", "HEAD"]);
    let date = git(&["log", "-1", "--format=%cs"]);
    let line = match (commit, date) {
        (Some(c), Some(d)) => format!("{version} ({c} {d})"),
        _ => version,
    };
    println!("cargo:rustc-env=SLIMIFY_VERSION={line}");
    // A new commit or a checkout changes the line.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
        println!("cargo:rerun-if-changed={dir}/packed-refs");
        if let Some(head) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={dir}/{head}");
        }
    }
}
