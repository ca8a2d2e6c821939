//! One record of the CSV checked against the header, on its own: the
//! number of fields, line breaks, control and invisible characters, the
//! length of each field, and where each column's cell is. What the cells
//! mean is checked later, by `validate`.

use super::header::{Field, Header};
use crate::error::{Location, Problem};
use crate::sanitize::{echo, is_hidden, is_plain};

/// The most bytes one field may hold.
pub const MAX_FIELD_BYTES: usize = 1024;

/// One record: the line it starts on and its non-empty, trimmed cells by
/// column, borrowed from the record being read (no copy per cell).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRow<'a> {
    pub line: u64,
    cells: [Option<&'a str>; Field::ALL.len()],
}

impl<'a> RawRow<'a> {
    pub fn get(&self, f: Field) -> Option<&'a str> {
        self.cells[f as usize]
    }
}

/// A record read ahead and checked: the line it starts on, its fields,
/// and where its cells are (field, trimmed byte range), or its problems.
#[derive(Default)]
pub(super) struct Record {
    pub(super) line: u64,
    pub(super) fields: csv::StringRecord,
    cells: Cells,
    pub(super) problems: Vec<Problem>,
}

/// Per column, its cell's byte range in the record's text (the fields one
/// after another, [`csv::StringRecord::as_slice`]).
type Cells = [Option<(usize, usize)>; Field::ALL.len()];

impl Record {
    pub(super) fn row(&self) -> RawRow<'_> {
        let text = self.fields.as_slice();
        RawRow {
            line: self.line,
            cells: (self.cells).map(|c| c.map(|(from, to)| &text[from..to])),
        }
    }
}

/// Checks a record's fields against the header: its problems, or where
/// its cells are, go into the record.
pub(super) fn check_record(name: &str, header: &Header, record: &mut Record) {
    let Record {
        line,
        fields,
        cells,
        problems,
    } = record;
    let line = *line;
    *cells = [None; Field::ALL.len()];
    let mut problem = |p: Problem| problems.push(p);
    let width = header.columns.len();
    // Trailing empty fields (spreadsheet exports) are fine; others are not.
    if fields.len() < width || (width..fields.len()).any(|i| !fields[i].trim().is_empty()) {
        problem(Problem::new(
            Location::line(name, line),
            format!(
                "the row has {} fields but the header has {}",
                fields.len(),
                width
            ),
        ));
        return;
    }
    // Where the field starts in the record's text.
    let mut at = 0;
    for (i, value) in fields.iter().take(width).enumerate() {
        let start = at;
        at += value.len();
        let column = &header.written[i];
        // Fast path: printable ASCII needs no further look.
        let plain = is_plain(value);
        if !plain && value.contains(['\n', '\r']) {
            problem(Problem::new(
                Location::cell(name, line, column),
                format!(
                    "'{}' contains a line break (a quoted field spans lines: is a quote missing?)",
                    echo(value)
                ),
            ));
            continue;
        }
        if let Some(c) = (!plain)
            .then(|| value.chars().find(|c| is_hidden(*c)))
            .flatten()
        {
            problem(Problem::new(
                Location::cell(name, line, column),
                format!(
                    "'{}' contains the control or invisible character U+{:04X}",
                    echo(value),
                    c as u32
                ),
            ));
            continue;
        }
        if value.len() > MAX_FIELD_BYTES {
            problem(Problem::new(
                Location::cell(name, line, column),
                format!(
                    "the value is {} bytes long; the limit is {MAX_FIELD_BYTES}",
                    value.len()
                ),
            ));
            continue;
        }
        // The cell: the value without white space around it. In printable
        // ASCII the space is the only white space.
        let (from, value) = if plain {
            let b = value.as_bytes();
            let from = b.iter().position(|&c| c != b' ').unwrap_or(b.len());
            let to = b.iter().rposition(|&c| c != b' ').map_or(from, |k| k + 1);
            (from, &value[from..to])
        } else {
            (value.len() - value.trim_start().len(), value.trim())
        };
        match header.columns[i] {
            Some(field) => {
                if !value.is_empty() {
                    let from = start + from;
                    cells[field as usize] = Some((from, from + value.len()));
                }
            }
            None => {
                if !value.is_empty() {
                    problem(Problem::new(
                        Location::line(name, line),
                        format!(
                            "field {} '{}' is under a header cell with no name",
                            i + 1,
                            echo(value)
                        ),
                    ));
                }
            }
        }
    }
}
