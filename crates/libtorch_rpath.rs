//! Shared build script of every crate that links libtorch.
//!
//! torch-sys puts its rpath only on its own C++ shim, so the final binaries and test
//! executables would not find `libtorch_cpu.so` without `LD_LIBRARY_PATH`. torch-sys
//! exports its library folder as `DEP_TCH_LIBTORCH_LIB` (its `links = "tch"`); we add
//! that folder as an rpath here. The linker also drops `libtorch_cuda.so` because no
//! symbol of it is referenced directly (it registers CUDA kernels in static
//! initialisers); `--no-as-needed` keeps it, so `device: cuda` works where CUDA exists.
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    if Path::new(&lib).join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}
