//! The payload: the JSON document a client signs, carrying one body of the catalogue. It is
//! parsed once, here, into types that cannot hold invalid values. A submission must be at its
//! kind's current schema version ([`Payload::parse`]); a stored payload is read at whatever
//! version it was written and upcast ([`Payload::read`]).

use super::event::{Body, Kind, PayloadError, ProjectCreated};
use super::ids::{ActorId, EventId, ProjectId, PublicKeyBytes};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A step that reads a stored body of one kind written at `from` as the body of version
/// `from + 1`: how entries written before a kind changed stay readable.
pub struct Upcaster {
    pub kind: Kind,
    pub from: u32,
    pub upcast: fn(&mut serde_json::Map<String, serde_json::Value>),
}

/// A version that only added optional fields: its older bodies read as they are, without them.
fn added_optional_fields(_: &mut serde_json::Map<String, serde_json::Value>) {}

/// Every change of a kind's body since version 1, oldest first. A kind's current version is 1
/// plus the number of its upcasters.
pub const UPCASTERS: &[Upcaster] = &[
    // v2 adds `client_organization`: a project created without one is a legacy project.
    Upcaster { kind: Kind::ProjectCreated, from: 1, upcast: added_optional_fields },
    // v2 adds `organization`: an actor registered without one belongs to no organisation.
    Upcaster { kind: Kind::ActorRegistered, from: 1, upcast: added_optional_fields },
    // v2 adds `license_use`.
    Upcaster { kind: Kind::ModelVersionRegistered, from: 1, upcast: added_optional_fields },
    // v2 adds `rights.reproduction`.
    Upcaster { kind: Kind::ReferenceAdded, from: 1, upcast: added_optional_fields },
    // v2 adds `proof_scale_percent`.
    Upcaster { kind: Kind::QcReviewRecorded, from: 1, upcast: added_optional_fields },
    // v2 adds `usage`.
    Upcaster { kind: Kind::DeliveryRecorded, from: 1, upcast: added_optional_fields },
    // v2 adds `generative`: an edit written before is generative when it names a model version.
    Upcaster { kind: Kind::PostEditApplied, from: 1, upcast: added_optional_fields },
];

impl Kind {
    /// The schema version a new payload of this kind must name.
    pub fn current_version(self) -> u32 {
        current_version(self, UPCASTERS)
    }
}

fn current_version(kind: Kind, upcasters: &[Upcaster]) -> u32 {
    1 + upcasters.iter().filter(|u| u.kind == kind).count() as u32
}

/// Which schema versions a reading accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Accept {
    /// A submission: only the kind's current version.
    Current,
    /// A stored entry: any version ever written, upcast to the current one.
    Written,
}

/// The signed document: who did what, when, in which stream, for which ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    pub event_id: EventId,
    pub project: ProjectId,
    pub actor: ActorId,
    pub occurred_at: DateTime<Utc>,
    pub expected_version: Option<u64>,
    /// The ledger the event was signed for (its checkpoint origin); required in a new event,
    /// absent from events stored before it was asked.
    pub ledger: Option<String>,
    pub body: Body,
}

/// The header of a payload as it arrives, before its body is read according to its kind.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Header<B> {
    pub event_id: EventId,
    pub project: ProjectId,
    pub kind: String,
    pub schema_version: u32,
    pub actor: ActorId,
    /// RFC 3339 time at which the work happened, as the client saw it: `T` and `Z` in capitals,
    /// seconds 00 to 59, a year from 1970 to 9999 (docs/signing.md).
    #[schemars(with = "DateTime<Utc>")]
    pub occurred_at: String,
    /// The name of the ledger the event is for: its checkpoint origin, the first line of
    /// `GET /v1/checkpoint`. Required in a new event, so that an event signed for one ledger is
    /// refused by every other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<String>,
    /// The project's version the client expects before this event (0 for a new project).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<u64>,
    pub body: B,
}

impl Payload {
    /// Reads the exact bytes a client signed, for a new submission: the kind's current schema
    /// version only.
    pub fn parse(bytes: &[u8]) -> Result<Payload, PayloadError> {
        Self::decode(bytes, Accept::Current, UPCASTERS)
    }

    /// Reads a stored payload, written at any schema version its kind ever had: older bodies are
    /// upcast to the current version. Replay, idempotency and every fold read this way.
    pub fn read(bytes: &[u8]) -> Result<Payload, PayloadError> {
        Self::decode(bytes, Accept::Written, UPCASTERS)
    }

    fn decode(bytes: &[u8], accept: Accept, upcasters: &[Upcaster]) -> Result<Payload, PayloadError> {
        match accept {
            // Labels read under the strict profile are checked as they are read.
            Accept::Current => super::profile::strictly(|| Self::decode_any(bytes, accept, upcasters)),
            Accept::Written => Self::decode_any(bytes, accept, upcasters),
        }
    }

    fn decode_any(bytes: &[u8], accept: Accept, upcasters: &[Upcaster]) -> Result<Payload, PayloadError> {
        let header: Header<Box<RawValue>> = match serde_json::from_slice(bytes) {
            Ok(header) => header,
            Err(_) => {
                // Parsed again, slower, to name the field at fault.
                let mut de = serde_json::Deserializer::from_slice(bytes);
                let header = serde_path_to_error::deserialize(&mut de)
                    .map_err(|e| PayloadError::field(e.path().to_string(), e.inner()))?;
                de.end().map_err(|e| PayloadError::field(String::new(), &e))?;
                header
            }
        };
        if accept == Accept::Current {
            super::profile::check_document(bytes)
                .map_err(|v| PayloadError::Field { field: v.path, message: v.message })?;
        }
        let occurred_at = match accept {
            Accept::Current => strict_time(&header.occurred_at),
            // As every stored payload was read before the strict profile: chrono's reading.
            Accept::Written => {
                header.occurred_at.parse::<DateTime<Utc>>().map_err(|e| format!("is not an RFC 3339 time: {e}"))
            }
        }
        .map_err(|message| PayloadError::Field { field: "occurred_at".into(), message })?;
        let kind = Kind::parse(&header.kind).ok_or_else(|| PayloadError::UnknownKind(header.kind.clone()))?;
        let current = current_version(kind, upcasters);
        let readable = match accept {
            Accept::Current => header.schema_version == current,
            Accept::Written => (1..=current).contains(&header.schema_version),
        };
        if !readable {
            return Err(PayloadError::SchemaVersion {
                kind: kind.as_str(),
                got: header.schema_version,
                supported: current,
            });
        }
        match (kind.is_system(), header.project.is_system()) {
            (true, false) => {
                return Err(PayloadError::SystemKindOutsideSystem {
                    kind: kind.as_str(),
                    project: header.project.to_string(),
                })
            }
            (false, true) => return Err(PayloadError::ProjectKindInSystem { kind: kind.as_str() }),
            _ => {}
        }
        let body = if header.schema_version == current {
            Body::parse(kind, &header.body)?
        } else {
            let upcast = upcast(kind, header.schema_version, &header.body, upcasters)?;
            Body::parse(kind, &upcast)?
        };
        if accept == Accept::Current {
            new_keys_are_strict(&body)?;
            new_fields_are_given(&body)?;
            amended_rules_are_exact(&body, &header.body)?;
            in_its_clients_namespace(&header.project, &body)?;
            if header.ledger.is_none() {
                return Err(PayloadError::Field {
                    field: "ledger".into(),
                    message:
                        "missing field: the name of the ledger the event is for (the first line of GET /v1/checkpoint)"
                            .into(),
                });
            }
        }
        Ok(Payload {
            event_id: header.event_id,
            project: header.project,
            actor: header.actor,
            occurred_at,
            expected_version: header.expected_version,
            ledger: header.ledger,
            body,
        })
    }

    pub fn kind(&self) -> Kind {
        self.body.kind()
    }

    /// The canonical JSON of this payload (what `lineage sign` and the demo sign).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(Header {
            event_id: self.event_id.clone(),
            project: self.project.clone(),
            kind: self.kind().as_str().to_owned(),
            schema_version: self.kind().current_version(),
            actor: self.actor.clone(),
            occurred_at: self.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            ledger: self.ledger.clone(),
            expected_version: self.expected_version,
            body: self.body.to_json(),
        })
        .expect("payloads serialize")
    }
}

/// The earliest and latest years an event may say it happened in.
pub const YEARS: std::ops::RangeInclusive<i32> = 1970..=9999;

/// `occurred_at` of a new event: RFC 3339's `date-time` (section 5.6) with `T` and `Z` in
/// capitals (or a numeric offset), seconds 00 to 59 (no leap second), at most nine digits of
/// fraction, a UTC year within [`YEARS`]. chrono alone also takes `t`, `z`, `:60` and year 0.
pub fn strict_time(s: &str) -> Result<DateTime<Utc>, String> {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| b.get(range.clone()).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let mut rest = if shape { &b[19..] } else { &[][..] };
    let mut fraction_ok = true;
    if let Some(after) = rest.strip_prefix(b".") {
        let n = after.iter().take_while(|c| c.is_ascii_digit()).count();
        fraction_ok = (1..=9).contains(&n);
        rest = &after[n..];
    }
    let zone = rest == b"Z"
        || (rest.len() == 6
            && matches!(rest[0], b'+' | b'-')
            && rest[1..3].iter().all(u8::is_ascii_digit)
            && rest[3] == b':'
            && rest[4..6].iter().all(u8::is_ascii_digit));
    if !shape || !fraction_ok || !zone {
        return Err("is not an RFC 3339 time as the ledger takes it: YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), `T` and `Z` in capitals".into());
    }
    if &s[17..19] > "59" {
        return Err("has seconds past 59: a leap second is not accepted (write :59)".into());
    }
    let time =
        DateTime::parse_from_rfc3339(s).map_err(|e| format!("is not a valid date and time: {e}"))?.with_timezone(&Utc);
    if !YEARS.contains(&chrono::Datelike::year(&time)) {
        return Err(format!(
            "is in year {}: the ledger takes years {} to {}",
            chrono::Datelike::year(&time),
            YEARS.start(),
            YEARS.end()
        ));
    }
    Ok(time)
}

/// A key a submission registers must be strict ([`PublicKeyBytes::strict`]).
fn new_keys_are_strict(body: &Body) -> Result<(), PayloadError> {
    let keys: Vec<(String, &PublicKeyBytes)> = match body {
        Body::ActorRegistered(b) => {
            b.keys.iter().enumerate().map(|(i, k)| (format!("body.keys[{i}].public_key"), &k.public_key)).collect()
        }
        Body::KeyAdded(b) => vec![("body.key.public_key".to_owned(), &b.key.public_key)],
        _ => return Ok(()),
    };
    for (field, key) in keys {
        key.strict().map_err(|why| PayloadError::Field { field, message: format!("the ed25519 public key {why}") })?;
    }
    Ok(())
}

/// A policy amendment names each rule with only the parameters it takes, and each check once:
/// serde lets a rule without parameters carry any (its variants are unit variants of an
/// internally tagged enum), which would record a parameter nothing reads.
fn amended_rules_are_exact(body: &Body, raw: &RawValue) -> Result<(), PayloadError> {
    let Body::PolicyAmended(amended) = body else { return Ok(()) };
    let given: serde_json::Value =
        serde_json::from_str(raw.get()).map_err(|e| PayloadError::field("body".into(), &e))?;
    let given = given.get("rules").and_then(|r| r.as_array()).cloned().unwrap_or_default();
    for (i, (rule, given)) in amended.rules.iter().zip(&given).enumerate() {
        let taken = serde_json::to_value(rule).expect("rules serialize");
        let taken = taken.as_object().expect("a rule is an object");
        for key in given.as_object().into_iter().flat_map(|o| o.keys()) {
            if !taken.contains_key(key) {
                return Err(PayloadError::Field {
                    field: format!("body.rules[{i}].{key}"),
                    message: format!("rule `{}` takes no parameter `{key}`", rule.name()),
                });
            }
        }
        if let super::event::RuleSpec::QcPassed { checks } = rule {
            for (j, check) in checks.iter().enumerate() {
                if checks[..j].contains(check) {
                    return Err(PayloadError::Field {
                        field: format!("body.rules[{i}].checks[{j}]"),
                        message: "the check is listed twice".into(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// A new project made for a client organisation is named in that organisation's namespace,
/// `<organisation>:<name>` (a name without `:`), so that no producer of another client can take
/// its id ahead. Projects created before (legacy ones, and those of the release that introduced
/// organisations) keep their ids.
fn in_its_clients_namespace(project: &ProjectId, body: &Body) -> Result<(), PayloadError> {
    // An organisation's id holds no `:`, so that `<organisation>:<name>` reads one way only.
    if let Body::OrganizationRegistered(b) = body {
        if b.organization_id.as_str().contains(':') {
            return Err(PayloadError::Field {
                field: "body.organization_id".into(),
                message: "an organisation's id holds no ':' (its projects are named `<organisation>:<name>`)".into(),
            });
        }
    }
    let Body::ProjectCreated(ProjectCreated { client_organization: Some(client), .. }) = body else { return Ok(()) };
    let name = project.as_str().strip_prefix(client.as_str()).and_then(|rest| rest.strip_prefix(':'));
    if name.is_some_and(|name| !name.is_empty() && !name.contains(':')) {
        return Ok(());
    }
    Err(PayloadError::Field {
        field: "project".into(),
        message: format!(
            "a project made for organisation `{client}` is named `{client}:<name>` (a name without ':'), such as `{client}:spring-2027`, so that no other client's producer can take its id"
        ),
    })
}

/// The fields a version added that a new event must give (a stored older body goes without).
fn new_fields_are_given(body: &Body) -> Result<(), PayloadError> {
    let missing = match body {
        Body::ProjectCreated(b) if b.client_organization.is_none() => Some("body.client_organization"),
        Body::ActorRegistered(b) if b.organization.is_none() => Some("body.organization"),
        Body::ModelVersionRegistered(b) if b.license_use.is_none() => Some("body.license_use"),
        Body::ReferenceAdded(b) if b.rights.reproduction.is_none() => Some("body.rights.reproduction"),
        Body::DeliveryRecorded(b) if b.usage.is_none() => Some("body.usage"),
        Body::PostEditApplied(b) if b.generative.is_none() => Some("body.generative"),
        _ => None,
    };
    if let Some(field) = missing {
        return Err(PayloadError::Field {
            field: field.to_owned(),
            message: "missing field (required since this kind's schema_version 2)".into(),
        });
    }
    match body {
        Body::AssetImported(b) if b.rights.reproduction.is_none() => Err(PayloadError::Field {
            field: "body.rights.reproduction".into(),
            message: "missing field: an imported asset says whether it may be reproduced".into(),
        }),
        _ => Ok(()),
    }
}

/// A stored body of version `from`, brought to the kind's current version by its upcasters.
fn upcast(kind: Kind, from: u32, body: &RawValue, upcasters: &[Upcaster]) -> Result<Box<RawValue>, PayloadError> {
    let mut value: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(body.get()).map_err(|e| PayloadError::field("body".into(), &e))?;
    for step in upcasters.iter().filter(|u| u.kind == kind && u.from >= from) {
        (step.upcast)(&mut value);
    }
    let text = serde_json::to_string(&value).expect("JSON maps serialize");
    Ok(RawValue::from_string(text).expect("serialized JSON is JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `note_added` as if its v1 body had called the text `note`, renamed in v2, and v2's `assets`
    /// had been added in v3 (absent before, empty).
    fn history() -> Vec<Upcaster> {
        vec![
            Upcaster {
                kind: Kind::NoteAdded,
                from: 1,
                upcast: |body| {
                    if let Some(note) = body.remove("note") {
                        body.insert("text".into(), note);
                    }
                },
            },
            Upcaster {
                kind: Kind::NoteAdded,
                from: 2,
                upcast: |body| {
                    body.entry("assets").or_insert_with(|| serde_json::json!([]));
                },
            },
        ]
    }

    fn note(version: u32, body: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({"event_id": "e1", "project": "p", "kind": "note_added",
            "schema_version": version, "actor": "a", "occurred_at": "2026-01-01T00:00:00Z", "ledger": "l", "body": body}))
        .unwrap()
    }

    #[test]
    fn a_stored_older_version_is_read_upcast_and_a_submission_must_be_current() {
        let upcasters = history();
        let current = note(3, serde_json::json!({"text": "hello", "assets": ["a"]}));
        // (case, payload, what is accepted, the text and asset count read, or the version refused)
        type Case = (&'static str, Vec<u8>, Accept, Result<(&'static str, usize), u32>);
        let cases: Vec<Case> = vec![
            ("v1 stored", note(1, serde_json::json!({"note": "hello"})), Accept::Written, Ok(("hello", 0))),
            ("v2 stored", note(2, serde_json::json!({"text": "hello"})), Accept::Written, Ok(("hello", 0))),
            ("v3 stored", current.clone(), Accept::Written, Ok(("hello", 1))),
            ("v3 submitted", current, Accept::Current, Ok(("hello", 1))),
            ("v1 submitted", note(1, serde_json::json!({"note": "hello"})), Accept::Current, Err(1)),
            ("v2 submitted", note(2, serde_json::json!({"text": "hello"})), Accept::Current, Err(2)),
            ("v4 stored", note(4, serde_json::json!({"text": "hello"})), Accept::Written, Err(4)),
            ("v0 stored", note(0, serde_json::json!({"text": "hello"})), Accept::Written, Err(0)),
        ];
        for (case, bytes, accept, expected) in cases {
            let got = Payload::decode(&bytes, accept, &upcasters);
            match (got, expected) {
                (Ok(p), Ok((text, assets))) => {
                    let Body::NoteAdded(b) = p.body else { panic!("{case}: {:?}", p.body) };
                    assert_eq!((b.text.as_str(), b.assets.len()), (text, assets), "{case}");
                }
                (Err(PayloadError::SchemaVersion { got, supported, .. }), Err(version)) => {
                    assert_eq!((got, supported), (version, 3), "{case}")
                }
                (got, expected) => panic!("{case}: {got:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn the_kinds_are_at_their_versions_and_read_the_same_either_way() {
        let at_two = [
            Kind::ProjectCreated,
            Kind::ActorRegistered,
            Kind::ModelVersionRegistered,
            Kind::ReferenceAdded,
            Kind::QcReviewRecorded,
            Kind::DeliveryRecorded,
            Kind::PostEditApplied,
        ];
        for kind in Kind::ALL {
            let expected = if at_two.contains(kind) { 2 } else { 1 };
            assert_eq!(kind.current_version(), expected, "{}", kind.as_str());
        }
        let bytes = note(1, serde_json::json!({"text": "t"}));
        assert_eq!(Payload::parse(&bytes).unwrap(), Payload::read(&bytes).unwrap());
    }

    #[test]
    fn occurred_at_of_a_new_event_is_rfc_3339_as_the_docs_state_it() {
        // (time as written, accepted by the strict profile, read from a stored payload)
        let cases: &[(&str, bool, bool)] = &[
            ("2026-11-27T09:30:00Z", true, true),
            ("2026-11-27T09:30:00.123456789Z", true, true),
            ("2026-11-27T10:30:00+01:00", true, true),
            ("2026-11-27T09:30:00-00:00", true, true),
            ("1970-01-01T00:00:00Z", true, true),
            ("9999-12-31T23:59:59Z", true, true),
            ("2026-11-27t09:30:00z", false, true),
            ("2026-11-27T09:30:00z", false, true),
            ("2026-11-27 09:30:00Z", false, true),
            ("2026-12-31T23:59:60Z", false, true),
            ("0000-01-01T00:00:00Z", false, true),
            ("1969-12-31T23:59:59Z", false, true),
            ("2026-11-27T09:30:00.1234567890Z", false, true),
            ("2026-11-27T09:30:00.Z", false, false),
            ("2026-11-27T09:30Z", false, false),
            ("2026-02-30T09:30:00Z", false, false),
            ("2026-11-27T24:00:00Z", false, false),
            ("2026-11-27T09:30:00+0100", false, true),
            ("2026-11-27T09:30:00", false, false),
            ("+2026-11-27T09:30:00Z", false, true),
        ];
        for (time, strict, stored) in cases {
            assert_eq!(strict_time(time).is_ok(), *strict, "strict {time}");
            let bytes = serde_json::to_vec(&serde_json::json!({"event_id": "e1", "project": "p", "kind": "note_added",
                "schema_version": 1, "actor": "a", "occurred_at": time, "ledger": "l", "body": {"text": "t"}}))
            .unwrap();
            assert_eq!(Payload::parse(&bytes).is_ok(), *strict, "parse {time}");
            assert_eq!(Payload::read(&bytes).is_ok(), *stored, "read {time}");
        }
    }

    #[test]
    fn a_new_payload_names_no_key_twice_and_holds_no_character_that_hides_what_it_says() {
        let doc = |body: &str| {
            format!(
                r#"{{"event_id":"e1","project":"p","kind":"pipeline_defined","schema_version":1,"actor":"a","occurred_at":"2026-01-01T00:00:00Z","ledger":"l","body":{body}}}"#
            )
        };
        let steps = |settings: &str, tool: &str| {
            doc(&format!(
                r#"{{"pipeline_id":"pl","name":"n","steps":[{{"name":"s","tool":{tool},"settings":{settings}}}]}}"#
            ))
        };
        // (case, payload, the field the strict reading names; `None` when it is accepted)
        let cases: Vec<(&str, String, Option<&str>)> = vec![
            ("plain", steps(r#"{"seed":1}"#, r#""t""#), None),
            ("a key twice in settings", steps(r#"{"seed":1,"seed":2}"#, r#""t""#), Some("body.steps[0].settings.seed")),
            ("a key twice, deeper", steps(r#"{"a":{"b":1,"b":1}}"#, r#""t""#), Some("body.steps[0].settings.a.b")),
            ("NUL in a settings value", steps(r#"{"seed":"a\u0000b"}"#, r#""t""#), Some("body.steps[0].settings.seed")),
            (
                "an override in a settings key",
                steps("{\"\u{202e}x\":1}", r#""t""#),
                Some("body.steps[0].settings.\u{202e}x"),
            ),
            ("a line break in a label", steps("{}", r#""line\nbreak""#), Some("body.steps[0].tool")),
            ("a bidi isolate in a label", steps("{}", "\"a\u{2067}b\""), Some("body.steps[0].tool")),
            ("an override in a label", steps("{}", "\"a\u{202e}b\""), Some("body.steps[0].tool")),
            ("a C1 control in a label", steps("{}", "\"a\u{85}b\""), Some("body.steps[0].tool")),
            ("a line separator in a label", steps("{}", "\"a\u{2028}b\""), Some("body.steps[0].tool")),
            ("a paragraph separator in a label", steps("{}", "\"a\u{2029}b\""), Some("body.steps[0].tool")),
        ];
        for (case, payload, field) in cases {
            match (Payload::parse(payload.as_bytes()), field) {
                (Ok(_), None) => {}
                (Err(PayloadError::Field { field: got, .. }), Some(field)) => assert_eq!(got, field, "{case}"),
                (other, _) => panic!("{case}: {other:?}"),
            }
            // Stored, it reads as it was written.
            assert!(Payload::read(payload.as_bytes()).is_ok(), "{case}: stored, it reads");
        }
        // Free text keeps its lines, tabs and the marks and isolates right-to-left text needs.
        let note = |text: &str| {
            serde_json::to_vec(&serde_json::json!({"event_id": "e1", "project": "p", "kind": "note_added",
                "schema_version": 1, "actor": "a", "occurred_at": "2026-01-01T00:00:00Z", "ledger": "l", "body": {"text": text}}))
            .unwrap()
        };
        assert!(Payload::parse(&note("two\nlines\tand \u{2067}\u{5e9}\u{5dc}\u{2069} \u{200f}")).is_ok());
        assert!(Payload::parse(&note("an \u{202e}override")).is_err());
        assert!(Payload::parse(&note("a \u{0}NUL")).is_err());
    }
}
