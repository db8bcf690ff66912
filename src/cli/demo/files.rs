//! Every file the demo records, made before anything is recorded: the images of
//! [`super::images`] encoded as their media type says, and the model weights as small stand-in
//! files. `lineage demo --files DIR` writes them out.

use super::images::Image;
use crate::cli::client::digest_of;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// A file the demo records.
pub struct DemoFile {
    pub bytes: Vec<u8>,
    pub media_type: &'static str,
    /// Width and height, for images.
    pub size: Option<(u32, u32)>,
}

impl DemoFile {
    fn image(image: &Image, media_type: &'static str) -> DemoFile {
        let bytes = match media_type {
            "image/jpeg" => image.jpeg(),
            "image/tiff" => image.tiff(),
            _ => image.png(),
        };
        DemoFile { bytes, media_type, size: Some((image.width, image.height)) }
    }

    /// The file's name extension.
    fn extension(&self) -> &'static str {
        match self.media_type {
            "image/jpeg" => "jpg",
            "image/tiff" => "tif",
            "image/png" => "png",
            _ => "bin",
        }
    }
}

/// A delivered variant of the demo.
pub struct Delivery {
    pub id: &'static str,
    pub variant: &'static str,
    pub format: &'static str,
    pub channel: &'static str,
    pub medium: &'static str,
    pub width: u32,
    pub height: u32,
    pub locale: &'static str,
}

const fn delivery(
    (id, variant, format, channel): (&'static str, &'static str, &'static str, &'static str),
    medium: &'static str,
    (width, height): (u32, u32),
    locale: &'static str,
) -> Delivery {
    Delivery { id, variant, format, channel, medium, width, height, locale }
}

/// The delivered variants.
pub const DELIVERIES: [Delivery; 3] = [
    delivery(("dl-instagram", "hero-ig-4x5", "jpeg", "instagram"), "digital", (432, 540), "en-GB"),
    delivery(("dl-magazine", "hero-print-a4", "tiff", "magazine"), "print", (496, 702), "en-GB"),
    delivery(("dl-billboard", "hero-billboard", "jpeg", "billboard"), "large_format", (1024, 512), "de-DE"),
];

/// The demo's generations' seed: the generation's number, and the image it drew.
pub fn seed(generation: u32) -> u64 {
    1000 + u64::from(generation) * 7
}

/// The files of one demo project, by name (an asset id, or a model's weights).
pub struct DemoFiles {
    files: BTreeMap<String, DemoFile>,
}

impl DemoFiles {
    /// Makes every file of project `project`: images follow the events that make them; the
    /// project's name is mixed into the seeds, so two demo projects hold different bytes.
    pub fn make(project: &str) -> DemoFiles {
        use sha2::Digest as _;
        let hash = sha2::Sha256::digest(project.as_bytes());
        let salt = u64::from_be_bytes(hash[..8].try_into().unwrap_or([0; 8]));
        let mut files = BTreeMap::new();
        let mut add = |name: &str, file: DemoFile| {
            files.insert(name.to_owned(), file);
        };
        let generations: Vec<Image> = (1..=22).map(|i| Image::generated(seed(i) ^ salt, 256, 320)).collect();
        for (i, image) in generations.iter().enumerate() {
            add(&format!("img-{:02}", i + 1), DemoFile::image(image, "image/png"));
        }
        add("moodboard", DemoFile::image(&Image::moodboard(320, 200), "image/jpeg"));
        let retouched = generations[11].retouched();
        let packshot = Image::packshot(400, 300);
        let comp = Image::composite(&retouched, &generations[14], &packshot);
        let master = comp.resized(512, 640);
        let master_v2 = master.cleaned();
        add("hero-retouched", DemoFile::image(&retouched, "image/png"));
        add("shoe-packshot", DemoFile::image(&packshot, "image/jpeg"));
        add("hero-comp", DemoFile::image(&comp, "image/png"));
        add("hero-master", DemoFile::image(&master, "image/png"));
        add("hero-master-v2", DemoFile::image(&master_v2, "image/png"));
        for d in DELIVERIES {
            let media_type = if d.format == "tiff" { "image/tiff" } else { "image/jpeg" };
            add(d.variant, DemoFile::image(&master_v2.resized(d.width, d.height), media_type));
        }
        for weights in ["sdxl-weights", "aurora-lora-3"] {
            let bytes = format!("demo stand-in for the weights {weights} of project {project}\n").into_bytes();
            add(weights, DemoFile { bytes, media_type: "application/octet-stream", size: None });
        }
        DemoFiles { files }
    }

    fn get(&self, name: &str) -> &DemoFile {
        // The names are the demo's own, all made above.
        &self.files[name]
    }

    /// The `sha256:` digest of a file.
    pub fn digest(&self, name: &str) -> String {
        digest_of(&self.get(name).bytes)
    }

    /// The `asset_output` of an asset: its id, digest, media type and size.
    pub fn output(&self, asset: &str) -> Value {
        let file = self.get(asset);
        let mut output = json!({"asset_id": asset, "digest": self.digest(asset), "media_type": file.media_type});
        if let Some((width, height)) = file.size {
            output["width"] = json!(width);
            output["height"] = json!(height);
        }
        output
    }

    /// No files yet: a project of the demo adds its own.
    pub fn empty() -> DemoFiles {
        DemoFiles { files: BTreeMap::new() }
    }

    /// Adds an image, encoded as `media_type` says.
    pub fn add_image(&mut self, name: &str, image: &Image, media_type: &'static str) {
        self.files.insert(name.to_owned(), DemoFile::image(image, media_type));
    }

    /// Writes every file to `dir` as `NAME.EXT`; returns how many.
    pub fn write(&self, dir: &Path) -> std::io::Result<usize> {
        std::fs::create_dir_all(dir)?;
        for (name, file) in &self.files {
            std::fs::write(dir.join(format!("{name}.{}", file.extension())), &file.bytes)?;
        }
        Ok(self.files.len())
    }
}
