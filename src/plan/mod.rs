//! The plan: per delegating account, what changes in its
//! `msDS-AllowedToDelegateTo` and protocol transition, with the warnings
//! found; and, with `--current`, the account before and the exact change.
//! [`Planner`] builds it from checked rows.

mod planner;
pub mod resources;
pub mod risks;
mod values;
mod warnings;

use serde::Serialize;

pub use planner::Planner;
pub use resources::ResourcePlan;
pub use values::{Spn, Spns};
pub use warnings::{Message, Warning};

use crate::model::{DnSource, Mode, PrincipalType, Protocol};

/// Everything planned for one delegating account.
#[derive(Debug, Clone, Serialize)]
pub struct PrincipalPlan {
    /// The account as first written in the CSV.
    pub principal: String,
    #[serde(rename = "type")]
    pub kind: PrincipalType,
    pub sam_account_name: String,
    /// The account's DNS domain: with the sAMAccountName, its identity.
    pub domain: String,
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
    /// Turn unconstrained delegation (TRUSTED_FOR_DELEGATION) off.
    pub unconstrained_off: bool,
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
    /// Whether the account is a domain controller (for the risk rules).
    #[serde(skip)]
    pub domain_controller: bool,
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

/// A principal allowed to act toward a resource (resource-based
/// delegation), as the CSV names it.
#[derive(Debug, Clone, Serialize)]
pub struct Allowed {
    /// As written in the CSV.
    pub principal: String,
    #[serde(rename = "type")]
    pub kind: PrincipalType,
    pub sam_account_name: String,
    pub domain: String,
    /// The CSV's `principal_sid`, or, with `--current`, the export's.
    pub sid: Option<String>,
    /// The first CSV line that names it.
    pub line: u64,
}

/// A principal a descriptor allows, by SID, named where the export can.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holder {
    pub sid: String,
    /// sAMAccountName (or well-known name); `None` when unknown.
    pub name: Option<String>,
}

/// A resource's descriptor as the export shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RbcdBefore {
    /// The principals it allows, in order.
    pub allowed: Vec<Holder>,
    /// The descriptor as SDDL (kcdplan's reading of it); `None`: the
    /// attribute is empty.
    pub sddl: Option<String>,
    /// The value exactly as exported, for the guarded LDIF.
    #[serde(skip)]
    pub value: Option<crate::ldif::reader::AttrValue<'static>>,
    /// Whether the resource is a domain controller (for the risk rules).
    #[serde(skip)]
    pub domain_controller: bool,
}

/// The change of a resource's descriptor against the export.
#[derive(Debug, Clone, Serialize)]
pub struct RbcdDelta {
    /// Principals the plan allows that the descriptor did not.
    pub add: Vec<Holder>,
    /// Principals the descriptor allowed that the plan removes.
    pub remove: Vec<Holder>,
    /// The principals allowed after.
    pub after: Vec<Holder>,
    /// The descriptor written (binary), or `None` when the attribute is
    /// cleared.
    #[serde(skip)]
    pub descriptor: Option<Vec<u8>>,
    pub sddl: Option<String>,
    /// Why entries of the descriptor written are odd (KCD012), if any.
    #[serde(skip)]
    pub odd: Vec<String>,
    /// Whether anything changes at all.
    pub changes: bool,
}

/// A computer principal's DNS name (folded).
pub fn computer_fqdn(p: &PrincipalPlan) -> Option<String> {
    let name = p.sam_account_name.strip_suffix('$')?;
    (p.kind == PrincipalType::Computer)
        .then(|| crate::names::fold(&format!("{name}.{}", p.domain)).into_owned())
}

/// The whole plan.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub principals: Vec<PrincipalPlan>,
    /// Resource-based delegation, per resource.
    pub resources: Vec<ResourcePlan>,
    /// Findings that stand: lints and risks (never critical ones: those
    /// are errors unless accepted).
    pub warnings: Vec<Warning>,
    /// Findings accepted with `--accept-risk`.
    pub accepted: Vec<Warning>,
}

/// The counts a plan is summed up by: `check`, summary.md and plan.json
/// all print these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub principals: usize,
    /// Values to add: against an export, only those it does not hold.
    pub values_added: usize,
    /// Values to remove: against an export, only those it holds.
    pub values_removed: usize,
    /// Values of replacement lists (without an export; against one, a
    /// replacement is written as the values it deletes and adds).
    pub values_replaced: usize,
    /// Findings of risk rules (KCD0xx), accepted ones included.
    pub risks: usize,
    /// Findings of lints (KCD1xx).
    pub warnings: usize,
    /// Findings accepted with `--accept-risk`.
    pub accepted: usize,
    /// Resources whose resource-based delegation the plan changes.
    pub resources: usize,
}

impl Plan {
    /// The plan's counts: the change against the export where there is
    /// one, else the planned values.
    pub fn totals(&self) -> Totals {
        let mut t = Totals {
            principals: self.principals.len(),
            values_added: 0,
            values_removed: 0,
            values_replaced: 0,
            risks: (self.warnings.iter().chain(&self.accepted))
                .filter(|w| w.rule().is_risk())
                .count(),
            warnings: (self.warnings.iter().chain(&self.accepted))
                .filter(|w| !w.rule().is_risk())
                .count(),
            accepted: self.accepted.len(),
            resources: self.resources.len(),
        };
        for p in &self.principals {
            match &p.delta {
                Some(d) => {
                    t.values_added += d.add.len();
                    t.values_removed += d.delete.len();
                }
                None => {
                    t.values_added += p.add.len();
                    t.values_removed += p.remove.len();
                    t.values_replaced += p.replace.len();
                }
            }
        }
        t
    }

    /// How many accounts change: against an export, those whose state
    /// differs from the plan; without one, every account in the plan.
    pub fn changed_principals(&self) -> usize {
        (self.principals.iter())
            .filter(|p| p.delta.as_ref().is_none_or(|d| d.changes))
            .count()
    }

    /// How many resources' descriptors change: against an export, those
    /// whose descriptor differs from the plan; without one, all.
    pub fn changed_resources(&self) -> usize {
        (self.resources.iter())
            .filter(|r| r.delta.as_ref().is_none_or(|d| d.changes))
            .count()
    }

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
        crate::parallel::join(|| spell(first), || spell(second));
    }
}
