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
        let (train, val) = crate::split::balanced_split(&self.labels, n_val, seed)?;
        Ok((self.subset(&train), self.subset(&val)))
    }
}
