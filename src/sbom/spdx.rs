//! SPDX 2.3 JSON (spdx.github.io/spdx-spec/v2.3): the image is a package
//! with `primaryPackagePurpose: CONTAINER` that the document DESCRIBES;
//! the image CONTAINS each package (with its purl as a PACKAGE-MANAGER
//! reference), each package CONTAINS its kept files, and the image
//! CONTAINS the files of no package. A file of two packages is one file
//! element with two relationships. Files carry SHA-256 and the SHA-1 SPDX
//! 2.3 requires.

use serde::Serialize;

use super::{uuid_from, Inventory};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Document<'a> {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo<'a>,
    packages: Vec<Package>,
    files: Vec<File>,
    relationships: Vec<Relationship>,
}

#[derive(Serialize)]
struct CreationInfo<'a> {
    created: &'a str,
    creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    version_info: String,
    download_location: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_package_purpose: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct File {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    file_name: String,
    checksums: Vec<Checksum>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: &'static str,
    checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

const IMAGE_ID: &str = "SPDXRef-Image";

fn relation(from: &str, kind: &'static str, to: &str) -> Relationship {
    Relationship {
        spdx_element_id: from.to_string(),
        relationship_type: kind,
        related_spdx_element: to.to_string(),
    }
}

pub fn document<'a>(inv: &Inventory, created: &'a str) -> Document<'a> {
    let subject = inv.subject;
    let file_id = |i: usize| format!("SPDXRef-File-{i}");
    let mut relationships = vec![relation("SPDXRef-DOCUMENT", "DESCRIBES", IMAGE_ID)];
    let mut packages = vec![Package {
        spdx_id: IMAGE_ID.into(),
        name: subject.name.to_string(),
        version_info: subject.digest.to_string(),
        download_location: "NOASSERTION",
        primary_package_purpose: Some("CONTAINER"),
        external_refs: Vec::new(),
    }];
    for (n, (pkg, files)) in inv.packages.iter().enumerate() {
        let id = format!("SPDXRef-Package-{}-{n}", pkg.ecosystem.name());
        relationships.push(relation(IMAGE_ID, "CONTAINS", &id));
        relationships.extend(
            files
                .iter()
                .map(|&i| relation(&id, "CONTAINS", &file_id(i))),
        );
        packages.push(Package {
            spdx_id: id,
            name: pkg.full_name(),
            version_info: pkg.version.clone(),
            download_location: "NOASSERTION",
            primary_package_purpose: None,
            external_refs: vec![ExternalRef {
                reference_category: "PACKAGE-MANAGER",
                reference_type: "purl",
                reference_locator: pkg.purl(),
            }],
        });
    }
    relationships.extend(
        inv.unowned
            .iter()
            .map(|&i| relation(IMAGE_ID, "CONTAINS", &file_id(i))),
    );
    let files = inv
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| File {
            spdx_id: file_id(i),
            // SPDX names files relative to the package root, with `./`.
            file_name: format!(".{}", f.path),
            checksums: vec![
                Checksum {
                    algorithm: "SHA1",
                    checksum_value: f.sha1.clone(),
                },
                Checksum {
                    algorithm: "SHA256",
                    checksum_value: f.sha256.clone(),
                },
            ],
        })
        .collect();
    let uuid = uuid_from(&format!("spdx {} {created}", subject.digest));
    Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name: subject.name.to_string(),
        document_namespace: format!("https://slimify.invalid/spdx/{uuid}"),
        creation_info: CreationInfo {
            created,
            creators: vec![format!("Tool: slimify-{}", env!("CARGO_PKG_VERSION"))],
        },
        packages,
        files,
        relationships,
    }
}
