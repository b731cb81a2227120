//! One contiguous buffer each for the parameters, gradients and momentum buffers of an
//! optimizer, with every parameter (and its gradient) re-pointed at its slice. An SGD
//! update then costs a handful of kernels however many tensors the model has, instead of
//! several per tensor: what PyTorch's multi-tensor (`_foreach`) optimizers achieve, which
//! tch 0.24 exposes neither as those kernels nor as a fused SGD. On a GPU a small model's
//! step is bound by kernel launches (ResNet-20: 65 tensors, ~5 kernels each per update).
use tch::Tensor;

/// The flat buffers and where each tensor's slice starts (in elements).
pub(crate) struct FlatBuffers {
    pub params: Tensor,
    pub grads: Tensor,
    /// Zero until the first update, so `m * buf + g` starts the buffer at `g` exactly as
    /// PyTorch's first step (`buf = g.clone()`) does.
    pub momentum: Tensor,
    /// Per parameter: element offset, and the data addresses its parameter and gradient
    /// must keep (something that replaces a tensor's storage breaks the aliasing; the
    /// optimizer then falls back to per-tensor updates).
    slots: Vec<Slot>,
}

/// Every slice starts at a multiple of this many elements (512 bytes in fp32): cuDNN's
/// convolution kernels need aligned weight addresses (packed slices gave "CUDA error:
/// misaligned address" on an H200), and 512 bytes is the CUDA caching allocator's own
/// block alignment. The padding between slices stays zero through every update.
const SLICE_ALIGN: i64 = 128;

fn aligned(offset: i64) -> i64 {
    (offset + SLICE_ALIGN - 1) / SLICE_ALIGN * SLICE_ALIGN
}

struct Slot {
    offset: i64,
    param_ptr: usize,
    grad_ptr: usize,
}

/// Whether a tensor of `size` and `stride` covers a dense block of memory without
/// overlap (contiguous in some dimension order: NCHW, channels-last, ...).
fn dense(size: &[i64], stride: &[i64]) -> bool {
    let mut dims: Vec<(i64, i64)> = size
        .iter()
        .zip(stride)
        .filter(|(s, _)| **s != 1)
        .map(|(s, t)| (*s, *t))
        .collect();
    dims.sort_by_key(|d| d.1);
    let mut expect = 1;
    for (s, t) in dims {
        if t != expect {
            return false;
        }
        expect *= s;
    }
    true
}

impl FlatBuffers {
    /// Gathers `params` (each with a defined gradient) into flat buffers, copying values,
    /// gradients and the given momentum buffers, and re-points each parameter and
    /// gradient at its slice with the parameter's own strides. `None` (nothing changed)
    /// when the tensors differ in kind or device, one is not dense, or a gradient is
    /// missing.
    pub fn gather(params: &[Tensor], momentum: &[Option<Tensor>]) -> Option<Self> {
        let first = params.first()?;
        let (kind, device) = (first.kind(), first.device());
        let mut total = 0i64;
        for p in params {
            let g = p.grad();
            if !g.defined()
                || p.kind() != kind
                || p.device() != device
                || g.kind() != kind
                || !dense(&p.size(), &p.stride())
            {
                return None;
            }
            total = aligned(total) + p.numel() as i64;
        }
        let opts = (kind, device);
        let mut flat = Self {
            params: Tensor::zeros([total], opts),
            grads: Tensor::zeros([total], opts),
            momentum: Tensor::zeros([total], opts),
            slots: Vec::with_capacity(params.len()),
        };
        let mut offset = 0i64;
        tch::no_grad(|| {
            for (p, m) in params.iter().zip(momentum) {
                offset = aligned(offset);
                let (size, stride) = (p.size(), p.stride());
                let slice =
                    |base: &Tensor| base.as_strided(size.as_slice(), stride.as_slice(), offset);
                let mut pv = slice(&flat.params);
                pv.copy_(p);
                let mut gv = slice(&flat.grads);
                gv.copy_(&p.grad());
                if let Some(m) = m {
                    slice(&flat.momentum).copy_(m);
                }
                let mut p_handle = p.shallow_clone();
                p_handle.set_data(&pv);
                let mut g_handle = p.grad();
                g_handle.set_data(&gv);
                flat.slots.push(Slot {
                    offset,
                    param_ptr: p.data_ptr() as usize,
                    grad_ptr: p.grad().data_ptr() as usize,
                });
                offset += p.numel() as i64;
            }
        });
        Some(flat)
    }

    /// Whether every parameter and gradient still lives in its slice.
    pub fn intact(&self, params: &[Tensor]) -> bool {
        params.len() == self.slots.len()
            && params.iter().zip(&self.slots).all(|(p, s)| {
                let g = p.grad();
                p.data_ptr() as usize == s.param_ptr
                    && g.defined()
                    && g.data_ptr() as usize == s.grad_ptr
            })
    }

    /// The momentum slice of parameter `i`, shaped and strided like it.
    pub fn momentum_of(&self, i: usize, like: &Tensor) -> Tensor {
        self.momentum
            .as_strided(like.size(), like.stride(), self.slots[i].offset)
    }
}

#[cfg(test)]
mod tests {
    use super::{dense, FlatBuffers, SLICE_ALIGN};
    use tch::{Device, Kind, Tensor};

    #[test]
    fn every_slice_starts_aligned_and_padding_stays_zero() {
        let opts = (Kind::Float, Device::Cpu);
        let a = Tensor::ones([3, 5], opts).set_requires_grad(true);
        let b = Tensor::ones([7], opts).set_requires_grad(true);
        (a.sum(Kind::Float) + b.sum(Kind::Float) * 2.0).backward();
        let flat = FlatBuffers::gather(&[a.shallow_clone(), b.shallow_clone()], &[None, None])
            .expect("dense tensors with gradients gather");
        let base = flat.params.data_ptr() as usize;
        let align = SLICE_ALIGN as usize * 4;
        for t in [&a, &b] {
            assert_eq!((t.data_ptr() as usize - base) % align, 0);
            assert_eq!(
                (t.grad().data_ptr() as usize - flat.grads.data_ptr() as usize) % align,
                0
            );
        }
        assert_eq!(flat.params.numel(), SLICE_ALIGN as usize + 7);
        // Values and gradients moved; the gap between the slices holds zeros.
        assert_eq!(flat.params.sum(Kind::Float).double_value(&[]), 22.0);
        assert_eq!(flat.grads.sum(Kind::Float).double_value(&[]), 15.0 + 14.0);
    }

    #[test]
    fn dense_accepts_contiguous_and_channels_last_and_refuses_gaps() {
        assert!(dense(&[4, 3, 2, 2], &[12, 4, 2, 1]));
        assert!(dense(&[4, 3, 2, 2], &[12, 1, 6, 3])); // channels-last
        assert!(dense(&[4, 1, 1, 1], &[1, 1, 1, 1]));
        assert!(!dense(&[4, 3], &[6, 1])); // every other row
        assert!(!dense(&[4, 3], &[0, 1])); // broadcast
    }
}
