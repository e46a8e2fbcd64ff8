//! Readiness (導入準備の判定): the run's verdicts read by requirement, area by area, for a
//! reviewer who must decide whether the software is ready — mandatory and recommended
//! requirements met, not met or not applicable, one line of verdict, and for every unmet
//! requirement the failing checks with why they matter and how to fix them.

use maud::{Markup, html};

use super::{CaseReport, RunReport, Verdict};
use crate::checks::{self, CheckResult};
use crate::scenario::requirements::{self, Group, Requirement};
use crate::spec::Severity;
use crate::texts::Lang;

/// How a requirement stands at one severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Every applicable case passed.
    Met,
    /// A case failed or broke.
    NotMet,
    /// Every case was not applicable to the client.
    NotApplicable,
}

/// One requirement at one severity: the cases that test it there and how it stands.
#[derive(Debug, Clone)]
pub struct Line<'r> {
    /// The requirement.
    pub requirement: &'static Requirement,
    /// Mandatory or recommended.
    pub severity: Severity,
    /// How it stands.
    pub standing: Standing,
    /// The cases, in run order.
    pub cases: Vec<&'r CaseReport>,
}

impl Line<'_> {
    /// The cases that failed or broke.
    pub fn unmet_cases(&self) -> impl Iterator<Item = &&CaseReport> {
        self.cases
            .iter()
            .filter(|c| matches!(c.verdict, Verdict::Fail | Verdict::Error))
    }
}

/// An area with its requirement lines.
#[derive(Debug, Clone)]
pub struct Area<'r> {
    /// The area.
    pub group: &'static Group,
    /// Its lines (requirement × severity) that some case of the run tests.
    pub lines: Vec<Line<'r>>,
}

impl Area<'_> {
    /// (met, not met, not applicable) at `severity`.
    pub fn tally(&self, severity: Severity) -> (usize, usize, usize) {
        let of = |s: Standing| {
            self.lines
                .iter()
                .filter(|l| l.severity == severity && l.standing == s)
                .count()
        };
        (of(Standing::Met), of(Standing::NotMet), of(Standing::NotApplicable))
    }
}

/// The readiness of a run.
#[derive(Debug, Clone)]
pub struct Readiness<'r> {
    /// Every area of the catalogue, in its order.
    pub areas: Vec<Area<'r>>,
}

impl<'r> Readiness<'r> {
    /// Reads `report` by requirement.
    pub fn of(report: &'r RunReport) -> Readiness<'r> {
        let areas = requirements::groups()
            .iter()
            .map(|group| {
                let mut lines = Vec::new();
                for requirement in requirements::all().iter().filter(|r| r.group == group.id) {
                    for severity in [Severity::Mandatory, Severity::Recommended] {
                        let cases: Vec<&CaseReport> = report
                            .cases
                            .iter()
                            .filter(|c| c.severity == severity && names(c, &requirement.id))
                            .collect();
                        if cases.is_empty() {
                            continue;
                        }
                        let standing = if cases
                            .iter()
                            .any(|c| matches!(c.verdict, Verdict::Fail | Verdict::Error))
                        {
                            Standing::NotMet
                        } else if cases.iter().all(|c| c.verdict == Verdict::NotApplicable) {
                            Standing::NotApplicable
                        } else {
                            Standing::Met
                        };
                        lines.push(Line {
                            requirement,
                            severity,
                            standing,
                            cases,
                        });
                    }
                }
                Area { group, lines }
            })
            .collect();
        Readiness { areas }
    }

    /// The lines not met at `severity`.
    pub fn unmet(&self, severity: Severity) -> Vec<&Line<'r>> {
        self.areas
            .iter()
            .flat_map(|a| &a.lines)
            .filter(|l| l.severity == severity && l.standing == Standing::NotMet)
            .collect()
    }

    /// Whether any case ran at all.
    pub fn judged(&self) -> bool {
        self.areas.iter().any(|a| !a.lines.is_empty())
    }

    /// The verdict in one line: 準備完了, or 要対応：必須 n 件.
    pub fn verdict_line(&self, lang: Lang) -> String {
        let n = self.unmet(Severity::Mandatory).len();
        if !self.judged() {
            lang.t("readiness.nothing_run").to_owned()
        } else if n == 0 {
            lang.t("readiness.ready").to_owned()
        } else {
            lang.fill("readiness.action", &[("n", &n)])
        }
    }
}

/// Whether the case names requirement `id` (a report joins several with ", ").
fn names(c: &CaseReport, id: &str) -> bool {
    c.requirement.split(", ").any(|r| r == id)
}

/// A requirement's one line in the reader's language.
fn requirement_title(r: &Requirement, lang: Lang) -> &str {
    match lang {
        Lang::Ja => &r.title_ja,
        Lang::En => &r.title,
    }
}

/// An area's name in the reader's language.
fn group_title(g: &Group, lang: Lang) -> &str {
    match lang {
        Lang::Ja => &g.title_ja,
        Lang::En => &g.title,
    }
}

/// The root failures of a failed case (the first of each check), or nothing for one that
/// broke.
fn root_checks(c: &CaseReport) -> Vec<&CheckResult> {
    c.root_failures().into_iter().map(|(root, _)| root).collect()
}

/// The readiness page: the verdict, the areas, and what must be fixed.
pub fn section(report: &RunReport, lang: Lang) -> Markup {
    let r = Readiness::of(report);
    let mandatory = r.unmet(Severity::Mandatory);
    let recommended = r.unmet(Severity::Recommended);
    let ready = r.judged() && mandatory.is_empty();
    let client = report
        .run
        .client
        .as_ref()
        .map(|c| format!("{} {}", c.name, c.version))
        .unwrap_or_else(|| "—".into());
    let tally = |a: &Area, s: Severity| {
        let (met, unmet, na) = a.tally(s);
        if met + unmet + na == 0 {
            lang.t("readiness.none").to_owned()
        } else {
            lang.fill("readiness.tally", &[("met", &met), ("unmet", &unmet), ("na", &na)])
        }
    };
    let any_na = r
        .areas
        .iter()
        .flat_map(|a| &a.lines)
        .any(|l| l.standing == Standing::NotApplicable);
    html! {
        section.readiness {
            h2 { (lang.t("readiness.title")) }
            p.verdict class=(if ready { "ready" } else { "action" }) { (r.verdict_line(lang)) }
            @if !recommended.is_empty() {
                p.meta { (lang.fill("readiness.recommended_open", &[("n", &recommended.len())])) }
            }
            p.meta {
                (lang.fill("readiness.run_line", &[
                    ("client", &client),
                    ("date", &report.run.date),
                    ("seed", &report.run.seed),
                    ("harness", &format!("{} {}", report.harness.name, report.harness.version)),
                ]))
            }
            p.meta { (lang.t("readiness.intro")) }
            table.areas {
                tr { th { (lang.t("readiness.area")) } th { (lang.t("readiness.mandatory")) } th { (lang.t("readiness.recommended")) } }
                @for a in &r.areas {
                    @let (_, unmet, _) = a.tally(Severity::Mandatory);
                    tr {
                        td { (group_title(a.group, lang)) }
                        td class=(if unmet > 0 { "fail" } else { "" }) { (tally(a, Severity::Mandatory)) }
                        td { (tally(a, Severity::Recommended)) }
                    }
                }
            }
            @if any_na { p.meta { (lang.t("readiness.not_applicable_note")) } }
            @if !mandatory.is_empty() || !recommended.is_empty() {
                h3 { (lang.t("readiness.unmet_title")) }
                @for line in mandatory.iter().chain(&recommended) {
                    (unmet_block(line, lang))
                }
            }
        }
    }
}

fn unmet_block(line: &Line<'_>, lang: Lang) -> Markup {
    let severity = match line.severity {
        Severity::Mandatory => lang.t("readiness.mandatory"),
        Severity::Recommended => lang.t("readiness.recommended"),
    };
    html! {
        div.unmet {
            p {
                b { (line.requirement.id) } " [" (severity) "] "
                (requirement_title(line.requirement, lang))
            }
            table {
                tr {
                    th { (lang.t("readiness.case")) } th { (lang.t("readiness.check")) }
                    th { (lang.t("readiness.found")) } th { (lang.t("readiness.why")) } th { (lang.t("readiness.fix")) }
                }
                @for c in line.unmet_cases() {
                    @if c.verdict == Verdict::Error {
                        tr {
                            td { a href=(format!("#case-{}", c.id)) { (c.id) } }
                            td { (c.reason_check.as_deref().unwrap_or("—")) }
                            td { (c.reason.as_deref().unwrap_or_default()) }
                            td colspan="2" { (lang.t("readiness.error_case")) }
                        }
                    }
                    @for k in root_checks(c) {
                        @let info = checks::info_in(&k.id, lang);
                        tr {
                            td { a href=(format!("#case-{}", c.id)) { (c.id) } }
                            td { b { (k.id) } @if let Some(i) = &info { br; (i.title) } }
                            td { (k.message) }
                            td { (info.as_ref().map_or("", |i| i.why)) }
                            td { (info.as_ref().map_or("", |i| i.fix)) }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;
    use crate::report::fixtures::{case, report};

    fn failed(id: &str) -> CheckResult {
        CheckResult {
            id: id.into(),
            status: Status::Fail,
            message: "the client reported `valid` for QualificationValidity 2".into(),
            expected: None,
            actual: None,
            events: vec![],
            step: Some(1),
            caused_by: None,
        }
    }

    /// A failed mandatory file case, a passed recommended face case, a not-applicable card
    /// case.
    fn sample() -> RunReport {
        let mut face = case(Verdict::Pass, vec![], None);
        face.id = "FACE-TEST-001".into();
        face.requirement = "OQS-IF-FACE".into();
        face.severity = Severity::Recommended;
        let mut card = case(Verdict::NotApplicable, vec![], None);
        card.id = "CARD-TEST-001".into();
        card.requirement = "JPKI-AUTH".into();
        report(vec![case(Verdict::Fail, vec![failed("OUT-INVALID")], None), face, card])
    }

    #[test]
    fn a_failed_mandatory_case_makes_its_requirement_unmet_and_names_the_fix() {
        let report = sample();
        let r = Readiness::of(&report);
        let unmet: Vec<&str> = r
            .unmet(Severity::Mandatory)
            .iter()
            .map(|l| l.requirement.id.as_str())
            .collect();
        assert_eq!(unmet, ["OQS-IF-001/002"]);
        assert_eq!(r.verdict_line(Lang::Ja), "要対応：必須 1 件");
        let file = &r.areas.iter().find(|a| a.group.id == "file").unwrap();
        assert_eq!(file.tally(Severity::Mandatory), (0, 1, 0));
        let face = &r.areas.iter().find(|a| a.group.id == "face").unwrap();
        assert_eq!(face.tally(Severity::Recommended), (1, 0, 0));
        let card = &r.areas.iter().find(|a| a.group.id == "card").unwrap();
        assert_eq!(card.tally(Severity::Mandatory), (0, 0, 1));
        let page = section(&report, Lang::Ja).into_string();
        let info = checks::info_in("OUT-INVALID", Lang::Ja).unwrap();
        for needle in [
            "要対応：必須 1 件",
            "対応が必要な項目",
            "対処方法",
            "OUT-INVALID",
            info.fix,
            "顔認証付きカードリーダーの結果取込",
        ] {
            assert!(page.contains(needle), "{needle:?} not in {page}");
        }
        let en = section(&report, Lang::En).into_string();
        let info = checks::info_in("OUT-INVALID", Lang::En).unwrap();
        for needle in [
            "Action needed: 1 mandatory",
            "What must be fixed",
            info.why,
            info.fix,
            "Face-auth reader results",
        ] {
            assert!(en.contains(needle), "{needle:?} not in {en}");
        }
    }

    #[test]
    fn passing_or_not_applicable_cases_are_ready() {
        let mut report = sample();
        report.cases[0].verdict = Verdict::Pass;
        report.cases[0].checks.clear();
        let r = Readiness::of(&report);
        assert_eq!(r.verdict_line(Lang::Ja), "準備完了 — 必須要件をすべて満たしています");
        assert!(!section(&report, Lang::Ja).into_string().contains("対応が必要な項目"));
        report.cases.clear();
        assert!(!Readiness::of(&report).judged());
        assert_eq!(
            Readiness::of(&report).verdict_line(Lang::En),
            "Not judged: no case of the suite ran"
        );
    }

    #[test]
    fn a_broken_case_is_unmet_not_passed() {
        let mut report = sample();
        report.cases[0] = case(Verdict::Error, vec![], Some("the adapter exited"));
        let r = Readiness::of(&report);
        assert_eq!(r.unmet(Severity::Mandatory).len(), 1);
        let page = section(&report, Lang::En).into_string();
        assert!(
            page.contains("the adapter exited") && page.contains("DRV-EXIT"),
            "{page}"
        );
    }

    #[test]
    fn a_recommended_failure_leaves_the_run_ready_but_says_so() {
        let mut report = sample();
        report.cases[0].verdict = Verdict::Pass;
        report.cases[0].checks.clear();
        report.cases[1].verdict = Verdict::Fail;
        report.cases[1].checks = vec![failed("FACE-ONCE")];
        let r = Readiness::of(&report);
        assert!(r.unmet(Severity::Mandatory).is_empty());
        let page = section(&report, Lang::Ja).into_string();
        assert!(
            page.contains("準備完了") && page.contains("推奨要件のうち 1 件が未達です"),
            "{page}"
        );
    }
}
