//! The plan of every strategy, and what undoes it from every point it can stop at.

use gantry_helm_deploy::plan::{
    self, Plan, Routing, Step, Strategy, Track, Traffic, Undo, Weights, canary_steps,
};

fn every_plan() -> Vec<Plan> {
    let mut plans = Vec::new();
    for strategy in [Strategy::Rolling, Strategy::BlueGreen, Strategy::Canary] {
        for traffic in [Traffic::Istio, Traffic::GatewayApi, Traffic::Service] {
            for steps in [
                vec![100],
                vec![10, 25, 50, 100],
                vec![5, 50, 100],
                vec![50, 80, 100],
            ] {
                for first_install in [false, true] {
                    if let Ok(plan) = plan::plan(strategy, traffic, &steps, first_install) {
                        plans.push(plan);
                    }
                }
            }
        }
    }
    plans
}

#[test]
fn undo_restores_traffic_before_anything_is_removed_from_every_point() {
    let plans = every_plan();
    assert!(plans.len() > 30, "{} plans", plans.len());
    for plan in &plans {
        for stopped in 0..plan.steps.len() {
            let undo = plan::undo(plan, stopped);
            // A cleanup failing after the promotion leaves the promoted version: nothing to undo.
            if plan::cleanup_after_promotion(plan, stopped) {
                assert!(undo.is_empty(), "{undo:?}");
                continue;
            }
            let ran = &plan.steps[..=stopped];
            let context = format!(
                "{:?} {:?} stopped at {stopped} ({})",
                plan.strategy, plan.traffic, plan.steps[stopped]
            );
            let routed = ran.iter().any(|s| matches!(s, Step::Route(_)));
            let stable_touched = ran.iter().any(|s| {
                matches!(
                    s,
                    Step::Install {
                        track: Track::Stable,
                        ..
                    }
                )
            });
            let route_at = undo.iter().position(|u| matches!(u, Undo::Route(_)));
            // Traffic goes home whenever a non-rolling deploy moved it.
            if plan.strategy != Strategy::Rolling {
                assert_eq!(route_at.is_some(), routed, "{context}: {undo:?}");
            }
            if let Some(route_at) = route_at {
                assert_eq!(
                    undo[route_at],
                    Undo::Route(Routing::all(plan.traffic, Track::Stable)),
                    "{context}"
                );
                // Nothing is removed while traffic may still reach it.
                assert!(
                    undo[..route_at]
                        .iter()
                        .all(|u| !matches!(u, Undo::Remove(_))),
                    "{context}: {undo:?}"
                );
                if stable_touched {
                    // The stable is rolled back and ready before traffic returns to it.
                    assert_eq!(
                        &undo[..route_at],
                        &[Undo::RollbackStable, Undo::Ready],
                        "{context}"
                    );
                } else {
                    assert_eq!(route_at, 0, "{context}: {undo:?}");
                }
            }
            // Everything the deploy created is removed, once; stable only when it is new.
            for track in [Track::Canary, Track::Baseline, Track::Green] {
                let created = ran.iter().any(|s| match s {
                    Step::Install { track: t, .. } => *t == track,
                    Step::Baseline => track == Track::Baseline,
                    _ => false,
                });
                let removed = undo.iter().filter(|u| **u == Undo::Remove(track)).count();
                assert_eq!(
                    removed,
                    usize::from(created),
                    "{context}: {track:?} in {undo:?}"
                );
            }
            let stable_removed = undo.contains(&Undo::Remove(Track::Stable));
            assert_eq!(
                stable_removed,
                stable_touched && plan.first_install,
                "{context}"
            );
            assert_eq!(
                undo.contains(&Undo::RollbackStable),
                stable_touched && !plan.first_install,
                "{context}"
            );
        }
    }
}

#[test]
fn canary_weights_give_the_baseline_the_canarys_share_and_sum_to_100() {
    for percent in 0..=100 {
        let weights = Weights::canary_step(percent);
        let sum: u32 = weights.0.iter().map(|(_, w)| w).sum();
        assert_eq!(sum, 100, "{percent}");
        assert_eq!(weights.of(Track::Canary), percent);
        assert_eq!(weights.of(Track::Baseline), percent.min(100 - percent));
    }
    assert_eq!(
        Weights::canary_step(10).to_string(),
        "stable 80 % / canary 10 % / baseline 10 %"
    );
    assert_eq!(Weights::canary_step(100).to_string(), "canary 100 %");
}

#[test]
fn a_canary_is_judged_at_every_step_with_a_baseline_and_promoted_after_the_last() {
    let plan = plan::plan(Strategy::Canary, Traffic::Istio, &[10, 25, 50, 100], false).unwrap();
    let analyses: Vec<_> = plan
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Analyse { percent, last } => Some((*percent, *last)),
            _ => None,
        })
        .collect();
    assert_eq!(analyses, [(10, false), (25, false), (50, true)]);
    // Every analysis follows its own weights and a hold.
    for (i, step) in plan.steps.iter().enumerate() {
        if let Step::Analyse { percent, .. } = step {
            assert_eq!(plan.steps[i - 1], Step::Health);
            assert_eq!(plan.steps[i - 2], Step::Hold);
            assert_eq!(
                plan.steps[i - 3],
                Step::Route(Routing::Weights(Weights::canary_step(*percent)))
            );
        }
    }
    // Promotion pins the routing to the canary, then hands it back to the stable.
    assert_eq!(
        plan.steps[plan.promotion],
        Step::Install {
            track: Track::Stable,
            pinned: Some(Routing::Weights(Weights::all(Track::Canary)))
        }
    );
    assert_eq!(plan.steps.last(), Some(&Step::Remove(Track::Canary)));
    // The stable release is not touched before promotion.
    assert!(plan.steps[..plan.promotion].iter().all(|s| !matches!(
        s,
        Step::Install {
            track: Track::Stable,
            ..
        }
    )));
}

#[test]
fn a_first_install_is_rolling_and_a_selector_cannot_carry_a_canary() {
    let plan = plan::plan(Strategy::Canary, Traffic::Istio, &[10, 100], true).unwrap();
    assert_eq!(plan.strategy, Strategy::Rolling);
    assert!(plan.first_install);
    assert_eq!(plan::undo(&plan, 0), [Undo::Remove(Track::Stable)]);
    assert!(plan::plan(Strategy::Canary, Traffic::Service, &[10, 100], false).is_err());
    let blue_green = plan::plan(Strategy::BlueGreen, Traffic::Service, &[100], false).unwrap();
    assert!(
        blue_green
            .steps
            .contains(&Step::Route(Routing::Serve(Track::Green)))
    );
}

#[test]
fn canary_steps_rise_to_100() {
    assert_eq!(canary_steps("10,25,50,100"), Ok(vec![10, 25, 50, 100]));
    assert_eq!(canary_steps(" 5%, 100% "), Ok(vec![5, 100]));
    // Issue 27 §5: each refusal says what is wrong, and how steps are written.
    for (bad, why) in [
        ("", "no steps"),
        ("10,25", "the last step is not 100"),
        ("0,100", "0 is not a percentage from 1 to 100"),
        ("50,25,100", "50 then 25 does not rise"),
        ("10,10,100", "10 then 10 does not rise"),
        ("10,200", "200 is not a percentage"),
        ("ten,100", "`ten` is not a whole percentage"),
        ("100,100", "100 then 100 does not rise"),
        ("10 25 50 100", "separate the steps with commas"),
        ("10;50;100", "separate the steps with commas"),
        ("[10, 50, 100]", "a list is not taken"),
        ("10\n50\n100", "a list is not taken"),
        ("- 10\n- 100", "a list is not taken"),
    ] {
        let error = canary_steps(bad).unwrap_err().to_string();
        assert!(
            error.contains(why)
                && error.contains("comma-separated")
                && error.contains("`10,25,50,100`"),
            "{bad:?}: {error}"
        );
    }
}

#[test]
fn pinned_values_render_the_routing_as_it_stands() {
    let tracks = plan::tracks(Strategy::Canary);
    assert_eq!(
        Routing::Weights(Weights::all(Track::Canary)).pinned("web", tracks),
        [
            "gantry.weights.stable=0",
            "gantry.weights.canary=100",
            "gantry.weights.baseline=0"
        ]
    );
    assert_eq!(
        Routing::Serve(Track::Green).pinned("web", tracks),
        ["gantry.serve=web-green"]
    );
}

/// Issue 26 §4: a cleanup that failed after promotion rolled the promoted, judged version back.
#[test]
fn a_cleanup_failing_after_promotion_undoes_nothing() {
    for plan in every_plan()
        .into_iter()
        .filter(|plan| plan.strategy != Strategy::Rolling)
    {
        let unpinned = plan
            .steps
            .iter()
            .position(|step| matches!(step, Step::Unpin))
            .expect("a promotion unpins");
        for (index, step) in plan.steps.iter().enumerate() {
            let after = index > unpinned && matches!(step, Step::Remove(_));
            assert_eq!(
                plan::cleanup_after_promotion(&plan, index),
                after,
                "{:?} step {index}",
                plan.strategy
            );
            if after {
                assert!(plan::undo(&plan, index).is_empty());
            }
        }
        // Before the cleanups, a failure still undoes: the promotion itself rolls back.
        let promotion = plan
            .steps
            .iter()
            .position(|step| {
                matches!(
                    step,
                    Step::Install {
                        track: Track::Stable,
                        pinned: Some(_)
                    }
                )
            })
            .expect("a promotion");
        assert!(plan::undo(&plan, promotion).contains(&Undo::RollbackStable));
    }
}

/// `test: true`: the chart's tests run on the new version right after it is first ready —
/// before any traffic reaches it, any baseline is made or any promotion — and the promotion
/// index still names the first promotion step.
#[test]
fn the_charts_tests_run_on_the_new_version_before_traffic_and_promotion() {
    for plan in every_plan() {
        let tested = plan::with_tests(plan.clone());
        assert_eq!(tested.steps.len(), plan.steps.len() + 1);
        let at = tested
            .steps
            .iter()
            .position(|step| matches!(step, Step::Test(_)))
            .expect("a test step");
        let Step::Test(track) = tested.steps[at] else {
            unreachable!()
        };
        assert_eq!(tested.steps[at - 1], Step::Ready(track), "{tested:?}");
        assert!(
            !tested.steps[..at]
                .iter()
                .any(|step| matches!(step, Step::Route(_) | Step::Baseline)),
            "{tested:?}"
        );
        if plan.strategy != Strategy::Rolling {
            assert!(at < tested.promotion, "{tested:?}");
            assert_eq!(
                tested.steps[tested.promotion..],
                plan.steps[plan.promotion..],
                "{tested:?}"
            );
        }
    }
}
