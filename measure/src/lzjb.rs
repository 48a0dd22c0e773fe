//! LZJB, the compressor of ZFS (`compression=lzjb`) and the reference behind
//! vdbench's `compratio=`, written from its format: items are grouped by
//! eight behind a copy-map byte whose bits say which items are matches; a
//! literal is one byte, a match two (6 bits of length - 3, 10 bits of offset),
//! so matches are 3 to 66 bytes long and at most 1023 bytes back. Candidates
//! come from a 1024-slot table of 3-byte hashes that every position not
//! inside a match updates, as ZFS does, so ratios measured here are the ones a
//! ZFS pool reports before its 12.5% rule (ZFS stores a block raw unless
//! compression saves at least an eighth of it).

const MATCH_BITS: u32 = 6;
const MATCH_MIN: usize = 3;
/// Longest match: 2^6 - 1 + 3.
pub const MATCH_MAX: usize = (1 << MATCH_BITS) + MATCH_MIN - 1;
/// Largest offset a match can hold.
pub const OFFSET_MAX: usize = (1 << (16 - MATCH_BITS)) - 1;
const TABLE: usize = 1024;

/// Compresses `src` into LZJB's format. The output is not capped: data that
/// does not compress comes out an eighth larger (one copy-map bit per byte).
pub fn compress(src: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len() + src.len() / 8 + 1);
    let mut table = [0u16; TABLE];
    // Index in `out` of the current copy-map byte, and the bit for the next item.
    let mut map = 0usize;
    let mut bit = 0u8;
    let mut pos = 0usize;
    while pos < src.len() {
        if bit == 0 {
            map = out.len();
            out.push(0);
            bit = 1;
        }
        // The last MATCH_MAX bytes are literals: a match never reads past
        // the end.
        let mut matched = 0;
        if pos + MATCH_MAX <= src.len() {
            let mut hash = (usize::from(src[pos]) << 16) + (usize::from(src[pos + 1]) << 8) + usize::from(src[pos + 2]);
            hash += hash >> 9;
            hash += hash >> 5;
            let slot = &mut table[hash & (TABLE - 1)];
            // Positions are kept as their low 16 bits, as ZFS keeps the low
            // bits of a pointer; only the low 10 bits of the difference count.
            let offset = usize::from((pos as u16).wrapping_sub(*slot)) & OFFSET_MAX;
            *slot = pos as u16;
            if offset != 0 && offset <= pos && src[pos..pos + MATCH_MIN] == src[pos - offset..pos - offset + MATCH_MIN]
            {
                let from = pos - offset;
                matched = MATCH_MIN;
                while matched < MATCH_MAX && src[pos + matched] == src[from + matched] {
                    matched += 1;
                }
                out[map] |= bit;
                out.push((((matched - MATCH_MIN) as u8) << (8 - MATCH_BITS)) | (offset >> 8) as u8);
                out.push(offset as u8);
            }
        }
        if matched == 0 {
            out.push(src[pos]);
            pos += 1;
        } else {
            pos += matched;
        }
        bit = bit.wrapping_shl(1);
    }
    out
}

/// Decompresses LZJB data that holds `len` bytes; `None` when `data` is not
/// such a stream (a match reaching before the start, or data that ends early).
pub fn decompress(data: &[u8], len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(len);
    let mut i = 0usize;
    let mut map = 0u8;
    let mut bit = 0u8;
    while out.len() < len {
        if bit == 0 {
            map = *data.get(i)?;
            i += 1;
            bit = 1;
        }
        if map & bit != 0 {
            let (a, b) = (*data.get(i)?, *data.get(i + 1)?);
            i += 2;
            let matched = usize::from(a >> (8 - MATCH_BITS)) + MATCH_MIN;
            let offset = (usize::from(a & ((1 << (8 - MATCH_BITS)) - 1)) << 8) | usize::from(b);
            if offset == 0 || offset > out.len() {
                return None;
            }
            let from = out.len() - offset;
            // Byte by byte: a match may overlap the bytes it produces.
            for k in 0..matched.min(len - out.len()) {
                out.push(out[from + k]);
            }
        } else {
            out.push(*data.get(i)?);
            i += 1;
        }
        bit = bit.wrapping_shl(1);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::noise;

    #[test]
    fn round_trips_and_finds_what_the_format_can_hold() {
        let random = noise(100_000, 7);
        let c = compress(&random);
        // Incompressible bytes cost nine bits each (a chance 3-byte match
        // here and there saves a little).
        assert!(c.len() as f64 >= random.len() as f64 * 1.12, "{}", c.len());
        assert_eq!(decompress(&c, random.len()).unwrap(), random);

        let zeros = vec![0u8; 100_000];
        let c = compress(&zeros);
        // 66 bytes per 2-byte match and a copy-map bit: about 31:1.
        let ratio = zeros.len() as f64 / c.len() as f64;
        assert!((30.0..31.5).contains(&ratio), "{ratio}");
        assert_eq!(decompress(&c, zeros.len()).unwrap(), zeros);

        // Repeats 1023 bytes back are found, 1024 and more are not.
        for (distance, found) in [(1023usize, true), (1024, false), (3000, false)] {
            let mut data = noise(distance, 3);
            data.extend_from_within(..distance.min(200));
            let c = compress(&data);
            let saved = data.len() + data.len() / 8 - c.len();
            assert_eq!(saved > 100, found, "distance {distance}: saved {saved}");
            assert_eq!(decompress(&c, data.len()).unwrap(), data);
        }
        for n in [0usize, 1, 2, 3, 66, 67, 68, 1000] {
            let mut data = noise(n, n as u64 + 1);
            data.extend_from_within(..n / 2);
            assert_eq!(decompress(&compress(&data), data.len()).unwrap(), data, "length {n}");
        }
        assert_eq!(decompress(&[0x01, 0x00, 0x05], 10), None, "a match before the start");
    }
}
