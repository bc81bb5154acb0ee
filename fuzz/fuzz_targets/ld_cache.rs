//! The ld.so.cache parser and its lookups.
#![no_main]

use slimify::internals::{abi_flags, LdCache};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(cache) = LdCache::parse(data) else {
        return;
    };
    for (is_64, machine) in [(true, 62), (true, 183), (false, 3)] {
        if let Some(abi) = abi_flags(is_64, machine) {
            for soname in ["libc.so.6", "libz.so.1", ""] {
                let _ = cache.lookup(soname, abi).count();
            }
        }
    }
});
