//! The IPTC digital source type of an asset, derived from the event that made it and the types
//! of that event's inputs — the derivation table of `docs/compliance.md`, one arm of
//! [`made_by`] or [`composed`] per row, named by its [`Derivation`]. The rules refuse a declared
//! type that contradicts it; the disclosure and the Content Credentials report it.

use crate::domain::event::{AssetOrigin, Body, PerformedBy};
use serde::{Deserialize, Serialize};

/// The IPTC vocabulary's prefix; a term is appended to it.
pub const IPTC_PREFIX: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/";

/// The current IPTC digital source types: the ledger derives all but four
/// (`computationalCapture`, `dataDrivenMedia`, `algorithmicMedia`, `virtualRecording`, which a
/// signer may declare and the derivation then contradicts); the retired `minorHumanEdits`,
/// `softwareImage` and `digitalArt` are neither produced nor taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SourceType {
    DigitalCapture,
    NegativeFilm,
    PositiveFilm,
    Print,
    ScreenCapture,
    HumanEdits,
    AlgorithmicallyEnhanced,
    DigitalCreation,
    TrainedAlgorithmicMedia,
    CompositeCapture,
    Composite,
    CompositeSynthetic,
    CompositeWithTrainedAlgorithmicMedia,
    ComputationalCapture,
    DataDrivenMedia,
    AlgorithmicMedia,
    VirtualRecording,
}

/// Every current term, for parsing.
pub(crate) const ALL: [SourceType; 17] = {
    use SourceType::*;
    [
        DigitalCapture,
        NegativeFilm,
        PositiveFilm,
        Print,
        ScreenCapture,
        HumanEdits,
        AlgorithmicallyEnhanced,
        DigitalCreation,
        TrainedAlgorithmicMedia,
        CompositeCapture,
        Composite,
        CompositeSynthetic,
        CompositeWithTrainedAlgorithmicMedia,
        ComputationalCapture,
        DataDrivenMedia,
        AlgorithmicMedia,
        VirtualRecording,
    ]
};

/// The terms IPTC retired: never produced, never taken.
const RETIRED: [&str; 3] = ["minorHumanEdits", "softwareImage", "digitalArt"];

impl SourceType {
    /// Its place among the current terms (how a sealed state keeps it).
    pub fn index(self) -> u8 {
        ALL.iter().position(|t| *t == self).expect("every term is listed") as u8
    }

    /// The term at a place among the current terms.
    pub fn from_index(index: u8) -> Option<SourceType> {
        ALL.get(usize::from(index)).copied()
    }

    /// The IPTC term.
    pub fn term(self) -> &'static str {
        use SourceType::*;
        match self {
            DigitalCapture => "digitalCapture",
            NegativeFilm => "negativeFilm",
            PositiveFilm => "positiveFilm",
            Print => "print",
            ScreenCapture => "screenCapture",
            HumanEdits => "humanEdits",
            AlgorithmicallyEnhanced => "algorithmicallyEnhanced",
            DigitalCreation => "digitalCreation",
            TrainedAlgorithmicMedia => "trainedAlgorithmicMedia",
            CompositeCapture => "compositeCapture",
            Composite => "composite",
            CompositeSynthetic => "compositeSynthetic",
            CompositeWithTrainedAlgorithmicMedia => "compositeWithTrainedAlgorithmicMedia",
            ComputationalCapture => "computationalCapture",
            DataDrivenMedia => "dataDrivenMedia",
            AlgorithmicMedia => "algorithmicMedia",
            VirtualRecording => "virtualRecording",
        }
    }

    /// A term's full URI, as IPTC and C2PA write it, read back.
    pub fn from_uri(uri: &str) -> Result<SourceType, String> {
        let Some(term) = uri.strip_prefix(IPTC_PREFIX) else {
            return Err(format!("is not an IPTC digital source type (`{IPTC_PREFIX}<term>`)"));
        };
        if RETIRED.contains(&term) {
            return Err(format!("names `{term}`, a term IPTC retired"));
        }
        ALL.into_iter()
            .find(|t| t.term() == term)
            .ok_or_else(|| format!("names `{term}`, which is not an IPTC digital source type"))
    }

    /// The term's full URI.
    pub fn uri(self) -> String {
        format!("{IPTC_PREFIX}{}", self.term())
    }

    /// Whether a generative model made some of its pixels.
    pub fn is_synthetic(self) -> bool {
        use SourceType::*;
        matches!(self, TrainedAlgorithmicMedia | CompositeSynthetic | CompositeWithTrainedAlgorithmicMedia)
    }

    /// Whether its pixels are a capture of the real world, edited or enhanced at most.
    pub fn is_capture(self) -> bool {
        use SourceType::*;
        matches!(
            self,
            DigitalCapture
                | ComputationalCapture
                | NegativeFilm
                | PositiveFilm
                | Print
                | ScreenCapture
                | HumanEdits
                | AlgorithmicallyEnhanced
                | CompositeCapture
        )
    }

    /// What it says, in a sentence a reader of the statement understands.
    pub fn says(self) -> &'static str {
        use SourceType::*;
        match self {
            DigitalCapture => "A capture of the real world",
            NegativeFilm => "A scan of a negative film",
            PositiveFilm => "A scan of a slide",
            Print => "A scan of a print",
            ScreenCapture => "A capture of a screen",
            HumanEdits => "A capture edited by people with non-generative tools",
            AlgorithmicallyEnhanced => "A capture enhanced by software that generates no content",
            DigitalCreation => "Made by people with software, without generative AI",
            TrainedAlgorithmicMedia => "Generated by AI",
            CompositeCapture => "A composite of captures of the real world",
            Composite => "A composite of captures and human-made images",
            CompositeSynthetic => "A composite that includes AI-generated elements",
            CompositeWithTrainedAlgorithmicMedia => "A capture or human-made image altered by generative AI",
            ComputationalCapture => "A capture processed by the camera's software",
            DataDrivenMedia => "Made by software from data",
            AlgorithmicMedia => "Made by an algorithm without training data",
            VirtualRecording => "A recording of a virtual scene",
        }
    }
}

/// Which row of the derivation table gave an asset its type (`docs/compliance.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Derivation {
    ImportedCapture,
    ImportedCreation,
    ImportedScan,
    ImportedScreenCapture,
    GeneratedFromNothing,
    GeneratedFromSynthetic,
    GeneratedFromNonSynthetic,
    GenerativeEditOfSynthetic,
    GenerativeEditOfNonSynthetic,
    GenerativeComposite,
    EditOfSynthetic,
    EditOfCreation,
    EditOfComposite,
    EnhancementOfCapture,
    HumanEditOfCapture,
    CompositeWithSynthetic,
    CompositeOfCaptures,
    CompositeOfCapturesAndCreations,
    Delivered,
    Unknown,
}

/// The assets an asset's making event took as inputs.
pub fn inputs_of(body: &Body) -> Vec<&str> {
    match body {
        Body::GenerationRecorded(b) => b.input_assets.iter().map(|a| a.as_str()).collect(),
        Body::PostEditApplied(b) => b.inputs.iter().map(|a| a.as_str()).collect(),
        Body::DeliveryRecorded(b) => vec![b.master_asset.as_str()],
        _ => vec![],
    }
}

/// The derivation table: the type of an asset made by `body` from inputs of `inputs` types.
pub fn made_by(body: &Body, inputs: &[SourceType]) -> (SourceType, Derivation) {
    use Derivation as D;
    use SourceType as T;
    let base = inputs.first().copied();
    match body {
        Body::AssetImported(b) => imported(b.origin),
        Body::GenerationRecorded(_) if inputs.is_empty() => (T::TrainedAlgorithmicMedia, D::GeneratedFromNothing),
        Body::GenerationRecorded(_) if inputs.iter().all(|t| t.is_synthetic()) => {
            (T::TrainedAlgorithmicMedia, D::GeneratedFromSynthetic)
        }
        Body::GenerationRecorded(_) => (T::CompositeWithTrainedAlgorithmicMedia, D::GeneratedFromNonSynthetic),
        Body::PostEditApplied(b) if b.is_generative() => match base {
            _ if inputs.len() > 1 => (T::CompositeSynthetic, D::GenerativeComposite),
            Some(t) if t == T::TrainedAlgorithmicMedia => (t, D::GenerativeEditOfSynthetic),
            _ => (T::CompositeWithTrainedAlgorithmicMedia, D::GenerativeEditOfNonSynthetic),
        },
        Body::PostEditApplied(_) if inputs.len() > 1 => composed(inputs),
        Body::PostEditApplied(b) => match base {
            Some(t) if t.is_synthetic() => (t, D::EditOfSynthetic),
            Some(T::DigitalCreation) | None => (T::DigitalCreation, D::EditOfCreation),
            Some(t @ (T::Composite | T::CompositeCapture)) => (t, D::EditOfComposite),
            // A capture, edited by people or enhanced by software: the latest edit says which.
            Some(_) if b.performed_by == PerformedBy::Ai => (T::AlgorithmicallyEnhanced, D::EnhancementOfCapture),
            Some(_) => (T::HumanEdits, D::HumanEditOfCapture),
        },
        Body::DeliveryRecorded(_) => (base.unwrap_or(T::DigitalCreation), D::Delivered),
        _ => (T::DigitalCreation, D::Unknown),
    }
}

/// An imported asset's type, by its origin.
fn imported(origin: AssetOrigin) -> (SourceType, Derivation) {
    use AssetOrigin as O;
    use Derivation as D;
    use SourceType as T;
    match origin {
        O::Photograph | O::Packshot | O::StockPhotograph => (T::DigitalCapture, D::ImportedCapture),
        O::CgRender | O::Illustration => (T::DigitalCreation, D::ImportedCreation),
        O::ScanOfPrint => (T::Print, D::ImportedScan),
        O::ScanOfNegative => (T::NegativeFilm, D::ImportedScan),
        O::ScanOfSlide => (T::PositiveFilm, D::ImportedScan),
        O::ScreenCapture => (T::ScreenCapture, D::ImportedScreenCapture),
    }
}

/// A composite made without a generative model, by what it is made of.
fn composed(inputs: &[SourceType]) -> (SourceType, Derivation) {
    if inputs.iter().any(|t| t.is_synthetic()) {
        (SourceType::CompositeSynthetic, Derivation::CompositeWithSynthetic)
    } else if inputs.iter().all(|t| t.is_capture()) {
        (SourceType::CompositeCapture, Derivation::CompositeOfCaptures)
    } else {
        (SourceType::Composite, Derivation::CompositeOfCapturesAndCreations)
    }
}

/// A source type a signer declares for an asset it records (`digital_source_type` of an asset
/// output): the full URI of a current IPTC term. The rules refuse one the derivation
/// contradicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeclaredSourceType(pub SourceType);

impl TryFrom<String> for DeclaredSourceType {
    type Error = String;
    fn try_from(uri: String) -> Result<Self, String> {
        SourceType::from_uri(&uri).map(DeclaredSourceType)
    }
}

impl From<DeclaredSourceType> for String {
    fn from(declared: DeclaredSourceType) -> String {
        declared.0.uri()
    }
}

impl schemars::JsonSchema for DeclaredSourceType {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DigitalSourceType".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "the full URI of a current IPTC digital source type",
            "pattern": "^http://cv\\.iptc\\.org/newscodes/digitalsourcetype/[A-Za-z]+$"
        })
    }
}
