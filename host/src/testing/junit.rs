//! The results of a `fusio test` run as JUnit XML (quick-junit), the
//! format CI systems read: one suite for the project file, one test case
//! per declared case, its method entry as the class name, warnings as
//! system-out.

use super::cases::CaseResult;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::path::Path;

/// The report of `results`, run from the project `file`.
pub fn report(file: &Path, results: &[CaseResult]) -> Result<String, quick_junit::SerializeError> {
    let mut suite = TestSuite::new(file.display().to_string());
    for result in results {
        let status = match &result.failure {
            None => TestCaseStatus::success(),
            Some(reason) => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(reason.as_str());
                status
            }
        };
        let mut case = TestCase::new(result.name.as_str(), status);
        case.set_classname(result.entry.as_str());
        case.set_time(result.duration);
        if !result.warnings.is_empty() {
            case.set_system_out(result.warnings.join("\n"));
        }
        suite.add_test_case(case);
    }
    let mut report = Report::new("fusio test");
    report.add_test_suite(suite);
    report.to_string()
}
