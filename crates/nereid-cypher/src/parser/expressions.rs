//! Expressions: a Pratt loop over binding powers (see the module docs of `parser` for the
//! levels), and the atoms: literals, lists, maps, CASE, comprehensions, quantifiers,
//! function calls, subqueries, pattern predicates.

use nereid_common::ErrorCode;

use super::*;
use crate::lexer::TokenKind;

// Binding powers, loosest first (openCypher 9 grammar, `Cypher.g4`).
const BP_OR: u8 = 1;
const BP_XOR: u8 = 2;
const BP_AND: u8 = 3;
const BP_NOT: u8 = 4;
const BP_COMPARISON: u8 = 5;
/// STARTS WITH, ENDS WITH, CONTAINS, =~, IN, IS [NOT] NULL.
const BP_PREDICATE: u8 = 6;
const BP_ADD: u8 = 7;
const BP_MUL: u8 = 8;
const BP_POW: u8 = 9;
/// Operand of unary `+`/`-`: no infix operator binds this tightly.
const BP_UNARY: u8 = 10;

#[derive(Clone, Copy)]
enum Infix {
    Binary(BinaryOp, u8),
    Comparison(BinaryOp),
    IsNull,
}

impl Infix {
    fn bp(self) -> u8 {
        match self {
            Infix::Binary(_, bp) => bp,
            Infix::Comparison(_) => BP_COMPARISON,
            Infix::IsNull => BP_PREDICATE,
        }
    }
}

impl Parser<'_> {
    /// An expression where a pattern predicate may not stand.
    pub(super) fn expr(&mut self) -> PResult<Expr> {
        self.expr_in(false)
    }

    /// A WHERE-like expression: pattern predicates allowed at its boolean top level.
    pub(super) fn predicate_expr(&mut self) -> PResult<Expr> {
        self.expr_in(true)
    }

    pub(super) fn expr_in(&mut self, pattern_ctx: bool) -> PResult<Expr> {
        let saved = std::mem::replace(&mut self.pattern_ctx, pattern_ctx);
        let result = self.expr_bp(0);
        self.pattern_ctx = saved;
        result
    }

    /// Parses an operand of a non-boolean operator: no pattern predicate there.
    fn operand(&mut self, min_bp: u8) -> PResult<Expr> {
        let saved = std::mem::replace(&mut self.pattern_ctx, false);
        let result = self.expr_bp(min_bp);
        self.pattern_ctx = saved;
        result
    }

    pub(super) fn binary(op: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
        let span = lhs.span.to(rhs.span);
        Expr::new(ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span)
    }

    /// The infix operator at the current token, if any (not consumed).
    fn infix_op(&self) -> Option<Infix> {
        use TokenKind as T;
        Some(match self.peek() {
            T::Word(w) => {
                let is = |kw: &str| w.eq_ignore_ascii_case(kw);
                if is("OR") {
                    Infix::Binary(BinaryOp::Or, BP_OR)
                } else if is("XOR") {
                    Infix::Binary(BinaryOp::Xor, BP_XOR)
                } else if is("AND") {
                    Infix::Binary(BinaryOp::And, BP_AND)
                } else if is("STARTS") && self.is_kw_at(1, "WITH") {
                    Infix::Binary(BinaryOp::StartsWith, BP_PREDICATE)
                } else if is("ENDS") && self.is_kw_at(1, "WITH") {
                    Infix::Binary(BinaryOp::EndsWith, BP_PREDICATE)
                } else if is("CONTAINS") {
                    Infix::Binary(BinaryOp::Contains, BP_PREDICATE)
                } else if is("IN") {
                    Infix::Binary(BinaryOp::In, BP_PREDICATE)
                } else if is("IS") {
                    Infix::IsNull
                } else {
                    return None;
                }
            }
            T::RegexEq => Infix::Binary(BinaryOp::RegexMatch, BP_PREDICATE),
            T::Plus => Infix::Binary(BinaryOp::Add, BP_ADD),
            T::Minus => Infix::Binary(BinaryOp::Sub, BP_ADD),
            T::Star => Infix::Binary(BinaryOp::Mul, BP_MUL),
            T::Slash => Infix::Binary(BinaryOp::Div, BP_MUL),
            T::Percent => Infix::Binary(BinaryOp::Mod, BP_MUL),
            T::Caret => Infix::Binary(BinaryOp::Pow, BP_POW),
            kind => Infix::Comparison(comparison_op(kind)?),
        })
    }

    /// Pratt loop: parses an expression whose infix operators all bind at least as tightly
    /// as `min_bp`. All binary operators are left-associative, so a right operand is parsed
    /// with `bp + 1`; a chain such as `a + b + c` is a loop, not recursion.
    pub(super) fn expr_bp(&mut self, min_bp: u8) -> PResult<Expr> {
        self.deepen()?;
        let result = self.expr_bp_inner(min_bp);
        self.depth -= 1;
        result
    }

    fn expr_bp_inner(&mut self, min_bp: u8) -> PResult<Expr> {
        let base = self.depth;
        let mut lhs = self.prefix_expr(min_bp)?;
        while let Some(op) = self.infix_op() {
            if op.bp() < min_bp {
                break;
            }
            // Each operator in a chain nests the left operand one level deeper in the tree.
            self.deepen()?;
            match op {
                Infix::Binary(op, bp) => {
                    self.bump();
                    if matches!(op, BinaryOp::StartsWith | BinaryOp::EndsWith) {
                        self.bump();
                    }
                    let rhs = if matches!(op, BinaryOp::Or | BinaryOp::Xor | BinaryOp::And) {
                        // Operands of the boolean operators keep the pattern-predicate context.
                        self.expr_bp(bp + 1)?
                    } else {
                        self.operand(bp + 1)?
                    };
                    lhs = Self::binary(op, lhs, rhs);
                }
                Infix::IsNull => {
                    self.bump();
                    let not = self.eat_kw("NOT");
                    let end = self.expect_kw("NULL")?.end;
                    let span = Span::new(lhs.span.start, end);
                    let kind = if not {
                        ExprKind::IsNotNull(Box::new(lhs))
                    } else {
                        ExprKind::IsNull(Box::new(lhs))
                    };
                    lhs = Expr::new(kind, span);
                }
                Infix::Comparison(first_op) => {
                    // `a < b <= c` is one chain, not `(a < b) <= c`.
                    self.bump();
                    let mut rest = vec![(first_op, self.operand(BP_COMPARISON + 1)?)];
                    while let Some(op) = comparison_op(self.peek()) {
                        self.bump();
                        rest.push((op, self.operand(BP_COMPARISON + 1)?));
                    }
                    lhs = if rest.len() == 1 {
                        match rest.pop() {
                            Some((op, rhs)) => Self::binary(op, lhs, rhs),
                            None => lhs,
                        }
                    } else {
                        let end = rest.last().map_or(lhs.span.end, |(_, e)| e.span.end);
                        let span = Span::new(lhs.span.start, end);
                        Expr::new(ExprKind::Comparison(Box::new(lhs), rest), span)
                    };
                }
            }
        }
        self.depth = base;
        Ok(lhs)
    }

    /// `NOT`, unary `+`/`-`, or a postfix expression.
    fn prefix_expr(&mut self, min_bp: u8) -> PResult<Expr> {
        // NOT binds looser than comparisons (`NOT a = b` is `NOT (a = b)`) and cannot stand
        // as an operand of a tighter operator (`1 + NOT x` is a syntax error).
        if min_bp <= BP_NOT && self.is_kw("NOT") {
            let start = self.bump().span.start;
            let operand = self.expr_bp(BP_NOT)?;
            let span = Span::new(start, operand.span.end);
            return Ok(Expr::new(
                ExprKind::Unary(UnaryOp::Not, Box::new(operand)),
                span,
            ));
        }
        let op = match self.peek() {
            TokenKind::Minus => UnaryOp::Neg,
            TokenKind::Plus => UnaryOp::Plus,
            _ => return self.postfix_expr(),
        };
        let start = self.bump().span.start;
        // `-` directly on a number literal is folded into a negative literal: that is the
        // only way to write i64::MIN (`-9223372036854775808`), and it lets the engine see
        // `LIMIT -1` as a constant. Not when a postfix follows: `-1[0]` is `-(1[0])`.
        let postfix_follows = matches!(
            self.peek_at(1),
            TokenKind::Dot | TokenKind::LBracket | TokenKind::Colon
        );
        if op == UnaryOp::Neg && !postfix_follows {
            match self.peek().clone() {
                TokenKind::Integer(value) => {
                    let token = self.bump();
                    let span = Span::new(start, token.span.end);
                    return match value {
                        Some(v) if v <= 1u64 << 63 => {
                            let n = (-i128::from(v)) as i64;
                            Ok(Expr::new(ExprKind::Literal(Literal::Integer(n)), span))
                        }
                        _ => Err(self.integer_overflow(span)),
                    };
                }
                TokenKind::Float(v) => {
                    let token = self.bump();
                    let span = Span::new(start, token.span.end);
                    if v.is_infinite() {
                        return Err(self.float_overflow(span));
                    }
                    return Ok(Expr::new(ExprKind::Literal(Literal::Float(-v)), span));
                }
                _ => {}
            }
        }
        // Unary minus binds tighter than `^`: `-2 ^ 2` is `(-2) ^ 2`.
        let operand = self.operand(BP_UNARY)?;
        let span = Span::new(start, operand.span.end);
        Ok(Expr::new(ExprKind::Unary(op, Box::new(operand)), span))
    }

    pub(super) fn integer_overflow(&self, span: Span) -> SyntaxError {
        self.error_at(
            ErrorCode::IntegerOverflow,
            format!(
                "Integer literal '{}' is too large for a 64-bit integer",
                &self.text[span.start..span.end]
            ),
            span.start,
        )
    }

    pub(super) fn float_overflow(&self, span: Span) -> SyntaxError {
        self.error_at(
            ErrorCode::FloatingPointOverflow,
            format!(
                "Float literal '{}' is too large for a 64-bit float",
                &self.text[span.start..span.end]
            ),
            span.start,
        )
    }

    pub(super) fn postfix_expr(&mut self) -> PResult<Expr> {
        let mut expr = self.atom()?;
        let base = self.depth;
        loop {
            if matches!(
                self.peek(),
                TokenKind::Dot | TokenKind::LBracket | TokenKind::Colon
            ) {
                self.deepen()?;
            }
            match self.peek() {
                TokenKind::Dot => {
                    self.bump();
                    let key = self.schema_name("a property key name")?;
                    let span = expr.span.to(key.span);
                    expr = Expr::new(ExprKind::Property(Box::new(expr), key), span);
                }
                TokenKind::LBracket => {
                    self.bump();
                    let kind = self.index_or_slice(expr)?;
                    let end = self.expect(&TokenKind::RBracket)?.end;
                    let span = Span::new(kind.1, end);
                    expr = Expr::new(kind.0, span);
                }
                TokenKind::Colon => {
                    let labels = self.labels()?;
                    let span = Span::new(expr.span.start, self.prev_end());
                    expr = Expr::new(ExprKind::HasLabels(Box::new(expr), labels), span);
                    // openCypher allows labels only at the end of a postfix chain.
                    break;
                }
                _ => break,
            }
        }
        self.depth = base;
        Ok(expr)
    }

    /// After `[`: `index]`, `from..to]`, `..to]`, `from..]`. Returns the kind and the start
    /// offset of the whole expression.
    pub(super) fn index_or_slice(&mut self, target: Expr) -> PResult<(ExprKind, usize)> {
        let start = target.span.start;
        let target = Box::new(target);
        if self.eat(&TokenKind::DotDot) {
            let to = self.opt_slice_bound()?;
            return Ok((ExprKind::Slice(target, None, to), start));
        }
        let index = self.expr()?;
        if self.eat(&TokenKind::DotDot) {
            let to = self.opt_slice_bound()?;
            return Ok((ExprKind::Slice(target, Some(Box::new(index)), to), start));
        }
        Ok((ExprKind::Index(target, Box::new(index)), start))
    }

    pub(super) fn opt_slice_bound(&mut self) -> PResult<Option<Box<Expr>>> {
        if self.at(&TokenKind::RBracket) {
            Ok(None)
        } else {
            Ok(Some(Box::new(self.expr()?)))
        }
    }

    pub(super) fn atom(&mut self) -> PResult<Expr> {
        let start = self.span().start;
        let literal = |kind, p: &Self| Ok(Expr::new(ExprKind::Literal(kind), p.since(start)));
        match self.peek().clone() {
            TokenKind::Integer(value) => {
                let token = self.bump();
                match value.and_then(|v| i64::try_from(v).ok()) {
                    Some(v) => literal(Literal::Integer(v), self),
                    None => Err(self.integer_overflow(token.span)),
                }
            }
            TokenKind::Float(v) => {
                let token = self.bump();
                if v.is_infinite() {
                    return Err(self.float_overflow(token.span));
                }
                literal(Literal::Float(v), self)
            }
            TokenKind::BadNumber => {
                let span = self.span();
                Err(self.error_at(
                    ErrorCode::InvalidNumberLiteral,
                    format!(
                        "Invalid number literal '{}'",
                        &self.text[span.start..span.end]
                    ),
                    span.start,
                ))
            }
            TokenKind::Str(s) => {
                self.bump();
                literal(Literal::String(s), self)
            }
            TokenKind::Parameter(name) => {
                self.bump();
                Ok(Expr::new(ExprKind::Parameter(name), self.since(start)))
            }
            TokenKind::LBracket => self.list_like(),
            TokenKind::LBrace => self.map_literal(),
            TokenKind::LParen => self.paren_or_pattern(),
            TokenKind::Word(word) => self.word_atom(&word),
            TokenKind::Quoted(_) => {
                if self.is_function_call_ahead() {
                    return self.function_call();
                }
                if matches!(self.peek_at(1), TokenKind::LBrace) {
                    return self.map_projection();
                }
                let v = self.variable()?;
                Ok(Expr::new(ExprKind::Variable(v.name), v.span))
            }
            _ => {
                self.note("an expression");
                Err(self.error_here())
            }
        }
    }

    pub(super) fn word_atom(&mut self, word: &str) -> PResult<Expr> {
        let start = self.span().start;
        let upper = word.to_ascii_uppercase();
        let next = self.peek_at(1).clone();
        match upper.as_str() {
            "TRUE" | "FALSE" | "NULL" => {
                self.bump();
                let lit = match upper.as_str() {
                    "TRUE" => Literal::Bool(true),
                    "FALSE" => Literal::Bool(false),
                    _ => Literal::Null,
                };
                return Ok(Expr::new(ExprKind::Literal(lit), self.since(start)));
            }
            "CASE" => return self.case_expr(),
            "COUNT"
                if matches!(next, TokenKind::LParen)
                    && matches!(self.peek_at(2), TokenKind::Star)
                    && matches!(self.peek_at(3), TokenKind::RParen) =>
            {
                for _ in 0..4 {
                    self.bump();
                }
                return Ok(Expr::new(ExprKind::CountStar, self.since(start)));
            }
            "ALL" | "ANY" | "NONE" | "SINGLE"
                if matches!(next, TokenKind::LParen)
                    && self.is_variable_at(2)
                    && self.is_kw_at(3, "IN") =>
            {
                let quantifier = match upper.as_str() {
                    "ALL" => Quantifier::All,
                    "ANY" => Quantifier::Any,
                    "NONE" => Quantifier::None,
                    _ => Quantifier::Single,
                };
                return self.quantified(quantifier);
            }
            "REDUCE" if matches!(next, TokenKind::LParen) => {
                return self.reduce();
            }
            "EXISTS" if matches!(next, TokenKind::LBrace) => {
                return self.exists_subquery();
            }
            "COUNT" if matches!(next, TokenKind::LBrace) => {
                return self.count_subquery();
            }
            "COLLECT" if matches!(next, TokenKind::LBrace) => {
                return self.collect_subquery();
            }
            _ => {}
        }
        if self.is_function_call_ahead() {
            return self.function_call();
        }
        if matches!(next, TokenKind::LBrace) && !is_reserved(word) {
            return self.map_projection();
        }
        if is_reserved(word) {
            self.note("an expression");
            return Err(self.error_here());
        }
        let v = self.variable()?;
        Ok(Expr::new(ExprKind::Variable(v.name), v.span))
    }

    /// `name(.name)* (` ahead?
    pub(super) fn is_function_call_ahead(&self) -> bool {
        let mut n = 0;
        loop {
            if !self.is_name_at(n) {
                return false;
            }
            match self.peek_at(n + 1) {
                TokenKind::LParen => return true,
                TokenKind::Dot => n += 2,
                _ => return false,
            }
        }
    }

    pub(super) fn function_call(&mut self) -> PResult<Expr> {
        let start = self.span().start;
        let mut name = vec![self.schema_name("a function name")?];
        while self.eat(&TokenKind::Dot) {
            name.push(self.schema_name("a function name")?);
        }
        self.expect(&TokenKind::LParen)?;
        let distinct = self.eat_kw("DISTINCT");
        // exists(pattern) tests a pattern: the one call whose argument may be a pattern
        // predicate.
        let pattern_arg = name.len() == 1 && name[0].name.eq_ignore_ascii_case("exists");
        let mut args = Vec::new();
        if !self.at(&TokenKind::RParen) {
            loop {
                args.push(self.expr_in(pattern_arg)?);
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
        }
        self.expect(&TokenKind::RParen)?;
        Ok(Expr::new(
            ExprKind::FunctionCall {
                name,
                distinct,
                args,
            },
            self.since(start),
        ))
    }

    pub(super) fn case_expr(&mut self) -> PResult<Expr> {
        let start = self.bump().span.start;
        let operand = if self.is_kw("WHEN") {
            None
        } else {
            Some(Box::new(self.expr()?))
        };
        let mut whens = Vec::new();
        while self.eat_kw("WHEN") {
            // A generic CASE tests a boolean, where a pattern predicate may stand; a simple
            // CASE compares values.
            let condition = self.expr_in(operand.is_none())?;
            self.expect_kw("THEN")?;
            let value = self.expr()?;
            whens.push((condition, value));
        }
        if whens.is_empty() {
            return Err(self.error_here());
        }
        let else_ = if self.eat_kw("ELSE") {
            Some(Box::new(self.expr()?))
        } else {
            None
        };
        self.expect_kw("END")?;
        Ok(Expr::new(
            ExprKind::Case {
                operand,
                whens,
                else_,
            },
            self.since(start),
        ))
    }

    pub(super) fn quantified(&mut self, quantifier: Quantifier) -> PResult<Expr> {
        let start = self.bump().span.start;
        self.bump(); // (
        let variable = self.variable()?;
        self.expect_kw("IN")?;
        let list = Box::new(self.expr()?);
        let where_ = self.opt_where()?.map(Box::new);
        self.expect(&TokenKind::RParen)?;
        Ok(Expr::new(
            ExprKind::Quantified {
                quantifier,
                variable,
                list,
                where_,
            },
            self.since(start),
        ))
    }

    pub(super) fn reduce(&mut self) -> PResult<Expr> {
        let start = self.bump().span.start;
        self.bump(); // (
        let accumulator = self.variable()?;
        self.expect(&TokenKind::Eq)?;
        let init = Box::new(self.expr()?);
        self.expect(&TokenKind::Comma)?;
        let variable = self.variable()?;
        self.expect_kw("IN")?;
        let list = Box::new(self.expr()?);
        self.expect(&TokenKind::Pipe)?;
        let expr = Box::new(self.expr()?);
        self.expect(&TokenKind::RParen)?;
        Ok(Expr::new(
            ExprKind::Reduce {
                accumulator,
                init,
                variable,
                list,
                expr,
            },
            self.since(start),
        ))
    }

    pub(super) fn exists_subquery(&mut self) -> PResult<Expr> {
        let start = self.bump().span.start;
        let body = self.subquery_body()?;
        Ok(Expr::new(
            ExprKind::ExistsSubquery(Box::new(body)),
            self.since(start),
        ))
    }

    pub(super) fn count_subquery(&mut self) -> PResult<Expr> {
        let start = self.bump().span.start;
        let body = self.subquery_body()?;
        Ok(Expr::new(
            ExprKind::CountSubquery(Box::new(body)),
            self.since(start),
        ))
    }

    /// `COLLECT { query }`: always a whole query (it must RETURN the collected column).
    pub(super) fn collect_subquery(&mut self) -> PResult<Expr> {
        let start = self.bump().span.start;
        self.bump(); // {
        let query = self.query()?;
        self.expect(&TokenKind::RBrace)?;
        Ok(Expr::new(
            ExprKind::CollectSubquery(Box::new(query)),
            self.since(start),
        ))
    }

    /// `{ query }` or `{ pattern [WHERE …] }` after EXISTS or COUNT.
    fn subquery_body(&mut self) -> PResult<ExistsBody> {
        self.bump(); // {
        let body = if self.at_clause_start() {
            ExistsBody::Query(self.query()?)
        } else {
            let pattern = self.pattern()?;
            let where_ = self.opt_where()?;
            ExistsBody::Pattern { pattern, where_ }
        };
        self.expect(&TokenKind::RBrace)?;
        Ok(body)
    }

    pub(super) fn map_projection(&mut self) -> PResult<Expr> {
        let start = self.span().start;
        let variable = self.variable()?;
        self.expect(&TokenKind::LBrace)?;
        let mut items = Vec::new();
        if !self.at(&TokenKind::RBrace) {
            loop {
                if self.eat(&TokenKind::Dot) {
                    if self.eat(&TokenKind::Star) {
                        items.push(MapProjectionItem::AllProperties);
                    } else {
                        items.push(MapProjectionItem::Property(
                            self.schema_name("a property key name")?,
                        ));
                    }
                } else if self.is_name_at(0) && matches!(self.peek_at(1), TokenKind::Colon) {
                    let key = self.schema_name("a property key name")?;
                    self.bump();
                    let value = self.expr()?;
                    items.push(MapProjectionItem::Literal { key, value });
                } else {
                    items.push(MapProjectionItem::Variable(self.variable()?));
                }
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
        }
        self.expect(&TokenKind::RBrace)?;
        Ok(Expr::new(
            ExprKind::MapProjection { variable, items },
            self.since(start),
        ))
    }

    pub(super) fn map_literal(&mut self) -> PResult<Expr> {
        let start = self.expect(&TokenKind::LBrace)?.start;
        let mut entries = Vec::new();
        if !self.at(&TokenKind::RBrace) {
            loop {
                let key = self.schema_name("a property key name")?;
                self.expect(&TokenKind::Colon)?;
                let value = self.expr()?;
                entries.push((key, value));
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
        }
        self.expect(&TokenKind::RBrace)?;
        Ok(Expr::new(ExprKind::Map(entries), self.since(start)))
    }

    /// After `(`: a pattern predicate `(a)-->(b)` or a parenthesised expression.
    pub(super) fn paren_or_pattern(&mut self) -> PResult<Expr> {
        let start = self.span().start;
        let pattern_error = match self.try_relationship_pattern() {
            Ok(element) => {
                let span = element.span;
                // A pattern predicate is a boolean test: it may not be the operand of a
                // non-boolean operator or stand where a value is produced.
                if !self.pattern_ctx || self.operator_follows() {
                    return Err(self.error_at(ErrorCode::UnexpectedSyntax, PATTERN_MISUSE, start));
                }
                return Ok(Expr::new(
                    ExprKind::PatternPredicate(Box::new(element)),
                    span,
                ));
            }
            Err(e) => e,
        };
        // The parenthesised expression keeps the boolean context: `WHERE ((a)-->())`.
        let result = self.paren_expr(start);
        // Report whichever reading got further into the text.
        result.map_err(|e| {
            if pattern_error.offset > e.offset {
                pattern_error
            } else {
                e
            }
        })
    }

    pub(super) fn paren_expr(&mut self, start: usize) -> PResult<Expr> {
        self.bump();
        let mut inner = self.expr_bp(0)?;
        let end = self.expect(&TokenKind::RParen)?.end;
        // The span covers the parentheses: it is the column name of `RETURN (1 + 2)`.
        inner.span = Span::new(start, end);
        Ok(inner)
    }

    pub(super) fn operator_follows(&self) -> bool {
        use TokenKind as T;
        match self.peek() {
            T::Dot
            | T::LBracket
            | T::Colon
            | T::Plus
            | T::Minus
            | T::Star
            | T::Slash
            | T::Percent
            | T::Caret
            | T::Eq
            | T::Ne
            | T::Lt
            | T::Le
            | T::Gt
            | T::Ge
            | T::RegexEq => true,
            T::Word(w) => ["STARTS", "ENDS", "CONTAINS", "IN", "IS"]
                .iter()
                .any(|k| k.eq_ignore_ascii_case(w)),
            _ => false,
        }
    }

    /// After `[`: list comprehension, pattern comprehension or list literal.
    pub(super) fn list_like(&mut self) -> PResult<Expr> {
        let start = self.span().start;
        if self.is_variable_at(1) && self.is_kw_at(2, "IN") {
            self.bump();
            let variable = self.variable()?;
            self.bump(); // IN
            let list = Box::new(self.expr()?);
            let where_ = self.opt_where()?.map(Box::new);
            let map = if self.eat(&TokenKind::Pipe) {
                Some(Box::new(self.expr()?))
            } else {
                None
            };
            self.expect(&TokenKind::RBracket)?;
            return Ok(Expr::new(
                ExprKind::ListComprehension {
                    variable,
                    list,
                    where_,
                    map,
                },
                self.since(start),
            ));
        }
        let named = self.is_variable_at(1)
            && matches!(self.peek_at(2), TokenKind::Eq)
            && matches!(self.peek_at(3), TokenKind::LParen);
        if named || matches!(self.peek_at(1), TokenKind::LParen) {
            let mark = self.mark();
            self.bump();
            let variable = if named {
                let v = self.variable()?;
                self.bump();
                Some(v)
            } else {
                None
            };
            let element = self.try_relationship_pattern();
            match element {
                Ok(element) if self.is_kw("WHERE") || self.is(&TokenKind::Pipe) => {
                    let where_ = self.opt_where()?.map(Box::new);
                    self.expect(&TokenKind::Pipe)?;
                    let map = Box::new(self.expr()?);
                    self.expect(&TokenKind::RBracket)?;
                    return Ok(Expr::new(
                        ExprKind::PatternComprehension {
                            variable,
                            pattern: Box::new(element),
                            where_,
                            map,
                        },
                        self.since(start),
                    ));
                }
                _ => self.reset(mark),
            }
        }
        self.bump();
        let mut items = Vec::new();
        if !self.at(&TokenKind::RBracket) {
            loop {
                items.push(self.expr()?);
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
        }
        self.expect(&TokenKind::RBracket)?;
        Ok(Expr::new(ExprKind::List(items), self.since(start)))
    }
}
