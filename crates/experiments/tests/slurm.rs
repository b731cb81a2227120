//! `experiments submit` against a real Slurm: a single-node cluster on localhost
//! (Debian's `slurmctld`, `slurmd` and `munge`, installed here when missing and root may
//! install them), configured in a temporary folder, runs a tiny three-wave study as
//! job arrays chained by `afterok`; its table must come out as the local executor's.
//! Every daemon is stopped by its PID at the end, also when the test fails.
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{repo, text};

const SBIN: &str = "/usr/sbin";

fn have(tool: &str) -> bool {
    Path::new(SBIN).join(tool).is_file()
        || Command::new("which")
            .arg(tool)
            .output()
            .is_ok_and(|o| o.status.success())
}

/// Installs Slurm and munge from Debian when they are missing.
fn ensure_slurm() {
    if ["slurmctld", "slurmd", "munged", "sbatch"]
        .iter()
        .all(|t| have(t))
    {
        return;
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    assert!(
        root && have("apt-get"),
        "Slurm is not installed and cannot be installed here (needs root and apt-get): \
         apt-get install slurmctld slurmd munge slurm-client"
    );
    for args in [
        vec!["update", "-qq"],
        vec![
            "install",
            "-y",
            "-qq",
            "slurmctld",
            "slurmd",
            "munge",
            "slurm-client",
        ],
    ] {
        let o = Command::new("apt-get")
            .args(&args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
            .unwrap();
        assert!(o.status.success(), "apt-get {args:?}: {}", text(&o));
    }
}

fn tool(name: &str) -> PathBuf {
    let p = Path::new(SBIN).join(name);
    if p.is_file() {
        p
    } else {
        PathBuf::from(name)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running single-node cluster; dropping it stops its daemons by PID.
struct Cluster {
    dir: PathBuf,
    conf: PathBuf,
    daemons: Vec<(&'static str, Child)>,
}

impl Cluster {
    fn start(dir: &Path) -> Cluster {
        for d in ["state", "spool"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        let mut c = Cluster {
            dir: dir.to_path_buf(),
            conf: dir.join("slurm.conf"),
            daemons: Vec::new(),
        };
        // munge: a fresh key and a socket of its own, so no system munged is touched.
        let key = dir.join("munge.key");
        let mut bytes = vec![0u8; 1024];
        std::fs::File::open("/dev/urandom")
            .unwrap()
            .read_exact(&mut bytes)
            .unwrap();
        std::fs::write(&key, &bytes).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        let sock = dir.join("munge.sock");
        c.spawn(
            "munged",
            Command::new(tool("munged")).args([
                "-F".to_string(),
                "-f".to_string(),
                format!("--socket={}", sock.display()),
                format!("--key-file={}", key.display()),
                format!("--pid-file={}", dir.join("munged.pid").display()),
                format!("--log-file={}", dir.join("munged.log").display()),
                format!("--seed-file={}", dir.join("munged.seed").display()),
            ]),
        );
        c.wait_for("the munge socket", || sock.exists());
        let host = String::from_utf8(Command::new("hostname").arg("-s").output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_string();
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let d = dir.display();
        let conf = format!(
            "ClusterName=c2s2test\nSlurmctldHost={host}\nSlurmctldPort={}\nSlurmdPort={}\n\
             AuthType=auth/munge\nCredType=cred/munge\nAuthInfo=socket={}\n\
             SlurmUser=root\nSlurmdUser=root\nStateSaveLocation={d}/state\nSlurmdSpoolDir={d}/spool\n\
             SlurmctldPidFile={d}/slurmctld.pid\nSlurmdPidFile={d}/slurmd.pid\n\
             SlurmctldLogFile={d}/slurmctld.log\nSlurmdLogFile={d}/slurmd.log\n\
             ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n\
             SelectType=select/cons_tres\nSelectTypeParameters=CR_CPU\nSchedulerType=sched/backfill\n\
             ReturnToService=2\nMpiDefault=none\nJobAcctGatherType=jobacct_gather/none\n\
             AccountingStorageType=accounting_storage/none\n\
             NodeName={host} CPUs={cpus} State=UNKNOWN\n\
             PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n",
            free_port(),
            free_port(),
            sock.display()
        );
        std::fs::write(&c.conf, conf).unwrap();
        let conf = c.conf.clone();
        c.spawn(
            "slurmctld",
            Command::new(tool("slurmctld"))
                .arg("-D")
                .arg("-f")
                .arg(&conf),
        );
        c.spawn(
            "slurmd",
            Command::new(tool("slurmd")).arg("-D").arg("-f").arg(&conf),
        );
        c.wait_for("the node to be idle", || {
            Command::new("sinfo")
                .args(["-h", "-o", "%T"])
                .env("SLURM_CONF", &conf)
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "idle")
        });
        c
    }

    fn spawn(&mut self, name: &'static str, cmd: &mut Command) {
        let log = std::fs::File::create(self.dir.join(format!("{name}.out"))).unwrap();
        let err = log.try_clone().unwrap();
        let child = cmd
            .env("SLURM_CONF", &self.conf)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        self.daemons.push((name, child));
    }

    fn wait_for(&mut self, what: &str, ok: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !ok() {
            let exited = self
                .daemons
                .iter_mut()
                .find_map(|(name, child)| match child.try_wait() {
                    Ok(Some(st)) => Some(format!("{name} exited ({st})")),
                    _ => None,
                });
            if let Some(e) = exited {
                panic!("{e} while waiting for {what}: {}", self.logs());
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn logs(&self) -> String {
        let mut s = String::new();
        for f in [
            "munged.out",
            "slurmctld.out",
            "slurmd.out",
            "slurmctld.log",
            "slurmd.log",
        ] {
            if let Ok(t) = std::fs::read_to_string(self.dir.join(f)) {
                let tail: Vec<&str> = t.lines().rev().take(15).collect();
                s.push_str(&format!("\n--- {f}\n"));
                for l in tail.iter().rev() {
                    s.push_str(l);
                    s.push('\n');
                }
            }
        }
        s
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("SLURM_CONF", &self.conf);
        c
    }

    /// Waits until Slurm holds no job.
    fn drain(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let o = self
                .command("squeue")
                .args(["-h", "-o", "%i %T %r"])
                .output()
                .unwrap();
            let q = String::from_utf8_lossy(&o.stdout).trim().to_string();
            if o.status.success() && q.is_empty() {
                return;
            }
            assert!(
                !q.contains("DependencyNeverSatisfied"),
                "a wave failed, its successors can never start:\n{q}"
            );
            assert!(
                Instant::now() < deadline,
                "jobs still queued:\n{q}{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Reverse order: slurmd, slurmctld, then munged; SIGTERM, then SIGKILL.
        for (name, child) in self.daemons.iter_mut().rev() {
            let pid = child.id().to_string();
            let _ = Command::new("kill").args(["-TERM", &pid]).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            if !matches!(child.try_wait(), Ok(Some(_))) {
                eprintln!("{name} (pid {pid}) ignored SIGTERM; killing it");
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

fn study_text(root: &Path) -> String {
    format!(
        "name: tiny\nstudy:\n  setting: resnet20_cifar10\n  results: {results}\n  slurm: {{ cpus: 1 }}\nmodel:\n  arch: resnet20_cifar\n  widths: {{ stages: [8, 8, 8], inner: [8, 8, 8, 8, 8, 8, 8, 8, 8] }}\ndataset:\n  name: cifar10\n  root: {data}\n  validation_split: 100\n  train_limit: 256\ntrain:\n  epochs: 1\n  batch_size: 32\n  optimizer: {{ lr: 0.05, weight_decay: 5.0e-4, nesterov: true }}\n  lr_schedule: {{ kind: cosine }}\ndevice: cpu\nseeds: [0]\noutput: {runs}\nentries:\n  pretrained:\n    train: {{ epochs: 2 }}\n  c2s2:\n    prune: {{ method: c2s2, from: pretrained, c2s2: {{ lambda: 20.0, tolerance: 100.0, selection: {{ iterations: 10, lr: 0.1 }}, recovery: {{ iterations: 5 }} }} }}\n  l1_norm:\n    seeds: [0, 1]\n    prune: {{ method: l1_norm, from: pretrained, widths_from: c2s2 }}\n  random:\n    prune: {{ method: random, from: pretrained, widths_from: c2s2 }}\n",
        results = root.join("results").display(),
        data = repo().join("fixtures/cifar10-smoke").display(),
        runs = root.join("runs").display(),
    )
}

fn experiments(args: &[&str], conf: Option<&Path>) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_experiments"));
    c.args(args).current_dir(repo()).env("RUST_LOG", "warn");
    if let Some(conf) = conf {
        c.env("SLURM_CONF", conf);
    }
    c.output().unwrap()
}

#[test]
fn a_study_submitted_to_slurm_runs_as_chained_job_arrays_and_writes_its_table() {
    ensure_slurm();
    let tmp = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(&tmp.path().join("slurm"));

    let root = tmp.path().join("study");
    std::fs::create_dir_all(&root).unwrap();
    let file = root.join("tiny.yaml");
    std::fs::write(&file, study_text(&root)).unwrap();
    let started = Instant::now();
    let o = experiments(&["submit", file.to_str().unwrap()], Some(&cluster.conf));
    let out = text(&o);
    assert!(o.status.success(), "{out}{}", cluster.logs());
    // Pre-training, then C2S2, then the three baseline runs, then the table.
    assert!(
        out.contains("wave 1: job ") && out.contains("(1 array tasks: pretrained/seed0)"),
        "{out}"
    );
    assert!(
        out.contains("wave 3: job ")
            && out.contains("(3 array tasks: l1_norm/seed0, l1_norm/seed1, random/seed0)"),
        "{out}"
    );
    let script = std::fs::read_dir(root.join("runs/tiny/slurm"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let wave2 = std::fs::read_to_string(script.join("wave2.sbatch")).unwrap();
    assert!(
        wave2.contains("#SBATCH --array=0-0") && wave2.contains("#SBATCH --cpus-per-task=1"),
        "{wave2}"
    );
    cluster.drain(Duration::from_secs(600));
    let slurm_secs = started.elapsed().as_secs_f64();

    let setting = root.join("results/resnet20_cifar10");
    let table = std::fs::read_to_string(setting.join("table.md"))
        .unwrap_or_else(|e| panic!("no table ({e}); {}", cluster.logs()));
    for row in [
        "| unpruned |  | measured",
        "| C2S2 | c2s2 | measured",
        "| L1-norm | c2s2 | measured",
        "| random | c2s2 | measured",
    ] {
        assert!(table.contains(row), "no `{row}` in\n{table}");
    }
    let o = experiments(&["plan", file.to_str().unwrap()], None);
    assert!(
        text(&o).contains("5 runs: 5 done, 0 to run"),
        "{}",
        text(&o)
    );
    // Submitting again finds everything done: only the table job.
    let o = experiments(&["submit", file.to_str().unwrap()], Some(&cluster.conf));
    assert!(text(&o).contains("every run is done"), "{}", text(&o));
    cluster.drain(Duration::from_secs(60));

    // The same study with the local executor: the same records (same run keys) and
    // table, for the wall-time comparison.
    let local = tmp.path().join("local");
    std::fs::create_dir_all(&local).unwrap();
    let lfile = local.join("tiny.yaml");
    std::fs::write(&lfile, study_text(&local)).unwrap();
    let started = Instant::now();
    let o = experiments(&[lfile.to_str().unwrap(), "--jobs", "2"], None);
    assert!(o.status.success(), "{}", text(&o));
    let local_secs = started.elapsed().as_secs_f64();
    // Pre-training names no file, so its key is the same in both folders; the runs
    // after it hash their sources' paths. Both computed the same networks.
    let published = |r: &Path, d: &str, f: &str| {
        std::fs::read(r.join("results/resnet20_cifar10").join(d).join(f)).unwrap()
    };
    let summary = |r: &Path| -> serde_json::Value {
        serde_json::from_slice(&published(r, "pretrained", "summary.json")).unwrap()
    };
    assert_eq!(summary(&root)["run_key"], summary(&local)["run_key"]);
    assert!(
        published(&root, "pretrained", "model.safetensors")
            == published(&local, "pretrained", "model.safetensors"),
        "pre-training under Slurm and locally gave different weights"
    );
    for d in ["c2s2", "l1_norm/seed1", "random"] {
        assert_eq!(
            published(&root, d, "model.json"),
            published(&local, d, "model.json"),
            "{d}"
        );
    }
    println!(
        "tiny study (5 runs, 3 waves): {slurm_secs:.1} s under Slurm (1 CPU per array task, {} CPUs), {local_secs:.1} s locally with --jobs 2",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
}
