//! Checked rows to a plan: rows grouped by principal, SPN values built and
//! de-duplicated, DNs derived, conflicts between rows found, and warnings
//! about delegations that are legal but probably not what was meant.

use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::{DefaultHashBuilder, HashMap, HashTable};

use serde::Serialize;

use crate::columns::{Field, Header};
use crate::config::{Options, SpnForms};
use crate::dn::{self, Dn};
use crate::error::{Location, Problem, Problems};
use crate::names::{self, VSMS};
use crate::sanitize::{is_plain, show};
use crate::validate::{Action, PrincipalType, Protocol, Row};

/// One `msDS-AllowedToDelegateTo` value as the export spells it. Shared:
/// it reaches the templates without a copy.
pub type Spn = std::sync::Arc<str>;

/// `msDS-AllowedToDelegateTo` values planned from the CSV. The planner keeps
/// them as numbers into the words the plan shares (12 bytes a value; at
/// forest size a string per value would be most of the plan's memory) and
/// spells them out when they are read. [`Plan::spell_out`] turns them into
/// shared strings once, for readers that read each value many times (the
/// templates, one thread per artifact).
#[derive(Clone)]
pub struct Spns(SpnsRepr);

#[derive(Clone)]
enum SpnsRepr {
    Numbers {
        words: Arc<Words>,
        values: Vec<Parts>,
    },
    Spelled(Vec<Spn>),
}

impl Spns {
    /// Values already spelled out (tests).
    #[cfg(test)]
    pub(crate) fn spelled(values: Vec<Spn>) -> Spns {
        Spns(SpnsRepr::Spelled(values))
    }

    pub fn len(&self) -> usize {
        match &self.0 {
            SpnsRepr::Numbers { values, .. } => values.len(),
            SpnsRepr::Spelled(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends value `i`, spelled out, to `out`.
    pub fn spell(&self, i: usize, out: &mut String) {
        match &self.0 {
            SpnsRepr::Numbers { words, values } => words.spell(values[i], out),
            SpnsRepr::Spelled(v) => out.push_str(&v[i]),
        }
    }

    /// Value `i` as a shared string, once spelled out.
    pub fn shared(&self, i: usize) -> Option<&Spn> {
        match &self.0 {
            SpnsRepr::Numbers { .. } => None,
            SpnsRepr::Spelled(v) => v.get(i),
        }
    }

    /// Value `i` as a shared string: the plan's own once spelled out, else
    /// a new one.
    pub fn get_shared(&self, i: usize) -> Spn {
        match self.shared(i) {
            Some(s) => s.clone(),
            None => {
                let mut text = String::new();
                self.spell(i, &mut text);
                Spn::from(text)
            }
        }
    }

    /// Calls `f` with each value in order (one buffer, reused).
    pub fn for_each(&self, mut f: impl FnMut(&str)) {
        let mut text = String::new();
        for i in 0..self.len() {
            text.clear();
            self.spell(i, &mut text);
            f(&text);
        }
    }

    /// Each value, spelled out in a string of its own.
    pub fn iter(&self) -> impl Iterator<Item = String> + '_ {
        (0..self.len()).map(|i| {
            let mut text = String::new();
            self.spell(i, &mut text);
            text
        })
    }

    /// Each value as [`Spns::get_shared`] gives it.
    pub fn iter_shared(&self) -> impl Iterator<Item = Spn> + '_ {
        (0..self.len()).map(|i| self.get_shared(i))
    }

    /// Turns the numbers into shared strings (once; then a no-op).
    fn spell_out(&mut self) {
        if let SpnsRepr::Numbers { .. } = self.0 {
            self.0 = SpnsRepr::Spelled(self.iter_shared().collect());
        }
    }
}

impl std::fmt::Debug for Spns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Spns {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.len()))?;
        let mut text = String::new();
        for i in 0..self.len() {
            text.clear();
            self.spell(i, &mut text);
            seq.serialize_element(text.as_str())?;
        }
        seq.end()
    }
}

/// How a principal's `msDS-AllowedToDelegateTo` changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Add and/or remove individual values.
    Update,
    /// Set the complete list (an empty list clears the attribute).
    Replace,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Update => "update",
            Mode::Replace => "replace",
        }
    }
}

/// Everything planned for one delegating account.
#[derive(Debug, Clone, Serialize)]
pub struct PrincipalPlan {
    /// The account as first written in the CSV.
    pub principal: String,
    #[serde(rename = "type")]
    pub kind: PrincipalType,
    pub sam_account_name: String,
    pub domain: Option<String>,
    pub dn: String,
    /// Where the DN comes from; a derived DN is an assumption to check.
    pub dn_source: DnSource,
    pub mode: Mode,
    pub add: Spns,
    pub remove: Spns,
    /// The complete new list (mode `replace` only).
    pub replace: Spns,
    /// `None`: leave protocol transition as it is.
    pub protocol: Option<Protocol>,
    /// CSV lines that contributed.
    pub lines: Vec<u64>,
    pub comments: Vec<String>,
    /// The account as the export shows it (with `--current`).
    pub before: Option<Before>,
    /// The exact change against the export (with `--current`).
    pub delta: Option<Delta>,
}

/// An account's delegation settings in the export.
#[derive(Debug, Clone, Serialize)]
pub struct Before {
    pub values: Vec<Spn>,
    pub user_account_control: u32,
    pub protocol: Protocol,
}

/// The change set against the export: only what differs.
#[derive(Debug, Clone, Serialize)]
pub struct Delta {
    /// Values to delete, spelled as the export spells them.
    pub delete: Vec<Spn>,
    pub add: Vec<Spn>,
    /// The values after the change.
    pub after: Vec<Spn>,
    /// userAccountControl before and after, when protocol transition changes.
    pub uac: Option<UacChange>,
    /// Whether anything changes at all.
    pub changes: bool,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct UacChange {
    pub from: u32,
    pub to: u32,
}

/// Where a principal's DN comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DnSource {
    /// The CSV's `dn` column.
    Csv,
    /// Built from the name, container and domain: an assumption.
    Derived,
    /// The directory export (`--current`).
    Export,
}

impl DnSource {
    pub fn as_str(self) -> &'static str {
        match self {
            DnSource::Csv => "csv",
            DnSource::Derived => "derived",
            DnSource::Export => "export",
        }
    }
}

/// A computer principal's DNS name (lowercase), when its domain is known.
pub fn computer_fqdn(p: &PrincipalPlan) -> Option<String> {
    let name = p.sam_account_name.strip_suffix('$')?;
    (p.kind == PrincipalType::Computer)
        .then(|| {
            p.domain
                .as_ref()
                .map(|d| format!("{name}.{d}").to_lowercase())
        })
        .flatten()
}

/// A warning: legal, but worth a second look. Warnings sort by line,
/// principal and text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Warning {
    pub line: u64,
    /// The principal as written (shared by all its warnings).
    pub principal: Arc<str>,
    pub message: Message,
}

/// What a warning says. The sentences that can come once per target host
/// (a plan of a million rows may hold hundreds of thousands) keep only the
/// host, and are written out when shown; the others are text. Messages
/// compare and order as their text does.
#[derive(Debug, Clone)]
pub enum Message {
    Text(Box<str>),
    /// The migration service to this host, and no `cifs` to it. (A
    /// host's name is shared by all the warnings about it.)
    MigrationWithoutCifs(Arc<str>),
    /// The migration service to this host, without protocol transition.
    MigrationWithoutAny(Arc<str>),
    /// A target host the export does not know (host, export's name);
    /// boxed, so that a message takes three words.
    HostNotInExport(Box<(Box<str>, Arc<str>)>),
}

impl From<String> for Message {
    fn from(text: String) -> Message {
        Message::Text(text.into())
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
            (Message::Text(t), _) => t.len(),
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
            Message::Text(t) => f.write_str(t),
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
            (Text(a), Text(b)) => a.cmp(b),
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

/// The whole plan.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub principals: Vec<PrincipalPlan>,
    pub warnings: Vec<Warning>,
}

impl Plan {
    /// Spells every planned value out into a shared string, on two
    /// threads: for readers that read each value several times.
    pub fn spell_out(&mut self) {
        fn spell(principals: &mut [PrincipalPlan]) {
            for p in principals {
                p.add.spell_out();
                p.remove.spell_out();
                p.replace.spell_out();
            }
        }
        let half = self.principals.len() / 2;
        let (first, second) = self.principals.split_at_mut(half);
        std::thread::scope(|s| {
            s.spawn(|| spell(first));
            spell(second);
        });
    }
}

/// The words SPN values are made of (service classes and host names), each
/// numbered once as written and once folded for comparison
/// (`str::to_lowercase`, as everywhere else in kcdplan). An account's values
/// are kept as numbers while rows come in and spelled out once, at the end:
/// at forest size most values are distinct, and a string per value costs
/// several times the memory of its numbers.
#[derive(Default)]
struct Words {
    /// Each spelling seen, with the number of its folded form.
    written: Vec<(Box<str>, u32)>,
    by_written: HashTable<u32>,
    folded: Vec<Box<str>>,
    by_folded: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

/// A word's numbers in [`Words`].
#[derive(Debug, Clone, Copy)]
struct Word {
    written: u32,
    folded: u32,
}

impl Words {
    fn number(&mut self, s: &str) -> Word {
        let hash = self.hasher.hash_one(s);
        let written = &self.written;
        if let Some(&i) = self
            .by_written
            .find(hash, |&i| *written[i as usize].0 == *s)
        {
            let folded = written[i as usize].1;
            return Word { written: i, folded };
        }
        let folded = self.fold(s);
        let i = number(self.written.len());
        self.written.push((s.into(), folded));
        let (written, hasher) = (&self.written, &self.hasher);
        self.by_written
            .insert_unique(hash, i, |&i| hasher.hash_one(&*written[i as usize].0));
        Word { written: i, folded }
    }

    fn fold(&mut self, s: &str) -> u32 {
        let f = names::lowercase(s);
        let hash = self.hasher.hash_one(&*f);
        let folded = &self.folded;
        if let Some(&i) = self.by_folded.find(hash, |&i| *folded[i as usize] == *f) {
            return i;
        }
        let i = number(self.folded.len());
        self.folded.push(f.into());
        let (folded, hasher) = (&self.folded, &self.hasher);
        self.by_folded
            .insert_unique(hash, i, |&i| hasher.hash_one(&*folded[i as usize]));
        i
    }

    /// The folded form of a value written as `p`.
    fn key(&self, p: Parts) -> Parts {
        Parts {
            class: self.written[p.class as usize].1,
            host: self.written[p.host as usize].1,
            port: p.port,
        }
    }

    fn written(&self, i: u32) -> &str {
        &self.written[i as usize].0
    }

    fn folded(&self, i: u32) -> &str {
        &self.folded[i as usize]
    }

    /// Appends the SPN value `p` (numbers as written) to `out`.
    fn spell(&self, p: Parts, out: &mut String) {
        let (class, host) = (self.written(p.class), self.written(p.host));
        out.reserve(class.len() + host.len() + 7);
        out.push_str(class);
        out.push('/');
        out.push_str(host);
        if p.port != 0 {
            out.push(':');
            push_number(out, p.port);
        }
    }
}

/// An SPN value `class/host[:port]` as word numbers; port 0: no port (a
/// port is 1 to 65535). A class holds neither `/` nor `:` and a host holds
/// neither either, so two values are equal, folded, exactly when their
/// folded parts are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Parts {
    class: u32,
    host: u32,
    port: u16,
}

/// One value of a row: folded (to compare) and as written (to keep).
#[derive(Debug, Clone, Copy)]
struct SpnValue {
    key: Parts,
    written: Parts,
    hash: u64,
}

impl SpnValue {
    fn new(class: Word, host: Word, port: u16, hasher: &DefaultHashBuilder) -> SpnValue {
        let key = Parts {
            class: class.folded,
            host: host.folded,
            port,
        };
        let written = Parts {
            class: class.written,
            host: host.written,
            port,
        };
        SpnValue {
            key,
            written,
            hash: hasher.hash_one(key),
        }
    }
}

/// An ordered set of values, unique case-insensitively, first spelling
/// kept, with the row that brought each value (its number among the
/// account's rows: 4 bytes, where a line number takes 8).
#[derive(Debug, Default)]
struct ValueSet {
    /// As first written; the folded form comes from `words`.
    written: Vec<Parts>,
    rows: Vec<u32>,
    /// Indexes into `written`, by the hash of the folded value.
    index: HashTable<u32>,
}

impl ValueSet {
    fn find(&self, v: &SpnValue, words: &Words) -> Option<usize> {
        let written = &self.written;
        self.index
            .find(v.hash, |&i| words.key(written[i as usize]) == v.key)
            .map(|&i| i as usize)
    }

    /// Adds `v` unless an equal value is already in.
    fn insert(&mut self, v: &SpnValue, row: u32, words: &Words) {
        if self.find(v, words).is_none() {
            let i = number(self.written.len());
            self.written.push(v.written);
            self.rows.push(row);
            let written = &self.written;
            self.index.insert_unique(v.hash, i, |&i| {
                words.hasher.hash_one(words.key(written[i as usize]))
            });
        }
    }

    fn row_of(&self, v: &SpnValue, words: &Words) -> Option<u32> {
        self.find(v, words).map(|i| self.rows[i])
    }

    /// The values as the plan keeps them.
    fn into_spns(self, words: &Arc<Words>) -> Spns {
        Spns(SpnsRepr::Numbers {
            words: words.clone(),
            values: self.written,
        })
    }
}

fn number(n: usize) -> u32 {
    u32::try_from(n).expect("fewer than 2^32 values")
}

/// The SPN values one row stands for, into `out`.
fn row_values(
    row: &Row,
    forms: SpnForms,
    words: &mut Words,
    out: &mut Vec<SpnValue>,
) -> Option<Word> {
    out.clear();
    let t = row.target.as_ref()?;
    let fqdn = words.number(&t.fqdn);
    let short = (forms != SpnForms::Fqdn).then(|| words.number(t.short));
    let fqdn_form = (forms != SpnForms::Short).then_some(fqdn);
    let port = t.port.unwrap_or(0);
    for class in &row.classes {
        let class = words.number(class);
        for host in [fqdn_form, short].into_iter().flatten() {
            out.push(SpnValue::new(class, host, port, &words.hasher));
        }
    }
    Some(fqdn)
}

/// Writes `n` in decimal, without the formatting machinery.
fn push_number(s: &mut String, n: u16) {
    let mut digits = [0u8; 5];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    s.extend(digits[i..].iter().map(|&d| char::from(d)));
}

/// Folds checked rows into a plan, one row at a time, so memory follows
/// the size of the plan, not of the input.
pub struct Planner<'a> {
    file: String,
    opts: &'a Options,
    columns: [String; Field::ALL.len()],
    index: HashMap<String, usize>,
    accounts: Vec<Account>,
    warnings: Vec<Warning>,
    /// near-miss verdicts per service class (few distinct classes, many rows).
    near: HashMap<String, Option<&'static str>>,
    words: Words,
    /// Scratch space, reused from row to row.
    scratch: String,
    values: Vec<SpnValue>,
}

/// A principal as the plan keeps it.
struct Identity {
    kind: PrincipalType,
    written: Arc<str>,
    name: String,
    sam: String,
    domain: Option<String>,
}

impl Identity {
    fn of(p: &crate::validate::Principal) -> Identity {
        Identity {
            kind: p.kind,
            written: p.written.into(),
            name: p.name.to_string(),
            sam: p.sam(),
            domain: p.domain.as_deref().map(str::to_string),
        }
    }
}

/// What is known about one principal so far.
struct Account {
    principal: Identity,
    first_line: u64,
    lines: Vec<u64>,
    /// First row of each mode, to report mixing once.
    first_replace: Option<u64>,
    first_update: Option<(u64, Action)>,
    mixed: bool,
    protocol: Option<(Protocol, u64)>,
    dn: Option<(Dn, u64)>,
    add: ValueSet,
    remove: ValueSet,
    replace: ValueSet,
    /// Per target host (the number of its folded FQDN in `words`), among
    /// rows that add or replace: has the migration service, has cifs, and
    /// the first row (its number among the account's rows).
    targets: HashMap<u32, (bool, bool, u32)>,
    comments: Vec<String>,
}

impl Account {
    /// Each target host the migration service goes to: the host (its
    /// folded FQDN's number), its first line, and whether `cifs` to it and
    /// protocol transition (any) are missing.
    fn migration_gaps(&self) -> impl Iterator<Item = (u32, u64, bool, bool)> + '_ {
        let any = self.protocol.map(|(p, _)| p) == Some(Protocol::Any);
        (self.targets.iter())
            .filter(|(_, &(vsms, _, _))| vsms)
            .map(move |(&host, &(_, cifs, row))| (host, self.lines[row as usize], !cifs, !any))
    }
}

impl<'a> Planner<'a> {
    pub fn new(file: &str, opts: &'a Options, header: &Header) -> Planner<'a> {
        Planner {
            file: file.to_string(),
            opts,
            columns: Field::ALL.map(|f| header.spelling(f).to_string()),
            index: HashMap::new(),
            accounts: Vec::new(),
            warnings: Vec::new(),
            near: HashMap::new(),
            words: Words::default(),
            scratch: String::new(),
            values: Vec::new(),
        }
    }

    /// The user's spelling of a column, for messages.
    pub fn column(&self, field: Field) -> &str {
        &self.columns[field as usize]
    }

    fn at(&self, line: u64, field: Field) -> Location {
        let i = Field::ALL.iter().position(|f| *f == field).expect("field");
        Location::cell(&self.file, line, &self.columns[i])
    }

    /// Adds one row; conflicts with earlier rows go to `problems`.
    pub fn add(&mut self, row: Row, problems: &mut Problems) {
        row.principal.key_into(&mut self.scratch);
        let i = match self.index.get(self.scratch.as_str()) {
            Some(&i) => i,
            None => {
                self.accounts.push(Account {
                    principal: Identity::of(&row.principal),
                    first_line: row.line,
                    lines: Vec::new(),
                    first_replace: None,
                    first_update: None,
                    mixed: false,
                    protocol: None,
                    dn: None,
                    add: ValueSet::default(),
                    remove: ValueSet::default(),
                    replace: ValueSet::default(),
                    targets: HashMap::new(),
                    comments: Vec::new(),
                });
                self.index
                    .insert(self.scratch.clone(), self.accounts.len() - 1);
                self.accounts.len() - 1
            }
        };
        let mut found = Vec::new();
        let fqdn;
        // This row's number among the account's rows.
        let here_row;
        let mut warn = Vec::new();
        let forms = self.opts.spn_forms;

        // Mode: replace cannot mix with add/remove.
        {
            let acc = &mut self.accounts[i];
            acc.lines.push(row.line);
            here_row = number(acc.lines.len() - 1);
            let clash = if row.action == Action::Replace {
                acc.first_replace.get_or_insert(row.line);
                acc.first_update.map(|(l, a)| (l, action_word(a)))
            } else {
                acc.first_update.get_or_insert((row.line, row.action));
                acc.first_replace.map(|l| (l, "replace"))
            };
            if let (Some((l, word)), false) = (clash, acc.mixed) {
                acc.mixed = true;
                found.push((
                    Field::Action,
                    format!(
                        "principal '{}': 'replace' cannot be mixed with add or remove (line {l} has '{word}')",
                        show(&acc.principal.written)
                    ),
                ));
            }
            if let Some(pr) = row.protocol {
                match acc.protocol {
                    None => acc.protocol = Some((pr, row.line)),
                    Some((q, l)) if q != pr => found.push((
                        Field::Protocol,
                        format!(
                            "principal '{}': protocol '{}' conflicts with '{}' on line {l}",
                            show(&acc.principal.written),
                            pr.as_str(),
                            q.as_str()
                        ),
                    )),
                    _ => {}
                }
            }
            if let Some(d) = &row.dn {
                match &acc.dn {
                    None => acc.dn = Some((d.clone(), row.line)),
                    Some((e, l)) if e.key() != d.key() => found.push((
                        Field::Dn,
                        format!(
                            "principal '{}': dn '{}' conflicts with '{}' on line {l}",
                            show(&acc.principal.written),
                            show(&d.to_string()),
                            show(&e.to_string())
                        ),
                    )),
                    _ => {}
                }
            }
            fqdn = row_values(&row, forms, &mut self.words, &mut self.values);
            let words = &self.words;
            for v in &self.values {
                let (here, there, other) = match row.action {
                    Action::Add => ("added", "removed", &acc.remove),
                    Action::Remove => ("removed", "added", &acc.add),
                    Action::Replace => ("", "", &acc.replace),
                };
                if row.action != Action::Replace {
                    if let Some(r) = other.row_of(v, words) {
                        let l = acc.lines[r as usize];
                        let mut text = String::new();
                        words.spell(v.written, &mut text);
                        found.push((
                            Field::Action,
                            format!(
                                "principal '{}': '{}' is {here} here and {there} on line {l}",
                                show(&acc.principal.written),
                                show(&text)
                            ),
                        ));
                    }
                }
                match row.action {
                    Action::Add => acc.add.insert(v, here_row, words),
                    Action::Remove => acc.remove.insert(v, here_row, words),
                    Action::Replace => acc.replace.insert(v, here_row, words),
                }
            }
            if let Some(c) = &row.comment {
                if !acc.comments.iter().any(|k| k == c) {
                    acc.comments.push(c.to_string());
                }
            }
        }

        // Row-level warnings.
        for c in &row.classes {
            let verdict = match self.near.get(*c) {
                Some(v) => *v,
                None => *self
                    .near
                    .entry(c.to_string())
                    .or_insert(names::near_miss(c)),
            };
            if let Some(k) = verdict {
                warn.push(format!(
                    "service '{}' looks like a misspelling of '{k}'",
                    show(row.service_written)
                ));
            }
        }
        let acc = &mut self.accounts[i];
        let p = &acc.principal;
        if let Some(t) = &row.target {
            if let Some(pd) = &p.domain {
                if t.fqdn_written && !t.domain().eq_ignore_ascii_case(pd) {
                    warn.push(format!(
                        "target '{}' is in domain '{}' but the principal is in '{}'; classic constrained delegation does not cross domains (use resource-based delegation)",
                        show(&t.fqdn),
                        show(t.domain()),
                        show(pd)
                    ));
                }
            }
            if p.kind == PrincipalType::Computer
                && t.short.eq_ignore_ascii_case(&p.name)
                && p.domain
                    .as_deref()
                    .is_none_or(|d| t.domain().eq_ignore_ascii_case(d))
            {
                warn.push(format!(
                    "principal '{}' delegates to itself ('{}')",
                    show(&p.written),
                    show(&t.fqdn)
                ));
            }
            if row.action != Action::Remove {
                let host = fqdn
                    .expect("a row with a target has its FQDN numbered")
                    .folded;
                let e = acc.targets.entry(host).or_insert((false, false, here_row));
                for c in &row.classes {
                    e.0 |= *c == VSMS;
                    e.1 |= *c == "cifs";
                }
            }
        }
        for message in warn {
            self.warnings.push(Warning {
                line: row.line,
                principal: acc.principal.written.clone(),
                message: message.into(),
            });
        }
        for (field, msg) in found {
            problems.push(Problem::new(self.at(row.line, field), msg));
        }
    }

    /// The plan, with the checks that need every row.
    pub fn finish(mut self, problems: &mut Problems) -> Plan {
        let mut principals = Vec::with_capacity(self.accounts.len());
        let words = Arc::new(std::mem::take(&mut self.words));
        // The list of warnings grows once, to its final size: at forest
        // size it is tens of MiB, and growing it step by step would copy
        // it each time.
        let coming: usize = (self.accounts.iter())
            .flat_map(Account::migration_gaps)
            .map(|(_, _, no_cifs, no_any)| usize::from(no_cifs) + usize::from(no_any))
            .sum();
        self.warnings.reserve_exact(coming + self.accounts.len());
        // Each host's name once, shared by every warning about it.
        let mut hosts = vec![None; words.folded.len()];
        let reserved = self.warnings.capacity();
        for acc in std::mem::take(&mut self.accounts) {
            principals.push(self.close(acc, &words, &mut hosts));
        }
        debug_assert_eq!(self.warnings.capacity(), reserved, "warnings miscounted");
        principals.sort_by_cached_key(|p| (p.dn.to_lowercase(), p.dn.clone()));
        // Two principals that resolve to one DN are one account written two ways.
        for w in principals.windows(2) {
            if w[0].dn.eq_ignore_ascii_case(&w[1].dn) {
                let (first, second) = if w[0].lines[0] < w[1].lines[0] {
                    (&w[0], &w[1])
                } else {
                    (&w[1], &w[0])
                };
                problems.push(Problem::new(
                    self.at(second.lines[0], Field::Principal),
                    format!(
                        "'{}' and '{}' (line {}) have the same DN '{}'; write the account one way",
                        show(&second.principal),
                        show(&first.principal),
                        first.lines[0],
                        show(&first.dn)
                    ),
                ));
            }
        }
        let mut warnings = self.warnings;
        // Equal warnings read the same: their order among themselves does not show.
        warnings.sort_unstable();
        warnings.dedup();
        Plan {
            principals,
            warnings,
        }
    }

    fn close(
        &mut self,
        acc: Account,
        words: &Arc<Words>,
        hosts: &mut [Option<Arc<str>>],
    ) -> PrincipalPlan {
        let p = &acc.principal;
        let mode = if acc.first_replace.is_some() {
            Mode::Replace
        } else {
            Mode::Update
        };
        let (dn, dn_source) = match &acc.dn {
            Some((d, _)) => (d.clone(), DnSource::Csv),
            None => {
                let domain = p.domain.as_deref().expect("validated: domain or dn");
                let container = match &self.opts.container {
                    Some(c) => c.clone(),
                    None => dn::parse(default_container(p.kind)).expect("static DN"),
                };
                let parent =
                    container.join(&dn::parse(&names::domain_dn(domain)).expect("domain DN"));
                (Dn::child(&p.name, &parent), DnSource::Derived)
            }
        };
        let mut warn = |line: u64, message: Message| {
            self.warnings.push(Warning {
                line,
                principal: p.written.clone(),
                message,
            })
        };
        if p.kind == PrincipalType::Computer && p.name.chars().count() > 15 {
            warn(
                acc.first_line,
                format!(
                    "computer name '{}' is longer than 15 characters (the NetBIOS limit); its sAMAccountName is probably truncated, check the account",
                    show(&p.name)
                )
                .into(),
            );
        }
        // (Warnings are sorted at the end: this order does not show.)
        for (host, line, no_cifs, no_any) in acc.migration_gaps() {
            let host = hosts[host as usize].get_or_insert_with(|| words.folded(host).into());
            if no_cifs {
                warn(line, Message::MigrationWithoutCifs(host.clone()));
            }
            if no_any {
                warn(line, Message::MigrationWithoutAny(host.clone()));
            }
        }
        PrincipalPlan {
            principal: p.written.to_string(),
            kind: p.kind,
            sam_account_name: p.sam.clone(),
            domain: p.domain.clone(),
            dn: dn.to_string(),
            dn_source,
            mode,
            add: acc.add.into_spns(words),
            remove: acc.remove.into_spns(words),
            replace: acc.replace.into_spns(words),
            protocol: acc.protocol.map(|(p, _)| p),
            lines: acc.lines,
            comments: acc.comments,
            before: None,
            delta: None,
        }
    }
}

fn default_container(kind: PrincipalType) -> &'static str {
    match kind {
        PrincipalType::Computer => "CN=Computers",
        PrincipalType::User => "CN=Users",
        PrincipalType::Gmsa => "CN=Managed Service Accounts",
    }
}

fn action_word(a: Action) -> &'static str {
    match a {
        Action::Add => "add",
        Action::Remove => "remove",
        Action::Replace => "replace",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A forest-sized plan holds hundreds of thousands of warnings.
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
            messages.push(format!("'{VSMS}' to '{host}' with text").into());
            messages.push(format!("target host '{host}'").into());
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
        let text = Message::Text(Message::MigrationWithoutAny("h".into()).to_string().into());
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

    /// `class/host[:port]` as a value of `words`.
    fn value(words: &mut Words, v: &str) -> SpnValue {
        let (class, rest) = v.split_once('/').expect("class/host");
        let (host, port) = names::split_port(rest).expect("port");
        let (class, host) = (words.number(class), words.number(host));
        SpnValue::new(class, host, port.unwrap_or(0), &words.hasher)
    }

    fn set_of(values: &[&str]) -> (ValueSet, Words) {
        let mut words = Words::default();
        let mut set = ValueSet::default();
        for (line, v) in values.iter().enumerate() {
            let v = value(&mut words, v);
            set.insert(&v, line as u32 + 2, &words);
        }
        (set, words)
    }

    fn strs(set: &ValueSet, words: &Words) -> Vec<String> {
        set.written
            .iter()
            .map(|&p| {
                let mut text = String::new();
                words.spell(p, &mut text);
                text
            })
            .collect()
    }

    #[test]
    fn value_set_is_caseless_and_keeps_the_first_spelling() {
        let (set, mut words) = set_of(&[
            "cifs/MÜLLER-PC.contoso.com",
            "CIFS/müller-pc.CONTOSO.com",
            "http/web1",
            "HTTP/WEB1",
            "http/web2",
            "http/web2:8080",
            "HTTP/Web2:8080",
        ]);
        assert_eq!(
            strs(&set, &words),
            [
                "cifs/MÜLLER-PC.contoso.com",
                "http/web1",
                "http/web2",
                "http/web2:8080"
            ]
        );
        assert_eq!(set.rows, [2, 4, 6, 7]);
        let v = value(&mut words, "Http/Web2");
        assert_eq!(set.row_of(&v, &words), Some(6));
        let v = value(&mut words, "http/web3");
        assert_eq!(set.row_of(&v, &words), None);
        let v = value(&mut words, "http/web2:80");
        assert_eq!(set.row_of(&v, &words), None);
        // Folding is by character: the Kelvin sign folds to 'k'.
        let (set, mut words) = set_of(&["host/kdc"]);
        let v = value(&mut words, "HOST/\u{212A}DC");
        assert_eq!(set.row_of(&v, &words), Some(2));
        let v = value(&mut words, "host/kd");
        assert_eq!(set.row_of(&v, &words), None);
    }

    #[test]
    fn value_set_survives_growth() {
        let values: Vec<String> = (0..5000).map(|i| format!("cifs/host{i}")).collect();
        let upper: Vec<String> = values.iter().map(|v| v.to_uppercase()).collect();
        let all: Vec<&str> = values.iter().chain(&upper).map(String::as_str).collect();
        let (set, words) = set_of(&all);
        assert_eq!(strs(&set, &words), values);
    }

    /// Every way of reading planned values spells them the same, as
    /// numbers and once spelled out.
    #[test]
    fn spns_read_the_same_every_way() {
        let (set, words) = set_of(&[
            "cifs/FS1.contoso.com",
            "http/web1:8080",
            "CIFS/fs1.CONTOSO.com",
        ]);
        let numbers = set.into_spns(&Arc::new(words));
        let mut spelled = numbers.clone();
        spelled.spell_out();
        assert!(numbers.shared(0).is_none());
        assert_eq!(spelled.shared(1).map(|s| &**s), Some("http/web1:8080"));
        assert!(spelled.shared(2).is_none());
        // Once spelled out, the change set shares the plan's strings.
        let shared: Vec<Spn> = spelled.iter_shared().collect();
        assert!(Arc::ptr_eq(&shared[1], spelled.shared(1).unwrap()));
        assert_eq!(numbers.iter_shared().collect::<Vec<_>>(), shared);
        let want = ["cifs/FS1.contoso.com", "http/web1:8080"];
        for spns in [numbers, spelled] {
            assert_eq!((spns.len(), spns.is_empty()), (2, false));
            assert_eq!(spns.iter().collect::<Vec<_>>(), want);
            let mut seen = Vec::new();
            spns.for_each(|v| seen.push(v.to_string()));
            assert_eq!(seen, want);
            let mut one = String::from(">");
            spns.spell(1, &mut one);
            assert_eq!(one, ">http/web1:8080");
            assert_eq!(
                serde_json::to_string(&spns).unwrap(),
                r#"["cifs/FS1.contoso.com","http/web1:8080"]"#
            );
            assert_eq!(format!("{spns:?}"), format!("{want:?}"));
        }
    }

    #[test]
    fn words_are_numbered_as_written_and_folded() {
        let mut words = Words::default();
        let a = words.number("FS1.contoso.com");
        let b = words.number("fs1.CONTOSO.com");
        assert_ne!(a.written, b.written);
        assert_eq!(a.folded, b.folded);
        assert_eq!(words.number("FS1.contoso.com").written, a.written);
        assert_ne!(words.number("fs2.contoso.com").folded, a.folded);
        assert_eq!(words.written(a.written), "FS1.contoso.com");
        assert_eq!(words.written(b.written), "fs1.CONTOSO.com");
        assert_eq!(words.folded(a.folded), "fs1.contoso.com");
    }

    #[test]
    fn ports_are_written_in_decimal() {
        for n in [0, 7, 10, 445, 1433, 9999, 10000, 65535] {
            let mut s = String::from("x:");
            push_number(&mut s, n);
            assert_eq!(s, format!("x:{n}"));
        }
    }

    proptest! {
        /// Values kept as numbers behave as the strings they stand for:
        /// the set keeps the first spelling of each value, unique under
        /// `str::to_lowercase` of the whole value, in order; and a value
        /// is found exactly when its folded string was added.
        #[test]
        fn numbered_values_behave_as_folded_strings(
            values in proptest::collection::vec(
                ("(cifs|CIFS|Http|http|MSSQLSvc|mssqlsvc|ΣΑΣ|σας)",
                 "(srv|SRV|Srv|müller|MÜLLER|\u{212A}dc|kdc|ΑΣ|ας)(\\.(contoso|CONTOSO)\\.com)?",
                 proptest::option::of(prop_oneof![Just(80u16), Just(1433), Just(8080)])),
                0..40),
            probe in ("(cifs|http|σας)", "(srv|kdc|ας)", proptest::option::of(Just(80u16))),
        ) {
            let text = |(c, h, p): &(String, String, Option<u16>)| match p {
                Some(p) => format!("{c}/{h}:{p}"),
                None => format!("{c}/{h}"),
            };
            let texts: Vec<String> = values.iter().map(text).collect();
            let mut want: Vec<(String, u32)> = Vec::new();
            for (line, t) in texts.iter().enumerate() {
                if !want.iter().any(|(w, _)| w.to_lowercase() == t.to_lowercase()) {
                    want.push((t.clone(), line as u32 + 2));
                }
            }
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let (set, mut words) = set_of(&refs);
            prop_assert_eq!(
                strs(&set, &words),
                want.iter().map(|(w, _)| w.clone()).collect::<Vec<_>>()
            );
            prop_assert_eq!(&set.rows, &want.iter().map(|(_, l)| *l).collect::<Vec<_>>());
            let probe_text = text(&probe);
            let found = want
                .iter()
                .find(|(w, _)| w.to_lowercase() == probe_text.to_lowercase())
                .map(|(_, l)| *l);
            let v = value(&mut words, &probe_text);
            prop_assert_eq!(set.row_of(&v, &words), found);
        }
    }
}
