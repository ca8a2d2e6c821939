//! The directory as an export shows it: accounts with their delegation
//! settings, SIDs and security descriptors decoded, host names indexed.
//! Loaded in one streaming pass over the export, keeping only what the
//! plan or the audit needs.

use hashbrown::{HashMap, HashSet};
use std::path::Path;

use crate::error::{Error, Location, Problem, Result};
use crate::export::{self, AttrValue, Entry, ExportInfo};
use crate::sanitize::show;

/// userAccountControl flags (MS-ADTS 2.2.16).
pub const UF_SERVER_TRUST_ACCOUNT: u32 = 0x2000;
pub const UF_TRUSTED_FOR_DELEGATION: u32 = 0x80000;
pub const UF_NOT_DELEGATED: u32 = 0x100000;
pub const UF_TRUSTED_TO_AUTH_FOR_DELEGATION: u32 = 0x1000000;

/// One account of the export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub line: u64,
    pub dn: String,
    pub sam: String,
    pub dns_host_name: Option<String>,
    pub uac: u32,
    pub sid: Option<String>,
    pub delegate_to: Vec<String>,
    /// SIDs allowed to delegate to this account (resource-based).
    pub rbcd: Vec<String>,
}

impl Account {
    /// The account an export entry describes (`None` without sAMAccountName).
    pub fn from_entry(file: &str, e: &Entry) -> Result<Option<Account>> {
        let Some(sam) = e.text("samaccountname") else {
            return Ok(None);
        };
        let bad = |what: String| Error::input(Problem::new(Location::line(file, e.line), what));
        let uac = match e.text("useraccountcontrol") {
            None => 0,
            Some(t) => t.trim().parse::<i64>().map_err(|_| {
                bad(format!(
                    "{}: userAccountControl '{}' is not a number",
                    show(&e.dn),
                    show(t)
                ))
            })? as u32,
        };
        let sid = match e.values("objectsid").next() {
            None => None,
            Some(v) => Some(
                sid_text(v)
                    .ok_or_else(|| bad(format!("{}: objectSid is not a SID", show(&e.dn))))?,
            ),
        };
        let mut rbcd = Vec::new();
        for v in e.values("msds-allowedtoactonbehalfofotheridentity") {
            rbcd.extend(allowed_sids(v).map_err(|m| {
                bad(format!(
                    "{}: msDS-AllowedToActOnBehalfOfOtherIdentity: {m}",
                    show(&e.dn)
                ))
            })?);
        }
        Ok(Some(Account {
            line: e.line,
            dn: e.dn.to_string(),
            sam: sam.to_string(),
            dns_host_name: e.text("dnshostname").map(str::to_string),
            uac,
            sid,
            delegate_to: e
                .texts("msds-allowedtodelegateto")
                .map(str::to_string)
                .collect(),
            rbcd,
        }))
    }

    pub fn protocol_transition(&self) -> bool {
        self.uac & UF_TRUSTED_TO_AUTH_FOR_DELEGATION != 0
    }
}

/// `S-1-5-21-...` from the text or binary (MS-DTYP 2.4.2.2) form.
pub fn sid_text(v: &AttrValue) -> Option<String> {
    match v {
        AttrValue::Text(t) if t.starts_with("S-") => Some(t.to_string()),
        AttrValue::Text(_) => None,
        AttrValue::Bytes(b) => match std::str::from_utf8(b) {
            Ok(t) if t.starts_with("S-") => Some(t.to_string()),
            _ => sid_from_bytes(b).map(|(s, _)| s),
        },
    }
}

/// Decodes a binary SID; returns it and its length in bytes.
pub fn sid_from_bytes(b: &[u8]) -> Option<(String, usize)> {
    let rev = *b.first()?;
    let count = *b.get(1)? as usize;
    let len = 8 + 4 * count;
    if rev != 1 || b.len() < len || count > 15 {
        return None;
    }
    let mut auth = 0u64;
    for &x in &b[2..8] {
        auth = (auth << 8) | u64::from(x);
    }
    let mut s = format!("S-1-{auth}");
    for i in 0..count {
        let o = 8 + 4 * i;
        s.push_str(&format!(
            "-{}",
            u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
        ));
    }
    Some((s, len))
}

/// SIDs granted access by the allow ACEs of a security descriptor, given
/// as SDDL text (Samba's ldbsearch) or as a binary self-relative
/// descriptor (ldifde, ldapsearch; MS-DTYP 2.4.6).
pub fn allowed_sids(v: &AttrValue) -> std::result::Result<Vec<String>, String> {
    match v {
        AttrValue::Text(t) => sddl_allowed(t),
        AttrValue::Bytes(b) => match std::str::from_utf8(b) {
            Ok(t) if t.starts_with("O:") || t.starts_with("D:") => sddl_allowed(t),
            _ => binary_allowed(b),
        },
    }
}

fn sddl_allowed(t: &str) -> std::result::Result<Vec<String>, String> {
    let dacl = t
        .find("D:")
        .map(|i| &t[i + 2..])
        .ok_or("no DACL in the SDDL")?;
    let mut out = Vec::new();
    for ace in dacl.split('(').skip(1) {
        let ace = ace.split(')').next().unwrap_or("");
        let f: Vec<&str> = ace.split(';').collect();
        if f.len() < 6 {
            return Err(format!("malformed ACE '({})'", show(ace)));
        }
        if f[0] == "A" || f[0] == "OA" {
            out.push(f[5].to_string());
        }
    }
    Ok(out)
}

fn binary_allowed(b: &[u8]) -> std::result::Result<Vec<String>, String> {
    let u16at = |o: usize| b.get(o..o + 2).map(|x| u16::from_le_bytes([x[0], x[1]]));
    let u32at = |o: usize| {
        b.get(o..o + 4)
            .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
    };
    if b.first() != Some(&1) {
        return Err("not a security descriptor (revision is not 1)".into());
    }
    let control = u16at(2).ok_or("truncated")?;
    let dacl_off = u32at(16).ok_or("truncated")? as usize;
    if control & 0x4 == 0 || dacl_off == 0 {
        return Ok(Vec::new());
    }
    let count = u16at(dacl_off + 4).ok_or("truncated DACL")? as usize;
    let mut o = dacl_off + 8;
    let mut out = Vec::new();
    for _ in 0..count {
        let kind = *b.get(o).ok_or("truncated ACE")?;
        let size = u16at(o + 2).ok_or("truncated ACE")? as usize;
        if size < 8 {
            return Err("malformed ACE size".into());
        }
        // ACCESS_ALLOWED_ACE_TYPE: header, mask, SID.
        if kind == 0 {
            let (sid, _) = sid_from_bytes(b.get(o + 8..o + size).ok_or("truncated ACE")?)
                .ok_or("malformed SID in ACE")?;
            out.push(sid);
        }
        o += size;
    }
    Ok(out)
}

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
        let info = export::read(path, |e| {
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
        let h = crate::names::lowercase(h);
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

    fn sid_bytes(auth: u8, subs: &[u32]) -> Vec<u8> {
        let mut b = vec![1, subs.len() as u8, 0, 0, 0, 0, 0, auth];
        for s in subs {
            b.extend_from_slice(&s.to_le_bytes());
        }
        b
    }

    #[test]
    fn binary_sid() {
        let b = sid_bytes(5, &[21, 1111111111, 2222222222, 3333333333, 1104]);
        assert_eq!(
            sid_from_bytes(&b).unwrap().0,
            "S-1-5-21-1111111111-2222222222-3333333333-1104"
        );
        assert_eq!(
            sid_text(&AttrValue::Text("S-1-5-32-544".into())).unwrap(),
            "S-1-5-32-544"
        );
    }

    #[test]
    fn sddl_and_binary_descriptor_give_the_same_sids() {
        let sid = sid_bytes(5, &[21, 1, 2, 3, 1104]);
        // O:BA D:(A;;<mask 0xF01FF>;;;sid), self-relative.
        let owner = sid_bytes(5, &[32, 544]);
        let mut ace = vec![0u8, 0, 0, 0];
        ace.extend_from_slice(&0xF01FFu32.to_le_bytes());
        ace.extend_from_slice(&sid);
        let ace_len = ace.len() as u16;
        ace[2..4].copy_from_slice(&ace_len.to_le_bytes());
        let mut acl = vec![2u8, 0];
        acl.extend_from_slice(&(8 + ace_len).to_le_bytes());
        acl.extend_from_slice(&1u16.to_le_bytes());
        acl.extend_from_slice(&[0, 0]);
        acl.extend_from_slice(&ace);
        let mut sd = vec![1u8, 0];
        sd.extend_from_slice(&0x8004u16.to_le_bytes());
        let owner_off = 20u32;
        let dacl_off = owner_off + owner.len() as u32;
        sd.extend_from_slice(&owner_off.to_le_bytes());
        sd.extend_from_slice(&0u32.to_le_bytes());
        sd.extend_from_slice(&0u32.to_le_bytes());
        sd.extend_from_slice(&dacl_off.to_le_bytes());
        sd.extend_from_slice(&owner);
        sd.extend_from_slice(&acl);
        assert_eq!(
            allowed_sids(&AttrValue::Bytes(sd)).unwrap(),
            ["S-1-5-21-1-2-3-1104"]
        );
        assert_eq!(
            allowed_sids(&AttrValue::Text(
                "O:BAD:(A;;RPWPCRCCDCLCLORCWOWDSDDTSW;;;S-1-5-21-1-2-3-1104)".into()
            ))
            .unwrap(),
            ["S-1-5-21-1-2-3-1104"]
        );
        assert!(allowed_sids(&AttrValue::Bytes(vec![1, 0, 4])).is_err());
    }

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
