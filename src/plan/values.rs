//! The planned `msDS-AllowedToDelegateTo` values of an account: an ordered
//! set, unique as AD compares (ignoring case), first spelling kept. Values
//! are kept as numbers into a table of the words they are made of, shared
//! by the whole plan, because at forest size most values are distinct and
//! a string per value would be most of the plan's memory; they are
//! spelled out when read.

use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::{DefaultHashBuilder, HashTable};
use serde::Serialize;

use crate::config::SpnForms;
use crate::names;
use crate::validate::Row;

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

    /// Calls `f` with each value's index, service class and host as
    /// written, without spelling the value out (rules that look at a
    /// class or a host read a forest-sized plan this way).
    pub fn for_each_part(&self, mut f: impl FnMut(usize, &str, &str)) {
        match &self.0 {
            SpnsRepr::Numbers { words, values } => {
                for (i, p) in values.iter().enumerate() {
                    f(i, words.written(p.class), words.written(p.host));
                }
            }
            SpnsRepr::Spelled(v) => {
                for (i, value) in v.iter().enumerate() {
                    let (class, host) = parts(value);
                    f(i, class, host);
                }
            }
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
    pub(super) fn spell_out(&mut self) {
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

/// The words SPN values are made of (service classes and host names), each
/// numbered once as written and once folded for comparison
/// (`str::to_lowercase`, as everywhere else in kcdplan). An account's values
/// are kept as numbers while rows come in and spelled out once, at the end:
/// at forest size most values are distinct, and a string per value costs
/// several times the memory of its numbers.
#[derive(Default)]
pub(super) struct Words {
    /// Each spelling seen, with the number of its folded form.
    written: Vec<(Box<str>, u32)>,
    by_written: HashTable<u32>,
    folded: Vec<Box<str>>,
    by_folded: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

/// A word's numbers in [`Words`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Word {
    pub(super) written: u32,
    pub(super) folded: u32,
}

impl Words {
    pub(super) fn number(&mut self, s: &str) -> Word {
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
        let f = names::fold(s);
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

    /// Whether the value written as `p` is ASCII.
    pub(super) fn is_ascii(&self, p: Parts) -> bool {
        self.written(p.class).is_ascii() && self.written(p.host).is_ascii()
    }

    /// The folded form of a value written as `p`.
    pub(super) fn key(&self, p: Parts) -> Parts {
        Parts {
            class: self.written[p.class as usize].1,
            host: self.written[p.host as usize].1,
            port: p.port,
        }
    }

    pub(super) fn written(&self, i: u32) -> &str {
        &self.written[i as usize].0
    }

    /// How many folded words there are (each numbered below this).
    pub(super) fn folded_len(&self) -> usize {
        self.folded.len()
    }

    pub(super) fn folded(&self, i: u32) -> &str {
        &self.folded[i as usize]
    }

    /// Appends the SPN value `p` (numbers as written) to `out`.
    pub(super) fn spell(&self, p: Parts, out: &mut String) {
        use std::fmt::Write;
        let (class, host) = (self.written(p.class), self.written(p.host));
        out.reserve(class.len() + host.len() + 7);
        out.push_str(class);
        out.push('/');
        out.push_str(host);
        if p.port != 0 {
            let _ = write!(out, ":{}", p.port);
        }
    }
}

/// The service class and host of a value `class/host[:port]`.
pub fn parts(value: &str) -> (&str, &str) {
    let (class, rest) = value.split_once('/').unwrap_or((value, ""));
    let host = rest.rsplit_once(':').map_or(rest, |(h, _)| h);
    (class, host)
}

/// An SPN value `class/host[:port]` as word numbers; port 0: no port (a
/// port is 1 to 65535). A class holds neither `/` nor `:` and a host holds
/// neither either, so two values are equal, folded, exactly when their
/// folded parts are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Parts {
    class: u32,
    host: u32,
    port: u16,
}

/// One value of a row: folded (to compare) and as written (to keep).
#[derive(Debug, Clone, Copy)]
pub(super) struct SpnValue {
    key: Parts,
    pub(super) written: Parts,
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
pub(super) struct ValueSet {
    /// As first written; the folded form comes from `words`.
    written: Vec<Parts>,
    rows: Vec<u32>,
    /// Indexes into `written`, by the hash of the folded value.
    index: HashTable<u32>,
}

impl ValueSet {
    pub(super) fn find(&self, v: &SpnValue, words: &Words) -> Option<usize> {
        let written = &self.written;
        self.index
            .find(v.hash, |&i| words.key(written[i as usize]) == v.key)
            .map(|&i| i as usize)
    }

    /// Adds `v` unless an equal value is already in.
    pub(super) fn insert(&mut self, v: &SpnValue, row: u32, words: &Words) {
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

    pub(super) fn row_of(&self, v: &SpnValue, words: &Words) -> Option<u32> {
        self.find(v, words).map(|i| self.rows[i])
    }

    /// The values as the plan keeps them.
    pub(super) fn into_spns(self, words: &Arc<Words>) -> Spns {
        Spns(SpnsRepr::Numbers {
            words: words.clone(),
            values: self.written,
        })
    }
}

pub(super) fn number(n: usize) -> u32 {
    u32::try_from(n).expect("fewer than 2^32 values")
}

/// The SPN values one row stands for, into `out`.
pub(super) fn row_values(
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
