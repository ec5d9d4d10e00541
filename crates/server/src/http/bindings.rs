//! TypeScript declarations of the API, generated from the OpenAPI document.
//!
//! `ui/src/bindings/server.ts` is written from the document the server serves at
//! `/api/openapi.json` and committed; a test fails when it is out of date, so the dashboard's
//! types are the ones the handlers are annotated with. Regenerate with `make bindings`
//! (`WORKTRACE_UPDATE_BINDINGS=1 cargo test -p worktrace-server --lib bindings`).
//!
//! Pure: the document in, text out; no I/O outside the test.

use serde_json::{Map, Value};

/// Path of the generated file, relative to the workspace root.
pub const BINDINGS_PATH: &str = "ui/src/bindings/server.ts";

/// The whole generated TypeScript file: one type per schema of the document, then
/// `Operations`, each JSON operation's request body and success answer by method and path.
pub fn typescript() -> String {
    let doc = serde_json::to_value(super::openapi_document())
        .expect("the OpenAPI document is plain data and always serializes");
    module(&doc)
}

/// The TypeScript module of one OpenAPI document (as JSON):
///
/// ```text
/// components.schemas.Team = {type: object, required: [id], properties: {id: integer, name: [string, null]}}
///   → export type Team = {
///       id: number;
///       name?: string | null;
///     };
/// ```
pub fn module(doc: &Value) -> String {
    let empty = Map::new();
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let w = Writer { schemas };
    let mut out = String::from(
        "// Generated from the server's OpenAPI document (crates/server, `make bindings`). Do not \
         edit by hand.\n",
    );
    for (name, schema) in schemas {
        if primitive(schema) {
            continue;
        }
        out.push('\n');
        doc_comment(&mut out, schema, "");
        out.push_str(&format!(
            "export type {name} = {};\n",
            w.ts_block(schema, "")
        ));
    }
    out.push_str(
        "\n/** Every JSON operation by `METHOD path`: its request body and its success answer \
         (`void` when it has none). */\nexport type Operations = {\n",
    );
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            for method in ["get", "put", "post", "delete", "patch"] {
                let Some(op) = item.get(method) else { continue };
                let Some(answer) = w.success_answer(op) else {
                    continue;
                };
                let body = op
                    .pointer("/requestBody/content/application~1json/schema")
                    .map(|s| w.ts(s, "  "));
                out.push_str(&format!(
                    "  \"{} {path}\": {{ body: {}; answer: {answer} }};\n",
                    method.to_uppercase(),
                    body.as_deref().unwrap_or("never"),
                ));
            }
        }
    }
    out.push_str("};\n");
    out
}

/// A named schema that is only a number, string or boolean (`Millis` is `i64`): written in
/// place where it is used rather than as a type of its own.
fn primitive(schema: &Value) -> bool {
    let simple = matches!(
        schema.get("type").and_then(Value::as_str),
        Some("integer" | "number" | "string" | "boolean")
    );
    simple && schema.get("enum").is_none() && schema.get("description").is_none()
}

/// `description` as a `/** … */` comment at `indent`.
fn doc_comment(out: &mut String, schema: &Value, indent: &str) {
    if let Some(text) = schema.get("description").and_then(Value::as_str) {
        let text = text.trim().replace("*/", "* /");
        if text.contains('\n') {
            out.push_str(&format!("{indent}/**\n"));
            for line in text.lines() {
                out.push_str(&format!("{indent} * {line}\n").replace(" \n", "\n"));
            }
            out.push_str(&format!("{indent} */\n"));
        } else {
            out.push_str(&format!("{indent}/** {text} */\n"));
        }
    }
}

/// `user_id` stays bare; anything that is not an identifier is quoted.
fn property_name(name: &str) -> String {
    let ident = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ident {
        name.to_owned()
    } else {
        Value::from(name).to_string()
    }
}

/// Writes types against the document's named schemas.
struct Writer<'a> {
    schemas: &'a Map<String, Value>,
}

impl Writer<'_> {
    /// The TypeScript type of a 2xx answer: its JSON schema, `void` without content; `None` when
    /// the operation answers with something else (CSV, PDF, HTML).
    fn success_answer(&self, op: &Value) -> Option<String> {
        let responses = op.get("responses")?.as_object()?;
        let (_, ok) = responses.iter().find(|(code, _)| code.starts_with('2'))?;
        match ok.get("content").and_then(Value::as_object) {
            None => Some("void".into()),
            Some(content) => content
                .get("application/json")
                .and_then(|c| c.get("schema"))
                .map(|s| self.ts(s, "  ")),
        }
    }

    /// A top-level type: objects one property a line, everything else as `ts` writes it.
    fn ts_block(&self, schema: &Value, indent: &str) -> String {
        match schema.get("properties").and_then(Value::as_object) {
            Some(props) => self.object(schema, props, indent),
            None => self.ts(schema, indent),
        }
    }

    fn object(&self, schema: &Value, props: &Map<String, Value>, indent: &str) -> String {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let inner = format!("{indent}  ");
        let mut out = String::from("{\n");
        for (name, prop) in props {
            doc_comment(&mut out, prop, &inner);
            let optional = if required.contains(&name.as_str()) {
                ""
            } else {
                "?"
            };
            out.push_str(&format!(
                "{inner}{}{optional}: {};\n",
                property_name(name),
                self.ts_block(prop, &inner)
            ));
        }
        out.push_str(indent);
        out.push('}');
        out
    }

    /// The TypeScript type of one JSON schema:
    /// `{"type": ["integer", "null"]}` → `number | null`; `{"$ref": "#/components/schemas/Team"}`
    /// → `Team`; `{"type": "array", "items": {"type": "string"}}` → `string[]`; `{}` → `unknown`.
    fn ts(&self, schema: &Value, indent: &str) -> String {
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            let name = r.rsplit('/').next().unwrap_or(r);
            return match self.schemas.get(name) {
                Some(target) if primitive(target) => self.ts(target, indent),
                _ => name.to_owned(),
            };
        }
        for (key, sep) in [("oneOf", " | "), ("anyOf", " | "), ("allOf", " & ")] {
            if let Some(parts) = schema.get(key).and_then(Value::as_array) {
                let mut types: Vec<String> = parts.iter().map(|p| self.ts(p, indent)).collect();
                types.dedup();
                return types.join(sep);
            }
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            return values
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(" | ");
        }
        if let Some(value) = schema.get("const") {
            return value.to_string();
        }
        match schema.get("type") {
            Some(Value::String(t)) => self.of_type(t, schema, indent),
            Some(Value::Array(types)) => types
                .iter()
                .filter_map(Value::as_str)
                .map(|t| self.of_type(t, schema, indent))
                .collect::<Vec<_>>()
                .join(" | "),
            _ => "unknown".into(),
        }
    }

    fn of_type(&self, t: &str, schema: &Value, indent: &str) -> String {
        match t {
            "string" => "string".into(),
            "integer" | "number" => "number".into(),
            "boolean" => "boolean".into(),
            "null" => "null".into(),
            "array" => {
                let item = schema
                    .get("items")
                    .map(|i| self.ts(i, indent))
                    .unwrap_or_else(|| "unknown".into());
                if item.contains(' ') {
                    format!("({item})[]")
                } else {
                    format!("{item}[]")
                }
            }
            "object" => match schema.get("properties").and_then(Value::as_object) {
                Some(props) => self.object(schema, props, indent),
                None => match schema.get("additionalProperties") {
                    Some(Value::Object(v)) if !v.is_empty() => {
                        format!(
                            "Record<string, {}>",
                            self.ts(&Value::Object(v.clone()), indent)
                        )
                    }
                    _ => "Record<string, unknown>".into(),
                },
            },
            _ => "unknown".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn committed_bindings_are_up_to_date() {
        let stale = worktrace_domain::bindings::stale_committed_file(
            env!("CARGO_MANIFEST_DIR"),
            super::BINDINGS_PATH,
            &super::typescript(),
        );
        assert!(stale.is_none(), "{}", stale.unwrap_or_default());
    }

    #[test]
    fn writes_schemas_and_operations_as_typescript() {
        let doc = json!({
            "paths": {
                "/api/teams/{team_id}": {
                    "get": {"responses": {"200": {"content": {"application/json": {"schema":
                        {"type": "array", "items": {"$ref": "#/components/schemas/Team"}}}}}}},
                    "delete": {"responses": {"204": {"description": "gone"}}},
                },
                "/api/report.pdf": {"get": {"responses": {"200": {"content": {"application/pdf": {}}}}}},
            },
            "components": {"schemas": {
                "Role": {"type": "string", "enum": ["admin", "lead"]},
                "Millis": {"type": "integer", "format": "int64"},
                "Team": {
                    "type": "object",
                    "description": "A team.",
                    "required": ["id", "role"],
                    "properties": {
                        "id": {"type": "integer", "format": "int64"},
                        "lead": {"type": ["integer", "null"]},
                        "at": {"$ref": "#/components/schemas/Millis"},
                        "role": {"$ref": "#/components/schemas/Role"},
                        "tags": {"type": "array", "items": {"type": ["string", "null"]}},
                        "extra": {"type": "object", "additionalProperties": {"type": "boolean"}},
                        "x-y": {}
                    }
                }
            }}
        });
        let text = super::module(&doc);
        let expected = "\nexport type Role = \"admin\" | \"lead\";\n\n/** A team. */\n\
            export type Team = {\n  at?: number;\n  extra?: Record<string, boolean>;\n  id: number;\n  \
            lead?: number | null;\n  role: Role;\n  tags?: (string | null)[];\n  \"x-y\"?: unknown;\n};\n";
        assert!(
            text.contains(expected),
            "schemas become exported types, optional unless required:\n{text}"
        );
        assert!(
            !text.contains("Millis"),
            "a named number is written in place, not as a type of its own:\n{text}"
        );
        assert!(
            text.contains("  \"GET /api/teams/{team_id}\": { body: never; answer: Team[] };\n"),
            "a JSON answer is typed by method and path:\n{text}"
        );
        assert!(
            text.contains("  \"DELETE /api/teams/{team_id}\": { body: never; answer: void };\n"),
            "an answer without content is void:\n{text}"
        );
        assert!(
            !text.contains("report.pdf"),
            "operations that do not answer JSON are left out:\n{text}"
        );
    }
}
