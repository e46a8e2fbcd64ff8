//! `onshi rush`: every shipped profile on virtual time, a real-time rush against the
//! reference client through the real World, and adapters that stall, die or answer wrong.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

fn rush(args: &[&str], report_dir: &Path) -> (i32, Value, String) {
    let mut all = vec!["rush", "--report-dir", report_dir.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = run_onshi(&all);
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report = std::fs::read_to_string(report_dir.join("rush.json"))
        .map(|t| serde_json::from_str(&t).expect("rush.json is JSON"))
        .unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), report, text)
}

fn count(report: &Value, key: &str) -> u64 {
    report["counts"][key].as_u64().unwrap_or_else(|| {
        report["counts"][key]
            .as_object()
            .map_or(0, |m| m.values().filter_map(Value::as_u64).sum())
    })
}

/// The latency row of `way` and `stage`.
fn row<'a>(report: &'a Value, way: &str, stage: &str) -> Option<&'a Value> {
    report["latency"]
        .as_array()?
        .iter()
        .find(|r| r["way"] == way && r["stage"] == stage)
}

#[test]
fn every_shipped_profile_runs_on_virtual_time() {
    let out = run_onshi(&["rush", "--list"]);
    let list = String::from_utf8_lossy(&out.stdout).to_string();
    let ids: Vec<&str> = list
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for id in ["clinic-morning", "hospital-opening", "cloud-ehr-1000", "national-peak"] {
        assert!(ids.contains(&id), "{id} not in {list}");
    }
    for id in ids {
        let dir = tempfile::tempdir().unwrap();
        let (code, report, text) = rush(&[id, "--virtual"], dir.path());
        assert!(code == 0 || code == 1, "{id}: exit {code}\n{text}");
        assert_eq!(
            code == 0,
            report["slos"].as_array().unwrap().iter().all(|s| s["pass"] == true)
        );
        let arrivals = count(&report, "arrivals");
        assert!(arrivals > 0, "{id}: {text}");
        assert_eq!(
            count(&report, "completed"),
            arrivals,
            "{id}: every visit ends on virtual time"
        );
        assert_eq!(report["mode"], "virtual");
        // the total is at least each of its stages
        let total = row(&report, "all", "total").unwrap()["max_ms"].as_f64().unwrap();
        for s in ["queue", "reader", "national", "import"] {
            let stage = row(&report, "all", s).unwrap_or_else(|| panic!("{id}: no {s} row"));
            assert!(stage["max_ms"].as_f64().unwrap() <= total + 1.0, "{id}: {s}");
        }
        assert!(text.contains("p95") || text.contains("p99"), "{text}");
    }
}

#[test]
fn virtual_runs_repeat_exactly_with_the_same_seed() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("elapsed_s");
        v
    };
    let (_, ra, _) = rush(
        &["cloud-ehr-1000", "--virtual", "--seed", "5", "--duration", "30m"],
        a.path(),
    );
    let (_, rb, _) = rush(
        &[
            "cloud-ehr-1000",
            "--virtual",
            "--seed",
            "5",
            "--duration",
            "30m",
            "--threads",
            "1",
        ],
        b.path(),
    );
    let (_, rc, _) = rush(
        &["cloud-ehr-1000", "--virtual", "--seed", "6", "--duration", "30m"],
        c.path(),
    );
    assert_eq!(
        strip(ra.clone()),
        strip(rb),
        "same seed, any thread count: the same run"
    );
    assert_ne!(strip(ra), strip(rc), "another seed: another run");
}

/// A real-time run's import stage becomes the client model of a virtual run.
#[test]
fn a_virtual_run_models_the_client_on_a_real_time_run_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let measured = dir.path().join("measured.json");
    let real = serde_json::json!({
        "mode": "real",
        "profile": "fast",
        "latency": [{"way": "all", "stage": "import", "count": 120, "p50_ms": 200.0, "p95_ms": 400.0}],
    });
    std::fs::write(&measured, real.to_string()).unwrap();
    let base = ["cloud-ehr-1000", "--virtual", "--duration", "30m"];
    let (_, modelled, text) = rush(
        &[&base[..], &["--client-from", measured.to_str().unwrap()]].concat(),
        &dir.path().join("modelled"),
    );
    assert!(text.contains("client import modelled on"), "{text}");
    let page = std::fs::read_to_string(dir.path().join("modelled/rush.html")).unwrap();
    assert!(page.contains("Client import modelled on"), "rush.html names the model");
    // median 200 ms, σ = ln(400 / 200) / 1.645
    assert!(
        modelled["client_model"]
            .as_str()
            .unwrap()
            .ends_with("log-normal, median 200 ms, σ 0.421"),
        "{}",
        modelled["client_model"]
    );
    let p50 = |r: &Value| row(r, "all", "import").unwrap()["p50_ms"].as_f64().unwrap();
    let (_, profile_model, _) = rush(&base, &dir.path().join("profile"));
    assert!((p50(&modelled) - 200.0).abs() < 20.0, "{}", p50(&modelled));
    assert!(
        p50(&profile_model) > 500.0,
        "the profile's own 600 ms: {}",
        p50(&profile_model)
    );
    // only a real-time run measured the client
    let (code, _, text) = rush(
        &[
            &base[..],
            &["--client-from", dir.path().join("profile/rush.json").to_str().unwrap()],
        ]
        .concat(),
        &dir.path().join("bad"),
    );
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("only measured in real time"), "{text}");
}

/// On virtual time the bundled reference client waits as its own code does
/// (`onshi_reference_client::timing`): a face file is trusted after two reads 100 ms apart,
/// a result in res/ is seen at the next look (every 25 ms after the request) and read twice,
/// an API answer is there at once; the stable-read style reads 300 ms apart; and it gives up
/// when the harness's time-out passes, which makes its answer an error.
#[test]
fn the_reference_client_on_virtual_time_waits_as_its_code_does() {
    let dir = tempfile::tempdir().unwrap();
    let profile = fast_profile(dir.path(), 300);
    let base = [profile.as_str(), "--virtual", "--seed", "3", "--duration", "10m"];
    let ms = |r: &Value, way: &str, key: &str| {
        row(r, way, "import").unwrap_or_else(|| panic!("{way}"))[key]
            .as_f64()
            .unwrap()
    };
    let (code, r, text) = rush(
        &[&base[..], &["--client", "reference"]].concat(),
        &dir.path().join("ref"),
    );
    assert_eq!(code, 0, "{text}");
    assert!(
        r["client_model"].as_str().unwrap().contains("reference client"),
        "{text}"
    );
    assert!(text.contains("every 25 ms"), "the summary names the model: {text}");
    for way in ["face", "pin"] {
        assert!((ms(&r, way, "p50_ms") - 100.0).abs() < 0.5, "{way}: {text}");
        assert!((ms(&r, way, "max_ms") - 100.0).abs() < 0.5, "{way}: {text}");
    }
    // written 10 ms after the answer, which comes 400 ms after the request: seen at 425 ms
    let card = ms(&r, "insurance_card", "p50_ms");
    assert!(
        (card - 115.0).abs() < 0.5,
        "next look 15 ms after the write, then 100 ms: {card}"
    );
    assert!(ms(&r, "api", "max_ms") < 0.5, "{text}");
    assert_eq!(count(&r, "wrong"), 0, "{text}");

    let (_, cautious, text) = rush(
        &[&base[..], &["--client", "reference --style stable-read"]].concat(),
        &dir.path().join("cautious"),
    );
    assert!((ms(&cautious, "face", "p50_ms") - 300.0).abs() < 0.5, "{text}");

    // a national answer of 3 s against a 2 s time-out: every desk call gives up
    let slow = dir.path().join("slow");
    std::fs::create_dir(&slow).unwrap();
    let slow_profile = fast_profile(&slow, 3_000);
    let (code, late, text) = rush(
        &[
            slow_profile.as_str(),
            "--virtual",
            "--seed",
            "3",
            "--duration",
            "10m",
            "--call-timeout",
            "2",
            "--client",
            "reference",
        ],
        &slow.join("report"),
    );
    assert_eq!(
        code, 0,
        "the exit status follows the SLOs, and the 20 s one holds: {text}"
    );
    let desk = |k: &str| late["counts"]["completed"][k].as_u64().unwrap_or(0);
    assert!(desk("insurance_card") > 0 && desk("api") > 0, "{text}");
    assert_eq!(count(&late, "wrong"), desk("insurance_card") + desk("api"), "{text}");
    assert_eq!(
        late["counts"]["outcomes"]["error"].as_u64(),
        Some(desk("insurance_card") + desk("api"))
    );
    // gave up 2 s after sending (on the 25 ms grid, 2 s is a look); the World's answer came
    // after that and is not the visit's (as in a live run)
    for way in ["insurance_card", "api"] {
        assert!(row(&late, way, "national").is_none(), "{way}: {text}");
        let span = |m: &str| row(&late, way, m).map_or(0.0, |r| r["p50_ms"].as_f64().unwrap());
        let waited = span("pickup") + span("import");
        assert!((waited - 2_000.0).abs() < 2.0, "{way} waited {waited} ms: {text}");
    }

    for bad in ["reference --style nope", "bogus", "profile extra"] {
        let (code, _, text) = rush(&[&base[..], &["--client", bad]].concat(), &dir.path().join("bad"));
        assert_eq!(code, 3, "{bad}: {text}");
        assert!(text.contains("--client"), "{bad}: {text}");
    }
}

/// Three processes on partitions 0/3, 1/3 and 2/3, merged from their report folders, give
/// the report of one process running everything (docs/scaling.md).
#[test]
fn partitions_merged_from_their_report_folders_equal_the_whole_run() {
    let root = tempfile::tempdir().unwrap();
    let dir = |name: &str| root.path().join(name);
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("elapsed_s");
        v
    };
    let base = ["hospital-opening", "--virtual", "--seed", "9"];
    let (_, whole, text) = rush(&base, &dir("whole"));
    assert!(dir("whole/rush.hlog").exists(), "{text}");
    assert!(
        whole.get("start_lag").is_none(),
        "virtual time has no harness lag: {text}"
    );
    for k in 0..3 {
        let p = format!("{k}/3");
        let (_, part, text) = rush(&[&base[..], &["--partition", &p]].concat(), &dir(&format!("p{k}")));
        assert_eq!(part["partition"], p.as_str(), "{text}");
    }
    // `onshi rush PROFILE --merge <folders…> --report-dir <out>`
    let merge = |profile: &str, folders: &[&str], out: &str| {
        let folders: Vec<String> = folders.iter().map(|f| dir(f).display().to_string()).collect();
        let mut args = vec![profile, "--merge"];
        args.extend(folders.iter().map(String::as_str));
        rush(&args, &dir(out))
    };
    let (code, merged, text) = merge("hospital-opening", &["p0", "p1", "p2"], "merged");
    assert!(code == 0 || code == 1, "{text}");
    assert!(text.contains("merged 3 run(s)"), "{text}");
    assert_eq!(strip(merged), strip(whole.clone()));
    // a partition missing is said, a partition given twice refused
    let (_, partial, text) = merge("hospital-opening", &["p0", "p2"], "partial");
    assert!(text.contains("only partitions 0,2/3"), "{text}");
    assert_eq!(partial["partition"], "0,2/3");
    let (code, _, text) = merge("hospital-opening", &["p1", "p1"], "twice");
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("partition 1/3 is given twice"), "{text}");
    let (code, _, text) = merge("clinic-morning", &["p0"], "other");
    assert_ne!(code, 0, "{text}");
    assert!(text.contains("not \"clinic-morning\""), "{text}");
    // the same profile id with other SLOs (an edited copy) cannot judge these runs
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/rush/hospital-opening.toml"),
    )
    .unwrap();
    let edited = dir("edited.toml");
    std::fs::write(&edited, &shipped[..shipped.find("[[slo]]").unwrap()]).unwrap();
    let (code, _, text) = merge(edited.to_str().unwrap(), &["p0"], "edited");
    assert_eq!(code, 3, "{text}");
    assert!(
        text.contains("the runs measured 2 SLO(s), the profile hospital-opening has 0"),
        "{text}"
    );
}

#[test]
fn bad_profiles_and_options_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("bad.toml");
    std::fs::write(
        &profile,
        r#"
id = "bad"
title = "bad"
duration = "1h"
[[facility]]
kind = "clinic"
readers = 0
reception_pcs = 1
curve = "c"
[[curve]]
name = "c"
points = [{ at = "0m", per_minute = -3 }]
[mix]
ways = { face = 1.0 }
population = 1.0
"#,
    )
    .unwrap();
    let (code, _, text) = rush(&[profile.to_str().unwrap(), "--virtual"], dir.path());
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("facility[0].readers"), "{text}");
    assert!(text.contains("curve[0].points[0].per_minute"), "{text}");
    let (code, _, text) = rush(&["no-such-profile", "--virtual"], dir.path());
    assert_eq!(code, 3);
    assert!(text.contains("clinic-morning"), "lists the shipped profiles: {text}");
    for bad in [
        ["--duration", "25h"],
        ["--duration", "0s"],
        ["--partition", "3/3"],
        ["--partition", "x"],
    ] {
        let (code, _, text) = rush(&["clinic-morning", "--virtual", bad[0], bad[1]], dir.path());
        assert_eq!(code, 3, "{bad:?}: {text}");
    }
}

/// A small, fast profile for real time: every way, a persona the World answers differently.
fn fast_profile(dir: &Path, national_ms: u64) -> String {
    let path = dir.join("fast.toml");
    std::fs::write(
        &path,
        format!(
            r#"
id = "fast"
title = "fast"
duration = "6s"
[[facility]]
kind = "clinic"
count = 2
readers = 1
reception_pcs = 2
curve = "c"
[[curve]]
name = "c"
points = [{{ at = "0s", per_minute = 60 }}]
[mix]
ways = {{ face = 0.3, pin = 0.2, insurance_card = 0.3, api = 0.2 }}
population = 0.6
persona = [{{ id = "lost-eligibility", card = "lost-eligibility", share = 0.4 }}]
[service]
card_placement = {{ fixed = {{ ms = 50 }} }}
face_match = {{ fixed = {{ ms = 50 }} }}
pin_entry = {{ fixed = {{ ms = 50 }} }}
consent_screens = {{ fixed = {{ ms = 50 }} }}
desk_entry = {{ fixed = {{ ms = 100 }} }}
[world]
national = {{ fixed = {{ ms = {national_ms} }} }}
terminal_pickup = {{ fixed = {{ ms = 100 }} }}
result_write = {{ fixed = {{ ms = 10 }} }}
[real]
max_connections = 4
[[slo]]
id = "FAST-MACHINE"
from = "sent"
to = "imported"
percentile = 95
max = "20s"
"#
        ),
    )
    .unwrap();
    path.display().to_string()
}

#[test]
fn a_real_time_rush_measures_every_stage_against_the_reference_client() {
    let dir = tempfile::tempdir().unwrap();
    let profile = fast_profile(dir.path(), 300);
    let (code, report, text) = rush(&[&profile, "--seed", "3", "--call-timeout", "20"], dir.path());
    assert_eq!(code, 0, "{text}");
    assert_eq!(report["mode"], "real");
    let arrivals = count(&report, "arrivals");
    assert!(arrivals >= 5, "{text}");
    assert_eq!(count(&report, "completed"), arrivals, "{text}");
    assert_eq!(count(&report, "wrong"), 0, "the reference client answers right: {text}");
    assert_eq!(count(&report, "failed_calls"), 0, "{text}");
    assert_eq!(count(&report, "dropped"), 0, "{text}");
    // how late the harness started each visit is measured for every arrival
    assert_eq!(report["start_lag"]["count"].as_u64(), Some(arrivals), "{text}");
    assert!(text.contains("harness start lag"), "{text}");
    // the lost-eligibility persona was answered invalid, the others valid
    assert!(report["counts"]["outcomes"]["valid"].as_u64().unwrap() > 0, "{text}");
    // every stage of the folder interface was seen, and the national stage holds the
    // profile's 300 ms answer time
    for (way, stages) in [
        (
            "insurance_card",
            &["queue", "reader", "pickup", "national", "write", "import"][..],
        ),
        ("api", &["queue", "reader", "national", "import"][..]),
        ("face", &["queue", "reader", "national", "write", "import"][..]),
    ] {
        if row(&report, way, "total").is_none() {
            continue; // this seed sent nobody this way
        }
        for s in stages {
            let r = row(&report, way, s).unwrap_or_else(|| panic!("{way} has no {s} row: {text}"));
            assert_eq!(
                r["count"],
                row(&report, way, "total").unwrap()["count"],
                "{way} {s}: {text}"
            );
        }
        let national = row(&report, way, "national").unwrap()["p50_ms"].as_f64().unwrap();
        assert!(
            national >= 295.0,
            "{way}: national p50 {national} ms below the fault's 300 ms: {text}"
        );
    }
    let pickup = row(&report, "all", "pickup").expect("pickup row")["p50_ms"]
        .as_f64()
        .unwrap();
    assert!(pickup >= 95.0, "the terminal's 100 ms pickup delay: {pickup}");
    assert!(report["slos"][0]["pass"] == true, "{text}");
    assert!(dir.path().join("work/adapters/00.stderr.log").exists());
}

/// An adapter that answers "valid" to everything; counting work calls across its restarts
/// (in a file beside it), it stalls forever on the 2nd, exits on the 4th and answers an
/// error on the 6th.
const FLAKY: &str = r#"
import json, os, sys, time
count_file = os.path.join(os.path.dirname(os.path.abspath(__file__)), "calls")
for line in sys.stdin:
    req = json.loads(line)
    m = req["method"]
    if m == "initialize":
        res = {"client": {"name": "flaky", "version": "0"}, "capabilities": ["file.qualification", "file.face", "api.qualification"]}
    elif m == "shutdown":
        print(json.dumps({"jsonrpc": "2.0", "id": req["id"], "result": {}}), flush=True)
        break
    else:
        calls = int(open(count_file).read()) + 1 if os.path.exists(count_file) else 1
        open(count_file, "w").write(str(calls))
        if calls == 2:
            time.sleep(3600)
        if calls == 4:
            sys.exit(7)
        if calls == 6:
            print(json.dumps({"jsonrpc": "2.0", "id": req["id"], "error": {"code": 1000, "message": "the receipt database is locked"}}), flush=True)
            continue
        res = {"outcome": "valid", "message": ""}
    print(json.dumps({"jsonrpc": "2.0", "id": req["id"], "result": res}), flush=True)
"#;

#[test]
fn stalls_crashes_and_wrong_answers_are_counted_and_the_rush_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let profile = fast_profile(dir.path(), 50);
    let script = dir.path().join("flaky.py");
    std::fs::write(&script, FLAKY).unwrap();
    let adapter = format!("python3 '{}'", script.display());
    let (code, report, text) = rush(
        &[
            &profile,
            "--seed",
            "3",
            "--adapter",
            &adapter,
            "--call-timeout",
            "1",
            "--drain",
            "30",
        ],
        dir.path(),
    );
    assert!(code == 0 || code == 1, "the run finishes and reports: {text}");
    let arrivals = count(&report, "arrivals");
    let failed = count(&report, "failed_calls");
    assert!(failed >= 2, "{text}");
    assert!(count(&report, "adapter_restarts") >= 1, "{text}");
    let outcomes = &report["counts"]["outcomes"];
    assert!(outcomes["failed:timeout"].as_u64().unwrap_or(0) >= 1, "{text}");
    assert!(outcomes["failed:adapter-exited"].as_u64().unwrap_or(0) >= 1, "{text}");
    assert!(outcomes["failed:rpc-error"].as_u64().unwrap_or(0) >= 1, "{text}");
    // each kind of failure says what happened the first time
    let first = &report["counts"]["first_failures"];
    let says = |kind: &str, what: &str| first[kind].as_str().is_some_and(|s| s.contains(what));
    assert!(says("failed:rpc-error", "the receipt database is locked"), "{first}");
    assert!(says("failed:timeout", "did not answer within 1000 ms"), "{first}");
    assert!(says("failed:adapter-exited", "status 7"), "{first}");
    assert!(text.contains("first failed:rpc-error: "), "{text}");
    assert_eq!(
        count(&report, "completed") + failed,
        arrivals,
        "every visit accounted for: {text}"
    );
    // "valid" for the lost-eligibility persona is a wrong answer
    assert!(count(&report, "wrong") >= 1, "{text}");
    assert!(text.contains("failed calls"), "{text}");
}

/// The text a chart prints for a number.
fn label(x: f64) -> String {
    onshi_harness::report::svg::num(x)
}

#[test]
fn the_html_report_renders_in_a_browser_with_the_measured_numbers_in_its_charts() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (code, report, text) = rush(&["hospital-opening", "--virtual", "--seed", "2"], dir.path());
    assert!(code == 0 || code == 1, "{text}");
    let page = dir.path().join("rush.html");
    let (dom, console) = render_in_browser(&browser, &page);
    assert!(console.is_empty(), "console messages: {console:#?}");
    let charts: Vec<&str> = dom.split("<svg class=\"chart\"").skip(1).collect();
    assert_eq!(charts.len(), 4, "a bar chart and three line charts");
    // the stage chart shows each stage's p99, in seconds, as printed in rush.json
    for stage in ["total", "queue", "reader", "national", "import"] {
        let p99 = row(&report, "all", stage).unwrap()["p99_ms"].as_f64().unwrap() / 1000.0;
        assert!(
            charts[0].contains(&format!(">{}</text>", label(p99))),
            "{stage} p99 {p99} not in the bar chart"
        );
    }
    // the line charts: axes with units, and the series' highest values
    let series = &report["series"];
    let max_p99 = series["p99_ms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .fold(0.0, f64::max)
        / 1000.0;
    assert!(charts[1].contains("latency, seconds") && charts[1].contains(&format!("p99 (max {})", label(max_p99))));
    let max_wait = series["mean_queue_reader"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!(
        charts[2].contains(&format!("at readers (max {})", label(max_wait))),
        "queue chart"
    );
    let per_min = 60.0 / series["bucket_s"].as_f64().unwrap();
    let max_arrivals = series["arrivals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .max()
        .unwrap() as f64
        * per_min;
    assert!(
        charts[3].contains(&format!("arrivals (max {})", label(max_arrivals))),
        "throughput chart"
    );
    assert!(charts[3].contains("patients per minute") && charts[3].contains("minutes from the start"));
    // the SLO verdicts and the counts are on the page
    for slo in report["slos"].as_array().unwrap() {
        assert!(dom.contains(slo["id"].as_str().unwrap()));
    }
    assert!(dom.contains(&format!("<b>{}</b>patients arrived", count(&report, "arrivals"))));
}

#[test]
fn the_browser_check_sees_a_page_that_loads_from_outside() {
    // the same check on a page with the report's security policy and one external image:
    // the blocked load shows up as a console message
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("leaky.html");
    std::fs::write(
        &page,
        format!(
            r#"<!DOCTYPE html><html><head>{}</head><body><img src="http://127.0.0.1:9/logo.png"></body></html>"#,
            r#"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">"#
        ),
    )
    .unwrap();
    let (_, console) = render_in_browser(&browser, &page);
    assert_eq!(console.len(), 1, "{console:#?}");
    assert!(console[0].contains("127.0.0.1:9/logo.png"), "{console:#?}");
}
