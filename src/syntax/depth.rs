//! Nesting limits: a rule text nested deeper than any rule needs (10,000 parentheses, `not not
//! not …`, a chain of 100,000 `or`) is a diagnostic here, before any later phase could run out
//! of stack walking it: the parser, the checker, the compiler and the evaluator all recurse
//! over expressions.
//!
//! Input → output: text → the offset where it nests too deep (before pest runs); a parsed
//! module → every expression deeper than the limit, taken out of the module and reported.
//! Never: recurses over the text or the tree it measures.

use super::ast::{Expr, ExprKind, FileId, Item, Module, Span};
use super::error::SyntaxCode;
use crate::diagnostic::Diagnostic;

/// How deep brackets (`(`, `[`, `{`) and consecutive `not`s may nest.
pub const MAX_NESTING: usize = 48;

/// How deep an expression tree may be: each operator of a chain (`a or b or c`) and each
/// bracket is one level.
pub const MAX_EXPR_DEPTH: usize = 160;

/// Nesting up to this deep is parsed on the caller's thread; deeper text (up to
/// [`MAX_NESTING`]) on a thread of [`BIG_STACK`] bytes, because pest's recursion takes about
/// 100 KiB of stack per bracket in a debug build, and a library caller's thread may have 2 MiB.
pub const SMALL_NESTING: usize = 8;
pub const BIG_STACK: usize = 64 << 20;

/// Run `f` (a parse of text nested more than [`SMALL_NESTING`] deep) on a thread with a stack
/// of [`BIG_STACK`] bytes; `None` if no such thread could be started.
pub fn on_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> Option<T> {
    std::thread::scope(|s| {
        let handle =
            std::thread::Builder::new().name(String::from("kensa-parse")).stack_size(BIG_STACK).spawn_scoped(s, f);
        handle.ok()?.join().ok()
    })
}

/// How deep brackets and `not`s nest in `text`, or a diagnostic pointing where they nest
/// deeper than [`MAX_NESTING`] (`offset` is where `text` starts in its file).
pub fn check_nesting(file: FileId, text: &str, offset: usize) -> Result<usize, Diagnostic> {
    let b = text.as_bytes();
    let at = |i: usize| b.get(i).copied();
    let mut i = 0;
    let mut depth = 0usize;
    let mut nots = 0usize;
    let mut deepest = 0usize;
    while let Some(c) = at(i) {
        match c {
            b'"' => {
                i += 1;
                while let Some(c) = at(i) {
                    match c {
                        b'\\' => i += 1,
                        b'"' | b'\n' => break,
                        _ => {}
                    }
                    i += 1;
                }
            }
            b'#' => i = skip_line(b, i),
            b'/' if at(i + 1) == Some(b'/') => i = skip_line(b, i),
            b'/' => {
                // A regex literal: up to the closing unescaped `/` on the same line.
                i += 1;
                while let Some(c) = at(i) {
                    match c {
                        b'\\' => i += 1,
                        b'/' | b'\n' => break,
                        _ => {}
                    }
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth + nots);
                if depth + nots > MAX_NESTING {
                    return Err(too_deep(file, offset + i, "brackets"));
                }
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                nots = 0;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while at(i + 1).is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_') {
                    i += 1;
                }
                if b.get(start..=i) == Some(b"not") {
                    nots += 1;
                    deepest = deepest.max(depth + nots);
                    if depth + nots > MAX_NESTING {
                        return Err(too_deep(file, offset + start, "`not`s"));
                    }
                } else {
                    nots = 0;
                }
            }
            c if c.is_ascii_whitespace() => {}
            _ => nots = 0,
        }
        i += 1;
    }
    Ok(deepest)
}

fn skip_line(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| *c != b'\n') {
        i += 1;
    }
    i
}

fn too_deep(file: FileId, at: usize, what: &str) -> Diagnostic {
    Diagnostic::error(SyntaxCode::TooDeep, format!("{what} nested more than {MAX_NESTING} levels deep"))
        .label(Span::new(file, at, at + 1), "too deep from here")
        .help("split the condition into `let` bindings with names; no rule needs this many levels")
}

/// Take every expression of `module` deeper than [`MAX_EXPR_DEPTH`] out of it (a rule, binding
/// or block holding one is dropped) and report each.
pub fn limit_depth(module: &mut Module, diags: &mut Vec<Diagnostic>) {
    let mut kept = Vec::with_capacity(module.items.len());
    for mut item in std::mem::take(&mut module.items) {
        let mut deep: Vec<Span> = Vec::new();
        for e in exprs_mut(&mut item) {
            if too_deep_at(e).is_some() {
                deep.push(e.span);
            }
        }
        if deep.is_empty() {
            kept.push(item);
            continue;
        }
        for span in deep {
            // The start of the expression: a label over a whole chain would span the file.
            let span = Span { end: span.start.saturating_add(1).min(span.end.max(span.start)), ..span };
            diags.push(
                Diagnostic::error(
                    SyntaxCode::TooDeep,
                    format!("this expression is nested more than {MAX_EXPR_DEPTH} levels deep"),
                )
                .label(span, "too deep")
                .help(
                    "a chain of hundreds of `and`/`or`/`++` is a table in disguise: use `x in {…}` or a `set`, \
                     or split it into `let` bindings",
                ),
            );
        }
        for e in exprs_mut(&mut item) {
            dismantle(std::mem::replace(e, Expr { kind: ExprKind::Bool(false), span: Span::default() }));
        }
    }
    module.items = kept;
}

/// The top-level expressions of an item.
fn exprs_mut(item: &mut Item) -> Vec<&mut Expr> {
    match item {
        Item::Let(l) => vec![&mut l.value],
        Item::Rule(r) => r.when.iter_mut().chain(r.require.iter_mut()).collect(),
        Item::Match(m) => m.blocks.iter_mut().chain(m.compares.iter_mut().map(|c| &mut c.value)).collect(),
        Item::Override(o) => o.when.iter_mut().collect(),
        Item::Table(_)
        | Item::Include(_)
        | Item::Schema(_)
        | Item::SchemaExt(_)
        | Item::Decide(_)
        | Item::Extend(_)
        | Item::Disable(_) => Vec::new(),
    }
}

/// Where `e` first goes deeper than [`MAX_EXPR_DEPTH`], if it does (an explicit stack).
pub fn too_deep_at(e: &Expr) -> Option<Span> {
    let mut stack: Vec<(&Expr, usize)> = vec![(e, 1)];
    while let Some((e, d)) = stack.pop() {
        if d > MAX_EXPR_DEPTH {
            return Some(e.span);
        }
        stack.extend(children(e).into_iter().map(|c| (c, d + 1)));
    }
    None
}

fn children(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Not(x) => vec![x],
        ExprKind::Binary { lhs, rhs, .. }
        | ExprKind::In { lhs, rhs, .. }
        | ExprKind::Matches { lhs, rhs }
        | ExprKind::SingleEq { lhs, rhs, .. } => vec![lhs, rhs],
        ExprKind::Index { base, key } => vec![base, key],
        ExprKind::Call { args, .. } => args.iter().collect(),
        ExprKind::Set(items) => items.iter().collect(),
        ExprKind::Quantifier { cond, .. } => cond.iter().map(|c| &**c).collect(),
        _ => Vec::new(),
    }
}

/// Drop a tree of any depth without recursing (the derived drop of `Box<Expr>` recurses).
pub fn dismantle(e: Expr) {
    let mut stack = vec![e];
    while let Some(mut e) = stack.pop() {
        let placeholder = || Box::new(Expr { kind: ExprKind::Bool(false), span: Span::default() });
        match &mut e.kind {
            ExprKind::Not(x) => stack.push(*std::mem::replace(x, placeholder())),
            ExprKind::Binary { lhs, rhs, .. }
            | ExprKind::In { lhs, rhs, .. }
            | ExprKind::Matches { lhs, rhs }
            | ExprKind::SingleEq { lhs, rhs, .. }
            | ExprKind::Index { base: lhs, key: rhs } => {
                stack.push(*std::mem::replace(lhs, placeholder()));
                stack.push(*std::mem::replace(rhs, placeholder()));
            }
            ExprKind::Call { args: items, .. } | ExprKind::Set(items) => stack.append(items),
            ExprKind::Quantifier { cond, .. } => stack.extend(cond.take().map(|c| *c)),
            _ => {}
        }
    }
}
