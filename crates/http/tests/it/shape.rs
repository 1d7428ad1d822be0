//! Structural comparison of a response with a documented example: every key
//! of the example is present in the response, with the same JSON type and
//! nesting. The example's values are placeholders, so only shapes count.
//!
//! - `null` on either side matches any type (nullable fields, and fields
//!   spool renders as `null` because it does not have the feature yet);
//! - arrays compare their first elements when both are non-empty;
//! - `free_form` paths (client metadata objects, whose keys are example
//!   data) are not descended into, only checked to be objects or null.
//!
//! Paths read like `data.agent.shares[0].permission`.

use serde_json::Value;

/// Panics with the path of the first difference.
pub fn assert_same_shape(expected: &Value, actual: &Value) {
    assert_same_shape_except(expected, actual, &[]);
}

/// As [`assert_same_shape`], not descending into the `free_form` paths.
pub fn assert_same_shape_except(expected: &Value, actual: &Value, free_form: &[&str]) {
    if let Err(problem) = shape_mismatch(expected, actual, free_form) {
        panic!("response does not have the documented shape: {problem}\nactual: {actual:#}");
    }
}

/// `Err` names the first path where `actual` differs from `expected`.
pub fn shape_mismatch(expected: &Value, actual: &Value, free_form: &[&str]) -> Result<(), String> {
    walk(expected, actual, "", free_form)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn walk(expected: &Value, actual: &Value, path: &str, free_form: &[&str]) -> Result<(), String> {
    if expected.is_null() || actual.is_null() {
        return Ok(());
    }
    let shown = if path.is_empty() { "(root)" } else { path };
    if kind(expected) != kind(actual) {
        return Err(format!(
            "{shown}: expected {}, found {}",
            kind(expected),
            kind(actual)
        ));
    }
    if free_form.contains(&path) {
        return Ok(());
    }
    match (expected, actual) {
        (Value::Object(want), Value::Object(have)) => {
            for (key, want_value) in want {
                let path = child(path, key);
                let have_value = have
                    .get(key)
                    .ok_or_else(|| format!("{path}: missing (expected {})", kind(want_value)))?;
                walk(want_value, have_value, &path, free_form)?;
            }
            Ok(())
        }
        (Value::Array(want), Value::Array(have)) => match (want.first(), have.first()) {
            (Some(want), Some(have)) => walk(want, have, &format!("{path}[0]"), free_form),
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn example() -> Value {
        json!({
            "data": {
                "uuid": "x",
                "count": 1,
                "metadata": { "anything": 1 },
                "creator": { "id": 1, "workspace": { "slug": "s" } },
                "tags": [{ "name": "a" }],
                "agent": null
            }
        })
    }

    fn matching() -> Value {
        json!({
            "data": {
                "uuid": "y",
                "count": 2.5,
                "metadata": {},
                "creator": { "id": 7, "workspace": { "slug": "t", "extra": true } },
                "tags": [{ "name": "b" }],
                "agent": { "uuid": "z" },
                "extra": [1]
            }
        })
    }

    #[test]
    fn the_same_shape_with_other_values_and_extra_keys_matches() {
        assert_eq!(
            shape_mismatch(&example(), &matching(), &["data.metadata"]),
            Ok(())
        );
        assert_same_shape_except(&example(), &matching(), &["data.metadata"]);
        assert_same_shape(&example(), &example());
    }

    #[test]
    fn a_missing_key_fails_naming_its_path() {
        let mut actual = matching();
        actual["data"]["creator"]["workspace"]
            .as_object_mut()
            .unwrap()
            .remove("slug");
        let problem = shape_mismatch(&example(), &actual, &["data.metadata"]).unwrap_err();
        assert!(
            problem.starts_with("data.creator.workspace.slug: missing"),
            "{problem}"
        );
    }

    #[test]
    fn a_wrong_type_fails_naming_its_path() {
        let mut actual = matching();
        actual["data"]["count"] = json!("2");
        let problem = shape_mismatch(&example(), &actual, &["data.metadata"]).unwrap_err();
        assert_eq!(problem, "data.count: expected number, found string");
        let mut actual = matching();
        actual["data"]["tags"][0]["name"] = json!(false);
        let problem = shape_mismatch(&example(), &actual, &["data.metadata"]).unwrap_err();
        assert_eq!(problem, "data.tags[0].name: expected string, found boolean");
    }

    #[test]
    fn a_wrong_nesting_fails_naming_its_path() {
        let mut actual = matching();
        actual["data"]["creator"] = json!({ "id": 7, "slug": "t" });
        let problem = shape_mismatch(&example(), &actual, &["data.metadata"]).unwrap_err();
        assert!(
            problem.starts_with("data.creator.workspace: missing"),
            "{problem}"
        );
        let mut actual = matching();
        actual["data"]["tags"] = json!({ "name": "b" });
        let problem = shape_mismatch(&example(), &actual, &["data.metadata"]).unwrap_err();
        assert_eq!(problem, "data.tags: expected array, found object");
        let mut actual = matching();
        actual["data"]["tags"] = json!([["b"]]);
        let problem = shape_mismatch(&example(), &actual, &["data.metadata"]).unwrap_err();
        assert_eq!(problem, "data.tags[0]: expected object, found array");
    }

    #[test]
    fn null_matches_any_type_and_free_form_objects_are_not_descended() {
        let mut actual = matching();
        actual["data"]["creator"] = Value::Null;
        assert_eq!(
            shape_mismatch(&example(), &actual, &["data.metadata"]),
            Ok(())
        );
        // Without the exemption the example's metadata keys are required.
        let problem = shape_mismatch(&example(), &matching(), &[]).unwrap_err();
        assert_eq!(problem, "data.metadata.anything: missing (expected number)");
        // A free-form path must still hold an object.
        let mut actual = matching();
        actual["data"]["metadata"] = json!("text");
        let problem = shape_mismatch(&example(), &actual, &["data.metadata"]).unwrap_err();
        assert_eq!(problem, "data.metadata: expected object, found string");
    }

    #[test]
    #[should_panic(expected = "data.count: expected number, found string")]
    fn the_assertion_panics_with_the_path() {
        let mut actual = matching();
        actual["data"]["count"] = json!("2");
        assert_same_shape_except(&example(), &actual, &["data.metadata"]);
    }

    #[test]
    fn empty_arrays_on_either_side_match() {
        let mut actual = matching();
        actual["data"]["tags"] = json!([]);
        assert_eq!(
            shape_mismatch(&example(), &actual, &["data.metadata"]),
            Ok(())
        );
    }
}
