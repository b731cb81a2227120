//! Image files to 8-bit RGB, pixel for pixel as PyTorch's loaders read them.
//!
//! JPEGs are decoded by libjpeg-turbo, the decoder Pillow and `torchvision.io` use, with
//! their defaults (accurate integer IDCT, smooth chroma upsampling), so the pixels equal
//! a Pillow decode exactly (tested on the committed CIFAR-10 subset against Pillow).
//! Other formats (PNG, BMP) and CMYK/YCCK JPEGs, which libjpeg-turbo cannot turn into
//! RGB itself, go through the `image` crate.
use std::path::Path;

use image::RgbImage;
use turbojpeg::{Colorspace, Decompressor, Image, PixelFormat};

use crate::DatasetError;

/// Names the decoders; part of the decoded-image cache's key, so pixels cached by
/// another decoder are never reused.
pub const DECODER_ID: &str = "libjpeg-turbo-3.1.0-islow-fancy/image-0.25";

fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xD8, 0xFF])
}

/// Decodes `bytes` (the content of `path`, which names it in errors) as 8-bit RGB;
/// grayscale images are replicated into the three channels, as Pillow's
/// `convert("RGB")` does. The format is taken from the content, not the file name
/// (ImageNet holds a PNG named `.JPEG`).
pub fn decode_rgb_bytes(bytes: &[u8], path: &Path) -> Result<RgbImage, DatasetError> {
    let err = |reason: String| DatasetError::Decode {
        path: path.to_path_buf(),
        reason,
    };
    if is_jpeg(bytes) {
        let mut d = Decompressor::new().map_err(|e| err(e.to_string()))?;
        let header = d.read_header(bytes).map_err(|e| err(e.to_string()))?;
        if !matches!(header.colorspace, Colorspace::CMYK | Colorspace::YCCK) {
            let (w, h) = (header.width, header.height);
            let mut pixels = vec![0u8; 3 * w * h];
            let out = Image {
                pixels: pixels.as_mut_slice(),
                width: w,
                pitch: 3 * w,
                height: h,
                format: PixelFormat::RGB,
            };
            d.decompress(bytes, out).map_err(|e| err(e.to_string()))?;
            return RgbImage::from_raw(w as u32, h as u32, pixels)
                .ok_or_else(|| err(format!("{w}x{h} image does not fit its pixel buffer")));
        }
    }
    let img = image::load_from_memory(bytes).map_err(|e| err(e.to_string()))?;
    Ok(img.to_rgb8())
}

/// Reads and decodes the image file at `path` (see [`decode_rgb_bytes`]).
pub fn decode_rgb(path: &Path) -> Result<RgbImage, DatasetError> {
    let bytes = std::fs::read(path).map_err(DatasetError::io(path))?;
    decode_rgb_bytes(&bytes, path)
}
