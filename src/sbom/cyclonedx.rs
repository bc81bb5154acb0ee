//! CycloneDX 1.5 JSON (cyclonedx.org/docs/1.5/json): the image is the
//! `metadata.component` (a container named by its digest), each package a
//! `library` component with its purl, holding the files kept from it as
//! `file` components with their SHA-256; files of no package follow at the
//! top level. The image `dependsOn` every package.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{uuid_from, FileDigest, Inventory};
use crate::packages::Ecosystem;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bom<'a> {
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata<'a>,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    timestamp: &'a str,
    tools: Tools,
    component: Component,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Component>,
}

#[derive(Default, Serialize)]
struct Component {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashes: Vec<Hash>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    components: Vec<Component>,
}

#[derive(Serialize)]
struct Hash {
    alg: &'static str,
    content: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    depends_on: Vec<String>,
}

const IMAGE_REF: &str = "image";

/// bom-refs are unique in a BOM: the same package can be installed twice
/// (two node_modules trees), and a file can belong to two packages.
#[derive(Default)]
struct Refs(BTreeSet<String>);

impl Refs {
    fn unique(&mut self, base: String) -> String {
        let mut r = base.clone();
        let mut n = 1;
        while !self.0.insert(r.clone()) {
            n += 1;
            r = format!("{base}#{n}");
        }
        r
    }

    fn file(&mut self, f: &FileDigest) -> Component {
        Component {
            kind: "file",
            bom_ref: Some(self.unique(format!("file:{}", f.path))),
            name: f.path.to_string(),
            hashes: vec![Hash {
                alg: "SHA-256",
                content: f.sha256.clone(),
            }],
            ..Component::default()
        }
    }
}

pub fn document<'a>(inv: &Inventory, created: &'a str) -> Bom<'a> {
    let mut refs = Refs::default();
    let mut components = Vec::new();
    let mut package_refs = Vec::new();
    for (pkg, files) in &inv.packages {
        let purl = pkg.purl();
        let files = files.iter().map(|&i| refs.file(&inv.files[i])).collect();
        let bom_ref = refs.unique(purl.clone());
        package_refs.push(bom_ref.clone());
        components.push(Component {
            kind: "library",
            bom_ref: Some(bom_ref),
            // Maven's groupId is CycloneDX's group; the npm scope stays in the name.
            group: (pkg.ecosystem == Ecosystem::Maven)
                .then(|| pkg.namespace.clone())
                .flatten(),
            name: pkg.full_name(),
            version: Some(pkg.version.clone()),
            purl: Some(purl),
            components: files,
            ..Component::default()
        });
    }
    for &i in &inv.unowned {
        components.push(refs.file(&inv.files[i]));
    }
    let serial = uuid_from(&format!("cyclonedx {} {created}", inv.subject.digest));
    Bom {
        bom_format: "CycloneDX",
        spec_version: "1.5",
        serial_number: format!("urn:uuid:{serial}"),
        version: 1,
        metadata: Metadata {
            timestamp: created,
            tools: Tools {
                components: vec![Component {
                    kind: "application",
                    name: "slimify".into(),
                    version: Some(env!("CARGO_PKG_VERSION").into()),
                    ..Component::default()
                }],
            },
            component: Component {
                kind: "container",
                bom_ref: Some(IMAGE_REF.into()),
                name: inv.subject.name.to_string(),
                version: Some(inv.subject.digest.to_string()),
                ..Component::default()
            },
        },
        components,
        dependencies: vec![Dependency {
            reference: IMAGE_REF.into(),
            depends_on: package_refs,
        }],
    }
}
