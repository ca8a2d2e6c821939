//! The directory as an export shows it: accounts with their delegation
//! settings, SIDs and security descriptors decoded, host names indexed.
//! Loaded in one streaming pass over the export, keeping only what the
//! plan or the audit needs.

pub mod account;
pub mod descriptor;

use hashbrown::{HashMap, HashSet};
use std::path::Path;

pub use account::Account;

use crate::error::Result;
use crate::ldif::reader::{self, Entry};
use crate::model::ExportInfo;

/// What the plan asks of the export.
#[derive(Debug, Default)]
pub struct Wanted {
    pub dns: HashSet<String>,
    pub sams: HashSet<String>,
    /// Computer FQDNs, to find an account whose sAMAccountName differs
    /// from its host name.
    pub hosts: HashSet<String>,
    /// Hosts the plan delegates to (lowercase, as written in the values):
    /// the only host names worth keeping from the export.
    pub targets: HashSet<String>,
}

/// The part of the directory a plan touches, plus every host name.
#[derive(Debug)]
pub struct Snapshot {
    pub info: ExportInfo,
    pub accounts: Vec<Account>,
    by_dn: HashMap<String, usize>,
    by_sam: HashMap<String, usize>,
    by_host: HashMap<String, usize>,
    /// Lowercase host names (FQDN and first label) from dNSHostName and
    /// every servicePrincipalName, among the plan's target hosts.
    pub hosts: HashSet<String>,
}

impl Snapshot {
    /// Reads the export once, keeping the wanted accounts.
    pub fn load(path: &Path, wanted: &Wanted) -> Result<Snapshot> {
        let file = path.display().to_string();
        let mut accounts = Vec::new();
        let mut hosts = HashSet::new();
        let info = reader::read(path, |e| {
            index_hosts(&mut hosts, &e, Some(&wanted.targets));
            let dn_hit = wanted.dns.contains(&e.dn.to_lowercase());
            let sam_hit = e
                .text("samaccountname")
                .is_some_and(|s| wanted.sams.contains(&s.to_lowercase()));
            let host_hit = e
                .text("dnshostname")
                .is_some_and(|h| wanted.hosts.contains(&h.to_lowercase()));
            if dn_hit || sam_hit || host_hit {
                if let Some(a) = Account::from_entry(&file, &e)? {
                    accounts.push(a);
                }
            }
            Ok(())
        })?;
        let mut by_dn = HashMap::new();
        let mut by_sam = HashMap::new();
        let mut by_host = HashMap::new();
        for (i, a) in accounts.iter().enumerate() {
            by_dn.insert(a.dn.to_lowercase(), i);
            by_sam.entry(a.sam.to_lowercase()).or_insert(i);
            if let Some(h) = &a.dns_host_name {
                by_host.entry(h.to_lowercase()).or_insert(i);
            }
        }
        Ok(Snapshot {
            info,
            accounts,
            by_dn,
            by_sam,
            by_host,
            hosts,
        })
    }

    pub fn by_dn(&self, dn: &str) -> Option<&Account> {
        self.by_dn
            .get(&dn.to_lowercase())
            .map(|&i| &self.accounts[i])
    }

    pub fn by_sam(&self, sam: &str) -> Option<&Account> {
        self.by_sam
            .get(&sam.to_lowercase())
            .map(|&i| &self.accounts[i])
    }

    pub fn by_host(&self, fqdn: &str) -> Option<&Account> {
        self.by_host
            .get(&fqdn.to_lowercase())
            .map(|&i| &self.accounts[i])
    }

    pub fn host_exists(&self, host: &str) -> bool {
        self.hosts.contains(&host.to_lowercase())
    }
}

/// Adds an entry's host names (dNSHostName and every SPN host, each as FQDN
/// and first label, lowercase) to `hosts`; with `only`, just those in it.
pub fn index_hosts(hosts: &mut HashSet<String>, e: &Entry, only: Option<&HashSet<String>>) {
    // Most hosts are already known (a computer's DNS name and SPNs name
    // the same host): look up before allocating.
    let mut keep = |h: &str| {
        if only.is_none_or(|o| o.contains(h)) && !hosts.contains(h) {
            hosts.insert(h.to_string());
        }
    };
    let mut add = |h: &str| {
        let h = crate::names::fold(h);
        if let Some((short, _)) = h.split_once('.') {
            keep(short);
        }
        keep(&h);
    };
    if let Some(d) = e.text("dnshostname") {
        add(d);
    }
    for spn in e.texts("serviceprincipalname") {
        if let Some(h) = spn_host(spn) {
            add(h);
        }
    }
}

/// The host of an SPN `service/host[:port][/name]`.
pub fn spn_host(spn: &str) -> Option<&str> {
    let rest = spn.split_once('/')?.1;
    let host = rest.split('/').next()?;
    let host = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spn_hosts() {
        assert_eq!(
            spn_host("MSSQLSvc/sql1.contoso.com:1433"),
            Some("sql1.contoso.com")
        );
        assert_eq!(
            spn_host("HOST/DC1.contoso.com/contoso.com"),
            Some("DC1.contoso.com")
        );
        assert_eq!(spn_host("nonsense"), None);
    }
}
