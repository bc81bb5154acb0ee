//! Writing the slim image: one deterministic gzip layer, a config that keeps
//! the source's runtime settings, and a manifest (plus an index for several
//! platforms).

mod config;
mod index;
mod layer;
mod pgzip;

pub use config::{descriptor_of, slim_config, ImageBlobs};
pub use index::{index_json, index_of, IndexBlob};
pub use layer::{write_layer, WrittenLayer};
pub use pgzip::{ParallelGz, MAX_LEVEL};

use crate::files::PathError;
use crate::image_path::ImagePath;

/// Why the slim image could not be written to the spool.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Io(#[from] PathError),
    #[error("kept path {0} is not in the image")]
    NotInImage(ImagePath),
    #[error("the source config is not a JSON object with an architecture")]
    Config,
    #[error("serializing the {0}")]
    Json(&'static str, #[source] serde_json::Error),
    #[error("building the {0}")]
    Spec(&'static str, #[source] oci_spec::OciSpecError),
    #[error("interrupted by a signal")]
    Interrupted,
}

#[cfg(test)]
mod tests;
