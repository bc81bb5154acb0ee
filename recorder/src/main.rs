//! `slimify-recorder`: the helper slimify bind-mounts (read-only, static, no
//! dependencies in the image) into a probed container.
//!
//! Modes:
//! * `record --out FILE [--seccomp auto|on|off] -- PROGRAM [ARGS...]`: run
//!   PROGRAM as the container's entrypoint under ptrace and write every path
//!   the process tree touches to FILE (see `output.rs` for the format,
//!   `trace.rs` for the tracing, `seccomp.rs` for the mode);
//! * `http-get --port N [--timeout SECS] PATH`: a tiny HTTP/1.0 client for a
//!   container whose network is `none` (see `http.rs`);
//! * `pids`: the PIDs of the container's PID namespace (see `pids.rs`).
//!
//! The binary has no Rust `main`: `#![no_main]` keeps the Rust runtime from
//! setting SIGPIPE to SIG_IGN at start-up, a disposition that execve would
//! pass on to the traced program (and so change what it sees). We read argv
//! from the C `main` arguments instead.
#![cfg_attr(not(test), no_main)]
// Unit-test builds have no C `main`, so nothing is reachable from one.
#![cfg_attr(test, allow(dead_code))]

mod http;
mod mem;
mod output;
mod paths;
mod pids;
mod procfs;
mod seccomp;
mod signals;
mod sys;
mod syscalls;
mod trace;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

/// Exit code for a command line we cannot understand.
pub const EXIT_USAGE: i32 = 2;
/// Exit code when the recorder itself cannot set up (cannot create the output
/// file, fork, or trace): distinct from anything a shell would return for the
/// program, as `docker run` does with 125.
pub const EXIT_SETUP: i32 = 125;

const USAGE: &str = "\
usage: slimify-recorder record --out FILE [--seccomp auto|on|off] [--] PROGRAM [ARGS...]
       slimify-recorder http-get --port N [--timeout SECS] PATH
       slimify-recorder pids
";

/// Prints `slimify-recorder: MSG` on stderr (one line).
pub fn error(msg: &str) {
    eprintln!("slimify-recorder: {msg}");
}

fn usage_error(msg: Option<&str>) -> i32 {
    if let Some(msg) = msg {
        error(msg);
    }
    eprint!("{USAGE}");
    EXIT_USAGE
}

/// The C entry point (see the module doc for why not a Rust `main`).
#[cfg(not(test))]
#[no_mangle]
extern "C" fn main(argc: std::ffi::c_int, argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    let mut args: Vec<OsString> = Vec::new();
    if !argv.is_null() {
        for i in 1..argc.max(0) as usize {
            // SAFETY: the C runtime hands us argc valid NUL-terminated strings.
            let p = unsafe { *argv.add(i) };
            if p.is_null() {
                break;
            }
            let bytes = unsafe { std::ffi::CStr::from_ptr(p) }.to_bytes().to_vec();
            args.push(OsString::from_vec(bytes));
        }
    }
    run(args)
}

fn run(args: Vec<OsString>) -> i32 {
    let Some(mode) = args.first().and_then(|a| a.to_str()) else {
        return usage_error(None);
    };
    let rest = &args[1..];
    match mode {
        "record" => match parse_record(rest) {
            Ok((out, program, mode)) => trace::record(&out, &program, mode),
            Err(msg) => usage_error(Some(&msg)),
        },
        "http-get" => match parse_http_get(rest) {
            Ok(req) => http::get(&req),
            Err(msg) => usage_error(Some(&msg)),
        },
        "pids" => {
            if !rest.is_empty() {
                return usage_error(Some("pids takes no arguments"));
            }
            pids::print()
        }
        "-h" | "--help" | "help" => usage_error(None),
        other => usage_error(Some(&format!("unknown mode {other:?}"))),
    }
}

/// `record` options: `--out FILE` (or `--out=FILE`), then PROGRAM and its
/// arguments, optionally after `--`. Everything after the first non-option
/// word is the program's, untouched.
fn parse_record(args: &[OsString]) -> Result<(OsString, Vec<OsString>, seccomp::Mode), String> {
    let mut out: Option<OsString> = None;
    let mut mode = seccomp::Mode::Auto;
    let parse_mode = |v: &OsString| {
        v.to_str()
            .and_then(seccomp::Mode::parse)
            .ok_or_else(|| format!("bad --seccomp {v:?} (auto, on or off)"))
    };
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_encoded_bytes();
        if a == b"--" {
            i += 1;
            break;
        } else if a == b"--out" {
            let v = args.get(i + 1).ok_or("--out needs a FILE")?;
            out = Some(v.clone());
            i += 2;
        } else if let Some(v) = a.strip_prefix(b"--out=") {
            out = Some(OsString::from_vec(v.to_vec()));
            i += 1;
        } else if a == b"--seccomp" {
            mode = parse_mode(args.get(i + 1).ok_or("--seccomp needs a MODE")?)?;
            i += 2;
        } else if let Some(v) = a.strip_prefix(b"--seccomp=") {
            mode = parse_mode(&OsString::from_vec(v.to_vec()))?;
            i += 1;
        } else if a.starts_with(b"-") {
            return Err(format!("unknown option {:?}", args[i]));
        } else {
            break;
        }
    }
    let out = out.ok_or("record needs --out FILE")?;
    if out.is_empty() {
        return Err("--out needs a FILE".into());
    }
    let program = args[i..].to_vec();
    if program.is_empty() {
        return Err("record needs a PROGRAM".into());
    }
    if program.iter().any(|a| a.as_encoded_bytes().contains(&0)) {
        return Err("an argument contains a NUL byte".into());
    }
    Ok((out, program, mode))
}

/// `http-get` options: `--port N` (1-65535), `--timeout SECS` (positive,
/// fractions allowed; default 10), then exactly one PATH.
fn parse_http_get(args: &[OsString]) -> Result<http::Request, String> {
    let mut port: Option<u16> = None;
    let mut timeout = 10.0_f64;
    let mut path: Option<Vec<u8>> = None;
    let mut i = 0;
    let value = |i: usize, name: &str| -> Result<String, String> {
        args.get(i + 1)
            .and_then(|v| v.to_str())
            .map(str::to_owned)
            .ok_or_else(|| format!("{name} needs a value"))
    };
    while i < args.len() {
        let a = args[i].as_encoded_bytes();
        let (name, inline): (&[u8], Option<String>) = match a.iter().position(|&b| b == b'=') {
            Some(eq) if a.starts_with(b"--") => (
                &a[..eq],
                Some(String::from_utf8_lossy(&a[eq + 1..]).into_owned()),
            ),
            _ => (a, None),
        };
        match name {
            b"--port" | b"--timeout" => {
                let v = match inline {
                    Some(v) => {
                        i += 1;
                        v
                    }
                    None => {
                        let v = value(i, &String::from_utf8_lossy(name))?;
                        i += 2;
                        v
                    }
                };
                if name == b"--port" {
                    port = Some(
                        v.parse::<u16>()
                            .ok()
                            .filter(|&p| p != 0)
                            .ok_or_else(|| format!("bad --port {v:?}"))?,
                    );
                } else {
                    timeout = v
                        .parse::<f64>()
                        .ok()
                        .filter(|t| t.is_finite() && *t > 0.0 && *t < 1e9)
                        .ok_or_else(|| format!("bad --timeout {v:?}"))?;
                }
            }
            b"--" => {
                i += 1;
                if let Some(p) = args.get(i) {
                    if path.is_some() {
                        return Err("http-get takes one PATH".into());
                    }
                    path = Some(p.as_encoded_bytes().to_vec());
                    i += 1;
                }
                if i < args.len() {
                    return Err("http-get takes one PATH".into());
                }
            }
            _ if a.starts_with(b"-") && a.len() > 1 => {
                return Err(format!("unknown option {:?}", args[i]));
            }
            _ => {
                if path.is_some() {
                    return Err("http-get takes one PATH".into());
                }
                path = Some(a.to_vec());
                i += 1;
            }
        }
    }
    Ok(http::Request {
        port: port.ok_or("http-get needs --port N")?,
        timeout: std::time::Duration::from_secs_f64(timeout),
        path: path.ok_or("http-get needs a PATH")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn record_args() {
        let (out, prog, mode) =
            parse_record(&os(&["--out", "/tmp/x", "--", "sh", "-c", "--out"])).unwrap();
        assert_eq!(out, "/tmp/x");
        assert_eq!(prog, os(&["sh", "-c", "--out"]));
        assert_eq!(mode, seccomp::Mode::Auto);
        let (out, prog, mode) =
            parse_record(&os(&["--seccomp=off", "--out=/o", "prog", "--", "-x"])).unwrap();
        assert_eq!(out, "/o");
        assert_eq!(prog, os(&["prog", "--", "-x"]));
        assert_eq!(mode, seccomp::Mode::Off);
        let (_, _, mode) = parse_record(&os(&["--out", "/o", "--seccomp", "on", "p"])).unwrap();
        assert_eq!(mode, seccomp::Mode::On);
        assert!(parse_record(&os(&["--out", "/o", "--seccomp", "yes", "p"])).is_err());
        assert!(parse_record(&os(&["--out", "/o"])).is_err());
        assert!(parse_record(&os(&["--out"])).is_err());
        assert!(parse_record(&os(&["prog"])).is_err());
        assert!(parse_record(&os(&["--bogus", "x", "--", "p"])).is_err());
    }

    #[test]
    fn http_args() {
        let r = parse_http_get(&os(&["--port", "8080", "/health"])).unwrap();
        assert_eq!((r.port, r.path.as_slice()), (8080, &b"/health"[..]));
        assert_eq!(r.timeout, std::time::Duration::from_secs(10));
        let r = parse_http_get(&os(&["/", "--timeout=0.5", "--port=1"])).unwrap();
        assert_eq!(r.timeout, std::time::Duration::from_millis(500));
        assert!(parse_http_get(&os(&["--port", "0", "/"])).is_err());
        assert!(parse_http_get(&os(&["--port", "70000", "/"])).is_err());
        assert!(parse_http_get(&os(&["--port", "1"])).is_err());
        assert!(parse_http_get(&os(&["--port", "1", "/a", "/b"])).is_err());
        assert!(parse_http_get(&os(&["--port", "1", "--timeout", "-1", "/"])).is_err());
        assert!(parse_http_get(&os(&["--port", "1", "--timeout", "nan", "/"])).is_err());
    }
}
