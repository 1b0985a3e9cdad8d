//! Neptune's openCypher explain output (ExecuteOpenCypherExplainQuery, `explain=` on
//! `/openCypher`), built from nereid's [`PlanReport`].
//!
//! The layout is Neptune's: a box-drawn table with the columns `ID`, `Out #1`, `Out #2`,
//! `Name`, `Arguments`, `Mode`, `Units In`, `Units Out`, `Ratio`, `Time (ms)`; one table for
//! the statement, then one per subquery titled `subQuery1`, `subQuery2`, …; in `details`
//! mode the query text first (`Query:` and the text). Operator names and arguments are
//! nereid's own (its plan is not Neptune's DFE plan).
//!
//! How a plan tree becomes rows: operators are numbered in data-flow order (every input
//! before the operator that reads it), and `Out #1` is the operator a row's output flows
//! into (`-` for the last). `Units Out` is the rows the operator produced (PROFILE's
//! `rows`), `Units In` the rows its inputs produced, `Ratio` their quotient, `Time (ms)` the
//! time spent in the operator itself (its inputs' time subtracted). In `static` mode
//! nothing ran, so those four columns are `-`. `details` adds the planner's estimate to
//! the arguments.
//!
//! With `html`, the same tables are HTML `<table>`s (graph-notebook asks with
//! `Accept: text/html` and embeds the body in a page styled for tables).

use std::fmt::Write;

use nereid_engine::profile::{OperatorReport, PlanReport};
use nereid_engine::ExplainMode;

const HEADERS: [&str; 10] = [
    "ID",
    "Out #1",
    "Out #2",
    "Name",
    "Arguments",
    "Mode",
    "Units In",
    "Units Out",
    "Ratio",
    "Time (ms)",
];

/// One table: its title (`None` for the statement's) and rows of cells.
struct Table {
    title: Option<String>,
    rows: Vec<[String; 10]>,
}

/// The explain text (or HTML) of `report` for `query`.
pub fn render(report: &PlanReport, query: &str, mode: ExplainMode, html: bool) -> String {
    let tables = tables(report, mode);
    if html {
        render_html(&tables, query, mode)
    } else {
        render_text(&tables, query, mode)
    }
}

/// Whether an `Accept` header prefers HTML over plain text (by q-value; equal preference
/// goes to HTML only when it is named explicitly and text is not).
pub fn prefers_html(accept: Option<&str>) -> bool {
    let Some(accept) = accept else { return false };
    let mut html = 0.0f32;
    let mut text = 0.0f32;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let mime = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|v| v.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match mime.as_str() {
            "text/html" | "application/xhtml+xml" => html = html.max(q),
            "text/plain" | "text/*" | "*/*" => text = text.max(q),
            _ => {}
        }
    }
    html > 0.0 && html >= text
}

fn tables(report: &PlanReport, mode: ExplainMode) -> Vec<Table> {
    let mut out = Vec::new();
    let mut roots: Vec<&OperatorReport> =
        report.operators.iter().filter(|op| op.depth == 0).collect();
    // The statement's tree first, then the subqueries in their order.
    roots.sort_by_key(|op| op.subquery.map_or(0, |s| s + 1));
    for root in roots {
        let mut order = Vec::new();
        post_order(report, root.id, &mut order);
        let local = |global: usize| order.iter().position(|&g| g == global);
        let mut rows = Vec::with_capacity(order.len());
        for (i, &g) in order.iter().enumerate() {
            let op = &report.operators[g];
            let parent = report
                .operators
                .iter()
                .find(|p| p.children.contains(&g))
                .and_then(|p| local(p.id));
            rows.push(row(report, op, i, parent, mode));
        }
        out.push(Table {
            title: root.subquery.map(|s| format!("subQuery{}", s + 1)),
            rows,
        });
    }
    out
}

fn post_order(report: &PlanReport, id: usize, out: &mut Vec<usize>) {
    for &c in &report.operators[id].children {
        post_order(report, c, out);
    }
    out.push(id);
}

fn row(
    report: &PlanReport,
    op: &OperatorReport,
    id: usize,
    parent: Option<usize>,
    mode: ExplainMode,
) -> [String; 10] {
    let dash = || "-".to_owned();
    let mut arguments = op.details.replace(['\n', '\r'], " ");
    if mode == ExplainMode::Details {
        if !arguments.is_empty() {
            arguments.push_str(" / ");
        }
        let _ = write!(arguments, "estimatedRows={}", estimate(op.estimated_rows));
    }
    if arguments.is_empty() {
        arguments = dash();
    }
    let (units_in, units_out, ratio, time) = if report.profiled {
        let units_in: u64 = op
            .children
            .iter()
            .filter_map(|&c| report.operators[c].rows)
            .sum();
        match op.rows {
            Some(out) => {
                let ratio = if units_in == 0 {
                    0.0
                } else {
                    out as f64 / units_in as f64
                };
                let time = op.self_time_ms(report).unwrap_or(0.0);
                (
                    units_in.to_string(),
                    out.to_string(),
                    format!("{ratio:.2}"),
                    if time == 0.0 {
                        "0".to_owned()
                    } else {
                        format!("{time:.2}")
                    },
                )
            }
            // Folded into its input by the physical plan: no figures of its own.
            None => (units_in.to_string(), dash(), dash(), dash()),
        }
    } else {
        (dash(), dash(), dash(), dash())
    };
    [
        id.to_string(),
        parent.map_or_else(dash, |p| p.to_string()),
        dash(),
        op.name.to_owned(),
        arguments,
        dash(),
        units_in,
        units_out,
        ratio,
        time,
    ]
}

fn estimate(n: f64) -> String {
    if n.is_finite() && n < 1e15 {
        format!("{}", n.round() as u64)
    } else {
        format!("{n:.3e}")
    }
}

fn render_text(tables: &[Table], query: &str, mode: ExplainMode) -> String {
    let mut out = String::new();
    if mode == ExplainMode::Details {
        let _ = writeln!(out, "Query:\n{query}\n");
    }
    for (i, t) in tables.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if let Some(title) = &t.title {
            let _ = writeln!(out, "{title}");
        }
        text_table(t, &mut out);
    }
    out
}

fn text_table(t: &Table, out: &mut String) {
    let width = |s: &str| s.chars().count();
    let mut widths: Vec<usize> = HEADERS.iter().map(|h| width(h)).collect();
    for r in &t.rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(width(cell));
        }
    }
    let rule = |out: &mut String, left: char, fill: char, mid: char, right: char| {
        out.push(left);
        for (i, w) in widths.iter().enumerate() {
            if i > 0 {
                out.push(mid);
            }
            out.extend(std::iter::repeat_n(fill, w + 2));
        }
        out.push(right);
        out.push('\n');
    };
    let line = |out: &mut String, cells: &[&str]| {
        out.push('║');
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                out.push('│');
            }
            let _ = write!(out, " {cell}{} ", " ".repeat(w - width(cell)));
        }
        out.push_str("║\n");
    };
    rule(out, '╔', '═', '╤', '╗');
    line(out, &HEADERS);
    rule(out, '╠', '═', '╪', '╣');
    for (i, r) in t.rows.iter().enumerate() {
        if i > 0 {
            rule(out, '╟', '─', '┼', '╢');
        }
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        line(out, &cells);
    }
    rule(out, '╚', '═', '╧', '╝');
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn render_html(tables: &[Table], query: &str, mode: ExplainMode) -> String {
    let mut out = String::new();
    if mode == ExplainMode::Details {
        let _ = writeln!(out, "<p>Query:</p>\n<pre>{}</pre>", escape(query));
    }
    for t in tables {
        if let Some(title) = &t.title {
            let _ = writeln!(out, "<p>{}</p>", escape(title));
        }
        out.push_str("<table>\n<thead><tr>");
        for h in HEADERS {
            let _ = write!(out, "<th>{}</th>", escape(h));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for r in &t.rows {
            out.push_str("<tr>");
            for cell in r {
                let _ = write!(out, "<td>{}</td>", escape(cell));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(id: usize, depth: usize, children: Vec<usize>, rows: Option<u64>) -> OperatorReport {
        OperatorReport {
            id,
            subquery: None,
            depth,
            name: ["ProduceResults", "Filter", "NodeByLabelScan"][id.min(2)],
            details: format!("arg{id}"),
            children,
            estimated_rows: 10.0,
            rows,
            time_ms: rows.map(|r| r as f64),
        }
    }

    fn report(profiled: bool) -> PlanReport {
        let r = |n| profiled.then_some(n);
        PlanReport {
            operators: vec![
                op(0, 0, vec![1], r(2)),
                op(1, 1, vec![2], r(2)),
                op(2, 2, vec![], r(8)),
            ],
            profiled,
            degree_reads: Vec::new(),
        }
    }

    #[test]
    fn rows_follow_the_data_flow_with_neptunes_columns() {
        let text = render(
            &report(true),
            "MATCH (n) RETURN n",
            ExplainMode::Dynamic,
            false,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("╔════╤════════╤════════╤"), "{text}");
        assert!(
            lines[1].starts_with("║ ID │ Out #1 │ Out #2 │ Name "),
            "{text}"
        );
        assert!(lines[1].ends_with("│ Units In │ Units Out │ Ratio │ Time (ms) ║"));
        assert!(lines[2].starts_with("╠════╪"));
        // The scan feeds the filter, which feeds the result.
        let cells = |l: &str| -> Vec<String> {
            l.trim_matches('║')
                .split('│')
                .map(|c| c.trim().to_owned())
                .collect()
        };
        assert_eq!(
            cells(lines[3]),
            [
                "0",
                "1",
                "-",
                "NodeByLabelScan",
                "arg2",
                "-",
                "0",
                "8",
                "0.00",
                "8.00"
            ]
        );
        assert!(lines[4].starts_with("╟────┼"));
        assert_eq!(
            cells(lines[5]),
            ["1", "2", "-", "Filter", "arg1", "-", "8", "2", "0.25", "0"]
        );
        assert_eq!(cells(lines[7])[..4], ["2", "-", "-", "ProduceResults"]);
        assert!(lines[8].starts_with("╚════╧"));
        assert_eq!(lines.len(), 9);
        // Every line of the frame is as wide as the header.
        let w = lines[0].chars().count();
        assert!(lines.iter().all(|l| l.chars().count() == w), "{text}");
    }

    #[test]
    fn static_mode_shows_no_figures_and_details_shows_the_query() {
        let text = render(&report(false), "RETURN 1", ExplainMode::Static, false);
        assert!(!text.contains("Query:"));
        assert!(
            text.contains("│ -        │ -         │ -     │ -         ║"),
            "{text}"
        );
        let text = render(&report(true), "RETURN 1", ExplainMode::Details, false);
        assert!(text.starts_with("Query:\nRETURN 1\n\n╔"), "{text}");
        assert!(text.contains("arg2 / estimatedRows=10"), "{text}");
    }

    #[test]
    fn subqueries_get_their_own_titled_tables() {
        let mut r = report(true);
        r.operators.push(OperatorReport {
            subquery: Some(0),
            ..op(3, 0, vec![], Some(1))
        });
        r.operators[3].id = 3;
        let text = render(&r, "q", ExplainMode::Dynamic, false);
        let parts: Vec<&str> = text.split("\nsubQuery1\n").collect();
        assert_eq!(parts.len(), 2, "{text}");
        assert!(parts[1].starts_with('╔'));
    }

    #[test]
    fn html_is_escaped_tables() {
        let mut r = report(true);
        r.operators[1].details = "n.name < '<b>'".into();
        let html = render(&r, "MATCH (n) WHERE n.x < 1", ExplainMode::Details, true);
        assert!(
            html.contains("<pre>MATCH (n) WHERE n.x &lt; 1</pre>"),
            "{html}"
        );
        assert!(html.contains("<th>Units Out</th>"));
        assert!(html.contains("n.name &lt; &#39;&lt;b&gt;&#39;"));
        assert_eq!(html.matches("<table>").count(), 1);
    }

    #[test]
    fn accept_headers() {
        assert!(prefers_html(Some("text/html")));
        assert!(prefers_html(Some(
            "text/html,application/xhtml+xml,*/*;q=0.8"
        )));
        assert!(!prefers_html(Some("text/plain, text/html;q=0.5")));
        assert!(!prefers_html(Some("*/*")));
        assert!(!prefers_html(Some("application/json")));
        assert!(!prefers_html(None));
        assert!(!prefers_html(Some("text/html;q=0")));
    }
}
