//! Self-contained HTML pages for people: one file, no external assets, readable on a phone,
//! tables sortable by clicking a header. Reports build a page from headings, paragraphs and
//! tables; this module owns the markup, the style and the script. Every page carries a
//! Content-Security-Policy that allows only its own style and script (by hash), so a browser
//! refuses any external asset and any script that is not the page's.
//!
//! Without JavaScript the page reads the same; only sorting needs the script. Below 40rem
//! (a phone) each table row becomes a card that names its fields, and the headers become a
//! row of sort buttons, so no table needs sideways scrolling.
//!
//! The script has a self-test, run when the page is opened with `#selftest`: it clicks each
//! sortable table's headers (ascending, then descending), checks the order, checks that
//! nothing is wider than the page, and records the outcome and any script error or refused
//! resource on `<body>` (`data-selftest`, `data-tables`, `data-fits`, `data-errors`), so a
//! headless browser's dumped DOM shows whether the page works. `#selftest-narrow` does the
//! same with the page 360 pixels wide (headless Chromium's window is at least 500).

use std::fmt::Write;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::rules::Severity;

/// Text made safe for HTML content and attribute values.
pub fn escape(s: &str) -> String {
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

/// The CSS class a severity is shown with.
pub fn severity_class(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "sev-critical",
        Severity::High => "sev-high",
        Severity::Medium => "sev-medium",
        _ => "muted",
    }
}

/// A table cell: text, and an optional value to sort by (numbers, ISO dates) when the shown
/// text does not sort right.
pub struct Cell {
    /// The text shown, escaped when the page is written.
    pub text: String,
    /// The value the column sorts by (a zero-padded number, an ISO date); `None`: the text.
    pub sort: Option<String>,
    /// A CSS class (`sev-high`, `bad`, ...).
    pub class: Option<&'static str>,
}

impl Cell {
    /// A cell showing `t`, sorted by it.
    pub fn text(t: impl AsRef<str>) -> Cell {
        Cell {
            text: t.as_ref().to_string(),
            sort: None,
            class: None,
        }
    }

    /// A number, right-aligned (class `num`) and sorted numerically.
    pub fn num(n: u64) -> Cell {
        Cell {
            text: n.to_string(),
            sort: Some(format!("{n:020}")),
            class: Some("num"),
        }
    }

    /// Text kept on one line: a date or time (ISO, so its text sorts right), an id.
    pub fn nowrap(t: impl AsRef<str>) -> Cell {
        Cell::text(t).class("nowrap")
    }

    /// A severity, coloured, sorting the most severe first.
    pub fn severity(s: Severity) -> Cell {
        Cell::text(s.as_str())
            .class(severity_class(s))
            .sorted(format!("{}", 9 - s as u8))
    }

    /// Sorts by `key` instead of the shown text.
    pub fn sorted(mut self, key: String) -> Cell {
        self.sort = Some(key);
        self
    }

    /// Adds the CSS class `c` (`sev-high`, `bad`, `mono`, ...).
    pub fn class(mut self, c: &'static str) -> Cell {
        self.class = Some(c);
        self
    }
}

/// A page being built.
pub struct Page {
    title: String,
    body: String,
}

impl Page {
    /// An empty page titled `title`.
    pub fn new(title: &str) -> Page {
        Page {
            title: title.to_string(),
            body: String::new(),
        }
    }

    /// A heading of `level` 1 to 4 (other levels are clamped into that range).
    pub fn heading(&mut self, level: u8, text: &str) {
        let l = level.clamp(1, 4);
        let _ = writeln!(self.body, "<h{l}>{}</h{l}>", escape(text));
    }

    /// A paragraph of `text`, with an optional CSS class (`muted`, ...).
    pub fn paragraph(&mut self, text: &str, class: Option<&str>) {
        match class {
            Some(c) => {
                let _ = writeln!(self.body, "<p class=\"{c}\">{}</p>", escape(text));
            }
            None => {
                let _ = writeln!(self.body, "<p>{}</p>", escape(text));
            }
        }
    }

    /// Counts shown side by side, each a figure over its label (a summary's first glance).
    pub fn figures(&mut self, figures: &[(u64, &str, Option<&'static str>)]) {
        self.body.push_str("<ul class=\"figures\">");
        for (n, label, class) in figures {
            match class {
                Some(c) => {
                    let _ = write!(self.body, "<li class=\"{c}\">");
                }
                None => self.body.push_str("<li>"),
            }
            let _ = write!(self.body, "<b>{n}</b> {}</li>", escape(label));
        }
        self.body.push_str("</ul>\n");
    }

    /// A section that stays folded until opened (long reference tables).
    pub fn folded(&mut self, summary: &str, content: impl FnOnce(&mut Page)) {
        let _ = writeln!(self.body, "<details><summary>{}</summary>", escape(summary));
        content(self);
        self.body.push_str("</details>\n");
    }

    /// A sortable table; an empty one becomes a short note instead.
    pub fn table(&mut self, headers: &[&str], rows: &[Vec<Cell>], empty: &str) {
        if rows.is_empty() {
            self.paragraph(empty, Some("muted"));
            return;
        }
        self.body
            .push_str("<div class=\"scroll\"><table class=\"sortable\">\n<thead><tr>");
        for h in headers {
            let _ = write!(
                self.body,
                "<th scope=\"col\" tabindex=\"0\">{}</th>",
                escape(h)
            );
        }
        self.body.push_str("</tr></thead>\n<tbody>\n");
        for row in rows {
            self.body.push_str("<tr>");
            for (i, c) in row.iter().enumerate() {
                // The header again, for the phone layout's cards.
                let label = headers.get(i).copied().unwrap_or("");
                let _ = write!(self.body, "<td data-label=\"{}\"", escape(label));
                if let Some(s) = &c.sort {
                    let _ = write!(self.body, " data-sort=\"{}\"", escape(s));
                }
                if let Some(class) = c.class {
                    let _ = write!(self.body, " class=\"{class}\"");
                }
                let _ = write!(self.body, ">{}</td>", escape(&c.text));
            }
            self.body.push_str("</tr>\n");
        }
        self.body.push_str("</tbody></table></div>\n");
    }

    /// A sortable table showing its first `visible` rows; the rest follow in a second table,
    /// folded under "N more" (a long list that should not push the next section away).
    pub fn long_table(
        &mut self,
        headers: &[&str],
        mut rows: Vec<Vec<Cell>>,
        empty: &str,
        visible: usize,
    ) {
        let rest = rows.split_off(visible.min(rows.len()));
        self.table(headers, &rows, empty);
        if !rest.is_empty() {
            self.folded(&format!("{} more", rest.len()), |p| {
                p.table(headers, &rest, "")
            });
        }
    }

    /// The whole HTML document: markup, the inline style and the sorting script.
    pub fn finish(self) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{}</main>\n\
             <script>{SCRIPT}</script>\n</body>\n</html>\n",
            content_security_policy(),
            escape(&self.title),
            self.body
        )
    }
}

/// Nothing from anywhere: only this module's own style and script, named by their hashes.
fn content_security_policy() -> String {
    let hash = |text: &str| {
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
    };
    format!(
        "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; base-uri 'none'; form-action 'none'",
        hash(STYLE),
        hash(SCRIPT)
    )
}

const STYLE: &str = r#"
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1f24;background:#fff}
main{max-width:80rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}h3{font-size:1rem;margin-top:1.25rem}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #d8dee4;padding:.35rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{cursor:pointer;user-select:none;background:#f6f8fa;position:sticky;top:0;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \25B2"}th[aria-sort=descending]::after{content:" \25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.nowrap{white-space:nowrap}
td code,td.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em;word-break:break-all}
.sev-critical,.sev-high,.bad{color:#b31d28;font-weight:600}.sev-medium{color:#9a6700}
.muted{color:#57606a}.warn{background:#fff8c5;padding:.5rem;border-radius:4px}
p{overflow-wrap:anywhere}
ul.figures{display:flex;flex-wrap:wrap;gap:.5rem;list-style:none;padding:0;margin:.5rem 0}
ul.figures li{border:1px solid #d8dee4;border-radius:6px;padding:.35rem .75rem;min-width:5rem}
ul.figures b{display:block;font-size:1.4rem}
details{margin-top:1rem}summary{cursor:pointer;font-weight:600}
@media (max-width:40rem){
main{padding:.5rem}
table.sortable,table.sortable thead,table.sortable tbody,table.sortable tr,table.sortable td{display:block;width:auto}
table.sortable thead tr{display:flex;flex-wrap:wrap;gap:.25rem;margin-bottom:.5rem}
table.sortable th{position:static;border:1px solid #d8dee4;border-radius:4px;padding:.2rem .45rem}
table.sortable tbody tr{border-bottom:2px solid #d8dee4;padding:.35rem 0}
table.sortable td{border:0;padding:.1rem 0;text-align:left}
table.sortable td::before{content:attr(data-label) ": ";color:#57606a;font-weight:400}
table.sortable td:empty{display:none}
}
"#;

const SCRIPT: &str = r#"
(function(){
  var errors=[];
  function fail(m){errors.push(String(m));document.body.dataset.errors=errors.join(' | ');}
  window.addEventListener('error',function(e){fail(e.message);});
  document.addEventListener('securitypolicyviolation',function(e){fail('refused '+e.blockedURI+' ('+e.violatedDirective+')');});
  function key(td){return td.dataset.sort!==undefined?td.dataset.sort:td.textContent.trim().toLowerCase();}
  function sortBy(table,col,dir){
    var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
    rows.sort(function(a,b){var x=key(a.cells[col]),y=key(b.cells[col]);return x<y?-dir:x>y?dir:0;});
    rows.forEach(function(r){body.appendChild(r);});
    Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){
      if(i===col){th.setAttribute('aria-sort',dir>0?'ascending':'descending');}else{th.removeAttribute('aria-sort');}
    });
  }
  function sorted(table,col,dir){
    var rows=table.tBodies[0].rows;
    for(var i=1;i<rows.length;i++){var x=key(rows[i-1].cells[col]),y=key(rows[i].cells[col]);if(dir>0?x>y:x<y){return false;}}
    return true;
  }
  var tables=document.querySelectorAll('table.sortable');
  Array.prototype.forEach.call(tables,function(table){
    Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,col){
      function go(){sortBy(table,col,th.getAttribute('aria-sort')==='ascending'?-1:1);}
      th.addEventListener('click',go);
      th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();go();}});
    });
  });
  if(location.hash==='#selftest'||location.hash==='#selftest-narrow'){
    if(location.hash==='#selftest-narrow'){document.querySelector('main').style.width='360px';document.querySelector('main').style.boxSizing='border-box';}
    var ok=tables.length>0;
    Array.prototype.forEach.call(tables,function(table){
      Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,col){
        [['ascending',1],['descending',-1]].forEach(function(want){
          th.click();
          if(th.getAttribute('aria-sort')!==want[0]||!sorted(table,col,want[1])){ok=false;}
        });
      });
    });
    var main=document.querySelector('main'),fits=main.scrollWidth<=main.clientWidth;
    Array.prototype.forEach.call(document.querySelectorAll('.scroll'),function(d){if(d.scrollWidth>d.clientWidth){fits=false;}});
    document.body.dataset.fits=fits?'yes':'no';
    document.body.dataset.selftest=ok&&errors.length===0?'ok':'fail';
    document.body.dataset.tables=String(tables.length);
  }
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped_and_self_contained() {
        let mut p = Page::new("a <b>");
        p.heading(1, "x & y");
        p.table(
            &["name", "n"],
            &[vec![Cell::text("<script>"), Cell::num(3)]],
            "none",
        );
        let html = p.finish();
        assert!(html.contains("<title>a &lt;b&gt;</title>"));
        assert!(html.contains("<td data-label=\"name\">&lt;script&gt;</td>"));
        assert!(html.contains("data-sort=\"00000000000000000003\""));
        assert!(!html.contains("src=\"http"), "no external assets");
        assert!(!html.contains("href=\"http"));
    }

    /// The policy names the style and script by hash: a page whose script or style changed
    /// without its hash would run without either, and only a browser would notice.
    #[test]
    fn the_security_policy_allows_exactly_the_page_s_style_and_script() {
        let html = Page::new("t").finish();
        let between = |open: &str, close: &str| {
            let start = html.find(open).expect("open") + open.len();
            html[start..start + html[start..].find(close).expect("close")].to_string()
        };
        let hash = |t: &str| {
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(t.as_bytes()))
        };
        let csp = between("Content-Security-Policy\" content=\"", "\"");
        assert!(csp.starts_with("default-src 'none';"), "{csp}");
        let style = between("<style>", "</style>");
        let script = between("<script>", "</script>");
        assert!(
            csp.contains(&format!("style-src 'sha256-{}'", hash(&style))),
            "{csp}"
        );
        assert!(
            csp.contains(&format!("script-src 'sha256-{}'", hash(&script))),
            "{csp}"
        );
    }
}
