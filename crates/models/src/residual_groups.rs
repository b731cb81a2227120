//! Stage-coupled channel groups of residual networks: the channels of a stage's
//! residual stream, joined by the residual adds, can only be removed together — from the
//! stem (first stage), every block's second conv and projection, and as inputs of every
//! block and projection reading the stream (and of `fc` for the last stage).
use crate::config::ChannelAxis;
use crate::PrunableLayer;

/// One basic block: (name, stage, input width, stride).
pub(crate) type BlockSpec = (String, usize, i64, i64);

fn bn_axes(bn: &str) -> impl Iterator<Item = ChannelAxis> + '_ {
    ["weight", "bias", "running_mean", "running_var"]
        .into_iter()
        .map(move |t| ChannelAxis::new(format!("{bn}.{t}"), 0))
}

/// The stage groups, named `layer1`, `layer2`, ...; `proj` names the projection
/// shortcut module (`shortcut`, `downsample`) or is `None` for zero-padding shortcuts.
pub(crate) fn stage_groups(
    blocks: &[BlockSpec],
    stages: &[i64],
    proj: Option<&str>,
) -> Vec<PrunableLayer> {
    let last = stages.len() - 1;
    (0..stages.len())
        .map(|t| {
            let mut producers = Vec::new();
            let mut consumers = Vec::new();
            if t == 0 {
                producers.push(ChannelAxis::new("conv1.weight".into(), 0));
                producers.extend(bn_axes("bn1"));
            }
            let mut prev_stage = 0;
            for (i, (name, s, cin, stride)) in blocks.iter().enumerate() {
                let input_stream = if i == 0 { 0 } else { prev_stage };
                prev_stage = *s;
                let has_proj = *stride != 1 || *cin != stages[*s];
                if *s == t {
                    producers.push(ChannelAxis::new(format!("{name}.conv2.weight"), 0));
                    producers.extend(bn_axes(&format!("{name}.bn2")));
                    if let (true, Some(p)) = (has_proj, proj) {
                        producers.push(ChannelAxis::new(format!("{name}.{p}.0.weight"), 0));
                        producers.extend(bn_axes(&format!("{name}.{p}.1")));
                    }
                }
                if input_stream == t {
                    consumers.push(ChannelAxis::new(format!("{name}.conv1.weight"), 1));
                    if let (true, Some(p)) = (has_proj, proj) {
                        consumers.push(ChannelAxis::new(format!("{name}.{p}.0.weight"), 1));
                    }
                }
            }
            if t == last {
                consumers.push(ChannelAxis::new("fc.weight".into(), 1));
            }
            PrunableLayer {
                name: format!("layer{}", t + 1),
                channels: stages[t],
                producers,
                consumers,
            }
        })
        .collect()
}

/// The inner layer of each basic block (conv1's output, read only by conv2 of the same
/// block): the channels a residual network can lose without touching its residual stream.
/// `inner[i]` is block i's current width.
pub(crate) fn inner_layers(blocks: &[BlockSpec], inner: &[i64]) -> Vec<PrunableLayer> {
    blocks
        .iter()
        .zip(inner)
        .map(|((name, ..), &width)| {
            PrunableLayer::conv(
                format!("{name}.conv1"),
                width,
                false,
                Some(format!("{name}.bn1")),
                vec![format!("{name}.conv2")],
            )
        })
        .collect()
}

/// The stage index of a group name `layer<k>`, if it is one.
pub(crate) fn group_index(name: &str, n_stages: usize) -> Option<usize> {
    let k: usize = name.strip_prefix("layer")?.parse().ok()?;
    (1..=n_stages).contains(&k).then(|| k - 1)
}
