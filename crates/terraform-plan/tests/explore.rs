use gantry_terraform_plan::*;
#[test]
#[ignore]
fn explore() {
    let root = gantry_testkit::shared_dir().join("corpus/terraform");
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flat_map(|d| {
            let d = d.unwrap().path();
            if d.is_dir() {
                std::fs::read_dir(d)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .collect::<Vec<_>>()
            } else {
                vec![]
            }
        })
        .collect();
    files.sort();
    let options = Options {
        comment: CommentSetting::Update,
        comment_key: None,
        fail_on_destroy: false,
        destroy_allowlist: vec![],
        expect_digest: None,
        workflow_and_job: "w/j".into(),
    };
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        let name = file.strip_prefix(&root).unwrap().display().to_string();
        let source = StackSource {
            name: "s".into(),
            file: name.clone(),
            bytes: &bytes,
        };
        match run(&options, &[source]) {
            Ok(report) => {
                let o = |k| report.outputs.value(k).unwrap_or("").to_owned();
                println!(
                    "OK   {name}: add={} change={} destroy={} replace={} import={} move={} forget={} drift={} summary={} ",
                    o("add"),
                    o("change"),
                    o("destroy"),
                    o("replace"),
                    o("import"),
                    o("move"),
                    o("forget"),
                    o("drift"),
                    report.summary.len()
                );
            }
            Err(e) => println!("ERR  {e}"),
        }
    }
}
#[test]
#[ignore]
fn show() {
    let file = std::env::var("PLAN").unwrap();
    let bytes = std::fs::read(&file).unwrap();
    let options = Options {
        comment: CommentSetting::Update,
        comment_key: None,
        fail_on_destroy: true,
        destroy_allowlist: vec![],
        expect_digest: None,
        workflow_and_job: "w/j".into(),
    };
    let report = run(
        &options,
        &[StackSource {
            name: "prod".into(),
            file: "plan.json".into(),
            bytes: &bytes,
        }],
    )
    .unwrap();
    println!("{}", report.summary);
}
