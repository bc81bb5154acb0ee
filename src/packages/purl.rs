//! Package URLs (github.com/package-url/purl-spec): the identifier the SBOM
//! gives each package and scanners match advisories against, e.g.
//! `pkg:deb/debian/libc6@2.36-9%2Bdeb12u10?arch=amd64&distro=debian-12`.

use super::{Ecosystem, Package};
use crate::rootfs::RootFs;

/// The purl of `p`: type, namespace, name, version, then the qualifiers in
/// the spec's (sorted) order.
pub fn purl(p: &Package) -> String {
    let mut out = format!("pkg:{}/", p.ecosystem.name());
    if let Some(ns) = &p.namespace {
        for part in ns.split('/') {
            out += &encode(part);
            out.push('/');
        }
    }
    let name = match p.ecosystem {
        // PyPI names are case-insensitive and `_` means `-` (PEP 503).
        Ecosystem::Pypi => p.name.to_lowercase().replace('_', "-"),
        _ => p.name.clone(),
    };
    out += &encode(&name);
    out.push('@');
    out += &encode(&p.version);
    let mut qualifiers = Vec::new();
    if let Some(arch) = &p.arch {
        qualifiers.push(format!("arch={}", encode(arch)));
    }
    if let Some(distro) = &p.distro {
        qualifiers.push(format!("distro={}", encode(distro)));
    }
    if !qualifiers.is_empty() {
        out.push('?');
        out += &qualifiers.join("&");
    }
    out
}

/// Percent-encode everything but the unreserved characters of RFC 3986.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out += &format!("%{b:02X}");
        }
    }
    out
}

/// `debian-12` or `alpine-3.19.1`: os-release's `ID-VERSION_ID`, the
/// distro qualifier Trivy and Syft write.
pub fn distro(fs: &RootFs) -> Option<String> {
    let read = |path| super::read_record(fs, path, super::MAX_RECORD);
    let (_, text) = read("etc/os-release").or_else(|| read("usr/lib/os-release"))?;
    let text = String::from_utf8_lossy(&text);
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(|v| v.trim().trim_matches('"').to_string())
    };
    let id = value("ID")?;
    Some(match value("VERSION_ID") {
        Some(v) => format!("{id}-{v}"),
        None => id,
    })
}

/// The distribution's purl namespace: os-release's `ID` (`debian`, `ubuntu`).
pub fn namespace(distro: Option<&str>, default: &str) -> String {
    distro
        .and_then(|d| d.split('-').next())
        .filter(|id| !id.is_empty())
        .unwrap_or(default)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(ecosystem: Ecosystem, ns: Option<&str>, name: &str, version: &str) -> Package {
        Package {
            ecosystem,
            namespace: ns.map(str::to_string),
            name: name.into(),
            version: version.into(),
            arch: None,
            distro: None,
        }
    }

    #[test]
    fn purls_follow_the_spec_for_each_type() {
        let mut deb = package(Ecosystem::Deb, Some("debian"), "libc6", "2.36-9+deb12u10");
        deb.arch = Some("amd64".into());
        deb.distro = Some("debian-12".into());
        assert_eq!(
            purl(&deb),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u10?arch=amd64&distro=debian-12"
        );
        let epoch = package(Ecosystem::Deb, Some("debian"), "perl", "1:5.36");
        assert_eq!(purl(&epoch), "pkg:deb/debian/perl@1%3A5.36");
        assert_eq!(
            purl(&package(Ecosystem::Pypi, None, "Typing_Extensions", "4.1")),
            "pkg:pypi/typing-extensions@4.1"
        );
        assert_eq!(
            purl(&package(Ecosystem::Npm, Some("@types"), "node", "20.1.0")),
            "pkg:npm/%40types/node@20.1.0"
        );
        assert_eq!(
            purl(&package(
                Ecosystem::Maven,
                Some("org.apache.commons"),
                "commons-lang3",
                "3.14.0"
            )),
            "pkg:maven/org.apache.commons/commons-lang3@3.14.0"
        );
    }
}
