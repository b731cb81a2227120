//! Physical channel removal on ResNet-20, in a few lines: mask half of every block's
//! inner channels by filter L1 norm, check that the masked network and the rebuilt
//! smaller network compute the same function, and compare sizes and forward time.
//!
//! ```text
//! cargo run --release -p pruner --example physical_removal
//! ```
use std::time::Instant;

use models::{ModelConfig, ResNetCifarConfig, Shortcut};
use pruner::{apply_masks_as_gates, l1_norm_masks, remove_channels, PruneError};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

/// Median wall time (ms) of `repeats` forward passes after two warm-up passes.
fn median_forward_ms(net: &dyn models::Network, x: &Tensor, repeats: usize) -> f64 {
    let mut times: Vec<f64> = (0..repeats + 2)
        .map(|_| {
            let t = Instant::now();
            let _ = tch::no_grad(|| net.forward_t(x, false)).size();
            t.elapsed().as_secs_f64() * 1e3
        })
        .skip(2)
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() -> Result<(), PruneError> {
    tch::manual_seed(0);
    let cfg = ModelConfig::ResnetCifar(ResNetCifarConfig::resnet(20, Shortcut::A));
    let vs = VarStore::new(Device::Cpu);
    let net = cfg.build(&vs.root())?;

    // Target: half of each block's inner channels, the filters of largest L1 norm kept.
    let mut target = cfg.clone();
    for layer in cfg.prunable_layers() {
        target = target.with_width(&layer.name, layer.channels / 2)?;
    }
    let masks = l1_norm_masks(&cfg, &vs, &target)?;

    // The masked network (gates zero the removed channels) and the smaller network.
    let x = Tensor::randn([128, 3, 32, 32], (Kind::Float, Device::Cpu));
    apply_masks_as_gates(net.as_ref(), &masks, Device::Cpu);
    let masked = tch::no_grad(|| net.forward_t(&x, false));
    let pruned = remove_channels(&cfg, &vs, &masks)?;
    let small = tch::no_grad(|| pruned.net.forward_t(&x, false));
    let diff = (&masked - &small).abs().max().double_value(&[]);

    let (before, after) = (cfg.cost((32, 32)), pruned.config.cost((32, 32)));
    println!(
        "params {} -> {}, MACs {} -> {} ({:.1}% removed)",
        before.params(),
        after.params(),
        before.macs(),
        after.macs(),
        100.0 * (1.0 - after.macs() as f64 / before.macs() as f64)
    );
    println!("max |masked - pruned| over 128 images: {diff:.2e}");
    println!(
        "forward, batch 128: masked {:.1} ms, pruned {:.1} ms",
        median_forward_ms(net.as_ref(), &x, 10),
        median_forward_ms(pruned.net.as_ref(), &x, 10)
    );
    Ok(())
}
