//! The machine a run finishes on, recorded in its `summary.json` so that every timing
//! names its CPU and date without a separate log.
use analysis::record::Host;

/// The `/proc/cpuinfo` flags recorded, in this order: the instruction sets libtorch's
/// CPU kernels dispatch on (oneDNN picks bf16 / VNNI / AMX paths by them).
const SIMD_FLAGS: [&str; 6] = [
    "avx2",
    "avx512f",
    "avx512_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "amx_tile",
];

/// This machine now: CPU model name and vector extensions, logical CPUs, UTC time.
pub fn this_host() -> Host {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    Host {
        cpu_model: cpu_model_name(&cpuinfo).unwrap_or_else(|| "unknown".into()),
        cpu_simd: simd_flags(&cpuinfo),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        finished_utc: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    }
}

/// The value of the first `key` line of `/proc/cpuinfo` text (`model name`, `flags`).
fn cpuinfo_field<'a>(cpuinfo: &'a str, key: &str) -> Option<&'a str> {
    cpuinfo.lines().find_map(|line| {
        let (k, value) = line.split_once(':')?;
        (k.trim() == key).then(|| value.trim())
    })
}

/// The CPU model name (x86 kernels list one; ARM kernels may not, then `None`).
fn cpu_model_name(cpuinfo: &str) -> Option<String> {
    cpuinfo_field(cpuinfo, "model name").map(str::to_string)
}

/// Which of [`SIMD_FLAGS`] the first `flags` line lists.
fn simd_flags(cpuinfo: &str) -> Vec<String> {
    let flags: Vec<&str> = cpuinfo_field(cpuinfo, "flags")
        .map(|f| f.split_whitespace().collect())
        .unwrap_or_default();
    SIMD_FLAGS
        .iter()
        .filter(|f| flags.contains(f))
        .map(|f| f.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_model_name_line_is_the_cpu_model() {
        let text = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n\
                    processor\t: 1\nmodel name\t: AMD EPYC 7B13\n";
        assert_eq!(cpu_model_name(text).as_deref(), Some("AMD EPYC 7B13"));
        assert_eq!(cpu_model_name("processor\t: 0\nBogoMIPS\t: 50.00\n"), None);
    }

    #[test]
    fn only_the_listed_vector_extensions_are_recorded_in_their_order() {
        let text = "model name\t: Intel(R) Xeon(R) Processor\n\
                    flags\t\t: fpu sse4_2 avx512_bf16 avx2 avx512f avx512_vnni avx512vl\n";
        assert_eq!(
            simd_flags(text),
            ["avx2", "avx512f", "avx512_vnni", "avx512_bf16"]
        );
        assert!(simd_flags("model name\t: AMD EPYC 7B13\n").is_empty());
    }
}
