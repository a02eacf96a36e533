//! Every coverage report of the corpus is read, or refused naming the file; totals are the
//! tool's own and agree with the files' lines where the tool's totals count the same thing.

use gantry_quality_gate::coverage::{CoverageFormat, read_coverage};

#[test]
fn coverage_reports_are_read_with_the_tools_totals() {
    let mut read = 0;
    let mut refused: Vec<String> = Vec::new();
    for (name, path) in gantry_testkit::corpus_files("quality/coverage") {
        let bytes = std::fs::read(&path).unwrap();
        match read_coverage(&name, &bytes[..]) {
            Ok(coverage) => {
                read += 1;
                assert!(coverage.lines_covered <= coverage.lines_valid, "{name}");
                assert!(
                    coverage.branches_covered <= coverage.branches_valid,
                    "{name}"
                );
                let files: u64 = coverage.files.iter().map(|f| f.lines_valid).sum();
                // LCOV's totals are its files'. (Cobertura's root totals may count otherwise —
                // old `dotnet test` counts every sequence point — and one JaCoCo fixture
                // repeats a package without updating the report's counters.)
                if coverage.format == CoverageFormat::Lcov {
                    assert_eq!(files, coverage.lines_valid, "{name}: files add up");
                }
            }
            Err(error) => {
                assert!(
                    error.to_string().starts_with(&format!("{name}: ")),
                    "{error}"
                );
                refused.push(name);
            }
        }
    }
    assert!(read >= 25, "{read} read");
    refused.sort();
    assert_eq!(
        refused,
        [
            // One byte long.
            "cobertura/coverage-reporter/cobertura-coverage.xml",
            // `</methods>` closes a `<class>`: not well-formed (Python's parser refuses it too).
            "cobertura/coverage-reporter/cobertura-oneline.xml",
            "cobertura/coverage-reporter/cobertura.xml",
            "lcov/coverage-reporter/empty.lcov",
        ]
    );
}
