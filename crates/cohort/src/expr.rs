//! The expression language of `categorised_as` and `satisfying`.
//!
//! Grammar (keywords case-insensitive), loosest binding first:
//! ```text
//! or      := and ("OR" and)*
//! and     := not ("AND" not)*
//! not     := "NOT" not | cmp
//! cmp     := sum (("=" | "!=" | "<" | "<=" | ">" | ">=") sum)?
//! sum     := term (("+" | "-") term)*
//! term    := unary (("*" | "/") unary)*
//! unary   := "-" unary | atom
//! atom    := NAME | INTEGER | DECIMAL | 'string' | "string" | "(" or ")"
//! ```
//! Semantics: a name is the variable's value with missing values defaulted (0 / 0.0 / `""` /
//! false); bools count as 0/1 in arithmetic and comparisons; `+ - *` of two integers are
//! integer (wrapping), `/` is always floating-point division; strings compare lexicographically
//! (bytewise) with strings only — comparing or combining a string with a number is an error;
//! `AND`, `OR`, `NOT` and a bare value used as a condition test "not 0 / not empty".

use std::fmt;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Var(String),
    Int(i64),
    Float(f64),
    Str(String),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

/// The type of an expression's value (date variables are strings in expressions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExprType {
    Bool,
    Int,
    Float,
    Str,
}

impl ExprType {
    fn is_numeric(self) -> bool {
        !matches!(self, ExprType::Str)
    }
}

/// A value during evaluation (missing values already defaulted).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl Value {
    /// "not 0 / not empty".
    pub fn truthy(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
        }
    }

    fn as_f64(&self) -> f64 {
        match self {
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Int(i) => *i as f64,
            Value::Float(f) => *f,
            Value::Str(_) => f64::NAN,
        }
    }

    fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Bool(b) => Some(i64::from(*b)),
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}

impl Expr {
    /// Parses an expression.
    pub fn parse(text: &str) -> Result<Expr, String> {
        let tokens = tokenize(text).map_err(|e| format!("in expression `{text}`: {e}"))?;
        let mut p = ExprParser { tokens, pos: 0 };
        let expr = p
            .or()
            .and_then(|e| match p.peek() {
                None => Ok(e),
                Some(t) => Err(format!("unexpected {t}")),
            })
            .map_err(|e| format!("in expression `{text}`: {e}"))?;
        Ok(expr)
    }

    /// The variable names the expression uses, in order of first use.
    pub fn names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_names(&mut out);
        out
    }

    fn collect_names<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Var(n) => {
                if !out.contains(&n.as_str()) {
                    out.push(n);
                }
            }
            Expr::Int(_) | Expr::Float(_) | Expr::Str(_) => {}
            Expr::Neg(e) | Expr::Not(e) => e.collect_names(out),
            Expr::And(a, b) | Expr::Or(a, b) | Expr::Cmp(_, a, b) | Expr::Arith(_, a, b) => {
                a.collect_names(out);
                b.collect_names(out);
            }
        }
    }

    /// Checks types given each variable's type; the error names the offending part.
    pub fn check(&self, var_type: &dyn Fn(&str) -> Option<ExprType>) -> Result<ExprType, String> {
        Ok(match self {
            Expr::Var(n) => var_type(n).ok_or_else(|| format!("unknown variable `{n}`"))?,
            Expr::Int(_) => ExprType::Int,
            Expr::Float(_) => ExprType::Float,
            Expr::Str(_) => ExprType::Str,
            Expr::Neg(e) => match e.check(var_type)? {
                ExprType::Str => return Err(format!("cannot negate the string `{e}`")),
                ExprType::Float => ExprType::Float,
                _ => ExprType::Int,
            },
            Expr::Not(e) => {
                e.check(var_type)?;
                ExprType::Bool
            }
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.check(var_type)?;
                b.check(var_type)?;
                ExprType::Bool
            }
            Expr::Cmp(_, a, b) => {
                let (ta, tb) = (a.check(var_type)?, b.check(var_type)?);
                if ta.is_numeric() != tb.is_numeric() {
                    return Err(format!("cannot compare a string with a number in `{self}`"));
                }
                ExprType::Bool
            }
            Expr::Arith(op, a, b) => {
                let (ta, tb) = (a.check(var_type)?, b.check(var_type)?);
                if !ta.is_numeric() || !tb.is_numeric() {
                    return Err(format!("arithmetic on a string in `{self}`"));
                }
                if *op == ArithOp::Div || ta == ExprType::Float || tb == ExprType::Float {
                    ExprType::Float
                } else {
                    ExprType::Int
                }
            }
        })
    }

    /// Evaluates a type-checked expression (see [`Expr::check`]); `var` gives each variable's
    /// defaulted value.
    pub fn eval(&self, var: &dyn Fn(&str) -> Value) -> Value {
        match self {
            Expr::Var(n) => var(n),
            Expr::Int(i) => Value::Int(*i),
            Expr::Float(f) => Value::Float(*f),
            Expr::Str(s) => Value::Str(s.clone()),
            Expr::Neg(e) => match e.eval(var) {
                Value::Float(f) => Value::Float(-f),
                v => Value::Int(v.as_i64().unwrap_or(0).wrapping_neg()),
            },
            Expr::Not(e) => Value::Bool(!e.eval(var).truthy()),
            Expr::And(a, b) => Value::Bool(a.eval(var).truthy() && b.eval(var).truthy()),
            Expr::Or(a, b) => Value::Bool(a.eval(var).truthy() || b.eval(var).truthy()),
            Expr::Cmp(op, a, b) => {
                let (a, b) = (a.eval(var), b.eval(var));
                let ord = match (&a, &b) {
                    (Value::Str(x), Value::Str(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
                    _ => match (a.as_i64(), b.as_i64()) {
                        (Some(x), Some(y)) => Some(x.cmp(&y)),
                        _ => a.as_f64().partial_cmp(&b.as_f64()),
                    },
                };
                use std::cmp::Ordering::{Equal, Greater, Less};
                Value::Bool(match (op, ord) {
                    (CmpOp::Ne, None) => true,
                    (_, None) => false,
                    (CmpOp::Eq, Some(o)) => o == Equal,
                    (CmpOp::Ne, Some(o)) => o != Equal,
                    (CmpOp::Lt, Some(o)) => o == Less,
                    (CmpOp::Le, Some(o)) => o != Greater,
                    (CmpOp::Gt, Some(o)) => o == Greater,
                    (CmpOp::Ge, Some(o)) => o != Less,
                })
            }
            Expr::Arith(op, a, b) => {
                let (a, b) = (a.eval(var), b.eval(var));
                if *op != ArithOp::Div {
                    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
                        return Value::Int(match op {
                            ArithOp::Add => x.wrapping_add(y),
                            ArithOp::Sub => x.wrapping_sub(y),
                            _ => x.wrapping_mul(y),
                        });
                    }
                }
                let (x, y) = (a.as_f64(), b.as_f64());
                Value::Float(match op {
                    ArithOp::Add => x + y,
                    ArithOp::Sub => x - y,
                    ArithOp::Mul => x * y,
                    ArithOp::Div => x / y,
                })
            }
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Var(n) => f.write_str(n),
            Expr::Int(i) => write!(f, "{i}"),
            Expr::Float(x) => write!(f, "{x:?}"),
            Expr::Str(s) => write!(f, "{s:?}"),
            Expr::Neg(e) => write!(f, "-{e}"),
            Expr::Not(e) => write!(f, "NOT {e}"),
            Expr::And(a, b) => write!(f, "({a} AND {b})"),
            Expr::Or(a, b) => write!(f, "({a} OR {b})"),
            Expr::Cmp(op, a, b) => {
                let s = match op {
                    CmpOp::Eq => "=",
                    CmpOp::Ne => "!=",
                    CmpOp::Lt => "<",
                    CmpOp::Le => "<=",
                    CmpOp::Gt => ">",
                    CmpOp::Ge => ">=",
                };
                write!(f, "{a} {s} {b}")
            }
            Expr::Arith(op, a, b) => {
                let s = match op {
                    ArithOp::Add => "+",
                    ArithOp::Sub => "-",
                    ArithOp::Mul => "*",
                    ArithOp::Div => "/",
                };
                write!(f, "({a} {s} {b})")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Int(i64),
    Float(f64),
    Str(String),
    And,
    Or,
    Not,
    Op(&'static str),
    LParen,
    RParen,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Name(n) => write!(f, "name `{n}`"),
            Token::Int(i) => write!(f, "number `{i}`"),
            Token::Float(x) => write!(f, "number `{x}`"),
            Token::Str(s) => write!(f, "string {s:?}"),
            Token::And => f.write_str("`AND`"),
            Token::Or => f.write_str("`OR`"),
            Token::Not => f.write_str("`NOT`"),
            Token::Op(o) => write!(f, "`{o}`"),
            Token::LParen => f.write_str("`(`"),
            Token::RParen => f.write_str("`)`"),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            out.push(match word.to_ascii_uppercase().as_str() {
                "AND" => Token::And,
                "OR" => Token::Or,
                "NOT" => Token::Not,
                _ => Token::Name(word),
            });
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let num: String = chars[start..i].iter().collect();
            if num.contains('.') {
                out.push(Token::Float(
                    num.parse().map_err(|_| format!("invalid number `{num}`"))?,
                ));
            } else {
                out.push(Token::Int(
                    num.parse().map_err(|_| format!("invalid number `{num}`"))?,
                ));
            }
        } else if c == '\'' || c == '"' {
            let start = i + 1;
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += 1;
            }
            if i >= chars.len() {
                return Err("unterminated string".to_string());
            }
            out.push(Token::Str(chars[start..i].iter().collect()));
            i += 1;
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let op = match two.as_str() {
                "!=" => Some("!="),
                "<=" => Some("<="),
                ">=" => Some(">="),
                "<>" => Some("!="),
                _ => None,
            };
            if let Some(op) = op {
                out.push(Token::Op(op));
                i += 2;
                continue;
            }
            out.push(match c {
                '(' => Token::LParen,
                ')' => Token::RParen,
                '=' => Token::Op("="),
                '<' => Token::Op("<"),
                '>' => Token::Op(">"),
                '+' => Token::Op("+"),
                '-' => Token::Op("-"),
                '*' => Token::Op("*"),
                '/' => Token::Op("/"),
                _ => return Err(format!("unexpected character `{c}`")),
            });
            i += 1;
        }
    }
    Ok(out)
}

struct ExprParser {
    tokens: Vec<Token>,
    pos: usize,
}

impl ExprParser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn eat(&mut self, t: &Token) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut e = self.and()?;
        while self.eat(&Token::Or) {
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut e = self.not()?;
        while self.eat(&Token::And) {
            e = Expr::And(Box::new(e), Box::new(self.not()?));
        }
        Ok(e)
    }

    fn not(&mut self) -> Result<Expr, String> {
        if self.eat(&Token::Not) {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Expr, String> {
        let a = self.sum()?;
        let op = match self.peek() {
            Some(Token::Op("=")) => CmpOp::Eq,
            Some(Token::Op("!=")) => CmpOp::Ne,
            Some(Token::Op("<")) => CmpOp::Lt,
            Some(Token::Op("<=")) => CmpOp::Le,
            Some(Token::Op(">")) => CmpOp::Gt,
            Some(Token::Op(">=")) => CmpOp::Ge,
            _ => return Ok(a),
        };
        self.pos += 1;
        let b = self.sum()?;
        Ok(Expr::Cmp(op, Box::new(a), Box::new(b)))
    }

    fn sum(&mut self) -> Result<Expr, String> {
        let mut e = self.term()?;
        loop {
            let op = match self.peek() {
                Some(Token::Op("+")) => ArithOp::Add,
                Some(Token::Op("-")) => ArithOp::Sub,
                _ => return Ok(e),
            };
            self.pos += 1;
            e = Expr::Arith(op, Box::new(e), Box::new(self.term()?));
        }
    }

    fn term(&mut self) -> Result<Expr, String> {
        let mut e = self.unary()?;
        loop {
            let op = match self.peek() {
                Some(Token::Op("*")) => ArithOp::Mul,
                Some(Token::Op("/")) => ArithOp::Div,
                _ => return Ok(e),
            };
            self.pos += 1;
            e = Expr::Arith(op, Box::new(e), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.eat(&Token::Op("-")) {
            return Ok(match self.unary()? {
                Expr::Int(i) => Expr::Int(i.wrapping_neg()),
                Expr::Float(f) => Expr::Float(-f),
                e => Expr::Neg(Box::new(e)),
            });
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Token::Name(n)) => Ok(Expr::Var(n)),
            Some(Token::Int(i)) => Ok(Expr::Int(i)),
            Some(Token::Float(f)) => Ok(Expr::Float(f)),
            Some(Token::Str(s)) => Ok(Expr::Str(s)),
            Some(Token::LParen) => {
                let e = self.or()?;
                if self.eat(&Token::RParen) {
                    Ok(e)
                } else {
                    Err(match self.peek() {
                        Some(t) => format!("expected `)` but found {t}"),
                        None => "missing `)`".to_string(),
                    })
                }
            }
            Some(t) => Err(format!("unexpected {t}")),
            None => Err("unexpected end of expression".to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(n: &str) -> Option<ExprType> {
        match n {
            "age" => Some(ExprType::Int),
            "sex" => Some(ExprType::Str),
            "flag" => Some(ExprType::Bool),
            "bmi" => Some(ExprType::Float),
            _ => None,
        }
    }

    fn env(n: &str) -> Value {
        match n {
            "age" => Value::Int(42),
            "sex" => Value::Str("F".into()),
            "flag" => Value::Bool(true),
            "bmi" => Value::Float(22.5),
            _ => Value::Int(0),
        }
    }

    fn run(text: &str) -> Value {
        let e = Expr::parse(text).unwrap();
        e.check(&types).unwrap();
        e.eval(&env)
    }

    #[test]
    fn precedence_and_keywords() {
        assert_eq!(run("age >= 0 AND age < 20"), Value::Bool(false));
        assert_eq!(run("age >= 40 and age < 50"), Value::Bool(true));
        assert_eq!(run("NOT age > 50 OR sex = 'M'"), Value::Bool(true));
        assert_eq!(run("not (age > 40 or sex = \"M\")"), Value::Bool(false));
        assert_eq!(run("age + 2 * 3"), Value::Int(48));
        assert_eq!(run("(age + 2) * 3"), Value::Int(132));
        assert_eq!(run("age / 4"), Value::Float(10.5));
        assert_eq!(run("age - -2"), Value::Int(44));
        assert_eq!(run("bmi >= 22.5"), Value::Bool(true));
        assert_eq!(run("flag + 1"), Value::Int(2));
        assert_eq!(run("flag AND sex"), Value::Bool(true));
        assert_eq!(run("sex != 'F'"), Value::Bool(false));
        assert_eq!(run("sex < 'M'"), Value::Bool(true));
    }

    #[test]
    fn names_in_order_of_use() {
        let e = Expr::parse("age > 1 AND (sex = 'F' OR age < 3) AND flag").unwrap();
        assert_eq!(e.names(), vec!["age", "sex", "flag"]);
    }

    #[test]
    fn type_errors() {
        let check = |t: &str| Expr::parse(t).unwrap().check(&types).unwrap_err();
        assert!(check("sex > 3").contains("cannot compare a string with a number"));
        assert!(check("age = 'x'").contains("cannot compare a string with a number"));
        assert!(check("sex + 1").contains("arithmetic on a string"));
        assert_eq!(check("agee > 1"), "unknown variable `agee`");
    }

    #[test]
    fn syntax_errors() {
        for bad in [
            "age >", "(age > 1", "age > 1)", "age # 1", "'open", "AND age", "",
        ] {
            let err = Expr::parse(bad).unwrap_err();
            assert!(err.starts_with("in expression"), "{bad}: {err}");
        }
    }
}
