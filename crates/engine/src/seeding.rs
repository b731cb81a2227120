//! Seeding libtorch's global random generator so that a seeded computation draws only
//! its own numbers, even when other threads of the process seed or draw too.
use std::sync::{Mutex, MutexGuard};

static GLOBAL_RNG: Mutex<()> = Mutex::new(());

/// Exclusive use of libtorch's process-wide random generator: seeds it with `seed` and
/// holds a lock until the guard drops. Every caller that seeds through this function
/// waits for the previous guard, so a seeded initialisation or training run gives the
/// same numbers whatever else the process runs (tests run on parallel threads).
pub fn seed_exclusive(seed: i64) -> MutexGuard<'static, ()> {
    let guard = GLOBAL_RNG.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(seed);
    guard
}
