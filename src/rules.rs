//! The rule catalogue: every finding kcdplan reports, in a plan or in the
//! audit, is one of these rules, with a stable ID, a severity and a reason
//! in one sentence. KCD001-KCD099 are risks a security reviewer weighs;
//! KCD101 and up are lints, delegations that are legal but probably not
//! what was meant. IDs are never reused or renumbered: scripts and
//! `--accept-risk` name them.

use serde::{Serialize, Serializer};

/// How bad a finding is, lowest first (so that `>=` reads "at least").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// Where a rule is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// In plans (`check`, `render`).
    Plan,
    /// In the audit of an export.
    Audit,
    Both,
}

/// One rule of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    Kcd001,
    Kcd002,
    Kcd003,
    Kcd004,
    Kcd005,
    Kcd006,
    Kcd007,
    Kcd008,
    Kcd009,
    Kcd010,
    Kcd011,
    Kcd012,
    Kcd013,
    Kcd014,
    Kcd101,
    Kcd102,
    Kcd103,
    Kcd104,
    Kcd105,
    Kcd106,
    Kcd107,
    Kcd108,
    Kcd109,
}

/// What the catalogue says of a rule.
#[derive(Debug)]
pub struct Info {
    pub id: &'static str,
    pub severity: Severity,
    pub scope: Scope,
    /// What the rule finds, in a few words.
    pub title: &'static str,
    /// Why it matters, in one sentence.
    pub reason: &'static str,
    /// The matching PingCastle or ANSSI rules, where there are any.
    pub see_also: &'static str,
}

use Scope::{Audit, Both, Plan};
use Severity::{Critical, High, Low, Medium};

const CATALOGUE: &[Info] = &[
    Info {
        id: "KCD001",
        severity: Critical,
        scope: Both,
        title: "unconstrained delegation on an account that is not a domain controller",
        reason: "the account receives a forwardable ticket of every user who signs in to it, so whoever controls it can act as any of them, domain admins included, toward any service",
        see_also: "PingCastle P-UnconstrainedDelegation; ANSSI vuln2_delegation_t4d",
    },
    Info {
        id: "KCD002",
        severity: Critical,
        scope: Both,
        title: "delegation to a service on a domain controller",
        reason: "whoever controls the account can act as any user toward the domain controller, and since the service part of a delegated ticket is not protected, any service there is as good as ldap: enough to replicate every password (DCSync)",
        see_also: "PingCastle P-DelegationDCa2d2, P-DelegationDCt2a4d; ANSSI vuln1_delegation_a2d2, vuln1_delegation_t2a4d",
    },
    Info {
        id: "KCD003",
        severity: Critical,
        scope: Both,
        title: "delegation to krbtgt, or resource-based delegation on the krbtgt account",
        reason: "a ticket for krbtgt is a ticket-granting ticket: the account could obtain one for any user and act as that user everywhere",
        see_also: "Purple Knight SI000099",
    },
    Info {
        id: "KCD004",
        severity: Critical,
        scope: Both,
        title: "resource-based delegation on a domain controller",
        reason: "the principals allowed can act as any user toward the domain controller, which is enough to replicate every password",
        see_also: "PingCastle P-DelegationDCsourcedeleg; ANSSI vuln1_delegation_sourcedeleg",
    },
    Info {
        id: "KCD005",
        severity: Critical,
        scope: Both,
        title: "resource-based delegation open to a broad group",
        reason: "every member of the group (any user, or any computer account anyone may create) can act as any user toward this account",
        see_also: "",
    },
    Info {
        id: "KCD006",
        severity: High,
        scope: Both,
        title: "protocol transition (use any authentication protocol)",
        reason: "the account can obtain a ticket for any user to its targets without that user ever signing in, so taking over the account is taking over those services as anyone",
        see_also: "PingCastle P-DelegationDCt2a4d (toward a domain controller)",
    },
    Info {
        id: "KCD007",
        severity: High,
        scope: Both,
        title: "protocol transition on a user account",
        reason: "a user account's password is chosen by a person and its tickets can be requested by anyone (Kerberoasting), so it is the easiest delegating account to take over; use a gMSA or a computer account",
        see_also: "",
    },
    Info {
        id: "KCD008",
        severity: Medium,
        scope: Both,
        title: "protocol transition with no delegation targets",
        reason: "the flag serves no delegation and is a standing grant for the next value anyone adds; clear it",
        see_also: "",
    },
    Info {
        id: "KCD009",
        severity: Medium,
        scope: Both,
        title: "delegation to the host service class",
        reason: "host stands for every service mapped to it (cifs, http, rpcss, wsman and dozens more), so it grants far more than one service",
        see_also: "",
    },
    Info {
        id: "KCD010",
        severity: Medium,
        scope: Both,
        title: "a target host found on no account in the export",
        reason: "whoever later registers that host name or SPN receives the delegated tickets",
        see_also: "",
    },
    Info {
        id: "KCD011",
        severity: Low,
        scope: Both,
        title: "only one SPN form of a target, or values that differ only in case",
        reason: "clients ask for the short or the fully qualified name, so one form alone makes delegation fail for some of them, and values that differ only in case are one value to AD",
        see_also: "",
    },
    Info {
        id: "KCD012",
        severity: Medium,
        scope: Both,
        title: "an odd resource-based delegation descriptor",
        reason: "the descriptor holds entries that tools do not write (deny, inherit-only, object or callback entries, or a mask without CONTROL_ACCESS or with generic bits), so what it allows is not what it appears to allow",
        see_also: "",
    },
    Info {
        id: "KCD013",
        severity: Low,
        scope: Both,
        title: "delegation configured on a disabled account",
        reason: "a disabled account's delegation is forgotten until someone enables the account again",
        see_also: "PingCastle P-UnconstrainedDelegation (counts disabled accounts)",
    },
    Info {
        id: "KCD014",
        severity: High,
        scope: Audit,
        title: "a privileged account (adminCount=1) not marked sensitive",
        reason: "any account trusted for delegation can act as this administrator unless it is marked sensitive and cannot be delegated (or is in Protected Users)",
        see_also: "PingCastle P-Delegated; STIG V-36435; ANSSI vuln3_protected_users",
    },
    Info {
        id: "KCD101",
        severity: Medium,
        scope: Plan,
        title: "a target in another domain",
        reason: "classic constrained delegation does not cross domains: this delegation will not work (use resource-based delegation)",
        see_also: "",
    },
    Info {
        id: "KCD102",
        severity: Low,
        scope: Plan,
        title: "Hyper-V migration service without cifs to the same host",
        reason: "Hyper-V live migration needs both services",
        see_also: "",
    },
    Info {
        id: "KCD103",
        severity: Low,
        scope: Plan,
        title: "Hyper-V migration service without protocol transition",
        reason: "Hyper-V live migration on Windows Server 2016 and later needs use any authentication protocol",
        see_also: "",
    },
    Info {
        id: "KCD104",
        severity: Medium,
        scope: Plan,
        title: "a service class that looks misspelt",
        reason: "an SPN that no service registers delegates nothing",
        see_also: "",
    },
    Info {
        id: "KCD105",
        severity: Low,
        scope: Plan,
        title: "an account that delegates to itself",
        reason: "a service needs no delegation to reach itself: probably a mistaken row",
        see_also: "",
    },
    Info {
        id: "KCD106",
        severity: Low,
        scope: Plan,
        title: "a computer name longer than 15 characters",
        reason: "the sAMAccountName is then truncated to the NetBIOS limit, and the account planned may not be the one meant",
        see_also: "",
    },
    Info {
        id: "KCD107",
        severity: Low,
        scope: Plan,
        title: "values AD takes for one",
        reason: "they differ only in kana type or non-spacing marks, which AD ignores when it compares values",
        see_also: "",
    },
    Info {
        id: "KCD108",
        severity: Medium,
        scope: Plan,
        title: "a user account without a servicePrincipalName",
        reason: "an account without one cannot receive the service tickets that delegation passes on",
        see_also: "",
    },
    Info {
        id: "KCD109",
        severity: Low,
        scope: Plan,
        title: "a short SPN form left behind",
        reason: "removing only the FQDN form of a value leaves the delegation in place through its short form",
        see_also: "",
    },
];

impl Rule {
    pub const ALL: [Rule; 23] = [
        Rule::Kcd001,
        Rule::Kcd002,
        Rule::Kcd003,
        Rule::Kcd004,
        Rule::Kcd005,
        Rule::Kcd006,
        Rule::Kcd007,
        Rule::Kcd008,
        Rule::Kcd009,
        Rule::Kcd010,
        Rule::Kcd011,
        Rule::Kcd012,
        Rule::Kcd013,
        Rule::Kcd014,
        Rule::Kcd101,
        Rule::Kcd102,
        Rule::Kcd103,
        Rule::Kcd104,
        Rule::Kcd105,
        Rule::Kcd106,
        Rule::Kcd107,
        Rule::Kcd108,
        Rule::Kcd109,
    ];

    pub fn info(self) -> &'static Info {
        &CATALOGUE[self as usize]
    }

    pub fn id(self) -> &'static str {
        self.info().id
    }

    pub fn severity(self) -> Severity {
        self.info().severity
    }

    /// Whether the rule is a risk (KCD0xx) rather than a lint.
    pub fn is_risk(self) -> bool {
        self < Rule::Kcd101
    }

    /// The rule with this ID (any case).
    pub fn find(id: &str) -> Option<Rule> {
        Rule::ALL
            .into_iter()
            .find(|r| r.id().eq_ignore_ascii_case(id.trim()))
    }
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalogue and the enum are one list: each rule finds its own
    /// entry, IDs are unique and in order, reasons are one sentence.
    #[test]
    fn catalogue_matches_the_rules() {
        assert_eq!(CATALOGUE.len(), Rule::ALL.len());
        for (i, r) in Rule::ALL.into_iter().enumerate() {
            assert_eq!(r as usize, i);
            let n: u32 = r.id()[3..].parse().unwrap();
            assert_eq!(r.is_risk(), n < 100, "{}", r.id());
            assert_eq!(Rule::find(&r.id().to_lowercase()), Some(r));
            let reason = r.info().reason;
            assert!(!reason.ends_with('.') && !reason.contains(". "), "{reason}");
        }
        let mut ids: Vec<&str> = CATALOGUE.iter().map(|i| i.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), CATALOGUE.len());
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(Rule::find("KCD999"), None);
    }
}
