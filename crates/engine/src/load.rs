//! How much of the machine other work used while something was timed: timings taken
//! beside other work are wrong in ways no statistic of the timings themselves reveals
//! (on 2 vCPUs beside a compiler, a latency table whose passes varied by only 10% still
//! priced a stage-3 channel at a tenth of its idle cost).
//!
//! Linux only (`/proc/stat`, `/proc/self/stat`); elsewhere nothing is measured.

/// CPU time counters at one moment, in clock ticks.
#[derive(Debug, Clone, Copy)]
struct Ticks {
    /// All CPUs' time, idle included.
    total: u64,
    /// All CPUs' time not idle: every process's work, the kernel's, and what the
    /// hypervisor took (steal).
    busy: u64,
    /// This process's own CPU time (user + system, all threads).
    own: u64,
}

impl Ticks {
    fn now() -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let cpu: Vec<u64> = stat
            .lines()
            .next()?
            .strip_prefix("cpu ")?
            .split_whitespace()
            .map(|f| f.parse().ok())
            .collect::<Option<_>>()?;
        // user nice system idle iowait irq softirq steal [guest guest_nice]; guest time
        // is already inside user and nice.
        let field = |i: usize| cpu.get(i).copied().unwrap_or(0);
        let idle = field(3) + field(4);
        let busy = field(0) + field(1) + field(2) + field(5) + field(6) + field(7);
        let own = std::fs::read_to_string("/proc/self/stat").ok()?;
        // Fields after the command name, which is in parentheses and may hold spaces:
        // state is field 3, utime and stime are fields 14 and 15.
        let rest: Vec<&str> = own.rsplit_once(')')?.1.split_whitespace().collect();
        let utime: u64 = rest.get(11)?.parse().ok()?;
        let stime: u64 = rest.get(12)?.parse().ok()?;
        Some(Self {
            total: busy + idle,
            busy,
            own: utime + stime,
        })
    }
}

/// A window, from [`LoadWindow::start`] to each [`LoadWindow::others_share`], over which
/// other work's share of the machine is measured.
pub struct LoadWindow {
    start: Option<Ticks>,
}

impl LoadWindow {
    pub fn start() -> Self {
        Self {
            start: Ticks::now(),
        }
    }

    /// The share of all CPUs' time since `start` that went to anything but this process
    /// (other processes, the kernel, hypervisor steal), in [0, 1]; `None` where the
    /// counters cannot be read.
    pub fn others_share(&self) -> Option<f64> {
        let (a, b) = (self.start?, Ticks::now()?);
        let total = b.total.checked_sub(a.total)?;
        if total == 0 {
            return None;
        }
        let others = (b.busy.saturating_sub(a.busy)).saturating_sub(b.own.saturating_sub(a.own));
        Some((others as f64 / total as f64).clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_done_here_is_not_counted_as_others() {
        let Some(_) = Ticks::now() else {
            // Not Linux: nothing to measure.
            return;
        };
        let w = LoadWindow::start();
        // Half a second of this thread's own work.
        let t0 = std::time::Instant::now();
        let mut x = 0u64;
        while t0.elapsed().as_millis() < 500 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        let share = w.others_share().expect("counters readable");
        assert!((0.0..=1.0).contains(&share), "{share}");
        let own = w.start.map(|a| Ticks::now().unwrap().own - a.own).unwrap();
        // The spin itself is counted as this process's.
        assert!(own > 0, "{own} ticks of own CPU time");
    }
}
