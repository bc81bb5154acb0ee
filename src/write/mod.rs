//! Writing the slim image: one deterministic gzip layer, a config that keeps
//! the source's runtime settings, and a manifest.

mod config;
mod index;
mod layer;
mod pgzip;

pub use config::{descriptor_of, slim_config, ImageBlobs};
pub use index::{index_json, index_of, IndexBlob, OCI_INDEX};
pub use layer::{write_layer, WrittenLayer};
pub use pgzip::{ParallelGz, MAX_LEVEL};

#[cfg(test)]
mod tests;
