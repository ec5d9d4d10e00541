//! The error answers an operation gives because of what it is, not what it does: added to
//! every operation of the OpenAPI document that lacks them, so each lists every status it
//! really answers (schemathesis checks that it does).
//!
//! | the operation … | answers |
//! | --- | --- |
//! | has path or query parameters | 400 (a parameter that does not parse) |
//! | has path parameters | 404 (no such thing, or not in the caller's organisation) |
//! | takes a JSON body | 400 (not JSON), 413 (too large), 415 (not `application/json`), 422 (wrong shape) |
//! | is for logged-in people | 401 (no or expired session); 403 for state changes (CSRF header) |
//! | is under `/api/admin/` | 403 (not an administrator) |
//! | is for devices (bearer secret) | 401 (unknown or revoked secret), 429 (held off) |
//! | any | 503 with `Retry-After` (the database cannot be used now) |
//!
//! Pure: a document in, the same document with more responses out.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, ResponseBuilder};

/// Operations anyone may call: they take no session and no device secret.
const PUBLIC: [&str; 4] = [
    "/healthz",
    "/api/auth/login",
    "/api/auth/password-reset",
    "/api/devices/enroll",
];

/// Adds the common error answers to every operation of `doc`; an answer an operation already
/// declares (with its own description) is kept.
pub fn add(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [
            ("GET", &mut item.get),
            ("PUT", &mut item.put),
            ("POST", &mut item.post),
            ("DELETE", &mut item.delete),
            ("PATCH", &mut item.patch),
        ];
        for (method, op) in ops {
            if let Some(op) = op {
                add_to(path, method, op);
            }
        }
    }
}

fn add_to(path: &str, method: &str, op: &mut Operation) {
    let params = op.parameters.as_deref().unwrap_or_default();
    let in_path = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path));
    let in_query = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Query));
    let device = op.security.is_some();
    let session = !device && !PUBLIC.contains(&path);
    let mut answers: Vec<(u16, &str)> = Vec::new();
    if in_path || in_query {
        answers.push((
            400,
            "A path or query parameter does not parse (`invalid_query`, `bad_request`)",
        ));
    }
    if in_path {
        answers.push((404, "No such resource (`not_found`)"));
    }
    if op.request_body.is_some() {
        answers.extend([
            (400, "The body is not valid JSON (`malformed_json`)"),
            (413, "The body is larger than the server accepts (`body_too_large`)"),
            (
                415,
                "The body is not sent as `application/json` (`unsupported_media_type`)",
            ),
            (
                422,
                "The body does not fit the expected shape (`invalid_body`) or its values are invalid",
            ),
        ]);
    }
    if session {
        answers.push((
            401,
            "Not logged in (`not_logged_in`) or the session has ended (`session_expired`)",
        ));
        if method != "GET" {
            answers.push((
                403,
                "The X-CSRF-Token header is missing or does not match the session",
            ));
        }
        if path.starts_with("/api/admin/") {
            answers.push((403, "Only administrators may do this (`forbidden`)"));
        }
    }
    if device {
        answers.extend([
            (401, "Missing, unknown or revoked device secret"),
            (429, "Too many unknown device secrets from this address"),
        ]);
    }
    answers.push((
        503,
        "The database cannot be used now (`database_unavailable`); sent again after `Retry-After` seconds it may work",
    ));
    for (status, description) in answers {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| {
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build()
                    .into()
            });
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn statuses(doc: &Value, method: &str, path: &str) -> Vec<String> {
        doc["paths"][path][method]["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path} is in the document"))
            .keys()
            .cloned()
            .collect()
    }

    #[test]
    fn each_kind_of_operation_lists_its_common_errors() {
        let doc = serde_json::to_value(super::super::openapi_document()).expect("serializes");
        let has = |method: &str, path: &str, want: &[&str]| {
            let got = statuses(&doc, method, path);
            for w in want {
                assert!(
                    got.iter().any(|g| g == w),
                    "{method} {path} lists {w}: {got:?}"
                );
            }
        };
        has(
            "put",
            "/api/admin/policy",
            &["200", "400", "401", "403", "413", "415", "422"],
        );
        has(
            "get",
            "/api/teams/{team_id}/members",
            &["200", "400", "401", "404"],
        );
        has(
            "post",
            "/api/ingest",
            &["200", "400", "401", "413", "415", "422", "429"],
        );
        let login = statuses(&doc, "post", "/api/auth/login");
        assert!(
            !login.iter().any(|s| s == "403"),
            "logging in needs no session, so no CSRF refusal: {login:?}"
        );
        let me = statuses(&doc, "get", "/api/me");
        assert!(
            me.iter().any(|s| s == "401") && !me.iter().any(|s| s == "403"),
            "a read needs a session and no CSRF header: {me:?}"
        );
    }
}
