//! The CI examples run as written: the slimming step of
//! examples/github-action/action.yml (its inputs filled in as GitHub fills
//! them) and the slimify command of examples/gitlab-ci.yml (its variables
//! set) are executed by bash against a real fixture in the Docker engine,
//! with the slimify under test first on PATH, as their install steps leave it.
//! So every flag they pass is one the binary takes, and what they promise
//! (the digest output, the report, the failing gate) holds.

mod util;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use serde_yaml_ng::Value;
use util::{fixture, kept_paths, repo, run_image, TempTag};

fn load(path: &str) -> (String, Value) {
    let text = std::fs::read_to_string(repo().join(path)).unwrap();
    let doc = serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    (text, doc)
}

/// PATH with the slimify under test first.
fn path_with_slimify() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_slimify")).parent().unwrap();
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap())
}

fn bash(script: &str, env: &BTreeMap<String, String>) -> Output {
    Command::new("bash")
        .args(["-c", script])
        .envs(env)
        .env("PATH", path_with_slimify())
        .output()
        .unwrap()
}

fn report(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The composite action's steps, and its step `id`.
fn step<'a>(action: &'a Value, id: &str) -> &'a Value {
    action["runs"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["id"].as_str() == Some(id) || s["name"].as_str() == Some(id))
        .unwrap_or_else(|| panic!("no step {id}"))
}

/// A step's `env:` with `${{ inputs.NAME }}` filled from `given`, else the
/// input's default, as GitHub does.
fn step_env(action: &Value, step: &Value, given: &[(&str, &str)]) -> BTreeMap<String, String> {
    let inputs = action["inputs"].as_mapping().unwrap();
    let mut env = BTreeMap::new();
    for (k, v) in step["env"].as_mapping().unwrap() {
        let v = v.as_str().unwrap();
        let name = v
            .strip_prefix("${{ inputs.")
            .and_then(|n| n.strip_suffix(" }}"))
            .unwrap_or_else(|| panic!("{v}: not an input"));
        let input = &inputs[name];
        assert!(
            !input.is_null(),
            "the step reads an undeclared input {name}"
        );
        let value = given
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
            .or_else(|| input["default"].as_str().map(str::to_string))
            .unwrap_or_else(|| panic!("input {name} is required and not given"));
        env.insert(k.as_str().unwrap().to_string(), value);
    }
    env
}

#[test]
fn the_github_action_slims_verifies_gates_and_outputs_the_digest() {
    let fat = fixture("c-app");
    let (text, action) = load("examples/github-action/action.yml");
    // Every declared input is used, and only declared ones are.
    for (name, _) in action["inputs"].as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        assert!(
            text.contains(&format!("inputs.{name} ")),
            "input {name} unused"
        );
    }
    let install = step(&action, "Install slimify");
    let script = install["run"].as_str().unwrap();
    assert!(
        script.contains("cargo +stable install --locked --git"),
        "{script}"
    );
    // With slimify on PATH already, the install step uses it.
    let out = bash(script, &step_env(&action, install, &[]));
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("slimify "));

    let work = tempfile::tempdir().unwrap();
    let slim = TempTag::new("gha");
    let report_path = work.path().join("report.json");
    let github_output = work.path().join("github-output");
    let run_slim = |extra: &[(&str, &str)]| {
        // The first value given for an input counts: `extra` first.
        let mut given = extra.to_vec();
        given.extend_from_slice(&[
            ("image", fat.as_str()),
            ("output", slim.0.as_str()),
            ("report", report_path.to_str().unwrap()),
            ("min-ratio", "3"),
            ("args", "--include /etc/debian_version --exclude /etc/group"),
        ]);
        let slim_step = step(&action, "slim");
        let mut env = step_env(&action, slim_step, &given);
        env.insert("GITHUB_OUTPUT".into(), github_output.display().to_string());
        std::fs::write(&github_output, "").unwrap();
        let out = bash(slim_step["run"].as_str().unwrap(), &env);
        let outputs = std::fs::read_to_string(&github_output).unwrap();
        (out, outputs)
    };

    let (out, outputs) = run_slim(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    // --verify ran, phases were logged, the digest is the step's output.
    assert!(err.contains("progress: verifying"), "{err}");
    let r = report(&report_path);
    let digest = r["manifest_digest"].as_str().unwrap();
    assert_eq!(outputs.trim(), format!("digest={digest}"));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["manifest_digest"], digest);
    assert_eq!(summary["verify"]["same"], true);
    let kept = kept_paths(&r);
    assert!(kept.contains(&"/etc/debian_version") && !kept.contains(&"/etc/group"));
    util::assert_same_lines(
        "action output",
        &run_image(&fat, &[]).0,
        &run_image(&slim.0, &[]).0,
    );

    // A gate that fails fails the step with 3, and the digest is still output.
    let (out, outputs) = run_slim(&[("min-ratio", "1000"), ("verify", "false")]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("gate failed: --min-ratio 1000"),
        "{out:?}"
    );
    assert!(outputs.starts_with("digest=sha256:"), "{outputs}");
}

#[test]
fn the_gitlab_job_slims_and_verifies_as_written() {
    let fat = fixture("c-app");
    let (_, ci) = load("examples/gitlab-ci.yml");
    let job = &ci["slimify"];
    let lines = |key: &str| -> Vec<String> {
        job[key]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap().to_string())
            .collect()
    };
    assert!(lines("before_script")
        .iter()
        .any(|l| l.contains("cargo install --locked")));
    let script = lines("script");
    let commands: Vec<&String> = script
        .iter()
        .filter(|l| l.starts_with("slimify "))
        .collect();
    assert_eq!(commands.len(), 1, "{script:?}");
    assert_eq!(
        job["artifacts"]["paths"][0].as_str(),
        Some("slimify-report.json")
    );

    let work = tempfile::tempdir().unwrap();
    let slim = TempTag::new("gitlab");
    let env: BTreeMap<String, String> = [
        ("FAT_IMAGE".to_string(), fat.clone()),
        ("SLIM_IMAGE".to_string(), slim.0.clone()),
    ]
    .into();
    let out = bash(
        &format!("cd {} && {}", work.path().display(), commands[0]),
        &env,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("progress: ") && err.contains("; verified: "),
        "{err}"
    );
    let r = report(&work.path().join("slimify-report.json"));
    assert_eq!(r["target"], format!("docker-daemon:{}", slim.0));
    util::assert_same_lines(
        "gitlab output",
        &run_image(&fat, &[]).0,
        &run_image(&slim.0, &[]).0,
    );
}
