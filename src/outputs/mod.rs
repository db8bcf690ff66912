//! Standard outputs derived from the log and the projections, each pure: the AI disclosure of an
//! asset (IPTC digital source type, what people did, a statement) and its ancestry as W3C
//! PROV-JSON.

pub mod disclosure;
pub mod prov;
