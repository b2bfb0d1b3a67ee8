//! Registry lookups as a clerk's window does them: probe records judged against a registry,
//! one at a time, with the latency of each. Shared by `benches/registry.rs` and
//! `examples/bench_registry.rs`; expects the generator as `super::generator`.

use std::time::Instant;

use super::generator;

/// Records to look up: half new residents (another seed), half already enrolled ones under a
/// new id (the duplicates enrollment must catch), for a registry built from seed 1.
pub fn probes(n: usize) -> Vec<serde_json::Value> {
    let mut fresh = generator::Generator::new(99, generator::Config::default());
    let mut enrolled = generator::Generator::new(1, generator::Config::default());
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                fresh.value()
            } else {
                let mut v = enrolled.value();
                if let Some(obj) = v.as_object_mut() {
                    obj.insert(String::from("id"), serde_json::json!(format!("dup-{i}")));
                }
                v
            }
        })
        .collect()
}

/// Latency of lookup + evaluation, in milliseconds.
pub struct Times {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

/// Judge every probe against `registry` (after 200 warm-up lookups) and summarize the latencies.
pub fn times(engine: &kensa::Engine, registry: &dyn kensa::registry::Registry, probes: &[serde_json::Value]) -> Times {
    for p in probes.iter().take(200) {
        let _ = engine.evaluate_in(p, registry);
    }
    let mut ms: Vec<f64> = probes
        .iter()
        .map(|p| {
            let t = Instant::now();
            let _ = engine.evaluate_in(p, registry);
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms.get(((ms.len().max(1) - 1) as f64 * q) as usize).copied().unwrap_or(f64::NAN);
    let mean = ms.iter().sum::<f64>() / ms.len().max(1) as f64;
    Times { p50: at(0.50), p99: at(0.99), max: at(1.0), mean }
}
