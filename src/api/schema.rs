//! JSON Schemas (draft 2020-12) of every event payload and of the envelope, generated from the
//! types that parse them and committed under `schema/`.

use crate::crypto::dsse::Envelope;
use crate::domain::event::Kind;
use crate::domain::payload::Header;
use schemars::generate::SchemaSettings;
use serde_json::{json, Value};

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("schemas serialize");
    text.push('\n');
    text
}

/// The schema of one kind's payload.
pub fn payload_schema(kind: Kind) -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let mut root = generator.root_schema_for::<Header<Value>>().to_value();
    let body = kind.body_schema(&mut generator).to_value();
    let defs: serde_json::Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    let name = kind.as_str();
    let version = kind.current_version();
    root["$id"] = json!(format!("urn:lineage:schema:payload:{name}:{version}"));
    root["title"] = json!(format!("{name} payload"));
    root["description"] = json!(format!(
        "The signed payload of a `{name}` event (schema_version {version}). Unknown fields are refused."
    ));
    let properties = &mut root["properties"];
    properties["kind"] = json!({"const": name});
    properties["schema_version"] = json!({"const": version});
    properties["body"] = body;
    if kind.is_system() {
        properties["project"] = json!({"const": "system"});
    }
    if !defs.is_empty() {
        let existing = root.get("$defs").and_then(Value::as_object).cloned().unwrap_or_default();
        let mut all = existing;
        all.extend(defs);
        root["$defs"] = Value::Object(all);
    }
    root
}

pub fn envelope_schema() -> Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let mut root = generator.into_root_schema_for::<Envelope>().to_value();
    root["$id"] = json!("urn:lineage:schema:envelope:1");
    root["title"] = json!("DSSE envelope");
    root
}

/// Every generated file: its path under `schema/` and its contents.
pub fn files() -> Vec<(String, String)> {
    let mut out = vec![("envelope.schema.json".to_owned(), pretty(&envelope_schema()))];
    for kind in Kind::ALL {
        out.push((format!("payload/{}.schema.json", kind.as_str()), pretty(&payload_schema(*kind))));
    }
    out
}
