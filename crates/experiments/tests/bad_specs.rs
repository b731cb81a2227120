//! Every kind of bad spec is refused with the file, the field path (or line and column)
//! and a reason.
use std::path::Path;

use experiments::spec::{Spec, SpecError};
use std::time::Instant;

const GOOD: &str = "\
name: t
model:
  arch: resnet20_cifar
dataset:
  name: cifar10
  root: data/x
  validation_split: 100
train:
  epochs: 10
  optimizer:
    lr: 0.1
  lr_schedule:
    kind: multi_step
    milestones: [3, 6, 8]
";

fn parse(text: &str) -> Result<Spec, SpecError> {
    Spec::parse(text, Path::new("specs/bad.yaml"))
}

#[test]
fn the_good_spec_parses() {
    let s = parse(GOOD).unwrap();
    assert_eq!(s.seeds, vec![0]);
    assert_eq!(s.train.batch_size, 128);
}

/// The spec files of `tests/bad_specs/`, one case each: its first comment line says
/// what is wrong, `# expect:` lines give fragments the error must hold.
fn cases() -> Vec<(std::path::PathBuf, String, Vec<String>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_specs");
    let mut v = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "yaml") {
            let text = std::fs::read_to_string(&p).unwrap();
            let what = text
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("# ")
                .to_string();
            let expect = text
                .lines()
                .filter_map(|l| l.strip_prefix("# expect: "))
                .map(str::to_string)
                .collect();
            v.push((p, what, expect));
        }
    }
    v.sort();
    v
}

/// Spec checks, then the checks against the files the spec names: what `validate`
/// and a run do before anything is written.
fn refuse(path: &Path) -> Option<String> {
    if experiments::study::file_is_study(path) {
        return experiments::study::Study::load(path)
            .err()
            .map(|e| e.to_string());
    }
    match Spec::load(path) {
        Err(e) => Some(e.to_string()),
        Ok(s) => experiments::preflight::check(&s, path)
            .err()
            .map(|e| e.to_string()),
    }
}

#[test]
fn every_bad_spec_is_refused_naming_the_file_and_the_field() {
    let cases = cases();
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let mut listing = String::new();
    for (path, what, expect) in &cases {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!expect.is_empty(), "{name}: no `# expect:` line");
        let err = refuse(path).unwrap_or_else(|| panic!("{name} ({what}) was accepted"));
        assert!(err.contains(&name), "{name}: no file name in `{err}`");
        for frag in expect {
            assert!(
                err.contains(frag.as_str()),
                "{name}: no `{frag}` in `{err}`"
            );
        }
        // A field path is said once, not again at the start of the message.
        if let Some((_, rest)) = err.split_once("field `") {
            let field = rest.split('`').next().unwrap_or("");
            assert!(!rest.contains(&format!("`: {field}:")), "{name}: `{err}`");
        }
        listing.push_str(&format!("{what}\n  {err}\n"));
    }
    // `cargo test --test bad_specs -- --nocapture` prints every case and its message.
    println!("{listing}");
}

#[test]
fn deep_nesting_is_refused_at_once() {
    let text = format!("name: {}", "[".repeat(100_000));
    let t = Instant::now();
    let e = parse(&text).unwrap_err().to_string();
    assert!(e.contains("nested deeper"), "{e}");
    assert!(t.elapsed().as_secs() < 2, "took {:?}", t.elapsed());
}

#[test]
fn syntax_errors_carry_line_and_column() {
    let text = GOOD.replacen("[3, 6, 8]", "[3, 6, 8", 1);
    match parse(&text) {
        Err(SpecError::Syntax { line, column, .. }) => {
            assert!(line >= 14 && column > 0, "line {line} column {column}")
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn every_committed_spec_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "yaml") {
            if experiments::study::file_is_study(&p) {
                experiments::study::Study::load(&p).unwrap_or_else(|e| panic!("{e}"));
            } else {
                Spec::load(&p).unwrap_or_else(|e| panic!("{e}"));
            }
            n += 1;
        }
    }
    assert!(
        n >= 5,
        "expected the thesis specs under experiments/, found {n}"
    );
}

#[test]
fn init_from_is_refused_in_a_pruning_spec() {
    let text = GOOD.replace(
        "  arch: resnet20_cifar\n",
        "  arch: resnet20_cifar\n  init_from: backbone.safetensors\n",
    ) + "prune:\n  method: random\n  from: results/x\n";
    let err = parse(&text).unwrap_err().to_string();
    assert!(
        err.contains("bad.yaml") && err.contains("model.init_from") && err.contains("prune.from"),
        "{err}"
    );
}
