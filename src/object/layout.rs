//! Which object holds which range of the stream, and under which key.
//!
//! Object `i` of a dataset is the stream's range `[offset(i), offset(i) +
//! size(i))`, the objects laid end to end in index order. With one fixed size
//! that is `[i * size, (i + 1) * size)`. Mixed sizes are drawn from a seeded
//! distribution, each size a pure function of `(seed, i)`, so the offsets too
//! follow from the seed and a bucket written once can be checked again from
//! the same options.

use crate::model::hash::{mix64, GOLDEN};

/// The largest object S3 stores (5 TiB): the cap of every drawn size.
pub const MAX_OBJECT_SIZE: u64 = 5 << 40;

/// How object sizes are chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SizeDist {
    /// Every object has this many bytes.
    Fixed(u64),
    /// Sizes drawn uniformly from `min..=max` bytes.
    Uniform {
        /// Smallest size.
        min: u64,
        /// Largest size.
        max: u64,
    },
    /// Sizes drawn from a log-normal distribution with this mean and
    /// standard deviation in bytes (as warp's and s3dlio's are), at least 1
    /// byte and at most [`MAX_OBJECT_SIZE`].
    Lognormal {
        /// Mean size.
        mean: u64,
        /// Standard deviation.
        sd: u64,
    },
}

impl SizeDist {
    /// Parses `fixed:SIZE`, `uniform:MIN:MAX` or `lognormal:MEAN:SD`, each
    /// size read by `size` (the CLI's parser takes `1MiB`).
    pub fn parse(text: &str, size: impl Fn(&str) -> Result<u64, String>) -> Result<SizeDist, String> {
        let parts: Vec<&str> = text.split(':').collect();
        let dist = match parts.as_slice() {
            ["fixed", s] => SizeDist::Fixed(size(s)?),
            ["uniform", a, b] => SizeDist::Uniform { min: size(a)?, max: size(b)? },
            ["lognormal", m, s] => SizeDist::Lognormal { mean: size(m)?, sd: size(s)? },
            _ => {
                return Err(format!(
                    "{text:?} is not a size distribution (fixed:SIZE, uniform:MIN:MAX or lognormal:MEAN:SD)"
                ))
            }
        };
        dist.validate()?;
        Ok(dist)
    }

    /// Checks the sizes: none 0, none above [`MAX_OBJECT_SIZE`], min <= max.
    pub fn validate(&self) -> Result<(), String> {
        let check = |what: &str, v: u64| {
            if v == 0 {
                Err(format!("{what} must be at least 1 byte, got 0"))
            } else if v > MAX_OBJECT_SIZE {
                Err(format!("{what} must be at most 5 TiB (S3's largest object), got {v}"))
            } else {
                Ok(())
            }
        };
        match *self {
            SizeDist::Fixed(s) => check("object size", s),
            SizeDist::Uniform { min, max } => {
                check("uniform minimum", min)?;
                check("uniform maximum", max)?;
                if min > max {
                    return Err(format!("uniform minimum {min} is above the maximum {max}"));
                }
                Ok(())
            }
            SizeDist::Lognormal { mean, .. } => check("lognormal mean", mean),
        }
    }

    /// Size of object `index` under `seed`.
    pub fn size(&self, seed: u64, index: u64) -> u64 {
        // Two independent uniform draws per object, from the seed and the
        // index alone.
        let draw = |k: u64| mix64(seed ^ mix64(index.wrapping_mul(GOLDEN) ^ k.wrapping_mul(0xD1B5_4A32_D192_ED03)));
        match *self {
            SizeDist::Fixed(s) => s,
            SizeDist::Uniform { min, max } => {
                let span = max - min + 1;
                // 128-bit multiply: an unbiased-enough map of 64 random bits
                // onto the span without a division.
                min + ((draw(1) as u128 * span as u128) >> 64) as u64
            }
            SizeDist::Lognormal { mean, sd } => {
                let m = mean as f64;
                let s = sd as f64;
                let sigma2 = (1.0 + (s * s) / (m * m)).ln();
                let mu = m.ln() - sigma2 / 2.0;
                // Box-Muller: u1 in (0, 1], u2 in [0, 1).
                let u1 = ((draw(1) >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
                let u2 = (draw(2) >> 11) as f64 / (1u64 << 53) as f64;
                let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                let v = (mu + sigma2.sqrt() * z).exp().round();
                if v.is_finite() {
                    (v as u64).clamp(1, MAX_OBJECT_SIZE)
                } else {
                    MAX_OBJECT_SIZE
                }
            }
        }
    }
}

/// How keys are made from indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Naming {
    /// The prefix and the index zero-padded to [`INDEX_DIGITS`] digits
    /// (`data/00000007`).
    Padded,
    /// The prefix and a template whose `{}` is replaced by the index
    /// (`obj-{}.bin` gives `data/obj-7.bin`, as s3dlio names them).
    Template(String),
}

/// Digits of a padded index: keys sort in index order up to 10^8 objects.
pub const INDEX_DIGITS: usize = 8;

/// One object of a dataset: its key and its range of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSpec {
    /// Index in the dataset.
    pub index: u64,
    /// Full key (prefix included).
    pub key: String,
    /// First byte in the stream.
    pub offset: u64,
    /// Bytes.
    pub size: u64,
}

/// The objects of a dataset: count, sizes, names.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Key prefix (`data/`; may be empty). Used as given: add a `/` to make
    /// it a folder.
    pub prefix: String,
    /// How keys are made.
    pub naming: Naming,
    /// Number of objects.
    pub count: u64,
    /// How sizes are chosen.
    pub sizes: SizeDist,
    /// Seed of the sizes (the dataset's seed).
    pub seed: u64,
}

impl Layout {
    /// Checks the layout: at least one object, sizes in range, a template
    /// with exactly one `{}`.
    pub fn validate(&self) -> Result<(), String> {
        if self.count == 0 {
            return Err("objects must be at least 1, got 0".into());
        }
        self.sizes.validate()?;
        if let Naming::Template(t) = &self.naming {
            if t.matches("{}").count() != 1 {
                return Err(format!("name template {t:?} must hold exactly one {{}} (the index)"));
            }
        }
        Ok(())
    }

    /// Key of object `index`.
    pub fn key(&self, index: u64) -> String {
        match &self.naming {
            Naming::Padded => format!("{}{index:0width$}", self.prefix, width = INDEX_DIGITS),
            Naming::Template(t) => format!("{}{}", self.prefix, t.replacen("{}", &index.to_string(), 1)),
        }
    }

    /// Every object in index order, with offsets laid end to end. `None`
    /// when the total passes 2^64 - 1 bytes.
    pub fn objects(&self) -> Option<Vec<ObjectSpec>> {
        let mut offset = 0u64;
        let mut out = Vec::with_capacity(usize::try_from(self.count).unwrap_or(0).min(1 << 24));
        for index in 0..self.count {
            let size = self.sizes.size(self.seed, index);
            out.push(ObjectSpec { index, key: self.key(index), offset, size });
            offset = offset.checked_add(size)?;
        }
        Some(out)
    }

    /// Total bytes of the dataset: the generator's size.
    pub fn total(&self) -> Option<u64> {
        (0..self.count).try_fold(0u64, |t, i| t.checked_add(self.sizes.size(self.seed, i)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Result<u64, String> {
        text.parse().map_err(|_| format!("{text:?}"))
    }

    #[test]
    fn fixed_objects_are_consecutive_ranges() {
        let l = Layout { prefix: "p/".into(), naming: Naming::Padded, count: 3, sizes: SizeDist::Fixed(10), seed: 1 };
        let o = l.objects().unwrap();
        assert_eq!(o[2], ObjectSpec { index: 2, key: "p/00000002".into(), offset: 20, size: 10 });
        assert_eq!(l.total(), Some(30));
    }

    #[test]
    fn template_names() {
        let l = Layout {
            prefix: "d/".into(),
            naming: Naming::Template("obj-{}.bin".into()),
            count: 12,
            sizes: SizeDist::Fixed(1),
            seed: 1,
        };
        assert_eq!(l.key(11), "d/obj-11.bin");
        let bad = Layout { naming: Naming::Template("x".into()), ..l };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn drawn_sizes_are_seeded_and_in_range() {
        let u = SizeDist::parse("uniform:100:200", plain).unwrap();
        let sizes: Vec<u64> = (0..1000).map(|i| u.size(5, i)).collect();
        assert!(sizes.iter().all(|&s| (100..=200).contains(&s)));
        assert!(sizes.iter().any(|&s| s < 120) && sizes.iter().any(|&s| s > 180));
        assert_eq!(sizes, (0..1000).map(|i| u.size(5, i)).collect::<Vec<_>>());
        assert_ne!(sizes, (0..1000).map(|i| u.size(6, i)).collect::<Vec<_>>());

        let l = SizeDist::parse("lognormal:1000000:300000", plain).unwrap();
        let n = 20_000;
        let v: Vec<f64> = (0..n).map(|i| l.size(9, i) as f64).collect();
        let mean = v.iter().sum::<f64>() / n as f64;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        assert!((mean / 1e6 - 1.0).abs() < 0.02, "mean {mean}");
        assert!((sd / 3e5 - 1.0).abs() < 0.05, "sd {sd}");
    }

    #[test]
    fn bad_distributions() {
        for bad in ["fixed:0", "uniform:5:4", "uniform:0:4", "lognormal:0:1", "gauss:1:2", "fixed"] {
            assert!(SizeDist::parse(bad, plain).is_err(), "{bad}");
        }
    }
}
