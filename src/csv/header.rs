//! The CSV header contract: which columns exist, their accepted spellings
//! (including the Set-KCD.ps1 import names) and the header check that runs
//! once before any record is read.

use crate::error::{Location, Problem};
use crate::names::closest;
use crate::sanitize::{echo, is_hidden};

use super::record::MAX_FIELD_BYTES;

/// A column kcdplan understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Principal,
    Service,
    Target,
    Action,
    Protocol,
    PrincipalType,
    Dn,
    Comment,
    Unconstrained,
    Delegation,
    TargetType,
    PrincipalSid,
}

impl Field {
    pub const ALL: [Field; 12] = [
        Field::Principal,
        Field::Service,
        Field::Target,
        Field::Action,
        Field::Protocol,
        Field::PrincipalType,
        Field::Dn,
        Field::Comment,
        Field::Unconstrained,
        Field::Delegation,
        Field::TargetType,
        Field::PrincipalSid,
    ];

    /// The documented name of the column: its first spelling.
    pub fn name(self) -> &'static str {
        (SPELLINGS.iter())
            .find(|(_, f)| *f == self)
            .map(|(s, _)| *s)
            .expect("every column has a name")
    }

    pub fn required(self) -> bool {
        // (A resource row has no service: the rows check it.)
        matches!(self, Field::Principal | Field::Target)
    }
}

/// Every accepted column name, as documented, with the column it means;
/// the last five are the Set-KCD.ps1 v1.1/v1.2 names. Names match after
/// [`normalise`], and an unknown name is offered the closest of these.
const SPELLINGS: &[(&str, Field)] = &[
    ("principal", Field::Principal),
    ("service", Field::Service),
    ("target", Field::Target),
    ("action", Field::Action),
    ("protocol", Field::Protocol),
    ("principal_type", Field::PrincipalType),
    ("dn", Field::Dn),
    ("comment", Field::Comment),
    ("unconstrained", Field::Unconstrained),
    ("delegation", Field::Delegation),
    ("target_type", Field::TargetType),
    ("principal_sid", Field::PrincipalSid),
    ("TrustedComputer", Field::Principal),
    ("TrustingComputer", Field::Target),
    ("ServiceType", Field::Service),
    ("AdDN", Field::Dn),
    ("HostFQDN", Field::Target),
];

/// Column names match case-insensitively; `_`, `-` and spaces are equivalent
/// (and dropped).
pub fn normalise(name: &str) -> String {
    name.trim()
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// What each position of the header row means.
#[derive(Debug, Clone)]
pub struct Header {
    /// One entry per header cell: the field, or `None` for an empty trailing
    /// cell whose values must stay empty.
    pub columns: Vec<Option<Field>>,
    /// The header text as written, per position, for messages.
    pub written: Vec<String>,
}

impl Header {
    /// The spelling the user wrote for a field (for messages).
    pub fn spelling(&self, field: Field) -> &str {
        self.columns
            .iter()
            .position(|c| *c == Some(field))
            .map(|i| self.written[i].as_str())
            .unwrap_or(field.name())
    }

    /// Whether the header has the column.
    pub fn has(&self, field: Field) -> bool {
        self.columns.contains(&Some(field))
    }
}

/// Checks a header row: unknown, duplicate and missing columns are all
/// reported at once.
pub fn parse_header(file: &str, line: u64, cells: &[String]) -> Result<Header, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut columns = Vec::with_capacity(cells.len());
    for (i, raw) in cells.iter().enumerate() {
        let cell = raw.trim();
        // Checked as a data cell is, before any suggestion is computed
        // (the work grows with the product of the lengths).
        let bad = if cell.len() > MAX_FIELD_BYTES {
            Some(format!(
                "header cell {} is {} bytes long; the limit is {MAX_FIELD_BYTES}",
                i + 1,
                cell.len()
            ))
        } else {
            cell.chars().find(|c| is_hidden(*c)).map(|c| {
                format!(
                    "header cell {} '{}' contains the control or invisible character U+{:04X}",
                    i + 1,
                    echo(cell),
                    c as u32
                )
            })
        };
        if let Some(message) = bad {
            problems.push(Problem::new(Location::line(file, line), message));
            columns.push(None);
            continue;
        }
        let key = normalise(cell);
        if key.is_empty() {
            if cell.is_empty() {
                columns.push(None);
                continue;
            }
            problems.push(Problem::new(
                Location::line(file, line),
                format!(
                    "header cell {} '{}' is not a column name",
                    i + 1,
                    echo(cell)
                ),
            ));
            columns.push(None);
            continue;
        }
        match SPELLINGS.iter().find(|(s, _)| normalise(s) == key) {
            Some(&(_, field)) => {
                if let Some(j) = columns.iter().position(|c| *c == Some(field)) {
                    let first: &String = &cells[j];
                    problems.push(Problem::new(
                        Location::cell(file, line, cell),
                        format!(
                            "duplicate column: '{}' means the same column '{}' as '{}'",
                            echo(cell),
                            field.name(),
                            echo(first.trim())
                        ),
                    ));
                }
                columns.push(Some(field));
            }
            None => {
                let hint = match closest(&key, SPELLINGS.iter().map(|(s, _)| *s), normalise) {
                    Some(s) => format!("; did you mean '{s}'?"),
                    None => format!("; known columns: {}", known_list()),
                };
                problems.push(Problem::new(
                    Location::cell(file, line, cell),
                    format!("unknown column{hint}"),
                ));
                columns.push(None);
            }
        }
    }
    for field in Field::ALL.iter().filter(|f| f.required()) {
        if !columns.contains(&Some(*field)) {
            problems.push(Problem::new(
                Location::line(file, line),
                format!("missing required column '{}'", field.name()),
            ));
        }
    }
    if problems.is_empty() {
        Ok(Header {
            columns,
            written: cells.iter().map(|c| c.trim().to_string()).collect(),
        })
    } else {
        Err(problems)
    }
}

fn known_list() -> String {
    Field::ALL
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn spellings_are_equivalent() {
        let h = parse_header(
            "f",
            1,
            &cells(&[
                "Principal",
                "SERVICE",
                "target",
                "Principal Type",
                "principal-type2",
            ]),
        );
        assert!(h.is_err());
        let h = parse_header(
            "f",
            1,
            &cells(&["Principal", "SERVICE", "target", "Principal Type"]),
        )
        .unwrap();
        assert_eq!(h.columns[3], Some(Field::PrincipalType));
    }

    #[test]
    fn every_column_is_named_by_its_first_spelling() {
        let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(
            names,
            [
                "principal",
                "service",
                "target",
                "action",
                "protocol",
                "principal_type",
                "dn",
                "comment",
                "unconstrained",
                "delegation",
                "target_type",
                "principal_sid"
            ]
        );
    }

    #[test]
    fn set_kcd_names() {
        let h = parse_header(
            "f",
            1,
            &cells(&["TrustedComputer", "TrustingComputer", "ServiceType"]),
        )
        .unwrap();
        assert_eq!(
            h.columns,
            vec![
                Some(Field::Principal),
                Some(Field::Target),
                Some(Field::Service)
            ]
        );
    }

    #[test]
    fn unknown_column_is_suggested() {
        let e = parse_header("f.csv", 1, &cells(&["principal", "servce", "target"])).unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "f.csv:1: column 'servce': unknown column; did you mean 'service'?"
        );
        // (service is not required: a resource row has none; a row of
        // constrained delegation without one is an error of its own.)
        assert_eq!(e.len(), 1);
        let e = parse_header("f.csv", 1, &cells(&["principal", "service"])).unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "f.csv:1: missing required column 'target'"
        );
    }
}
