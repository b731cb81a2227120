use tch::nn::VarStore;
use tch::Tensor;

/// Returns `t` (`[N, C, H, W]`) laid out channels-last (NHWC strides, same shape), the
/// layout oneDNN convolutions on CPU prefer. tch has no memory-format API, so the strides
/// are made by a permute + contiguous + inverse permute, which PyTorch's convolutions
/// recognise as channels-last.
pub fn to_channels_last(t: &Tensor) -> Tensor {
    if t.dim() != 4 {
        return t.shallow_clone();
    }
    t.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2])
}

/// Converts every 4-D variable of `vs` to channels-last in place.
pub fn vars_to_channels_last(vs: &VarStore) {
    tch::no_grad(|| {
        for (_, mut v) in vs.variables() {
            if v.dim() == 4 {
                let cl = to_channels_last(&v);
                v.set_data(&cl);
            }
        }
    });
}
