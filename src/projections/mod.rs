//! Read models folded from the entries. Pure: they take decoded entries and return answers.

pub mod lineage;
