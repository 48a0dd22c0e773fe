//! The compressors storage systems run, each as the system runs it on one
//! chunk: a standalone frame or block, compressed on its own.

use std::io::Write;

/// A compressor at the level and in the format a storage system uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Codec {
    /// zstd level 1 (Btrfs/ZFS zstd-fast territory, object stores).
    Zstd1,
    /// zstd level 3, zstd's default.
    Zstd3,
    /// lz4 frame format, default (fast) level, as the lz4 tool writes.
    Lz4,
    /// lz4 HC (frame format, level 9).
    Lz4Hc,
    /// deflate level 1 through zlib, in zlib's framing: what ZFS
    /// (`compression=gzip-1`) and Btrfs (`compress=zlib:1`) store.
    Gzip1,
    /// deflate level 6 through zlib, the default of gzip and zlib, in
    /// zlib's framing (a gzip file's header and trailer add 12 bytes).
    Gzip6,
    /// snappy raw blocks (Ceph BlueStore, RocksDB).
    Snappy,
    /// LZO1X-1 (Btrfs `compress=lzo`).
    Lzo,
    /// LZJB (ZFS `compression=lzjb`).
    Lzjb,
    /// brotli quality 5.
    Brotli5,
    /// raw LZMA2 (no container), xz's default preset 6.
    Lzma2,
}

impl Codec {
    /// Every codec, in the order reports list them.
    pub const ALL: [Codec; 11] = [
        Codec::Zstd1,
        Codec::Zstd3,
        Codec::Lz4,
        Codec::Lz4Hc,
        Codec::Gzip1,
        Codec::Gzip6,
        Codec::Snappy,
        Codec::Lzo,
        Codec::Lzjb,
        Codec::Brotli5,
        Codec::Lzma2,
    ];

    /// The name reports use (`zstd-1`, `lzo1x-1`).
    pub fn name(self) -> &'static str {
        match self {
            Codec::Zstd1 => "zstd-1",
            Codec::Zstd3 => "zstd-3",
            Codec::Lz4 => "lz4",
            Codec::Lz4Hc => "lz4hc",
            Codec::Gzip1 => "gzip-1",
            Codec::Gzip6 => "gzip-6",
            Codec::Snappy => "snappy",
            Codec::Lzo => "lzo1x-1",
            Codec::Lzjb => "lzjb",
            Codec::Brotli5 => "brotli-5",
            Codec::Lzma2 => "lzma2",
        }
    }

    /// The codec with this name (as [`Codec::name`] spells it).
    pub fn from_name(name: &str) -> Option<Codec> {
        Codec::ALL.into_iter().find(|c| c.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The codec that stands for `dgen::Compressor` `c` in measurements:
    /// what a layout calibrated for `c` must hit. `None` for `Auto`.
    pub fn for_compressor(c: &str) -> Option<Codec> {
        match c {
            "zstd" => Some(Codec::Zstd1),
            "lz4" => Some(Codec::Lz4),
            "gzip" => Some(Codec::Gzip6),
            "snappy" => Some(Codec::Snappy),
            "lzo" => Some(Codec::Lzo),
            "lzjb" => Some(Codec::Lzjb),
            _ => None,
        }
    }

    /// Compressed size of `chunk`, compressed on its own.
    pub fn compressed_len(self, chunk: &[u8]) -> std::io::Result<usize> {
        let other = |e: String| std::io::Error::other(format!("{}: {e}", self.name()));
        match self {
            Codec::Zstd1 => zstd::bulk::compress(chunk, 1).map(|v| v.len()),
            Codec::Zstd3 => zstd::bulk::compress(chunk, 3).map(|v| v.len()),
            Codec::Lz4 | Codec::Lz4Hc => {
                let level = if self == Codec::Lz4Hc { 9 } else { 0 };
                let mut enc = lz4::EncoderBuilder::new().level(level).build(Vec::with_capacity(chunk.len() + 64))?;
                enc.write_all(chunk)?;
                let (out, res) = enc.finish();
                res.map(|_| out.len())
            }
            Codec::Gzip1 | Codec::Gzip6 => {
                let level = if self == Codec::Gzip1 { 1 } else { 6 };
                let mut enc = flate2::write::ZlibEncoder::new(
                    Vec::with_capacity(chunk.len() + 64),
                    flate2::Compression::new(level),
                );
                enc.write_all(chunk)?;
                enc.finish().map(|v| v.len())
            }
            Codec::Snappy => {
                snap::raw::Encoder::new().compress_vec(chunk).map(|v| v.len()).map_err(|e| other(e.to_string()))
            }
            Codec::Lzo => {
                let mut lzo = minilzo_rs::LZO::init().map_err(|e| other(e.to_string()))?;
                lzo.compress(chunk).map(|v| v.len()).map_err(|e| other(e.to_string()))
            }
            Codec::Lzjb => Ok(crate::lzjb::compress(chunk).len()),
            Codec::Brotli5 => {
                let mut enc = brotli::CompressorWriter::new(Vec::with_capacity(chunk.len() + 64), 4096, 5, 22);
                enc.write_all(chunk)?;
                enc.flush()?;
                Ok(enc.into_inner().len())
            }
            Codec::Lzma2 => {
                let opts = liblzma::stream::LzmaOptions::new_preset(6).map_err(|e| other(e.to_string()))?;
                let mut filters = liblzma::stream::Filters::new();
                filters.lzma2(&opts);
                let mut stream =
                    liblzma::stream::Stream::new_raw_encoder(&filters).map_err(|e| other(e.to_string()))?;
                let mut out = Vec::with_capacity(chunk.len() + chunk.len() / 16 + 1024);
                let mut input = chunk;
                loop {
                    let before = stream.total_in();
                    let status = stream
                        .process_vec(input, &mut out, liblzma::stream::Action::Finish)
                        .map_err(|e| other(e.to_string()))?;
                    input = &input[(stream.total_in() - before) as usize..];
                    if status == liblzma::stream::Status::StreamEnd {
                        return Ok(out.len());
                    }
                    if out.len() == out.capacity() {
                        out.reserve(out.capacity());
                    }
                }
            }
        }
    }
}
