//! Statements, hints, queries, UNION and the clauses.

use nereid_common::ErrorCode;

use super::*;
use crate::lexer::TokenKind;

impl Parser<'_> {
    pub(super) fn statement(&mut self) -> PResult<Statement> {
        if self.is(&TokenKind::Eof) {
            return Err(self.error_at(
                ErrorCode::UnexpectedSyntax,
                "Empty query: the request contains no Cypher statement",
                0,
            ));
        }
        let mut hints = Vec::new();
        while self.at_kw("USING") {
            hints.push(self.hint()?);
        }
        let mode = if self.eat_kw("EXPLAIN") {
            StatementMode::Explain
        } else if self.eat_kw("PROFILE") {
            StatementMode::Profile
        } else {
            StatementMode::Execute
        };
        let query = if (self.is_kw("CREATE") || self.is_kw("DROP")) && self.is_kw_at(1, "INDEX") {
            self.index_command()?
        } else {
            self.query()?
        };
        self.eat(&TokenKind::Semicolon);
        if !self.at(&TokenKind::Eof) {
            return Err(self.error_here());
        }
        Ok(Statement { hints, mode, query })
    }

    /// `CREATE INDEX [name] [IF NOT EXISTS] FOR (n:Label) ON (n.key)`,
    /// `CREATE INDEX ON :Label(key)` or `DROP INDEX ON :Label(key)`, as a one-clause query.
    fn index_command(&mut self) -> PResult<Query> {
        let start = self.span().start;
        let create = self.is_kw("CREATE");
        self.bump();
        self.expect_kw("INDEX")?;
        let (label, key) = if self.eat_kw("ON") {
            // Legacy form: ON :Label(key)
            self.expect(&TokenKind::Colon)?;
            let label = self.schema_name("a label")?;
            self.expect(&TokenKind::LParen)?;
            let key = self.schema_name("a property key")?;
            self.expect(&TokenKind::RParen)?;
            (label, key)
        } else {
            if !create {
                self.note("ON");
                return Err(self.error_here());
            }
            // Optional index name, then optional IF NOT EXISTS.
            if !self.is_kw("FOR") && !self.is_kw("IF") {
                self.schema_name("an index name")?;
            }
            if self.eat_kw("IF") {
                self.expect_kw("NOT")?;
                self.expect_kw("EXISTS")?;
            }
            self.expect_kw("FOR")?;
            self.expect(&TokenKind::LParen)?;
            let var = self.variable()?;
            self.expect(&TokenKind::Colon)?;
            let label = self.schema_name("a label")?;
            self.expect(&TokenKind::RParen)?;
            self.expect_kw("ON")?;
            self.expect(&TokenKind::LParen)?;
            let on = self.variable()?;
            if on.name != var.name {
                return Err(self.error_at(
                    ErrorCode::UndefinedVariable,
                    format!("Variable `{}` not defined", on.name),
                    on.span.start,
                ));
            }
            self.expect(&TokenKind::Dot)?;
            let key = self.schema_name("a property key")?;
            self.expect(&TokenKind::RParen)?;
            (label, key)
        };
        let span = self.since(start);
        Ok(Query {
            first: SingleQuery {
                clauses: vec![Clause {
                    kind: ClauseKind::Index(IndexCommand { create, label, key }),
                    span,
                }],
                span,
            },
            unions: Vec::new(),
            span,
        })
    }

    /// `USING QUERY:NAME value` (a Neptune query hint).
    pub(super) fn hint(&mut self) -> PResult<QueryHint> {
        let start = self.bump().span.start;
        self.expect_kw("QUERY")?;
        self.expect(&TokenKind::Colon)?;
        let name = match self.peek() {
            TokenKind::Word(_) => self.schema_name("a query hint name")?.name,
            _ => {
                self.note("a query hint name");
                return Err(self.error_here());
            }
        };
        let value = match self.peek().clone() {
            TokenKind::Integer(v) => {
                let token = self.bump();
                match v.and_then(|v| i64::try_from(v).ok()) {
                    Some(v) => HintValue::Integer(v),
                    None => {
                        return Err(self.error_at(
                            ErrorCode::IntegerOverflow,
                            "The query hint value is too large for a 64-bit integer",
                            token.span.start,
                        ))
                    }
                }
            }
            TokenKind::Str(s) => {
                self.bump();
                HintValue::String(s)
            }
            // A clause keyword is not a hint value: `USING QUERY:X RETURN 1` lacks one.
            TokenKind::Word(w) | TokenKind::Quoted(w) if self.is_variable_at(0) => {
                self.bump();
                HintValue::Identifier(w)
            }
            _ => {
                self.note("a query hint value (an integer, a string or a name)");
                return Err(self.error_here());
            }
        };
        Ok(QueryHint {
            name,
            value,
            span: self.since(start),
        })
    }

    pub(super) fn query(&mut self) -> PResult<Query> {
        let start = self.span().start;
        let first = self.single_query()?;
        let mut unions = Vec::new();
        while self.at_kw("UNION") {
            let union_start = self.bump().span.start;
            let all = self.eat_kw("ALL");
            let span = self.since(union_start);
            let query = self.single_query()?;
            unions.push(Union { all, query, span });
        }
        Ok(Query {
            first,
            unions,
            span: self.since(start),
        })
    }

    pub(super) fn at_clause_start(&self) -> bool {
        CLAUSE_STARTS.iter().any(|kw| self.is_kw(kw))
    }

    pub(super) fn single_query(&mut self) -> PResult<SingleQuery> {
        let start = self.span().start;
        let mut clauses = Vec::new();
        // Where a `YIELD *` was written, to reject it outside a standalone CALL.
        let mut yield_star_at = None;
        while self.at_clause_start() {
            let (clause, star) = self.clause()?;
            if star.is_some() {
                yield_star_at = star;
            }
            clauses.push(clause);
        }
        self.note(EXPECTED_CLAUSE);
        if clauses.is_empty() {
            return Err(self.error_here());
        }
        if let Some(offset) = yield_star_at {
            if clauses.len() > 1 {
                return Err(self.error_at(
                    ErrorCode::UnexpectedSyntax,
                    "YIELD * is only allowed in a standalone procedure call (a query that is only CALL ... YIELD *)",
                    offset,
                ));
            }
        }
        Ok(SingleQuery {
            clauses,
            span: self.since(start),
        })
    }

    /// One clause; also returns the offset of a `YIELD *` in a CALL.
    pub(super) fn clause(&mut self) -> PResult<(Clause, Option<usize>)> {
        let start = self.span().start;
        let mut yield_star = None;
        let kind = if self.is_kw("MATCH") || self.is_kw("OPTIONAL") {
            ClauseKind::Match(self.match_clause()?)
        } else if self.is_kw("UNWIND") {
            self.bump();
            let expr = self.expr()?;
            self.expect_kw("AS")?;
            let variable = self.variable()?;
            ClauseKind::Unwind(Unwind { expr, variable })
        } else if self.is_kw("CREATE") {
            self.bump();
            ClauseKind::Create(Create {
                pattern: self.pattern()?,
            })
        } else if self.is_kw("MERGE") {
            ClauseKind::Merge(self.merge_clause()?)
        } else if self.is_kw("SET") {
            self.bump();
            ClauseKind::Set(self.set_items()?)
        } else if self.is_kw("REMOVE") {
            self.bump();
            let mut items = vec![self.remove_item()?];
            while self.eat(&TokenKind::Comma) {
                items.push(self.remove_item()?);
            }
            ClauseKind::Remove(items)
        } else if self.is_kw("DELETE") || self.is_kw("DETACH") {
            let detach = self.is_kw("DETACH");
            if detach {
                self.bump();
            }
            self.expect_kw("DELETE")?;
            let mut exprs = vec![self.expr()?];
            while self.eat(&TokenKind::Comma) {
                exprs.push(self.expr()?);
            }
            ClauseKind::Delete(Delete { detach, exprs })
        } else if self.is_kw("WITH") {
            self.bump();
            let projection = self.projection()?;
            let where_ = self.opt_where()?;
            ClauseKind::With(With { projection, where_ })
        } else if self.is_kw("RETURN") {
            self.bump();
            ClauseKind::Return(Return {
                projection: self.projection()?,
            })
        } else if self.is_kw("FOREACH") && matches!(self.peek_at(1), TokenKind::LParen) {
            ClauseKind::Foreach(self.foreach()?)
        } else if self.is_kw("CALL")
            && matches!(self.peek_at(1), TokenKind::LBrace | TokenKind::LParen)
        {
            ClauseKind::CallSubquery(self.call_subquery()?)
        } else if self.is_kw("CALL") {
            let (call, star) = self.call_clause()?;
            yield_star = star;
            ClauseKind::Call(call)
        } else {
            self.note(EXPECTED_CLAUSE);
            return Err(self.error_here());
        };
        Ok((
            Clause {
                kind,
                span: self.since(start),
            },
            yield_star,
        ))
    }

    pub(super) fn opt_where(&mut self) -> PResult<Option<Expr>> {
        if self.eat_kw("WHERE") {
            Ok(Some(self.predicate_expr()?))
        } else {
            Ok(None)
        }
    }

    pub(super) fn match_clause(&mut self) -> PResult<Match> {
        let optional = self.eat_kw("OPTIONAL");
        self.expect_kw("MATCH")?;
        let pattern = self.pattern()?;
        let where_ = self.opt_where()?;
        Ok(Match {
            optional,
            pattern,
            where_,
        })
    }

    pub(super) fn merge_clause(&mut self) -> PResult<Merge> {
        self.bump();
        let pattern = self.pattern_part()?;
        let mut actions = Vec::new();
        while self.at_kw("ON") {
            let start = self.bump().span.start;
            let on_create = if self.eat_kw("CREATE") {
                true
            } else if self.eat_kw("MATCH") {
                false
            } else {
                return Err(self.error_here());
            };
            self.expect_kw("SET")?;
            let items = self.set_items()?;
            actions.push(MergeAction {
                on_create,
                items,
                span: self.since(start),
            });
        }
        Ok(Merge { pattern, actions })
    }

    pub(super) fn set_items(&mut self) -> PResult<Vec<SetItem>> {
        let mut items = vec![self.set_item()?];
        while self.eat(&TokenKind::Comma) {
            items.push(self.set_item()?);
        }
        Ok(items)
    }

    pub(super) fn set_item(&mut self) -> PResult<SetItem> {
        let start = self.span().start;
        if self.is_variable_at(0)
            && matches!(
                self.peek_at(1),
                TokenKind::Eq | TokenKind::PlusEq | TokenKind::Colon
            )
        {
            let variable = self.variable()?;
            return Ok(match self.peek() {
                TokenKind::Colon => {
                    let labels = self.labels()?;
                    SetItem::Labels {
                        variable,
                        labels,
                        span: self.since(start),
                    }
                }
                kind => {
                    let merge = matches!(kind, TokenKind::PlusEq);
                    self.bump();
                    let value = self.expr()?;
                    SetItem::Variable {
                        variable,
                        value,
                        merge,
                        span: self.since(start),
                    }
                }
            });
        }
        let target = self.property_target()?;
        self.expect(&TokenKind::Eq)?;
        let value = self.expr()?;
        Ok(SetItem::Property {
            target,
            value,
            span: self.since(start),
        })
    }

    pub(super) fn remove_item(&mut self) -> PResult<RemoveItem> {
        let start = self.span().start;
        if self.is_variable_at(0) && matches!(self.peek_at(1), TokenKind::Colon) {
            let variable = self.variable()?;
            let labels = self.labels()?;
            return Ok(RemoveItem::Labels {
                variable,
                labels,
                span: self.since(start),
            });
        }
        let target = self.property_target()?;
        Ok(RemoveItem::Property {
            target,
            span: self.since(start),
        })
    }

    /// `atom.key(.key)*`: the target of `SET x.k = v` and `REMOVE x.k`.
    pub(super) fn property_target(&mut self) -> PResult<Expr> {
        let mut expr = self.atom()?;
        let mut lookups = 0;
        let base = self.depth;
        while self.at(&TokenKind::Dot) {
            self.bump();
            self.deepen()?;
            let key = self.schema_name("a property key name")?;
            let span = expr.span.to(key.span);
            expr = Expr::new(ExprKind::Property(Box::new(expr), key), span);
            lookups += 1;
        }
        self.depth = base;
        if lookups == 0 {
            return Err(self.error_here());
        }
        Ok(expr)
    }

    pub(super) fn projection(&mut self) -> PResult<Projection> {
        let distinct = self.eat_kw("DISTINCT");
        let mut star = false;
        let mut items = Vec::new();
        if self.at(&TokenKind::Star) {
            self.bump();
            star = true;
            while self.eat(&TokenKind::Comma) {
                items.push(self.projection_item()?);
            }
        } else {
            items.push(self.projection_item()?);
            while self.eat(&TokenKind::Comma) {
                items.push(self.projection_item()?);
            }
        }
        let mut order_by = Vec::new();
        if self.at_kw("ORDER") {
            self.bump();
            self.expect_kw("BY")?;
            order_by.push(self.sort_item()?);
            while self.eat(&TokenKind::Comma) {
                order_by.push(self.sort_item()?);
            }
        }
        let skip = if self.eat_kw("SKIP") {
            Some(self.expr()?)
        } else {
            None
        };
        let limit = if self.eat_kw("LIMIT") {
            Some(self.expr()?)
        } else {
            None
        };
        Ok(Projection {
            distinct,
            star,
            items,
            order_by,
            skip,
            limit,
        })
    }

    pub(super) fn projection_item(&mut self) -> PResult<ProjectionItem> {
        let expr = self.expr()?;
        let text = self.text[expr.span.start..expr.span.end].to_string();
        let alias = if self.eat_kw("AS") {
            Some(self.variable()?)
        } else {
            None
        };
        let span = self.since(expr.span.start);
        Ok(ProjectionItem {
            expr,
            alias,
            text,
            span,
        })
    }

    pub(super) fn sort_item(&mut self) -> PResult<SortItem> {
        let expr = self.expr()?;
        let descending = if self.eat_kw("DESC") || self.eat_kw("DESCENDING") {
            true
        } else {
            // ASC is the default; accept it explicitly.
            let _ = self.eat_kw("ASC") || self.eat_kw("ASCENDING");
            false
        };
        let span = self.since(expr.span.start);
        Ok(SortItem {
            expr,
            descending,
            span,
        })
    }

    /// `FOREACH (x IN list | clause …)`, whose clauses must all update.
    fn foreach(&mut self) -> PResult<Foreach> {
        self.bump(); // FOREACH
        self.bump(); // (
        let variable = self.variable()?;
        self.expect_kw("IN")?;
        let list = self.expr()?;
        self.expect(&TokenKind::Pipe)?;
        let mut clauses = Vec::new();
        while !self.at(&TokenKind::RParen) {
            let at = self.span().start;
            let updating = [
                "CREATE", "MERGE", "SET", "REMOVE", "DELETE", "DETACH", "FOREACH",
            ]
            .iter()
            .any(|kw| self.is_kw(kw));
            if !updating {
                return Err(self.error_at(
                    ErrorCode::InvalidClauseComposition,
                    "Only updating clauses (CREATE, MERGE, SET, REMOVE, DELETE, FOREACH) can be used in FOREACH",
                    at,
                ));
            }
            clauses.push(self.clause()?.0);
        }
        self.bump(); // )
        if clauses.is_empty() {
            return Err(self.error_at(
                ErrorCode::InvalidClauseComposition,
                "FOREACH needs at least one updating clause after `|`",
                self.span().start,
            ));
        }
        Ok(Foreach {
            variable,
            list,
            clauses,
        })
    }

    /// `CALL [( * | a, b, … )] { query }`.
    pub(super) fn call_subquery(&mut self) -> PResult<CallSubquery> {
        self.bump(); // CALL
        let imports = if self.eat(&TokenKind::LParen) {
            let imports = if self.eat(&TokenKind::Star) {
                CallImports::All
            } else {
                let mut vars = Vec::new();
                if !self.at(&TokenKind::RParen) {
                    vars.push(self.variable()?);
                    while self.eat(&TokenKind::Comma) {
                        vars.push(self.variable()?);
                    }
                }
                CallImports::Variables(vars)
            };
            self.expect(&TokenKind::RParen)?;
            Some(imports)
        } else {
            None
        };
        self.expect(&TokenKind::LBrace)?;
        let query = self.query()?;
        self.expect(&TokenKind::RBrace)?;
        if self.at_kw("IN") {
            return Err(self.error_at(
                ErrorCode::UnsupportedOperation,
                "CALL { } IN TRANSACTIONS is not supported: a query commits as one transaction",
                self.span().start,
            ));
        }
        Ok(CallSubquery { imports, query })
    }

    pub(super) fn call_clause(&mut self) -> PResult<(Call, Option<usize>)> {
        self.bump();
        let mut procedure = vec![self.schema_name("a procedure name")?];
        while self.at(&TokenKind::Dot) {
            self.bump();
            procedure.push(self.schema_name("a procedure name")?);
        }
        let args = if self.at(&TokenKind::LParen) {
            self.bump();
            let mut args = Vec::new();
            if !self.at(&TokenKind::RParen) {
                args.push(self.expr()?);
                while self.eat(&TokenKind::Comma) {
                    args.push(self.expr()?);
                }
            }
            self.expect(&TokenKind::RParen)?;
            Some(args)
        } else {
            None
        };
        let mut star_at = None;
        let yield_ = if self.eat_kw("YIELD") {
            if self.at(&TokenKind::Star) {
                star_at = Some(self.bump().span.start);
                Some(YieldSpec {
                    star: true,
                    items: Vec::new(),
                    where_: None,
                })
            } else {
                let mut items = vec![self.yield_item()?];
                while self.eat(&TokenKind::Comma) {
                    items.push(self.yield_item()?);
                }
                let where_ = self.opt_where()?;
                Some(YieldSpec {
                    star: false,
                    items,
                    where_,
                })
            }
        } else {
            None
        };
        Ok((
            Call {
                procedure,
                args,
                yield_,
            },
            star_at,
        ))
    }

    pub(super) fn yield_item(&mut self) -> PResult<YieldItem> {
        let field = self.schema_name("a procedure output name")?;
        let alias = if self.eat_kw("AS") {
            Some(self.variable()?)
        } else {
            None
        };
        Ok(YieldItem { field, alias })
    }
}
