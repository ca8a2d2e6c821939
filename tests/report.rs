//! report.html in a real browser (Debian's headless Chromium): after
//! loading, the DOM holds an SVG with a node for every account and target
//! of the plan and an edge for every (account, target); a screenshot is
//! kept (target/report-shots/); the page loads the same with the network
//! cut off; and text from the CSV or the export never becomes an element
//! or an attribute.
#![cfg(unix)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fixture, repo, run_in};

/// Headless Chromium, or `None` when browser tests are explicitly
/// skipped; missing, it fails loudly (tests/run.sh installs it).
fn chromium() -> Option<&'static str> {
    if std::env::var("KCDPLAN_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("\n*** SKIPPED: browser test (KCDPLAN_SKIP_BROWSER=1); report.html was NOT opened in a browser ***\n");
        return None;
    }
    let bin = "/usr/bin/chromium";
    assert!(
        Path::new(bin).exists(),
        "Chromium is not installed: apt-get install -y --no-install-recommends chromium, or run tests/run.sh; to skip these tests explicitly, set KCDPLAN_SKIP_BROWSER=1"
    );
    Some(bin)
}

/// Runs Chromium headless on `page` with `extra` flags; its standard
/// output.
fn browse(bin: &str, page: &Path, extra: &[&str]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The DOM after loading, as Chromium serialises it.
fn dom(bin: &str, page: &Path, extra: &[&str]) -> String {
    let mut args = vec!["--dump-dom"];
    args.extend(extra);
    browse(bin, page, &args)
}

/// A screenshot, kept under target/report-shots/.
fn screenshot(bin: &str, page: &Path, name: &str) -> PathBuf {
    let dir = repo().join("target/report-shots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join(format!("{name}.png"));
    let _ = std::fs::remove_file(&png);
    browse(
        bin,
        page,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1000,1400",
        ],
    );
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG"), "{name}: no PNG");
    png
}

/// The text of every `<title>` inside `<g class="node ...">` elements,
/// and how many `<g class="edge ...">` there are.
fn graph_of(dom: &str) -> (Vec<String>, usize) {
    let mut nodes = Vec::new();
    for part in dom.split("<g class=\"node ").skip(1) {
        let title = part
            .split("<title>")
            .nth(1)
            .unwrap()
            .split("</title>")
            .next()
            .unwrap();
        nodes.push(title.to_string());
    }
    (nodes, dom.matches("<g class=\"edge ").count())
}

/// The nodes and edges a plan must show: every principal and resource,
/// every target host (a short name in its principal's domain), every
/// principal a resource allows; one edge per (account, target).
fn expected(plan: &serde_json::Value) -> (BTreeSet<String>, usize) {
    let mut nodes = BTreeSet::new();
    let mut edges = BTreeSet::new();
    let host = |v: &str, domain: &str| {
        let rest = v.split_once('/').unwrap().1;
        let h = rest.split([':', '/']).next().unwrap().to_lowercase();
        if h.contains('.') {
            h
        } else {
            format!("{h}.{domain}")
        }
    };
    for p in plan["principals"].as_array().unwrap() {
        let name = p["principal"].as_str().unwrap().to_string();
        nodes.insert(name.clone());
        let domain = p["domain"].as_str().unwrap();
        let values: Vec<String> = match p["delta"].as_object() {
            Some(d) => (p["before"]["values"].as_array().unwrap().iter())
                .chain(d["add"].as_array().unwrap())
                .map(|v| v.as_str().unwrap().to_string())
                .collect(),
            None => ["add", "remove", "replace"]
                .iter()
                .flat_map(|k| common::strs(&p[*k]))
                .collect(),
        };
        for v in values {
            let h = host(&v, domain);
            nodes.insert(h.clone());
            edges.insert((name.clone(), h));
        }
    }
    for r in plan["resources"].as_array().unwrap() {
        let name = r["resource"].as_str().unwrap().to_string();
        nodes.insert(name.clone());
        for list in ["add", "remove", "replace"] {
            for a in r[list].as_array().unwrap() {
                let p = a["principal"].as_str().unwrap().to_string();
                nodes.insert(p.clone());
                edges.insert((p, name.clone()));
            }
        }
    }
    (nodes, edges.len())
}

fn render(dir: &Path, csv: &Path, extra: &[&str]) -> serde_json::Value {
    let name = csv.file_name().unwrap().to_str().unwrap().to_string();
    std::fs::copy(csv, dir.join(&name)).unwrap();
    let mut args = vec!["render", name.as_str(), "--out", "o"];
    args.extend(extra);
    let options = common::fixture_args(&name);
    args.extend(options.iter().map(String::as_str));
    let r = run_in(dir, &args, None);
    assert_eq!(r.code, 0, "{name}: {}", r.stderr);
    serde_json::from_str(&std::fs::read_to_string(dir.join("o/plan.json")).unwrap()).unwrap()
}

/// A node's title is its label, then its rule IDs in parentheses.
fn labels(nodes: &[String]) -> BTreeSet<String> {
    nodes
        .iter()
        .map(|t| t.split(" (KCD").next().unwrap().to_string())
        .collect()
}

#[test]
fn every_fixture_s_report_shows_its_plan() {
    let Some(bin) = chromium() else { return };
    let mut fixtures: Vec<(String, Vec<&str>)> = [
        "hyperv-lab.csv",
        "web-sql.csv",
        "set-kcd-import.csv",
        "hostile.csv",
        "rbcd-cross-domain.csv",
    ]
    .iter()
    .map(|f| (f.to_string(), vec![]))
    .collect();
    fixtures.push(("hyperv-lab.csv".into(), vec!["--current"]));
    for (f, extra) in fixtures {
        let dir = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = Vec::new();
        if !extra.is_empty() {
            std::fs::copy(
                fixture("hyperv-lab-export.ldif"),
                dir.path().join("export.ldif"),
            )
            .unwrap();
            args = vec!["--current".into(), "export.ldif".into()];
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let plan = render(dir.path(), &fixture(&f), &args);
        let page = dir.path().join("o/report.html");
        let dom = dom(bin, &page, &[]);
        assert!(dom.contains("<svg"), "{f}");
        let (nodes, edges) = graph_of(&dom);
        let (want_nodes, want_edges) = expected(&plan);
        // (Titles are escaped as the DOM serialises text.)
        let want: BTreeSet<String> = want_nodes
            .iter()
            .map(|n| {
                kcdplan::escape::html::text(n)
                    .replace("&#39;", "'")
                    .replace("&quot;", "\"")
            })
            .collect();
        assert_eq!(labels(&nodes), want, "{f} {extra:?}");
        assert_eq!(edges, want_edges, "{f} {extra:?}");
        let shot = if extra.is_empty() {
            f.replace(".csv", "")
        } else {
            f.replace(".csv", "-current")
        };
        screenshot(bin, &page, &shot);
        // The same page with the network cut off: nothing it shows comes
        // from elsewhere.
        let offline = dom_offline(bin, &page);
        assert_eq!(offline, dom, "{f}: the page differs without a network");
    }
}

fn dom_offline(bin: &str, page: &Path) -> String {
    dom(
        bin,
        page,
        &[
            "--proxy-server=http://127.0.0.1:9",
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ],
    )
}

/// Nothing in the page asks for anything outside it.
#[test]
fn the_page_is_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    render(dir.path(), &fixture("hyperv-lab.csv"), &[]);
    let html = std::fs::read_to_string(dir.path().join("o/report.html")).unwrap();
    assert!(html.contains(
        "Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\""
    ));
    for needle in [
        "<script", "<link", "<img", "<iframe", "url(", "@import", " src=", "https:",
    ] {
        assert!(!html.contains(needle), "{needle}");
    }
    // The one http: is the SVG namespace, which is a name, not a request.
    assert_eq!(
        html.matches("http:").count(),
        html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
    );
}

/// CSV and export values made of markup stay text: no element, no
/// attribute, no link comes from them.
#[test]
fn hostile_values_never_become_markup() {
    let Some(bin) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let bad = "<img src=x onerror=alert(1)>";
    let csv = format!(
        "principal,service,target,action,protocol,principal_type,dn,comment\n{}\n{}\n",
        r#"svc-o'brien,http,web1.contoso.com,add,any,user,"CN=a\""b'\<script\>alert(1)\</script\>,CN=Users,DC=contoso,DC=com","<img src=x onerror=alert(1)> ""quoted"" 'single'""#,
        r#"vmhost1.contoso.com,cifs,fs1.contoso.com,add,,,,"<a href=javascript:alert(1)>x</a>""#
    );
    std::fs::write(dir.path().join("h.csv"), &csv).unwrap();
    let r = run_in(dir.path(), &["render", "h.csv", "--out", "o"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let export = format!(
        "dn: CN=x{bad},CN=Computers,DC=contoso,DC=com\nsAMAccountName: X<script>$\nuserAccountControl: 528384\n\
         msDS-AllowedToDelegateTo: cifs/\"><svg onload=alert(1)>.contoso.com\n"
    );
    std::fs::write(dir.path().join("e.ldif"), export).unwrap();
    let a = run_in(dir.path(), &["audit", "e.ldif", "--format", "html"], None);
    assert_eq!(a.code, 0, "{}", a.stderr);
    std::fs::write(dir.path().join("audit.html"), &a.stdout).unwrap();
    for page in [
        dir.path().join("o/report.html"),
        dir.path().join("audit.html"),
    ] {
        let dom = dom(bin, &page, &[]);
        // Every element the page holds is one the template writes.
        let tags: BTreeSet<String> = dom
            .split('<')
            .skip(1)
            .map(|t| {
                t.split([' ', '>', '/', '\n'])
                    .next()
                    .unwrap()
                    .to_lowercase()
            })
            .filter(|t| !t.is_empty() && !t.starts_with('!'))
            .collect();
        let allowed: BTreeSet<String> = [
            "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "table", "tr",
            "td", "th", "span", "p", "div", "svg", "g", "path", "text", "rect", "a", "section",
            "tbody",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let extra: Vec<&String> = tags.difference(&allowed).collect();
        assert!(extra.is_empty(), "{}: elements {extra:?}", page.display());
        // No attribute from the input: no event handler, no javascript:.
        let in_tags: String = dom
            .split('<')
            .skip(1)
            .map(|t| t.split('>').next().unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        for needle in ["onerror", "onload", "javascript:", "src="] {
            assert!(
                !in_tags.contains(needle),
                "{}: {needle} in a tag",
                page.display()
            );
        }
        // And the text is there, shown.
        assert!(
            dom.contains("&lt;script&gt;") || dom.contains("&lt;img"),
            "{}",
            page.display()
        );
    }
}

/// A plan too large to read on one page shows the accounts with
/// findings, riskiest first, and says what it left out; every value list
/// is cut at 25 with a count.
#[test]
fn a_large_plan_shows_its_riskiest_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("principal,service,target,protocol\n");
    for i in 0..450 {
        let protocol = if i % 50 == 0 { "any" } else { "" };
        csv.push_str(&format!(
            "h{i:03}.contoso.com,cifs,fs1.contoso.com,{protocol}\n"
        ));
    }
    for j in 0..30 {
        csv.push_str(&format!(
            "h000.contoso.com,http,web{j:02}.contoso.com,any\n"
        ));
    }
    std::fs::write(dir.path().join("big.csv"), csv).unwrap();
    let r = run_in(dir.path(), &["render", "big.csv", "--out", "o"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let html = std::fs::read_to_string(dir.path().join("o/report.html")).unwrap();
    assert!(html.contains("This plan has 450 accounts: the page shows the 9 with the highest risks (every account with a finding); summary.md lists every account."), "{html}");
    assert_eq!(html.matches("<g class=\"node account").count(), 9);
    assert_eq!(html.matches("<section id=").count(), 9);
    assert!(html.contains("... and 37 more (summary.md lists every value)"));
}
