//! Java: the runtime image the `java` launcher belongs to (JAVA_HOME: the
//! directory above its `bin/`), without what only a JDK uses (jmods, headers,
//! sources, javac's symbol file, man pages, the other tools), with every
//! shared library in it traced, since the launcher loads libjvm.so and the
//! class library loads libjava, libzip, libnio, ... with dlopen. Symlinked
//! configuration (Debian's conf/ and cacerts under /etc) follows the links.
//! Then the app: `-jar` and its manifest's Class-Path, `-cp`/CLASSPATH
//! entries, `--module-path`, or the working directory (the default class path).

use std::io::Read;

use super::{join, parent, Invocation, Tracer};
use crate::keep::Reason;
use crate::trace::image::rel;

/// What a JDK has that running programs never use.
const JDK_ONLY: &[&str] = &[
    "jmods",
    "include",
    "demo",
    "sample",
    "man",
    "lib/src.zip",
    "lib/ct.sym",
];

/// The launcher's options that take a value as the next word.
const WITH_VALUE: &[&str] = &[
    "-cp",
    "-classpath",
    "--class-path",
    "-p",
    "--module-path",
    "--upgrade-module-path",
    "--add-modules",
    "--add-opens",
    "--add-exports",
    "--add-reads",
    "--patch-module",
    "--limit-modules",
    "--enable-native-access",
];

/// The class path, jar and module path of a `java` command line.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct JavaArgs {
    pub jar: Option<String>,
    pub class_path: Option<String>,
    pub module_path: Vec<String>,
    pub main_class: Option<String>,
}

impl JavaArgs {
    pub fn parse(argv: &[String]) -> Self {
        let mut out = JavaArgs::default();
        let mut args = argv.iter().skip(1);
        while let Some(a) = args.next() {
            let (flag, inline) = match a.split_once('=') {
                Some((f, v)) if a.starts_with("--") => (f, Some(v.to_string())),
                _ => (a.as_str(), None),
            };
            if flag == "-jar" {
                out.jar = args.next().cloned();
                break;
            }
            if WITH_VALUE.contains(&flag) {
                let v = inline.or_else(|| args.next().cloned()).unwrap_or_default();
                match flag {
                    "-cp" | "-classpath" | "--class-path" => out.class_path = Some(v),
                    "-p" | "--module-path" | "--upgrade-module-path" => out.module_path.push(v),
                    _ => {}
                }
                continue;
            }
            if flag == "-m" || flag == "--module" {
                out.main_class = inline.or_else(|| args.next().cloned());
                break;
            }
            if a.starts_with('-') || a.starts_with('@') {
                continue;
            }
            out.main_class = Some(a.clone());
            break;
        }
        out
    }
}

/// The `Class-Path` attribute of a jar's META-INF/MANIFEST.MF (72-byte lines,
/// continued by a leading space).
fn manifest_class_path(jar: impl std::io::Read + std::io::Seek) -> Vec<String> {
    let Ok(mut zip) = zip::ZipArchive::new(jar) else {
        return Vec::new();
    };
    let mut text = String::new();
    match zip.by_name("META-INF/MANIFEST.MF") {
        Ok(mut f) if f.size() < 1 << 20 => {
            let _ = f.read_to_string(&mut text);
        }
        _ => return Vec::new(),
    }
    let unfolded = text.replace("\r\n", "\n").replace("\n ", "");
    unfolded
        .lines()
        .find_map(|l| l.strip_prefix("Class-Path:"))
        .map(|v| v.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

impl Tracer<'_> {
    pub(super) fn java(&mut self, inv: &Invocation, real: &str) {
        let Some(home) = real.strip_suffix("/bin/java").map(str::to_string) else {
            self.warnings.push(format!(
                "{}: /{real} is not inside a Java runtime's bin/",
                inv.what
            ));
            return;
        };
        self.java_runtime(&home, &Reason::runtime("Java runtime of", real));
        let args = JavaArgs::parse(inv.argv);
        let why = Reason::runtime("Java application run by", real);
        if let Some(jar) = &args.jar {
            self.java_class_path_entry(&self.absolute(jar), &why);
        } else {
            let cp = args
                .class_path
                .clone()
                .or_else(|| self.run.env_var("CLASSPATH").map(str::to_string))
                .unwrap_or_else(|| ".".into());
            for entry in cp.split(':').filter(|e| !e.is_empty()) {
                self.java_class_path_entry(&self.absolute(entry), &why);
            }
        }
        for mp in &args.module_path {
            for entry in mp.split(':').filter(|e| !e.is_empty()) {
                self.java_class_path_entry(&self.absolute(entry), &why);
            }
        }
    }

    /// JAVA_HOME in Env is evidence the image runs Java even when the command
    /// reaches `java` only through a script variable (`"$JAVA_HOME/bin/java"`).
    pub(in crate::trace) fn java_home_from_env(&mut self) {
        let Some(home) = self
            .run
            .env_var("JAVA_HOME")
            .map(|h| rel(h).trim_end_matches('/').to_string())
        else {
            return;
        };
        let Some(real_home) = self.real(&format!("/{home}")) else {
            return;
        };
        if self.is_file(&format!("{real_home}/bin/java")) {
            self.program(
                &format!("/{real_home}/bin/java"),
                Reason::Root("java of JAVA_HOME in Env".into()),
            );
            self.java_runtime(
                &real_home,
                &Reason::runtime("Java runtime of", format!("{real_home}/bin/java")),
            );
        }
    }

    /// Keep a Java runtime image minus the JDK-only parts, tracing its libraries.
    fn java_runtime(&mut self, home: &str, why: &Reason) {
        if !self.done.insert(format!("java runtime {home}")) {
            return;
        }
        if !self.is_file(&format!("{home}/lib/modules"))
            && !self.is_file(&format!("{home}/lib/rt.jar"))
        {
            self.warnings.push(format!(
                "/{home} has no lib/modules or lib/rt.jar: not a Java runtime image"
            ));
        }
        // The launcher dlopens libjvm.so by path; the class library's
        // libraries then find it loaded under its soname.
        let jvms: Vec<String> = self
            .fs
            .descendants(home)
            .filter(|(p, _)| p.ends_with("/libjvm.so"))
            .map(|(p, _)| p.clone())
            .collect();
        if !jvms.is_empty() {
            self.preloaded.insert("libjvm.so".into());
        }
        for jvm in jvms {
            self.program(
                &jvm,
                Reason::runtime("the JVM, loaded by the launcher of", home),
            );
        }
        let java = format!("{home}/bin/java");
        let skip = |p: &str| -> bool {
            let inner = p.strip_prefix(home).unwrap_or(p).trim_start_matches('/');
            JDK_ONLY.contains(&inner) || (inner.starts_with("bin/") && p != java)
        };
        self.keep_tree_where(home, why, &skip);
        // A JDK 8 layout has the runtime in jre/ and the launcher's twin in bin/.
        let jre = format!("{home}/jre");
        if self.is_dir(&jre) {
            self.keep_tree_where(&jre, why, &|p| {
                p.starts_with(&format!("{jre}/bin/")) && !p.ends_with("/java")
            });
        }
    }

    /// A class path entry: a directory of classes, `dir/*` (its jars), or a jar
    /// (and the jars its manifest's Class-Path names, relative to it).
    fn java_class_path_entry(&mut self, abs: &str, why: &Reason) {
        if let Some(dir) = abs.strip_suffix("/*") {
            let Some(d) = self.real(dir) else { return };
            for name in self.children(&d) {
                if name.ends_with(".jar") || name.ends_with(".JAR") {
                    self.java_class_path_entry(&format!("/{d}/{name}"), why);
                }
            }
            return;
        }
        let Some(real) = self.real(abs) else {
            self.warnings
                .push(format!("Java class path entry {abs} is not in the image"));
            return;
        };
        if !self.done.insert(format!("java class path {real}")) {
            return;
        }
        if self.is_dir(&real) {
            self.keep_app_dir(&real, why, &|_| false);
            return;
        }
        for l in self.loader.links_to(rel(abs)) {
            self.keep.insert(&l, Reason::LinkTo(real.clone()));
        }
        self.keep.insert(&real, why.clone());
        let Some(node) = self.fs.get(&real) else {
            return;
        };
        let Some(reader) = self.fs.open(node) else {
            return;
        };
        let mut bytes = Vec::new();
        if reader.take(512 << 20).read_to_end(&mut bytes).is_err() {
            return;
        }
        let dir = parent(&real).to_string();
        for entry in manifest_class_path(std::io::Cursor::new(bytes)) {
            let target = if entry.starts_with('/') {
                entry
            } else {
                format!("/{}", join(&dir, &entry))
            };
            self.java_class_path_entry(
                &target,
                &Reason::runtime("in the manifest Class-Path of", real.as_str()),
            );
        }
    }
}
