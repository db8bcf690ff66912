//! The demo's files: small real images, each made from what its event says happened (a
//! generation is drawn from its seed, the composite is composited, the upres is resized), so
//! that the digests the demo records are those of bytes a user holds and Content Credentials,
//! `verify-evidence --file` and `whence` work on them.

use std::io::Write;

/// An 8-bit RGB image.
#[derive(Clone)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pixels: Vec<[u8; 3]>,
}

/// A small, deterministic pseudo-random number from a seed and a position (SplitMix64).
fn noise(seed: u64, x: u32, y: u32) -> u64 {
    let mut z = seed ^ (u64::from(x) << 32 | u64::from(y)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0);
    [0, 1, 2].map(|i| (f32::from(a[i]) * (1.0 - t) + f32::from(b[i]) * t).round() as u8)
}

const TEAL: [u8; 3] = [0, 128, 128];

impl Image {
    fn new(width: u32, height: u32, paint: impl Fn(u32, u32) -> [u8; 3]) -> Image {
        let pixels = (0..height).flat_map(|y| (0..width).map(move |x| (x, y))).map(|(x, y)| paint(x, y)).collect();
        Image { width, height, pixels }
    }

    fn at(&self, x: u32, y: u32) -> [u8; 3] {
        self.pixels[(y.min(self.height - 1) * self.width + x.min(self.width - 1)) as usize]
    }

    /// A misty ridge at dawn with a runner, as a model would draw it from `seed`: the sky's
    /// warmth, the ridge line and the runner's place follow the seed.
    pub fn generated(seed: u64, width: u32, height: u32) -> Image {
        let warmth = (noise(seed, 0, 0) % 60) as f32 / 100.0;
        let ridge_phase = (noise(seed, 1, 0) % 628) as f32 / 100.0;
        let runner_x = width / 4 + (noise(seed, 2, 0) % u64::from(width / 2)) as u32;
        let (w, h) = (width as f32, height as f32);
        Image::new(width, height, |x, y| {
            let (fx, fy) = (x as f32 / w, y as f32 / h);
            let ridge = 0.55 + 0.08 * (fx * 7.0 + ridge_phase).sin() + 0.03 * (fx * 23.0).sin();
            let grain = (noise(seed, x, y) % 9) as f32 / 255.0;
            let runner =
                (x as i64 - i64::from(runner_x)).abs() < i64::from(width / 40) && fy > ridge - 0.12 && fy < ridge;
            if runner {
                mix([30, 30, 40], TEAL, (fy - ridge + 0.04).max(0.0) * 25.0)
            } else if fy < ridge {
                mix(mix([255, 170, 120], [250, 210, 160], warmth), [120, 150, 200], fy / ridge + grain)
            } else {
                mix([70, 80, 70], [25, 30, 30], (fy - ridge) / (1.0 - ridge) + grain)
            }
        })
    }

    /// A product shot: the teal shoe on a grey studio sweep.
    pub fn packshot(width: u32, height: u32) -> Image {
        let (w, h) = (width as f32, height as f32);
        Image::new(width, height, |x, y| {
            let (dx, dy) = ((x as f32 / w - 0.5) / 0.35, (y as f32 / h - 0.55) / 0.18);
            if dx * dx + dy * dy < 1.0 {
                mix(TEAL, [200, 240, 240], (1.0 - dy) / 6.0)
            } else {
                mix([235, 235, 235], [180, 180, 185], y as f32 / h)
            }
        })
    }

    /// A mood board: four swatches of the campaign's colours.
    pub fn moodboard(width: u32, height: u32) -> Image {
        let swatches = [[250, 200, 150], [120, 150, 200], TEAL, [40, 45, 40]];
        Image::new(width, height, |x, _| swatches[(x * 4 / width) as usize])
    }

    /// A retouch: contrast lifted a little.
    pub fn retouched(&self) -> Image {
        let lift = |c: u8| (f32::from(c) * 1.08 - 8.0).clamp(0.0, 255.0) as u8;
        Image::new(self.width, self.height, |x, y| self.at(x, y).map(lift))
    }

    /// A composite: the sky of `sky` above `base`'s ridge line (its upper two fifths) and the
    /// product from `product`, scaled to a quarter of the width, placed bottom right.
    pub fn composite(base: &Image, sky: &Image, product: &Image) -> Image {
        let (pw, ph) = (base.width / 4, base.width / 4 * product.height / product.width);
        let (px, py) = (base.width - pw - base.width / 16, base.height - ph - base.height / 16);
        Image::new(base.width, base.height, |x, y| {
            if x >= px && y >= py && x < px + pw && y < py + ph {
                let pixel = product.at((x - px) * product.width / pw, (y - py) * product.height / ph);
                // The studio sweep is keyed out: only the shoe is placed.
                if pixel[0] < 150 {
                    return pixel;
                }
            }
            if y < base.height * 2 / 5 {
                sky.at(x * sky.width / base.width, y * sky.height / base.height)
            } else {
                base.at(x, y)
            }
        })
    }

    /// A resize to `width` × `height`, covering (cropped to the target's aspect, centred),
    /// sampled bilinearly.
    pub fn resized(&self, width: u32, height: u32) -> Image {
        let scale = (self.width as f32 / width as f32).min(self.height as f32 / height as f32);
        let (ox, oy) =
            ((self.width as f32 - width as f32 * scale) / 2.0, (self.height as f32 - height as f32 * scale) / 2.0);
        Image::new(width, height, |x, y| {
            let (sx, sy) = (ox + (x as f32 + 0.5) * scale - 0.5, oy + (y as f32 + 0.5) * scale - 0.5);
            let (x0, y0) = (sx.max(0.0) as u32, sy.max(0.0) as u32);
            let (tx, ty) = (sx - x0 as f32, sy - y0 as f32);
            let top = mix(self.at(x0, y0), self.at(x0 + 1, y0), tx);
            let bottom = mix(self.at(x0, y0 + 1), self.at(x0 + 1, y0 + 1), tx);
            mix(top, bottom, ty)
        })
    }

    /// A cleanup: a region repainted with the colour beside it (the hand the QC review failed).
    pub fn cleaned(&self) -> Image {
        let (x0, y0, side) = (self.width / 3, self.height * 3 / 5, self.width / 12);
        Image::new(self.width, self.height, |x, y| {
            if x >= x0 && x < x0 + side && y >= y0 && y < y0 + side {
                self.at(x0 - 1, y)
            } else {
                self.at(x, y)
            }
        })
    }

    fn raw(&self) -> Vec<u8> {
        self.pixels.iter().flatten().copied().collect()
    }

    /// PNG: 8-bit RGB, no filter, zlib-compressed (RFC 2083).
    pub fn png(&self) -> Vec<u8> {
        let mut scanlines = Vec::with_capacity(self.pixels.len() * 3 + self.height as usize);
        for row in self.pixels.chunks(self.width as usize) {
            scanlines.push(0);
            scanlines.extend(row.iter().flatten());
        }
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        zlib.write_all(&scanlines).expect("writing to memory");
        let data = zlib.finish().expect("writing to memory");
        let mut header = Vec::with_capacity(13);
        header.extend(self.width.to_be_bytes());
        header.extend(self.height.to_be_bytes());
        header.extend([8, 2, 0, 0, 0]);
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        for (kind, body) in [(b"IHDR", &header[..]), (b"IDAT", &data[..]), (b"IEND", &[][..])] {
            out.extend((body.len() as u32).to_be_bytes());
            let start = out.len();
            out.extend(kind);
            out.extend(body);
            out.extend(crc32fast::hash(&out[start..]).to_be_bytes());
        }
        out
    }

    /// Baseline JPEG at quality 90.
    pub fn jpeg(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let encoder = jpeg_encoder::Encoder::new(&mut out, 90);
        encoder
            .encode(&self.raw(), self.width as u16, self.height as u16, jpeg_encoder::ColorType::Rgb)
            .expect("the demo's images fit a JPEG");
        out
    }

    /// Baseline TIFF: uncompressed 8-bit RGB in one strip, little-endian (TIFF 6.0 §2, §6).
    pub fn tiff(&self) -> Vec<u8> {
        let raw = self.raw();
        // Header (8), the IFD (2 + 10 entries × 12 + 4), then the BitsPerSample values (6).
        let ifd_len = 2 + 10 * 12 + 4;
        let bits_at = 8 + ifd_len;
        let data_at = bits_at + 6;
        let mut out = b"II*\0".to_vec();
        out.extend(8u32.to_le_bytes());
        out.extend(10u16.to_le_bytes());
        let entry = |out: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: u32| {
            out.extend(tag.to_le_bytes());
            out.extend(kind.to_le_bytes());
            out.extend(count.to_le_bytes());
            out.extend(value.to_le_bytes());
        };
        let (short, long) = (3u16, 4u16);
        entry(&mut out, 256, long, 1, self.width);
        entry(&mut out, 257, long, 1, self.height);
        entry(&mut out, 258, short, 3, bits_at as u32);
        entry(&mut out, 259, short, 1, 1);
        entry(&mut out, 262, short, 1, 2);
        entry(&mut out, 273, long, 1, data_at as u32);
        entry(&mut out, 277, short, 1, 3);
        entry(&mut out, 278, long, 1, self.height);
        entry(&mut out, 279, long, 1, raw.len() as u32);
        entry(&mut out, 284, short, 1, 1);
        out.extend(0u32.to_le_bytes());
        for _ in 0..3 {
            out.extend(8u16.to_le_bytes());
        }
        out.extend(raw);
        out
    }
}
