//! The web console: a small HTTP/1 server on the run's own address (loopback unless the
//! person asked for a LAN address), its token, and the pages. No external asset: styles are
//! inline and the one script (a live clock, and a reload when the step changes) carries a
//! per-page nonce the policy names.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use onshi_national::http::{new_secret, same_secret};
use onshi_protocol::driver::Via;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::answer::{AnswerError, Form, parse_form};
use crate::console::{Console, ConsoleError, Pending, SubmitError, Task};
use crate::evidence::{MAX_SCREENSHOT, Screenshot};
use crate::fields::{FIELDS, Field};
use crate::terminal::{Awaited, Source, TerminalAnswer};
use crate::texts::{HAND_CAPABILITIES, Lang, OUTCOMES, japanese_date, outcome_words};

/// The cookie the browser keeps the token in after the first visit.
pub const COOKIE: &str = "onshi_console";
/// Largest form accepted, without its screenshot.
const MAX_FORM: usize = 256 * 1024;
/// The form field a screenshot is attached in.
pub const SCREENSHOT_FIELD: &str = "screenshot";

/// The running web console.
#[derive(Debug)]
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Server {
    /// Stops accepting connections.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Serves `console`'s pages on its `listen` address.
pub async fn serve(console: Arc<Console>) -> Result<Server, ConsoleError> {
    let want = console.args.listen;
    let listener = TcpListener::bind(want)
        .await
        .map_err(|source| ConsoleError::Listen { addr: want, source })?;
    let addr = listener.local_addr()?;
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stopped.changed() => break,
                accepted = listener.accept() => {
                    let Ok((tcp, _)) = accepted else { continue };
                    let console = console.clone();
                    tokio::spawn(async move {
                        let service = service_fn(move |req| handle(console.clone(), req));
                        let _ = hyper::server::conn::http1::Builder::new()
                            .timer(TokioTimer::new())
                            .header_read_timeout(std::time::Duration::from_secs(10))
                            .serve_connection(TokioIo::new(tcp), service)
                            .await;
                    });
                }
            }
        }
    });
    Ok(Server { addr, stop, task })
}

type Reply = Response<Full<Bytes>>;

fn respond(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    r
}

fn page_reply(status: StatusCode, body: String, nonce: &str) -> Reply {
    let mut r = respond(status, "text/html; charset=utf-8", body);
    let policy = format!(
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&policy).expect("ascii"),
    );
    r
}

fn see_other(to: &'static str) -> Reply {
    let mut r = respond(StatusCode::SEE_OTHER, "text/plain; charset=utf-8", "");
    r.headers_mut().insert(header::LOCATION, HeaderValue::from_static(to));
    r
}

/// Whether the request carries the run's token in its cookie.
fn authorized(console: &Console, req: &Request<Incoming>) -> bool {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().strip_prefix(COOKIE).and_then(|r| r.strip_prefix('=')))
        .any(|given| same_secret(given.as_bytes(), &console.args.token))
}

fn query_token(req: &Request<Incoming>) -> Option<String> {
    let q = req.uri().query()?;
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

async fn handle(console: Arc<Console>, req: Request<Incoming>) -> Result<Reply, Infallible> {
    let lang = console.args.lang;
    // the printed URL: the token moves into a cookie and out of the address bar
    if let Some(token) = query_token(&req) {
        if req.method() == Method::GET && same_secret(token.as_bytes(), &console.args.token) {
            let mut r = see_other("/");
            let cookie = format!("{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/", console.args.token);
            r.headers_mut()
                .insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("hex token"));
            return Ok(r);
        }
        return Ok(refused(lang));
    }
    if !authorized(&console, &req) {
        return Ok(refused(lang));
    }
    Ok(match (req.method().clone(), req.uri().path()) {
        (Method::GET, "/") => {
            let nonce = new_secret();
            let reply = page_reply(StatusCode::OK, page(&console, None, &nonce), &nonce);
            if console.with(|s| s.finished) {
                console.farewell.notify_one();
            }
            reply
        }
        (Method::GET, "/state") => {
            let body = serde_json::json!({
                "version": console.with(|s| s.version),
                "terminal": console.terminal_answer().is_some(),
            });
            respond(StatusCode::OK, "application/json", body.to_string())
        }
        (Method::POST, "/answer") => {
            let boundary = req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(|ct| multer::parse_boundary(ct).ok());
            let limit = if boundary.is_some() {
                MAX_FORM + MAX_SCREENSHOT
            } else {
                MAX_FORM
            };
            let body = match Limited::new(req.into_body(), limit).collect().await {
                Ok(b) => b.to_bytes(),
                Err(_) => {
                    return Ok(respond(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "text/plain; charset=utf-8",
                        "the form is too large (a screenshot may be up to 10 MiB)",
                    ));
                }
            };
            let parsed = match boundary {
                Some(boundary) => read_multipart(body, boundary).await,
                None => Ok((parse_form(&body), None)),
            };
            let submitted = parsed.and_then(|(form, shot)| {
                let step = form
                    .get("step")
                    .and_then(|v| v.first())
                    .and_then(|s| s.parse::<u64>().ok())
                    .unwrap_or(0);
                console.submit(step, &form, shot.as_ref())
            });
            match submitted {
                Ok(()) => see_other("/"),
                Err(e) => {
                    let status = match e {
                        SubmitError::Over(_) => StatusCode::CONFLICT,
                        SubmitError::Invalid(_) | SubmitError::Screenshot(_) => StatusCode::BAD_REQUEST,
                        SubmitError::Keep(_) => StatusCode::INTERNAL_SERVER_ERROR,
                    };
                    let nonce = new_secret();
                    page_reply(status, page(&console, Some(e.to_string()), &nonce), &nonce)
                }
            }
        }
        _ => respond(StatusCode::NOT_FOUND, "text/plain; charset=utf-8", "not found"),
    })
}

/// A `multipart/form-data` answer (the form with a screenshot field): the text fields as a
/// form, and the screenshot when one was attached and is an image.
async fn read_multipart(body: Bytes, boundary: String) -> Result<(Form, Option<Screenshot>), SubmitError> {
    let malformed = |e: multer::Error| SubmitError::Invalid(AnswerError::Malformed(e.to_string()));
    let mut parts = multer::Multipart::with_reader(std::io::Cursor::new(body), boundary);
    let mut form = Form::new();
    let mut shot = None;
    while let Some(field) = parts.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == SCREENSHOT_FIELD {
            shot = Screenshot::from_upload(field.bytes().await.map_err(malformed)?.to_vec())?;
        } else {
            form.entry(name)
                .or_default()
                .push(field.text().await.map_err(malformed)?);
        }
    }
    Ok((form, shot))
}

fn refused(lang: Lang) -> Reply {
    let body = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head { meta charset="utf-8"; title { "403" } }
            body {
                h1 { (lang.both("アクセスできません", "not allowed")) }
                p { (lang.pick(
                    "このページを開くには、ハーネスが表示したURL（トークン付き）を使ってください。何も変更されていません。",
                    "Open the URL the harness printed (it carries the run's token). Nothing was changed."
                )) }
            }
        }
    };
    let mut r = respond(StatusCode::FORBIDDEN, "text/html; charset=utf-8", body.into_string());
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'"),
    );
    r
}

const CSS: &str = "
body { font: 16px/1.6 system-ui, 'Noto Sans CJK JP', sans-serif; margin: 1.5rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 1.5rem; }
.other { color: #666; font-size: 0.85em; }
.meta { color: #555; }
.task { border-left: 5px solid #2b7bb9; background: #f3f8fc; padding: 0.6rem 1rem; font-size: 1.1rem; }
.clock { font-size: 1.1rem; font-weight: 600; }
.wait { color: #a05a00; }
.notice { border: 2px solid #b00; background: #fdf3f3; padding: 0.5rem 1rem; }
#stale { display: none; border: 2px solid #a05a00; padding: 0.4rem 1rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; width: 100%; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
fieldset { border: 1px solid #ccc; margin: 1rem 0; } label { display: block; margin: 0.2rem 0; }
textarea, input[type=text] { width: 100%; box-sizing: border-box; font: inherit; }
button { font: inherit; font-size: 1.1rem; padding: 0.4rem 1.5rem; }
";

/// Keeps the clock running and the page current: reloads when the step or the terminal's
/// answer changes, unless the person has started typing (then it says so instead).
const SCRIPT: &str = "(function(){var b=document.body,v=b.dataset.version,t=b.dataset.terminal,\
s=document.getElementById('since'),w=document.getElementById('waited'),t0=Date.now()-Number(s?s.dataset.ms:0),dirty=false;\
document.addEventListener('input',function(){dirty=true});\
setInterval(function(){var n=Math.floor((Date.now()-t0)/1000);if(s)s.textContent=n;if(w)w.textContent=n;\
fetch('/state').then(function(r){return r.json()}).then(function(j){if(String(j.version)!==v||String(j.terminal)!==t){\
if(dirty){document.getElementById('stale').style.display='block'}else{location.reload()}}}).catch(function(){})},1000)})();";

/// The whole console page as it stands.
pub fn page(console: &Console, notice: Option<String>, nonce: &str) -> String {
    let lang = console.args.lang;
    let terminal = console.terminal_answer();
    console.with(|s| {
        html! {
            (DOCTYPE)
            html lang=(lang.code()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (lang.pick("オンライン資格確認 — 手作業モード", "Online qualification — operator mode")) }
                    style { (PreEscaped(CSS)) }
                }
                body data-version=(s.version) data-terminal=(terminal.is_some()) {
                    h1 { (lang.both("オンライン資格確認 — 手作業モード", "operator mode")) }
                    p.meta {
                        (lang.pick("ケース", "case")) " " (s.cases) " · "
                        (lang.pick("回答済みの手順", "steps answered")) " " (s.answered)
                    }
                    p #stale { (lang.pick("画面の内容が変わりました。再読み込みしてください。", "The step has changed: reload the page.")) }
                    @if let Some(n) = &notice { p.notice { (n) } }
                    @if s.finished {
                        h2 { (lang.both("試験は終了しました", "the run is over")) }
                        p { (lang.pick("レポートはハーネスのレポートフォルダにあります。", "The report is in the harness's report folder.")) }
                    } @else {
                        @match &s.pending {
                            None => {
                                h2 { (lang.both("待機中", "waiting")) }
                                p { (lang.pick("ハーネスが次の手順を準備しています。このページは自動で更新されます。",
                                               "The harness is preparing the next step; this page updates by itself.")) }
                                @if let Some(k) = &s.last_evidence {
                                    p.meta #evidence { (lang.pick("スクリーンショットを証跡として保存しました", "The screenshot was kept as evidence")) ": "
                                        code { "operator/evidence/" (k.file) } " (SHA-256 " (&k.sha256[..16]) "…)" }
                                }
                                @if let Some(n) = s.expired {
                                    p.meta { (lang.pick("手順", "Step")) " " (n) " " (lang.pick(
                                        "は回答されないまま終了しました（時間切れ）。",
                                        "ended without an answer (timed out).")) }
                                }
                            }
                            Some(p) => (step(lang, p, terminal.as_ref())),
                        }
                    }
                    @if !s.finished { script nonce=(nonce) { (PreEscaped(SCRIPT)) } }
                }
            }
        }
        .into_string()
    })
}

fn step(lang: Lang, p: &Pending, terminal: Option<&TerminalAnswer>) -> Markup {
    let elapsed_ms = p.started.elapsed().as_millis() as u64;
    let clock = html! {
        p.clock {
            (lang.pick("この手順の経過時間", "Time in this step")) ": "
            span #since data-ms=(elapsed_ms) { (elapsed_ms / 1000) } " " (lang.pick("秒", "s"))
        }
    };
    match &p.task {
        Task::Identity => html! {
            h2 { (lang.both("お使いのソフトウェア", "your software")) }
            p { (lang.pick("試験するソフトウェアについて教えてください。手作業で行える機能だけを選んでください。",
                           "Tell the harness which software you are testing, and tick what you will do by hand.")) }
            form method="post" action="/answer" {
                input type="hidden" name="step" value=(p.number);
                label { (lang.both("ソフトウェア名", "software name")) input type="text" name="name" required; }
                label { (lang.both("バージョン", "version")) input type="text" name="version"; }
                label {
                    (lang.both("ソフトの結果待ちタイムアウト（秒、固定の場合）", "its own fixed time-out for an answer, in seconds"))
                    input type="text" name="timeout_s" inputmode="decimal";
                }
                fieldset {
                    legend { (lang.both("手作業で行う機能", "functions you will exercise")) }
                    @for (key, ja, en) in HAND_CAPABILITIES {
                        label { input type="checkbox" name="cap" value=(key); " " (lang.both(ja, en)) }
                    }
                }
                button type="submit" { (lang.both("開始", "start")) }
            }
        },
        Task::Confirm(c) => {
            let card = &c.card;
            let (name, born) = match &p.patient {
                Some((n, b)) => (n.clone(), b.clone()),
                None => (String::new(), card.birthdate.clone()),
            };
            let ja = format!(
                "患者{}（{}生）が保険証を提示しました：保険者番号 {}、記号 {}、番号 {}、枝番 {}。{}",
                if name.is_empty() {
                    String::new()
                } else {
                    format!(" {name}")
                },
                japanese_date(&born),
                card.insurer_number,
                card.symbol.as_deref().unwrap_or("なし"),
                card.number,
                card.branch.as_deref().unwrap_or("なし"),
                match c.via {
                    Via::File => "お使いのソフトで資格確認を行ってください。",
                    Via::Api => "お使いのソフトでオンライン資格確認のAPIによる資格確認を行ってください。",
                }
            );
            let en = format!(
                "The patient{} (born {born}) presented their insurance card: insurer number {}, symbol {}, number {}, branch {}. Confirm the qualification in your software{}.",
                if name.is_empty() {
                    String::new()
                } else {
                    format!(" {name}")
                },
                card.insurer_number,
                card.symbol.as_deref().unwrap_or("none"),
                card.number,
                card.branch.as_deref().unwrap_or("none"),
                if c.via == Via::Api {
                    " through the national system's API"
                } else {
                    ""
                }
            );
            let date = c.date.as_deref().map(japanese_date).unwrap_or_default();
            html! {
                h2 { (lang.both("資格確認", "qualification check")) }
                p.task { (lang.pick(&ja, &en)) }
                p.meta {
                    (lang.pick("資格確認日", "reception date")) " " (date) " · "
                    (lang.pick("限度額適用認定証の情報提供への同意", "consent to share the limit certificate")) ": "
                    (if c.consent_limit_certificate { lang.pick("あり", "yes") } else { lang.pick("なし", "no") })
                }
                (clock)
                (answer_form(lang, p, terminal))
            }
        }
        Task::Face(f) => html! {
            h2 { (lang.both("顔認証付きカードリーダー", "face-auth reader")) }
            p.task { (lang.pick(
                "患者が顔認証付きカードリーダーで受付を完了しました。お使いのソフトで結果を取り込んでください。",
                "The patient finished at the face-auth reader; import the result in your software.")) }
            p.meta { (lang.pick("結果ファイル", "result file")) ": " code { (f.file) } }
            (clock)
            (answer_form(lang, p, terminal))
        },
    }
}

/// One compared value: its name, the terminal's value, "same", and the software's value.
fn field_row(lang: Lang, field: &Field, shown: Option<&String>) -> Markup {
    html! {
        tr {
            td { (lang.both(field.ja, field.en)) }
            td { code { (shown.map_or("—", String::as_str)) } }
            td { @if shown.is_some() { input type="checkbox" name={ "same_" (field.key) } aria-label=(field.en); } }
            td { input type="text" name={ "v_" (field.key) } aria-label=(field.en); }
        }
    }
}

fn answer_form(lang: Lang, p: &Pending, terminal: Option<&TerminalAnswer>) -> Markup {
    let waits = p.task.awaited().is_some();
    let api = p.task.awaited() == Some(Awaited::Api);
    let face = matches!(p.task, Task::Face(_));
    let shown = terminal.map(TerminalAnswer::values).unwrap_or_default();
    html! {
        @match terminal {
            Some(t) => {
                p #terminal-answer {
                    @match &t.source {
                        Source::File(name) => { (lang.pick("端末の回答", "The terminal answered")) ": " code { (name) } }
                        Source::Api(status) => { (lang.pick("オンライン資格確認APIの回答", "The national system's API answered")) ": " code { "HTTP " (status) } }
                    }
                    " — " @let (ja, en) = outcome_words(t.outcome); (lang.both(ja, en))
                }
            }
            None if waits => {
                p.wait {
                    @if api {
                        (lang.pick("APIはまだ応答していません（", "The API has not answered for "))
                    } @else {
                        (lang.pick("端末はまだ応答していません（", "The terminal has not answered for "))
                    }
                    span #waited { (p.started.elapsed().as_secs()) }
                    (lang.pick(" 秒）— お使いのソフトには今何が表示されていますか？", " s — what does your software show now?"))
                }
            }
            None => {}
        }
        form method="post" action="/answer" enctype="multipart/form-data" {
            input type="hidden" name="step" value=(p.number);
            fieldset {
                legend { (lang.both("お使いのソフトの表示", "what your software shows")) }
                @for o in OUTCOMES {
                    @let (ja, en) = outcome_words(o);
                    label { input type="radio" name="outcome" value=(o.as_str()) required; " " (lang.both(ja, en)) }
                }
                label {
                    (lang.both("表示されたメッセージ（入力または貼り付け）", "the message shown, typed or pasted"))
                    textarea name="message" rows="2" {}
                }
            }
            h2 { (lang.both("ソフトに保存された値", "what your software stored")) }
            p.meta { (lang.pick(
                "端末の回答と同じなら「同じ」に印を、違う場合や端末が回答していない場合はソフトの値を入力してください。空欄は「保存なし」です。",
                "Tick “same” where your software stored what the terminal answered; type the value where it differs. Empty means nothing stored.")) }
            table {
                tr {
                    th { (lang.pick("項目", "field")) }
                    th { @if api { (lang.both("APIの回答", "API")) } @else { (lang.both("端末の回答", "terminal")) } }
                    th { (lang.both("同じ", "same")) }
                    th { (lang.both("ソフトの値", "your software")) }
                }
                @for field in FIELDS.iter().filter(|f| f.primary || shown.contains_key(f.key)).filter(|f| face || !f.face_only) {
                    (field_row(lang, field, shown.get(field.key)))
                }
            }
            details {
                summary { (lang.both("その他の保存値（端末の回答にない項目）", "other values your software stored")) }
                table {
                    @for field in FIELDS.iter().filter(|f| !f.primary && !shown.contains_key(f.key)).filter(|f| face || !f.face_only) {
                        (field_row(lang, field, None))
                    }
                }
            }
            label {
                (lang.both("画面のスクリーンショット（任意、証跡として保存）", "a screenshot of the screen, optional, kept as evidence"))
                input type="file" name=(SCREENSHOT_FIELD) accept="image/png,image/jpeg,image/webp,image/gif,image/bmp";
            }
            button type="submit" { (lang.both("回答する", "answer")) }
        }
    }
}
