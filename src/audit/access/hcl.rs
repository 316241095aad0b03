//! The subset of HCL that Vault policies use: blocks with string labels
//! (`path "secret/*" { … }`), attributes (`capabilities = ["read"]`), strings, numbers,
//! booleans, lists and nested objects, and `#`, `//` and `/* */` comments.

/// A value on the right of `=`, or a block's body.
#[derive(Debug, Clone, PartialEq)]
pub enum HValue {
    /// A quoted string, with `\n`, `\t` and `\"` unescaped.
    Str(String),
    /// A number as written (`3`, `-1.5`, `30d`): nothing in a policy does arithmetic.
    Num(String),
    /// `true` or `false`.
    Bool(bool),
    /// `[a, b, …]`.
    List(Vec<HValue>),
    /// `{ … }`: a nested object or the body of a labelled block.
    Block(Vec<HItem>),
}

/// One attribute (`key = value`) or block (`key "label" { … }`), with its line.
#[derive(Debug, Clone, PartialEq)]
pub struct HItem {
    /// The attribute's or block type's name (`capabilities`, `path`).
    pub key: String,
    /// A block's quoted labels (`path "secret/*"` has one); empty for an attribute.
    pub labels: Vec<String>,
    /// An attribute's value; a block's body is a [`HValue::Block`].
    pub value: HValue,
    /// 1-based line of the key.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    Sym(char),
}

const MAX_DEPTH: usize = 64;

fn lex(text: &str) -> Result<Vec<(Tok, usize)>, (usize, String)> {
    let c: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < c.len() {
        let ch = c[i];
        match ch {
            '\n' => {
                line += 1;
                i += 1;
            }
            _ if ch.is_whitespace() => i += 1,
            '#' => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            '/' if c.get(i + 1) == Some(&'/') => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            '/' if c.get(i + 1) == Some(&'*') => {
                let start = line;
                i += 2;
                while i < c.len() && !(c[i] == '*' && c.get(i + 1) == Some(&'/')) {
                    if c[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
                if i >= c.len() {
                    return Err((start, "unterminated comment".into()));
                }
                i += 2;
            }
            '"' => {
                let start = line;
                let mut s = String::new();
                i += 1;
                loop {
                    match c.get(i) {
                        None | Some('\n') => return Err((start, "unterminated string".into())),
                        Some('"') => break,
                        Some('\\') => {
                            match c.get(i + 1) {
                                Some('n') => s.push('\n'),
                                Some('t') => s.push('\t'),
                                Some(&e) => s.push(e),
                                None => return Err((start, "unterminated string".into())),
                            }
                            i += 2;
                        }
                        Some(&x) => {
                            s.push(x);
                            i += 1;
                        }
                    }
                }
                i += 1;
                out.push((Tok::Str(s), start));
            }
            '{' | '}' | '[' | ']' | '=' | ',' | ':' => {
                out.push((Tok::Sym(ch), line));
                i += 1;
            }
            _ if ch.is_ascii_digit() || ch == '-' => {
                let s = i;
                while i < c.len() && (c[i].is_ascii_alphanumeric() || c[i] == '.' || c[i] == '-') {
                    i += 1;
                }
                out.push((Tok::Num(c[s..i].iter().collect()), line));
            }
            _ if ch.is_alphabetic() || ch == '_' => {
                let s = i;
                while i < c.len() && (c[i].is_alphanumeric() || matches!(c[i], '_' | '-' | '.')) {
                    i += 1;
                }
                out.push((Tok::Ident(c[s..i].iter().collect()), line));
            }
            other => return Err((line, format!("unexpected character {other:?}"))),
        }
    }
    Ok(out)
}

struct P {
    toks: Vec<(Tok, usize)>,
    i: usize,
}

impl P {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.0)
    }
    fn line(&self) -> usize {
        self.toks
            .get(self.i)
            .or(self.toks.last())
            .map_or(1, |t| t.1)
    }
    fn body(&mut self, depth: usize, closing: bool) -> Result<Vec<HItem>, (usize, String)> {
        if depth > MAX_DEPTH {
            return Err((self.line(), "nested too deeply".into()));
        }
        let mut items = Vec::new();
        loop {
            let line = self.line();
            let key = match self.toks.get(self.i).map(|t| t.0.clone()) {
                None if closing => return Err((line, "missing }".into())),
                None => return Ok(items),
                Some(Tok::Sym('}')) if closing => {
                    self.i += 1;
                    return Ok(items);
                }
                Some(Tok::Sym(',')) => {
                    self.i += 1;
                    continue;
                }
                Some(Tok::Ident(k)) | Some(Tok::Str(k)) => k,
                Some(t) => return Err((line, format!("expected a name, found {t:?}"))),
            };
            self.i += 1;
            if matches!(self.peek(), Some(Tok::Sym('=')) | Some(Tok::Sym(':'))) {
                self.i += 1;
                let value = self.value(depth + 1)?;
                items.push(HItem {
                    key,
                    labels: Vec::new(),
                    value,
                    line,
                });
                continue;
            }
            let mut labels = Vec::new();
            while let Some(Tok::Str(l)) = self.peek() {
                labels.push(l.clone());
                self.i += 1;
            }
            if self.peek() != Some(&Tok::Sym('{')) {
                return Err((self.line(), format!("expected = or {{ after {key:?}")));
            }
            self.i += 1;
            let inner = self.body(depth + 1, true)?;
            items.push(HItem {
                key,
                labels,
                value: HValue::Block(inner),
                line,
            });
        }
    }
    fn value(&mut self, depth: usize) -> Result<HValue, (usize, String)> {
        if depth > MAX_DEPTH {
            return Err((self.line(), "nested too deeply".into()));
        }
        let line = self.line();
        let t = self
            .toks
            .get(self.i)
            .map(|t| t.0.clone())
            .ok_or((line, "expected a value".to_string()))?;
        self.i += 1;
        match t {
            Tok::Str(s) => Ok(HValue::Str(s)),
            Tok::Num(n) => Ok(HValue::Num(n)),
            Tok::Ident(b) if b == "true" || b == "false" => Ok(HValue::Bool(b == "true")),
            Tok::Sym('[') => {
                let mut v = Vec::new();
                loop {
                    match self.peek() {
                        Some(Tok::Sym(']')) => {
                            self.i += 1;
                            return Ok(HValue::List(v));
                        }
                        Some(Tok::Sym(',')) => self.i += 1,
                        None => return Err((line, "missing ]".into())),
                        _ => v.push(self.value(depth + 1)?),
                    }
                }
            }
            Tok::Sym('{') => Ok(HValue::Block(self.body(depth + 1, true)?)),
            other => Err((line, format!("expected a value, found {other:?}"))),
        }
    }
}

/// Parses HCL text; errors carry their line.
pub fn parse(text: &str) -> Result<Vec<HItem>, (usize, String)> {
    let toks = lex(text)?;
    let mut p = P { toks, i: 0 };
    p.body(0, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_policy_text() {
        let t = "# comment\npath \"secret/data/*\" {\n  capabilities = [\"read\", \"list\"] // x\n}\n/* block\n */\npath \"sys/*\" { policy = \"sudo\" }\n";
        let v = parse(t).expect("parse");
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].labels, vec!["secret/data/*".to_string()]);
        assert_eq!(v[0].line, 2);
        assert_eq!(v[1].line, 7);
        let HValue::Block(b) = &v[0].value else {
            panic!()
        };
        assert_eq!(
            b[0].value,
            HValue::List(vec![HValue::Str("read".into()), HValue::Str("list".into())])
        );
        assert!(parse("path \"x\" {\n capabilities = [\"read\"\n").is_err());
        assert_eq!(parse("path \"x\" {\n\n @").unwrap_err().0, 3);
        let deep = "a = ".to_string() + &"[".repeat(200);
        assert!(parse(&deep).is_err());
    }
}
