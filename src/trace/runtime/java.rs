//! Java: the runtime image the `java` launcher belongs to (JAVA_HOME: the
//! directory above its `bin/`), without what only a JDK uses (jmods, headers,
//! sources, javac's symbol file, man pages, the other tools), with every
//! shared library in it traced, since the launcher loads libjvm.so and the
//! class library loads libjava, libzip, libnio, ... with dlopen. Symlinked
//! configuration (Debian's conf/ and cacerts under /etc) follows the links.
//! Then the app: `-jar` and its manifest's Class-Path, `-cp`/CLASSPATH
//! entries, `--module-path`, or the working directory (the default class path).

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io::Read;

use super::{Invocation, Runtime};
use crate::image_path::ImagePath;
use crate::keep::Reason;
use crate::trace::tracer::Tracer;

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

#[derive(Default)]
pub(super) struct Java {
    /// Runtime images kept already (by their home directory).
    homes: RefCell<BTreeSet<ImagePath>>,
    /// Class path entries read already.
    class_path: RefCell<BTreeSet<ImagePath>>,
}

impl Runtime for Java {
    fn runs(&self, base: &str) -> bool {
        base == "java"
    }

    fn trace(&self, inv: &Invocation, real: &ImagePath, t: &mut Tracer) {
        let home = match real.as_str().strip_suffix("/bin/java") {
            Some(h) if real.parent().file_name() == "bin" => ImagePath::root().join(h),
            _ => {
                t.warn(format!(
                    "{}: {real} is not inside a Java runtime's bin/",
                    inv.what
                ));
                return;
            }
        };
        self.runtime(t, &home, &Reason::runtime("Java runtime of", real));
        let args = JavaArgs::parse(inv.argv);
        let why = Reason::runtime("Java application run by", real);
        if let Some(jar) = &args.jar {
            self.class_path_entry(t, &t.absolute(jar), &why);
        } else {
            let cp = args
                .class_path
                .clone()
                .or_else(|| t.run().env_var("CLASSPATH").map(str::to_string))
                .unwrap_or_else(|| ".".into());
            for entry in cp.split(':').filter(|e| !e.is_empty()) {
                self.class_path_entry(t, &t.absolute(entry), &why);
            }
        }
        for mp in &args.module_path {
            for entry in mp.split(':').filter(|e| !e.is_empty()) {
                self.class_path_entry(t, &t.absolute(entry), &why);
            }
        }
    }

    /// JAVA_HOME in Env is evidence the image runs Java even when the command
    /// reaches `java` only through a script variable (`"$JAVA_HOME/bin/java"`).
    fn finish(&self, t: &mut Tracer) {
        let Some(home) = t.run().env_var("JAVA_HOME").map(str::to_string) else {
            return;
        };
        let Some(real_home) = t.real(&home) else {
            return;
        };
        let java = real_home.join("bin/java");
        if t.is_file(&java) {
            t.program(
                &java.to_string(),
                Reason::Root("java of JAVA_HOME in Env".into()),
            );
            self.runtime(t, &real_home, &Reason::runtime("Java runtime of", &java));
        }
    }
}

impl Java {
    /// Keep a Java runtime image minus the JDK-only parts, tracing its libraries.
    fn runtime(&self, t: &mut Tracer, home: &ImagePath, why: &Reason) {
        if !self.homes.borrow_mut().insert(home.clone()) {
            return;
        }
        if !t.is_file(&home.join("lib/modules")) && !t.is_file(&home.join("lib/rt.jar")) {
            t.warn(format!(
                "{home} has no lib/modules or lib/rt.jar: not a Java runtime image"
            ));
        }
        // The launcher dlopens libjvm.so by path; the class library's
        // libraries then find it loaded under its soname.
        let jvms: Vec<ImagePath> = t
            .fs()
            .descendants(home)
            .filter(|(p, _)| p.file_name() == "libjvm.so")
            .map(|(p, _)| p.clone())
            .collect();
        if !jvms.is_empty() {
            t.preloads("libjvm.so");
        }
        for jvm in jvms {
            t.program(
                &jvm.to_string(),
                Reason::runtime("the JVM, loaded by the launcher of", home),
            );
        }
        let java = home.join("bin/java");
        let skip = |p: &ImagePath| -> bool {
            let inner = p.relative_to(home).unwrap_or(p.as_str());
            JDK_ONLY.contains(&inner) || (inner.starts_with("bin/") && *p != java)
        };
        t.keep_tree_where(home, why, &skip);
        // A JDK 8 layout has the runtime in jre/ and the launcher's twin in bin/.
        let jre = home.join("jre");
        if t.is_dir(&jre) {
            let jre_bin = jre.join("bin");
            t.keep_tree_where(&jre, why, &|p| {
                p.starts_with(&jre_bin) && *p != jre_bin && p.file_name() != "java"
            });
        }
    }

    /// A class path entry: a directory of classes, `dir/*` (its jars), or a jar
    /// (and the jars its manifest's Class-Path names, relative to it).
    fn class_path_entry(&self, t: &mut Tracer, abs: &str, why: &Reason) {
        if let Some(dir) = abs.strip_suffix("/*") {
            let Some(d) = t.real(dir) else { return };
            for name in t.children(&d) {
                if name.ends_with(".jar") || name.ends_with(".JAR") {
                    self.class_path_entry(t, &d.join(&name).to_string(), why);
                }
            }
            return;
        }
        let Some(real) = t.real(abs) else {
            t.warn(format!("Java class path entry {abs} is not in the image"));
            return;
        };
        if !self.class_path.borrow_mut().insert(real.clone()) {
            return;
        }
        if t.is_dir(&real) {
            t.keep_app_dir(&real, why, &|_| false);
            return;
        }
        t.keep_links(abs);
        t.keep(&real, why.clone());
        let Some(node) = t.fs().get(real.as_str()) else {
            return;
        };
        let Some(reader) = t.fs().open(node) else {
            return;
        };
        let mut bytes = Vec::new();
        if reader.take(512 << 20).read_to_end(&mut bytes).is_err() {
            return;
        }
        let dir = real.parent();
        for entry in manifest_class_path(std::io::Cursor::new(bytes)) {
            let target = if entry.starts_with('/') {
                entry
            } else {
                format!("{dir}/{entry}")
            };
            self.class_path_entry(
                t,
                &target,
                &Reason::runtime("in the manifest Class-Path of", &real),
            );
        }
    }
}
