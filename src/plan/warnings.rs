//! Findings of a plan: each is one rule of the catalogue ([`crate::rules`])
//! about one account, at a CSV line. The sentences that can come once per
//! target host keep only the host and are written out when shown (a
//! forest-sized plan holds hundreds of thousands).

use std::sync::Arc;

use serde::Serialize;

use crate::names::VSMS;
use crate::rules::Rule;
use crate::sanitize::{is_plain, show};

/// A finding: a rule the plan breaks, at a line, for an account. Findings
/// sort by line, principal and text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Warning {
    pub line: u64,
    /// The principal as written (shared by all its warnings).
    pub principal: Arc<str>,
    pub message: Message,
}

impl Warning {
    pub fn rule(&self) -> Rule {
        self.message.rule()
    }
}

impl Serialize for Warning {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let rule = self.rule();
        let mut m = s.serialize_struct("Warning", 5)?;
        m.serialize_field("rule", &rule)?;
        m.serialize_field("severity", &rule.severity())?;
        m.serialize_field("line", &self.line)?;
        m.serialize_field("principal", &*self.principal)?;
        m.serialize_field("message", &self.message)?;
        m.end()
    }
}

/// What a warning says. The sentences that can come once per target host
/// (a plan of a million rows may hold hundreds of thousands) keep only the
/// host, and are written out when shown; the others are text. Messages
/// compare and order as their text does.
#[derive(Debug, Clone)]
pub enum Message {
    /// The rule, and the sentence.
    Text(Rule, Box<str>),
    /// The migration service to this host, and no `cifs` to it. (A
    /// host's name is shared by all the warnings about it.)
    MigrationWithoutCifs(Arc<str>),
    /// The migration service to this host, without protocol transition.
    MigrationWithoutAny(Arc<str>),
    /// A target host the export does not know (host, export's name);
    /// boxed, so that a message takes three words.
    HostNotInExport(Box<(Box<str>, Arc<str>)>),
}

impl Message {
    pub fn new(rule: Rule, text: String) -> Message {
        Message::Text(rule, text.into())
    }

    /// The rule this message is a finding of.
    pub fn rule(&self) -> Rule {
        match self {
            Message::Text(rule, _) => *rule,
            Message::MigrationWithoutCifs(_) => Rule::Kcd102,
            Message::MigrationWithoutAny(_) => Rule::Kcd103,
            Message::HostNotInExport(_) => Rule::Kcd010,
        }
    }
}

/// How the sentences about a host with the migration service end (they
/// start alike: `'<migration service>' to '<host>`).
const WITHOUT_CIFS: &str = "' without 'cifs' to the same host: Hyper-V live migration needs both";
const WITHOUT_ANY: &str = "' without protocol=any: Hyper-V live migration on Windows Server 2016 and later needs 'use any authentication protocol'";

impl Message {
    /// The text, in a string allocated at its size: a plan may hold
    /// hundreds of thousands, and growing each string step by step was
    /// most of the cost of writing them out.
    pub fn text(&self) -> String {
        use std::fmt::Write;
        let size = match (self, self.migration()) {
            (_, Some((host, end))) => VSMS.len() + host.len() + end.len() + 8,
            (Message::Text(_, t), _) => t.len(),
            (Message::HostNotInExport(missing), _) => missing.0.len() + missing.1.len() + 128,
            _ => 0,
        };
        let mut text = String::with_capacity(size);
        let _ = write!(text, "{self}");
        text
    }

    /// A sentence about a host with the migration service: the host and
    /// how the sentence ends.
    fn migration(&self) -> Option<(&str, &'static str)> {
        match self {
            Message::MigrationWithoutCifs(host) => Some((host, WITHOUT_CIFS)),
            Message::MigrationWithoutAny(host) => Some((host, WITHOUT_ANY)),
            _ => None,
        }
    }
}

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some((host, end)) = self.migration() {
            return write!(f, "'{VSMS}' to '{}{end}", show(host));
        }
        match self {
            Message::Text(_, t) => f.write_str(t),
            Message::HostNotInExport(missing) => write!(
                f,
                "target host '{}' is neither a dNSHostName nor in any servicePrincipalName of {}: delegation to a host that does not exist?",
                show(&missing.0),
                show(&missing.1)
            ),
            Message::MigrationWithoutCifs(_) | Message::MigrationWithoutAny(_) => {
                unreachable!("written above")
            }
        }
    }
}

impl Ord for Message {
    fn cmp(&self, other: &Message) -> std::cmp::Ordering {
        use Message::*;
        // Two sentences about hosts shown as written: the texts differ
        // first where the hosts do, unless one host starts the other.
        if let (Some((a, x)), Some((b, y))) = (self.migration(), other.migration()) {
            if a == b {
                return x.cmp(y);
            }
            if is_plain(a) && is_plain(b) && !a.starts_with(b) && !b.starts_with(a) {
                return a.cmp(b);
            }
        }
        match (self, other) {
            (Text(r, a), Text(s, b)) => a.cmp(b).then(r.cmp(s)),
            (HostNotInExport(a), HostNotInExport(b)) if a == b => std::cmp::Ordering::Equal,
            _ => self.to_string().cmp(&other.to_string()),
        }
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Message) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Message {}

impl PartialOrd for Message {
    fn partial_cmp(&self, other: &Message) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for Message {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warning_takes_six_words() {
        assert!(std::mem::size_of::<Message>() <= 24);
        assert!(std::mem::size_of::<Warning>() <= 48);
    }

    /// Messages kept as a host read, sort and serialize as their text.
    #[test]
    fn messages_order_and_read_as_their_text() {
        let export: Arc<str> = "export.ldif".into();
        let mut messages = Vec::new();
        for host in [
            "a",
            "ab",
            "a-b",
            "a.b",
            "a ",
            "a~",
            "\u{e9}",
            "z",
            "A",
            "b\u{202e}",
            "bz",
        ] {
            messages.push(Message::MigrationWithoutCifs(host.into()));
            messages.push(Message::MigrationWithoutAny(host.into()));
            messages.push(Message::HostNotInExport(Box::new((
                host.into(),
                export.clone(),
            ))));
            messages.push(Message::new(
                Rule::Kcd101,
                format!("'{VSMS}' to '{host}' with text"),
            ));
            messages.push(Message::new(Rule::Kcd101, format!("target host '{host}'")));
        }
        assert_eq!(
            Message::MigrationWithoutCifs("h\u{202e}x".into()).to_string(),
            format!("'{VSMS}' to 'h\\u{{202E}}x' without 'cifs' to the same host: Hyper-V live migration needs both")
        );
        // Every pair orders as its texts do, and is equal exactly when
        // they are.
        for a in &messages {
            for b in &messages {
                let (x, y) = (a.to_string(), b.to_string());
                assert_eq!(a.cmp(b), x.cmp(&y), "{a} / {b}");
                assert_eq!(a == b, x == y, "{a} / {b}");
            }
        }
        let text = Message::new(
            Rule::Kcd103,
            Message::MigrationWithoutAny("h".into()).to_string(),
        );
        assert_eq!(text, Message::MigrationWithoutAny("h".into()));
        let mut by_text: Vec<String> = messages.iter().map(Message::to_string).collect();
        by_text.sort();
        messages.sort();
        let sorted: Vec<String> = messages.iter().map(Message::to_string).collect();
        assert_eq!(sorted, by_text);
        for m in &messages {
            assert_eq!(m.text(), m.to_string());
            assert_eq!(
                serde_json::to_value(m).unwrap(),
                serde_json::Value::String(m.to_string())
            );
        }
    }
}
