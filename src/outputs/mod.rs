//! Standard outputs derived from the log and the projections, each pure: the AI disclosure of an
//! asset (IPTC digital source type, what people did, a statement).

pub mod disclosure;
