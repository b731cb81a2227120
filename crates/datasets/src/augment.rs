use serde::{Deserialize, Serialize};

/// Per-channel mean and standard deviation, in [0, 1] pixel units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

/// CIFAR-10 training-set statistics.
pub const CIFAR10_NORMALIZATION: Normalization = Normalization {
    mean: [0.4914, 0.4822, 0.4465],
    std: [0.2470, 0.2435, 0.2616],
};

/// The standard CIFAR augmentation: zero-pad by `pad` pixels, take a random crop of the
/// original size, and flip horizontally with probability 1/2 when `flip` is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Augment {
    pub pad: usize,
    pub flip: bool,
}

impl Default for Augment {
    fn default() -> Self {
        Self { pad: 4, flip: true }
    }
}

/// The random draws for one image: crop offset in the padded image and flip.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Draw {
    pub dy: usize,
    pub dx: usize,
    pub flip: bool,
}

/// Writes one normalized CHW float image into `out` (`c * h * w` values), applying the
/// crop and flip of `draw` (a `pad`-pixel zero border, as torchvision pads before
/// normalizing, so padded pixels become `-mean / std`).
pub(crate) fn render(
    src: &[u8],
    (c, h, w): (usize, usize, usize),
    pad: usize,
    draw: Draw,
    norm: &Normalization,
    out: &mut [f32],
) {
    for ch in 0..c {
        let (m, s) = (norm.mean[ch % 3], norm.std[ch % 3]);
        let scale = 1.0 / (255.0 * s);
        let zero = -m / s;
        let plane = &src[ch * h * w..(ch + 1) * h * w];
        let dst = &mut out[ch * h * w..(ch + 1) * h * w];
        for y in 0..h {
            // Row y of the crop is row (y + dy - pad) of the source, if inside.
            let sy = (y + draw.dy).wrapping_sub(pad);
            let row = &mut dst[y * w..(y + 1) * w];
            if sy >= h {
                row.fill(zero);
                continue;
            }
            for (x, v) in row.iter_mut().enumerate() {
                let xx = if draw.flip { w - 1 - x } else { x };
                let sx = (xx + draw.dx).wrapping_sub(pad);
                *v = if sx < w {
                    plane[sy * w + sx] as f32 * scale - m / s
                } else {
                    zero
                };
            }
        }
    }
}
