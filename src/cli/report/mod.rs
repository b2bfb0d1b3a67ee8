//! Static HTML reports (`--format html`, `kensa test --html`): the shared page shell, HTML
//! escaping, tables and labels; the charts are in [`chart`], the pages of `eval` and of
//! `dedup`/`link` in [`eval`] and [`pairs`] (`diff` and `test` draw theirs next to their data).
//!
//! A report is one self-contained file: inline style only, no script, no link, no font and no
//! address of any kind, so it opens without a network and fetches nothing. Every value from a
//! record, a rule or a file name goes through [`esc`]. Sizes are in `rem`/`em` and the charts
//! are SVG scaled to the page width, so the page reads at 200 % zoom; severity and decision are
//! written as text as well as shown by colour.

pub mod chart;
pub mod eval;
pub mod pairs;

use std::fmt::Write as _;

/// Text made safe for HTML content and attribute values: controls and bidi overrides are shown
/// escaped (as on the terminal), then `& < > " '` become entities.
pub fn esc(text: &str) -> String {
    let shown = kensa::internal::escape_controls(text);
    let mut out = String::with_capacity(shown.len());
    for c in shown.chars() {
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

/// The style of every report: system fonts (Japanese ones included), relative units, colours
/// that always come with text.
const STYLE: &str = "\
:root{--accept:#1b6e2d;--review:#8a5a00;--reject:#b3261e;--warn:#5f5f00;--line:#c8c8c8}
body{font-family:system-ui,-apple-system,'Segoe UI','Hiragino Sans','Hiragino Kaku Gothic ProN','Yu Gothic UI','Meiryo','Noto Sans CJK JP','Noto Sans JP',sans-serif;
line-height:1.6;margin:0 auto;padding:1rem;max-width:70rem;color:#1a1a1a;background:#fff}
h1{font-size:1.6rem}h2{font-size:1.3rem;margin-top:2rem}h3{font-size:1.1rem}
table{border-collapse:collapse;margin:0.5rem 0 1rem;max-width:100%}
caption{text-align:left;font-weight:bold;padding:0.25rem 0}
th,td{border:1px solid var(--line);padding:0.25rem 0.5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto}
.d-accept,.s-accept{color:var(--accept);font-weight:bold}
.d-review,.s-review{color:var(--review);font-weight:bold}
.d-reject,.s-reject{color:var(--reject);font-weight:bold}
.s-warn{color:var(--warn);font-weight:bold}
.d-error{color:var(--reject);font-weight:bold}
svg{max-width:100%;height:auto;font-size:14px}
svg text{fill:#1a1a1a}
details{margin:0.5rem 0;border:1px solid var(--line);padding:0.25rem 0.75rem}
summary{cursor:pointer}
a:focus,summary:focus,details:focus-within{outline:3px solid #1a5fb4;outline-offset:2px}
.note{color:#444}
code{font-family:ui-monospace,'SFMono-Regular','Menlo','Consolas',monospace}
";

/// A whole page: `title` (plain text) and `body` (HTML already escaped).
pub fn page(title: &str, body: &str) -> String {
    let title = esc(title);
    format!(
        "<!doctype html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n\
<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n<h1>{title}</h1>\n{body}</main>\n</body>\n</html>\n"
    )
}

/// A decision as text and colour: `受理 accept`, `要確認 review`, `却下 reject`.
pub fn decision(d: &str) -> String {
    let ja = match d {
        "accept" => "受理",
        "review" => "要確認",
        "reject" => "却下",
        _ => "エラー",
    };
    format!("<span class=\"d-{}\">{ja} {}</span>", esc(d), esc(d))
}

/// A severity as text and colour: `注意 warn`, `要確認 review`, `却下 reject`.
pub fn severity(s: &str) -> String {
    let ja = match s {
        "warn" => "注意",
        "review" => "要確認",
        _ => "却下",
    };
    format!("<span class=\"s-{}\">{ja} {}</span>", esc(s), esc(s))
}

/// A table: `head` are column names (plain text, numeric columns end in `#`, which is dropped
/// and right-aligns the column); each row's cells are HTML, the first is the row's header.
pub fn table(caption: &str, head: &[&str], rows: &[Vec<String>]) -> String {
    let numeric: Vec<bool> = head.iter().map(|h| h.ends_with('#')).collect();
    // The wrapper scrolls a wide table at high zoom; it takes the keyboard focus so that the
    // arrow keys scroll it too.
    let caption = esc(caption);
    let mut out = format!(
        "<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"{caption}\"><table>\n<caption>{caption}</caption>\n<thead><tr>"
    );
    for (h, n) in head.iter().zip(&numeric) {
        let class = if *n { " class=\"n\"" } else { "" };
        let _ = write!(out, "<th scope=\"col\"{class}>{}</th>", esc(h.trim_end_matches('#')));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for (i, (cell, n)) in row.iter().zip(numeric.iter().chain(std::iter::repeat(&false))).enumerate() {
            let class = if *n { " class=\"n\"" } else { "" };
            if i == 0 {
                let _ = write!(out, "<th scope=\"row\"{class}>{cell}</th>");
            } else {
                let _ = write!(out, "<td{class}>{cell}</td>");
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table></div>\n");
    out
}

/// Write a report to `path`, or to standard output for `-`/`None`; a closed pipe is not an error.
pub fn write(path: Option<&std::path::Path>, html: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    match path {
        Some(p) if p.as_os_str() != "-" => std::fs::write(p, html),
        _ => {
            let mut out = std::io::stdout().lock();
            match out.write_all(html.as_bytes()).and_then(|()| out.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                r => r,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(esc("<script>alert('x')</script>&\""), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;");
        assert_eq!(esc("山田\u{202e}"), "山田\\u{202e}");
    }

    #[test]
    fn the_page_is_japanese_and_fetches_nothing() {
        let p = page("報告 <x>", "<p>本文</p>");
        assert!(p.starts_with("<!doctype html>\n<html lang=\"ja\">"));
        assert!(p.contains("<title>報告 &lt;x&gt;</title>"));
        assert!(!p.contains("http") && !p.contains("src=") && !p.contains("<link") && !p.contains("<script"));
    }

    #[test]
    fn tables_have_captions_and_scoped_headers() {
        let t = table("表", &["rule", "count#"], &[vec![String::from("a"), String::from("1")]]);
        assert!(t.contains("<caption>表</caption>"));
        assert!(t.contains("<th scope=\"col\" class=\"n\">count</th>"));
        assert!(t.contains("<th scope=\"row\">a</th><td class=\"n\">1</td>"));
    }
}
