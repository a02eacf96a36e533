//! The judge's statistics against SciPy on the same samples: the Mann–Whitney test
//! (`scipy.stats.mannwhitneyu`, asymptotic, continuity corrected, both one-sided alternatives),
//! the Hodges–Lehmann shift (NumPy's median of the pairwise differences), Fisher's exact test
//! (`scipy.stats.fisher_exact`, `greater`), the normal tails and quantile, ln Γ, and the
//! O'Brien–Fleming spending function — on seeded samples shaped like canary data: ties, zeros,
//! zero-inflated error rates, few points and many.

use std::io::Write as _;
use std::process::{Command, Stdio};

use gantry_canary_verify::stats;

use gantry_testkit::random::Seeded;
use serde_json::{Value, json};

fn scipy(cases: &[Value]) -> Vec<Value> {
    let python = gantry_testkit::python_tool("python");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scipy_reference.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(Value::from(cases.to_vec()).to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "scipy_reference.py: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON from scipy_reference.py")
}

/// `ours` within a relative `tolerance` of SciPy's `theirs` (absolute below 1e-300).
fn close(ours: f64, theirs: &Value, tolerance: f64, what: &str) {
    near(ours, theirs, tolerance, 1e-300, what);
}

/// `ours` within `tolerance` × max(|`theirs`|, `floor`) of SciPy's `theirs`.
fn near(ours: f64, theirs: &Value, tolerance: f64, floor: f64, what: &str) {
    let theirs = theirs
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: {theirs}"));
    let scale = theirs.abs().max(floor);
    assert!(
        (ours - theirs).abs() <= tolerance * scale,
        "{what}: ours {ours:e}, SciPy {theirs:e}"
    );
}

/// Samples shaped like per-interval canary metrics.
fn samples(random: &mut Seeded, shape: usize, n: usize, shift: f64) -> Vec<f64> {
    (0..n)
        .map(|_| match shape {
            // Error ratios: mostly exactly zero, now and then a small value (zero-inflated).
            0 => {
                if random.unit() < 0.2 + shift {
                    (random.unit() * 0.01 * 1e4).round() / 1e4
                } else {
                    0.0
                }
            }
            // Latencies in whole milliseconds: many ties.
            1 => (50.0 + 20.0 * random.unit() + 40.0 * shift).round(),
            // Continuous, with a tail.
            _ => (0.1 + shift) * (-(1.0 - random.unit()).ln()),
        })
        .collect()
}

#[test]
fn rank_sum_and_hodges_lehmann_match_scipy() {
    let mut random = Seeded(11);
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for shape in 0..3 {
        for (n_canary, n_baseline) in [(3, 4), (12, 12), (40, 55), (240, 240)] {
            for shift in [0.0, 0.05, 0.3] {
                let canary = samples(&mut random, shape, n_canary, shift);
                let baseline = samples(&mut random, shape, n_baseline, 0.0);
                ours.push((
                    stats::rank_sum(&canary, &baseline).unwrap(),
                    stats::hodges_lehmann(&canary, &baseline),
                ));
                cases.push(json!({"kind": "rank_sum", "canary": canary, "baseline": baseline}));
            }
        }
    }
    let answers = scipy(&cases);
    for (index, ((test, shift), answer)) in ours.iter().zip(&answers).enumerate() {
        // All-tied samples are where SciPy says NaN and we say "no evidence" (1).
        if answer["p_greater"].is_null() {
            assert_eq!((test.p_greater, test.p_less), (1.0, 1.0), "case {index}");
            continue;
        }
        close(test.u, &answer["u"], 1e-12, &format!("case {index} U"));
        close(
            test.p_greater,
            &answer["p_greater"],
            1e-9,
            &format!("case {index} p greater"),
        );
        close(
            test.p_less,
            &answer["p_less"],
            1e-9,
            &format!("case {index} p less"),
        );
        close(
            *shift,
            &answer["hodges_lehmann"],
            1e-12,
            &format!("case {index} shift"),
        );
    }
}

#[test]
#[expect(clippy::float_cmp, reason = "\"no evidence\" is exactly 1")]
fn fisher_matches_scipy_from_rare_to_common_events() {
    let tables: Vec<[u64; 4]> = vec![
        // The zero-inflated case: the baseline never fails, the canary now and then.
        [5, 18_000, 0, 18_000],
        [1, 18_000, 0, 18_000],
        [0, 18_000, 3, 18_000],
        // Flagger's blind spot: 0.4 % → 0.8 %.
        [144, 18_000, 72, 18_000],
        [72, 18_000, 72, 18_000],
        [3, 40, 1, 45],
        [0, 0, 0, 10],
        [10, 10, 0, 10],
        [2_000, 1_000_000, 1_850, 1_000_000],
        [9, 120, 25, 130],
    ];
    let cases: Vec<Value> = tables
        .iter()
        .map(|counts| json!({"kind": "fisher", "counts": counts}))
        .collect();
    let answers = scipy(&cases);
    for (counts, answer) in tables.iter().zip(&answers) {
        let [cb, ct, bb, bt] = *counts;
        let p = stats::fisher_greater(cb, ct, bb, bt);
        if answer["p"].is_null() {
            // SciPy says NaN for an empty row; we say "no evidence".
            assert_eq!(p, 1.0, "{counts:?}");
            continue;
        }
        close(p, &answer["p"], 1e-7, &format!("{counts:?}"));
    }
}

#[test]
fn normal_tails_quantile_gamma_and_spending_match_scipy() {
    let z = [
        -7.5, -2.6, -2.5, -1.0, -0.3, 0.0, 0.4, 1.96, 2.49, 2.5, 2.51, 3.7, 6.0, 8.2, 12.0,
    ];
    let p = [
        1e-10, 1e-4, 0.01, 0.024, 0.025, 0.2, 0.5, 0.8, 0.975, 0.98, 0.99, 0.999_999,
    ];
    let x = [
        0.1,
        0.5,
        1.0,
        1.5,
        3.0,
        10.5,
        171.0,
        1.0e4,
        3.6e4 + 1.0,
        2.0e6 + 1.0,
    ];
    let t = [0.05, 0.1, 0.25, 0.5, 0.75, 1.0];
    let answers = scipy(&[
        json!({"kind": "normal", "z": z, "p": p}),
        json!({"kind": "gammaln", "x": x}),
        json!({"kind": "spending", "alpha": 0.02, "t": t}),
    ]);
    for (index, z) in z.iter().enumerate() {
        close(
            stats::normal_sf(*z),
            &answers[0]["sf"][index],
            1e-13,
            &format!("sf({z})"),
        );
        close(
            stats::erfc(*z),
            &answers[0]["erfc"][index],
            1e-13,
            &format!("erfc({z})"),
        );
    }
    for (index, p) in p.iter().enumerate() {
        close(
            stats::normal_quantile(*p),
            &answers[0]["ppf"][index],
            1e-12,
            &format!("ppf({p})"),
        );
    }
    for (index, x) in x.iter().enumerate() {
        // Relative, except near the zeros of ln Γ at 1 and 2.
        near(
            stats::ln_gamma(*x),
            &answers[1]["value"][index],
            1e-13,
            1.0,
            &format!("ln Γ({x})"),
        );
    }
    for (index, t) in t.iter().enumerate() {
        close(
            stats::obrien_fleming_spent(0.02, *t),
            &answers[2]["spent"][index],
            1e-10,
            &format!("spent({t})"),
        );
    }
}
