//! The compliance reads of an asset with a wide ancestry: its C2PA manifest, disclosure,
//! PROV-JSON and provenance, timed one request at a time (`lineage bench --ancestry-generations`).
//!
//! The asset is a composite of composites of generated images: each generation has its own
//! prompt citing three references of its own (`--ancestry-references`) and makes four outputs, a selection keeps them,
//! and composites of 250 outputs are composited once more — the widest ancestry the lineage
//! limit of 4,096 links lets one asset have (1,010 generations), ten ancestors a generation.

use super::workloads::Bench;
use super::*;
use serde_json::Value;

/// Outputs of each composite: within the 256 names an entry may hold.
const FAN_IN: usize = 250;

impl Bench<'_> {
    /// Records the project, then times the reads of its final composite.
    pub fn ancestry(&mut self) -> Result<(), String> {
        let generations = self.options.ancestry_generations;
        let s = setup(&self.client, &self.admin, &format!("{}-anc", self.run_id), 1)?;
        let project = s.projects[0].clone();
        let i = &s.integration;
        // An AI artist adds references, writes prompts and selects: an integration may not.
        let artist = Signer::new(
            KeyFile::generate(&format!("bench-artist-{}", self.run_id), &format!("bench-artist-{}-k1", self.run_id)),
            &self.admin.ledger,
        );
        let organization = project.split(':').next().unwrap_or_default().to_owned();
        let crew = vec![
            self.admin.envelope(
                "system",
                "actor_registered",
                json!({"actor_id": artist.key.actor, "display_name": "bench artist",
                "role": "ai_artist", "organization": organization,
                "keys": [{"key_id": artist.key.key_id, "public_key": artist.key.public_key_base64()}]}),
            ),
            self.admin.envelope(&project, "member_added", json!({"actor_id": artist.key.actor, "role": "ai_artist"})),
        ];
        let answer = self.client.append_batch(&crew).map_err(|e| e.to_string())?;
        if !answer.ok() {
            return Err(format!("adding the artist: {} {}", answer.status, answer.body));
        }
        let a = &artist;
        let mut envelopes: Vec<Vec<u8>> = Vec::new();
        let mut outputs: Vec<String> = Vec::new();
        let references = usize::from(self.options.ancestry_references);
        for g in 0..generations {
            for r in 0..references {
                envelopes.push(a.envelope(&project, "reference_added", json!({"reference_id": format!("ref-{g}-{r}"),
                    "category": "visual", "title": "t", "source": "s", "rights": {"status": "owned", "reproduction": "allowed"}})));
            }
            envelopes.push(a.envelope(
                &project,
                "prompt_authored",
                json!({"prompt_id": format!("pr-{g}"), "text": "a product shot",
                "references": (0..references).map(|r| format!("ref-{g}-{r}")).collect::<Vec<_>>()}),
            ));
            let made: Vec<String> = (0..4).map(|o| format!("out-{g}-{o}")).collect();
            let assets: Vec<Value> = made.iter().map(|a| json!({"asset_id": a, "digest": crate::cli::client::digest_of(a.as_bytes()), "media_type": "image/png"})).collect();
            envelopes.push(i.envelope(
                &project,
                "generation_recorded",
                json!({"generation_id": format!("gen-{g}"), "model_version": "mv",
                "prompt": format!("pr-{g}"), "outputs": assets}),
            ));
            envelopes.push(a.envelope(
                &project,
                "selection_made",
                json!({"selection_id": format!("sel-{g}"), "round": 1, "selected": made, "rationale": "kept"}),
            ));
            outputs.extend(made);
        }
        let mut composites = Vec::new();
        for (c, inputs) in outputs.chunks(FAN_IN).enumerate() {
            composites.push(format!("comp-{c}"));
            envelopes.push(composite(i, &project, &format!("comp-{c}"), inputs));
        }
        envelopes.push(composite(i, &project, "root", &composites));
        for chunk in envelopes.chunks(200) {
            let answer = self.client.append_batch(chunk).map_err(|e| e.to_string())?;
            if !answer.ok() {
                return Err(format!("recording the ancestry: {} {}", answer.status, answer.body));
            }
        }
        let base = format!("/v1/projects/{project}/assets/root");
        let whole = self.client.get(&format!("{base}/provenance?depth=100000")).map_err(|e| e.to_string())?;
        let ancestors = whole.body["graph"]["nodes"].as_array().map_or(0, |n| n.len().saturating_sub(1));
        eprintln!("an asset with {ancestors} ancestors ({generations} generations, {} entries)", envelopes.len());
        let reads = [
            ("C2PA manifest", "c2pa"),
            ("disclosure", "disclosure"),
            ("PROV-JSON", "prov"),
            ("provenance", "provenance?depth=100000"),
        ];
        for (read, path) in reads {
            let size = self.client.get(&format!("{base}/{path}")).map_err(|e| e.to_string())?.text.len();
            eprintln!("{read}: {size} bytes");
            let requests = (0..5).map(|_| (format!("{base}/{path}"), None, 1)).collect();
            self.record(&format!("read, {read} of {ancestors} ancestors"), 1, requests)?;
        }
        Ok(())
    }
}

/// A non-generative composite of `inputs` into `output`.
fn composite(signer: &Signer, project: &str, output: &str, inputs: &[String]) -> Vec<u8> {
    signer.envelope(project, "post_edit_applied", json!({"edit_id": format!("ed-{output}"), "technique": "compositing", "tool": "t",
        "performed_by": "ai", "generative": false, "inputs": inputs,
        "output": {"asset_id": output, "digest": crate::cli::client::digest_of(output.as_bytes()), "media_type": "image/png"}}))
}
