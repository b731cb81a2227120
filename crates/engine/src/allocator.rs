//! Keeping freed tensor memory in the process on glibc.
//!
//! glibc's malloc serves blocks above its mmap threshold (128 KiB at start, raised
//! dynamically to the largest freed block) straight from the kernel and unmaps them on
//! free, so every large activation of a forward pass (8 MiB for a 128 x 16 x 32 x 32
//! CIFAR map) is page-faulted in and zeroed again on the next pass. Measured on a 2-core
//! Xeon: a ResNet-20 forward at batch 128 took 185 ms with the defaults and 138 ms with
//! the thresholds below (results/bench/allocator_*.md). The usual remedy on CPU is
//! jemalloc or tcmalloc; fixing the thresholds gets the same effect with glibc itself.

/// Largest mmap threshold glibc accepts on 64-bit systems (bytes).
const MMAP_THRESHOLD: i32 = 32 << 20;
/// Free heap kept before trimming it back to the kernel (bytes).
const TRIM_THRESHOLD: i32 = 1 << 30;

/// Whether [`keep_freed_memory`] should leave the allocator alone: the environment sets
/// `EXPERIMENTS_MALLOC=system` (to compare, or with an allocator of one's own preloaded).
pub fn allocator_left_alone() -> bool {
    std::env::var("EXPERIMENTS_MALLOC").is_ok_and(|v| v == "system")
}

/// Makes glibc keep freed blocks of up to 32 MiB for reuse instead of unmapping them.
/// Call once, at the start of the program. Returns whether the setting took effect
/// (false on other C libraries, or when `EXPERIMENTS_MALLOC=system`).
pub fn keep_freed_memory() -> bool {
    if allocator_left_alone() {
        return false;
    }
    set_thresholds()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set_thresholds() -> bool {
    // SAFETY: mallopt only changes allocator parameters; it is called before the
    // program starts other threads that allocate.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
            && libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_thresholds() -> bool {
    false
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_accepts_the_thresholds() {
        assert!(super::set_thresholds());
    }
}
