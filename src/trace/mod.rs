//! Tracing what an image's programs need: roots from the config, the
//! dynamic loader's search replayed inside the image, glibc's run-time
//! loads, and the runtime essentials.

pub mod elf;
mod image;
pub mod ldcache;
pub mod ldso;
pub mod roots;
mod runtime;

pub use image::{trace_image, TraceOptions};
