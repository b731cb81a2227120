//! Mixed precision through libtorch's autocast: inside an [`Autocast`] region, conv and
//! linear layers run in a lower precision while weights stay float32 (the master
//! copy the optimizer updates) and precision-sensitive ops (losses, softmax, norms'
//! statistics) stay float32 — PyTorch's `torch.autocast` policy.
//!
//! tch 0.24 only exposes the deprecated CUDA-only switch, so the device-aware functions
//! of libtorch (`at::autocast::set_autocast_enabled(DeviceType, bool)` and friends) are
//! declared here directly. They take plain `int8_t` enums and a bool, which the x86-64
//! and AArch64 C ABIs pass exactly like C functions; libtorch_cpu exports them.
use serde::{Deserialize, Serialize};
use tch::Device;

/// Arithmetic precision of the forward pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    #[default]
    Fp32,
    /// bfloat16 autocast (CPU with AVX512-BF16 / AMX, or CUDA).
    Bf16,
}

// c10::DeviceType and c10::ScalarType values (stable parts of the libtorch ABI).
const DEVICE_CPU: i8 = 0;
const DEVICE_CUDA: i8 = 1;
const SCALAR_BFLOAT16: i8 = 15;

extern "C" {
    #[link_name = "_ZN2at8autocast20set_autocast_enabledEN3c1010DeviceTypeEb"]
    fn at_set_autocast_enabled(device: i8, enabled: bool);
    #[link_name = "_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE"]
    fn at_set_autocast_dtype(device: i8, dtype: i8);
    #[link_name = "_ZN2at8autocast19is_autocast_enabledEN3c1010DeviceTypeE"]
    fn at_is_autocast_enabled(device: i8) -> bool;
    #[link_name = "_ZN2at8autocast11clear_cacheEv"]
    fn at_clear_cache();
}

/// An autocast region: enabled on creation, disabled (and its cast-weight cache
/// cleared, since weights change at every step) on drop. A no-op for `Fp32`.
pub struct Autocast {
    device: Option<i8>,
}

impl Autocast {
    pub fn new(precision: Precision, device: Device) -> Self {
        let dev = match device {
            Device::Cpu => DEVICE_CPU,
            Device::Cuda(_) => DEVICE_CUDA,
            _ => return Self { device: None },
        };
        if precision == Precision::Fp32 {
            return Self { device: None };
        }
        // SAFETY: plain-value arguments; the functions only flip thread-local state.
        unsafe {
            at_set_autocast_dtype(dev, SCALAR_BFLOAT16);
            at_set_autocast_enabled(dev, true);
        }
        Self { device: Some(dev) }
    }

    /// Whether libtorch reports autocast on for `device` (for tests).
    pub fn is_enabled(device: Device) -> bool {
        let dev = if device == Device::Cpu {
            DEVICE_CPU
        } else {
            DEVICE_CUDA
        };
        // SAFETY: reads thread-local state.
        unsafe { at_is_autocast_enabled(dev) }
    }
}

impl Drop for Autocast {
    fn drop(&mut self) {
        if let Some(dev) = self.device {
            // SAFETY: as in `new`.
            unsafe {
                at_set_autocast_enabled(dev, false);
                at_clear_cache();
            }
        }
    }
}
