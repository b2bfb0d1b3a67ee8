//! Constant folding over the node arena.
//!
//! Children are always pushed before their parents, so one forward pass sees every child in
//! its final form. Folded: builtin calls whose arguments are all constant text (every builtin
//! over text is pure; the only builtin that reads `today`, `age`, takes a date and is never
//! folded), `present`/`absent`/`blank` of a constant, `++` of constants, `not`/`and`/`or` of constant
//! conditions, and comparisons and arithmetic of constant numbers and text. Nodes that become
//! unreachable stay in the arena.

use super::{Const, Node, NodeId};
use crate::builtins::{Ctx, Imp};
use crate::normalize::date::Date;
use crate::syntax::ast::CmpOp;
use crate::value::Value;

pub fn fold(nodes: &mut [Node]) {
    for i in 0..nodes.len() {
        let folded = match nodes.get(i) {
            Some(n) => fold_node(nodes, n),
            None => None,
        };
        if let (Some(c), Some(slot)) = (folded, nodes.get_mut(i)) {
            *slot = Node::Const(c);
        }
    }
}

fn konst(nodes: &[Node], id: NodeId) -> Option<&Const> {
    match nodes.get(id.0 as usize) {
        Some(Node::Const(c)) => Some(c),
        _ => None,
    }
}

fn text(nodes: &[Node], id: NodeId) -> Option<&str> {
    match konst(nodes, id) {
        Some(Const::Text(t)) => Some(t),
        _ => None,
    }
}

fn to_const(v: Value<'_>) -> Option<Const> {
    Some(match v {
        Value::Null => Const::Null,
        Value::Bool(b) => Const::Bool(b),
        Value::Int(n) => Const::Int(n),
        Value::Float(x) => Const::Float(x),
        Value::Date(d) => Const::Date(d),
        Value::Text(t) => Const::Text(t.as_str().into()),
        Value::List(_) | Value::Group => return None,
    })
}

fn fold_node(nodes: &[Node], n: &Node) -> Option<Const> {
    // Only pure builtins over text get here, so `today` is never read.
    let ctx = Ctx { today: Date::from_days(0) };
    match n {
        Node::Call1 { f: Imp::F1(f), arg, .. } => to_const(f(&ctx, &Value::text(text(nodes, *arg)?))),
        Node::Call2 { f: Imp::F2(f), a, b, .. } => {
            to_const(f(&ctx, &Value::text(text(nodes, *a)?), &Value::text(text(nodes, *b)?)))
        }
        Node::Concat(parts) => {
            let mut out = String::new();
            for p in parts.iter() {
                out.push_str(text(nodes, *p)?);
            }
            Some(Const::Text(out.into()))
        }
        Node::Not(x) => match konst(nodes, *x)? {
            Const::Bool(b) => Some(Const::Bool(!b)),
            _ => None,
        },
        Node::Is { test, value, negated } => Some(Const::Bool(test.holds(&konst(nodes, *value)?.value()) != *negated)),
        Node::And(a, b) => match (konst(nodes, *a)?, konst(nodes, *b)?) {
            (Const::Bool(x), Const::Bool(y)) => Some(Const::Bool(*x && *y)),
            _ => None,
        },
        Node::Or(a, b) => match (konst(nodes, *a)?, konst(nodes, *b)?) {
            (Const::Bool(x), Const::Bool(y)) => Some(Const::Bool(*x || *y)),
            _ => None,
        },
        Node::Cmp(op, a, b) => {
            let ord = match (konst(nodes, *a)?, konst(nodes, *b)?) {
                (Const::Text(x), Const::Text(y)) => x.cmp(y),
                (Const::Int(x), Const::Int(y)) => x.cmp(y),
                (Const::Date(x), Const::Date(y)) => x.cmp(y),
                _ => return None,
            };
            let holds = match op {
                CmpOp::Eq => ord.is_eq(),
                CmpOp::Ne => ord.is_ne(),
                CmpOp::Lt => ord.is_lt(),
                CmpOp::Le => ord.is_le(),
                CmpOp::Gt => ord.is_gt(),
                CmpOp::Ge => ord.is_ge(),
            };
            Some(Const::Bool(holds))
        }
        Node::Add(a, b) => match (konst(nodes, *a)?, konst(nodes, *b)?) {
            (Const::Int(x), Const::Int(y)) => Some(Const::Int(x.saturating_add(*y))),
            _ => None,
        },
        Node::Sub(a, b) => match (konst(nodes, *a)?, konst(nodes, *b)?) {
            (Const::Int(x), Const::Int(y)) => Some(Const::Int(x.saturating_sub(*y))),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;
    use crate::builtins;
    use crate::compile::Is;

    #[test]
    fn folds_pure_calls_and_concatenation() {
        let katakana = builtins::lookup("katakana").unwrap().imp;
        let mut nodes = vec![
            Node::Const(Const::Text("やまだ".into())),
            Node::Call1 { f: katakana, sees_absent: false, arg: NodeId(0) },
            Node::Const(Const::Text(" ".into())),
            Node::Concat(Box::new([NodeId(1), NodeId(2), NodeId(1)])),
            Node::Cmp(CmpOp::Eq, NodeId(3), NodeId(3)),
            Node::Not(NodeId(4)),
            Node::Field(0),
            Node::Concat(Box::new([NodeId(6), NodeId(2)])),
        ];
        fold(&mut nodes);
        assert!(matches!(&nodes[1], Node::Const(Const::Text(t)) if &**t == "ヤマダ"));
        assert!(matches!(&nodes[3], Node::Const(Const::Text(t)) if &**t == "ヤマダ ヤマダ"));
        assert!(matches!(&nodes[5], Node::Const(Const::Bool(false))));
        assert!(matches!(&nodes[7], Node::Concat(_)), "a field is not constant");
    }

    #[test]
    fn folds_presence_and_blankness_of_constants_only() {
        let mut nodes = vec![
            Node::Const(Const::Null),
            Node::Is { test: Is::Present, value: NodeId(0), negated: false },
            Node::Is { test: Is::Present, value: NodeId(0), negated: true },
            Node::Const(Const::Int(0)),
            Node::Is { test: Is::Present, value: NodeId(3), negated: false },
            Node::Is { test: Is::Present, value: NodeId(3), negated: true },
            Node::Field(0),
            Node::Is { test: Is::Present, value: NodeId(6), negated: false },
        ];
        fold(&mut nodes);
        assert!(matches!(&nodes[1], Node::Const(Const::Bool(false))));
        assert!(matches!(&nodes[2], Node::Const(Const::Bool(true))));
        assert!(matches!(&nodes[4], Node::Const(Const::Bool(true))));
        assert!(matches!(&nodes[5], Node::Const(Const::Bool(false))));
        assert!(matches!(&nodes[7], Node::Is { .. }), "a field is not constant");

        let mut nodes = vec![
            Node::Const(Const::Text(" \u{3000}".into())),
            Node::Is { test: Is::Blank, value: NodeId(0), negated: false },
            Node::Is { test: Is::Blank, value: NodeId(0), negated: true },
            Node::Const(Const::Text("山田".into())),
            Node::Is { test: Is::Blank, value: NodeId(3), negated: false },
            Node::Const(Const::Null),
            Node::Is { test: Is::Blank, value: NodeId(5), negated: false },
            Node::Const(Const::Int(0)),
            Node::Is { test: Is::Blank, value: NodeId(7), negated: false },
        ];
        fold(&mut nodes);
        let folded: Vec<_> = [1, 2, 4, 6, 8]
            .iter()
            .map(|&i| match &nodes[i] {
                Node::Const(Const::Bool(b)) => *b,
                other => panic!("not folded: {other:?}"),
            })
            .collect();
        assert_eq!(folded, [true, false, false, true, false]);
    }

    #[test]
    fn never_folds_what_reads_today() {
        let age = builtins::lookup("age").unwrap().imp;
        let mut nodes = vec![
            Node::Const(Const::Date(Date::from_days(0))),
            Node::Call1 { f: age, sees_absent: false, arg: NodeId(0) },
        ];
        fold(&mut nodes);
        assert!(matches!(&nodes[1], Node::Call1 { .. }));
    }
}
