//! Patterns: parts, elements, node and relationship patterns, length ranges.

use nereid_common::ErrorCode;

use super::*;
use crate::lexer::TokenKind;

impl Parser<'_> {
    pub(super) fn pattern(&mut self) -> PResult<Pattern> {
        let start = self.span().start;
        let mut parts = vec![self.pattern_part()?];
        while self.eat(&TokenKind::Comma) {
            parts.push(self.pattern_part()?);
        }
        Ok(Pattern {
            parts,
            span: self.since(start),
        })
    }

    pub(super) fn pattern_part(&mut self) -> PResult<PatternPart> {
        let start = self.span().start;
        let variable = if self.is_variable_at(0) && matches!(self.peek_at(1), TokenKind::Eq) {
            let v = self.variable()?;
            self.bump();
            Some(v)
        } else {
            None
        };
        let shortest = if self.is_kw("shortestPath") {
            Some(PathKind::ShortestPath)
        } else if self.is_kw("allShortestPaths") {
            Some(PathKind::AllShortestPaths)
        } else {
            None
        };
        let (kind, element) = match shortest {
            Some(kind) if matches!(self.peek_at(1), TokenKind::LParen) => {
                self.bump();
                self.bump();
                let element = self.pattern_element()?;
                self.expect(&TokenKind::RParen)?;
                (kind, element)
            }
            _ => (PathKind::Normal, self.pattern_element()?),
        };
        Ok(PatternPart {
            variable,
            kind,
            element,
            span: self.since(start),
        })
    }

    pub(super) fn pattern_element(&mut self) -> PResult<PatternElement> {
        // `((a)-->(b))`: a node pattern cannot start with `(`, so this is a parenthesised
        // element.
        if self.is(&TokenKind::LParen) && matches!(self.peek_at(1), TokenKind::LParen) {
            let start = self.bump().span.start;
            self.deepen()?;
            let element = self.pattern_element();
            self.depth -= 1;
            let mut element = element?;
            self.expect(&TokenKind::RParen)?;
            element.span = self.since(start);
            return Ok(element);
        }
        let start = self.span().start;
        let first = self.node_pattern()?;
        let mut chain = Vec::new();
        while self.is(&TokenKind::Minus) || self.is(&TokenKind::Lt) {
            let rel = self.rel_pattern()?;
            let node = self.node_pattern()?;
            chain.push((rel, node));
        }
        self.note("a relationship pattern");
        Ok(PatternElement {
            start: first,
            chain,
            span: self.since(start),
        })
    }

    pub(super) fn labels(&mut self) -> PResult<Vec<Name>> {
        let mut labels = Vec::new();
        while self.at_as(&TokenKind::Colon, "a label") {
            self.bump();
            labels.push(self.schema_name("a label name")?);
        }
        Ok(labels)
    }

    /// A map literal or a parameter, in a node or relationship pattern.
    pub(super) fn pattern_properties(&mut self) -> PResult<Option<Expr>> {
        match self.peek() {
            TokenKind::LBrace => Ok(Some(self.map_literal()?)),
            TokenKind::Parameter(_) => Ok(Some(self.atom()?)),
            _ => {
                self.note("a property map");
                Ok(None)
            }
        }
    }

    pub(super) fn node_pattern(&mut self) -> PResult<NodePattern> {
        let start = self.expect(&TokenKind::LParen)?.start;
        let variable = if self.is_variable_at(0) {
            Some(self.variable()?)
        } else {
            self.note("a variable name");
            None
        };
        let labels = self.labels()?;
        let properties = self.pattern_properties()?;
        self.expect(&TokenKind::RParen)?;
        Ok(NodePattern {
            variable,
            labels,
            properties,
            span: self.since(start),
        })
    }

    pub(super) fn rel_pattern(&mut self) -> PResult<RelPattern> {
        let start = self.span().start;
        let left = self.eat(&TokenKind::Lt);
        self.expect(&TokenKind::Minus)?;
        let mut variable = None;
        let mut types = Vec::new();
        let mut length = None;
        let mut properties = None;
        if self.at(&TokenKind::LBracket) {
            self.bump();
            if self.is_variable_at(0) {
                variable = Some(self.variable()?);
            } else {
                self.note("a variable name");
            }
            if self.at_as(&TokenKind::Colon, "a relationship type") {
                self.bump();
                types.push(self.schema_name("a relationship type name")?);
                while self.at(&TokenKind::Pipe) {
                    self.bump();
                    self.eat(&TokenKind::Colon);
                    types.push(self.schema_name("a relationship type name")?);
                }
            }
            if self.is(&TokenKind::DotDot) {
                return Err(self.error_at(
                    ErrorCode::InvalidRelationshipPattern,
                    "A variable-length relationship range must start with '*', as in [*1..3]",
                    self.span().start,
                ));
            }
            if self.at_as(&TokenKind::Star, "a length range ('*')") {
                self.bump();
                let min = self.range_bound()?;
                let max = if self.at(&TokenKind::DotDot) {
                    self.bump();
                    self.range_bound()?
                } else {
                    min
                };
                length = Some(LengthRange { min, max });
            }
            properties = self.pattern_properties()?;
            self.expect(&TokenKind::RBracket)?;
        }
        self.expect(&TokenKind::Minus)?;
        let right = self.eat(&TokenKind::Gt);
        let direction = match (left, right) {
            (true, false) => Direction::Incoming,
            (false, true) => Direction::Outgoing,
            _ => Direction::Both,
        };
        Ok(RelPattern {
            variable,
            direction,
            types,
            length,
            properties,
            span: self.since(start),
        })
    }

    pub(super) fn range_bound(&mut self) -> PResult<Option<u64>> {
        match self.peek() {
            TokenKind::Minus => Err(self.error_at(
                ErrorCode::InvalidRelationshipPattern,
                "A relationship length bound cannot be negative",
                self.span().start,
            )),
            TokenKind::Integer(Some(v)) => {
                let v = *v;
                self.bump();
                Ok(Some(v))
            }
            TokenKind::Integer(None) => Err(self.error_at(
                ErrorCode::IntegerOverflow,
                "The relationship length bound is too large",
                self.span().start,
            )),
            _ => {
                self.note("an integer");
                Ok(None)
            }
        }
    }

    /// Tries to parse a pattern element with at least one relationship at the current `(`.
    /// On failure the position is restored and the error returned (and memoised).
    pub(super) fn try_relationship_pattern(&mut self) -> Result<PatternElement, SyntaxError> {
        let at = self.pos;
        if let Some(err) = self.failed_patterns.get(&at) {
            return Err(err.clone());
        }
        let mark = self.mark();
        let result = self.pattern_element();
        match result {
            Ok(element) if !element.chain.is_empty() => Ok(element),
            other => {
                let err = match other {
                    Err(e) => e,
                    Ok(_) => self.error_at(
                        ErrorCode::UnexpectedSyntax,
                        "not a relationship pattern",
                        self.tokens[at].span.start,
                    ),
                };
                self.reset(mark);
                self.failed_patterns.insert(at, err.clone());
                Err(err)
            }
        }
    }
}
