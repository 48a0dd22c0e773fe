//! Measurements as a storage system makes them (from `dgen-measure`), and a
//! helper that generates a whole sized stream.
#![allow(dead_code)]

#[allow(unused_imports)]
pub use dgen_measure::{cdc_dedup_ratio, compress_ratio, dedup_ratio, zero_blocks, Codec};

pub fn generate(cfg: dgen::Config) -> Vec<u8> {
    let size = cfg.size as usize;
    let mut g = dgen::Generator::new(cfg).unwrap();
    let mut buf = vec![0u8; size];
    assert_eq!(g.fill(&mut buf).unwrap(), size);
    buf
}
