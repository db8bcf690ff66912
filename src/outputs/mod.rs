//! Standard outputs derived from the log and the projections: the AI disclosure of an asset (IPTC
//! digital source type, what people did, a statement), its ancestry as W3C PROV-JSON, its C2PA
//! manifest (pure), signed into a file with the C2PA SDK (`signing`, the one part that is not),
//! and the compliance verdict of a delivered asset, weighed from facts the caller gathers.

pub mod credentials;
pub mod disclosure;
pub mod prov;
pub mod signing;
pub mod verdict;
