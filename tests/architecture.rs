//! The data flow is the architecture (see the map in src/lib.rs): each box
//! of the pipeline may use the ground floor and the boxes above it, never a
//! box below it, and no two boxes use each other. This test reads every
//! `crate::BOX` path in the library's sources (unit-test code left out) and
//! checks both rules, so a helper that lands in the wrong box fails CI.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each box and its level: a box may use boxes of a lower level; the ground
/// floor (level 0) only other ground-floor modules, without cycles.
const LEVELS: &[(&str, u32)] = &[
    ("digest", 0),
    ("files", 0),
    ("blob", 0),
    ("units", 0),
    ("limits", 0),
    ("platform", 0),
    ("image_path", 0),
    ("interrupt", 0),
    ("ui", 0),
    ("reference", 1),
    ("docker", 1),
    ("registry", 1),
    ("source", 2),
    ("probe", 2),
    ("layer", 3),
    ("rootfs", 4),
    ("keep", 5),
    ("trace", 6),
    ("packages", 7),
    ("write", 8),
    ("sink", 9),
    ("report", 10),
    ("sbom", 10),
    ("verify", 10),
    ("pipeline", 12),
    ("explain", 13),
    ("batch", 13),
    ("error", 11),
    ("lib", 14),
];

/// The box a source file belongs to: its top-level file or folder under src/.
fn box_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// `crate::NAME` paths used in `code`, outside `#[cfg(test)]` modules.
fn used_boxes(code: &str) -> BTreeSet<String> {
    let code = code.split("#[cfg(test)]").next().unwrap_or("");
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_box_uses_one_below_it_and_there_are_no_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let levels: BTreeMap<&str, u32> = LEVELS.iter().copied().collect();
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut wrong = Vec::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap();
        let from = box_of(rel);
        // The binary (main.rs, cli/) and test helpers are outside the library's flow.
        if from == "main" || from == "cli" || from == "testutil" {
            continue;
        }
        if rel.file_name().unwrap() == "tests.rs" {
            continue;
        }
        let Some(&level) = levels.get(from.as_str()) else {
            wrong.push(format!(
                "src/{}: box {from} has no level in this test",
                rel.display()
            ));
            continue;
        };
        let code = std::fs::read_to_string(&f).unwrap();
        for to in used_boxes(&code) {
            if to == from || to == "testutil" {
                continue;
            }
            let Some(&to_level) = levels.get(to.as_str()) else {
                wrong.push(format!(
                    "src/{}: uses crate::{to}, which has no level",
                    rel.display()
                ));
                continue;
            };
            let allowed = to_level < level || (level == 0 && to_level == 0);
            if !allowed {
                wrong.push(format!(
                    "src/{} ({from}, level {level}) uses crate::{to} (level {to_level})",
                    rel.display()
                ));
            }
            edges.entry(from.clone()).or_default().insert(to);
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // No cycles, the ground floor included.
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(n) {
            return;
        }
        assert!(
            !stack.iter().any(|s| s == n),
            "import cycle: {} -> {n}",
            stack.join(" -> ")
        );
        stack.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            visit(m, edges, stack, done);
        }
        stack.pop();
        done.insert(n.to_string());
    }
    let mut done = BTreeSet::new();
    for n in edges.keys() {
        visit(n, &edges, &mut Vec::new(), &mut done);
    }
}

#[test]
fn the_checker_sees_uses_and_skips_test_code() {
    let code = "use crate::rootfs::RootFs;\nfn f() { crate::interrupt::check(); }\n#[cfg(test)]\nmod tests { use crate::error::one_line; }\n";
    let used: Vec<String> = used_boxes(code).into_iter().collect();
    assert_eq!(used, ["interrupt", "rootfs"]);
}
