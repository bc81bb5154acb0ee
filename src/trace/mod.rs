//! Tracing what an entrypoint needs (in progress: the ELF reader and the
//! image's ld.so.cache are here; the loader's search and the roots come next).

pub mod elf;
pub mod ldcache;
pub mod ldso;
