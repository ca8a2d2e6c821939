//! Checked rows folded into a plan, one row at a time, so that memory
//! follows the size of the plan, not of the input: rows grouped by
//! principal, SPN values built and de-duplicated, DNs derived, conflicts
//! between rows found, warnings raised.

use std::sync::Arc;

use hashbrown::HashMap;

use super::values::{number, row_values, SpnValue, ValueSet, Words};
use super::warnings::{Message, Warning};
use super::{Plan, PrincipalPlan, Spns};
use crate::config::Options;
use crate::csv::header::{Field, Header};
use crate::dn::{self, Dn};
use crate::error::{Location, Problem, Problems};
use crate::model::{Action, DnSource, Keyword, Mode, PrincipalType, Protocol};
use crate::names::{self, VSMS};
use crate::rules::Rule;
use crate::sanitize::{echo, show};
use crate::validate::{ResourceRow, Row};

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
    /// Resource-based delegation, grouped by resource.
    resources: super::resources::Resources,
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
    domain: String,
}

impl Identity {
    fn of(p: &crate::validate::Principal) -> Identity {
        Identity {
            kind: p.kind,
            written: p.written.into(),
            name: p.name.to_string(),
            sam: p.sam(),
            domain: p.domain.to_string(),
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
    /// Turn unconstrained delegation off (the first row that asks).
    unconstrained_off: Option<u64>,
    dn: Option<(Dn, u64)>,
    add: ValueSet,
    remove: ValueSet,
    replace: ValueSet,
    /// Per target host (the number of its folded FQDN in `words`), among
    /// rows that add or replace: has the migration service, has cifs, and
    /// the first row (its number among the account's rows).
    targets: HashMap<u32, (bool, bool, u32)>,
    comments: Vec<String>,
    /// The comments already kept, to keep each once.
    seen_comments: hashbrown::HashSet<String>,
    /// Whether a value holds text beyond ASCII (only such values can
    /// differ in what AD ignores and kcdplan does not).
    non_ascii: bool,
}

impl Account {
    fn new(row: &Row) -> Account {
        Account {
            principal: Identity::of(&row.principal),
            first_line: row.line,
            lines: Vec::new(),
            first_replace: None,
            first_update: None,
            mixed: false,
            protocol: None,
            unconstrained_off: None,
            dn: None,
            add: ValueSet::default(),
            remove: ValueSet::default(),
            replace: ValueSet::default(),
            targets: HashMap::new(),
            comments: Vec::new(),
            seen_comments: hashbrown::HashSet::new(),
            non_ascii: false,
        }
    }

    /// One account is of one type: `HV01$` as a computer and as a gMSA
    /// is a contradiction, not two accounts.
    fn check_kind(&self, row: &Row, found: &mut Vec<(Field, String)>) {
        if row.principal.kind != self.principal.kind {
            found.push((
                Field::PrincipalType,
                format!(
                    "principal '{}': type '{}' conflicts with '{}' on line {}",
                    echo(row.principal.written),
                    row.principal.kind.as_str(),
                    self.principal.kind.as_str(),
                    self.first_line
                ),
            ));
        }
    }

    /// `replace` cannot mix with add or remove (reported once).
    fn check_mode(&mut self, row: &Row, found: &mut Vec<(Field, String)>) {
        let clash = if row.action == Action::Replace {
            self.first_replace.get_or_insert(row.line);
            self.first_update.map(|(l, a)| (l, a.as_str()))
        } else {
            self.first_update.get_or_insert((row.line, row.action));
            self.first_replace.map(|l| (l, "replace"))
        };
        if let (Some((l, word)), false) = (clash, self.mixed) {
            self.mixed = true;
            found.push((
                Field::Action,
                format!(
                    "principal '{}': 'replace' cannot be mixed with add or remove (line {l} has '{word}')",
                    echo(&self.principal.written)
                ),
            ));
        }
    }

    /// One protocol per account.
    fn check_protocol(&mut self, row: &Row, found: &mut Vec<(Field, String)>) {
        let Some(pr) = row.protocol else { return };
        match self.protocol {
            None => self.protocol = Some((pr, row.line)),
            Some((q, l)) if q != pr => found.push((
                Field::Protocol,
                format!(
                    "principal '{}': protocol '{}' conflicts with '{}' on line {l}",
                    echo(&self.principal.written),
                    pr.as_str(),
                    q.as_str()
                ),
            )),
            _ => {}
        }
    }

    /// One DN per account.
    fn check_dn(&mut self, row: &Row, found: &mut Vec<(Field, String)>) {
        let Some(d) = &row.dn else { return };
        match &self.dn {
            None => self.dn = Some((d.clone(), row.line)),
            Some((e, l)) if e.key() != d.key() => found.push((
                Field::Dn,
                format!(
                    "principal '{}': dn '{}' conflicts with '{}' on line {l}",
                    echo(&self.principal.written),
                    echo(&d.to_string()),
                    echo(&e.to_string())
                ),
            )),
            _ => {}
        }
    }

    /// The row's values into the account's set for its action; a value
    /// both added and removed is a conflict.
    fn add_values(
        &mut self,
        row: &Row,
        here: u32,
        values: &[SpnValue],
        words: &Words,
        found: &mut Vec<(Field, String)>,
    ) {
        for v in values {
            let (set, other, here_word, there_word) = match row.action {
                Action::Add => (&mut self.add, Some(&self.remove), "added", "removed"),
                Action::Remove => (&mut self.remove, Some(&self.add), "removed", "added"),
                Action::Replace => (&mut self.replace, None, "", ""),
            };
            if let Some(r) = other.and_then(|o| o.row_of(v, words)) {
                let l = self.lines[r as usize];
                let mut text = String::new();
                words.spell(v.written, &mut text);
                found.push((
                    Field::Action,
                    format!(
                        "principal '{}': '{}' is {here_word} here and {there_word} on line {l}",
                        echo(&self.principal.written),
                        echo(&text)
                    ),
                ));
            }
            set.insert(v, here, words);
            self.non_ascii |= !words.is_ascii(v.written);
        }
    }

    /// Notes which services go to the target host `host` (its folded
    /// FQDN's number), for the Hyper-V checks at the end.
    fn note_target(&mut self, host: u32, classes: &[&str], here: u32) {
        let e = self.targets.entry(host).or_insert((false, false, here));
        for c in classes {
            e.0 |= *c == VSMS;
            e.1 |= *c == "cifs";
        }
    }

    /// Warnings about the row's target: in another domain, or the
    /// principal itself.
    fn target_warnings(&self, row: &Row) -> Vec<Message> {
        let mut warn = Vec::new();
        let (p, Some(t)) = (&self.principal, &row.target) else {
            return warn;
        };
        let pd = &p.domain;
        if t.fqdn_written && names::fold(t.domain()) != pd.as_str() {
            warn.push(Message::new(
                Rule::Kcd101,
                format!(
                    "target '{}' is in domain '{}' but the principal is in '{}'; classic constrained delegation does not cross domains (use resource-based delegation)",
                    show(&t.fqdn),
                    show(t.domain()),
                    show(pd)
                ),
            ));
        }
        if p.kind == PrincipalType::Computer
            && t.short.eq_ignore_ascii_case(&p.name)
            && names::fold(t.domain()) == p.domain.as_str()
        {
            warn.push(Message::new(
                Rule::Kcd105,
                format!(
                    "principal '{}' delegates to itself ('{}')",
                    show(&p.written),
                    show(&t.fqdn)
                ),
            ));
        }
        warn
    }

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
            resources: Default::default(),
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
        let i = self.account_of(&row);
        let fqdn = row_values(&row, self.opts.spn_forms, &mut self.words, &mut self.values);
        let acc = &mut self.accounts[i];
        acc.lines.push(row.line);
        // This row's number among the account's rows.
        let here = number(acc.lines.len() - 1);
        let mut found = Vec::new();
        acc.check_kind(&row, &mut found);
        // A row that only turns unconstrained delegation off has no mode.
        if row.target.is_some() || row.action == Action::Replace {
            acc.check_mode(&row, &mut found);
        }
        if row.unconstrained_off {
            acc.unconstrained_off.get_or_insert(row.line);
        }
        acc.check_protocol(&row, &mut found);
        acc.check_dn(&row, &mut found);
        acc.add_values(&row, here, &self.values, &self.words, &mut found);
        if let Some(c) = row.comment {
            if !acc.seen_comments.contains(c) {
                acc.seen_comments.insert(c.to_string());
                acc.comments.push(c.to_string());
            }
        }
        // (A row has an FQDN exactly when it has a target.)
        if let (Some(fqdn), false) = (fqdn, row.action == Action::Remove) {
            acc.note_target(fqdn.folded, &row.classes, here);
        }
        let mut warn = self.misspelt_classes(&row);
        warn.extend(self.accounts[i].target_warnings(&row));
        let principal = &self.accounts[i].principal.written;
        for message in warn {
            self.warnings.push(Warning {
                line: row.line,
                principal: principal.clone(),
                message,
            });
        }
        for (field, msg) in found {
            problems.push(Problem::new(self.at(row.line, field), msg));
        }
    }

    /// Adds one resource-based row.
    pub fn add_resource(&mut self, row: ResourceRow, problems: &mut Problems) {
        let mut resources = std::mem::take(&mut self.resources);
        resources.add(row, &|line, field| self.at(line, field), problems);
        self.resources = resources;
    }

    /// The account `row` is about, found or added.
    fn account_of(&mut self, row: &Row) -> usize {
        row.principal.key_into(&mut self.scratch);
        if let Some(&i) = self.index.get(self.scratch.as_str()) {
            return i;
        }
        self.accounts.push(Account::new(row));
        self.index
            .insert(self.scratch.clone(), self.accounts.len() - 1);
        self.accounts.len() - 1
    }

    /// A warning for each service class of `row` that looks like a typo
    /// of a known one (few distinct classes, many rows: verdicts are kept).
    fn misspelt_classes(&mut self, row: &Row) -> Vec<Message> {
        let mut warn = Vec::new();
        for c in &row.classes {
            let verdict = match self.near.get(*c) {
                Some(v) => *v,
                None => *self
                    .near
                    .entry(c.to_string())
                    .or_insert(names::near_miss(c)),
            };
            if let Some(k) = verdict {
                warn.push(Message::new(
                    Rule::Kcd104,
                    format!(
                        "service '{}' looks like a misspelling of '{k}'",
                        show(row.service_written)
                    ),
                ));
            }
        }
        warn
    }

    /// The plan, with the checks that need every row.
    pub fn finish(mut self, problems: &mut Problems) -> Plan {
        let mut principals = Vec::with_capacity(self.accounts.len());
        let words = Arc::new(std::mem::take(&mut self.words));
        // The list of warnings grows once, to its final size (but for rare
        // warnings about values AD takes for one): at forest
        // size it is tens of MiB, and growing it step by step would copy
        // it each time.
        let coming: usize = (self.accounts.iter())
            .flat_map(Account::migration_gaps)
            .map(|(_, _, no_cifs, no_any)| usize::from(no_cifs) + usize::from(no_any))
            .sum();
        self.warnings.reserve_exact(coming + self.accounts.len());
        // Each host's name once, shared by every warning about it.
        let mut hosts = vec![None; words.folded_len()];
        for acc in std::mem::take(&mut self.accounts) {
            principals.push(self.close(acc, &words, &mut hosts));
        }
        principals.sort_by_cached_key(|p| (p.dn.to_lowercase(), p.dn.clone()));
        // Two principals with one DN (as AD compares DNs) are one account
        // written two ways; the later line is the one reported.
        let mut by_line: Vec<&PrincipalPlan> = principals.iter().collect();
        by_line.sort_by_key(|p| p.lines[0]);
        let mut seen: HashMap<String, &PrincipalPlan> = HashMap::new();
        for p in by_line.iter().copied() {
            let key = dn::parse(&p.dn).map_or_else(|_| p.dn.to_lowercase(), |d| d.key());
            match seen.get(&key) {
                Some(first) => problems.push(Problem::new(
                    self.at(p.lines[0], Field::Principal),
                    format!(
                        "'{}' and '{}' (line {}) have the same DN '{}'; write the account one way",
                        echo(&p.principal),
                        echo(&first.principal),
                        first.lines[0],
                        echo(&first.dn)
                    ),
                )),
                None => {
                    seen.insert(key, p);
                }
            }
        }
        drop(seen);
        let mut warnings = self.warnings;
        // Equal warnings read the same: their order among themselves does not show.
        warnings.sort_unstable();
        warnings.dedup();
        let container = |kind: PrincipalType, name: &str, domain: &str| {
            let c = match &self.opts.container {
                Some(c) => c.clone(),
                None => dn::parse(default_container(kind)).expect("static DN"),
            };
            Dn::child(name, &c.join(&Dn::of_domain(domain))).to_string()
        };
        let resources = std::mem::take(&mut self.resources).finish(&container);
        Plan {
            principals,
            resources,
            warnings,
            accepted: Vec::new(),
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
                let domain = &p.domain;
                let container = match &self.opts.container {
                    Some(c) => c.clone(),
                    None => dn::parse(default_container(p.kind)).expect("static DN"),
                };
                let parent = container.join(&Dn::of_domain(domain));
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
                Message::new(
                    Rule::Kcd106,
                    format!(
                        "computer name '{}' is longer than 15 characters (the NetBIOS limit); its sAMAccountName is probably truncated, check the account",
                        show(&p.name)
                    ),
                ),
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
        let add = acc.add.into_spns(words);
        let remove = acc.remove.into_spns(words);
        let replace = acc.replace.into_spns(words);
        if acc.non_ascii {
            for (a, b) in [&add, &remove, &replace].into_iter().flat_map(alike_for_ad) {
                self.warnings.push(Warning {
                    line: acc.first_line,
                    principal: p.written.clone(),
                    message: Message::new(
                        Rule::Kcd107,
                        format!(
                            "'{}' and '{}' differ only in kana type or non-spacing marks, which AD ignores: to the directory they are one value",
                            show(&a),
                            show(&b)
                        ),
                    ),
                });
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
            add,
            remove,
            replace,
            protocol: acc.protocol.map(|(p, _)| p),
            unconstrained_off: acc.unconstrained_off.is_some(),
            lines: acc.lines,
            comments: acc.comments,
            before: None,
            delta: None,
        }
    }
}

/// Pairs of values that kcdplan keeps apart but AD takes for one (they
/// differ only in kana type or non-spacing marks).
fn alike_for_ad(values: &Spns) -> Vec<(String, String)> {
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut pairs = Vec::new();
    for v in values.iter() {
        match seen.get(&names::ad_key(&v)) {
            Some(first) => pairs.push((first.clone(), v)),
            None => {
                seen.insert(names::ad_key(&v), v);
            }
        }
    }
    pairs
}

fn default_container(kind: PrincipalType) -> &'static str {
    match kind {
        PrincipalType::Computer => "CN=Computers",
        PrincipalType::User => "CN=Users",
        PrincipalType::Gmsa => "CN=Managed Service Accounts",
    }
}
