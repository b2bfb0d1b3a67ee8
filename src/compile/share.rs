//! Shared sub-expressions: equal nodes become one node, and a node that several places use
//! is computed at most once per record.
//!
//! Rules repeat conditions (`blank(my_number)` guards five rules, `present(bank)` five).
//! After constant folding, one forward pass gives every node a canonical id (children are
//! always pushed before their parents, so a node's children are canonical when it is seen);
//! then every node that more than one condition, binding or `match` expression evaluates
//! (messages and evidence do not count: they are evaluated only when a rule fires) and that
//! is worth remembering gets a [`Node::Cached`] in front of it, whose value the evaluator
//! keeps per record next to the `let` values. Builtins are pure, so a value computed once
//! is the value computed again.
//! Never cached: anything that looks at registry candidates (quantifiers, `candidate.…`),
//! whose value depends on the candidate being looked at and whose evaluation records the
//! candidates that matched.

use std::collections::HashMap;

use super::{CMatch, CRule, MsgPart, Node, NodeId};
use crate::builtins::Imp;

/// The references into the node arena from outside it.
pub struct Roots<'a> {
    pub lets: &'a mut [NodeId],
    pub rules: &'a mut [CRule],
    pub matching: Option<&'a mut CMatch>,
}

/// Merge equal nodes and put a [`Node::Cached`] in front of every node used more than once.
/// Cache slots are numbered from `first_slot`; returns how many were given out.
pub fn share(nodes: &mut Vec<Node>, mut roots: Roots<'_>, first_slot: u32) -> u32 {
    let canon = canonical(nodes);
    remap(nodes, &mut roots, |id| canon.get(id.0 as usize).copied().unwrap_or(id));

    let uses = count_uses(nodes, &mut roots);
    let volatile = volatile(nodes);
    let mut cached: Vec<Option<NodeId>> = vec![None; nodes.len()];
    let mut slots = 0u32;
    for i in 0..nodes.len() {
        let worth = nodes.get(i).is_some_and(worth_caching);
        let shared = uses.get(i).is_some_and(|&n| n > 1);
        if worth && shared && !volatile.get(i).copied().unwrap_or(true) {
            let id = NodeId(u32::try_from(nodes.len()).unwrap_or(u32::MAX));
            nodes.push(Node::Cached { slot: first_slot.saturating_add(slots), node: NodeId(index(i)) });
            if let Some(c) = cached.get_mut(i) {
                *c = Some(id);
            }
            slots += 1;
        }
    }
    // Point every use at the cached node, except the cached node itself.
    let redirect = |id: NodeId| cached.get(id.0 as usize).copied().flatten().unwrap_or(id);
    for node in nodes.iter_mut() {
        if !matches!(node, Node::Cached { .. }) {
            for child in children_mut(node) {
                *child = redirect(*child);
            }
        }
    }
    for_each_root(&mut roots, |id| *id = redirect(*id));
    slots
}

fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// What identifies a node: its kind, its operands and its (canonical) children.
#[derive(PartialEq, Eq, Hash)]
enum Key {
    /// Constants and comparison operators by their debug text (floats by their bits).
    Const(String),
    Field(u32),
    Let(u32),
    Today,
    /// Builtins by the address of their function: two builtins that share code compute the
    /// same thing, so at worst an equal pair is missed.
    Call1(usize, bool, u32),
    Call2(usize, bool, u32, u32),
    Not(u32),
    Is(super::Is, u32, bool),
    And(u32, u32),
    Or(u32, u32),
    Cmp(String, u32, u32),
    InSet(u32, u32, bool),
    InList(u32, u32, bool),
    Matches(u32, u32),
    Concat(Vec<u32>),
    Add(u32, u32),
    Sub(u32, u32),
    Index(u32, u32),
}

fn key(node: &Node) -> Option<Key> {
    Some(match node {
        Node::Const(super::Const::Float(x)) => Key::Const(format!("float {}", x.to_bits())),
        Node::Const(c) => Key::Const(format!("{c:?}")),
        Node::Field(s) => Key::Field(*s),
        Node::Let(i) => Key::Let(*i),
        Node::Today => Key::Today,
        Node::Call1 { f: Imp::F1(f), sees_absent, arg } => Key::Call1(*f as usize, *sees_absent, arg.0),
        Node::Call2 { f: Imp::F2(f), sees_absent, a, b } => Key::Call2(*f as usize, *sees_absent, a.0, b.0),
        Node::Call1 { .. } | Node::Call2 { .. } => return None,
        Node::Not(x) => Key::Not(x.0),
        Node::Is { test, value, negated } => Key::Is(*test, value.0, *negated),
        Node::And(a, b) => Key::And(a.0, b.0),
        Node::Or(a, b) => Key::Or(a.0, b.0),
        Node::Cmp(op, a, b) => Key::Cmp(format!("{op:?}"), a.0, b.0),
        Node::InSet { value, set, negated } => Key::InSet(value.0, *set, *negated),
        Node::InList { value, list, negated } => Key::InList(value.0, list.0, *negated),
        Node::Matches(v, re) => Key::Matches(v.0, *re),
        Node::Concat(parts) => Key::Concat(parts.iter().map(|p| p.0).collect()),
        Node::Add(a, b) => Key::Add(a.0, b.0),
        Node::Sub(a, b) => Key::Sub(a.0, b.0),
        Node::Index { map, key } => Key::Index(*map, key.0),
        // What reads candidates (`reads_candidates`) and caches: left alone (never merged,
        // the safe answer for any node kind added later too).
        _ => return None,
    })
}

/// The canonical id of every node: the first node equal to it.
fn canonical(nodes: &mut [Node]) -> Vec<NodeId> {
    let mut canon: Vec<NodeId> = Vec::with_capacity(nodes.len());
    let mut seen: HashMap<Key, NodeId> = HashMap::new();
    for (i, node) in nodes.iter_mut().enumerate() {
        for child in children_mut(node) {
            *child = canon.get(child.0 as usize).copied().unwrap_or(*child);
        }
        let id = NodeId(index(i));
        let c = match key(node) {
            Some(k) => *seen.entry(k).or_insert(id),
            None => id,
        };
        canon.push(c);
    }
    canon
}

fn remap(nodes: &mut [Node], roots: &mut Roots<'_>, f: impl Fn(NodeId) -> NodeId) {
    for node in nodes.iter_mut() {
        for child in children_mut(node) {
            *child = f(*child);
        }
    }
    for_each_root(roots, |id| *id = f(*id));
}

/// How many places evaluate each node for every record: the bindings, conditions and
/// `match` expressions, and the parents reachable from them. Messages and evidence are left
/// out: they are evaluated only for a rule that fires.
fn count_uses(nodes: &[Node], roots: &mut Roots<'_>) -> Vec<u32> {
    let mut uses = vec![0u32; nodes.len()];
    let mut reached = vec![false; nodes.len()];
    let mut stack: Vec<NodeId> = Vec::new();
    for_each_hot_root(roots, |id| stack.push(*id));
    for id in &stack {
        if let Some(u) = uses.get_mut(id.0 as usize) {
            *u += 1;
        }
    }
    while let Some(id) = stack.pop() {
        let Some(r) = reached.get_mut(id.0 as usize) else { continue };
        if *r {
            continue;
        }
        *r = true;
        for child in children(nodes.get(id.0 as usize)) {
            if let Some(u) = uses.get_mut(child.0 as usize) {
                *u += 1;
            }
            stack.push(child);
        }
    }
    uses
}

/// Nodes whose value depends on the candidate being looked at, or whose evaluation records
/// matched candidates.
fn volatile(nodes: &[Node]) -> Vec<bool> {
    let mut v: Vec<bool> = Vec::with_capacity(nodes.len());
    for node in nodes {
        let own = reads_candidates(node);
        // Children come first, except for a forward reference, which is treated as volatile.
        let child = children(Some(node)).into_iter().any(|c| v.get(c.0 as usize).copied().unwrap_or(true));
        v.push(own || child);
    }
    v
}

/// A quantifier over registry candidates, or a value of the candidate looked at.
fn reads_candidates(node: &Node) -> bool {
    matches!(
        node,
        Node::Quant { .. }
            | Node::CandField(_)
            | Node::CandLet(_)
            | Node::CandProbability
            | Node::CandLevel(_)
            | Node::CandWeight(_)
    )
}

/// Nodes that cost more to compute again than to remember.
fn worth_caching(node: &Node) -> bool {
    !matches!(node, Node::Const(_) | Node::Field(_) | Node::Let(_) | Node::Today | Node::Cached { .. })
}

pub(super) fn children(node: Option<&Node>) -> Vec<NodeId> {
    let Some(node) = node else { return Vec::new() };
    let mut out = Vec::new();
    let mut n = node.clone();
    for c in children_mut(&mut n) {
        out.push(*c);
    }
    out
}

fn children_mut(node: &mut Node) -> Vec<&mut NodeId> {
    match node {
        Node::Const(_)
        | Node::Field(_)
        | Node::Let(_)
        | Node::Today
        | Node::CandField(_)
        | Node::CandLet(_)
        | Node::CandProbability
        | Node::CandLevel(_)
        | Node::CandWeight(_) => Vec::new(),
        Node::Call1 { arg, .. } => vec![arg],
        Node::Not(x) | Node::Is { value: x, .. } => vec![x],
        Node::Matches(x, _) => vec![x],
        Node::InSet { value, .. } => vec![value],
        Node::Index { key, .. } => vec![key],
        Node::Cached { node, .. } => vec![node],
        Node::Quant { cond, .. } => cond.iter_mut().collect(),
        Node::Call2 { a, b, .. } | Node::And(a, b) | Node::Or(a, b) | Node::Cmp(_, a, b) => vec![a, b],
        Node::Add(a, b) | Node::Sub(a, b) => vec![a, b],
        Node::InList { value, list, .. } => vec![value, list],
        Node::Concat(parts) => parts.iter_mut().collect(),
    }
}

/// Every reference into the arena from outside it.
fn for_each_root(roots: &mut Roots<'_>, mut f: impl FnMut(&mut NodeId)) {
    for_each_hot_root(roots, &mut f);
    for rule in roots.rules.iter_mut() {
        for part in rule.message.iter_mut() {
            if let MsgPart::Value { node, .. } = part {
                f(node);
            }
        }
        for items in rule.evidence.iter_mut() {
            for e in items.iter_mut() {
                f(&mut e.node);
            }
        }
    }
}

/// The references evaluated for every record: bindings, conditions, `match` expressions.
fn for_each_hot_root(roots: &mut Roots<'_>, mut f: impl FnMut(&mut NodeId)) {
    for id in roots.lets.iter_mut() {
        f(id);
    }
    for rule in roots.rules.iter_mut() {
        if let Some(w) = rule.when.as_mut() {
            f(w);
        }
        for q in rule.require.iter_mut() {
            f(q);
        }
    }
    if let Some(m) = roots.matching.as_deref_mut() {
        for b in m.blocks.iter_mut() {
            f(b);
        }
        for c in m.compares.iter_mut() {
            f(&mut c.value);
        }
    }
}

#[cfg(test)]
#[expect(clippy::indexing_slicing, clippy::unwrap_used, reason = "a failing test may panic")]
mod tests {
    use super::*;
    use crate::value::Value;

    fn blank<'a>(_: &crate::builtins::Ctx, v: &Value<'a>) -> Value<'a> {
        Value::Bool(v.is_null())
    }

    /// The standard rule set, compiled (no `include`s: its files are the roots).
    fn standard() -> super::super::Program {
        let (mut sources, roots) = crate::source::SourceMap::load_embedded(crate::engine::BUILTIN_RULES);
        let modules: Vec<_> = roots
            .iter()
            .map(|&f| {
                let text = sources.get(f).map(|s| s.text.clone()).unwrap_or_else(|| std::sync::Arc::from(""));
                (f, crate::syntax::parse_file(f, &text).0)
            })
            .collect();
        let (env, _) = crate::check::check(&mut sources, &modules);
        super::super::compile(&env.unwrap(), &sources)
    }

    #[test]
    fn the_standard_rules_compute_repeated_conditions_once() {
        let p = standard();
        let cached: Vec<&Node> = p
            .nodes
            .iter()
            .filter_map(|n| match n {
                Node::Cached { node, .. } => Some(&p.nodes[node.0 as usize]),
                _ => None,
            })
            .collect();
        // `not blank(my_number)`, `present(bank)`, `present(postal)`, `birth_date <= today`, …
        assert!(cached.len() >= 8, "{cached:#?}");
        assert!(cached.iter().all(|n| !matches!(n, Node::Cached { .. } | Node::Field(_) | Node::Const(_))));
        assert_eq!(p.memo_slots, p.lets.len() + cached.len());
    }

    #[test]
    fn equal_nodes_are_merged_and_shared_ones_cached() {
        let call = |arg| Node::Call1 { f: Imp::F1(blank), sees_absent: true, arg: NodeId(arg) };
        let mut nodes = vec![
            Node::Field(0), // 0
            call(0),        // 1
            Node::Not(NodeId(1)),
            Node::Field(0), // 3 = 0
            call(3),        // 4 = 1
            Node::Not(NodeId(4)),
            Node::Quant { quant: crate::syntax::ast::Quant::Any, cond: Some(NodeId(2)) },
            Node::Not(NodeId(6)),
        ];
        let mut lets = [NodeId(2), NodeId(5), NodeId(7), NodeId(7)];
        let slots = share(&mut nodes, Roots { lets: &mut lets, rules: &mut [], matching: None }, 10);
        // `not blank(x)` is used by three places (two lets, the quantifier), `blank(x)` only by
        // `not`; what depends on candidates is never cached.
        assert_eq!(slots, 1);
        assert!(matches!(nodes.last(), Some(Node::Cached { slot: 10, node: NodeId(2) })));
        let cached = NodeId(u32::try_from(nodes.len() - 1).unwrap_or(0));
        assert_eq!(lets[..2], [cached, cached]);
        assert_eq!(lets[2], NodeId(7));
        assert!(matches!(nodes.get(6), Some(Node::Quant { cond: Some(c), .. }) if *c == cached));
    }
}
