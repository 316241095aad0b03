//! Self-contained HTML pages for people: one file, no external assets, readable on a phone,
//! tables sortable by clicking a header. Reports build a page from headings, paragraphs and
//! tables; this module owns the markup, the style and the script.
//!
//! The script has a self-test, run when the page is opened with `#selftest`: it sorts each
//! sortable table by every column both ways, checks the order, and records the outcome and any
//! script error on `<body>` (`data-selftest`, `data-errors`), so a headless browser's dumped DOM
//! shows whether the page works.

use std::fmt::Write;

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
            for c in row {
                self.body.push_str("<td");
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

    /// The whole HTML document: markup, the inline style and the sorting script.
    pub fn finish(self) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{}</main>\n\
             <script>{SCRIPT}</script>\n</body>\n</html>\n",
            escape(&self.title),
            self.body
        )
    }
}

const STYLE: &str = r#"
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1f24;background:#fff}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #d8dee4;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{cursor:pointer;user-select:none;background:#f6f8fa;position:sticky;top:0;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \25B2"}th[aria-sort=descending]::after{content:" \25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td code,td.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em;word-break:break-all}
.sev-critical,.sev-high,.bad{color:#b31d28;font-weight:600}.sev-medium{color:#9a6700}
.muted{color:#57606a}.warn{background:#fff8c5;padding:.5rem;border-radius:4px}
@media (max-width:40rem){main{padding:.5rem}th,td{padding:.3rem}}
"#;

const SCRIPT: &str = r#"
(function(){
  var errors=[];
  window.addEventListener('error',function(e){errors.push(String(e.message));document.body.dataset.errors=errors.join(' | ');});
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
  if(location.hash==='#selftest'){
    var ok=tables.length>0;
    Array.prototype.forEach.call(tables,function(table){
      var n=table.tHead.rows[0].cells.length;
      for(var col=0;col<n;col++){[1,-1].forEach(function(dir){sortBy(table,col,dir);if(!sorted(table,col,dir)){ok=false;}});}
    });
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
        assert!(html.contains("<td>&lt;script&gt;</td>"));
        assert!(html.contains("data-sort=\"00000000000000000003\""));
        assert!(!html.contains("src=\"http"), "no external assets");
        assert!(!html.contains("href=\"http"));
    }
}
