//! Batch work on all cores (feature `parallel`, rayon's pool) or on the calling thread. Both
//! give the same results in the same order; only the time differs.

/// Sort in place (unstable: equal elements may move; callers sort by keys that do not tie).
pub fn sort_unstable<T: Ord + Send>(v: &mut [T]) {
    #[cfg(feature = "parallel")]
    rayon::slice::ParallelSliceMut::par_sort_unstable(v);
    #[cfg(not(feature = "parallel"))]
    v.sort_unstable();
}

/// Sort in place by a key (unstable).
pub fn sort_unstable_by_key<T: Send, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K + Sync) {
    #[cfg(feature = "parallel")]
    rayon::slice::ParallelSliceMut::par_sort_unstable_by_key(v, key);
    #[cfg(not(feature = "parallel"))]
    v.sort_unstable_by_key(key);
}

/// `f` over every element, results in input order.
pub fn map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync + Send) -> Vec<U> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        items.par_iter().map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        items.iter().map(f).collect()
    }
}

/// Fold `0..n` into accumulators made by `init` (one per piece of work, at least `min_len`
/// indices each) and merge them with `merge`. `merge` must not depend on how the range was cut.
pub fn fold_range<A: Send>(
    n: usize,
    min_len: usize,
    init: impl Fn() -> A + Sync + Send,
    fold: impl Fn(A, usize) -> A + Sync + Send,
    merge: impl Fn(A, A) -> A + Sync + Send,
) -> A {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        (0..n).into_par_iter().with_min_len(min_len).fold(&init, fold).reduce(&init, merge)
    }
    #[cfg(not(feature = "parallel"))]
    {
        let _ = (min_len, merge);
        (0..n).fold(init(), fold)
    }
}

/// Sort in place, stably, by a comparison.
pub fn sort_by<T: Send>(v: &mut [T], cmp: impl Fn(&T, &T) -> std::cmp::Ordering + Sync) {
    #[cfg(feature = "parallel")]
    rayon::slice::ParallelSliceMut::par_sort_by(v, cmp);
    #[cfg(not(feature = "parallel"))]
    v.sort_by(cmp);
}
