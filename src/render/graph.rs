//! The delegation graph, laid out by kcdplan for the report: accounts
//! that delegate in a column on the left, the hosts and resources they
//! reach on the right, one edge per (account, target). A two-layer
//! layered layout: each column is ordered by the barycenter of its
//! neighbours in the other, a few sweeps each way, which removes most
//! crossings (Sugiyama's method for two layers). A plan of hundreds of
//! accounts is split into several graphs of at most [`MAX_LEFT`] accounts,
//! never splitting a connected group unless it alone is larger, riskiest
//! groups first.

use std::collections::BTreeMap;

use serde::Serialize;

/// Accounts per graph before a plan's graph is split.
pub const MAX_LEFT: usize = 40;

const NODE_W: i32 = 300;
const NODE_H: i32 = 34;
const GAP: i32 = 12;
const MARGIN: i32 = 10;
/// Room between the columns, for the edges and their labels.
const MIDDLE: i32 = 320;
/// Text longer than this is cut (the whole text is in the tooltip).
const LABEL: usize = 42;

/// What goes into the layout: nodes by key, edges between them.
#[derive(Debug, Default)]
pub struct Input {
    pub left: Vec<NodeIn>,
    pub right: Vec<NodeIn>,
    pub edges: Vec<EdgeIn>,
}

#[derive(Debug, Clone)]
pub struct NodeIn {
    pub key: String,
    pub label: String,
    /// A second line (the account's kind, protocol transition...).
    pub note: String,
    /// The anchor of the node's section in the report, if it has one.
    pub section: Option<String>,
    /// The highest severity of its findings, and their rule IDs.
    pub severity: Option<&'static str>,
    pub rules: Vec<&'static str>,
    /// `account`, `host`, `resource` or `any` (unconstrained).
    pub kind: &'static str,
}

#[derive(Debug, Clone)]
pub struct EdgeIn {
    pub from: String,
    pub to: String,
    /// The services (empty for resource-based: every service).
    pub label: String,
    /// `constrained`, `resource` or `unconstrained`.
    pub kind: &'static str,
    /// `add`, `remove`, `keep`, `change` (against the export),
    /// `planned` (without one) or `present` (an audit).
    pub change: &'static str,
    pub severity: Option<&'static str>,
}

/// One graph, laid out.
#[derive(Debug, Clone, Serialize)]
pub struct Graph {
    pub width: i32,
    pub height: i32,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub id: String,
    pub section: Option<String>,
    pub label: String,
    pub short: String,
    pub note: String,
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
    pub text_x: i32,
    pub class: String,
    pub rules: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    pub d: String,
    pub label: String,
    pub short: String,
    pub lx: i32,
    pub ly: i32,
    pub class: String,
    pub title: String,
}

fn cut(s: &str) -> String {
    if s.chars().count() <= LABEL {
        return s.to_string();
    }
    let mut t: String = s.chars().take(LABEL - 1).collect();
    t.push('\u{2026}');
    t
}

fn rank(severity: Option<&str>) -> u8 {
    match severity {
        Some("critical") => 4,
        Some("high") => 3,
        Some("medium") => 2,
        Some("low") => 1,
        _ => 0,
    }
}

/// Lays the input out as one graph or several.
pub fn layout(input: &Input) -> Vec<Graph> {
    let left: BTreeMap<&str, usize> = (input.left.iter().enumerate())
        .map(|(i, n)| (n.key.as_str(), i))
        .collect();
    let right: BTreeMap<&str, usize> = (input.right.iter().enumerate())
        .map(|(i, n)| (n.key.as_str(), i))
        .collect();
    // Connected groups: union-find over left and right nodes.
    let n = input.left.len() + input.right.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    let edges: Vec<(usize, usize, &EdgeIn)> = (input.edges.iter())
        .filter_map(|e| Some((*left.get(e.from.as_str())?, *right.get(e.to.as_str())?, e)))
        .collect();
    for &(l, r, _) in &edges {
        let (a, b) = (
            find(&mut parent, l),
            find(&mut parent, input.left.len() + r),
        );
        parent[a] = b;
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for l in 0..input.left.len() {
        let g = find(&mut parent, l);
        groups.entry(g).or_default().push(l);
    }
    // Riskiest groups first, then in the input's order.
    let mut groups: Vec<Vec<usize>> = groups.into_values().collect();
    groups.sort_by_key(|g| {
        let risk = g
            .iter()
            .map(|&l| rank(input.left[l].severity))
            .max()
            .unwrap_or(0);
        (std::cmp::Reverse(risk), g[0])
    });
    let mut packs: Vec<Vec<usize>> = Vec::new();
    for g in groups {
        match packs.last_mut() {
            Some(p) if p.len() + g.len() <= MAX_LEFT => p.extend(g),
            _ => packs.push(g),
        }
    }
    // Each left node's edges, to hand each graph its own.
    let mut of_left: Vec<Vec<usize>> = vec![Vec::new(); input.left.len()];
    for (i, (l, _, _)) in edges.iter().enumerate() {
        of_left[*l].push(i);
    }
    packs
        .into_iter()
        .map(|lefts| {
            let mine: Vec<&(usize, usize, &EdgeIn)> = (lefts.iter())
                .flat_map(|&l| of_left[l].iter().map(|&i| &edges[i]))
                .collect();
            one(input, &lefts, &mine)
        })
        .collect()
}

/// One graph of the left nodes `lefts` and their edges.
fn one(input: &Input, lefts: &[usize], edges: &[&(usize, usize, &EdgeIn)]) -> Graph {
    let mut rights: Vec<usize> = Vec::new();
    for (_, r, _) in edges {
        if !rights.contains(r) {
            rights.push(*r);
        }
    }
    let mut lpos: BTreeMap<usize, f64> = (lefts.iter().enumerate())
        .map(|(i, &l)| (l, i as f64))
        .collect();
    let mut rpos: BTreeMap<usize, f64> = BTreeMap::new();
    let bary = |of: usize, left_side: bool, pos: &BTreeMap<usize, f64>| -> f64 {
        let near: Vec<f64> = (edges.iter())
            .filter(|(l, r, _)| if left_side { *l == of } else { *r == of })
            .filter_map(|(l, r, _)| pos.get(if left_side { r } else { l }).copied())
            .collect();
        if near.is_empty() {
            f64::MAX
        } else {
            near.iter().sum::<f64>() / near.len() as f64
        }
    };
    // Sweeps: right by left, left by right; ties keep the current order.
    for _ in 0..4 {
        let mut order: Vec<(f64, usize, usize)> = (rights.iter().enumerate())
            .map(|(i, &r)| (bary(r, false, &lpos), i, r))
            .collect();
        order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        rights = order.iter().map(|o| o.2).collect();
        rpos = (rights.iter().enumerate())
            .map(|(i, &r)| (r, i as f64))
            .collect();
        let mut current: Vec<usize> = lpos.keys().copied().collect();
        current.sort_by(|a, b| lpos[a].total_cmp(&lpos[b]));
        let mut order: Vec<(f64, usize, usize)> = (current.iter().enumerate())
            .map(|(i, &l)| (bary(l, true, &rpos), i, l))
            .collect();
        order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        lpos = (order.iter().enumerate())
            .map(|(i, o)| (o.2, i as f64))
            .collect();
    }
    let rows = lefts.len().max(rights.len()) as i32;
    let height = 2 * MARGIN + rows * (NODE_H + GAP);
    let xr = MARGIN + NODE_W + MIDDLE;
    let width = xr + NODE_W + MARGIN;
    // The shorter column is centred against the taller one.
    let offset = |count: usize| ((rows - count as i32) * (NODE_H + GAP)) / 2;
    let (lo, ro) = (offset(lefts.len()), offset(rights.len()));
    let y_of = |i: f64, off: i32| MARGIN + off + i as i32 * (NODE_H + GAP);
    let node = |n: &NodeIn, id: String, x: i32, y: i32| Node {
        id,
        section: n.section.clone(),
        label: n.label.clone(),
        short: cut(&n.label),
        note: cut(&n.note),
        x,
        y,
        w: NODE_W,
        h: NODE_H,
        text_x: x + 8,
        class: format!("node {} sev-{}", n.kind, n.severity.unwrap_or("none")),
        rules: n.rules.join(" "),
    };
    let mut nodes = Vec::new();
    let mut sorted_left: Vec<(usize, f64)> = lpos.iter().map(|(&l, &p)| (l, p)).collect();
    sorted_left.sort_by(|a, b| a.1.total_cmp(&b.1));
    for &(l, p) in &sorted_left {
        nodes.push(node(&input.left[l], format!("l{l}"), MARGIN, y_of(p, lo)));
    }
    for (i, &r) in rights.iter().enumerate() {
        nodes.push(node(
            &input.right[r],
            format!("r{r}"),
            xr,
            y_of(i as f64, ro),
        ));
    }
    let edges = edges
        .iter()
        .map(|(l, r, e)| {
            let y1 = y_of(lpos[l], lo) + NODE_H / 2;
            let y2 = y_of(rpos[r], ro) + NODE_H / 2;
            let (x1, x2) = (MARGIN + NODE_W, xr);
            let mid = (x1 + x2) / 2;
            // The label sits on the curve two thirds of the way, where the
            // edges to different targets have parted.
            let t = 0.68f64;
            let u = 1.0 - t;
            let at = |a: i32, b: i32, c: i32, d: i32| {
                (u * u * u * a as f64
                    + 3.0 * u * u * t * b as f64
                    + 3.0 * u * t * t * c as f64
                    + t * t * t * d as f64) as i32
            };
            Edge {
                d: format!("M {x1} {y1} C {mid} {y1}, {mid} {y2}, {x2} {y2}"),
                label: e.label.clone(),
                short: cut(&e.label),
                lx: at(x1, mid, mid, x2),
                ly: at(y1, y1, y2, y2) - 3,
                class: format!(
                    "edge {} {} sev-{}",
                    e.kind,
                    e.change,
                    e.severity.unwrap_or("none")
                ),
                title: match e.kind {
                    "resource" => format!(
                        "{} -> {}: every service (resource-based)",
                        input.left[*l].label, input.right[*r].label
                    ),
                    _ => format!(
                        "{} -> {}: {}",
                        input.left[*l].label, input.right[*r].label, e.label
                    ),
                },
            }
        })
        .collect();
    Graph {
        width,
        height,
        nodes,
        edges,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(key: &str) -> NodeIn {
        NodeIn {
            key: key.into(),
            label: key.into(),
            note: String::new(),
            section: None,
            severity: None,
            rules: Vec::new(),
            kind: "account",
        }
    }

    fn edge(from: &str, to: &str) -> EdgeIn {
        EdgeIn {
            from: from.into(),
            to: to.into(),
            label: "cifs".into(),
            kind: "constrained",
            change: "planned",
            severity: None,
        }
    }

    /// Crossings between two straight-line layers.
    fn crossings(g: &Graph) -> usize {
        let ends: Vec<(i32, i32)> = (g.edges.iter())
            .map(|e| {
                let n: Vec<i32> =
                    e.d.split(|c: char| !c.is_ascii_digit() && c != '-')
                        .filter(|s| !s.is_empty())
                        .map(|s| s.parse().unwrap())
                        .collect();
                (n[1], n[7])
            })
            .collect();
        let mut c = 0;
        for i in 0..ends.len() {
            for j in i + 1..ends.len() {
                let (a, b) = (ends[i], ends[j]);
                if (a.0 - b.0) * (a.1 - b.1) < 0 {
                    c += 1;
                }
            }
        }
        c
    }

    /// A crossing the input order makes is undone by the layout.
    #[test]
    fn a_crossing_is_undone() {
        let input = Input {
            left: vec![node("a"), node("b"), node("c")],
            right: vec![node("z"), node("y"), node("x")],
            edges: vec![edge("a", "x"), edge("b", "y"), edge("c", "z")],
        };
        let g = layout(&input);
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].nodes.len(), 6);
        assert_eq!(g[0].edges.len(), 3);
        assert_eq!(crossings(&g[0]), 0);
    }

    /// Large inputs are split into graphs of at most MAX_LEFT accounts,
    /// connected groups kept whole.
    #[test]
    fn large_inputs_are_split() {
        let mut input = Input::default();
        for i in 0..100 {
            input.left.push(node(&format!("a{i}")));
            input.right.push(node(&format!("h{i}")));
            input.edges.push(edge(&format!("a{i}"), &format!("h{i}")));
        }
        let graphs = layout(&input);
        assert_eq!(graphs.len(), 3);
        let accounts: usize = graphs.iter().map(|g| g.nodes.len() / 2).sum();
        assert_eq!(accounts, 100);
        assert!(graphs.iter().all(|g| g.nodes.len() / 2 <= MAX_LEFT));
    }
}
