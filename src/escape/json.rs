//! JSON text: serde_json escapes quotes, backslashes and the controls
//! below U+0020; the other hidden characters
//! ([`crate::sanitize::is_hidden`]: DEL, C1 controls, bidi and format
//! characters...) it writes raw. Every JSON kcdplan writes passes here,
//! so that they are `\uXXXX` escapes too; the value is unchanged.

use serde::Serialize;

use crate::sanitize::is_hidden;

/// `value` as JSON with no hidden character raw.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    serde_json::to_string(value).map(visible)
}

/// `value` as indented JSON with no hidden character raw.
pub fn to_string_pretty<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    serde_json::to_string_pretty(value).map(visible)
}

/// JSON text with each hidden character written as a `\uXXXX` escape
/// (a surrogate pair beyond U+FFFF). serde_json escapes every control
/// below U+0020 inside strings, so a raw line feed, carriage return or tab
/// is white space between tokens and stays; outside strings JSON holds
/// nothing else that is hidden, so every other one is in a string, where
/// the escape means the same character.
fn visible(json: String) -> String {
    let escaped = |c: char| is_hidden(c) && !matches!(c, '\n' | '\r' | '\t');
    if !json.chars().any(escaped) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if escaped(c) {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{:04x}", u));
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_are_escaped_and_read_back() {
        let v = "a\u{7F}\u{85}\u{202E}\u{E0041}\u{1B}\"";
        let json = to_string(v).unwrap();
        assert_eq!(json, r#""a\u007f\u0085\u202e\udb40\udc41\u001b\"""#);
        assert_eq!(serde_json::from_str::<String>(&json).unwrap(), v);
        assert_eq!(to_string("caf\u{E9}").unwrap(), "\"caf\u{E9}\"");
        let pretty = to_string_pretty(&["\u{202E}"]).unwrap();
        assert_eq!(pretty, "[\n  \"\\u202e\"\n]");
    }
}
