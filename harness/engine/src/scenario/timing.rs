//! Times that follow the client's own time-out. Real clients keep a fixed time-out (5 s, 30 s,
//! some 300 s) and ignore the `timeout_ms` the harness asks for, so a case that places a late
//! answer "after the time-out" or a slow one "before it" must place it after or before **that
//! client's** time-out. Wherever a case gives milliseconds it may instead write a quoted
//! expression over `timeout` — the client's declared time-out (`client.timeout_ms` in
//! `initialize`), or else the case's `client_timeout_ms`:
//!
//! ```toml
//! within_ms = "timeout + 6000"
//! result_delay_ms = "min(2500, timeout / 2)"
//! ```
//!
//! Integers, `timeout`, `+ - * /`, parentheses, `min(a, b)` and `max(a, b)`. The expressions
//! are replaced in the text before it is parsed, so every line number stays as written.

/// The name an expression uses for the client's time-out.
pub const TIMEOUT: &str = "timeout";

/// What substituting did: the text to parse, and whether any expression was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Substituted {
    /// The case file with every time expression replaced by milliseconds.
    pub text: String,
    /// Whether it had any expression naming `timeout`.
    pub uses_timeout: bool,
}

/// A bad expression: its line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExprError {
    /// The line of the expression.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

/// Whether `text` has a time expression anywhere (without evaluating it).
pub(crate) fn uses_timeout(text: &str) -> bool {
    let mut found = false;
    let _ = scan(text, |_, content| {
        if looks_like_expression(content) {
            found = true;
        }
        Ok(None)
    });
    found
}

/// Replaces every quoted time expression in `text` by its value for `timeout_ms`.
pub(crate) fn substitute(text: &str, timeout_ms: u64) -> Result<Substituted, ExprError> {
    let mut uses = false;
    let out = scan(text, |line, content| {
        if !looks_like_expression(content) {
            return Ok(None);
        }
        uses = true;
        let value = evaluate(content, timeout_ms as i64).map_err(|message| ExprError {
            line,
            message: format!("{content:?}: {message}"),
        })?;
        if value < 0 {
            return Err(ExprError {
                line,
                message: format!(
                    "{content:?} is {value} ms with a client time-out of {timeout_ms} ms: a time cannot be negative"
                ),
            });
        }
        Ok(Some(value.to_string()))
    })?;
    Ok(Substituted {
        text: out,
        uses_timeout: uses,
    })
}

/// A string that is meant as an expression: it starts with `timeout`, `min(`, `max(` or
/// `(`, or with a number followed by an operator. Titles and summaries never look like this.
fn looks_like_expression(s: &str) -> bool {
    let s = s.trim();
    s.starts_with(TIMEOUT)
        || s.starts_with("min(")
        || s.starts_with("max(")
        || (s.starts_with(|c: char| c.is_ascii_digit()) && s.contains(TIMEOUT))
}

/// Walks the single-line basic strings ("…") of a TOML text outside comments and multi-line
/// strings; `f(line, content)` may replace a string (quotes included) by other text.
fn scan(text: &str, mut f: impl FnMut(usize, &str) -> Result<Option<String>, ExprError>) -> Result<String, ExprError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut line = 1;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("\"\"\"") || rest.starts_with("'''") {
            let quote = &rest[..3];
            let end = rest[3..].find(quote).map_or(rest.len(), |i| i + 6);
            let (block, after) = rest.split_at(end.min(rest.len()));
            line += block.matches('\n').count();
            out.push_str(block);
            rest = after;
        } else if c == '#' {
            let end = rest.find('\n').unwrap_or(rest.len());
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else if c == '\'' {
            // a literal string: never an expression; up to its closing quote or the line's end
            let end = match rest[1..].find(['\'', '\n']) {
                Some(i) if rest.as_bytes()[i + 1] == b'\'' => i + 2,
                Some(i) => i + 1,
                None => rest.len(),
            };
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else if c == '"' {
            // a basic string: up to the next unescaped quote on this line
            let mut end = None;
            let mut escaped = false;
            for (i, ch) in rest.char_indices().skip(1) {
                match ch {
                    '\n' => break,
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => {
                        end = Some(i);
                        break;
                    }
                    _ => escaped = false,
                }
            }
            let Some(end) = end else {
                // unterminated: leave it for the TOML parser to report
                out.push(c);
                rest = &rest[1..];
                continue;
            };
            match f(line, &rest[1..end])? {
                Some(replacement) => out.push_str(&replacement),
                None => out.push_str(&rest[..=end]),
            }
            rest = &rest[end + 1..];
        } else {
            if c == '\n' {
                line += 1;
            }
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    Ok(out)
}

/// The value of an expression for `timeout`.
pub fn evaluate(expr: &str, timeout: i64) -> Result<i64, String> {
    let mut p = Parser {
        s: expr.as_bytes(),
        at: 0,
        timeout,
    };
    let v = p.sum()?;
    p.space();
    if p.at != p.s.len() {
        return Err(format!("unexpected {:?}", &expr[p.at..]));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
    timeout: i64,
}

impl Parser<'_> {
    fn space(&mut self) {
        while self.s.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.space();
        if self.s[self.at..].starts_with(token.as_bytes()) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    fn sum(&mut self) -> Result<i64, String> {
        let mut v = self.product()?;
        loop {
            if self.eat("+") {
                v = v.checked_add(self.product()?).ok_or("too large")?;
            } else if self.eat("-") {
                v = v.checked_sub(self.product()?).ok_or("too large")?;
            } else {
                return Ok(v);
            }
        }
    }

    fn product(&mut self) -> Result<i64, String> {
        let mut v = self.atom()?;
        loop {
            if self.eat("*") {
                v = v.checked_mul(self.atom()?).ok_or("too large")?;
            } else if self.eat("/") {
                let d = self.atom()?;
                if d == 0 {
                    return Err("division by zero".into());
                }
                v /= d;
            } else {
                return Ok(v);
            }
        }
    }

    fn atom(&mut self) -> Result<i64, String> {
        self.space();
        if self.eat(TIMEOUT) {
            return Ok(self.timeout);
        }
        for (name, pick) in [("min", i64::min as fn(i64, i64) -> i64), ("max", i64::max)] {
            if self.eat(name) {
                if !self.eat("(") {
                    return Err(format!("{name} needs (a, b)"));
                }
                let a = self.sum()?;
                if !self.eat(",") {
                    return Err(format!("{name} needs two values: {name}(a, b)"));
                }
                let b = self.sum()?;
                if !self.eat(")") {
                    return Err(format!("{name}(a, b) is not closed"));
                }
                return Ok(pick(a, b));
            }
        }
        if self.eat("(") {
            let v = self.sum()?;
            if !self.eat(")") {
                return Err("a parenthesis is not closed".into());
            }
            return Ok(v);
        }
        let start = self.at;
        while self.s.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        if start == self.at {
            return Err(format!(
                "expected a number of milliseconds, `timeout`, min(…) or max(…) at {:?}",
                String::from_utf8_lossy(&self.s[start..])
            ));
        }
        std::str::from_utf8(&self.s[start..self.at])
            .expect("digits")
            .parse()
            .map_err(|_| "too large".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_evaluate() {
        for (e, v) in [
            ("timeout", 2000),
            ("timeout + 800", 2800),
            ("timeout-500", 1500),
            ("min(2500, timeout / 2)", 1000),
            ("max(2500, timeout / 2)", 2500),
            ("(timeout + 1000) * 2", 6000),
            ("2 * timeout - 100", 3900),
        ] {
            assert_eq!(evaluate(e, 2000), Ok(v), "{e}");
        }
        for bad in ["timeout +", "min(1)", "timeout 5", "timeout / 0", "timeout + 800ms", ""] {
            assert!(evaluate(bad, 2000).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_expressions_in_single_line_strings_are_replaced_and_lines_are_kept() {
        let text = "title = \"the timeout case\"\nsummary = \"\"\"\nwait \"timeout + 1\" here\n\"\"\"\n# \"timeout\"\n[[step]]\nwithin_ms = \"timeout + 6000\"\nid = 'timeout'\n";
        let s = substitute(text, 5000).unwrap();
        assert!(s.uses_timeout);
        assert_eq!(
            s.text,
            "title = \"the timeout case\"\nsummary = \"\"\"\nwait \"timeout + 1\" here\n\"\"\"\n# \"timeout\"\n[[step]]\nwithin_ms = 11000\nid = 'timeout'\n"
        );
        assert!(!uses_timeout("title = \"the timeout case\"\nx = 5\n"));
    }

    #[test]
    fn bad_and_negative_expressions_name_their_line() {
        let e = substitute("a = 1\nb = \"timeout + 80ms\"\n", 2000).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("unexpected"), "{e:?}");
        let e = substitute("\nb = \"timeout - 500\"\n", 300).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("-200 ms"), "{e:?}");
    }

    proptest::proptest! {
        /// Any text: no panic, and a text without expressions comes back unchanged.
        #[test]
        fn substitution_never_panics_and_keeps_plain_text(text in "\\PC{0,200}", t in 0u64..1_000_000) {
            if let Ok(s) = substitute(&text, t) && !s.uses_timeout {
                proptest::prop_assert_eq!(s.text, text);
            }
        }
    }
}
