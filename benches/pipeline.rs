//! Micro-benchmarks of the hot steps, on synthetic data so they run anywhere:
//! output compression, layer indexing (inflate + verify + tar parse), and
//! flattening. `scripts/bench.sh` measures the whole tool on a real image.

use std::io::Write;
use std::path::Path;

use divan::counter::BytesCount;
use divan::Bencher;
use indicatif::ProgressBar;
use slimify::internals::{
    index_layer, Blob, BlobFile, Budget, Compression, Digest, LayerBlob, ParallelGz, RootFs,
};

fn main() {
    divan::main();
}

/// Text-like data that compresses about as well as a typical layer (~3x).
fn sample(len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(format!("{:x} lib/x86_64/{} ", x % 4096, x % 97).as_bytes());
    }
    v.truncate(len);
    v
}

/// A layer of `files` files of `size` bytes each, gzip-compressed, on disk.
fn layer(dir: &Path, files: usize, size: usize) -> LayerBlob {
    let data = sample(size);
    let mut b = tar::Builder::new(Vec::new());
    for i in 0..files {
        let mut h = tar::Header::new_gnu();
        h.set_size(size as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(
            &mut h,
            format!("usr/lib/pkg{}/file{i}.so", i % 200),
            &data[..],
        )
        .unwrap();
    }
    let tar = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    gz.write_all(&tar).unwrap();
    let stored = gz.finish().unwrap();
    let path = dir.join("layer.tar.gz");
    std::fs::write(&path, &stored).unwrap();
    LayerBlob {
        blob: Blob::Local(BlobFile::whole(&path).unwrap()),
        compression: Compression::Gzip,
        digest: Some(Digest::of(&stored)),
        diff_id: Digest::of(&tar),
    }
}

#[divan::bench(args = [1, 2, 6])]
fn parallel_gzip_32mib(bencher: Bencher, level: u32) {
    let data = sample(32 << 20);
    bencher.counter(BytesCount::new(data.len())).bench(|| {
        let mut gz = ParallelGz::new(std::io::sink(), level).unwrap();
        gz.write_all(&data).unwrap();
        gz.finish().unwrap();
    });
}

#[divan::bench(sample_count = 10)]
fn index_gzip_layer_32mib_in_8k_files(bencher: Bencher) {
    let dir = tempfile::tempdir().unwrap();
    let blob = layer(dir.path(), 8192, 4096);
    bencher
        .counter(BytesCount::new(8192usize * 4096))
        .bench(|| {
            index_layer(
                0,
                &blob,
                dir.path(),
                &ProgressBar::hidden(),
                &Budget::unlimited(),
            )
            .unwrap()
        });
}

#[divan::bench(sample_count = 10)]
fn flatten_50k_entries(bencher: Bencher) {
    let dir = tempfile::tempdir().unwrap();
    let blob = layer(dir.path(), 50_000, 16);
    bencher
        .with_inputs(|| {
            vec![index_layer(
                0,
                &blob,
                dir.path(),
                &ProgressBar::hidden(),
                &Budget::unlimited(),
            )
            .unwrap()]
        })
        .bench_values(|layers| RootFs::from_layers(layers).unwrap());
}
