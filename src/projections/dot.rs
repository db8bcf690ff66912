//! A provenance subgraph as Graphviz DOT (`…/provenance?format=dot`, `lineage provenance --dot`).

use super::graph::Subgraph;

impl Subgraph {
    /// Graphviz DOT.
    pub fn to_dot(&self) -> String {
        let escape = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        let mut out =
            String::from("digraph provenance {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n");
        for n in &self.nodes {
            let style = if n.retracted { ", style=dashed" } else { "" };
            out.push_str(&format!(
                "  \"{}\" [label=\"{}\\n{}\"{style}];\n",
                escape(&n.key),
                n.kind.as_str(),
                escape(&n.id)
            ));
        }
        for e in &self.edges {
            out.push_str(&format!(
                "  \"{}\" -> \"{}\" [label=\"{}\"];\n",
                escape(&e.from),
                escape(&e.to),
                e.kind.as_str()
            ));
        }
        out.push_str("}\n");
        out
    }
}
