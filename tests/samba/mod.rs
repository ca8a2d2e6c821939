//! A real Active Directory for the tests: Samba's AD database, provisioned
//! once per checkout into the target folder (about 5 s), then copied per
//! test (about 0.02 s). Changes are applied with `ldbmodify` and read back
//! with `ldbsearch` and with Samba's own `samba-tool delegation show`.
//! No daemon runs and nothing touches the network.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub const BASE_DN: &str = "DC=contoso,DC=com";

/// A test domain: the default one, `contoso.com`, and a second one of
/// the same forest's names, `emea.contoso.com`, that holds accounts of the
/// same names (a forest as kcdplan sees it through exports).
pub struct Realm {
    realm: &'static str,
    netbios: &'static str,
    sid: &'static str,
    pub base_dn: &'static str,
    folder: &'static str,
}

pub const CONTOSO: Realm = Realm {
    realm: "CONTOSO.COM",
    netbios: "CONTOSO",
    sid: "S-1-5-21-1111111111-2222222222-3333333333",
    base_dn: BASE_DN,
    folder: "samba-base",
};

pub const EMEA: Realm = Realm {
    realm: "EMEA.CONTOSO.COM",
    netbios: "EMEA",
    sid: "S-1-5-21-1444444444-1555555555-1666666666",
    base_dn: "DC=emea,DC=contoso,DC=com",
    folder: "samba-base-emea",
};

/// The DN of a computer in the default container.
pub fn dn(cn: &str) -> String {
    format!("CN={cn},CN=Computers,{BASE_DN}")
}

const PACKAGES: &str = "samba-common-bin samba-ad-provision samba-dsdb-modules samba-vfs-modules ldb-tools python3-samba";

/// Lines `ldbmodify` may print on stderr for a successful apply. Measured on
/// Debian 12 with Samba 4.17: none. Anything on stderr fails the apply.
const HARMLESS_STDERR: &[&str] = &[];

/// Accounts a test domain holds, created at provisioning time. The 200
/// `HOSTnnn` computers serve the large-plan test; `HV01` and `svc-sql`
/// are in both domains.
fn seed_ldif(realm: &Realm) -> String {
    let base = realm.base_dn;
    let mut s = String::new();
    let computer = |s: &mut String, cn: &str, parent: &str, class: &str| {
        let dn = format!("CN={cn},{parent},{base}");
        let sam = format!("{}$", cn.trim_end_matches('$'));
        s.push_str(&format!(
            "dn{}\nobjectClass: {class}\nsAMAccountName{}\nuserAccountControl: 4096\n",
            kcdplan::ldif::writer::value_spec(&dn),
            kcdplan::ldif::writer::value_spec(&sam)
        ));
        if class == "msDS-GroupManagedServiceAccount" {
            s.push_str("msDS-ManagedPasswordInterval: 30\n");
        }
        s.push('\n');
    };
    let user = |s: &mut String, dn: &str, sam: &str| {
        s.push_str(&format!(
            "dn{}\nobjectClass: user\nsAMAccountName{}\nuserAccountControl: 514\n\n",
            kcdplan::ldif::writer::value_spec(dn),
            kcdplan::ldif::writer::value_spec(sam)
        ));
    };
    if realm.base_dn != BASE_DN {
        for cn in ["HV01", "FS1"] {
            computer(&mut s, cn, "CN=Computers", "computer");
        }
        user(&mut s, &format!("CN=svc-sql,CN=Users,{base}"), "svc-sql");
        return s;
    }
    for cn in [
        "VMHOST1",
        "VMHOST2",
        "FHOST1",
        "SQL1",
        "WEB1",
        "MÜLLER-PC",
        "HV01",
    ] {
        computer(&mut s, cn, "CN=Computers", "computer");
    }
    user(&mut s, &format!("CN=svc-sql,CN=Users,{base}"), "svc-sql");
    for i in 1..=200 {
        computer(&mut s, &format!("HOST{i:03}"), "CN=Computers", "computer");
    }
    computer(
        &mut s,
        "gmsa-web",
        "CN=Managed Service Accounts",
        "msDS-GroupManagedServiceAccount",
    );
    // A computer outside the default container, where a derived DN is wrong.
    s.push_str(&format!(
        "dn: OU=Servers,{base}\nobjectClass: organizationalUnit\n\n"
    ));
    computer(&mut s, "APP1", "OU=Servers", "computer");
    // Names that need escaping or base64, for the hostile-input tests.
    let ou = format!("OU=O'Brien \u{2018}Team\u{2019} \u{201B}x\u{201A},{base}");
    s.push_str(&format!(
        "dn{}\nobjectClass: organizationalUnit\n\n",
        kcdplan::ldif::writer::value_spec(&ou)
    ));
    let users = [
        (format!("CN=svc-web,CN=Users,{base}"), "svc-web"),
        (format!("CN=Svc\\, Web,CN=Users,{base}"), "svc-web2"),
        (format!("CN=O'Brien\\, Svc,{ou}"), "svc-o'brien"),
        (
            format!("CN=a\\+b\\=c#\\;\\<\\>\\\",CN=Users,{base}"),
            "svc-plus",
        ),
    ];
    for (dn, sam) in users {
        user(&mut s, &dn, sam);
    }
    s
}

fn have_tools() -> bool {
    ["samba-tool", "ldbmodify", "ldbsearch", "ldbadd"]
        .iter()
        .all(|t| {
            Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        })
}

static BASE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
static BASE_EMEA: OnceLock<Result<PathBuf, String>> = OnceLock::new();

fn run(cmd: &mut Command) -> Result<std::process::Output, String> {
    cmd.output().map_err(|e| format!("{cmd:?}: {e}"))
}

fn provision(realm: &Realm) -> Result<PathBuf, String> {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let base = root.join(realm.folder);
    let stamp = format!("{}\n{}", env!("CARGO_PKG_VERSION"), seed_ldif(realm));
    if std::fs::read_to_string(base.join("kcdplan-stamp"))
        .ok()
        .as_deref()
        == Some(&stamp)
    {
        return Ok(base);
    }
    let tmp = root.join(format!("{}.tmp{}", realm.folder, std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let out = run(Command::new("samba-tool").args([
        "domain",
        "provision",
        "-s",
        "/dev/null",
        &format!("--targetdir={}", tmp.display()),
        &format!("--realm={}", realm.realm),
        &format!("--domain={}", realm.netbios),
        "--server-role=dc",
        "--dns-backend=NONE",
        "--host-name=DC1",
        "--adminpass=Passw0rd!Lab",
        &format!("--domain-sid={}", realm.sid),
    ]))?;
    if !out.status.success() {
        return Err(format!(
            "samba-tool domain provision failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let seed = tmp.join("seed.ldif");
    std::fs::write(&seed, seed_ldif(realm)).unwrap();
    let d = Domain {
        dir: tmp.clone(),
        base_dn: realm.base_dn,
        _keep: None,
    };
    let out = run(Command::new("ldbadd").args(d.ldb_args()).arg(&seed))?;
    if !out.status.success() {
        return Err(format!(
            "ldbadd of the seed accounts failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    std::fs::write(tmp.join("kcdplan-stamp"), &stamp).unwrap();
    let _ = std::fs::remove_dir_all(&base);
    std::fs::rename(&tmp, &base).map_err(|e| e.to_string())?;
    // smb.conf holds absolute paths: point them at the final folder.
    rewrite_conf(&base, &tmp);
    Ok(base)
}

fn rewrite_conf(dir: &Path, old: &Path) {
    let conf = dir.join("etc/smb.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(
        &conf,
        text.replace(&old.display().to_string(), &dir.display().to_string()),
    )
    .unwrap();
}

/// One throwaway copy of a test domain.
pub struct Domain {
    pub dir: PathBuf,
    pub base_dn: &'static str,
    _keep: Option<tempfile::TempDir>,
}

impl Domain {
    /// A fresh copy, or `None` when Samba tests are explicitly skipped.
    /// Fails loudly when Samba is missing.
    pub fn new() -> Option<Domain> {
        Domain::of(&CONTOSO)
    }

    /// A fresh copy of `realm`'s domain, as [`Domain::new`].
    pub fn of(realm: &'static Realm) -> Option<Domain> {
        if std::env::var("KCDPLAN_SKIP_SAMBA").as_deref() == Ok("1") {
            eprintln!("\n*** SKIPPED: Samba AD test (KCDPLAN_SKIP_SAMBA=1); the LDIF was NOT checked against a directory ***\n");
            return None;
        }
        if !have_tools() {
            panic!(
                "Samba AD tools (samba-tool, ldbmodify, ldbsearch) are not installed.\n\
                 Install them with:\n  apt-get install -y --no-install-recommends {PACKAGES}\n\
                 or run tests/run.sh, which installs them. To skip these tests explicitly, set KCDPLAN_SKIP_SAMBA=1."
            );
        }
        let cell = if realm.base_dn == BASE_DN {
            &BASE
        } else {
            &BASE_EMEA
        };
        let base = cell
            .get_or_init(|| provision(realm))
            .as_ref()
            .unwrap_or_else(|e| panic!("{e}"));
        let keep = tempfile::tempdir().unwrap();
        let dir = keep.path().join("dom");
        let st = Command::new("cp")
            .arg("-a")
            .arg(base)
            .arg(&dir)
            .status()
            .unwrap();
        assert!(st.success());
        rewrite_conf(&dir, base);
        Some(Domain {
            dir,
            base_dn: realm.base_dn,
            _keep: Some(keep),
        })
    }

    fn ldb_args(&self) -> Vec<String> {
        vec![
            "-H".into(),
            self.dir.join("private/sam.ldb").display().to_string(),
            format!("--configfile={}", self.dir.join("etc/smb.conf").display()),
        ]
    }

    /// Applies an LDIF file. It counts only with exit code 0, nothing on
    /// stderr but listed harmless noise, and `Modified N records
    /// successfully` with N the number of records in the file.
    pub fn apply(&self, ldif: &Path) -> Result<usize, String> {
        let text = std::fs::read_to_string(ldif).map_err(|e| e.to_string())?;
        // (A folded line starts with a space: a record's `dn:` never does.)
        let records = text.lines().filter(|l| l.starts_with("dn:")).count();
        let out = run(Command::new("ldbmodify").args(self.ldb_args()).arg(ldif))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let noise: Vec<&str> = stderr
            .lines()
            .filter(|l| !HARMLESS_STDERR.contains(l))
            .collect();
        if !out.status.success() || !noise.is_empty() {
            return Err(format!(
                "ldbmodify failed (exit {:?}):\nstdout: {stdout}\nstderr: {stderr}",
                out.status.code()
            ));
        }
        let want = format!("Modified {records} records successfully");
        if !stdout.lines().any(|l| l.trim() == want) {
            return Err(format!("ldbmodify did not say '{want}':\n{stdout}"));
        }
        Ok(records)
    }

    /// Adds values directly (to seed a state), through ldbmodify.
    pub fn seed(&self, dn: &str, values: &[&str]) {
        let mut l = format!(
            "dn{}\nchangetype: modify\nadd: msDS-AllowedToDelegateTo\n",
            kcdplan::ldif::writer::value_spec(dn)
        );
        for v in values {
            l.push_str(&format!(
                "msDS-AllowedToDelegateTo{}\n",
                kcdplan::ldif::writer::value_spec(v)
            ));
        }
        l.push_str("-\n");
        let f = self.dir.join("seed-change.ldif");
        std::fs::write(&f, l).unwrap();
        self.apply(&f).unwrap();
    }

    /// A read-only export of every account, as `ldbsearch` writes it (the
    /// attributes kcdplan reads), saved to `path`.
    pub fn export(&self, path: &Path) {
        let out = run(Command::new("ldbsearch")
            .args(self.ldb_args())
            .args([
                "-b",
                self.base_dn,
                "(|(objectClass=computer)(objectClass=user))",
            ])
            .arg("objectClass")
            .args(kcdplan::ldif::reader::SPELLED))
        .unwrap();
        assert!(
            out.status.success(),
            "ldbsearch export: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(path, out.stdout).unwrap();
    }

    /// Applies change records given as text (every record must apply).
    pub fn modify(&self, ldif: &str) {
        let f = self.dir.join("modify-change.ldif");
        std::fs::write(&f, ldif).unwrap();
        self.apply(&f).unwrap();
    }

    /// An account's objectSid, as Samba stores it.
    pub fn sid_of(&self, dn: &str) -> String {
        self.attr(dn, "objectSid").remove(0)
    }

    /// The export at `from` as ldifde and Get-ADObject write one: objectSid
    /// and msDS-AllowedToActOnBehalfOfOtherIdentity as base64 of their
    /// binary forms, packed by Samba's own NDR code (python3-samba), not
    /// by kcdplan.
    pub fn binary_export(&self, from: &Path, to: &Path) {
        const SCRIPT: &str = r#"
import base64, sys
from samba.dcerpc import security
from samba.ndr import ndr_pack
text = open(sys.argv[1], encoding='utf-8').read()
lines = []
for line in text.split('\n'):
    if line.startswith(' ') and lines:
        lines[-1] += line[1:]
    else:
        lines.append(line)
domain = security.dom_sid(sys.argv[3])
out = []
for line in lines:
    name, sep, value = line.partition(': ')
    if sep and name.lower() == 'objectsid':
        line = name + ':: ' + base64.b64encode(ndr_pack(security.dom_sid(value))).decode()
    elif sep and name.lower() == 'msds-allowedtoactonbehalfofotheridentity':
        sd = security.descriptor.from_sddl(value, domain)
        line = name + ':: ' + base64.b64encode(ndr_pack(sd)).decode()
    out.append(line)
open(sys.argv[2], 'w', encoding='utf-8').write('\n'.join(out))
"#;
        let sid = self.sid_of(&format!("CN=DC1,OU=Domain Controllers,{}", self.base_dn));
        let domain = sid.rsplit_once('-').unwrap().0.to_string();
        let out = run(Command::new("/usr/bin/python3")
            .arg("-c")
            .arg(SCRIPT)
            .arg(from)
            .arg(to)
            .arg(domain))
        .unwrap();
        assert!(
            out.status.success(),
            "binary export: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs `samba-tool delegation ARGS... -H .. -s ..`, requires success,
    /// returns its standard output.
    pub fn samba_tool(&self, args: &[&str]) -> String {
        let out = run(Command::new("samba-tool")
            .arg("delegation")
            .args(args)
            .arg("-H")
            .arg(self.dir.join("private/sam.ldb"))
            .arg("-s")
            .arg(self.dir.join("etc/smb.conf")))
        .unwrap();
        assert!(
            out.status.success(),
            "samba-tool delegation {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Sets userAccountControl directly.
    pub fn set_uac(&self, dn: &str, uac: u32) {
        let f = self.dir.join("uac-change.ldif");
        std::fs::write(
            &f,
            format!(
                "dn{}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: {uac}\n-\n",
                kcdplan::ldif::writer::value_spec(dn)
            ),
        )
        .unwrap();
        self.apply(&f).unwrap();
    }

    /// `samba-tool delegation show`, whole: (unconstrained, protocol
    /// transition, values, DNs allowed by resource-based delegation).
    pub fn show_all(&self, sam: &str) -> (bool, bool, Vec<String>, Vec<String>) {
        let text = self.samba_tool(&["show", sam]);
        (
            text.contains("UF_TRUSTED_FOR_DELEGATION: True"),
            text.contains("UF_TRUSTED_TO_AUTHENTICATE_FOR_DELEGATION: True"),
            text.lines()
                .filter_map(|l| l.strip_prefix("msDS-AllowedToDelegateTo: "))
                .map(str::to_string)
                .collect(),
            text.lines()
                .filter_map(|l| l.strip_prefix("msDS-AllowedToActOnBehalfOfOtherIdentity: "))
                .map(str::to_string)
                .collect(),
        )
    }

    /// Values of one attribute, as `ldbsearch --show-binary` prints them.
    pub fn attr(&self, dn: &str, attr: &str) -> Vec<String> {
        let out = run(Command::new("ldbsearch")
            .args(self.ldb_args())
            .arg("--show-binary")
            .args(["-s", "base", "-b", dn, attr]))
        .unwrap();
        assert!(
            out.status.success(),
            "ldbsearch {dn}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let lines = unfold(&text);
        assert!(
            lines.iter().any(|l| l.starts_with("# returned 1 records")),
            "no such object {dn}:\n{text}"
        );
        let prefix = attr.to_lowercase();
        lines
            .iter()
            .filter_map(|l| {
                let (name, rest) = l.split_at(l.find(':')?);
                (name.to_lowercase() == prefix).then(|| samba_value(rest))
            })
            .collect()
    }

    pub fn delegate_to(&self, dn: &str) -> Vec<String> {
        self.attr(dn, "msDS-AllowedToDelegateTo")
    }

    pub fn uac(&self, dn: &str) -> u32 {
        self.attr(dn, "userAccountControl")[0].parse().unwrap()
    }

    /// `samba-tool delegation show`: (values, protocol transition on).
    pub fn show(&self, sam: &str) -> (Vec<String>, bool) {
        let (_, t2a, values, _) = self.show_all(sam);
        (values, t2a)
    }
}

/// Logical lines of ldbsearch output (a line starting with a space
/// continues the one before).
fn unfold(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        match (line.strip_prefix(' '), out.last_mut()) {
            (Some(rest), Some(last)) => last.push_str(rest),
            _ => out.push(line.to_string()),
        }
    }
    out
}

/// A value exactly as Samba stored it, from ldbsearch's `: value` or
/// `:: base64`. Samba writes one space after the colon and a leading space
/// of the value plain, which RFC 2849 readers (kcdplan's included) drop:
/// the harness must see what is stored, so it reads Samba's way.
fn samba_value(spec: &str) -> String {
    use base64::Engine;
    if let Some(b64) = spec.strip_prefix(":: ") {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("base64 value");
        String::from_utf8(bytes).expect("UTF-8 value")
    } else {
        spec.strip_prefix(": ").unwrap_or("").to_string()
    }
}
