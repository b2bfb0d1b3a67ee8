//! Two texts → a unified diff of their lines (`kensa fmt --check`).

/// Lines of context around each change.
const CONTEXT: usize = 3;
/// Above this many cells the differing middle of two texts is shown as one replacement
/// instead of being aligned line by line (rule files are far smaller).
const MAX_TABLE: usize = 16_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Same,
    Delete,
    Insert,
}

/// A unified diff (`---`/`+++` header, `@@` hunks with three lines of context) from `old` to
/// `new`; empty when they are equal. A last line without a newline is marked as `diff` does.
pub fn unified_diff(old_name: &str, new_name: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let ops = edit_script(&a, &b);
    // Position in `a` and `b` before each op.
    let mut at = Vec::with_capacity(ops.len());
    let (mut i, mut j) = (0, 0);
    for op in &ops {
        at.push((i, j));
        match op {
            Op::Same => (i, j) = (i + 1, j + 1),
            Op::Delete => i += 1,
            Op::Insert => j += 1,
        }
    }
    let mut out = format!("--- {old_name}\n+++ {new_name}\n");
    for (start, end) in hunks(&ops) {
        let (a0, b0) = at.get(start).copied().unwrap_or((0, 0));
        let slice = ops.get(start..end).unwrap_or(&[]);
        let a_len = slice.iter().filter(|o| **o != Op::Insert).count();
        let b_len = slice.iter().filter(|o| **o != Op::Delete).count();
        let first = |pos: usize, len: usize| if len == 0 { pos } else { pos + 1 };
        out.push_str(&format!("@@ -{},{a_len} +{},{b_len} @@\n", first(a0, a_len), first(b0, b_len)));
        for k in start..end {
            let (Some(op), Some(&(i, j))) = (ops.get(k), at.get(k)) else { continue };
            let (mark, line) = match op {
                Op::Same => (' ', a.get(i)),
                Op::Delete => ('-', a.get(i)),
                Op::Insert => ('+', b.get(j)),
            };
            let line = line.copied().unwrap_or("");
            out.push(mark);
            out.push_str(line);
            if !line.ends_with('\n') {
                out.push_str("\n\\ No newline at end of file\n");
            }
        }
    }
    out
}

/// The ops that turn `a` into `b`: common lines kept, the rest deleted then inserted.
fn edit_script(a: &[&str], b: &[&str]) -> Vec<Op> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a_rest, b_rest) = (a.get(prefix..).unwrap_or(&[]), b.get(prefix..).unwrap_or(&[]));
    let suffix = a_rest.iter().rev().zip(b_rest.iter().rev()).take_while(|(x, y)| x == y).count();
    let a_mid = a_rest.get(..a_rest.len() - suffix).unwrap_or(&[]);
    let b_mid = b_rest.get(..b_rest.len() - suffix).unwrap_or(&[]);
    let mut ops = vec![Op::Same; prefix];
    ops.extend(lcs_ops(a_mid, b_mid));
    ops.extend(std::iter::repeat_n(Op::Same, suffix));
    ops
}

/// Longest common subsequence by dynamic programming over the two line lists.
fn lcs_ops(a: &[&str], b: &[&str]) -> Vec<Op> {
    let (n, m) = (a.len(), b.len());
    if n.saturating_mul(m) > MAX_TABLE || n == 0 || m == 0 {
        let mut ops = vec![Op::Delete; n];
        ops.extend(std::iter::repeat_n(Op::Insert, m));
        return ops;
    }
    // table[i * (m + 1) + j]: length of the LCS of a[i..] and b[j..].
    let w = m + 1;
    let mut table = vec![0u32; (n + 1) * w];
    let get = |t: &[u32], i: usize, j: usize| t.get(i * w + j).copied().unwrap_or(0);
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            let v = if a.get(i) == b.get(j) {
                get(&table, i + 1, j + 1) + 1
            } else {
                get(&table, i + 1, j).max(get(&table, i, j + 1))
            };
            if let Some(cell) = table.get_mut(i * w + j) {
                *cell = v;
            }
        }
    }
    let mut ops = Vec::with_capacity(n + m);
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a.get(i) == b.get(j) {
            ops.push(Op::Same);
            (i, j) = (i + 1, j + 1);
        } else if j < m && (i == n || get(&table, i, j + 1) > get(&table, i + 1, j)) {
            ops.push(Op::Insert);
            j += 1;
        } else {
            ops.push(Op::Delete);
            i += 1;
        }
    }
    ops
}

/// Op index ranges of the hunks: each change with `CONTEXT` unchanged lines around it,
/// changes closer than twice that joined.
fn hunks(ops: &[Op]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (k, op) in ops.iter().enumerate() {
        if *op == Op::Same {
            continue;
        }
        let start = k.saturating_sub(CONTEXT);
        let end = (k + 1 + CONTEXT).min(ops.len());
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = end,
            _ => out.push((start, end)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(unified_diff("a", "b", "x\ny\n", "x\ny\n"), "");
    }

    #[test]
    fn hunks_have_context_and_line_numbers() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n";
        let new = "1\n2\nthree\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n";
        let expected = "--- f\n+++ f (formatted)\n\
            @@ -1,6 +1,6 @@\n 1\n 2\n-3\n+three\n 4\n 5\n 6\n\
            @@ -10,3 +10,4 @@\n 10\n 11\n 12\n+13\n";
        assert_eq!(unified_diff("f", "f (formatted)", old, new), expected);
    }

    #[test]
    fn a_missing_final_newline_is_marked() {
        assert_eq!(
            unified_diff("f", "g", "a\nb", "a\nb\n"),
            "--- f\n+++ g\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"
        );
        assert_eq!(unified_diff("f", "g", "", "a\n"), "--- f\n+++ g\n@@ -0,0 +1,1 @@\n+a\n");
    }
}
