//! The machine a run finishes on, recorded in its `summary.json` so that every timing
//! names its CPU and date without a separate log.
use analysis::record::Host;

/// This machine now: CPU model name, logical CPUs, UTC time.
pub fn this_host() -> Host {
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| cpu_model_name(&text))
        .unwrap_or_else(|| "unknown".into());
    Host {
        cpu_model,
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        finished_utc: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    }
}

/// The first `model name` line of `/proc/cpuinfo` text (x86; ARM kernels may not have
/// one, then `None`).
fn cpu_model_name(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_string())
    })
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
}
