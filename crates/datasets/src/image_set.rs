use crate::DatasetError;

/// A set of equally sized 8-bit images with class labels, held in memory.
///
/// Pixels are stored image after image, each as `channels` planes of `height x width`
/// bytes (the CHW order of the CIFAR binary release and of PyTorch tensors).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSet {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub pixels: Vec<u8>,
    pub labels: Vec<u8>,
}

impl ImageSet {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Bytes of one image.
    pub fn image_bytes(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// The CHW bytes of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.image_bytes();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// A new set holding the images at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> ImageSet {
        let mut pixels = Vec::with_capacity(indices.len() * self.image_bytes());
        for &i in indices {
            pixels.extend_from_slice(self.image(i));
        }
        ImageSet {
            pixels,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            ..*self
        }
    }

    /// Splits off a validation set of `n_val` images, the same number from every class
    /// (as far as the classes allow), chosen by a seeded shuffle. Returns `(train, val)`;
    /// the same seed always gives the same split.
    pub fn split_validation(
        &self,
        n_val: usize,
        seed: u64,
    ) -> Result<(ImageSet, ImageSet), DatasetError> {
        if n_val >= self.len() {
            return Err(DatasetError::Invalid(format!(
                "validation split of {n_val} images leaves nothing to train on ({} images)",
                self.len()
            )));
        }
        let n_classes = self
            .labels
            .iter()
            .copied()
            .max()
            .map_or(0, |m| m as usize + 1);
        let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
        for (i, &l) in self.labels.iter().enumerate() {
            by_class[l as usize].push(i);
        }
        let mut rng = crate::batches::seeded_rng(seed, 0x5EED_5911);
        for idx in &mut by_class {
            rand::seq::SliceRandom::shuffle(idx.as_mut_slice(), &mut rng);
        }
        // Round-robin over classes so every class gives (almost) the same share.
        let mut val = Vec::with_capacity(n_val);
        let mut depth = 0;
        while val.len() < n_val {
            for idx in &by_class {
                if val.len() < n_val && depth < idx.len() {
                    val.push(idx[depth]);
                }
            }
            depth += 1;
        }
        let mut is_val = vec![false; self.len()];
        val.iter().for_each(|&i| is_val[i] = true);
        val.sort_unstable();
        let train: Vec<usize> = (0..self.len()).filter(|&i| !is_val[i]).collect();
        Ok((self.subset(&train), self.subset(&val)))
    }
}
